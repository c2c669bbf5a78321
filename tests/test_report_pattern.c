/*  libs: ds_darkscope ds_proto ds_common */
/*  test_report_pattern.c - the activity-pattern figures
    (services/darkscope/report_pattern.c): the query each row asks (raster
    size, sample), the exact raster drawn as an image with its counts as
    CSV (and removed when a later figure draws dots), dots and IP tics
    when every point is in the sample and they are few, the sample and its
    sources as CSV, a zone the process could not switch to, "no data" and
    replies that do not fit together. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "report.h"
#include "report_pattern.h"
#include "report_fixture.h"
#include "pattern_fixture.h"
#include "tz.h"

static const ds_rfig_row_t s_all = {
    "pattern", "Activity pattern of all sources", ds_rpattern_query, "",
    "bin_start_us,token,local_time", 800, 0, ds_rpattern_prepare, ds_rpattern_caption, ds_rpattern_plot };
static const ds_rfig_row_t s_class = {
    "stretchoid", "Stretchoid activity pattern", ds_rpattern_query, "stretchoid",
    "bin_start_us,token,local_time", 640, 0, ds_rpattern_prepare, ds_rpattern_caption, ds_rpattern_plot };

#define T0  (1614643200LL * 1000000)        //  2021-03-02 00:00 UTC, in microseconds
#define T1  (T0 + 7 * 86400LL * 1000000)    //  the fixture's 7-day window

typedef enum { OK, BAD_RASTER, FOREIGN_TOKEN, NO_SOURCES } defect_t;

static int
s_cmp_pt (const void *x, const void *y)
{
    const int64_t *a = x, *b = y;
    if (a [0] != b [0])
        return a [0] < b [0] ? -1 : 1;
    return a [1] < b [1] ? -1 : a [1] > b [1];
}

//  Point i is source i % sources at T0 + (i / sources) hours (bins of 180 s).
static msgpack_object
s_pattern (fx_packer_t *p, uint32_t sources, uint32_t points, uint32_t limit, defect_t defect)
{
    int64_t (*pts) [2] = calloc (points + 1, sizeof *pts);
    for (uint32_t i = 0; i < points; i++) {
        pts [i][0] = i % sources;
        pts [i][1] = T0 + (int64_t) (i / sources) * (points > 10000 ? 180 : 3600) * 1000000;
    }
    qsort (pts, points, sizeof *pts, s_cmp_pt);
    fx_pattern_t f = { "", 180, T0, T1, sources, 640, 360, limit, false };
    msgpack_packer *pk = fx_pack (p);
    if (defect == OK)
        fx_pack_pattern (pk, &f, pts, points);
    else {
        //  A valid reply with one field replaced: "raster" is not zlib,
        //  a sample point of a token that sample_sources lacks, or no
        //  sample_sources at all.
        fx_packer_t inner;
        fx_pack_pattern (fx_pack (&inner), &f, pts, points);
        msgpack_object o = fx_object (&inner);
        msgpack_pack_map (pk, o.via.map.size - (defect == NO_SOURCES));
        for (uint32_t i = 0; i < o.via.map.size; i++) {
            const msgpack_object_kv *kv = &o.via.map.ptr [i];
            const char *key = kv->key.via.str.ptr;
            size_t len = kv->key.via.str.size;
            if (defect == NO_SOURCES && len == 14 && memcmp (key, "sample_sources", 14) == 0)
                continue;
            msgpack_pack_object (pk, kv->key);
            if (defect == BAD_RASTER && len == 6 && memcmp (key, "raster", 6) == 0)
                msgpack_pack_bin_with_body (pk, "garbage", 7);
            else
            if (defect == FOREIGN_TOKEN && len == 6 && memcmp (key, "sample", 6) == 0) {
                msgpack_pack_array (pk, kv->val.via.array.size);
                msgpack_pack_array (pk, 2);
                msgpack_pack_int64 (pk, T0);
                msgpack_pack_uint32 (pk, sources + 7);
                for (uint32_t k = 1; k < kv->val.via.array.size; k++)
                    msgpack_pack_object (pk, kv->val.via.array.ptr [k]);
            }
            else
                msgpack_pack_object (pk, kv->val);
        }
        fx_pack_free (&inner);
    }
    free (pts);
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
    assert_int_equal (q.width, 640);                    //  a cell per pixel of the plot
    assert_int_equal (q.height, 360);
    assert_int_equal (q.limit, DS_REPORT_POINTS_MAX);
    assert_int_equal (q.offset, 0);
    win.last_dn = win.first_dn + 6;
    ds_rpattern_query (&s_all, &win, &q);
    assert_int_equal (q.bin_s, 180);                    //  7 days: 3 minutes
    win.last_dn = win.first_dn;
    ds_rpattern_query (&s_all, &win, &q);
    assert_int_equal (q.bin_s, 60);                     //  a day: a minute
    ds_rpattern_query (&s_class, &win, &q);
    assert_string_equal (q.class_name, "stretchoid");
    assert_int_equal (q.bin_s, defaults.bin_s);         //  a class: the service's default bins
    assert_int_equal (q.width, 480);
}

//  Few points, all in the sample: dots, IPs as tics.
static void
test_dots (void **state)
{
    (void) state;
    fx_packer_t p;
    msgpack_object pattern = s_pattern (&p, 3, 5, 100, OK);
    fx_t c;
    fx_open (&c, &s_all);
    assert_int_equal (fx_draw (&c, &pattern), 0);
    char *csv = fx_slurp ("fig-pattern.csv");
    assert_string_equal (csv, "bin_start_us,token,local_time\n"
        "1614643200000000,0,2021-03-02 00:00:00\n1614646800000000,0,2021-03-02 01:00:00\n"
        "1614643200000000,1,2021-03-02 00:00:00\n1614646800000000,1,2021-03-02 01:00:00\n"
        "1614643200000000,2,2021-03-02 00:00:00\n");
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
        "their first packet (3 sources, 5 points). All 5 points are drawn.");
    //  The window's seven days, a hundredth of it as margin; IPs as tics.
    assert_non_null (strstr (c.gp, "set xrange ['1614637152':'1615254048']\n"));
    assert_non_null (strstr (c.gp, "set ytics ('192.0.0.0' 0, '192.0.0.1' 1, '192.0.0.2' 2) font 'Helvetica,10'\n"));
    assert_non_null (strstr (c.gp, "with points pt 7 ps 0.4 lc rgb '#1f4e9a'\n"));
    assert_int_equal (fx_size ("fig-pattern.raster"), -1);
    assert_int_equal (fx_size ("fig-pattern-raster.csv"), -1);
    fx_close (&c);
    fx_pack_free (&p);
}

//  Many points: the exact raster as an image and as CSV, the sample as
//  CSV; the next, small figure removes the raster files.
static void
test_raster (void **state)
{
    (void) state;
    fx_packer_t p;
    msgpack_object pattern = s_pattern (&p, 30, 30000, 1000, OK);
    fx_t c;
    fx_open (&c, &s_all);
    assert_int_equal (fx_draw (&c, &pattern), 0);
    //  640 of the window's 3360 bins a column, one row per source (30 < 360).
    assert_int_equal (fx_size ("fig-pattern.raster"), 640 * 30);
    char *csv = fx_slurp ("fig-pattern-raster.csv");
    assert_true (strncmp (csv, "row,col,first_token,last_token,from_us,to_us,points\n", 52) == 0);
    //  every point counted once: the counts add up
    uint64_t total = 0;
    for (char *line = strchr (csv, '\n'); line && line [1]; line = strchr (line + 1, '\n')) {
        const char *last = NULL;
        for (const char *s = line + 1; *s && *s != '\n'; s++)
            last = *s == ',' ? s : last;
        assert_non_null (last);
        total += strtoull (last + 1, NULL, 10);
    }
    assert_int_equal (total, 30000);
    //  row 0 is token 0; column 0 the first 5.25 bins (of 180 s)
    assert_non_null (strstr (csv, "\n0,0,0,0,1614643200000000,1614644280000000,"));
    free (csv);
    csv = fx_slurp ("fig-pattern.csv");
    size_t lines = 0;
    for (char *s = csv; *s; s++)
        lines += *s == '\n';
    assert_int_equal (lines, 1 + 1000);                 //  the sample
    free (csv);
    const char *caption = ds_rfig_page (c.fig)->caption;
    assert_non_null (strstr (caption, "(30 sources, 30,000 points)"));
    assert_non_null (strstr (caption, "Drawn as a 640x30 raster of exact counts (a row per 1 sources, "
                                      "a column per 5.25 bins)"));
    assert_non_null (strstr (caption, "fig-pattern.csv holds a deterministic sample of 1,000 points"));
    assert_non_null (strstr (c.gp, "plot 'fig-pattern.raster' binary array=(640,30) format='%uint8' "
                                   "origin=(1614643672.500,0.000000) dx=945.000000 dy=1.000000"));
    assert_null (strstr (c.gp, "set ytics ("));         //  too many sources to name
    assert_non_null (strstr (c.gp, "set ylabel 'Source (token)'\n"));
    fx_close (&c);
    fx_pack_free (&p);

    pattern = s_pattern (&p, 3, 5, 100, OK);
    fx_open (&c, &s_all);
    assert_int_equal (fx_draw (&c, &pattern), 0);
    assert_int_equal (fx_size ("fig-pattern.raster"), -1);
    assert_int_equal (fx_size ("fig-pattern-raster.csv"), -1);
    fx_close (&c);
    fx_pack_free (&p);
}

//  Times in a zone that is not the overview's (as when this host does not
//  know the overview's): the x range grows by a day each side, and the
//  caption names the zone used.
static void
test_other_zone (void **state)
{
    (void) state;
    ds_tz_t *rome = ds_tz_load ("Europe/Rome", NULL, 0);
    assert_non_null (rome);
    fx_packer_t p;
    msgpack_object pattern = s_pattern (&p, 2, 2, 100, OK);
    fx_t c;
    fx_open (&c, &s_class);
    c.win.zone = rome;
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
    ds_tz_destroy (&rome);
}

static void
test_nodata_and_malformed (void **state)
{
    (void) state;
    fx_packer_t p;
    msgpack_object pattern = s_pattern (&p, 1, 0, 100, OK);
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
        { BAD_RASTER, "unexpected result shape: pattern(all): pattern result: raster is not 2560 cells "
                      "(malformed message)" },
        { FOREIGN_TOKEN, "unexpected result shape: pattern(all): pattern result: sample[0] is not "
                         "[bin_start_us, token] of a sampled source" },
        { NO_SOURCES, "unexpected result shape: pattern(all): pattern result: sample or sample_sources "
                      "is not an array within the limit" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        pattern = s_pattern (&p, 4, 8, 100, cases [i].defect);
        fx_refused (&s_all, &pattern, &p, cases [i].err);
    }
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_query),
        cmocka_unit_test (test_dots),
        cmocka_unit_test (test_raster),
        cmocka_unit_test (test_other_zone),
        cmocka_unit_test (test_nodata_and_malformed),
    };
    return cmocka_run_group_tests (tests, fx_setup, fx_teardown);
}
