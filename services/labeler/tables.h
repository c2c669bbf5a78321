/*  tables.h - a labeler's tables lent to a thread that labels batches
    itself, in the same process.

    In `darkscope run` ingest labels its batches before publishing them
    (one message hop, a decode and an encode less per batch than a labeler
    thread in between); the labeler actor then keeps only its control
    socket (lookup, reload, status) and lends the tables it has in use
    through this object.  A batch is labelled under a lock that a swap
    also takes, so it sees one table set, never a mix, and the labeler
    frees replaced tables only once no batch uses them.
*/
#ifndef DS_TABLES_H
#define DS_TABLES_H

#include "batch.h"
#include "gt.h"
#include "services.h"

typedef struct ds_tables_t ds_tables_t;

//  Creates an object with no tables in use.  NULL if out of memory.
//  Caller destroys.
ds_tables_t *ds_tables_new (void);

//  Destroys it (not the tables it lends); NULL-safe; nulls the caller's
//  pointer.
void ds_tables_destroy (ds_tables_t **self_p);

//  Puts gt and services in use (both NULL: none); returns once no batch is
//  being labelled with the previous ones, which the caller may then free.
//  They stay the caller's.
void ds_tables_set (ds_tables_t *self, const ds_gt_t *gt, const ds_services_t *services);

//  Labels a batch in place with the tables in use (ds_labeler_label).
//  Returns 0, or -1 if there are none (the labeler stopped) or out of
//  memory.  Of the ds_publish_label_fn form: arg is a ds_tables_t.
int ds_tables_label (void *arg, ds_batch_t *batch);

#endif
