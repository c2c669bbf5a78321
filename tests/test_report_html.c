/*  libs: ds_darkscope ds_proto ds_common */
/*  test_report_html.c - index.html of the report (services/darkscope/report_html.c):
    sections and their links in order, figures numbered as the page shows
    them (a pair side by side), captions and "no data" notes, the tables
    rounded as the notebook printed them, everything from the data escaped,
    and a page that names a figure nobody drew refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "report_html.h"
#include "report_fixture.h"

#define HOSTILE "<b>\"x\" & 'y'</b>"

//  A family that draws nothing: the figure's caption names it, and
//  figures whose result is nil have no data.
static int
t_prepare (ds_rfig_t *fig, const msgpack_object *result, FILE *csv)
{
    (void) csv;
    if (result->type == MSGPACK_OBJECT_NIL)
        ds_rfig_nodata (fig, "No data: nothing for " HOSTILE ".");
    else
    if (strcmp (ds_rfig_row (fig)->name, "pattern") == 0) {
        FILE *src = ds_rfig_sources_open (fig);
        ds_rfig_sources_close (fig, src);
    }
    return 0;
}

static void
t_caption (ds_rfig_t *fig, char *buf, size_t size)
{
    snprintf (buf, size, "Caption of %s " HOSTILE ".", ds_rfig_row (fig)->name);
}

static void
t_plot (ds_rfig_t *fig, FILE *gp)
{
    (void) fig;
    (void) gp;
}

#define ROW(name) { name, "Title " name, NULL, NULL, "x", 800, 400, t_prepare, t_caption, t_plot }
static const ds_rfig_row_t s_rows [] = {
    ROW ("port-rank"), ROW ("pattern"), ROW ("sender-ecdf"), ROW ("daily"),
    ROW ("stretchoid"), ROW ("engin-umich"), ROW ("embedding"), ROW ("heatmap") };
#define N_ROWS  (sizeof s_rows / sizeof *s_rows)

static void
pk_kv_int (msgpack_packer *pk, const char *key, int64_t v)
{
    fx_str (pk, key);
    msgpack_pack_int64 (pk, v);
}

static void
pk_top (msgpack_packer *pk, const char *pp, double percent, int64_t sources)
{
    msgpack_pack_array (pk, 1);
    msgpack_pack_map (pk, sources ? 3 : 2);
    fx_str (pk, "pp");
    fx_str (pk, pp);
    fx_str (pk, "percent");
    msgpack_pack_double (pk, percent);
    if (sources)
        pk_kv_int (pk, "sources", sources);
}

//  The parts of an overview the tables read; classes: 0 or 1 row.
static msgpack_object
s_overview (fx_packer_t *p, int classes)
{
    msgpack_packer *pk = fx_pack (p);
    msgpack_pack_map (pk, 4);
    fx_str (pk, "dataset");
    msgpack_pack_map (pk, 2);
    const char *parts [] = { "window", "last_day" };
    for (int i = 0; i < 2; i++) {
        fx_str (pk, parts [i]);
        msgpack_pack_map (pk, 5);
        pk_kv_int (pk, "sources", i ? 1234 : 12345);
        pk_kv_int (pk, "packets", i ? 3000 : 1200000);
        pk_kv_int (pk, "ports", 40);
        pk_kv_int (pk, "pp", 43);
        fx_str (pk, "top_pp");
        pk_top (pk, i ? "23/TCP" : "445/TCP", i ? 100.0 / 3 : 12.5, 7);
    }
    fx_str (pk, "filter");
    msgpack_pack_map (pk, 2);
    pk_kv_int (pk, "sources_kept", 321);
    pk_kv_int (pk, "packets_kept", 600000);
    fx_str (pk, "classes");
    msgpack_pack_array (pk, classes);
    for (int c = 0; c < classes; c++) {
        msgpack_pack_map (pk, 5);
        fx_str (pk, "class");
        fx_str (pk, HOSTILE);
        pk_kv_int (pk, "senders", 100);
        pk_kv_int (pk, "packets", 2000);
        pk_kv_int (pk, "pp", 5);
        fx_str (pk, "top_pp");
        pk_top (pk, "23/TCP", 200.0 / 3, 0);
    }
    fx_str (pk, "ingest");
    msgpack_pack_map (pk, 6);
    pk_kv_int (pk, "packets_read", 1200010);
    pk_kv_int (pk, "non_ip", 4);
    pk_kv_int (pk, "malformed", 6);
    pk_kv_int (pk, "bad_time", 1);
    pk_kv_int (pk, "dropped", 0);
    pk_kv_int (pk, "gaps", 0);
    return fx_object (p);
}

typedef struct {
    fx_t c;
    ds_rfig_t *figs [N_ROWS];
    size_t count;
} page_t;

//  Draws the first `count` figures; those in `empty` have no data.
static void
page_draw (page_t *page, size_t count, const char *empty)
{
    fx_open (&page->c, &s_rows [0]);
    snprintf (page->c.win.tz, sizeof page->c.win.tz, "Europe/<Rome>");
    page->count = count;
    for (size_t i = 0; i < count; i++) {
        page->figs [i] = ds_rfig_new (&s_rows [i], page->c.dir, page->c.data, &page->c.win);
        msgpack_object result = { .type = strstr (empty, s_rows [i].name)
                                  ? MSGPACK_OBJECT_NIL : MSGPACK_OBJECT_MAP };
        assert_int_equal (ds_rfig_draw (page->figs [i], &result, page->c.gp_out), 0);
    }
}

static int
page_write (page_t *page, const msgpack_object *overview)
{
    return ds_rhtml_write (page->c.dir, page->c.data, overview, &page->c.win, page->figs, page->count);
}

static void
page_close (page_t *page)
{
    for (size_t i = 0; i < page->count; i++)
        ds_rfig_destroy (&page->figs [i]);
    fx_close (&page->c);
}

//  The offset of needle in text; fails if missing.
static size_t
s_at (const char *text, const char *needle)
{
    const char *hit = strstr (text, needle);
    if (!hit)
        fail_msg ("index.html lacks: %s", needle);
    return (size_t) (hit - text);
}

static void
test_page (void **state)
{
    (void) state;
    fx_packer_t p;
    msgpack_object ov = s_overview (&p, 1);
    page_t page;
    page_draw (&page, N_ROWS, "daily");
    assert_int_equal (page_write (&page, &ov), 0);
    assert_int_equal (fx_size ("index.html.tmp"), -1);
    char *html = fx_slurp ("index.html");
    assert_non_null (html);

    //  The zone from the overview is text; the links in section order.
    s_at (html, "<title>darkscope: Darknet overview 2021-03-02 to 2021-03-08 (Europe/&lt;Rome&gt;)</title>");
    s_at (html, "<nav><a href=\"#ports\">Port ranking</a><a href=\"#pattern\">Activity pattern</a>"
                "<a href=\"#dataset\">Dataset statistics</a><a href=\"#filter\">Filter</a>"
                "<a href=\"#daily\">Distinct IPs</a><a href=\"#lastday\">Last day</a>"
                "<a href=\"#gtpattern\">GT patterns</a><a href=\"#heatmap\">Services</a>"
                "<a href=\"#embedding\">Embedding</a><a href=\"#ingest\">Ingest</a></nav>");
    //  Figures numbered in page order; a section's table, its data link, its figure.
    size_t filter = s_at (html, "<section id=\"filter\">\n<h2>Filter definition</h2>\n<p class=\"intro\">"
                                "Senders of only a few packets in the whole window are noise for this "
                                "analysis: sources with fewer than 10 packets are filtered out.</p>\n<table>");
    size_t link = s_at (html, "key <code>filter</code>.</p>\n<figure id=\"fig-sender-ecdf\">");
    assert_true (filter < link);
    s_at (html, "<figcaption><b>Figure 1. Title port-rank.</b> Caption of port-rank "
                "&lt;b&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/b&gt;. Data: <a href=\"fig-port-rank.csv\">");
    s_at (html, "<b>Figure 3. Title sender-ecdf.</b>");
    s_at (html, "<b>Figure 7. Title heatmap.</b>");
    s_at (html, "<img src=\"fig-heatmap.svg\" width=\"800\" height=\"400\" alt=\"Title heatmap\">");
    s_at (html, "fig-pattern-sources.csv</a> (token &rarr; IP).</figcaption>");
    //  A figure without data: the note, no image, "(empty)".
    s_at (html, "<figure id=\"fig-daily\">\n<div class=\"nodata\">No data: nothing for "
                "&lt;b&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/b&gt;.</div>\n"
                "<figcaption><b>Figure 4. Title daily.</b>  Data: <a href=\"fig-daily.csv\">fig-daily.csv</a> (empty).");
    assert_null (strstr (html, "fig-daily.svg"));
    //  The two class patterns side by side.
    s_at (html, "<div class=\"pair\">\n<figure id=\"fig-stretchoid\">");
    s_at (html, "</figure>\n</div>\n</section>\n<section id=\"heatmap\">");
    //  Tables: grouped counts, percentages as Python's round() prints them.
    s_at (html, "<tr><td>Sources</td><td class=\"num\">1,234</td><td class=\"num\">12,345</td></tr>");
    s_at (html, "<td class=\"num pp\">23/TCP (33.33%)</td><td class=\"num pp\">445/TCP (12.5%)</td>");
    s_at (html, "<td class=\"num pp\">23/TCP: 7</td>");
    s_at (html, "<tr><td>Sources</td><td class=\"num\">321</td><td class=\"num\">12,345</td><td class=\"num\">2.6</td></tr>");
    s_at (html, "<tr><td>Packets</td><td class=\"num\">600,000</td><td class=\"num\">1,200,000</td><td class=\"num\">50.0</td></tr>");
    s_at (html, "<tr><td>&lt;b&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/b&gt;</td><td class=\"num\">100</td>"
                "<td class=\"num\">2,000</td><td class=\"num\">5</td><td class=\"pp\">23/TCP (66.7%)</td></tr>");
    s_at (html, "<tr><td>Skipped: malformed</td><td class=\"num warn\">6</td></tr>");
    s_at (html, "<tr><td>Skipped: not IP</td><td class=\"num\">4</td></tr>");
    assert_null (strstr (html, HOSTILE));
    assert_null (strstr (html, "<script"));
    free (html);
    page_close (&page);
    fx_pack_free (&p);
}

static void
test_empty_and_missing (void **state)
{
    (void) state;
    fx_packer_t p;
    msgpack_object ov = s_overview (&p, 0);
    page_t page;
    page_draw (&page, N_ROWS, "");
    assert_int_equal (page_write (&page, &ov), 0);
    char *html = fx_slurp ("index.html");
    s_at (html, "<section id=\"lastday\">");
    s_at (html, "<div class=\"nodata\">No data: no source with at least 10 packets sent packets on 2021-03-08.</div>");
    free (html);
    page_close (&page);
    char index [128];
    snprintf (index, sizeof index, "%s/index.html", s_tmp);
    assert_int_equal (remove (index), 0);

    //  The page names the heatmap, which was not drawn: refused, no page.
    page_draw (&page, N_ROWS - 1, "");
    assert_int_equal (page_write (&page, &ov), -1);
    assert_string_equal (page.c.err, "report: the page shows figure heatmap, which the figure table does not have");
    assert_int_equal (fx_size ("index.html"), -1);
    page_close (&page);

    //  A table's value of the wrong type: the reader's error, no page.
    fx_pack_free (&p);
    msgpack_packer *pk = fx_pack (&p);
    msgpack_pack_map (pk, 1);
    fx_str (pk, "ingest");
    msgpack_pack_map (pk, 1);
    fx_str (pk, "packets_read");
    fx_str (pk, "many");
    ov = fx_object (&p);
    page_draw (&page, N_ROWS, "");
    assert_int_equal (page_write (&page, &ov), -1);
    assert_string_equal (page.c.err, "unexpected result shape: overview: \"dataset\" is missing, want a map");
    assert_int_equal (fx_size ("index.html"), -1);
    page_close (&page);
    fx_pack_free (&p);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_page),
        cmocka_unit_test (test_empty_and_missing),
    };
    return cmocka_run_group_tests (tests, fx_setup, fx_teardown);
}
