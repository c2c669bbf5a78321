/*  batch.h - a columnar batch of records, the thing that crosses sockets.

    A batch belongs to one (sensor, shard) stream and carries its sequence
    number.  Columns are plain arrays of `count` entries.  After the labeler
    a batch also carries class and service ids per record and the
    dictionaries that name them (labelled == true).  Storage is allocated once
    at capacity and reused: ds_batch_reset() empties it without freeing.
*/
#ifndef DS_BATCH_H
#define DS_BATCH_H

#include "record.h"

#define DS_BATCH_DEFAULT_CAPACITY 4096
#define DS_BATCH_MAX_CAPACITY     65536   //  decoders refuse more
#define DS_DICT_MAX               4096    //  decoders refuse larger dictionaries
#define DS_NAME_MAX               64      //  longest class/service name, bytes

typedef struct {
    uint32_t sensor;                //  sensor id of the ingest that read it
    uint32_t shard;                 //  shard of every source in it
    uint64_t seq;                   //  per (sensor, shard), from 0, no gaps
    uint32_t count;                 //  records in use
    uint32_t capacity;              //  records allocated
    int64_t *ts;
    ds_addr_t *src;
    int32_t *port;
    uint8_t *proto;
    uint8_t *flags;
    //  Labelled batches only (labelled == true):
    bool labelled;
    uint16_t *class_id;             //  index into class_names
    uint16_t *service_id;           //  index into service_names
    uint32_t n_classes;
    char **class_names;             //  owned strings
    uint32_t n_services;
    char **service_names;           //  owned strings
    //  A framed batch (batch_frame.h): the columns above that are aligned
    //  there live in this block, the bytes of its message; NULL for an
    //  ordinary batch.
    uint8_t *frame;
    size_t frame_size;
} ds_batch_t;

//  Creates an empty batch able to hold capacity records.  Caller destroys.
ds_batch_t *ds_batch_new (uint32_t capacity);

//  Destroys a batch; NULL-safe; nulls the caller's pointer.
void ds_batch_destroy (ds_batch_t **self_p);

//  Empties the batch (count 0, unlabelled, dictionaries freed); keeps storage.
void ds_batch_reset (ds_batch_t *self);

//  Appends a record; returns false if the batch is full.
bool ds_batch_add (ds_batch_t *self, const ds_record_t *rec);

//  Reads record i into rec.
void ds_batch_get (const ds_batch_t *self, uint32_t i, ds_record_t *rec);

//  Replaces the dictionaries with copies of the given names; allocates the
//  class/service id columns if needed and marks the batch labelled.
int ds_batch_set_dicts (ds_batch_t *self,
                        const char *const *class_names, uint32_t n_classes,
                        const char *const *service_names, uint32_t n_services);

#endif
