/*  libs: ds_darkscope ds_proto ds_common */
/*  test_report.c - the HTML report engine (services/darkscope/report.c).

    The input of the unit is what a query service answers: the fetch
    function below packs an overview and activity patterns as msgpack (a
    plausible week with several classes, days and services, one class named
    "<script>..." as a hostile GT file could) and unpacks them into the
    caller's zone, exactly as the real client does with a reply.  Then the
    report directory is checked file by file: every figure referenced and
    present, each SVG well formed with plot elements in it, CSV row counts,
    escaping, "no data" notes, raster and sample, and the error paths.

    Set DS_REPORT_DEMO_DIR to keep the full report of test_report_full there
    (deploy/report-screenshot.sh renders it with headless Chromium).
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <unistd.h>
#include <sys/stat.h>
#include <dirent.h>
#include <cmocka.h>
#include "scratch_fixture.h"
#include "report.h"
#include "ds_proto.h"
#include <time.h>
#include "pattern_fixture.h"

#define HOSTILE     "<script>alert('x&y')</script>"
#define N_PORTS     40
#define N_ECDF      25
#define N_DAYS      7
#define N_CLASSES   7
#define N_SERVICES  5

typedef struct {
    uint32_t all_points;            //  points of the all-sources pattern
    uint32_t stretchoid_points;     //  0: the class has no sources
    uint32_t engin_points;
    bool fail_pattern;              //  the fetch of a pattern fails
    bool bad_schema;
    bool empty;                     //  an overview of a window without packets
    const char *tz;                 //  the overview's zone, NULL = "UTC"
    bool no_embed;                  //  no embed service: projection / embedding fail
    int calls;
    ds_query_t seen [8];            //  queries asked, in order
} scenario_t;

#define BAD_UTF8    "caf\xc3\xa9\xff"         //  a valid e-acute, then a byte no UTF-8 text holds
static const char *s_classes [N_CLASSES] = { "mirai", "unknown", "censys", "stretchoid", HOSTILE, "engin-umich", BAD_UTF8 };
static const char *s_services [N_SERVICES] = { "telnet", "http", "others", "ssh", "dns" };


//  --------------------------------------------------------------------------
//  Building the input

static void
pk_str (msgpack_packer *pk, const char *s)
{
    size_t n = strlen (s);
    msgpack_pack_str (pk, n);
    msgpack_pack_str_body (pk, s, n);
}

static void
pk_kv_int (msgpack_packer *pk, const char *key, int64_t v)
{
    pk_str (pk, key);
    msgpack_pack_int64 (pk, v);
}

static void
pk_kv_dbl (msgpack_packer *pk, const char *key, double v)
{
    pk_str (pk, key);
    msgpack_pack_double (pk, v);
}

static void
pk_kv_str (msgpack_packer *pk, const char *key, const char *v)
{
    pk_str (pk, key);
    pk_str (pk, v);
}

//  top_pp entries: {pp, packets, percent[, sources]} with percent computed
//  by the contract's formula 100.0 * packets / total.
static void
pk_top (msgpack_packer *pk, const char **pp, const int64_t *packets, int n, int64_t total, bool sources)
{
    msgpack_pack_array (pk, n);
    for (int i = 0; i < n; i++) {
        msgpack_pack_map (pk, sources ? 4 : 3);
        pk_kv_str (pk, "pp", pp [i]);
        pk_kv_int (pk, "packets", packets [i]);
        pk_kv_dbl (pk, "percent", 100.0 * packets [i] / total);
        if (sources)
            pk_kv_int (pk, "sources", 7 + i);
    }
}

static void
pk_dataset (msgpack_packer *pk, bool empty, int64_t total, const int64_t *top)
{
    static const char *pp [] = { "23/TCP", "2323/TCP", "445/TCP" };
    msgpack_pack_map (pk, 5);
    pk_kv_int (pk, "sources", empty ? 0 : 1234);
    pk_kv_int (pk, "packets", empty ? 0 : total);
    pk_kv_int (pk, "ports", empty ? 0 : N_PORTS);
    pk_kv_int (pk, "pp", empty ? 0 : N_PORTS + 3);
    pk_str (pk, "top_pp");
    pk_top (pk, pp, top, empty ? 0 : 3, total, true);
}

static void
pack_overview (msgpack_packer *pk, const scenario_t *sc)
{
    bool e = sc->empty;
    msgpack_pack_map (pk, 12);
    pk_kv_str (pk, "schema", sc->bad_schema ? "darkscope.overview/99" : "darkscope.overview/1");
    pk_kv_str (pk, "tz", sc->tz ? sc->tz : "UTC");
    pk_kv_int (pk, "min_packets", 10);
    pk_str (pk, "window");
    msgpack_pack_map (pk, 3);
    pk_kv_str (pk, "first_day", "2021-03-02");
    pk_kv_str (pk, "last_day", "2021-03-08");
    pk_kv_int (pk, "days", N_DAYS);

    //  Percentages chosen for known Python round() output: 5000/12000 ->
    //  41.67, 1500/12000 -> 12.5, 4800/12000 -> 40.0.
    pk_str (pk, "dataset");
    msgpack_pack_map (pk, 2);
    pk_str (pk, "window");
    pk_dataset (pk, e, 12000, (int64_t []) { 5000, 4800, 1500 });
    pk_str (pk, "last_day");
    pk_dataset (pk, e, 3000, (int64_t []) { 1000, 999, 1 });

    pk_str (pk, "port_ranking");
    msgpack_pack_array (pk, e ? 0 : N_PORTS);
    for (int i = 0; i < (e ? 0 : N_PORTS); i++) {
        char port [16];
        snprintf (port, sizeof port, i == N_PORTS - 1 ? "-" : "%d", i == 0 ? 23 : 1000 + i);
        msgpack_pack_map (pk, 2);
        pk_kv_str (pk, "port", port);
        pk_kv_int (pk, "packets", 2000 / (i + 1) + 1);
    }
    pk_str (pk, "sender_ecdf");
    msgpack_pack_array (pk, e ? 0 : N_ECDF);
    for (int i = 0; i < (e ? 0 : N_ECDF); i++) {
        msgpack_pack_map (pk, 2);
        pk_kv_int (pk, "packets", 1 + i * i);
        pk_kv_dbl (pk, "fraction", (double) (i + 1) / N_ECDF);
    }
    pk_str (pk, "filter");
    msgpack_pack_map (pk, 2);
    pk_kv_int (pk, "sources_kept", e ? 0 : 321);
    pk_kv_int (pk, "packets_kept", e ? 0 : 10500);

    pk_str (pk, "daily");
    msgpack_pack_array (pk, N_DAYS);
    for (int d = 0; d < N_DAYS; d++) {
        char day [32];
        snprintf (day, sizeof day, "2021-03-%02d", 2 + d);
        int64_t s = e || d == 3 ? 0 : 300 + 20 * d;    //  day 4 has no traffic
        msgpack_pack_map (pk, 5);
        pk_kv_str (pk, "day", day);
        pk_kv_int (pk, "sources", s);
        pk_kv_int (pk, "sources_filtered", s / 4);
        pk_kv_int (pk, "cumulative", e ? 0 : 300 + 150 * d);
        pk_kv_int (pk, "cumulative_filtered", e ? 0 : 75 + 10 * d);
    }

    //  Classes: 2/3 -> 66.7, 1/2 -> 50.0 (Python round to 1 decimal).
    pk_str (pk, "classes");
    msgpack_pack_array (pk, e ? 0 : N_CLASSES);
    for (int c = 0; c < (e ? 0 : N_CLASSES); c++) {
        static const char *pp [] = { "23/TCP", "80/TCP", "22/TCP", "53/UDP", "-/ICMP" };
        int64_t packets = c == 0 ? 3000 : 600 - 50 * c;
        msgpack_pack_map (pk, 5);
        pk_kv_str (pk, "class", s_classes [c]);
        pk_kv_int (pk, "senders", 100 - 10 * c);
        pk_kv_int (pk, "packets", packets);
        pk_kv_int (pk, "pp", 5);
        pk_str (pk, "top_pp");
        int64_t top [] = { packets * 2 / 3, packets / 6, packets / 12, packets / 24, packets / 48 };
        if (c == 1)
            top [0] = packets / 2;
        pk_top (pk, pp, top, 5, packets, false);
    }
    pk_str (pk, "heatmap");
    msgpack_pack_map (pk, 3);
    pk_str (pk, "classes");
    msgpack_pack_array (pk, e ? 0 : N_CLASSES);
    for (int c = 0; c < (e ? 0 : N_CLASSES); c++)
        pk_str (pk, s_classes [c]);
    pk_str (pk, "services");
    msgpack_pack_array (pk, e ? 0 : N_SERVICES);
    for (int s = 0; s < (e ? 0 : N_SERVICES); s++)
        pk_str (pk, s_services [s]);
    pk_str (pk, "fraction");
    msgpack_pack_array (pk, e ? 0 : N_SERVICES);
    for (int s = 0; s < (e ? 0 : N_SERVICES); s++) {
        msgpack_pack_array (pk, N_CLASSES);
        for (int c = 0; c < N_CLASSES; c++)        //  column c: one service dominates
            msgpack_pack_double (pk, s == c % N_SERVICES ? 0.6 : 0.1);
    }
    pk_str (pk, "ingest");
    msgpack_pack_map (pk, 6);
    pk_kv_int (pk, "packets_read", 12010);
    pk_kv_int (pk, "non_ip", 4);
    pk_kv_int (pk, "malformed", 6);
    pk_kv_int (pk, "bad_time", 1);
    pk_kv_int (pk, "dropped", 0);
    pk_kv_int (pk, "gaps", 0);
}

static int
s_cmp_pt (const void *x, const void *y)
{
    const int64_t *a = x, *b = y;
    if (a [0] != b [0])
        return a [0] < b [0] ? -1 : 1;
    return a [1] < b [1] ? -1 : a [1] > b [1];
}

//  A pattern result (tests/pattern_fixture.h) of `points` points spread
//  over the window's week, as query asks it (raster size, sample limit).
static void
pack_pattern (msgpack_packer *pk, const ds_query_t *query, uint32_t points)
{
    uint32_t sources = points == 0 ? 0 : points < 10 ? points : points < 1000 ? 9
                     : points < 100000 ? 300 : 5000;
    int64_t start = 1614643200LL * 1000000;      //  2021-03-02 00:00 UTC
    int64_t bin_us = query->bin_s * 1000000;
    uint32_t rounds = sources ? (points + sources - 1) / sources : 1;
    int64_t step = (7LL * 86400 / query->bin_s / rounds) * bin_us;   //  rounds spread over the week
    int64_t (*pts) [2] = calloc ((size_t) points + 1, sizeof *pts);
    assert_non_null (pts);
    for (uint32_t i = 0; i < points; i++) {
        pts [i][0] = i % sources;
        pts [i][1] = start + (int64_t) (i / sources) * step;
    }
    qsort (pts, points, sizeof *pts, s_cmp_pt);
    fx_pattern_t f = { query->class_name, query->bin_s, start, start + 7 * 86400LL * 1000000,
                       sources, (uint32_t) query->width, (uint32_t) query->height,
                       (uint32_t) query->limit, false };
    fx_pack_pattern (pk, &f, pts, points);
    free (pts);
}

static int
s_fetch (void *ctx, const ds_query_t *query, msgpack_zone *zone, msgpack_object *result,
         char *err, size_t err_size)
{
    scenario_t *sc = ctx;
    if (sc->calls < 8)
        sc->seen [sc->calls] = *query;
    sc->calls++;
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buf, msgpack_sbuffer_write);
    if (strcmp (query->name, "overview") == 0)
        pack_overview (&pk, sc);
    else
    if (strcmp (query->name, "pattern") == 0 && sc->fail_pattern) {
        snprintf (err, err_size, "shard 2 did not answer");
        msgpack_sbuffer_destroy (&buf);
        return -1;
    }
    else
    if (strcmp (query->name, "pattern") == 0) {
        uint32_t n = strcmp (query->class_name, "stretchoid") == 0 ? sc->stretchoid_points
                   : strcmp (query->class_name, "engin-umich") == 0 ? sc->engin_points
                   : sc->all_points;
        pack_pattern (&pk, query, n);
    }
    else
    if (strcmp (query->name, "projection") == 0 && !sc->no_embed) {
        //  three senders: censys, a hostile class name, one unlabelled
        msgpack_pack_map (&pk, 4);
        pk_str (&pk, "method");
        pk_str (&pk, "pca");
        pk_str (&pk, "classes");
        msgpack_pack_array (&pk, 3);
        pk_str (&pk, "censys");
        pk_str (&pk, HOSTILE);
        pk_str (&pk, "unknown");
        pk_str (&pk, "senders");
        msgpack_pack_uint32 (&pk, 3);
        pk_str (&pk, "points");
        msgpack_pack_array (&pk, 3);
        for (int i = 0; i < 3; i++) {
            msgpack_pack_array (&pk, 4);
            msgpack_pack_double (&pk, 0.5 * i - 0.25);
            msgpack_pack_double (&pk, i == 1 ? 0.3 : -0.1);
            msgpack_pack_uint32 (&pk, (uint32_t) i);
            msgpack_pack_uint32 (&pk, i == 2 ? 0 : (uint32_t) i);
        }
    }
    else
    if (strcmp (query->name, "embedding") == 0 && !sc->no_embed) {
        msgpack_pack_map (&pk, 10);
        pk_str (&pk, "accuracy");
        msgpack_pack_double (&pk, 0.9375);
        pk_str (&pk, "macro_f1");
        msgpack_pack_double (&pk, 0.5);
        pk_str (&pk, "weighted_f1");
        msgpack_pack_double (&pk, 0.75);
        pk_str (&pk, "labelled");
        msgpack_pack_uint32 (&pk, 16);
        pk_str (&pk, "unlabelled");
        msgpack_pack_uint32 (&pk, 1);
        pk_str (&pk, "unlabelled_predicted");
        msgpack_pack_array (&pk, 1);
        msgpack_pack_map (&pk, 2);
        pk_str (&pk, "class");
        pk_str (&pk, "censys");
        pk_str (&pk, "senders");
        msgpack_pack_uint32 (&pk, 1);
        pk_str (&pk, "per_class");
        msgpack_pack_array (&pk, 1);
        msgpack_pack_map (&pk, 5);
        pk_str (&pk, "class");
        pk_str (&pk, HOSTILE);
        pk_str (&pk, "support");
        msgpack_pack_uint32 (&pk, 16);
        pk_str (&pk, "precision");
        msgpack_pack_double (&pk, 1.0);
        pk_str (&pk, "recall");
        msgpack_pack_double (&pk, 0.9375);
        pk_str (&pk, "f1");
        msgpack_pack_double (&pk, 0.967741935483871);
        pk_str (&pk, "parameters");
        msgpack_pack_map (&pk, 4);
        pk_str (&pk, "k");
        msgpack_pack_uint32 (&pk, 7);
        pk_str (&pk, "vector_size");
        msgpack_pack_uint32 (&pk, 50);
        pk_str (&pk, "window");
        msgpack_pack_uint32 (&pk, 25);
        pk_str (&pk, "epochs");
        msgpack_pack_uint32 (&pk, 20);
        pk_str (&pk, "corpus");
        msgpack_pack_map (&pk, 2);
        pk_str (&pk, "words");
        msgpack_pack_uint32 (&pk, 12345);
        pk_str (&pk, "sentences");
        msgpack_pack_uint32 (&pk, 67);
        pk_str (&pk, "training_seconds");
        msgpack_pack_double (&pk, 1.25);
    }
    else {
        snprintf (err, err_size, "unknown query %s", query->name);
        msgpack_sbuffer_destroy (&buf);
        return -1;
    }
    //  The objects point into their bytes: keep a copy in the zone.
    char *copy = msgpack_zone_malloc (zone, buf.size);
    assert_non_null (copy);
    memcpy (copy, buf.data, buf.size);
    int rc = ds_mp_unpack ((const uint8_t *) copy, buf.size, zone, result);
    msgpack_sbuffer_destroy (&buf);
    assert_int_equal (rc, 0);
    return 0;
}


//  --------------------------------------------------------------------------
//  Checking the output

static char *
slurp (const char *dir, const char *name)
{
    char path [PATH_MAX];
    snprintf (path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen (path, "rb");
    if (!f)
        return NULL;
    fseek (f, 0, SEEK_END);
    long size = ftell (f);
    fseek (f, 0, SEEK_SET);
    char *data = malloc ((size_t) size + 1);
    assert_non_null (data);
    assert_int_equal (fread (data, 1, (size_t) size, f), (size_t) size);
    data [size] = 0;
    fclose (f);
    return data;
}

//  Data rows of a CSV (lines after the header); -1 if missing.
static long
csv_rows (const char *dir, const char *name)
{
    char *data = slurp (dir, name);
    if (!data)
        return -1;
    long lines = 0;
    for (char *p = data; *p; p++)
        lines += *p == '\n';
    free (data);
    return lines - 1;
}

static bool
file_exists (const char *dir, const char *name)
{
    char path [PATH_MAX];
    struct stat st;
    snprintf (path, sizeof path, "%s/%s", dir, name);
    return stat (path, &st) == 0;
}

static char *
make_dir (void)
{
    char *path = malloc (PATH_MAX);
    assert_non_null (path);
    assert_int_equal (fx_scratch_make (path, PATH_MAX, "test_report"), 0);
    strcat (path, "/out/report");                   //  the engine creates out/report
    return path;
}

static void
free_dir (char *path)
{
    *strstr (path, "/out/report") = 0;
    fx_scratch_remove (path);
    free (path);
}

//  Every entry of dir (hidden ones too) with the content of each file, in
//  name order: equal snapshots, the same files with the same bytes.
static char *
snapshot (const char *dir)
{
    struct dirent **entries;
    int n = scandir (dir, &entries, NULL, alphasort);
    assert_true (n >= 0);
    size_t size = 1, used = 0;
    char *all = calloc (1, size);
    for (int i = 0; i < n; i++) {
        const char *name = entries [i]->d_name;
        struct stat st;
        char path [PATH_MAX];
        snprintf (path, sizeof path, "%s/%s", dir, name);
        assert_int_equal (lstat (path, &st), 0);
        char *data = S_ISREG (st.st_mode) ? slurp (dir, name) : NULL;
        size_t more = strlen (name) + (data ? strlen (data) : 0) + 32;
        all = realloc (all, size += more);
        used += (size_t) snprintf (all + used, more, "%s %o\n%s\n", name, st.st_mode, data ? data : "");
        free (data);
        free (entries [i]);
    }
    free (entries);
    return all;
}

//  Every <img src="..."> of the page, checked as an SVG with plot elements.
static int
check_figures (const char *dir, const char *html)
{
    int images = 0;
    for (const char *p = strstr (html, "<img src=\""); p; p = strstr (p + 1, "<img src=\"")) {
        char name [128];
        const char *start = p + strlen ("<img src=\"");
        size_t len = strcspn (start, "\"");
        assert_true (len < sizeof name);
        memcpy (name, start, len);
        name [len] = 0;
        assert_true (strncmp (name, "fig-", 4) == 0);
        assert_non_null (strstr (name, ".svg"));
        char *svg = slurp (dir, name);
        if (!svg)
            fail_msg ("%s is referenced but missing", name);
        const char *body = svg + strspn (svg, " \t\r\n");
        assert_true (strncmp (body, "<?xml", 5) == 0 || strncmp (body, "<svg", 4) == 0);
        assert_non_null (strstr (svg, "</svg>"));
        assert_true (strstr (svg, "<path") || strstr (svg, "<polyline") || strstr (svg, "<rect")
                  || strstr (svg, "<circle"));
        assert_null (strstr (svg, "<script"));
        //  The data behind it is linked.
        char csv [160];
        snprintf (csv, sizeof csv, "href=\"%.*s.csv\"", (int) (strlen (name) - 4), name);
        assert_non_null (strstr (html, csv));
        free (svg);
        images++;
    }
    return images;
}

static void
test_report_full (void **state)
{
    (void) state;
    char *dir = make_dir ();
    const char *demo = getenv ("DS_REPORT_DEMO_DIR");
    const char *out = demo && *demo ? demo : dir;
    scenario_t sc = { .all_points = 3000, .stretchoid_points = 400, .engin_points = 5 };
    char err [512] = "x";
    int rc = ds_report_write (out, s_fetch, &sc, err, sizeof err);
    if (rc != 0)
        fail_msg ("ds_report_write: %s", err);
    assert_string_equal (err, "");

    //  The queries: the overview, then the patterns over its window, then
    //  the embed service's projection and evaluation (optional: this stub
    //  has none, so the page says "not computed").
    assert_int_equal (sc.calls, 6);
    assert_string_equal (sc.seen [4].name, "projection");
    assert_string_equal (sc.seen [5].name, "embedding");
    assert_string_equal (sc.seen [0].name, "overview");
    const char *classes [] = { "", "stretchoid", "engin-umich" };
    for (int i = 1; i < 4; i++) {
        assert_string_equal (sc.seen [i].name, "pattern");
        assert_string_equal (sc.seen [i].class_name, classes [i - 1]);
        assert_string_equal (sc.seen [i].first_day, "2021-03-02");
        assert_string_equal (sc.seen [i].last_day, "2021-03-08");
    }

    char *html = slurp (out, "index.html");
    assert_non_null (html);
    assert_true (strncmp (html, "<!DOCTYPE html>", 15) == 0);
    assert_non_null (strstr (html, "</html>"));
    assert_non_null (strstr (html, "<title>darkscope: Darknet overview 2021-03-02 to 2021-03-08 (UTC)</title>"));
    //  Self-contained: no scripts, no remote assets.
    assert_null (strstr (html, "<script"));
    assert_null (strstr (html, "http://"));
    assert_null (strstr (html, "https://"));
    assert_null (strstr (html, "<link"));
    //  Every figure is there, each a real SVG.
    const char *figs [] = { "port-rank", "pattern", "sender-ecdf", "daily", "stretchoid", "engin-umich", "heatmap",
                            "embedding" };
    for (size_t i = 0; i < sizeof figs / sizeof *figs; i++) {
        char ref [64];
        snprintf (ref, sizeof ref, "<img src=\"fig-%s.svg\"", figs [i]);
        if (!strstr (html, ref))
            fail_msg ("index.html does not show fig-%s.svg", figs [i]);
    }
    assert_int_equal (check_figures (out, html), 8);
    assert_null (strstr (html, "class=\"nodata\""));
    //  The embedding section: the evaluation, escaped class names.
    assert_non_null (strstr (html, "16 labelled senders: 93.8% are classified correctly"));
    assert_non_null (strstr (html, "accuracy <b>0.938</b>"));
    assert_null (strstr (html, "<td>" HOSTILE));

    //  The tables, rounded as the notebook printed them.
    assert_non_null (strstr (html, "23/TCP (41.67%), 2323/TCP (40.0%), 445/TCP (12.5%)"));
    assert_non_null (strstr (html, "23/TCP (33.33%), 2323/TCP (33.3%), 445/TCP (0.03%)"));
    assert_non_null (strstr (html, "23/TCP (66.7%)"));      //  mirai: 2000 of 3000
    assert_non_null (strstr (html, "23/TCP (50.0%)"));      //  unknown: 275 of 550
    assert_non_null (strstr (html, "<td class=\"num\">12,000</td>"));
    assert_non_null (strstr (html, "engin-umich"));
    //  Ingest counters and the filter.
    assert_non_null (strstr (html, "12,010"));
    assert_non_null (strstr (html, "10,500"));

    //  The hostile class name is text, never markup.
    assert_non_null (strstr (html, "&lt;script&gt;alert(&#39;x&amp;y&#39;)&lt;/script&gt;"));
    char *svg = slurp (out, "fig-heatmap.svg");
    assert_non_null (svg);
    assert_null (strstr (svg, "<script"));
    assert_non_null (strstr (svg, "&lt;script>"));
    //  Invalid UTF-8 never reaches the page or a figure (an SVG must be valid XML).
    assert_non_null (strstr (svg, "caf\xc3\xa9?"));
    assert_non_null (strstr (html, "caf\xc3\xa9?"));
    assert_null (strchr (svg, '\xff'));
    assert_null (strchr (html, '\xff'));
    free (svg);

    //  The threshold is marked: 3 of the 25 sources (1, 2, 5 packets) are under 10.
    svg = slurp (out, "fig-sender-ecdf.svg");
    assert_non_null (strstr (svg, "min_packets = 10 (12.0% of sources below)"));
    free (svg);

    //  The data behind each figure.
    assert_int_equal (csv_rows (out, "fig-port-rank.csv"), N_PORTS);
    assert_int_equal (csv_rows (out, "fig-sender-ecdf.csv"), N_ECDF);
    assert_int_equal (csv_rows (out, "fig-daily.csv"), N_DAYS);
    assert_int_equal (csv_rows (out, "fig-heatmap.csv"), N_CLASSES * N_SERVICES);
    assert_int_equal (csv_rows (out, "fig-pattern.csv"), 3000);
    assert_int_equal (csv_rows (out, "fig-pattern-sources.csv"), 300);
    assert_int_equal (csv_rows (out, "fig-stretchoid.csv"), 400);
    assert_int_equal (csv_rows (out, "fig-stretchoid-sources.csv"), 9);
    assert_int_equal (csv_rows (out, "fig-engin-umich.csv"), 5);
    char *csv = slurp (out, "fig-port-rank.csv");
    const char *head = "rank,port,packets,cumulative_fraction\n1,23,2001,";
    assert_true (strncmp (csv, head, strlen (head)) == 0);
    assert_non_null (strstr (csv, "\n40,-,51,1.0\n"));      //  the last rank holds everything
    free (csv);
    csv = slurp (out, "fig-heatmap.csv");
    assert_non_null (strstr (csv, "4,0,0.1,<script>alert('x&y')</script>,telnet\n"));
    free (csv);

    //  The overview as JSON.
    char *json = slurp (out, "overview.json");
    assert_non_null (json);
    head = "{\"schema\":\"darkscope.overview/1\",\"tz\":\"UTC\",\"min_packets\":10,";
    assert_true (strncmp (json, head, strlen (head)) == 0);
    assert_non_null (strstr (json, "\"percent\":12.5,"));
    assert_non_null (strstr (json, "\"fraction\":[[0.6,0.1,"));
    free (json);
    assert_true (file_exists (out, "report.gp"));
    assert_false (file_exists (out, "index.html.tmp"));
    assert_false (file_exists (out, "report.gp.log"));
    free (html);
    free_dir (dir);
}

//  A class without sources, and a window without packets: "No data" notes.
static void
test_report_no_data (void **state)
{
    (void) state;
    char *dir = make_dir ();
    scenario_t sc = { .all_points = 50, .stretchoid_points = 0, .engin_points = 3 };
    char err [512];
    if (ds_report_write (dir, s_fetch, &sc, err, sizeof err) != 0)
        fail_msg ("ds_report_write: %s", err);
    char *html = slurp (dir, "index.html");
    assert_non_null (html);
    assert_null (strstr (html, "src=\"fig-stretchoid.svg\""));
    const char *fig = strstr (html, "<figure id=\"fig-stretchoid\">");
    assert_non_null (fig);
    const char *note = "<div class=\"nodata\">No data: no source of class &quot;stretchoid&quot;";
    assert_true (strncmp (strstr (fig, "<div"), note, strlen (note)) == 0);
    assert_int_equal (check_figures (dir, html), 7);      //  the embedding's too
    assert_int_equal (csv_rows (dir, "fig-stretchoid.csv"), 0);
    assert_int_equal (csv_rows (dir, "fig-engin-umich.csv"), 3);
    free (html);
    free_dir (dir);

    //  In the directory of an earlier, full report: its figures go.
    dir = make_dir ();
    scenario_t full = { .all_points = 50, .stretchoid_points = 5, .engin_points = 3 };
    if (ds_report_write (dir, s_fetch, &full, err, sizeof err) != 0)
        fail_msg ("ds_report_write: %s", err);
    assert_true (file_exists (dir, "fig-stretchoid.svg"));
    scenario_t empty = { .empty = true, .no_embed = true };
    if (ds_report_write (dir, s_fetch, &empty, err, sizeof err) != 0)
        fail_msg ("ds_report_write: %s", err);
    html = slurp (dir, "index.html");
    assert_non_null (html);
    assert_int_equal (check_figures (dir, html), 0);
    int notes = 0;
    for (const char *p = strstr (html, "<div class=\"nodata\">No data"); p; p = strstr (p + 1, "<div class=\"nodata\">No data"))
        notes++;
    assert_int_equal (notes, 7 + 1);            //  every figure, and the classes table
    assert_non_null (strstr (html, "<div class=\"nodata\">Not computed"));     //  no embedding
    assert_int_equal (csv_rows (dir, "fig-port-rank.csv"), 0);
    assert_false (file_exists (dir, "fig-stretchoid.svg"));
    assert_false (file_exists (dir, "fig-heatmap.svg"));
    assert_int_equal (csv_rows (dir, "fig-daily.csv"), N_DAYS);
    free (html);
    free_dir (dir);
}

//  More points than the sample holds (DS_REPORT_POINTS_MAX): the figure is
//  the exact raster, the CSV the sample, and the caption says so.
static void
test_report_downsample (void **state)
{
    (void) state;
    char *dir = make_dir ();
    char demo [PATH_MAX];
    if (getenv ("DS_REPORT_DEMO_DIR") && *getenv ("DS_REPORT_DEMO_DIR")) {
        snprintf (demo, sizeof demo, "%s-downsampled", getenv ("DS_REPORT_DEMO_DIR"));
        free_dir (dir);
        dir = strdup (demo);
    }
    uint32_t n = 2 * DS_REPORT_POINTS_MAX + 1;
    scenario_t sc = { .all_points = n, .stretchoid_points = 20, .engin_points = 3, .no_embed = true };
    char err [512];
    if (ds_report_write (dir, s_fetch, &sc, err, sizeof err) != 0)
        fail_msg ("ds_report_write: %s", err);
    assert_int_equal (csv_rows (dir, "fig-pattern.csv"), DS_REPORT_POINTS_MAX);
    char *html = slurp (dir, "index.html");
    assert_non_null (strstr (html, "5,000 sources, 200,001 points"));
    assert_non_null (strstr (html, "fig-pattern.csv holds a deterministic sample of 100,000 points"));
    //  No embed service: the section and the figure say so, the rest is there.
    assert_non_null (strstr (html, "Not computed: run <code>darkscope run --embed</code>"));
    assert_null (strstr (html, "<img src=\"fig-embedding.svg\""));
    //  A 7-day window asks for 3-minute bins (about 4320 per window).
    assert_int_equal (sc.seen [1].bin_s, 180);
    ds_query_t defaults;
    ds_query_init (&defaults);
    assert_int_equal (sc.seen [2].bin_s, defaults.bin_s);
    //  Drawn as a raster: the figure stays small.
    assert_non_null (strstr (html, "raster"));
    struct stat st;
    char path [PATH_MAX + 32];
    snprintf (path, sizeof path, "%s/fig-pattern.svg", dir);
    assert_int_equal (stat (path, &st), 0);
    assert_true (st.st_size < 2 * 1024 * 1024);
    free (html);
    if (strstr (dir, "/out/report"))
        free_dir (dir);
    else
        free (dir);
}

//  Pattern times are local times of the overview's zone, whatever the
//  process zone is (and it stays as it was): Rome is UTC+1 on 2021-03-02
//  (summer time starts 03-28).
static void
test_report_time_zone (void **state)
{
    (void) state;
    char *dir = make_dir ();
    setenv ("TZ", "America/New_York", 1);
    tzset ();
    scenario_t sc = { .all_points = 10, .stretchoid_points = 2, .engin_points = 2, .tz = "Europe/Rome" };
    char err [512];
    if (ds_report_write (dir, s_fetch, &sc, err, sizeof err) != 0)
        fail_msg ("ds_report_write: %s", err);
    assert_string_equal (getenv ("TZ"), "America/New_York");
    char *csv = slurp (dir, "fig-engin-umich.csv");
    assert_non_null (strstr (csv, "\n1614643200000000,0,2021-03-02 01:00:00\n"));
    free (csv);
    char *html = slurp (dir, "index.html");
    assert_non_null (strstr (html, "(Europe/Rome)</title>"));
    assert_non_null (strstr (html, "times in Europe/Rome)"));
    free (html);

    //  A zone this host does not know: UTC, and the page says so.
    sc.tz = "Mars/Olympus_Mons";
    if (ds_report_write (dir, s_fetch, &sc, err, sizeof err) != 0)
        fail_msg ("ds_report_write: %s", err);
    html = slurp (dir, "index.html");
    assert_non_null (strstr (html, "times in UTC, not the overview&#39;s zone)"));
    free (html);
    csv = slurp (dir, "fig-engin-umich.csv");
    assert_non_null (strstr (csv, "\n1614643200000000,0,2021-03-02 00:00:00\n"));
    free (csv);
    unsetenv ("TZ");
    tzset ();
    free_dir (dir);
}

static void
test_report_errors (void **state)
{
    (void) state;
    char err [512];
    char *dir = make_dir ();

    //  A failing fetch: its reason is passed on, nothing half written.
    scenario_t sc = { .all_points = 10, .fail_pattern = true };
    assert_int_equal (ds_report_write (dir, s_fetch, &sc, err, sizeof err), -1);
    assert_non_null (strstr (err, "pattern"));
    assert_non_null (strstr (err, "shard 2 did not answer"));
    assert_false (file_exists (dir, "index.html"));
    //  and the directories it made (out/report) are gone again.
    char out [PATH_MAX];
    snprintf (out, sizeof out, "%s", dir);
    *strrchr (out, '/') = 0;
    assert_int_equal (access (out, F_OK), -1);
    assert_int_equal (access (dir, F_OK), -1);

    //  An overview of another schema.
    scenario_t bad = { .bad_schema = true };
    assert_int_equal (ds_report_write (dir, s_fetch, &bad, err, sizeof err), -1);
    assert_non_null (strstr (err, "darkscope.overview/99"));

    //  gnuplot missing.
    scenario_t ok = { .all_points = 10, .stretchoid_points = 4, .engin_points = 4 };
    setenv ("DARKSCOPE_GNUPLOT", "/nonexistent/gnuplot", 1);
    assert_int_equal (ds_report_write (dir, s_fetch, &ok, err, sizeof err), -1);
    unsetenv ("DARKSCOPE_GNUPLOT");
    assert_non_null (strstr (err, "/nonexistent/gnuplot"));
    assert_false (file_exists (dir, "index.html"));

    //  gnuplot failing (a "gnuplot" that exits 1): its log is quoted.
    setenv ("DARKSCOPE_GNUPLOT", "false", 1);
    assert_int_equal (ds_report_write (dir, s_fetch, &ok, err, sizeof err), -1);
    unsetenv ("DARKSCOPE_GNUPLOT");
    assert_non_null (strstr (err, "failed drawing the figures (exit 1)"));

    //  A run's check of the directory: made with its parents, and what it
    //  made named, to be removed again when no report is written.
    assert_false (file_exists (dir, "."));      //  gone with each failure above
    char made [PATH_MAX];
    assert_int_equal (ds_report_prepare (dir, made, sizeof made, err, sizeof err), 0);
    assert_string_equal (made, out);            //  out/ and out/report
    assert_true (file_exists (dir, "."));
    ds_report_unprepare (dir, made);
    assert_int_equal (access (out, F_OK), -1);
    assert_int_equal (ds_report_prepare (dir, made, sizeof made, err, sizeof err), 0);
    assert_int_equal (ds_report_prepare (dir, made, sizeof made, err, sizeof err), 0);
    assert_string_equal (made, "");             //  there already: nothing to remove
    ds_report_unprepare (dir, made);
    assert_true (file_exists (dir, "."));

    //  A directory that cannot be created (its parent is a file).
    char file [PATH_MAX], sub [PATH_MAX + 8];
    snprintf (file, sizeof file, "%s/plain-file", dir);
    FILE *f = fopen (file, "w");
    assert_non_null (f);
    fclose (f);
    snprintf (sub, sizeof sub, "%s/sub", file);
    assert_int_equal (ds_report_write (sub, s_fetch, &ok, err, sizeof err), -1);
    assert_non_null (strstr (err, "plain-file"));
    assert_int_equal (ds_report_write (file, s_fetch, &ok, err, sizeof err), -1);
    assert_non_null (strstr (err, "not a directory"));

    //  Still fine afterwards.
    assert_int_equal (ds_report_write (dir, s_fetch, &ok, err, sizeof err), 0);
    assert_true (file_exists (dir, "index.html"));
    //  A failure into a directory that was there keeps it and its report.
    assert_int_equal (ds_report_write (dir, s_fetch, &sc, err, sizeof err), -1);
    assert_true (file_exists (dir, "index.html"));
    assert_true (file_exists (dir, "overview.json"));
    //  ... whole, not mixed with the new report's files: gnuplot failing
    //  after overview.json, report.gp and every CSV of other data were
    //  written leaves the old report byte for byte, and no staging
    //  directory.
    char *before = snapshot (dir);
    scenario_t other = { .all_points = 30, .stretchoid_points = 7, .engin_points = 2, .tz = "Europe/Rome" };
    setenv ("DARKSCOPE_GNUPLOT", "false", 1);
    assert_int_equal (ds_report_write (dir, s_fetch, &other, err, sizeof err), -1);
    unsetenv ("DARKSCOPE_GNUPLOT");
    char *after = snapshot (dir);
    assert_string_equal (after, before);
    free (after);
    //  A move into place that fails (report.gp is a directory now) puts
    //  back the files moved before it.
    char gp [PATH_MAX + 16];
    snprintf (gp, sizeof gp, "%s/report.gp", dir);
    assert_int_equal (unlink (gp), 0);
    assert_int_equal (mkdir (gp, 0755), 0);
    free (before);
    before = snapshot (dir);
    assert_int_equal (ds_report_write (dir, s_fetch, &other, err, sizeof err), -1);
    assert_non_null (strstr (err, "report.gp: Is a directory"));
    after = snapshot (dir);
    assert_string_equal (after, before);
    assert_int_equal (rmdir (gp), 0);
    //  And a report into it replaces the old one whole.
    assert_int_equal (ds_report_write (dir, s_fetch, &other, err, sizeof err), 0);
    char *html = slurp (dir, "index.html");
    assert_non_null (strstr (html, "(Europe/Rome)</title>"));
    free (html);
    assert_true (file_exists (dir, "report.gp"));
    free (after);
    free (before);
    free_dir (dir);
}

//  The page renders in a real browser (headless Chromium):
//  it loads from disk with no network and paints a screenshot with images.
static void
test_report_browser (void **state)
{
    (void) state;
    const char *browsers [] = { "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome" };
    const char *browser = NULL;
    for (size_t i = 0; i < sizeof browsers / sizeof *browsers && !browser; i++)
        if (access (browsers [i], X_OK) == 0)
            browser = browsers [i];
    //  deploy/install-deps.sh installs Debian's chromium: missing, it fails.
    if (!browser)
        fail_msg ("no chromium (deploy/install-deps.sh installs it: apt-get install -y chromium)");
    char *dir = make_dir ();
    scenario_t sc = { .all_points = 3000, .stretchoid_points = 400, .engin_points = 5 };
    char err [512];
    if (ds_report_write (dir, s_fetch, &sc, err, sizeof err) != 0)
        fail_msg ("ds_report_write: %s", err);
    char command [4 * PATH_MAX];
    snprintf (command, sizeof command,
        "timeout 90 %s --headless --no-sandbox --disable-gpu --disable-background-networking "
        "--disable-component-update --disable-sync --no-first-run --user-data-dir=%s/profile "
        "--screenshot=%s/shot.png --window-size=1280,3000 file://%s/index.html >/dev/null 2>&1",
        browser, dir, dir, dir);
    int rc = system (command);
    (void) rc;                          //  judged by the screenshot it wrote
    char *png = slurp (dir, "shot.png");
    if (!png)
        fail_msg ("chromium wrote no screenshot (%s)", command);
    assert_true (memcmp (png, "\x89PNG", 4) == 0);
    struct stat st;
    char path [PATH_MAX + 16];
    snprintf (path, sizeof path, "%s/shot.png", dir);
    assert_int_equal (stat (path, &st), 0);
    assert_true (st.st_size > 50 * 1024);       //  a blank page compresses to a few KB
    free (png);
    free_dir (dir);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_report_full),
        cmocka_unit_test (test_report_no_data),
        cmocka_unit_test (test_report_downsample),
        cmocka_unit_test (test_report_time_zone),
        cmocka_unit_test (test_report_errors),
        cmocka_unit_test (test_report_browser),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
