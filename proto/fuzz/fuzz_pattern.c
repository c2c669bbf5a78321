/*  libs: ds_proto ds_common */
/*  fuzz_pattern.c - libFuzzer target: pattern request and partial decoders
    (pattern_codec.h).  Every refusal carries a reason; what decodes must
    re-encode and decode to the same fields; a decoded raster's cells are
    inflated (bounded by its width x height) without reading out of bounds. */
#include "pattern_codec.h"
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
s_check_req (const uint8_t *data, size_t size)
{
    ds_pattern_req_t req, again;
    char err [256] = "";
    if (ds_pattern_req_decode (data, size, &req, err, sizeof err) != DS_OK) {
        if (err [0] == 0)
            abort ();
        return;
    }
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    if (ds_pattern_req_encode (&req, &buf) != DS_OK
    ||  ds_pattern_req_decode ((const uint8_t *) buf.data, buf.size, &again, err, sizeof err) != DS_OK
    ||  req.op != again.op || memcmp (&req.sel, &again.sel, sizeof req.sel) != 0
    ||  req.space != again.space || req.per != again.per || req.width != again.width
    ||  req.height != again.height || req.limit != again.limit || req.n_keys != again.n_keys
    ||  (req.n_keys && memcmp (req.keys, again.keys, (size_t) req.n_keys * DS_PATTERN_KEY_SIZE) != 0))
        abort ();
    msgpack_sbuffer_destroy (&buf);
}

static void
s_check_part (const uint8_t *data, size_t size)
{
    ds_pattern_part_t part, again;
    char err [256] = "";
    if (ds_pattern_part_decode (data, size, &part, err, sizeof err) != DS_OK) {
        if (err [0] == 0)
            abort ();
        return;
    }
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    if (ds_pattern_part_encode (&part, &buf) != DS_OK
    ||  ds_pattern_part_decode ((const uint8_t *) buf.data, buf.size, &again, err, sizeof err) != DS_OK
    ||  part.op != again.op || part.generation != again.generation || part.sources != again.sources
    ||  part.points != again.points || part.width != again.width || part.height != again.height
    ||  part.cell_bytes != again.cell_bytes || part.n_counts != again.n_counts
    ||  part.n_keys != again.n_keys || part.data_size != again.data_size
    ||  (part.n_counts && memcmp (part.counts, again.counts, (size_t) part.n_counts * 8) != 0)
    ||  (part.n_keys && memcmp (part.keys, again.keys, (size_t) part.n_keys * DS_PATTERN_KEY_SIZE) != 0)
    ||  (part.data_size && memcmp (part.data, again.data, part.data_size) != 0))
        abort ();
    msgpack_sbuffer_destroy (&buf);
    size_t cells = (size_t) part.width * part.height;
    if (part.op == DS_PATTERN_RASTER && cells <= 65536) {
        uint64_t *acc = calloc (cells ? cells : 1, 8);
        if (acc)
            ds_pattern_cells_add (part.data, part.data_size, cells, part.cell_bytes, acc, 8);
        free (acc);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    s_check_req (data, size);
    s_check_part (data, size);
    return 0;
}
