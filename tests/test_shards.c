/*  libs: ds_query ds_aggregator ds_proto ds_common */
/*  test_shards.c - dead and hung shards fail fast (DESIGN §10, shards.h),
    over real sockets (tcp://127.0.0.1:*).

    Two aggregator shards fed by a test publisher, a query service with a
    short timeout.  Shard 1 is stopped: of 5 concurrent status requests one
    waits out the timeout and names the shard ("did not answer"), the
    other four find it "down" at once; an overview fails naming it.  The
    shard is restarted on the same endpoint: once its probe is answered
    the overview succeeds again, identical to the one before.  A hung
    shard (a REP that reads and does not answer) is marked down the same
    way and up again as soon as it answers a probe.  Assertions are on
    the replies' text, never on time.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "aggregator.h"
#include "query.h"
#include "transport.h"
#include "tz.h"
#include "ds_proto.h"
#include "partial_codec.h"

#define NSHARDS     2
#define CLIENTS     5
#define WAIT_MS     20000
#define TIMEOUT_MS  400             //  the query service's per-round timeout

static const char *s_classes [] = { "unknown" };
static const char *s_services [] = { "telnet" };

//  Publishes shard k's whole stream: one batch of records from sources
//  that hash to k over two days, then its EOS.
static void
s_publish (zsock_t *xpub, uint32_t k)
{
    ds_batch_t *batch = ds_batch_new (64);
    ds_batch_set_dicts (batch, s_classes, 1, s_services, 1);
    batch->shard = k;
    int32_t day0;
    ds_day_parse ("2021-03-01", &day0);
    for (int s = 1, added = 0; s < 250 && added < 40; s++) {
        char text [32];
        snprintf (text, sizeof text, "192.0.2.%d", s);
        ds_record_t rec = { 0 };
        ds_addr_parse (&rec.src, text);
        if (ds_addr_shard (&rec.src, NSHARDS) != k)
            continue;
        for (int j = 0; j < 1 + s % 13; j++, added++) {
            rec.ts = ds_tz_day_start (ds_tz_utc (), day0 + j % 2) + (int64_t) s * 1000000;
            rec.port = 23;
            rec.proto = DS_PROTO_TCP;
            assert_true (ds_batch_add (batch, &rec));
        }
    }
    char topic [DS_TOPIC_LEN + 1];
    ds_topic_format (topic, "lab", k);
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    assert_int_equal (ds_batch_encode (batch, &buf), DS_OK);
    assert_int_equal (ds_send2 (xpub, topic, DS_TOPIC_LEN, buf.data, buf.size, NULL), 0);
    ds_eos_t eos = { 0, k, 1, batch->count, batch->count, 0, 0, 0, 0, 0 };
    assert_int_equal (ds_eos_encode (&eos, &buf), DS_OK);
    assert_int_equal (ds_send2 (xpub, topic, DS_TOPIC_LEN, buf.data, buf.size, NULL), 0);
    msgpack_sbuffer_destroy (&buf);
    ds_batch_destroy (&batch);
}

//  Starts shard k on endpoint (tcp://127.0.0.1:* the first time), feeds
//  it and waits for its end of stream; writes the bound endpoint.
static zactor_t *
s_start_shard (ds_aggregator_config_t *cfg, zsock_t *xpub, uint32_t k, char *endpoint, size_t size)
{
    ds_aggregator_config_init (cfg);
    cfg->shard = k;
    cfg->shards = NSHARDS;
    cfg->inputs.items [0] = zsock_endpoint (xpub);
    cfg->inputs.count = 1;
    cfg->endpoint = endpoint;
    //  A restart may find the port still held by the stopped shard's
    //  listener (libzmq closes it in its I/O thread): retry, bounded.
    char bound [256];
    zactor_t *actor;
    int64_t deadline = zclock_mono () + WAIT_MS;
    while (true) {
        actor = zactor_new (ds_aggregator_actor, cfg);
        assert_non_null (actor);
        if (ds_aggregator_endpoint (actor, bound, sizeof bound, NULL) == 0)
            break;
        zactor_destroy (&actor);
        assert_true (zclock_mono () < deadline);
        zclock_sleep (50);
    }
    snprintf (endpoint, size, "%s", bound);
    //  Its subscription (the XPUB is verbose: a restarted shard's counts).
    char topic [DS_TOPIC_LEN + 1];
    ds_topic_format (topic, "lab", k);
    zpoller_t *subs = zpoller_new (xpub, NULL);
    while (true) {
        assert_non_null (zpoller_wait (subs, WAIT_MS));
        zframe_t *sub = zframe_recv (xpub);
        bool mine = zframe_size (sub) == 1 + DS_TOPIC_LEN && zframe_data (sub) [0] == 1
                 && memcmp (zframe_data (sub) + 1, topic, DS_TOPIC_LEN) == 0;
        zframe_destroy (&sub);
        if (mine)
            break;
    }
    zpoller_destroy (&subs);
    s_publish (xpub, k);
    zpoller_t *poller = zpoller_new (actor, NULL);
    assert_non_null (zpoller_wait (poller, WAIT_MS));
    zpoller_destroy (&poller);
    char *msg = zstr_recv (actor);
    assert_string_equal (msg, "EOS");
    zstr_free (&msg);
    return actor;
}

static void
s_send_query (zsock_t *req, const char *name)
{
    ds_query_t q;
    ds_query_init (&q);
    snprintf (q.name, sizeof q.name, "%s", name);
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    assert_int_equal (ds_query_encode (&q, &buf), DS_OK);
    assert_int_equal (zmq_send (zsock_resolve (req), buf.data, buf.size, 0), (int) buf.size);
    msgpack_sbuffer_destroy (&buf);
}

//  Receives a reply (bounded wait).  Returns 0 and the raw reply bytes
//  in *raw if raw (caller destroys), or -1 with the error text in err.  For a
//  status, err gets shard `shard`'s error instead ("" if it answered).
static int
s_recv_reply (zsock_t *req, int shard, zframe_t **raw, char *err, size_t err_size)
{
    zpoller_t *poller = zpoller_new (req, NULL);
    assert_non_null (zpoller_wait (poller, WAIT_MS));
    zpoller_destroy (&poller);
    zframe_t *frame = zframe_recv (req);
    assert_non_null (frame);
    msgpack_zone zone;
    msgpack_zone_init (&zone, 4096);
    msgpack_object reply;
    const msgpack_object *result;
    assert_int_equal (ds_mp_unpack (zframe_data (frame), zframe_size (frame), &zone, &reply), DS_OK);
    int rc = ds_reply_parse (&reply, &result, err, err_size) == DS_OK ? 0 : -1;
    if (rc == 0 && shard >= 0) {
        const msgpack_object *shards = ds_mp_get (result, "shards");
        assert_non_null (shards);
        assert_true (shards->via.array.size > (uint32_t) shard);
        const msgpack_object *e = ds_mp_get (&shards->via.array.ptr [shard], "error");
        snprintf (err, err_size, "%.*s", e ? (int) e->via.str.size : 0, e ? e->via.str.ptr : "");
        rc = e ? -1 : 0;
    }
    msgpack_zone_destroy (&zone);
    if (raw && rc == 0)
        *raw = frame;
    else
        zframe_destroy (&frame);
    return rc;
}

static int
s_ask (const char *endpoint, const char *name, int shard, zframe_t **raw, char *err, size_t err_size)
{
    zsock_t *req = zsock_new_req (endpoint);
    assert_non_null (req);
    s_send_query (req, name);
    int rc = s_recv_reply (req, shard, raw, err, err_size);
    zsock_destroy (&req);
    return rc;
}

//  A free endpoint on 127.0.0.1 below the kernel's ephemeral range
//  (32768-60999; 20000-32000 as tests/ports.sh): while a stopped shard's
//  port is free, the query service's reconnecting probe could be given
//  that very port as its own source port and connect to itself.
static void
s_free_endpoint (char *endpoint, size_t size)
{
    for (int tries = 0; tries < 1000; tries++) {
        snprintf (endpoint, size, "tcp://127.0.0.1:%d", 20000 + (int) (zclock_usecs () % 12001));
        zsock_t *probe = zsock_new (ZMQ_REP);
        assert_non_null (probe);
        bool free = zsock_bind (probe, "%s", endpoint) > 0;
        zsock_destroy (&probe);
        if (free)
            return;
    }
    fail_msg ("no free port in 20000-32000");
}

static void
test_dead_shard (void **state)
{
    (void) state;
    zsock_t *xpub = ds_xpub_new ("tcp://127.0.0.1:*");
    assert_non_null (xpub);
    zsock_set_xpub_verbose (xpub, 1);
    ds_aggregator_config_t cfg [NSHARDS];
    zactor_t *aggs [NSHARDS];
    char eps [NSHARDS][256];
    for (uint32_t k = 0; k < NSHARDS; k++) {
        s_free_endpoint (eps [k], sizeof eps [k]);
        aggs [k] = s_start_shard (&cfg [k], xpub, k, eps [k], sizeof eps [k]);
    }
    assert_string_not_equal (eps [0], eps [1]);
    ds_query_config_t qcfg;
    ds_query_config_init (&qcfg);
    qcfg.endpoint = "tcp://127.0.0.1:*";
    for (uint32_t k = 0; k < NSHARDS; k++)
        qcfg.shard_endpoints.items [k] = eps [k];
    qcfg.shard_endpoints.count = NSHARDS;
    qcfg.timeout_ms = TIMEOUT_MS;
    zactor_t *query = zactor_new (ds_query_actor, &qcfg);
    char qep [256];
    assert_int_equal (ds_query_endpoint (query, qep, sizeof qep), 0);

    char err [512];
    zframe_t *before, *after;
    assert_int_equal (s_ask (qep, "overview", -1, &before, err, sizeof err), 0);

    //  Shard 1 stops.  Five clients ask at once: one waits and learns that
    //  shard 1 did not answer, the others find it down.
    zactor_destroy (&aggs [1]);
    zsock_t *clients [CLIENTS];
    for (int c = 0; c < CLIENTS; c++) {
        clients [c] = zsock_new_req (qep);
        s_send_query (clients [c], "status");
    }
    int waited = 0, down = 0;
    for (int c = 0; c < CLIENTS; c++) {
        assert_int_equal (s_recv_reply (clients [c], 1, NULL, err, sizeof err), -1);
        assert_non_null (strstr (err, eps [1]));
        waited += strstr (err, "did not answer within") != NULL;
        down += strstr (err, "is down") != NULL;
        zsock_destroy (&clients [c]);
    }
    assert_int_equal (waited, 1);
    assert_int_equal (down, CLIENTS - 1);
    //  Shard 0 answered every one of them.
    assert_int_equal (s_ask (qep, "status", 0, NULL, err, sizeof err), 0);
    //  An overview fails at once, naming the shard.
    assert_int_equal (s_ask (qep, "overview", -1, NULL, err, sizeof err), -1);
    assert_non_null (strstr (err, eps [1]));
    assert_non_null (strstr (err, "is down"));

    //  Restarted on the same endpoint: requests succeed again once its
    //  probe is answered (each attempt answers at once, so poll, bounded).
    aggs [1] = s_start_shard (&cfg [1], xpub, 1, eps [1], sizeof eps [1]);
    int64_t deadline = zclock_mono () + WAIT_MS;
    while (s_ask (qep, "overview", -1, &after, err, sizeof err)) {
        assert_non_null (strstr (err, "is down"));
        assert_true (zclock_mono () < deadline);
        zclock_sleep (20);
    }
    assert_true (zframe_eq (before, after));
    assert_int_equal (s_ask (qep, "status", 1, NULL, err, sizeof err), 0);
    zframe_destroy (&before);
    zframe_destroy (&after);
    zactor_destroy (&query);
    for (uint32_t k = 0; k < NSHARDS; k++)
        zactor_destroy (&aggs [k]);
    zsock_destroy (&xpub);
}

//  A hung shard: a REP (in a thread) that reads a request and does not
//  answer until "WAKE" arrives on its pipe; then it answers that request
//  and every later one with an empty ok reply.  Its endpoint is sent on
//  the pipe at start.
static void
s_hung_actor (zsock_t *pipe, void *args)
{
    (void) args;
    zsock_t *rep = zsock_new (ZMQ_REP);
    ds_sock_defaults (rep);
    assert_true (zsock_bind (rep, "tcp://127.0.0.1:*") > 0);
    //  Once awake it answers every request with a shard's status: the
    //  STATUS partial of an empty shard 0 of 1, as the reply's bin result.
    ds_part_status_t status = { .shard = 0, .shards = 1, .tz = "UTC", .sensors_expected = 1 };
    msgpack_sbuffer part, ok;
    msgpack_sbuffer_init (&part);
    msgpack_sbuffer_init (&ok);
    assert_int_equal (ds_part_status_encode (&status, &part), DS_OK);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &ok, msgpack_sbuffer_write);
    ds_reply_ok_begin (&pk);
    msgpack_pack_bin (&pk, part.size);
    msgpack_pack_bin_body (&pk, part.data, part.size);
    msgpack_sbuffer_destroy (&part);
    zsock_signal (pipe, 0);
    zstr_send (pipe, zsock_endpoint (rep));
    bool awake = false, holding = false;
    zpoller_t *poller = zpoller_new (pipe, rep, NULL);
    while (true) {
        zsock_t *which = zpoller_wait (poller, -1);
        if (which == pipe) {
            char *command = zstr_recv (pipe);
            bool wake = command && streq (command, "WAKE");
            zstr_free (&command);
            if (!wake)
                break;
            awake = true;
            if (holding)
                zmq_send (zsock_resolve (rep), ok.data, ok.size, 0);
            holding = false;
        }
        else
        if (which == rep && !holding) {
            zframe_t *request = zframe_recv (rep);
            zframe_destroy (&request);
            if (awake)
                zmq_send (zsock_resolve (rep), ok.data, ok.size, 0);
            else {
                holding = true;         //  read, never answered while asleep
                zpoller_remove (poller, rep);
            }
        }
        else
            break;
        if (awake && !holding && which == pipe)
            zpoller_add (poller, rep);
    }
    zpoller_destroy (&poller);
    msgpack_sbuffer_destroy (&ok);
    zsock_destroy (&rep);
}

static void
test_hung_shard (void **state)
{
    (void) state;
    zactor_t *hung = zactor_new (s_hung_actor, NULL);
    char *ep = zstr_recv (hung);
    assert_non_null (ep);
    ds_query_config_t qcfg;
    ds_query_config_init (&qcfg);
    qcfg.endpoint = "tcp://127.0.0.1:*";
    qcfg.shard_endpoints.items [0] = ep;
    qcfg.shard_endpoints.count = 1;
    qcfg.timeout_ms = TIMEOUT_MS;
    zactor_t *query = zactor_new (ds_query_actor, &qcfg);
    char qep [256];
    assert_int_equal (ds_query_endpoint (query, qep, sizeof qep), 0);

    char err [512];
    assert_int_equal (s_ask (qep, "status", 0, NULL, err, sizeof err), -1);
    assert_non_null (strstr (err, "did not answer within"));
    assert_non_null (strstr (err, ep));
    assert_int_equal (s_ask (qep, "status", 0, NULL, err, sizeof err), -1);
    assert_non_null (strstr (err, "is down"));

    //  It wakes up: answers what it held (the timed-out request, whose
    //  asker is gone) and then the probes and requests.
    zstr_send (hung, "WAKE");
    int64_t deadline = zclock_mono () + WAIT_MS;
    while (s_ask (qep, "status", 0, NULL, err, sizeof err)) {
        assert_non_null (strstr (err, "is down"));
        assert_true (zclock_mono () < deadline);
        zclock_sleep (20);
    }
    zactor_destroy (&query);
    zactor_destroy (&hung);
    zstr_free (&ep);
}

int
main (void)
{
    zsys_init ();
    zsys_set_logstream (NULL);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_dead_shard),
        cmocka_unit_test (test_hung_shard),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
