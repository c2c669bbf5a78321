/*  qmetrics.c - see qmetrics.h. */
#include "qmetrics.h"
#include "ds_proto.h"
#include "partial_codec.h"
#include "transport.h"
#include "curve.h"
#include <stdlib.h>
#include <string.h>

//  Query names with their own series (the protocol's); others: "invalid".
static const char *s_names [] = {
    "overview", "ports", "ecdf", "daily", "classes", "heatmap", "pattern", "lookup",
    "status", "knn", "classify", "embedding", "projection", "invalid"
};
#define S_NAMES (sizeof s_names / sizeof *s_names)

struct _ds_qmetrics_t {
    const ds_query_config_t *config;
    ds_mgroup_t *g;
    struct {
        int total, failures, latency;
    } series [S_NAMES];
};

static bool
s_probe (void *arg, char *why, size_t why_size)
{
    ds_qmetrics_t *self = arg;
    return ds_qmetrics_probe_shards (self->config, 1000, why, why_size);
}

ds_qmetrics_t *
ds_qmetrics_new (ds_metrics_t *registry, const ds_query_config_t *config)
{
    if (!registry)
        return NULL;
    ds_qmetrics_t *self = calloc (1, sizeof *self);
    if (!self || !(self->g = ds_metrics_group (registry, "query", NULL))) {
        free (self);
        return NULL;
    }
    self->config = config;
    for (size_t i = 0; i < S_NAMES; i++) {
        self->series [i].total = ds_mgroup_series (self->g, "darkscope_queries_total", "q", s_names [i], NULL);
        self->series [i].failures = ds_mgroup_series (self->g, "darkscope_query_failures_total", "q", s_names [i], NULL);
        self->series [i].latency = ds_mgroup_series (self->g, "darkscope_query_duration_seconds", "q", s_names [i], NULL);
    }
    ds_mgroup_probe (self->g, "every shard answers", s_probe, self);
    return self;
}

void
ds_qmetrics_destroy (ds_qmetrics_t **self_p)
{
    if (self_p && *self_p) {
        free (*self_p);
        *self_p = NULL;
    }
}

void
ds_qmetrics_request (ds_qmetrics_t *self, const char *name, bool ok, double seconds)
{
    if (!self)
        return;
    size_t i = 0;
    while (i < S_NAMES - 1 && (!name || strcmp (name, s_names [i]) != 0))
        i++;
    ds_mgroup_begin (self->g);
    ds_mgroup_add (self->g, self->series [i].total, 1);
    if (!ok)
        ds_mgroup_add (self->g, self->series [i].failures, 1);
    ds_mgroup_observe (self->g, self->series [i].latency, seconds);
    ds_mgroup_end (self->g);
}

bool
ds_qmetrics_probe_shards (const ds_query_config_t *config, int timeout_ms, char *why, size_t why_size)
{
    size_t n = config->shard_endpoints.count;
    ds_part_req_t range = { .kind = DS_PART_RANGE };
    msgpack_sbuffer req;
    msgpack_sbuffer_init (&req);
    zsock_t **socks = calloc (n ? n : 1, sizeof *socks);
    bool ok = socks && ds_part_req_encode (&range, &req) == DS_OK;
    if (!ok)
        snprintf (why, why_size, "out of memory");
    for (size_t i = 0; ok && i < n; i++) {
        socks [i] = zsock_new (ZMQ_REQ);
        if (socks [i])
            ds_sock_defaults (socks [i]);
        if (!socks [i] || ds_curve_connect (socks [i], config->shard_endpoints.items [i]) == -1
        ||  zmq_send (zsock_resolve (socks [i]), req.data, req.size, ZMQ_DONTWAIT) == -1) {
            snprintf (why, why_size, "shard %zu (%s): cannot ask", i, config->shard_endpoints.items [i]);
            ok = false;
        }
    }
    int64_t deadline = zclock_mono () + timeout_ms;
    for (size_t i = 0; ok && i < n; i++) {
        zpoller_t *poller = zpoller_new (socks [i], NULL);
        int64_t left = deadline - zclock_mono ();
        if (!poller || !zpoller_wait (poller, left > 0 ? (int) left : 0)) {
            snprintf (why, why_size, "shard %zu (%s) did not answer within %d ms", i,
                      config->shard_endpoints.items [i], timeout_ms);
            ok = false;
        }
        else {
            zframe_t *reply = zframe_recv (socks [i]);
            zframe_destroy (&reply);
        }
        zpoller_destroy (&poller);
    }
    for (size_t i = 0; socks && i < n; i++)
        zsock_destroy (&socks [i]);
    free (socks);
    msgpack_sbuffer_destroy (&req);
    return ok;
}
