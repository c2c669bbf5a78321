/*  libs: ds_common */
/*  test_civil.c - calendar arithmetic (civil.h) against the C library's
    own UTC calendar (timegm/gmtime_r) and around the epoch. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <time.h>
#include <cmocka.h>
#include "civil.h"

static void
test_known_days (void **state)
{
    (void) state;
    static const struct { int y, m, d; int64_t days; } cases [] = {
        { 1970, 1, 1, 0 }, { 1969, 12, 31, -1 }, { 1970, 3, 1, 59 },
        { 2000, 2, 29, 11016 }, { 2000, 3, 1, 11017 }, { 1900, 3, 1, -25508 },
        { 2021, 3, 2, 18688 }, { 2021, 5, 1, 18748 }, { 1600, 1, 1, -135140 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        assert_int_equal (ds_civil_to_days (cases [i].y, (unsigned) cases [i].m,
                                            (unsigned) cases [i].d), cases [i].days);
        int y, m, d;
        ds_civil_from_days (cases [i].days, &y, &m, &d);
        assert_int_equal (y, cases [i].y);
        assert_int_equal (m, cases [i].m);
        assert_int_equal (d, cases [i].d);
    }
}

//  Every day from 1600 to 2400 against gmtime_r, and back.
static void
test_against_libc (void **state)
{
    (void) state;
    for (int64_t days = -135140; days < 157000; days++) {
        time_t t = (time_t) (days * 86400);
        struct tm tm;
        assert_non_null (gmtime_r (&t, &tm));
        int y, m, d;
        ds_civil_from_days (days, &y, &m, &d);
        assert_int_equal (y, tm.tm_year + 1900);
        assert_int_equal (m, tm.tm_mon + 1);
        assert_int_equal (d, tm.tm_mday);
        assert_int_equal (ds_civil_to_days (y, (unsigned) m, (unsigned) d), days);
    }
}

static void
test_floor_div (void **state)
{
    (void) state;
    static const struct { int64_t a, b, q; } cases [] = {
        { 0, DS_US_PER_S, 0 }, { 1, DS_US_PER_S, 0 }, { 999999, DS_US_PER_S, 0 },
        { 1000000, DS_US_PER_S, 1 }, { -1, DS_US_PER_S, -1 }, { -999999, DS_US_PER_S, -1 },
        { -1000000, DS_US_PER_S, -1 }, { -1000001, DS_US_PER_S, -2 },
        { 1614643200123456LL, DS_US_PER_S, 1614643200 },
        { -86400000000LL, 86400000000LL, -1 }, { -86400000001LL, 86400000000LL, -2 },
        { INT64_MIN, DS_US_PER_S, INT64_MIN / DS_US_PER_S - 1 },
        { INT64_MAX, DS_US_PER_S, INT64_MAX / DS_US_PER_S },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++)
        assert_int_equal (ds_civil_floor_div (cases [i].a, cases [i].b), cases [i].q);
    //  The remainder of a floor division is never negative.
    for (int64_t a = -3000001; a <= 3000001; a += 7777) {
        int64_t q = ds_civil_floor_div (a, DS_US_PER_S);
        assert_true (a - q * DS_US_PER_S >= 0 && a - q * DS_US_PER_S < DS_US_PER_S);
    }
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_known_days),
        cmocka_unit_test (test_against_libc),
        cmocka_unit_test (test_floor_div),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
