/*
 * mco_fully_connected_s8.c - int8 Dense with int8 (mco_fully_connected_s8)
 * or packed int4 (mco_fully_connected_s4) weights [units][in], TFLite
 * arithmetic.
 *
 * The int8 version computes five units per pass over the input, so each
 * input word is loaded and widened (SXTAB16, offset added) once for five
 * weight rows (SXTB16 + SMLAD each). The five rows are addressed as w + k*s
 * (s = the row length, k = 0..4), which leaves every accumulator in
 * a register. A layer of fewer than five units takes two per pass instead
 * (one unit: its row twice, s = 0). The last pass of a layer starts a pass's
 * rows before the end (a few units computed twice, same result). Without
 * the DSP extension (Armv6-M, M3) the loops run one input at a time, the
 * rows read at a shared index counting up to zero, the sums in locals:
 * what GCC keeps in registers on Thumb-1. The int4 version is scalar.
 * The DSP loop is inline assembly where the compiler can give it fourteen
 * registers (MCO_ASM_REGS, mco_arch.h: GCC with optimisation), written out
 * twice when the model's config asks for it (MCO_FC_UNROLL, mco_config.h),
 * else the same arithmetic in C with ACLE intrinsics (Clang, GCC -O0, the
 * host's DSP emulation). A five-unit pass also applies the output stage,
 * its sums still in registers, the parameters read once per pass.
 */
#include "mco_fixed_point.h"
#include "mco_kernel_util.h"
#include "mco_runtime.h"

#define FC_ROWS MCO_FC_S8_ROWS

/* Which five-unit pass layouts the build has (both set: the kernel is
 * linked for its int4 or narrow layers only; row-major then). */
#define FC_HAS_INTERLEAVED (!MCO_FC_ROWS_ONLY)
#define FC_HAS_ROWS (MCO_FC_ROWS_ONLY || !MCO_FC_INTERLEAVED_ONLY)

/* 1 when the layer's five-unit passes read interleaved weights. */
#if MCO_FC_ROWS_ONLY
#define FC_INTERLEAVED(p) 0
#elif MCO_FC_INTERLEAVED_ONLY
#define FC_INTERLEAVED(p) 1
#else
#define FC_INTERLEAVED(p) ((p)->interleaved != 0)
#endif

/* The arguments the kernels rely on: buffers, sizes, and an input offset
 * that keeps the sums in int32 (the other quantization parameters only
 * shape the output values). */
static int fc_valid(const mco_fc_s8_params *p, const int8_t *input, const void *weights,
                    const int32_t *bias, const int8_t *output)
{
    return p && input && weights && bias && output && p->in_size > 0 && p->out_size > 0 && p->multiplier &&
           p->shift && p->input_offset >= -255 && p->input_offset <= 255;
}

/* One row of the DSP loop: acc += (x02, x13) . the 4 weights in register w. */
#define FC_MAC_ASM(acc, w)                                                      \
    "sxtb16 %[t], %[" w "]\n\t"                                               \
    "smlad %[" acc "], %[t], %[x02], %[" acc "]\n\t"                          \
    "sxtb16 %[" w "], %[" w "], ror #8\n\t"                                   \
    "smlad %[" acc "], %[" w "], %[x13], %[" acc "]\n\t"

/* One word of the DSP loop: four inputs widened once, with the offset, then
 * the five rows (see pass5_s8). */
#define FC_WORD_ASM                                                             \
    "ldr %[x13], [%[in]], #4\n\t"                                              \
    "ldr %[t], %[off2]\n\t"                                                    \
    "ldr %[v], [%[w]]\n\t"                                                     \
    "sxtab16 %[x02], %[t], %[x13]\n\t"                                         \
    "sxtab16 %[x13], %[t], %[x13], ror #8\n\t"                                 \
    FC_MAC_ASM("a0", "v")                                                     \
    "ldr %[v], [%[w], %[s]]\n\t"                                               \
    "ldr %[u], [%[w], %[s], lsl #1]\n\t"                                       \
    FC_MAC_ASM("a1", "v")                                                     \
    FC_MAC_ASM("a2", "u")                                                     \
    "add %[t], %[w], %[s], lsl #1\n\t"                                         \
    "ldr %[v], [%[t], %[s]]\n\t"                                               \
    "ldr %[u], [%[w], %[s], lsl #2]\n\t"                                       \
    FC_MAC_ASM("a3", "v")                                                     \
    FC_MAC_ASM("a4", "u")                                                     \
    "adds %[w], %[w], #4\n\t"

/* One word of the DSP loop, interleaved weights: the five words at w + 0,
 * 4, .. 16, the offset in a register, the last load stepping w by 20. */
#define FC_WORD_IL_ASM                                                          \
    "ldr %[x13], [%[in]], #4\n\t"                                              \
    "ldr %[v], [%[w], #4]\n\t"                                                 \
    "ldr %[u], [%[w], #8]\n\t"                                                 \
    "sxtab16 %[x02], %[off2], %[x13]\n\t"                                      \
    "sxtab16 %[x13], %[off2], %[x13], ror #8\n\t"                              \
    FC_MAC_ASM("a1", "v")                                                     \
    FC_MAC_ASM("a2", "u")                                                     \
    "ldr %[v], [%[w], #12]\n\t"                                                \
    "ldr %[u], [%[w], #16]\n\t"                                                \
    FC_MAC_ASM("a3", "v")                                                     \
    FC_MAC_ASM("a4", "u")                                                     \
    "ldr %[v], [%[w]], #20\n\t"                                                \
    FC_MAC_ASM("a0", "v")

/* The loop around a word (MCO_FC_UNROLL: written twice, see pass5_s8). */
#if MCO_FC_UNROLL
#define FC_LOOP_ASM(word)                                                       \
    "lsrs %[k], %[k], #1\n\t"                                                  \
    "adc %[k], %[k], #0\n\t"                                                   \
    "bcs 2f\n\t"                                                               \
    "1:\n\t" word "2:\n\t" word                                                 \
    "subs %[k], %[k], #1\n\t"                                                  \
    "bne 1b"
#else
#define FC_LOOP_ASM(word) "1:\n\t" word "subs %[k], %[k], #1\n\t" "bne 1b"
#endif

/* output[r] = unit u + r's output stage applied to acc[r], r < n. The
 * parameters are read into locals first: the int8 stores may alias *p, so
 * the compiler would read them again for every unit. */
static inline void fc_outputs(const mco_fc_s8_params *p, const int32_t *acc, int32_t u, int32_t n,
                              int8_t *output)
{
    const int32_t *multiplier = p->multiplier, *shift = p->shift;
    int32_t step = p->per_tensor ? 0 : 1, output_offset = p->output_offset, act_min = p->act_min,
            act_max = p->act_max, r;
    for (r = 0; r < n; r++) {
        int32_t q = (u + r) * step;
        output[r] = mco_fp_output_s8(acc[r], multiplier[q], shift[q], output_offset, act_min, act_max);
    }
}

/* One pass: units u .. u + 4, their rows at w (row-major: row r at w + r*n,
 * n inputs; interleaved: the pass's block, see the top), biases at bias,
 * outputs at output: sum = bias[r] + (input + input_offset) . row r, then
 * the output stage. */
static MCO_NOINLINE void pass5_s8(const mco_fc_s8_params *p, const int8_t *input, const int8_t *w,
                                  const int32_t *bias, int8_t *output, int32_t u)
{
    int32_t n = p->in_size, input_offset = p->input_offset, acc[FC_ROWS];
    int il = FC_INTERLEAVED(p);
    /* s: from a row's word or tail input to the next row's; step: from a
     * word of the rows to their next */
    size_t s = il ? 4 : (size_t)n, step = il ? 4 * FC_ROWS : 4;
    (void)il;
    (void)step;
#if MCO_HAVE_DSP
    int32_t a0 = bias[0], a1 = bias[1], a2 = bias[2], a3 = bias[3], a4 = bias[4];
    int32_t offset2 = mco_dup16(input_offset), k = n >> 2;
#if MCO_ASM_REGS >= 14
    /* Fifteen live values in the C below: the compiler spills four of
     * them, so the loop is written out with fourteen registers. Row-major:
     * offset2 is read from the stack between the input and the first weight
     * load, so all three pipeline; the words of rows 1 and 2, and of rows 3
     * and 4, are loaded back to back so the second load of each pair
     * pipelines; w + 3s is formed in the temporary. Interleaved: offset2
     * in the register the stride took, the five words at immediate
     * offsets, no address arithmetic. Same arithmetic as the C.
     * MCO_FC_UNROLL (mco_config.h): the loop body is written twice (two
     * words per turn, half the loop's count and branch): k becomes
     * ceil(k / 2), and an odd k enters at the second copy (the carry of
     * the shift). */
    if (k > 0) {
        int32_t x02, x13, v, u, t;
#if FC_HAS_INTERLEAVED
        if (il) {
            __asm__ volatile(FC_LOOP_ASM(FC_WORD_IL_ASM)
                             : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [a4] "+r"(a4),
                               [in] "+r"(input), [w] "+r"(w), [k] "+r"(k), [x02] "=&r"(x02), [x13] "=&r"(x13),
                               [v] "=&r"(v), [u] "=&r"(u), [t] "=&r"(t)
                             : [off2] "r"(offset2)
                             : "cc", "memory");
        }
#endif
#if FC_HAS_ROWS
        if (!il) {
            __asm__ volatile(FC_LOOP_ASM(FC_WORD_ASM)
                             : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [a4] "+r"(a4),
                               [in] "+r"(input), [w] "+r"(w), [k] "+r"(k), [x02] "=&r"(x02), [x13] "=&r"(x13),
                               [v] "=&r"(v), [u] "=&r"(u), [t] "=&r"(t)
                             : [s] "r"(s), [off2] "m"(offset2)
                             : "cc", "memory");
        }
#endif
    }
#else
    for (; k > 0; k--, w += step) {
        int32_t x = mco_read_s8x4(&input);
        int32_t x02 = mco_sxtab16(offset2, x), x13 = mco_sxtab16_ror8(offset2, x);
        int32_t v = mco_peek_s8x4(w);
        a0 = mco_smlad(mco_sxtb16_ror8(v), x13, mco_smlad(mco_sxtb16(v), x02, a0));
        v = mco_peek_s8x4(w + s);
        a1 = mco_smlad(mco_sxtb16_ror8(v), x13, mco_smlad(mco_sxtb16(v), x02, a1));
        v = mco_peek_s8x4(w + 2 * s);
        a2 = mco_smlad(mco_sxtb16_ror8(v), x13, mco_smlad(mco_sxtb16(v), x02, a2));
        v = mco_peek_s8x4(w + 3 * s);
        a3 = mco_smlad(mco_sxtb16_ror8(v), x13, mco_smlad(mco_sxtb16(v), x02, a3));
        v = mco_peek_s8x4(w + 4 * s);
        a4 = mco_smlad(mco_sxtb16_ror8(v), x13, mco_smlad(mco_sxtb16(v), x02, a4));
    }
#endif
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
    acc[4] = a4;
    n &= 3;
    if (il) s = (size_t)n;   /* the tail inputs of the rows, row by row */
    /* the inputs the word loop leaves: at most three */
    for (; n > 0; n--, input++, w++) {
        int32_t x = (int32_t)*input + input_offset, r;
        for (r = 0; r < FC_ROWS; r++) acc[r] += x * (int32_t)w[(size_t)r * s];
    }
#else
#if FC_HAS_INTERLEAVED
    if (il) {   /* four inputs per word of the rows, then the tail */
        int32_t k, i, r;
        for (r = 0; r < FC_ROWS; r++) acc[r] = bias[r];
        for (k = n >> 2; k > 0; k--, input += 4, w += step)
            for (i = 0; i < 4; i++) {
                int32_t x = (int32_t)input[i] + input_offset;
                for (r = 0; r < FC_ROWS; r++) acc[r] += x * (int32_t)w[(size_t)r * s + (size_t)i];
            }
        s = (size_t)(n & 3);
        for (i = 0; i < (n & 3); i++) {
            int32_t x = (int32_t)input[i] + input_offset;
            for (r = 0; r < FC_ROWS; r++) acc[r] += x * (int32_t)w[(size_t)r * s + (size_t)i];
        }
    }
#endif
#if FC_HAS_ROWS
    if (!il) {   /* every input: the rows and the input read at index i = -n .. -1 */
        const int8_t *in = input + n, *w0 = w + n, *w1 = w0 + s, *w2 = w1 + s, *w3 = w2 + s, *w4 = w3 + s;
        int32_t a0 = bias[0], a1 = bias[1], a2 = bias[2], a3 = bias[3], a4 = bias[4], i;
        for (i = -n; i != 0; i++) {
            int32_t x = (int32_t)in[i] + input_offset;
            a0 += x * (int32_t)w0[i];
            a1 += x * (int32_t)w1[i];
            a2 += x * (int32_t)w2[i];
            a3 += x * (int32_t)w3[i];
            a4 += x * (int32_t)w4[i];
        }
        acc[0] = a0;
        acc[1] = a1;
        acc[2] = a2;
        acc[3] = a3;
        acc[4] = a4;
    }
#endif
#endif
    fc_outputs(p, acc, u, FC_ROWS, output);
}

#if !MCO_FC_WIDE_ONLY
/* acc[r] += (input + input_offset) . row r, the rows at w and w + s (n
 * inputs): the passes of a layer of fewer than FC_ROWS units. */
static MCO_NOINLINE void dot2_s8(int32_t acc[2], const int8_t *input, const int8_t *w, size_t s, int32_t n,
                                 int32_t input_offset)
{
    int32_t a0 = acc[0], a1 = acc[1], i;
    const int8_t *in, *w0, *w1;
#if MCO_HAVE_DSP
    int32_t offset2 = mco_dup16(input_offset), k;
    for (k = n >> 2; k > 0; k--, w += 4) {
        int32_t x = mco_read_s8x4(&input);
        int32_t x02 = mco_sxtab16(offset2, x), x13 = mco_sxtab16_ror8(offset2, x);
        int32_t v = mco_peek_s8x4(w), u = mco_peek_s8x4(w + s);
        a0 = mco_smlad(mco_sxtb16_ror8(v), x13, mco_smlad(mco_sxtb16(v), x02, a0));
        a1 = mco_smlad(mco_sxtb16_ror8(u), x13, mco_smlad(mco_sxtb16(u), x02, a1));
    }
    n &= 3;
#endif
    /* the inputs left (all of them without DSP), read at i = -n .. -1 */
    in = input + n;
    w0 = w + n;
    w1 = w0 + s;
    for (i = -n; i != 0; i++) {
        int32_t x = (int32_t)in[i] + input_offset;
        a0 += x * (int32_t)w0[i];
        a1 += x * (int32_t)w1[i];
    }
    acc[0] = a0;
    acc[1] = a1;
}
#endif

mco_rt_status mco_fully_connected_s8(const mco_fc_s8_params *p, const int8_t *input,
                                     const int8_t *weights, const int32_t *bias,
                                     int8_t *output)
{
    int32_t u, units, rows;
    const int8_t *block;
    size_t step;
    if (!fc_valid(p, input, weights, bias, output)) return MCO_RT_ARG_ERROR;
    units = p->out_size;
#if MCO_FC_WIDE_ONLY
    /* the emitter sets MCO_FC_WIDE_ONLY only when no layer is narrower */
    if (units < FC_ROWS) return MCO_RT_ARG_ERROR;
    rows = FC_ROWS;
#else
    rows = units < FC_ROWS ? 2 : FC_ROWS;   /* units per pass (one unit: its row twice) */
#endif
    /* row-major, except five-unit passes in the layout the build runs */
    if (rows < FC_ROWS ? p->interleaved != 0 : (p->interleaved != 0) != FC_INTERLEAVED(p)) return MCO_RT_ARG_ERROR;
    /* block: the pass's block of interleaved rows, FC_ROWS rows apart */
    step = (size_t)FC_ROWS * (size_t)p->in_size;
    for (u = 0, block = weights; u < units; u += rows, block += step) {
        const int8_t *w;
        if (u > units - rows) u = units < rows ? 0 : units - rows;   /* the last pass ends at the last unit */
#if !MCO_FC_WIDE_ONLY
        if (rows < FC_ROWS) {   /* row-major */
            int32_t acc[2];
            acc[0] = bias[u];
            acc[1] = bias[u + (units > 1)];   /* unit 1, or unit 0 again */
            dot2_s8(acc, input, weights + (size_t)u * (size_t)p->in_size, units == 1 ? 0 : (size_t)p->in_size,
                    p->in_size, p->input_offset);
            fc_outputs(p, acc, u, units < 2 ? units : 2, output + u);
            continue;
        }
#endif
        w = FC_INTERLEAVED(p) ? block : weights + (size_t)u * (size_t)p->in_size;   /* row-major: row u */
        pass5_s8(p, input, w, bias + u, output + u, u);
    }
    return MCO_RT_OK;
}

mco_rt_status mco_fully_connected_s4(const mco_fc_s8_params *p, const int8_t *input,
                                     const uint8_t *packed_weights, const int32_t *bias,
                                     int8_t *output)
{
    int32_t u;
    if (!fc_valid(p, input, packed_weights, bias, output) || p->interleaved) return MCO_RT_ARG_ERROR;
    for (u = 0; u < p->out_size; u++) {
        int32_t acc = mco_dot_s4(bias[u], input, packed_weights, (size_t)u * (size_t)p->in_size,
                                 p->in_size, p->input_offset);
        output[u] = mco_fc_output_s8(p, acc, u);
    }
    return MCO_RT_OK;
}

size_t mco_fc_s8_interleaved_size(int32_t in_size, int32_t out_size)
{
    return (size_t)((out_size + FC_ROWS - 1) / FC_ROWS) * FC_ROWS * (size_t)in_size;
}

void mco_fc_s8_interleave(int32_t in_size, int32_t out_size, const int8_t *weights, int8_t *dst)
{
    int32_t u, pass, r, j, i, words = in_size >> 2, tail = in_size & 3;
    for (u = 0, pass = 0; u < out_size; u += FC_ROWS, pass++) {
        int32_t first = u > out_size - FC_ROWS ? out_size - FC_ROWS : u;   /* as the kernel's last pass */
        int8_t *block = dst + (size_t)pass * FC_ROWS * (size_t)in_size;
        for (r = 0; r < FC_ROWS; r++) {
            const int8_t *row = weights + (size_t)(first + r) * (size_t)in_size;
            for (j = 0; j < words; j++)
                for (i = 0; i < 4; i++) block[(size_t)(j * 4 * FC_ROWS + r * 4 + i)] = row[j * 4 + i];
            for (i = 0; i < tail; i++) block[(size_t)(words * 4 * FC_ROWS + r * tail + i)] = row[words * 4 + i];
        }
    }
}
