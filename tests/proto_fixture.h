/*  proto_fixture.h - what the wire protocol's tests share (test_proto.c,
    test_proto_batch.c): a fixed-seed generator and random but valid
    batches, and a check that two batches are equal.  Header only (static
    inline), included after cmocka.h.
*/
#ifndef PROTO_FIXTURE_H
#define PROTO_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include "ds_proto.h"

static uint64_t fx_rng = 0x9e3779b97f4a7c15ull;

static inline uint64_t
fx_rand (void)
{
    //  splitmix64, fixed seed: the same inputs on every run
    uint64_t z = (fx_rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static const char *fx_classes [] = { "unknown", "mirai", "censys", "stretchoid", "engin-umich" };
static const char *fx_services [] = { "telnet", "ssh", "http", "icmp", "unk_sys", "unk_usr", "unk_eph" };
#define FX_N_CLASSES  (sizeof fx_classes / sizeof *fx_classes)
#define FX_N_SERVICES (sizeof fx_services / sizeof *fx_services)

//  A batch of count random but valid records.
static inline ds_batch_t *
fx_make_batch (uint32_t count, bool labelled)
{
    ds_batch_t *batch = ds_batch_new (count ? count : 1);
    assert_non_null (batch);
    batch->sensor = 7;
    batch->shard = 3;
    batch->seq = 0x123456789abcull;
    if (labelled)
        assert_int_equal (ds_batch_set_dicts (batch, fx_classes, FX_N_CLASSES, fx_services, FX_N_SERVICES), 0);
    for (uint32_t i = 0; i < count; i++) {
        ds_record_t rec;
        uint64_t r = fx_rand ();
        rec.ts = (int64_t) (fx_rand () >> 1) * (r & 1 ? -1 : 1);
        for (int b = 0; b < 16; b += 8) {
            uint64_t v = fx_rand ();
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
            batch->class_id [i] = (uint16_t) ((r >> 40) % FX_N_CLASSES);
            batch->service_id [i] = (uint16_t) ((r >> 48) % FX_N_SERVICES);
        }
    }
    return batch;
}

static inline void
fx_assert_batch_equal (const ds_batch_t *a, const ds_batch_t *b)
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

//  A batch as a telescope sends it: timestamps rising by at most 1 ms,
//  IPv4 sources but every 50th, ports < 1024 or -1, flags < 16.
static inline ds_batch_t *
fx_make_real_batch (uint32_t count, bool labelled)
{
    ds_batch_t *batch = fx_make_batch (count, labelled);
    int64_t ts = 1614556800000000LL;
    for (uint32_t i = 0; i < count; i++) {
        uint64_t r = fx_rand ();
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

#endif
