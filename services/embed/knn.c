/*  knn.c - cosine k-NN, leave-one-out evaluation, PCA; see knn.h.

    Brute force: every query word against every labelled word (their unit
    vectors packed together for locality), split over threads.  At DarkVec
    scale (10^5 words, 10^4 labelled, 50 dims) that is seconds.
*/
#include "knn.h"
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct ds_knn_s {
    uint32_t n;
    int dim;
    float *unit;                    //  n x dim, unit length (zero vectors stay zero)
    int32_t *labels;
    uint32_t n_classes;
    int threads;
    uint32_t n_lab;
    uint32_t *lab_ids;              //  labelled word ids, ascending
    float *lab_unit;                //  n_lab x dim, packed
};

ds_knn_t *
ds_knn_new (uint32_t n, int dim, const float *vectors, const int32_t *labels,
            uint32_t n_classes, int threads)
{
    ds_knn_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->n = n;
    self->dim = dim;
    self->n_classes = n_classes;
    self->threads = threads < 1 ? 1 : threads > 64 ? 64 : threads;
    size_t cells = (size_t) n * (size_t) dim + 1;
    self->unit = malloc (cells * sizeof *self->unit);
    self->labels = malloc (((size_t) n + 1) * sizeof *self->labels);
    self->lab_ids = malloc (((size_t) n + 1) * sizeof *self->lab_ids);
    if (!self->unit || !self->labels || !self->lab_ids) {
        ds_knn_destroy (&self);
        return NULL;
    }
    for (uint32_t i = 0; i < n; i++) {
        const float *v = vectors + (size_t) i * (size_t) dim;
        double norm = 0;
        for (int j = 0; j < dim; j++)
            norm += (double) v [j] * (double) v [j];
        norm = sqrt (norm);
        float *u = self->unit + (size_t) i * (size_t) dim;
        for (int j = 0; j < dim; j++)
            u [j] = norm > 0 ? (float) (v [j] / norm) : 0.0f;
        self->labels [i] = labels && labels [i] >= 0 && (uint32_t) labels [i] < n_classes ? labels [i] : -1;
        if (self->labels [i] >= 0)
            self->lab_ids [self->n_lab++] = i;
    }
    self->lab_unit = malloc (((size_t) self->n_lab * (size_t) dim + 1) * sizeof *self->lab_unit);
    if (!self->lab_unit) {
        ds_knn_destroy (&self);
        return NULL;
    }
    for (uint32_t l = 0; l < self->n_lab; l++)
        memcpy (self->lab_unit + (size_t) l * (size_t) dim,
                self->unit + (size_t) self->lab_ids [l] * (size_t) dim, (size_t) dim * sizeof (float));
    return self;
}

void
ds_knn_destroy (ds_knn_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ds_knn_t *self = *self_p;
    free (self->unit);
    free (self->labels);
    free (self->lab_ids);
    free (self->lab_unit);
    free (self);
    *self_p = NULL;
}

int32_t
ds_knn_label (const ds_knn_t *self, uint32_t i)
{
    return i < self->n ? self->labels [i] : -1;
}

static inline float
s_dot (const float *a, const float *b, int dim)
{
    float s = 0;
    for (int j = 0; j < dim; j++)
        s += a [j] * b [j];
    return s;
}

//  Keeps the best k (sim desc, id asc) in ids/sims, sorted; *found grows.
static inline void
s_offer (uint32_t *ids, float *sims, uint32_t k, uint32_t *found, uint32_t id, float sim)
{
    uint32_t m = *found;
    if (m == k && (sim < sims [m - 1] || (sim == sims [m - 1] && id > ids [m - 1])))
        return;
    uint32_t pos = m < k ? m : k - 1;
    while (pos > 0 && (sims [pos - 1] < sim || (sims [pos - 1] == sim && ids [pos - 1] > id))) {
        ids [pos] = ids [pos - 1];
        sims [pos] = sims [pos - 1];
        pos--;
    }
    ids [pos] = id;
    sims [pos] = sim;
    if (m < k)
        *found = m + 1;
}

uint32_t
ds_knn_nearest (const ds_knn_t *self, uint32_t i, uint32_t k, uint32_t *ids, float *sims)
{
    if (i >= self->n || k == 0)
        return 0;
    if (k > DS_KNN_K_MAX)
        k = DS_KNN_K_MAX;
    uint32_t found = 0;
    const float *q = self->unit + (size_t) i * (size_t) self->dim;
    for (uint32_t j = 0; j < self->n; j++)
        if (j != i)
            s_offer (ids, sims, k, &found, j, s_dot (q, self->unit + (size_t) j * (size_t) self->dim, self->dim));
    return found;
}

typedef struct {
    const ds_knn_t *self;
    uint32_t k, from, to;
    ds_knn_vote_t *votes;
    int failed;
} s_job_t;

static void *
s_classify_range (void *arg)
{
    s_job_t *job = arg;
    const ds_knn_t *self = job->self;
    uint32_t k = job->k;
    uint32_t *ids = malloc (k * sizeof *ids);
    float *sims = malloc (k * sizeof *sims);
    uint32_t *count = calloc (self->n_classes + 1, sizeof *count);
    if (!ids || !sims || !count) {
        job->failed = 1;
        goto done;
    }
    for (uint32_t i = job->from; i < job->to; i++) {
        const float *q = self->unit + (size_t) i * (size_t) self->dim;
        uint32_t found = 0;
        for (uint32_t l = 0; l < self->n_lab; l++) {
            if (self->lab_ids [l] == i)
                continue;
            float sim = s_dot (q, self->lab_unit + (size_t) l * (size_t) self->dim, self->dim);
            s_offer (ids, sims, k, &found, self->lab_ids [l], sim);
        }
        uint32_t best = 0;
        for (uint32_t m = 0; m < found; m++) {
            uint32_t c = (uint32_t) self->labels [ids [m]];
            if (++count [c] > best)
                best = count [c];
        }
        int32_t winner = -1;
        for (uint32_t m = 0; m < found && winner < 0; m++)
            if (count [self->labels [ids [m]]] == best)
                winner = self->labels [ids [m]];
        for (uint32_t m = 0; m < found; m++)
            count [self->labels [ids [m]]] = 0;
        job->votes [i].klass = winner;
        job->votes [i].confidence = found ? (double) best / (double) found : 0.0;
    }
done:
    free (ids);
    free (sims);
    free (count);
    return NULL;
}

int
ds_knn_classify (const ds_knn_t *self, uint32_t k, ds_knn_vote_t *votes)
{
    if (k == 0)
        k = 1;
    if (k > DS_KNN_K_MAX)
        k = DS_KNN_K_MAX;
    s_job_t jobs [64];
    pthread_t tids [64];
    int t = self->threads, started = 0, failed = 0;
    for (int i = 0; i < t; i++)
        jobs [i] = (s_job_t) { self, k, (uint32_t) ((uint64_t) self->n * (uint64_t) i / (uint64_t) t),
                               (uint32_t) ((uint64_t) self->n * (uint64_t) (i + 1) / (uint64_t) t), votes, 0 };
    for (int i = 1; i < t; i++) {
        if (pthread_create (&tids [i], NULL, s_classify_range, &jobs [i]) != 0)
            break;                  //  the ranges left are done here
        started = i;
    }
    s_classify_range (&jobs [0]);
    for (int i = started + 1; i < t; i++)
        s_classify_range (&jobs [i]);
    for (int i = 1; i <= started; i++)
        pthread_join (tids [i], NULL);
    for (int i = 0; i < t; i++)
        failed |= jobs [i].failed;
    return failed ? -1 : 0;
}

void
ds_knn_evaluate (const ds_knn_t *self, const ds_knn_vote_t *votes,
                 ds_knn_class_t *per_class, ds_knn_eval_t *eval)
{
    memset (per_class, 0, self->n_classes * sizeof *per_class);
    memset (eval, 0, sizeof *eval);
    uint64_t correct = 0;
    for (uint32_t l = 0; l < self->n_lab; l++) {
        uint32_t i = self->lab_ids [l];
        int32_t truth = self->labels [i], pred = votes [i].klass;
        per_class [truth].support++;
        if (pred >= 0 && (uint32_t) pred < self->n_classes)
            per_class [pred].predicted++;
        if (pred == truth) {
            per_class [truth].tp++;
            correct++;
        }
    }
    eval->n = self->n_lab;
    eval->accuracy = self->n_lab ? (double) correct / (double) self->n_lab : 0;
    uint32_t present = 0;
    for (uint32_t c = 0; c < self->n_classes; c++) {
        ds_knn_class_t *m = &per_class [c];
        m->precision = m->predicted ? (double) m->tp / (double) m->predicted : 0;
        m->recall = m->support ? (double) m->tp / (double) m->support : 0;
        m->f1 = m->precision + m->recall > 0
              ? 2 * m->precision * m->recall / (m->precision + m->recall) : 0;
        if (m->support || m->predicted) {
            present++;
            eval->macro_f1 += m->f1;
        }
        eval->weighted_f1 += m->f1 * (double) m->support;
    }
    eval->macro_f1 = present ? eval->macro_f1 / present : 0;
    eval->weighted_f1 = self->n_lab ? eval->weighted_f1 / (double) self->n_lab : 0;
}

//  Top eigenvector of a symmetric dim x dim matrix by power iteration
//  from a fixed start; sign fixed so the largest component is positive.
static void
s_power (const double *cov, int dim, double *v)
{
    double *w = malloc ((size_t) dim * sizeof *w);
    if (!w)
        return;
    for (int j = 0; j < dim; j++)
        v [j] = 1.0 / sqrt ((double) dim) + 1e-3 * j;
    for (int it = 0; it < 500; it++) {
        double norm = 0;
        for (int a = 0; a < dim; a++) {
            w [a] = 0;
            for (int b = 0; b < dim; b++)
                w [a] += cov [a * dim + b] * v [b];
            norm += w [a] * w [a];
        }
        norm = sqrt (norm);
        if (norm == 0)
            break;
        double delta = 0;
        for (int a = 0; a < dim; a++) {
            delta += fabs (w [a] / norm - v [a]);
            v [a] = w [a] / norm;
        }
        if (delta < 1e-12)
            break;
    }
    int big = 0;
    for (int a = 1; a < dim; a++)
        if (fabs (v [a]) > fabs (v [big]))
            big = a;
    if (v [big] < 0)
        for (int a = 0; a < dim; a++)
            v [a] = -v [a];
    free (w);
}

int
ds_knn_pca2 (const ds_knn_t *self, const uint32_t *ids, uint32_t m, float *xy)
{
    int dim = self->dim;
    double *mean = calloc ((size_t) dim, sizeof *mean);
    double *cov = calloc ((size_t) dim * (size_t) dim, sizeof *cov);
    double *axis [2] = { calloc ((size_t) dim, sizeof (double)), calloc ((size_t) dim, sizeof (double)) };
    int rc = -1;
    if (!mean || !cov || !axis [0] || !axis [1])
        goto done;
    for (uint32_t r = 0; r < m; r++)
        for (int j = 0; j < dim; j++)
            mean [j] += self->unit [(size_t) ids [r] * (size_t) dim + (size_t) j];
    for (int j = 0; j < dim && m; j++)
        mean [j] /= m;
    for (uint32_t r = 0; r < m; r++) {
        const float *u = self->unit + (size_t) ids [r] * (size_t) dim;
        for (int a = 0; a < dim; a++)
            for (int b = a; b < dim; b++)
                cov [a * dim + b] += (u [a] - mean [a]) * (u [b] - mean [b]);
    }
    for (int a = 0; a < dim; a++)
        for (int b = 0; b < a; b++)
            cov [a * dim + b] = cov [b * dim + a];
    for (int p = 0; p < 2; p++) {
        s_power (cov, dim, axis [p]);
        //  Deflate: remove the found component before the next one.
        double lambda = 0;
        for (int a = 0; a < dim; a++)
            for (int b = 0; b < dim; b++)
                lambda += axis [p][a] * cov [a * dim + b] * axis [p][b];
        for (int a = 0; a < dim; a++)
            for (int b = 0; b < dim; b++)
                cov [a * dim + b] -= lambda * axis [p][a] * axis [p][b];
    }
    for (uint32_t r = 0; r < m; r++) {
        const float *u = self->unit + (size_t) ids [r] * (size_t) dim;
        for (int p = 0; p < 2; p++) {
            double s = 0;
            for (int j = 0; j < dim; j++)
                s += (u [j] - mean [j]) * axis [p][j];
            xy [2 * r + (uint32_t) p] = (float) s;
        }
    }
    rc = 0;
done:
    free (mean);
    free (cov);
    free (axis [0]);
    free (axis [1]);
    return rc;
}
