/*  report_curves.h - the report's curves from the overview: port rank
    ECDF with its top-14 inset, packets per source ECDF with the filter
    threshold, distinct sources per day (filtered and not, daily and
    cumulative).  Each figure is the prepare / caption / plot triple its
    row in report.c names (see report_fig.h); all read the overview.
*/
#ifndef DS_REPORT_CURVES_H
#define DS_REPORT_CURVES_H

#include "report_fig.h"

//  Port rank: fig-port-rank.csv rows rank,port,packets,cumulative_fraction.
int ds_rcurves_rank_prepare (ds_rfig_t *fig, const msgpack_object *overview, FILE *csv);

//  Port rank: the caption.
void ds_rcurves_rank_caption (ds_rfig_t *fig, char *buf, size_t size);

//  Port rank: the curve (log x) and the top-14 inset placed where the curve is not.
void ds_rcurves_rank_plot (ds_rfig_t *fig, FILE *gp);

//  Packets per source: rows packets,fraction.
int ds_rcurves_ecdf_prepare (ds_rfig_t *fig, const msgpack_object *overview, FILE *csv);

//  Packets per source: the caption, with the share of sources below min_packets.
void ds_rcurves_ecdf_caption (ds_rfig_t *fig, char *buf, size_t size);

//  Packets per source: the ECDF (log x) and the threshold line.
void ds_rcurves_ecdf_plot (ds_rfig_t *fig, FILE *gp);

//  Sources per day: rows day,sources,sources_filtered,cumulative,cumulative_filtered.
int ds_rcurves_daily_prepare (ds_rfig_t *fig, const msgpack_object *overview, FILE *csv);

//  Sources per day: the caption.
void ds_rcurves_daily_caption (ds_rfig_t *fig, char *buf, size_t size);

//  Sources per day: four curves on a date axis (log y).
void ds_rcurves_daily_plot (ds_rfig_t *fig, FILE *gp);

#endif
