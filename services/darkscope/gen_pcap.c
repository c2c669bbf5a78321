/*  gen_pcap.c - pcap records of synthetic packets; see gen_pcap.h. */
#include "gen_pcap.h"
#include <string.h>

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

//  The Ethernet type and the IP header of s's packet at ip; its destination
//  (IPv4: a host of the telescope from rnd; *dst4 0 for IPv6) and the
//  transport checksum's pseudo-header sum.  Returns the IP header's length.
static size_t
s_ip (uint8_t *eth, const ds_gen_source_t *s, const uint8_t *v6, const ds_gen_telescope_t *tele,
      uint8_t proto, size_t l4len, uint64_t rnd, uint32_t *dst4, uint32_t *csum)
{
    uint8_t *ip = eth + 14;
    uint8_t ttl = (uint8_t) (30 + s->key % 220);
    *dst4 = 0;
    if (s->v6) {
        s_put16 (eth + 12, 0x86dd);
        s_put32 (ip, 0x60000000);
        s_put16 (ip + 4, (uint32_t) l4len);
        ip [6] = proto;
        ip [7] = ttl;
        memcpy (ip + 8, v6, 16);
        memcpy (ip + 24, s_tele6, 16);
        ip [39] = (uint8_t) rnd;
        *csum = s_csum_add (0, ip + 8, 32) + (uint32_t) l4len + proto;
        return 40;
    }
    s_put16 (eth + 12, 0x0800);
    *dst4 = tele->base | ((uint32_t) rnd & tele->mask);
    ip [0] = 0x45;
    ip [1] = 0;
    s_put16 (ip + 2, (uint32_t) (20 + l4len));
    s_put16 (ip + 4, 0);                        //  ip.id, once known
    s_put16 (ip + 6, s->kind == DS_GEN_MIRAI ? 0 : 0x4000);
    ip [8] = ttl;
    ip [9] = proto;
    s_put16 (ip + 10, 0);
    s_put32 (ip + 12, s->addr);
    s_put32 (ip + 16, *dst4);
    *csum = s_csum_add (0, ip + 12, 8) + (uint32_t) l4len + proto;
    return 20;
}

//  The TCP header of a SYN or SYN-ACK at l4, with the fingerprints of the
//  source's kind (Mirai's seq, ZMap's and masscan's ip.id) and none of
//  them for any other SYN; may change *sport and *ipid.
static void
s_tcp (uint8_t *l4, const ds_gen_packet_t *p, const ds_gen_source_t *s, uint32_t dst4,
       uint64_t rnd2, uint32_t *sport, uint16_t *ipid)
{
    uint32_t seq = (uint32_t) rnd2, ack = 0, win = 64240;
    uint8_t flags = 0x02;
    if (p->type == DS_GEN_PKT_SYNACK) {
        static const uint16_t victims [] = { 80, 443, 22, 25, 53, 3389 };
        *sport = victims [s->key % 6];
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
        *sport = 32768 + (uint32_t) ((s->key >> 20) % 28232);
        *ipid = 54321;
        win = 65535;
        while ((uint16_t) ((dst4 ^ p->dport ^ seq) & 0xffff) == 54321 || seq == dst4)
            seq += 0x10001;                     //  not masscan-looking too
    }
    else
    if (s->kind == DS_GEN_MASSCAN) {
        *sport = 60000 + (uint32_t) ((s->key >> 20) % 5000);
        win = 1024;
        while ((uint16_t) ((dst4 ^ p->dport ^ seq) & 0xffff) == 54321 || seq == dst4)
            seq += 0x10001;
        *ipid = (uint16_t) ((dst4 ^ p->dport ^ seq) & 0xffff);
    }
    else
    if (flags == 0x02 && !s->v6) {
        //  not ZMap, not masscan
        while (*ipid == 54321 || *ipid == (uint16_t) ((dst4 ^ p->dport ^ seq) & 0xffff))
            (*ipid)++;
    }
    s_put16 (l4, *sport);
    s_put16 (l4 + 2, p->dport);
    s_put32 (l4 + 4, seq);
    s_put32 (l4 + 8, ack);
    l4 [12] = 0x50;
    l4 [13] = flags;
    s_put16 (l4 + 14, win);
    s_put16 (l4 + 16, 0);
    s_put16 (l4 + 18, 0);
}

void
ds_gen_pcap_header (uint8_t *buf)
{
    s_le32 (buf, 0xa1b2c3d4);                   //  microsecond magic
    uint16_t v16 [2] = { 2, 4 };                //  version 2.4, host order
    memcpy (buf + 4, v16, 4);
    memset (buf + 8, 0, 8);
    s_le32 (buf + 16, 65535);                   //  snaplen
    s_le32 (buf + 20, 1);                       //  DLT_EN10MB
}

size_t
ds_gen_pcap_frame (uint8_t *buf, const ds_gen_packet_t *p, const ds_gen_source_t *s,
                   const uint8_t *v6, const ds_gen_telescope_t *tele, ds_rng_t *wrng,
                   int64_t day_start_s)
{
    uint8_t *eth = buf + 16;
    static const uint8_t macs [12] = {
        0x00, 0x00, 0x5e, 0x00, 0x53, 0x01,  0x00, 0x00, 0x5e, 0x00, 0x53, 0x02 };
    memcpy (eth, macs, 12);

    size_t l4len = p->type == DS_GEN_PKT_SYN || p->type == DS_GEN_PKT_SYNACK ? 20 : 8;
    uint8_t proto = p->type == DS_GEN_PKT_UDP ? 17 : p->type == DS_GEN_PKT_ICMP ? (s->v6 ? 58 : 1) : 6;
    uint64_t rnd = ds_rng_next (wrng), rnd2 = ds_rng_next (wrng);
    uint32_t dst4, csum;
    size_t iplen = s_ip (eth, s, v6, tele, proto, l4len, rnd, &dst4, &csum);
    uint8_t *ip = eth + 14, *l4 = ip + iplen;

    uint32_t sport = 1024 + (uint32_t) ((rnd >> 16) % 64512);
    uint16_t ipid = (uint16_t) (rnd >> 48);
    if (p->type == DS_GEN_PKT_SYN || p->type == DS_GEN_PKT_SYNACK)
        s_tcp (l4, p, s, dst4, rnd2, &sport, &ipid);
    else
    if (p->type == DS_GEN_PKT_UDP) {
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
    if (p->type == DS_GEN_PKT_UDP && c == 0)
        c = 0xffff;
    s_put16 (l4 + (p->type == DS_GEN_PKT_UDP ? 6 : p->type == DS_GEN_PKT_ICMP ? 2 : 16), c);
    if (!s->v6) {
        s_put16 (ip + 4, ipid);
        s_put16 (ip + 10, s_csum_fold (s_csum_add (0, ip, 20)));
    }

    uint32_t caplen = (uint32_t) (14 + iplen + l4len);
    s_le32 (buf, (uint32_t) (day_start_s + (int64_t) (p->t / 1000000)));
    s_le32 (buf + 4, (uint32_t) (p->t % 1000000));
    s_le32 (buf + 8, caplen);
    s_le32 (buf + 12, caplen);
    return 16 + caplen;
}
