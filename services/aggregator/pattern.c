/*  pattern.c - the activity-pattern rounds of one store (pattern_codec.h,
    PROTOCOL.md "Activity patterns").

    A pattern is over a selection (window days, time range, bin width,
    class).  Its points are the (source, bin) pairs with a packet; the
    store keeps each source's 60 s bins sorted (s_bins_t), so a selection
    is, per source, an index range of its bins.  The shard answers the
    query service's rounds from a *view* of the selection:

      token order   the selected sources sorted by (first packet in the
                    range, address): keys of the sources space, so "how
                    many of my keys are below K" is a binary search and
                    the raster walks sources in row order
      hash order    the same sources by (address hash, address), with the
                    running sum of their points: keys of the points space
                    (hash, address, bin), in which sample pages are cut

    The view is rebuilt only when the selection or the store's generation
    changes, so the rounds of one query (and the next query's, if nothing
    arrived in between) cost one build: O(selected bins) plus two sorts.
*/
#include "store_internal.h"
#include "pattern_codec.h"
#include "ds_limits.h"
#include "tz.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_PARTIAL_MAX   DS_PARTIAL_MAX         //  a shard's partial, bytes

typedef struct {
    int64_t first;                  //  first microsecond in the range
    int64_t hash;                   //  ds_pattern_addr_hash of its address
    uint32_t src;                   //  store src id (its address: srcs [src])
    uint32_t from, to;              //  its bins in the range: v [from, to)
    uint32_t points;                //  distinct bins of bin_us among them
} s_vsrc_t;                         //  32 bytes

struct _store_pattern_t {
    bool valid;
    uint64_t generation;            //  of the store when built
    ds_pattern_sel_t sel;           //  what it selects
    int64_t lo, hi;                 //  the time range [lo, hi), us
    int64_t bin_us;
    s_vsrc_t *v;                    //  token order
    uint32_t n;
    uint32_t *hord;                 //  indexes into v, hash order
    uint64_t *cum;                  //  n + 1: points before hord [i]
    uint64_t points;
};

void
store_pattern_free (ds_store_t *self)
{
    store_pattern_t *w = self->pattern;
    if (!w)
        return;
    free (w->v);
    free (w->hord);
    free (w->cum);
    free (w);
    self->pattern = NULL;
}

//  ---------------------------------------------------------------------
//  Building the view

//  Marks in ok [src] the sources of class `name`, resolved over the days
//  [first, last] as the overview does (store_classes); "" selects every
//  source.  0, or -1 if memory ran out.
static int
s_class_select (ds_store_t *self, const char *name, int32_t first, int32_t last, uint8_t *ok)
{
    if (!name [0]) {
        memset (ok, 1, self->n_srcs);
        return 0;
    }
    uint16_t *cls = malloc ((self->n_srcs ? self->n_srcs : 1) * sizeof *cls);
    if (!cls || store_classes (self, first, last, cls)) {
        free (cls);
        return -1;
    }
    for (uint32_t s = 0; s < self->n_srcs; s++)
        ok [s] = strcmp (self->names [cls [s]], name) == 0;
    free (cls);
    return 0;
}

//  Index of the first bin of b whose minute is >= minute.
static uint32_t
s_bins_lower (const s_bins_t *b, int64_t minute)
{
    uint32_t lo = 0, hi = b->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (S_BIN_MINUTE (b->v [mid]) < minute)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

//  Start (us) of the bin of bin_us that holds the 60 s bin value v.
static inline int64_t
s_bin_of (uint64_t v, int64_t bin_us)
{
    int64_t start = (int64_t) S_BIN_MINUTE (v) * S_MINUTE_US;
    return s_floor_div (start, bin_us) * bin_us;
}

static inline const uint8_t *
s_addr (const ds_store_t *self, const s_vsrc_t *e)
{
    return self->srcs [e->src].addr.b;
}

typedef struct {
    const ds_store_t *self;
    const s_vsrc_t *v;
} s_sort_t;

//  Orders indexes into v by (first, address): token order.
//  Walks the points of one source: its bins of kmin minutes with a packet,
//  one division per point, not per 60 s bin.
typedef struct {
    const uint64_t *v;
    uint32_t k, to;                 //  next 60 s bin, end
    int64_t kmin;                   //  minutes per bin
} s_walk_t;

//  The next point's bin start in minutes; false after the last.
static inline bool
s_walk_next (s_walk_t *p, int64_t *minute)
{
    if (p->k >= p->to)
        return false;
    int64_t m = S_BIN_MINUTE (p->v [p->k]);
    int64_t b = p->kmin == 1 ? m : s_floor_div (m, p->kmin) * p->kmin;
    int64_t end = b + p->kmin;
    p->k++;
    while (p->k < p->to && S_BIN_MINUTE (p->v [p->k]) < end)
        p->k++;
    *minute = b;
    return true;
}

static int
s_cmp_token (const void *x, const void *y, void *ctx)
{
    const s_sort_t *c = ctx;
    const s_vsrc_t *a = &c->v [*(const uint32_t *) x], *b = &c->v [*(const uint32_t *) y];
    if (a->first != b->first)
        return a->first < b->first ? -1 : 1;
    return memcmp (s_addr (c->self, a), s_addr (c->self, b), 16);
}

//  Orders indexes into v by (hash, address): the points space.
static int
s_cmp_hash (const void *x, const void *y, void *ctx)
{
    const s_sort_t *c = ctx;
    const s_vsrc_t *a = &c->v [*(const uint32_t *) x], *b = &c->v [*(const uint32_t *) y];
    if (a->hash != b->hash)
        return a->hash < b->hash ? -1 : 1;
    return memcmp (s_addr (c->self, a), s_addr (c->self, b), 16);
}

//  The time range of a selection (days of zone tz), checked against what
//  the store keeps.
static int
s_range (const ds_tz_t *tz, const ds_pattern_sel_t *sel, int64_t *lo, int64_t *hi,
         char *err, size_t err_size)
{
    if (sel->bin_s % 60) {
        store_err (err, err_size, "%s", "bin_s must be a positive multiple of 60 (at most 366 days)");
        return -1;
    }
    if ((sel->from_us != INT64_MIN && sel->from_us % S_MINUTE_US)
    ||  (sel->to_us != INT64_MAX && sel->to_us % S_MINUTE_US)) {
        store_err (err, err_size, "%s", "from_us and to_us must be multiples of 60 s (60000000 us)");
        return -1;
    }
    if ((int64_t) sel->last_day - sel->first_day >= S_MAX_DAYS) {
        store_err (err, err_size, "%s", "the window is longer than 36600 days");
        return -1;
    }
    int64_t dlo = ds_tz_day_start (tz, sel->first_day), dhi = ds_tz_day_start (tz, sel->last_day + 1);
    if (dlo % S_MINUTE_US || dhi % S_MINUTE_US) {
        store_err (err, err_size, "%s", "this time zone's midnight is not on a minute boundary");
        return -1;
    }
    *lo = sel->from_us > dlo ? sel->from_us : dlo;
    *hi = sel->to_us < dhi ? sel->to_us : dhi;
    return 0;
}

//  The bins of b in minutes [mlo, mhi): v [*from, *to).
static void
s_bins_range (const s_bins_t *b, int64_t mlo, int64_t mhi, uint32_t *from, uint32_t *to)
{
    //  Most sources lie wholly inside a window: two loads, no search.
    *from = b->n == 0 || S_BIN_MINUTE (b->v [0]) >= mlo ? 0 : s_bins_lower (b, mlo);
    *to = b->n == 0 || S_BIN_MINUTE (b->v [b->n - 1]) < mhi ? b->n : s_bins_lower (b, mhi);
}

//  Fills w->v with the selected sources (in store order) and their
//  points.  0, or -1 if memory ran out.
static int
s_view_fill (ds_store_t *self, store_pattern_t *w, const ds_pattern_sel_t *sel, int64_t lo, int64_t hi)
{
    uint8_t *ok = malloc (self->n_srcs ? self->n_srcs : 1);
    if (!ok || s_class_select (self, sel->class_name, sel->first_day, sel->last_day, ok)) {
        free (ok);
        return -1;
    }
    int64_t bin_us = sel->bin_s * 1000000, mlo = lo / S_MINUTE_US, mhi = hi / S_MINUTE_US;
    uint32_t cap = 0;
    for (uint32_t s = 0; s < self->n_srcs && lo < hi; s++) {
        const s_bins_t *b = &self->bins [s];
        uint32_t from, to;
        if (!ok [s])
            continue;
        s_bins_range (b, mlo, mhi, &from, &to);
        if (from >= to)
            continue;
        if (w->n == cap) {
            cap = cap ? cap * 2 : 1024;
            s_vsrc_t *grown = realloc (w->v, cap * sizeof *grown);
            if (!grown) {
                free (ok);
                return -1;
            }
            w->v = grown;
        }
        s_vsrc_t *e = &w->v [w->n++];
        *e = (s_vsrc_t) { .src = s, .from = from, .to = to };
        e->first = (int64_t) S_BIN_MINUTE (b->v [from]) * S_MINUTE_US + (int64_t) (b->v [from] & S_BIN_US_MASK);
        e->hash = ds_pattern_addr_hash (self->srcs [s].addr.b);
        if (bin_us == S_MINUTE_US)
            e->points = to - from;              //  distinct minutes
        else {
            s_walk_t walk = { b->v, from, to, bin_us / S_MINUTE_US };
            int64_t minute;
            while (s_walk_next (&walk, &minute))
                e->points++;
        }
        w->points += e->points;
    }
    free (ok);
    return 0;
}

//  Puts w->v in token order and builds the hash order and its running
//  sums of points.  0, or -1 if memory ran out.
static int
s_view_order (ds_store_t *self, store_pattern_t *w)
{
    uint32_t n = w->n;
    w->hord = malloc ((n ? n : 1) * sizeof *w->hord);
    w->cum = malloc ((n + 1) * sizeof *w->cum);
    if (!w->hord || !w->cum)
        return -1;
    //  Token order: sort indexes (a small merge buffer, not one of v's
    //  size), then permute v in place along the cycles.
    s_sort_t ctx = { self, w->v };
    uint32_t *ord = w->hord;
    for (uint32_t i = 0; i < n; i++)
        ord [i] = i;
    qsort_r (ord, n, sizeof *ord, s_cmp_token, &ctx);
    for (uint32_t i = 0; i < n; i++) {
        if (ord [i] == i)
            continue;
        s_vsrc_t keep = w->v [i];
        uint32_t j = i;
        while (ord [j] != i) {
            uint32_t next = ord [j];
            w->v [j] = w->v [next];
            ord [j] = j;
            j = next;
        }
        w->v [j] = keep;
        ord [j] = j;
    }
    for (uint32_t i = 0; i < n; i++)
        w->hord [i] = i;
    qsort_r (w->hord, n, sizeof *w->hord, s_cmp_hash, &ctx);
    w->cum [0] = 0;
    for (uint32_t i = 0; i < n; i++)
        w->cum [i + 1] = w->cum [i] + w->v [w->hord [i]].points;
    return 0;
}

//  The view of sel, rebuilt unless the cached one still holds.  NULL with
//  a reason in err.
static store_pattern_t *
s_view (ds_store_t *self, const ds_pattern_sel_t *sel, char *err, size_t err_size)
{
    int64_t lo, hi;
    if (s_range (self->tz, sel, &lo, &hi, err, err_size))
        return NULL;
    store_pattern_t *w = self->pattern;
    if (w && w->valid && w->generation == self->generation
    &&  memcmp (&w->sel, sel, sizeof *sel) == 0)
        return w;
    if (!w && !(w = self->pattern = calloc (1, sizeof *w))) {
        store_err (err, err_size, "%s", "out of memory");
        return NULL;
    }
    w->valid = false;
    free (w->v);
    free (w->hord);
    free (w->cum);
    w->v = NULL;
    w->hord = NULL;
    w->cum = NULL;
    w->n = 0;
    w->points = 0;
    if (store_bins_normalize_all (self) || s_view_fill (self, w, sel, lo, hi) || s_view_order (self, w)) {
        store_err (err, err_size, "%s", "out of memory");
        return NULL;
    }
    w->sel = *sel;
    w->lo = lo;
    w->hi = hi;
    w->bin_us = sel->bin_s * 1000000;
    w->generation = self->generation;
    w->valid = true;
    return w;
}

//  ---------------------------------------------------------------------
//  Keys of the two spaces

static void
s_src_key (const ds_store_t *self, const s_vsrc_t *e, ds_pattern_key_t *key)
{
    key->major = e->first;
    memcpy (key->addr, s_addr (self, e), 16);
    key->minor = 0;
}

//  Sources with a key below k (sources space).
static uint32_t
s_src_below (const ds_store_t *self, const store_pattern_t *w, const ds_pattern_key_t *k)
{
    uint32_t lo = 0, hi = w->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        ds_pattern_key_t m;
        s_src_key (self, &w->v [mid], &m);
        if (ds_pattern_key_cmp (&m, k) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

//  Compares source e's (hash, address) with k's (major, address).
static int
s_cmp_hash_key (const ds_store_t *self, const s_vsrc_t *e, const ds_pattern_key_t *k)
{
    if (e->hash != k->major)
        return e->hash < k->major ? -1 : 1;
    return memcmp (s_addr (self, e), k->addr, 16);
}

//  Points with a key below k (points space).
static uint64_t
s_point_below (ds_store_t *self, const store_pattern_t *w, const ds_pattern_key_t *k)
{
    uint32_t lo = 0, hi = w->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (s_cmp_hash_key (self, &w->v [w->hord [mid]], k) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    uint64_t below = w->cum [lo];
    if (lo < w->n && s_cmp_hash_key (self, &w->v [w->hord [lo]], k) == 0) {
        const s_vsrc_t *e = &w->v [w->hord [lo]];
        const uint64_t *v = self->bins [e->src].v;
        int64_t prev = INT64_MIN;
        for (uint32_t i = e->from; i < e->to; i++) {
            int64_t bin = s_bin_of (v [i], w->bin_us);
            if (bin >= k->minor)
                break;
            below += bin != prev;
            prev = bin;
        }
    }
    return below;
}

//  Walks the points space in rank order: the point of rank r is the j-th
//  bin (counting distinct bins) of the source at hash position p.
typedef struct {
    uint32_t p;                     //  hash position (n: none yet)
    uint32_t k;                     //  its bins index of point j
    uint64_t j;
    int64_t bin;
} s_cursor_t;

static void
s_point_key (ds_store_t *self, const store_pattern_t *w, s_cursor_t *c, uint64_t r,
             ds_pattern_key_t *key)
{
    if (c->p >= w->n || r < w->cum [c->p] || r >= w->cum [c->p + 1] || r - w->cum [c->p] < c->j) {
        uint32_t lo = 0, hi = w->n;             //  last p with cum [p] <= r
        while (hi - lo > 1) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (w->cum [mid] <= r)
                lo = mid;
            else
                hi = mid;
        }
        c->p = lo;
        c->k = w->v [w->hord [lo]].from;
        c->j = 0;
        c->bin = s_bin_of (self->bins [w->v [w->hord [lo]].src].v [c->k], w->bin_us);
    }
    const s_vsrc_t *e = &w->v [w->hord [c->p]];
    const uint64_t *v = self->bins [e->src].v;
    uint64_t want = r - w->cum [c->p];
    if (w->bin_us == S_MINUTE_US) {             //  every 60 s bin is a point
        c->k = e->from + (uint32_t) want;
        c->j = want;
        c->bin = s_bin_of (v [c->k], w->bin_us);
    }
    while (c->j < want) {
        c->k++;
        int64_t bin = s_bin_of (v [c->k], w->bin_us);
        c->j += bin != c->bin;
        c->bin = bin;
    }
    key->major = e->hash;
    memcpy (key->addr, s_addr (self, e), 16);
    key->minor = c->bin;
}

//  ---------------------------------------------------------------------
//  The ops

typedef struct {
    ds_pattern_part_t part;
    uint8_t *counts, *keys;         //  owned buffers behind part's lists
    msgpack_sbuffer data;
} s_answer_t;

static int
s_op_select (ds_store_t *self, store_pattern_t *w, const ds_pattern_req_t *req, s_answer_t *a)
{
    uint32_t n_br = req->n_keys / 2;
    a->counts = malloc ((size_t) n_br * 16);
    a->keys = malloc ((size_t) n_br * req->per * DS_PATTERN_KEY_SIZE);
    if (!a->counts || !a->keys)
        return -1;
    s_cursor_t cursor = { .p = UINT32_MAX };
    uint32_t nk = 0;
    for (uint32_t b = 0; b < n_br; b++) {
        ds_pattern_key_t lo, hi, key;
        ds_pattern_key_get (req->keys + (size_t) (2 * b) * DS_PATTERN_KEY_SIZE, &lo);
        ds_pattern_key_get (req->keys + (size_t) (2 * b + 1) * DS_PATTERN_KEY_SIZE, &hi);
        bool points = req->space == DS_PATTERN_SPACE_POINTS;
        uint64_t below = points ? s_point_below (self, w, &lo) : s_src_below (self, w, &lo);
        uint64_t upto = points ? s_point_below (self, w, &hi) : s_src_below (self, w, &hi);
        uint64_t inside = upto > below ? upto - below : 0;
        for (int i = 0; i < 8; i++) {
            a->counts [b * 16 + (uint32_t) i] = (uint8_t) (below >> (8 * i));
            a->counts [b * 16 + 8 + (uint32_t) i] = (uint8_t) (inside >> (8 * i));
        }
        uint32_t m_keys = ds_pattern_select_keys (inside, req->per);
        for (uint32_t m = 0; m < m_keys; m++) {
            uint64_t r = below + ds_pattern_select_pos (inside, req->per, m);
            if (points)
                s_point_key (self, w, &cursor, r, &key);
            else
                s_src_key (self, &w->v [r], &key);
            ds_pattern_key_put (a->keys + (size_t) nk++ * DS_PATTERN_KEY_SIZE, &key);
        }
    }
    a->part.n_counts = 2 * n_br;
    a->part.counts = a->counts;
    a->part.n_keys = nk;
    a->part.keys = a->keys;
    return 0;
}

static int
s_op_rank (ds_store_t *self, store_pattern_t *w, const ds_pattern_req_t *req, s_answer_t *a)
{
    a->counts = malloc ((size_t) (req->n_keys ? req->n_keys : 1) * 8);
    if (!a->counts)
        return -1;
    for (uint32_t i = 0; i < req->n_keys; i++) {
        ds_pattern_key_t k;
        ds_pattern_key_get (req->keys + (size_t) i * DS_PATTERN_KEY_SIZE, &k);
        uint64_t below = s_src_below (self, w, &k);
        for (int b = 0; b < 8; b++)
            a->counts [i * 8 + (uint32_t) b] = (uint8_t) (below >> (8 * b));
    }
    a->part.n_counts = req->n_keys;
    a->part.counts = a->counts;
    return 0;
}

//  Exact counts of the shard's points per cell: row = boundaries <= the
//  source's key (the query service sends the keys at the global ranks
//  where rows start), column = bin index * width / bins.
static int
s_op_raster (ds_store_t *self, store_pattern_t *w, const ds_pattern_req_t *req, s_answer_t *a)
{
    size_t cells = (size_t) req->width * req->height;
    uint32_t cell_bytes = w->points > UINT32_MAX ? 8 : 4;
    void *grid = calloc (cells, cell_bytes);
    ds_pattern_key_t *bounds = malloc ((req->n_keys ? req->n_keys : 1) * sizeof *bounds);
    int rc = -1;
    if (!grid || !bounds)
        goto done;
    for (uint32_t i = 0; i < req->n_keys; i++)
        ds_pattern_key_get (req->keys + (size_t) i * DS_PATTERN_KEY_SIZE, &bounds [i]);
    int64_t kmin = w->bin_us / S_MINUTE_US;
    int64_t b0 = s_floor_div (w->lo, w->bin_us);
    uint64_t nb = w->lo < w->hi ? (uint64_t) (s_floor_div (w->hi - 1, w->bin_us) - b0 + 1) : 1;
    //  Column of each bin index, when there are not too many bins.
    uint16_t *col_of = nb <= (1u << 20) ? malloc (nb * sizeof *col_of) : NULL;
    for (uint64_t x = 0; col_of && x < nb; x++)
        col_of [x] = (uint16_t) (x * req->width / nb);
    uint32_t row = 0;
    for (uint32_t i = 0; i < w->n; i++) {
        const s_vsrc_t *e = &w->v [i];
        ds_pattern_key_t key;
        s_src_key (self, e, &key);
        //  Sources come in token order, boundaries sorted: rows only grow.
        while (row < req->n_keys && ds_pattern_key_cmp (&bounds [row], &key) <= 0)
            row++;
        size_t base = (size_t) row * req->width;
        s_walk_t walk = { self->bins [e->src].v, e->from, e->to, kmin };
        int64_t minute;
        while (s_walk_next (&walk, &minute)) {
            uint64_t x = (uint64_t) (minute / kmin - b0);
            uint64_t col = col_of ? col_of [x] : x * req->width / nb;
            if (cell_bytes == 4)
                ((uint32_t *) grid) [base + col]++;
            else
                ((uint64_t *) grid) [base + col]++;
        }
    }
    free (col_of);
    if (ds_pattern_cells_deflate (grid, cells, cell_bytes, 1, &a->data))
        goto done;
    a->part.width = req->width;
    a->part.height = req->height;
    a->part.cell_bytes = cell_bytes;
    a->part.data = (const uint8_t *) a->data.data;
    a->part.data_size = (uint32_t) a->data.size;
    rc = a->data.size > S_PARTIAL_MAX ? -2 : 0;
done:
    free (grid);
    free (bounds);
    return rc;
}

//  The shard's points with lo <= key < hi (points space), at most limit,
//  grouped by source in hash order.
static int
s_op_sample (ds_store_t *self, store_pattern_t *w, const ds_pattern_req_t *req, s_answer_t *a)
{
    ds_pattern_key_t lo, hi;
    ds_pattern_key_get (req->keys, &lo);
    ds_pattern_key_get (req->keys + DS_PATTERN_KEY_SIZE, &hi);
    uint64_t r = s_point_below (self, w, &lo), end = s_point_below (self, w, &hi);
    if (end > r + req->limit)
        end = r + req->limit;               //  the store moved on: a page, no more
    size_t n = end > r ? (size_t) (end - r) : 0;
    a->counts = malloc ((n ? n : 1) * 8);
    a->keys = malloc ((n ? n : 1) * DS_PATTERN_KEY_SIZE);
    if (!a->counts || !a->keys)
        return -1;
    s_cursor_t cursor = { .p = UINT32_MAX };
    uint32_t ns = 0, last_p = UINT32_MAX;
    uint64_t in_src = 0;
    for (; r < end; r++) {
        ds_pattern_key_t key;
        s_point_key (self, w, &cursor, r, &key);
        if (cursor.p != last_p) {
            if (last_p != UINT32_MAX)
                for (int b = 0; b < 8; b++)
                    a->counts [(ns - 1) * 8 + (uint32_t) b] = (uint8_t) (in_src >> (8 * b));
            ds_pattern_key_t sk;
            s_src_key (self, &w->v [w->hord [cursor.p]], &sk);
            ds_pattern_key_put (a->keys + (size_t) ns++ * DS_PATTERN_KEY_SIZE, &sk);
            last_p = cursor.p;
            in_src = 0;
        }
        uint8_t le [8];
        for (int b = 0; b < 8; b++)
            le [b] = (uint8_t) ((uint64_t) key.minor >> (8 * b));
        if (msgpack_sbuffer_write (&a->data, (const char *) le, 8))
            return -1;
        in_src++;
    }
    if (ns)
        for (int b = 0; b < 8; b++)
            a->counts [(ns - 1) * 8 + (uint32_t) b] = (uint8_t) (in_src >> (8 * b));
    a->part.n_counts = a->part.n_keys = ns;
    a->part.counts = a->counts;
    a->part.keys = a->keys;
    a->part.data = (const uint8_t *) a->data.data;
    a->part.data_size = (uint32_t) a->data.size;
    return 0;
}

int
ds_store_pattern (ds_store_t *self, const uint8_t *data, size_t size, msgpack_packer *pk,
                  char *err, size_t err_size)
{
    ds_pattern_req_t req;
    if (ds_pattern_req_decode (data, size, &req, err, err_size) != DS_OK)
        return -1;
    if (self->no_patterns) {
        snprintf (err, err_size, "shard %u keeps no activity patterns (a one-shot run)", self->shard);
        return -1;
    }
    store_pattern_t *w = s_view (self, &req.sel, err, err_size);
    if (!w)
        return -1;
    s_answer_t a;
    memset (&a, 0, sizeof a);
    msgpack_sbuffer_init (&a.data);
    a.part.op = req.op;
    a.part.generation = self->generation;
    a.part.sources = w->n;
    a.part.points = w->points;
    uint8_t range [16];
    int rc = 0;
    switch (req.op) {
        case DS_PATTERN_SUMMARY:
            for (int b = 0; b < 8; b++) {
                range [b] = (uint8_t) ((uint64_t) w->lo >> (8 * b));
                range [8 + b] = (uint8_t) ((uint64_t) w->hi >> (8 * b));
            }
            a.part.n_counts = 2;
            a.part.counts = range;
            break;
        case DS_PATTERN_SELECT: rc = s_op_select (self, w, &req, &a); break;
        case DS_PATTERN_RANK:   rc = s_op_rank (self, w, &req, &a); break;
        case DS_PATTERN_RASTER: rc = s_op_raster (self, w, &req, &a); break;
        case DS_PATTERN_SAMPLE: rc = s_op_sample (self, w, &req, &a); break;
        default:                rc = -1; break;
    }
    msgpack_sbuffer part;
    msgpack_sbuffer_init (&part);
    if (rc == 0 && ds_pattern_part_encode (&a.part, &part) != DS_OK)
        rc = -1;
    if (rc == 0 && part.size > S_PARTIAL_MAX)
        rc = -2;
    if (rc == 0) {
        msgpack_pack_bin (pk, part.size);
        msgpack_pack_bin_body (pk, part.data, part.size);
    }
    else
    if (rc == -2) {
        char text [200];
        snprintf (text, sizeof text, "shard %u: the pattern partial is over the %u MiB limit "
                  "(a %ux%u raster that does not compress): ask for a smaller width x height",
                  self->shard, S_PARTIAL_MAX >> 20, req.width, req.height);
        store_err (err, err_size, "%s", text);
    }
    else
        store_err (err, err_size, "%s", "out of memory");
    msgpack_sbuffer_destroy (&part);
    msgpack_sbuffer_destroy (&a.data);
    free (a.counts);
    free (a.keys);
    return rc ? -1 : 0;
}
