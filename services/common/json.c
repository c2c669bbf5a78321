/*  json.c - msgpack to JSON; see json.h. */
#include "json.h"
#include "text.h"
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

//  The writer takes the stream's lock once (ds_json_write) and then uses
//  the unlocked stdio calls: a month's overview is ~2 MB of small pieces,
//  and a lock per fputc cost more than the formatting.

static void
s_put (FILE *out, const char *text, size_t len)
{
    fwrite_unlocked (text, 1, len, out);
}

static void
s_uint (FILE *out, unsigned long long value)
{
    char buf [24];
    char *p = buf + sizeof buf;
    do
        *--p = (char) ('0' + value % 10);
    while ((value /= 10) != 0);
    s_put (out, p, (size_t) (buf + sizeof buf - p));
}

static void
s_string (FILE *out, const char *str, size_t size)
{
    const unsigned char *s = (const unsigned char *) str;
    putc_unlocked ('"', out);
    size_t i = 0;
    while (i < size) {
        //  A run of printable ASCII that needs no escape goes out at once.
        size_t run = i;
        while (run < size && s [run] >= 0x20 && s [run] < 0x80 && s [run] != '"' && s [run] != '\\')
            run++;
        if (run > i) {
            s_put (out, str + i, run - i);
            i = run;
            continue;
        }
        unsigned char c = s [i];
        if (c == '"' || c == '\\') {
            putc_unlocked ('\\', out);
            putc_unlocked (c, out);
            i++;
        }
        else
        if (c < 0x20) {
            char esc [8];
            snprintf (esc, sizeof esc, "\\u%04x", c);
            s_put (out, esc, 6);
            i++;
        }
        else {
            size_t len = ds_text_utf8_len (s + i, size - i);
            if (len == 0) {
                s_put (out, "\\ufffd", 6);
                i++;
            }
            else {
                s_put (out, str + i, len);
                i += len;
            }
        }
    }
    putc_unlocked ('"', out);
}

static int
s_value (FILE *out, const msgpack_object *obj)
{
    char buf [64];
    switch (obj->type) {
        case MSGPACK_OBJECT_NIL:
            s_put (out, "null", 4);
            return 0;
        case MSGPACK_OBJECT_BOOLEAN:
            if (obj->via.boolean)
                s_put (out, "true", 4);
            else
                s_put (out, "false", 5);
            return 0;
        case MSGPACK_OBJECT_POSITIVE_INTEGER:
            s_uint (out, (unsigned long long) obj->via.u64);
            return 0;
        case MSGPACK_OBJECT_NEGATIVE_INTEGER:
            if (obj->via.i64 < 0) {
                putc_unlocked ('-', out);
                s_uint (out, 0ULL - (unsigned long long) obj->via.i64);
            }
            else
                s_uint (out, (unsigned long long) obj->via.i64);
            return 0;
        case MSGPACK_OBJECT_FLOAT32:
        case MSGPACK_OBJECT_FLOAT64:
            ds_json_double (buf, sizeof buf, obj->via.f64);
            s_put (out, buf, strlen (buf));
            return 0;
        case MSGPACK_OBJECT_STR:
            s_string (out, obj->via.str.ptr, obj->via.str.size);
            return 0;
        case MSGPACK_OBJECT_ARRAY:
            putc_unlocked ('[', out);
            for (uint32_t i = 0; i < obj->via.array.size; i++) {
                if (i)
                    putc_unlocked (',', out);
                if (s_value (out, &obj->via.array.ptr [i]))
                    return -1;
            }
            putc_unlocked (']', out);
            return 0;
        case MSGPACK_OBJECT_MAP:
            putc_unlocked ('{', out);
            for (uint32_t i = 0; i < obj->via.map.size; i++) {
                const msgpack_object_kv *kv = &obj->via.map.ptr [i];
                if (kv->key.type != MSGPACK_OBJECT_STR)
                    return -1;
                if (i)
                    putc_unlocked (',', out);
                s_string (out, kv->key.via.str.ptr, kv->key.via.str.size);
                putc_unlocked (':', out);
                if (s_value (out, &kv->val))
                    return -1;
            }
            putc_unlocked ('}', out);
            return 0;
        default:
            return -1;              //  bin, ext: no JSON form
    }
}

int
ds_json_write (FILE *out, const msgpack_object *obj)
{
    flockfile (out);
    int rc = s_value (out, obj);
    funlockfile (out);
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
