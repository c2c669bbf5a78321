/*  libs: ds_aggregator ds_proto ds_common */
/*  test_streams.c - a store's sensors (streams.c): counters from STATS
    before the end of stream, gaps seen from a STATS's batch count, epochs
    (a restarted ingest's seqs are applied, not replays; older epochs are
    stale), the counters summed over epochs, and all of it through a
    checkpoint.  Read back through the shard's status (ds_store_status).
    What the aggregator logs and checkpoints by: an end of stream that
    changes the stream or not, gaps as they grow.
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

//  Batch seq of sensor 4 with n records of distinct sources from `first`.
static ds_batch_t *
s_batch (uint64_t seq, uint32_t n, uint32_t first)
{
    ds_batch_t *b = ds_batch_new (n);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t id = first + i;
        uint8_t v4 [4] = { 10, (uint8_t) (id >> 16), (uint8_t) (id >> 8), (uint8_t) id };
        ds_record_t rec = { 1614556800000000LL + (int64_t) id * 1000000, { { 0 } }, 23, DS_PROTO_TCP, 0 };
        ds_addr_from_v4 (&rec.src, v4);
        assert_true (ds_batch_add (b, &rec));
    }
    const char *classes [] = { "unknown" }, *services [] = { "telnet" };
    assert_int_equal (ds_batch_set_dicts (b, classes, 1, services, 1), 0);
    b->sensor = 4;
    b->seq = seq;
    return b;
}

static int
s_apply (ds_store_t *store, uint64_t seq, uint32_t first)
{
    ds_batch_t *b = s_batch (seq, 10, first);
    int rc = ds_store_apply (store, b);
    ds_batch_destroy (&b);
    return rc;
}

//  Sensor 4's row of the store's status (copied; the status is freed).
static ds_part_stream_t
s_row (ds_store_t *store)
{
    ds_part_status_t status;
    assert_int_equal (ds_store_status (store, 1, &status), 0);
    assert_int_equal (status.n_streams, 1);
    ds_part_stream_t row = status.streams [0];
    assert_int_equal (row.s.sensor, 4);
    ds_part_status_clear (&status);
    return row;
}

//  Field by field: the struct's padding (after s.eos) holds whatever the
//  copies left there, so its bytes are not compared.
static void
s_same_row (const ds_part_stream_t *a, const ds_part_stream_t *b)
{
    assert_true (a->s.sensor == b->s.sensor && a->s.eos == b->s.eos);
    assert_true (a->s.packets_read == b->s.packets_read && a->s.non_ip == b->s.non_ip
              && a->s.malformed == b->s.malformed && a->s.dropped == b->s.dropped
              && a->s.bad_time == b->s.bad_time);
    assert_true (a->next_seq == b->next_seq && a->batches == b->batches && a->records == b->records
              && a->gaps == b->gaps && a->replays == b->replays);
    assert_true (a->epoch == b->epoch && a->epochs == b->epochs && a->stale == b->stale
              && a->stats == b->stats && a->pcap_dropped == b->pcap_dropped);
    assert_true (a->last_batch_us == b->last_batch_us && a->last_stats_us == b->last_stats_us
              && a->lag_us == b->lag_us);
}

static ds_stats_t
s_stats (uint64_t epoch, uint64_t batches, uint64_t packets)
{
    return (ds_stats_t) { .sensor = 4, .epoch = epoch, .sent_us = 1000, .batches = batches,
                          .records = batches * 10, .packets_read = packets, .non_ip = 1,
                          .malformed = 2, .bad_time = 3, .dropped = 4, .pcap_dropped = 4 };
}

static void
test_epochs (void **state)
{
    (void) state;
    ds_store_t *store = ds_store_new (0, 1, NULL);
    //  A live ingest, epoch 100: counters before any batch.
    ds_stats_t st = s_stats (100, 0, 5);
    assert_int_equal (ds_store_stats (store, &st, 1500), 1);
    ds_part_stream_t r = s_row (store);
    assert_true (r.epoch == 100 && r.epochs == 1 && r.stats == 1);
    assert_true (r.s.packets_read == 5 && r.s.bad_time == 3 && r.pcap_dropped == 4);
    assert_true (r.last_stats_us == 1500 && r.lag_us == 500 && r.last_batch_us == 0);
    //  Batches 0, 1; then counters announcing 4: seqs 2 and 3 are gaps at
    //  once, and a late seq 3 fills its gap.
    assert_int_equal (s_apply (store, 0, 0), 1);
    assert_int_equal (s_apply (store, 1, 10), 1);
    st = s_stats (100, 4, 50);
    assert_int_equal (ds_store_stats (store, &st, 2000), 1);
    r = s_row (store);
    assert_true (r.gaps == 2 && r.next_seq == 4 && r.batches == 2 && r.last_batch_us > 0);
    assert_int_equal (s_apply (store, 3, 30), 1);
    r = s_row (store);
    assert_true (r.gaps == 1 && r.batches == 3 && r.replays == 0);
    assert_int_equal (s_apply (store, 1, 10), 0);               //  a replay
    //  The ingest restarts: epoch 200, seqs from 0 again, applied.
    st = s_stats (200, 0, 7);
    assert_int_equal (ds_store_stats (store, &st, 3000), 1);
    r = s_row (store);
    assert_true (r.epoch == 200 && r.epochs == 2 && r.next_seq == 0 && !r.s.eos);
    assert_true (r.s.packets_read == 50 + 7 && r.s.non_ip == 2 && r.s.bad_time == 6);
    assert_int_equal (s_apply (store, 0, 100), 1);
    assert_int_equal (s_apply (store, 1, 110), 1);
    r = s_row (store);
    assert_true (r.batches == 5 && r.replays == 1 && r.gaps == 1);  //  the old gap stays
    assert_int_equal (ds_store_records (store), 50);
    //  Messages of the old epoch are stale, ignored.
    st = s_stats (100, 9, 999);
    assert_int_equal (ds_store_stats (store, &st, 3500), 0);
    ds_eos_t eos = { .sensor = 4, .batches = 9, .packets_read = 999, .epoch = 100 };
    ds_store_eos (store, &eos);
    r = s_row (store);
    assert_true (r.stale == 2 && r.s.packets_read == 57 && !r.s.eos && r.next_seq == 2);
    assert_int_equal (ds_store_eos_count (store), 0);
    //  The new epoch's end: 3 batches announced, seq 2 never came.
    eos = (ds_eos_t) { .sensor = 4, .batches = 3, .packets_read = 31, .non_ip = 1, .epoch = 200 };
    ds_store_eos (store, &eos);
    r = s_row (store);
    assert_true (r.s.eos && r.gaps == 2 && r.s.packets_read == 50 + 31);
    assert_int_equal (ds_store_eos_count (store), 1);

    //  Everything survives a checkpoint.
    char dir [64], path [96], err [512];
    assert_int_equal (fx_scratch_make (dir, sizeof dir, "test_streams"), 0);
    snprintf (path, sizeof path, "%s/s.ckpt", dir);
    assert_int_equal (ds_store_save (store, path, err, sizeof err), 0);
    ds_store_t *back = ds_store_load (path, 0, 1, NULL, err, sizeof err);
    assert_non_null (back);
    ds_part_stream_t b = s_row (back);
    s_same_row (&b, &r);
    //  ...and the holes of the new epoch: seq 2 late fills its gap.
    assert_int_equal (s_apply (back, 2, 120), 1);
    assert_int_equal (s_row (back).gaps, 1);
    ds_store_destroy (&back);
    assert_int_equal (fx_scratch_remove (dir), 0);
    ds_store_destroy (&store);
}

//  Files: epoch 0 throughout, so a replay of the input is one.
static void
test_file_replay (void **state)
{
    (void) state;
    ds_store_t *store = ds_store_new (0, 1, NULL);
    for (int run = 0; run < 2; run++) {
        ds_stats_t st = s_stats (0, 0, 0);
        assert_int_equal (ds_store_stats (store, &st, 10), 1);
        for (uint64_t seq = 0; seq < 3; seq++)
            assert_int_equal (s_apply (store, seq, (uint32_t) seq * 10), run == 0 ? 1 : 0);
        ds_eos_t eos = { .sensor = 4, .batches = 3, .packets_read = 30 };
        ds_store_eos (store, &eos);
    }
    ds_part_stream_t r = s_row (store);
    assert_true (r.epochs == 1 && r.replays == 3 && r.gaps == 0 && r.s.packets_read == 30);
    assert_int_equal (ds_store_records (store), 30);
    ds_store_destroy (&store);
}

//  An end of stream changes the stream, or (repeated: a restarted
//  labeler announces it again) does not; gaps reported as they grow, once.
static void
test_eos_changes_and_gaps (void **state)
{
    (void) state;
    ds_store_t *store = ds_store_new (0, 1, NULL);
    ds_store_gaplog_t log = { .count = 0 };
    ds_store_stream_t s;
    uint64_t logged;
    uint32_t next = 0;
    assert_false (ds_store_gaps_grown (store, &log, &next, &s, &logged));       //  no stream
    assert_int_equal (s_apply (store, 0, 0), 1);
    assert_int_equal (s_apply (store, 2, 20), 1);                               //  seq 1: a gap
    next = 0;
    assert_true (ds_store_gaps_grown (store, &log, &next, &s, &logged));
    assert_true (s.sensor == 4 && s.gaps == 1 && logged == 0);
    assert_false (ds_store_gaps_grown (store, &log, &next, &s, &logged));
    next = 0;
    assert_false (ds_store_gaps_grown (store, &log, &next, &s, &logged));       //  logged already
    ds_eos_t eos = { .sensor = 4, .batches = 5, .packets_read = 50 };
    assert_true (ds_store_eos_changes (store, &eos));
    assert_false (ds_store_eos_changes (store, &eos));                          //  the same again
    next = 0;
    assert_true (ds_store_gaps_grown (store, &log, &next, &s, &logged));        //  seqs 3, 4 too
    assert_true (s.gaps == 3 && logged == 1 && s.eos);
    eos.packets_read = 51;                                                      //  other counters
    assert_true (ds_store_eos_changes (store, &eos));
    eos.sensor = 5;                                                             //  a new stream
    assert_true (ds_store_eos_changes (store, &eos));
    assert_int_equal (ds_store_eos_count (store), 2);
    //  A replay fills a gap of sensor 4: fewer, nothing to report; sensor
    //  5 announced 5 batches and sent none.
    assert_int_equal (s_apply (store, 1, 10), 1);
    next = 0;
    assert_true (ds_store_gaps_grown (store, &log, &next, &s, &logged));
    assert_true (s.sensor == 5 && s.gaps == 5 && logged == 0);
    assert_false (ds_store_gaps_grown (store, &log, &next, &s, &logged));
    ds_store_destroy (&store);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_epochs),
        cmocka_unit_test (test_file_replay),
        cmocka_unit_test (test_eos_changes_and_gaps),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
