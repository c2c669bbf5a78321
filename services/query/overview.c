/*  overview.c - what each query of the overview family shows of the
    merged overview; see overview.h.
*/
#include "overview.h"
#include "tzday.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
ds_overview_pp_rank (const void *x, const void *y)
{
    const ds_overview_pp_t *a = x, *b = y;
    if (a->packets != b->packets)
        return a->packets > b->packets ? -1 : 1;
    return strcmp (a->text, b->text);
}

static int
s_cmp_named_key (const void *x, const void *y)
{
    return strcmp (((const ds_overview_named_t *) x)->name, ((const ds_overview_named_t *) y)->name);
}

static int
s_cmp_named_rank (const void *x, const void *y)
{
    const ds_overview_named_t *a = x, *b = y;
    if (a->packets != b->packets)
        return a->packets > b->packets ? -1 : 1;
    return strcmp (a->name, b->name);
}

size_t
ds_overview_named_combine (ds_overview_named_t *v, size_t n)
{
    if (n == 0)
        return 0;
    qsort (v, n, sizeof *v, s_cmp_named_key);
    size_t out = 0;
    for (size_t i = 1; i < n; i++)
        if (strcmp (v [i].name, v [out].name) == 0)
            v [out].packets += v [i].packets;
        else
            v [++out] = v [i];
    return out + 1;
}

void
ds_overview_free (ds_overview_t *o)
{
    free (o->window_pps);
    free (o->last_pps);
    free (o->hist);
    free (o->days);
    for (size_t i = 0; o->classes && i < o->n_classes; i++) {
        free (o->classes [i].pps);
        free (o->classes [i].services);
    }
    free (o->classes);
}

static void
s_pack_dataset (msgpack_packer *pk, uint64_t sources, ds_overview_pp_t *pps, size_t n)
{
    uint64_t packets = 0, ports = 0;
    for (size_t i = 0; i < n; i++) {
        packets += pps [i].packets;
        ports += (i == 0 || pps [i].port != pps [i - 1].port) ? 1 : 0;  //  sorted by key
    }
    msgpack_pack_map (pk, 5);
    ds_pack_str (pk, "sources");
    msgpack_pack_uint64 (pk, sources);
    ds_pack_str (pk, "packets");
    msgpack_pack_uint64 (pk, packets);
    ds_pack_str (pk, "ports");
    msgpack_pack_uint64 (pk, ports);
    ds_pack_str (pk, "pp");
    msgpack_pack_uint64 (pk, n);
    ds_pack_str (pk, "top_pp");
    ds_overview_pp_t *top = malloc ((n ? n : 1) * sizeof *top);
    size_t nt = 0;
    if (top) {
        memcpy (top, pps, n * sizeof *top);
        qsort (top, n, sizeof *top, ds_overview_pp_rank);
        nt = n < 3 ? n : 3;
    }
    msgpack_pack_array (pk, nt);
    for (size_t i = 0; i < nt; i++) {
        msgpack_pack_map (pk, 4);
        ds_pack_str (pk, "pp");
        ds_pack_str (pk, top [i].text);
        ds_pack_str (pk, "packets");
        msgpack_pack_uint64 (pk, top [i].packets);
        ds_pack_str (pk, "percent");
        msgpack_pack_double (pk, (100.0 * (double) top [i].packets) / (double) packets);
        ds_pack_str (pk, "sources");
        msgpack_pack_uint64 (pk, top [i].sources);
    }
    free (top);
}

typedef struct {
    int32_t port;
    uint64_t packets;
} s_port_t;

//  Packets desc, then numeric port, "-" last.
static int
s_cmp_port_rank (const void *x, const void *y)
{
    const s_port_t *a = x, *b = y;
    if (a->packets != b->packets)
        return a->packets > b->packets ? -1 : 1;
    int64_t pa = a->port < 0 ? 65536 : a->port, pb = b->port < 0 ? 65536 : b->port;
    return pa < pb ? -1 : pa > pb;
}

static void
s_pack_ports (msgpack_packer *pk, const ds_overview_t *o)
{
    s_port_t *ports = malloc ((o->n_window_pps ? o->n_window_pps : 1) * sizeof *ports);
    size_t n = 0;
    if (ports)
        for (size_t i = 0; i < o->n_window_pps; i++) {  //  w is sorted by (port, proto)
            if (n > 0 && ports [n - 1].port == o->window_pps [i].port)
                ports [n - 1].packets += o->window_pps [i].packets;
            else
                ports [n++] = (s_port_t) { o->window_pps [i].port, o->window_pps [i].packets };
        }
    qsort (ports, n, sizeof *ports, s_cmp_port_rank);
    msgpack_pack_array (pk, n);
    for (size_t i = 0; i < n; i++) {
        char text [16];
        if (ports [i].port < 0)
            snprintf (text, sizeof text, "-");
        else
            snprintf (text, sizeof text, "%d", (int) ports [i].port);
        msgpack_pack_map (pk, 2);
        ds_pack_str (pk, "port");
        ds_pack_str (pk, text);
        ds_pack_str (pk, "packets");
        msgpack_pack_uint64 (pk, ports [i].packets);
    }
    free (ports);
}

static void
s_pack_ecdf (msgpack_packer *pk, const ds_overview_t *o)
{
    uint64_t total = 0, cum = 0;
    for (size_t i = 0; i < o->n_hist; i++)
        total += o->hist [i].count;
    msgpack_pack_array (pk, o->n_hist);
    for (size_t i = 0; i < o->n_hist; i++) {
        cum += o->hist [i].count;
        msgpack_pack_map (pk, 2);
        ds_pack_str (pk, "packets");
        msgpack_pack_uint64 (pk, o->hist [i].x);
        ds_pack_str (pk, "fraction");
        msgpack_pack_double (pk, (double) cum / (double) total);
    }
}

static void
s_pack_filter (msgpack_packer *pk, const ds_overview_t *o)
{
    uint64_t kept = 0, packets = 0;
    for (size_t i = 0; i < o->n_hist; i++)
        if (o->hist [i].x >= o->min_kept) {
            kept += o->hist [i].count;
            packets += o->hist [i].x * o->hist [i].count;
        }
    msgpack_pack_map (pk, 2);
    ds_pack_str (pk, "sources_kept");
    msgpack_pack_uint64 (pk, kept);
    ds_pack_str (pk, "packets_kept");
    msgpack_pack_uint64 (pk, packets);
}

static void
s_pack_daily (msgpack_packer *pk, const ds_overview_t *o)
{
    uint64_t cum = 0, cumf = 0;
    msgpack_pack_array (pk, (size_t) o->n_days);
    for (int32_t i = 0; i < o->n_days; i++) {
        const ds_part_day_t *d = &o->days [i];
        char day [11];
        ds_day_format (o->first_day + i, day);
        cum += d->first_seen;
        cumf += d->first_seen_filtered;
        msgpack_pack_map (pk, 5);
        ds_pack_str (pk, "day");
        ds_pack_str (pk, day);
        ds_pack_str (pk, "sources");
        msgpack_pack_uint64 (pk, d->sources);
        ds_pack_str (pk, "sources_filtered");
        msgpack_pack_uint64 (pk, d->filtered);
        ds_pack_str (pk, "cumulative");
        msgpack_pack_uint64 (pk, cum);
        ds_pack_str (pk, "cumulative_filtered");
        msgpack_pack_uint64 (pk, cumf);
    }
}

static void
s_pack_classes (msgpack_packer *pk, const ds_overview_t *o)
{
    msgpack_pack_array (pk, o->n_classes);
    for (size_t i = 0; i < o->n_classes; i++) {
        const ds_overview_class_t *c = &o->classes [i];
        msgpack_pack_map (pk, 5);
        ds_pack_str (pk, "class");
        ds_pack_str (pk, c->name);
        ds_pack_str (pk, "senders");
        msgpack_pack_uint64 (pk, c->senders);
        ds_pack_str (pk, "packets");
        msgpack_pack_uint64 (pk, c->packets);
        ds_pack_str (pk, "pp");
        msgpack_pack_uint64 (pk, c->n_pps);
        ds_pack_str (pk, "top_pp");
        size_t nt = c->n_pps < 5 ? c->n_pps : 5;
        msgpack_pack_array (pk, nt);
        for (size_t j = 0; j < nt; j++) {
            msgpack_pack_map (pk, 3);
            ds_pack_str (pk, "pp");
            ds_pack_str (pk, c->pps [j].text);
            ds_pack_str (pk, "packets");
            msgpack_pack_uint64 (pk, c->pps [j].packets);
            ds_pack_str (pk, "percent");
            msgpack_pack_double (pk, (100.0 * (double) c->pps [j].packets) / (double) c->packets);
        }
    }
}

static void
s_pack_heatmap (msgpack_packer *pk, const ds_overview_t *o)
{
    size_t total = 0;
    for (size_t i = 0; i < o->n_classes; i++)
        total += o->classes [i].n_services;
    ds_overview_named_t *sv = calloc (total ? total : 1, sizeof *sv);
    size_t ns = 0;
    if (sv) {
        for (size_t i = 0; i < o->n_classes; i++) {
            memcpy (sv + ns, o->classes [i].services, o->classes [i].n_services * sizeof *sv);
            ns += o->classes [i].n_services;
        }
        ns = ds_overview_named_combine (sv, ns);
        qsort (sv, ns, sizeof *sv, s_cmp_named_rank);
    }
    msgpack_pack_map (pk, 3);
    ds_pack_str (pk, "classes");
    msgpack_pack_array (pk, o->n_classes);
    for (size_t j = 0; j < o->n_classes; j++)
        ds_pack_str (pk, o->classes [j].name);
    ds_pack_str (pk, "services");
    msgpack_pack_array (pk, ns);
    for (size_t i = 0; i < ns; i++)
        ds_pack_str (pk, sv [i].name);
    ds_pack_str (pk, "fraction");
    msgpack_pack_array (pk, ns);
    for (size_t i = 0; i < ns; i++) {
        msgpack_pack_array (pk, o->n_classes);
        for (size_t j = 0; j < o->n_classes; j++) {
            const ds_overview_class_t *c = &o->classes [j];
            uint64_t packets = 0;
            //  services of a class are sorted by name: binary search.
            ds_overview_named_t *hit = bsearch (&sv [i], c->services, c->n_services, sizeof *hit,
                                      s_cmp_named_key);
            if (hit)
                packets = hit->packets;
            msgpack_pack_double (pk, (double) packets / (double) c->packets);
        }
    }
    free (sv);
}

static void
s_pack_overview (msgpack_packer *pk, const ds_overview_t *o)
{
    char day [11];
    msgpack_pack_map (pk, 12);
    ds_pack_str (pk, "schema");
    ds_pack_str (pk, "darkscope.overview/1");
    ds_pack_str (pk, "tz");
    ds_pack_str (pk, o->tz);
    ds_pack_str (pk, "min_packets");
    msgpack_pack_int64 (pk, o->min_packets);
    ds_pack_str (pk, "window");
    msgpack_pack_map (pk, 3);
    const int32_t ends [2] = { o->first_day, o->last_day };
    for (int e = 0; e < 2; e++) {
        ds_pack_str (pk, e == 0 ? "first_day" : "last_day");
        ds_day_format (ends [e], day);
        if (o->empty)
            msgpack_pack_nil (pk);
        else
            ds_pack_str (pk, day);
    }
    ds_pack_str (pk, "days");
    msgpack_pack_int32 (pk, o->n_days);
    ds_pack_str (pk, "dataset");
    msgpack_pack_map (pk, 2);
    ds_pack_str (pk, "window");
    s_pack_dataset (pk, o->window_sources, o->window_pps, o->n_window_pps);
    ds_pack_str (pk, "last_day");
    s_pack_dataset (pk, o->last_sources, o->last_pps, o->n_last_pps);
    ds_pack_str (pk, "port_ranking");
    s_pack_ports (pk, o);
    ds_pack_str (pk, "sender_ecdf");
    s_pack_ecdf (pk, o);
    ds_pack_str (pk, "filter");
    s_pack_filter (pk, o);
    ds_pack_str (pk, "daily");
    s_pack_daily (pk, o);
    ds_pack_str (pk, "classes");
    s_pack_classes (pk, o);
    ds_pack_str (pk, "heatmap");
    s_pack_heatmap (pk, o);
    ds_pack_str (pk, "ingest");
    msgpack_pack_map (pk, 6);
    static const char *const keys [] = { "packets_read", "non_ip", "malformed", "bad_time", "dropped" };
    const uint64_t ingest [] = { o->packets_read, o->non_ip, o->malformed, o->bad_time, o->dropped };
    for (int k = 0; k < 5; k++) {
        ds_pack_str (pk, keys [k]);
        msgpack_pack_uint64 (pk, ingest [k]);
    }
    ds_pack_str (pk, "gaps");
    msgpack_pack_uint64 (pk, o->gaps);
}


//  The queries of the overview family: name, result key, packer.
typedef void (s_section_fn) (msgpack_packer *, const ds_overview_t *);
static const struct {
    const char *query;
    const char *key;                //  NULL: the result is the object itself
    s_section_fn *fn;
} s_sections [] = {
    { "overview", NULL,           s_pack_overview },
    { "ports",    "port_ranking", s_pack_ports },
    { "ecdf",     "sender_ecdf",  s_pack_ecdf },
    { "daily",    "daily",        s_pack_daily },
    { "classes",  "classes",      s_pack_classes },
    { "heatmap",  "heatmap",      s_pack_heatmap },
};
#define S_SECTIONS (sizeof s_sections / sizeof *s_sections)

int
ds_overview_pack (const ds_overview_t *o, const char *name, msgpack_packer *pk)
{
    for (size_t i = 0; i < S_SECTIONS; i++)
        if (strcmp (name, s_sections [i].query) == 0) {
            if (s_sections [i].key) {
                msgpack_pack_map (pk, 1);
                ds_pack_str (pk, s_sections [i].key);
            }
            s_sections [i].fn (pk, o);
            return 0;
        }
    return -1;
}
