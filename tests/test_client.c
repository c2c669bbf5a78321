/*  libs: ds_darkscope ds_proto ds_common */
/*  test_client.c - how `darkscope query` prints results
    (services/darkscope/client.c): overview --csv is key,value rows of its
    dataset, filter and ingest counters at full precision, without the
    tables that are queries of their own; lookup as key: value text and
    key,value CSV, no longer JSON with a warning; a table query's CSV; the
    heatmap's class names whole in the table and quoted in the CSV. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <msgpack.h>
#include "client.h"

static void
s_str (msgpack_packer *pk, const char *s)
{
    msgpack_pack_str (pk, strlen (s));
    msgpack_pack_str_body (pk, s, strlen (s));
}

//  A small overview: dataset.window with one top_pp, a port ranking, the
//  filter and the ingest counters.
static void
s_pack_overview (msgpack_packer *pk)
{
    msgpack_pack_map (pk, 6);
    s_str (pk, "schema"); s_str (pk, "darkscope.overview/1");
    s_str (pk, "window");
    msgpack_pack_map (pk, 2);
    s_str (pk, "first_day"); s_str (pk, "2021-03-02");
    s_str (pk, "last_day"); msgpack_pack_nil (pk);
    s_str (pk, "dataset");
    msgpack_pack_map (pk, 1);
    s_str (pk, "window");
    msgpack_pack_map (pk, 2);
    s_str (pk, "sources"); msgpack_pack_uint64 (pk, 1234567);
    s_str (pk, "top_pp");
    msgpack_pack_array (pk, 1);
    msgpack_pack_map (pk, 2);
    s_str (pk, "pp"); s_str (pk, "23/TCP");
    s_str (pk, "percent"); msgpack_pack_double (pk, 100.0 / 3);
    s_str (pk, "port_ranking");
    msgpack_pack_array (pk, 2);
    for (int i = 0; i < 2; i++) {
        msgpack_pack_map (pk, 2);
        s_str (pk, "port"); s_str (pk, i ? "445" : "23");
        s_str (pk, "packets"); msgpack_pack_uint64 (pk, 10 - i);
    }
    s_str (pk, "filter");
    msgpack_pack_map (pk, 1);
    s_str (pk, "sources_kept"); msgpack_pack_uint64 (pk, 42);
    s_str (pk, "ingest");
    msgpack_pack_map (pk, 1);
    s_str (pk, "packets_read"); msgpack_pack_uint64 (pk, 63500000);
}

static void
s_pack_lookup (msgpack_packer *pk)
{
    msgpack_pack_map (pk, 3);
    s_str (pk, "ip"); s_str (pk, "198.51.100.7");
    s_str (pk, "class"); s_str (pk, "censys, inc");
    s_str (pk, "rule"); s_str (pk, "exact");
}

//  What ds_client_print writes for the packed result.
static char *
s_print (void (*pack) (msgpack_packer *), const char *name, ds_format_t format)
{
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    pack (&pk);
    msgpack_unpacked msg;
    msgpack_unpacked_init (&msg);
    assert_int_equal (msgpack_unpack_next (&msg, sbuf.data, sbuf.size, NULL), MSGPACK_UNPACK_SUCCESS);
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    assert_int_equal (ds_client_print (out, name, &msg.data, format), 0);
    fclose (out);
    msgpack_unpacked_destroy (&msg);
    msgpack_sbuffer_destroy (&sbuf);
    return text;
}

static void
test_overview_csv (void **state)
{
    (void) state;
    char *text = s_print (s_pack_overview, "overview", DS_FORMAT_CSV);
    assert_string_equal (text,
        "key,value\n"
        "schema,darkscope.overview/1\n"
        "window.first_day,2021-03-02\n"
        "window.last_day,\n"
        "dataset.window.sources,1234567\n"
        "dataset.window.top_pp.0.pp,23/TCP\n"
        "dataset.window.top_pp.0.percent,33.333333333333336\n"
        "filter.sources_kept,42\n"
        "ingest.packets_read,63500000\n");
    free (text);
}

static void
test_lookup (void **state)
{
    (void) state;
    char *text = s_print (s_pack_lookup, "lookup", DS_FORMAT_CSV);
    assert_string_equal (text, "key,value\nip,198.51.100.7\nclass,\"censys, inc\"\nrule,exact\n");
    free (text);
    text = s_print (s_pack_lookup, "lookup", DS_FORMAT_TABLE);
    assert_string_equal (text, "ip: 198.51.100.7\nclass: censys, inc\nrule: exact\n");
    free (text);
    text = s_print (s_pack_lookup, "lookup", DS_FORMAT_JSON);
    assert_string_equal (text, "{\"ip\":\"198.51.100.7\",\"class\":\"censys, inc\",\"rule\":\"exact\"}\n");
    free (text);
}

//  A list of rows: header from the keys, one line per row.
static void
s_pack_ports (msgpack_packer *pk)
{
    msgpack_pack_map (pk, 1);
    s_str (pk, "port_ranking");
    msgpack_pack_array (pk, 2);
    for (int i = 0; i < 2; i++) {
        msgpack_pack_map (pk, 2);
        s_str (pk, "port"); s_str (pk, i ? "-" : "23");
        s_str (pk, "packets"); msgpack_pack_uint64 (pk, 10 - i);
    }
}

static void
test_ports_csv (void **state)
{
    (void) state;
    char *text = s_print (s_pack_ports, "ports", DS_FORMAT_CSV);
    assert_string_equal (text, "port,packets\n23,10\n-,9\n");
    free (text);
}

//  The heatmap: columns as wide as the longest class name (none cut), a
//  class name with a comma quoted in the CSV.
static void
s_pack_heatmap (msgpack_packer *pk)
{
    msgpack_pack_map (pk, 1);
    s_str (pk, "heatmap");
    msgpack_pack_map (pk, 3);
    s_str (pk, "classes");
    msgpack_pack_array (pk, 2);
    s_str (pk, "internet-census");
    s_str (pk, "a,b");
    s_str (pk, "services");
    msgpack_pack_array (pk, 1);
    s_str (pk, "telnet");
    s_str (pk, "fraction");
    msgpack_pack_array (pk, 1);
    msgpack_pack_array (pk, 2);
    msgpack_pack_double (pk, 0.25);
    msgpack_pack_double (pk, 1.0);
}

static void
test_heatmap (void **state)
{
    (void) state;
    char *text = s_print (s_pack_heatmap, "heatmap", DS_FORMAT_TABLE);
    assert_string_equal (text,
        "service       internet-census              a,b\n"
        "telnet                   0.25             1.00\n");
    free (text);
    text = s_print (s_pack_heatmap, "heatmap", DS_FORMAT_CSV);
    assert_string_equal (text, "service,internet-census,\"a,b\"\ntelnet,0.25,1\n");
    free (text);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_overview_csv),
        cmocka_unit_test (test_lookup),
        cmocka_unit_test (test_ports_csv),
        cmocka_unit_test (test_heatmap),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
