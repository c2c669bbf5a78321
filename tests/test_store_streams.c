/*  libs: ds_query ds_aggregator ds_proto ds_common */
/*  test_store_streams.c - the store's sensor streams: sequence gaps are
    counted, replays of what was applied are ignored, a replay of what was
    missed fills its gap (also after a checkpoint), and the answers equal
    those of a store that never missed anything.
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
#include "scratch_fixture.h"
#include "store.h"
#include "merge.h"
#include "pattern.h"
#include "pattern_reply.h"
#include "zone_fixture.h"
#include "store_fixture.h"
#include "record.h"

static void
test_replay_and_gaps (void **state)
{
    (void) state;
    fx_generate (3);
    ds_store_t *a = ds_store_new (0, 1, fx_tz), *b = ds_store_new (0, 1, fx_tz);
    uint64_t seq = 0;
    fx_feed (a, 0, 1, 1, &seq, 0, fx_nrec);
    //  b gets the same batches twice: replays change nothing.
    seq = 0;
    fx_feed (b, 0, 1, 1, &seq, 0, fx_nrec);
    ds_batch_t *batch = ds_batch_new (10);
    const char *cn [] = { "unknown" }, *sn [] = { "telnet" };
    ds_batch_set_dicts (batch, cn, 1, sn, 1);
    ds_record_t rec = { fx_recs [0].ts, fx_addr [0], 23, DS_PROTO_TCP, 0 };
    ds_batch_add (batch, &rec);
    batch->sensor = 1;
    batch->seq = 0;
    assert_int_equal (ds_store_apply (b, batch), 0);
    batch->seq = seq - 1;
    assert_int_equal (ds_store_apply (b, batch), 0);
    ds_query_t q;
    fx_query_init (&q, "overview");
    char err [256];
    msgpack_sbuffer *ra = fx_run (&a, 1, &q, err, sizeof err);
    msgpack_sbuffer *rb = fx_run (&b, 1, &q, err, sizeof err);
    assert_int_equal (ra->size, rb->size);
    assert_memory_equal (ra->data, rb->data, ra->size);
    //  A jump of 5 seqs is 5 gaps; an EOS announcing 3 more batches adds 3.
    batch->seq = seq + 5;
    assert_int_equal (ds_store_apply (b, batch), 1);
    ds_eos_t eos = { 1, 0, seq + 9, 0, 1, 0, 0, 0, 0, 0 };
    ds_store_eos (b, &eos);
    assert_int_equal (ds_store_eos_count (b), 1);
    msgpack_sbuffer *rc = fx_run (&b, 1, &q, err, sizeof err);
    msgpack_unpacked u;
    msgpack_unpacked_init (&u);
    size_t off = 0;
    msgpack_unpack_next (&u, rc->data, rc->size, &off);
    const msgpack_object *ing = NULL;
    for (uint32_t i = 0; i < u.data.via.map.size; i++)
        if (u.data.via.map.ptr [i].key.via.str.size == 6
        &&  memcmp (u.data.via.map.ptr [i].key.via.str.ptr, "ingest", 6) == 0)
            ing = &u.data.via.map.ptr [i].val;
    assert_non_null (ing);
    assert_int_equal (ing->via.map.ptr [5].val.via.u64, 8);     //  gaps
    assert_int_equal (ing->via.map.ptr [0].val.via.u64, 1);     //  packets_read
    msgpack_unpacked_destroy (&u);
    msgpack_sbuffer_free (ra);
    msgpack_sbuffer_free (rb);
    msgpack_sbuffer_free (rc);
    ds_batch_destroy (&batch);
    ds_store_destroy (&a);
    ds_store_destroy (&b);
}

//  Gaps of a store's stream, from the "ingest" part of its overview.
static uint64_t
s_gaps (ds_store_t *store)
{
    ds_query_t q;
    fx_query_init (&q, "overview");
    char err [256];
    msgpack_sbuffer *r = fx_run (&store, 1, &q, err, sizeof err);
    assert_non_null (r);
    msgpack_unpacked u;
    msgpack_unpacked_init (&u);
    size_t off = 0;
    assert_int_equal (msgpack_unpack_next (&u, r->data, r->size, &off), MSGPACK_UNPACK_SUCCESS);
    uint64_t gaps = UINT64_MAX;
    for (uint32_t i = 0; i < u.data.via.map.size; i++)
        if (u.data.via.map.ptr [i].key.via.str.size == 6
        &&  memcmp (u.data.via.map.ptr [i].key.via.str.ptr, "ingest", 6) == 0)
            gaps = u.data.via.map.ptr [i].val.via.map.ptr [5].val.via.u64;
    msgpack_unpacked_destroy (&u);
    msgpack_sbuffer_free (r);
    return gaps;
}

//  Batch j is records [100 j, 100 j + 100) with seq j (one batch each).
static void
s_feed_seq (ds_store_t *store, uint64_t j)
{
    uint64_t seq = j;
    fx_feed (store, 0, 1, 4, &seq, (int) j * 100, (int) j * 100 + 100);
}

//  After a restart from a checkpoint, the batches that never arrived (a
//  jump in seq, or announced by the EOS) are filled by a replay of the
//  input, each exactly once, in any order; the result equals a store that
//  saw everything.  Beyond the remembered ranges a gap stays for good.
static void
test_replay_fills_gaps (void **state)
{
    (void) state;
    fx_generate (5);
    const uint64_t nb = (uint64_t) fx_nrec / 100;
    assert_true (nb > 10);
    ds_store_t *a = ds_store_new (0, 1, fx_tz), *b = ds_store_new (0, 1, fx_tz);
    for (uint64_t j = 0; j < nb; j++)
        s_feed_seq (a, j);
    ds_eos_t eos = { 4, 0, nb, 0, 77, 1, 2, 0, 0, 0 };
    ds_store_eos (a, &eos);
    //  b misses seqs 1-2, 4-6 and, from its EOS, 8..nb-1.
    s_feed_seq (b, 0);
    s_feed_seq (b, 3);
    s_feed_seq (b, 7);
    ds_store_eos (b, &eos);
    assert_int_equal (s_gaps (b), nb - 3);
    //  The holes survive a checkpoint.
    char dir [64], path [256], err [512];
    assert_int_equal (fx_scratch_make (dir, sizeof dir, "ds_holes"), 0);
    snprintf (path, sizeof path, "%s/s.ckpt", dir);
    assert_int_equal (ds_store_save (b, path, err, sizeof err), 0);
    ds_store_destroy (&b);
    b = ds_store_load (path, 0, 1, fx_tz, err, sizeof err);
    if (!b)
        fprintf (stderr, "%s\n", err);
    assert_non_null (b);
    assert_int_equal (fx_scratch_remove (dir), 0);
    assert_int_equal (s_gaps (b), nb - 3);
    //  The replay: a missing seq is applied (also from a hole's middle),
    //  anything seen before is ignored.
    ds_batch_t *batch = ds_batch_new (10);
    const char *cn [] = { "unknown" }, *sn [] = { "telnet" };
    ds_batch_set_dicts (batch, cn, 1, sn, 1);
    ds_record_t rec = { fx_recs [0].ts, fx_addr [0], 23, DS_PROTO_TCP, 0 };
    ds_batch_add (batch, &rec);
    batch->sensor = 4;
    for (uint64_t j = 0; j < 8; j += 7) {       //  0 and 7 were applied
        batch->seq = j;
        assert_int_equal (ds_store_apply (b, batch), 0);
    }
    uint64_t order [] = { 5, 4, 6, 2, 1 };
    for (size_t i = 0; i < sizeof order / sizeof *order; i++) {
        s_feed_seq (b, order [i]);
        batch->seq = order [i];
        assert_int_equal (ds_store_apply (b, batch), 0);     //  no second time
    }
    assert_int_equal (s_gaps (b), nb - 8);
    //  The EOS's hole, filled from its middle outwards.
    s_feed_seq (b, nb / 2 + 4);
    assert_int_equal (s_gaps (b), nb - 9);
    for (uint64_t j = 8; j < nb; j++)
        if (j != nb / 2 + 4)
            s_feed_seq (b, j);
    for (uint64_t j = 0; j < nb + 3; j++) {
        batch->seq = j;
        assert_int_equal (ds_store_apply (b, batch), j < nb ? 0 : 1);
    }
    assert_int_equal (s_gaps (b), 0);
    //  (a gets the same three tail batches, so both are equal again)
    for (uint64_t j = nb; j < nb + 3; j++) {
        batch->seq = j;
        assert_int_equal (ds_store_apply (a, batch), 1);
    }
    ds_query_t q;
    fx_query_init (&q, "overview");
    msgpack_sbuffer *ra = fx_run (&a, 1, &q, err, sizeof err);
    msgpack_sbuffer *rb = fx_run (&b, 1, &q, err, sizeof err);
    assert_non_null (ra);
    assert_non_null (rb);
    assert_int_equal (ra->size, rb->size);
    assert_memory_equal (ra->data, rb->data, ra->size);
    msgpack_sbuffer_free (ra);
    msgpack_sbuffer_free (rb);
    ds_store_destroy (&a);
    ds_store_destroy (&b);

    //  The bound: seqs 0, 2, 4, ... leave 4100 one-seq holes; 4096 are
    //  remembered and filled, the last 4 stay gaps (their batches are
    //  ignored, not applied twice).
    ds_store_t *c = ds_store_new (0, 1, fx_tz);
    batch->sensor = 9;
    for (uint64_t j = 0; j <= 8200; j += 2) {
        batch->seq = j;
        assert_int_equal (ds_store_apply (c, batch), 1);
    }
    assert_int_equal (s_gaps (c), 4100);
    for (int pass = 0; pass < 2; pass++)
        for (uint64_t j = 1; j < 8200; j += 2) {
            batch->seq = j;
            assert_int_equal (ds_store_apply (c, batch), pass == 0 && j < 8192 ? 1 : 0);
        }
    assert_int_equal (s_gaps (c), 4);
    ds_store_destroy (&c);
    ds_batch_destroy (&batch);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_replay_and_gaps),
        cmocka_unit_test (test_replay_fills_gaps),
    };
    return cmocka_run_group_tests (tests, fx_zones_setup, fx_zones_free);
}
