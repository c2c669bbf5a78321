/*  report_html.c - index.html of the report; see report_html.h.

    The page is a table of sections (s_sections): each has its heading,
    an introduction, optionally a table of the overview with a link to its
    key in overview.json, and up to two figures (two sit side by side).
*/
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "report_html.h"
#include "text.h"

typedef struct {
    ds_rdata_t *data;
    const msgpack_object *overview;
    const ds_rwindow_t *win;
    ds_rfig_t *const *figs;
    size_t count;
    int shown;                      //  figures on the page so far
} s_page_t;

typedef void (s_table_fn) (s_page_t *self, FILE *out);
typedef void (s_intro_fn) (const ds_rwindow_t *win, char *buf, size_t size);
static s_table_fn s_html_dataset, s_html_filter, s_html_classes, s_html_ingest, s_html_embedding;
static s_intro_fn s_intro_filter, s_intro_lastday;

//  The sections in page order.  Intros are HTML as they stand.
static const struct {
    const char *id;
    const char *nav;                //  its link in the header
    const char *title;
    const char *intro;              //  or NULL: intro_fn writes it
    s_intro_fn *intro_fn;
    s_table_fn *table;              //  a table of the overview, or NULL
    const char *key;                //  the table's key in overview.json
    const char *figures [2];        //  names of figures shown, NULL-padded
} s_sections [] = {
    { "ports", "Port ranking", "Port ranking",
      "How concentrated is darknet traffic on a few ports? Ports ranked by the packets they receive.",
      NULL, NULL, NULL, { "port-rank" } },
    { "pattern", "Activity pattern", "Activity pattern",
      "Each dot is a source (y) active in a time bin (x): horizontal lines are sources "
      "that never stop, vertical stripes are coordinated bursts.",
      NULL, NULL, NULL, { "pattern" } },
    { "dataset", "Dataset statistics", "Dataset statistics",
      "The last day alone and the full window, unfiltered. Percentages rounded to 2 decimals as the notebook printed them.",
      NULL, s_html_dataset, "dataset", { NULL } },
    { "filter", "Filter", "Filter definition",
      NULL, s_intro_filter, s_html_filter, "filter", { "sender-ecdf" } },
    { "daily", "Distinct IPs", "Distinct IPs seen over the window",
      "The filter's effect day by day: distinct sources per day and cumulative, with and without it.",
      NULL, NULL, NULL, { "daily" } },
    { "lastday", "Last day", "Last day of traffic",
      NULL, s_intro_lastday, s_html_classes, "classes", { NULL } },
    { "gtpattern", "GT patterns", "Some notable ground-truth activity patterns",
      "Stretchoid scans in regular rounds; engin-umich runs a few sources on a schedule.",
      NULL, NULL, NULL, { "stretchoid", "engin-umich" } },
    { "heatmap", "Services", "Ground truth / services incidence",
      "Which services each class targets on the last day.",
      NULL, NULL, NULL, { "heatmap" } },
    { "embedding", "Embedding", "Who is this unknown sender like? (DarkVec embedding)",
      "Senders as words, the sequence of senders that hit one service within one hour as a "
      "sentence: word2vec gives each sender a vector, and each sender is classified by the "
      "majority class of its 7 nearest labelled senders (cosine). The table is that "
      "classification evaluated on the labelled senders, leaving each one out.",
      NULL, s_html_embedding, "embedding", { "embedding" } },
    { "ingest", "Ingest", "Ingest",
      "What the sensors read and what was skipped; non-zero losses are shown in red.",
      NULL, s_html_ingest, "ingest", { NULL } },
};

static const char s_css [] =
    "body{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;color:#1d2733;"
    "background:#f4f6f9;margin:0;line-height:1.45}\n"
    "main{max-width:1120px;margin:0 auto;padding:0 24px 48px}\n"
    "header{background:#1d2b45;color:#fff;padding:28px 0 22px}\n"
    "header div{max-width:1120px;margin:0 auto;padding:0 24px}\n"
    "header h1{margin:0 0 6px;font-size:28px;font-weight:600}\n"
    "header p{margin:0;color:#c9d3e3}\n"
    "nav{margin:18px 0 0;font-size:14px}nav a{color:#9fc0ff;margin-right:16px;text-decoration:none}\n"
    "section{background:#fff;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.08);"
    "padding:18px 26px 22px;margin:22px 0}\n"
    "h2{font-size:20px;margin:4px 0 10px;color:#1d2b45}\n"
    "p.intro{color:#4a5666;margin:0 0 14px}\n"
    "table{border-collapse:collapse;margin:8px 0 4px;font-size:14px}\n"
    "th,td{padding:6px 12px;border-bottom:1px solid #e3e7ee;text-align:left;vertical-align:top}\n"
    "th{background:#eef2f8;font-weight:600}\n"
    "tbody tr:nth-child(even) td{background:#fafbfd}\n"
    "td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}\n"
    "td.pp{font-family:Menlo,Consolas,monospace;font-size:13px}\n"
    "figure{margin:12px 0 6px;text-align:center}\n"
    "figure img{max-width:100%;height:auto;border:1px solid #e3e7ee;border-radius:4px}\n"
    "figcaption{text-align:left;font-size:14px;color:#3b4756;margin:8px 4px 0}\n"
    "figcaption b{color:#1d2b45}\n"
    "p.data{font-size:13px;color:#5b6675;margin:4px 0 10px}\n"
    ".pair{display:flex;gap:18px;flex-wrap:wrap}.pair figure{flex:1 1 460px;min-width:0}\n"
    ".nodata{border:2px dashed #c3cad6;border-radius:6px;padding:46px 16px;color:#5b6675;"
    "background:#f8f9fb;font-size:16px}\n"
    ".warn{color:#a4161a;font-weight:600}\n"
    "a{color:#1f4e9a}\n"
    "footer{font-size:13px;color:#5b6675;margin:24px 0}\n";



//  --------------------------------------------------------------------------
//  Escaping

static void
s_html_ascii (FILE *out, unsigned char c)
{
    switch (c) {
        case '&':  fputs ("&amp;", out); break;
        case '<':  fputs ("&lt;", out); break;
        case '>':  fputs ("&gt;", out); break;
        case '"':  fputs ("&quot;", out); break;
        case '\'': fputs ("&#39;", out); break;
        default:   fputc (c, out);
    }
}

//  HTML text of a string from the data.
static void
s_html_str (FILE *out, msgpack_object_str s)
{
    ds_text_write (out, s.ptr, s.size, s_html_ascii);
}

//  HTML text of a C string.
static void
s_html_c (FILE *out, const char *text)
{
    ds_text_write (out, text, strlen (text), s_html_ascii);
}


//  --------------------------------------------------------------------------
//  Tables

//  "23/TCP (45.3%), 2323/TCP (...)" with percentages rounded to `decimals`.
static void
s_html_top (s_page_t *self, FILE *out, const msgpack_object *top, int decimals, const char *where)
{
    char pct [32];
    for (uint32_t i = 0; i < top->via.array.size; i++) {
        const msgpack_object *e = &top->via.array.ptr [i];
        fputs (i ? ", " : "", out);
        s_html_str (out, ds_rdata_str (self->data, e, "pp", where));
        fprintf (out, " (%s%%)", ds_text_round (ds_rdata_num (self->data, e, "percent", where), decimals, pct, sizeof pct));
    }
}

static void
s_html_dataset (s_page_t *self, FILE *out)
{
    const msgpack_object *dataset = ds_rdata_map (self->data, self->overview, "dataset", "overview");
    const msgpack_object *part [2] = {
        ds_rdata_map (self->data, dataset, "last_day", "overview.dataset"),
        ds_rdata_map (self->data, dataset, "window", "overview.dataset") };
    const char *where [2] = { "overview.dataset.last_day", "overview.dataset.window" };
    static const struct { const char *key, *label; } rows [] = {
        { "sources", "Sources" }, { "packets", "Packets" }, { "ports", "Ports" },
        { "pp", "Port/protocol pairs" } };
    char buf [40];
    fprintf (out,
        "<table>\n<thead><tr><th></th><th class=\"num\">Last day</th><th class=\"num\">Full window</th></tr></thead>\n"
        "<tbody>\n<tr><td>Date (YYYY-MM-DD)</td><td class=\"num\">%s</td><td class=\"num\">[%s, %s]</td></tr>\n",
        self->win->last_day, self->win->first_day, self->win->last_day);
    for (size_t r = 0; r < sizeof rows / sizeof *rows; r++) {
        fprintf (out, "<tr><td>%s</td>", rows [r].label);
        for (int p = 0; p < 2; p++)
            fprintf (out, "<td class=\"num\">%s</td>",
                     ds_text_group (ds_rdata_int (self->data, part [p], rows [r].key, where [p]), buf, sizeof buf));
        fputs ("</tr>\n", out);
    }
    fputs ("<tr><td>Top-3 ports (% of traffic)</td>", out);
    for (int p = 0; p < 2; p++) {
        fputs ("<td class=\"num pp\">", out);
        s_html_top (self, out, ds_rdata_arr (self->data, part [p], "top_pp", where [p]), 2, where [p]);
        fputs ("</td>", out);
    }
    fputs ("</tr>\n<tr><td>Sources sending to the top-3 ports</td>", out);
    for (int p = 0; p < 2; p++) {
        const msgpack_object *top = ds_rdata_arr (self->data, part [p], "top_pp", where [p]);
        fputs ("<td class=\"num pp\">", out);
        for (uint32_t i = 0; i < top->via.array.size; i++) {
            const msgpack_object *e = &top->via.array.ptr [i];
            fputs (i ? ", " : "", out);
            s_html_str (out, ds_rdata_str (self->data, e, "pp", where [p]));
            fprintf (out, ": %s", ds_text_group (ds_rdata_int (self->data, e, "sources", where [p]), buf, sizeof buf));
        }
        fputs ("</td>", out);
    }
    fputs ("</tr>\n</tbody></table>\n", out);
}

static void
s_html_filter (s_page_t *self, FILE *out)
{
    const msgpack_object *filter = ds_rdata_map (self->data, self->overview, "filter", "overview");
    const msgpack_object *dataset = ds_rdata_map (self->data, self->overview, "dataset", "overview");
    const msgpack_object *window = ds_rdata_map (self->data, dataset, "window", "overview.dataset");
    int64_t kept = ds_rdata_int (self->data, filter, "sources_kept", "overview.filter");
    int64_t kept_packets = ds_rdata_int (self->data, filter, "packets_kept", "overview.filter");
    int64_t sources = ds_rdata_int (self->data, window, "sources", "overview.dataset.window");
    int64_t packets = ds_rdata_int (self->data, window, "packets", "overview.dataset.window");
    char a [40], b [40], pct [32];
    fprintf (out, "<table>\n<thead><tr><th>Filter: at least %" PRId64 " packets over the window</th>"
                  "<th class=\"num\">Kept</th><th class=\"num\">Of</th><th class=\"num\">%%</th></tr></thead>\n<tbody>\n",
             self->win->min_packets);
    fprintf (out, "<tr><td>Sources</td><td class=\"num\">%s</td><td class=\"num\">%s</td><td class=\"num\">%s</td></tr>\n",
             ds_text_group (kept, a, sizeof a), ds_text_group (sources, b, sizeof b),
             sources ? ds_text_round (100.0 * kept / sources, 2, pct, sizeof pct) : "&ndash;");
    fprintf (out, "<tr><td>Packets</td><td class=\"num\">%s</td><td class=\"num\">%s</td><td class=\"num\">%s</td></tr>\n",
             ds_text_group (kept_packets, a, sizeof a), ds_text_group (packets, b, sizeof b),
             packets ? ds_text_round (100.0 * kept_packets / packets, 2, pct, sizeof pct) : "&ndash;");
    fputs ("</tbody></table>\n", out);
}

static void
s_html_classes (s_page_t *self, FILE *out)
{
    const msgpack_object *classes = ds_rdata_arr (self->data, self->overview, "classes", "overview");
    const char *where = "overview.classes[]";
    char a [40], b [40], c [40];
    if (classes->via.array.size == 0) {
        fprintf (out, "<div class=\"nodata\">No data: no source with at least %" PRId64
                      " packets sent packets on %s.</div>\n", self->win->min_packets, self->win->last_day);
        return;
    }
    fputs ("<table>\n<thead><tr><th>Source</th><th class=\"num\">Senders</th><th class=\"num\">Packets</th>"
           "<th class=\"num\">Ports</th><th>Top-5 ports (% traffic)</th></tr></thead>\n<tbody>\n", out);
    for (uint32_t i = 0; i < classes->via.array.size && !ds_rdata_failed (self->data); i++) {
        const msgpack_object *row = &classes->via.array.ptr [i];
        fputs ("<tr><td>", out);
        s_html_str (out, ds_rdata_str (self->data, row, "class", where));
        fprintf (out, "</td><td class=\"num\">%s</td><td class=\"num\">%s</td><td class=\"num\">%s</td><td class=\"pp\">",
                 ds_text_group (ds_rdata_int (self->data, row, "senders", where), a, sizeof a),
                 ds_text_group (ds_rdata_int (self->data, row, "packets", where), b, sizeof b),
                 ds_text_group (ds_rdata_int (self->data, row, "pp", where), c, sizeof c));
        s_html_top (self, out, ds_rdata_arr (self->data, row, "top_pp", where), 1, "overview.classes[].top_pp[]");
        fputs ("</td></tr>\n", out);
    }
    fputs ("</tbody></table>\n", out);
}

static void
s_html_ingest (s_page_t *self, FILE *out)
{
    const msgpack_object *ingest = ds_rdata_map (self->data, self->overview, "ingest", "overview");
    static const struct { const char *key, *label; bool bad; } rows [] = {
        { "packets_read", "Packets (frames, log lines) read", false },
        { "non_ip",       "Skipped: not IP",                  false },
        { "malformed",    "Skipped: malformed",               true },
        { "bad_time",     "Skipped: impossible timestamps",   true },
        { "dropped",      "Dropped by live capture",          true },
        { "gaps",         "Batches lost in transit (gaps)",   true } };
    char buf [40];
    fputs ("<table>\n<thead><tr><th>Counter</th><th class=\"num\">Value</th></tr></thead>\n<tbody>\n", out);
    for (size_t r = 0; r < sizeof rows / sizeof *rows; r++) {
        int64_t v = ds_rdata_int (self->data, ingest, rows [r].key, "overview.ingest");
        fprintf (out, "<tr><td>%s</td><td class=\"num%s\">%s</td></tr>\n", rows [r].label,
                 rows [r].bad && v > 0 ? " warn" : "", ds_text_group (v, buf, sizeof buf));
    }
    fputs ("</tbody></table>\n", out);
}

//  The embed service's evaluation (overview "embedding", attached by the
//  report when there is one) and the predicted classes of unlabelled senders.
static void
s_html_embedding (s_page_t *self, FILE *out)
{
    const msgpack_object *e = ds_mp_get (self->overview, "embedding");
    if (!e) {
        fputs ("<div class=\"nodata\">Not computed: run <code>darkscope run --embed</code>, or start "
               "<code>darkscope-embed</code> next to the query service.</div>\n", out);
        return;
    }
    const char *where = "overview.embedding";
    ds_rdata_t *data = self->data;
    const msgpack_object *params = ds_rdata_map (data, e, "parameters", where);
    const msgpack_object *corpus = ds_rdata_map (data, e, "corpus", where);
    char n [40], pct [40], acc [40], mac [40], wei [40], sec [40], words [40], sents [40];
    fprintf (out, "<p>%s labelled senders: %s%% are classified correctly by the majority of their %" PRId64
                  " nearest labelled neighbours (accuracy <b>%s</b>, macro F1 %s, weighted F1 %s). "
                  "Vectors of %" PRId64 " dimensions, window %" PRId64 ", %" PRId64 " epochs, "
                  "trained in %s s on %s words in %s sentences.</p>\n",
             ds_text_group (ds_rdata_int (data, e, "labelled", where), n, sizeof n),
             ds_text_round (100.0 * ds_rdata_num (data, e, "accuracy", where), 1, pct, sizeof pct),
             ds_rdata_int (data, params, "k", where),
             ds_text_round (ds_rdata_num (data, e, "accuracy", where), 3, acc, sizeof acc),
             ds_text_round (ds_rdata_num (data, e, "macro_f1", where), 3, mac, sizeof mac),
             ds_text_round (ds_rdata_num (data, e, "weighted_f1", where), 3, wei, sizeof wei),
             ds_rdata_int (data, params, "vector_size", where), ds_rdata_int (data, params, "window", where),
             ds_rdata_int (data, params, "epochs", where),
             ds_text_round (ds_rdata_num (data, e, "training_seconds", where), 1, sec, sizeof sec),
             ds_text_group (ds_rdata_int (data, corpus, "words", where), words, sizeof words),
             ds_text_group (ds_rdata_int (data, corpus, "sentences", where), sents, sizeof sents));
    char a [40], b [40], c [40], d [40];
    const msgpack_object *rows = ds_rdata_arr (data, e, "per_class", where);
    fputs ("<table>\n<thead><tr><th>Class</th><th class=\"num\">Senders</th><th class=\"num\">Precision</th>"
           "<th class=\"num\">Recall</th><th class=\"num\">F1</th></tr></thead>\n<tbody>\n", out);
    for (uint32_t i = 0; i < rows->via.array.size && !ds_rdata_failed (data); i++) {
        const msgpack_object *row = &rows->via.array.ptr [i];
        const char *w = "overview.embedding.per_class[]";
        fputs ("<tr><td>", out);
        s_html_str (out, ds_rdata_str (data, row, "class", w));
        fprintf (out, "</td><td class=\"num\">%s</td><td class=\"num\">%s</td><td class=\"num\">%s</td>"
                      "<td class=\"num\">%s</td></tr>\n",
                 ds_text_group (ds_rdata_int (data, row, "support", w), a, sizeof a),
                 ds_text_round (ds_rdata_num (data, row, "precision", w), 2, b, sizeof b),
                 ds_text_round (ds_rdata_num (data, row, "recall", w), 2, c, sizeof c),
                 ds_text_round (ds_rdata_num (data, row, "f1", w), 2, d, sizeof d));
    }
    fputs ("</tbody></table>\n", out);
    const msgpack_object *unl = ds_mp_get (e, "unlabelled_predicted");
    if (!unl || unl->type != MSGPACK_OBJECT_ARRAY || unl->via.array.size == 0)
        return;
    fprintf (out, "<p>The %s unlabelled senders, by the class of their nearest labelled senders "
                  "(every one with its confidence: <code>darkscope query classify</code>):</p>\n"
                  "<table>\n<thead><tr><th>Predicted class</th><th class=\"num\">Senders</th></tr></thead>\n<tbody>\n",
             ds_text_group (ds_rdata_int (data, e, "unlabelled", where), a, sizeof a));
    for (uint32_t i = 0; i < unl->via.array.size && !ds_rdata_failed (data); i++) {
        const msgpack_object *row = &unl->via.array.ptr [i];
        const char *w = "overview.embedding.unlabelled_predicted[]";
        fputs ("<tr><td>", out);
        s_html_str (out, ds_rdata_str (data, row, "class", w));
        fprintf (out, "</td><td class=\"num\">%s</td></tr>\n",
                 ds_text_group (ds_rdata_int (data, row, "senders", w), a, sizeof a));
    }
    fputs ("</tbody></table>\n", out);
}

static void
s_intro_filter (const ds_rwindow_t *win, char *buf, size_t size)
{
    snprintf (buf, size, "Senders of only a few packets in the whole window are noise for "
        "this analysis: sources with fewer than %" PRId64 " packets are filtered out.", win->min_packets);
}

static void
s_intro_lastday (const ds_rwindow_t *win, char *buf, size_t size)
{
    snprintf (buf, size, "Packets of %s from sources with at least %" PRId64 " packets over "
        "the 30 days ending that day, by ground-truth class (rows by senders). Percentages rounded to "
        "1 decimal.", win->last_day, win->min_packets);
}


//  --------------------------------------------------------------------------
//  Figures and the page

static ds_rfig_t *
s_find (s_page_t *self, const char *name)
{
    for (size_t i = 0; i < self->count; i++)
        if (strcmp (ds_rfig_row (self->figs [i])->name, name) == 0)
            return self->figs [i];
    return NULL;
}

static void
s_html_figure (s_page_t *self, FILE *out, const char *name)
{
    ds_rfig_t *figure = s_find (self, name);
    if (!figure) {
        ds_rdata_fail (self->data, "report: the page shows figure %s, which the figure table does not have", name);
        return;
    }
    const ds_rfig_page_t *fig = ds_rfig_page (figure);
    const char *title = ds_rfig_row (figure)->title;
    fprintf (out, "<figure id=\"fig-%s\">\n", name);
    if (fig->has_data)
        fprintf (out, "<img src=\"fig-%s.svg\" width=\"%d\" height=\"%d\" alt=\"%s\">\n",
                 name, fig->width, fig->height, title);
    else {
        fputs ("<div class=\"nodata\">", out);
        s_html_c (out, fig->nodata);
        fputs ("</div>\n", out);
    }
    fprintf (out, "<figcaption><b>Figure %d. %s.</b> ", ++self->shown, title);
    if (fig->has_data)
        s_html_c (out, fig->caption);
    fprintf (out, " Data: <a href=\"fig-%s.csv\">fig-%s.csv</a>", name, name);
    if (fig->sources_csv)
        fprintf (out, ", <a href=\"fig-%s-sources.csv\">fig-%s-sources.csv</a> (token &rarr; IP)", name, name);
    if (!fig->has_data)
        fputs (" (empty)", out);
    fputs (".</figcaption>\n</figure>\n", out);
}

//  The page's head and header, with a link to every section.
static void
s_html_head (s_page_t *self, FILE *out)
{
    char title [160];
    snprintf (title, sizeof title, "Darknet overview %s to %s (%s)",
              self->win->first_day, self->win->last_day, self->win->tz);
    fputs ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>darkscope: ", out);
    s_html_c (out, title);
    fprintf (out, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<header><div>\n<h1>", s_css);
    s_html_c (out, title);
    fprintf (out, "</h1>\n<p>%" PRId64 " day%s, days in time zone ", self->win->days, self->win->days == 1 ? "" : "s");
    s_html_c (out, self->win->tz);
    fprintf (out, ", filter threshold min_packets = %" PRId64 ". Reproduces the darknet overview of "
                  "DarkVec (CoNEXT 2021, Section 3).</p>\n<nav>", self->win->min_packets);
    for (size_t i = 0; i < sizeof s_sections / sizeof *s_sections; i++)
        fprintf (out, "<a href=\"#%s\">%s</a>", s_sections [i].id, s_sections [i].nav);
    fputs ("</nav>\n</div></header>\n<main>\n", out);
}

static void
s_html_sections (s_page_t *self, FILE *out)
{
    for (size_t i = 0; i < sizeof s_sections / sizeof *s_sections; i++) {
        char intro [600];
        if (s_sections [i].intro_fn)
            s_sections [i].intro_fn (self->win, intro, sizeof intro);
        else
            snprintf (intro, sizeof intro, "%s", s_sections [i].intro);
        fprintf (out, "<section id=\"%s\">\n<h2>%s</h2>\n<p class=\"intro\">%s</p>\n",
                 s_sections [i].id, s_sections [i].title, intro);
        if (s_sections [i].table) {
            s_sections [i].table (self, out);
            fprintf (out, "<p class=\"data\">Data: <a href=\"overview.json\">overview.json</a>, "
                          "key <code>%s</code>.</p>\n", s_sections [i].key);
        }
        bool pair = s_sections [i].figures [1] != NULL;
        if (pair)
            fputs ("<div class=\"pair\">\n", out);
        for (int f = 0; f < 2 && s_sections [i].figures [f]; f++)
            s_html_figure (self, out, s_sections [i].figures [f]);
        fputs (pair ? "</div>\n</section>\n" : "</section>\n", out);
    }
}

int
ds_rhtml_write (ds_rdir_t *dir, ds_rdata_t *data, const msgpack_object *overview,
                const ds_rwindow_t *window, ds_rfig_t *const *figs, size_t count)
{
    s_page_t self = { .data = data, .overview = overview, .win = window, .figs = figs, .count = count };
    FILE *out = ds_rdir_open (dir, "index.html");
    if (!out)
        return -1;
    s_html_head (&self, out);
    s_html_sections (&self, out);
    fputs ("<footer>Generated by darkscope. Data: <a href=\"overview.json\">overview.json</a> "
           "(the full overview), a CSV next to each figure, and <a href=\"report.gp\">report.gp</a> "
           "(the gnuplot script; run <code>gnuplot report.gp</code> in this directory to redraw).</footer>\n"
           "</main>\n</body>\n</html>\n", out);
    if (ds_rdata_failed (data))
        return -1;                      //  left open: abandoned, no page, with the directory handle
    return ds_rdir_close (dir, out, "index.html");
}
