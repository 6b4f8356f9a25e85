/*
 * mco_fixed_point.h - internal: the integer fixed-point arithmetic of TFLite
 * (gemmlowp's SaturatingRoundingDoublingHighMul, RoundingDivideByPOT,
 * MultiplyByQuantizedMultiplier) as inline functions for the int8 kernels.
 * mco_fixed_point.c exports the same functions for tests and the host.
 *
 * Right shifts of negative values are arithmetic on every compiler the
 * runtime targets (GCC and Clang define it; C99 leaves it to the
 * implementation), exactly as TFLite and CMSIS-NN assume.
 */
#ifndef MCO_FIXED_POINT_H
#define MCO_FIXED_POINT_H

#include <stdint.h>

#include "mco_arch.h"
#include "mco_config.h"

/* round(a * b / 2^31), ties rounded up (+0.5 -> 1, -0.5 -> 0); the one
 * overflowing case INT32_MIN * INT32_MIN saturates to INT32_MAX. TFLite
 * adds a nudge of 2^30 to a positive product and 1 - 2^30 to a negative
 * one, then divides truncating; both cases are floor((a*b + 2^30) / 2^31),
 * which is what is computed (an arithmetic shift: shorter code). */
static inline int32_t mco_fp_srdhm(int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
    return (int32_t)(((int64_t)a * (int64_t)b + ((int64_t)1 << 30)) >> 31);
}

/* x / 2^exponent rounded to nearest, ties away from zero (exponent 0..31). */
static inline int32_t mco_fp_rdbpot(int32_t x, int32_t exponent)
{
    int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
    int32_t remainder = x & mask;
    int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* x * 2^exponent saturated to int32 (exponent 0..31). TFLite multiplies
 * without a guard (overflow is undefined there); saturating agrees with it
 * wherever TFLite is defined. */
static inline int32_t mco_fp_shift_left_sat(int32_t x, int32_t exponent)
{
    if (x > (INT32_MAX >> exponent)) return INT32_MAX;
    if (x < (INT32_MIN >> exponent)) return INT32_MIN;
    return (int32_t)((uint32_t)x << exponent);
}

/* TFLite's MultiplyByQuantizedMultiplier: acc * multiplier * 2^shift / 2^31. */
static inline int32_t mco_fp_requantize(int32_t acc, int32_t multiplier, int32_t shift)
{
    int32_t left = shift > 0 ? shift : 0;
    return mco_fp_rdbpot(mco_fp_srdhm(mco_fp_shift_left_sat(acc, left), multiplier), left - shift);
}

/* Requantization with a right shift (shift in [-31, -1], multiplier >= 0),
 * the case of nearly every conv / dense layer, in one 64-bit multiply-add:
 * with e = -shift,
 *   rdbpot(srdhm(acc, m), e) = (acc*m + 2^30 + 2^(30+e) - [acc < 0]*2^31) >> (31+e)
 * because srdhm(acc, m) = floor((acc*m + 2^30) / 2^31) (TFLite's nudge and
 * truncating division give exactly that), rdbpot(y, e) =
 * floor((y + 2^(e-1) - [y < 0]) / 2^e), floors of floors compose, and
 * acc < 0 differs from y < 0 only where y = 0, which rounds to 0 either way.
 * Equal to mco_fp_requantize() for every acc (tests/test_runtime_kernels.c
 * checks it). The per-channel constants are computed once: */
typedef struct {
    int64_t round;        /* 2^30 + 2^(30+e) */
    int32_t multiplier;
    int32_t hi_shift;     /* e - 1: the shift applied to the high word */
} mco_requant_right;

static inline mco_requant_right mco_fp_requant_right_init(int32_t multiplier, int32_t shift)
{
    mco_requant_right rq;
    rq.round = ((int64_t)1 << 30) + ((int64_t)1 << (30 - shift));
    rq.multiplier = multiplier;
    rq.hi_shift = -shift - 1;
    return rq;
}

static inline int32_t mco_fp_requant_right(const mco_requant_right *rq, int32_t acc)
{
    int64_t p = (int64_t)acc * rq->multiplier + rq->round - (acc < 0 ? ((int64_t)1 << 31) : 0);
    return (int32_t)(p >> 32) >> rq->hi_shift;
}

static inline int32_t mco_fp_clamp(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

/* Requantization when |acc| < 2^30, multiplier >= 0 and shift in [-22, -1]:
 *   srdhm(acc, m) = floor((acc*m + 2^30) / 2^31) = SMMULR(2 acc, m),
 *   rdbpot(y, e) = (y + 2^(e-1) - [y < 0]) >> e      (e = -shift),
 * exactly, in 32-bit arithmetic; the result is below 2^29 in magnitude. */
static inline int32_t mco_fp_requant_fast(int32_t acc, int32_t multiplier, int32_t shift)
{
    int32_t y = mco_smmulr(2 * acc, multiplier);
    return (y + (int32_t)((uint32_t)1 << (-shift - 1)) + (y >> 31)) >> -shift;
}

/* mco_fp_requantize(acc, m, shift) for |acc| < 2^30, shift in [-31, 0] and
 * any m, in 32-bit arithmetic: srdhm(acc, m) = SMMULR(2 acc, m) (no
 * overflow: |2 acc| < 2^31, and |y| <= |acc|), then rdbpot(y, e) =
 * (y + 2^(e-1) - [y < 0]) >> e for e = -shift >= 1 (|y| + 2^30 < 2^31), y
 * itself for e = 0. The constants are prepared once per layer, so the
 * per-value path has no branch. Used for the inputs of Add, whose values
 * (x + offset) << left_shift are below 2^28. */
typedef struct {
    int32_t multiplier;
    int32_t round;       /* 2^(e-1), 0 for e = 0 */
    int32_t sign_mask;   /* -1 (ties of negatives away from zero), 0 for e = 0 */
    int32_t shift;       /* e */
} mco_requant_small;

static inline mco_requant_small mco_fp_requant_small_init(int32_t multiplier, int32_t shift)
{
    mco_requant_small rq;
    rq.multiplier = multiplier;
    rq.shift = -shift;
    rq.round = shift < 0 ? (int32_t)((uint32_t)1 << (-shift - 1)) : 0;
    rq.sign_mask = shift < 0 ? -1 : 0;
    return rq;
}

static inline int32_t mco_fp_requant_small(const mco_requant_small *rq, int32_t acc)
{
    int32_t y = mco_smmulr(2 * acc, rq->multiplier);
    return (y + rq->round + ((y >> 31) & rq->sign_mask)) >> rq->shift;
}

/* The whole output stage of an int8 kernel: requantize, add the output zero
 * point, clamp to the activation range. (The requantized value is first
 * clamped to [-256, 255], which changes no result, so adding the zero point
 * cannot overflow.) Emitted code takes a shorter exact form where every
 * layer of its model allows it (mco_config.h). */
static inline int8_t mco_fp_output_s8(int32_t acc, int32_t multiplier, int32_t shift,
                                      int32_t output_offset, int32_t act_min, int32_t act_max)
{
#if MCO_REQUANT_FAST
    int32_t v = mco_fp_requant_fast(acc, multiplier, shift) + output_offset;
#elif MCO_REQUANT_RIGHT_ONLY
    mco_requant_right rq = mco_fp_requant_right_init(multiplier, shift);
    int32_t v = mco_fp_clamp(mco_fp_requant_right(&rq, acc), -256, 255) + output_offset;
#else
    int32_t v = mco_fp_clamp(mco_fp_requantize(acc, multiplier, shift), -256, 255) + output_offset;
#endif
    return (int8_t)mco_fp_clamp(v, act_min, act_max);
}

#endif
