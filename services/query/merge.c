/*  merge.c - exact merge of shard partials; see merge.h.

    Every statistic is rebuilt here from sums over shards, in the exact
    formulas of the contract: percent = (100.0 * packets) / total, ECDF
    fraction = cumulative_sources / total_sources, heatmap fraction =
    packets (service, class) / packets (class).  Ties are broken on unique
    keys (pp text, port number, class / service name), so the output does
    not depend on how sources were split over shards.
*/
#include "merge.h"
#include "record.h"
#include "tzday.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  ---------------------------------------------------------------------
//  Checked access to msgpack objects

static bool
s_u64 (const msgpack_object *o, uint64_t *v)
{
    if (!o || o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return false;
    *v = o->via.u64;
    return true;
}

static bool
s_i64 (const msgpack_object *o, int64_t *v)
{
    if (!o)
        return false;
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= INT64_MAX) {
        *v = (int64_t) o->via.u64;
        return true;
    }
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        *v = o->via.i64;
        return true;
    }
    return false;
}

//  The array in o, with at least `min` elements per entry if entries are arrays.
static const msgpack_object_array *
s_arr (const msgpack_object *o)
{
    return o && o->type == MSGPACK_OBJECT_ARRAY ? &o->via.array : NULL;
}

static const msgpack_object *
s_tuple (const msgpack_object *o, uint32_t size)
{
    return o && o->type == MSGPACK_OBJECT_ARRAY && o->via.array.size == size
         ? o->via.array.ptr : NULL;
}

static bool
s_str (const msgpack_object *o, char *buf, size_t size)
{
    if (!o || o->type != MSGPACK_OBJECT_STR || o->via.str.size >= size)
        return false;
    memcpy (buf, o->via.str.ptr, o->via.str.size);
    buf [o->via.str.size] = 0;
    return true;
}

static void
s_pack_str (msgpack_packer *pk, const char *s)
{
    size_t n = strlen (s);
    msgpack_pack_str (pk, n);
    msgpack_pack_str_body (pk, s, n);
}

//  ---------------------------------------------------------------------
//  Window

int
ds_merge_window (const msgpack_object *parts, size_t n, ds_query_t *q,
                 char *tz, size_t tz_size, char *err, size_t err_size)
{
    bool any = false;
    int64_t lo = 0, hi = 0;
    tz [0] = 0;
    for (size_t i = 0; i < n; i++) {
        char ptz [128];
        const msgpack_object *a = ds_mp_get (&parts [i], "any");
        int64_t first, last;
        if (!s_str (ds_mp_get (&parts [i], "tz"), ptz, sizeof ptz) || !a
        ||  a->type != MSGPACK_OBJECT_BOOLEAN
        ||  !s_i64 (ds_mp_get (&parts [i], "first"), &first) || !s_i64 (ds_mp_get (&parts [i], "last"), &last)) {
            snprintf (err, err_size, "shard %zu: malformed range answer", i);
            return -1;
        }
        if (i == 0)
            snprintf (tz, tz_size, "%s", ptz);
        else
        if (strcmp (tz, ptz) != 0) {
            snprintf (err, err_size, "shards disagree on the time zone (%s vs %s)", tz, ptz);
            return -1;
        }
        if (!a->via.boolean)
            continue;
        if (!any || first < lo)
            lo = first;
        if (!any || last > hi)
            hi = last;
        any = true;
    }
    if ((!q->first_day [0] || !q->last_day [0]) && !any) {
        snprintf (err, err_size, "no data yet: no shard has seen a record "
                  "(give first_day and last_day for an empty window)");
        return -1;
    }
    if (!q->first_day [0])
        ds_day_format ((int32_t) lo, q->first_day);
    if (!q->last_day [0])
        ds_day_format ((int32_t) hi, q->last_day);
    int32_t f, l;
    if (ds_day_parse (q->first_day, &f) || ds_day_parse (q->last_day, &l)) {
        snprintf (err, err_size, "bad day: want YYYY-MM-DD");
        return -1;
    }
    if (f > l) {
        snprintf (err, err_size, "first_day %s is after last_day %s", q->first_day, q->last_day);
        return -1;
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  Overview

typedef struct {
    int32_t port;
    uint32_t proto;
    uint64_t packets;
    uint64_t sources;
    char text [16];                 //  "<port>/<PROTO>"
} s_pp_t;

typedef struct {
    char name [DS_NAME_MAX + 1];
    uint64_t packets;
} s_named_t;

typedef struct {
    char name [DS_NAME_MAX + 1];
    uint64_t senders, packets;
    s_pp_t *pps;                    //  combined, sorted for top_pp
    size_t n_pps;
    s_named_t *services;            //  after the "others" merge
    size_t n_services;
} s_class_t;

typedef struct {
    uint64_t x, count;
} s_hist_t;

typedef struct {
    int32_t first, last, ndays;
    uint64_t minp;
    int64_t min_packets;
    const char *tz;
    uint64_t ws, ls;
    s_pp_t *w, *l;
    size_t nw, nl;
    s_hist_t *h;
    size_t nh;
    uint64_t *d;                    //  ndays x 4
    s_class_t *c;
    size_t nc;
    uint64_t gaps;
    uint64_t ingest [4];            //  packets_read, non_ip, malformed, dropped
} s_overview_t;

static int
s_cmp_pp_key (const void *x, const void *y)
{
    const s_pp_t *a = x, *b = y;
    if (a->port != b->port)
        return a->port < b->port ? -1 : 1;
    return a->proto < b->proto ? -1 : a->proto > b->proto;
}

//  More packets first, then pp text in byte order.
static int
s_cmp_pp_rank (const void *x, const void *y)
{
    const s_pp_t *a = x, *b = y;
    if (a->packets != b->packets)
        return a->packets > b->packets ? -1 : 1;
    return strcmp (a->text, b->text);
}

static int
s_cmp_named_key (const void *x, const void *y)
{
    return strcmp (((const s_named_t *) x)->name, ((const s_named_t *) y)->name);
}

static int
s_cmp_named_rank (const void *x, const void *y)
{
    const s_named_t *a = x, *b = y;
    if (a->packets != b->packets)
        return a->packets > b->packets ? -1 : 1;
    return strcmp (a->name, b->name);
}

static int
s_cmp_hist (const void *x, const void *y)
{
    const s_hist_t *a = x, *b = y;
    return a->x < b->x ? -1 : a->x > b->x;
}

static int
s_cmp_class_key (const void *x, const void *y)
{
    return strcmp (((const s_class_t *) x)->name, ((const s_class_t *) y)->name);
}

//  Senders desc, packets desc, class name.
static int
s_cmp_class_rank (const void *x, const void *y)
{
    const s_class_t *a = x, *b = y;
    if (a->senders != b->senders)
        return a->senders > b->senders ? -1 : 1;
    if (a->packets != b->packets)
        return a->packets > b->packets ? -1 : 1;
    return strcmp (a->name, b->name);
}

//  Sorts pps by key, sums equal keys, formats their text; returns count.
static size_t
s_pp_combine (s_pp_t *v, size_t n)
{
    if (n == 0)
        return 0;
    qsort (v, n, sizeof *v, s_cmp_pp_key);
    size_t out = 0;
    for (size_t i = 1; i < n; i++)
        if (v [i].port == v [out].port && v [i].proto == v [out].proto) {
            v [out].packets += v [i].packets;
            v [out].sources += v [i].sources;
        }
        else
            v [++out] = v [i];
    n = out + 1;
    for (size_t i = 0; i < n; i++)
        ds_pp_format (v [i].text, sizeof v [i].text, v [i].port, (int) v [i].proto);
    return n;
}

static size_t
s_named_combine (s_named_t *v, size_t n)
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

//  Reads [port, proto, packets(, sources)] entries of every part's `key`.
static int
s_read_pps (const msgpack_object *parts, size_t n, const char *key, s_pp_t **out, size_t *count)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        const msgpack_object_array *a = s_arr (ds_mp_get (&parts [i], key));
        if (!a)
            return -1;
        total += a->size;
    }
    s_pp_t *v = calloc (total ? total : 1, sizeof *v);
    if (!v)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const msgpack_object_array *a = s_arr (ds_mp_get (&parts [i], key));
        for (uint32_t j = 0; j < a->size; j++) {
            const msgpack_object *t = s_tuple (&a->ptr [j], 4);
            int64_t port;
            uint64_t proto;
            if (!t || !s_i64 (&t [0], &port) || port < -1 || port > 65535
            ||  !s_u64 (&t [1], &proto) || proto >= DS_PROTO_COUNT
            ||  !s_u64 (&t [2], &v [k].packets) || !s_u64 (&t [3], &v [k].sources)) {
                free (v);
                return -1;
            }
            v [k].port = (int32_t) port;
            v [k].proto = (uint32_t) proto;
            k++;
        }
    }
    *count = s_pp_combine (v, k);
    *out = v;
    return 0;
}

//  unk_sys, unk_usr, unk_eph and proxy are "others" in the heatmap.
static const char *
s_heatmap_service (const char *service)
{
    static const char *const others [] = { "unk_sys", "unk_usr", "unk_eph", "proxy" };
    for (size_t i = 0; i < sizeof others / sizeof *others; i++)
        if (strcmp (service, others [i]) == 0)
            return "others";
    return service;
}

static int
s_read_classes (const msgpack_object *parts, size_t n, s_overview_t *o)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        const msgpack_object_array *a = s_arr (ds_mp_get (&parts [i], "c"));
        if (!a)
            return -1;
        total += a->size;
    }
    o->c = calloc (total ? total : 1, sizeof *o->c);
    if (!o->c)
        return -1;
    //  One row per (part, class) first, with raw lists; then combine.
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const msgpack_object_array *a = s_arr (ds_mp_get (&parts [i], "c"));
        for (uint32_t j = 0; j < a->size; j++) {
            const msgpack_object *t = s_tuple (&a->ptr [j], 5);
            s_class_t *c = &o->c [k++];
            o->nc = k;
            const msgpack_object_array *pa = t ? s_arr (&t [3]) : NULL;
            const msgpack_object_array *sa = t ? s_arr (&t [4]) : NULL;
            if (!t || !s_str (&t [0], c->name, sizeof c->name) || !s_u64 (&t [1], &c->senders)
            ||  !s_u64 (&t [2], &c->packets) || !pa || !sa)
                return -1;
            c->pps = calloc (pa->size ? pa->size : 1, sizeof *c->pps);
            c->services = calloc (sa->size ? sa->size : 1, sizeof *c->services);
            if (!c->pps || !c->services)
                return -1;
            for (uint32_t m = 0; m < pa->size; m++) {
                const msgpack_object *e = s_tuple (&pa->ptr [m], 3);
                int64_t port;
                uint64_t proto;
                if (!e || !s_i64 (&e [0], &port) || port < -1 || port > 65535
                ||  !s_u64 (&e [1], &proto) || proto >= DS_PROTO_COUNT
                ||  !s_u64 (&e [2], &c->pps [m].packets))
                    return -1;
                c->pps [m].port = (int32_t) port;
                c->pps [m].proto = (uint32_t) proto;
            }
            c->n_pps = pa->size;
            for (uint32_t m = 0; m < sa->size; m++) {
                const msgpack_object *e = s_tuple (&sa->ptr [m], 2);
                char name [DS_NAME_MAX + 1];
                if (!e || !s_str (&e [0], name, sizeof name) || !s_u64 (&e [1], &c->services [m].packets))
                    return -1;
                snprintf (c->services [m].name, sizeof c->services [m].name, "%s", s_heatmap_service (name));
            }
            c->n_services = sa->size;
        }
    }
    //  Combine rows of the same class (from different shards).
    if (k)
        qsort (o->c, k, sizeof *o->c, s_cmp_class_key);
    size_t out = 0;
    for (size_t i = 0; i < k; i++) {
        if (i > 0 && strcmp (o->c [i].name, o->c [out].name) == 0) {
            s_class_t *dst = &o->c [out], *src = &o->c [i];
            dst->senders += src->senders;
            dst->packets += src->packets;
            s_pp_t *pps = realloc (dst->pps, (dst->n_pps + src->n_pps + 1) * sizeof *pps);
            s_named_t *sv = realloc (dst->services, (dst->n_services + src->n_services + 1) * sizeof *sv);
            if (pps)
                dst->pps = pps;
            if (sv)
                dst->services = sv;
            if (!pps || !sv)
                return -1;
            memcpy (dst->pps + dst->n_pps, src->pps, src->n_pps * sizeof *pps);
            dst->n_pps += src->n_pps;
            memcpy (dst->services + dst->n_services, src->services, src->n_services * sizeof *sv);
            dst->n_services += src->n_services;
            free (src->pps);
            free (src->services);
            src->pps = NULL;
            src->services = NULL;
        }
        else
        if (i > 0) {
            o->c [++out] = o->c [i];
            if (out != i) {
                o->c [i].pps = NULL;
                o->c [i].services = NULL;
            }
        }
    }
    o->nc = k ? out + 1 : 0;
    for (size_t i = 0; i < o->nc; i++) {
        s_class_t *c = &o->c [i];
        c->n_pps = s_pp_combine (c->pps, c->n_pps);
        qsort (c->pps, c->n_pps, sizeof *c->pps, s_cmp_pp_rank);
        c->n_services = s_named_combine (c->services, c->n_services);
    }
    qsort (o->c, o->nc, sizeof *o->c, s_cmp_class_rank);
    //  Rows beyond nc were moved or freed; clear them for the destructor.
    return 0;
}

static void
s_overview_free (s_overview_t *o)
{
    free (o->w);
    free (o->l);
    free (o->h);
    free (o->d);
    if (o->c)
        for (size_t i = 0; i < o->nc; i++) {
            free (o->c [i].pps);
            free (o->c [i].services);
        }
    free (o->c);
}

//  Adds the "ppsrc" partials' window sources to the window pps.
static int
s_read_ppsrc (const msgpack_object *parts, size_t n, s_overview_t *o)
{
    for (size_t i = 0; i < n; i++) {
        const msgpack_object_array *a = s_arr (ds_mp_get (&parts [i], "s"));
        if (!a)
            return -1;
        for (uint32_t j = 0; j < a->size; j++) {
            const msgpack_object *t = s_tuple (&a->ptr [j], 3);
            int64_t port;
            uint64_t proto, sources;
            if (!t || !s_i64 (&t [0], &port) || !s_u64 (&t [1], &proto) || !s_u64 (&t [2], &sources))
                return -1;
            s_pp_t key = { .port = (int32_t) port, .proto = (uint32_t) proto };
            s_pp_t *hit = bsearch (&key, o->w, o->nw, sizeof *o->w, s_cmp_pp_key);
            if (hit)
                hit->sources += sources;
        }
    }
    return 0;
}

static int
s_overview_read (const msgpack_object *parts, size_t n, s_overview_t *o, char *err, size_t err_size)
{
    const char *what = "shape";
    //  Per-sensor ingest counters: each sensor's once (its EOS carries the
    //  same counters to every shard), from the first shard that has it.
    uint32_t sensors [1024];
    size_t n_sensors = 0;
    size_t nh = 0;
    for (size_t i = 0; i < n; i++) {
        const msgpack_object *p = &parts [i];
        uint64_t ws, ls;
        char tz [128];
        const msgpack_object_array *h = s_arr (ds_mp_get (p, "h"));
        const msgpack_object_array *d = s_arr (ds_mp_get (p, "d"));
        const msgpack_object *ing = s_tuple (ds_mp_get (p, "ing"), 2);
        if (!s_str (ds_mp_get (p, "tz"), tz, sizeof tz) || strcmp (tz, o->tz) != 0) {
            what = "time zone";
            goto bad;
        }
        if (!s_u64 (ds_mp_get (p, "ws"), &ws) || !s_u64 (ds_mp_get (p, "ls"), &ls) || !h || !d
        ||  d->size != (uint32_t) o->ndays || !ing)
            goto bad;
        o->ws += ws;
        o->ls += ls;
        nh += h->size;
        for (int32_t day = 0; day < o->ndays; day++) {
            const msgpack_object *t = s_tuple (&d->ptr [day], 4);
            if (!t)
                goto bad;
            for (int k = 0; k < 4; k++) {
                uint64_t v;
                if (!s_u64 (&t [k], &v))
                    goto bad;
                o->d [(size_t) day * 4 + (size_t) k] += v;
            }
        }
        uint64_t gaps;
        const msgpack_object_array *sa = s_arr (&ing [1]);
        if (!s_u64 (&ing [0], &gaps) || !sa)
            goto bad;
        o->gaps += gaps;
        for (uint32_t j = 0; j < sa->size; j++) {
            const msgpack_object *t = s_tuple (&sa->ptr [j], 6);
            uint64_t v [6];
            for (int k = 0; k < 6; k++)
                if (!t || !s_u64 (&t [k], &v [k]))
                    goto bad;
            if (!v [1])
                continue;           //  no EOS from it here: no counters yet
            bool seen = false;
            for (size_t m = 0; m < n_sensors; m++)
                seen |= sensors [m] == (uint32_t) v [0];
            if (seen || n_sensors == sizeof sensors / sizeof *sensors)
                continue;
            sensors [n_sensors++] = (uint32_t) v [0];
            for (int k = 0; k < 4; k++)
                o->ingest [k] += v [2 + k];
        }
    }
    o->h = calloc (nh ? nh : 1, sizeof *o->h);
    if (!o->h)
        goto nomem;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const msgpack_object_array *h = s_arr (ds_mp_get (&parts [i], "h"));
        for (uint32_t j = 0; j < h->size; j++) {
            const msgpack_object *t = s_tuple (&h->ptr [j], 2);
            if (!t || !s_u64 (&t [0], &o->h [k].x) || !s_u64 (&t [1], &o->h [k].count))
                goto bad;
            k++;
        }
    }
    if (k) {
        qsort (o->h, k, sizeof *o->h, s_cmp_hist);
        size_t out = 0;
        for (size_t i = 1; i < k; i++)
            if (o->h [i].x == o->h [out].x)
                o->h [out].count += o->h [i].count;
            else
                o->h [++out] = o->h [i];
        o->nh = out + 1;
    }
    if (s_read_pps (parts, n, "w", &o->w, &o->nw) || s_read_pps (parts, n, "l", &o->l, &o->nl)
    ||  s_read_classes (parts, n, o))
        goto bad;
    return 0;
nomem:
    snprintf (err, err_size, "out of memory merging partials");
    return -1;
bad:
    snprintf (err, err_size, "malformed overview partial from a shard (%s)", what);
    return -1;
}

//  ---------------------------------------------------------------------
//  Packing the sections

static void
s_pack_dataset (msgpack_packer *pk, uint64_t sources, s_pp_t *pps, size_t n)
{
    uint64_t packets = 0, ports = 0;
    for (size_t i = 0; i < n; i++) {
        packets += pps [i].packets;
        ports += (i == 0 || pps [i].port != pps [i - 1].port) ? 1 : 0;  //  sorted by key
    }
    msgpack_pack_map (pk, 5);
    s_pack_str (pk, "sources");
    msgpack_pack_uint64 (pk, sources);
    s_pack_str (pk, "packets");
    msgpack_pack_uint64 (pk, packets);
    s_pack_str (pk, "ports");
    msgpack_pack_uint64 (pk, ports);
    s_pack_str (pk, "pp");
    msgpack_pack_uint64 (pk, n);
    s_pack_str (pk, "top_pp");
    s_pp_t *top = malloc ((n ? n : 1) * sizeof *top);
    size_t nt = 0;
    if (top) {
        memcpy (top, pps, n * sizeof *top);
        qsort (top, n, sizeof *top, s_cmp_pp_rank);
        nt = n < 3 ? n : 3;
    }
    msgpack_pack_array (pk, nt);
    for (size_t i = 0; i < nt; i++) {
        msgpack_pack_map (pk, 4);
        s_pack_str (pk, "pp");
        s_pack_str (pk, top [i].text);
        s_pack_str (pk, "packets");
        msgpack_pack_uint64 (pk, top [i].packets);
        s_pack_str (pk, "percent");
        msgpack_pack_double (pk, (100.0 * (double) top [i].packets) / (double) packets);
        s_pack_str (pk, "sources");
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
s_pack_ports (msgpack_packer *pk, const s_overview_t *o)
{
    s_port_t *ports = malloc ((o->nw ? o->nw : 1) * sizeof *ports);
    size_t n = 0;
    if (ports)
        for (size_t i = 0; i < o->nw; i++) {  //  w is sorted by (port, proto)
            if (n > 0 && ports [n - 1].port == o->w [i].port)
                ports [n - 1].packets += o->w [i].packets;
            else
                ports [n++] = (s_port_t) { o->w [i].port, o->w [i].packets };
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
        s_pack_str (pk, "port");
        s_pack_str (pk, text);
        s_pack_str (pk, "packets");
        msgpack_pack_uint64 (pk, ports [i].packets);
    }
    free (ports);
}

static void
s_pack_ecdf (msgpack_packer *pk, const s_overview_t *o)
{
    uint64_t total = 0, cum = 0;
    for (size_t i = 0; i < o->nh; i++)
        total += o->h [i].count;
    msgpack_pack_array (pk, o->nh);
    for (size_t i = 0; i < o->nh; i++) {
        cum += o->h [i].count;
        msgpack_pack_map (pk, 2);
        s_pack_str (pk, "packets");
        msgpack_pack_uint64 (pk, o->h [i].x);
        s_pack_str (pk, "fraction");
        msgpack_pack_double (pk, (double) cum / (double) total);
    }
}

static void
s_pack_filter (msgpack_packer *pk, const s_overview_t *o)
{
    uint64_t kept = 0, packets = 0;
    for (size_t i = 0; i < o->nh; i++)
        if (o->h [i].x >= o->minp) {
            kept += o->h [i].count;
            packets += o->h [i].x * o->h [i].count;
        }
    msgpack_pack_map (pk, 2);
    s_pack_str (pk, "sources_kept");
    msgpack_pack_uint64 (pk, kept);
    s_pack_str (pk, "packets_kept");
    msgpack_pack_uint64 (pk, packets);
}

static void
s_pack_daily (msgpack_packer *pk, const s_overview_t *o)
{
    uint64_t cum = 0, cumf = 0;
    msgpack_pack_array (pk, (size_t) o->ndays);
    for (int32_t i = 0; i < o->ndays; i++) {
        const uint64_t *d = o->d + (size_t) i * 4;
        char day [11];
        ds_day_format (o->first + i, day);
        cum += d [2];
        cumf += d [3];
        msgpack_pack_map (pk, 5);
        s_pack_str (pk, "day");
        s_pack_str (pk, day);
        s_pack_str (pk, "sources");
        msgpack_pack_uint64 (pk, d [0]);
        s_pack_str (pk, "sources_filtered");
        msgpack_pack_uint64 (pk, d [1]);
        s_pack_str (pk, "cumulative");
        msgpack_pack_uint64 (pk, cum);
        s_pack_str (pk, "cumulative_filtered");
        msgpack_pack_uint64 (pk, cumf);
    }
}

static void
s_pack_classes (msgpack_packer *pk, const s_overview_t *o)
{
    msgpack_pack_array (pk, o->nc);
    for (size_t i = 0; i < o->nc; i++) {
        const s_class_t *c = &o->c [i];
        msgpack_pack_map (pk, 5);
        s_pack_str (pk, "class");
        s_pack_str (pk, c->name);
        s_pack_str (pk, "senders");
        msgpack_pack_uint64 (pk, c->senders);
        s_pack_str (pk, "packets");
        msgpack_pack_uint64 (pk, c->packets);
        s_pack_str (pk, "pp");
        msgpack_pack_uint64 (pk, c->n_pps);
        s_pack_str (pk, "top_pp");
        size_t nt = c->n_pps < 5 ? c->n_pps : 5;
        msgpack_pack_array (pk, nt);
        for (size_t j = 0; j < nt; j++) {
            msgpack_pack_map (pk, 3);
            s_pack_str (pk, "pp");
            s_pack_str (pk, c->pps [j].text);
            s_pack_str (pk, "packets");
            msgpack_pack_uint64 (pk, c->pps [j].packets);
            s_pack_str (pk, "percent");
            msgpack_pack_double (pk, (100.0 * (double) c->pps [j].packets) / (double) c->packets);
        }
    }
}

static void
s_pack_heatmap (msgpack_packer *pk, const s_overview_t *o)
{
    size_t total = 0;
    for (size_t i = 0; i < o->nc; i++)
        total += o->c [i].n_services;
    s_named_t *sv = calloc (total ? total : 1, sizeof *sv);
    size_t ns = 0;
    if (sv) {
        for (size_t i = 0; i < o->nc; i++) {
            memcpy (sv + ns, o->c [i].services, o->c [i].n_services * sizeof *sv);
            ns += o->c [i].n_services;
        }
        ns = s_named_combine (sv, ns);
        qsort (sv, ns, sizeof *sv, s_cmp_named_rank);
    }
    msgpack_pack_map (pk, 3);
    s_pack_str (pk, "classes");
    msgpack_pack_array (pk, o->nc);
    for (size_t j = 0; j < o->nc; j++)
        s_pack_str (pk, o->c [j].name);
    s_pack_str (pk, "services");
    msgpack_pack_array (pk, ns);
    for (size_t i = 0; i < ns; i++)
        s_pack_str (pk, sv [i].name);
    s_pack_str (pk, "fraction");
    msgpack_pack_array (pk, ns);
    for (size_t i = 0; i < ns; i++) {
        msgpack_pack_array (pk, o->nc);
        for (size_t j = 0; j < o->nc; j++) {
            const s_class_t *c = &o->c [j];
            uint64_t packets = 0;
            //  services of a class are sorted by name: binary search.
            s_named_t *hit = bsearch (&sv [i], c->services, c->n_services, sizeof *hit,
                                      s_cmp_named_key);
            if (hit)
                packets = hit->packets;
            msgpack_pack_double (pk, (double) packets / (double) c->packets);
        }
    }
    free (sv);
}

static void
s_pack_overview (msgpack_packer *pk, const s_overview_t *o)
{
    char day [11];
    msgpack_pack_map (pk, 12);
    s_pack_str (pk, "schema");
    s_pack_str (pk, "darkscope.overview/1");
    s_pack_str (pk, "tz");
    s_pack_str (pk, o->tz);
    s_pack_str (pk, "min_packets");
    msgpack_pack_int64 (pk, o->min_packets);
    s_pack_str (pk, "window");
    msgpack_pack_map (pk, 3);
    s_pack_str (pk, "first_day");
    ds_day_format (o->first, day);
    s_pack_str (pk, day);
    s_pack_str (pk, "last_day");
    ds_day_format (o->last, day);
    s_pack_str (pk, day);
    s_pack_str (pk, "days");
    msgpack_pack_int32 (pk, o->ndays);
    s_pack_str (pk, "dataset");
    msgpack_pack_map (pk, 2);
    s_pack_str (pk, "window");
    s_pack_dataset (pk, o->ws, o->w, o->nw);
    s_pack_str (pk, "last_day");
    s_pack_dataset (pk, o->ls, o->l, o->nl);
    s_pack_str (pk, "port_ranking");
    s_pack_ports (pk, o);
    s_pack_str (pk, "sender_ecdf");
    s_pack_ecdf (pk, o);
    s_pack_str (pk, "filter");
    s_pack_filter (pk, o);
    s_pack_str (pk, "daily");
    s_pack_daily (pk, o);
    s_pack_str (pk, "classes");
    s_pack_classes (pk, o);
    s_pack_str (pk, "heatmap");
    s_pack_heatmap (pk, o);
    s_pack_str (pk, "ingest");
    msgpack_pack_map (pk, 5);
    static const char *const keys [] = { "packets_read", "non_ip", "malformed", "dropped" };
    for (int k = 0; k < 4; k++) {
        s_pack_str (pk, keys [k]);
        msgpack_pack_uint64 (pk, o->ingest [k]);
    }
    s_pack_str (pk, "gaps");
    msgpack_pack_uint64 (pk, o->gaps);
}

//  Queries answered from the overview partials: name, result key, packer.
typedef void (s_section_fn) (msgpack_packer *, const s_overview_t *);
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
ds_merge_is_overview_query (const char *name)
{
    for (size_t i = 0; i < S_SECTIONS; i++)
        if (strcmp (name, s_sections [i].query) == 0)
            return 1;
    return 0;
}

int
ds_merge_top_pps (const msgpack_object *parts, size_t n, char *part, size_t size,
                  char *err, size_t err_size)
{
    s_pp_t *w;
    size_t nw;
    if (s_read_pps (parts, n, "w", &w, &nw)) {
        snprintf (err, err_size, "malformed overview partial from a shard (window pps)");
        return -1;
    }
    qsort (w, nw, sizeof *w, s_cmp_pp_rank);
    size_t used = (size_t) snprintf (part, size, "pps:");
    for (size_t i = 0; i < nw && i < 3 && used < size; i++)
        used += (size_t) snprintf (part + used, size - used, "%s%d.%u", i ? "," : "",
                                   (int) w [i].port, w [i].proto);
    free (w);
    if (used >= size) {
        snprintf (err, err_size, "pp list too long");
        return -1;
    }
    return 0;
}

int
ds_merge_overview (const msgpack_object *parts, size_t n, const msgpack_object *ppsrc,
                   size_t n_ppsrc, const ds_query_t *q, const char *tz, msgpack_packer *pk,
                   char *err, size_t err_size)
{
    size_t section = S_SECTIONS;
    for (size_t i = 0; i < S_SECTIONS; i++)
        if (strcmp (q->name, s_sections [i].query) == 0)
            section = i;
    if (section == S_SECTIONS) {
        snprintf (err, err_size, "not an overview query: '%s'", q->name);
        return -1;
    }
    s_overview_t o;
    memset (&o, 0, sizeof o);
    if (ds_day_parse (q->first_day, &o.first) || ds_day_parse (q->last_day, &o.last)
    ||  o.first > o.last || (int64_t) o.last - o.first >= 36600) {
        snprintf (err, err_size, "bad window %s .. %s", q->first_day, q->last_day);
        return -1;
    }
    o.ndays = o.last - o.first + 1;
    o.min_packets = q->min_packets;
    o.minp = q->min_packets > 0 ? (uint64_t) q->min_packets : 0;
    o.tz = tz;
    o.d = calloc ((size_t) o.ndays * 4, sizeof *o.d);
    int rv = -1;
    if (!o.d)
        snprintf (err, err_size, "out of memory merging partials");
    else
    if (s_overview_read (parts, n, &o, err, err_size) == 0
    &&  (s_read_ppsrc (ppsrc, n_ppsrc, &o) == 0
         || (snprintf (err, err_size, "malformed ppsrc partial from a shard"), 0))) {
        if (s_sections [section].key) {
            msgpack_pack_map (pk, 1);
            s_pack_str (pk, s_sections [section].key);
        }
        s_sections [section].fn (pk, &o);
        rv = 0;
    }
    s_overview_free (&o);
    return rv;
}

