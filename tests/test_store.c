/*  libs: ds_query ds_aggregator ds_proto ds_common */
/*  test_store.c - the aggregator store and the query merge, no sockets:
    the overview against brute force.

    Known traffic (store_fixture.h) is fed to stores as labelled batches,
    and every statistic of the merged overview is compared with a
    brute-force implementation in this file that works on the plain record
    list (quadratic loops, no hashing, no histogram tricks).  The brute-force
    result is packed in the §5 shape and the two msgpack objects must be
    equal.  Also: 1, 2 and 4 shards give identical bytes; the same records
    with queries between their batches (each merges the open days' logs
    into their runs) and in reverse order (late records unseal days) give
    the same answers; a day of more entries than a log holds; an empty
    store's answers.  Patterns: test_store_pattern.c; streams, gaps and replays:
    test_store_streams.c; checkpoints: test_store_checkpoint.c; retention
    and zones: test_store_days.c.
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

//  ---------------------------------------------------------------------
//  Brute force over fx_recs

static const char *s_res [FX_NSRC];   //  resolved classes of the window fx_res_first..last

static void
s_str (msgpack_packer *pk, const char *s)
{
    msgpack_pack_str (pk, strlen (s));
    msgpack_pack_str_body (pk, s, strlen (s));
}

static void
s_pp_text (int port, char *buf)
{
    ds_pp_format (buf, 16, fx_ports [port].port, fx_ports [port].proto);
}

//  Packets of source s over days [a, b].
static uint64_t
s_src_packets (int s, int32_t a, int32_t b)
{
    uint64_t n = 0;
    for (int i = 0; i < fx_nrec; i++)
        if (fx_recs [i].src == s) {
            int32_t d = fx_recday [i];
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
    if (fx_src_gt [s])
        return fx_classes [fx_src_class [s]];
    for (int i = 0; i < fx_nrec; i++) {
        int32_t d = fx_recday [i];
        if (fx_recs [i].src == s && d >= first && d <= last && (fx_recs [i].flags & DS_FLAG_MIRAI))
            return "mirai";
    }
    return "unknown";
}

//  Resolved classes of the current window, computed once per window.
static const char *
s_resolved (int s, int32_t first, int32_t last)
{
    if (first != fx_res_first || last != fx_res_last) {
        for (int k = 0; k < FX_NSRC; k++)
            s_res [k] = s_resolved_slow (k, first, last);
        fx_res_first = first;
        fx_res_last = last;
    }
    return s_res [s];
}

//  pp text of two fx_ports indexes is equal?
static bool
s_same_pp (int a, int b)
{
    return fx_ports [a].port == fx_ports [b].port && fx_ports [a].proto == fx_ports [b].proto;
}

//  dataset for days [a, b]
static void
s_brute_dataset (msgpack_packer *pk, int32_t a, int32_t b)
{
    uint64_t sources = 0, packets = 0, ports = 0, pps = 0;
    for (int s = 0; s < FX_NSRC; s++)
        sources += s_src_active (s, a, b);
    //  pp candidates: first port index of each distinct pp with packets
    int cand [FX_NPORTS], nc = 0;
    uint64_t cpk [FX_NPORTS], csrc [FX_NPORTS];
    for (int p = 0; p < FX_NPORTS; p++) {
        bool first = true;
        for (int q = 0; q < p; q++)
            if (s_same_pp (p, q))
                first = false;
        if (!first)
            continue;
        uint64_t n = 0, srcs = 0;
        for (int s = 0; s < FX_NSRC; s++) {
            uint64_t m = 0;
            for (int i = 0; i < fx_nrec; i++) {
                int32_t d = fx_recday [i];
                if (fx_recs [i].src == s && d >= a && d <= b && s_same_pp (fx_recs [i].port, p))
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
            if (fx_ports [cand [j]].port == fx_ports [cand [i]].port)
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
    bool used [FX_NPORTS] = { false };
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
        int32_t pnum [FX_NPORTS]; uint64_t ppk [FX_NPORTS]; int np = 0;
        for (int p = 0; p < FX_NPORTS; p++) {
            bool seen = false;
            for (int q = 0; q < np; q++)
                seen |= pnum [q] == fx_ports [p].port;
            if (seen)
                continue;
            uint64_t n = 0;
            for (int i = 0; i < fx_nrec; i++) {
                int32_t d = fx_recday [i];
                n += d >= first && d <= last && fx_ports [fx_recs [i].port].port == fx_ports [p].port;
            }
            if (n) { pnum [np] = fx_ports [p].port; ppk [np] = n; np++; }
        }
        msgpack_pack_array (pk, (size_t) np);
        bool used [FX_NPORTS] = { false };
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
    uint64_t pw [FX_NSRC];
    for (int s = 0; s < FX_NSRC; s++)
        pw [s] = s_src_packets (s, first, last);
    if (all || strcmp (section, "ecdf") == 0) {
        if (!all)
            msgpack_pack_map (pk, 1);
        s_str (pk, "sender_ecdf");
        uint64_t vals [FX_NSRC]; int nv = 0; uint64_t total = 0;
        for (int s = 0; s < FX_NSRC; s++) {
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
            for (int s = 0; s < FX_NSRC; s++)
                le += pw [s] && pw [s] <= vals [i];
            msgpack_pack_map (pk, 2);
            s_str (pk, "packets"); msgpack_pack_uint64 (pk, vals [i]);
            s_str (pk, "fraction"); msgpack_pack_double (pk, (double) le / (double) total);
        }
    }
    if (all) {
        uint64_t kept = 0, kp = 0;
        for (int s = 0; s < FX_NSRC; s++)
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
            for (int s = 0; s < FX_NSRC; s++) {
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
    bool sel [FX_NSRC];
    for (int s = 0; s < FX_NSRC; s++)
        sel [s] = s_src_active (s, last, last) && s_src_packets (s, cfirst, last) >= mp;
    t_class_row_t rows [FX_NCLASSES + 2];
    int nrows = 0;
    for (int s = 0; s < FX_NSRC; s++) {
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
        for (int i = 0; i < fx_nrec; i++) { const fx_rec_t *rr = &fx_recs [i]; \
            if (sel [rr->src] && fx_recday [i] == last \
            &&  strcmp (s_resolved (rr->src, first, last), rows [r].name) == 0 && (pred)) _n++; } _n; })
    if (all || strcmp (section, "classes") == 0) {
        if (!all)
            msgpack_pack_map (pk, 1);
        s_str (pk, "classes");
        msgpack_pack_array (pk, (size_t) nrows);
        for (int r = 0; r < nrows; r++) {
            int cand [FX_NPORTS], nc = 0; uint64_t cpk [FX_NPORTS];
            for (int p = 0; p < FX_NPORTS; p++) {
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
            bool used [FX_NPORTS] = { false };
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
        const char *hs [FX_NSERVICES]; uint64_t htot [FX_NSERVICES]; int nh = 0;
        for (int k = 0; k < FX_NSERVICES; k++) {
            const char *name = fx_services [k];
            if (!strncmp (name, "unk_", 4) || !strcmp (name, "proxy")) name = "others";
            bool seen = false;
            for (int j = 0; j < nh; j++) seen |= strcmp (hs [j], name) == 0;
            if (seen) continue;
            uint64_t n = 0;
            for (int r = 0; r < nrows; r++) {
                const char *nm = name;
                n += ROWPK (r, ({ const char *sv = fx_ports [rr->port].service;
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
                uint64_t n = ROWPK (r, ({ const char *sv = fx_ports [rr->port].service;
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

static void
s_check_windows (ds_store_t **stores, size_t n)
{
    int32_t lo = INT32_MAX, hi = INT32_MIN;
    for (int i = 0; i < fx_nrec; i++) {
        int32_t d = fx_recday [i];
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
            fx_query_init (&q, sections [s]);
            int32_t first = lo, last = hi;
            if (cases [c][0] >= 0) {
                first = fx_day0 + cases [c][0];
                last = fx_day0 + cases [c][1];
                ds_day_format (first, q.first_day);
                ds_day_format (last, q.last_day);
            }
            q.min_packets = cases [c][2];
            char err [256] = "";
            msgpack_sbuffer *got = fx_run (stores, n, &q, err, sizeof err);
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
            fx_expect_equal (got, &want, what);
            msgpack_sbuffer_free (got);
            msgpack_sbuffer_destroy (&want);
        }
}

static void
test_overview_brute_force (void **state)
{
    (void) state;
    const char *zones [] = { "UTC", "Europe/Rome", "America/New_York" };
    for (uint64_t seed = 1; seed <= 3; seed++) {
        fx_zone (zones [seed - 1]);
        fx_generate (seed);
        ds_store_t *stores [2];
        fx_stores (stores, 2);
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
    fx_generate (11);
    msgpack_sbuffer *first [3] = { NULL };
    uint32_t counts [] = { 1, 2, 4 };
    for (int c = 0; c < 3; c++) {
        ds_store_t *stores [4];
        fx_stores (stores, counts [c]);
        ds_query_t q;
        fx_query_init (&q, "overview");
        char err [256];
        first [c] = fx_run (stores, counts [c], &q, err, sizeof err);
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

//  The records in chunks, last chunk first (so days sealed by a newer one
//  get late records), an overview asked after each chunk (every open
//  day's log merged into its runs, then more records merged into those):
//  still the brute force's answers.
static void
test_settled_between_batches (void **state)
{
    (void) state;
    fx_zone ("Europe/Rome");
    fx_generate (5);
    ds_store_t *stores [2];
    for (uint32_t k = 0; k < 2; k++) {
        stores [k] = ds_store_new (k, 2, fx_tz);
        assert_non_null (stores [k]);
    }
    uint64_t seq [2] = { 0, 0 };
    int chunk = 400;
    for (int to = fx_nrec; to > 0; to -= chunk) {
        int from = to - chunk > 0 ? to - chunk : 0;
        for (uint32_t k = 0; k < 2; k++)
            fx_feed (stores [k], k, 2, 7, &seq [k], from, to);
        ds_query_t q;
        fx_query_init (&q, "overview");
        char err [256] = "";
        msgpack_sbuffer *r = fx_run (stores, 2, &q, err, sizeof err);
        assert_non_null (r);
        msgpack_sbuffer_free (r);
    }
    for (uint32_t k = 0; k < 2; k++) {
        ds_eos_t eos = { 7, k, seq [k], 0, 7000, 3, 2, 0, 0, 0 };
        ds_store_eos (stores [k], &eos);
    }
    s_check_windows (stores, 2);
    ds_store_destroy (&stores [0]);
    ds_store_destroy (&stores [1]);
    fx_zone ("UTC");
}

//  The value of key in map object o (NULL if absent or o is no map).
static const msgpack_object *
s_field (const msgpack_object *o, const char *key)
{
    if (!o || o->type != MSGPACK_OBJECT_MAP)
        return NULL;
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object_kv *kv = &o->via.map.ptr [i];
        if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == strlen (key)
        &&  memcmp (kv->key.via.str.ptr, key, kv->key.via.str.size) == 0)
            return &kv->val;
    }
    return NULL;
}

//  Adds to store the (src, port) pairs of a grid, each `times` times, in
//  an order that interleaves sources and ports, on 2021-03-10 UTC.
static void
s_grid (ds_store_t *store, int n_src, int n_port, int times, uint64_t *seq, bool ask)
{
    ds_batch_t *b = ds_batch_new (4096);
    int64_t t0 = 1615334400LL * 1000000;           //  2021-03-10 00:00 UTC
    int64_t total = (int64_t) n_src * n_port * times, i = 0;
    while (i < total) {
        ds_batch_reset (b);
        for (; i < total && b->count < 4096; i++) {
            int64_t pair = (i * 7919) % ((int64_t) n_src * n_port);   //  7919: prime, not a factor
            int src = (int) (pair % n_src), port = (int) (pair / n_src);
            ds_record_t rec = { t0 + i, { { 0 } }, port, DS_PROTO_TCP, 0 };
            rec.src.b [10] = rec.src.b [11] = 0xff;
            rec.src.b [12] = 10;
            rec.src.b [13] = (uint8_t) (src >> 16);
            rec.src.b [14] = (uint8_t) (src >> 8);
            rec.src.b [15] = (uint8_t) src;
            assert_true (ds_batch_add (b, &rec));
        }
        b->sensor = 1;
        b->seq = (*seq)++;
        assert_int_equal (ds_store_apply (store, b), 1);
        if (ask && *seq % 64 == 0) {
            ds_query_t q;
            fx_query_init (&q, "overview");
            char err [256] = "";
            msgpack_sbuffer *r = fx_run (&store, 1, &q, err, sizeof err);
            assert_non_null (r);
            msgpack_sbuffer_free (r);
        }
    }
    ds_batch_destroy (&b);
}

//  One day of 600,000 distinct (source, pp) entries, each sent twice: more
//  records than an open day's log holds (it is merged into the runs when
//  full), the same answer with overviews asked in between (merged at other
//  points), and the port ranking's counts as the grid makes them.
static void
test_day_bigger_than_log (void **state)
{
    (void) state;
    fx_zone ("UTC");
    enum { SRC = 800, PORT = 750, TIMES = 2 };
    ds_store_t *a = ds_store_new (0, 1, NULL), *b = ds_store_new (0, 1, NULL);
    uint64_t seq_a = 0, seq_b = 0;
    s_grid (a, SRC, PORT, TIMES, &seq_a, false);
    s_grid (b, SRC, PORT, TIMES, &seq_b, true);
    ds_query_t q;
    fx_query_init (&q, "overview");
    char err [256] = "";
    msgpack_sbuffer *ra = fx_run (&a, 1, &q, err, sizeof err);
    msgpack_sbuffer *rb = fx_run (&b, 1, &q, err, sizeof err);
    assert_non_null (ra);
    assert_non_null (rb);
    assert_int_equal (ra->size, rb->size);
    assert_memory_equal (ra->data, rb->data, ra->size);
    //  Every port SRC * TIMES packets; the window SRC sources, PORT pps.
    msgpack_unpacked u;
    msgpack_unpacked_init (&u);
    assert_int_equal (msgpack_unpack_next (&u, ra->data, ra->size, NULL), MSGPACK_UNPACK_SUCCESS);
    const msgpack_object *ports = s_field (&u.data, "port_ranking");
    assert_non_null (ports);
    assert_int_equal (ports->via.array.size, PORT);
    for (uint32_t i = 0; i < ports->via.array.size; i++)
        assert_int_equal (s_field (&ports->via.array.ptr [i], "packets")->via.u64, SRC * TIMES);
    const msgpack_object *window = s_field (s_field (&u.data, "dataset"), "window");
    assert_int_equal (s_field (window, "sources")->via.u64, SRC);
    assert_int_equal (s_field (window, "pp")->via.u64, PORT);
    assert_int_equal (s_field (window, "packets")->via.u64, (uint64_t) SRC * PORT * TIMES);
    msgpack_unpacked_destroy (&u);
    msgpack_sbuffer_free (ra);
    msgpack_sbuffer_free (rb);
    ds_store_destroy (&a);
    ds_store_destroy (&b);
}

static void
test_empty_store (void **state)
{
    (void) state;
    ds_store_t *s = ds_store_new (0, 1, fx_tz);
    ds_query_t q;
    fx_query_init (&q, "overview");
    char err [256] = "";
    assert_null (fx_run (&s, 1, &q, err, sizeof err));
    assert_non_null (strstr (err, "no data"));
    //  An explicit window over an empty store is a valid, empty overview.
    snprintf (q.first_day, sizeof q.first_day, "2021-03-01");
    snprintf (q.last_day, sizeof q.last_day, "2021-03-02");
    msgpack_sbuffer *r = fx_run (&s, 1, &q, err, sizeof err);
    assert_non_null (r);
    msgpack_sbuffer_free (r);
    //  first after last
    snprintf (q.first_day, sizeof q.first_day, "2021-03-03");
    assert_null (fx_run (&s, 1, &q, err, sizeof err));
    ds_store_destroy (&s);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_overview_brute_force),
        cmocka_unit_test (test_shards_identical),
        cmocka_unit_test (test_settled_between_batches),
        cmocka_unit_test (test_day_bigger_than_log),
        cmocka_unit_test (test_empty_store),
    };
    return cmocka_run_group_tests (tests, fx_zones_setup, fx_zones_free);
}
