/*  day.c - one local day's tables of a store: see store_internal.h.

    A day's (local, pp) entries live in runs: grouped by pp (a directory
    row per pp present: packets, first entry), ascending local id in each
    run, two columns (local id, packets).  An open day takes records:
    (src) -> local id through a hash, and each record's (pp, local) key
    goes to an append-only log, merged into the runs (store_day_settle:
    the log radix-sorted, then one pass over both) when the log is full
    and before anything reads the runs.  Most records of a darknet day
    are the first of their (source, pp), so a hash of entries took a cache
    miss per record; the log is written in order and sorted in a few
    passes.  The log grows up to S_LOG_MAX entries or the runs' size, so
    a DarkVec day of a shard is merged about once, and merging costs O(1)
    amortised moves per entry on any day.

    A sealed day is read-only and compact: its log merged, its local ids
    renumbered in ascending source id (its runs sorted again), its src ->
    local hash freed.  The order is a pure function of the day's contents,
    and the passes of a query over sealed days (indexed by source:
    per-source sums of a window, class lookups per pp run) walk their
    arrays in ascending order instead of at random.  Unsealing rebuilds the
    hash; the runs stay.

    Memory: a day's big arrays are mappings of their own (pages.c):
    settling maps the merged runs and unmaps the old, evicting a day
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
    s_tab_init (&self->carry, sizeof (s_carry_t));
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
    store_pages_free (self->log, (size_t) self->log_cap * sizeof *self->log);
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
store_day_carry (s_day_t *self, uint32_t local, uint32_t pp)
{
    s_carry_t key = { local, pp, 0 };
    bool created;
    s_carry_t *c = s_tab_upsert (&self->carry, &key, &created);
    if (!c)
        return -1;
    c->carry += 1ULL << 32;
    return 0;
}

//  The carry table re-keyed by new_of into *out (empty if none).
static int
s_carry_renumbered (const s_day_t *self, const uint32_t *new_of, s_tab_t *out)
{
    s_tab_init (out, sizeof (s_carry_t));
    if (self->carry.count == 0)
        return 0;
    if (s_tab_reserve (out, self->carry.count * 2 + 16))
        return -1;
    S_TAB_EACH (&self->carry, const s_carry_t, c) {
        s_carry_t key = { new_of [c->local], c->pp, 0 };
        bool created;
        s_carry_t *e = s_tab_upsert (out, &key, &created);
        e->carry = c->carry;
    }
    return 0;
}

static void s_radix (uint64_t *keys, uint32_t *vals, uint64_t *tk, uint32_t *tv, uint32_t n,
                     int lo_bits, int hi_bits);
static int s_bits (uint64_t n);

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
    uint64_t *scratch = store_pages_alloc ((size_t) n * sizeof *scratch);
    uint32_t *src = store_pages_alloc (cap * sizeof *src);
    uint64_t *packets = store_pages_alloc (cap * sizeof *packets);
    uint8_t *flags = store_pages_alloc (cap);
    s_tab_t carry;
    s_tab_init (&carry, sizeof (s_carry_t));
    int rc = -1;
    if (!order || !scratch || !src || !packets || !flags)
        goto done;
    uint32_t max_src = 0;
    for (uint32_t l = 0; l < n; l++) {
        order [l] = (uint64_t) self->src [l] << 32 | l;
        max_src = self->src [l] > max_src ? self->src [l] : max_src;
    }
    s_radix (order, NULL, scratch, NULL, n, s_bits (n), s_bits ((uint64_t) max_src + 1));
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
    s_tab_init (&carry, sizeof (s_carry_t));
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
    store_pages_free (scratch, (size_t) n * sizeof *scratch);
    store_pages_free (src, cap * sizeof *src);
    store_pages_free (packets, cap * sizeof *packets);
    store_pages_free (flags, cap);
    s_tab_free (&carry);
    return rc;
}

//  Bits needed for values below n (0 for n <= 1).
static int
s_bits (uint64_t n)
{
    int bits = 0;
    while (bits < 64 && (n - 1) >> bits)
        bits++;
    return n <= 1 ? 0 : bits;
}

//  The radix sorts' digits: 11 bits, so a day of 30,000 sources and
//  100,000 pps sorts in 3 passes; every pass's counts, per thread.
enum { S_RADIX_BITS = 11, S_RADIX_BUCKETS = 1 << S_RADIX_BITS,
       S_RADIX_PASSES = (64 + S_RADIX_BITS - 1) / S_RADIX_BITS };
static __thread uint32_t s_radix_counts [S_RADIX_PASSES][S_RADIX_BUCKETS];

//  Turns a pass's counts of n keys into where each digit's keys start;
//  false when one digit (first's, the first key's) holds them all: the
//  pass moves nothing.
static bool
s_radix_starts (uint32_t *at, uint32_t n, uint32_t first)
{
    if (at [first] == n)
        return false;
    uint32_t sum = 0;
    for (int d = 0; d < S_RADIX_BUCKETS; d++) {
        uint32_t c = at [d];
        at [d] = sum;
        sum += c;
    }
    return true;
}

//  s_radix of keys alone whose packed form fits 32 bits (the usual day:
//  fewer than 2^15 sources and 2^17 pps): sorted as u32 in the 2n u32 of
//  scratch, half the bytes a pass moves, and unpacked back into keys.
static void
s_radix32 (uint64_t *keys, uint32_t *scratch, uint32_t n, int lo_bits, int passes)
{
    enum { MASK = S_RADIX_BUCKETS - 1 };
    uint32_t (*counts) [S_RADIX_BUCKETS] = s_radix_counts;
    memset (counts, 0, (size_t) passes * sizeof counts [0]);
    uint32_t *from = scratch, *to = scratch + n;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t c = (uint32_t) (keys [i] >> 32 << lo_bits | (uint32_t) keys [i]);
        from [i] = c;
        for (int p = 0; p < passes; p++)
            counts [p][(c >> (p * S_RADIX_BITS)) & MASK]++;
    }
    for (int p = 0; p < passes; p++) {
        int sh = p * S_RADIX_BITS;
        uint32_t *at = counts [p];
        if (!s_radix_starts (at, n, (from [0] >> sh) & MASK))
            continue;
        for (uint32_t i = 0; i < n; i++)
            to [at [(from [i] >> sh) & MASK]++] = from [i];
        uint32_t *t = from;
        from = to;
        to = t;
    }
    uint64_t lo_mask = ((uint64_t) 1 << lo_bits) - 1;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t c = from [i];
        keys [i] = (c >> lo_bits) << 32 | (c & lo_mask);
    }
}

//  Sorts keys [0, n) ascending (LSD radix, stable), vals (if not NULL)
//  along with them.  Only bits [0, lo_bits) and [32, 32 + hi_bits) of a
//  key may be set: the digits are taken from the key packed to lo_bits +
//  hi_bits bits (the pp above the local).  tk and tv are scratch of n.
static void
s_radix (uint64_t *keys, uint32_t *vals, uint64_t *tk, uint32_t *tv, uint32_t n,
         int lo_bits, int hi_bits)
{
    enum { MASK = S_RADIX_BUCKETS - 1 };
    int passes = (lo_bits + hi_bits + S_RADIX_BITS - 1) / S_RADIX_BITS;
    if (n == 0)
        return;
    if (!vals && lo_bits + hi_bits <= 32) {
        s_radix32 (keys, (uint32_t *) tk, n, lo_bits, passes);
        return;
    }
    uint64_t *from = keys, *to = tk;
    uint32_t *vfrom = vals, *vto = tv;
    //  Every pass's counts in one read of the keys.
    uint32_t (*counts) [S_RADIX_BUCKETS] = s_radix_counts;
    memset (counts, 0, (size_t) passes * sizeof counts [0]);
#define S_PACKED(k) ((k) >> 32 << lo_bits | (uint32_t) (k))
    for (uint32_t i = 0; i < n; i++) {
        uint64_t c = S_PACKED (keys [i]);
        for (int p = 0; p < passes; p++)
            counts [p][(c >> (p * S_RADIX_BITS)) & MASK]++;
    }
#define S_DIGIT(k) ((S_PACKED (k) >> sh) & MASK)
    for (int p = 0; p < passes; p++) {
        int sh = p * S_RADIX_BITS;
        uint32_t *at = counts [p];
        if (!s_radix_starts (at, n, (uint32_t) S_DIGIT (from [0])))
            continue;
        if (vals)
            for (uint32_t i = 0; i < n; i++) {
                uint32_t j = at [S_DIGIT (from [i])]++;
                to [j] = from [i];
                vto [j] = vfrom [i];
            }
        else
            for (uint32_t i = 0; i < n; i++)
                to [at [S_DIGIT (from [i])]++] = from [i];
        uint64_t *t = from;
        from = to;
        to = t;
        uint32_t *tv2 = vfrom;
        vfrom = vto;
        vto = tv2;
    }
#undef S_DIGIT
#undef S_PACKED
    if (from != keys) {
        memcpy (keys, from, (size_t) n * sizeof *keys);
        if (vals)
            memcpy (vals, vfrom, (size_t) n * sizeof *vals);
    }
}

//  The runs' entries as keys (pp << 32 | local), in run order, into keys.
static void
s_run_keys (const s_day_t *self, uint64_t *keys)
{
    for (uint32_t k = 0; k < self->n_dir; k++) {
        uint32_t end = k + 1 < self->n_dir ? self->dir [k + 1].start : self->n_sorted;
        uint64_t pp = (uint64_t) self->dir [k].pp << 32;
        for (uint32_t e = self->dir [k].start; e < end; e++)
            keys [e] = pp | self->run_local [e];
    }
}

//  Replaces the runs by n entries (keys sorted, packets alongside) and
//  their directory of n_dir rows; the old runs are freed.
static void
s_runs_take (s_day_t *self, uint32_t *locals, uint32_t *packets, uint32_t n, s_ppdir_t *dir,
             uint32_t n_dir)
{
    store_pages_free (self->run_local, (size_t) self->n_sorted * sizeof *self->run_local);
    store_pages_free (self->run_packets, (size_t) self->n_sorted * sizeof *self->run_packets);
    store_pages_free (self->dir, (size_t) self->n_dir * sizeof *self->dir);
    self->run_local = locals;
    self->run_packets = packets;
    self->n_sorted = n;
    self->dir = dir;
    self->n_dir = n_dir;
}

//  Merges the sorted log (n keys, equal keys adjacent) with the runs'
//  keys old (n_sorted, sorted): with out NULL, counts the entries and pps
//  of the result; else writes them (out_local, out_packets, out_dir; a
//  sum past 2^32 goes to the carries).  0, or -1 if a carry found no
//  memory (the counts are then short of it, as adding a record would be).
typedef struct {
    uint32_t *local, *packets;
    s_ppdir_t *dir;
} s_merge_out_t;

static int
s_merge (s_day_t *self, const uint64_t *log, uint32_t n, const uint64_t *old, s_merge_out_t *out,
         uint32_t *n_entries, uint32_t *n_pps)
{
    const uint64_t END = UINT64_MAX;
    uint32_t i = 0, j = 0, m = 0, k = 0, dk = 0;
    uint64_t last_pp = UINT64_MAX;
    int rc = 0;
    while (i < n || j < self->n_sorted) {
        uint64_t a = i < n ? log [i] : END;
        uint64_t b = j < self->n_sorted ? old [j] : END;
        uint64_t key = a < b ? a : b;
        uint64_t pp = key >> 32;
        if (pp != last_pp) {
            //  A new directory row: the old runs' total of pp, if any.
            if (out) {
                while (dk < self->n_dir && self->dir [dk].pp < pp)
                    dk++;
                uint64_t before = dk < self->n_dir && self->dir [dk].pp == pp ? self->dir [dk].packets : 0;
                out->dir [k] = (s_ppdir_t) { (uint32_t) pp, m, before };
            }
            k++;
            last_pp = pp;
        }
        uint64_t count = 0;
        while (i < n && log [i] == key) {
            count++;
            i++;
        }
        uint64_t low = 0;
        if (b == key)
            low = self->run_packets [j++];
        if (out) {
            uint64_t sum = low + count;
            out->local [m] = (uint32_t) key;
            out->packets [m] = (uint32_t) sum;
            out->dir [k - 1].packets += count;
            if (sum >> 32 && store_day_carry (self, (uint32_t) key, (uint32_t) pp))
                rc = -1;
        }
        m++;
    }
    *n_entries = m;
    *n_pps = k;
    return rc;
}

int
store_day_settle (s_day_t *self)
{
    uint32_t n = self->n_log;
    if (n == 0)
        return 0;
    uint64_t max_pp = 0;
    for (uint32_t i = 0; i < n; i++)
        if (self->log [i] >> 32 > max_pp)
            max_pp = self->log [i] >> 32;
    uint32_t n_old = self->n_sorted;
    size_t tmp_size = (size_t) n * sizeof (uint64_t);
    size_t old_size = (size_t) n_old * sizeof (uint64_t);
    uint64_t *tmp = store_pages_alloc (tmp_size);
    uint64_t *old = store_pages_alloc (old_size);
    uint32_t *locals = NULL, *packets = NULL;
    s_ppdir_t *dir = NULL;
    uint32_t m = 0, n_dir = 0;
    int rc = -1;
    if (!tmp || !old)
        goto done;
    s_radix (self->log, NULL, tmp, NULL, n, s_bits (self->n), s_bits (max_pp + 1));
    s_run_keys (self, old);
    s_merge (self, self->log, n, old, NULL, &m, &n_dir);
    locals = store_pages_alloc ((size_t) m * sizeof *locals);
    packets = store_pages_alloc ((size_t) m * sizeof *packets);
    dir = store_pages_alloc ((size_t) n_dir * sizeof *dir);
    if (!locals || !packets || !dir)
        goto done;
    s_merge_out_t out = { locals, packets, dir };
    rc = s_merge (self, self->log, n, old, &out, &m, &n_dir);
    s_runs_take (self, locals, packets, m, dir, n_dir);
    locals = packets = NULL;
    dir = NULL;
    self->n_log = 0;
done:
    store_pages_free (tmp, tmp_size);
    store_pages_free (old, old_size);
    store_pages_free (locals, (size_t) m * sizeof *locals);
    store_pages_free (packets, (size_t) m * sizeof *packets);
    store_pages_free (dir, (size_t) n_dir * sizeof *dir);
    return rc;
}

int
store_day_log_full (s_day_t *self)
{
    //  Up to S_LOG_MAX entries, or the runs' size, the log grows
    //  (doubling) before it is merged.
    uint64_t most = self->n_sorted > S_LOG_MAX ? self->n_sorted : S_LOG_MAX;
    if (most > UINT32_MAX / 2)
        most = UINT32_MAX / 2;
    uint32_t want = self->log_cap ? self->log_cap * 2 : S_LOG_MIN;
    if (self->log_cap >= most) {
        if (store_day_settle (self))
            return -1;
        if (self->n_log < self->log_cap)
            return 0;
    }
    if (want > most)
        want = (uint32_t) most;
    uint64_t *log = store_pages_alloc ((size_t) want * sizeof *log);
    if (!log)
        return self->log_cap && store_day_settle (self) == 0 ? 0 : -1;
    if (self->n_log)
        memcpy (log, self->log, (size_t) self->n_log * sizeof *log);
    store_pages_free (self->log, (size_t) self->log_cap * sizeof *self->log);
    self->log = log;
    self->log_cap = want;
    return 0;
}

//  Scratch of sorting a day's runs again.
typedef struct {
    uint64_t *keys, *tk;
    uint32_t *tv;
    size_t keys_size, vals_size;
} s_resort_t;

static int
s_resort_alloc (const s_day_t *self, s_resort_t *r)
{
    r->keys_size = (size_t) self->n_sorted * sizeof (uint64_t);
    r->vals_size = (size_t) self->n_sorted * sizeof (uint32_t);
    r->keys = store_pages_alloc (r->keys_size);
    r->tk = store_pages_alloc (r->keys_size);
    r->tv = store_pages_alloc (r->vals_size);
    return r->keys && r->tk && r->tv ? 0 : -1;
}

static void
s_resort_free (s_resort_t *r)
{
    store_pages_free (r->keys, r->keys_size);
    store_pages_free (r->tk, r->keys_size);
    store_pages_free (r->tv, r->vals_size);
}

//  Sorts each run by its local ids, mapped through new_of first unless
//  it is NULL.
static void
s_resort (s_day_t *self, const uint32_t *new_of, s_resort_t *r)
{
    uint32_t n = self->n_sorted;
    s_run_keys (self, r->keys);
    if (new_of)
        for (uint32_t e = 0; e < n; e++)
            r->keys [e] = (r->keys [e] & ~(uint64_t) UINT32_MAX) | new_of [(uint32_t) r->keys [e]];
    uint32_t max_pp = self->n_dir ? self->dir [self->n_dir - 1].pp : 0;
    s_radix (r->keys, self->run_packets, r->tk, r->tv, n, s_bits (self->n), s_bits ((uint64_t) max_pp + 1));
    for (uint32_t e = 0; e < n; e++)
        self->run_local [e] = (uint32_t) r->keys [e];
}

int
store_day_sort_runs (s_day_t *self)
{
    for (uint32_t k = 0; k < self->n_dir; k++) {
        uint32_t end = k + 1 < self->n_dir ? self->dir [k + 1].start : self->n_sorted;
        for (uint32_t e = self->dir [k].start + 1; e < end; e++)
            if (self->run_local [e] <= self->run_local [e - 1]) {
                s_resort_t r;
                int rc = s_resort_alloc (self, &r);
                if (rc == 0)
                    s_resort (self, NULL, &r);
                s_resort_free (&r);
                return rc;
            }
    }
    return 0;
}

//  Frees an open day's index and log and marks it sealed.
static void
s_sealed (s_day_t *self)
{
    store_pages_free (self->index, (size_t) self->index_cap * sizeof *self->index);
    store_pages_free (self->log, (size_t) self->log_cap * sizeof *self->log);
    self->index = NULL;
    self->index_cap = 0;
    self->log = NULL;
    self->log_cap = 0;
    self->sealed = true;
}

//  Seals a day whose entries are all in its log (no runs yet: the usual
//  day, never read while open): renumbers the locals first and the log's
//  keys with them, so the runs are sorted once.  0 or -1 (the day stays
//  open and usable).
static int
s_seal_log (s_day_t *self)
{
    size_t new_of_size = (size_t) self->n * sizeof (uint32_t);
    uint32_t *new_of = store_pages_alloc (new_of_size);
    if (!new_of || s_renumber (self, new_of)) {
        store_pages_free (new_of, new_of_size);
        return -1;
    }
    for (uint32_t i = 0; i < self->n_log; i++)
        self->log [i] = (self->log [i] & ~(uint64_t) UINT32_MAX) | new_of [(uint32_t) self->log [i]];
    store_pages_free (new_of, new_of_size);
    if (store_day_settle (self)) {
        store_day_reindex (self);   //  the locals changed (a failed rebuild
        return -1;                  //  is redone by the next record's lookup)
    }
    s_sealed (self);
    return 0;
}

int
store_day_seal (s_day_t *self)
{
    if (self->sealed)
        return 0;
    if (self->n_sorted == 0 && self->n_log)
        return s_seal_log (self);
    if (store_day_settle (self))
        return -1;
    //  Renumber the locals in ascending source id, then sort each run
    //  again by its new local ids.
    size_t new_of_size = (size_t) self->n * sizeof (uint32_t);
    uint32_t *new_of = store_pages_alloc (new_of_size);
    s_resort_t r;
    int rc = -1;
    if (s_resort_alloc (self, &r) || !new_of || s_renumber (self, new_of))
        goto done;
    s_resort (self, new_of, &r);
    s_sealed (self);
    rc = 0;
done:
    store_pages_free (new_of, new_of_size);
    s_resort_free (&r);
    return rc;
}

int
store_day_unseal (s_day_t *self)
{
    if (!self->sealed)
        return 0;
    if (s_index_build (self, self->n))
        return -1;
    self->sealed = false;
    return 0;
}

int
store_day_pp_runs (const s_day_t *d, store_run_fn *fn, void *arg)
{
    int rc = 0;
    for (uint32_t k = 0; k < d->n_dir && !rc; k++) {
        uint32_t end = k + 1 < d->n_dir ? d->dir [k + 1].start : d->n_sorted;
        rc = fn (arg, d->dir [k].pp, d->run_local + d->dir [k].start,
                 d->run_packets + d->dir [k].start, end - d->dir [k].start);
    }
    return rc;
}

size_t
store_day_memory (const s_day_t *self)
{
    return sizeof *self + (size_t) self->cap * (sizeof (uint32_t) + sizeof (uint64_t) + 1)
         + (size_t) self->index_cap * sizeof (uint32_t)
         + (size_t) self->log_cap * sizeof (uint64_t) + self->carry.cap * self->carry.esize
         + (size_t) self->n_sorted * 2 * sizeof (uint32_t) + (size_t) self->n_dir * sizeof (s_ppdir_t);
}
