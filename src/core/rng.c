/*
 * rng.c - xoshiro256** seeded by splitmix64 (see rng.h).
 *
 * Reference: https://prng.di.unimi.it/xoshiro256starstar.c and
 * https://prng.di.unimi.it/splitmix64.c (both public domain).
 */
#include "mcuopt/rng.h"

#include <math.h>

static uint64_t rotate_left(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* One step of splitmix64: advances *state and returns a mixed value. */
static uint64_t splitmix64_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void mco_rng_seed(mco_rng *rng, uint64_t seed)
{
    uint64_t state = seed;
    for (int i = 0; i < 4; i++)
        rng->s[i] = splitmix64_next(&state);
}

uint64_t mco_rng_next_u64(mco_rng *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = rotate_left(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotate_left(s[3], 45);
    return result;
}

float mco_rng_uniform(mco_rng *rng)
{
    /* The top 24 bits, scaled by 2^-24: exactly representable floats in [0, 1). */
    return (float)(mco_rng_next_u64(rng) >> 40) * (1.0f / 16777216.0f);
}

uint64_t mco_rng_below(mco_rng *rng, uint64_t n)
{
    if (n == 0)
        return 0;
    /* Reject the lowest (2^64 mod n) values so every residue is equally likely. */
    uint64_t threshold = (0 - n) % n;
    for (;;) {
        uint64_t r = mco_rng_next_u64(rng);
        if (r >= threshold)
            return r % n;
    }
}

float mco_rng_normal(mco_rng *rng)
{
    /* Box-Muller with u1 in (0, 1] so log(u1) is finite; the second value of
     * the pair is dropped to keep the state a plain xoshiro state. */
    double u1 = 1.0 - (double)(mco_rng_next_u64(rng) >> 11) * (1.0 / 9007199254740992.0);
    double u2 = (double)(mco_rng_next_u64(rng) >> 11) * (1.0 / 9007199254740992.0);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}
