/*  partial.c - the partial answers of one store (see merge.h for their
    layout): "range", "overview", "pps:..." (window sources of the top pps)
    and "pattern" (pattern.c), dispatched by ds_store_partial(), and the
    shard's status map.  They read the tables of store_internal.h.
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

//  Resolves q's window against this store (explicit days win).
int
store_window (ds_store_t *self, const ds_query_t *q, int32_t *first, int32_t *last,
          char *err, size_t err_size)
{
    if (q->first_day [0]) {
        if (ds_day_parse (q->first_day, first)) {
            store_err (err, err_size, "bad first_day '%s' (want YYYY-MM-DD)", q->first_day);
            return -1;
        }
    }
    else
    if (self->any)
        *first = self->min_day;
    else {
        store_err (err, err_size, "%s", "no data: give first_day and last_day");
        return -1;
    }
    if (q->last_day [0]) {
        if (ds_day_parse (q->last_day, last)) {
            store_err (err, err_size, "bad last_day '%s' (want YYYY-MM-DD)", q->last_day);
            return -1;
        }
    }
    else
    if (self->any)
        *last = self->max_day;
    else {
        store_err (err, err_size, "%s", "no data: give first_day and last_day");
        return -1;
    }
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

//  The overview partial (see merge.h for the layout).
static int
s_part_overview (ds_store_t *self, const ds_query_t *q, msgpack_packer *pk, char *err, size_t err_size)
{
    int32_t first, last;
    if (store_window (self, q, &first, &last, err, err_size))
        return -1;
    int32_t cfirst = last - 29 > first ? last - 29 : first;
    uint64_t minp = q->min_packets > 0 ? (uint64_t) q->min_packets : 0;
    uint32_t ndays = (uint32_t) (last - first + 1);
    size_t n = self->n_srcs ? self->n_srcs : 1;
    uint64_t *pw = calloc (n, sizeof *pw);          //  packets in the window
    uint64_t *pc = calloc (n, sizeof *pc);          //  packets in [cfirst, last]
    int32_t *fday = malloc (n * sizeof *fday);      //  first day in the window
    uint8_t *mir = calloc (n, 1);                   //  Mirai record in the window
    uint16_t *rc = malloc (n * sizeof *rc);         //  resolved class
    uint64_t *daily = calloc ((size_t) ndays * 4, sizeof *daily);
    uint64_t *hist = malloc (n * sizeof *hist);
    size_t npp = self->n_pps ? self->n_pps : 1;
    uint64_t *wpk = calloc (npp, sizeof *wpk);
    uint64_t *lpk = calloc (npp, sizeof *lpk), *lsrc = calloc (npp, sizeof *lsrc);
    uint64_t *csend = calloc (self->n_names, sizeof *csend);
    uint64_t *cpk = calloc (self->n_names, sizeof *cpk);
    s_triple_t *cpp = NULL, *csv = NULL;
    uint16_t *dsc = NULL;
    size_t ncpp = 0, ncsv = 0;
    int rv = -1;
    if (!pw || !pc || !fday || !mir || !rc || !daily || !hist || !wpk || !lpk
    ||  !lsrc || !csend || !cpk)
        goto done;
    for (size_t i = 0; i < n; i++)
        fday [i] = INT32_MAX;

    uint64_t lsources = 0;
    for (const s_day_src_t *d = self->ds; d < self->ds + self->n_ds; d++) {
        if (d->day < first || d->day > last)
            continue;
        pw [d->src] += d->packets;
        if (d->day >= cfirst)
            pc [d->src] += d->packets;
        if (d->day < fday [d->src])
            fday [d->src] = d->day;
        if (d->flags & DS_FLAG_MIRAI)
            mir [d->src] = 1;
        daily [(size_t) (d->day - first) * 4]++;
        if (d->day == last)
            lsources++;
    }
    size_t nh = 0;
    for (uint32_t s = 0; s < self->n_srcs; s++) {
        const s_src_t *src = &self->srcs [s];
        rc [s] = src->gt ? src->class_id : mir [s] ? self->name_mirai : self->name_unknown;
        if (pw [s] == 0)
            continue;
        hist [nh++] = pw [s];
        daily [(size_t) (fday [s] - first) * 4 + 2]++;
        if (pw [s] >= minp)
            daily [(size_t) (fday [s] - first) * 4 + 3]++;
    }
    //  dsc: per (day, src) id, the resolved class of its source if it is
    //  of the last day and passes the filter, else S_NO_CLASS; the (day,
    //  src, pp) scan reads these 2 bytes instead of the 16-byte entry.
    dsc = malloc ((self->n_ds ? self->n_ds : 1) * sizeof *dsc);
    if (!dsc)
        goto done;
    for (const s_day_src_t *d = self->ds; d < self->ds + self->n_ds; d++) {
        dsc [d - self->ds] = S_NO_CLASS;
        if (d->day < first || d->day > last)
            continue;
        if (pw [d->src] >= minp)
            daily [(size_t) (d->day - first) * 4 + 1]++;
        if (d->day == last && pc [d->src] >= minp) {
            csend [rc [d->src]]++;
            cpk [rc [d->src]] += d->packets;
            dsc [d - self->ds] = rc [d->src];
        }
    }
    //  Per pp: packets (window and last day) and distinct sources of the
    //  last day (one entry per (last, src, pp): no dedupe needed).  The
    //  window's distinct sources per pp are asked for the top pps only, in
    //  a second round ("ppsrc"), since only the merge knows which they are.
    size_t cap = 1024;
    cpp = malloc (cap * sizeof *cpp);
    csv = malloc (cap * sizeof *csv);
    if (!cpp || !csv)
        goto done;
    S_TAB_EACH (&self->dsp_tab, s_day_src_pp_t, p) {
        int32_t day = S_DSP_DAY (self, p);
        if (day < first || day > last)
            continue;
        uint32_t pp = S_DSP_PP (p);
        wpk [pp] += p->packets;
        if (day != last)
            continue;
        lpk [pp] += p->packets;
        lsrc [pp]++;
        uint16_t cls = dsc [p->ds];
        if (cls != S_NO_CLASS) {
            if (ncpp == cap) {
                s_triple_t *a = realloc (cpp, 2 * cap * sizeof *a);
                if (a)
                    cpp = a;
                s_triple_t *b = realloc (csv, 2 * cap * sizeof *b);
                if (b)
                    csv = b;
                if (!a || !b)
                    goto done;
                cap *= 2;
            }
            cpp [ncpp++] = (s_triple_t) { cls, pp, p->packets };
            csv [ncsv++] = (s_triple_t) { cls, self->pps [pp].service, p->packets };
        }
    }
    ncpp = s_triples_combine (cpp, ncpp);
    ncsv = s_triples_combine (csv, ncsv);

    msgpack_pack_map (pk, 9);
    s_pack_str (pk, "tz");
    s_pack_str (pk, ds_tz_name ());
    s_pack_str (pk, "ws");
    msgpack_pack_uint64 (pk, nh);
    s_pack_str (pk, "ls");
    msgpack_pack_uint64 (pk, lsources);
    for (int pass = 0; pass < 2; pass++) {
        const uint64_t *pkts = pass ? lpk : wpk;
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
                msgpack_pack_uint64 (pk, pass ? lsrc [i] : 0);  //  window: see "ppsrc"
            }
    }
    //  Histogram of packets per source: [x, sources] by x.
    qsort (hist, nh, sizeof *hist, s_cmp_u64);
    size_t distinct = 0;
    for (size_t i = 0; i < nh; i++)
        distinct += (i == 0 || hist [i] != hist [i - 1]) ? 1 : 0;
    s_pack_str (pk, "h");
    msgpack_pack_array (pk, distinct);
    for (size_t i = 0; i < nh; ) {
        size_t j = i;
        while (j < nh && hist [j] == hist [i])
            j++;
        msgpack_pack_array (pk, 2);
        msgpack_pack_uint64 (pk, hist [i]);
        msgpack_pack_uint64 (pk, j - i);
        i = j;
    }
    s_pack_str (pk, "d");
    msgpack_pack_array (pk, ndays);
    for (uint32_t i = 0; i < ndays; i++) {
        msgpack_pack_array (pk, 4);
        for (int k = 0; k < 4; k++)
            msgpack_pack_uint64 (pk, daily [(size_t) i * 4 + (size_t) k]);
    }
    //  Classes of the filtered last day.
    uint32_t nclasses = 0;
    for (uint32_t c = 0; c < self->n_names; c++)
        nclasses += csend [c] ? 1 : 0;
    s_pack_str (pk, "c");
    msgpack_pack_array (pk, nclasses);
    size_t ip = 0, is = 0;
    for (uint32_t c = 0; c < self->n_names; c++) {
        if (!csend [c])
            continue;
        msgpack_pack_array (pk, 5);
        s_pack_str (pk, self->names [c]);
        msgpack_pack_uint64 (pk, csend [c]);
        msgpack_pack_uint64 (pk, cpk [c]);
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
    s_pack_str (pk, "ing");
    s_pack_ingest (self, pk);
    rv = 0;
done:
    if (rv)
        store_err (err, err_size, "%s", "out of memory");
    free (pw); free (pc); free (fday); free (mir); free (rc); free (daily); free (hist);
    free (wpk); free (lpk); free (lsrc); free (csend); free (cpk);
    free (cpp); free (csv); free (dsc);
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

//  The "ppsrc" partial: distinct sources over the window of at most 3 pps
//  named in q->part ("pps:23.0,445.0,-1.2"):
//  {"s": [[port, proto, sources]...]}.
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
    //  First mark, per (day, src) id, which of the pps it sent in the
    //  window (a byte per id, no read of the (day, src) entries), then map
    //  the marked ids to their sources in one sequential pass.
    uint8_t *mark = n > 0 ? calloc (self->n_ds ? self->n_ds : 1, 1) : NULL;
    if (n > 0 && !mark) {
        free (seen);
        store_err (err, err_size, "%s", "out of memory");
        return -1;
    }
    if (n > 0) {
        S_TAB_EACH (&self->dsp_tab, s_day_src_pp_t, p) {
            uint32_t pp = S_DSP_PP (p);
            if (pp != ids [0] && (n < 2 || pp != ids [1]) && (n < 3 || pp != ids [2]))
                continue;
            int32_t day = S_DSP_DAY (self, p);
            if (day < first || day > last)
                continue;
            for (int k = 0; k < n; k++)     //  a pp named twice counts twice
                if (pp == ids [k])
                    mark [p->ds] |= (uint8_t) (1u << k);
        }
        for (uint32_t i = 0; i < self->n_ds; i++) {
            if (!mark [i])
                continue;
            uint32_t src = self->ds [i].src;
            for (int k = 0; k < n; k++)
                if (mark [i] & (1u << k)) {
                    uint64_t *bits = seen + (size_t) k * words;
                    uint64_t bit = 1ULL << (src % 64);
                    if (!(bits [src / 64] & bit)) {
                        bits [src / 64] |= bit;
                        counts [k]++;
                    }
                }
        }
    }
    free (mark);
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
    { "pattern",  store_part_pattern },
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
    msgpack_pack_map (pk, 11);
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
