/*
 * mco_fully_connected_sparse_s8.c - int8 Dense on group-stream sparse
 * weights (MCO_SPARSE_ROW_PAIRS, see mco_sparse.h), TFLite arithmetic,
 * bit-identical to mco_fully_connected_s8.
 *
 * The input, with the input offset added, is widened once into a stack
 * buffer of int16 pairs, per group of 4 inputs the words (x0, x2), (x1, x3)
 * (DSP: one word load and two SXTAB16 per group). Then each pair of rows
 * walks its stream: per group a pattern byte (row a's 4 bits, row b's 4
 * bits) and the non-zero weights, per row in the order that lets one
 * SMLAD multiply the two weights of an (x0, x2) or (x1, x3) pair.
 *
 * On DSP cores the walk is threaded code in assembly: the pattern byte
 * indexes a 256-entry jump table for row a whose entries run exactly row
 * a's multiply-accumulates for its nibble, then shift the byte right by 4
 * (LSRS) and jump through a 16-entry table (row b's nibble), whose code
 * loads the next group's pattern byte and input pair and jumps through the
 * first table again (a 256-entry second table indexed by the byte would
 * save the shift, one instruction per group, for 960 B more Flash). Per
 * row and nibble: nothing for 0 non-zeros; LDRSB + SMLAxB for 1; twice
 * that for 2; one unaligned LDR of 4 weight bytes, two SXTB16, an SMLAD and
 * an SMLAxB (or two SMLADs) for 3 or 4. The pattern 0 (both rows empty) is
 * the escape: the next byte skips a run of empty groups, or (0) ends the
 * pair. The tables (1 KB + 64 B) and 32 code blocks sit in one assembly
 * block, which GCC's C cannot express (no computed goto in C99); it needs
 * eleven registers (MCO_ASM_REGS, mco_arch.h: GCC with optimisation, or
 * Clang). The C walk beside it does the same arithmetic (the host build,
 * the DSP emulation test and GCC -O0 run it);
 * mco_sparse_fc_s8_profile() counts the assembly's instructions.
 *
 * What it leaves out: layers wider than MCO_SPARSE_FC_MAX_IN inputs
 * (NO_IMPL; the widened input lives on the stack), int4 values.
 */
#include "mco_fixed_point.h"
#include "mco_kernel_util.h"
#include "mco_sparse.h"

#if MCO_HAVE_DSP
/* The word of the n (1..3) int8 values at in, the missing bytes 0
 * (what mco_read_s8x4 reads from a zero-padded group). */
static int32_t read_s8_tail(const int8_t *in, int32_t n)
{
    uint32_t word = 0;
    while (n-- > 0) word = word << 8 | (uint8_t)in[n];
    return (int32_t)word;
}
#else
/* The word (lo, hi) of two int16 values. */
static inline int32_t pair16(int32_t lo, int32_t hi)
{
    return (int32_t)(((uint32_t)lo & 0xFFFFu) | ((uint32_t)hi << 16));
}
#endif

/* x[2g], x[2g + 1] = (in0, in2), (in1, in3) + input_offset for every group
 * g of 4 inputs; in a last partial group the inputs past the end count as
 * 0 (read byte by byte, no copy: memcpy would link libc's); the two words
 * after the last group are zeroed (the assembly reads them). */
static void widen_input(const int8_t *input, int32_t n, int32_t input_offset, int32_t *x)
{
    const int8_t *in = input;
    int32_t full = n / 4, left = n % 4, g = 0;
#if MCO_HAVE_DSP
    const int32_t offset2 = mco_dup16(input_offset);
#if MCO_ASM_REGS >= 8
    /* two groups per pass: GCC's loop takes 8 instructions per group, this 5 */
    if (full >= 2) {
        const int8_t *end = input + 4 * (full & ~1);
        int32_t w0, w1, a, b;
        __asm__ volatile(
            "1:\n\t"
            "ldr %[w0], [%[in]], #4\n\t"
            "ldr %[w1], [%[in]], #4\n\t"
            "sxtab16 %[a], %[o], %[w0]\n\t"
            "sxtab16 %[b], %[o], %[w0], ror #8\n\t"
            "strd %[a], %[b], [%[x]], #8\n\t"
            "sxtab16 %[a], %[o], %[w1]\n\t"
            "sxtab16 %[b], %[o], %[w1], ror #8\n\t"
            "strd %[a], %[b], [%[x]], #8\n\t"
            "cmp %[in], %[end]\n\t"
            "bne 1b"
            : [in] "+r"(in), [x] "+r"(x), [w0] "=&r"(w0), [w1] "=&r"(w1), [a] "=&r"(a), [b] "=&r"(b)
            : [o] "r"(offset2), [end] "r"(end)
            : "cc", "memory");
        g = full & ~1;
    }
#endif
    for (; g < full + (left > 0); g++, x += 2) {
        int32_t word = g < full ? mco_read_s8x4(&in) : read_s8_tail(in, left);
        x[0] = mco_sxtab16(offset2, word);
        x[1] = mco_sxtab16_ror8(offset2, word);
    }
#else
    for (; g < full; g++, x += 2, in += 4) {
        x[0] = pair16(in[0] + input_offset, in[2] + input_offset);
        x[1] = pair16(in[1] + input_offset, in[3] + input_offset);
    }
    if (left > 0) {
        x[0] = pair16(in[0] + input_offset, (left > 2 ? in[2] : 0) + input_offset);
        x[1] = pair16((left > 1 ? in[1] : 0) + input_offset, input_offset);
        x += 2;
    }
#endif
    x[0] = 0;
    x[1] = 0;
}

#if MCO_ASM_REGS >= 11
/* The row pair's sums into acc[0..1] (their biases on entry) from the
 * stream at s, the widened input at x; returns the stream past the pair. */
static MCO_NOINLINE const uint8_t *row_pair_dot(const uint8_t *s, const int32_t *x, int32_t acc[2])
{
    int32_t a = acc[0], b = acc[1], x02, x13, p, t0, t1, ta, tb;
    /* Assembler macros (unique names per asm statement via %=):
     *   MAC acc, col, w   acc += x[col] * w.lo  (col 0..3 of the group)
     *   NIB acc, bits     the multiply-accumulates of one row's nibble
     *   NEXT              load the next group, jump through table A */
    __asm__ volatile(
        ".macro spfc_mac%= acc, col, w\n"
        ".if \\col == 0\n\t smlabb \\acc, %[x02], \\w, \\acc\n"
        ".elseif \\col == 1\n\t smlabb \\acc, %[x13], \\w, \\acc\n"
        ".elseif \\col == 2\n\t smlatb \\acc, %[x02], \\w, \\acc\n"
        ".else\n\t smlatb \\acc, %[x13], \\w, \\acc\n"
        ".endif\n"
        ".endm\n"
        /* 3 or 4 weights: bytes 0, 2 pair with the x word `pair`; byte 1
         * (col `one`) is the single one, or with 4 the (x1, x3) pair */
        ".macro spfc_word%= acc, bytes, pair, one\n\t"
        "ldr %[t0], [%[s]], #\\bytes\n\t"
        "sxtb16 %[t1], %[t0], ror #8\n\t"
        "sxtb16 %[t0], %[t0]\n\t"
        "smlad \\acc, \\pair, %[t0], \\acc\n"
        ".if \\bytes == 4\n\t smlad \\acc, %[x13], %[t1], \\acc\n"
        ".else\n\t spfc_mac%= \\acc, \\one, %[t1]\n"
        ".endif\n"
        ".endm\n"
        ".macro spfc_one%= acc, col\n\t"
        "ldrsb %[t0], [%[s]], #1\n\t"
        "spfc_mac%= \\acc, \\col, %[t0]\n"
        ".endm\n"
        ".macro spfc_two%= acc, col0, col1\n\t"
        "ldrsb %[t0], [%[s]], #1\n\t"
        "ldrsb %[t1], [%[s]], #1\n\t"
        "spfc_mac%= \\acc, \\col0, %[t0]\n\t"
        "spfc_mac%= \\acc, \\col1, %[t1]\n"
        ".endm\n"
        ".macro spfc_nib%= acc, bits\n"
        ".if \\bits == 1\n\t spfc_one%= \\acc, 0\n"
        ".elseif \\bits == 2\n\t spfc_one%= \\acc, 1\n"
        ".elseif \\bits == 4\n\t spfc_one%= \\acc, 2\n"
        ".elseif \\bits == 8\n\t spfc_one%= \\acc, 3\n"
        ".elseif \\bits == 3\n\t spfc_two%= \\acc, 0, 1\n"
        ".elseif \\bits == 5\n\t spfc_two%= \\acc, 0, 2\n"
        ".elseif \\bits == 6\n\t spfc_two%= \\acc, 1, 2\n"
        ".elseif \\bits == 9\n\t spfc_two%= \\acc, 0, 3\n"
        ".elseif \\bits == 10\n\t spfc_two%= \\acc, 1, 3\n"
        ".elseif \\bits == 12\n\t spfc_two%= \\acc, 2, 3\n"
        ".elseif \\bits == 7\n\t spfc_word%= \\acc, 3, %[x02], 1\n"
        ".elseif \\bits == 11\n\t spfc_word%= \\acc, 3, %[x13], 0\n"
        ".elseif \\bits == 13\n\t spfc_word%= \\acc, 3, %[x02], 3\n"
        ".elseif \\bits == 14\n\t spfc_word%= \\acc, 3, %[x13], 2\n"
        ".elseif \\bits == 15\n\t spfc_word%= \\acc, 4, %[x02], 0\n"
        ".endif\n"
        ".endm\n"
        ".macro spfc_next%=\n\t"
        "ldrb %[p], [%[s]], #1\n\t"
        "ldrd %[x02], %[x13], [%[x]], #8\n\t"
        "ldr pc, [%[ta], %[p], lsl #2]\n"
        ".endm\n\t"

        "b .Lspfc_start%=\n\t"
        ".p2align 2\n"
        ".Lspfc_tables%=:\n"
        /* table A: p -> row a's code for p & 15 (p == 0: the escape) */
        ".irp hi, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
        ".irp lo, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
        ".if (\\hi + \\lo) == 0\n\t .word .Lspfc_esc%= + 1\n"
        ".else\n\t .word .Lspfc_a%=_\\lo + 1\n"
        ".endif\n"
        ".endr\n"
        ".endr\n"
        /* table B: p >> 4 -> row b's code */
        ".irp hi, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n\t"
        ".word .Lspfc_b%=_\\hi + 1\n"
        ".endr\n"
        ".Lspfc_start%=:\n\t"
        "adr %[ta], .Lspfc_tables%=\n\t"
        "add %[tb], %[ta], #1024\n\t"
        "spfc_next%=\n"
        ".irp bits, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
        ".Lspfc_a%=_\\bits:\n\t"
        "spfc_nib%= %[a], \\bits\n\t"
        "lsrs %[p], %[p], #4\n\t"
        "ldr pc, [%[tb], %[p], lsl #2]\n"
        ".endr\n"
        ".irp bits, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
        ".Lspfc_b%=_\\bits:\n\t"
        "spfc_nib%= %[b], \\bits\n\t"
        "spfc_next%=\n"
        ".endr\n"
        /* both rows empty: the next byte n skips n - 1 more groups, or ends */
        ".Lspfc_esc%=:\n\t"
        "ldrb %[t0], [%[s]], #1\n\t"
        "cbz %[t0], .Lspfc_end%=\n\t"
        "add %[x], %[x], %[t0], lsl #3\n\t"
        "sub %[x], %[x], #8\n\t"
        "spfc_next%=\n"
        ".Lspfc_end%=:\n\t"
        ".purgem spfc_mac%=\n\t"
        ".purgem spfc_word%=\n\t"
        ".purgem spfc_one%=\n\t"
        ".purgem spfc_two%=\n\t"
        ".purgem spfc_nib%=\n\t"
        ".purgem spfc_next%=\n"
        : [a] "+r"(a), [b] "+r"(b), [s] "+r"(s), [x] "+r"(x), [x02] "=&r"(x02), [x13] "=&r"(x13),
          [p] "=&l"(p), [t0] "=&l"(t0), [t1] "=&r"(t1), [ta] "=&r"(ta), [tb] "=&r"(tb)
        :
        : "cc", "memory");
    acc[0] = a;
    acc[1] = b;
    return s;
}
#else
/* Input col (0..3) of the group whose words are xg[0] = (x0, x2), xg[1] = (x1, x3). */
static inline int32_t group_input(const int32_t *xg, int32_t col)
{
    uint32_t word = (uint32_t)xg[col & 1];
    return (int32_t)(int16_t)(uint16_t)((col & 2 ? word >> 16 : word) & 0xFFFFu);
}

/* acc + the group's products for one row's nibble `bits`; *s advances past its weights. */
static inline int32_t nibble_dot(int32_t acc, const int32_t *xg, uint32_t bits, const uint8_t **s)
{
    const uint8_t *w = *s;
    uint32_t left;
    int32_t i = 0;
    for (left = bits; left; left &= left - 1u, i++)
        acc += group_input(xg, mco_sparse_group_column(bits, i)) * (int32_t)(int8_t)w[i];
    *s = w + i;
    return acc;
}

/* The C version of the assembly above. */
static const uint8_t *row_pair_dot(const uint8_t *s, const int32_t *x, int32_t acc[2])
{
    for (;;) {
        uint32_t p = *s++;
        if (p == 0) {
            uint32_t n = *s++;
            if (n == 0) return s;
            x += 2 * n;
            continue;
        }
        acc[0] = nibble_dot(acc[0], x, p & 15u, &s);
        acc[1] = nibble_dot(acc[1], x, p >> 4, &s);
        x += 2;
    }
}
#endif

mco_rt_status mco_fully_connected_sparse_s8(const mco_fc_s8_params *p, const int8_t *input,
                                            const uint8_t *sparse_weights, const int32_t *bias,
                                            int8_t *output)
{
    const uint8_t *s = sparse_weights;
    int32_t u, r;
    if (!p || !input || !sparse_weights || !bias || !output || p->in_size <= 0 || p->out_size <= 0 || p->interleaved ||
        !mco_quant_valid(p->input_offset, p->output_offset, p->act_min, p->act_max, p->multiplier,
                         p->shift))
        return MCO_RT_ARG_ERROR;
    if (p->in_size > MCO_SPARSE_FC_MAX_IN) return MCO_RT_NO_IMPL;
    {
        int32_t x[MCO_SPARSE_FC_WIDE_WORDS(p->in_size)];
        widen_input(input, p->in_size, p->input_offset, x);
        for (u = 0; u < p->out_size; u += 2) {
            int two = u + 1 < p->out_size;
            int32_t acc[2];
            acc[0] = bias[u];
            acc[1] = two ? bias[u + 1] : 0;
            s = row_pair_dot(s, x, acc);
            for (r = 0; r <= two; r++) output[u + r] = mco_fc_output_s8(p, acc[r], u + r);
        }
    }
    return MCO_RT_OK;
}
