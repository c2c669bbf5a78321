/*  libs: ds_proto ds_common */
/*  test_proto.c - the wire protocol: every message round-trips, every kind
    of hostile input is refused with its own result and never read out of
    bounds (run under the sanitizer build too). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "ds_proto.h"
#include "mpread.h"

//  ---------------------------------------------------------------------
//  Helpers

static uint64_t s_rng = 0x9e3779b97f4a7c15ull;

static uint64_t
s_rand (void)
{
    //  splitmix64, fixed seed: the same inputs on every run
    uint64_t z = (s_rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static const char *s_classes [] = { "unknown", "mirai", "censys", "stretchoid", "engin-umich" };
static const char *s_services [] = { "telnet", "ssh", "http", "icmp", "unk_sys", "unk_usr", "unk_eph" };
#define N_CLASSES  (sizeof s_classes / sizeof *s_classes)
#define N_SERVICES (sizeof s_services / sizeof *s_services)

//  A batch of count random but valid records.
static ds_batch_t *
s_make_batch (uint32_t count, bool labelled)
{
    ds_batch_t *batch = ds_batch_new (count ? count : 1);
    assert_non_null (batch);
    batch->sensor = 7;
    batch->shard = 3;
    batch->seq = 0x123456789abcull;
    if (labelled)
        assert_int_equal (ds_batch_set_dicts (batch, s_classes, N_CLASSES, s_services, N_SERVICES), 0);
    for (uint32_t i = 0; i < count; i++) {
        ds_record_t rec;
        uint64_t r = s_rand ();
        rec.ts = (int64_t) (s_rand () >> 1) * (r & 1 ? -1 : 1);
        for (int b = 0; b < 16; b += 8) {
            uint64_t v = s_rand ();
            memcpy (rec.src.b + b, &v, 8);
        }
        if (r >> 60 & 1) {              //  half of them IPv4 (mapped)
            memset (rec.src.b, 0, 10);
            rec.src.b [10] = rec.src.b [11] = 0xff;
        }
        rec.port = (int32_t) (r % 65537) - 1;            //  -1 .. 65535
        rec.proto = (uint8_t) ((r >> 20) % DS_PROTO_COUNT);
        rec.flags = (uint8_t) (r >> 32);
        assert_true (ds_batch_add (batch, &rec));
        if (labelled) {
            batch->class_id [i] = (uint16_t) ((r >> 40) % N_CLASSES);
            batch->service_id [i] = (uint16_t) ((r >> 48) % N_SERVICES);
        }
    }
    return batch;
}

static void
s_assert_batch_equal (const ds_batch_t *a, const ds_batch_t *b)
{
    assert_int_equal (a->sensor, b->sensor);
    assert_int_equal (a->shard, b->shard);
    assert_int_equal (a->seq, b->seq);
    assert_int_equal (a->count, b->count);
    assert_int_equal (a->labelled, b->labelled);
    assert_true (b->capacity >= b->count);
    uint32_t n = a->count;
    if (n) {
        assert_memory_equal (a->ts, b->ts, n * sizeof *a->ts);
        assert_memory_equal (a->src, b->src, n * sizeof *a->src);
        assert_memory_equal (a->port, b->port, n * sizeof *a->port);
        assert_memory_equal (a->proto, b->proto, n);
        assert_memory_equal (a->flags, b->flags, n);
    }
    if (!a->labelled)
        return;
    if (n) {
        assert_memory_equal (a->class_id, b->class_id, n * sizeof *a->class_id);
        assert_memory_equal (a->service_id, b->service_id, n * sizeof *a->service_id);
    }
    assert_int_equal (a->n_classes, b->n_classes);
    assert_int_equal (a->n_services, b->n_services);
    for (uint32_t i = 0; i < a->n_classes; i++)
        assert_string_equal (a->class_names [i], b->class_names [i]);
    for (uint32_t i = 0; i < a->n_services; i++)
        assert_string_equal (a->service_names [i], b->service_names [i]);
}

//  Knobs for hand-made batch messages that the encoder would not write.
typedef struct {
    int version, type, fields;
    uint64_t count;                 //  declared count
    uint32_t records;               //  records actually in the bins
    int ts_delta;                   //  bytes added to the ts bin
    int32_t port;                   //  every port
    uint8_t proto;                  //  every proto
    uint16_t class_id;              //  every class id
    uint32_t n_classes;             //  names "c0", "c1", ...
    const char *name0;              //  first class name (NULL: "c0")
    size_t name0_len;
    bool trailing;                  //  one byte after the array
} s_raw_t;

static s_raw_t
s_raw_default (void)
{
    return (s_raw_t) { .version = 1, .type = DS_MSG_LABELLED, .fields = 16, .count = 4,
                       .records = 4, .port = 80, .proto = DS_PROTO_TCP, .class_id = 1,
                       .n_classes = 2 };
}

static void
s_zero_bin (msgpack_packer *pk, size_t len)
{
    msgpack_pack_bin (pk, len);
    static const uint8_t zeros [256];
    while (len) {
        size_t n = len < sizeof zeros ? len : sizeof zeros;
        msgpack_pack_bin_body (pk, zeros, n);
        len -= n;
    }
}

static void
s_le_bin (msgpack_packer *pk, uint32_t n, uint64_t value, int width)
{
    msgpack_pack_bin (pk, (size_t) n * width);
    for (uint32_t i = 0; i < n; i++) {
        uint8_t bytes [8];
        for (int b = 0; b < width; b++)
            bytes [b] = (uint8_t) (value >> (8 * b));
        msgpack_pack_bin_body (pk, bytes, width);
    }
}

static void
s_raw_batch (msgpack_sbuffer *out, const s_raw_t *raw)
{
    msgpack_sbuffer_clear (out);
    msgpack_packer pk;
    msgpack_packer_init (&pk, out, msgpack_sbuffer_write);
    msgpack_pack_array (&pk, raw->fields);
    msgpack_pack_str_with_body (&pk, "DSK", 3);
    msgpack_pack_int (&pk, raw->version);
    msgpack_pack_int (&pk, raw->type);
    msgpack_pack_uint32 (&pk, 1);
    msgpack_pack_uint32 (&pk, 2);
    msgpack_pack_uint64 (&pk, 3);
    msgpack_pack_uint64 (&pk, raw->count);
    uint32_t n = raw->records;
    s_zero_bin (&pk, (size_t) n * 8 + raw->ts_delta);
    s_zero_bin (&pk, (size_t) n * 16);
    s_le_bin (&pk, n, (uint32_t) raw->port, 4);
    s_le_bin (&pk, n, raw->proto, 1);
    s_zero_bin (&pk, n);
    if (raw->fields == 16) {
        s_le_bin (&pk, n, raw->class_id, 2);
        s_le_bin (&pk, n, 0, 2);
        msgpack_pack_array (&pk, raw->n_classes);
        for (uint32_t i = 0; i < raw->n_classes; i++) {
            char name [16];
            snprintf (name, sizeof name, "c%u", i);
            if (i == 0 && raw->name0)
                msgpack_pack_str_with_body (&pk, raw->name0, raw->name0_len);
            else
                msgpack_pack_str_with_body (&pk, name, strlen (name));
        }
        msgpack_pack_array (&pk, 1);
        msgpack_pack_str_with_body (&pk, "telnet", 6);
    }
    if (raw->trailing)
        msgpack_pack_nil (&pk);
}

static int
s_decode_raw (const s_raw_t *raw)
{
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    s_raw_batch (&buf, raw);
    ds_batch_t *into = ds_batch_new (2);
    int rc = ds_batch_decode ((const uint8_t *) buf.data, buf.size, into);
    if (rc) {
        assert_int_equal (into->count, 0);      //  reset on failure
        assert_false (into->labelled);
    }
    ds_batch_destroy (&into);
    msgpack_sbuffer_destroy (&buf);
    return rc;
}

//  ---------------------------------------------------------------------
//  Round trips

static void
test_topic (void **state)
{
    (void) state;
    char buf [DS_TOPIC_LEN + 1];
    ds_topic_format (buf, "pkt", 3);
    assert_string_equal (buf, "pkt.0003");
    ds_topic_format (buf, "lab", DS_SHARDS_MAX - 1);
    assert_string_equal (buf, "lab.0255");
    ds_topic_format (buf, "lab", 9999);         //  what the width holds
    assert_string_equal (buf, "lab.9999");
    //  One limit, and the text the help of every command prints.
    assert_int_equal (DS_SHARDS_MAX, atoi (DS_SHARDS_MAX_TEXT));
    //  fixed width: no topic is a prefix of another
    char other [DS_TOPIC_LEN + 1];
    ds_topic_format (buf, "pkt", 1);
    ds_topic_format (other, "pkt", 10);
    assert_int_not_equal (strncmp (buf, other, strlen (buf)), 0);
    assert_string_equal (ds_result_str (DS_OK), "ok");
    for (int r = DS_ERR_MALFORMED; r >= DS_ERR_TRUNCATED; r--)
        assert_string_not_equal (ds_result_str (r), ds_result_str (r + 1));
}

//  A batch as a telescope sends it: timestamps rising by at most 1 ms,
//  IPv4 sources but every 50th, ports < 1024 or -1, flags < 16.
static ds_batch_t *
s_make_real_batch (uint32_t count, bool labelled)
{
    ds_batch_t *batch = s_make_batch (count, labelled);
    int64_t ts = 1614556800000000LL;
    for (uint32_t i = 0; i < count; i++) {
        uint64_t r = s_rand ();
        batch->ts [i] = ts += (int64_t) (r % 1000);
        if (i % 50) {
            memset (batch->src [i].b, 0, 10);
            batch->src [i].b [10] = batch->src [i].b [11] = 0xff;
        }
        batch->port [i] = (int32_t) ((r >> 16) % 1025) - 1;
        batch->flags [i] &= 0x0f;
    }
    return batch;
}

static int (*s_encode) (const ds_batch_t *, msgpack_sbuffer *) = ds_batch_encode;

static void
s_roundtrip (uint32_t count, bool labelled, uint32_t into_capacity)
{
    ds_batch_t *batch = s_make_batch (count, labelled);
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    assert_int_equal (s_encode (batch, &buf), DS_OK);
    int type = 0;
    assert_int_equal (ds_msg_peek ((const uint8_t *) buf.data, buf.size, &type), DS_OK);
    assert_int_equal (type, labelled ? DS_MSG_LABELLED : DS_MSG_BATCH);
    //  every byte validates as one msgpack object, too
    assert_int_equal (ds_mp_validate ((const uint8_t *) buf.data, buf.size, 4), DS_OK);
    ds_batch_t *into = ds_batch_new (into_capacity);
    assert_int_equal (ds_batch_decode ((const uint8_t *) buf.data, buf.size, into), DS_OK);
    s_assert_batch_equal (batch, into);
    //  a second decode into the same batch reuses the same dictionary strings
    char **names = into->class_names;
    char *first = labelled ? into->class_names [0] : NULL;
    assert_int_equal (ds_batch_decode ((const uint8_t *) buf.data, buf.size, into), DS_OK);
    s_assert_batch_equal (batch, into);
    if (labelled) {
        assert_ptr_equal (into->class_names, names);
        assert_ptr_equal (into->class_names [0], first);
    }
    msgpack_sbuffer_destroy (&buf);
    ds_batch_destroy (&into);
    ds_batch_destroy (&batch);
}

static void
test_batch_roundtrip (void **state)
{
    (void) state;
    uint32_t counts [] = { 0, 1, 2, 7, 8, 9, 100, 4096, DS_BATCH_MAX_CAPACITY };
    for (int packed = 0; packed < 2; packed++) {
        s_encode = packed ? ds_batch_encode_packed : ds_batch_encode;
        for (size_t i = 0; i < sizeof counts / sizeof *counts; i++) {
            s_roundtrip (counts [i], false, 1);
            s_roundtrip (counts [i], true, 1);
            s_roundtrip (counts [i], true, DS_BATCH_MAX_CAPACITY);
        }
    }
    s_encode = ds_batch_encode;
}

//  The packed layout: a telescope's batch in under 40 % of the fixed
//  layout's bytes, every width and both proto/flags forms round-trip, and
//  what is malformed only in the packed layout is refused.
static void
test_batch_packed (void **state)
{
    (void) state;
    msgpack_sbuffer fixed, packed;
    msgpack_sbuffer_init (&fixed);
    msgpack_sbuffer_init (&packed);
    ds_batch_t *into = ds_batch_new (1);
    for (int labelled = 0; labelled < 2; labelled++) {
        ds_batch_t *batch = s_make_real_batch (4096, labelled);
        assert_int_equal (ds_batch_encode (batch, &fixed), DS_OK);
        assert_int_equal (ds_batch_encode_packed (batch, &packed), DS_OK);
        assert_true (packed.size * 10 < fixed.size * 4);
        assert_int_equal (ds_mp_validate ((const uint8_t *) packed.data, packed.size, 4), DS_OK);
        assert_int_equal (ds_batch_decode ((const uint8_t *) packed.data, packed.size, into), DS_OK);
        s_assert_batch_equal (batch, into);
        //  timestamps of every width: spans 2^(8k) - 1 and 2^(8k)
        for (int k = 0; k <= 8; k++) {
            batch->ts [1] = batch->ts [0] + (k < 8 ? (int64_t) ((UINT64_C (1) << (8 * k)) - 1) : INT64_MAX / 2);
            batch->ts [2] = k < 8 ? batch->ts [0] + (int64_t) (UINT64_C (1) << (8 * k)) : INT64_MIN;
            batch->port [3] = k % 2 ? 65535 : -1;
            batch->flags [4] = k % 2 ? 0xf0 : 0;
            if (labelled)
                batch->class_id [5] = k % 2 ? 0 : 4;
            assert_int_equal (ds_batch_encode_packed (batch, &packed), DS_OK);
            assert_int_equal (ds_batch_decode ((const uint8_t *) packed.data, packed.size, into), DS_OK);
            s_assert_batch_equal (batch, into);
        }
        ds_batch_destroy (&batch);
    }
    //  ids of every width: dictionaries of 20 and 300 classes
    for (int big = 0; big < 2; big++) {
        uint32_t n_names = big ? 300 : 20;
        char **names = calloc (n_names, sizeof *names);
        for (uint32_t i = 0; i < n_names; i++) {
            names [i] = malloc (16);
            snprintf (names [i], 16, "class%u", i);
        }
        ds_batch_t *batch = s_make_real_batch (100, true);
        assert_int_equal (ds_batch_set_dicts (batch, (const char *const *) names, n_names,
                                              s_services, N_SERVICES), 0);
        for (uint32_t i = 0; i < batch->count; i++) {
            batch->class_id [i] = (uint16_t) ((i * 7) % n_names);
            batch->service_id [i] = (uint16_t) (i % N_SERVICES);
        }
        assert_int_equal (ds_batch_encode_packed (batch, &packed), DS_OK);
        assert_int_equal (ds_batch_decode ((const uint8_t *) packed.data, packed.size, into), DS_OK);
        s_assert_batch_equal (batch, into);
        ds_batch_destroy (&batch);
        for (uint32_t i = 0; i < n_names; i++)
            free (names [i]);
        free (names);
    }
    //  Hand-built damage: a packed batch of 9 records, 3 of them IPv4.
    ds_batch_t *batch = s_make_real_batch (9, false);
    for (uint32_t i = 0; i < 9; i++) {                //  records 0, 3, 6 IPv4
        memset (batch->src [i].b, 0, 10);
        batch->src [i].b [10] = batch->src [i].b [11] = 0xff;
        batch->src [i].b [0] = i % 3 ? 0x20 : 0;
    }
    assert_int_equal (ds_batch_encode_packed (batch, &packed), DS_OK);
    assert_int_equal (ds_batch_decode ((const uint8_t *) packed.data, packed.size, into), DS_OK);
    //  the v4 mask: 2 bytes (bin8 header c4 02), bits 0, 3, 6 = 0x49, 0x00
    const uint8_t mask [] = { 0xc4, 0x02, 0x49, 0x00 };
    uint8_t *at = memmem (packed.data, packed.size, mask, sizeof mask);
    assert_non_null (at);
    uint8_t *copy = malloc (packed.size);
    memcpy (copy, packed.data, packed.size);
    copy [at - (uint8_t *) packed.data + 3] = 0x02;     //  bit 9: past the count
    assert_int_equal (ds_batch_decode (copy, packed.size, into), DS_ERR_MALFORMED);
    memcpy (copy, packed.data, packed.size);
    copy [at - (uint8_t *) packed.data + 2] = 0x4b;     //  a 4th IPv4 source: src too long
    assert_int_equal (ds_batch_decode (copy, packed.size, into), DS_ERR_MALFORMED);
    free (copy);
    //  DS_WRITE_SEEDS=DIR: packed seeds for fuzz_batch (tests/fuzz-corpus/fuzz_batch)
    const char *dir = getenv ("DS_WRITE_SEEDS");
    for (int labelled = 0; dir && labelled < 2; labelled++) {
        ds_batch_destroy (&batch);
        batch = s_make_real_batch (5, labelled);
        assert_int_equal (ds_batch_encode_packed (batch, &packed), DS_OK);
        char path [512];
        snprintf (path, sizeof path, "%s/packed-%s5.bin", dir, labelled ? "labelled" : "plain");
        FILE *f = fopen (path, "wb");
        assert_non_null (f);
        fwrite (packed.data, 1, packed.size, f);
        fclose (f);
    }
    msgpack_sbuffer_destroy (&fixed);
    msgpack_sbuffer_destroy (&packed);
    ds_batch_destroy (&batch);
    ds_batch_destroy (&into);
}

static void
test_batch_switching (void **state)
{
    (void) state;
    //  one receiving batch sees labelled, unlabelled, other-dictionary batches
    ds_batch_t *labelled = s_make_batch (10, true);
    ds_batch_t *plain = s_make_batch (20, false);
    ds_batch_t *other = s_make_batch (5, true);
    const char *classes [] = { "unknown", "shodan" };
    const char *services [] = { "dns" };
    assert_int_equal (ds_batch_set_dicts (other, classes, 2, services, 1), 0);
    for (uint32_t i = 0; i < other->count; i++) {
        other->class_id [i] = (uint16_t) (i % 2);
        other->service_id [i] = 0;
    }
    msgpack_sbuffer a, b, c;
    msgpack_sbuffer_init (&a);
    msgpack_sbuffer_init (&b);
    msgpack_sbuffer_init (&c);
    assert_int_equal (ds_batch_encode (labelled, &a), DS_OK);
    assert_int_equal (ds_batch_encode (plain, &b), DS_OK);
    assert_int_equal (ds_batch_encode (other, &c), DS_OK);
    ds_batch_t *into = ds_batch_new (4);
    for (int round = 0; round < 3; round++) {
        assert_int_equal (ds_batch_decode ((const uint8_t *) a.data, a.size, into), DS_OK);
        s_assert_batch_equal (labelled, into);
        assert_int_equal (ds_batch_decode ((const uint8_t *) b.data, b.size, into), DS_OK);
        s_assert_batch_equal (plain, into);
        assert_int_equal (into->n_classes, 0);
        assert_int_equal (ds_batch_decode ((const uint8_t *) c.data, c.size, into), DS_OK);
        s_assert_batch_equal (other, into);
        assert_int_equal (ds_batch_decode ((const uint8_t *) a.data, a.size, into), DS_OK);
        s_assert_batch_equal (labelled, into);
    }
    //  the encoder empties a reused buffer
    assert_int_equal (ds_batch_encode (labelled, &b), DS_OK);
    assert_int_equal (b.size, a.size);
    assert_memory_equal (a.data, b.data, a.size);
    msgpack_sbuffer_destroy (&a);
    msgpack_sbuffer_destroy (&b);
    msgpack_sbuffer_destroy (&c);
    ds_batch_destroy (&into);
    ds_batch_destroy (&labelled);
    ds_batch_destroy (&plain);
    ds_batch_destroy (&other);
}

static void
test_eos_roundtrip (void **state)
{
    (void) state;
    ds_eos_t cases [] = {
        { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
        { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 },
        { UINT32_MAX, DS_SHARDS_MAX - 1, UINT64_MAX, UINT64_MAX - 1, 1ull << 40, 255, 65536, UINT64_MAX,
          UINT64_MAX, UINT64_MAX }
    };
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        assert_int_equal (ds_eos_encode (&cases [i], &buf), DS_OK);
        int type;
        assert_int_equal (ds_msg_peek ((const uint8_t *) buf.data, buf.size, &type), DS_OK);
        assert_int_equal (type, DS_MSG_EOS);
        ds_eos_t eos;
        memset (&eos, 0xaa, sizeof eos);
        assert_int_equal (ds_eos_decode ((const uint8_t *) buf.data, buf.size, &eos), DS_OK);
        assert_memory_equal (&eos, &cases [i], sizeof eos);
    }
    msgpack_sbuffer_destroy (&buf);
}

static void
test_query_roundtrip (void **state)
{
    (void) state;
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    ds_query_t q, back;
    char err [256];

    //  defaults: an empty args map
    ds_query_init (&q);
    strcpy (q.name, "overview");
    assert_int_equal (ds_query_encode (&q, &buf), DS_OK);
    assert_int_equal (ds_query_decode ((const uint8_t *) buf.data, buf.size, &back, err, sizeof err), DS_OK);
    assert_memory_equal (&q, &back, sizeof q);
    msgpack_zone zone;
    msgpack_zone_init (&zone, 1024);
    msgpack_object obj;
    assert_int_equal (ds_mp_unpack ((const uint8_t *) buf.data, buf.size, &zone, &obj), DS_OK);
    const msgpack_object *args = ds_mp_get (&obj, "args");
    assert_non_null (args);
    assert_int_equal (args->type, MSGPACK_OBJECT_MAP);
    assert_int_equal (args->via.map.size, 0);
    const msgpack_object *v = ds_mp_get (&obj, "v");
    assert_non_null (v);
    assert_int_equal (v->via.u64, 1);
    assert_null (ds_mp_get (&obj, "nothere"));
    assert_null (ds_mp_get (v, "v"));           //  not a map

    //  every field set
    ds_query_init (&q);
    strcpy (q.name, "pattern");
    strcpy (q.first_day, "2021-03-02");
    strcpy (q.last_day, "2021-03-31");
    q.min_packets = 0;
    memset (q.class_name, 'x', DS_NAME_MAX - 1);
    q.from_us = INT64_MIN + 1;
    q.to_us = -5;
    q.bin_s = 3600;
    strcpy (q.ip, "2001:db8::1");
    q.force = true;
    assert_int_equal (ds_query_encode (&q, &buf), DS_OK);
    assert_int_equal (ds_query_decode ((const uint8_t *) buf.data, buf.size, &back, err, sizeof err), DS_OK);
    assert_memory_equal (&q, &back, sizeof q);
    assert_int_equal (ds_mp_unpack ((const uint8_t *) buf.data, buf.size, &zone, &obj), DS_OK);
    args = ds_mp_get (&obj, "args");
    assert_int_equal (args->via.map.size, 9);
    assert_int_equal (ds_mp_get (args, "force")->type, MSGPACK_OBJECT_BOOLEAN);
    const msgpack_object *bin = ds_mp_get (args, "bin_s");
    assert_non_null (bin);
    assert_int_equal (bin->via.u64, 3600);

    //  replies
    msgpack_sbuffer_clear (&buf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buf, msgpack_sbuffer_write);
    ds_reply_ok_begin (&pk);
    msgpack_pack_map (&pk, 1);
    msgpack_pack_str_with_body (&pk, "daily", 5);
    msgpack_pack_array (&pk, 0);
    assert_int_equal (ds_mp_unpack ((const uint8_t *) buf.data, buf.size, &zone, &obj), DS_OK);
    const msgpack_object *result = NULL;
    assert_int_equal (ds_reply_parse (&obj, &result, err, sizeof err), DS_OK);
    assert_non_null (ds_mp_get (result, "daily"));
    assert_int_equal (ds_reply_error (&buf, "no such query \"x\""), DS_OK);
    assert_int_equal (ds_mp_unpack ((const uint8_t *) buf.data, buf.size, &zone, &obj), DS_OK);
    assert_int_equal (ds_reply_parse (&obj, &result, err, sizeof err), -1);
    assert_string_equal (err, "no such query \"x\"");
    const msgpack_object *ok = ds_mp_get (&obj, "ok");
    assert_int_equal (ok->type, MSGPACK_OBJECT_BOOLEAN);
    assert_false (ok->via.boolean);

    msgpack_zone_destroy (&zone);
    msgpack_sbuffer_destroy (&buf);
}

//  ---------------------------------------------------------------------
//  Hostile input

//  Every proper prefix of data must be refused as malformed.
static void
s_assert_truncations (const msgpack_sbuffer *buf, int which)
{
    //  a copy of exactly len bytes, so ASan sees any read past the end
    for (size_t len = 0; len < buf->size; len++) {
        uint8_t *copy = malloc (len ? len : 1);
        memcpy (copy, buf->data, len);
        ds_batch_t *into = ds_batch_new (1);
        ds_eos_t eos;
        ds_query_t q;
        char err [128];
        switch (which) {
            case 0: assert_int_equal (ds_batch_decode (copy, len, into), DS_ERR_MALFORMED); break;
            case 1: assert_int_equal (ds_eos_decode (copy, len, &eos), DS_ERR_MALFORMED); break;
            case 2:
                err [0] = 0;
                assert_int_equal (ds_query_decode (copy, len, &q, err, sizeof err), DS_ERR_MALFORMED);
                assert_true (strlen (err) > 0);
                break;
        }
        assert_int_equal (ds_mp_validate (copy, len, 8), DS_ERR_MALFORMED);
        ds_batch_destroy (&into);
        free (copy);
    }
}

static void
test_truncated (void **state)
{
    (void) state;
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    for (int packed = 0; packed < 2; packed++) {
        int (*encode) (const ds_batch_t *, msgpack_sbuffer *) = packed ? ds_batch_encode_packed
                                                                       : ds_batch_encode;
        ds_batch_t *batch = s_make_batch (3, true);
        assert_int_equal (encode (batch, &buf), DS_OK);
        s_assert_truncations (&buf, 0);
        ds_batch_destroy (&batch);
        batch = s_make_batch (2, false);
        assert_int_equal (encode (batch, &buf), DS_OK);
        s_assert_truncations (&buf, 0);
        ds_batch_destroy (&batch);
    }

    ds_eos_t eos = { 1, 2, 300, 40000, 5000000000ull, 6, 7, 8, 9, 10 };
    assert_int_equal (ds_eos_encode (&eos, &buf), DS_OK);
    s_assert_truncations (&buf, 1);

    ds_query_t q;
    ds_query_init (&q);
    strcpy (q.name, "pattern");
    strcpy (q.class_name, "stretchoid");
    q.from_us = 1614643200000000;
    assert_int_equal (ds_query_encode (&q, &buf), DS_OK);
    s_assert_truncations (&buf, 2);
    msgpack_sbuffer_destroy (&buf);
}

static void
test_header_errors (void **state)
{
    (void) state;
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    ds_batch_t *batch = s_make_batch (3, false);
    assert_int_equal (ds_batch_encode (batch, &buf), DS_OK);
    //  layout: [0] array header, [1] fixstr 3, [2..4] "DSK", [5] version, [6] type
    assert_int_equal ((uint8_t) buf.data [0], 0x9c);
    assert_int_equal ((uint8_t) buf.data [1], 0xa3);
    uint8_t *copy = malloc (buf.size);
    ds_batch_t *into = ds_batch_new (1);
    ds_eos_t eos;
    struct { size_t at; uint8_t value; int batch_rc, eos_rc; } cases [] = {
        { 2, 'X', DS_ERR_MAGIC, DS_ERR_MAGIC },
        { 4, 'k', DS_ERR_MAGIC, DS_ERR_MAGIC },
        { 1, 0xa4, DS_ERR_MAGIC, DS_ERR_MAGIC },
        { 0, 0x00, DS_ERR_MAGIC, DS_ERR_MAGIC },          //  not an array
        { 0, 0x8c, DS_ERR_MAGIC, DS_ERR_MAGIC },          //  a map
        { 0, 0x92, DS_ERR_MALFORMED, DS_ERR_MALFORMED },  //  array of 2: no room for the header
        { 0, 0x9d, DS_ERR_MALFORMED, DS_ERR_TYPE },       //  13 fields
        { 5, 2, DS_ERR_VERSION, DS_ERR_VERSION },
        { 5, 0, DS_ERR_VERSION, DS_ERR_VERSION },
        { 5, 0xff, DS_ERR_VERSION, DS_ERR_VERSION },      //  -1
        { 5, 0xc0, DS_ERR_MALFORMED, DS_ERR_MALFORMED },  //  nil
        { 6, 0, DS_ERR_TYPE, DS_ERR_TYPE },
        { 6, DS_MSG_TYPE_LAST + 1, DS_ERR_TYPE, DS_ERR_TYPE },
        { 6, DS_MSG_EOS, DS_ERR_TYPE, DS_ERR_MALFORMED }, //  an "EOS" with 12 fields
        { 6, DS_MSG_HELLO, DS_ERR_TYPE, DS_ERR_TYPE },
        { 6, DS_MSG_LABELLED, DS_ERR_MALFORMED, DS_ERR_TYPE },  //  12 fields
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        memcpy (copy, buf.data, buf.size);
        copy [cases [i].at] = cases [i].value;
        assert_int_equal (ds_batch_decode (copy, buf.size, into), cases [i].batch_rc);
        assert_int_equal (ds_eos_decode (copy, buf.size, &eos), cases [i].eos_rc);
    }
    //  a batch is not an EOS, an EOS not a batch
    assert_int_equal (ds_eos_decode ((const uint8_t *) buf.data, buf.size, &eos), DS_ERR_TYPE);
    ds_eos_t e = { 0 };
    assert_int_equal (ds_eos_encode (&e, &buf), DS_OK);
    assert_int_equal (ds_batch_decode ((const uint8_t *) buf.data, buf.size, into), DS_ERR_TYPE);
    //  frames above the ceiling are refused before they are read
    size_t huge = (size_t) DS_FRAME_MAX + 1;
    uint8_t *big = calloc (1, huge);
    assert_non_null (big);
    memcpy (big, buf.data, buf.size);
    assert_int_equal (ds_batch_decode (big, huge, into), DS_ERR_TOO_BIG);
    assert_int_equal (ds_eos_decode (big, huge, &eos), DS_ERR_TOO_BIG);
    assert_int_equal (ds_mp_validate (big, huge, 8), DS_ERR_TOO_BIG);
    ds_query_t q;
    char err [128];
    assert_int_equal (ds_query_decode (big, huge, &q, err, sizeof err), DS_ERR_TOO_BIG);
    free (big);
    free (copy);
    ds_batch_destroy (&into);
    ds_batch_destroy (&batch);
    msgpack_sbuffer_destroy (&buf);
}

static void
test_batch_errors (void **state)
{
    (void) state;
    s_raw_t raw = s_raw_default ();
    assert_int_equal (s_decode_raw (&raw), DS_OK);                //  the knobs' baseline is valid
    raw.fields = 12;
    raw.type = DS_MSG_BATCH;
    assert_int_equal (s_decode_raw (&raw), DS_OK);

    struct { const char *what; s_raw_t raw; int rc; } cases [32];
    size_t n = 0;
#define CASE(what_, field_, value_, rc_) \
    cases [n].what = what_; cases [n].raw = s_raw_default (); cases [n].raw.field_ = value_; \
    cases [n++].rc = rc_;
    CASE ("port 65536", port, 65536, DS_ERR_MALFORMED)
    CASE ("port -2", port, -2, DS_ERR_MALFORMED)
    CASE ("port INT32_MIN", port, INT32_MIN, DS_ERR_MALFORMED)
    CASE ("port INT32_MAX", port, INT32_MAX, DS_ERR_MALFORMED)
    CASE ("port -1 ok", port, -1, DS_OK)
    CASE ("port 65535 ok", port, 65535, DS_OK)
    CASE ("proto 5", proto, DS_PROTO_COUNT, DS_ERR_MALFORMED)
    CASE ("proto 255", proto, 255, DS_ERR_MALFORMED)
    CASE ("class id = dict size", class_id, 2, DS_ERR_MALFORMED)
    CASE ("class id 65535", class_id, 65535, DS_ERR_MALFORMED)
    CASE ("empty dictionary", n_classes, 0, DS_ERR_MALFORMED)
    CASE ("dictionary too big", n_classes, DS_DICT_MAX + 1, DS_ERR_TOO_BIG)
    CASE ("dictionary at max", n_classes, DS_DICT_MAX, DS_OK)
    CASE ("count above max", count, DS_BATCH_MAX_CAPACITY + 1, DS_ERR_TOO_BIG)
    CASE ("count 2^32", count, 1ull << 32, DS_ERR_TOO_BIG)
    CASE ("count above bins", count, 5, DS_ERR_MALFORMED)
    CASE ("count below bins", count, 3, DS_ERR_MALFORMED)
    CASE ("ts bin short", ts_delta, -1, DS_ERR_MALFORMED)
    CASE ("ts bin long", ts_delta, 1, DS_ERR_MALFORMED)
    CASE ("trailing bytes", trailing, true, DS_ERR_MALFORMED)
    CASE ("17 fields", fields, 17, DS_ERR_MALFORMED)
#undef CASE
    for (size_t i = 0; i < n; i++) {
        int rc = s_decode_raw (&cases [i].raw);
        if (rc != cases [i].rc)
            fail_msg ("%s: got %s, expected %s", cases [i].what, ds_result_str (rc),
                      ds_result_str (cases [i].rc));
    }
    //  dictionary names: non-empty, < DS_NAME_MAX bytes, no NUL
    char long_name [DS_NAME_MAX + 1];
    memset (long_name, 'n', sizeof long_name);
    struct { const char *name; size_t len; int rc; } names [] = {
        { "", 0, DS_ERR_MALFORMED },
        { "a\0b", 3, DS_ERR_MALFORMED },
        { long_name, DS_NAME_MAX, DS_ERR_TOO_BIG },
        { long_name, DS_NAME_MAX - 1, DS_OK },
    };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        raw = s_raw_default ();
        raw.name0 = names [i].name;
        raw.name0_len = names [i].len;
        assert_int_equal (s_decode_raw (&raw), names [i].rc);
    }
    //  count at the maximum decodes; the encoder refuses more
    raw = s_raw_default ();
    raw.count = raw.records = DS_BATCH_MAX_CAPACITY;
    assert_int_equal (s_decode_raw (&raw), DS_OK);
    ds_batch_t *batch = s_make_batch (1, false);
    batch->count = DS_BATCH_MAX_CAPACITY + 1;
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    assert_int_equal (ds_batch_encode (batch, &buf), DS_ERR_TOO_BIG);
    batch->count = 1;
    //  the encoder writes what it is given; the decoder checks the values
    batch->port [0] = 70000;
    assert_int_equal (ds_batch_encode (batch, &buf), DS_OK);
    ds_batch_t *into = ds_batch_new (1);
    assert_int_equal (ds_batch_decode ((const uint8_t *) buf.data, buf.size, into), DS_ERR_MALFORMED);
    ds_batch_destroy (&batch);
    batch = s_make_batch (10, true);
    batch->service_id [9] = N_SERVICES;
    assert_int_equal (ds_batch_encode (batch, &buf), DS_OK);
    assert_int_equal (ds_batch_decode ((const uint8_t *) buf.data, buf.size, into), DS_ERR_MALFORMED);
    ds_batch_destroy (&into);
    ds_batch_destroy (&batch);
    msgpack_sbuffer_destroy (&buf);
}

//  Decodes a request given as hex digits, so cases read like the wire.
static int
s_query_case (const char *hex, char *err, size_t err_size)
{
    uint8_t data [256];
    size_t n = 0;
    for (const char *p = hex; p [0] && p [1]; ) {
        if (*p == ' ') {
            p++;
            continue;
        }
        unsigned v;
        sscanf (p, "%2x", &v);
        data [n++] = (uint8_t) v;
        p += 2;
    }
    ds_query_t q;
    err [0] = 0;
    return ds_query_decode (data, n, &q, err, err_size);
}

static int
s_query_packed (msgpack_sbuffer *buf, char *err, size_t err_size)
{
    ds_query_t q;
    err [0] = 0;
    return ds_query_decode ((const uint8_t *) buf->data, buf->size, &q, err, err_size);
}

//  Starts {"v":1,"q":"overview","args":{ n args
static void
s_query_begin (msgpack_packer *pk, msgpack_sbuffer *buf, uint32_t n_args)
{
    msgpack_sbuffer_clear (buf);
    msgpack_pack_map (pk, 3);
    msgpack_pack_str_with_body (pk, "v", 1);
    msgpack_pack_int (pk, 1);
    msgpack_pack_str_with_body (pk, "q", 1);
    msgpack_pack_str_with_body (pk, "overview", 8);
    msgpack_pack_str_with_body (pk, "args", 4);
    msgpack_pack_map (pk, n_args);
}

static void
test_query_errors (void **state)
{
    (void) state;
    char err [256];
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buf, msgpack_sbuffer_write);

    //  unknown arg, named
    s_query_begin (&pk, &buf, 1);
    msgpack_pack_str_with_body (&pk, "bogus_key", 9);
    msgpack_pack_int (&pk, 1);
    assert_int_equal (s_query_packed (&buf, err, sizeof err), DS_ERR_MALFORMED);
    assert_non_null (strstr (err, "bogus_key"));
    //  wrong types, named
    const char *int_keys [] = { "min_packets", "from_us", "to_us", "bin_s" };
    for (size_t i = 0; i < 4; i++) {
        s_query_begin (&pk, &buf, 1);
        msgpack_pack_str_with_body (&pk, int_keys [i], strlen (int_keys [i]));
        msgpack_pack_str_with_body (&pk, "10", 2);
        assert_int_equal (s_query_packed (&buf, err, sizeof err), DS_ERR_MALFORMED);
        assert_non_null (strstr (err, int_keys [i]));
        s_query_begin (&pk, &buf, 1);
        msgpack_pack_str_with_body (&pk, int_keys [i], strlen (int_keys [i]));
        msgpack_pack_double (&pk, 10.0);
        assert_int_equal (s_query_packed (&buf, err, sizeof err), DS_ERR_MALFORMED);
        assert_non_null (strstr (err, int_keys [i]));
    }
    //  force is a boolean, not a number or a string
    s_query_begin (&pk, &buf, 1);
    msgpack_pack_str_with_body (&pk, "force", 5);
    msgpack_pack_int (&pk, 1);
    assert_int_equal (s_query_packed (&buf, err, sizeof err), DS_ERR_MALFORMED);
    assert_non_null (strstr (err, "force"));
    s_query_begin (&pk, &buf, 1);
    msgpack_pack_str_with_body (&pk, "force", 5);
    msgpack_pack_false (&pk);
    assert_int_equal (s_query_packed (&buf, err, sizeof err), DS_OK);
    const char *str_keys [] = { "first_day", "last_day", "class", "ip" };
    size_t str_sizes [] = { 11, 11, DS_NAME_MAX, 64 };
    for (size_t i = 0; i < 4; i++) {
        s_query_begin (&pk, &buf, 1);
        msgpack_pack_str_with_body (&pk, str_keys [i], strlen (str_keys [i]));
        msgpack_pack_int (&pk, 5);
        assert_int_equal (s_query_packed (&buf, err, sizeof err), DS_ERR_MALFORMED);
        assert_non_null (strstr (err, str_keys [i]));
        //  one byte longer than the field holds
        char text [128];
        memset (text, '7', sizeof text);
        s_query_begin (&pk, &buf, 1);
        msgpack_pack_str_with_body (&pk, str_keys [i], strlen (str_keys [i]));
        msgpack_pack_str_with_body (&pk, text, str_sizes [i]);
        assert_int_equal (s_query_packed (&buf, err, sizeof err), DS_ERR_MALFORMED);
        assert_non_null (strstr (err, str_keys [i]));
    }
    //  values out of range or shape
    struct { const char *key; int64_t value; } bad_ints [] = {
        { "min_packets", -1 }, { "bin_s", 0 }, { "bin_s", -60 }
    };
    for (size_t i = 0; i < 3; i++) {
        s_query_begin (&pk, &buf, 1);
        msgpack_pack_str_with_body (&pk, bad_ints [i].key, strlen (bad_ints [i].key));
        msgpack_pack_int64 (&pk, bad_ints [i].value);
        assert_int_equal (s_query_packed (&buf, err, sizeof err), DS_ERR_MALFORMED);
        assert_non_null (strstr (err, bad_ints [i].key));
    }
    const char *bad_days [] = { "2021-3-02", "2021/03/02", "20210302xx", "yesterday" };
    for (size_t i = 0; i < 4; i++) {
        s_query_begin (&pk, &buf, 1);
        msgpack_pack_str_with_body (&pk, "last_day", 8);
        msgpack_pack_str_with_body (&pk, bad_days [i], strlen (bad_days [i]));
        assert_int_equal (s_query_packed (&buf, err, sizeof err), DS_ERR_MALFORMED);
        assert_non_null (strstr (err, "last_day"));
    }
    //  duplicate arg
    s_query_begin (&pk, &buf, 2);
    msgpack_pack_str_with_body (&pk, "bin_s", 5);
    msgpack_pack_int (&pk, 5);
    msgpack_pack_str_with_body (&pk, "bin_s", 5);
    msgpack_pack_int (&pk, 6);
    assert_int_equal (s_query_packed (&buf, err, sizeof err), DS_ERR_MALFORMED);
    assert_non_null (strstr (err, "bin_s"));
    //  large positive ints in any encoding are fine; uint64 above INT64_MAX is not
    s_query_begin (&pk, &buf, 1);
    msgpack_pack_str_with_body (&pk, "to_us", 5);
    msgpack_pack_uint64 (&pk, UINT64_MAX);
    assert_int_equal (s_query_packed (&buf, err, sizeof err), DS_ERR_MALFORMED);
    assert_non_null (strstr (err, "to_us"));

    //  whole-request errors, written as raw bytes
    struct { const char *hex; int rc; const char *needle; } raw [] = {
        //  {"v":1,"q":"ports"}
        { "82 a1 76 01 a1 71 a5 706f727473", DS_OK, "" },
        //  {"v":2,"q":"ports"}
        { "82 a1 76 02 a1 71 a5 706f727473", DS_ERR_VERSION, "version" },
        //  {"q":"ports"}
        { "81 a1 71 a5 706f727473", DS_ERR_MALFORMED, "\"v\"" },
        //  {"v":1}
        { "81 a1 76 01", DS_ERR_MALFORMED, "\"q\"" },
        //  {"v":1,"q":""}
        { "82 a1 76 01 a1 71 a0", DS_ERR_MALFORMED, "\"q\"" },
        //  {"v":1,"q":"ports","x":1}
        { "83 a1 76 01 a1 71 a5 706f727473 a1 78 01", DS_ERR_MALFORMED, "\"x\"" },
        //  {"v":1,"q":"ports","args":[]}
        { "83 a1 76 01 a1 71 a5 706f727473 a4 61726773 90", DS_ERR_MALFORMED, "args" },
        //  {"v":1,"q":"ports","args":{1:1}}
        { "83 a1 76 01 a1 71 a5 706f727473 a4 61726773 81 01 01", DS_ERR_MALFORMED, "args" },
        //  {"v":1,"v":1,"q":"ports"}
        { "83 a1 76 01 a1 76 01 a1 71 a5 706f727473", DS_ERR_MALFORMED, "duplicate" },
        //  {"v":"1","q":"ports"}
        { "82 a1 76 a1 31 a1 71 a5 706f727473", DS_ERR_MALFORMED, "\"v\"" },
        //  {"v":1,"q":"ports"} + trailing nil
        { "82 a1 76 01 a1 71 a5 706f727473 c0", DS_ERR_MALFORMED, "trailing" },
        //  ["v",1]
        { "92 a1 76 01", DS_ERR_MALFORMED, "map" },
        //  a map declaring 2^32-1 entries
        { "df ffffffff a1 76 01", DS_ERR_MALFORMED, "map" },
        //  {"v":1,"q":"a\0b"}
        { "82 a1 76 01 a1 71 a3 610062", DS_ERR_MALFORMED, "NUL" },
    };
    for (size_t i = 0; i < sizeof raw / sizeof *raw; i++) {
        int rc = s_query_case (raw [i].hex, err, sizeof err);
        if (rc != raw [i].rc || !strstr (err, raw [i].needle))
            fail_msg ("case %zu: got %d \"%s\", expected %d and \"%s\"", i, rc, err,
                      raw [i].rc, raw [i].needle);
    }
    msgpack_sbuffer_destroy (&buf);
}

static void
test_mpcheck (void **state)
{
    (void) state;
    //  msgpack-c issue #1013: 5 bytes must not make the unpacker allocate 64 GB
    const uint8_t huge_array [] = { 0xdd, 0xff, 0xff, 0xff, 0xff };
    const uint8_t huge_map [] = { 0xdf, 0xff, 0xff, 0xff, 0xff, 0x01, 0x01 };
    const uint8_t huge_str [] = { 0xdb, 0xff, 0xff, 0xff, 0xf0, 'a' };
    const uint8_t huge_ext [] = { 0xc9, 0x7f, 0xff, 0xff, 0xff, 0x01 };
    const uint8_t nested_huge [] = { 0x92, 0x01, 0xdd, 0x00, 0x10, 0x00, 0x00, 0x01 };
    const uint8_t unused [] = { 0xc1 };
    const uint8_t two [] = { 0x01, 0x02 };
    const uint8_t empty [1] = { 0 };
    msgpack_zone zone;
    msgpack_zone_init (&zone, 1024);
    msgpack_object obj;
    struct { const uint8_t *data; size_t size; int rc; } cases [] = {
        { huge_array, sizeof huge_array, DS_ERR_MALFORMED },
        { huge_map, sizeof huge_map, DS_ERR_MALFORMED },
        { huge_str, sizeof huge_str, DS_ERR_MALFORMED },
        { huge_ext, sizeof huge_ext, DS_ERR_MALFORMED },
        { nested_huge, sizeof nested_huge, DS_ERR_MALFORMED },
        { unused, sizeof unused, DS_ERR_MALFORMED },
        { two, sizeof two, DS_ERR_MALFORMED },          //  two objects
        { empty, 0, DS_ERR_MALFORMED },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        assert_int_equal (ds_mp_validate (cases [i].data, cases [i].size, 8), cases [i].rc);
        assert_int_equal (ds_mp_unpack (cases [i].data, cases [i].size, &zone, &obj), cases [i].rc);
    }
    //  nesting: depth counts containers
    uint8_t deep [100];
    memset (deep, 0x91, sizeof deep);
    deep [99] = 0x01;                               //  99 nested arrays around 1
    assert_int_equal (ds_mp_validate (deep, sizeof deep, 16), DS_ERR_TOO_BIG);
    assert_int_equal (ds_mp_validate (deep + 99 - 16, 17, 16), DS_OK);
    assert_int_equal (ds_mp_validate (deep + 99 - 17, 18, 16), DS_ERR_TOO_BIG);
    assert_int_equal (ds_mp_unpack (deep, sizeof deep, &zone, &obj), DS_ERR_TOO_BIG);
    assert_int_equal (ds_mp_validate (deep + 99 - 40, 41, 1000), DS_ERR_TOO_BIG);  //  capped
    assert_int_equal (ds_mp_unpack (deep + 99 - 3, 4, &zone, &obj), DS_OK);
    assert_int_equal (obj.type, MSGPACK_OBJECT_ARRAY);
    assert_int_equal (obj.via.array.ptr [0].via.array.ptr [0].via.array.ptr [0].via.u64, 1);

    //  every kind of object validates and unpacks
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buf, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 2);
    msgpack_pack_str_with_body (&pk, "list", 4);
    msgpack_pack_array (&pk, 14);
    msgpack_pack_nil (&pk);
    msgpack_pack_true (&pk);
    msgpack_pack_false (&pk);
    msgpack_pack_int64 (&pk, INT64_MIN);
    msgpack_pack_uint64 (&pk, UINT64_MAX);
    msgpack_pack_int8 (&pk, -5);
    msgpack_pack_float (&pk, 1.5f);
    msgpack_pack_double (&pk, 0.1);
    msgpack_pack_bin_with_body (&pk, "\x00\x01", 2);
    msgpack_pack_ext_with_body (&pk, "abcd", 4, 7);
    msgpack_pack_ext_with_body (&pk, "abc", 3, 7);
    char text [300];
    memset (text, 'z', sizeof text);
    msgpack_pack_str_with_body (&pk, text, sizeof text);
    msgpack_pack_bin_with_body (&pk, text, sizeof text);
    msgpack_pack_ext_with_body (&pk, text, sizeof text, 1);
    msgpack_pack_str_with_body (&pk, "n", 1);
    msgpack_pack_uint16 (&pk, 300);
    assert_int_equal (ds_mp_validate ((const uint8_t *) buf.data, buf.size, 2), DS_OK);
    assert_int_equal (ds_mp_validate ((const uint8_t *) buf.data, buf.size, 1), DS_ERR_TOO_BIG);
    assert_int_equal (ds_mp_unpack ((const uint8_t *) buf.data, buf.size, &zone, &obj), DS_OK);
    const msgpack_object *list = ds_mp_get (&obj, "list");
    assert_non_null (list);
    assert_int_equal (list->via.array.size, 14);
    assert_int_equal (list->via.array.ptr [3].via.i64, INT64_MIN);
    assert_int_equal (ds_mp_get (&obj, "n")->via.u64, 300);

    //  the cursor reads each kind, and refuses the wrong one
    ds_mpread_t r;
    ds_mpread_init (&r, buf.data, buf.size);
    uint32_t count;
    assert_int_equal (ds_mpread_peek (&r), DS_MP_MAP);
    assert_int_equal (ds_mpread_array (&r, &count), DS_ERR_MALFORMED);
    assert_int_equal (ds_mpread_map (&r, &count), DS_OK);
    assert_int_equal (count, 2);
    const char *str;
    uint32_t len;
    assert_int_equal (ds_mpread_str (&r, &str, &len), DS_OK);
    assert_true (ds_mpread_str_eq (str, len, "list"));
    assert_int_equal (ds_mpread_array (&r, &count), DS_OK);
    assert_int_equal (ds_mpread_nil (&r), DS_OK);
    bool b;
    assert_int_equal (ds_mpread_nil (&r), DS_ERR_MALFORMED);
    assert_int_equal (ds_mpread_bool (&r, &b), DS_OK);
    assert_true (b);
    assert_int_equal (ds_mpread_bool (&r, &b), DS_OK);
    assert_false (b);
    int64_t i64;
    uint64_t u64;
    assert_int_equal (ds_mpread_uint (&r, &u64), DS_ERR_MALFORMED);   //  negative
    assert_int_equal (ds_mpread_int (&r, &i64), DS_OK);
    assert_int_equal (i64, INT64_MIN);
    assert_int_equal (ds_mpread_int (&r, &i64), DS_ERR_MALFORMED);    //  > INT64_MAX
    assert_int_equal (ds_mpread_uint (&r, &u64), DS_OK);
    assert_true (u64 == UINT64_MAX);
    assert_int_equal (ds_mpread_peek (&r), DS_MP_INT);
    assert_int_equal (ds_mpread_int (&r, &i64), DS_OK);
    assert_int_equal (i64, -5);
    double d;
    assert_int_equal (ds_mpread_float (&r, &d), DS_OK);
    assert_true (d == 1.5);
    assert_int_equal (ds_mpread_float (&r, &d), DS_OK);
    assert_true (d == 0.1);
    const uint8_t *bin;
    assert_int_equal (ds_mpread_str (&r, &str, &len), DS_ERR_MALFORMED);
    assert_int_equal (ds_mpread_bin (&r, &bin, &len), DS_OK);
    assert_int_equal (len, 2);
    assert_int_equal (ds_mpread_peek (&r), DS_MP_EXT);
    assert_int_equal (ds_mpread_skip (&r, 0), DS_OK);
    assert_int_equal (ds_mpread_skip (&r, 0), DS_OK);
    assert_int_equal (ds_mpread_str (&r, &str, &len), DS_OK);
    assert_int_equal (len, sizeof text);
    assert_int_equal (ds_mpread_skip (&r, 0), DS_OK);
    assert_int_equal (ds_mpread_skip (&r, 0), DS_OK);
    assert_int_equal (ds_mpread_skip (&r, 0), DS_OK);
    assert_int_equal (ds_mpread_uint (&r, &u64), DS_OK);
    assert_int_equal (u64, 300);
    assert_int_equal (ds_mpread_left (&r), 0);
    assert_int_equal (ds_mpread_peek (&r), DS_MP_NONE);
    //  a signed encoding of a non-negative value is a uint
    const uint8_t signed_pos [] = { 0xd1, 0x01, 0x00 };
    ds_mpread_init (&r, signed_pos, sizeof signed_pos);
    assert_int_equal (ds_mpread_peek (&r), DS_MP_UINT);
    assert_int_equal (ds_mpread_uint (&r, &u64), DS_OK);
    assert_int_equal (u64, 256);
    msgpack_sbuffer_destroy (&buf);
    msgpack_zone_destroy (&zone);
}

//  Random bytes, and valid messages with random damage: every decoder must
//  return one of its results without crashing or reading out of bounds.
static bool
s_known (int rc)
{
    return rc <= DS_OK && rc >= DS_ERR_NOMEM;
}

static void
s_feed (const uint8_t *data, size_t size, ds_batch_t *into, msgpack_zone *zone, bool random)
{
    ds_eos_t eos;
    ds_query_t q;
    char err [128];
    msgpack_object obj;
    int rb = ds_batch_decode (data, size, into);
    int re = ds_eos_decode (data, size, &eos);
    int rq = ds_query_decode (data, size, &q, err, sizeof err);
    int rv = ds_mp_validate (data, size, 8);
    assert_true (s_known (rb) && s_known (re) && s_known (rq) && s_known (rv));
    if (random) {
        //  pure noise is never a message
        assert_int_not_equal (rb, DS_OK);
        assert_int_not_equal (re, DS_OK);
    }
    if (rb == DS_OK)
        assert_true (into->count <= DS_BATCH_MAX_CAPACITY);
    if (rq != DS_OK)
        assert_true (strlen (err) > 0);
    if (rv == DS_OK) {
        int ru = ds_mp_unpack (data, size, zone, &obj);
        assert_true (ru == DS_OK || ru == DS_ERR_TOO_BIG);     //  depth 8 vs 24
    }
}

static void
test_random_inputs (void **state)
{
    (void) state;
    s_rng = 42;
    ds_batch_t *into = ds_batch_new (1);
    msgpack_zone zone;
    msgpack_zone_init (&zone, 4096);
    uint8_t *data = malloc (4096);

    //  50k inputs of pure noise
    for (int i = 0; i < 50000; i++) {
        size_t size = s_rand () % 300;
        for (size_t b = 0; b < size; b++)
            data [b] = (uint8_t) s_rand ();
        uint8_t *copy = malloc (size ? size : 1);
        memcpy (copy, data, size);
        s_feed (copy, size, into, &zone, true);
        free (copy);
        if (i % 1000 == 0)
            msgpack_zone_clear (&zone);
    }
    //  50k damaged valid messages: 1-4 random bytes replaced, maybe cut
    msgpack_sbuffer seeds [6];
    for (int s = 0; s < 6; s++)
        msgpack_sbuffer_init (&seeds [s]);
    ds_batch_t *batch = s_make_batch (5, true);
    assert_int_equal (ds_batch_encode (batch, &seeds [0]), DS_OK);
    ds_batch_destroy (&batch);
    batch = s_make_batch (4, false);
    assert_int_equal (ds_batch_encode (batch, &seeds [1]), DS_OK);
    ds_batch_destroy (&batch);
    ds_eos_t eos = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
    assert_int_equal (ds_eos_encode (&eos, &seeds [2]), DS_OK);
    ds_query_t q;
    ds_query_init (&q);
    strcpy (q.name, "pattern");
    strcpy (q.first_day, "2021-03-02");
    q.bin_s = 10;
    assert_int_equal (ds_query_encode (&q, &seeds [3]), DS_OK);
    batch = s_make_real_batch (6, true);
    assert_int_equal (ds_batch_encode_packed (batch, &seeds [4]), DS_OK);
    ds_batch_destroy (&batch);
    batch = s_make_batch (5, false);
    assert_int_equal (ds_batch_encode_packed (batch, &seeds [5]), DS_OK);
    ds_batch_destroy (&batch);
    int accepted = 0;
    for (int i = 0; i < 60000; i++) {
        const msgpack_sbuffer *seed = &seeds [i % 6];
        assert_true (seed->size <= 4096);
        size_t size = seed->size;
        memcpy (data, seed->data, size);
        int flips = 1 + (int) (s_rand () % 4);
        for (int f = 0; f < flips; f++)
            data [s_rand () % size] = (uint8_t) s_rand ();
        if (s_rand () % 4 == 0)
            size = s_rand () % size;
        uint8_t *copy = malloc (size ? size : 1);
        memcpy (copy, data, size);
        int rb = ds_batch_decode (copy, size, into);
        accepted += rb == DS_OK;
        s_feed (copy, size, into, &zone, false);
        free (copy);
        if (i % 1000 == 0)
            msgpack_zone_clear (&zone);
    }
    //  damage inside the columns can still be a valid batch; most is not
    assert_true (accepted < 60000 / 2);
    for (int s = 0; s < 6; s++)
        msgpack_sbuffer_destroy (&seeds [s]);
    free (data);
    msgpack_zone_destroy (&zone);
    ds_batch_destroy (&into);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_topic),
        cmocka_unit_test (test_batch_roundtrip),
        cmocka_unit_test (test_batch_packed),
        cmocka_unit_test (test_batch_switching),
        cmocka_unit_test (test_eos_roundtrip),
        cmocka_unit_test (test_query_roundtrip),
        cmocka_unit_test (test_truncated),
        cmocka_unit_test (test_header_errors),
        cmocka_unit_test (test_batch_errors),
        cmocka_unit_test (test_query_errors),
        cmocka_unit_test (test_mpcheck),
        cmocka_unit_test (test_random_inputs),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
