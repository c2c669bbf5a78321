/*  libs: ds_darkscope ds_proto ds_common */
/*  test_report_pattern.c - the activity-pattern figures
    (services/darkscope/report_pattern.c): the query each row asks, points
    as CSV rows in local time, the sources' key, IPs as tics when few,
    the raster above the dot limit (and a stale one removed), a zone the
    process could not switch to, "no data" and malformed replies. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "report_pattern.h"
#include "report_fixture.h"
#include "tzday.h"

static const ds_rfig_row_t s_all = {
    "pattern", "Activity pattern of all sources", ds_rpattern_query, "",
    "bin_start_us,token,local_time", 800, 0, ds_rpattern_prepare, ds_rpattern_caption, ds_rpattern_plot };
static const ds_rfig_row_t s_class = {
    "stretchoid", "Stretchoid activity pattern", ds_rpattern_query, "stretchoid",
    "bin_start_us,token,local_time", 640, 0, ds_rpattern_prepare, ds_rpattern_caption, ds_rpattern_plot };

#define T0  (1614643200LL * 1000000)        //  2021-03-02 00:00 UTC, in microseconds

typedef enum { OK, POINT_NOT_PAIR, TOKEN_TOO_BIG, SOURCE_NOT_STR } defect_t;

//  {"bin_s", "class", "sources", "points"}: point i is source i % sources
//  at T0 + (i / sources) hours.
static msgpack_object
s_pattern (fx_packer_t *p, uint32_t sources, uint32_t points, defect_t defect)
{
    msgpack_packer *pk = fx_pack (p);
    msgpack_pack_map (pk, 4);
    fx_str (pk, "bin_s");
    msgpack_pack_int (pk, 180);
    fx_str (pk, "class");
    fx_str (pk, "");
    fx_str (pk, "sources");
    msgpack_pack_array (pk, sources);
    for (uint32_t i = 0; i < sources; i++) {
        char ip [32];
        snprintf (ip, sizeof ip, "192.0.%u.%u", i >> 8, i & 0xff);
        if (defect == SOURCE_NOT_STR && i == 1)
            msgpack_pack_uint32 (pk, i);
        else
            fx_str (pk, ip);
    }
    fx_str (pk, "points");
    msgpack_pack_array (pk, points);
    for (uint32_t i = 0; i < points; i++) {
        if (defect == POINT_NOT_PAIR && i == 2) {
            msgpack_pack_array (pk, 1);
            msgpack_pack_int64 (pk, T0);
            continue;
        }
        msgpack_pack_array (pk, 2);
        msgpack_pack_int64 (pk, T0 + (int64_t) (i / sources) * 3600 * 1000000);
        msgpack_pack_uint32 (pk, defect == TOKEN_TOO_BIG && i == 3 ? sources : i % sources);
    }
    return fx_object (p);
}

static void
test_query (void **state)
{
    (void) state;
    ds_rwindow_t win = { .first_day = "2021-03-02", .last_day = "2021-03-31",
                         .first_dn = 18688, .last_dn = 18717, .min_packets = 12 };
    ds_query_t q, defaults;
    ds_query_init (&defaults);
    ds_rpattern_query (&s_all, &win, &q);
    assert_string_equal (q.name, "pattern");
    assert_string_equal (q.first_day, "2021-03-02");
    assert_string_equal (q.last_day, "2021-03-31");
    assert_string_equal (q.class_name, "");
    assert_int_equal (q.min_packets, 12);
    assert_int_equal (q.bin_s, 600);                    //  30 days: 10 minutes
    win.last_dn = win.first_dn + 6;
    ds_rpattern_query (&s_all, &win, &q);
    assert_int_equal (q.bin_s, 180);                    //  7 days: 3 minutes
    win.last_dn = win.first_dn;
    ds_rpattern_query (&s_all, &win, &q);
    assert_int_equal (q.bin_s, 60);                     //  a day: a minute
    ds_rpattern_query (&s_class, &win, &q);
    assert_string_equal (q.class_name, "stretchoid");
    assert_int_equal (q.bin_s, defaults.bin_s);         //  a class: the service's default bins
}

static void
test_points (void **state)
{
    (void) state;
    assert_int_equal (ds_tz_set ("UTC"), 0);
    fx_packer_t p;
    msgpack_object pattern = s_pattern (&p, 3, 5, OK);
    fx_t c;
    fx_open (&c, &s_all);
    assert_int_equal (fx_draw (&c, &pattern), 0);
    char *csv = fx_slurp ("fig-pattern.csv");
    assert_string_equal (csv, "bin_start_us,token,local_time\n"
        "1614643200000000,0,2021-03-02 00:00:00\n1614643200000000,1,2021-03-02 00:00:00\n"
        "1614643200000000,2,2021-03-02 00:00:00\n1614646800000000,0,2021-03-02 01:00:00\n"
        "1614646800000000,1,2021-03-02 01:00:00\n");
    free (csv);
    csv = fx_slurp ("fig-pattern-sources.csv");
    assert_string_equal (csv, "token,ip\n0,192.0.0.0\n1,192.0.0.1\n2,192.0.0.2\n");
    free (csv);
    const ds_rfig_page_t *page = ds_rfig_page (c.fig);
    assert_true (page->sources_csv);
    assert_int_equal (page->width, 800);
    assert_int_equal (page->height, 300);               //  few sources: 200 + 22 each, at least 300
    assert_string_equal (page->caption,
        "Activity pattern of all sources: a dot per source and 3-minute bin in which it sent at least "
        "one packet, 2021-03-02 to 2021-03-08 (times in UTC). Sources on the y axis are numbered by "
        "their first packet (3 sources). All 5 points are drawn.");
    //  The window's seven days, a hundredth of it as margin; IPs as tics.
    assert_non_null (strstr (c.gp, "set xrange ['1614637152':'1615254048']\n"));
    assert_non_null (strstr (c.gp, "set ytics ('192.0.0.0' 0, '192.0.0.1' 1, '192.0.0.2' 2) font 'Helvetica,10'\n"));
    assert_non_null (strstr (c.gp, "with points pt 7 ps 0.4 lc rgb '#1f4e9a'\n"));
    assert_int_equal (fx_size ("fig-pattern.raster"), -1);
    fx_close (&c);
    fx_pack_free (&p);
}

//  More drawn points than SVG dots can carry: a raster of about a cell
//  per pixel; the next, small figure removes it.
static void
test_raster (void **state)
{
    (void) state;
    assert_int_equal (ds_tz_set ("UTC"), 0);
    fx_packer_t p;
    msgpack_object pattern = s_pattern (&p, 30, 30000, OK);
    fx_t c;
    fx_open (&c, &s_all);
    assert_int_equal (fx_draw (&c, &pattern), 0);
    //  800 - 160 columns, one row per source (30 < 520 - 160).
    assert_int_equal (fx_size ("fig-pattern.raster"), 640 * 30);
    assert_non_null (strstr (ds_rfig_page (c.fig)->caption,
                             "All 30,000 points are drawn. Drawn as a 640x30 raster: darker cells hold more points."));
    assert_non_null (strstr (c.gp, "plot 'fig-pattern.raster' binary array=(640,30) format='%uint8'"));
    assert_null (strstr (c.gp, "set ytics ("));         //  too many sources to name
    assert_non_null (strstr (c.gp, "set ylabel 'Source (token)'\n"));
    fx_close (&c);
    fx_pack_free (&p);

    pattern = s_pattern (&p, 3, 5, OK);
    fx_open (&c, &s_all);
    assert_int_equal (fx_draw (&c, &pattern), 0);
    assert_int_equal (fx_size ("fig-pattern.raster"), -1);
    fx_close (&c);
    fx_pack_free (&p);
}

//  The overview's zone could not be set here: times stay in the process
//  zone, the x range grows by a day each side, and the caption says so.
static void
test_other_zone (void **state)
{
    (void) state;
    assert_int_equal (ds_tz_set ("Europe/Rome"), 0);
    fx_packer_t p;
    msgpack_object pattern = s_pattern (&p, 2, 2, OK);
    fx_t c;
    fx_open (&c, &s_class);
    c.win.tz_matches = false;
    assert_int_equal (fx_draw (&c, &pattern), 0);
    char *csv = fx_slurp ("fig-stretchoid.csv");
    assert_non_null (strstr (csv, "\n1614643200000000,0,2021-03-02 01:00:00\n"));    //  UTC+1
    free (csv);
    assert_non_null (strstr (ds_rfig_page (c.fig)->caption, "(times in Europe/Rome, not the overview's zone)"));
    assert_non_null (strstr (ds_rfig_page (c.fig)->caption, "the sources of class \"stretchoid\""));
    assert_non_null (strstr (c.gp, "set xrange ['1614549024':'1615342176']\n"));
    assert_non_null (strstr (c.gp, "with points pt 7 ps 0.4 lc rgb '#c0392b'\n"));
    assert_int_equal (ds_rfig_page (c.fig)->width, 640);
    fx_close (&c);
    fx_pack_free (&p);
    assert_int_equal (ds_tz_set ("UTC"), 0);
}

static void
test_nodata_and_malformed (void **state)
{
    (void) state;
    fx_packer_t p;
    msgpack_object pattern = s_pattern (&p, 0, 0, OK);
    fx_t c;
    fx_open (&c, &s_class);
    assert_int_equal (fx_draw (&c, &pattern), 0);
    assert_false (ds_rfig_page (c.fig)->has_data);
    assert_string_equal (ds_rfig_page (c.fig)->nodata,
                         "No data: no source of class \"stretchoid\" sent packets in the window.");
    fx_close (&c);
    fx_open (&c, &s_all);
    assert_int_equal (fx_draw (&c, &pattern), 0);
    assert_string_equal (ds_rfig_page (c.fig)->nodata, "No data: no packets in the window.");
    fx_close (&c);
    fx_pack_free (&p);

    static const struct { defect_t defect; const char *err; } cases [] = {
        { POINT_NOT_PAIR, "unexpected result shape: pattern(all).points[2] is not [bin_start_us, token]" },
        { TOKEN_TOO_BIG,  "pattern(all).points[3]: token 4 is not one of the 4 sources" },
        { SOURCE_NOT_STR, "unexpected result shape: pattern(all).sources[1] is not a string" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        pattern = s_pattern (&p, 4, 8, cases [i].defect);
        fx_refused (&s_all, &pattern, &p, cases [i].err);
    }
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_query),
        cmocka_unit_test (test_points),
        cmocka_unit_test (test_raster),
        cmocka_unit_test (test_other_zone),
        cmocka_unit_test (test_nodata_and_malformed),
    };
    return cmocka_run_group_tests (tests, fx_setup, fx_teardown);
}
