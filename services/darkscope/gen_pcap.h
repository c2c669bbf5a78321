/*  gen_pcap.h - the synthetic month's packets as pcap records (part of
    gen.h's design).

    Classic pcap: microsecond magic, version 2.4, snaplen 65535, DLT_EN10MB,
    headers in the writer's byte order.  Each record is an Ethernet frame
    with an IPv4 or IPv6 header and a TCP, UDP or ICMP header, no payload,
    with valid checksums.  Header fields that do not shape the statistics
    (destination host, source port, ip.id, seq) come from the write stream,
    drawn in time order.

    Fingerprints (DESIGN §2) are exact by construction: Mirai bots set
    tcp.seq to the destination IPv4, ZMap scanners ip.id 54321, masscan
    scanners ip.id = (dst ^ dport ^ seq) & 0xffff, and every other SYN
    avoids all three.
*/
#ifndef DS_GEN_PCAP_H
#define DS_GEN_PCAP_H

#include <stddef.h>
#include <stdint.h>
#include "gen_packets.h"
#include "gen_sources.h"
#include "rng.h"

#define DS_GEN_PCAP_HEADER      24                      //  bytes of the file header
#define DS_GEN_PCAP_FRAME_MAX   (16 + 14 + 40 + 20)     //  record header + Ethernet + IPv6 + TCP

//  The telescope the packets arrive at: an IPv4 prefix.
typedef struct {
    uint32_t base;              //  prefix, host order
    uint32_t mask;              //  host bits
} ds_gen_telescope_t;

//  Writes the pcap file header (DS_GEN_PCAP_HEADER bytes) into buf.
void ds_gen_pcap_header (uint8_t *buf);

//  Writes packet p of source s (v6: its IPv6 address, or NULL) as one
//  record into buf (room for DS_GEN_PCAP_FRAME_MAX bytes); its time is
//  day_start_s + p->t.  Draws two numbers from wrng.  Returns the bytes
//  written.
size_t ds_gen_pcap_frame (uint8_t *buf, const ds_gen_packet_t *p, const ds_gen_source_t *s,
                          const uint8_t *v6, const ds_gen_telescope_t *tele, ds_rng_t *wrng,
                          int64_t day_start_s);

#endif
