/*  report_fig.h - one figure of the report: its row in the figure table,
    and the run that turns a query result into its files.

    report.c holds the table, a row per figure; the figure families
    (report_curves.c, report_heatmap.c, report_pattern.c) supply the
    functions a row names.  Drawing a figure:

      1. fig-<name>.csv is opened and the row's columns written as its
         header;
      2. prepare() reads the result, writes the CSV rows and keeps what
         the caption and the plot need in the figure's facts (a buffer of
         DS_RFIG_FACTS_MAX bytes, zeroed, that the family casts to its own
         struct), or says there is no data (ds_rfig_nodata);
      3. unless there is no data: caption() writes the caption, and plot()
         the figure's block of report.gp after the common header
         (ds_rplot_begin).

    The page (report_html.c) then shows each figure through ds_rfig_page.
*/
#ifndef DS_REPORT_FIG_H
#define DS_REPORT_FIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <msgpack.h>
#include "ds_proto.h"
#include "report_data.h"
#include "report_dir.h"

//  Bytes a figure family keeps between prepare() and caption()/plot().
#define DS_RFIG_FACTS_MAX   256

typedef struct _ds_rfig_t ds_rfig_t;
typedef struct _ds_rfig_row_t ds_rfig_row_t;

//  Fills the query a figure draws from, for the overview's window.
typedef void (ds_rfig_query_fn) (const ds_rfig_row_t *row, const ds_rwindow_t *window, ds_query_t *query);
//  Reads the result, writes the CSV rows; 0, or -1 after recording why.
typedef int (ds_rfig_prepare_fn) (ds_rfig_t *fig, const msgpack_object *result, FILE *csv);
//  Writes the caption (plain text) from the facts.
typedef void (ds_rfig_caption_fn) (ds_rfig_t *fig, char *buf, size_t size);
//  Writes the figure's gnuplot commands from the facts.
typedef void (ds_rfig_plot_fn) (ds_rfig_t *fig, FILE *gp);

struct _ds_rfig_row_t {
    const char *name;               //  file stem: fig-<name>.svg, .csv
    const char *title;              //  in the page and in report.gp
    ds_rfig_query_fn *query;        //  the figure's own query; NULL: drawn from the overview
    const char *class_name;         //  the query's class ("" = all), for pattern figures
    const char *columns;            //  header line of fig-<name>.csv
    int width, height;              //  SVG size in pixels; prepare() may set it
    ds_rfig_prepare_fn *prepare;
    ds_rfig_caption_fn *caption;
    ds_rfig_plot_fn *plot;
};

//  What the page shows of a drawn figure.
typedef struct {
    bool has_data;                  //  fig-<name>.svg drawn; else `nodata` says why
    bool sources_csv;               //  fig-<name>-sources.csv written too
    int width, height;              //  SVG size in pixels
    char caption [1200];            //  plain text; escaped when written
    char nodata [300];              //  plain text
} ds_rfig_page_t;

//  Creates figure `row` of a report writing into dir, reading through
//  data, over window.  All are borrowed.  Caller destroys.
ds_rfig_t *ds_rfig_new (const ds_rfig_row_t *row, ds_rdir_t *dir, ds_rdata_t *data,
                        const ds_rwindow_t *window);

//  Destroys a figure; NULL-safe, nulls *self_p.
void ds_rfig_destroy (ds_rfig_t **self_p);

//  Draws the figure from result (see the top of this file), appending its
//  block to the gnuplot script gp.  Returns 0 or -1.
int ds_rfig_draw (ds_rfig_t *self, const msgpack_object *result, FILE *gp);

//  The figure's row.
const ds_rfig_row_t *ds_rfig_row (const ds_rfig_t *self);

//  The overview's window.
const ds_rwindow_t *ds_rfig_window (const ds_rfig_t *self);

//  The results reader and error path.
ds_rdata_t *ds_rfig_data (ds_rfig_t *self);

//  The output directory.
ds_rdir_t *ds_rfig_dir (ds_rfig_t *self);

//  The family's facts: DS_RFIG_FACTS_MAX bytes, zeroed before prepare().
void *ds_rfig_facts (ds_rfig_t *self);

//  Sets the SVG size (instead of the row's).
void ds_rfig_size (ds_rfig_t *self, int width, int height);

//  Says there is no data to draw: the page shows the note (plain text)
//  instead of an image, and a fig-<name>.svg of an earlier report goes.
void ds_rfig_nodata (ds_rfig_t *self, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

//  Opens fig-<name>-sources.csv ("token,ip" header), which the page links
//  as the key of the figure's source tokens; NULL after recording why.
FILE *ds_rfig_sources_open (ds_rfig_t *self);

//  Closes it (see ds_rdir_close).
int ds_rfig_sources_close (ds_rfig_t *self, FILE *file);

//  What the page shows of the figure.
const ds_rfig_page_t *ds_rfig_page (const ds_rfig_t *self);

//  Declares that a family's facts struct fits in DS_RFIG_FACTS_MAX.
#define DS_RFIG_FACTS_FIT(type) \
    _Static_assert (sizeof (type) <= DS_RFIG_FACTS_MAX, #type " does not fit in DS_RFIG_FACTS_MAX")

#endif
