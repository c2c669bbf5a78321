/*  test_limits.c - every receiving socket is bounded (DESIGN §10,
    proto/ds_limits.h), over real sockets.

    Hostile peers send 8 concurrent 256 MiB frames to the aggregator's REP,
    the labeler's control REP and the query front door: libzmq refuses each
    at its header (the sender sees its connection dropped), the process's
    peak RSS stays far below one such frame, and the service answers a
    normal request afterwards.  A request above the 1 MiB protocol limit
    (below the transport cap) gets an error reply saying so and is counted.
    A frame above 64 MiB on the data path is refused and the stream goes
    on.  An answer above the 16 MiB reply limit becomes an error reply
    naming the limit, at the query service and at the client.  A peer
    that pipelines 64 requests just under the 4 MiB cap parks at most a
    few of them in the service (REP receive high-water mark).

    The big frames are zero-copy messages over untouched anonymous memory
    (the kernel's zero page): sending them costs the test no RSS, so the
    peak RSS measures what the receivers allocated.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <cmocka.h>
#include "aggregator.h"
#include "labeler.h"
#include "query.h"
#include "client.h"
#include "transport.h"
#include "ds_proto.h"

#define FLOODERS    8
#define BIG         (256u * DS_MIB)
#define WAIT_MS     20000

static void *s_zero;                //  BIG bytes of never-written memory

#if defined (__SANITIZE_ADDRESS__)
//  Peak RSS measures what the services hold at once: AddressSanitizer's
//  quarantine would keep every freed request resident as well.
const char *__asan_default_options (void);
const char *
__asan_default_options (void)
{
    return "quarantine_size_mb=0";
}
#endif

static void
s_no_free (void *data, void *hint)
{
    (void) data;
    (void) hint;
}

//  Peak RSS of this process in KiB since the last s_peak_reset.
static long
s_peak_kb (void)
{
    FILE *f = fopen ("/proc/self/status", "r");
    assert_non_null (f);
    char line [256];
    long kb = -1;
    while (fgets (line, sizeof line, f))
        if (sscanf (line, "VmHWM: %ld kB", &kb) == 1)
            break;
    fclose (f);
    assert_true (kb > 0);
    return kb;
}

static void
s_peak_reset (void)
{
    FILE *f = fopen ("/proc/self/clear_refs", "w");
    assert_non_null (f);
    fputs ("5", f);                 //  5: reset the peak RSS to the current RSS
    fclose (f);
}

static long
s_rss_kb (void)
{
    FILE *f = fopen ("/proc/self/status", "r");
    assert_non_null (f);
    char line [256];
    long kb = -1;
    while (fgets (line, sizeof line, f))
        if (sscanf (line, "VmRSS: %ld kB", &kb) == 1)
            break;
    fclose (f);
    return kb;
}

//  Waits (bounded) for one event of `mask` on a monitor PAIR.
static void
s_wait_event (zsock_t *monitor, int mask)
{
    zpoller_t *poller = zpoller_new (monitor, NULL);
    int64_t deadline = zclock_mono () + WAIT_MS;
    while (true) {
        int64_t left = deadline - zclock_mono ();
        assert_true (left > 0);
        if (!zpoller_wait (poller, (int) left))
            continue;
        zmsg_t *msg = zmsg_recv (monitor);
        assert_non_null (msg);
        zframe_t *head = zmsg_first (msg);
        uint16_t event = 0;
        if (head && zframe_size (head) >= 2)
            memcpy (&event, zframe_data (head), 2);
        zmsg_destroy (&msg);
        if (event & mask)
            break;
    }
    zpoller_destroy (&poller);
}

//  FLOODERS peers at once each send one BIG frame to a REP at endpoint;
//  returns once every one of them saw its connection dropped.  Asserts
//  that the process's peak RSS grew by far less than one frame.
static void
s_flood (const char *endpoint)
{
    zsock_t *senders [FLOODERS], *monitors [FLOODERS];
    long before = s_rss_kb ();
    s_peak_reset ();
    for (int i = 0; i < FLOODERS; i++) {
        senders [i] = zsock_new (ZMQ_DEALER);
        assert_non_null (senders [i]);
        zsock_set_linger (senders [i], 0);
        char mon [64];
        snprintf (mon, sizeof mon, "inproc://test-limits-mon-%d", i);
        assert_int_equal (zmq_socket_monitor (zsock_resolve (senders [i]), mon,
                                              ZMQ_EVENT_DISCONNECTED), 0);
        monitors [i] = zsock_new_pair (mon);
        assert_non_null (monitors [i]);
        assert_int_equal (zsock_connect (senders [i], "%s", endpoint), 0);
    }
    for (int i = 0; i < FLOODERS; i++) {
        zmq_msg_t empty, big;
        zmq_msg_init (&empty);          //  the REQ envelope's delimiter
        assert_int_equal (zmq_msg_init_data (&big, s_zero, BIG, s_no_free, NULL), 0);
        assert_true (zmq_msg_send (&empty, zsock_resolve (senders [i]), ZMQ_SNDMORE) >= 0);
        assert_true (zmq_msg_send (&big, zsock_resolve (senders [i]), 0) >= 0);
    }
    for (int i = 0; i < FLOODERS; i++)
        s_wait_event (monitors [i], ZMQ_EVENT_DISCONNECTED);
    for (int i = 0; i < FLOODERS; i++) {
        zmq_socket_monitor (zsock_resolve (senders [i]), NULL, 0);
        zsock_destroy (&monitors [i]);
        zsock_destroy (&senders [i]);
    }
    long grown = s_peak_kb () - before;
    fprintf (stderr, "%d x %u MiB to %s: peak RSS %+ld KiB\n", FLOODERS, BIG / DS_MIB, endpoint, grown);
    assert_true (grown < 64 * 1024);    //  one refused frame alone would be 256 MiB
}

//  Sends data as one request on a fresh REQ; returns the reply's error
//  text in err (or "" for ok:true) and the reply's result in *result if
//  wanted (zone-backed).
static void
s_request (const char *endpoint, const void *data, size_t size, char *err, size_t err_size,
           msgpack_zone *zone, msgpack_object *result)
{
    zsock_t *req = zsock_new (ZMQ_REQ);
    assert_non_null (req);
    ds_sock_defaults (req);
    assert_int_equal (zsock_connect (req, "%s", endpoint), 0);
    assert_true (zmq_send (zsock_resolve (req), data, size, 0) >= 0);
    zpoller_t *poller = zpoller_new (req, NULL);
    assert_non_null (zpoller_wait (poller, WAIT_MS));
    zpoller_destroy (&poller);
    zframe_t *frame = zframe_recv (req);
    assert_non_null (frame);
    msgpack_object reply;
    const msgpack_object *res;
    //  The result points into the frame's bytes: keep them in the zone.
    void *bytes = msgpack_zone_malloc (zone, zframe_size (frame));
    memcpy (bytes, zframe_data (frame), zframe_size (frame));
    assert_int_equal (ds_mp_unpack (bytes, zframe_size (frame), zone, &reply), DS_OK);
    err [0] = 0;
    if (ds_reply_parse (&reply, &res, err, err_size) == DS_OK && result)
        *result = *res;
    zframe_destroy (&frame);
    zsock_destroy (&req);
}

//  Asks q at endpoint; returns the error text ("" on success).
static void
s_ask (const char *endpoint, const char *name, char *err, size_t err_size,
       msgpack_zone *zone, msgpack_object *result)
{
    ds_query_t q;
    ds_query_init (&q);
    snprintf (q.name, sizeof q.name, "%s", name);
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    assert_int_equal (ds_query_encode (&q, &buf), DS_OK);
    s_request (endpoint, buf.data, buf.size, err, err_size, zone, result);
    msgpack_sbuffer_destroy (&buf);
}

//  A request of 2 MiB: a valid status request padded with a long unknown
//  argument, above the protocol limit and below the transport cap.
static void
s_ask_too_big (const char *endpoint)
{
    size_t size = 2 * DS_MIB;
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buf, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 3);
    msgpack_pack_str_with_body (&pk, "v", 1);
    msgpack_pack_int (&pk, 1);
    msgpack_pack_str_with_body (&pk, "q", 1);
    msgpack_pack_str_with_body (&pk, "status", 6);
    msgpack_pack_str_with_body (&pk, "args", 4);
    msgpack_pack_map (&pk, 1);
    msgpack_pack_str_with_body (&pk, "pad", 3);
    size_t pad = size - buf.size - 5;
    msgpack_pack_bin (&pk, pad);
    char *zeros = calloc (1, pad);
    msgpack_pack_bin_body (&pk, zeros, pad);
    free (zeros);
    assert_int_equal (buf.size, size);
    char err [256], want [128];
    msgpack_zone zone;
    msgpack_zone_init (&zone, 4096);
    s_request (endpoint, buf.data, buf.size, err, sizeof err, &zone, NULL);
    snprintf (want, sizeof want, "request of %zu bytes exceeds the 1 MiB limit", size);
    assert_string_equal (err, want);
    msgpack_zone_destroy (&zone);
    msgpack_sbuffer_destroy (&buf);
}

//  Asks status at endpoint and returns the unsigned integer at path
//  key1 (or key1.key2 when key2 is not NULL).
static uint64_t
s_status_u64 (const char *endpoint, const char *key1, const char *key2)
{
    msgpack_zone zone;
    msgpack_zone_init (&zone, 4096);
    msgpack_object result;
    char err [512];
    s_ask (endpoint, "status", err, sizeof err, &zone, &result);
    assert_string_equal (err, "");
    const msgpack_object *o = ds_mp_get (&result, key1);
    if (key2)
        o = ds_mp_get (o, key2);
    assert_non_null (o);
    assert_int_equal (o->type, MSGPACK_OBJECT_POSITIVE_INTEGER);
    uint64_t value = o->via.u64;
    msgpack_zone_destroy (&zone);
    return value;
}

//  Sends a status request on req (the reply is read by the caller).
static void
s_send_status (zsock_t *req)
{
    ds_query_t q;
    ds_query_init (&q);
    snprintf (q.name, sizeof q.name, "status");
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    assert_int_equal (ds_query_encode (&q, &buf), DS_OK);
    assert_int_equal (zmq_send (zsock_resolve (req), buf.data, buf.size, 0), (int) buf.size);
    msgpack_sbuffer_destroy (&buf);
}

static void
test_caps (void **state)
{
    (void) state;
    //  Each role's cap, and the socket gets it.
    const struct { int type; int64_t cap; } want [] = {
        { ZMQ_SUB, DS_FRAME_DATA_MAX }, { ZMQ_REP, DS_FRAME_CONTROL_WIRE_MAX },
        { ZMQ_XPUB, DS_FRAME_CONTROL_MAX }, { ZMQ_REQ, DS_REPLY_WIRE_MAX },
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        assert_int_equal (ds_sock_cap (want [i].type), want [i].cap);
        zsock_t *sock = zsock_new (want [i].type);
        ds_sock_defaults (sock);
        assert_int_equal (zsock_maxmsgsize (sock), want [i].cap);
        zsock_destroy (&sock);
    }
    //  The orders that make the two thresholds work.
    assert_true (DS_FRAME_CONTROL_MAX < DS_FRAME_CONTROL_WIRE_MAX);
    assert_true (DS_REPLY_MAX < DS_REPLY_WIRE_MAX);
    assert_true (DS_PARTIAL_MAX < DS_PARTIAL_WIRE_MAX);
    assert_true (DS_REPLY_WIRE_MAX <= DS_FRAME_DATA_MAX);
}

//  An aggregator: big frames on its REP and on its SUB.
static void
test_aggregator (void **state)
{
    (void) state;
    zsock_t *xpub = ds_xpub_new ("tcp://127.0.0.1:*");
    assert_non_null (xpub);
    ds_aggregator_config_t cfg;
    ds_aggregator_config_init (&cfg);
    cfg.inputs.items [0] = zsock_endpoint (xpub);
    cfg.inputs.count = 1;
    cfg.endpoint = "tcp://127.0.0.1:*";
    zactor_t *agg = zactor_new (ds_aggregator_actor, &cfg);
    char ep [256];
    assert_int_equal (ds_aggregator_endpoint (agg, ep, sizeof ep, NULL), 0);
    assert_int_equal (ds_xpub_wait_subscribers (xpub, "lab", 1, WAIT_MS, NULL), 0);

    s_flood (ep);
    s_ask_too_big (ep);
    assert_int_equal (s_status_u64 (ep, "requests_too_big", NULL), 1);

    //  The data path: a frame just above 64 MiB is refused at its header
    //  (libzmq drops the publisher's connection; as of 4.3.4 it does not
    //  reconnect after such a protocol error: PROTOCOL.md, "Limits").
    char topic [DS_TOPIC_LEN + 1];
    ds_topic_format (topic, "lab", 0);
    zmq_msg_t t, body;
    zmq_msg_init_size (&t, DS_TOPIC_LEN);
    memcpy (zmq_msg_data (&t), topic, DS_TOPIC_LEN);
    assert_int_equal (zmq_msg_init_data (&body, s_zero, DS_FRAME_DATA_MAX + 1, s_no_free, NULL), 0);
    assert_int_equal (zmq_socket_monitor (zsock_resolve (xpub), "inproc://test-limits-xpub",
                                          ZMQ_EVENT_DISCONNECTED), 0);
    zsock_t *monitor = zsock_new_pair ("inproc://test-limits-xpub");
    long before = s_rss_kb ();
    s_peak_reset ();
    assert_int_equal (ds_send_msg2 (xpub, &t, &body, NULL, NULL, NULL), 0);
    s_wait_event (monitor, ZMQ_EVENT_DISCONNECTED);
    assert_true (s_peak_kb () - before < 32 * 1024);
    zmq_socket_monitor (zsock_resolve (xpub), NULL, 0);
    zsock_destroy (&monitor);
    assert_int_equal (s_status_u64 (ep, "store", "records"), 0);
    assert_int_equal (s_status_u64 (ep, "rejected", NULL), 0);
    zactor_destroy (&agg);
    zsock_destroy (&xpub);
}

//  A labeler's control socket.
static void
test_labeler (void **state)
{
    (void) state;
    ds_labeler_config_t cfg;
    ds_labeler_config_init (&cfg);
    cfg.inputs.items [cfg.inputs.count++] = "tcp://127.0.0.1:1";   //  nobody there
    cfg.endpoint = "tcp://127.0.0.1:*";
    cfg.control = "tcp://127.0.0.1:*";
    cfg.wait_ms = 0;
    zactor_t *labeler = zactor_new (ds_labeler_actor, &cfg);
    char data [256], control [256];
    assert_int_equal (ds_labeler_endpoints (labeler, data, sizeof data, control, sizeof control), 0);
    s_flood (control);
    s_ask_too_big (control);
    assert_int_equal (s_status_u64 (control, "requests_too_big", NULL), 1);
    zactor_destroy (&labeler);
}

//  A stand-in server (a REP in a thread) that answers every request with
//  an ok reply of exactly reply_size bytes.
typedef struct {
    size_t reply_size;
    char endpoint [256];            //  bound, set before the actor signals
} s_fake_t;

static void
s_fake_actor (zsock_t *pipe, void *args)
{
    s_fake_t *fake = args;
    zsock_t *rep = zsock_new (ZMQ_REP);
    ds_sock_defaults (rep);
    assert_true (zsock_bind (rep, "tcp://127.0.0.1:*") > 0);
    snprintf (fake->endpoint, sizeof fake->endpoint, "%s", zsock_endpoint (rep));
    msgpack_sbuffer reply;
    msgpack_sbuffer_init (&reply);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &reply, msgpack_sbuffer_write);
    ds_reply_ok_begin (&pk);
    size_t pad = fake->reply_size - reply.size - 5;     //  bin 32: 5-byte header
    msgpack_pack_bin (&pk, pad);
    char *zeros = calloc (1, pad);
    msgpack_pack_bin_body (&pk, zeros, pad);
    free (zeros);
    assert_int_equal (reply.size, fake->reply_size);
    zsock_signal (pipe, 0);
    zpoller_t *poller = zpoller_new (pipe, rep, NULL);
    while (true) {
        zsock_t *which = zpoller_wait (poller, -1);
        if (which == rep) {
            zframe_t *request = zframe_recv (rep);
            zframe_destroy (&request);
            zmq_send (zsock_resolve (rep), reply.data, reply.size, 0);
        }
        else
            break;                  //  $TERM or interrupted
    }
    zpoller_destroy (&poller);
    msgpack_sbuffer_destroy (&reply);
    zsock_destroy (&rep);
}

//  The query front door, and answers above the reply limit: a stand-in
//  labeler answers lookup with 16 MiB + 1.
static void
test_query (void **state)
{
    (void) state;
    s_fake_t fake = { DS_REPLY_MAX + 1, "" };
    zactor_t *labeler = zactor_new (s_fake_actor, &fake);
    assert_non_null (labeler);
    ds_query_config_t cfg;
    ds_query_config_init (&cfg);
    cfg.endpoint = "tcp://127.0.0.1:*";
    cfg.shard_endpoints.items [0] = "tcp://127.0.0.1:1";    //  not asked here
    cfg.shard_endpoints.count = 1;
    cfg.labeler = fake.endpoint;
    cfg.timeout_ms = 3000;              //  room for the 16 MiB answer on a loaded machine
    zactor_t *query = zactor_new (ds_query_actor, &cfg);
    char ep [256];
    assert_int_equal (ds_query_endpoint (query, ep, sizeof ep), 0);

    s_flood (ep);
    s_ask_too_big (ep);

    ds_client_t *client = ds_client_new (ep, WAIT_MS);
    assert_non_null (client);
    ds_query_t q;
    ds_query_init (&q);
    snprintf (q.name, sizeof q.name, "lookup");
    snprintf (q.ip, sizeof q.ip, "192.0.2.1");
    msgpack_zone zone;
    msgpack_zone_init (&zone, 4096);
    msgpack_object result;
    char err [512];
    assert_int_equal (ds_client_request (client, &q, &zone, &result, err, sizeof err), -1);
    char want [512];
    snprintf (want, sizeof want, "the answer to 'lookup' is %u bytes and exceeds the 16 MiB reply limit",
              DS_REPLY_MAX + 1);
    assert_non_null (strstr (err, want));
    assert_non_null (strstr (err, "narrow the query"));
    assert_int_equal (s_status_u64 (ep, "requests_too_big", NULL), 1);
    assert_int_equal (s_status_u64 (ep, "replies_too_big", NULL), 1);
    ds_client_destroy (&client);

    //  The client itself refuses a reply above the limit that still fits
    //  its transport cap (a server with other limits).
    client = ds_client_new (fake.endpoint, WAIT_MS);
    assert_int_equal (ds_client_request (client, &q, &zone, &result, err, sizeof err), -1);
    snprintf (want, sizeof want, "reply of %u bytes from %s exceeds the 16 MiB limit",
              DS_REPLY_MAX + 1, fake.endpoint);
    assert_string_equal (err, want);
    ds_client_destroy (&client);
    msgpack_zone_destroy (&zone);
    zactor_destroy (&query);
    zactor_destroy (&labeler);
}

//  A pipelining peer parks at most DS_REP_HWM requests in a REP: while
//  the query service waits for a hung shard, one DEALER sends 64 requests
//  just under the 4 MiB transport cap.  Each is answered, in turn, with
//  the size error; the peak RSS stays near DS_REP_HWM of them (64 would be
//  256 MiB).
static void
test_pipelined (void **state)
{
    (void) state;
    zsock_t *hung = zsock_new (ZMQ_REP);        //  reads nothing, answers nothing
    ds_sock_defaults (hung);
    assert_true (zsock_bind (hung, "tcp://127.0.0.1:*") > 0);
    ds_query_config_t cfg;
    ds_query_config_init (&cfg);
    cfg.endpoint = "tcp://127.0.0.1:*";
    cfg.shard_endpoints.items [0] = zsock_endpoint (hung);
    cfg.shard_endpoints.count = 1;
    cfg.labeler = "";
    cfg.timeout_ms = 1500;
    zactor_t *query = zactor_new (ds_query_actor, &cfg);
    char ep [256];
    assert_int_equal (ds_query_endpoint (query, ep, sizeof ep), 0);

    long before = s_rss_kb ();
    s_peak_reset ();
    zsock_t *first = zsock_new_req (ep);        //  keeps the service busy 1.5 s
    s_send_status (first);
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    zsock_set_linger (dealer, 0);
    assert_int_equal (zsock_connect (dealer, "%s", ep), 0);
    const int n = 64;
    const size_t size = DS_FRAME_CONTROL_WIRE_MAX - 4096;
    for (int i = 0; i < n; i++) {
        zmq_msg_t empty, big;
        zmq_msg_init (&empty);
        assert_int_equal (zmq_msg_init_data (&big, s_zero, size, s_no_free, NULL), 0);
        assert_true (zmq_msg_send (&empty, zsock_resolve (dealer), ZMQ_SNDMORE) >= 0);
        assert_true (zmq_msg_send (&big, zsock_resolve (dealer), 0) >= 0);
    }
    zframe_t *reply = zframe_recv (first);
    assert_non_null (reply);
    zframe_destroy (&reply);
    char want [128];
    snprintf (want, sizeof want, "request of %zu bytes exceeds the 1 MiB limit", size);
    zpoller_t *poller = zpoller_new (dealer, NULL);
    for (int i = 0; i < n; i++) {
        assert_non_null (zpoller_wait (poller, WAIT_MS));
        zmsg_t *msg = zmsg_recv (dealer);
        assert_int_equal (zmsg_size (msg), 2);
        zframe_t *body = zmsg_last (msg);
        msgpack_zone zone;
        msgpack_zone_init (&zone, 1024);
        msgpack_object obj;
        const msgpack_object *res;
        char err [256];
        assert_int_equal (ds_mp_unpack (zframe_data (body), zframe_size (body), &zone, &obj), DS_OK);
        assert_int_not_equal (ds_reply_parse (&obj, &res, err, sizeof err), DS_OK);
        assert_string_equal (err, want);
        msgpack_zone_destroy (&zone);
        zmsg_destroy (&msg);
    }
    zpoller_destroy (&poller);
    long grown = s_peak_kb () - before;
    fprintf (stderr, "%d pipelined %zu-byte requests: peak RSS %+ld KiB\n", n, size, grown);
    assert_true (grown < 48 * 1024);
    zsock_destroy (&dealer);
    zsock_destroy (&first);
    zactor_destroy (&query);
    zsock_destroy (&hung);
}

int
main (void)
{
    zsys_init ();
    zsys_set_logstream (NULL);
    s_zero = mmap (NULL, BIG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (s_zero == MAP_FAILED)
        return 1;
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_caps),
        cmocka_unit_test (test_aggregator),
        cmocka_unit_test (test_labeler),
        cmocka_unit_test (test_query),
        cmocka_unit_test (test_pipelined),
    };
    int rc = cmocka_run_group_tests (tests, NULL, NULL);
    munmap (s_zero, BIG);
    return rc;
}
