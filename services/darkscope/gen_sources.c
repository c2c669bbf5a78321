/*  gen_sources.c - who sends in the synthetic month; see gen_sources.h.

    Sources are drawn in a fixed order from one stream: the research
    organisations first (their sources in the organisation's own /16, a
    few of them IPv6), then every other kind in kind order; then the
    packet counts (small ones, then the heavy ones' Pareto shares of the
    rest of the exact target); then the active days.  Changing that order
    changes every generated month.
*/
#include "gen_sources.h"
#include "log.h"
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_SRC_PER_PKT   117             //  DarkVec: 63.5 M packets, 544 k sources

//  --------------------------------------------------------------------------
//  Tables: kinds, research organisations.

typedef struct {
    const char *name;
    double source_share;        //  of all sources (research: per org table)
    double small_share;         //  of its sources sending 1..9 packets
    double weight;              //  heavy sources' share of the packet budget
    double v6_share;            //  of its sources with an IPv6 address
} s_kind_t;

//  Index = ds_gen_kind_t.  The tail takes the sources the others leave.
static const s_kind_t s_kinds [DS_GEN_KIND_COUNT] = {
    { "mirai",       0.350, 0.75, 1.0, 0 },
    { "research",    0,     0,    4.0, 0 },
    { "zmap",        0.008, 0,    6.0, 0 },
    { "masscan",     0.006, 0,    6.0, 0 },
    { "scanner",     0.070, 0.60, 1.5, 0.004 },
    { "worm445",     0.050, 0.80, 1.5, 0 },
    { "worm5555",    0.040, 0.80, 1.5, 0 },
    { "udp",         0.040, 0.85, 0.7, 0.004 },
    { "icmp",        0.030, 0.85, 0.5, 0.004 },
    { "backscatter", 0.050, 0.85, 2.0, 0 },
    { "tail",        0,     1,    0,   0.002 },
};

static const ds_gen_org_t s_orgs [] = {
    { "censys",          0.004, 4, 1, DS_GEN_CAMPAIGN,  10, 400 },
    { "shodan",          0.002, 3, 0, DS_GEN_CAMPAIGN,  20, 250 },
    { "stretchoid",      0.003, 6, 0, DS_GEN_BURST,     0, 40 },
    { "engin-umich",     0,     4, 0, DS_GEN_SCHEDULE, 100, 1 },
    { "binaryedge",      0.002, 3, 0, DS_GEN_CAMPAIGN,   5, 150 },
    { "internet-census", 0.002, 3, 0, DS_GEN_CAMPAIGN,   0, 60 },
    { "shadowserver",    0.002, 3, 1, DS_GEN_CAMPAIGN,  40, 80 },
    { "rapid7",          0.001, 2, 0, DS_GEN_CAMPAIGN,  10, 30 },
    { "netscout",        0,     2, 0, DS_GEN_CAMPAIGN,   0, 20 },     //  aliased to unknown
    { "quadmetrics",     0,     2, 0, DS_GEN_CAMPAIGN,   0, 20 },     //  aliased to unknown
};
#define S_NORGS (sizeof (s_orgs) / sizeof (s_orgs [0]))

struct _ds_gen_sources_t {
    ds_rng_t *rng;              //  the population stream (while drawing)
    ds_gen_source_t *src;
    size_t nsrc;
    uint8_t (*v6) [16];
    size_t nv6;
    uint32_t *set;              //  open-addressing set of used IPv4 (0 = empty)
    size_t set_mask;
    uint32_t tele_base;         //  telescope prefix, host order
    uint32_t tele_mask;         //  host bits
    int days;
    int max_active_days;        //  > 0: unlisted sources' days capped, wrapping
};

static bool
s_reserved (const ds_gen_sources_t *g, uint32_t a)
{
    uint32_t o = a >> 24;
    if (o == 0 || o == 10 || o == 127 || o >= 224)
        return true;
    if ((a & 0xffc00000) == 0x64400000          //  100.64/10
    ||  (a & 0xffff0000) == 0xa9fe0000          //  169.254/16
    ||  (a & 0xfff00000) == 0xac100000          //  172.16/12
    ||  (a & 0xffff0000) == 0xc0a80000          //  192.168/16
    ||  (a & 0xffffff00) == 0xc0000000          //  192.0.0/24
    ||  (a & 0xffffff00) == 0xc0000200          //  192.0.2/24
    ||  (a & 0xfffe0000) == 0xc6120000          //  198.18/15
    ||  (a & 0xffffff00) == 0xc6336400          //  198.51.100/24
    ||  (a & 0xffffff00) == 0xcb007100)         //  203.0.113/24
        return true;
    return (a & ~g->tele_mask) == g->tele_base;
}

//  Inserts a into the address set; false if it was there already.
static bool
s_claim (ds_gen_sources_t *g, uint32_t a)
{
    size_t i = (size_t) (ds_rng_hash (a) & g->set_mask);
    while (g->set [i]) {
        if (g->set [i] == a)
            return false;
        i = (i + 1) & g->set_mask;
    }
    g->set [i] = a;
    return true;
}

static uint32_t
s_random_v4 (ds_gen_sources_t *g)
{
    for (;;) {
        uint32_t a = (uint32_t) ds_rng_next (g->rng);
        if (!s_reserved (g, a) && s_claim (g, a))
            return a;
    }
}

static void
s_random_v6 (ds_gen_sources_t *g, ds_gen_source_t *s, uint16_t site)
{
    uint8_t *a = g->v6 [g->nv6];
    uint64_t lo = ds_rng_next (g->rng), mid = ds_rng_next (g->rng);
    a [0] = 0x20; a [1] = 0x01; a [2] = 0x0d; a [3] = 0xb8;     //  2001:db8::/32
    a [4] = (uint8_t) (site >> 8);
    a [5] = (uint8_t) site;
    for (int i = 0; i < 2; i++)
        a [6 + i] = (uint8_t) (mid >> (8 * i));
    for (int i = 0; i < 8; i++)
        a [8 + i] = (uint8_t) (lo >> (8 * i));
    s->v6 = 1;
    s->addr = (uint32_t) g->nv6++;
}

//  1..9 packets, most of them few; the tail 1 (70%) or 2.
static uint32_t
s_small_count (ds_gen_sources_t *g, int kind)
{
    if (kind == DS_GEN_TAIL)
        return ds_rng_below (g->rng, 10) < 7 ? 1 : 2;
    double u = ds_rng_unit (g->rng);
    uint32_t n = 1 + (uint32_t) (DS_GEN_SMALL_MAX * u * u);
    return n > DS_GEN_SMALL_MAX ? DS_GEN_SMALL_MAX : n;
}

//  Active days of a source: research all month, campaigns a few days,
//  small sources one to three days, bots anything from a day to the month
//  (or to max_active_days).
static void
s_active_days (ds_gen_sources_t *g, ds_gen_source_t *s)
{
    uint32_t days = (uint32_t) g->days, nd;
    if (s->kind == DS_GEN_RESEARCH)
        nd = days;
    else
    if (s->packets <= DS_GEN_SMALL_MAX)
        nd = 1 + (uint32_t) ds_rng_below (g->rng, s->packets < 3 ? 1 : 3);
    else
    if (s->kind == DS_GEN_ZMAP || s->kind == DS_GEN_MASSCAN)
        nd = 1 + (uint32_t) ds_rng_below (g->rng, 5);
    else
    if (s->kind == DS_GEN_BACKSCATTER)
        nd = 1 + (uint32_t) ds_rng_below (g->rng, 2);
    else
        nd = 1 + (uint32_t) ds_rng_below (g->rng, days);
    uint32_t cap = (uint32_t) g->max_active_days;
    if (cap > 0 && s->kind != DS_GEN_RESEARCH && nd > cap)
        nd = cap;
    if (nd > days)
        nd = days;
    if (nd > s->packets)
        nd = s->packets;
    s->ndays = (uint16_t) nd;
    //  A steady stream (max_active_days set): activity may wrap around the
    //  period's end, so every day holds the same mix; else it lies inside.
    s->first_day = (uint16_t) ds_rng_below (g->rng, cap > 0 ? days : days - nd + 1);
}

//  How many sources of each kind, research per organisation, for a month
//  of P packets.  Returns the total.
static uint64_t
s_kind_counts (uint64_t P, uint64_t count [DS_GEN_KIND_COUNT], uint64_t org_count [S_NORGS])
{
    uint64_t S = P / S_SRC_PER_PKT;
    if (S < 200)
        S = P / 20 < 200 ? P / 20 : 200;
    memset (count, 0, DS_GEN_KIND_COUNT * sizeof *count);
    for (size_t o = 0; o < S_NORGS; o++) {
        uint64_t n = (uint64_t) llround (S * s_orgs [o].source_share);
        org_count [o] = n < (uint64_t) s_orgs [o].min_sources ? (uint64_t) s_orgs [o].min_sources : n;
        count [DS_GEN_RESEARCH] += org_count [o];
    }
    uint64_t assigned = count [DS_GEN_RESEARCH];
    for (int k = 0; k < DS_GEN_KIND_COUNT; k++) {
        if (k == DS_GEN_RESEARCH || k == DS_GEN_TAIL)
            continue;
        count [k] = (uint64_t) llround (S * s_kinds [k].source_share);
        if (count [k] == 0)
            count [k] = 1;
        assigned += count [k];
    }
    count [DS_GEN_TAIL] = S > assigned ? S - assigned : 0;
    return assigned + count [DS_GEN_TAIL];
}

//  Kinds, keys, rhythms and addresses: research organisations first (their
//  sources in the organisation's own /16), then every other kind in kind
//  order.
static void
s_addresses (ds_gen_sources_t *g, const uint64_t count [DS_GEN_KIND_COUNT],
             const uint64_t org_count [S_NORGS])
{
    size_t n = 0;
    for (size_t o = 0; o < S_NORGS; o++) {
        uint32_t block = s_random_v4 (g) & 0xffff0000;
        uint32_t k = 0;
        for (uint64_t i = 0; i < org_count [o]; i++) {
            ds_gen_source_t *s = &g->src [n++];
            s->kind = DS_GEN_RESEARCH;
            s->org = (uint8_t) o;
            s->rhythm = (uint8_t) s_orgs [o].rhythm;
            s->key = ds_rng_next (g->rng);
            if (i < (uint64_t) s_orgs [o].v6_sources)
                s_random_v6 (g, s, (uint16_t) (0x5c00 + o));
            else {
                uint32_t a;
                do {
                    a = block + ((k / 250) << 8) + 1 + k % 250;
                    k++;
                } while (s_reserved (g, a) || !s_claim (g, a));
                s->addr = a;
            }
        }
    }
    for (int kind = 0; kind < DS_GEN_KIND_COUNT; kind++) {
        if (kind == DS_GEN_RESEARCH)
            continue;
        for (uint64_t i = 0; i < count [kind]; i++) {
            ds_gen_source_t *s = &g->src [n++];
            s->kind = (uint8_t) kind;
            s->key = ds_rng_next (g->rng);
            s->rhythm = kind == DS_GEN_BACKSCATTER ? DS_GEN_ATTACK : DS_GEN_UNIFORM;
            if (s_kinds [kind].v6_share > 0 && ds_rng_unit (g->rng) <= s_kinds [kind].v6_share)
                s_random_v6 (g, s, (uint16_t) (0x6000 + kind));
            else
                s->addr = s_random_v4 (g);
        }
    }
}

//  Packet counts: small sources first, then the heavy ones share the rest
//  of the exact target P by their Pareto weights.  0, or -1 after logging
//  why.
static int
s_packet_counts (ds_gen_sources_t *g, uint64_t P)
{
    uint64_t small_total = 0, base_total = 0;
    double weight_total = 0;
    double *weight = calloc (g->nsrc, sizeof (double));
    if (!weight) {
        ds_log_error ("gen: out of memory");
        return -1;
    }
    uint32_t heavy_min = g->days > 10 ? (uint32_t) g->days : 10;
    for (size_t i = 0; i < g->nsrc; i++) {
        ds_gen_source_t *s = &g->src [i];
        if (ds_rng_unit (g->rng) <= s_kinds [s->kind].small_share) {
            s->packets = s_small_count (g, s->kind);
            small_total += s->packets;
        }
        else {
            s->packets = s->kind == DS_GEN_RESEARCH ? heavy_min : 10;
            base_total += s->packets;
            double w = pow (ds_rng_unit (g->rng), -1.0 / 1.3);
            weight [i] = s_kinds [s->kind].weight * (w > 500 ? 500 : w);
            weight_total += weight [i];
        }
    }
    if (P < small_total + base_total || weight_total == 0) {
        ds_log_error ("gen: packet target %llu too small for %zu sources (needs > %llu)",
                      (unsigned long long) P, g->nsrc,
                      (unsigned long long) (small_total + base_total));
        free (weight);
        return -1;
    }
    uint64_t rest = P - small_total - base_total, given = 0;
    for (size_t i = 0; i < g->nsrc; i++)
        if (weight [i] > 0) {
            uint64_t add = (uint64_t) floor ((double) rest * weight [i] / weight_total);
            if (given + add > rest)
                add = rest - given;
            g->src [i].packets += (uint32_t) add;
            given += add;
        }
    for (size_t i = 0; given < rest; i = (i + 1) % g->nsrc)
        if (weight [i] > 0) {
            g->src [i].packets++;
            given++;
        }
    free (weight);
    return 0;
}

//  The population of a month of P packets, in the order the header
//  comment gives.
static int
s_population (ds_gen_sources_t *g, uint64_t P)
{
    uint64_t count [DS_GEN_KIND_COUNT], org_count [S_NORGS];
    g->nsrc = (size_t) s_kind_counts (P, count, org_count);
    g->src = calloc (g->nsrc, sizeof (ds_gen_source_t));
    g->v6 = calloc (g->nsrc, 16);
    size_t cap = 1024;
    while (cap < 2 * g->nsrc + 2 * S_NORGS * 256)
        cap <<= 1;
    g->set = calloc (cap, sizeof (uint32_t));
    g->set_mask = cap - 1;
    if (!g->src || !g->v6 || !g->set) {
        ds_log_error ("gen: out of memory for %zu sources", g->nsrc);
        return -1;
    }
    s_addresses (g, count, org_count);
    if (s_packet_counts (g, P) != 0)
        return -1;
    for (size_t i = 0; i < g->nsrc; i++)
        s_active_days (g, &g->src [i]);
    return 0;
}

int
ds_gen_sources_write_gt (const ds_gen_sources_t *g, const char *path, uint64_t *entries)
{
    char tmp [4096];
    if (snprintf (tmp, sizeof tmp, "%s.tmp", path) >= (int) sizeof tmp) {
        ds_log_error ("gen: %s: path too long", path);
        return -1;
    }
    FILE *f = fopen (tmp, "w");
    if (!f) {
        ds_log_error ("gen: %s: %s", tmp, strerror (errno));
        return -1;
    }
    fputs ("ip,class\n", f);
    for (size_t i = 0; i < g->nsrc; i++) {
        const ds_gen_source_t *s = &g->src [i];
        if (s->kind != DS_GEN_RESEARCH)
            continue;
        char text [INET6_ADDRSTRLEN];
        if (s->v6)
            inet_ntop (AF_INET6, g->v6 [s->addr], text, sizeof (text));
        else {
            uint32_t a = htonl (s->addr);
            inet_ntop (AF_INET, &a, text, sizeof (text));
        }
        fprintf (f, "%s,%s\n", text, s_orgs [s->org].class_name);
        (*entries)++;
    }
    if (fclose (f) != 0 || rename (tmp, path) != 0) {
        ds_log_error ("gen: %s: %s", path, strerror (errno));
        unlink (tmp);
        return -1;
    }
    return 0;
}

//  --------------------------------------------------------------------------

ds_gen_sources_t *
ds_gen_sources_new (uint64_t packets, int days, int max_active_days, uint32_t tele_base,
                    uint32_t tele_mask, ds_rng_t *rng)
{
    ds_gen_sources_t *self = calloc (1, sizeof *self);
    if (!self) {
        ds_log_error ("gen: out of memory");
        return NULL;
    }
    self->rng = rng;
    self->days = days;
    self->max_active_days = max_active_days;
    self->tele_base = tele_base;
    self->tele_mask = tele_mask;
    if (s_population (self, packets) != 0)
        ds_gen_sources_destroy (&self);
    else {
        free (self->set);       //  only needed while drawing addresses
        self->set = NULL;
        self->rng = NULL;
    }
    return self;
}

void
ds_gen_sources_destroy (ds_gen_sources_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ds_gen_sources_t *self = *self_p;
    free (self->src);
    free (self->v6);
    free (self->set);
    free (self);
    *self_p = NULL;
}

const ds_gen_source_t *
ds_gen_sources_all (const ds_gen_sources_t *self, size_t *count)
{
    *count = self->nsrc;
    return self->src;
}

const uint8_t *
ds_gen_sources_v6 (const ds_gen_sources_t *self, const ds_gen_source_t *s)
{
    return self->v6 [s->addr];
}

const ds_gen_org_t *
ds_gen_sources_org (unsigned index)
{
    return index < S_NORGS ? &s_orgs [index] : NULL;
}

const char *
ds_gen_kind_name (int kind)
{
    return kind >= 0 && kind < DS_GEN_KIND_COUNT ? s_kinds [kind].name : "?";
}

void
ds_gen_sources_summarise (const ds_gen_sources_t *self, ds_gen_summary_t *sum)
{
    for (size_t i = 0; i < self->nsrc; i++) {
        const ds_gen_source_t *s = &self->src [i];
        sum->kind_sources [s->kind]++;
        sum->kind_packets [s->kind] += s->packets;
        sum->sources_small += s->packets <= DS_GEN_SMALL_MAX;
        sum->sources_v6 += s->v6;
    }
    sum->sources += self->nsrc;
}
