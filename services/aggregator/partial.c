/*  partial.c - the partial answers of one store (see merge.h for their
    layout): "range", "overview" and "pps:..." (window sources of the top
    pps), dispatched by ds_store_partial(), and the shard's status map
    (patterns: pattern.c).  They read the tables of store_internal.h.
*/
#include "store_internal.h"
#include "tzday.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
s_pack_str (msgpack_packer *pk, const char *s)
{
    size_t n = strlen (s);
    msgpack_pack_str (pk, n);
    msgpack_pack_str_body (pk, s, n);
}

void
store_err (char *err, size_t size, const char *fmt, const char *arg)
{
    if (err && size)
        snprintf (err, size, fmt, arg);
}

//  One end of a window: the day given as text (YYYY-MM-DD), else the
//  store's own (if it has seen a record).  0, or -1 with a reason.
static int
s_day_arg (ds_store_t *self, const char *text, const char *name, int32_t seen, int32_t *day,
           char *err, size_t err_size)
{
    if (text [0]) {
        if (ds_day_parse (text, day) == 0)
            return 0;
        if (err && err_size)
            snprintf (err, err_size, "bad %s '%s' (want YYYY-MM-DD)", name, text);
        return -1;
    }
    if (self->any) {
        *day = seen;
        return 0;
    }
    store_err (err, err_size, "%s", "no data: give first_day and last_day");
    return -1;
}

//  Resolves q's window against this store (explicit days win).
int
store_window (ds_store_t *self, const ds_query_t *q, int32_t *first, int32_t *last,
          char *err, size_t err_size)
{
    if (s_day_arg (self, q->first_day, "first_day", self->min_day, first, err, err_size)
    ||  s_day_arg (self, q->last_day, "last_day", self->max_day, last, err, err_size))
        return -1;
    if (*first > *last) {
        store_err (err, err_size, "%s", "first_day is after last_day");
        return -1;
    }
    if ((int64_t) *last - *first >= S_MAX_DAYS) {
        store_err (err, err_size, "%s", "window longer than 36600 days");
        return -1;
    }
    return 0;
}

static int
s_cmp_u64 (const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
    return x < y ? -1 : x > y;
}

typedef struct {
    uint32_t a, b;
    uint64_t v;
} s_triple_t;

static int
s_cmp_triple (const void *x, const void *y)
{
    const s_triple_t *p = x, *q = y;
    if (p->a != q->a)
        return p->a < q->a ? -1 : 1;
    if (p->b != q->b)
        return p->b < q->b ? -1 : 1;
    return 0;
}

//  Sorts triples by (a, b) and sums v of equal keys; returns the new count.
static size_t
s_triples_combine (s_triple_t *t, size_t n)
{
    if (n == 0)
        return 0;
    qsort (t, n, sizeof *t, s_cmp_triple);
    size_t out = 0;
    for (size_t i = 1; i < n; i++)
        if (t [i].a == t [out].a && t [i].b == t [out].b)
            t [out].v += t [i].v;
        else
            t [++out] = t [i];
    return out + 1;
}

static void
s_pack_ingest (ds_store_t *self, msgpack_packer *pk)
{
    uint64_t gaps = 0;
    for (uint32_t i = 0; i < self->n_streams; i++)
        gaps += self->streams [i].gaps;
    msgpack_pack_array (pk, 2);
    msgpack_pack_uint64 (pk, gaps);
    msgpack_pack_array (pk, self->n_streams);
    for (uint32_t i = 0; i < self->n_streams; i++) {
        const s_stream_t *s = &self->streams [i];
        msgpack_pack_array (pk, 6);
        msgpack_pack_uint32 (pk, s->sensor);
        msgpack_pack_uint32 (pk, s->eos);
        msgpack_pack_uint64 (pk, s->packets_read);
        msgpack_pack_uint64 (pk, s->non_ip);
        msgpack_pack_uint64 (pk, s->malformed);
        msgpack_pack_uint64 (pk, s->dropped);
    }
}

//  {"tz", "gen", "any", "first", "last"}: the days this shard has seen, and
//  its generation (the query service caches merged answers per generation).
static int
s_part_range (ds_store_t *self, const ds_query_t *q, msgpack_packer *pk, char *err, size_t err_size)
{
    (void) q; (void) err; (void) err_size;
    msgpack_pack_map (pk, 5);
    s_pack_str (pk, "tz");
    s_pack_str (pk, ds_tz_name ());
    s_pack_str (pk, "gen");
    msgpack_pack_uint64 (pk, self->generation);
    s_pack_str (pk, "any");
    if (self->any) msgpack_pack_true (pk); else msgpack_pack_false (pk);
    s_pack_str (pk, "first");
    msgpack_pack_int32 (pk, self->any ? self->min_day : 0);
    s_pack_str (pk, "last");
    msgpack_pack_int32 (pk, self->any ? self->max_day : 0);
    return 0;
}

int
store_classes (ds_store_t *self, int32_t first, int32_t last, uint16_t *cls)
{
    uint8_t *mirai = calloc (self->n_srcs ? self->n_srcs : 1, 1);
    if (!mirai)
        return -1;
    for (uint32_t i = store_days_lower (self, first); i < self->n_days && self->days [i]->day <= last; i++) {
        const s_day_t *d = self->days [i];
        for (uint32_t l = 0; l < d->n; l++)
            mirai [d->src [l]] |= d->flags [l] & DS_FLAG_MIRAI;
    }
    for (uint32_t s = 0; s < self->n_srcs; s++) {
        const s_src_t *src = &self->srcs [s];
        cls [s] = src->gt ? src->class_id : mirai [s] ? self->name_mirai : self->name_unknown;
    }
    free (mirai);
    return 0;
}

//  The shard's side of an overview: per-source sums over the window, then
//  everything the merge needs, packed (see merge.h for the layout).
typedef struct {
    int32_t first, last;            //  the window
    int32_t clip;                   //  first day of the classes' 30-day clip
    uint64_t min_packets;
    uint32_t ndays;
    uint64_t *pw;                   //  by source: packets in the window
    uint64_t *pc;                   //  by source: packets in [clip, last]
    int32_t *fday;                  //  by source: first day in the window
    uint16_t *cls;                  //  by source: class over the window
    uint64_t *daily;                //  by day: sources, filtered, first seen,
                                    //  first seen filtered (4 per day)
    uint64_t window_sources, last_sources;
    uint64_t *wpk, *lpk, *lsrc;     //  by pp: window and last-day packets,
                                    //  last-day sources
    uint64_t *csend, *cpk;          //  by class name: last-day senders, packets
    uint16_t *dsc;                  //  by local id of the last day: its
                                    //  class if counted, else S_NO_CLASS
} s_overview_t;

static void
s_overview_free (s_overview_t *ov)
{
    free (ov->pw); free (ov->pc); free (ov->fday); free (ov->cls); free (ov->daily);
    free (ov->wpk); free (ov->lpk); free (ov->lsrc); free (ov->csend); free (ov->cpk);
    free (ov->dsc);
}

//  The window's days, as [*lo, *hi) indexes of self->days.
static void
s_window_days (ds_store_t *self, int32_t first, int32_t last, uint32_t *lo, uint32_t *hi)
{
    *lo = store_days_lower (self, first);
    *hi = store_days_lower (self, last + 1);
}

//  Pass over the window's (day, src) columns: per-source sums, the days'
//  source counts, first days, classes.
static void
s_overview_sources (ds_store_t *self, s_overview_t *ov)
{
    uint32_t lo, hi;
    s_window_days (self, ov->first, ov->last, &lo, &hi);
    uint8_t *mirai = (uint8_t *) ov->dsc;       //  borrowed: n_srcs bytes, zeroed
    for (uint32_t i = lo; i < hi; i++) {
        const s_day_t *d = self->days [i];
        uint32_t di = (uint32_t) (d->day - ov->first);
        ov->daily [(size_t) di * 4] = d->n;
        bool in_clip = d->day >= ov->clip;
        for (uint32_t l = 0; l < d->n; l++) {
            uint32_t s = d->src [l];
            if (ov->pw [s] == 0) {
                ov->fday [s] = (int32_t) di;
                ov->daily [(size_t) di * 4 + 2]++;
            }
            ov->pw [s] += d->packets [l];
            if (in_clip)
                ov->pc [s] += d->packets [l];
            mirai [s] |= d->flags [l] & DS_FLAG_MIRAI;
        }
    }
    for (uint32_t s = 0; s < self->n_srcs; s++) {
        const s_src_t *src = &self->srcs [s];
        ov->cls [s] = src->gt ? src->class_id : mirai [s] ? self->name_mirai : self->name_unknown;
        if (ov->pw [s] == 0)
            continue;
        ov->window_sources++;
        if (ov->pw [s] >= ov->min_packets)
            ov->daily [(size_t) ov->fday [s] * 4 + 3]++;
    }
}

//  Second pass: sources kept by the filter per day, and the last day's
//  senders and packets per class (sources kept over the 30-day clip).
static int
s_overview_filtered (ds_store_t *self, s_overview_t *ov)
{
    uint32_t lo, hi;
    s_window_days (self, ov->first, ov->last, &lo, &hi);
    for (uint32_t i = lo; i < hi; i++) {
        const s_day_t *d = self->days [i];
        uint64_t kept = 0;
        for (uint32_t l = 0; l < d->n; l++)
            kept += ov->pw [d->src [l]] >= ov->min_packets;
        ov->daily [(size_t) (d->day - ov->first) * 4 + 1] = kept;
    }
    if (hi == lo || self->days [hi - 1]->day != ov->last)
        return 0;
    const s_day_t *d = self->days [hi - 1];
    ov->last_sources = d->n;
    free (ov->dsc);
    ov->dsc = malloc ((d->n ? d->n : 1) * sizeof *ov->dsc);
    if (!ov->dsc)
        return -1;
    for (uint32_t l = 0; l < d->n; l++) {
        uint32_t s = d->src [l];
        ov->dsc [l] = S_NO_CLASS;
        if (ov->pc [s] >= ov->min_packets) {
            ov->csend [ov->cls [s]]++;
            ov->cpk [ov->cls [s]] += d->packets [l];
            ov->dsc [l] = ov->cls [s];
        }
    }
    return 0;
}

//  Adds a day's packets per pp into pk (and its sources per pp into src),
//  arrays of n_pps.
static void
s_day_pp_totals (const s_day_t *d, uint32_t n_pps, uint64_t *pk, uint64_t *src)
{
    if (d->sealed)
        for (uint32_t k = 0; k < d->n_dir; k++) {
            uint32_t end = k + 1 < d->n_dir ? d->dir [k + 1].start : d->n_sorted;
            pk [d->dir [k].pp] += d->dir [k].packets;
            if (src)
                src [d->dir [k].pp] += end - d->dir [k].start;
        }
    else
        for (uint32_t pp = 0; pp < d->pp_cap && pp < n_pps; pp++) {
            pk [pp] += d->pp_packets [pp];
            if (src)
                src [pp] += d->pp_sources [pp];
        }
}

//  The last day's packets per (class, pp) and (class, service), summed
//  per pp run in a per-class accumulator.
typedef struct {
    ds_store_t *store;
    const s_day_t *day;
    const uint16_t *dsc;            //  by local id: class or S_NO_CLASS
    uint64_t *acc;                  //  by class name id
    uint16_t *touched;              //  classes with acc != 0
    s_triple_t *cpp, *csv;          //  (class, pp | service, packets)
    size_t n, cap;
} s_class_runs_t;

static int
s_class_run (void *arg, uint32_t pp, const uint32_t *locals, const uint32_t *packets, uint32_t n)
{
    s_class_runs_t *cr = arg;
    uint32_t n_touched = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint16_t cls = cr->dsc [locals [i]];
        if (cls == S_NO_CLASS)
            continue;
        if (!cr->acc [cls])
            cr->touched [n_touched++] = cls;
        cr->acc [cls] += store_day_packets (cr->day, locals [i], pp, packets [i]);
    }
    if (cr->n + n_touched > cr->cap) {
        size_t cap = (cr->n + n_touched) * 2;
        s_triple_t *a = realloc (cr->cpp, cap * sizeof *a);
        if (a)
            cr->cpp = a;
        s_triple_t *b = realloc (cr->csv, cap * sizeof *b);
        if (b)
            cr->csv = b;
        if (!a || !b)
            return -1;
        cr->cap = cap;
    }
    for (uint32_t t = 0; t < n_touched; t++) {
        uint16_t cls = cr->touched [t];
        cr->cpp [cr->n] = (s_triple_t) { cls, pp, cr->acc [cls] };
        cr->csv [cr->n++] = (s_triple_t) { cls, cr->store->pps [pp].service, cr->acc [cls] };
        cr->acc [cls] = 0;
    }
    return 0;
}

//  Packs the last day's (class, pp) and (class, service) packets of the
//  counted sources, per class, after its senders and packets.
static int
s_pack_classes (ds_store_t *self, s_overview_t *ov, msgpack_packer *pk)
{
    uint32_t hi = store_days_lower (self, ov->last + 1);
    const s_day_t *d = hi > 0 && self->days [hi - 1]->day == ov->last ? self->days [hi - 1] : NULL;
    s_class_runs_t cr = { self, d, ov->dsc, NULL, NULL, NULL, NULL, 0, 0 };
    cr.acc = calloc (self->n_names, sizeof *cr.acc);
    cr.touched = malloc (self->n_names * sizeof *cr.touched);
    int rc = -1;
    if (!cr.acc || !cr.touched || (d && store_day_pp_runs (d, s_class_run, &cr)))
        goto done;
    size_t n = cr.n;
    s_triple_t *cpp = cr.cpp, *csv = cr.csv;
    size_t ncpp = s_triples_combine (cpp, n);
    size_t ncsv = s_triples_combine (csv, n);
    uint32_t nclasses = 0;
    for (uint32_t c = 0; c < self->n_names; c++)
        nclasses += ov->csend [c] ? 1 : 0;
    msgpack_pack_array (pk, nclasses);
    size_t ip = 0, is = 0;
    for (uint32_t c = 0; c < self->n_names; c++) {
        if (!ov->csend [c])
            continue;
        msgpack_pack_array (pk, 5);
        s_pack_str (pk, self->names [c]);
        msgpack_pack_uint64 (pk, ov->csend [c]);
        msgpack_pack_uint64 (pk, ov->cpk [c]);
        while (ip < ncpp && cpp [ip].a < c)
            ip++;
        size_t jp = ip;
        while (jp < ncpp && cpp [jp].a == c)
            jp++;
        msgpack_pack_array (pk, jp - ip);
        for (; ip < jp; ip++) {
            msgpack_pack_array (pk, 3);
            msgpack_pack_int32 (pk, self->pps [cpp [ip].b].port);
            msgpack_pack_uint32 (pk, self->pps [cpp [ip].b].proto);
            msgpack_pack_uint64 (pk, cpp [ip].v);
        }
        while (is < ncsv && csv [is].a < c)
            is++;
        size_t js = is;
        while (js < ncsv && csv [js].a == c)
            js++;
        msgpack_pack_array (pk, js - is);
        for (; is < js; is++) {
            msgpack_pack_array (pk, 2);
            s_pack_str (pk, self->names [csv [is].b]);
            msgpack_pack_uint64 (pk, csv [is].v);
        }
    }
    rc = 0;
done:
    free (cr.acc);
    free (cr.touched);
    free (cr.cpp);
    free (cr.csv);
    return rc;
}

//  Packs the histogram of packets per source: [x, sources] by x.  Small
//  values are counted in a direct array, the few large ones sorted.
static int
s_pack_histogram (ds_store_t *self, const s_overview_t *ov, msgpack_packer *pk)
{
    enum { SMALL = 65536 };
    uint32_t *small = calloc (SMALL, sizeof *small);
    size_t n_large = 0;
    for (uint32_t s = 0; s < self->n_srcs; s++)
        n_large += ov->pw [s] >= SMALL;
    uint64_t *large = malloc ((n_large ? n_large : 1) * sizeof *large);
    if (!small || !large) {
        free (small); free (large);
        return -1;
    }
    n_large = 0;
    for (uint32_t s = 0; s < self->n_srcs; s++) {
        if (ov->pw [s] >= SMALL)
            large [n_large++] = ov->pw [s];
        else
            small [ov->pw [s]]++;
    }
    qsort (large, n_large, sizeof *large, s_cmp_u64);
    size_t distinct = 0;
    for (uint32_t x = 1; x < SMALL; x++)
        distinct += small [x] ? 1 : 0;
    for (size_t i = 0; i < n_large; i++)
        distinct += (i == 0 || large [i] != large [i - 1]) ? 1 : 0;
    msgpack_pack_array (pk, distinct);
    for (uint32_t x = 1; x < SMALL; x++)
        if (small [x]) {
            msgpack_pack_array (pk, 2);
            msgpack_pack_uint64 (pk, x);
            msgpack_pack_uint64 (pk, small [x]);
        }
    for (size_t i = 0; i < n_large; ) {
        size_t j = i;
        while (j < n_large && large [j] == large [i])
            j++;
        msgpack_pack_array (pk, 2);
        msgpack_pack_uint64 (pk, large [i]);
        msgpack_pack_uint64 (pk, j - i);
        i = j;
    }
    free (small);
    free (large);
    return 0;
}

//  The overview partial (see merge.h for the layout).
static int
s_part_overview (ds_store_t *self, const ds_query_t *q, msgpack_packer *pk, char *err, size_t err_size)
{
    s_overview_t ov;
    memset (&ov, 0, sizeof ov);
    if (store_window (self, q, &ov.first, &ov.last, err, err_size))
        return -1;
    ov.clip = ov.last - 29 > ov.first ? ov.last - 29 : ov.first;
    ov.min_packets = q->min_packets > 0 ? (uint64_t) q->min_packets : 0;
    ov.ndays = (uint32_t) (ov.last - ov.first + 1);
    size_t n = self->n_srcs ? self->n_srcs : 1;
    size_t npp = self->n_pps ? self->n_pps : 1;
    ov.pw = calloc (n, sizeof *ov.pw);
    ov.pc = calloc (n, sizeof *ov.pc);
    ov.fday = malloc (n * sizeof *ov.fday);
    ov.cls = malloc (n * sizeof *ov.cls);
    ov.dsc = calloc (n, sizeof *ov.dsc);        //  first the Mirai flags
    ov.daily = calloc ((size_t) ov.ndays * 4, sizeof *ov.daily);
    ov.wpk = calloc (npp, sizeof *ov.wpk);
    ov.lpk = calloc (npp, sizeof *ov.lpk);
    ov.lsrc = calloc (npp, sizeof *ov.lsrc);
    ov.csend = calloc (self->n_names, sizeof *ov.csend);
    ov.cpk = calloc (self->n_names, sizeof *ov.cpk);
    int rv = -1;
    if (!ov.pw || !ov.pc || !ov.fday || !ov.cls || !ov.dsc || !ov.daily || !ov.wpk || !ov.lpk
    ||  !ov.lsrc || !ov.csend || !ov.cpk)
        goto done;
    s_overview_sources (self, &ov);
    if (s_overview_filtered (self, &ov))
        goto done;
    uint32_t lo, hi;
    s_window_days (self, ov.first, ov.last, &lo, &hi);
    for (uint32_t i = lo; i < hi; i++)
        s_day_pp_totals (self->days [i], self->n_pps, ov.wpk, NULL);
    if (hi > lo && self->days [hi - 1]->day == ov.last)
        s_day_pp_totals (self->days [hi - 1], self->n_pps, ov.lpk, ov.lsrc);

    msgpack_pack_map (pk, 9);
    s_pack_str (pk, "tz");
    s_pack_str (pk, ds_tz_name ());
    s_pack_str (pk, "ws");
    msgpack_pack_uint64 (pk, ov.window_sources);
    s_pack_str (pk, "ls");
    msgpack_pack_uint64 (pk, ov.last_sources);
    for (int pass = 0; pass < 2; pass++) {
        const uint64_t *pkts = pass ? ov.lpk : ov.wpk;
        uint32_t count = 0;
        for (uint32_t i = 0; i < self->n_pps; i++)
            count += pkts [i] ? 1 : 0;
        s_pack_str (pk, pass ? "l" : "w");
        msgpack_pack_array (pk, count);
        for (uint32_t i = 0; i < self->n_pps; i++)
            if (pkts [i]) {
                msgpack_pack_array (pk, 4);
                msgpack_pack_int32 (pk, self->pps [i].port);
                msgpack_pack_uint32 (pk, self->pps [i].proto);
                msgpack_pack_uint64 (pk, pkts [i]);
                msgpack_pack_uint64 (pk, pass ? ov.lsrc [i] : 0);  //  window: see "ppsrc"
            }
    }
    s_pack_str (pk, "h");
    if (s_pack_histogram (self, &ov, pk))
        goto done;
    s_pack_str (pk, "d");
    msgpack_pack_array (pk, ov.ndays);
    for (uint32_t i = 0; i < ov.ndays; i++) {
        msgpack_pack_array (pk, 4);
        for (int k = 0; k < 4; k++)
            msgpack_pack_uint64 (pk, ov.daily [(size_t) i * 4 + (size_t) k]);
    }
    s_pack_str (pk, "c");
    if (s_pack_classes (self, &ov, pk))
        goto done;
    s_pack_str (pk, "ing");
    s_pack_ingest (self, pk);
    rv = 0;
done:
    if (rv)
        store_err (err, err_size, "%s", "out of memory");
    s_overview_free (&ov);
    return rv;
}

//  Parses q->part "pps:PORT.PROTO,..." (at most 3 pps; port -1 is "-").
static int
s_parse_pps (const char *part, int32_t *ports, uint32_t *protos, int *n)
{
    *n = 0;
    const char *p = part + 4;
    while (*p) {
        char *end;
        long port = strtol (p, &end, 10);
        if (end == p || *end != '.' || port < -1 || port > 65535 || *n == 3)
            return -1;
        p = end + 1;
        long proto = strtol (p, &end, 10);
        if (end == p || proto < 0 || proto >= DS_PROTO_COUNT || (*end && *end != ','))
            return -1;
        ports [*n] = (int32_t) port;
        protos [*n] = (uint32_t) proto;
        (*n)++;
        p = *end ? end + 1 : end;
    }
    return 0;
}

//  Marks, in seen (one bitmap of sources per asked pp), the sources of a
//  day that sent pp ids [k], counting new ones in counts [k].
static void
s_day_ppsrc (const s_day_t *d, const uint32_t *ids, int n, uint64_t *seen, size_t words,
             uint64_t *counts)
{
    for (int k = 0; k < n; k++) {               //  a pp named twice counts twice
        uint64_t *bits = seen + (size_t) k * words;
        if (d->sealed) {
            //  The directory is sorted by pp: binary search, then the run.
            uint32_t lo = 0, hi = d->n_dir;
            while (lo < hi) {
                uint32_t mid = lo + (hi - lo) / 2;
                if (d->dir [mid].pp < ids [k])
                    lo = mid + 1;
                else
                    hi = mid;
            }
            if (lo == d->n_dir || d->dir [lo].pp != ids [k])
                continue;
            uint32_t end = lo + 1 < d->n_dir ? d->dir [lo + 1].start : d->n_sorted;
            for (uint32_t e = d->dir [lo].start; e < end; e++) {
                uint32_t src = d->src [d->run_local [e]];
                uint64_t bit = 1ULL << (src % 64);
                counts [k] += !(bits [src / 64] & bit);
                bits [src / 64] |= bit;
            }
        }
        else {
            if (ids [k] >= d->pp_cap || !d->pp_sources [ids [k]])
                continue;
            S_TAB_EACH (&d->dsp, s_dsp_t, e) {
                if (e->pp != ids [k])
                    continue;
                uint32_t src = d->src [e->local];
                uint64_t bit = 1ULL << (src % 64);
                counts [k] += !(bits [src / 64] & bit);
                bits [src / 64] |= bit;
            }
        }
    }
}

//  The "ppsrc" partial: distinct sources over the window of at most 3 pps
//  named in q->part ("pps:23.0,445.0,-1.2"):
//  {"s": [[port, proto, sources]...]}.  Sealed days find a pp's sources
//  through their directory; open days (the newest) are scanned.
static int
s_part_ppsrc (ds_store_t *self, const ds_query_t *q, msgpack_packer *pk, char *err, size_t err_size)
{
    int32_t first, last, ports [3];
    uint32_t protos [3], ids [3];
    int n;
    if (store_window (self, q, &first, &last, err, err_size))
        return -1;
    if (s_parse_pps (q->part, ports, protos, &n)) {
        store_err (err, err_size, "bad pp list '%s' (want pps:PORT.PROTO,...)", q->part);
        return -1;
    }
    uint64_t counts [3] = { 0, 0, 0 };
    size_t words = ((size_t) self->n_srcs + 63) / 64;
    uint64_t *seen = calloc ((size_t) (n ? n : 1) * (words ? words : 1), sizeof *seen);
    if (!seen) {
        store_err (err, err_size, "%s", "out of memory");
        return -1;
    }
    for (int k = 0; k < n; k++) {
        uint32_t id1 = self->pp_direct [S_PP_SLOT (ports [k], protos [k])];
        ids [k] = id1 ? id1 - 1 : S_EMPTY;
    }
    uint32_t lo, hi;
    s_window_days (self, first, last, &lo, &hi);
    for (uint32_t i = lo; i < hi; i++)
        s_day_ppsrc (self->days [i], ids, n, seen, words, counts);
    free (seen);
    msgpack_pack_map (pk, 1);
    s_pack_str (pk, "s");
    msgpack_pack_array (pk, (size_t) n);
    for (int k = 0; k < n; k++) {
        msgpack_pack_array (pk, 3);
        msgpack_pack_int32 (pk, ports [k]);
        msgpack_pack_uint32 (pk, protos [k]);
        msgpack_pack_uint64 (pk, counts [k]);
    }
    return 0;
}

typedef int (s_part_fn) (ds_store_t *, const ds_query_t *, msgpack_packer *, char *, size_t);
static const struct {
    const char *name;
    s_part_fn *fn;
} s_parts [] = {
    { "range",    s_part_range },
    { "overview", s_part_overview },
};

int
ds_store_partial (ds_store_t *self, const ds_query_t *q, msgpack_packer *pk,
                  char *err, size_t err_size)
{
    for (size_t i = 0; i < sizeof s_parts / sizeof *s_parts; i++)
        if (strcmp (q->part, s_parts [i].name) == 0)
            return s_parts [i].fn (self, q, pk, err, err_size);
    if (strncmp (q->part, "pps:", 4) == 0)
        return s_part_ppsrc (self, q, pk, err, err_size);
    store_err (err, err_size, "unknown partial '%s'", q->part);
    return -1;
}

void
ds_store_pack_status (ds_store_t *self, msgpack_packer *pk, uint32_t sensors_expected)
{
    char day [11];
    msgpack_pack_map (pk, 14);
    s_pack_str (pk, "shard");
    msgpack_pack_uint32 (pk, self->shard);
    s_pack_str (pk, "shards");
    msgpack_pack_uint32 (pk, self->shards);
    s_pack_str (pk, "tz");
    s_pack_str (pk, ds_tz_name ());
    s_pack_str (pk, "sensors_expected");
    msgpack_pack_uint32 (pk, sensors_expected);
    s_pack_str (pk, "eos_all");
    if (ds_store_eos_count (self) >= sensors_expected) msgpack_pack_true (pk);
    else msgpack_pack_false (pk);
    s_pack_str (pk, "records");
    msgpack_pack_uint64 (pk, self->records);
    s_pack_str (pk, "sources");
    msgpack_pack_uint64 (pk, self->n_srcs);
    s_pack_str (pk, "first_day");
    if (self->any) { ds_day_format (self->min_day, day); s_pack_str (pk, day); }
    else msgpack_pack_nil (pk);
    s_pack_str (pk, "last_day");
    if (self->any) { ds_day_format (self->max_day, day); s_pack_str (pk, day); }
    else msgpack_pack_nil (pk);
    s_pack_str (pk, "memory_bytes");
    msgpack_pack_uint64 (pk, ds_store_memory (self));
    s_pack_str (pk, "retain_days");
    msgpack_pack_uint32 (pk, self->retain_days);
    s_pack_str (pk, "expired_records");
    msgpack_pack_uint64 (pk, self->expired);
    s_pack_str (pk, "evicted_days");
    msgpack_pack_uint64 (pk, self->evicted_days);
    s_pack_str (pk, "sensors");
    msgpack_pack_array (pk, self->n_streams);
    for (uint32_t i = 0; i < self->n_streams; i++) {
        const s_stream_t *s = &self->streams [i];
        msgpack_pack_map (pk, 11);
        s_pack_str (pk, "sensor");        msgpack_pack_uint32 (pk, s->sensor);
        s_pack_str (pk, "eos");           if (s->eos) msgpack_pack_true (pk); else msgpack_pack_false (pk);
        s_pack_str (pk, "next_seq");      msgpack_pack_uint64 (pk, s->next_seq);
        s_pack_str (pk, "batches");       msgpack_pack_uint64 (pk, s->batches);
        s_pack_str (pk, "records");       msgpack_pack_uint64 (pk, s->records);
        s_pack_str (pk, "gaps");          msgpack_pack_uint64 (pk, s->gaps);
        s_pack_str (pk, "replays");       msgpack_pack_uint64 (pk, s->replays);
        s_pack_str (pk, "packets_read");  msgpack_pack_uint64 (pk, s->packets_read);
        s_pack_str (pk, "non_ip");        msgpack_pack_uint64 (pk, s->non_ip);
        s_pack_str (pk, "malformed");     msgpack_pack_uint64 (pk, s->malformed);
        s_pack_str (pk, "dropped");       msgpack_pack_uint64 (pk, s->dropped);
    }
}
