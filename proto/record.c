/*  record.c - addresses, protocol names and pp text; see record.h. */
#include "record.h"
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static const char *s_proto_names [DS_PROTO_COUNT] = { "TCP", "UDP", "ICMP", "GRE", "OTH" };
static const uint8_t s_v4_prefix [12] = { 0,0,0,0, 0,0,0,0, 0,0,0xff,0xff };

const char *
ds_proto_name (int proto)
{
    return proto >= 0 && proto < DS_PROTO_COUNT ? s_proto_names [proto] : "OTH";
}

ds_proto_t
ds_proto_from_ipproto (int ipproto)
{
    switch (ipproto) {
        case 6:  return DS_PROTO_TCP;
        case 17: return DS_PROTO_UDP;
        case 1:
        case 58: return DS_PROTO_ICMP;
        case 47: return DS_PROTO_GRE;
        default: return DS_PROTO_OTH;
    }
}

int
ds_pp_format (char *buf, size_t size, int32_t port, int proto)
{
    if (port == DS_PORT_NONE)
        return snprintf (buf, size, "-/%s", ds_proto_name (proto));
    return snprintf (buf, size, "%d/%s", (int) port, ds_proto_name (proto));
}

void
ds_addr_from_v4 (ds_addr_t *addr, const uint8_t v4 [4])
{
    memcpy (addr->b, s_v4_prefix, 12);
    memcpy (addr->b + 12, v4, 4);
}

void
ds_addr_from_v6 (ds_addr_t *addr, const uint8_t v6 [16])
{
    memcpy (addr->b, v6, 16);
}

bool
ds_addr_is_v4 (const ds_addr_t *addr)
{
    return memcmp (addr->b, s_v4_prefix, 12) == 0;
}

const char *
ds_addr_format (const ds_addr_t *addr, char *buf, size_t size)
{
    if (ds_addr_is_v4 (addr))
        inet_ntop (AF_INET, addr->b + 12, buf, (socklen_t) size);
    else
        inet_ntop (AF_INET6, addr->b, buf, (socklen_t) size);
    return buf;
}

int
ds_addr_parse (ds_addr_t *addr, const char *text)
{
    uint8_t bytes [16];
    if (inet_pton (AF_INET, text, bytes) == 1) {
        ds_addr_from_v4 (addr, bytes);
        return 0;
    }
    if (inet_pton (AF_INET6, text, bytes) == 1) {
        ds_addr_from_v6 (addr, bytes);
        return 0;
    }
    return -1;
}

#define S_FNV_OFFSET    0xcbf29ce484222325ULL
#define S_FNV_PRIME     0x100000001b3ULL
#define S_FNV_V4_PREFIX 0x540b81da1cc1b60bULL   //  state after ::ffff: (test_common checks)

//  FNV-1a of data, continuing from the state hash.
static uint64_t
s_fnv1a (uint64_t hash, const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        hash ^= data [i];
        hash *= S_FNV_PRIME;
    }
    return hash;
}

void
ds_addr_from_token (ds_addr_t *addr, const char *token, size_t len)
{
    //  100::/64, RFC 6666 discard-only prefix: 0100:0000:0000:0000::/64
    memset (addr->b, 0, 16);
    addr->b [0] = 0x01;
    uint64_t hash = s_fnv1a (S_FNV_OFFSET, (const uint8_t *) token, len);
    for (int i = 0; i < 8; i++)
        addr->b [8 + i] = (uint8_t) (hash >> (56 - 8 * i));
}

uint32_t
ds_addr_shard (const ds_addr_t *addr, uint32_t shards)
{
    if (shards <= 1)
        return 0;
    //  FNV-1a of the 16 bytes, then a final mix so that the low bits depend
    //  on every byte.  This runs once per packet in ingest: an IPv4-mapped
    //  source starts from the state after its constant prefix (4 steps, not
    //  16), and a power-of-two shard count is a mask, not a 64-bit division
    //  (same results: test_common compares with the plain definition).
    uint64_t h = ds_addr_is_v4 (addr) ? s_fnv1a (S_FNV_V4_PREFIX, addr->b + 12, 4)
                                      : s_fnv1a (S_FNV_OFFSET, addr->b, 16);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    if ((shards & (shards - 1)) == 0)
        return (uint32_t) (h & (shards - 1));
    return (uint32_t) (h % shards);
}

int
ds_addr_cmp (const ds_addr_t *a, const ds_addr_t *b)
{
    return memcmp (a->b, b->b, 16);
}
