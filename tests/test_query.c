/*  libs: ds_query ds_aggregator ds_proto ds_common */
/*  test_query.c - aggregator and query services over real sockets.

    A publisher in the test (an XPUB on tcp://127.0.0.1:*) sends labelled
    batches and EOS to two aggregator actors; a query actor merges them.
    The overview over the socket must equal the in-process merge of stores
    fed the same batches; a stopped shard yields an error naming its
    endpoint; garbage requests get error replies and the service lives on;
    an aggregator restarted from a checkpoint and fed a full replay gives
    the same overview as an uninterrupted run; one restarted from a
    complete checkpoint does not rewrite it for a repeated end of stream.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>
#include <stdatomic.h>
#include "scratch_fixture.h"
#include "aggregator.h"
#include "query.h"
#include "store.h"
#include "merge.h"
#include "transport.h"
#include "tz.h"
#include "ds_proto.h"

#define NSHARDS 2
#define NSRC    40
#define NREC    4000
#define BATCH   100

static const char *s_classes [] = { "unknown", "censys", "shodan" };
static const char *s_services [] = { "telnet", "http", "unk_usr", "icmp", "proxy" };
static const struct { int32_t port; uint8_t proto; int service; } s_ports [] = {
    { 23, DS_PROTO_TCP, 0 }, { 80, DS_PROTO_TCP, 1 }, { 5555, DS_PROTO_TCP, 2 },
    { DS_PORT_NONE, DS_PROTO_ICMP, 3 }, { 3128, DS_PROTO_TCP, 4 }, { 8080, DS_PROTO_UDP, 1 },
};

//  Batches per shard, encoded once, sent (and replayed) as is.
static msgpack_sbuffer s_batches [NSHARDS][NREC];
static size_t s_nbatches [NSHARDS];
static ds_batch_t *s_decoded [NSHARDS][NREC];
static char s_dir [64];

static void
s_make_batches (uint32_t shards)
{
    uint64_t rng = 12345;
    ds_addr_t addr [NSRC];
    for (int s = 0; s < NSRC; s++) {
        char text [32];
        snprintf (text, sizeof text, "192.0.2.%d", s + 1);
        ds_addr_parse (&addr [s], text);
    }
    int32_t day0;
    ds_day_parse ("2021-03-01", &day0);
    ds_batch_t *open [NSHARDS];
    for (uint32_t k = 0; k < shards; k++) {
        open [k] = ds_batch_new (BATCH);
        ds_batch_set_dicts (open [k], s_classes, 3, s_services, 5);
        s_nbatches [k] = 0;
    }
    for (int i = 0; i <= NREC; i++) {
        bool last = i == NREC;
        uint32_t k = 0;
        ds_record_t rec;
        int src = 0, port = 0;
        if (!last) {
            rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
            src = (int) (rng % 7 == 0 ? rng % NSRC : rng % 9);
            port = (int) ((rng >> 8) % 6);
            int day = (int) ((rng >> 16) % 6);
            rec.ts = ds_tz_day_start (ds_tz_utc (), day0 + day) + (int64_t) ((rng >> 24) % 86400000000ULL);
            rec.src = addr [src];
            rec.port = s_ports [port].port;
            rec.proto = s_ports [port].proto;
            rec.flags = (uint8_t) ((src % 5 == 1 && port == 0 && day % 2) ? DS_FLAG_MIRAI : 0);
            if (src % 4 == 0)
                rec.flags |= DS_FLAG_GT;
            k = ds_addr_shard (&addr [src], shards);
        }
        for (uint32_t j = 0; j < shards; j++) {
            ds_batch_t *b = open [j];
            bool flush = last ? b->count > 0 : (j == k && b->count == BATCH);
            if (flush) {
                b->sensor = 3;
                b->shard = j;
                b->seq = s_nbatches [j];
                msgpack_sbuffer_init (&s_batches [j][s_nbatches [j]]);
                assert_int_equal (ds_batch_encode (b, &s_batches [j][s_nbatches [j]]), DS_OK);
                s_decoded [j][s_nbatches [j]] = ds_batch_new (BATCH);
                assert_int_equal (ds_batch_decode ((const uint8_t *) s_batches [j][s_nbatches [j]].data,
                                                   s_batches [j][s_nbatches [j]].size,
                                                   s_decoded [j][s_nbatches [j]]), DS_OK);
                s_nbatches [j]++;
                ds_batch_reset (b);
                ds_batch_set_dicts (b, s_classes, 3, s_services, 5);
            }
        }
        if (!last) {
            ds_batch_t *b = open [k];
            uint32_t at = b->count;
            assert_true (ds_batch_add (b, &rec));
            b->class_id [at] = (uint16_t) (src % 4 == 0 ? (src / 4) % 3 : 0);
            b->service_id [at] = (uint16_t) s_ports [port].service;
        }
    }
    for (uint32_t k = 0; k < shards; k++)
        ds_batch_destroy (&open [k]);
}

static void
s_free_batches (uint32_t shards)
{
    for (uint32_t k = 0; k < shards; k++)
        for (size_t i = 0; i < s_nbatches [k]; i++) {
            msgpack_sbuffer_destroy (&s_batches [k][i]);
            ds_batch_destroy (&s_decoded [k][i]);
        }
}

static ds_eos_t
s_eos (uint32_t shard)
{
    ds_eos_t eos = { 3, shard, s_nbatches [shard], 0, 5000, 4, 1, 0, 0, 0 };
    return eos;
}

//  Publishes batches [from, to) of shard k, then its EOS if eos.
static void
s_publish (zsock_t *xpub, uint32_t k, size_t from, size_t to, bool eos)
{
    char topic [DS_TOPIC_LEN + 1];
    ds_topic_format (topic, "lab", k);
    for (size_t i = from; i < to; i++)
        assert_int_equal (ds_send2 (xpub, topic, DS_TOPIC_LEN, s_batches [k][i].data,
                                    s_batches [k][i].size, NULL), 0);
    if (eos) {
        msgpack_sbuffer buf;
        msgpack_sbuffer_init (&buf);
        ds_eos_t e = s_eos (k);
        assert_int_equal (ds_eos_encode (&e, &buf), DS_OK);
        assert_int_equal (ds_send2 (xpub, topic, DS_TOPIC_LEN, buf.data, buf.size, NULL), 0);
        msgpack_sbuffer_destroy (&buf);
    }
}

//  Waits (bounded) for "EOS" on an aggregator's pipe.
static void
s_wait_eos (zactor_t *actor)
{
    zpoller_t *poller = zpoller_new (actor, NULL);
    assert_non_null (zpoller_wait (poller, 20000));
    char *msg = zstr_recv (actor);
    assert_string_equal (msg, "EOS");
    zstr_free (&msg);
    zpoller_destroy (&poller);
}

static zactor_t *s_start_agg_as (ds_aggregator_config_t *cfg, uint32_t k, uint32_t shards,
                                  const char *input, const char *ckpt, char *endpoint,
                                  size_t size, bool *eos);

//  Starts a shard that has not seen its end of stream yet.
static zactor_t *
s_start_agg (ds_aggregator_config_t *cfg, uint32_t k, uint32_t shards, const char *input,
             const char *ckpt, char *endpoint, size_t size)
{
    bool eos;
    zactor_t *actor = s_start_agg_as (cfg, k, shards, input, ckpt, endpoint, size, &eos);
    assert_false (eos);
    return actor;
}

//  Starts a shard; *eos: it said its end of stream as it started (a
//  complete checkpoint restored).
static zactor_t *
s_start_agg_as (ds_aggregator_config_t *cfg, uint32_t k, uint32_t shards, const char *input,
                const char *ckpt, char *endpoint, size_t size, bool *eos)
{
    ds_aggregator_config_init (cfg);
    cfg->shard = k;
    cfg->shards = shards;
    cfg->inputs.items [0] = input;
    cfg->inputs.count = 1;
    cfg->endpoint = "tcp://127.0.0.1:*";
    cfg->checkpoint = ckpt;
    cfg->checkpoint_interval_ms = 0;
    zactor_t *actor = zactor_new (ds_aggregator_actor, cfg);
    assert_non_null (actor);
    ds_aggregator_endpoint (actor, endpoint, size, eos);    //  caller checks endpoint [0]
    return actor;
}

//  Sends raw bytes to the query front door, returns the reply (caller
//  destroys) after a bounded wait.
static zmsg_t *
s_ask_raw (zsock_t *req, const void *data, size_t size)
{
    assert_int_equal (zsock_send (req, "b", data, size), 0);
    zpoller_t *poller = zpoller_new (req, NULL);
    assert_non_null (zpoller_wait (poller, 20000));
    zpoller_destroy (&poller);
    zmsg_t *msg = zmsg_recv (req);
    assert_non_null (msg);
    return msg;
}

//  Sends request bytes; on success packs the reply's result into *result
//  (caller destroys) and returns 0; else copies the error into err and
//  returns -1.
static int
s_ask_bytes (zsock_t *req, const void *data, size_t size, msgpack_sbuffer *result,
             char *err, size_t err_size)
{
    zmsg_t *msg = s_ask_raw (req, data, size);
    zframe_t *frame = zmsg_first (msg);
    msgpack_zone zone;
    msgpack_zone_init (&zone, 4096);
    msgpack_object reply;
    const msgpack_object *res;
    assert_int_equal (ds_mp_unpack (zframe_data (frame), zframe_size (frame), &zone, &reply), DS_OK);
    int rc = ds_reply_parse (&reply, &res, err, err_size) == DS_OK ? 0 : -1;
    if (rc == 0) {
        msgpack_sbuffer_init (result);
        msgpack_packer pk;
        msgpack_packer_init (&pk, result, msgpack_sbuffer_write);
        msgpack_pack_object (&pk, *res);
    }
    msgpack_zone_destroy (&zone);
    zmsg_destroy (&msg);
    return rc;
}

//  Asks q (see s_ask_bytes).
static int
s_ask (zsock_t *req, const ds_query_t *q, msgpack_sbuffer *result, char *err, size_t err_size)
{
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    assert_int_equal (ds_query_encode (q, &buf), DS_OK);
    int rc = s_ask_bytes (req, buf.data, buf.size, result, err, err_size);
    msgpack_sbuffer_destroy (&buf);
    return rc;
}

//  The stores as the merge's shards (merge.h), asked in-process.
typedef struct {
    ds_store_t **stores;
    size_t n;
    msgpack_sbuffer bufs [NSHARDS];
    msgpack_object results [NSHARDS];
} t_shards_t;

//  A round of the merge: decodes the request as a shard does, and asks
//  every store for its partial.
static int
s_store_round (void *ctx, const msgpack_sbuffer *request, const msgpack_object **results,
               char *err, size_t err_size)
{
    t_shards_t *sh = ctx;
    ds_part_req_t req;
    assert_int_equal (ds_part_req_decode ((const uint8_t *) request->data, request->size, &req,
                                          err, err_size), DS_OK);
    for (size_t i = 0; i < sh->n; i++) {
        assert_int_equal (ds_store_partial (sh->stores [i], &req, &sh->bufs [i], err, err_size), 0);
        sh->results [i] = (msgpack_object) { .type = MSGPACK_OBJECT_BIN,
            .via.bin = { (uint32_t) sh->bufs [i].size, sh->bufs [i].data } };
    }
    *results = sh->results;
    return 0;
}

//  The in-process answer: stores fed the decoded batches, merged.
static void
s_local (const ds_query_t *query, uint32_t shards, msgpack_sbuffer *out)
{
    ds_store_t *stores [NSHARDS];
    ds_query_t q = *query;
    char tz [DS_PART_TZ_MAX], err [256];
    for (uint32_t k = 0; k < shards; k++) {
        stores [k] = ds_store_new (k, shards, NULL);
        for (size_t i = 0; i < s_nbatches [k]; i++)
            assert_int_equal (ds_store_apply (stores [k], s_decoded [k][i]), 1);
        ds_eos_t e = s_eos (k);
        ds_store_eos (stores [k], &e);
    }
    //  One store for the batches of every shard of the socket run: their
    //  seqs overlap, so add them without the per-stream check.
    if (shards == 1)
        for (uint32_t j = 1; j < NSHARDS; j++)
            for (size_t i = 0; i < s_nbatches [j]; i++)
                assert_int_equal (ds_store_add_batch (stores [0], s_decoded [j][i]), 0);
    t_shards_t sh = { .stores = stores, .n = shards };
    for (uint32_t k = 0; k < shards; k++)
        msgpack_sbuffer_init (&sh.bufs [k]);
    msgpack_sbuffer_init (out);
    msgpack_packer pk;
    msgpack_packer_init (&pk, out, msgpack_sbuffer_write);
    assert_int_equal (ds_merge_range (shards, s_store_round, &sh, &q, tz, sizeof tz, NULL,
                                      err, sizeof err), 0);
    assert_int_equal (ds_merge_answer (shards, s_store_round, &sh, &q, tz, &pk, err, sizeof err), 0);
    for (uint32_t k = 0; k < shards; k++) {
        msgpack_sbuffer_destroy (&sh.bufs [k]);
        ds_store_destroy (&stores [k]);
    }
}

static void
s_expect_same (const msgpack_sbuffer *a, const msgpack_sbuffer *b)
{
    if (a->size != b->size || memcmp (a->data, b->data, a->size)) {
        msgpack_zone zone;
        msgpack_zone_init (&zone, 4096);
        msgpack_object x, y;
        if (ds_mp_unpack ((const uint8_t *) a->data, a->size, &zone, &x) == DS_OK
        &&  ds_mp_unpack ((const uint8_t *) b->data, b->size, &zone, &y) == DS_OK) {
            fprintf (stderr, "got:  ");
            msgpack_object_print (stderr, x);
            fprintf (stderr, "\nwant: ");
            msgpack_object_print (stderr, y);
            fprintf (stderr, "\n");
        }
        msgpack_zone_destroy (&zone);
    }
    assert_int_equal (a->size, b->size);
    assert_memory_equal (a->data, b->data, a->size);
}

//  The query service's on_merged: counted (its thread calls it).
static void
s_merged (void *arg)
{
    atomic_int *count = arg;
    atomic_fetch_add (count, 1);
}

static void
test_services (void **state)
{
    (void) state;
    s_make_batches (NSHARDS);
    zsock_t *xpub = ds_xpub_new ("tcp://127.0.0.1:*");
    assert_non_null (xpub);
    char input [256];
    snprintf (input, sizeof input, "%s", zsock_endpoint (xpub));
    ds_aggregator_config_t acfg [NSHARDS];
    zactor_t *aggs [NSHARDS];
    char eps [NSHARDS][256];
    for (uint32_t k = 0; k < NSHARDS; k++) {
        aggs [k] = s_start_agg (&acfg [k], k, NSHARDS, input, NULL, eps [k], sizeof eps [k]);
        assert_true (eps [k][0]);
    }
    assert_int_equal (ds_xpub_wait_subscribers (xpub, "lab", NSHARDS, 10000, NULL), 0);
    for (uint32_t k = 0; k < NSHARDS; k++)
        s_publish (xpub, k, 0, s_nbatches [k], true);
    for (uint32_t k = 0; k < NSHARDS; k++)
        s_wait_eos (aggs [k]);

    ds_query_config_t qcfg;
    ds_query_config_init (&qcfg);
    qcfg.endpoint = "tcp://127.0.0.1:*";
    for (uint32_t k = 0; k < NSHARDS; k++)
        qcfg.shard_endpoints.items [k] = eps [k];
    qcfg.shard_endpoints.count = NSHARDS;
    qcfg.labeler = "tcp://127.0.0.1:1";     //  nobody there
    qcfg.embed = NULL;                      //  none, as in `darkscope run` without --embed
    qcfg.timeout_ms = 700;
    atomic_int merged = 0;
    qcfg.on_merged = s_merged;
    qcfg.on_merged_arg = &merged;
    zactor_t *query = zactor_new (ds_query_actor, &qcfg);
    char qep [256];
    assert_int_equal (ds_query_endpoint (query, qep, sizeof qep), 0);
    zsock_t *req = zsock_new_req (qep);
    assert_non_null (req);

    //  Overview and its sections, default window and an explicit one.
    const char *names [] = { "overview", "ports", "ecdf", "daily", "classes", "heatmap" };
    for (int w = 0; w < 2; w++)
        for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
            ds_query_t q;
            ds_query_init (&q);
            snprintf (q.name, sizeof q.name, "%s", names [i]);
            if (w) {
                snprintf (q.first_day, sizeof q.first_day, "2021-03-02");
                snprintf (q.last_day, sizeof q.last_day, "2021-03-04");
                q.min_packets = 3;
            }
            msgpack_sbuffer got, want;
            char err [256];
            if (s_ask (req, &q, &got, err, sizeof err))
                fail_msg ("%s: %s", names [i], err);
            s_local (&q, NSHARDS, &want);
            s_expect_same (&got, &want);
            //  Asked again: the answer kept in the cache, the same bytes.
            msgpack_sbuffer again;
            if (s_ask (req, &q, &again, err, sizeof err))
                fail_msg ("%s again: %s", names [i], err);
            s_expect_same (&again, &want);
            msgpack_sbuffer_destroy (&again);
            //  ... and equals a single-store run (1 shard).
            if (i == 0) {
                msgpack_sbuffer one;
                s_local (&q, 1, &one);
                s_expect_same (&got, &one);
                msgpack_sbuffer_destroy (&one);
            }
            msgpack_sbuffer_destroy (&got);
            msgpack_sbuffer_destroy (&want);
            //  on_merged once per answer merged, none for the cached one
            assert_int_equal (atomic_load (&merged), (int) (w * (sizeof names / sizeof *names) + i + 1));
        }
    //  Status: both shards saw all EOS.
    {
        ds_query_t q;
        ds_query_init (&q);
        snprintf (q.name, sizeof q.name, "status");
        msgpack_sbuffer got;
        char err [256];
        assert_int_equal (s_ask (req, &q, &got, err, sizeof err), 0);
        msgpack_zone zone;
        msgpack_zone_init (&zone, 4096);
        msgpack_object obj;
        assert_int_equal (ds_mp_unpack ((const uint8_t *) got.data, got.size, &zone, &obj), DS_OK);
        const msgpack_object *all = ds_mp_get (&obj, "eos_all");
        assert_non_null (all);
        assert_true (all->via.boolean);
        msgpack_zone_destroy (&zone);
        msgpack_sbuffer_destroy (&got);
    }
    //  Pattern works over the socket and refuses bad bins.
    {
        ds_query_t q;
        ds_query_init (&q);
        snprintf (q.name, sizeof q.name, "pattern");
        q.bin_s = 3600;
        msgpack_sbuffer got;
        char err [256];
        assert_int_equal (s_ask (req, &q, &got, err, sizeof err), 0);
        msgpack_sbuffer_destroy (&got);
        q.bin_s = 90;
        assert_int_equal (s_ask (req, &q, &got, err, sizeof err), -1);
        assert_non_null (strstr (err, "multiple of 60"));
    }
    //  Garbage: each gets an error reply and the service stays up.
    {
        const char *garbage [] = {
            "", "\xc1", "hello", "\x81\xa1q\xa8overview",           //  no "v"
            ("\x83\xa1v\x01\xa1q\xa8nonsense\xa4" "args\x80"),        //  unknown query
            ("\x83\xa1v\x02\xa1q\xa8overview\xa4" "args\x80"),        //  version 2
            ("\x83\xa1v\x01\xa1q\xa8overview\xa4" "args\x81\xa9" "first_day\xa5" "march"),
            ("\x83\xa1v\x01\xa1q\xa8overview\xa4" "args\x81\xa8" "bogus_ar\x01"),
            "\xdd\xff\xff\xff\xff",                                 //  array of 4 G
            "\x93\x01\x02",                                         //  truncated array
        };
        for (size_t i = 0; i < sizeof garbage / sizeof *garbage; i++) {
            zmsg_t *msg = s_ask_raw (req, garbage [i], strlen (garbage [i]));
            zframe_t *frame = zmsg_first (msg);
            msgpack_zone zone;
            msgpack_zone_init (&zone, 1024);
            msgpack_object reply;
            const msgpack_object *res;
            char err [256];
            assert_int_equal (ds_mp_unpack (zframe_data (frame), zframe_size (frame), &zone, &reply), DS_OK);
            assert_int_not_equal (ds_reply_parse (&reply, &res, err, sizeof err), DS_OK);
            assert_true (strlen (err) > 0);
            msgpack_zone_destroy (&zone);
            zmsg_destroy (&msg);
        }
        //  A two-frame request.
        assert_int_equal (zstr_sendx (req, "a", "b", NULL), 0);
        zpoller_t *poller = zpoller_new (req, NULL);
        assert_non_null (zpoller_wait (poller, 20000));
        zpoller_destroy (&poller);
        zmsg_t *msg = zmsg_recv (req);
        zmsg_destroy (&msg);
        //  lookup with no labeler: an error naming it, after the timeout.
        ds_query_t q;
        ds_query_init (&q);
        snprintf (q.name, sizeof q.name, "lookup");
        snprintf (q.ip, sizeof q.ip, "192.0.2.1");
        msgpack_sbuffer got;
        char err [256];
        assert_int_equal (s_ask (req, &q, &got, err, sizeof err), -1);
        assert_non_null (strstr (err, "tcp://127.0.0.1:1"));
        //  knn with no embed service: an error that says how to get one.
        ds_query_init (&q);
        snprintf (q.name, sizeof q.name, "knn");
        snprintf (q.ip, sizeof q.ip, "192.0.2.1");
        assert_int_equal (s_ask (req, &q, &got, err, sizeof err), -1);
        assert_non_null (strstr (err, "knn: no embed service endpoint configured (darkscope run: add --embed"));
        //  Still alive: an overview answers.
        ds_query_init (&q);
        snprintf (q.name, sizeof q.name, "overview");
        assert_int_equal (s_ask (req, &q, &got, err, sizeof err), 0);
        msgpack_sbuffer_destroy (&got);
    }
    //  A stopped shard: the error names its endpoint; status lists it.
    {
        zactor_destroy (&aggs [1]);
        ds_query_t q;
        ds_query_init (&q);
        snprintf (q.name, sizeof q.name, "overview");
        msgpack_sbuffer got;
        char err [256];
        assert_int_equal (s_ask (req, &q, &got, err, sizeof err), -1);
        assert_non_null (strstr (err, eps [1]));
        snprintf (q.name, sizeof q.name, "status");
        assert_int_equal (s_ask (req, &q, &got, err, sizeof err), 0);
        msgpack_zone zone;
        msgpack_zone_init (&zone, 4096);
        msgpack_object obj;
        assert_int_equal (ds_mp_unpack ((const uint8_t *) got.data, got.size, &zone, &obj), DS_OK);
        assert_false (ds_mp_get (&obj, "eos_all")->via.boolean);
        msgpack_zone_destroy (&zone);
        msgpack_sbuffer_destroy (&got);
    }
    zsock_destroy (&req);
    zactor_destroy (&query);
    zactor_destroy (&aggs [0]);
    zsock_destroy (&xpub);
    s_free_batches (NSHARDS);
}

//  Asks an aggregator's REP directly for the overview partial (explicit
//  window), as returned: the bin of its encoding.
static void
s_agg_overview (const char *endpoint, msgpack_sbuffer *out)
{
    zsock_t *req = zsock_new_req (endpoint);
    ds_part_req_t r = { .kind = DS_PART_OVERVIEW, .min_packets = 10 };
    assert_int_equal (ds_day_parse ("2021-03-01", &r.first_day), 0);
    assert_int_equal (ds_day_parse ("2021-03-06", &r.last_day), 0);
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    assert_int_equal (ds_part_req_encode (&r, &buf), DS_OK);
    char err [256];
    if (s_ask_bytes (req, buf.data, buf.size, out, err, sizeof err))
        fail_msg ("%s", err);
    msgpack_sbuffer_destroy (&buf);
    zsock_destroy (&req);
}

//  Asks a shard's status into *obj (its bytes in got, objects in zone:
//  the caller destroys both).
static void
s_status (zsock_t *req, msgpack_sbuffer *got, msgpack_zone *zone, msgpack_object *obj)
{
    ds_query_t q;
    ds_query_init (&q);
    snprintf (q.name, sizeof q.name, "status");
    char err [256];
    assert_int_equal (s_ask (req, &q, got, err, sizeof err), 0);
    msgpack_zone_init (zone, 4096);
    assert_int_equal (ds_mp_unpack ((const uint8_t *) got->data, got->size, zone, obj), DS_OK);
}

//  A counter of the shard's one sensor in its status (UINT64_MAX: none).
static uint64_t
s_sensor_counter (const char *ep, const char *key)
{
    zsock_t *req = zsock_new_req (ep);
    msgpack_sbuffer got;
    msgpack_zone zone;
    msgpack_object obj;
    s_status (req, &got, &zone, &obj);
    zsock_destroy (&req);
    const msgpack_object *sensors = ds_mp_get (ds_mp_get (&obj, "store"), "sensors");
    uint64_t value = UINT64_MAX;
    if (sensors && sensors->via.array.size == 1 && ds_mp_get (&sensors->via.array.ptr [0], key))
        value = ds_mp_get (&sensors->via.array.ptr [0], key)->via.u64;
    msgpack_zone_destroy (&zone);
    msgpack_sbuffer_destroy (&got);
    return value;
}

//  Waits (bounded) until the sensor's counter in the status is want.
static void
s_wait_counter (const char *ep, const char *key, uint64_t want)
{
    int64_t deadline = zclock_mono () + 20000;
    while (s_sensor_counter (ep, key) != want) {
        assert_true (zclock_mono () < deadline);
        zclock_sleep (5);
    }
}

static void
test_restart (void **state)
{
    (void) state;
    s_make_batches (1);
    char ckpt [128];
    snprintf (ckpt, sizeof ckpt, "%s/agg.ckpt", s_dir);
    unlink (ckpt);
    size_t half = s_nbatches [0] / 2;

    //  Uninterrupted run, for reference (no checkpoint).
    msgpack_sbuffer want;
    {
        zsock_t *xpub = ds_xpub_new ("tcp://127.0.0.1:*");
        ds_aggregator_config_t cfg;
        char ep [256];
        zactor_t *agg = s_start_agg (&cfg, 0, 1, zsock_endpoint (xpub), NULL, ep, sizeof ep);
        assert_int_equal (ds_xpub_wait_subscribers (xpub, "lab", 1, 10000, NULL), 0);
        s_publish (xpub, 0, 0, s_nbatches [0], true);
        s_wait_eos (agg);
        s_agg_overview (ep, &want);
        zactor_destroy (&agg);
        zsock_destroy (&xpub);
    }
    //  Interrupted: half the input, a checkpoint, more input that the
    //  "crash" loses (the checkpoint file is put back as it was), then a
    //  new aggregator from the checkpoint and a replay of everything.
    {
        zsock_t *xpub = ds_xpub_new ("tcp://127.0.0.1:*");
        ds_aggregator_config_t cfg;
        char ep [256];
        zactor_t *agg = s_start_agg (&cfg, 0, 1, zsock_endpoint (xpub), ckpt, ep, sizeof ep);
        assert_int_equal (ds_xpub_wait_subscribers (xpub, "lab", 1, 10000, NULL), 0);
        s_publish (xpub, 0, 0, half, false);
        //  Ask the shard's status until it reports every batch applied (each
        //  round trip paces the loop; bounded by a deadline).
        s_wait_counter (ep, "next_seq", half);
        assert_int_equal (zstr_send (agg, "CHECKPOINT"), 0);
        char *reply = zstr_recv (agg);
        assert_string_equal (reply, "OK");
        zstr_free (&reply);
        char saved [160];
        snprintf (saved, sizeof saved, "%s.saved", ckpt);
        char cmd [512];
        snprintf (cmd, sizeof cmd, "cp '%s' '%s'", ckpt, saved);
        assert_int_equal (system (cmd), 0);
        s_publish (xpub, 0, half, half + 3, false);
        zactor_destroy (&agg);          //  writes a later checkpoint ...
        assert_int_equal (rename (saved, ckpt), 0);    //  ... that the crash lost
        zsock_destroy (&xpub);

        xpub = ds_xpub_new ("tcp://127.0.0.1:*");
        agg = s_start_agg (&cfg, 0, 1, zsock_endpoint (xpub), ckpt, ep, sizeof ep);
        assert_true (ep [0]);
        assert_int_equal (ds_xpub_wait_subscribers (xpub, "lab", 1, 10000, NULL), 0);
        s_publish (xpub, 0, 0, s_nbatches [0], true);     //  full replay
        s_wait_eos (agg);
        msgpack_sbuffer got;
        s_agg_overview (ep, &got);
        s_expect_same (&got, &want);
        msgpack_sbuffer_destroy (&got);
        zactor_destroy (&agg);
        zsock_destroy (&xpub);
    }
    //  A checkpoint of another shard count is refused: the actor does not start.
    assert_int_equal (access (ckpt, F_OK), 0);
    {
        ds_aggregator_config_t cfg;
        char ep [256];
        zactor_t *agg = s_start_agg (&cfg, 0, 2, "tcp://127.0.0.1:1", ckpt, ep, sizeof ep);
        assert_false (ep [0]);
        zactor_destroy (&agg);
    }
    msgpack_sbuffer_destroy (&want);
    unlink (ckpt);
    s_free_batches (1);
}

//  The checkpoint file as it is on disk now: inode and change time.
static void
s_file_id (const char *path, struct stat *st)
{
    assert_int_equal (stat (path, st), 0);
}

static bool
s_same_file (const struct stat *a, const struct stat *b)
{
    return a->st_ino == b->st_ino && a->st_mtim.tv_sec == b->st_mtim.tv_sec
        && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec && a->st_size == b->st_size;
}

//  A shard restarted from a complete checkpoint rewrites nothing while
//  nothing changes: not as it starts, not for the end of stream the
//  labeler announces again, not when it stops (the month's checkpoint is
//  ~300 MB a shard).  An end of stream that changes something is saved.
static void
test_restart_unchanged (void **state)
{
    (void) state;
    s_make_batches (1);
    char ckpt [128];
    snprintf (ckpt, sizeof ckpt, "%s/eos.ckpt", s_dir);
    unlink (ckpt);
    zsock_t *xpub = ds_xpub_new ("tcp://127.0.0.1:*");
    ds_aggregator_config_t cfg;
    char ep [256];
    bool eos;
    zactor_t *agg = s_start_agg (&cfg, 0, 1, zsock_endpoint (xpub), ckpt, ep, sizeof ep);
    assert_int_equal (ds_xpub_wait_subscribers (xpub, "lab", 1, 10000, NULL), 0);
    s_publish (xpub, 0, 0, s_nbatches [0], true);
    s_wait_eos (agg);
    zactor_destroy (&agg);                          //  the final checkpoint
    zsock_destroy (&xpub);
    struct stat saved, now;
    s_file_id (ckpt, &saved);

    //  Restarted: complete at once; the labeler's EOS again, then a
    //  replayed batch (ignored) that says when the EOS was taken.
    xpub = ds_xpub_new ("tcp://127.0.0.1:*");
    agg = s_start_agg_as (&cfg, 0, 1, zsock_endpoint (xpub), ckpt, ep, sizeof ep, &eos);
    assert_true (ep [0]);
    assert_true (eos);
    assert_int_equal (ds_xpub_wait_subscribers (xpub, "lab", 1, 10000, NULL), 0);
    uint64_t replays = s_sensor_counter (ep, "replays");
    s_publish (xpub, 0, 0, 0, true);
    s_publish (xpub, 0, 0, 1, false);
    s_wait_counter (ep, "replays", replays + 1);
    zactor_destroy (&agg);
    zsock_destroy (&xpub);
    s_file_id (ckpt, &now);
    assert_true (s_same_file (&saved, &now));

    //  An end of stream with other counters (the ingest's own, e.g. after
    //  it counted a few more packets) is news: saved when the shard stops.
    xpub = ds_xpub_new ("tcp://127.0.0.1:*");
    agg = s_start_agg_as (&cfg, 0, 1, zsock_endpoint (xpub), ckpt, ep, sizeof ep, &eos);
    assert_true (ep [0]);
    assert_int_equal (ds_xpub_wait_subscribers (xpub, "lab", 1, 10000, NULL), 0);
    ds_eos_t e = s_eos (0);
    e.packets_read++;
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    assert_int_equal (ds_eos_encode (&e, &buf), DS_OK);
    char topic [DS_TOPIC_LEN + 1];
    ds_topic_format (topic, "lab", 0);
    assert_int_equal (ds_send2 (xpub, topic, DS_TOPIC_LEN, buf.data, buf.size, NULL), 0);
    msgpack_sbuffer_destroy (&buf);
    s_wait_counter (ep, "packets_read", e.packets_read);
    zactor_destroy (&agg);
    zsock_destroy (&xpub);
    s_file_id (ckpt, &now);
    assert_false (s_same_file (&saved, &now));
    unlink (ckpt);
    s_free_batches (1);
}

//  The actor keeps its own copy of the config: once started, the caller's
//  config and the path it points to may go away (a test that fails an
//  assertion leaves its frame while the actor runs on; such an actor once
//  wrote its checkpoint under a name made of whatever the stack held).
static void
test_config_copied (void **state)
{
    (void) state;
    char want [128];
    snprintf (want, sizeof want, "%s/copied.ckpt", s_dir);
    unlink (want);
    ds_aggregator_config_t *cfg = malloc (sizeof *cfg);
    char *path = strdup (want);
    assert_non_null (cfg);
    assert_non_null (path);
    char ep [256];
    zactor_t *agg = s_start_agg (cfg, 0, 2, "tcp://127.0.0.1:1", path, ep, sizeof ep);
    assert_true (ep [0]);
    memset (path, 'x', strlen (path));
    free (path);
    memset (cfg, 0xa5, sizeof *cfg);
    free (cfg);
    assert_int_equal (zstr_send (agg, "CHECKPOINT"), 0);
    char *reply = zstr_recv (agg);
    assert_string_equal (reply, "OK");
    zstr_free (&reply);
    zactor_destroy (&agg);
    assert_int_equal (access (want, F_OK), 0);
    unlink (want);
}

//  A hostile or confused publisher: garbage payloads, a batch of another
//  shard, a one-frame message; the shard counts them, applies the good
//  batch and still reaches its end of stream.
static void
test_hostile_input (void **state)
{
    (void) state;
    s_make_batches (NSHARDS);
    zsock_t *xpub = ds_xpub_new ("tcp://127.0.0.1:*");
    ds_aggregator_config_t cfg;
    char ep [256];
    zactor_t *agg = s_start_agg (&cfg, 0, NSHARDS, zsock_endpoint (xpub), NULL, ep, sizeof ep);
    assert_int_equal (ds_xpub_wait_subscribers (xpub, "lab", 1, 10000, NULL), 0);
    char topic [DS_TOPIC_LEN + 1];
    ds_topic_format (topic, "lab", 0);
    const char *junk [] = { "", "DSK", ("\x93\xa3" "DSK\x01\x02"), "\xdd\xff\xff\xff\xff" };
    for (size_t i = 0; i < sizeof junk / sizeof *junk; i++)
        assert_int_equal (ds_send2 (xpub, topic, DS_TOPIC_LEN, junk [i], strlen (junk [i]), NULL), 0);
    //  shard 1's batch on shard 0's topic
    assert_int_equal (ds_send2 (xpub, topic, DS_TOPIC_LEN, s_batches [1][0].data,
                                s_batches [1][0].size, NULL), 0);
    assert_int_equal (zstr_send (xpub, topic), 0);          //  one frame only
    s_publish (xpub, 0, 0, s_nbatches [0], true);
    s_wait_eos (agg);
    zsock_t *req = zsock_new_req (ep);
    msgpack_sbuffer got;
    msgpack_zone zone;
    msgpack_object obj;
    s_status (req, &got, &zone, &obj);
    ds_query_t q;
    ds_query_init (&q);
    char err [256];
    assert_int_equal (ds_mp_get (&obj, "rejected")->via.u64, 6);
    assert_int_equal (ds_mp_get (&obj, "foreign")->via.u64, 1);
    //  Every good batch was applied, nothing of the bad ones.
    uint64_t records = 0;
    for (size_t i = 0; i < s_nbatches [0]; i++)
        records += s_decoded [0][i]->count;
    assert_int_equal (ds_mp_get (ds_mp_get (&obj, "store"), "records")->via.u64, records);
    msgpack_zone_destroy (&zone);
    msgpack_sbuffer_destroy (&got);
    //  Garbage straight to the shard's REP: an error reply, still alive.
    zmsg_t *reply = s_ask_raw (req, "\x81\xa1v\x01", 4);
    zmsg_destroy (&reply);
    snprintf (q.name, sizeof q.name, "overview");
    assert_int_equal (s_ask (req, &q, &got, err, sizeof err), -1);
    assert_non_null (strstr (err, "partial"));
    //  A partial request cut short: an error reply that says so.
    ds_part_req_t pr = { .kind = DS_PART_OVERVIEW, .first_day = 1, .last_day = 2, .min_packets = 10 };
    msgpack_sbuffer pbuf;
    msgpack_sbuffer_init (&pbuf);
    assert_int_equal (ds_part_req_encode (&pr, &pbuf), DS_OK);
    assert_int_equal (s_ask_bytes (req, pbuf.data, pbuf.size - 1, &got, err, sizeof err), -1);
    assert_non_null (strstr (err, "truncated"));
    msgpack_sbuffer_destroy (&pbuf);
    snprintf (q.name, sizeof q.name, "status");
    assert_int_equal (s_ask (req, &q, &got, err, sizeof err), 0);
    msgpack_sbuffer_destroy (&got);
    zsock_destroy (&req);
    zactor_destroy (&agg);
    zsock_destroy (&xpub);
    s_free_batches (NSHARDS);
}

static int
s_setup (void **state)
{
    (void) state;
    return fx_scratch_make (s_dir, sizeof s_dir, "test_query");
}

static int
s_teardown (void **state)
{
    (void) state;
    return fx_scratch_remove (s_dir);
}

//  With retention each shard evicts by its own newest day: one whose
//  sources were quiet on the newest day still holds the day before the
//  retained ones.  The default window is the retained days before the
//  newest (not the oldest day some shard holds); a window given is kept.
static void
test_retained_window (void **state)
{
    (void) state;
    ds_part_range_t parts [3] = {
        { .tz = "UTC", .any = true, .first_day = 18700, .last_day = 18729, .retain_days = 30 },
        { .tz = "UTC", .any = true, .first_day = 18701, .last_day = 18730, .retain_days = 30 },
        { .tz = "UTC", .any = false, .retain_days = 30 },
    };
    char tz [64], err [256];
    ds_query_t q;
    memset (&q, 0, sizeof q);
    assert_int_equal (ds_merge_window (parts, 3, &q, tz, sizeof tz, err, sizeof err), 0);
    assert_string_equal (q.first_day, "2021-03-15");        //  day 18701 = 18730 - 30 + 1
    assert_string_equal (q.last_day, "2021-04-13");         //  day 18730
    memset (&q, 0, sizeof q);
    snprintf (q.first_day, sizeof q.first_day, "2021-03-01");
    assert_int_equal (ds_merge_window (parts, 3, &q, tz, sizeof tz, err, sizeof err), 0);
    assert_string_equal (q.first_day, "2021-03-01");
    //  A day that is none: named with its value.
    memset (&q, 0, sizeof q);
    snprintf (q.last_day, sizeof q.last_day, "2021-02-30");
    assert_int_equal (ds_merge_window (parts, 3, &q, tz, sizeof tz, err, sizeof err), -1);
    assert_string_equal (err, "last_day '2021-02-30' is not a day (YYYY-MM-DD)");
    //  Without retention: from the oldest day any shard holds.
    for (int i = 0; i < 3; i++)
        parts [i].retain_days = 0;
    memset (&q, 0, sizeof q);
    assert_int_equal (ds_merge_window (parts, 3, &q, tz, sizeof tz, err, sizeof err), 0);
    assert_string_equal (q.first_day, "2021-03-14");        //  day 18700
}

int
main (void)
{
    zsys_init ();
    zsys_set_logstream (NULL);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_services),
        cmocka_unit_test (test_restart),
        cmocka_unit_test (test_restart_unchanged),
        cmocka_unit_test (test_config_copied),
        cmocka_unit_test (test_hostile_input),
        cmocka_unit_test (test_retained_window),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
