/*  report_pattern.h - the report's activity-pattern figures: a dot per
    (source, time bin) in which the source sent at least one packet, for
    all sources and for one ground-truth class (DarkVec's Figs. "activity
    pattern", Stretchoid, engin-umich).

    The narrow interface of one figure family: the query a pattern row
    asks (over the overview's window) and the prepare / caption / plot
    triple the row names (see report_fig.h).  The reply is the pattern
    query's raster and sample (proto/PROTOCOL.md, read with
    pattern_reply.h); what the figure draws from it stays inside
    report_pattern.c.
*/
#ifndef DS_REPORT_PATTERN_H
#define DS_REPORT_PATTERN_H

#include "report_fig.h"

//  Fills the pattern query of a row (its class_name; "" = all sources)
//  over the window: all sources in bins of about 4320 per window (60 s
//  per 3 days), a class in the query's default bins; a raster of about a
//  cell per pixel of the plot, a sample of DS_REPORT_POINTS_MAX points.
void ds_rpattern_query (const ds_rfig_row_t *row, const ds_rwindow_t *window, ds_query_t *query);

//  Writes the sample points as rows bin_start_us,token,local_time,
//  fig-<name>-sources.csv (token,ip) and, unless every point is drawn as
//  a dot, fig-<name>-raster.csv (the cells' counts) and fig-<name>.raster.
int ds_rpattern_prepare (ds_rfig_t *fig, const msgpack_object *pattern, FILE *csv);

//  The caption: bin width, zone, sources, points, how they were drawn.
void ds_rpattern_caption (ds_rfig_t *fig, char *buf, size_t size);

//  The raster on a local-time axis, or dots; sources' IPs as y tics when few.
void ds_rpattern_plot (ds_rfig_t *fig, FILE *gp);

#endif
