/*  report_heatmap.c - the class x service heatmap figure; see report_heatmap.h. */
#include <inttypes.h>
#include <math.h>

#include "report_heatmap.h"
#include "report_plot.h"
#include "json.h"
#include "text.h"

typedef struct {
    const msgpack_object *classes;      //  array of strings: x tics
    const msgpack_object *services;     //  array of strings: y tics
} s_heatmap_t;
DS_RFIG_FACTS_FIT (s_heatmap_t);

//  Checks that classes and services are strings and fraction is a
//  services x classes matrix.
static int
s_check (ds_rdata_t *data, const msgpack_object *classes, const msgpack_object *services,
         const msgpack_object *fraction, const char *where)
{
    uint32_t nc = classes->via.array.size, ns = services->via.array.size;
    if (fraction->via.array.size != ns)
        return ds_rdata_fail (data, "unexpected result shape: %s.fraction has %u rows for %u services",
                              where, fraction->via.array.size, ns);
    for (uint32_t i = 0; i < nc; i++)
        if (classes->via.array.ptr [i].type != MSGPACK_OBJECT_STR)
            return ds_rdata_fail (data, "unexpected result shape: %s.classes[%u] is not a string", where, i);
    for (uint32_t i = 0; i < ns; i++) {
        const msgpack_object *row = &fraction->via.array.ptr [i];
        if (services->via.array.ptr [i].type != MSGPACK_OBJECT_STR)
            return ds_rdata_fail (data, "unexpected result shape: %s.services[%u] is not a string", where, i);
        if (row->type != MSGPACK_OBJECT_ARRAY || row->via.array.size != nc)
            return ds_rdata_fail (data, "unexpected result shape: %s.fraction[%u] does not have %u numbers",
                                  where, i, nc);
    }
    return 0;
}

int
ds_rheatmap_prepare (ds_rfig_t *fig, const msgpack_object *overview, FILE *csv)
{
    ds_rdata_t *data = ds_rfig_data (fig);
    s_heatmap_t *f = ds_rfig_facts (fig);
    const char *where = "overview.heatmap";
    const msgpack_object *heatmap = ds_rdata_map (data, overview, "heatmap", "overview");
    const msgpack_object *classes = ds_rdata_arr (data, heatmap, "classes", where);
    const msgpack_object *services = ds_rdata_arr (data, heatmap, "services", where);
    const msgpack_object *fraction = ds_rdata_arr (data, heatmap, "fraction", where);
    if (ds_rdata_failed (data) || s_check (data, classes, services, fraction, where) != 0)
        return -1;
    uint32_t nc = classes->via.array.size, ns = services->via.array.size;
    char num [40];
    for (uint32_t i = 0; i < ns; i++)
        for (uint32_t j = 0; j < nc; j++) {
            const msgpack_object *cell = &fraction->via.array.ptr [i].via.array.ptr [j];
            double v = cell->type == MSGPACK_OBJECT_FLOAT64 || cell->type == MSGPACK_OBJECT_FLOAT32
                     ? cell->via.f64 : ds_rdata_is_int (cell) ? (double) ds_rdata_as_int (cell) : NAN;
            if (isnan (v))
                return ds_rdata_fail (data, "unexpected result shape: %s.fraction[%u][%u] is not a number",
                                      where, i, j);
            ds_json_double (num, sizeof num, v);
            fprintf (csv, "%u,%u,%s,", j, i, num);
            const msgpack_object *c = &classes->via.array.ptr [j], *s = &services->via.array.ptr [i];
            ds_text_csv (csv, c->via.str.ptr, c->via.str.size);
            fputc (',', csv);
            ds_text_csv (csv, s->via.str.ptr, s->via.str.size);
            fputc ('\n', csv);
        }
    f->classes = classes;
    f->services = services;
    if (nc == 0 || ns == 0) {
        ds_rfig_nodata (fig, "No data: no filtered source sent packets on the last day (%s).",
                        ds_rfig_window (fig)->last_day);
        return 0;
    }
    int width = 260 + 64 * (int) nc, height = 190 + 34 * (int) ns;
    ds_rfig_size (fig, width < 700 ? 700 : width > 3200 ? 3200 : width, height < 420 ? 420 : height);
    return 0;
}

void
ds_rheatmap_caption (ds_rfig_t *fig, char *buf, size_t size)
{
    const ds_rwindow_t *win = ds_rfig_window (fig);
    snprintf (buf, size,
        "Fraction of each class's packets per service on the last day (%s), sources with at least "
        "%" PRId64 " packets only; unk_sys, unk_usr, unk_eph and proxy merged into \"others\". Each "
        "column sums to 1; values rounded to 2 decimals as in the notebook.",
        win->last_day, win->min_packets);
}

void
ds_rheatmap_plot (ds_rfig_t *fig, FILE *gp)
{
    const s_heatmap_t *f = ds_rfig_facts (fig);
    uint32_t nc = f->classes->via.array.size, ns = f->services->via.array.size;
    fprintf (gp,
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
    fputs ("set xtics rotate by 45 right (", gp);
    ds_rplot_tics (gp, f->classes);
    fputs (")\nset ytics (", gp);
    ds_rplot_tics (gp, f->services);
    fprintf (gp,
        ")\n"
        "plot 'fig-%s.csv' skip 1 using 1:2:(0.5):(0.5):3 with boxxyerror fs solid 1.0 border lc rgb 'white' lc palette, \\\n"
        "     '' skip 1 using 1:2:(sprintf('%%.2f', $3)):($3 > 0.5 ? 0xffffff : 0x222222) with labels tc rgb variable font 'Helvetica,11'\n",
        ds_rfig_row (fig)->name);
}
