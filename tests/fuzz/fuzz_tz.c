/*  libs: ds_common */
/*  fuzz_tz.c - libFuzzer target: TZif parsing (ds_tz_parse), then every
    question on what was read, with the invariants that hold in any zone:
    a cached day equals a fresh one, a day starts no later than any of its
    instants, the next change lies ahead, local text is 26 characters. */
#include "tz.h"
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    char err [256];
    ds_tz_t *tz = ds_tz_parse ("fuzz", data, size, err, sizeof err);
    if (!tz)
        return 0;
    ds_daycache_t cache;
    ds_daycache_init (&cache);
    static const int64_t probes [] = { INT64_MIN, -4102444800000000LL, -1, 0, 1,
                                       1617147000000000LL, 4102444800000000LL, INT64_MAX };
    for (size_t i = 0; i < sizeof probes / sizeof *probes; i++) {
        for (int64_t k = -2; k <= 2; k++) {
            int64_t ts = probes [i] + k * 43200000000LL;
            if ((k < 0 && ts > probes [i]) || (k > 0 && ts < probes [i]))
                continue;               //  wrapped around
            ds_daycache_t fresh;
            ds_daycache_init (&fresh);
            int32_t day = ds_tz_day (tz, &fresh, ts);
            if (ds_tz_day (tz, &cache, ts) != day)
                abort ();
            if (day > -100000000 && day < 100000000 && ds_tz_day_start (tz, day) > ts)
                abort ();
            if (ds_tz_next_change (tz, ts) <= ts && ts != INT64_MAX)
                abort ();
            char text [32];
            ds_tz_format (tz, ts, text);
            if (strlen (text) != 26)
                abort ();
            (void) ds_tz_offset (tz, ts);
        }
    }
    ds_tz_destroy (&tz);
    return 0;
}
