/*  report_curves.c - port rank, packets per source and sources per day
    figures; see report_curves.h.  Fractions in the CSVs are written as
    the JSON output writes them (shortest text that reads back exactly). */
#include <inttypes.h>
#include <math.h>
#include <stdint.h>

#include "report_curves.h"
#include "json.h"
#include "text.h"
#include "tzday.h"

#define S_INSET_PORTS   14              //  ports in the port rank's inset

typedef struct {
    uint32_t ports;                     //  distinct ports (ranks)
    int64_t total;                      //  packets over all ports
    double top_fraction;                //  of the packets, to the inset's ports
    double at_right, at_left;           //  curve height at the inset's edges
} s_rank_t;
DS_RFIG_FACTS_FIT (s_rank_t);

typedef struct {
    uint32_t points;
    double below;                       //  fraction of sources under min_packets
    int64_t max_packets;
} s_ecdf_t;
DS_RFIG_FACTS_FIT (s_ecdf_t);

typedef struct {
    int64_t peak;                       //  largest count of any day
    int32_t day0, day1;                 //  first and last day, as day numbers
} s_daily_t;
DS_RFIG_FACTS_FIT (s_daily_t);


//  --------------------------------------------------------------------------
//  Port rank

int
ds_rcurves_rank_prepare (ds_rfig_t *fig, const msgpack_object *overview, FILE *csv)
{
    ds_rdata_t *data = ds_rfig_data (fig);
    s_rank_t *f = ds_rfig_facts (fig);
    const char *where = "overview.port_ranking[]";
    const msgpack_object *ranking = ds_rdata_arr (data, overview, "port_ranking", "overview");
    uint32_t n = ranking->via.array.size;
    for (uint32_t i = 0; i < n; i++)
        f->total += ds_rdata_int (data, &ranking->via.array.ptr [i], "packets", where);
    if (ds_rdata_failed (data))
        return -1;
    //  The inset goes where the curve is not: bottom right when the curve is
    //  high before the inset's left edge (rank ~n^0.4 on the log axis), top
    //  left when it is still low at the inset's right edge (rank ~n^0.55).
    uint32_t rank_right = (uint32_t) pow (n, 0.4), rank_left = (uint32_t) pow (n, 0.55);
    int64_t cumulative = 0;
    char num [40];
    for (uint32_t i = 0; i < n; i++) {
        const msgpack_object *row = &ranking->via.array.ptr [i];
        int64_t packets = ds_rdata_int (data, row, "packets", where);
        cumulative += packets;
        double fraction = f->total > 0 ? (double) cumulative / (double) f->total : 0;
        if (i < S_INSET_PORTS)
            f->top_fraction = fraction;
        if (i + 1 <= rank_right)
            f->at_right = fraction;
        if (i + 1 <= rank_left)
            f->at_left = fraction;
        ds_json_double (num, sizeof num, fraction);
        fprintf (csv, "%u,", i + 1);
        msgpack_object_str port = ds_rdata_str (data, row, "port", where);
        ds_text_csv (csv, port.ptr, port.size);
        fprintf (csv, ",%" PRId64 ",%s\n", packets, num);
    }
    f->ports = n;
    if (ds_rdata_failed (data))
        return -1;
    if (n == 0 || f->total == 0)
        ds_rfig_nodata (fig, "No data: no packets in the window.");
    return 0;
}

void
ds_rcurves_rank_caption (ds_rfig_t *fig, char *buf, size_t size)
{
    const s_rank_t *f = ds_rfig_facts (fig);
    const ds_rwindow_t *win = ds_rfig_window (fig);
    char t1 [32], t2 [32], pct [32];
    unsigned inset = f->ports < S_INSET_PORTS ? f->ports : S_INSET_PORTS;
    snprintf (buf, size,
        "Cumulative fraction of packets received by port rank (ports ordered by packets, "
        "log scale), %s to %s: %s distinct ports, %s packets. Inset: the top %u ports with "
        "the cumulative fraction they receive (%s%% of all packets together).",
        win->first_day, win->last_day, ds_text_group (f->ports, t1, sizeof t1),
        ds_text_group (f->total, t2, sizeof t2), inset,
        ds_text_round (100.0 * f->top_fraction, 2, pct, sizeof pct));
}

void
ds_rcurves_rank_plot (ds_rfig_t *fig, FILE *gp)
{
    const s_rank_t *f = ds_rfig_facts (fig);
    const char *name = ds_rfig_row (fig)->name;
    uint32_t n = f->ports;
    unsigned inset = n < S_INSET_PORTS ? n : S_INSET_PORTS;
    fprintf (gp,
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
        n < 2 ? 2.0 : n * 1.25, name,
        f->at_right < 0.72 && f->at_left < 0.35 ? "0.13,0.40" : "0.42,0.16",
        inset, inset, name, inset - 1);
}


//  --------------------------------------------------------------------------
//  Packets per source

int
ds_rcurves_ecdf_prepare (ds_rfig_t *fig, const msgpack_object *overview, FILE *csv)
{
    ds_rdata_t *data = ds_rfig_data (fig);
    s_ecdf_t *f = ds_rfig_facts (fig);
    int64_t min_packets = ds_rfig_window (fig)->min_packets;
    const char *where = "overview.sender_ecdf[]";
    const msgpack_object *ecdf = ds_rdata_arr (data, overview, "sender_ecdf", "overview");
    uint32_t n = ecdf->via.array.size;
    f->max_packets = 1;
    char num [40];
    for (uint32_t i = 0; i < n && !ds_rdata_failed (data); i++) {
        const msgpack_object *row = &ecdf->via.array.ptr [i];
        int64_t packets = ds_rdata_int (data, row, "packets", where);
        double fraction = ds_rdata_num (data, row, "fraction", where);
        if (packets < min_packets)
            f->below = fraction;
        if (packets > f->max_packets)
            f->max_packets = packets;
        ds_json_double (num, sizeof num, fraction);
        fprintf (csv, "%" PRId64 ",%s\n", packets, num);
    }
    f->points = n;
    if (ds_rdata_failed (data))
        return -1;
    if (n == 0)
        ds_rfig_nodata (fig, "No data: no sources in the window.");
    return 0;
}

void
ds_rcurves_ecdf_caption (ds_rfig_t *fig, char *buf, size_t size)
{
    const s_ecdf_t *f = ds_rfig_facts (fig);
    char pct [32];
    snprintf (buf, size,
        "ECDF of the packets each source sent over the window (log scale). The dashed red line "
        "marks the filter threshold min_packets = %" PRId64 ": %s%% of the sources sent fewer "
        "packets and are filtered out of the last-day analysis.",
        ds_rfig_window (fig)->min_packets, ds_text_round (100.0 * f->below, 2, pct, sizeof pct));
}

void
ds_rcurves_ecdf_plot (ds_rfig_t *fig, FILE *gp)
{
    const s_ecdf_t *f = ds_rfig_facts (fig);
    int64_t min_packets = ds_rfig_window (fig)->min_packets;
    int64_t xmax = f->max_packets > min_packets ? f->max_packets : min_packets;
    char pct [32];
    ds_text_round (100.0 * f->below, 2, pct, sizeof pct);
    fprintf (gp,
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
        xmax * 1.5, min_packets, min_packets, min_packets, pct, min_packets, ds_rfig_row (fig)->name);
}


//  --------------------------------------------------------------------------
//  Sources per day

int
ds_rcurves_daily_prepare (ds_rfig_t *fig, const msgpack_object *overview, FILE *csv)
{
    static const char *columns [] = { "sources", "sources_filtered", "cumulative", "cumulative_filtered" };
    ds_rdata_t *data = ds_rfig_data (fig);
    s_daily_t *f = ds_rfig_facts (fig);
    const char *where = "overview.daily[]";
    const msgpack_object *daily = ds_rdata_arr (data, overview, "daily", "overview");
    uint32_t n = daily->via.array.size;
    for (uint32_t i = 0; i < n && !ds_rdata_failed (data); i++) {
        const msgpack_object *row = &daily->via.array.ptr [i];
        char day [11];
        msgpack_object_str text = ds_rdata_str (data, row, "day", where);
        ds_rdata_copy (day, sizeof day, text);
        int32_t dn = 0;
        if (!ds_rdata_failed (data) && ds_day_parse (day, &dn) != 0)
            return ds_rdata_fail (data, "unexpected result shape: overview.daily[%u].day \"%s\" is not a date", i, day);
        f->day0 = i == 0 ? dn : f->day0;
        f->day1 = dn;
        ds_text_csv (csv, text.ptr, text.size);
        for (size_t c = 0; c < sizeof columns / sizeof *columns; c++) {
            int64_t v = ds_rdata_int (data, row, columns [c], where);
            f->peak = v > f->peak ? v : f->peak;
            fprintf (csv, ",%" PRId64, v);
        }
        fputc ('\n', csv);
    }
    if (ds_rdata_failed (data))
        return -1;
    if (n == 0 || f->peak == 0)
        ds_rfig_nodata (fig, "No data: no sources on any day of the window.");
    return 0;
}

void
ds_rcurves_daily_caption (ds_rfig_t *fig, char *buf, size_t size)
{
    const ds_rwindow_t *win = ds_rfig_window (fig);
    snprintf (buf, size,
        "Distinct source IPs seen each day (solid) and cumulatively since %s (dashed), "
        "unfiltered (black) and filtered to sources with at least %" PRId64 " packets over the "
        "window (red); log scale. The gap between the curves is what the filter removes.",
        win->first_day, win->min_packets);
}

void
ds_rcurves_daily_plot (ds_rfig_t *fig, FILE *gp)
{
    const s_daily_t *f = ds_rfig_facts (fig);
    //  x: days as seconds (gnuplot's time axis is zone-less, dates are dates).
    fprintf (gp,
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
        f->day1 - f->day0 > 60 ? "%Y-%m" : "%m-%d",
        (int64_t) f->day0 * 86400 - 43200, (int64_t) f->day1 * 86400 + 43200,
        (double) f->peak * 3, ds_rfig_row (fig)->name);
}
