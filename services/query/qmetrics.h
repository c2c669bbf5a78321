/*  qmetrics.h - the query service's Prometheus series (metrics.h): queries
    answered and failed and the latency histogram, by query name, and its
    readiness: every aggregator shard answers a "range" partial within
    a second (asked by the HTTP thread on its own sockets on /readyz).
*/
#ifndef DS_QMETRICS_H
#define DS_QMETRICS_H

#include <stdbool.h>
#include "metrics.h"
#include "query.h"

typedef struct _ds_qmetrics_t ds_qmetrics_t;

//  The query service's series in registry (NULL registry: NULL, and the
//  calls below do nothing).  config must outlive it.  Caller destroys.
ds_qmetrics_t *ds_qmetrics_new (ds_metrics_t *registry, const ds_query_config_t *config);

//  Destroys it; NULL-safe; nulls the pointer.
void ds_qmetrics_destroy (ds_qmetrics_t **self_p);

//  Counts one answered request (name NULL: it did not decode).
void ds_qmetrics_request (ds_qmetrics_t *self, const char *name, bool ok, double seconds);

//  Asks every shard of config for a "range" partial at once, waiting up to
//  timeout_ms in all.  True if all answered; else the first failure in why.
bool ds_qmetrics_probe_shards (const ds_query_config_t *config, int timeout_ms,
                               char *why, size_t why_size);

#endif
