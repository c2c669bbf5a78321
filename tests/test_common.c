/*  libs: ds_proto ds_common */
/*  test_common.c - records, addresses, days, options. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "record.h"
#include "batch.h"
#include "tzday.h"
#include "opts.h"
#include <stdlib.h>

static void
test_addr_roundtrip (void **state)
{
    (void) state;
    const char *texts [] = { "192.0.2.1", "2001:db8::1", "::1", "255.255.255.255", "2001:db8:0:1:1:1:1:1" };
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        ds_addr_t a;
        char buf [64];
        assert_int_equal (ds_addr_parse (&a, texts [i]), 0);
        assert_string_equal (ds_addr_format (&a, buf, sizeof buf), texts [i]);
    }
    ds_addr_t a;
    assert_int_equal (ds_addr_parse (&a, "src_ipaddr1"), -1);
    assert_int_equal (ds_addr_parse (&a, "1.2.3.256"), -1);
}

static void
test_token_mapping (void **state)
{
    (void) state;
    ds_addr_t a, b, c;
    ds_addr_from_token (&a, "src_ipaddr1", 11);
    ds_addr_from_token (&b, "src_ipaddr1", 11);
    ds_addr_from_token (&c, "src_ipaddr2", 11);
    assert_int_equal (ds_addr_cmp (&a, &b), 0);
    assert_int_not_equal (ds_addr_cmp (&a, &c), 0);
    char buf [64];
    ds_addr_format (&a, buf, sizeof buf);
    assert_int_equal (strncmp (buf, "100::", 5), 0);
}

static void
test_pp_and_proto (void **state)
{
    (void) state;
    char buf [32];
    ds_pp_format (buf, sizeof buf, 23, ds_proto_from_ipproto (6));
    assert_string_equal (buf, "23/TCP");
    ds_pp_format (buf, sizeof buf, DS_PORT_NONE, ds_proto_from_ipproto (58));
    assert_string_equal (buf, "-/ICMP");
    ds_pp_format (buf, sizeof buf, 445, ds_proto_from_ipproto (132));
    assert_string_equal (buf, "445/OTH");
    assert_int_equal (ds_proto_from_ipproto (47), DS_PROTO_GRE);
}

//  Day text both ways (the zone's part, which day a time falls on: test_tz).
static void
test_day_text (void **state)
{
    (void) state;
    int32_t day;
    char buf [32];
    assert_int_equal (ds_day_parse ("2021-03-31", &day), 0);
    ds_day_format (day, buf);
    assert_string_equal (buf, "2021-03-31");
    assert_int_equal (day, 18717);
    assert_int_equal (ds_day_parse ("20210331", &day), 0);
    assert_int_equal (day, 18717);
    assert_int_equal (ds_day_parse ("2021-02-30", &day), -1);
    assert_int_equal (ds_day_parse ("2021-03-31x", &day), -1);
}

static void
test_shard_stable (void **state)
{
    (void) state;
    ds_addr_t a;
    ds_addr_parse (&a, "198.51.100.7");
    uint32_t s = ds_addr_shard (&a, 4);
    assert_true (s < 4);
    assert_int_equal (ds_addr_shard (&a, 4), s);
    assert_int_equal (ds_addr_shard (&a, 1), 0);
}

//  The definition of the shard hash, written plainly: FNV-1a over the 16
//  bytes, a final mix, modulo the count.  ds_addr_shard's shortcuts (IPv4
//  prefix state, mask for powers of two) must give the same, bit for bit.
static uint32_t
plain_shard (const ds_addr_t *addr, uint32_t shards)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (int i = 0; i < 16; i++) {
        h ^= addr->b [i];
        h *= 0x100000001b3ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return (uint32_t) (h % shards);
}

static void
test_shard_definition (void **state)
{
    (void) state;
    //  Pinned values: a source's shard is part of every checkpoint and
    //  deployment, it must never move (computed independently in Python).
    static const struct { const char *ip; uint32_t shard [6]; } pinned [] = {
        { "198.51.100.7", { 1, 2, 3, 5, 51, 5402 } },
        { "10.0.0.1", { 0, 1, 0, 4, 160, 8632 } },
        { "2001:db8::1", { 1, 0, 3, 1, 227, 1656 } },
        { "100::1234:5678:9abc:def0", { 1, 1, 3, 0, 19, 5491 } },
    };
    static const uint32_t counts [6] = { 2, 3, 4, 7, 256, 9999 };
    for (size_t i = 0; i < sizeof pinned / sizeof pinned [0]; i++) {
        ds_addr_t a;
        assert_int_equal (ds_addr_parse (&a, pinned [i].ip), 0);
        for (int k = 0; k < 6; k++)
            assert_int_equal (ds_addr_shard (&a, counts [k]), pinned [i].shard [k]);
    }
    //  Many addresses of both families, many counts, against the definition.
    uint64_t x = 88172645463325252ULL;
    for (int n = 0; n < 200000; n++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        ds_addr_t a;
        uint8_t bytes [16];
        for (int i = 0; i < 16; i++)
            bytes [i] = (uint8_t) (x >> (8 * (i % 8))) ^ (uint8_t) i;
        if (n % 3)
            ds_addr_from_v4 (&a, bytes);
        else
            ds_addr_from_v6 (&a, bytes);
        uint32_t shards = 2 + (uint32_t) (x >> 40) % 300;
        assert_int_equal (ds_addr_shard (&a, shards), plain_shard (&a, shards));
        assert_int_equal (ds_addr_shard (&a, 64), plain_shard (&a, 64));
    }
}

static void
test_batch (void **state)
{
    (void) state;
    ds_batch_t *b = ds_batch_new (2);
    ds_record_t r = { .ts = 7, .port = 23, .proto = DS_PROTO_TCP, .flags = DS_FLAG_MIRAI };
    assert_true (ds_batch_add (b, &r));
    assert_true (ds_batch_add (b, &r));
    assert_false (ds_batch_add (b, &r));
    const char *classes [] = { "unknown", "censys" };
    const char *services [] = { "telnet" };
    assert_int_equal (ds_batch_set_dicts (b, classes, 2, services, 1), 0);
    assert_string_equal (b->class_names [1], "censys");
    ds_batch_destroy (&b);
    assert_null (b);
    ds_batch_destroy (&b);
}

//  A list flag splits on ',' as its DARKSCOPE_* variable does; a flag
//  replaces the variable's values; positional words are never split.
static void
test_opts_lists (void **state)
{
    (void) state;
    ds_strlist_t inputs = { 0 }, shards = { 0 }, words = { 0 };
    const char *name = NULL;
    const ds_opt_t opts [] = {
        { "input", DS_OPT_LIST, &inputs, "E", "inputs" },
        { "shard-endpoint", DS_OPT_LIST, &shards, "E", "shards" },
        { "name", DS_OPT_STRING, &name, "N", "a string, not split" },
        { NULL }
    };
    char var [128];
    ds_opts_env_name ("test", "shard-endpoint", var, sizeof var);
    setenv (var, "tcp://x:1,,tcp://y:2", 1);
    char *argv [] = { "prog", "--input", "tcp://a:5550,tcp://b:5550",
                      "--input=tcp://c:5550", "--name", "a,b", "w,1", NULL };
    assert_int_equal (ds_opts_parse (7, argv, 1, "test", opts, "usage", &words), 0);
    assert_int_equal (inputs.count, 3);
    assert_string_equal (inputs.items [0], "tcp://a:5550");
    assert_string_equal (inputs.items [1], "tcp://b:5550");
    assert_string_equal (inputs.items [2], "tcp://c:5550");
    assert_int_equal (shards.count, 2);
    assert_string_equal (shards.items [1], "tcp://y:2");
    assert_string_equal (name, "a,b");
    assert_int_equal (words.count, 1);
    assert_string_equal (words.items [0], "w,1");
    char *argv2 [] = { "prog", "--shard-endpoint", "tcp://z:3,tcp://w:4", NULL };
    shards.count = 0;
    assert_int_equal (ds_opts_parse (3, argv2, 1, "test", opts, "usage", NULL), 0);
    assert_int_equal (shards.count, 2);
    assert_string_equal (shards.items [0], "tcp://z:3");
    assert_string_equal (shards.items [1], "tcp://w:4");
    unsetenv (var);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_addr_roundtrip),
        cmocka_unit_test (test_token_mapping),
        cmocka_unit_test (test_pp_and_proto),
        cmocka_unit_test (test_day_text),
        cmocka_unit_test (test_shard_stable),
        cmocka_unit_test (test_shard_definition),
        cmocka_unit_test (test_batch),
        cmocka_unit_test (test_opts_lists),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
