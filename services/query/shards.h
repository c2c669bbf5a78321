/*  shards.h - the query service's links to its aggregator shards.

    One REQ per shard (ZMQ_MAXMSGSIZE DS_PARTIAL_WIRE_MAX).  ds_shards_ask
    sends one request to the shards and waits, at most the timeout, for
    their replies.  A shard that does not answer in time is marked down:
    its REQ is replaced (a late answer can never be taken for the next
    request's) and later requests fail at once with an error naming it,
    instead of each waiting out the timeout in turn.  A down shard is
    probed in the background with a "status" request; a probe still
    unanswered after DS_SHARDS_PROBE_MS is sent again on a fresh REQ (a
    restarted shard never sees what was sent to the one that died).  The
    first answer to a probe marks the shard up again.

    The owner polls the probes' sockets (ds_shards_poll_items) with its
    own and calls ds_shards_tick when one is readable or the timeout it
    returned has passed; ds_shards_ask ticks itself before it sends.
*/
#ifndef DS_SHARDS_H
#define DS_SHARDS_H

#include <czmq.h>
#include <stdbool.h>
#include "opts.h"

#define DS_SHARDS_PROBE_MS  1000    //  a down shard's probe is renewed this often
#define DS_SHARDS_ERR_MAX   320     //  bytes of one shard's error text

typedef struct _ds_shards_t ds_shards_t;

//  Connects one REQ per endpoint (which must outlive the object).  NULL if
//  a socket cannot be created or connected (logged).  Caller destroys.
ds_shards_t *ds_shards_new (const ds_strlist_t *endpoints, int timeout_ms);

//  Destroys the links; NULL-safe; nulls the caller's pointer.
void ds_shards_destroy (ds_shards_t **self_p);

//  Number of shards.
size_t ds_shards_count (ds_shards_t *self);

//  Shard i's endpoint.
const char *ds_shards_endpoint (ds_shards_t *self, size_t i);

//  True while shard i is marked down (did not answer, no probe answered).
bool ds_shards_down (ds_shards_t *self, size_t i);

//  Sends request to every shard that is up and waits for their replies,
//  at most the timeout, or until `stop` (may be NULL) has input (then
//  *stopped is set).  frames [i] receives shard i's reply (caller
//  destroys), or errors [i] why there is none: "shard i (endpoint) is
//  down: ..." at once for a down shard, "... did not answer within N ms;
//  marked down" for one that timed out.  With need_all, nothing is sent
//  when a shard is down (the answer could not be complete).  Returns the
//  number of shards without a reply.
size_t ds_shards_ask (ds_shards_t *self, const void *request, size_t size, bool need_all,
                      zsock_t *stop, zframe_t **frames, char (*errors) [DS_SHARDS_ERR_MAX],
                      bool *stopped);

//  Writes poll items for the sockets of outstanding probes into items (at
//  most max); returns how many.
int ds_shards_poll_items (ds_shards_t *self, zmq_pollitem_t *items, int max);

//  Reads the probe answers that arrived (marking those shards up) and
//  renews probes due.  Returns the ms until the next renewal is due, or -1
//  when no shard is down.
int ds_shards_tick (ds_shards_t *self);

#endif
