/*  transport.h - the ZeroMQ helpers every darkscope service uses.

    Rules of DESIGN.md §1 in one place: linger 0 on every socket; file input
    publishes through an XPUB with ZMQ_XPUB_NODROP and never drops — when a
    send meets the high-water mark (libzmq 4.3.4 answers EAGAIN even to a
    blocking send) ds_send2 waits for the socket to make room and retries;
    publishers wait until every shard topic has a subscriber before the
    first batch.  Sockets are czmq zsock_t so one process (darkscope run)
    shares czmq's global context and inproc:// works between services.
*/
#ifndef DS_TRANSPORT_H
#define DS_TRANSPORT_H

#include <czmq.h>
#include <stdint.h>

#define DS_SOCK_HWM 64              //  messages (batches) queued per pipe and direction

//  Sets linger 0 and send/receive high-water marks of DS_SOCK_HWM.  Call
//  before bind/connect (HWMs apply to pipes created afterwards).
void ds_sock_defaults (zsock_t *sock);

//  Creates an XPUB with ZMQ_XPUB_NODROP and the defaults, bound to endpoint
//  (tcp://127.0.0.1:* picks a port: see zsock_endpoint).  NULL, with an
//  error logged, if it cannot bind.  Caller destroys.
zsock_t *ds_xpub_new (const char *endpoint);

//  Creates a SUB with the defaults, subscribed to `subscribe` (NULL: to
//  nothing yet, "" to everything) and connected to every endpoint of the
//  comma-separated list.  NULL, with an error logged, on failure.  Caller
//  destroys.
zsock_t *ds_sub_new (const char *endpoints, const char *subscribe);

//  Sends [topic][data] as one two-frame message and never drops it: at the
//  high-water mark it waits (100 ms slices, checking *stop and
//  zsys_interrupted) until the socket makes room.  Returns 0, or -1 when
//  stopped while waiting or on a real error (logged).  stop may be NULL.
int ds_send2 (zsock_t *sock, const void *topic, size_t tlen,
              const void *data, size_t len, volatile int *stop);

//  Reads subscriptions arriving on an XPUB until each topic
//  "<prefix>.%04u" of shards 0..shards-1 is covered by an active
//  subscription (a prefix of it: "pkt." or "" cover all).  Returns 0, or
//  -1 on timeout (logging the shards without a subscriber) or stop.
//  timeout_ms < 0 waits without limit.
int ds_xpub_wait_subscribers (zsock_t *xpub, const char *prefix, uint32_t shards,
                              int timeout_ms, volatile int *stop);

//  Sends that had to wait for room at the high-water mark, process-wide
//  (back-pressure events; for status reports and tests).
uint64_t ds_transport_waits (void);

#endif
