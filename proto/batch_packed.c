/*  batch_packed.c - the packed layout of batches (PROTOCOL.md): narrow
    little-endian columns, about a third of the fixed layout's bytes, for
    every link but inproc; see batch_codec.c for the fixed layout and the
    decoder that reads both.
*/
#include "batch_internal.h"
#include <stdlib.h>
#include <string.h>

#define S_SLACK 8                   //  scratch bytes past a narrow column

//  Fewest bytes (1..8) holding max.
static int
s_width (uint64_t max)
{
    int w = 1;
    while (w < 8 && (max >> (8 * w)))
        w++;
    return w;
}

//  Stores value i of a column of width w at dst + i * w: on little-endian
//  hosts one 8-byte store (the next value overwrites the excess; dst has
//  S_SLACK bytes beyond the column), elsewhere byte by byte.
static inline void
s_narrow_store (uint8_t *dst, uint32_t i, int w, uint64_t v)
{
    if (S_LITTLE_ENDIAN)
        memcpy (dst + (size_t) i * (size_t) w, &v, 8);
    else
        for (int b = 0; b < w; b++)
            dst [(size_t) i * (size_t) w + (size_t) b] = (uint8_t) (v >> (8 * b));
}

//  Loads value i of a column of len bytes, width w; reads stay within len.
static inline uint64_t
s_narrow_load (const uint8_t *src, size_t len, uint32_t i, int w)
{
    size_t at = (size_t) i * (size_t) w;
    uint64_t v = 0;
    if (S_LITTLE_ENDIAN && at + 8 <= len) {
        memcpy (&v, src + at, 8);
        return w == 8 ? v : v & ((UINT64_C (1) << (8 * w)) - 1);
    }
    for (int b = w - 1; b >= 0; b--)
        v = (v << 8) | src [at + (size_t) b];
    return v;
}

//  Packs n narrow values of width w from scratch as one bin.
static void
s_pack_narrow (msgpack_packer *pk, const uint8_t *scratch, uint32_t n, int w)
{
    size_t len = (size_t) n * (size_t) w;
    msgpack_pack_bin (pk, len);
    if (len)
        msgpack_pack_bin_body (pk, scratch, len);
}

//  True for an IPv4-mapped address (::ffff:a.b.c.d): two loads, no call.
static inline bool
s_is_v4 (const uint8_t *a)
{
    static const uint8_t prefix [12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    uint64_t lo, want_lo;
    uint32_t hi, want_hi;
    memcpy (&lo, a, 8);
    memcpy (&hi, a + 8, 4);
    memcpy (&want_lo, prefix, 8);
    memcpy (&want_hi, prefix + 8, 4);
    return ((lo ^ want_lo) | (uint64_t) (hi ^ want_hi)) == 0;
}

//  Packs the class and service ids as one column: a byte per record
//  (class << 4 | service) when both are < 16, else both columns in the
//  width (1 or 2 bytes) that holds the larger id.
static void
s_pack_ids (msgpack_packer *pk, uint8_t *scratch, const ds_batch_t *batch)
{
    uint32_t n = batch->count;
    uint16_t max = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint16_t m = batch->class_id [i] > batch->service_id [i] ? batch->class_id [i] : batch->service_id [i];
        max = m > max ? m : max;
    }
    if (max < 16) {
        for (uint32_t i = 0; i < n; i++)
            scratch [i] = (uint8_t) (batch->class_id [i] << 4 | batch->service_id [i]);
        s_pack_narrow (pk, scratch, n, 1);
        return;
    }
    int w = max > 0xff ? 2 : 1;
    for (uint32_t i = 0; i < n; i++)
        s_narrow_store (scratch, i, w, batch->class_id [i]);
    for (uint32_t i = 0; i < n; i++)
        s_narrow_store (scratch + (size_t) n * (size_t) w, i, w, batch->service_id [i]);
    s_pack_narrow (pk, scratch, 2 * n, w);
}

//  Packs the protocols and flags: a byte per record (proto | flags << 4)
//  when every value is < 16, else the count protocols, then the count
//  flags.  scratch holds count bytes.
static void
s_pack_pf (msgpack_packer *pk, uint8_t *scratch, const ds_batch_t *batch)
{
    uint32_t count = batch->count;
    uint8_t high = 0;
    for (uint32_t i = 0; i < count; i++)
        high |= (batch->proto [i] | batch->flags [i]) & 0xf0;
    if (high == 0) {
        for (uint32_t i = 0; i < count; i++)
            scratch [i] = (uint8_t) (batch->proto [i] | batch->flags [i] << 4);
        s_pack_narrow (pk, scratch, count, 1);
    }
    else {
        msgpack_pack_bin (pk, (size_t) count * 2);
        msgpack_pack_bin_body (pk, batch->proto, count);
        msgpack_pack_bin_body (pk, batch->flags, count);
    }
}

//  The end of a packed encoding: frees the scratch, and the result.
static int
s_packed_end (uint8_t *scratch, const ds_msg_writer_t *writer, const msgpack_sbuffer *out)
{
    free (scratch);
    if (writer->failed)
        return DS_ERR_NOMEM;
    return out->size > DS_FRAME_MAX ? DS_ERR_TOO_BIG : DS_OK;
}

//  Zigzag: small magnitudes of either sign in few bytes.
static inline uint64_t
s_zigzag (uint64_t d)
{
    return d << 1 ^ (uint64_t) -(int64_t) (d >> 63);
}

static inline uint64_t
s_unzigzag (uint64_t z)
{
    return z >> 1 ^ (uint64_t) -(int64_t) (z & 1);
}

//  Byte layout of a packed batch (same types, DS_MSG_BATCH = 1,
//  DS_MSG_LABELLED = 2; an array of 13 elements, 16 when labelled; element
//  [7] is an integer, where the fixed layout has a bin).  A narrow column
//  of width W holds count values of W bytes each, little-endian; W is its
//  length divided by count (a column of a batch of 0 records is empty):
//
//    [0-6]  as the fixed layout: "DSK", 1, type, sensor, shard, seq, count
//    [7]  int  ts_first                int64, record 0's timestamp (0 if none)
//    [8]  bin  ts       narrow 1..8    zigzag (ts[i] - ts[i-1]), ts[-1] =
//                                      ts_first (microseconds, wrapping int64)
//    [9]  bin  v4       (count+7)/8    bit i%8 of byte i/8 set: record i's
//                                      source is IPv4-mapped; bits past count 0
//    [10] bin  src      4 bytes per IPv4 source (a.b.c.d), 16 per other,
//                                      in record order
//    [11] bin  port     narrow 1..4    port + 1 (0 for "-")
//    [12] bin  pf       count          proto | flags << 4 when every proto
//                                      and flags is < 16, else 2 * count:
//                                      count protos, then count flags
//  labelled only:
//    [13] bin  ids      count          class_id << 4 | service_id when every
//                                      id is < 16, else 2 * count * W (W 1..2):
//                                      count class ids, then count service ids
//    [14] array of str class_names     as the fixed layout
//    [15] array of str service_names
int
ds_batch_encode_packed (const ds_batch_t *batch, msgpack_sbuffer *out)
{
    uint32_t count = batch->count;
    if (count > DS_BATCH_MAX_CAPACITY)
        return DS_ERR_TOO_BIG;
    if (batch->labelled && (batch->n_classes > DS_DICT_MAX || batch->n_services > DS_DICT_MAX))
        return DS_ERR_TOO_BIG;
    size_t dict_bytes = 0;
    for (uint32_t i = 0; batch->labelled && i < batch->n_classes; i++)
        dict_bytes += strlen (batch->class_names [i]) + 2;
    for (uint32_t i = 0; batch->labelled && i < batch->n_services; i++)
        dict_bytes += strlen (batch->service_names [i]) + 2;
    uint8_t *scratch = malloc ((size_t) count * (S_SRC_W + 1) + S_SLACK);
    if (!scratch)
        return DS_ERR_NOMEM;
    msgpack_packer pk;
    ds_msg_writer_t writer;
    ds_msg_packer_init (&pk, &writer, out, 128 + (size_t) count * 14 + dict_bytes);
    ds_msg_pack_header (&pk, S_PACKED_FIELDS + (batch->labelled ? 3 : 0),
                        batch->labelled ? DS_MSG_LABELLED : DS_MSG_BATCH);
    msgpack_pack_uint32 (&pk, batch->sensor);
    msgpack_pack_uint32 (&pk, batch->shard);
    msgpack_pack_uint64 (&pk, batch->seq);
    msgpack_pack_uint32 (&pk, count);

    //  the deltas first into the ts scratch (8 bytes each), then narrowed in place
    uint64_t *delta = (uint64_t *) (void *) scratch, max = 0, prev = count ? (uint64_t) batch->ts [0] : 0;
    msgpack_pack_int64 (&pk, (int64_t) prev);
    for (uint32_t i = 0; i < count; i++) {
        delta [i] = s_zigzag ((uint64_t) batch->ts [i] - prev);
        prev = (uint64_t) batch->ts [i];
        max |= delta [i];
    }
    int w = s_width (max);
    for (uint32_t i = 0; i < count; i++)
        s_narrow_store (scratch, i, w, delta [i]);     //  i * w <= i * 8: never ahead of the reads
    s_pack_narrow (&pk, scratch, count, w);

    //  The mask and, after it in scratch, the sources: one pass, each
    //  source a copy of a constant size (inlined moves, not a call).
    size_t mask_len = ((size_t) count + 7) / 8, used = mask_len;
    memset (scratch, 0, mask_len);
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *a = batch->src [i].b;
        if (s_is_v4 (a)) {
            scratch [i / 8] |= (uint8_t) (1u << (i % 8));
            memcpy (scratch + used, a + 12, 4);
            used += 4;
        }
        else {
            memcpy (scratch + used, a, 16);
            used += 16;
        }
    }
    msgpack_pack_bin (&pk, mask_len);
    if (mask_len)
        msgpack_pack_bin_body (&pk, scratch, mask_len);
    msgpack_pack_bin (&pk, used - mask_len);
    if (used > mask_len)
        msgpack_pack_bin_body (&pk, scratch + mask_len, used - mask_len);

    max = 0;
    for (uint32_t i = 0; i < count; i++) {
        uint64_t v = (uint32_t) batch->port [i] + 1u;
        max = v > max ? v : max;
    }
    w = s_width (max);
    for (uint32_t i = 0; i < count; i++)
        s_narrow_store (scratch, i, w, (uint32_t) batch->port [i] + 1u);
    s_pack_narrow (&pk, scratch, count, w);

    s_pack_pf (&pk, scratch, batch);
    if (batch->labelled) {
        s_pack_ids (&pk, scratch, batch);
        batch_pack_names (&pk, batch);
    }
    return s_packed_end (scratch, &writer, out);
}

//  The fields of a packed unlabelled batch that labelling leaves alone:
//  sensor through port, as bytes of `in`; and its record count.  -1 if
//  `in` is not such a batch (any other layout, type or damage).
static int
s_packed_span (const uint8_t *in, size_t size, const uint8_t **from, const uint8_t **to,
               uint64_t *count)
{
    ds_mpread_t reader;
    ds_mpread_init (&reader, in, size);
    uint32_t fields, len;
    int type;
    uint64_t value;
    int64_t first;
    const uint8_t *bin;
    if (ds_msg_header (&reader, &fields, &type) || type != DS_MSG_BATCH || fields != S_PACKED_FIELDS)
        return -1;
    *from = reader.pos;
    if (ds_mpread_uint (&reader, &value) || ds_mpread_uint (&reader, &value)
    ||  ds_mpread_uint (&reader, &value) || ds_mpread_uint (&reader, count)
    ||  ds_mpread_int (&reader, &first))
        return -1;
    for (int column = 0; column < 4; column++)     //  ts, v4, src, port
        if (ds_mpread_bin (&reader, &bin, &len))
            return -1;
    *to = reader.pos;
    return 0;
}

int
ds_batch_encode_relabel (const uint8_t *in, size_t size, const ds_batch_t *labelled,
                         msgpack_sbuffer *out)
{
    const uint8_t *from, *to;
    uint64_t count;
    if (!labelled->labelled || s_packed_span (in, size, &from, &to, &count) != 0
    ||  count != labelled->count)
        return ds_batch_encode_packed (labelled, out);
    uint32_t n = labelled->count;
    if (labelled->n_classes > DS_DICT_MAX || labelled->n_services > DS_DICT_MAX)
        return DS_ERR_TOO_BIG;
    size_t dict_bytes = 0;
    for (uint32_t i = 0; i < labelled->n_classes; i++)
        dict_bytes += strlen (labelled->class_names [i]) + 2;
    for (uint32_t i = 0; i < labelled->n_services; i++)
        dict_bytes += strlen (labelled->service_names [i]) + 2;
    uint8_t *scratch = malloc ((size_t) n * 4 + S_SLACK);
    if (!scratch)
        return DS_ERR_NOMEM;
    msgpack_packer pk;
    ds_msg_writer_t writer;
    ds_msg_packer_init (&pk, &writer, out, 64 + (size_t) (to - from) + (size_t) n * 6 + dict_bytes);
    ds_msg_pack_header (&pk, S_PACKED_FIELDS + 3, DS_MSG_LABELLED);
    pk.callback (pk.data, (const char *) from, (size_t) (to - from));     //  raw bytes, as they came
    s_pack_pf (&pk, scratch, labelled);
    s_pack_ids (&pk, scratch, labelled);
    batch_pack_names (&pk, labelled);
    return s_packed_end (scratch, &writer, out);
}

//  ---------------------------------------------------------------------
//  Decoding

//  Reads a narrow column of n values whose width must be in 1..max_w.
static int
s_narrow (ds_mpread_t *reader, uint32_t n, int max_w, const uint8_t **bin, uint32_t *len)
{
    if (ds_mpread_bin (reader, bin, len))
        return DS_ERR_MALFORMED;
    if (n == 0)
        return *len == 0 ? DS_OK : DS_ERR_MALFORMED;
    return *len % n == 0 && *len / n >= 1 && *len / n <= (uint32_t) max_w ? DS_OK : DS_ERR_MALFORMED;
}

//  Reads the columns of a packed message (batch_internal.h).
int
batch_packed_read (ds_mpread_t *reader, uint32_t n, bool labelled, s_cols_t *c)
{
    uint32_t mask_len;
    if (ds_mpread_int (reader, &c->ts_first)
    ||  s_narrow (reader, n, 8, &c->ts, &c->ts_len)
    ||  ds_mpread_bin (reader, &c->v4, &mask_len) || mask_len != (n + 7u) / 8u
    ||  ds_mpread_bin (reader, &c->src, &c->src_len)
    ||  s_narrow (reader, n, 4, &c->port, &c->port_len)
    ||  ds_mpread_bin (reader, &c->pf, &c->pf_len)
    ||  (c->pf_len != n && c->pf_len != 2 * n))
        return DS_ERR_MALFORMED;
    if (labelled
    && (ds_mpread_bin (reader, &c->class_id, &c->ids_len)
    ||  (c->ids_len != n && c->ids_len != 2 * n && c->ids_len != 4 * n)))
        return DS_ERR_MALFORMED;
    //  the sources: 4 bytes for each bit set, 16 for each clear one
    uint64_t v4 = 0;
    for (uint32_t i = 0; i < mask_len; i++)
        v4 += (uint64_t) __builtin_popcount (c->v4 [i]);
    if (n % 8 && c->v4 [mask_len - 1] >> (n % 8))
        return DS_ERR_MALFORMED;             //  bits past count
    if (c->src_len != v4 * 4 + ((uint64_t) n - v4) * 16)
        return DS_ERR_MALFORMED;
    c->n_v4 = (uint32_t) v4;
    return DS_OK;
}

//  Values [from, to) of a narrow column of width w (len bytes) as uint64:
//  while 8 bytes can be read at a value, one load and a mask (w a
//  constant in each case, so the multiply and mask fold), then byte by
//  byte for the last few.
#define S_NARROW_EACH(col, len, n, w, i, v, body) do {                            \
    uint32_t fast_ = 0;                                                         \
    if (S_LITTLE_ENDIAN && (len) >= 8)                                          \
        fast_ = (uint32_t) (((len) - 8) / (size_t) (w)) + 1;                    \
    fast_ = fast_ < (n) ? fast_ : (n);                                          \
    uint32_t i = 0;                                                             \
    switch (w) {                                                                \
        case 1: for (; i < fast_; i++) { uint64_t v = s_narrow_fast ((col), i, 1); body } break; \
        case 2: for (; i < fast_; i++) { uint64_t v = s_narrow_fast ((col), i, 2); body } break; \
        case 3: for (; i < fast_; i++) { uint64_t v = s_narrow_fast ((col), i, 3); body } break; \
        case 4: for (; i < fast_; i++) { uint64_t v = s_narrow_fast ((col), i, 4); body } break; \
        default: break;                                                         \
    }                                                                           \
    for (; i < (n); i++) { uint64_t v = s_narrow_load ((col), (len), i, (w)); body } \
} while (0)

//  Value i of a narrow column of width w (1..7) where 8 bytes can be read
//  at it (little-endian hosts only).
static inline uint64_t
s_narrow_fast (const uint8_t *src, uint32_t i, int w)
{
    uint64_t v;
    memcpy (&v, src + (size_t) i * (size_t) w, 8);
    return v & ((UINT64_C (1) << (8 * w)) - 1);
}

//  Fills into's columns from a packed message's (lengths checked).
//  Fills into's columns from a packed message's (lengths checked).
void
batch_packed_fill (ds_batch_t *into, const s_cols_t *c, uint32_t n, bool labelled)
{
    int w = n ? (int) (c->ts_len / n) : 1;
    uint64_t prev = (uint64_t) c->ts_first;
    int64_t *ts = into->ts;
    S_NARROW_EACH (c->ts, c->ts_len, n, w, i, v, {
        ts [i] = (int64_t) (prev += s_unzigzag (v));
    });
    const uint8_t *src = c->src;
    static const uint8_t prefix [12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    if (c->n_v4 == n)
        //  every source IPv4 (a telescope's usual batch): no test per record
        for (uint32_t i = 0; i < n; i++, src += 4) {
            memcpy (into->src [i].b, prefix, 12);
            memcpy (into->src [i].b + 12, src, 4);
        }
    else
        for (uint32_t i = 0; i < n; i++) {
            if (c->v4 [i / 8] >> (i % 8) & 1) {
                memcpy (into->src [i].b, prefix, 12);
                memcpy (into->src [i].b + 12, src, 4);
                src += 4;
            }
            else {
                memcpy (into->src [i].b, src, 16);
                src += 16;
            }
        }
    w = n ? (int) (c->port_len / n) : 1;
    int32_t *port = into->port;
    S_NARROW_EACH (c->port, c->port_len, n, w, i, v, {
        port [i] = (int32_t) ((uint32_t) v - 1u);
    });
    if (c->pf_len == n)
        for (uint32_t i = 0; i < n; i++) {
            into->proto [i] = c->pf [i] & 0x0f;
            into->flags [i] = c->pf [i] >> 4;
        }
    else {
        memcpy (into->proto, c->pf, n);
        memcpy (into->flags, c->pf + n, n);
    }
    if (labelled && c->ids_len == n)
        for (uint32_t i = 0; i < n; i++) {
            into->class_id [i] = c->class_id [i] >> 4;
            into->service_id [i] = c->class_id [i] & 0x0f;
        }
    else
    if (labelled) {
        w = (int) (c->ids_len / n / 2);     //  n > 0 here: 0 == n handled above
        size_t half = (size_t) n * (size_t) w;
        for (uint32_t i = 0; i < n; i++) {
            into->class_id [i] = (uint16_t) s_narrow_load (c->class_id, half, i, w);
            into->service_id [i] = (uint16_t) s_narrow_load (c->class_id + half, half, i, w);
        }
    }
}
