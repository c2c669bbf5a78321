/*  w2v.c - skip-gram with negative sampling; see w2v.h.

    Weights live in rows padded to a multiple of 8 floats (zeros past dim),
    so the pair update is whole 8-float vectors (GCC vector extensions; on
    x86-64 also compiled for Haswell and chosen at run time).
*/
#include "w2v.h"
#include "mix.h"
#include "log.h"
#include "text.h"
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_EXP_SIZE  1000
#define S_MAX_EXP   6
#define S_LANES     8

typedef float s_v8 __attribute__ ((vector_size (32)));

#if defined (__x86_64__) && defined (__GNUC__)
#   define S_X86 1
#endif

void
ds_w2v_params_defaults (ds_w2v_params_t *p)
{
    *p = (ds_w2v_params_t) { .dim = 50, .window = 25, .negative = 5, .epochs = 20,
                             .threads = 2, .alpha = 0.025, .min_alpha = 0.0001,
                             .sample = 0, .seed = 1 };
}

const char *
ds_w2v_params_check (const ds_w2v_params_t *p)
{
    if (p->dim < 1 || p->dim > DS_W2V_DIM_MAX)
        return "vector size must be 1..1024";
    if (p->window < 1 || p->window > DS_W2V_WINDOW_MAX)
        return "window must be 1..1000";
    if (p->negative < 1 || p->negative > DS_W2V_NEGATIVE_MAX)
        return "negative must be 1..100";
    if (p->epochs < 1 || p->epochs > DS_W2V_EPOCHS_MAX)
        return "epochs must be 1..10000";
    if (p->threads < 1 || p->threads > DS_W2V_THREADS_MAX)
        return "threads must be 1..64";
    if (!(p->alpha > 0 && p->alpha <= 1) || !(p->min_alpha >= 0 && p->min_alpha <= p->alpha))
        return "alpha must be in (0, 1] and min_alpha in [0, alpha]";
    if (!(p->sample >= 0 && p->sample < 1))
        return "sample must be in [0, 1)";
    return NULL;
}

typedef struct {
    const ds_w2v_corpus_t *corpus;
    const ds_w2v_params_t *p;
    float *syn0, *syn1;             //  n_words x stride
    int stride;                     //  floats per row (multiple of 8)
    float *alias_prob;              //  unigram^0.75 as an alias table (Vose):
    uint32_t *alias;                //  draw i, keep it with alias_prob [i], else alias [i]
    float *keep;                    //  per word keep probability (sample > 0), or NULL
    float exp_table [S_EXP_SIZE];
    uint64_t total;                 //  epochs x words to train
    _Atomic uint64_t done;          //  words trained so far, all threads
    volatile int *stop;
    volatile double *progress;
    _Atomic int epochs_done [DS_W2V_THREADS_MAX];   //  per worker, its slice
    int reported;                   //  epochs logged (worker 0 only)
    uint64_t words;                 //  words per epoch
    double t0;                      //  training start, CLOCK_MONOTONIC seconds
} s_train_t;

typedef struct {
    s_train_t *t;
    int id;
    int failed;
} s_worker_t;

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

//  A duration as "45s", "12m05s" or "3h07m".
static const char *
s_duration (double seconds, char *buf, size_t size)
{
    uint64_t s = seconds > 0 ? (uint64_t) (seconds + 0.5) : 0;
    if (s < 60)
        snprintf (buf, size, "%" PRIu64 "s", s);
    else
    if (s < 3600)
        snprintf (buf, size, "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
    else
        snprintf (buf, size, "%" PRIu64 "h%02" PRIu64 "m", s / 3600, s / 60 % 60);
    return buf;
}

//  Logs one line per epoch every worker has finished (called by worker 0,
//  and once after the join): a month's 20 epochs take hours, and the
//  operator sees how far it is and how long the rest will take.
static void
s_report (s_train_t *t)
{
    int finished = t->p->epochs;
    for (int i = 0; i < t->p->threads; i++) {
        int e = atomic_load (&t->epochs_done [i]);
        if (e < finished)
            finished = e;
    }
    while (t->reported < finished) {
        int k = ++t->reported, n = t->p->epochs;
        double elapsed = s_now () - t->t0;
        double rate = elapsed > 0 ? (double) t->words * k / elapsed : 0;
        double left = elapsed / k * (n - k);
        char a [32], b [32], r [32];
        ds_log_info_kv (DS_FIELDS (DS_KV ("epoch", k), DS_KV ("epochs", n),
                                   DS_KV ("words_per_s", (uint64_t) rate),
                                   DS_KV ("elapsed_s", round (elapsed * 1000) / 1000),
                                   DS_KV ("left_s", round (left * 1000) / 1000)),
                        "embed: epoch %d of %d trained, %s words/s, %s elapsed, about %s left",
                        k, n, ds_text_group ((int64_t) rate, r, sizeof r), s_duration (elapsed, a, sizeof a), s_duration (left, b, sizeof b));
    }
}

//  xorshift64*: one multiply per draw; its high bits are good.
static inline uint64_t
s_next (uint64_t *x)
{
    *x ^= *x >> 12;
    *x ^= *x << 25;
    *x ^= *x >> 27;
    return *x * 0x2545f4914f6cdd1dULL;
}

//  Uniform in 0..n-1 from 32 random bits, without a division (Lemire).
static inline uint32_t
s_range (uint64_t r, uint32_t n)
{
    return (uint32_t) (((r >> 32) * (uint64_t) n) >> 32);
}

//  One context word (row l1 of syn0) against targets [0] (label 1) and
//  the negatives targets [1..n-1] (label 0), word2vec.c's update.  The
//  body is compiled twice: plain (SSE2 on x86-64) and, on x86-64, for
//  AVX2 + FMA, chosen once per training run (s_pair_pick).
typedef void (s_pair_fn) (float *restrict l1, float *restrict syn1, const uint32_t *targets,
                          int n, int stride, float alpha, const float *exp_table);
static inline __attribute__ ((always_inline)) void
s_pair_body (float *restrict l1, float *restrict syn1, const uint32_t *targets, int n,
             int stride, float alpha, const float *exp_table, int lanes)
{
    s_v8 neu [DS_W2V_DIM_MAX / S_LANES + 1];
    float g [DS_W2V_NEGATIVE_MAX + 1];
    s_v8 *L = (s_v8 *) l1;
    //  Every target's dot product first (independent chains the CPU runs
    //  side by side), then the updates.  A negative drawn twice sees the
    //  other draw's update only in the second pass: Hogwild-sized noise.
    for (int d = 0; d < n; d++) {
        const s_v8 *R = (const s_v8 *) (syn1 + (size_t) targets [d] * (size_t) stride);
        s_v8 acc = L [0] * R [0];
        for (int j = 1; j < lanes; j++)
            acc += L [j] * R [j];
        float f = (acc [0] + acc [4]) + (acc [1] + acc [5]) + (acc [2] + acc [6]) + (acc [3] + acc [7]);
        float label = d == 0 ? 1.0f : 0.0f;
        if (f > S_MAX_EXP)
            g [d] = (label - 1.0f) * alpha;
        else
        if (f < -S_MAX_EXP)
            g [d] = label * alpha;
        else
            g [d] = (label - exp_table [(int) ((f + S_MAX_EXP) * (S_EXP_SIZE / S_MAX_EXP / 2))]) * alpha;
    }
    for (int j = 0; j < lanes; j++)
        neu [j] = (s_v8) { 0 };
    for (int d = 0; d < n; d++) {
        s_v8 *R = (s_v8 *) (syn1 + (size_t) targets [d] * (size_t) stride);
        for (int j = 0; j < lanes; j++) {
            neu [j] += g [d] * R [j];
            R [j] += g [d] * L [j];
        }
    }
    for (int j = 0; j < lanes; j++)
        L [j] += neu [j];
}

static void
s_pair (float *restrict l1, float *restrict syn1, const uint32_t *targets, int n,
        int stride, float alpha, const float *exp_table)
{
    //  DarkVec's V = 50 (7 lanes) with the lane count a constant: unrolled.
    if (stride == 7 * S_LANES)
        s_pair_body (l1, syn1, targets, n, stride, alpha, exp_table, 7);
    else
        s_pair_body (l1, syn1, targets, n, stride, alpha, exp_table, stride / S_LANES);
}

#ifdef S_X86
__attribute__ ((target ("avx2,fma"))) static void
s_pair_avx2 (float *restrict l1, float *restrict syn1, const uint32_t *targets, int n,
             int stride, float alpha, const float *exp_table)
{
    //  DarkVec's V = 50 (7 lanes) with the lane count a constant: unrolled.
    if (stride == 7 * S_LANES)
        s_pair_body (l1, syn1, targets, n, stride, alpha, exp_table, 7);
    else
        s_pair_body (l1, syn1, targets, n, stride, alpha, exp_table, stride / S_LANES);
}
#endif

static s_pair_fn *
s_pair_pick (void)
{
#ifdef S_X86
    __builtin_cpu_init ();
    if (__builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma"))
        return s_pair_avx2;
#endif
    return s_pair;
}

static void *
s_worker (void *arg)
{
    s_worker_t *w = arg;
    s_train_t *t = w->t;
    const ds_w2v_corpus_t *c = t->corpus;
    const ds_w2v_params_t *p = t->p;
    int threads = p->threads;
    uint64_t s_from = c->n_sentences * (uint64_t) w->id / (uint64_t) threads;
    uint64_t s_to = c->n_sentences * (uint64_t) (w->id + 1) / (uint64_t) threads;
    uint64_t seed = p->seed * 0x2545f4914f6cdd1dULL + (uint64_t) w->id;
    uint64_t rnd = ds_splitmix64 (&seed) | 1;
    s_pair_fn *pair = s_pair_pick ();
    uint32_t n_words = c->n_words;
    uint32_t targets [DS_W2V_NEGATIVE_MAX + 1];
    uint32_t *sen = NULL;
    size_t sen_cap = 0;
    uint64_t local = 0;             //  words since the last progress update
    float alpha = (float) p->alpha;
    for (int epoch = 0; epoch < p->epochs; epoch++) {
        for (uint64_t s = s_from; s < s_to; s++) {
            if (t->stop && *t->stop) {
                free (sen);
                w->failed = 1;
                return NULL;
            }
            const uint32_t *words = c->tokens + c->starts [s];
            uint64_t n = c->starts [s + 1] - c->starts [s];
            if (t->keep) {
                //  Downsampling (gensim's rule), into a private copy.
                if (n > sen_cap) {
                    uint32_t *grown = realloc (sen, n * sizeof *sen);
                    if (!grown) {
                        free (sen);
                        w->failed = 1;
                        return NULL;
                    }
                    sen = grown;
                    sen_cap = n;
                }
                uint64_t m = 0;
                for (uint64_t i = 0; i < n; i++)
                    if (t->keep [words [i]] >= (float) (s_next (&rnd) >> 40) / 16777216.0f)
                        sen [m++] = words [i];
                local += n - m;
                words = sen;
                n = m;
            }
            for (uint64_t a = 0; a < n; a++) {
                if (local >= 10000) {
                    uint64_t done = atomic_fetch_add (&t->done, local) + local;
                    local = 0;
                    double progress = (double) done / (double) t->total;
                    alpha = (float) (p->alpha - (p->alpha - p->min_alpha) * progress);
                    if (alpha < (float) p->min_alpha)
                        alpha = (float) p->min_alpha;
                    if (w->id == 0) {
                        if (t->progress)
                            *t->progress = progress > 1 ? 1 : progress;
                        s_report (t);
                    }
                }
                local++;
                uint64_t b = (uint64_t) p->window - s_range (s_next (&rnd), (uint32_t) p->window);
                uint64_t lo = a >= b ? a - b : 0, hi = a + b < n - 1 ? a + b : n - 1;
                uint32_t centre = words [a];
                for (uint64_t x = lo; x <= hi; x++) {
                    if (x == a)
                        continue;
                    int nt = 0;
                    targets [nt++] = centre;
                    for (int d = 0; d < p->negative; d++) {
                        uint64_t r = s_next (&rnd);
                        uint32_t neg = s_range (r, n_words);
                        if ((float) ((r >> 8) & 0xFFFFFF) / 16777216.0f >= t->alias_prob [neg])
                            neg = t->alias [neg];
                        if (neg != centre)
                            targets [nt++] = neg;
                    }
                    pair (t->syn0 + (size_t) words [x] * (size_t) t->stride, t->syn1,
                            targets, nt, t->stride, alpha, t->exp_table);
                }
            }
        }
        atomic_store (&t->epochs_done [w->id], epoch + 1);
        if (w->id == 0)
            s_report (t);
    }
    atomic_fetch_add (&t->done, local);
    free (sen);
    return NULL;
}

//  The unigram^0.75 distribution as an alias table (Vose's method): O(1)
//  draws from 8 bytes per word, where word2vec.c's 10^8-entry table costs
//  a cache miss per negative.
static int
s_table (s_train_t *t)
{
    const ds_w2v_corpus_t *c = t->corpus;
    uint32_t n = c->n_words;
    t->alias_prob = malloc (n * sizeof *t->alias_prob);
    t->alias = malloc (n * sizeof *t->alias);
    double *scaled = malloc (n * sizeof *scaled);
    uint32_t *small = malloc (n * sizeof *small), *large = malloc (n * sizeof *large);
    int rc = -1;
    if (!t->alias_prob || !t->alias || !scaled || !small || !large)
        goto done;
    double sum = 0;
    for (uint32_t i = 0; i < n; i++)
        sum += pow ((double) c->counts [i], 0.75);
    uint32_t ns = 0, nl = 0;
    for (uint32_t i = n; i-- > 0; ) {
        scaled [i] = pow ((double) c->counts [i], 0.75) / sum * n;
        if (scaled [i] < 1)
            small [ns++] = i;
        else
            large [nl++] = i;
    }
    while (ns && nl) {
        uint32_t s = small [--ns], l = large [nl - 1];
        t->alias_prob [s] = (float) scaled [s];
        t->alias [s] = l;
        scaled [l] -= 1 - scaled [s];
        if (scaled [l] < 1) {
            nl--;
            small [ns++] = l;
        }
    }
    while (nl) {
        uint32_t l = large [--nl];
        t->alias_prob [l] = 1;
        t->alias [l] = l;
    }
    while (ns) {
        uint32_t s = small [--ns];
        t->alias_prob [s] = 1;
        t->alias [s] = s;
    }
    rc = 0;
done:
    free (scaled);
    free (small);
    free (large);
    return rc;
}

float *
ds_w2v_train (const ds_w2v_corpus_t *corpus, const ds_w2v_params_t *p,
              volatile int *stop, volatile double *progress)
{
    if (ds_w2v_params_check (p) || corpus->n_words == 0)
        return NULL;
    s_train_t t = { .corpus = corpus, .p = p, .stop = stop, .progress = progress };
    t.stride = (p->dim + S_LANES - 1) / S_LANES * S_LANES;
    size_t n = corpus->n_words, bytes = n * (size_t) t.stride * sizeof (float);
    bytes = (bytes + 63) / 64 * 64;
    float *out = NULL;
    t.syn0 = aligned_alloc (64, bytes);
    t.syn1 = aligned_alloc (64, bytes);
    if (!t.syn0 || !t.syn1 || s_table (&t))
        goto done;
    memset (t.syn1, 0, bytes);
    //  Each word's start vector depends only on (seed, word): the same
    //  with any thread count.
    for (size_t i = 0; i < n; i++) {
        uint64_t x = p->seed ^ (i * 0x9e3779b97f4a7c15ULL);
        float *row = t.syn0 + i * (size_t) t.stride;
        for (int j = 0; j < t.stride; j++)
            row [j] = j < p->dim ? ((float) (ds_splitmix64 (&x) >> 40) / 16777216.0f - 0.5f) / (float) p->dim
                                 : 0.0f;
    }
    for (int i = 0; i < S_EXP_SIZE; i++) {
        double e = exp ((i / (double) S_EXP_SIZE * 2 - 1) * S_MAX_EXP);
        t.exp_table [i] = (float) (e / (e + 1));
    }
    uint64_t words = corpus->starts [corpus->n_sentences];
    if (p->sample > 0) {
        t.keep = malloc (n * sizeof *t.keep);
        if (!t.keep)
            goto done;
        double threshold = p->sample * (double) words;
        for (size_t i = 0; i < n; i++) {
            double v = (double) corpus->counts [i];
            double k = (sqrt (v / threshold) + 1) * (threshold / v);
            t.keep [i] = k > 1 ? 1.0f : (float) k;
        }
    }
    t.total = words * (uint64_t) p->epochs;
    if (t.total == 0)
        t.total = 1;
    atomic_init (&t.done, 0);
    for (int i = 0; i < DS_W2V_THREADS_MAX; i++)
        atomic_init (&t.epochs_done [i], 0);
    t.words = words;
    t.t0 = s_now ();
    s_worker_t workers [DS_W2V_THREADS_MAX];
    pthread_t tids [DS_W2V_THREADS_MAX];
    int started = 0, failed = 0;
    for (int i = 0; i < p->threads; i++) {
        workers [i] = (s_worker_t) { .t = &t, .id = i };
        if (i == 0)
            continue;               //  the caller's thread is worker 0
        if (pthread_create (&tids [i], NULL, s_worker, &workers [i]) != 0) {
            failed = 1;
            break;
        }
        started = i;
    }
    if (!failed)
        s_worker (&workers [0]);
    for (int i = 1; i <= started; i++)
        pthread_join (tids [i], NULL);
    for (int i = 0; i < p->threads; i++)
        failed |= workers [i].failed;
    if (failed)
        goto done;
    s_report (&t);                  //  the epochs worker 0 finished before the others
    if (progress)
        *progress = 1;
    out = malloc (n * (size_t) p->dim * sizeof *out);
    if (out)
        for (size_t i = 0; i < n; i++)
            memcpy (out + i * (size_t) p->dim, t.syn0 + i * (size_t) t.stride,
                    (size_t) p->dim * sizeof *out);
done:
    free (t.syn0);
    free (t.syn1);
    free (t.alias_prob);
    free (t.alias);
    free (t.keep);
    return out;
}

//  --------------------------------------------------------------------------
//  text format

int
ds_w2v_write_text (FILE *out, uint32_t n, int dim, const float *vectors,
                   const char *(*word) (uint32_t i, void *arg, char *buf, size_t size),
                   void *arg)
{
    char buf [256];
    fprintf (out, "%u %d\n", n, dim);
    for (uint32_t i = 0; i < n; i++) {
        fputs (word (i, arg, buf, sizeof buf), out);
        const float *v = vectors + (size_t) i * (size_t) dim;
        for (int j = 0; j < dim; j++)
            fprintf (out, " %.9g", (double) v [j]);
        if (putc ('\n', out) == EOF)
            return -1;
    }
    return fflush (out) == 0 && !ferror (out) ? 0 : -1;
}

void
ds_w2v_model_destroy (ds_w2v_model_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ds_w2v_model_t *self = *self_p;
    if (self->words)
        for (uint32_t i = 0; i < self->n; i++)
            free (self->words [i]);
    free (self->words);
    free (self->vectors);
    free (self);
    *self_p = NULL;
}

//  A cursor over the buffer; tokens are separated by spaces/tabs, lines
//  end at '\n' (a '\r' before it is a separator).
typedef struct {
    const char *p, *end;
    uint64_t line;
} s_cursor_t;

static void
s_skip_blank (s_cursor_t *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\r'))
        c->p++;
}

//  Next token on this line: its start and length (0 at the end of the line).
static size_t
s_token (s_cursor_t *c, const char **start)
{
    s_skip_blank (c);
    *start = c->p;
    while (c->p < c->end && *c->p != ' ' && *c->p != '\t' && *c->p != '\r' && *c->p != '\n')
        c->p++;
    return (size_t) (c->p - *start);
}

//  At the end of a line (blanks allowed); moves past the newline.
static bool
s_end_of_line (s_cursor_t *c)
{
    s_skip_blank (c);
    if (c->p == c->end)
        return true;
    if (*c->p != '\n')
        return false;
    c->p++;
    c->line++;
    return true;
}

static bool
s_number (s_cursor_t *c, double *v, bool integer)
{
    const char *tok;
    size_t len = s_token (c, &tok);
    char buf [64];
    if (len == 0 || len >= sizeof buf)
        return false;
    memcpy (buf, tok, len);
    buf [len] = 0;
    char *end;
    errno = 0;
    *v = integer ? (double) strtoll (buf, &end, 10) : strtod (buf, &end);
    return *end == 0 && errno == 0 && isfinite (*v);
}

ds_w2v_model_t *
ds_w2v_read_text (const char *data, size_t size, char *err, size_t err_size)
{
    s_cursor_t c = { data, data + size, 1 };
    ds_w2v_model_t *m = NULL;
    double n, dim;
    if (!s_number (&c, &n, true) || !s_number (&c, &dim, true) || !s_end_of_line (&c)) {
        snprintf (err, err_size, "line 1: expected the header \"COUNT DIM\"");
        return NULL;
    }
    if (n < 0 || dim < 1 || dim > DS_W2V_DIM_MAX) {
        snprintf (err, err_size, "line 1: count %.0f or dimension %.0f out of range (dim 1..%d)",
                  n, dim, DS_W2V_DIM_MAX);
        return NULL;
    }
    //  Each vector line needs at least a word, dim numbers and separators.
    size_t left = (size_t) (c.end - c.p);
    if (n > (double) (left / (2 * (size_t) dim + 1))) {
        snprintf (err, err_size, "line 1: %.0f vectors of %.0f numbers cannot fit in %zu bytes",
                  n, dim, left);
        return NULL;
    }
    m = calloc (1, sizeof *m);
    if (!m)
        goto nomem;
    m->dim = (int) dim;
    m->words = calloc ((size_t) n + 1, sizeof *m->words);
    m->vectors = malloc (((size_t) n * (size_t) dim + 1) * sizeof *m->vectors);
    if (!m->words || !m->vectors)
        goto nomem;
    for (uint32_t i = 0; i < (uint32_t) n; i++) {
        const char *tok;
        size_t len = s_token (&c, &tok);
        if (len == 0 || len > DS_W2V_WORD_MAX) {
            snprintf (err, err_size, "line %llu: expected a word (1..%d bytes)",
                      (unsigned long long) c.line, DS_W2V_WORD_MAX);
            goto fail;
        }
        if (!(m->words [i] = strndup (tok, len)))
            goto nomem;
        m->n = i + 1;
        if (memchr (tok, 0, len)) {
            snprintf (err, err_size, "line %llu: NUL byte in a word", (unsigned long long) c.line);
            goto fail;
        }
        for (int j = 0; j < m->dim; j++) {
            double v;
            if (!s_number (&c, &v, false) || fabs (v) > 3.4e38) {
                snprintf (err, err_size, "line %llu: number %d of %d is missing or not a finite float",
                          (unsigned long long) c.line, j + 1, m->dim);
                goto fail;
            }
            m->vectors [(size_t) i * (size_t) m->dim + (size_t) j] = (float) v;
        }
        if (!s_end_of_line (&c)) {
            snprintf (err, err_size, "line %llu: more than %d numbers", (unsigned long long) c.line, m->dim);
            goto fail;
        }
    }
    s_skip_blank (&c);
    while (c.p < c.end && (*c.p == '\n' || *c.p == ' ' || *c.p == '\r' || *c.p == '\t'))
        c.p++;
    if (c.p != c.end) {
        snprintf (err, err_size, "line %llu: text after the %u vectors the header announced",
                  (unsigned long long) c.line, m->n);
        goto fail;
    }
    return m;
nomem:
    snprintf (err, err_size, "out of memory");
fail:
    ds_w2v_model_destroy (&m);
    return NULL;
}
