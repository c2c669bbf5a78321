/*  report_pattern.h - the report's activity-pattern figures: a dot per
    (source, time bin) in which the source sent at least one packet, for
    all sources and for one ground-truth class (DarkVec's Figs. "activity
    pattern", Stretchoid, engin-umich).

    The narrow interface of one figure family: the query a pattern row
    asks (over the overview's window) and the prepare / caption / plot
    triple the row names (see report_fig.h).  The reply read today is
    {"bin_s", "class", "sources": [ip, ...], "points": [[bin_start_us,
    token], ...]}; what the figure draws from it stays inside
    report_pattern.c.
*/
#ifndef DS_REPORT_PATTERN_H
#define DS_REPORT_PATTERN_H

#include "report_fig.h"

//  Fills the pattern query of a row (its class_name; "" = all sources)
//  over the window: all sources in bins of about 4320 per window (60 s
//  per 3 days), a class in the query's default bins.
void ds_rpattern_query (const ds_rfig_row_t *row, const ds_rwindow_t *window, ds_query_t *query);

//  Writes fig-<name>-sources.csv (token,ip) and the drawn points as rows
//  bin_start_us,token,local_time (every k-th above DS_REPORT_POINTS_MAX);
//  when more are drawn than SVG dots can carry, also fig-<name>.raster.
int ds_rpattern_prepare (ds_rfig_t *fig, const msgpack_object *pattern, FILE *csv);

//  The caption: bin width, zone, sources, how the points were drawn.
void ds_rpattern_caption (ds_rfig_t *fig, char *buf, size_t size);

//  Dots on a local-time axis, or the raster; sources' IPs as y tics when few.
void ds_rpattern_plot (ds_rfig_t *fig, FILE *gp);

#endif
