/*  libs: ds_query ds_aggregator ds_proto ds_common */
/*  test_store_checkpoint.c - a store saved and loaded back: the same
    answers, the same streams (the newest record's time too), a loaded store
    that keeps working; a version 5 checkpoint still loads; another shard,
    shard count or zone, damage, truncation, garbage and an old version are
    refused, naming the file.
*/
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
#include <zlib.h>
#include "store.h"
#include "merge.h"
#include "pattern.h"
#include "pattern_reply.h"
#include "zone_fixture.h"
#include "store_fixture.h"
#include "record.h"

static void
s_write_file (const char *path, const void *data, size_t size)
{
    FILE *f = fopen (path, "wb");
    assert_non_null (f);
    assert_int_equal (fwrite (data, 1, size, f), size);
    fclose (f);
}

static void
test_checkpoint (void **state)
{
    (void) state;
    fx_zone ("Europe/Rome");
    fx_generate (8);
    ds_store_t *stores [2];
    fx_stores (stores, 2);
    char dir [64];
    assert_int_equal (fx_scratch_make (dir, sizeof dir, "ds_ckpt"), 0);
    char path [256], bad [256], err [512];
    snprintf (path, sizeof path, "%s/shard1.ckpt", dir);
    snprintf (bad, sizeof bad, "%s/bad.ckpt", dir);
    assert_int_equal (ds_store_save (stores [1], path, err, sizeof err), 0);
    ds_store_t *loaded = ds_store_load (path, 1, 2, fx_tz, err, sizeof err);
    if (!loaded)
        fprintf (stderr, "%s\n", err);
    assert_non_null (loaded);
    ds_query_t q;
    fx_query_init (&q, "overview");
    ds_store_t *pair [2] = { stores [0], loaded };
    msgpack_sbuffer *a = fx_run (stores, 2, &q, err, sizeof err);
    msgpack_sbuffer *b = fx_run (pair, 2, &q, err, sizeof err);
    assert_int_equal (a->size, b->size);
    assert_memory_equal (a->data, b->data, a->size);
    msgpack_sbuffer_free (b);
    //  Its stream comes back as it was, with the time of its newest record
    //  (status's data lag: known at once after a restart, not only once
    //  new data arrive).
    int64_t newest = 0;
    for (int i = 0; i < fx_nrec; i++)
        if (ds_addr_shard (&fx_addr [fx_recs [i].src], 2) == 1 && fx_recs [i].ts > newest)
            newest = fx_recs [i].ts;
    ds_store_stream_t was, now;
    assert_int_equal (ds_store_streams (stores [1], &was, 1), 1);
    assert_int_equal (ds_store_streams (loaded, &now, 1), 1);
    assert_true (newest > 0);
    assert_int_equal (was.newest_us, newest);
    assert_int_equal (now.newest_us, newest);
    assert_int_equal (now.sensor, was.sensor);
    assert_int_equal (now.batches, was.batches);
    assert_int_equal (now.records, was.records);
    assert_int_equal (now.last_batch_us, was.last_batch_us);
    //  The loaded store keeps working: add the same traffic again to both.
    uint64_t seq = 1000;
    fx_feed (loaded, 1, 2, 9, &seq, 0, 500);
    seq = 1000;
    fx_feed (stores [1], 1, 2, 9, &seq, 0, 500);
    msgpack_sbuffer_free (a);
    a = fx_run (stores, 2, &q, err, sizeof err);
    b = fx_run (pair, 2, &q, err, sizeof err);
    assert_int_equal (a->size, b->size);
    assert_memory_equal (a->data, b->data, a->size);
    msgpack_sbuffer_free (a);
    msgpack_sbuffer_free (b);
    ds_store_destroy (&loaded);

    //  Refusals: another shard, another shard count, another zone.
    assert_null (ds_store_load (path, 0, 2, fx_tz, err, sizeof err));
    assert_non_null (strstr (err, path));
    assert_non_null (strstr (err, "shard 1 of 2"));
    assert_null (ds_store_load (path, 1, 4, fx_tz, err, sizeof err));
    fx_zone ("UTC");
    assert_null (ds_store_load (path, 1, 2, fx_tz, err, sizeof err));
    assert_non_null (strstr (err, "time zone"));
    fx_zone ("Europe/Rome");
    //  A flipped byte anywhere, a truncated file, garbage, missing file.
    //  And an older version (2: no missing seq ranges), named as such.
    FILE *f = fopen (path, "rb");
    fseek (f, 0, SEEK_END);
    size_t size = (size_t) ftell (f);
    fseek (f, 0, SEEK_SET);
    uint8_t *data = malloc (size);
    assert_int_equal (fread (data, 1, size, f), size);
    fclose (f);
    size_t offsets [] = { 0, 9, size / 3, size / 2, size - 1 };
    for (size_t i = 0; i < sizeof offsets / sizeof *offsets; i++) {
        data [offsets [i]] ^= 0x40;
        s_write_file (bad, data, size);
        data [offsets [i]] ^= 0x40;
        assert_null (ds_store_load (bad, 1, 2, fx_tz, err, sizeof err));
        assert_non_null (strstr (err, bad));
    }
    uint32_t version, old_version = 2;
    memcpy (&version, data + 8, 4);                     //  after the magic
    assert_int_equal (version, 6);
    memcpy (data + 8, &old_version, 4);
    s_write_file (bad, data, size);
    memcpy (data + 8, &version, 4);
    assert_null (ds_store_load (bad, 1, 2, fx_tz, err, sizeof err));
    assert_non_null (strstr (err, bad));
    assert_non_null (strstr (err, "version 2 (want 6)"));
    //  Version 5 (no newest times: the body without its last 4 + 8 bytes,
    //  one stream) still loads, the newest time unknown (0) until data come.
    uint8_t head [32];                                  //  magic, 4 x u32, u64 body length
    memcpy (head, data, sizeof head);
    uint64_t body_len;
    memcpy (&body_len, data + 24, 8);
    size_t header = size - body_len;
    uint32_t v5 = 5, n_newest, crc;
    memcpy (&n_newest, data + size - 12, 4);
    assert_int_equal (n_newest, 1);
    body_len -= 12;
    crc = (uint32_t) crc32 (crc32 (0, Z_NULL, 0), data + header, (uInt) body_len);
    memcpy (data + 8, &v5, 4);
    memcpy (data + 20, &crc, 4);
    memcpy (data + 24, &body_len, 8);
    s_write_file (bad, data, size - 12);
    loaded = ds_store_load (bad, 1, 2, fx_tz, err, sizeof err);
    if (!loaded)
        fprintf (stderr, "%s\n", err);
    assert_non_null (loaded);
    assert_int_equal (ds_store_streams (loaded, &now, 1), 1);
    assert_int_equal (now.newest_us, 0);
    assert_int_equal (now.records, was.records);
    ds_store_destroy (&loaded);
    memcpy (data, head, sizeof head);
    s_write_file (bad, data, size - 7);
    assert_null (ds_store_load (bad, 1, 2, fx_tz, err, sizeof err));
    assert_non_null (strstr (err, "truncated"));
    s_write_file (bad, data, 40);
    assert_null (ds_store_load (bad, 1, 2, fx_tz, err, sizeof err));
    s_write_file (bad, "hello world, not a checkpoint at all", 36);
    assert_null (ds_store_load (bad, 1, 2, fx_tz, err, sizeof err));
    unlink (bad);
    assert_null (ds_store_load (bad, 1, 2, fx_tz, err, sizeof err));
    assert_non_null (strstr (err, "cannot open"));
    free (data);
    assert_int_equal (fx_scratch_remove (dir), 0);
    ds_store_destroy (&stores [0]);
    ds_store_destroy (&stores [1]);
    fx_zone ("UTC");
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_checkpoint),
    };
    return cmocka_run_group_tests (tests, fx_zones_setup, fx_zones_free);
}
