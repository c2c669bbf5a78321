/*  libs: ds_proto ds_common */
/*  test_pattern_codec.c - the activity-pattern messages (pattern_codec.h):
    every op of both messages round-trips, every truncation and every
    hostile count is refused without reading past the input, key order and
    hash are fixed, deflated cells add up exactly and bombs are refused,
    and the query arguments width/height/limit/offset keep their bounds. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <zlib.h>
#include "pattern_codec.h"

static uint64_t s_rng = 0x2545f4914f6cdd1dull;

static uint64_t
s_rand (void)
{
    uint64_t z = (s_rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void
s_random_keys (uint8_t *wire, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        ds_pattern_key_t k;
        k.major = (int64_t) s_rand ();
        for (int b = 0; b < 16; b += 8) {
            uint64_t v = s_rand ();
            memcpy (k.addr + b, &v, 8);
        }
        k.minor = (int64_t) s_rand ();
        ds_pattern_key_put (wire + (size_t) i * DS_PATTERN_KEY_SIZE, &k);
    }
}

static ds_pattern_req_t
s_req (int op, uint32_t n_keys, const uint8_t *keys)
{
    ds_pattern_req_t r = { .op = op };
    r.sel.first_day = 18688;
    r.sel.last_day = 18717;
    r.sel.from_us = INT64_MIN;
    r.sel.to_us = 1617235200000000LL;
    r.sel.bin_s = 600;
    strcpy (r.sel.class_name, "stretchoid");
    r.n_keys = n_keys;
    r.keys = keys;
    if (op == DS_PATTERN_SELECT)
        r.per = 8;
    if (op == DS_PATTERN_RASTER) {
        r.width = 640;
        r.height = n_keys + 1;
    }
    if (op == DS_PATTERN_SAMPLE) {
        r.space = DS_PATTERN_SPACE_POINTS;
        r.limit = 1000;
    }
    return r;
}

static void
s_req_equal (const ds_pattern_req_t *a, const ds_pattern_req_t *b)
{
    assert_int_equal (a->op, b->op);
    assert_memory_equal (&a->sel, &b->sel, sizeof a->sel);
    assert_int_equal (a->space, b->space);
    assert_int_equal (a->per, b->per);
    assert_int_equal (a->width, b->width);
    assert_int_equal (a->height, b->height);
    assert_int_equal (a->limit, b->limit);
    assert_int_equal (a->n_keys, b->n_keys);
    if (a->n_keys)
        assert_memory_equal (a->keys, b->keys, (size_t) a->n_keys * DS_PATTERN_KEY_SIZE);
}

static void
s_part_equal (const ds_pattern_part_t *a, const ds_pattern_part_t *b)
{
    assert_int_equal (a->op, b->op);
    assert_true (a->generation == b->generation && a->sources == b->sources && a->points == b->points);
    assert_int_equal (a->width, b->width);
    assert_int_equal (a->height, b->height);
    assert_int_equal (a->cell_bytes, b->cell_bytes);
    assert_int_equal (a->n_counts, b->n_counts);
    assert_int_equal (a->n_keys, b->n_keys);
    assert_int_equal (a->data_size, b->data_size);
    if (a->n_counts)
        assert_memory_equal (a->counts, b->counts, (size_t) a->n_counts * 8);
    if (a->n_keys)
        assert_memory_equal (a->keys, b->keys, (size_t) a->n_keys * DS_PATTERN_KEY_SIZE);
    if (a->data_size)
        assert_memory_equal (a->data, b->data, a->data_size);
}

//  Every proper prefix of a valid message is refused as truncated (and read within bounds:
//  each prefix is a fresh allocation of exactly its size, for ASan).
static void
s_truncations (const msgpack_sbuffer *buf, bool request)
{
    for (size_t n = 0; n < buf->size; n++) {
        uint8_t *copy = malloc (n ? n : 1);
        memcpy (copy, buf->data, n);
        char err [200] = "";
        int rc;
        if (request) {
            ds_pattern_req_t r;
            rc = ds_pattern_req_decode (copy, n, &r, err, sizeof err);
        }
        else {
            ds_pattern_part_t p;
            rc = ds_pattern_part_decode (copy, n, &p, err, sizeof err);
        }
        if (rc != DS_ERR_TRUNCATED)
            fprintf (stderr, "prefix of %zu of %zu bytes: %d (%s)\n", n, buf->size, rc, err);
        assert_int_equal (rc, DS_ERR_TRUNCATED);
        assert_true (err [0] != 0);
        free (copy);
    }
}

static void
test_request_roundtrip (void **state)
{
    (void) state;
    static uint8_t keys [2 * DS_PATTERN_BRACKETS_MAX * DS_PATTERN_KEY_SIZE];
    s_random_keys (keys, 2 * DS_PATTERN_BRACKETS_MAX);
    struct { int op; uint32_t n; } cases [] = {
        { DS_PATTERN_SUMMARY, 0 }, { DS_PATTERN_SELECT, 2 }, { DS_PATTERN_SELECT, 2 * DS_PATTERN_BRACKETS_MAX },
        { DS_PATTERN_RANK, 0 }, { DS_PATTERN_RANK, 5 }, { DS_PATTERN_RASTER, 0 }, { DS_PATTERN_RASTER, 359 },
        { DS_PATTERN_SAMPLE, 2 },
    };
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        ds_pattern_req_t r = s_req (cases [c].op, cases [c].n, keys), back;
        if (cases [c].n == 2 * DS_PATTERN_BRACKETS_MAX)
            r.per = DS_PATTERN_SELECT_KEYS_MAX / DS_PATTERN_BRACKETS_MAX;
        assert_int_equal (ds_pattern_req_encode (&r, &buf), DS_OK);
        char err [200] = "";
        assert_int_equal (ds_pattern_req_decode ((const uint8_t *) buf.data, buf.size, &back, err, sizeof err), DS_OK);
        s_req_equal (&r, &back);
        int type;
        assert_int_equal (ds_msg_peek ((const uint8_t *) buf.data, buf.size, &type), DS_OK);
        assert_int_equal (type, DS_MSG_PATTERN_REQ);
        //  under the control-socket limit even at the ceiling
        assert_true (buf.size < 1024 * 1024);
        //  a request is not a partial
        ds_pattern_part_t p;
        assert_int_equal (ds_pattern_part_decode ((const uint8_t *) buf.data, buf.size, &p, NULL, 0), DS_ERR_TYPE);
        if (cases [c].n <= 5)
            s_truncations (&buf, true);
    }
    msgpack_sbuffer_destroy (&buf);
}

static void
test_request_refused (void **state)
{
    (void) state;
    uint8_t keys [8 * DS_PATTERN_KEY_SIZE];
    s_random_keys (keys, 8);
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    //  The encoder refuses what the decoder would.
    ds_pattern_req_t bad [12];
    bad [0] = s_req (DS_PATTERN_SELECT, 3, keys);           //  odd key count
    bad [1] = s_req (DS_PATTERN_SELECT, 0, keys);           //  no bracket
    bad [2] = s_req (DS_PATTERN_SELECT, 2, keys);
    bad [2].per = 0;
    bad [3] = s_req (DS_PATTERN_SELECT, 2, keys);
    bad [3].per = DS_PATTERN_SELECT_KEYS_MAX + 1;
    bad [4] = s_req (DS_PATTERN_RASTER, 2, keys);
    bad [4].height = 2;                                     //  needs 1 boundary
    bad [5] = s_req (DS_PATTERN_RASTER, 0, keys);
    bad [5].width = 0;
    bad [6] = s_req (DS_PATTERN_SAMPLE, 2, keys);
    bad [6].limit = DS_PATTERN_LIMIT_MAX + 1;
    bad [7] = s_req (DS_PATTERN_SAMPLE, 2, keys);
    bad [7].space = DS_PATTERN_SPACE_SOURCES;
    bad [8] = s_req (DS_PATTERN_SUMMARY, 1, keys);
    bad [9] = s_req (9, 0, keys);
    bad [10] = s_req (DS_PATTERN_SUMMARY, 0, keys);
    bad [10].sel.bin_s = 0;
    bad [11] = s_req (DS_PATTERN_SUMMARY, 0, keys);
    bad [11].sel.last_day = bad [11].sel.first_day - 1;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_not_equal (ds_pattern_req_encode (&bad [i], &buf), DS_OK);

    //  Hostile bytes: patch fields of a valid encoding.
    ds_pattern_req_t r = s_req (DS_PATTERN_RANK, 3, keys), back;
    assert_int_equal (ds_pattern_req_encode (&r, &buf), DS_OK);
    //  layout: 0xdc 00 10 (array 16), a3 D S K, 01, 05, op ...
    assert_int_equal ((uint8_t) buf.data [0], 0xdc);
    uint8_t *copy = malloc (buf.size + 16);
    char err [200];
    struct { size_t at; uint8_t value; int rc; } cases [] = {
        { 2, 15, DS_ERR_MALFORMED },        //  15 fields
        { 2, 17, DS_ERR_MALFORMED },        //  17 fields: the bytes end first
        { 7, 2, DS_ERR_VERSION },
        { 8, 6, DS_ERR_TYPE },              //  a partial's type
        { 8, 99, DS_ERR_TYPE },
        { 9, 0, DS_ERR_MALFORMED },         //  op 0
        { 9, 6, DS_ERR_MALFORMED },         //  op 6
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        memcpy (copy, buf.data, buf.size);
        copy [cases [i].at] = cases [i].value;
        err [0] = 0;
        assert_int_equal (ds_pattern_req_decode (copy, buf.size, &back, err, sizeof err), cases [i].rc);
        assert_true (err [0] != 0);
    }
    //  The keys bin: the last 3 x 32 bytes, after a bin8 header (c4 60).
    size_t bin_at = buf.size - 3 * DS_PATTERN_KEY_SIZE - 2;
    assert_int_equal ((uint8_t) buf.data [bin_at], 0xc4);
    memcpy (copy, buf.data, buf.size);
    copy [bin_at + 1] = 95;                 //  not a multiple of 32
    assert_int_equal (ds_pattern_req_decode (copy, bin_at + 2 + 95, &back, err, sizeof err), DS_ERR_MALFORMED);
    copy [bin_at + 1] = 0xff;               //  declares more than is there
    assert_int_equal (ds_pattern_req_decode (copy, buf.size, &back, err, sizeof err), DS_ERR_TRUNCATED);
    //  A bin32 declaring 4 GiB of keys.
    memcpy (copy, buf.data, bin_at);
    const uint8_t huge [] = { 0xc6, 0xff, 0xff, 0xff, 0xe0 };
    memcpy (copy + bin_at, huge, sizeof huge);
    assert_int_equal (ds_pattern_req_decode (copy, bin_at + sizeof huge, &back, err, sizeof err), DS_ERR_TRUNCATED);
    //  Trailing bytes.
    memcpy (copy, buf.data, buf.size);
    copy [buf.size] = 0xc0;
    assert_int_equal (ds_pattern_req_decode (copy, buf.size + 1, &back, err, sizeof err), DS_ERR_MALFORMED);
    free (copy);
    //  Above the rank ceiling: a valid bin with too many keys.
    size_t n = DS_PATTERN_RANK_MAX + 1;
    uint8_t *many = calloc (n, DS_PATTERN_KEY_SIZE);
    r = s_req (DS_PATTERN_RANK, (uint32_t) n, many);
    assert_int_equal (ds_pattern_req_encode (&r, &buf), DS_ERR_MALFORMED);
    r.n_keys = DS_PATTERN_RANK_MAX;
    assert_int_equal (ds_pattern_req_encode (&r, &buf), DS_OK);
    assert_int_equal (ds_pattern_req_decode ((const uint8_t *) buf.data, buf.size, &back, err, sizeof err), DS_OK);
    free (many);
    msgpack_sbuffer_destroy (&buf);
}

static void
s_put_counts (uint8_t *wire, const uint64_t *v, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        for (int b = 0; b < 8; b++)
            wire [i * 8 + b] = (uint8_t) (v [i] >> (8 * b));
}

static void
test_partial_roundtrip (void **state)
{
    (void) state;
    uint8_t keys [16 * DS_PATTERN_KEY_SIZE], counts [16 * 8], data [64 * 8];
    s_random_keys (keys, 16);
    uint64_t c [16] = { 0, 7, 3, 3, 1, 0, 2, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
    s_put_counts (counts, c, 16);
    for (int i = 0; i < 64 * 8; i++)
        data [i] = (uint8_t) s_rand ();
    msgpack_sbuffer cells;
    msgpack_sbuffer_init (&cells);
    uint32_t grid [6] = { 1, 0, 0, 5, 0, 9 };
    assert_int_equal (ds_pattern_cells_deflate (grid, 6, 4, 1, &cells), 0);
    ds_pattern_part_t parts [] = {
        { .op = DS_PATTERN_SUMMARY, .generation = UINT64_MAX, .sources = 543900, .points = 1ull << 40,
          .n_counts = 2, .counts = counts },
        { .op = DS_PATTERN_SELECT, .n_counts = 4, .counts = counts, .n_keys = 3, .keys = keys },
        { .op = DS_PATTERN_SELECT, .n_counts = 0, .n_keys = 0 },
        { .op = DS_PATTERN_RANK, .n_counts = 16, .counts = counts },
        { .op = DS_PATTERN_RASTER, .width = 3, .height = 2, .cell_bytes = 4,
          .data_size = (uint32_t) cells.size, .data = (const uint8_t *) cells.data },
        { .op = DS_PATTERN_SAMPLE, .n_counts = 3, .counts = counts + 8 * 2, .n_keys = 3, .keys = keys,
          .data_size = (3 + 3 + 1) * 8, .data = data },
    };
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) {
        ds_pattern_part_t back;
        char err [200] = "";
        assert_int_equal (ds_pattern_part_encode (&parts [i], &buf), DS_OK);
        int rc = ds_pattern_part_decode ((const uint8_t *) buf.data, buf.size, &back, err, sizeof err);
        if (rc)
            fprintf (stderr, "case %zu: %s\n", i, err);
        assert_int_equal (rc, DS_OK);
        s_part_equal (&parts [i], &back);
        ds_pattern_req_t r;
        assert_int_equal (ds_pattern_req_decode ((const uint8_t *) buf.data, buf.size, &r, NULL, 0), DS_ERR_TYPE);
        s_truncations (&buf, false);
    }
    //  Partials that do not fit their op.
    ds_pattern_part_t bad [] = {
        { .op = DS_PATTERN_SELECT, .n_counts = 3, .counts = counts },           //  not pairs
        { .op = DS_PATTERN_RANK, .n_counts = 1, .counts = counts, .n_keys = 1, .keys = keys },
        { .op = DS_PATTERN_RASTER, .width = 3, .height = 2, .cell_bytes = 5 },
        { .op = DS_PATTERN_SUMMARY, .width = 3, .n_counts = 2, .counts = counts },
        { .op = DS_PATTERN_SUMMARY },                                           //  no range
        { .op = DS_PATTERN_SAMPLE, .n_counts = 3, .counts = counts + 8 * 2, .n_keys = 3, .keys = keys,
          .data_size = 6 * 8, .data = data },                                  //  7 points announced
        { .op = DS_PATTERN_SAMPLE, .n_counts = 2, .counts = counts, .n_keys = 2, .keys = keys,
          .data_size = 7 * 8, .data = data },                                  //  a source of 0 points
        { .op = 7 },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ds_pattern_part_t back;
        char err [200] = "";
        assert_int_equal (ds_pattern_part_encode (&bad [i], &buf), DS_OK);
        assert_int_not_equal (ds_pattern_part_decode ((const uint8_t *) buf.data, buf.size, &back, err, sizeof err), DS_OK);
        assert_true (err [0] != 0);
    }
    msgpack_sbuffer_destroy (&buf);
    msgpack_sbuffer_destroy (&cells);
}

static void
test_keys (void **state)
{
    (void) state;
    ds_pattern_key_t a = { -5, { 0 }, 3 }, b = a;
    assert_int_equal (ds_pattern_key_cmp (&a, &b), 0);
    b.minor = 4;
    assert_int_equal (ds_pattern_key_cmp (&a, &b), -1);
    b = a;
    b.addr [15] = 1;
    assert_int_equal (ds_pattern_key_cmp (&a, &b), -1);
    b.minor = INT64_MIN;                    //  the address decides first
    assert_int_equal (ds_pattern_key_cmp (&b, &a), 1);
    b = a;
    b.major = -6;                           //  signed major
    assert_int_equal (ds_pattern_key_cmp (&b, &a), -1);
    assert_true (ds_pattern_key_cmp (&ds_pattern_key_min, &a) < 0);
    assert_true (ds_pattern_key_cmp (&a, &ds_pattern_key_max) < 0);
    uint8_t wire [32];
    ds_pattern_key_put (wire, &a);
    assert_int_equal (wire [0], 0xfb);      //  -5, little-endian
    assert_int_equal (wire [7], 0xff);
    assert_int_equal (wire [24], 3);
    ds_pattern_key_get (wire, &b);
    assert_int_equal (ds_pattern_key_cmp (&a, &b), 0);
    //  The hash is fixed (pages of a sample must not move between
    //  versions): two pinned values, non-negative.
    uint8_t v4 [16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1 };
    uint8_t zero [16] = { 0 };
    assert_true (ds_pattern_addr_hash (v4) == 1453563209904393754LL);
    assert_true (ds_pattern_addr_hash (zero) == 3587656473840389230LL);
    //  select positions: evenly spaced, strictly increasing, all when few
    assert_int_equal (ds_pattern_select_keys (5, 8), 5);
    assert_int_equal (ds_pattern_select_keys (100, 8), 8);
    assert_int_equal (ds_pattern_select_pos (5, 8, 3), 3);
    uint64_t last = 0;
    for (uint32_t m = 0; m < 8; m++) {
        uint64_t p = ds_pattern_select_pos (9, 8, m);
        assert_true (p < 9 && (m == 0 || p > last));
        last = p;
    }
    assert_true (ds_pattern_select_pos (UINT64_MAX, 65536, 65535) < UINT64_MAX);
}

static void
test_cells (void **state)
{
    (void) state;
    enum { N = 200000 };                    //  several 64 KiB pieces
    uint32_t *a = calloc (N, 4);
    uint64_t *b = calloc (N, 8), *acc = calloc (N, 8);
    uint32_t *acc32 = calloc (N, 4);
    for (size_t i = 0; i < N; i++) {
        a [i] = i % 7 == 0 ? (uint32_t) s_rand () : 0;
        b [i] = i % 5 == 0 ? s_rand () >> 2 : 0;
    }
    msgpack_sbuffer za, zb;
    msgpack_sbuffer_init (&za);
    msgpack_sbuffer_init (&zb);
    assert_int_equal (ds_pattern_cells_deflate (a, N, 4, 1, &za), 0);
    assert_int_equal (ds_pattern_cells_deflate (b, N, 8, 6, &zb), 0);
    //  Little-endian on the wire, checked with zlib directly.
    uLongf raw_size = N * 4;
    uint8_t *raw = malloc (raw_size);
    assert_int_equal (uncompress (raw, &raw_size, (const Bytef *) za.data, za.size), Z_OK);
    assert_int_equal (raw_size, N * 4);
    assert_true (raw [0] == (uint8_t) a [0] && raw [3] == (uint8_t) (a [0] >> 24));
    free (raw);
    assert_int_equal (ds_pattern_cells_add ((const uint8_t *) za.data, za.size, N, 4, acc, 8), DS_OK);
    assert_int_equal (ds_pattern_cells_add ((const uint8_t *) zb.data, zb.size, N, 8, acc, 8), DS_OK);
    for (size_t i = 0; i < N; i++)
        assert_true (acc [i] == (uint64_t) a [i] + b [i]);
    //  Wrong sizes, truncation, garbage, a 4-byte accumulator overflowing.
    assert_int_equal (ds_pattern_cells_add ((const uint8_t *) za.data, za.size, N - 1, 4, acc, 8), DS_ERR_MALFORMED);
    assert_int_equal (ds_pattern_cells_add ((const uint8_t *) za.data, za.size, N + 1, 4, acc, 8), DS_ERR_MALFORMED);
    assert_int_equal (ds_pattern_cells_add ((const uint8_t *) za.data, za.size / 2, N, 4, acc, 8), DS_ERR_MALFORMED);
    assert_int_equal (ds_pattern_cells_add ((const uint8_t *) "garbage!", 8, N, 4, acc, 8), DS_ERR_MALFORMED);
    assert_int_equal (ds_pattern_cells_add ((const uint8_t *) za.data, za.size, N, 3, acc, 8), DS_ERR_MALFORMED);
    assert_int_equal (ds_pattern_cells_add ((const uint8_t *) za.data, za.size, N, 4, acc32, 4), DS_OK);
    assert_int_equal (ds_pattern_cells_add ((const uint8_t *) za.data, za.size, N, 4, acc32, 4), DS_ERR_TOO_BIG);
    //  Trailing bytes after the stream.
    msgpack_sbuffer_write (&za, "x", 1);
    assert_int_equal (ds_pattern_cells_add ((const uint8_t *) za.data, za.size, N, 4, acc, 8), DS_ERR_MALFORMED);
    //  A bomb: 64 MiB of zeros announced as 16 cells stops after 16.
    msgpack_sbuffer bomb;
    msgpack_sbuffer_init (&bomb);
    uint32_t *zeros = calloc (16u << 20, 4);
    assert_int_equal (ds_pattern_cells_deflate (zeros, 16u << 20, 4, 9, &bomb), 0);
    assert_true (bomb.size < 128 * 1024);
    assert_int_equal (ds_pattern_cells_add ((const uint8_t *) bomb.data, bomb.size, 16, 4, acc, 8), DS_ERR_MALFORMED);
    free (zeros);
    //  Zero cells.
    msgpack_sbuffer_clear (&bomb);
    assert_int_equal (ds_pattern_cells_deflate (a, 0, 4, 1, &bomb), 0);
    assert_int_equal (ds_pattern_cells_add ((const uint8_t *) bomb.data, bomb.size, 0, 4, acc, 8), DS_OK);
    msgpack_sbuffer_destroy (&bomb);
    msgpack_sbuffer_destroy (&za);
    msgpack_sbuffer_destroy (&zb);
    free (a); free (b); free (acc); free (acc32);
}

//  The query arguments of a pattern: defaults, bounds, round trip.
static void
test_query_args (void **state)
{
    (void) state;
    ds_query_t q, back;
    ds_query_init (&q);
    assert_int_equal (q.width, 640);
    assert_int_equal (q.height, 360);
    assert_int_equal (q.limit, 100000);
    assert_int_equal (q.offset, 0);
    strcpy (q.name, "pattern");
    q.width = 4096;
    q.height = 1;
    q.limit = 0;
    q.offset = 123456789012LL;
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    char err [256];
    assert_int_equal (ds_query_encode (&q, &buf), DS_OK);
    assert_int_equal (ds_query_decode ((const uint8_t *) buf.data, buf.size, &back, err, sizeof err), DS_OK);
    assert_memory_equal (&q, &back, sizeof q);
    struct { const char *key; int64_t value; } bad [] = {
        { "width", 0 }, { "width", 4097 }, { "height", 0 }, { "height", 4097 },
        { "limit", -1 }, { "limit", DS_PATTERN_LIMIT_MAX + 1 }, { "offset", -1 },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        msgpack_packer pk;
        msgpack_sbuffer_clear (&buf);
        msgpack_packer_init (&pk, &buf, msgpack_sbuffer_write);
        msgpack_pack_map (&pk, 3);
        msgpack_pack_str_with_body (&pk, "v", 1);
        msgpack_pack_int (&pk, 1);
        msgpack_pack_str_with_body (&pk, "q", 1);
        msgpack_pack_str_with_body (&pk, "pattern", 7);
        msgpack_pack_str_with_body (&pk, "args", 4);
        msgpack_pack_map (&pk, 1);
        msgpack_pack_str_with_body (&pk, bad [i].key, strlen (bad [i].key));
        msgpack_pack_int64 (&pk, bad [i].value);
        err [0] = 0;
        assert_int_not_equal (ds_query_decode ((const uint8_t *) buf.data, buf.size, &back, err, sizeof err), DS_OK);
        assert_non_null (strstr (err, bad [i].key));
    }
    msgpack_sbuffer_destroy (&buf);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_request_roundtrip),
        cmocka_unit_test (test_request_refused),
        cmocka_unit_test (test_partial_roundtrip),
        cmocka_unit_test (test_keys),
        cmocka_unit_test (test_cells),
        cmocka_unit_test (test_query_args),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
