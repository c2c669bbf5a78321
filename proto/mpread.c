/*  mpread.c - bounded msgpack cursor; see mpread.h.

    Each reader decodes the header into locals, checks it against the bytes
    that remain, and only then advances the cursor, so a failed read leaves
    the cursor where it was.  Multi-byte msgpack numbers are big-endian.
*/
#include "mpread.h"
#include "ds_proto.h"
#include <string.h>

#define DS_MPREAD_DEPTH_MAX 64      //  ds_mpread_skip nesting ceiling

static inline uint64_t
s_be (const uint8_t *p, int width)
{
    uint64_t v = 0;
    for (int i = 0; i < width; i++)
        v = (v << 8) | p [i];
    return v;
}

void
ds_mpread_init (ds_mpread_t *self, const void *data, size_t size)
{
    self->pos = data;
    self->end = self->pos + size;
}

size_t
ds_mpread_left (const ds_mpread_t *self)
{
    return (size_t) (self->end - self->pos);
}

//  Kind of each lead byte 0xc0..0xdf; fix ranges are handled in code.
static const uint8_t s_kind_c0 [32] = {
    DS_MP_NIL, DS_MP_NONE, DS_MP_BOOL, DS_MP_BOOL,                //  c0-c3
    DS_MP_BIN, DS_MP_BIN, DS_MP_BIN,                              //  c4-c6
    DS_MP_EXT, DS_MP_EXT, DS_MP_EXT,                              //  c7-c9
    DS_MP_FLOAT, DS_MP_FLOAT,                                     //  ca-cb
    DS_MP_UINT, DS_MP_UINT, DS_MP_UINT, DS_MP_UINT,               //  cc-cf
    DS_MP_INT, DS_MP_INT, DS_MP_INT, DS_MP_INT,                   //  d0-d3
    DS_MP_EXT, DS_MP_EXT, DS_MP_EXT, DS_MP_EXT, DS_MP_EXT,        //  d4-d8
    DS_MP_STR, DS_MP_STR, DS_MP_STR,                              //  d9-db
    DS_MP_ARRAY, DS_MP_ARRAY, DS_MP_MAP, DS_MP_MAP                //  dc-df
};

ds_mp_kind_t
ds_mpread_peek (const ds_mpread_t *self)
{
    if (self->pos >= self->end)
        return DS_MP_NONE;
    uint8_t b = *self->pos;
    if (b <= 0x7f) return DS_MP_UINT;
    if (b <= 0x8f) return DS_MP_MAP;
    if (b <= 0x9f) return DS_MP_ARRAY;
    if (b <= 0xbf) return DS_MP_STR;
    if (b >= 0xe0) return DS_MP_INT;
    ds_mp_kind_t kind = s_kind_c0 [b - 0xc0];
    if (kind == DS_MP_INT) {
        //  a signed encoding may still hold a non-negative value
        int64_t v;
        ds_mpread_t probe = *self;
        if (ds_mpread_int (&probe, &v) == 0 && v >= 0)
            return DS_MP_UINT;
    }
    return kind;
}

//  Reads a container header (fix range base..base+15, then the 16/32-bit
//  forms at lead16/lead16+1).  Leaves the cursor untouched on failure.
static int
s_container (ds_mpread_t *self, uint8_t fixbase, uint8_t lead16, uint32_t per_item,
             uint32_t *count)
{
    const uint8_t *p = self->pos;
    size_t left = (size_t) (self->end - p);
    if (left < 1)
        return DS_ERR_MALFORMED;
    uint8_t b = p [0];
    uint64_t n;
    size_t head;
    if (b >= fixbase && b <= fixbase + 15) {
        n = b - fixbase;
        head = 1;
    }
    else
    if (b == lead16 || b == lead16 + 1) {
        int width = b == lead16 ? 2 : 4;
        if (left < 1 + (size_t) width)
            return DS_ERR_MALFORMED;
        n = s_be (p + 1, width);
        head = 1 + width;
    }
    else
        return DS_ERR_MALFORMED;
    if (n * per_item > left - head)
        return DS_ERR_MALFORMED;
    self->pos = p + head;
    *count = (uint32_t) n;
    return DS_OK;
}

int
ds_mpread_array (ds_mpread_t *self, uint32_t *count)
{
    return s_container (self, 0x90, 0xdc, 1, count);
}

int
ds_mpread_map (ds_mpread_t *self, uint32_t *count)
{
    return s_container (self, 0x80, 0xde, 2, count);
}

//  Reads any integer encoding: *neg tells whether *mag is a negative
//  int64 value stored as its two's complement bits.
static int
s_integer (ds_mpread_t *self, uint64_t *bits, bool *is_signed)
{
    const uint8_t *p = self->pos;
    size_t left = (size_t) (self->end - p);
    if (left < 1)
        return DS_ERR_MALFORMED;
    uint8_t b = p [0];
    if (b <= 0x7f) {
        *bits = b;
        *is_signed = false;
        self->pos = p + 1;
        return DS_OK;
    }
    if (b >= 0xe0) {
        *bits = (uint64_t) (int64_t) (int8_t) b;
        *is_signed = true;
        self->pos = p + 1;
        return DS_OK;
    }
    if (b < 0xcc || b > 0xd3)
        return DS_ERR_MALFORMED;
    int width = 1 << ((b - 0xcc) & 3);
    if (left < 1 + (size_t) width)
        return DS_ERR_MALFORMED;
    uint64_t v = s_be (p + 1, width);
    if (b >= 0xd0) {
        //  sign-extend the width-byte value
        if (width < 8 && (v >> (width * 8 - 1)) & 1)
            v |= ~UINT64_C (0) << (width * 8);
        *is_signed = true;
    }
    else
        *is_signed = false;
    *bits = v;
    self->pos = p + 1 + width;
    return DS_OK;
}

int
ds_mpread_uint (ds_mpread_t *self, uint64_t *value)
{
    ds_mpread_t save = *self;
    uint64_t bits;
    bool is_signed;
    if (s_integer (self, &bits, &is_signed))
        return DS_ERR_MALFORMED;
    if (is_signed && (int64_t) bits < 0) {
        *self = save;
        return DS_ERR_MALFORMED;
    }
    *value = bits;
    return DS_OK;
}

int
ds_mpread_int (ds_mpread_t *self, int64_t *value)
{
    ds_mpread_t save = *self;
    uint64_t bits;
    bool is_signed;
    if (s_integer (self, &bits, &is_signed))
        return DS_ERR_MALFORMED;
    if (!is_signed && bits > (uint64_t) INT64_MAX) {
        *self = save;
        return DS_ERR_MALFORMED;
    }
    *value = (int64_t) bits;
    return DS_OK;
}

//  Reads a str (fixstr a0-bf, d9-db) or bin (c4-c6) header and its body.
static int
s_bytes (ds_mpread_t *self, bool want_str, const uint8_t **body, uint32_t *len)
{
    const uint8_t *p = self->pos;
    size_t left = (size_t) (self->end - p);
    if (left < 1)
        return DS_ERR_MALFORMED;
    uint8_t b = p [0];
    uint64_t n;
    size_t head;
    if (want_str && b >= 0xa0 && b <= 0xbf) {
        n = b - 0xa0;
        head = 1;
    }
    else {
        uint8_t lead = want_str ? 0xd9 : 0xc4;
        if (b < lead || b > lead + 2)
            return DS_ERR_MALFORMED;
        int width = 1 << (b - lead);
        if (left < 1 + (size_t) width)
            return DS_ERR_MALFORMED;
        n = s_be (p + 1, width);
        head = 1 + width;
    }
    if (n > left - head)
        return DS_ERR_MALFORMED;
    *body = p + head;
    *len = (uint32_t) n;
    self->pos = p + head + n;
    return DS_OK;
}

int
ds_mpread_str (ds_mpread_t *self, const char **str, uint32_t *len)
{
    return s_bytes (self, true, (const uint8_t **) str, len);
}

int
ds_mpread_bin (ds_mpread_t *self, const uint8_t **bin, uint32_t *len)
{
    return s_bytes (self, false, bin, len);
}

int
ds_mpread_bool (ds_mpread_t *self, bool *value)
{
    if (self->pos >= self->end || (*self->pos != 0xc2 && *self->pos != 0xc3))
        return DS_ERR_MALFORMED;
    *value = *self->pos++ == 0xc3;
    return DS_OK;
}

int
ds_mpread_nil (ds_mpread_t *self)
{
    if (self->pos >= self->end || *self->pos != 0xc0)
        return DS_ERR_MALFORMED;
    self->pos++;
    return DS_OK;
}

int
ds_mpread_float (ds_mpread_t *self, double *value)
{
    const uint8_t *p = self->pos;
    size_t left = (size_t) (self->end - p);
    if (left >= 5 && p [0] == 0xca) {
        uint32_t bits = (uint32_t) s_be (p + 1, 4);
        float f;
        memcpy (&f, &bits, 4);
        *value = f;
        self->pos = p + 5;
        return DS_OK;
    }
    if (left >= 9 && p [0] == 0xcb) {
        uint64_t bits = s_be (p + 1, 8);
        memcpy (value, &bits, 8);
        self->pos = p + 9;
        return DS_OK;
    }
    return DS_ERR_MALFORMED;
}

//  Size of the fixed part that follows lead bytes c0..df: -1 = handled
//  elsewhere (containers, str/bin/ext with a length), -2 = invalid.
static const int8_t s_fixed_c0 [32] = {
    0, -2, 0, 0,                    //  nil, (unused), false, true
    -1, -1, -1,                     //  bin 8/16/32
    -1, -1, -1,                     //  ext 8/16/32
    4, 8,                           //  float32, float64
    1, 2, 4, 8,                     //  uint 8..64
    1, 2, 4, 8,                     //  int 8..64
    2, 3, 5, 9, 17,                 //  fixext 1..16: type byte + data
    -1, -1, -1,                     //  str 8/16/32
    -1, -1, -1, -1                  //  array 16/32, map 16/32
};

//  Consumes one non-container object; returns DS_OK, or DS_ERR_MALFORMED.
static int
s_skip_scalar (ds_mpread_t *self)
{
    const uint8_t *p = self->pos;
    size_t left = (size_t) (self->end - p);
    if (left < 1)
        return DS_ERR_MALFORMED;
    uint8_t b = p [0];
    size_t need;
    if (b <= 0x7f || b >= 0xe0)
        need = 1;
    else
    if (b >= 0xa0 && b <= 0xbf)
        need = 1 + (size_t) (b - 0xa0);
    else
    if (b >= 0xc0 && b <= 0xdf && s_fixed_c0 [b - 0xc0] >= 0)
        need = 1 + (size_t) s_fixed_c0 [b - 0xc0];
    else
    if ((b >= 0xc4 && b <= 0xc6) || (b >= 0xd9 && b <= 0xdb)) {
        int width = 1 << (b - (b <= 0xc6 ? 0xc4 : 0xd9));
        if (left < 1 + (size_t) width)
            return DS_ERR_MALFORMED;
        need = 1 + (size_t) width + s_be (p + 1, width);
    }
    else
    if (b >= 0xc7 && b <= 0xc9) {
        int width = 1 << (b - 0xc7);
        if (left < 1 + (size_t) width)
            return DS_ERR_MALFORMED;
        need = 1 + (size_t) width + 1 + s_be (p + 1, width);
    }
    else
        return DS_ERR_MALFORMED;    //  0xc1
    if (need > left)
        return DS_ERR_MALFORMED;
    self->pos = p + need;
    return DS_OK;
}

int
ds_mpread_skip (ds_mpread_t *self, int max_depth)
{
    if (max_depth > DS_MPREAD_DEPTH_MAX)
        max_depth = DS_MPREAD_DEPTH_MAX;
    ds_mpread_t save = *self;
    uint64_t pending [DS_MPREAD_DEPTH_MAX + 1];  //  objects still to skip per level
    int depth = 0;
    pending [0] = 1;
    int rc = DS_OK;
    while (depth >= 0) {
        if (pending [depth] == 0) {
            depth--;
            continue;
        }
        pending [depth]--;
        ds_mp_kind_t kind = ds_mpread_peek (self);
        uint32_t count;
        if (kind == DS_MP_ARRAY || kind == DS_MP_MAP) {
            rc = kind == DS_MP_ARRAY ? ds_mpread_array (self, &count)
                                     : ds_mpread_map (self, &count);
            if (rc)
                break;
            if (depth + 1 > max_depth) {
                rc = DS_ERR_TOO_BIG;
                break;
            }
            pending [++depth] = kind == DS_MP_MAP ? 2 * (uint64_t) count : count;
        }
        else
        if ((rc = s_skip_scalar (self)))
            break;
    }
    if (rc)
        *self = save;
    return rc;
}

bool
ds_mpread_truncated (const ds_mpread_t *self)
{
    const uint8_t *p = self->pos;
    size_t left = (size_t) (self->end - p);
    if (left == 0)
        return true;
    uint8_t b = p [0];
    uint64_t need;                  //  bytes the object needs at the least
    if (b <= 0x7f || b >= 0xe0)
        return false;
    if (b <= 0x8f)
        need = 1 + 2 * (uint64_t) (b - 0x80);           //  fixmap
    else
    if (b <= 0x9f)
        need = 1 + (uint64_t) (b - 0x90);               //  fixarray
    else
    if (b <= 0xbf)
        need = 1 + (uint64_t) (b - 0xa0);               //  fixstr
    else
    if (s_fixed_c0 [b - 0xc0] == -2)
        return false;                                   //  0xc1: a wrong byte
    else
    if (s_fixed_c0 [b - 0xc0] >= 0)
        need = 1 + (uint64_t) s_fixed_c0 [b - 0xc0];
    else {
        //  A length or count follows the lead byte.
        int width;
        uint64_t per = 1, extra = 0;
        if (b <= 0xc6)
            width = 1 << (b - 0xc4);                    //  bin 8/16/32
        else
        if (b <= 0xc9) {
            width = 1 << (b - 0xc7);                    //  ext 8/16/32 + type
            extra = 1;
        }
        else
        if (b <= 0xdb)
            width = 1 << (b - 0xd9);                    //  str 8/16/32
        else {
            width = b & 1 ? 4 : 2;                      //  array/map 16/32
            per = b >= 0xde ? 2 : 1;
        }
        if (left < 1 + (size_t) width)
            return true;
        need = 1 + (uint64_t) width + extra + per * s_be (p + 1, width);
    }
    return need > left;
}

bool
ds_mpread_str_eq (const char *str, uint32_t len, const char *text)
{
    size_t n = strlen (text);
    return n == len && memcmp (str, text, n) == 0;
}
