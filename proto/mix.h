/*  mix.h - 64-bit mixers.  The finaliser of MurmurHash3 (fmix64): every
    input bit flips about half of the output bits; hash tables of the
    store, the pattern sampler and the embedding corpus mix their keys with
    it.  And splitmix64, the seeding generator.
*/
#ifndef DS_MIX_H
#define DS_MIX_H

#include <stdint.h>

//  Mixes x into a well-spread 64-bit hash.
static inline uint64_t
ds_mix64 (uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

//  splitmix64: advances *state by the golden gamma and returns its mix.
//  Seeds pseudo-random generators (gen's xoshiro256**, the word2vec
//  vectors); a stream of it is itself a fast generator.
static inline uint64_t
ds_splitmix64 (uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

#endif
