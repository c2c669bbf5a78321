/*  store.c - exact per-day aggregates of one shard; see store.h, and
    store_internal.h for the layout.

    Per record: the source (a store-wide hash, or the hint of its latest
    day), the pp (direct table), the local day (a small cache of day
    bounds), the day's tables (the day of the previous record, else a
    binary search of the days), the source's local id in that day (the
    source remembers it), its (day, src) counters, the (pp, local) key
    appended to the day's log (day.c merges it into the day's runs), and
    the source's pattern bin.  Records go in chunks whose hash slots are
    prefetched before they are updated; the address is hashed once, and
    the source index keeps the hash's high half as a tag, so a probe reads
    no source but the one it finds.

    Pattern bins are, per source, a vector of u64 sorted by minute:
    (minute - INT32_MIN) << 26 | microsecond of the first packet in that
    minute (< 60e6 < 2^26).  In-order minutes append; an older minute goes
    to an unsorted tail that is sorted and merged in (keeping the earliest
    microsecond) when it outgrows half the sorted part and before any
    query or checkpoint, so out-of-order input gives the same bins at
    amortised O(log n).  8 bytes per (source, minute).  A record's bin
    first goes to a log of S_BLOG_CAP entries, moved into the vectors by
    source when it is full and before anything reads bins (s_blog_flush):
    one random access per source and flush instead of one per packet.
*/
#include "store_internal.h"
#include "tz.h"
#include "log.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <zlib.h>
#include <time.h>


//  ---------------------------------------------------------------------
//  Names, sources, pps

static int
s_name_id (ds_store_t *self, const char *name)
{
    for (uint32_t i = 0; i < self->n_names; i++)
        if (strcmp (self->names [i], name) == 0)
            return (int) i;
    if (self->n_names == S_NAMES_MAX)
        return -1;
    if (self->n_names == self->names_cap) {
        uint32_t cap = self->names_cap ? self->names_cap * 2 : 64;
        char **names = realloc (self->names, cap * sizeof *names);
        if (!names)
            return -1;
        self->names = names;
        self->names_cap = cap;
    }
    char *copy = strdup (name);
    if (!copy)
        return -1;
    self->names [self->n_names] = copy;
    return (int) self->n_names++;
}

static inline uint64_t
s_addr_hash (const ds_addr_t *a)
{
    uint64_t x, y;
    memcpy (&x, a->b, 8);
    memcpy (&y, a->b + 8, 8);
    return ds_mix64 (x ^ ds_mix64 (y));
}


int
store_src_index_grow (ds_store_t *self)
{
    return store_src_index_build (self, self->src_index_cap ? self->src_index_cap * 2 : 1024);
}

//  A source index entry: the high half of the address hash (a tag that
//  probes compare before touching the source) and the src id.
#define S_INDEX_FREE    UINT64_MAX
#define S_INDEX_TAG(h)  ((h) & 0xffffffff00000000ULL)

int
store_src_index_build (ds_store_t *self, size_t cap)
{
    while (((size_t) self->n_srcs + 1) * 4 > cap * 3)
        cap *= 2;
    uint64_t *index = malloc (cap * sizeof *index);
    if (!index)
        return -1;
    memset (index, 0xff, cap * sizeof *index);
    for (uint32_t id = 0; id < self->n_srcs; id++) {
        uint64_t h = s_addr_hash (&self->srcs [id].addr);
        size_t j = h & (cap - 1);
        while (index [j] != S_INDEX_FREE)
            j = (j + 1) & (cap - 1);
        index [j] = S_INDEX_TAG (h) | id;
    }
    free (self->src_index);
    self->src_index = index;
    self->src_index_cap = cap;
    return 0;
}

//  Src id of addr (whose s_addr_hash is hash), created if new; S_EMPTY if
//  memory ran out.
static inline uint32_t
s_src_id (ds_store_t *self, const ds_addr_t *addr, uint64_t hash)
{
    if (((size_t) self->n_srcs + 1) * 4 > self->src_index_cap * 3 && store_src_index_grow (self))
        return S_EMPTY;
    size_t mask = self->src_index_cap - 1;
    size_t j = hash & mask;
    uint64_t tag = S_INDEX_TAG (hash);
    uint64_t b0, b1;
    memcpy (&b0, addr->b, 8);
    memcpy (&b1, addr->b + 8, 8);
    for (;;) {
        uint64_t e = self->src_index [j];
        if (e == S_INDEX_FREE)
            break;
        if (S_INDEX_TAG (e) == tag) {
            uint32_t id = (uint32_t) e;
            uint64_t a0, a1;
            memcpy (&a0, self->srcs [id].addr.b, 8);
            memcpy (&a1, self->srcs [id].addr.b + 8, 8);
            if (a0 == b0 && a1 == b1)
                return id;
        }
        j = (j + 1) & mask;
    }
    if (self->n_srcs == self->srcs_cap) {
        if (self->srcs_cap >= UINT32_MAX / 2)
            return S_EMPTY;
        uint32_t cap = self->srcs_cap ? self->srcs_cap * 2 : 1024;
        s_src_t *srcs = realloc (self->srcs, (size_t) cap * sizeof *srcs);
        if (!srcs)
            return S_EMPTY;
        self->srcs = srcs;
        s_bins_t *bins = realloc (self->bins, (size_t) cap * sizeof *bins);
        if (!bins)
            return S_EMPTY;
        self->bins = bins;
        self->srcs_cap = cap;
    }
    uint32_t id = self->n_srcs++;
    memset (&self->srcs [id], 0, sizeof self->srcs [id]);
    memset (&self->bins [id], 0, sizeof self->bins [id]);
    self->srcs [id].addr = *addr;
    self->srcs [id].class_id = self->name_unknown;
    self->srcs [id].last_local = S_EMPTY;
    self->src_index [j] = tag | id;
    return id;
}

//  Sorts a source's tail into its sorted bins: one value per minute, the
//  smallest (values of a minute order by microsecond).  0, or -1 if memory
//  ran out (nothing changed).
static int
s_bins_normalize (ds_store_t *self, s_bins_t *b)
{
    if (b->sorted == b->n)
        return 0;
    if (self->scratch_cap < b->n) {
        size_t cap = b->n + b->n / 2;
        uint64_t *scratch = realloc (self->scratch, cap * sizeof *scratch);
        if (!scratch)
            return -1;
        self->scratch = scratch;
        self->scratch_cap = cap;
    }
    uint64_t *tail = b->v + b->sorted;
    size_t nt = b->n - b->sorted;
    qsort (tail, nt, sizeof *tail, store_cmp_u64);
    uint64_t *out = self->scratch;
    size_t i = 0, j = 0, k = 0;
    while (i < b->sorted || j < nt) {
        uint64_t v = j == nt || (i < b->sorted && b->v [i] < tail [j]) ? b->v [i++] : tail [j++];
        if (k > 0 && (out [k - 1] & ~S_BIN_US_MASK) == (v & ~S_BIN_US_MASK))
            continue;               //  same minute, later microsecond
        out [k++] = v;
    }
    memcpy (b->v, out, k * sizeof *out);
    b->n = b->sorted = (uint32_t) k;
    b->last = (uint32_t) (out [k - 1] >> S_BIN_US_BITS);
    return 0;
}

static inline int s_bins_add (ds_store_t *self, s_bins_t *b, int32_t minute, uint32_t us);

//  Moves the logged bins into their sources' vectors: a stable counting
//  sort by source, then each source's bins appended in their order of
//  arrival (the same vectors as adding each at once), so a source's
//  vector is touched once per flush, not once per packet.  0 or -1 (out
//  of memory: bins not moved are lost, as when adding them fails).
static int
s_blog_flush (ds_store_t *self)
{
    uint32_t n = self->n_blog, ns = self->n_srcs;
    if (n == 0)
        return 0;
    self->n_blog = 0;
    if (self->blog_at_cap < ns + 1) {
        uint32_t cap = self->srcs_cap + 1;
        uint32_t *at = realloc (self->blog_at, (size_t) cap * sizeof *at);
        if (!at)
            return -1;
        self->blog_at = at;
        self->blog_at_cap = cap;
    }
    if (!self->blog_sorted && !(self->blog_sorted = malloc (S_BLOG_CAP * sizeof (uint64_t))))
        return -1;
    uint32_t *at = self->blog_at;
    const uint32_t *src = self->blog_src;
    memset (at, 0, ((size_t) ns + 1) * sizeof *at);
    for (uint32_t i = 0; i < n; i++)
        at [src [i] + 1]++;
    for (uint32_t s = 0; s < ns; s++)
        at [s + 1] += at [s];
    //  at [s]: where source s's bins start; advanced to where they end
    for (uint32_t i = 0; i < n; i++)
        self->blog_sorted [at [src [i]]++] = self->blog_v [i];
    //  The sources in id order: their headers are read in order, the ends
    //  of their vectors (random places) are fetched S_AHEAD sources ahead.
    enum { S_AHEAD = 8 };
    for (uint32_t s = 0; s < ns && s < S_AHEAD; s++)
        if (at [s] > (s ? at [s - 1] : 0) && self->bins [s].n < self->bins [s].cap)
            __builtin_prefetch (self->bins [s].v + self->bins [s].n, 1);
    uint32_t from = 0;
    int rc = 0;
    for (uint32_t s = 0; s < ns && rc == 0; s++) {
        uint32_t a = s + S_AHEAD;
        if (a < ns && at [a] > at [a - 1] && self->bins [a].n < self->bins [a].cap)
            __builtin_prefetch (self->bins [a].v + self->bins [a].n, 1);
        for (uint32_t k = from; k < at [s] && rc == 0; k++) {
            uint64_t v = self->blog_sorted [k];
            rc = s_bins_add (self, &self->bins [s], S_BIN_MINUTE (v), (uint32_t) (v & S_BIN_US_MASK));
        }
        from = at [s];
    }
    return rc;
}

int
store_bins_normalize_all (ds_store_t *self)
{
    if (s_blog_flush (self))
        return -1;
    for (uint32_t i = 0; i < self->n_srcs; i++)
        if (s_bins_normalize (self, &self->bins [i]))
            return -1;
    return 0;
}

//  Records a packet at offset us (< 60e6) of minute in a source's bins.
//  Returns 0, or -1 if memory ran out.
static inline int
s_bins_add (ds_store_t *self, s_bins_t *b, int32_t minute, uint32_t us)
{
    uint64_t key = S_BIN_KEY (minute);
    uint32_t k32 = (uint32_t) (key >> S_BIN_US_BITS);
    if (b->n && k32 == b->last) {
        if (us < (b->v [b->n - 1] & S_BIN_US_MASK))
            b->v [b->n - 1] = key | us;
        return 0;
    }
    bool in_order = b->sorted == b->n && (b->n == 0 || k32 > b->last);
    if (b->n == b->cap && store_bins_resize (self, b, b->cap + 1))
        return -1;                  //  (the next capacity: half as large again)
    b->v [b->n++] = key | us;
    b->last = k32;
    if (in_order)
        b->sorted = b->n;
    else
    if (b->n - b->sorted > 16 + b->sorted / 2)
        return s_bins_normalize (self, b);
    return 0;
}

//  Pp id of (port, proto), created if new, its service set to service;
//  S_EMPTY if memory ran out.  A pp_direct entry is id + 1 | service << 32:
//  the service is compared in the line the lookup read, and pps [] is
//  written only when it changes.
static inline uint32_t
s_pp_id (ds_store_t *self, int32_t port, uint32_t proto, uint32_t service)
{
    uint64_t *e = &self->pp_direct [S_PP_SLOT (port, proto)];
    if (*e == 0) {                  //  new: ids are stored + 1
        if (self->n_pps == self->pps_cap) {
            uint32_t cap = self->pps_cap ? self->pps_cap * 2 : 256;
            s_pp_t *pps = realloc (self->pps, cap * sizeof *pps);
            if (!pps)
                return S_EMPTY;
            self->pps = pps;
            self->pps_cap = cap;
        }
        self->pps [self->n_pps] = (s_pp_t) { port, (uint16_t) proto, self->name_unknown };
        *e = ++self->n_pps | (uint64_t) self->name_unknown << 32;
    }
    uint32_t pp = (uint32_t) *e - 1;
    if (service != S_EMPTY && (uint32_t) (*e >> 32) != service) {
        *e = (uint32_t) *e | (uint64_t) service << 32;
        self->pps [pp].service = (uint16_t) service;
    }
    return pp;
}

//  ---------------------------------------------------------------------
//  Life cycle

ds_store_t *
store_alloc (uint32_t shard, uint32_t shards, const ds_tz_t *tz)
{
    ds_store_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->shard = shard;
    self->shards = shards;
    self->tz = tz ? tz : ds_tz_utc ();
    //  Generations start at a value unique to this store instance, so a
    //  restarted aggregator never repeats an old (shard, generation) pair.
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    self->generation = ds_mix64 (((uint64_t) now.tv_sec * 1000000000ULL + (uint64_t) now.tv_nsec)
                              ^ ((uint64_t) getpid () << 40) ^ (uint64_t) (uintptr_t) self) >> 8;
    for (int i = 0; i < S_DAYCACHE; i++)
        ds_daycache_init (&self->daycache [i]);
    ds_daycache_init (&self->dayhint);
    self->pp_direct = calloc (S_PP_SLOTS, sizeof (uint64_t));
    if (self->pp_direct)
        store_pages_touch (self->pp_direct, S_PP_SLOTS * sizeof (uint64_t));
    self->blog_src = malloc (S_BLOG_CAP * sizeof *self->blog_src);
    self->blog_v = malloc (S_BLOG_CAP * sizeof *self->blog_v);
    if (!self->pp_direct || !self->blog_src || !self->blog_v) {
        free (self->pp_direct);
        free (self->blog_src);
        free (self->blog_v);
        free (self);
        return NULL;
    }
    return self;
}

ds_store_t *
ds_store_new (uint32_t shard, uint32_t shards, const ds_tz_t *tz)
{
    ds_store_t *self = store_alloc (shard, shards, tz);
    if (!self)
        return NULL;
    int unknown = s_name_id (self, "unknown");
    int mirai = s_name_id (self, "mirai");
    if (unknown < 0 || mirai < 0 || store_src_index_grow (self)) {
        ds_store_destroy (&self);
        return NULL;
    }
    self->name_unknown = (uint16_t) unknown;
    self->name_mirai = (uint16_t) mirai;
    return self;
}

void
ds_store_destroy (ds_store_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ds_store_t *self = *self_p;
    store_pattern_free (self);
    for (uint32_t i = 0; i < self->n_names; i++)
        free (self->names [i]);
    free (self->names);
    store_bins_free_all (self);
    free (self->bins);
    free (self->scratch);
    free (self->blog_src);
    free (self->blog_v);
    free (self->blog_sorted);
    free (self->blog_at);
    free (self->srcs);
    free (self->src_index);
    for (uint32_t i = 0; i < self->n_days; i++)
        store_day_destroy (&self->days [i]);
    store_pages_release ();
    free (self->days);
    free (self->pps);
    free (self->pp_direct);
    free (self->streams);
    free (self->newest_us);
    free (self->holes);
    free (self);
    *self_p = NULL;
}

//  ---------------------------------------------------------------------
//  Adding records


//  Local day of ts.  Records of many days interleave (several sensors,
//  reordered captures), so recent days are cached by day number: a ts of
//  UTC day u lies in local day u-1, u or u+1, and each cached entry's
//  bounds are checked, so the answer is always ds_tz_day's.
static inline int32_t
s_day_of (ds_store_t *self, int64_t ts)
{
    if (ts >= self->dayhint.lo && ts < self->dayhint.hi)
        return self->dayhint.day;   //  the day of the record before
    int64_t u = s_floor_div (ts, 86400000000LL);
    for (int64_t d = u; d <= u + 1; d++) {
        ds_daycache_t *c = &self->daycache [(uint64_t) d & (S_DAYCACHE - 1)];
        if (ts >= c->lo && ts < c->hi)
            return (self->dayhint = *c).day;
    }
    ds_daycache_t *c = &self->daycache [(uint64_t) (u - 1) & (S_DAYCACHE - 1)];
    if (ts >= c->lo && ts < c->hi)
        return (self->dayhint = *c).day;
    ds_daycache_t fresh;
    ds_daycache_init (&fresh);
    int32_t day = ds_tz_day (self->tz, &fresh, ts);
    self->daycache [(uint32_t) day & (S_DAYCACHE - 1)] = fresh;
    self->dayhint = fresh;
    return day;
}


bool
ds_store_days (ds_store_t *self, int32_t *first, int32_t *last)
{
    *first = self->min_day;
    *last = self->max_day;
    return self->any;
}

uint64_t
ds_store_generation (ds_store_t *self)
{
    return self->generation;
}

//  Index of the first day >= day in self->days (n_days if none).
uint32_t
store_days_lower (const ds_store_t *self, int32_t day)
{
    uint32_t lo = 0, hi = self->n_days;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (self->days [mid]->day < day)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

//  The open tables of a day, created if new, unsealed if sealed; NULL if
//  memory ran out.
static s_day_t *
s_day_open (ds_store_t *self, int32_t day)
{
    s_day_t *d = self->cur;
    if (!d || d->day != day) {
        uint32_t i = store_days_lower (self, day);
        if (i < self->n_days && self->days [i]->day == day)
            d = self->days [i];
        else {
            if (self->n_days == self->days_cap) {
                uint32_t cap = self->days_cap ? self->days_cap * 2 : 64;
                s_day_t **days = realloc (self->days, (size_t) cap * sizeof *days);
                if (!days)
                    return NULL;
                self->days = days;
                self->days_cap = cap;
            }
            d = store_day_new (day);
            if (!d)
                return NULL;
            memmove (self->days + i + 1, self->days + i, (size_t) (self->n_days - i) * sizeof *self->days);
            self->days [i] = d;
            self->n_days++;
        }
        self->cur = d;
    }
    if (d->sealed && store_day_unseal (d))
        return NULL;
    return d;
}

int
store_days_settle (ds_store_t *self)
{
    int rc = 0;
    for (uint32_t i = 0; i < self->n_days; i++)
        if (self->days [i]->n_log && store_day_settle (self->days [i]))
            rc = -1;
    return rc;
}

int
store_seal_days (ds_store_t *self, bool all)
{
    int rc = 0;
    for (uint32_t i = 0; i < self->n_days; i++) {
        s_day_t *d = self->days [i];
        if (!d->sealed && (all || d->day < self->max_day - 1) && store_day_seal (d))
            rc = -1;
    }
    return rc;
}

//  A record resolved to its day's tables (the first pass of a chunk).
typedef struct {
    s_day_t *day;
    uint32_t local, pp;
    uint32_t src;
    int32_t minute;
    uint32_t us;                    //  offset in the minute; UINT32_MAX: no bin
    uint8_t flags;
} s_resolved_t;

//  First pass: the record's source, pp, day and local id (created if new),
//  its (day, src) counters prefetched.  0, or -1 (no memory).
static inline int
s_resolve (ds_store_t *self, const ds_batch_t *b, uint32_t i, uint64_t hash, const uint16_t *cmap,
           uint32_t n_classes, const uint16_t *smap, uint32_t n_services, s_resolved_t *r)
{
    int64_t ts = b->ts [i];
    int32_t dayno = s_day_of (self, ts);
    if (self->retain_days && self->any && dayno <= self->max_day - (int32_t) self->retain_days) {
        self->expired++;            //  older than the retained days
        r->day = NULL;
        return 0;
    }
    uint32_t src = s_src_id (self, &b->src [i], hash);
    if (src == S_EMPTY)
        return -1;
    uint32_t proto = b->proto [i] < DS_PROTO_COUNT ? b->proto [i] : DS_PROTO_OTH;
    int32_t port = b->port [i] >= 0 && b->port [i] <= 65535 ? b->port [i] : DS_PORT_NONE;
    uint32_t service = S_EMPTY;
    if (n_services) {
        uint16_t v = b->service_id [i];
        service = v < n_services ? smap [v] : self->name_unknown;
    }
    uint32_t pp = s_pp_id (self, port, proto, service);
    if (pp == S_EMPTY)
        return -1;
    uint32_t flags = b->flags [i];
    s_src_t *s = &self->srcs [src];
    uint16_t class_id = s->class_id;
    if (n_classes) {
        uint16_t c = b->class_id [i];
        class_id = c < n_classes ? cmap [c] : self->name_unknown;
    }
    uint8_t gt = (flags & DS_FLAG_GT) ? 1 : 0;
    if (class_id != s->class_id || gt != s->gt) {
        s->class_id = class_id;
        s->gt = gt;
    }
    if (!self->any || dayno < self->min_day)
        self->min_day = dayno;
    if (!self->any || dayno > self->max_day)
        self->max_day = dayno;
    self->any = true;
    s_day_t *day = s_day_open (self, dayno);
    if (!day)
        return -1;
    uint32_t local = s->last_local;
    if (s->last_day != dayno || local >= day->n || day->src [local] != src) {
        local = store_day_local (day, src);
        if (local == S_EMPTY)
            return -1;
        s->last_day = dayno;
        s->last_local = local;
    }
    __builtin_prefetch (&day->packets [local], 1);
    __builtin_prefetch (&day->flags [local], 1);
    r->day = day;
    r->local = local;
    r->pp = pp;
    r->src = src;
    r->flags = (uint8_t) flags;
    if (self->no_patterns) {
        r->us = UINT32_MAX;         //  no pattern bins kept
        return 0;
    }
    if (ts >= self->minhint_lo && ts < self->minhint_hi) {
        r->minute = self->minhint;  //  the minute of the record before
        r->us = (uint32_t) (ts - self->minhint_lo);
        return 0;
    }
    int64_t minute = s_floor_div (ts, S_MINUTE_US);
    if (minute >= INT32_MIN && minute <= INT32_MAX) {
        r->minute = (int32_t) minute;
        r->us = (uint32_t) (ts - minute * S_MINUTE_US);
        self->minhint = r->minute;
        self->minhint_lo = minute * S_MINUTE_US;
        self->minhint_hi = self->minhint_lo + S_MINUTE_US;
    }
    else
        r->us = UINT32_MAX;         //  no pattern bin for absurd times
    return 0;
}

//  Second pass: counts the resolved record.  0, or -1 (no memory).
static inline int
s_count (ds_store_t *self, const s_resolved_t *r)
{
    s_day_t *day = r->day;
    if (!day)
        return 0;                   //  expired
    if (store_day_log (day, r->local, r->pp))
        return -1;
    day->packets [r->local]++;
    day->flags [r->local] |= r->flags;
    if (r->us != UINT32_MAX) {
        self->blog_src [self->n_blog] = r->src;
        self->blog_v [self->n_blog] = S_BIN_KEY (r->minute) | r->us;
        if (++self->n_blog == S_BLOG_CAP && s_blog_flush (self))
            return -1;
    }
    self->records++;
    return 0;
}

//  The prefetch pipeline of ds_store_add_batch, one step per function.
//  Step 1: hash record i's address into hash [i % 64], fetch its index slot.
static inline void
s_ahead_hash (ds_store_t *self, const ds_batch_t *b, uint32_t i, uint64_t *hash)
{
    uint64_t h = s_addr_hash (&b->src [i]);
    hash [i % 64] = h;
    __builtin_prefetch (&self->src_index [h & (self->src_index_cap - 1)]);
}

//  Step 2: probe the index (its slot fetched by step 1); fetch the source
//  and the pp slot; remember the id as a guess.
static inline void
s_ahead_src (ds_store_t *self, const ds_batch_t *b, uint32_t i, const uint64_t *hash,
             uint32_t *guess)
{
    //  The first entry of the probe with the address's tag: the source,
    //  but for a tag collision (a guess only: step 4 looks it up).
    uint64_t h = hash [i % 64];
    size_t mask = self->src_index_cap - 1;
    uint32_t id = S_EMPTY;
    for (size_t j = h & mask;; j = (j + 1) & mask) {
        uint64_t e = self->src_index [j];
        if (e == S_INDEX_FREE)
            break;
        if (S_INDEX_TAG (e) == S_INDEX_TAG (h)) {
            id = (uint32_t) e;
            break;
        }
    }
    guess [i % 64] = id;
    if (id < self->n_srcs)
        S_PREFETCH (&self->srcs [id], sizeof (s_src_t), 1);
    if (b->port [i] >= DS_PORT_NONE && b->port [i] <= 65535 && b->proto [i] < DS_PROTO_COUNT)
        __builtin_prefetch (&self->pp_direct [S_PP_SLOT (b->port [i], b->proto [i])]);
}

//  Step 3: with the source (fetched by step 2), fetch its counters in the
//  current day (if its local id there is known).
static inline void
s_ahead_day (ds_store_t *self, uint32_t id)
{
    if (id >= self->n_srcs)
        return;
    const s_src_t *s = &self->srcs [id];
    const s_day_t *d = self->cur;
    if (d && !d->sealed && s->last_day == d->day && s->last_local < d->n) {
        __builtin_prefetch (&d->src [s->last_local]);
        __builtin_prefetch (&d->packets [s->last_local], 1);
        __builtin_prefetch (&d->flags [s->last_local], 1);
    }
}

int
ds_store_add_batch (ds_store_t *self, const ds_batch_t *b)
{
    self->generation++;
    //  Map the batch's dictionaries to store-wide name ids.
    uint16_t cmap [DS_DICT_MAX], smap [DS_DICT_MAX];
    uint32_t n_classes = b->labelled ? b->n_classes : 0;
    uint32_t n_services = b->labelled ? b->n_services : 0;
    if (n_classes > DS_DICT_MAX || n_services > DS_DICT_MAX)
        return -1;
    for (uint32_t i = 0; i < n_classes; i++) {
        int id = s_name_id (self, b->class_names [i] ? b->class_names [i] : "unknown");
        if (id < 0)
            return -1;
        cmap [i] = (uint16_t) id;
    }
    for (uint32_t i = 0; i < n_services; i++) {
        int id = s_name_id (self, b->service_names [i] ? b->service_names [i] : "unknown");
        if (id < 0)
            return -1;
        smap [i] = (uint16_t) id;
    }
    int32_t max_before = self->any ? self->max_day : INT32_MIN;
    //  Records go in chunks: first each record of a chunk is resolved while
    //  its entries are prefetched, then each is counted, so the cache misses
    //  of a chunk overlap instead of queueing.  Ahead of that, a pipeline of
    //  prefetches walks the chain of dependent loads one chunk per step:
    //  three chunks ahead the address is hashed (once: the hash is kept) and
    //  its index slot fetched; two ahead the index is probed and the source
    //  and its pp slot fetched; one ahead the source's entries in the
    //  current day.  Pattern bins go to a log (s_blog_flush).
    enum { CHUNK = 16, RING = 64 };     //  RING: a power of two >= 4 * CHUNK
    s_resolved_t res [CHUNK];
    uint64_t hash [RING];               //  s_addr_hash of record i at i % RING
    uint32_t guess [RING];              //  its src id at the first probe (a hint)
    const uint32_t count = b->count;
    for (uint32_t i = 0; i < count && i < 3 * CHUNK; i++)
        s_ahead_hash (self, b, i, hash);
    for (uint32_t i = 0; i < count && i < 2 * CHUNK; i++)
        s_ahead_src (self, b, i, hash, guess);
    for (uint32_t i = 0; i < count && i < CHUNK; i++)
        s_ahead_day (self, guess [i % RING]);
    for (uint32_t base = 0; base < count; base += CHUNK) {
        uint32_t n = count - base < CHUNK ? count - base : CHUNK;
        for (uint32_t i = base + 3 * CHUNK; i < count && i < base + 4 * CHUNK; i++)
            s_ahead_hash (self, b, i, hash);
        for (uint32_t i = base + 2 * CHUNK; i < count && i < base + 3 * CHUNK; i++)
            s_ahead_src (self, b, i, hash, guess);
        for (uint32_t i = base + CHUNK; i < count && i < base + 2 * CHUNK; i++)
            s_ahead_day (self, guess [i % RING]);
        for (uint32_t j = 0; j < n; j++)
            if (s_resolve (self, b, base + j, hash [(base + j) % RING], cmap, n_classes,
                           smap, n_services, &res [j]))
                return -1;
        for (uint32_t j = 0; j < n; j++)
            if (s_count (self, &res [j]))
                return -1;
    }
    //  A new newest day: the days before the two newest are likely
    //  complete; seal them (compact, and fast to read).  Days older than
    //  the retained ones go, also after the first batch (a small file may
    //  be one batch that spans more days than are retained).
    if (self->any && self->max_day > max_before) {
        if (max_before != INT32_MIN)
            store_seal_days (self, false);
        //  Eviction renumbers sources: the logged bins go in first.
        if (self->retain_days && (s_blog_flush (self) || store_evict (self)))
            return -1;
    }
    return 0;
}

uint64_t
ds_store_records (ds_store_t *self)
{
    return self->records;
}

uint64_t
ds_store_sources (ds_store_t *self)
{
    return self->n_srcs;
}

size_t
ds_store_memory (ds_store_t *self)
{
    size_t bins = 0, days = 0;
    for (uint32_t i = 0; i < self->n_srcs; i++)
        bins += (size_t) self->bins [i].cap * sizeof (uint64_t);
    for (uint32_t i = 0; i < self->n_days; i++)
        days += store_day_memory (self->days [i]);
    return S_PP_SLOTS * sizeof (uint64_t) + bins + days
         + S_BLOG_CAP * (sizeof (uint32_t) + sizeof (uint64_t) + (self->blog_sorted ? sizeof (uint64_t) : 0))
         + (size_t) self->blog_at_cap * sizeof (uint32_t)
         + (size_t) self->days_cap * sizeof (s_day_t *)
         + (size_t) self->srcs_cap * (sizeof (s_src_t) + sizeof (s_bins_t))
         + self->src_index_cap * sizeof (uint64_t)
         + (size_t) self->pps_cap * sizeof (s_pp_t);
}
