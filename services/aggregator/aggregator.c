/*  aggregator.c - the aggregator service actor; see aggregator.h. */
#include "aggregator.h"
#include "store.h"
#include "snapshot.h"
#include "actor.h"
#include "aggmetrics.h"
#include "ds_proto.h"
#include "transport.h"
#include "alloc.h"
#include "tz.h"
#include "log.h"
#include "curve.h"
#include "signals.h"
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void
ds_aggregator_config_init (ds_aggregator_config_t *config)
{
    memset (config, 0, sizeof *config);
    config->shards = 1;
    config->sensors = 1;
    config->checkpoint_interval_ms = 60000;
}

void
ds_aggregator_default_endpoint (uint32_t shard, char *buf, size_t size)
{
    snprintf (buf, size, "tcp://127.0.0.1:%u", DS_AGGREGATOR_PORT_BASE + shard);
}

//  Recent partial answers, reused while the store has not changed (a
//  finished run answers a report's repeated overview partials at once).
#define S_CACHE_SIZE 4
typedef struct {
    uint64_t generation;
    zframe_t *request;              //  the request bytes (NULL: empty slot)
    msgpack_sbuffer reply;
} s_cached_t;

//  Checkpoints (snapshot.h): written by a forked child while the data
//  path goes on; what status shows of them.
typedef struct {
    ds_snapshot_t *running;         //  being written, or NULL
    bool final;                     //  the final one was written (FINAL)
    uint64_t written, failed;
    int64_t last_ok;                //  wall clock us of the last one written, 0: none
    bool last_failed;               //  the latest attempt failed
    char error [512];               //  its reason ("" if it did not fail)
    int64_t last_pause_us, max_pause_us, last_duration_us;
} s_ckpt_t;

typedef struct {
    //  A copy of the caller's config, taken before the start handshake:
    //  after it the caller's config (and the strings it points to) may go
    //  away (a test that fails an assertion leaves its frame while the
    //  actor runs on).  Only tz stays borrowed.
    ds_aggregator_config_t config;
    char *checkpoint;               //  owned copy of config.checkpoint, or NULL
    s_cached_t cache [S_CACHE_SIZE];
    size_t cache_next;              //  slot to replace next
    ds_store_t *store;
    zsock_t *pipe, *sub, *rep;
    ds_batch_t *batch;              //  decode buffer, reused
    msgpack_sbuffer reply;          //  reply buffer, reused
    msgpack_sbuffer partial;        //  a partial being encoded, reused
    bool eos_sent;                  //  "EOS" went out on the pipe
    bool dirty;                     //  changed since the last checkpoint began
    int64_t next_checkpoint;        //  zclock_mono ms
    s_ckpt_t ckpt;                  //  checkpoints: the one being written, results
    uint64_t rejected;              //  messages that failed to decode
    uint64_t foreign;               //  batches of another shard
    uint64_t too_big;               //  requests above DS_FRAME_CONTROL_MAX
    uint64_t replays;               //  batches ignored as applied before
    ds_aggmetrics_t *metrics;       //  NULL without --http
    ds_store_gaplog_t gaps;         //  the sensors' gaps when last logged
} s_agg_t;

//  Wall clock, microseconds since the Unix epoch.
static int64_t
s_wall_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

//  Records how a checkpoint ended (DS_SNAPSHOT_DONE or FAILED, why).
static void
s_checkpoint_ended (s_agg_t *self, int result, const char *why, int64_t pause_us,
                    int64_t duration_us)
{
    s_ckpt_t *c = &self->ckpt;
    c->last_pause_us = pause_us;
    c->max_pause_us = pause_us > c->max_pause_us ? pause_us : c->max_pause_us;
    c->last_duration_us = duration_us;
    c->last_failed = result != DS_SNAPSHOT_DONE;
    snprintf (c->error, sizeof c->error, "%s", c->last_failed ? why : "");
    if (c->last_failed) {
        c->failed++;
        ds_aggmetrics_checkpoint (self->metrics, false);
        self->dirty = true;         //  try again at the next occasion
        ds_log_error_kv (DS_FIELDS (DS_KV ("path", self->config.checkpoint), DS_KV ("failed", c->failed)),
                         "shard %u: checkpoint failed: %s", self->config.shard, why);
        return;
    }
    c->written++;
    ds_aggmetrics_checkpoint (self->metrics, true);
    c->last_ok = s_wall_us ();
    ds_log_info_kv (DS_FIELDS (DS_KV ("path", self->config.checkpoint),
                               DS_KV ("records", ds_store_records (self->store)),
                               DS_KV ("ms", (double) duration_us / 1000),
                               DS_KV ("pause_ms", (double) pause_us / 1000),
                               DS_KV ("written", c->written)),
                    "shard %u: checkpoint written", self->config.shard);
}

//  Takes the result of the checkpoint being written, if it has ended
//  (waiting for it with wait).  True if none is being written now.
static bool
s_checkpoint_poll (s_agg_t *self, bool wait)
{
    ds_snapshot_t *running = self->ckpt.running;
    if (!running)
        return true;
    int rc = ds_snapshot_poll (running, wait);
    if (rc == DS_SNAPSHOT_RUNNING)
        return false;
    s_checkpoint_ended (self, rc, ds_snapshot_error (running), ds_snapshot_pause_us (running),
                        ds_snapshot_duration_us (running));
    ds_snapshot_destroy (&self->ckpt.running);
    return true;
}

//  Starts writing a checkpoint in a child process (one at a time: while
//  one is written, the next waits for the next occasion).  With wait,
//  waits for it and returns its result: 0 written, -1 failed.
static int
s_checkpoint (s_agg_t *self, bool wait)
{
    if (!self->config.checkpoint)
        return 0;
    if (!s_checkpoint_poll (self, wait))
        return 0;
    char err [512];
    self->ckpt.running = ds_snapshot_start (self->store, self->config.checkpoint, err, sizeof err);
    if (!self->ckpt.running) {
        s_checkpoint_ended (self, DS_SNAPSHOT_FAILED, err, 0, 0);
        return -1;
    }
    self->dirty = false;            //  changes from now on are the next one's
    if (!wait)
        return 0;
    s_checkpoint_poll (self, true);
    return self->ckpt.last_failed ? -1 : 0;
}

//  The final checkpoint (FINAL, or $TERM without one): waits for the one
//  being written, then writes what changed since (or what failed).
//  0, or -1 if the state on disk is not the current one.
static int
s_checkpoint_final (s_agg_t *self)
{
    if (!self->config.checkpoint || self->ckpt.final)
        return self->ckpt.final && self->ckpt.last_failed ? -1 : 0;
    s_checkpoint_poll (self, true);
    int rc = self->dirty ? s_checkpoint (self, true) : self->ckpt.last_failed ? -1 : 0;
    self->ckpt.final = true;
    return rc;
}

static void s_cache_put (s_agg_t *self, zframe_t *request);

static int s_answer_partial (s_agg_t *self, const ds_part_req_t *req, char *err, size_t err_size);

//  Computes the default overview partial (every day this shard saw,
//  min_packets 10) exactly as the query service will ask for it, so the
//  first overview after the end of stream comes from the cache.
static void
s_warm_cache (s_agg_t *self)
{
    ds_query_t defaults;
    ds_query_init (&defaults);
    ds_part_req_t req = { .kind = DS_PART_OVERVIEW, .min_packets = (uint64_t) defaults.min_packets };
    if (!ds_store_days (self->store, &req.first_day, &req.last_day))
        return;
    msgpack_sbuffer bytes;
    msgpack_sbuffer_init (&bytes);
    char err [256];
    if (ds_part_req_encode (&req, &bytes) == DS_OK && s_answer_partial (self, &req, err, sizeof err) == 0) {
        zframe_t *frame = zframe_new (bytes.data, bytes.size);
        s_cache_put (self, frame);
        zframe_destroy (&frame);
    }
    msgpack_sbuffer_destroy (&bytes);
}

//  Logs the gaps (batches announced but never received) that grew since
//  last looked at, one line per sensor (the first DS_STORE_GAPLOG_MAX
//  sensors); quiet: only takes the counts (a restored checkpoint's).
//  Looked at when a sensor's counters or end of stream arrive: that is
//  when announced batches that are missing count, and seq jumps are seen
//  by then too.
static void
s_check_gaps (s_agg_t *self, bool quiet)
{
    ds_store_stream_t s;
    uint64_t logged;
    for (uint32_t next = 0; ds_store_gaps_grown (self->store, &self->gaps, &next, &s, &logged); )
        if (!quiet)
            ds_log_warn_kv (DS_FIELDS (DS_KV ("sensor", s.sensor), DS_KV ("new_gaps", s.gaps - logged),
                                       DS_KV ("gaps", s.gaps), DS_KV ("epoch", s.epoch)),
                            "shard %u: batches of sensor %u never arrived (gaps; a replay of its "
                            "input may still fill them)", self->config.shard, s.sensor);
}

static void
s_check_eos (s_agg_t *self)
{
    if (self->eos_sent || ds_store_eos_count (self->store) < self->config.sensors)
        return;
    if (self->dirty)                //  not a store restored complete, as it was saved
        s_checkpoint (self, false);
    ds_log_info_kv (DS_FIELDS (DS_KV ("sensors", self->config.sensors),
                               DS_KV ("records", ds_store_records (self->store)),
                               DS_KV ("cpu_s", ds_thread_cpu_seconds ())),
                    "shard %u: end of stream from all sensors", self->config.shard);
    zstr_send (self->pipe, "EOS");
    self->eos_sent = true;
    s_warm_cache (self);
}

static void
s_reject (s_agg_t *self, const char *what, int rc)
{
    //  One line for the first few, then every 1000th: loss is never silent,
    //  logs are not flooded.
    self->rejected++;
    if (self->rejected <= 5 || self->rejected % 1000 == 0)
        ds_log_warn_kv (DS_FIELDS (DS_KV ("what", what), DS_KV ("reason", ds_result_str (rc)),
                                   DS_KV ("rejected", self->rejected)),
                        "shard %u: rejected %s (%s)", self->config.shard, what, ds_result_str (rc));
}

//  Receives and applies one message from the SUB socket without waiting.
//  Returns false when none was queued.  Frames are read as zmq_msg_t
//  (no zmsg/zframe allocations); a message that is not [topic][payload]
//  is rejected whole.
static bool
s_on_sub (s_agg_t *self)
{
    void *handle = zsock_resolve (self->sub);
    zmq_msg_t topic, body;
    zmq_msg_init (&topic);
    zmq_msg_init (&body);
    if (zmq_msg_recv (&topic, handle, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (&topic);
        zmq_msg_close (&body);
        return false;
    }
    bool framed = false;
    if (zmq_msg_more (&topic) && zmq_msg_recv (&body, handle, 0) >= 0) {
        framed = !zmq_msg_more (&body);
        while (zmq_msg_more (&body) && zmq_msg_recv (&body, handle, 0) >= 0)
            ;                       //  more than two frames: read to the end
    }
    if (!framed) {
        s_reject (self, "message without [topic][payload]", DS_ERR_MALFORMED);
        zmq_msg_close (&topic);
        zmq_msg_close (&body);
        return true;
    }
    const uint8_t *data = zmq_msg_data (&body);
    size_t size = zmq_msg_size (&body);
    int type;
    int rc = ds_msg_peek (data, size, &type);
    if (rc == DS_OK && type == DS_MSG_LABELLED) {
        //  Decoded as a view: an inproc batch's columns are read where
        //  they lie in the message (body lives until the end of this call).
        ds_batch_t view;
        rc = ds_batch_decode_view (data, size, self->batch, &view);
        if (rc != DS_OK)
            s_reject (self, "labelled batch", rc);
        else
        if (self->batch->shard != self->config.shard) {
            self->foreign++;
            s_reject (self, "batch of another shard", DS_ERR_MALFORMED);
        }
        else {
            int applied = ds_store_apply (self->store, &view);
            if (applied < 0)
                s_reject (self, "batch (out of memory, bad seq or too many sensors)", DS_ERR_NOMEM);
            else
            if (applied == 0 && self->replays++ % 100000 == 0)
                //  Right for a replay; silent loss for new data sent under
                //  a sensor whose stream the store (its checkpoint) holds.
                ds_log_warn ("shard %u: batch %" PRIu64 " of sensor %u was applied before: ignored as "
                             "a replay (%" PRIu64 " so far). New data under a sensor whose stream "
                             "this shard already holds is ignored too: give it its own --sensor, "
                             "or start from a new checkpoint directory",
                             self->config.shard, self->batch->seq, self->batch->sensor,
                             self->replays);
            self->dirty |= applied != 0;
        }
    }
    else
    if (rc == DS_OK && type == DS_MSG_EOS) {
        ds_eos_t eos;
        rc = ds_eos_decode (data, size, &eos);
        if (rc != DS_OK)
            s_reject (self, "end-of-stream", rc);
        else
        if (eos.shard != self->config.shard)
            s_reject (self, "end-of-stream of another shard", DS_ERR_MALFORMED);
        else {
            //  The labeler announces every end of stream again when it
            //  restarts: one that changes nothing does not call for
            //  rewriting the checkpoint (~300 MB a shard at the month).
            bool changed = ds_store_eos_changes (self->store, &eos);
            self->dirty |= changed;
            s_check_gaps (self, false);
            s_check_eos (self);
        }
    }
    else
    if (rc == DS_OK && type == DS_MSG_STATS) {
        ds_stats_t stats;
        rc = ds_stats_decode (data, size, &stats);
        if (rc != DS_OK)
            s_reject (self, "sensor counters", rc);
        else
        if (stats.shard != self->config.shard)
            s_reject (self, "sensor counters of another shard", DS_ERR_MALFORMED);
        else
        if (ds_store_stats (self->store, &stats, s_wall_us ()) < 0)
            s_reject (self, "sensor counters (too many sensors)", DS_ERR_NOMEM);
        else {
            self->dirty = true;
            s_check_gaps (self, false);
        }
    }
    else
        s_reject (self, rc == DS_OK ? "message of unexpected type" : "message", rc ? rc : DS_ERR_TYPE);
    zmq_msg_close (&topic);
    zmq_msg_close (&body);
    return true;
}

//  The shard's status: the store's, and this service's counters.
static int
s_status (s_agg_t *self, ds_part_status_t *status)
{
    if (ds_store_status (self->store, self->config.sensors, status))
        return -1;
    status->rejected = self->rejected;
    status->foreign = self->foreign;
    status->requests_too_big = self->too_big;
    status->refused_connections = ds_curve_refused ();
    snprintf (status->checkpoint, sizeof status->checkpoint, "%s",
              self->config.checkpoint ? self->config.checkpoint : "");
    const s_ckpt_t *c = &self->ckpt;
    status->ckpt = (ds_part_ckpt_t) {
        .running = c->running != NULL, .last_failed = c->last_failed, .written = c->written,
        .failed = c->failed, .last_ok_us = c->last_ok, .last_pause_us = (uint64_t) c->last_pause_us,
        .max_pause_us = (uint64_t) c->max_pause_us, .last_duration_us = (uint64_t) c->last_duration_us
    };
    snprintf (status->ckpt.error, sizeof status->ckpt.error, "%s", c->error);
    status->now_us = s_wall_us ();
    return 0;
}

//  Answers a partial request into self->reply: {"v":1,"ok":true,"result":
//  BIN} with the partial's bytes in BIN.  0, or -1 with a reason in err.
static int
s_answer_partial (s_agg_t *self, const ds_part_req_t *req, char *err, size_t err_size)
{
    int rc;
    if (req->kind == DS_PART_STATUS) {
        ds_part_status_t status;
        rc = s_status (self, &status) == 0 && ds_part_status_encode (&status, &self->partial) == DS_OK
           ? 0 : -1;
        if (rc)
            snprintf (err, err_size, "shard %u: cannot encode its status", self->config.shard);
        ds_part_status_clear (&status);
    }
    else
        rc = ds_store_partial (self->store, req, &self->partial, err, err_size);
    if (rc == 0 && self->partial.size > DS_PARTIAL_MAX) {
        //  Never more than the query service takes (its REQ would drop the
        //  connection and wait out its timeout).
        static const char *const kinds [] = { "", "range", "overview", "ppsrc", "status" };
        snprintf (err, err_size, "shard %u: %s partial of %zu bytes exceeds the %u MiB limit; "
                  "narrow the query (fewer days)", self->config.shard, kinds [req->kind],
                  self->partial.size, DS_PARTIAL_MAX / DS_MIB);
        ds_log_warn ("%s", err);
        rc = -1;
    }
    if (rc == 0) {
        msgpack_sbuffer_clear (&self->reply);
        msgpack_packer pk;
        msgpack_packer_init (&pk, &self->reply, msgpack_sbuffer_write);
        ds_reply_ok_begin (&pk);
        msgpack_pack_bin (&pk, self->partial.size);
        msgpack_pack_bin_body (&pk, self->partial.data, self->partial.size);
    }
    return rc;
}

static s_cached_t *
s_cache_find (s_agg_t *self, zframe_t *request)
{
    uint64_t generation = ds_store_generation (self->store);
    for (size_t i = 0; i < S_CACHE_SIZE; i++)
        if (self->cache [i].request && self->cache [i].generation == generation
        &&  zframe_eq (self->cache [i].request, request))
            return &self->cache [i];
    return NULL;
}

static void
s_cache_put (s_agg_t *self, zframe_t *request)
{
    s_cached_t *c = &self->cache [self->cache_next];
    self->cache_next = (self->cache_next + 1) % S_CACHE_SIZE;
    zframe_destroy (&c->request);
    msgpack_sbuffer_destroy (&c->reply);
    c->request = zframe_dup (request);
    c->generation = ds_store_generation (self->store);
    msgpack_sbuffer_init (&c->reply);
    msgpack_sbuffer_write (&c->reply, self->reply.data, self->reply.size);
}

static void
s_cache_free (s_agg_t *self)
{
    for (size_t i = 0; i < S_CACHE_SIZE; i++) {
        zframe_destroy (&self->cache [i].request);
        msgpack_sbuffer_destroy (&self->cache [i].reply);
    }
}

static void
s_on_rep (s_agg_t *self)
{
    zmsg_t *msg = zmsg_recv (self->rep);
    if (!msg)
        return;
    zframe_t *frame = zmsg_first (msg);
    s_cached_t *hit = frame && zmsg_size (msg) == 1 ? s_cache_find (self, frame) : NULL;
    if (hit) {
        zsock_send (self->rep, "b", hit->reply.data, hit->reply.size);
        zmsg_destroy (&msg);
        return;
    }
    bool cacheable = false;
    ds_query_t q;
    ds_part_req_t req;
    char err [256] = "";
    int rc = -1, type = 0;
    bool dsk = frame && ds_msg_peek (zframe_data (frame), zframe_size (frame), &type) == DS_OK;
    msgpack_sbuffer_clear (&self->reply);
    if (zmsg_size (msg) != 1 || !frame)
        snprintf (err, sizeof err, "request must be one frame");
    else
    if (dsk && type == DS_MSG_PATTERN_REQ) {
        //  A round of the pattern query (pattern_codec.h): its partial is
        //  not cached here (the store keeps the selection's view).
        msgpack_packer pk;
        msgpack_packer_init (&pk, &self->reply, msgpack_sbuffer_write);
        ds_reply_ok_begin (&pk);
        rc = ds_store_pattern (self->store, zframe_data (frame), zframe_size (frame), &pk, err, sizeof err);
    }
    else
    if (dsk) {
        //  Any other DSK message: a partial request of the query service.
        char why [200];
        int drc = ds_part_req_decode (zframe_data (frame), zframe_size (frame), &req, why, sizeof why);
        if (drc != DS_OK)
            snprintf (err, sizeof err, "shard %u: bad partial request: %s: %s", self->config.shard,
                      ds_result_str (drc), why);
        else {
            rc = s_answer_partial (self, &req, err, sizeof err);
            cacheable = rc == 0 && (req.kind == DS_PART_OVERVIEW || req.kind == DS_PART_PPSRC);
        }
    }
    else
    if (ds_query_decode (zframe_data (frame), zframe_size (frame), &q, err, sizeof err) == DS_OK) {
        msgpack_packer pk;
        msgpack_packer_init (&pk, &self->reply, msgpack_sbuffer_write);
        ds_part_status_t status;
        if (strcmp (q.name, "status") == 0) {
            rc = s_status (self, &status);
            if (rc == 0) {
                ds_reply_ok_begin (&pk);
                ds_part_status_pack_map (&status, &pk);
            }
            else
                snprintf (err, sizeof err, "shard %u: out of memory", self->config.shard);
            ds_part_status_clear (&status);
        }
        else
            snprintf (err, sizeof err, "shard %u answers only 'status' and the query service's "
                      "partial and pattern requests (DSK), not '%s'", self->config.shard, q.name);
    }
    if (rc != 0 && frame && zframe_size (frame) > DS_FRAME_CONTROL_MAX
    &&  (++self->too_big <= 5 || self->too_big % 1000 == 0))
        ds_log_warn ("shard %u: %s (%" PRIu64 " so far)", self->config.shard, err, self->too_big);
    if (rc != 0)
        ds_reply_error (&self->reply, err);
    else
    if (cacheable)
        s_cache_put (self, frame);
    zsock_send (self->rep, "b", self->reply.data, self->reply.size);
    zmsg_destroy (&msg);
    //  An overview, pair or pattern partial built large temporaries (now
    //  freed): their pages go back, once the answer is out (a trim is up
    //  to a few ms the query service would otherwise wait for).
    if (rc == 0 && (cacheable || (dsk && type == DS_MSG_PATTERN_REQ)))
        ds_malloc_release ();
}

//  Returns false when the actor must stop.
static bool
s_on_pipe (s_agg_t *self)
{
    char *command = zstr_recv (self->pipe);
    if (!command)
        return false;
    bool more = true;
    if (streq (command, "$TERM"))
        more = false;
    else
    if (streq (command, "ENDPOINT"))
        zstr_send (self->pipe, zsock_endpoint (self->rep));
    else
    if (streq (command, "CHECKPOINT")) {
        if (!self->config.checkpoint)
            zstr_send (self->pipe, "no checkpoint path configured");
        else {
            s_checkpoint_poll (self, true);
            zstr_send (self->pipe, s_checkpoint (self, true) == 0 ? "OK" : self->ckpt.error);
        }
    }
    else
    if (streq (command, "FINAL"))
        zstr_send (self->pipe, s_checkpoint_final (self) == 0 ? "OK" : self->ckpt.error);
    else
        ds_log_warn ("shard %u: unknown pipe command '%s'", self->config.shard, command);
    zstr_free (&command);
    return more;
}

//  The store: checks the config, restores the checkpoint if there is one
//  (a bad one is refused).  0, or -1 after logging why.
static int
s_start_store (s_agg_t *self)
{
    const ds_aggregator_config_t *config = &self->config;
    const char *why = NULL;
    if (self->config.checkpoint && !(self->checkpoint = strdup (self->config.checkpoint)))
        why = "out of memory";
    self->config.checkpoint = self->checkpoint;
    if (!why && (config->shards == 0 || config->shards > DS_SHARDS_MAX || config->shard >= config->shards))
        why = "shard must be below shards (and shards 1.." DS_SHARDS_MAX_TEXT ")";
    if (why) {
        ds_log_error ("shard %u: cannot start: %s", config->shard, why);
        return -1;
    }
    if (config->checkpoint && access (config->checkpoint, F_OK) == 0) {
        char err [512];
        self->store = ds_store_load (config->checkpoint, config->shard, config->shards, config->tz,
                                     err, sizeof err);
        if (!self->store) {
            ds_log_error ("shard %u: cannot start: %s", config->shard, err);
            return -1;
        }
        ds_log_info_kv (DS_FIELDS (DS_KV ("path", config->checkpoint),
                                   DS_KV ("records", ds_store_records (self->store)),
                                   DS_KV ("sources", ds_store_sources (self->store))),
                        "shard %u: restored %s", config->shard, config->checkpoint);
    }
    else
        self->store = ds_store_new (config->shard, config->shards, config->tz);
    int32_t first [2] = { 0, 0 }, last [2] = { 0, 0 };
    if (self->store)
        ds_store_days (self->store, &first [0], &last [0]);
    if (self->store && ds_store_set_retention (self->store, config->retain_days) != 0) {
        ds_log_error ("shard %u: cannot start: out of memory evicting days beyond --retain-days %u",
                      config->shard, config->retain_days);
        return -1;
    }
    //  A restored store that --retain-days cut differs from its checkpoint.
    if (self->store)
        ds_store_days (self->store, &first [1], &last [1]);
    self->dirty = first [0] != first [1] || last [0] != last [1];
    if (self->store)
        ds_store_set_sensors_expected (self->store, config->sensors);
    if (self->store && config->no_patterns && !config->checkpoint)
        ds_store_set_patterns (self->store, false);
    self->batch = ds_batch_new (DS_BATCH_DEFAULT_CAPACITY);
    if (!self->store || !self->batch) {
        ds_log_error ("shard %u: cannot start: out of memory", config->shard);
        return -1;
    }
    s_check_gaps (self, true);      //  a checkpoint's gaps were logged before it
    return 0;
}

//  The REP for the query service and the SUB to the shard's topic on every
//  input (their list written into inputs).  0, or -1 after logging why.
static int
s_start_sockets (s_agg_t *self, char *inputs, size_t size)
{
    const ds_aggregator_config_t *config = &self->config;
    char endpoint [256], topic [DS_TOPIC_LEN + 1];
    if (config->endpoint)
        snprintf (endpoint, sizeof endpoint, "%s", config->endpoint);
    else
        ds_aggregator_default_endpoint (config->shard, endpoint, sizeof endpoint);
    self->rep = zsock_new (ZMQ_REP);
    if (self->rep)
        ds_sock_defaults (self->rep);
    if (!self->rep || ds_curve_bind (self->rep, endpoint) == -1) {
        ds_log_error ("shard %u: cannot bind REP %s", config->shard, endpoint);
        return -1;
    }
    ds_topic_format (topic, "lab", config->shard);
    size_t used = 0;
    inputs [0] = 0;
    for (size_t i = 0; i < config->inputs.count; i++)
        used += (size_t) snprintf (inputs + used, used < size ? size - used : 0,
                                   "%s%s", i ? "," : "", config->inputs.items [i]);
    if (config->inputs.count == 0)
        snprintf (inputs, size, "%s", DS_AGGREGATOR_INPUT_DEFAULT);
    if (used >= size) {
        ds_log_error ("shard %u: cannot start: --input list too long", config->shard);
        return -1;
    }
    self->sub = ds_sub_new (NULL, topic);
    if (self->sub)
        ds_sock_inproc_hwm (self->sub, inputs);
    //  The readiness watch sees the connections only if it starts first.
    ds_aggmetrics_started (self->metrics, self->sub, inputs);
    return self->sub && ds_sub_connect (self->sub, inputs) == 0 ? 0 : -1;     //  logged why
}

//  Serves batches, queries and pipe commands until $TERM (or the end of
//  the context); checkpoints every interval when something changed.
static void
s_serve (s_agg_t *self)
{
    const ds_aggregator_config_t *config = &self->config;
    //  zpoller_wait names only the first ready socket of this list: the
    //  REP comes before the SUB, or a stream that always has a batch
    //  waiting would starve every query until it paused.
    zpoller_t *poller = zpoller_new (self->pipe, self->rep, self->sub, NULL);
    int64_t interval = config->checkpoint_interval_ms;
    self->next_checkpoint = zclock_mono () + interval;
    while (true) {
        int timeout = -1;
        if (config->checkpoint && interval > 0) {
            int64_t left = self->next_checkpoint - zclock_mono ();
            timeout = left < 0 ? 0 : left > 1000 ? 1000 : (int) left;
        }
        if (self->ckpt.running && (timeout < 0 || timeout > 50))
            timeout = 50;               //  look for the writer's end
        zsock_t *which = zpoller_wait (poller, timeout);
        if (which == self->pipe) {
            if (!s_on_pipe (self))
                break;
        }
        else
        if (which == self->sub) {
            //  Drain a burst of batches before looking at queries again,
            //  but not forever: queries stay responsive under load.  The
            //  burst ends at the first receive that finds nothing (no
            //  ZMQ_EVENTS round trip per message).
            int burst = 0;
            while (burst < 64 && s_on_sub (self))
                burst++;
            ds_aggmetrics_update (self->metrics, self->store, self->rejected, burst);
        }
        else
        if (which == self->rep)
            s_on_rep (self);
        else
        if (ds_poller_ended (poller))
            break;
        s_checkpoint_poll (self, false);
        if (config->checkpoint && interval > 0 && zclock_mono () >= self->next_checkpoint) {
            if (self->dirty)
                s_checkpoint (self, false);
            self->next_checkpoint = zclock_mono () + interval;
        }
    }
    zpoller_destroy (&poller);
}

void
ds_aggregator_actor (zsock_t *pipe, void *args)
{
    ds_signals_block_thread ();
    s_agg_t self = { .config = *(const ds_aggregator_config_t *) args, .pipe = pipe };
    char shard_id [16];
    snprintf (shard_id, sizeof shard_id, "%u", self.config.shard);
    ds_log_thread ("aggregator", "shard", shard_id);
    self.metrics = ds_aggmetrics_new (self.config.metrics, self.config.shard);
    msgpack_sbuffer_init (&self.reply);
    msgpack_sbuffer_init (&self.partial);
    char inputs [4096];
    if (s_start_store (&self) == 0 && s_start_sockets (&self, inputs, sizeof inputs) == 0) {
        //  From here on nothing of the caller's config is read (see s_agg_t).
        self.config.endpoint = NULL;
        self.config.inputs.count = 0;
        ds_aggmetrics_update (self.metrics, self.store, 0, -1);
        zsock_signal (pipe, 0);
        char topic [DS_TOPIC_LEN + 1];
        ds_topic_format (topic, "lab", self.config.shard);
        ds_log_info ("shard %u of %u: answering on %s, subscribed to %s on %s",
                     self.config.shard, self.config.shards, zsock_endpoint (self.rep), topic, inputs);
        s_check_eos (&self);        //  a restored store may be complete already
        s_serve (&self);
        s_checkpoint_final (&self);
    }
    else {
        static const ds_actor_answer_t answers [] = {
            { "ENDPOINT", "", 1 },
            { "CHECKPOINT", "the aggregator did not start", 1 },
            { "FINAL", "the aggregator did not start", 1 },
            { NULL, NULL, 0 }
        };
        ds_actor_refused (pipe, answers);
    }
    ds_snapshot_destroy (&self.ckpt.running);
    zsock_destroy (&self.sub);
    zsock_destroy (&self.rep);
    ds_batch_destroy (&self.batch);
    ds_store_destroy (&self.store);
    msgpack_sbuffer_destroy (&self.reply);
    msgpack_sbuffer_destroy (&self.partial);
    s_cache_free (&self);
    free (self.checkpoint);
    ds_aggmetrics_destroy (&self.metrics);
}

int
ds_aggregator_final (zactor_t *actor, char *err, size_t err_size)
{
    snprintf (err, err_size, "the aggregator does not answer");
    if (!actor || zstr_send (actor, "FINAL"))
        return -1;
    zpoller_t *poller = zpoller_new (actor, NULL);
    int rc = -1;
    while (poller) {
        //  No time limit: a big store takes its time; a signal is no answer.
        if (!zpoller_wait (poller, 1000)) {
            if (ds_poller_ended (poller))
                break;
            continue;
        }
        char *reply = zstr_recv (actor);
        if (!reply)
            break;
        bool answer = !streq (reply, "EOS");    //  an earlier event, not the answer
        if (answer) {
            rc = streq (reply, "OK") ? 0 : -1;
            snprintf (err, err_size, "%s", rc == 0 ? "" : reply);
        }
        zstr_free (&reply);
        if (answer)
            break;
    }
    zpoller_destroy (&poller);
    return rc;
}

int
ds_aggregator_endpoint (zactor_t *actor, char *buf, size_t size, bool *eos)
{
    buf [0] = 0;
    if (eos)
        *eos = false;
    if (!actor || zstr_send (actor, "ENDPOINT"))
        return -1;
    zpoller_t *poller = zpoller_new (actor, NULL);
    while (poller && zpoller_wait (poller, 30000)) {
        char *reply = zstr_recv (actor);
        bool was_eos = reply && streq (reply, "EOS");
        if (!was_eos)
            snprintf (buf, size, "%s", reply ? reply : "");
        else
        if (eos)
            *eos = true;
        zstr_free (&reply);
        if (!was_eos)
            break;
    }
    zpoller_destroy (&poller);
    return buf [0] ? 0 : -1;
}
