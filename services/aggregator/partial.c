/*  partial.c - the partial answers of one store: RANGE, OVERVIEW, PPSRC
    (window sources of the top pps) and STATUS, the typed partials of
    proto/partial_codec.h, dispatched by ds_store_partial() (patterns:
    pattern.c).  Each computes the shard's result from the tables of
    store_internal.h into the partial's struct, then encodes it.
*/
#include "store_internal.h"
#include "tz.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
store_err (char *err, size_t size, const char *fmt, const char *arg)
{
    if (err && size)
        snprintf (err, size, fmt, arg);
}

int
store_cmp_u64 (const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
    return x < y ? -1 : x > y;
}

typedef struct {
    uint32_t cls, pp;
    uint64_t packets;
} s_class_pp_t;

//  A stream's sensor row: its counters over every epoch.
static ds_part_sensor_t
s_sensor (const s_stream_t *s)
{
    uint64_t t [STORE_COUNTERS];
    store_stream_totals (s, t);
    return (ds_part_sensor_t) { s->sensor, s->eos != 0, t [0], t [1], t [2], t [3], t [4] };
}

//  The gaps of every stream and each sensor's ingest counters.
static int
s_ingest (ds_store_t *self, ds_part_overview_t *part)
{
    part->sensors = calloc (self->n_streams ? self->n_streams : 1, sizeof *part->sensors);
    if (!part->sensors)
        return -1;
    part->n_sensors = self->n_streams;
    part->sensors_expected = self->sensors_expected;
    for (uint32_t i = 0; i < self->n_streams; i++) {
        part->gaps += self->streams [i].gaps;
        part->sensors [i] = s_sensor (&self->streams [i]);
    }
    return 0;
}

//  RANGE: the days this shard has seen, and its generation (the query
//  service caches merged answers per generation).
static int
s_part_range (ds_store_t *self, const ds_part_req_t *req, msgpack_sbuffer *out,
              char *err, size_t err_size)
{
    (void) req; (void) err; (void) err_size;
    ds_part_range_t part = {
        .generation = self->generation, .any = self->any,
        .first_day = self->any ? self->min_day : 0, .last_day = self->any ? self->max_day : 0,
        .retain_days = self->retain_days
    };
    snprintf (part.tz, sizeof part.tz, "%s", ds_tz_name (self->tz));
    return ds_part_range_encode (&part, out) == DS_OK ? 0 : -1;
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
//  what goes into its partial (s_overview_result).
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
    for (uint32_t k = 0; k < d->n_dir; k++) {
        uint32_t end = k + 1 < d->n_dir ? d->dir [k + 1].start : d->n_sorted;
        if (d->dir [k].pp >= n_pps)
            continue;
        pk [d->dir [k].pp] += d->dir [k].packets;
        if (src)
            src [d->dir [k].pp] += end - d->dir [k].start;
    }
}

//  The last day's packets per (class, pp), summed per pp run in a
//  per-class accumulator: rows come out in pp order, one per (class, pp).
typedef struct {
    const s_day_t *day;
    const uint16_t *dsc;            //  by local id: class or S_NO_CLASS
    uint64_t *acc;                  //  by class name id
    uint16_t *touched;              //  classes with acc != 0
    s_class_pp_t *rows;
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
        s_class_pp_t *rows = realloc (cr->rows, cap * sizeof *rows);
        if (!rows)
            return -1;
        cr->rows = rows;
        cr->cap = cap;
    }
    for (uint32_t t = 0; t < n_touched; t++) {
        uint16_t cls = cr->touched [t];
        cr->rows [cr->n++] = (s_class_pp_t) { cls, pp, cr->acc [cls] };
        cr->acc [cls] = 0;
    }
    return 0;
}

//  Groups rows by class, stable (a counting sort: each class's rows stay in
//  pp order); start [c] .. start [c + 1] are class c's.  NULL on no memory.
static s_class_pp_t *
s_by_class (const s_class_pp_t *rows, size_t n, uint32_t n_names, size_t *start)
{
    s_class_pp_t *out = malloc ((n ? n : 1) * sizeof *out);
    if (!out)
        return NULL;
    memset (start, 0, ((size_t) n_names + 2) * sizeof *start);
    for (size_t i = 0; i < n; i++)
        start [rows [i].cls + 2]++;
    for (uint32_t c = 2; c < n_names + 2; c++)
        start [c] += start [c - 1];
    for (size_t i = 0; i < n; i++)
        out [start [rows [i].cls + 1]++] = rows [i];
    return out;
}

//  A class's partial row from its (class, pp) rows: pps in pp order and
//  packets per service (by service name id, through acc, zero on return).
static int
s_class_row (ds_store_t *self, const s_class_pp_t *rows, size_t n, uint64_t *acc,
             uint16_t *touched, ds_part_class_t *pc)
{
    pc->pps = calloc (n ? n : 1, sizeof *pc->pps);
    if (!pc->pps)
        return -1;
    uint32_t n_touched = 0;
    for (size_t i = 0; i < n; i++) {
        const s_pp_t *pp = &self->pps [rows [i].pp];
        pc->pps [pc->n_pps++] = (ds_part_pp_t) { .port = pp->port, .proto = (uint8_t) pp->proto,
                                                 .packets = rows [i].packets };
        if (!acc [pp->service])
            touched [n_touched++] = pp->service;
        acc [pp->service] += rows [i].packets;
    }
    pc->services = calloc (n_touched ? n_touched : 1, sizeof *pc->services);
    for (uint32_t service = 0; service < self->n_names && n_touched; service++) {
        if (!acc [service])
            continue;
        if (pc->services) {
            ds_part_service_t *sv = &pc->services [pc->n_services++];
            snprintf (sv->name, sizeof sv->name, "%s", self->names [service]);
            sv->packets = acc [service];
        }
        acc [service] = 0;
        n_touched--;
    }
    return pc->services ? 0 : -1;
}

//  The last day's classes: senders and packets of the counted sources, and
//  their packets per pp and per service.
static int
s_classes (ds_store_t *self, s_overview_t *ov, ds_part_overview_t *part)
{
    uint32_t hi = store_days_lower (self, ov->last + 1);
    const s_day_t *d = hi > 0 && self->days [hi - 1]->day == ov->last ? self->days [hi - 1] : NULL;
    s_class_runs_t cr = { d, ov->dsc, NULL, NULL, NULL, 0, 0 };
    cr.acc = calloc (self->n_names ? self->n_names : 1, sizeof *cr.acc);
    cr.touched = malloc ((self->n_names ? self->n_names : 1) * sizeof *cr.touched);
    size_t *start = malloc (((size_t) self->n_names + 2) * sizeof *start);
    s_class_pp_t *rows = NULL;
    int rc = -1;
    if (!cr.acc || !cr.touched || !start || (d && store_day_pp_runs (d, s_class_run, &cr))
    ||  !(rows = s_by_class (cr.rows, cr.n, self->n_names, start)))
        goto done;
    uint32_t nclasses = 0;
    for (uint32_t c = 0; c < self->n_names; c++)
        nclasses += ov->csend [c] ? 1 : 0;
    part->classes = calloc (nclasses ? nclasses : 1, sizeof *part->classes);
    if (!part->classes)
        goto done;
    for (uint32_t c = 0; c < self->n_names; c++) {
        if (!ov->csend [c])
            continue;
        ds_part_class_t *pc = &part->classes [part->n_classes++];
        snprintf (pc->name, sizeof pc->name, "%s", self->names [c]);
        pc->senders = ov->csend [c];
        pc->packets = ov->cpk [c];
        if (s_class_row (self, rows + start [c], start [c + 1] - start [c], cr.acc, cr.touched, pc))
            goto done;
    }
    rc = 0;
done:
    free (cr.acc);
    free (cr.touched);
    free (cr.rows);
    free (rows);
    free (start);
    return rc;
}

//  The histogram of packets per source over the window, by packets.  Small
//  values are counted in a direct array, the few large ones sorted.
static int
s_histogram (ds_store_t *self, const s_overview_t *ov, ds_part_overview_t *part)
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
    qsort (large, n_large, sizeof *large, store_cmp_u64);
    size_t distinct = 0;
    for (uint32_t x = 1; x < SMALL; x++)
        distinct += small [x] ? 1 : 0;
    for (size_t i = 0; i < n_large; i++)
        distinct += (i == 0 || large [i] != large [i - 1]) ? 1 : 0;
    part->hist = calloc (distinct ? distinct : 1, sizeof *part->hist);
    if (part->hist) {
        for (uint32_t x = 1; x < SMALL; x++)
            if (small [x])
                part->hist [part->n_hist++] = (ds_part_hist_t) { x, small [x] };
        for (size_t i = 0; i < n_large; ) {
            size_t j = i;
            while (j < n_large && large [j] == large [i])
                j++;
            part->hist [part->n_hist++] = (ds_part_hist_t) { large [i], j - i };
            i = j;
        }
    }
    free (small);
    free (large);
    return part->hist ? 0 : -1;
}

//  The pps with packets (pkts, by pp id), and their sources (src) if given.
static int
s_pps (ds_store_t *self, const uint64_t *pkts, const uint64_t *src, ds_part_pp_t **out, uint32_t *n)
{
    uint32_t count = 0;
    for (uint32_t i = 0; i < self->n_pps; i++)
        count += pkts [i] ? 1 : 0;
    *out = calloc (count ? count : 1, sizeof **out);
    if (!*out)
        return -1;
    *n = 0;
    for (uint32_t i = 0; i < self->n_pps; i++)
        if (pkts [i])
            (*out) [(*n)++] = (ds_part_pp_t) { self->pps [i].port, (uint8_t) self->pps [i].proto,
                                               pkts [i], src ? src [i] : 0 };
    return 0;
}

//  The overview's result, computed (ov) into its partial.  The window's
//  distinct sources per pp are asked for the top pps only, in a PPSRC
//  round, since only the merge knows which they are.
static int
s_overview_result (ds_store_t *self, s_overview_t *ov, ds_part_overview_t *part)
{
    snprintf (part->tz, sizeof part->tz, "%s", ds_tz_name (self->tz));
    part->first_day = ov->first;
    part->last_day = ov->last;
    part->window_sources = ov->window_sources;
    part->last_sources = ov->last_sources;
    part->days = calloc (ov->ndays, sizeof *part->days);
    if (!part->days)
        return -1;
    part->n_days = ov->ndays;
    for (uint32_t i = 0; i < ov->ndays; i++) {
        const uint64_t *d = ov->daily + (size_t) i * 4;
        part->days [i] = (ds_part_day_t) { d [0], d [1], d [2], d [3] };
    }
    if (s_pps (self, ov->wpk, NULL, &part->window, &part->n_window)
    ||  s_pps (self, ov->lpk, ov->lsrc, &part->last, &part->n_last)
    ||  s_histogram (self, ov, part) || s_classes (self, ov, part) || s_ingest (self, part))
        return -1;
    return 0;
}

//  OVERVIEW: the shard's sums over the request's window.
static int
s_part_overview (ds_store_t *self, const ds_part_req_t *req, msgpack_sbuffer *out,
                 char *err, size_t err_size)
{
    s_overview_t ov;
    memset (&ov, 0, sizeof ov);
    ov.first = req->first_day;
    ov.last = req->last_day;
    ov.clip = ov.last - 29 > ov.first ? ov.last - 29 : ov.first;
    ov.min_packets = req->min_packets;
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
    ds_part_overview_t part;
    memset (&part, 0, sizeof part);
    int rc = DS_ERR_NOMEM;
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
    if (s_overview_result (self, &ov, &part) == 0)
        rc = ds_part_overview_encode (&part, out);
done:
    if (rc != DS_OK)
        snprintf (err, err_size, "overview partial: %s", ds_result_str (rc));
    s_overview_free (&ov);
    ds_part_overview_clear (&part);
    return rc == DS_OK ? 0 : -1;
}

//  Marks, in seen (one bitmap of sources per asked pp), the sources of a
//  day that sent pp ids [k], counting new ones in counts [k].
static void
s_day_ppsrc (const s_day_t *d, const uint32_t *ids, int n, uint64_t *seen, size_t words,
             uint64_t *counts)
{
    for (int k = 0; k < n; k++) {               //  a pp named twice counts twice
        uint64_t *bits = seen + (size_t) k * words;
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
}

//  PPSRC: distinct sources over the window of the request's pps (at most
//  3), found through each day's directory.
static int
s_part_ppsrc (ds_store_t *self, const ds_part_req_t *req, msgpack_sbuffer *out,
              char *err, size_t err_size)
{
    ds_part_ppsrc_t part = { .first_day = req->first_day, .last_day = req->last_day,
                             .n_pps = req->n_pps };
    int n = (int) req->n_pps;
    uint32_t ids [DS_PART_TOP_PPS];
    uint64_t counts [DS_PART_TOP_PPS] = { 0, 0, 0 };
    size_t words = ((size_t) self->n_srcs + 63) / 64;
    uint64_t *seen = calloc ((size_t) (n ? n : 1) * (words ? words : 1), sizeof *seen);
    if (!seen) {
        store_err (err, err_size, "%s", "out of memory");
        return -1;
    }
    for (int k = 0; k < n; k++) {
        uint32_t id1 = (uint32_t) self->pp_direct [S_PP_SLOT (req->pps [k].port, req->pps [k].proto)];
        ids [k] = id1 ? id1 - 1 : S_EMPTY;
    }
    uint32_t lo, hi;
    s_window_days (self, req->first_day, req->last_day, &lo, &hi);
    for (uint32_t i = lo; i < hi; i++)
        s_day_ppsrc (self->days [i], ids, n, seen, words, counts);
    free (seen);
    for (int k = 0; k < n; k++)
        part.pps [k] = (ds_part_pp_t) { .port = req->pps [k].port, .proto = req->pps [k].proto,
                                        .sources = counts [k] };
    return ds_part_ppsrc_encode (&part, out) == DS_OK ? 0 : -1;
}

//  The partials by kind (STATUS needs the aggregator's counters too:
//  aggregator.c answers it with ds_store_status).
typedef int (s_part_fn) (ds_store_t *, const ds_part_req_t *, msgpack_sbuffer *, char *, size_t);
static s_part_fn *const s_parts [] = {
    [DS_PART_RANGE]    = s_part_range,
    [DS_PART_OVERVIEW] = s_part_overview,
    [DS_PART_PPSRC]    = s_part_ppsrc,
};

int
ds_store_partial (ds_store_t *self, const ds_part_req_t *req, msgpack_sbuffer *out,
                  char *err, size_t err_size)
{
    size_t kind = (size_t) req->kind;
    if (kind >= sizeof s_parts / sizeof *s_parts || !s_parts [kind]) {
        snprintf (err, err_size, "no partial of kind %d here", req->kind);
        return -1;
    }
    if (store_days_settle (self)) {
        snprintf (err, err_size, "out of memory");
        return -1;
    }
    return s_parts [kind] (self, req, out, err, err_size);
}

int
ds_store_status (ds_store_t *self, uint32_t sensors_expected, ds_part_status_t *status)
{
    memset (status, 0, sizeof *status);
    status->shard = self->shard;
    status->shards = self->shards;
    snprintf (status->tz, sizeof status->tz, "%s", ds_tz_name (self->tz));
    status->sensors_expected = sensors_expected;
    status->eos_all = ds_store_eos_count (self) >= sensors_expected;
    status->records = self->records;
    status->sources = self->n_srcs;
    if (self->any) {
        ds_day_format (self->min_day, status->first_day);
        ds_day_format (self->max_day, status->last_day);
    }
    status->memory_bytes = ds_store_memory (self);
    status->retain_days = self->retain_days;
    status->expired_records = self->expired;
    status->evicted_days = self->evicted_days;
    status->streams = calloc (self->n_streams ? self->n_streams : 1, sizeof *status->streams);
    if (!status->streams)
        return -1;
    status->n_streams = self->n_streams;
    for (uint32_t i = 0; i < self->n_streams; i++) {
        const s_stream_t *s = &self->streams [i];
        status->streams [i] = (ds_part_stream_t) {
            s_sensor (s), s->next_seq, s->batches, s->records, s->gaps, s->replays,
            s->epoch, s->epochs, s->stale, s->stats, s->pcap_dropped,
            s->last_batch_us, s->last_stats_us, s->lag_us,
            i < self->newest_cap ? self->newest_us [i] : 0
        };
    }
    return 0;
}
