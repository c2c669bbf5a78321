/*  tzday.c - see tzday.h.  Date arithmetic: civil.h. */
#include "tzday.h"
#include "civil.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char s_tz_name [128] = "UTC";

int
ds_tz_set (const char *name)
{
    if (!name || !*name || strlen (name) >= sizeof s_tz_name || strstr (name, ".."))
        return -1;
    if (strcmp (name, "UTC") != 0) {
        char path [256];
        snprintf (path, sizeof path, "/usr/share/zoneinfo/%s", name);
        if (access (path, R_OK) != 0)
            return -1;
    }
    snprintf (s_tz_name, sizeof s_tz_name, "%s", name);
    setenv ("TZ", name, 1);
    tzset ();
    return 0;
}

const char *
ds_tz_name (void)
{
    return s_tz_name;
}

void
ds_daycache_init (ds_daycache_t *cache)
{
    cache->lo = 1;
    cache->hi = 0;                  //  empty: lo > hi
    cache->day = 0;
}

int64_t
ds_day_start_us (int32_t day)
{
    int year, month, mday;
    ds_civil_from_days (day, &year, &month, &mday);
    struct tm tm = { .tm_year = year - 1900, .tm_mon = month - 1,
                     .tm_mday = mday, .tm_isdst = -1 };
    time_t t = mktime (&tm);
    return (int64_t) t * 1000000;
}

int32_t
ds_day_of (ds_daycache_t *cache, int64_t ts_us)
{
    if (ts_us >= cache->lo && ts_us < cache->hi)
        return cache->day;
    time_t secs = (time_t) ds_civil_floor_div (ts_us, DS_US_PER_S);
    struct tm tm;
    localtime_r (&secs, &tm);
    int32_t day = (int32_t) ds_civil_to_days (tm.tm_year + 1900,
                                              (unsigned) tm.tm_mon + 1,
                                              (unsigned) tm.tm_mday);
    cache->day = day;
    cache->lo = ds_day_start_us (day);
    cache->hi = ds_day_start_us (day + 1);
    if (!(ts_us >= cache->lo && ts_us < cache->hi)) {
        //  A zone whose midnight does not exist: do not cache.
        cache->lo = 1;
        cache->hi = 0;
    }
    return day;
}

void
ds_day_format (int32_t day, char *buf)
{
    int year, month, mday;
    ds_civil_from_days (day, &year, &month, &mday);
    unsigned y = (unsigned) year % 10000u, m = (unsigned) month % 13u, d = (unsigned) mday % 32u;
    buf [0] = (char) ('0' + y / 1000); buf [1] = (char) ('0' + y / 100 % 10);
    buf [2] = (char) ('0' + y / 10 % 10); buf [3] = (char) ('0' + y % 10);
    buf [4] = '-'; buf [5] = (char) ('0' + m / 10); buf [6] = (char) ('0' + m % 10);
    buf [7] = '-'; buf [8] = (char) ('0' + d / 10); buf [9] = (char) ('0' + d % 10);
    buf [10] = 0;
}

int
ds_day_parse (const char *text, int32_t *day)
{
    int year, month, mday;
    char tail;
    if (sscanf (text, "%4d-%2d-%2d%c", &year, &month, &mday, &tail) != 3
    &&  (strlen (text) != 8 || sscanf (text, "%4d%2d%2d%c", &year, &month, &mday, &tail) != 3))
        return -1;
    if (month < 1 || month > 12 || mday < 1 || mday > 31)
        return -1;
    *day = (int32_t) ds_civil_to_days (year, (unsigned) month, (unsigned) mday);
    int y2, m2, d2;
    ds_civil_from_days (*day, &y2, &m2, &d2);
    return (y2 == year && m2 == month && d2 == mday) ? 0 : -1;
}

void
ds_ts_format (int64_t ts_us, char *buf)
{
    time_t secs = (time_t) ds_civil_floor_div (ts_us, DS_US_PER_S);
    int64_t frac = ts_us - (int64_t) secs * 1000000;
    struct tm tm;
    localtime_r (&secs, &tm);
    size_t n = strftime (buf, 20, "%Y-%m-%d %H:%M:%S", &tm);
    buf [n] = '.';
    for (int i = 6; i >= 1; i--, frac /= 10)
        buf [n + (size_t) i] = (char) ('0' + frac % 10);
    buf [n + 7] = 0;
}
