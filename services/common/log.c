/*  log.c - see log.h.  A line is built whole in memory and written with one
    fwrite, so threads do not interleave within a line; a line longer than
    S_LINE loses the end of its message or its last fields, never its
    closing (JSON lines always parse). */
#include "log.h"
#include "text.h"
#include <inttypes.h>
#include <pthread.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static const char *s_service = "darkscope";
static bool s_quiet = false;
static ds_log_format_t s_format = DS_LOG_TEXT;
static __thread char s_thread_service [32];
static __thread char s_thread_key [16], s_thread_value [32];

void
ds_log_init (const char *service)
{
    s_service = service;
}

void
ds_log_set_quiet (bool quiet)
{
    s_quiet = quiet;
}

int
ds_log_set_format (const char *name)
{
    if (name && strcmp (name, "text") == 0)
        s_format = DS_LOG_TEXT;
    else
    if (name && strcmp (name, "json") == 0)
        s_format = DS_LOG_JSON;
    else
        return -1;
    return 0;
}

bool
ds_log_json (void)
{
    return s_format == DS_LOG_JSON;
}

void
ds_log_thread (const char *service, const char *key, const char *value)
{
    snprintf (s_thread_service, sizeof s_thread_service, "%s", service ? service : "");
    snprintf (s_thread_key, sizeof s_thread_key, "%s", key && value ? key : "");
    snprintf (s_thread_value, sizeof s_thread_value, "%s", key && value ? value : "");
    //  The thread's name too (top -H, perf --sort comm), at most 15 bytes:
    //  "aggregator-1", "ingest-0", "labeler" (cut to fit).
    char name [16];
    if (key && value)
        snprintf (name, sizeof name, "%s-%s", service ? service : "", value);
    else
        snprintf (name, sizeof name, "%s", service ? service : "");
    if (name [0])
        pthread_setname_np (pthread_self (), name);
}

//  A line being built: bytes used of S_LINE, and whether something did not
//  fit (the rest of a value is then dropped, the line stays whole: every
//  append keeps S_RESERVE bytes for what closes the line).
#define S_LINE      8192
#define S_RESERVE   16

typedef struct {
    char text [S_LINE];
    size_t used;
    size_t limit;                   //  used stays below this (S_LINE - S_RESERVE)
    bool full;
} s_line_t;

static void
s_put (s_line_t *line, const char *text, size_t n)
{
    if (line->full || line->used + n > line->limit) {
        line->full = true;
        return;
    }
    memcpy (line->text + line->used, text, n);
    line->used += n;
}

static void
s_puts (s_line_t *line, const char *text)
{
    s_put (line, text, strlen (text));
}

//  Closing bytes: always fit (the reserve).
static void
s_close (s_line_t *line, const char *text)
{
    size_t n = strlen (text);
    memcpy (line->text + line->used, text, n);
    line->used += n;
}

//  Appends text as the inside of a JSON string: quotes, backslashes and
//  controls escaped, invalid UTF-8 as U+FFFD; escapes never split.
static void
s_json_escape (s_line_t *line, const char *text)
{
    const unsigned char *p = (const unsigned char *) text;
    size_t left = strlen (text);
    char esc [8];
    while (left && !line->full) {
        if (*p == '"' || *p == '\\') {
            esc [0] = '\\';
            esc [1] = (char) *p;
            s_put (line, esc, 2);
            p++, left--;
        }
        else
        if (*p < 0x20 || *p == 0x7f) {
            snprintf (esc, sizeof esc, "\\u%04x", *p);
            s_put (line, esc, 6);
            p++, left--;
        }
        else
        if (*p < 0x80) {
            s_put (line, (const char *) p, 1);
            p++, left--;
        }
        else {
            size_t n = ds_text_utf8_len (p, left);
            if (n == 0) {
                s_put (line, "\\ufffd", 6);
                p++, left--;
            }
            else {
                s_put (line, (const char *) p, n);
                p += n, left -= n;
            }
        }
    }
}

//  Appends a text value: bare if it is a non-empty plain word, else in
//  double quotes with \" \\ \n \t \r and \xHH for other controls.
static void
s_text_value (s_line_t *line, const char *text)
{
    bool plain = *text != 0;
    for (const char *p = text; *p && plain; p++)
        plain = (unsigned char) *p > 0x20 && *p != '"' && *p != '\\' && *p != '=' && *p != 0x7f;
    if (plain) {
        s_puts (line, text);
        return;
    }
    s_put (line, "\"", 1);
    char esc [8];
    for (const unsigned char *p = (const unsigned char *) text; *p && !line->full; p++) {
        if (*p == '"' || *p == '\\')
            snprintf (esc, sizeof esc, "\\%c", *p);
        else
        if (*p == '\n' || *p == '\t' || *p == '\r')
            snprintf (esc, sizeof esc, "\\%c", *p == '\n' ? 'n' : *p == '\t' ? 't' : 'r');
        else
        if (*p < 0x20 || *p == 0x7f)
            snprintf (esc, sizeof esc, "\\x%02x", *p);
        else {
            esc [0] = (char) *p;
            esc [1] = 0;
        }
        s_puts (line, esc);
    }
    if (!line->full)
        s_put (line, "\"", 1);
}

//  Appends the value of one field: JSON (json true) or text.
static void
s_value (s_line_t *line, const ds_kv_t *field, bool json)
{
    char number [40];
    switch (field->type) {
        case DS_KV_STR:
            if (!field->v.s)
                s_puts (line, json ? "null" : "-");
            else
            if (json) {
                s_put (line, "\"", 1);
                s_json_escape (line, field->v.s);
                if (!line->full)
                    s_put (line, "\"", 1);
            }
            else
                s_text_value (line, field->v.s);
            return;
        case DS_KV_INT:
            snprintf (number, sizeof number, "%" PRId64, field->v.i);
            break;
        case DS_KV_UINT:
            snprintf (number, sizeof number, "%" PRIu64, field->v.u);
            break;
        case DS_KV_DOUBLE:
            if (!isfinite (field->v.d))
                snprintf (number, sizeof number, "%s", json ? "null" : "nan");
            else
                snprintf (number, sizeof number, "%.10g", field->v.d);
            break;
        case DS_KV_BOOL:
            snprintf (number, sizeof number, "%s", field->v.b ? "true" : "false");
            break;
    }
    s_puts (line, number);
}

//  Appends the fields: ` key=value` each in text, `"key":value,...` in
//  JSON.  A field that does not fit whole is left out with those after it.
static void
s_fields (s_line_t *line, const ds_kv_t *fields, size_t count, bool json)
{
    for (size_t i = 0; i < count && !line->full; i++) {
        size_t before = line->used;
        if (json) {
            s_puts (line, i ? ",\"" : "\"");
            s_json_escape (line, fields [i].key);
            s_puts (line, "\":");
        }
        else {
            s_puts (line, " ");
            s_puts (line, fields [i].key);
            s_puts (line, "=");
        }
        s_value (line, &fields [i], json);
        if (line->full)
            line->used = before;
    }
}

//  True if text is a decimal number without sign or leading zeros.
static bool
s_is_number (const char *text)
{
    if (!*text || (text [0] == '0' && text [1]) || strlen (text) > 15)
        return false;
    for (; *text; text++)
        if (*text < '0' || *text > '9')
            return false;
    return true;
}

static void
s_log (const char *level, const ds_kv_t *fields, size_t count, const char *fmt, va_list ap)
{
    char text [1024];
    vsnprintf (text, sizeof text, fmt, ap);
    struct timeval tv;
    gettimeofday (&tv, NULL);
    struct tm tm;
    gmtime_r (&tv.tv_sec, &tm);
    char stamp [40];
    strftime (stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    const char *service = s_thread_service [0] ? s_thread_service : s_service;
    s_line_t buffer = { .used = 0, .limit = S_LINE - S_RESERVE, .full = false };
    s_line_t *line = &buffer;
    char head [128];
    if (s_format == DS_LOG_TEXT) {
        snprintf (head, sizeof head, "%sZ ", stamp);
        s_puts (line, head);
        s_puts (line, service);
        s_puts (line, " ");
        s_puts (line, level);
        s_puts (line, ": ");
        s_puts (line, text);
        s_fields (line, fields, count, false);
        s_close (line, "\n");
    }
    else {
        snprintf (head, sizeof head, "{\"time\":\"%s.%03dZ\",\"level\":\"%s\",\"service\":\"", stamp,
                  (int) (tv.tv_usec / 1000), level);
        s_puts (line, head);
        s_json_escape (line, service);
        if (s_thread_key [0]) {
            s_puts (line, "\",\"");
            s_json_escape (line, s_thread_key);
            if (s_is_number (s_thread_value)) {
                s_puts (line, "\":");
                s_puts (line, s_thread_value);
                s_puts (line, ",\"message\":\"");
            }
            else {
                s_puts (line, "\":\"");
                s_json_escape (line, s_thread_value);
                s_puts (line, "\",\"message\":\"");
            }
        }
        else
            s_puts (line, "\",\"message\":\"");
        //  The message is cut, if it must be, before the room the fields'
        //  opening needs.
        line->limit = S_LINE - 64;
        s_json_escape (line, text);
        line->limit = S_LINE - S_RESERVE;
        line->full = false;
        s_puts (line, "\",\"fields\":{");
        s_fields (line, fields, count, true);
        s_close (line, "}}\n");
    }
    //  One write so threads do not interleave within a line.
    fwrite (line->text, 1, line->used, stderr);
}

#define S_LEVEL(name, level, quiet_check) \
void \
ds_log_##name (const char *fmt, ...) \
{ \
    if (quiet_check) \
        return; \
    va_list ap; \
    va_start (ap, fmt); \
    s_log (level, NULL, 0, fmt, ap); \
    va_end (ap); \
} \
void \
ds_log_##name##_kv (const ds_kv_t *fields, size_t count, const char *fmt, ...) \
{ \
    if (quiet_check) \
        return; \
    va_list ap; \
    va_start (ap, fmt); \
    s_log (level, fields, count, fmt, ap); \
    va_end (ap); \
}

S_LEVEL (error, "error", false)
S_LEVEL (warn, "warning", false)
S_LEVEL (info, "info", s_quiet)
