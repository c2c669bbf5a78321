/*  gen_packets.h - what each source of the synthetic month sends: the time
    of day, destination port and type of one packet (part of gen.h's design).

    A packet's time follows its source's rhythm (uniform, an organisation's
    periodic bursts or schedule, its campaign hours of the day, an attack's
    hour); its port and type follow the source's kind (Mirai on 23/2323,
    research organisations over their port sets, worms on 445 or 5555, UDP
    probes, ICMP echo, backscatter SYN-ACKs to high ports, ...).
*/
#ifndef DS_GEN_PACKETS_H
#define DS_GEN_PACKETS_H

#include <stdint.h>
#include "gen_sources.h"
#include "rng.h"

typedef enum { DS_GEN_PKT_SYN, DS_GEN_PKT_SYNACK, DS_GEN_PKT_UDP, DS_GEN_PKT_ICMP } ds_gen_ptype_t;

typedef struct {
    uint64_t t;                 //  microseconds since the day's start
    uint32_t src;               //  source index
    uint16_t dport;
    uint8_t type;               //  ds_gen_ptype_t
    uint8_t pad;
} ds_gen_packet_t;

//  Draws a packet of source s on day `day` of the month (its time, port
//  and type; not p->src) from rng.
void ds_gen_packets_draw (ds_rng_t *rng, const ds_gen_source_t *s, int day, ds_gen_packet_t *p);

#endif
