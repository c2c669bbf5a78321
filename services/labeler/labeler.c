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
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define S_LOG_REJECT_FIRST 20       //  log the first rejects, then every 1000th

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

//  --------------------------------------------------------------------------
//  Subscriptions on the XPUB: which shards have a subscriber

static bool
s_covered (const labeler_t *self, const char *topic)
{
    size_t len = strlen (topic);
    for (size_t i = 0; i < self->n_subscriptions; i++)
        if (self->subscription_len [i] <= len
        &&  memcmp (self->subscriptions [i], topic, self->subscription_len [i]) == 0)
            return true;
    return false;
}

static void
s_check_ready (labeler_t *self)
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

//  A subscriber arrived (the XPUB is verbose: every subscribe is seen, a
//  restarted aggregator's too): the streams its prefix covers send their
//  last STATS or EOS again, so a subscriber that missed the stream's end or
//  its batches learns what it missed (gaps, end of stream).  Sent by
//  s_announce from the main loop, never from inside a waiting send.
static void
s_mark_announce (labeler_t *self, const char *prefix, size_t len)
{
    for (size_t i = 0; i < self->n_streams; i++) {
        labeler_stream_t *s = &self->streams [i];
        char topic [16];
        ds_topic_format (topic, "lab", s->shard);
        if (s->last && len <= strlen (topic) && memcmp (prefix, topic, len) == 0)
            s->announce = true;
    }
}

static void
s_handle_subscription (labeler_t *self)
{
    zmq_msg_t msg;
    zmq_msg_init (&msg);
    if (zmq_msg_recv (&msg, zsock_resolve (self->xpub), ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (&msg);
        return;
    }
    const char *data = zmq_msg_data (&msg);
    size_t size = zmq_msg_size (&msg);
    if (size >= 1 && data [0] == 1)
        s_mark_announce (self, data + 1, size - 1);
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

//  Before a batch goes to lab.<shard>: true if it has a subscriber.  One
//  that has none (the aggregator went away) loses what is sent to it:
//  counted, and logged when it starts and ends.
static bool
s_heard (labeler_t *self, uint32_t shard, const char *topic)
{
    bool heard = s_covered (self, topic);
    if (heard && self->unheard [shard]) {
        ds_log_warn ("%s: a subscriber is back after %" PRIu64 " batches sent to nobody "
                     "(lost: replay the sensors' input to fill them)", topic,
                     self->unheard [shard]);
        self->unheard [shard] = 0;
    }
    else
    if (!heard) {
        if (self->unheard [shard]++ == 0)
            ds_log_error ("%s: no subscriber (the aggregator went away): what is forwarded "
                          "to it now is lost", topic);
        self->unheard_total++;
    }
    return heard;
}

//  --------------------------------------------------------------------------
//  Sending with back-pressure

static void s_handle_pipe (labeler_t *self);


//  While a send waits for room: serve the actor pipe ($TERM gives the send
//  up), subscription changes, control requests and a finished reload, so a
//  lookup, status or reload never waits behind a back-pressured stream.
//  (A reload that ends here swaps the tables at once: the batch in flight
//  was labelled and encoded already, so it still carries one table set.)
static int
s_on_wait (void *arg)
{
    labeler_t *self = arg;
    while (!self->terminated && (zsock_events (self->pipe) & ZMQ_POLLIN))
        s_handle_pipe (self);
    while (!self->terminated && (zsock_events (self->xpub) & ZMQ_POLLIN))
        s_handle_subscription (self);
    labeler_reload_poll (self);
    while (!self->terminated && self->rep && !labeler_control_busy (self)
        && (zsock_events (self->rep) & ZMQ_POLLIN))
        labeler_control_handle (self);
    return self->terminated ? -1 : 0;
}

//  Sends [topic][data] on the XPUB, never dropping it: under
//  ZMQ_XPUB_NODROP a send at the high-water mark fails with EAGAIN, and
//  ds_send_msg2 (transport.h) sleeps until an aggregator makes room,
//  serving the pipe meanwhile.  data (malloc'ed) goes to zmq without a
//  copy; it is freed either way.  Returns 0, or -1 if told to terminate
//  meanwhile (or on a real error, logged).
static int
s_send2 (labeler_t *self, const char *topic, void *data, size_t size)
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
    zsock_t *watch [] = { self->pipe, self->rep,
                          self->loader ? ds_reload_sock (self->loader) : NULL, NULL };
    return ds_send_msg2 (self->xpub, &parts [0], &parts [1], watch, s_on_wait, self);
}

//  --------------------------------------------------------------------------
//  Data path

static labeler_stream_t *
s_stream (labeler_t *self, uint32_t sensor, uint32_t shard)
{
    for (size_t i = 0; i < self->n_streams; i++)
        if (self->streams [i].sensor == sensor && self->streams [i].shard == shard)
            return &self->streams [i];
    labeler_stream_t *bigger = realloc (self->streams, (self->n_streams + 1) * sizeof *bigger);
    if (!bigger)
        return NULL;
    self->streams = bigger;
    labeler_stream_t *stream = &bigger [self->n_streams++];
    memset (stream, 0, sizeof *stream);
    stream->sensor = sensor;
    stream->shard = shard;
    return stream;
}

//  Keeps a copy of the stream's latest STATS or EOS, announced again to a
//  subscriber that arrives later (s_announce).  Out of memory: the old one
//  stays.
static void
s_remember (labeler_stream_t *stream, const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc (size ? size : 1);
    if (!copy)
        return;
    memcpy (copy, data, size);
    free (stream->last);
    stream->last = copy;
    stream->last_size = size;
}

//  Sends the remembered STATS/EOS of the streams a new subscriber asked
//  for (s_mark_announce).  Idempotent for a subscriber that had them.
static void
s_announce (labeler_t *self)
{
    for (size_t i = 0; i < self->n_streams && !self->terminated; i++) {
        labeler_stream_t *s = &self->streams [i];
        if (!s->announce)
            continue;
        s->announce = false;
        char topic [16];
        ds_topic_format (topic, "lab", s->shard);
        void *copy = malloc (s->last_size ? s->last_size : 1);
        if (!copy)
            continue;
        memcpy (copy, s->last, s->last_size);
        if (s_send2 (self, topic, copy, s->last_size) == 0) {
            self->announced++;
            ds_log_info ("%s: a subscriber arrived: sent sensor %u's latest %s again",
                         topic, s->sensor, s->eos ? "end of stream" : "counters");
        }
    }
}

static void
s_reject (labeler_t *self, const char *topic, const char *why)
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
s_handle_data (labeler_t *self)
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
        labeler_stream_t *stream = s_stream (self, batch->sensor, batch->shard);
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
        if (!s_heard (self, batch->shard, out_topic) && stream)
            stream->unheard++;
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
        labeler_stream_t *stream = s_stream (self, eos.sensor, eos.shard);
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
        if (stream)
            s_remember (stream, data, size);
        if (!s_covered (self, out_topic))
            ds_log_error ("%s: end of stream of sensor %u with no subscriber: sent again "
                          "when one subscribes", out_topic, eos.sensor);
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
    if (type == DS_MSG_STATS) {
        ds_stats_t stats;
        rc = ds_stats_decode (data, size, &stats);
        if (rc != DS_OK) {
            s_reject (self, topic, ds_result_str (rc));
            goto done;
        }
        if (!s_topic_matches (zmq_msg_data (&topic_msg), topic_size, stats.shard)) {
            s_reject (self, topic, "topic does not match the counters' shard");
            goto done;
        }
        labeler_stream_t *stream = s_stream (self, stats.sensor, stats.shard);
        if (stream && stats.epoch > stream->epoch) {
            //  A restarted live ingest: its seqs start again from 0.
            if (stream->batches || stream->eos)
                ds_log_info ("sensor %u shard %u: new epoch %" PRIu64 " (was %" PRIu64 ")",
                             stats.sensor, stats.shard, stats.epoch, stream->epoch);
            stream->epoch = stats.epoch;
            stream->next_seq = 0;
            stream->eos = false;
        }
        char out_topic [16];
        ds_topic_format (out_topic, "lab", stats.shard);
        if (stream && !stream->eos)             //  an end of stream stays the latest word
            s_remember (stream, data, size);
        void *copy = malloc (size);             //  forwarded unchanged, as a copy
        if (copy) {
            memcpy (copy, data, size);
            if (s_send2 (self, out_topic, copy, size) == 0)
                self->stats++;
        }
    }
    else
    if (type != DS_MSG_HELLO)
        s_reject (self, topic, "unexpected message type (labelled batch on a packet topic?)");
done:
    zmq_msg_close (&topic_msg);
    zmq_msg_close (&body_msg);
}

static void
s_handle_pipe (labeler_t *self)
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
    if (!self->handled || !self->unheard || s_parse_shards (config->shard_list, self->handled, self->shards)) {
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
    //  Output first, so subscribers can arrive while we connect.
    self->xpub = zsock_new (ZMQ_XPUB);
    if (!self->xpub)
        return -1;
    ds_sock_defaults (self->xpub);
    zsock_set_xpub_nodrop (self->xpub, 1);
    zsock_set_xpub_verbose (self->xpub, 1);     //  every subscriber's arrival (s_mark_announce)
    const char *endpoint = config->endpoint ? config->endpoint : DS_LABELER_ENDPOINT;
    if (ds_curve_bind (self->xpub, endpoint) < 0)  //  logs why
        return -1;
    s_last_endpoint (self->xpub, self->data_endpoint, sizeof self->data_endpoint);
    if (config->control && *config->control) {
        self->rep = zsock_new (ZMQ_REP);
        if (!self->rep)
            return -1;
        ds_sock_defaults (self->rep);
        if (ds_curve_bind (self->rep, config->control) < 0)    //  logs why
            return -1;
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
        if (ds_curve_connect (self->sub, input) < 0)   //  logs why
            return -1;
    }
    self->wait_deadline = config->wait_ms < 0 ? INT64_MAX : zclock_mono () + config->wait_ms;
    ds_log_info ("labelled batches on %s, control on %s, %u shard(s), %zu input(s)",
                 self->data_endpoint, self->control_endpoint [0] ? self->control_endpoint : "(none)",
                 self->shards, n_inputs ? n_inputs : 1);
    return 0;
}

static void
s_stop (labeler_t *self)
{
    ds_reload_destroy (&self->loader);
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
}

void
ds_labeler_actor (zsock_t *pipe, void *args)
{
    ds_signals_block_thread ();
    labeler_t self_s = { .config = args, .pipe = pipe };
    labeler_t *self = &self_s;
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
        zmq_pollitem_t items [5];
        int n = 0;
        items [n++] = (zmq_pollitem_t) { zsock_resolve (pipe), 0, ZMQ_POLLIN, 0 };
        items [n++] = (zmq_pollitem_t) { zsock_resolve (self->xpub), 0, ZMQ_POLLIN, 0 };
        int rep_at = -1, sub_at = -1;
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
        if (items [1].revents & ZMQ_POLLIN) {
            while (!self->terminated && (zsock_events (self->xpub) & ZMQ_POLLIN))
                s_handle_subscription (self);
            s_announce (self);
        }
        if (load_at >= 0 && (items [load_at].revents & ZMQ_POLLIN))
            labeler_reload_finish (self);
        if (rep_at >= 0 && !labeler_control_busy (self) && (items [rep_at].revents & ZMQ_POLLIN))
            labeler_control_handle (self);
        //  A bounded burst of data, then look at the other sockets again.
        //  Control requests are served between any two batches of a burst,
        //  so a reload or lookup never waits behind a back-pressured stream.
        if (sub_at >= 0 && (items [sub_at].revents & ZMQ_POLLIN))
            for (int burst = 0; burst < 64 && !self->terminated; burst++) {
                s_handle_data (self);
                labeler_reload_poll (self);
                if (self->rep && !labeler_control_busy (self) && (zsock_events (self->rep) & ZMQ_POLLIN))
                    labeler_control_handle (self);
                if (!(zsock_events (self->sub) & ZMQ_POLLIN))
                    break;
            }
    }
    ds_log_info ("stopping: %" PRIu64 " batches, %" PRIu64 " records, %" PRIu64 " EOS, "
                 "%" PRIu64 " rejected, %" PRIu64 " batches sent to nobody (lost)",
                 self->batches, self->records, self->eos, self->rejected, self->unheard_total);
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
