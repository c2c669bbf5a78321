/*  log.h - one line per event on stderr.

    Text (the default): "TIME SERVICE LEVEL: message key=value ...".  JSON
    (--log-format json, for log collectors): one object per line,
    {"time":"2026-01-02T03:04:05.123Z","level":"info","service":"aggregator",
     "shard":0,"message":"...","fields":{"records":123,"path":"/x"}},
    the context member (shard or sensor, a number when it is one) only where
    the logging thread set it; "fields" on every line ({} when the event has
    none).  Errors about the system append strerror(errno) themselves.

    Fields are an event's values for machines: ds_log_info_kv (DS_FIELDS (
    DS_KV ("records", n), DS_KV ("path", path)), "checkpoint written");
    DS_KV picks the value's type (string, signed or unsigned integer,
    floating point, bool: a bool value, the constant `true` is an int in C)
    from the C type.  In text a value is written bare
    when it is a plain word, else quoted with backslash escapes (logfmt).
*/
#ifndef DS_LOG_H
#define DS_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    DS_LOG_TEXT = 0,
    DS_LOG_JSON = 1
} ds_log_format_t;

typedef enum {
    DS_KV_STR, DS_KV_INT, DS_KV_UINT, DS_KV_DOUBLE, DS_KV_BOOL
} ds_kv_type_t;

//  One field of a log line: a key (letters, digits, '_') and a typed value.
typedef struct {
    const char *key;
    ds_kv_type_t type;
    union {
        const char *s;                  //  NULL is written as null / "-"
        int64_t i;
        uint64_t u;
        double d;                       //  not finite: null in JSON
        bool b;
    } v;
} ds_kv_t;

static inline ds_kv_t ds_kv_str (const char *k, const char *v) { ds_kv_t f = { k, DS_KV_STR, { .s = v } }; return f; }
static inline ds_kv_t ds_kv_int (const char *k, int64_t v) { ds_kv_t f = { k, DS_KV_INT, { .i = v } }; return f; }
static inline ds_kv_t ds_kv_uint (const char *k, uint64_t v) { ds_kv_t f = { k, DS_KV_UINT, { .u = v } }; return f; }
static inline ds_kv_t ds_kv_double (const char *k, double v) { ds_kv_t f = { k, DS_KV_DOUBLE, { .d = v } }; return f; }
static inline ds_kv_t ds_kv_bool (const char *k, bool v) { ds_kv_t f = { k, DS_KV_BOOL, { .b = v } }; return f; }

//  A field with the type of its C value.
#define DS_KV(k, v) _Generic ((v), \
    char *: ds_kv_str, const char *: ds_kv_str, bool: ds_kv_bool, \
    float: ds_kv_double, double: ds_kv_double, \
    unsigned char: ds_kv_uint, unsigned short: ds_kv_uint, unsigned int: ds_kv_uint, \
    unsigned long: ds_kv_uint, unsigned long long: ds_kv_uint, \
    default: ds_kv_int) (k, v)

//  The fields of one line: an array and its count, for ds_log_*_kv.
#define DS_FIELDS(...) (const ds_kv_t []) { __VA_ARGS__ }, \
    sizeof ((const ds_kv_t []) { __VA_ARGS__ }) / sizeof (ds_kv_t)

//  Sets the service name printed on each line ("ingest", "labeler", ...).
void ds_log_init (const char *service);

//  Enables or disables info lines (errors and warnings always print).
void ds_log_set_quiet (bool quiet);

//  Sets the line format from its name ("text" or "json").  Returns 0, or
//  -1 for another name (the format is left as it was).
int ds_log_set_format (const char *name);

//  True if lines are JSON (a summary printed as plain text must then go
//  through the log too).
bool ds_log_json (void);

//  Names the service and one context field (e.g. "shard", "3"; key may be
//  NULL) of the lines the calling thread logs from now on: the services
//  of `darkscope run` share a process, each on its own thread.  Names the
//  thread too ("aggregator-3", "ingest-0", "labeler": what top -H and perf show).
void ds_log_thread (const char *service, const char *key, const char *value);

void ds_log_error (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
void ds_log_warn  (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
void ds_log_info  (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

//  The same with fields (count of them, from DS_FIELDS) after the message.
void ds_log_error_kv (const ds_kv_t *fields, size_t count, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
void ds_log_warn_kv  (const ds_kv_t *fields, size_t count, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
void ds_log_info_kv  (const ds_kv_t *fields, size_t count, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

#endif
