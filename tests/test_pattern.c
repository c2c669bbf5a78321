/*  libs: ds_query ds_aggregator ds_proto ds_common */
/*  test_pattern.c - the `pattern` query (services/query/pattern.h) over
    1, 2 and 4 in-process stores, against a brute force over the same
    records: the raster's counts are exact on the global y axis, with and
    without a class filter and a time range, for h < sources and
    h >= sources; paging visits every point exactly once with the right
    tokens and addresses; sizes stay within their bounds; every shard
    count gives the same bytes; a store that moves between rounds gives a
    well-formed answer marked inexact.  A second data set has enough
    sources (tens of thousands) for the selection to need several rounds. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "store.h"
#include "pattern.h"
#include "pattern_codec.h"
#include "pattern_reply.h"
#include "zone_fixture.h"
#include "record.h"

//  ---------------------------------------------------------------------
//  Records

static const char *s_classes [] = { "unknown", "censys", "stretchoid", "engin-umich" };
#define NCLASSES 4
static const char *s_services [] = { "telnet" };

typedef struct {
    int64_t ts;
    uint32_t src;
    uint8_t flags;
} t_rec_t;

typedef struct {
    ds_addr_t addr;
    int cls;                        //  index into s_classes
    bool gt;
} t_src_t;

static t_src_t *s_src;
static uint32_t s_nsrc;
static t_rec_t *s_rec;
static size_t s_nrec;
static int32_t s_day0;
static uint64_t s_rng;

static uint32_t
s_rand (uint32_t n)
{
    s_rng ^= s_rng << 13; s_rng ^= s_rng >> 7; s_rng ^= s_rng << 17;
    return (uint32_t) (s_rng % n);
}

//  nsrc sources over `days` days, recs records: skewed (low ids heavy),
//  ties on first timestamps, IPv4 and IPv6, GT classes and Mirai flags.
static void
s_generate (uint64_t seed, uint32_t nsrc, size_t recs, int days)
{
    s_rng = seed * 2654435761u + 88172645463325252ULL;
    assert_int_equal (ds_day_parse ("2021-03-01", &s_day0), 0);
    free (s_src);
    free (s_rec);
    s_src = calloc (nsrc, sizeof *s_src);
    s_rec = calloc (recs, sizeof *s_rec);
    s_nsrc = nsrc;
    for (uint32_t s = 0; s < nsrc; s++) {
        char text [64];
        if (s % 9 == 4)
            snprintf (text, sizeof text, "2001:db8::%x:%x", s >> 16, s & 0xffff);
        else
            snprintf (text, sizeof text, "10.%u.%u.%u", s >> 16, (s >> 8) & 255, s & 255);
        assert_int_equal (ds_addr_parse (&s_src [s].addr, text), 0);
        s_src [s].gt = s_rand (3) == 0;
        s_src [s].cls = s_src [s].gt ? (int) s_rand (NCLASSES) : 0;
    }
    for (size_t i = 0; i < recs; i++) {
        uint32_t src = i < nsrc ? (uint32_t) i : s_rand (4) == 0 ? s_rand (nsrc) : s_rand (nsrc / 8 + 1);
        int day = (int) s_rand ((uint32_t) days);
        int64_t ts = ds_tz_day_start (fx_tz, s_day0 + day) + (int64_t) s_rand (86400) * 1000000 + s_rand (1000000);
        if (s_rand (16) == 0)                       //  equal timestamps across sources
            ts = ds_tz_day_start (fx_tz, s_day0 + day) + 7200 * 1000000LL;
        uint8_t flags = src % 5 == 1 && day % 2 == 0 ? DS_FLAG_MIRAI : 0;
        s_rec [i] = (t_rec_t) { ts, src, flags };
    }
    s_nrec = recs;
}

//  Feeds the records of shard k of n into store.
static void
s_feed (ds_store_t *store, uint32_t k, uint32_t n, size_t from, size_t to)
{
    ds_batch_t *b = ds_batch_new (1024);
    for (size_t i = from; i < to; ) {
        ds_batch_reset (b);
        assert_int_equal (ds_batch_set_dicts (b, s_classes, NCLASSES, s_services, 1), 0);
        for (; i < to && b->count < 1024; i++) {
            const t_rec_t *r = &s_rec [i];
            const t_src_t *s = &s_src [r->src];
            if (ds_addr_shard (&s->addr, n) != k)
                continue;
            ds_record_t rec = { r->ts, s->addr, 23, DS_PROTO_TCP,
                                (uint8_t) (r->flags | (s->gt ? DS_FLAG_GT : 0)) };
            uint32_t at = b->count;
            assert_true (ds_batch_add (b, &rec));
            b->class_id [at] = (uint16_t) s->cls;
            b->service_id [at] = 0;
        }
        b->shard = k;
        assert_int_equal (ds_store_add_batch (store, b), 0);
    }
    ds_batch_destroy (&b);
}

//  ---------------------------------------------------------------------
//  In-process rounds: what the query service does over sockets

typedef struct {
    ds_store_t *stores [4];
    size_t n;
    msgpack_sbuffer out [4];
    msgpack_zone zone;
    msgpack_object results [4];
    int rounds;
    size_t largest_req;             //  biggest request seen
    size_t largest_part;            //  biggest partial seen
    size_t move_at;                 //  > 0: before that round, records arrive
} t_fan_t;

static int
t_round (void *ctx, const msgpack_sbuffer *req, const msgpack_object **results, char *err, size_t err_size)
{
    t_fan_t *f = ctx;
    f->rounds++;
    if (f->move_at && (size_t) f->rounds == f->move_at)
        for (size_t k = 0; k < f->n; k++)
            s_feed (f->stores [k], (uint32_t) k, (uint32_t) f->n, s_nrec - s_nrec / 10, s_nrec);
    msgpack_zone_clear (&f->zone);
    f->largest_req = req->size > f->largest_req ? req->size : f->largest_req;
    for (size_t k = 0; k < f->n; k++) {
        msgpack_sbuffer_clear (&f->out [k]);
        msgpack_packer pk;
        msgpack_packer_init (&pk, &f->out [k], msgpack_sbuffer_write);
        if (ds_store_pattern (f->stores [k], (const uint8_t *) req->data, req->size, &pk, err, err_size))
            return -1;
        f->largest_part = f->out [k].size > f->largest_part ? f->out [k].size : f->largest_part;
        assert_int_equal (ds_mp_unpack ((const uint8_t *) f->out [k].data, f->out [k].size, &f->zone,
                                        &f->results [k]), DS_OK);
    }
    *results = f->results;
    return 0;
}

//  n stores of shards 0..n-1 holding records [0, upto).
static void
s_fan_init (t_fan_t *f, size_t n, size_t upto)
{
    memset (f, 0, sizeof *f);
    f->n = n;
    msgpack_zone_init (&f->zone, 65536);
    for (size_t k = 0; k < n; k++) {
        f->stores [k] = ds_store_new ((uint32_t) k, (uint32_t) n, fx_tz);
        s_feed (f->stores [k], (uint32_t) k, (uint32_t) n, 0, upto);
        msgpack_sbuffer_init (&f->out [k]);
    }
}

static void
s_fan_free (t_fan_t *f)
{
    for (size_t k = 0; k < f->n; k++) {
        ds_store_destroy (&f->stores [k]);
        msgpack_sbuffer_destroy (&f->out [k]);
    }
    msgpack_zone_destroy (&f->zone);
}

//  Asks q; returns the packed result (caller frees) or NULL with err.
static msgpack_sbuffer *
s_ask (t_fan_t *f, const ds_query_t *q, char *err, size_t err_size)
{
    msgpack_sbuffer *out = msgpack_sbuffer_new ();
    msgpack_packer pk;
    msgpack_packer_init (&pk, out, msgpack_sbuffer_write);
    f->rounds = 0;
    if (ds_qpattern_answer (q, f->n, t_round, f, &pk, err, err_size)) {
        msgpack_sbuffer_free (out);
        return NULL;
    }
    return out;
}

static void
s_read (const msgpack_sbuffer *buf, ds_pattern_reply_t *r)
{
    msgpack_zone zone;
    msgpack_zone_init (&zone, 4096);
    msgpack_object obj;
    assert_int_equal (ds_mp_unpack ((const uint8_t *) buf->data, buf->size, &zone, &obj), DS_OK);
    char err [256] = "";
    int rc = ds_pattern_reply_read (&obj, r, err, sizeof err);
    if (rc)
        fprintf (stderr, "%s\n", err);
    assert_int_equal (rc, 0);
    msgpack_zone_destroy (&zone);
}

//  ---------------------------------------------------------------------
//  Brute force

typedef struct {
    int64_t lo, hi, bin_us;
    uint32_t n;                     //  selected sources
    uint32_t *order;                //  by token: source ids
    uint32_t *token;                //  by source id (UINT32_MAX: not selected)
    int64_t *first;                 //  by source id
    uint64_t points;
    int64_t (*pts) [2];             //  (token, bin), sorted
} t_brute_t;

static const char *
s_resolved (uint32_t s, int32_t first, int32_t last)
{
    if (s_src [s].gt)
        return s_classes [s_src [s].cls];
    for (size_t i = 0; i < s_nrec; i++)
        if (s_rec [i].src == s && (s_rec [i].flags & DS_FLAG_MIRAI)) {
            ds_daycache_t cache;
            ds_daycache_init (&cache);
            int32_t d = ds_tz_day (fx_tz, &cache, s_rec [i].ts);
            if (d >= first && d <= last)
                return "mirai";
        }
    return "unknown";
}

static const t_src_t *s_cmp_base;
static const int64_t *s_cmp_first;

static int
s_cmp_token (const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *) x, b = *(const uint32_t *) y;
    if (s_cmp_first [a] != s_cmp_first [b])
        return s_cmp_first [a] < s_cmp_first [b] ? -1 : 1;
    return memcmp (s_cmp_base [a].addr.b, s_cmp_base [b].addr.b, 16);
}

static int
s_cmp_pt (const void *x, const void *y)
{
    const int64_t *a = x, *b = y;
    if (a [0] != b [0])
        return a [0] < b [0] ? -1 : 1;
    return a [1] < b [1] ? -1 : a [1] > b [1];
}

static int64_t
s_floor_div (int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static void
s_brute (t_brute_t *bf, const ds_query_t *q)
{
    memset (bf, 0, sizeof *bf);
    int32_t first, last;
    assert_int_equal (ds_day_parse (q->first_day, &first), 0);
    assert_int_equal (ds_day_parse (q->last_day, &last), 0);
    int64_t dlo = ds_tz_day_start (fx_tz, first), dhi = ds_tz_day_start (fx_tz, last + 1);
    bf->lo = q->from_us > dlo ? q->from_us : dlo;
    bf->hi = q->to_us < dhi ? q->to_us : dhi;
    bf->bin_us = q->bin_s * 1000000;
    bool *cls_ok = calloc (s_nsrc, 1);
    for (uint32_t s = 0; s < s_nsrc; s++)
        cls_ok [s] = !q->class_name [0] || strcmp (s_resolved (s, first, last), q->class_name) == 0;
    bf->first = malloc (s_nsrc * sizeof *bf->first);
    bf->token = malloc (s_nsrc * sizeof *bf->token);
    bf->order = malloc (s_nsrc * sizeof *bf->order);
    for (uint32_t s = 0; s < s_nsrc; s++)
        bf->first [s] = INT64_MAX;
    bool *sel = calloc (s_nrec, 1);
    for (size_t i = 0; i < s_nrec; i++) {
        const t_rec_t *r = &s_rec [i];
        sel [i] = cls_ok [r->src] && r->ts >= bf->lo && r->ts < bf->hi;
        if (sel [i] && r->ts < bf->first [r->src])
            bf->first [r->src] = r->ts;
    }
    for (uint32_t s = 0; s < s_nsrc; s++)
        if (bf->first [s] != INT64_MAX)
            bf->order [bf->n++] = s;
    s_cmp_base = s_src;
    s_cmp_first = bf->first;
    qsort (bf->order, bf->n, sizeof *bf->order, s_cmp_token);
    for (uint32_t s = 0; s < s_nsrc; s++)
        bf->token [s] = UINT32_MAX;
    for (uint32_t t = 0; t < bf->n; t++)
        bf->token [bf->order [t]] = t;
    bf->pts = malloc ((s_nrec ? s_nrec : 1) * sizeof *bf->pts);
    size_t np = 0;
    for (size_t i = 0; i < s_nrec; i++)
        if (sel [i]) {
            bf->pts [np][0] = bf->token [s_rec [i].src];
            bf->pts [np][1] = s_floor_div (s_rec [i].ts, bf->bin_us) * bf->bin_us;
            np++;
        }
    qsort (bf->pts, np, sizeof *bf->pts, s_cmp_pt);
    size_t u = 0;
    for (size_t i = 0; i < np; i++)
        if (u == 0 || bf->pts [u - 1][0] != bf->pts [i][0] || bf->pts [u - 1][1] != bf->pts [i][1]) {
            bf->pts [u][0] = bf->pts [i][0];
            bf->pts [u][1] = bf->pts [i][1];
            u++;
        }
    bf->points = u;
    free (sel);
    free (cls_ok);
}

static void
s_brute_free (t_brute_t *bf)
{
    free (bf->order);
    free (bf->token);
    free (bf->first);
    free (bf->pts);
}

//  The reply's totals, axes and raster equal the brute force's.
static void
s_check_raster (const ds_pattern_reply_t *r, const t_brute_t *bf, const ds_query_t *q)
{
    assert_true (r->exact);
    assert_int_equal (r->sources, bf->n);
    assert_int_equal (r->points, bf->points);
    assert_true (r->from_us == bf->lo && r->to_us == bf->hi);
    int64_t b0 = s_floor_div (bf->lo, bf->bin_us);
    uint64_t nb = bf->lo < bf->hi ? (uint64_t) (s_floor_div (bf->hi - 1, bf->bin_us) - b0 + 1) : 0;
    assert_true (r->x0_us == b0 * bf->bin_us);
    assert_int_equal (r->bins, nb);
    uint32_t w = (uint64_t) q->width < nb ? (uint32_t) q->width : (uint32_t) nb;
    uint32_t h = (uint64_t) q->height < bf->n ? (uint32_t) q->height : bf->n;
    assert_int_equal (r->width, w);
    assert_int_equal (r->height, h);
    uint64_t *want = calloc ((size_t) w * h + 1, sizeof *want);
    for (uint64_t i = 0; i < bf->points; i++) {
        uint64_t row = (uint64_t) bf->pts [i][0] * h / bf->n;
        uint64_t col = (uint64_t) (bf->pts [i][1] / bf->bin_us - b0) * w / nb;
        want [row * w + col]++;
    }
    for (size_t i = 0; i < (size_t) w * h; i++)
        if (want [i] != r->cells [i]) {
            fprintf (stderr, "cell %zu (row %zu col %zu): got %llu, want %llu\n", i, i / w, i % w,
                     (unsigned long long) r->cells [i], (unsigned long long) want [i]);
            fail ();
        }
    free (want);
}

//  Pages through the sample with limit `limit`: every point once, tokens
//  and addresses those of the brute force, pages full but the last.
static void
s_check_paging (t_fan_t *f, ds_query_t q, const t_brute_t *bf, int64_t limit)
{
    uint8_t *seen = calloc (bf->points + 1, 1);
    q.limit = limit;
    q.offset = 0;
    q.width = q.height = 1;                 //  paging clients want no raster

    uint64_t visited = 0;
    for (int page = 0; ; page++) {
        char err [256] = "";
        msgpack_sbuffer *buf = s_ask (f, &q, err, sizeof err);
        assert_non_null (buf);
        ds_pattern_reply_t r;
        s_read (buf, &r);
        assert_true (r.exact);
        assert_int_equal (r.offset, (uint64_t) q.offset);
        assert_true (r.width * r.height == 0 || r.cells [0] == bf->points);
        uint64_t want_n = bf->points - (uint64_t) q.offset < (uint64_t) limit
                        ? bf->points - (uint64_t) q.offset : (uint64_t) limit;
        assert_int_equal (r.n_sample, want_n);
        for (uint32_t i = 0; i < r.n_sample; i++) {
            int64_t key [2] = { (int64_t) r.sample_token [i], r.sample_bin [i] };
            int64_t (*hit) [2] = bsearch (key, bf->pts, bf->points, sizeof *bf->pts, s_cmp_pt);
            assert_non_null (hit);
            size_t at = (size_t) (hit - bf->pts);
            assert_int_equal (seen [at], 0);
            seen [at] = 1;
            visited++;
            char text [64];
            ds_addr_format (&s_src [bf->order [r.sample_token [i]]].addr, text, sizeof text);
            assert_string_equal (ds_pattern_reply_ip (&r, r.sample_token [i]), text);
        }
        bool more = r.has_next;
        if (more)
            q.offset = (int64_t) r.next_offset;
        ds_pattern_reply_free (&r);
        msgpack_sbuffer_free (buf);
        if (!more)
            break;
        assert_true (page < 100000);
    }
    assert_int_equal (visited, bf->points);
    free (seen);
}

//  ---------------------------------------------------------------------
//  Tests

static void
test_raster_exact (void **state)
{
    (void) state;
    fx_zone ("Europe/Rome");
    s_generate (7, 700, 9000, 6);
    struct { int f, l; const char *cls; int from_h, to_h; int64_t bin, width, height; } cases [] = {
        { 0, 5, "", -1, -1, 600, 640, 360 },            //  h < sources
        { 0, 5, "", -1, -1, 3600, 50, 7 },
        { 1, 3, "", -1, -1, 60, 640, 4096 },            //  h = sources
        { 0, 5, "stretchoid", -1, -1, 900, 200, 4096 },
        { 0, 5, "mirai", -1, -1, 1800, 640, 10 },
        { 0, 5, "unknown", 30, 100, 300, 33, 17 },      //  class and time range
        { 2, 2, "", 3, 20, 60, 4096, 1 },               //  one row
        { 0, 5, "", 5000, 5001, 60, 640, 360 },         //  empty range
        { 0, 5, "no-such-class", -1, -1, 60, 640, 360 },
    };
    msgpack_sbuffer *first [sizeof cases / sizeof *cases] = { NULL };
    for (size_t shards = 1; shards <= 4; shards *= 2) {
        t_fan_t f;
        s_fan_init (&f, shards, s_nrec);
        for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
            ds_query_t q;
            ds_query_init (&q);
            snprintf (q.name, sizeof q.name, "pattern");
            ds_day_format (s_day0 + cases [c].f, q.first_day);
            ds_day_format (s_day0 + cases [c].l, q.last_day);
            snprintf (q.class_name, sizeof q.class_name, "%s", cases [c].cls);
            q.bin_s = cases [c].bin;
            q.width = cases [c].width;
            q.height = cases [c].height;
            if (cases [c].from_h >= 0) {
                q.from_us = ds_tz_day_start (fx_tz, s_day0 + cases [c].f) + cases [c].from_h * 3600 * 1000000LL;
                q.to_us = ds_tz_day_start (fx_tz, s_day0 + cases [c].f) + cases [c].to_h * 3600 * 1000000LL;
            }
            char err [256] = "";
            msgpack_sbuffer *buf = s_ask (&f, &q, err, sizeof err);
            if (!buf)
                fprintf (stderr, "case %zu: %s\n", c, err);
            assert_non_null (buf);
            ds_pattern_reply_t r;
            s_read (buf, &r);
            t_brute_t bf;
            s_brute (&bf, &q);
            s_check_raster (&r, &bf, &q);
            //  the default sample: all of these fit in one page
            assert_int_equal (r.n_sample, bf.points < 100000 ? bf.points : 100000);
            assert_false (r.has_next);
            //  bounded messages: requests under the 1 MiB control limit
            assert_true (f.largest_req < 1024 * 1024);
            s_brute_free (&bf);
            ds_pattern_reply_free (&r);
            //  1, 2 and 4 shards answer the same bytes
            if (shards == 1)
                first [c] = buf;
            else {
                assert_int_equal (buf->size, first [c]->size);
                assert_memory_equal (buf->data, first [c]->data, buf->size);
                msgpack_sbuffer_free (buf);
            }
        }
        s_fan_free (&f);
    }
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++)
        msgpack_sbuffer_free (first [c]);
    fx_zone ("UTC");
}

static void
test_paging (void **state)
{
    (void) state;
    fx_zone ("UTC");
    s_generate (11, 300, 4000, 4);
    for (size_t shards = 1; shards <= 4; shards *= 2) {
        t_fan_t f;
        s_fan_init (&f, shards, s_nrec);
        ds_query_t q;
        ds_query_init (&q);
        snprintf (q.name, sizeof q.name, "pattern");
        ds_day_format (s_day0, q.first_day);
        ds_day_format (s_day0 + 3, q.last_day);
        q.bin_s = 1200;
        t_brute_t bf;
        s_brute (&bf, &q);
        assert_true (bf.points > 1000);
        s_check_paging (&f, q, &bf, 97);
        s_check_paging (&f, q, &bf, 1000);
        snprintf (q.class_name, sizeof q.class_name, "censys");
        s_brute_free (&bf);
        s_brute (&bf, &q);
        s_check_paging (&f, q, &bf, 1);
        //  No sample with limit 0; none past the end.
        q.limit = 0;
        char err [256];
        msgpack_sbuffer *buf = s_ask (&f, &q, err, sizeof err);
        ds_pattern_reply_t r;
        s_read (buf, &r);
        assert_int_equal (r.n_sample, 0);
        assert_false (r.has_next);
        ds_pattern_reply_free (&r);
        msgpack_sbuffer_free (buf);
        q.limit = 5;
        q.offset = (int64_t) bf.points;
        buf = s_ask (&f, &q, err, sizeof err);
        s_read (buf, &r);
        assert_int_equal (r.n_sample, 0);
        assert_false (r.has_next);
        ds_pattern_reply_free (&r);
        msgpack_sbuffer_free (buf);
        s_brute_free (&bf);
        s_fan_free (&f);
    }
}

//  Enough sources that one select round cannot hold every key: the
//  selection narrows over several rounds and stays exact.
static void
test_many_sources (void **state)
{
    (void) state;
    fx_zone ("UTC");
    s_generate (3, 60000, 150000, 3);
    ds_query_t q;
    ds_query_init (&q);
    snprintf (q.name, sizeof q.name, "pattern");
    ds_day_format (s_day0, q.first_day);
    ds_day_format (s_day0 + 2, q.last_day);
    q.bin_s = 60;
    q.height = 4096;
    q.limit = 5000;
    t_brute_t bf;
    s_brute (&bf, &q);
    for (size_t shards = 1; shards <= 4; shards *= 3) {
        t_fan_t f;
        s_fan_init (&f, shards, s_nrec);
        char err [256] = "";
        msgpack_sbuffer *buf = s_ask (&f, &q, err, sizeof err);
        assert_non_null (buf);
        ds_pattern_reply_t r;
        s_read (buf, &r);
        s_check_raster (&r, &bf, &q);
        assert_true (f.rounds >= 4);                    //  summary, 2+ selects, raster, ...
        assert_true (f.largest_req < 1024 * 1024);      //  the 1 MiB control limit
        assert_true (f.largest_part < 4 * 1024 * 1024); //  select keys: 2 MiB at most
        //  a page deep inside: its points are those of the brute force
        ds_query_t deep = q;
        deep.offset = (int64_t) bf.points / 2 + 13;
        msgpack_sbuffer *b2 = s_ask (&f, &deep, err, sizeof err);
        ds_pattern_reply_t r2;
        s_read (b2, &r2);
        assert_int_equal (r2.n_sample, 5000);
        assert_true (r2.has_next && r2.next_offset == (uint64_t) deep.offset + 5000);
        for (uint32_t i = 0; i < r2.n_sample; i++) {
            int64_t key [2] = { (int64_t) r2.sample_token [i], r2.sample_bin [i] };
            assert_non_null (bsearch (key, bf.pts, bf.points, sizeof *bf.pts, s_cmp_pt));
        }
        ds_pattern_reply_free (&r2);
        msgpack_sbuffer_free (b2);
        ds_pattern_reply_free (&r);
        msgpack_sbuffer_free (buf);
        s_fan_free (&f);
    }
    s_brute_free (&bf);
}

//  Records arrive between rounds: the answer is well-formed, marked
//  inexact; asked again once quiet, it is exact.
static void
test_moving_store (void **state)
{
    (void) state;
    fx_zone ("UTC");
    s_generate (5, 400, 6000, 3);
    for (size_t move_at = 2; move_at <= 6; move_at++) {
        t_fan_t f;
        s_fan_init (&f, 2, s_nrec - s_nrec / 10);
        f.move_at = move_at;
        ds_query_t q;
        ds_query_init (&q);
        snprintf (q.name, sizeof q.name, "pattern");
        ds_day_format (s_day0, q.first_day);
        ds_day_format (s_day0 + 2, q.last_day);
        q.limit = 50;
        q.offset = 100;
        char err [256] = "";
        msgpack_sbuffer *buf = s_ask (&f, &q, err, sizeof err);
        assert_non_null (buf);
        ds_pattern_reply_t r;
        s_read (buf, &r);
        assert_false (r.exact);
        assert_true (r.n_sample <= 50);
        ds_pattern_reply_free (&r);
        msgpack_sbuffer_free (buf);
        f.move_at = 0;
        buf = s_ask (&f, &q, err, sizeof err);
        s_read (buf, &r);
        assert_true (r.exact);
        t_brute_t bf;
        s_brute (&bf, &q);
        s_check_raster (&r, &bf, &q);
        s_brute_free (&bf);
        ds_pattern_reply_free (&r);
        msgpack_sbuffer_free (buf);
        s_fan_free (&f);
    }
}

//  Errors: bins and ranges off the minute, a bad request to a store.
static void
test_refusals (void **state)
{
    (void) state;
    fx_zone ("UTC");
    s_generate (9, 50, 500, 2);
    t_fan_t f;
    s_fan_init (&f, 2, s_nrec);
    ds_query_t q;
    ds_query_init (&q);
    snprintf (q.name, sizeof q.name, "pattern");
    ds_day_format (s_day0, q.first_day);
    ds_day_format (s_day0 + 1, q.last_day);
    char err [256];
    q.bin_s = 90;
    assert_null (s_ask (&f, &q, err, sizeof err));
    assert_non_null (strstr (err, "multiple of 60"));
    q.bin_s = 60;
    q.from_us = 1000;
    assert_null (s_ask (&f, &q, err, sizeof err));
    assert_non_null (strstr (err, "multiples of 60 s"));
    //  a store refuses a request that is not one, with a reason
    msgpack_sbuffer out;
    msgpack_sbuffer_init (&out);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &out, msgpack_sbuffer_write);
    err [0] = 0;
    assert_int_equal (ds_store_pattern (f.stores [0], (const uint8_t *) "\x93\x01\x02\x03", 4, &pk,
                                        err, sizeof err), -1);
    assert_true (err [0] != 0);
    msgpack_sbuffer_destroy (&out);
    s_fan_free (&f);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_raster_exact),
        cmocka_unit_test (test_paging),
        cmocka_unit_test (test_many_sources),
        cmocka_unit_test (test_moving_store),
        cmocka_unit_test (test_refusals),
    };
    int rc = cmocka_run_group_tests (tests, fx_zones_setup, fx_zones_free);
    free (s_src);
    free (s_rec);
    return rc;
}
