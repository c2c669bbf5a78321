/*  merge.c - exact merge of shard partials; see merge.h.

    The rounds decode every shard's partial into its struct first; the
    merges then add counts and combine lists by key (pp, class, service,
    packets per source) into one ds_overview_t, which overview.c packs as
    the client asked.

    The shards wait while the query service merges (the next round needs
    its result), so its largest steps run on two threads: the decoding of
    large partials (every other shard's on a helper), and the merges (the
    window's pps, the largest list, beside the rest).  Each helper is
    joined before its result is used; if none can start, the caller does
    its share too.
*/
#include "merge.h"
#include "overview.h"
#include "record.h"
#include "tzday.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  ---------------------------------------------------------------------
//  A helper thread

typedef void *(s_work_fn) (void *arg);

typedef struct {
    pthread_t thread;
    bool started;
} s_helper_t;

//  Runs fn (arg) on a helper thread if worth one (spawn), else or if none
//  can be started here.
static void
s_helper_start (s_helper_t *self, bool spawn, s_work_fn *fn, void *arg)
{
    self->started = spawn && pthread_create (&self->thread, NULL, fn, arg) == 0;
    if (!self->started)
        fn (arg);
}

//  Waits for the helper's work (done, if it ran here).
static void
s_helper_join (s_helper_t *self)
{
    if (self->started)
        pthread_join (self->thread, NULL);
    self->started = false;
}

//  ---------------------------------------------------------------------
//  Rounds

//  Encodes req, runs the round and decodes each shard's partial with
//  decode (a ds_part_*_decode, through s_decode_fn) into parts [i], an
//  array of n entries of size bytes.  Returns 0, or -1 with err set.
typedef int (s_decode_fn) (const uint8_t *data, size_t size, void *part, char *err, size_t err_size);

#define S_DECODE_PARALLEL (64 * 1024)    //  partials of more bytes: two threads decode

//  A shard's decoding: its result and why it failed.
typedef struct {
    int rc;
    char why [256];
} s_decoded_t;

//  Decodes the partials of shards first, first + step, ... into parts.
typedef struct {
    const msgpack_object *results;
    size_t n, first, step;
    s_decode_fn *decode;
    char *parts;                    //  n entries of size bytes
    size_t size;
    s_decoded_t *done;              //  n entries: each thread writes its shards'
} s_decode_job_t;

static void *
s_decode_some (void *arg)
{
    const s_decode_job_t *job = arg;
    for (size_t i = job->first; i < job->n; i += job->step) {
        const uint8_t *data;
        size_t data_size;
        s_decoded_t *d = &job->done [i];
        d->rc = ds_part_result_bytes (&job->results [i], &data, &data_size);
        if (d->rc == DS_OK)
            d->rc = job->decode (data, data_size, job->parts + i * job->size, d->why, sizeof d->why);
    }
    return NULL;
}

//  Decodes the n results into parts (every other shard's on a helper
//  thread when they are large); the first shard whose partial does not
//  decode is the error.  Returns DS_OK, or an error with err set.
static int
s_decode_all (size_t n, const msgpack_object *results, s_decode_fn *decode, const char *what,
              void *parts, size_t size, char *err, size_t err_size)
{
    s_decoded_t *done = calloc (n ? n : 1, sizeof *done);
    if (!done) {
        snprintf (err, err_size, "out of memory");
        return DS_ERR_NOMEM;
    }
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++)
        if (results [i].type == MSGPACK_OBJECT_BIN)
            bytes += results [i].via.bin.size;
    bool two = n > 1 && bytes >= S_DECODE_PARALLEL;
    s_decode_job_t jobs [2];
    for (size_t t = 0; t < 2; t++)
        jobs [t] = (s_decode_job_t) { results, n, two ? t : 0, two ? 2 : 1, decode, parts, size, done };
    s_helper_t helper = { .started = false };
    if (two)
        s_helper_start (&helper, true, s_decode_some, &jobs [1]);
    s_decode_some (&jobs [0]);
    s_helper_join (&helper);
    int rc = DS_OK;
    for (size_t i = 0; rc == DS_OK && i < n; i++)
        if ((rc = done [i].rc) != DS_OK)
            snprintf (err, err_size, "shard %zu: bad %s partial: %s%s%s", i, what,
                      ds_result_str (rc), done [i].why [0] ? ": " : "", done [i].why);
    free (done);
    return rc;
}

static int
s_round (size_t n, ds_merge_round_fn *round, void *ctx, const ds_part_req_t *req,
         s_decode_fn *decode, const char *what, void *parts, size_t size,
         char *err, size_t err_size)
{
    msgpack_sbuffer request;
    msgpack_sbuffer_init (&request);
    const msgpack_object *results = NULL;
    int rc = ds_part_req_encode (req, &request);
    if (rc != DS_OK)
        snprintf (err, err_size, "cannot encode the %s request (%s)", what, ds_result_str (rc));
    else
    if (round (ctx, &request, &results, err, err_size))
        rc = -1;
    else
        rc = s_decode_all (n, results, decode, what, parts, size, err, err_size);
    msgpack_sbuffer_destroy (&request);
    return rc == DS_OK ? 0 : -1;
}

static int
s_decode_range (const uint8_t *data, size_t size, void *part, char *err, size_t err_size)
{
    return ds_part_range_decode (data, size, part, err, err_size);
}

static int
s_decode_overview (const uint8_t *data, size_t size, void *part, char *err, size_t err_size)
{
    return ds_part_overview_decode (data, size, part, err, err_size);
}

static int
s_decode_ppsrc (const uint8_t *data, size_t size, void *part, char *err, size_t err_size)
{
    return ds_part_ppsrc_decode (data, size, part, err, err_size);
}

//  ---------------------------------------------------------------------
//  Window

int
ds_merge_window (const ds_part_range_t *parts, size_t n, ds_query_t *q,
                 char *tz, size_t tz_size, char *err, size_t err_size)
{
    bool any = false;
    int32_t lo = 0, hi = 0;
    uint32_t retain = 0;            //  the fewest days a shard retains; 0 = all
    tz [0] = 0;
    for (size_t i = 0; i < n; i++) {
        const ds_part_range_t *p = &parts [i];
        if (i == 0)
            snprintf (tz, tz_size, "%s", p->tz);
        else
        if (strcmp (tz, p->tz) != 0) {
            snprintf (err, err_size, "shards disagree on the time zone (%s vs %s)", tz, p->tz);
            return -1;
        }
        if (p->retain_days && (!retain || p->retain_days < retain))
            retain = p->retain_days;
        if (!p->any)
            continue;
        if (!any || p->first_day < lo)
            lo = p->first_day;
        if (!any || p->last_day > hi)
            hi = p->last_day;
        any = true;
    }
    if (!q->first_day [0] && !q->last_day [0] && !any) {
        snprintf (err, err_size, "no data yet: no shard has seen a record");
        return DS_MERGE_EMPTY;
    }
    if ((!q->first_day [0] || !q->last_day [0]) && !any) {
        snprintf (err, err_size, "no data yet: no shard has seen a record "
                  "(give both first_day and last_day for an empty window)");
        return -1;
    }
    //  Each shard evicts by its own newest day, so one whose sources were
    //  quiet on the newest day may still hold the day before the retained
    //  ones: the default window is the retained days before the newest.
    if (retain && (int64_t) hi - retain + 1 > lo)
        lo = hi - (int32_t) retain + 1;
    if (!q->first_day [0])
        ds_day_format (lo, q->first_day);
    if (!q->last_day [0])
        ds_day_format (hi, q->last_day);
    int32_t f, l;
    if (ds_day_parse (q->first_day, &f) || ds_day_parse (q->last_day, &l)) {
        bool first = ds_day_parse (q->first_day, &f) != 0;
        snprintf (err, err_size, "%s '%s' is not a day (YYYY-MM-DD)", first ? "first_day" : "last_day",
                  first ? q->first_day : q->last_day);
        return -1;
    }
    if (f > l) {
        snprintf (err, err_size, "first_day %s is after last_day %s", q->first_day, q->last_day);
        return -1;
    }
    return 0;
}

int
ds_merge_range (size_t n, ds_merge_round_fn *round, void *ctx, ds_query_t *q,
                char *tz, size_t tz_size, uint64_t *generations, char *err, size_t err_size)
{
    ds_part_range_t *parts = calloc (n ? n : 1, sizeof *parts);
    ds_part_req_t req = { .kind = DS_PART_RANGE };
    int rc = -1;
    if (!parts)
        snprintf (err, err_size, "out of memory");
    else
    if (s_round (n, round, ctx, &req, s_decode_range, "range", parts, sizeof *parts, err, err_size) == 0
    &&  (rc = ds_merge_window (parts, n, q, tz, tz_size, err, err_size)) >= 0) {
        for (size_t i = 0; generations && i < n; i++)
            generations [i] = parts [i].generation;
    }
    free (parts);
    return rc;
}

//  ---------------------------------------------------------------------
//  Overview: summing the partials

static int
s_cmp_hist (const void *x, const void *y)
{
    const ds_overview_hist_t *a = x, *b = y;
    return a->x < b->x ? -1 : a->x > b->x;
}

//  Senders desc, packets desc, class name.
static int
s_cmp_class_rank (const void *x, const void *y)
{
    const ds_overview_class_t *a = x, *b = y;
    if (a->senders != b->senders)
        return a->senders > b->senders ? -1 : 1;
    if (a->packets != b->packets)
        return a->packets > b->packets ? -1 : 1;
    return strcmp (a->name, b->name);
}

//  Classes of the partials, by name.
static int
s_cmp_part_class (const void *x, const void *y)
{
    return strcmp ((*(const ds_part_class_t *const *) x)->name,
                   (*(const ds_part_class_t *const *) y)->name);
}

//  Appends n pps to v at *k.
static void
s_pps_append (ds_overview_pp_t *v, size_t *k, const ds_part_pp_t *pps, uint32_t n)
{
    for (uint32_t j = 0; j < n; j++)
        v [(*k)++] = (ds_overview_pp_t) { pps [j].port, pps [j].proto, pps [j].packets, pps [j].sources };
}

#define S_PORT_BUCKETS  65537           //  DS_PORT_NONE (-1) and 0..65535
#define S_GATHER_SMALL  4096            //  fewer rows: copied and combined

//  The window's (last: the last day's) pps of every part, combined by key
//  (port, proto) into a new array *out of *count rows.  Large lists (~65 k
//  ports a shard at 5 M packets) are bucketed by port through pointers to
//  the parts' rows, 8 bytes a row, and each port's few rows are copied
//  straight to their place, sorted by proto and summed: no copy of every
//  row to sort, so less fresh memory (the page faults on it were most of
//  the merge's time).  Ports are -1..65535 (the decoder checks).
static int
s_gather_pps (const ds_part_overview_t *parts, size_t n, bool last, ds_overview_pp_t **out, size_t *count)
{
    size_t total = 0, k = 0;
    for (size_t i = 0; i < n; i++)
        total += last ? parts [i].n_last : parts [i].n_window;
    ds_overview_pp_t *v = malloc ((total ? total : 1) * sizeof *v);
    if (!v)
        return -1;
    if (total < S_GATHER_SMALL) {
        for (size_t i = 0; i < n; i++)
            s_pps_append (v, &k, last ? parts [i].last : parts [i].window,
                          last ? parts [i].n_last : parts [i].n_window);
        *count = ds_overview_pp_combine (v, k);
        *out = v;
        return 0;
    }
    uint32_t *start = calloc (S_PORT_BUCKETS + 1, sizeof *start);
    const ds_part_pp_t **by_port = malloc (total * sizeof *by_port);
    if (!start || !by_port) {
        free (start);
        free (by_port);
        free (v);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const ds_part_pp_t *pps = last ? parts [i].last : parts [i].window;
        uint32_t np = last ? parts [i].n_last : parts [i].n_window;
        for (uint32_t j = 0; j < np; j++)
            start [pps [j].port + 2]++;
    }
    for (size_t b = 1; b <= S_PORT_BUCKETS; b++)
        start [b] += start [b - 1];
    for (size_t i = 0; i < n; i++) {
        const ds_part_pp_t *pps = last ? parts [i].last : parts [i].window;
        uint32_t np = last ? parts [i].n_last : parts [i].n_window;
        for (uint32_t j = 0; j < np; j++)
            by_port [start [pps [j].port + 1]++] = &pps [j];
    }
    size_t used = 0;
    for (size_t i = 0; i < total; ) {
        size_t end = i + 1;
        while (end < total && by_port [end]->port == by_port [i]->port)
            end++;
        ds_overview_pp_t *run = v + used;
        for (size_t j = i; j < end; j++) {
            //  insertion by proto: a port has a few rows (shards x protos)
            const ds_part_pp_t *pp = by_port [j];
            size_t m = j - i;
            while (m > 0 && run [m - 1].proto > pp->proto) {
                run [m] = run [m - 1];
                m--;
            }
            run [m] = (ds_overview_pp_t) { pp->port, pp->proto, pp->packets, pp->sources };
        }
        size_t kept = 0;
        for (size_t j = 1; j < end - i; j++)
            if (run [j].proto == run [kept].proto) {
                run [kept].packets += run [j].packets;
                run [kept].sources += run [j].sources;
            }
            else
                run [++kept] = run [j];
        used += kept + 1;
        i = end;
    }
    free (start);
    free (by_port);
    *count = used;
    *out = v;
    return 0;
}

//  unk_sys, unk_usr, unk_eph and proxy are "others" in the heatmap.
static const char *
s_heatmap_service (const char *service)
{
    static const char *const others [] = { "unk_sys", "unk_usr", "unk_eph", "proxy" };
    for (size_t i = 0; i < sizeof others / sizeof *others; i++)
        if (strcmp (service, others [i]) == 0)
            return "others";
    return service;
}

//  Merges the classes of every part by name (rows of one class come from
//  different shards): senders and packets add, pps and services combine.
static int
s_merge_classes (const ds_part_overview_t *parts, size_t n, ds_overview_t *o)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += parts [i].n_classes;
    const ds_part_class_t **rows = malloc ((total ? total : 1) * sizeof *rows);
    o->classes = calloc (total ? total : 1, sizeof *o->classes);
    if (!rows || !o->classes) {
        free (rows);
        return -1;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        for (uint32_t j = 0; j < parts [i].n_classes; j++)
            rows [k++] = &parts [i].classes [j];
    qsort (rows, total, sizeof *rows, s_cmp_part_class);
    int rc = 0;
    for (size_t r = 0; r < total && rc == 0; ) {
        size_t end = r, n_pps = 0, n_services = 0;
        for (; end < total && strcmp (rows [end]->name, rows [r]->name) == 0; end++) {
            n_pps += rows [end]->n_pps;
            n_services += rows [end]->n_services;
        }
        ds_overview_class_t *c = &o->classes [o->n_classes++];
        snprintf (c->name, sizeof c->name, "%s", rows [r]->name);
        c->pps = calloc (n_pps ? n_pps : 1, sizeof *c->pps);
        c->services = calloc (n_services ? n_services : 1, sizeof *c->services);
        if (!c->pps || !c->services) {
            rc = -1;
            break;
        }
        for (; r < end; r++) {
            c->senders += rows [r]->senders;
            c->packets += rows [r]->packets;
            s_pps_append (c->pps, &c->n_pps, rows [r]->pps, rows [r]->n_pps);
            for (uint32_t m = 0; m < rows [r]->n_services; m++) {
                ds_overview_named_t *s = &c->services [c->n_services++];
                snprintf (s->name, sizeof s->name, "%s", s_heatmap_service (rows [r]->services [m].name));
                s->packets = rows [r]->services [m].packets;
            }
        }
        c->n_pps = ds_overview_pp_combine (c->pps, c->n_pps);
        c->n_services = ds_overview_named_combine (c->services, c->n_services);
    }
    free (rows);
    qsort (o->classes, o->n_classes, sizeof *o->classes, s_cmp_class_rank);
    return rc;
}

//  Sums the histograms of every part: one row per distinct x.
static int
s_merge_hist (const ds_part_overview_t *parts, size_t n, ds_overview_t *o)
{
    size_t total = 0, k = 0;
    for (size_t i = 0; i < n; i++)
        total += parts [i].n_hist;
    o->hist = calloc (total ? total : 1, sizeof *o->hist);
    if (!o->hist)
        return -1;
    for (size_t i = 0; i < n; i++)
        for (uint32_t j = 0; j < parts [i].n_hist; j++)
            o->hist [k++] = (ds_overview_hist_t) { parts [i].hist [j].packets, parts [i].hist [j].sources };
    if (k == 0)
        return 0;
    qsort (o->hist, k, sizeof *o->hist, s_cmp_hist);
    size_t out = 0;
    for (size_t i = 1; i < k; i++)
        if (o->hist [i].x == o->hist [out].x)
            o->hist [out].count += o->hist [i].count;
        else
            o->hist [++out] = o->hist [i];
    o->n_hist = out + 1;
    return 0;
}

//  The merges besides the window's pps: the histogram, the last day's
//  pps, the classes.
typedef struct {
    const ds_part_overview_t *parts;
    size_t n;
    ds_overview_t *o;
    int rc;                         //  0, or -1 if memory ran out
} s_rest_job_t;

static void *
s_merge_rest (void *arg)
{
    s_rest_job_t *job = arg;
    job->rc = s_merge_hist (job->parts, job->n, job->o)
           || s_gather_pps (job->parts, job->n, true, &job->o->last_pps, &job->o->n_last_pps)
           || s_merge_classes (job->parts, job->n, job->o) ? -1 : 0;
    return NULL;
}

//  Merges the OVERVIEW partials into o (window, zone and days set).
static int
s_overview_read (const ds_part_overview_t *parts, size_t n, ds_overview_t *o, char *err, size_t err_size)
{
    //  Per-sensor ingest counters: each sensor's once.  Its EOS carries the
    //  same counters to every shard; before it, each shard has the latest
    //  STATS it got, so the most current row is the one with the most
    //  packets read (counters only grow, over epochs too).
    const ds_part_sensor_t *sensors [1024];
    size_t n_sensors = 0;
    o->complete = true;             //  as `status` says it (query.c)
    for (size_t i = 0; i < n; i++) {
        const ds_part_overview_t *p = &parts [i];
        if (strcmp (p->tz, o->tz) != 0 || p->first_day != o->first_day || p->last_day != o->last_day) {
            snprintf (err, err_size, "shard %zu answered another window or zone (%s, days %d..%d)",
                      i, p->tz, p->first_day, p->last_day);
            return -1;
        }
        o->window_sources += p->window_sources;
        o->last_sources += p->last_sources;
        for (int32_t day = 0; day < o->n_days; day++) {
            o->days [day].sources += p->days [day].sources;
            o->days [day].filtered += p->days [day].filtered;
            o->days [day].first_seen += p->days [day].first_seen;
            o->days [day].first_seen_filtered += p->days [day].first_seen_filtered;
        }
        o->gaps += p->gaps;
        uint32_t ended = 0;
        for (uint32_t j = 0; j < p->n_sensors; j++)
            ended += p->sensors [j].eos;
        if (p->gaps || ended < p->n_sensors || ended < p->sensors_expected)
            o->complete = false;
        for (uint32_t j = 0; j < p->n_sensors; j++) {
            const ds_part_sensor_t *s = &p->sensors [j];
            size_t m = 0;
            while (m < n_sensors && sensors [m]->sensor != s->sensor)
                m++;
            if (m < n_sensors) {
                if (s->packets_read > sensors [m]->packets_read)
                    sensors [m] = s;
            }
            else
            if (n_sensors < sizeof sensors / sizeof *sensors)
                sensors [n_sensors++] = s;
        }
    }
    for (size_t m = 0; m < n_sensors; m++) {
        o->packets_read += sensors [m]->packets_read;
        o->non_ip += sensors [m]->non_ip;
        o->malformed += sensors [m]->malformed;
        o->bad_time += sensors [m]->bad_time;
        o->dropped += sensors [m]->dropped;
    }
    //  The window's pps (the largest list) here, the rest on a helper
    //  meanwhile (each fills its own fields of o).
    size_t rows = 0;
    for (size_t i = 0; i < n; i++)
        rows += parts [i].n_window;
    s_rest_job_t rest = { parts, n, o, 0 };
    s_helper_t helper = { .started = false };
    s_helper_start (&helper, rows >= S_GATHER_SMALL, s_merge_rest, &rest);
    int rc = s_gather_pps (parts, n, false, &o->window_pps, &o->n_window_pps);
    s_helper_join (&helper);
    if (rc || rest.rc) {
        snprintf (err, err_size, "out of memory merging partials");
        return -1;
    }
    return 0;
}

//  Adds the PPSRC partials' window sources to the window pps.
static int
s_add_ppsrc (const ds_part_ppsrc_t *parts, size_t n, ds_overview_t *o, char *err, size_t err_size)
{
    for (size_t i = 0; i < n; i++) {
        if (parts [i].first_day != o->first_day || parts [i].last_day != o->last_day) {
            snprintf (err, err_size, "shard %zu counted pp sources over another window", i);
            return -1;
        }
        for (uint32_t j = 0; j < parts [i].n_pps; j++) {
            const ds_part_pp_t *pp = &parts [i].pps [j];
            ds_overview_pp_t key = { .port = pp->port, .proto = pp->proto };
            ds_overview_pp_t *hit = bsearch (&key, o->window_pps, o->n_window_pps, sizeof *o->window_pps,
                                           ds_overview_pp_key);
            if (hit)
                hit->sources += pp->sources;
        }
    }
    return 0;
}



//  Starts o: the window of q (resolved) and its days.  Returns 0, or -1
//  with err set.
static int
s_overview_init (ds_overview_t *o, const ds_query_t *q, const char *tz, char *err, size_t err_size)
{
    memset (o, 0, sizeof *o);
    o->empty = !q->first_day [0] && !q->last_day [0];
    if (!o->empty
    &&  (ds_day_parse (q->first_day, &o->first_day) || ds_day_parse (q->last_day, &o->last_day)
         || o->first_day > o->last_day || (int64_t) o->last_day - o->first_day >= DS_PART_DAYS_MAX)) {
        snprintf (err, err_size, "bad window %s .. %s", q->first_day, q->last_day);
        return -1;
    }
    //  The empty window was asked of the shards as day 0 (for the ingest
    //  counters): it has no day to report.
    o->n_days = o->empty ? 0 : o->last_day - o->first_day + 1;
    o->min_packets = q->min_packets;
    o->min_kept = q->min_packets > 0 ? (uint64_t) q->min_packets : 0;
    o->tz = tz;
    o->days = calloc ((size_t) o->n_days + 1, sizeof *o->days);
    if (!o->days) {
        snprintf (err, err_size, "out of memory merging partials");
        return -1;
    }
    return 0;
}

//  The PPSRC request for o's window: its top pps by packets (distinct
//  sources per pp need a set of (source, pp); only the top ones are
//  reported, so shards count just those).  Returns 0.
static int
s_ppsrc_request (const ds_overview_t *o, const ds_part_req_t *overview, ds_part_req_t *req)
{
    ds_overview_pp_t top [DS_PART_TOP_PPS];
    size_t nt = ds_overview_pp_top (o->window_pps, o->n_window_pps, DS_PART_TOP_PPS, top);
    *req = (ds_part_req_t) {
        .kind = DS_PART_PPSRC, .first_day = overview->first_day, .last_day = overview->last_day
    };
    for (size_t i = 0; i < nt; i++)
        req->pps [req->n_pps++] = (ds_part_pp_t) { .port = top [i].port, .proto = (uint8_t) top [i].proto };
    return 0;
}

int
ds_merge_answer (size_t n, ds_merge_round_fn *round, void *ctx, const ds_query_t *q,
                 const char *tz, msgpack_packer *pk, char *err, size_t err_size)
{
    ds_part_req_t req = { .kind = DS_PART_OVERVIEW,
                          .min_packets = q->min_packets > 0 ? (uint64_t) q->min_packets : 0 };
    //  The empty window (ds_merge_range said DS_MERGE_EMPTY): the shards are
    //  asked for day 0, where nothing is, for their ingest counters.
    bool empty = !q->first_day [0] && !q->last_day [0];
    if (!empty
    &&  (ds_day_parse (q->first_day, &req.first_day) || ds_day_parse (q->last_day, &req.last_day))) {
        snprintf (err, err_size, "bad window %s .. %s", q->first_day, q->last_day);
        return -1;
    }
    ds_part_overview_t *parts = calloc (n ? n : 1, sizeof *parts);
    ds_part_ppsrc_t *ppsrc = calloc (n ? n : 1, sizeof *ppsrc);
    ds_overview_t o;
    int rc = s_overview_init (&o, q, tz, err, err_size);
    if (rc == 0 && (!parts || !ppsrc)) {
        snprintf (err, err_size, "out of memory");
        rc = -1;
    }
    ds_part_req_t ppsrc_req;
    if (rc == 0
    &&  s_round (n, round, ctx, &req, s_decode_overview, "overview", parts, sizeof *parts,
                 err, err_size) == 0
    &&  s_overview_read (parts, n, &o, err, err_size) == 0
    &&  s_ppsrc_request (&o, &req, &ppsrc_req) == 0
    &&  s_round (n, round, ctx, &ppsrc_req, s_decode_ppsrc, "ppsrc", ppsrc, sizeof *ppsrc,
                 err, err_size) == 0
    &&  s_add_ppsrc (ppsrc, n, &o, err, err_size) == 0) {
        rc = ds_overview_pack (&o, q->name, pk);
        if (rc)
            snprintf (err, err_size, "not an overview query: '%s'", q->name);
    }
    else
        rc = -1;
    for (size_t i = 0; parts && i < n; i++)
        ds_part_overview_clear (&parts [i]);
    free (parts);
    free (ppsrc);
    ds_overview_free (&o);
    return rc;
}
