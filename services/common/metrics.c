/*  metrics.c - see metrics.h.

    Layout: a group owns fixed arrays of series descriptors and of 64-bit
    value slots (a counter or gauge takes one slot, a histogram its buckets
    + sum + count).  Descriptors are written once by the owner thread and
    published by a release store of the series count; values are relaxed
    atomics inside the group's sequence lock.  Socket watches run in one
    thread per registry that reads every monitor's events.
*/
#include "metrics.h"
#include "curve.h"
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { S_COUNTER, S_GAUGE, S_AGE, S_HISTOGRAM } s_type_t;

//  Query latency buckets, seconds (Prometheus' defaults, from 1 ms).
static const double s_latency [] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                     0.5, 1, 2.5, 5, 10 };
#define S_LATENCY_N (sizeof s_latency / sizeof *s_latency)

//  Every metric darkscope exports.  A series names its family by name.
static const struct {
    const char *name;
    s_type_t type;
    const char *help;
} s_families [] = {
    { "darkscope_packets_read_total", S_COUNTER,
      "Packets (or log lines) read from captures, logs and interfaces" },
    { "darkscope_records_total", S_COUNTER,
      "Records handled: published (ingest), labelled (labeler), applied (aggregator)" },
    { "darkscope_batches_total", S_COUNTER,
      "Batches handled: published, labelled, applied" },
    { "darkscope_gaps_total", S_COUNTER,
      "Batches missing from a (sensor, shard) stream (seq jumps and end-of-stream tails)" },
    { "darkscope_drops_total", S_COUNTER,
      "Packets dropped by live capture (own overload and libpcap's counters)" },
    { "darkscope_bad_input_total", S_COUNTER,
      "Input not turned into records, by kind (non_ip, malformed, bad_line, bad_time)" },
    { "darkscope_rejects_total", S_COUNTER,
      "Messages rejected: undecodable, wrong type, shard or topic" },
    { "darkscope_replays_total", S_COUNTER,
      "Batches ignored as replays of ones already applied" },
    { "darkscope_stale_total", S_COUNTER,
      "Messages of a sensor's older epoch (before its ingest restarted), ignored" },
    { "darkscope_sensor_epoch", S_GAUGE,
      "A sensor's current epoch (a restarted live ingest starts a larger one)" },
    { "darkscope_sensor_epochs", S_GAUGE,
      "Epochs of a sensor seen by this shard (more than 1: its ingest restarted)" },
    { "darkscope_sensor_lag_seconds", S_GAUGE,
      "A sensor's last counters (STATS) arrival minus their sending, both hosts' clocks (0 until the first)" },
    { "darkscope_sensor_last_batch_timestamp_seconds", S_GAUGE,
      "Unix time a sensor's last batch was applied (0: none yet)" },
    { "darkscope_sensor_newest_record_timestamp_seconds", S_GAUGE,
      "Unix time of a sensor's newest record applied, its own clock (data lag: time() minus this; 0 until a first batch; kept in checkpoints)" },
    { "darkscope_eos_total", S_COUNTER,
      "End-of-stream messages handled" },
    { "darkscope_queue_depth", S_GAUGE,
      "Messages found waiting on the input at the last read (a lower bound; a burst reads at most 64)" },
    { "darkscope_backpressure_waits_total", S_COUNTER,
      "Sends that found the peer's queue full and waited (files: back-pressure, never a drop)" },
    { "darkscope_checkpoint_age_seconds", S_AGE,
      "Seconds since the last checkpoint was written or restored (or since start)" },
    { "darkscope_checkpoints_total", S_COUNTER, "Checkpoints written" },
    { "darkscope_checkpoint_failures_total", S_COUNTER, "Checkpoints that failed to be written" },
    { "darkscope_store_bytes", S_GAUGE, "Bytes held by the aggregator's tables" },
    { "darkscope_store_sources", S_GAUGE, "Distinct sources in the aggregator's tables" },
    { "darkscope_store_dates", S_GAUGE, "Calendar dates from the first to the last one held by the tables" },
    { "darkscope_sensors_ended", S_GAUGE, "Sensors whose end of stream arrived" },
    { "darkscope_queries_total", S_COUNTER, "Queries answered, by query name" },
    { "darkscope_query_failures_total", S_COUNTER, "Queries answered with an error, by query name" },
    { "darkscope_query_duration_seconds", S_HISTOGRAM, "Time to answer a query, by query name" },
    { "darkscope_reloads_total", S_COUNTER, "Table reloads, by result" },
    { "darkscope_ready", S_GAUGE, "1 if this service instance is ready (see /readyz)" },
    { "darkscope_unheard_batches_total", S_COUNTER,
      "Batches published while no subscriber of their shard was there, lost for it (subscriber=none: nobody; whole_stream: only readers of every shard such as the embed service)" },
    { "darkscope_refused_connections_total", S_COUNTER,
      "Connections this process refused: CURVE keys not in --trust (ZAP) and failed handshakes (plaintext peers)" },
};
#define S_FAMILIES (sizeof s_families / sizeof *s_families)

#define S_SERIES_MAX  512           //  series per group
#define S_VALUES_MAX  4096          //  value slots per group
#define S_LABELS_MAX  160           //  rendered label text per series
#define S_COND_MAX    8
#define S_WATCH_MAX   8

typedef struct {
    uint16_t family;
    uint16_t slot;                  //  first value slot
    char labels [S_LABELS_MAX];     //  extra labels, rendered: a="1",b="2"
} s_series_t;

typedef struct {
    char what [48];
    atomic_bool ok;
} s_cond_t;

typedef struct _ds_metrics_t ds_metrics_t;

typedef struct {
    char what [48];
    int expected;
    atomic_int connected;
    atomic_bool closed;             //  the watched socket went away
    zsock_t *monitor;               //  PAIR, read by the watch thread
} s_watch_t;

struct _ds_mgroup_t {
    ds_metrics_t *owner;
    char service [32];
    char labels [S_LABELS_MAX];     //  service="x",shard="0"
    atomic_uint seq;                //  odd while a write is in progress
    atomic_uint n_series;
    s_series_t series [S_SERIES_MAX];
    uint32_t n_slots;               //  owner thread only
    _Atomic uint64_t values [S_VALUES_MAX];
    atomic_uint n_cond;
    s_cond_t cond [S_COND_MAX];
    atomic_uint n_watch;
    s_watch_t watch [S_WATCH_MAX];
    int ready_id;                   //  darkscope_ready series
    int refused_id;                 //  darkscope_refused_connections_total (curve.h, read at render)
    char probe_what [48];
    ds_mprobe_fn *_Atomic probe;    //  readiness check run by the reader
    void *probe_arg;
    atomic_bool probe_ok;           //  its last answer
    char fail [256];
    atomic_bool failed;
};

struct _ds_metrics_t {
    pthread_mutex_t lock;           //  the group list and watch sockets
    ds_mgroup_t **groups;
    size_t n_groups, cap;
    pthread_t watcher;
    atomic_bool stop;
    atomic_uint watch_gen;          //  bumped when a watch is added
};

static atomic_uint s_monitor_id;

static double
s_now (void)
{
    return (double) zclock_usecs () / 1e6;
}

static uint64_t
s_d2u (double d)
{
    uint64_t u;
    memcpy (&u, &d, sizeof u);
    return u;
}

static double
s_u2d (uint64_t u)
{
    double d;
    memcpy (&d, &u, sizeof d);
    return d;
}

//  Appends name="value" pairs from a NULL-terminated va_list to buf
//  (after what is there), escaping values as the text format wants.
static void
s_labels_append (char *buf, size_t size, va_list ap)
{
    size_t used = strlen (buf);
    const char *name;
    while ((name = va_arg (ap, const char *)) != NULL) {
        const char *value = va_arg (ap, const char *);
        if (!value)
            break;
        int n = snprintf (buf + used, used < size ? size - used : 0, "%s%s=\"", used ? "," : "", name);
        used += n > 0 ? (size_t) n : 0;
        for (const char *p = value; *p && used + 3 < size; p++) {
            if (*p == '\\' || *p == '"' || *p == '\n') {
                buf [used++] = '\\';
                buf [used++] = *p == '\n' ? 'n' : *p;
            }
            else
                buf [used++] = *p;
        }
        if (used + 1 < size)
            buf [used++] = '"';
        buf [used < size ? used : size - 1] = 0;
    }
}

//  --------------------------------------------------------------------------
//  Watch thread: reads every monitor's events and counts connected peers.

static void *
s_watcher (void *arg)
{
    ds_metrics_t *self = arg;
    zmq_pollitem_t items [256];
    s_watch_t *owners [256];
    unsigned gen = UINT32_MAX;
    int n = 0;
    while (!atomic_load (&self->stop)) {
        if (atomic_load (&self->watch_gen) != gen) {
            pthread_mutex_lock (&self->lock);
            gen = atomic_load (&self->watch_gen);
            n = 0;
            for (size_t i = 0; i < self->n_groups; i++) {
                ds_mgroup_t *g = self->groups [i];
                unsigned nw = atomic_load (&g->n_watch);
                for (unsigned w = 0; w < nw && n < 256; w++)
                    if (g->watch [w].monitor) {
                        items [n] = (zmq_pollitem_t) { zsock_resolve (g->watch [w].monitor), 0, ZMQ_POLLIN, 0 };
                        owners [n++] = &g->watch [w];
                    }
            }
            pthread_mutex_unlock (&self->lock);
        }
        if (n == 0) {
            zclock_sleep (50);
            continue;
        }
        if (zmq_poll (items, n, 100) <= 0)
            continue;
        for (int i = 0; i < n; i++) {
            if (!(items [i].revents & ZMQ_POLLIN))
                continue;
            zmsg_t *msg = zmsg_recv (owners [i]->monitor);
            zframe_t *head = msg ? zmsg_first (msg) : NULL;
            if (head && zframe_size (head) >= 6) {
                uint16_t event;
                memcpy (&event, zframe_data (head), 2);
                if (event == ZMQ_EVENT_CONNECTED || event == ZMQ_EVENT_ACCEPTED)
                    atomic_fetch_add (&owners [i]->connected, 1);
                else
                if (event == ZMQ_EVENT_DISCONNECTED && atomic_load (&owners [i]->connected) > 0)
                    atomic_fetch_sub (&owners [i]->connected, 1);
                else
                if (event == ZMQ_EVENT_MONITOR_STOPPED) {
                    atomic_store (&owners [i]->connected, 0);
                    atomic_store (&owners [i]->closed, true);
                }
            }
            zmsg_destroy (&msg);
        }
    }
    return NULL;
}

ds_metrics_t *
ds_metrics_new (void)
{
    ds_metrics_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    pthread_mutex_init (&self->lock, NULL);
    zsys_init ();                   //  the shared context the services use
    if (pthread_create (&self->watcher, NULL, s_watcher, self)) {
        pthread_mutex_destroy (&self->lock);
        free (self);
        return NULL;
    }
    return self;
}

void
ds_metrics_destroy (ds_metrics_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ds_metrics_t *self = *self_p;
    atomic_store (&self->stop, true);
    pthread_join (self->watcher, NULL);
    for (size_t i = 0; i < self->n_groups; i++) {
        for (unsigned w = 0; w < atomic_load (&self->groups [i]->n_watch); w++)
            zsock_destroy (&self->groups [i]->watch [w].monitor);
        free (self->groups [i]);
    }
    free (self->groups);
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

ds_mgroup_t *
ds_metrics_group (ds_metrics_t *self, const char *service, ...)
{
    if (!self || !service)
        return NULL;
    char labels [S_LABELS_MAX] = "";
    va_list ap;
    va_start (ap, service);
    {
        //  service="x" first, then the caller's pairs.
        snprintf (labels, sizeof labels, "service=\"%s\"", service);
        s_labels_append (labels, sizeof labels, ap);
    }
    va_end (ap);
    pthread_mutex_lock (&self->lock);
    ds_mgroup_t *g = NULL;
    for (size_t i = 0; i < self->n_groups && !g; i++)
        if (strcmp (self->groups [i]->labels, labels) == 0)
            g = self->groups [i];
    if (!g && self->n_groups == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 16;
        ds_mgroup_t **groups = realloc (self->groups, cap * sizeof *groups);
        if (groups) {
            self->groups = groups;
            self->cap = cap;
        }
    }
    if (!g && self->n_groups < self->cap && (g = calloc (1, sizeof *g)) != NULL) {
        g->owner = self;
        snprintf (g->service, sizeof g->service, "%s", service);
        snprintf (g->labels, sizeof g->labels, "%s", labels);
        self->groups [self->n_groups++] = g;
        g->ready_id = -1;
        g->refused_id = -1;
    }
    pthread_mutex_unlock (&self->lock);
    if (g && g->ready_id < 0)
        g->ready_id = ds_mgroup_series (g, "darkscope_ready", NULL);
    if (g && g->refused_id < 0)
        g->refused_id = ds_mgroup_series (g, "darkscope_refused_connections_total", NULL);
    return g;
}

int
ds_mgroup_series (ds_mgroup_t *g, const char *family, ...)
{
    if (!g || !family)
        return -1;
    size_t f = 0;
    while (f < S_FAMILIES && strcmp (s_families [f].name, family) != 0)
        f++;
    if (f == S_FAMILIES)
        return -1;
    s_series_t series = { .family = (uint16_t) f };
    va_list ap;
    va_start (ap, family);
    s_labels_append (series.labels, sizeof series.labels, ap);
    va_end (ap);
    unsigned n = atomic_load_explicit (&g->n_series, memory_order_relaxed);
    for (unsigned i = 0; i < n; i++)
        if (g->series [i].family == f && strcmp (g->series [i].labels, series.labels) == 0)
            return (int) i;
    uint32_t slots = s_families [f].type == S_HISTOGRAM ? S_LATENCY_N + 3 : 1;
    if (n == S_SERIES_MAX || g->n_slots + slots > S_VALUES_MAX)
        return -1;
    series.slot = (uint16_t) g->n_slots;
    g->n_slots += slots;
    if (s_families [f].type == S_AGE)
        atomic_store_explicit (&g->values [series.slot], s_d2u (s_now ()), memory_order_relaxed);
    g->series [n] = series;
    atomic_store_explicit (&g->n_series, n + 1, memory_order_release);
    return (int) n;
}

ds_mstream_t
ds_mgroup_stream (ds_mgroup_t *g, uint32_t sensor, uint32_t shard)
{
    char a [16], b [16];
    snprintf (a, sizeof a, "%u", sensor);
    snprintf (b, sizeof b, "%u", shard);
    return (ds_mstream_t) {
        .batches = ds_mgroup_series (g, "darkscope_batches_total", "sensor", a, "shard", b, NULL),
        .records = ds_mgroup_series (g, "darkscope_records_total", "sensor", a, "shard", b, NULL),
        .gaps = ds_mgroup_series (g, "darkscope_gaps_total", "sensor", a, "shard", b, NULL) };
}

int
ds_metrics_remote_count (const char *endpoints)
{
    int remote = 0;
    for (const char *p = endpoints; p && *p; ) {
        remote += strncmp (p, "inproc://", 9) != 0;
        p = strchr (p, ',');
        p = p ? p + 1 : NULL;
    }
    return remote;
}

void
ds_mgroup_begin (ds_mgroup_t *g)
{
    if (!g)
        return;
    unsigned s = atomic_load_explicit (&g->seq, memory_order_relaxed);
    atomic_store_explicit (&g->seq, s + 1, memory_order_relaxed);
    atomic_thread_fence (memory_order_release);
}

void
ds_mgroup_end (ds_mgroup_t *g)
{
    if (!g)
        return;
    unsigned s = atomic_load_explicit (&g->seq, memory_order_relaxed);
    atomic_store_explicit (&g->seq, s + 1, memory_order_release);
}

static _Atomic uint64_t *
s_slot (ds_mgroup_t *g, int id)
{
    if (!g || id < 0 || (unsigned) id >= atomic_load_explicit (&g->n_series, memory_order_relaxed))
        return NULL;
    return &g->values [g->series [id].slot];
}

void
ds_mgroup_set (ds_mgroup_t *g, int id, double value)
{
    _Atomic uint64_t *v = s_slot (g, id);
    if (!v)
        return;
    s_type_t type = s_families [g->series [id].family].type;
    if (type == S_COUNTER)
        atomic_store_explicit (v, value > 0 ? (uint64_t) value : 0, memory_order_relaxed);
    else
    if (type == S_GAUGE)
        atomic_store_explicit (v, s_d2u (value), memory_order_relaxed);
}

void
ds_mgroup_add (ds_mgroup_t *g, int id, double delta)
{
    _Atomic uint64_t *v = s_slot (g, id);
    if (!v)
        return;
    s_type_t type = s_families [g->series [id].family].type;
    uint64_t old = atomic_load_explicit (v, memory_order_relaxed);
    if (type == S_COUNTER && delta > 0)
        atomic_store_explicit (v, old + (uint64_t) delta, memory_order_relaxed);
    else
    if (type == S_GAUGE)
        atomic_store_explicit (v, s_d2u (s_u2d (old) + delta), memory_order_relaxed);
}

void
ds_mgroup_touch (ds_mgroup_t *g, int id)
{
    _Atomic uint64_t *v = s_slot (g, id);
    if (v && s_families [g->series [id].family].type == S_AGE)
        atomic_store_explicit (v, s_d2u (s_now ()), memory_order_relaxed);
}

void
ds_mgroup_observe (ds_mgroup_t *g, int id, double value)
{
    _Atomic uint64_t *v = s_slot (g, id);
    if (!v || s_families [g->series [id].family].type != S_HISTOGRAM)
        return;
    //  Slots: S_LATENCY_N buckets (not cumulative), +Inf, sum, count.
    size_t b = 0;
    while (b < S_LATENCY_N && value > s_latency [b])
        b++;
    atomic_store_explicit (&v [b], atomic_load_explicit (&v [b], memory_order_relaxed) + 1,
                           memory_order_relaxed);
    uint64_t sum = atomic_load_explicit (&v [S_LATENCY_N + 1], memory_order_relaxed);
    atomic_store_explicit (&v [S_LATENCY_N + 1], s_d2u (s_u2d (sum) + value), memory_order_relaxed);
    uint64_t count = atomic_load_explicit (&v [S_LATENCY_N + 2], memory_order_relaxed);
    atomic_store_explicit (&v [S_LATENCY_N + 2], count + 1, memory_order_relaxed);
}

void
ds_mgroup_condition (ds_mgroup_t *g, const char *what, bool ok)
{
    if (!g || !what)
        return;
    unsigned n = atomic_load_explicit (&g->n_cond, memory_order_acquire);
    for (unsigned i = 0; i < n; i++)
        if (strcmp (g->cond [i].what, what) == 0) {
            atomic_store (&g->cond [i].ok, ok);
            return;
        }
    if (n == S_COND_MAX)
        return;
    snprintf (g->cond [n].what, sizeof g->cond [n].what, "%s", what);
    atomic_store (&g->cond [n].ok, ok);
    atomic_store_explicit (&g->n_cond, n + 1, memory_order_release);
}

int
ds_mgroup_watch (ds_mgroup_t *g, zsock_t *sock, const char *what, int expected)
{
    if (!g || !sock || expected <= 0)
        return 0;
    unsigned n = atomic_load (&g->n_watch);
    if (n == S_WATCH_MAX)
        return -1;
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "inproc://ds-metrics-watch-%u", atomic_fetch_add (&s_monitor_id, 1));
    if (zmq_socket_monitor (zsock_resolve (sock), endpoint,
                            ZMQ_EVENT_CONNECTED | ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED) == -1)
        return -1;
    //  Connected here, at once, so no event waits for a reader that is not
    //  there yet; the watch thread owns the socket from the next lines on.
    zsock_t *monitor = zsock_new_pair (NULL);
    if (!monitor || zsock_connect (monitor, "%s", endpoint) == -1) {
        zsock_destroy (&monitor);
        zmq_socket_monitor (zsock_resolve (sock), NULL, 0);
        return -1;
    }
    s_watch_t *w = &g->watch [n];
    snprintf (w->what, sizeof w->what, "%s", what);
    w->expected = expected;
    atomic_store (&w->connected, 0);
    w->monitor = monitor;
    atomic_store (&g->n_watch, n + 1);
    atomic_fetch_add (&g->owner->watch_gen, 1);     //  the watch thread looks again
    return 0;
}

void
ds_mgroup_probe (ds_mgroup_t *g, const char *what, ds_mprobe_fn *fn, void *arg)
{
    if (!g)
        return;
    snprintf (g->probe_what, sizeof g->probe_what, "%s", what);
    g->probe_arg = arg;
    atomic_store (&g->probe, fn);
}

void
ds_mgroup_fail (ds_mgroup_t *g, const char *why)
{
    if (!g)
        return;
    snprintf (g->fail, sizeof g->fail, "%s", why ? why : "failed");
    atomic_store (&g->failed, true);
}

//  --------------------------------------------------------------------------
//  Reading (the HTTP thread)

//  Copies the group's values written so far into out (n slots), retrying
//  while a write is in progress.  Returns the number of series covered.
static unsigned
s_snapshot (ds_mgroup_t *g, uint64_t *out)
{
    for (int tries = 0; ; tries++) {
        unsigned s1 = atomic_load_explicit (&g->seq, memory_order_acquire);
        unsigned n = atomic_load_explicit (&g->n_series, memory_order_acquire);
        if (!(s1 & 1)) {
            for (unsigned i = 0; i < n; i++) {
                const s_series_t *se = &g->series [i];
                unsigned slots = s_families [se->family].type == S_HISTOGRAM ? S_LATENCY_N + 3 : 1;
                for (unsigned k = 0; k < slots; k++)
                    out [se->slot + k] = atomic_load_explicit (&g->values [se->slot + k],
                                                               memory_order_relaxed);
            }
            atomic_thread_fence (memory_order_acquire);
            if (atomic_load_explicit (&g->seq, memory_order_relaxed) == s1)
                return n;
        }
        if (tries > 100)
            zclock_sleep (1);       //  a writer between begin and end: let it finish
    }
}

//  The group's readiness; appends the reasons to text (may be NULL).  A
//  probe runs only when text is wanted (/readyz); /metrics uses its last
//  answer.
static bool
s_group_ready (ds_mgroup_t *g, zchunk_t *text)
{
    bool ready = true;
    ds_mprobe_fn *probe = atomic_load (&g->probe);
    if (probe) {
        char why [512] = "";
        bool ok = text ? probe (g->probe_arg, why, sizeof why) : atomic_load (&g->probe_ok);
        atomic_store (&g->probe_ok, ok);
        ready = ok;
        if (text) {
            char line [700];
            int len = snprintf (line, sizeof line, "{%s} %s: %s\n", g->labels, g->probe_what,
                                ok ? "yes" : why [0] ? why : "no");
            zchunk_extend (text, line, (size_t) len < sizeof line ? (size_t) len : sizeof line - 1);
        }
    }
    unsigned nc = atomic_load_explicit (&g->n_cond, memory_order_acquire);
    for (unsigned i = 0; i < nc; i++) {
        bool ok = atomic_load (&g->cond [i].ok);
        ready = ready && ok;
        if (text) {
            char line [256];
            int len = snprintf (line, sizeof line, "{%s} %s: %s\n", g->labels,
                                g->cond [i].what, ok ? "yes" : "no");
            zchunk_extend (text, line, (size_t) len < sizeof line ? (size_t) len : sizeof line - 1);
        }
    }
    unsigned nw = atomic_load (&g->n_watch);
    for (unsigned i = 0; i < nw; i++) {
        int c = atomic_load (&g->watch [i].connected);
        bool ok = c >= g->watch [i].expected && !atomic_load (&g->watch [i].closed);
        ready = ready && ok;
        if (text) {
            char line [256];
            int len = snprintf (line, sizeof line, "{%s} %s: %d of %d connected\n",
                                g->labels, g->watch [i].what, c, g->watch [i].expected);
            zchunk_extend (text, line, (size_t) len < sizeof line ? (size_t) len : sizeof line - 1);
        }
    }
    return ready;
}

static void
s_value (zchunk_t *out, const char *name, const char *suffix, const char *glabels,
         const char *labels, const char *extra, const char *value)
{
    char line [640];
    int len = snprintf (line, sizeof line, "%s%s{%s%s%s%s%s} %s\n", name, suffix, glabels,
                        labels [0] ? "," : "", labels, extra [0] ? "," : "", extra, value);
    zchunk_extend (out, line, (size_t) len < sizeof line ? (size_t) len : sizeof line - 1);
}

static void
s_format_double (char *buf, size_t size, double d)
{
    if (isnan (d))
        snprintf (buf, size, "NaN");
    else
    if (isinf (d))
        snprintf (buf, size, d > 0 ? "+Inf" : "-Inf");
    else
        snprintf (buf, size, "%.17g", d);
}

char *
ds_metrics_render (ds_metrics_t *self)
{
    if (!self)
        return NULL;
    zchunk_t *out = zchunk_new (NULL, 65536);
    uint64_t *values = malloc (S_VALUES_MAX * sizeof *values);
    if (!out || !values) {
        zchunk_destroy (&out);
        free (values);
        return NULL;
    }
    pthread_mutex_lock (&self->lock);
    size_t ng = self->n_groups;
    uint64_t **snaps = calloc (ng ? ng : 1, sizeof *snaps);
    unsigned *counts = calloc (ng ? ng : 1, sizeof *counts);
    bool *ready = calloc (ng ? ng : 1, sizeof *ready);
    for (size_t i = 0; snaps && counts && ready && i < ng; i++) {
        counts [i] = s_snapshot (self->groups [i], values);
        snaps [i] = malloc (S_VALUES_MAX * sizeof **snaps);
        if (snaps [i])
            memcpy (snaps [i], values, S_VALUES_MAX * sizeof *values);
        ready [i] = s_group_ready (self->groups [i], NULL);
    }
    double now = s_now ();
    for (size_t f = 0; snaps && counts && ready && f < S_FAMILIES; f++) {
        bool header = false;
        for (size_t i = 0; i < ng; i++) {
            ds_mgroup_t *g = self->groups [i];
            for (unsigned k = 0; snaps [i] && k < counts [i]; k++) {
                const s_series_t *se = &g->series [k];
                if (se->family != f)
                    continue;
                if (!header) {
                    char head [512];
                    const char *type = s_families [f].type == S_COUNTER ? "counter"
                                     : s_families [f].type == S_HISTOGRAM ? "histogram" : "gauge";
                    int len = snprintf (head, sizeof head, "# HELP %s %s\n# TYPE %s %s\n",
                                        s_families [f].name, s_families [f].help, s_families [f].name, type);
                    zchunk_extend (out, head, (size_t) len);
                    header = true;
                }
                const uint64_t *v = snaps [i] + se->slot;
                char num [64];
                switch (s_families [f].type) {
                    case S_COUNTER:
                        snprintf (num, sizeof num, "%" PRIu64,
                                  (int) k == g->refused_id ? ds_curve_refused () : v [0]);
                        break;
                    case S_GAUGE:
                        if ((int) k == g->ready_id)
                            snprintf (num, sizeof num, "%d", ready [i] ? 1 : 0);
                        else
                            s_format_double (num, sizeof num, s_u2d (v [0]));
                        break;
                    case S_AGE:
                        snprintf (num, sizeof num, "%.3f", now - s_u2d (v [0]) < 0 ? 0 : now - s_u2d (v [0]));
                        break;
                    case S_HISTOGRAM: {
                        uint64_t cumulative = 0;
                        for (size_t b = 0; b <= S_LATENCY_N; b++) {
                            cumulative += v [b];
                            char le [48], count [32];
                            if (b < S_LATENCY_N)
                                snprintf (le, sizeof le, "le=\"%g\"", s_latency [b]);
                            else
                                snprintf (le, sizeof le, "le=\"+Inf\"");
                            snprintf (count, sizeof count, "%" PRIu64, cumulative);
                            s_value (out, s_families [f].name, "_bucket", g->labels, se->labels, le, count);
                        }
                        s_format_double (num, sizeof num, s_u2d (v [S_LATENCY_N + 1]));
                        s_value (out, s_families [f].name, "_sum", g->labels, se->labels, "", num);
                        snprintf (num, sizeof num, "%" PRIu64, v [S_LATENCY_N + 2]);
                        s_value (out, s_families [f].name, "_count", g->labels, se->labels, "", num);
                        continue;
                    }
                }
                s_value (out, s_families [f].name, "", g->labels, se->labels, "", num);
            }
        }
    }
    pthread_mutex_unlock (&self->lock);
    for (size_t i = 0; snaps && i < ng; i++)
        free (snaps [i]);
    bool ok = snaps && counts && ready;
    free (snaps);
    free (counts);
    free (ready);
    free (values);
    zchunk_extend (out, "", 1);     //  the terminating NUL
    char *text = ok ? strdup ((const char *) zchunk_data (out)) : NULL;
    zchunk_destroy (&out);
    return text;
}

static char *
s_chunk_string (zchunk_t *chunk)
{
    zchunk_extend (chunk, "", 1);
    char *text = strdup ((const char *) zchunk_data (chunk));
    zchunk_destroy (&chunk);
    return text;
}

bool
ds_metrics_ready (ds_metrics_t *self, char **text)
{
    if (text)
        *text = NULL;
    if (!self)
        return false;
    zchunk_t *chunk = zchunk_new (NULL, 1024);
    bool ready = true;
    pthread_mutex_lock (&self->lock);
    for (size_t i = 0; i < self->n_groups; i++)
        ready = s_group_ready (self->groups [i], chunk) && ready;
    pthread_mutex_unlock (&self->lock);
    if (text && chunk)
        *text = s_chunk_string (chunk);
    else
        zchunk_destroy (&chunk);
    return ready;
}

bool
ds_metrics_healthy (ds_metrics_t *self, char **text)
{
    if (text)
        *text = NULL;
    if (!self)
        return false;
    zchunk_t *chunk = zchunk_new (NULL, 1024);
    bool healthy = true;
    pthread_mutex_lock (&self->lock);
    for (size_t i = 0; i < self->n_groups; i++) {
        ds_mgroup_t *g = self->groups [i];
        bool failed = atomic_load (&g->failed);
        healthy = healthy && !failed;
        char line [512];
        int len = snprintf (line, sizeof line, "{%s}: %s\n", g->labels,
                            failed ? g->fail : "ok");
        if (chunk)
            zchunk_extend (chunk, line, (size_t) len < sizeof line ? (size_t) len : sizeof line - 1);
    }
    pthread_mutex_unlock (&self->lock);
    if (text && chunk)
        *text = s_chunk_string (chunk);
    else
        zchunk_destroy (&chunk);
    return healthy;
}
