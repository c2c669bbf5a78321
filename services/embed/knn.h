/*  knn.h - who is this sender like: cosine k-NN over an embedding.

    DarkVec §5: each sender is classified by the majority class of its k
    (7) nearest labelled senders by cosine similarity, leaving itself out;
    the evaluation over the labelled senders gives per-class precision,
    recall and F1 (sklearn's classification_report), accuracy and macro /
    weighted F1.  Senders without a label (class "unknown") are classified
    the same way and get the share of their k neighbours that voted for
    the winner as confidence.  A tie between classes goes to the class of
    the nearest neighbour among the tied ones; equal similarities to the
    lower word id.  A 2-D PCA projection feeds the report's figure.
*/
#ifndef DS_KNN_H
#define DS_KNN_H

#include <stdint.h>

typedef struct ds_knn_s ds_knn_t;

#define DS_KNN_K_MAX 1000

//  Builds the index over n vectors of dim floats (copied and normalised to
//  unit length).  labels [i] is word i's class, 0..n_classes-1, or -1 for
//  no label (copied).  threads (1..64) split the classification work.
//  Caller destroys; NULL when out of memory.
ds_knn_t *ds_knn_new (uint32_t n, int dim, const float *vectors,
                      const int32_t *labels, uint32_t n_classes, int threads);

//  Destroys an index; NULL-safe; nulls the caller's pointer.
void ds_knn_destroy (ds_knn_t **self_p);

//  The k (<= DS_KNN_K_MAX) words most similar to word i, itself excluded,
//  best first, into ids/sims; returns how many (< k if n - 1 < k).
uint32_t ds_knn_nearest (const ds_knn_t *self, uint32_t i, uint32_t k, uint32_t *ids, float *sims);

typedef struct {
    int32_t klass;                  //  predicted class, -1 if no labelled neighbour
    double confidence;              //  votes for it / neighbours found
} ds_knn_vote_t;

//  Classifies every word by its k nearest labelled words (itself
//  excluded): votes [0..n-1].  Returns 0, or -1 when out of memory.
int ds_knn_classify (const ds_knn_t *self, uint32_t k, ds_knn_vote_t *votes);

typedef struct {
    uint64_t support;               //  labelled words of the class
    uint64_t predicted;             //  labelled words predicted as it
    uint64_t tp;
    double precision, recall, f1;   //  0 where undefined (sklearn's zero_division=0)
} ds_knn_class_t;

typedef struct {
    uint64_t n;                     //  labelled words evaluated
    double accuracy, macro_f1, weighted_f1;
} ds_knn_eval_t;

//  Leave-one-out evaluation of votes over the labelled words: fills
//  per_class [n_classes] and the totals.  Macro F1 averages the classes
//  that are true or predicted at least once.
void ds_knn_evaluate (const ds_knn_t *self, const ds_knn_vote_t *votes,
                      ds_knn_class_t *per_class, ds_knn_eval_t *eval);

//  Projects the words ids [0..m-1] onto the two principal axes of those
//  words' unit vectors: xy [2m].  Returns 0, or -1 when out of memory.
int ds_knn_pca2 (const ds_knn_t *self, const uint32_t *ids, uint32_t m, float *xy);

//  Word i's label (-1 none).
int32_t ds_knn_label (const ds_knn_t *self, uint32_t i);

#endif
