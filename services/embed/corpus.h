/*  corpus.h - DarkVec's corpus: per service, one sentence per local hour.

    A sentence is the time-ordered sequence of the source addresses of every
    packet that hit one service class within one local hour (DESIGN §14);
    a source that sends 40 packets to telnet in that hour is 40 words.
    Packets are added as labelled batches arrive, from every shard, in any
    order; ds_corpus_finish() sorts them (by time, ties by the 16-byte
    address), keeps the sources with >= min_count packets as the vocabulary
    (ordered by packets desc, then address), and cuts each hour's sentence
    into chunks of DS_CORPUS_CHUNK raw words before dropping the rare ones,
    exactly as gensim's LineSentence reads the exported text.

    The local hour is the hour of the wall clock in the corpus's zone (a
    tz.h value); an hour that repeats at a DST change is two sentences.
    Memory: 12 bytes per packet until finish, 4 per kept word after.

    Each word's class: the labeller's class if a GT entry named the source,
    else "mirai" if any of its packets carries the Mirai fingerprint, else
    "unknown" (DESIGN §4, over every packet seen).
*/
#ifndef DS_CORPUS_H
#define DS_CORPUS_H

#include <stdio.h>
#include <stdint.h>
#include "batch.h"
#include "w2v.h"
#include "tz.h"

#define DS_CORPUS_CHUNK 10000       //  gensim's max_sentence_length

typedef struct ds_corpus_s ds_corpus_t;

//  Creates an empty corpus whose hours are local hours of tz (NULL: UTC;
//  borrowed: it must outlive the corpus).  Caller destroys.
ds_corpus_t *ds_corpus_new (const ds_tz_t *tz);

//  Destroys a corpus; NULL-safe; nulls the caller's pointer.
void ds_corpus_destroy (ds_corpus_t **self_p);

//  Adds every record of a labelled batch.  Returns 0, or -1 when out of
//  memory, when the batch is not labelled, or after finish.
int ds_corpus_add_batch (ds_corpus_t *self, const ds_batch_t *batch);

//  Adds one packet: ts, source, its service and class names, its flags
//  (DS_FLAG_GT, DS_FLAG_MIRAI matter).  Returns 0 or -1.
int ds_corpus_add (ds_corpus_t *self, int64_t ts_us, const ds_addr_t *src,
                   const char *service, const char *klass, uint8_t flags);

//  Packets added so far.
uint64_t ds_corpus_packets (const ds_corpus_t *self);

//  Distinct sources added so far.
uint32_t ds_corpus_sources (const ds_corpus_t *self);

//  Builds the sentences and the vocabulary (sources with >= min_count
//  packets).  If lines is not NULL, also writes every (service, hour)
//  sentence, all sources included, as one line of space-separated address
//  texts (gensim LineSentence), services in name order, hours in time
//  order.  The packets are freed.  Returns 0, or -1 (out of memory, write
//  error: errno says which).  Only once.
int ds_corpus_finish (ds_corpus_t *self, uint32_t min_count, FILE *lines);

//  After finish: the training view (valid while the corpus lives).
void ds_corpus_view (const ds_corpus_t *self, ds_w2v_corpus_t *view);

//  After finish: vocabulary size.
uint32_t ds_corpus_words (const ds_corpus_t *self);

//  After finish: (service, hour) sentences before chunking.
uint64_t ds_corpus_hours (const ds_corpus_t *self);

//  After finish: address of word i.
const ds_addr_t *ds_corpus_word_addr (const ds_corpus_t *self, uint32_t i);

//  After finish: packets of word i.
uint64_t ds_corpus_word_count (const ds_corpus_t *self, uint32_t i);

//  After finish: class of word i (see above).
const char *ds_corpus_word_class (const ds_corpus_t *self, uint32_t i);

//  After finish: word id of an address, or -1 if it is not in the vocabulary.
int64_t ds_corpus_find (const ds_corpus_t *self, const ds_addr_t *addr);

#endif
