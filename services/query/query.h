/*  query.h - the query service: darkscope's front door.

    Clients send the §6 requests {"v":1,"q":NAME,"args":{...}} to a REP
    socket.  For overview, ports, ecdf, daily, classes, heatmap and pattern
    the service asks every aggregator shard for its day range (to resolve
    the default window), then for its partial answer, and merges them
    exactly (merge.h).  lookup is forwarded to the labeler's control
    endpoint; knn, classify, embedding and projection to the embed
    service (darkscope-embed); status collects every shard's status.  A shard that does not
    answer within the timeout turns the reply into an error naming that
    shard's endpoint (never a silently partial answer; status lists it as
    unreachable instead); the shard is then marked down and later requests
    that need it fail at once, naming it, until it answers a background
    probe (shards.h).  Bad requests get {"ok":false,"error":...}; nothing
    a client sends can crash the service.  Sizes are bounded (ds_limits.h):
    a request above DS_FRAME_CONTROL_MAX and an answer above DS_REPLY_MAX
    get an error reply naming the limit.

    Pipe commands: "$TERM" stops; "ENDPOINT" replies with the bound front
    endpoint ("" if the service could not start).
*/
#ifndef DS_QUERY_H
#define DS_QUERY_H

#include <czmq.h>
#include "opts.h"
#include "metrics.h"

#define DS_QUERY_ENDPOINT_DEFAULT   "tcp://127.0.0.1:5570"
#define DS_QUERY_LABELER_DEFAULT    "tcp://127.0.0.1:5552"
#define DS_QUERY_EMBED_DEFAULT      "tcp://127.0.0.1:5580"
#define DS_QUERY_TIMEOUT_DEFAULT    5000

typedef struct {
    const char *endpoint;           //  front REP (default DS_QUERY_ENDPOINT_DEFAULT)
    ds_strlist_t shard_endpoints;   //  one per shard, in shard order
    const char *labeler;            //  labeler control REP, for lookup
    const char *embed;              //  embed service REP, for knn/classify/embedding/projection
    int timeout_ms;                 //  per fan-out round (default 5000)
    ds_metrics_t *metrics;          //  --http registry, or NULL (qmetrics.h)
    //  Called in the service's thread once an overview-family answer has
    //  had its last round with the shards (PPSRC), before it is packed and
    //  sent; NULL: none.  `darkscope run` with nothing more to ask tells
    //  its shards to stop there, so they free their stores meanwhile.
    void (*on_merged) (void *arg);
    void *on_merged_arg;
} ds_query_config_t;

//  Fills a config with the defaults (no shards: set shard_endpoints).
void ds_query_config_init (ds_query_config_t *config);

//  Fills config->shard_endpoints with the default endpoints of n shards
//  (tcp://127.0.0.1:5560 + k) written into storage (n x 64 bytes).
void ds_query_default_shards (ds_query_config_t *config, uint32_t n, char (*storage) [64]);

//  The service as a czmq actor (config: ds_query_config_t *, which must
//  outlive the actor).  If it cannot start it logs why, signals -1 and
//  waits for $TERM.
void ds_query_actor (zsock_t *pipe, void *config);

//  Asks a started actor for its bound front endpoint.  Returns 0, or -1 if
//  the actor could not start.
int ds_query_endpoint (zactor_t *actor, char *buf, size_t size);

#endif
