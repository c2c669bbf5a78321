/*  transport.h - the ZeroMQ helpers every darkscope service uses.

    Rules of DESIGN.md §1 and §10 in one place: linger 0 and a transport
    cap (ZMQ_MAXMSGSIZE, proto/ds_limits.h) on every socket; file input
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
#include "../../proto/ds_limits.h"

#define DS_SOCK_HWM 64              //  messages (batches) queued per pipe and direction
#define DS_INPROC_HWM 16            //  ... on an inproc pipe (ds_sock_inproc_hwm)
#define DS_REP_HWM  4               //  requests queued per peer of a REP
#define DS_RECONNECT_IVL_MS     5   //  first retry of a connect that found no peer
#define DS_RECONNECT_IVL_MAX_MS 20  //  retries back off (doubling) up to this

//  Sets linger 0, reconnect retries from DS_RECONNECT_IVL_MS backing off to
//  DS_RECONNECT_IVL_MAX_MS, send/receive high-water marks of DS_SOCK_HWM (a REP
//  receives DS_REP_HWM per peer) and the transport cap (ZMQ_MAXMSGSIZE)
//  of the socket's role, by its type: SUB
//  DS_FRAME_DATA_MAX (batches), REP DS_FRAME_CONTROL_WIRE_MAX (requests),
//  XPUB DS_FRAME_CONTROL_MAX (subscriptions), REQ DS_REPLY_WIRE_MAX (a
//  client's replies; the query service's REQs to shards lower it to
//  DS_PARTIAL_WIRE_MAX).  Call before bind/connect (HWMs and the cap
//  apply to connections made afterwards).
void ds_sock_defaults (zsock_t *sock);

//  The transport cap ds_sock_defaults gives a socket of this ZMQ type
//  (-1: none, the socket receives nothing from peers).
int64_t ds_sock_cap (int type);

//  Creates an XPUB with ZMQ_XPUB_NODROP and the defaults, bound to endpoint
//  (tcp://127.0.0.1:* picks a port: see zsock_endpoint).  NULL, with an
//  error logged, if it cannot bind.  Caller destroys.
zsock_t *ds_xpub_new (const char *endpoint);

//  Creates a SUB with the defaults, subscribed to `subscribe` (NULL: to
//  nothing yet, "" to everything) and connected to every endpoint of the
//  comma-separated list.  NULL, with an error logged, on failure.  Caller
//  destroys.
zsock_t *ds_sub_new (const char *endpoints, const char *subscribe);

//  Connects a socket to every endpoint of the comma-separated list (what
//  ds_sub_new does; apart, so a monitor can be set up first).  Returns 0,
//  or -1 with an error logged.
int ds_sub_connect (zsock_t *sock, const char *endpoints);

//  Sends [topic][data] as one two-frame message and never drops it: at the
//  high-water mark it waits (100 ms slices, checking *stop and
//  zsys_interrupted) until the socket makes room.  Returns 0, or -1 when
//  stopped while waiting or on a real error (logged).  stop may be NULL.
int ds_send2 (zsock_t *sock, const void *topic, size_t tlen,
              const void *data, size_t len, volatile int *stop);

//  Called by ds_send_msg2 after each wait for room: 0 keeps waiting, -1
//  gives the send up.  It may serve the watched sockets (the wait ends
//  early when one has input) but must not send on the socket that waits.
typedef int (ds_wait_fn) (void *arg);

#define DS_WATCH_MAX 4              //  sockets a waiting send can watch

//  Sends one frame (more: another frame of the message follows) the way
//  ds_send_msg2 does; msg is consumed either way.
int ds_send_part (zsock_t *sock, zmq_msg_t *msg, bool more,
                  zsock_t **watch, ds_wait_fn *on_wait, void *arg);

//  Sends [topic][body] as one message, never dropping it: at the high-water
//  mark it processes the socket's commands, retries, then sleeps on the
//  socket's ZMQ_FD (a reader that made room wakes it at once) and on the
//  sockets of `watch` (a NULL-terminated list of at most DS_WATCH_MAX, or
//  NULL) for at most 100 ms, calls on_wait (arg) (NULL: none) and tries
//  again.  The messages are consumed either way (sent, or closed on
//  failure).  Returns 0, or -1 when on_wait gave up or on a real error
//  (logged).
int ds_send_msg2 (zsock_t *sock, zmq_msg_t *topic, zmq_msg_t *body,
                  zsock_t **watch, ds_wait_fn *on_wait, void *arg);

//  Batches queued on a pipe inside one process (`darkscope run`) are
//  DS_INPROC_HWM a side instead of DS_SOCK_HWM: a send there is a pointer
//  handed over, so a short queue keeps both threads as busy, and each
//  batch queued is ~140 KB that a run touches for the first time (a
//  64-deep queue was ~35 MB of page faults at the start of every run).
//  Sets the high-water marks of sock so when every endpoint of the
//  comma-separated list is inproc://; before it binds or connects.
void ds_sock_inproc_hwm (zsock_t *sock, const char *endpoints);

//  Initialises msg to carry `size` bytes of malloc'ed data without a copy;
//  zmq frees them with free() once delivered.  Returns 0, or -1 (data is
//  then still the caller's).
int ds_msg_init_owned (zmq_msg_t *msg, void *data, size_t size);

//  The same for `size` bytes at data inside the malloc'ed block base:
//  zmq frees base once they are delivered.  Returns 0, or -1 (base is
//  then still the caller's).
int ds_msg_init_in (zmq_msg_t *msg, void *base, const void *data, size_t size);

//  Reads subscriptions arriving on an XPUB until each topic
//  "<prefix>.%04u" of shards 0..shards-1 is covered by an active
//  subscription (a prefix of it: "pkt." or "" cover all).  Returns 0, or
//  -1 on timeout (logging the shards without a subscriber) or stop.
//  timeout_ms < 0 waits without limit.
int ds_xpub_wait_subscribers (zsock_t *xpub, const char *prefix, uint32_t shards,
                              int timeout_ms, volatile int *stop);

//  The same, asking on_wait (arg) (NULL: nobody) every 100 ms whether to
//  give up (-1) or go on waiting (0), like ds_send_msg2.
int ds_xpub_wait_subscribers_fn (zsock_t *xpub, const char *prefix, uint32_t shards,
                                 int timeout_ms, ds_wait_fn *on_wait, void *arg);

//  Which shard topics "<prefix>.%04u" (0..shards-1) an XPUB's subscribers
//  cover now, kept from the subscription messages the XPUB hands up: a
//  publisher asks it before each batch, so a batch sent to nobody (the
//  subscriber vanished) is counted and logged, never silent.
typedef struct ds_subs_t ds_subs_t;

//  Creates a tracker with no subscription yet.  Caller destroys.
ds_subs_t *ds_subs_new (const char *prefix, uint32_t shards);

//  Destroys a tracker; NULL-safe; nulls the caller's pointer.
void ds_subs_destroy (ds_subs_t **self_p);

//  own: only a subscription naming a shard (longer than "<prefix>.")
//  covers it, not a reader of every shard (the embed service's "lab."),
//  which would hide a missing aggregator.  Off by default.
void ds_subs_set_own (ds_subs_t *self, bool own);

//  Applies one message read from the XPUB ([1|0][prefix]; anything else is
//  ignored).  Returns 0, or -1 out of memory.
int ds_subs_apply (ds_subs_t *self, const void *data, size_t size);

//  Reads and applies every subscription message waiting on xpub, without
//  blocking.  Returns how many, or -1 (out of memory, logged).
int ds_subs_read (ds_subs_t *self, zsock_t *xpub);

//  True if an active subscription covers the shard's topic.
bool ds_subs_covered (const ds_subs_t *self, uint32_t shard);

//  Subscribe messages applied so far.
uint64_t ds_subs_subscribes (const ds_subs_t *self);

//  Reads subscriptions until every shard is covered: 0, or -1 after
//  timeout_ms (< 0: no limit; the shards without one are logged), when
//  on_wait (arg) (NULL: nobody) gives up, on interrupt or out of memory.
int ds_subs_wait (ds_subs_t *self, zsock_t *xpub, int timeout_ms, ds_wait_fn *on_wait, void *arg);

//  CPU seconds the calling thread has used (user + system), for the
//  services' end-of-stream log lines and benchmarks.
double ds_thread_cpu_seconds (void);

//  Sends that had to wait for room at the high-water mark, process-wide
//  (back-pressure events; for status reports and tests).
uint64_t ds_transport_waits (void);

//  True if batches published on this bound endpoint go out in the packed
//  layout (proto/PROTOCOL.md): every link but inproc://, where a message
//  is handed over without a copy.  On tcp:// and ipc:// each byte is copied
//  into and out of the kernel on every hop (and encrypted and decrypted
//  under CURVE), which costs more than packing and unpacking it.
bool ds_transport_packed (const char *endpoint);

#endif
