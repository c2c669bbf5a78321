/*  bench_stages.c - where a record's time goes: the stages of `darkscope
    run` one after another on one thread, each timed in CPU seconds of this
    thread (on a shared machine the wall clock mostly measures the
    neighbours).  Built and run by bench_stages.sh; not a ctest.

    Usage: bench_stages FILE.pcap GT.csv [SHARDS]    (default 2 shards)

    Stages, with the code the services run:
      read            a bare pcap_next_ex loop over the file, a pass of its
                      own: the ceiling the others are compared with
      read + parse    ds_source_next (darkscope's own reader of classic
                      pcap and its parser) and filling the shards' batches
      label           ds_labeler_label of each full batch: in `darkscope
                      run` ingest labels (the standalone labeler also
                      decodes and encodes each batch again)
      shard + encode  encoding each labelled batch (ds_publish_add's work
                      without the socket)
      aggregate       decode (as a view, as the aggregators do) +
                      ds_store_apply of each batch (here every shard's store
                      on this one thread); the stores keep no activity
                      patterns, as in a `darkscope run --json` (with
                      STAGES_PATTERNS=1 they do, as with --report or serving)
    Sockets are not in it: the difference between the sum of the stages
    and `darkscope run`'s CPU seconds is the transport, the threads and the
    query at the end.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ds_proto.h"
#include "source.h"
#include "labeler.h"
#include "store.h"
#include <pcap/pcap.h>

enum { S_READ, S_PARSE, S_LABEL, S_PUBLISH, S_AGGREGATE, S_STAGES };
static const char *s_names [S_STAGES] = {
    "read (bare pcap_next_ex loop)", "read + parse (ds_source_next)", "label (in ingest)",
    "shard + encode (publish)", "decode + add (aggregators)"
};

static double
s_cpu (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

typedef struct {
    ds_batch_t *out;
    msgpack_sbuffer buf;
    ds_gt_t *gt;
    ds_services_t *services;
    uint8_t *matched;
    ds_store_t **stores;
    uint64_t *seq;                  //  next seq per shard
    double t [S_STAGES];
} s_bench_t;

//  One full batch through label, encode and aggregate.
static int
s_pass (s_bench_t *self, ds_batch_t *batch)
{
    double t0 = s_cpu ();
    if (ds_labeler_label (batch, self->gt, self->services, self->matched))
        return -1;
    double t1 = s_cpu ();
    batch->seq = self->seq [batch->shard]++;
    msgpack_sbuffer_clear (&self->buf);
    if (ds_batch_encode (batch, &self->buf) != DS_OK)
        return -1;
    double t2 = s_cpu ();
    ds_batch_t view;
    if (ds_batch_decode_view ((const uint8_t *) self->buf.data, self->buf.size, self->out, &view) != DS_OK
    ||  ds_store_apply (self->stores [view.shard], &view) < 0)
        return -1;
    double t3 = s_cpu ();
    self->t [S_LABEL] += t1 - t0;
    self->t [S_PUBLISH] += t2 - t1;
    self->t [S_AGGREGATE] += t3 - t2;
    ds_batch_reset (batch);
    return 0;
}

int
main (int argc, char **argv)
{
    if (argc < 3) {
        fprintf (stderr, "usage: bench_stages FILE.pcap GT.csv [SHARDS]\n");
        return 2;
    }
    uint32_t shards = argc > 3 ? (uint32_t) atoi (argv [3]) : 2;
    char err [512];
    s_bench_t b = { 0 };
    msgpack_sbuffer_init (&b.buf);

    //  read: the ceiling
    pcap_t *p = pcap_open_offline (argv [1], err);
    if (!p) {
        fprintf (stderr, "%s\n", err);
        return 1;
    }
    double t0 = s_cpu ();
    struct pcap_pkthdr *h;
    const u_char *data;
    uint64_t n = 0, sum = 0;
    while (pcap_next_ex (p, &h, &data) == 1) {
        n++;
        sum += h->caplen ? data [0] : 0;
    }
    b.t [S_READ] = s_cpu () - t0;
    pcap_close (p);

    ds_labeler_config_t lc;
    ds_labeler_config_init (&lc);
    lc.gt.items [0] = argv [2];
    lc.gt.count = 1;
    if (ds_labeler_load_tables (&lc, &b.gt, &b.services, err, sizeof err)) {
        fprintf (stderr, "%s\n", err);
        return 1;
    }
    const char *keep = getenv ("STAGES_PATTERNS");
    bool patterns = keep && strcmp (keep, "1") == 0;
    b.matched = malloc (DS_BATCH_MAX_CAPACITY);
    b.out = ds_batch_new (DS_BATCH_DEFAULT_CAPACITY);
    b.stores = calloc (shards, sizeof *b.stores);
    b.seq = calloc (shards, sizeof *b.seq);
    ds_batch_t **batches = calloc (shards, sizeof *batches);
    for (uint32_t k = 0; k < shards; k++) {
        b.stores [k] = ds_store_new (k, shards, NULL);
        ds_store_set_patterns (b.stores [k], patterns);
        batches [k] = ds_batch_new (DS_BATCH_DEFAULT_CAPACITY);
        batches [k]->shard = k;
    }
    ds_source_t *source = ds_source_open_file (argv [1], err, sizeof err);
    if (!source) {
        fprintf (stderr, "%s\n", err);
        return 1;
    }
    ds_ingest_stats_t stats = { 0 };
    ds_record_t rec;
    uint64_t records = 0;
    t0 = s_cpu ();
    int got;
    while ((got = ds_source_next (source, &rec, &stats)) != DS_SOURCE_END && got != DS_SOURCE_ERROR) {
        if (got != DS_SOURCE_RECORD)
            continue;
        records++;
        uint32_t k = ds_addr_shard (&rec.src, shards);
        ds_batch_add (batches [k], &rec);
        if (batches [k]->count == batches [k]->capacity && s_pass (&b, batches [k]))
            return 1;
    }
    for (uint32_t k = 0; k < shards; k++)
        if (batches [k]->count && s_pass (&b, batches [k]))
            return 1;
    double all = s_cpu () - t0;
    //  read + parse (and filling the shards' batches): the loop minus
    //  what s_pass timed
    b.t [S_PARSE] = all - b.t [S_PUBLISH] - b.t [S_LABEL] - b.t [S_AGGREGATE];
    size_t memory = 0;
    uint64_t stored = 0;
    for (uint32_t k = 0; k < shards; k++) {
        memory += ds_store_memory (b.stores [k]);
        stored += ds_store_records (b.stores [k]);
    }
    if (stored != records) {
        fprintf (stderr, "bench_stages: %llu records read, %llu stored\n",
                 (unsigned long long) records, (unsigned long long) stored);
        return 1;
    }

    double total = 0;
    for (int s = S_PARSE; s < S_STAGES; s++)
        total += b.t [s];
    printf ("%llu packets, %llu records, %u shards, store %.0f MB (checksum %llu), %s\n\n",
            (unsigned long long) n, (unsigned long long) records, shards, (double) memory / 1e6,
            (unsigned long long) sum, patterns ? "activity patterns kept (as with --report or serving)"
                                               : "no activity patterns (as in `darkscope run --json`)");
    printf ("| stage | CPU s | ns/packet | share | x read |\n|---|---:|---:|---:|---:|\n");
    for (int s = 0; s < S_STAGES; s++) {
        char share [16] = "-";
        if (s != S_READ)
            snprintf (share, sizeof share, "%.0f%%", 100 * b.t [s] / total);
        printf ("| %s | %.3f | %.1f | %s | %.2f |\n", s_names [s], b.t [s],
                b.t [s] * 1e9 / (double) (n ? n : 1), share, b.t [s] / b.t [S_READ]);
    }
    printf ("| darkscope's stages | %.3f | %.1f | 100%% | %.2f |\n", total, total * 1e9 / (double) (n ? n : 1),
            total / b.t [S_READ]);

    ds_source_destroy (&source);
    for (uint32_t k = 0; k < shards; k++) {
        ds_store_destroy (&b.stores [k]);
        ds_batch_destroy (&batches [k]);
    }
    free (batches);
    free (b.stores);
    free (b.seq);
    ds_batch_destroy (&b.out);
    free (b.matched);
    ds_gt_destroy (&b.gt);
    ds_services_destroy (&b.services);
    msgpack_sbuffer_destroy (&b.buf);
    return 0;
}
