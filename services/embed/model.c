/*  model.c - the trained embedding and its answers; see model.h. */
#include "model.h"
#include "knn.h"
#include "afile.h"
#include "log.h"
#include "ds_proto.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_ROWS_MAX      100000      //  rows in a classify reply
#define S_POINTS_MAX    20000       //  points in a projection reply
#define S_KNN_DEFAULT   10

struct ds_model_s {
    ds_corpus_t *corpus;
    ds_model_params_t params;
    uint32_t n;                     //  words (senders)
    float *vec;                     //  n x dim
    char **classes;                 //  labelled classes, sorted by name
    uint32_t n_classes;
    int32_t *labels;                //  per word, -1 unlabelled
    ds_knn_t *knn;
    ds_knn_vote_t *votes;           //  k = params.k
    ds_knn_class_t *per_class;
    ds_knn_eval_t eval;
    uint32_t *proj_ids;             //  words in the projection
    float *xy;
    uint32_t n_proj;
    double t_corpus, t_train, t_classify;
    uint64_t packets, sources;
};

static double
s_now (void)
{
    struct timespec t;
    clock_gettime (CLOCK_MONOTONIC, &t);
    return (double) t.tv_sec + (double) t.tv_nsec / 1e9;
}

void
ds_model_destroy (ds_model_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ds_model_t *self = *self_p;
    ds_corpus_destroy (&self->corpus);
    free (self->vec);
    for (uint32_t i = 0; i < self->n_classes; i++)
        free (self->classes [i]);
    free (self->classes);
    free (self->labels);
    ds_knn_destroy (&self->knn);
    free (self->votes);
    free (self->per_class);
    free (self->proj_ids);
    free (self->xy);
    free (self);
    *self_p = NULL;
}

uint32_t
ds_model_words (const ds_model_t *self)
{
    return self->n;
}

static const char *s_class_of (const ds_model_t *self, int32_t c);

static int
s_cmp_str (const void *a, const void *b)
{
    return strcmp (*(char *const *) a, *(char *const *) b);
}

//  The labelled classes (every word class but "unknown"), sorted, and
//  each word's label.
static int
s_labels (ds_model_t *self)
{
    self->labels = malloc (((size_t) self->n + 1) * sizeof *self->labels);
    self->classes = calloc (64, sizeof *self->classes);
    uint32_t cap = 64;
    if (!self->labels || !self->classes)
        return -1;
    for (uint32_t i = 0; i < self->n; i++) {
        const char *c = ds_corpus_word_class (self->corpus, i);
        if (strcmp (c, "unknown") == 0)
            continue;
        uint32_t j = 0;
        while (j < self->n_classes && strcmp (self->classes [j], c) != 0)
            j++;
        if (j < self->n_classes)
            continue;
        if (self->n_classes == cap) {
            char **grown = realloc (self->classes, 2 * cap * sizeof *grown);
            if (!grown)
                return -1;
            self->classes = grown;
            cap *= 2;
        }
        if (!(self->classes [self->n_classes] = strdup (c)))
            return -1;
        self->n_classes++;
    }
    qsort (self->classes, self->n_classes, sizeof *self->classes, s_cmp_str);
    for (uint32_t i = 0; i < self->n; i++) {
        const char *c = ds_corpus_word_class (self->corpus, i);
        char *const *hit = bsearch (&c, self->classes, self->n_classes, sizeof *self->classes, s_cmp_str);
        self->labels [i] = hit ? (int32_t) (hit - self->classes) : -1;
    }
    return 0;
}

//  The projection's points: every labelled sender, then unlabelled ones
//  evenly spread, S_POINTS_MAX in all (labelled ones spread too if more).
static int
s_project (ds_model_t *self)
{
    uint32_t lab = 0;
    for (uint32_t i = 0; i < self->n; i++)
        lab += self->labels [i] >= 0;
    uint32_t unl = self->n - lab;
    uint32_t take_lab = lab < S_POINTS_MAX ? lab : S_POINTS_MAX;
    uint32_t take_unl = unl < S_POINTS_MAX - take_lab ? unl : S_POINTS_MAX - take_lab;
    self->proj_ids = malloc (((size_t) take_lab + take_unl + 1) * sizeof *self->proj_ids);
    self->xy = malloc (((size_t) take_lab + take_unl + 1) * 2 * sizeof *self->xy);
    if (!self->proj_ids || !self->xy)
        return -1;
    uint32_t m = 0, seen_lab = 0, seen_unl = 0;
    for (uint32_t i = 0; i < self->n; i++) {
        bool l = self->labels [i] >= 0;
        uint64_t seen = l ? seen_lab++ : seen_unl++;
        uint64_t all = l ? lab : unl, take = l ? take_lab : take_unl;
        //  Keep the i-th of `all` when it crosses a multiple of all/take.
        if (take && (seen * take) / all != ((seen + 1) * take) / all)
            self->proj_ids [m++] = i;
    }
    self->n_proj = m;
    return ds_knn_pca2 (self->knn, self->proj_ids, m, self->xy);
}

static const char *
s_word_text (uint32_t i, void *arg, char *buf, size_t size)
{
    return ds_addr_format (ds_corpus_word_addr (arg, i), buf, size);
}

static int
s_write_model (ds_model_t *self, char *err, size_t err_size)
{
    const char *path = self->params.model_out;
    ds_afile_t *out = ds_afile_new (path);
    int rc = out ? ds_w2v_write_text (ds_afile_stream (out), self->n, self->params.w2v.dim, self->vec,
                                      s_word_text, self->corpus) : -1;
    if (out)
        rc = ds_afile_finish (&out, rc);
    if (rc)
        snprintf (err, err_size, "cannot write the model to %s: %s", path, strerror (errno));
    return rc;
}

//  Every sender: its class, packets, the k-NN class and confidence.
static int
s_write_classes (ds_model_t *self, char *err, size_t err_size)
{
    const char *path = self->params.classes_out;
    ds_afile_t *file = ds_afile_new (path);
    char buf [64];
    if (file) {
        FILE *out = ds_afile_stream (file);
        fprintf (out, "ip,class,packets,predicted,confidence\n");
        for (uint32_t i = 0; i < self->n; i++)
            fprintf (out, "%s,%s,%llu,%s,%.6g\n",
                     ds_addr_format (ds_corpus_word_addr (self->corpus, i), buf, sizeof buf),
                     ds_corpus_word_class (self->corpus, i),
                     (unsigned long long) ds_corpus_word_count (self->corpus, i),
                     s_class_of (self, self->votes [i].klass), self->votes [i].confidence);
    }
    if (!file || ds_afile_commit (&file) != 0) {
        snprintf (err, err_size, "cannot write the classes to %s: %s", path, strerror (errno));
        return -1;
    }
    return 0;
}

ds_model_t *
ds_model_build (ds_corpus_t **corpus_p, const ds_model_params_t *params,
                volatile int *stop, volatile double *progress, char *err, size_t err_size)
{
    const char *why = ds_w2v_params_check (&params->w2v);
    if (why) {
        snprintf (err, err_size, "%s", why);
        return NULL;
    }
    ds_model_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, err_size, "out of memory");
        return NULL;
    }
    self->corpus = *corpus_p;
    *corpus_p = NULL;
    self->params = *params;
    self->packets = ds_corpus_packets (self->corpus);
    self->sources = ds_corpus_sources (self->corpus);
    double t0 = s_now ();
    ds_afile_t *lines = NULL;
    if (params->corpus_out && !(lines = ds_afile_new (params->corpus_out))) {
        snprintf (err, err_size, "cannot write the corpus to %s: %s", params->corpus_out, strerror (errno));
        goto fail;
    }
    int rc = ds_corpus_finish (self->corpus, params->min_count, lines ? ds_afile_stream (lines) : NULL);
    if (lines)
        rc = ds_afile_finish (&lines, rc);
    if (rc) {
        snprintf (err, err_size, "building the corpus failed (%s)",
                  params->corpus_out ? "out of memory or cannot write the corpus file" : "out of memory");
        goto fail;
    }
    self->n = ds_corpus_words (self->corpus);
    self->t_corpus = s_now () - t0;
    if (self->n == 0) {
        snprintf (err, err_size, "no sender has %u packets or more: nothing to embed", params->min_count);
        goto fail;
    }
    ds_w2v_corpus_t view;
    ds_corpus_view (self->corpus, &view);
    t0 = s_now ();
    self->vec = ds_w2v_train (&view, &params->w2v, stop, progress);
    self->t_train = s_now () - t0;
    if (!self->vec) {
        snprintf (err, err_size, "%s", stop && *stop ? "training interrupted" : "training failed: out of memory");
        goto fail;
    }
    if (params->model_out && s_write_model (self, err, err_size))
        goto fail;
    t0 = s_now ();
    if (s_labels (self))
        goto nomem;
    self->knn = ds_knn_new (self->n, params->w2v.dim, self->vec, self->labels,
                            self->n_classes, params->w2v.threads);
    self->votes = malloc (((size_t) self->n + 1) * sizeof *self->votes);
    self->per_class = calloc ((size_t) self->n_classes + 1, sizeof *self->per_class);
    if (!self->knn || !self->votes || !self->per_class
    ||  ds_knn_classify (self->knn, params->k, self->votes))
        goto nomem;
    ds_knn_evaluate (self->knn, self->votes, self->per_class, &self->eval);
    if (s_project (self))
        goto nomem;
    self->t_classify = s_now () - t0;
    if (params->classes_out && s_write_classes (self, err, err_size))
        goto fail;
    return self;
nomem:
    snprintf (err, err_size, "out of memory");
fail:
    ds_model_destroy (&self);
    return NULL;
}

//  --------------------------------------------------------------------------
//  replies

//  A float as the double of its shortest text (7 digits), so JSON shows
//  0.8571429, not 0.8571428656578064.
static double
s_f2d (float f)
{
    char buf [32];
    snprintf (buf, sizeof buf, "%.7g", (double) f);
    return strtod (buf, NULL);
}

static const char *
s_class_of (const ds_model_t *self, int32_t c)
{
    return c >= 0 && (uint32_t) c < self->n_classes ? self->classes [c] : "unknown";
}

int
ds_model_pack_knn (const ds_model_t *self, const char *ip, uint32_t k,
                   msgpack_packer *pk, char *err, size_t err_size)
{
    ds_addr_t addr;
    if (ds_addr_parse (&addr, ip) != 0) {
        snprintf (err, err_size, "knn: '%s' is not an IPv4 or IPv6 address", ip);
        return -1;
    }
    int64_t w = ds_corpus_find (self->corpus, &addr);
    if (w < 0) {
        snprintf (err, err_size, "knn: %s is not in the embedding (never seen, or fewer than %u packets)",
                  ip, self->params.min_count);
        return -1;
    }
    k = k ? k : S_KNN_DEFAULT;
    k = k > DS_KNN_K_MAX ? DS_KNN_K_MAX : k;
    uint32_t *ids = malloc (k * sizeof *ids);
    float *sims = malloc (k * sizeof *sims);
    if (!ids || !sims) {
        free (ids);
        free (sims);
        snprintf (err, err_size, "out of memory");
        return -1;
    }
    uint32_t found = ds_knn_nearest (self->knn, (uint32_t) w, k, ids, sims);
    char buf [64];
    msgpack_pack_map (pk, 6);
    ds_pack_str (pk, "ip");
    ds_pack_str (pk, ds_addr_format (&addr, buf, sizeof buf));
    ds_pack_str (pk, "class");
    ds_pack_str (pk, ds_corpus_word_class (self->corpus, (uint32_t) w));
    ds_pack_str (pk, "predicted");
    ds_pack_str (pk, s_class_of (self, self->votes [w].klass));
    ds_pack_str (pk, "packets");
    msgpack_pack_uint64 (pk, ds_corpus_word_count (self->corpus, (uint32_t) w));
    ds_pack_str (pk, "k");
    msgpack_pack_uint32 (pk, k);
    ds_pack_str (pk, "neighbours");
    msgpack_pack_array (pk, found);
    for (uint32_t i = 0; i < found; i++) {
        msgpack_pack_map (pk, 4);
        ds_pack_str (pk, "ip");
        ds_pack_str (pk, ds_addr_format (ds_corpus_word_addr (self->corpus, ids [i]), buf, sizeof buf));
        ds_pack_str (pk, "class");
        ds_pack_str (pk, ds_corpus_word_class (self->corpus, ids [i]));
        ds_pack_str (pk, "similarity");
        msgpack_pack_double (pk, s_f2d (sims [i]));
        ds_pack_str (pk, "packets");
        msgpack_pack_uint64 (pk, ds_corpus_word_count (self->corpus, ids [i]));
    }
    free (ids);
    free (sims);
    return 0;
}

static const ds_knn_vote_t *s_sort_votes;      //  for s_cmp_row; replies are packed by one thread

static int
s_cmp_row (const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;
    double cx = s_sort_votes [x].confidence, cy = s_sort_votes [y].confidence;
    if (cx != cy)
        return cx > cy ? -1 : 1;
    return (x > y) - (x < y);
}

int
ds_model_pack_classify (const ds_model_t *self, uint32_t k, msgpack_packer *pk,
                        char *err, size_t err_size)
{
    const ds_knn_vote_t *votes = self->votes;
    ds_knn_vote_t *fresh = NULL;
    if (k == 0)
        k = self->params.k;
    k = k > DS_KNN_K_MAX ? DS_KNN_K_MAX : k;
    uint32_t *rows = malloc (((size_t) self->n + 1) * sizeof *rows);
    uint64_t *per = calloc ((size_t) self->n_classes + 1, sizeof *per);
    if (k != self->params.k) {
        fresh = malloc (((size_t) self->n + 1) * sizeof *fresh);
        if (fresh && ds_knn_classify (self->knn, k, fresh) != 0) {
            free (fresh);
            fresh = NULL;
        }
        votes = fresh;
    }
    if (!rows || !per || !votes) {
        free (rows);
        free (per);
        free (fresh);
        snprintf (err, err_size, "out of memory");
        return -1;
    }
    uint32_t m = 0;
    for (uint32_t i = 0; i < self->n; i++)
        if (self->labels [i] < 0 && votes [i].klass >= 0) {
            rows [m++] = i;
            per [votes [i].klass]++;
        }
    s_sort_votes = votes;
    qsort (rows, m, sizeof *rows, s_cmp_row);
    uint32_t shown = m < S_ROWS_MAX ? m : S_ROWS_MAX;
    char buf [64];
    msgpack_pack_map (pk, 5);
    ds_pack_str (pk, "k");
    msgpack_pack_uint32 (pk, k);
    ds_pack_str (pk, "senders");
    msgpack_pack_uint32 (pk, m);
    ds_pack_str (pk, "truncated");
    msgpack_pack_uint32 (pk, m - shown);
    ds_pack_str (pk, "by_class");
    uint32_t classes = 0;
    for (uint32_t c = 0; c < self->n_classes; c++)
        classes += per [c] > 0;
    msgpack_pack_array (pk, classes);
    for (uint32_t c = 0; c < self->n_classes; c++)
        if (per [c]) {
            msgpack_pack_map (pk, 2);
            ds_pack_str (pk, "class");
            ds_pack_str (pk, self->classes [c]);
            ds_pack_str (pk, "senders");
            msgpack_pack_uint64 (pk, per [c]);
        }
    ds_pack_str (pk, "rows");
    msgpack_pack_array (pk, shown);
    for (uint32_t r = 0; r < shown; r++) {
        uint32_t i = rows [r];
        msgpack_pack_map (pk, 4);
        ds_pack_str (pk, "ip");
        ds_pack_str (pk, ds_addr_format (ds_corpus_word_addr (self->corpus, i), buf, sizeof buf));
        ds_pack_str (pk, "class");
        ds_pack_str (pk, self->classes [votes [i].klass]);
        ds_pack_str (pk, "confidence");
        msgpack_pack_double (pk, votes [i].confidence);
        ds_pack_str (pk, "packets");
        msgpack_pack_uint64 (pk, ds_corpus_word_count (self->corpus, i));
    }
    free (rows);
    free (per);
    free (fresh);
    return 0;
}

static const ds_model_t *s_sort_model;

static int
s_cmp_class (const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;
    uint64_t sx = s_sort_model->per_class [x].support, sy = s_sort_model->per_class [y].support;
    if (sx != sy)
        return sx > sy ? -1 : 1;
    return strcmp (s_sort_model->classes [x], s_sort_model->classes [y]);
}

static void
s_pack_params (const ds_model_t *self, msgpack_packer *pk)
{
    const ds_w2v_params_t *p = &self->params.w2v;
    const struct { const char *key; double value; bool integer; } rows [] = {
        { "vector_size", p->dim, true }, { "window", p->window, true },
        { "negative", p->negative, true }, { "epochs", p->epochs, true },
        { "min_count", self->params.min_count, true }, { "sample", p->sample, false },
        { "alpha", p->alpha, false }, { "min_alpha", p->min_alpha, false },
        { "threads", p->threads, true }, { "seed", (double) p->seed, true },
        { "k", self->params.k, true },
    };
    size_t n = sizeof rows / sizeof *rows;
    msgpack_pack_map (pk, (uint32_t) n);
    for (size_t i = 0; i < n; i++) {
        ds_pack_str (pk, rows [i].key);
        if (rows [i].integer)
            msgpack_pack_uint64 (pk, (uint64_t) rows [i].value);
        else
            msgpack_pack_double (pk, rows [i].value);
    }
}

void
ds_model_pack_embedding (const ds_model_t *self, msgpack_packer *pk)
{
    ds_w2v_corpus_t view;
    ds_corpus_view (self->corpus, &view);
    msgpack_pack_map (pk, 12);
    ds_pack_str (pk, "accuracy");
    msgpack_pack_double (pk, self->eval.accuracy);
    ds_pack_str (pk, "macro_f1");
    msgpack_pack_double (pk, self->eval.macro_f1);
    ds_pack_str (pk, "weighted_f1");
    msgpack_pack_double (pk, self->eval.weighted_f1);
    ds_pack_str (pk, "labelled");
    msgpack_pack_uint64 (pk, self->eval.n);
    ds_pack_str (pk, "per_class");
    uint32_t *order = malloc (((size_t) self->n_classes + 1) * sizeof *order);
    uint32_t rows = 0;
    for (uint32_t c = 0; order && c < self->n_classes; c++)
        if (self->per_class [c].support || self->per_class [c].predicted)
            order [rows++] = c;
    s_sort_model = self;
    if (order)
        qsort (order, rows, sizeof *order, s_cmp_class);
    msgpack_pack_array (pk, rows);
    for (uint32_t r = 0; r < rows; r++) {
        const ds_knn_class_t *m = &self->per_class [order [r]];
        msgpack_pack_map (pk, 6);
        ds_pack_str (pk, "class");
        ds_pack_str (pk, self->classes [order [r]]);
        ds_pack_str (pk, "support");
        msgpack_pack_uint64 (pk, m->support);
        ds_pack_str (pk, "predicted");
        msgpack_pack_uint64 (pk, m->predicted);
        ds_pack_str (pk, "precision");
        msgpack_pack_double (pk, m->precision);
        ds_pack_str (pk, "recall");
        msgpack_pack_double (pk, m->recall);
        ds_pack_str (pk, "f1");
        msgpack_pack_double (pk, m->f1);
    }
    free (order);
    uint32_t unlabelled = 0;
    uint64_t *per = calloc ((size_t) self->n_classes + 1, sizeof *per);
    for (uint32_t i = 0; i < self->n; i++)
        if (self->labels [i] < 0) {
            unlabelled++;
            if (per && self->votes [i].klass >= 0)
                per [self->votes [i].klass]++;
        }
    ds_pack_str (pk, "unlabelled");
    msgpack_pack_uint32 (pk, unlabelled);
    //  The unlabelled senders by predicted class, most first.
    ds_pack_str (pk, "unlabelled_predicted");
    uint32_t *by = malloc (((size_t) self->n_classes + 1) * sizeof *by);
    uint32_t nby = 0;
    for (uint32_t c = 0; per && by && c < self->n_classes; c++)
        if (per [c])
            by [nby++] = c;
    for (uint32_t i = 1; i < nby; i++)          //  insertion sort: few classes
        for (uint32_t j = i; j > 0 && (per [by [j]] > per [by [j - 1]]
             || (per [by [j]] == per [by [j - 1]] && strcmp (self->classes [by [j]], self->classes [by [j - 1]]) < 0)); j--) {
            uint32_t x = by [j];
            by [j] = by [j - 1];
            by [j - 1] = x;
        }
    msgpack_pack_array (pk, nby);
    for (uint32_t i = 0; i < nby; i++) {
        msgpack_pack_map (pk, 2);
        ds_pack_str (pk, "class");
        ds_pack_str (pk, self->classes [by [i]]);
        ds_pack_str (pk, "senders");
        msgpack_pack_uint64 (pk, per [by [i]]);
    }
    free (per);
    free (by);
    ds_pack_str (pk, "parameters");
    s_pack_params (self, pk);
    ds_pack_str (pk, "corpus");
    msgpack_pack_map (pk, 6);
    ds_pack_str (pk, "packets");
    msgpack_pack_uint64 (pk, self->packets);
    ds_pack_str (pk, "sources");
    msgpack_pack_uint64 (pk, self->sources);
    ds_pack_str (pk, "hours");
    msgpack_pack_uint64 (pk, ds_corpus_hours (self->corpus));
    ds_pack_str (pk, "sentences");
    msgpack_pack_uint64 (pk, view.n_sentences);
    ds_pack_str (pk, "words");
    msgpack_pack_uint64 (pk, view.starts [view.n_sentences]);
    ds_pack_str (pk, "vocabulary");
    msgpack_pack_uint32 (pk, self->n);
    ds_pack_str (pk, "training_seconds");
    msgpack_pack_double (pk, self->t_train);
    ds_pack_str (pk, "corpus_seconds");
    msgpack_pack_double (pk, self->t_corpus);
    ds_pack_str (pk, "classify_seconds");
    msgpack_pack_double (pk, self->t_classify);
}

void
ds_model_pack_projection (const ds_model_t *self, msgpack_packer *pk)
{
    msgpack_pack_map (pk, 4);
    ds_pack_str (pk, "method");
    ds_pack_str (pk, "pca");
    ds_pack_str (pk, "classes");
    msgpack_pack_array (pk, self->n_classes + 1);
    for (uint32_t c = 0; c < self->n_classes; c++)
        ds_pack_str (pk, self->classes [c]);
    ds_pack_str (pk, "unknown");
    ds_pack_str (pk, "senders");
    msgpack_pack_uint32 (pk, self->n);
    //  [x, y, class index (n_classes = unknown), predicted class index]
    ds_pack_str (pk, "points");
    msgpack_pack_array (pk, self->n_proj);
    for (uint32_t p = 0; p < self->n_proj; p++) {
        uint32_t i = self->proj_ids [p];
        int32_t l = self->labels [i], v = self->votes [i].klass;
        msgpack_pack_array (pk, 4);
        msgpack_pack_double (pk, s_f2d (self->xy [2 * p]));
        msgpack_pack_double (pk, s_f2d (self->xy [2 * p + 1]));
        msgpack_pack_uint32 (pk, l >= 0 ? (uint32_t) l : self->n_classes);
        msgpack_pack_uint32 (pk, v >= 0 ? (uint32_t) v : self->n_classes);
    }
}
