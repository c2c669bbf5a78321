/*  json.c - msgpack to JSON; see json.h. */
#include "json.h"
#include "text.h"
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void
ds_json_double (char *buf, size_t size, double value)
{
    if (!isfinite (value)) {
        snprintf (buf, size, "null");
        return;
    }
    for (int precision = 15; precision <= 17; precision++) {
        snprintf (buf, size, "%.*g", precision, value);
        if (strtod (buf, NULL) == value)
            break;
    }
    //  keep it a float for readers that distinguish ("1" -> "1.0")
    if (!strpbrk (buf, ".e")) {
        size_t len = strlen (buf);
        if (len + 3 <= size)
            memcpy (buf + len, ".0", 3);
    }
}

//  The writer fills its own buffer and hands it to the stream in large
//  pieces (one locked fwrite each): a month's overview is ~2 MB of small
//  pieces (65 k port rows), and a stdio call per piece cost more than the
//  formatting.

#define S_BUF 16384

typedef struct {
    FILE *out;
    size_t used;
    char buf [S_BUF];
} s_out_t;

static void
s_flush (s_out_t *w)
{
    if (w->used)
        fwrite (w->buf, 1, w->used, w->out);
    w->used = 0;
}

static inline void
s_put (s_out_t *w, const char *text, size_t len)
{
    if (w->used + len > S_BUF) {
        s_flush (w);
        if (len > S_BUF) {
            fwrite (text, 1, len, w->out);
            return;
        }
    }
    memcpy (w->buf + w->used, text, len);
    w->used += len;
}

static inline void
s_char (s_out_t *w, char c)
{
    if (w->used == S_BUF)
        s_flush (w);
    w->buf [w->used++] = c;
}

static void
s_uint (s_out_t *w, unsigned long long value)
{
    char buf [24];
    char *p = buf + sizeof buf;
    do
        *--p = (char) ('0' + value % 10);
    while ((value /= 10) != 0);
    s_put (w, p, (size_t) (buf + sizeof buf - p));
}

static void
s_string (s_out_t *w, const char *str, size_t size)
{
    const unsigned char *s = (const unsigned char *) str;
    s_char (w, '"');
    size_t i = 0;
    while (i < size) {
        //  A run of printable ASCII that needs no escape goes out at once.
        size_t run = i;
        while (run < size && s [run] >= 0x20 && s [run] < 0x80 && s [run] != '"' && s [run] != '\\')
            run++;
        if (run > i) {
            s_put (w, str + i, run - i);
            i = run;
            continue;
        }
        unsigned char c = s [i];
        if (c == '"' || c == '\\') {
            s_char (w, '\\');
            s_char (w, (char) c);
            i++;
        }
        else
        if (c < 0x20) {
            char esc [8];
            snprintf (esc, sizeof esc, "\\u%04x", c);
            s_put (w, esc, 6);
            i++;
        }
        else {
            size_t len = ds_text_utf8_len (s + i, size - i);
            if (len == 0) {
                s_put (w, "\\ufffd", 6);
                i++;
            }
            else {
                s_put (w, str + i, len);
                i += len;
            }
        }
    }
    s_char (w, '"');
}

static int
s_value (s_out_t *w, const msgpack_object *obj)
{
    char buf [64];
    switch (obj->type) {
        case MSGPACK_OBJECT_NIL:
            s_put (w, "null", 4);
            return 0;
        case MSGPACK_OBJECT_BOOLEAN:
            if (obj->via.boolean)
                s_put (w, "true", 4);
            else
                s_put (w, "false", 5);
            return 0;
        case MSGPACK_OBJECT_POSITIVE_INTEGER:
            s_uint (w, (unsigned long long) obj->via.u64);
            return 0;
        case MSGPACK_OBJECT_NEGATIVE_INTEGER:
            if (obj->via.i64 < 0) {
                s_char (w, '-');
                s_uint (w, 0ULL - (unsigned long long) obj->via.i64);
            }
            else
                s_uint (w, (unsigned long long) obj->via.i64);
            return 0;
        case MSGPACK_OBJECT_FLOAT32:
        case MSGPACK_OBJECT_FLOAT64:
            ds_json_double (buf, sizeof buf, obj->via.f64);
            s_put (w, buf, strlen (buf));
            return 0;
        case MSGPACK_OBJECT_STR:
            s_string (w, obj->via.str.ptr, obj->via.str.size);
            return 0;
        case MSGPACK_OBJECT_ARRAY:
            s_char (w, '[');
            for (uint32_t i = 0; i < obj->via.array.size; i++) {
                if (i)
                    s_char (w, ',');
                if (s_value (w, &obj->via.array.ptr [i]))
                    return -1;
            }
            s_char (w, ']');
            return 0;
        case MSGPACK_OBJECT_MAP:
            s_char (w, '{');
            for (uint32_t i = 0; i < obj->via.map.size; i++) {
                const msgpack_object_kv *kv = &obj->via.map.ptr [i];
                if (kv->key.type != MSGPACK_OBJECT_STR)
                    return -1;
                if (i)
                    s_char (w, ',');
                s_string (w, kv->key.via.str.ptr, kv->key.via.str.size);
                s_char (w, ':');
                if (s_value (w, &kv->val))
                    return -1;
            }
            s_char (w, '}');
            return 0;
        default:
            return -1;              //  bin, ext: no JSON form
    }
}

//  ---------------------------------------------------------------------
//  Straight from msgpack bytes: the same text as the object writer gives
//  for the unpacked object (msgpack-c's unpacker: a signed encoding of a
//  non-negative value is a positive integer, float32 widens to double),
//  without the ~8 MB of msgpack objects a 5 M overview unpacks into.
//  Every read is checked against the bytes left; nesting is capped.

#define S_MP_DEPTH_MAX 64

typedef struct {
    const uint8_t *pos, *end;
} s_mp_t;

//  The big-endian unsigned number of width bytes at p.
static inline uint64_t
s_be (const uint8_t *p, int width)
{
    uint64_t v = 0;
    for (int i = 0; i < width; i++)
        v = (v << 8) | p [i];
    return v;
}

//  Takes n bytes (0: not that many left); returns their start.
static inline const uint8_t *
s_take (s_mp_t *r, size_t n)
{
    if ((size_t) (r->end - r->pos) < n)
        return NULL;
    const uint8_t *p = r->pos;
    r->pos += n;
    return p;
}

//  Reads a string (any str encoding) into *str, *len; -1 if the next
//  object is not a whole string.
static int
s_mp_str (s_mp_t *r, const char **str, size_t *len)
{
    const uint8_t *p = s_take (r, 1);
    if (!p)
        return -1;
    size_t n;
    if (*p >= 0xa0 && *p <= 0xbf)
        n = *p - 0xa0;
    else
    if (*p >= 0xd9 && *p <= 0xdb) {
        int width = 1 << (*p - 0xd9);
        const uint8_t *w = s_take (r, (size_t) width);
        if (!w)
            return -1;
        n = s_be (w, width);
    }
    else
        return -1;
    const uint8_t *body = s_take (r, n);
    if (!body)
        return -1;
    *str = (const char *) body;
    *len = n;
    return 0;
}

static int
s_mp_value (s_out_t *w, s_mp_t *r, int depth)
{
    if (r->pos >= r->end || depth > S_MP_DEPTH_MAX)
        return -1;
    uint8_t b = *r->pos;
    if (b <= 0x7f) {
        r->pos++;
        s_uint (w, b);
        return 0;
    }
    if (b >= 0xe0) {
        r->pos++;
        s_char (w, '-');
        s_uint (w, (unsigned long long) (0x100 - b));
        return 0;
    }
    if ((b >= 0xa0 && b <= 0xbf) || (b >= 0xd9 && b <= 0xdb)) {
        const char *str;
        size_t len;
        if (s_mp_str (r, &str, &len))
            return -1;
        s_string (w, str, len);
        return 0;
    }
    uint64_t count;
    bool map;
    if (b <= 0x8f || (b >= 0xde && b <= 0xdf)) {
        map = true;
        count = b <= 0x8f ? (uint64_t) (b - 0x80) : 0;
    }
    else
    if (b <= 0x9f || (b >= 0xdc && b <= 0xdd)) {
        map = false;
        count = b <= 0x9f ? (uint64_t) (b - 0x90) : 0;
    }
    else {
        //  c0..df scalars: nil, booleans, floats, integers
        r->pos++;
        const uint8_t *p;
        char buf [64];
        switch (b) {
            case 0xc0:
                s_put (w, "null", 4);
                return 0;
            case 0xc2:
                s_put (w, "false", 5);
                return 0;
            case 0xc3:
                s_put (w, "true", 4);
                return 0;
            case 0xca: {
                if (!(p = s_take (r, 4)))
                    return -1;
                uint32_t bits = (uint32_t) s_be (p, 4);
                float f;
                memcpy (&f, &bits, sizeof f);
                ds_json_double (buf, sizeof buf, (double) f);
                s_put (w, buf, strlen (buf));
                return 0;
            }
            case 0xcb: {
                if (!(p = s_take (r, 8)))
                    return -1;
                uint64_t bits = s_be (p, 8);
                double d;
                memcpy (&d, &bits, sizeof d);
                ds_json_double (buf, sizeof buf, d);
                s_put (w, buf, strlen (buf));
                return 0;
            }
            case 0xcc: case 0xcd: case 0xce: case 0xcf: {
                int width = 1 << (b - 0xcc);
                if (!(p = s_take (r, (size_t) width)))
                    return -1;
                s_uint (w, (unsigned long long) s_be (p, width));
                return 0;
            }
            case 0xd0: case 0xd1: case 0xd2: case 0xd3: {
                int width = 1 << (b - 0xd0);
                if (!(p = s_take (r, (size_t) width)))
                    return -1;
                uint64_t v = s_be (p, width);
                if (width < 8 && (v >> (width * 8 - 1)) & 1)
                    v |= ~UINT64_C (0) << (width * 8);     //  sign-extend
                if ((int64_t) v < 0) {
                    s_char (w, '-');
                    s_uint (w, 0ULL - (unsigned long long) v);
                }
                else
                    s_uint (w, (unsigned long long) v);
                return 0;
            }
            default:
                return -1;          //  bin, ext (no JSON form), 0xc1
        }
    }
    r->pos++;
    if (count == 0 && b >= 0xdc) {
        int width = (b & 1) ? 4 : 2;                //  dc/de 16-bit, dd/df 32-bit
        const uint8_t *p = s_take (r, (size_t) width);
        if (!p)
            return -1;
        count = s_be (p, width);
    }
    //  Each entry needs a byte at least: a count the bytes cannot hold
    //  is refused before the walk.
    if (count * (map ? 2 : 1) > (uint64_t) (r->end - r->pos))
        return -1;
    s_char (w, map ? '{' : '[');
    for (uint64_t i = 0; i < count; i++) {
        if (i)
            s_char (w, ',');
        if (map) {
            const char *key;
            size_t len;
            if (s_mp_str (r, &key, &len))
                return -1;
            s_string (w, key, len);
            s_char (w, ':');
        }
        if (s_mp_value (w, r, depth + 1))
            return -1;
    }
    s_char (w, map ? '}' : ']');
    return 0;
}

int
ds_json_write_mp (FILE *out, const void *data, size_t size)
{
    s_out_t *w = malloc (sizeof *w);
    if (!w) {
        errno = ENOMEM;
        return -1;
    }
    w->out = out;
    w->used = 0;
    s_mp_t r = { data, (const uint8_t *) data + size };
    int rc = s_mp_value (w, &r, 0);
    if (rc == 0 && r.pos != r.end)
        rc = -1;                    //  more than one object
    s_flush (w);
    free (w);
    return rc;
}

int
ds_json_write (FILE *out, const msgpack_object *obj)
{
    s_out_t *w = malloc (sizeof *w);
    if (!w) {
        errno = ENOMEM;
        return -1;
    }
    w->out = out;
    w->used = 0;
    int rc = s_value (w, obj);
    s_flush (w);                    //  a partial text too, as before
    free (w);
    return rc;
}

char *
ds_json_string (const msgpack_object *obj)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    if (!out)
        return NULL;
    int rc = ds_json_write (out, obj);
    if (fclose (out) != 0)
        rc = -1;
    if (rc) {
        free (text);
        return NULL;
    }
    return text;
}
