/*  log.c - see log.h.  Lines are written with one fprintf so threads do not
    interleave within a line. */
#include "log.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *s_service = "darkscope";
static bool s_quiet = false;

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

static void
s_log (const char *level, const char *fmt, va_list ap)
{
    char text [1024];
    vsnprintf (text, sizeof text, fmt, ap);
    char stamp [32];
    time_t now = time (NULL);
    struct tm tm;
    gmtime_r (&now, &tm);
    strftime (stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf (stderr, "%s %s %s: %s\n", stamp, s_service, level, text);
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
