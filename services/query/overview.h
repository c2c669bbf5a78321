/*  overview.h - the merged overview (DESIGN.md §5) and what each query of
    the overview family shows of it.

    merge.c sums the shards' partials into a ds_overview_t; this module
    packs the result a client asked for: the whole overview object (keys in
    DESIGN's order) or one of its sections (ports, ecdf, daily, classes,
    heatmap), in the exact formulas of the contract: percent = (100.0 *
    packets) / total, ECDF fraction = cumulative_sources / total_sources,
    heatmap fraction = packets (service, class) / packets (class).  Ties are
    broken on unique keys (pp text, port number, class / service name), so
    the output does not depend on how sources were split over shards.
*/
#ifndef DS_OVERVIEW_H
#define DS_OVERVIEW_H

#include <stdbool.h>
#include <msgpack.h>
#include "ds_proto.h"
#include "partial_codec.h"

//  A (port, proto) with its merged counts.  Its text ("<port>/<PROTO>",
//  ds_overview_pp_text) is made only for the rows a reply shows.
typedef struct {
    int32_t port;
    uint32_t proto;
    uint64_t packets;
    uint64_t sources;
} ds_overview_pp_t;

//  A service (or "others") and its packets.
typedef struct {
    char name [DS_NAME_MAX];
    uint64_t packets;
} ds_overview_named_t;

//  A class on the last day.
typedef struct {
    char name [DS_NAME_MAX];
    uint64_t senders, packets;
    ds_overview_pp_t *pps;          //  by key (port, proto)
    size_t n_pps;
    ds_overview_named_t *services;  //  unk_* and proxy as "others", by name
    size_t n_services;
} ds_overview_class_t;

//  `count` sources sent `x` packets over the window.
typedef struct {
    uint64_t x, count;
} ds_overview_hist_t;

//  The overview of a window, summed over every shard.
typedef struct {
    int32_t first_day, last_day, n_days;
    bool empty;                     //  the empty window: nothing seen, none asked
                                    //  (days null, n_days 0)
    int64_t min_packets;            //  as asked
    uint64_t min_kept;              //  packets a source needs to be kept (>= 0)
    const char *tz;
    uint64_t window_sources, last_sources;
    ds_overview_pp_t *window_pps;   //  by key (port, proto)
    size_t n_window_pps;
    ds_overview_pp_t *last_pps;     //  by key
    size_t n_last_pps;
    ds_overview_hist_t *hist;       //  by x
    size_t n_hist;
    ds_part_day_t *days;            //  n_days from first_day
    ds_overview_class_t *classes;   //  ranked: senders, packets, name
    size_t n_classes;
    uint64_t gaps;
    bool complete;                  //  every shard: every expected sensor's EOS, no gap
    uint64_t packets_read, non_ip, malformed, dropped;  //  every sensor's once
    uint64_t bad_time;              //  records skipped: impossible timestamps
} ds_overview_t;

//  True if name is a query answered from the overview.
bool ds_overview_is_query (const char *name);

//  Packs the result of query `name` (ds_overview_is_query) from o.
//  Returns 0, or -1 if name is not such a query (nothing packed).
int ds_overview_pack (const ds_overview_t *o, const char *name, msgpack_packer *pk);

//  Frees o's arrays; o can then be zeroed and reused.
void ds_overview_free (ds_overview_t *o);

//  Orders pps by packets (descending), then text (every top list's rank).
int ds_overview_pp_rank (const void *a, const void *b);

//  Orders pps by key: port, then proto.
int ds_overview_pp_key (const void *a, const void *b);

//  Writes pp's text, "<port>/<PROTO>" ("-/<PROTO>" without a port).
void ds_overview_pp_text (const ds_overview_pp_t *pp, char text [16]);

//  Sorts n pps by key (port, proto) and sums the rows of equal keys;
//  returns the count left.  Linear in n: rows go to per-port buckets.
size_t ds_overview_pp_combine (ds_overview_pp_t *v, size_t n);

//  Copies into top the (at most) k best of n pps by ds_overview_pp_rank,
//  best first; returns how many.  One pass, no sort of all rows.
size_t ds_overview_pp_top (const ds_overview_pp_t *v, size_t n, size_t k, ds_overview_pp_t *top);

//  Sorts n named counts by name and sums equal names; returns the count left.
size_t ds_overview_named_combine (ds_overview_named_t *v, size_t n);

#endif
