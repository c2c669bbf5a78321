/*  status_print.c - `darkscope query status` as text; see status_print.h. */
#include "status_print.h"
#include "ds_proto.h"
#include "text.h"
#include <inttypes.h>
#include <string.h>

//  One scalar (or a list of scalars, space-separated) as text: integers
//  grouped, floats with two decimals, booleans yes/no, nil and absent "-";
//  for CSV (csv) at full precision: integers as they are, floats with 17
//  digits, booleans true/false, nil and absent empty.
static const char *
s_format (const msgpack_object *o, char *buf, size_t size, bool csv)
{
    if (!o || o->type == MSGPACK_OBJECT_NIL)
        snprintf (buf, size, "%s", csv ? "" : "-");
    else
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && csv)
        snprintf (buf, size, "%" PRIu64, o->via.u64);
    else
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        ds_text_group (o->via.u64 > INT64_MAX ? INT64_MAX : (int64_t) o->via.u64, buf, size);
    else
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER && csv)
        snprintf (buf, size, "%" PRId64, o->via.i64);
    else
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        ds_text_group (o->via.i64, buf, size);
    else
    if (o->type == MSGPACK_OBJECT_FLOAT32 || o->type == MSGPACK_OBJECT_FLOAT64)
        snprintf (buf, size, csv ? "%.17g" : "%.2f", o->via.f64);
    else
    if (o->type == MSGPACK_OBJECT_BOOLEAN)
        snprintf (buf, size, "%s", o->via.boolean ? (csv ? "true" : "yes") : (csv ? "false" : "no"));
    else
    if (o->type == MSGPACK_OBJECT_STR)
        snprintf (buf, size, "%.*s", (int) o->via.str.size, o->via.str.ptr);
    else
    if (o->type == MSGPACK_OBJECT_ARRAY) {
        size_t n = 0;
        buf [0] = 0;
        char one [256];
        for (uint32_t i = 0; i < o->via.array.size && n < size; i++)
            n += (size_t) snprintf (buf + n, size - n, "%s%s", i ? " " : "",
                                    s_format (&o->via.array.ptr [i], one, sizeof one, csv));
        if (o->via.array.size == 0)
            snprintf (buf, size, "%s", csv ? "" : "-");
    }
    else
        snprintf (buf, size, "...");
    return buf;
}

static const char *
s_value (const msgpack_object *o, char *buf, size_t size)
{
    return s_format (o, buf, size, false);
}

static bool
s_skipped (const msgpack_object *k, const char *const *skip)
{
    for (int s = 0; skip && skip [s]; s++)
        if (k->via.str.size == strlen (skip [s]) && memcmp (k->via.str.ptr, skip [s], k->via.str.size) == 0)
            return true;
    return false;
}

//  Every member of a map as "path: value" (csv: a row "path,value"),
//  nested maps and lists of maps by their path ("store.sensors.0.gaps");
//  at the top level, not the members named in skip (NULL-terminated).
static void
s_flat_skip (FILE *out, const char *prefix, const msgpack_object *o, bool csv, const char *const *skip)
{
    char path [256], buf [1024];
    if (o->type == MSGPACK_OBJECT_MAP)
        for (uint32_t i = 0; i < o->via.map.size; i++) {
            const msgpack_object *k = &o->via.map.ptr [i].key;
            if (k->type != MSGPACK_OBJECT_STR || s_skipped (k, skip))
                continue;
            snprintf (path, sizeof path, "%s%s%.*s", prefix, *prefix ? "." : "", (int) k->via.str.size,
                      k->via.str.ptr);
            s_flat_skip (out, path, &o->via.map.ptr [i].val, csv, NULL);
        }
    else
    if (o->type == MSGPACK_OBJECT_ARRAY && o->via.array.size
    &&  o->via.array.ptr [0].type == MSGPACK_OBJECT_MAP)
        for (uint32_t i = 0; i < o->via.array.size; i++) {
            snprintf (path, sizeof path, "%s.%" PRIu32, prefix, i);
            s_flat_skip (out, path, &o->via.array.ptr [i], csv, NULL);
        }
    else
    if (csv) {
        ds_text_csv (out, prefix, strlen (prefix));
        fputc (',', out);
        s_format (o, buf, sizeof buf, true);
        ds_text_csv (out, buf, strlen (buf));
        fputc ('\n', out);
    }
    else
        fprintf (out, "%s: %s\n", prefix, s_value (o, buf, sizeof buf));
}

static void
s_flat (FILE *out, const char *prefix, const msgpack_object *o, bool csv)
{
    s_flat_skip (out, prefix, o, csv, NULL);
}

//  A member by path "a.b" (NULL if any step is missing).
static const msgpack_object *
s_at (const msgpack_object *o, const char *a, const char *b)
{
    o = o ? ds_mp_get (o, a) : NULL;
    return o && b ? ds_mp_get (o, b) : o;
}

//  The shards: one line each.
static void
s_shards (FILE *out, const msgpack_object *shards)
{
    fprintf (out, "%-5s  %-3s  %11s  %9s  %-10s  %-10s  %10s  %-3s  %9s  %6s  %-24s  %8s  %7s\n",
             "shard", "ok", "records", "sources", "first_day", "last_day", "memory_MB", "eos",
             "ckpt_done", "failed", "last_checkpoint", "rejected", "refused");
    char v [13][256];
    for (uint32_t i = 0; i < shards->via.array.size; i++) {
        const msgpack_object *sh = &shards->via.array.ptr [i];
        const msgpack_object *st = ds_mp_get (sh, "status");
        s_value (ds_mp_get (sh, "shard"), v [0], sizeof v [0]);
        const msgpack_object *ok = ds_mp_get (sh, "ok");
        if (!ok || ok->type != MSGPACK_OBJECT_BOOLEAN || !ok->via.boolean || !st) {
            fprintf (out, "%-5s  %-3s  %s: %s\n", v [0], "no", s_value (ds_mp_get (sh, "endpoint"), v [1], sizeof v [1]),
                     s_value (ds_mp_get (sh, "error"), v [2], sizeof v [2]));
            continue;
        }
        const msgpack_object *mem = s_at (st, "store", "memory_bytes");
        if (mem && mem->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
            snprintf (v [6], sizeof v [6], "%.1f", (double) mem->via.u64 / 1e6);
        else
            snprintf (v [6], sizeof v [6], "-");
        const msgpack_object *ck = ds_mp_get (st, "checkpoints");
        fprintf (out, "%-5s  %-3s  %11s  %9s  %-10s  %-10s  %10s  %-3s  %9s  %6s  %-24s  %8s  %7s\n", v [0], "yes",
                 s_value (s_at (st, "store", "records"), v [2], sizeof v [2]),
                 s_value (s_at (st, "store", "sources"), v [3], sizeof v [3]),
                 s_value (s_at (st, "store", "first_day"), v [4], sizeof v [4]),
                 s_value (s_at (st, "store", "last_day"), v [5], sizeof v [5]), v [6],
                 s_value (s_at (st, "store", "eos_all"), v [7], sizeof v [7]),
                 s_value (ck ? ds_mp_get (ck, "written") : NULL, v [8], sizeof v [8]),
                 s_value (ck ? ds_mp_get (ck, "failed") : NULL, v [9], sizeof v [9]),
                 s_value (ck ? ds_mp_get (ck, "last_ok") : NULL, v [10], sizeof v [10]),
                 s_value (ds_mp_get (st, "rejected"), v [11], sizeof v [11]),
                 s_value (ds_mp_get (st, "refused_connections"), v [12], sizeof v [12]));
        const msgpack_object *error = ck ? ds_mp_get (ck, "last_error") : NULL;
        if (error && error->type == MSGPACK_OBJECT_STR)
            fprintf (out, "       last checkpoint failed: %s\n", s_value (error, v [1], sizeof v [1]));
    }
}

//  A duration in milliseconds in a unit that reads at a glance ("850 ms",
//  "12.5 s", "3.2 min", "5.0 h", "1,742.3 d"); "-" if it is not a number.
static const char *
s_duration (const msgpack_object *o, char *buf, size_t size)
{
    if (!o || (o->type != MSGPACK_OBJECT_FLOAT64 && o->type != MSGPACK_OBJECT_FLOAT32
           &&  o->type != MSGPACK_OBJECT_POSITIVE_INTEGER && o->type != MSGPACK_OBJECT_NEGATIVE_INTEGER))
        return s_value (NULL, buf, size);
    double ms = o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? (double) o->via.u64
              : o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER ? (double) o->via.i64 : o->via.f64;
    //  Each unit from twice its size on (1 s from 1 s): "90.0 s", not "1.5 min".
    static const struct { double ms, from; const char *unit; } units [] = {
        { 86400000, 172800000, "d" }, { 3600000, 7200000, "h" }, { 60000, 120000, "min" }, { 1000, 1000, "s" }
    };
    for (size_t i = 0; i < sizeof units / sizeof *units; i++)
        if (ms >= units [i].from) {
            char number [64];
            ds_text_group ((int64_t) (ms / units [i].ms), number, sizeof number);
            snprintf (buf, size, "%s.%d %s", number, (int) (ms / units [i].ms * 10) % 10, units [i].unit);
            return buf;
        }
    snprintf (buf, size, "%.0f ms", ms);
    return buf;
}

//  The shards' sensor streams: one line per (shard, sensor).
static void
s_sensors (FILE *out, const msgpack_object *shards)
{
    static const char *const keys [] = { "eos", "epoch", "batches", "records", "gaps", "replays",
                                         "packets_read", "non_ip", "malformed", "bad_time", "dropped",
                                         "last_batch", "lag_ms", "data_lag" };
    static const int widths [] = { 3, 5, 9, 11, 6, 7, 12, 8, 9, 8, 7, 24, 8, 16 };
    const size_t n_keys = sizeof keys / sizeof *keys;
    fprintf (out, "%-5s  %6s", "shard", "sensor");
    for (size_t k = 0; k < n_keys; k++)
        fprintf (out, "  %*s", k == 0 || k == 11 ? -widths [k] : widths [k], keys [k]);
    fputc ('\n', out);
    char v [256], shard [32];
    for (uint32_t i = 0; i < shards->via.array.size; i++) {
        const msgpack_object *sh = &shards->via.array.ptr [i];
        const msgpack_object *sensors = s_at (ds_mp_get (sh, "status"), "store", "sensors");
        if (!sensors || sensors->type != MSGPACK_OBJECT_ARRAY)
            continue;
        s_value (ds_mp_get (sh, "shard"), shard, sizeof shard);
        for (uint32_t j = 0; j < sensors->via.array.size; j++) {
            const msgpack_object *s = &sensors->via.array.ptr [j];
            fprintf (out, "%-5s  %6s", shard, s_value (ds_mp_get (s, "sensor"), v, sizeof v));
            for (size_t k = 0; k + 1 < n_keys; k++)
                fprintf (out, "  %*s", k == 0 || k == 11 ? -widths [k] : widths [k],
                         s_value (ds_mp_get (s, keys [k]), v, sizeof v));
            fprintf (out, "  %*s", widths [n_keys - 1], s_duration (ds_mp_get (s, "data_lag_ms"), v, sizeof v));
            fputc ('\n', out);
        }
    }
}

//  The columns of `status --csv`, one row per shard: name, then where its
//  value is in the shard's entry ("status" is its status map) -- the
//  whole path, or the sensors' count and gaps, which are sums.
typedef struct {
    const char *name;
    const char *a, *b, *c;          //  path in the shard's entry
} s_csv_col_t;

static const s_csv_col_t s_csv_cols [] = {
    { "shard", "shard", NULL, NULL },
    { "endpoint", "endpoint", NULL, NULL },
    { "ok", "ok", NULL, NULL },
    { "error", "error", NULL, NULL },
    { "records", "status", "store", "records" },
    { "sources", "status", "store", "sources" },
    { "first_day", "status", "store", "first_day" },
    { "last_day", "status", "store", "last_day" },
    { "memory_bytes", "status", "store", "memory_bytes" },
    { "eos_all", "status", "store", "eos_all" },
    { "sensors", NULL, NULL, NULL },
    { "gaps", NULL, NULL, NULL },
    { "checkpoints_written", "status", "checkpoints", "written" },
    { "checkpoints_failed", "status", "checkpoints", "failed" },
    { "last_checkpoint", "status", "checkpoints", "last_ok" },
    { "checkpoint_error", "status", "checkpoints", "last_error" },
    { "rejected", "status", "rejected", NULL },
    { "refused_connections", "status", "refused_connections", NULL },
};

int
ds_status_print_csv (FILE *out, const msgpack_object *result)
{
    if (!result || result->type != MSGPACK_OBJECT_MAP)
        return -1;
    const msgpack_object *shards = ds_mp_get (result, "shards");
    if (!shards || shards->type != MSGPACK_OBJECT_ARRAY) {
        fprintf (out, "key,value\n");
        s_flat (out, "", result, true);     //  another service's status
        return 0;
    }
    const size_t n_cols = sizeof s_csv_cols / sizeof *s_csv_cols;
    for (size_t c = 0; c < n_cols; c++)
        fprintf (out, "%s%s", c ? "," : "", s_csv_cols [c].name);
    fputc ('\n', out);
    char v [1024];
    for (uint32_t i = 0; i < shards->via.array.size; i++) {
        const msgpack_object *sh = &shards->via.array.ptr [i];
        const msgpack_object *sensors = s_at (ds_mp_get (sh, "status"), "store", "sensors");
        bool have = sensors && sensors->type == MSGPACK_OBJECT_ARRAY;
        uint64_t gaps = 0;
        for (uint32_t j = 0; have && j < sensors->via.array.size; j++) {
            const msgpack_object *g = ds_mp_get (&sensors->via.array.ptr [j], "gaps");
            gaps += g && g->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? g->via.u64 : 0;
        }
        for (size_t c = 0; c < n_cols; c++) {
            const s_csv_col_t *col = &s_csv_cols [c];
            if (c)
                fputc (',', out);
            if (!col->a) {
                if (have)
                    fprintf (out, "%" PRIu64, strcmp (col->name, "gaps") == 0
                                              ? gaps : (uint64_t) sensors->via.array.size);
                continue;
            }
            const msgpack_object *o = ds_mp_get (sh, col->a);
            o = o && col->b ? ds_mp_get (o, col->b) : o;
            o = o && col->c ? ds_mp_get (o, col->c) : o;
            s_format (o, v, sizeof v, true);
            ds_text_csv (out, v, strlen (v));
        }
        fputc ('\n', out);
    }
    return 0;
}

int
ds_status_print (FILE *out, const msgpack_object *result)
{
    if (!result || result->type != MSGPACK_OBJECT_MAP)
        return -1;
    const msgpack_object *shards = ds_mp_get (result, "shards");
    if (!shards || shards->type != MSGPACK_OBJECT_ARRAY) {
        s_flat (out, "", result, false);    //  another service's status
        return 0;
    }
    char v [1024];
    fprintf (out, "state: %s\n", s_value (ds_mp_get (result, "state"), v, sizeof v));
    const msgpack_object *reasons = ds_mp_get (result, "reasons");
    if (reasons && reasons->type == MSGPACK_OBJECT_ARRAY)
        for (uint32_t i = 0; i < reasons->via.array.size; i++)
            fprintf (out, "  - %s\n", s_value (&reasons->via.array.ptr [i], v, sizeof v));
    const msgpack_object *replay = ds_mp_get (result, "replay_sensors");
    if (replay && replay->type == MSGPACK_OBJECT_ARRAY && replay->via.array.size)
        fprintf (out, "replay the input of sensor(s): %s\n", s_value (replay, v, sizeof v));
    const msgpack_object *unknown = ds_mp_get (result, "unknown_sensors");
    if (unknown && unknown->type == MSGPACK_OBJECT_BOOLEAN && unknown->via.boolean)
        fprintf (out, "an expected sensor was heard of by no shard\n");
    //  The rest of the top level (counters), as key: value.
    for (uint32_t i = 0; i < result->via.map.size; i++) {
        const msgpack_object *k = &result->via.map.ptr [i].key;
        static const char *const shown [] = { "shards", "state", "reasons", "replay_sensors",
                                              "unknown_sensors", NULL };
        bool skip = k->type != MSGPACK_OBJECT_STR;
        for (int s = 0; shown [s] && !skip; s++)
            skip = k->via.str.size == strlen (shown [s]) && memcmp (k->via.str.ptr, shown [s], k->via.str.size) == 0;
        if (!skip)
            fprintf (out, "%.*s: %s\n", (int) k->via.str.size, k->via.str.ptr,
                     s_value (&result->via.map.ptr [i].val, v, sizeof v));
    }
    fputc ('\n', out);
    s_shards (out, shards);
    fputc ('\n', out);
    s_sensors (out, shards);
    return 0;
}

int
ds_status_print_members (FILE *out, const msgpack_object *result, bool csv, const char *const *skip)
{
    if (!result || result->type != MSGPACK_OBJECT_MAP)
        return -1;
    if (csv)
        fprintf (out, "key,value\n");
    s_flat_skip (out, "", result, csv, skip);
    return 0;
}
