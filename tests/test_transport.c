/*  libs: ds_proto ds_common */
/*  test_transport.c - ZeroMQ helpers over real tcp://127.0.0.1:* sockets:
    back-pressure without loss, waiting for subscribers, stop flags. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "transport.h"
#include "ds_proto.h"

#define S_MESSAGES  1000
#define S_SIZE      (64 * 1024)
#define S_TIMEOUT   10000           //  ms, generous for the sanitizer build

//  Payload byte i of message seq.
static uint8_t
s_byte (uint32_t seq, size_t i)
{
    return (uint8_t) (seq * 31 + i * 7 + (i >> 8));
}

//  An XPUB as ds_xpub_new makes it, but with a tiny send high-water mark.
static zsock_t *
s_tiny_xpub (void)
{
    zsock_t *xpub = zsock_new (ZMQ_XPUB);
    assert_non_null (xpub);
    ds_sock_defaults (xpub);
    zsock_set_sndhwm (xpub, 2);
    zsock_set_xpub_nodrop (xpub, 1);
    assert_true (zsock_bind (xpub, "tcp://127.0.0.1:*") > 0);
    return xpub;
}

//  Publisher thread: binds, tells its endpoint, waits for the subscriber,
//  sends S_MESSAGES messages with ds_send2, reports the result.
static void
s_publisher (zsock_t *pipe, void *args)
{
    (void) args;
    zsock_t *xpub = s_tiny_xpub ();
    zsock_signal (pipe, 0);
    zstr_send (pipe, zsock_endpoint (xpub));
    int rc = ds_xpub_wait_subscribers (xpub, "pkt", 1, S_TIMEOUT, NULL);
    uint8_t *payload = malloc (S_SIZE);
    char topic [DS_TOPIC_LEN + 1];
    ds_topic_format (topic, "pkt", 0);
    for (uint32_t seq = 0; seq < S_MESSAGES && rc == 0; seq++) {
        memcpy (payload, &seq, sizeof seq);
        for (size_t i = sizeof seq; i < S_SIZE; i++)
            payload [i] = s_byte (seq, i);
        rc = ds_send2 (xpub, topic, strlen (topic), payload, S_SIZE, NULL);
    }
    free (payload);
    zstr_sendf (pipe, "%d", rc);
    //  stay until $TERM so the subscriber can drain the socket
    char *command = zstr_recv (pipe);
    zstr_free (&command);
    zsock_destroy (&xpub);
}

static void
test_nodrop_slow_subscriber (void **state)
{
    (void) state;
    uint64_t waits_before = ds_transport_waits ();
    zactor_t *publisher = zactor_new (s_publisher, NULL);
    assert_non_null (publisher);
    char *endpoint = zstr_recv (publisher);
    assert_non_null (endpoint);
    zsock_t *sub = ds_sub_new (endpoint, "pkt.");
    assert_non_null (sub);
    zstr_free (&endpoint);

    zpoller_t *poller = zpoller_new (sub, NULL);
    uint64_t work = 0;
    for (uint32_t seq = 0; seq < S_MESSAGES; seq++) {
        assert_ptr_equal (zpoller_wait (poller, S_TIMEOUT), sub);
        zmsg_t *msg = zmsg_recv (sub);
        assert_non_null (msg);
        assert_int_equal (zmsg_size (msg), 2);
        char *topic = zmsg_popstr (msg);
        assert_string_equal (topic, "pkt.0000");
        zstr_free (&topic);
        zframe_t *frame = zmsg_first (msg);
        assert_int_equal (zframe_size (frame), S_SIZE);
        const uint8_t *data = zframe_data (frame);
        uint32_t got;
        memcpy (&got, data, sizeof got);
        assert_int_equal (got, seq);                    //  all of them, in order
        //  a slow consumer: check every byte, several times over
        for (int pass = 0; pass < 4; pass++)
            for (size_t i = sizeof got; i < S_SIZE; i++) {
                if (data [i] != s_byte (seq, i))
                    fail_msg ("message %u byte %zu differs", seq, i);
                work += data [i];
            }
        zmsg_destroy (&msg);
    }
    assert_true (work > 0);
    char *rc = zstr_recv (publisher);
    assert_string_equal (rc, "0");
    zstr_free (&rc);
    //  the publisher met the high-water mark and waited instead of dropping
    assert_true (ds_transport_waits () > waits_before);
    zpoller_destroy (&poller);
    zsock_destroy (&sub);
    zactor_destroy (&publisher);
}

static void
test_stop_while_blocked (void **state)
{
    (void) state;
    zsock_t *xpub = s_tiny_xpub ();
    zsock_t *sub = ds_sub_new (zsock_endpoint (xpub), "");     //  never reads
    assert_non_null (sub);
    volatile int stop = 0;
    assert_int_equal (ds_xpub_wait_subscribers (xpub, "lab", 1, S_TIMEOUT, &stop), 0);
    stop = 1;
    uint8_t *payload = calloc (1, S_SIZE);
    int sent = 0;
    //  queues and socket buffers fill up, then ds_send2 must give up
    while (sent < 100000 && ds_send2 (xpub, "lab.0000", 8, payload, S_SIZE, &stop) == 0)
        sent++;
    assert_true (sent > 0);
    assert_true (sent < 100000);
    free (payload);
    zsock_destroy (&sub);
    zsock_destroy (&xpub);
}

static void
test_wait_subscribers (void **state)
{
    (void) state;
    char topic [DS_TOPIC_LEN + 1];
    //  a prefix subscription covers every shard
    zsock_t *xpub = ds_xpub_new ("tcp://127.0.0.1:*");
    assert_non_null (xpub);
    const char *endpoint = zsock_endpoint (xpub);
    assert_non_null (endpoint);
    zsock_t *sub = ds_sub_new (endpoint, "pkt.");
    assert_int_equal (ds_xpub_wait_subscribers (xpub, "pkt", 16, S_TIMEOUT, NULL), 0);
    zsock_destroy (&sub);
    zsock_destroy (&xpub);

    //  "" covers everything; per-shard subscriptions from two subscribers
    xpub = ds_xpub_new ("tcp://127.0.0.1:*");
    zsock_t *all = ds_sub_new (zsock_endpoint (xpub), "");
    assert_int_equal (ds_xpub_wait_subscribers (xpub, "lab", 3, S_TIMEOUT, NULL), 0);
    zsock_destroy (&all);
    zsock_destroy (&xpub);

    xpub = ds_xpub_new ("tcp://127.0.0.1:*");
    ds_topic_format (topic, "lab", 0);
    zsock_t *a = ds_sub_new (zsock_endpoint (xpub), topic);
    ds_topic_format (topic, "lab", 1);
    zsock_t *b = ds_sub_new (zsock_endpoint (xpub), topic);
    ds_topic_format (topic, "lab", 2);
    zsock_set_subscribe (b, topic);
    assert_int_equal (ds_xpub_wait_subscribers (xpub, "lab", 3, S_TIMEOUT, NULL), 0);
    zsock_destroy (&a);
    zsock_destroy (&b);
    zsock_destroy (&xpub);

    //  a missing shard times out; "pkt.1" is not a prefix of "pkt.0001",
    //  and a withdrawn subscription does not count
    xpub = ds_xpub_new ("tcp://127.0.0.1:*");
    sub = ds_sub_new (zsock_endpoint (xpub), NULL);
    ds_topic_format (topic, "pkt", 0);
    zsock_set_subscribe (sub, topic);
    zsock_set_subscribe (sub, "pkt.1");
    ds_topic_format (topic, "pkt", 2);
    zsock_set_subscribe (sub, topic);
    zsock_set_unsubscribe (sub, topic);
    int64_t start = zclock_mono ();
    assert_int_equal (ds_xpub_wait_subscribers (xpub, "pkt", 3, 300, NULL), -1);
    assert_true (zclock_mono () - start >= 300);
    //  a stop flag ends the wait early
    volatile int stop = 1;
    assert_int_equal (ds_xpub_wait_subscribers (xpub, "pkt", 3, S_TIMEOUT, &stop), -1);
    //  nothing to wait for
    assert_int_equal (ds_xpub_wait_subscribers (xpub, "pkt", 0, 0, NULL), 0);
    zsock_destroy (&sub);
    zsock_destroy (&xpub);

    //  bad endpoints fail cleanly
    assert_null (ds_xpub_new ("tcp://no-such-host.invalid:1"));
    assert_null (ds_sub_new ("bogus://x", ""));
}

static void
test_sub_many_endpoints (void **state)
{
    (void) state;
    zsock_t *one = ds_xpub_new ("tcp://127.0.0.1:*");
    zsock_t *two = ds_xpub_new ("inproc://test-transport-two");
    assert_non_null (one);
    assert_non_null (two);
    char endpoints [256];
    snprintf (endpoints, sizeof endpoints, " %s , inproc://test-transport-two,", zsock_endpoint (one));
    zsock_t *sub = ds_sub_new (endpoints, "pkt.");
    assert_non_null (sub);
    assert_int_equal (ds_xpub_wait_subscribers (one, "pkt", 1, S_TIMEOUT, NULL), 0);
    assert_int_equal (ds_xpub_wait_subscribers (two, "pkt", 1, S_TIMEOUT, NULL), 0);
    assert_int_equal (ds_send2 (one, "pkt.0000", 8, "one", 3, NULL), 0);
    assert_int_equal (ds_send2 (two, "pkt.0001", 8, "two", 3, NULL), 0);
    zsock_set_rcvtimeo (sub, S_TIMEOUT);
    int seen = 0;
    for (int i = 0; i < 2; i++) {
        char *topic = NULL, *body = NULL;
        assert_int_equal (zstr_recvx (sub, &topic, &body, NULL), 2);
        seen |= strcmp (body, "one") == 0 ? 1 : strcmp (body, "two") == 0 ? 2 : 4;
        zstr_free (&topic);
        zstr_free (&body);
    }
    assert_int_equal (seen, 3);
    zsock_destroy (&sub);
    zsock_destroy (&one);
    zsock_destroy (&two);
}

//  Applies the subscription message [on][prefix].
static void
s_sub (ds_subs_t *subs, bool on, const char *prefix)
{
    char msg [32];
    msg [0] = on ? 1 : 0;
    memcpy (msg + 1, prefix, strlen (prefix));
    assert_int_equal (ds_subs_apply (subs, msg, 1 + strlen (prefix)), 0);
}

//  Which shards a tracker counts as covered: "lab." covers all of them,
//  unless only subscriptions naming a shard count (own); "lab.000" names
//  shards 0-9; an unsubscribe uncovers.
static void
test_subs_cover (void **state)
{
    (void) state;
    ds_subs_t *subs = ds_subs_new ("lab", 12);
    assert_non_null (subs);
    s_sub (subs, true, "lab.");
    assert_true (ds_subs_covered (subs, 0) && ds_subs_covered (subs, 11));
    ds_subs_set_own (subs, true);
    assert_false (ds_subs_covered (subs, 0) || ds_subs_covered (subs, 11));
    s_sub (subs, true, "lab.0011");
    assert_true (ds_subs_covered (subs, 11));
    assert_false (ds_subs_covered (subs, 10));
    s_sub (subs, true, "lab.000");
    for (uint32_t k = 0; k < 10; k++)
        assert_true (ds_subs_covered (subs, k));
    assert_false (ds_subs_covered (subs, 10));
    s_sub (subs, false, "lab.0011");
    assert_false (ds_subs_covered (subs, 11));
    s_sub (subs, true, "pkt.0010");                 //  another stream's topic
    assert_false (ds_subs_covered (subs, 10));
    ds_subs_set_own (subs, false);
    assert_true (ds_subs_covered (subs, 10) && ds_subs_covered (subs, 11));
    assert_false (ds_subs_covered (subs, 12));      //  no such shard
    ds_subs_destroy (&subs);
    assert_null (subs);
}

//  Queues on pipes inside one process are DS_INPROC_HWM deep only when
//  every endpoint of the list is inproc (blanks and empty items as
//  ds_sub_connect reads them); any other list keeps DS_SOCK_HWM.
static void
test_inproc_hwm (void **state)
{
    (void) state;
    const struct { const char *endpoints; int hwm; } cases [] = {
        { "inproc://a", DS_INPROC_HWM },
        { " inproc://a , inproc://b,", DS_INPROC_HWM },
        { "inproc://a,tcp://127.0.0.1:1", DS_SOCK_HWM },
        { "tcp://127.0.0.1:1", DS_SOCK_HWM },
        { "inproc:/", DS_SOCK_HWM },
        { "", DS_SOCK_HWM },
        { " , ", DS_SOCK_HWM },
        { NULL, DS_SOCK_HWM },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        zsock_t *sock = zsock_new (ZMQ_SUB);
        assert_non_null (sock);
        ds_sock_defaults (sock);
        ds_sock_inproc_hwm (sock, cases [i].endpoints);
        if (zsock_rcvhwm (sock) != cases [i].hwm || zsock_sndhwm (sock) != cases [i].hwm)
            fail_msg ("'%s': hwm %d/%d, want %d", cases [i].endpoints ? cases [i].endpoints : "(null)",
                      zsock_rcvhwm (sock), zsock_sndhwm (sock), cases [i].hwm);
        zsock_destroy (&sock);
    }
}

int
main (void)
{
    zsys_init ();
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_nodrop_slow_subscriber),
        cmocka_unit_test (test_stop_while_blocked),
        cmocka_unit_test (test_wait_subscribers),
        cmocka_unit_test (test_sub_many_endpoints),
        cmocka_unit_test (test_subs_cover),
        cmocka_unit_test (test_inproc_hwm),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
