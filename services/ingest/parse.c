/*  parse.c - link layers, IPv4/IPv6 and the transport rules of DESIGN.md §2.

    Every rule that could be read two ways is decided here, stricter reading:
    - Lengths come from caplen only; IP total length / payload length are
      ignored (Ethernet padding or a truncated snaplen change nothing as long
      as the headers we need were captured).
    - The IP version nibble must match what the link layer announced
      (ethertype 0x0800 -> 4, 0x86DD -> 6, LINKTYPE_IPV4 -> 4, AF_INET -> 4...);
      DLT_RAW accepts 4 or 6 and anything else is malformed.
    - IPv4 IHL < 5 or a header longer than the captured bytes is malformed.
    - The fixed transport header (s_transports) must be captured, except in a
      non-first fragment, whose transport header is not in this frame at all.
    - IPv6 hop-by-hop (0), routing (43), fragment (44) and destination options
      (60) are walked; a header that does not fit in caplen is malformed.  For
      a non-first IPv6 fragment the protocol is the fragment header's next
      header and the port is "-".
    - Fingerprints need TCP with SYN set and ACK clear in a first (or
      unfragmented) IPv4 packet: all three compare against IPv4 fields.
*/
#include "parse.h"
#include <pcap/dlt.h>
#include <string.h>

#define LINKTYPE_RAW 101            //  as stored in files; libpcap maps it to DLT_RAW

static inline uint16_t
s_be16 (const uint8_t *p)
{
    return (uint16_t) ((p [0] << 8) | p [1]);
}

static inline uint32_t
s_be32 (const uint8_t *p)
{
    return ((uint32_t) p [0] << 24) | ((uint32_t) p [1] << 16)
         | ((uint32_t) p [2] << 8) | (uint32_t) p [3];
}

//  Transport protocols with a fixed header that must be captured, and
//  whether they carry a destination port at bytes 2-3.
typedef struct {
    uint8_t min_len;
    bool has_port;
    uint8_t proto;                  //  ds_proto_t
} s_transport_t;

static s_transport_t s_transports [256];     //  by IP protocol number

static const struct {
    uint8_t ipproto, min_len;
    bool has_port;
} s_fixed [] = {
    { 6,   20, true  },             //  TCP
    { 17,   8, true  },             //  UDP
    { 136,  8, true  },             //  UDP-Lite
    { 132, 12, true  },             //  SCTP
    { 33,  12, true  },             //  DCCP
    { 1,    8, false },             //  ICMP
    { 58,   4, false },             //  ICMPv6
    { 47,   4, false },             //  GRE
};

static void __attribute__ ((constructor))
s_transports_init (void)
{
    for (int i = 0; i < 256; i++)
        s_transports [i].proto = (uint8_t) ds_proto_from_ipproto (i);
    for (size_t i = 0; i < sizeof s_fixed / sizeof s_fixed [0]; i++) {
        s_transports [s_fixed [i].ipproto].min_len = s_fixed [i].min_len;
        s_transports [s_fixed [i].ipproto].has_port = s_fixed [i].has_port;
    }
}

//  Fills port/proto from the transport header at data (len captured bytes
//  left).  first: false for a non-first fragment.  v4hdr: the IPv4 header
//  for fingerprints, NULL for IPv6.
static int
s_transport (int ipproto, const uint8_t *data, uint32_t len, bool first,
             const uint8_t *v4hdr, ds_record_t *rec)
{
    const s_transport_t *t = &s_transports [ipproto];
    rec->proto = t->proto;
    rec->port = DS_PORT_NONE;
    rec->flags = 0;
    if (!first)
        return DS_PARSE_OK;
    if (len < t->min_len)
        return DS_PARSE_MALFORMED;
    if (t->has_port)
        rec->port = s_be16 (data + 2);
    if (ipproto == 6 && v4hdr && (data [13] & 0x12) == 0x02) {
        uint32_t seq = s_be32 (data + 4);
        uint32_t dst = s_be32 (v4hdr + 16);
        uint16_t ipid = s_be16 (v4hdr + 4);
        if (seq == dst)
            rec->flags |= DS_FLAG_MIRAI;
        if (ipid == 54321)
            rec->flags |= DS_FLAG_ZMAP;
        if (ipid == ((dst ^ (uint32_t) rec->port ^ seq) & 0xffff))
            rec->flags |= DS_FLAG_MASSCAN;
    }
    return DS_PARSE_OK;
}

static int
s_ipv4 (const uint8_t *p, uint32_t len, int64_t ts_us, ds_record_t *rec)
{
    if (len < 20 || (p [0] >> 4) != 4)
        return DS_PARSE_MALFORMED;
    uint32_t ihl = (uint32_t) (p [0] & 0x0f) * 4;
    if (ihl < 20 || ihl > len)
        return DS_PARSE_MALFORMED;
    rec->ts = ts_us;
    ds_addr_from_v4 (&rec->src, p + 12);
    bool first = (s_be16 (p + 6) & 0x1fff) == 0;
    return s_transport (p [9], p + ihl, len - ihl, first, p, rec);
}

static int
s_ipv6 (const uint8_t *p, uint32_t len, int64_t ts_us, ds_record_t *rec)
{
    if (len < 40 || (p [0] >> 4) != 6)
        return DS_PARSE_MALFORMED;
    rec->ts = ts_us;
    ds_addr_from_v6 (&rec->src, p + 8);
    int nh = p [6];
    uint32_t off = 40;
    bool first = true;
    //  Each extension header is >= 8 bytes, so the walk ends within caplen.
    while (nh == 0 || nh == 43 || nh == 44 || nh == 60) {
        if (len - off < 8)
            return DS_PARSE_MALFORMED;
        const uint8_t *h = p + off;
        uint32_t hlen = nh == 44 ? 8 : ((uint32_t) h [1] + 1) * 8;
        if (len - off < hlen)
            return DS_PARSE_MALFORMED;
        if (nh == 44 && (s_be16 (h + 2) >> 3) != 0)
            first = false;
        nh = h [0];
        off += hlen;
        if (!first)
            break;                  //  the rest is not in this fragment
    }
    return s_transport (nh, p + off, len - off, first, NULL, rec);
}

int
ds_parse_ip (const uint8_t *data, uint32_t len, int want_version,
             int64_t ts_us, ds_record_t *rec)
{
    if (len < 1)
        return DS_PARSE_MALFORMED;
    int version = data [0] >> 4;
    if (want_version && version != want_version)
        return DS_PARSE_MALFORMED;
    if (version == 4)
        return s_ipv4 (data, len, ts_us, rec);
    if (version == 6)
        return s_ipv6 (data, len, ts_us, rec);
    return DS_PARSE_MALFORMED;
}

//  An ethertype and what follows it (Ethernet, SLL, SLL2): VLAN tags
//  (802.1Q 0x8100, 802.1ad 0x88A8, old QinQ 0x9100) are skipped, any number.
static int
s_ethertype (uint16_t type, const uint8_t *p, uint32_t len, int64_t ts_us,
             ds_record_t *rec)
{
    while (type == 0x8100 || type == 0x88a8 || type == 0x9100) {
        if (len < 4)
            return DS_PARSE_MALFORMED;
        type = s_be16 (p + 2);
        p += 4;
        len -= 4;
    }
    if (type == 0x0800)
        return ds_parse_ip (p, len, 4, ts_us, rec);
    if (type == 0x86dd)
        return ds_parse_ip (p, len, 6, ts_us, rec);
    return DS_PARSE_NON_IP;
}

static int
s_link_ether (const uint8_t *p, uint32_t len, int64_t ts_us, ds_record_t *rec)
{
    if (len < 14)
        return DS_PARSE_MALFORMED;
    return s_ethertype (s_be16 (p + 12), p + 14, len - 14, ts_us, rec);
}

static int
s_link_sll (const uint8_t *p, uint32_t len, int64_t ts_us, ds_record_t *rec)
{
    if (len < 16)
        return DS_PARSE_MALFORMED;
    return s_ethertype (s_be16 (p + 14), p + 16, len - 16, ts_us, rec);
}

static int
s_link_sll2 (const uint8_t *p, uint32_t len, int64_t ts_us, ds_record_t *rec)
{
    if (len < 20)
        return DS_PARSE_MALFORMED;
    return s_ethertype (s_be16 (p), p + 20, len - 20, ts_us, rec);
}

static int
s_link_raw (const uint8_t *p, uint32_t len, int64_t ts_us, ds_record_t *rec)
{
    return ds_parse_ip (p, len, 0, ts_us, rec);
}

static int
s_link_ipv4 (const uint8_t *p, uint32_t len, int64_t ts_us, ds_record_t *rec)
{
    return ds_parse_ip (p, len, 4, ts_us, rec);
}

static int
s_link_ipv6 (const uint8_t *p, uint32_t len, int64_t ts_us, ds_record_t *rec)
{
    return ds_parse_ip (p, len, 6, ts_us, rec);
}

//  BSD address families: 2 is AF_INET everywhere; AF_INET6 is 24 (NetBSD,
//  OpenBSD), 28 (FreeBSD, DragonFly) or 30 (macOS).
static int
s_af_version (uint32_t af)
{
    return af == 2 ? 4 : (af == 24 || af == 28 || af == 30) ? 6 : 0;
}

static int
s_af_frame (int version, const uint8_t *p, uint32_t len, int64_t ts_us,
            ds_record_t *rec)
{
    if (!version)
        return DS_PARSE_NON_IP;
    return ds_parse_ip (p + 4, len - 4, version, ts_us, rec);
}

//  DLT_NULL: the family is in the writer's byte order, so take either.
static int
s_link_null (const uint8_t *p, uint32_t len, int64_t ts_us, ds_record_t *rec)
{
    if (len < 4)
        return DS_PARSE_MALFORMED;
    uint32_t be = s_be32 (p);
    uint32_t le = ((uint32_t) p [3] << 24) | ((uint32_t) p [2] << 16)
                | ((uint32_t) p [1] << 8) | p [0];
    int version = s_af_version (le);
    if (!version)
        version = s_af_version (be);
    return s_af_frame (version, p, len, ts_us, rec);
}

//  DLT_LOOP: the family is in network byte order.
static int
s_link_loop (const uint8_t *p, uint32_t len, int64_t ts_us, ds_record_t *rec)
{
    if (len < 4)
        return DS_PARSE_MALFORMED;
    return s_af_frame (s_af_version (s_be32 (p)), p, len, ts_us, rec);
}

typedef int (s_link_fn) (const uint8_t *p, uint32_t len, int64_t ts_us, ds_record_t *rec);

static const struct {
    int dlt;
    const char *name;
    s_link_fn *parse;
} s_links [] = {
    { DLT_EN10MB,     "EN10MB",     s_link_ether },
    { DLT_LINUX_SLL,  "LINUX_SLL",  s_link_sll },
    { DLT_LINUX_SLL2, "LINUX_SLL2", s_link_sll2 },
    { DLT_RAW,        "RAW",        s_link_raw },
    { LINKTYPE_RAW,   "RAW",        s_link_raw },
    { DLT_IPV4,       "IPV4",       s_link_ipv4 },
    { DLT_IPV6,       "IPV6",       s_link_ipv6 },
    { DLT_NULL,       "NULL",       s_link_null },
    { DLT_LOOP,       "LOOP",       s_link_loop },
};
#define S_LINKS ((int) (sizeof s_links / sizeof s_links [0]))
_Static_assert (sizeof s_links / sizeof s_links [0] <= DS_LINK_MAX, "DS_LINK_MAX");

int
ds_link_index (int dlt)
{
    for (int i = 0; i < S_LINKS; i++)
        if (s_links [i].dlt == dlt)
            return i;
    return -1;
}

bool
ds_link_supported (int dlt)
{
    return ds_link_index (dlt) >= 0;
}

int
ds_link_count (void)
{
    return S_LINKS;
}

const char *
ds_link_name (int index)
{
    return index >= 0 && index < S_LINKS ? s_links [index].name : "?";
}

int
ds_parse_frame (int dlt, const uint8_t *data, uint32_t caplen,
                int64_t ts_us, ds_record_t *rec)
{
    //  The common case first, without the table walk.
    if (dlt == DLT_EN10MB)
        return s_link_ether (data, caplen, ts_us, rec);
    int i = ds_link_index (dlt);
    if (i < 0)
        return DS_PARSE_MALFORMED;
    return s_links [i].parse (data, caplen, ts_us, rec);
}
