/*  embed.h - the embedding service: DarkVec's word2vec of senders.

    The actor subscribes to the labelled batches of every shard ("lab.",
    like a set of aggregators) and builds the corpus (corpus.h): per
    service, one sentence per local hour of the source addresses in time
    order.  Sentences need every shard's sources, so they meet here.  Once
    every expected stream (shards x sensors) has ended, or on a "train"
    query, a worker thread sorts the corpus, trains skip-gram word2vec
    (w2v.h), classifies every sender by its k nearest labelled senders
    (knn.h), evaluates that leave-one-out over the labelled ones, and
    writes the corpus (gensim LineSentence) and the model (word2vec text)
    if asked.  Batches after that are counted as late and not used: one
    model per stream.

    Its REP socket answers the §6 query maps:
      knn {ip, k}      the k (default 10) nearest senders, similarity, class
      classify {k}     predicted class + confidence of every unlabelled sender
                       (at most 100,000 rows, most confident first)
      embedding        evaluation (accuracy, macro/weighted F1, per class),
                       parameters, corpus size, training seconds
      projection       2-D PCA of the vectors, with classes (the figure;
                       at most 20,000 points, every labelled sender first)
      train            build the model now from what arrived
      status           state, packets, streams ended, gaps, progress
    Before the model exists, the first four get an error saying what the
    service is doing (collecting, training and how far).

    Pipe commands: "$TERM" stops (a training run is interrupted);
    "ENDPOINT" replies with the bound REP endpoint.  The actor sends
    "TRAINED" (or "FAILED") on its pipe when a model is ready (or not).
*/
#ifndef DS_EMBED_H
#define DS_EMBED_H

#include <czmq.h>
#include <stdint.h>
#include "opts.h"
#include "w2v.h"
#include "tz.h"

#define DS_EMBED_INPUT_DEFAULT      "tcp://127.0.0.1:5551"
#define DS_EMBED_ENDPOINT_DEFAULT   "tcp://127.0.0.1:5580"

typedef struct {
    ds_strlist_t inputs;            //  labeler XPUB endpoints (default one)
    const char *endpoint;           //  REP for queries (default DS_EMBED_ENDPOINT_DEFAULT)
    uint32_t shards;                //  shards of the labelled stream (default 1)
    uint32_t sensors;               //  sensors expected (default 1)
    const ds_tz_t *tz;              //  zone of the hours (NULL: UTC); must outlive the actor
    ds_w2v_params_t w2v;            //  DarkVec's defaults
    uint32_t min_count;             //  vocabulary: >= this many packets (default 10)
    uint32_t k;                     //  neighbours for classify/evaluation (default 7)
    const char *corpus_out;         //  LineSentence text written at training, or NULL
    const char *model_out;          //  word2vec text written at training, or NULL
    const char *classes_out;        //  CSV of every sender's class and k-NN class, or NULL
} ds_embed_config_t;

//  Fills a config with the defaults above.
void ds_embed_config_init (ds_embed_config_t *config);

//  The service as a czmq actor (config: ds_embed_config_t *, read only
//  until zactor_new returns: the actor keeps its own copy, paths included;
//  config->tz must outlive the actor).  If it cannot start it logs why,
//  signals -1 and waits for $TERM, answering "ENDPOINT" with "".
void ds_embed_actor (zsock_t *pipe, void *config);

//  Asks a started actor for its bound REP endpoint.  Returns 0, or -1 if
//  it could not start.
int ds_embed_endpoint (zactor_t *actor, char *buf, size_t size);

#endif
