/*  model.h - a trained embedding and the answers it gives.

    Built once from a finished stream: the corpus is sorted into sentences,
    word2vec trains the vectors, every sender is classified by its k
    nearest labelled senders (leave-one-out for the labelled ones), the
    evaluation table and a 2-D PCA projection are computed.  Afterwards the
    model is read-only: the embed actor answers queries from it (the pack
    functions write one reply result object each, see PROTOCOL.md).
*/
#ifndef DS_MODEL_H
#define DS_MODEL_H

#include <msgpack.h>
#include "corpus.h"
#include "w2v.h"

typedef struct ds_model_s ds_model_t;

typedef struct {
    ds_w2v_params_t w2v;
    uint32_t min_count;             //  vocabulary threshold (packets)
    uint32_t k;                     //  neighbours for classify / evaluation
    const char *corpus_out;         //  LineSentence file, or NULL
    const char *model_out;          //  word2vec text file, or NULL
    const char *classes_out;        //  CSV ip,class,packets,predicted,confidence, or NULL
} ds_model_params_t;

//  Builds the model from a corpus it takes over (*corpus_p is nulled).
//  *progress (may be NULL) goes 0..1 during training.  Returns the model
//  (caller destroys) or NULL with the reason in err (also when *stop was
//  set, or when no source reached min_count).
ds_model_t *ds_model_build (ds_corpus_t **corpus_p, const ds_model_params_t *params,
                            volatile int *stop, volatile double *progress,
                            char *err, size_t err_size);

//  Destroys a model; NULL-safe; nulls the caller's pointer.
void ds_model_destroy (ds_model_t **self_p);

//  Senders in the vocabulary.
uint32_t ds_model_words (const ds_model_t *self);

//  Packs the knn result of ip (k 0: 10).  Returns 0, or -1 with err (ip
//  not an address, not in the vocabulary).
int ds_model_pack_knn (const ds_model_t *self, const char *ip, uint32_t k,
                       msgpack_packer *pk, char *err, size_t err_size);

//  Packs the classification of the unlabelled senders (k 0: the model's k,
//  else classified again with that k).  Returns 0, or -1 with err.
int ds_model_pack_classify (const ds_model_t *self, uint32_t k, msgpack_packer *pk,
                            char *err, size_t err_size);

//  Packs the evaluation, parameters, corpus size and timings.
void ds_model_pack_embedding (const ds_model_t *self, msgpack_packer *pk);

//  Packs the 2-D projection (PCA) with every point's class.
void ds_model_pack_projection (const ds_model_t *self, msgpack_packer *pk);

#endif
