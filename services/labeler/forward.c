/*  forward.c - the labeler's data path (part of labeler.h; state in
    labeler_internal.h): which shards have a subscriber on the XPUB, the
    streams of (sensor, shard), and every message from ingest checked,
    batches labelled, and forwarded to its shard's aggregators with
    back-pressure.  The actor (labeler.c) calls in here.
*/
#include "labeler_internal.h"
#include "ds_proto.h"
#include "log.h"
#include "transport.h"
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define S_LOG_REJECT_FIRST 20       //  log the first rejects, then every 1000th

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

//  True if a subscription names the topic's shard ("lab.0003", or a
//  prefix longer than "lab."): a shard's aggregator, not a whole-stream
//  reader such as the embed service ("lab.") that hides a dead one.
static bool
s_shard_covered (const labeler_t *self, const char *topic)
{
    size_t len = strlen (topic);
    for (size_t i = 0; i < self->n_subscriptions; i++)
        if (self->subscription_len [i] > 4 && self->subscription_len [i] <= len
        &&  memcmp (self->subscriptions [i], topic, self->subscription_len [i]) == 0)
            return true;
    return false;
}

//  Sets ready once every handled shard has a subscriber of its own (or
//  the wait is over): a whole-stream reader (the embed service's "lab.")
//  that came first does not start the stream, or the aggregators that
//  subscribe a moment later would miss its first batches.
void
labeler_forward_check_ready (labeler_t *self)
{
    if (self->ready)
        return;
    for (uint32_t k = 0; k < self->shards; k++) {
        char topic [16];
        ds_topic_format (topic, "lab", k);
        if (self->handled [k] && !s_shard_covered (self, topic)) {
            if (zclock_mono () < self->wait_deadline)
                return;
            ds_log_warn ("no subscriber for %s after %" PRId64 " ms; forwarding anyway "
                         "(what nobody subscribed to is lost)", topic, self->config->wait_ms);
            break;
        }
    }
    self->ready = true;
    ds_mgroup_condition (self->metrics, "every shard subscribed", true);
    ds_log_info ("every shard has a subscriber: forwarding");
}

//  A subscriber arrived (the XPUB is verbose: every subscribe is seen, a
//  restarted aggregator's too): the streams its prefix covers send their
//  last STATS or EOS again, so a subscriber that missed the stream's end or
//  its batches learns what it missed (gaps, end of stream).  Sent by
//  labeler_forward_announce from the main loop, never from inside a
//  waiting send.
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

//  Takes one subscription change from the XPUB: the subscriptions kept,
//  the streams a newcomer should hear again marked.
void
labeler_forward_subscription (labeler_t *self)
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
    labeler_forward_check_ready (self);
}

//  Before a batch goes to lab.<shard>: true if it has a subscriber.  One
//  that has none (the aggregator went away) loses what is sent to it:
//  counted, and logged when it starts and ends.
static bool
s_heard (labeler_t *self, uint32_t shard, const char *topic)
{
    bool heard = s_covered (self, topic);
    //  Heard only by whole-stream readers: the shard's aggregator is gone
    //  (or never came): counted apart, logged when it starts and ends.
    bool own = heard && s_shard_covered (self, topic);
    if (own && self->unheard_shard [shard]) {
        ds_log_warn ("%s: a subscriber of the shard is back after %" PRIu64 " batches only "
                     "whole-stream subscribers got (lost for its aggregator: replay the "
                     "sensors' input)", topic, self->unheard_shard [shard]);
        self->unheard_shard [shard] = 0;
    }
    else
    if (heard && !own) {
        if (self->unheard_shard [shard]++ == 0)
            ds_log_error ("%s: no subscriber of this shard, only whole-stream ones (lab.): its "
                          "aggregator went away, what is forwarded now is lost for it", topic);
        self->unheard_shard_total++;
    }
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

//  While a send waits for room: serve the actor pipe ($TERM gives the send
//  up), subscription changes, control requests and a finished reload, so a
//  lookup, status or reload never waits behind a back-pressured stream.
//  (A reload that ends here swaps the tables at once: the batch in flight
//  was labelled and encoded already, so it still carries one table set.)
static int
s_on_wait (void *arg)
{
    labeler_t *self = arg;
    self->waits++;
    while (!self->terminated && (zsock_events (self->pipe) & ZMQ_POLLIN))
        labeler_handle_pipe (self);
    while (!self->terminated && (zsock_events (self->xpub) & ZMQ_POLLIN))
        labeler_forward_subscription (self);
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
    stream->m = ds_mgroup_stream (self->metrics, sensor, shard);
    return stream;
}

//  Keeps a copy of the stream's latest STATS or EOS, announced again to a
//  subscriber that arrives later (labeler_forward_announce).  Out of memory: the old one
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
void
labeler_forward_announce (labeler_t *self)
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

//  A message from ingest: its topic frame (as received, and printable for
//  the log) and its payload.
typedef struct {
    const char *topic;              //  printable, for the log
    const void *topic_frame;
    size_t topic_size;
    const uint8_t *data;
    size_t size;
} s_message_t;

//  A packet batch: counted in its stream, labelled, sent on to its shard's
//  aggregators.  NULL, or why it is rejected.
static const char *
s_on_batch (labeler_t *self, const s_message_t *m)
{
    int rc = ds_batch_decode (m->data, m->size, self->batch);
    if (rc != DS_OK)
        return ds_result_str (rc);
    ds_batch_t *batch = self->batch;
    if (!s_topic_matches (m->topic_frame, m->topic_size, batch->shard))
        return "topic does not match the batch's shard";
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
    if (ds_labeler_label (batch, self->gt, self->services, self->matched))
        return "out of memory while labelling";
    msgpack_sbuffer_clear (&self->out);
    //  Packed out: what labelling left alone is copied from the message
    //  as it came (when it came packed), not packed again.
    rc = self->packed ? ds_batch_encode_relabel (m->data, m->size, batch, &self->out)
                      : ds_batch_encode (batch, &self->out);
    if (rc != DS_OK)
        return ds_result_str (rc);
    char out_topic [16];
    ds_topic_format (out_topic, "lab", batch->shard);
    uint64_t before = self->unheard_shard_total;
    if (!s_heard (self, batch->shard, out_topic) && stream)
        stream->unheard++;
    if (stream && self->unheard_shard_total != before)
        stream->unheard_shard++;
    size_t out_size = self->out.size;
    void *out_data = msgpack_sbuffer_release (&self->out);
    if (s_send2 (self, out_topic, out_data, out_size) == 0) {
        self->batches++;
        self->records += batch->count;
    }
    return NULL;
}

//  An end of stream: closes its stream (the batches it announces and that
//  never came are gaps), remembered for late subscribers, forwarded
//  unchanged.  NULL, or why it is rejected.
static const char *
s_on_eos (labeler_t *self, const s_message_t *m)
{
    ds_eos_t eos;
    int rc = ds_eos_decode (m->data, m->size, &eos);
    if (rc != DS_OK)
        return ds_result_str (rc);
    if (!s_topic_matches (m->topic_frame, m->topic_size, eos.shard))
        return "topic does not match the EOS's shard";
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
        s_remember (stream, m->data, m->size);
    if (!s_covered (self, out_topic))
        ds_log_error ("%s: end of stream of sensor %u with no subscriber: sent again "
                      "when one subscribes", out_topic, eos.sensor);
    void *copy = malloc (m->size ? m->size : 1);   //  forwarded unchanged, as a copy
    if (!copy)
        ds_log_error ("out of memory: EOS of sensor %u shard %u not forwarded",
                      eos.sensor, eos.shard);
    else {
        memcpy (copy, m->data, m->size);
        if (s_send2 (self, out_topic, copy, m->size) == 0)
            self->eos++;
    }
    return NULL;
}

//  An ingest's counters: a newer epoch (a restarted live ingest) restarts
//  its stream's seqs; remembered for late subscribers, forwarded unchanged.
//  NULL, or why it is rejected.
static const char *
s_on_stats (labeler_t *self, const s_message_t *m)
{
    ds_stats_t stats;
    int rc = ds_stats_decode (m->data, m->size, &stats);
    if (rc != DS_OK)
        return ds_result_str (rc);
    if (!s_topic_matches (m->topic_frame, m->topic_size, stats.shard))
        return "topic does not match the counters' shard";
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
        s_remember (stream, m->data, m->size);
    void *copy = malloc (m->size);          //  forwarded unchanged, as a copy
    if (copy) {
        memcpy (copy, m->data, m->size);
        if (s_send2 (self, out_topic, copy, m->size) == 0)
            self->stats++;
    }
    return NULL;
}

//  Receives one message from ingest ([topic][payload]) and hands it to its
//  type's handler; anything malformed is rejected (counted, logged).
void
labeler_forward_data (labeler_t *self)
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
    s_message_t m = { topic, zmq_msg_data (&topic_msg), topic_size,
                      zmq_msg_data (&body_msg), zmq_msg_size (&body_msg) };
    int type = 0;
    int rc = ds_msg_peek (m.data, m.size, &type);
    const char *why = rc != DS_OK ? ds_result_str (rc)
                    : type == DS_MSG_BATCH ? s_on_batch (self, &m)
                    : type == DS_MSG_EOS ? s_on_eos (self, &m)
                    : type == DS_MSG_STATS ? s_on_stats (self, &m)
                    : type != DS_MSG_HELLO ? "unexpected message type (labelled batch on a packet topic?)"
                    : NULL;
    if (why)
        s_reject (self, topic, why);
done:
    zmq_msg_close (&topic_msg);
    zmq_msg_close (&body_msg);
}
