/*  libs: ds_darkscope ds_common */
/*  test_rng.c - the generator of `darkscope gen` (services/darkscope/rng.h):
    splitmix64 and xoshiro256** give the reference algorithms' numbers (a
    month is fixed by its seed on every host), and the derived draws stay
    in their ranges.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "rng.h"

//  splitmix64's published test vector (seed 1234567), and xoshiro256**
//  seeded from splitmix64 (42), computed by an independent Python version.
static void
test_reference (void **state)
{
    (void) state;
    uint64_t x = 1234567;
    assert_true (ds_splitmix64 (&x) == 6457827717110365317ULL);
    assert_true (ds_splitmix64 (&x) == 3203168211198807973ULL);
    assert_true (ds_splitmix64 (&x) == 9817491932198370423ULL);
    x = 1234567;
    assert_true (ds_rng_hash (1234567) == ds_splitmix64 (&x));
    ds_rng_t r;
    ds_rng_seed (&r, 42);
    assert_true (ds_rng_next (&r) == 1546998764402558742ULL);
    assert_true (ds_rng_next (&r) == 6990951692964543102ULL);
    assert_true (ds_rng_next (&r) == 12544586762248559009ULL);
}

static void
test_ranges (void **state)
{
    (void) state;
    ds_rng_t r;
    ds_rng_seed (&r, 7);
    const uint64_t ns [] = { 1, 2, 3, 10, 1000, 65535, 1ULL << 40 };
    uint64_t hits [10] = { 0 };
    for (size_t k = 0; k < sizeof ns / sizeof *ns; k++)
        for (int i = 0; i < 20000; i++) {
            uint64_t v = ds_rng_below (&r, ns [k]);
            assert_true (v < ns [k]);
            if (ns [k] == 10)
                hits [v]++;
        }
    for (int v = 0; v < 10; v++)            //  2000 expected each
        assert_true (hits [v] > 1700 && hits [v] < 2300);
    for (int i = 0; i < 100000; i++) {
        double u = ds_rng_unit (&r);
        assert_true (u > 0 && u <= 1);
    }
    //  Same seed, same stream; another seed, another.
    ds_rng_t a, b, c;
    ds_rng_seed (&a, 1);
    ds_rng_seed (&b, 1);
    ds_rng_seed (&c, 2);
    for (int i = 0; i < 100; i++) {
        uint64_t va = ds_rng_next (&a);
        assert_true (va == ds_rng_next (&b));
        assert_true (va != ds_rng_next (&c));
    }
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_reference),
        cmocka_unit_test (test_ranges),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
