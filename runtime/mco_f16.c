/*
 * mco_f16.c - IEEE 754 half precision <-> float conversion by bit
 * manipulation (no <math.h>, no hardware half support needed).
 */
#include "mco_kernel_util.h"
#include "mco_runtime.h"

float mco_f16_to_f32(uint16_t h)
{
    return mco_half_to_float(h);
}

/* Rounds the dropped mantissa bits to nearest, ties to even. A carry out of
 * the mantissa correctly bumps the exponent (up to infinity). */
static uint32_t round_half_mantissa(uint32_t kept, uint32_t mantissa, uint32_t dropped_bits)
{
    uint32_t rest = mantissa & ((1u << dropped_bits) - 1u);
    uint32_t halfway = 1u << (dropped_bits - 1u);
    if (rest > halfway || (rest == halfway && (kept & 1u))) kept++;
    return kept;
}

uint16_t mco_f32_to_f16(float f)
{
    uint32_t bits = mco_float_to_bits(f);
    uint32_t sign = (bits >> 16) & 0x8000u;
    uint32_t exponent = (bits >> 23) & 0xFFu;
    uint32_t mantissa = bits & 0x7FFFFFu;
    int32_t e = (int32_t)exponent - 127 + 15;   /* half exponent, biased */
    if (exponent == 0xFFu)   /* inf, or NaN (kept quiet and non-zero) */
        return (uint16_t)(sign | 0x7C00u | (mantissa ? 0x200u | (mantissa >> 13) : 0u));
    if (e >= 31) return (uint16_t)(sign | 0x7C00u);
    if (e <= 0) {   /* half subnormal, or zero */
        if (e < -10) return (uint16_t)sign;
        mantissa |= 0x800000u;
        return (uint16_t)(sign | round_half_mantissa(mantissa >> (14 - e), mantissa, (uint32_t)(14 - e)));
    }
    return (uint16_t)(sign | round_half_mantissa(((uint32_t)e << 10) | (mantissa >> 13), mantissa, 13u));
}
