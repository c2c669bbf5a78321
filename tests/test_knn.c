/*  libs: ds_embed ds_proto ds_common */
/*  test_knn.c - k-NN, leave-one-out evaluation, PCA (services/embed/knn.c),
    and the whole chain corpus -> word2vec -> 7-NN on planted groups. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>
#include "knn.h"
#include "corpus.h"

//  Points on the unit circle at the given angles (degrees).
static float *
s_circle (const double *deg, uint32_t n)
{
    float *v = malloc (n * 2 * sizeof *v);
    for (uint32_t i = 0; i < n; i++) {
        v [2 * i] = (float) cos (deg [i] * M_PI / 180);
        v [2 * i + 1] = (float) sin (deg [i] * M_PI / 180);
    }
    return v;
}

static void
test_known_neighbours (void **state)
{
    (void) state;
    //  Three groups of angles; word 9 is unlabelled next to group 1.
    const double deg [] = { 0, 5, 10, 120, 125, 130, 240, 245, 250, 128, 62 };
    const int32_t labels [] = { 0, 0, 0, 1, 1, 1, 2, 2, 1, -1, 0 };
    float *v = s_circle (deg, 11);
    ds_knn_t *knn = ds_knn_new (11, 2, v, labels, 3, 2);
    assert_non_null (knn);
    uint32_t ids [4];
    float sims [4];
    assert_int_equal (ds_knn_nearest (knn, 4, 4, ids, sims), 4);
    assert_int_equal (ids [0], 9);      //  128 degrees
    assert_true ((ids [1] == 3 && ids [2] == 5) || (ids [1] == 5 && ids [2] == 3));
    assert_int_equal (ids [3], 10);     //  62 degrees
    assert_true (sims [0] >= sims [1] && sims [1] >= sims [2] && sims [2] >= sims [3]);
    assert_true (fabsf (sims [1] - sims [2]) < 1e-6f);
    ds_knn_vote_t votes [11];
    assert_int_equal (ds_knn_classify (knn, 3, votes), 0);
    //  Word 8 (250, labelled 1) sits among class 2: a miss.
    assert_int_equal (votes [8].klass, 2);
    assert_int_equal (votes [0].klass, 0);
    assert_true (votes [0].confidence == 1.0);
    //  Word 9 (unlabelled): 125, 130, 120 -> class 1, all votes.
    assert_int_equal (votes [9].klass, 1);
    //  Word 10 (62): 10 (0), 5 (0), 120 (1) -> 0 with 2 of 3.
    assert_int_equal (votes [10].klass, 0);
    assert_true (fabs (votes [10].confidence - 2.0 / 3) < 1e-12);
    ds_knn_destroy (&knn);
    free (v);
    //  A tie (k = 2, one vote each) goes to the nearest neighbour's class.
    const double tie [] = { 0, 10, 4, 6 };
    const int32_t tie_labels [] = { 0, 1, -1, -1 };
    v = s_circle (tie, 4);
    knn = ds_knn_new (4, 2, v, tie_labels, 2, 1);
    assert_int_equal (ds_knn_classify (knn, 2, votes), 0);
    assert_int_equal (votes [2].klass, 0);
    assert_int_equal (votes [3].klass, 1);
    assert_true (votes [3].confidence == 0.5);
    ds_knn_destroy (&knn);
    free (v);
}

static void
test_metrics (void **state)
{
    (void) state;
    //  Two clusters; labels chosen so the votes are known, then the
    //  metrics are sklearn's classification_report by hand.
    const double deg [] = { 0, 1, 2, 3, 180, 181, 182, 183 };
    const int32_t labels [] = { 0, 0, 0, 1, 1, 1, 1, 2 };
    float *v = s_circle (deg, 8);
    ds_knn_t *knn = ds_knn_new (8, 2, v, labels, 4, 1);
    ds_knn_vote_t votes [8];
    assert_int_equal (ds_knn_classify (knn, 3, votes), 0);
    //  Predictions: 0,0,0 -> 0; word 3 -> 0; 4,5,6 -> 1; word 7 -> 1.
    for (int i = 0; i < 8; i++)
        assert_int_equal (votes [i].klass, i < 4 ? 0 : 1);
    ds_knn_class_t pc [4];
    ds_knn_eval_t e;
    ds_knn_evaluate (knn, votes, pc, &e);
    assert_int_equal (e.n, 8);
    assert_true (fabs (e.accuracy - 6.0 / 8) < 1e-12);
    //  class 0: support 3, predicted 4, tp 3 -> p .75 r 1 f1 6/7
    assert_int_equal (pc [0].support, 3);
    assert_int_equal (pc [0].predicted, 4);
    assert_true (fabs (pc [0].f1 - 6.0 / 7) < 1e-12);
    //  class 1: support 4, predicted 4, tp 3 -> .75 .75 .75
    assert_true (fabs (pc [1].f1 - 0.75) < 1e-12);
    //  class 2: support 1, nothing predicted -> 0; class 3 absent.
    assert_true (pc [2].f1 == 0 && pc [2].precision == 0);
    assert_int_equal (pc [3].support, 0);
    assert_true (fabs (e.macro_f1 - (6.0 / 7 + 0.75 + 0) / 3) < 1e-12);
    assert_true (fabs (e.weighted_f1 - (3 * 6.0 / 7 + 4 * 0.75) / 8) < 1e-12);
    //  PCA of the two clusters: the first axis separates them.
    uint32_t ids [8] = { 0, 1, 2, 3, 4, 5, 6, 7 };
    float xy [16];
    assert_int_equal (ds_knn_pca2 (knn, ids, 8, xy), 0);
    for (int i = 0; i < 4; i++)
        assert_true (xy [2 * i] * xy [2 * (i + 4)] < 0);
    ds_knn_destroy (&knn);
    free (v);
}

//  --------------------------------------------------------------------------
//  Planted groups through the whole chain.

#define S_GROUPS    4
#define S_MEMBERS   12
#define S_HIDDEN    3               //  unlabelled members of group 0
#define S_NOISE     30
#define S_HOURS     240

static uint64_t s_rng = 12345;
static uint32_t
s_below (uint32_t n)
{
    s_rng = s_rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t) ((s_rng >> 33) % n);
}

static void
test_planted (void **state)
{
    (void) state;
    const char *classes [S_GROUPS] = { "censys", "shodan", "stretchoid", "mirai" };
    //  Groups 0, 1 and 3 share telnet and group 2 is on http, each group
    //  active in its own hours: only time together tells them apart.
    const char *service [S_GROUPS] = { "telnet", "telnet", "http", "telnet" };
    ds_corpus_t *c = ds_corpus_new (NULL);
    const int64_t t0 = 1614643200000000LL, hour = 3600000000LL;
    for (int h = 0; h < S_HOURS; h++) {
        int g = h % S_GROUPS;
        for (int m = 0; m < S_MEMBERS + (g == 0 ? S_HIDDEN : 0); m++)
            for (int p = 0; p < 2; p++) {
                ds_addr_t a;
                char ip [32];
                snprintf (ip, sizeof ip, "10.%d.0.%d", g, m);
                ds_addr_parse (&a, ip);
                bool labelled = m < S_MEMBERS;
                assert_int_equal (ds_corpus_add (c, t0 + h * hour + s_below (3600) * 1000000LL, &a,
                                                 service [g], labelled ? classes [g] : "unknown",
                                                 labelled ? DS_FLAG_GT : 0), 0);
            }
        //  Background senders hit any service at any hour.
        for (int k = 0; k < 6; k++) {
            ds_addr_t a;
            char ip [32];
            snprintf (ip, sizeof ip, "172.16.0.%u", s_below (S_NOISE));
            ds_addr_parse (&a, ip);
            assert_int_equal (ds_corpus_add (c, t0 + h * hour + s_below (3600) * 1000000LL, &a,
                                             s_below (2) ? "telnet" : "http", "unknown", 0), 0);
        }
    }
    assert_int_equal (ds_corpus_finish (c, 10, NULL), 0);
    uint32_t n = ds_corpus_words (c);
    assert_int_equal (n, S_GROUPS * S_MEMBERS + S_HIDDEN + S_NOISE);
    ds_w2v_corpus_t view;
    ds_corpus_view (c, &view);
    ds_w2v_params_t p;
    ds_w2v_params_defaults (&p);
    p.dim = 16;
    p.window = 10;
    p.epochs = 10;
    p.threads = 1;
    float *vec = ds_w2v_train (&view, &p, NULL, NULL);
    assert_non_null (vec);
    int32_t *labels = malloc (n * sizeof *labels);
    for (uint32_t i = 0; i < n; i++) {
        labels [i] = -1;
        for (int g = 0; g < S_GROUPS; g++)
            if (strcmp (ds_corpus_word_class (c, i), classes [g]) == 0)
                labels [i] = g;
    }
    ds_knn_t *knn = ds_knn_new (n, p.dim, vec, labels, S_GROUPS, 2);
    ds_knn_vote_t *votes = malloc (n * sizeof *votes);
    assert_int_equal (ds_knn_classify (knn, 7, votes), 0);
    ds_knn_class_t pc [S_GROUPS];
    ds_knn_eval_t e;
    ds_knn_evaluate (knn, votes, pc, &e);
    assert_int_equal (e.n, S_GROUPS * S_MEMBERS);
    if (e.accuracy < 0.95)
        fail_msg ("planted groups recovered with accuracy %.3f only", e.accuracy);
    //  The hidden members of group 0 are found, confidently.
    for (int m = S_MEMBERS; m < S_MEMBERS + S_HIDDEN; m++) {
        ds_addr_t a;
        char ip [32];
        snprintf (ip, sizeof ip, "10.0.0.%d", m);
        ds_addr_parse (&a, ip);
        int64_t w = ds_corpus_find (c, &a);
        assert_true (w >= 0);
        assert_int_equal (votes [w].klass, 0);
        assert_true (votes [w].confidence >= 0.7);
    }
    free (votes);
    free (labels);
    free (vec);
    ds_knn_destroy (&knn);
    ds_corpus_destroy (&c);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_known_neighbours),
        cmocka_unit_test (test_metrics),
        cmocka_unit_test (test_planted),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
