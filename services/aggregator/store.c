/*  store.c - exact per-day aggregates of one shard; see store.h.

    Hash tables: open addressing, linear probing, power-of-two capacity,
    load <= 3/4, grown by doubling.  An entry's first 4 bytes are part of
    its key and are never 0xffffffff, which marks an empty slot.

    Layout, chosen for memory and per-record speed:
      - sources and (day, src) entries are dense arrays indexed by id, each
        with a hash index of u32 ids; a source remembers its latest (day,
        src) id, so most records skip that hash (records of a source arrive
        mostly in time order);
      - (day, src, pp) is a hash keyed by the 8 bytes (ds id, pp id | low
        13 bits of the day), 12 bytes per entry; a source remembers the slot
        of its latest (day, src, pp), which most records hit;
      - pps: a direct table indexed by (port + 1, proto), no hashing;
      - pattern bins are, per source, a vector of u64 sorted by minute:
        (minute - INT32_MIN) << 26 | microsecond of the first packet in that
        minute (< 60e6 < 2^26).  In-order minutes append; an older minute
        goes to an unsorted tail that is sorted and merged in (keeping the
        earliest microsecond) when it outgrows half the sorted part and
        before any query or checkpoint, so out-of-order input gives the same
        bins at amortised O(log n).  8 bytes per (source, minute).
*/
#include "store.h"
#include "tzday.h"
#include "log.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <zlib.h>
#include <time.h>

#define S_EMPTY         UINT32_MAX
#define S_MINUTE_US     60000000LL
#define S_MAX_DAYS      36600           //  longest window a query may ask
#define S_NAMES_MAX     65535
#define S_STREAMS_MAX   65536           //  distinct sensors a shard accepts
#define S_HOLES_MAX     4096            //  missing seq ranges a shard remembers
#define S_NO_CLASS      UINT16_MAX      //  name ids are < S_NAMES_MAX

//  ---------------------------------------------------------------------
//  Generic hash table of fixed-size entries

typedef struct {
    uint8_t *slots;
    size_t esize;                   //  bytes per entry
    size_t ksize;                   //  leading bytes that are the key (<= 12)
    size_t cap;                     //  slots, power of two (0 = none yet)
    size_t count;                   //  entries in use
} s_tab_t;

static inline uint64_t
s_mix (uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static inline uint64_t
s_key_hash (const uint8_t *key, size_t ksize)
{
    uint64_t a;
    memcpy (&a, key, 8);
    if (ksize <= 8)
        return s_mix (a);
    uint32_t b;
    memcpy (&b, key + 8, 4);
    return s_mix (a ^ s_mix (b + 0x9e3779b97f4a7c15ULL));
}

static inline uint32_t
s_first32 (const uint8_t *e)
{
    uint32_t v;
    memcpy (&v, e, 4);
    return v;
}

static void
s_tab_init (s_tab_t *t, size_t esize, size_t ksize)
{
    memset (t, 0, sizeof *t);
    t->esize = esize;
    t->ksize = ksize;
}

static int
s_tab_alloc (s_tab_t *t, size_t cap)
{
    uint8_t *slots = malloc (cap * t->esize);
    if (!slots)
        return -1;
    memset (slots, 0xff, cap * t->esize);
    t->slots = slots;
    t->cap = cap;
    return 0;
}

static int
s_tab_grow (s_tab_t *t)
{
    s_tab_t old = *t;
    if (s_tab_alloc (t, old.cap ? old.cap * 2 : 1024)) {
        *t = old;
        return -1;
    }
    size_t mask = t->cap - 1;
    for (size_t i = 0; i < old.cap; i++) {
        const uint8_t *e = old.slots + i * old.esize;
        if (s_first32 (e) == S_EMPTY)
            continue;
        size_t j = s_key_hash (e, t->ksize) & mask;
        while (s_first32 (t->slots + j * t->esize) != S_EMPTY)
            j = (j + 1) & mask;
        memcpy (t->slots + j * t->esize, e, t->esize);
    }
    free (old.slots);
    return 0;
}

//  Finds the entry of key, creating it (value bytes zeroed) if absent.
//  NULL if memory ran out.
static inline void *
s_tab_upsert_h (s_tab_t *t, const void *key, uint64_t hash)
{
    if ((t->count + 1) * 4 > t->cap * 3 && s_tab_grow (t))
        return NULL;
    size_t mask = t->cap - 1;
    size_t i = hash & mask;
    uint64_t k8;
    memcpy (&k8, key, 8);
    for (;;) {
        uint8_t *e = t->slots + i * t->esize;
        if (s_first32 (e) == S_EMPTY) {
            memcpy (e, key, t->ksize);
            memset (e + t->ksize, 0, t->esize - t->ksize);
            t->count++;
            return e;
        }
        uint64_t e8;
        memcpy (&e8, e, 8);
        if (e8 == k8 && (t->ksize == 8 || memcmp (e + 8, (const uint8_t *) key + 8, t->ksize - 8) == 0))
            return e;
        i = (i + 1) & mask;
    }
}

static inline void *
s_tab_upsert (s_tab_t *t, const void *key)
{
    return s_tab_upsert_h (t, key, s_key_hash (key, t->ksize));
}

//  Hints the cache about the slot where key (of hash) will be looked up.
static inline void
s_tab_prefetch (const s_tab_t *t, uint64_t hash)
{
    if (t->cap)
        __builtin_prefetch (t->slots + (hash & (t->cap - 1)) * t->esize, 1);
}

static void
s_tab_free (s_tab_t *t)
{
    free (t->slots);
    t->slots = NULL;
    t->cap = t->count = 0;
}

#define S_TAB_EACH(t, type, e) \
    for (type *e = (type *) (t)->slots; (t)->slots && e < (type *) (t)->slots + (t)->cap; e++) \
        if (s_first32 ((const uint8_t *) e) != S_EMPTY)

//  ---------------------------------------------------------------------
//  Entries

typedef struct {
    uint32_t src;
    int32_t day;
    uint32_t packets;
    uint32_t flags;                 //  OR of the records' flags that day
} s_day_src_t;                      //  16 bytes, by ds id; key (src, day)

typedef struct {
    uint32_t ds;                    //  (day, src) id
    uint32_t ppd;                   //  pp id | (day & 0x1fff) << 19
    uint32_t packets;
} s_day_src_pp_t;                   //  12 bytes, key (ds, ppd)

//  The low 13 bits of the day ride in the pp field (pp ids < 5 * 65537 <
//  2^19), so scans know an entry's day without reading its (day, src)
//  entry whenever the store spans fewer than 8192 days (S_DSP_DAY).
#define S_DSP_PP_BITS   19
#define S_DSP_PP(p)     ((p)->ppd & ((1u << S_DSP_PP_BITS) - 1))
#define S_DSP_PPD(pp, day) ((pp) | ((uint32_t) (day) & 0x1fffu) << S_DSP_PP_BITS)
#define S_DSP_DAY(self, p) ((self)->max_day - (self)->min_day < 8192 \
    ? (self)->min_day + (int32_t) ((((p)->ppd >> S_DSP_PP_BITS) - ((uint32_t) (self)->min_day & 0x1fffu)) & 0x1fffu) \
    : (self)->ds [(p)->ds].day)

//  A pattern bin: (minute - INT32_MIN) << 26 | first microsecond in it.
#define S_BIN_US_BITS   26
#define S_BIN_US_MASK   ((1ULL << S_BIN_US_BITS) - 1)
#define S_BIN_MINUTE(v) ((int32_t) ((int64_t) ((v) >> S_BIN_US_BITS) + INT32_MIN))
#define S_BIN_KEY(m)    ((uint64_t) ((int64_t) (m) - INT32_MIN) << S_BIN_US_BITS)

typedef struct {
    uint64_t *v;                    //  [0, sorted): strictly increasing minutes;
    uint32_t n, cap;                //  [sorted, n): an unsorted tail of late
    uint32_t sorted;                //  records (minutes may repeat), merged
} s_bins_t;                         //  in by s_bins_normalize; per source

//  Slot of (port, proto) in the direct pp table (port DS_PORT_NONE..65535).
#define S_PP_SLOTS          (65537 * DS_PROTO_COUNT)
#define S_PP_SLOT(port, proto) ((size_t) ((port) + 1) * DS_PROTO_COUNT + (proto))

typedef struct {
    int32_t port;                   //  DS_PORT_NONE or 0..65535
    uint16_t proto;
    uint16_t service;               //  name id
} s_pp_t;

typedef struct {
    ds_addr_t addr;
    uint16_t class_id;              //  name id of its GT class (last label)
    uint8_t gt;                     //  DS_FLAG_GT seen on its last record
    uint8_t pad;
    uint32_t last_ds;               //  its latest (day, src) id (a hint; not
                                    //  trusted: checked before use)
    int32_t last_day;               //  the day of last_ds
    uint32_t hint_pp;               //  latest pp of last_ds (S_EMPTY: none)
    uint32_t hint_slot;             //  and the dsp slot of (last_ds, hint_pp)
} s_src_t;                          //  36 bytes

typedef struct {
    uint32_t sensor;
    uint32_t eos;                   //  1 once its end-of-stream arrived
    uint64_t next_seq;              //  next expected batch seq
    uint64_t gaps;                  //  batches never received
    uint64_t batches;               //  batches applied
    uint64_t records;               //  records applied
    uint64_t replays;               //  batches ignored as replays
    uint64_t packets_read, non_ip, malformed, dropped;  //  from its EOS
} s_stream_t;

//  Seqs [lo, hi) of a sensor's stream that never arrived: counted in its
//  gaps, and applied if a replay of the input brings them after all.
typedef struct {
    uint32_t sensor;
    uint32_t pad;
    uint64_t lo, hi;
} s_hole_t;                         //  24 bytes

#define S_DAYCACHE 64                //  recent local days, by day & 63

struct _ds_store_t {
    uint32_t shard, shards;
    ds_daycache_t daycache [S_DAYCACHE];
    char **names;                   //  class and service names, store-wide
    uint32_t n_names, names_cap;
    uint16_t name_unknown, name_mirai;
    s_src_t *srcs;                  //  by src id
    uint32_t n_srcs, srcs_cap;
    uint32_t *src_index;            //  hash of addr -> src id (S_EMPTY free)
    size_t src_index_cap;
    s_bins_t *bins;                 //  by src id (srcs_cap entries)
    s_day_src_t *ds;                //  by ds id
    uint32_t n_ds, ds_cap;
    uint32_t *ds_index;             //  hash of (src, day) -> ds id
    size_t ds_index_cap;
    s_pp_t *pps;                    //  by pp id
    uint32_t n_pps, pps_cap;
    uint32_t *pp_direct;            //  by (port + 1) * 5 + proto: pp id + 1
    s_tab_t dsp_tab;
    uint64_t *scratch;              //  for merging bins
    size_t scratch_cap;
    s_stream_t *streams;
    uint32_t n_streams, streams_cap;
    s_hole_t *holes;                //  missing seq ranges, any order
    uint32_t n_holes, holes_cap;
    bool any;                       //  a record was seen
    int32_t min_day, max_day;
    uint64_t records;
    uint64_t generation;            //  bumped by every change (not saved)
};

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
    return s_mix (x ^ s_mix (y));
}

static int
s_src_index_grow (ds_store_t *self)
{
    size_t cap = self->src_index_cap ? self->src_index_cap * 2 : 1024;
    while (((size_t) self->n_srcs + 1) * 4 > cap * 3)
        cap *= 2;
    uint32_t *index = malloc (cap * sizeof *index);
    if (!index)
        return -1;
    memset (index, 0xff, cap * sizeof *index);
    for (uint32_t id = 0; id < self->n_srcs; id++) {
        size_t j = s_addr_hash (&self->srcs [id].addr) & (cap - 1);
        while (index [j] != S_EMPTY)
            j = (j + 1) & (cap - 1);
        index [j] = id;
    }
    free (self->src_index);
    self->src_index = index;
    self->src_index_cap = cap;
    return 0;
}

//  Src id of addr, created if new; S_EMPTY if memory ran out.
static inline uint32_t
s_src_id (ds_store_t *self, const ds_addr_t *addr)
{
    if (((size_t) self->n_srcs + 1) * 4 > self->src_index_cap * 3 && s_src_index_grow (self))
        return S_EMPTY;
    size_t mask = self->src_index_cap - 1;
    size_t j = s_addr_hash (addr) & mask;
    for (;;) {
        uint32_t id = self->src_index [j];
        if (id == S_EMPTY)
            break;
        uint64_t a0, a1, b0, b1;
        memcpy (&a0, self->srcs [id].addr.b, 8);
        memcpy (&a1, self->srcs [id].addr.b + 8, 8);
        memcpy (&b0, addr->b, 8);
        memcpy (&b1, addr->b + 8, 8);
        if (a0 == b0 && a1 == b1)
            return id;
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
    self->srcs [id].last_ds = S_EMPTY;
    self->srcs [id].hint_pp = S_EMPTY;
    self->src_index [j] = id;
    return id;
}

static inline uint64_t
s_ds_hash (uint32_t src, int32_t day)
{
    return s_mix (((uint64_t) src << 32) | (uint32_t) day);
}

static int
s_ds_index_grow (ds_store_t *self)
{
    size_t cap = self->ds_index_cap ? self->ds_index_cap * 2 : 1024;
    while (((size_t) self->n_ds + 1) * 4 > cap * 3)
        cap *= 2;
    uint32_t *index = malloc (cap * sizeof *index);
    if (!index)
        return -1;
    memset (index, 0xff, cap * sizeof *index);
    for (uint32_t id = 0; id < self->n_ds; id++) {
        size_t j = s_ds_hash (self->ds [id].src, self->ds [id].day) & (cap - 1);
        while (index [j] != S_EMPTY)
            j = (j + 1) & (cap - 1);
        index [j] = id;
    }
    free (self->ds_index);
    self->ds_index = index;
    self->ds_index_cap = cap;
    return 0;
}

//  (day, src) id, created if new (zero counts); S_EMPTY if memory ran out.
static inline uint32_t
s_ds_id (ds_store_t *self, uint32_t src, int32_t day)
{
    s_src_t *s = &self->srcs [src];
    if (s->last_ds != S_EMPTY && s->last_day == day)
        return s->last_ds;
    if (((size_t) self->n_ds + 1) * 4 > self->ds_index_cap * 3 && s_ds_index_grow (self))
        return S_EMPTY;
    size_t mask = self->ds_index_cap - 1;
    size_t j = s_ds_hash (src, day) & mask;
    for (;;) {
        uint32_t id = self->ds_index [j];
        if (id == S_EMPTY)
            break;
        if (self->ds [id].src == src && self->ds [id].day == day) {
            s->last_ds = id;
            s->last_day = day;
            s->hint_pp = S_EMPTY;
            return id;
        }
        j = (j + 1) & mask;
    }
    if (self->n_ds == self->ds_cap) {
        if (self->ds_cap >= UINT32_MAX / 2)
            return S_EMPTY;
        uint32_t cap = self->ds_cap ? self->ds_cap * 2 : 1024;
        s_day_src_t *ds = realloc (self->ds, (size_t) cap * sizeof *ds);
        if (!ds)
            return S_EMPTY;
        self->ds = ds;
        self->ds_cap = cap;
    }
    uint32_t id = self->n_ds++;
    self->ds [id] = (s_day_src_t) { src, day, 0, 0 };
    self->ds_index [j] = id;
    s->last_ds = id;
    s->last_day = day;
    s->hint_pp = S_EMPTY;
    return id;
}

static int
s_cmp_u64v (const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
    return x < y ? -1 : x > y;
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
    qsort (tail, nt, sizeof *tail, s_cmp_u64v);
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
    return 0;
}

static int
s_bins_normalize_all (ds_store_t *self)
{
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
    if (b->n) {
        uint64_t lastkey = b->v [b->n - 1] & ~S_BIN_US_MASK;
        if (key == lastkey) {
            if (us < (b->v [b->n - 1] & S_BIN_US_MASK))
                b->v [b->n - 1] = key | us;
            return 0;
        }
    }
    bool in_order = b->sorted == b->n && (b->n == 0 || key > (b->v [b->n - 1] & ~S_BIN_US_MASK));
    if (b->n == b->cap) {
        if (b->cap >= UINT32_MAX / 2)
            return -1;
        uint32_t cap = b->cap < 4 ? 4 : b->cap + b->cap / 2;
        uint64_t *v = realloc (b->v, (size_t) cap * sizeof *v);
        if (!v)
            return -1;
        b->v = v;
        b->cap = cap;
    }
    b->v [b->n++] = key | us;
    if (in_order)
        b->sorted = b->n;
    else
    if (b->n - b->sorted > 16 + b->sorted / 2)
        return s_bins_normalize (self, b);
    return 0;
}

//  Pp id of (port, proto), created if new; S_EMPTY if memory ran out.
static inline uint32_t
s_pp_id (ds_store_t *self, int32_t port, uint32_t proto)
{
    uint32_t *e = &self->pp_direct [S_PP_SLOT (port, proto)];
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
        *e = ++self->n_pps;
    }
    return *e - 1;
}

static s_stream_t *
s_stream (ds_store_t *self, uint32_t sensor)
{
    for (uint32_t i = 0; i < self->n_streams; i++)
        if (self->streams [i].sensor == sensor)
            return &self->streams [i];
    if (self->n_streams == S_STREAMS_MAX)
        return NULL;                //  a flood of sensor ids is refused
    if (self->n_streams == self->streams_cap) {
        uint32_t cap = self->streams_cap ? self->streams_cap * 2 : 8;
        s_stream_t *streams = realloc (self->streams, cap * sizeof *streams);
        if (!streams)
            return NULL;
        self->streams = streams;
        self->streams_cap = cap;
    }
    s_stream_t *s = &self->streams [self->n_streams++];
    memset (s, 0, sizeof *s);
    s->sensor = sensor;
    return s;
}

//  ---------------------------------------------------------------------
//  Life cycle

static ds_store_t *
s_store_alloc (uint32_t shard, uint32_t shards)
{
    ds_store_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->shard = shard;
    self->shards = shards;
    //  Generations start at a value unique to this store instance, so a
    //  restarted aggregator never repeats an old (shard, generation) pair.
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    self->generation = s_mix (((uint64_t) now.tv_sec * 1000000000ULL + (uint64_t) now.tv_nsec)
                              ^ ((uint64_t) getpid () << 40) ^ (uint64_t) (uintptr_t) self) >> 8;
    for (int i = 0; i < S_DAYCACHE; i++)
        ds_daycache_init (&self->daycache [i]);
    self->pp_direct = calloc (S_PP_SLOTS, sizeof (uint32_t));
    if (!self->pp_direct) {
        free (self);
        return NULL;
    }
    s_tab_init (&self->dsp_tab, sizeof (s_day_src_pp_t), 8);
    return self;
}

ds_store_t *
ds_store_new (uint32_t shard, uint32_t shards)
{
    ds_store_t *self = s_store_alloc (shard, shards);
    if (!self)
        return NULL;
    int unknown = s_name_id (self, "unknown");
    int mirai = s_name_id (self, "mirai");
    if (unknown < 0 || mirai < 0 || s_src_index_grow (self) || s_ds_index_grow (self)) {
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
    for (uint32_t i = 0; i < self->n_names; i++)
        free (self->names [i]);
    free (self->names);
    if (self->bins)
        for (uint32_t i = 0; i < self->n_srcs; i++)
            free (self->bins [i].v);
    free (self->bins);
    free (self->scratch);
    free (self->srcs);
    free (self->src_index);
    free (self->ds);
    free (self->ds_index);
    free (self->pps);
    free (self->pp_direct);
    s_tab_free (&self->dsp_tab);
    free (self->streams);
    free (self->holes);
    free (self);
    *self_p = NULL;
}

//  ---------------------------------------------------------------------
//  Adding records

static inline int64_t s_floor_div (int64_t a, int64_t b);

//  Local day of ts.  Records of many days interleave (several sensors,
//  reordered captures), so recent days are cached by day number: a ts of
//  UTC day u lies in local day u-1, u or u+1, and each cached entry's
//  bounds are checked, so the answer is always ds_day_of's.
static inline int32_t
s_day_of (ds_store_t *self, int64_t ts)
{
    int64_t u = s_floor_div (ts, 86400000000LL);
    for (int64_t d = u; d <= u + 1; d++) {
        ds_daycache_t *c = &self->daycache [(uint64_t) d & (S_DAYCACHE - 1)];
        if (ts >= c->lo && ts < c->hi)
            return c->day;
    }
    ds_daycache_t *c = &self->daycache [(uint64_t) (u - 1) & (S_DAYCACHE - 1)];
    if (ts >= c->lo && ts < c->hi)
        return c->day;
    ds_daycache_t fresh;
    ds_daycache_init (&fresh);
    int32_t day = ds_day_of (&fresh, ts);
    self->daycache [(uint32_t) day & (S_DAYCACHE - 1)] = fresh;
    return day;
}

static inline int64_t
s_floor_div (int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
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
    //  Records go in chunks: first each record's source, pp and (day, src)
    //  are resolved while the (day, src) entries, (day, src, pp) slots and
    //  bin vectors are prefetched, then those are updated, so the cache
    //  misses of a chunk overlap instead of queueing.  The source index is
    //  prefetched two chunks ahead, the sources and pp slots one ahead.
    enum { CHUNK = 16 };
    for (uint32_t base = 0; base < b->count; base += CHUNK) {
        uint32_t n = b->count - base < CHUNK ? b->count - base : CHUNK;
        uint32_t pf_from = base == 0 ? 0 : base + 2 * CHUNK;
        uint32_t pf_to = base + 3 * CHUNK < b->count ? base + 3 * CHUNK : b->count;
        for (uint32_t i = pf_from; i < pf_to; i++)
            __builtin_prefetch (&self->src_index [s_addr_hash (&b->src [i])
                                                  & (self->src_index_cap - 1)]);
        uint32_t next_to = base + 2 * CHUNK < b->count ? base + 2 * CHUNK : b->count;
        for (uint32_t i = base + CHUNK; i < next_to; i++) {
            uint32_t id = self->src_index [s_addr_hash (&b->src [i]) & (self->src_index_cap - 1)];
            if (id < self->n_srcs)
                __builtin_prefetch (&self->srcs [id]);
            if (b->port [i] >= DS_PORT_NONE && b->port [i] <= 65535 && b->proto [i] < DS_PROTO_COUNT)
                __builtin_prefetch (&self->pp_direct [S_PP_SLOT (b->port [i], b->proto [i])]);
        }
        s_day_src_pp_t pkey [CHUNK];
        uint64_t ph [CHUNK];
        uint32_t srcv [CHUNK], off [CHUNK];
        uint8_t flagv [CHUNK];
        int32_t minv [CHUNK];
        for (uint32_t j = 0; j < n; j++) {
            uint32_t i = base + j;
            int64_t ts = b->ts [i];
            uint32_t src = s_src_id (self, &b->src [i]);
            if (src == S_EMPTY)
                return -1;
            uint32_t proto = b->proto [i] < DS_PROTO_COUNT ? b->proto [i] : DS_PROTO_OTH;
            int32_t port = b->port [i] >= 0 && b->port [i] <= 65535 ? b->port [i] : DS_PORT_NONE;
            uint32_t pp = s_pp_id (self, port, proto);
            if (pp == S_EMPTY)
                return -1;
            uint8_t flags = b->flags [i];
            s_src_t *s = &self->srcs [src];
            if (n_classes) {
                uint16_t c = b->class_id [i];
                s->class_id = c < n_classes ? cmap [c] : self->name_unknown;
            }
            s->gt = (flags & DS_FLAG_GT) ? 1 : 0;
            if (n_services) {
                uint16_t v = b->service_id [i];
                self->pps [pp].service = v < n_services ? smap [v] : self->name_unknown;
            }
            int32_t day = s_day_of (self, ts);
            if (!self->any || day < self->min_day)
                self->min_day = day;
            if (!self->any || day > self->max_day)
                self->max_day = day;
            self->any = true;
            uint32_t ds = s_ds_id (self, src, day);
            if (ds == S_EMPTY)
                return -1;
            __builtin_prefetch (&self->ds [ds], 1);
            flagv [j] = flags;
            pkey [j] = (s_day_src_pp_t) { ds, S_DSP_PPD (pp, day), 0 };
            //  The slot of the (day, src)'s latest pp: most records repeat
            //  it (checked in the second loop); otherwise hash the key.
            s = &self->srcs [src];
            uint32_t slot = s->hint_slot;
            if (s->hint_pp == pp && s->last_ds == ds && slot < self->dsp_tab.cap) {
                ph [j] = slot;
                __builtin_prefetch ((const s_day_src_pp_t *) self->dsp_tab.slots + slot, 1);
            }
            else {
                ph [j] = s_key_hash ((const uint8_t *) &pkey [j], 8) | ((uint64_t) 1 << 63);
                s_tab_prefetch (&self->dsp_tab, ph [j]);
            }
            srcv [j] = src;
            int64_t minute = s_floor_div (ts, S_MINUTE_US);
            if (minute >= INT32_MIN && minute <= INT32_MAX) {
                minv [j] = (int32_t) minute;
                off [j] = (uint32_t) (ts - minute * S_MINUTE_US);
                const s_bins_t *bv = &self->bins [src];
                if (bv->n)
                    __builtin_prefetch (bv->v + bv->n - 1, 1);
            }
            else
                off [j] = UINT32_MAX;   //  no pattern bin for absurd times
        }
        for (uint32_t j = 0; j < n; j++) {
            s_day_src_pp_t *p = NULL;
            if (!(ph [j] >> 63)) {
                //  A known slot, unless an upsert of this chunk grew the table.
                p = (s_day_src_pp_t *) self->dsp_tab.slots + ph [j];
                if (ph [j] >= self->dsp_tab.cap || p->ds != pkey [j].ds || p->ppd != pkey [j].ppd)
                    p = NULL;
            }
            if (!p) {
                p = s_tab_upsert_h (&self->dsp_tab, &pkey [j], (ph [j] >> 63)
                                    ? ph [j] & ~((uint64_t) 1 << 63)
                                    : s_key_hash ((const uint8_t *) &pkey [j], 8));
                if (!p)
                    return -1;
                s_src_t *s = &self->srcs [srcv [j]];
                if (s->last_ds == pkey [j].ds) {
                    s->hint_pp = S_DSP_PP (&pkey [j]);
                    s->hint_slot = (uint32_t) (p - (s_day_src_pp_t *) self->dsp_tab.slots);
                }
            }
            p->packets++;
            self->ds [pkey [j].ds].packets++;
            self->ds [pkey [j].ds].flags |= flagv [j];
            if (off [j] != UINT32_MAX && s_bins_add (self, &self->bins [srcv [j]], minv [j], off [j]))
                return -1;
            self->records++;
        }
    }
    return 0;
}

//  Makes room for one more hole; -1 if there is none (S_HOLES_MAX or no
//  memory: the seqs concerned then stay gaps for good).
static int
s_holes_reserve (ds_store_t *self)
{
    if (self->n_holes < self->holes_cap)
        return 0;
    if (self->n_holes >= S_HOLES_MAX)
        return -1;
    uint32_t cap = self->holes_cap ? self->holes_cap * 2 : 8;
    if (cap > S_HOLES_MAX)
        cap = S_HOLES_MAX;
    s_hole_t *holes = realloc (self->holes, cap * sizeof *holes);
    if (!holes)
        return -1;
    self->holes = holes;
    self->holes_cap = cap;
    return 0;
}

//  Remembers the missing seqs [lo, hi) of a sensor (already counted as
//  gaps) so that a replay can fill them.
static void
s_hole_add (ds_store_t *self, uint32_t sensor, uint64_t lo, uint64_t hi)
{
    if (lo < hi && s_holes_reserve (self) == 0)
        self->holes [self->n_holes++] = (s_hole_t) { sensor, 0, lo, hi };
}

//  Index of the hole holding a sensor's seq, or UINT32_MAX.  Linear, but
//  only batches older than expected get here and holes are few.
static uint32_t
s_hole_find (ds_store_t *self, uint32_t sensor, uint64_t seq)
{
    for (uint32_t i = 0; i < self->n_holes; i++)
        if (self->holes [i].sensor == sensor && seq >= self->holes [i].lo && seq < self->holes [i].hi)
            return i;
    return UINT32_MAX;
}

//  Applies a batch that arrives older than expected: if its seq is in one
//  of the stream's holes (a missing batch, late: the input replayed after
//  a crash or restart) it is applied and its gap filled; anything else was
//  applied already and is a replay.  Returns as ds_store_apply.
static int
s_apply_late (ds_store_t *self, s_stream_t *s, const ds_batch_t *labelled)
{
    uint64_t seq = labelled->seq;
    uint32_t h = s_hole_find (self, labelled->sensor, seq);
    bool split = h != UINT32_MAX && seq > self->holes [h].lo && seq + 1 < self->holes [h].hi;
    if (h == UINT32_MAX || (split && s_holes_reserve (self))) {
        //  Not missing, or a split with no room left: the rest of that
        //  hole stays gaps, so this one must not be applied either (at
        //  most once holds; the gap count stays exact).
        s->replays++;
        self->generation++;         //  the status shows replays
        return 0;
    }
    if (ds_store_add_batch (self, labelled))
        return -1;
    s_hole_t *hole = &self->holes [h];  //  after the reserve's realloc
    if (split) {
        self->holes [self->n_holes++] = (s_hole_t) { hole->sensor, 0, seq + 1, hole->hi };
        hole->hi = seq;
    }
    else
    if (seq == hole->lo)
        hole->lo++;
    else
        hole->hi--;
    if (hole->lo == hole->hi)
        *hole = self->holes [--self->n_holes];
    s->gaps--;
    s->batches++;
    s->records += labelled->count;
    return 1;
}

int
ds_store_apply (ds_store_t *self, const ds_batch_t *labelled)
{
    s_stream_t *s = labelled->seq < UINT64_MAX ? s_stream (self, labelled->sensor) : NULL;
    if (!s)
        return -1;                  //  seq UINT64_MAX would wrap next_seq
    if (labelled->seq < s->next_seq)
        return s_apply_late (self, s, labelled);
    if (ds_store_add_batch (self, labelled))
        return -1;
    s->gaps += labelled->seq - s->next_seq;
    s_hole_add (self, labelled->sensor, s->next_seq, labelled->seq);
    s->next_seq = labelled->seq + 1;
    s->batches++;
    s->records += labelled->count;
    return 1;
}

void
ds_store_eos (ds_store_t *self, const ds_eos_t *eos)
{
    s_stream_t *s = s_stream (self, eos->sensor);
    if (!s)
        return;
    self->generation++;
    if (!s->eos && eos->batches > s->next_seq) {
        //  Batches announced but never received are gaps (remembered as a
        //  hole: a replay of the input may still fill them).
        s->gaps += eos->batches - s->next_seq;
        s_hole_add (self, eos->sensor, s->next_seq, eos->batches);
        s->next_seq = eos->batches;
    }
    s->eos = 1;
    s->packets_read = eos->packets_read;
    s->non_ip = eos->non_ip;
    s->malformed = eos->malformed;
    s->dropped = eos->dropped;
}

uint32_t
ds_store_eos_count (ds_store_t *self)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < self->n_streams; i++)
        n += self->streams [i].eos ? 1 : 0;
    return n;
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
    size_t bins = 0;
    for (uint32_t i = 0; i < self->n_srcs; i++)
        bins += (size_t) self->bins [i].cap * sizeof (uint64_t);
    return S_PP_SLOTS * sizeof (uint32_t) + self->dsp_tab.cap * self->dsp_tab.esize + bins
         + (size_t) self->srcs_cap * (sizeof (s_src_t) + sizeof (s_bins_t))
         + self->src_index_cap * sizeof (uint32_t)
         + (size_t) self->ds_cap * sizeof (s_day_src_t)
         + self->ds_index_cap * sizeof (uint32_t)
         + (size_t) self->pps_cap * sizeof (s_pp_t);
}

//  ---------------------------------------------------------------------
//  Partial answers

static void
s_pack_str (msgpack_packer *pk, const char *s)
{
    size_t n = strlen (s);
    msgpack_pack_str (pk, n);
    msgpack_pack_str_body (pk, s, n);
}

static void
s_err (char *err, size_t size, const char *fmt, const char *arg)
{
    if (err && size)
        snprintf (err, size, fmt, arg);
}

//  Resolves q's window against this store (explicit days win).
static int
s_window (ds_store_t *self, const ds_query_t *q, int32_t *first, int32_t *last,
          char *err, size_t err_size)
{
    if (q->first_day [0]) {
        if (ds_day_parse (q->first_day, first)) {
            s_err (err, err_size, "bad first_day '%s' (want YYYY-MM-DD)", q->first_day);
            return -1;
        }
    }
    else
    if (self->any)
        *first = self->min_day;
    else {
        s_err (err, err_size, "%s", "no data: give first_day and last_day");
        return -1;
    }
    if (q->last_day [0]) {
        if (ds_day_parse (q->last_day, last)) {
            s_err (err, err_size, "bad last_day '%s' (want YYYY-MM-DD)", q->last_day);
            return -1;
        }
    }
    else
    if (self->any)
        *last = self->max_day;
    else {
        s_err (err, err_size, "%s", "no data: give first_day and last_day");
        return -1;
    }
    if (*first > *last) {
        s_err (err, err_size, "%s", "first_day is after last_day");
        return -1;
    }
    if ((int64_t) *last - *first >= S_MAX_DAYS) {
        s_err (err, err_size, "%s", "window longer than 36600 days");
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
    if (s_window (self, q, &first, &last, err, err_size))
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
        s_err (err, err_size, "%s", "out of memory");
    free (pw); free (pc); free (fday); free (mir); free (rc); free (daily); free (hist);
    free (wpk); free (lpk); free (lsrc); free (csend); free (cpk);
    free (cpp); free (csv); free (dsc);
    return rv;
}

typedef struct {
    uint32_t src;
    int64_t bin;
} s_point_t;

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

//  The pattern partial: {"s": [addr, first_ts, ...], "p": [bin, index, ...]}
//  (flat arrays; index into the shard's own source list "s").
static int
s_part_pattern (ds_store_t *self, const ds_query_t *q, msgpack_packer *pk, char *err, size_t err_size)
{
    int32_t first, last;
    if (s_window (self, q, &first, &last, err, err_size))
        return -1;
    if (q->bin_s <= 0 || q->bin_s % 60 || q->bin_s > 366LL * 86400) {
        s_err (err, err_size, "%s", "bin_s must be a positive multiple of 60 (at most 366 days)");
        return -1;
    }
    if ((q->from_us != INT64_MIN && q->from_us % S_MINUTE_US)
    ||  (q->to_us != INT64_MAX && q->to_us % S_MINUTE_US)) {
        s_err (err, err_size, "%s", "from_us and to_us must be multiples of 60 s (60000000 us)");
        return -1;
    }
    int64_t dlo = ds_day_start_us (first), dhi = ds_day_start_us (last + 1);
    if (dlo % S_MINUTE_US || dhi % S_MINUTE_US) {
        s_err (err, err_size, "%s", "this time zone's midnight is not on a minute boundary");
        return -1;
    }
    int64_t lo = q->from_us > dlo ? q->from_us : dlo;
    int64_t hi = q->to_us < dhi ? q->to_us : dhi;
    int64_t bin_us = q->bin_s * 1000000;
    size_t n = self->n_srcs ? self->n_srcs : 1;
    int64_t *firsts = malloc (n * sizeof *firsts);
    uint8_t *ok = malloc (n);
    uint32_t *index = malloc (n * sizeof *index);
    uint32_t *from = malloc (n * sizeof *from);
    s_point_t *points = NULL;
    int rv = -1;
    if (!firsts || !ok || !index || !from || s_bins_normalize_all (self))
        goto done;
    //  Class filter: the source's class resolved over the window.
    if (q->class_name [0]) {
        memset (ok, 0, n);
        for (const s_day_src_t *d = self->ds; d < self->ds + self->n_ds; d++)
            if (d->day >= first && d->day <= last && (d->flags & DS_FLAG_MIRAI))
                ok [d->src] = 1;
        for (uint32_t s = 0; s < self->n_srcs; s++) {
            const s_src_t *src = &self->srcs [s];
            const char *name = src->gt ? self->names [src->class_id] : ok [s] ? "mirai" : "unknown";
            ok [s] = strcmp (name, q->class_name) == 0;
        }
    }
    else
        memset (ok, 1, n);
    for (size_t i = 0; i < n; i++)
        firsts [i] = INT64_MAX;
    //  Each source's bins are sorted by minute: binary search for the
    //  range's minutes [mlo, mhi) (lo and hi are multiples of a minute);
    //  the points come out sorted by (source, bin).
    int64_t mlo = lo / S_MINUTE_US, mhi = hi / S_MINUTE_US;
    size_t np = 0;
    for (uint32_t s = 0; s < self->n_srcs; s++) {
        if (!ok [s] || lo >= hi) {
            from [s] = index [s] = 0;
            continue;
        }
        from [s] = s_bins_lower (&self->bins [s], mlo);
        index [s] = s_bins_lower (&self->bins [s], mhi);   //  end, for now
        np += index [s] - from [s];
    }
    points = malloc ((np ? np : 1) * sizeof *points);
    if (!points)
        goto done;
    size_t nu = 0;
    for (uint32_t s = 0; s < self->n_srcs; s++) {
        const uint64_t *v = self->bins [s].v;
        for (uint32_t k = from [s]; k < index [s]; k++) {
            int64_t start = (int64_t) S_BIN_MINUTE (v [k]) * S_MINUTE_US;
            if (k == from [s])
                firsts [s] = start + (int64_t) (v [k] & S_BIN_US_MASK);
            int64_t bin = s_floor_div (start, bin_us) * bin_us;
            if (nu == 0 || points [nu - 1].src != s || points [nu - 1].bin != bin)
                points [nu++] = (s_point_t) { s, bin };
        }
    }
    uint32_t nsel = 0;
    for (uint32_t s = 0; s < self->n_srcs; s++)
        if (firsts [s] != INT64_MAX)
            index [s] = nsel++;
    msgpack_pack_map (pk, 2);
    s_pack_str (pk, "s");
    msgpack_pack_array (pk, (size_t) nsel * 2);
    for (uint32_t s = 0; s < self->n_srcs; s++)
        if (firsts [s] != INT64_MAX) {
            msgpack_pack_bin (pk, 16);
            msgpack_pack_bin_body (pk, self->srcs [s].addr.b, 16);
            msgpack_pack_int64 (pk, firsts [s]);
        }
    s_pack_str (pk, "p");
    msgpack_pack_array (pk, nu * 2);
    for (size_t i = 0; i < nu; i++) {
        msgpack_pack_int64 (pk, points [i].bin);
        msgpack_pack_uint32 (pk, index [points [i].src]);
    }
    rv = 0;
done:
    if (rv)
        s_err (err, err_size, "%s", "out of memory");
    free (firsts); free (ok); free (index); free (from); free (points);
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
    if (s_window (self, q, &first, &last, err, err_size))
        return -1;
    if (s_parse_pps (q->part, ports, protos, &n)) {
        s_err (err, err_size, "bad pp list '%s' (want pps:PORT.PROTO,...)", q->part);
        return -1;
    }
    uint64_t counts [3] = { 0, 0, 0 };
    size_t words = ((size_t) self->n_srcs + 63) / 64;
    uint64_t *seen = calloc ((size_t) (n ? n : 1) * (words ? words : 1), sizeof *seen);
    if (!seen) {
        s_err (err, err_size, "%s", "out of memory");
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
        s_err (err, err_size, "%s", "out of memory");
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
    { "pattern",  s_part_pattern },
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
    s_err (err, err_size, "unknown partial '%s'", q->part);
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

//  ---------------------------------------------------------------------
//  Checkpoints
//
//  File layout (host byte order: a checkpoint is local state, not a wire
//  format; the magic catches a file from a machine of other endianness):
//    header  s_ckpt_header_t (magic "DSKCKPT", version, shard, shards, tz,
//            body length, CRC32 of the body)
//    body    names: u32 n, then n x (u16 len, bytes); u16 unknown, mirai id
//            sources: u32 n, n x s_src_t;  pps: u32 n, n x s_pp_t
//            (day, src): u32 n, n x s_day_src_t
//            (day, src, pp) table: u64 cap, u64 count, cap x entry
//            bins: per source, u32 n, n x u64
//            streams: u32 n, n x s_stream_t
//            holes (missing seq ranges, version 3): u32 n, n x s_hole_t
//            u8 any, i32 min_day, i32 max_day, u64 records

#define S_CKPT_MAGIC    "DSKCKPT"
#define S_CKPT_VERSION  3             //  3: holes after the streams

typedef struct {
    char magic [8];
    uint32_t version;
    uint32_t shard;
    uint32_t shards;
    uint32_t crc;                   //  CRC32 (zlib) of the body
    uint64_t body_len;
    char tz [128];
} s_ckpt_header_t;

typedef struct {
    FILE *file;
    uLong crc;
    uint64_t len;                   //  body bytes written / remaining
    bool failed;
} s_io_t;

static void
s_put (s_io_t *io, const void *data, size_t size)
{
    if (io->failed || size == 0)
        return;
    if (fwrite (data, 1, size, io->file) != size) {
        io->failed = true;
        return;
    }
    //  crc32 takes a uInt length: feed it in slices.
    const uint8_t *p = data;
    for (size_t done = 0; done < size; ) {
        size_t chunk = size - done > (1u << 30) ? (1u << 30) : size - done;
        io->crc = crc32 (io->crc, p + done, (uInt) chunk);
        done += chunk;
    }
    io->len += size;
}

static void
s_put_tab (s_io_t *io, const s_tab_t *t)
{
    uint64_t cap = t->cap, count = t->count;
    s_put (io, &cap, 8);
    s_put (io, &count, 8);
    s_put (io, t->slots, t->cap * t->esize);
}

int
ds_store_save (ds_store_t *self, const char *path, char *err, size_t err_size)
{
    char tmp [4096];
    if (snprintf (tmp, sizeof tmp, "%s.tmp", path) >= (int) sizeof tmp) {
        s_err (err, err_size, "checkpoint path too long: %s", path);
        return -1;
    }
    if (s_bins_normalize_all (self)) {
        s_err (err, err_size, "cannot write checkpoint %s: out of memory", path);
        return -1;
    }
    FILE *file = fopen (tmp, "wb");
    if (!file) {
        snprintf (err, err_size, "cannot write checkpoint %s: %s", tmp, strerror (errno));
        return -1;
    }
    s_ckpt_header_t header;
    memset (&header, 0, sizeof header);
    memcpy (header.magic, S_CKPT_MAGIC, 8);
    header.version = S_CKPT_VERSION;
    header.shard = self->shard;
    header.shards = self->shards;
    snprintf (header.tz, sizeof header.tz, "%s", ds_tz_name ());
    bool failed = fwrite (&header, sizeof header, 1, file) != 1;

    s_io_t io = { file, crc32 (0, Z_NULL, 0), 0, failed };
    s_put (&io, &self->n_names, 4);
    for (uint32_t i = 0; i < self->n_names; i++) {
        uint16_t len = (uint16_t) strlen (self->names [i]);
        s_put (&io, &len, 2);
        s_put (&io, self->names [i], len);
    }
    s_put (&io, &self->name_unknown, 2);
    s_put (&io, &self->name_mirai, 2);
    s_put (&io, &self->n_srcs, 4);
    s_put (&io, self->srcs, (size_t) self->n_srcs * sizeof (s_src_t));
    s_put (&io, &self->n_pps, 4);
    s_put (&io, self->pps, (size_t) self->n_pps * sizeof (s_pp_t));
    s_put (&io, &self->n_ds, 4);
    s_put (&io, self->ds, (size_t) self->n_ds * sizeof (s_day_src_t));
    s_put_tab (&io, &self->dsp_tab);
    for (uint32_t i = 0; i < self->n_srcs; i++) {
        s_put (&io, &self->bins [i].n, 4);
        s_put (&io, self->bins [i].v, (size_t) self->bins [i].n * sizeof (uint64_t));
    }
    s_put (&io, &self->n_streams, 4);
    s_put (&io, self->streams, (size_t) self->n_streams * sizeof (s_stream_t));
    s_put (&io, &self->n_holes, 4);
    s_put (&io, self->holes, (size_t) self->n_holes * sizeof (s_hole_t));
    uint8_t any = self->any;
    s_put (&io, &any, 1);
    s_put (&io, &self->min_day, 4);
    s_put (&io, &self->max_day, 4);
    s_put (&io, &self->records, 8);

    header.crc = (uint32_t) io.crc;
    header.body_len = io.len;
    failed = io.failed
          || fseek (file, 0, SEEK_SET) != 0
          || fwrite (&header, sizeof header, 1, file) != 1
          || fflush (file) != 0
          || fsync (fileno (file)) != 0;
    int saved_errno = errno;
    if (fclose (file) != 0)
        failed = true;
    if (failed || rename (tmp, path) != 0) {
        snprintf (err, err_size, "cannot write checkpoint %s: %s", tmp,
                  strerror (failed ? saved_errno : errno));
        unlink (tmp);
        return -1;
    }
    //  Make the rename durable: fsync the directory.
    char dir [4096];
    snprintf (dir, sizeof dir, "%s", path);
    char *slash = strrchr (dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = 0;
    else
        snprintf (dir, sizeof dir, ".");
    int fd = open (dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync (fd);
        close (fd);
    }
    return 0;
}

static bool
s_get (s_io_t *io, void *data, size_t size)
{
    if (io->failed || size > io->len || (size && fread (data, 1, size, io->file) != size)) {
        io->failed = true;
        return false;
    }
    io->len -= size;
    return true;
}

//  Reads a table and checks its shape; ids are checked by the caller.
static bool
s_get_tab (s_io_t *io, s_tab_t *t)
{
    uint64_t cap, count;
    if (!s_get (io, &cap, 8) || !s_get (io, &count, 8))
        return false;
    if ((cap & (cap - 1)) || count >= (cap ? cap : 1) || (cap && cap < 1024)
    ||  cap > io->len / t->esize) {
        io->failed = true;
        return false;
    }
    if (cap == 0)
        return true;
    if (s_tab_alloc (t, cap)) {
        io->failed = true;
        return false;
    }
    t->count = count;
    if (!s_get (io, t->slots, cap * t->esize))
        return false;
    size_t used = 0;
    for (size_t i = 0; i < cap; i++)
        used += s_first32 (t->slots + i * t->esize) != S_EMPTY;
    if (used != count)
        io->failed = true;
    return !io->failed;
}

static int
s_hole_cmp (const void *a, const void *b)
{
    const s_hole_t *x = a, *y = b;
    if (x->sensor != y->sensor)
        return x->sensor < y->sensor ? -1 : 1;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

//  Reads and checks the holes of a checkpoint (after its streams): each
//  non-empty, of a known sensor, below its next expected seq, no two of a
//  sensor overlapping (a seq would be applied twice), and no more missing
//  seqs per stream than it counts as gaps.  False if malformed.
static bool
s_get_holes (ds_store_t *self, s_io_t *io)
{
    uint32_t n_holes;
    if (!s_get (io, &n_holes, 4) || n_holes > S_HOLES_MAX || n_holes > io->len / sizeof (s_hole_t))
        return false;
    if (n_holes == 0)
        return true;
    self->holes = malloc ((size_t) n_holes * sizeof (s_hole_t));
    if (!self->holes)
        return false;
    self->holes_cap = n_holes;
    if (!s_get (io, self->holes, (size_t) n_holes * sizeof (s_hole_t)))
        return false;
    self->n_holes = n_holes;
    s_hole_t *sorted = malloc ((size_t) n_holes * sizeof (s_hole_t));
    if (!sorted)
        return false;
    memcpy (sorted, self->holes, (size_t) n_holes * sizeof (s_hole_t));
    qsort (sorted, n_holes, sizeof (s_hole_t), s_hole_cmp);
    bool ok = true;
    uint64_t missing = 0;           //  of the current sensor so far
    s_stream_t *s = NULL;
    for (uint32_t i = 0; i < n_holes && ok; i++) {
        const s_hole_t *h = &sorted [i];
        if (i == 0 || h->sensor != sorted [i - 1].sensor) {
            s = NULL;
            for (uint32_t k = 0; k < self->n_streams && !s; k++)
                if (self->streams [k].sensor == h->sensor)
                    s = &self->streams [k];
            missing = 0;
        }
        else
        if (h->lo < sorted [i - 1].hi)
            ok = false;             //  overlaps the previous one
        ok = ok && s && h->pad == 0 && h->lo < h->hi && h->hi <= s->next_seq
          && h->hi - h->lo <= s->gaps - missing;
        if (ok)
            missing += h->hi - h->lo;
    }
    free (sorted);
    return ok;
}

ds_store_t *
ds_store_load (const char *path, uint32_t shard, uint32_t shards, char *err, size_t err_size)
{
    FILE *file = fopen (path, "rb");
    if (!file) {
        snprintf (err, err_size, "cannot open checkpoint %s: %s", path, strerror (errno));
        return NULL;
    }
    ds_store_t *self = NULL;
    const char *reason = NULL;
    char why [256];
    s_ckpt_header_t header;
    if (fread (&header, sizeof header, 1, file) != 1) {
        reason = "truncated header";
        goto fail;
    }
    if (memcmp (header.magic, S_CKPT_MAGIC, 8) != 0) {
        reason = "not a darkscope checkpoint (bad magic)";
        goto fail;
    }
    if (header.version != S_CKPT_VERSION) {
        //  Version 2 lacks the missing seq ranges: its gaps could never be
        //  filled, so it is refused rather than guessed at.
        snprintf (why, sizeof why, "unsupported version %u (want %u)%s", header.version, S_CKPT_VERSION,
                  header.version < S_CKPT_VERSION
                  ? ": written by an older darkscope; remove it and replay the input" : "");
        reason = why;
        goto fail;
    }
    header.tz [sizeof header.tz - 1] = 0;
    if (header.shard != shard || header.shards != shards) {
        snprintf (why, sizeof why, "written by shard %u of %u, this is shard %u of %u",
                  header.shard, header.shards, shard, shards);
        reason = why;
        goto fail;
    }
    if (strcmp (header.tz, ds_tz_name ()) != 0) {
        snprintf (why, sizeof why, "written with time zone %.64s, this run uses %.64s",
                  header.tz, ds_tz_name ());
        reason = why;
        goto fail;
    }
    //  Pass 1: the body length and CRC, before anything is allocated.
    if (fseek (file, 0, SEEK_END) != 0) {
        reason = "cannot seek";
        goto fail;
    }
    long end = ftell (file);
    if (end < 0 || (uint64_t) end != sizeof header + header.body_len) {
        reason = (uint64_t) end < sizeof header + header.body_len ? "truncated body"
                                                                   : "trailing bytes after body";
        goto fail;
    }
    fseek (file, (long) sizeof header, SEEK_SET);
    uLong crc = crc32 (0, Z_NULL, 0);
    uint8_t chunk [65536];
    for (uint64_t left = header.body_len; left > 0; ) {
        size_t want = left > sizeof chunk ? sizeof chunk : (size_t) left;
        if (fread (chunk, 1, want, file) != want) {
            reason = "truncated body";
            goto fail;
        }
        crc = crc32 (crc, chunk, (uInt) want);
        left -= want;
    }
    if ((uint32_t) crc != header.crc) {
        reason = "checksum mismatch (corrupt file)";
        goto fail;
    }
    //  Pass 2: parse, checking every count against the bytes that remain
    //  and every id against its table.
    fseek (file, (long) sizeof header, SEEK_SET);
    self = s_store_alloc (shard, shards);
    if (!self) {
        reason = "out of memory";
        goto fail;
    }
    s_io_t io = { file, 0, header.body_len, false };
    uint32_t n_names;
    if (!s_get (&io, &n_names, 4) || n_names < 2 || n_names > S_NAMES_MAX
    ||  n_names > io.len / 2)
        goto malformed;
    self->names = calloc (n_names, sizeof *self->names);
    if (!self->names)
        goto malformed;
    self->names_cap = n_names;
    for (uint32_t i = 0; i < n_names; i++) {
        uint16_t len;
        if (!s_get (&io, &len, 2) || len > io.len)
            goto malformed;
        char *name = malloc ((size_t) len + 1);
        if (!name)
            goto malformed;
        self->names [self->n_names++] = name;
        if (!s_get (&io, name, len))
            goto malformed;
        name [len] = 0;
    }
    if (!s_get (&io, &self->name_unknown, 2) || !s_get (&io, &self->name_mirai, 2)
    ||  self->name_unknown >= n_names || self->name_mirai >= n_names)
        goto malformed;
    uint32_t n_srcs, n_pps;
    if (!s_get (&io, &n_srcs, 4) || n_srcs > io.len / sizeof (s_src_t) || n_srcs >= UINT32_MAX / 2)
        goto malformed;
    self->srcs_cap = n_srcs ? n_srcs : 1;
    self->srcs = malloc ((size_t) self->srcs_cap * sizeof (s_src_t));
    self->bins = calloc (self->srcs_cap, sizeof (s_bins_t));
    if (!self->srcs || !self->bins
    ||  !s_get (&io, self->srcs, (size_t) n_srcs * sizeof (s_src_t)))
        goto malformed;
    self->n_srcs = n_srcs;
    for (uint32_t i = 0; i < n_srcs; i++) {
        if (self->srcs [i].class_id >= n_names)
            goto malformed;
        self->srcs [i].last_ds = S_EMPTY;
        self->srcs [i].last_day = 0;
        self->srcs [i].hint_pp = S_EMPTY;
    }
    if (!s_get (&io, &n_pps, 4) || n_pps > io.len / sizeof (s_pp_t))
        goto malformed;
    self->pps_cap = n_pps ? n_pps : 1;
    self->pps = malloc ((size_t) self->pps_cap * sizeof (s_pp_t));
    if (!self->pps || !s_get (&io, self->pps, (size_t) n_pps * sizeof (s_pp_t)))
        goto malformed;
    self->n_pps = n_pps;
    for (uint32_t i = 0; i < n_pps; i++) {
        const s_pp_t *pp = &self->pps [i];
        if (pp->service >= n_names || pp->proto >= DS_PROTO_COUNT
        ||  pp->port < DS_PORT_NONE || pp->port > 65535
        ||  self->pp_direct [S_PP_SLOT (pp->port, pp->proto)] != 0)
            goto malformed;         //  also a (port, proto) listed twice
        self->pp_direct [S_PP_SLOT (pp->port, pp->proto)] = i + 1;
    }
    uint32_t n_ds;
    if (!s_get (&io, &n_ds, 4) || n_ds > io.len / sizeof (s_day_src_t) || n_ds >= UINT32_MAX / 2)
        goto malformed;
    self->ds_cap = n_ds ? n_ds : 1;
    self->ds = malloc ((size_t) self->ds_cap * sizeof (s_day_src_t));
    if (!self->ds || !s_get (&io, self->ds, (size_t) n_ds * sizeof (s_day_src_t)))
        goto malformed;
    self->n_ds = n_ds;
    for (uint32_t i = 0; i < n_ds; i++)
        if (self->ds [i].src >= n_srcs)
            goto malformed;
    //  The index, refusing a (src, day) that appears twice.
    if (s_ds_index_grow (self))
        goto malformed;
    for (uint32_t i = 0; i < n_ds; i++)
        if (s_ds_id (self, self->ds [i].src, self->ds [i].day) != i)
            goto malformed;
    if (!s_get_tab (&io, &self->dsp_tab))
        goto malformed;
    S_TAB_EACH (&self->dsp_tab, s_day_src_pp_t, e)
        if (e->ds >= n_ds || S_DSP_PP (e) >= n_pps
        ||  e->ppd != S_DSP_PPD (S_DSP_PP (e), self->ds [e->ds].day))
            goto malformed;
    for (uint32_t i = 0; i < n_srcs; i++) {
        s_bins_t *b = &self->bins [i];
        uint32_t nb;
        if (!s_get (&io, &nb, 4) || nb > io.len / sizeof (uint64_t))
            goto malformed;
        if (nb == 0)
            continue;
        b->v = malloc ((size_t) nb * sizeof (uint64_t));
        if (!b->v)
            goto malformed;
        b->cap = nb;
        if (!s_get (&io, b->v, (size_t) nb * sizeof (uint64_t)))
            goto malformed;
        b->n = b->sorted = nb;
        for (uint32_t k = 0; k < nb; k++)
            if ((b->v [k] & S_BIN_US_MASK) >= (uint64_t) S_MINUTE_US
            ||  (b->v [k] >> S_BIN_US_BITS) > UINT32_MAX
            ||  (k > 0 && (b->v [k] >> S_BIN_US_BITS) <= (b->v [k - 1] >> S_BIN_US_BITS)))
                goto malformed;
    }
    uint32_t n_streams;
    if (!s_get (&io, &n_streams, 4) || n_streams > io.len / sizeof (s_stream_t))
        goto malformed;
    self->streams_cap = n_streams ? n_streams : 1;
    self->streams = malloc (self->streams_cap * sizeof (s_stream_t));
    if (!self->streams || !s_get (&io, self->streams, n_streams * sizeof (s_stream_t)))
        goto malformed;
    self->n_streams = n_streams;
    if (!s_get_holes (self, &io))
        goto malformed;
    uint8_t any;
    if (!s_get (&io, &any, 1) || !s_get (&io, &self->min_day, 4) || !s_get (&io, &self->max_day, 4)
    ||  !s_get (&io, &self->records, 8) || io.len != 0)
        goto malformed;
    self->any = any != 0;
    if (s_src_index_grow (self))
        goto malformed;
    fclose (file);
    return self;

malformed:
    reason = "malformed body";
fail:
    snprintf (err, err_size, "refusing checkpoint %s: %s", path, reason);
    ds_store_destroy (&self);
    fclose (file);
    return NULL;
}
