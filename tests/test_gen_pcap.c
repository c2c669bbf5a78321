/*  libs: ds_darkscope ds_common */
/*  test_gen_pcap.c - pcap records of synthetic packets
    (services/darkscope/gen_pcap.c): the file header, valid IPv4 and
    transport checksums, destinations in the telescope, and the scanner
    fingerprints exact (Mirai's seq, ZMap's and masscan's ip.id; none on
    any other SYN).
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "gen_pcap.h"

static uint32_t
s_be16 (const uint8_t *p)
{
    return (uint32_t) p [0] << 8 | p [1];
}

static uint32_t
s_be32 (const uint8_t *p)
{
    return s_be16 (p) << 16 | s_be16 (p + 2);
}

//  Ones-complement sum folded: 0xffff over data that carries its checksum.
static uint32_t
s_sum (uint32_t sum, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += s_be16 (p + i);
    if (len & 1)
        sum += (uint32_t) p [len - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return sum;
}

static void
test_header (void **state)
{
    (void) state;
    uint8_t buf [DS_GEN_PCAP_HEADER];
    ds_gen_pcap_header (buf);
    uint32_t magic, snaplen, link;
    memcpy (&magic, buf, 4);
    memcpy (&snaplen, buf + 16, 4);
    memcpy (&link, buf + 20, 4);
    assert_true (magic == 0xa1b2c3d4 && snaplen == 65535 && link == 1);
}

//  Writes n SYNs of a kind's IPv4 source; checks each frame; returns how
//  many carried each fingerprint.
static void
s_syns (int kind, int n, int *mirai, int *zmap, int *masscan)
{
    const ds_gen_telescope_t tele = { 0xcb007100u, 0xff };
    ds_gen_source_t s;
    memset (&s, 0, sizeof s);
    s.kind = (uint8_t) kind;
    s.addr = 0x0a000001 + 0x01000000;        //  11.0.0.1
    s.key = 0x5eed;
    ds_rng_t wrng;
    ds_rng_seed (&wrng, 9);
    *mirai = *zmap = *masscan = 0;
    for (int i = 0; i < n; i++) {
        ds_gen_packet_t p = { .t = 3723000042ULL, .dport = (uint16_t) (1 + i), .type = DS_GEN_PKT_SYN };
        uint8_t f [DS_GEN_PCAP_FRAME_MAX];
        size_t len = ds_gen_pcap_frame (f, &p, &s, NULL, &tele, &wrng, 1614643200);
        assert_int_equal (len, 16 + 14 + 20 + 20);
        uint32_t ts, us, caplen;
        memcpy (&ts, f, 4);
        memcpy (&us, f + 4, 4);
        memcpy (&caplen, f + 8, 4);
        assert_true (ts == 1614643200 + 3723 && us == 42 && caplen == 54);
        const uint8_t *ip = f + 16 + 14, *tcp = ip + 20;
        assert_int_equal (s_be16 (f + 16 + 12), 0x0800);
        assert_int_equal (s_sum (0, ip, 20), 0xffff);
        uint32_t src = s_be32 (ip + 12), dst = s_be32 (ip + 16);
        assert_true (src == s.addr && (dst & ~tele.mask) == tele.base);
        uint32_t pseudo = s_sum (0, ip + 12, 8) + 6 + 20;
        assert_int_equal (s_sum (pseudo, tcp, 20), 0xffff);
        assert_int_equal (s_be16 (tcp + 2), p.dport);
        assert_int_equal (tcp [13], 0x02);
        uint32_t seq = s_be32 (tcp + 4), ipid = s_be16 (ip + 4);
        *mirai += seq == dst;
        *zmap += ipid == 54321;
        *masscan += ipid == ((dst ^ p.dport ^ seq) & 0xffff);
    }
}

static void
test_fingerprints (void **state)
{
    (void) state;
    int mirai, zmap, masscan;
    s_syns (DS_GEN_MIRAI, 500, &mirai, &zmap, &masscan);
    assert_int_equal (mirai, 500);
    s_syns (DS_GEN_ZMAP, 500, &mirai, &zmap, &masscan);
    assert_true (mirai == 0 && zmap == 500 && masscan == 0);
    s_syns (DS_GEN_MASSCAN, 500, &mirai, &zmap, &masscan);
    assert_true (mirai == 0 && zmap == 0 && masscan == 500);
    s_syns (DS_GEN_SCANNER, 500, &mirai, &zmap, &masscan);
    assert_true (mirai == 0 && zmap == 0 && masscan == 0);
}

//  IPv6 ICMP echo: next header 58, to the IPv6 telescope, checksum over
//  the pseudo-header.
static void
test_v6 (void **state)
{
    (void) state;
    const ds_gen_telescope_t tele = { 0xcb007100u, 0xff };
    static const uint8_t v6 [16] = { 0x20, 0x01, 0x0d, 0xb8, 0x5c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7 };
    ds_gen_source_t s;
    memset (&s, 0, sizeof s);
    s.kind = DS_GEN_ICMP;
    s.v6 = 1;
    ds_rng_t wrng;
    ds_rng_seed (&wrng, 1);
    ds_gen_packet_t p = { .t = 5, .type = DS_GEN_PKT_ICMP };
    uint8_t f [DS_GEN_PCAP_FRAME_MAX];
    size_t len = ds_gen_pcap_frame (f, &p, &s, v6, &tele, &wrng, 0);
    assert_int_equal (len, 16 + 14 + 40 + 8);
    const uint8_t *ip = f + 16 + 14, *icmp = ip + 40;
    assert_int_equal (s_be16 (f + 16 + 12), 0x86dd);
    assert_int_equal (ip [6], 58);
    assert_memory_equal (ip + 8, v6, 16);
    assert_int_equal (icmp [0], 128);
    uint32_t pseudo = s_sum (0, ip + 8, 32) + 8 + 58;
    assert_int_equal (s_sum (pseudo, icmp, 8), 0xffff);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_header),
        cmocka_unit_test (test_fingerprints),
        cmocka_unit_test (test_v6),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
