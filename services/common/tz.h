/*  tz.h - a time zone as a value: local days, offsets and local times.

    A ds_tz_t is one zone of the TZ database, read once from its TZif file
    (RFC 8536: version 1 to 4 data, 64-bit transitions, and the POSIX TZ
    rule of the footer for times after the last transition) or the built-in
    "UTC".  It is immutable after ds_tz_load, so any number of threads may
    use one value at once; nothing here reads or sets TZ, calls tzset or
    localtime_r.  Whoever needs days or local times is given the zone in its
    configuration (loaded once by a main, DESIGN.md §2); a day is an int32
    count of days since 1970-01-01 of the local calendar date (tzday.h).

    Local time before the first transition is time type 0; a TZif file with
    no transitions follows its footer rule.  Leap-second ("right/") files are
    refused: their clocks count leap seconds, capture times do not.
*/
#ifndef DS_TZ_H
#define DS_TZ_H

#include <stddef.h>
#include <stdint.h>
#include "tzday.h"

typedef struct _ds_tz_t ds_tz_t;

//  The bounds of the last day ds_tz_day answered (one per caller and zone).
typedef struct {
    int64_t lo;                     //  first microsecond known to be in `day`
    int64_t hi;                     //  first microsecond after them
    int32_t day;
} ds_daycache_t;

//  Longest zone name accepted (bytes, without the terminating zero).
#define DS_TZ_NAME_MAX 127

//  Loads zone `name` ("UTC", or a TZ database name such as "Europe/Rome",
//  read under $TZDIR, default /usr/share/zoneinfo).  Names that are empty,
//  absolute, contain "..", or are longer than DS_TZ_NAME_MAX are refused.
//  Returns the zone (caller destroys), or NULL with the reason in err.
ds_tz_t *ds_tz_load (const char *name, char *err, size_t err_size);

//  Parses a TZif image of size bytes as zone `name`.  Caller destroys;
//  NULL with the reason in err if the image is malformed.
ds_tz_t *ds_tz_parse (const char *name, const uint8_t *data, size_t size,
                      char *err, size_t err_size);

//  Destroys the zone and nulls the pointer; NULL-safe (the built-in UTC
//  is left alone).
void ds_tz_destroy (ds_tz_t **self_p);

//  The built-in UTC zone (what ds_tz_load ("UTC") returns too): for
//  configurations that leave the zone unset.  Lives as long as the process.
const ds_tz_t *ds_tz_utc (void);

//  The name the zone was loaded as ("UTC", "Europe/Rome").
const char *ds_tz_name (const ds_tz_t *self);

//  UTC offset in seconds east of Greenwich at ts (microseconds since the epoch).
int32_t ds_tz_offset (const ds_tz_t *self, int64_t ts_us);

//  UTC offset at ts_us, and the microseconds [*lo_us, *hi_us) around it
//  that share it: a caller's cache for per-record offsets.
int32_t ds_tz_offset_span (const ds_tz_t *self, int64_t ts_us, int64_t *lo_us, int64_t *hi_us);

//  First microsecond after ts_us at which the UTC offset may change;
//  INT64_MAX if it never does.
int64_t ds_tz_next_change (const ds_tz_t *self, int64_t ts_us);

//  Initialises an empty day cache.
void ds_daycache_init (ds_daycache_t *cache);

//  Local day of ts_us.  The cache (ds_daycache_init, one per caller, used
//  with this zone only) keeps the bounds of the last answer, so a stream of
//  timestamps costs two compares per record and a lookup per day change.
int32_t ds_tz_day (const ds_tz_t *self, ds_daycache_t *cache, int64_t ts_us);

//  First microsecond whose local day is at least `day` (local midnight;
//  the end of a transition when midnight is skipped).
int64_t ds_tz_day_start (const ds_tz_t *self, int32_t day);

//  Writes ts_us as local "YYYY-MM-DD HH:MM:SS.ffffff" into buf (>= 27
//  bytes).  Times before year 0 or after 9999 are written as the first or
//  last microsecond of that range.
void ds_tz_format (const ds_tz_t *self, int64_t ts_us, char *buf);

#endif
