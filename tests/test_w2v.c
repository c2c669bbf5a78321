/*  libs: ds_embed ds_proto ds_common */
/*  test_w2v.c - the skip-gram trainer, its per-epoch progress lines and
    the word2vec text format (services/embed/w2v.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <unistd.h>
#include <cmocka.h>
#include "w2v.h"
#include "log.h"

//  A small corpus: 40 words, 300 sentences of 20 words from two halves.
typedef struct {
    uint64_t counts [40];
    uint64_t starts [301];
    uint32_t tokens [6000];
    ds_w2v_corpus_t view;
} s_corpus_t;

static void
s_make (s_corpus_t *c)
{
    uint64_t x = 7;
    memset (c->counts, 0, sizeof c->counts);
    for (int s = 0; s < 300; s++) {
        c->starts [s] = (uint64_t) s * 20;
        for (int i = 0; i < 20; i++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            uint32_t w = (uint32_t) ((x >> 33) % 20) + (s % 2 ? 20 : 0);
            c->tokens [s * 20 + i] = w;
            c->counts [w]++;
        }
    }
    c->starts [300] = 6000;
    c->view = (ds_w2v_corpus_t) { 40, c->counts, 300, c->starts, c->tokens };
}

static void
test_deterministic (void **state)
{
    (void) state;
    s_corpus_t c;
    s_make (&c);
    ds_w2v_params_t p;
    ds_w2v_params_defaults (&p);
    p.dim = 20;
    p.window = 5;
    p.epochs = 3;
    p.threads = 1;
    p.seed = 42;
    assert_null (ds_w2v_params_check (&p));
    float *a = ds_w2v_train (&c.view, &p, NULL, NULL);
    float *b = ds_w2v_train (&c.view, &p, NULL, NULL);
    assert_non_null (a);
    assert_non_null (b);
    assert_memory_equal (a, b, 40 * 20 * sizeof (float));
    p.seed = 43;
    float *d = ds_w2v_train (&c.view, &p, NULL, NULL);
    assert_non_null (d);
    assert_true (memcmp (a, d, 40 * 20 * sizeof (float)) != 0);
    //  Two threads and downsampling run and give finite vectors.
    p.threads = 2;
    p.sample = 1e-2;
    volatile double progress = 0;
    float *e = ds_w2v_train (&c.view, &p, NULL, &progress);
    assert_non_null (e);
    assert_true (progress == 1.0);
    for (int i = 0; i < 40 * 20; i++)
        assert_true (isfinite (e [i]));
    //  Words of the same half end up closer than words of different halves.
    double same = 0, other = 0;
    for (int i = 0; i < 20; i++)
        for (int j = 0; j < 40; j++) {
            if (j == i)
                continue;
            double dot = 0, ni = 0, nj = 0;
            for (int k = 0; k < 20; k++) {
                dot += a [i * 20 + k] * a [j * 20 + k];
                ni += a [i * 20 + k] * a [i * 20 + k];
                nj += a [j * 20 + k] * a [j * 20 + k];
            }
            (j < 20 ? &same : &other) [0] += dot / sqrt (ni * nj);
        }
    assert_true (same / (20 * 19) > other / (20 * 20) + 0.2);
    //  A stop request ends training without a result.
    volatile int stop = 1;
    assert_null (ds_w2v_train (&c.view, &p, &stop, NULL));
    free (a);
    free (b);
    free (d);
    free (e);
}

static s_corpus_t s_logged_corpus;
static ds_w2v_params_t s_logged_params;

static void
s_train_logged (void)
{
    float *v = ds_w2v_train (&s_logged_corpus.view, &s_logged_params, NULL, NULL);
    assert_non_null (v);
    free (v);
}

//  Runs s_train_logged with stderr going to a file; returns what it wrote
//  (caller frees).
static char *
s_capture (void)
{
    fflush (stderr);
    char path [] = "/tmp/ds-test-w2v-XXXXXX";
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    int saved = dup (STDERR_FILENO);
    dup2 (fd, STDERR_FILENO);
    s_train_logged ();
    fflush (stderr);
    dup2 (saved, STDERR_FILENO);
    close (saved);
    char *text = calloc (1, 65536);
    assert_non_null (text);
    ssize_t n = pread (fd, text, 65535, 0);
    assert_true (n >= 0);
    close (fd);
    unlink (path);
    return text;
}

//  One info line per epoch, in order, with the rate, the time spent and
//  an estimate of the rest; none under --quiet.
static void
test_epoch_lines (void **state)
{
    (void) state;
    s_make (&s_logged_corpus);
    ds_w2v_params_defaults (&s_logged_params);
    s_logged_params.dim = 20;
    s_logged_params.window = 5;
    s_logged_params.epochs = 3;
    ds_log_init ("embed");
    ds_log_set_format ("text");
    for (int threads = 1; threads <= 2; threads++) {
        s_logged_params.threads = threads;
        char *out = s_capture ();
        const char *at = out;
        for (int k = 1; k <= 3; k++) {
            char want [64];
            snprintf (want, sizeof want, "embed: epoch %d of 3 trained, ", k);
            const char *line = strstr (at, want);
            assert_non_null (line);
            assert_null (strstr (line + 1, want));          //  once
            const char *end = strchr (line, '\n');
            assert_non_null (end);
            char one [512];
            snprintf (one, sizeof one, "%.*s", (int) (end - line), line);
            assert_non_null (strstr (one, " words/s, "));
            assert_non_null (strstr (one, "s elapsed, about "));
            assert_non_null (strstr (one, k == 3 ? "about 0s left" : "s left"));
            char field [32];
            snprintf (field, sizeof field, " epoch=%d epochs=3 ", k);
            assert_non_null (strstr (one, field));
            assert_non_null (strstr (one, " words_per_s="));
            assert_non_null (strstr (one, " left_s="));
            at = line;
        }
        free (out);
    }
    ds_log_set_quiet (true);
    char *out = s_capture ();
    assert_null (strstr (out, "epoch"));
    free (out);
    ds_log_set_quiet (false);
}

static void
test_params (void **state)
{
    (void) state;
    ds_w2v_params_t p;
    ds_w2v_params_defaults (&p);
    assert_int_equal (p.dim, 50);
    assert_int_equal (p.window, 25);
    assert_int_equal (p.epochs, 20);
    assert_true (p.sample == 0);
    p.dim = 0;
    assert_non_null (ds_w2v_params_check (&p));
    ds_w2v_params_defaults (&p);
    p.threads = 65;
    assert_non_null (ds_w2v_params_check (&p));
    ds_w2v_params_defaults (&p);
    p.min_alpha = 0.5;
    assert_non_null (ds_w2v_params_check (&p));
}

static const char *
s_word (uint32_t i, void *arg, char *buf, size_t size)
{
    (void) arg;
    snprintf (buf, size, "192.0.2.%u", i);
    return buf;
}

static void
test_text_roundtrip (void **state)
{
    (void) state;
    float v [3 * 4] = { 0.1f, -2.5e-7f, 3.0f, 1e30f, 0, -0.0f, 1.0f / 3.0f, 7,
                        -1, 2, -3, 4 };
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream (&text, &size);
    assert_int_equal (ds_w2v_write_text (f, 3, 4, v, s_word, NULL), 0);
    fclose (f);
    assert_memory_equal (text, "3 4\n192.0.2.0 ", 14);
    char err [256];
    ds_w2v_model_t *m = ds_w2v_read_text (text, size, err, sizeof err);
    assert_non_null (m);
    assert_int_equal (m->n, 3);
    assert_int_equal (m->dim, 4);
    assert_string_equal (m->words [2], "192.0.2.2");
    assert_memory_equal (m->vectors, v, sizeof v);
    ds_w2v_model_destroy (&m);
    assert_null (m);
    free (text);
}

static void
test_text_hostile (void **state)
{
    (void) state;
    const char *bad [] = {
        "",                                     //  no header
        "1\n",                                  //  half a header
        "4000000000 50\nx 1\n",                 //  count that cannot fit
        "1 0\nx\n",                             //  dimension 0
        "1 2000\nx 1\n",                        //  dimension over the cap
        "1 2\nx 1\n",                           //  a number missing
        "1 2\nx 1 2 3\n",                       //  a number too many
        "1 2\nx 1 nan\n",                       //  not finite
        "1 2\nx 1 1e39\n",                      //  not a float
        "1 2\nx 1 2\ny 3 4\n",                  //  more lines than announced
        "2 2\nx 1 2\n",                         //  fewer
        "1 2\nx 1 2abc\n",                      //  junk in a number
        "-1 2\n",
    };
    char err [256];
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ds_w2v_model_t *m = ds_w2v_read_text (bad [i], strlen (bad [i]), err, sizeof err);
        if (m)
            fail_msg ("accepted bad input %zu: %s", i, bad [i]);
        assert_true (strlen (err) > 0);
    }
    //  Blank tails, CRLF and tabs are fine (gensim writes '\n' only).
    const char *good = "2 2\r\nx\t1 2 \r\ny -1e-3 4\n\n";
    ds_w2v_model_t *m = ds_w2v_read_text (good, strlen (good), err, sizeof err);
    assert_non_null (m);
    assert_true (m->vectors [2] == -1e-3f);
    ds_w2v_model_destroy (&m);
    //  Not NUL-terminated: read exactly size bytes.
    char exact [] = { '1', ' ', '1', '\n', 'x', ' ', '5' };
    m = ds_w2v_read_text (exact, sizeof exact, err, sizeof err);
    assert_non_null (m);
    assert_true (m->vectors [0] == 5);
    ds_w2v_model_destroy (&m);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_deterministic),
        cmocka_unit_test (test_epoch_lines),
        cmocka_unit_test (test_params),
        cmocka_unit_test (test_text_roundtrip),
        cmocka_unit_test (test_text_hostile),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
