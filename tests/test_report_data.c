/*  libs: ds_darkscope ds_proto ds_common */
/*  test_report_data.c - typed reading of query results and the report's one
    error path (services/darkscope/report_data.c): values of every msgpack
    encoding read right, shape errors named with where and key, the first
    failure kept, an overview's window read and checked. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "report_data.h"
#include "ds_proto.h"

//  Packs what build() writes and unpacks it into zone as a query result.
static msgpack_object
s_object (msgpack_zone *zone, void (*build) (msgpack_packer *pk, const void *arg), const void *arg)
{
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buf, msgpack_sbuffer_write);
    build (&pk, arg);
    char *copy = msgpack_zone_malloc (zone, buf.size);
    assert_non_null (copy);
    memcpy (copy, buf.data, buf.size);
    msgpack_object obj;
    assert_int_equal (ds_mp_unpack ((const uint8_t *) copy, buf.size, zone, &obj), 0);
    msgpack_sbuffer_destroy (&buf);
    return obj;
}

static void
pk_str (msgpack_packer *pk, const char *s)
{
    msgpack_pack_str (pk, strlen (s));
    msgpack_pack_str_body (pk, s, strlen (s));
}

static void
build_values (msgpack_packer *pk, const void *arg)
{
    (void) arg;
    msgpack_pack_map (pk, 8);
    pk_str (pk, "small");    msgpack_pack_uint8 (pk, 7);
    pk_str (pk, "big");      msgpack_pack_uint64 (pk, UINT64_MAX);
    pk_str (pk, "neg");      msgpack_pack_int64 (pk, -5);
    pk_str (pk, "half");     msgpack_pack_double (pk, 0.5);
    pk_str (pk, "single");   msgpack_pack_float (pk, 0.25f);
    pk_str (pk, "name");     msgpack_pack_str (pk, 5); msgpack_pack_str_body (pk, "a\0b,c", 5);
    pk_str (pk, "list");     msgpack_pack_array (pk, 2); msgpack_pack_int8 (pk, -1); msgpack_pack_nil (pk);
    pk_str (pk, "sub");      msgpack_pack_map (pk, 0);
}

static void
test_values (void **state)
{
    (void) state;
    msgpack_zone *zone = msgpack_zone_new (4096);
    msgpack_object m = s_object (zone, build_values, NULL);
    char err [256];
    ds_rdata_t *data = ds_rdata_new (err, sizeof err);
    assert_non_null (data);
    assert_int_equal (ds_rdata_int (data, &m, "small", "t"), 7);
    assert_int_equal (ds_rdata_int (data, &m, "big", "t"), INT64_MAX);     //  clamped
    assert_int_equal (ds_rdata_int (data, &m, "neg", "t"), -5);
    assert_true (ds_rdata_num (data, &m, "half", "t") == 0.5);
    assert_true (ds_rdata_num (data, &m, "single", "t") == 0.25);
    assert_true (ds_rdata_num (data, &m, "neg", "t") == -5.0);              //  integers are numbers
    msgpack_object_str name = ds_rdata_str (data, &m, "name", "t");
    assert_int_equal (name.size, 5);
    char copy [8];
    ds_rdata_copy (copy, sizeof copy, name);
    assert_string_equal (copy, "a?b,c");                                  //  NUL shown, not cutting
    ds_rdata_copy (copy, 3, name);
    assert_string_equal (copy, "a?");                                     //  truncated, terminated
    const msgpack_object *list = ds_rdata_arr (data, &m, "list", "t");
    assert_int_equal (list->via.array.size, 2);
    assert_true (ds_rdata_is_int (&list->via.array.ptr [0]));
    assert_int_equal (ds_rdata_as_int (&list->via.array.ptr [0]), -1);
    assert_false (ds_rdata_is_int (&list->via.array.ptr [1]));
    assert_int_equal (ds_rdata_map (data, &m, "sub", "t")->type, MSGPACK_OBJECT_MAP);
    assert_false (ds_rdata_failed (data));
    assert_string_equal (err, "");
    ds_rdata_destroy (&data);
    assert_null (data);
    ds_rdata_destroy (&data);               //  NULL-safe
    msgpack_zone_free (zone);
}

static void
test_shape_errors (void **state)
{
    (void) state;
    msgpack_zone *zone = msgpack_zone_new (4096);
    msgpack_object m = s_object (zone, build_values, NULL);
    char err [256] = "stale";
    ds_rdata_t *data = ds_rdata_new (err, sizeof err);
    assert_string_equal (err, "");                                        //  emptied at start
    //  A harmless value back, the first failure kept.
    assert_int_equal (ds_rdata_int (data, &m, "name", "overview.x"), 0);
    assert_true (ds_rdata_failed (data));
    assert_string_equal (err, "unexpected result shape: overview.x: \"name\" is not an integer");
    assert_int_equal (ds_rdata_arr (data, &m, "missing", "y")->via.array.size, 0);
    assert_int_equal (ds_rdata_fail (data, "later %d", 2), -1);
    assert_string_equal (err, "unexpected result shape: overview.x: \"name\" is not an integer");
    ds_rdata_destroy (&data);

    static const struct {
        const char *key; int kind; const char *want;
    } cases [] = {
        { "missing", 0, "unexpected result shape: w: \"missing\" is missing, want an integer" },
        { "half",    0, "unexpected result shape: w: \"half\" is not an integer" },
        { "name",    1, "unexpected result shape: w: \"name\" is not a number" },
        { "small",   2, "unexpected result shape: w: \"small\" is not a string" },
        { "sub",     3, "unexpected result shape: w: \"sub\" is not an array" },
        { "list",    4, "unexpected result shape: w: \"list\" is not a map" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        data = ds_rdata_new (err, sizeof err);
        switch (cases [i].kind) {
            case 0: ds_rdata_int (data, &m, cases [i].key, "w"); break;
            case 1: ds_rdata_num (data, &m, cases [i].key, "w"); break;
            case 2: assert_int_equal (ds_rdata_str (data, &m, cases [i].key, "w").size, 0); break;
            case 3: ds_rdata_arr (data, &m, cases [i].key, "w"); break;
            case 4: assert_int_equal (ds_rdata_map (data, &m, cases [i].key, "w")->via.map.size, 0); break;
        }
        assert_string_equal (err, cases [i].want);
        ds_rdata_destroy (&data);
    }
    //  Not a map at all: every key is missing.
    data = ds_rdata_new (NULL, 0);                                        //  no buffer: kept inside
    const msgpack_object *list = ds_rdata_arr (data, &m, "list", "t");
    ds_rdata_int (data, list, "x", "t");
    assert_true (ds_rdata_failed (data));
    ds_rdata_destroy (&data);
    msgpack_zone_free (zone);
}

typedef struct {
    const char *schema, *first, *last;
} window_t;

static void
build_overview (msgpack_packer *pk, const void *arg)
{
    const window_t *w = arg;
    msgpack_pack_map (pk, 4);
    pk_str (pk, "schema");      pk_str (pk, w->schema);
    pk_str (pk, "tz");          pk_str (pk, "Europe/Rome");
    pk_str (pk, "min_packets"); msgpack_pack_uint8 (pk, 10);
    pk_str (pk, "window");
    msgpack_pack_map (pk, 3);
    pk_str (pk, "first_day");   pk_str (pk, w->first);
    pk_str (pk, "last_day");    pk_str (pk, w->last);
    pk_str (pk, "days");        msgpack_pack_uint8 (pk, 30);
}

static void
test_window (void **state)
{
    (void) state;
    msgpack_zone *zone = msgpack_zone_new (4096);
    char err [256];
    window_t good = { "darkscope.overview/1", "2021-03-02", "2021-03-31" };
    msgpack_object ov = s_object (zone, build_overview, &good);
    ds_rdata_t *data = ds_rdata_new (err, sizeof err);
    ds_rwindow_t win;
    assert_int_equal (ds_rdata_window (data, &ov, &win), 0);
    assert_string_equal (win.first_day, "2021-03-02");
    assert_string_equal (win.last_day, "2021-03-31");
    assert_string_equal (win.tz, "Europe/Rome");
    assert_int_equal (win.days, 30);
    assert_int_equal (win.min_packets, 10);
    assert_int_equal (win.last_dn - win.first_dn, 29);
    assert_int_equal (win.first_dn, 18688);                 //  2021-03-02 is day 18688
    assert_false (win.tz_matches);
    ds_rdata_destroy (&data);

    static const struct { window_t w; const char *want; } bad [] = {
        { { "darkscope.overview/2", "2021-03-02", "2021-03-31" },
          "overview: schema \"darkscope.overview/2\" is not darkscope.overview/1" },
        { { "darkscope.overview/1", "2021-03-31", "2021-03-02" },
          "overview: bad window \"2021-03-31\" .. \"2021-03-02\"" },
        { { "darkscope.overview/1", "March", "2021-03-02" },
          "overview: bad window \"March\" .. \"2021-03-02\"" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ov = s_object (zone, build_overview, &bad [i].w);
        data = ds_rdata_new (err, sizeof err);
        assert_int_equal (ds_rdata_window (data, &ov, &win), -1);
        assert_string_equal (err, bad [i].want);
        ds_rdata_destroy (&data);
    }
    msgpack_zone_free (zone);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_values),
        cmocka_unit_test (test_shape_errors),
        cmocka_unit_test (test_window),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
