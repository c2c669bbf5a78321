/*  bench_query.c - aggregator and query service benchmark (not a ctest).

    Usage: bench_query [PACKETS] [SOURCES] [DAYS] [ITERATIONS] [ORDER]
    ORDER "time" makes timestamps grow with the record index (a capture
    read in order); default "random" scatters them over the days.
    (defaults 20000000 200000 30 50; DarkVec scale is 63500000 544000 30)

    1. Generates a synthetic month in memory (heavy-tailed packets per
       source, scanners that sweep random ports, Mirai-flagged telnet, 5 %
       ground-truth classes), as labelled batches of one shard.
    2. Aggregation: one in-process store applies every batch: records/s of
       one shard (compute bound), and the store's table memory.
    3. Services over tcp on 127.0.0.1: an aggregator actor fed the same
       batches through an XPUB (end-to-end records/s of one shard: decode +
       apply), then a query actor; for each query p50/p99 latency with
       arguments that change every iteration (min_packets, so no cached
       answer is reused) and repeated (the aggregator's answer cache).
    Prints a Markdown report, with the process's peak RSS.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "aggregator.h"
#include "query.h"
#include "store.h"
#include "transport.h"
#include "tz.h"
#include "ds_proto.h"

static const char *s_classes [] = { "unknown", "censys", "shodan", "stretchoid", "engin-umich",
                                    "internet-census", "binaryedge", "sharashka", "ipip", "onyphe" };
static const char *s_services [] = { "telnet", "http", "ssh", "netbios-smb", "dbs", "proxy",
                                     "icmp", "unk_sys", "unk_usr", "unk_eph", "mail", "dns" };
static const struct { int32_t port; int service; } s_top [] = {
    { 23, 0 }, { 445, 3 }, { 80, 1 }, { 22, 2 }, { 2323, 0 }, { 8080, 1 }, { 3389, 8 },
    { 1433, 4 }, { 5555, 8 }, { 443, 1 }, { 3128, 5 }, { 25, 10 }, { 53, 11 }, { 6379, 4 },
    { 8443, 1 }, { 81, 7 }, { 37215, 8 }, { 52869, 9 }, { 5900, 8 }, { 21, 7 },
};
#define NTOP ((int) (sizeof s_top / sizeof *s_top))

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

static double
s_cpu (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t s_rng = 0x9e3779b97f4a7c15ULL;
static inline uint64_t
s_rand (void)
{
    s_rng ^= s_rng << 13; s_rng ^= s_rng >> 7; s_rng ^= s_rng << 17;
    return s_rng;
}

static long
s_peak_rss_kb (void)
{
    FILE *f = fopen ("/proc/self/status", "r");
    char line [256];
    long kb = -1;
    while (f && fgets (line, sizeof line, f))
        if (strncmp (line, "VmHWM:", 6) == 0)
            kb = atol (line + 6);
    if (f)
        fclose (f);
    return kb;
}

static int
s_cmp_double (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

int
main (int argc, char **argv)
{
    uint64_t packets = argc > 1 ? strtoull (argv [1], NULL, 10) : 20000000;
    uint32_t sources = argc > 2 ? (uint32_t) atoi (argv [2]) : 200000;
    int days = argc > 3 ? atoi (argv [3]) : 30;
    int iterations = argc > 4 ? atoi (argv [4]) : 50;
    bool in_time_order = argc > 5 && strcmp (argv [5], "time") == 0;
    zsys_init ();
    zsys_set_logstream (NULL);
    int32_t day0;
    ds_day_parse ("2021-03-02", &day0);
    int64_t t0_us = ds_tz_day_start (ds_tz_utc (), day0);

    //  1. Generate the month as encoded batches.
    double t = s_now ();
    size_t nb = (size_t) ((packets + DS_BATCH_DEFAULT_CAPACITY - 1) / DS_BATCH_DEFAULT_CAPACITY);
    msgpack_sbuffer *enc = calloc (nb, sizeof *enc);
    ds_batch_t *b = ds_batch_new (DS_BATCH_DEFAULT_CAPACITY);
    uint64_t made = 0;
    for (size_t i = 0; i < nb; i++) {
        ds_batch_reset (b);
        ds_batch_set_dicts (b, s_classes, 10, s_services, 12);
        while (b->count < b->capacity && made < packets) {
            uint64_t r = s_rand ();
            //  Heavy tail: u^4 puts most packets on few sources.
            double u = (double) (r >> 11) / 9007199254740992.0;
            uint32_t src = (uint32_t) (u * u * u * u * sources);
            uint64_t r2 = s_rand ();
            //  Light sources are active on few days; heavy ones every day.
            int day = src < sources / 100 ? (int) (r2 % (uint64_t) days)
                    : (int) ((src * 7u + (uint32_t) (r2 % 3)) % (uint32_t) days);
            ds_record_t rec;
            rec.ts = t0_us + (int64_t) day * 86400000000LL + (int64_t) ((r2 >> 8) % 86400000000ULL);
            if (in_time_order)
                rec.ts = t0_us + (int64_t) ((double) made / (double) packets * days * 86400e6);
            uint8_t v4 [4] = { 10, (uint8_t) (src >> 16), (uint8_t) (src >> 8), (uint8_t) src };
            ds_addr_from_v4 (&rec.src, v4);
            int service;
            if (src % 50 == 7 && (r2 >> 40) % 3) {          //  port sweepers
                rec.port = (int32_t) ((r2 >> 20) % 65536);
                service = rec.port < 1024 ? 7 : rec.port < 49152 ? 8 : 9;
                rec.proto = DS_PROTO_TCP;
            }
            else
            if ((r2 >> 50) % 50 == 0) {
                rec.port = DS_PORT_NONE;
                rec.proto = DS_PROTO_ICMP;
                service = 6;
            }
            else {
                int k = (int) ((r2 >> 30) % (uint64_t) NTOP);
                k = k * k / NTOP;                           //  skew to the top ports
                rec.port = s_top [k].port;
                service = s_top [k].service;
                rec.proto = (r2 >> 45) % 12 == 0 ? DS_PROTO_UDP : DS_PROTO_TCP;
            }
            rec.flags = (src % 10 == 1 && rec.port == 23) ? DS_FLAG_MIRAI : 0;
            bool gt = src % 20 == 0;
            if (gt)
                rec.flags |= DS_FLAG_GT;
            uint32_t at = b->count;
            ds_batch_add (b, &rec);
            b->class_id [at] = (uint16_t) (gt ? 1 + src / 20 % 9 : 0);
            b->service_id [at] = (uint16_t) service;
            made++;
        }
        b->sensor = 0;
        b->shard = 0;
        b->seq = i;
        msgpack_sbuffer_init (&enc [i]);
        ds_batch_encode (b, &enc [i]);
    }
    double t_gen = s_now () - t;

    //  2. In-process aggregation rate.
    ds_store_t *store = ds_store_new (0, 1, NULL);
    double t_apply = 0, c_apply = 0;
    for (size_t i = 0; i < nb; i++) {
        ds_batch_decode ((const uint8_t *) enc [i].data, enc [i].size, b);
        t = s_now ();
        double c = s_cpu ();
        ds_store_apply (store, b);
        c_apply += s_cpu () - c;
        t_apply += s_now () - t;
    }
    size_t mem = ds_store_memory (store);
    uint64_t srcs = ds_store_sources (store);
    char ckpt [] = "/tmp/bench_query_ckpt_XXXXXX";
    int fd = mkstemp (ckpt);
    close (fd);
    char err [512];
    t = s_now ();
    ds_store_save (store, ckpt, err, sizeof err);
    double t_save = s_now () - t;
    ds_store_destroy (&store);
    t = s_now ();
    store = ds_store_load (ckpt, 0, 1, NULL, err, sizeof err);
    double t_load = s_now () - t;
    //  The shard's own work per query (CPU, no sockets, no merge): the
    //  overview partial and its second round, on the loaded store.
    double c_overview = 0, c_ppsrc = 0;
    enum { PART_RUNS = 5 };
    int32_t first = 0, last = 0;
    ds_store_days (store, &first, &last);
    for (int run = 0; run < PART_RUNS; run++) {
        ds_part_req_t req = { .kind = DS_PART_OVERVIEW, .first_day = first, .last_day = last,
                              .min_packets = 5 + (uint64_t) run };
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        double c = s_cpu ();
        ds_store_partial (store, &req, &sb, err, sizeof err);
        c_overview += s_cpu () - c;
        req = (ds_part_req_t) { .kind = DS_PART_PPSRC, .first_day = first, .last_day = last, .n_pps = 3,
                                .pps = { { .port = 23 }, { .port = 445 }, { .port = 80 } } };
        c = s_cpu ();
        ds_store_partial (store, &req, &sb, err, sizeof err);
        c_ppsrc += s_cpu () - c;
        msgpack_sbuffer_destroy (&sb);
    }
    ds_store_destroy (&store);
    FILE *f = fopen (ckpt, "rb");
    fseek (f, 0, SEEK_END);
    long ckpt_size = ftell (f);
    fclose (f);
    unlink (ckpt);

    //  3. Over sockets: aggregator actor fed through an XPUB, query actor.
    zsock_t *xpub = ds_xpub_new ("tcp://127.0.0.1:*");
    ds_aggregator_config_t acfg;
    ds_aggregator_config_init (&acfg);
    acfg.inputs.items [0] = zsock_endpoint (xpub);
    acfg.inputs.count = 1;
    acfg.endpoint = "tcp://127.0.0.1:*";
    zactor_t *agg = zactor_new (ds_aggregator_actor, &acfg);
    char agg_ep [256];
    ds_aggregator_endpoint (agg, agg_ep, sizeof agg_ep, NULL);
    ds_xpub_wait_subscribers (xpub, "lab", 1, 10000, NULL);
    char topic [DS_TOPIC_LEN + 1];
    ds_topic_format (topic, "lab", 0);
    t = s_now ();
    for (size_t i = 0; i < nb; i++)
        ds_send2 (xpub, topic, DS_TOPIC_LEN, enc [i].data, enc [i].size, NULL);
    ds_eos_t eos = { 0, 0, nb, made, made, 0, 0, 0, 0, 0 };
    msgpack_sbuffer eb;
    msgpack_sbuffer_init (&eb);
    ds_eos_encode (&eos, &eb);
    ds_send2 (xpub, topic, DS_TOPIC_LEN, eb.data, eb.size, NULL);
    msgpack_sbuffer_destroy (&eb);
    char *msg = zstr_recv (agg);                            //  "EOS"
    double t_e2e = s_now () - t;
    zstr_free (&msg);
    for (size_t i = 0; i < nb; i++)
        msgpack_sbuffer_destroy (&enc [i]);
    free (enc);

    ds_query_config_t qcfg;
    ds_query_config_init (&qcfg);
    qcfg.endpoint = "tcp://127.0.0.1:*";
    qcfg.shard_endpoints.items [0] = agg_ep;
    qcfg.shard_endpoints.count = 1;
    qcfg.timeout_ms = 60000;
    zactor_t *query = zactor_new (ds_query_actor, &qcfg);
    char qep [256];
    ds_query_endpoint (query, qep, sizeof qep);
    zsock_t *req = zsock_new_req (qep);

    printf ("## bench_query: %" PRIu64 " packets, %" PRIu64 " sources, %d days, 1 shard\n\n",
            made, srcs, days);
    printf ("| measure | value |\n|---|---:|\n");
    printf ("| generate + encode | %.1f s |\n", t_gen);
    printf ("| aggregation, in process (one shard) | %.2f M records/s (%.2f M per CPU second) |\n",
            made / t_apply / 1e6, made / c_apply / 1e6);
    printf ("| aggregation, through XPUB -> aggregator actor | %.2f M records/s |\n", made / t_e2e / 1e6);
    printf ("| store tables | %.0f MB |\n", mem / 1048576.0);
    printf ("| checkpoint write / read / size | %.2f s / %.2f s / %.0f MB |\n", t_save, t_load,
            ckpt_size / 1048576.0);
    printf ("| shard CPU per query, in process: overview partial / its second round | %.1f ms / %.1f ms |\n",
            c_overview * 1e3 / PART_RUNS, c_ppsrc * 1e3 / PART_RUNS);

    const char *names [] = { "overview", "ports", "ecdf", "daily", "classes", "heatmap", "pattern", "status" };
    printf ("\n| query | p50 ms (fresh) | p99 ms (fresh) | p50 ms (cached) | p99 ms (cached) |\n");
    printf ("|---|---:|---:|---:|---:|\n");
    double *lat = calloc ((size_t) iterations, sizeof *lat);
    for (size_t n = 0; n < sizeof names / sizeof *names; n++) {
        double p [4];
        for (int cached = 0; cached < 2; cached++) {
            for (int i = 0; i < iterations; i++) {
                ds_query_t q;
                ds_query_init (&q);
                snprintf (q.name, sizeof q.name, "%s", names [n]);
                q.min_packets = cached ? 10 : 10 + i;
                if (strcmp (names [n], "pattern") == 0) {
                    //  one hour of one class, shifted every iteration
                    snprintf (q.class_name, sizeof q.class_name, "%s", "censys");
                    q.from_us = t0_us + (int64_t) (cached ? 0 : i) * 3600000000LL;
                    q.to_us = q.from_us + 3600000000LL;
                    q.min_packets = 10;
                }
                msgpack_sbuffer buf;
                msgpack_sbuffer_init (&buf);
                ds_query_encode (&q, &buf);
                double t1 = s_now ();
                zsock_send (req, "b", buf.data, buf.size);
                zframe_t *reply = zframe_recv (req);
                lat [i] = (s_now () - t1) * 1000;
                if (i == 0 && cached == 0 && zframe_size (reply) < 200)
                    fprintf (stderr, "%s: short reply (%zu bytes)\n", names [n], zframe_size (reply));
                zframe_destroy (&reply);
                msgpack_sbuffer_destroy (&buf);
            }
            qsort (lat, (size_t) iterations, sizeof *lat, s_cmp_double);
            p [cached * 2] = lat [iterations / 2];
            p [cached * 2 + 1] = lat [(iterations * 99 + 99) / 100 - 1];
        }
        printf ("| %s | %.2f | %.2f | %.2f | %.2f |\n", names [n], p [0], p [1], p [2], p [3]);
    }
    printf ("\npeak RSS of this process (generator + 2 stores + services): %.0f MB\n",
            s_peak_rss_kb () / 1024.0);
    free (lat);
    zsock_destroy (&req);
    zactor_destroy (&query);
    zactor_destroy (&agg);
    zsock_destroy (&xpub);
    ds_batch_destroy (&b);
    return 0;
}
