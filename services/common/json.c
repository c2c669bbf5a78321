/*  json.c - msgpack to JSON; see json.h. */
#include "json.h"
#include "mpread.h"
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
//  formatting.  256 KB a piece: stdio writes a piece larger than its own
//  buffer (4 KB) straight through, so a few write calls, not ~350.

#define S_BUF (256 * 1024)

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
    size_t len = (size_t) (buf + sizeof buf - p);
    if (w->used + len > S_BUF)
        s_flush (w);
    for (size_t i = 0; i < len; i++)        //  a few digits: no memcpy call
        w->buf [w->used + i] = p [i];
    w->used += len;
}

//  1 for a byte a JSON string holds as it is: printable ASCII but the
//  quote (0x22) and the backslash (0x5c).
#define S_0x16 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
#define S_1x16 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
static const unsigned char s_plain [256] = {
    S_0x16, S_0x16,                                             //  0x00-0x1f
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,             //  0x20-0x2f
    S_1x16, S_1x16,                                             //  0x30-0x4f
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,             //  0x50-0x5f
    S_1x16, S_1x16,                                             //  0x60-0x7f
    S_0x16, S_0x16, S_0x16, S_0x16, S_0x16, S_0x16, S_0x16, S_0x16  //  0x80-0xff
};

static void
s_string (s_out_t *w, const char *str, size_t size)
{
    const unsigned char *s = (const unsigned char *) str;
    //  The common case (keys, port numbers, names): plain bytes that fit
    //  the buffer, copied as they are checked, quotes around.
    if (size + 2 <= S_BUF - w->used) {
        char *out = w->buf + w->used;
        size_t i = 0;
        while (i < size && s_plain [s [i]]) {
            out [1 + i] = (char) s [i];
            i++;
        }
        if (i == size) {
            out [0] = '"';
            out [size + 1] = '"';
            w->used += size + 2;
            return;
        }
    }
    s_char (w, '"');
    size_t i = 0;
    while (i < size) {
        //  A run of printable ASCII that needs no escape goes out at once.
        size_t run = i;
        while (run < size && s_plain [s [run]])
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
//  Read with proto's bounded cursor (mpread.h: every read checked against
//  the bytes left, a count against them before the walk); nesting capped.

#define S_MP_DEPTH_MAX 64

static int
s_mp_value (s_out_t *w, ds_mpread_t *r, int depth)
{
    char buf [64];
    const char *str;
    uint32_t len, count;
    uint64_t u;
    int64_t i;
    double d;
    bool flag;
    if (depth > S_MP_DEPTH_MAX)
        return -1;
    switch (ds_mpread_peek (r)) {
        case DS_MP_NIL:
            if (ds_mpread_nil (r))
                return -1;
            s_put (w, "null", 4);
            return 0;
        case DS_MP_BOOL:
            if (ds_mpread_bool (r, &flag))
                return -1;
            s_put (w, flag ? "true" : "false", flag ? 4 : 5);
            return 0;
        case DS_MP_UINT:
            if (ds_mpread_uint (r, &u))
                return -1;
            s_uint (w, (unsigned long long) u);
            return 0;
        case DS_MP_INT:
            if (ds_mpread_int (r, &i))
                return -1;
            s_char (w, '-');
            s_uint (w, 0ULL - (unsigned long long) i);
            return 0;
        case DS_MP_FLOAT:
            if (ds_mpread_float (r, &d))
                return -1;
            ds_json_double (buf, sizeof buf, d);
            s_put (w, buf, strlen (buf));
            return 0;
        case DS_MP_STR:
            if (ds_mpread_str (r, &str, &len))
                return -1;
            s_string (w, str, len);
            return 0;
        case DS_MP_ARRAY:
            if (ds_mpread_array (r, &count))
                return -1;
            s_char (w, '[');
            for (uint32_t k = 0; k < count; k++) {
                if (k)
                    s_char (w, ',');
                if (s_mp_value (w, r, depth + 1))
                    return -1;
            }
            s_char (w, ']');
            return 0;
        case DS_MP_MAP:
            if (ds_mpread_map (r, &count))
                return -1;
            s_char (w, '{');
            for (uint32_t k = 0; k < count; k++) {
                if (k)
                    s_char (w, ',');
                if (ds_mpread_str (r, &str, &len))
                    return -1;              //  a key that is not a string
                s_string (w, str, len);
                s_char (w, ':');
                if (s_mp_value (w, r, depth + 1))
                    return -1;
            }
            s_char (w, '}');
            return 0;
        default:
            return -1;                  //  bin, ext (no JSON form), 0xc1, the end
    }
}

//  A writer to out (its buffer on the heap); NULL with errno ENOMEM.
static s_out_t *
s_out_new (FILE *out)
{
    s_out_t *w = malloc (sizeof *w);
    if (!w) {
        errno = ENOMEM;
        return NULL;
    }
    w->out = out;
    w->used = 0;
    return w;
}

//  Writes what is buffered (a partial text too) and frees the writer;
//  returns rc.
static int
s_out_end (s_out_t *w, int rc)
{
    s_flush (w);
    free (w);
    return rc;
}

int
ds_json_write_mp (FILE *out, const void *data, size_t size)
{
    s_out_t *w = s_out_new (out);
    if (!w)
        return -1;
    ds_mpread_t r;
    ds_mpread_init (&r, data, size);
    int rc = s_mp_value (w, &r, 0);
    if (rc == 0 && ds_mpread_left (&r))
        rc = -1;                    //  more than one object
    return s_out_end (w, rc);
}

int
ds_json_write (FILE *out, const msgpack_object *obj)
{
    s_out_t *w = s_out_new (out);
    if (!w)
        return -1;
    return s_out_end (w, s_value (w, obj));
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
