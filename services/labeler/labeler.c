/*  labeler.c - the labeler service; see labeler.h.

    One thread (the actor) owns the SUB socket to ingest, the XPUB to the
    aggregators, the REP control socket and the tables in use.  A reload
    reads and builds complete new tables on a thread of its own (reload.h)
    while batches go on being labelled with the current ones; the result is
    checked (a reload that would lose entries is refused unless forced) and
    swapped in between two messages, so a batch is labelled by one table
    set, never a mix.  Reloads asked for while one runs are coalesced into
    one more after it.
*/
#include "labeler_internal.h"
#include "ds_proto.h"
#include "log.h"
#include "curve.h"
#include "signals.h"
#include "transport.h"
#include "actor.h"
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

//  Publishes the counters to the metrics group, once per burst.
static void
s_metrics (labeler_t *self, int burst)
{
    ds_mgroup_t *g = self->metrics;
    if (!g)
        return;
    ds_mgroup_begin (g);
    for (size_t i = 0; i < self->n_streams; i++) {
        const labeler_stream_t *st = &self->streams [i];
        ds_mgroup_set (g, st->m.batches, (double) st->batches);
        ds_mgroup_set (g, st->m.records, (double) st->records);
        ds_mgroup_set (g, st->m.gaps, (double) st->gaps);
    }
    ds_mgroup_set (g, self->m_rejects, (double) self->rejected);
    ds_mgroup_set (g, self->m_eos, (double) self->eos);
    ds_mgroup_set (g, self->m_reloads, (double) self->reloads);
    ds_mgroup_set (g, self->m_reload_errors, (double) self->reload_errors);
    ds_mgroup_set (g, self->m_waits, (double) self->waits);
    ds_mgroup_set (g, self->m_queue, burst);
    ds_mgroup_set (g, self->m_unheard, (double) self->unheard_total);
    ds_mgroup_set (g, self->m_unheard_shard, (double) self->unheard_shard_total);
    ds_mgroup_end (g);
}

void
ds_labeler_config_init (ds_labeler_config_t *config)
{
    memset (config, 0, sizeof *config);
    config->endpoint = DS_LABELER_ENDPOINT;
    config->control = DS_LABELER_CONTROL;
    config->shards = 1;
    config->wait_ms = -1;
}

//  --------------------------------------------------------------------------
//  Tables

int
ds_labeler_load_tables (const ds_labeler_config_t *config, ds_gt_t **gt_p,
                        ds_services_t **services_p, char *err, size_t err_size)
{
    ds_gt_t *gt = ds_gt_new ();
    if (!gt) {
        snprintf (err, err_size, "out of memory");
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < config->aliases.count && rc == 0; i++)
        rc = ds_gt_alias_spec (gt, config->aliases.items [i], err, err_size);
    for (size_t i = 0; i < config->gt.count && rc == 0; i++)
        rc = ds_gt_load_csv (gt, config->gt.items [i], err, err_size);
    for (size_t i = 0; i < config->gt_lists.count && rc == 0; i++)
        rc = ds_gt_load_spec (gt, config->gt_lists.items [i], err, err_size);
    if (rc == 0 && ds_gt_build (gt)) {
        snprintf (err, err_size, "cannot build the GT table (out of memory or too many classes)");
        rc = -1;
    }
    ds_services_t *services = NULL;
    if (rc == 0) {
        const char *path = config->services && *config->services ? config->services : NULL;
        services = ds_services_load (path, err, err_size);
        if (!services)
            rc = -1;
    }
    if (rc) {
        ds_gt_destroy (&gt);
        return -1;
    }
    *gt_p = gt;
    *services_p = services;
    return 0;
}

int
ds_labeler_label (ds_batch_t *batch, const ds_gt_t *gt,
                  const ds_services_t *services, uint8_t *matched)
{
    if (ds_batch_set_dicts (batch, ds_gt_class_names (gt), ds_gt_class_count (gt),
                            ds_services_names (services), ds_services_count (services)))
        return -1;
    uint32_t n = batch->count;
    ds_gt_lookup_many (gt, batch->src, n, batch->class_id, matched);
    for (uint32_t i = 0; i < n; i++)
        batch->flags [i] = (uint8_t) ((batch->flags [i] & ~DS_FLAG_GT)
                                      | (matched [i] ? DS_FLAG_GT : 0));
    ds_services_lookup_many (services, batch->port, batch->proto, n, batch->service_id);
    return 0;
}

//  One command from the actor pipe.
void
labeler_handle_pipe (labeler_t *self)
{
    char *command = zstr_recv (self->pipe);
    if (!command) {
        self->terminated = true;                //  interrupted
        return;
    }
    if (strcmp (command, "$TERM") == 0)
        self->terminated = true;
    else
    if (strcmp (command, "RELOAD") == 0)
        labeler_reload_start (self, (labeler_request_t) { .pipe = true });
    else
    if (strcmp (command, "RELOAD FORCE") == 0)
        labeler_reload_start (self, (labeler_request_t) { .pipe = true, .force = true });
    else
    if (strcmp (command, "ENDPOINTS") == 0)
        zstr_sendx (self->pipe, self->data_endpoint, self->control_endpoint, NULL);
    else
        ds_log_warn ("unknown pipe command '%s'", command);
    zstr_free (&command);
}

//  --------------------------------------------------------------------------
//  Start and run

//  "0,2-3" -> handled [k] for k < shards.
static int
s_parse_shards (const char *list, bool *handled, uint32_t shards)
{
    if (!list || !*list) {
        for (uint32_t k = 0; k < shards; k++)
            handled [k] = true;
        return 0;
    }
    const char *p = list;
    while (*p) {
        char *end;
        errno = 0;
        unsigned long lo = strtoul (p, &end, 10), hi = lo;
        if (end == p || errno)
            return -1;
        p = end;
        if (*p == '-') {
            hi = strtoul (++p, &end, 10);
            if (end == p || errno)
                return -1;
            p = end;
        }
        if (lo > hi || hi >= shards)
            return -1;
        for (unsigned long k = lo; k <= hi; k++)
            handled [k] = true;
        if (*p == ',')
            p++;
        else
        if (*p)
            return -1;
    }
    return 0;
}

static void
s_last_endpoint (zsock_t *sock, char *buf, size_t size)
{
    size_t len = size;
    buf [0] = 0;
    if (zmq_getsockopt (zsock_resolve (sock), ZMQ_LAST_ENDPOINT, buf, &len))
        buf [0] = 0;
}

//  The SUB to ingest: its subscriptions, then its connections.
static int
s_connect_inputs (labeler_t *self)
{
    const ds_labeler_config_t *config = self->config;
    self->sub = zsock_new (ZMQ_SUB);
    if (!self->sub)
        return -1;
    ds_sock_defaults (self->sub);
    bool all = true;
    for (uint32_t k = 0; k < self->shards; k++)
        all = all && self->handled [k];
    if (all)
        zsock_set_subscribe (self->sub, "pkt.");
    else
        for (uint32_t k = 0; k < self->shards; k++)
            if (self->handled [k]) {
                char topic [16];
                ds_topic_format (topic, "pkt", k);
                zsock_set_subscribe (self->sub, topic);
            }
    size_t n_inputs = config->inputs.count;
    if (self->metrics) {            //  before connecting, or it misses the connections
        char list [4096] = "";
        for (size_t i = 0, used = 0; i < n_inputs && used < sizeof list; i++)
            used += (size_t) snprintf (list + used, sizeof list - used, "%s,", config->inputs.items [i]);
        ds_mgroup_watch (self->metrics, self->sub, "inputs (ingest)",
                         ds_metrics_remote_count (n_inputs ? list : DS_LABELER_INPUT));
    }
    for (size_t i = 0; i < (n_inputs ? n_inputs : 1); i++) {
        const char *input = n_inputs ? config->inputs.items [i] : DS_LABELER_INPUT;
        if (ds_curve_connect (self->sub, input) < 0)   //  logs why
            return -1;
    }
    return 0;
}

static int
s_start (labeler_t *self)
{
    const ds_labeler_config_t *config = self->config;
    char err [512];
    if (config->shards == 0 || config->shards > DS_SHARDS_MAX) {
        ds_log_error ("shards must be 1..%d, not %u", DS_SHARDS_MAX, config->shards);
        return -1;
    }
    self->shards = config->shards;
    self->handled = calloc (self->shards, sizeof *self->handled);
    self->unheard = calloc (self->shards, sizeof *self->unheard);
    self->unheard_shard = calloc (self->shards, sizeof *self->unheard_shard);
    if (!self->handled || !self->unheard || !self->unheard_shard || s_parse_shards (config->shard_list, self->handled, self->shards)) {
        ds_log_error ("bad shard list '%s': expected e.g. 0,2-3 with shards below %u",
                      config->shard_list ? config->shard_list : "", self->shards);
        return -1;
    }
    if (ds_labeler_load_tables (config, &self->gt, &self->services, err, sizeof err)) {
        ds_log_error ("cannot load the tables: %s", err);
        return -1;
    }
    labeler_log_tables (self, "tables");
    self->generation = 1;
    self->loaded_at = labeler_wall_us ();
    self->batch = ds_batch_new (DS_BATCH_MAX_CAPACITY);
    self->matched = malloc (DS_BATCH_MAX_CAPACITY);
    if (!self->batch || !self->matched) {
        ds_log_error ("out of memory");
        return -1;
    }
    if (config->tables) {
        //  No data path: lend the tables to the thread that labels.
        ds_tables_set (config->tables, self->gt, self->services);
        self->ready = true;
        ds_mgroup_condition (self->metrics, "every shard subscribed", true);
    }
    else {
        //  Output first, so subscribers can arrive while we connect.
        self->xpub = zsock_new (ZMQ_XPUB);
        if (!self->xpub)
            return -1;
        ds_sock_defaults (self->xpub);
        zsock_set_xpub_nodrop (self->xpub, 1);
        zsock_set_xpub_verbose (self->xpub, 1); //  every subscriber's arrival (s_mark_announce)
        const char *endpoint = config->endpoint ? config->endpoint : DS_LABELER_ENDPOINT;
        if (ds_curve_bind (self->xpub, endpoint) < 0)  //  logs why
            return -1;
        self->packed = ds_transport_packed (endpoint);
        s_last_endpoint (self->xpub, self->data_endpoint, sizeof self->data_endpoint);
    }
    if (config->control && *config->control) {
        self->rep = zsock_new (ZMQ_REP);
        if (!self->rep)
            return -1;
        ds_sock_defaults (self->rep);
        if (ds_curve_bind (self->rep, config->control) < 0)    //  logs why
            return -1;
        s_last_endpoint (self->rep, self->control_endpoint, sizeof self->control_endpoint);
    }
    if (!config->tables && s_connect_inputs (self) != 0)
        return -1;
    self->wait_deadline = config->wait_ms < 0 ? INT64_MAX : zclock_mono () + config->wait_ms;
    size_t n_inputs = config->inputs.count;
    if (config->tables)
        ds_log_info ("labelling in the ingest thread, control on %s, %u shard(s)",
                     self->control_endpoint [0] ? self->control_endpoint : "(none)", self->shards);
    else
        ds_log_info ("labelled batches on %s, control on %s, %u shard(s), %zu input(s)",
                     self->data_endpoint, self->control_endpoint [0] ? self->control_endpoint : "(none)",
                     self->shards, n_inputs ? n_inputs : 1);
    return 0;
}

static void
s_stop (labeler_t *self)
{
    ds_reload_destroy (&self->loader);
    if (self->config->tables)
        ds_tables_set (self->config->tables, NULL, NULL);     //  before they are freed
    zsock_destroy (&self->sub);
    zsock_destroy (&self->xpub);
    zsock_destroy (&self->rep);
    ds_gt_destroy (&self->gt);
    ds_services_destroy (&self->services);
    ds_batch_destroy (&self->batch);
    free (self->matched);
    msgpack_sbuffer_destroy (&self->out);
    free (self->handled);
    for (size_t i = 0; i < self->n_subscriptions; i++)
        free (self->subscriptions [i]);
    free (self->subscriptions);
    free (self->subscription_len);
    for (size_t i = 0; i < self->n_streams; i++)
        free (self->streams [i].last);
    free (self->streams);
    free (self->unheard);
    free (self->unheard_shard);
}

void
ds_labeler_actor (zsock_t *pipe, void *args)
{
    ds_signals_block_thread ();
    labeler_t self_s = { .config = args, .pipe = pipe };
    labeler_t *self = &self_s;
    ds_log_thread ("labeler", NULL, NULL);
    msgpack_sbuffer_init (&self->out);
    self->metrics = ds_metrics_group (self->config->metrics, "labeler", NULL);
    if (self->metrics) {
        ds_mgroup_t *g = self->metrics;
        self->m_rejects = ds_mgroup_series (g, "darkscope_rejects_total", NULL);
        self->m_eos = ds_mgroup_series (g, "darkscope_eos_total", NULL);
        self->m_reloads = ds_mgroup_series (g, "darkscope_reloads_total", "result", "ok", NULL);
        self->m_reload_errors = ds_mgroup_series (g, "darkscope_reloads_total", "result", "failed", NULL);
        self->m_queue = ds_mgroup_series (g, "darkscope_queue_depth", NULL);
        self->m_waits = ds_mgroup_series (g, "darkscope_backpressure_waits_total", NULL);
        self->m_unheard = ds_mgroup_series (g, "darkscope_unheard_batches_total", "subscriber", "none", NULL);
        self->m_unheard_shard = ds_mgroup_series (g, "darkscope_unheard_batches_total",
                                                  "subscriber", "whole_stream", NULL);
        ds_mgroup_condition (g, "tables loaded", false);
        ds_mgroup_condition (g, "every shard subscribed", false);
    }
    if (s_start (self)) {
        //  Could not start (logged): say so, then stay until $TERM so the
        //  pipe stays usable ("ENDPOINTS" answers two empty strings).
        s_stop (self);
        ds_mgroup_fail (self->metrics, "the labeler could not start (see its log)");
        ds_actor_refused (pipe, (const ds_actor_answer_t []) { { "ENDPOINTS", "", 2 }, { NULL, NULL, 0 } });
        return;
    }
    ds_mgroup_condition (self->metrics, "tables loaded", true);
    s_metrics (self, 0);
    zsock_signal (pipe, 0);
    while (!self->terminated) {
        labeler_forward_check_ready (self);
        zmq_pollitem_t items [5];
        int n = 0;
        items [n++] = (zmq_pollitem_t) { zsock_resolve (pipe), 0, ZMQ_POLLIN, 0 };
        int xpub_at = -1, rep_at = -1, sub_at = -1;
        if (self->xpub) {
            xpub_at = n;
            items [n++] = (zmq_pollitem_t) { zsock_resolve (self->xpub), 0, ZMQ_POLLIN, 0 };
        }
        if (self->rep && !labeler_control_busy (self)) {
            rep_at = n;
            items [n++] = (zmq_pollitem_t) { zsock_resolve (self->rep), 0, ZMQ_POLLIN, 0 };
        }
        int load_at = -1;
        if (self->loader) {
            load_at = n;
            items [n++] = (zmq_pollitem_t) { zsock_resolve (ds_reload_sock (self->loader)),
                                             0, ZMQ_POLLIN, 0 };
        }
        if (self->ready && self->sub) {         //  not before subscribers are there
            sub_at = n;
            items [n++] = (zmq_pollitem_t) { zsock_resolve (self->sub), 0, ZMQ_POLLIN, 0 };
        }
        long timeout = -1;
        if (!self->ready && self->wait_deadline != INT64_MAX) {
            int64_t left = self->wait_deadline - zclock_mono ();
            timeout = left < 0 ? 0 : (long) left;
        }
        if (zmq_poll (items, n, timeout) < 0) {
            if (errno == EINTR)
                continue;
            ds_log_error ("poll: %s", zmq_strerror (errno));
            break;
        }
        if (items [0].revents & ZMQ_POLLIN)
            labeler_handle_pipe (self);
        if (xpub_at >= 0 && (items [xpub_at].revents & ZMQ_POLLIN)) {
            while (!self->terminated && (zsock_events (self->xpub) & ZMQ_POLLIN))
                labeler_forward_subscription (self);
            labeler_forward_announce (self);
        }
        if (load_at >= 0 && (items [load_at].revents & ZMQ_POLLIN))
            labeler_reload_finish (self);
        if (rep_at >= 0 && !labeler_control_busy (self) && (items [rep_at].revents & ZMQ_POLLIN))
            labeler_control_handle (self);
        //  A bounded burst of data, then look at the other sockets again.
        //  Control requests are served between any two batches of a burst,
        //  so a reload or lookup never waits behind a back-pressured stream.
        int burst = 0;
        if (sub_at >= 0 && (items [sub_at].revents & ZMQ_POLLIN))
            while (burst < 64 && !self->terminated) {
                labeler_forward_data (self);
                burst++;
                labeler_reload_poll (self);
                if (self->rep && !labeler_control_busy (self) && (zsock_events (self->rep) & ZMQ_POLLIN))
                    labeler_control_handle (self);
                if (!(zsock_events (self->sub) & ZMQ_POLLIN))
                    break;
            }
        s_metrics (self, burst);
    }
    ds_log_info ("stopping: %" PRIu64 " batches, %" PRIu64 " records, %" PRIu64 " EOS, "
                 "%" PRIu64 " rejected, %" PRIu64 " batches sent to nobody (lost), %" PRIu64
                 " to no subscriber of their shard (lost for its aggregator)",
                 self->batches, self->records, self->eos, self->rejected, self->unheard_total,
                 self->unheard_shard_total);
    s_stop (self);
}

int
ds_labeler_endpoints (zactor_t *actor, char *data, size_t data_size,
                      char *control, size_t control_size)
{
    if (zstr_send (actor, "ENDPOINTS"))
        return -1;
    zpoller_t *poller = zpoller_new (actor, NULL);
    void *which = poller ? zpoller_wait (poller, 30000) : NULL;
    zpoller_destroy (&poller);
    if (!which)
        return -1;
    zmsg_t *msg = zmsg_recv (actor);
    if (!msg || zmsg_size (msg) != 2) {
        zmsg_destroy (&msg);
        return -1;
    }
    char *a = zmsg_popstr (msg), *b = zmsg_popstr (msg);
    snprintf (data, data_size, "%s", a ? a : "");
    snprintf (control, control_size, "%s", b ? b : "");
    zstr_free (&a);
    zstr_free (&b);
    zmsg_destroy (&msg);
    return data [0] || control [0] ? 0 : -1;    //  both "": it could not start
}
