/*  libs: ds_proto */
/*  test_stats.c - the STATS message (stats_codec.c) and the EOS fields
    that came with it: round trips at the edges of every field, the byte
    layout PROTOCOL.md documents (read back with msgpack-c, not our
    decoder), every truncation, one-byte damage, wrong header, trailing
    bytes, out-of-range sensor and shard.  Writes the fuzz seeds when
    DS_WRITE_SEEDS names a directory.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "ds_proto.h"

static const ds_stats_t s_cases [] = {
    { 0 },
    { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 },
    { UINT32_MAX, DS_SHARDS_MAX - 1, UINT64_MAX, INT64_MIN, UINT64_MAX, UINT64_MAX - 1,
      1ull << 40, 255, 65536, UINT64_MAX, 1ull << 32, (1ull << 32) - 1 },
    { 7, 0, 1700000000123456ull, -1, 0, 0, 0, 0, 0, 0, 0, 0 },
};

static void
test_roundtrip (void **state)
{
    (void) state;
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    for (size_t i = 0; i < sizeof s_cases / sizeof *s_cases; i++) {
        assert_int_equal (ds_stats_encode (&s_cases [i], &buf), DS_OK);
        int type;
        assert_int_equal (ds_msg_peek ((const uint8_t *) buf.data, buf.size, &type), DS_OK);
        assert_int_equal (type, DS_MSG_STATS);
        ds_stats_t back;
        memset (&back, 0xaa, sizeof back);
        assert_int_equal (ds_stats_decode ((const uint8_t *) buf.data, buf.size, &back), DS_OK);
        assert_memory_equal (&back, &s_cases [i], sizeof back);
        //  Not an EOS, nor a batch.
        ds_eos_t eos;
        assert_int_equal (ds_eos_decode ((const uint8_t *) buf.data, buf.size, &eos), DS_ERR_TYPE);
    }
    //  EOS with its two new fields.
    ds_eos_t eos = { 1, 2, 3, 4, 5, 6, 7, 8, UINT64_MAX, 1700000000123456ull }, back;
    assert_int_equal (ds_eos_encode (&eos, &buf), DS_OK);
    assert_int_equal (ds_eos_decode ((const uint8_t *) buf.data, buf.size, &back), DS_OK);
    assert_memory_equal (&back, &eos, sizeof back);
    ds_stats_t stats;
    assert_int_equal (ds_stats_decode ((const uint8_t *) buf.data, buf.size, &stats), DS_ERR_TYPE);
    msgpack_sbuffer_destroy (&buf);
}

//  The layout of PROTOCOL.md, read with msgpack-c's own unpacker.
static void
test_layout (void **state)
{
    (void) state;
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    const ds_stats_t *s = &s_cases [2];
    assert_int_equal (ds_stats_encode (s, &buf), DS_OK);
    msgpack_unpacked msg;
    msgpack_unpacked_init (&msg);
    size_t off = 0;
    assert_int_equal (msgpack_unpack_next (&msg, buf.data, buf.size, &off), MSGPACK_UNPACK_SUCCESS);
    assert_int_equal (off, buf.size);
    const msgpack_object *o = &msg.data;
    assert_int_equal (o->type, MSGPACK_OBJECT_ARRAY);
    assert_int_equal (o->via.array.size, 15);
    const msgpack_object *a = o->via.array.ptr;
    assert_int_equal (a [0].type, MSGPACK_OBJECT_STR);
    assert_memory_equal (a [0].via.str.ptr, "DSK", 3);
    assert_int_equal (a [1].via.u64, 1);
    assert_int_equal (a [2].via.u64, 12);
    assert_int_equal (a [3].via.u64, s->sensor);
    assert_int_equal (a [4].via.u64, s->shard);
    assert_int_equal (a [5].via.u64, s->epoch);
    assert_int_equal (a [6].type, MSGPACK_OBJECT_NEGATIVE_INTEGER);
    assert_true (a [6].via.i64 == s->sent_us);
    const uint64_t rest [] = { s->batches, s->records, s->packets_read, s->non_ip, s->malformed,
                               s->bad_time, s->dropped, s->pcap_dropped };
    for (int i = 0; i < 8; i++)
        assert_true (a [7 + i].via.u64 == rest [i]);
    msgpack_unpacked_destroy (&msg);
    msgpack_sbuffer_destroy (&buf);
}

static void
test_hostile (void **state)
{
    (void) state;
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    assert_int_equal (ds_stats_encode (&s_cases [1], &buf), DS_OK);
    ds_stats_t stats;
    //  Every proper prefix: refused (truncated, or malformed where the cut
    //  falls inside the header), read from an exact-size copy.
    for (size_t len = 0; len < buf.size; len++) {
        uint8_t *copy = malloc (len ? len : 1);
        memcpy (copy, buf.data, len);
        int rc = ds_stats_decode (copy, len, &stats);
        assert_true (rc == DS_ERR_TRUNCATED || rc == DS_ERR_MALFORMED);
        free (copy);
    }
    //  One trailing byte.
    char *longer = malloc (buf.size + 1);
    memcpy (longer, buf.data, buf.size);
    longer [buf.size] = 0;
    assert_int_equal (ds_stats_decode ((const uint8_t *) longer, buf.size + 1, &stats), DS_ERR_MALFORMED);
    free (longer);
    //  Every byte replaced by every value: a known result, never a crash;
    //  what decodes re-encodes to the same bytes.
    uint8_t *copy = malloc (buf.size);
    msgpack_sbuffer again;
    msgpack_sbuffer_init (&again);
    for (size_t at = 0; at < buf.size; at++)
        for (int v = 0; v < 256; v++) {
            memcpy (copy, buf.data, buf.size);
            copy [at] = (uint8_t) v;
            int rc = ds_stats_decode (copy, buf.size, &stats);
            assert_true (rc <= DS_OK && rc >= DS_ERR_TRUNCATED);
            if (rc == DS_OK) {
                assert_true (stats.shard < DS_SHARDS_MAX);
                assert_int_equal (ds_stats_encode (&stats, &again), DS_OK);
            }
        }
    free (copy);
    msgpack_sbuffer_destroy (&again);
    //  Shard out of range, sensor above 32 bits, wrong field count, negative counter.
    msgpack_packer pk;
    static const struct { int field; int64_t value; } bad [] = {
        { 4, DS_SHARDS_MAX }, { 3, (int64_t) UINT32_MAX + 1 }, { 7, -1 }, { -1, 0 }
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        msgpack_sbuffer_clear (&buf);
        msgpack_packer_init (&pk, &buf, msgpack_sbuffer_write);
        msgpack_pack_array (&pk, bad [i].field < 0 ? 14 : 15);
        msgpack_pack_str_with_body (&pk, "DSK", 3);
        msgpack_pack_uint8 (&pk, 1);
        msgpack_pack_uint8 (&pk, DS_MSG_STATS);
        for (int f = 3; f < (bad [i].field < 0 ? 14 : 15); f++)
            msgpack_pack_int64 (&pk, f == bad [i].field ? bad [i].value : 1);
        assert_int_equal (ds_stats_decode ((const uint8_t *) buf.data, buf.size, &stats),
                          DS_ERR_MALFORMED);
    }
    //  Another magic, version, type.
    static const struct { const char *magic; int version, type, rc; } headers [] = {
        { "DSX", 1, DS_MSG_STATS, DS_ERR_MAGIC }, { "DSK", 2, DS_MSG_STATS, DS_ERR_VERSION },
        { "DSK", 1, 99, DS_ERR_TYPE }, { "DSK", 1, DS_MSG_EOS, DS_ERR_TYPE },
    };
    for (size_t i = 0; i < sizeof headers / sizeof *headers; i++) {
        msgpack_sbuffer_clear (&buf);
        msgpack_packer_init (&pk, &buf, msgpack_sbuffer_write);
        msgpack_pack_array (&pk, 15);
        msgpack_pack_str_with_body (&pk, headers [i].magic, 3);
        msgpack_pack_uint8 (&pk, (uint8_t) headers [i].version);
        msgpack_pack_uint8 (&pk, (uint8_t) headers [i].type);
        for (int f = 3; f < 15; f++)
            msgpack_pack_uint8 (&pk, 1);
        assert_int_equal (ds_stats_decode ((const uint8_t *) buf.data, buf.size, &stats),
                          headers [i].rc);
    }
    msgpack_sbuffer_destroy (&buf);
}

//  DS_WRITE_SEEDS=DIR: the fuzz seeds (tests/fuzz-corpus/fuzz_stats).
static void
test_seeds (void **state)
{
    (void) state;
    const char *dir = getenv ("DS_WRITE_SEEDS");
    if (!dir)
        return;
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    for (size_t i = 0; i < sizeof s_cases / sizeof *s_cases; i++) {
        assert_int_equal (ds_stats_encode (&s_cases [i], &buf), DS_OK);
        char path [512];
        snprintf (path, sizeof path, "%s/stats%zu.bin", dir, i);
        FILE *f = fopen (path, "wb");
        assert_non_null (f);
        fwrite (buf.data, 1, buf.size, f);
        fclose (f);
    }
    msgpack_sbuffer_destroy (&buf);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_roundtrip),
        cmocka_unit_test (test_layout),
        cmocka_unit_test (test_hostile),
        cmocka_unit_test (test_seeds),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
