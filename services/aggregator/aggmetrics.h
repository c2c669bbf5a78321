/*  aggmetrics.h - the aggregator's Prometheus series (metrics.h), kept
    apart from the loop: the loop calls ds_aggmetrics_update() once per
    burst of batches and ds_aggmetrics_checkpoint() per checkpoint; this
    module turns the store's counters into series labelled shard and sensor.
*/
#ifndef DS_AGGMETRICS_H
#define DS_AGGMETRICS_H

#include <czmq.h>
#include "metrics.h"
#include "store.h"

typedef struct _ds_aggmetrics_t ds_aggmetrics_t;

//  The series of shard `shard` in registry (NULL registry: returns NULL,
//  and every call below does nothing).  Caller destroys.
ds_aggmetrics_t *ds_aggmetrics_new (ds_metrics_t *registry, uint32_t shard);

//  Destroys it; NULL-safe; nulls the pointer.
void ds_aggmetrics_destroy (ds_aggmetrics_t **self_p);

//  Readiness: the checkpoint was restored (or there was none to restore),
//  and the input socket is connected to every tcp/ipc endpoint of the
//  comma-separated list `inputs` (call from the socket's thread).
void ds_aggmetrics_started (ds_aggmetrics_t *self, zsock_t *sub, const char *inputs);

//  Copies the store's counters (per sensor), the rejected messages and
//  the number of messages the last burst found waiting.
void ds_aggmetrics_update (ds_aggmetrics_t *self, ds_store_t *store, uint64_t rejected, int burst);

//  Counts a checkpoint written (ok) or failed.
void ds_aggmetrics_checkpoint (ds_aggmetrics_t *self, bool ok);

#endif
