/*  store_internal.h - the store's tables, shared by its files (not an API).

    The store (store.h) is one module in several files, one job each:
      store.c        the tables and adding records, streams and gaps
      partial.c      the partial answers of the overview family and status
      pattern.c      the activity-pattern partial
      checkpoint.c   saving and loading the whole store
    This header holds what they share: the entry layouts, the store struct
    and the generic hash table.  Only those files include it.

    Hash tables: open addressing, linear probing, power-of-two capacity,
    load <= 3/4, grown by doubling.  An entry's first 4 bytes are part of
    its key and are never 0xffffffff, which marks an empty slot.
*/
#ifndef DS_STORE_INTERNAL_H
#define DS_STORE_INTERNAL_H

#include "store.h"
#include "tzday.h"
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

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

static inline void
s_tab_init (s_tab_t *t, size_t esize, size_t ksize)
{
    memset (t, 0, sizeof *t);
    t->esize = esize;
    t->ksize = ksize;
}

static inline int
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

static inline int
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

static inline void
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

//  Floor division (a / b rounded towards minus infinity), b > 0.
static inline int64_t
s_floor_div (int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

//  Creates a store with no names or indexes yet (checkpoint loading fills
//  them).  Caller destroys.
ds_store_t *store_alloc (uint32_t shard, uint32_t shards);

//  Rebuilds the source and (day, src) hash indexes from the dense arrays.
int store_src_index_grow (ds_store_t *self);
int store_ds_index_grow (ds_store_t *self);

//  The (day, src) id, created if new (S_EMPTY if memory ran out).
uint32_t store_ds_id (ds_store_t *self, uint32_t src, int32_t day);

//  Sorts every source's late pattern bins in; 0 or -1 (out of memory).
int store_bins_normalize_all (ds_store_t *self);

//  Resolves q's window against this store (explicit days win; default:
//  the days seen).  0, or -1 with a reason in err.
int store_window (ds_store_t *self, const ds_query_t *q, int32_t *first, int32_t *last,
                  char *err, size_t err_size);

//  Writes a formatted reason into err (if any).
void store_err (char *err, size_t size, const char *fmt, const char *arg);

//  The pattern partial (pattern.c).
int store_part_pattern (ds_store_t *self, const ds_query_t *q, msgpack_packer *pk,
                        char *err, size_t err_size);

#endif
