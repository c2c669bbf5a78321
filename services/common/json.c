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

static void
s_string (FILE *out, const char *str, size_t size)
{
    const unsigned char *s = (const unsigned char *) str;
    fputc ('"', out);
    size_t i = 0;
    while (i < size) {
        unsigned char c = s [i];
        if (c == '"' || c == '\\') {
            fputc ('\\', out);
            fputc (c, out);
            i++;
        }
        else
        if (c < 0x20) {
            fprintf (out, "\\u%04x", c);
            i++;
        }
        else {
            size_t len = ds_text_utf8_len (s + i, size - i);
            if (len == 0) {
                fputs ("\\ufffd", out);
                i++;
            }
            else {
                fwrite (s + i, 1, len, out);
                i += len;
            }
        }
    }
    fputc ('"', out);
}

int
ds_json_write (FILE *out, const msgpack_object *obj)
{
    char buf [64];
    switch (obj->type) {
        case MSGPACK_OBJECT_NIL:
            fputs ("null", out);
            return 0;
        case MSGPACK_OBJECT_BOOLEAN:
            fputs (obj->via.boolean ? "true" : "false", out);
            return 0;
        case MSGPACK_OBJECT_POSITIVE_INTEGER:
            fprintf (out, "%llu", (unsigned long long) obj->via.u64);
            return 0;
        case MSGPACK_OBJECT_NEGATIVE_INTEGER:
            fprintf (out, "%lld", (long long) obj->via.i64);
            return 0;
        case MSGPACK_OBJECT_FLOAT32:
        case MSGPACK_OBJECT_FLOAT64:
            ds_json_double (buf, sizeof buf, obj->via.f64);
            fputs (buf, out);
            return 0;
        case MSGPACK_OBJECT_STR:
            s_string (out, obj->via.str.ptr, obj->via.str.size);
            return 0;
        case MSGPACK_OBJECT_ARRAY:
            fputc ('[', out);
            for (uint32_t i = 0; i < obj->via.array.size; i++) {
                if (i)
                    fputc (',', out);
                if (ds_json_write (out, &obj->via.array.ptr [i]))
                    return -1;
            }
            fputc (']', out);
            return 0;
        case MSGPACK_OBJECT_MAP:
            fputc ('{', out);
            for (uint32_t i = 0; i < obj->via.map.size; i++) {
                const msgpack_object_kv *kv = &obj->via.map.ptr [i];
                if (kv->key.type != MSGPACK_OBJECT_STR)
                    return -1;
                if (i)
                    fputc (',', out);
                s_string (out, kv->key.via.str.ptr, kv->key.via.str.size);
                fputc (':', out);
                if (ds_json_write (out, &kv->val))
                    return -1;
            }
            fputc ('}', out);
            return 0;
        default:
            return -1;              //  bin, ext: no JSON form
    }
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
