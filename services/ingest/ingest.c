/*  ingest.c - the ingest service loop; see ingest.h.

    One ds_ingest_t per run: it expands and checks every input before the
    first record (a bad file name or an unsupported link type stops the run
    before anything is published), binds the output, then pulls records from
    one source at a time into one batch per shard (allocated once, reused).
    A batch is flushed when full, at the end of input, and for live capture
    every 100 ms; its encoded bytes go to zmq without a copy.  At the
    high-water mark a send sleeps until the subscriber makes room
    (ds_send_msg2, transport.h: woken by the reader, no polling interval)
    while watching the actor pipe, so a file run never drops a batch.
*/
#include "ingest.h"
#include "batch.h"
#include "civil.h"
#include "log.h"
#include "tzday.h"
#include "transport.h"
#include "ds_proto.h"
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#define S_FLUSH_US        100000    //  live capture: flush batches this often
#define S_PROGRESS_US     500000    //  progress line refresh
#define S_FINAL_SEND_US   5000000   //  after a stop: give the last sends this long

typedef struct {
    ds_ingest_config_t cfg;
    char **files;                   //  capture files, expanded
    size_t n_files;
    char **logs;                    //  DarkVec logs, expanded
    size_t n_logs;
    ds_ingest_stats_t stats;
    //  Publishing
    zsock_t *pub;
    void *pub_raw;                  //  zsock_resolve (pub)
    ds_batch_t **batches;           //  one per shard
    uint64_t *seq;                  //  next seq per shard
    uint64_t *records;              //  records sent per shard
    char (*topics) [DS_TOPIC_LEN + 1];
    msgpack_sbuffer sbuf;
    bool live;                      //  reading the interface now: never block
    //  CSV
    FILE *csv;
    const char *csv_name;
    char *csv_buf;
    int64_t csv_sec;                //  second whose text is cached in csv_ts
    char csv_ts [32];
    //  Stopping
    volatile int *stop;
    zsock_t *pipe;                  //  actor pipe, or NULL
    bool terminated;                //  $TERM received
    bool stop_requested;            //  STOP received: end the input
    int64_t stop_deadline;          //  once stopped: give up sending after this
    int64_t started;
    bool completed;                 //  every EOS queued: deliver before closing
    uint64_t v4_fnv;                //  FNV-1a state after the ::ffff: prefix
} s_ingest_t;

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
    if (self->terminated || self->stop_requested || (self->stop && *self->stop)) {
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

//  Sends [topic][sbuf], the encoded bytes handed to zmq without a copy
//  (sbuf starts a new buffer).  Files never drop: at the high-water mark
//  ds_send_part sleeps until the subscriber makes room (watching the actor
//  pipe for $TERM/STOP).  Live capture: a message that cannot be queued at
//  once is dropped (returns 1, caller counts).
static int
s_send_message (s_ingest_t *self, uint32_t shard)
{
    zmq_msg_t topic, body;
    zsock_t *watch [] = { self->pipe, NULL };
    size_t size = self->sbuf.size;
    void *data = msgpack_sbuffer_release (&self->sbuf);
    if (zmq_msg_init_size (&topic, DS_TOPIC_LEN)) {
        free (data);
        return -1;
    }
    memcpy (zmq_msg_data (&topic), self->topics [shard], DS_TOPIC_LEN);
    if (ds_msg_init_owned (&body, data, size)) {
        free (data);
        zmq_msg_close (&topic);
        return -1;
    }
    if (self->live) {
        if (zmq_msg_send (&topic, self->pub_raw, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
            int busy = errno == EAGAIN || errno == EINTR;
            zmq_msg_close (&topic);
            zmq_msg_close (&body);
            return busy ? 1 : -1;
        }
        //  The first frame is queued: the message must be completed.
        return ds_send_part (self->pub, &body, false, watch, s_on_wait, self);
    }
    return ds_send_msg2 (self->pub, &topic, &body, watch, s_on_wait, self);
}

//  Publishes the batch of one shard if it holds records.
static int
s_flush (s_ingest_t *self, uint32_t shard)
{
    ds_batch_t *batch = self->batches [shard];
    if (batch->count == 0)
        return 0;
    batch->sensor = self->cfg.sensor;
    batch->shard = shard;
    batch->seq = self->seq [shard];
    msgpack_sbuffer_clear (&self->sbuf);
    int rc = ds_batch_encode (batch, &self->sbuf);
    if (rc != 0) {
        ds_log_error ("cannot encode a batch: %s", ds_result_str (rc));
        return -1;
    }
    rc = s_send_message (self, shard);
    if (rc < 0)
        return -1;
    if (rc == 1)
        self->stats.dropped += batch->count;    //  live overload: own drop
    else {
        self->seq [shard]++;
        self->records [shard] += batch->count;
        self->stats.batches++;
        self->stats.records += batch->count;
    }
    ds_batch_reset (batch);
    s_check_pipe (self);
    return 0;
}

static int
s_flush_all (s_ingest_t *self)
{
    for (uint32_t shard = 0; shard < self->cfg.shards; shard++)
        if (s_flush (self, shard))
            return -1;
    return 0;
}

static int
s_send_eos (s_ingest_t *self)
{
    for (uint32_t shard = 0; shard < self->cfg.shards; shard++) {
        ds_eos_t eos = {
            .sensor = self->cfg.sensor, .shard = shard,
            .batches = self->seq [shard], .records = self->records [shard],
            .packets_read = self->stats.packets_read, .non_ip = self->stats.non_ip,
            .malformed = self->stats.malformed, .dropped = self->stats.dropped
        };
        msgpack_sbuffer_clear (&self->sbuf);
        int rc = ds_eos_encode (&eos, &self->sbuf);
        if (rc != 0) {
            ds_log_error ("cannot encode EOS: %s", ds_result_str (rc));
            return -1;
        }
        bool live = self->live;
        self->live = false;                     //  EOS is never dropped
        rc = s_send_message (self, shard);
        self->live = live;
        if (rc != 0) {
            ds_log_error ("EOS for shard %u not sent", shard);
            return -1;
        }
    }
    return 0;
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
    int timeout_ms = wait_s < 0 ? -1 : wait_s > INT_MAX / 1000 ? INT_MAX : wait_s * 1000;
    int rc = ds_xpub_wait_subscribers_fn (self->pub, "pkt", self->cfg.shards, timeout_ms,
                                          s_on_subscriber_wait, self);
    if (rc != 0 && !s_stopping (self))
        ds_log_error ("no subscriber on %s after %d s (start the labeler first, or raise --wait)",
                      self->cfg.endpoint, wait_s);
    return rc;
}

//  CSV: one line per record, timestamps via a cached per-second prefix.
static int
s_csv_write (s_ingest_t *self, const ds_record_t *rec)
{
    int64_t sec = ds_civil_floor_div (rec->ts, DS_US_PER_S);
    if (sec != self->csv_sec) {
        ds_ts_format (sec * 1000000, self->csv_ts);
        self->csv_ts [19] = 0;                  //  "YYYY-MM-DD HH:MM:SS"
        self->csv_sec = sec;
    }
    char ip [64], pp [32], line [256];
    ds_addr_format (&rec->src, ip, sizeof ip);
    ds_pp_format (pp, sizeof pp, rec->port, rec->proto);
    char port [8] = "-";
    if (rec->port != DS_PORT_NONE)
        snprintf (port, sizeof port, "%d", (int) rec->port);
    int n = snprintf (line, sizeof line, "%s.%06d,%s,%s,%s,%s", self->csv_ts,
                      (int) (rec->ts - sec * 1000000), ip, port, ds_proto_name (rec->proto), pp);
    if (self->cfg.csv_extra)
        n += snprintf (line + n, sizeof line - (size_t) n, ",%d,%lld",
                       (rec->flags & DS_FLAG_MIRAI) ? 1 : 0, (long long) rec->ts);
    line [n++] = '\n';
    if (fwrite (line, 1, (size_t) n, self->csv) != (size_t) n) {
        ds_log_error ("cannot write %s: %s", self->csv_name, strerror (errno));
        return -1;
    }
    self->stats.records++;
    return 0;
}

//  ds_addr_shard (record.c) for IPv4-mapped sources, with the FNV-1a state
//  after the constant ::ffff: prefix computed once (v4_fnv): 4 steps
//  instead of 16 on the per-packet path, and no division for 2^k shards.  Same result, bit for bit
//  (test_ingest_pipeline checks every record against ds_addr_shard).
static uint32_t
s_shard (const s_ingest_t *self, const ds_addr_t *addr)
{
    if (!ds_addr_is_v4 (addr))
        return ds_addr_shard (addr, self->cfg.shards);
    uint64_t h = self->v4_fnv;
    for (int i = 12; i < 16; i++) {
        h ^= addr->b [i];
        h *= 0x100000001b3ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    //  A 64-bit division costs more than the rest of the packet's path:
    //  a power-of-two shard count (2, the default, 4, ...) is a mask.
    uint32_t shards = self->cfg.shards;
    if ((shards & (shards - 1)) == 0)
        return (uint32_t) (h & (shards - 1));
    return (uint32_t) (h % shards);
}

static int
s_emit (s_ingest_t *self, const ds_record_t *rec)
{
    if (self->csv)
        return s_csv_write (self, rec);
    uint32_t shard = self->cfg.shards > 1 ? s_shard (self, &rec->src) : 0;
    ds_batch_t *batch = self->batches [shard];
    //  ds_batch_add, inlined: this is the per-packet path.
    uint32_t i = batch->count++;
    batch->ts [i] = rec->ts;
    batch->src [i] = rec->src;
    batch->port [i] = rec->port;
    batch->proto [i] = rec->proto;
    batch->flags [i] = rec->flags;
    if (batch->count == batch->capacity)
        return s_flush (self, shard);
    return 0;
}

static void
s_progress (s_ingest_t *self, ds_source_t *source, bool final)
{
    double secs = (double) (zclock_usecs () - self->started) / 1e6;
    double rate = secs > 0 ? (double) self->stats.packets_read / secs : 0;
    uint64_t done = self->stats.bytes_done + (source ? ds_source_offset (source) : 0);
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
static int
s_read_source (s_ingest_t *self, ds_source_t *source, const char *name, bool *input_failed)
{
    bool live = ds_source_is_live (source);
    bool progress = self->cfg.progress && !live && isatty (STDERR_FILENO);
    self->live = live && !self->csv;
    int64_t last_flush = zclock_usecs (), last_progress = last_flush;
    uint32_t tick = 0;
    ds_record_t rec;
    int rc = 0;
    while (!s_stopping (self)) {
        int got = ds_source_next (source, &rec, &self->stats);
        if (got == DS_SOURCE_RECORD) {
            if (s_emit (self, &rec)) {
                rc = -1;
                break;
            }
        }
        else
        if (got == DS_SOURCE_END)
            break;
        else
        if (got == DS_SOURCE_ERROR) {
            ds_log_error ("%s: read error, the rest of this input is skipped", name);
            *input_failed = true;
            break;
        }
        tick++;
        if (live && (got == DS_SOURCE_IDLE || (tick & 63) == 0)) {
            int64_t now = zclock_usecs ();
            if (now - last_flush >= S_FLUSH_US) {
                last_flush = now;
                if (self->csv ? fflush (self->csv) != 0 : s_flush_all (self) != 0) {
                    if (self->csv)
                        ds_log_error ("cannot write %s: %s", self->csv_name, strerror (errno));
                    rc = -1;
                    break;
                }
                uint64_t pcap_drops = ds_source_pcap_drops (source);
                self->stats.dropped += pcap_drops - self->stats.pcap_dropped;
                self->stats.pcap_dropped = pcap_drops;
                s_check_pipe (self);
            }
        }
        if ((tick & 0xffff) == 0) {
            int64_t now = zclock_usecs ();
            if (progress && now - last_progress >= S_PROGRESS_US) {
                last_progress = now;
                s_progress (self, source, false);
            }
            s_check_pipe (self);
        }
    }
    if (live) {
        uint64_t pcap_drops = ds_source_pcap_drops (source);
        self->stats.dropped += pcap_drops - self->stats.pcap_dropped;
        self->stats.pcap_dropped = pcap_drops;
    }
    self->live = false;
    return rc;
}

static void
s_destroy (s_ingest_t **self_p)
{
    s_ingest_t *self = *self_p;
    if (!self)
        return;
    if (self->batches)
        for (uint32_t i = 0; i < self->cfg.shards; i++)
            ds_batch_destroy (&self->batches [i]);
    free (self->batches);
    free (self->seq);
    free (self->records);
    free (self->topics);
    msgpack_sbuffer_destroy (&self->sbuf);
    if (self->pub && self->completed && !self->terminated) {
        //  Linger 0 everywhere (DESIGN §1) would discard the tail of the
        //  stream still queued for slow subscribers, EOS included, when a
        //  file run exits: the stricter rule is "files lose nothing".  So a
        //  completed stream lingers, bounded by --wait (never for a run that
        //  was interrupted or told to $TERM before it finished).
        int wait_s = self->cfg.wait_s;
        zsock_set_linger (self->pub, wait_s < 0 ? -1 : wait_s == 0 ? 1000 : wait_s * 1000);
    }
    zsock_destroy (&self->pub);
    if (self->csv && self->csv != stdout)
        fclose (self->csv);
    free (self->csv_buf);
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
s_new (const ds_ingest_config_t *cfg)
{
    s_ingest_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->cfg = *cfg;
    msgpack_sbuffer_init (&self->sbuf);
    static const uint8_t v4_prefix [12] = { 0,0,0,0, 0,0,0,0, 0,0,0xff,0xff };
    self->v4_fnv = 0xcbf29ce484222325ULL;
    for (int i = 0; i < 12; i++) {
        self->v4_fnv ^= v4_prefix [i];
        self->v4_fnv *= 0x100000001b3ULL;
    }
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
    if (self->cfg.tz && strcmp (self->cfg.tz, ds_tz_name ()) != 0
    &&  ds_tz_set (self->cfg.tz) != 0) {
        ds_log_error ("unknown time zone '%s' (a TZ database name, e.g. UTC, Europe/Rome)",
                      self->cfg.tz);
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
        if (!is_log && strcmp (path, "-") == 0)
            continue;               //  standard input can be opened once only
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

    if (self->cfg.output == DS_INGEST_CSV) {
        bool to_stdout = !self->cfg.out || streq (self->cfg.out, "-");
        self->csv_name = to_stdout ? "standard output" : self->cfg.out;
        self->csv = to_stdout ? stdout : fopen (self->cfg.out, "w");
        if (!self->csv) {
            ds_log_error ("cannot create %s: %s", self->cfg.out, strerror (errno));
            goto fail;
        }
        self->csv_buf = malloc (1 << 20);
        if (self->csv_buf)
            setvbuf (self->csv, self->csv_buf, _IOFBF, 1 << 20);
        self->csv_sec = INT64_MIN;
        return self;
    }
    uint32_t shards = self->cfg.shards;
    self->batches = calloc (shards, sizeof *self->batches);
    self->seq = calloc (shards, sizeof *self->seq);
    self->records = calloc (shards, sizeof *self->records);
    self->topics = calloc (shards, sizeof *self->topics);
    if (!self->batches || !self->seq || !self->records || !self->topics)
        goto fail;
    for (uint32_t i = 0; i < shards; i++) {
        self->batches [i] = ds_batch_new (self->cfg.batch);
        if (!self->batches [i])
            goto fail;
        ds_topic_format (self->topics [i], "pkt", i);
    }
    self->pub = zsock_new (ZMQ_XPUB);
    if (!self->pub) {
        ds_log_error ("cannot create the XPUB socket: %s", zmq_strerror (errno));
        goto fail;
    }
    self->pub_raw = zsock_resolve (self->pub);
    ds_sock_defaults (self->pub);               //  linger 0, DS_SOCK_HWM
    zsock_set_xpub_nodrop (self->pub, 1);
    if (zsock_bind (self->pub, "%s", self->cfg.endpoint) < 0) {
        ds_log_error ("cannot bind %s: %s", self->cfg.endpoint, zmq_strerror (errno));
        goto fail;
    }
    if (cfg->bound && cfg->bound_size)
        snprintf (cfg->bound, cfg->bound_size, "%s", zsock_endpoint (self->pub));
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
    if (self->pub && self->cfg.wait_s != 0 && s_wait_subscribers (self))
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
        //  A stop is the normal end of a live capture; during a file it
        //  means inputs were not read to their end: say so, exit non-zero.
        if (s_stopping (self) && !ds_source_is_live (source)) {
            ds_log_warn ("interrupted in %s: the inputs were not all read", name);
            input_failed = true;
        }
        ds_source_destroy (&source);
    }
    if (self->cfg.progress && isatty (STDERR_FILENO) && self->stats.bytes_total > 0)
        s_progress (self, NULL, true);
    if (self->terminated)
        return -1;
    if (self->csv) {
        if (rc == 0 && (fflush (self->csv) != 0 || ferror (self->csv))) {
            ds_log_error ("cannot write %s: %s", self->csv_name, strerror (errno));
            rc = -1;
        }
        if (self->csv != stdout) {
            if (fclose (self->csv) != 0 && rc == 0) {
                ds_log_error ("cannot write %s: %s", self->csv_name, strerror (errno));
                rc = -1;
            }
            self->csv = NULL;
        }
    }
    else
    if (rc == 0) {
        rc = s_flush_all (self) == 0 && s_send_eos (self) == 0 ? 0 : -1;
        self->completed = rc == 0;
    }
    return rc == 0 && !input_failed ? 0 : -1;
}

static void
s_write_csv_header (s_ingest_t *self)
{
    if (self->csv)
        fprintf (self->csv, "ts,ip,port,proto,pp%s\n", self->cfg.csv_extra ? ",mirai,ts_us" : "");
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
    ds_log_info ("%llu packets read%s%s%s in %.2f s (%.0f/s, cpu %.2f s): %llu records, "
                 "%llu batches, non-IP %llu, malformed %llu (bad log lines %llu), dropped %llu "
                 "(libpcap %llu)",
                 (unsigned long long) stats->packets_read, n ? " (" : "", links, n ? ")" : "",
                 seconds, seconds > 0 ? (double) stats->packets_read / seconds : 0.0,
                 ds_thread_cpu_seconds (), (unsigned long long) stats->records, (unsigned long long) stats->batches,
                 (unsigned long long) stats->non_ip, (unsigned long long) stats->malformed,
                 (unsigned long long) stats->bad_lines, (unsigned long long) stats->dropped,
                 (unsigned long long) stats->pcap_dropped);
}

int
ds_ingest_run (const ds_ingest_config_t *cfg, ds_ingest_stats_t *stats, volatile int *stop)
{
    s_ingest_t *self = s_new (cfg);
    if (!self)
        return -1;
    self->stop = stop;
    s_write_csv_header (self);
    int rc = s_execute (self);
    ds_ingest_stats_log (&self->stats, (double) (zclock_usecs () - self->started) / 1e6);
    if (stats)
        *stats = self->stats;
    s_destroy (&self);
    return rc;
}

void
ds_ingest_actor (zsock_t *pipe, void *config)
{
    s_ingest_t *self = s_new ((const ds_ingest_config_t *) config);
    if (!self) {
        //  Could not start (logged): say so the way a failed run does, so a
        //  caller waiting for DONE/FAILED is not left waiting.
        zsock_signal (pipe, (byte) -1);
        zstr_send (pipe, "FAILED");
        while (true) {
            char *command = zstr_recv (pipe);
            bool term = !command || streq (command, "$TERM");
            free (command);
            if (term)
                break;
        }
        return;
    }
    self->pipe = pipe;
    zsock_signal (pipe, 0);
    s_write_csv_header (self);
    int rc = s_execute (self);
    ds_ingest_stats_log (&self->stats, (double) (zclock_usecs () - self->started) / 1e6);
    if (!self->terminated) {
        zstr_send (pipe, rc == 0 ? "DONE" : "FAILED");
        while (true) {
            char *cmd = zstr_recv (pipe);
            bool term = !cmd || streq (cmd, "$TERM");
            zstr_free (&cmd);
            if (term)
                break;
        }
    }
    s_destroy (&self);
}
