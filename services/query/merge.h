/*  merge.h - exact merge of the aggregator shards' partial answers.

    Shards partition sources, so every per-source quantity is disjoint
    across shards: counts add, sets of sources are disjoint unions, and the
    only true unions (pp, ports, classes, services, days) are merged by key.
    These are pure functions on msgpack objects (no sockets), so tests can
    merge partials packed in-process by ds_store_partial().

    Partials (packed by services/aggregator/store.c):
      range    {"tz", "gen", "any", "first", "last"}    days as day numbers,
                                                gen changes with the store
      overview {"tz", "ws", "ls",
                "w": [[port, proto, packets, 0]...]         window, per pp
                "l": [[port, proto, packets, sources]...]   last day, per pp
                "h": [[x, sources]...]          packets-per-source histogram
                "d": [[sources, filtered, first_seen, first_seen_filtered]...]
                "c": [[class, senders, packets, [[port, proto, packets]...],
                       [[service, packets]...]]...]      filtered last day
                "ing": [gaps, [[sensor, eos, packets_read, non_ip,
                                malformed, dropped]...]]}
      ppsrc    {"s": [[port, proto, sources]...]}  window sources of the top
               pps, asked with part "pps:PORT.PROTO,..." (see ds_merge_top_pps)
    A partial that does not have this shape is an error, never a crash.
    (Patterns are answered in rounds of their own: pattern.h.)
*/
#ifndef DS_MERGE_H
#define DS_MERGE_H

#include <msgpack.h>
#include "ds_proto.h"

//  Resolves q's default window (first/last day seen over all shards) from
//  the "range" partials; writes the shards' common time zone into tz.
//  Returns 0, or -1 with a reason in err (no data, zones differ, shape).
int ds_merge_window (const msgpack_object *parts, size_t n, ds_query_t *q,
                     char *tz, size_t tz_size, char *err, size_t err_size);

//  From the "overview" partials, writes the part name of the second round
//  ("pps:PORT.PROTO,..." with the window's top 3 pps) into part (>= 32).
//  Distinct sources per pp over a window need a set of (source, pp); only
//  the top 3 are reported, so shards count them for those 3 only.
int ds_merge_top_pps (const msgpack_object *parts, size_t n, char *part, size_t size,
                      char *err, size_t err_size);

//  Merges "overview" partials and the "ppsrc" partials of the part that
//  ds_merge_top_pps named, and packs the result of q->name: "overview"
//  (the DESIGN §5 object, keys in its order), "ports", "ecdf", "daily",
//  "classes" or "heatmap".  q's days must be resolved.  Returns 0, or -1
//  with a reason in err (nothing packed).
int ds_merge_overview (const msgpack_object *parts, size_t n, const msgpack_object *ppsrc,
                       size_t n_ppsrc, const ds_query_t *q, const char *tz,
                       msgpack_packer *pk, char *err, size_t err_size);

//  True if name is a query answered from the overview partials.
int ds_merge_is_overview_query (const char *name);

#endif
