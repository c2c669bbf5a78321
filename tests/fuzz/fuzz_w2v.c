/*  libs: ds_embed ds_proto ds_common */
/*  fuzz_w2v.c - libFuzzer target: the word2vec text reader (a model file is
    input from outside); what parses must hold exactly n words of 1..255
    bytes and n x dim finite floats, and write back to text that parses to
    the same model. */
#include "w2v.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static const char *
s_word (uint32_t i, void *arg, char *buf, size_t size)
{
    (void) buf;
    (void) size;
    return ((ds_w2v_model_t *) arg)->words [i];
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    char err [256];
    ds_w2v_model_t *m = ds_w2v_read_text ((const char *) data, size, err, sizeof err);
    if (!m) {
        if (!err [0])
            abort ();               //  a refusal always says why
        return 0;
    }
    for (uint32_t i = 0; i < m->n; i++) {
        size_t len = strlen (m->words [i]);
        if (len == 0 || len > DS_W2V_WORD_MAX || strpbrk (m->words [i], " \t\n\r"))
            abort ();
    }
    for (size_t i = 0; i < (size_t) m->n * (size_t) m->dim; i++)
        if (!isfinite (m->vectors [i]))
            abort ();
    char *text = NULL;
    size_t text_size = 0;
    FILE *out = open_memstream (&text, &text_size);
    if (!out || ds_w2v_write_text (out, m->n, m->dim, m->vectors, s_word, m) != 0)
        abort ();
    fclose (out);
    ds_w2v_model_t *back = ds_w2v_read_text (text, text_size, err, sizeof err);
    if (!back || back->n != m->n || back->dim != m->dim
    ||  memcmp (back->vectors, m->vectors, (size_t) m->n * (size_t) m->dim * sizeof (float)) != 0)
        abort ();
    ds_w2v_model_destroy (&back);
    ds_w2v_model_destroy (&m);
    free (text);
    return 0;
}
