/*  libs: ds_aggregator ds_proto ds_common */
/*  test_day.c - a day's tables (services/aggregator/day.c) through the
    store's internal API: the carries of entries past 2^32 packets, which
    no input of test size reaches, across merges, sealing (the locals
    renumbered) and a late record's unsealing; keys of the radix sorts
    that fit 32 bits and keys that do not.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "store_internal.h"

enum { SOURCES = 3000, PPS = 7 };

typedef struct {
    uint64_t packets [SOURCES][PPS];    //  what each (source, pp) was given
    uint32_t local_of [SOURCES];        //  the day's local id of each source
    uint32_t src_of [SOURCES];          //  ... and back
    uint32_t n;
} s_want_t;

//  The day's entries against want: every (source, pp) given packets is an
//  entry with that total, carries included, and no other entry exists.
typedef struct {
    const s_day_t *day;
    const s_want_t *want;
    uint64_t seen;
} s_check_t;

static int
s_check_run (void *arg, uint32_t pp, const uint32_t *locals, const uint32_t *packets, uint32_t n)
{
    s_check_t *c = arg;
    for (uint32_t i = 0; i < n; i++) {
        assert_true (locals [i] < c->want->n);
        if (i)
            assert_true (locals [i - 1] < locals [i]);      //  a run is by local
        uint32_t src = c->want->src_of [locals [i]];
        uint64_t total = store_day_packets (c->day, locals [i], pp, packets [i]);
        if (total != c->want->packets [src][pp])
            fail_msg ("source %u pp %u: %llu packets, want %llu", src, pp,
                      (unsigned long long) total, (unsigned long long) c->want->packets [src][pp]);
        c->seen++;
    }
    return 0;
}

static void
s_check (const s_day_t *day, const s_want_t *want)
{
    uint64_t entries = 0;
    for (uint32_t s = 0; s < SOURCES; s++)
        for (uint32_t p = 0; p < PPS; p++)
            entries += want->packets [s][p] != 0;
    s_check_t c = { day, want, 0 };
    assert_int_equal (store_day_pp_runs (day, s_check_run, &c), 0);
    assert_int_equal (c.seen, entries);
}

//  The day's local ids after sealing renumbered them (ascending source).
static void
s_relearn_locals (s_day_t *day, s_want_t *want)
{
    for (uint32_t l = 0; l < day->n; l++) {
        want->local_of [day->src [l]] = l;
        want->src_of [l] = day->src [l];
    }
}

static void
test_carries (void **state)
{
    (void) state;
    s_want_t *want = calloc (1, sizeof *want);
    assert_non_null (want);
    s_day_t *day = store_day_new (0);
    assert_non_null (day);
    //  Sources arrive in an order that is not theirs (sealing renumbers).
    for (uint32_t k = 0; k < SOURCES; k++) {
        uint32_t src = (k * 7919u) % SOURCES;
        uint32_t local = store_day_local (day, src);
        assert_int_equal (local, want->n);
        want->local_of [src] = local;
        want->src_of [local] = src;
        want->n++;
    }
    //  Round 1: a packet for most entries; 2^32 more (a carry) for some,
    //  two carries for a few: over a thousand carries, so the table grows.
    for (uint32_t src = 0; src < SOURCES; src++)
        for (uint32_t p = 0; p < PPS; p++)
            if ((src + p) % 3) {
                assert_int_equal (store_day_log (day, want->local_of [src], p), 0);
                want->packets [src][p]++;
            }
    assert_int_equal (store_day_settle (day), 0);
    uint32_t carries = 0;
    for (uint32_t src = 0; src < SOURCES; src++)
        for (uint32_t p = 0; p < PPS; p++)
            if (want->packets [src][p] && (src * PPS + p) % 5 == 0) {
                int times = src % 4 == 0 ? 2 : 1;
                for (int t = 0; t < times; t++)
                    assert_int_equal (store_day_carry (day, want->local_of [src], p), 0);
                want->packets [src][p] += (uint64_t) times << 32;
                carries++;
            }
    assert_true (carries > 1024);
    assert_int_equal (day->carry.count, carries);
    s_check (day, want);
    //  Round 2: more packets into the runs, a merge.
    for (uint32_t src = 0; src < SOURCES; src += 2)
        for (uint32_t p = 0; p < PPS; p++) {
            assert_int_equal (store_day_log (day, want->local_of [src], p), 0);
            want->packets [src][p]++;
        }
    assert_int_equal (store_day_settle (day), 0);
    s_check (day, want);
    //  Sealed: the locals renumbered, the carries re-keyed with them.
    assert_int_equal (store_day_seal (day), 0);
    s_relearn_locals (day, want);
    for (uint32_t l = 1; l < want->n; l++)
        assert_true (want->src_of [l - 1] < want->src_of [l]);
    assert_int_equal (day->carry.count, carries);
    s_check (day, want);
    //  A late record unseals it; its packet lands on a carried entry.
    assert_int_equal (store_day_unseal (day), 0);
    uint32_t late = 0, late_pp = 0;     //  an entry carried twice
    while (want->packets [late][late_pp] >> 32 != 2)
        if (++late_pp == PPS) {
            late_pp = 0;
            late++;
            assert_true (late < SOURCES);
        }
    uint32_t local = store_day_local (day, late);
    assert_int_equal (local, want->local_of [late]);
    assert_int_equal (store_day_log (day, local, late_pp), 0);
    want->packets [late][late_pp]++;
    assert_int_equal (store_day_settle (day), 0);
    s_check (day, want);
    store_day_destroy (&day);
    free (want);
}

//  Entries of test_wide_keys: source k * mul_src, pp p * mul_pp, given
//  (k + p) % 4 packets.
typedef struct {
    const s_day_t *day;
    uint32_t mul_src, mul_pp;
    uint64_t seen;
} s_wide_t;

enum { WIDE_N = 2000, WIDE_P = 5 };

static int
s_wide_run (void *arg, uint32_t pp, const uint32_t *locals, const uint32_t *packets, uint32_t n)
{
    s_wide_t *w = arg;
    assert_int_equal (pp % w->mul_pp, 0);
    uint32_t p = pp / w->mul_pp;
    for (uint32_t i = 0; i < n; i++) {
        if (i)
            assert_true (locals [i - 1] < locals [i]);
        uint32_t src = w->day->src [locals [i]];
        assert_int_equal (src % w->mul_src, 0);
        uint32_t k = src / w->mul_src;
        assert_true (k < WIDE_N && p < WIDE_P);
        assert_int_equal (store_day_packets (w->day, locals [i], pp, packets [i]), (k + p) % 4);
        w->seen++;
    }
    return 0;
}

//  Settling and sealing sort keys that fit 32 bits once packed (the usual
//  day: radix-sorted as u32) and keys that do not (source and pp ids past
//  2^16): both give every entry once, in order, with its packets.
static void
test_wide_keys (void **state)
{
    (void) state;
    uint64_t entries = 0;
    for (uint32_t k = 0; k < WIDE_N; k++)
        for (uint32_t p = 0; p < WIDE_P; p++)
            entries += (k + p) % 4 != 0;
    for (int wide = 0; wide < 2; wide++) {
        s_wide_t w = { store_day_new (0), wide ? 1000003u : 1, wide ? 400009u : 1, 0 };
        s_day_t *day = (s_day_t *) w.day;
        assert_non_null (day);
        for (uint32_t i = 0; i < WIDE_N; i++) {
            uint32_t k = (i * 7919u) % WIDE_N;          //  not in source order
            uint32_t local = store_day_local (day, k * w.mul_src);
            for (uint32_t p = 0; p < WIDE_P; p++)
                for (uint32_t t = 0; t < (k + p) % 4; t++)
                    assert_int_equal (store_day_log (day, local, p * w.mul_pp), 0);
        }
        assert_int_equal (store_day_settle (day), 0);
        assert_int_equal (store_day_pp_runs (day, s_wide_run, &w), 0);
        assert_int_equal (w.seen, entries);
        assert_int_equal (store_day_seal (day), 0);
        for (uint32_t l = 1; l < day->n; l++)
            assert_true (day->src [l - 1] < day->src [l]);
        w.seen = 0;
        assert_int_equal (store_day_pp_runs (day, s_wide_run, &w), 0);
        assert_int_equal (w.seen, entries);
        store_day_destroy (&day);
    }
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_carries),
        cmocka_unit_test (test_wide_keys),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
