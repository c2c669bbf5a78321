/*  libs: ds_query ds_aggregator ds_proto ds_common */
/*  test_store_pattern.c - pattern answers of the store and the query
    merge, no sockets: they do not depend on the order records arrive in,
    and a span of many days is binned and paged like a short one (their
    exactness: test_pattern.c); a store that keeps none answers every
    other query the same.
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
#include "store.h"
#include "merge.h"
#include "pattern.h"
#include "pattern_reply.h"
#include "zone_fixture.h"
#include "store_fixture.h"
#include "record.h"

//  Pattern bins do not depend on arrival order: the same packets of two
//  sources (many per minute, some minutes far apart) fed in time order,
//  in reverse, and shuffled, with pattern queries and a checkpoint in
//  between, give byte-identical merged pattern and overview answers.
static void
s_order_feed (ds_store_t *store, const ds_record_t *recs, const int *order, int from, int to,
              uint64_t *seq)
{
    ds_batch_t *b = ds_batch_new (64);
    for (int i = from; i < to; ) {
        ds_batch_reset (b);
        for (; i < to && b->count < 64; i++)
            assert_true (ds_batch_add (b, &recs [order [i]]));
        b->seq = (*seq)++;
        assert_int_equal (ds_store_apply (store, b), 1);
    }
    ds_batch_destroy (&b);
}

static msgpack_sbuffer *
s_order_run (ds_store_t *store, const char *name, int64_t from_us, int64_t to_us)
{
    ds_query_t q;
    fx_query_init (&q, name);
    q.from_us = from_us;
    q.to_us = to_us;
    char err [256] = "";
    msgpack_sbuffer *buf = fx_run (&store, 1, &q, err, sizeof err);
    if (!buf)
        fprintf (stderr, "error: %s\n", err);
    assert_non_null (buf);
    return buf;
}

static void
test_pattern_order (void **state)
{
    (void) state;
    fx_zone ("UTC");
    enum { N = 3000 };
    static ds_record_t recs [N];
    static int order [3][N];
    int32_t day0;
    assert_int_equal (ds_day_parse ("2021-03-01", &day0), 0);
    int64_t t0 = ds_tz_day_start (fx_tz, day0);
    fx_rng = 12345;
    for (int i = 0; i < N; i++) {
        //  Bursts inside few minutes, plus jumps of hours and days.
        int64_t minute = (i / 40) * 7 + (i % 5 == 0 ? (int64_t) fx_rand (3) * 1440 : 0);
        recs [i].ts = t0 + minute * 60000000LL + (int64_t) fx_rand (60000000);
        ds_addr_parse (&recs [i].src, i % 3 ? "192.0.2.1" : "2001:db8::7");
        recs [i].port = 23 + (int32_t) fx_rand (3);
        recs [i].proto = DS_PROTO_TCP;
        recs [i].flags = 0;
    }
    //  0: time order (stable by index), 1: reverse, 2: shuffled.
    for (int i = 0; i < N; i++)
        order [0][i] = i;
    for (int i = 1; i < N; i++)
        for (int j = i; j > 0 && recs [order [0][j - 1]].ts > recs [order [0][j]].ts; j--) {
            int t = order [0][j]; order [0][j] = order [0][j - 1]; order [0][j - 1] = t;
        }
    for (int i = 0; i < N; i++) {
        order [1][i] = order [0][N - 1 - i];
        order [2][i] = i;
    }
    for (int i = N - 1; i > 0; i--) {
        int j = (int) fx_rand ((uint32_t) i + 1);
        int t = order [2][i]; order [2][i] = order [2][j]; order [2][j] = t;
    }
    const int64_t ranges [][2] = {
        { INT64_MIN, INT64_MAX },
        { t0 + 60 * 60000000LL, t0 + 1500 * 60000000LL },
        { t0 + 1441 * 60000000LL, t0 + 4000 * 60000000LL },
    };
    msgpack_sbuffer *want [4] = { NULL };
    for (int o = 0; o < 3; o++) {
        ds_store_t *store = ds_store_new (0, 1, fx_tz);
        uint64_t seq = 0;
        //  Half, a pattern query (merges the late bins), the rest.
        s_order_feed (store, recs, order [o], 0, N / 2, &seq);
        msgpack_sbuffer_free (s_order_run (store, "pattern", INT64_MIN, INT64_MAX));
        s_order_feed (store, recs, order [o], N / 2, N, &seq);
        if (o == 2) {
            //  Checkpoint with unmerged late bins, then compare the copy.
            char path [] = "/tmp/ds_order_XXXXXX";
            int fd = mkstemp (path);
            assert_true (fd >= 0);
            close (fd);
            char err [256];
            assert_int_equal (ds_store_save (store, path, err, sizeof err), 0);
            ds_store_destroy (&store);
            store = ds_store_load (path, 0, 1, fx_tz, err, sizeof err);
            assert_non_null (store);
            unlink (path);
        }
        for (int r = 0; r < 4; r++) {
            msgpack_sbuffer *got = r < 3 ? s_order_run (store, "pattern", ranges [r][0], ranges [r][1])
                                         : s_order_run (store, "overview", INT64_MIN, INT64_MAX);
            if (o == 0)
                want [r] = got;
            else {
                fx_expect_equal (got, want [r], r < 3 ? "pattern (order)" : "overview (order)");
                msgpack_sbuffer_free (got);
            }
        }
        ds_store_destroy (&store);
    }
    //  The time-ordered store's bins, checked by hand: one point per
    //  (source, minute) with packets, first ts the earliest packet.
    msgpack_unpacked u;
    msgpack_unpacked_init (&u);
    assert_int_equal (msgpack_unpack_next (&u, want [0]->data, want [0]->size, NULL),
                      MSGPACK_UNPACK_SUCCESS);
    ds_pattern_reply_t reply;
    char err [256] = "";
    assert_int_equal (ds_pattern_reply_read (&u.data, &reply, err, sizeof err), 0);
    size_t expect = 0;
    for (int i = 0; i < N; i++) {
        const ds_record_t *a = &recs [order [0][i]];
        bool seen = false;
        for (int k = 0; k < i && !seen; k++) {
            const ds_record_t *b = &recs [order [0][k]];
            seen = memcmp (&a->src, &b->src, 16) == 0 && a->ts / 60000000 == b->ts / 60000000;
        }
        expect += !seen;
    }
    assert_int_equal (reply.points, expect);
    assert_int_equal (reply.n_sample, expect);          //  all in the first page
    assert_int_equal (reply.sources, 2);
    ds_pattern_reply_free (&reply);
    msgpack_unpacked_destroy (&u);
    for (int r = 0; r < 4; r++)
        msgpack_sbuffer_free (want [r]);
}

//  A store spanning more than 8192 days (the (day, src, pp) entries then
//  read their day from the (day, src) entry) answers a window exactly as a
//  store holding only that window's records.
static void
test_long_span (void **state)
{
    (void) state;
    fx_zone ("UTC");
    int32_t d0, d1 = 0;
    assert_int_equal (ds_day_parse ("1990-01-01", &d0), 0);
    d1 = d0 + 9000;
    ds_store_t *both = ds_store_new (0, 1, fx_tz), *late = ds_store_new (0, 1, fx_tz);
    ds_batch_t *b = ds_batch_new (512);
    uint64_t seq_both = 0, seq_late = 0;
    fx_rng = 99;
    for (int round = 0; round < 4; round++) {
        bool is_late = round % 2 == 1;
        ds_batch_reset (b);
        for (int i = 0; i < 500; i++) {
            ds_record_t rec;
            rec.ts = ds_tz_day_start (fx_tz, is_late ? d1 : d0) + (int64_t) fx_rand (86400) * 1000000;
            char text [32];
            snprintf (text, sizeof text, "10.0.%u.%u", fx_rand (3), fx_rand (20));
            ds_addr_parse (&rec.src, text);
            rec.port = 20 + (int32_t) fx_rand (6);
            rec.proto = (uint8_t) fx_rand (2);
            rec.flags = fx_rand (4) == 0 ? DS_FLAG_MIRAI : 0;
            assert_true (ds_batch_add (b, &rec));
        }
        b->seq = seq_both++;
        assert_int_equal (ds_store_apply (both, b), 1);
        if (is_late) {
            b->seq = seq_late++;
            assert_int_equal (ds_store_apply (late, b), 1);
        }
    }
    ds_batch_destroy (&b);
    ds_query_t q;
    fx_query_init (&q, "overview");
    ds_day_format (d1, q.first_day);
    ds_day_format (d1, q.last_day);
    q.min_packets = 2;
    char err [256] = "";
    msgpack_sbuffer *got = fx_run (&both, 1, &q, err, sizeof err);
    msgpack_sbuffer *want = fx_run (&late, 1, &q, err, sizeof err);
    assert_non_null (got);
    assert_non_null (want);
    fx_expect_equal (got, want, "overview (long span)");
    msgpack_sbuffer_free (got);
    msgpack_sbuffer_free (want);
    ds_store_destroy (&both);
    ds_store_destroy (&late);
}

//  A store that keeps no activity patterns (a one-shot run's) answers the
//  overview family as one that keeps them, byte for byte, over 2 shards;
//  it refuses pattern queries and checkpoints, saying why.
static void
test_no_patterns (void **state)
{
    (void) state;
    fx_zone ("UTC");
    fx_generate (41);
    ds_store_t *with [2], *without [2];
    for (uint32_t k = 0; k < 2; k++) {
        with [k] = ds_store_new (k, 2, fx_tz);
        without [k] = ds_store_new (k, 2, fx_tz);
        ds_store_set_patterns (without [k], false);
        uint64_t s1 = 0, s2 = 0;
        fx_feed (with [k], k, 2, 7, &s1, 0, fx_nrec);
        fx_feed (without [k], k, 2, 7, &s2, 0, fx_nrec);
    }
    static const char *const names [] = { "overview", "ports", "ecdf", "daily", "classes", "heatmap" };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        ds_query_t q;
        fx_query_init (&q, names [i]);
        char err [256] = "";
        msgpack_sbuffer *want = fx_run (with, 2, &q, err, sizeof err);
        assert_non_null (want);
        msgpack_sbuffer *got = fx_run (without, 2, &q, err, sizeof err);
        assert_non_null (got);
        fx_expect_equal (got, want, names [i]);
        msgpack_sbuffer_free (want);
        msgpack_sbuffer_free (got);
    }
    ds_query_t q;
    fx_query_init (&q, "pattern");
    char err [256] = "";
    msgpack_sbuffer *kept = fx_run (with, 2, &q, err, sizeof err);
    assert_non_null (kept);
    assert_true (kept->size > 16);
    msgpack_sbuffer_free (kept);
    assert_null (fx_run (without, 2, &q, err, sizeof err));
    assert_non_null (strstr (err, "keeps no activity patterns"));
    char path [] = "/tmp/ds_nopat_XXXXXX";
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    close (fd);
    err [0] = 0;
    assert_int_equal (ds_store_save (without [0], path, err, sizeof err), -1);
    assert_non_null (strstr (err, "keeps no activity patterns"));
    unlink (path);
    for (uint32_t k = 0; k < 2; k++) {
        ds_store_destroy (&with [k]);
        ds_store_destroy (&without [k]);
    }
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_pattern_order),
        cmocka_unit_test (test_long_span),
        cmocka_unit_test (test_no_patterns),
    };
    return cmocka_run_group_tests (tests, fx_zones_setup, fx_zones_free);
}
