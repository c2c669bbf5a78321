/*  libs: ds_darkscope ds_common */
/*  test_gen_sources.c - the synthetic month's senders
    (services/darkscope/gen_sources.c): the exact packet target, the kinds
    and organisations, addresses outside reserved blocks and the telescope
    and never twice, active days inside the month, and the GT CSV.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "gen_sources.h"

#define T_PACKETS 200000
#define T_DAYS    20
#define T_TELE    0xcb007100u               //  203.0.113.0/24
#define T_MASK    0xffu

static int
s_cmp_u32 (const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;
    return x < y ? -1 : x > y;
}

static void
test_population (void **state)
{
    (void) state;
    ds_rng_t rng;
    ds_rng_seed (&rng, 11);
    ds_gen_sources_t *pop = ds_gen_sources_new (T_PACKETS, T_DAYS, 0, T_TELE, T_MASK, &rng);
    assert_non_null (pop);
    size_t n;
    const ds_gen_source_t *src = ds_gen_sources_all (pop, &n);
    assert_true (n > 1000);
    uint64_t packets = 0, research = 0, small = 0;
    uint32_t *v4 = calloc (n, sizeof *v4);
    size_t nv4 = 0;
    for (size_t i = 0; i < n; i++) {
        const ds_gen_source_t *s = &src [i];
        packets += s->packets;
        assert_true (s->packets >= 1);
        assert_true (s->ndays >= 1 && s->first_day + s->ndays <= T_DAYS);
        assert_true (s->ndays <= s->packets);
        assert_true (s->kind < DS_GEN_KIND_COUNT);
        small += s->packets <= DS_GEN_SMALL_MAX;
        if (s->kind == DS_GEN_RESEARCH) {
            research++;
            assert_non_null (ds_gen_sources_org (s->org));
            assert_int_equal (s->ndays, T_DAYS);           //  research: every day
        }
        if (s->kind == DS_GEN_TAIL)
            assert_true (s->packets <= 2);
        if (s->v6) {
            const uint8_t *a = ds_gen_sources_v6 (pop, s);
            assert_true (a [0] == 0x20 && a [1] == 0x01 && a [2] == 0x0d && a [3] == 0xb8);
        }
        else {
            uint32_t a = s->addr;
            assert_true ((a & ~T_MASK) != T_TELE);
            assert_true ((a >> 24) != 0 && (a >> 24) != 10 && (a >> 24) != 127 && (a >> 24) < 224);
            v4 [nv4++] = a;
        }
    }
    assert_true (packets == T_PACKETS);     //  the target, exactly
    assert_true (research >= 30);           //  every organisation's minimum
    assert_true (small * 100 > n * 70);     //  DarkVec: most sources send < 10 packets
    qsort (v4, nv4, sizeof *v4, s_cmp_u32);
    for (size_t i = 1; i < nv4; i++)
        assert_true (v4 [i] != v4 [i - 1]);
    free (v4);

    ds_gen_summary_t sum;
    memset (&sum, 0, sizeof sum);
    ds_gen_sources_summarise (pop, &sum);
    assert_true (sum.sources == n);
    assert_true (sum.kind_sources [DS_GEN_RESEARCH] == research);
    assert_true (sum.sources_small == small);
    uint64_t by_kind = 0;
    for (int k = 0; k < DS_GEN_KIND_COUNT; k++)
        by_kind += sum.kind_packets [k];
    assert_true (by_kind == T_PACKETS);

    //  The GT CSV: a header and one line per research source.
    char path [] = "/tmp/test_gen_sources.XXXXXX";
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    close (fd);
    uint64_t entries = 0;
    assert_int_equal (ds_gen_sources_write_gt (pop, path, &entries), 0);
    assert_true (entries == research);
    FILE *f = fopen (path, "r");
    char line [256];
    assert_non_null (fgets (line, sizeof line, f));
    assert_string_equal (line, "ip,class\n");
    uint64_t lines = 0;
    while (fgets (line, sizeof line, f))
        lines++;
    fclose (f);
    unlink (path);
    assert_true (lines == research);
    ds_gen_sources_destroy (&pop);
    assert_null (pop);
    ds_gen_sources_destroy (&pop);
}

//  Too few packets for the sources the month needs: refused.
static void
test_too_small (void **state)
{
    (void) state;
    ds_rng_t rng;
    ds_rng_seed (&rng, 1);
    assert_null (ds_gen_sources_new (100, 30, 0, T_TELE, T_MASK, &rng));
    assert_null (ds_gen_sources_org (255));
    assert_string_equal (ds_gen_kind_name (DS_GEN_MIRAI), "mirai");
    assert_string_equal (ds_gen_kind_name (DS_GEN_KIND_COUNT), "?");
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_population),
        cmocka_unit_test (test_too_small),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
