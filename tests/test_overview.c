/*  libs: ds_query ds_proto ds_common */
/*  test_overview.c - the merged overview's list operations against plain
    reference implementations (a qsort by key and a full ranking):

    - ds_overview_pp_combine (per-port buckets) sorts by (port, proto) and
      sums equal keys exactly like sorting everything and summing runs, for
      sizes on both sides of the bucket threshold;
    - ds_overview_pp_top (selection) gives the first k of a full ranking,
      ties broken on the pp text ("23/TCP" < "2323/TCP", "-/ICMP" first);
    - the "ports" section ranks ports by packets with the radix sort as a
      comparison sort would (numeric port among equals, "-" last);
    - the merge of many pps spread over shards in any order (the port
      buckets of s_gather_pps) answers what one shard holding their sums
      in key order answers;
    - a partial that does not decode fails the merge naming the first such
      shard, small partials (one thread) and large (two) alike.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "overview.h"
#include "merge.h"
#include "record.h"
#include "tzday.h"

static uint64_t s_state = 88172645463325252ULL;

static uint64_t
s_rand (void)
{
    s_state ^= s_state << 13;
    s_state ^= s_state >> 7;
    s_state ^= s_state << 17;
    return s_state;
}

//  n random rows: ports from a range of `ports` values (some "-"), few
//  protos, packets from 1..max (small max: many ties).
static ds_overview_pp_t *
s_rows (size_t n, uint32_t ports, uint64_t max)
{
    ds_overview_pp_t *v = calloc (n ? n : 1, sizeof *v);
    assert_non_null (v);
    for (size_t i = 0; i < n; i++) {
        uint32_t p = (uint32_t) (s_rand () % ports);
        v [i].port = p == 0 ? DS_PORT_NONE : (int32_t) ((p * 2654435761u) % 65536);
        v [i].proto = (uint32_t) (s_rand () % DS_PROTO_COUNT);
        v [i].packets = 1 + s_rand () % max;
        v [i].sources = s_rand () % 5;
    }
    return v;
}

static size_t
s_reference_combine (ds_overview_pp_t *v, size_t n)
{
    if (n == 0)
        return 0;
    qsort (v, n, sizeof *v, ds_overview_pp_key);
    size_t out = 0;
    for (size_t i = 1; i < n; i++)
        if (ds_overview_pp_key (&v [i], &v [out]) == 0) {
            v [out].packets += v [i].packets;
            v [out].sources += v [i].sources;
        }
        else
            v [++out] = v [i];
    return out + 1;
}

static void
test_combine (void **state)
{
    (void) state;
    const size_t sizes [] = { 0, 1, 2, 100, 4095, 4096, 20000, 200000 };
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        size_t n = sizes [s];
        ds_overview_pp_t *v = s_rows (n, n < 100 ? 8 : 30000, 1000);
        ds_overview_pp_t *w = malloc ((n ? n : 1) * sizeof *w);
        memcpy (w, v, n * sizeof *v);
        size_t got = ds_overview_pp_combine (v, n);
        size_t want = s_reference_combine (w, n);
        assert_int_equal (got, want);
        assert_memory_equal (v, w, want * sizeof *v);
        free (v);
        free (w);
    }
}

static void
test_top (void **state)
{
    (void) state;
    const size_t sizes [] = { 0, 1, 3, 7, 5000 };
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        size_t n = sizes [s];
        //  Packets 1..3: ties everywhere, so the text decides.
        ds_overview_pp_t *v = s_rows (n, 300, 3);
        n = ds_overview_pp_combine (v, n);
        ds_overview_pp_t *ranked = malloc ((n ? n : 1) * sizeof *ranked);
        memcpy (ranked, v, n * sizeof *v);
        qsort (ranked, n, sizeof *ranked, ds_overview_pp_rank);
        for (size_t k = 0; k <= 6; k++) {
            ds_overview_pp_t top [6];
            size_t got = ds_overview_pp_top (v, n, k, top);
            assert_int_equal (got, n < k ? n : k);
            assert_memory_equal (top, ranked, got * sizeof *top);
        }
        free (v);
        free (ranked);
    }
    //  The text order of ties: "-/..." before digits, "23/TCP" before "2323/TCP".
    ds_overview_pp_t tied [3] = {
        { 2323, 0, 5, 0 }, { 23, 0, 5, 0 }, { DS_PORT_NONE, 0, 5, 0 }
    };
    ds_overview_pp_t top [3];
    assert_int_equal (ds_overview_pp_top (tied, 3, 3, top), 3);
    assert_int_equal (top [0].port, DS_PORT_NONE);
    assert_int_equal (top [1].port, 23);
    assert_int_equal (top [2].port, 2323);
}

typedef struct {
    int32_t port;
    uint64_t packets;
} s_port_t;

static int
s_cmp_port_rank (const void *x, const void *y)
{
    const s_port_t *a = x, *b = y;
    if (a->packets != b->packets)
        return a->packets > b->packets ? -1 : 1;
    int64_t pa = a->port < 0 ? 65536 : a->port, pb = b->port < 0 ? 65536 : b->port;
    return pa < pb ? -1 : pa > pb;
}

static void
test_ports_ranking (void **state)
{
    (void) state;
    const uint64_t maxes [] = { 3, 1000, UINT64_MAX / 70000 };     //  ties; spread; high bytes
    for (size_t m = 0; m < sizeof maxes / sizeof *maxes; m++) {
        size_t n = 30000;
        ds_overview_t o;
        memset (&o, 0, sizeof o);
        o.window_pps = s_rows (n, 9000, maxes [m]);
        o.n_window_pps = ds_overview_pp_combine (o.window_pps, n);
        //  The reference: packets per port, compared.
        s_port_t *want = calloc (o.n_window_pps, sizeof *want);
        size_t nw = 0;
        for (size_t i = 0; i < o.n_window_pps; i++)
            if (nw && want [nw - 1].port == o.window_pps [i].port)
                want [nw - 1].packets += o.window_pps [i].packets;
            else
                want [nw++] = (s_port_t) { o.window_pps [i].port, o.window_pps [i].packets };
        qsort (want, nw, sizeof *want, s_cmp_port_rank);

        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        msgpack_packer pk;
        msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
        assert_int_equal (ds_overview_pack (&o, "ports", &pk), 0);
        msgpack_zone zone;
        msgpack_zone_init (&zone, 1 << 16);
        msgpack_object obj;
        assert_int_equal (msgpack_unpack (sb.data, sb.size, NULL, &zone, &obj), MSGPACK_UNPACK_SUCCESS);
        const msgpack_object *ranking = &obj.via.map.ptr [0].val;
        assert_int_equal (ranking->via.array.size, nw);
        for (size_t i = 0; i < nw; i++) {
            const msgpack_object_map *row = &ranking->via.array.ptr [i].via.map;
            char text [16];
            if (want [i].port < 0)
                snprintf (text, sizeof text, "-");
            else
                snprintf (text, sizeof text, "%d", (int) want [i].port);
            assert_int_equal (row->ptr [0].val.via.str.size, strlen (text));
            assert_memory_equal (row->ptr [0].val.via.str.ptr, text, strlen (text));
            assert_true (row->ptr [1].val.via.u64 == want [i].packets);
        }
        msgpack_zone_destroy (&zone);
        msgpack_sbuffer_destroy (&sb);
        free (want);
        ds_overview_free (&o);
    }
}

//  The port rows' bytes are the packer's for every width of the count.
static void
test_ports_bytes (void **state)
{
    (void) state;
    //  by packets, descending: the ranking's order
    const struct { int32_t port; uint64_t packets; } rows [] = {
        { 7, UINT64_C (1) << 40 }, { 65535, UINT64_C (4294967296) }, { 8, UINT64_C (4294967295) },
        { 80, 65536 }, { 23, 65535 }, { DS_PORT_NONE, 256 }, { 0, 255 }, { 12345, 128 },
        { 1, 127 }, { 2, 1 }, { 3, 0 },
    };
    size_t n = sizeof rows / sizeof *rows;
    ds_overview_t o;
    memset (&o, 0, sizeof o);
    o.window_pps = calloc (n, sizeof *o.window_pps);
    for (size_t i = 0; i < n; i++)
        o.window_pps [i] = (ds_overview_pp_t) { rows [i].port, DS_PROTO_TCP, rows [i].packets, 0 };
    o.n_window_pps = ds_overview_pp_combine (o.window_pps, n);
    msgpack_sbuffer got, want;
    msgpack_sbuffer_init (&got);
    msgpack_sbuffer_init (&want);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &got, msgpack_sbuffer_write);
    assert_int_equal (ds_overview_pack (&o, "ports", &pk), 0);
    msgpack_packer_init (&pk, &want, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 1);
    ds_pack_str (&pk, "port_ranking");
    msgpack_pack_array (&pk, n);
    for (size_t i = 0; i < n; i++) {
        char text [16];
        snprintf (text, sizeof text, rows [i].port < 0 ? "-" : "%d", (int) rows [i].port);
        msgpack_pack_map (&pk, 2);
        ds_pack_str (&pk, "port");
        ds_pack_str (&pk, text);
        ds_pack_str (&pk, "packets");
        msgpack_pack_uint64 (&pk, rows [i].packets);
    }
    assert_int_equal (got.size, want.size);
    assert_memory_equal (got.data, want.data, got.size);
    msgpack_sbuffer_destroy (&got);
    msgpack_sbuffer_destroy (&want);
    ds_overview_free (&o);
}

//  The shards of a merge test: their OVERVIEW partials, encoded.
typedef struct {
    size_t n;
    msgpack_sbuffer parts [3], ppsrc [3];
    msgpack_object results [3];
    unsigned cut;                   //  shards (bits) whose OVERVIEW partial is cut short
} t_shards_t;

//  A round: the encoded OVERVIEW partials, or PPSRC partials counting no
//  source for the asked pps.
static int
s_round (void *ctx, const msgpack_sbuffer *request, const msgpack_object **results,
         char *err, size_t err_size)
{
    t_shards_t *sh = ctx;
    ds_part_req_t req;
    assert_int_equal (ds_part_req_decode ((const uint8_t *) request->data, request->size, &req,
                                          err, err_size), DS_OK);
    for (size_t i = 0; i < sh->n; i++) {
        const msgpack_sbuffer *b = &sh->parts [i];
        if (req.kind == DS_PART_PPSRC) {
            ds_part_ppsrc_t pp = { .first_day = req.first_day, .last_day = req.last_day, .n_pps = req.n_pps };
            memcpy (pp.pps, req.pps, sizeof pp.pps);
            assert_int_equal (ds_part_ppsrc_encode (&pp, &sh->ppsrc [i]), DS_OK);
            b = &sh->ppsrc [i];
        }
        else
            assert_int_equal (req.kind, DS_PART_OVERVIEW);
        sh->results [i] = (msgpack_object) { .type = MSGPACK_OBJECT_BIN,
                                             .via.bin = { (uint32_t) b->size, b->data } };
        if (req.kind == DS_PART_OVERVIEW && (sh->cut & (1u << i)))
            sh->results [i].via.bin.size /= 2;
    }
    *results = sh->results;
    return 0;
}

//  The overview of a one-day window over n partials whose window and last
//  day pps are rows [from [i], from [i + 1]) of w and l, the partials of
//  the shards in cut (bits) cut short.  Returns ds_merge_answer's result,
//  its error in err.  Caller destroys out.
static int
s_merged_cut (const ds_overview_pp_t *w, const size_t *wfrom, const ds_overview_pp_t *l, const size_t *lfrom,
              size_t n, unsigned cut, msgpack_sbuffer *out, char *err, size_t err_size)
{
    t_shards_t sh = { .n = n, .cut = cut };
    int32_t day;
    assert_int_equal (ds_day_parse ("2021-03-02", &day), 0);
    for (size_t i = 0; i < n; i++) {
        uint64_t one = i == 0;          //  the counts that add: once
        ds_part_day_t days = { one, one, one, one };
        ds_part_overview_t part = { .tz = "UTC", .first_day = day, .last_day = day, .n_days = 1,
                                    .days = &days, .window_sources = one, .last_sources = one };
        part.n_window = (uint32_t) (wfrom [i + 1] - wfrom [i]);
        part.n_last = (uint32_t) (lfrom [i + 1] - lfrom [i]);
        part.window = calloc (part.n_window + 1, sizeof *part.window);
        part.last = calloc (part.n_last + 1, sizeof *part.last);
        for (uint32_t j = 0; j < part.n_window; j++) {
            const ds_overview_pp_t *r = &w [wfrom [i] + j];
            part.window [j] = (ds_part_pp_t) { r->port, (uint8_t) r->proto, r->packets, 0 };
        }
        for (uint32_t j = 0; j < part.n_last; j++) {
            const ds_overview_pp_t *r = &l [lfrom [i] + j];
            part.last [j] = (ds_part_pp_t) { r->port, (uint8_t) r->proto, r->packets, r->sources };
        }
        msgpack_sbuffer_init (&sh.parts [i]);
        msgpack_sbuffer_init (&sh.ppsrc [i]);
        assert_int_equal (ds_part_overview_encode (&part, &sh.parts [i]), DS_OK);
        free (part.window);
        free (part.last);
    }
    ds_query_t q;
    ds_query_init (&q);
    snprintf (q.name, sizeof q.name, "overview");
    snprintf (q.first_day, sizeof q.first_day, "2021-03-02");
    snprintf (q.last_day, sizeof q.last_day, "2021-03-02");
    msgpack_sbuffer_init (out);
    msgpack_packer pk;
    msgpack_packer_init (&pk, out, msgpack_sbuffer_write);
    int rc = ds_merge_answer (n, s_round, &sh, &q, "UTC", &pk, err, err_size);
    for (size_t i = 0; i < n; i++) {
        msgpack_sbuffer_destroy (&sh.parts [i]);
        msgpack_sbuffer_destroy (&sh.ppsrc [i]);
    }
    return rc;
}

//  s_merged_cut of whole partials, which must merge.
static void
s_merged (const ds_overview_pp_t *w, const size_t *wfrom, const ds_overview_pp_t *l, const size_t *lfrom,
          size_t n, msgpack_sbuffer *out)
{
    char err [256] = "";
    assert_int_equal (s_merged_cut (w, wfrom, l, lfrom, n, 0, out, err, sizeof err), 0);
}

static void
test_merge_split (void **state)
{
    (void) state;
    //  Lists on both sides of the gathering's threshold (4096 rows).
    const size_t sizes [] = { 50, 30000 };
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        size_t n = sizes [s];
        ds_overview_pp_t *w = s_rows (n, n < 100 ? 20 : 40000, 1000);
        ds_overview_pp_t *l = s_rows (n, n < 100 ? 20 : 40000, 1000);
        for (size_t i = 0; i < n; i++)
            w [i].sources = 0;          //  window pps count no source (PPSRC does)
        //  Three shards, rows in random order, keys repeated across them.
        size_t wfrom [4] = { 0, n / 3, n / 2, n }, lfrom [4] = { 0, n / 5, n / 2, n };
        msgpack_sbuffer split, whole;
        s_merged (w, wfrom, l, lfrom, 3, &split);
        size_t nw = s_reference_combine (w, n), nl = s_reference_combine (l, n);
        assert_true (nw < n && nl < n);
        size_t wone [2] = { 0, nw }, lone [2] = { 0, nl };
        s_merged (w, wone, l, lone, 1, &whole);
        assert_int_equal (split.size, whole.size);
        assert_memory_equal (split.data, whole.data, split.size);
        msgpack_sbuffer_destroy (&split);
        msgpack_sbuffer_destroy (&whole);
        free (w);
        free (l);
    }
}

//  A partial that does not decode is an error naming its shard, the first
//  one of several, whether decoded on one thread (small) or two (large).
static void
test_merge_bad_shard (void **state)
{
    (void) state;
    const size_t sizes [] = { 50, 30000 };
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        size_t n = sizes [s];
        ds_overview_pp_t *w = s_rows (n, n < 100 ? 20 : 40000, 1000);
        ds_overview_pp_t *l = s_rows (n, n < 100 ? 20 : 40000, 1000);
        size_t from [4] = { 0, n / 3, n / 2, n };
        const struct { unsigned cut; const char *want; } cases [] = {
            { 1u << 1, "shard 1: bad overview partial" },
            { (1u << 1) | (1u << 2), "shard 1: bad overview partial" },
            { 1u << 2, "shard 2: bad overview partial" },
        };
        for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
            msgpack_sbuffer out;
            char err [256] = "";
            assert_int_equal (s_merged_cut (w, from, l, from, 3, cases [c].cut, &out, err, sizeof err), -1);
            assert_true (strncmp (err, cases [c].want, strlen (cases [c].want)) == 0);
            assert_int_equal (out.size, 0);
            msgpack_sbuffer_destroy (&out);
        }
        free (w);
        free (l);
    }
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_combine),
        cmocka_unit_test (test_top),
        cmocka_unit_test (test_ports_ranking),
        cmocka_unit_test (test_ports_bytes),
        cmocka_unit_test (test_merge_split),
        cmocka_unit_test (test_merge_bad_shard),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
