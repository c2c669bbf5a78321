/*  store_fixture.h - what the store's tests share (test_store.c,
    test_store_pattern.c, test_store_streams.c, test_store_checkpoint.c):
    known traffic, generated here (seeded: fx_generate), fed to stores as
    labelled batches (fx_feed, fx_stores), and asked as the query service
    asks its shards, in-process (fx_run: the merge's range and partial
    rounds, a pattern's rounds).  Stores are made in the zone of
    zone_fixture.h (fx_tz).  Header only (static inline), included after
    cmocka.h and zone_fixture.h.
*/
#ifndef STORE_FIXTURE_H
#define STORE_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "store.h"
#include "merge.h"
#include "pattern.h"
#include "pattern_reply.h"
#include "record.h"

//  ---------------------------------------------------------------------
//  Generated traffic

#define FX_NSRC    48
#define FX_NREC    3016
#define FX_NDAYS   40

static const char *fx_classes [] = { "unknown", "censys", "stretchoid", "shodan", "engin-umich" };
#define FX_NCLASSES 5

typedef struct { int32_t port; int proto; const char *service; } fx_port_t;
static const fx_port_t fx_ports [] = {
    { 23, DS_PROTO_TCP, "telnet" }, { 2323, DS_PROTO_TCP, "telnet" }, { 80, DS_PROTO_TCP, "http" },
    { 443, DS_PROTO_TCP, "http" }, { 22, DS_PROTO_TCP, "ssh" }, { 445, DS_PROTO_TCP, "netbios-smb" },
    { 5555, DS_PROTO_TCP, "unk_usr" }, { 3128, DS_PROTO_TCP, "proxy" }, { 1080, DS_PROTO_TCP, "proxy" },
    { 37215, DS_PROTO_TCP, "unk_usr" }, { 60000, DS_PROTO_TCP, "unk_eph" }, { 123, DS_PROTO_UDP, "unk_sys" },
    { 53, DS_PROTO_UDP, "dns" }, { 53, DS_PROTO_TCP, "dns" }, { DS_PORT_NONE, DS_PROTO_ICMP, "icmp" },
    { DS_PORT_NONE, DS_PROTO_GRE, "icmp" }, { 80, DS_PROTO_UDP, "http" },
};
#define FX_NPORTS ((int) (sizeof fx_ports / sizeof *fx_ports))
#define FX_NSERVICES 10
static const char *fx_services [FX_NSERVICES] = { "telnet", "http", "ssh", "netbios-smb", "unk_usr",
                                              "proxy", "unk_eph", "unk_sys", "dns", "icmp" };

typedef struct {
    int64_t ts;
    int src;
    int port;                       //  index into fx_ports
    int flags;
} fx_rec_t;

static ds_addr_t fx_addr [FX_NSRC];
static int fx_src_class [FX_NSRC];      //  index into fx_classes
static int fx_src_gt [FX_NSRC];
static fx_rec_t fx_recs [FX_NREC];
static int fx_nrec;
static int32_t fx_day0;
static int32_t fx_recday [FX_NREC];    //  day of each record, computed once
static int32_t fx_res_first = 1, fx_res_last = 0;   //  the window of test_store.c's resolved
                                                    //  classes (s_res), reset by fx_generate

static uint64_t fx_rng;
static inline uint32_t
fx_rand (uint32_t n)
{
    fx_rng ^= fx_rng << 13; fx_rng ^= fx_rng >> 7; fx_rng ^= fx_rng << 17;
    return (uint32_t) (fx_rng % n);
}

static inline void
fx_generate (uint64_t seed)
{
    fx_rng = seed * 2654435761u + 88172645463325252ULL;
    fx_res_first = 1;
    fx_res_last = 0;
    assert_int_equal (ds_day_parse ("2021-03-01", &fx_day0), 0);
    for (int s = 0; s < FX_NSRC; s++) {
        char text [64];
        if (s % 7 == 3)
            snprintf (text, sizeof text, "2001:db8::%x", s + 1);
        else
            snprintf (text, sizeof text, "10.%u.%u.%u", fx_rand (4), fx_rand (256), s + 1);
        assert_int_equal (ds_addr_parse (&fx_addr [s], text), 0);
        fx_src_gt [s] = fx_rand (3) == 0;
        fx_src_class [s] = fx_src_gt [s] ? (int) fx_rand (FX_NCLASSES) : 0;   //  GT "unknown" too
    }
    fx_nrec = 0;
    for (int i = 0; i < FX_NREC - 16; i++) {
        //  Skewed: low source ids are heavy.  Day 5 and day 31 stay empty.
        int src = (int) (fx_rand (4) == 0 ? fx_rand (FX_NSRC) : fx_rand (8));
        int day = (int) fx_rand (FX_NDAYS);
        if (day == 5 || day == 31)
            day++;
        //  A few sources send only on one day, so counts near 10 occur.
        if (src >= 40)
            day = src - 30;
        if (src == 20)
            src = 21;               //  20 gets fixed traffic below
        int64_t ts = ds_tz_day_start (fx_tz, fx_day0 + day) + (int64_t) fx_rand (86400) * 1000000
                   + fx_rand (1000000);
        //  Equal timestamps across sources happen (ties on first ts).
        if (fx_rand (20) == 0)
            ts = ds_tz_day_start (fx_tz, fx_day0 + day) + 3600 * 1000000LL;
        int port = src == 2 ? 0 : (int) fx_rand (FX_NPORTS);          //  a telnet-only source
        int flags = 0;
        //  Mirai fingerprints: sources 9..15 on even days only, on telnet.
        if (src >= 9 && src <= 15 && day % 2 == 0 && fx_ports [port].port == 23)
            flags |= DS_FLAG_MIRAI;
        if (fx_rand (10) == 0)
            flags |= DS_FLAG_ZMAP;
        ds_daycache_t cache;
        ds_daycache_init (&cache);
        fx_recday [fx_nrec] = ds_tz_day (fx_tz, &cache, ts);
        fx_recs [fx_nrec++] = (fx_rec_t) { ts, src, port, flags };
    }
    //  Source 20 tests the 30-day clip: 4 packets on day 9, 3 on day 10,
    //  2 on day 39; over [10, 39] it has 5 packets, over [9, 39] 9.
    static const int days [] = { 9, 9, 9, 9, 10, 10, 10, 39, 39 };
    for (size_t k = 0; k < sizeof days / sizeof *days; k++) {
        int64_t ts = ds_tz_day_start (fx_tz, fx_day0 + days [k]) + (int64_t) (k + 1) * 1000000;
        ds_daycache_t cache;
        ds_daycache_init (&cache);
        fx_recday [fx_nrec] = ds_tz_day (fx_tz, &cache, ts);
        fx_recs [fx_nrec++] = (fx_rec_t) { ts, 20, 2, 0 };
    }
}

//  Feeds records [from, to) whose shard is `shard` of `shards` to store, in
//  batches of at most 200 whose dictionaries are rotated per batch.
static inline void
fx_feed (ds_store_t *store, uint32_t shard, uint32_t shards, uint32_t sensor, uint64_t *seq,
        int from, int to)
{
    ds_batch_t *b = ds_batch_new (200);
    int rot = 0;
    for (int i = from; i < to; ) {
        ds_batch_reset (b);
        const char *cn [FX_NCLASSES], *sn [FX_NSERVICES];
        for (int k = 0; k < FX_NCLASSES; k++)
            cn [k] = fx_classes [(k + rot) % FX_NCLASSES];
        for (int k = 0; k < FX_NSERVICES; k++)
            sn [k] = fx_services [(k + rot) % FX_NSERVICES];
        rot++;
        assert_int_equal (ds_batch_set_dicts (b, cn, FX_NCLASSES, sn, FX_NSERVICES), 0);
        for (; i < to && b->count < 200; i++) {
            const fx_rec_t *r = &fx_recs [i];
            if (ds_addr_shard (&fx_addr [r->src], shards) != shard)
                continue;
            ds_record_t rec = { r->ts, fx_addr [r->src], fx_ports [r->port].port,
                                (uint8_t) fx_ports [r->port].proto,
                                (uint8_t) (r->flags | (fx_src_gt [r->src] ? DS_FLAG_GT : 0)) };
            uint32_t k = b->count;
            assert_true (ds_batch_add (b, &rec));
            for (int c = 0; c < FX_NCLASSES; c++)
                if (strcmp (cn [c], fx_classes [fx_src_class [r->src]]) == 0)
                    b->class_id [k] = (uint16_t) c;
            for (int c = 0; c < FX_NSERVICES; c++)
                if (strcmp (sn [c], fx_ports [r->port].service) == 0)
                    b->service_id [k] = (uint16_t) c;
        }
        b->sensor = sensor;
        b->shard = shard;
        b->seq = (*seq)++;
        assert_int_equal (ds_store_apply (store, b), 1);
    }
    ds_batch_destroy (&b);
}

//  ---------------------------------------------------------------------
//  In-process fan-out + merge (what the query service does over sockets)

static inline void
fx_query_init (ds_query_t *q, const char *name)
{
    ds_query_init (q);
    snprintf (q->name, sizeof q->name, "%s", name);
}

//  The stores as the merge's shards (merge.h), asked in-process.
typedef struct {
    ds_store_t **stores;
    size_t n;
    msgpack_sbuffer bufs [8];
    msgpack_object results [8];
} fx_shards_t;

//  A round of the merge: decodes the request as a shard does, and asks
//  every store for its partial.
static inline int
fx_store_round (void *ctx, const msgpack_sbuffer *request, const msgpack_object **results,
               char *err, size_t err_size)
{
    fx_shards_t *sh = ctx;
    ds_part_req_t req;
    assert_int_equal (ds_part_req_decode ((const uint8_t *) request->data, request->size, &req,
                                          err, err_size), DS_OK);
    for (size_t i = 0; i < sh->n; i++) {
        if (ds_store_partial (sh->stores [i], &req, &sh->bufs [i], err, err_size))
            return -1;
        sh->results [i] = (msgpack_object) { .type = MSGPACK_OBJECT_BIN,
            .via.bin = { (uint32_t) sh->bufs [i].size, sh->bufs [i].data } };
    }
    *results = sh->results;
    return 0;
}

//  Pattern rounds in-process (services/query/pattern.h).
typedef struct {
    ds_store_t **stores;
    size_t n;
    msgpack_sbuffer bufs [8];
    msgpack_object objs [8];
    msgpack_zone zone;
} fx_fan_t;

static inline int
fx_pattern_round (void *ctx, const msgpack_sbuffer *req, const msgpack_object **results,
                 char *err, size_t err_size)
{
    fx_fan_t *f = ctx;
    msgpack_zone_clear (&f->zone);
    for (size_t i = 0; i < f->n; i++) {
        msgpack_sbuffer_clear (&f->bufs [i]);
        msgpack_packer pk;
        msgpack_packer_init (&pk, &f->bufs [i], msgpack_sbuffer_write);
        if (ds_store_pattern (f->stores [i], (const uint8_t *) req->data, req->size, &pk, err, err_size))
            return -1;
        assert_int_equal (ds_mp_unpack ((const uint8_t *) f->bufs [i].data, f->bufs [i].size,
                                        &f->zone, &f->objs [i]), DS_OK);
    }
    *results = f->objs;
    return 0;
}

static inline int
fx_pattern (ds_store_t **stores, size_t n, const ds_query_t *q, msgpack_packer *pk,
           char *err, size_t err_size)
{
    fx_fan_t f = { .stores = stores, .n = n };
    msgpack_zone_init (&f.zone, 4096);
    for (size_t i = 0; i < n; i++)
        msgpack_sbuffer_init (&f.bufs [i]);
    int rc = ds_qpattern_answer (q, n, fx_pattern_round, &f, pk, err, err_size);
    for (size_t i = 0; i < n; i++)
        msgpack_sbuffer_destroy (&f.bufs [i]);
    msgpack_zone_destroy (&f.zone);
    return rc;
}

//  Runs q over the stores as the query service does (range, then the
//  partials with explicit days, for an overview also the top-pp sources;
//  a pattern in its rounds); returns the packed result (caller frees) or
//  NULL with the error in err.
static inline msgpack_sbuffer *
fx_run (ds_store_t **stores, size_t n, const ds_query_t *query, char *err, size_t err_size)
{
    assert_true (n <= 8);
    ds_query_t q = *query;
    char tz [DS_PART_TZ_MAX];
    fx_shards_t sh = { .stores = stores, .n = n };
    for (size_t i = 0; i < n; i++)
        msgpack_sbuffer_init (&sh.bufs [i]);
    msgpack_sbuffer *out = msgpack_sbuffer_new ();
    msgpack_packer pk;
    msgpack_packer_init (&pk, out, msgpack_sbuffer_write);
    int rc = -1;
    if (ds_merge_range (n, fx_store_round, &sh, &q, tz, sizeof tz, NULL, err, err_size) == 0)
        rc = strcmp (q.name, "pattern") == 0
           ? fx_pattern (stores, n, &q, &pk, err, err_size)
           : ds_merge_answer (n, fx_store_round, &sh, &q, tz, &pk, err, err_size);
    if (rc)
        msgpack_sbuffer_free (out), out = NULL;
    for (size_t i = 0; i < n; i++)
        msgpack_sbuffer_destroy (&sh.bufs [i]);
    return out;
}

//  ---------------------------------------------------------------------
//  Helpers

static inline void
fx_stores (ds_store_t **stores, uint32_t n)
{
    for (uint32_t k = 0; k < n; k++) {
        stores [k] = ds_store_new (k, n, fx_tz);
        assert_non_null (stores [k]);
        uint64_t seq = 0;
        fx_feed (stores [k], k, n, 7, &seq, 0, fx_nrec);
        ds_eos_t eos = { 7, k, seq, 0, 7000, 3, 2, 0, 0, 0 };
        ds_store_eos (stores [k], &eos);
    }
}

static inline void
fx_expect_equal (const msgpack_sbuffer *got, const msgpack_sbuffer *want, const char *what)
{
    msgpack_unpacked a, b;
    msgpack_unpacked_init (&a);
    msgpack_unpacked_init (&b);
    size_t off = 0;
    assert_int_equal (msgpack_unpack_next (&a, got->data, got->size, &off), MSGPACK_UNPACK_SUCCESS);
    off = 0;
    assert_int_equal (msgpack_unpack_next (&b, want->data, want->size, &off), MSGPACK_UNPACK_SUCCESS);
    if (!msgpack_object_equal (a.data, b.data)) {
        fprintf (stderr, "MISMATCH %s\n got: ", what);
        msgpack_object_print (stderr, a.data);
        fprintf (stderr, "\nwant: ");
        msgpack_object_print (stderr, b.data);
        fprintf (stderr, "\n");
        fail ();
    }
    msgpack_unpacked_destroy (&a);
    msgpack_unpacked_destroy (&b);
}

#endif
