/*  gen_sources.h - who sends in the synthetic month: the sources of
    `darkscope gen` (part of gen.h's design).

    Every source gets a kind, an address, its packet count for the month
    and its active days, all drawn from the population stream.  Per kind a
    share of "small" sources (1..9 packets; the tail 1..2) and heavy ones
    (>= 10) that share the rest of the exact packet target by Pareto
    weights.  Research sources belong to organisations (censys, shodan,
    ...) that work in their own address blocks and rhythms; they are what
    the GT CSV lists.
*/
#ifndef DS_GEN_SOURCES_H
#define DS_GEN_SOURCES_H

#include <stddef.h>
#include <stdint.h>
#include "gen.h"
#include "rng.h"

#define DS_GEN_SMALL_MAX 9              //  "small" sources send 1..9 packets

//  When a source's packets fall in a day.  DS_GEN_CAMPAIGN: the
//  organisation's coordinated hours, so its sources hit the same services
//  in the same hours: the groups DarkVec's embedding recovers (DESIGN §14).
typedef enum {
    DS_GEN_UNIFORM, DS_GEN_BURST, DS_GEN_SCHEDULE, DS_GEN_ATTACK, DS_GEN_CAMPAIGN
} ds_gen_rhythm_t;

typedef struct {
    uint32_t addr;              //  IPv4 host order, or index into the v6 table
    uint32_t packets;           //  in the month
    uint64_t key;               //  per-source constant randomness
    uint16_t first_day;         //  with max_active_days, days past the last wrap to 0
    uint16_t ndays;
    uint8_t kind;               //  ds_gen_kind_t
    uint8_t org;                //  organisation index (research sources)
    uint8_t v6;                 //  1 if addr indexes the v6 table
    uint8_t rhythm;             //  ds_gen_rhythm_t
} ds_gen_source_t;

//  A research organisation.
typedef struct {
    const char *class_name;     //  written in the GT CSV
    double source_share;        //  of all sources
    int min_sources;
    int v6_sources;             //  how many of its sources are IPv6
    ds_gen_rhythm_t rhythm;
    int udp_pct;                //  share of UDP probes, percent
    int port_set;               //  distinct TCP ports it scans
} ds_gen_org_t;

typedef struct _ds_gen_sources_t ds_gen_sources_t;

//  Draws the population of a month of `packets` packets over `days` days
//  from rng (max_active_days > 0: no source but research scanners active
//  longer, and activity wraps around the end: see ds_gen_config_t); IPv4 addresses avoid reserved blocks and the telescope
//  (tele_base / tele_mask: its prefix and host bits).  Caller destroys.
//  NULL after logging why (out of memory, a packet target too small).
ds_gen_sources_t *ds_gen_sources_new (uint64_t packets, int days, int max_active_days,
                                      uint32_t tele_base, uint32_t tele_mask, ds_rng_t *rng);

//  Destroys the population; NULL-safe; nulls the caller's pointer.
void ds_gen_sources_destroy (ds_gen_sources_t **self_p);

//  The sources, in population order, and their number.
const ds_gen_source_t *ds_gen_sources_all (const ds_gen_sources_t *self, size_t *count);

//  The 16 bytes of an IPv6 source's address (s->v6 set).
const uint8_t *ds_gen_sources_v6 (const ds_gen_sources_t *self, const ds_gen_source_t *s);

//  Organisation `index` of a research source.
const ds_gen_org_t *ds_gen_sources_org (unsigned index);

//  Adds the population's counts to sum (sources, IPv6, small, per kind).
void ds_gen_sources_summarise (const ds_gen_sources_t *self, ds_gen_summary_t *sum);

//  Writes the GT CSV (ip,class: every research source, in source order)
//  whole under PATH.tmp, then renames it, so a reader started beside
//  `gen --out -` never sees half of it.  Adds its lines to *entries.
//  0, or -1 after logging why.
int ds_gen_sources_write_gt (const ds_gen_sources_t *self, const char *path, uint64_t *entries);

#endif
