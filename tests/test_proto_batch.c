/*  libs: ds_proto ds_common */
/*  test_proto_batch.c - record batches on the wire: both layouts (fixed
    and packed) round-trip at every size, a stream may switch layouts
    between batches, a framed batch's message is ds_batch_encode's to the
    byte, and a hand-made batch that the encoder would not write is refused
    with its own result, never read out of bounds. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "ds_proto.h"
#include "batch_frame.h"
#include "proto_fixture.h"

//  Knobs for hand-made batch messages that the encoder would not write.
typedef struct {
    int version, type, fields;
    uint64_t count;                 //  declared count
    uint32_t records;               //  records actually in the bins
    int ts_delta;                   //  bytes added to the ts bin
    int32_t port;                   //  every port
    uint8_t proto;                  //  every proto
    uint16_t class_id;              //  every class id
    uint32_t n_classes;             //  names "c0", "c1", ...
    const char *name0;              //  first class name (NULL: "c0")
    size_t name0_len;
    bool trailing;                  //  one byte after the array
} s_raw_t;

static s_raw_t
s_raw_default (void)
{
    return (s_raw_t) { .version = 1, .type = DS_MSG_LABELLED, .fields = 16, .count = 4,
                       .records = 4, .port = 80, .proto = DS_PROTO_TCP, .class_id = 1,
                       .n_classes = 2 };
}

static void
s_zero_bin (msgpack_packer *pk, size_t len)
{
    msgpack_pack_bin (pk, len);
    static const uint8_t zeros [256];
    while (len) {
        size_t n = len < sizeof zeros ? len : sizeof zeros;
        msgpack_pack_bin_body (pk, zeros, n);
        len -= n;
    }
}

static void
s_le_bin (msgpack_packer *pk, uint32_t n, uint64_t value, int width)
{
    msgpack_pack_bin (pk, (size_t) n * width);
    for (uint32_t i = 0; i < n; i++) {
        uint8_t bytes [8];
        for (int b = 0; b < width; b++)
            bytes [b] = (uint8_t) (value >> (8 * b));
        msgpack_pack_bin_body (pk, bytes, width);
    }
}

static void
s_raw_batch (msgpack_sbuffer *out, const s_raw_t *raw)
{
    msgpack_sbuffer_clear (out);
    msgpack_packer pk;
    msgpack_packer_init (&pk, out, msgpack_sbuffer_write);
    msgpack_pack_array (&pk, raw->fields);
    msgpack_pack_str_with_body (&pk, "DSK", 3);
    msgpack_pack_int (&pk, raw->version);
    msgpack_pack_int (&pk, raw->type);
    msgpack_pack_uint32 (&pk, 1);
    msgpack_pack_uint32 (&pk, 2);
    msgpack_pack_uint64 (&pk, 3);
    msgpack_pack_uint64 (&pk, raw->count);
    uint32_t n = raw->records;
    s_zero_bin (&pk, (size_t) n * 8 + raw->ts_delta);
    s_zero_bin (&pk, (size_t) n * 16);
    s_le_bin (&pk, n, (uint32_t) raw->port, 4);
    s_le_bin (&pk, n, raw->proto, 1);
    s_zero_bin (&pk, n);
    if (raw->fields == 16) {
        s_le_bin (&pk, n, raw->class_id, 2);
        s_le_bin (&pk, n, 0, 2);
        msgpack_pack_array (&pk, raw->n_classes);
        for (uint32_t i = 0; i < raw->n_classes; i++) {
            char name [16];
            snprintf (name, sizeof name, "c%u", i);
            if (i == 0 && raw->name0)
                msgpack_pack_str_with_body (&pk, raw->name0, raw->name0_len);
            else
                msgpack_pack_str_with_body (&pk, name, strlen (name));
        }
        msgpack_pack_array (&pk, 1);
        msgpack_pack_str_with_body (&pk, "telnet", 6);
    }
    if (raw->trailing)
        msgpack_pack_nil (&pk);
}

static int
s_decode_raw (const s_raw_t *raw)
{
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    s_raw_batch (&buf, raw);
    ds_batch_t *into = ds_batch_new (2);
    int rc = ds_batch_decode ((const uint8_t *) buf.data, buf.size, into);
    if (rc) {
        assert_int_equal (into->count, 0);      //  reset on failure
        assert_false (into->labelled);
    }
    ds_batch_destroy (&into);
    msgpack_sbuffer_destroy (&buf);
    return rc;
}

static int (*s_encode) (const ds_batch_t *, msgpack_sbuffer *) = ds_batch_encode;

static void
s_roundtrip (uint32_t count, bool labelled, uint32_t into_capacity)
{
    ds_batch_t *batch = fx_make_batch (count, labelled);
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    assert_int_equal (s_encode (batch, &buf), DS_OK);
    int type = 0;
    assert_int_equal (ds_msg_peek ((const uint8_t *) buf.data, buf.size, &type), DS_OK);
    assert_int_equal (type, labelled ? DS_MSG_LABELLED : DS_MSG_BATCH);
    //  every byte validates as one msgpack object, too
    assert_int_equal (ds_mp_validate ((const uint8_t *) buf.data, buf.size, 4), DS_OK);
    ds_batch_t *into = ds_batch_new (into_capacity);
    assert_int_equal (ds_batch_decode ((const uint8_t *) buf.data, buf.size, into), DS_OK);
    fx_assert_batch_equal (batch, into);
    //  a second decode into the same batch reuses the same dictionary strings
    char **names = into->class_names;
    char *first = labelled ? into->class_names [0] : NULL;
    assert_int_equal (ds_batch_decode ((const uint8_t *) buf.data, buf.size, into), DS_OK);
    fx_assert_batch_equal (batch, into);
    if (labelled) {
        assert_ptr_equal (into->class_names, names);
        assert_ptr_equal (into->class_names [0], first);
    }
    msgpack_sbuffer_destroy (&buf);
    ds_batch_destroy (&into);
    ds_batch_destroy (&batch);
}

static void
test_batch_roundtrip (void **state)
{
    (void) state;
    uint32_t counts [] = { 0, 1, 2, 7, 8, 9, 100, 4096, DS_BATCH_MAX_CAPACITY };
    for (int packed = 0; packed < 2; packed++) {
        s_encode = packed ? ds_batch_encode_packed : ds_batch_encode;
        for (size_t i = 0; i < sizeof counts / sizeof *counts; i++) {
            s_roundtrip (counts [i], false, 1);
            s_roundtrip (counts [i], true, 1);
            s_roundtrip (counts [i], true, DS_BATCH_MAX_CAPACITY);
        }
    }
    s_encode = ds_batch_encode;
}

//  Framed batches (batch_frame.h): filled as ds_publish_add fills one, a
//  full batch's message is ds_batch_encode's to the byte (unlabelled and
//  labelled, at capacities whose columns are aligned in the frame or not,
//  over three rounds of the same batch, each taking a fresh frame); a
//  batch that is not full, or whose dictionaries do not fit, is declined
//  (1) and still encodes as usual; the message decodes to the records.
//  Where a view's column is: in the message (then aligned for its type)
//  or in the batch's own array.  True if in the message.
static bool
s_in_place (const void *col, const void *own, int width, const uint8_t *lo, const uint8_t *hi)
{
    if ((const uint8_t *) col >= lo && (const uint8_t *) col < hi) {
        assert_int_equal ((uintptr_t) col % (uintptr_t) width, 0);
        return true;
    }
    assert_ptr_equal (col, own);
    return false;
}

//  The view decode of a message equals the batch; in a framed message
//  (aligned) the columns are read in place, not copied.  The same bytes
//  moved off their alignment (1..7 bytes) decode the same, each column in
//  place only where it is aligned, and the timestamps copied at least once.
static void
s_check_view (const void *data, size_t size, const ds_batch_t *want, bool aligned)
{
    ds_batch_t *into = ds_batch_new (1);
    ds_batch_t view;
    assert_int_equal (ds_batch_decode_view (data, size, into, &view), DS_OK);
    fx_assert_batch_equal (want, &view);
    const uint8_t *lo = data, *hi = lo + size;
    if (aligned && want->count > 0) {
        //  ts is 64-byte aligned in a frame, the byte columns anywhere;
        //  at 4096 records the ports and service ids are aligned too.
        bool usual = want->count == DS_BATCH_DEFAULT_CAPACITY;
        assert_true (s_in_place (view.ts, into->ts, 8, lo, hi));
        assert_true (s_in_place (view.src, into->src, 1, lo, hi));
        assert_true (s_in_place (view.port, into->port, 4, lo, hi) || !usual);
        assert_true (s_in_place (view.proto, into->proto, 1, lo, hi));
        assert_true (s_in_place (view.flags, into->flags, 1, lo, hi));
        if (want->labelled) {
            s_in_place (view.class_id, into->class_id, 2, lo, hi);
            assert_true (s_in_place (view.service_id, into->service_id, 2, lo, hi) || !usual);
        }
    }
    ds_batch_destroy (&into);
    if (!aligned || want->count == 0)
        return;
    uint8_t *moved = malloc (size + 8);
    assert_non_null (moved);
    int copied = 0;
    for (int shift = 1; shift < 8; shift++) {
        memcpy (moved + shift, data, size);
        into = ds_batch_new (1);
        assert_int_equal (ds_batch_decode_view (moved + shift, size, into, &view), DS_OK);
        fx_assert_batch_equal (want, &view);
        lo = moved + shift;
        hi = lo + size;
        copied += !s_in_place (view.ts, into->ts, 8, lo, hi);
        s_in_place (view.port, into->port, 4, lo, hi);
        if (want->labelled) {
            s_in_place (view.class_id, into->class_id, 2, lo, hi);
            s_in_place (view.service_id, into->service_id, 2, lo, hi);
        }
        ds_batch_destroy (&into);
    }
    assert_true (copied > 0);
    free (moved);
}

static void
test_batch_framed (void **state)
{
    (void) state;
    uint32_t capacities [] = { 1, 3, 100, 101, 4096, 5000, DS_BATCH_MAX_CAPACITY };
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    for (size_t k = 0; k < sizeof capacities / sizeof *capacities; k++) {
        uint32_t n = capacities [k];
        for (int labelled = 0; labelled < 2; labelled++) {
            ds_batch_t *framed = ds_batch_new_framed (n);
            assert_non_null (framed);
            assert_non_null (framed->frame);
            for (int round = 0; round < 3; round++) {
                ds_batch_t *want = fx_make_batch (n, labelled);
                framed->sensor = want->sensor;
                framed->shard = want->shard;
                framed->seq = want->seq + (uint64_t) round;
                want->seq = framed->seq;
                ds_record_t rec;
                for (uint32_t i = 0; i < n; i++) {
                    ds_batch_get (want, i, &rec);
                    if (i == n / 2) {       //  half full: declined, encodes as ever
                        void *base;
                        const void *data;
                        size_t size;
                        assert_int_equal (ds_batch_frame_take (framed, &base, &data, &size), 1);
                    }
                    assert_true (ds_batch_add (framed, &rec));
                }
                if (labelled) {
                    assert_int_equal (ds_batch_set_dicts (framed, fx_classes, FX_N_CLASSES,
                                                          fx_services, FX_N_SERVICES), 0);
                    memcpy (framed->class_id, want->class_id, (size_t) n * 2);
                    memcpy (framed->service_id, want->service_id, (size_t) n * 2);
                }
                assert_int_equal (ds_batch_encode (want, &buf), DS_OK);
                uint8_t *old_frame = framed->frame;
                void *base = NULL;
                const void *data = NULL;
                size_t size = 0;
                assert_int_equal (ds_batch_frame_take (framed, &base, &data, &size), 0);
                assert_ptr_equal (base, old_frame);
                assert_ptr_not_equal (framed->frame, old_frame);
                assert_int_equal (size, buf.size);
                if (memcmp (data, buf.data, size) != 0)
                    fail_msg ("capacity %u labelled %d round %d: the framed message differs", n, labelled, round);
                ds_batch_t *into = ds_batch_new (1);
                assert_int_equal (ds_batch_decode (data, size, into), DS_OK);
                fx_assert_batch_equal (want, into);
                ds_batch_destroy (&into);
                s_check_view (data, size, want, true);
                free (base);
                ds_batch_reset (framed);
                ds_batch_destroy (&want);
            }
            ds_batch_destroy (&framed);
        }
    }
    //  Dictionaries larger than the frame's room: declined, encoded as usual.
    ds_batch_t *framed = ds_batch_new_framed (8);
    ds_batch_t *want = fx_make_batch (8, false);
    ds_record_t rec;
    for (uint32_t i = 0; i < 8; i++) {
        ds_batch_get (want, i, &rec);
        assert_true (ds_batch_add (framed, &rec));
    }
    enum { MANY = 200 };
    char *names [MANY];
    for (int i = 0; i < MANY; i++) {
        names [i] = malloc (DS_NAME_MAX);
        snprintf (names [i], DS_NAME_MAX, "a-rather-long-class-name-of-forty-bytes-%03d", i);
    }
    assert_int_equal (ds_batch_set_dicts (framed, (const char *const *) names, MANY,
                                          fx_services, FX_N_SERVICES), 0);
    memset (framed->class_id, 0, 16);
    memset (framed->service_id, 0, 16);
    void *base;
    const void *data;
    size_t size;
    assert_int_equal (ds_batch_frame_take (framed, &base, &data, &size), 1);
    assert_int_equal (ds_batch_encode (framed, &buf), DS_OK);
    ds_batch_t *into = ds_batch_new (1);
    assert_int_equal (ds_batch_decode ((const uint8_t *) buf.data, buf.size, into), DS_OK);
    assert_int_equal (into->n_classes, MANY);
    assert_int_equal (into->count, 8);
    ds_batch_destroy (&into);
    for (int i = 0; i < MANY; i++)
        free (names [i]);
    ds_batch_destroy (&want);
    ds_batch_destroy (&framed);
    msgpack_sbuffer_destroy (&buf);
}

//  The packed layout: a telescope's batch in under 40 % of the fixed
//  layout's bytes, every width and both proto/flags forms round-trip, and
//  what is malformed only in the packed layout is refused.
static void
test_batch_packed (void **state)
{
    (void) state;
    msgpack_sbuffer fixed, packed;
    msgpack_sbuffer_init (&fixed);
    msgpack_sbuffer_init (&packed);
    ds_batch_t *into = ds_batch_new (1);
    for (int labelled = 0; labelled < 2; labelled++) {
        ds_batch_t *batch = fx_make_real_batch (4096, labelled);
        assert_int_equal (ds_batch_encode (batch, &fixed), DS_OK);
        assert_int_equal (ds_batch_encode_packed (batch, &packed), DS_OK);
        assert_true (packed.size * 10 < fixed.size * 4);
        assert_int_equal (ds_mp_validate ((const uint8_t *) packed.data, packed.size, 4), DS_OK);
        assert_int_equal (ds_batch_decode ((const uint8_t *) packed.data, packed.size, into), DS_OK);
        fx_assert_batch_equal (batch, into);
        //  timestamps of every width: spans 2^(8k) - 1 and 2^(8k)
        for (int k = 0; k <= 8; k++) {
            batch->ts [1] = batch->ts [0] + (k < 8 ? (int64_t) ((UINT64_C (1) << (8 * k)) - 1) : INT64_MAX / 2);
            batch->ts [2] = k < 8 ? batch->ts [0] + (int64_t) (UINT64_C (1) << (8 * k)) : INT64_MIN;
            batch->port [3] = k % 2 ? 65535 : -1;
            batch->flags [4] = k % 2 ? 0xf0 : 0;
            if (labelled)
                batch->class_id [5] = k % 2 ? 0 : 4;
            assert_int_equal (ds_batch_encode_packed (batch, &packed), DS_OK);
            assert_int_equal (ds_batch_decode ((const uint8_t *) packed.data, packed.size, into), DS_OK);
            fx_assert_batch_equal (batch, into);
        }
        ds_batch_destroy (&batch);
    }
    //  ids of every width: dictionaries of 20 and 300 classes
    for (int big = 0; big < 2; big++) {
        uint32_t n_names = big ? 300 : 20;
        char **names = calloc (n_names, sizeof *names);
        for (uint32_t i = 0; i < n_names; i++) {
            names [i] = malloc (16);
            snprintf (names [i], 16, "class%u", i);
        }
        ds_batch_t *batch = fx_make_real_batch (100, true);
        assert_int_equal (ds_batch_set_dicts (batch, (const char *const *) names, n_names,
                                              fx_services, FX_N_SERVICES), 0);
        for (uint32_t i = 0; i < batch->count; i++) {
            batch->class_id [i] = (uint16_t) ((i * 7) % n_names);
            batch->service_id [i] = (uint16_t) (i % FX_N_SERVICES);
        }
        assert_int_equal (ds_batch_encode_packed (batch, &packed), DS_OK);
        assert_int_equal (ds_batch_decode ((const uint8_t *) packed.data, packed.size, into), DS_OK);
        fx_assert_batch_equal (batch, into);
        ds_batch_destroy (&batch);
        for (uint32_t i = 0; i < n_names; i++)
            free (names [i]);
        free (names);
    }
    //  Hand-built damage: a packed batch of 9 records, 3 of them IPv4.
    ds_batch_t *batch = fx_make_real_batch (9, false);
    for (uint32_t i = 0; i < 9; i++) {                //  records 0, 3, 6 IPv4
        memset (batch->src [i].b, 0, 10);
        batch->src [i].b [10] = batch->src [i].b [11] = 0xff;
        batch->src [i].b [0] = i % 3 ? 0x20 : 0;
    }
    assert_int_equal (ds_batch_encode_packed (batch, &packed), DS_OK);
    assert_int_equal (ds_batch_decode ((const uint8_t *) packed.data, packed.size, into), DS_OK);
    //  the v4 mask: 2 bytes (bin8 header c4 02), bits 0, 3, 6 = 0x49, 0x00
    const uint8_t mask [] = { 0xc4, 0x02, 0x49, 0x00 };
    uint8_t *at = memmem (packed.data, packed.size, mask, sizeof mask);
    assert_non_null (at);
    uint8_t *copy = malloc (packed.size);
    memcpy (copy, packed.data, packed.size);
    copy [at - (uint8_t *) packed.data + 3] = 0x02;     //  bit 9: past the count
    assert_int_equal (ds_batch_decode (copy, packed.size, into), DS_ERR_MALFORMED);
    memcpy (copy, packed.data, packed.size);
    copy [at - (uint8_t *) packed.data + 2] = 0x4b;     //  a 4th IPv4 source: src too long
    assert_int_equal (ds_batch_decode (copy, packed.size, into), DS_ERR_MALFORMED);
    free (copy);
    //  DS_WRITE_SEEDS=DIR: packed seeds for fuzz_batch (tests/fuzz-corpus/fuzz_batch)
    const char *dir = getenv ("DS_WRITE_SEEDS");
    for (int labelled = 0; dir && labelled < 2; labelled++) {
        ds_batch_destroy (&batch);
        batch = fx_make_real_batch (5, labelled);
        assert_int_equal (ds_batch_encode_packed (batch, &packed), DS_OK);
        char path [512];
        snprintf (path, sizeof path, "%s/packed-%s5.bin", dir, labelled ? "labelled" : "plain");
        FILE *f = fopen (path, "wb");
        assert_non_null (f);
        fwrite (packed.data, 1, packed.size, f);
        fclose (f);
    }
    msgpack_sbuffer_destroy (&fixed);
    msgpack_sbuffer_destroy (&packed);
    ds_batch_destroy (&batch);
    ds_batch_destroy (&into);
}

//  Labels an unlabelled batch as the labeler would (dictionaries, ids and
//  the GT flag), with n_classes class names.
static void
s_label (ds_batch_t *batch, uint32_t n_classes)
{
    char **names = calloc (n_classes, sizeof *names);
    for (uint32_t i = 0; i < n_classes; i++) {
        names [i] = malloc (16);
        snprintf (names [i], 16, "class%u", i);
    }
    assert_int_equal (ds_batch_set_dicts (batch, (const char *const *) names, n_classes,
                                          fx_services, FX_N_SERVICES), 0);
    for (uint32_t i = 0; i < batch->count; i++) {
        batch->class_id [i] = (uint16_t) ((i * 7) % n_classes);
        batch->service_id [i] = (uint16_t) (i % FX_N_SERVICES);
        batch->flags [i] |= batch->class_id [i] ? 8 : 0;
    }
    for (uint32_t i = 0; i < n_classes; i++)
        free (names [i]);
    free (names);
}

//  ds_batch_encode_relabel: the labeler's packed output from the packed
//  input's bytes is byte for byte ds_batch_encode_packed's, at every size,
//  id width and protocol/flags layout; any other input (the fixed layout,
//  a labelled batch, another count, garbage) is packed from scratch.
static void
test_batch_relabel (void **state)
{
    (void) state;
    msgpack_sbuffer in, want, got;
    msgpack_sbuffer_init (&in);
    msgpack_sbuffer_init (&want);
    msgpack_sbuffer_init (&got);
    ds_batch_t *batch = ds_batch_new (1), *again = ds_batch_new (1);
    const uint32_t sizes [] = { 0, 1, 9, 4096 };
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++)
        for (int variant = 0; variant < 3; variant++) {
            ds_batch_t *source = fx_make_real_batch (sizes [k], false);
            if (variant == 1 && source->count)
                source->flags [0] = 0x30;           //  proto and flags in two halves
            assert_int_equal (ds_batch_encode_packed (source, &in), DS_OK);
            assert_int_equal (ds_batch_decode ((const uint8_t *) in.data, in.size, batch), DS_OK);
            s_label (batch, variant == 2 ? 300 : FX_N_CLASSES);   //  2: ids of 2 bytes
            assert_int_equal (ds_batch_encode_packed (batch, &want), DS_OK);
            assert_int_equal (ds_batch_encode_relabel ((const uint8_t *) in.data, in.size, batch, &got),
                              DS_OK);
            assert_int_equal (got.size, want.size);
            assert_memory_equal (got.data, want.data, want.size);
            assert_int_equal (ds_batch_decode ((const uint8_t *) got.data, got.size, again), DS_OK);
            fx_assert_batch_equal (batch, again);
            ds_batch_destroy (&source);
        }
    //  Inputs it cannot reuse: packed from scratch, the same bytes.
    ds_batch_t *source = fx_make_real_batch (50, false);
    assert_int_equal (ds_batch_encode_packed (source, &in), DS_OK);
    assert_int_equal (ds_batch_decode ((const uint8_t *) in.data, in.size, batch), DS_OK);
    s_label (batch, FX_N_CLASSES);
    assert_int_equal (ds_batch_encode_packed (batch, &want), DS_OK);
    msgpack_sbuffer other;
    msgpack_sbuffer_init (&other);
    ds_batch_t *fewer = fx_make_real_batch (49, false);
    assert_int_equal (ds_batch_encode (source, &other), DS_OK);         //  the fixed layout
    for (int kind = 0; kind < 4; kind++) {
        if (kind == 1)
            assert_int_equal (ds_batch_encode_packed (batch, &other), DS_OK);   //  labelled already
        if (kind == 2)
            assert_int_equal (ds_batch_encode_packed (fewer, &other), DS_OK);   //  another count
        if (kind == 3)
            other.size = 3;                                                     //  garbage
        assert_int_equal (ds_batch_encode_relabel ((const uint8_t *) other.data, other.size, batch, &got),
                          DS_OK);
        assert_int_equal (got.size, want.size);
        assert_memory_equal (got.data, want.data, want.size);
    }
    msgpack_sbuffer_destroy (&other);
    ds_batch_destroy (&fewer);
    ds_batch_destroy (&source);
    ds_batch_destroy (&batch);
    ds_batch_destroy (&again);
    msgpack_sbuffer_destroy (&in);
    msgpack_sbuffer_destroy (&want);
    msgpack_sbuffer_destroy (&got);
}

static void
test_batch_switching (void **state)
{
    (void) state;
    //  one receiving batch sees labelled, unlabelled, other-dictionary batches
    ds_batch_t *labelled = fx_make_batch (10, true);
    ds_batch_t *plain = fx_make_batch (20, false);
    ds_batch_t *other = fx_make_batch (5, true);
    const char *classes [] = { "unknown", "shodan" };
    const char *services [] = { "dns" };
    assert_int_equal (ds_batch_set_dicts (other, classes, 2, services, 1), 0);
    for (uint32_t i = 0; i < other->count; i++) {
        other->class_id [i] = (uint16_t) (i % 2);
        other->service_id [i] = 0;
    }
    msgpack_sbuffer a, b, c;
    msgpack_sbuffer_init (&a);
    msgpack_sbuffer_init (&b);
    msgpack_sbuffer_init (&c);
    assert_int_equal (ds_batch_encode (labelled, &a), DS_OK);
    assert_int_equal (ds_batch_encode (plain, &b), DS_OK);
    assert_int_equal (ds_batch_encode (other, &c), DS_OK);
    ds_batch_t *into = ds_batch_new (4);
    for (int round = 0; round < 3; round++) {
        assert_int_equal (ds_batch_decode ((const uint8_t *) a.data, a.size, into), DS_OK);
        fx_assert_batch_equal (labelled, into);
        assert_int_equal (ds_batch_decode ((const uint8_t *) b.data, b.size, into), DS_OK);
        fx_assert_batch_equal (plain, into);
        assert_int_equal (into->n_classes, 0);
        assert_int_equal (ds_batch_decode ((const uint8_t *) c.data, c.size, into), DS_OK);
        fx_assert_batch_equal (other, into);
        assert_int_equal (ds_batch_decode ((const uint8_t *) a.data, a.size, into), DS_OK);
        fx_assert_batch_equal (labelled, into);
    }
    //  the encoder empties a reused buffer
    assert_int_equal (ds_batch_encode (labelled, &b), DS_OK);
    assert_int_equal (b.size, a.size);
    assert_memory_equal (a.data, b.data, a.size);
    msgpack_sbuffer_destroy (&a);
    msgpack_sbuffer_destroy (&b);
    msgpack_sbuffer_destroy (&c);
    ds_batch_destroy (&into);
    ds_batch_destroy (&labelled);
    ds_batch_destroy (&plain);
    ds_batch_destroy (&other);
}

static void
test_batch_errors (void **state)
{
    (void) state;
    s_raw_t raw = s_raw_default ();
    assert_int_equal (s_decode_raw (&raw), DS_OK);                //  the knobs' baseline is valid
    raw.fields = 12;
    raw.type = DS_MSG_BATCH;
    assert_int_equal (s_decode_raw (&raw), DS_OK);

    struct { const char *what; s_raw_t raw; int rc; } cases [32];
    size_t n = 0;
#define CASE(what_, field_, value_, rc_) \
    cases [n].what = what_; cases [n].raw = s_raw_default (); cases [n].raw.field_ = value_; \
    cases [n++].rc = rc_;
    CASE ("port 65536", port, 65536, DS_ERR_MALFORMED)
    CASE ("port -2", port, -2, DS_ERR_MALFORMED)
    CASE ("port INT32_MIN", port, INT32_MIN, DS_ERR_MALFORMED)
    CASE ("port INT32_MAX", port, INT32_MAX, DS_ERR_MALFORMED)
    CASE ("port -1 ok", port, -1, DS_OK)
    CASE ("port 65535 ok", port, 65535, DS_OK)
    CASE ("proto 5", proto, DS_PROTO_COUNT, DS_ERR_MALFORMED)
    CASE ("proto 255", proto, 255, DS_ERR_MALFORMED)
    CASE ("class id = dict size", class_id, 2, DS_ERR_MALFORMED)
    CASE ("class id 65535", class_id, 65535, DS_ERR_MALFORMED)
    CASE ("empty dictionary", n_classes, 0, DS_ERR_MALFORMED)
    CASE ("dictionary too big", n_classes, DS_DICT_MAX + 1, DS_ERR_TOO_BIG)
    CASE ("dictionary at max", n_classes, DS_DICT_MAX, DS_OK)
    CASE ("count above max", count, DS_BATCH_MAX_CAPACITY + 1, DS_ERR_TOO_BIG)
    CASE ("count 2^32", count, 1ull << 32, DS_ERR_TOO_BIG)
    CASE ("count above bins", count, 5, DS_ERR_MALFORMED)
    CASE ("count below bins", count, 3, DS_ERR_MALFORMED)
    CASE ("ts bin short", ts_delta, -1, DS_ERR_MALFORMED)
    CASE ("ts bin long", ts_delta, 1, DS_ERR_MALFORMED)
    CASE ("trailing bytes", trailing, true, DS_ERR_MALFORMED)
    CASE ("17 fields", fields, 17, DS_ERR_MALFORMED)
#undef CASE
    for (size_t i = 0; i < n; i++) {
        int rc = s_decode_raw (&cases [i].raw);
        if (rc != cases [i].rc)
            fail_msg ("%s: got %s, expected %s", cases [i].what, ds_result_str (rc),
                      ds_result_str (cases [i].rc));
    }
    //  dictionary names: non-empty, < DS_NAME_MAX bytes, no NUL
    char long_name [DS_NAME_MAX + 1];
    memset (long_name, 'n', sizeof long_name);
    struct { const char *name; size_t len; int rc; } names [] = {
        { "", 0, DS_ERR_MALFORMED },
        { "a\0b", 3, DS_ERR_MALFORMED },
        { long_name, DS_NAME_MAX, DS_ERR_TOO_BIG },
        { long_name, DS_NAME_MAX - 1, DS_OK },
    };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        raw = s_raw_default ();
        raw.name0 = names [i].name;
        raw.name0_len = names [i].len;
        assert_int_equal (s_decode_raw (&raw), names [i].rc);
    }
    //  count at the maximum decodes; the encoder refuses more
    raw = s_raw_default ();
    raw.count = raw.records = DS_BATCH_MAX_CAPACITY;
    assert_int_equal (s_decode_raw (&raw), DS_OK);
    ds_batch_t *batch = fx_make_batch (1, false);
    batch->count = DS_BATCH_MAX_CAPACITY + 1;
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    assert_int_equal (ds_batch_encode (batch, &buf), DS_ERR_TOO_BIG);
    batch->count = 1;
    //  the encoder writes what it is given; the decoder checks the values
    batch->port [0] = 70000;
    assert_int_equal (ds_batch_encode (batch, &buf), DS_OK);
    ds_batch_t *into = ds_batch_new (1);
    assert_int_equal (ds_batch_decode ((const uint8_t *) buf.data, buf.size, into), DS_ERR_MALFORMED);
    ds_batch_destroy (&batch);
    batch = fx_make_batch (10, true);
    batch->service_id [9] = FX_N_SERVICES;
    assert_int_equal (ds_batch_encode (batch, &buf), DS_OK);
    assert_int_equal (ds_batch_decode ((const uint8_t *) buf.data, buf.size, into), DS_ERR_MALFORMED);
    ds_batch_destroy (&into);
    ds_batch_destroy (&batch);
    msgpack_sbuffer_destroy (&buf);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_batch_roundtrip),
        cmocka_unit_test (test_batch_framed),
        cmocka_unit_test (test_batch_packed),
        cmocka_unit_test (test_batch_relabel),
        cmocka_unit_test (test_batch_switching),
        cmocka_unit_test (test_batch_errors),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
