/*  civil.h - calendar arithmetic with no time zone in it.

    Day numbers (days since 1970-01-01 of the proleptic Gregorian calendar)
    from dates and back, after H. Hinnant's days_from_civil and
    civil_from_days, and the floor division that turns a microsecond
    timestamp into its second or day even before 1970 (C's `/` truncates
    toward zero).  tz.h adds the zone; gen, ingest's CSV and the report
    use these directly.  One definition each, here.
*/
#ifndef DS_CIVIL_H
#define DS_CIVIL_H

#include <stdint.h>

#define DS_US_PER_S     1000000LL

//  Days since 1970-01-01 of year-month-day (month 1..12, day 1..31).
int64_t ds_civil_to_days (int64_t year, unsigned month, unsigned day);

//  The date of a day number; the inverse of ds_civil_to_days.
void ds_civil_from_days (int64_t days, int *year, int *month, int *day);

//  a / b rounded toward minus infinity (b > 0): the second, or the day,
//  that contains a timestamp, also for timestamps before the epoch.
int64_t ds_civil_floor_div (int64_t a, int64_t b);

#endif
