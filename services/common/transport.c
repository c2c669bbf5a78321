/*  transport.c - ZeroMQ helpers; see transport.h.

    Waiting for room on an XPUB: libzmq reports ZMQ_POLLOUT on an XPUB at
    all times (its distributor always "has out"), so polling for POLLOUT
    would spin.  What does change when a subscriber catches up is the
    socket's command mailbox (an "activate_write" command from the pipe's
    reader), whose signal is the socket's ZMQ_FD.  So after an EAGAIN we
    process pending commands (reading ZMQ_EVENTS), retry once, and then
    sleep in poll() on ZMQ_FD until a new command arrives or 100 ms pass.
    Every drain of the mailbox is followed by a send attempt, so no wake-up
    is lost; and the loop works the same for PUSH/DEALER sockets.
*/
#include "transport.h"
#include "log.h"
#include "curve.h"
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_SLICE_MS 100

static atomic_uint_fast64_t s_waits;

uint64_t
ds_transport_waits (void)
{
    return atomic_load (&s_waits);
}

bool
ds_transport_packed (const char *endpoint)
{
    return !endpoint || strncmp (endpoint, "inproc://", 9) != 0;
}

//  The next endpoint of a comma-separated list, blanks around it trimmed:
//  true with [*item, *item + *len) (empty items skipped) and *p moved past
//  it; false at the end.
static bool
s_next_endpoint (const char **p, const char **item, size_t *len)
{
    while (*p && **p) {
        const char *at = *p;
        const char *comma = strchr (at, ',');
        size_t n = comma ? (size_t) (comma - at) : strlen (at);
        *p = comma ? comma + 1 : NULL;
        while (n && (*at == ' ' || *at == '\t')) {
            at++;
            n--;
        }
        while (n && (at [n - 1] == ' ' || at [n - 1] == '\t'))
            n--;
        if (n) {
            *item = at;
            *len = n;
            return true;
        }
    }
    return false;
}

void
ds_sock_inproc_hwm (zsock_t *sock, const char *endpoints)
{
    const char *p = endpoints, *item;
    size_t len, n = 0;
    for (; s_next_endpoint (&p, &item, &len); n++)
        if (len < 9 || strncmp (item, "inproc://", 9) != 0)
            return;                     //  one that is not inproc
    if (n == 0)
        return;
    zsock_set_sndhwm (sock, DS_INPROC_HWM);
    zsock_set_rcvhwm (sock, DS_INPROC_HWM);
}

double
ds_thread_cpu_seconds (void)
{
    struct timespec ts;
    if (clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts))
        return 0;
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

//  What a socket of each type receives from its peers: its cap, and how
//  many messages each peer may have queued (0: DS_SOCK_HWM).  A REP takes
//  one request per REQ peer at a time, so a short queue loses nothing and
//  bounds what one pipelining peer can park in memory (4 x the cap).
static const struct {
    int type;
    int64_t cap;
    int rcvhwm;
} s_roles [] = {
    { ZMQ_SUB,    DS_FRAME_DATA_MAX, 0 },               //  batches + EOS
    { ZMQ_PULL,   DS_FRAME_DATA_MAX, 0 },
    { ZMQ_REP,    DS_FRAME_CONTROL_WIRE_MAX, DS_REP_HWM },  //  requests
    { ZMQ_ROUTER, DS_FRAME_CONTROL_WIRE_MAX, DS_REP_HWM },
    { ZMQ_XPUB,   DS_FRAME_CONTROL_MAX, 0 },            //  subscriptions
    { ZMQ_PUB,    DS_FRAME_CONTROL_MAX, 0 },
    { ZMQ_REQ,    DS_REPLY_WIRE_MAX, 0 },               //  replies
    { ZMQ_DEALER, DS_REPLY_WIRE_MAX, 0 },
};

int64_t
ds_sock_cap (int type)
{
    for (size_t i = 0; i < sizeof s_roles / sizeof *s_roles; i++)
        if (s_roles [i].type == type)
            return s_roles [i].cap;
    return -1;
}

void
ds_sock_defaults (zsock_t *sock)
{
    int type = zsock_type (sock);
    int rcvhwm = DS_SOCK_HWM;
    int64_t cap = -1;
    for (size_t i = 0; i < sizeof s_roles / sizeof *s_roles; i++)
        if (s_roles [i].type == type) {
            cap = s_roles [i].cap;
            rcvhwm = s_roles [i].rcvhwm ? s_roles [i].rcvhwm : DS_SOCK_HWM;
        }
    zsock_set_linger (sock, 0);
    //  A connect that finds no peer yet (services start in any order: an
    //  aggregator before its labeler, the labeler before ingest) is tried
    //  again after DS_RECONNECT_IVL_MS, doubling up to DS_RECONNECT_IVL_MAX_MS
    //  (libzmq adds up to DS_RECONNECT_IVL_MS of jitter): a peer that comes
    //  up a moment later is joined within ~25 ms instead of libzmq's default
    //  100-200.  A refused connect to a local port is one SYN and one RST,
    //  so 40-50 tries a second at a peer that stays down cost next to
    //  nothing; an unreachable host's try lasts until the OS gives it up.
    zsock_set_reconnect_ivl (sock, DS_RECONNECT_IVL_MS);
    zsock_set_reconnect_ivl_max (sock, DS_RECONNECT_IVL_MAX_MS);
    zsock_set_sndhwm (sock, DS_SOCK_HWM);
    zsock_set_rcvhwm (sock, rcvhwm);
    if (cap > 0)
        zsock_set_maxmsgsize (sock, (int) cap);
}

zsock_t *
ds_xpub_new (const char *endpoint)
{
    zsock_t *sock = zsock_new (ZMQ_XPUB);
    if (!sock) {
        ds_log_error ("cannot create XPUB socket: %s", zmq_strerror (zmq_errno ()));
        return NULL;
    }
    ds_sock_defaults (sock);
    zsock_set_xpub_nodrop (sock, 1);
    if (ds_curve_bind (sock, endpoint) == -1)   //  logs why
        zsock_destroy (&sock);
    return sock;
}

zsock_t *
ds_sub_new (const char *endpoints, const char *subscribe)
{
    zsock_t *sock = zsock_new (ZMQ_SUB);
    if (!sock) {
        ds_log_error ("cannot create SUB socket: %s", zmq_strerror (zmq_errno ()));
        return NULL;
    }
    ds_sock_defaults (sock);
    if (subscribe)
        zsock_set_subscribe (sock, subscribe);
    if (ds_sub_connect (sock, endpoints))
        zsock_destroy (&sock);
    return sock;
}

int
ds_sub_connect (zsock_t *sock, const char *endpoints)
{
    const char *p = endpoints, *item;
    size_t len;
    while (s_next_endpoint (&p, &item, &len)) {
        char *endpoint = strndup (item, len);
        int rc = endpoint ? ds_curve_connect (sock, endpoint) : -1;   //  logs why
        free (endpoint);
        if (rc == -1)
            return -1;
    }
    return 0;
}

static bool
s_stopped (volatile int *stop)
{
    return (stop && *stop) || zsys_interrupted;
}

//  Sends one frame, waiting for room as long as on_wait lets it.
static int
s_send_part (void *handle, zmq_msg_t *msg, int more, zsock_t **watch,
             ds_wait_fn *on_wait, void *arg)
{
    int flags = ZMQ_DONTWAIT | (more ? ZMQ_SNDMORE : 0);
    bool counted = false;
    while (true) {
        if (zmq_msg_send (msg, handle, flags) >= 0)
            return 0;
        if (errno != EAGAIN && errno != EINTR) {
            ds_log_error ("send failed: %s", zmq_strerror (errno));
            return -1;
        }
        if (errno == EAGAIN) {
            if (!counted) {
                atomic_fetch_add (&s_waits, 1);
                counted = true;
            }
            //  Process the commands that arrived since (a reader's
            //  "activate_write" is what makes room), then try once more:
            //  every drain of the mailbox is followed by a send attempt,
            //  so no wake-up is lost.
            int events;
            size_t size = sizeof events;
            zmq_getsockopt (handle, ZMQ_EVENTS, &events, &size);
            if (zmq_msg_send (msg, handle, flags) >= 0)
                return 0;
            if (errno != EAGAIN && errno != EINTR) {
                ds_log_error ("send failed: %s", zmq_strerror (errno));
                return -1;
            }
            //  Sleep until the next command, input on watch, or a slice.
            //  The socket itself is polled through its raw ZMQ_FD only: a
            //  socket item would make zmq_poll drain the mailbox itself,
            //  and a command drained there would not wake this poll.
            int fd;
            size = sizeof fd;
            if (zmq_getsockopt (handle, ZMQ_FD, &fd, &size) == 0) {
                zmq_pollitem_t items [1 + DS_WATCH_MAX] = { { NULL, fd, ZMQ_POLLIN, 0 } };
                int n = 1;
                for (size_t i = 0; watch && i < DS_WATCH_MAX && watch [i]; i++)
                    items [n++] = (zmq_pollitem_t) { zsock_resolve (watch [i]), 0, ZMQ_POLLIN, 0 };
                zmq_poll (items, n, S_SLICE_MS);
            }
        }
        if (on_wait && on_wait (arg))
            return -1;
    }
}

int
ds_send_part (zsock_t *sock, zmq_msg_t *msg, bool more,
              zsock_t **watch, ds_wait_fn *on_wait, void *arg)
{
    int rc = s_send_part (zsock_resolve (sock), msg, more, watch, on_wait, arg);
    zmq_msg_close (msg);                        //  a no-op once sent
    return rc;
}

int
ds_send_msg2 (zsock_t *sock, zmq_msg_t *topic, zmq_msg_t *body,
              zsock_t **watch, ds_wait_fn *on_wait, void *arg)
{
    void *handle = zsock_resolve (sock);
    //  Once the first frame is queued the second one is part of the same
    //  message: libzmq checks the high-water mark per message, but wait
    //  for it like the first one rather than assume.
    int rc = s_send_part (handle, topic, 1, watch, on_wait, arg);
    if (rc == 0)
        rc = s_send_part (handle, body, 0, watch, on_wait, arg);
    zmq_msg_close (topic);                      //  no-ops once sent
    zmq_msg_close (body);
    return rc;
}

static void
s_free (void *data, void *hint)
{
    (void) hint;
    free (data);
}

int
ds_msg_init_owned (zmq_msg_t *msg, void *data, size_t size)
{
    return zmq_msg_init_data (msg, data, size, s_free, NULL);
}

static void
s_free_base (void *data, void *base)
{
    (void) data;
    free (base);
}

int
ds_msg_init_in (zmq_msg_t *msg, void *base, const void *data, size_t size)
{
    return zmq_msg_init_data (msg, (void *) data, size, s_free_base, base);
}

typedef struct {
    volatile int *stop;
} s_stop_t;

static int
s_check_stop (void *arg)
{
    return s_stopped (((s_stop_t *) arg)->stop) ? -1 : 0;
}

int
ds_send2 (zsock_t *sock, const void *topic, size_t tlen,
          const void *data, size_t len, volatile int *stop)
{
    zmq_msg_t parts [2];
    if (zmq_msg_init_size (&parts [0], tlen))
        return -1;
    if (zmq_msg_init_size (&parts [1], len)) {
        zmq_msg_close (&parts [0]);
        return -1;
    }
    if (tlen)
        memcpy (zmq_msg_data (&parts [0]), topic, tlen);
    if (len)
        memcpy (zmq_msg_data (&parts [1]), data, len);
    s_stop_t check = { stop };
    return ds_send_msg2 (sock, &parts [0], &parts [1], NULL, s_check_stop, &check);
}

//  ---------------------------------------------------------------------
//  Waiting for subscribers

typedef struct {
    char *prefix;                   //  subscribed prefix (may hold any bytes)
    size_t len;
    int refs;                       //  1 active, 0 not (see s_apply)
} s_sub_t;

//  Same text as ds_topic_format (proto/), which common cannot link.
static void
s_topic (char *buf, size_t size, const char *prefix, uint32_t shard)
{
    snprintf (buf, size, "%s.%04u", prefix, shard);
}

//  True if an active subscription covers shard s's topic.
static bool
s_covers (const s_sub_t *sub, const char *prefix, uint32_t shard, bool own)
{
    char topic [64];
    s_topic (topic, sizeof topic, prefix, shard);
    return sub->refs > 0 && sub->len <= strlen (topic)
        && (!own || sub->len > strlen (prefix) + 1)
        && memcmp (sub->prefix, topic, sub->len) == 0;
}

//  Recomputes which shards some active subscription covers; returns how many.
static uint32_t
s_coverage (const s_sub_t *subs, size_t n_subs, const char *prefix, uint32_t shards,
            bool own, bool *covered)
{
    uint32_t count = 0;
    for (uint32_t s = 0; s < shards; s++) {
        covered [s] = false;
        for (size_t i = 0; i < n_subs && !covered [s]; i++)
            covered [s] = s_covers (&subs [i], prefix, s, own);
        count += covered [s];
    }
    return count;
}

//  Applies one subscription message ([1|0][prefix]) to the table; returns
//  the entry that became active (NULL if none), *lost when one became
//  inactive, *failed on allocation failure.
static s_sub_t *
s_apply (s_sub_t **subs_p, size_t *n_p, const uint8_t *data, size_t size,
         bool *lost, bool *failed)
{
    *lost = *failed = false;
    if (size < 1 || data [0] > 1)
        return NULL;                //  not a (un)subscription
    const char *prefix = (const char *) data + 1;
    size_t len = size - 1;
    //  The XPUB hands up the first subscribe and the last unsubscribe of a
    //  prefix (every subscribe under ZMQ_XPUB_VERBOSE, still only the last
    //  unsubscribe): a prefix is active or not, never counted.
    int delta = data [0] == 1 ? 1 : -1;
    for (size_t i = 0; i < *n_p; i++) {
        s_sub_t *sub = &(*subs_p) [i];
        if (sub->len == len && memcmp (sub->prefix, prefix, len) == 0) {
            bool was = sub->refs > 0;
            sub->refs = delta > 0 ? 1 : 0;
            *lost = was && delta < 0;
            return !was && delta > 0 ? sub : NULL;
        }
    }
    if (delta < 0)
        return NULL;
    s_sub_t *subs = realloc (*subs_p, (*n_p + 1) * sizeof *subs);
    char *copy = malloc (len + 1);
    if (subs)
        *subs_p = subs;
    if (!subs || !copy) {
        free (copy);
        *failed = true;
        return NULL;
    }
    memcpy (copy, prefix, len);
    copy [len] = 0;
    subs [*n_p] = (s_sub_t) { copy, len, 1 };
    return &subs [(*n_p)++];
}

//  Logs which shards have no subscriber (the first few of them).
static void
s_log_missing (const char *prefix, uint32_t shards, const bool *covered, uint32_t n_covered)
{
    char list [256] = "";
    size_t used = 0;
    uint32_t listed = 0;
    for (uint32_t s = 0; s < shards && used + 16 < sizeof list; s++)
        if (!covered [s]) {
            char topic [64];
            s_topic (topic, sizeof topic, prefix, s);
            used += snprintf (list + used, sizeof list - used, "%s%s", listed++ ? ", " : "", topic);
        }
    ds_log_error ("%u of %u shards have no subscriber: %s%s", shards - n_covered, shards, list,
                  listed < shards - n_covered ? ", ..." : "");
}

int
ds_xpub_wait_subscribers (zsock_t *xpub, const char *prefix, uint32_t shards,
                          int timeout_ms, volatile int *stop)
{
    s_stop_t check = { stop };
    return ds_xpub_wait_subscribers_fn (xpub, prefix, shards, timeout_ms, s_check_stop, &check);
}

//  ---------------------------------------------------------------------
//  Subscription tracking: which shard topics have a subscriber now

struct ds_subs_t {
    char prefix [16];               //  topics "<prefix>.%04u"
    uint32_t shards;
    bool *covered;                  //  [shards]
    uint32_t n_covered;
    s_sub_t *subs;                  //  active subscriptions
    size_t n_subs;
    uint64_t subscribes;            //  subscribe messages seen (every one under XPUB_VERBOSE)
    bool own;                       //  only subscriptions naming a shard cover it
};

ds_subs_t *
ds_subs_new (const char *prefix, uint32_t shards)
{
    ds_subs_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    snprintf (self->prefix, sizeof self->prefix, "%s", prefix);
    self->shards = shards;
    self->covered = calloc (shards ? shards : 1, sizeof *self->covered);
    if (!self->covered)
        ds_subs_destroy (&self);
    return self;
}

void
ds_subs_destroy (ds_subs_t **self_p)
{
    ds_subs_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->n_subs; i++)
        free (self->subs [i].prefix);
    free (self->subs);
    free (self->covered);
    free (self);
    *self_p = NULL;
}

void
ds_subs_set_own (ds_subs_t *self, bool own)
{
    self->own = own;
    self->n_covered = s_coverage (self->subs, self->n_subs, self->prefix, self->shards,
                                  own, self->covered);
}

int
ds_subs_apply (ds_subs_t *self, const void *data, size_t size)
{
    bool lost, failed;
    const uint8_t *bytes = data;
    s_sub_t *added = s_apply (&self->subs, &self->n_subs, bytes, size, &lost, &failed);
    if (failed)
        return -1;
    if (size >= 1 && bytes [0] == 1)
        self->subscribes++;
    if (lost)
        self->n_covered = s_coverage (self->subs, self->n_subs, self->prefix, self->shards,
                                      self->own, self->covered);
    else
    if (added)
        for (uint32_t s = 0; s < self->shards; s++)
            if (!self->covered [s] && s_covers (added, self->prefix, s, self->own)) {
                self->covered [s] = true;
                self->n_covered++;
            }
    return 0;
}

int
ds_subs_read (ds_subs_t *self, zsock_t *xpub)
{
    void *handle = zsock_resolve (xpub);
    int n = 0;
    while (true) {
        zmq_msg_t msg;
        zmq_msg_init (&msg);
        if (zmq_msg_recv (&msg, handle, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&msg);
            return n;
        }
        int rc = ds_subs_apply (self, zmq_msg_data (&msg), zmq_msg_size (&msg));
        zmq_msg_close (&msg);
        if (rc) {
            ds_log_error ("out of memory while reading subscriptions");
            return -1;
        }
        n++;
    }
}

bool
ds_subs_covered (const ds_subs_t *self, uint32_t shard)
{
    return shard < self->shards && self->covered [shard];
}

uint64_t
ds_subs_subscribes (const ds_subs_t *self)
{
    return self->subscribes;
}

int
ds_subs_wait (ds_subs_t *self, zsock_t *xpub, int timeout_ms, ds_wait_fn *on_wait, void *arg)
{
    void *handle = zsock_resolve (xpub);
    int64_t deadline = zclock_mono () + timeout_ms;
    while (true) {
        if (ds_subs_read (self, xpub) < 0)
            return -1;
        if (self->n_covered == self->shards)
            return 0;
        if (zsys_interrupted || (on_wait && on_wait (arg)))
            return -1;
        int64_t left = timeout_ms < 0 ? S_SLICE_MS : deadline - zclock_mono ();
        if (left <= 0) {
            s_log_missing (self->prefix, self->shards, self->covered, self->n_covered);
            return -1;
        }
        zmq_pollitem_t item = { handle, 0, ZMQ_POLLIN, 0 };
        zmq_poll (&item, 1, left < S_SLICE_MS ? (long) left : S_SLICE_MS);
    }
}

int
ds_xpub_wait_subscribers_fn (zsock_t *xpub, const char *prefix, uint32_t shards,
                             int timeout_ms, ds_wait_fn *on_wait, void *arg)
{
    if (shards == 0)
        return 0;
    ds_subs_t *subs = ds_subs_new (prefix, shards);
    if (!subs)
        return -1;
    int rc = ds_subs_wait (subs, xpub, timeout_ms, on_wait, arg);
    ds_subs_destroy (&subs);
    return rc;
}
