/*  corpus.c - DarkVec's per-service hourly sentences; see corpus.h. */
#include "corpus.h"
#include "mix.h"
#include "civil.h"
#include <stdlib.h>
#include <string.h>
#include <errno.h>

#define S_HOUR_US   3600000000LL
#define S_NAMES_MAX 4096            //  services or classes

typedef struct {
    uint32_t bucket;                //  (service, hour) index
    uint32_t off_us;                //  ts - hour start (< 1 h)
    uint32_t src;                   //  source index
} s_tok_t;

typedef struct {
    ds_addr_t addr;
    uint64_t count;                 //  packets
    uint16_t klass;                 //  labeller's class (index in classes)
    uint8_t gt;                     //  a GT entry named it
    uint8_t mirai;                  //  a packet carried the Mirai fingerprint
    int32_t word;                   //  vocabulary id after finish, or -1
} s_source_t;

typedef struct {
    uint16_t service;
    int64_t start_us;               //  UTC microsecond where the local hour starts
} s_bucket_t;

//  Open addressing, keys hashed by the caller; slots hold index + 1.
typedef struct {
    uint32_t *slots;
    uint64_t mask;
} s_hash_t;

struct ds_corpus_s {
    s_tok_t *toks;
    uint64_t n_toks, cap_toks;
    s_source_t *srcs;
    uint32_t n_srcs, cap_srcs;
    s_hash_t src_hash;
    s_bucket_t *buckets;
    uint32_t n_buckets, cap_buckets;
    s_hash_t bucket_hash;
    char *services [S_NAMES_MAX];
    uint32_t n_services;
    char *classes [S_NAMES_MAX];    //  classes [0] = "unknown", [1] = "mirai"
    uint32_t n_classes;
    const ds_tz_t *tz;              //  zone of the local hours
    int64_t hour_start;             //  cache: the local hour last seen starts here,
    int64_t hour_lo, hour_hi;       //  and holds [hour_lo, hour_hi) at one offset
    //  After finish:
    bool finished;
    uint32_t n_words;
    uint32_t *word_src;             //  word id -> source index
    uint64_t *word_count;
    uint32_t *tokens;
    uint64_t n_tokens;
    uint64_t *starts;
    uint64_t n_sentences;
    uint64_t n_hours;
    uint64_t n_packets;             //  packets added (kept after finish)
};

static uint64_t
s_addr_hash (const ds_addr_t *a)
{
    uint64_t x, y;
    memcpy (&x, a->b, 8);
    memcpy (&y, a->b + 8, 8);
    return ds_mix64 (x ^ ds_mix64 (y));
}

static int
s_hash_init (s_hash_t *h, uint64_t slots)
{
    h->slots = calloc (slots, sizeof *h->slots);
    h->mask = slots - 1;
    return h->slots ? 0 : -1;
}

ds_corpus_t *
ds_corpus_new (const ds_tz_t *tz)
{
    ds_corpus_t *self = calloc (1, sizeof *self);
    if (!self || s_hash_init (&self->src_hash, 1024) || s_hash_init (&self->bucket_hash, 1024)) {
        ds_corpus_destroy (&self);
        return NULL;
    }
    self->tz = tz ? tz : ds_tz_utc ();
    self->classes [0] = strdup ("unknown");
    self->classes [1] = strdup ("mirai");
    self->n_classes = 2;
    if (!self->classes [0] || !self->classes [1])
        ds_corpus_destroy (&self);
    return self;
}

void
ds_corpus_destroy (ds_corpus_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ds_corpus_t *self = *self_p;
    free (self->toks);
    free (self->srcs);
    free (self->src_hash.slots);
    free (self->buckets);
    free (self->bucket_hash.slots);
    for (uint32_t i = 0; i < self->n_services; i++)
        free (self->services [i]);
    for (uint32_t i = 0; i < self->n_classes; i++)
        free (self->classes [i]);
    free (self->word_src);
    free (self->word_count);
    free (self->tokens);
    free (self->starts);
    free (self);
    *self_p = NULL;
}

static int
s_intern (char **names, uint32_t *n, const char *name)
{
    for (uint32_t i = 0; i < *n; i++)
        if (strcmp (names [i], name) == 0)
            return (int) i;
    if (*n >= S_NAMES_MAX || !(names [*n] = strdup (name)))
        return -1;
    return (int) (*n)++;
}

//  Doubles a hash table and reinserts every key (key (i) recomputes it).
static int
s_hash_grow (s_hash_t *h, uint32_t n, uint64_t (*key) (const ds_corpus_t *, uint32_t),
             const ds_corpus_t *self)
{
    s_hash_t g;
    if (s_hash_init (&g, (h->mask + 1) * 2))
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t s = key (self, i) & g.mask;
        while (g.slots [s])
            s = (s + 1) & g.mask;
        g.slots [s] = i + 1;
    }
    free (h->slots);
    *h = g;
    return 0;
}

static uint64_t
s_src_key (const ds_corpus_t *self, uint32_t i)
{
    return s_addr_hash (&self->srcs [i].addr);
}

static uint64_t
s_bucket_key (const ds_corpus_t *self, uint32_t i)
{
    return ds_mix64 ((uint64_t) self->buckets [i].start_us ^ ((uint64_t) self->buckets [i].service << 52));
}

//  Index of a source, created if new; -1 when out of memory.
static int64_t
s_source (ds_corpus_t *self, const ds_addr_t *addr)
{
    uint64_t s = s_addr_hash (addr) & self->src_hash.mask;
    uint32_t v;
    while ((v = self->src_hash.slots [s])) {
        if (memcmp (self->srcs [v - 1].addr.b, addr->b, 16) == 0)
            return v - 1;
        s = (s + 1) & self->src_hash.mask;
    }
    if (self->n_srcs == UINT32_MAX - 1)
        return -1;
    if (self->n_srcs == self->cap_srcs) {
        uint32_t cap = self->cap_srcs ? self->cap_srcs * 2 : 1024;
        s_source_t *srcs = realloc (self->srcs, cap * sizeof *srcs);
        if (!srcs)
            return -1;
        self->srcs = srcs;
        self->cap_srcs = cap;
    }
    uint32_t i = self->n_srcs++;
    self->srcs [i] = (s_source_t) { .addr = *addr, .word = -1 };
    self->src_hash.slots [s] = i + 1;
    if ((uint64_t) self->n_srcs * 2 > self->src_hash.mask
    &&  s_hash_grow (&self->src_hash, self->n_srcs, s_src_key, self))
        return -1;
    return i;
}

//  Index of a (service, hour) bucket, created if new; -1 when out of memory.
static int64_t
s_bucket (ds_corpus_t *self, uint16_t service, int64_t start_us)
{
    uint64_t s = ds_mix64 ((uint64_t) start_us ^ ((uint64_t) service << 52)) & self->bucket_hash.mask;
    uint32_t v;
    while ((v = self->bucket_hash.slots [s])) {
        const s_bucket_t *b = &self->buckets [v - 1];
        if (b->service == service && b->start_us == start_us)
            return v - 1;
        s = (s + 1) & self->bucket_hash.mask;
    }
    if (self->n_buckets == self->cap_buckets) {
        uint32_t cap = self->cap_buckets ? self->cap_buckets * 2 : 256;
        s_bucket_t *b = realloc (self->buckets, cap * sizeof *b);
        if (!b)
            return -1;
        self->buckets = b;
        self->cap_buckets = cap;
    }
    uint32_t i = self->n_buckets++;
    self->buckets [i] = (s_bucket_t) { .service = service, .start_us = start_us };
    self->bucket_hash.slots [s] = i + 1;
    if ((uint64_t) self->n_buckets * 2 > self->bucket_hash.mask
    &&  s_hash_grow (&self->bucket_hash, self->n_buckets, s_bucket_key, self))
        return -1;
    return i;
}

//  UTC microsecond at which the local hour holding ts starts.  The cache
//  keeps the part of that hour at the same offset (a change within the
//  hour, as at Lord Howe's half-hour DST, starts another local hour).
static int64_t
s_hour_start (ds_corpus_t *self, int64_t ts)
{
    if (ts >= self->hour_lo && ts < self->hour_hi)
        return self->hour_start;
    int64_t lo, hi;
    int64_t off = (int64_t) ds_tz_offset_span (self->tz, ts, &lo, &hi) * DS_US_PER_S;
    int64_t start = ds_civil_floor_div (ts + off, S_HOUR_US) * S_HOUR_US - off;
    self->hour_start = start;
    self->hour_lo = start > lo ? start : lo;
    self->hour_hi = start + S_HOUR_US < hi ? start + S_HOUR_US : hi;
    return start;
}

static int
s_add (ds_corpus_t *self, int64_t ts, const ds_addr_t *src, int service, int klass, uint8_t flags)
{
    if (self->finished || service < 0 || klass < 0)
        return -1;
    int64_t i = s_source (self, src);
    int64_t start = s_hour_start (self, ts);
    int64_t b = s_bucket (self, (uint16_t) service, start);
    if (i < 0 || b < 0)
        return -1;
    if (self->n_toks == self->cap_toks) {
        uint64_t cap = self->cap_toks ? self->cap_toks * 2 : 65536;
        s_tok_t *t = realloc (self->toks, cap * sizeof *t);
        if (!t)
            return -1;
        self->toks = t;
        self->cap_toks = cap;
    }
    self->toks [self->n_toks++] = (s_tok_t) { (uint32_t) b, (uint32_t) (ts - start), (uint32_t) i };
    s_source_t *s = &self->srcs [i];
    s->count++;
    if (flags & DS_FLAG_GT) {
        s->gt = 1;
        s->klass = (uint16_t) klass;
    }
    if (flags & DS_FLAG_MIRAI)
        s->mirai = 1;
    return 0;
}

int
ds_corpus_add (ds_corpus_t *self, int64_t ts_us, const ds_addr_t *src,
               const char *service, const char *klass, uint8_t flags)
{
    if (self->finished)
        return -1;
    return s_add (self, ts_us, src, s_intern (self->services, &self->n_services, service),
                  s_intern (self->classes, &self->n_classes, klass), flags);
}

int
ds_corpus_add_batch (ds_corpus_t *self, const ds_batch_t *batch)
{
    if (self->finished || !batch->labelled)
        return -1;
    //  The batch's dictionaries, mapped once per batch.
    int svc [DS_DICT_MAX], cls [DS_DICT_MAX];
    for (uint32_t i = 0; i < batch->n_services && i < DS_DICT_MAX; i++)
        svc [i] = s_intern (self->services, &self->n_services, batch->service_names [i]);
    for (uint32_t i = 0; i < batch->n_classes && i < DS_DICT_MAX; i++)
        cls [i] = s_intern (self->classes, &self->n_classes, batch->class_names [i]);
    for (uint32_t r = 0; r < batch->count; r++) {
        uint16_t s = batch->service_id [r], c = batch->class_id [r];
        if (s >= batch->n_services || c >= batch->n_classes
        ||  s_add (self, batch->ts [r], &batch->src [r], svc [s], cls [c], batch->flags [r]))
            return -1;
    }
    return 0;
}

uint64_t
ds_corpus_packets (const ds_corpus_t *self)
{
    return self->finished ? self->n_packets : self->n_toks;
}

uint32_t
ds_corpus_sources (const ds_corpus_t *self)
{
    return self->n_srcs;
}

//  --------------------------------------------------------------------------
//  finish

static int
s_cmp_bucket (const void *a, const void *b, void *arg)
{
    const ds_corpus_t *self = arg;
    const s_bucket_t *x = &self->buckets [*(const uint32_t *) a];
    const s_bucket_t *y = &self->buckets [*(const uint32_t *) b];
    int c = strcmp (self->services [x->service], self->services [y->service]);
    if (c)
        return c;
    return (x->start_us > y->start_us) - (x->start_us < y->start_us);
}

static int
s_cmp_tok (const void *a, const void *b, void *arg)
{
    const ds_corpus_t *self = arg;
    const s_tok_t *x = a, *y = b;
    if (x->off_us != y->off_us)
        return x->off_us < y->off_us ? -1 : 1;
    if (x->src == y->src)
        return 0;
    return ds_addr_cmp (&self->srcs [x->src].addr, &self->srcs [y->src].addr);
}

static int
s_cmp_word (const void *a, const void *b, void *arg)
{
    const ds_corpus_t *self = arg;
    const s_source_t *x = &self->srcs [*(const uint32_t *) a];
    const s_source_t *y = &self->srcs [*(const uint32_t *) b];
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return ds_addr_cmp (&x->addr, &y->addr);
}

//  Groups the packets by bucket rank in place (American flag sort), then
//  sorts each bucket by (time, address).  first [r] .. first [r + 1] is
//  bucket rank r afterwards.
static int
s_group (ds_corpus_t *self, const uint32_t *rank, uint64_t *first)
{
    uint32_t nb = self->n_buckets;
    uint64_t *next = calloc ((size_t) nb + 1, sizeof *next);
    if (!next)
        return -1;
    for (uint64_t i = 0; i < self->n_toks; i++)
        first [rank [self->toks [i].bucket] + 1]++;
    for (uint32_t r = 0; r < nb; r++)
        first [r + 1] += first [r];
    memcpy (next, first, ((size_t) nb + 1) * sizeof *next);
    for (uint32_t r = 0; r < nb; r++) {
        while (next [r] < first [r + 1]) {
            s_tok_t t = self->toks [next [r]];
            uint32_t rr = rank [t.bucket];
            while (rr != r) {
                s_tok_t u = self->toks [next [rr]];
                self->toks [next [rr]++] = t;
                t = u;
                rr = rank [t.bucket];
            }
            self->toks [next [r]++] = t;
        }
    }
    free (next);
    for (uint32_t r = 0; r < nb; r++) {
        s_tok_t *t = self->toks + first [r];
        size_t n = first [r + 1] - first [r];
        size_t k = 1;
        while (k < n && s_cmp_tok (&t [k - 1], &t [k], self) <= 0)
            k++;
        if (k < n)
            qsort_r (t, n, sizeof *t, s_cmp_tok, self);
    }
    return 0;
}

//  Writes one bucket's sentence as a line of address texts.
static int
s_write_line (const ds_corpus_t *self, FILE *out, const s_tok_t *t, uint64_t n)
{
    char buf [64];
    for (uint64_t i = 0; i < n; i++) {
        ds_addr_format (&self->srcs [t [i].src].addr, buf, sizeof buf);
        if (i)
            putc (' ', out);
        fputs (buf, out);
    }
    return putc ('\n', out) == EOF ? -1 : 0;
}

int
ds_corpus_finish (ds_corpus_t *self, uint32_t min_count, FILE *lines)
{
    if (self->finished)
        return -1;
    int rc = -1;
    uint32_t nb = self->n_buckets;
    uint32_t *order = malloc (((size_t) nb + 1) * sizeof *order);
    uint32_t *rank = malloc (((size_t) nb + 1) * sizeof *rank);
    uint64_t *first = calloc ((size_t) nb + 1, sizeof *first);
    uint32_t *words = malloc (((size_t) self->n_srcs + 1) * sizeof *words);
    if (!order || !rank || !first || !words)
        goto done;
    for (uint32_t b = 0; b < nb; b++)
        order [b] = b;
    qsort_r (order, nb, sizeof *order, s_cmp_bucket, self);
    for (uint32_t r = 0; r < nb; r++)
        rank [order [r]] = r;
    if (s_group (self, rank, first))
        goto done;

    //  Vocabulary: sources with >= min_count packets, most packets first.
    uint32_t nw = 0;
    for (uint32_t i = 0; i < self->n_srcs; i++)
        if (self->srcs [i].count >= min_count && self->srcs [i].count > 0)
            words [nw++] = i;
    qsort_r (words, nw, sizeof *words, s_cmp_word, self);
    self->word_src = malloc (((size_t) nw + 1) * sizeof *self->word_src);
    self->word_count = malloc (((size_t) nw + 1) * sizeof *self->word_count);
    if (!self->word_src || !self->word_count)
        goto done;
    uint64_t kept = 0;
    for (uint32_t w = 0; w < nw; w++) {
        self->word_src [w] = words [w];
        self->word_count [w] = self->srcs [words [w]].count;
        self->srcs [words [w]].word = (int32_t) w;
        kept += self->word_count [w];
    }
    self->n_words = nw;

    //  Sentences: each bucket in chunks of DS_CORPUS_CHUNK raw words, rare
    //  words dropped, empty chunks skipped.
    uint64_t chunks = 0;
    for (uint32_t r = 0; r < nb; r++)
        chunks += (first [r + 1] - first [r] + DS_CORPUS_CHUNK - 1) / DS_CORPUS_CHUNK;
    self->tokens = malloc ((size_t) (kept ? kept : 1) * sizeof *self->tokens);
    self->starts = malloc ((size_t) (chunks + 1) * sizeof *self->starts);
    if (!self->tokens || !self->starts)
        goto done;
    uint64_t nt = 0, ns = 0;
    self->starts [0] = 0;
    for (uint32_t r = 0; r < nb; r++) {
        const s_tok_t *t = self->toks + first [r];
        uint64_t n = first [r + 1] - first [r];
        if (lines && s_write_line (self, lines, t, n))
            goto done;
        for (uint64_t c = 0; c < n; c += DS_CORPUS_CHUNK) {
            uint64_t end = c + DS_CORPUS_CHUNK < n ? c + DS_CORPUS_CHUNK : n;
            uint64_t before = nt;
            for (uint64_t i = c; i < end; i++) {
                int32_t w = self->srcs [t [i].src].word;
                if (w >= 0)
                    self->tokens [nt++] = (uint32_t) w;
            }
            if (nt > before)
                self->starts [++ns] = nt;
        }
    }
    self->n_tokens = nt;
    self->n_sentences = ns;
    self->n_hours = nb;
    if (lines && fflush (lines) != 0)
        goto done;
    self->n_packets = self->n_toks;
    free (self->toks);
    self->toks = NULL;
    self->n_toks = self->cap_toks = 0;
    self->finished = true;
    rc = 0;
done:
    free (order);
    free (rank);
    free (first);
    free (words);
    return rc;
}

void
ds_corpus_view (const ds_corpus_t *self, ds_w2v_corpus_t *view)
{
    view->n_words = self->n_words;
    view->counts = self->word_count;
    view->n_sentences = self->n_sentences;
    view->starts = self->starts;
    view->tokens = self->tokens;
}

uint32_t
ds_corpus_words (const ds_corpus_t *self)
{
    return self->n_words;
}

uint64_t
ds_corpus_hours (const ds_corpus_t *self)
{
    return self->n_hours;
}

const ds_addr_t *
ds_corpus_word_addr (const ds_corpus_t *self, uint32_t i)
{
    return &self->srcs [self->word_src [i]].addr;
}

uint64_t
ds_corpus_word_count (const ds_corpus_t *self, uint32_t i)
{
    return self->word_count [i];
}

const char *
ds_corpus_word_class (const ds_corpus_t *self, uint32_t i)
{
    const s_source_t *s = &self->srcs [self->word_src [i]];
    if (s->gt)
        return self->classes [s->klass];
    return s->mirai ? "mirai" : "unknown";
}

int64_t
ds_corpus_find (const ds_corpus_t *self, const ds_addr_t *addr)
{
    uint64_t s = s_addr_hash (addr) & self->src_hash.mask;
    uint32_t v;
    while ((v = self->src_hash.slots [s])) {
        if (memcmp (self->srcs [v - 1].addr.b, addr->b, 16) == 0)
            return self->finished ? self->srcs [v - 1].word : -1;
        s = (s + 1) & self->src_hash.mask;
    }
    return -1;
}
