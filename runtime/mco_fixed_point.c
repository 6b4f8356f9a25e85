/*
 * mco_fixed_point.c - exported copies of the inline fixed-point helpers of
 * mco_fixed_point.h (for tests and host code), and int4 packing.
 */
#include "mco_fixed_point.h"
#include "mco_kernel_util.h"
#include "mco_runtime.h"

int32_t mco_requantize(int32_t acc, int32_t multiplier, int32_t shift)
{
    return mco_fp_requantize(acc, multiplier, shift);
}

int32_t mco_saturating_rounding_doubling_high_mul(int32_t a, int32_t b)
{
    return mco_fp_srdhm(a, b);
}

int32_t mco_rounding_divide_by_pot(int32_t x, int32_t exponent)
{
    return mco_fp_rdbpot(x, exponent);
}

int32_t mco_s4_get(const uint8_t *packed, size_t index)
{
    return mco_s4_at(packed, index);
}

void mco_s4_set(uint8_t *packed, size_t index, int32_t value)
{
    uint32_t nibble = (uint32_t)value & 0xFu;
    uint32_t byte = packed[index >> 1];
    if (index & 1u)
        byte = (byte & 0x0Fu) | (nibble << 4);
    else
        byte = (byte & 0xF0u) | nibble;
    packed[index >> 1] = (uint8_t)byte;
}
