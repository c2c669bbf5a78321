/*  retention.c - keeping only the newest N days of a store
    (ds_store_set_retention): whole days leave every table together with
    the sources no retained day holds and their pattern bins; the arrays
    shrink so memory stays flat once N days are full.  A day's tables are
    mappings of their own and leave with it, the bins of evicted minutes
    leave their slabs' slots for others of their size (pages.c); what the
    small arrays free in glibc's heaps goes back to the system by
    malloc_trim (ds_malloc_release; ds_malloc_tune sets a 256 MB trim
    threshold).
*/
#include "store_internal.h"
#include "alloc.h"

//  Renumbers the sources that some retained day still holds (in their
//  old order) and frees the others with their bins; shrinks the arrays.
static int
s_compact_sources (ds_store_t *self)
{
    uint32_t *map = malloc ((self->n_srcs ? self->n_srcs : 1) * sizeof *map);
    if (!map)
        return -1;
    memset (map, 0xff, (size_t) self->n_srcs * sizeof *map);
    for (uint32_t i = 0; i < self->n_days; i++)
        for (uint32_t l = 0; l < self->days [i]->n; l++)
            map [self->days [i]->src [l]] = 0;
    uint32_t next = 0;
    for (uint32_t s = 0; s < self->n_srcs; s++) {
        if (map [s] == S_EMPTY) {
            store_bins_resize (self, &self->bins [s], 0);
            continue;
        }
        map [s] = next;
        self->srcs [next] = self->srcs [s];
        self->bins [next++] = self->bins [s];
    }
    int rc = 0;
    for (uint32_t i = 0; i < self->n_days; i++) {
        s_day_t *d = self->days [i];
        for (uint32_t l = 0; l < d->n; l++)
            d->src [l] = map [d->src [l]];
        if (!d->sealed && store_day_reindex (d))
            rc = -1;
    }
    free (map);
    self->n_srcs = next;
    if (self->srcs_cap > 1024 && self->srcs_cap / 2 > self->n_srcs) {
        uint32_t cap = self->n_srcs + self->n_srcs / 4 + 1024;
        s_src_t *srcs = realloc (self->srcs, (size_t) cap * sizeof *srcs);
        if (srcs)
            self->srcs = srcs;
        s_bins_t *bins = realloc (self->bins, (size_t) cap * sizeof *bins);
        if (bins)
            self->bins = bins;
        if (srcs && bins)
            self->srcs_cap = cap;
        else
            rc = -1;                //  a shrink that failed: the old blocks are kept
    }
    if (store_src_index_build (self, 1024))
        rc = -1;
    return rc;
}

//  Drops each source's pattern bins before minute (sorted bins first).
static int
s_trim_bins (ds_store_t *self, int64_t minute)
{
    if (store_bins_normalize_all (self))
        return -1;
    for (uint32_t s = 0; s < self->n_srcs; s++) {
        s_bins_t *b = &self->bins [s];
        uint32_t k = 0;
        while (k < b->n && S_BIN_MINUTE (b->v [k]) < minute)
            k++;
        if (k == 0)
            continue;
        memmove (b->v, b->v + k, (size_t) (b->n - k) * sizeof *b->v);
        b->n = b->sorted = b->n - k;
        //  Room for a few more days like the retained ones, not for the
        //  most this source ever held: growing by half when full and
        //  never giving back, the vectors' slack crept up day after day
        //  (+10 MB a week per shard at DarkVec's rate).  A failed shrink
        //  keeps the vector as it is.
        uint32_t want = b->n + b->n / 8 + 4;
        if (b->cap > want + want / 4 && store_bins_capacity (want) < b->cap)
            (void) store_bins_resize (self, b, want);
    }
    return 0;
}

//  Evicts whole days older than the retained ones (the newest day - N +
//  1), the sources no retained day holds, and their pattern bins.
int
store_evict (ds_store_t *self)
{
    int32_t cutoff = self->max_day - (int32_t) self->retain_days + 1;
    uint32_t n = store_days_lower (self, cutoff);
    if (n == 0)
        return 0;
    for (uint32_t i = 0; i < n; i++)
        store_day_destroy (&self->days [i]);
    memmove (self->days, self->days + n, (size_t) (self->n_days - n) * sizeof *self->days);
    self->n_days -= n;
    self->cur = NULL;
    self->evicted_days += n;
    if (self->n_days)
        self->min_day = self->days [0]->day;
    int64_t start = ds_tz_day_start (self->tz, cutoff);
    int rc = s_compact_sources (self);
    if (s_trim_bins (self, s_floor_div (start, S_MINUTE_US)))
        rc = -1;
    ds_malloc_release ();           //  once a day: every arena's free pages
    return rc;
}

int
ds_store_set_retention (ds_store_t *self, uint32_t days)
{
    self->retain_days = days;
    //  A store restored from a checkpoint may hold more days than are now
    //  retained: they go at once, not at the next new day.  Eviction
    //  renumbers sources: the logged pattern bins go in first.
    if (days && self->any && self->min_day < self->max_day - (int32_t) days + 1)
        return store_bins_normalize_all (self) || store_evict (self) ? -1 : 0;
    return 0;
}

void
ds_store_set_patterns (ds_store_t *self, bool keep)
{
    self->no_patterns = !keep;
}

void
ds_store_set_sensors_expected (ds_store_t *self, uint32_t sensors)
{
    self->sensors_expected = sensors;
}
