/*  libs: ds_labeler_fixture ds_labeler ds_proto ds_common */
/*  test_labeler.c - the labeler actor over real sockets.

    A test publisher (XPUB, real encoded batches) -> the labeler actor ->
    a test subscriber, with a "reload" of a changed GT file in the middle of
    the stream.  Checked: every record arrives labelled exactly once, none
    lost (the subscriber connects only after the first batches were
    published: the labeler must hold them until it has a subscriber); each
    batch is entirely old-table or entirely new-table; batches published
    after the reload reply use the new table; EOS arrives; gaps and rejected
    messages are counted; lookup/status/bad reload over the control socket;
    batches only a whole-stream subscriber ("lab.") got are counted per shard.
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
#include <cmocka.h>
#include "scratch_fixture.h"
#include "labeler.h"
#include "ds_proto.h"
#include "log.h"
#include "labeler_fixture.h"

#define SHARDS      2
#define PER_SHARD   100             //  batches per shard
#define RECORDS     50              //  records per batch
#define SENSOR      7

static char s_dir [64];
static char s_csv [128];
static char s_list [128];

//  Old table: 10.0.0.<even> alpha.  New table: 10.0.0.<even> beta,
//  10.0.0.<odd> alpha.  Both: 10.0.1.0/24 censys (the list).
static void
s_write_gt (bool new_table)
{
    char text [8192];
    size_t n = (size_t) snprintf (text, sizeof text, "Unnamed: 0,ip,class\n");
    for (int x = 0; x < 100; x++)
        if (x % 2 == 0 || new_table)
            n += (size_t) snprintf (text + n, sizeof text - n, "%d,10.0.0.%d,%s\n", x, x,
                                    x % 2 ? "alpha" : new_table ? "beta" : "alpha");
    fx_write (s_csv, text);
}

//  The record with global index i (its ts is i: unique).
static void
s_record (uint64_t i, ds_record_t *rec)
{
    static const struct { int32_t port; uint8_t proto; } pps [] = {
        { 23, DS_PROTO_TCP }, { DS_PORT_NONE, DS_PROTO_ICMP }, { 50000, DS_PROTO_UDP },
        { 445, DS_PROTO_TCP }, { 1024, DS_PROTO_TCP }
    };
    char text [32];
    switch (i % 3) {
        case 0: snprintf (text, sizeof text, "10.0.0.%u", (unsigned) (i % 100)); break;
        case 1: snprintf (text, sizeof text, "10.0.1.%u", (unsigned) (i % 256)); break;
        default: snprintf (text, sizeof text, "192.0.2.%u", (unsigned) (i % 256)); break;
    }
    memset (rec, 0, sizeof *rec);
    rec->ts = (int64_t) i;
    assert_int_equal (ds_addr_parse (&rec->src, text), 0);
    rec->port = pps [i % 5].port;
    rec->proto = pps [i % 5].proto;
    //  Mirai flag kept as is; a stale GT flag on input must be replaced.
    rec->flags = (uint8_t) ((i % 7 == 0 ? DS_FLAG_MIRAI : 0) | (i % 11 == 0 ? DS_FLAG_GT : 0));
}

//  Expected labels of record i under the old (0) or new (1) table.
static void
s_expect (uint64_t i, int table, const char **class_name, bool *gt, const char **service)
{
    static const char *services [] = { "telnet", "icmp", "unk_eph", "netbios-smb", "unk_usr" };
    *service = services [i % 5];
    unsigned host = (unsigned) (i % 100);
    if (i % 3 == 0) {
        bool even = host % 2 == 0;
        *class_name = even ? (table ? "beta" : "alpha") : (table ? "alpha" : "unknown");
        *gt = even || table;
    }
    else
    if (i % 3 == 1) {
        *class_name = "censys";
        *gt = true;
    }
    else {
        *class_name = "unknown";
        *gt = false;
    }
}

static void
s_publish (zsock_t *pub, const char *prefix, uint32_t shard, msgpack_sbuffer *buf)
{
    char topic [16];
    ds_topic_format (topic, prefix, shard);
    assert_true (zmq_send (zsock_resolve (pub), topic, strlen (topic), ZMQ_SNDMORE) >= 0);
    assert_true (zmq_send (zsock_resolve (pub), buf->data, buf->size, 0) >= 0);
}

static void
s_publish_batch (zsock_t *pub, uint32_t sensor, uint32_t shard, uint64_t seq, uint32_t topic_shard)
{
    ds_batch_t *batch = ds_batch_new (RECORDS);
    batch->sensor = sensor;
    batch->shard = shard;
    batch->seq = seq;
    uint64_t base = ((uint64_t) shard * PER_SHARD + seq) * RECORDS;
    for (uint32_t r = 0; r < RECORDS; r++) {
        ds_record_t rec;
        s_record (base + r, &rec);
        assert_true (ds_batch_add (batch, &rec));
    }
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    assert_int_equal (ds_batch_encode (batch, &buf), DS_OK);
    s_publish (pub, "pkt", topic_shard, &buf);
    msgpack_sbuffer_destroy (&buf);
    ds_batch_destroy (&batch);
}

//  Receives labelled batches until `until` says stop; checks each.
typedef struct {
    uint8_t *seen;                  //  [SHARDS * PER_SHARD * RECORDS]
    uint64_t next_seq [SHARDS];
    int table_of [SHARDS][PER_SHARD];
    int eos [SHARDS];
    uint64_t batches;
    ds_batch_t *batch;
} s_collector_t;

static void
s_receive_one (zsock_t *sub, s_collector_t *c)
{
    assert_true (fx_wait_readable (sub, FX_TIMEOUT_MS));
    zmsg_t *msg = zmsg_recv (sub);
    assert_non_null (msg);
    assert_int_equal (zmsg_size (msg), 2);
    char *topic = zmsg_popstr (msg);
    zframe_t *body = zmsg_pop (msg);
    int type;
    assert_int_equal (ds_msg_peek (zframe_data (body), zframe_size (body), &type), DS_OK);
    if (type == DS_MSG_EOS) {
        ds_eos_t eos;
        assert_int_equal (ds_eos_decode (zframe_data (body), zframe_size (body), &eos), DS_OK);
        assert_int_equal (eos.sensor, SENSOR);
        assert_true (eos.shard < SHARDS);
        char expect [16];
        ds_topic_format (expect, "lab", eos.shard);
        assert_string_equal (topic, expect);
        assert_int_equal (eos.batches, PER_SHARD);
        assert_int_equal (eos.records, PER_SHARD * RECORDS);
        assert_int_equal (eos.packets_read, 12345);             //  forwarded unchanged
        assert_int_equal (c->next_seq [eos.shard], PER_SHARD);  //  EOS after its batches
        c->eos [eos.shard]++;
    }
    else {
        assert_int_equal (type, DS_MSG_LABELLED);
        ds_batch_t *b = c->batch;
        assert_int_equal (ds_batch_decode (zframe_data (body), zframe_size (body), b), DS_OK);
        assert_true (b->labelled);
        assert_int_equal (b->sensor, SENSOR);
        assert_true (b->shard < SHARDS);
        char expect [16];
        ds_topic_format (expect, "lab", b->shard);
        assert_string_equal (topic, expect);
        assert_int_equal (b->seq, c->next_seq [b->shard]);      //  in order, none lost
        assert_int_equal (b->count, RECORDS);
        assert_string_equal (b->class_names [0], "unknown");
        //  Which table labelled it: decided by the first 10.0.0.x record,
        //  then every record must agree with that table.
        int table = -1;
        for (uint32_t r = 0; r < b->count && table < 0; r++) {
            uint64_t i = (uint64_t) b->ts [r];
            if (i % 3 == 0)
                table = strcmp (b->class_names [b->class_id [r]],
                                (i % 100) % 2 == 0 ? "alpha" : "unknown") == 0 ? 0 : 1;
        }
        assert_true (table >= 0);
        for (uint32_t r = 0; r < b->count; r++) {
            uint64_t i = (uint64_t) b->ts [r];
            assert_true (i < SHARDS * PER_SHARD * RECORDS);
            assert_int_equal (c->seen [i], 0);                  //  exactly once
            c->seen [i] = 1;
            ds_record_t want;
            s_record (i, &want);
            const char *class_name, *service;
            bool gt;
            s_expect (i, table, &class_name, &gt, &service);
            assert_true (b->class_id [r] < b->n_classes);
            assert_true (b->service_id [r] < b->n_services);
            if (strcmp (b->class_names [b->class_id [r]], class_name) != 0)
                fail_msg ("record %" PRIu64 " of batch %u/%" PRIu64 ": class %s, table %d wants %s "
                          "(a batch labelled half-and-half?)", i, b->shard, b->seq,
                          b->class_names [b->class_id [r]], table, class_name);
            assert_string_equal (b->service_names [b->service_id [r]], service);
            assert_int_equal (b->flags [r] & DS_FLAG_GT, gt ? DS_FLAG_GT : 0);
            assert_int_equal (b->flags [r] & DS_FLAG_MIRAI, want.flags & DS_FLAG_MIRAI);
            assert_int_equal (b->port [r], want.port);
            assert_int_equal (b->proto [r], want.proto);
            assert_memory_equal (b->src [r].b, want.src.b, 16);
        }
        c->table_of [b->shard][b->seq] = table;
        c->next_seq [b->shard]++;
        c->batches++;
    }
    zstr_free (&topic);
    zframe_destroy (&body);
    zmsg_destroy (&msg);
}

//  The labeler of the stream tests, on the old table and the censys list,
//  reading pub, SHARDS shards.  Its output is over inproc: its high-water
//  marks are exact (no kernel buffers), so the labeler is surely blocked by
//  back-pressure when a reload arrives.  The config and the strings it
//  points to live here as long as the actor.
typedef struct {
    ds_labeler_config_t config;
    char spec [160];                //  censys=<the list>
    char out [64];                  //  its data endpoint (inproc)
    char data [256], control [256];
    zactor_t *actor;
} s_labeler_t;

//  Starts it (wait_ms: its wait for the shards' subscribers, -1 forever);
//  returns once it subscribed to pub.
static void
s_labeler_start (s_labeler_t *self, zsock_t *pub, const char *name, int64_t wait_ms)
{
    s_write_gt (false);
    fx_write (s_list, "# test list\n10.0.1.0/24\n");
    fx_labeler_config (&self->config, s_csv, zsock_endpoint (pub));
    snprintf (self->spec, sizeof self->spec, "censys=%s", s_list);
    self->config.gt_lists.items [self->config.gt_lists.count++] = self->spec;
    snprintf (self->out, sizeof self->out, "inproc://%s-%d", name, (int) getpid ());
    self->config.endpoint = self->out;
    self->config.shards = SHARDS;
    self->config.wait_ms = wait_ms;
    self->actor = fx_labeler_start (&self->config, self->data, sizeof self->data,
                                    self->control, sizeof self->control);
    assert_string_equal (self->data, self->out);
    assert_non_null (strstr (self->control, "tcp://127.0.0.1:"));
    fx_wait_subscribed (pub);
}

static void
test_pipeline_with_reload (void **state)
{
    (void) state;
    //  The test publisher, standing in for ingest; the labeler blocked by
    //  back-pressure when the reload arrives, half-way through the first
    //  half of the stream.  Its subscription is in before publishing.
    zsock_t *pub = fx_ingest_pub ();
    s_labeler_t lab;
    s_labeler_start (&lab, pub, "test-labeler", -1);
    zactor_t *labeler = lab.actor;
    const char *data_endpoint = lab.data, *control_endpoint = lab.control;

    //  First half, published before anyone subscribes to the labeler.
    for (uint64_t seq = 0; seq < PER_SHARD / 2; seq++)
        for (uint32_t shard = 0; shard < SHARDS; shard++)
            s_publish_batch (pub, SENSOR, shard, seq, shard);

    zsock_t *sub = zsock_new (ZMQ_SUB);
    zsock_set_linger (sub, 0);
    zsock_set_rcvhwm (sub, 4);
    for (uint32_t shard = 0; shard < SHARDS; shard++) {     //  every shard's own topic
        char topic [16];
        ds_topic_format (topic, "lab", shard);
        zsock_set_subscribe (sub, topic);
    }
    assert_int_equal (zsock_connect (sub, "%s", data_endpoint), 0);
    zsock_t *req = zsock_new (ZMQ_REQ);
    zsock_set_linger (req, 0);
    assert_int_equal (zsock_connect (req, "%s", control_endpoint), 0);

    s_collector_t c;
    memset (&c, 0, sizeof c);
    c.seen = calloc (SHARDS * PER_SHARD * RECORDS, 1);
    c.batch = ds_batch_new (16);
    //  The first batches arrive, labelled by the old table.
    while (c.batches < 4)
        s_receive_one (sub, &c);

    //  Reload with a changed file while the labeler is blocked on the rest
    //  of the first half.  Nothing is read until the reply is in: the
    //  labeler answers control requests while it waits for room, so the
    //  rest of the first half is surely labelled by the new table (reading
    //  meanwhile would race the request against the stream).
    s_write_gt (true);
    msgpack_zone zone;
    msgpack_zone_init (&zone, 4096);
    const msgpack_object *result;
    char err [256];
    assert_int_equal (fx_ask (req, &zone, "reload", NULL, false, &result, err, sizeof err), DS_OK);
    assert_int_equal (fx_uint (ds_mp_get (result, "classes")), 4);  //  unknown alpha beta censys
    uint64_t reload_seq = PER_SHARD / 2;        //  published after the reply: new table

    for (uint64_t seq = PER_SHARD / 2; seq < PER_SHARD; seq++)
        for (uint32_t shard = 0; shard < SHARDS; shard++)
            s_publish_batch (pub, SENSOR, shard, seq, shard);
    for (uint32_t shard = 0; shard < SHARDS; shard++) {
        ds_eos_t eos = { SENSOR, shard, PER_SHARD, PER_SHARD * RECORDS, 12345, 1, 2, 3, 4, 0 };
        msgpack_sbuffer buf;
        msgpack_sbuffer_init (&buf);
        assert_int_equal (ds_eos_encode (&eos, &buf), DS_OK);
        s_publish (pub, "pkt", shard, &buf);
        msgpack_sbuffer_destroy (&buf);
    }
    while (c.eos [0] + c.eos [1] < SHARDS)
        s_receive_one (sub, &c);
    assert_int_equal (c.batches, SHARDS * PER_SHARD);
    for (size_t i = 0; i < SHARDS * PER_SHARD * RECORDS; i++)
        assert_int_equal (c.seen [i], 1);
    int old_batches = 0, new_early = 0;
    for (uint32_t shard = 0; shard < SHARDS; shard++)
        for (uint64_t seq = 0; seq < PER_SHARD; seq++) {
            if (seq > 0)                //  old ... old new ... new
                assert_true (c.table_of [shard][seq] >= c.table_of [shard][seq - 1]);
            if (seq >= reload_seq)
                assert_int_equal (c.table_of [shard][seq], 1);
            old_batches += c.table_of [shard][seq] == 0;
            new_early += seq < reload_seq && c.table_of [shard][seq] == 1;
        }
    //  The switch happened inside the first half: both tables were used
    //  on batches published before the reload.
    assert_true (old_batches >= 4);
    assert_true (new_early > 0);
    printf ("reload after %d of %d batches (%d published before it got the new table)\n",
            old_batches, SHARDS * PER_SHARD, new_early);

    //  Gaps, rejects: a stream from sensor 9 skipping seq 1 and 2, garbage,
    //  a batch on the wrong topic, then a marker batch to know they were seen.
    s_publish_batch (pub, 9, 0, 0, 0);
    s_publish_batch (pub, 9, 0, 3, 0);
    msgpack_sbuffer junk = { 3, (char *) "xyz", 3 };
    s_publish (pub, "pkt", 0, &junk);
    s_publish_batch (pub, 9, 1, 0, 0);          //  shard 1 on pkt.0000: rejected
    s_publish_batch (pub, 9, 0, 4, 0);
    memset (c.seen, 0, SHARDS * PER_SHARD * RECORDS);
    int marker = 0;
    while (!marker) {
        assert_true (fx_wait_readable (sub, FX_TIMEOUT_MS));
        zmsg_t *msg = zmsg_recv (sub);
        zmsg_destroy (&msg);
        marker = ++c.batches == SHARDS * PER_SHARD + 3;
    }

    //  Control: status, lookups, a failed reload keeps the old tables.
    assert_int_equal (fx_ask (req, &zone, "status", NULL, false, &result, err, sizeof err), DS_OK);
    assert_int_equal (fx_uint (ds_mp_get (result, "batches")), SHARDS * PER_SHARD + 3);
    assert_int_equal (fx_uint (ds_mp_get (result, "records")), (SHARDS * PER_SHARD + 3) * RECORDS);
    assert_int_equal (fx_uint (ds_mp_get (result, "eos")), SHARDS);
    assert_int_equal (fx_uint (ds_mp_get (result, "gaps")), 2);
    assert_int_equal (fx_uint (ds_mp_get (result, "rejected")), 2);
    assert_int_equal (fx_uint (ds_mp_get (result, "reloads")), 1);

    assert_int_equal (fx_ask (req, &zone, "lookup", "10.0.0.2", false, &result, err, sizeof err), DS_OK);
    assert_true (fx_str_is (ds_mp_get (result, "ip"), "10.0.0.2"));
    assert_true (fx_str_is (ds_mp_get (result, "class"), "beta"));
    assert_true (ds_mp_get (result, "matched")->via.boolean);
    const msgpack_object *rule = ds_mp_get (result, "rule");
    assert_non_null (rule);
    assert_true (rule->via.str.size > 0 && memmem (rule->via.str.ptr, rule->via.str.size,
                                                   "exact 10.0.0.2 from ", 20));
    assert_int_equal (fx_ask (req, &zone, "lookup", "10.0.1.77", false, &result, err, sizeof err), DS_OK);
    assert_true (fx_str_is (ds_mp_get (result, "class"), "censys"));
    rule = ds_mp_get (result, "rule");
    assert_non_null (memmem (rule->via.str.ptr, rule->via.str.size, "prefix 10.0.1.0/24", 18));
    assert_int_equal (fx_ask (req, &zone, "lookup", "2001:db8::1", false, &result, err, sizeof err), DS_OK);
    assert_true (fx_str_is (ds_mp_get (result, "class"), "unknown"));
    assert_false (ds_mp_get (result, "matched")->via.boolean);
    assert_int_not_equal (fx_ask (req, &zone, "lookup", "not-an-ip", false, &result, err, sizeof err), DS_OK);
    assert_non_null (strstr (err, "not-an-ip"));
    assert_int_not_equal (fx_ask (req, &zone, "frobnicate", NULL, false, &result, err, sizeof err), DS_OK);

    fx_write (s_csv, "no,usable,header\n1,2,3\n");
    assert_int_not_equal (fx_ask (req, &zone, "reload", NULL, false, &result, err, sizeof err), DS_OK);
    assert_non_null (strstr (err, s_csv));
    assert_int_equal (fx_ask (req, &zone, "lookup", "10.0.0.2", false, &result, err, sizeof err), DS_OK);
    assert_true (fx_str_is (ds_mp_get (result, "class"), "beta"));   //  old tables kept
    //  A pipe RELOAD (what SIGHUP sends) with the bad file changes nothing
    //  either; the actor says how it went on the pipe once the load ended.
    zstr_send (labeler, "RELOAD");
    assert_true (fx_wait_readable (zactor_sock (labeler), FX_TIMEOUT_MS));
    char *answer = zstr_recv (labeler);
    assert_non_null (answer);
    assert_non_null (strstr (answer, "RELOAD failed: "));
    assert_non_null (strstr (answer, s_csv));
    zstr_free (&answer);
    assert_int_equal (fx_ask (req, &zone, "status", NULL, false, &result, err, sizeof err), DS_OK);
    assert_int_equal (fx_uint (ds_mp_get (result, "reload_errors")), 2);
    assert_int_equal (fx_uint (ds_mp_get (result, "reloads")), 1);

    msgpack_zone_destroy (&zone);
    free (c.seen);
    ds_batch_destroy (&c.batch);
    zactor_destroy (&labeler);
    zsock_destroy (&req);
    zsock_destroy (&sub);
    zsock_destroy (&pub);
}

//  ds_labeler_label on its own: the fingerprint rule of DESIGN §4 is
//  resolved downstream, so the labeler must keep DS_FLAG_MIRAI as it came
//  and set DS_FLAG_GT exactly where a GT entry (even one aliased to
//  unknown) named the source: GT wins over the fingerprint, the
//  fingerprint wins over "unknown".
static void
test_label_flags (void **state)
{
    (void) state;
    ds_gt_t *gt = ds_gt_new ();
    char err [256];
    assert_int_equal (ds_gt_add (gt, "198.51.100.0/24", "censys", "t", 1, err, sizeof err), 0);
    assert_int_equal (ds_gt_add (gt, "203.0.113.9", "netscout", "t", 2, err, sizeof err), 0);
    assert_int_equal (ds_gt_build (gt), 0);
    ds_services_t *services = ds_services_load (NULL, err, sizeof err);
    assert_non_null (services);
    static const struct {
        const char *ip;
        uint8_t flags_in;
        const char *class_name;
        uint8_t flags_out;
        const char *service;
    } cases [] = {
        { "198.51.100.7", DS_FLAG_MIRAI, "censys", DS_FLAG_MIRAI | DS_FLAG_GT, "telnet" },
        { "198.51.100.8", 0, "censys", DS_FLAG_GT, "telnet" },
        { "203.0.113.9", DS_FLAG_MIRAI, "unknown", DS_FLAG_MIRAI | DS_FLAG_GT, "telnet" },
        { "192.0.2.1", DS_FLAG_MIRAI | DS_FLAG_ZMAP, "unknown", DS_FLAG_MIRAI | DS_FLAG_ZMAP, "telnet" },
        { "192.0.2.2", DS_FLAG_GT | DS_FLAG_MASSCAN, "unknown", DS_FLAG_MASSCAN, "telnet" },
        { "2001:db8::1", 0, "unknown", 0, "telnet" },
    };
    size_t n = sizeof cases / sizeof *cases;
    ds_batch_t *batch = ds_batch_new ((uint32_t) n);
    for (size_t i = 0; i < n; i++) {
        ds_record_t rec = { .ts = (int64_t) i, .port = 23, .proto = DS_PROTO_TCP,
                            .flags = cases [i].flags_in };
        assert_int_equal (ds_addr_parse (&rec.src, cases [i].ip), 0);
        assert_true (ds_batch_add (batch, &rec));
    }
    uint8_t matched [8];
    assert_int_equal (ds_labeler_label (batch, gt, services, matched), 0);
    assert_true (batch->labelled);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal (batch->class_names [batch->class_id [i]], cases [i].class_name);
        assert_int_equal (batch->flags [i], cases [i].flags_out);
        assert_string_equal (batch->service_names [batch->service_id [i]], cases [i].service);
    }
    ds_batch_destroy (&batch);
    ds_services_destroy (&services);
    ds_gt_destroy (&gt);
}

//  Shard k's count of batches only whole-stream subscribers got, from status.
static uint64_t
s_unheard_shard (zsock_t *req, msgpack_zone *zone, uint32_t shard, uint64_t *total)
{
    const msgpack_object *result;
    char err [256];
    assert_int_equal (fx_ask (req, zone, "status", NULL, false, &result, err, sizeof err), DS_OK);
    assert_int_equal (fx_uint (ds_mp_get (result, "unheard")), 0);
    *total = fx_uint (ds_mp_get (result, "unheard_shard"));
    const msgpack_object *streams = ds_mp_get (result, "streams");
    for (uint32_t i = 0; i < streams->via.array.size; i++)
        if (fx_uint (ds_mp_get (&streams->via.array.ptr [i], "shard")) == shard)
            return fx_uint (ds_mp_get (&streams->via.array.ptr [i], "unheard_shard"));
    return 0;
}

//  A whole-stream subscriber ("lab.", as the embed service) does not hide
//  a missing aggregator: with --wait 0 (forward at once) what only it got
//  is counted (unheard_shard), per shard, until a subscriber of the
//  shard's own topic is there again.
static void
test_whole_stream_subscriber (void **state)
{
    (void) state;
    zsock_t *pub = fx_ingest_pub ();
    s_labeler_t lab;
    s_labeler_start (&lab, pub, "test-labeler-whole", 0);
    zactor_t *labeler = lab.actor;
    zsock_t *whole = zsock_new_sub (lab.data, "lab.");
    zsock_t *req = zsock_new_req (lab.control);
    assert_true (whole && req);
    msgpack_zone zone;
    msgpack_zone_init (&zone, 4096);
    s_collector_t c;
    memset (&c, 0, sizeof c);
    c.seen = calloc (SHARDS * PER_SHARD * RECORDS, 1);
    c.batch = ds_batch_new (16);

    //  No aggregator at all: 3 batches of each shard reach only "lab.".
    for (uint64_t seq = 0; seq < 3; seq++)
        for (uint32_t shard = 0; shard < SHARDS; shard++)
            s_publish_batch (pub, SENSOR, shard, seq, shard);
    while (c.batches < 3 * SHARDS)
        s_receive_one (whole, &c);
    uint64_t total;
    assert_int_equal (s_unheard_shard (req, &zone, 0, &total), 3);
    assert_int_equal (s_unheard_shard (req, &zone, 1, &total), 3);
    assert_int_equal (total, 3 * SHARDS);

    //  Shard 0's aggregator arrives: once it hears a batch, shard 0 counts
    //  no more, shard 1 still does.
    zsock_t *own = zsock_new_sub (lab.data, "lab.0000");
    assert_non_null (own);
    uint64_t seq = 3;
    for (bool heard = false; !heard; seq++) {
        assert_true (seq < PER_SHARD);
        s_publish_batch (pub, SENSOR, 0, seq, 0);
        s_receive_one (whole, &c);
        heard = fx_wait_readable (own, 100);
    }
    uint64_t at = s_unheard_shard (req, &zone, 0, &total);
    for (uint64_t k = 0; k < 3; k++, seq++) {
        s_publish_batch (pub, SENSOR, 0, seq, 0);
        s_publish_batch (pub, SENSOR, 1, 3 + k, 1);
    }
    while (c.batches < 3 * SHARDS + (seq - 3) + 3)
        s_receive_one (whole, &c);
    assert_int_equal (s_unheard_shard (req, &zone, 0, &total), at);
    assert_int_equal (s_unheard_shard (req, &zone, 1, &total), 6);

    msgpack_zone_destroy (&zone);
    free (c.seen);
    ds_batch_destroy (&c.batch);
    zsock_destroy (&own);
    zsock_destroy (&whole);
    zsock_destroy (&req);
    zactor_destroy (&labeler);
    zsock_destroy (&pub);
}

//  By default the first batch waits for every shard's own subscriber: a
//  whole-stream subscriber that came first gets nothing until the
//  aggregators are there, and then nothing is lost for any of them.
static void
test_whole_stream_subscriber_first (void **state)
{
    (void) state;
    zsock_t *pub = fx_ingest_pub ();
    s_labeler_t lab;
    s_labeler_start (&lab, pub, "test-labeler-first", -1);
    zsock_t *whole = zsock_new_sub (lab.data, "lab.");
    zsock_t *req = zsock_new_req (lab.control);
    assert_true (whole && req);
    for (uint32_t shard = 0; shard < SHARDS; shard++)
        s_publish_batch (pub, SENSOR, shard, 0, shard);
    assert_false (fx_wait_readable (whole, 500));
    zsock_t *own [SHARDS];
    for (uint32_t shard = 0; shard < SHARDS; shard++) {
        char topic [16];
        ds_topic_format (topic, "lab", shard);
        own [shard] = zsock_new_sub (lab.data, topic);
        assert_non_null (own [shard]);
    }
    msgpack_zone zone;
    msgpack_zone_init (&zone, 4096);
    s_collector_t c [SHARDS + 1];
    memset (c, 0, sizeof c);
    for (uint32_t i = 0; i <= SHARDS; i++) {
        c [i].seen = calloc (SHARDS * PER_SHARD * RECORDS, 1);
        c [i].batch = ds_batch_new (16);
    }
    for (uint32_t shard = 0; shard < SHARDS; shard++)
        s_publish_batch (pub, SENSOR, shard, 1, shard);
    while (c [SHARDS].batches < 2 * SHARDS)
        s_receive_one (whole, &c [SHARDS]);
    for (uint32_t shard = 0; shard < SHARDS; shard++) {
        while (c [shard].batches < 2)
            s_receive_one (own [shard], &c [shard]);
        assert_int_equal (c [shard].next_seq [shard], 2);   //  batch 0 too
    }
    uint64_t total;
    assert_int_equal (s_unheard_shard (req, &zone, 0, &total), 0);
    assert_int_equal (total, 0);
    msgpack_zone_destroy (&zone);
    for (uint32_t i = 0; i <= SHARDS; i++) {
        free (c [i].seen);
        ds_batch_destroy (&c [i].batch);
    }
    for (uint32_t shard = 0; shard < SHARDS; shard++)
        zsock_destroy (&own [shard]);
    zsock_destroy (&whole);
    zsock_destroy (&req);
    zactor_destroy (&lab.actor);
    zsock_destroy (&pub);
}

static void
test_start_failure (void **state)
{
    (void) state;
    ds_labeler_config_t config;
    ds_labeler_config_init (&config);
    config.gt.items [config.gt.count++] = "/nonexistent/gt.csv";
    config.endpoint = "tcp://127.0.0.1:*";
    config.control = "";
    zactor_t *labeler = zactor_new (ds_labeler_actor, &config);
    assert_non_null (labeler);
    char a [256], b [256];
    assert_int_equal (ds_labeler_endpoints (labeler, a, sizeof a, b, sizeof b), -1);
    zactor_destroy (&labeler);
    //  A bad shard list does not start either.
    ds_labeler_config_init (&config);
    config.endpoint = "tcp://127.0.0.1:*";
    config.control = "";
    config.shards = 2;
    config.shard_list = "0,2";
    labeler = zactor_new (ds_labeler_actor, &config);
    assert_int_equal (ds_labeler_endpoints (labeler, a, sizeof a, b, sizeof b), -1);
    zactor_destroy (&labeler);
}

static int
s_setup (void **state)
{
    (void) state;
    assert_int_equal (fx_scratch_make (s_dir, sizeof s_dir, "test_labeler"), 0);
    snprintf (s_csv, sizeof s_csv, "%s/gt.csv", s_dir);
    snprintf (s_list, sizeof s_list, "%s/list.txt", s_dir);
    return 0;
}

static int
s_teardown (void **state)
{
    (void) state;
    return fx_scratch_remove (s_dir);
}

int
main (void)
{
    ds_log_init ("test_labeler");
    ds_log_set_quiet (true);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_label_flags),
        cmocka_unit_test (test_pipeline_with_reload),
        cmocka_unit_test (test_whole_stream_subscriber),
        cmocka_unit_test (test_whole_stream_subscriber_first),
        cmocka_unit_test (test_start_failure),
    };
    int rc = cmocka_run_group_tests (tests, s_setup, s_teardown);
    zsys_shutdown ();
    return rc;
}
