/*  mix.h - the 64-bit finaliser of MurmurHash3 (fmix64): every input bit
    flips about half of the output bits.  Hash tables of the store, the
    pattern sampler and the embedding corpus mix their keys with it.
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

#endif
