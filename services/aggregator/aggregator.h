/*  aggregator.h - the aggregator service: one shard's exact aggregates.

    The actor subscribes to its own shard's labelled batches ("lab.%04u")
    on the labeler XPUB(s), applies each (sensor, shard, seq) at most once
    into a ds_store_t (replays are ignored, missing seqs counted as gaps),
    and answers the query service on a REP socket:
      ["DSK",1,7,...]  a partial request (range, overview, ppsrc, status),
                       answered with the typed partial as the reply's bin
                       result (proto/partial_codec.h)
      ["DSK",1,5,...]  a round of a pattern query (pattern_codec.h)
      {"v":1,"q":"status"}   the status map, for any client
    It checkpoints its store to disk (atomically: PATH.tmp, fsync, rename)
    on end-of-stream, every checkpoint_interval_ms when it changed and on
    stop, and restores it at start; a checkpoint that is corrupt, of
    another shard or another time zone stops the start with an error naming
    the file and the reason.  Checkpoints are written by a forked child
    (snapshot.h) while batches and queries go on; a failed one is logged,
    shown in status and tried again at the next occasion.

    Pipe commands: "$TERM" stops (after a final checkpoint if FINAL did not
    write one); "ENDPOINT" replies with the REP endpoint actually bound (for
    tcp://127.0.0.1:*); "CHECKPOINT" writes one now and replies "OK" or the
    error text; "FINAL" waits for the checkpoint being written, writes what
    changed since and replies "OK" or the error text (ds_aggregator_final).
    The actor sends "EOS" on its pipe once every expected sensor's
    end-of-stream for its shard arrived.
*/
#ifndef DS_AGGREGATOR_H
#define DS_AGGREGATOR_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>
#include "opts.h"
#include "tz.h"
#include "metrics.h"

#define DS_AGGREGATOR_INPUT_DEFAULT "tcp://127.0.0.1:5551"
#define DS_AGGREGATOR_PORT_BASE     5560

typedef struct {
    uint32_t shard;                 //  this shard's index, 0..shards-1
    uint32_t shards;                //  shard count (default 1)
    ds_strlist_t inputs;            //  labeler XPUB endpoints (default one)
    const char *endpoint;           //  REP for partial queries; NULL = default
    uint32_t sensors;               //  sensors expected (EOS count), default 1
    const ds_tz_t *tz;              //  zone of the days (NULL: UTC); must outlive the actor
    const char *checkpoint;         //  file path, NULL = no checkpoints
    int64_t checkpoint_interval_ms; //  0 = only on EOS and stop
    uint32_t retain_days;           //  keep the newest N days; 0 = every day
    bool no_patterns;               //  keep no activity patterns: nothing will ask
                                    //  (a one-shot run); ignored with a checkpoint
    ds_metrics_t *metrics;          //  --http registry, or NULL (aggmetrics.h)
} ds_aggregator_config_t;

//  Fills a config with the defaults (shard 0 of 1, default endpoints,
//  1 sensor, no checkpoint, interval 60 s).
void ds_aggregator_config_init (ds_aggregator_config_t *config);

//  Writes the default REP endpoint of a shard into buf.
void ds_aggregator_default_endpoint (uint32_t shard, char *buf, size_t size);

//  The service as a czmq actor (config: ds_aggregator_config_t *, read
//  only until zactor_new returns: the actor keeps its own copy, paths
//  included; config->tz must outlive the actor).  If it cannot start it
//  logs why, signals -1 and waits for $TERM, answering "ENDPOINT" with "".
void ds_aggregator_actor (zsock_t *pipe, void *config);

//  Asks a started actor for its final checkpoint (before stopping it):
//  0 when the state on disk is the current one (or there are no
//  checkpoints), -1 with the reason in err when the last write failed.
int ds_aggregator_final (zactor_t *actor, char *err, size_t err_size);

//  Asks a started actor for its bound REP endpoint.  Returns 0, or -1 if
//  the actor could not start (or does not answer within 30 s).  An "EOS"
//  the actor sent before the answer is consumed and reported in *eos
//  (may be NULL).
int ds_aggregator_endpoint (zactor_t *actor, char *buf, size_t size, bool *eos);

#endif
