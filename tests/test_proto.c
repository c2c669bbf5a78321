/*  libs: ds_proto ds_common */
/*  test_proto.c - the wire protocol's framing and its hostile input:
    topics, the message header (magic, version, type), the end-of-stream
    message, the bounded msgpack checks and reader, and truncated, damaged or
    random bytes refused by every decoder with its own result, never read
    out of bounds (run under the sanitizer build too).  Batches:
    test_proto_batch.c; query requests: test_proto_query.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "ds_proto.h"
#include "mpread.h"
#include "proto_fixture.h"

static void
test_topic (void **state)
{
    (void) state;
    char buf [DS_TOPIC_LEN + 1];
    ds_topic_format (buf, "pkt", 3);
    assert_string_equal (buf, "pkt.0003");
    ds_topic_format (buf, "lab", DS_SHARDS_MAX - 1);
    assert_string_equal (buf, "lab.0255");
    ds_topic_format (buf, "lab", 9999);         //  what the width holds
    assert_string_equal (buf, "lab.9999");
    //  One limit, and the text the help of every command prints.
    assert_int_equal (DS_SHARDS_MAX, atoi (DS_SHARDS_MAX_TEXT));
    //  fixed width: no topic is a prefix of another
    char other [DS_TOPIC_LEN + 1];
    ds_topic_format (buf, "pkt", 1);
    ds_topic_format (other, "pkt", 10);
    assert_int_not_equal (strncmp (buf, other, strlen (buf)), 0);
    assert_string_equal (ds_result_str (DS_OK), "ok");
    for (int r = DS_ERR_MALFORMED; r >= DS_ERR_TRUNCATED; r--)
        assert_string_not_equal (ds_result_str (r), ds_result_str (r + 1));
}

static void
test_eos_roundtrip (void **state)
{
    (void) state;
    ds_eos_t cases [] = {
        { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
        { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 },
        { UINT32_MAX, DS_SHARDS_MAX - 1, UINT64_MAX, UINT64_MAX - 1, 1ull << 40, 255, 65536, UINT64_MAX,
          UINT64_MAX, UINT64_MAX }
    };
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        assert_int_equal (ds_eos_encode (&cases [i], &buf), DS_OK);
        int type;
        assert_int_equal (ds_msg_peek ((const uint8_t *) buf.data, buf.size, &type), DS_OK);
        assert_int_equal (type, DS_MSG_EOS);
        ds_eos_t eos;
        memset (&eos, 0xaa, sizeof eos);
        assert_int_equal (ds_eos_decode ((const uint8_t *) buf.data, buf.size, &eos), DS_OK);
        assert_memory_equal (&eos, &cases [i], sizeof eos);
    }
    msgpack_sbuffer_destroy (&buf);
}

//  Every proper prefix of data must be refused as malformed.
static void
s_assert_truncations (const msgpack_sbuffer *buf, int which)
{
    //  a copy of exactly len bytes, so ASan sees any read past the end
    for (size_t len = 0; len < buf->size; len++) {
        uint8_t *copy = malloc (len ? len : 1);
        memcpy (copy, buf->data, len);
        ds_batch_t *into = ds_batch_new (1);
        ds_eos_t eos;
        ds_query_t q;
        char err [128];
        switch (which) {
            case 0: assert_int_equal (ds_batch_decode (copy, len, into), DS_ERR_MALFORMED); break;
            case 1: assert_int_equal (ds_eos_decode (copy, len, &eos), DS_ERR_MALFORMED); break;
            case 2:
                err [0] = 0;
                assert_int_equal (ds_query_decode (copy, len, &q, err, sizeof err), DS_ERR_MALFORMED);
                assert_true (strlen (err) > 0);
                break;
        }
        assert_int_equal (ds_mp_validate (copy, len, 8), DS_ERR_MALFORMED);
        ds_batch_destroy (&into);
        free (copy);
    }
}

static void
test_truncated (void **state)
{
    (void) state;
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    for (int packed = 0; packed < 2; packed++) {
        int (*encode) (const ds_batch_t *, msgpack_sbuffer *) = packed ? ds_batch_encode_packed
                                                                       : ds_batch_encode;
        ds_batch_t *batch = fx_make_batch (3, true);
        assert_int_equal (encode (batch, &buf), DS_OK);
        s_assert_truncations (&buf, 0);
        ds_batch_destroy (&batch);
        batch = fx_make_batch (2, false);
        assert_int_equal (encode (batch, &buf), DS_OK);
        s_assert_truncations (&buf, 0);
        ds_batch_destroy (&batch);
    }

    ds_eos_t eos = { 1, 2, 300, 40000, 5000000000ull, 6, 7, 8, 9, 10 };
    assert_int_equal (ds_eos_encode (&eos, &buf), DS_OK);
    s_assert_truncations (&buf, 1);

    ds_query_t q;
    ds_query_init (&q);
    strcpy (q.name, "pattern");
    strcpy (q.class_name, "stretchoid");
    q.from_us = 1614643200000000;
    assert_int_equal (ds_query_encode (&q, &buf), DS_OK);
    s_assert_truncations (&buf, 2);
    msgpack_sbuffer_destroy (&buf);
}

static void
test_header_errors (void **state)
{
    (void) state;
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    ds_batch_t *batch = fx_make_batch (3, false);
    assert_int_equal (ds_batch_encode (batch, &buf), DS_OK);
    //  layout: [0] array header, [1] fixstr 3, [2..4] "DSK", [5] version, [6] type
    assert_int_equal ((uint8_t) buf.data [0], 0x9c);
    assert_int_equal ((uint8_t) buf.data [1], 0xa3);
    uint8_t *copy = malloc (buf.size);
    ds_batch_t *into = ds_batch_new (1);
    ds_eos_t eos;
    struct { size_t at; uint8_t value; int batch_rc, eos_rc; } cases [] = {
        { 2, 'X', DS_ERR_MAGIC, DS_ERR_MAGIC },
        { 4, 'k', DS_ERR_MAGIC, DS_ERR_MAGIC },
        { 1, 0xa4, DS_ERR_MAGIC, DS_ERR_MAGIC },
        { 0, 0x00, DS_ERR_MAGIC, DS_ERR_MAGIC },          //  not an array
        { 0, 0x8c, DS_ERR_MAGIC, DS_ERR_MAGIC },          //  a map
        { 0, 0x92, DS_ERR_MALFORMED, DS_ERR_MALFORMED },  //  array of 2: no room for the header
        { 0, 0x9d, DS_ERR_MALFORMED, DS_ERR_TYPE },       //  13 fields
        { 5, 2, DS_ERR_VERSION, DS_ERR_VERSION },
        { 5, 0, DS_ERR_VERSION, DS_ERR_VERSION },
        { 5, 0xff, DS_ERR_VERSION, DS_ERR_VERSION },      //  -1
        { 5, 0xc0, DS_ERR_MALFORMED, DS_ERR_MALFORMED },  //  nil
        { 6, 0, DS_ERR_TYPE, DS_ERR_TYPE },
        { 6, DS_MSG_TYPE_LAST + 1, DS_ERR_TYPE, DS_ERR_TYPE },
        { 6, DS_MSG_EOS, DS_ERR_TYPE, DS_ERR_MALFORMED }, //  an "EOS" with 12 fields
        { 6, DS_MSG_HELLO, DS_ERR_TYPE, DS_ERR_TYPE },
        { 6, DS_MSG_LABELLED, DS_ERR_MALFORMED, DS_ERR_TYPE },  //  12 fields
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        memcpy (copy, buf.data, buf.size);
        copy [cases [i].at] = cases [i].value;
        assert_int_equal (ds_batch_decode (copy, buf.size, into), cases [i].batch_rc);
        assert_int_equal (ds_eos_decode (copy, buf.size, &eos), cases [i].eos_rc);
    }
    //  a batch is not an EOS, an EOS not a batch
    assert_int_equal (ds_eos_decode ((const uint8_t *) buf.data, buf.size, &eos), DS_ERR_TYPE);
    ds_eos_t e = { 0 };
    assert_int_equal (ds_eos_encode (&e, &buf), DS_OK);
    assert_int_equal (ds_batch_decode ((const uint8_t *) buf.data, buf.size, into), DS_ERR_TYPE);
    //  frames above the ceiling are refused before they are read
    size_t huge = (size_t) DS_FRAME_MAX + 1;
    uint8_t *big = calloc (1, huge);
    assert_non_null (big);
    memcpy (big, buf.data, buf.size);
    assert_int_equal (ds_batch_decode (big, huge, into), DS_ERR_TOO_BIG);
    assert_int_equal (ds_eos_decode (big, huge, &eos), DS_ERR_TOO_BIG);
    assert_int_equal (ds_mp_validate (big, huge, 8), DS_ERR_TOO_BIG);
    ds_query_t q;
    char err [128];
    assert_int_equal (ds_query_decode (big, huge, &q, err, sizeof err), DS_ERR_TOO_BIG);
    free (big);
    free (copy);
    ds_batch_destroy (&into);
    ds_batch_destroy (&batch);
    msgpack_sbuffer_destroy (&buf);
}

static void
test_mpcheck (void **state)
{
    (void) state;
    //  msgpack-c issue #1013: 5 bytes must not make the unpacker allocate 64 GB
    const uint8_t huge_array [] = { 0xdd, 0xff, 0xff, 0xff, 0xff };
    const uint8_t huge_map [] = { 0xdf, 0xff, 0xff, 0xff, 0xff, 0x01, 0x01 };
    const uint8_t huge_str [] = { 0xdb, 0xff, 0xff, 0xff, 0xf0, 'a' };
    const uint8_t huge_ext [] = { 0xc9, 0x7f, 0xff, 0xff, 0xff, 0x01 };
    const uint8_t nested_huge [] = { 0x92, 0x01, 0xdd, 0x00, 0x10, 0x00, 0x00, 0x01 };
    const uint8_t unused [] = { 0xc1 };
    const uint8_t two [] = { 0x01, 0x02 };
    const uint8_t empty [1] = { 0 };
    msgpack_zone zone;
    msgpack_zone_init (&zone, 1024);
    msgpack_object obj;
    struct { const uint8_t *data; size_t size; int rc; } cases [] = {
        { huge_array, sizeof huge_array, DS_ERR_MALFORMED },
        { huge_map, sizeof huge_map, DS_ERR_MALFORMED },
        { huge_str, sizeof huge_str, DS_ERR_MALFORMED },
        { huge_ext, sizeof huge_ext, DS_ERR_MALFORMED },
        { nested_huge, sizeof nested_huge, DS_ERR_MALFORMED },
        { unused, sizeof unused, DS_ERR_MALFORMED },
        { two, sizeof two, DS_ERR_MALFORMED },          //  two objects
        { empty, 0, DS_ERR_MALFORMED },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        assert_int_equal (ds_mp_validate (cases [i].data, cases [i].size, 8), cases [i].rc);
        assert_int_equal (ds_mp_unpack (cases [i].data, cases [i].size, &zone, &obj), cases [i].rc);
    }
    //  nesting: depth counts containers
    uint8_t deep [100];
    memset (deep, 0x91, sizeof deep);
    deep [99] = 0x01;                               //  99 nested arrays around 1
    assert_int_equal (ds_mp_validate (deep, sizeof deep, 16), DS_ERR_TOO_BIG);
    assert_int_equal (ds_mp_validate (deep + 99 - 16, 17, 16), DS_OK);
    assert_int_equal (ds_mp_validate (deep + 99 - 17, 18, 16), DS_ERR_TOO_BIG);
    assert_int_equal (ds_mp_unpack (deep, sizeof deep, &zone, &obj), DS_ERR_TOO_BIG);
    assert_int_equal (ds_mp_validate (deep + 99 - 40, 41, 1000), DS_ERR_TOO_BIG);  //  capped
    assert_int_equal (ds_mp_unpack (deep + 99 - 3, 4, &zone, &obj), DS_OK);
    assert_int_equal (obj.type, MSGPACK_OBJECT_ARRAY);
    assert_int_equal (obj.via.array.ptr [0].via.array.ptr [0].via.array.ptr [0].via.u64, 1);

    //  every kind of object validates and unpacks
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buf, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 2);
    msgpack_pack_str_with_body (&pk, "list", 4);
    msgpack_pack_array (&pk, 14);
    msgpack_pack_nil (&pk);
    msgpack_pack_true (&pk);
    msgpack_pack_false (&pk);
    msgpack_pack_int64 (&pk, INT64_MIN);
    msgpack_pack_uint64 (&pk, UINT64_MAX);
    msgpack_pack_int8 (&pk, -5);
    msgpack_pack_float (&pk, 1.5f);
    msgpack_pack_double (&pk, 0.1);
    msgpack_pack_bin_with_body (&pk, "\x00\x01", 2);
    msgpack_pack_ext_with_body (&pk, "abcd", 4, 7);
    msgpack_pack_ext_with_body (&pk, "abc", 3, 7);
    char text [300];
    memset (text, 'z', sizeof text);
    msgpack_pack_str_with_body (&pk, text, sizeof text);
    msgpack_pack_bin_with_body (&pk, text, sizeof text);
    msgpack_pack_ext_with_body (&pk, text, sizeof text, 1);
    msgpack_pack_str_with_body (&pk, "n", 1);
    msgpack_pack_uint16 (&pk, 300);
    assert_int_equal (ds_mp_validate ((const uint8_t *) buf.data, buf.size, 2), DS_OK);
    assert_int_equal (ds_mp_validate ((const uint8_t *) buf.data, buf.size, 1), DS_ERR_TOO_BIG);
    assert_int_equal (ds_mp_unpack ((const uint8_t *) buf.data, buf.size, &zone, &obj), DS_OK);
    const msgpack_object *list = ds_mp_get (&obj, "list");
    assert_non_null (list);
    assert_int_equal (list->via.array.size, 14);
    assert_int_equal (list->via.array.ptr [3].via.i64, INT64_MIN);
    assert_int_equal (ds_mp_get (&obj, "n")->via.u64, 300);

    //  the cursor reads each kind, and refuses the wrong one
    ds_mpread_t r;
    ds_mpread_init (&r, buf.data, buf.size);
    uint32_t count;
    assert_int_equal (ds_mpread_peek (&r), DS_MP_MAP);
    assert_int_equal (ds_mpread_array (&r, &count), DS_ERR_MALFORMED);
    assert_int_equal (ds_mpread_map (&r, &count), DS_OK);
    assert_int_equal (count, 2);
    const char *str;
    uint32_t len;
    assert_int_equal (ds_mpread_str (&r, &str, &len), DS_OK);
    assert_true (ds_mpread_str_eq (str, len, "list"));
    assert_int_equal (ds_mpread_array (&r, &count), DS_OK);
    assert_int_equal (ds_mpread_nil (&r), DS_OK);
    bool b;
    assert_int_equal (ds_mpread_nil (&r), DS_ERR_MALFORMED);
    assert_int_equal (ds_mpread_bool (&r, &b), DS_OK);
    assert_true (b);
    assert_int_equal (ds_mpread_bool (&r, &b), DS_OK);
    assert_false (b);
    int64_t i64;
    uint64_t u64;
    assert_int_equal (ds_mpread_uint (&r, &u64), DS_ERR_MALFORMED);   //  negative
    assert_int_equal (ds_mpread_int (&r, &i64), DS_OK);
    assert_int_equal (i64, INT64_MIN);
    assert_int_equal (ds_mpread_int (&r, &i64), DS_ERR_MALFORMED);    //  > INT64_MAX
    assert_int_equal (ds_mpread_uint (&r, &u64), DS_OK);
    assert_true (u64 == UINT64_MAX);
    assert_int_equal (ds_mpread_peek (&r), DS_MP_INT);
    assert_int_equal (ds_mpread_int (&r, &i64), DS_OK);
    assert_int_equal (i64, -5);
    double d;
    assert_int_equal (ds_mpread_float (&r, &d), DS_OK);
    assert_true (d == 1.5);
    assert_int_equal (ds_mpread_float (&r, &d), DS_OK);
    assert_true (d == 0.1);
    const uint8_t *bin;
    assert_int_equal (ds_mpread_str (&r, &str, &len), DS_ERR_MALFORMED);
    assert_int_equal (ds_mpread_bin (&r, &bin, &len), DS_OK);
    assert_int_equal (len, 2);
    assert_int_equal (ds_mpread_peek (&r), DS_MP_EXT);
    assert_int_equal (ds_mpread_skip (&r, 0), DS_OK);
    assert_int_equal (ds_mpread_skip (&r, 0), DS_OK);
    assert_int_equal (ds_mpread_str (&r, &str, &len), DS_OK);
    assert_int_equal (len, sizeof text);
    assert_int_equal (ds_mpread_skip (&r, 0), DS_OK);
    assert_int_equal (ds_mpread_skip (&r, 0), DS_OK);
    assert_int_equal (ds_mpread_skip (&r, 0), DS_OK);
    assert_int_equal (ds_mpread_uint (&r, &u64), DS_OK);
    assert_int_equal (u64, 300);
    assert_int_equal (ds_mpread_left (&r), 0);
    assert_int_equal (ds_mpread_peek (&r), DS_MP_NONE);
    //  a signed encoding of a non-negative value is a uint
    const uint8_t signed_pos [] = { 0xd1, 0x01, 0x00 };
    ds_mpread_init (&r, signed_pos, sizeof signed_pos);
    assert_int_equal (ds_mpread_peek (&r), DS_MP_UINT);
    assert_int_equal (ds_mpread_uint (&r, &u64), DS_OK);
    assert_int_equal (u64, 256);
    msgpack_sbuffer_destroy (&buf);
    msgpack_zone_destroy (&zone);
}

//  Random bytes, and valid messages with random damage: every decoder must
//  return one of its results without crashing or reading out of bounds.
static bool
s_known (int rc)
{
    return rc <= DS_OK && rc >= DS_ERR_NOMEM;
}

static void
s_feed (const uint8_t *data, size_t size, ds_batch_t *into, msgpack_zone *zone, bool random)
{
    ds_eos_t eos;
    ds_query_t q;
    char err [128];
    msgpack_object obj;
    int rb = ds_batch_decode (data, size, into);
    int re = ds_eos_decode (data, size, &eos);
    int rq = ds_query_decode (data, size, &q, err, sizeof err);
    int rv = ds_mp_validate (data, size, 8);
    assert_true (s_known (rb) && s_known (re) && s_known (rq) && s_known (rv));
    if (random) {
        //  pure noise is never a message
        assert_int_not_equal (rb, DS_OK);
        assert_int_not_equal (re, DS_OK);
    }
    if (rb == DS_OK)
        assert_true (into->count <= DS_BATCH_MAX_CAPACITY);
    if (rq != DS_OK)
        assert_true (strlen (err) > 0);
    if (rv == DS_OK) {
        int ru = ds_mp_unpack (data, size, zone, &obj);
        assert_true (ru == DS_OK || ru == DS_ERR_TOO_BIG);     //  depth 8 vs 24
    }
}

static void
test_random_inputs (void **state)
{
    (void) state;
    fx_rng = 42;
    ds_batch_t *into = ds_batch_new (1);
    msgpack_zone zone;
    msgpack_zone_init (&zone, 4096);
    uint8_t *data = malloc (4096);

    //  50k inputs of pure noise
    for (int i = 0; i < 50000; i++) {
        size_t size = fx_rand () % 300;
        for (size_t b = 0; b < size; b++)
            data [b] = (uint8_t) fx_rand ();
        uint8_t *copy = malloc (size ? size : 1);
        memcpy (copy, data, size);
        s_feed (copy, size, into, &zone, true);
        free (copy);
        if (i % 1000 == 0)
            msgpack_zone_clear (&zone);
    }
    //  50k damaged valid messages: 1-4 random bytes replaced, maybe cut
    msgpack_sbuffer seeds [6];
    for (int s = 0; s < 6; s++)
        msgpack_sbuffer_init (&seeds [s]);
    ds_batch_t *batch = fx_make_batch (5, true);
    assert_int_equal (ds_batch_encode (batch, &seeds [0]), DS_OK);
    ds_batch_destroy (&batch);
    batch = fx_make_batch (4, false);
    assert_int_equal (ds_batch_encode (batch, &seeds [1]), DS_OK);
    ds_batch_destroy (&batch);
    ds_eos_t eos = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
    assert_int_equal (ds_eos_encode (&eos, &seeds [2]), DS_OK);
    ds_query_t q;
    ds_query_init (&q);
    strcpy (q.name, "pattern");
    strcpy (q.first_day, "2021-03-02");
    q.bin_s = 10;
    assert_int_equal (ds_query_encode (&q, &seeds [3]), DS_OK);
    batch = fx_make_real_batch (6, true);
    assert_int_equal (ds_batch_encode_packed (batch, &seeds [4]), DS_OK);
    ds_batch_destroy (&batch);
    batch = fx_make_batch (5, false);
    assert_int_equal (ds_batch_encode_packed (batch, &seeds [5]), DS_OK);
    ds_batch_destroy (&batch);
    int accepted = 0;
    for (int i = 0; i < 60000; i++) {
        const msgpack_sbuffer *seed = &seeds [i % 6];
        assert_true (seed->size <= 4096);
        size_t size = seed->size;
        memcpy (data, seed->data, size);
        int flips = 1 + (int) (fx_rand () % 4);
        for (int f = 0; f < flips; f++)
            data [fx_rand () % size] = (uint8_t) fx_rand ();
        if (fx_rand () % 4 == 0)
            size = fx_rand () % size;
        uint8_t *copy = malloc (size ? size : 1);
        memcpy (copy, data, size);
        int rb = ds_batch_decode (copy, size, into);
        accepted += rb == DS_OK;
        s_feed (copy, size, into, &zone, false);
        free (copy);
        if (i % 1000 == 0)
            msgpack_zone_clear (&zone);
    }
    //  damage inside the columns can still be a valid batch; most is not
    assert_true (accepted < 60000 / 2);
    for (int s = 0; s < 6; s++)
        msgpack_sbuffer_destroy (&seeds [s]);
    free (data);
    msgpack_zone_destroy (&zone);
    ds_batch_destroy (&into);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_topic),
        cmocka_unit_test (test_eos_roundtrip),
        cmocka_unit_test (test_truncated),
        cmocka_unit_test (test_header_errors),
        cmocka_unit_test (test_mpcheck),
        cmocka_unit_test (test_random_inputs),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
