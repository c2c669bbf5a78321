/*  ingest.c - the ingest service loop; see ingest.h.

    One s_ingest_t per run: it expands and checks every input before the
    first record (a bad file name or an unsupported link type stops the run
    before anything is published), opens the output -- the sharded batch
    publisher (publish.h) or the CSV writer (csvout.h) -- then pulls records
    from one source at a time into it.  For live capture and streams (a
    pipe) the output is flushed every 100 ms.  The sensor's counters go out
    (STATS) before the first batch and every --stats-interval; records whose
    timestamp cannot be real are counted as bad_time and not published
    (DESIGN §12: one broken packet never stretches the default window; the
    bound is checked against this host's clock, which ingest reads).  This
    file owns the order of things and stopping: the actor pipe ("STOP",
    "$TERM") and the deadline that bounds the last sends after a stop.
*/
#include "ingest.h"
#include "batch.h"
#include "csvout.h"
#include "log.h"
#include "publish.h"
#include "signals.h"
#include "ds_proto.h"
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#define S_FLUSH_US        100000    //  live capture, streams: flush batches this often
#define S_PROGRESS_US     500000    //  progress line refresh (terminal)
#define S_PROGRESS_LOG_US 10000000  //  progress log line (not a terminal, or JSON)
#define S_FINAL_SEND_US   5000000   //  after a stop: give the last sends this long
#define S_BLOCK           64        //  frames read before the output takes their records
#define S_ROUNDS_CHECK    1023      //  blocks between looks at the pipe and progress
#define S_TIME_MIN_US     788918400000000LL     //  1995-01-01T00:00:00Z
#define S_TIME_AHEAD_US   86400000000LL         //  a day past this host's clock

typedef struct {
    ds_ingest_config_t cfg;
    char **files;                   //  capture files, expanded
    size_t n_files;
    char **logs;                    //  DarkVec logs, expanded
    size_t n_logs;
    ds_ingest_stats_t stats;
    ds_publish_t *pub;              //  the output: batches,
    ds_csvout_t *csv;               //  or CSV lines
    uint64_t epoch;                 //  0: files; a live capture: its start (us)
    int64_t time_max;               //  later timestamps are bad_time (us)
    int64_t next_stats;             //  zclock_usecs of the next STATS
    //  Stopping
    zsock_t *pipe;                  //  actor pipe, or NULL
    bool terminated;                //  $TERM received
    bool stop_requested;            //  STOP received: end the input
    int64_t stop_deadline;          //  once stopped: give up sending after this
    int64_t started;
    ds_mgroup_t *metrics;           //  NULL without --http
    int m_packets, m_records, m_batches, m_drops, m_non_ip, m_malformed, m_bad_lines, m_bad_time;
    int m_epoch;
    int m_unheard;                  //  batches sent while their shard had no subscriber
} s_ingest_t;

//  Creates the series of this sensor's ingest.
static void
s_metrics_new (s_ingest_t *self)
{
    char id [16];
    snprintf (id, sizeof id, "%u", self->cfg.sensor);
    ds_mgroup_t *g = self->metrics = ds_metrics_group (self->cfg.metrics, "ingest", "sensor", id, NULL);
    self->m_packets = ds_mgroup_series (g, "darkscope_packets_read_total", NULL);
    self->m_records = ds_mgroup_series (g, "darkscope_records_total", NULL);
    self->m_batches = ds_mgroup_series (g, "darkscope_batches_total", NULL);
    self->m_drops = ds_mgroup_series (g, "darkscope_drops_total", NULL);
    self->m_non_ip = ds_mgroup_series (g, "darkscope_bad_input_total", "kind", "non_ip", NULL);
    self->m_malformed = ds_mgroup_series (g, "darkscope_bad_input_total", "kind", "malformed", NULL);
    self->m_bad_lines = ds_mgroup_series (g, "darkscope_bad_input_total", "kind", "bad_line", NULL);
    self->m_bad_time = ds_mgroup_series (g, "darkscope_bad_input_total", "kind", "bad_time", NULL);
    self->m_epoch = ds_mgroup_series (g, "darkscope_sensor_epoch", NULL);
    self->m_unheard = ds_mgroup_series (g, "darkscope_unheard_batches_total", "subscriber", "none", NULL);
    ds_mgroup_condition (g, "inputs opened", false);
    ds_mgroup_condition (g, "every shard subscribed", false);
}

static void s_collect (s_ingest_t *self);

//  Publishes the counters (every S_ROUNDS_CHECK blocks and at the end).
static void
s_metrics (s_ingest_t *self)
{
    ds_mgroup_t *g = self->metrics;
    if (!g)
        return;
    s_collect (self);
    const ds_ingest_stats_t *st = &self->stats;
    ds_mgroup_begin (g);
    ds_mgroup_set (g, self->m_packets, (double) st->packets_read);
    ds_mgroup_set (g, self->m_records, (double) st->records);
    ds_mgroup_set (g, self->m_batches, (double) st->batches);
    ds_mgroup_set (g, self->m_drops, (double) st->dropped);
    ds_mgroup_set (g, self->m_non_ip, (double) st->non_ip);
    ds_mgroup_set (g, self->m_malformed, (double) (st->malformed - st->bad_lines));
    ds_mgroup_set (g, self->m_bad_lines, (double) st->bad_lines);
    ds_mgroup_set (g, self->m_bad_time, (double) st->bad_time);
    ds_mgroup_set (g, self->m_epoch, (double) self->epoch);
    ds_mgroup_set (g, self->m_unheard, (double) st->unheard);
    ds_mgroup_end (g);
}

void
ds_ingest_config_init (ds_ingest_config_t *cfg)
{
    memset (cfg, 0, sizeof *cfg);
    cfg->tz = NULL;
    cfg->shards = 1;
    cfg->endpoint = DS_INGEST_ENDPOINT;
    cfg->batch = DS_BATCH_DEFAULT_CAPACITY;
    cfg->wait_s = 30;
    cfg->output = DS_INGEST_PUBLISH;
    cfg->progress = true;
    cfg->stats_interval_ms = 5000;
}

//  Wall clock, microseconds since the Unix epoch.
static int64_t
s_wall_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

//  True for a timestamp that cannot be real (DESIGN §12).  The upper
//  bound is the clock read when the last one passed it, plus a day: the
//  clock is read again only for a timestamp past the bound.
static inline bool
s_bad_time (s_ingest_t *self, int64_t ts)
{
    if (ts >= S_TIME_MIN_US && ts <= self->time_max)
        return false;
    if (ts < S_TIME_MIN_US)
        return true;
    self->time_max = s_wall_us () + S_TIME_AHEAD_US;
    return ts > self->time_max;
}

//  Checks the actor pipe (non-blocking): "$TERM" abandons the run at once,
//  "STOP" ends the input like SIGINT does for main (what was read is sent,
//  then the EOS).
static void
s_check_pipe (s_ingest_t *self)
{
    if (!self->pipe || self->terminated)
        return;
    while (zsock_events (self->pipe) & ZMQ_POLLIN) {
        char *cmd = zstr_recv (self->pipe);
        if (!cmd || streq (cmd, "$TERM"))
            self->terminated = true;
        else
        if (streq (cmd, "STOP"))
            self->stop_requested = true;
        zstr_free (&cmd);
        if (self->terminated)
            break;
    }
}

//  True once the run must stop reading.
static bool
s_stopping (s_ingest_t *self)
{
    if (self->terminated || self->stop_requested) {
        if (!self->stop_deadline)
            self->stop_deadline = zclock_usecs () + S_FINAL_SEND_US;
        return true;
    }
    return false;
}

//  True when a blocked send must give up: $TERM, or stopped past the deadline.
static bool
s_give_up (s_ingest_t *self)
{
    s_check_pipe (self);
    return self->terminated || (s_stopping (self) && zclock_usecs () > self->stop_deadline);
}

static int
s_on_wait (void *arg)
{
    return s_give_up ((s_ingest_t *) arg) ? -1 : 0;
}

//  --wait seconds in milliseconds (< 0: without limit).
static int
s_wait_ms (int wait_s)
{
    return wait_s < 0 ? -1 : wait_s > INT_MAX / 1000 ? INT_MAX : wait_s * 1000;
}

//  The output's counters into stats; dropped is libpcap's part plus what
//  the publisher dropped itself.
static void
s_collect (s_ingest_t *self)
{
    self->stats.dropped = self->stats.pcap_dropped;
    if (self->pub) {
        ds_publish_counts_t counts = ds_publish_counts (self->pub);
        self->stats.batches = counts.batches;
        self->stats.records = counts.records;
        self->stats.dropped += counts.dropped;
        self->stats.unheard = counts.unheard;
        self->stats.unheard_eos = counts.unheard_eos;
    }
    else
    if (self->csv)
        self->stats.records = ds_csvout_records (self->csv);
}

//  Sends the sensor's counters on every stream (ds_publish_stats).
static int
s_publish_stats (s_ingest_t *self)
{
    s_collect (self);
    ds_stats_t counters = {
        .epoch = self->epoch, .sent_us = s_wall_us (),
        .packets_read = self->stats.packets_read, .non_ip = self->stats.non_ip,
        .malformed = self->stats.malformed, .bad_time = self->stats.bad_time,
        .dropped = self->stats.dropped, .pcap_dropped = self->stats.pcap_dropped
    };
    int interval = self->cfg.stats_interval_ms;
    self->next_stats = interval > 0 ? zclock_usecs () + (int64_t) interval * 1000 : INT64_MAX;
    return ds_publish_stats (self->pub, &counters);
}

//  Sends what is left and the end of stream of every shard.
static int
s_publish_end (s_ingest_t *self)
{
    if (ds_publish_flush (self->pub) != 0)
        return -1;
    s_collect (self);
    ds_eos_t counters = {
        .packets_read = self->stats.packets_read, .non_ip = self->stats.non_ip,
        .malformed = self->stats.malformed, .dropped = self->stats.dropped,
        .bad_time = self->stats.bad_time, .epoch = self->epoch
    };
    //  A complete stream lingers for slow subscribers, bounded by --wait.
    int wait_s = self->cfg.wait_s;
    return ds_publish_end (self->pub, &counters, wait_s == 0 ? 1000 : s_wait_ms (wait_s));
}

//  Waits until every shard topic is covered by a subscription (transport.h),
//  giving up on $TERM/STOP or after --wait seconds (< 0: forever).
static int
s_on_subscriber_wait (void *arg)
{
    s_ingest_t *self = (s_ingest_t *) arg;
    return s_give_up (self) || s_stopping (self) ? -1 : 0;
}

static int
s_wait_subscribers (s_ingest_t *self)
{
    int wait_s = self->cfg.wait_s;
    int rc = ds_publish_wait_subscribers (self->pub, s_wait_ms (wait_s), s_on_subscriber_wait, self);
    ds_mgroup_condition (self->metrics, "every shard subscribed", rc == 0);
    if (rc != 0 && !s_stopping (self))
        ds_log_error ("no subscriber on %s after %d s (start the labeler first, or raise --wait)",
                      self->cfg.endpoint, wait_s);
    return rc;
}

//  A block of records to the output.
static int
s_emit (s_ingest_t *self, const ds_record_t *recs, size_t count)
{
    if (self->pub)
        return ds_publish_add (self->pub, recs, count);
    for (size_t i = 0; i < count; i++)
        if (ds_csvout_write (self->csv, &recs [i]))
            return -1;
    return 0;
}

//  True if progress is a line redrawn on a terminal (stderr is one, lines
//  are text); else it is logged every S_PROGRESS_LOG_US.
static bool
s_progress_terminal (void)
{
    return isatty (STDERR_FILENO) && !ds_log_json ();
}

static void
s_progress (s_ingest_t *self, ds_source_t *source, bool final)
{
    double secs = (double) (zclock_usecs () - self->started) / 1e6;
    double rate = secs > 0 ? (double) self->stats.packets_read / secs : 0;
    uint64_t done = self->stats.bytes_done + (source ? ds_source_offset (source) : 0);
    if (!s_progress_terminal ()) {
        //  For log collectors: a line now and then, the counters as fields.
        double percent = self->stats.bytes_total > 0
                       ? 100.0 * (double) (done > self->stats.bytes_total ? self->stats.bytes_total : done)
                               / (double) self->stats.bytes_total : -1;
        ds_log_info_kv (DS_FIELDS (DS_KV ("packets_read", self->stats.packets_read),
                                   DS_KV ("records", self->stats.records), DS_KV ("batches", self->stats.batches),
                                   DS_KV ("rate", rate), DS_KV ("bytes_done", done),
                                   DS_KV ("bytes_total", self->stats.bytes_total), DS_KV ("percent", percent)),
                        "progress: %llu packets, %.0f pkt/s", (unsigned long long) self->stats.packets_read, rate);
        return;
    }
    if (self->stats.bytes_total > 0)
        fprintf (stderr, "\r%llu packets, %.0f pkt/s, %.1f%% of input%s",
                 (unsigned long long) self->stats.packets_read, rate,
                 100.0 * (double) (done > self->stats.bytes_total ? self->stats.bytes_total : done)
                       / (double) self->stats.bytes_total, final ? "\n" : "   ");
    else
        fprintf (stderr, "\r%llu packets, %.0f pkt/s%s",
                 (unsigned long long) self->stats.packets_read, rate, final ? "\n" : "   ");
}

//  Reads one source to its end (or a stop).  Returns 0, or -1 on an error
//  that must stop the run (output failed); a read error of the input is
//  logged, and the run goes on with the next input (*input_failed set).
//  The per-packet loop only fills a block of records in place; the output
//  takes the block in one call, and stopping, live flushes, counters and
//  progress are looked at once per block (at most S_BLOCK frames, or an
//  idle wait) for live capture and streams, every S_ROUNDS_CHECK + 1
//  blocks for files.
static int
s_read_source (s_ingest_t *self, ds_source_t *source, const char *name, bool *input_failed)
{
    bool live = ds_source_is_live (source);
    bool streaming = live || ds_source_is_stream (source);
    bool progress = self->cfg.progress && !streaming;
    int64_t progress_us = s_progress_terminal () ? S_PROGRESS_US : S_PROGRESS_LOG_US;
    bool check_time = self->pub != NULL;        //  the CSV keeps every record
    if (self->pub)
        ds_publish_set_live (self->pub, live);
    int64_t last_flush = zclock_usecs (), last_progress = last_flush;
    ds_record_t block [S_BLOCK];
    int rc = 0;
    for (uint32_t round = 1; !s_stopping (self); round++) {
        size_t held = 0;
        int got = DS_SOURCE_SKIP;
        for (int n = 0; n < S_BLOCK; n++) {
            got = ds_source_next (source, &block [held], &self->stats);
            if (got == DS_SOURCE_RECORD) {
                if (check_time && s_bad_time (self, block [held].ts))
                    self->stats.bad_time++;
                else
                    held++;
            }
            else
            if (got != DS_SOURCE_SKIP)
                break;
        }
        if (held > 0 && s_emit (self, block, held)) {
            rc = -1;
            break;
        }
        if (got == DS_SOURCE_END)
            break;
        if (got == DS_SOURCE_ERROR) {
            ds_log_error ("%s: read error, the rest of this input is skipped", name);
            *input_failed = true;
            break;
        }
        bool look = (round & S_ROUNDS_CHECK) == 0;
        int64_t now = streaming || look ? zclock_usecs () : 0;
        if (streaming && now - last_flush >= S_FLUSH_US) {
            last_flush = now;
            if (self->csv ? ds_csvout_flush (self->csv) : ds_publish_flush (self->pub)) {
                rc = -1;
                break;
            }
            s_check_pipe (self);
        }
        if ((streaming || look) && self->pub && now >= self->next_stats) {
            if (live)
                self->stats.pcap_dropped = ds_source_pcap_drops (source);
            if (s_publish_stats (self)) {
                rc = -1;
                break;
            }
        }
        if (look) {
            if (progress && now - last_progress >= progress_us) {
                last_progress = now;
                s_progress (self, source, false);
            }
            s_check_pipe (self);
            s_metrics (self);
        }
    }
    if (live)
        self->stats.pcap_dropped = ds_source_pcap_drops (source);
    if (self->pub)
        ds_publish_set_live (self->pub, false);
    return rc;
}

static void
s_destroy (s_ingest_t **self_p)
{
    s_ingest_t *self = *self_p;
    if (!self)
        return;
    ds_publish_destroy (&self->pub);
    ds_csvout_destroy (&self->csv);
    ds_paths_free (&self->files, self->n_files);
    ds_paths_free (&self->logs, self->n_logs);
    free (self);
    *self_p = NULL;
}

//  Adds the size of each file to bytes_total (progress).
static void
s_count_bytes (s_ingest_t *self, char **paths, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (stat (paths [i], &st) == 0)
            self->stats.bytes_total += (uint64_t) st.st_size;
    }
}

//  Checks the config, expands and opens every input once (so a bad file
//  fails before anything is published), binds or opens the output.
static s_ingest_t *
s_new (const ds_ingest_config_t *cfg, zsock_t *pipe)
{
    s_ingest_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->cfg = *cfg;
    self->pipe = pipe;
    char sensor_id [16];
    snprintf (sensor_id, sizeof sensor_id, "%u", cfg->sensor);
    ds_log_thread ("ingest", "sensor", sensor_id);
    s_metrics_new (self);
    if (!self->cfg.endpoint)
        self->cfg.endpoint = DS_INGEST_ENDPOINT;
    if (!self->cfg.batch)
        self->cfg.batch = DS_BATCH_DEFAULT_CAPACITY;
    if (self->cfg.shards < 1 || self->cfg.shards > DS_SHARDS_MAX) {
        ds_log_error ("--shards must be 1..%d, got %u", DS_SHARDS_MAX, self->cfg.shards);
        goto fail;
    }
    if (self->cfg.batch > DS_BATCH_MAX_CAPACITY) {
        ds_log_error ("--batch must be 1..%d, got %u", DS_BATCH_MAX_CAPACITY, self->cfg.batch);
        goto fail;
    }
    if (self->cfg.n_pcaps + self->cfg.n_logs == 0 && !self->cfg.iface) {
        ds_log_error ("no input: give --pcap, --darkvec-log or --iface (see --help)");
        goto fail;
    }
    char err [512];
    if (ds_paths_expand (cfg->pcaps, cfg->n_pcaps, &self->files, &self->n_files, err, sizeof err)
    ||  ds_paths_expand (cfg->logs, cfg->n_logs, &self->logs, &self->n_logs, err, sizeof err)) {
        ds_log_error ("%s", err);
        goto fail;
    }
    for (size_t i = 0; i < self->n_files + self->n_logs; i++) {
        bool is_log = i >= self->n_files;
        const char *path = is_log ? self->logs [i - self->n_files] : self->files [i];
        struct stat st;
        if (!is_log && (strcmp (path, "-") == 0 || (stat (path, &st) == 0 && S_ISFIFO (st.st_mode))))
            continue;               //  a pipe can be read once only
        ds_source_t *source = is_log ? ds_source_open_darkvec (path, err, sizeof err)
                                     : ds_source_open_file (path, err, sizeof err);
        if (!source) {
            ds_log_error ("%s", err);
            goto fail;
        }
        ds_source_destroy (&source);
    }
    s_count_bytes (self, self->files, self->n_files);
    s_count_bytes (self, self->logs, self->n_logs);
    ds_mgroup_condition (self->metrics, "inputs opened", true);

    if (self->cfg.output == DS_INGEST_CSV) {
        self->csv = ds_csvout_new (self->cfg.out, self->cfg.csv_extra, self->cfg.tz);
        if (!self->csv)
            goto fail;
        return self;
    }
    self->pub = ds_publish_new (self->cfg.endpoint, self->cfg.shards, self->cfg.sensor,
                                self->cfg.batch);
    if (!self->pub)
        goto fail;
    ds_publish_set_watch (self->pub, pipe, s_on_wait, self);
    if (self->cfg.label && ds_publish_set_label (self->pub, "lab", self->cfg.label,
                                                 self->cfg.label_arg) != 0) {
        ds_log_error ("out of memory");
        goto fail;
    }
    if (cfg->bound && cfg->bound_size)
        snprintf (cfg->bound, cfg->bound_size, "%s", ds_publish_endpoint (self->pub));
    return self;
fail:
    s_destroy (&self);
    return NULL;
}

//  The run proper: wait for subscribers, read every input, flush, EOS.
static int
s_execute (s_ingest_t *self)
{
    self->started = zclock_usecs ();
    //  A live capture's epoch is its start, so a restarted capture's seqs
    //  (from 0 again) are not taken for a replay; so is a pipe's (what
    //  comes through it cannot be replayed as it was).  Files have epoch 0:
    //  a replay of the same files is one.
    bool live = self->cfg.iface != NULL;
    for (size_t i = 0; i < self->n_files && !live; i++) {
        struct stat st;
        live = strcmp (self->files [i], "-") == 0
            || (stat (self->files [i], &st) == 0 && S_ISFIFO (st.st_mode));
    }
    self->epoch = live ? (uint64_t) s_wall_us () : 0;
    self->time_max = s_wall_us () + S_TIME_AHEAD_US;
    if (self->pub && self->cfg.wait_s != 0 && s_wait_subscribers (self))
        return -1;
    if (self->pub && s_publish_stats (self))
        return -1;
    bool input_failed = false;
    int rc = 0;
    char err [512];
    size_t n_inputs = self->n_files + self->n_logs + (self->cfg.iface ? 1 : 0);
    for (size_t i = 0; i < n_inputs && rc == 0 && !s_stopping (self); i++) {
        ds_source_t *source;
        const char *name;
        if (i < self->n_files) {
            name = self->files [i];
            source = ds_source_open_file (name, err, sizeof err);
        }
        else
        if (i < self->n_files + self->n_logs) {
            name = self->logs [i - self->n_files];
            source = ds_source_open_darkvec (name, err, sizeof err);
        }
        else {
            name = self->cfg.iface;
            source = ds_source_open_live (name, self->cfg.bpf, err, sizeof err);
            if (source)
                ds_log_info ("capturing on %s%s%s", name, self->cfg.bpf ? ", filter " : "",
                             self->cfg.bpf ? self->cfg.bpf : "");
        }
        if (!source) {
            ds_log_error ("%s", err);
            input_failed = true;
            continue;
        }
        rc = s_read_source (self, source, name, &input_failed);
        self->stats.bytes_done += ds_source_offset (source);
        s_metrics (self);
        //  A stop is the normal end of a live capture; during a file it
        //  means inputs were not read to their end: say so, exit non-zero.
        if (s_stopping (self) && !ds_source_is_live (source)) {
            ds_log_warn ("interrupted in %s: the inputs were not all read", name);
            input_failed = true;
        }
        ds_source_destroy (&source);
    }
    if (self->cfg.progress && s_progress_terminal () && self->stats.bytes_total > 0)
        s_progress (self, NULL, true);
    if (self->terminated)
        return -1;
    if (self->csv) {
        if (ds_csvout_close (self->csv) != 0)
            rc = -1;
    }
    else
    if (rc == 0)
        rc = s_publish_end (self);
    s_collect (self);
    //  Batches or ends of stream that went to nobody are lost for the
    //  shards concerned: the run did not deliver its input, say so.
    if (self->stats.unheard || self->stats.unheard_eos) {
        ds_log_error ("%" PRIu64 " batches and %" PRIu64 " ends of stream were sent while "
                      "their shard had no subscriber: lost (replay this sensor's input "
                      "once the subscribers are back)", self->stats.unheard,
                      self->stats.unheard_eos);
        rc = -1;
    }
    s_metrics (self);
    return rc == 0 && !input_failed ? 0 : -1;
}

void
ds_ingest_stats_log (const ds_ingest_stats_t *stats, double seconds)
{
    char links [256] = "";
    size_t n = 0;
    for (int i = 0; i < ds_link_count () && n < sizeof links; i++)
        if (stats->link [i])
            n += (size_t) snprintf (links + n, sizeof links - n, "%s%s %llu", n ? ", " : "",
                                    ds_link_name (i), (unsigned long long) stats->link [i]);
    double rate = seconds > 0 ? (double) stats->packets_read / seconds : 0.0;
    ds_log_info_kv (DS_FIELDS (DS_KV ("packets_read", stats->packets_read), DS_KV ("records", stats->records),
                               DS_KV ("batches", stats->batches), DS_KV ("non_ip", stats->non_ip),
                               DS_KV ("malformed", stats->malformed), DS_KV ("bad_lines", stats->bad_lines),
                               DS_KV ("bad_time", stats->bad_time), DS_KV ("dropped", stats->dropped),
                               DS_KV ("pcap_dropped", stats->pcap_dropped), DS_KV ("seconds", seconds),
                               DS_KV ("rate", rate), DS_KV ("cpu_s", ds_thread_cpu_seconds ()),
                               DS_KV ("links", (const char *) links)),
                    "%llu packets read in %.2f s (%.0f/s)", (unsigned long long) stats->packets_read,
                    seconds, rate);
}

int
ds_ingest_run (const ds_ingest_config_t *cfg, ds_ingest_stats_t *stats)
{
    s_ingest_t *self = s_new (cfg, NULL);
    if (!self)
        return -1;
    int rc = s_execute (self);
    ds_ingest_stats_log (&self->stats, (double) (zclock_usecs () - self->started) / 1e6);
    if (stats)
        *stats = self->stats;
    s_destroy (&self);
    return rc;
}

//  Waits for the actor's "$TERM" (or the pipe's end).
static void
s_wait_term (zsock_t *pipe)
{
    while (true) {
        char *command = zstr_recv (pipe);
        bool term = !command || streq (command, "$TERM");
        zstr_free (&command);
        if (term)
            break;
    }
}

void
ds_ingest_actor (zsock_t *pipe, void *config)
{
    ds_signals_block_thread ();
    s_ingest_t *self = s_new ((const ds_ingest_config_t *) config, pipe);
    if (!self) {
        //  Could not start (logged): say so the way a failed run does, so a
        //  caller waiting for DONE/FAILED is not left waiting.
        zsock_signal (pipe, (byte) -1);
        zstr_send (pipe, "FAILED");
        s_wait_term (pipe);
        return;
    }
    zsock_signal (pipe, 0);
    int rc = s_execute (self);
    ds_ingest_stats_log (&self->stats, (double) (zclock_usecs () - self->started) / 1e6);
    if (!self->terminated) {
        zstr_send (pipe, rc == 0 ? "DONE" : "FAILED");
        s_wait_term (pipe);
    }
    s_destroy (&self);
}
