/*  report_heatmap.h - the report's class x service heatmap of the last
    day: for each ground-truth class (x) the fraction of its packets per
    service (y), values printed in the cells.  The prepare / caption /
    plot triple its row in report.c names (see report_fig.h); it reads
    the overview's "heatmap".
*/
#ifndef DS_REPORT_HEATMAP_H
#define DS_REPORT_HEATMAP_H

#include "report_fig.h"

//  Checks the matrix's shape; rows class_index,service_index,fraction,class,service.
int ds_rheatmap_prepare (ds_rfig_t *fig, const msgpack_object *overview, FILE *csv);

//  The caption.
void ds_rheatmap_caption (ds_rfig_t *fig, char *buf, size_t size);

//  Boxes coloured by fraction, class and service names as tics.
void ds_rheatmap_plot (ds_rfig_t *fig, FILE *gp);

#endif
