/*  store.h - the exact per-day aggregates of one aggregator shard.

    A store keeps, for the sources of one shard (shards partition sources,
    so everything per source is disjoint across shards):
      - a source table: address -> src id, its GT class name id, GT flag,
        last time seen;
      - a pp table: (port, proto) -> pp id, with its service name id;
      - (day, src) -> packets and the OR of record flags;
      - (day, src, pp) -> packets;
      - (src, minute) -> first microsecond seen in that 60 s bin (patterns;
        so pattern bins and time ranges must be multiples of 60 s), kept
        per source as a sorted vector of 8-byte values.
    Tables are dense arrays with hash indexes, an open-addressing hash of
    12-byte entries and per-source vectors, all grown geometrically (see
    store.c): memory grows with distinct keys, never with packets, and
    adding a batch allocates nothing per record (only amortised growth).

    It also keeps, per sensor, the stream state (next expected seq, gaps,
    end-of-stream and the sensor's ingest counters) and the missing seq
    ranges (up to 4096 per shard) that a replay of the input may still
    fill, so one checkpoint file restores everything.  ds_store_partial()
    computes the partial answers the query service merges
    (proto/partial_codec.h, services/query/merge.h), ds_store_pattern() the
    activity-pattern rounds (services/query/pattern.h).
*/
#ifndef DS_STORE_H
#define DS_STORE_H

#include <msgpack.h>
#include "batch.h"
#include "ds_proto.h"
#include "partial_codec.h"
#include "tz.h"

typedef struct _ds_store_t ds_store_t;

//  Creates an empty store for shard `shard` of `shards` whose days are
//  local days of tz (NULL: UTC; borrowed: it must outlive the store).
//  Caller destroys.
ds_store_t *ds_store_new (uint32_t shard, uint32_t shards, const ds_tz_t *tz);

//  Keeps only the newest `days` days (0: every day, the default): when a
//  newer day arrives, older days are evicted from every table with the
//  sources no retained day holds, and records older than the retained
//  days are counted as expired, not added.  Days the store already holds
//  beyond the newest N go at once.  0, or -1 (out of memory compacting).
int ds_store_set_retention (ds_store_t *self, uint32_t days);

//  How many sensors' ends of stream complete the input (the aggregator's
//  --sensors); the overview partial carries it, so the overview can say
//  whether it is complete.
void ds_store_set_sensors_expected (ds_store_t *self, uint32_t sensors);

//  Keeps the activity-pattern bins of every source (true, the default) or
//  not: a store that no pattern query will read and no checkpoint will
//  save (a one-shot run's) skips their cost.  Without them ds_store_pattern
//  and ds_store_save fail, saying why.  Set before the first record.
void ds_store_set_patterns (ds_store_t *self, bool keep);

//  Destroys a store; NULL-safe; nulls the caller's pointer.
void ds_store_destroy (ds_store_t **self_p);

//  Adds every record of a labelled batch (no sequence check).  Returns 0,
//  or -1 if memory ran out (the store stays consistent, records may be
//  partly counted).
int ds_store_add_batch (ds_store_t *self, const ds_batch_t *labelled);

//  Applies a batch at most once per (sensor, seq): returns 1 if applied,
//  0 if ignored as a replay (seq older than the next expected and not a
//  gap), -1 on error (out of memory, seq 2^64-1, more than 65536 sensors).
//  A seq newer than expected counts the missing ones as gaps; a missing
//  seq that arrives later (the input replayed after a crash or a restart
//  from a checkpoint) is applied and its gap filled.  Up to 4096 missing
//  ranges per shard are remembered, also in checkpoints; beyond that a gap
//  stays counted for good.
int ds_store_apply (ds_store_t *self, const ds_batch_t *labelled);

//  Records one end-of-stream message of a sensor for this shard; batches
//  announced but never received count as gaps (a replay may fill them).
//  One of an older epoch than the stream's is ignored (counted as stale).
void ds_store_eos (ds_store_t *self, const ds_eos_t *eos);

//  Records a sensor's counters (STATS) for this shard, received at now_us
//  (wall clock): batches it announced but that never arrived count as
//  gaps at once.  A larger epoch than the stream's starts the stream over
//  (a restarted live ingest: seqs from 0 again, not replays; the earlier
//  epochs' counters are kept and added to).  Returns 1 if taken, 0 if
//  ignored (an older epoch: counted as stale), -1 for too many sensors.
int ds_store_stats (ds_store_t *self, const ds_stats_t *stats, int64_t now_us);

//  Number of distinct sensors whose end-of-stream arrived.
uint32_t ds_store_eos_count (ds_store_t *self);

//  Answers a RANGE, OVERVIEW or PPSRC request (partial_codec.h): computes
//  the shard's partial and encodes it into out (emptied first).  Returns
//  0, or -1 with a reason in err.
int ds_store_partial (ds_store_t *self, const ds_part_req_t *req, msgpack_sbuffer *out,
                      char *err, size_t err_size);

//  Answers one activity-pattern round: request is a DSK pattern request
//  (pattern_codec.h); packs its pattern partial as one msgpack bin object.
//  Returns 0, or -1 with a reason in err (bad request, selection the store
//  cannot answer, partial over its limit, out of memory).
int ds_store_pattern (ds_store_t *self, const uint8_t *request, size_t size, msgpack_packer *pk,
                      char *err, size_t err_size);

//  Fills the store's part of a STATUS (sensors, gaps, counts, days seen;
//  the caller adds rejected, foreign and checkpoint).  Its streams are
//  then owned by status (ds_part_status_clear).  0, or -1 out of memory.
int ds_store_status (ds_store_t *self, uint32_t sensors_expected, ds_part_status_t *status);

//  One sensor's stream as the store counts it (the metrics of --http;
//  the same numbers as the status query's streams and ingest map).
typedef struct {
    uint32_t sensor;
    bool eos;                       //  its end-of-stream arrived (this epoch)
    uint64_t batches, records, gaps, replays;
    //  The sensor's own counters over every epoch (STATS, then its EOS)
    uint64_t packets_read, non_ip, malformed, dropped, bad_time;
    uint64_t epoch;                 //  its current epoch
    uint64_t epochs;                //  epochs seen (> 1: its ingest restarted)
    uint64_t stale;                 //  messages of an older epoch, ignored
    int64_t last_batch_us;          //  wall clock of the last batch applied, 0: none
    int64_t last_stats_us;          //  wall clock the last STATS arrived, 0: none
    int64_t lag_us;                 //  its arrival minus its sending
    int64_t newest_us;              //  time of its newest record applied, 0: none
                                    //  (data lag: now minus it; checkpointed)
} ds_store_stream_t;

//  Copies up to max sensor streams into out; returns how many exist.
size_t ds_store_streams (ds_store_t *self, ds_store_stream_t *out, size_t max);

//  Records an end of stream (ds_store_eos); true if it changed the
//  sensor's stream as the store counts it (ds_store_stream_t: flags,
//  counters, epochs, gaps; a checkpoint saves it), false for one repeated
//  (a restarted labeler announces every end of stream again).
bool ds_store_eos_changes (ds_store_t *self, const ds_eos_t *eos);

//  The gaps of the first DS_STORE_GAPLOG_MAX sensors' streams as last
//  looked at by ds_store_gaps_grown (the caller's; zeroed to begin).
#define DS_STORE_GAPLOG_MAX 64
typedef struct {
    uint32_t sensor [DS_STORE_GAPLOG_MAX];
    uint64_t gaps [DS_STORE_GAPLOG_MAX];
    size_t count;
} ds_store_gaplog_t;

//  Walks the first DS_STORE_GAPLOG_MAX streams from *next (0 to begin):
//  true with the next one whose gaps grew since log last saw them in *out
//  and those earlier gaps in *logged; false at the end.  log takes every
//  stream's gaps as it passes.
bool ds_store_gaps_grown (ds_store_t *self, ds_store_gaplog_t *log, uint32_t *next,
                          ds_store_stream_t *out, uint64_t *logged);

//  Writes the store to path atomically (path.tmp, created O_EXCL |
//  O_NOFOLLOW, mode 0600; fsync, rename) with a header (magic, version,
//  shard, shards, tz) and a CRC32 of the body.  Returns 0, or -1 with a
//  reason in err.
int ds_store_save (ds_store_t *self, const char *path, char *err, size_t err_size);

//  Brings the store into the order a checkpoint writes it in (the pattern
//  bins).  ds_store_save does it too; a caller that forks to save calls it
//  before the fork, so the child changes nothing.  -1 if memory ran out.
int ds_store_prepare_save (ds_store_t *self);

//  Loads a checkpoint written by ds_store_save for this shard/shards and
//  a zone of the same name as tz (NULL: UTC; kept as in ds_store_new).
//  Returns a new store (caller destroys), or NULL with a reason in err (the
//  file is refused as a whole, never half-loaded).
ds_store_t *ds_store_load (const char *path, uint32_t shard, uint32_t shards,
                           const ds_tz_t *tz, char *err, size_t err_size);

//  The first and last day seen; false if no record yet.
bool ds_store_days (ds_store_t *self, int32_t *first, int32_t *last);

//  A number that changes whenever the store does (for answer caches).
uint64_t ds_store_generation (ds_store_t *self);

//  Counters for logs and benchmarks.
uint64_t ds_store_records (ds_store_t *self);
uint64_t ds_store_sources (ds_store_t *self);
size_t   ds_store_memory (ds_store_t *self);      //  bytes held by the tables

#endif
