/*  merge.h - exact merge of the aggregator shards' partial answers.

    Shards partition sources, so every per-source quantity is disjoint
    across shards: counts add, sets of sources are disjoint unions, and the
    only true unions (pp, ports, classes, services, days) are merged by key.

    The overview family is answered in rounds of typed partials
    (proto/partial_codec.h): RANGE resolves the default window, OVERVIEW
    brings each shard's sums, PPSRC the window's distinct sources of the top
    3 pps, which only the merged OVERVIEW can name.  The rounds run through
    a callback, so the same code serves the query service's sockets and
    tests that ask stores in-process; the merges themselves are pure
    functions on decoded partials.  A partial that does not decode, or
    answers another window or zone, is an error naming the shard, never a
    crash.  (Patterns are answered in rounds of their own: pattern.h; they
    start with ds_merge_range too.)
*/
#ifndef DS_MERGE_H
#define DS_MERGE_H

#include <msgpack.h>
#include "ds_proto.h"
#include "partial_codec.h"

//  Sends request (a DSK partial request) to every one of the n shards and
//  points *results at their n result objects, each a bin holding a partial,
//  valid until the next call.  Returns 0, or -1 with a reason naming the
//  shard in err.
typedef int (ds_merge_round_fn) (void *ctx, const msgpack_sbuffer *request,
                                 const msgpack_object **results, char *err, size_t err_size);

//  What ds_merge_range and ds_merge_window return when no shard has a
//  record and q asks for no window: q's days stay "" (the empty window,
//  which ds_merge_answer answers with every count 0 and the ingest
//  counters) and err says "no data yet" (for queries that need days).
#define DS_MERGE_EMPTY 1

//  Resolves q's default window (first/last day seen over all shards; with
//  retention no more than the retained days before the newest) by a
//  RANGE round: writes the days into q, the shards' common time zone into
//  tz and, if generations is not NULL, each shard's store generation into
//  generations [0..n).  Returns 0, DS_MERGE_EMPTY (above), or -1 with a
//  reason in err.
int ds_merge_range (size_t n, ds_merge_round_fn *round, void *ctx, ds_query_t *q,
                    char *tz, size_t tz_size, uint64_t *generations, char *err, size_t err_size);

//  Answers q (an overview-family query, days resolved) by an OVERVIEW and
//  a PPSRC round over n shards and packs the result object of q->name
//  into pk.  Returns 0, or -1 with a reason in err (nothing packed).
int ds_merge_answer (size_t n, ds_merge_round_fn *round, void *ctx, const ds_query_t *q,
                     const char *tz, msgpack_packer *pk, char *err, size_t err_size);

//  Resolves q's default window from n RANGE partials (see ds_merge_range).
int ds_merge_window (const ds_part_range_t *parts, size_t n, ds_query_t *q,
                     char *tz, size_t tz_size, char *err, size_t err_size);


#endif
