/*  report.c - the HTML report of `darkscope report` / `darkscope run --report`.

    One pass: fetch the overview, then the query of every figure that has
    its own (the three activity patterns) over the overview's window;
    write overview.json; walk the figure table, each figure writing its
    CSV and its block of one gnuplot script (report.gp); run gnuplot once
    to render every figure to SVG; write index.html last.  All of it into
    a staging directory, moved into place once complete (report_dir.h).

    The modules, one job each:
      report_data.c     typed reading of results; the one error path
      report_dir.c      the output directory and its files
      report_fig.c      one figure: its table row, CSV, facts, caption, block
      report_curves.c   port rank, packets per source, sources per day
      report_pattern.c  activity patterns (all sources, a class)
      report_heatmap.c  classes x services of the last day
      report_plot.c     gnuplot: blocks, strings, rasters, the process
      report_html.c     the page: sections, tables, figures, escaping

    Everything that comes from the data (class names come from users' GT
    files) is escaped for where it goes: HTML text, CSV fields, gnuplot
    single-quoted strings.  A figure with no data gets a "No data" note
    instead of an image.
*/
#include <stdio.h>
#include <string.h>

#include "report.h"
#include "report_curves.h"
#include "report_data.h"
#include "report_dir.h"
#include "report_embed.h"
#include "report_fig.h"
#include "report_heatmap.h"
#include "report_html.h"
#include "report_pattern.h"
#include "report_plot.h"
#include "json.h"
#include "tz.h"

//  The figures, in the order of report.gp (the page places them by name).
//  Figures follow the DarkVec notebook (seed/darknet-overview.md).
static const ds_rfig_row_t s_figures [] = {
    {   //  cumulative fraction of packets vs port rank (log x), top-14 ports as an inset
        "port-rank", "Port rank ECDF", NULL, NULL,
        "rank,port,packets,cumulative_fraction", 800, 520,
        ds_rcurves_rank_prepare, ds_rcurves_rank_caption, ds_rcurves_rank_plot },
    {   //  a point per (source, time bin), all sources
        "pattern", "Activity pattern of all sources", ds_rpattern_query, "",
        "bin_start_us,token,local_time", 800, 0,
        ds_rpattern_prepare, ds_rpattern_caption, ds_rpattern_plot },
    {   //  packets per source ECDF, min_packets marked
        "sender-ecdf", "Packets per source (ECDF)", NULL, NULL,
        "packets,fraction", 800, 480,
        ds_rcurves_ecdf_prepare, ds_rcurves_ecdf_caption, ds_rcurves_ecdf_plot },
    {   //  distinct sources per day and cumulative, filtered and unfiltered (log y)
        "daily", "Distinct source IPs per day", NULL, NULL,
        "day,sources,sources_filtered,cumulative,cumulative_filtered", 800, 500,
        ds_rcurves_daily_prepare, ds_rcurves_daily_caption, ds_rcurves_daily_plot },
    {   //  the pattern of one class
        "stretchoid", "Stretchoid activity pattern", ds_rpattern_query, "stretchoid",
        "bin_start_us,token,local_time", 640, 0,
        ds_rpattern_prepare, ds_rpattern_caption, ds_rpattern_plot },
    {
        "engin-umich", "engin-umich activity pattern", ds_rpattern_query, "engin-umich",
        "bin_start_us,token,local_time", 640, 0,
        ds_rpattern_prepare, ds_rpattern_caption, ds_rpattern_plot },
    {   //  class x service fractions of the last day, values printed in cells
        "heatmap", "Classes and services (last day)", NULL, NULL,
        "class_index,service_index,fraction,class,service", 0, 0,
        ds_rheatmap_prepare, ds_rheatmap_caption, ds_rheatmap_plot },
    {   //  senders' word2vec vectors on two principal axes, by class (optional: embed service)
        "embedding", "Embedding of senders (PCA)", ds_rembed_query, "",
        "x,y,class_index,predicted_index,class", 820, 620,
        ds_rembed_prepare, ds_rembed_caption, ds_rembed_plot },
};
#define S_FIGURES   (sizeof s_figures / sizeof *s_figures)

typedef struct {
    ds_rdata_t *data;               //  results reader, the one error path
    ds_rdir_t *dir;
    msgpack_zone *zone;             //  holds every result
    msgpack_object overview;
    msgpack_object results [S_FIGURES];     //  what each figure draws from
    ds_rwindow_t win;
    ds_tz_t *tz;                    //  win.zone, owned
    ds_rfig_t *figs [S_FIGURES];
} s_report_t;

static int
s_fetch (s_report_t *self, ds_report_fetch_fn fetch, void *ctx, const ds_query_t *query,
         msgpack_object *result)
{
    char reason [512] = "";
    if (fetch (ctx, query, self->zone, result, reason, sizeof reason) != 0)
        return ds_rdata_fail (self->data, "query %s%s%s failed: %s", query->name,
                              *query->class_name ? " class=" : "", query->class_name,
                              *reason ? reason : "no reason given");
    if (result->type != MSGPACK_OBJECT_MAP)
        return ds_rdata_fail (self->data, "query %s: the result is not a map", query->name);
    return 0;
}

//  Reads the window of the overview and checks its schema.
static int
s_window (s_report_t *self)
{
    if (ds_rdata_window (self->data, &self->overview, &self->win) != 0)
        return -1;
    //  Pattern times are local times of the overview's zone, read here by
    //  name (the process zone is not touched).  A zone this host does not
    //  know: UTC, and the page says so.
    self->tz = ds_tz_load (self->win.tz, NULL, 0);
    self->win.tz_matches = self->tz != NULL;
    if (!self->tz)
        self->tz = ds_tz_load ("UTC", NULL, 0);     //  built in: never fails
    self->win.zone = self->tz;
    return 0;
}

//  The overview, then each figure's own query over its window.
static int
s_fetch_all (s_report_t *self, ds_report_fetch_fn fetch, void *ctx)
{
    ds_query_t query;
    ds_query_init (&query);
    snprintf (query.name, sizeof query.name, "overview");
    if (s_fetch (self, fetch, ctx, &query, &self->overview) != 0 || s_window (self) != 0)
        return -1;
    for (size_t i = 0; i < S_FIGURES && !ds_rdata_failed (self->data); i++) {
        if (!s_figures [i].query) {
            self->results [i] = self->overview;
            continue;
        }
        s_figures [i].query (&s_figures [i], &self->win, &query);
        if (s_figures [i].prepare == ds_rembed_prepare) {
            //  Optional: without an embed service the figure says so.
            char reason [256];
            if (fetch (ctx, &query, self->zone, &self->results [i], reason, sizeof reason) != 0)
                self->results [i] = (msgpack_object) { .type = MSGPACK_OBJECT_NIL };
            continue;
        }
        s_fetch (self, fetch, ctx, &query, &self->results [i]);
    }
    //  The embed service's evaluation, if there is one (else the page
    //  says "not computed").
    char reason [256];
    if (!ds_rdata_failed (self->data))
        ds_rembed_attach (fetch, ctx, self->zone, &self->overview, reason, sizeof reason);
    return ds_rdata_failed (self->data) ? -1 : 0;
}

static void
s_write_json (s_report_t *self)
{
    FILE *json = ds_rdir_open (self->dir, "overview.json");
    if (!json)
        return;
    if (ds_json_write (json, &self->overview) != 0)
        ds_rdata_fail (self->data, "overview: holds a value JSON cannot express (a bin, ext or non-string key)");
    fputc ('\n', json);
    ds_rdir_close (self->dir, json, "overview.json");
}

//  Every figure into report.gp (and its CSVs), then gnuplot draws them.
static int
s_draw_figures (s_report_t *self)
{
    FILE *gp = ds_rdir_open (self->dir, "report.gp");
    if (!gp)
        return -1;
    char comment [160];
    snprintf (comment, sizeof comment, "darkscope report figures, %s to %s; run `gnuplot report.gp` here.",
              self->win.first_day, self->win.last_day);
    ds_rplot_head (gp, comment);
    for (size_t i = 0; i < S_FIGURES && !ds_rdata_failed (self->data); i++) {
        self->figs [i] = ds_rfig_new (&s_figures [i], self->dir, self->data, &self->win);
        if (!self->figs [i])
            ds_rdata_fail (self->data, "out of memory");
        else
            ds_rfig_draw (self->figs [i], &self->results [i], gp);
    }
    if (ds_rdir_close (self->dir, gp, "report.gp") != 0 || ds_rdata_failed (self->data))
        return -1;
    const char *drawn [S_FIGURES];
    size_t count = 0;
    for (size_t i = 0; i < S_FIGURES; i++)
        if (ds_rfig_page (self->figs [i])->has_data)
            drawn [count++] = s_figures [i].name;
    return ds_rplot_run (self->dir, self->data, drawn, count);
}

int
ds_report_prepare (const char *dir, char *made, size_t made_size, char *err, size_t err_size)
{
    ds_rdata_t *data = ds_rdata_new (err, err_size);
    ds_rdir_t *rdir = data ? ds_rdir_new (dir, data) : NULL;
    int rc = rdir ? ds_rdir_make (rdir) : -1;
    if (!rdir && err && err_size)
        snprintf (err, err_size, "out of memory");
    if (rc != 0 && rdir)
        ds_rdir_discard (rdir);         //  a parent made before the failure
    snprintf (made, made_size, "%s", rc == 0 ? ds_rdir_made (rdir) : "");
    ds_rdir_destroy (&rdir);
    ds_rdata_destroy (&data);
    return rc;
}

void
ds_report_unprepare (const char *dir, const char *made)
{
    ds_rdir_unmake (dir, made);
}

int
ds_report_write (const char *dir, ds_report_fetch_fn fetch, void *ctx, char *err, size_t err_size)
{
    s_report_t self = { .data = ds_rdata_new (err, err_size) };
    if (!self.data) {
        if (err && err_size)
            snprintf (err, err_size, "out of memory");
        return -1;
    }
    if (!dir || !fetch)
        ds_rdata_fail (self.data, "ds_report_write: no directory or fetch function");
    else
    if (!(self.zone = msgpack_zone_new (64 * 1024)) || !(self.dir = ds_rdir_new (dir, self.data)))
        ds_rdata_fail (self.data, "out of memory");
    else
    if (ds_rdir_make (self.dir) == 0 && ds_rdir_stage (self.dir) == 0 && s_fetch_all (&self, fetch, ctx) == 0) {
        s_write_json (&self);
        if (!ds_rdata_failed (self.data) && s_draw_figures (&self) == 0
        &&  ds_rhtml_write (self.dir, self.data, &self.overview, &self.win, self.figs, S_FIGURES) == 0)
            ds_rdir_commit (self.dir, "index.html");    //  the whole report, or the old one
    }
    int rc = ds_rdata_failed (self.data) ? -1 : 0;
    for (size_t i = 0; i < S_FIGURES; i++)
        ds_rfig_destroy (&self.figs [i]);
    if (rc != 0 && self.dir)
        ds_rdir_discard (self.dir);     //  an unreachable server leaves no empty directory, nor half a report
    ds_rdir_destroy (&self.dir);
    if (self.zone)
        msgpack_zone_free (self.zone);
    ds_tz_destroy (&self.tz);
    ds_rdata_destroy (&self.data);
    return rc;
}
