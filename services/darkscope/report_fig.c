/*  report_fig.c - one figure of the report: CSV, facts, caption, gnuplot block; see report_fig.h. */
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "report_fig.h"
#include "report_plot.h"

struct _ds_rfig_t {
    const ds_rfig_row_t *row;
    ds_rdir_t *dir;
    ds_rdata_t *data;
    const ds_rwindow_t *window;
    ds_rfig_page_t page;
    bool nodata;                    //  prepare() said there is nothing to draw
    _Alignas (max_align_t) unsigned char facts [DS_RFIG_FACTS_MAX];
};

ds_rfig_t *
ds_rfig_new (const ds_rfig_row_t *row, ds_rdir_t *dir, ds_rdata_t *data, const ds_rwindow_t *window)
{
    ds_rfig_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->row = row;
    self->dir = dir;
    self->data = data;
    self->window = window;
    self->page.width = row->width;
    self->page.height = row->height;
    return self;
}

void
ds_rfig_destroy (ds_rfig_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free (*self_p);
    *self_p = NULL;
}

int
ds_rfig_draw (ds_rfig_t *self, const msgpack_object *result, FILE *gp)
{
    const ds_rfig_row_t *row = self->row;
    char name [PATH_MAX];
    snprintf (name, sizeof name, "fig-%s.csv", row->name);
    FILE *csv = ds_rdir_open (self->dir, name);
    if (!csv)
        return -1;
    fprintf (csv, "%s\n", row->columns);
    memset (self->facts, 0, sizeof self->facts);
    int rc = row->prepare (self, result, csv);
    if (ds_rdir_close (self->dir, csv, name) != 0 || rc != 0 || ds_rdata_failed (self->data))
        return -1;
    if (self->nodata)
        return 0;
    self->page.has_data = true;
    row->caption (self, self->page.caption, sizeof self->page.caption);
    ds_rplot_begin (gp, row->name, row->title, self->page.width, self->page.height);
    row->plot (self, gp);
    return 0;
}

const ds_rfig_row_t *
ds_rfig_row (const ds_rfig_t *self)
{
    return self->row;
}

const ds_rwindow_t *
ds_rfig_window (const ds_rfig_t *self)
{
    return self->window;
}

ds_rdata_t *
ds_rfig_data (ds_rfig_t *self)
{
    return self->data;
}

ds_rdir_t *
ds_rfig_dir (ds_rfig_t *self)
{
    return self->dir;
}

void *
ds_rfig_facts (ds_rfig_t *self)
{
    return self->facts;
}

void
ds_rfig_size (ds_rfig_t *self, int width, int height)
{
    self->page.width = width;
    self->page.height = height;
}

void
ds_rfig_nodata (ds_rfig_t *self, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    vsnprintf (self->page.nodata, sizeof self->page.nodata, fmt, args);
    va_end (args);
    self->nodata = true;
    char svg [PATH_MAX];
    snprintf (svg, sizeof svg, "fig-%s.svg", self->row->name);
    ds_rdir_unlink (self->dir, svg);
}

static void
s_sources_name (const ds_rfig_t *self, char *buf, size_t size)
{
    snprintf (buf, size, "fig-%s-sources.csv", self->row->name);
}

FILE *
ds_rfig_sources_open (ds_rfig_t *self)
{
    char name [PATH_MAX];
    s_sources_name (self, name, sizeof name);
    FILE *file = ds_rdir_open (self->dir, name);
    if (file) {
        fprintf (file, "token,ip\n");
        self->page.sources_csv = true;
    }
    return file;
}

int
ds_rfig_sources_close (ds_rfig_t *self, FILE *file)
{
    char name [PATH_MAX];
    s_sources_name (self, name, sizeof name);
    return ds_rdir_close (self->dir, file, name);
}

const ds_rfig_page_t *
ds_rfig_page (const ds_rfig_t *self)
{
    return &self->page;
}
