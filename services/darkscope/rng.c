/*  rng.c - see rng.h. */
#include "rng.h"

void
ds_rng_seed (ds_rng_t *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s [i] = ds_splitmix64 (&seed);
}
