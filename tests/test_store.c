/*  libs: ds_query ds_aggregator ds_proto ds_common */
/*  test_store.c - the aggregator store and the query merge, no sockets.

    Known traffic is generated here (seeded), fed to stores as labelled
    batches, and every statistic of the merged overview is compared with a
    brute-force implementation in this file that works on the plain record
    list (quadratic loops, no hashing, no histogram tricks).  The brute-force
    result is packed in the §5 shape and the two msgpack objects must be
    equal.  Also: 1, 2 and 4 shards give identical bytes; pattern answers
    do not depend on arrival order (their exactness: test_pattern.c); the
    checkpoint round trip and its refusals.
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
#include <zlib.h>
#include "store.h"
#include "merge.h"
#include "pattern.h"
#include "pattern_reply.h"
#include "zone_fixture.h"
#include "record.h"

//  ---------------------------------------------------------------------
//  Generated traffic

#define NSRC    48
#define NREC    3016
#define NDAYS   40

static const char *s_classes [] = { "unknown", "censys", "stretchoid", "shodan", "engin-umich" };
#define NCLASSES 5

typedef struct { int32_t port; int proto; const char *service; } t_port_t;
static const t_port_t s_ports [] = {
    { 23, DS_PROTO_TCP, "telnet" }, { 2323, DS_PROTO_TCP, "telnet" }, { 80, DS_PROTO_TCP, "http" },
    { 443, DS_PROTO_TCP, "http" }, { 22, DS_PROTO_TCP, "ssh" }, { 445, DS_PROTO_TCP, "netbios-smb" },
    { 5555, DS_PROTO_TCP, "unk_usr" }, { 3128, DS_PROTO_TCP, "proxy" }, { 1080, DS_PROTO_TCP, "proxy" },
    { 37215, DS_PROTO_TCP, "unk_usr" }, { 60000, DS_PROTO_TCP, "unk_eph" }, { 123, DS_PROTO_UDP, "unk_sys" },
    { 53, DS_PROTO_UDP, "dns" }, { 53, DS_PROTO_TCP, "dns" }, { DS_PORT_NONE, DS_PROTO_ICMP, "icmp" },
    { DS_PORT_NONE, DS_PROTO_GRE, "icmp" }, { 80, DS_PROTO_UDP, "http" },
};
#define NPORTS ((int) (sizeof s_ports / sizeof *s_ports))
#define NSERVICES 10
static const char *s_services [NSERVICES] = { "telnet", "http", "ssh", "netbios-smb", "unk_usr",
                                              "proxy", "unk_eph", "unk_sys", "dns", "icmp" };

typedef struct {
    int64_t ts;
    int src;
    int port;                       //  index into s_ports
    int flags;
} t_rec_t;

static ds_addr_t s_addr [NSRC];
static int s_src_class [NSRC];      //  index into s_classes
static int s_src_gt [NSRC];
static t_rec_t s_recs [NREC];
static int s_nrec;
static int32_t s_day0;
static int32_t s_recday [NREC];    //  day of each record, computed once
static const char *s_res [NSRC];   //  resolved classes of the window below
static int32_t s_res_first = 1, s_res_last = 0;

static uint64_t s_rng;
static uint32_t
s_rand (uint32_t n)
{
    s_rng ^= s_rng << 13; s_rng ^= s_rng >> 7; s_rng ^= s_rng << 17;
    return (uint32_t) (s_rng % n);
}

static void
s_generate (uint64_t seed)
{
    s_rng = seed * 2654435761u + 88172645463325252ULL;
    s_res_first = 1;
    s_res_last = 0;
    assert_int_equal (ds_day_parse ("2021-03-01", &s_day0), 0);
    for (int s = 0; s < NSRC; s++) {
        char text [64];
        if (s % 7 == 3)
            snprintf (text, sizeof text, "2001:db8::%x", s + 1);
        else
            snprintf (text, sizeof text, "10.%u.%u.%u", s_rand (4), s_rand (256), s + 1);
        assert_int_equal (ds_addr_parse (&s_addr [s], text), 0);
        s_src_gt [s] = s_rand (3) == 0;
        s_src_class [s] = s_src_gt [s] ? (int) s_rand (NCLASSES) : 0;   //  GT "unknown" too
    }
    s_nrec = 0;
    for (int i = 0; i < NREC - 16; i++) {
        //  Skewed: low source ids are heavy.  Day 5 and day 31 stay empty.
        int src = (int) (s_rand (4) == 0 ? s_rand (NSRC) : s_rand (8));
        int day = (int) s_rand (NDAYS);
        if (day == 5 || day == 31)
            day++;
        //  A few sources send only on one day, so counts near 10 occur.
        if (src >= 40)
            day = src - 30;
        if (src == 20)
            src = 21;               //  20 gets fixed traffic below
        int64_t ts = ds_tz_day_start (fx_tz, s_day0 + day) + (int64_t) s_rand (86400) * 1000000
                   + s_rand (1000000);
        //  Equal timestamps across sources happen (ties on first ts).
        if (s_rand (20) == 0)
            ts = ds_tz_day_start (fx_tz, s_day0 + day) + 3600 * 1000000LL;
        int port = src == 2 ? 0 : (int) s_rand (NPORTS);          //  a telnet-only source
        int flags = 0;
        //  Mirai fingerprints: sources 9..15 on even days only, on telnet.
        if (src >= 9 && src <= 15 && day % 2 == 0 && s_ports [port].port == 23)
            flags |= DS_FLAG_MIRAI;
        if (s_rand (10) == 0)
            flags |= DS_FLAG_ZMAP;
        ds_daycache_t cache;
        ds_daycache_init (&cache);
        s_recday [s_nrec] = ds_tz_day (fx_tz, &cache, ts);
        s_recs [s_nrec++] = (t_rec_t) { ts, src, port, flags };
    }
    //  Source 20 tests the 30-day clip: 4 packets on day 9, 3 on day 10,
    //  2 on day 39; over [10, 39] it has 5 packets, over [9, 39] 9.
    static const int days [] = { 9, 9, 9, 9, 10, 10, 10, 39, 39 };
    for (size_t k = 0; k < sizeof days / sizeof *days; k++) {
        int64_t ts = ds_tz_day_start (fx_tz, s_day0 + days [k]) + (int64_t) (k + 1) * 1000000;
        ds_daycache_t cache;
        ds_daycache_init (&cache);
        s_recday [s_nrec] = ds_tz_day (fx_tz, &cache, ts);
        s_recs [s_nrec++] = (t_rec_t) { ts, 20, 2, 0 };
    }
}

//  Feeds records [from, to) whose shard is `shard` of `shards` to store, in
//  batches of at most 200 whose dictionaries are rotated per batch.
static void
s_feed (ds_store_t *store, uint32_t shard, uint32_t shards, uint32_t sensor, uint64_t *seq,
        int from, int to)
{
    ds_batch_t *b = ds_batch_new (200);
    int rot = 0;
    for (int i = from; i < to; ) {
        ds_batch_reset (b);
        const char *cn [NCLASSES], *sn [NSERVICES];
        for (int k = 0; k < NCLASSES; k++)
            cn [k] = s_classes [(k + rot) % NCLASSES];
        for (int k = 0; k < NSERVICES; k++)
            sn [k] = s_services [(k + rot) % NSERVICES];
        rot++;
        assert_int_equal (ds_batch_set_dicts (b, cn, NCLASSES, sn, NSERVICES), 0);
        for (; i < to && b->count < 200; i++) {
            const t_rec_t *r = &s_recs [i];
            if (ds_addr_shard (&s_addr [r->src], shards) != shard)
                continue;
            ds_record_t rec = { r->ts, s_addr [r->src], s_ports [r->port].port,
                                (uint8_t) s_ports [r->port].proto,
                                (uint8_t) (r->flags | (s_src_gt [r->src] ? DS_FLAG_GT : 0)) };
            uint32_t k = b->count;
            assert_true (ds_batch_add (b, &rec));
            for (int c = 0; c < NCLASSES; c++)
                if (strcmp (cn [c], s_classes [s_src_class [r->src]]) == 0)
                    b->class_id [k] = (uint16_t) c;
            for (int c = 0; c < NSERVICES; c++)
                if (strcmp (sn [c], s_ports [r->port].service) == 0)
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

static void
s_query_init (ds_query_t *q, const char *name)
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
} t_shards_t;

//  A round of the merge: decodes the request as a shard does, and asks
//  every store for its partial.
static int
s_store_round (void *ctx, const msgpack_sbuffer *request, const msgpack_object **results,
               char *err, size_t err_size)
{
    t_shards_t *sh = ctx;
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
} t_fan_t;

static int
s_pattern_round (void *ctx, const msgpack_sbuffer *req, const msgpack_object **results,
                 char *err, size_t err_size)
{
    t_fan_t *f = ctx;
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

static int
s_pattern (ds_store_t **stores, size_t n, const ds_query_t *q, msgpack_packer *pk,
           char *err, size_t err_size)
{
    t_fan_t f = { .stores = stores, .n = n };
    msgpack_zone_init (&f.zone, 4096);
    for (size_t i = 0; i < n; i++)
        msgpack_sbuffer_init (&f.bufs [i]);
    int rc = ds_qpattern_answer (q, n, s_pattern_round, &f, pk, err, err_size);
    for (size_t i = 0; i < n; i++)
        msgpack_sbuffer_destroy (&f.bufs [i]);
    msgpack_zone_destroy (&f.zone);
    return rc;
}

//  Runs q over the stores as the query service does (range, then the
//  partials with explicit days, for an overview also the top-pp sources;
//  a pattern in its rounds); returns the packed result (caller frees) or
//  NULL with the error in err.
static msgpack_sbuffer *
s_run (ds_store_t **stores, size_t n, const ds_query_t *query, char *err, size_t err_size)
{
    assert_true (n <= 8);
    ds_query_t q = *query;
    char tz [DS_PART_TZ_MAX];
    t_shards_t sh = { .stores = stores, .n = n };
    for (size_t i = 0; i < n; i++)
        msgpack_sbuffer_init (&sh.bufs [i]);
    msgpack_sbuffer *out = msgpack_sbuffer_new ();
    msgpack_packer pk;
    msgpack_packer_init (&pk, out, msgpack_sbuffer_write);
    int rc = -1;
    if (ds_merge_range (n, s_store_round, &sh, &q, tz, sizeof tz, NULL, err, err_size) == 0)
        rc = strcmp (q.name, "pattern") == 0
           ? s_pattern (stores, n, &q, &pk, err, err_size)
           : ds_merge_answer (n, s_store_round, &sh, &q, tz, &pk, err, err_size);
    if (rc)
        msgpack_sbuffer_free (out), out = NULL;
    for (size_t i = 0; i < n; i++)
        msgpack_sbuffer_destroy (&sh.bufs [i]);
    return out;
}

//  ---------------------------------------------------------------------
//  Brute force over s_recs


static void
s_str (msgpack_packer *pk, const char *s)
{
    msgpack_pack_str (pk, strlen (s));
    msgpack_pack_str_body (pk, s, strlen (s));
}

static void
s_pp_text (int port, char *buf)
{
    ds_pp_format (buf, 16, s_ports [port].port, s_ports [port].proto);
}

//  Packets of source s over days [a, b].
static uint64_t
s_src_packets (int s, int32_t a, int32_t b)
{
    uint64_t n = 0;
    for (int i = 0; i < s_nrec; i++)
        if (s_recs [i].src == s) {
            int32_t d = s_recday [i];
            n += d >= a && d <= b;
        }
    return n;
}

static bool
s_src_active (int s, int32_t a, int32_t b)
{
    return s_src_packets (s, a, b) > 0;
}

static const char *
s_resolved_slow (int s, int32_t first, int32_t last)
{
    if (s_src_gt [s])
        return s_classes [s_src_class [s]];
    for (int i = 0; i < s_nrec; i++) {
        int32_t d = s_recday [i];
        if (s_recs [i].src == s && d >= first && d <= last && (s_recs [i].flags & DS_FLAG_MIRAI))
            return "mirai";
    }
    return "unknown";
}

//  Resolved classes of the current window, computed once per window.
static const char *
s_resolved (int s, int32_t first, int32_t last)
{
    if (first != s_res_first || last != s_res_last) {
        for (int k = 0; k < NSRC; k++)
            s_res [k] = s_resolved_slow (k, first, last);
        s_res_first = first;
        s_res_last = last;
    }
    return s_res [s];
}

//  pp text of two s_ports indexes is equal?
static bool
s_same_pp (int a, int b)
{
    return s_ports [a].port == s_ports [b].port && s_ports [a].proto == s_ports [b].proto;
}

//  dataset for days [a, b]
static void
s_brute_dataset (msgpack_packer *pk, int32_t a, int32_t b)
{
    uint64_t sources = 0, packets = 0, ports = 0, pps = 0;
    for (int s = 0; s < NSRC; s++)
        sources += s_src_active (s, a, b);
    //  pp candidates: first port index of each distinct pp with packets
    int cand [NPORTS], nc = 0;
    uint64_t cpk [NPORTS], csrc [NPORTS];
    for (int p = 0; p < NPORTS; p++) {
        bool first = true;
        for (int q = 0; q < p; q++)
            if (s_same_pp (p, q))
                first = false;
        if (!first)
            continue;
        uint64_t n = 0, srcs = 0;
        for (int s = 0; s < NSRC; s++) {
            uint64_t m = 0;
            for (int i = 0; i < s_nrec; i++) {
                int32_t d = s_recday [i];
                if (s_recs [i].src == s && d >= a && d <= b && s_same_pp (s_recs [i].port, p))
                    m++;
            }
            n += m;
            srcs += m > 0;
        }
        if (n) {
            cand [nc] = p; cpk [nc] = n; csrc [nc] = srcs; nc++;
            packets += n;
            pps++;
        }
    }
    for (int i = 0; i < nc; i++) {
        bool first = true;
        for (int j = 0; j < i; j++)
            if (s_ports [cand [j]].port == s_ports [cand [i]].port)
                first = false;
        ports += first;
    }
    msgpack_pack_map (pk, 5);
    s_str (pk, "sources"); msgpack_pack_uint64 (pk, sources);
    s_str (pk, "packets"); msgpack_pack_uint64 (pk, packets);
    s_str (pk, "ports"); msgpack_pack_uint64 (pk, ports);
    s_str (pk, "pp"); msgpack_pack_uint64 (pk, pps);
    s_str (pk, "top_pp");
    int nt = nc < 3 ? nc : 3;
    msgpack_pack_array (pk, (size_t) nt);
    bool used [NPORTS] = { false };
    for (int t = 0; t < nt; t++) {
        int best = -1;
        char bt [16], ct [16];
        for (int i = 0; i < nc; i++) {
            if (used [i])
                continue;
            s_pp_text (cand [i], ct);
            if (best < 0 || cpk [i] > cpk [best] || (cpk [i] == cpk [best] && strcmp (ct, bt) < 0)) {
                best = i;
                strcpy (bt, ct);
            }
        }
        used [best] = true;
        msgpack_pack_map (pk, 4);
        s_str (pk, "pp"); s_str (pk, bt);
        s_str (pk, "packets"); msgpack_pack_uint64 (pk, cpk [best]);
        s_str (pk, "percent"); msgpack_pack_double (pk, (100.0 * (double) cpk [best]) / (double) packets);
        s_str (pk, "sources"); msgpack_pack_uint64 (pk, csrc [best]);
    }
}

typedef struct { char name [64]; uint64_t senders, packets; } t_class_row_t;

static void
s_brute_overview (msgpack_packer *pk, int32_t first, int32_t last, int64_t minp, const char *section)
{
    int32_t cfirst = last - 29 > first ? last - 29 : first;
    uint64_t mp = minp > 0 ? (uint64_t) minp : 0;
    char day [11];
    bool all = strcmp (section, "overview") == 0;
    if (all) {
        msgpack_pack_map (pk, 12);
        s_str (pk, "schema"); s_str (pk, "darkscope.overview/1");
        s_str (pk, "tz"); s_str (pk, ds_tz_name (fx_tz));
        s_str (pk, "min_packets"); msgpack_pack_int64 (pk, minp);
        s_str (pk, "window");
        msgpack_pack_map (pk, 3);
        ds_day_format (first, day); s_str (pk, "first_day"); s_str (pk, day);
        ds_day_format (last, day); s_str (pk, "last_day"); s_str (pk, day);
        s_str (pk, "days"); msgpack_pack_int32 (pk, last - first + 1);
        s_str (pk, "dataset");
        msgpack_pack_map (pk, 2);
        s_str (pk, "window"); s_brute_dataset (pk, first, last);
        s_str (pk, "last_day"); s_brute_dataset (pk, last, last);
    }
    if (all || strcmp (section, "ports") == 0) {
        if (!all)
            msgpack_pack_map (pk, 1);
        s_str (pk, "port_ranking");
        //  distinct port numbers (-1 for "-") with packets
        int32_t pnum [NPORTS]; uint64_t ppk [NPORTS]; int np = 0;
        for (int p = 0; p < NPORTS; p++) {
            bool seen = false;
            for (int q = 0; q < np; q++)
                seen |= pnum [q] == s_ports [p].port;
            if (seen)
                continue;
            uint64_t n = 0;
            for (int i = 0; i < s_nrec; i++) {
                int32_t d = s_recday [i];
                n += d >= first && d <= last && s_ports [s_recs [i].port].port == s_ports [p].port;
            }
            if (n) { pnum [np] = s_ports [p].port; ppk [np] = n; np++; }
        }
        msgpack_pack_array (pk, (size_t) np);
        bool used [NPORTS] = { false };
        for (int t = 0; t < np; t++) {
            int best = -1;
            for (int i = 0; i < np; i++) {
                if (used [i]) continue;
                int64_t ki = pnum [i] < 0 ? 1 << 20 : pnum [i];
                int64_t kb = best < 0 ? 0 : pnum [best] < 0 ? 1 << 20 : pnum [best];
                if (best < 0 || ppk [i] > ppk [best] || (ppk [i] == ppk [best] && ki < kb))
                    best = i;
            }
            used [best] = true;
            char text [16];
            if (pnum [best] < 0) strcpy (text, "-"); else snprintf (text, sizeof text, "%d", pnum [best]);
            msgpack_pack_map (pk, 2);
            s_str (pk, "port"); s_str (pk, text);
            s_str (pk, "packets"); msgpack_pack_uint64 (pk, ppk [best]);
        }
    }
    uint64_t pw [NSRC];
    for (int s = 0; s < NSRC; s++)
        pw [s] = s_src_packets (s, first, last);
    if (all || strcmp (section, "ecdf") == 0) {
        if (!all)
            msgpack_pack_map (pk, 1);
        s_str (pk, "sender_ecdf");
        uint64_t vals [NSRC]; int nv = 0; uint64_t total = 0;
        for (int s = 0; s < NSRC; s++) {
            if (!pw [s]) continue;
            total++;
            bool seen = false;
            for (int k = 0; k < nv; k++) seen |= vals [k] == pw [s];
            if (!seen) vals [nv++] = pw [s];
        }
        for (int i = 0; i < nv; i++)            //  selection sort ascending
            for (int j = i + 1; j < nv; j++)
                if (vals [j] < vals [i]) { uint64_t t = vals [i]; vals [i] = vals [j]; vals [j] = t; }
        msgpack_pack_array (pk, (size_t) nv);
        for (int i = 0; i < nv; i++) {
            uint64_t le = 0;
            for (int s = 0; s < NSRC; s++)
                le += pw [s] && pw [s] <= vals [i];
            msgpack_pack_map (pk, 2);
            s_str (pk, "packets"); msgpack_pack_uint64 (pk, vals [i]);
            s_str (pk, "fraction"); msgpack_pack_double (pk, (double) le / (double) total);
        }
    }
    if (all) {
        uint64_t kept = 0, kp = 0;
        for (int s = 0; s < NSRC; s++)
            if (pw [s] && pw [s] >= mp) { kept++; kp += pw [s]; }
        s_str (pk, "filter");
        msgpack_pack_map (pk, 2);
        s_str (pk, "sources_kept"); msgpack_pack_uint64 (pk, kept);
        s_str (pk, "packets_kept"); msgpack_pack_uint64 (pk, kp);
    }
    if (all || strcmp (section, "daily") == 0) {
        if (!all)
            msgpack_pack_map (pk, 1);
        s_str (pk, "daily");
        msgpack_pack_array (pk, (size_t) (last - first + 1));
        for (int32_t d = first; d <= last; d++) {
            uint64_t src = 0, filt = 0, cum = 0, cumf = 0;
            for (int s = 0; s < NSRC; s++) {
                bool kept = pw [s] && pw [s] >= mp;
                if (s_src_active (s, d, d)) { src++; filt += kept; }
                if (s_src_active (s, first, d)) { cum++; cumf += kept; }
            }
            ds_day_format (d, day);
            msgpack_pack_map (pk, 5);
            s_str (pk, "day"); s_str (pk, day);
            s_str (pk, "sources"); msgpack_pack_uint64 (pk, src);
            s_str (pk, "sources_filtered"); msgpack_pack_uint64 (pk, filt);
            s_str (pk, "cumulative"); msgpack_pack_uint64 (pk, cum);
            s_str (pk, "cumulative_filtered"); msgpack_pack_uint64 (pk, cumf);
        }
    }
    //  The filtered last day: sources with >= minp packets over [cfirst, last].
    bool sel [NSRC];
    for (int s = 0; s < NSRC; s++)
        sel [s] = s_src_active (s, last, last) && s_src_packets (s, cfirst, last) >= mp;
    t_class_row_t rows [NCLASSES + 2];
    int nrows = 0;
    for (int s = 0; s < NSRC; s++) {
        if (!sel [s]) continue;
        const char *c = s_resolved (s, first, last);
        int r = 0;
        while (r < nrows && strcmp (rows [r].name, c) != 0) r++;
        if (r == nrows) { memset (&rows [r], 0, sizeof rows [r]); strcpy (rows [r].name, c); nrows++; }
        rows [r].senders++;
        rows [r].packets += s_src_packets (s, last, last);
    }
    //  order: senders desc, packets desc, name (bubble sort)
    for (int i = 0; i < nrows; i++)
        for (int j = 0; j + 1 < nrows - i; j++) {
            t_class_row_t *x = &rows [j], *y = &rows [j + 1];
            bool swap = y->senders > x->senders || (y->senders == x->senders && (y->packets > x->packets
                        || (y->packets == x->packets && strcmp (y->name, x->name) < 0)));
            if (swap) { t_class_row_t t = *x; *x = *y; *y = t; }
        }
    //  packets of (class row, pp / service) on the filtered last day
    #define ROWPK(r, pred) ({ uint64_t _n = 0; \
        for (int i = 0; i < s_nrec; i++) { const t_rec_t *rr = &s_recs [i]; \
            if (sel [rr->src] && s_recday [i] == last \
            &&  strcmp (s_resolved (rr->src, first, last), rows [r].name) == 0 && (pred)) _n++; } _n; })
    if (all || strcmp (section, "classes") == 0) {
        if (!all)
            msgpack_pack_map (pk, 1);
        s_str (pk, "classes");
        msgpack_pack_array (pk, (size_t) nrows);
        for (int r = 0; r < nrows; r++) {
            int cand [NPORTS], nc = 0; uint64_t cpk [NPORTS];
            for (int p = 0; p < NPORTS; p++) {
                bool firstp = true;
                for (int q = 0; q < p; q++) if (s_same_pp (p, q)) firstp = false;
                if (!firstp) continue;
                uint64_t n = ROWPK (r, s_same_pp (rr->port, p));
                if (n) { cand [nc] = p; cpk [nc] = n; nc++; }
            }
            msgpack_pack_map (pk, 5);
            s_str (pk, "class"); s_str (pk, rows [r].name);
            s_str (pk, "senders"); msgpack_pack_uint64 (pk, rows [r].senders);
            s_str (pk, "packets"); msgpack_pack_uint64 (pk, rows [r].packets);
            s_str (pk, "pp"); msgpack_pack_uint64 (pk, (uint64_t) nc);
            s_str (pk, "top_pp");
            int nt = nc < 5 ? nc : 5;
            msgpack_pack_array (pk, (size_t) nt);
            bool used [NPORTS] = { false };
            for (int t = 0; t < nt; t++) {
                int best = -1; char bt [16], ct [16];
                for (int i = 0; i < nc; i++) {
                    if (used [i]) continue;
                    s_pp_text (cand [i], ct);
                    if (best < 0 || cpk [i] > cpk [best] || (cpk [i] == cpk [best] && strcmp (ct, bt) < 0)) {
                        best = i; strcpy (bt, ct);
                    }
                }
                used [best] = true;
                msgpack_pack_map (pk, 3);
                s_str (pk, "pp"); s_str (pk, bt);
                s_str (pk, "packets"); msgpack_pack_uint64 (pk, cpk [best]);
                s_str (pk, "percent");
                msgpack_pack_double (pk, (100.0 * (double) cpk [best]) / (double) rows [r].packets);
            }
        }
    }
    if (all || strcmp (section, "heatmap") == 0) {
        if (!all)
            msgpack_pack_map (pk, 1);
        s_str (pk, "heatmap");
        //  heatmap services: others merge
        const char *hs [NSERVICES]; uint64_t htot [NSERVICES]; int nh = 0;
        for (int k = 0; k < NSERVICES; k++) {
            const char *name = s_services [k];
            if (!strncmp (name, "unk_", 4) || !strcmp (name, "proxy")) name = "others";
            bool seen = false;
            for (int j = 0; j < nh; j++) seen |= strcmp (hs [j], name) == 0;
            if (seen) continue;
            uint64_t n = 0;
            for (int r = 0; r < nrows; r++) {
                const char *nm = name;
                n += ROWPK (r, ({ const char *sv = s_ports [rr->port].service;
                    if (!strncmp (sv, "unk_", 4) || !strcmp (sv, "proxy")) sv = "others";
                    strcmp (sv, nm) == 0; }));
            }
            if (n) { hs [nh] = name; htot [nh] = n; nh++; }
        }
        for (int i = 0; i < nh; i++)
            for (int j = 0; j + 1 < nh - i; j++)
                if (htot [j + 1] > htot [j] || (htot [j + 1] == htot [j] && strcmp (hs [j + 1], hs [j]) < 0)) {
                    const char *t = hs [j]; hs [j] = hs [j + 1]; hs [j + 1] = t;
                    uint64_t u = htot [j]; htot [j] = htot [j + 1]; htot [j + 1] = u;
                }
        msgpack_pack_map (pk, 3);
        s_str (pk, "classes");
        msgpack_pack_array (pk, (size_t) nrows);
        for (int r = 0; r < nrows; r++) s_str (pk, rows [r].name);
        s_str (pk, "services");
        msgpack_pack_array (pk, (size_t) nh);
        for (int i = 0; i < nh; i++) s_str (pk, hs [i]);
        s_str (pk, "fraction");
        msgpack_pack_array (pk, (size_t) nh);
        for (int i = 0; i < nh; i++) {
            msgpack_pack_array (pk, (size_t) nrows);
            for (int r = 0; r < nrows; r++) {
                const char *nm = hs [i];
                uint64_t n = ROWPK (r, ({ const char *sv = s_ports [rr->port].service;
                    if (!strncmp (sv, "unk_", 4) || !strcmp (sv, "proxy")) sv = "others";
                    strcmp (sv, nm) == 0; }));
                msgpack_pack_double (pk, (double) n / (double) rows [r].packets);
            }
        }
    }
    if (all) {
        s_str (pk, "ingest");
        msgpack_pack_map (pk, 7);
        s_str (pk, "packets_read"); msgpack_pack_uint64 (pk, 7000);   //  from the EOS we send
        s_str (pk, "non_ip"); msgpack_pack_uint64 (pk, 3);
        s_str (pk, "malformed"); msgpack_pack_uint64 (pk, 2);
        s_str (pk, "bad_time"); msgpack_pack_uint64 (pk, 0);
        s_str (pk, "dropped"); msgpack_pack_uint64 (pk, 0);
        s_str (pk, "gaps"); msgpack_pack_uint64 (pk, 0);
        s_str (pk, "complete"); msgpack_pack_true (pk);           //  its one sensor ended, no gap
    }
}

//  ---------------------------------------------------------------------
//  Helpers

static void
s_stores (ds_store_t **stores, uint32_t n)
{
    for (uint32_t k = 0; k < n; k++) {
        stores [k] = ds_store_new (k, n, fx_tz);
        assert_non_null (stores [k]);
        uint64_t seq = 0;
        s_feed (stores [k], k, n, 7, &seq, 0, s_nrec);
        ds_eos_t eos = { 7, k, seq, 0, 7000, 3, 2, 0, 0, 0 };
        ds_store_eos (stores [k], &eos);
    }
}

static void
s_expect_equal (const msgpack_sbuffer *got, const msgpack_sbuffer *want, const char *what)
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

static void
s_check_windows (ds_store_t **stores, size_t n)
{
    int32_t lo = INT32_MAX, hi = INT32_MIN;
    for (int i = 0; i < s_nrec; i++) {
        int32_t d = s_recday [i];
        lo = d < lo ? d : lo;
        hi = d > hi ? d : hi;
    }
    //  (first offset, last offset, min_packets); -1 = default window.
    static const int cases [][3] = {
        { -1, -1, 10 }, { -1, -1, 1 }, { 3, 20, 10 }, { 10, 10, 1 }, { 10, 10, 10 },
        { 0, 31, 10 },              //  last day is an empty day
        { 2, 39, 5 },               //  the 30-day clip matters (39 - 29 = 10 > 2)
        { 2, 39, 6 }, { 0, 38, 5 },
        { 4, 6, 3 }, { 0, 39, 0 },
    };
    static const char *sections [] = { "overview", "ports", "ecdf", "daily", "classes", "heatmap" };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++)
        for (size_t s = 0; s < sizeof sections / sizeof *sections; s++) {
            if (s > 0 && c % 3 != 0)
                continue;
            ds_query_t q;
            s_query_init (&q, sections [s]);
            int32_t first = lo, last = hi;
            if (cases [c][0] >= 0) {
                first = s_day0 + cases [c][0];
                last = s_day0 + cases [c][1];
                ds_day_format (first, q.first_day);
                ds_day_format (last, q.last_day);
            }
            q.min_packets = cases [c][2];
            char err [256] = "";
            msgpack_sbuffer *got = s_run (stores, n, &q, err, sizeof err);
            if (!got)
                fprintf (stderr, "error: %s\n", err);
            assert_non_null (got);
            msgpack_sbuffer want;
            msgpack_sbuffer_init (&want);
            msgpack_packer pk;
            msgpack_packer_init (&pk, &want, msgpack_sbuffer_write);
            s_brute_overview (&pk, first, last, q.min_packets, sections [s]);
            char what [128];
            snprintf (what, sizeof what, "case %zu %s", c, sections [s]);
            s_expect_equal (got, &want, what);
            msgpack_sbuffer_free (got);
            msgpack_sbuffer_destroy (&want);
        }
}

//  ---------------------------------------------------------------------
//  Tests

static void
test_overview_brute_force (void **state)
{
    (void) state;
    const char *zones [] = { "UTC", "Europe/Rome", "America/New_York" };
    for (uint64_t seed = 1; seed <= 3; seed++) {
        fx_zone (zones [seed - 1]);
        s_generate (seed);
        ds_store_t *stores [2];
        s_stores (stores, 2);
        s_check_windows (stores, 2);
        ds_store_destroy (&stores [0]);
        ds_store_destroy (&stores [1]);
    }
    fx_zone ("UTC");
}

static void
test_shards_identical (void **state)
{
    (void) state;
    fx_zone ("Europe/Rome");
    s_generate (11);
    msgpack_sbuffer *first [3] = { NULL };
    uint32_t counts [] = { 1, 2, 4 };
    for (int c = 0; c < 3; c++) {
        ds_store_t *stores [4];
        s_stores (stores, counts [c]);
        ds_query_t q;
        s_query_init (&q, "overview");
        char err [256];
        first [c] = s_run (stores, counts [c], &q, err, sizeof err);
        assert_non_null (first [c]);
        for (uint32_t k = 0; k < counts [c]; k++)
            ds_store_destroy (&stores [k]);
    }
    for (int c = 1; c < 3; c++) {
        assert_int_equal (first [c]->size, first [0]->size);
        assert_memory_equal (first [c]->data, first [0]->data, first [0]->size);
    }
    for (int c = 0; c < 3; c++)
        msgpack_sbuffer_free (first [c]);
    fx_zone ("UTC");
}

//  Pattern bins do not depend on arrival order: the same packets of two
//  sources (many per minute, some minutes far apart) fed in time order,
//  in reverse, and shuffled, with pattern queries and a checkpoint in
//  between, give byte-identical merged pattern and overview answers.
static void
s_order_feed (ds_store_t *store, const ds_record_t *recs, const int *order, int from, int to,
              uint64_t *seq)
{
    ds_batch_t *b = ds_batch_new (64);
    for (int i = from; i < to; ) {
        ds_batch_reset (b);
        for (; i < to && b->count < 64; i++)
            assert_true (ds_batch_add (b, &recs [order [i]]));
        b->seq = (*seq)++;
        assert_int_equal (ds_store_apply (store, b), 1);
    }
    ds_batch_destroy (&b);
}

static msgpack_sbuffer *
s_order_run (ds_store_t *store, const char *name, int64_t from_us, int64_t to_us)
{
    ds_query_t q;
    s_query_init (&q, name);
    q.from_us = from_us;
    q.to_us = to_us;
    char err [256] = "";
    msgpack_sbuffer *buf = s_run (&store, 1, &q, err, sizeof err);
    if (!buf)
        fprintf (stderr, "error: %s\n", err);
    assert_non_null (buf);
    return buf;
}

static void
test_pattern_order (void **state)
{
    (void) state;
    fx_zone ("UTC");
    enum { N = 3000 };
    static ds_record_t recs [N];
    static int order [3][N];
    int32_t day0;
    assert_int_equal (ds_day_parse ("2021-03-01", &day0), 0);
    int64_t t0 = ds_tz_day_start (fx_tz, day0);
    s_rng = 12345;
    for (int i = 0; i < N; i++) {
        //  Bursts inside few minutes, plus jumps of hours and days.
        int64_t minute = (i / 40) * 7 + (i % 5 == 0 ? (int64_t) s_rand (3) * 1440 : 0);
        recs [i].ts = t0 + minute * 60000000LL + (int64_t) s_rand (60000000);
        ds_addr_parse (&recs [i].src, i % 3 ? "192.0.2.1" : "2001:db8::7");
        recs [i].port = 23 + (int32_t) s_rand (3);
        recs [i].proto = DS_PROTO_TCP;
        recs [i].flags = 0;
    }
    //  0: time order (stable by index), 1: reverse, 2: shuffled.
    for (int i = 0; i < N; i++)
        order [0][i] = i;
    for (int i = 1; i < N; i++)
        for (int j = i; j > 0 && recs [order [0][j - 1]].ts > recs [order [0][j]].ts; j--) {
            int t = order [0][j]; order [0][j] = order [0][j - 1]; order [0][j - 1] = t;
        }
    for (int i = 0; i < N; i++) {
        order [1][i] = order [0][N - 1 - i];
        order [2][i] = i;
    }
    for (int i = N - 1; i > 0; i--) {
        int j = (int) s_rand ((uint32_t) i + 1);
        int t = order [2][i]; order [2][i] = order [2][j]; order [2][j] = t;
    }
    const int64_t ranges [][2] = {
        { INT64_MIN, INT64_MAX },
        { t0 + 60 * 60000000LL, t0 + 1500 * 60000000LL },
        { t0 + 1441 * 60000000LL, t0 + 4000 * 60000000LL },
    };
    msgpack_sbuffer *want [4] = { NULL };
    for (int o = 0; o < 3; o++) {
        ds_store_t *store = ds_store_new (0, 1, fx_tz);
        uint64_t seq = 0;
        //  Half, a pattern query (merges the late bins), the rest.
        s_order_feed (store, recs, order [o], 0, N / 2, &seq);
        msgpack_sbuffer_free (s_order_run (store, "pattern", INT64_MIN, INT64_MAX));
        s_order_feed (store, recs, order [o], N / 2, N, &seq);
        if (o == 2) {
            //  Checkpoint with unmerged late bins, then compare the copy.
            char path [] = "/tmp/ds_order_XXXXXX";
            int fd = mkstemp (path);
            assert_true (fd >= 0);
            close (fd);
            char err [256];
            assert_int_equal (ds_store_save (store, path, err, sizeof err), 0);
            ds_store_destroy (&store);
            store = ds_store_load (path, 0, 1, fx_tz, err, sizeof err);
            assert_non_null (store);
            unlink (path);
        }
        for (int r = 0; r < 4; r++) {
            msgpack_sbuffer *got = r < 3 ? s_order_run (store, "pattern", ranges [r][0], ranges [r][1])
                                         : s_order_run (store, "overview", INT64_MIN, INT64_MAX);
            if (o == 0)
                want [r] = got;
            else {
                s_expect_equal (got, want [r], r < 3 ? "pattern (order)" : "overview (order)");
                msgpack_sbuffer_free (got);
            }
        }
        ds_store_destroy (&store);
    }
    //  The time-ordered store's bins, checked by hand: one point per
    //  (source, minute) with packets, first ts the earliest packet.
    msgpack_unpacked u;
    msgpack_unpacked_init (&u);
    assert_int_equal (msgpack_unpack_next (&u, want [0]->data, want [0]->size, NULL),
                      MSGPACK_UNPACK_SUCCESS);
    ds_pattern_reply_t reply;
    char err [256] = "";
    assert_int_equal (ds_pattern_reply_read (&u.data, &reply, err, sizeof err), 0);
    size_t expect = 0;
    for (int i = 0; i < N; i++) {
        const ds_record_t *a = &recs [order [0][i]];
        bool seen = false;
        for (int k = 0; k < i && !seen; k++) {
            const ds_record_t *b = &recs [order [0][k]];
            seen = memcmp (&a->src, &b->src, 16) == 0 && a->ts / 60000000 == b->ts / 60000000;
        }
        expect += !seen;
    }
    assert_int_equal (reply.points, expect);
    assert_int_equal (reply.n_sample, expect);          //  all in the first page
    assert_int_equal (reply.sources, 2);
    ds_pattern_reply_free (&reply);
    msgpack_unpacked_destroy (&u);
    for (int r = 0; r < 4; r++)
        msgpack_sbuffer_free (want [r]);
}

//  A store spanning more than 8192 days (the (day, src, pp) entries then
//  read their day from the (day, src) entry) answers a window exactly as a
//  store holding only that window's records.
static void
test_long_span (void **state)
{
    (void) state;
    fx_zone ("UTC");
    int32_t d0, d1 = 0;
    assert_int_equal (ds_day_parse ("1990-01-01", &d0), 0);
    d1 = d0 + 9000;
    ds_store_t *both = ds_store_new (0, 1, fx_tz), *late = ds_store_new (0, 1, fx_tz);
    ds_batch_t *b = ds_batch_new (512);
    uint64_t seq_both = 0, seq_late = 0;
    s_rng = 99;
    for (int round = 0; round < 4; round++) {
        bool is_late = round % 2 == 1;
        ds_batch_reset (b);
        for (int i = 0; i < 500; i++) {
            ds_record_t rec;
            rec.ts = ds_tz_day_start (fx_tz, is_late ? d1 : d0) + (int64_t) s_rand (86400) * 1000000;
            char text [32];
            snprintf (text, sizeof text, "10.0.%u.%u", s_rand (3), s_rand (20));
            ds_addr_parse (&rec.src, text);
            rec.port = 20 + (int32_t) s_rand (6);
            rec.proto = (uint8_t) s_rand (2);
            rec.flags = s_rand (4) == 0 ? DS_FLAG_MIRAI : 0;
            assert_true (ds_batch_add (b, &rec));
        }
        b->seq = seq_both++;
        assert_int_equal (ds_store_apply (both, b), 1);
        if (is_late) {
            b->seq = seq_late++;
            assert_int_equal (ds_store_apply (late, b), 1);
        }
    }
    ds_batch_destroy (&b);
    ds_query_t q;
    s_query_init (&q, "overview");
    ds_day_format (d1, q.first_day);
    ds_day_format (d1, q.last_day);
    q.min_packets = 2;
    char err [256] = "";
    msgpack_sbuffer *got = s_run (&both, 1, &q, err, sizeof err);
    msgpack_sbuffer *want = s_run (&late, 1, &q, err, sizeof err);
    assert_non_null (got);
    assert_non_null (want);
    s_expect_equal (got, want, "overview (long span)");
    msgpack_sbuffer_free (got);
    msgpack_sbuffer_free (want);
    ds_store_destroy (&both);
    ds_store_destroy (&late);
}

static void
test_replay_and_gaps (void **state)
{
    (void) state;
    s_generate (3);
    ds_store_t *a = ds_store_new (0, 1, fx_tz), *b = ds_store_new (0, 1, fx_tz);
    uint64_t seq = 0;
    s_feed (a, 0, 1, 1, &seq, 0, s_nrec);
    //  b gets the same batches twice: replays change nothing.
    seq = 0;
    s_feed (b, 0, 1, 1, &seq, 0, s_nrec);
    ds_batch_t *batch = ds_batch_new (10);
    const char *cn [] = { "unknown" }, *sn [] = { "telnet" };
    ds_batch_set_dicts (batch, cn, 1, sn, 1);
    ds_record_t rec = { s_recs [0].ts, s_addr [0], 23, DS_PROTO_TCP, 0 };
    ds_batch_add (batch, &rec);
    batch->sensor = 1;
    batch->seq = 0;
    assert_int_equal (ds_store_apply (b, batch), 0);
    batch->seq = seq - 1;
    assert_int_equal (ds_store_apply (b, batch), 0);
    ds_query_t q;
    s_query_init (&q, "overview");
    char err [256];
    msgpack_sbuffer *ra = s_run (&a, 1, &q, err, sizeof err);
    msgpack_sbuffer *rb = s_run (&b, 1, &q, err, sizeof err);
    assert_int_equal (ra->size, rb->size);
    assert_memory_equal (ra->data, rb->data, ra->size);
    //  A jump of 5 seqs is 5 gaps; an EOS announcing 3 more batches adds 3.
    batch->seq = seq + 5;
    assert_int_equal (ds_store_apply (b, batch), 1);
    ds_eos_t eos = { 1, 0, seq + 9, 0, 1, 0, 0, 0, 0, 0 };
    ds_store_eos (b, &eos);
    assert_int_equal (ds_store_eos_count (b), 1);
    msgpack_sbuffer *rc = s_run (&b, 1, &q, err, sizeof err);
    msgpack_unpacked u;
    msgpack_unpacked_init (&u);
    size_t off = 0;
    msgpack_unpack_next (&u, rc->data, rc->size, &off);
    const msgpack_object *ing = NULL;
    for (uint32_t i = 0; i < u.data.via.map.size; i++)
        if (u.data.via.map.ptr [i].key.via.str.size == 6
        &&  memcmp (u.data.via.map.ptr [i].key.via.str.ptr, "ingest", 6) == 0)
            ing = &u.data.via.map.ptr [i].val;
    assert_non_null (ing);
    assert_int_equal (ing->via.map.ptr [5].val.via.u64, 8);     //  gaps
    assert_int_equal (ing->via.map.ptr [0].val.via.u64, 1);     //  packets_read
    msgpack_unpacked_destroy (&u);
    msgpack_sbuffer_free (ra);
    msgpack_sbuffer_free (rb);
    msgpack_sbuffer_free (rc);
    ds_batch_destroy (&batch);
    ds_store_destroy (&a);
    ds_store_destroy (&b);
}

//  Gaps of a store's stream, from the "ingest" part of its overview.
static uint64_t
s_gaps (ds_store_t *store)
{
    ds_query_t q;
    s_query_init (&q, "overview");
    char err [256];
    msgpack_sbuffer *r = s_run (&store, 1, &q, err, sizeof err);
    assert_non_null (r);
    msgpack_unpacked u;
    msgpack_unpacked_init (&u);
    size_t off = 0;
    assert_int_equal (msgpack_unpack_next (&u, r->data, r->size, &off), MSGPACK_UNPACK_SUCCESS);
    uint64_t gaps = UINT64_MAX;
    for (uint32_t i = 0; i < u.data.via.map.size; i++)
        if (u.data.via.map.ptr [i].key.via.str.size == 6
        &&  memcmp (u.data.via.map.ptr [i].key.via.str.ptr, "ingest", 6) == 0)
            gaps = u.data.via.map.ptr [i].val.via.map.ptr [5].val.via.u64;
    msgpack_unpacked_destroy (&u);
    msgpack_sbuffer_free (r);
    return gaps;
}

//  Batch j is records [100 j, 100 j + 100) with seq j (one batch each).
static void
s_feed_seq (ds_store_t *store, uint64_t j)
{
    uint64_t seq = j;
    s_feed (store, 0, 1, 4, &seq, (int) j * 100, (int) j * 100 + 100);
}

//  After a restart from a checkpoint, the batches that never arrived (a
//  jump in seq, or announced by the EOS) are filled by a replay of the
//  input, each exactly once, in any order; the result equals a store that
//  saw everything.  Beyond the remembered ranges a gap stays for good.
static void
test_replay_fills_gaps (void **state)
{
    (void) state;
    s_generate (5);
    const uint64_t nb = (uint64_t) s_nrec / 100;
    assert_true (nb > 10);
    ds_store_t *a = ds_store_new (0, 1, fx_tz), *b = ds_store_new (0, 1, fx_tz);
    for (uint64_t j = 0; j < nb; j++)
        s_feed_seq (a, j);
    ds_eos_t eos = { 4, 0, nb, 0, 77, 1, 2, 0, 0, 0 };
    ds_store_eos (a, &eos);
    //  b misses seqs 1-2, 4-6 and, from its EOS, 8..nb-1.
    s_feed_seq (b, 0);
    s_feed_seq (b, 3);
    s_feed_seq (b, 7);
    ds_store_eos (b, &eos);
    assert_int_equal (s_gaps (b), nb - 3);
    //  The holes survive a checkpoint.
    char dir [] = "/tmp/ds_holes_XXXXXX", path [256], err [512];
    assert_non_null (mkdtemp (dir));
    snprintf (path, sizeof path, "%s/s.ckpt", dir);
    assert_int_equal (ds_store_save (b, path, err, sizeof err), 0);
    ds_store_destroy (&b);
    b = ds_store_load (path, 0, 1, fx_tz, err, sizeof err);
    if (!b)
        fprintf (stderr, "%s\n", err);
    assert_non_null (b);
    unlink (path);
    rmdir (dir);
    assert_int_equal (s_gaps (b), nb - 3);
    //  The replay: a missing seq is applied (also from a hole's middle),
    //  anything seen before is ignored.
    ds_batch_t *batch = ds_batch_new (10);
    const char *cn [] = { "unknown" }, *sn [] = { "telnet" };
    ds_batch_set_dicts (batch, cn, 1, sn, 1);
    ds_record_t rec = { s_recs [0].ts, s_addr [0], 23, DS_PROTO_TCP, 0 };
    ds_batch_add (batch, &rec);
    batch->sensor = 4;
    for (uint64_t j = 0; j < 8; j += 7) {       //  0 and 7 were applied
        batch->seq = j;
        assert_int_equal (ds_store_apply (b, batch), 0);
    }
    uint64_t order [] = { 5, 4, 6, 2, 1 };
    for (size_t i = 0; i < sizeof order / sizeof *order; i++) {
        s_feed_seq (b, order [i]);
        batch->seq = order [i];
        assert_int_equal (ds_store_apply (b, batch), 0);     //  no second time
    }
    assert_int_equal (s_gaps (b), nb - 8);
    //  The EOS's hole, filled from its middle outwards.
    s_feed_seq (b, nb / 2 + 4);
    assert_int_equal (s_gaps (b), nb - 9);
    for (uint64_t j = 8; j < nb; j++)
        if (j != nb / 2 + 4)
            s_feed_seq (b, j);
    for (uint64_t j = 0; j < nb + 3; j++) {
        batch->seq = j;
        assert_int_equal (ds_store_apply (b, batch), j < nb ? 0 : 1);
    }
    assert_int_equal (s_gaps (b), 0);
    //  (a gets the same three tail batches, so both are equal again)
    for (uint64_t j = nb; j < nb + 3; j++) {
        batch->seq = j;
        assert_int_equal (ds_store_apply (a, batch), 1);
    }
    ds_query_t q;
    s_query_init (&q, "overview");
    msgpack_sbuffer *ra = s_run (&a, 1, &q, err, sizeof err);
    msgpack_sbuffer *rb = s_run (&b, 1, &q, err, sizeof err);
    assert_non_null (ra);
    assert_non_null (rb);
    assert_int_equal (ra->size, rb->size);
    assert_memory_equal (ra->data, rb->data, ra->size);
    msgpack_sbuffer_free (ra);
    msgpack_sbuffer_free (rb);
    ds_store_destroy (&a);
    ds_store_destroy (&b);

    //  The bound: seqs 0, 2, 4, ... leave 4100 one-seq holes; 4096 are
    //  remembered and filled, the last 4 stay gaps (their batches are
    //  ignored, not applied twice).
    ds_store_t *c = ds_store_new (0, 1, fx_tz);
    batch->sensor = 9;
    for (uint64_t j = 0; j <= 8200; j += 2) {
        batch->seq = j;
        assert_int_equal (ds_store_apply (c, batch), 1);
    }
    assert_int_equal (s_gaps (c), 4100);
    for (int pass = 0; pass < 2; pass++)
        for (uint64_t j = 1; j < 8200; j += 2) {
            batch->seq = j;
            assert_int_equal (ds_store_apply (c, batch), pass == 0 && j < 8192 ? 1 : 0);
        }
    assert_int_equal (s_gaps (c), 4);
    ds_store_destroy (&c);
    ds_batch_destroy (&batch);
}

static void
test_empty_store (void **state)
{
    (void) state;
    ds_store_t *s = ds_store_new (0, 1, fx_tz);
    ds_query_t q;
    s_query_init (&q, "overview");
    char err [256] = "";
    assert_null (s_run (&s, 1, &q, err, sizeof err));
    assert_non_null (strstr (err, "no data"));
    //  An explicit window over an empty store is a valid, empty overview.
    snprintf (q.first_day, sizeof q.first_day, "2021-03-01");
    snprintf (q.last_day, sizeof q.last_day, "2021-03-02");
    msgpack_sbuffer *r = s_run (&s, 1, &q, err, sizeof err);
    assert_non_null (r);
    msgpack_sbuffer_free (r);
    //  first after last
    snprintf (q.first_day, sizeof q.first_day, "2021-03-03");
    assert_null (s_run (&s, 1, &q, err, sizeof err));
    ds_store_destroy (&s);
}

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
    s_generate (8);
    ds_store_t *stores [2];
    s_stores (stores, 2);
    char dir [] = "/tmp/ds_ckpt_XXXXXX";
    assert_non_null (mkdtemp (dir));
    char path [256], bad [256], err [512];
    snprintf (path, sizeof path, "%s/shard1.ckpt", dir);
    snprintf (bad, sizeof bad, "%s/bad.ckpt", dir);
    assert_int_equal (ds_store_save (stores [1], path, err, sizeof err), 0);
    ds_store_t *loaded = ds_store_load (path, 1, 2, fx_tz, err, sizeof err);
    if (!loaded)
        fprintf (stderr, "%s\n", err);
    assert_non_null (loaded);
    ds_query_t q;
    s_query_init (&q, "overview");
    ds_store_t *pair [2] = { stores [0], loaded };
    msgpack_sbuffer *a = s_run (stores, 2, &q, err, sizeof err);
    msgpack_sbuffer *b = s_run (pair, 2, &q, err, sizeof err);
    assert_int_equal (a->size, b->size);
    assert_memory_equal (a->data, b->data, a->size);
    msgpack_sbuffer_free (b);
    //  Its stream comes back as it was, with the time of its newest record
    //  (status's data lag: known at once after a restart, not only once
    //  new data arrive).
    int64_t newest = 0;
    for (int i = 0; i < s_nrec; i++)
        if (ds_addr_shard (&s_addr [s_recs [i].src], 2) == 1 && s_recs [i].ts > newest)
            newest = s_recs [i].ts;
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
    s_feed (loaded, 1, 2, 9, &seq, 0, 500);
    seq = 1000;
    s_feed (stores [1], 1, 2, 9, &seq, 0, 500);
    msgpack_sbuffer_free (a);
    a = s_run (stores, 2, &q, err, sizeof err);
    b = s_run (pair, 2, &q, err, sizeof err);
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
    unlink (path);
    rmdir (dir);
    ds_store_destroy (&stores [0]);
    ds_store_destroy (&stores [1]);
    fx_zone ("UTC");
}

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
        cmocka_unit_test (test_overview_brute_force),
        cmocka_unit_test (test_shards_identical),
        cmocka_unit_test (test_pattern_order),
        cmocka_unit_test (test_long_span),
        cmocka_unit_test (test_replay_and_gaps),
        cmocka_unit_test (test_replay_fills_gaps),
        cmocka_unit_test (test_empty_store),
        cmocka_unit_test (test_checkpoint),
        cmocka_unit_test (test_retention_memory),
        cmocka_unit_test (test_zones_side_by_side),
    };
    return cmocka_run_group_tests (tests, fx_zones_setup, fx_zones_free);
}
