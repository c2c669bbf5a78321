/*  streams.c - the store's sensors: batch sequences, gaps, replays,
    epochs and the sensors' ingest counters (ds_store_apply, ds_store_eos,
    ds_store_stats), and the views of them the aggregator logs and
    checkpoints by (ds_store_streams, ds_store_eos_changes,
    ds_store_gaps_grown).

    A stream is one sensor's batches into this shard.  A batch is applied
    at most once: a seq newer than expected counts the missing ones as gaps
    and remembers them as a hole that a replay of the input may still fill;
    an older one is applied only if it is in a hole, else it is a replay.
    The sensor's counters (STATS before its first batch and periodically,
    then the EOS) travel in the stream after the batches sent before them,
    so their batch count also shows gaps before the end of stream.

    Epochs (DESIGN §12): a restarted live ingest starts a larger epoch and
    its seqs start again at 0.  The stream then starts over: the holes of
    the old epoch can no longer be filled (its gaps stay counted), its
    counters are kept as `before` and the new epoch's add to them.  Messages
    of an older epoch than the stream's are ignored and counted as stale.
*/
#include "store_internal.h"
#include <time.h>

static int64_t
s_wall_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static s_stream_t *
s_stream (ds_store_t *self, uint32_t sensor)
{
    for (uint32_t i = 0; i < self->n_streams; i++)
        if (self->streams [i].sensor == sensor)
            return &self->streams [i];
    if (self->n_streams == S_STREAMS_MAX)
        return NULL;                //  a flood of sensor ids is refused
    if (self->n_streams == self->streams_cap) {
        uint32_t cap = self->streams_cap ? self->streams_cap * 2 : 8;
        s_stream_t *streams = realloc (self->streams, cap * sizeof *streams);
        if (!streams)
            return NULL;
        self->streams = streams;
        self->streams_cap = cap;
    }
    s_stream_t *s = &self->streams [self->n_streams++];
    memset (s, 0, sizeof *s);
    s->sensor = sensor;
    return s;
}

//  Makes room for one more hole; -1 if there is none (S_HOLES_MAX or no
//  memory: the seqs concerned then stay gaps for good).
static int
s_holes_reserve (ds_store_t *self)
{
    if (self->n_holes < self->holes_cap)
        return 0;
    if (self->n_holes >= S_HOLES_MAX)
        return -1;
    uint32_t cap = self->holes_cap ? self->holes_cap * 2 : 8;
    if (cap > S_HOLES_MAX)
        cap = S_HOLES_MAX;
    s_hole_t *holes = realloc (self->holes, cap * sizeof *holes);
    if (!holes)
        return -1;
    self->holes = holes;
    self->holes_cap = cap;
    return 0;
}

//  Remembers the missing seqs [lo, hi) of a sensor (already counted as
//  gaps) so that a replay can fill them.
static void
s_hole_add (ds_store_t *self, uint32_t sensor, uint64_t lo, uint64_t hi)
{
    if (lo < hi && s_holes_reserve (self) == 0)
        self->holes [self->n_holes++] = (s_hole_t) { sensor, 0, lo, hi };
}

//  Index of the hole holding a sensor's seq, or UINT32_MAX.  Linear, but
//  only batches older than expected get here and holes are few.
static uint32_t
s_hole_find (ds_store_t *self, uint32_t sensor, uint64_t seq)
{
    for (uint32_t i = 0; i < self->n_holes; i++)
        if (self->holes [i].sensor == sensor && seq >= self->holes [i].lo && seq < self->holes [i].hi)
            return i;
    return UINT32_MAX;
}

//  Counts the batches [next_seq, batches) a sensor announced but never
//  delivered as gaps, remembered as a hole a replay may still fill.
static void
s_announced (ds_store_t *self, s_stream_t *s, uint64_t batches)
{
    if (batches <= s->next_seq)
        return;
    s->gaps += batches - s->next_seq;
    s_hole_add (self, s->sensor, s->next_seq, batches);
    s->next_seq = batches;
}

//  Takes a message of epoch `epoch`: false if it is older than the
//  stream's (ignored, counted); a newer one starts the stream over.
static bool
s_epoch (ds_store_t *self, s_stream_t *s, uint64_t epoch)
{
    if (epoch < s->epoch) {
        s->stale++;
        return false;
    }
    if (s->epochs == 0) {
        s->epoch = epoch;           //  the stream's first
        s->epochs = 1;
        return true;
    }
    if (epoch == s->epoch)
        return true;
    //  A restarted ingest: what the old epoch counted stays, its holes
    //  can no longer be filled (their gaps stay counted).
    const uint64_t now [STORE_COUNTERS] = { s->packets_read, s->non_ip, s->malformed,
                                            s->dropped, s->bad_time };
    for (int i = 0; i < STORE_COUNTERS; i++)
        s->before [i] += now [i];
    s->packets_read = s->non_ip = s->malformed = s->dropped = s->bad_time = s->pcap_dropped = 0;
    for (uint32_t i = 0; i < self->n_holes; )
        if (self->holes [i].sensor == s->sensor)
            self->holes [i] = self->holes [--self->n_holes];
        else
            i++;
    s->epoch = epoch;
    s->epochs++;
    s->next_seq = 0;
    s->eos = 0;
    return true;
}

//  Applies a batch that arrives older than expected: if its seq is in one
//  of the stream's holes (a missing batch, late: the input replayed after
//  a crash or restart) it is applied and its gap filled; anything else was
//  applied already and is a replay.  Returns as ds_store_apply.
static int
s_apply_late (ds_store_t *self, s_stream_t *s, const ds_batch_t *labelled)
{
    uint64_t seq = labelled->seq;
    uint32_t h = s_hole_find (self, labelled->sensor, seq);
    bool split = h != UINT32_MAX && seq > self->holes [h].lo && seq + 1 < self->holes [h].hi;
    if (h == UINT32_MAX || (split && s_holes_reserve (self))) {
        //  Not missing, or a split with no room left: the rest of that
        //  hole stays gaps, so this one must not be applied either (at
        //  most once holds; the gap count stays exact).
        s->replays++;
        self->generation++;         //  the status shows replays
        return 0;
    }
    if (ds_store_add_batch (self, labelled))
        return -1;
    s_hole_t *hole = &self->holes [h];  //  after the reserve's realloc
    if (split) {
        self->holes [self->n_holes++] = (s_hole_t) { hole->sensor, 0, seq + 1, hole->hi };
        hole->hi = seq;
    }
    else
    if (seq == hole->lo)
        hole->lo++;
    else
        hole->hi--;
    if (hole->lo == hole->hi)
        *hole = self->holes [--self->n_holes];
    s->gaps--;
    s->batches++;
    s->records += labelled->count;
    s->last_batch_us = s_wall_us ();
    return 1;
}

//  Takes the time of the newest record of a batch applied to stream s
//  (the data lag of status and metrics: now minus it).  Out of memory
//  leaves it as it was: the lag is a view, not a count.
static void
s_newest (ds_store_t *self, const s_stream_t *s, const ds_batch_t *labelled)
{
    uint32_t i = (uint32_t) (s - self->streams);
    if (i >= self->newest_cap) {
        uint32_t cap = self->streams_cap;
        int64_t *newest = realloc (self->newest_us, cap * sizeof *newest);
        if (!newest)
            return;
        memset (newest + self->newest_cap, 0, (cap - self->newest_cap) * sizeof *newest);
        self->newest_us = newest;
        self->newest_cap = cap;
    }
    int64_t max = self->newest_us [i];
    for (uint32_t k = 0; k < labelled->count; k++)
        max = labelled->ts [k] > max ? labelled->ts [k] : max;
    self->newest_us [i] = max;
}

int
ds_store_apply (ds_store_t *self, const ds_batch_t *labelled)
{
    s_stream_t *s = labelled->seq < UINT64_MAX ? s_stream (self, labelled->sensor) : NULL;
    if (!s)
        return -1;                  //  seq UINT64_MAX would wrap next_seq
    if (labelled->seq < s->next_seq) {
        int rc = s_apply_late (self, s, labelled);
        if (rc == 1)
            s_newest (self, s, labelled);
        return rc;
    }
    if (ds_store_add_batch (self, labelled))
        return -1;
    s_newest (self, s, labelled);
    s_announced (self, s, labelled->seq);
    s->next_seq = labelled->seq + 1;
    s->batches++;
    s->records += labelled->count;
    s->last_batch_us = s_wall_us ();
    return 1;
}

void
ds_store_eos (ds_store_t *self, const ds_eos_t *eos)
{
    s_stream_t *s = s_stream (self, eos->sensor);
    if (!s)
        return;
    self->generation++;
    if (!s_epoch (self, s, eos->epoch))
        return;
    if (!s->eos)
        s_announced (self, s, eos->batches);
    s->eos = 1;
    s->packets_read = eos->packets_read;
    s->non_ip = eos->non_ip;
    s->malformed = eos->malformed;
    s->dropped = eos->dropped;
    s->bad_time = eos->bad_time;
}

int
ds_store_stats (ds_store_t *self, const ds_stats_t *stats, int64_t now_us)
{
    s_stream_t *s = s_stream (self, stats->sensor);
    if (!s)
        return -1;
    self->generation++;
    if (!s_epoch (self, s, stats->epoch))
        return 0;
    if (!s->eos)
        s_announced (self, s, stats->batches);
    s->packets_read = stats->packets_read;
    s->non_ip = stats->non_ip;
    s->malformed = stats->malformed;
    s->dropped = stats->dropped;
    s->bad_time = stats->bad_time;
    s->pcap_dropped = stats->pcap_dropped;
    s->stats++;
    s->last_stats_us = now_us;
    s->lag_us = now_us - stats->sent_us;
    return 1;
}

uint32_t
ds_store_eos_count (ds_store_t *self)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < self->n_streams; i++)
        n += self->streams [i].eos ? 1 : 0;
    return n;
}

void
store_stream_totals (const s_stream_t *s, uint64_t totals [STORE_COUNTERS])
{
    const uint64_t now [STORE_COUNTERS] = { s->packets_read, s->non_ip, s->malformed,
                                            s->dropped, s->bad_time };
    for (int i = 0; i < STORE_COUNTERS; i++)
        totals [i] = s->before [i] + now [i];
}

//  Stream i as the store counts it (ds_store_stream_t).
static ds_store_stream_t
s_view (const ds_store_t *self, uint32_t i)
{
    const s_stream_t *s = &self->streams [i];
    uint64_t totals [STORE_COUNTERS];
    store_stream_totals (s, totals);
    return (ds_store_stream_t) {
        .sensor = s->sensor, .eos = s->eos != 0, .batches = s->batches,
        .records = s->records, .gaps = s->gaps, .replays = s->replays,
        .packets_read = totals [0], .non_ip = totals [1], .malformed = totals [2],
        .dropped = totals [3], .bad_time = totals [4],
        .epoch = s->epoch, .epochs = s->epochs, .stale = s->stale,
        .last_batch_us = s->last_batch_us,
        .last_stats_us = s->last_stats_us, .lag_us = s->lag_us,
        .newest_us = i < self->newest_cap ? self->newest_us [i] : 0 };
}

size_t
ds_store_streams (ds_store_t *self, ds_store_stream_t *out, size_t max)
{
    for (uint32_t i = 0; i < self->n_streams && i < max; i++)
        out [i] = s_view (self, i);
    return self->n_streams;
}

bool
ds_store_eos_changes (ds_store_t *self, const ds_eos_t *eos)
{
    uint32_t i = 0;
    while (i < self->n_streams && self->streams [i].sensor != eos->sensor)
        i++;
    bool before = i < self->n_streams;
    ds_store_stream_t a = before ? s_view (self, i) : (ds_store_stream_t) { 0 };
    ds_store_eos (self, eos);
    if (!before)
        return true;                //  a new stream (or one refused: too many sensors)
    ds_store_stream_t b = s_view (self, i);
    return a.eos != b.eos || a.batches != b.batches || a.records != b.records || a.gaps != b.gaps
        || a.replays != b.replays || a.packets_read != b.packets_read || a.non_ip != b.non_ip
        || a.malformed != b.malformed || a.dropped != b.dropped || a.bad_time != b.bad_time
        || a.epoch != b.epoch || a.epochs != b.epochs || a.stale != b.stale
        || a.last_batch_us != b.last_batch_us || a.last_stats_us != b.last_stats_us
        || a.lag_us != b.lag_us || a.newest_us != b.newest_us;
}

bool
ds_store_gaps_grown (ds_store_t *self, ds_store_gaplog_t *log, uint32_t *next,
                     ds_store_stream_t *out, uint64_t *logged)
{
    for (; *next < self->n_streams && *next < DS_STORE_GAPLOG_MAX; (*next)++) {
        const s_stream_t *s = &self->streams [*next];
        size_t k = 0;
        while (k < log->count && log->sensor [k] != s->sensor)
            k++;
        if (k == log->count) {
            if (k == DS_STORE_GAPLOG_MAX)
                continue;
            log->sensor [k] = s->sensor;
            log->gaps [k] = 0;
            log->count++;
        }
        uint64_t was = log->gaps [k];
        log->gaps [k] = s->gaps;        //  also when fewer: a replay filled some
        if (s->gaps > was) {
            *out = s_view (self, (*next)++);
            *logged = was;
            return true;
        }
    }
    return false;
}
