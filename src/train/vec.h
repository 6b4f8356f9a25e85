/*
 * vec.h - the two inner loops every float kernel in src/train/ is built
 * from, written so that GCC -O3 vectorises them without -ffast-math.
 *
 * mco_axpy (y += a * x) vectorises directly. A plain dot-product loop does
 * not, because vectorising it reorders the float additions; mco_dot keeps
 * eight explicit partial sums instead, which GCC turns into SIMD lanes and
 * which fixes the summation order (so results do not depend on the compiler
 * vectorising or not).
 *
 * What it leaves out: intrinsics; the compiler does the vectorising.
 */
#ifndef MCO_TRAIN_VEC_H
#define MCO_TRAIN_VEC_H

/* y[i] += a * x[i] for i < n. */
static inline void mco_axpy(float *restrict y, float a, const float *restrict x, int n)
{
    for (int i = 0; i < n; i++)
        y[i] += a * x[i];
}

/* y[i] += x[i] for i < n. */
static inline void mco_vadd(float *restrict y, const float *restrict x, int n)
{
    for (int i = 0; i < n; i++)
        y[i] += x[i];
}

/* y[i] += a[i] * b[i] for i < n. */
static inline void mco_vmuladd(float *restrict y, const float *restrict a, const float *restrict b, int n)
{
    for (int i = 0; i < n; i++)
        y[i] += a[i] * b[i];
}

/* sum of a[i] * b[i] for i < n, with eight partial sums. */
static inline float mco_dot(const float *restrict a, const float *restrict b, int n)
{
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++)
            acc[k] += a[i + k] * b[i + k];
    float sum = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (; i < n; i++)
        sum += a[i] * b[i];
    return sum;
}

/* The window taps [*k0, *k1) of a window starting at input row `start`
 * (may be negative) that fall inside [0, in). */
static inline void mco_train_window_range(int start, int k, int in, int *k0, int *k1)
{
    *k0 = start < 0 ? -start : 0;
    *k1 = start + k > in ? in - start : k;
    if (*k1 < *k0)
        *k1 = *k0;
}

#endif
