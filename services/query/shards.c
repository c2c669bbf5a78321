/*  shards.c - the query service's links to its shards; see shards.h.

    A shard is up, or down with a probe in flight on its REQ.  Marking a
    shard down happens only when a request to it timed out; any answer to
    a probe (even an error reply) marks it up: it is alive and answering.
*/
#include "shards.h"
#include "ds_proto.h"
#include "transport.h"
#include "log.h"
#include "curve.h"
#include <string.h>

typedef struct {
    const char *endpoint;
    zsock_t *req;                   //  NULL until (re)created
    bool down;                      //  fail at once until a probe is answered
    bool probing;                   //  a probe is in flight on req
    int64_t probe_sent;             //  zclock_mono () of the last probe
    int64_t down_since;             //  zclock_mono () when marked down
    char why [128];                 //  why it was marked down
} s_shard_t;

struct _ds_shards_t {
    s_shard_t shards [DS_SHARDS_MAX];
    size_t n;
    int timeout;                    //  ms per request round
    msgpack_sbuffer probe;          //  {"v":1,"q":"status"}
};

static zsock_t *
s_req_new (const char *endpoint)
{
    zsock_t *sock = zsock_new (ZMQ_REQ);
    if (!sock)
        return NULL;
    ds_sock_defaults (sock);
    zsock_set_maxmsgsize (sock, (int) DS_PARTIAL_WIRE_MAX);
    if (ds_curve_connect (sock, endpoint) == -1)    //  logs why
        zsock_destroy (&sock);
    return sock;
}

ds_shards_t *
ds_shards_new (const ds_strlist_t *endpoints, int timeout_ms)
{
    ds_shards_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    msgpack_sbuffer_init (&self->probe);
    self->timeout = timeout_ms;
    self->n = endpoints->count < DS_SHARDS_MAX ? endpoints->count : DS_SHARDS_MAX;
    ds_query_t q;
    ds_query_init (&q);
    snprintf (q.name, sizeof q.name, "status");
    bool ok = ds_query_encode (&q, &self->probe) == DS_OK;
    for (size_t i = 0; ok && i < self->n; i++) {
        self->shards [i].endpoint = endpoints->items [i];
        self->shards [i].req = s_req_new (endpoints->items [i]);
        ok = self->shards [i].req != NULL;
    }
    if (!ok)
        ds_shards_destroy (&self);
    return self;
}

void
ds_shards_destroy (ds_shards_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ds_shards_t *self = *self_p;
    for (size_t i = 0; i < self->n; i++)
        zsock_destroy (&self->shards [i].req);
    msgpack_sbuffer_destroy (&self->probe);
    free (self);
    *self_p = NULL;
}

size_t
ds_shards_count (ds_shards_t *self)
{
    return self->n;
}

const char *
ds_shards_endpoint (ds_shards_t *self, size_t i)
{
    return i < self->n ? self->shards [i].endpoint : "";
}

bool
ds_shards_down (ds_shards_t *self, size_t i)
{
    return i < self->n && self->shards [i].down;
}

//  Sends a probe on a fresh REQ (the old one may wait for a reply that
//  will never come).  If it cannot be sent, the next renewal tries again.
static void
s_probe (ds_shards_t *self, s_shard_t *sh)
{
    zsock_destroy (&sh->req);
    sh->req = s_req_new (sh->endpoint);
    sh->probing = sh->req
               && zmq_send (zsock_resolve (sh->req), self->probe.data, self->probe.size,
                            ZMQ_DONTWAIT) >= 0;
    sh->probe_sent = zclock_mono ();
    if (!sh->probing)
        zsock_destroy (&sh->req);
}

static void
s_mark_down (ds_shards_t *self, size_t i, const char *why)
{
    s_shard_t *sh = &self->shards [i];
    if (!sh->down) {
        sh->down = true;
        sh->down_since = zclock_mono ();
        snprintf (sh->why, sizeof sh->why, "%s", why);
        ds_log_warn_kv (DS_FIELDS (DS_KV ("shard", i), DS_KV ("endpoint", sh->endpoint), DS_KV ("reason", why),
                                   DS_KV ("probe_ms", DS_SHARDS_PROBE_MS)),
                        "shard %zu (%s) is down: %s; requests fail at once until it answers "
                        "(probed every %d ms)", i, sh->endpoint, why, DS_SHARDS_PROBE_MS);
    }
    s_probe (self, sh);
}

int
ds_shards_tick (ds_shards_t *self)
{
    int64_t now = zclock_mono ();
    int64_t next = -1;
    for (size_t i = 0; i < self->n; i++) {
        s_shard_t *sh = &self->shards [i];
        if (!sh->down)
            continue;
        if (sh->probing && (zsock_events (sh->req) & ZMQ_POLLIN)) {
            zmsg_t *answer = zmsg_recv (sh->req);
            zmsg_destroy (&answer);             //  any answer: it is alive
            sh->down = sh->probing = false;
            ds_log_info_kv (DS_FIELDS (DS_KV ("shard", i), DS_KV ("endpoint", sh->endpoint),
                                       DS_KV ("down_s", (double) (now - sh->down_since) / 1000.0)),
                            "shard %zu (%s) answers again after %.1f s down", i, sh->endpoint,
                            (double) (now - sh->down_since) / 1000.0);
            continue;
        }
        if (now - sh->probe_sent >= DS_SHARDS_PROBE_MS)
            s_probe (self, sh);
        int64_t due = sh->probe_sent + DS_SHARDS_PROBE_MS - now;
        if (due < 0)
            due = 0;
        if (next < 0 || due < next)
            next = due;
    }
    return (int) next;
}

int
ds_shards_poll_items (ds_shards_t *self, zmq_pollitem_t *items, int max)
{
    int n = 0;
    for (size_t i = 0; i < self->n && n < max; i++)
        if (self->shards [i].down && self->shards [i].probing)
            items [n++] = (zmq_pollitem_t) { zsock_resolve (self->shards [i].req), 0, ZMQ_POLLIN, 0 };
    return n;
}

//  The error of a request that finds shard i down.
static void
s_down_error (ds_shards_t *self, size_t i, char *err, size_t size)
{
    const s_shard_t *sh = &self->shards [i];
    snprintf (err, size, "shard %zu (%s) is down (%s, %.1f s ago); requests fail at once "
              "until it answers again", i, sh->endpoint, sh->why,
              (double) (zclock_mono () - sh->down_since) / 1000.0);
}

size_t
ds_shards_ask (ds_shards_t *self, const void *request, size_t size, bool need_all,
               zsock_t *stop, zframe_t **frames, char (*errors) [DS_SHARDS_ERR_MAX],
               bool *stopped)
{
    ds_shards_tick (self);
    size_t failed = 0;
    for (size_t i = 0; i < self->n; i++) {
        frames [i] = NULL;
        errors [i][0] = 0;
        if (self->shards [i].down) {
            s_down_error (self, i, errors [i], DS_SHARDS_ERR_MAX);
            failed++;
        }
    }
    if (failed && need_all)
        return failed;
    bool waiting [DS_SHARDS_MAX] = { false };
    size_t pending = 0;
    for (size_t i = 0; i < self->n; i++) {
        s_shard_t *sh = &self->shards [i];
        if (sh->down)
            continue;
        if (!sh->req)
            sh->req = s_req_new (sh->endpoint);
        if (!sh->req || zmq_send (zsock_resolve (sh->req), request, size, ZMQ_DONTWAIT) == -1) {
            snprintf (errors [i], DS_SHARDS_ERR_MAX, "shard %zu (%s): cannot send: %s",
                      i, sh->endpoint, zmq_strerror (zmq_errno ()));
            zsock_destroy (&sh->req);
            failed++;
            continue;
        }
        waiting [i] = true;
        pending++;
    }
    int64_t deadline = zclock_mono () + self->timeout;
    while (pending > 0) {
        zmq_pollitem_t items [DS_SHARDS_MAX + 1];
        size_t index [DS_SHARDS_MAX + 1];
        int n = 0;
        if (stop) {
            items [n] = (zmq_pollitem_t) { zsock_resolve (stop), 0, ZMQ_POLLIN, 0 };
            index [n++] = SIZE_MAX;
        }
        for (size_t i = 0; i < self->n; i++)
            if (waiting [i]) {
                items [n] = (zmq_pollitem_t) { zsock_resolve (self->shards [i].req), 0, ZMQ_POLLIN, 0 };
                index [n++] = i;
            }
        int64_t left = deadline - zclock_mono ();
        if (left <= 0 || zmq_poll (items, n, (long) left) == -1)
            break;
        for (int k = 0; k < n; k++) {
            if (!(items [k].revents & ZMQ_POLLIN))
                continue;
            if (index [k] == SIZE_MAX) {
                *stopped = true;
                continue;
            }
            size_t i = index [k];
            waiting [i] = false;
            pending--;
            zmsg_t *msg = zmsg_recv (self->shards [i].req);
            if (msg && zmsg_size (msg) == 1)
                frames [i] = zmsg_pop (msg);
            else {
                snprintf (errors [i], DS_SHARDS_ERR_MAX, "shard %zu (%s): reply is not one frame",
                          i, self->shards [i].endpoint);
                failed++;
            }
            zmsg_destroy (&msg);
        }
        if (*stopped)
            break;
    }
    //  Shards that did not answer: down, unless we are stopping (then only
    //  their REQ, which waits for a reply that may still come, is dropped).
    for (size_t i = 0; i < self->n; i++)
        if (waiting [i]) {
            s_shard_t *sh = &self->shards [i];
            failed++;
            if (*stopped) {
                snprintf (errors [i], DS_SHARDS_ERR_MAX, "stopping");
                zsock_destroy (&sh->req);
                continue;
            }
            char why [64];
            snprintf (why, sizeof why, "no answer within %d ms", self->timeout);
            snprintf (errors [i], DS_SHARDS_ERR_MAX, "shard %zu (%s) did not answer within %d ms; "
                      "marked down", i, sh->endpoint, self->timeout);
            s_mark_down (self, i, why);
        }
    return failed;
}
