/*  log.c - see log.h.  Lines are written with one fprintf so threads do not
    interleave within a line. */
#include "log.h"
#include "text.h"
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
}

//  Appends text to out (size bytes in all) as the inside of a JSON string:
//  quotes, backslashes and controls escaped, invalid UTF-8 as U+FFFD.
static void
s_json_escape (char *out, size_t size, const char *text)
{
    size_t used = strlen (out);
    const unsigned char *p = (const unsigned char *) text;
    size_t left = strlen (text);
    while (left && used + 8 < size) {
        if (*p == '"' || *p == '\\') {
            out [used++] = '\\';
            out [used++] = (char) *p++;
            left--;
        }
        else
        if (*p < 0x20 || *p == 0x7f) {
            used += (size_t) snprintf (out + used, size - used, "\\u%04x", *p++);
            left--;
        }
        else
        if (*p < 0x80) {
            out [used++] = (char) *p++;
            left--;
        }
        else {
            size_t n = ds_text_utf8_len (p, left);
            if (n == 0) {
                used += (size_t) snprintf (out + used, size - used, "\\ufffd");
                p++;
                left--;
            }
            else {
                memcpy (out + used, p, n);
                used += n;
                p += n;
                left -= n;
            }
        }
    }
    out [used] = 0;
}

static void
s_log (const char *level, const char *fmt, va_list ap)
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
    if (s_format == DS_LOG_TEXT) {
        fprintf (stderr, "%sZ %s %s: %s\n", stamp, service, level, text);
        return;
    }
    char line [4096];
    snprintf (line, sizeof line, "{\"time\":\"%s.%03dZ\",\"level\":\"%s\",\"service\":\"", stamp,
              (int) (tv.tv_usec / 1000), level);
    s_json_escape (line, sizeof line, service);
    if (s_thread_key [0]) {
        strncat (line, "\",\"", sizeof line - strlen (line) - 1);
        s_json_escape (line, sizeof line, s_thread_key);
        strncat (line, "\":\"", sizeof line - strlen (line) - 1);
        s_json_escape (line, sizeof line, s_thread_value);
    }
    strncat (line, "\",\"message\":\"", sizeof line - strlen (line) - 1);
    s_json_escape (line, sizeof line, text);
    fprintf (stderr, "%s\"}\n", line);
}

void
ds_log_error (const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    s_log ("error", fmt, ap);
    va_end (ap);
}

void
ds_log_warn (const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    s_log ("warning", fmt, ap);
    va_end (ap);
}

void
ds_log_info (const char *fmt, ...)
{
    if (s_quiet)
        return;
    va_list ap;
    va_start (ap, fmt);
    s_log ("info", fmt, ap);
    va_end (ap);
}
