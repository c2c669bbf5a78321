/*  libs: ds_common */
/*  test_curve.c - CURVE on real TCP sockets through curve.c's guard (the
    ZAP handler and the bound sockets' monitors, one actor thread): every
    one of many sockets bound one after another answers a trusted client
    (each bind hands the guard a new monitor: a guard that stalled on one
    would leave every later handshake waiting for ZAP for good); a client
    with a key nobody trusts and a plaintext client get nothing and are
    counted; the endpoint@key syntax and keygen's errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "scratch_fixture.h"
#include <czmq.h>
#include "curve.h"
#include "log.h"

#define N_BOUND 24                  //  more than a handful of monitors

static char s_dir [64];
static char s_cert [128], s_secret [128], s_trust [96];

static int
setup (void **state)
{
    (void) state;
    ds_log_init ("test_curve");
    ds_log_set_quiet (true);
    assert_int_equal (fx_scratch_make (s_dir, sizeof s_dir, "test_curve"), 0);
    snprintf (s_trust, sizeof s_trust, "%s/trust", s_dir);
    char err [256];
    assert_int_equal (ds_curve_keygen (s_dir, "self", err, sizeof err), 0);
    assert_int_equal (ds_curve_keygen (s_trust, "client", err, sizeof err), 0);
    snprintf (s_cert, sizeof s_cert, "%s/self.cert", s_dir);
    snprintf (s_secret, sizeof s_secret, "%s/self.cert_secret", s_dir);
    return 0;
}

static int
teardown (void **state)
{
    (void) state;
    ds_curve_shutdown ();
    return fx_scratch_remove (s_dir);
}

//  The reply to "ping" on a REQ connected with `spec`, within `ms`, or NULL.
//  The send is bounded too: a REQ whose connection a refused handshake
//  took down has no pipe to queue to and would wait for one forever.
static char *
s_ask (zsock_t *req, zsock_t *rep, int ms)
{
    zsock_set_sndtimeo (req, ms);
    if (zstr_send (req, "ping"))
        return NULL;
    zpoller_t *poller = zpoller_new (rep, NULL);
    bool got = zpoller_wait (poller, ms) == rep;
    zpoller_destroy (&poller);
    if (!got)
        return NULL;
    char *ping = zstr_recv (rep);
    zstr_free (&ping);
    zstr_send (rep, "pong");
    poller = zpoller_new (req, NULL);
    got = zpoller_wait (poller, ms) == req;
    zpoller_destroy (&poller);
    return got ? zstr_recv (req) : NULL;
}

//  Binds a REP with CURVE on an ephemeral port of this test's own
//  loopback address; its endpoint with the server key into spec.  Not
//  127.0.0.1: other tests bind ephemeral ports there too, and a client of
//  theirs that retries a port its service has left connects to whoever
//  binds it next (one run of this test counted ~20 such plaintext
//  strangers as refusals).  Nobody else connects to 127.x.y.z.
static zsock_t *
s_bound (char *spec, size_t size)
{
    unsigned pid = (unsigned) getpid ();
    char any [64];
    snprintf (any, sizeof any, "tcp://127.%u.%u.7:*", 100 + pid % 150, pid / 150 % 250 + 1);
    zsock_t *rep = zsock_new (ZMQ_REP);
    assert_non_null (rep);
    assert_true (ds_curve_bind (rep, any) > 0);                     //  the port
    snprintf (spec, size, "%s@%s", zsock_endpoint (rep), s_cert);
    return rep;
}

static void
test_many_bound_sockets_answer (void **state)
{
    (void) state;
    assert_int_equal (ds_curve_init (s_secret, s_trust, false), 0);
    assert_true (ds_curve_on ());
    zsock_t *rep [N_BOUND], *req [N_BOUND];
    char spec [N_BOUND][512];
    //  Bound one after another, each asked at once (its handshake runs
    //  while the next bind registers its monitor), then all asked again.
    for (int i = 0; i < N_BOUND; i++) {
        rep [i] = s_bound (spec [i], sizeof spec [i]);
        req [i] = zsock_new (ZMQ_REQ);
        zsock_set_linger (req [i], 0);
        assert_int_equal (ds_curve_connect (req [i], spec [i]), 0);
        char *pong = s_ask (req [i], rep [i], 10000);
        assert_non_null (pong);
        assert_string_equal (pong, "pong");
        zstr_free (&pong);
    }
    for (int i = 0; i < N_BOUND; i++) {
        char *pong = s_ask (req [i], rep [i], 10000);
        assert_non_null (pong);
        zstr_free (&pong);
    }
    assert_int_equal (ds_curve_refused (), 0);
    for (int i = 0; i < N_BOUND; i++) {
        zsock_destroy (&req [i]);
        zsock_destroy (&rep [i]);
    }
    ds_curve_shutdown ();
}

//  Waits up to 10 s for the refusal count to pass `before`.
static bool
s_refused_after (uint64_t before)
{
    for (int i = 0; i < 1000; i++) {
        if (ds_curve_refused () > before)
            return true;
        zclock_sleep (10);
    }
    return false;
}

static void
test_strangers_refused_and_counted (void **state)
{
    (void) state;
    assert_int_equal (ds_curve_init (s_secret, s_trust, false), 0);
    char spec [512], endpoint [512];
    zsock_t *rep = s_bound (spec, sizeof spec);
    ds_curve_endpoint (spec, endpoint, sizeof endpoint);
    //  A key nobody trusts (the server key known).
    uint64_t before = ds_curve_refused ();
    zcert_t *stranger = zcert_new ();
    zcert_t *server = zcert_load (s_cert);
    zsock_t *req = zsock_new (ZMQ_REQ);
    zsock_set_linger (req, 0);
    zcert_apply (stranger, req);
    zsock_set_curve_serverkey (req, zcert_public_txt (server));
    assert_int_equal (zsock_connect (req, "%s", endpoint), 0);
    char *pong = s_ask (req, rep, 500);
    assert_null (pong);
    assert_true (s_refused_after (before));
    zsock_destroy (&req);
    //  Plaintext: a mechanism mismatch, seen by the monitor.
    before = ds_curve_refused ();
    req = zsock_new (ZMQ_REQ);
    zsock_set_linger (req, 0);
    assert_int_equal (zsock_connect (req, "%s", endpoint), 0);
    pong = s_ask (req, rep, 500);
    assert_null (pong);
    assert_true (s_refused_after (before));
    zsock_destroy (&req);
    //  The trusted client still gets its answer.
    req = zsock_new (ZMQ_REQ);
    zsock_set_linger (req, 0);
    assert_int_equal (ds_curve_connect (req, spec), 0);
    pong = s_ask (req, rep, 10000);
    assert_non_null (pong);
    zstr_free (&pong);
    zsock_destroy (&req);
    zcert_destroy (&stranger);
    zcert_destroy (&server);
    zsock_destroy (&rep);
    ds_curve_shutdown ();
}

static void
test_specs_and_errors (void **state)
{
    (void) state;
    char buf [256], err [256];
    assert_string_equal (ds_curve_endpoint ("tcp://10.0.0.1:5551@/k/lab.cert", buf, sizeof buf),
                         "tcp://10.0.0.1:5551");
    assert_string_equal (ds_curve_endpoint ("tcp://10.0.0.1:5551", buf, sizeof buf),
                         "tcp://10.0.0.1:5551");
    assert_int_equal (ds_curve_keygen (s_dir, "a/b", err, sizeof err), -1);
    assert_non_null (strstr (err, "bad certificate name"));
    assert_int_equal (ds_curve_keygen (s_dir, "", err, sizeof err), -1);
    //  Without --cert: plain TCP on loopback, a refusal elsewhere.
    assert_int_equal (ds_curve_init (NULL, NULL, false), 0);
    assert_false (ds_curve_on ());
    zsock_t *sock = zsock_new (ZMQ_REP);
    assert_int_equal (ds_curve_bind (sock, "tcp://0.0.0.0:*"), -1);
    assert_int_equal (ds_curve_connect (sock, "tcp://127.0.0.1:1@KEY"), -1);
    zsock_destroy (&sock);
    //  --trust needs --cert; CURVE on: a connect needs the server's key.
    assert_int_equal (ds_curve_init (NULL, s_trust, false), -1);
    assert_int_equal (ds_curve_init (s_secret, NULL, false), 0);
    sock = zsock_new (ZMQ_REQ);
    assert_int_equal (ds_curve_connect (sock, "tcp://127.0.0.1:1"), -1);
    assert_int_equal (ds_curve_connect (sock, "tcp://127.0.0.1:1@not-a-key"), -1);
    assert_int_equal (ds_curve_bind (sock, "tcp://127.0.0.1:1@KEY"), -1);
    zsock_destroy (&sock);
    ds_curve_shutdown ();
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_many_bound_sockets_answer),
        cmocka_unit_test (test_strangers_refused_and_counted),
        cmocka_unit_test (test_specs_and_errors),
    };
    return cmocka_run_group_tests (tests, setup, teardown);
}
