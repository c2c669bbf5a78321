/*  status_print.h - `darkscope query status` as text (--json prints the
    reply as it is).

    The query service's status: its verdict (state, reasons, the sensors to
    replay), its counters, then a table of shards (records, sources, days,
    memory, end of stream, checkpoints) and one of their sensors' streams
    (batches, gaps, ingest counters, last batch, lag).  Any other service's
    status (a shard, the labeler, the embed service answer `status` too):
    one "key: value" line per member, nested members named by their path.
*/
#ifndef DS_STATUS_PRINT_H
#define DS_STATUS_PRINT_H

#include <stdio.h>
#include <msgpack.h>

//  Prints a status result as text.  Returns 0, or -1 if it is not a map.
int ds_status_print (FILE *out, const msgpack_object *result);

#endif
