/*
 * mco_fully_connected_sparse_s8.c - int8 Dense on bitmap + values sparse
 * weights (MCO_SPARSE_ROW_PAIRS, see mco_sparse.h), TFLite arithmetic,
 * bit-identical to mco_fully_connected_s8.
 *
 * Two units per pass, like the dense kernel: per group of 4 inputs the
 * input offset is added and the inputs widened once (DSP: two SXTAB16 give
 * the dual16 lanes (x0, x2) and (x1, x3)), then for each of the two rows a
 * switch on its 4 bitmap bits runs exactly the multiply-accumulates of its
 * non-zero weights: one LDRSB + one SMLABB / SMLATB each, no per-bit test.
 * The values are stored in that consumption order, so one pointer walks them.
 *
 * Cost: the switch (a TBB jump table; GCC 12 adds a range check for one
 * case) is paid per 4 weights whatever their sparsity, so on a Cortex-M4
 * this kernel does about 3.7 instructions per weight at 50 % sparsity,
 * about twice the dense SMLAD kernel, and about 2.6 at 90 %. Its point is
 * Flash: 1/8 byte per weight plus 1 byte per non-zero.
 *
 * What it leaves out: skipping all-zero bitmap bytes (rare at the
 * sparsities where this format is chosen), int4 values.
 */
#include "mco_fixed_point.h"
#include "mco_kernel_util.h"
#include "mco_sparse.h"

/* The per-group switch must be inlined into the loop (a call per 4 inputs
 * would cost more than the multiplies; GCC does not inline it by itself).
 * It covers every 4-bit value, which GCC is told. */
#if defined(__GNUC__)
#define INLINE_ALWAYS static inline __attribute__((always_inline))
#define NOT_REACHED() __builtin_unreachable()
#else
#define INLINE_ALWAYS static inline
#define NOT_REACHED() ((void)0)
#endif

/* Four inputs with the input offset added, ready to multiply. */
typedef struct {
#if MCO_HAVE_DSP
    int32_t x02, x13;   /* dual16 (x0, x2) and (x1, x3) */
#else
    int32_t x[4];
#endif
} lanes4;

/* The 4 inputs at `in`. */
static inline lanes4 load_lanes(const int8_t *in, int32_t input_offset)
{
    lanes4 l;
#if MCO_HAVE_DSP
    int32_t word = mco_peek_s8x4(in);
    l.x02 = mco_sxtab16(mco_dup16(input_offset), word);
    l.x13 = mco_sxtab16_ror8(mco_dup16(input_offset), word);
#else
    int32_t i;
    for (i = 0; i < 4; i++) l.x[i] = (int32_t)in[i] + input_offset;
#endif
    return l;
}

/* acc + lane `lane` of l times w. */
static inline int32_t mac_lane(int32_t acc, const lanes4 *l, int lane, int32_t w)
{
#if MCO_HAVE_DSP
    switch (lane) {
    case 0: return mco_smlabb(l->x02, w, acc);
    case 1: return mco_smlabb(l->x13, w, acc);
    case 2: return mco_smlatb(l->x02, w, acc);
    default: return mco_smlatb(l->x13, w, acc);
    }
#else
    return acc + l->x[lane] * w;
#endif
}

/* acc plus the products of the lanes whose bit is set in `bits` (low 4)
 * with the next values; advances *values past them. */
INLINE_ALWAYS int32_t mac_group(int32_t acc, const lanes4 *l, uint32_t bits, const int8_t **values)
{
    const int8_t *v = *values;
#define MAC(lane, k) acc = mac_lane(acc, l, lane, (int32_t)v[k])
    switch (bits & 15u) {
    case 0: break;
    case 1: MAC(0, 0); v += 1; break;
    case 2: MAC(1, 0); v += 1; break;
    case 3: MAC(0, 0); MAC(1, 1); v += 2; break;
    case 4: MAC(2, 0); v += 1; break;
    case 5: MAC(0, 0); MAC(2, 1); v += 2; break;
    case 6: MAC(1, 0); MAC(2, 1); v += 2; break;
    case 7: MAC(0, 0); MAC(1, 1); MAC(2, 2); v += 3; break;
    case 8: MAC(3, 0); v += 1; break;
    case 9: MAC(0, 0); MAC(3, 1); v += 2; break;
    case 10: MAC(1, 0); MAC(3, 1); v += 2; break;
    case 11: MAC(0, 0); MAC(1, 1); MAC(3, 2); v += 3; break;
    case 12: MAC(2, 0); MAC(3, 1); v += 2; break;
    case 13: MAC(0, 0); MAC(2, 1); MAC(3, 2); v += 3; break;
    case 14: MAC(1, 0); MAC(2, 1); MAC(3, 2); v += 3; break;
    case 15: MAC(0, 0); MAC(1, 1); MAC(2, 2); MAC(3, 3); v += 4; break;
    default: NOT_REACHED();
    }
#undef MAC
    *values = v;
    return acc;
}

/* One group of 4 inputs for both rows: bits_a / bits_b (low 4 bits) say
 * which of the group's weights are not zero. */
INLINE_ALWAYS void group_dot(const int8_t *in, int32_t input_offset, uint32_t bits_a, uint32_t bits_b,
                             const int8_t **values, int32_t *a0, int32_t *a1)
{
    lanes4 l = load_lanes(in, input_offset);
    *a0 = mac_group(*a0, &l, bits_a, values);
    *a1 = mac_group(*a1, &l, bits_b, values);
}

/* Row `a` and, when `two`, row a + 1 (otherwise its bits read as 0): acc[]
 * holds their biases on entry and their sums on return; *values advances
 * past their non-zeros. The inputs go 8 at a time (one bitmap byte per row,
 * two groups); a last partial byte is read from a zero-padded copy of the
 * inputs (its bits past the end are 0). */
static void rows_dot(const mco_fc_s8_params *p, const int8_t *input, const uint8_t *bitmap_a, int two,
                     const int8_t **values, int32_t acc[2])
{
    const int32_t cols = p->in_size, offset = p->input_offset, full = cols / 8;
    const uint8_t *bitmap_b = bitmap_a + (cols + 7) / 8;
    const int8_t *v = *values, *in = input;
    int8_t tail[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int32_t a0 = acc[0], a1 = acc[1], byte = 0, part;
    memcpy(tail, input + 8 * full, (size_t)(cols - 8 * full));
    for (part = 0; part < 2; part++, in = tail) {   /* the full bytes, then the partial one if any */
        const int32_t end = part ? (cols + 7) / 8 : full;
        for (; byte < end; byte++, in += 8) {
            uint32_t bits_a = bitmap_a[byte], bits_b = two ? bitmap_b[byte] : 0u;
            group_dot(in, offset, bits_a & 15u, bits_b & 15u, &v, &a0, &a1);
            group_dot(in + 4, offset, bits_a >> 4, bits_b >> 4, &v, &a0, &a1);
        }
    }
    acc[0] = a0;
    acc[1] = a1;
    *values = v;
}

static int8_t fc_output(const mco_fc_s8_params *p, int32_t acc, int32_t unit)
{
    return mco_fp_output_s8(acc, p->multiplier[unit], p->shift[unit], p->output_offset, p->act_min,
                            p->act_max);
}

mco_rt_status mco_fully_connected_sparse_s8(const mco_fc_s8_params *p, const int8_t *input,
                                            const uint8_t *sparse_weights, const int32_t *bias,
                                            int8_t *output)
{
    const uint8_t *bitmap;
    const int8_t *values;
    size_t row_bytes;
    int32_t u;
    if (!p || !input || !sparse_weights || !bias || !output || p->in_size <= 0 || p->out_size <= 0 ||
        !mco_quant_valid(p->input_offset, p->output_offset, p->act_min, p->act_max, p->multiplier,
                         p->shift))
        return MCO_RT_ARG_ERROR;
    row_bytes = (size_t)((p->in_size + 7) / 8);
    bitmap = sparse_weights;
    values = (const int8_t *)(const void *)(sparse_weights + row_bytes * (size_t)p->out_size);
    for (u = 0; u < p->out_size; u += 2) {
        int two = u + 1 < p->out_size;
        int32_t acc[2];
        acc[0] = bias[u];
        acc[1] = two ? bias[u + 1] : 0;
        rows_dot(p, input, bitmap + (size_t)u * row_bytes, two, &values, acc);
        output[u] = fc_output(p, acc[0], u);
        if (two) output[u + 1] = fc_output(p, acc[1], u + 1);
    }
    return MCO_RT_OK;
}
