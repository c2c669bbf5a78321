/*  zone_fixture.h - what the store tests share about time zones
    (test_store*.c, test_pattern.c): a few zones loaded once, one of them
    current.  fx_zone ("Europe/Rome") makes a zone current (fx_tz), loading
    it the first time; the group setup fx_zones_setup starts in UTC and the
    group teardown fx_zones_free frees them.  Stores are made in fx_tz.

    Include after <cmocka.h>; the functions are static inline.
*/
#ifndef ZONE_FIXTURE_H
#define ZONE_FIXTURE_H

#include <string.h>
#include "tz.h"

#define FX_ZONES 4

static ds_tz_t *fx_zones [FX_ZONES];
static const ds_tz_t *fx_tz;            //  the current zone

static inline void
fx_zone (const char *name)
{
    int i = 0;
    for (; i < FX_ZONES && fx_zones [i]; i++)
        if (strcmp (ds_tz_name (fx_zones [i]), name) == 0)
            break;
    assert_true (i < FX_ZONES);
    if (!fx_zones [i]) {
        char err [256];
        fx_zones [i] = ds_tz_load (name, err, sizeof err);
        if (!fx_zones [i])
            fail_msg ("%s", err);
    }
    fx_tz = fx_zones [i];
}

static inline int
fx_zones_setup (void **state)
{
    (void) state;
    fx_zone ("UTC");
    return 0;
}

static inline int
fx_zones_free (void **state)
{
    (void) state;
    for (int i = 0; i < FX_ZONES; i++)
        ds_tz_destroy (&fx_zones [i]);
    fx_tz = NULL;
    return 0;
}

#endif
