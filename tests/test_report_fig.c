/*  libs: ds_darkscope ds_proto ds_common */
/*  test_report_fig.c - one figure of the report (services/darkscope/report_fig.c)
    driven by a row of a test family: the CSV header from the row's
    columns, facts zeroed and carried from prepare to caption and plot,
    the common gnuplot header, "no data" (no block, a stale SVG removed),
    the sources CSV, and failures that stop the figure. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>
#include "report_fig.h"
#include "report_fixture.h"

typedef struct {
    int calls;                          //  facts arrive zeroed: counts this draw only
    int64_t value;
} facts_t;
DS_RFIG_FACTS_FIT (facts_t);

//  The test family: result {"value": n, "mode": "ok" | "empty" | "bad"}.
static int
t_prepare (ds_rfig_t *fig, const msgpack_object *result, FILE *csv)
{
    facts_t *f = ds_rfig_facts (fig);
    f->calls++;
    ds_rdata_t *data = ds_rfig_data (fig);
    f->value = ds_rdata_int (data, result, "value", "test");
    msgpack_object_str mode = ds_rdata_str (data, result, "mode", "test");
    if (ds_rdata_failed (data))
        return -1;
    fprintf (csv, "%" PRId64 ",%s\n", f->value, ds_rfig_row (fig)->class_name);
    FILE *src = ds_rfig_sources_open (fig);
    fputs ("0,192.0.2.1\n", src);
    ds_rfig_sources_close (fig, src);
    if (mode.size == 5 && memcmp (mode.ptr, "empty", 5) == 0)
        ds_rfig_nodata (fig, "No data: <none> for %s", ds_rfig_window (fig)->last_day);
    else
        ds_rfig_size (fig, 640, 300 + (int) f->value);
    return 0;
}

static void
t_caption (ds_rfig_t *fig, char *buf, size_t size)
{
    const facts_t *f = ds_rfig_facts (fig);
    snprintf (buf, size, "calls=%d value=%" PRId64, f->calls, f->value);
}

static void
t_plot (ds_rfig_t *fig, FILE *gp)
{
    const facts_t *f = ds_rfig_facts (fig);
    fprintf (gp, "plot 'fig-%s.csv' using 1:2 # %" PRId64 "\n", ds_rfig_row (fig)->name, f->value);
}

static const ds_rfig_row_t s_row = {
    "probe", "A probe figure", NULL, "cls", "value,class", 800, 500, t_prepare, t_caption, t_plot };

//  A result {"value": value, "mode": mode} (the strings are static).
static msgpack_object
s_result (msgpack_object_kv *kv, int64_t value, const char *mode)
{
    kv [0].key = (msgpack_object) { .type = MSGPACK_OBJECT_STR, .via.str = { 5, "value" } };
    kv [0].val = (msgpack_object) { .type = MSGPACK_OBJECT_POSITIVE_INTEGER, .via.u64 = (uint64_t) value };
    kv [1].key = (msgpack_object) { .type = MSGPACK_OBJECT_STR, .via.str = { 4, "mode" } };
    kv [1].val = (msgpack_object) { .type = MSGPACK_OBJECT_STR, .via.str = { (uint32_t) strlen (mode), mode } };
    return (msgpack_object) { .type = MSGPACK_OBJECT_MAP, .via.map = { 2, kv } };
}

static void
test_draw (void **state)
{
    (void) state;
    fx_t c;
    fx_open (&c, &s_row);
    ds_rfig_t *fig = c.fig;
    assert_int_equal (ds_rfig_page (fig)->width, 800);          //  the row's size until prepare sets one
    msgpack_object_kv kv [2];
    msgpack_object result = s_result (kv, 42, "ok");
    assert_int_equal (fx_draw (&c, &result), 0);
    const ds_rfig_page_t *page = ds_rfig_page (fig);
    assert_true (page->has_data);
    assert_true (page->sources_csv);
    assert_int_equal (page->width, 640);
    assert_int_equal (page->height, 342);
    assert_string_equal (page->caption, "calls=1 value=42");
    assert_string_equal (page->nodata, "");
    //  The common header, then the family's block.
    assert_non_null (strstr (c.gp, "\n#  A probe figure\nreset\nset terminal svg size 640,342 "));
    assert_non_null (strstr (c.gp, "set output 'fig-probe.svg'.svg_tmp\n"));
    assert_non_null (strstr (c.gp, "set grid lc rgb '#dddddd' lw 1\nplot 'fig-probe.csv' using 1:2 # 42\n"));
    char *csv = fx_slurp ("fig-probe.csv");
    assert_string_equal (csv, "value,class\n42,cls\n");
    free (csv);
    csv = fx_slurp ("fig-probe-sources.csv");
    assert_string_equal (csv, "token,ip\n0,192.0.2.1\n");
    free (csv);

    //  Drawn again: the facts start from zero.
    assert_int_equal (fx_draw (&c, &result), 0);
    assert_string_equal (ds_rfig_page (fig)->caption, "calls=1 value=42");
    ds_rfig_t *other = ds_rfig_new (&s_row, c.dir, c.data, &c.win);
    ds_rfig_destroy (&other);
    assert_null (other);
    ds_rfig_destroy (&other);
    fx_close (&c);
}

static void
test_nodata (void **state)
{
    (void) state;
    fx_t c;
    fx_open (&c, &s_row);
    char svg [128];
    snprintf (svg, sizeof svg, "%s/fig-probe.svg", s_tmp);
    FILE *stale = fopen (svg, "w");                         //  of an earlier report
    fputs ("<svg/>", stale);
    fclose (stale);
    msgpack_object_kv kv [2];
    msgpack_object result = s_result (kv, 7, "empty");
    ds_rfig_t *fig = c.fig;
    assert_int_equal (fx_draw (&c, &result), 0);
    const ds_rfig_page_t *page = ds_rfig_page (fig);
    assert_false (page->has_data);
    assert_string_equal (page->nodata, "No data: <none> for 2021-03-08");
    assert_string_equal (page->caption, "");
    assert_int_equal (c.gp_size, 0);                        //  no block in the script
    assert_int_equal (access (svg, F_OK), -1);              //  the stale figure is gone
    char *csv = fx_slurp ("fig-probe.csv");
    assert_string_equal (csv, "value,class\n7,cls\n");      //  the data is still written
    free (csv);
    fx_close (&c);
}

static void
test_failures (void **state)
{
    (void) state;
    fx_t c;
    fx_open (&c, &s_row);
    ds_rfig_t *fig = c.fig;
    msgpack_object_kv kv [2];
    msgpack_object result = s_result (kv, 1, "ok");
    kv [0].val.type = MSGPACK_OBJECT_STR;                   //  "value" is no longer an integer
    kv [0].val.via.str = (msgpack_object_str) { 3, "one" };
    assert_int_equal (fx_draw (&c, &result), -1);
    assert_string_equal (c.err, "unexpected result shape: test: \"value\" is not an integer");
    assert_false (ds_rfig_page (fig)->has_data);
    assert_int_equal (c.gp_size, 0);
    char *csv = fx_slurp ("fig-probe.csv");
    assert_string_equal (csv, "value,class\n");             //  the header only
    free (csv);
    fx_close (&c);

    //  A directory where the CSV cannot be written.
    char err [256];
    ds_rdata_t *data = ds_rdata_new (err, sizeof err);
    ds_rdir_t *dir = ds_rdir_new ("/nonexistent-report", data);
    ds_rwindow_t win = { .min_packets = 10 };
    fig = ds_rfig_new (&s_row, dir, data, &win);
    result = s_result (kv, 1, "ok");
    assert_int_equal (ds_rfig_draw (fig, &result, stdout), -1);
    assert_non_null (strstr (err, "cannot write /nonexistent-report/fig-probe.csv"));
    ds_rfig_destroy (&fig);
    ds_rdir_destroy (&dir);
    ds_rdata_destroy (&data);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_draw),
        cmocka_unit_test (test_nodata),
        cmocka_unit_test (test_failures),
    };
    return cmocka_run_group_tests (tests, fx_setup, fx_teardown);
}
