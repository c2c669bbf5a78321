/*  report_data.c - typed reading of query results, one error path; see report_data.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_data.h"
#include "ds_proto.h"
#include "tzday.h"

#define S_SCHEMA        "darkscope.overview/1"

struct _ds_rdata_t {
    char *err;                      //  the caller's buffer, or scratch
    size_t err_size;
    bool failed;                    //  err holds the first failure
    char scratch [8];               //  err when the caller gave none
};

static const msgpack_object s_empty_array = { .type = MSGPACK_OBJECT_ARRAY };
static const msgpack_object s_empty_map = { .type = MSGPACK_OBJECT_MAP };

ds_rdata_t *
ds_rdata_new (char *err, size_t err_size)
{
    ds_rdata_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->err = err ? err : self->scratch;
    self->err_size = err ? err_size : sizeof self->scratch;
    if (self->err_size)
        self->err [0] = 0;
    return self;
}

void
ds_rdata_destroy (ds_rdata_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free (*self_p);
    *self_p = NULL;
}

int
ds_rdata_fail (ds_rdata_t *self, const char *fmt, ...)
{
    if (!self->failed) {
        va_list args;
        va_start (args, fmt);
        vsnprintf (self->err, self->err_size, fmt, args);
        va_end (args);
        self->failed = true;
    }
    return -1;
}

bool
ds_rdata_failed (const ds_rdata_t *self)
{
    return self->failed;
}

//  map[key] if it holds `type` (integers of either sign count as integers,
//  integers as numbers); else records the shape error and returns NULL.
static const msgpack_object *
s_want (ds_rdata_t *self, const msgpack_object *map, const char *key,
        msgpack_object_type type, const char *where)
{
    const msgpack_object *val = ds_mp_get (map, key);
    bool ok = val && (val->type == type
        || (type == MSGPACK_OBJECT_POSITIVE_INTEGER && val->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        || (type == MSGPACK_OBJECT_FLOAT64 && (val->type == MSGPACK_OBJECT_FLOAT32
                                             || val->type == MSGPACK_OBJECT_POSITIVE_INTEGER
                                             || val->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)));
    if (!ok) {
        static const char *names [] = {
            [MSGPACK_OBJECT_POSITIVE_INTEGER] = "an integer", [MSGPACK_OBJECT_FLOAT64] = "a number",
            [MSGPACK_OBJECT_STR] = "a string", [MSGPACK_OBJECT_ARRAY] = "an array",
            [MSGPACK_OBJECT_MAP] = "a map" };
        ds_rdata_fail (self, "unexpected result shape: %s: \"%s\" %s %s", where, key,
                       val ? "is not" : "is missing, want", names [type] ? names [type] : "a value");
        return NULL;
    }
    return val;
}

int64_t
ds_rdata_int (ds_rdata_t *self, const msgpack_object *map, const char *key, const char *where)
{
    const msgpack_object *v = s_want (self, map, key, MSGPACK_OBJECT_POSITIVE_INTEGER, where);
    return v ? ds_rdata_as_int (v) : 0;
}

double
ds_rdata_num (ds_rdata_t *self, const msgpack_object *map, const char *key, const char *where)
{
    const msgpack_object *v = s_want (self, map, key, MSGPACK_OBJECT_FLOAT64, where);
    if (!v)
        return 0;
    if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        return (double) v->via.u64;
    if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        return (double) v->via.i64;
    return v->via.f64;
}

msgpack_object_str
ds_rdata_str (ds_rdata_t *self, const msgpack_object *map, const char *key, const char *where)
{
    const msgpack_object *v = s_want (self, map, key, MSGPACK_OBJECT_STR, where);
    return v ? v->via.str : (msgpack_object_str) { .size = 0, .ptr = "" };
}

const msgpack_object *
ds_rdata_arr (ds_rdata_t *self, const msgpack_object *map, const char *key, const char *where)
{
    const msgpack_object *v = s_want (self, map, key, MSGPACK_OBJECT_ARRAY, where);
    return v ? v : &s_empty_array;
}

const msgpack_object *
ds_rdata_map (ds_rdata_t *self, const msgpack_object *map, const char *key, const char *where)
{
    const msgpack_object *v = s_want (self, map, key, MSGPACK_OBJECT_MAP, where);
    return v ? v : &s_empty_map;
}

int
ds_rdata_window (ds_rdata_t *self, const msgpack_object *overview, ds_rwindow_t *window)
{
    memset (window, 0, sizeof *window);
    msgpack_object_str schema = ds_rdata_str (self, overview, "schema", "overview");
    if (self->failed)
        return -1;
    if (schema.size != strlen (S_SCHEMA) || memcmp (schema.ptr, S_SCHEMA, schema.size) != 0) {
        char got [64];
        ds_rdata_copy (got, sizeof got, schema);
        return ds_rdata_fail (self, "overview: schema \"%s\" is not %s", got, S_SCHEMA);
    }
    const msgpack_object *w = ds_rdata_map (self, overview, "window", "overview");
    ds_rdata_copy (window->first_day, sizeof window->first_day,
                   ds_rdata_str (self, w, "first_day", "overview.window"));
    ds_rdata_copy (window->last_day, sizeof window->last_day,
                   ds_rdata_str (self, w, "last_day", "overview.window"));
    window->days = ds_rdata_int (self, w, "days", "overview.window");
    ds_rdata_copy (window->tz, sizeof window->tz, ds_rdata_str (self, overview, "tz", "overview"));
    window->min_packets = ds_rdata_int (self, overview, "min_packets", "overview");
    if (self->failed)
        return -1;
    if (ds_day_parse (window->first_day, &window->first_dn) != 0
    ||  ds_day_parse (window->last_day, &window->last_dn) != 0
    ||  window->last_dn < window->first_dn)
        return ds_rdata_fail (self, "overview: bad window \"%s\" .. \"%s\"", window->first_day, window->last_day);
    return 0;
}

bool
ds_rdata_is_int (const msgpack_object *obj)
{
    return obj->type == MSGPACK_OBJECT_POSITIVE_INTEGER || obj->type == MSGPACK_OBJECT_NEGATIVE_INTEGER;
}

int64_t
ds_rdata_as_int (const msgpack_object *obj)
{
    if (obj->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        return obj->via.i64;
    return obj->via.u64 > INT64_MAX ? INT64_MAX : (int64_t) obj->via.u64;
}

void
ds_rdata_copy (char *buf, size_t size, msgpack_object_str s)
{
    size_t n = s.size < size - 1 ? s.size : size - 1;
    for (size_t i = 0; i < n; i++)
        buf [i] = s.ptr [i] ? s.ptr [i] : '?';
    buf [n] = 0;
}
