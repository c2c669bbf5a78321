/*  batch_codec.c - columnar record batches on the wire; see ds_proto.h.

    The hot path of darkscope: every record crosses two sockets inside a
    batch.  Columns travel as msgpack bins of fixed-width little-endian
    values, so encoding and decoding are a memcpy per column on
    little-endian hosts (a byte-order loop elsewhere) plus one validation
    pass over the small columns.  Decoding never allocates per record and
    reuses the dictionaries of `into` when the labeler sent the same ones.

    A second, packed layout (batch_packed.c, ds_batch_encode_packed; told
    apart by its field count) carries the same batch in about a third of
    the bytes: timestamps as offsets from the batch's first in the fewest
    bytes that hold them, IPv4 sources as 4 bytes, ports, ids in 1-2
    bytes, protocol and flags in one byte.  Every link but inproc uses it: the kernel's
    copies (and CurveZMQ's encryption) cost per byte, twice per hop, more
    than this packing.  The labeler's packed output reuses its packed
    input's bytes for the columns labelling leaves alone
    (ds_batch_encode_relabel).  The decoder here reads both layouts.
*/
#include "batch_internal.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

//  ---------------------------------------------------------------------
//  Little-endian column load/store (portable; memcpy on LE hosts)

static void
s_le_load (void *dst, const uint8_t *src, size_t n, int width)
{
    if (S_LITTLE_ENDIAN) {
        memcpy (dst, src, n * (size_t) width);
        return;
    }
    for (size_t i = 0; i < n; i++, src += width) {
        uint64_t v = 0;
        for (int b = width - 1; b >= 0; b--)
            v = (v << 8) | src [b];
        switch (width) {
            case 2: ((uint16_t *) dst) [i] = (uint16_t) v; break;
            case 4: ((uint32_t *) dst) [i] = (uint32_t) v; break;
            default: ((uint64_t *) dst) [i] = v; break;
        }
    }
}

//  Packs a bin of n values of width bytes each, little-endian.
static void
s_le_pack (msgpack_packer *pk, const void *src, size_t n, int width)
{
    msgpack_pack_bin (pk, n * (size_t) width);
    if (S_LITTLE_ENDIAN || width == 1) {
        if (n)
            msgpack_pack_bin_body (pk, src, n * (size_t) width);
        return;
    }
    uint8_t chunk [4096];
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t v;
        switch (width) {
            case 2: v = ((const uint16_t *) src) [i]; break;
            case 4: v = ((const uint32_t *) src) [i]; break;
            default: v = ((const uint64_t *) src) [i]; break;
        }
        for (int b = 0; b < width; b++, v >>= 8)
            chunk [used++] = (uint8_t) v;
        if (used + 8 > sizeof chunk) {
            msgpack_pack_bin_body (pk, chunk, used);
            used = 0;
        }
    }
    if (used)
        msgpack_pack_bin_body (pk, chunk, used);
}

//  ---------------------------------------------------------------------
//  Encoder

void
batch_pack_names (msgpack_packer *pk, const ds_batch_t *batch)
{
    msgpack_pack_array (pk, batch->n_classes);
    for (uint32_t i = 0; i < batch->n_classes; i++)
        msgpack_pack_str_with_body (pk, batch->class_names [i], strlen (batch->class_names [i]));
    msgpack_pack_array (pk, batch->n_services);
    for (uint32_t i = 0; i < batch->n_services; i++)
        msgpack_pack_str_with_body (pk, batch->service_names [i], strlen (batch->service_names [i]));
}

void
ds_msg_pack_batch_head (msgpack_packer *pk, const ds_batch_t *batch)
{
    ds_msg_pack_header (pk, batch->labelled ? 16 : 12,
                        batch->labelled ? DS_MSG_LABELLED : DS_MSG_BATCH);
    msgpack_pack_uint32 (pk, batch->sensor);
    msgpack_pack_uint32 (pk, batch->shard);
    msgpack_pack_uint64 (pk, batch->seq);
    msgpack_pack_uint32 (pk, batch->count);
}

//  Byte layout of a batch (DS_MSG_BATCH = 1, DS_MSG_LABELLED = 2): one
//  msgpack array of 12 elements (16 when labelled), every integer in
//  msgpack's smallest encoding, every column a bin of count * width bytes
//  of little-endian fixed-width values:
//
//    [0]  str  "DSK"                   magic
//    [1]  uint 1                       protocol version
//    [2]  uint 1 | 2                   type: batch | labelled batch
//    [3]  uint sensor                  uint32, sensor id of the ingest
//    [4]  uint shard                   uint32, < DS_SHARDS_MAX
//    [5]  uint seq                     uint64, per (sensor, shard), from 0
//    [6]  uint count                   records, <= DS_BATCH_MAX_CAPACITY
//    [7]  bin  ts       count * 8      int64 microseconds since the epoch
//    [8]  bin  src      count * 16     address bytes, network order
//    [9]  bin  port     count * 4      int32, 0..65535 or -1 for "-"
//    [10] bin  proto    count * 1      ds_proto_t, < DS_PROTO_COUNT
//    [11] bin  flags    count * 1      DS_FLAG_* bits
//  labelled only:
//    [12] bin  class_id   count * 2    uint16 index into class_names
//    [13] bin  service_id count * 2    uint16 index into service_names
//    [14] array of str class_names     <= DS_DICT_MAX names, each 1..63
//    [15] array of str service_names   bytes without NUL
//
//  The frame holds nothing after the array.  `out` is emptied first.
int
ds_batch_encode (const ds_batch_t *batch, msgpack_sbuffer *out)
{
    uint32_t count = batch->count;
    if (count > DS_BATCH_MAX_CAPACITY)
        return DS_ERR_TOO_BIG;
    size_t dict_bytes = 0;
    if (batch->labelled) {
        if (batch->n_classes > DS_DICT_MAX || batch->n_services > DS_DICT_MAX)
            return DS_ERR_TOO_BIG;
        for (uint32_t i = 0; i < batch->n_classes; i++)
            dict_bytes += strlen (batch->class_names [i]) + 2;
        for (uint32_t i = 0; i < batch->n_services; i++)
            dict_bytes += strlen (batch->service_names [i]) + 2;
    }
    size_t width = S_TS_W + S_SRC_W + S_PORT_W + S_PROTO_W + S_FLAGS_W
                 + (batch->labelled ? 2 * S_ID_W : 0);
    msgpack_packer pk;
    ds_msg_writer_t writer;
    ds_msg_packer_init (&pk, &writer, out, 96 + (size_t) count * width + dict_bytes);
    ds_msg_pack_batch_head (&pk, batch);
    s_le_pack (&pk, batch->ts, count, S_TS_W);
    msgpack_pack_bin (&pk, (size_t) count * S_SRC_W);
    if (count)
        msgpack_pack_bin_body (&pk, batch->src, (size_t) count * S_SRC_W);
    s_le_pack (&pk, batch->port, count, S_PORT_W);
    s_le_pack (&pk, batch->proto, count, S_PROTO_W);
    s_le_pack (&pk, batch->flags, count, S_FLAGS_W);
    if (batch->labelled) {
        s_le_pack (&pk, batch->class_id, count, S_ID_W);
        s_le_pack (&pk, batch->service_id, count, S_ID_W);
        batch_pack_names (&pk, batch);
    }
    if (writer.failed)
        return DS_ERR_NOMEM;
    return out->size > DS_FRAME_MAX ? DS_ERR_TOO_BIG : DS_OK;
}


//  ---------------------------------------------------------------------
//  Decoder

//  Reads a bin that must be exactly count * width bytes.
static int
s_column (ds_mpread_t *reader, uint32_t count, int width, const uint8_t **bin)
{
    uint32_t len;
    if (ds_mpread_bin (reader, bin, &len) || len != (uint64_t) count * (uint64_t) width)
        return DS_ERR_MALFORMED;
    return DS_OK;
}

//  Grows every column of `into` to hold count records.
static int
s_grow (ds_batch_t *into, uint32_t count)
{
    if (into->frame)
        return DS_ERR_TOO_BIG;      //  a framed batch keeps its capacity
    uint32_t capacity = into->capacity ? into->capacity : 1;
    while (capacity < count)
        capacity = capacity > DS_BATCH_MAX_CAPACITY / 2 ? DS_BATCH_MAX_CAPACITY : capacity * 2;
    void *p;
#define S_GROW(field, width) \
    if (!(p = realloc (into->field, (size_t) capacity * (width)))) return DS_ERR_NOMEM; \
    into->field = p;
    S_GROW (ts, S_TS_W)
    S_GROW (src, S_SRC_W)
    S_GROW (port, S_PORT_W)
    S_GROW (proto, S_PROTO_W)
    S_GROW (flags, S_FLAGS_W)
    if (into->class_id) {
        S_GROW (class_id, S_ID_W)
    }
    if (into->service_id) {
        S_GROW (service_id, S_ID_W)
    }
#undef S_GROW
    into->capacity = capacity;
    return DS_OK;
}

static void
s_free_names (char ***names_p, uint32_t *n_p)
{
    for (uint32_t i = 0; i < *n_p; i++)
        free ((*names_p) [i]);
    free (*names_p);
    *names_p = NULL;
    *n_p = 0;
}

//  Reads an array of names into *names_p / *n_p, keeping the current
//  strings when the message carries exactly the same dictionary.
static int
s_dict (ds_mpread_t *reader, char ***names_p, uint32_t *n_p)
{
    uint32_t n;
    if (ds_mpread_peek (reader) != DS_MP_ARRAY)
        return DS_ERR_MALFORMED;
    if (ds_mpread_array (reader, &n))
        return DS_ERR_MALFORMED;
    if (n > DS_DICT_MAX)
        return DS_ERR_TOO_BIG;
    //  first pass: validate, and see whether the dictionary changed
    ds_mpread_t start = *reader;
    bool same = *names_p && n == *n_p;
    for (uint32_t i = 0; i < n; i++) {
        const char *str;
        uint32_t len;
        if (ds_mpread_str (reader, &str, &len) || len == 0 || memchr (str, 0, len))
            return DS_ERR_MALFORMED;
        if (len > DS_NAME_MAX - 1)
            return DS_ERR_TOO_BIG;
        if (same && !ds_mpread_str_eq (str, len, (*names_p) [i]))
            same = false;
    }
    if (same)
        return DS_OK;
    s_free_names (names_p, n_p);
    char **names = calloc (n ? n : 1, sizeof *names);
    if (!names)
        return DS_ERR_NOMEM;
    *names_p = names;
    for (uint32_t i = 0; i < n; i++) {
        const char *str;
        uint32_t len;
        ds_mpread_str (&start, &str, &len);
        if (!(names [i] = malloc (len + 1)))
            return DS_ERR_NOMEM;
        memcpy (names [i], str, len);
        names [i][len] = 0;
        *n_p = i + 1;
    }
    return DS_OK;
}

//  Checks n ids against limit.
static int
s_ids_check (const uint16_t *ids, uint32_t n, uint32_t limit)
{
    uint32_t bad = 0;
    for (uint32_t i = 0; i < n; i++)
        bad |= ids [i] >= limit;
    return bad ? DS_ERR_MALFORMED : DS_OK;
}

static int
s_read_fixed (ds_mpread_t *reader, uint32_t n, bool labelled, s_cols_t *c)
{
    if (s_column (reader, n, S_TS_W, &c->ts)
    ||  s_column (reader, n, S_SRC_W, &c->src)
    ||  s_column (reader, n, S_PORT_W, &c->port)
    ||  s_column (reader, n, S_PROTO_W, &c->proto)
    ||  s_column (reader, n, S_FLAGS_W, &c->flags))
        return DS_ERR_MALFORMED;
    if (labelled
    && (s_column (reader, n, S_ID_W, &c->class_id) || s_column (reader, n, S_ID_W, &c->service_id)))
        return DS_ERR_MALFORMED;
    return DS_OK;
}


//  A column of the fixed layout: with a view, where it lies in the
//  message if it can be used there (little-endian, aligned); else own
//  (the batch's array), loaded.
static void *
s_take (void *own, const uint8_t *bin, uint32_t n, int width, bool view)
{
    if (view && S_LITTLE_ENDIAN && (uintptr_t) bin % (uintptr_t) width == 0)
        return (void *) bin;
    s_le_load (own, bin, n, width);
    return own;
}

//  Decodes into `into`; with view (not NULL) the usable columns of the
//  fixed layout are pointed at in the message instead (see
//  ds_batch_decode_view), and *view is the result.
static int
s_decode (ds_mpread_t *reader, ds_batch_t *into, ds_batch_t *view)
{
    uint32_t fields;
    int type;
    int rc = ds_msg_header (reader, &fields, &type);
    if (rc)
        return rc;
    if (type != DS_MSG_BATCH && type != DS_MSG_LABELLED)
        return DS_ERR_TYPE;
    bool labelled = type == DS_MSG_LABELLED;
    uint32_t want = labelled ? 16u : 12u;       //  fixed layout

    uint64_t sensor, shard, seq, count;
    if (ds_mpread_uint (reader, &sensor) || sensor > UINT32_MAX
    ||  ds_mpread_uint (reader, &shard) || shard >= DS_SHARDS_MAX
    ||  ds_mpread_uint (reader, &seq)
    ||  ds_mpread_uint (reader, &count))
        return DS_ERR_MALFORMED;
    if (count > DS_BATCH_MAX_CAPACITY)
        return DS_ERR_TOO_BIG;
    uint32_t n = (uint32_t) count;
    ds_mp_kind_t seventh = ds_mpread_peek (reader);
    bool packed = seventh == DS_MP_INT || seventh == DS_MP_UINT;
    if (packed)
        want = S_PACKED_FIELDS + (labelled ? 3u : 0u);
    if (fields != want)
        return DS_ERR_MALFORMED;

    s_cols_t c = { 0 };
    if (packed ? batch_packed_read (reader, n, labelled, &c) : s_read_fixed (reader, n, labelled, &c))
        return DS_ERR_MALFORMED;
    if (labelled) {
        if ((rc = s_dict (reader, &into->class_names, &into->n_classes))
        ||  (rc = s_dict (reader, &into->service_names, &into->n_services)))
            return rc;
    }
    else {
        s_free_names (&into->class_names, &into->n_classes);
        s_free_names (&into->service_names, &into->n_services);
    }
    if (ds_mpread_left (reader) != 0)
        return DS_ERR_MALFORMED;             //  trailing bytes

    //  the message is well formed: copy and check the columns
    if (n > into->capacity && (rc = s_grow (into, n)))
        return rc;
    if (labelled && !into->class_id && !(into->class_id = malloc ((size_t) into->capacity * S_ID_W)))
        return DS_ERR_NOMEM;
    if (labelled && !into->service_id && !(into->service_id = malloc ((size_t) into->capacity * S_ID_W)))
        return DS_ERR_NOMEM;
    ds_batch_t cols = *into;            //  where the columns are read from
    if (packed)
        batch_packed_fill (into, &c, n, labelled);
    else {
        bool v = view != NULL;
        cols.ts = s_take (into->ts, c.ts, n, S_TS_W, v);
        if (v)
            cols.src = (ds_addr_t *) c.src;     //  bytes: usable anywhere
        else
            memcpy (into->src, c.src, (size_t) n * S_SRC_W);
        cols.port = s_take (into->port, c.port, n, S_PORT_W, v);
        cols.proto = s_take (into->proto, c.proto, n, S_PROTO_W, v);
        cols.flags = s_take (into->flags, c.flags, n, S_FLAGS_W, v);
        if (labelled) {
            cols.class_id = s_take (into->class_id, c.class_id, n, S_ID_W, v);
            cols.service_id = s_take (into->service_id, c.service_id, n, S_ID_W, v);
        }
    }
    uint32_t bad = 0;
    for (uint32_t i = 0; i < n; i++)
        bad |= ((uint32_t) cols.port [i] + 1u > 65536u) | (cols.proto [i] >= DS_PROTO_COUNT);
    if (bad)
        return DS_ERR_MALFORMED;
    if (labelled
    && (s_ids_check (cols.class_id, n, into->n_classes)
    ||  s_ids_check (cols.service_id, n, into->n_services)))
        return DS_ERR_MALFORMED;

    into->sensor = (uint32_t) sensor;
    into->shard = (uint32_t) shard;
    into->seq = seq;
    into->count = n;
    into->labelled = labelled;
    if (view) {
        *view = *into;
        view->ts = cols.ts;
        view->src = cols.src;
        view->port = cols.port;
        view->proto = cols.proto;
        view->flags = cols.flags;
        view->class_id = cols.class_id;
        view->service_id = cols.service_id;
    }
    return DS_OK;
}

int
ds_batch_decode (const uint8_t *data, size_t size, ds_batch_t *into)
{
    ds_mpread_t reader;
    ds_mpread_init (&reader, data, size);
    int rc = s_decode (&reader, into, NULL);
    if (rc)
        ds_batch_reset (into);
    return rc;
}

int
ds_batch_decode_view (const uint8_t *data, size_t size, ds_batch_t *into, ds_batch_t *view)
{
    ds_mpread_t reader;
    ds_mpread_init (&reader, data, size);
    int rc = s_decode (&reader, into, view);
    if (rc) {
        ds_batch_reset (into);
        *view = *into;
    }
    return rc;
}
