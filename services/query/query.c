/*  query.c - the query service actor; see query.h.

    One request at a time: the REP front door reads a request, fans out to
    the shards (shards.h: one REQ per shard, all sent before any reply is
    awaited), merges and replies.  A shard that timed out is marked down
    and probed in the background; while it is down requests that need it
    fail at once, naming it.
*/
#include "query.h"
#include "merge.h"
#include "pattern.h"
#include "shards.h"
#include "qmetrics.h"
#include "ds_proto.h"
#include "transport.h"
#include "alloc.h"
#include "actor.h"
#include "log.h"
#include "curve.h"
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include "signals.h"
#include <string.h>

void
ds_query_config_init (ds_query_config_t *config)
{
    memset (config, 0, sizeof *config);
    config->endpoint = DS_QUERY_ENDPOINT_DEFAULT;
    config->labeler = DS_QUERY_LABELER_DEFAULT;
    config->embed = DS_QUERY_EMBED_DEFAULT;
    config->timeout_ms = DS_QUERY_TIMEOUT_DEFAULT;
}

void
ds_query_default_shards (ds_query_config_t *config, uint32_t n, char (*storage) [64])
{
    if (n > DS_SHARDS_MAX)
        n = DS_SHARDS_MAX;
    for (uint32_t k = 0; k < n; k++) {
        snprintf (storage [k], 64, "tcp://127.0.0.1:%u", 5560 + k);
        config->shard_endpoints.items [k] = storage [k];
    }
    config->shard_endpoints.count = n;
}

typedef struct {
    zframe_t *frames [DS_SHARDS_MAX];
    msgpack_object results [DS_SHARDS_MAX];
    char errors [DS_SHARDS_MAX][DS_SHARDS_ERR_MAX];
} s_round_t;

//  Merged answers, reused while no shard changed (same request bytes and
//  the same generation of every shard): a report's repeated queries cost
//  one "range" round trip.
#define S_CACHE_SIZE 8
#define S_RELEASE_BYTES (1u << 20)      //  shard replies over this: trim after the answer
typedef struct {
    zchunk_t *key;                  //  request bytes + every shard's generation
    char *reply;                    //  the reply's bytes (malloc'd)
    size_t reply_size;
} s_cached_t;

typedef struct {
    const ds_query_config_t *config;
    s_cached_t cache [S_CACHE_SIZE];
    size_t cache_next;
    zchunk_t *key;                  //  this request's cache key (after "range")
    bool cache_pending;             //  self->out is a new answer to keep under key
    const uint8_t *request;         //  this request's bytes
    size_t request_size;
    zsock_t *pipe, *front;
    ds_shards_t *shards;
    size_t n_shards;
    size_t fetched;                 //  bytes of shard replies for this request
    zsock_t *labeler;
    zsock_t *embed;                 //  the embed service's REP, made on first use
    int timeout;
    msgpack_sbuffer out;            //  the reply being built
    msgpack_sbuffer req;            //  the fan-out request
    //  Per request: the current round of the shards' replies and their
    //  result objects (results point into frames and zone; the merges
    //  decode what they keep before the next round).
    s_round_t round;
    msgpack_zone zone;
    uint64_t requests, failures;
    uint64_t requests_too_big;      //  above DS_FRAME_CONTROL_MAX, answered with an error
    uint64_t replies_too_big;       //  answers above DS_REPLY_MAX, replaced by an error
    ds_qmetrics_t *metrics;         //  NULL without --http
} s_query_t;

//  A REQ to a relayed peer, the labeler or the embed service (cap
//  DS_REPLY_WIRE_MAX: its reply is relayed as is).
static zsock_t *
s_req_new (const char *endpoint)
{
    zsock_t *sock = zsock_new (ZMQ_REQ);
    if (!sock)
        return NULL;
    ds_sock_defaults (sock);
    if (ds_curve_connect (sock, endpoint) == -1)    //  logs why
        zsock_destroy (&sock);
    return sock;
}

static void
s_round_reset (s_query_t *self, s_round_t *rd)
{
    for (size_t i = 0; i < self->n_shards; i++) {
        zframe_destroy (&rd->frames [i]);
        rd->errors [i][0] = 0;
        rd->results [i].type = MSGPACK_OBJECT_NIL;
    }
}

//  Forgets the round of a request.
static void
s_request_reset (s_query_t *self)
{
    s_round_reset (self, &self->round);
    msgpack_zone_clear (&self->zone);
}

//  Sends self->req to the shards (need_all: to none if one is down) and
//  collects the replies' result objects into rd->results.  Per-shard
//  failures go to rd->errors.  Returns the number of shards that failed;
//  *stopped is set if $TERM is pending.
static size_t
s_fan_out (s_query_t *self, s_round_t *rd, bool need_all, bool *stopped)
{
    s_round_reset (self, rd);
    size_t failed = ds_shards_ask (self->shards, self->req.data, self->req.size, need_all,
                                   self->pipe, rd->frames, rd->errors, stopped);
    for (size_t i = 0; i < self->n_shards; i++) {
        if (!rd->frames [i])
            continue;
        self->fetched += zframe_size (rd->frames [i]);
        char why [200] = "";
        msgpack_object reply;
        const msgpack_object *result;
        int rc = ds_mp_unpack (zframe_data (rd->frames [i]), zframe_size (rd->frames [i]),
                               &self->zone, &reply);
        if (rc != DS_OK)
            snprintf (why, sizeof why, "bad reply (%s)", ds_result_str (rc));
        else
        if (ds_reply_parse (&reply, &result, why, sizeof why) == DS_OK)
            rd->results [i] = *result;
        if (why [0]) {
            snprintf (rd->errors [i], sizeof rd->errors [i], "shard %zu (%s): %s", i,
                      ds_shards_endpoint (self->shards, i), why);
            failed++;
        }
    }
    return failed;
}

//  Fans out self->req to every shard (to none if one is down); on any
//  failure writes the first shard error into err and returns -1.
static int
s_fan_out_checked (s_query_t *self, s_round_t *rd, char *err, size_t err_size)
{
    bool stopped = false;
    if (s_fan_out (self, rd, true, &stopped) == 0)
        return 0;
    for (size_t i = 0; i < self->n_shards; i++)
        if (rd->errors [i][0]) {
            snprintf (err, err_size, "%s", rd->errors [i]);
            break;
        }
    return -1;
}

//  One round of the merge (merge.h) or of a pattern query (pattern.h):
//  the request to every shard, their result objects back.
static int
s_shard_round (void *ctx, const msgpack_sbuffer *request, const msgpack_object **results,
               char *err, size_t err_size)
{
    s_query_t *self = ctx;
    s_round_t *rd = &self->round;
    msgpack_sbuffer_clear (&self->req);
    msgpack_sbuffer_write (&self->req, request->data, request->size);
    if (s_fan_out_checked (self, rd, err, err_size))
        return -1;
    *results = rd->results;
    return 0;
}

//  After the "range" round: builds self->key from the request and every
//  shard's generation, and answers from the cache if it can (returns true).
static bool
s_cache_lookup (s_query_t *self, const uint64_t *generations)
{
    zchunk_destroy (&self->key);
    self->key = zchunk_new (self->request, self->request_size);
    for (size_t i = 0; i < self->n_shards; i++)
        zchunk_extend (self->key, &generations [i], sizeof generations [i]);
    for (size_t i = 0; i < S_CACHE_SIZE; i++) {
        s_cached_t *c = &self->cache [i];
        if (c->key && zchunk_size (c->key) == zchunk_size (self->key)
        &&  memcmp (zchunk_data (c->key), zchunk_data (self->key), zchunk_size (self->key)) == 0) {
            msgpack_sbuffer_clear (&self->out);
            msgpack_sbuffer_write (&self->out, c->reply, c->reply_size);
            return true;
        }
    }
    return false;
}

//  Keeps the reply in self->out under self->key, once it is sent: the
//  cache takes the buffer itself (no copy of a 1.4 MB overview on the way
//  to the client) and self->out starts empty.
static void
s_cache_put (s_query_t *self)
{
    if (!self->key || !self->out.data || self->out.size > DS_REPLY_MAX)
        return;
    s_cached_t *c = &self->cache [self->cache_next];
    self->cache_next = (self->cache_next + 1) % S_CACHE_SIZE;
    zchunk_destroy (&c->key);
    free (c->reply);
    c->key = self->key;
    self->key = NULL;
    c->reply_size = self->out.size;
    c->reply = msgpack_sbuffer_release (&self->out);
}

//  A round of an overview-family answer: s_shard_round, then after the
//  PPSRC round (the answer's last with the shards) the config's on_merged.
static int
s_overview_round (void *ctx, const msgpack_sbuffer *request, const msgpack_object **results,
                  char *err, size_t err_size)
{
    s_query_t *self = ctx;
    int rc = s_shard_round (ctx, request, results, err, err_size);
    ds_part_req_t req;
    char why [64];
    if (self->config->on_merged
    &&  ds_part_req_decode ((const uint8_t *) request->data, request->size, &req, why, sizeof why) == DS_OK
    &&  req.kind == DS_PART_PPSRC)
        self->config->on_merged (self->config->on_merged_arg);
    return rc;
}

static int
s_do_overview (s_query_t *self, ds_query_t *q, msgpack_packer *pk, char *err, size_t err_size)
{
    char tz [DS_PART_TZ_MAX];
    uint64_t generations [DS_SHARDS_MAX];
    //  DS_MERGE_EMPTY (nothing seen, no window asked) is answered too: the
    //  overview of the empty window, with the ingest counters.
    if (ds_merge_range (self->n_shards, s_shard_round, self, q, tz, sizeof tz, generations,
                        err, err_size) < 0)
        return -1;
    if (s_cache_lookup (self, generations))
        return 0;
    //  Packed straight into the reply: after an error s_on_front replaces
    //  whatever was packed with the error reply.
    ds_reply_ok_begin (pk);
    int rc = ds_merge_answer (self->n_shards, s_overview_round, self, q, tz, pk, err, err_size);
    self->cache_pending = rc == 0;
    return rc;
}

static int
s_do_pattern (s_query_t *self, ds_query_t *q, msgpack_packer *pk, char *err, size_t err_size)
{
    char tz [DS_PART_TZ_MAX];
    uint64_t generations [DS_SHARDS_MAX];
    if (ds_qpattern_check (q, err, err_size)
    ||  ds_merge_range (self->n_shards, s_shard_round, self, q, tz, sizeof tz, generations,
                        err, err_size))
        return -1;
    if (s_cache_lookup (self, generations))
        return 0;
    ds_reply_ok_begin (pk);         //  an error replaces it (s_on_front)
    int rc = ds_qpattern_answer (q, self->n_shards, s_shard_round, self, pk, err, err_size);
    self->cache_pending = rc == 0;
    return rc;
}

//  Why a run is not complete, gathered over the shards' statuses: reasons
//  (one line each, the first S_REASONS_MAX kept) and the sensors whose
//  input to replay.
#define S_REASONS_MAX 16
typedef struct {
    char reasons [S_REASONS_MAX][160];
    size_t n_reasons;               //  all of them, also those not kept
    uint32_t replay [DS_STRLIST_MAX];
    size_t n_replay;
    uint32_t seen [DS_STRLIST_MAX]; //  sensors some shard heard of
    size_t n_seen;
    bool short_shard;               //  a shard heard of fewer sensors than expected
    uint32_t expected;
    bool unknown_sensors;           //  an expected sensor no shard heard of
} s_verdict_t;

static bool
s_has (const uint32_t *set, size_t n, uint32_t sensor)
{
    for (size_t i = 0; i < n; i++)
        if (set [i] == sensor)
            return true;
    return false;
}

static void
s_reason (s_verdict_t *v, const char *fmt, ...)
{
    if (v->n_reasons < S_REASONS_MAX) {
        va_list args;
        va_start (args, fmt);
        vsnprintf (v->reasons [v->n_reasons], sizeof v->reasons [0], fmt, args);
        va_end (args);
    }
    v->n_reasons++;
}

static void
s_replay (s_verdict_t *v, uint32_t sensor)
{
    for (size_t i = 0; i < v->n_replay; i++)
        if (v->replay [i] == sensor)
            return;
    if (v->n_replay < DS_STRLIST_MAX)
        v->replay [v->n_replay++] = sensor;
}

//  Adds what keeps one shard from being complete: a sensor without end of
//  stream, batches missed (gaps), fewer sensors than expected.  Returns
//  true if it is complete.
static bool
s_shard_verdict (s_verdict_t *v, size_t shard, const ds_part_status_t *status)
{
    uint32_t ended = 0;
    bool complete = true;
    if (status->sensors_expected > v->expected)
        v->expected = status->sensors_expected;
    for (uint32_t k = 0; k < status->n_streams; k++) {
        const ds_part_stream_t *st = &status->streams [k];
        if (!s_has (v->seen, v->n_seen, st->s.sensor) && v->n_seen < DS_STRLIST_MAX)
            v->seen [v->n_seen++] = st->s.sensor;
        if (st->s.eos)
            ended++;
        else {
            s_reason (v, "shard %zu: no end of stream from sensor %u", shard, st->s.sensor);
            s_replay (v, st->s.sensor);
            complete = false;
        }
        if (st->gaps) {
            s_reason (v, "shard %zu: %" PRIu64 " batches of sensor %u missed (gaps)",
                      shard, st->gaps, st->s.sensor);
            s_replay (v, st->s.sensor);
            complete = false;
        }
    }
    if (ended < status->sensors_expected) {
        if (status->n_streams < status->sensors_expected) {
            s_reason (v, "shard %zu: %u of %u expected sensors never heard from",
                      shard, status->sensors_expected - status->n_streams,
                      status->sensors_expected);
            v->short_shard = true;
        }
        complete = false;
    }
    return complete;
}

//  Every shard's status (a STATUS partial, shown as the map clients read)
//  and whether the input is complete: every shard answered, saw the end of
//  stream of every expected sensor and misses no batch.  Otherwise
//  "incomplete", with the reasons and the sensors whose input to replay.
static int
s_do_status (s_query_t *self, ds_query_t *q, msgpack_packer *pk, char *err, size_t err_size)
{
    (void) q;
    ds_part_req_t req = { .kind = DS_PART_STATUS };
    if (ds_part_req_encode (&req, &self->req) != DS_OK) {
        snprintf (err, err_size, "cannot encode the shard request");
        return -1;
    }
    bool stopped = false;
    s_round_t *rd = &self->round;
    s_fan_out (self, rd, false, &stopped);
    bool eos [DS_SHARDS_MAX];
    bool eos_all = true, complete = true;
    size_t n_eos = 0;
    s_verdict_t *verdict = calloc (1, sizeof *verdict);
    if (!verdict) {
        snprintf (err, err_size, "out of memory");
        return -1;
    }
    ds_reply_ok_begin (pk);
    msgpack_pack_map (pk, 13);
    ds_pack_str (pk, "shards");
    msgpack_pack_array (pk, self->n_shards);
    for (size_t i = 0; i < self->n_shards; i++) {
        const char *ep = ds_shards_endpoint (self->shards, i);
        ds_part_status_t status;
        memset (&status, 0, sizeof status);
        const uint8_t *data;
        size_t size;
        char why [200] = "";
        if (!rd->errors [i][0]) {
            int rc = ds_part_result_bytes (&rd->results [i], &data, &size);
            if (rc == DS_OK)
                rc = ds_part_status_decode (data, size, &status, why, sizeof why);
            if (rc != DS_OK)
                snprintf (rd->errors [i], sizeof rd->errors [i], "shard %zu (%s): bad status "
                          "partial: %s%s%s", i, ep, ds_result_str (rc), why [0] ? ": " : "", why);
        }
        eos [i] = !rd->errors [i][0] && status.eos_all;
        eos_all &= eos [i];
        n_eos += eos [i];
        if (rd->errors [i][0]) {
            s_reason (verdict, "shard %zu (%s) did not answer", i, ep);
            complete = false;
        }
        else
        if (!s_shard_verdict (verdict, i, &status))
            complete = false;

        msgpack_pack_map (pk, 4);
        ds_pack_str (pk, "shard");
        msgpack_pack_uint64 (pk, i);
        ds_pack_str (pk, "endpoint");
        ds_pack_str (pk, ep);
        ds_pack_str (pk, "ok");
        if (rd->errors [i][0]) {
            msgpack_pack_false (pk);
            ds_pack_str (pk, "error");
            ds_pack_str (pk, rd->errors [i]);
        }
        else {
            msgpack_pack_true (pk);
            ds_pack_str (pk, "status");
            ds_part_status_pack_map (&status, pk);
        }
        ds_part_status_clear (&status);
    }
    //  A shard that never heard of some sensor cannot name it: replay every
    //  sensor another shard heard of (what a shard had already is ignored
    //  as a replay); one no shard heard of stays unknown.
    if (verdict->short_shard) {
        for (size_t i = 0; i < verdict->n_seen; i++)
            s_replay (verdict, verdict->seen [i]);
        verdict->unknown_sensors = verdict->n_seen < verdict->expected;
    }
    ds_pack_str (pk, "eos_shards");
    msgpack_pack_array (pk, n_eos);
    for (size_t i = 0; i < self->n_shards; i++)
        if (eos [i])
            msgpack_pack_uint64 (pk, i);
    //  eos_all: every shard answered and saw every expected sensor's EOS;
    //  complete: that, and not one batch missing.
    ds_pack_str (pk, "eos_all");
    if (eos_all) msgpack_pack_true (pk); else msgpack_pack_false (pk);
    ds_pack_str (pk, "complete");
    if (complete) msgpack_pack_true (pk); else msgpack_pack_false (pk);
    ds_pack_str (pk, "state");
    ds_pack_str (pk, complete ? "complete" : "incomplete");
    ds_pack_str (pk, "reasons");
    size_t kept = verdict->n_reasons < S_REASONS_MAX ? verdict->n_reasons : S_REASONS_MAX;
    bool more = verdict->n_reasons > kept;
    msgpack_pack_array (pk, kept + (more ? 1 : 0));
    for (size_t i = 0; i < kept; i++)
        ds_pack_str (pk, verdict->reasons [i]);
    if (more) {
        char line [64];
        snprintf (line, sizeof line, "... and %zu more", verdict->n_reasons - kept);
        ds_pack_str (pk, line);
    }
    //  Replaying these sensors' input (same --sensor, same files) fills
    //  what is missing; "unknown_sensors": an expected sensor no shard
    //  heard of (its id is not known: replay it too).
    ds_pack_str (pk, "replay_sensors");
    msgpack_pack_array (pk, verdict->n_replay);
    for (size_t i = 0; i < verdict->n_replay; i++)
        msgpack_pack_uint32 (pk, verdict->replay [i]);
    ds_pack_str (pk, "unknown_sensors");
    if (verdict->unknown_sensors) msgpack_pack_true (pk); else msgpack_pack_false (pk);
    free (verdict);
    ds_pack_str (pk, "requests");
    msgpack_pack_uint64 (pk, self->requests);
    ds_pack_str (pk, "failures");
    msgpack_pack_uint64 (pk, self->failures);
    ds_pack_str (pk, "requests_too_big");
    msgpack_pack_uint64 (pk, self->requests_too_big);
    ds_pack_str (pk, "replies_too_big");
    msgpack_pack_uint64 (pk, self->replies_too_big);
    ds_pack_str (pk, "refused_connections");          //  by CURVE/ZAP (curve.h)
    msgpack_pack_uint64 (pk, ds_curve_refused ());
    return 0;
}

//  Forwards the client's request bytes to a peer (the labeler for lookup,
//  the embed service for knn, classify, embedding, projection) and relays
//  its reply; *sockp is the peer's REQ, made on first use.
static int
s_relay (s_query_t *self, zsock_t **sockp, const char *ep, const char *peer, const char *q,
         const uint8_t *data, size_t size, char *err, size_t err_size)
{
    if (!ep || !*ep) {
        snprintf (err, err_size, "%s: no %s endpoint configured%s", q, peer,
                  strcmp (peer, "embed service") == 0
                  ? " (darkscope run: add --embed; darkscope-query: --embed-endpoint E)" : "");
        return -1;
    }
    if (!*sockp)
        *sockp = s_req_new (ep);
    if (!*sockp
    ||  zmq_send (zsock_resolve (*sockp), data, size, ZMQ_DONTWAIT) == -1) {
        snprintf (err, err_size, "%s: cannot send to the %s (%s)", q, peer, ep);
        zsock_destroy (sockp);
        return -1;
    }
    zmq_pollitem_t items [2] = {
        { zsock_resolve (self->pipe), 0, ZMQ_POLLIN, 0 },
        { zsock_resolve (*sockp), 0, ZMQ_POLLIN, 0 },
    };
    int64_t deadline = zclock_mono () + self->timeout;
    while (zclock_mono () < deadline) {
        if (zmq_poll (items, 2, (long) (deadline - zclock_mono ())) <= 0)
            continue;
        if (items [0].revents & ZMQ_POLLIN)
            break;
        if (items [1].revents & ZMQ_POLLIN) {
            zmsg_t *msg = zmsg_recv (*sockp);
            zframe_t *frame = msg && zmsg_size (msg) == 1 ? zmsg_first (msg) : NULL;
            msgpack_zone zone;
            msgpack_zone_init (&zone, 1024);
            msgpack_object reply;
            int rc = frame ? ds_mp_unpack (zframe_data (frame), zframe_size (frame), &zone, &reply)
                           : DS_ERR_MALFORMED;
            if (rc == DS_OK) {
                msgpack_sbuffer_clear (&self->out);
                msgpack_sbuffer_write (&self->out, (const char *) zframe_data (frame), zframe_size (frame));
            }
            else
                snprintf (err, err_size, "%s: bad reply from the %s (%s)", q, peer, ep);
            msgpack_zone_destroy (&zone);
            zmsg_destroy (&msg);
            return rc == DS_OK ? 0 : -1;
        }
    }
    snprintf (err, err_size, "%s: the %s (%s) did not answer within %d ms", q, peer, ep, self->timeout);
    zsock_destroy (sockp);
    return -1;
}

typedef int (s_handler_fn) (s_query_t *, ds_query_t *, msgpack_packer *, char *, size_t);
static const struct {
    const char *name;
    s_handler_fn *fn;               //  NULL: lookup (forwarded as is)
} s_handlers [] = {
    { "overview", s_do_overview }, { "ports", s_do_overview }, { "ecdf", s_do_overview },
    { "daily", s_do_overview }, { "classes", s_do_overview }, { "heatmap", s_do_overview },
    { "pattern", s_do_pattern }, { "status", s_do_status }, { "lookup", NULL },
};

//  Queries forwarded as they are to the embed service.
static const char *s_embed_queries [] = { "knn", "classify", "embedding", "projection" };

static bool
s_is_embed (const char *name)
{
    for (size_t i = 0; i < sizeof s_embed_queries / sizeof *s_embed_queries; i++)
        if (strcmp (s_embed_queries [i], name) == 0)
            return true;
    return false;
}

static void
s_on_front (s_query_t *self)
{
    zmsg_t *msg = zmsg_recv (self->front);
    if (!msg)
        return;
    self->requests++;
    int64_t started = zclock_usecs ();
    const char *name = NULL;        //  for the metrics, once decoded
    char err [512] = "";
    int rc = -1;
    msgpack_sbuffer_clear (&self->out);
    zframe_t *frame = zmsg_first (msg);
    ds_query_t q;
    if (!frame || zmsg_size (msg) != 1)
        snprintf (err, sizeof err, "a request is one frame holding a msgpack map");
    else
    if (ds_query_decode (zframe_data (frame), zframe_size (frame), &q, err, sizeof err) == DS_OK) {
        name = q.name;
        size_t h = 0, nh = sizeof s_handlers / sizeof *s_handlers;
        while (h < nh && strcmp (s_handlers [h].name, q.name) != 0)
            h++;
        if (s_is_embed (q.name))
            rc = s_relay (self, &self->embed, self->config->embed, "embed service", q.name,
                          zframe_data (frame), zframe_size (frame), err, sizeof err);
        else
        if (h == nh)
            snprintf (err, sizeof err, "unknown query '%s' (overview, ports, ecdf, daily, classes, "
                      "heatmap, pattern, lookup, status, knn, classify, embedding, projection)", q.name);
        else
        if (!s_handlers [h].fn)
            rc = s_relay (self, &self->labeler, self->config->labeler, "labeler", q.name,
                          zframe_data (frame), zframe_size (frame), err, sizeof err);
        else {
            msgpack_packer pk;
            msgpack_packer_init (&pk, &self->out, msgpack_sbuffer_write);
            self->request = zframe_data (frame);
            self->request_size = zframe_size (frame);
            rc = s_handlers [h].fn (self, &q, &pk, err, sizeof err);
        }
    }
    else {
        if (!err [0])
            snprintf (err, sizeof err, "malformed request");
        if (zframe_size (frame) > DS_FRAME_CONTROL_MAX
        &&  (++self->requests_too_big <= 5 || self->requests_too_big % 1000 == 0))
            ds_log_warn ("%s (%" PRIu64 " so far)", err, self->requests_too_big);
    }
    if (rc == 0 && self->out.size > DS_REPLY_MAX) {
        //  Never more than a client takes (its REQ would drop the
        //  connection and wait out its timeout).
        self->replies_too_big++;
        snprintf (err, sizeof err, "the answer to '%s' is %zu bytes and exceeds the %u MiB reply "
                  "limit; narrow the query (fewer days; for a pattern a class, a time range "
                  "or a wider bin_s)", q.name, self->out.size, DS_REPLY_MAX / DS_MIB);
        ds_log_warn ("%s", err);
        rc = -1;
    }
    if (rc != 0) {
        self->failures++;
        ds_reply_error (&self->out, err);
    }
    zsock_send (self->front, "b", self->out.data, self->out.size);
    if (rc == 0 && self->cache_pending)
        s_cache_put (self);
    self->cache_pending = false;
    zchunk_destroy (&self->key);
    ds_qmetrics_request (self->metrics, name, rc == 0, (double) (zclock_usecs () - started) / 1e6);
    zmsg_destroy (&msg);
    s_request_reset (self);
    //  A merge of large partials leaves its pages free but resident.
    if (self->fetched >= S_RELEASE_BYTES)
        ds_malloc_release ();
    self->fetched = 0;
}

void
ds_query_actor (zsock_t *pipe, void *args)
{
    ds_signals_block_thread ();
    const ds_query_config_t *config = args;
    s_query_t self = { .config = config, .pipe = pipe };
    ds_log_thread ("query", NULL, NULL);
    self.metrics = ds_qmetrics_new (config->metrics, config);
    msgpack_sbuffer_init (&self.out);
    msgpack_sbuffer_init (&self.req);
    msgpack_zone_init (&self.zone, 65536);
    self.timeout = config->timeout_ms > 0 ? config->timeout_ms : DS_QUERY_TIMEOUT_DEFAULT;
    self.n_shards = config->shard_endpoints.count;
    const char *endpoint = config->endpoint ? config->endpoint : DS_QUERY_ENDPOINT_DEFAULT;
    bool ok = self.n_shards > 0;
    if (!ok)
        ds_log_error ("cannot start: no shard endpoints (--shard-endpoint or --shards)");
    if (ok) {
        self.shards = ds_shards_new (&config->shard_endpoints, self.timeout);
        ok = self.shards != NULL;
        self.n_shards = ok ? ds_shards_count (self.shards) : 0;
    }
    if (ok) {
        self.front = zsock_new (ZMQ_REP);
        if (self.front)
            ds_sock_defaults (self.front);      //  cap DS_FRAME_CONTROL_WIRE_MAX
        if (!self.front || ds_curve_bind (self.front, endpoint) == -1) {
            ds_log_error ("cannot bind the front door %s", endpoint);
            ok = false;
        }
    }
    if (!ok) {
        ds_actor_refused (pipe, (const ds_actor_answer_t []) { { "ENDPOINT", "", 1 }, { NULL, NULL, 0 } });
    }
    else {
        zsock_signal (pipe, 0);
        ds_log_info ("answering on %s, %zu shard(s), timeout %d ms", zsock_endpoint (self.front),
                     self.n_shards, self.timeout);
        while (true) {
            //  The pipe, the front door, and the probes of down shards
            //  (ds_shards_tick reads their answers and renews them).
            int timeout = ds_shards_tick (self.shards);
            zmq_pollitem_t items [2 + DS_SHARDS_MAX] = {
                { zsock_resolve (pipe), 0, ZMQ_POLLIN, 0 },
                { zsock_resolve (self.front), 0, ZMQ_POLLIN, 0 },
            };
            int n = 2 + ds_shards_poll_items (self.shards, items + 2, DS_SHARDS_MAX);
            if (zmq_poll (items, n, timeout) == -1) {
                if (errno == EINTR && !zsys_interrupted)
                    continue;
                break;
            }
            if (items [0].revents & ZMQ_POLLIN) {
                char *command = zstr_recv (pipe);
                bool term = !command || streq (command, "$TERM");
                if (command && streq (command, "ENDPOINT"))
                    zstr_send (pipe, zsock_endpoint (self.front));
                zstr_free (&command);
                if (term)
                    break;
            }
            if (items [1].revents & ZMQ_POLLIN)
                s_on_front (&self);
        }
    }
    s_request_reset (&self);
    for (size_t i = 0; i < S_CACHE_SIZE; i++) {
        zchunk_destroy (&self.cache [i].key);
        free (self.cache [i].reply);
    }
    ds_shards_destroy (&self.shards);
    zsock_destroy (&self.labeler);
    zsock_destroy (&self.embed);
    zsock_destroy (&self.front);
    msgpack_zone_destroy (&self.zone);
    msgpack_sbuffer_destroy (&self.out);
    msgpack_sbuffer_destroy (&self.req);
    ds_qmetrics_destroy (&self.metrics);
}

int
ds_query_endpoint (zactor_t *actor, char *buf, size_t size)
{
    buf [0] = 0;
    if (!actor || zstr_send (actor, "ENDPOINT"))
        return -1;
    zpoller_t *poller = zpoller_new (actor, NULL);
    if (poller && zpoller_wait (poller, 30000)) {
        char *reply = zstr_recv (actor);
        snprintf (buf, size, "%s", reply ? reply : "");
        zstr_free (&reply);
    }
    zpoller_destroy (&poller);
    return buf [0] ? 0 : -1;
}
