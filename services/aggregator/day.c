/*  day.c - one local day's tables of a store: see store_internal.h.

    An open day takes records: (src) -> local id through a hash, (local,
    pp) entries in a hash, per-pp totals in arrays indexed by pp id.  A
    sealed day is read-only and compact: its local ids renumbered in
    ascending source id, the entries grouped by pp, ascending local id in
    each run (two counting sorts), with one directory row per pp present;
    its hashes and arrays are freed.  The order is a pure function of the
    day's contents, and the passes of a query over sealed days (indexed by
    source: per-source sums of a window, class lookups per pp run) walk
    their arrays in ascending order instead of at random.  Unsealing
    rebuilds the hashes from the sorted form.

    Memory: a day's big arrays are mappings of their own (pages.c):
    sealing maps the sorted form and unmaps the hashes, evicting a day
    unmaps all of it, so a day sealed and evicted every day of a long run
    leaves no holes in the malloc heap.
*/
#include "store_internal.h"

static inline uint64_t
s_src_hash (uint32_t src)
{
    return ds_mix64 ((uint64_t) src * 0x9e3779b97f4a7c15ULL + 1);
}

s_day_t *
store_day_new (int32_t day)
{
    s_day_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->day = day;
    s_tab_init (&self->dsp, sizeof (s_dsp_t), 8);
    s_tab_init (&self->carry, sizeof (s_carry_t), 8);
    return self;
}

void
store_day_destroy (s_day_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    s_day_t *self = *self_p;
    store_pages_free (self->src, (size_t) self->cap * sizeof *self->src);
    store_pages_free (self->packets, (size_t) self->cap * sizeof *self->packets);
    store_pages_free (self->flags, self->cap);
    store_pages_free (self->index, (size_t) self->index_cap * sizeof *self->index);
    s_tab_free (&self->dsp);
    store_pages_free (self->pp_packets, (size_t) self->pp_cap * sizeof *self->pp_packets);
    store_pages_free (self->pp_sources, (size_t) self->pp_cap * sizeof *self->pp_sources);
    store_pages_free (self->run_local, (size_t) self->n_sorted * sizeof *self->run_local);
    store_pages_free (self->run_packets, (size_t) self->n_sorted * sizeof *self->run_packets);
    store_pages_free (self->dir, (size_t) self->n_dir * sizeof *self->dir);
    s_tab_free (&self->carry);
    free (self);
    *self_p = NULL;
}

//  (Re)builds the src -> local hash for n + 1 locals.
static int
s_index_build (s_day_t *self, uint32_t want)
{
    uint32_t cap = self->index_cap ? self->index_cap : 256;
    while ((uint64_t) want * 4 > (uint64_t) cap * 3)
        cap *= 2;
    uint32_t *index = store_pages_alloc ((size_t) cap * sizeof *index);
    if (!index)
        return -1;
    memset (index, 0xff, (size_t) cap * sizeof *index);
    for (uint32_t id = 0; id < self->n; id++) {
        size_t j = s_src_hash (self->src [id]) & (cap - 1);
        while (index [j] != S_EMPTY)
            j = (j + 1) & (cap - 1);
        index [j] = id;
    }
    store_pages_free (self->index, (size_t) self->index_cap * sizeof *self->index);
    self->index = index;
    self->index_cap = cap;
    return 0;
}

int
store_day_reindex (s_day_t *self)
{
    store_pages_free (self->index, (size_t) self->index_cap * sizeof *self->index);
    self->index = NULL;
    self->index_cap = 0;
    return s_index_build (self, self->n + 1);
}

static int
s_columns_grow (s_day_t *self)
{
    uint32_t cap = self->cap ? self->cap * 2 : 256;
    if (self->cap >= UINT32_MAX / 2)
        return -1;
    //  The three change together (cap gives the sizes they are freed with).
    uint32_t *src = store_pages_alloc ((size_t) cap * sizeof *src);
    uint64_t *packets = store_pages_alloc ((size_t) cap * sizeof *packets);
    uint8_t *flags = store_pages_alloc (cap);
    if (!src || !packets || !flags) {
        store_pages_free (src, (size_t) cap * sizeof *src);
        store_pages_free (packets, (size_t) cap * sizeof *packets);
        store_pages_free (flags, cap);
        return -1;
    }
    if (self->n) {
        memcpy (src, self->src, (size_t) self->n * sizeof *src);
        memcpy (packets, self->packets, (size_t) self->n * sizeof *packets);
        memcpy (flags, self->flags, self->n);
    }
    store_pages_free (self->src, (size_t) self->cap * sizeof *self->src);
    store_pages_free (self->packets, (size_t) self->cap * sizeof *self->packets);
    store_pages_free (self->flags, self->cap);
    self->src = src;
    self->packets = packets;
    self->flags = flags;
    self->cap = cap;
    return 0;
}

uint32_t
store_day_local (s_day_t *self, uint32_t src)
{
    if (((uint64_t) self->n + 1) * 4 > (uint64_t) self->index_cap * 3
    &&  s_index_build (self, self->n + 1))
        return S_EMPTY;
    size_t mask = self->index_cap - 1;
    size_t j = s_src_hash (src) & mask;
    for (;;) {
        uint32_t id = self->index [j];
        if (id == S_EMPTY)
            break;
        if (self->src [id] == src)
            return id;
        j = (j + 1) & mask;
    }
    if (self->n == self->cap && s_columns_grow (self))
        return S_EMPTY;
    uint32_t id = self->n++;
    self->src [id] = src;
    self->packets [id] = 0;
    self->flags [id] = 0;
    self->index [j] = id;
    return id;
}

int
store_day_pp_reserve (s_day_t *self, uint32_t pp)
{
    if (pp < self->pp_cap)
        return 0;
    uint32_t cap = self->pp_cap ? self->pp_cap : 256;
    while (cap <= pp)
        cap *= 2;
    //  Both resized, or neither (pp_cap gives the sizes they are freed with).
    uint64_t *packets = store_pages_alloc ((size_t) cap * sizeof *packets);
    uint32_t *sources = store_pages_alloc ((size_t) cap * sizeof *sources);
    if (!packets || !sources) {
        store_pages_free (packets, (size_t) cap * sizeof *packets);
        store_pages_free (sources, (size_t) cap * sizeof *sources);
        return -1;
    }
    if (self->pp_cap) {
        memcpy (packets, self->pp_packets, (size_t) self->pp_cap * sizeof *packets);
        memcpy (sources, self->pp_sources, (size_t) self->pp_cap * sizeof *sources);
    }
    store_pages_free (self->pp_packets, (size_t) self->pp_cap * sizeof *self->pp_packets);
    store_pages_free (self->pp_sources, (size_t) self->pp_cap * sizeof *self->pp_sources);
    self->pp_packets = packets;
    self->pp_sources = sources;
    memset (packets + self->pp_cap, 0, (size_t) (cap - self->pp_cap) * sizeof *packets);
    memset (sources + self->pp_cap, 0, (size_t) (cap - self->pp_cap) * sizeof *sources);
    self->pp_cap = cap;
    return 0;
}

int
store_day_carry (s_day_t *self, uint32_t local, uint32_t pp)
{
    s_carry_t key = { local, pp, 0 };
    bool created;
    s_carry_t *c = s_tab_upsert_h (&self->carry, &key, s_key_hash ((const uint8_t *) &key, 8), &created);
    if (!c)
        return -1;
    c->carry += 1ULL << 32;
    return 0;
}

//  The carry table re-keyed by new_of into *out (empty if none).
static int
s_carry_renumbered (const s_day_t *self, const uint32_t *new_of, s_tab_t *out)
{
    s_tab_init (out, sizeof (s_carry_t), 8);
    if (self->carry.count == 0)
        return 0;
    if (s_tab_reserve (out, self->carry.count * 2 + 16))
        return -1;
    S_TAB_EACH (&self->carry, const s_carry_t, c) {
        s_carry_t key = { new_of [c->local], c->pp, 0 };
        bool created;
        s_carry_t *e = s_tab_upsert_h (out, &key, s_key_hash ((const uint8_t *) &key, 8), &created);
        e->carry = c->carry;
    }
    return 0;
}

//  Renumbers the day's locals in ascending source id: permutes the (day,
//  src) columns, re-keys the carries and writes new_of [old local] = new
//  local.  On failure nothing changed.  The index (src -> local) is left
//  stale: the caller frees it.
static int
s_renumber (s_day_t *self, uint32_t *new_of)
{
    uint32_t n = self->n;
    size_t cap = self->cap ? self->cap : 1;
    uint64_t *order = store_pages_alloc ((size_t) n * sizeof *order);
    uint32_t *src = store_pages_alloc (cap * sizeof *src);
    uint64_t *packets = store_pages_alloc (cap * sizeof *packets);
    uint8_t *flags = store_pages_alloc (cap);
    s_tab_t carry;
    s_tab_init (&carry, sizeof (s_carry_t), 8);
    int rc = -1;
    if (!order || !src || !packets || !flags)
        goto done;
    for (uint32_t l = 0; l < n; l++)
        order [l] = (uint64_t) self->src [l] << 32 | l;
    qsort (order, n, sizeof *order, store_cmp_u64);
    for (uint32_t i = 0; i < n; i++)
        new_of [(uint32_t) order [i]] = i;
    if (s_carry_renumbered (self, new_of, &carry))
        goto done;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t old = (uint32_t) order [i];
        src [i] = self->src [old];
        packets [i] = self->packets [old];
        flags [i] = self->flags [old];
    }
    s_tab_free (&self->carry);
    self->carry = carry;
    s_tab_init (&carry, sizeof (s_carry_t), 8);
    store_pages_free (self->src, cap * sizeof *self->src);
    store_pages_free (self->packets, cap * sizeof *self->packets);
    store_pages_free (self->flags, cap);
    self->src = src;
    self->packets = packets;
    self->flags = flags;
    src = NULL;
    packets = NULL;
    flags = NULL;
    rc = 0;
done:
    store_pages_free (order, (size_t) n * sizeof *order);
    store_pages_free (src, cap * sizeof *src);
    store_pages_free (packets, cap * sizeof *packets);
    store_pages_free (flags, cap);
    s_tab_free (&carry);
    return rc;
}

int
store_day_seal (s_day_t *self)
{
    if (self->sealed)
        return 0;
    //  Count per pp present (the per-pp arrays say which), then place.
    uint32_t n_dir = 0;
    for (uint32_t pp = 0; pp < self->pp_cap; pp++)
        n_dir += self->pp_sources [pp] ? 1 : 0;
    uint32_t n = (uint32_t) self->dsp.count;
    uint32_t *locals = store_pages_alloc ((size_t) n * sizeof *locals);
    uint32_t *packets = store_pages_alloc ((size_t) n * sizeof *packets);
    s_ppdir_t *dir = store_pages_alloc ((size_t) n_dir * sizeof *dir);
    //  Scratch, freed before returning
    size_t slot_size = (size_t) self->pp_cap * sizeof (uint32_t);
    size_t new_of_size = (size_t) self->n * sizeof (uint32_t);
    size_t by_local_size = ((size_t) self->n + 1) * sizeof (uint32_t);
    size_t entries_size = (size_t) n * sizeof (s_dsp_t);
    uint32_t *slot = store_pages_alloc (slot_size);
    uint32_t *new_of = store_pages_alloc (new_of_size);
    uint32_t *by_local = store_pages_alloc (by_local_size);
    s_dsp_t *entries = store_pages_alloc (entries_size);
    int rc = -1;
    if (!locals || !packets || !dir || !slot || !new_of || !by_local || !entries
    ||  s_renumber (self, new_of))
        goto done;
    //  The entries by new local id (counting sort) ...
    memset (by_local, 0, (size_t) (self->n + 1) * sizeof *by_local);
    S_TAB_EACH (&self->dsp, const s_dsp_t, e)
        by_local [new_of [e->local] + 1]++;
    for (uint32_t l = 1; l <= self->n; l++)
        by_local [l] += by_local [l - 1];
    S_TAB_EACH (&self->dsp, const s_dsp_t, e) {
        uint32_t local = new_of [e->local];
        entries [by_local [local]++] = (s_dsp_t) { local, e->pp, e->packets };
    }
    //  ... then by pp, stable: each pp's run in ascending local id.
    uint32_t k = 0, start = 0;
    for (uint32_t pp = 0; pp < self->pp_cap; pp++) {
        if (!self->pp_sources [pp])
            continue;
        dir [k++] = (s_ppdir_t) { pp, start, self->pp_packets [pp] };
        slot [pp] = start;
        start += self->pp_sources [pp];
    }
    for (uint32_t i = 0; i < n; i++) {
        uint32_t at = slot [entries [i].pp]++;
        locals [at] = entries [i].local;
        packets [at] = entries [i].packets;
    }
    s_tab_free (&self->dsp);
    store_pages_free (self->pp_packets, (size_t) self->pp_cap * sizeof *self->pp_packets);
    store_pages_free (self->pp_sources, (size_t) self->pp_cap * sizeof *self->pp_sources);
    store_pages_free (self->index, (size_t) self->index_cap * sizeof *self->index);
    self->pp_packets = NULL;
    self->pp_sources = NULL;
    self->pp_cap = 0;
    self->index = NULL;
    self->index_cap = 0;
    self->run_local = locals;
    self->run_packets = packets;
    self->n_sorted = n;
    self->dir = dir;
    self->n_dir = n_dir;
    self->sealed = true;
    locals = packets = NULL;
    dir = NULL;
    rc = 0;
done:
    store_pages_free (locals, (size_t) n * sizeof *locals);
    store_pages_free (packets, (size_t) n * sizeof *packets);
    store_pages_free (dir, (size_t) n_dir * sizeof *dir);
    store_pages_free (slot, slot_size);
    store_pages_free (new_of, new_of_size);
    store_pages_free (by_local, by_local_size);
    store_pages_free (entries, entries_size);
    return rc;
}

int
store_day_unseal (s_day_t *self)
{
    if (!self->sealed)
        return 0;
    uint32_t max_pp = self->n_dir ? self->dir [self->n_dir - 1].pp : 0;
    size_t cap = 1024;
    while ((uint64_t) (self->n_sorted + 1) * 4 > (uint64_t) cap * 3)
        cap *= 2;
    s_tab_t dsp;
    s_tab_init (&dsp, sizeof (s_dsp_t), 8);
    if (s_tab_alloc (&dsp, cap))
        return -1;
    if (s_index_build (self, self->n) || store_day_pp_reserve (self, max_pp)) {
        s_tab_free (&dsp);
        return -1;
    }
    for (uint32_t k = 0; k < self->n_dir; k++) {
        uint32_t end = k + 1 < self->n_dir ? self->dir [k + 1].start : self->n_sorted;
        for (uint32_t i = self->dir [k].start; i < end; i++) {
            s_dsp_t key = { self->run_local [i], self->dir [k].pp, 0 };
            bool created;
            s_dsp_t *e = s_tab_upsert_h (&dsp, &key, s_key_hash ((const uint8_t *) &key, 8), &created);
            e->packets = self->run_packets [i];     //  no growth: reserved above
        }
    }
    for (uint32_t k = 0; k < self->n_dir; k++) {
        uint32_t end = k + 1 < self->n_dir ? self->dir [k + 1].start : self->n_sorted;
        self->pp_packets [self->dir [k].pp] = self->dir [k].packets;
        self->pp_sources [self->dir [k].pp] = end - self->dir [k].start;
    }
    self->dsp = dsp;
    store_pages_free (self->run_local, (size_t) self->n_sorted * sizeof *self->run_local);
    store_pages_free (self->run_packets, (size_t) self->n_sorted * sizeof *self->run_packets);
    store_pages_free (self->dir, (size_t) self->n_dir * sizeof *self->dir);
    self->run_local = self->run_packets = NULL;
    self->dir = NULL;
    self->n_sorted = self->n_dir = 0;
    self->sealed = false;
    return 0;
}

int
store_day_pp_runs (const s_day_t *d, store_run_fn *fn, void *arg)
{
    int rc = 0;
    if (d->sealed) {
        for (uint32_t k = 0; k < d->n_dir && !rc; k++) {
            uint32_t end = k + 1 < d->n_dir ? d->dir [k + 1].start : d->n_sorted;
            rc = fn (arg, d->dir [k].pp, d->run_local + d->dir [k].start,
                     d->run_packets + d->dir [k].start, end - d->dir [k].start);
        }
        return rc;
    }
    uint32_t total = (uint32_t) d->dsp.count;
    size_t run_size = (size_t) total * sizeof (uint32_t);
    size_t at_size = (size_t) d->pp_cap * sizeof (uint32_t);
    uint32_t *locals = store_pages_alloc (run_size);
    uint32_t *packets = store_pages_alloc (run_size);
    uint32_t *at = store_pages_alloc (at_size);
    if (!locals || !packets || !at) {
        store_pages_free (locals, run_size);
        store_pages_free (packets, run_size);
        store_pages_free (at, at_size);
        return -1;
    }
    uint32_t start = 0;
    for (uint32_t pp = 0; pp < d->pp_cap; pp++) {
        at [pp] = start;
        start += d->pp_sources [pp];
    }
    S_TAB_EACH (&d->dsp, const s_dsp_t, e) {
        uint32_t i = at [e->pp]++;
        locals [i] = e->local;
        packets [i] = e->packets;
    }
    start = 0;
    for (uint32_t pp = 0; pp < d->pp_cap && !rc; pp++) {
        if (d->pp_sources [pp])
            rc = fn (arg, pp, locals + start, packets + start, d->pp_sources [pp]);
        start += d->pp_sources [pp];
    }
    store_pages_free (locals, run_size);
    store_pages_free (packets, run_size);
    store_pages_free (at, at_size);
    return rc;
}

size_t
store_day_memory (const s_day_t *self)
{
    return sizeof *self + (size_t) self->cap * (sizeof (uint32_t) + sizeof (uint64_t) + 1)
         + (size_t) self->index_cap * sizeof (uint32_t)
         + self->dsp.cap * self->dsp.esize + self->carry.cap * self->carry.esize
         + (size_t) self->pp_cap * (sizeof (uint64_t) + sizeof (uint32_t))
         + (size_t) self->n_sorted * 2 * sizeof (uint32_t) + (size_t) self->n_dir * sizeof (s_ppdir_t);
}
