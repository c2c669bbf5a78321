/*  tzday.c - see tzday.h.  Date arithmetic: civil.h. */
#include "tzday.h"
#include "civil.h"
#include <stdio.h>
#include <string.h>

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
