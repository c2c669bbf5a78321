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

//  JSON text of size msgpack bytes through ds_json_write_mp, or NULL if
//  it refused them.
static char *
s_json_mp (const void *data, size_t size)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream (&text, &len);
    assert_non_null (out);
    int rc = ds_json_write_mp (out, data, size);
    assert_int_equal (fclose (out), 0);
    if (rc) {
        free (text);
        return NULL;
    }
    return text;
}

//  What fn packs, written from its bytes and from its unpacked object:
//  the same text, or both refused.  Every proper prefix, and the bytes
//  with one more behind them, are refused.
static void
s_same (s_pack_fn *fn)
{
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buf, msgpack_sbuffer_write);
    fn (&pk);
    char *from_object = s_json (fn);
    char *from_bytes = s_json_mp (buf.data, buf.size);
    if (from_object) {
        assert_non_null (from_bytes);
        assert_string_equal (from_bytes, from_object);
    }
    else
        assert_null (from_bytes);
    for (size_t cut = 0; cut < buf.size; cut++) {
        char *text = s_json_mp (buf.data, cut);
        assert_null (text);
    }
    msgpack_sbuffer_write (&buf, "\xc0", 1);
    assert_null (s_json_mp (buf.data, buf.size));
    free (from_object);
    free (from_bytes);
    msgpack_sbuffer_destroy (&buf);
}

static void
s_pack_encodings (msgpack_packer *pk)
{
    //  every integer width, signed encodings of non-negative values
    //  (unpacked as positive integers), float32, long strings and
    //  containers with 16- and 32-bit counts
    static const char key [300] = "k";
    msgpack_pack_map (pk, 3);
    msgpack_pack_str_with_body (pk, "ints", 4);
    msgpack_pack_array (pk, 20);
    const int64_t values [] = { 0, 1, 127, 128, 255, 256, 65535, 65536, 4294967295LL, 4294967296LL,
                                -1, -32, -33, -128, -129, -32768, -32769, INT64_MIN };
    for (size_t i = 0; i < sizeof values / sizeof *values; i++)
        msgpack_pack_int64 (pk, values [i]);
    msgpack_pack_uint64 (pk, UINT64_MAX);
    msgpack_pack_float (pk, 0.1f);
    msgpack_pack_str_with_body (pk, key, sizeof key);
    msgpack_pack_array (pk, 70000);
    for (int i = 0; i < 70000; i++)
        msgpack_pack_int (pk, i % 3 - 1);
    msgpack_pack_str_with_body (pk, "m", 1);
    msgpack_pack_map (pk, 17);
    for (int i = 0; i < 17; i++) {
        char k [8];
        snprintf (k, sizeof k, "%d", i);
        msgpack_pack_str_with_body (pk, k, strlen (k));
        msgpack_pack_double (pk, i / 3.0);
    }
}

static void
test_from_bytes (void **state)
{
    (void) state;
    s_pack_fn *packers [] = { s_pack_scalars, s_pack_nested, s_pack_strings, s_pack_int_key,
                              s_pack_bin, s_pack_ext, s_pack_encodings };
    for (size_t i = 0; i < sizeof packers / sizeof *packers; i++)
        s_same (packers [i]);
    //  signed encodings by hand: int8 5, int16 -2, int64 7
    const uint8_t ints [] = { 0x93, 0xd0, 0x05, 0xd1, 0xff, 0xfe, 0xd3, 0, 0, 0, 0, 0, 0, 0, 7 };
    char *text = s_json_mp (ints, sizeof ints);
    assert_string_equal (text, "[5,-2,7]");
    free (text);
    //  counts the bytes cannot hold, refused before the walk
    const uint8_t huge_array [] = { 0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0 };
    const uint8_t huge_map [] = { 0xdf, 0x7f, 0xff, 0xff, 0xff, 0xa1, 'a', 0xc0 };
    const uint8_t huge_str [] = { 0xdb, 0xff, 0xff, 0xff, 0xff, 'a' };
    const uint8_t unused [] = { 0xc1 };
    assert_null (s_json_mp (huge_array, sizeof huge_array));
    assert_null (s_json_mp (huge_map, sizeof huge_map));
    assert_null (s_json_mp (huge_str, sizeof huge_str));
    assert_null (s_json_mp (unused, sizeof unused));
    assert_null (s_json_mp (NULL, 0));
    //  nesting: 64 levels are written, 65 refused
    uint8_t deep [80];
    for (size_t depth = 64; depth <= 65; depth++) {
        memset (deep, 0x91, depth);
        deep [depth] = 0xc0;
        text = s_json_mp (deep, depth + 1);
        if (depth == 64) {
            assert_non_null (text);
            assert_int_equal (strlen (text), 64 * 2 + 4);
        }
        else
            assert_null (text);
        free (text);
    }
}

//  Strings of every length 0..40 (~0.6 MB of text) and one longer than
//  the writer's buffer (256 KB), some with a quote, packed back to back so
//  that they meet the buffer's end at every offset: the text of each is
//  the string quoted.
static void
s_pack_many_strings (msgpack_packer *pk)
{
    static char text [300000];
    memset (text, 'q', sizeof text);
    msgpack_pack_array (pk, 30001);
    for (int i = 0; i < 30000; i++) {
        char str [41];
        int len = i % 41;
        for (int k = 0; k < len; k++)
            str [k] = (char) ('a' + (i + k) % 26);
        if (len > 0 && i % 7 == 0)
            str [len - 1] = '"';
        msgpack_pack_str_with_body (pk, str, (size_t) len);
    }
    msgpack_pack_str_with_body (pk, text, sizeof text);
}

static void
test_many_strings (void **state)
{
    (void) state;
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buf, msgpack_sbuffer_write);
    s_pack_many_strings (&pk);
    char *want = malloc (2000000);
    assert_non_null (want);
    size_t n = 0;
    want [n++] = '[';
    for (int i = 0; i < 30000; i++) {
        int len = i % 41;
        want [n++] = '"';
        for (int k = 0; k < len; k++) {
            if (k == len - 1 && i % 7 == 0) {
                want [n++] = '\\';
                want [n++] = '"';
            }
            else
                want [n++] = (char) ('a' + (i + k) % 26);
        }
        want [n++] = '"';
        want [n++] = ',';
    }
    want [n++] = '"';
    memset (want + n, 'q', 300000);
    n += 300000;
    memcpy (want + n, "\"]", 3);
    char *text = s_json_mp (buf.data, buf.size);
    assert_non_null (text);
    assert_string_equal (text, want);
    free (text);
    free (want);
    msgpack_sbuffer_destroy (&buf);
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
        cmocka_unit_test (test_from_bytes),
        cmocka_unit_test (test_many_strings),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
