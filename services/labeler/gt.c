/*  gt.c - the ground-truth table; see gt.h.

    Layout.  While loading, every entry (address, prefix length, raw class,
    file, line) is appended to `entries`; two open-addressing hash tables
    keyed by the 16-byte address (+ length) find duplicates: `exact` holds
    /128 entries (IPv4 /32 included), `dedup` the shorter prefixes.  The
    exact table is also the lookup structure for IPv6.  Its probes read
    only 2-byte tags (a 1 M-entry table's tags stay in the last-level
    cache); a 24-byte slot is read only where the tag matches.
    ds_gt_build adds:
    - v4_slots: the IPv4 exact entries again, 8 bytes a slot (address and
      class), so an IPv4 lookup reads one cache line, hit or miss; and
      v4_filter, one bit per slot's byte (an eighth of its size: 32 KB for
      ten thousand addresses, cache-resident where the slots are not), a
      one-hash Bloom filter that sends most addresses not in the table
      (most of a darknet's sources) past it without reading a slot;
    - raw_to_out: raw class (as loaded) -> output class after aliasing;
    - a multibit trie (stride 8) of the prefixes, leaf-pushed, so a lookup
      walks at most 16 nodes (4 for IPv4: the walk starts at the node of
      ::ffff:0:0/96) and needs no backtracking.  Prefixes are inserted from
      shortest to longest, so a longer prefix always overwrites the leaves
      of the shorter ones it covers.
*/
#include "gt_internal.h"
#include "log.h"
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

static const char *s_default_aliases [][2] = {
    { "netscout", "unknown" },
    { "esrg_stanford", "unknown" },
    { "quadmetrics", "unknown" },
    { "criminalip", "unknown" },
    { "adscore", "unknown" },
};

//  --------------------------------------------------------------------------
//  Hash table

//  Big arrays are 2 MB aligned and asked to be backed by huge pages: a
//  lookup is a random access, and without them a TLB miss (a page walk
//  that itself misses the cache) costs as much as the access.
static void *
s_alloc_zero (size_t bytes)
{
    if (bytes >= ((size_t) 4 << 20)) {
        void *mem = NULL;
        if (posix_memalign (&mem, (size_t) 2 << 20, bytes))
            return NULL;
        madvise (mem, bytes, MADV_HUGEPAGE);
        memset (mem, 0, bytes);
        return mem;
    }
    return calloc (1, bytes);
}

static int
s_htab_init (s_htab_t *table, uint64_t capacity)
{
    table->tags = s_alloc_zero (capacity * sizeof *table->tags);
    table->slots = s_alloc_zero (capacity * sizeof *table->slots);
    table->mask = capacity - 1;
    table->count = 0;
    if (table->tags && table->slots)
        return 0;
    free (table->tags);
    free (table->slots);
    return -1;
}


static int
s_htab_grow (s_htab_t *table)
{
    s_htab_t bigger;
    if (s_htab_init (&bigger, (table->mask + 1) * 2))
        return -1;
    for (uint64_t i = 0; i <= table->mask; i++)
        if (table->tags [i]) {
            uint64_t at = s_htab_find (&bigger, &table->slots [i].key, table->slots [i].len);
            bigger.tags [at] = table->tags [i];
            bigger.slots [at] = table->slots [i];
        }
    bigger.count = table->count;
    free (table->tags);
    free (table->slots);
    *table = bigger;
    return 0;
}

//  --------------------------------------------------------------------------
//  Construction

ds_gt_t *
ds_gt_new (void)
{
    ds_gt_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    if (s_htab_init (&self->exact, 1024) || s_htab_init (&self->dedup, 256)) {
        ds_gt_destroy (&self);
        return NULL;
    }
    for (size_t i = 0; i < sizeof s_default_aliases / sizeof *s_default_aliases; i++)
        if (ds_gt_alias (self, s_default_aliases [i][0], s_default_aliases [i][1])) {
            ds_gt_destroy (&self);
            return NULL;
        }
    return self;
}

static void
s_free_built (ds_gt_t *self)
{
    for (uint32_t i = 0; i < self->n_out; i++)
        free (self->out_names [i]);
    free (self->out_names);
    free (self->raw_to_out);
    free (self->nodes);
    free (self->pfx_entry);
    free (self->pfx_class);
    free (self->v4_slots);
    self->v4_slots = NULL;
    free (self->v4_filter);
    self->v4_filter = NULL;
    self->out_names = NULL;
    self->raw_to_out = NULL;
    self->nodes = NULL;
    self->pfx_entry = NULL;
    self->pfx_class = NULL;
    self->n_out = self->n_nodes = self->max_nodes = 0;
    self->built = false;
}

void
ds_gt_destroy (ds_gt_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ds_gt_t *self = *self_p;
    s_free_built (self);
    free (self->entries);
    free (self->exact.tags);
    free (self->exact.slots);
    free (self->dedup.tags);
    free (self->dedup.slots);
    for (uint32_t i = 0; i < self->n_raw; i++)
        free (self->raw_names [i]);
    free (self->raw_names);
    for (uint32_t i = 0; i < self->n_files; i++)
        free (self->files [i]);
    free (self->files);
    for (uint32_t i = 0; i < self->n_aliases; i++) {
        free (self->aliases [i].from);
        free (self->aliases [i].to);
    }
    free (self->aliases);
    free (self);
    *self_p = NULL;
}

bool
ds_gt_class_name_ok (const char *name)
{
    size_t len = strlen (name);
    if (len == 0 || len >= DS_NAME_MAX)
        return false;
    for (const char *c = name; *c; c++)
        if (*c <= ' ' || *c == 0x7f || *c == '=' || *c == '"')
            return false;
    return true;
}

bool
ds_gt_warned (ds_gt_t *self)
{
    self->warnings++;
    return ++self->file_warnings <= DS_GT_WARN_SHOWN;
}

void
ds_gt_warn_file (ds_gt_t *self)
{
    self->file_warnings = 0;
}

void
ds_gt_warn_summary (ds_gt_t *self, const char *path)
{
    if (self->file_warnings > DS_GT_WARN_SHOWN)
        ds_log_warn ("%s: %zu warnings, the first %d shown (the labeler's status counts them all)",
                     path, self->file_warnings, DS_GT_WARN_SHOWN);
    self->file_warnings = 0;
}

//  Interns a name into a string array; returns its index or -1.
static int
s_intern (char ***names, uint32_t *count, const char *name)
{
    for (uint32_t i = *count; i-- > 0; )
        if (strcmp ((*names) [i], name) == 0)
            return (int) i;
    if (*count >= S_MAX_CLASSES)
        return -1;
    char **bigger = realloc (*names, (*count + 1) * sizeof **names);
    if (!bigger)
        return -1;
    *names = bigger;
    if (!(bigger [*count] = strdup (name)))
        return -1;
    return (int) (*count)++;
}

static int
s_file_index (ds_gt_t *self, const char *origin)
{
    const char *base = strrchr (origin, '/');
    base = base ? base + 1 : origin;
    if (self->n_files && strcmp (self->files [self->n_files - 1], base) == 0)
        return (int) self->n_files - 1;
    char **bigger = realloc (self->files, (self->n_files + 1) * sizeof *bigger);
    if (!bigger)
        return -1;
    self->files = bigger;
    if (!(bigger [self->n_files] = strdup (base)))
        return -1;
    return (int) self->n_files++;
}

//  Parses "addr" or "addr/len" into a masked address and a 128-bit length.
//  Returns 0, 1 if host bits had to be cleared, -1 if not a prefix.
static int
s_parse_prefix (const char *text, ds_addr_t *addr, uint8_t *len128,
                char *err, size_t err_size)
{
    char buf [64];
    size_t n = strlen (text);
    if (n == 0 || n >= sizeof buf) {
        snprintf (err, err_size, "'%.64s' is not an address or prefix", text);
        return -1;
    }
    memcpy (buf, text, n + 1);
    char *slash = strchr (buf, '/');
    long plen = -1;
    if (slash) {
        *slash = 0;
        char *end;
        errno = 0;
        plen = strtol (slash + 1, &end, 10);
        if (errno || end == slash + 1 || *end || !isdigit ((unsigned char) slash [1])) {
            snprintf (err, err_size, "'%s' has a bad prefix length", text);
            return -1;
        }
    }
    bool v6 = strchr (buf, ':') != NULL;
    if (ds_addr_parse (addr, buf)) {
        snprintf (err, err_size, "'%s' is not an IPv4 or IPv6 address", buf);
        return -1;
    }
    int max = v6 ? 128 : 32;
    if (plen < 0)
        plen = max;
    if (plen > max) {
        snprintf (err, err_size, "'%s': prefix length %ld > %d", text, plen, max);
        return -1;
    }
    int len = (int) plen + (v6 ? 0 : 96);
    int cleared = 0;
    for (int bit = len; bit < 128; bit++) {
        uint8_t mask = (uint8_t) (0x80 >> (bit & 7));
        if (addr->b [bit >> 3] & mask) {
            addr->b [bit >> 3] &= (uint8_t) ~mask;
            cleared = 1;
        }
    }
    *len128 = (uint8_t) len;
    return cleared;
}

const char *
gt_format_prefix (const ds_addr_t *addr, uint8_t len, char *buf, size_t size)
{
    char text [64];
    ds_addr_format (addr, text, sizeof text);
    bool v4 = ds_addr_is_v4 (addr) && len >= 96;
    if (len == 128)
        snprintf (buf, size, "%s", text);
    else
        snprintf (buf, size, "%s/%d", text, v4 ? len - 96 : len);
    return buf;
}

int
ds_gt_add (ds_gt_t *self, const char *text, const char *class_name,
           const char *origin, uint32_t line, char *err, size_t err_size)
{
    ds_addr_t addr;
    uint8_t len;
    int parsed = s_parse_prefix (text, &addr, &len, err, err_size);
    if (parsed < 0)
        return -1;
    if (!ds_gt_class_name_ok (class_name)) {
        snprintf (err, err_size, "bad class name '%.64s' (1..%d printable bytes, no spaces)",
                  class_name, DS_NAME_MAX - 1);
        return -1;
    }
    if (parsed == 1 && ds_gt_warned (self))
        ds_log_warn ("%s:%u: '%s' has host bits set; using the prefix it names",
                     origin, line, text);
    int raw = s_intern (&self->raw_names, &self->n_raw, class_name);
    int file = s_file_index (self, origin);
    if (raw < 0 || file < 0) {
        snprintf (err, err_size, "out of memory or more than %d classes", S_MAX_CLASSES);
        return -1;
    }
    s_htab_t *table = len == 128 ? &self->exact : &self->dedup;
    if ((table->count + 1) * 2 > table->mask + 1 && s_htab_grow (table)) {
        snprintf (err, err_size, "out of memory");
        return -1;
    }
    uint64_t at = s_htab_find (table, &addr, len);
    s_slot_t *slot = &table->slots [at];
    if (table->tags [at]) {
        if (slot->raw_class != raw && ds_gt_warned (self)) {
            const s_entry_t *first = &self->entries [slot->entry - 1];
            char pbuf [80];
            ds_log_warn ("%s:%u: %s is class '%s' here but '%s' in %s:%u; the first wins",
                         origin, line, gt_format_prefix (&addr, len, pbuf, sizeof pbuf),
                         class_name, self->raw_names [slot->raw_class],
                         self->files [first->file], first->line);
        }
        return 1;
    }
    if (self->n_entries == self->max_entries) {
        size_t max = self->max_entries ? self->max_entries * 2 : 1024;
        s_entry_t *bigger = realloc (self->entries, max * sizeof *bigger);
        if (!bigger) {
            snprintf (err, err_size, "out of memory");
            return -1;
        }
        self->entries = bigger;
        self->max_entries = max;
    }
    s_entry_t *entry = &self->entries [self->n_entries++];
    *entry = (s_entry_t) { addr, len, (uint16_t) raw, (uint32_t) file, line };
    table->tags [at] = s_tag (s_hash (&addr, len));
    slot->key = addr;
    slot->len = len;
    slot->raw_class = (uint16_t) raw;
    slot->entry = (uint32_t) self->n_entries;
    table->count++;
    if (len < 128)
        self->n_prefixes++;
    self->built = false;
    return 0;
}

int
ds_gt_alias (ds_gt_t *self, const char *from, const char *to)
{
    if (!ds_gt_class_name_ok (from) || !ds_gt_class_name_ok (to))
        return -1;
    for (uint32_t i = 0; i < self->n_aliases; i++)
        if (strcmp (self->aliases [i].from, from) == 0) {
            char *copy = strdup (to);
            if (!copy)
                return -1;
            free (self->aliases [i].to);
            self->aliases [i].to = copy;
            self->built = false;
            return 0;
        }
    s_alias_t *bigger = realloc (self->aliases, (self->n_aliases + 1) * sizeof *bigger);
    if (!bigger)
        return -1;
    self->aliases = bigger;
    bigger [self->n_aliases].from = strdup (from);
    bigger [self->n_aliases].to = strdup (to);
    if (!bigger [self->n_aliases].from || !bigger [self->n_aliases].to) {
        free (bigger [self->n_aliases].from);
        free (bigger [self->n_aliases].to);
        return -1;
    }
    self->n_aliases++;
    self->built = false;
    return 0;
}

//  --------------------------------------------------------------------------
//  Build

static const char *
s_alias_of (const ds_gt_t *self, const char *name)
{
    for (uint32_t i = 0; i < self->n_aliases; i++)
        if (strcmp (self->aliases [i].from, name) == 0)
            return self->aliases [i].to;
    return name;
}

static int
s_node_new (ds_gt_t *self, uint32_t fill)
{
    if (self->n_nodes == self->max_nodes) {
        uint32_t max = self->max_nodes ? self->max_nodes * 2 : 16;
        if (max >= S_CHILD / 256)
            return -1;
        uint32_t *bigger = realloc (self->nodes, (size_t) max * 256 * sizeof *bigger);
        if (!bigger)
            return -1;
        self->nodes = bigger;
        self->max_nodes = max;
    }
    uint32_t *node = self->nodes + (size_t) self->n_nodes * 256;
    for (int i = 0; i < 256; i++)
        node [i] = fill;
    return (int) self->n_nodes++;
}

//  Overwrites every leaf at or below entry index `at` with value.
static void
s_trie_fill (ds_gt_t *self, size_t at, uint32_t value)
{
    uint32_t e = self->nodes [at];
    if (e & S_CHILD) {
        size_t child = (size_t) (e & ~S_CHILD) * 256;
        for (int i = 0; i < 256; i++)
            s_trie_fill (self, child + (size_t) i, value);
    }
    else
        self->nodes [at] = value;
}

static int
s_trie_insert (ds_gt_t *self, const ds_addr_t *addr, uint8_t len, uint32_t value)
{
    int depth = len == 0 ? 0 : (len - 1) / 8;
    size_t node = 0;
    for (int d = 0; d < depth; d++) {
        size_t at = node * 256 + addr->b [d];
        uint32_t e = self->nodes [at];
        if (!(e & S_CHILD)) {
            int child = s_node_new (self, e);           //  leaf pushing
            if (child < 0)
                return -1;
            self->nodes [at] = S_CHILD | (uint32_t) child;
            node = (size_t) child;
        }
        else
            node = e & ~S_CHILD;
    }
    int bits = len - 8 * depth;                         //  0..8 bits in this byte
    unsigned span = 1u << (8 - bits);
    unsigned start = addr->b [depth] & ~(span - 1) & 0xff;
    for (unsigned i = start; i < start + span; i++)
        s_trie_fill (self, node * 256 + i, value);
    return 0;
}

static int
s_cmp_len (const void *a, const void *b, void *base)
{
    const s_entry_t *x = &((const s_entry_t *) base) [*(const uint32_t *) a];
    const s_entry_t *y = &((const s_entry_t *) base) [*(const uint32_t *) b];
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return *(const uint32_t *) a < *(const uint32_t *) b ? -1 : 1;
}

int
ds_gt_build (ds_gt_t *self)
{
    s_free_built (self);
    //  Output dictionary: "unknown" first, then aliased classes in load order.
    self->raw_to_out = calloc (self->n_raw ? self->n_raw : 1, sizeof *self->raw_to_out);
    if (!self->raw_to_out || s_intern (&self->out_names, &self->n_out, "unknown") != 0)
        goto fail;
    for (uint32_t r = 0; r < self->n_raw; r++) {
        int out = s_intern (&self->out_names, &self->n_out, s_alias_of (self, self->raw_names [r]));
        if (out < 0)
            goto fail;
        self->raw_to_out [r] = (uint16_t) out;
    }
    //  Prefix trie, shortest prefixes first.
    size_t n = self->n_prefixes;
    uint32_t *order = malloc ((n ? n : 1) * sizeof *order);
    self->pfx_entry = malloc ((n ? n : 1) * sizeof *self->pfx_entry);
    self->pfx_class = malloc ((n ? n : 1) * sizeof *self->pfx_class);
    if (!order || !self->pfx_entry || !self->pfx_class || s_node_new (self, 0) != 0) {
        free (order);
        goto fail;
    }
    size_t k = 0;
    for (size_t i = 0; i < self->n_entries; i++)
        if (self->entries [i].len < 128)
            order [k++] = (uint32_t) i;
    qsort_r (order, n, sizeof *order, s_cmp_len, self->entries);
    for (size_t i = 0; i < n; i++) {
        const s_entry_t *entry = &self->entries [order [i]];
        self->pfx_entry [i] = order [i];
        self->pfx_class [i] = self->raw_to_out [entry->raw_class];
        if (s_trie_insert (self, &entry->addr, entry->len, (uint32_t) i + 1)) {
            free (order);
            goto fail;
        }
    }
    free (order);
    //  IPv4 exact entries again, 8 bytes a slot (address, class): a lookup
    //  reads one cache line, hit or miss.
    size_t n_v4 = 0;
    for (size_t i = 0; i < self->n_entries; i++)
        n_v4 += self->entries [i].len == 128 && ds_addr_is_v4 (&self->entries [i].addr);
    int bits = 4;
    while (((uint64_t) 1 << bits) < 2 * n_v4)
        bits++;
    self->v4_shift = 64 - bits;
    self->v4_mask = ((uint64_t) 1 << bits) - 1;
    self->v4_slots = s_alloc_zero (((size_t) 1 << bits) * sizeof *self->v4_slots);
    self->v4_filter_shift = 64 - (bits + 3);    //  8 bits a slot, 16+ an address
    self->v4_filter = s_alloc_zero (((size_t) 1 << (bits + 3)) / 8);
    if (!self->v4_slots || !self->v4_filter)
        goto fail;
    for (size_t i = 0; i < self->n_entries; i++) {
        const s_entry_t *entry = &self->entries [i];
        if (entry->len != 128 || !ds_addr_is_v4 (&entry->addr))
            continue;
        uint32_t v4 = s_v4_of (&entry->addr);
        uint64_t at = s_v4_home (self, v4);
        while (self->v4_slots [at])
            at = (at + 1) & self->v4_mask;
        self->v4_slots [at] = (uint64_t) v4 << 32 | ((uint64_t) entry->raw_class + 1);
        uint64_t bit = s_v4_bit (self, v4);
        self->v4_filter [bit >> 6] |= (uint64_t) 1 << (bit & 63);
    }
    uint32_t e = S_CHILD | 0;
    for (int d = 0; d < 12 && (e & S_CHILD); d++)
        e = self->nodes [(size_t) (e & ~S_CHILD) * 256 + s_v4_prefix [d]];
    self->v4_entry = e;
    self->built = true;
    return 0;
fail:
    s_free_built (self);
    return -1;
}


const char *const *
ds_gt_class_names (const ds_gt_t *self)
{
    return (const char *const *) self->out_names;
}

uint32_t
ds_gt_class_count (const ds_gt_t *self)
{
    return self->n_out;
}

size_t
ds_gt_exact_count (const ds_gt_t *self)
{
    return self->exact.count;
}

size_t
ds_gt_prefix_count (const ds_gt_t *self)
{
    return self->n_prefixes;
}

size_t
ds_gt_warning_count (const ds_gt_t *self)
{
    return self->warnings;
}
