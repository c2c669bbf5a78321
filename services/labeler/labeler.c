/*  labeler.c - the labeler service; see labeler.h.

    One thread (the actor) owns everything: the SUB socket to ingest, the
    XPUB to the aggregators, the REP control socket and the tables.  A
    reload builds complete new tables first and swaps them in between two
    messages, so a batch is labelled by one table set, never a mix; while
    it loads, batches wait in the SUB queue (and ingest feels back-pressure).
*/
#include "labeler.h"
#include "ds_proto.h"
#include "log.h"
#include "transport.h"
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define S_LOG_REJECT_FIRST 20       //  log the first rejects, then every 1000th

typedef struct {
    uint32_t sensor;
    uint32_t shard;
    uint64_t next_seq;              //  seq expected next
    uint64_t gaps;                  //  batches missing (seq jumps, EOS tail)
    uint64_t out_of_order;          //  batches with seq < next_seq
    uint64_t batches;
    uint64_t records;
    bool eos;
} s_stream_t;

typedef struct {
    const ds_labeler_config_t *config;
    zsock_t *pipe;
    zsock_t *sub;                   //  from ingest
    zsock_t *xpub;                  //  to aggregators
    zsock_t *rep;                   //  control, may be NULL
    char data_endpoint [256];
    char control_endpoint [256];
    ds_gt_t *gt;
    ds_services_t *services;
    ds_batch_t *batch;              //  reused for every message
    uint8_t *matched;               //  scratch, DS_BATCH_MAX_CAPACITY
    msgpack_sbuffer out;            //  reused encode buffer
    bool *handled;                  //  [shards]: shards this labeler serves
    uint32_t shards;
    char **subscriptions;           //  active XPUB subscriptions (raw bytes)
    size_t *subscription_len;
    size_t n_subscriptions;
    bool ready;                     //  subscribers present (or wait over)
    int64_t wait_deadline;          //  zclock_mono ms; INT64_MAX = forever
    bool terminated;
    bool sending;                   //  inside s_send2 (a batch is in flight)
    bool reload_pending;            //  "RELOAD" arrived during a blocked send
    s_stream_t *streams;
    size_t n_streams;
    uint64_t batches, records, eos, rejected, reloads, reload_errors;
    uint64_t too_big;               //  control requests above DS_FRAME_CONTROL_MAX
    char last_reload_error [256];
} s_labeler_t;

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

static void
s_log_tables (s_labeler_t *self, const char *what)
{
    ds_log_info ("%s: %u classes, %zu exact entries, %zu prefixes (%zu warnings); "
                 "%u services from %zu table entries", what,
                 ds_gt_class_count (self->gt), ds_gt_exact_count (self->gt),
                 ds_gt_prefix_count (self->gt), ds_gt_warning_count (self->gt),
                 ds_services_count (self->services), ds_services_entries (self->services));
}

//  Loads new tables and swaps them in; on error keeps the old ones.
static int
s_reload (s_labeler_t *self, char *err, size_t err_size)
{
    ds_gt_t *gt;
    ds_services_t *services;
    if (ds_labeler_load_tables (self->config, &gt, &services, err, err_size)) {
        self->reload_errors++;
        snprintf (self->last_reload_error, sizeof self->last_reload_error, "%s", err);
        ds_log_error ("reload failed, keeping the old tables: %s", err);
        return -1;
    }
    ds_gt_destroy (&self->gt);
    ds_services_destroy (&self->services);
    self->gt = gt;
    self->services = services;
    self->reloads++;
    s_log_tables (self, "reloaded");
    return 0;
}

//  --------------------------------------------------------------------------
//  Subscriptions on the XPUB: which shards have a subscriber

static bool
s_covered (const s_labeler_t *self, const char *topic)
{
    size_t len = strlen (topic);
    for (size_t i = 0; i < self->n_subscriptions; i++)
        if (self->subscription_len [i] <= len
        &&  memcmp (self->subscriptions [i], topic, self->subscription_len [i]) == 0)
            return true;
    return false;
}

static void
s_check_ready (s_labeler_t *self)
{
    if (self->ready)
        return;
    for (uint32_t k = 0; k < self->shards; k++) {
        char topic [16];
        ds_topic_format (topic, "lab", k);
        if (self->handled [k] && !s_covered (self, topic)) {
            if (zclock_mono () < self->wait_deadline)
                return;
            ds_log_warn ("no subscriber for %s after %" PRId64 " ms; forwarding anyway "
                         "(what nobody subscribed to is lost)", topic, self->config->wait_ms);
            break;
        }
    }
    self->ready = true;
    ds_log_info ("every shard has a subscriber: forwarding");
}

static void
s_handle_subscription (s_labeler_t *self)
{
    zmq_msg_t msg;
    zmq_msg_init (&msg);
    if (zmq_msg_recv (&msg, zsock_resolve (self->xpub), ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (&msg);
        return;
    }
    const char *data = zmq_msg_data (&msg);
    size_t size = zmq_msg_size (&msg);
    if (size >= 1 && (data [0] == 0 || data [0] == 1)) {
        size_t i;
        for (i = 0; i < self->n_subscriptions; i++)
            if (self->subscription_len [i] == size - 1
            &&  memcmp (self->subscriptions [i], data + 1, size - 1) == 0)
                break;
        if (data [0] == 1 && i == self->n_subscriptions) {
            char **subs = realloc (self->subscriptions, (i + 1) * sizeof *subs);
            size_t *lens = subs ? realloc (self->subscription_len, (i + 1) * sizeof *lens) : NULL;
            if (subs)
                self->subscriptions = subs;
            if (lens)
                self->subscription_len = lens;
            char *copy = malloc (size);
            if (subs && lens && copy) {
                memcpy (copy, data + 1, size - 1);
                copy [size - 1] = 0;
                subs [i] = copy;
                lens [i] = size - 1;
                self->n_subscriptions++;
            }
            else
                free (copy);
        }
        else
        if (data [0] == 0 && i < self->n_subscriptions) {
            free (self->subscriptions [i]);
            self->subscriptions [i] = self->subscriptions [self->n_subscriptions - 1];
            self->subscription_len [i] = self->subscription_len [self->n_subscriptions - 1];
            self->n_subscriptions--;
        }
    }
    zmq_msg_close (&msg);
    s_check_ready (self);
}

//  --------------------------------------------------------------------------
//  Sending with back-pressure

static void s_handle_pipe (s_labeler_t *self);

static void s_handle_control (s_labeler_t *self);

//  While a send waits for room: serve the actor pipe (a RELOAD there waits
//  for the batch in flight; $TERM gives the send up), subscription changes
//  and control requests, so a lookup, status or reload never waits behind
//  a back-pressured stream.  (A reload here swaps the tables at once: the
//  batch in flight was labelled and encoded already, so it still carries
//  one table set.)
static int
s_on_wait (void *arg)
{
    s_labeler_t *self = arg;
    self->sending = true;
    while (!self->terminated && (zsock_events (self->pipe) & ZMQ_POLLIN))
        s_handle_pipe (self);
    self->sending = false;
    while (!self->terminated && (zsock_events (self->xpub) & ZMQ_POLLIN))
        s_handle_subscription (self);
    while (!self->terminated && self->rep && (zsock_events (self->rep) & ZMQ_POLLIN))
        s_handle_control (self);
    return self->terminated ? -1 : 0;
}

//  Sends [topic][data] on the XPUB, never dropping it: under
//  ZMQ_XPUB_NODROP a send at the high-water mark fails with EAGAIN, and
//  ds_send_msg2 (transport.h) sleeps until an aggregator makes room,
//  serving the pipe meanwhile.  data (malloc'ed) goes to zmq without a
//  copy; it is freed either way.  Returns 0, or -1 if told to terminate
//  meanwhile (or on a real error, logged).
static int
s_send2 (s_labeler_t *self, const char *topic, void *data, size_t size)
{
    zmq_msg_t parts [2];
    size_t tlen = strlen (topic);
    if (zmq_msg_init_size (&parts [0], tlen)) {
        free (data);
        return -1;
    }
    memcpy (zmq_msg_data (&parts [0]), topic, tlen);
    if (ds_msg_init_owned (&parts [1], data, size)) {
        free (data);
        zmq_msg_close (&parts [0]);
        return -1;
    }
    zsock_t *watch [] = { self->pipe, self->rep, NULL };
    return ds_send_msg2 (self->xpub, &parts [0], &parts [1], watch, s_on_wait, self);
}

//  --------------------------------------------------------------------------
//  Data path

static s_stream_t *
s_stream (s_labeler_t *self, uint32_t sensor, uint32_t shard)
{
    for (size_t i = 0; i < self->n_streams; i++)
        if (self->streams [i].sensor == sensor && self->streams [i].shard == shard)
            return &self->streams [i];
    s_stream_t *bigger = realloc (self->streams, (self->n_streams + 1) * sizeof *bigger);
    if (!bigger)
        return NULL;
    self->streams = bigger;
    s_stream_t *stream = &bigger [self->n_streams++];
    memset (stream, 0, sizeof *stream);
    stream->sensor = sensor;
    stream->shard = shard;
    return stream;
}

static void
s_reject (s_labeler_t *self, const char *topic, const char *why)
{
    self->rejected++;
    if (self->rejected <= S_LOG_REJECT_FIRST || self->rejected % 1000 == 0)
        ds_log_warn ("rejected a message from ingest on topic '%.16s': %s (%" PRIu64
                     " rejected so far)", topic, why, self->rejected);
}

//  Checks that the topic frame is "pkt.%04u" of the message's shard.
static bool
s_topic_matches (const char *topic, size_t topic_size, uint32_t shard)
{
    char expect [16];
    ds_topic_format (expect, "pkt", shard);
    return topic_size == strlen (expect) && memcmp (topic, expect, topic_size) == 0;
}

static void
s_handle_data (s_labeler_t *self)
{
    void *handle = zsock_resolve (self->sub);
    zmq_msg_t topic_msg, body_msg;
    zmq_msg_init (&topic_msg);
    zmq_msg_init (&body_msg);
    if (zmq_msg_recv (&topic_msg, handle, ZMQ_DONTWAIT) < 0)
        goto done;
    char topic [32];
    size_t topic_size = zmq_msg_size (&topic_msg);
    snprintf (topic, sizeof topic, "%.*s", (int) (topic_size < 31 ? topic_size : 31),
              (const char *) zmq_msg_data (&topic_msg));
    for (size_t i = 0; topic [i]; i++)
        if ((unsigned char) topic [i] < ' ' || (unsigned char) topic [i] > '~')
            topic [i] = '?';
    if (!zmq_msg_more (&topic_msg)) {
        s_reject (self, topic, "one frame, expected [topic][payload]");
        goto done;
    }
    zmq_msg_recv (&body_msg, handle, 0);
    if (zmq_msg_more (&body_msg)) {
        s_reject (self, topic, "more than two frames");
        zmq_msg_t extra;
        zmq_msg_init (&extra);
        while (zmq_msg_more (&body_msg) && zmq_msg_recv (&extra, handle, 0) >= 0
            && zmq_msg_more (&extra))
            ;
        zmq_msg_close (&extra);
        goto done;
    }
    const uint8_t *data = zmq_msg_data (&body_msg);
    size_t size = zmq_msg_size (&body_msg);
    int type = 0;
    int rc = ds_msg_peek (data, size, &type);
    if (rc != DS_OK) {
        s_reject (self, topic, ds_result_str (rc));
        goto done;
    }
    if (type == DS_MSG_BATCH) {
        rc = ds_batch_decode (data, size, self->batch);
        if (rc != DS_OK) {
            s_reject (self, topic, ds_result_str (rc));
            goto done;
        }
        ds_batch_t *batch = self->batch;
        if (!s_topic_matches (zmq_msg_data (&topic_msg), topic_size, batch->shard)) {
            s_reject (self, topic, "topic does not match the batch's shard");
            goto done;
        }
        s_stream_t *stream = s_stream (self, batch->sensor, batch->shard);
        if (stream) {
            if (batch->seq > stream->next_seq)
                stream->gaps += batch->seq - stream->next_seq;
            if (batch->seq < stream->next_seq)
                stream->out_of_order++;
            else
                stream->next_seq = batch->seq + 1;
            stream->batches++;
            stream->records += batch->count;
        }
        if (ds_labeler_label (batch, self->gt, self->services, self->matched)) {
            s_reject (self, topic, "out of memory while labelling");
            goto done;
        }
        msgpack_sbuffer_clear (&self->out);
        rc = ds_batch_encode (batch, &self->out);
        if (rc != DS_OK) {
            s_reject (self, topic, ds_result_str (rc));
            goto done;
        }
        char out_topic [16];
        ds_topic_format (out_topic, "lab", batch->shard);
        size_t out_size = self->out.size;
        void *out_data = msgpack_sbuffer_release (&self->out);
        if (s_send2 (self, out_topic, out_data, out_size) == 0) {
            self->batches++;
            self->records += batch->count;
        }
    }
    else
    if (type == DS_MSG_EOS) {
        ds_eos_t eos;
        rc = ds_eos_decode (data, size, &eos);
        if (rc != DS_OK) {
            s_reject (self, topic, ds_result_str (rc));
            goto done;
        }
        if (!s_topic_matches (zmq_msg_data (&topic_msg), topic_size, eos.shard)) {
            s_reject (self, topic, "topic does not match the EOS's shard");
            goto done;
        }
        s_stream_t *stream = s_stream (self, eos.sensor, eos.shard);
        if (stream) {
            if (eos.batches > stream->next_seq) {
                stream->gaps += eos.batches - stream->next_seq;
                stream->next_seq = eos.batches;
            }
            stream->eos = true;
        }
        ds_log_info ("EOS sensor %u shard %u after %" PRIu64 " batches (labeler cpu %.2f s)",
                     eos.sensor, eos.shard, eos.batches, ds_thread_cpu_seconds ());
        char out_topic [16];
        ds_topic_format (out_topic, "lab", eos.shard);
        void *copy = malloc (size ? size : 1);  //  forwarded unchanged, as a copy
        if (!copy)
            ds_log_error ("out of memory: EOS of sensor %u shard %u not forwarded",
                          eos.sensor, eos.shard);
        else {
            memcpy (copy, data, size);
            if (s_send2 (self, out_topic, copy, size) == 0)
                self->eos++;
        }
    }
    else
    if (type != DS_MSG_HELLO)
        s_reject (self, topic, "unexpected message type (labelled batch on a packet topic?)");
done:
    zmq_msg_close (&topic_msg);
    zmq_msg_close (&body_msg);
}

//  --------------------------------------------------------------------------
//  Control

static void
s_pack_str (msgpack_packer *pk, const char *text)
{
    size_t len = strlen (text);
    msgpack_pack_str (pk, len);
    msgpack_pack_str_body (pk, text, len);
}

static void
s_pack_uint (msgpack_packer *pk, const char *key, uint64_t value)
{
    s_pack_str (pk, key);
    msgpack_pack_uint64 (pk, value);
}

static void
s_pack_status (s_labeler_t *self, msgpack_packer *pk)
{
    uint64_t gaps = 0;
    for (size_t i = 0; i < self->n_streams; i++)
        gaps += self->streams [i].gaps;
    msgpack_pack_map (pk, 13);
    s_pack_str (pk, "service");
    s_pack_str (pk, "labeler");
    s_pack_str (pk, "ready");
    if (self->ready)
        msgpack_pack_true (pk);
    else
        msgpack_pack_false (pk);
    s_pack_uint (pk, "batches", self->batches);
    s_pack_uint (pk, "records", self->records);
    s_pack_uint (pk, "eos", self->eos);
    s_pack_uint (pk, "gaps", gaps);
    s_pack_uint (pk, "rejected", self->rejected);
    s_pack_uint (pk, "reloads", self->reloads);
    s_pack_uint (pk, "reload_errors", self->reload_errors);
    s_pack_uint (pk, "requests_too_big", self->too_big);
    s_pack_str (pk, "gt");
    msgpack_pack_map (pk, 4);
    s_pack_uint (pk, "classes", ds_gt_class_count (self->gt));
    s_pack_uint (pk, "exact", ds_gt_exact_count (self->gt));
    s_pack_uint (pk, "prefixes", ds_gt_prefix_count (self->gt));
    s_pack_uint (pk, "warnings", ds_gt_warning_count (self->gt));
    s_pack_str (pk, "services");
    msgpack_pack_map (pk, 2);
    s_pack_uint (pk, "entries", ds_services_entries (self->services));
    s_pack_uint (pk, "names", ds_services_count (self->services));
    s_pack_str (pk, "streams");
    msgpack_pack_array (pk, self->n_streams);
    for (size_t i = 0; i < self->n_streams; i++) {
        const s_stream_t *s = &self->streams [i];
        msgpack_pack_map (pk, 8);
        s_pack_uint (pk, "sensor", s->sensor);
        s_pack_uint (pk, "shard", s->shard);
        s_pack_uint (pk, "batches", s->batches);
        s_pack_uint (pk, "records", s->records);
        s_pack_uint (pk, "next_seq", s->next_seq);
        s_pack_uint (pk, "gaps", s->gaps);
        s_pack_uint (pk, "out_of_order", s->out_of_order);
        s_pack_str (pk, "eos");
        if (s->eos)
            msgpack_pack_true (pk);
        else
            msgpack_pack_false (pk);
    }
}

static void
s_handle_control (s_labeler_t *self)
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
            s_pack_str (&pk, "ip");
            s_pack_str (&pk, ds_addr_format (&addr, text, sizeof text));
            s_pack_str (&pk, "class");
            s_pack_str (&pk, ds_gt_class_names (self->gt) [id]);
            s_pack_str (&pk, "matched");
            if (matched)
                msgpack_pack_true (&pk);
            else
                msgpack_pack_false (&pk);
            s_pack_str (&pk, "rule");
            s_pack_str (&pk, rule);
        }
    }
    else
    if (strcmp (query.name, "reload") == 0) {
        if (s_reload (self, err, sizeof err)) {
            char message [600];
            snprintf (message, sizeof message, "reload failed, old tables kept: %s", err);
            ds_reply_error (&reply, message);
        }
        else {
            ds_reply_ok_begin (&pk);
            msgpack_pack_map (&pk, 4);
            s_pack_uint (&pk, "classes", ds_gt_class_count (self->gt));
            s_pack_uint (&pk, "exact", ds_gt_exact_count (self->gt));
            s_pack_uint (&pk, "prefixes", ds_gt_prefix_count (self->gt));
            s_pack_uint (&pk, "services", ds_services_count (self->services));
        }
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

static void
s_handle_pipe (s_labeler_t *self)
{
    char *command = zstr_recv (self->pipe);
    if (!command) {
        self->terminated = true;                //  interrupted
        return;
    }
    if (strcmp (command, "$TERM") == 0)
        self->terminated = true;
    else
    if (strcmp (command, "RELOAD") == 0) {
        char err [512];
        if (self->sending)
            self->reload_pending = true;        //  after the batch in flight
        else
            s_reload (self, err, sizeof err);
    }
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

static int
s_start (s_labeler_t *self)
{
    const ds_labeler_config_t *config = self->config;
    char err [512];
    if (config->shards == 0 || config->shards > DS_SHARDS_MAX) {
        ds_log_error ("shards must be 1..%d, not %u", DS_SHARDS_MAX, config->shards);
        return -1;
    }
    self->shards = config->shards;
    self->handled = calloc (self->shards, sizeof *self->handled);
    if (!self->handled || s_parse_shards (config->shard_list, self->handled, self->shards)) {
        ds_log_error ("bad shard list '%s': expected e.g. 0,2-3 with shards below %u",
                      config->shard_list ? config->shard_list : "", self->shards);
        return -1;
    }
    if (ds_labeler_load_tables (config, &self->gt, &self->services, err, sizeof err)) {
        ds_log_error ("cannot load the tables: %s", err);
        return -1;
    }
    s_log_tables (self, "tables");
    self->batch = ds_batch_new (DS_BATCH_MAX_CAPACITY);
    self->matched = malloc (DS_BATCH_MAX_CAPACITY);
    if (!self->batch || !self->matched) {
        ds_log_error ("out of memory");
        return -1;
    }
    //  Output first, so subscribers can arrive while we connect.
    self->xpub = zsock_new (ZMQ_XPUB);
    if (!self->xpub)
        return -1;
    ds_sock_defaults (self->xpub);
    zsock_set_xpub_nodrop (self->xpub, 1);
    const char *endpoint = config->endpoint ? config->endpoint : DS_LABELER_ENDPOINT;
    if (zsock_bind (self->xpub, "%s", endpoint) < 0) {
        ds_log_error ("cannot bind %s: %s", endpoint, zmq_strerror (zmq_errno ()));
        return -1;
    }
    s_last_endpoint (self->xpub, self->data_endpoint, sizeof self->data_endpoint);
    if (config->control && *config->control) {
        self->rep = zsock_new (ZMQ_REP);
        if (!self->rep)
            return -1;
        ds_sock_defaults (self->rep);
        if (zsock_bind (self->rep, "%s", config->control) < 0) {
            ds_log_error ("cannot bind %s: %s", config->control, zmq_strerror (zmq_errno ()));
            return -1;
        }
        s_last_endpoint (self->rep, self->control_endpoint, sizeof self->control_endpoint);
    }
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
    for (size_t i = 0; i < (n_inputs ? n_inputs : 1); i++) {
        const char *input = n_inputs ? config->inputs.items [i] : DS_LABELER_INPUT;
        if (zsock_connect (self->sub, "%s", input) < 0) {
            ds_log_error ("cannot connect to %s: %s", input, zmq_strerror (zmq_errno ()));
            return -1;
        }
    }
    self->wait_deadline = config->wait_ms < 0 ? INT64_MAX : zclock_mono () + config->wait_ms;
    ds_log_info ("labelled batches on %s, control on %s, %u shard(s), %zu input(s)",
                 self->data_endpoint, self->control_endpoint [0] ? self->control_endpoint : "(none)",
                 self->shards, n_inputs ? n_inputs : 1);
    return 0;
}

static void
s_stop (s_labeler_t *self)
{
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
    free (self->streams);
}

void
ds_labeler_actor (zsock_t *pipe, void *args)
{
    s_labeler_t self_s = { .config = args, .pipe = pipe };
    s_labeler_t *self = &self_s;
    msgpack_sbuffer_init (&self->out);
    if (s_start (self)) {
        //  Could not start (logged): say so, then stay until $TERM so the
        //  pipe stays usable ("ENDPOINTS" answers two empty strings).
        s_stop (self);
        zsock_signal (pipe, (byte) -1);
        while (true) {
            char *command = zstr_recv (pipe);
            bool term = !command || strcmp (command, "$TERM") == 0;
            if (command && strcmp (command, "ENDPOINTS") == 0)
                zstr_sendx (pipe, "", "", NULL);
            zstr_free (&command);
            if (term)
                return;
        }
    }
    zsock_signal (pipe, 0);
    while (!self->terminated) {
        s_check_ready (self);
        zmq_pollitem_t items [4];
        int n = 0;
        items [n++] = (zmq_pollitem_t) { zsock_resolve (pipe), 0, ZMQ_POLLIN, 0 };
        items [n++] = (zmq_pollitem_t) { zsock_resolve (self->xpub), 0, ZMQ_POLLIN, 0 };
        int rep_at = -1, sub_at = -1;
        if (self->rep) {
            rep_at = n;
            items [n++] = (zmq_pollitem_t) { zsock_resolve (self->rep), 0, ZMQ_POLLIN, 0 };
        }
        if (self->ready) {                      //  not before subscribers are there
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
            s_handle_pipe (self);
        if (items [1].revents & ZMQ_POLLIN)
            s_handle_subscription (self);
        if (rep_at >= 0 && (items [rep_at].revents & ZMQ_POLLIN))
            s_handle_control (self);
        //  A bounded burst of data, then look at the other sockets again.
        //  Control requests are served between any two batches of a burst,
        //  so a reload or lookup never waits behind a back-pressured stream.
        if (sub_at >= 0 && (items [sub_at].revents & ZMQ_POLLIN))
            for (int burst = 0; burst < 64 && !self->terminated; burst++) {
                s_handle_data (self);
                if (self->reload_pending) {
                    char err [512];
                    self->reload_pending = false;
                    s_reload (self, err, sizeof err);
                }
                if (self->rep && (zsock_events (self->rep) & ZMQ_POLLIN))
                    s_handle_control (self);
                if (!(zsock_events (self->sub) & ZMQ_POLLIN))
                    break;
            }
    }
    ds_log_info ("stopping: %" PRIu64 " batches, %" PRIu64 " records, %" PRIu64 " EOS, "
                 "%" PRIu64 " rejected", self->batches, self->records, self->eos, self->rejected);
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
    return data [0] ? 0 : -1;               //  "": it could not start
}
