/*  report_html.h - index.html of the report: one self-contained page
    (inline CSS, no scripts, no remote assets) with the dataset, filter,
    last-day classes and ingest tables read from the overview, and every
    figure with its caption and the links to its data.

    The page is written to index.html.tmp and renamed last, so a failed
    run never leaves a page that points at missing figures.  Everything
    that comes from the data (class names come from users' GT files, the
    zone from the overview) is escaped as HTML text, valid UTF-8 only.
*/
#ifndef DS_REPORT_HTML_H
#define DS_REPORT_HTML_H

#include <stddef.h>
#include <msgpack.h>
#include "report_data.h"
#include "report_dir.h"
#include "report_fig.h"

//  Writes index.html into dir: the sections in their fixed order, the
//  tables from overview, figures found in figs[0..count) by their row's
//  name and numbered in page order.  Returns 0, or -1 after recording why
//  in data.
int ds_rhtml_write (ds_rdir_t *dir, ds_rdata_t *data, const msgpack_object *overview,
                    const ds_rwindow_t *window, ds_rfig_t *const *figs, size_t count);

#endif
