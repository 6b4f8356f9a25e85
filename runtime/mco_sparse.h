/*
 * mco_sparse.h - sparse int8 weights (from unstructured pruning) and the
 * kernels that run on them: int8 Dense, and int8 Conv2D + clamp + MaxPool
 * 2x2 fused. Zero weights cost neither Flash nor multiply-accumulates.
 *
 * Format ("bitmap + values", one byte array per layer). The weights are a
 * matrix of `rows` output channels (Dense units, Conv2D filters) by `cols`
 * (Dense: in_size; Conv2D: kernel_h * kernel_w * in_c, the OHWI order of a
 * filter). The array holds
 *   bitmap  rows * ceil(cols / 8) bytes: row r's bit j is bit (j % 8) of
 *           byte r * ceil(cols / 8) + j / 8 (least significant bit first);
 *           1 = the weight is not zero
 *   values  the non-zero weights, right after the bitmap, in the order the
 *           kernel reads them:
 *           MCO_SPARSE_ROWS       row by row, columns ascending (Conv2D)
 *           MCO_SPARSE_ROW_PAIRS  rows two by two (the last one alone when
 *                                 rows is odd); for each pair, group of 4
 *                                 columns by group, the first row's non-zeros
 *                                 of the group, then the second row's (Dense,
 *                                 whose kernel computes two rows per pass)
 * so it takes rows * ceil(cols / 8) + nonzeros bytes: smaller than the dense
 * int8 matrix once more than 1/8 of the weights are zero.
 *
 * Results are bit-identical to the dense kernels on the same weights
 * (mco_fully_connected_s8; mco_conv2d_s8 + mco_max_pool_s8): the sums are
 * the same integers, only the zero products are skipped.
 *
 * Dense (mco_fully_connected_sparse_s8): per group of 4 inputs, the inputs
 * are widened once for both rows of a pair (DSP: two SXTAB16, the input
 * offset added on the way) and a 16-way switch on the row's 4 bitmap bits
 * does exactly the multiply-accumulates of the non-zero weights (SMLABB /
 * SMLATB on the widened lanes), without testing bits one by one.
 *
 * Conv2D + max pool (mco_conv2d_maxpool2x2_sparse_s8): "valid" padding
 * only. Per filter the bitmap is decoded once into a list of taps (input
 * offset, weight), the input offset is folded into the bias, and every conv
 * output sums just those taps. DSP path (one input channel, stride 1): taps
 * are paired and 4 adjacent conv outputs are done at once: per pair, one
 * word of 4 inputs per tap, PKHBT / PKHTB + SXTB16 make the (tap 1, tap 2)
 * dual16 of each output, and one SMLAD per output adds both products.
 *
 * Speed (Cortex-M4, QEMU instruction counts, mnist-paper pruned to 50 %):
 * the Dense kernel takes about twice the instructions of the dense SMLAD
 * kernel, because its bitmap is decoded 4 bits at a time whatever the
 * sparsity (about 3.7 instructions per weight at 50 %, 2.6 at 90 %); the
 * conv kernel beats the general dense fused kernel but not the
 * register-blocked dense 3x3 one-channel kernel, whose SMLADs pair taps for
 * free. So this format saves Flash (the planner takes it where the weights
 * are smaller), not instructions, at moderate sparsity.
 *
 * What it leaves out: depthwise convolutions, padding, int4 values, block
 * (structured) sparsity patterns.
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
    MCO_SPARSE_ROWS = 0,       /* values row by row (the Conv2D kernel) */
    MCO_SPARSE_ROW_PAIRS = 1   /* values interleaved per row pair and 4-column group (Dense) */
} mco_sparse_order;

/* Non-zero weights per filter the Conv2D kernel accepts (its tap list
 * lives on the stack); a filter with more gives MCO_RT_NO_IMPL. */
#define MCO_SPARSE_MAX_TAPS 32

/* Bytes of the sparse form of a rows x cols matrix with `nonzeros` non-zero
 * weights: rows * ceil(cols / 8) + nonzeros. */
size_t mco_sparse_s8_bytes(int32_t rows, int32_t cols, size_t nonzeros);

/* Packs a dense int8 matrix [rows][cols] into `out` (capacity bytes; NULL
 * to only count). Returns the bytes of the sparse form, or -1 for bad
 * arguments or a too small `out`. */
int32_t mco_sparse_s8_pack(const int8_t *dense, int32_t rows, int32_t cols, mco_sparse_order order,
                           uint8_t *out, int32_t capacity);

/* Dense with MCO_SPARSE_ROW_PAIRS weights [out_size][in_size]; bit-identical
 * to mco_fully_connected_s8. */
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
