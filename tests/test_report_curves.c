/*  libs: ds_darkscope ds_proto ds_common */
/*  test_report_curves.c - the port rank, packets per source and sources per
    day figures (services/darkscope/report_curves.c) from small overviews
    whose numbers are worked out by hand: CSV rows, captions, where the
    inset goes, the threshold line, the date axis, "no data", bad rows. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "report_curves.h"
#include "report_fixture.h"

static const ds_rfig_row_t s_rank = {
    "port-rank", "Port rank ECDF", NULL, NULL, "rank,port,packets,cumulative_fraction", 800, 520,
    ds_rcurves_rank_prepare, ds_rcurves_rank_caption, ds_rcurves_rank_plot };
static const ds_rfig_row_t s_ecdf = {
    "sender-ecdf", "Packets per source (ECDF)", NULL, NULL, "packets,fraction", 800, 480,
    ds_rcurves_ecdf_prepare, ds_rcurves_ecdf_caption, ds_rcurves_ecdf_plot };
static const ds_rfig_row_t s_daily = {
    "daily", "Distinct source IPs per day", NULL, NULL,
    "day,sources,sources_filtered,cumulative,cumulative_filtered", 800, 500,
    ds_rcurves_daily_prepare, ds_rcurves_daily_caption, ds_rcurves_daily_plot };

//  --------------------------------------------------------------------------
//  An overview with just the array a figure reads

//  {key: [{k1: v1, k2: v2}, ...]} with string or integer or float values
//  as the format says ('s', 'i', 'f' per column).
static msgpack_object
s_overview (fx_packer_t *p, const char *key, const char *format, const char **names,
            int rows, const char *const *strings, const double *numbers)
{
    msgpack_packer *pk = fx_pack (p);
    msgpack_pack_map (pk, 1);
    fx_str (pk, key);
    msgpack_pack_array (pk, rows);
    int cols = (int) strlen (format);
    for (int r = 0; r < rows; r++) {
        msgpack_pack_map (pk, cols);
        for (int c = 0; c < cols; c++) {
            fx_str (pk, names [c]);
            if (format [c] == 's')
                fx_str (pk, strings [r]);
            else
            if (format [c] == 'i')
                msgpack_pack_int64 (pk, (int64_t) numbers [r * cols + c]);
            else
                msgpack_pack_double (pk, numbers [r * cols + c]);
        }
    }
    return fx_object (p);
}

static int
fx_draw_row (fx_t *c, const ds_rfig_row_t *row, const msgpack_object *overview)
{
    fx_open (c, row);
    return fx_draw (c, overview);
}


//  --------------------------------------------------------------------------

static void
test_port_rank (void **state)
{
    (void) state;
    const char *names [] = { "port", "packets" };
    const char *ports [] = { "23", "a,b", "-" };
    fx_packer_t p;
    msgpack_object ov = s_overview (&p, "port_ranking", "si", names, 3, ports,
                                    (double []) { 0, 50, 0, 30, 0, 20 });
    fx_t c;
    assert_int_equal (fx_draw_row (&c, &s_rank, &ov), 0);
    char *csv = fx_slurp ("fig-port-rank.csv");
    assert_string_equal (csv, "rank,port,packets,cumulative_fraction\n"
                              "1,23,50,0.5\n2,\"a,b\",30,0.8\n3,-,20,1.0\n");
    free (csv);
    assert_string_equal (ds_rfig_page (c.fig)->caption,
        "Cumulative fraction of packets received by port rank (ports ordered by packets, "
        "log scale), 2021-03-02 to 2021-03-08: 3 distinct ports, 100 packets. Inset: the top 3 ports "
        "with the cumulative fraction they receive (100.0% of all packets together).");
    assert_non_null (strstr (c.gp, "set xrange [0.8:3.75]\n"));
    //  Half the packets at rank 1: the curve is high early, the inset goes bottom right.
    assert_non_null (strstr (c.gp, "set origin 0.42,0.16\n"));
    assert_non_null (strstr (c.gp, "set title 'Top 3 ports'"));
    assert_non_null (strstr (c.gp, "every ::0::2 using 1:4:xtic(2)"));
    fx_close (&c);
    fx_pack_free (&p);

    //  1000 ports with a packet each: the curve is low, the inset goes top left.
    static const char *many [1000];
    static double counts [2000];
    for (int i = 0; i < 1000; i++) {
        many [i] = "9";
        counts [2 * i + 1] = 1;
    }
    ov = s_overview (&p, "port_ranking", "si", names, 1000, many, counts);
    assert_int_equal (fx_draw_row (&c, &s_rank, &ov), 0);
    assert_non_null (strstr (c.gp, "set origin 0.13,0.40\n"));
    assert_non_null (strstr (ds_rfig_page (c.fig)->caption, "1,000 distinct ports, 1,000 packets"));
    assert_non_null (strstr (ds_rfig_page (c.fig)->caption, "top 14 ports"));
    assert_non_null (strstr (ds_rfig_page (c.fig)->caption, "(1.4% of all packets together)"));
    fx_close (&c);
    fx_pack_free (&p);

    //  No ports: no figure.
    ov = s_overview (&p, "port_ranking", "si", names, 0, NULL, NULL);
    assert_int_equal (fx_draw_row (&c, &s_rank, &ov), 0);
    assert_false (ds_rfig_page (c.fig)->has_data);
    assert_string_equal (ds_rfig_page (c.fig)->nodata, "No data: no packets in the window.");
    fx_close (&c);
    fx_pack_free (&p);
}

static void
test_sender_ecdf (void **state)
{
    (void) state;
    const char *names [] = { "packets", "fraction" };
    fx_packer_t p;
    msgpack_object ov = s_overview (&p, "sender_ecdf", "if", names, 4, NULL,
                                    (double []) { 1, 0.5, 5, 0.7, 10, 0.9, 100, 1 });
    fx_t c;
    assert_int_equal (fx_draw_row (&c, &s_ecdf, &ov), 0);
    char *csv = fx_slurp ("fig-sender-ecdf.csv");
    assert_string_equal (csv, "packets,fraction\n1,0.5\n5,0.7\n10,0.9\n100,1.0\n");
    free (csv);
    //  1 and 5 packets are under min_packets = 10: 70% of the sources.
    assert_non_null (strstr (ds_rfig_page (c.fig)->caption,
                             "min_packets = 10: 70.0% of the sources sent fewer packets"));
    assert_non_null (strstr (c.gp, "set xrange [0.8:150]\n"));
    assert_non_null (strstr (c.gp, "set arrow 1 from 10, graph 0 to 10, graph 1 "));
    assert_non_null (strstr (c.gp, "' min_packets = 10 (70.0% of sources below)' at 10, graph 0.08"));
    fx_close (&c);
    fx_pack_free (&p);

    //  A fraction that is not a number.
    const char *bad_names [] = { "packets", "fraction" };
    const char *text [] = { "half" };
    ov = s_overview (&p, "sender_ecdf", "is", bad_names, 1, text, (double []) { 1, 0 });
    fx_refused (&s_ecdf, &ov, &p, "unexpected result shape: overview.sender_ecdf[]: \"fraction\" is not a number");
}

static void
test_daily (void **state)
{
    (void) state;
    const char *names [] = { "day", "sources", "sources_filtered", "cumulative", "cumulative_filtered" };
    const char *days [] = { "2021-03-02", "2021-03-03", "2021-03-04" };
    fx_packer_t p;
    msgpack_object ov = s_overview (&p, "daily", "siiii", names, 3, days, (double []) {
        0, 100, 10, 100, 10,   0, 0, 0, 100, 10,   0, 50, 5, 130, 12 });
    fx_t c;
    assert_int_equal (fx_draw_row (&c, &s_daily, &ov), 0);
    char *csv = fx_slurp ("fig-daily.csv");
    assert_string_equal (csv, "day,sources,sources_filtered,cumulative,cumulative_filtered\n"
                              "2021-03-02,100,10,100,10\n2021-03-03,0,0,100,10\n2021-03-04,50,5,130,12\n");
    free (csv);
    //  Days as seconds, half a day of margin; y up to 3 x the peak (130).
    assert_non_null (strstr (c.gp, "set format x '%m-%d'\n"));
    assert_non_null (strstr (c.gp, "set xrange ['1614600000':'1614859200']\n"));
    assert_non_null (strstr (c.gp, "set yrange [*:390]\n"));
    assert_non_null (strstr (ds_rfig_page (c.fig)->caption, "cumulatively since 2021-03-02"));
    fx_close (&c);
    fx_pack_free (&p);

    //  A day that is not a date.
    const char *bad [] = { "2021-03-02", "yesterday" };
    ov = s_overview (&p, "daily", "siiii", names, 2, bad, (double [10]) { 0 });
    fx_refused (&s_daily, &ov, &p, "unexpected result shape: overview.daily[1].day \"yesterday\" is not a date");

    //  Days without any source: no figure.
    ov = s_overview (&p, "daily", "siiii", names, 2, days, (double [10]) { 0 });
    assert_int_equal (fx_draw_row (&c, &s_daily, &ov), 0);
    assert_string_equal (ds_rfig_page (c.fig)->nodata, "No data: no sources on any day of the window.");
    assert_int_equal (c.gp_size, 0);
    fx_close (&c);
    fx_pack_free (&p);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_port_rank),
        cmocka_unit_test (test_sender_ecdf),
        cmocka_unit_test (test_daily),
    };
    return cmocka_run_group_tests (tests, fx_setup, fx_teardown);
}
