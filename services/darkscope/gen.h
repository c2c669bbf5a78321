/*  gen.h - the synthetic darknet month of `darkscope gen` (issue 6).

    Writes a pcap (Ethernet, IPv4/IPv6 + TCP/UDP/ICMP headers, no payload,
    time-ordered) that looks like the DarkVec month: Mirai-like bots on
    23/2323 TCP with the Mirai fingerprint (tcp.seq == dst IPv4), research
    scanners with their own rhythms and port sets (censys, shodan, periodic
    stretchoid, engin-umich on 53/UDP on a schedule, binaryedge, ...),
    445/TCP and 5555/TCP worms, ZMap- and masscan-fingerprinted scanners,
    UDP probes, ICMP echo, SYN-ACK backscatter and a long tail of sources
    sending one or two packets; packets per source are heavy-tailed (about
    82% of sources send fewer than 10 packets).  It also writes a GT CSV
    (`ip,class`) naming the research scanners, including two classes that
    DarkVec aliases to unknown (netscout, quadmetrics).

    The research organisations are coordinated groups, as DarkVec found
    them: most scan in a few hours per day chosen per (organisation, day),
    stretchoid's bursts share one period and phase (each source up to 10
    minutes off), engin-umich keeps its schedule.  So a source's class is
    recoverable from whom it is active with (the embedding, DESIGN §14).

    For a long steady stream (a year at a month's daily rate), max_active_days
    caps how long a source other than a research scanner stays active and
    lets activity wrap around the period's end: every day then holds the
    same mix of sources and packets, so day 300 looks like day 30.

    Deterministic per (config, seed): same bytes every run, on any host.
    Memory is bounded by the source table plus one day of packets.
    Days are UTC days starting at start_day.
*/
#ifndef DS_GEN_H
#define DS_GEN_H

#include <stdint.h>

//  Kinds of synthetic sources (summary counters are indexed by them).
typedef enum {
    DS_GEN_MIRAI = 0,           //  Mirai fingerprint, 23/2323 TCP mostly
    DS_GEN_RESEARCH,            //  research scanners, listed in the GT CSV
    DS_GEN_ZMAP,                //  unlisted scanners with ip.id 54321
    DS_GEN_MASSCAN,             //  unlisted scanners with masscan's ip.id
    DS_GEN_SCANNER,             //  other TCP SYN scanners
    DS_GEN_WORM445,             //  SMB worms, 445/TCP
    DS_GEN_WORM5555,            //  ADB worms, 5555/TCP
    DS_GEN_UDP,                 //  UDP probes (dns, ntp, snmp, ssdp, sip, ...)
    DS_GEN_ICMP,                //  ICMP echo requests
    DS_GEN_BACKSCATTER,         //  SYN-ACKs of spoofed floods to random ports
    DS_GEN_TAIL,                //  one or two packets in the whole month
    DS_GEN_KIND_COUNT
} ds_gen_kind_t;

typedef struct {
    const char *out_path;       //  pcap to write (required)
    const char *gt_path;        //  GT CSV to write, or NULL
    int days;                   //  number of days, default 30
    uint64_t packets;           //  exact number of packets, default 2,000,000
    uint64_t seed;              //  default 1
    const char *start_day;      //  first day "YYYY-MM-DD" (UTC), default "2021-03-02"
    const char *telescope;      //  IPv4 prefix "a.b.c.d/len", len 8..32, default 203.0.113.0/24
    int max_active_days;        //  > 0: no unlisted source active longer, and activity
                                //  wraps around the end (a steady stream); 0: up to
                                //  every day, inside the period (the default)
    int quiet;                  //  no progress line on stderr when non-zero
} ds_gen_config_t;

typedef struct {
    uint64_t packets;                           //  packets written
    uint64_t sources;                           //  distinct sources
    uint64_t sources_v6;                        //  of which IPv6
    uint64_t sources_small;                     //  sending < 10 packets in the month
    uint64_t gt_entries;                        //  lines written to the GT CSV
    uint64_t bytes;                             //  size of the pcap
    uint64_t kind_sources [DS_GEN_KIND_COUNT];
    uint64_t kind_packets [DS_GEN_KIND_COUNT];
    double seconds;                             //  wall time of ds_gen_run
} ds_gen_summary_t;

//  Fills cfg with the defaults above (out_path and gt_path NULL).
void ds_gen_config_defaults (ds_gen_config_t *cfg);

//  Name of a kind ("mirai", "research", ...).
const char *ds_gen_kind_name (int kind);

//  Generates the month; fills summary (may be NULL).  Returns 0, or -1 after
//  logging why (bad config, packet target too small, I/O error).
int ds_gen_run (const ds_gen_config_t *cfg, ds_gen_summary_t *summary);

#endif
