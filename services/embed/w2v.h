/*  w2v.h - skip-gram word2vec with negative sampling, in C (DarkVec §4).

    The algorithm of Mikolov's word2vec.c and gensim's Word2Vec(sg=1,
    hs=0): for each word, a reduced window b drawn from 1..window, each
    context word within b is trained against the centre word plus
    `negative` words drawn from the unigram distribution raised to 0.75;
    the learning rate falls linearly from alpha to min_alpha over
    epochs x words; `sample` > 0 downsamples frequent words as gensim does.
    Vectors start uniform in (-0.5, 0.5) / dim, output weights at zero.

    Threads share the weights without locks (Hogwild, as word2vec.c and
    gensim); each takes a contiguous slice of the sentences per epoch and
    has its own random stream.  With one thread, a seed gives the same
    vectors bit for bit on any run.

    The text format is word2vec's (and gensim's save_word2vec_format,
    binary=False): a header "N DIM", then per word "WORD v1 ... vDIM".
*/
#ifndef DS_W2V_H
#define DS_W2V_H

#include <stdint.h>
#include <stdio.h>
#include <stddef.h>

typedef struct {
    uint32_t n_words;               //  vocabulary size
    const uint64_t *counts;         //  occurrences per word (negative table, sample)
    uint64_t n_sentences;
    const uint64_t *starts;         //  n_sentences + 1 offsets into tokens
    const uint32_t *tokens;         //  word ids < n_words
} ds_w2v_corpus_t;

typedef struct {
    int dim;                        //  vector size V, default 50
    int window;                     //  context C, default 25
    int negative;                   //  negative samples, default 5
    int epochs;                     //  default 20
    int threads;                    //  default 2
    double alpha;                   //  start learning rate, default 0.025
    double min_alpha;               //  end learning rate, default 0.0001
    double sample;                  //  downsampling threshold, default 0 (off)
    uint64_t seed;                  //  default 1
} ds_w2v_params_t;

#define DS_W2V_DIM_MAX      1024
#define DS_W2V_WINDOW_MAX   1000
#define DS_W2V_NEGATIVE_MAX 100
#define DS_W2V_EPOCHS_MAX   10000
#define DS_W2V_THREADS_MAX  64

//  Fills params with DarkVec's settings (V 50, C 25, 5 negatives, 20
//  epochs, sample 0) and 2 threads, seed 1.
void ds_w2v_params_defaults (ds_w2v_params_t *params);

//  Returns NULL if params are usable, else why not.
const char *ds_w2v_params_check (const ds_w2v_params_t *params);

//  Trains; returns n_words x dim floats, row-major (caller frees), or NULL
//  when out of memory, on bad params or when *stop became non-zero (stop
//  may be NULL).  *progress (may be NULL) is raised from 0 to 1 as it goes,
//  and an info line is logged as each epoch ends ("embed: epoch 3 of 20
//  trained, N words/s, T elapsed, about T left"; fields epoch, epochs,
//  words_per_s, elapsed_s, left_s).
float *ds_w2v_train (const ds_w2v_corpus_t *corpus, const ds_w2v_params_t *params,
                     volatile int *stop, volatile double *progress);

//  Writes vectors in word2vec text format; word (i, arg) gives each word's
//  text (no spaces).  Returns 0, or -1 on a write error.
int ds_w2v_write_text (FILE *out, uint32_t n, int dim, const float *vectors,
                       const char *(*word) (uint32_t i, void *arg, char *buf, size_t size),
                       void *arg);

//  A model read from text: words and vectors.
typedef struct {
    uint32_t n;
    int dim;
    char **words;                   //  n strings
    float *vectors;                 //  n x dim
} ds_w2v_model_t;

#define DS_W2V_WORD_MAX 255         //  longest word the reader accepts, bytes

//  Parses word2vec text (header "N DIM", N lines of a word and DIM
//  numbers) from a buffer.  Never trusts N or DIM: they are checked
//  against the bytes present before anything is allocated.  Returns the
//  model (caller frees with ds_w2v_model_destroy), or NULL with the line
//  and reason in err.
ds_w2v_model_t *ds_w2v_read_text (const char *data, size_t size, char *err, size_t err_size);

//  Destroys a model read by ds_w2v_read_text; NULL-safe; nulls the pointer.
void ds_w2v_model_destroy (ds_w2v_model_t **self_p);

#endif
