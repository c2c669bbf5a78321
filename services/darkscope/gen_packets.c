/*  gen_packets.c - one packet of a synthetic source; see gen_packets.h.

    Every draw comes from the day's stream in a fixed order (time, then
    port and type): changing it changes every generated month.
*/
#include "gen_packets.h"
#include <string.h>

#define S_DAY_US        86400000000ULL

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

//  Port k of a source's (or org's) port set: the popular ports first, then
//  ports hashed from the key.
static uint16_t
s_port_of (uint64_t key, uint64_t k)
{
    if (k < S_NPOPULAR)
        return s_popular [(k + key) % S_NPOPULAR];
    return (uint16_t) (1 + ds_rng_hash (key ^ (k * 0x9e3779b97f4a7c15ULL)) % 65535);
}

//  A packet's time of day (us) by its source's rhythm.
static uint64_t
s_time_of (ds_rng_t *r, const ds_gen_source_t *s, int day)
{
    switch (s->rhythm) {
        case DS_GEN_BURST: {
            //  every 2, 3, 4 or 6 hours a two-minute burst, the period and
            //  phase the organisation's, each source up to 10 minutes off
            static const uint64_t periods [] = { 7200, 10800, 14400, 21600 };
            uint64_t org = ds_rng_hash (s->org + 0x5eed);
            uint64_t period = periods [org % 4];
            uint64_t phase = (org >> 8) % (period - 720) + (s->key >> 8) % 600;
            uint64_t k = ds_rng_below (r, 86400 / period);
            return (phase + k * period) * 1000000 + ds_rng_below (r, 120000000);
        }
        case DS_GEN_SCHEDULE: {
            //  at 01:00, 09:00 and 17:00 plus a per-source offset, 5 minutes
            static const uint64_t hours [] = { 1, 9, 17 };
            uint64_t off = (s->key >> 8) % 1800;
            return (hours [ds_rng_below (r, 3)] * 3600 + off) * 1000000 + ds_rng_below (r, 300000000);
        }
        case DS_GEN_CAMPAIGN: {
            //  3 to 5 hours a day picked by (organisation, day); every
            //  packet of the day in one of them
            uint64_t org = ds_rng_hash (((uint64_t) s->org << 32) ^ (uint64_t) day ^ 0xca3ba16eULL);
            uint64_t n = 3 + org % 3, k = ds_rng_below (r, n);
            uint64_t hour = ds_rng_hash (org + k) % 24;
            return hour * 3600000000ULL + ds_rng_below (r, 3600000000ULL);
        }
        case DS_GEN_ATTACK:
            //  backscatter of one attack: within an hour
            return ((s->key >> 8) % 82800) * 1000000 + ds_rng_below (r, 3600000000ULL);
        default:
            return ds_rng_below (r, S_DAY_US);
    }
}

void
ds_gen_packets_draw (ds_rng_t *r, const ds_gen_source_t *s, int day, ds_gen_packet_t *p)
{
    p->t = s_time_of (r, s, day);
    p->type = DS_GEN_PKT_SYN;
    p->pad = 0;
    switch (s->kind) {
        case DS_GEN_MIRAI: {
            uint64_t x = ds_rng_below (r, 100);
            p->dport = x < 85 ? 23 : x < 95 ? 2323 : s_mirai_other [ds_rng_below (r, 6)];
            break;
        }
        case DS_GEN_RESEARCH: {
            const ds_gen_org_t *o = ds_gen_sources_org (s->org);
            if ((int) ds_rng_below (r, 100) < o->udp_pct) {
                p->type = DS_GEN_PKT_UDP;
                p->dport = o->udp_pct == 100 ? 53 : s_udp_ports [ds_rng_below (r, S_NUDP)];
            }
            else
                p->dport = s_port_of (s->org * 7919, ds_rng_below (r, (uint64_t) o->port_set));
            break;
        }
        case DS_GEN_ZMAP:
        case DS_GEN_MASSCAN:
            p->dport = s_port_of (s->key, ds_rng_below (r, 1 + (s->key >> 32) % 16));
            break;
        case DS_GEN_SCANNER: {
            if (ds_rng_below (r, 10) < 7) {
                double u = ds_rng_unit (r);
                p->dport = s_popular [(size_t) (S_NPOPULAR * u * u * u) % S_NPOPULAR];
            }
            else
                p->dport = (uint16_t) (1 + ds_rng_below (r, 65535));
            break;
        }
        case DS_GEN_WORM445:
            p->dport = ds_rng_below (r, 20) ? 445 : 139;
            break;
        case DS_GEN_WORM5555:
            p->dport = 5555;
            break;
        case DS_GEN_UDP:
            p->type = DS_GEN_PKT_UDP;
            p->dport = s_udp_ports [ds_rng_below (r, S_NUDP)];
            break;
        case DS_GEN_ICMP:
            p->type = DS_GEN_PKT_ICMP;
            p->dport = 0;
            break;
        case DS_GEN_BACKSCATTER:
            p->type = DS_GEN_PKT_SYNACK;
            p->dport = (uint16_t) (1024 + ds_rng_below (r, 64512));
            break;
        default: {                                  //  tail
            uint64_t x = ds_rng_below (r, 10);
            if (x < 5)
                p->dport = (uint16_t) (1 + ds_rng_below (r, 65535));
            else
            if (x < 8)
                p->dport = s_popular [ds_rng_below (r, S_NPOPULAR)];
            else {
                p->type = DS_GEN_PKT_UDP;
                p->dport = (uint16_t) (1 + ds_rng_below (r, 65535));
            }
        }
    }
}
