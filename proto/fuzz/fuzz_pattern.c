/*  libs: ds_proto ds_common */
/*  fuzz_pattern.c - libFuzzer target: pattern request and partial decoders
    (pattern_codec.h) and the client's reader of a pattern result
    (pattern_reply.h).  Every refusal carries a reason; what decodes must
    re-encode and decode to the same fields; a decoded raster's cells are
    inflated (bounded by its width x height) without reading out of bounds;
    a result that reads has tokens below its sources and a raster that adds
    up to its points. */
#include "pattern_codec.h"
#include "pattern_reply.h"
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

static void
s_check_reply (const uint8_t *data, size_t size)
{
    msgpack_zone zone;
    msgpack_zone_init (&zone, 4096);
    msgpack_object obj;
    if (ds_mp_unpack (data, size, &zone, &obj) == DS_OK) {
        ds_pattern_reply_t r;
        char err [256] = "";
        if (ds_pattern_reply_read (&obj, &r, err, sizeof err) == 0) {
            uint64_t total = 0;
            for (size_t i = 0; i < (size_t) r.width * r.height; i++)
                total += r.cells [i];
            if ((r.width * r.height && r.exact && total != r.points) || r.n_sample > DS_PATTERN_LIMIT_MAX)
                abort ();
            for (uint32_t i = 0; i < r.n_sample; i++)
                if (r.sample_token [i] >= r.sources || !ds_pattern_reply_ip (&r, r.sample_token [i]))
                    abort ();
        }
        else
        if (err [0] == 0)
            abort ();
        ds_pattern_reply_free (&r);
    }
    msgpack_zone_destroy (&zone);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    s_check_req (data, size);
    s_check_part (data, size);
    s_check_reply (data, size);
    return 0;
}
