/*  aggregator.c - the aggregator service actor; see aggregator.h. */
#include "aggregator.h"
#include "store.h"
#include "ds_proto.h"
#include "transport.h"
#include "tzday.h"
#include "log.h"
#include "signals.h"
#include <errno.h>
#include <string.h>
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

typedef struct {
    const ds_aggregator_config_t *config;
    s_cached_t cache [S_CACHE_SIZE];
    size_t cache_next;              //  slot to replace next
    ds_store_t *store;
    zsock_t *pipe, *sub, *rep;
    ds_batch_t *batch;              //  decode buffer, reused
    msgpack_sbuffer reply;          //  reply buffer, reused
    bool eos_sent;                  //  "EOS" went out on the pipe
    bool dirty;                     //  changed since the last checkpoint
    int64_t next_checkpoint;        //  zclock_mono ms
    uint64_t rejected;              //  messages that failed to decode
    uint64_t foreign;               //  batches of another shard
    uint64_t too_big;               //  requests above DS_FRAME_CONTROL_MAX
} s_agg_t;

static int
s_checkpoint (s_agg_t *self)
{
    if (!self->config->checkpoint)
        return 0;
    char err [512];
    int64_t t0 = zclock_mono ();
    if (ds_store_save (self->store, self->config->checkpoint, err, sizeof err)) {
        ds_log_error ("shard %u: %s", self->config->shard, err);
        return -1;
    }
    self->dirty = false;
    ds_log_info ("shard %u: checkpoint %s written (%" PRIu64 " records, %" PRId64 " ms)",
                 self->config->shard, self->config->checkpoint,
                 ds_store_records (self->store), zclock_mono () - t0);
    return 0;
}

static void s_cache_put (s_agg_t *self, zframe_t *request);

//  Computes the default overview partial (every day this shard saw,
//  min_packets 10) exactly as the query service will ask for it, so the
//  first overview after the end of stream comes from the cache.
static void
s_warm_cache (s_agg_t *self)
{
    int32_t first, last;
    if (!ds_store_days (self->store, &first, &last))
        return;
    ds_query_t q;
    ds_query_init (&q);
    snprintf (q.name, sizeof q.name, "partial");
    snprintf (q.part, sizeof q.part, "overview");
    ds_day_format (first, q.first_day);
    ds_day_format (last, q.last_day);
    msgpack_sbuffer req;
    msgpack_sbuffer_init (&req);
    char err [256];
    if (ds_query_encode (&q, &req) == DS_OK) {
        msgpack_sbuffer_clear (&self->reply);
        msgpack_packer pk;
        msgpack_packer_init (&pk, &self->reply, msgpack_sbuffer_write);
        ds_reply_ok_begin (&pk);
        if (ds_store_partial (self->store, &q, &pk, err, sizeof err) == 0) {
            zframe_t *frame = zframe_new (req.data, req.size);
            s_cache_put (self, frame);
            zframe_destroy (&frame);
        }
    }
    msgpack_sbuffer_destroy (&req);
}

static void
s_check_eos (s_agg_t *self)
{
    if (self->eos_sent || ds_store_eos_count (self->store) < self->config->sensors)
        return;
    s_checkpoint (self);
    ds_log_info ("shard %u: end of stream from all %u sensor(s), %" PRIu64 " records "
                 "(cpu %.2f s)", self->config->shard, self->config->sensors,
                 ds_store_records (self->store), ds_thread_cpu_seconds ());
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
        ds_log_warn ("shard %u: rejected %s (%s), %" PRIu64 " so far",
                     self->config->shard, what, ds_result_str (rc), self->rejected);
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
        rc = ds_batch_decode (data, size, self->batch);
        if (rc != DS_OK)
            s_reject (self, "labelled batch", rc);
        else
        if (self->batch->shard != self->config->shard) {
            self->foreign++;
            s_reject (self, "batch of another shard", DS_ERR_MALFORMED);
        }
        else {
            int applied = ds_store_apply (self->store, self->batch);
            if (applied < 0)
                s_reject (self, "batch (out of memory, bad seq or too many sensors)", DS_ERR_NOMEM);
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
        if (eos.shard != self->config->shard)
            s_reject (self, "end-of-stream of another shard", DS_ERR_MALFORMED);
        else {
            ds_store_eos (self->store, &eos);
            self->dirty = true;
            s_check_eos (self);
        }
    }
    else
        s_reject (self, rc == DS_OK ? "message of unexpected type" : "message", rc ? rc : DS_ERR_TYPE);
    zmq_msg_close (&topic);
    zmq_msg_close (&body);
    return true;
}

static void
s_pack_str (msgpack_packer *pk, const char *s)
{
    msgpack_pack_str_with_body (pk, s, strlen (s));
}

static void
s_pack_status (s_agg_t *self, msgpack_packer *pk)
{
    msgpack_pack_map (pk, 5);
    s_pack_str (pk, "store");
    ds_store_pack_status (self->store, pk, self->config->sensors);
    s_pack_str (pk, "rejected");
    msgpack_pack_uint64 (pk, self->rejected);
    s_pack_str (pk, "foreign");
    msgpack_pack_uint64 (pk, self->foreign);
    s_pack_str (pk, "requests_too_big");
    msgpack_pack_uint64 (pk, self->too_big);
    s_pack_str (pk, "checkpoint");
    if (self->config->checkpoint)
        s_pack_str (pk, self->config->checkpoint);
    else
        msgpack_pack_nil (pk);
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
    char err [256] = "";
    int rc = -1;
    msgpack_sbuffer_clear (&self->reply);
    int type;
    if (zmsg_size (msg) != 1 || !frame)
        snprintf (err, sizeof err, "request must be one frame");
    else
    if (ds_msg_peek (zframe_data (frame), zframe_size (frame), &type) == DS_OK
    &&  type == DS_MSG_PATTERN_REQ) {
        //  A round of the pattern query (pattern_codec.h): its partial is
        //  not cached here (the store keeps the selection's view).
        msgpack_packer pk;
        msgpack_packer_init (&pk, &self->reply, msgpack_sbuffer_write);
        ds_reply_ok_begin (&pk);
        rc = ds_store_pattern (self->store, zframe_data (frame), zframe_size (frame), &pk, err, sizeof err);
    }
    else
    if (ds_query_decode (zframe_data (frame), zframe_size (frame), &q, err, sizeof err) == DS_OK) {
        msgpack_packer pk;
        msgpack_packer_init (&pk, &self->reply, msgpack_sbuffer_write);
        bool status = strcmp (q.name, "status") == 0
                   || (strcmp (q.name, "partial") == 0 && strcmp (q.part, "status") == 0);
        if (status) {
            ds_reply_ok_begin (&pk);
            s_pack_status (self, &pk);
            rc = 0;
        }
        else
        if (strcmp (q.name, "partial") == 0) {
            ds_reply_ok_begin (&pk);
            rc = ds_store_partial (self->store, &q, &pk, err, sizeof err);
            if (rc == 0 && self->reply.size > DS_PARTIAL_MAX) {
                //  Never more than the query service takes (its REQ would
                //  drop the connection and wait out its timeout).
                snprintf (err, sizeof err, "shard %u: partial '%s' of %zu bytes exceeds the "
                          "%u MiB limit; narrow the query (fewer days, a class, a wider bin)",
                          self->config->shard, q.part, self->reply.size, DS_PARTIAL_MAX / DS_MIB);
                ds_log_warn ("%s", err);
                rc = -1;
            }
            cacheable = rc == 0 && strcmp (q.part, "range") != 0;
        }
        else
            snprintf (err, sizeof err, "shard %u answers only 'partial' and 'status', not '%s'",
                      self->config->shard, q.name);
    }
    if (rc != 0 && frame && zframe_size (frame) > DS_FRAME_CONTROL_MAX
    &&  (++self->too_big <= 5 || self->too_big % 1000 == 0))
        ds_log_warn ("shard %u: %s (%" PRIu64 " so far)", self->config->shard, err, self->too_big);
    if (rc != 0)
        ds_reply_error (&self->reply, err);
    else
    if (cacheable)
        s_cache_put (self, frame);
    zsock_send (self->rep, "b", self->reply.data, self->reply.size);
    zmsg_destroy (&msg);
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
        char err [512] = "OK";
        if (!self->config->checkpoint)
            snprintf (err, sizeof err, "no checkpoint path configured");
        else
        if (ds_store_save (self->store, self->config->checkpoint, err, sizeof err) == 0) {
            snprintf (err, sizeof err, "OK");
            self->dirty = false;
        }
        zstr_send (self->pipe, err);
    }
    else
        ds_log_warn ("shard %u: unknown pipe command '%s'", self->config->shard, command);
    zstr_free (&command);
    return more;
}

void
ds_aggregator_actor (zsock_t *pipe, void *args)
{
    ds_signals_block_thread ();
    const ds_aggregator_config_t *config = args;
    s_agg_t self = { .config = config, .pipe = pipe };
    msgpack_sbuffer_init (&self.reply);
    char endpoint [256], topic [DS_TOPIC_LEN + 1];
    const char *why = NULL;

    if (config->shards == 0 || config->shards > DS_SHARDS_MAX || config->shard >= config->shards)
        why = "shard must be below shards (and shards 1..9999)";
    else
    if (config->tz && strcmp (config->tz, ds_tz_name ()) != 0)
        why = "time zone differs from the process time zone (call ds_tz_set first)";
    if (why) {
        ds_log_error ("shard %u: cannot start: %s", config->shard, why);
        goto refuse;
    }
    //  Restore the checkpoint if there is one; refuse a bad one.
    if (config->checkpoint && access (config->checkpoint, F_OK) == 0) {
        char err [512];
        self.store = ds_store_load (config->checkpoint, config->shard, config->shards, err, sizeof err);
        if (!self.store) {
            ds_log_error ("shard %u: cannot start: %s", config->shard, err);
            goto refuse;
        }
        ds_log_info ("shard %u: restored %s (%" PRIu64 " records, %" PRIu64 " sources)",
                     config->shard, config->checkpoint, ds_store_records (self.store),
                     ds_store_sources (self.store));
    }
    else
        self.store = ds_store_new (config->shard, config->shards);
    if (self.store)
        ds_store_set_retention (self.store, config->retain_days);
    self.batch = ds_batch_new (DS_BATCH_DEFAULT_CAPACITY);
    if (!self.store || !self.batch) {
        ds_log_error ("shard %u: cannot start: out of memory", config->shard);
        goto refuse;
    }
    if (config->endpoint)
        snprintf (endpoint, sizeof endpoint, "%s", config->endpoint);
    else
        ds_aggregator_default_endpoint (config->shard, endpoint, sizeof endpoint);
    self.rep = zsock_new (ZMQ_REP);
    if (self.rep)
        ds_sock_defaults (self.rep);
    if (!self.rep || zsock_bind (self.rep, "%s", endpoint) == -1) {
        ds_log_error ("shard %u: cannot bind REP %s: %s", config->shard, endpoint,
                      zmq_strerror (zmq_errno ()));
        goto refuse;
    }
    ds_topic_format (topic, "lab", config->shard);
    char inputs [4096] = "";
    size_t used = 0;
    for (size_t i = 0; i < config->inputs.count; i++)
        used += (size_t) snprintf (inputs + used, used < sizeof inputs ? sizeof inputs - used : 0,
                                   "%s%s", i ? "," : "", config->inputs.items [i]);
    if (config->inputs.count == 0)
        snprintf (inputs, sizeof inputs, "%s", DS_AGGREGATOR_INPUT_DEFAULT);
    if (used >= sizeof inputs) {
        ds_log_error ("shard %u: cannot start: --input list too long", config->shard);
        goto refuse;
    }
    self.sub = ds_sub_new (inputs, topic);
    if (!self.sub)
        goto refuse;                //  ds_sub_new logged why

    zsock_signal (pipe, 0);
    ds_log_info ("shard %u of %u: answering on %s, subscribed to %s on %s",
                 config->shard, config->shards, zsock_endpoint (self.rep), topic, inputs);
    s_check_eos (&self);            //  a restored store may be complete already

    zpoller_t *poller = zpoller_new (pipe, self.sub, self.rep, NULL);
    int64_t interval = config->checkpoint_interval_ms;
    self.next_checkpoint = zclock_mono () + interval;
    while (true) {
        int timeout = -1;
        if (config->checkpoint && interval > 0) {
            int64_t left = self.next_checkpoint - zclock_mono ();
            timeout = left < 0 ? 0 : left > 1000 ? 1000 : (int) left;
        }
        zsock_t *which = zpoller_wait (poller, timeout);
        if (which == pipe) {
            if (!s_on_pipe (&self))
                break;
        }
        else
        if (which == self.sub) {
            //  Drain a burst of batches before looking at queries again,
            //  but not forever: queries stay responsive under load.  The
            //  burst ends at the first receive that finds nothing (no
            //  ZMQ_EVENTS round trip per message).
            for (int i = 0; i < 64 && s_on_sub (&self); i++)
                ;
        }
        else
        if (which == self.rep)
            s_on_rep (&self);
        else
        if (ds_poller_ended (poller))
            break;
        if (config->checkpoint && interval > 0 && zclock_mono () >= self.next_checkpoint) {
            if (self.dirty)
                s_checkpoint (&self);
            self.next_checkpoint = zclock_mono () + interval;
        }
    }
    zpoller_destroy (&poller);
    if (self.dirty)
        s_checkpoint (&self);
    goto cleanup;

refuse:
    //  Say so, then stay until $TERM so the pipe stays usable.
    zsock_signal (pipe, (byte) -1);
    while (true) {
        char *command = zstr_recv (pipe);
        bool term = !command || streq (command, "$TERM");
        if (command && streq (command, "ENDPOINT"))
            zstr_send (pipe, "");
        else
        if (command && streq (command, "CHECKPOINT"))
            zstr_send (pipe, "the aggregator did not start");
        zstr_free (&command);
        if (term)
            break;
    }
cleanup:
    zsock_destroy (&self.sub);
    zsock_destroy (&self.rep);
    ds_batch_destroy (&self.batch);
    ds_store_destroy (&self.store);
    msgpack_sbuffer_destroy (&self.reply);
    s_cache_free (&self);
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
