/*  libs: ds_ingest ds_proto ds_common */
/*  test_ingest_pipeline.c - losslessness over a real socket.

    Writes a 1,000,000-packet capture (plus ARP frames and truncated frames
    that must only be counted), runs the ingest actor (ds_ingest_run's logic
    in a thread, with the czmq handshake) publishing 4 shards on
    tcp://127.0.0.1:* (the port it got is reported back) with small batches (so the
    publisher reaches the high-water mark many times), and a deliberately
    slow subscriber (RCVHWM 1, busy work per batch) checks that every record
    arrives exactly once, in order per shard, in the right shard, with seq
    0,1,2... and an EOS per shard whose counts match what arrived.
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
#include <czmq.h>
#include <pcap/pcap.h>
#include "ingest.h"
#include "ds_proto.h"
#include "log.h"

#define N_PACKETS  1000000
#define N_ARP      1000             //  every 1000th frame is also an ARP frame
#define N_SHARDS   4
#define BASE_US    1614556800000000LL   //  2021-03-01

//  Frame i: Ethernet/IPv4/TCP SYN from 10.(i>>16 & 3).(i>>8).(i) % 40000
//  sources, to port i % 65536, at BASE_US + i (unique, increasing).
static void
make_frame (uint8_t *f, uint32_t i)
{
    memset (f, 0, 54);
    f [12] = 0x08;
    uint8_t *ip = f + 14;
    ip [0] = 0x45; ip [3] = 40; ip [8] = 64; ip [9] = 6;
    uint32_t src = 0x0a000000u | (i % 40000);
    ip [12] = (uint8_t) (src >> 24); ip [13] = (uint8_t) (src >> 16);
    ip [14] = (uint8_t) (src >> 8); ip [15] = (uint8_t) src;
    ip [16] = 192; ip [17] = 0; ip [18] = 2; ip [19] = 1;
    uint8_t *tcp = ip + 20;
    tcp [2] = (uint8_t) (i >> 8); tcp [3] = (uint8_t) i;
    tcp [12] = 0x50; tcp [13] = 0x02;
}

static void
write_capture (const char *path)
{
    pcap_t *dead = pcap_open_dead (DLT_EN10MB, 65535);
    pcap_dumper_t *dump = pcap_dump_open (dead, path);
    assert_non_null (dump);
    uint8_t frame [64];
    for (uint32_t i = 0; i < N_PACKETS; i++) {
        int64_t ts = BASE_US + i;
        struct pcap_pkthdr hdr = { .caplen = 54, .len = 54 };
        hdr.ts.tv_sec = (time_t) (ts / 1000000);
        hdr.ts.tv_usec = (suseconds_t) (ts % 1000000);
        make_frame (frame, i);
        pcap_dump ((u_char *) dump, &hdr, frame);
        if (i % (N_PACKETS / N_ARP) == 0) {
            frame [12] = 0x08; frame [13] = 0x06;           //  ARP: non-IP
            pcap_dump ((u_char *) dump, &hdr, frame);
            hdr.caplen = 30;                                //  cut IP header: malformed
            make_frame (frame, i);
            pcap_dump ((u_char *) dump, &hdr, frame);
        }
    }
    pcap_dump_close (dump);
    pcap_close (dead);
}

static void
test_lossless_slow_subscriber (void **state)
{
    (void) state;
    ds_log_init ("test_pipeline");
    char dir [64];
    assert_int_equal (fx_scratch_make (dir, sizeof dir, "ds_test_pipeline"), 0);
    char path [128];
    snprintf (path, sizeof path, "%s/million.pcap", dir);
    write_capture (path);

    //  The actor binds tcp://127.0.0.1:* and reports the endpoint it got
    //  before it signals; then it waits for the subscriber.
    ds_ingest_config_t cfg;
    ds_ingest_config_init (&cfg);
    const char *inputs [1] = { path };
    char endpoint [256] = "";
    cfg.pcaps = inputs;
    cfg.n_pcaps = 1;
    cfg.shards = N_SHARDS;
    cfg.sensor = 3;
    cfg.endpoint = "tcp://127.0.0.1:*";
    cfg.bound = endpoint;
    cfg.bound_size = sizeof endpoint;
    cfg.batch = 256;
    cfg.wait_s = 30;
    cfg.progress = false;
    zactor_t *actor = zactor_new (ds_ingest_actor, &cfg);
    assert_non_null (actor);
    assert_int_equal (strncmp (endpoint, "tcp://127.0.0.1:", 16), 0);

    //  A slow subscriber: one subscription per shard topic, RCVHWM 1.
    zsock_t *sub = zsock_new (ZMQ_SUB);
    zsock_set_rcvhwm (sub, 1);
    zsock_set_linger (sub, 0);
    for (uint32_t s = 0; s < N_SHARDS; s++) {
        char topic [16];
        ds_topic_format (topic, "pkt", s);
        zsock_set_subscribe (sub, topic);
    }
    assert_int_equal (zsock_connect (sub, "%s", endpoint), 0);

    uint8_t *seen = calloc (N_PACKETS, 1);
    uint64_t next_seq [N_SHARDS] = { 0 }, got [N_SHARDS] = { 0 };
    int64_t last_ts [N_SHARDS];
    bool eos_seen [N_SHARDS] = { false };
    ds_eos_t eos [N_SHARDS];
    for (int s = 0; s < N_SHARDS; s++)
        last_ts [s] = INT64_MIN;
    ds_batch_t *batch = ds_batch_new (256);
    int eos_count = 0;
    uint64_t duplicates = 0, disorder = 0, wrong_shard = 0, gaps = 0, batches = 0, n_stats = 0;
    volatile uint64_t sink = 0;
    zpoller_t *poller = zpoller_new (sub, NULL);
    while (eos_count < N_SHARDS) {
        void *which = zpoller_wait (poller, 20000);
        assert_non_null (which);                //  20 s without a message: fail
        zmsg_t *msg = zmsg_recv (sub);
        assert_non_null (msg);
        assert_int_equal (zmsg_size (msg), 2);
        zframe_t *topic = zmsg_first (msg);
        zframe_t *body = zmsg_next (msg);
        int type = 0;
        assert_int_equal (ds_msg_peek (zframe_data (body), zframe_size (body), &type), 0);
        if (type == DS_MSG_EOS) {
            ds_eos_t e;
            assert_int_equal (ds_eos_decode (zframe_data (body), zframe_size (body), &e), 0);
            assert_true (e.shard < N_SHARDS);
            assert_false (eos_seen [e.shard]);
            eos_seen [e.shard] = true;
            eos [e.shard] = e;
            eos_count++;
            zmsg_destroy (&msg);
            continue;
        }
        if (type == DS_MSG_STATS) {
            //  In the stream, after the batches sent before it: its count
            //  of batches is the count received so far (nothing is lost).
            ds_stats_t st;
            assert_int_equal (ds_stats_decode (zframe_data (body), zframe_size (body), &st), 0);
            assert_true (st.shard < N_SHARDS);
            assert_false (eos_seen [st.shard]);
            assert_int_equal (st.batches, next_seq [st.shard]);
            assert_int_equal (st.records, got [st.shard]);
            n_stats++;
            zmsg_destroy (&msg);
            continue;
        }
        assert_int_equal (type, DS_MSG_BATCH);
        assert_int_equal (ds_batch_decode (zframe_data (body), zframe_size (body), batch), 0);
        uint32_t s = batch->shard;
        assert_true (s < N_SHARDS);
        assert_false (eos_seen [s]);
        char want [16];
        ds_topic_format (want, "pkt", s);
        assert_memory_equal (zframe_data (topic), want, DS_TOPIC_LEN);
        assert_int_equal (batch->sensor, 3);
        if (batch->seq != next_seq [s])
            gaps++;
        next_seq [s] = batch->seq + 1;
        batches++;
        for (uint32_t k = 0; k < batch->count; k++) {
            ds_record_t rec;
            ds_batch_get (batch, k, &rec);
            int64_t i = rec.ts - BASE_US;
            assert_true (i >= 0 && i < N_PACKETS);
            if (seen [i]++)
                duplicates++;
            if (rec.ts <= last_ts [s])
                disorder++;
            last_ts [s] = rec.ts;
            if (ds_addr_shard (&rec.src, N_SHARDS) != s)
                wrong_shard++;
            assert_int_equal (rec.port, (int32_t) (i % 65536));
            assert_int_equal (rec.proto, DS_PROTO_TCP);
            //  Busy work: the subscriber is much slower than the publisher.
            for (int w = 0; w < 1500; w++)
                sink = sink * 6364136223846793005ULL + (uint64_t) rec.ts;
        }
        got [s] += batch->count;
        zmsg_destroy (&msg);
    }
    assert_true (n_stats >= N_SHARDS);          //  one per stream before its first batch
    zsock_set_rcvtimeo (actor, 20000);
    char *done = zstr_recv (actor);
    assert_non_null (done);
    assert_string_equal (done, "DONE");
    zstr_free (&done);
    zactor_destroy (&actor);

    uint64_t missing = 0;
    for (uint32_t i = 0; i < N_PACKETS; i++)
        missing += seen [i] == 0;
    printf ("received %llu batches: missing %llu, duplicates %llu, out of order %llu, "
            "wrong shard %llu, seq gaps %llu\n", (unsigned long long) batches,
            (unsigned long long) missing, (unsigned long long) duplicates,
            (unsigned long long) disorder, (unsigned long long) wrong_shard,
            (unsigned long long) gaps);
    assert_int_equal (missing, 0);
    assert_int_equal (duplicates, 0);
    assert_int_equal (disorder, 0);
    assert_int_equal (wrong_shard, 0);
    assert_int_equal (gaps, 0);
    uint64_t total = 0;
    for (int s = 0; s < N_SHARDS; s++) {
        assert_true (got [s] > 0);
        assert_int_equal (eos [s].sensor, 3);
        assert_int_equal (eos [s].batches, next_seq [s]);
        assert_int_equal (eos [s].records, got [s]);
        assert_int_equal (eos [s].packets_read, N_PACKETS + 2 * N_ARP);
        assert_int_equal (eos [s].non_ip, N_ARP);
        assert_int_equal (eos [s].malformed, N_ARP);
        assert_int_equal (eos [s].dropped, 0);
        total += got [s];
    }
    assert_int_equal (total, N_PACKETS);

    zpoller_destroy (&poller);
    zsock_destroy (&sub);
    ds_batch_destroy (&batch);
    free (seen);
    assert_int_equal (fx_scratch_remove (dir), 0);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_lossless_slow_subscriber),
    };
    int rc = cmocka_run_group_tests (tests, NULL, NULL);
    zsys_shutdown ();
    return rc;
}
