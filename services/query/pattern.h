/*  pattern.h - the `pattern` query: activity patterns computed where the
    data are (DESIGN.md §10, PROTOCOL.md "pattern").

    The query service never sees every (source, bin) point.  It asks the
    shards in rounds of bounded pattern requests (pattern_codec.h), each
    the same for every shard:

      1. summary    sources S and points P of the selection, its time range
      2. select     the keys at global ranks ceil(r * S / h), r = 1..h-1,
                    where rows of the raster start (h = min(height, S)):
                    a distributed selection over the shards' sorted
                    first-activity keys, a few rounds of <= 4096 brackets
      3. raster     every shard counts its own points into width x h cells
                    with those row boundaries; the cells add up exactly
      4. sample     the point keys at ranks offset and offset + limit (the
                    same selection over (address hash, address, bin)), the
                    shards' points between them, and their sources' tokens
                    by a "rank of these keys" round

    The rounds run through a callback so the same code serves the query
    service's sockets and tests that call stores in-process.
*/
#ifndef DS_QPATTERN_H
#define DS_QPATTERN_H

#include <msgpack.h>
#include "ds_proto.h"

//  Sends request (a DSK pattern request) to every shard and points
//  results at their n result objects (each a bin holding a pattern
//  partial), valid until the next call.  Returns 0, or -1 with a reason
//  (naming the shard) in err.
typedef int (ds_qpattern_round_fn) (void *ctx, const msgpack_sbuffer *request,
                                    const msgpack_object **results, char *err, size_t err_size);

//  Checks q's pattern arguments before any round (bin_s, from_us, to_us
//  in whole minutes).  0, or -1 with a reason in err.
int ds_qpattern_check (const ds_query_t *q, char *err, size_t err_size);

//  Answers the pattern query q (first_day and last_day resolved) over n
//  shards through round(ctx, ...) and packs the result object into pk.
//  Returns 0, or -1 with a reason in err (nothing packed): a shard's
//  error, a malformed partial, a reply over the 16 MiB limit.
int ds_qpattern_answer (const ds_query_t *q, size_t n, ds_qpattern_round_fn *round, void *ctx,
                        msgpack_packer *pk, char *err, size_t err_size);

#endif
