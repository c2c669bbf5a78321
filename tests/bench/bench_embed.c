/*  bench_embed.c - darkscope's word2vec + 7-NN on a LineSentence corpus file.

    Reads the corpus that `darkscope run --embed --corpus-out` (or
    darkscope-embed --corpus-out) wrote and the classes CSV of
    --classes-out (ip,class,...), rebuilds the same sentences (each line
    one hour of one service: same chunks, same vocabulary), trains with the
    given threads and epochs, and prints one JSON line: training seconds
    (wall and CPU), leave-one-out 7-NN accuracy and macro F1.  So darkscope
    and gensim (tests/reference/embed_gensim.py) train the very same corpus.

    Usage: bench_embed CORPUS CLASSES.csv THREADS EPOCHS [MODEL_OUT]
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "corpus.h"
#include "knn.h"

static double
s_clock (clockid_t id)
{
    struct timespec t;
    clock_gettime (id, &t);
    return (double) t.tv_sec + (double) t.tv_nsec / 1e9;
}

typedef struct {
    char ip [64];
    char klass [64];
} s_label_t;

static int
s_cmp_label (const void *a, const void *b)
{
    return strcmp (((const s_label_t *) a)->ip, ((const s_label_t *) b)->ip);
}

int
main (int argc, char **argv)
{
    if (argc < 5) {
        fprintf (stderr, "usage: bench_embed CORPUS CLASSES.csv THREADS EPOCHS [MODEL_OUT]\n");
        return 2;
    }
    FILE *in = fopen (argv [1], "r");
    FILE *cls = fopen (argv [2], "r");
    if (!in || !cls) {
        perror ("open");
        return 1;
    }
    //  Classes: ip,class[,...] with a header.
    size_t n_labels = 0, cap = 1024;
    s_label_t *labels = malloc (cap * sizeof *labels);
    char line [512];
    fgets (line, sizeof line, cls);
    while (fgets (line, sizeof line, cls)) {
        char *ip = strtok (line, ",\n"), *klass = strtok (NULL, ",\n");
        if (!ip || !klass)
            continue;
        if (n_labels == cap)
            labels = realloc (labels, (cap *= 2) * sizeof *labels);
        snprintf (labels [n_labels].ip, 64, "%s", ip);
        snprintf (labels [n_labels].klass, 64, "%s", klass);
        n_labels++;
    }
    fclose (cls);
    qsort (labels, n_labels, sizeof *labels, s_cmp_label);

    //  Each line is one (service, hour): line i at hour i, words 1 µs apart.
    ds_corpus_t *corpus = ds_corpus_new (NULL);     //  UTC
    char *buf = NULL;
    size_t size = 0;
    int64_t hour = 0;
    while (getline (&buf, &size, in) > 0) {
        int64_t t = hour++ * 3600000000LL;
        for (char *w = strtok (buf, " \n"); w; w = strtok (NULL, " \n")) {
            ds_addr_t a;
            if (ds_addr_parse (&a, w) != 0)
                continue;
            s_label_t key;
            snprintf (key.ip, sizeof key.ip, "%s", w);
            s_label_t *l = bsearch (&key, labels, n_labels, sizeof *labels, s_cmp_label);
            bool gt = l && strcmp (l->klass, "unknown") != 0;
            ds_corpus_add (corpus, t++, &a, "x", gt ? l->klass : "unknown", gt ? DS_FLAG_GT : 0);
        }
    }
    free (buf);
    fclose (in);
    if (ds_corpus_finish (corpus, 10, NULL) != 0)
        return 1;
    ds_w2v_corpus_t view;
    ds_corpus_view (corpus, &view);
    ds_w2v_params_t p;
    ds_w2v_params_defaults (&p);
    p.threads = atoi (argv [3]);
    p.epochs = atoi (argv [4]);
    double w0 = s_clock (CLOCK_MONOTONIC), c0 = s_clock (CLOCK_PROCESS_CPUTIME_ID);
    float *vec = ds_w2v_train (&view, &p, NULL, NULL);
    double wall = s_clock (CLOCK_MONOTONIC) - w0, cpu = s_clock (CLOCK_PROCESS_CPUTIME_ID) - c0;
    if (!vec)
        return 1;
    uint32_t n = view.n_words;
    if (argc > 5) {
        FILE *out = fopen (argv [5], "w");
        fprintf (out, "%u %d\n", n, p.dim);
        char text [64];
        for (uint32_t i = 0; i < n; i++) {
            fputs (ds_addr_format (ds_corpus_word_addr (corpus, i), text, sizeof text), out);
            for (int j = 0; j < p.dim; j++)
                fprintf (out, " %.9g", (double) vec [(size_t) i * (size_t) p.dim + (size_t) j]);
            fputc ('\n', out);
        }
        fclose (out);
    }
    //  Labels: classes in order of first appearance among the words.
    char names [256][64];
    uint32_t n_names = 0;
    int32_t *lab = malloc (n * sizeof *lab);
    for (uint32_t i = 0; i < n; i++) {
        const char *c = ds_corpus_word_class (corpus, i);
        lab [i] = -1;
        if (strcmp (c, "unknown") == 0)
            continue;
        uint32_t j = 0;
        while (j < n_names && strcmp (names [j], c) != 0)
            j++;
        if (j == n_names && n_names < 256)
            snprintf (names [n_names++], 64, "%s", c);
        lab [i] = j < 256 ? (int32_t) j : -1;
    }
    ds_knn_t *knn = ds_knn_new (n, p.dim, vec, lab, n_names, p.threads);
    ds_knn_vote_t *votes = malloc (n * sizeof *votes);
    ds_knn_classify (knn, 7, votes);
    ds_knn_class_t per [256];
    ds_knn_eval_t e;
    ds_knn_evaluate (knn, votes, per, &e);
    printf ("{\"trainer\": \"darkscope\", \"threads\": %d, \"epochs\": %d, \"vocabulary\": %u, "
            "\"words\": %llu, \"train_wall_s\": %.3f, \"train_cpu_s\": %.3f, \"labelled\": %llu, "
            "\"accuracy\": %.4f, \"macro_f1\": %.4f}\n", p.threads, p.epochs, n,
            (unsigned long long) view.starts [view.n_sentences], wall, cpu,
            (unsigned long long) e.n, e.accuracy, e.macro_f1);
    ds_knn_destroy (&knn);
    ds_corpus_destroy (&corpus);
    free (votes);
    free (lab);
    free (vec);
    free (labels);
    return 0;
}
