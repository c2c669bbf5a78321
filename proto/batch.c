/*  batch.c - columnar record batches; see batch.h. */
#include "batch.h"
#include <stdlib.h>
#include <string.h>

ds_batch_t *
ds_batch_new (uint32_t capacity)
{
    ds_batch_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    if (capacity == 0)
        capacity = 1;
    self->capacity = capacity;
    self->ts = malloc (capacity * sizeof *self->ts);
    self->src = malloc (capacity * sizeof *self->src);
    self->port = malloc (capacity * sizeof *self->port);
    self->proto = malloc (capacity);
    self->flags = malloc (capacity);
    if (!self->ts || !self->src || !self->port || !self->proto || !self->flags)
        ds_batch_destroy (&self);
    return self;
}

static void
s_free_dicts (ds_batch_t *self)
{
    for (uint32_t i = 0; i < self->n_classes; i++)
        free (self->class_names [i]);
    for (uint32_t i = 0; i < self->n_services; i++)
        free (self->service_names [i]);
    free (self->class_names);
    free (self->service_names);
    self->class_names = self->service_names = NULL;
    self->n_classes = self->n_services = 0;
}

//  True if p lies in the batch's frame (a framed batch's column).
static bool
s_in_frame (const ds_batch_t *self, const void *p)
{
    uintptr_t at = (uintptr_t) p, frame = (uintptr_t) self->frame;
    return self->frame && at >= frame && at < frame + self->frame_size;
}

void
ds_batch_destroy (ds_batch_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ds_batch_t *self = *self_p;
    s_free_dicts (self);
    void *columns [] = { self->ts, self->src, self->port, self->proto, self->flags,
                         self->class_id, self->service_id };
    for (size_t i = 0; i < sizeof columns / sizeof *columns; i++)
        if (!s_in_frame (self, columns [i]))
            free (columns [i]);
    free (self->frame);
    free (self);
    *self_p = NULL;
}

void
ds_batch_reset (ds_batch_t *self)
{
    self->count = 0;
    self->labelled = false;
    s_free_dicts (self);
}

bool
ds_batch_add (ds_batch_t *self, const ds_record_t *rec)
{
    if (self->count == self->capacity)
        return false;
    uint32_t i = self->count++;
    self->ts [i] = rec->ts;
    self->src [i] = rec->src;
    self->port [i] = rec->port;
    self->proto [i] = rec->proto;
    self->flags [i] = rec->flags;
    return true;
}

void
ds_batch_get (const ds_batch_t *self, uint32_t i, ds_record_t *rec)
{
    rec->ts = self->ts [i];
    rec->src = self->src [i];
    rec->port = self->port [i];
    rec->proto = self->proto [i];
    rec->flags = self->flags [i];
}

static char **
s_copy_names (const char *const *names, uint32_t n)
{
    char **copy = calloc (n ? n : 1, sizeof *copy);
    if (!copy)
        return NULL;
    for (uint32_t i = 0; i < n; i++)
        copy [i] = strdup (names [i]);
    return copy;
}

int
ds_batch_set_dicts (ds_batch_t *self,
                    const char *const *class_names, uint32_t n_classes,
                    const char *const *service_names, uint32_t n_services)
{
    s_free_dicts (self);
    if (!self->class_id)
        self->class_id = calloc (self->capacity, sizeof *self->class_id);
    if (!self->service_id)
        self->service_id = calloc (self->capacity, sizeof *self->service_id);
    self->class_names = s_copy_names (class_names, n_classes);
    self->service_names = s_copy_names (service_names, n_services);
    if (!self->class_id || !self->service_id || !self->class_names || !self->service_names)
        return -1;
    self->n_classes = n_classes;
    self->n_services = n_services;
    self->labelled = true;
    return 0;
}
