/*  report_pattern.c - the activity-pattern figures; see report_pattern.h.

    The pattern query answers an exact raster of the (source, bin) points
    and a page of a deterministic sample (proto/PROTOCOL.md, "The pattern
    query").  The figure asks for a raster of about one cell per pixel of
    its plot area and draws it as an image (gnuplot embeds it in the SVG as
    a PNG): darker cells hold more points, on a log scale of the fullest
    cell.  When every point fits in the sample and they are few enough for
    SVG dots, it draws the dots instead, with the sources' IPs as y tics
    when they are few (a class like engin-umich).

    x is local wall-clock time in the window's zone (the overview's, or
    UTC when this host does not know it, then with a day more on each
    side): gnuplot's time axis has no zone, so times are written as local
    seconds.

    Files: fig-<name>.csv the sample points (bin_start_us, token,
    local_time), fig-<name>-sources.csv their sources (token, ip),
    fig-<name>-raster.csv the raster's non-empty cells with the tokens and
    times each covers, fig-<name>.raster the image.
*/
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "report_pattern.h"
#include "report_plot.h"
#include "pattern_reply.h"
#include "civil.h"
#include "text.h"
#include "tz.h"

#define S_TICS_NAMED    24              //  label y tics with IPs up to this many sources
#define S_VECTOR_MAX    20000           //  more points are drawn as the raster
#define S_RASTER_MARGIN 160             //  figure width/height minus this ~ plot area in pixels
#define S_PLOT_HEIGHT   520             //  figure height with many sources
#define S_RASTER_DARK   6               //  colour steps of a raster cell

typedef struct {
    int64_t bin_s;
    uint64_t sources, points;
    uint32_t n_sample;                  //  points in the sample (the CSV)
    uint32_t n_sample_sources;
    bool dots;                          //  every point drawn as a dot, not the raster
    bool small;                         //  few sources: their IPs are the y tics
    bool exact;
    uint32_t width, height;             //  raster cells
    int64_t x0, x1;                     //  x range, local wall-clock seconds
    double rx0, rdx, rdy;               //  raster origin and cell size (seconds, tokens)
    uint64_t max_cell;
    const msgpack_object *tics;         //  the result's sample_sources (alive while drawn)
} s_pattern_t;
DS_RFIG_FACTS_FIT (s_pattern_t);

void
ds_rpattern_query (const ds_rfig_row_t *row, const ds_rwindow_t *window, ds_query_t *query)
{
    ds_query_init (query);
    snprintf (query->name, sizeof query->name, "pattern");
    memcpy (query->first_day, window->first_day, sizeof query->first_day);
    memcpy (query->last_day, window->last_day, sizeof query->last_day);
    snprintf (query->class_name, sizeof query->class_name, "%s", row->class_name);
    query->min_packets = window->min_packets;
    if (!*row->class_name) {
        int64_t days = (int64_t) window->last_dn - window->first_dn + 1;
        query->bin_s = 60 * ((days + 2) / 3);
    }
    //  About a cell per pixel of the plot area; the sample feeds the CSV.
    query->width = row->width - S_RASTER_MARGIN;
    query->height = S_PLOT_HEIGHT - S_RASTER_MARGIN;
    query->limit = DS_REPORT_POINTS_MAX;
}

//  The zone of the window's local times.
static const ds_tz_t *
s_zone (const ds_rwindow_t *win)
{
    return win->zone ? win->zone : ds_tz_utc ();
}

//  Local wall-clock seconds of ts, for gnuplot's zone-less time axis.
static int64_t
s_local_s (const ds_rwindow_t *win, int64_t ts_us)
{
    return ds_civil_floor_div (ts_us, DS_US_PER_S) + ds_tz_offset (s_zone (win), ts_us);
}

//  fig-<name>.csv (the sample points) and fig-<name>-sources.csv.
static int
s_write_sample (ds_rfig_t *fig, const ds_pattern_reply_t *r, FILE *csv)
{
    const ds_tz_t *zone = s_zone (ds_rfig_window (fig));
    for (uint32_t i = 0; i < r->n_sample; i++) {
        char text [40];
        ds_tz_format (zone, r->sample_bin [i], text);
        text [19] = 0;                  //  bins start on whole seconds
        fprintf (csv, "%" PRId64 ",%" PRIu64 ",%s\n", r->sample_bin [i], r->sample_token [i], text);
    }
    FILE *src = ds_rfig_sources_open (fig);
    if (!src)
        return -1;
    for (uint32_t i = 0; i < r->n_sample_sources; i++) {
        fprintf (src, "%" PRIu64 ",", r->source_token [i]);
        ds_text_csv (src, r->source_ip [i], strlen (r->source_ip [i]));
        fputc ('\n', src);
    }
    return ds_rfig_sources_close (fig, src);
}

//  fig-<name>-raster.csv: each non-empty cell with the tokens and the time
//  it covers, and fig-<name>.raster, its colour steps for the image.
static int
s_write_raster (ds_rfig_t *fig, const ds_pattern_reply_t *r, s_pattern_t *f)
{
    const char *name = ds_rfig_row (fig)->name;
    char file [96];
    snprintf (file, sizeof file, "fig-%s-raster.csv", name);
    FILE *csv = ds_rdir_open (ds_rfig_dir (fig), file);
    if (!csv)
        return -1;
    fputs ("row,col,first_token,last_token,from_us,to_us,points\n", csv);
    int64_t bin_us = r->bin_s * 1000000;
    for (uint32_t y = 0; y < r->height; y++) {
        //  row y holds tokens ceil(y S / h) .. ceil((y + 1) S / h) - 1
        uint64_t t0 = (uint64_t) (((unsigned __int128) y * r->sources + r->height - 1) / r->height);
        uint64_t t1 = (uint64_t) (((unsigned __int128) (y + 1) * r->sources + r->height - 1) / r->height);
        for (uint32_t x = 0; x < r->width; x++) {
            uint64_t c = r->cells [(size_t) y * r->width + x];
            if (!c)
                continue;
            uint64_t b0 = (uint64_t) (((unsigned __int128) x * r->bins + r->width - 1) / r->width);
            uint64_t b1 = (uint64_t) (((unsigned __int128) (x + 1) * r->bins + r->width - 1) / r->width);
            fprintf (csv, "%u,%u,%" PRIu64 ",%" PRIu64 ",%" PRId64 ",%" PRId64 ",%" PRIu64 "\n", y, x, t0, t1 - 1,
                     r->x0_us + (int64_t) b0 * bin_us, r->x0_us + (int64_t) b1 * bin_us, c);
        }
    }
    if (ds_rdir_close (ds_rfig_dir (fig), csv, file))
        return -1;
    size_t n = (size_t) r->width * r->height;
    uint8_t *steps = malloc (n ? n : 1);
    if (!steps)
        return ds_rdata_fail (ds_rfig_data (fig), "out of memory");
    double top = log ((double) (f->max_cell > 1 ? f->max_cell : 2));
    for (size_t i = 0; i < n; i++) {
        uint64_t c = r->cells [i];
        int k = c == 0 ? 0 : 1 + (int) ((S_RASTER_DARK - 1) * log ((double) c) / top);
        steps [i] = (uint8_t) (k > S_RASTER_DARK ? S_RASTER_DARK : k);
    }
    int rc = ds_rplot_raster_write (ds_rfig_dir (fig), name, steps, (int) r->width, (int) r->height);
    free (steps);
    return rc;
}

int
ds_rpattern_prepare (ds_rfig_t *fig, const msgpack_object *pattern, FILE *csv)
{
    ds_rdata_t *data = ds_rfig_data (fig);
    s_pattern_t *f = ds_rfig_facts (fig);
    const ds_rfig_row_t *row = ds_rfig_row (fig);
    const ds_rwindow_t *win = ds_rfig_window (fig);
    ds_pattern_reply_t r;
    char why [256];
    if (ds_pattern_reply_read (pattern, &r, why, sizeof why)) {
        ds_pattern_reply_free (&r);
        return ds_rdata_fail (data, "unexpected result shape: pattern(%s): %s",
                              *row->class_name ? row->class_name : "all", why);
    }
    f->bin_s = r.bin_s;
    f->sources = r.sources;
    f->points = r.points;
    f->n_sample = r.n_sample;
    f->n_sample_sources = r.n_sample_sources;
    f->exact = r.exact;
    f->width = r.width;
    f->height = r.height;
    for (size_t i = 0; i < (size_t) r.width * r.height; i++)
        f->max_cell = r.cells [i] > f->max_cell ? r.cells [i] : f->max_cell;
    f->dots = r.offset == 0 && !r.has_next && r.n_sample == r.points && r.points <= S_VECTOR_MAX;
    f->small = f->dots && r.sources <= S_TICS_NAMED;
    f->tics = ds_mp_get (pattern, "sample_sources");
    f->x0 = (int64_t) win->first_dn * 86400;
    f->x1 = ((int64_t) win->last_dn + 1) * 86400;
    if (!win->tz_matches) {
        f->x0 -= 86400;
        f->x1 += 86400;
    }
    f->rx0 = (double) s_local_s (win, r.x0_us);
    f->rdx = r.width ? (double) r.bins * (double) r.bin_s / r.width : 1;
    f->rdy = r.height ? (double) r.sources / r.height : 1;
    int height = f->small ? 200 + 22 * (int) r.sources : S_PLOT_HEIGHT;
    ds_rfig_size (fig, row->width, height < 300 ? 300 : height);
    int rc = s_write_sample (fig, &r, csv);
    if (rc == 0 && !f->dots)
        rc = s_write_raster (fig, &r, f);
    if (rc == 0 && f->dots) {
        char stale [96];
        snprintf (stale, sizeof stale, "fig-%s.raster", row->name);
        ds_rdir_unlink (ds_rfig_dir (fig), stale);
        snprintf (stale, sizeof stale, "fig-%s-raster.csv", row->name);
        ds_rdir_unlink (ds_rfig_dir (fig), stale);
    }
    ds_pattern_reply_free (&r);
    if (rc != 0 || ds_rdata_failed (data))
        return -1;
    if (f->points == 0) {
        if (*row->class_name)
            ds_rfig_nodata (fig, "No data: no source of class \"%s\" sent packets in the window.", row->class_name);
        else
            ds_rfig_nodata (fig, "No data: no packets in the window.");
    }
    return 0;
}

void
ds_rpattern_caption (ds_rfig_t *fig, char *buf, size_t size)
{
    const s_pattern_t *f = ds_rfig_facts (fig);
    const ds_rwindow_t *win = ds_rfig_window (fig);
    const char *class_name = ds_rfig_row (fig)->class_name;
    const char *name = ds_rfig_row (fig)->name;
    char t1 [32], t2 [32], t3 [32], bin [48], how [480];
    if (f->bin_s % 60 == 0)
        snprintf (bin, sizeof bin, "%" PRId64 "-minute", f->bin_s / 60);
    else
        snprintf (bin, sizeof bin, "%" PRId64 "-second", f->bin_s);
    if (f->dots)
        snprintf (how, sizeof how, "All %s points are drawn.", ds_text_group ((int64_t) f->points, t1, sizeof t1));
    else
        snprintf (how, sizeof how,
            "Drawn as a %ux%u raster of exact counts (a row per %.4g sources, a column per %.4g bins): "
            "darker cells hold more points, up to %s. fig-%s.csv holds a deterministic sample of %s "
            "points (whole sources chosen by address hash), fig-%s-raster.csv the counts.",
            f->width, f->height, f->rdy, f->rdx / (double) f->bin_s,
            ds_text_group ((int64_t) f->max_cell, t1, sizeof t1), name,
            ds_text_group (f->n_sample, t2, sizeof t2), name);
    snprintf (buf, size,
        "Activity pattern of %s%s%s: a dot per source and %s bin in which it sent at least one "
        "packet, %s to %s (times in %s%s). Sources on the y axis are numbered by their first "
        "packet (%s sources, %s points%s). %s",
        *class_name ? "the sources of class \"" : "all sources", class_name, *class_name ? "\"" : "",
        bin, win->first_day, win->last_day, ds_tz_name (s_zone (win)),
        win->tz_matches ? "" : ", not the overview's zone", ds_text_group ((int64_t) f->sources, t3, sizeof t3),
        ds_text_group ((int64_t) f->points, t1, sizeof t1),
        f->exact ? "" : "; approximate: the data changed while it was drawn", how);
}

//  "set ytics ('ip' token, ...)" from the result's sample_sources.
static void
s_tics (FILE *gp, const msgpack_object *sources)
{
    fputs ("set ytics (", gp);
    for (uint32_t i = 0; sources && i < sources->via.array.size; i++) {
        const msgpack_object *e = &sources->via.array.ptr [i];
        fputs (i ? ", " : "", gp);
        ds_rplot_str (gp, e->via.array.ptr [1].via.str.ptr, e->via.array.ptr [1].via.str.size);
        fprintf (gp, " %" PRIu64, e->via.array.ptr [0].via.u64);
    }
    fputs (") font 'Helvetica,10'\n", gp);
}

void
ds_rpattern_plot (ds_rfig_t *fig, FILE *gp)
{
    const s_pattern_t *f = ds_rfig_facts (fig);
    const ds_rwindow_t *win = ds_rfig_window (fig);
    const char *name = ds_rfig_row (fig)->name;
    bool of_class = *ds_rfig_row (fig)->class_name != 0;
    int64_t pad = (f->x1 - f->x0) / 100;        //  points on the first bin stay off the border
    fprintf (gp,
        "set xdata time\n"
        "set timefmt '%%s'\n"
        "set format x '%s'\n"
        "set xrange ['%" PRId64 "':'%" PRId64 "']\n"
        "set xtics rotate by 45 right\n"
        "set yrange [-0.5:%g]\n"
        "set xlabel 'Time (%s)'\n"
        "set ylabel '%s'\n"
        "set key off\n",
        win->last_dn - win->first_dn >= 3 ? "%m-%d" : "%m-%d %H:%M",
        f->x0 - pad, f->x1 + pad, (double) f->sources - 0.5, ds_tz_name (s_zone (win)),
        f->small ? "" : "Source (token)");
    if (f->small)
        s_tics (gp, f->tics);
    const char *color = of_class ? "#c0392b" : "#1f4e9a";
    const char *light = of_class ? "#eeb4ad" : "#9db6e3";       //  raster cells with the fewest points
    if (!f->dots)
        ds_rplot_raster_plot (gp, name, (int) f->width, (int) f->height, f->rx0, -0.5, f->rdx, f->rdy,
                              S_RASTER_DARK, light, color);
    else
        fprintf (gp,
            "plot 'fig-%s.csv' skip 1 using (timecolumn(3, '%%Y-%%m-%%d %%H:%%M:%%S')):2 "
            "with points pt 7 ps %s lc rgb '%s'\n",
            name, f->points > 2000 ? "0.15" : "0.4", color);
}
