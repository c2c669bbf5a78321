/*  report_embed.c - the embedding figure and the evaluation attached to the overview; see report_embed.h. */
#include <inttypes.h>
#include <string.h>

#include "report_embed.h"
#include "report_plot.h"
#include "json.h"

typedef struct {
    const msgpack_object *classes;  //  names, "unknown" last (in the report's zone)
    uint32_t points, labelled;
    uint32_t senders;
} s_facts_t;

int
ds_rembed_attach (ds_report_fetch_fn fetch, void *ctx, msgpack_zone *zone,
                  msgpack_object *overview, char *err, size_t err_size)
{
    ds_query_t q;
    ds_query_init (&q);
    snprintf (q.name, sizeof q.name, "embedding");
    msgpack_object result;
    if (fetch (ctx, &q, zone, &result, err, err_size) != 0)
        return -1;
    if (overview->type != MSGPACK_OBJECT_MAP || result.type != MSGPACK_OBJECT_MAP) {
        snprintf (err, err_size, "embedding: the overview or the result is not a map");
        return -1;
    }
    uint32_t n = overview->via.map.size;
    msgpack_object_kv *kv = msgpack_zone_malloc (zone, (n + 1) * sizeof *kv);
    if (!kv) {
        snprintf (err, err_size, "out of memory");
        return -1;
    }
    memcpy (kv, overview->via.map.ptr, n * sizeof *kv);
    kv [n].key = (msgpack_object) { .type = MSGPACK_OBJECT_STR, .via.str = { 9, "embedding" } };
    kv [n].val = result;
    overview->via.map.ptr = kv;
    overview->via.map.size = n + 1;
    return 0;
}

void
ds_rembed_query (const ds_rfig_row_t *row, const ds_rwindow_t *window, ds_query_t *query)
{
    (void) row;
    (void) window;
    ds_query_init (query);
    snprintf (query->name, sizeof query->name, "projection");
}

int
ds_rembed_prepare (ds_rfig_t *fig, const msgpack_object *result, FILE *csv)
{
    ds_rdata_t *data = ds_rfig_data (fig);
    s_facts_t *f = ds_rfig_facts (fig);
    if (result->type == MSGPACK_OBJECT_NIL) {
        ds_rfig_nodata (fig, "Not computed: the embedding comes from the embed service "
                             "(darkscope run --embed, or darkscope-embed next to the query service).");
        return 0;
    }
    const char *where = "projection";
    f->classes = ds_rdata_arr (data, result, "classes", where);
    const msgpack_object *points = ds_rdata_arr (data, result, "points", where);
    f->senders = (uint32_t) ds_rdata_int (data, result, "senders", where);
    if (ds_rdata_failed (data))
        return -1;
    uint32_t n_classes = f->classes->via.array.size;
    for (uint32_t i = 0; i < n_classes; i++)
        if (f->classes->via.array.ptr [i].type != MSGPACK_OBJECT_STR)
            return ds_rdata_fail (data, "projection.classes[%u] is not a string", i);
    char x [40], y [40];
    for (uint32_t i = 0; i < points->via.array.size; i++) {
        const msgpack_object *p = &points->via.array.ptr [i];
        if (p->type != MSGPACK_OBJECT_ARRAY || p->via.array.size != 4
        ||  !ds_rdata_is_int (&p->via.array.ptr [2]) || !ds_rdata_is_int (&p->via.array.ptr [3]))
            return ds_rdata_fail (data, "projection.points[%u] is not [x, y, class, predicted]", i);
        int64_t c = ds_rdata_as_int (&p->via.array.ptr [2]), v = ds_rdata_as_int (&p->via.array.ptr [3]);
        const msgpack_object *px = &p->via.array.ptr [0], *py = &p->via.array.ptr [1];
        if (c < 0 || c >= n_classes || v < 0 || v >= n_classes
        ||  (px->type != MSGPACK_OBJECT_FLOAT64 && px->type != MSGPACK_OBJECT_FLOAT32)
        ||  (py->type != MSGPACK_OBJECT_FLOAT64 && py->type != MSGPACK_OBJECT_FLOAT32))
            return ds_rdata_fail (data, "projection.points[%u]: bad coordinates or class index", i);
        ds_json_double (x, sizeof x, px->via.f64);
        ds_json_double (y, sizeof y, py->via.f64);
        fprintf (csv, "%s,%s,%" PRId64 ",%" PRId64 ",", x, y, c, v);
        const msgpack_object_str *name = &f->classes->via.array.ptr [c].via.str;
        fprintf (csv, "%.*s\n", (int) name->size, name->ptr);
        f->labelled += c < n_classes - 1;
    }
    f->points = points->via.array.size;
    if (f->points == 0)
        ds_rfig_nodata (fig, "No data: no sender reached min_count packets.");
    return 0;
}

void
ds_rembed_caption (ds_rfig_t *fig, char *buf, size_t size)
{
    const s_facts_t *f = ds_rfig_facts (fig);
    snprintf (buf, size,
        "Each dot is a sender with at least min_count packets: its word2vec vector (DarkVec: "
        "skip-gram over per-service hourly sentences of source addresses) projected on the two "
        "principal axes of all vectors (PCA). Labelled senders are coloured by class, the others "
        "are grey. Senders that hit the same services in the same hours get close vectors, so "
        "coordinated groups form clusters. %u of %u senders shown (%u labelled).",
        f->points, f->senders, f->labelled);
}

void
ds_rembed_plot (ds_rfig_t *fig, FILE *gp)
{
    static const char *colours [] = {
        "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
        "#e377c2", "#17becf", "#bcbd22", "#393b79", "#637939", "#843c39" };
    const s_facts_t *f = ds_rfig_facts (fig);
    const char *name = ds_rfig_row (fig)->name;
    uint32_t n = f->classes->via.array.size;
    fprintf (gp,
        "set key outside right top\n"
        "set xlabel 'principal axis 1'\n"
        "set ylabel 'principal axis 2'\n"
        "plot 'fig-%s.csv' skip 1 using ($3 == %u ? $1 : NaN):2 with points pt 7 ps 0.35 "
        "lc rgb '#c4c9d1' title 'unknown'", name, n - 1);
    for (uint32_t c = 0; c + 1 < n; c++) {
        const msgpack_object_str *s = &f->classes->via.array.ptr [c].via.str;
        fprintf (gp, ", \\\n     '' skip 1 using ($3 == %u ? $1 : NaN):2 with points pt 7 ps 0.55 "
                     "lc rgb '%s' title ", c, colours [c % (sizeof colours / sizeof *colours)]);
        ds_rplot_str (gp, s->ptr, s->size);
    }
    fputc ('\n', gp);
}
