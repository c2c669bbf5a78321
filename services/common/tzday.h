/*  tzday.h - calendar days as text.

    A day is an int32 count of days since 1970-01-01 of a *local* calendar
    date (DESIGN.md §2): which day a timestamp falls on depends on the zone,
    and is asked of the zone's value (tz.h: ds_tz_day, ds_tz_day_start).
    Here, zone-free, the day's "YYYY-MM-DD" text both ways.
*/
#ifndef DS_TZDAY_H
#define DS_TZDAY_H

#include <stdint.h>

//  Writes "YYYY-MM-DD" into buf (>= 11 bytes).
void ds_day_format (int32_t day, char *buf);

//  Parses "YYYY-MM-DD" (also "YYYYMMDD"); returns 0 or -1.
int ds_day_parse (const char *text, int32_t *day);

#endif
