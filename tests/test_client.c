/*  libs: ds_darkscope ds_proto ds_common */
/*  test_client.c - how `darkscope query` prints results
    (services/darkscope/client.c): overview --csv is key,value rows of its
    dataset, filter and ingest counters at full precision, without the
    tables that are queries of their own; lookup as key: value text and
    key,value CSV, no longer JSON with a warning; a table query's CSV; the
    heatmap's class names whole in the table and quoted in the CSV; the
    overview's dataset table aligned past the last day's top-3 pairs; the
    projection's points as rows with class names, in CSV and a table; a
    request where nothing listens fails fast naming the endpoint, and a
    server slower than that still gets its answer through. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>
#include <czmq.h>
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

//  What ds_client_print writes for the packed result; its return in *rc.
static char *
s_print_rc (void (*pack) (msgpack_packer *), const char *name, ds_format_t format, int *rc)
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
    *rc = ds_client_print (out, name, &msg.data, format);
    fclose (out);
    msgpack_unpacked_destroy (&msg);
    msgpack_sbuffer_destroy (&sbuf);
    return text;
}

//  What ds_client_print writes for the packed result (which it prints).
static char *
s_print (void (*pack) (msgpack_packer *), const char *name, ds_format_t format)
{
    int rc;
    char *text = s_print_rc (pack, name, format, &rc);
    assert_int_equal (rc, 0);
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

//  One scope of the dataset table: counts and the top-3 port/proto pairs.
static void
s_pack_scope (msgpack_packer *pk, uint64_t base)
{
    msgpack_pack_map (pk, 5);
    s_str (pk, "sources"); msgpack_pack_uint64 (pk, base);
    s_str (pk, "packets"); msgpack_pack_uint64 (pk, base * 51);
    s_str (pk, "ports"); msgpack_pack_uint64 (pk, 65536);
    s_str (pk, "pp"); msgpack_pack_uint64 (pk, 131072);
    s_str (pk, "top_pp");
    msgpack_pack_array (pk, 3);
    const char *pp [3] = { "23/TCP", "445/TCP", "5060/UDP" };
    for (int i = 0; i < 3; i++) {
        msgpack_pack_map (pk, 2);
        s_str (pk, "pp"); s_str (pk, pp [i]);
        s_str (pk, "percent"); msgpack_pack_double (pk, 31.234 / (i + 1));
    }
}

//  An overview with both scopes of the dataset table and no classes.
static void
s_pack_overview_days (msgpack_packer *pk)
{
    msgpack_pack_map (pk, 3);
    s_str (pk, "window");
    msgpack_pack_map (pk, 2);
    s_str (pk, "first_day"); s_str (pk, "2021-03-02");
    s_str (pk, "last_day"); s_str (pk, "2021-03-31");
    s_str (pk, "dataset");
    msgpack_pack_map (pk, 2);
    s_str (pk, "last_day"); s_pack_scope (pk, 98765);
    s_str (pk, "window"); s_pack_scope (pk, 1234567);
    s_str (pk, "classes"); msgpack_pack_array (pk, 0);
}

//  The overview's dataset table: the window column starts at the same
//  place on every line, past the last day's top-3 pairs (they ran into it).
static void
test_overview_text (void **state)
{
    (void) state;
    char *text = s_print (s_pack_overview_days, "overview", DS_FORMAT_TABLE);
    const char *want =
        "Dataset statistics\n"
        "                          Last day 2021-03-31                                   Window [2021-03-02, 2021-03-31]\n"
        "Sources                   98765                                                 1234567\n"
        "Packets                   5037015                                               62962917\n"
        "Ports                     65536                                                 65536\n"
        "Port/proto pairs          131072                                                131072\n"
        "Top-3 pp (% traffic)      23/TCP (31.23%), 445/TCP (15.62%), 5060/UDP (10.41%)  "
        "23/TCP (31.23%), 445/TCP (15.62%), 5060/UDP (10.41%)\n"
        "\n";
    assert_memory_equal (text, want, strlen (want));
    free (text);
}

//  A projection: two classes (one with a comma) and unknown, three points.
static void
s_pack_projection (msgpack_packer *pk)
{
    msgpack_pack_map (pk, 4);
    s_str (pk, "method"); s_str (pk, "pca");
    s_str (pk, "classes");
    msgpack_pack_array (pk, 3);
    s_str (pk, "mirai-like"); s_str (pk, "censys, inc"); s_str (pk, "unknown");
    s_str (pk, "senders"); msgpack_pack_uint32 (pk, 3);
    s_str (pk, "points");
    msgpack_pack_array (pk, 3);
    double xy [3][2] = { { 0.5, -1.25 }, { 0.1, 2 }, { -3, 0.000123 } };
    uint32_t ci [3][2] = { { 0, 0 }, { 1, 0 }, { 2, 1 } };
    for (int i = 0; i < 3; i++) {
        msgpack_pack_array (pk, 4);
        msgpack_pack_double (pk, xy [i][0]);
        msgpack_pack_double (pk, xy [i][1]);
        msgpack_pack_uint32 (pk, ci [i][0]);
        msgpack_pack_uint32 (pk, ci [i][1]);
    }
}

//  A projection point with a class index past the list.
static void
s_pack_projection_bad (msgpack_packer *pk)
{
    msgpack_pack_map (pk, 2);
    s_str (pk, "classes");
    msgpack_pack_array (pk, 1);
    s_str (pk, "unknown");
    s_str (pk, "points");
    msgpack_pack_array (pk, 1);
    msgpack_pack_array (pk, 4);
    msgpack_pack_double (pk, 1);
    msgpack_pack_double (pk, 2);
    msgpack_pack_uint32 (pk, 1);
    msgpack_pack_uint32 (pk, 0);
}

//  projection --csv: a row per point, classes by name, full precision;
//  the table the same, aligned; no JSON fallback.
static void
test_projection (void **state)
{
    (void) state;
    char *text = s_print (s_pack_projection, "projection", DS_FORMAT_CSV);
    assert_string_equal (text,
        "x,y,class,predicted\n"
        "0.5,-1.25,mirai-like,mirai-like\n"
        "0.10000000000000001,2,\"censys, inc\",mirai-like\n"
        "-3,0.00012300000000000001,unknown,\"censys, inc\"\n");
    free (text);
    text = s_print (s_pack_projection, "projection", DS_FORMAT_TABLE);
    assert_string_equal (text,
        "           x             y  class        predicted\n"
        "    0.500000     -1.250000  mirai-like   mirai-like\n"
        "    0.100000      2.000000  censys, inc  mirai-like\n"
        "   -3.000000      0.000123  unknown      censys, inc\n");
    free (text);
}

static void
test_projection_bad (void **state)
{
    (void) state;
    int rc;
    char *text = s_print_rc (s_pack_projection_bad, "projection", DS_FORMAT_CSV, &rc);
    assert_int_equal (rc, -1);
    assert_int_equal (text [0], '{');                           //  JSON alone, said on stderr
    free (text);
}

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

//  One overview request; its error in err.  Returns the request's result.
static int
s_request (ds_client_t *client, char *err, size_t err_size)
{
    ds_query_t q;
    ds_query_init (&q);
    snprintf (q.name, sizeof q.name, "overview");
    msgpack_zone *zone = msgpack_zone_new (4096);
    msgpack_object result;
    err [0] = 0;
    int rc = ds_client_request (client, &q, zone, &result, err, err_size);
    msgpack_zone_free (zone);
    return rc;
}

//  A TCP port nothing listens on: below the ephemeral range, so the
//  retrying connect cannot meet itself (TCP self-connect), bound with a
//  plain socket and closed at once (a ZeroMQ socket's listener outlives
//  zsock_destroy for a moment, and takes the connection).
static int
s_free_port (void)
{
    for (int attempt = 0; attempt < 1000; attempt++) {
        int port = 20000 + (int) (zclock_usecs () % 12000);
        int fd = socket (AF_INET, SOCK_STREAM, 0);
        assert_true (fd >= 0);
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port),
                                  .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
        int rc = bind (fd, (struct sockaddr *) &sa, sizeof sa);
        close (fd);
        if (rc == 0)
            return port;
    }
    fail_msg ("no free port in 20000-32000");
    return -1;
}

//  No server at the endpoint: the request fails after the 2 s connect
//  wait, not the 30 s reply timeout, and says where it looked.
static void
test_nothing_listens (void **state)
{
    (void) state;
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", s_free_port ());
    char ipc [64];
    snprintf (ipc, sizeof ipc, "ipc:///tmp/ds-test-client-none-%d", (int) getpid ());
    const char *endpoints [] = { endpoint, ipc };
    for (int i = 0; i < 2; i++) {
        ds_client_t *client = ds_client_new (endpoints [i], 30000);
        assert_non_null (client);
        char err [512], want [128];
        for (int round = 0; round < 2 - i; round++) {   //  tcp: and again after the reset
            double t0 = s_now ();
            assert_int_equal (s_request (client, err, sizeof err), -1);
            double took = s_now () - t0;
            snprintf (want, sizeof want, "nothing answers at %s: no connection within 2000 ms", endpoints [i]);
            if (!strstr (err, want))
                fail_msg ("%s: %s", endpoints [i], err);
            assert_true (took < 10);
        }
        ds_client_destroy (&client);
    }
}

//  A server that answers after the connect wait: its answer is taken.
static void
s_slow_server (zsock_t *pipe, void *arg)
{
    zsock_t *rep = arg;
    zsock_signal (pipe, 0);
    zpoller_t *poller = zpoller_new (rep, pipe, NULL);
    void *which = zpoller_wait (poller, 20000);
    zpoller_destroy (&poller);
    if (which != rep) {                         //  $TERM (the test failed), or no request
        if (which == pipe)
            free (zstr_recv (pipe));
        return;
    }
    zmsg_t *request = zmsg_recv (rep);
    zmsg_destroy (&request);
    zclock_sleep (2500);
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 2);
    s_str (&pk, "ok"); msgpack_pack_true (&pk);
    s_str (&pk, "result"); s_pack_lookup (&pk);
    zsock_send (rep, "b", sbuf.data, sbuf.size);
    msgpack_sbuffer_destroy (&sbuf);
    free (zstr_recv (pipe));                    //  $TERM
}

static void
test_slow_server (void **state)
{
    (void) state;
    zsock_t *rep = zsock_new (ZMQ_REP);
    assert_non_null (rep);
    int port = zsock_bind (rep, "tcp://127.0.0.1:*");
    assert_true (port > 0);
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", port);
    zactor_t *server = zactor_new (s_slow_server, rep);
    ds_client_t *client = ds_client_new (endpoint, 10000);
    assert_non_null (client);
    char err [512];
    int rc = s_request (client, err, sizeof err);
    ds_client_destroy (&client);
    zactor_destroy (&server);
    zsock_destroy (&rep);
    if (rc != 0)
        fail_msg ("%s", err);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_overview_csv),
        cmocka_unit_test (test_lookup),
        cmocka_unit_test (test_ports_csv),
        cmocka_unit_test (test_heatmap),
        cmocka_unit_test (test_overview_text),
        cmocka_unit_test (test_projection),
        cmocka_unit_test (test_projection_bad),
        cmocka_unit_test (test_nothing_listens),
        cmocka_unit_test (test_slow_server),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
