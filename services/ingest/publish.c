/*  publish.c - see publish.h.

    The per-packet path is ds_publish_add: records come in blocks (one call
    per block, not per packet), each costs a hash and five column stores,
    and every `capacity` records of a shard a message whose bytes zmq then
    owns: on inproc the batch is framed (batch_frame.h: its columns are the
    message's, so a full one is sent by writing its header), elsewhere it
    is packed into a fresh msgpack buffer.  No per-packet allocation.
*/
#include "publish.h"
#include "batch.h"
#include "batch_frame.h"
#include "log.h"
#include "curve.h"
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct ds_publish_t {
    zsock_t *pub;                   //  XPUB, ZMQ_XPUB_NODROP
    void *pub_raw;                  //  zsock_resolve (pub)
    uint32_t shards;
    uint32_t sensor;
    ds_batch_t **batches;           //  one per shard
    uint64_t *seq;                  //  next seq per shard
    uint64_t *records;              //  records sent per shard
    char (*topics) [DS_TOPIC_LEN + 1];
    msgpack_sbuffer sbuf;           //  the message being encoded
    bool live;                      //  drop what cannot be queued at once
    zsock_t *watch [2];             //  NULL-terminated, for ds_send_msg2
    ds_wait_fn *on_wait;
    void *wait_arg;
    ds_publish_counts_t counts;
    ds_subs_t *subs;                //  which shard topics have a subscriber now
    uint64_t *unheard;              //  per shard: batches sent to nobody in a row (0: heard)
    bool ended;                     //  every EOS queued: linger on destroy
    int linger_ms;
    bool packed;                    //  not inproc: the packed batch layout (fewer bytes)
    ds_publish_label_fn *label;     //  labels a batch before it is sent, or NULL
    void *label_arg;
};

//  Names the shards' topics "<prefix>.NNNN" and watches the subscriptions
//  to them (own: only a subscription naming a shard covers it).  0, or -1
//  out of memory.
static int
s_topics (ds_publish_t *self, const char *prefix, bool own)
{
    ds_subs_t *subs = ds_subs_new (prefix, self->shards);
    if (!subs)
        return -1;
    ds_subs_set_own (subs, own);
    ds_subs_destroy (&self->subs);
    self->subs = subs;
    for (uint32_t i = 0; i < self->shards; i++)
        ds_topic_format (self->topics [i], prefix, i);
    return 0;
}

ds_publish_t *
ds_publish_new (const char *endpoint, uint32_t shards, uint32_t sensor, uint32_t capacity)
{
    if (shards < 1 || shards > DS_SHARDS_MAX || capacity < 1 || capacity > DS_BATCH_MAX_CAPACITY) {
        ds_log_error ("publisher: %u shards (1..%d), batches of %u records (1..%d)",
                      shards, DS_SHARDS_MAX, capacity, DS_BATCH_MAX_CAPACITY);
        return NULL;
    }
    ds_publish_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->shards = shards;
    self->sensor = sensor;
    msgpack_sbuffer_init (&self->sbuf);
    self->batches = calloc (shards, sizeof *self->batches);
    self->seq = calloc (shards, sizeof *self->seq);
    self->records = calloc (shards, sizeof *self->records);
    self->topics = calloc (shards, sizeof *self->topics);
    self->unheard = calloc (shards, sizeof *self->unheard);
    if (!self->batches || !self->seq || !self->records || !self->topics || !self->unheard
    ||  s_topics (self, "pkt", false))
        goto fail;
    self->packed = ds_transport_packed (endpoint);
    for (uint32_t i = 0; i < shards; i++)
        if (!(self->batches [i] = self->packed ? ds_batch_new (capacity) : ds_batch_new_framed (capacity)))
            goto fail;
    self->pub = zsock_new (ZMQ_XPUB);
    if (!self->pub) {
        ds_log_error ("cannot create the XPUB socket: %s", zmq_strerror (errno));
        goto fail;
    }
    self->pub_raw = zsock_resolve (self->pub);
    ds_sock_defaults (self->pub);               //  linger 0, DS_SOCK_HWM
    ds_sock_inproc_hwm (self->pub, endpoint);
    zsock_set_xpub_nodrop (self->pub, 1);
    if (ds_curve_bind (self->pub, endpoint) < 0)   //  logs why
        goto fail;
    return self;
fail:
    ds_publish_destroy (&self);
    return NULL;
}

void
ds_publish_destroy (ds_publish_t **self_p)
{
    ds_publish_t *self = *self_p;
    if (!self)
        return;
    if (self->batches)
        for (uint32_t i = 0; i < self->shards; i++)
            ds_batch_destroy (&self->batches [i]);
    free (self->batches);
    free (self->seq);
    free (self->records);
    free (self->topics);
    free (self->unheard);
    ds_subs_destroy (&self->subs);
    msgpack_sbuffer_destroy (&self->sbuf);
    //  Linger 0 everywhere (DESIGN §1) would discard the tail of a stream
    //  still queued for slow subscribers, EOS included: the stricter rule
    //  is "files lose nothing", so a complete stream lingers, bounded.
    if (self->pub && self->ended)
        zsock_set_linger (self->pub, self->linger_ms);
    zsock_destroy (&self->pub);
    free (self);
    *self_p = NULL;
}

const char *
ds_publish_endpoint (ds_publish_t *self)
{
    return zsock_endpoint (self->pub);
}

void
ds_publish_set_watch (ds_publish_t *self, zsock_t *watch, ds_wait_fn *on_wait, void *arg)
{
    self->watch [0] = watch;
    self->watch [1] = NULL;
    self->on_wait = on_wait;
    self->wait_arg = arg;
}

int
ds_publish_set_label (ds_publish_t *self, const char *prefix, ds_publish_label_fn *label,
                      void *arg)
{
    if (strlen (prefix) != DS_TOPIC_LEN - 5)  //  "pkt": topics are "%s.%04u"
        return -1;
    //  Labelled batches go to the aggregators themselves: a reader of
    //  every shard (embed's "lab.") does not stand in for one.
    if (s_topics (self, prefix, true))
        return -1;
    self->label = label;
    self->label_arg = arg;
    return 0;
}

void
ds_publish_set_live (ds_publish_t *self, bool live)
{
    self->live = live;
}

int
ds_publish_wait_subscribers (ds_publish_t *self, int timeout_ms, ds_wait_fn *on_wait, void *arg)
{
    return ds_subs_wait (self->subs, self->pub, timeout_ms, on_wait, arg);
}

//  Sends [topic][the size bytes at data], which lie in the malloc'ed block
//  base, handed to zmq without a copy.  Not live: at the high-water mark
//  the send waits for room (ds_send_msg2).  Live: a message that cannot be
//  queued at once is dropped (returns 1, the caller counts).
static int
s_send (ds_publish_t *self, uint32_t shard, void *base, const void *data, size_t size)
{
    zmq_msg_t topic, body;
    if (zmq_msg_init_size (&topic, DS_TOPIC_LEN)) {
        free (base);
        return -1;
    }
    memcpy (zmq_msg_data (&topic), self->topics [shard], DS_TOPIC_LEN);
    if (ds_msg_init_in (&body, base, data, size)) {
        free (base);
        zmq_msg_close (&topic);
        return -1;
    }
    if (self->live) {
        if (zmq_msg_send (&topic, self->pub_raw, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
            int busy = errno == EAGAIN || errno == EINTR;
            zmq_msg_close (&topic);
            zmq_msg_close (&body);
            return busy ? 1 : -1;
        }
        //  The first frame is queued: the message must be completed.
        return ds_send_part (self->pub, &body, false, self->watch, self->on_wait, self->wait_arg);
    }
    return ds_send_msg2 (self->pub, &topic, &body, self->watch, self->on_wait, self->wait_arg);
}

//  s_send of the bytes encoded in sbuf (which starts a new buffer).
static int
s_send_sbuf (ds_publish_t *self, uint32_t shard)
{
    size_t size = self->sbuf.size;
    void *data = msgpack_sbuffer_release (&self->sbuf);
    return s_send (self, shard, data, data, size);
}

//  Before a batch of a shard is sent: true if its topic has a subscriber
//  now.  A batch sent while nobody subscribes is lost (an XPUB sends only
//  to subscribers): counted, and logged when it starts and when it ends.
static bool
s_heard (ds_publish_t *self, uint32_t shard)
{
    ds_subs_read (self->subs, self->pub);
    bool heard = ds_subs_covered (self->subs, shard);
    if (heard && self->unheard [shard]) {
        ds_log_warn ("sensor %u shard %u: a subscriber is back after %" PRIu64 " batches "
                     "sent to nobody (lost: replay this sensor's input to fill them)",
                     self->sensor, shard, self->unheard [shard]);
        self->unheard [shard] = 0;
    }
    else
    if (!heard && self->unheard [shard]++ == 0)
        ds_log_error ("sensor %u shard %u: no subscriber (it went away): batch %" PRIu64
                      " and those after it go to nobody and are lost", self->sensor, shard,
                      self->seq [shard]);
    return heard;
}

//  Publishes the batch of one shard if it holds records.
static int
s_flush (ds_publish_t *self, uint32_t shard)
{
    ds_batch_t *batch = self->batches [shard];
    if (batch->count == 0)
        return 0;
    batch->sensor = self->sensor;
    batch->shard = shard;
    batch->seq = self->seq [shard];
    if (self->label && self->label (self->label_arg, batch) != 0) {
        ds_log_error ("cannot label a batch (the labeler stopped, or out of memory)");
        return -1;
    }
    void *base = NULL;
    const void *data = NULL;
    size_t size = 0;
    int rc = ds_batch_frame_take (batch, &base, &data, &size);
    if (rc < 0) {
        ds_log_error ("cannot frame a batch: out of memory");
        return -1;
    }
    if (rc == 1) {                  //  not framed, or not full: encoded
        base = NULL;
        msgpack_sbuffer_clear (&self->sbuf);
        rc = self->packed ? ds_batch_encode_packed (batch, &self->sbuf)
                          : ds_batch_encode (batch, &self->sbuf);
        if (rc != 0) {
            ds_log_error ("cannot encode a batch: %s", ds_result_str (rc));
            return -1;
        }
    }
    bool heard = s_heard (self, shard);
    rc = base ? s_send (self, shard, base, data, size) : s_send_sbuf (self, shard);
    if (rc < 0)
        return -1;
    if (rc == 0 && !heard) {
        self->counts.unheard++;
        self->counts.unheard_records += batch->count;
    }
    if (rc == 1)
        self->counts.dropped += batch->count;   //  live overload
    else {
        self->seq [shard]++;
        self->records [shard] += batch->count;
        self->counts.batches++;
        self->counts.records += batch->count;
    }
    ds_batch_reset (batch);
    return 0;
}

int
ds_publish_add (ds_publish_t *self, const ds_record_t *recs, size_t count)
{
    //  ds_batch_add, inlined and in locals: the source address is copied as
    //  bytes, which may alias anything, so the compiler would otherwise
    //  reload every pointer after it.
    const uint32_t shards = self->shards;
    ds_batch_t *const *batches = self->batches;
    for (size_t k = 0; k < count; k++) {
        const ds_record_t *rec = &recs [k];
        uint32_t shard = shards > 1 ? ds_addr_shard (&rec->src, shards) : 0;
        ds_batch_t *batch = batches [shard];
        uint32_t i = batch->count;
        ds_addr_t *src = batch->src;
        batch->ts [i] = rec->ts;
        batch->port [i] = rec->port;
        batch->proto [i] = rec->proto;
        batch->flags [i] = rec->flags;
        src [i] = rec->src;
        batch->count = ++i;
        if (i == batch->capacity && s_flush (self, shard) != 0)
            return -1;
    }
    return 0;
}

int
ds_publish_flush (ds_publish_t *self)
{
    for (uint32_t shard = 0; shard < self->shards; shard++)
        if (s_flush (self, shard))
            return -1;
    return 0;
}

int
ds_publish_end (ds_publish_t *self, const ds_eos_t *counters, int linger_ms)
{
    bool live = self->live;
    self->live = false;                         //  an EOS is never dropped
    int rc = 0;
    for (uint32_t shard = 0; shard < self->shards && rc == 0; shard++) {
        ds_eos_t eos = *counters;
        eos.sensor = self->sensor;
        eos.shard = shard;
        eos.batches = self->seq [shard];
        eos.records = self->records [shard];
        msgpack_sbuffer_clear (&self->sbuf);
        rc = ds_eos_encode (&eos, &self->sbuf);
        if (rc != 0) {
            ds_log_error ("cannot encode EOS: %s", ds_result_str (rc));
            rc = -1;
        }
        else {
            if (!s_heard (self, shard)) {
                ds_log_error ("sensor %u shard %u: end of stream sent with no subscriber: "
                              "the shard will not see this sensor end (replay its input)",
                              self->sensor, shard);
                self->counts.unheard_eos++;
            }
            if (s_send_sbuf (self, shard) != 0) {
                ds_log_error ("EOS for shard %u not sent", shard);
                rc = -1;
            }
        }
    }
    self->live = live;
    if (rc == 0) {
        self->ended = true;
        self->linger_ms = linger_ms;
    }
    return rc;
}

int
ds_publish_stats (ds_publish_t *self, const ds_stats_t *counters)
{
    for (uint32_t shard = 0; shard < self->shards; shard++) {
        ds_stats_t stats = *counters;
        stats.sensor = self->sensor;
        stats.shard = shard;
        stats.batches = self->seq [shard];
        stats.records = self->records [shard];
        msgpack_sbuffer_clear (&self->sbuf);
        int rc = ds_stats_encode (&stats, &self->sbuf);
        if (rc != 0) {
            ds_log_error ("cannot encode the counters: %s", ds_result_str (rc));
            return -1;
        }
        //  Live: one that cannot be queued now is skipped, not counted as
        //  a drop of records (the next one carries the totals).
        if (s_send_sbuf (self, shard) < 0)
            return -1;
    }
    return 0;
}

ds_publish_counts_t
ds_publish_counts (const ds_publish_t *self)
{
    return self->counts;
}
