/*  libs: ds_ingest ds_proto ds_common */
/*  test_publish.c - ingest's sharded batch publisher over real sockets:
    every record in its shard's batch, in order, seq 0,1,2... per shard, an
    EOS per shard with the counters; the wait for subscribers timing out;
    a blocked send given up by its callback; live mode dropping what cannot
    be queued, counting it, and still delivering the EOS. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <czmq.h>
#include "publish.h"
#include "batch.h"
#include "log.h"

#define N_SHARDS 3

static int
setup (void **state)
{
    (void) state;
    ds_log_init ("test_publish");
    ds_log_set_quiet (true);
    return 0;
}

//  Record i: source 10.0.(i/256).(i%256) or, every 5th, 2001:db8::i;
//  ts = i, so order is visible.
static void
make_record (ds_record_t *rec, uint32_t i)
{
    memset (rec, 0, sizeof *rec);
    rec->ts = (int64_t) i;
    if (i % 5 == 4) {
        uint8_t v6 [16] = { 0x20, 0x01, 0x0d, 0xb8 };
        v6 [12] = (uint8_t) (i >> 24); v6 [13] = (uint8_t) (i >> 16);
        v6 [14] = (uint8_t) (i >> 8); v6 [15] = (uint8_t) i;
        ds_addr_from_v6 (&rec->src, v6);
    }
    else {
        uint8_t v4 [4] = { 10, 0, (uint8_t) (i >> 8), (uint8_t) i };
        ds_addr_from_v4 (&rec->src, v4);
    }
    rec->port = i % 7 == 0 ? DS_PORT_NONE : (int32_t) (i % 65536);
    rec->proto = (uint8_t) (i % DS_PROTO_COUNT);
    rec->flags = (uint8_t) (i % 8);
}

static zsock_t *
subscriber (const char *endpoint)
{
    zsock_t *sub = zsock_new (ZMQ_SUB);
    assert_non_null (sub);
    zsock_set_linger (sub, 0);
    zsock_set_subscribe (sub, "pkt.");
    assert_int_equal (zsock_connect (sub, "%s", endpoint), 0);
    return sub;
}

//  Receives one message; returns its type and fills batch or eos.
static int
receive (zsock_t *sub, ds_batch_t *batch, ds_eos_t *eos, char *topic)
{
    zmsg_t *msg = zmsg_recv (sub);
    assert_non_null (msg);
    assert_int_equal (zmsg_size (msg), 2);
    zframe_t *head = zmsg_first (msg), *body = zmsg_next (msg);
    assert_int_equal (zframe_size (head), DS_TOPIC_LEN);
    memcpy (topic, zframe_data (head), DS_TOPIC_LEN);
    topic [DS_TOPIC_LEN] = 0;
    int type = 0;
    assert_int_equal (ds_msg_peek (zframe_data (body), zframe_size (body), &type), 0);
    if (type == DS_MSG_EOS)
        assert_int_equal (ds_eos_decode (zframe_data (body), zframe_size (body), eos), 0);
    else {
        assert_int_equal (type, DS_MSG_BATCH);
        assert_int_equal (ds_batch_decode (zframe_data (body), zframe_size (body), batch), 0);
    }
    zmsg_destroy (&msg);
    return type;
}

static void
test_streams (void **state)
{
    (void) state;
    const uint32_t n = 1000, capacity = 16;
    ds_publish_t *pub = ds_publish_new ("tcp://127.0.0.1:*", N_SHARDS, 7, capacity);
    assert_non_null (pub);
    zsock_t *sub = subscriber (ds_publish_endpoint (pub));
    assert_int_equal (ds_publish_wait_subscribers (pub, 10000, NULL, NULL), 0);

    //  Added in blocks of uneven sizes, as ingest's read loop does.
    ds_record_t recs [64];
    uint32_t i = 0;
    for (uint32_t size = 1; i < n; size = size % 64 + 1) {
        uint32_t count = 0;
        for (; count < size && i < n; count++, i++)
            make_record (&recs [count], i);
        assert_int_equal (ds_publish_add (pub, recs, count), 0);
    }
    assert_int_equal (ds_publish_flush (pub), 0);
    ds_eos_t counters = { .packets_read = 1234, .non_ip = 5, .malformed = 6, .dropped = 0 };
    assert_int_equal (ds_publish_end (pub, &counters, 1000), 0);

    ds_batch_t *batch = ds_batch_new (capacity);
    uint64_t next_seq [N_SHARDS] = { 0 }, got [N_SHARDS] = { 0 }, batches = 0;
    int64_t last_ts [N_SHARDS] = { -1, -1, -1 };
    uint32_t eos_seen = 0;
    bool seen [1000] = { false };
    char topic [DS_TOPIC_LEN + 1];
    zsock_set_rcvtimeo (sub, 10000);
    while (eos_seen < N_SHARDS) {
        ds_eos_t eos;
        if (receive (sub, batch, &eos, topic) == DS_MSG_EOS) {
            assert_true (eos.shard < N_SHARDS);
            char want [DS_TOPIC_LEN + 1];
            ds_topic_format (want, "pkt", eos.shard);
            assert_string_equal (topic, want);
            assert_int_equal (eos.sensor, 7);
            assert_int_equal (eos.batches, next_seq [eos.shard]);
            assert_int_equal (eos.records, got [eos.shard]);
            assert_int_equal (eos.packets_read, 1234);
            assert_int_equal (eos.non_ip, 5);
            assert_int_equal (eos.malformed, 6);
            eos_seen++;
            continue;
        }
        uint32_t s = batch->shard;
        assert_true (s < N_SHARDS);
        char want [DS_TOPIC_LEN + 1];
        ds_topic_format (want, "pkt", s);
        assert_string_equal (topic, want);
        assert_int_equal (batch->sensor, 7);
        assert_int_equal (batch->seq, next_seq [s]);
        next_seq [s]++;
        batches++;
        assert_true (batch->count >= 1 && batch->count <= capacity);
        for (uint32_t k = 0; k < batch->count; k++) {
            ds_record_t rec, want_rec;
            ds_batch_get (batch, k, &rec);
            assert_true (rec.ts > last_ts [s] && rec.ts < (int64_t) n);
            last_ts [s] = rec.ts;
            assert_false (seen [rec.ts]);
            seen [rec.ts] = true;
            make_record (&want_rec, (uint32_t) rec.ts);
            assert_memory_equal (&rec.src, &want_rec.src, sizeof rec.src);
            assert_int_equal (rec.port, want_rec.port);
            assert_int_equal (rec.proto, want_rec.proto);
            assert_int_equal (rec.flags, want_rec.flags);
            assert_int_equal (ds_addr_shard (&rec.src, N_SHARDS), s);
        }
        got [s] += batch->count;
    }
    for (uint32_t k = 0; k < n; k++)
        assert_true (seen [k]);
    ds_publish_counts_t counts = ds_publish_counts (pub);
    assert_int_equal (counts.records, n);
    assert_int_equal (counts.batches, batches);
    assert_int_equal (counts.dropped, 0);
    for (int s = 0; s < N_SHARDS; s++)
        assert_true (got [s] > 0);              //  every shard had records
    ds_batch_destroy (&batch);
    zsock_destroy (&sub);
    ds_publish_destroy (&pub);
    assert_null (pub);
    ds_publish_destroy (&pub);
}

static void
test_no_subscriber (void **state)
{
    (void) state;
    ds_publish_t *pub = ds_publish_new ("tcp://127.0.0.1:*", 2, 0, 8);
    assert_non_null (pub);
    int64_t t0 = zclock_mono ();
    assert_int_equal (ds_publish_wait_subscribers (pub, 200, NULL, NULL), -1);
    assert_true (zclock_mono () - t0 >= 150);
    ds_publish_destroy (&pub);
    //  Bad settings and endpoints are refused.
    assert_null (ds_publish_new ("tcp://127.0.0.1:*", 0, 0, 8));
    assert_null (ds_publish_new ("tcp://127.0.0.1:*", DS_SHARDS_MAX + 1, 0, 8));
    assert_null (ds_publish_new ("tcp://127.0.0.1:*", 1, 0, 0));
    assert_null (ds_publish_new ("nonsense://here", 1, 0, 8));
}

static int s_waits;

static int
s_give_up_after_three (void *arg)
{
    (void) arg;
    return ++s_waits >= 3 ? -1 : 0;
}

//  A subscriber that never reads: the publisher waits at the high-water
//  mark (nothing is dropped) until its callback gives the send up.
static void
test_blocked_send_gives_up (void **state)
{
    (void) state;
    ds_publish_t *pub = ds_publish_new ("inproc://test-publish-blocked", 1, 0, 1);
    assert_non_null (pub);
    zsock_t *sub = zsock_new (ZMQ_SUB);
    zsock_set_rcvhwm (sub, 1);
    zsock_set_linger (sub, 0);
    zsock_set_subscribe (sub, "pkt.");
    assert_int_equal (zsock_connect (sub, "inproc://test-publish-blocked"), 0);
    assert_int_equal (ds_publish_wait_subscribers (pub, 10000, NULL, NULL), 0);
    s_waits = 0;
    ds_publish_set_watch (pub, NULL, s_give_up_after_three, NULL);
    ds_record_t rec;
    int rc = 0;
    uint32_t i;
    for (i = 0; i < 10000 && rc == 0; i++) {
        make_record (&rec, i);
        rc = ds_publish_add (pub, &rec, 1);
    }
    assert_int_equal (rc, -1);
    assert_int_equal (s_waits, 3);
    ds_publish_counts_t counts = ds_publish_counts (pub);
    assert_int_equal (counts.dropped, 0);
    assert_int_equal (counts.records, i - 1);  //  the last one was given up
    zsock_destroy (&sub);
    ds_publish_destroy (&pub);
}

//  Live mode: what cannot be queued at once is dropped and counted; the
//  EOS still goes out and says how many records were sent.
static void
test_live_drops (void **state)
{
    (void) state;
    const uint32_t n = 2000;
    ds_publish_t *pub = ds_publish_new ("inproc://test-publish-live", 1, 0, 1);
    assert_non_null (pub);
    zsock_t *sub = zsock_new (ZMQ_SUB);
    zsock_set_rcvhwm (sub, 1);
    zsock_set_linger (sub, 0);
    zsock_set_subscribe (sub, "pkt.");
    assert_int_equal (zsock_connect (sub, "inproc://test-publish-live"), 0);
    assert_int_equal (ds_publish_wait_subscribers (pub, 10000, NULL, NULL), 0);
    ds_publish_set_live (pub, true);
    for (uint32_t i = 0; i < n; i++) {
        ds_record_t rec;
        make_record (&rec, i);
        assert_int_equal (ds_publish_add (pub, &rec, 1), 0);
    }
    ds_publish_counts_t counts = ds_publish_counts (pub);
    assert_true (counts.dropped > 0);
    assert_int_equal (counts.records + counts.dropped, n);
    //  Drain what was queued, then the EOS (sent blocking, even live).
    ds_batch_t *batch = ds_batch_new (1);
    uint64_t received = 0, next_seq = 0;
    char topic [DS_TOPIC_LEN + 1];
    ds_eos_t eos;
    memset (&eos, 0, sizeof eos);
    zsock_set_rcvtimeo (sub, 10000);
    while (received < counts.records) {
        assert_int_equal (receive (sub, batch, &eos, topic), DS_MSG_BATCH);
        assert_int_equal (batch->seq, next_seq);        //  drops leave no seq gap
        next_seq++;
        received += batch->count;
    }
    ds_eos_t counters = { .packets_read = n, .dropped = counts.dropped };
    assert_int_equal (ds_publish_end (pub, &counters, 0), 0);
    assert_int_equal (receive (sub, batch, &eos, topic), DS_MSG_EOS);
    assert_int_equal (eos.records, counts.records);
    assert_int_equal (eos.batches, counts.batches);
    assert_int_equal (eos.dropped, counts.dropped);
    ds_batch_destroy (&batch);
    zsock_destroy (&sub);
    ds_publish_destroy (&pub);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_streams),
        cmocka_unit_test (test_no_subscriber),
        cmocka_unit_test (test_blocked_send_gives_up),
        cmocka_unit_test (test_live_drops),
    };
    int rc = cmocka_run_group_tests (tests, setup, NULL);
    zsys_shutdown ();
    return rc;
}
