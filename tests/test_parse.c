/*  libs: ds_ingest ds_proto ds_common */
/*  test_parse.c - ds_parse_frame on hand-built frames, one per rule of
    DESIGN.md §2, and a random-bytes robustness loop (run it under the
    sanitizer build: every frame is copied into a buffer of exactly caplen
    bytes so any over-read is caught). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <pcap/dlt.h>
#include "parse.h"

//  A frame under construction.
typedef struct {
    uint8_t b [512];
    uint32_t len;
} frame_t;

static void
put (frame_t *f, const void *data, uint32_t len)
{
    memcpy (f->b + f->len, data, len);
    f->len += len;
}

static void
put16 (frame_t *f, uint16_t v)
{
    uint8_t b [2] = { (uint8_t) (v >> 8), (uint8_t) v };
    put (f, b, 2);
}

static void
put32 (frame_t *f, uint32_t v)
{
    uint8_t b [4] = { (uint8_t) (v >> 24), (uint8_t) (v >> 16), (uint8_t) (v >> 8), (uint8_t) v };
    put (f, b, 4);
}

static void
ether (frame_t *f, uint16_t type)
{
    static const uint8_t macs [12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
    f->len = 0;
    put (f, macs, 12);
    put16 (f, type);
}

#define SRC4 0xc0000201u            //  192.0.2.1
#define DST4 0xc6336407u            //  198.51.100.7

//  IPv4 header: proto, ip id, fragment field (flags+offset).
static void
ipv4 (frame_t *f, uint8_t proto, uint16_t id, uint16_t frag)
{
    put16 (f, 0x4500);
    put16 (f, 40);                  //  total length: deliberately not trusted
    put16 (f, id);
    put16 (f, frag);
    uint8_t ttl_proto [2] = { 64, proto };
    put (f, ttl_proto, 2);
    put16 (f, 0);
    put32 (f, SRC4);
    put32 (f, DST4);
}

static const uint8_t SRC6 [16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x42 };

static void
ipv6 (frame_t *f, uint8_t next)
{
    put32 (f, 0x60000000);
    put16 (f, 0);
    uint8_t nh [2] = { next, 64 };
    put (f, nh, 2);
    put (f, SRC6, 16);
    put (f, SRC6, 16);
}

static void
tcp (frame_t *f, uint16_t dport, uint32_t seq, uint8_t flags)
{
    put16 (f, 40000);
    put16 (f, dport);
    put32 (f, seq);
    put32 (f, 0);
    uint8_t off_flags [2] = { 0x50, flags };
    put (f, off_flags, 2);
    put16 (f, 1024);
    put32 (f, 0);
}

static void
udp (frame_t *f, uint16_t dport)
{
    put16 (f, 5353);
    put16 (f, dport);
    put16 (f, 8);
    put16 (f, 0);
}

static void
zeros (frame_t *f, uint32_t n)
{
    memset (f->b + f->len, 0, n);
    f->len += n;
}

//  Parses a copy of exactly len bytes (so ASan sees any over-read).
static int
parse_n (int dlt, const frame_t *f, uint32_t len, ds_record_t *rec)
{
    uint8_t *copy = malloc (len ? len : 1);
    memcpy (copy, f->b, len);
    memset (rec, 0xee, sizeof *rec);
    int rc = ds_parse_frame (dlt, copy, len, 1234567, rec);
    free (copy);
    return rc;
}

static int
parse (int dlt, const frame_t *f, ds_record_t *rec)
{
    return parse_n (dlt, f, f->len, rec);
}

static void
assert_record (const ds_record_t *rec, int port, int proto, int flags)
{
    assert_int_equal (rec->port, port);
    assert_int_equal (rec->proto, proto);
    assert_int_equal (rec->flags, flags);
    assert_int_equal (rec->ts, 1234567);
}

static void
test_ethernet_ipv4 (void **state)
{
    (void) state;
    frame_t f;
    ds_record_t rec;
    ether (&f, 0x0800); ipv4 (&f, 6, 1, 0); tcp (&f, 23, 5, 0x18);
    assert_int_equal (parse (DLT_EN10MB, &f, &rec), DS_PARSE_OK);
    assert_record (&rec, 23, DS_PROTO_TCP, 0);
    char text [64];
    assert_string_equal (ds_addr_format (&rec.src, text, sizeof text), "192.0.2.1");
    //  Ethernet padding after a short IP packet is fine.
    zeros (&f, 20);
    assert_int_equal (parse (DLT_EN10MB, &f, &rec), DS_PARSE_OK);
    assert_record (&rec, 23, DS_PROTO_TCP, 0);
    //  A frame under 14 bytes is malformed, 14 bytes of ARP is not IP.
    assert_int_equal (parse_n (DLT_EN10MB, &f, 13, &rec), DS_PARSE_MALFORMED);
    assert_int_equal (parse_n (DLT_EN10MB, &f, 0, &rec), DS_PARSE_MALFORMED);
    ether (&f, 0x0806); zeros (&f, 28);
    assert_int_equal (parse (DLT_EN10MB, &f, &rec), DS_PARSE_NON_IP);
    ether (&f, 0x0806);
    assert_int_equal (parse (DLT_EN10MB, &f, &rec), DS_PARSE_NON_IP);
    //  802.3 length + LLC (STP) is not IP.
    ether (&f, 0x0026); zeros (&f, 38);
    assert_int_equal (parse (DLT_EN10MB, &f, &rec), DS_PARSE_NON_IP);
    //  Ethertype IPv4 with only part of the IP header: malformed.
    ether (&f, 0x0800); ipv4 (&f, 6, 1, 0);
    assert_int_equal (parse_n (DLT_EN10MB, &f, 14 + 19, &rec), DS_PARSE_MALFORMED);
    assert_int_equal (parse_n (DLT_EN10MB, &f, 14, &rec), DS_PARSE_MALFORMED);
}

static void
test_vlan_tags (void **state)
{
    (void) state;
    frame_t f;
    ds_record_t rec;
    //  802.1ad outer, 802.1Q inner, then an old 0x9100 tag: all skipped.
    ether (&f, 0x88a8); put16 (&f, 100); put16 (&f, 0x8100); put16 (&f, 200);
    put16 (&f, 0x9100); put16 (&f, 300); put16 (&f, 0x86dd);
    ipv6 (&f, 17); udp (&f, 53);
    assert_int_equal (parse (DLT_EN10MB, &f, &rec), DS_PARSE_OK);
    assert_record (&rec, 53, DS_PROTO_UDP, 0);
    char text [64];
    assert_string_equal (ds_addr_format (&rec.src, text, sizeof text), "2001:db8::42");
    //  A tag cut short is malformed; a tag over ARP is not IP.
    assert_int_equal (parse_n (DLT_EN10MB, &f, 16, &rec), DS_PARSE_MALFORMED);
    ether (&f, 0x8100); put16 (&f, 5); put16 (&f, 0x0806); zeros (&f, 28);
    assert_int_equal (parse (DLT_EN10MB, &f, &rec), DS_PARSE_NON_IP);
}

static void
test_version_mismatch (void **state)
{
    (void) state;
    frame_t f;
    ds_record_t rec;
    ether (&f, 0x0800); ipv6 (&f, 6); tcp (&f, 80, 1, 0x02);
    assert_int_equal (parse (DLT_EN10MB, &f, &rec), DS_PARSE_MALFORMED);
    ether (&f, 0x86dd); ipv4 (&f, 6, 1, 0); tcp (&f, 80, 1, 0x02); zeros (&f, 20);
    assert_int_equal (parse (DLT_EN10MB, &f, &rec), DS_PARSE_MALFORMED);
    //  IHL below 5, or options beyond the captured bytes.
    ether (&f, 0x0800); ipv4 (&f, 6, 1, 0); tcp (&f, 80, 1, 0x02);
    f.b [14] = 0x44;
    assert_int_equal (parse (DLT_EN10MB, &f, &rec), DS_PARSE_MALFORMED);
    f.b [14] = 0x4f;                //  60-byte header, 40 bytes captured after Ethernet
    assert_int_equal (parse (DLT_EN10MB, &f, &rec), DS_PARSE_MALFORMED);
    //  IPv4 options captured: the transport starts after them.
    ether (&f, 0x0800); ipv4 (&f, 17, 1, 0); zeros (&f, 4); udp (&f, 161);
    f.b [14] = 0x46;
    assert_int_equal (parse (DLT_EN10MB, &f, &rec), DS_PARSE_OK);
    assert_record (&rec, 161, DS_PROTO_UDP, 0);
}

//  The fixed transport header sizes: exactly enough is OK, one byte less
//  is malformed.  Ports only for TCP, UDP, SCTP, DCCP, UDP-Lite.
static void
test_transport_sizes (void **state)
{
    (void) state;
    static const struct { uint8_t ipproto; uint32_t size; int port; int proto; } cases [] = {
        { 6,   20, 0x1234, DS_PROTO_TCP },
        { 17,   8, 0x1234, DS_PROTO_UDP },
        { 136,  8, 0x1234, DS_PROTO_OTH },      //  UDP-Lite
        { 132, 12, 0x1234, DS_PROTO_OTH },      //  SCTP
        { 33,  12, 0x1234, DS_PROTO_OTH },      //  DCCP
        { 1,    8, DS_PORT_NONE, DS_PROTO_ICMP },
        { 47,   4, DS_PORT_NONE, DS_PROTO_GRE },
        { 89,   0, DS_PORT_NONE, DS_PROTO_OTH },    //  OSPF: no header required
        { 2,    0, DS_PORT_NONE, DS_PROTO_OTH },    //  IGMP
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        frame_t f;
        ds_record_t rec;
        ether (&f, 0x0800); ipv4 (&f, cases [i].ipproto, 1, 0);
        put16 (&f, 0x9999); put16 (&f, 0x1234); zeros (&f, 16);
        assert_int_equal (parse_n (DLT_EN10MB, &f, 34 + cases [i].size, &rec), DS_PARSE_OK);
        assert_record (&rec, cases [i].port, cases [i].proto, 0);
        if (cases [i].size)
            assert_int_equal (parse_n (DLT_EN10MB, &f, 34 + cases [i].size - 1, &rec),
                              DS_PARSE_MALFORMED);
    }
    //  ICMPv6 needs 4 bytes and is ICMP.
    frame_t f;
    ds_record_t rec;
    ether (&f, 0x86dd); ipv6 (&f, 58); put32 (&f, 0x80000000);
    assert_int_equal (parse (DLT_EN10MB, &f, &rec), DS_PARSE_OK);
    assert_record (&rec, DS_PORT_NONE, DS_PROTO_ICMP, 0);
    assert_int_equal (parse_n (DLT_EN10MB, &f, f.len - 1, &rec), DS_PARSE_MALFORMED);
}

static void
test_ipv4_fragments (void **state)
{
    (void) state;
    frame_t f;
    ds_record_t rec;
    //  Non-first fragment: port "-", no transport header needed, no flags
    //  even if the payload looks like a SYN with seq == dst.
    ether (&f, 0x0800); ipv4 (&f, 6, 54321, 0x0010);
    assert_int_equal (parse (DLT_EN10MB, &f, &rec), DS_PARSE_OK);
    assert_record (&rec, DS_PORT_NONE, DS_PROTO_TCP, 0);
    tcp (&f, 23, DST4, 0x02);
    assert_int_equal (parse (DLT_EN10MB, &f, &rec), DS_PARSE_OK);
    assert_record (&rec, DS_PORT_NONE, DS_PROTO_TCP, 0);
    //  First fragment (MF set, offset 0): the header rules apply.
    ether (&f, 0x0800); ipv4 (&f, 17, 1, 0x2000); udp (&f, 500);
    assert_int_equal (parse (DLT_EN10MB, &f, &rec), DS_PARSE_OK);
    assert_record (&rec, 500, DS_PROTO_UDP, 0);
    assert_int_equal (parse_n (DLT_EN10MB, &f, f.len - 1, &rec), DS_PARSE_MALFORMED);
    //  DF flag alone is not a fragment.
    ether (&f, 0x0800); ipv4 (&f, 17, 1, 0x4000); udp (&f, 500);
    assert_int_equal (parse (DLT_EN10MB, &f, &rec), DS_PARSE_OK);
    assert_int_equal (rec.port, 500);
}

static void
test_ipv6_extensions (void **state)
{
    (void) state;
    frame_t f;
    ds_record_t rec;
    //  hop-by-hop (8) -> routing (24) -> fragment (first) -> dest-opts (16) -> TCP
    ether (&f, 0x86dd); ipv6 (&f, 0);
    uint8_t hbh [8] = { 43, 0 };
    put (&f, hbh, 8);
    uint8_t rt [24] = { 44, 2 };
    put (&f, rt, 24);
    uint8_t frag [8] = { 60, 0, 0x00, 0x01, 0, 0, 0, 1 };     //  offset 0, M=1
    put (&f, frag, 8);
    uint8_t dst [16] = { 6, 1 };
    put (&f, dst, 16);
    tcp (&f, 8080, 7, 0x02);
    assert_int_equal (parse (DLT_EN10MB, &f, &rec), DS_PARSE_OK);
    //  An IPv6 SYN gets no fingerprint: the three compare IPv4 fields.
    assert_record (&rec, 8080, DS_PROTO_TCP, 0);
    //  Truncated anywhere in the chain or the TCP header: malformed.
    for (uint32_t len = 54; len < f.len; len += 3)
        assert_int_equal (parse_n (DLT_EN10MB, &f, len, &rec), DS_PARSE_MALFORMED);
    //  Non-first fragment: proto from the fragment header, port "-".
    ether (&f, 0x86dd); ipv6 (&f, 44);
    uint8_t frag2 [8] = { 17, 0, 0x05, 0x00, 0, 0, 0, 1 };    //  offset 160
    put (&f, frag2, 8);
    assert_int_equal (parse (DLT_EN10MB, &f, &rec), DS_PARSE_OK);
    assert_record (&rec, DS_PORT_NONE, DS_PROTO_UDP, 0);
    //  AH (51) is not walked: it is the transport, OTH, port "-".
    ether (&f, 0x86dd); ipv6 (&f, 51); zeros (&f, 12); udp (&f, 53);
    assert_int_equal (parse (DLT_EN10MB, &f, &rec), DS_PARSE_OK);
    assert_record (&rec, DS_PORT_NONE, DS_PROTO_OTH, 0);
    //  No next header (59): OTH.
    ether (&f, 0x86dd); ipv6 (&f, 59);
    assert_int_equal (parse (DLT_EN10MB, &f, &rec), DS_PARSE_OK);
    assert_record (&rec, DS_PORT_NONE, DS_PROTO_OTH, 0);
    //  An extension header longer than the capture.
    ether (&f, 0x86dd); ipv6 (&f, 60);
    uint8_t big [8] = { 6, 200 };
    put (&f, big, 8); tcp (&f, 1, 1, 2);
    assert_int_equal (parse (DLT_EN10MB, &f, &rec), DS_PARSE_MALFORMED);
}

static void
test_fingerprints (void **state)
{
    (void) state;
    frame_t f;
    ds_record_t rec;
    //  Mirai: seq == destination address.
    ether (&f, 0x0800); ipv4 (&f, 6, 1, 0); tcp (&f, 23, DST4, 0x02);
    assert_int_equal (parse (DLT_EN10MB, &f, &rec), DS_PARSE_OK);
    assert_int_equal (rec.flags, DS_FLAG_MIRAI);
    //  ...but not with ACK set (a SYN-ACK), nor without SYN.
    ether (&f, 0x0800); ipv4 (&f, 6, 1, 0); tcp (&f, 23, DST4, 0x12);
    parse (DLT_EN10MB, &f, &rec);
    assert_int_equal (rec.flags, 0);
    ether (&f, 0x0800); ipv4 (&f, 6, 54321, 0); tcp (&f, 23, DST4, 0x10);
    parse (DLT_EN10MB, &f, &rec);
    assert_int_equal (rec.flags, 0);
    //  ZMap: ip.id 54321.
    ether (&f, 0x0800); ipv4 (&f, 6, 54321, 0); tcp (&f, 443, 99, 0x02);
    parse (DLT_EN10MB, &f, &rec);
    assert_int_equal (rec.flags, DS_FLAG_ZMAP);
    //  masscan: ip.id == (dst ^ dport ^ seq) & 0xffff.
    uint32_t seq = 0x12345678;
    uint16_t id = (uint16_t) ((DST4 ^ 3389u ^ seq) & 0xffff);
    ether (&f, 0x0800); ipv4 (&f, 6, id, 0); tcp (&f, 3389, seq, 0x02);
    parse (DLT_EN10MB, &f, &rec);
    assert_int_equal (rec.flags, DS_FLAG_MASSCAN);
    ether (&f, 0x0800); ipv4 (&f, 6, (uint16_t) (id + 1), 0); tcp (&f, 3389, seq, 0x02);
    parse (DLT_EN10MB, &f, &rec);
    assert_int_equal (rec.flags, 0);
    //  SYN with other flags (ECE/CWR) still counts; UDP never does.
    ether (&f, 0x0800); ipv4 (&f, 6, 54321, 0); tcp (&f, 80, DST4, 0xc2);
    parse (DLT_EN10MB, &f, &rec);
    assert_int_equal (rec.flags, DS_FLAG_MIRAI | DS_FLAG_ZMAP);
    ether (&f, 0x0800); ipv4 (&f, 17, 54321, 0); udp (&f, 80); zeros (&f, 12);
    parse (DLT_EN10MB, &f, &rec);
    assert_int_equal (rec.flags, 0);
}

static void
test_link_types (void **state)
{
    (void) state;
    frame_t ip4, ip6, f;
    ds_record_t rec;
    ip4.len = 0; ipv4 (&ip4, 6, 1, 0); tcp (&ip4, 22, 1, 0x02);
    ip6.len = 0; ipv6 (&ip6, 17); udp (&ip6, 123);
    //  Linux SLL: 16 bytes, protocol at 14.
    f.len = 0; zeros (&f, 14); put16 (&f, 0x0800); put (&f, ip4.b, ip4.len);
    assert_int_equal (parse (DLT_LINUX_SLL, &f, &rec), DS_PARSE_OK);
    assert_int_equal (rec.port, 22);
    assert_int_equal (parse_n (DLT_LINUX_SLL, &f, 15, &rec), DS_PARSE_MALFORMED);
    f.len = 0; zeros (&f, 14); put16 (&f, 0x0004); zeros (&f, 20);       //  802.2 LLC
    assert_int_equal (parse (DLT_LINUX_SLL, &f, &rec), DS_PARSE_NON_IP);
    //  Linux SLL2: 20 bytes, protocol first.
    f.len = 0; put16 (&f, 0x86dd); zeros (&f, 18); put (&f, ip6.b, ip6.len);
    assert_int_equal (parse (DLT_LINUX_SLL2, &f, &rec), DS_PARSE_OK);
    assert_int_equal (rec.port, 123);
    assert_int_equal (parse_n (DLT_LINUX_SLL2, &f, 19, &rec), DS_PARSE_MALFORMED);
    //  Raw IP: the version nibble decides; LINKTYPE_IPV4/IPV6 insist.
    assert_int_equal (parse (DLT_RAW, &ip4, &rec), DS_PARSE_OK);
    assert_int_equal (parse (DLT_RAW, &ip6, &rec), DS_PARSE_OK);
    assert_int_equal (parse (101, &ip6, &rec), DS_PARSE_OK);
    assert_int_equal (parse (DLT_IPV4, &ip4, &rec), DS_PARSE_OK);
    assert_int_equal (parse (DLT_IPV4, &ip6, &rec), DS_PARSE_MALFORMED);
    assert_int_equal (parse (DLT_IPV6, &ip6, &rec), DS_PARSE_OK);
    assert_int_equal (parse (DLT_IPV6, &ip4, &rec), DS_PARSE_MALFORMED);
    f = ip4; f.b [0] = 0x55;
    assert_int_equal (parse (DLT_RAW, &f, &rec), DS_PARSE_MALFORMED);
    assert_int_equal (parse_n (DLT_RAW, &f, 0, &rec), DS_PARSE_MALFORMED);
    //  NULL: family in either byte order; 2 = IPv4, 24/28/30 = IPv6.
    const struct { uint8_t hdr [4]; frame_t *ip; int want; } nulls [] = {
        { { 2, 0, 0, 0 },  &ip4, DS_PARSE_OK },
        { { 0, 0, 0, 2 },  &ip4, DS_PARSE_OK },
        { { 24, 0, 0, 0 }, &ip6, DS_PARSE_OK },
        { { 0, 0, 0, 28 }, &ip6, DS_PARSE_OK },
        { { 30, 0, 0, 0 }, &ip6, DS_PARSE_OK },
        { { 2, 0, 0, 0 },  &ip6, DS_PARSE_MALFORMED },  //  family vs version
        { { 7, 0, 0, 0 },  &ip4, DS_PARSE_NON_IP },
    };
    for (size_t i = 0; i < sizeof nulls / sizeof nulls [0]; i++) {
        f.len = 0; put (&f, nulls [i].hdr, 4); put (&f, nulls [i].ip->b, nulls [i].ip->len);
        assert_int_equal (parse (DLT_NULL, &f, &rec), nulls [i].want);
    }
    assert_int_equal (parse_n (DLT_NULL, &f, 3, &rec), DS_PARSE_MALFORMED);
    //  LOOP: network byte order only.
    f.len = 0; put32 (&f, 2); put (&f, ip4.b, ip4.len);
    assert_int_equal (parse (DLT_LOOP, &f, &rec), DS_PARSE_OK);
    f.len = 0; put32 (&f, 30); put (&f, ip6.b, ip6.len);
    assert_int_equal (parse (DLT_LOOP, &f, &rec), DS_PARSE_OK);
    f.len = 0; uint8_t le [4] = { 2, 0, 0, 0 }; put (&f, le, 4); put (&f, ip4.b, ip4.len);
    assert_int_equal (parse (DLT_LOOP, &f, &rec), DS_PARSE_NON_IP);
    //  The table: supported types, and a clear "no" for others.
    static const int supported [] = { DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW,
                                      DLT_IPV4, DLT_IPV6, DLT_NULL, DLT_LOOP };
    for (size_t i = 0; i < sizeof supported / sizeof supported [0]; i++)
        assert_true (ds_link_supported (supported [i]));
    assert_false (ds_link_supported (DLT_IEEE802_11));
    assert_false (ds_link_supported (DLT_PPP));
    assert_string_equal (ds_link_name (ds_link_index (DLT_LINUX_SLL2)), "LINUX_SLL2");
    assert_int_equal (parse (DLT_IEEE802_11, &ip4, &rec), DS_PARSE_MALFORMED);
}

static void
test_gre_and_icmp (void **state)
{
    (void) state;
    frame_t f;
    ds_record_t rec;
    ether (&f, 0x0800); ipv4 (&f, 47, 1, 0); put32 (&f, 0x00000800); ipv4 (&f, 6, 1, 0);
    assert_int_equal (parse (DLT_EN10MB, &f, &rec), DS_PARSE_OK);
    assert_record (&rec, DS_PORT_NONE, DS_PROTO_GRE, 0);
    //  An ICMP error quoting a TCP header: still ICMP, port "-".
    ether (&f, 0x0800); ipv4 (&f, 1, 1, 0); put32 (&f, 0x03030000); put32 (&f, 0);
    ipv4 (&f, 6, 1, 0); put16 (&f, 1); put16 (&f, 80); put32 (&f, 1);
    assert_int_equal (parse (DLT_EN10MB, &f, &rec), DS_PARSE_OK);
    assert_record (&rec, DS_PORT_NONE, DS_PROTO_ICMP, 0);
}

//  Random frames and random corruptions of valid ones: any result is
//  acceptable, reading out of bounds or crashing is not.
static void
test_random_bytes (void **state)
{
    (void) state;
    static const int dlts [] = { DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW,
                                 DLT_IPV4, DLT_IPV6, DLT_NULL, DLT_LOOP, 147 };
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    frame_t seeds [3];
    ether (&seeds [0], 0x8100); put16 (&seeds [0], 1); put16 (&seeds [0], 0x0800);
    ipv4 (&seeds [0], 6, 1, 0); tcp (&seeds [0], 1, 2, 2);
    ether (&seeds [1], 0x86dd); ipv6 (&seeds [1], 0);
    uint8_t hbh [8] = { 44, 0 }, frag [8] = { 17, 0 };
    put (&seeds [1], hbh, 8); put (&seeds [1], frag, 8); udp (&seeds [1], 9);
    seeds [2].len = 0; ipv4 (&seeds [2], 132, 1, 0); zeros (&seeds [2], 12);
    int counts [3] = { 0, 0, 0 };
    for (int i = 0; i < 300000; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        frame_t f;
        if (i & 1) {
            f = seeds [x % 3];
            for (int k = 0; k < 3; k++) {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                f.b [x % f.len] = (uint8_t) (x >> 32);
            }
            f.len = (uint32_t) ((x >> 40) % (f.len + 1));
        }
        else {
            f.len = (uint32_t) (x % 120);
            for (uint32_t k = 0; k < f.len; k++) {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                f.b [k] = (uint8_t) x;
            }
            if (f.len > 0 && (x & 8))
                f.b [0] = (x & 16) ? 0x45 : 0x60;
        }
        ds_record_t rec;
        int rc = parse ((int) dlts [(x >> 20) % (sizeof dlts / sizeof dlts [0])], &f, &rec);
        assert_true (rc >= DS_PARSE_OK && rc <= DS_PARSE_MALFORMED);
        counts [rc]++;
        if (rc == DS_PARSE_OK)
            assert_true (rec.proto < DS_PROTO_COUNT && rec.port >= DS_PORT_NONE && rec.port <= 65535);
    }
    //  The loop did reach all three outcomes.
    assert_true (counts [0] > 0 && counts [1] > 0 && counts [2] > 0);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_ethernet_ipv4),
        cmocka_unit_test (test_vlan_tags),
        cmocka_unit_test (test_version_mismatch),
        cmocka_unit_test (test_transport_sizes),
        cmocka_unit_test (test_ipv4_fragments),
        cmocka_unit_test (test_ipv6_extensions),
        cmocka_unit_test (test_fingerprints),
        cmocka_unit_test (test_link_types),
        cmocka_unit_test (test_gre_and_icmp),
        cmocka_unit_test (test_random_bytes),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
