/*  control.c - the labeler's control socket and reloads; see labeler.h.

    The REP control socket answers "lookup", "reload" and "status".  A
    reload loads on a thread of its own (reload.h); its answer waits until
    the load ends (the REP takes no other request meanwhile), and reloads
    asked for while one runs are coalesced into one more after it.
*/
#include "labeler_internal.h"
#include "log.h"
#include <inttypes.h>
#include "curve.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void
s_pack_uint (msgpack_packer *pk, const char *key, uint64_t value)
{
    ds_pack_str (pk, key);
    msgpack_pack_uint64 (pk, value);
}

void
labeler_log_tables (labeler_t *self, const char *what)
{
    ds_log_info_kv (DS_FIELDS (DS_KV ("generation", self->generation),
                               DS_KV ("classes", ds_gt_class_count (self->gt)),
                               DS_KV ("exact", ds_gt_exact_count (self->gt)),
                               DS_KV ("prefixes", ds_gt_prefix_count (self->gt)),
                               DS_KV ("warnings", ds_gt_warning_count (self->gt)),
                               DS_KV ("services", ds_services_count (self->services)),
                               DS_KV ("service_entries", ds_services_entries (self->services))),
                    "%s", what);
}

int64_t
labeler_wall_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

//  Sends the answer of the control "reload" that waited for this load.
static void
s_reload_reply (labeler_t *self, bool ok, const char *why)
{
    msgpack_sbuffer reply;
    msgpack_sbuffer_init (&reply);
    if (ok) {
        msgpack_packer pk;
        msgpack_packer_init (&pk, &reply, msgpack_sbuffer_write);
        ds_reply_ok_begin (&pk);
        msgpack_pack_map (&pk, 6);
        s_pack_uint (&pk, "classes", ds_gt_class_count (self->gt));
        s_pack_uint (&pk, "exact", ds_gt_exact_count (self->gt));
        s_pack_uint (&pk, "prefixes", ds_gt_prefix_count (self->gt));
        s_pack_uint (&pk, "services", ds_services_count (self->services));
        s_pack_uint (&pk, "generation", self->generation);
        ds_pack_str (&pk, "forced");
        if (self->load.force)
            msgpack_pack_true (&pk);
        else
            msgpack_pack_false (&pk);
    }
    else {
        char message [700];
        snprintf (message, sizeof message, "reload %s, the tables in use are kept: %s",
                  strcmp (self->last_reload_result, "refused") == 0 ? "refused" : "failed", why);
        ds_reply_error (&reply, message);
    }
    zmq_send (zsock_resolve (self->rep), reply.data, reply.size, 0);
    msgpack_sbuffer_destroy (&reply);
}

//  Takes the result of the load in flight: checks it, swaps it in or
//  keeps the tables in use, answers whoever asked, then starts the reload
//  asked for meanwhile, if any.
void
labeler_reload_finish (labeler_t *self)
{
    ds_gt_t *gt;
    ds_services_t *services;
    char err [512] = "";
    bool ok = false;
    if (ds_reload_collect (self->loader, &gt, &services, err, sizeof err) != 0) {
        self->reload_errors++;
        snprintf (self->last_reload_result, sizeof self->last_reload_result, "failed");
        ds_log_error_kv (DS_FIELDS (DS_KV ("reason", err), DS_KV ("reload_errors", self->reload_errors)),
                         "reload failed, keeping the tables in use: %s", err);
    }
    else {
        ds_reload_counts_t now = ds_reload_counts (self->gt, self->services);
        ds_reload_counts_t next = ds_reload_counts (gt, services);
        if (!self->load.force && ds_reload_check (&now, &next, err, sizeof err) != 0) {
            self->reload_refusals++;
            snprintf (self->last_reload_result, sizeof self->last_reload_result, "refused");
            ds_log_error_kv (DS_FIELDS (DS_KV ("reason", err), DS_KV ("refusals", self->reload_refusals)),
                             "reload refused, keeping the tables in use: %s (force it with "
                             "{\"force\":true} or --force-reload)", err);
            ds_gt_destroy (&gt);
            ds_services_destroy (&services);
        }
        else {
            if (self->config->tables)           //  the labelling thread first
                ds_tables_set (self->config->tables, gt, services);
            ds_gt_destroy (&self->gt);
            ds_services_destroy (&self->services);
            self->gt = gt;
            self->services = services;
            self->generation++;
            self->loaded_at = labeler_wall_us ();
            self->reloads++;
            snprintf (self->last_reload_result, sizeof self->last_reload_result, "ok");
            labeler_log_tables (self, self->load.force ? "reloaded (forced)" : "reloaded");
            ok = true;
        }
    }
    snprintf (self->last_reload_error, sizeof self->last_reload_error, "%s", ok ? "" : err);
    self->last_reload_at = labeler_wall_us ();
    self->last_reload_forced = self->load.force;
    ds_reload_destroy (&self->loader);
    if (self->load.reply)
        s_reload_reply (self, ok, err);
    if (self->load.pipe)
        zstr_sendf (self->pipe, "RELOAD %s%s%s", self->last_reload_result, ok ? "" : ": ", err);
    self->load = (labeler_request_t) { 0 };
    if (self->again.asked) {
        labeler_request_t request = self->again;
        self->again = (labeler_request_t) { 0 };
        labeler_reload_start (self, request);
    }
}

//  Starts a reload, or (one is running) asks for one more after it.
void
labeler_reload_start (labeler_t *self, labeler_request_t request)
{
    request.asked = true;
    request.force |= self->config->force_reload;
    if (self->loader) {
        self->again.asked = true;
        self->again.force |= request.force;
        self->again.reply |= request.reply;
        self->again.pipe |= request.pipe;
        return;
    }
    self->load = request;
    self->loader = ds_reload_start (self->config);
    if (!self->loader) {
        //  No thread: answer as a failed load would.
        self->reload_errors++;
        snprintf (self->last_reload_result, sizeof self->last_reload_result, "failed");
        snprintf (self->last_reload_error, sizeof self->last_reload_error,
                  "cannot start the loader thread");
        self->last_reload_at = labeler_wall_us ();
        if (request.reply)
            s_reload_reply (self, false, self->last_reload_error);
        if (request.pipe)
            zstr_sendf (self->pipe, "RELOAD failed: %s", self->last_reload_error);
        self->load = (labeler_request_t) { 0 };
    }
}

//  True while the control socket owes the answer of a reload: it takes no
//  other request until then (REQ/REP).
bool
labeler_control_busy (const labeler_t *self)
{
    return self->loader && (self->load.reply || self->again.reply);
}

//  Takes a finished load's result if there is one.
void
labeler_reload_poll (labeler_t *self)
{
    if (self->loader && (zsock_events (ds_reload_sock (self->loader)) & ZMQ_POLLIN))
        labeler_reload_finish (self);
}

//  --------------------------------------------------------------------------
//  Control

//  "YYYY-MM-DDTHH:MM:SSZ" of a wall clock time in microseconds.
static void
s_pack_time (msgpack_packer *pk, int64_t us)
{
    time_t t = (time_t) (us / 1000000);
    struct tm tm;
    char text [32];
    if (gmtime_r (&t, &tm) && strftime (text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm))
        ds_pack_str (pk, text);
    else
        msgpack_pack_nil (pk);
}

//  The tables in use and the last reload (DESIGN §12: a refused reload
//  says why).
static void
s_pack_tables (labeler_t *self, msgpack_packer *pk)
{
    ds_reload_counts_t counts = ds_reload_counts (self->gt, self->services);
    msgpack_pack_map (pk, 8);
    s_pack_uint (pk, "generation", self->generation);
    ds_pack_str (pk, "loaded_at");
    s_pack_time (pk, self->loaded_at);
    s_pack_uint (pk, "gt_entries", counts.gt_entries);
    s_pack_uint (pk, "services_entries", counts.services);
    ds_pack_str (pk, "reloading");
    if (self->loader)
        msgpack_pack_true (pk);
    else
        msgpack_pack_false (pk);
    s_pack_uint (pk, "reload_refusals", self->reload_refusals);
    ds_pack_str (pk, "force_reload");
    if (self->config->force_reload)
        msgpack_pack_true (pk);
    else
        msgpack_pack_false (pk);
    ds_pack_str (pk, "last_reload");
    if (!self->last_reload_at) {
        msgpack_pack_nil (pk);
        return;
    }
    msgpack_pack_map (pk, 4);
    ds_pack_str (pk, "at");
    s_pack_time (pk, self->last_reload_at);
    ds_pack_str (pk, "result");
    ds_pack_str (pk, self->last_reload_result);
    ds_pack_str (pk, "forced");
    if (self->last_reload_forced)
        msgpack_pack_true (pk);
    else
        msgpack_pack_false (pk);
    ds_pack_str (pk, "error");
    if (self->last_reload_error [0])
        ds_pack_str (pk, self->last_reload_error);
    else
        msgpack_pack_nil (pk);
}

static void
s_pack_status (labeler_t *self, msgpack_packer *pk)
{
    uint64_t gaps = 0;
    for (size_t i = 0; i < self->n_streams; i++)
        gaps += self->streams [i].gaps;
    msgpack_pack_map (pk, 19);
    ds_pack_str (pk, "service");
    ds_pack_str (pk, "labeler");
    ds_pack_str (pk, "ready");
    if (self->ready)
        msgpack_pack_true (pk);
    else
        msgpack_pack_false (pk);
    s_pack_uint (pk, "batches", self->batches);
    s_pack_uint (pk, "records", self->records);
    s_pack_uint (pk, "eos", self->eos);
    s_pack_uint (pk, "stats", self->stats);
    s_pack_uint (pk, "gaps", gaps);
    s_pack_uint (pk, "unheard", self->unheard_total);
    s_pack_uint (pk, "unheard_shard", self->unheard_shard_total);
    s_pack_uint (pk, "announced", self->announced);
    s_pack_uint (pk, "refused_connections", ds_curve_refused ());   //  by CURVE/ZAP
    s_pack_uint (pk, "rejected", self->rejected);
    s_pack_uint (pk, "reloads", self->reloads);
    s_pack_uint (pk, "reload_errors", self->reload_errors);
    s_pack_uint (pk, "requests_too_big", self->too_big);
    ds_pack_str (pk, "tables");
    s_pack_tables (self, pk);
    ds_pack_str (pk, "gt");
    msgpack_pack_map (pk, 4);
    s_pack_uint (pk, "classes", ds_gt_class_count (self->gt));
    s_pack_uint (pk, "exact", ds_gt_exact_count (self->gt));
    s_pack_uint (pk, "prefixes", ds_gt_prefix_count (self->gt));
    s_pack_uint (pk, "warnings", ds_gt_warning_count (self->gt));
    ds_pack_str (pk, "services");
    msgpack_pack_map (pk, 2);
    s_pack_uint (pk, "entries", ds_services_entries (self->services));
    s_pack_uint (pk, "names", ds_services_count (self->services));
    ds_pack_str (pk, "streams");
    msgpack_pack_array (pk, self->n_streams);
    for (size_t i = 0; i < self->n_streams; i++) {
        const labeler_stream_t *s = &self->streams [i];
        msgpack_pack_map (pk, 11);
        s_pack_uint (pk, "sensor", s->sensor);
        s_pack_uint (pk, "epoch", s->epoch);
        s_pack_uint (pk, "shard", s->shard);
        s_pack_uint (pk, "batches", s->batches);
        s_pack_uint (pk, "records", s->records);
        s_pack_uint (pk, "next_seq", s->next_seq);
        s_pack_uint (pk, "gaps", s->gaps);
        s_pack_uint (pk, "out_of_order", s->out_of_order);
        s_pack_uint (pk, "unheard", s->unheard);
        s_pack_uint (pk, "unheard_shard", s->unheard_shard);
        ds_pack_str (pk, "eos");
        if (s->eos)
            msgpack_pack_true (pk);
        else
            msgpack_pack_false (pk);
    }
}

void
labeler_control_handle (labeler_t *self)
{
    zmsg_t *request = zmsg_recv (self->rep);
    if (!request)
        return;
    msgpack_sbuffer reply;
    msgpack_sbuffer_init (&reply);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &reply, msgpack_sbuffer_write);
    ds_query_t query;
    char err [512] = "";
    zframe_t *frame = zmsg_first (request);
    if (zmsg_size (request) != 1 || !frame)
        ds_reply_error (&reply, "a request is one frame: {\"v\":1,\"q\":NAME,\"args\":{...}}");
    else
    if (ds_query_decode (zframe_data (frame), zframe_size (frame), &query, err, sizeof err)) {
        if (zframe_size (frame) > DS_FRAME_CONTROL_MAX
        &&  (++self->too_big <= 5 || self->too_big % 1000 == 0))
            ds_log_warn ("control: %s (%" PRIu64 " so far)", err, self->too_big);
        ds_reply_error (&reply, err [0] ? err : "malformed request");
    }
    else
    if (strcmp (query.name, "lookup") == 0) {
        ds_addr_t addr;
        if (ds_addr_parse (&addr, query.ip)) {
            snprintf (err, sizeof err, "lookup: '%.64s' is not an IPv4 or IPv6 address", query.ip);
            ds_reply_error (&reply, err);
        }
        else {
            char rule [512], text [64];
            bool matched;
            uint16_t id = ds_gt_explain (self->gt, &addr, &matched, rule, sizeof rule);
            ds_reply_ok_begin (&pk);
            msgpack_pack_map (&pk, 4);
            ds_pack_str (&pk, "ip");
            ds_pack_str (&pk, ds_addr_format (&addr, text, sizeof text));
            ds_pack_str (&pk, "class");
            ds_pack_str (&pk, ds_gt_class_names (self->gt) [id]);
            ds_pack_str (&pk, "matched");
            if (matched)
                msgpack_pack_true (&pk);
            else
                msgpack_pack_false (&pk);
            ds_pack_str (&pk, "rule");
            ds_pack_str (&pk, rule);
        }
    }
    else
    if (strcmp (query.name, "reload") == 0) {
        //  Answered when the load ends (s_reload_reply).
        zmsg_destroy (&request);
        msgpack_sbuffer_destroy (&reply);
        labeler_reload_start (self, (labeler_request_t) { .force = query.force, .reply = true });
        return;
    }
    else
    if (strcmp (query.name, "status") == 0) {
        ds_reply_ok_begin (&pk);
        s_pack_status (self, &pk);
    }
    else {
        snprintf (err, sizeof err, "unknown query '%.32s' (the labeler answers lookup, reload, status)",
                  query.name);
        ds_reply_error (&reply, err);
    }
    zmsg_destroy (&request);
    zmq_send (zsock_resolve (self->rep), reply.data, reply.size, 0);
    msgpack_sbuffer_destroy (&reply);
}

