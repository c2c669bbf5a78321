/*  report.c - the HTML report of `darkscope report` / `darkscope run --report`.

    One pass: fetch the overview and the three activity patterns, write the
    CSV behind each figure and one gnuplot script (report.gp) that renders
    every figure to SVG, run gnuplot once as a child process, then write
    index.html (to a temporary name, renamed last, so a failed run never
    leaves a page that points at missing figures).

    Everything that comes from the data (class names come from users' GT
    files) is escaped for where it goes: HTML text, CSV fields, gnuplot
    single-quoted strings.  gnuplot runs with `noenhanced` so no name is
    read as markup, and escapes '<' and '&' in the SVG it writes.

    Figures follow the DarkVec notebook (seed/darknet-overview.md):
      port-rank     cumulative fraction of packets vs port rank (log x),
                    top-14 ports as an inset
      pattern       a point per (source, time bin), all sources
      sender-ecdf   packets per source ECDF, min_packets marked
      daily         distinct sources per day and cumulative, filtered and
                    unfiltered (log y)
      stretchoid,   the same pattern for one class
      engin-umich
      heatmap       class x service fractions, values printed in cells
    A figure with no data gets a "No data" note instead of an image.
*/
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "report.h"
#include "report_data.h"
#include "report_dir.h"
#include "report_plot.h"
#include "civil.h"
#include "tzday.h"
#include "json.h"
#include "text.h"

extern char **environ;

#define S_INSET_PORTS   14
#define S_TICS_NAMED    24              //  label pattern y tics with IPs up to this many sources
#define S_VECTOR_MAX    20000           //  more drawn pattern points become a raster
#define S_RASTER_MARGIN 160             //  figure width/height minus this ~ plot area in pixels
#define S_RASTER_DARK   4               //  points in a raster cell for the darkest colour

typedef enum {
    S_FIG_PORT_RANK, S_FIG_PATTERN, S_FIG_SENDER_ECDF, S_FIG_DAILY,
    S_FIG_STRETCHOID, S_FIG_ENGIN_UMICH, S_FIG_HEATMAP, S_FIG_COUNT
} s_fig_id_t;

typedef struct {
    bool has_data;
    int width, height;              //  SVG size in pixels
    char caption [1200];            //  plain text; escaped when written
    char nodata [300];              //  why there is no figure (plain text)
    bool sources_csv;               //  also fig-<name>-sources.csv
} s_fig_t;

typedef struct {
    ds_rdata_t *data;               //  results reader, the one error path
    ds_rdir_t *rdir;                //  the output directory
    const char *dir;
    FILE *gp;                       //  report.gp being written
    msgpack_object overview;
    msgpack_object pattern [3];     //  all sources, stretchoid, engin-umich
    s_fig_t figs [S_FIG_COUNT];
    ds_rwindow_t win;
    int64_t pattern_bin_s;          //  bin of the all-sources pattern
} s_report_t;

typedef int (s_prepare_fn) (s_report_t *self, s_fig_id_t id);
static s_prepare_fn s_prep_port_rank, s_prep_pattern, s_prep_sender_ecdf,
                    s_prep_daily, s_prep_heatmap;

//  The figures, in page order; pattern figures name their fetched pattern.
static const struct {
    const char *name;               //  file stem: fig-<name>.svg / .csv
    const char *title;
    s_prepare_fn *prepare;          //  writes CSV + gnuplot, fills s_fig_t
    int pattern;                    //  index into self->pattern, or -1
    const char *class_name;         //  pattern class filter ("" = all)
} s_figures [S_FIG_COUNT] = {
    { "port-rank",   "Port rank ECDF",                      s_prep_port_rank,   -1, NULL },
    { "pattern",     "Activity pattern of all sources",     s_prep_pattern,      0, "" },
    { "sender-ecdf", "Packets per source (ECDF)",           s_prep_sender_ecdf, -1, NULL },
    { "daily",       "Distinct source IPs per day",         s_prep_daily,       -1, NULL },
    { "stretchoid",  "Stretchoid activity pattern",         s_prep_pattern,      1, "stretchoid" },
    { "engin-umich", "engin-umich activity pattern",        s_prep_pattern,      2, "engin-umich" },
    { "heatmap",     "Classes and services (last day)",     s_prep_heatmap,     -1, NULL },
};


//  --------------------------------------------------------------------------
//  Text formats

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

static void
s_html (FILE *out, const char *ptr, size_t len)
{
    ds_text_write (out, ptr, len, s_html_ascii);
}

static void
s_html_str (FILE *out, msgpack_object_str s)
{
    s_html (out, s.ptr, s.size);
}

static void
s_html_c (FILE *out, const char *text)
{
    s_html (out, text, strlen (text));
}

static void
s_csv_str (FILE *out, msgpack_object_str s)
{
    ds_text_csv (out, s.ptr, s.size);
}


//  --------------------------------------------------------------------------
//  Files

static void
s_fig_csv_name (s_fig_id_t id, const char *suffix, char *buf, size_t size)
{
    snprintf (buf, size, "fig-%s%s.csv", s_figures [id].name, suffix);
}

//  Opens fig-<name>.csv and writes its header line.
static FILE *
s_fig_csv (s_report_t *self, s_fig_id_t id, const char *suffix, const char *header)
{
    char name [64];
    s_fig_csv_name (id, suffix, name, sizeof name);
    FILE *file = ds_rdir_open (self->rdir, name, "w");
    if (file)
        fprintf (file, "%s\n", header);
    return file;
}

static int
s_fig_csv_close (s_report_t *self, s_fig_id_t id, const char *suffix, FILE *file)
{
    char name [64];
    s_fig_csv_name (id, suffix, name, sizeof name);
    return ds_rdir_close (self->rdir, file, name);
}

//  Starts a figure in the gnuplot script.
static void
s_gp_begin (s_report_t *self, s_fig_id_t id, int width, int height)
{
    s_fig_t *fig = &self->figs [id];
    fig->has_data = true;
    fig->width = width;
    fig->height = height;
    ds_rplot_begin (self->gp, s_figures [id].name, s_figures [id].title, width, height);
}

//  Removes a file of an earlier report in dir that this one does not write.
static void
s_unlink_stale (s_report_t *self, const char *name, const char *ext)
{
    char file [PATH_MAX];
    snprintf (file, sizeof file, "fig-%s.%s", name, ext);
    ds_rdir_unlink (self->rdir, file);
}

//  Marks a figure as empty: the page shows the note instead of an image.
static void
s_nodata (s_report_t *self, s_fig_id_t id, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    vsnprintf (self->figs [id].nodata, sizeof self->figs [id].nodata, fmt, args);
    va_end (args);
    self->figs [id].has_data = false;
    s_unlink_stale (self, s_figures [id].name, "svg");
}


//  --------------------------------------------------------------------------
//  Figures

static int
s_prep_port_rank (s_report_t *self, s_fig_id_t id)
{
    s_fig_t *fig = &self->figs [id];
    const msgpack_object *ranking = ds_rdata_arr (self->data, &self->overview, "port_ranking", "overview");
    uint32_t n = ranking->via.array.size;
    int64_t total = 0;
    for (uint32_t i = 0; i < n; i++)
        total += ds_rdata_int (self->data, &ranking->via.array.ptr [i], "packets", "overview.port_ranking[]");
    if (ds_rdata_failed (self->data))
        return -1;
    FILE *csv = s_fig_csv (self, id, "", "rank,port,packets,cumulative_fraction");
    if (!csv)
        return -1;
    //  The inset goes where the curve is not: bottom right when the curve is
    //  high before the inset's left edge (rank ~n^0.4 on the log axis), top
    //  left when it is still low at the inset's right edge (rank ~n^0.55).
    uint32_t rank_right = (uint32_t) pow (n, 0.4), rank_left = (uint32_t) pow (n, 0.55);
    double at_right = 0, at_left = 0;
    int64_t cumulative = 0;
    double top_fraction = 0;
    char num [40];
    for (uint32_t i = 0; i < n; i++) {
        const msgpack_object *row = &ranking->via.array.ptr [i];
        int64_t packets = ds_rdata_int (self->data, row, "packets", "overview.port_ranking[]");
        cumulative += packets;
        double fraction = total > 0 ? (double) cumulative / (double) total : 0;
        if (i < S_INSET_PORTS)
            top_fraction = fraction;
        if (i + 1 <= rank_right)
            at_right = fraction;
        if (i + 1 <= rank_left)
            at_left = fraction;
        ds_json_double (num, sizeof num, fraction);
        fprintf (csv, "%u,", i + 1);
        s_csv_str (csv, ds_rdata_str (self->data, row, "port", "overview.port_ranking[]"));
        fprintf (csv, ",%" PRId64 ",%s\n", packets, num);
    }
    if (s_fig_csv_close (self, id, "", csv) || ds_rdata_failed (self->data))
        return -1;
    if (n == 0 || total == 0) {
        s_nodata (self, id, "No data: no packets in the window.");
        return 0;
    }
    char t1 [32], t2 [32], pct [32];
    unsigned inset = n < S_INSET_PORTS ? n : S_INSET_PORTS;
    snprintf (fig->caption, sizeof fig->caption,
        "Cumulative fraction of packets received by port rank (ports ordered by packets, "
        "log scale), %s to %s: %s distinct ports, %s packets. Inset: the top %u ports with "
        "the cumulative fraction they receive (%s%% of all packets together).",
        self->win.first_day, self->win.last_day, ds_text_group (n, t1, sizeof t1), ds_text_group (total, t2, sizeof t2),
        inset, ds_text_round (100.0 * top_fraction, 2, pct, sizeof pct));
    s_gp_begin (self, id, 800, 520);
    fprintf (self->gp,
        "set multiplot\n"
        "set logscale x\n"
        "set xrange [0.8:%g]\n"
        "set yrange [0:1.02]\n"
        "set xlabel 'Port rank'\n"
        "set ylabel 'ECDF of packets'\n"
        "set format x '%%.0s%%c'\n"
        "set key off\n"
        "plot 'fig-%s.csv' skip 1 using 1:4 with steps lw 2.5 lc rgb '#1f4e9a'\n"
        "unset logscale x\n"
        "set origin %s\n"
        "set size 0.55,0.56\n"
        "set object 1 rectangle from graph 0,0 to graph 1,1 behind fc rgb 'white' fs solid noborder\n"
        "unset xlabel\n"
        "set ylabel 'ECDF' offset 1,0 font 'Helvetica,10'\n"
        "set xrange [0.4:%u.6]\n"
        "set yrange [0:*]\n"
        "set ytics autofreq font 'Helvetica,10'\n"
        "set xtics rotate by 60 right font 'Helvetica,10' nomirror\n"
        "set title 'Top %u ports' font 'Helvetica,11' offset 0,-0.6\n"
        "set style fill solid 0.55 border lc rgb '#1f4e9a'\n"
        "set boxwidth 0.7\n"
        "plot 'fig-%s.csv' skip 1 every ::0::%u using 1:4:xtic(2) with boxes lc rgb '#6b8fd6'\n"
        "unset multiplot\n",
        n < 2 ? 2.0 : n * 1.25, s_figures [id].name,
        at_right < 0.72 && at_left < 0.35 ? "0.13,0.40" : "0.42,0.16",
        inset, inset, s_figures [id].name, inset - 1);
    return 0;
}

static int
s_prep_sender_ecdf (s_report_t *self, s_fig_id_t id)
{
    s_fig_t *fig = &self->figs [id];
    const msgpack_object *ecdf = ds_rdata_arr (self->data, &self->overview, "sender_ecdf", "overview");
    uint32_t n = ecdf->via.array.size;
    FILE *csv = s_fig_csv (self, id, "", "packets,fraction");
    if (!csv)
        return -1;
    double below = 0;                   //  fraction of sources under the threshold
    int64_t max_packets = 1;
    char num [40];
    for (uint32_t i = 0; i < n && !ds_rdata_failed (self->data); i++) {
        const msgpack_object *row = &ecdf->via.array.ptr [i];
        int64_t packets = ds_rdata_int (self->data, row, "packets", "overview.sender_ecdf[]");
        double fraction = ds_rdata_num (self->data, row, "fraction", "overview.sender_ecdf[]");
        if (packets < self->win.min_packets)
            below = fraction;
        if (packets > max_packets)
            max_packets = packets;
        ds_json_double (num, sizeof num, fraction);
        fprintf (csv, "%" PRId64 ",%s\n", packets, num);
    }
    if (s_fig_csv_close (self, id, "", csv) || ds_rdata_failed (self->data))
        return -1;
    if (n == 0) {
        s_nodata (self, id, "No data: no sources in the window.");
        return 0;
    }
    char pct [32];
    snprintf (fig->caption, sizeof fig->caption,
        "ECDF of the packets each source sent over the window (log scale). The dashed red line "
        "marks the filter threshold min_packets = %" PRId64 ": %s%% of the sources sent fewer "
        "packets and are filtered out of the last-day analysis.",
        self->win.min_packets, ds_text_round (100.0 * below, 2, pct, sizeof pct));
    int64_t xmax = max_packets > self->win.min_packets ? max_packets : self->win.min_packets;
    s_gp_begin (self, id, 800, 480);
    fprintf (self->gp,
        "set logscale x\n"
        "set xrange [0.8:%g]\n"
        "set yrange [0:1.02]\n"
        "set xlabel 'Packets per source'\n"
        "set ylabel 'ECDF of sources'\n"
        "set format x '%%.0s%%c'\n"
        "set key bottom right\n"
        "set arrow 1 from %" PRId64 ", graph 0 to %" PRId64 ", graph 1 nohead dt 2 lw 2 lc rgb '#c0392b'\n"
        "set label 1 ' min_packets = %" PRId64 " (%s%% of sources below)' at %" PRId64 ", graph 0.08 left tc rgb '#c0392b'\n"
        "plot 'fig-%s.csv' skip 1 using 1:2 with steps lw 2.5 lc rgb '#1f4e9a' title 'sources'\n",
        xmax * 1.5, self->win.min_packets, self->win.min_packets, self->win.min_packets, pct,
        self->win.min_packets, s_figures [id].name);
    return 0;
}

static int
s_prep_daily (s_report_t *self, s_fig_id_t id)
{
    s_fig_t *fig = &self->figs [id];
    const msgpack_object *daily = ds_rdata_arr (self->data, &self->overview, "daily", "overview");
    uint32_t n = daily->via.array.size;
    FILE *csv = s_fig_csv (self, id, "", "day,sources,sources_filtered,cumulative,cumulative_filtered");
    if (!csv)
        return -1;
    static const char *columns [] = { "sources", "sources_filtered", "cumulative", "cumulative_filtered" };
    int64_t peak = 0;
    int32_t day0 = 0, day1 = 0;
    for (uint32_t i = 0; i < n && !ds_rdata_failed (self->data); i++) {
        const msgpack_object *row = &daily->via.array.ptr [i];
        char day [11];
        msgpack_object_str text = ds_rdata_str (self->data, row, "day", "overview.daily[]");
        ds_rdata_copy (day, sizeof day, text);
        int32_t dn = 0;
        if (!ds_rdata_failed (self->data) && ds_day_parse (day, &dn) != 0)
            return ds_rdata_fail (self->data, "unexpected result shape: overview.daily[%u].day \"%s\" is not a date", i, day);
        day0 = i == 0 ? dn : day0;
        day1 = dn;
        s_csv_str (csv, text);
        for (size_t c = 0; c < sizeof columns / sizeof *columns; c++) {
            int64_t v = ds_rdata_int (self->data, row, columns [c], "overview.daily[]");
            peak = v > peak ? v : peak;
            fprintf (csv, ",%" PRId64, v);
        }
        fputc ('\n', csv);
    }
    if (s_fig_csv_close (self, id, "", csv) || ds_rdata_failed (self->data))
        return -1;
    if (n == 0 || peak == 0) {
        s_nodata (self, id, "No data: no sources on any day of the window.");
        return 0;
    }
    snprintf (fig->caption, sizeof fig->caption,
        "Distinct source IPs seen each day (solid) and cumulatively since %s (dashed), "
        "unfiltered (black) and filtered to sources with at least %" PRId64 " packets over the "
        "window (red); log scale. The gap between the curves is what the filter removes.",
        self->win.first_day, self->win.min_packets);
    //  x: days as seconds (gnuplot's time axis is zone-less, dates are dates).
    s_gp_begin (self, id, 800, 500);
    fprintf (self->gp,
        "set xdata time\n"
        "set timefmt '%%s'\n"
        "set format x '%s'\n"
        "set xrange ['%" PRId64 "':'%" PRId64 "']\n"
        "set xtics rotate by 45 right\n"
        "set logscale y\n"
        "set yrange [*:%g]\n"
        "set xlabel 'Day'\n"
        "set ylabel 'Distinct source IPs'\n"
        "set key outside top center horizontal\n"
        "f = 'fig-%s.csv'\n"
        "d(c) = (column(c) > 0 ? column(c) : NaN)\n"
        "x = 'timecolumn(1, \"%%Y-%%m-%%d\")'\n"
        "plot f skip 1 using (@x):(d(2)) with linespoints lw 2 pt 7 ps 0.6 lc rgb 'black' title 'daily, unfiltered', \\\n"
        "     f skip 1 using (@x):(d(3)) with linespoints lw 2 pt 5 ps 0.6 lc rgb '#c0392b' title 'daily, filtered', \\\n"
        "     f skip 1 using (@x):(d(4)) with lines lw 2 dt 2 lc rgb 'black' title 'cumulative, unfiltered', \\\n"
        "     f skip 1 using (@x):(d(5)) with lines lw 2 dt 2 lc rgb '#c0392b' title 'cumulative, filtered'\n",
        day1 - day0 > 60 ? "%Y-%m" : "%m-%d",
        (int64_t) day0 * 86400 - 43200, (int64_t) day1 * 86400 + 43200,
        (double) peak * 3, s_figures [id].name);
    return 0;
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

//  Activity pattern: (bin start, token) points of one fetched pattern.
//  Up to S_VECTOR_MAX drawn points are SVG dots; more become an occupancy
//  raster (one cell per screen pixel, embedded by gnuplot as a PNG), since
//  200k SVG elements would make a 20 MB figure that browsers crawl through.
static int
s_prep_pattern (s_report_t *self, s_fig_id_t id)
{
    s_fig_t *fig = &self->figs [id];
    const char *name = s_figures [id].name;
    const msgpack_object *pattern = &self->pattern [s_figures [id].pattern];
    const char *class_name = s_figures [id].class_name;
    char where [64];
    snprintf (where, sizeof where, "pattern(%s)", *class_name ? class_name : "all");
    int64_t bin_s = ds_rdata_int (self->data, pattern, "bin_s", where);
    const msgpack_object *sources = ds_rdata_arr (self->data, pattern, "sources", where);
    const msgpack_object *points = ds_rdata_arr (self->data, pattern, "points", where);
    if (ds_rdata_failed (self->data))
        return -1;
    uint32_t n_sources = sources->via.array.size;
    uint32_t n = points->via.array.size;
    uint32_t stride = n > DS_REPORT_POINTS_MAX ? (n + DS_REPORT_POINTS_MAX - 1) / DS_REPORT_POINTS_MAX : 1;
    uint32_t drawn = (n + stride - 1) / stride;

    FILE *src = s_fig_csv (self, id, "-sources", "token,ip");
    if (!src)
        return -1;
    fig->sources_csv = true;
    for (uint32_t i = 0; i < n_sources; i++) {
        const msgpack_object *ip = &sources->via.array.ptr [i];
        if (ip->type != MSGPACK_OBJECT_STR) {
            ds_rdata_fail (self->data, "unexpected result shape: %s.sources[%u] is not a string", where, i);
            break;
        }
        fprintf (src, "%u,", i);
        s_csv_str (src, ip->via.str);
        fputc ('\n', src);
    }
    if (s_fig_csv_close (self, id, "-sources", src) || ds_rdata_failed (self->data))
        return -1;

    //  x: local wall-clock seconds over the window's days.
    int64_t x0 = (int64_t) self->win.first_dn * 86400, x1 = ((int64_t) self->win.last_dn + 1) * 86400;
    if (!self->win.tz_matches) {
        x0 -= 86400;
        x1 += 86400;
    }
    bool raster = drawn > S_VECTOR_MAX;
    //  Figure size first: a raster has about one cell per pixel of the plot.
    bool small = n_sources <= S_TICS_NAMED;
    int width = *class_name ? 640 : 800;
    int height = small ? 200 + 22 * (int) n_sources : 520;
    height = height < 300 ? 300 : height;
    int grid_w = width - S_RASTER_MARGIN, grid_h = height - S_RASTER_MARGIN;
    grid_h = (int) n_sources < grid_h ? (int) n_sources : grid_h;
    uint8_t *grid = raster ? calloc ((size_t) grid_w * grid_h, 1) : NULL;
    if (raster && !grid)
        return ds_rdata_fail (self->data, "out of memory");

    FILE *csv = s_fig_csv (self, id, "", "bin_start_us,token,local_time");
    if (!csv) {
        free (grid);
        return -1;
    }
    int64_t hour = INT64_MIN, offset = 0;
    for (uint32_t i = 0; i < n; i++) {
        const msgpack_object *p = &points->via.array.ptr [i];
        if (p->type != MSGPACK_OBJECT_ARRAY || p->via.array.size != 2
        ||  !ds_rdata_is_int (&p->via.array.ptr [0]) || !ds_rdata_is_int (&p->via.array.ptr [1])) {
            ds_rdata_fail (self->data, "unexpected result shape: %s.points[%u] is not [bin_start_us, token]", where, i);
            break;
        }
        int64_t ts = ds_rdata_as_int (&p->via.array.ptr [0]);
        int64_t token = ds_rdata_as_int (&p->via.array.ptr [1]);
        if (token < 0 || token >= (int64_t) n_sources) {
            ds_rdata_fail (self->data, "%s.points[%u]: token %" PRId64 " is not one of the %u sources",
                    where, i, token, n_sources);
            break;
        }
        if (i % stride)
            continue;
        char text [40];
        ds_ts_format (ts, text);
        text [19] = 0;                  //  bins start on whole seconds
        fprintf (csv, "%" PRId64 ",%" PRId64 ",%s\n", ts, token, text);
        int64_t x = s_local_s (ts, &hour, &offset);
        if (grid && x >= x0 && x < x1) {
            size_t col = (size_t) ((x - x0) * grid_w / (x1 - x0));
            size_t row = (size_t) (token * grid_h / n_sources);
            uint8_t *cell = &grid [row * grid_w + col];
            *cell += *cell < S_RASTER_DARK;     //  clamped here: a gnuplot `using` per pixel is slow
        }
    }
    if (s_fig_csv_close (self, id, "", csv) || ds_rdata_failed (self->data)) {
        free (grid);
        return -1;
    }
    if (!grid)
        s_unlink_stale (self, name, "raster");
    if (grid) {
        int rc = ds_rplot_raster_write (self->rdir, name, grid, grid_w, grid_h);
        free (grid);
        if (rc)
            return -1;
    }
    if (n == 0) {
        if (*class_name)
            s_nodata (self, id, "No data: no source of class \"%s\" sent packets in the window.", class_name);
        else
            s_nodata (self, id, "No data: no packets in the window.");
        return 0;
    }

    char t1 [32], t2 [32], t3 [32], bin [48], sample [320];
    if (bin_s % 60 == 0)
        snprintf (bin, sizeof bin, "%" PRId64 "-minute", bin_s / 60);
    else
        snprintf (bin, sizeof bin, "%" PRId64 "-second", bin_s);
    int len = stride > 1
        ? snprintf (sample, sizeof sample,
            "Downsampled: 1 point in every %u is drawn (%s of %s points), deterministically, as "
            "the notebook did with modulo 3.", stride, ds_text_group (drawn, t2, sizeof t2), ds_text_group (n, t1, sizeof t1))
        : snprintf (sample, sizeof sample, "All %s points are drawn.", ds_text_group (n, t1, sizeof t1));
    if (raster && len > 0 && (size_t) len < sizeof sample)
        snprintf (sample + len, sizeof sample - (size_t) len,
            " Drawn as a %dx%d raster: darker cells hold more points.", grid_w, grid_h);
    snprintf (fig->caption, sizeof fig->caption,
        "Activity pattern of %s%s%s: a dot per source and %s bin in which it sent at least one "
        "packet, %s to %s (times in %s%s). Sources on the y axis are numbered by their first "
        "packet (%s sources). %s",
        *class_name ? "the sources of class \"" : "all sources", class_name, *class_name ? "\"" : "",
        bin, self->win.first_day, self->win.last_day, ds_tz_name (),
        self->win.tz_matches ? "" : ", not the overview's zone", ds_text_group (n_sources, t3, sizeof t3), sample);

    int64_t pad = (x1 - x0) / 100;      //  points on the first bin stay off the border
    s_gp_begin (self, id, width, height);
    fprintf (self->gp,
        "set xdata time\n"
        "set timefmt '%%s'\n"
        "set format x '%s'\n"
        "set xrange ['%" PRId64 "':'%" PRId64 "']\n"
        "set xtics rotate by 45 right\n"
        "set yrange [-0.5:%g]\n"
        "set xlabel 'Time (%s)'\n"
        "set ylabel '%s'\n"
        "set key off\n",
        self->win.last_dn - self->win.first_dn >= 3 ? "%m-%d" : "%m-%d %H:%M",
        x0 - pad, x1 + pad, n_sources - 0.5, ds_tz_name (), small ? "" : "Source (token)");
    if (small) {
        fputs ("set ytics (", self->gp);
        ds_rplot_tics (self->gp, sources);
        fputs (") font 'Helvetica,10'\n", self->gp);
    }
    const char *color = *class_name ? "#c0392b" : "#1f4e9a";
    const char *light = *class_name ? "#eeb4ad" : "#9db6e3";     //  raster cells with one point
    if (raster) {
        double dx = (double) (x1 - x0) / grid_w, dy = (double) n_sources / grid_h;
        ds_rplot_raster_plot (self->gp, name, grid_w, grid_h, (double) x0, -0.5, dx, dy,
                              S_RASTER_DARK, light, color);
    }
    else
        fprintf (self->gp,
            "plot 'fig-%s.csv' skip 1 using (timecolumn(3, '%%Y-%%m-%%d %%H:%%M:%%S')):2 "
            "with points pt 7 ps %s lc rgb '%s'\n",
            name, drawn > 2000 ? "0.15" : "0.4", color);
    return 0;
}

static int
s_prep_heatmap (s_report_t *self, s_fig_id_t id)
{
    s_fig_t *fig = &self->figs [id];
    const char *where = "overview.heatmap";
    const msgpack_object *heatmap = ds_rdata_map (self->data, &self->overview, "heatmap", "overview");
    const msgpack_object *classes = ds_rdata_arr (self->data, heatmap, "classes", where);
    const msgpack_object *services = ds_rdata_arr (self->data, heatmap, "services", where);
    const msgpack_object *fraction = ds_rdata_arr (self->data, heatmap, "fraction", where);
    if (ds_rdata_failed (self->data))
        return -1;
    uint32_t nc = classes->via.array.size, ns = services->via.array.size;
    if (fraction->via.array.size != ns)
        return ds_rdata_fail (self->data, "unexpected result shape: %s.fraction has %u rows for %u services",
                       where, fraction->via.array.size, ns);
    for (uint32_t i = 0; i < nc; i++)
        if (classes->via.array.ptr [i].type != MSGPACK_OBJECT_STR)
            return ds_rdata_fail (self->data, "unexpected result shape: %s.classes[%u] is not a string", where, i);
    for (uint32_t i = 0; i < ns; i++) {
        const msgpack_object *row = &fraction->via.array.ptr [i];
        if (services->via.array.ptr [i].type != MSGPACK_OBJECT_STR)
            return ds_rdata_fail (self->data, "unexpected result shape: %s.services[%u] is not a string", where, i);
        if (row->type != MSGPACK_OBJECT_ARRAY || row->via.array.size != nc)
            return ds_rdata_fail (self->data, "unexpected result shape: %s.fraction[%u] does not have %u numbers",
                           where, i, nc);
    }
    FILE *csv = s_fig_csv (self, id, "", "class_index,service_index,fraction,class,service");
    if (!csv)
        return -1;
    char num [40];
    for (uint32_t i = 0; i < ns; i++)
        for (uint32_t j = 0; j < nc; j++) {
            const msgpack_object *cell = &fraction->via.array.ptr [i].via.array.ptr [j];
            double v = cell->type == MSGPACK_OBJECT_FLOAT64 || cell->type == MSGPACK_OBJECT_FLOAT32
                     ? cell->via.f64 : ds_rdata_is_int (cell) ? (double) ds_rdata_as_int (cell) : NAN;
            if (isnan (v)) {
                ds_rdata_fail (self->data, "unexpected result shape: %s.fraction[%u][%u] is not a number", where, i, j);
                break;
            }
            ds_json_double (num, sizeof num, v);
            fprintf (csv, "%u,%u,%s,", j, i, num);
            const msgpack_object *c = &classes->via.array.ptr [j], *s = &services->via.array.ptr [i];
            s_csv_str (csv, c->via.str);
            fputc (',', csv);
            s_csv_str (csv, s->via.str);
            fputc ('\n', csv);
        }
    if (s_fig_csv_close (self, id, "", csv) || ds_rdata_failed (self->data))
        return -1;
    if (nc == 0 || ns == 0) {
        s_nodata (self, id, "No data: no filtered source sent packets on the last day (%s).", self->win.last_day);
        return 0;
    }
    snprintf (fig->caption, sizeof fig->caption,
        "Fraction of each class's packets per service on the last day (%s), sources with at least "
        "%" PRId64 " packets only; unk_sys, unk_usr, unk_eph and proxy merged into \"others\". Each "
        "column sums to 1; values rounded to 2 decimals as in the notebook.",
        self->win.last_day, self->win.min_packets);
    int width = 260 + 64 * (int) nc, height = 190 + 34 * (int) ns;
    s_gp_begin (self, id, width < 700 ? 700 : width > 3200 ? 3200 : width, height < 420 ? 420 : height);
    fprintf (self->gp,
        "unset grid\n"
        "set palette defined (0 '#f7fbff', 0.25 '#c6dbef', 0.5 '#6baed6', 0.75 '#2171b5', 1 '#08306b')\n"
        "set cbrange [0:1]\n"
        "set cblabel 'Fraction of class packets'\n"
        "set xrange [-0.5:%g]\n"
        "set yrange [%g:-0.5]\n"
        "set tics nomirror scale 0\n"
        "set key off\n"
        "set xlabel 'Class'\n"
        "set ylabel 'Service'\n",
        nc - 0.5, ns - 0.5);
    fputs ("set xtics rotate by 45 right (", self->gp);
    ds_rplot_tics (self->gp, classes);
    fputs (")\nset ytics (", self->gp);
    ds_rplot_tics (self->gp, services);
    fprintf (self->gp,
        ")\n"
        "plot 'fig-%s.csv' skip 1 using 1:2:(0.5):(0.5):3 with boxxyerror fs solid 1.0 border lc rgb 'white' lc palette, \\\n"
        "     '' skip 1 using 1:2:(sprintf('%%.2f', $3)):($3 > 0.5 ? 0xffffff : 0x222222) with labels tc rgb variable font 'Helvetica,11'\n",
        s_figures [id].name);
    return 0;
}


//  --------------------------------------------------------------------------
//  gnuplot

static int
s_gnuplot_run (s_report_t *self)
{
    const char *names [S_FIG_COUNT];
    size_t count = 0;
    for (int id = 0; id < S_FIG_COUNT; id++)
        if (self->figs [id].has_data)
            names [count++] = s_figures [id].name;
    return ds_rplot_run (self->rdir, self->data, names, count);
}


//  --------------------------------------------------------------------------
//  HTML

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

static void
s_html_figure (s_report_t *self, FILE *out, s_fig_id_t id, int number)
{
    const s_fig_t *fig = &self->figs [id];
    const char *name = s_figures [id].name;
    fprintf (out, "<figure id=\"fig-%s\">\n", name);
    if (fig->has_data)
        fprintf (out, "<img src=\"fig-%s.svg\" width=\"%d\" height=\"%d\" alt=\"%s\">\n",
                 name, fig->width, fig->height, s_figures [id].title);
    else {
        fputs ("<div class=\"nodata\">", out);
        s_html_c (out, fig->nodata);
        fputs ("</div>\n", out);
    }
    fprintf (out, "<figcaption><b>Figure %d. %s.</b> ", number, s_figures [id].title);
    if (fig->has_data)
        s_html_c (out, fig->caption);
    fprintf (out, " Data: <a href=\"fig-%s.csv\">fig-%s.csv</a>", name, name);
    if (fig->sources_csv)
        fprintf (out, ", <a href=\"fig-%s-sources.csv\">fig-%s-sources.csv</a> (token &rarr; IP)", name, name);
    if (!fig->has_data)
        fputs (" (empty)", out);
    fputs (".</figcaption>\n</figure>\n", out);
}

//  "23/TCP (45.3%), 2323/TCP (...)" with percentages rounded to `decimals`.
static void
s_html_top (s_report_t *self, FILE *out, const msgpack_object *top, int decimals, const char *where)
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
s_html_dataset (s_report_t *self, FILE *out)
{
    const msgpack_object *dataset = ds_rdata_map (self->data, &self->overview, "dataset", "overview");
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
        self->win.last_day, self->win.first_day, self->win.last_day);
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
s_html_filter (s_report_t *self, FILE *out)
{
    const msgpack_object *filter = ds_rdata_map (self->data, &self->overview, "filter", "overview");
    const msgpack_object *dataset = ds_rdata_map (self->data, &self->overview, "dataset", "overview");
    const msgpack_object *window = ds_rdata_map (self->data, dataset, "window", "overview.dataset");
    int64_t kept = ds_rdata_int (self->data, filter, "sources_kept", "overview.filter");
    int64_t kept_packets = ds_rdata_int (self->data, filter, "packets_kept", "overview.filter");
    int64_t sources = ds_rdata_int (self->data, window, "sources", "overview.dataset.window");
    int64_t packets = ds_rdata_int (self->data, window, "packets", "overview.dataset.window");
    char a [40], b [40], pct [32];
    fprintf (out, "<table>\n<thead><tr><th>Filter: at least %" PRId64 " packets over the window</th>"
                  "<th class=\"num\">Kept</th><th class=\"num\">Of</th><th class=\"num\">%%</th></tr></thead>\n<tbody>\n",
             self->win.min_packets);
    fprintf (out, "<tr><td>Sources</td><td class=\"num\">%s</td><td class=\"num\">%s</td><td class=\"num\">%s</td></tr>\n",
             ds_text_group (kept, a, sizeof a), ds_text_group (sources, b, sizeof b),
             sources ? ds_text_round (100.0 * kept / sources, 2, pct, sizeof pct) : "&ndash;");
    fprintf (out, "<tr><td>Packets</td><td class=\"num\">%s</td><td class=\"num\">%s</td><td class=\"num\">%s</td></tr>\n",
             ds_text_group (kept_packets, a, sizeof a), ds_text_group (packets, b, sizeof b),
             packets ? ds_text_round (100.0 * kept_packets / packets, 2, pct, sizeof pct) : "&ndash;");
    fputs ("</tbody></table>\n", out);
}

static void
s_html_classes (s_report_t *self, FILE *out)
{
    const msgpack_object *classes = ds_rdata_arr (self->data, &self->overview, "classes", "overview");
    const char *where = "overview.classes[]";
    char a [40], b [40], c [40];
    if (classes->via.array.size == 0) {
        fprintf (out, "<div class=\"nodata\">No data: no source with at least %" PRId64
                      " packets sent packets on %s.</div>\n", self->win.min_packets, self->win.last_day);
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
s_html_ingest (s_report_t *self, FILE *out)
{
    const msgpack_object *ingest = ds_rdata_map (self->data, &self->overview, "ingest", "overview");
    static const struct { const char *key, *label; bool bad; } rows [] = {
        { "packets_read", "Packets (frames, log lines) read", false },
        { "non_ip",       "Skipped: not IP",                  false },
        { "malformed",    "Skipped: malformed",               true },
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

//  Where a table's numbers are in overview.json.
static void
s_html_data_link (FILE *out, const char *key)
{
    fprintf (out, "<p class=\"data\">Data: <a href=\"overview.json\">overview.json</a>, "
                  "key <code>%s</code>.</p>\n", key);
}

static void
s_html_section (FILE *out, const char *id, const char *title, const char *intro)
{
    fprintf (out, "<section id=\"%s\">\n<h2>%s</h2>\n<p class=\"intro\">%s</p>\n", id, title, intro);
}

static int
s_html_write (s_report_t *self)
{
    FILE *out = ds_rdir_open (self->rdir, "index.html.tmp", "w");
    if (!out)
        return -1;
    char title [160];
    snprintf (title, sizeof title, "Darknet overview %s to %s (%s)", self->win.first_day, self->win.last_day, self->win.tz);
    char intro [600];
    fputs ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>darkscope: ", out);
    s_html_c (out, title);
    fprintf (out, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<header><div>\n<h1>", s_css);
    s_html_c (out, title);
    fprintf (out, "</h1>\n<p>%" PRId64 " day%s, days in time zone ", self->win.days, self->win.days == 1 ? "" : "s");
    s_html_c (out, self->win.tz);
    fprintf (out, ", filter threshold min_packets = %" PRId64 ". Reproduces the darknet overview of "
                  "DarkVec (CoNEXT 2021, Section 3).</p>\n<nav>"
                  "<a href=\"#ports\">Port ranking</a><a href=\"#pattern\">Activity pattern</a>"
                  "<a href=\"#dataset\">Dataset statistics</a><a href=\"#filter\">Filter</a>"
                  "<a href=\"#daily\">Distinct IPs</a><a href=\"#lastday\">Last day</a>"
                  "<a href=\"#gtpattern\">GT patterns</a><a href=\"#heatmap\">Services</a>"
                  "<a href=\"#ingest\">Ingest</a></nav>\n</div></header>\n<main>\n", self->win.min_packets);

    s_html_section (out, "ports", "Port ranking",
        "How concentrated is darknet traffic on a few ports? Ports ranked by the packets they receive.");
    s_html_figure (self, out, S_FIG_PORT_RANK, 1);
    fputs ("</section>\n", out);

    s_html_section (out, "pattern", "Activity pattern",
        "Each dot is a source (y) active in a time bin (x): horizontal lines are sources "
        "that never stop, vertical stripes are coordinated bursts.");
    s_html_figure (self, out, S_FIG_PATTERN, 2);
    fputs ("</section>\n", out);

    s_html_section (out, "dataset", "Dataset statistics",
        "The last day alone and the full window, unfiltered. Percentages rounded to 2 decimals as the notebook printed them.");
    s_html_dataset (self, out);
    s_html_data_link (out, "dataset");
    fputs ("</section>\n", out);

    snprintf (intro, sizeof intro, "Senders of only a few packets in the whole window are noise for "
        "this analysis: sources with fewer than %" PRId64 " packets are filtered out.", self->win.min_packets);
    s_html_section (out, "filter", "Filter definition", intro);
    s_html_filter (self, out);
    s_html_data_link (out, "filter");
    s_html_figure (self, out, S_FIG_SENDER_ECDF, 3);
    fputs ("</section>\n", out);

    s_html_section (out, "daily", "Distinct IPs seen over the window",
        "The filter's effect day by day: distinct sources per day and cumulative, with and without it.");
    s_html_figure (self, out, S_FIG_DAILY, 4);
    fputs ("</section>\n", out);

    snprintf (intro, sizeof intro, "Packets of %s from sources with at least %" PRId64 " packets over "
        "the 30 days ending that day, by ground-truth class (rows by senders). Percentages rounded to "
        "1 decimal.", self->win.last_day, self->win.min_packets);
    s_html_section (out, "lastday", "Last day of traffic", intro);
    s_html_classes (self, out);
    s_html_data_link (out, "classes");
    fputs ("</section>\n", out);

    s_html_section (out, "gtpattern", "Some notable ground-truth activity patterns",
        "Stretchoid scans in regular rounds; engin-umich runs a few sources on a schedule.");
    fputs ("<div class=\"pair\">\n", out);
    s_html_figure (self, out, S_FIG_STRETCHOID, 5);
    s_html_figure (self, out, S_FIG_ENGIN_UMICH, 6);
    fputs ("</div>\n</section>\n", out);

    s_html_section (out, "heatmap", "Ground truth / services incidence",
        "Which services each class targets on the last day.");
    s_html_figure (self, out, S_FIG_HEATMAP, 7);
    fputs ("</section>\n", out);

    s_html_section (out, "ingest", "Ingest",
        "What the sensors read and what was skipped; non-zero losses are shown in red.");
    s_html_ingest (self, out);
    s_html_data_link (out, "ingest");
    fputs ("</section>\n", out);

    fputs ("<footer>Generated by darkscope. Data: <a href=\"overview.json\">overview.json</a> "
           "(the full overview), a CSV next to each figure, and <a href=\"report.gp\">report.gp</a> "
           "(the gnuplot script; run <code>gnuplot report.gp</code> in this directory to redraw).</footer>\n"
           "</main>\n</body>\n</html>\n", out);
    if (ds_rdir_close (self->rdir, out, "index.html.tmp") || ds_rdata_failed (self->data))
        return -1;
    char from [PATH_MAX], to [PATH_MAX];
    snprintf (from, sizeof from, "%s/index.html.tmp", self->dir);
    snprintf (to, sizeof to, "%s/index.html", self->dir);
    if (rename (from, to) != 0)
        return ds_rdata_fail (self->data, "cannot write %s: %s", to, strerror (errno));
    return 0;
}


//  --------------------------------------------------------------------------
//  Driver

static int
s_fetch (s_report_t *self, ds_report_fetch_fn fetch, void *ctx, const ds_query_t *query,
         msgpack_zone *zone, msgpack_object *result)
{
    char reason [512] = "";
    if (fetch (ctx, query, zone, result, reason, sizeof reason) != 0)
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
    //  Pattern times are local times of the overview's zone: switch the
    //  process zone to it when it differs (a client's; `darkscope run` has
    //  set it already).  An unknown zone keeps ours, and the page says so.
    if (strcmp (self->win.tz, ds_tz_name ()) != 0)
        ds_tz_set (self->win.tz);
    self->win.tz_matches = strcmp (self->win.tz, ds_tz_name ()) == 0;
    //  Bins so a window shows about 4320 of them (60 s per 3 days).
    int64_t days = (int64_t) self->win.last_dn - self->win.first_dn + 1;
    self->pattern_bin_s = 60 * ((days + 2) / 3);
    return 0;
}

int
ds_report_write (const char *dir, ds_report_fetch_fn fetch, void *ctx, char *err, size_t err_size)
{
    s_report_t self_s = { .dir = dir, .data = ds_rdata_new (err, err_size) };
    s_report_t *self = &self_s;
    if (!self->data) {
        if (err && err_size)
            snprintf (err, err_size, "out of memory");
        return -1;
    }
    msgpack_zone *zone = NULL;
    if (!dir || !fetch)
        ds_rdata_fail (self->data, "ds_report_write: no directory or fetch function");
    else
    if (!(zone = msgpack_zone_new (64 * 1024)) || !(self->rdir = ds_rdir_new (dir, self->data)))
        ds_rdata_fail (self->data, "out of memory");
    if (ds_rdata_failed (self->data)) {
        if (zone)
            msgpack_zone_free (zone);
        ds_rdata_destroy (&self->data);
        return -1;
    }

    ds_query_t query;
    ds_query_init (&query);
    snprintf (query.name, sizeof query.name, "overview");
    if (ds_rdir_make (self->rdir) == 0
    &&  s_fetch (self, fetch, ctx, &query, zone, &self->overview) == 0
    &&  s_window (self) == 0) {
        //  The patterns over exactly the overview's window.
        for (int i = 0; i < S_FIG_COUNT && !ds_rdata_failed (self->data); i++) {
            int p = s_figures [i].pattern;
            if (p < 0)
                continue;
            ds_query_init (&query);
            snprintf (query.name, sizeof query.name, "pattern");
            memcpy (query.first_day, self->win.first_day, sizeof query.first_day);
            memcpy (query.last_day, self->win.last_day, sizeof query.last_day);
            snprintf (query.class_name, sizeof query.class_name, "%s", s_figures [i].class_name);
            query.min_packets = self->win.min_packets;
            if (!*s_figures [i].class_name)
                query.bin_s = self->pattern_bin_s;
            s_fetch (self, fetch, ctx, &query, zone, &self->pattern [p]);
        }
    }
    FILE *json = ds_rdata_failed (self->data) ? NULL : ds_rdir_open (self->rdir, "overview.json", "w");
    if (json) {
        if (ds_json_write (json, &self->overview) != 0)
            ds_rdata_fail (self->data, "overview: holds a value JSON cannot express (a bin, ext or non-string key)");
        fputc ('\n', json);
        ds_rdir_close (self->rdir, json, "overview.json");
    }
    self->gp = ds_rdata_failed (self->data) ? NULL : ds_rdir_open (self->rdir, "report.gp", "w");
    if (self->gp) {
        fprintf (self->gp, "#  darkscope report figures, %s to %s; run `gnuplot report.gp` here.\n",
                 self->win.first_day, self->win.last_day);
        for (int i = 0; i < S_FIG_COUNT && !ds_rdata_failed (self->data); i++)
            s_figures [i].prepare (self, (s_fig_id_t) i);
        if (ds_rdir_close (self->rdir, self->gp, "report.gp") == 0 && !ds_rdata_failed (self->data))
            s_gnuplot_run (self);
    }
    if (!ds_rdata_failed (self->data))
        s_html_write (self);
    msgpack_zone_free (zone);
    int rc = ds_rdata_failed (self->data) ? -1 : 0;
    ds_rdir_destroy (&self->rdir);
    ds_rdata_destroy (&self->data);
    return rc;
}
