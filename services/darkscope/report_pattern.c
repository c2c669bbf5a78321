/*  report_pattern.c - the activity-pattern figures; see report_pattern.h.

    x is local wall-clock time in the process zone (the overview's, which
    report.c switched to; a day more on each side when it could not):
    gnuplot's time axis has no zone, so times are written as local
    seconds.  Up to S_VECTOR_MAX drawn points are SVG dots; more become an
    occupancy raster (about one cell per screen pixel, embedded by gnuplot
    as a PNG), since 200k SVG elements make a 20 MB figure that browsers
    crawl through.  Above DS_REPORT_POINTS_MAX points every k-th is drawn,
    deterministically, as the notebook's modulo-3 downsampling.
*/
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report.h"
#include "report_pattern.h"
#include "report_plot.h"
#include "civil.h"
#include "text.h"
#include "tzday.h"

#define S_TICS_NAMED    24              //  label y tics with IPs up to this many sources
#define S_VECTOR_MAX    20000           //  more drawn points become a raster
#define S_RASTER_MARGIN 160             //  figure width/height minus this ~ plot area in pixels
#define S_RASTER_DARK   4               //  points in a raster cell for the darkest colour

typedef struct {
    int64_t bin_s;
    const msgpack_object *sources;      //  array of IP strings, by token
    uint32_t n_sources;
    uint32_t points;                    //  in the reply
    uint32_t stride;                    //  every stride-th point is drawn
    uint32_t drawn;
    bool raster;                        //  drawn as fig-<name>.raster, not as dots
    bool small;                         //  few sources: their IPs are the y tics
    int grid_w, grid_h;                 //  raster cells
    int64_t x0, x1;                     //  x range, local wall-clock seconds
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
}

//  Local wall-clock seconds of ts (the process zone), for gnuplot's
//  zone-less time axis; one localtime_r per hour of data.
static int64_t
s_local_s (int64_t ts_us, int64_t *hour, int64_t *offset)
{
    int64_t t = ds_civil_floor_div (ts_us, DS_US_PER_S);
    if (t / 3600 != *hour) {
        struct tm tm;
        time_t tt = (time_t) t;
        *hour = t / 3600;
        *offset = localtime_r (&tt, &tm) ? tm.tm_gmtoff : 0;
    }
    return t + *offset;
}

//  fig-<name>-sources.csv: token,ip.
static int
s_write_sources (ds_rfig_t *fig, const s_pattern_t *f, const char *where)
{
    ds_rdata_t *data = ds_rfig_data (fig);
    FILE *src = ds_rfig_sources_open (fig);
    if (!src)
        return -1;
    for (uint32_t i = 0; i < f->n_sources; i++) {
        const msgpack_object *ip = &f->sources->via.array.ptr [i];
        if (ip->type != MSGPACK_OBJECT_STR) {
            ds_rdata_fail (data, "unexpected result shape: %s.sources[%u] is not a string", where, i);
            break;
        }
        fprintf (src, "%u,", i);
        ds_text_csv (src, ip->via.str.ptr, ip->via.str.size);
        fputc ('\n', src);
    }
    if (ds_rfig_sources_close (fig, src) || ds_rdata_failed (data))
        return -1;
    return 0;
}

//  The x range, the figure's size and, for a raster, its cells: about one
//  per pixel of the plot area.
static void
s_geometry (ds_rfig_t *fig, s_pattern_t *f)
{
    const ds_rwindow_t *win = ds_rfig_window (fig);
    f->x0 = (int64_t) win->first_dn * 86400;
    f->x1 = ((int64_t) win->last_dn + 1) * 86400;
    if (!win->tz_matches) {
        f->x0 -= 86400;
        f->x1 += 86400;
    }
    f->raster = f->drawn > S_VECTOR_MAX;
    f->small = f->n_sources <= S_TICS_NAMED;
    int width = ds_rfig_row (fig)->width;
    int height = f->small ? 200 + 22 * (int) f->n_sources : 520;
    height = height < 300 ? 300 : height;
    ds_rfig_size (fig, width, height);
    f->grid_w = width - S_RASTER_MARGIN;
    f->grid_h = height - S_RASTER_MARGIN;
    f->grid_h = (int) f->n_sources < f->grid_h ? (int) f->n_sources : f->grid_h;
}

//  Checks every point, writes the drawn ones as CSV rows and counts them
//  into grid (when not NULL).
static int
s_write_points (ds_rfig_t *fig, const s_pattern_t *f, const msgpack_object *points,
                FILE *csv, uint8_t *grid, const char *where)
{
    ds_rdata_t *data = ds_rfig_data (fig);
    int64_t hour = INT64_MIN, offset = 0;
    for (uint32_t i = 0; i < f->points; i++) {
        const msgpack_object *p = &points->via.array.ptr [i];
        if (p->type != MSGPACK_OBJECT_ARRAY || p->via.array.size != 2
        ||  !ds_rdata_is_int (&p->via.array.ptr [0]) || !ds_rdata_is_int (&p->via.array.ptr [1]))
            return ds_rdata_fail (data, "unexpected result shape: %s.points[%u] is not [bin_start_us, token]",
                                  where, i);
        int64_t ts = ds_rdata_as_int (&p->via.array.ptr [0]);
        int64_t token = ds_rdata_as_int (&p->via.array.ptr [1]);
        if (token < 0 || token >= (int64_t) f->n_sources)
            return ds_rdata_fail (data, "%s.points[%u]: token %" PRId64 " is not one of the %u sources",
                                  where, i, token, f->n_sources);
        if (i % f->stride)
            continue;
        char text [40];
        ds_ts_format (ts, text);
        text [19] = 0;                  //  bins start on whole seconds
        fprintf (csv, "%" PRId64 ",%" PRId64 ",%s\n", ts, token, text);
        int64_t x = s_local_s (ts, &hour, &offset);
        if (grid && x >= f->x0 && x < f->x1) {
            size_t col = (size_t) ((x - f->x0) * f->grid_w / (f->x1 - f->x0));
            size_t row = (size_t) (token * f->grid_h / f->n_sources);
            uint8_t *cell = &grid [row * f->grid_w + col];
            *cell += *cell < S_RASTER_DARK;     //  clamped here: a gnuplot `using` per pixel is slow
        }
    }
    return 0;
}

int
ds_rpattern_prepare (ds_rfig_t *fig, const msgpack_object *pattern, FILE *csv)
{
    ds_rdata_t *data = ds_rfig_data (fig);
    s_pattern_t *f = ds_rfig_facts (fig);
    const char *name = ds_rfig_row (fig)->name;
    const char *class_name = ds_rfig_row (fig)->class_name;
    char where [64];
    snprintf (where, sizeof where, "pattern(%s)", *class_name ? class_name : "all");
    f->bin_s = ds_rdata_int (data, pattern, "bin_s", where);
    f->sources = ds_rdata_arr (data, pattern, "sources", where);
    const msgpack_object *points = ds_rdata_arr (data, pattern, "points", where);
    if (ds_rdata_failed (data))
        return -1;
    f->n_sources = f->sources->via.array.size;
    f->points = points->via.array.size;
    f->stride = f->points > DS_REPORT_POINTS_MAX
              ? (f->points + DS_REPORT_POINTS_MAX - 1) / DS_REPORT_POINTS_MAX : 1;
    f->drawn = (f->points + f->stride - 1) / f->stride;
    if (s_write_sources (fig, f, where) != 0)
        return -1;
    s_geometry (fig, f);
    uint8_t *grid = f->raster ? calloc ((size_t) f->grid_w * f->grid_h, 1) : NULL;
    if (f->raster && !grid)
        return ds_rdata_fail (data, "out of memory");
    int rc = s_write_points (fig, f, points, csv, grid, where);
    if (rc == 0 && grid)
        rc = ds_rplot_raster_write (ds_rfig_dir (fig), name, grid, f->grid_w, f->grid_h);
    free (grid);
    if (rc != 0)
        return -1;
    if (!f->raster) {
        char raster [80];
        snprintf (raster, sizeof raster, "fig-%s.raster", name);
        ds_rdir_unlink (ds_rfig_dir (fig), raster);
    }
    if (f->points == 0) {
        if (*class_name)
            ds_rfig_nodata (fig, "No data: no source of class \"%s\" sent packets in the window.", class_name);
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
    char t1 [32], t2 [32], t3 [32], bin [48], sample [320];
    if (f->bin_s % 60 == 0)
        snprintf (bin, sizeof bin, "%" PRId64 "-minute", f->bin_s / 60);
    else
        snprintf (bin, sizeof bin, "%" PRId64 "-second", f->bin_s);
    int len = f->stride > 1
        ? snprintf (sample, sizeof sample,
            "Downsampled: 1 point in every %u is drawn (%s of %s points), deterministically, as "
            "the notebook did with modulo 3.", f->stride, ds_text_group (f->drawn, t2, sizeof t2),
            ds_text_group (f->points, t1, sizeof t1))
        : snprintf (sample, sizeof sample, "All %s points are drawn.", ds_text_group (f->points, t1, sizeof t1));
    if (f->raster && len > 0 && (size_t) len < sizeof sample)
        snprintf (sample + len, sizeof sample - (size_t) len,
            " Drawn as a %dx%d raster: darker cells hold more points.", f->grid_w, f->grid_h);
    snprintf (buf, size,
        "Activity pattern of %s%s%s: a dot per source and %s bin in which it sent at least one "
        "packet, %s to %s (times in %s%s). Sources on the y axis are numbered by their first "
        "packet (%s sources). %s",
        *class_name ? "the sources of class \"" : "all sources", class_name, *class_name ? "\"" : "",
        bin, win->first_day, win->last_day, ds_tz_name (),
        win->tz_matches ? "" : ", not the overview's zone", ds_text_group (f->n_sources, t3, sizeof t3), sample);
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
        f->x0 - pad, f->x1 + pad, f->n_sources - 0.5, ds_tz_name (), f->small ? "" : "Source (token)");
    if (f->small) {
        fputs ("set ytics (", gp);
        ds_rplot_tics (gp, f->sources);
        fputs (") font 'Helvetica,10'\n", gp);
    }
    const char *color = of_class ? "#c0392b" : "#1f4e9a";
    const char *light = of_class ? "#eeb4ad" : "#9db6e3";       //  raster cells with one point
    if (f->raster) {
        double dx = (double) (f->x1 - f->x0) / f->grid_w, dy = (double) f->n_sources / f->grid_h;
        ds_rplot_raster_plot (gp, name, f->grid_w, f->grid_h, (double) f->x0, -0.5, dx, dy,
                              S_RASTER_DARK, light, color);
    }
    else
        fprintf (gp,
            "plot 'fig-%s.csv' skip 1 using (timecolumn(3, '%%Y-%%m-%%d %%H:%%M:%%S')):2 "
            "with points pt 7 ps %s lc rgb '%s'\n",
            name, f->drawn > 2000 ? "0.15" : "0.4", color);
}
