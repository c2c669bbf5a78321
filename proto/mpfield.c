/*  mpfield.c - typed fields and row tables over the bounded cursor; see
    mpfield.h. */
#include "mpfield.h"
#include <endian.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t s_col_width [] = { 4, 8, 4, 1, 1, 8 };

static size_t
s_row_width (const ds_mpf_table_t *t)
{
    size_t width = 0;
    for (uint8_t c = 0; c < t->n_cols; c++)
        width += s_col_width [t->cols [c].kind];
    return width;
}

static uint64_t
s_get_be (const uint8_t *p, int width)
{
    uint64_t v = 0;
    for (int i = 0; i < width; i++)
        v = (v << 8) | p [i];
    return v;
}

//  ---------------------------------------------------------------------
//  Encoding

void
ds_mpf_out_begin (ds_mpf_out_t *o, msgpack_sbuffer *out, size_t reserve, uint32_t fields, int type)
{
    ds_msg_packer_init (&o->pk, &o->writer, out, reserve);
    o->rc = DS_OK;
    ds_msg_pack_header (&o->pk, fields, type);
}

int
ds_mpf_out_end (ds_mpf_out_t *o)
{
    if (o->rc)
        return o->rc;
    return o->writer.failed ? DS_ERR_NOMEM : DS_OK;
}

void
ds_mpf_out_refuse (ds_mpf_out_t *o, int rc)
{
    if (o->rc == DS_OK)
        o->rc = rc;
}

//  Packs text as a str (nil_if_empty: "" as nil); refuses text of size
//  bytes or more, and "" unless may_be_empty or nil_if_empty.
void
ds_mpf_pack_text (ds_mpf_out_t *o, const char *text, size_t size, bool may_be_empty, bool nil_if_empty)
{
    size_t n = strnlen (text, size);
    if (n == size || (n == 0 && !may_be_empty && !nil_if_empty))
        ds_mpf_out_refuse (o, DS_ERR_MALFORMED);
    if (n == 0 && nil_if_empty)
        msgpack_pack_nil (&o->pk);
    else {
        msgpack_pack_str (&o->pk, n);
        msgpack_pack_str_body (&o->pk, text, n);
    }
}

//  Writes column c of rows [0..n) (structs of size bytes) into out, rows
//  of width bytes starting at the column's byte; false if a value is out
//  of range.  Column by column, so the kind is decided once per column.
static bool
s_col_encode (const ds_mpf_col_t *c, const char *rows, size_t size, uint32_t n, uint8_t *out, size_t width)
{
    const char *field = rows + c->offset;
    bool ok = true;
    switch (c->kind) {
        case DS_MPF_U32:
            for (uint32_t i = 0; i < n; i++, field += size, out += width) {
                uint32_t x;
                memcpy (&x, field, 4);
                x = htole32 (x);
                memcpy (out, &x, 4);
            }
            break;
        case DS_MPF_U64:
        case DS_MPF_I64:                //  two's complement
            for (uint32_t i = 0; i < n; i++, field += size, out += width) {
                uint64_t x;
                memcpy (&x, field, 8);
                x = htole64 (x);
                memcpy (out, &x, 8);
            }
            break;
        case DS_MPF_PORT:
            for (uint32_t i = 0; i < n; i++, field += size, out += width) {
                int32_t x;
                memcpy (&x, field, 4);
                ok &= x >= DS_PORT_NONE && x <= 65535;
                uint32_t u = htole32 ((uint32_t) x);
                memcpy (out, &u, 4);
            }
            break;
        case DS_MPF_PROTO:
            for (uint32_t i = 0; i < n; i++, field += size, out += width) {
                uint8_t x = (uint8_t) *field;
                ok &= x < DS_PROTO_COUNT;
                *out = x;
            }
            break;
        default:
            for (uint32_t i = 0; i < n; i++, field += size, out += width) {
                bool x;
                memcpy (&x, field, sizeof x);
                *out = x ? 1 : 0;
            }
            break;
    }
    return ok;
}

//  Packs n rows of table t from rows (an array of t's struct), a chunk of
//  rows at a time.
void
ds_mpf_pack_table (ds_mpf_out_t *o, const ds_mpf_table_t *t, const void *rows, uint32_t n)
{
    if (n > t->max) {
        ds_mpf_out_refuse (o, DS_ERR_TOO_BIG);
        n = 0;
    }
    size_t width = s_row_width (t);
    msgpack_pack_bin (&o->pk, (size_t) n * width);
    uint8_t chunk [16384];
    uint32_t per_chunk = (uint32_t) (sizeof chunk / width);
    for (uint32_t first = 0; first < n; first += per_chunk) {
        uint32_t count = n - first < per_chunk ? n - first : per_chunk;
        const char *from = (const char *) rows + (size_t) first * t->size;
        size_t at = 0;
        for (uint8_t c = 0; c < t->n_cols; c++) {
            if (!s_col_encode (&t->cols [c], from, t->size, count, chunk + at, width))
                ds_mpf_out_refuse (o, DS_ERR_MALFORMED);
            at += s_col_width [t->cols [c].kind];
        }
        msgpack_pack_bin_body (&o->pk, chunk, (size_t) count * width);
    }
}

void
ds_mpf_pack_bool (ds_mpf_out_t *o, bool value)
{
    if (value)
        msgpack_pack_true (&o->pk);
    else
        msgpack_pack_false (&o->pk);
}

//  ---------------------------------------------------------------------
//  Decoding: a cursor that keeps its first failure

void
ds_mpf_in_init (ds_mpf_in_t *in, const uint8_t *data, size_t size, char *err, size_t err_size)
{
    ds_mpread_init (&in->r, data, size);
    in->rc = DS_OK;
    in->err = err;
    in->err_size = err_size;
    if (err && err_size)
        err [0] = 0;
}

bool
ds_mpf_fail (ds_mpf_in_t *in, int rc, const char *fmt, ...)
{
    if (in->rc == DS_OK) {
        in->rc = rc;
        if (in->err && in->err_size) {
            va_list args;
            va_start (args, fmt);
            vsnprintf (in->err, in->err_size, fmt, args);
            va_end (args);
        }
    }
    return false;
}

//  A read of field failed at the cursor: truncated if the bytes end inside
//  the object there, else malformed (it is not what the field wants).
static bool
s_bad (ds_mpf_in_t *in, const char *field, const char *want)
{
    if (ds_mpread_truncated (&in->r))
        return ds_mpf_fail (in, DS_ERR_TRUNCATED, "%s: the bytes end inside it", field);
    return ds_mpf_fail (in, DS_ERR_MALFORMED, "%s: not %s", field, want);
}

//  Checks [magic, version, type] and the field count.
bool
ds_mpf_header (ds_mpf_in_t *in, int want_type, uint32_t want_fields, const char *what)
{
    uint32_t fields;
    int type;
    int rc = ds_msg_header (&in->r, &fields, &type);
    if (rc == DS_ERR_MALFORMED && ds_mpread_truncated (&in->r))
        rc = DS_ERR_TRUNCATED;
    if (rc)
        return ds_mpf_fail (in, rc, "%s: %s", what, ds_result_str (rc));
    if (type != want_type)
        return ds_mpf_fail (in, DS_ERR_TYPE, "%s expected, message type %d received", what, type);
    if (fields != want_fields)
        return ds_mpf_fail (in, DS_ERR_MALFORMED, "%s: %u fields (want %u)", what, fields, want_fields);
    return true;
}

//  Nothing may follow the message.
bool
ds_mpf_in_end (ds_mpf_in_t *in, const char *what)
{
    if (in->rc == DS_OK && ds_mpread_left (&in->r) != 0)
        return ds_mpf_fail (in, DS_ERR_MALFORMED, "%s: %zu bytes after it", what, ds_mpread_left (&in->r));
    return in->rc == DS_OK;
}

bool
ds_mpf_uint (ds_mpf_in_t *in, const char *field, uint64_t max, uint64_t *value)
{
    if (in->rc)
        return false;
    if (ds_mpread_uint (&in->r, value))
        return s_bad (in, field, "an unsigned integer");
    if (*value > max)
        return ds_mpf_fail (in, DS_ERR_MALFORMED, "%s: %llu is above %llu", field,
                       (unsigned long long) *value, (unsigned long long) max);
    return true;
}

bool
ds_mpf_u32 (ds_mpf_in_t *in, const char *field, uint32_t *value)
{
    uint64_t v = 0;
    bool ok = ds_mpf_uint (in, field, UINT32_MAX, &v);
    *value = (uint32_t) v;
    return ok;
}

bool
ds_mpf_int32 (ds_mpf_in_t *in, const char *field, int32_t *value)
{
    int64_t v = 0;
    if (in->rc)
        return false;
    if (ds_mpread_int (&in->r, &v))
        return s_bad (in, field, "an integer");
    if (v < INT32_MIN || v > INT32_MAX)
        return ds_mpf_fail (in, DS_ERR_MALFORMED, "%s: %lld is not an int32", field, (long long) v);
    *value = (int32_t) v;
    return true;
}

bool
ds_mpf_int64 (ds_mpf_in_t *in, const char *field, int64_t *value)
{
    if (in->rc)
        return false;
    if (ds_mpread_int (&in->r, value))
        return s_bad (in, field, "an integer");
    return true;
}


bool
ds_mpf_bool (ds_mpf_in_t *in, const char *field, bool *value)
{
    if (in->rc)
        return false;
    if (ds_mpread_bool (&in->r, value))
        return s_bad (in, field, "a boolean");
    return true;
}

//  Reads a str into buf (size bytes incl. NUL): shorter than size, no NUL
//  byte; "" only if may_be_empty; nil (as "") only if nil_ok.
bool
ds_mpf_text (ds_mpf_in_t *in, const char *field, char *buf, size_t size, bool may_be_empty, bool nil_ok)
{
    if (in->rc)
        return false;
    if (nil_ok && ds_mpread_nil (&in->r) == DS_OK) {
        buf [0] = 0;
        return true;
    }
    const char *str;
    uint32_t len;
    if (ds_mpread_str (&in->r, &str, &len))
        return s_bad (in, field, nil_ok ? "a string or nil" : "a string");
    if (len >= size)
        return ds_mpf_fail (in, DS_ERR_MALFORMED, "%s: %u bytes (at most %zu)", field, len, size - 1);
    if (memchr (str, 0, len))
        return ds_mpf_fail (in, DS_ERR_MALFORMED, "%s: holds a NUL byte", field);
    if (len == 0 && !may_be_empty)
        return ds_mpf_fail (in, DS_ERR_MALFORMED, "%s: empty", field);
    memcpy (buf, str, len);
    buf [len] = 0;
    return true;
}

//  The count or length that the array or bin header at the cursor declares
//  (0 if there is none, or it is cut): a read that failed may still show
//  a count above a ceiling, which is "too big" whatever bytes follow.
static uint64_t
s_declared (const ds_mpread_t *r)
{
    const uint8_t *p = r->pos;
    size_t left = ds_mpread_left (r);
    if (left == 0)
        return 0;
    int width = p [0] == 0xdc || p [0] == 0xc5 ? 2 : p [0] == 0xdd || p [0] == 0xc6 ? 4
              : p [0] == 0xc4 ? 1 : 0;
    if (width == 0 || left < 1 + (size_t) width)
        return 0;
    return s_get_be (p + 1, width);
}

//  Reads an array header of at most max entries that each take at least
//  min_bytes: a count the remaining bytes cannot hold is a truncation.
bool
ds_mpf_array (ds_mpf_in_t *in, const char *field, uint32_t max, size_t min_bytes, uint32_t *n)
{
    if (in->rc)
        return false;
    if (ds_mpread_array (&in->r, n)) {
        uint64_t declared = s_declared (&in->r);
        if (declared > max)
            return ds_mpf_fail (in, DS_ERR_TOO_BIG, "%s: %llu entries (at most %u)", field,
                           (unsigned long long) declared, max);
        return s_bad (in, field, "an array");
    }
    if (*n > max)
        return ds_mpf_fail (in, DS_ERR_TOO_BIG, "%s: %u entries (at most %u)", field, *n, max);
    if ((uint64_t) *n * min_bytes > ds_mpread_left (&in->r))
        return ds_mpf_fail (in, DS_ERR_TRUNCATED, "%s: %u entries declared, the bytes end first", field, *n);
    return true;
}

//  Allocates n entries of size (at least one); NULL (and the failure kept)
//  if memory ran out.
void *
ds_mpf_alloc (ds_mpf_in_t *in, size_t n, size_t size)
{
    if (in->rc)
        return NULL;
    void *p = calloc (n ? n : 1, size);
    if (!p)
        ds_mpf_fail (in, DS_ERR_NOMEM, "out of memory");
    return p;
}

//  Reads column c of n wire rows (width bytes each, from the column's
//  byte) into rows (structs of size bytes); returns the first row whose
//  value is out of range, or n.
static uint32_t
s_col_decode (const ds_mpf_col_t *c, const uint8_t *bin, size_t width, uint32_t n, char *rows, size_t size)
{
    char *field = rows + c->offset;
    switch (c->kind) {
        case DS_MPF_U32:
            for (uint32_t i = 0; i < n; i++, bin += width, field += size) {
                uint32_t x;
                memcpy (&x, bin, 4);
                x = le32toh (x);
                memcpy (field, &x, 4);
            }
            return n;
        case DS_MPF_U64:
        case DS_MPF_I64:
            for (uint32_t i = 0; i < n; i++, bin += width, field += size) {
                uint64_t x;
                memcpy (&x, bin, 8);
                x = le64toh (x);
                memcpy (field, &x, 8);
            }
            return n;
        case DS_MPF_PORT:
            for (uint32_t i = 0; i < n; i++, bin += width, field += size) {
                uint32_t u;
                memcpy (&u, bin, 4);
                int32_t x = (int32_t) le32toh (u);
                if (x < DS_PORT_NONE || x > 65535)
                    return i;
                memcpy (field, &x, 4);
            }
            return n;
        case DS_MPF_PROTO:
            for (uint32_t i = 0; i < n; i++, bin += width, field += size) {
                if (*bin >= DS_PROTO_COUNT)
                    return i;
                *field = (char) *bin;
            }
            return n;
        default:
            for (uint32_t i = 0; i < n; i++, bin += width, field += size) {
                if (*bin > 1)
                    return i;
                bool x = *bin != 0;
                memcpy (field, &x, sizeof x);
            }
            return n;
    }
}

//  Reads table t into rows: into fixed (room for t->max rows) if given,
//  else into a new array at *rows.  Rows are counted from the bin's size,
//  which the cursor has checked against the bytes present.
bool
ds_mpf_table (ds_mpf_in_t *in, const ds_mpf_table_t *t, void *fixed, void **rows, uint32_t *n)
{
    if (in->rc)
        return false;
    const uint8_t *bin;
    uint32_t len;
    size_t width = s_row_width (t);
    if (ds_mpread_bin (&in->r, &bin, &len)) {
        uint64_t declared = s_declared (&in->r);
        if (declared / width > t->max)
            return ds_mpf_fail (in, DS_ERR_TOO_BIG, "%s: %llu bytes declared (at most %u rows)", t->name,
                           (unsigned long long) declared, t->max);
        return s_bad (in, t->name, "a bin");
    }
    if (len % width)
        return ds_mpf_fail (in, DS_ERR_MALFORMED, "%s: %u bytes are not whole %zu-byte rows",
                       t->name, len, width);
    if (len / width > t->max)
        return ds_mpf_fail (in, DS_ERR_TOO_BIG, "%s: %zu rows (at most %u)", t->name, len / width, t->max);
    *n = (uint32_t) (len / width);
    char *out = fixed ? fixed : ds_mpf_alloc (in, *n, t->size);
    if (!out)
        return false;
    if (!fixed)
        *rows = out;
    memset (out, 0, (size_t) *n * t->size);
    size_t at = 0;
    for (uint8_t c = 0; c < t->n_cols; c++) {
        uint32_t bad = s_col_decode (&t->cols [c], bin + at, width, *n, out, t->size);
        if (bad < *n)
            return ds_mpf_fail (in, DS_ERR_MALFORMED, "%s: row %u: column %u out of range",
                           t->name, bad, (unsigned) c);
        at += s_col_width [t->cols [c].kind];
    }
    return true;
}
