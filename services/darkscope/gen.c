/*  gen.c - the synthetic darknet month of `darkscope gen` (see gen.h).

    Two phases.  First the population: every source gets a kind, an
    address, its packet count for the month and its active days, drawn from
    one xoshiro256** stream seeded by splitmix64(seed), so the month is fixed
    by (config, seed).  Packet counts: per kind a share of "small" sources
    (1..9 packets; the tail 1..2) and heavy ones (>= 10) that share the rest
    of the exact packet target by Pareto weights.  Then day by day: each
    active source's packets of that day get a time (uniform, periodic bursts
    or a schedule), a port and a type; the day is radix-sorted by time and
    written as Ethernet frames into a buffered pcap (fwrite of the format,
    microsecond magic, DLT_EN10MB).  Per-packet header fields that do not
    shape the statistics (destination host, source port, ip.id, seq) are
    drawn while writing, in time order, from a second stream.

    Fingerprints (DESIGN §2) are exact by construction: Mirai bots set
    tcp.seq to the destination IPv4, ZMap scanners ip.id 54321, masscan
    scanners ip.id = (dst ^ dport ^ seq) & 0xffff, and every other SYN
    avoids all three, so the fingerprinted source counts of the summary are
    what any reader of the pcap finds.
*/
#include "gen.h"
#include "civil.h"
#include "log.h"

#include <czmq.h>
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_DAY_US        86400000000ULL
#define S_SMALL_MAX     9               //  "small" sources send 1..9 packets
#define S_SRC_PER_PKT   117             //  DarkVec: 63.5 M packets, 544 k sources

//  --------------------------------------------------------------------------
//  PRNG: splitmix64 to seed, xoshiro256** to draw.

typedef struct {
    uint64_t s [4];
} s_rng_t;

static uint64_t
s_splitmix (uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t
s_mix (uint64_t x)
{
    return s_splitmix (&x);
}

static void
s_rng_seed (s_rng_t *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s [i] = s_splitmix (&seed);
}

static inline uint64_t
s_rotl (uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t
s_next (s_rng_t *r)
{
    uint64_t *s = r->s;
    uint64_t result = s_rotl (s [1] * 5, 7) * 9;
    uint64_t t = s [1] << 17;
    s [2] ^= s [0];
    s [3] ^= s [1];
    s [1] ^= s [2];
    s [0] ^= s [3];
    s [2] ^= t;
    s [3] = s_rotl (s [3], 45);
    return result;
}

//  Uniform in [0, n), n > 0 (Lemire's multiply; bias < 2^-32 for our n).
static inline uint64_t
s_below (s_rng_t *r, uint64_t n)
{
    return (uint64_t) (((unsigned __int128) s_next (r) * n) >> 64);
}

//  Uniform in (0, 1].
static inline double
s_unit (s_rng_t *r)
{
    return ((s_next (r) >> 11) + 1) * (1.0 / 9007199254740992.0);
}

//  --------------------------------------------------------------------------
//  Tables: ports, kinds, research organisations.

static const uint16_t s_popular [] = {
    23, 22, 80, 443, 8080, 3389, 445, 21, 25, 53, 110, 143, 135, 139, 1433,
    3306, 5432, 6379, 9200, 27017, 11211, 5900, 8443, 8000, 8888, 81, 8081,
    2222, 2323, 5555, 7547, 37215, 52869, 1080, 3128, 8118, 111, 993, 995,
    587, 465, 161, 5060, 1723, 502, 102, 47808, 20000, 9000, 9090, 10000,
    6881, 4662, 88, 464, 1521, 5000, 5001, 7001, 49152
};
#define S_NPOPULAR (sizeof (s_popular) / sizeof (s_popular [0]))

static const uint16_t s_udp_ports [] = {
    53, 123, 161, 1900, 5060, 137, 11211, 389, 19, 111, 500, 5353, 3702,
    27015, 69, 1434, 3283, 10001
};
#define S_NUDP (sizeof (s_udp_ports) / sizeof (s_udp_ports [0]))

static const uint16_t s_mirai_other [] = { 80, 8080, 37215, 52869, 5555, 81 };

//  S_CAMPAIGN: the organisation's coordinated hours (s_time_of), so its
//  sources hit the same services in the same hours: the groups DarkVec's
//  embedding recovers (DESIGN §14).
typedef enum { S_UNIFORM, S_BURST, S_SCHEDULE, S_ATTACK, S_CAMPAIGN } s_rhythm_t;
typedef enum { S_SYN, S_SYNACK, S_UDP, S_ICMP } s_ptype_t;

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

typedef struct {
    const char *class_name;     //  written in the GT CSV
    double source_share;
    int min_sources;
    int v6_sources;             //  how many of its sources are IPv6
    s_rhythm_t rhythm;
    int udp_pct;                //  share of UDP probes, percent
    int port_set;               //  distinct TCP ports it scans
} s_org_t;

static const s_org_t s_orgs [] = {
    { "censys",          0.004, 4, 1, S_CAMPAIGN,  10, 400 },
    { "shodan",          0.002, 3, 0, S_CAMPAIGN,  20, 250 },
    { "stretchoid",      0.003, 6, 0, S_BURST,     0, 40 },
    { "engin-umich",     0,     4, 0, S_SCHEDULE, 100, 1 },
    { "binaryedge",      0.002, 3, 0, S_CAMPAIGN,   5, 150 },
    { "internet-census", 0.002, 3, 0, S_CAMPAIGN,   0, 60 },
    { "shadowserver",    0.002, 3, 1, S_CAMPAIGN,  40, 80 },
    { "rapid7",          0.001, 2, 0, S_CAMPAIGN,  10, 30 },
    { "netscout",        0,     2, 0, S_CAMPAIGN,   0, 20 },     //  aliased to unknown
    { "quadmetrics",     0,     2, 0, S_CAMPAIGN,   0, 20 },     //  aliased to unknown
};
#define S_NORGS (sizeof (s_orgs) / sizeof (s_orgs [0]))

//  --------------------------------------------------------------------------
//  Sources and the packets of one day.

typedef struct {
    uint32_t addr;              //  IPv4 host order, or index into v6 table
    uint32_t packets;           //  in the month
    uint64_t key;               //  per-source constant randomness
    uint16_t first_day;
    uint16_t ndays;
    uint8_t kind;               //  ds_gen_kind_t
    uint8_t org;                //  s_orgs index for research sources
    uint8_t v6;                 //  1 if addr indexes the v6 table
    uint8_t rhythm;             //  s_rhythm_t
} s_source_t;

typedef struct {
    uint64_t t;                 //  microseconds since the day's start
    uint32_t src;               //  source index
    uint16_t dport;
    uint8_t type;               //  s_ptype_t
    uint8_t pad;
} s_pkt_t;

typedef struct {
    const ds_gen_config_t *cfg;
    s_rng_t rng;                //  population and per-day draws
    s_rng_t wrng;               //  header fields, drawn in write order
    s_source_t *src;
    size_t nsrc;
    uint8_t (*v6) [16];
    size_t nv6;
    uint32_t *set;              //  open-addressing set of used IPv4 (0 = empty)
    size_t set_mask;
    uint32_t tele_base;         //  telescope prefix, host order
    uint32_t tele_mask;         //  host bits
    int64_t day0_s;             //  epoch seconds of the first day
    int day;                    //  the day being drawn (campaign hours)
    FILE *out;
    uint8_t *buf;
    size_t buf_len;
    ds_gen_summary_t sum;
} s_gen_t;

#define S_BUF_SIZE (1 << 20)

//  --------------------------------------------------------------------------
//  Population.

static bool
s_reserved (const s_gen_t *g, uint32_t a)
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
s_claim (s_gen_t *g, uint32_t a)
{
    size_t i = (size_t) (s_mix (a) & g->set_mask);
    while (g->set [i]) {
        if (g->set [i] == a)
            return false;
        i = (i + 1) & g->set_mask;
    }
    g->set [i] = a;
    return true;
}

static uint32_t
s_random_v4 (s_gen_t *g)
{
    for (;;) {
        uint32_t a = (uint32_t) s_next (&g->rng);
        if (!s_reserved (g, a) && s_claim (g, a))
            return a;
    }
}

static void
s_random_v6 (s_gen_t *g, s_source_t *s, uint16_t site)
{
    uint8_t *a = g->v6 [g->nv6];
    uint64_t lo = s_next (&g->rng), mid = s_next (&g->rng);
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
s_small_count (s_gen_t *g, int kind)
{
    if (kind == DS_GEN_TAIL)
        return s_below (&g->rng, 10) < 7 ? 1 : 2;
    double u = s_unit (&g->rng);
    uint32_t n = 1 + (uint32_t) (S_SMALL_MAX * u * u);
    return n > S_SMALL_MAX ? S_SMALL_MAX : n;
}

//  Active days of a source: research all month, campaigns a few days,
//  small sources one to three days, bots anything from a day to the month.
static void
s_active_days (s_gen_t *g, s_source_t *s)
{
    uint32_t days = (uint32_t) g->cfg->days, nd;
    if (s->kind == DS_GEN_RESEARCH)
        nd = days;
    else
    if (s->packets <= S_SMALL_MAX)
        nd = 1 + (uint32_t) s_below (&g->rng, s->packets < 3 ? 1 : 3);
    else
    if (s->kind == DS_GEN_ZMAP || s->kind == DS_GEN_MASSCAN)
        nd = 1 + (uint32_t) s_below (&g->rng, 5);
    else
    if (s->kind == DS_GEN_BACKSCATTER)
        nd = 1 + (uint32_t) s_below (&g->rng, 2);
    else
        nd = 1 + (uint32_t) s_below (&g->rng, days);
    if (nd > days)
        nd = days;
    if (nd > s->packets)
        nd = s->packets;
    s->ndays = (uint16_t) nd;
    s->first_day = (uint16_t) s_below (&g->rng, days - nd + 1);
}

static int
s_population (s_gen_t *g)
{
    const ds_gen_config_t *cfg = g->cfg;
    uint64_t P = cfg->packets;
    uint64_t S = P / S_SRC_PER_PKT;
    if (S < 200)
        S = P / 20 < 200 ? P / 20 : 200;

    //  How many of each kind; research per organisation
    uint64_t count [DS_GEN_KIND_COUNT] = { 0 };
    uint64_t org_count [S_NORGS];
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
    g->nsrc = (size_t) (assigned + count [DS_GEN_TAIL]);

    g->src = calloc (g->nsrc, sizeof (s_source_t));
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

    //  Research organisations first: sources in the org's own blocks
    size_t n = 0;
    for (size_t o = 0; o < S_NORGS; o++) {
        uint32_t block = s_random_v4 (g) & 0xffff0000;
        uint32_t k = 0;
        for (uint64_t i = 0; i < org_count [o]; i++) {
            s_source_t *s = &g->src [n++];
            s->kind = DS_GEN_RESEARCH;
            s->org = (uint8_t) o;
            s->rhythm = (uint8_t) s_orgs [o].rhythm;
            s->key = s_next (&g->rng);
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
    //  Then every other kind, in kind order
    for (int kind = 0; kind < DS_GEN_KIND_COUNT; kind++) {
        if (kind == DS_GEN_RESEARCH)
            continue;
        for (uint64_t i = 0; i < count [kind]; i++) {
            s_source_t *s = &g->src [n++];
            s->kind = (uint8_t) kind;
            s->key = s_next (&g->rng);
            s->rhythm = kind == DS_GEN_BACKSCATTER ? S_ATTACK : S_UNIFORM;
            if (s_kinds [kind].v6_share > 0 && s_unit (&g->rng) <= s_kinds [kind].v6_share)
                s_random_v6 (g, s, (uint16_t) (0x6000 + kind));
            else
                s->addr = s_random_v4 (g);
        }
    }

    //  Packet counts: small ones first, then heavy ones share the rest
    uint64_t small_total = 0, base_total = 0;
    double weight_total = 0;
    double *weight = calloc (g->nsrc, sizeof (double));
    if (!weight) {
        ds_log_error ("gen: out of memory");
        return -1;
    }
    uint32_t heavy_min = cfg->days > 10 ? (uint32_t) cfg->days : 10;
    for (size_t i = 0; i < g->nsrc; i++) {
        s_source_t *s = &g->src [i];
        if (s_unit (&g->rng) <= s_kinds [s->kind].small_share) {
            s->packets = s_small_count (g, s->kind);
            small_total += s->packets;
        }
        else {
            s->packets = s->kind == DS_GEN_RESEARCH ? heavy_min : 10;
            base_total += s->packets;
            double w = pow (s_unit (&g->rng), -1.0 / 1.3);
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

    //  Active days; summary per kind
    for (size_t i = 0; i < g->nsrc; i++) {
        s_source_t *s = &g->src [i];
        s_active_days (g, s);
        g->sum.kind_sources [s->kind]++;
        g->sum.kind_packets [s->kind] += s->packets;
        g->sum.sources_small += s->packets <= S_SMALL_MAX;
        g->sum.sources_v6 += s->v6;
    }
    g->sum.sources = g->nsrc;
    return 0;
}

//  Writes the GT CSV: every research source, in source order.
static int
s_write_gt (s_gen_t *g)
{
    if (!g->cfg->gt_path)
        return 0;
    //  Written whole under a temporary name, then renamed: a consumer
    //  started beside `gen --out -` (a pipe) waits for the file to appear.
    char tmp [4096];
    if (snprintf (tmp, sizeof tmp, "%s.tmp", g->cfg->gt_path) >= (int) sizeof tmp) {
        ds_log_error ("gen: %s: path too long", g->cfg->gt_path);
        return -1;
    }
    FILE *f = fopen (tmp, "w");
    if (!f) {
        ds_log_error ("gen: %s: %s", tmp, strerror (errno));
        return -1;
    }
    fputs ("ip,class\n", f);
    for (size_t i = 0; i < g->nsrc; i++) {
        const s_source_t *s = &g->src [i];
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
        g->sum.gt_entries++;
    }
    if (fclose (f) != 0 || rename (tmp, g->cfg->gt_path) != 0) {
        ds_log_error ("gen: %s: %s", g->cfg->gt_path, strerror (errno));
        unlink (tmp);
        return -1;
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  One day: draw, sort, write.

//  Port k of a source's (or org's) port set: the popular ports first, then
//  ports hashed from the key.
static uint16_t
s_port_of (uint64_t key, uint64_t k)
{
    if (k < S_NPOPULAR)
        return s_popular [(k + key) % S_NPOPULAR];
    return (uint16_t) (1 + s_mix (key ^ (k * 0x9e3779b97f4a7c15ULL)) % 65535);
}

static uint64_t
s_time_of (s_gen_t *g, const s_source_t *s)
{
    s_rng_t *r = &g->rng;
    switch (s->rhythm) {
        case S_BURST: {
            //  every 2, 3, 4 or 6 hours a two-minute burst, the period and
            //  phase the organisation's, each source up to 10 minutes off
            static const uint64_t periods [] = { 7200, 10800, 14400, 21600 };
            uint64_t org = s_mix (s->org + 0x5eed);
            uint64_t period = periods [org % 4];
            uint64_t phase = (org >> 8) % (period - 720) + (s->key >> 8) % 600;
            uint64_t k = s_below (r, 86400 / period);
            return (phase + k * period) * 1000000 + s_below (r, 120000000);
        }
        case S_SCHEDULE: {
            //  at 01:00, 09:00 and 17:00 plus a per-source offset, 5 minutes
            static const uint64_t hours [] = { 1, 9, 17 };
            uint64_t off = (s->key >> 8) % 1800;
            return (hours [s_below (r, 3)] * 3600 + off) * 1000000 + s_below (r, 300000000);
        }
        case S_CAMPAIGN: {
            //  3 to 5 hours a day picked by (organisation, day); every
            //  packet of the day in one of them
            uint64_t org = s_mix (((uint64_t) s->org << 32) ^ (uint64_t) g->day ^ 0xca3ba16eULL);
            uint64_t n = 3 + org % 3, k = s_below (r, n);
            uint64_t hour = s_mix (org + k) % 24;
            return hour * 3600000000ULL + s_below (r, 3600000000ULL);
        }
        case S_ATTACK:
            //  backscatter of one attack: within an hour
            return ((s->key >> 8) % 82800) * 1000000 + s_below (r, 3600000000ULL);
        default:
            return s_below (r, S_DAY_US);
    }
}

static void
s_draw (s_gen_t *g, const s_source_t *s, s_pkt_t *p)
{
    s_rng_t *r = &g->rng;
    p->t = s_time_of (g, s);
    p->type = S_SYN;
    p->pad = 0;
    switch (s->kind) {
        case DS_GEN_MIRAI: {
            uint64_t x = s_below (r, 100);
            p->dport = x < 85 ? 23 : x < 95 ? 2323 : s_mirai_other [s_below (r, 6)];
            break;
        }
        case DS_GEN_RESEARCH: {
            const s_org_t *o = &s_orgs [s->org];
            if ((int) s_below (r, 100) < o->udp_pct) {
                p->type = S_UDP;
                p->dport = o->udp_pct == 100 ? 53 : s_udp_ports [s_below (r, S_NUDP)];
            }
            else
                p->dport = s_port_of (s->org * 7919, s_below (r, (uint64_t) o->port_set));
            break;
        }
        case DS_GEN_ZMAP:
        case DS_GEN_MASSCAN:
            p->dport = s_port_of (s->key, s_below (r, 1 + (s->key >> 32) % 16));
            break;
        case DS_GEN_SCANNER: {
            if (s_below (r, 10) < 7) {
                double u = s_unit (r);
                p->dport = s_popular [(size_t) (S_NPOPULAR * u * u * u) % S_NPOPULAR];
            }
            else
                p->dport = (uint16_t) (1 + s_below (r, 65535));
            break;
        }
        case DS_GEN_WORM445:
            p->dport = s_below (r, 20) ? 445 : 139;
            break;
        case DS_GEN_WORM5555:
            p->dport = 5555;
            break;
        case DS_GEN_UDP:
            p->type = S_UDP;
            p->dport = s_udp_ports [s_below (r, S_NUDP)];
            break;
        case DS_GEN_ICMP:
            p->type = S_ICMP;
            p->dport = 0;
            break;
        case DS_GEN_BACKSCATTER:
            p->type = S_SYNACK;
            p->dport = (uint16_t) (1024 + s_below (r, 64512));
            break;
        default: {                                  //  tail
            uint64_t x = s_below (r, 10);
            if (x < 5)
                p->dport = (uint16_t) (1 + s_below (r, 65535));
            else
            if (x < 8)
                p->dport = s_popular [s_below (r, S_NPOPULAR)];
            else {
                p->type = S_UDP;
                p->dport = (uint16_t) (1 + s_below (r, 65535));
            }
        }
    }
}

//  Stable LSD radix sort by t (< 2^37): three passes of 13/12/12 bits.
static void
s_sort (s_pkt_t *a, s_pkt_t *tmp, size_t n)
{
    static const int shift [3] = { 0, 13, 25 };
    static const int bits [3] = { 13, 12, 12 };
    size_t count [1 << 13];
    for (int pass = 0; pass < 3; pass++) {
        size_t nb = (size_t) 1 << bits [pass];
        uint64_t mask = nb - 1;
        memset (count, 0, nb * sizeof (size_t));
        for (size_t i = 0; i < n; i++)
            count [(a [i].t >> shift [pass]) & mask]++;
        size_t sum = 0;
        for (size_t b = 0; b < nb; b++) {
            size_t c = count [b];
            count [b] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            tmp [count [(a [i].t >> shift [pass]) & mask]++] = a [i];
        s_pkt_t *x = a;
        a = tmp;
        tmp = x;
    }
    //  three passes: the sorted data is in the original tmp; copy it back
    memcpy (tmp, a, n * sizeof (s_pkt_t));
}

static int
s_flush (s_gen_t *g)
{
    if (g->buf_len && fwrite (g->buf, 1, g->buf_len, g->out) != g->buf_len) {
        ds_log_error ("gen: %s: %s", g->cfg->out_path, strerror (errno));
        return -1;
    }
    g->sum.bytes += g->buf_len;
    g->buf_len = 0;
    return 0;
}

static inline void
s_put16 (uint8_t *p, uint32_t v)
{
    p [0] = (uint8_t) (v >> 8);
    p [1] = (uint8_t) v;
}

static inline void
s_put32 (uint8_t *p, uint32_t v)
{
    p [0] = (uint8_t) (v >> 24);
    p [1] = (uint8_t) (v >> 16);
    p [2] = (uint8_t) (v >> 8);
    p [3] = (uint8_t) v;
}

static inline void
s_le32 (uint8_t *p, uint32_t v)
{
    memcpy (p, &v, 4);          //  pcap headers are in the writer's byte order
}

//  Ones-complement sum of len bytes (big-endian words) added to sum.
static inline uint32_t
s_csum_add (uint32_t sum, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t) (p [i] << 8 | p [i + 1]);
    if (len & 1)
        sum += (uint32_t) p [len - 1] << 8;
    return sum;
}

static inline uint16_t
s_csum_fold (uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t) ~sum;
}

//  The IPv6 telescope: 2001:db8:0:5c0::/120 (sources of the few IPv6 scanners
//  need a destination; the IPv4 telescope is the configured prefix).
static const uint8_t s_tele6 [16] = {
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0x05, 0xc0, 0, 0, 0, 0, 0, 0, 0, 0
};

//  Appends one frame (pcap record header + Ethernet + IP + L4) to the buffer.
static void
s_frame (s_gen_t *g, const s_pkt_t *p, int64_t day_start_s)
{
    const s_source_t *s = &g->src [p->src];
    s_rng_t *r = &g->wrng;
    uint8_t *f = g->buf + g->buf_len;
    uint8_t *eth = f + 16;
    static const uint8_t macs [12] = {
        0x00, 0x00, 0x5e, 0x00, 0x53, 0x01,  0x00, 0x00, 0x5e, 0x00, 0x53, 0x02 };
    memcpy (eth, macs, 12);

    size_t l4len = p->type == S_SYN || p->type == S_SYNACK ? 20 : 8;
    uint8_t proto = p->type == S_UDP ? 17 : p->type == S_ICMP ? (s->v6 ? 58 : 1) : 6;
    uint64_t rnd = s_next (r), rnd2 = s_next (r);
    uint8_t ttl = (uint8_t) (30 + s->key % 220);
    uint8_t *ip = eth + 14, *l4;
    uint32_t dst4 = 0, csum;
    size_t iplen;
    if (s->v6) {
        s_put16 (eth + 12, 0x86dd);
        iplen = 40;
        l4 = ip + 40;
        s_put32 (ip, 0x60000000);
        s_put16 (ip + 4, (uint32_t) l4len);
        ip [6] = proto;
        ip [7] = ttl;
        memcpy (ip + 8, g->v6 [s->addr], 16);
        memcpy (ip + 24, s_tele6, 16);
        ip [39] = (uint8_t) rnd;
        csum = s_csum_add (0, ip + 8, 32) + (uint32_t) l4len + proto;
    }
    else {
        s_put16 (eth + 12, 0x0800);
        iplen = 20;
        l4 = ip + 20;
        dst4 = g->tele_base | ((uint32_t) rnd & g->tele_mask);
        ip [0] = 0x45;
        ip [1] = 0;
        s_put16 (ip + 2, (uint32_t) (20 + l4len));
        s_put16 (ip + 4, 0);                        //  ip.id, below
        s_put16 (ip + 6, s->kind == DS_GEN_MIRAI ? 0 : 0x4000);
        ip [8] = ttl;
        ip [9] = proto;
        s_put16 (ip + 10, 0);
        s_put32 (ip + 12, s->addr);
        s_put32 (ip + 16, dst4);
        csum = s_csum_add (0, ip + 12, 8) + (uint32_t) l4len + proto;
    }

    uint32_t sport = 1024 + (uint32_t) ((rnd >> 16) % 64512);
    uint16_t ipid = (uint16_t) (rnd >> 48);
    if (p->type == S_SYN || p->type == S_SYNACK) {
        uint32_t seq = (uint32_t) rnd2, ack = 0, win = 64240;
        uint8_t flags = 0x02;
        if (p->type == S_SYNACK) {
            static const uint16_t victims [] = { 80, 443, 22, 25, 53, 3389 };
            sport = victims [s->key % 6];
            ack = (uint32_t) (rnd2 >> 32);
            flags = 0x12;
        }
        else
        if (s->kind == DS_GEN_MIRAI && !s->v6) {
            seq = dst4;
            win = 1 + (uint32_t) ((rnd2 >> 32) % 65535);
        }
        else
        if (!s->v6 && seq == dst4)
            seq ^= 1;                               //  never a Mirai look-alike
        if (s->kind == DS_GEN_ZMAP) {
            sport = 32768 + (uint32_t) ((s->key >> 20) % 28232);
            ipid = 54321;
            win = 65535;
            while ((uint16_t) ((dst4 ^ p->dport ^ seq) & 0xffff) == 54321 || seq == dst4)
                seq += 0x10001;                     //  not masscan-looking too
        }
        else
        if (s->kind == DS_GEN_MASSCAN) {
            sport = 60000 + (uint32_t) ((s->key >> 20) % 5000);
            win = 1024;
            while ((uint16_t) ((dst4 ^ p->dport ^ seq) & 0xffff) == 54321 || seq == dst4)
                seq += 0x10001;
            ipid = (uint16_t) ((dst4 ^ p->dport ^ seq) & 0xffff);
        }
        else
        if (flags == 0x02 && !s->v6) {
            //  not ZMap, not masscan
            while (ipid == 54321 || ipid == (uint16_t) ((dst4 ^ p->dport ^ seq) & 0xffff))
                ipid++;
        }
        s_put16 (l4, sport);
        s_put16 (l4 + 2, p->dport);
        s_put32 (l4 + 4, seq);
        s_put32 (l4 + 8, ack);
        l4 [12] = 0x50;
        l4 [13] = flags;
        s_put16 (l4 + 14, win);
        s_put16 (l4 + 16, 0);
        s_put16 (l4 + 18, 0);
    }
    else
    if (p->type == S_UDP) {
        s_put16 (l4, sport);
        s_put16 (l4 + 2, p->dport);
        s_put16 (l4 + 4, 8);
        s_put16 (l4 + 6, 0);
    }
    else {
        l4 [0] = s->v6 ? 128 : 8;                   //  echo request
        l4 [1] = 0;
        s_put16 (l4 + 2, 0);
        s_put16 (l4 + 4, (uint32_t) (s->key & 0xffff));
        s_put16 (l4 + 6, (uint32_t) (rnd2 & 0xffff));
        if (!s->v6)
            csum = 0;                               //  ICMPv4: no pseudo-header
    }
    //  transport checksum (UDP over IPv4 may stay 0, we fill it anyway)
    uint16_t c = s_csum_fold (s_csum_add (csum, l4, l4len));
    if (p->type == S_UDP && c == 0)
        c = 0xffff;
    s_put16 (l4 + (p->type == S_UDP ? 6 : p->type == S_ICMP ? 2 : 16), c);
    if (!s->v6) {
        s_put16 (ip + 4, ipid);
        s_put16 (ip + 10, s_csum_fold (s_csum_add (0, ip, 20)));
    }

    uint32_t caplen = (uint32_t) (14 + iplen + l4len);
    s_le32 (f, (uint32_t) (day_start_s + (int64_t) (p->t / 1000000)));
    s_le32 (f + 4, (uint32_t) (p->t % 1000000));
    s_le32 (f + 8, caplen);
    s_le32 (f + 12, caplen);
    g->buf_len += 16 + caplen;
}

static int
s_parse_config (s_gen_t *g)
{
    const ds_gen_config_t *cfg = g->cfg;
    if (!cfg->out_path) {
        ds_log_error ("gen: no output pcap given");
        return -1;
    }
    if (cfg->days < 1 || cfg->days > 3660) {
        ds_log_error ("gen: days %d out of range 1..3660", cfg->days);
        return -1;
    }
    if (cfg->packets < 1000 || cfg->packets > 4000000000ULL) {
        ds_log_error ("gen: packets %llu out of range 1000..4e9", (unsigned long long) cfg->packets);
        return -1;
    }
    int y, m, d;
    char tail;
    const char *day = cfg->start_day ? cfg->start_day : "2021-03-02";
    if (sscanf (day, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3
    ||  m < 1 || m > 12 || d < 1 || d > 31 || y < 1970 || y > 2100) {
        ds_log_error ("gen: start day '%s' is not YYYY-MM-DD", day);
        return -1;
    }
    g->day0_s = ds_civil_to_days (y, (unsigned) m, (unsigned) d) * 86400;
    const char *tele = cfg->telescope ? cfg->telescope : "203.0.113.0/24";
    char addr [32];
    int len;
    struct in_addr in;
    if (sscanf (tele, "%31[0-9.]/%d%c", addr, &len, &tail) != 2
    ||  len < 8 || len > 32 || inet_pton (AF_INET, addr, &in) != 1) {
        ds_log_error ("gen: telescope '%s' is not an IPv4 prefix a.b.c.d/8..32", tele);
        return -1;
    }
    g->tele_mask = len == 32 ? 0 : 0xffffffffu >> len;
    g->tele_base = ntohl (in.s_addr) & ~g->tele_mask;
    return 0;
}

void
ds_gen_config_defaults (ds_gen_config_t *cfg)
{
    memset (cfg, 0, sizeof (*cfg));
    cfg->days = 30;
    cfg->packets = 2000000;
    cfg->seed = 1;
    cfg->start_day = "2021-03-02";
    cfg->telescope = "203.0.113.0/24";
}

const char *
ds_gen_kind_name (int kind)
{
    return kind >= 0 && kind < DS_GEN_KIND_COUNT ? s_kinds [kind].name : "?";
}

int
ds_gen_run (const ds_gen_config_t *cfg, ds_gen_summary_t *summary)
{
    int64_t t0 = zclock_usecs ();
    s_gen_t g;
    memset (&g, 0, sizeof (g));
    g.cfg = cfg;
    s_pkt_t *day = NULL, *tmp = NULL;
    int rc = -1;
    if (s_parse_config (&g))
        goto done;
    s_rng_seed (&g.rng, cfg->seed);
    s_rng_seed (&g.wrng, cfg->seed ^ 0x5eed5eed5eed5eedULL);
    if (s_population (&g) || s_write_gt (&g))
        goto done;

    g.out = strcmp (cfg->out_path, "-") == 0 ? fdopen (dup (STDOUT_FILENO), "wb")
                                             : fopen (cfg->out_path, "wb");
    g.buf = malloc (S_BUF_SIZE);
    if (!g.out || !g.buf) {
        ds_log_error ("gen: %s: %s", cfg->out_path, strerror (errno));
        goto done;
    }
    //  pcap global header: microsecond magic, v2.4, snaplen 65535, Ethernet
    s_le32 (g.buf, 0xa1b2c3d4);
    uint16_t v16 [2] = { 2, 4 };                //  version 2.4, host order
    memcpy (g.buf + 4, v16, 4);
    memset (g.buf + 8, 0, 8);
    s_le32 (g.buf + 16, 65535);
    s_le32 (g.buf + 20, 1);
    g.buf_len = 24;

    bool progress = !cfg->quiet && isatty (2);
    size_t cap = 0;
    for (int d = 0; d < cfg->days; d++) {
        //  count, allocate, draw
        size_t n = 0;
        for (size_t i = 0; i < g.nsrc; i++) {
            const s_source_t *s = &g.src [i];
            int j = d - s->first_day;
            if (j >= 0 && j < s->ndays)
                n += (size_t) ((uint64_t) s->packets * (j + 1) / s->ndays
                             - (uint64_t) s->packets * j / s->ndays);
        }
        if (n > cap) {
            free (day);
            free (tmp);
            cap = n + n / 8;
            day = malloc (cap * sizeof (s_pkt_t));
            tmp = malloc (cap * sizeof (s_pkt_t));
            if (!day || !tmp) {
                ds_log_error ("gen: out of memory for %zu packets of day %d", n, d);
                goto done;
            }
        }
        size_t k = 0;
        for (size_t i = 0; i < g.nsrc; i++) {
            const s_source_t *s = &g.src [i];
            int j = d - s->first_day;
            if (j < 0 || j >= s->ndays)
                continue;
            uint64_t m = (uint64_t) s->packets * (j + 1) / s->ndays
                       - (uint64_t) s->packets * j / s->ndays;
            g.day = d;
            for (uint64_t x = 0; x < m; x++) {
                s_draw (&g, s, &day [k]);
                day [k++].src = (uint32_t) i;
            }
        }
        if (n > 0)
            s_sort (day, tmp, n);
        int64_t start_s = g.day0_s + (int64_t) d * 86400;
        for (size_t i = 0; i < n; i++) {
            if (g.buf_len + 16 + 14 + 40 + 20 > S_BUF_SIZE && s_flush (&g))
                goto done;
            s_frame (&g, &day [i], start_s);
        }
        g.sum.packets += n;
        if (progress)
            fprintf (stderr, "\rgen: day %d/%d, %llu packets", d + 1, cfg->days,
                     (unsigned long long) g.sum.packets);
    }
    if (s_flush (&g))
        goto done;
    if (fclose (g.out) != 0) {
        g.out = NULL;
        ds_log_error ("gen: %s: %s", cfg->out_path, strerror (errno));
        goto done;
    }
    g.out = NULL;
    if (progress)
        fputc ('\n', stderr);
    rc = 0;
done:
    if (g.out)
        fclose (g.out);
    g.sum.seconds = (double) (zclock_usecs () - t0) / 1e6;
    if (summary)
        *summary = g.sum;
    free (day);
    free (tmp);
    free (g.buf);
    free (g.src);
    free (g.v6);
    free (g.set);
    return rc;
}
