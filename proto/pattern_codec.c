/*  pattern_codec.c - activity-pattern requests and partials; see
    pattern_codec.h and PROTOCOL.md ("Activity patterns").

    Both messages are fixed-length DSK arrays whose fields mean the same for
    every op (unused ones are 0 or empty), so one encoder and one bounded
    decoder serve each; the decoder then checks what each op requires.
    Lists of keys and counts are msgpack bins of fixed-width little-endian
    values, checked to be exactly count x width.
*/
#include "pattern_codec.h"
#include "mix.h"
#include "message.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#define S_REQ_FIELDS    16
#define S_PART_FIELDS   13

const ds_pattern_key_t ds_pattern_key_min = {
    INT64_MIN, { 0 }, INT64_MIN
};
const ds_pattern_key_t ds_pattern_key_max = {
    INT64_MAX, { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, INT64_MAX
};

static inline uint64_t
s_le64 (const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p [i];
    return v;
}

static inline void
s_put_le64 (uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++, v >>= 8)
        p [i] = (uint8_t) v;
}

int
ds_pattern_key_cmp (const ds_pattern_key_t *a, const ds_pattern_key_t *b)
{
    if (a->major != b->major)
        return a->major < b->major ? -1 : 1;
    int c = memcmp (a->addr, b->addr, 16);
    if (c)
        return c < 0 ? -1 : 1;
    if (a->minor != b->minor)
        return a->minor < b->minor ? -1 : 1;
    return 0;
}

void
ds_pattern_key_get (const uint8_t *wire, ds_pattern_key_t *key)
{
    key->major = (int64_t) s_le64 (wire);
    memcpy (key->addr, wire + 8, 16);
    key->minor = (int64_t) s_le64 (wire + 24);
}

void
ds_pattern_key_put (uint8_t *wire, const ds_pattern_key_t *key)
{
    s_put_le64 (wire, (uint64_t) key->major);
    memcpy (wire + 8, key->addr, 16);
    s_put_le64 (wire + 24, (uint64_t) key->minor);
}

//  fmix64 (MurmurHash3's finaliser) over the two little-endian halves.
int64_t
ds_pattern_addr_hash (const uint8_t addr [16])
{
    uint64_t h = ds_mix64 (s_le64 (addr) ^ 0x9e3779b97f4a7c15ULL);
    h = ds_mix64 (h ^ s_le64 (addr + 8));
    return (int64_t) (h >> 1);
}

uint64_t
ds_pattern_count (const ds_pattern_part_t *part, uint32_t i)
{
    return s_le64 (part->counts + (size_t) i * 8);
}

uint32_t
ds_pattern_select_keys (uint64_t inside, uint32_t per)
{
    return inside < per ? (uint32_t) inside : per;
}

uint64_t
ds_pattern_select_pos (uint64_t inside, uint32_t per, uint32_t m)
{
    if (inside <= per)
        return m;
    //  (m + 1) * inside / (per + 1) without overflow: inside < 2^64, m < per
    unsigned __int128 p = (unsigned __int128) (m + 1) * inside / (per + 1);
    return (uint64_t) p;
}

static int
s_fail (char *err, size_t err_size, int rc, const char *fmt, ...)
{
    if (err && err_size) {
        va_list args;
        va_start (args, fmt);
        vsnprintf (err, err_size, fmt, args);
        va_end (args);
    }
    return rc;
}

//  A failed read at the cursor: DS_ERR_TRUNCATED when the bytes end inside
//  the message (a proper prefix of one), else rc.
static int
s_cut (const ds_mpread_t *rd, int rc)
{
    return rc == DS_ERR_MALFORMED && ds_mpread_truncated (rd) ? DS_ERR_TRUNCATED : rc;
}

//  Checks what each op requires of a request; 0 or a reason in err.
static int
s_req_check (const ds_pattern_req_t *r, char *err, size_t err_size)
{
    const ds_pattern_sel_t *s = &r->sel;
    if (s->first_day > s->last_day)
        return s_fail (err, err_size, DS_ERR_MALFORMED, "first_day after last_day");
    if (s->bin_s < 1 || s->bin_s > DS_PATTERN_BIN_S_MAX)
        return s_fail (err, err_size, DS_ERR_MALFORMED, "bin_s outside 1..%lld", DS_PATTERN_BIN_S_MAX);
    if (r->space > DS_PATTERN_SPACE_POINTS)
        return s_fail (err, err_size, DS_ERR_MALFORMED, "unknown key space %u", r->space);
    if (r->width > DS_PATTERN_SIDE_MAX || r->height > DS_PATTERN_SIDE_MAX)
        return s_fail (err, err_size, DS_ERR_TOO_BIG, "raster above %u cells a side", DS_PATTERN_SIDE_MAX);
    if (r->limit > DS_PATTERN_LIMIT_MAX)
        return s_fail (err, err_size, DS_ERR_TOO_BIG, "limit above %u", DS_PATTERN_LIMIT_MAX);
    switch (r->op) {
        case DS_PATTERN_SUMMARY:
            if (r->n_keys)
                return s_fail (err, err_size, DS_ERR_MALFORMED, "summary carries no keys");
            return DS_OK;
        case DS_PATTERN_SELECT:
            if (r->n_keys == 0 || r->n_keys % 2)
                return s_fail (err, err_size, DS_ERR_MALFORMED, "select needs brackets (pairs of keys)");
            if (r->n_keys / 2 > DS_PATTERN_BRACKETS_MAX)
                return s_fail (err, err_size, DS_ERR_TOO_BIG, "select of more than %u brackets",
                               DS_PATTERN_BRACKETS_MAX);
            if (r->per < 1 || (uint64_t) r->per * (r->n_keys / 2) > DS_PATTERN_SELECT_KEYS_MAX)
                return s_fail (err, err_size, DS_ERR_TOO_BIG, "select asks %u keys per bracket: "
                               "1..%u keys in all", r->per, DS_PATTERN_SELECT_KEYS_MAX);
            return DS_OK;
        case DS_PATTERN_RANK:
            if (r->n_keys > DS_PATTERN_RANK_MAX)
                return s_fail (err, err_size, DS_ERR_TOO_BIG, "rank of more than %u keys", DS_PATTERN_RANK_MAX);
            return DS_OK;
        case DS_PATTERN_RASTER:
            if (r->width < 1 || r->height < 1 || r->n_keys != r->height - 1)
                return s_fail (err, err_size, DS_ERR_MALFORMED, "raster needs width, height >= 1 "
                               "and height - 1 boundary keys");
            return DS_OK;
        case DS_PATTERN_SAMPLE:
            if (r->n_keys != 2 || r->limit < 1 || r->space != DS_PATTERN_SPACE_POINTS)
                return s_fail (err, err_size, DS_ERR_MALFORMED, "sample needs a point-key bracket "
                               "and a limit >= 1");
            return DS_OK;
        default:
            return s_fail (err, err_size, DS_ERR_MALFORMED, "unknown pattern op %d", r->op);
    }
}

//  Byte layout of a pattern request (DS_MSG_PATTERN_REQ = 5): one msgpack
//  array of 16, integers in msgpack's smallest encoding:
//
//    [0]  str  "DSK"          magic
//    [1]  uint 1              protocol version
//    [2]  uint 5              type
//    [3]  uint op             1 summary, 2 select, 3 rank, 4 raster, 5 sample
//    [4]  int  first_day      day number (days since 1970-01-01, local)
//    [5]  int  last_day       >= first_day
//    [6]  int  from_us        range start, us (INT64_MIN: open)
//    [7]  int  to_us          range end, exclusive (INT64_MAX: open)
//    [8]  uint bin_s          1..366 days in seconds
//    [9]  str  class          <= 63 bytes, "" = every class
//    [10] uint space          select: 0 sources, 1 points
//    [11] uint per            select: keys wanted per bracket
//    [12] uint width          raster: 1..4096
//    [13] uint height         raster: 1..4096
//    [14] uint limit          sample: 1..200000 points
//    [15] bin  keys           n x 32 bytes (key: major int64 LE, 16 address
//                             bytes, minor int64 LE): select: lo, hi per
//                             bracket (<= 4096); rank: keys (<= 16384);
//                             raster: height - 1 row boundaries; sample: lo, hi
//
//  `out` is emptied first.
int
ds_pattern_req_encode (const ds_pattern_req_t *req, msgpack_sbuffer *out)
{
    if (s_req_check (req, NULL, 0) != DS_OK
    ||  strnlen (req->sel.class_name, sizeof req->sel.class_name) >= sizeof req->sel.class_name)
        return DS_ERR_MALFORMED;
    size_t bytes = (size_t) req->n_keys * DS_PATTERN_KEY_SIZE;
    msgpack_packer pk;
    ds_msg_writer_t writer;
    ds_msg_packer_init (&pk, &writer, out, 128 + bytes);
    ds_msg_pack_header (&pk, S_REQ_FIELDS, DS_MSG_PATTERN_REQ);
    msgpack_pack_uint32 (&pk, (uint32_t) req->op);
    msgpack_pack_int32 (&pk, req->sel.first_day);
    msgpack_pack_int32 (&pk, req->sel.last_day);
    msgpack_pack_int64 (&pk, req->sel.from_us);
    msgpack_pack_int64 (&pk, req->sel.to_us);
    msgpack_pack_int64 (&pk, req->sel.bin_s);
    msgpack_pack_str_with_body (&pk, req->sel.class_name, strlen (req->sel.class_name));
    msgpack_pack_uint32 (&pk, req->space);
    msgpack_pack_uint32 (&pk, req->per);
    msgpack_pack_uint32 (&pk, req->width);
    msgpack_pack_uint32 (&pk, req->height);
    msgpack_pack_uint32 (&pk, req->limit);
    msgpack_pack_bin_with_body (&pk, bytes ? (const void *) req->keys : "", bytes);
    return writer.failed ? DS_ERR_NOMEM : DS_OK;
}

//  Reads a uint field that must fit in max.
static int
s_read_u32 (ds_mpread_t *rd, uint32_t max, uint32_t *value)
{
    uint64_t v;
    if (ds_mpread_uint (rd, &v) || v > max)
        return DS_ERR_MALFORMED;
    *value = (uint32_t) v;
    return DS_OK;
}

//  Reads a bin of exactly n items of width bytes, n <= max (the count is
//  the bin's size / width).
static int
s_read_list (ds_mpread_t *rd, size_t width, uint32_t max, const uint8_t **ptr, uint32_t *n)
{
    ds_mpread_t at = *rd;           //  the cursor moves only on success
    uint32_t len;
    if (ds_mpread_bin (&at, ptr, &len) || len % width)
        return DS_ERR_MALFORMED;
    if (len / width > max)
        return DS_ERR_TOO_BIG;
    *n = (uint32_t) (len / width);
    *rd = at;
    return DS_OK;
}

int
ds_pattern_req_decode (const uint8_t *data, size_t size, ds_pattern_req_t *req,
                       char *err, size_t err_size)
{
    ds_mpread_t rd;
    ds_mpread_init (&rd, data, size);
    uint32_t fields;
    int type;
    int rc = s_cut (&rd, ds_msg_header (&rd, &fields, &type));
    if (rc)
        return s_fail (err, err_size, rc, "pattern request: %s", ds_result_str (rc));
    if (type != DS_MSG_PATTERN_REQ)
        return s_fail (err, err_size, DS_ERR_TYPE, "not a pattern request (type %d)", type);
    if (fields != S_REQ_FIELDS)
        return s_fail (err, err_size, DS_ERR_MALFORMED, "pattern request of %u fields, not %d",
                       fields, S_REQ_FIELDS);
    memset (req, 0, sizeof *req);
    uint32_t op;
    int64_t first, last;
    const char *cls;
    uint32_t cls_len;
    if (s_read_u32 (&rd, 255, &op)
    ||  ds_mpread_int (&rd, &first) || first < INT32_MIN || first > INT32_MAX
    ||  ds_mpread_int (&rd, &last) || last < INT32_MIN || last > INT32_MAX
    ||  ds_mpread_int (&rd, &req->sel.from_us)
    ||  ds_mpread_int (&rd, &req->sel.to_us)
    ||  ds_mpread_int (&rd, &req->sel.bin_s)
    ||  ds_mpread_str (&rd, &cls, &cls_len)
    ||  cls_len >= sizeof req->sel.class_name || memchr (cls, 0, cls_len)
    ||  s_read_u32 (&rd, DS_PATTERN_SPACE_POINTS, &req->space)
    ||  s_read_u32 (&rd, DS_PATTERN_SELECT_KEYS_MAX, &req->per)
    ||  s_read_u32 (&rd, DS_PATTERN_SIDE_MAX, &req->width)
    ||  s_read_u32 (&rd, DS_PATTERN_SIDE_MAX, &req->height)
    ||  s_read_u32 (&rd, DS_PATTERN_LIMIT_MAX, &req->limit)) {
        rc = s_cut (&rd, DS_ERR_MALFORMED);
        return s_fail (err, err_size, rc, "pattern request: %s", rc == DS_ERR_TRUNCATED
                       ? "the bytes end inside it" : "a field is malformed or out of range");
    }
    rc = s_cut (&rd, s_read_list (&rd, DS_PATTERN_KEY_SIZE, 2 * DS_PATTERN_BRACKETS_MAX > DS_PATTERN_RANK_MAX
                                  ? 2 * DS_PATTERN_BRACKETS_MAX : DS_PATTERN_RANK_MAX, &req->keys, &req->n_keys));
    if (rc)
        return s_fail (err, err_size, rc, "pattern request: keys are %s", rc == DS_ERR_TRUNCATED
                       ? "cut short" : "not a bin of 32-byte keys within the ceiling");
    if (ds_mpread_left (&rd))
        return s_fail (err, err_size, DS_ERR_MALFORMED, "pattern request: trailing bytes");
    req->op = (int) op;
    req->sel.first_day = (int32_t) first;
    req->sel.last_day = (int32_t) last;
    memcpy (req->sel.class_name, cls, cls_len);
    req->sel.class_name [cls_len] = 0;
    char why [160];
    rc = s_req_check (req, why, sizeof why);
    if (rc)
        return s_fail (err, err_size, rc, "pattern request: %s", why);
    return DS_OK;
}

//  Byte layout of a pattern partial (DS_MSG_PATTERN_PART = 6): one msgpack
//  array of 13:
//
//    [0]  str  "DSK"          magic
//    [1]  uint 1              protocol version
//    [2]  uint 6              type
//    [3]  uint op             the request's op
//    [4]  uint generation     the shard store's generation (changes with it)
//    [5]  uint sources        the shard's sources in the selection
//    [6]  uint points         the shard's (source, bin) points in it
//    [7]  uint width          raster: cells a row; else 0
//    [8]  uint height         raster: rows; else 0
//    [9]  uint cell_bytes     raster: 4 or 8; else 0
//    [10] bin  counts         n x uint64 LE: summary: the range [lo, hi)
//                             in us (int64) the shard computed; select:
//                             below, inside per bracket; rank: keys below
//                             each key; sample: points of each sampled
//                             source; else empty
//    [11] bin  keys           n x 32 bytes: select: min(inside, per) spaced
//                             keys per bracket, brackets in order; sample:
//                             each sampled source's key (sources space, the
//                             sources in point-key order); else empty
//    [12] bin  data           raster: zlib stream of width x height cells
//                             (uint32 or uint64 LE, row-major, row 0 = the
//                             first tokens); sample: each point's bin start
//                             (int64 LE), by source as in keys; else empty
//
//  `out` is emptied first.
int
ds_pattern_part_encode (const ds_pattern_part_t *part, msgpack_sbuffer *out)
{
    size_t counts = (size_t) part->n_counts * 8, keys = (size_t) part->n_keys * DS_PATTERN_KEY_SIZE;
    msgpack_packer pk;
    ds_msg_writer_t writer;
    ds_msg_packer_init (&pk, &writer, out, 128 + counts + keys + part->data_size);
    ds_msg_pack_header (&pk, S_PART_FIELDS, DS_MSG_PATTERN_PART);
    msgpack_pack_uint32 (&pk, (uint32_t) part->op);
    msgpack_pack_uint64 (&pk, part->generation);
    msgpack_pack_uint64 (&pk, part->sources);
    msgpack_pack_uint64 (&pk, part->points);
    msgpack_pack_uint32 (&pk, part->width);
    msgpack_pack_uint32 (&pk, part->height);
    msgpack_pack_uint32 (&pk, part->cell_bytes);
    msgpack_pack_bin_with_body (&pk, counts ? part->counts : (const uint8_t *) "", counts);
    msgpack_pack_bin_with_body (&pk, keys ? part->keys : (const uint8_t *) "", keys);
    msgpack_pack_bin_with_body (&pk, part->data_size ? part->data : (const uint8_t *) "", part->data_size);
    return writer.failed ? DS_ERR_NOMEM : DS_OK;
}

//  Checks what each op requires of a partial.
static int
s_part_check (const ds_pattern_part_t *p, char *err, size_t err_size)
{
    bool raster = p->op == DS_PATTERN_RASTER;
    if (raster != (p->width > 0) || raster != (p->height > 0) || raster != (p->cell_bytes > 0)
    ||  (raster && p->cell_bytes != 4 && p->cell_bytes != 8))
        return s_fail (err, err_size, DS_ERR_MALFORMED, "raster size fields do not fit op %d", p->op);
    switch (p->op) {
        case DS_PATTERN_SUMMARY:
            if (p->n_counts != 2 || p->n_keys || p->data_size)
                return s_fail (err, err_size, DS_ERR_MALFORMED, "summary carries the range only");
            return DS_OK;
        case DS_PATTERN_RASTER:
            if (p->n_counts || p->n_keys)
                return s_fail (err, err_size, DS_ERR_MALFORMED, "raster carries cells only");
            return DS_OK;
        case DS_PATTERN_SELECT:
            if (p->n_counts % 2 || p->n_counts / 2 > DS_PATTERN_BRACKETS_MAX || p->data_size)
                return s_fail (err, err_size, DS_ERR_MALFORMED, "select counts are not pairs per bracket");
            return DS_OK;
        case DS_PATTERN_RANK:
            if (p->n_counts > DS_PATTERN_RANK_MAX || p->n_keys || p->data_size)
                return s_fail (err, err_size, DS_ERR_MALFORMED, "rank carries only counts");
            return DS_OK;
        case DS_PATTERN_SAMPLE: {
            if (p->n_counts != p->n_keys || p->data_size % 8)
                return s_fail (err, err_size, DS_ERR_MALFORMED, "sample lists do not match");
            uint64_t total = 0;
            for (uint32_t i = 0; i < p->n_counts; i++) {
                uint64_t c = ds_pattern_count (p, i);
                if (c == 0 || c > DS_PATTERN_LIMIT_MAX)
                    return s_fail (err, err_size, DS_ERR_MALFORMED, "sample source with %llu points",
                                   (unsigned long long) c);
                total += c;
            }
            if (total != p->data_size / 8 || total > DS_PATTERN_LIMIT_MAX)
                return s_fail (err, err_size, DS_ERR_MALFORMED, "sample points do not add up");
            return DS_OK;
        }
        default:
            return s_fail (err, err_size, DS_ERR_MALFORMED, "unknown pattern op %d", p->op);
    }
}

int
ds_pattern_part_decode (const uint8_t *data, size_t size, ds_pattern_part_t *part,
                        char *err, size_t err_size)
{
    ds_mpread_t rd;
    ds_mpread_init (&rd, data, size);
    uint32_t fields;
    int type;
    int rc = s_cut (&rd, ds_msg_header (&rd, &fields, &type));
    if (rc)
        return s_fail (err, err_size, rc, "pattern partial: %s", ds_result_str (rc));
    if (type != DS_MSG_PATTERN_PART)
        return s_fail (err, err_size, DS_ERR_TYPE, "not a pattern partial (type %d)", type);
    if (fields != S_PART_FIELDS)
        return s_fail (err, err_size, DS_ERR_MALFORMED, "pattern partial of %u fields, not %d",
                       fields, S_PART_FIELDS);
    memset (part, 0, sizeof *part);
    uint32_t op;
    if (s_read_u32 (&rd, 255, &op)
    ||  ds_mpread_uint (&rd, &part->generation)
    ||  ds_mpread_uint (&rd, &part->sources)
    ||  ds_mpread_uint (&rd, &part->points)
    ||  s_read_u32 (&rd, DS_PATTERN_SIDE_MAX, &part->width)
    ||  s_read_u32 (&rd, DS_PATTERN_SIDE_MAX, &part->height)
    ||  s_read_u32 (&rd, 8, &part->cell_bytes)) {
        rc = s_cut (&rd, DS_ERR_MALFORMED);
        return s_fail (err, err_size, rc, "pattern partial: %s", rc == DS_ERR_TRUNCATED
                       ? "the bytes end inside it" : "a field is malformed or out of range");
    }
    uint32_t counts_max = 2 * DS_PATTERN_BRACKETS_MAX;
    if (counts_max < DS_PATTERN_RANK_MAX)
        counts_max = DS_PATTERN_RANK_MAX;
    if (counts_max < DS_PATTERN_LIMIT_MAX)
        counts_max = DS_PATTERN_LIMIT_MAX;
    uint32_t keys_max = DS_PATTERN_SELECT_KEYS_MAX > DS_PATTERN_LIMIT_MAX
                      ? DS_PATTERN_SELECT_KEYS_MAX : DS_PATTERN_LIMIT_MAX;
    uint32_t data_len;
    if ((rc = s_read_list (&rd, 8, counts_max, &part->counts, &part->n_counts))
    ||  (rc = s_read_list (&rd, DS_PATTERN_KEY_SIZE, keys_max, &part->keys, &part->n_keys))
    ||  (rc = ds_mpread_bin (&rd, &part->data, &data_len))) {
        rc = s_cut (&rd, rc);
        return s_fail (err, err_size, rc, "pattern partial: a list is %s", rc == DS_ERR_TRUNCATED
                       ? "cut short" : "malformed or above its ceiling");
    }
    if (ds_mpread_left (&rd))
        return s_fail (err, err_size, DS_ERR_MALFORMED, "pattern partial: trailing bytes");
    part->data_size = data_len;
    part->op = (int) op;
    char why [160];
    rc = s_part_check (part, why, sizeof why);
    if (rc)
        return s_fail (err, err_size, rc, "pattern partial: %s", why);
    return DS_OK;
}

//  ---------------------------------------------------------------------
//  Cells: zlib streams of little-endian uint32/uint64, in 64 KiB pieces

#define S_CHUNK 65536

int
ds_pattern_cells_deflate (const void *cells, size_t n, uint32_t cell_bytes, int level,
                          msgpack_sbuffer *out)
{
    z_stream z;
    memset (&z, 0, sizeof z);
    if (deflateInit (&z, level) != Z_OK)
        return -1;
    uint8_t in [S_CHUNK], buf [S_CHUNK];
    size_t per = S_CHUNK / cell_bytes, done = 0;
    int rc = 0, flush;
    do {
        size_t k = n - done < per ? n - done : per;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        memcpy (in, (const uint8_t *) cells + done * cell_bytes, k * cell_bytes);
#else
        for (size_t i = 0; i < k; i++) {
            uint64_t v = cell_bytes == 4 ? ((const uint32_t *) cells) [done + i]
                                         : ((const uint64_t *) cells) [done + i];
            for (uint32_t b = 0; b < cell_bytes; b++, v >>= 8)
                in [i * cell_bytes + b] = (uint8_t) v;
        }
#endif
        done += k;
        flush = done == n ? Z_FINISH : Z_NO_FLUSH;
        z.next_in = in;
        z.avail_in = (uInt) (k * cell_bytes);
        do {
            z.next_out = buf;
            z.avail_out = sizeof buf;
            deflate (&z, flush);
            if (msgpack_sbuffer_write (out, (const char *) buf, sizeof buf - z.avail_out))
                rc = -1;
        } while (z.avail_out == 0 && rc == 0);
    } while (flush != Z_FINISH && rc == 0);
    deflateEnd (&z);
    return rc;
}

int
ds_pattern_cells_add (const uint8_t *zdata, size_t z_size, size_t n, uint32_t cell_bytes,
                      void *acc, uint32_t acc_bytes)
{
    if ((cell_bytes != 4 && cell_bytes != 8) || (acc_bytes != 4 && acc_bytes != 8))
        return DS_ERR_MALFORMED;
    z_stream z;
    memset (&z, 0, sizeof z);
    if (inflateInit (&z) != Z_OK)
        return DS_ERR_NOMEM;
    z.next_in = (Bytef *) zdata;
    z.avail_in = (uInt) z_size;
    if (z_size > UINT32_MAX) {
        inflateEnd (&z);
        return DS_ERR_TOO_BIG;
    }
    uint8_t buf [S_CHUNK];
    size_t have = 0, cell = 0;      //  bytes in buf; next cell to add
    int rc = DS_OK, zr = Z_OK;
    while (rc == DS_OK && zr != Z_STREAM_END) {
        z.next_out = buf + have;
        z.avail_out = (uInt) (sizeof buf - have);
        zr = inflate (&z, Z_NO_FLUSH);
        if (zr != Z_OK && zr != Z_STREAM_END) {
            rc = DS_ERR_MALFORMED;          //  bad data, or input ended early
            break;
        }
        have = sizeof buf - z.avail_out;
        size_t whole = have / cell_bytes;
        if (whole > n - cell) {
            rc = DS_ERR_MALFORMED;          //  more cells than announced
            break;
        }
        for (size_t i = 0; i < whole; i++, cell++) {
            uint64_t v;
            if (cell_bytes == 4) {
                uint32_t v32 = (uint32_t) buf [i * 4] | (uint32_t) buf [i * 4 + 1] << 8
                             | (uint32_t) buf [i * 4 + 2] << 16 | (uint32_t) buf [i * 4 + 3] << 24;
                if (v32 == 0)
                    continue;               //  most cells of a raster are empty
                v = v32;
            }
            else
                v = s_le64 (buf + i * 8);
            if (acc_bytes == 8)
                ((uint64_t *) acc) [cell] += v;
            else {
                uint64_t s = (uint64_t) ((uint32_t *) acc) [cell] + v;
                if (s > UINT32_MAX) {
                    rc = DS_ERR_TOO_BIG;
                    break;
                }
                ((uint32_t *) acc) [cell] = (uint32_t) s;
            }
        }
        memmove (buf, buf + whole * cell_bytes, have - whole * cell_bytes);
        have -= whole * cell_bytes;
        if (zr == Z_OK && z.avail_in == 0 && z.avail_out != 0) {
            rc = DS_ERR_MALFORMED;          //  the stream stops before its end
            break;
        }
    }
    if (rc == DS_OK && (cell != n || have != 0 || z.avail_in != 0))
        rc = DS_ERR_MALFORMED;
    inflateEnd (&z);
    return rc;
}
