/*  rng.h - xoshiro256** pseudo-random numbers, seeded by splitmix64.

    The generator of `darkscope gen`: fast, 256 bits of state, and the same
    stream on every host for a seed, so a month is fixed by (config, seed).
    The draws are inline: gen draws several per packet.
*/
#ifndef DS_RNG_H
#define DS_RNG_H

#include <stdint.h>
#include "mix.h"

typedef struct {
    uint64_t s [4];
} ds_rng_t;

//  A hash of x (splitmix64's output for state x): per-source and
//  per-organisation constants, not draws.
static inline uint64_t
ds_rng_hash (uint64_t x)
{
    return ds_splitmix64 (&x);
}

//  Seeds r: its four words are the first four of splitmix64 (seed).
void ds_rng_seed (ds_rng_t *r, uint64_t seed);

static inline uint64_t
ds_rng_rotl (uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

//  The next 64 random bits.
static inline uint64_t
ds_rng_next (ds_rng_t *r)
{
    uint64_t *s = r->s;
    uint64_t result = ds_rng_rotl (s [1] * 5, 7) * 9;
    uint64_t t = s [1] << 17;
    s [2] ^= s [0];
    s [3] ^= s [1];
    s [1] ^= s [2];
    s [0] ^= s [3];
    s [2] ^= t;
    s [3] = ds_rng_rotl (s [3], 45);
    return result;
}

//  Uniform in [0, n), n > 0 (Lemire's multiply; bias < 2^-32 for gen's n).
static inline uint64_t
ds_rng_below (ds_rng_t *r, uint64_t n)
{
    return (uint64_t) (((unsigned __int128) ds_rng_next (r) * n) >> 64);
}

//  Uniform in (0, 1].
static inline double
ds_rng_unit (ds_rng_t *r)
{
    return ((ds_rng_next (r) >> 11) + 1) * (1.0 / 9007199254740992.0);
}

#endif
