/*  libs: ds_darkscope ds_common */
/*  test_gen_packets.c - one packet of a synthetic source
    (services/darkscope/gen_packets.c): times inside the day and in the
    source's rhythm, ports and types by kind.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "gen_packets.h"

#define T_DAY_US 86400000000ULL
#define T_DRAWS  5000

static ds_gen_source_t
s_source (int kind, int rhythm, unsigned org)
{
    ds_gen_source_t s;
    memset (&s, 0, sizeof s);
    s.kind = (uint8_t) kind;
    s.rhythm = (uint8_t) rhythm;
    s.org = (uint8_t) org;
    s.key = 0x123456789abcdefULL;
    s.packets = 100;
    s.ndays = 1;
    return s;
}

static void
test_kinds (void **state)
{
    (void) state;
    ds_rng_t r;
    ds_rng_seed (&r, 3);
    ds_gen_packet_t p;
    ds_gen_source_t mirai = s_source (DS_GEN_MIRAI, DS_GEN_UNIFORM, 0);
    int telnet = 0;
    for (int i = 0; i < T_DRAWS; i++) {
        ds_gen_packets_draw (&r, &mirai, 0, &p);
        assert_int_equal (p.type, DS_GEN_PKT_SYN);
        assert_true (p.t < T_DAY_US);
        telnet += p.dport == 23 || p.dport == 2323;
    }
    assert_true (telnet > T_DRAWS * 9 / 10);            //  95% expected
    struct { int kind; int type; uint16_t lo, hi; } want [] = {
        { DS_GEN_WORM445, DS_GEN_PKT_SYN, 139, 445 },
        { DS_GEN_WORM5555, DS_GEN_PKT_SYN, 5555, 5555 },
        { DS_GEN_ICMP, DS_GEN_PKT_ICMP, 0, 0 },
        { DS_GEN_BACKSCATTER, DS_GEN_PKT_SYNACK, 1024, 65535 },
        { DS_GEN_UDP, DS_GEN_PKT_UDP, 19, 27015 },
    };
    for (size_t k = 0; k < sizeof want / sizeof *want; k++) {
        ds_gen_source_t s = s_source (want [k].kind, DS_GEN_UNIFORM, 0);
        for (int i = 0; i < 200; i++) {
            ds_gen_packets_draw (&r, &s, 0, &p);
            assert_int_equal (p.type, want [k].type);
            assert_true (p.dport >= want [k].lo && p.dport <= want [k].hi);
        }
    }
}

//  engin-umich (organisation 3): 53/UDP at 01:00, 09:00 and 17:00 plus at
//  most 30 + 5 minutes; a campaign's packets of a day fall in 3 to 5 hours
//  of it, the same for every source of the organisation.
static void
test_rhythms (void **state)
{
    (void) state;
    ds_rng_t r;
    ds_rng_seed (&r, 5);
    ds_gen_packet_t p;
    const ds_gen_org_t *umich = ds_gen_sources_org (3);
    assert_string_equal (umich->class_name, "engin-umich");
    ds_gen_source_t s = s_source (DS_GEN_RESEARCH, umich->rhythm, 3);
    for (int i = 0; i < T_DRAWS; i++) {
        ds_gen_packets_draw (&r, &s, 0, &p);
        assert_int_equal (p.type, DS_GEN_PKT_UDP);
        assert_int_equal (p.dport, 53);
        uint64_t s_of_day = p.t / 1000000, hour = s_of_day / 3600;
        assert_true (hour == 1 || hour == 9 || hour == 17);
        assert_true (s_of_day % 3600 < 1800 + 300);
    }
    ds_gen_source_t a = s_source (DS_GEN_RESEARCH, DS_GEN_CAMPAIGN, 0);
    ds_gen_source_t b = a;
    b.key = 42;
    for (int day = 0; day < 5; day++) {
        bool hours [24] = { false };
        int n = 0;
        for (int i = 0; i < 2000; i++) {
            ds_gen_packets_draw (&r, i % 2 ? &a : &b, day, &p);
            int h = (int) (p.t / 3600000000ULL);
            n += !hours [h];
            hours [h] = true;
        }
        assert_true (n >= 1 && n <= 5);
    }
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_kinds),
        cmocka_unit_test (test_rhythms),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
