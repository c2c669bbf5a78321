/*  gt_internal.h - internal to services/labeler: the ground-truth table's
    layout (see gt.c's comment) and the probes that building it (gt.c) and
    looking it up (gt_lookup.c) share.
*/
#ifndef DS_GT_INTERNAL_H
#define DS_GT_INTERNAL_H

#include "gt.h"
#include "batch.h"
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define S_CHILD 0x80000000u         //  trie entry: child node index follows
#define S_MAX_CLASSES DS_DICT_MAX

typedef struct {
    ds_addr_t addr;                 //  host bits cleared
    uint8_t len;                    //  0..128, in 128-bit terms
    uint16_t raw_class;             //  index into raw_names
    uint32_t file;                  //  index into files
    uint32_t line;
} s_entry_t;

typedef struct {
    ds_addr_t key;
    uint32_t entry;                 //  entries index + 1; 0 = empty slot
    uint16_t raw_class;             //  copy, so a hit needs no second miss
    uint8_t len;
    uint8_t pad;
} s_slot_t;

typedef struct {
    uint16_t *tags;                 //  per slot: 16 bits of the hash, never 0; 0 = empty
    s_slot_t *slots;                //  read only where the tag matches
    uint64_t mask;                  //  capacity - 1, capacity a power of 2
    size_t count;
} s_htab_t;

typedef struct {
    char *from;
    char *to;
} s_alias_t;

struct _ds_gt_t {
    s_entry_t *entries;
    size_t n_entries, max_entries;
    s_htab_t exact;                 //  /128 entries: the lookup table
    s_htab_t dedup;                 //  shorter prefixes, for duplicates only
    size_t n_prefixes;
    char **raw_names;               //  classes as loaded
    uint32_t n_raw;
    char **files;                   //  base names of the files loaded
    uint32_t n_files;
    s_alias_t *aliases;
    uint32_t n_aliases;
    size_t warnings;
    size_t file_warnings;           //  since ds_gt_warn_file: only the first few are logged
    //  Built by ds_gt_build:
    bool built;
    uint16_t *raw_to_out;           //  [n_raw]
    char **out_names;               //  "unknown" first
    uint32_t n_out;
    uint32_t *nodes;                //  trie: n_nodes x 256 entries
    uint32_t n_nodes, max_nodes;
    uint32_t *pfx_entry;            //  trie leaf value - 1 -> entries index
    uint16_t *pfx_class;            //  trie leaf value - 1 -> output class
    uint32_t v4_entry;              //  trie entry reached by ::ffff:0:0/96
    uint64_t *v4_slots;             //  IPv4 exact entries: addr << 32 | raw class + 1
    uint64_t v4_mask;               //  capacity - 1
    int v4_shift;                   //  64 - log2 (capacity)
    uint64_t *v4_filter;            //  bit s_v4_bit (v4) set for every IPv4 exact entry
    int v4_filter_shift;            //  64 - log2 (bits)
};


static const uint8_t s_v4_prefix [12] = { 0,0,0,0, 0,0,0,0, 0,0,0xff,0xff };

static inline uint64_t
s_hash (const ds_addr_t *addr, uint8_t len)
{
    uint64_t x, y;
    memcpy (&x, addr->b, 8);
    memcpy (&y, addr->b + 8, 8);
    uint64_t h = (x * 0x9E3779B97F4A7C15ULL) ^ (y * 0xC2B2AE3D27D4EB4FULL) ^ len;
    h ^= h >> 31;
    h *= 0x94D049BB133111EBULL;
    h ^= h >> 29;
    return h;
}


//  Home slot of an IPv4 address in v4_slots (Fibonacci hashing).
static inline uint64_t
s_v4_home (const ds_gt_t *self, uint32_t v4)
{
    return ((v4 + 1) * 0x9E3779B97F4A7C15ULL) >> self->v4_shift;
}

//  Bit of an IPv4 address in v4_filter (another multiplier: independent
//  of the home slot).
static inline uint64_t
s_v4_bit (const ds_gt_t *self, uint32_t v4)
{
    return ((v4 + 1) * 0xC2B2AE3D27D4EB4FULL) >> self->v4_filter_shift;
}

//  False if v4 is certainly not an exact entry.
static inline bool
s_v4_maybe (const ds_gt_t *self, uint32_t v4)
{
    uint64_t bit = s_v4_bit (self, v4);
    return (self->v4_filter [bit >> 6] >> (bit & 63)) & 1;
}

static inline uint32_t
s_v4_of (const ds_addr_t *addr)
{
    return (uint32_t) addr->b [12] << 24 | (uint32_t) addr->b [13] << 16
         | (uint32_t) addr->b [14] << 8 | addr->b [15];
}

static inline uint16_t
s_tag (uint64_t hash)
{
    uint16_t tag = (uint16_t) (hash >> 48);
    return tag ? tag : 1;
}

//  Index of the slot of (addr, len): the occupied one, or the empty one
//  where it belongs.  Probing reads only the 2-byte tags (a 1 M-entry
//  table's tags stay in the last-level cache); a slot is read only where
//  its tag matches, so a miss seldom touches the slots at all.
static inline uint64_t
s_htab_find (const s_htab_t *table, const ds_addr_t *addr, uint8_t len)
{
    uint64_t hash = s_hash (addr, len);
    uint16_t tag = s_tag (hash);
    uint64_t i = hash & table->mask;
    while (true) {
        uint16_t t = table->tags [i];
        if (t == 0)
            return i;
        if (t == tag) {
            const s_slot_t *slot = &table->slots [i];
            if (slot->len == len && memcmp (slot->key.b, addr->b, 16) == 0)
                return i;
        }
        i = (i + 1) & table->mask;
    }
}

//  addr/len as text: "a.b.c.d" or "a.b.c.0/24" for IPv4, RFC 5952 for IPv6
//  (with /len below 128); returns buf.
const char *gt_format_prefix (const ds_addr_t *addr, uint8_t len, char *buf, size_t size);

#endif
