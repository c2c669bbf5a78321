/*  pattern_reply.h - reading the `pattern` query's result (PROTOCOL.md).

    The result is a map: the selection's totals, the x axis, a raster of
    exact counts (zlib-deflated little-endian cells) and a page of sample
    points with their sources.  Clients (the CLI, the report, tests) read
    it with ds_pattern_reply_read, which checks every field against the
    others (raster size, tokens below `sources`, sample sources for every
    sample token) and inflates the raster, so a reply that does not fit
    together is refused with a reason instead of being drawn wrong.
*/
#ifndef DS_PATTERN_REPLY_H
#define DS_PATTERN_REPLY_H

#include <stdbool.h>
#include <stdint.h>
#include <msgpack.h>
#include "ds_proto.h"

typedef struct {
    int64_t bin_s;
    char class_name [DS_NAME_MAX];
    int64_t from_us, to_us;         //  the range [from_us, to_us) covered
    int64_t x0_us;                  //  start of the first bin
    uint64_t bins;                  //  bins on the x axis
    uint64_t sources, points;       //  totals of the selection
    uint32_t width, height;         //  raster cells: width x height
    uint64_t *cells;                //  row-major, height rows of width
    uint64_t offset;                //  the sample page's first point
    int64_t limit;
    bool has_next;
    uint64_t next_offset;           //  the next page's offset (if has_next)
    uint32_t n_sample;
    int64_t *sample_bin;            //  bin start of each sample point (us)
    uint64_t *sample_token;         //  its source's token
    uint32_t n_sample_sources;
    uint64_t *source_token;         //  sampled sources, by token
    char (*source_ip) [48];         //  their addresses as text
    bool exact;                     //  false: shards changed during the query
} ds_pattern_reply_t;

//  Reads a pattern result object into *r (caller frees with
//  ds_pattern_reply_free, also after a failure).  Returns 0, or -1 with
//  a reason in err.
int ds_pattern_reply_read (const msgpack_object *result, ds_pattern_reply_t *r,
                           char *err, size_t err_size);

//  Frees what ds_pattern_reply_read allocated; r may be read into again.
void ds_pattern_reply_free (ds_pattern_reply_t *r);

//  The IP of a sampled source's token, or NULL if it is not in the page.
const char *ds_pattern_reply_ip (const ds_pattern_reply_t *r, uint64_t token);

//  Column of a bin start and row of a token in r's raster (their formulas
//  in PROTOCOL.md); -1 when outside.
int64_t ds_pattern_reply_col (const ds_pattern_reply_t *r, int64_t bin_start_us);
int64_t ds_pattern_reply_row (const ds_pattern_reply_t *r, uint64_t token);

#endif
