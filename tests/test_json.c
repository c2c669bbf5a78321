/*  libs: ds_proto ds_common */
/*  test_json.c - msgpack objects as JSON: values Python reads back exactly. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "json.h"
#include "ds_proto.h"

//  JSON text of what the packer callback wrote.
typedef void (s_pack_fn) (msgpack_packer *pk);

static char *
s_json (s_pack_fn *fn)
{
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buf, msgpack_sbuffer_write);
    fn (&pk);
    msgpack_zone zone;
    msgpack_zone_init (&zone, 1024);
    msgpack_object obj;
    assert_int_equal (ds_mp_unpack ((const uint8_t *) buf.data, buf.size, &zone, &obj), DS_OK);
    char *text = ds_json_string (&obj);
    msgpack_zone_destroy (&zone);
    msgpack_sbuffer_destroy (&buf);
    return text;
}

static void
s_pack_scalars (msgpack_packer *pk)
{
    msgpack_pack_array (pk, 8);
    msgpack_pack_nil (pk);
    msgpack_pack_true (pk);
    msgpack_pack_false (pk);
    msgpack_pack_int64 (pk, INT64_MIN);
    msgpack_pack_uint64 (pk, UINT64_MAX);
    msgpack_pack_int (pk, 0);
    msgpack_pack_int (pk, -1);
    msgpack_pack_array (pk, 0);
}

static void
s_pack_nested (msgpack_packer *pk)
{
    msgpack_pack_map (pk, 3);
    msgpack_pack_str_with_body (pk, "schema", 6);
    msgpack_pack_str_with_body (pk, "darkscope.overview/1", 20);
    msgpack_pack_str_with_body (pk, "fraction", 8);
    msgpack_pack_array (pk, 2);
    msgpack_pack_array (pk, 2);
    msgpack_pack_double (pk, 0.5);
    msgpack_pack_double (pk, 1.0);
    msgpack_pack_array (pk, 1);
    msgpack_pack_float (pk, 0.25f);
    msgpack_pack_str_with_body (pk, "empty", 5);
    msgpack_pack_map (pk, 0);
}

static void
s_pack_strings (msgpack_packer *pk)
{
    static const char text [] = "a\"b\\c\n\x01\x1f/\x7f\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
    static const char bad [] = "x\xff" "y\xc3" "z\xe2\x82" "\xed\xa0\x80" "\xc0\xaf";
    msgpack_pack_array (pk, 3);
    msgpack_pack_str_with_body (pk, text, sizeof text - 1);
    msgpack_pack_str_with_body (pk, bad, sizeof bad - 1);
    msgpack_pack_str_with_body (pk, "nul\0end", 7);
}

static void
s_pack_int_key (msgpack_packer *pk)
{
    msgpack_pack_map (pk, 1);
    msgpack_pack_int (pk, 1);
    msgpack_pack_int (pk, 2);
}

static void
s_pack_bin (msgpack_packer *pk)
{
    msgpack_pack_array (pk, 1);
    msgpack_pack_bin_with_body (pk, "ab", 2);
}

static void
s_pack_ext (msgpack_packer *pk)
{
    msgpack_pack_ext_with_body (pk, "ab", 2, 3);
}

static void
test_values (void **state)
{
    (void) state;
    char *text = s_json (s_pack_scalars);
    assert_string_equal (text, "[null,true,false,-9223372036854775808,18446744073709551615,0,-1,[]]");
    free (text);
    text = s_json (s_pack_nested);
    assert_string_equal (text, "{\"schema\":\"darkscope.overview/1\",\"fraction\":[[0.5,1.0],[0.25]],\"empty\":{}}");
    free (text);
    text = s_json (s_pack_strings);
    assert_string_equal (text,
        "[\"a\\\"b\\\\c\\u000a\\u0001\\u001f/\x7f\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\","
        "\"x\\ufffdy\\ufffdz\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\","
        "\"nul\\u0000end\"]");
    free (text);
    //  no JSON form: non-string keys, bin, ext
    assert_null (s_json (s_pack_int_key));
    assert_null (s_json (s_pack_bin));
    assert_null (s_json (s_pack_ext));
}

static void
test_doubles (void **state)
{
    (void) state;
    struct { double value; const char *text; } cases [] = {
        { 0.5, "0.5" },
        { 1.0, "1.0" },
        { 0.0, "0.0" },
        { -0.0, "-0.0" },
        { 1e-05, "1e-05" },
        { 0.1, "0.1" },
        { 0.1 + 0.2, "0.30000000000000004" },
        { 100.0 * 1 / 3, "33.333333333333336" },
        { 100.0 * 2 / 3, "66.66666666666667" },
        { 2.0 / 3, "0.6666666666666666" },
        { 123456789.0, "123456789.0" },
        { 1e16, "1e+16" },
        { 5e-324, "4.94065645841247e-324" },     //  15 digits at least
        { 1.7976931348623157e308, "1.7976931348623157e+308" },
        { NAN, "null" },
        { INFINITY, "null" },
        { -INFINITY, "null" },
    };
    char buf [64];
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ds_json_double (buf, sizeof buf, cases [i].value);
        assert_string_equal (buf, cases [i].text);
    }
    //  every finite double reads back exactly and stays a float
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double value;
        uint64_t bits = i % 2 ? x : (x & 0x800fffffffffffffull) | ((uint64_t) (1023 + i % 64 - 32) << 52);
        memcpy (&value, &bits, sizeof value);
        ds_json_double (buf, sizeof buf, value);
        if (!isfinite (value)) {
            assert_string_equal (buf, "null");
            continue;
        }
        char *end;
        double back = strtod (buf, &end);
        assert_true (*end == 0);
        assert_memory_equal (&back, &value, sizeof value);
        assert_non_null (strpbrk (buf, ".e"));
    }
}

static void
test_write_file (void **state)
{
    (void) state;
    FILE *out = tmpfile ();
    assert_non_null (out);
    msgpack_object obj = { .type = MSGPACK_OBJECT_FLOAT64, .via.f64 = 0.75 };
    assert_int_equal (ds_json_write (out, &obj), 0);
    rewind (out);
    char line [32] = "";
    assert_non_null (fgets (line, sizeof line, out));
    assert_string_equal (line, "0.75");
    fclose (out);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_values),
        cmocka_unit_test (test_doubles),
        cmocka_unit_test (test_write_file),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
