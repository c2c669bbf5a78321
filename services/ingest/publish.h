/*  publish.h - ingest's sharded batch publisher.

    Records go into one batch per shard (ds_addr_shard of the source),
    allocated once and reused.  A full batch is encoded and handed to zmq
    without a copy as [topic "pkt.NNNN"][batch] on an XPUB with
    ZMQ_XPUB_NODROP, one stream per (sensor, shard) with its own sequence
    numbers, with the counters (STATS) before its first batch and then
    periodically, ended by an EOS that carries them too.  A file stream never
    drops: at the high-water mark a send sleeps until the subscriber makes
    room (ds_send_msg2, transport.h), woken early by a watched socket (the
    actor pipe) and asking a callback whether to give up.  In live mode a
    batch that cannot be queued at once is dropped and counted instead, so
    a capture never waits for a slow subscriber.  A batch sent while its
    shard has no subscriber (it went away: XPUB sends to nobody) is lost:
    counted (unheard) and logged when it starts and ends, never silent.
    With a labelling function set (ds_publish_set_label, `darkscope run`)
    every batch is labelled before it is encoded and the streams go out on
    "lab.NNNN" as a labeler's would.
*/
#ifndef DS_PUBLISH_H
#define DS_PUBLISH_H

#include <czmq.h>
#include "record.h"
#include "transport.h"
#include "ds_proto.h"
#include "batch.h"

typedef struct ds_publish_t ds_publish_t;

typedef struct {
    uint64_t batches;               //  batches sent
    uint64_t records;               //  records in them
    uint64_t dropped;               //  records dropped in live mode
    uint64_t unheard;               //  batches sent while their shard had no subscriber (lost)
    uint64_t unheard_records;       //  records in them
    uint64_t unheard_eos;           //  ends of stream sent so
} ds_publish_counts_t;

//  Creates a publisher of `shards` streams (1..DS_SHARDS_MAX) of sensor,
//  batches of `capacity` records, bound to endpoint.  NULL, with the error
//  logged, if it cannot bind.  Caller destroys.
ds_publish_t *ds_publish_new (const char *endpoint, uint32_t shards, uint32_t sensor,
                              uint32_t capacity);

//  Destroys a publisher; NULL-safe; nulls the caller's pointer.  A stream
//  that ended (ds_publish_end) lingers up to the time given there, so that
//  its tail, EOS included, still reaches slow subscribers.
void ds_publish_destroy (ds_publish_t **self_p);

//  The endpoint bound (for tcp://127.0.0.1:*, the port that was picked).
const char *ds_publish_endpoint (ds_publish_t *self);

//  What a send blocked at the high-water mark watches: input on `watch`
//  (NULL: none) wakes it early; on_wait (arg) returning -1 gives it up.
void ds_publish_set_watch (ds_publish_t *self, zsock_t *watch, ds_wait_fn *on_wait, void *arg);

//  Labels a batch in place before it is published: 0, or -1 (the batch
//  is not sent, the publisher fails).
typedef int ds_publish_label_fn (void *arg, ds_batch_t *batch);

//  Every batch labelled by label (arg) before it is sent, and every
//  stream published on topic prefix (e.g. "lab", 3 letters) instead of
//  "pkt".  Before anything is sent or waited for.  0, or -1 if out of
//  memory.
int ds_publish_set_label (ds_publish_t *self, const char *prefix, ds_publish_label_fn *label,
                          void *arg);

//  Live mode on or off: when on, a batch that cannot be queued at once is
//  dropped and counted.
void ds_publish_set_live (ds_publish_t *self, bool live);

//  Waits until every shard topic has a subscriber: 0, or -1 after
//  timeout_ms (< 0: no limit) or when on_wait (arg) gives up.
int ds_publish_wait_subscribers (ds_publish_t *self, int timeout_ms,
                                 ds_wait_fn *on_wait, void *arg);

//  Adds records, in order, each to its shard's batch, sending a batch once
//  full.  Returns 0, or -1 if a send failed or was given up.
int ds_publish_add (ds_publish_t *self, const ds_record_t *recs, size_t count);

//  Sends every batch that holds records.  Returns 0 or -1 (as above).
int ds_publish_flush (ds_publish_t *self);

//  Sends the EOS of every shard, never dropped (also in live mode):
//  packets_read, non_ip, malformed and dropped come from counters, the rest
//  is filled in per shard.  Batches not yet flushed are not sent.  On
//  success the streams are complete and ds_publish_destroy lingers up to
//  linger_ms (< 0: without limit).  Returns 0 or -1 (logged).
int ds_publish_end (ds_publish_t *self, const ds_eos_t *counters, int linger_ms);

//  Sends a STATS message (ds_stats_t) on every shard's stream: the
//  sensor's totals and epoch from counters, sensor, shard, batches and
//  records filled in per stream.  Waits for room like a batch, except in
//  live mode, where one that cannot be queued at once is skipped (the next
//  carries the totals).  Returns 0 or -1 (logged).
int ds_publish_stats (ds_publish_t *self, const ds_stats_t *counters);

//  What was sent and dropped so far.
ds_publish_counts_t ds_publish_counts (const ds_publish_t *self);

#endif
