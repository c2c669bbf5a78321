/*  libs: ds_proto ds_common */
/*  test_proto_query.c - queries on the wire: requests and replies
    round-trip, and every malformed request (unknown or duplicate args,
    wrong types, values out of range, fields too long, bad versions,
    trailing bytes, huge declared sizes) is refused with a message. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "ds_proto.h"

static void
test_query_roundtrip (void **state)
{
    (void) state;
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    ds_query_t q, back;
    char err [256];

    //  defaults: an empty args map
    ds_query_init (&q);
    strcpy (q.name, "overview");
    assert_int_equal (ds_query_encode (&q, &buf), DS_OK);
    assert_int_equal (ds_query_decode ((const uint8_t *) buf.data, buf.size, &back, err, sizeof err), DS_OK);
    assert_memory_equal (&q, &back, sizeof q);
    msgpack_zone zone;
    msgpack_zone_init (&zone, 1024);
    msgpack_object obj;
    assert_int_equal (ds_mp_unpack ((const uint8_t *) buf.data, buf.size, &zone, &obj), DS_OK);
    const msgpack_object *args = ds_mp_get (&obj, "args");
    assert_non_null (args);
    assert_int_equal (args->type, MSGPACK_OBJECT_MAP);
    assert_int_equal (args->via.map.size, 0);
    const msgpack_object *v = ds_mp_get (&obj, "v");
    assert_non_null (v);
    assert_int_equal (v->via.u64, 1);
    assert_null (ds_mp_get (&obj, "nothere"));
    assert_null (ds_mp_get (v, "v"));           //  not a map

    //  every field set
    ds_query_init (&q);
    strcpy (q.name, "pattern");
    strcpy (q.first_day, "2021-03-02");
    strcpy (q.last_day, "2021-03-31");
    q.min_packets = 0;
    memset (q.class_name, 'x', DS_NAME_MAX - 1);
    q.from_us = INT64_MIN + 1;
    q.to_us = -5;
    q.bin_s = 3600;
    strcpy (q.ip, "2001:db8::1");
    q.force = true;
    assert_int_equal (ds_query_encode (&q, &buf), DS_OK);
    assert_int_equal (ds_query_decode ((const uint8_t *) buf.data, buf.size, &back, err, sizeof err), DS_OK);
    assert_memory_equal (&q, &back, sizeof q);
    assert_int_equal (ds_mp_unpack ((const uint8_t *) buf.data, buf.size, &zone, &obj), DS_OK);
    args = ds_mp_get (&obj, "args");
    assert_int_equal (args->via.map.size, 9);
    assert_int_equal (ds_mp_get (args, "force")->type, MSGPACK_OBJECT_BOOLEAN);
    const msgpack_object *bin = ds_mp_get (args, "bin_s");
    assert_non_null (bin);
    assert_int_equal (bin->via.u64, 3600);

    //  replies
    msgpack_sbuffer_clear (&buf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buf, msgpack_sbuffer_write);
    ds_reply_ok_begin (&pk);
    msgpack_pack_map (&pk, 1);
    msgpack_pack_str_with_body (&pk, "daily", 5);
    msgpack_pack_array (&pk, 0);
    assert_int_equal (ds_mp_unpack ((const uint8_t *) buf.data, buf.size, &zone, &obj), DS_OK);
    const msgpack_object *result = NULL;
    assert_int_equal (ds_reply_parse (&obj, &result, err, sizeof err), DS_OK);
    assert_non_null (ds_mp_get (result, "daily"));
    assert_int_equal (ds_reply_error (&buf, "no such query \"x\""), DS_OK);
    assert_int_equal (ds_mp_unpack ((const uint8_t *) buf.data, buf.size, &zone, &obj), DS_OK);
    assert_int_equal (ds_reply_parse (&obj, &result, err, sizeof err), -1);
    assert_string_equal (err, "no such query \"x\"");
    const msgpack_object *ok = ds_mp_get (&obj, "ok");
    assert_int_equal (ok->type, MSGPACK_OBJECT_BOOLEAN);
    assert_false (ok->via.boolean);

    msgpack_zone_destroy (&zone);
    msgpack_sbuffer_destroy (&buf);
}

//  Decodes a request given as hex digits, so cases read like the wire.
static int
s_query_case (const char *hex, char *err, size_t err_size)
{
    uint8_t data [256];
    size_t n = 0;
    for (const char *p = hex; p [0] && p [1]; ) {
        if (*p == ' ') {
            p++;
            continue;
        }
        unsigned v;
        sscanf (p, "%2x", &v);
        data [n++] = (uint8_t) v;
        p += 2;
    }
    ds_query_t q;
    err [0] = 0;
    return ds_query_decode (data, n, &q, err, err_size);
}

static int
s_query_packed (msgpack_sbuffer *buf, char *err, size_t err_size)
{
    ds_query_t q;
    err [0] = 0;
    return ds_query_decode ((const uint8_t *) buf->data, buf->size, &q, err, err_size);
}

//  Starts {"v":1,"q":"overview","args":{ n args
static void
s_query_begin (msgpack_packer *pk, msgpack_sbuffer *buf, uint32_t n_args)
{
    msgpack_sbuffer_clear (buf);
    msgpack_pack_map (pk, 3);
    msgpack_pack_str_with_body (pk, "v", 1);
    msgpack_pack_int (pk, 1);
    msgpack_pack_str_with_body (pk, "q", 1);
    msgpack_pack_str_with_body (pk, "overview", 8);
    msgpack_pack_str_with_body (pk, "args", 4);
    msgpack_pack_map (pk, n_args);
}

static void
test_query_errors (void **state)
{
    (void) state;
    char err [256];
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buf, msgpack_sbuffer_write);

    //  unknown arg, named
    s_query_begin (&pk, &buf, 1);
    msgpack_pack_str_with_body (&pk, "bogus_key", 9);
    msgpack_pack_int (&pk, 1);
    assert_int_equal (s_query_packed (&buf, err, sizeof err), DS_ERR_MALFORMED);
    assert_non_null (strstr (err, "bogus_key"));
    //  wrong types, named
    const char *int_keys [] = { "min_packets", "from_us", "to_us", "bin_s" };
    for (size_t i = 0; i < 4; i++) {
        s_query_begin (&pk, &buf, 1);
        msgpack_pack_str_with_body (&pk, int_keys [i], strlen (int_keys [i]));
        msgpack_pack_str_with_body (&pk, "10", 2);
        assert_int_equal (s_query_packed (&buf, err, sizeof err), DS_ERR_MALFORMED);
        assert_non_null (strstr (err, int_keys [i]));
        s_query_begin (&pk, &buf, 1);
        msgpack_pack_str_with_body (&pk, int_keys [i], strlen (int_keys [i]));
        msgpack_pack_double (&pk, 10.0);
        assert_int_equal (s_query_packed (&buf, err, sizeof err), DS_ERR_MALFORMED);
        assert_non_null (strstr (err, int_keys [i]));
    }
    //  force is a boolean, not a number or a string
    s_query_begin (&pk, &buf, 1);
    msgpack_pack_str_with_body (&pk, "force", 5);
    msgpack_pack_int (&pk, 1);
    assert_int_equal (s_query_packed (&buf, err, sizeof err), DS_ERR_MALFORMED);
    assert_non_null (strstr (err, "force"));
    s_query_begin (&pk, &buf, 1);
    msgpack_pack_str_with_body (&pk, "force", 5);
    msgpack_pack_false (&pk);
    assert_int_equal (s_query_packed (&buf, err, sizeof err), DS_OK);
    const char *str_keys [] = { "first_day", "last_day", "class", "ip" };
    size_t str_sizes [] = { 11, 11, DS_NAME_MAX, 64 };
    for (size_t i = 0; i < 4; i++) {
        s_query_begin (&pk, &buf, 1);
        msgpack_pack_str_with_body (&pk, str_keys [i], strlen (str_keys [i]));
        msgpack_pack_int (&pk, 5);
        assert_int_equal (s_query_packed (&buf, err, sizeof err), DS_ERR_MALFORMED);
        assert_non_null (strstr (err, str_keys [i]));
        //  one byte longer than the field holds
        char text [128];
        memset (text, '7', sizeof text);
        s_query_begin (&pk, &buf, 1);
        msgpack_pack_str_with_body (&pk, str_keys [i], strlen (str_keys [i]));
        msgpack_pack_str_with_body (&pk, text, str_sizes [i]);
        assert_int_equal (s_query_packed (&buf, err, sizeof err), DS_ERR_MALFORMED);
        assert_non_null (strstr (err, str_keys [i]));
    }
    //  values out of range or shape
    struct { const char *key; int64_t value; } bad_ints [] = {
        { "min_packets", -1 }, { "bin_s", 0 }, { "bin_s", -60 }
    };
    for (size_t i = 0; i < 3; i++) {
        s_query_begin (&pk, &buf, 1);
        msgpack_pack_str_with_body (&pk, bad_ints [i].key, strlen (bad_ints [i].key));
        msgpack_pack_int64 (&pk, bad_ints [i].value);
        assert_int_equal (s_query_packed (&buf, err, sizeof err), DS_ERR_MALFORMED);
        assert_non_null (strstr (err, bad_ints [i].key));
    }
    const char *bad_days [] = { "2021-3-02", "2021/03/02", "20210302xx", "yesterday" };
    for (size_t i = 0; i < 4; i++) {
        s_query_begin (&pk, &buf, 1);
        msgpack_pack_str_with_body (&pk, "last_day", 8);
        msgpack_pack_str_with_body (&pk, bad_days [i], strlen (bad_days [i]));
        assert_int_equal (s_query_packed (&buf, err, sizeof err), DS_ERR_MALFORMED);
        assert_non_null (strstr (err, "last_day"));
    }
    //  duplicate arg
    s_query_begin (&pk, &buf, 2);
    msgpack_pack_str_with_body (&pk, "bin_s", 5);
    msgpack_pack_int (&pk, 5);
    msgpack_pack_str_with_body (&pk, "bin_s", 5);
    msgpack_pack_int (&pk, 6);
    assert_int_equal (s_query_packed (&buf, err, sizeof err), DS_ERR_MALFORMED);
    assert_non_null (strstr (err, "bin_s"));
    //  large positive ints in any encoding are fine; uint64 above INT64_MAX is not
    s_query_begin (&pk, &buf, 1);
    msgpack_pack_str_with_body (&pk, "to_us", 5);
    msgpack_pack_uint64 (&pk, UINT64_MAX);
    assert_int_equal (s_query_packed (&buf, err, sizeof err), DS_ERR_MALFORMED);
    assert_non_null (strstr (err, "to_us"));

    //  whole-request errors, written as raw bytes
    struct { const char *hex; int rc; const char *needle; } raw [] = {
        //  {"v":1,"q":"ports"}
        { "82 a1 76 01 a1 71 a5 706f727473", DS_OK, "" },
        //  {"v":2,"q":"ports"}
        { "82 a1 76 02 a1 71 a5 706f727473", DS_ERR_VERSION, "version" },
        //  {"q":"ports"}
        { "81 a1 71 a5 706f727473", DS_ERR_MALFORMED, "\"v\"" },
        //  {"v":1}
        { "81 a1 76 01", DS_ERR_MALFORMED, "\"q\"" },
        //  {"v":1,"q":""}
        { "82 a1 76 01 a1 71 a0", DS_ERR_MALFORMED, "\"q\"" },
        //  {"v":1,"q":"ports","x":1}
        { "83 a1 76 01 a1 71 a5 706f727473 a1 78 01", DS_ERR_MALFORMED, "\"x\"" },
        //  {"v":1,"q":"ports","args":[]}
        { "83 a1 76 01 a1 71 a5 706f727473 a4 61726773 90", DS_ERR_MALFORMED, "args" },
        //  {"v":1,"q":"ports","args":{1:1}}
        { "83 a1 76 01 a1 71 a5 706f727473 a4 61726773 81 01 01", DS_ERR_MALFORMED, "args" },
        //  {"v":1,"v":1,"q":"ports"}
        { "83 a1 76 01 a1 76 01 a1 71 a5 706f727473", DS_ERR_MALFORMED, "duplicate" },
        //  {"v":"1","q":"ports"}
        { "82 a1 76 a1 31 a1 71 a5 706f727473", DS_ERR_MALFORMED, "\"v\"" },
        //  {"v":1,"q":"ports"} + trailing nil
        { "82 a1 76 01 a1 71 a5 706f727473 c0", DS_ERR_MALFORMED, "trailing" },
        //  ["v",1]
        { "92 a1 76 01", DS_ERR_MALFORMED, "map" },
        //  a map declaring 2^32-1 entries
        { "df ffffffff a1 76 01", DS_ERR_MALFORMED, "map" },
        //  {"v":1,"q":"a\0b"}
        { "82 a1 76 01 a1 71 a3 610062", DS_ERR_MALFORMED, "NUL" },
    };
    for (size_t i = 0; i < sizeof raw / sizeof *raw; i++) {
        int rc = s_query_case (raw [i].hex, err, sizeof err);
        if (rc != raw [i].rc || !strstr (err, raw [i].needle))
            fail_msg ("case %zu: got %d \"%s\", expected %d and \"%s\"", i, rc, err,
                      raw [i].rc, raw [i].needle);
    }
    msgpack_sbuffer_destroy (&buf);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_query_roundtrip),
        cmocka_unit_test (test_query_errors),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
