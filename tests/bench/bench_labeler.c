/*  bench_labeler.c - how fast the labeler is (not a ctest; see bench_labeler.sh).

    1. GT lookups/s on one core with every list in $DS_SHARED_DATA/scanners,
       big_gt.csv and 1 M random exact IPv4 entries: a mix of hits in the
       random set, addresses inside the scanner lists, and random misses;
       then misses only (the common case on a darknet).
    2. Labelled records/s through the actor: a publisher thread sends
       batches of 4096 records over inproc:// (XPUB, NODROP, back-pressure)
       to the labeler actor; this thread subscribes to its output and counts
       until the EOS.
    Usage: bench_labeler [RANDOM_ENTRIES] [BATCHES]
*/
#include "labeler.h"
#include "ds_proto.h"
#include "log.h"
#include "transport.h"
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static uint64_t s_rng = 0x9E3779B97F4A7C15ULL;

static uint64_t
s_rand (void)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return s_rng;
}

static void
s_random_v4 (ds_addr_t *addr)
{
    uint32_t v = (uint32_t) s_rand ();
    uint8_t b [4] = { (uint8_t) (v >> 24), (uint8_t) (v >> 16), (uint8_t) (v >> 8), (uint8_t) v };
    ds_addr_from_v4 (addr, b);
}

static double
s_bench_lookups (const ds_gt_t *gt, const ds_addr_t *addrs, size_t n, uint64_t *matched_out)
{
    enum { CHUNK = 4096 };
    static uint16_t class_id [CHUNK];
    static uint8_t matched [CHUNK];
    uint64_t hits = 0;
    double start = s_now ();
    for (int round = 0; round < 3; round++)
        for (size_t at = 0; at < n; at += CHUNK) {
            uint32_t k = (uint32_t) (n - at < CHUNK ? n - at : CHUNK);
            ds_gt_lookup_many (gt, addrs + at, k, class_id, matched);
            for (uint32_t i = 0; i < k; i++)
                hits += matched [i];
        }
    double seconds = s_now () - start;
    *matched_out = hits / 3;
    return 3.0 * (double) n / seconds;
}

//  --------------------------------------------------------------------------

typedef struct {
    zsock_t *pub;
    uint64_t batches;
} s_pub_args_t;

static void *
s_publisher (void *args_)
{
    s_pub_args_t *args = args_;
    ds_batch_t *batch = ds_batch_new (DS_BATCH_DEFAULT_CAPACITY);
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    //  A realistic mix: ports and sources drawn from small pools.
    ds_record_t rec;
    memset (&rec, 0, sizeof rec);
    for (uint64_t seq = 0; seq < args->batches; seq++) {
        ds_batch_reset (batch);
        batch->sensor = 1;
        batch->shard = 0;
        batch->seq = seq;
        for (uint32_t i = 0; i < DS_BATCH_DEFAULT_CAPACITY; i++) {
            rec.ts = (int64_t) (seq * DS_BATCH_DEFAULT_CAPACITY + i);
            s_random_v4 (&rec.src);
            uint64_t r = s_rand ();
            rec.port = (int32_t) (r % 8 == 0 ? DS_PORT_NONE : (int32_t) ((r >> 8) % 65536));
            rec.proto = (uint8_t) (rec.port == DS_PORT_NONE ? DS_PROTO_ICMP : r % 3 ? DS_PROTO_TCP : DS_PROTO_UDP);
            ds_batch_add (batch, &rec);
        }
        msgpack_sbuffer_clear (&buf);
        ds_batch_encode (batch, &buf);
        ds_send2 (args->pub, "pkt.0000", 8, buf.data, buf.size, NULL);
    }
    ds_eos_t eos = { 1, 0, args->batches, args->batches * DS_BATCH_DEFAULT_CAPACITY, 0, 0, 0, 0, 0, 0 };
    msgpack_sbuffer_clear (&buf);
    ds_eos_encode (&eos, &buf);
    ds_send2 (args->pub, "pkt.0000", 8, buf.data, buf.size, NULL);
    msgpack_sbuffer_destroy (&buf);
    ds_batch_destroy (&batch);
    return NULL;
}

int
main (int argc, char **argv)
{
    size_t random_entries = argc > 1 ? strtoull (argv [1], NULL, 10) : 1000000;
    uint64_t batches = argc > 2 ? strtoull (argv [2], NULL, 10) : 2000;
    const char *data = getenv ("DS_SHARED_DATA");
    if (!data)
        data = "/work/shared/data";
    ds_log_init ("bench_labeler");
    ds_log_set_quiet (true);

    //  1. Lookups.
    char dir [512], csv [512], err [512];
    snprintf (dir, sizeof dir, "%s/scanners", data);
    snprintf (csv, sizeof csv, "%s/darkvec/big_gt.csv", data);
    double t0 = s_now ();
    ds_gt_t *gt = ds_gt_new ();
    if (ds_gt_load_csv (gt, csv, err, sizeof err) || ds_gt_load_spec (gt, dir, err, sizeof err)) {
        fprintf (stderr, "bench_labeler: %s\n", err);
        return 1;
    }
    size_t list_entries = ds_gt_exact_count (gt) + ds_gt_prefix_count (gt);
    ds_addr_t *randoms = malloc (random_entries * sizeof *randoms);
    for (size_t i = 0; i < random_entries; i++) {
        s_random_v4 (&randoms [i]);
        char text [64];
        ds_addr_format (&randoms [i], text, sizeof text);
        ds_gt_add (gt, text, "random", "random", (uint32_t) i + 1, err, sizeof err);
    }
    ds_gt_build (gt);
    double load_s = s_now () - t0;
    printf ("tables: %zu list/csv entries + %zu random exact = %zu exact, %zu prefixes, "
            "%u classes; loaded and built in %.2f s\n", list_entries, random_entries,
            ds_gt_exact_count (gt), ds_gt_prefix_count (gt), ds_gt_class_count (gt), load_s);

    size_t n = 4 * 1024 * 1024;
    ds_addr_t *addrs = malloc (n * sizeof *addrs);
    //  Mixed: 1/3 random-set hits, 1/3 near list entries (from the
    //  lookups' own answers: addresses whose /24 has a list entry), 1/3 misses.
    ds_addr_t *near = malloc (65536 * sizeof *near);
    size_t n_near = 0;
    for (size_t tries = 0; tries < 50000000 && n_near < 65536; tries++) {
        ds_addr_t a;
        s_random_v4 (&a);
        a.b [12] = (uint8_t) (a.b [12] % 2 ? 45 : 162);     //  scanner-dense /8s
        bool matched;
        if (ds_gt_class_names (gt) [ds_gt_lookup (gt, &a, &matched)] && matched)
            near [n_near++] = a;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t pick = s_rand () % 3;
        if (pick == 0 && random_entries)
            addrs [i] = randoms [s_rand () % random_entries];
        else
        if (pick == 1 && n_near)
            addrs [i] = near [s_rand () % n_near];
        else
            s_random_v4 (&addrs [i]);
    }
    uint64_t hits;
    double rate = s_bench_lookups (gt, addrs, n, &hits);
    printf ("lookups, mixed (%.0f%% matched): %.1f M/s (ds_gt_lookup_many, one core)\n",
            100.0 * (double) hits / (double) n, rate / 1e6);
    for (size_t i = 0; i < n; i++)
        s_random_v4 (&addrs [i]);
    rate = s_bench_lookups (gt, addrs, n, &hits);
    printf ("lookups, random IPv4 (%.1f%% matched): %.1f M/s\n",
            100.0 * (double) hits / (double) n, rate / 1e6);
    for (size_t i = 0; i < n; i++) {
        uint64_t a = s_rand (), b = s_rand ();
        memcpy (addrs [i].b, &a, 8);
        memcpy (addrs [i].b + 8, &b, 8);
        addrs [i].b [0] = 0x20;
    }
    rate = s_bench_lookups (gt, addrs, n, &hits);
    printf ("lookups, random IPv6 (%.1f%% matched): %.1f M/s\n",
            100.0 * (double) hits / (double) n, rate / 1e6);
    double start = s_now ();
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        bool matched;
        sum += ds_gt_lookup (gt, &addrs [i], &matched) + matched;
    }
    printf ("lookups, one at a time (ds_gt_lookup, IPv6): %.1f M/s (%" PRIu64 ")\n",
            (double) n / (s_now () - start) / 1e6, sum);
    ds_gt_destroy (&gt);
    free (addrs);
    free (near);
    free (randoms);

    //  2. Through the actor, over inproc://, with the real tables.
    ds_labeler_config_t config;
    ds_labeler_config_init (&config);
    config.gt.items [config.gt.count++] = csv;
    config.gt_lists.items [config.gt_lists.count++] = dir;
    config.inputs.items [config.inputs.count++] = "inproc://bench-pkt";
    config.endpoint = "inproc://bench-lab";
    config.control = "";
    zsock_t *pub = ds_xpub_new ("inproc://bench-pkt");
    zactor_t *labeler = zactor_new (ds_labeler_actor, &config);
    char a [256], b [256];
    if (ds_labeler_endpoints (labeler, a, sizeof a, b, sizeof b)) {
        fprintf (stderr, "bench_labeler: the labeler did not start\n");
        return 1;
    }
    zsock_t *sub = ds_sub_new ("inproc://bench-lab", "lab.");
    ds_xpub_wait_subscribers (pub, "pkt", 1, 10000, NULL);
    s_pub_args_t args = { pub, batches };
    pthread_t thread;
    start = s_now ();
    pthread_create (&thread, NULL, s_publisher, &args);
    uint64_t records = 0, got = 0;
    ds_batch_t *batch = ds_batch_new (DS_BATCH_DEFAULT_CAPACITY);
    while (true) {
        zmsg_t *msg = zmsg_recv (sub);
        if (!msg)
            break;
        zmsg_next (zmsg_first (msg) ? msg : msg);
        zframe_t *body = zmsg_last (msg);
        int type;
        ds_msg_peek (zframe_data (body), zframe_size (body), &type);
        bool eos = type == DS_MSG_EOS;
        if (!eos && ds_batch_decode (zframe_data (body), zframe_size (body), batch) == DS_OK) {
            records += batch->count;
            got++;
        }
        zmsg_destroy (&msg);
        if (eos)
            break;
    }
    double seconds = s_now () - start;
    pthread_join (thread, NULL);
    printf ("through the actor (inproc, 4096-record batches, publisher + labeler + "
            "subscriber decoding on 2 cores): %" PRIu64 " batches, %.1f M records/s\n",
            got, (double) records / seconds / 1e6);
    ds_batch_destroy (&batch);
    zactor_destroy (&labeler);
    zsock_destroy (&sub);
    zsock_destroy (&pub);
    return 0;
}
