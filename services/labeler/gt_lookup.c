/*  gt_lookup.c - looking up the ground-truth table (gt.h): one address,
    a batch, and the explanation of a match.  The layout is gt.c's.
*/
#include "gt_internal.h"
#include <stdio.h>

//  Trie leaf for addr: prefix number + 1, or 0.
static inline uint32_t
s_trie_find (const ds_gt_t *self, const ds_addr_t *addr)
{
    uint32_t e;
    int d;
    if (memcmp (addr->b, s_v4_prefix, 12) == 0) {
        e = self->v4_entry;
        d = 12;
    }
    else {
        e = S_CHILD;
        d = 0;
    }
    while (e & S_CHILD)
        e = self->nodes [(size_t) (e & ~S_CHILD) * 256 + addr->b [d++]];
    return e;
}

//  True, and *out its class, if v4 is an exact entry (the filter first,
//  then the slots).
static inline bool
s_v4_exact (const ds_gt_t *self, uint32_t v4, uint16_t *out)
{
    if (!s_v4_maybe (self, v4))
        return false;
    for (uint64_t at = s_v4_home (self, v4), slot; (slot = self->v4_slots [at]) != 0;
         at = (at + 1) & self->v4_mask)
        if ((uint32_t) (slot >> 32) == v4) {
            *out = self->raw_to_out [(uint32_t) slot - 1];
            return true;
        }
    return false;
}

static inline uint16_t
s_lookup (const ds_gt_t *self, const ds_addr_t *addr, bool *matched)
{
    if (memcmp (addr->b, s_v4_prefix, 12) == 0) {
        uint16_t out;
        if (s_v4_exact (self, s_v4_of (addr), &out)) {
            *matched = true;
            return out;
        }
        uint32_t leaf = s_trie_find (self, addr);
        *matched = leaf != 0;
        return leaf ? self->pfx_class [leaf - 1] : 0;
    }
    uint64_t at = s_htab_find (&self->exact, addr, 128);
    if (self->exact.tags [at]) {
        *matched = true;
        return self->raw_to_out [self->exact.slots [at].raw_class];
    }
    uint32_t leaf = s_trie_find (self, addr);
    *matched = leaf != 0;
    return leaf ? self->pfx_class [leaf - 1] : 0;
}

uint16_t
ds_gt_lookup (const ds_gt_t *self, const ds_addr_t *addr, bool *matched)
{
    return s_lookup (self, addr, matched);
}

static inline void
s_prefetch (const ds_gt_t *self, const ds_addr_t *addr)
{
    if (memcmp (addr->b, s_v4_prefix, 12) == 0) {
        uint32_t v4 = s_v4_of (addr);
        if (s_v4_maybe (self, v4))
            __builtin_prefetch (&self->v4_slots [s_v4_home (self, v4)]);
    }
    else
        __builtin_prefetch (&self->exact.tags [s_hash (addr, 128) & self->exact.mask]);
}

//  The lookups of a table with no prefix below ::ffff:0:0/96 (none of the
//  IPv4 space split by a prefix: the usual exact-address ground truth)
//  whose IPv4 slots fit the cache: an IPv4 address is its exact entry or
//  the one leaf every other IPv4 address reaches, so a lookup is the
//  filter's bit and, where it is set, the slots; no trie, no prefetch.
static void
s_lookup_many_v4 (const ds_gt_t *self, const ds_addr_t *addrs, uint32_t n,
                  uint16_t *class_id, uint8_t *matched)
{
    uint32_t leaf = self->v4_entry;
    uint16_t leaf_class = leaf ? self->pfx_class [leaf - 1] : 0;
    for (uint32_t i = 0; i < n; i++) {
        bool hit;
        if (memcmp (addrs [i].b, s_v4_prefix, 12) != 0)
            class_id [i] = s_lookup (self, &addrs [i], &hit);
        else
        if (!(hit = s_v4_exact (self, s_v4_of (&addrs [i]), &class_id [i]))) {
            class_id [i] = leaf_class;
            hit = leaf != 0;
        }
        matched [i] = hit;
    }
}

//  A three-stage pipeline over the batch: AHEAD records ahead, prefetch
//  the tag; AHEAD/2 ahead, read the (now cached) tag at the home slot and,
//  if it matches, prefetch that slot too; then look up.  Independent
//  lookups overlap their memory latency instead of paying it one by one.
void
ds_gt_lookup_many (const ds_gt_t *self, const ds_addr_t *addrs, uint32_t n,
                   uint16_t *class_id, uint8_t *matched)
{
    enum { AHEAD = 16, HALF = 8, SMALL = 256 << 10 };
    if (!(self->v4_entry & S_CHILD) && (self->v4_mask + 1) * sizeof *self->v4_slots <= SMALL) {
        s_lookup_many_v4 (self, addrs, n, class_id, matched);
        return;
    }
    const uint16_t *tags = self->exact.tags;
    const s_slot_t *slots = self->exact.slots;
    uint64_t mask = self->exact.mask;
    for (uint32_t i = 0; i < n && i < AHEAD; i++)
        s_prefetch (self, &addrs [i]);
    for (uint32_t i = 0; i < n; i++) {
        if (i + AHEAD < n)
            s_prefetch (self, &addrs [i + AHEAD]);
        if (i + HALF < n && memcmp (addrs [i + HALF].b, s_v4_prefix, 12) != 0) {
            uint64_t hash = s_hash (&addrs [i + HALF], 128);
            if (tags [hash & mask] == s_tag (hash))
                __builtin_prefetch (&slots [hash & mask]);
        }
        bool hit;
        class_id [i] = s_lookup (self, &addrs [i], &hit);
        matched [i] = hit;
    }
}

uint16_t
ds_gt_explain (const ds_gt_t *self, const ds_addr_t *addr, bool *matched,
               char *rule, size_t rule_size)
{
    const s_entry_t *entry = NULL;
    uint64_t at = s_htab_find (&self->exact, addr, 128);
    if (self->exact.tags [at])
        entry = &self->entries [self->exact.slots [at].entry - 1];
    else {
        uint32_t leaf = s_trie_find (self, addr);
        if (leaf)
            entry = &self->entries [self->pfx_entry [leaf - 1]];
    }
    *matched = entry != NULL;
    if (!entry) {
        snprintf (rule, rule_size, "no match");
        return 0;
    }
    char pbuf [80];
    const char *raw = self->raw_names [entry->raw_class];
    uint16_t out = self->raw_to_out [entry->raw_class];
    int len = snprintf (rule, rule_size, "%s %s from %s:%u",
                        entry->len == 128 ? "exact" : "prefix",
                        gt_format_prefix (&entry->addr, entry->len, pbuf, sizeof pbuf),
                        self->files [entry->file], entry->line);
    if (strcmp (raw, self->out_names [out]) != 0 && len >= 0 && (size_t) len < rule_size)
        snprintf (rule + len, rule_size - (size_t) len, "; alias %s->%s",
                  raw, self->out_names [out]);
    return out;
}
