/*  tables.c - see tables.h. */
#include "tables.h"
#include "labeler.h"
#include <pthread.h>
#include <stdlib.h>

struct ds_tables_t {
    pthread_mutex_t lock;           //  held while a batch is labelled and while tables swap
    const ds_gt_t *gt;              //  the labeler's, in use; NULL: none
    const ds_services_t *services;
    uint8_t *matched;               //  scratch of ds_labeler_label, DS_BATCH_MAX_CAPACITY
};

ds_tables_t *
ds_tables_new (void)
{
    ds_tables_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->matched = malloc (DS_BATCH_MAX_CAPACITY);
    if (!self->matched || pthread_mutex_init (&self->lock, NULL) != 0) {
        free (self->matched);
        free (self);
        return NULL;
    }
    return self;
}

void
ds_tables_destroy (ds_tables_t **self_p)
{
    ds_tables_t *self = *self_p;
    if (!self)
        return;
    pthread_mutex_destroy (&self->lock);
    free (self->matched);
    free (self);
    *self_p = NULL;
}

void
ds_tables_set (ds_tables_t *self, const ds_gt_t *gt, const ds_services_t *services)
{
    pthread_mutex_lock (&self->lock);
    self->gt = gt;
    self->services = services;
    pthread_mutex_unlock (&self->lock);
}

int
ds_tables_label (void *arg, ds_batch_t *batch)
{
    ds_tables_t *self = arg;
    pthread_mutex_lock (&self->lock);
    int rc = self->gt && self->services && batch->count <= DS_BATCH_MAX_CAPACITY
           ? ds_labeler_label (batch, self->gt, self->services, self->matched) : -1;
    pthread_mutex_unlock (&self->lock);
    return rc;
}
