/*  embed.c - the embedding service actor; see embed.h.

    One thread owns the sockets and the corpus; training runs in a worker
    thread that takes the corpus over, so status queries are answered and
    late batches drained (the labeler publishes without dropping: a reader
    that stopped reading would stall it) while the model is built.
*/
#include "embed.h"
#include "corpus.h"
#include "model.h"
#include "ds_proto.h"
#include "transport.h"
#include "actor.h"
#include "log.h"
#include "curve.h"
#include "signals.h"
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

void
ds_embed_config_init (ds_embed_config_t *config)
{
    memset (config, 0, sizeof *config);
    config->shards = 1;
    config->sensors = 1;
    config->min_count = 10;
    config->k = 7;
    ds_w2v_params_defaults (&config->w2v);
}

typedef enum { S_COLLECTING, S_TRAINING, S_READY, S_FAILED } s_state_t;
static const char *s_state_names [] = { "collecting", "training", "ready", "failed" };

typedef struct {
    uint32_t sensor, shard;
    uint64_t next_seq;
    bool ended;
} s_stream_t;

typedef struct {
    const ds_embed_config_t *config;    //  &own once started
    //  The actor's own copy of its config, taken before the start handshake
    //  (the caller's may go then: it writes files at the end of training,
    //  long after); only tz stays borrowed.
    ds_embed_config_t own;
    char *paths [3];                //  owned copies of the three output paths
    zsock_t *pipe, *sub, *rep;
    ds_batch_t *batch;
    ds_corpus_t *corpus;            //  while collecting
    ds_model_t *model;              //  once ready
    s_state_t state;
    char error [256];               //  why training failed
    s_stream_t *streams;
    size_t n_streams, cap_streams;
    uint32_t ended;                 //  streams with their end of stream
    uint64_t batches, gaps, rejected, late;
    msgpack_sbuffer reply;
    //  The worker thread and what it hands back.
    pthread_t worker;
    bool worker_running;
    ds_corpus_t *handed;            //  the corpus given to the worker
    ds_model_t *built;
    char built_error [256];
    atomic_int worker_done;
    volatile int stop;
    volatile double progress;
} s_embed_t;

static s_stream_t *
s_stream (s_embed_t *self, uint32_t sensor, uint32_t shard)
{
    for (size_t i = 0; i < self->n_streams; i++)
        if (self->streams [i].sensor == sensor && self->streams [i].shard == shard)
            return &self->streams [i];
    if (self->n_streams == self->cap_streams) {
        size_t cap = self->cap_streams ? 2 * self->cap_streams : 16;
        s_stream_t *grown = realloc (self->streams, cap * sizeof *grown);
        if (!grown)
            return NULL;
        self->streams = grown;
        self->cap_streams = cap;
    }
    s_stream_t *s = &self->streams [self->n_streams++];
    *s = (s_stream_t) { .sensor = sensor, .shard = shard };
    return s;
}

static void
s_reject (s_embed_t *self, const char *what, int rc)
{
    self->rejected++;
    if (self->rejected <= 5 || self->rejected % 1000 == 0)
        ds_log_warn ("embed: rejected %s (%s), %" PRIu64 " so far", what, ds_result_str (rc), self->rejected);
}

static void *
s_worker (void *arg)
{
    s_embed_t *self = arg;
    ds_log_thread ("embed", NULL, NULL);    //  its per-epoch lines are the embed service's
    const ds_embed_config_t *c = self->config;
    ds_model_params_t params = { .w2v = c->w2v, .min_count = c->min_count, .k = c->k,
                                 .corpus_out = c->corpus_out, .model_out = c->model_out,
                                 .classes_out = c->classes_out };
    self->built = ds_model_build (&self->handed, &params, &self->stop, &self->progress,
                                  self->built_error, sizeof self->built_error);
    atomic_store (&self->worker_done, 1);
    return NULL;
}

static void
s_start_training (s_embed_t *self, const char *why)
{
    if (self->state != S_COLLECTING)
        return;
    ds_log_info ("embed: %s: training on %" PRIu64 " packets from %u sources "
                 "(V %d, C %d, %d epochs, min_count %u, %d threads)", why,
                 ds_corpus_packets (self->corpus), ds_corpus_sources (self->corpus),
                 self->config->w2v.dim, self->config->w2v.window, self->config->w2v.epochs,
                 self->config->min_count, self->config->w2v.threads);
    self->handed = self->corpus;
    self->corpus = NULL;
    self->state = S_TRAINING;
    if (pthread_create (&self->worker, NULL, s_worker, self) != 0) {
        snprintf (self->error, sizeof self->error, "cannot start the training thread");
        ds_corpus_destroy (&self->handed);
        self->state = S_FAILED;
        zstr_send (self->pipe, "FAILED");
        return;
    }
    self->worker_running = true;
}

static void
s_check_worker (s_embed_t *self)
{
    if (!self->worker_running || !atomic_load (&self->worker_done))
        return;
    pthread_join (self->worker, NULL);
    self->worker_running = false;
    ds_corpus_destroy (&self->handed);
    self->model = self->built;
    self->built = NULL;
    if (!self->model) {
        snprintf (self->error, sizeof self->error, "%s", self->built_error);
        self->state = S_FAILED;
        ds_log_error ("embed: %s", self->error);
        zstr_send (self->pipe, "FAILED");
        return;
    }
    self->state = S_READY;
    ds_log_info ("embed: model ready: %u senders", ds_model_words (self->model));
    zstr_send (self->pipe, "TRAINED");
}

static void
s_check_eos (s_embed_t *self)
{
    uint64_t expected = (uint64_t) self->config->shards * self->config->sensors;
    if (self->state == S_COLLECTING && self->ended >= expected)
        s_start_training (self, "every stream ended");
}

static void
s_on_batch (s_embed_t *self)
{
    ds_batch_t *b = self->batch;
    s_stream_t *s = s_stream (self, b->sensor, b->shard);
    if (!s) {
        s_reject (self, "batch (out of memory)", DS_ERR_NOMEM);
        return;
    }
    if (b->seq < s->next_seq)
        return;                     //  a replay: already counted
    self->gaps += b->seq - s->next_seq;
    s->next_seq = b->seq + 1;
    self->batches++;
    if (self->state != S_COLLECTING) {
        self->late++;
        return;
    }
    if (ds_corpus_add_batch (self->corpus, b) != 0)
        s_reject (self, "batch (out of memory)", DS_ERR_NOMEM);
}

static void
s_on_eos (s_embed_t *self, const ds_eos_t *eos)
{
    s_stream_t *s = s_stream (self, eos->sensor, eos->shard);
    if (!s || s->ended)
        return;
    if (eos->batches > s->next_seq)
        self->gaps += eos->batches - s->next_seq;
    s->ended = true;
    self->ended++;
    s_check_eos (self);
}

//  Receives and handles one [topic][payload] message without waiting;
//  false when none was queued.
static bool
s_on_sub (s_embed_t *self)
{
    zmsg_t *msg = NULL;
    if (zsock_events (self->sub) & ZMQ_POLLIN)
        msg = zmsg_recv (self->sub);
    if (!msg)
        return false;
    zframe_t *body = zmsg_size (msg) == 2 ? zmsg_last (msg) : NULL;
    int type = 0, rc = DS_ERR_MALFORMED;
    if (body)
        rc = ds_msg_peek (zframe_data (body), zframe_size (body), &type);
    if (rc == DS_OK && type == DS_MSG_LABELLED) {
        rc = ds_batch_decode (zframe_data (body), zframe_size (body), self->batch);
        if (rc == DS_OK)
            s_on_batch (self);
        else
            s_reject (self, "labelled batch", rc);
    }
    else
    if (rc == DS_OK && type == DS_MSG_EOS) {
        ds_eos_t eos;
        rc = ds_eos_decode (zframe_data (body), zframe_size (body), &eos);
        if (rc == DS_OK)
            s_on_eos (self, &eos);
        else
            s_reject (self, "end-of-stream", rc);
    }
    else
    if (rc != DS_OK || type != DS_MSG_STATS)    //  a sensor's counters: not for the corpus
        s_reject (self, body ? "message of unexpected type" : "message without [topic][payload]",
                  rc ? rc : DS_ERR_TYPE);
    zmsg_destroy (&msg);
    return true;
}

static void
s_pack_status (s_embed_t *self, msgpack_packer *pk)
{
    msgpack_pack_map (pk, 11);
    ds_pack_str (pk, "state");
    ds_pack_str (pk, s_state_names [self->state]);
    ds_pack_str (pk, "packets");
    msgpack_pack_uint64 (pk, self->corpus ? ds_corpus_packets (self->corpus) : 0);
    ds_pack_str (pk, "sources");
    msgpack_pack_uint32 (pk, self->corpus ? ds_corpus_sources (self->corpus) : 0);
    ds_pack_str (pk, "streams_expected");
    msgpack_pack_uint64 (pk, (uint64_t) self->config->shards * self->config->sensors);
    ds_pack_str (pk, "streams_ended");
    msgpack_pack_uint32 (pk, self->ended);
    ds_pack_str (pk, "batches");
    msgpack_pack_uint64 (pk, self->batches);
    ds_pack_str (pk, "gaps");
    msgpack_pack_uint64 (pk, self->gaps);
    ds_pack_str (pk, "rejected");
    msgpack_pack_uint64 (pk, self->rejected);
    ds_pack_str (pk, "late");
    msgpack_pack_uint64 (pk, self->late);
    ds_pack_str (pk, "progress");
    msgpack_pack_double (pk, self->state == S_READY ? 1.0 : self->state == S_TRAINING ? self->progress : 0.0);
    ds_pack_str (pk, "error");
    ds_pack_str (pk, self->error);
}

//  Why the model cannot answer yet, into err.
static void
s_not_ready (s_embed_t *self, const char *query, char *err, size_t size)
{
    uint64_t expected = (uint64_t) self->config->shards * self->config->sensors;
    if (self->state == S_COLLECTING)
        snprintf (err, size, "%s: the embedding is not trained yet: collecting (%" PRIu64 " packets, "
                  "%u of %" PRIu64 " streams ended; the query 'train' starts it now)", query,
                  ds_corpus_packets (self->corpus), self->ended, expected);
    else
    if (self->state == S_TRAINING)
        snprintf (err, size, "%s: the embedding is training (%.0f%%)", query, 100 * self->progress);
    else
        snprintf (err, size, "%s: the embedding failed: %s", query, self->error);
}

static void
s_on_rep (s_embed_t *self)
{
    zmsg_t *msg = zmsg_recv (self->rep);
    if (!msg)
        return;
    zframe_t *frame = zmsg_first (msg);
    ds_query_t q;
    char err [512] = "";
    int rc = -1;
    msgpack_sbuffer_clear (&self->reply);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &self->reply, msgpack_sbuffer_write);
    if (zmsg_size (msg) != 1 || !frame)
        snprintf (err, sizeof err, "request must be one frame");
    else
    if (ds_query_decode (zframe_data (frame), zframe_size (frame), &q, err, sizeof err) != DS_OK)
        ;
    else
    if (q.k > 1000)
        snprintf (err, sizeof err, "\"k\" must be 1..1000");
    else
    if (streq (q.name, "status")) {
        ds_reply_ok_begin (&pk);
        s_pack_status (self, &pk);
        rc = 0;
    }
    else
    if (streq (q.name, "train")) {
        if (self->state == S_COLLECTING)
            s_start_training (self, "asked to");
        ds_reply_ok_begin (&pk);
        s_pack_status (self, &pk);
        rc = 0;
    }
    else
    if (!streq (q.name, "knn") && !streq (q.name, "classify") && !streq (q.name, "embedding")
    &&  !streq (q.name, "projection"))
        snprintf (err, sizeof err, "the embed service answers knn, classify, embedding, projection, "
                  "train and status, not '%s'", q.name);
    else
    if (self->state != S_READY)
        s_not_ready (self, q.name, err, sizeof err);
    else
    if (streq (q.name, "knn") && !q.ip [0])
        snprintf (err, sizeof err, "knn needs \"ip\"");
    else {
        ds_reply_ok_begin (&pk);
        rc = 0;
        if (streq (q.name, "knn"))
            rc = ds_model_pack_knn (self->model, q.ip, (uint32_t) q.k, &pk, err, sizeof err);
        else
        if (streq (q.name, "classify"))
            rc = ds_model_pack_classify (self->model, (uint32_t) q.k, &pk, err, sizeof err);
        else
        if (streq (q.name, "embedding"))
            ds_model_pack_embedding (self->model, &pk);
        else
            ds_model_pack_projection (self->model, &pk);
    }
    if (rc != 0)
        ds_reply_error (&self->reply, err);
    zsock_send (self->rep, "b", self->reply.data, self->reply.size);
    zmsg_destroy (&msg);
}

static bool
s_on_pipe (s_embed_t *self)
{
    char *command = zstr_recv (self->pipe);
    if (!command)
        return false;
    bool more = !streq (command, "$TERM");
    if (streq (command, "ENDPOINT"))
        zstr_send (self->pipe, zsock_endpoint (self->rep));
    else
    if (more)
        ds_log_warn ("embed: unknown pipe command '%s'", command);
    zstr_free (&command);
    return more;
}

//  Copies config into self->own, the output paths too; the copy, or NULL
//  if memory ran out.
static const ds_embed_config_t *
s_own_config (s_embed_t *self, const ds_embed_config_t *config)
{
    self->own = *config;
    const char **paths [3] = { &self->own.corpus_out, &self->own.model_out, &self->own.classes_out };
    for (int i = 0; i < 3; i++)
        if (*paths [i]) {
            if (!(self->paths [i] = strdup (*paths [i])))
                return NULL;
            *paths [i] = self->paths [i];
        }
    return &self->own;
}

void
ds_embed_actor (zsock_t *pipe, void *args)
{
    ds_signals_block_thread ();
    const ds_embed_config_t *config = args;
    s_embed_t self = { .config = config, .pipe = pipe };
    ds_log_thread ("embed", NULL, NULL);
    atomic_init (&self.worker_done, 0);
    msgpack_sbuffer_init (&self.reply);
    config = self.config = s_own_config (&self, config);
    const char *why = config ? ds_w2v_params_check (&config->w2v) : "out of memory";
    if (!config)
        config = args;
    if (!why && (config->shards == 0 || config->shards > DS_SHARDS_MAX || config->sensors == 0))
        why = "shards must be 1.." DS_SHARDS_MAX_TEXT " and sensors >= 1";
    if (!why && (config->k < 1 || config->k > 1000))
        why = "k must be 1..1000";
    if (why) {
        ds_log_error ("embed: cannot start: %s", why);
        goto refuse;
    }
    self.corpus = ds_corpus_new (config->tz);
    self.batch = ds_batch_new (DS_BATCH_DEFAULT_CAPACITY);
    if (!self.corpus || !self.batch) {
        ds_log_error ("embed: cannot start: out of memory");
        goto refuse;
    }
    const char *endpoint = config->endpoint ? config->endpoint : DS_EMBED_ENDPOINT_DEFAULT;
    self.rep = zsock_new (ZMQ_REP);
    if (self.rep)
        ds_sock_defaults (self.rep);            //  cap DS_FRAME_CONTROL_WIRE_MAX
    if (!self.rep || ds_curve_bind (self.rep, endpoint) == -1) {
        ds_log_error ("embed: cannot bind REP %s", endpoint);
        goto refuse;
    }
    char inputs [4096] = "";
    size_t used = 0;
    for (size_t i = 0; i < config->inputs.count; i++)
        used += (size_t) snprintf (inputs + used, used < sizeof inputs ? sizeof inputs - used : 0,
                                   "%s%s", i ? "," : "", config->inputs.items [i]);
    if (config->inputs.count == 0)
        snprintf (inputs, sizeof inputs, "%s", DS_EMBED_INPUT_DEFAULT);
    if (used >= sizeof inputs) {
        ds_log_error ("embed: cannot start: --input list too long");
        goto refuse;
    }
    self.sub = ds_sub_new (inputs, "lab.");
    if (!self.sub)
        goto refuse;
    zsock_set_maxmsgsize (self.sub, DS_FRAME_MAX);
    //  From here on nothing of the caller's config is read (see s_embed_t).
    self.own.endpoint = NULL;
    self.own.inputs.count = 0;
    zsock_signal (pipe, 0);
    ds_log_info ("embed: answering on %s, subscribed to lab. (%u shards x %u sensors) on %s",
                 zsock_endpoint (self.rep), config->shards, config->sensors, inputs);

    //  zpoller_wait names only the first ready socket of this list: the
    //  REP comes before the SUB, or a stream that always has a batch
    //  waiting would starve every query until it paused.
    zpoller_t *poller = zpoller_new (pipe, self.rep, self.sub, NULL);
    while (true) {
        zsock_t *which = zpoller_wait (poller, self.worker_running ? 100 : -1);
        if (which == pipe) {
            if (!s_on_pipe (&self))
                break;
        }
        else
        if (which == self.sub) {
            for (int i = 0; i < 64 && s_on_sub (&self); i++)
                ;
        }
        else
        if (which == self.rep)
            s_on_rep (&self);
        else
        if (ds_poller_ended (poller))
            break;
        s_check_worker (&self);
    }
    zpoller_destroy (&poller);
    goto cleanup;

refuse:
    ds_actor_refused (pipe, (const ds_actor_answer_t []) { { "ENDPOINT", "", 1 }, { NULL, NULL, 0 } });
cleanup:
    if (self.worker_running) {
        self.stop = 1;
        pthread_join (self.worker, NULL);
        ds_model_destroy (&self.built);
        ds_corpus_destroy (&self.handed);
    }
    zsock_destroy (&self.sub);
    zsock_destroy (&self.rep);
    ds_batch_destroy (&self.batch);
    ds_corpus_destroy (&self.corpus);
    ds_model_destroy (&self.model);
    free (self.streams);
    msgpack_sbuffer_destroy (&self.reply);
    for (int i = 0; i < 3; i++)
        free (self.paths [i]);
}

int
ds_embed_endpoint (zactor_t *actor, char *buf, size_t size)
{
    buf [0] = 0;
    if (!actor || zstr_send (actor, "ENDPOINT"))
        return -1;
    zpoller_t *poller = zpoller_new (actor, NULL);
    while (poller && zpoller_wait (poller, 30000)) {
        char *reply = zstr_recv (actor);
        bool event = reply && (streq (reply, "TRAINED") || streq (reply, "FAILED"));
        if (!event)
            snprintf (buf, size, "%s", reply ? reply : "");
        zstr_free (&reply);
        if (!event)
            break;
    }
    zpoller_destroy (&poller);
    return buf [0] ? 0 : -1;
}
