/*
 * mco_sparse.h - sparse int8 weights (from unstructured pruning) and the
 * kernels that run on them: int8 Dense, and int8 Conv2D + clamp + MaxPool
 * 2x2 fused. Zero weights cost neither Flash nor multiply-accumulates.
 *
 * The weights are a matrix of `rows` output channels (Dense units, Conv2D
 * filters) by `cols` (Dense: in_size; Conv2D: kernel_h * kernel_w * in_c,
 * the OHWI order of a filter), stored in one byte array per layer, in one
 * of two forms (mco_sparse_order):
 *
 * MCO_SPARSE_ROWS (Conv2D), "bitmap + values":
 *   bitmap  rows * ceil(cols / 8) bytes: row r's bit j is bit (j % 8) of
 *           byte r * ceil(cols / 8) + j / 8 (least significant bit first);
 *           1 = the weight is not zero
 *   values  the non-zero weights, right after the bitmap, row by row,
 *           columns ascending
 * so rows * ceil(cols / 8) + nonzeros bytes (mco_sparse_s8_bytes).
 *
 * MCO_SPARSE_ROW_PAIRS (Dense), a "group stream": the rows two by two
 * (rows a, b = a + 1; an odd last row alone, as if b were all zero), each
 * pair one run of bytes. The columns go in groups of 4 (the last group
 * padded with zeros); group g of a row has the 4-bit pattern of its
 * non-zero weights (bit c = column 4g + c). Per group, in column order:
 *   - pattern byte  pa | pb << 4 (pa: row a's pattern, pb: row b's), then
 *     row a's non-zero weights of the group, then row b's, each in the
 *     order mco_sparse_group_column() gives (mostly ascending; the two
 *     3-weight patterns {0,1,3} and {0,2,3} store (1, 0, 3) and (0, 3, 2),
 *     so that bytes 0 and 2 are the two columns the DSP kernel multiplies
 *     with one SMLAD);
 *   - but a run of n groups (1 <= n <= 255) empty in both rows is the two
 *     bytes 0, n, and empty groups at the end of the rows are left out;
 *   - the pair ends with the two bytes 0, 0.
 * About 1 bit per weight (half a pattern byte per 4 columns and row) +
 * 1 byte per non-zero + 2 bytes per row pair: smaller than the dense int8
 * matrix once about 1/8 of the weights are zero (mco_sparse_s8_pack
 * counts the exact bytes).
 *
 * Results are bit-identical to the dense kernels on the same weights
 * (mco_fully_connected_s8; mco_conv2d_s8 + mco_max_pool_s8): the sums are
 * the same integers, only the zero products are skipped.
 *
 * Dense (mco_fully_connected_sparse_s8): the input, input offset added, is
 * widened once into int16 pairs on the stack ((x0, x2), (x1, x3) per group
 * of 4: 2 bytes per input, a few KB for a large layer), then each row pair
 * walks its stream. On DSP cores this is threaded code: the pattern byte
 * indexes a 256-entry jump table for row a's nibble, its high nibble a
 * 16-entry one for row b's, each entry the code for exactly that nibble's
 * multiply-accumulates, which ends by jumping through the next table: no
 * loop counter, no bit tests.
 *
 * Conv2D + max pool (mco_conv2d_maxpool2x2_sparse_s8): "valid" padding
 * only. Per filter the bitmap is decoded once into a list of taps (input
 * offset, weight), the input offset is folded into the bias, and every conv
 * output sums just those taps. DSP path (one input channel, stride 1): taps
 * are paired and 4 adjacent conv outputs are done at once: per pair, one
 * word of 4 inputs per tap, PKHBT / PKHTB + SXTB16 make the (tap 1, tap 2)
 * dual16 of each output, and one SMLAD per output adds both products.
 *
 * Speed (Cortex-M4, exact QEMU instruction counts; mnist-paper's 2028 x 10
 * Dense layer magnitude-pruned; mco_sparse_fc_s8_profile gives the same
 * counts): the Dense kernel's assembly costs 5 instructions per non-empty
 * group and row pair (pattern load, input load, the shift to row b's
 * nibble, two table jumps) plus, per row and group, 0 / 2 / 4 / 5 / 5 for
 * 0 / 1 / 2 / 3 / 4 non-zeros; with the widening (5 per 4 inputs) and the
 * outputs, 33,605 instructions at 50 % (3.31 per non-zero; measured 33,667;
 * dense SMLAD kernel: 33,990) and about 25,600 at 75 %. Element-wise
 * sparsity cannot do much better at 50 %: a group of 4 columns holds 2
 * non-zeros on average, which needs at least a dispatch and two weight
 * loads; a dense kernel at 1.35 instructions per weight (2.7 per
 * non-zero at 50 %) beats it, so the planner compares the two
 * (sparse_kind() in src/codegen/plan.c).
 * The conv kernel beats the general dense fused kernel but not the
 * register-blocked dense 3x3 one-channel kernel (about 1.85x its
 * instructions at 50 %).
 *
 * What it leaves out: depthwise convolutions, padding, int4 values, block
 * (structured) sparsity patterns, Dense layers wider than
 * MCO_SPARSE_FC_MAX_IN inputs (the widened input lives on the stack).
 */
#ifndef MCO_SPARSE_H
#define MCO_SPARSE_H

#include <stddef.h>
#include <stdint.h>

#include "mco_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    MCO_SPARSE_ROWS = 0,       /* bitmap + values row by row (the Conv2D kernel) */
    MCO_SPARSE_ROW_PAIRS = 1   /* group stream per row pair (the Dense kernel) */
} mco_sparse_order;

/* Non-zero weights per filter the Conv2D kernel accepts (its tap list
 * lives on the stack); a filter with more gives MCO_RT_NO_IMPL. */
#define MCO_SPARSE_MAX_TAPS 32

/* Inputs of the widest Dense layer the sparse kernel runs (its widened
 * input takes 2 bytes per input of stack); a wider one gives NO_IMPL. */
#define MCO_SPARSE_FC_MAX_IN 4096
/* Words of the kernel's widened input on the stack: two per group of 4
 * inputs, and one zero group past the end. */
#define MCO_SPARSE_FC_WIDE_WORDS(in_size) (2 * (((in_size) + 3) / 4) + 2)

/* Bytes of the MCO_SPARSE_ROWS form of a rows x cols matrix with
 * `nonzeros` non-zero weights: rows * ceil(cols / 8) + nonzeros. */
size_t mco_sparse_s8_bytes(int32_t rows, int32_t cols, size_t nonzeros);

/* Column (0..3) within its group of the i-th stored weight of a 4-column
 * group whose non-zero pattern is `bits` (MCO_SPARSE_ROW_PAIRS),
 * i < the number of bits set. */
static inline int32_t mco_sparse_group_column(uint32_t bits, int32_t i)
{
    static const uint16_t order[16] = {0x0, 0x0, 0x1, 0x10, 0x2, 0x20, 0x21, 0x210,
                                       0x3, 0x30, 0x31, 0x301, 0x32, 0x230, 0x321, 0x3210};
    return (int32_t)((order[bits & 15u] >> (4 * i)) & 15u);
}

/* Packs a dense int8 matrix [rows][cols] into `out` (capacity bytes; NULL
 * to only count). Returns the bytes of the sparse form, or -1 for bad
 * arguments or a too small `out`. */
int32_t mco_sparse_s8_pack(const int8_t *dense, int32_t rows, int32_t cols, mco_sparse_order order,
                           uint8_t *out, int32_t capacity);

/* What the Dense kernel does with a MCO_SPARSE_ROW_PAIRS array. */
typedef struct {
    int32_t row_pairs;
    int32_t groups;          /* non-empty groups over all row pairs (one dispatch each) */
    int32_t skips;           /* runs of empty groups (0, n) */
    int32_t nonzeros;
    int64_t instructions;    /* of mco_fully_connected_sparse_s8 on a Cortex-M4 (DSP path, GCC -O2),
                                call to return: exact for the assembly part, a fit of QEMU counts
                                for the C around it */
} mco_sparse_fc_profile;

/* Walks a packed MCO_SPARSE_ROW_PAIRS array of a rows x cols matrix (host
 * side: the planner's cost model, the resource model). Returns 0, or -1 if
 * the array is not well formed. */
int mco_sparse_fc_s8_profile(const uint8_t *packed, size_t bytes, int32_t rows, int32_t cols,
                             mco_sparse_fc_profile *out);

/* Dense with MCO_SPARSE_ROW_PAIRS weights [out_size][in_size]; bit-identical
 * to mco_fully_connected_s8. in_size > MCO_SPARSE_FC_MAX_IN: NO_IMPL. */
mco_rt_status mco_fully_connected_sparse_s8(const mco_fc_s8_params *p, const int8_t *input,
                                            const uint8_t *sparse_weights, const int32_t *bias,
                                            int8_t *output);

/* Conv2D ("valid": pad_top = pad_left = 0) + clamp + max pool 2x2 stride 2
 * with MCO_SPARSE_ROWS weights [out_c][kernel_h * kernel_w * in_c]; output
 * [out_h / 2][out_w / 2][out_c], bit-identical to mco_conv2d_maxpool2x2_s8.
 * Needs every multiplier >= 0 (ARG_ERROR otherwise) and at most
 * MCO_SPARSE_MAX_TAPS non-zero weights per filter (NO_IMPL otherwise). */
mco_rt_status mco_conv2d_maxpool2x2_sparse_s8(const mco_conv_s8_params *p, const int8_t *input,
                                              const uint8_t *sparse_weights, const int32_t *bias,
                                              int8_t *output);

#ifdef __cplusplus
}
#endif
#endif
