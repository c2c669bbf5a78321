/*  store_internal.h - the store's tables, shared by its files (not an API).

    The store (store.h) is one module in several files, one job each:
      store.c        the tables and adding records, streams and gaps
      day.c          one day's tables: open (hashed) and sealed (columnar)
      retention.c    evicting days older than the retained ones
      partial.c      the partial answers of the overview family and status
      pattern.c      the activity-pattern rounds
      checkpoint.c   saving and loading the whole store
      pages.c        the memory of day tables and pattern bins
    This header holds what they share.  Only those files include it.

    Layout.  Store-wide: the sources (address, class, hints), the pp table
    (a direct array indexed by (port + 1, proto): no hashing), the class and
    service names, the per-source pattern bins, and the stream state.  Per
    local calendar day, a s_day_t holds that day's (source) and (source, pp)
    counts, so a query over a window reads only the window's days and whole
    days can be dropped (retention):
      - (day, src): columns src / packets / flags by a local id, dense;
      - (day, src, pp): runs of entries (local id, packets) grouped by pp,
        with a per-pp directory (packets, entry range); while the day is
        OPEN a record appends its (pp, local) key to a log that is merged
        into the runs when full and before any read (store_day_settle); a
        day that no longer gets records is SEALED: its log merged, its
        local ids renumbered by source, its src -> local hash freed.  A
        late record unseals the day again (rebuilding the hash), so
        out-of-order input stays exact.
    Counters: per (day, src) packets are 64-bit; per (day, src, pp) packets
    keep their low 32 bits in the entry and any carry in a per-day side
    table that is empty unless one pair passed 2^32 packets in a day
    (DESIGN §12: exact 64-bit counts at 12 bytes per entry).

    Hash tables: open addressing, linear probing, power-of-two capacity,
    load <= 3/4, grown by doubling.  An entry's first 4 bytes are part of
    its key and are never 0xffffffff, which marks an empty slot.
*/
#ifndef DS_STORE_INTERNAL_H
#define DS_STORE_INTERNAL_H

#include "store.h"
#include "tz.h"
#include "mix.h"
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
//  Pages of the day tables (pages.c)
//
//  Every array of a day (and the scratch of sealing one) of STORE_PAGES_MIN
//  bytes or more is a mapping of its own, unmapped when the day is sealed
//  or evicted (or the array grows); smaller ones come from malloc.  The
//  caller passes the size it asked for to free (the tables know their
//  capacities).
#define STORE_PAGES_MIN (64u << 10)

//  A block of size bytes (uninitialised); NULL if memory ran out.
void *store_pages_alloc (size_t size);

//  Frees block p of size bytes; NULL-safe.  Big blocks are kept for the
//  calling thread's next allocations (a few, a bounded sum).
void store_pages_free (void *p, size_t size);

//  Returns the blocks the calling thread keeps to the system.
void store_pages_release (void);

//  Writes every page of [p, p + size) once.  For a table that is read
//  before it is written (pp_direct): the first read of a calloc'ed page
//  maps the shared zero page, and the write that follows then faults again
//  and flushes the TLB of every core running a thread of the process (a
//  memset after malloc does not do: the compiler makes the pair a calloc).
void store_pages_touch (void *p, size_t size);

//  ---------------------------------------------------------------------
//  Generic hash table of fixed-size entries (a day's tables: slots in
//  store_pages)

//  Prefetches the bytes [p, p + size) (size <= 64): both cache lines when
//  an entry straddles two.
#define S_PREFETCH(p, size, rw) do { \
        __builtin_prefetch ((const char *) (p), rw); \
        __builtin_prefetch ((const char *) (p) + (size) - 1, rw); \
    } while (0)

//  An open-addressing table of fixed-size entries whose first 8 bytes are
//  the key (a day's carries: the only user).
typedef struct {
    uint8_t *slots;
    size_t esize;                   //  bytes per entry, the key first
    size_t cap;                     //  slots, power of two (0 = none yet)
    size_t count;                   //  entries in use
} s_tab_t;

static inline uint64_t
s_key_hash (const uint8_t *key)
{
    uint64_t a;
    memcpy (&a, key, 8);
    return ds_mix64 (a);
}

static inline uint32_t
s_first32 (const uint8_t *e)
{
    uint32_t v;
    memcpy (&v, e, 4);
    return v;
}

static inline void
s_tab_init (s_tab_t *t, size_t esize)
{
    memset (t, 0, sizeof *t);
    t->esize = esize;
}

static inline int
s_tab_alloc (s_tab_t *t, size_t cap)
{
    uint8_t *slots = store_pages_alloc (cap * t->esize);
    if (!slots)
        return -1;
    memset (slots, 0xff, cap * t->esize);
    t->slots = slots;
    t->cap = cap;
    return 0;
}

//  Grows t to at least cap slots (rounded up to a power of two: probes
//  step through the slots by a mask), rehashing.
static inline int
s_tab_reserve (s_tab_t *t, size_t cap)
{
    size_t pow2 = 1;
    while (pow2 < cap)
        pow2 *= 2;
    cap = pow2;
    if (cap <= t->cap)
        return 0;
    s_tab_t old = *t;
    if (s_tab_alloc (t, cap)) {
        *t = old;
        return -1;
    }
    size_t mask = t->cap - 1;
    for (size_t i = 0; i < old.cap; i++) {
        const uint8_t *e = old.slots + i * old.esize;
        if (s_first32 (e) == S_EMPTY)
            continue;
        size_t j = s_key_hash (e) & mask;
        while (s_first32 (t->slots + j * t->esize) != S_EMPTY)
            j = (j + 1) & mask;
        memcpy (t->slots + j * t->esize, e, t->esize);
    }
    store_pages_free (old.slots, old.cap * old.esize);
    return 0;
}

//  Finds the entry of the 8-byte key, creating it (value bytes zeroed) if
//  absent; *created tells which.  NULL if memory ran out.
static inline void *
s_tab_upsert (s_tab_t *t, const void *key, bool *created)
{
    if ((t->count + 1) * 4 > t->cap * 3 && s_tab_reserve (t, t->cap ? t->cap * 2 : 1024))
        return NULL;
    size_t mask = t->cap - 1;
    size_t i = s_key_hash (key) & mask;
    uint64_t k8;
    memcpy (&k8, key, 8);
    for (;;) {
        uint8_t *e = t->slots + i * t->esize;
        if (s_first32 (e) == S_EMPTY) {
            memcpy (e, key, 8);
            memset (e + 8, 0, t->esize - 8);
            t->count++;
            *created = true;
            return e;
        }
        uint64_t e8;
        memcpy (&e8, e, 8);
        if (e8 == k8) {
            *created = false;
            return e;
        }
        i = (i + 1) & mask;
    }
}

//  The entry of the 8-byte key, or NULL.
static inline void *
s_tab_find (const s_tab_t *t, const void *key)
{
    if (!t->count)
        return NULL;
    size_t mask = t->cap - 1;
    size_t i = s_key_hash (key) & mask;
    for (;;) {
        uint8_t *e = t->slots + i * t->esize;
        if (s_first32 (e) == S_EMPTY)
            return NULL;
        if (memcmp (e, key, 8) == 0)
            return e;
        i = (i + 1) & mask;
    }
}

static inline void
s_tab_free (s_tab_t *t)
{
    store_pages_free (t->slots, t->cap * t->esize);
    t->slots = NULL;
    t->cap = t->count = 0;
}

#define S_TAB_EACH(t, type, e) \
    for (type *e = (type *) (t)->slots; (t)->slots && e < (type *) (t)->slots + (t)->cap; e++) \
        if (s_first32 ((const uint8_t *) e) != S_EMPTY)

//  ---------------------------------------------------------------------
//  Days

typedef struct {
    uint32_t local, pp;
    uint64_t carry;                 //  multiples of 2^32 beyond the entry
} s_carry_t;                        //  16 bytes; key (local, pp)

typedef struct {
    uint32_t pp;
    uint32_t start;                 //  first entry of its run in the columns
    uint64_t packets;               //  of this pp that day (carries included)
} s_ppdir_t;                        //  a sealed day's directory, by pp

typedef struct {
    int32_t day;
    bool sealed;
    //  (day, src): columns by local id
    uint32_t n, cap;
    uint32_t *src;                  //  store source id
    uint64_t *packets;
    uint8_t *flags;                 //  OR of the records' flags
    uint32_t *index;                //  open: hash of src -> local id
    uint32_t index_cap;
    //  (day, src, pp)
    uint32_t *run_local;            //  entries grouped by pp (runs of the
    uint32_t *run_packets;          //  directory), local id and packets
    uint32_t n_sorted;              //  (low 32 bits) as columns
    s_ppdir_t *dir;                 //  per pp present, by pp id
    uint32_t n_dir;
    uint64_t *log;                  //  open: pp << 32 | local per record not
    uint32_t n_log, log_cap;        //  yet in the runs
    s_tab_t carry;                  //  s_carry_t, usually empty
} s_day_t;

//  Creates an empty open day.  NULL if memory ran out.
s_day_t *store_day_new (int32_t day);

//  Frees a day; NULL-safe.
void store_day_destroy (s_day_t **self_p);

//  Local id of src in the day, created (zero counts) if new; S_EMPTY if
//  memory ran out.  The day must be open.
uint32_t store_day_local (s_day_t *self, uint32_t src);

//  Rebuilds an open day's src -> local hash (sources renumbered); 0 or -1.
int store_day_reindex (s_day_t *self);

//  Sorts each run of a day by local id if it is not (a day loaded from an
//  older checkpoint); 0 or -1.
int store_day_sort_runs (s_day_t *self);

//  Turns an open day into its sorted columnar form (merges its log,
//  renumbers its locals by source, frees its hash); 0, or -1 if memory
//  ran out (the day stays open and usable).
int store_day_seal (s_day_t *self);

//  Turns a sealed day back into an open one (a late record); 0 or -1.
int store_day_unseal (s_day_t *self);

#define S_LOG_MIN (1u << 16)         //  first log of an open day (entries) ...
#define S_LOG_MAX (1u << 20)         //  ... grown up to this or the runs' size

//  Merges the day's log into its runs; 0, or -1 if memory ran out (the
//  day is unchanged, unless a carry found none: see store_day_carry).
int store_day_settle (s_day_t *self);

//  Makes room in a full log: grows it (doubling) up to S_LOG_MAX entries
//  or the runs' size, then settles.  0 or -1 (out of memory).
int store_day_log_full (s_day_t *self);

//  Counts one packet of (local, pp) in an open day.  0 or -1.
static inline int
store_day_log (s_day_t *self, uint32_t local, uint32_t pp)
{
    if (self->n_log == self->log_cap && store_day_log_full (self))
        return -1;
    self->log [self->n_log++] = (uint64_t) pp << 32 | local;
    return 0;
}

//  Adds a carry of 2^32 packets to (local, pp); 0 or -1.
int store_day_carry (s_day_t *self, uint32_t local, uint32_t pp);

//  Packets of the entry (local, pp) whose low 32 bits are low, carries
//  included.
static inline uint64_t
store_day_packets (const s_day_t *self, uint32_t local, uint32_t pp, uint32_t low)
{
    uint64_t n = low;
    if (self->carry.count) {
        s_carry_t key = { local, pp, 0 };
        const s_carry_t *c = s_tab_find (&self->carry, &key);
        if (c)
            n += c->carry;
    }
    return n;
}

//  Calls fn (arg, pp, locals, packets, n) for each pp run of a settled
//  day's entries (no log: store_days_settle), by pp (packets: low 32 bits,
//  see store_day_packets).  fn returns 0 or -1 (stop).  0, or -1 if fn
//  stopped.
typedef int (store_run_fn) (void *arg, uint32_t pp, const uint32_t *locals,
                            const uint32_t *packets, uint32_t n);
int store_day_pp_runs (const s_day_t *self, store_run_fn *fn, void *arg);

//  Bytes held by a day's tables.
size_t store_day_memory (const s_day_t *self);

//  ---------------------------------------------------------------------
//  Store-wide entries

//  A pattern bin: (minute - INT32_MIN) << 26 | first microsecond in it.
#define S_BIN_US_BITS   26
#define S_BIN_US_MASK   ((1ULL << S_BIN_US_BITS) - 1)
#define S_BIN_MINUTE(v) ((int32_t) ((int64_t) ((v) >> S_BIN_US_BITS) + INT32_MIN))
#define S_BIN_KEY(m)    ((uint64_t) ((int64_t) (m) - INT32_MIN) << S_BIN_US_BITS)

typedef struct {
    uint64_t *v;                    //  [0, sorted): strictly increasing minutes;
    uint32_t n, cap;                //  [sorted, n): an unsorted tail of late
    uint32_t sorted;                //  records (minutes may repeat), merged
    uint32_t last;                  //  in by s_bins_normalize; per source.
} s_bins_t;                         //  last: v [n - 1] >> 26 when n > 0 (the
                                    //  add path reads it, not v, for the
                                    //  common case: a new minute)

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
    int32_t last_day;               //  the day of its latest record, and its
    uint32_t last_local;            //  local id there (hints: checked before use)
    uint32_t spare [2];             //  unused (were hints into the day's hash of
                                    //  entries); kept: checkpoints hold this struct
} s_src_t;                          //  36 bytes

//  A sensor's stream into the shard (streams.c).  Saved as it is in
//  checkpoints (version 5).
#define STORE_COUNTERS 5            //  packets_read, non_ip, malformed, dropped, bad_time
typedef struct {
    uint32_t sensor;
    uint32_t eos;                   //  1 once its end-of-stream arrived (this epoch)
    uint64_t next_seq;              //  next expected batch seq
    uint64_t gaps;                  //  batches never received
    uint64_t batches;               //  batches applied
    uint64_t records;               //  records applied
    uint64_t replays;               //  batches ignored as replays
    //  The sensor's counters in this epoch (latest STATS, then its EOS)
    uint64_t packets_read, non_ip, malformed, dropped;
    uint64_t bad_time;              //  records skipped: impossible timestamps
    uint64_t pcap_dropped;          //  libpcap's part of dropped
    uint64_t epoch;                 //  the sensor's epoch (ds_stats_t)
    uint64_t epochs;                //  epochs seen: > 1 after an ingest restarted
    uint64_t stale;                 //  messages of an older epoch, ignored
    uint64_t before [STORE_COUNTERS];   //  the counters of earlier epochs
    uint64_t stats;                 //  STATS messages taken
    int64_t last_batch_us;          //  wall clock the last batch was applied (0: none)
    int64_t last_stats_us;          //  wall clock the last STATS arrived (0: none)
    int64_t lag_us;                 //  its arrival minus its sending (both hosts' clocks)
} s_stream_t;                       //  192 bytes

//  A stream's counters over every epoch: packets_read, non_ip, malformed,
//  dropped, bad_time (what the overview's ingest map sums).
void store_stream_totals (const s_stream_t *s, uint64_t totals [STORE_COUNTERS]);

//  Seqs [lo, hi) of a sensor's stream that never arrived: counted in its
//  gaps, and applied if a replay of the input brings them after all.
typedef struct {
    uint32_t sensor;
    uint32_t pad;
    uint64_t lo, hi;
} s_hole_t;                         //  24 bytes

//  The pattern bins' memory (pages.c): per capacity class, a free list
//  of slots and the slab being carved; every slab, for freeing.
#define STORE_BIN_CLASSES 50
typedef struct {
    void *p;
    size_t bytes;
} store_slab_t;

typedef struct {
    void *free [STORE_BIN_CLASSES];     //  freed slots, linked through their first bytes
    uint8_t *at [STORE_BIN_CLASSES];    //  next uncarved slot of the class's last slab
    uint32_t left [STORE_BIN_CLASSES];  //  slots left there
    store_slab_t *slabs;
    uint32_t n_slabs, slabs_cap;
} store_binmem_t;

//  Gives b a capacity of at least cap and at least b->n bins (the next
//  capacity of its class sequence: 4, 6, 9, 13, ..., c + c / 2), its bins
//  kept; cap 0 frees them (b emptied).  Every bin vector's memory comes
//  and goes through here.  0, or -1 if memory ran out (b unchanged).
int store_bins_resize (ds_store_t *self, s_bins_t *b, uint32_t cap);

//  The capacity store_bins_resize gives for cap (UINT32_MAX: none).
uint32_t store_bins_capacity (uint32_t cap);

//  Frees every source's bins and the slabs (the store's destroy).
void store_bins_free_all (ds_store_t *self);

#define S_DAYCACHE 64                //  recent local days, by day & 63

typedef struct _store_pattern_t store_pattern_t;    //  pattern.c's view

struct _ds_store_t {
    uint32_t shard, shards;
    const ds_tz_t *tz;              //  days are local days of this zone (borrowed)
    ds_daycache_t daycache [S_DAYCACHE];
    ds_daycache_t dayhint;          //  the day of the latest record
    int64_t minhint_lo, minhint_hi; //  the minute of the latest record: its
    int32_t minhint;                //  [lo, hi) (empty at first), its number
    char **names;                   //  class and service names, store-wide
    uint32_t n_names, names_cap;
    uint16_t name_unknown, name_mirai;
    s_src_t *srcs;                  //  by src id
    uint32_t n_srcs, srcs_cap;
    uint64_t *src_index;            //  hash of addr -> tag << 32 | src id, the tag
                                    //  the hash's high half (UINT64_MAX free)
    size_t src_index_cap;
    s_bins_t *bins;                 //  by src id (srcs_cap entries)
    store_binmem_t binmem;          //  where their vectors live (pages.c)
    uint32_t *blog_src;             //  pattern bins not yet in the vectors of
    uint64_t *blog_v;               //  their sources: src id and bin value in
    uint32_t n_blog;                //  arrival order, S_BLOG_CAP at most;
    uint64_t *blog_sorted;          //  store_bins_normalize_all moves them in
    uint32_t *blog_at;              //  (scratch: by source, srcs_cap + 1)
    uint32_t blog_at_cap;
    s_pp_t *pps;                    //  by pp id
    uint32_t n_pps, pps_cap;
    uint64_t *pp_direct;            //  by (port + 1) * 5 + proto: pp id + 1 | service << 32
    s_day_t **days;                 //  by day number, ascending
    uint32_t n_days, days_cap;
    s_day_t *cur;                   //  the day of the latest record
    uint64_t *scratch;              //  for merging bins
    size_t scratch_cap;
    s_stream_t *streams;
    uint32_t n_streams, streams_cap;
    int64_t *newest_us;             //  by stream: its newest record's time, 0: none
    uint32_t newest_cap;            //  (checkpointed since version 6)
    s_hole_t *holes;                //  missing seq ranges, any order
    uint32_t n_holes, holes_cap;
    bool any;                       //  a record was seen
    int32_t min_day, max_day;
    uint64_t records;
    uint32_t retain_days;           //  0 = keep every day (not saved: config)
    bool no_patterns;               //  no pattern bins kept (ds_store_set_patterns)
    uint32_t sensors_expected;      //  whose EOS completes the input (not saved: config)
    uint64_t expired;               //  records older than the retained days
    uint64_t evicted_days;          //  days dropped by retention
    uint64_t generation;            //  bumped by every change (not saved)
    store_pattern_t *pattern;       //  the last pattern selection's view
                                    //  (pattern.c; NULL: none yet)
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
ds_store_t *store_alloc (uint32_t shard, uint32_t shards, const ds_tz_t *tz);

//  Rebuilds the source hash index from the dense array, doubled.
int store_src_index_grow (ds_store_t *self);

//  (Re)builds the source hash index with at least cap slots (more if
//  n_srcs needs them).
int store_src_index_build (ds_store_t *self, size_t cap);

#define S_BLOG_CAP      (1u << 19)      //  pattern bins logged before they go in

//  Moves the logged pattern bins into their sources' vectors and sorts
//  every source's late bins in: what every reader of bins calls first.
//  0 or -1 (out of memory).
int store_bins_normalize_all (ds_store_t *self);

//  Evicts the days older than the retained ones (retention.c); 0 or -1.
int store_evict (ds_store_t *self);

//  Index of the first day >= day in self->days (n_days if none).
uint32_t store_days_lower (const ds_store_t *self, int32_t day);

//  Merges every open day's log into its runs: what every reader of the
//  (day, src, pp) runs calls first.  0 or -1 (out of memory).
int store_days_settle (ds_store_t *self);

//  Seals every open day older than the two newest (their records are
//  most likely complete); with all, every open day.  0, or -1 if memory
//  ran out (days stay open: still exact).
int store_seal_days (ds_store_t *self, bool all);


//  The class of every source over [first, last] into cls (n_srcs): its
//  GT class, else mirai if a record of the window has the Mirai
//  fingerprint, else unknown.  0, or -1 if memory ran out.
int store_classes (ds_store_t *self, int32_t first, int32_t last, uint16_t *cls);

//  Writes a formatted reason into err (if any).
void store_err (char *err, size_t size, const char *fmt, const char *arg);

//  qsort order of uint64_t values, ascending.
int store_cmp_u64 (const void *a, const void *b);

//  Frees the pattern view (pattern.c); NULL-safe.
void store_pattern_free (ds_store_t *self);

#endif
