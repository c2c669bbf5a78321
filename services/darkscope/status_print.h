/*  status_print.h - `darkscope query status` as text or CSV (--json
    prints the reply as it is).

    The query service's status: its verdict (state, reasons, the sensors to
    replay), its counters, then a table of shards (records, sources, days,
    memory, end of stream, checkpoints) and one of their sensors' streams
    (batches, gaps, ingest counters, last batch, lag).  Any other service's
    status (a shard, the labeler, the embed service answer `status` too):
    one "key: value" line per member, nested members named by their path.
*/
#ifndef DS_STATUS_PRINT_H
#define DS_STATUS_PRINT_H

#include <stdbool.h>
#include <stdio.h>
#include <msgpack.h>

//  Prints a status result as text.  Returns 0, or -1 if it is not a map.
int ds_status_print (FILE *out, const msgpack_object *result);

//  Prints a status result as CSV: the query service's one row per shard
//  under a header line (shard, endpoint, ok, error, records, sources,
//  first_day, last_day, memory_bytes, eos_all, sensors, gaps,
//  checkpoints_written, checkpoints_failed, last_checkpoint,
//  checkpoint_error, rejected, refused_connections; empty where a shard did
//  not answer), another service's "key,value" one row per member.
//  Returns 0, or -1 if it is not a map.
int ds_status_print_csv (FILE *out, const msgpack_object *result);

//  Prints any map result member by member, nested members named by their
//  path ("dataset.window.top_pp.0.pp"): as text one "path: value" line
//  each (numbers grouped, 2 decimals), as CSV "key,value" rows under that
//  header (full precision); the top-level members named in skip
//  (NULL-terminated, or NULL) left out.  Returns 0, or -1 if not a map.
int ds_status_print_members (FILE *out, const msgpack_object *result, bool csv, const char *const *skip);

#endif
