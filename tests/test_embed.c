/*  test_embed.c - the embed service over real sockets (services/embed/embed.c):
    labelled batches of two shards in, a model out, knn / classify /
    embedding / projection asked through the query service. */
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
#include "query_fixture.h"
#include "embed.h"
#include "query.h"
#include "client.h"
#include "ds_proto.h"
#include "transport.h"
#include "w2v.h"

#define SHARDS      2
#define GROUPS      4
#define MEMBERS     12
#define HIDDEN      3               //  unlabelled members of group 0
#define HOURS       240

static const char *s_classes [] = { "unknown", "censys", "shodan", "stretchoid", "mirai" };
static const char *s_services [] = { "telnet", "http" };

static uint64_t s_rng = 99;
static uint32_t
s_below (uint32_t n)
{
    s_rng = s_rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t) ((s_rng >> 33) % n);
}

//  Group g's member m: 10.g.0.m; noise: 172.16.0.x.
static void
s_member (ds_addr_t *a, int g, int m)
{
    char ip [32];
    snprintf (ip, sizeof ip, "10.%d.0.%d", g, m);
    ds_addr_parse (a, ip);
}

typedef struct {
    ds_batch_t *batch [SHARDS];
    uint64_t seq [SHARDS];
    uint64_t records [SHARDS];
    zsock_t *xpub;
} s_feed_t;

static void
s_flush (s_feed_t *f, uint32_t k, bool replay)
{
    ds_batch_t *b = f->batch [k];
    if (b->count == 0)
        return;
    b->shard = k;
    b->seq = f->seq [k]++;
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    assert_int_equal (ds_batch_encode (b, &buf), DS_OK);
    char topic [DS_TOPIC_LEN + 1];
    ds_topic_format (topic, "lab", k);
    assert_int_equal (ds_send2 (f->xpub, topic, DS_TOPIC_LEN, buf.data, buf.size, NULL), 0);
    if (replay)                     //  the same batch again: ignored
        assert_int_equal (ds_send2 (f->xpub, topic, DS_TOPIC_LEN, buf.data, buf.size, NULL), 0);
    msgpack_sbuffer_destroy (&buf);
    f->records [k] += b->count;
    b->count = 0;
}

static void
s_packet (s_feed_t *f, int64_t ts, const ds_addr_t *a, uint16_t service, uint16_t klass)
{
    uint32_t k = ds_addr_shard (a, SHARDS);
    ds_batch_t *b = f->batch [k];
    ds_record_t r = { .ts = ts, .src = *a, .port = service ? 80 : 23, .flags = klass ? DS_FLAG_GT : 0 };
    if (!ds_batch_add (b, &r)) {
        s_flush (f, k, false);
        assert_true (ds_batch_add (b, &r));
    }
    b->class_id [b->count - 1] = klass;
    b->service_id [b->count - 1] = service;
}

//  Planted groups (as in test_knn.c): each group active in its own hours.
static void
s_publish (s_feed_t *f)
{
    const uint16_t service [GROUPS] = { 0, 0, 1, 0 };
    const int64_t t0 = 1614643200000000LL, hour = 3600000000LL;
    for (int h = 0; h < HOURS; h++) {
        int g = h % GROUPS;
        for (int m = 0; m < MEMBERS + (g == 0 ? HIDDEN : 0); m++)
            for (int p = 0; p < 2; p++) {
                ds_addr_t a;
                s_member (&a, g, m);
                s_packet (f, t0 + h * hour + s_below (3600) * 1000000LL, &a, service [g],
                          m < MEMBERS ? (uint16_t) (g + 1) : 0);
            }
        for (int n = 0; n < 6; n++) {
            ds_addr_t a;
            char ip [32];
            snprintf (ip, sizeof ip, "172.16.0.%u", s_below (30));
            ds_addr_parse (&a, ip);
            s_packet (f, t0 + h * hour + s_below (3600) * 1000000LL, &a, (uint16_t) s_below (2), 0);
        }
        if (h == HOURS / 2)
            s_flush (f, 0, true);
    }
    for (uint32_t k = 0; k < SHARDS; k++)
        s_flush (f, k, false);
}

static void
s_eos (s_feed_t *f)
{
    for (uint32_t k = 0; k < SHARDS; k++) {
        ds_eos_t eos = { .shard = k, .batches = f->seq [k], .records = f->records [k] };
        msgpack_sbuffer buf;
        msgpack_sbuffer_init (&buf);
        assert_int_equal (ds_eos_encode (&eos, &buf), DS_OK);
        char topic [DS_TOPIC_LEN + 1];
        ds_topic_format (topic, "lab", k);
        assert_int_equal (ds_send2 (f->xpub, topic, DS_TOPIC_LEN, buf.data, buf.size, NULL), 0);
        msgpack_sbuffer_destroy (&buf);
    }
}

//  Asks name (ip, k) and returns the result (in zone) or NULL with err.
static msgpack_object *
s_ask (ds_client_t *client, const char *name, const char *ip, int64_t k, msgpack_zone *zone,
       char *err, size_t size)
{
    static msgpack_object result;
    ds_query_t q;
    fx_query (&q, name, ip);
    q.k = k;
    return ds_client_request (client, &q, zone, &result, err, size) == 0 ? &result : NULL;
}

static double
s_num (const msgpack_object *map, const char *key)
{
    const msgpack_object *v = ds_mp_get (map, key);
    assert_non_null (v);
    return v->type == MSGPACK_OBJECT_FLOAT64 ? v->via.f64 : (double) v->via.u64;
}

static void
test_service (void **state)
{
    (void) state;
    char dir [64];
    assert_int_equal (fx_scratch_make (dir, sizeof dir, "ds-embed"), 0);
    char model_path [96], corpus_path [96], classes_path [96];
    snprintf (model_path, sizeof model_path, "%s/model.txt", dir);
    snprintf (corpus_path, sizeof corpus_path, "%s/corpus.txt", dir);
    snprintf (classes_path, sizeof classes_path, "%s/classes.csv", dir);

    s_feed_t f = { .xpub = ds_xpub_new ("tcp://127.0.0.1:*") };
    assert_non_null (f.xpub);
    ds_embed_config_t ec;
    ds_embed_config_init (&ec);
    ec.inputs.items [0] = zsock_endpoint (f.xpub);
    ec.inputs.count = 1;
    ec.endpoint = "tcp://127.0.0.1:*";
    ec.shards = SHARDS;
    ec.tz = NULL;                    //  UTC
    ec.w2v.dim = 16;
    ec.w2v.window = 10;
    ec.w2v.epochs = 10;
    ec.w2v.threads = 1;
    char *given [3] = { strdup (model_path), strdup (corpus_path), strdup (classes_path) };
    ec.model_out = given [0];
    ec.corpus_out = given [1];
    ec.classes_out = given [2];
    zactor_t *embed = zactor_new (ds_embed_actor, &ec);
    char eep [256];
    assert_int_equal (ds_embed_endpoint (embed, eep, sizeof eep), 0);
    //  Started: the actor has its own copy of the config, paths included
    //  (it writes the files checked below at the end of training).
    for (int i = 0; i < 3; i++) {
        memset (given [i], 'x', strlen (given [i]));
        free (given [i]);
    }
    memset (&ec, 0xa5, sizeof ec);

    //  The query service forwards to it (no aggregator needed for these).
    ds_query_config_t qc;
    ds_query_config_init (&qc);
    qc.endpoint = "tcp://127.0.0.1:*";
    qc.shard_endpoints.items [0] = "tcp://127.0.0.1:1";
    qc.shard_endpoints.count = 1;
    qc.embed = eep;
    qc.timeout_ms = 5000;
    zactor_t *query = zactor_new (ds_query_actor, &qc);
    char qep [256];
    assert_int_equal (ds_query_endpoint (query, qep, sizeof qep), 0);
    ds_client_t *client = ds_client_new (qep, 10000);
    ds_client_t *direct = ds_client_new (eep, 10000);
    msgpack_zone zone;
    msgpack_zone_init (&zone, 65536);
    char err [512];

    assert_int_equal (ds_xpub_wait_subscribers (f.xpub, "lab", SHARDS, 10000, NULL), 0);
    for (uint32_t k = 0; k < SHARDS; k++) {
        f.batch [k] = ds_batch_new (512);
        assert_int_equal (ds_batch_set_dicts (f.batch [k], s_classes, 5, s_services, 2), 0);
    }
    s_publish (&f);
    //  Junk on the topic: rejected and counted, nothing else happens.
    char topic [DS_TOPIC_LEN + 1];
    ds_topic_format (topic, "lab", 1);
    assert_int_equal (ds_send2 (f.xpub, topic, DS_TOPIC_LEN, "junk", 4, NULL), 0);

    //  Before the end of stream: not trained, says why.
    assert_null (s_ask (client, "knn", "10.0.0.1", 0, &zone, err, sizeof err));
    assert_non_null (strstr (err, "not trained yet: collecting"));
    msgpack_object *st = s_ask (direct, "status", NULL, 0, &zone, err, sizeof err);
    assert_non_null (st);
    assert_true (fx_str_is (ds_mp_get (st, "state"), "collecting"));

    s_eos (&f);
    zpoller_t *poller = zpoller_new (embed, NULL);
    assert_non_null (zpoller_wait (poller, 60000));
    char *event = zstr_recv (embed);
    assert_string_equal (event, "TRAINED");
    zstr_free (&event);
    zpoller_destroy (&poller);

    st = s_ask (direct, "status", NULL, 0, &zone, err, sizeof err);
    assert_non_null (st);
    assert_true (fx_str_is (ds_mp_get (st, "state"), "ready"));
    assert_int_equal (s_num (st, "gaps"), 0);
    assert_int_equal (s_num (st, "rejected"), 1);
    assert_int_equal (s_num (st, "streams_ended"), SHARDS);

    //  Evaluation: the planted groups are recovered.
    msgpack_object *e = s_ask (client, "embedding", NULL, 0, &zone, err, sizeof err);
    if (!e)
        fail_msg ("embedding: %s", err);
    if (s_num (e, "accuracy") < 0.95)
        fail_msg ("accuracy %.3f", s_num (e, "accuracy"));
    assert_int_equal (s_num (e, "labelled"), GROUPS * MEMBERS);
    assert_int_equal (s_num (e, "unlabelled"), HIDDEN + 30);
    const msgpack_object *rows = ds_mp_get (e, "per_class");
    assert_int_equal (rows->via.array.size, GROUPS);
    assert_int_equal (s_num (ds_mp_get (e, "corpus"), "vocabulary"), GROUPS * MEMBERS + HIDDEN + 30);

    //  knn: a censys member's neighbours are censys (or the hidden ones).
    msgpack_object *knn = s_ask (client, "knn", "10.0.0.3", 5, &zone, err, sizeof err);
    if (!knn)
        fail_msg ("knn: %s", err);
    assert_true (fx_str_is (ds_mp_get (knn, "class"), "censys"));
    const msgpack_object *nb = ds_mp_get (knn, "neighbours");
    assert_int_equal (nb->via.array.size, 5);
    for (uint32_t i = 0; i < 5; i++) {
        const msgpack_object *row = &nb->via.array.ptr [i];
        const msgpack_object *ip = ds_mp_get (row, "ip");
        assert_true (ip->via.str.size > 5 && memcmp (ip->via.str.ptr, "10.0.0.", 7) == 0);
        if (i)
            assert_true (s_num (row, "similarity") <= s_num (&nb->via.array.ptr [i - 1], "similarity"));
    }
    //  classify: the hidden members of group 0 are censys.
    msgpack_object *cl = s_ask (client, "classify", NULL, 0, &zone, err, sizeof err);
    if (!cl)
        fail_msg ("classify: %s", err);
    assert_int_equal (s_num (cl, "k"), 7);
    const msgpack_object *crow = ds_mp_get (cl, "rows");
    int hidden_found = 0;
    for (uint32_t i = 0; i < crow->via.array.size; i++) {
        const msgpack_object *ip = ds_mp_get (&crow->via.array.ptr [i], "ip");
        if (ip->via.str.size >= 7 && memcmp (ip->via.str.ptr, "10.0.0.", 7) == 0) {
            assert_true (fx_str_is (ds_mp_get (&crow->via.array.ptr [i], "class"), "censys"));
            hidden_found++;
        }
    }
    assert_int_equal (hidden_found, HIDDEN);
    //  Another k reclassifies.
    cl = s_ask (client, "classify", NULL, 3, &zone, err, sizeof err);
    assert_non_null (cl);
    assert_int_equal (s_num (cl, "k"), 3);
    //  projection: every sender (fewer than the cap), x and y finite.
    msgpack_object *pr = s_ask (client, "projection", NULL, 0, &zone, err, sizeof err);
    assert_non_null (pr);
    assert_int_equal (ds_mp_get (pr, "points")->via.array.size, GROUPS * MEMBERS + HIDDEN + 30);
    //  Errors: unknown address, no address, k too big, unknown query.
    assert_null (s_ask (client, "knn", "192.0.2.77", 0, &zone, err, sizeof err));
    assert_non_null (strstr (err, "not in the embedding"));
    assert_null (s_ask (client, "knn", NULL, 0, &zone, err, sizeof err));
    assert_non_null (strstr (err, "needs \"ip\""));
    assert_null (s_ask (client, "knn", "10.0.0.1", 5000, &zone, err, sizeof err));
    assert_non_null (strstr (err, "1..1000"));
    assert_null (s_ask (direct, "overview", NULL, 0, &zone, err, sizeof err));
    assert_non_null (strstr (err, "answers knn"));

    //  The files: model read back, one line per sender.
    FILE *in = fopen (model_path, "r");
    assert_non_null (in);
    static char text [1 << 20];
    size_t size = fread (text, 1, sizeof text, in);
    fclose (in);
    ds_w2v_model_t *model = ds_w2v_read_text (text, size, err, sizeof err);
    if (!model)
        fail_msg ("model: %s", err);
    assert_int_equal (model->n, GROUPS * MEMBERS + HIDDEN + 30);
    assert_int_equal (model->dim, 16);
    ds_w2v_model_destroy (&model);
    assert_int_equal (access (corpus_path, R_OK), 0);
    assert_int_equal (access (classes_path, R_OK), 0);

    msgpack_zone_destroy (&zone);
    ds_client_destroy (&client);
    ds_client_destroy (&direct);
    zactor_destroy (&query);
    zactor_destroy (&embed);
    zsock_destroy (&f.xpub);
    for (uint32_t k = 0; k < SHARDS; k++)
        ds_batch_destroy (&f.batch [k]);
    assert_int_equal (fx_scratch_remove (dir), 0);
}

static void
test_query_k (void **state)
{
    (void) state;
    //  The "k" argument round-trips and is refused below 1.
    ds_query_t q, back;
    ds_query_init (&q);
    snprintf (q.name, sizeof q.name, "knn");
    snprintf (q.ip, sizeof q.ip, "192.0.2.1");
    q.k = 25;
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    assert_int_equal (ds_query_encode (&q, &buf), DS_OK);
    char err [256];
    assert_int_equal (ds_query_decode ((uint8_t *) buf.data, buf.size, &back, err, sizeof err), DS_OK);
    assert_int_equal (back.k, 25);
    assert_string_equal (back.ip, "192.0.2.1");
    //  Default: no "k" on the wire, 0 after decoding.
    q.k = 0;
    assert_int_equal (ds_query_encode (&q, &buf), DS_OK);
    assert_null (memmem (buf.data, buf.size, "\xa1k", 2));
    assert_int_equal (ds_query_decode ((uint8_t *) buf.data, buf.size, &back, err, sizeof err), DS_OK);
    assert_int_equal (back.k, 0);
    //  k = 0 or negative on the wire: refused, naming the key.
    const uint8_t bad [] = { 0x83, 0xa1, 'v', 0x01, 0xa1, 'q', 0xa3, 'k', 'n', 'n',
                             0xa4, 'a', 'r', 'g', 's', 0x81, 0xa1, 'k', 0x00 };
    assert_int_not_equal (ds_query_decode (bad, sizeof bad, &back, err, sizeof err), DS_OK);
    assert_non_null (strstr (err, "k"));
    msgpack_sbuffer_destroy (&buf);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_query_k),
        cmocka_unit_test (test_service),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
