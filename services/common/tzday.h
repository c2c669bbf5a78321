/*  tzday.h - calendar days of timestamps in the configured time zone.

    A day is an int32 count of days since 1970-01-01 of the *local* calendar
    date (DESIGN.md §2).  The zone is process-wide (TZ + tzset), set once by
    ds_tz_set() before threads start.  ds_day_of() keeps the bounds of the
    last day it saw in a caller-owned cache, so a stream of timestamps costs
    two compares per record and one localtime_r per day change.
*/
#ifndef DS_TZDAY_H
#define DS_TZDAY_H

#include <stdint.h>

typedef struct {
    int64_t lo;                     //  first microsecond of the cached day
    int64_t hi;                     //  first microsecond after it
    int32_t day;
} ds_daycache_t;

//  Sets the process time zone to a TZ database name ("UTC", "Europe/Rome").
//  Returns 0, or -1 if the name is unknown.
int ds_tz_set (const char *name);

//  The zone set last ("UTC" by default).
const char *ds_tz_name (void);

//  Initialises an empty cache.
void ds_daycache_init (ds_daycache_t *cache);

//  Local day of ts (microseconds since the epoch).
int32_t ds_day_of (ds_daycache_t *cache, int64_t ts_us);

//  Microsecond of local midnight starting day.
int64_t ds_day_start_us (int32_t day);

//  Writes "YYYY-MM-DD" into buf (>= 11 bytes).
void ds_day_format (int32_t day, char *buf);

//  Parses "YYYY-MM-DD" (also "YYYYMMDD"); returns 0 or -1.
int ds_day_parse (const char *text, int32_t *day);

//  Formats ts as "YYYY-MM-DD HH:MM:SS.ffffff" local time into buf (>= 27).
void ds_ts_format (int64_t ts_us, char *buf);

#endif
