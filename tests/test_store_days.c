/*  libs: ds_query ds_aggregator ds_proto ds_common */
/*  test_store_days.c - the store's days: retention keeps memory flat
    once its window is full and counts late records it refuses, and stores
    in different time zones side by side each count their own days.
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
#include "store.h"
#include "merge.h"
#include "pattern.h"
#include "pattern_reply.h"
#include "zone_fixture.h"
#include "store_fixture.h"
#include "record.h"

//  Retention keeps memory flat: 90 days of the same daily traffic (a
//  recurring population plus sources new each day) through a store that
//  keeps 30 days: after day 90 the store holds about what it held after
//  day 30 (within 10 %), 30 days, and counts the late records it refused.
static void
test_retention_memory (void **state)
{
    (void) state;
    ds_store_t *store = ds_store_new (0, 1, fx_tz);
    assert_non_null (store);
    ds_store_set_retention (store, 30);
    ds_batch_t *b = ds_batch_new (4096);
    assert_non_null (b);
    const char *classes [] = { "unknown" };
    const char *services [] = { "telnet" };
    uint64_t seq = 0;
    size_t mem30 = 0;
    int64_t day0 = 1609459200LL * 1000000;          //  2021-01-01 UTC
    for (int day = 0; day < 90; day++) {
        for (int part = 0; part < 4; part++) {
            ds_batch_reset (b);
            for (int i = 0; i < 1000; i++) {
                int k = part * 1000 + i;
                //  Half recur every day, half are new each day.
                uint32_t id = k < 2000 ? (uint32_t) k : (uint32_t) (100000 + day * 2000 + k);
                uint8_t v4 [4] = { 10, (uint8_t) (id >> 16), (uint8_t) (id >> 8), (uint8_t) id };
                ds_record_t rec = { day0 + (int64_t) day * 86400000000LL + (int64_t) k * 20000000LL,
                                    { { 0 } }, 23 + k % 50, DS_PROTO_TCP, 0 };
                ds_addr_from_v4 (&rec.src, v4);
                assert_true (ds_batch_add (b, &rec));
            }
            assert_int_equal (ds_batch_set_dicts (b, classes, 1, services, 1), 0);
            b->sensor = 0;
            b->shard = 0;
            b->seq = seq++;
            assert_int_equal (ds_store_apply (store, b), 1);
        }
        if (day == 30)                              //  day 31 in: 30 days kept
            mem30 = ds_store_memory (store);
    }
    size_t mem90 = ds_store_memory (store);
    assert_true (mem90 * 10 <= mem30 * 11 && mem30 * 10 <= mem90 * 11);
    int32_t first, last;
    assert_true (ds_store_days (store, &first, &last));
    assert_int_equal (last - first + 1, 30);
    assert_int_equal (ds_store_sources (store), 2000 + 30 * 2000);
    //  A late record of an evicted day is counted, not added.
    ds_batch_reset (b);
    uint8_t v4 [4] = { 10, 9, 9, 9 };
    ds_record_t old = { day0, { { 0 } }, 80, DS_PROTO_TCP, 0 };
    ds_addr_from_v4 (&old.src, v4);
    assert_true (ds_batch_add (b, &old));
    assert_int_equal (ds_batch_set_dicts (b, classes, 1, services, 1), 0);
    b->seq = seq++;
    uint64_t sources = ds_store_sources (store);
    assert_int_equal (ds_store_apply (store, b), 1);
    assert_int_equal (ds_store_sources (store), sources);
    //  Retention set on a store that holds more days (a checkpoint of a
    //  longer retention, restored): the older days go at once.
    assert_int_equal (ds_store_set_retention (store, 10), 0);
    assert_true (ds_store_days (store, &first, &last));
    assert_int_equal (last - first + 1, 10);
    assert_int_equal (ds_store_sources (store), 2000 + 10 * 2000);
    printf ("# memory %zu after 90 days, %zu with 10 retained\n", mem90, ds_store_memory (store));
    assert_true (ds_store_memory (store) * 4 < mem90 * 3);     //  the days returned theirs
    ds_batch_destroy (&b);
    ds_store_destroy (&store);
}

//  Two stores in two zones at once, in one process: each counts days in
//  its own zone (there is no process-wide zone left for them to share).
static void
test_zones_side_by_side (void **state)
{
    (void) state;
    fx_zone ("Europe/Rome");
    const ds_tz_t *rome = fx_tz;
    fx_zone ("UTC");
    ds_store_t *in_utc = ds_store_new (0, 1, fx_tz), *in_rome = ds_store_new (0, 1, rome);
    ds_batch_t *batch = ds_batch_new (10);
    const char *cn [] = { "unknown" }, *sn [] = { "telnet" };
    ds_batch_set_dicts (batch, cn, 1, sn, 1);
    //  2021-03-30 23:30 UTC is 2021-03-31 01:30 in Rome.
    ds_record_t rec = { .ts = 1617147000LL * 1000000, .port = 23, .proto = DS_PROTO_TCP };
    assert_int_equal (ds_addr_parse (&rec.src, "192.0.2.1"), 0);
    assert_true (ds_batch_add (batch, &rec));
    assert_int_equal (ds_store_add_batch (in_utc, batch), 0);
    assert_int_equal (ds_store_add_batch (in_rome, batch), 0);
    int32_t first, last;
    char day [16];
    assert_true (ds_store_days (in_utc, &first, &last));
    ds_day_format (first, day);
    assert_string_equal (day, "2021-03-30");
    assert_true (ds_store_days (in_rome, &first, &last));
    ds_day_format (first, day);
    assert_string_equal (day, "2021-03-31");
    ds_batch_destroy (&batch);
    ds_store_destroy (&in_utc);
    ds_store_destroy (&in_rome);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_retention_memory),
        cmocka_unit_test (test_zones_side_by_side),
    };
    return cmocka_run_group_tests (tests, fx_zones_setup, fx_zones_free);
}
