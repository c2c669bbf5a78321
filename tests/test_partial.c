/*  libs: ds_proto */
/*  test_partial.c - the partial codecs (proto/partial_codec.h).

    Every message type round-trips field for field (64-bit counters at
    their extremes); every proper prefix of every message is "truncated";
    hostile counts (classes, services, bins longer than the frame) are
    refused before anything is allocated for them; bad values (ports,
    protos, booleans, names, days, windows) are "malformed" and lists above
    their ceilings "too big"; encoders refuse what decoders would.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "partial_codec.h"
#include "mpread.h"

//  ---------------------------------------------------------------------
//  Samples

static ds_part_req_t
s_req_ppsrc (void)
{
    ds_part_req_t r = { .kind = DS_PART_PPSRC, .first_day = 18687, .last_day = 18716, .n_pps = 3 };
    r.pps [0] = (ds_part_pp_t) { .port = 23, .proto = DS_PROTO_TCP };
    r.pps [1] = (ds_part_pp_t) { .port = DS_PORT_NONE, .proto = DS_PROTO_ICMP };
    r.pps [2] = (ds_part_pp_t) { .port = 65535, .proto = DS_PROTO_OTH };
    return r;
}

static ds_part_range_t
s_range (void)
{
    ds_part_range_t r = { .generation = UINT64_MAX - 1, .any = true,
                          .first_day = -3, .last_day = 18716, .retain_days = 36600 };
    snprintf (r.tz, sizeof r.tz, "America/Argentina/ComodRivadavia");
    return r;
}

//  An overview with every list non-empty (classes: one without services).
static void
s_overview (ds_part_overview_t *o)
{
    memset (o, 0, sizeof *o);
    snprintf (o->tz, sizeof o->tz, "UTC");
    o->first_day = 18714;
    o->last_day = 18716;
    o->window_sources = 1ull << 40;
    o->last_sources = 7;
    o->n_window = 3;
    o->window = calloc (3, sizeof *o->window);
    o->window [0] = (ds_part_pp_t) { 23, DS_PROTO_TCP, UINT64_MAX, 0 };
    o->window [1] = (ds_part_pp_t) { DS_PORT_NONE, DS_PROTO_ICMP, 5, 0 };
    o->window [2] = (ds_part_pp_t) { 0, DS_PROTO_UDP, 1, 0 };
    o->n_last = 2;
    o->last = calloc (2, sizeof *o->last);
    o->last [0] = (ds_part_pp_t) { 445, DS_PROTO_TCP, 1ull << 33, 1ull << 35 };
    o->last [1] = (ds_part_pp_t) { 65535, DS_PROTO_GRE, 2, 1 };
    o->n_hist = 2;
    o->hist = calloc (2, sizeof *o->hist);
    o->hist [0] = (ds_part_hist_t) { 1, 1000 };
    o->hist [1] = (ds_part_hist_t) { 1ull << 50, 1 };
    o->n_days = 3;
    o->days = calloc (3, sizeof *o->days);
    for (int d = 0; d < 3; d++)
        o->days [d] = (ds_part_day_t) { 10u + d, 5u + d, 3u + d, (uint64_t) d << 40 };
    o->n_classes = 2;
    o->classes = calloc (2, sizeof *o->classes);
    ds_part_class_t *c = &o->classes [0];
    snprintf (c->name, sizeof c->name, "mirai-like");
    c->senders = 4;
    c->packets = 1ull << 36;
    c->n_pps = 2;
    c->pps = calloc (2, sizeof *c->pps);
    c->pps [0] = (ds_part_pp_t) { 23, DS_PROTO_TCP, 1ull << 35, 0 };
    c->pps [1] = (ds_part_pp_t) { 2323, DS_PROTO_TCP, 1ull << 35, 0 };
    c->n_services = 2;
    c->services = calloc (2, sizeof *c->services);
    snprintf (c->services [0].name, sizeof c->services [0].name, "telnet");
    c->services [0].packets = 1ull << 36;
    //  63 bytes: the longest name
    memset (c->services [1].name, 'x', DS_NAME_MAX - 1);
    c->services [1].packets = 0;
    c = &o->classes [1];
    snprintf (c->name, sizeof c->name, "unknown");
    c->senders = 3;
    c->packets = 9;
    o->gaps = 1ull << 63;
    o->n_sensors = 2;
    o->sensors = calloc (2, sizeof *o->sensors);
    o->sensors [0] = (ds_part_sensor_t) { 0, true, UINT64_MAX, 1, 2, 3, 4 };
    o->sensors [1] = (ds_part_sensor_t) { UINT32_MAX, false, 0, 0, 0, 0, UINT64_MAX };
}

static ds_part_ppsrc_t
s_ppsrc (void)
{
    ds_part_ppsrc_t p = { .first_day = 18687, .last_day = 18716, .n_pps = 2 };
    p.pps [0] = (ds_part_pp_t) { .port = 23, .proto = DS_PROTO_TCP, .sources = 1ull << 40 };
    p.pps [1] = (ds_part_pp_t) { .port = DS_PORT_NONE, .proto = DS_PROTO_ICMP, .sources = 0 };
    return p;
}

static void
s_status (ds_part_status_t *s)
{
    memset (s, 0, sizeof *s);
    s->shard = 3;
    s->shards = 4;
    snprintf (s->tz, sizeof s->tz, "Europe/Rome");
    s->sensors_expected = 2;
    s->eos_all = true;
    s->records = 1ull << 40;
    s->sources = 543900;
    snprintf (s->first_day, sizeof s->first_day, "2021-03-02");
    snprintf (s->last_day, sizeof s->last_day, "2021-03-31");
    s->memory_bytes = 1ull << 31;
    s->retain_days = 30;
    s->expired_records = 1ull << 33;
    s->evicted_days = 60;
    s->rejected = 1;
    s->foreign = 2;
    s->requests_too_big = 3;
    s->refused_connections = 17;
    snprintf (s->checkpoint, sizeof s->checkpoint, "/var/lib/darkscope/shard-3.ckpt");
    s->n_streams = 2;
    s->streams = calloc (2, sizeof *s->streams);
    s->streams [0] = (ds_part_stream_t) { { 0, true, 63500000, 1, 2, 3, 7 }, 100, 100, 51200, 0, 4,
                                          0, 1, 0, 12, 0, 1614556800123456LL, 1614556801000000LL, 1500,
                                          1614556799876543LL };
    s->streams [1] = (ds_part_stream_t) { { 9, false, 0, 0, 0, 0, 0 }, UINT64_MAX, 1, 2, 3, 5,
                                          1614556800000000ULL, 2, 3, 4, 1ull << 33, 0, 0, -250000, 0 };
    s->ckpt = (ds_part_ckpt_t) { true, true, 10, 2, 1614556800000000LL, 41000, 68000, 1862000, "" };
    snprintf (s->ckpt.error, sizeof s->ckpt.error, "cannot write checkpoint x.tmp: No space left on device");
    s->now_us = 1614556802000000LL;
}

//  ---------------------------------------------------------------------
//  Comparisons

static void
s_assert_pps (const ds_part_pp_t *a, const ds_part_pp_t *b, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        assert_int_equal (a [i].port, b [i].port);
        assert_int_equal (a [i].proto, b [i].proto);
        assert_true (a [i].packets == b [i].packets);
        assert_true (a [i].sources == b [i].sources);
    }
}

static void
s_assert_overview_equal (const ds_part_overview_t *a, const ds_part_overview_t *b)
{
    assert_string_equal (a->tz, b->tz);
    assert_int_equal (a->first_day, b->first_day);
    assert_int_equal (a->last_day, b->last_day);
    assert_true (a->window_sources == b->window_sources);
    assert_true (a->last_sources == b->last_sources);
    assert_int_equal (a->n_window, b->n_window);
    s_assert_pps (a->window, b->window, a->n_window);
    assert_int_equal (a->n_last, b->n_last);
    s_assert_pps (a->last, b->last, a->n_last);
    assert_int_equal (a->n_hist, b->n_hist);
    assert_memory_equal (a->hist, b->hist, a->n_hist * sizeof *a->hist);
    assert_int_equal (a->n_days, b->n_days);
    assert_memory_equal (a->days, b->days, a->n_days * sizeof *a->days);
    assert_int_equal (a->n_classes, b->n_classes);
    for (uint32_t i = 0; i < a->n_classes; i++) {
        const ds_part_class_t *x = &a->classes [i], *y = &b->classes [i];
        assert_string_equal (x->name, y->name);
        assert_true (x->senders == y->senders && x->packets == y->packets);
        assert_int_equal (x->n_pps, y->n_pps);
        s_assert_pps (x->pps, y->pps, x->n_pps);
        assert_int_equal (x->n_services, y->n_services);
        for (uint32_t k = 0; k < x->n_services; k++) {
            assert_string_equal (x->services [k].name, y->services [k].name);
            assert_true (x->services [k].packets == y->services [k].packets);
        }
    }
    assert_true (a->gaps == b->gaps);
    assert_int_equal (a->n_sensors, b->n_sensors);
    for (uint32_t i = 0; i < a->n_sensors; i++) {
        const ds_part_sensor_t *x = &a->sensors [i], *y = &b->sensors [i];
        assert_true (x->sensor == y->sensor && x->eos == y->eos);
        assert_true (x->packets_read == y->packets_read && x->non_ip == y->non_ip);
        assert_true (x->malformed == y->malformed && x->dropped == y->dropped);
        assert_true (x->bad_time == y->bad_time);
    }
}

static void
s_assert_status_equal (const ds_part_status_t *a, const ds_part_status_t *b)
{
    assert_int_equal (a->shard, b->shard);
    assert_int_equal (a->shards, b->shards);
    assert_string_equal (a->tz, b->tz);
    assert_int_equal (a->sensors_expected, b->sensors_expected);
    assert_int_equal (a->eos_all, b->eos_all);
    assert_true (a->records == b->records && a->sources == b->sources);
    assert_string_equal (a->first_day, b->first_day);
    assert_string_equal (a->last_day, b->last_day);
    assert_true (a->memory_bytes == b->memory_bytes);
    assert_int_equal (a->retain_days, b->retain_days);
    assert_true (a->expired_records == b->expired_records && a->evicted_days == b->evicted_days);
    assert_true (a->rejected == b->rejected && a->foreign == b->foreign);
    assert_true (a->requests_too_big == b->requests_too_big);
    assert_true (a->refused_connections == b->refused_connections);
    assert_string_equal (a->checkpoint, b->checkpoint);
    assert_int_equal (a->n_streams, b->n_streams);
    for (uint32_t i = 0; i < a->n_streams; i++) {
        const ds_part_stream_t *x = &a->streams [i], *y = &b->streams [i];
        assert_true (x->s.sensor == y->s.sensor && x->s.eos == y->s.eos);
        assert_true (x->s.packets_read == y->s.packets_read && x->s.non_ip == y->s.non_ip);
        assert_true (x->s.malformed == y->s.malformed && x->s.dropped == y->s.dropped);
        assert_true (x->next_seq == y->next_seq && x->batches == y->batches);
        assert_true (x->records == y->records && x->gaps == y->gaps && x->replays == y->replays);
        assert_true (x->s.bad_time == y->s.bad_time && x->epoch == y->epoch && x->epochs == y->epochs);
        assert_true (x->stale == y->stale && x->stats == y->stats && x->pcap_dropped == y->pcap_dropped);
        assert_true (x->last_batch_us == y->last_batch_us && x->last_stats_us == y->last_stats_us);
        assert_true (x->lag_us == y->lag_us && x->newest_us == y->newest_us);
    }
    assert_memory_equal (&a->ckpt, &b->ckpt, offsetof (ds_part_ckpt_t, error));
    assert_string_equal (a->ckpt.error, b->ckpt.error);
    assert_true (a->now_us == b->now_us);
}

//  ---------------------------------------------------------------------
//  Decoding any message by type (for truncation and hostile input)

typedef enum { T_REQ, T_RANGE, T_OVERVIEW, T_PPSRC, T_STATUS } s_which_t;

//  Decodes data as `which` from a copy of exactly size bytes (so ASan sees
//  any read past the end); frees what it decoded.  Returns the result.
static int
s_decode (s_which_t which, const void *data, size_t size, char *err, size_t err_size)
{
    uint8_t *copy = malloc (size ? size : 1);
    memcpy (copy, data, size);
    int rc;
    switch (which) {
        case T_REQ: { ds_part_req_t r; rc = ds_part_req_decode (copy, size, &r, err, err_size); break; }
        case T_RANGE: { ds_part_range_t r; rc = ds_part_range_decode (copy, size, &r, err, err_size); break; }
        case T_OVERVIEW: {
            ds_part_overview_t o;
            rc = ds_part_overview_decode (copy, size, &o, err, err_size);
            if (rc)
                assert_null (o.classes);    //  nothing left to free on failure
            ds_part_overview_clear (&o);
            break;
        }
        case T_PPSRC: { ds_part_ppsrc_t p; rc = ds_part_ppsrc_decode (copy, size, &p, err, err_size); break; }
        default: {
            ds_part_status_t s;
            rc = ds_part_status_decode (copy, size, &s, err, err_size);
            ds_part_status_clear (&s);
            break;
        }
    }
    free (copy);
    return rc;
}

//  Every proper prefix is truncated, with a reason; one byte more is
//  malformed (trailing bytes).
static void
s_assert_truncations (s_which_t which, const msgpack_sbuffer *buf)
{
    char err [256];
    assert_int_equal (s_decode (which, buf->data, buf->size, err, sizeof err), DS_OK);
    for (size_t len = 0; len < buf->size; len++) {
        err [0] = 0;
        int rc = s_decode (which, buf->data, len, err, sizeof err);
        if (rc != DS_ERR_TRUNCATED)
            fail_msg ("type %d, %zu of %zu bytes: %s (%s)", which, len, buf->size, ds_result_str (rc), err);
        assert_true (strlen (err) > 0);
    }
    uint8_t *more = malloc (buf->size + 1);
    memcpy (more, buf->data, buf->size);
    more [buf->size] = 0xc0;
    assert_int_equal (s_decode (which, more, buf->size + 1, err, sizeof err), DS_ERR_MALFORMED);
    free (more);
}

//  ---------------------------------------------------------------------
//  Round trips

static void
test_req_roundtrip (void **state)
{
    (void) state;
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    ds_part_req_t reqs [4] = {
        { .kind = DS_PART_RANGE },
        { .kind = DS_PART_OVERVIEW, .first_day = -36599 + 5, .last_day = 5, .min_packets = UINT64_MAX },
        s_req_ppsrc (),
        { .kind = DS_PART_STATUS },
    };
    for (int i = 0; i < 4; i++) {
        ds_part_req_t back;
        memset (&back, 0x55, sizeof back);
        char err [128];
        assert_int_equal (ds_part_req_encode (&reqs [i], &buf), DS_OK);
        assert_int_equal (ds_part_req_decode ((const uint8_t *) buf.data, buf.size, &back, err, sizeof err), DS_OK);
        assert_int_equal (back.kind, reqs [i].kind);
        assert_int_equal (back.first_day, reqs [i].first_day);
        assert_int_equal (back.last_day, reqs [i].last_day);
        assert_true (back.min_packets == reqs [i].min_packets);
        assert_int_equal (back.n_pps, reqs [i].n_pps);
        for (uint32_t k = 0; k < back.n_pps; k++) {
            assert_int_equal (back.pps [k].port, reqs [i].pps [k].port);
            assert_int_equal (back.pps [k].proto, reqs [i].pps [k].proto);
        }
        s_assert_truncations (T_REQ, &buf);
        //  equal requests are equal bytes (shards cache by them)
        msgpack_sbuffer again;
        msgpack_sbuffer_init (&again);
        assert_int_equal (ds_part_req_encode (&back, &again), DS_OK);
        assert_int_equal (again.size, buf.size);
        assert_memory_equal (again.data, buf.data, buf.size);
        msgpack_sbuffer_destroy (&again);
    }
    msgpack_sbuffer_destroy (&buf);
}

static void
test_range_ppsrc_roundtrip (void **state)
{
    (void) state;
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    char err [128];
    ds_part_range_t ranges [2] = { s_range (), { .tz = "UTC", .generation = 0, .any = false } };
    for (int i = 0; i < 2; i++) {
        ds_part_range_t back;
        assert_int_equal (ds_part_range_encode (&ranges [i], &buf), DS_OK);
        assert_int_equal (ds_part_range_decode ((const uint8_t *) buf.data, buf.size, &back, err, sizeof err), DS_OK);
        assert_string_equal (back.tz, ranges [i].tz);
        assert_true (back.generation == ranges [i].generation);
        assert_int_equal (back.any, ranges [i].any);
        assert_int_equal (back.first_day, ranges [i].first_day);
        assert_int_equal (back.last_day, ranges [i].last_day);
        assert_int_equal (back.retain_days, ranges [i].retain_days);
        s_assert_truncations (T_RANGE, &buf);
    }
    ds_part_ppsrc_t p = s_ppsrc (), back;
    assert_int_equal (ds_part_ppsrc_encode (&p, &buf), DS_OK);
    assert_int_equal (ds_part_ppsrc_decode ((const uint8_t *) buf.data, buf.size, &back, err, sizeof err), DS_OK);
    assert_int_equal (back.first_day, p.first_day);
    assert_int_equal (back.last_day, p.last_day);
    assert_int_equal (back.n_pps, 2);
    s_assert_pps (back.pps, p.pps, 2);
    s_assert_truncations (T_PPSRC, &buf);
    msgpack_sbuffer_destroy (&buf);
}

static void
test_overview_roundtrip (void **state)
{
    (void) state;
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    ds_part_overview_t o, back;
    s_overview (&o);
    char err [128];
    assert_int_equal (ds_part_overview_encode (&o, &buf), DS_OK);
    assert_int_equal (ds_part_overview_decode ((const uint8_t *) buf.data, buf.size, &back, err, sizeof err), DS_OK);
    s_assert_overview_equal (&o, &back);
    s_assert_truncations (T_OVERVIEW, &buf);
    ds_part_overview_clear (&back);

    //  An empty shard: a one-day window, every list empty.
    ds_part_overview_t empty = { .tz = "UTC", .first_day = 5, .last_day = 5, .n_days = 1 };
    ds_part_day_t day = { 0, 0, 0, 0 };
    empty.days = &day;
    assert_int_equal (ds_part_overview_encode (&empty, &buf), DS_OK);
    assert_int_equal (ds_part_overview_decode ((const uint8_t *) buf.data, buf.size, &back, err, sizeof err), DS_OK);
    s_assert_overview_equal (&empty, &back);
    s_assert_truncations (T_OVERVIEW, &buf);
    ds_part_overview_clear (&back);
    ds_part_overview_clear (&o);
    ds_part_overview_clear (NULL);
    msgpack_sbuffer_destroy (&buf);
}

static void
test_status_roundtrip (void **state)
{
    (void) state;
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    ds_part_status_t s, back;
    s_status (&s);
    char err [128];
    assert_int_equal (ds_part_status_encode (&s, &buf), DS_OK);
    assert_int_equal (ds_part_status_decode ((const uint8_t *) buf.data, buf.size, &back, err, sizeof err), DS_OK);
    s_assert_status_equal (&s, &back);
    s_assert_truncations (T_STATUS, &buf);
    ds_part_status_clear (&back);
    //  No record, no checkpoint: nil on the wire, "" in the struct.
    s.first_day [0] = s.last_day [0] = s.checkpoint [0] = 0;
    assert_int_equal (ds_part_status_encode (&s, &buf), DS_OK);
    assert_int_equal (ds_part_status_decode ((const uint8_t *) buf.data, buf.size, &back, err, sizeof err), DS_OK);
    s_assert_status_equal (&s, &back);
    s_assert_truncations (T_STATUS, &buf);
    ds_part_status_clear (&back);
    ds_part_status_clear (&s);
    msgpack_sbuffer_destroy (&buf);
}

//  The map clients read: keys in order, nil for no day / no checkpoint.
static void
test_status_map (void **state)
{
    (void) state;
    ds_part_status_t s;
    s_status (&s);
    s.last_day [0] = 0;
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buf, msgpack_sbuffer_write);
    ds_part_status_pack_map (&s, &pk);
    msgpack_zone zone;
    msgpack_zone_init (&zone, 4096);
    msgpack_object obj;
    assert_int_equal (ds_mp_unpack ((const uint8_t *) buf.data, buf.size, &zone, &obj), DS_OK);
    assert_int_equal (obj.type, MSGPACK_OBJECT_MAP);
    const char *top [] = { "store", "rejected", "foreign", "requests_too_big", "checkpoint",
                           "checkpoints", "now", "refused_connections" };
    assert_int_equal (obj.via.map.size, 8);
    for (int i = 0; i < 8; i++)
        assert_true (obj.via.map.ptr [i].key.via.str.size == strlen (top [i])
                     && memcmp (obj.via.map.ptr [i].key.via.str.ptr, top [i], strlen (top [i])) == 0);
    const msgpack_object *store = ds_mp_get (&obj, "store");
    const char *keys [] = { "shard", "shards", "tz", "sensors_expected", "eos_all", "records",
                            "sources", "first_day", "last_day", "memory_bytes", "retain_days",
                            "expired_records", "evicted_days", "sensors" };
    assert_int_equal (store->via.map.size, 14);
    for (int i = 0; i < 14; i++)
        assert_true (store->via.map.ptr [i].key.via.str.size == strlen (keys [i])
                     && memcmp (store->via.map.ptr [i].key.via.str.ptr, keys [i], strlen (keys [i])) == 0);
    assert_int_equal (ds_mp_get (store, "last_day")->type, MSGPACK_OBJECT_NIL);
    assert_int_equal (ds_mp_get (store, "first_day")->via.str.size, 10);
    assert_true (ds_mp_get (store, "records")->via.u64 == 1ull << 40);
    assert_true (ds_mp_get (store, "expired_records")->via.u64 == 1ull << 33);
    const msgpack_object *sensors = ds_mp_get (store, "sensors");
    assert_int_equal (sensors->via.array.size, 2);
    assert_true (ds_mp_get (&sensors->via.array.ptr [1], "next_seq")->via.u64 == UINT64_MAX);
    assert_int_equal (ds_mp_get (&sensors->via.array.ptr [0], "eos")->via.boolean, true);
    assert_int_equal (ds_mp_get (&sensors->via.array.ptr [0], "dropped")->via.u64, 3);
    assert_int_equal (ds_mp_get (&obj, "checkpoint")->type, MSGPACK_OBJECT_STR);
    //  The live fields: times as text, lag in ms, nil before any STATS.
    const msgpack_object *s0 = &sensors->via.array.ptr [0], *s1 = &sensors->via.array.ptr [1];
    const msgpack_object *t = ds_mp_get (s0, "last_batch");
    assert_true (t->type == MSGPACK_OBJECT_STR && t->via.str.size == 24
                 && memcmp (t->via.str.ptr, "2021-03-01T00:00:00.123Z", 24) == 0);
    assert_true (ds_mp_get (s0, "lag_ms")->via.f64 == 1.5);
    assert_int_equal (ds_mp_get (s0, "bad_time")->via.u64, 7);
    assert_int_equal (ds_mp_get (s1, "last_batch")->type, MSGPACK_OBJECT_NIL);
    assert_int_equal (ds_mp_get (s1, "lag_ms")->type, MSGPACK_OBJECT_NIL);
    assert_true (ds_mp_get (s1, "epoch")->via.u64 == 1614556800000000ULL);
    assert_int_equal (ds_mp_get (s1, "epochs")->via.u64, 2);
    const msgpack_object *ck = ds_mp_get (&obj, "checkpoints");
    assert_int_equal (ds_mp_get (ck, "failed")->via.u64, 2);
    assert_true (ds_mp_get (ck, "running")->via.boolean);
    assert_true (ds_mp_get (ck, "max_pause_ms")->via.f64 == 68.0);
    const msgpack_object *why = ds_mp_get (ck, "last_error");
    assert_true (why->type == MSGPACK_OBJECT_STR
                 && memmem (why->via.str.ptr, why->via.str.size, "No space left", 13));
    msgpack_zone_destroy (&zone);
    msgpack_sbuffer_destroy (&buf);
    ds_part_status_clear (&s);
}

//  DS_WRITE_SEEDS=DIR: the fuzz seeds of the partials that change with
//  the layout (tests/fuzz-corpus/fuzz_partial/overview.bin, status.bin,
//  range.bin).
static void
test_seeds (void **state)
{
    (void) state;
    const char *dir = getenv ("DS_WRITE_SEEDS");
    if (!dir)
        return;
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    ds_part_overview_t o;
    s_overview (&o);
    ds_part_status_t s;
    s_status (&s);
    ds_part_range_t r = s_range ();
    const char *names [] = { "overview.bin", "status.bin", "range.bin" };
    for (int i = 0; i < 3; i++) {
        assert_int_equal (i == 0 ? ds_part_overview_encode (&o, &buf)
                        : i == 1 ? ds_part_status_encode (&s, &buf)
                                 : ds_part_range_encode (&r, &buf), DS_OK);
        char path [512];
        snprintf (path, sizeof path, "%s/%s", dir, names [i]);
        FILE *f = fopen (path, "wb");
        assert_non_null (f);
        fwrite (buf.data, 1, buf.size, f);
        fclose (f);
    }
    ds_part_overview_clear (&o);
    ds_part_status_clear (&s);
    msgpack_sbuffer_destroy (&buf);
}

//  ---------------------------------------------------------------------
//  Hostile and wrong input

//  A hand-built OVERVIEW partial, valid unless a knob says otherwise.
typedef struct {
    int32_t first, last;
    uint32_t days;                  //  rows in the days table
    uint32_t window_extra;          //  bytes after the window pp row
    int32_t port;                   //  of the window pp row
    uint8_t proto;
    uint8_t eos;                    //  of the sensor row
    uint32_t classes;               //  declared
    uint32_t class_fields;
    const char *name;               //  of the class
    size_t name_len;
    uint32_t services;              //  declared for the class (one present)
    bool huge_bin;                  //  the histogram: a bin32 of 2^32-1 bytes
    bool huge_days;                 //  the days: a bin32 of 2^32-1 bytes
} s_knobs_t;

static s_knobs_t
s_knobs (void)
{
    return (s_knobs_t) { 100, 101, 2, 0, 80, DS_PROTO_TCP, 1, 1, 5, "censys", 6, 1, false, false };
}

static void
s_le (uint8_t *p, uint64_t v, int width)
{
    for (int i = 0; i < width; i++, v >>= 8)
        p [i] = (uint8_t) v;
}

static void
s_build (msgpack_sbuffer *buf, const s_knobs_t *k)
{
    msgpack_sbuffer_clear (buf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, buf, msgpack_sbuffer_write);
    msgpack_pack_array (&pk, 16);
    msgpack_pack_str_with_body (&pk, "DSK", 3);
    msgpack_pack_uint8 (&pk, 1);
    msgpack_pack_uint8 (&pk, DS_MSG_PART_OVERVIEW);
    msgpack_pack_str_with_body (&pk, "UTC", 3);
    msgpack_pack_int32 (&pk, k->first);
    msgpack_pack_int32 (&pk, k->last);
    msgpack_pack_uint8 (&pk, 2);
    msgpack_pack_uint8 (&pk, 1);
    uint8_t row [64] = { 0 };
    s_le (row, (uint32_t) k->port, 4);
    row [4] = k->proto;
    s_le (row + 5, 7, 8);
    msgpack_pack_bin_with_body (&pk, row, 13 + k->window_extra);
    msgpack_pack_bin (&pk, 0);                              //  last-day pps
    if (k->huge_bin) {
        msgpack_pack_bin (&pk, 0xffffffffu);               //  and nothing after
        return;
    }
    msgpack_pack_bin (&pk, 0);                              //  histogram
    if (k->huge_days) {
        msgpack_pack_bin (&pk, 0xffffffffu);
        return;
    }
    uint8_t days [32 * 8] = { 0 };
    msgpack_pack_bin_with_body (&pk, days, 32 * (size_t) k->days);
    msgpack_pack_array (&pk, k->classes);
    if (k->classes) {
        msgpack_pack_array (&pk, k->class_fields);
        msgpack_pack_str_with_body (&pk, k->name, k->name_len);
        msgpack_pack_uint8 (&pk, 1);
        msgpack_pack_uint8 (&pk, 1);
        msgpack_pack_bin (&pk, 0);
        msgpack_pack_array (&pk, k->services);
        msgpack_pack_array (&pk, 2);
        msgpack_pack_str_with_body (&pk, "telnet", 6);
        msgpack_pack_uint8 (&pk, 1);
    }
    msgpack_pack_uint8 (&pk, 0);                            //  gaps
    uint8_t sensor [45] = { 0 };
    sensor [4] = k->eos;
    msgpack_pack_bin_with_body (&pk, sensor, sizeof sensor);
    msgpack_pack_uint8 (&pk, 1);                            //  sensors_expected
}

static void
test_overview_hostile (void **state)
{
    (void) state;
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    char err [256];
    s_knobs_t k = s_knobs ();
    s_build (&buf, &k);
    assert_int_equal (s_decode (T_OVERVIEW, buf.data, buf.size, err, sizeof err), DS_OK);
    s_assert_truncations (T_OVERVIEW, &buf);

    struct { const char *what; s_knobs_t k; int rc; } cases [17];
    int n = 0;
#define CASE(text, field, value, result) \
    cases [n].what = text; cases [n].k = s_knobs (); cases [n].k.field = value; cases [n++].rc = result;
    CASE ("2^32-1 classes", classes, UINT32_MAX, DS_ERR_TOO_BIG)
    CASE ("65535 classes, one present", classes, DS_PART_CLASSES_MAX, DS_ERR_TRUNCATED)
    CASE ("2^20+1 services", services, DS_PART_SERVICES_MAX + 1, DS_ERR_TOO_BIG)
    CASE ("2^20 services, one present", services, DS_PART_SERVICES_MAX, DS_ERR_TRUNCATED)
    CASE ("a bin of 2^32-1 bytes", huge_bin, true, DS_ERR_TRUNCATED)
    CASE ("2^32-1 bytes of days", huge_days, true, DS_ERR_TOO_BIG)
    CASE ("class of 4 fields", class_fields, 4, DS_ERR_MALFORMED)
    CASE ("days short of the window", days, 1, DS_ERR_MALFORMED)
    CASE ("days beyond the window", days, 3, DS_ERR_MALFORMED)
    CASE ("first after last", first, 102, DS_ERR_MALFORMED)
    CASE ("window of 36600 days", first, 101 - DS_PART_DAYS_MAX, DS_ERR_TOO_BIG)
    CASE ("port 65536", port, 65536, DS_ERR_MALFORMED)
    CASE ("port -2", port, -2, DS_ERR_MALFORMED)
    CASE ("proto 5", proto, DS_PROTO_COUNT, DS_ERR_MALFORMED)
    CASE ("eos 2", eos, 2, DS_ERR_MALFORMED)
    CASE ("window pps not whole rows", window_extra, 1, DS_ERR_MALFORMED)
    CASE ("empty class name", name_len, 0, DS_ERR_MALFORMED)
#undef CASE
    for (int i = 0; i < n; i++) {
        s_build (&buf, &cases [i].k);
        err [0] = 0;
        int rc = s_decode (T_OVERVIEW, buf.data, buf.size, err, sizeof err);
        if (rc != cases [i].rc)
            fail_msg ("%s: %s (%s), want %s", cases [i].what, ds_result_str (rc), err,
                      ds_result_str (cases [i].rc));
        assert_true (strlen (err) > 0);
    }
    //  names: 63 bytes pass, 64 bytes and a NUL byte do not
    char name [DS_NAME_MAX + 1];
    memset (name, 'a', sizeof name);
    k = s_knobs ();
    k.name = name;
    k.name_len = DS_NAME_MAX - 1;
    s_build (&buf, &k);
    assert_int_equal (s_decode (T_OVERVIEW, buf.data, buf.size, err, sizeof err), DS_OK);
    k.name_len = DS_NAME_MAX;
    s_build (&buf, &k);
    assert_int_equal (s_decode (T_OVERVIEW, buf.data, buf.size, err, sizeof err), DS_ERR_MALFORMED);
    k.name = "cen\0sys";
    k.name_len = 7;
    s_build (&buf, &k);
    assert_int_equal (s_decode (T_OVERVIEW, buf.data, buf.size, err, sizeof err), DS_ERR_MALFORMED);
    msgpack_sbuffer_destroy (&buf);
}

//  Each decoder takes only its own type; the header is checked first.
static void
test_wrong_types (void **state)
{
    (void) state;
    msgpack_sbuffer bufs [5];
    for (int i = 0; i < 5; i++)
        msgpack_sbuffer_init (&bufs [i]);
    ds_part_req_t req = s_req_ppsrc ();
    ds_part_range_t range = s_range ();
    ds_part_overview_t o;
    s_overview (&o);
    ds_part_ppsrc_t p = s_ppsrc ();
    ds_part_status_t s;
    s_status (&s);
    assert_int_equal (ds_part_req_encode (&req, &bufs [T_REQ]), DS_OK);
    assert_int_equal (ds_part_range_encode (&range, &bufs [T_RANGE]), DS_OK);
    assert_int_equal (ds_part_overview_encode (&o, &bufs [T_OVERVIEW]), DS_OK);
    assert_int_equal (ds_part_ppsrc_encode (&p, &bufs [T_PPSRC]), DS_OK);
    assert_int_equal (ds_part_status_encode (&s, &bufs [T_STATUS]), DS_OK);
    char err [256];
    for (int data = 0; data < 5; data++)
        for (int as = 0; as < 5; as++)
            assert_int_equal (s_decode ((s_which_t) as, bufs [data].data, bufs [data].size, err, sizeof err),
                              data == as ? DS_OK : DS_ERR_TYPE);
    //  version and magic come first
    for (int i = 0; i < 5; i++) {
        uint8_t *copy = malloc (bufs [i].size);
        memcpy (copy, bufs [i].data, bufs [i].size);
        size_t head = copy [0] == 0xdc ? 3 : 1;    //  array16 or fixarray
        copy [head + 4] = 2;        //  version
        assert_int_equal (s_decode ((s_which_t) i, copy, bufs [i].size, err, sizeof err), DS_ERR_VERSION);
        copy [head + 4] = 1;
        copy [head + 1] = 'X';      //  magic
        assert_int_equal (s_decode ((s_which_t) i, copy, bufs [i].size, err, sizeof err), DS_ERR_MAGIC);
        free (copy);
    }
    for (int i = 0; i < 5; i++)
        msgpack_sbuffer_destroy (&bufs [i]);
    ds_part_overview_clear (&o);
    ds_part_status_clear (&s);
}

//  Requests: fields must fit their kind; at most 3 pps.
static void
test_req_errors (void **state)
{
    (void) state;
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    struct { ds_part_req_t r; } bad [] = {
        { { .kind = 0 } },
        { { .kind = DS_PART_STATUS + 1 } },
        { { .kind = DS_PART_RANGE, .first_day = 1, .last_day = 1 } },
        { { .kind = DS_PART_RANGE, .min_packets = 10 } },
        { { .kind = DS_PART_OVERVIEW, .first_day = 2, .last_day = 1 } },
        { { .kind = DS_PART_OVERVIEW, .first_day = 0, .last_day = DS_PART_DAYS_MAX } },
        { { .kind = DS_PART_OVERVIEW, .n_pps = 1 } },
        { { .kind = DS_PART_PPSRC, .min_packets = 1 } },
        { { .kind = DS_PART_PPSRC, .n_pps = 4 } },
        { { .kind = DS_PART_PPSRC, .n_pps = 1, .pps = { { .port = 70000 } } } },
        { { .kind = DS_PART_PPSRC, .n_pps = 1, .pps = { { .port = 1, .proto = 9 } } } },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_not_equal (ds_part_req_encode (&bad [i].r, &buf), DS_OK);

    //  The decoder refuses them too: hand-built, 4 pps rows, kind 9.
    char err [256];
    uint8_t rows [4 * 5] = { 0 };
    for (int variant = 0; variant < 3; variant++) {
        msgpack_sbuffer_clear (&buf);
        msgpack_packer pk;
        msgpack_packer_init (&pk, &buf, msgpack_sbuffer_write);
        msgpack_pack_array (&pk, 8);
        msgpack_pack_str_with_body (&pk, "DSK", 3);
        msgpack_pack_uint8 (&pk, 1);
        msgpack_pack_uint8 (&pk, DS_MSG_PART_REQ);
        msgpack_pack_uint8 (&pk, variant == 1 ? 9 : DS_PART_PPSRC);
        msgpack_pack_int32 (&pk, 1);
        msgpack_pack_int32 (&pk, variant == 2 ? 0 : 1);
        msgpack_pack_uint8 (&pk, 0);
        msgpack_pack_bin_with_body (&pk, rows, variant == 0 ? 20 : 5);
        int want = variant == 0 ? DS_ERR_TOO_BIG : DS_ERR_MALFORMED;
        assert_int_equal (s_decode (T_REQ, buf.data, buf.size, err, sizeof err), want);
    }
    msgpack_sbuffer_destroy (&buf);
}

//  Encoders refuse what decoders would refuse.
static void
test_encode_refusals (void **state)
{
    (void) state;
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    ds_part_overview_t o;
    s_overview (&o);
    o.n_days = 2;                   //  not the window's 3
    assert_int_equal (ds_part_overview_encode (&o, &buf), DS_ERR_MALFORMED);
    o.n_days = 3;
    o.window [1].port = 65536;
    assert_int_equal (ds_part_overview_encode (&o, &buf), DS_ERR_MALFORMED);
    o.window [1].port = DS_PORT_NONE;
    o.classes [1].name [0] = 0;
    assert_int_equal (ds_part_overview_encode (&o, &buf), DS_ERR_MALFORMED);
    snprintf (o.classes [1].name, sizeof o.classes [1].name, "unknown");
    uint32_t n = o.n_classes;
    o.n_classes = DS_PART_CLASSES_MAX + 1;
    assert_int_equal (ds_part_overview_encode (&o, &buf), DS_ERR_TOO_BIG);
    o.n_classes = n;
    assert_int_equal (ds_part_overview_encode (&o, &buf), DS_OK);
    ds_part_overview_clear (&o);

    ds_part_range_t r = s_range ();
    r.tz [0] = 0;
    assert_int_equal (ds_part_range_encode (&r, &buf), DS_ERR_MALFORMED);
    ds_part_status_t s;
    s_status (&s);
    snprintf (s.first_day, sizeof s.first_day, "2021-3-1");
    assert_int_equal (ds_part_status_encode (&s, &buf), DS_ERR_MALFORMED);
    ds_part_status_clear (&s);
    ds_part_ppsrc_t p = s_ppsrc ();
    p.n_pps = 4;
    assert_int_equal (ds_part_ppsrc_encode (&p, &buf), DS_ERR_TOO_BIG);
    msgpack_sbuffer_destroy (&buf);
}

//  The cursor's look-ahead: truncated vs a wrong byte.
static void
test_mpread_truncated (void **state)
{
    (void) state;
    struct { const char *bytes; size_t len; bool truncated; } cases [] = {
        { "", 0, true },
        { "\x01", 1, false },
        { "\xc1", 1, false },               //  never used: a wrong byte
        { "\xcd\x01", 2, true },            //  uint16 cut
        { "\xcd\x01\x02", 3, false },
        { "\xa3" "ab", 3, true },           //  fixstr 3, 2 bytes
        { "\xd9\x05" "abcde", 7, false },
        { "\xc4", 1, true },                //  bin8 without its length
        { "\xc6\xff\xff\xff\xff", 5, true },
        { "\x93\x01\x02", 3, true },        //  array of 3, 2 bytes
        { "\x82\x01\x02", 3, true },        //  map of 2, 2 bytes
        { "\xdc\x00\x02\x01\x02", 5, false },
        { "\xc7\x02\x01" "a", 4, true },    //  ext8 of 2 + type
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ds_mpread_t r;
        ds_mpread_init (&r, cases [i].bytes, cases [i].len);
        if (ds_mpread_truncated (&r) != cases [i].truncated)
            fail_msg ("case %zu", i);
    }
}

//  The reply's result must be a bin.
static void
test_result_bytes (void **state)
{
    (void) state;
    msgpack_object o = { .type = MSGPACK_OBJECT_BIN, .via.bin = { 3, "abc" } };
    const uint8_t *data;
    size_t size;
    assert_int_equal (ds_part_result_bytes (&o, &data, &size), DS_OK);
    assert_int_equal (size, 3);
    o.type = MSGPACK_OBJECT_STR;
    assert_int_equal (ds_part_result_bytes (&o, &data, &size), DS_ERR_MALFORMED);
    assert_int_equal (ds_part_result_bytes (NULL, &data, &size), DS_ERR_MALFORMED);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_req_roundtrip),
        cmocka_unit_test (test_range_ppsrc_roundtrip),
        cmocka_unit_test (test_overview_roundtrip),
        cmocka_unit_test (test_status_roundtrip),
        cmocka_unit_test (test_status_map),
        cmocka_unit_test (test_seeds),
        cmocka_unit_test (test_overview_hostile),
        cmocka_unit_test (test_wrong_types),
        cmocka_unit_test (test_req_errors),
        cmocka_unit_test (test_encode_refusals),
        cmocka_unit_test (test_mpread_truncated),
        cmocka_unit_test (test_result_bytes),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
