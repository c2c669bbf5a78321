/*  report_embed.h - the report's embedding (DarkVec §4-6): the senders'
    word2vec vectors on their two principal axes, coloured by class, drawn
    from the embed service's "projection" (the prepare / caption / plot
    triple its row in report.c names, see report_fig.h); and the
    "embedding" evaluation, attached to the overview so the page's table
    and overview.json carry it.  Both are optional: without an embed
    service the figure says so and the overview has no "embedding".
*/
#ifndef DS_REPORT_EMBED_H
#define DS_REPORT_EMBED_H

#include "report.h"
#include "report_fig.h"

//  Fetches "embedding" through fetch and adds it to the overview map (in
//  zone) as key "embedding".  Returns 0, or -1 with the reason in err (no
//  embed service, not trained yet); the overview is then unchanged.
int ds_rembed_attach (ds_report_fetch_fn fetch, void *ctx, msgpack_zone *zone,
                      msgpack_object *overview, char *err, size_t err_size);

//  The figure's query: "projection".
void ds_rembed_query (const ds_rfig_row_t *row, const ds_rwindow_t *window, ds_query_t *query);

//  Rows x,y,class_index,predicted_index,class; a nil result (the query
//  failed: no embed service) is "no data".
int ds_rembed_prepare (ds_rfig_t *fig, const msgpack_object *result, FILE *csv);

//  The caption.
void ds_rembed_caption (ds_rfig_t *fig, char *buf, size_t size);

//  Unlabelled senders grey, each class in its colour.
void ds_rembed_plot (ds_rfig_t *fig, FILE *gp);

#endif
