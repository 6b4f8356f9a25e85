/*
 * mco_conv_blocked.h - the register-blocked int8 convolutions: a general
 * Conv2D through an im2col scratch (mco_conv2d_im2col_s8) and the 1x1
 * convolution of any stride as a matrix multiply (mco_conv1x1_s8), both
 * bit-identical to mco_conv2d_s8 (TFLite's int8 arithmetic), and the block
 * product they share (mco_conv_block_s8.c).
 *
 * How they work: four output pixels at a time, their input windows
 * ("columns", K = kernel_h * kernel_w * in_c values each) are widened to
 * int16 with the input offset added (0 where the window leaves the input)
 * into a scratch buffer; then, two output channels at a time, eight
 * accumulators (4 pixels x 2 channels) take the whole K loop in registers:
 * each weight word is loaded and sign-extended once for the four pixels,
 * each widened input word once for the two channels (16 SMLADs per 10 loads
 * and 4 SXTB16s on DSP cores).
 *
 * Weights are int8 in Flash, never widened, in a blocked order the planner
 * writes once (mco_conv_blocked_s8_reorder): per pair of output channels
 * (c0, c1) and per step of four k (k0..k3), eight bytes
 *     c0k0 c1k0 c0k2 c1k2   c0k1 c1k1 c0k3 c1k3
 * so that SXTB16 of the first word gives c0's (k0, k2) and, rotated, c1's
 * (k0, k2): the halves of the widened input word (x0, x2) of each pixel.
 * K is padded to a multiple of 4 and the channels to a multiple of 2 with
 * zero weights: mco_conv_blocked_s8_weights_size() bytes in all.
 *
 * The scratch (the caller's, e.g. a place in the model's arena; `_get_buffer_size`
 * gives its bytes, 4-byte aligned) holds the four columns, per step of four
 * k 16 int16: (x0, x2) of pixels 0..3, then (x1, x3) of pixels 0..3, and
 * K int8 bytes to assemble a column that cannot be widened in place.
 *
 * What it leaves out: dilation, int4 weights, groups.
 */
#ifndef MCO_CONV_BLOCKED_H
#define MCO_CONV_BLOCKED_H

#include <stddef.h>
#include <stdint.h>

#include "mco_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes of the blocked weights of a conv with out_c channels of k weights. */
size_t mco_conv_blocked_s8_weights_size(int32_t out_c, int32_t k);
/* Writes the blocked weights of OHWI weights [out_c][k] into dst
 * (mco_conv_blocked_s8_weights_size bytes). */
void mco_conv_blocked_s8_reorder(int32_t out_c, int32_t k, const int8_t *weights, int8_t *dst);

/* Conv2D, any kernel, stride and padding ("same" / "valid" as mco_window
 * gives them); weights blocked. */
mco_rt_status mco_conv2d_im2col_s8(const mco_conv_s8_params *p, const int8_t *input,
                                   const int8_t *weights, const int32_t *bias, int8_t *output,
                                   void *scratch);
int32_t mco_conv2d_im2col_s8_get_buffer_size(const mco_window *win);

/* Conv2D + clamp + max pool 2x2 stride 2 (floor), the conv output never
 * stored: output [win.out_h / 2][win.out_w / 2][out_c], bit-identical to
 * mco_conv2d_s8 then mco_max_pool_s8; multipliers >= 0; weights blocked;
 * the scratch of mco_conv2d_im2col_s8. */
mco_rt_status mco_conv2d_maxpool2x2_im2col_s8(const mco_conv_s8_params *p, const int8_t *input,
                                              const int8_t *weights, const int32_t *bias, int8_t *output,
                                              void *scratch);

/* Conv2D with a 1x1 kernel, any stride, no padding; weights blocked. With
 * out_c <= in_c, output may be input (the op runs in place). */
mco_rt_status mco_conv1x1_s8(const mco_conv_s8_params *p, const int8_t *input, const int8_t *weights,
                             const int32_t *bias, int8_t *output, void *scratch);
int32_t mco_conv1x1_s8_get_buffer_size(const mco_window *win);

/* ---- the shared block product (internal to the kernels above) ---------- */

/* The k of a window padded to whole steps of four. */
#define MCO_BLOCK_K_PAD(k) (((k) + 3) & ~3)
/* Scratch bytes for columns of k values: four int16 columns and one int8. */
#define MCO_BLOCK_SCRATCH_BYTES(k) (9 * MCO_BLOCK_K_PAD(k))

/* Widens `runs` runs of run_steps x 4 int8 values (plus input_offset), run
 * r at src + r * run_stride, into consecutive steps of column `pixel`
 * (0..3) of the block at cols. */
void mco_conv_block_s8_widen(void *cols, int32_t pixel, const int8_t *src, int32_t runs, int32_t run_steps,
                             size_t run_stride, int32_t input_offset);
/* Column `pixel` of the block: the window of output pixel (oy, ox) of p's
 * convolution (padding widened as 0): straight from the input when the
 * window lies inside it and its kernel rows are whole words, else through
 * the scratch's int8 column. */
void mco_conv_block_s8_im2col(const mco_conv_s8_params *p, const int8_t *input, void *cols, int32_t pixel,
                              int32_t oy, int32_t ox);
/* Moves output pixel (*oy, *ox) one step on in row-major order over a
 * row of out_w pixels. */
static inline void mco_conv_block_next_pixel(int32_t *oy, int32_t *ox, int32_t out_w)
{
    if (++*ox == out_w) {
        *ox = 0;
        ++*oy;
    }
}
/* All output channels of the four columns at cols (k_steps steps of four k):
 * pixel i (i < n_valid) of the block is written at out + i * out_c; with
 * `pool` the four pixels are a max pool's window and only their max is
 * written, at out (multipliers must then be >= 0). */
void mco_conv_block_s8_run(const mco_conv_s8_params *p, int32_t k_steps, const int8_t *weights,
                           const int32_t *bias, const void *cols, int8_t *out, int32_t n_valid, int pool);

#ifdef __cplusplus
}
#endif
#endif
