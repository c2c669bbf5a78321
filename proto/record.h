/*  record.h - the unit of darknet traffic that flows through darkscope.

    A record is (ts, src, port, proto, flags) as DESIGN.md §2 defines it.
    Addresses are 16 bytes; an IPv4 source is stored IPv4-mapped
    (::ffff:a.b.c.d) so one type serves both families.  Records travel in
    columnar batches (ds_batch_t, see batch.h), never one by one.
*/
#ifndef DS_RECORD_H
#define DS_RECORD_H

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>

#define DS_PORT_NONE (-1)           //  the port token "-"

//  Protocol classes, as they appear in pp ("23/TCP").  Values are on the wire.
typedef enum {
    DS_PROTO_TCP  = 0,
    DS_PROTO_UDP  = 1,
    DS_PROTO_ICMP = 2,
    DS_PROTO_GRE  = 3,
    DS_PROTO_OTH  = 4,
    DS_PROTO_COUNT
} ds_proto_t;

//  Per-record flag bits.  Values are on the wire.
enum {
    DS_FLAG_MIRAI   = 1 << 0,       //  TCP SYN with seq == dst IPv4 address
    DS_FLAG_ZMAP    = 1 << 1,       //  TCP SYN with ip.id == 54321
    DS_FLAG_MASSCAN = 1 << 2,       //  TCP SYN with ip.id == (dst^dport^seq)&0xffff
    DS_FLAG_GT      = 1 << 3        //  set by the labeler: a GT entry named the source
};

typedef struct {
    uint8_t b [16];                 //  network byte order; IPv4 is ::ffff:a.b.c.d
} ds_addr_t;

typedef struct {
    int64_t ts;                     //  microseconds since the Unix epoch
    ds_addr_t src;
    int32_t port;                   //  0..65535, or DS_PORT_NONE
    uint8_t proto;                  //  ds_proto_t
    uint8_t flags;                  //  DS_FLAG_*
} ds_record_t;

//  Name of a protocol class: "TCP", "UDP", "ICMP", "GRE", "OTH".
const char *ds_proto_name (int proto);

//  Maps an IP protocol number to its class (6 TCP, 17 UDP, 1/58 ICMP, 47 GRE).
ds_proto_t ds_proto_from_ipproto (int ipproto);

//  Writes "<port>/<PROTO>" into buf (at least 16 bytes); returns its length.
int ds_pp_format (char *buf, size_t size, int32_t port, int proto);

//  Sets addr from 4 network-order bytes (IPv4-mapped).
void ds_addr_from_v4 (ds_addr_t *addr, const uint8_t v4 [4]);

//  Sets addr from 16 network-order bytes.
void ds_addr_from_v6 (ds_addr_t *addr, const uint8_t v6 [16]);

//  True if addr is IPv4-mapped.
bool ds_addr_is_v4 (const ds_addr_t *addr);

//  Text form: dotted quad for IPv4, RFC 5952 for IPv6.  buf >= 46 bytes.
const char *ds_addr_format (const ds_addr_t *addr, char *buf, size_t size);

//  Parses an IPv4 or IPv6 address; returns 0, or -1 if text is not one.
int ds_addr_parse (ds_addr_t *addr, const char *text);

//  Maps a non-address token (DarkVec's "src_ipaddrN") into 100::/64 from a
//  64-bit FNV-1a hash of the token, so it shards and counts like an address.
void ds_addr_from_token (ds_addr_t *addr, const char *token, size_t len);

//  Stable shard of a source: a 64-bit hash of its 16 bytes, modulo shards.
uint32_t ds_addr_shard (const ds_addr_t *addr, uint32_t shards);

//  Compares two addresses byte-wise (memcmp order).
int ds_addr_cmp (const ds_addr_t *a, const ds_addr_t *b);

#endif
