/*
 * rng.h - the library's small deterministic random number generator
 * (src/core/rng.c: data splits, training shuffles, weight initialisation).
 *
 * xoshiro256** (Blackman and Vigna, 2018) seeded through splitmix64, so
 * any 64-bit seed, including 0, gives a well-mixed state. The same seed gives
 * the same sequence on every platform: only integer arithmetic is used,
 * except in mco_rng_normal, which uses the C library's log/sqrt/cos.
 *
 * What it leaves out: it is not cryptographic, and it is not thread-safe;
 * give each thread its own mco_rng.
 */
#ifndef MCO_CORE_RNG_H
#define MCO_CORE_RNG_H

#include <stdint.h>

typedef struct {
    uint64_t s[4];
} mco_rng;

/* Fills the state from `seed` with splitmix64. */
void mco_rng_seed(mco_rng *rng, uint64_t seed);

/* The next 64 uniformly random bits. */
uint64_t mco_rng_next_u64(mco_rng *rng);

/* A float uniform in [0, 1), with 24 random bits (all floats k / 2^24). */
float mco_rng_uniform(mco_rng *rng);

/* An integer uniform in [0, n), without modulo bias; 0 when n == 0. */
uint64_t mco_rng_below(mco_rng *rng, uint64_t n);

/* A standard normal sample (mean 0, standard deviation 1), by Box-Muller. */
float mco_rng_normal(mco_rng *rng);

#endif
