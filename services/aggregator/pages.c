/*  pages.c - where the store's big and churning memory lives (see
    store_internal.h): a day's arrays in mappings of their own, the
    sources' pattern bins in slabs of size classes.

    A year-long run through --retain-days 30 kept its store count flat
    while the process RSS rose by a quarter over day 30: glibc's heap of
    the aggregator thread held both the day tables (hundreds of KB to a
    few MB each, built, sealed and freed every day) and the ~300,000 bin
    vectors per shard (realloc'ed by half as they fill, trimmed daily, freed
    with their sources), and the free space between them grew day after
    day into holes too small to give back (malloc_trim returns only whole
    free pages).  So:
      - day arrays of STORE_PAGES_MIN bytes or more are mappings of their
        own: a day's memory leaves with the day, whole.  The last few
        freed (S_CACHE_BLOCKS, S_CACHE_BYTES at most) are kept for the
        next ones, per thread: each day builds tables of about the sizes
        the day before freed (per-pp arrays, hashes, sealing's scratch),
        and taking them back costs no page faults (fresh mappings for
        each made a 5 M packet run spend +9 % CPU, most of it faulting);
      - bin vectors take capacities from one sequence (4, then half as
        large again each time: what they grow by), and each capacity up
        to S_SLAB_MAX bytes has its own slabs and free list: a freed
        vector's slot is taken by the next vector of its size, so the
        slabs hold about as many slots as there are vectors of each size,
        which is steady once the retained days are full.  Larger vectors
        are mappings of their own (grown by mremap).  Freed slots of
        S_GIVE_BACK bytes or more give their pages back (MADV_DONTNEED).
    Each store is used by one thread (its aggregator's), so none of this
    locks.  Sanitizer builds take every block from malloc, so their checks
    cover the tables and vectors.
*/
#include "store_internal.h"
#include <sys/mman.h>
#include <unistd.h>

#include "sanitized.h"
#define S_USE_MALLOC DS_SANITIZED

#define S_SLAB_MAX      (256u << 10)    //  largest slot in slabs (bytes)
#define S_SLAB_BYTES    (1u << 20)      //  a slab: this, or 8 slots if more
#define S_GIVE_BACK     (64u << 10)     //  free slots this large give their pages back
#define S_CACHE_BLOCKS  16              //  freed day arrays kept per thread ...
#define S_CACHE_BYTES   (16u << 20)     //  ... and their bytes at most

//  The bin capacities: 4, then c + c / 2 (s_bins_add's growth) while
//  below UINT32_MAX / 2.
static const uint32_t s_caps [STORE_BIN_CLASSES] = {
    4, 6, 9, 13, 19, 28, 42, 63, 94, 141, 211, 316, 474, 711, 1066, 1599,
    2398, 3597, 5395, 8092, 12138, 18207, 27310, 40965, 61447, 92170, 138255,
    207382, 311073, 466609, 699913, 1049869, 1574803, 2362204, 3543306,
    5314959, 7972438, 11958657, 17937985, 26906977, 40360465, 60540697,
    90811045, 136216567, 204324850, 306487275, 459730912, 689596368,
    1034394552, 1551591828
};

static size_t
s_page (void)
{
    static size_t page;
    if (!page) {
        long v = sysconf (_SC_PAGESIZE);
        page = v > 0 ? (size_t) v : 4096;
    }
    return page;
}

static inline size_t
s_page_round (size_t size)
{
    return (size + s_page () - 1) & ~(s_page () - 1);
}

static void *
s_map (size_t size)
{
    void *p = mmap (NULL, s_page_round (size), PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

//  ---------------------------------------------------------------------
//  Day tables

static inline bool
s_mapped (size_t size)
{
    return !S_USE_MALLOC && size >= STORE_PAGES_MIN;
}

//  The thread's freed day arrays, oldest first.
static __thread struct {
    void *p;
    size_t bytes;                   //  page multiple
} s_cache [S_CACHE_BLOCKS];
static __thread uint32_t s_cached;
static __thread size_t s_cached_bytes;

static void
s_cache_drop (uint32_t i)
{
    s_cached_bytes -= s_cache [i].bytes;
    memmove (s_cache + i, s_cache + i + 1, (s_cached - i - 1) * sizeof *s_cache);
    s_cached--;
}

void *
store_pages_alloc (size_t size)
{
    if (!s_mapped (size))
        return malloc (size ? size : 1);
    //  The smallest kept block that fits and is at most twice the size
    //  (a big block is not cut down for a small request: a day's next log
    //  or merge wants it whole, its pages already faulted in); the pages
    //  beyond size go back.
    size_t bytes = s_page_round (size);
    uint32_t best = s_cached;
    for (uint32_t i = 0; i < s_cached; i++)
        if (s_cache [i].bytes >= bytes && s_cache [i].bytes / 2 <= bytes
        &&  (best == s_cached || s_cache [i].bytes < s_cache [best].bytes))
            best = i;
    if (best == s_cached)
        return s_map (size);
    uint8_t *p = s_cache [best].p;
    if (s_cache [best].bytes > bytes)
        munmap (p + bytes, s_cache [best].bytes - bytes);
    s_cache_drop (best);
    return p;
}

void
store_pages_free (void *p, size_t size)
{
    if (!p)
        return;
    if (!s_mapped (size)) {
        free (p);
        return;
    }
    size_t bytes = s_page_round (size);
    if (bytes > S_CACHE_BYTES) {
        munmap (p, bytes);
        return;
    }
    while (s_cached && (s_cached == S_CACHE_BLOCKS || s_cached_bytes + bytes > S_CACHE_BYTES)) {
        munmap (s_cache [0].p, s_cache [0].bytes);
        s_cache_drop (0);
    }
    s_cache [s_cached].p = p;
    s_cache [s_cached].bytes = bytes;
    s_cached++;
    s_cached_bytes += bytes;
}

void
store_pages_release (void)
{
    while (s_cached) {
        munmap (s_cache [0].p, s_cache [0].bytes);
        s_cache_drop (0);
    }
}

void
store_pages_touch (void *p, size_t size)
{
    volatile uint8_t *q = p;
    for (size_t at = 0; at < size; at += s_page ())
        q [at] = 0;
}

//  ---------------------------------------------------------------------
//  Pattern bins

//  The class of the smallest capacity >= cap (STORE_BIN_CLASSES if none).
static uint32_t
s_class (uint32_t cap)
{
    uint32_t lo = 0, hi = STORE_BIN_CLASSES;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (s_caps [mid] < cap)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

uint32_t
store_bins_capacity (uint32_t cap)
{
    uint32_t c = s_class (cap);
    return c < STORE_BIN_CLASSES ? s_caps [c] : UINT32_MAX;
}

static inline bool
s_in_slabs (uint32_t cap)
{
    return (size_t) cap * sizeof (uint64_t) <= S_SLAB_MAX;
}

//  A free slot of class c; NULL if memory ran out.
static uint64_t *
s_slot_take (store_binmem_t *m, uint32_t c)
{
    size_t slot = (size_t) s_caps [c] * sizeof (uint64_t);
    void *p = m->free [c];
    if (p) {
        memcpy (&m->free [c], p, sizeof (void *));
        return p;
    }
    if (m->left [c] == 0) {
        if (m->n_slabs == m->slabs_cap) {
            uint32_t cap = m->slabs_cap ? m->slabs_cap * 2 : 64;
            store_slab_t *slabs = realloc (m->slabs, cap * sizeof *slabs);
            if (!slabs)
                return NULL;
            m->slabs = slabs;
            m->slabs_cap = cap;
        }
        size_t bytes = slot * 8 > S_SLAB_BYTES ? slot * 8 : S_SLAB_BYTES;
        uint8_t *slab = s_map (bytes);
        if (!slab)
            return NULL;
        m->slabs [m->n_slabs++] = (store_slab_t) { slab, bytes };
        m->at [c] = slab;
        m->left [c] = (uint32_t) (bytes / slot);
    }
    p = m->at [c];
    m->at [c] += slot;
    m->left [c]--;
    return p;
}

//  Puts a slot of class c on its free list; its pages past the first go
//  back to the system.
static void
s_slot_give (store_binmem_t *m, uint32_t c, uint64_t *p)
{
    size_t slot = (size_t) s_caps [c] * sizeof (uint64_t);
    if (slot >= S_GIVE_BACK) {     //  (smaller: kept resident for the next)
        uintptr_t from = ((uintptr_t) p + sizeof (void *) + s_page () - 1) & ~(uintptr_t) (s_page () - 1);
        uintptr_t to = ((uintptr_t) p + slot) & ~(uintptr_t) (s_page () - 1);
        if (to > from)
            madvise ((void *) from, to - from, MADV_DONTNEED);
    }
    memcpy (p, &m->free [c], sizeof (void *));
    m->free [c] = p;
}

//  Frees vector v of capacity cap.
static void
s_bins_free (store_binmem_t *m, uint64_t *v, uint32_t cap)
{
    if (!v)
        return;
    if (S_USE_MALLOC)
        free (v);
    else
    if (s_in_slabs (cap))
        s_slot_give (m, s_class (cap), v);
    else
        munmap (v, s_page_round ((size_t) cap * sizeof (uint64_t)));
}

int
store_bins_resize (ds_store_t *self, s_bins_t *b, uint32_t cap)
{
    store_binmem_t *m = &self->binmem;
    if (cap == 0) {
        s_bins_free (m, b->v, b->cap);
        b->v = NULL;
        b->cap = b->n = b->sorted = 0;
        return 0;
    }
    uint32_t c = s_class (cap < b->n ? b->n : cap);
    if (c == STORE_BIN_CLASSES)
        return -1;
    uint32_t to = s_caps [c];
    if (to == b->cap)
        return 0;
    size_t bytes = (size_t) to * sizeof (uint64_t);
    uint64_t *v;
    if (S_USE_MALLOC) {
        v = realloc (b->v, bytes);
        if (!v)
            return -1;
    }
    else
    if (b->v && !s_in_slabs (b->cap) && !s_in_slabs (to)) {
        v = mremap (b->v, s_page_round ((size_t) b->cap * sizeof (uint64_t)),
                    s_page_round (bytes), MREMAP_MAYMOVE);
        if (v == MAP_FAILED)
            return -1;
    }
    else {
        v = s_in_slabs (to) ? s_slot_take (m, c) : s_map (bytes);
        if (!v)
            return -1;
        if (b->n)
            memcpy (v, b->v, (size_t) b->n * sizeof (uint64_t));
        s_bins_free (m, b->v, b->cap);
    }
    b->v = v;
    b->cap = to;
    return 0;
}

void
store_bins_free_all (ds_store_t *self)
{
    store_binmem_t *m = &self->binmem;
    if (self->bins)
        for (uint32_t i = 0; i < self->n_srcs; i++)
            if (S_USE_MALLOC || !s_in_slabs (self->bins [i].cap))
                s_bins_free (m, self->bins [i].v, self->bins [i].cap);
    for (uint32_t i = 0; i < m->n_slabs; i++)
        munmap (m->slabs [i].p, s_page_round (m->slabs [i].bytes));
    free (m->slabs);
    memset (m, 0, sizeof *m);
}
