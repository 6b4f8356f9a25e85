/*
 * mco_runtime.h - the mcuopt MCU runtime: the inference kernels that run on
 * the microcontroller, and that the host uses to evaluate deployed models so
 * that a reported accuracy is the chip's accuracy.
 *
 * Plain C99, no malloc, nothing from libc but <stdint.h>, <stddef.h> and
 * <string.h>. Every kernel takes a flat parameter struct, caller-owned
 * buffers, and returns an mco_rt_status. A kernel that works faster with
 * scratch memory takes a `scratch` pointer and has a _get_buffer_size()
 * companion giving the bytes it needs in this build (0: pass NULL), and a
 * _get_buffer_size_dsp() one giving what a DSP build needs (for a host that
 * plans a target's memory); with NULL scratch it runs its plain path.
 *
 * Tensors: NHWC, batch 1. Weights:
 *   Conv2D           [out_c][kernel_h][kernel_w][in_c]   (OHWI)
 *   DepthwiseConv2D  [kernel_h][kernel_w][c]             (multiplier 1)
 *   Dense            [units][in], `in` = flattened NHWC index of the input
 * Padding is TensorFlow's: pad_total = max((out-1)*stride + k - in, 0),
 * pad_top / pad_left = pad_total / 2 (the extra one goes bottom/right);
 * mco_window_init() computes it. Padded input positions contribute nothing.
 *
 * Weight formats:
 *   f32   float
 *   f16w  IEEE half precision stored as uint16_t, converted in the kernel
 *   s8    int8, symmetric, per output channel (per tensor = same value for
 *         every channel); activations int8 asymmetric; bias int32 with scale
 *         input_scale * weight_scale[c]
 *   s4    like s8 but 4-bit (-8..7), two per byte, low nibble first, packed
 *         over the flat weight index (so a row may start mid-byte)
 *
 * int8 arithmetic is TFLite's / CMSIS-NN's, bit for bit:
 *   acc = bias[c] + sum((x + input_offset) * w)
 *   y = clamp(mco_requantize(acc, multiplier[c], shift[c]) + output_offset,
 *             act_min, act_max)
 * with input_offset = -input_zero_point, output_offset = output_zero_point.
 * A fused ReLU is act_min = output zero point; ReLU6 also sets act_max.
 * acc is an int32 sum, as in TFLite: the caller guarantees that
 * |bias| + max|x + input_offset| * sum|w| fits int32 (the host's .mcq
 * loader proves it for every layer), and that multipliers and shifts are in
 * the ranges the parameter structs state.
 *
 * What it leaves out: batch > 1, int16 activations, fast kernels for
 * dilation, groups and depth multipliers other than 1 (the general
 * convolution below runs them with plain loops). BatchNorm must be folded before deployment; Flatten and
 * Dropout are no-ops (a flattened NHWC tensor is the same bytes).
 */
#ifndef MCO_RUNTIME_H
#define MCO_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    MCO_RT_OK = 0,
    MCO_RT_ARG_ERROR = -1,   /* a NULL pointer, non-positive size or inconsistent shape */
    MCO_RT_NO_IMPL = -2      /* a valid request this runtime does not implement */
} mco_rt_status;

/* ------------------------------------------------------------------------
 * Geometry shared by Conv2D, DepthwiseConv2D and the pools.
 * For depthwise and pools out_c must equal in_c.
 */
typedef struct {
    int32_t in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;
    int32_t kernel_h, kernel_w;
    int32_t stride_h, stride_w;
    int32_t pad_top, pad_left;
} mco_window;

/* Fills *win for an input, kernel, stride and padding (same_padding = 0:
 * "valid", 1: "same"), computing out_h/out_w and the pads as TensorFlow. */
mco_rt_status mco_window_init(mco_window *win, int32_t in_h, int32_t in_w, int32_t in_c,
                              int32_t out_c, int32_t kernel_h, int32_t kernel_w,
                              int32_t stride_h, int32_t stride_w, int same_padding);

/* ------------------------------------------------------------------------
 * Float kernels (f32 activations). act_min / act_max clamp the output
 * (-FLT_MAX/FLT_MAX for none, 0/FLT_MAX for ReLU, 0/6 for ReLU6).
 */
typedef struct {
    mco_window win;
    float act_min, act_max;
} mco_conv_f32_params;           /* Conv2D, DepthwiseConv2D, pools */

typedef struct {
    int32_t in_size, out_size;   /* Dense: units = out_size */
    float act_min, act_max;
} mco_fc_f32_params;

mco_rt_status mco_conv2d_f32(const mco_conv_f32_params *p, const float *input,
                             const float *weights, const float *bias, float *output);
mco_rt_status mco_conv2d_f16w(const mco_conv_f32_params *p, const float *input,
                              const uint16_t *weights, const float *bias, float *output);
mco_rt_status mco_depthwise_conv2d_f32(const mco_conv_f32_params *p, const float *input,
                                       const float *weights, const float *bias, float *output);
mco_rt_status mco_depthwise_conv2d_f16w(const mco_conv_f32_params *p, const float *input,
                                        const uint16_t *weights, const float *bias,
                                        float *output);
mco_rt_status mco_fully_connected_f32(const mco_fc_f32_params *p, const float *input,
                                      const float *weights, const float *bias, float *output);
mco_rt_status mco_fully_connected_f16w(const mco_fc_f32_params *p, const float *input,
                                       const uint16_t *weights, const float *bias,
                                       float *output);
/* Pools: out = act-clamped max / mean over the window's in-bounds inputs
 * (the mean divides by the number of in-bounds inputs, as TensorFlow). */
mco_rt_status mco_max_pool_f32(const mco_conv_f32_params *p, const float *input, float *output);
mco_rt_status mco_avg_pool_f32(const mco_conv_f32_params *p, const float *input, float *output);
/* Average pools dividing by the whole window, padded positions counting as
 * zeros (PyTorch's AvgPool2d default, ONNX count_include_pad=1); windows of
 * at most MCO_AVG_POOL_PAD_MAX_TAPS taps (kernel_h x kernel_w), else
 * MCO_RT_ARG_ERROR. */
#define MCO_AVG_POOL_PAD_MAX_TAPS 65536
mco_rt_status mco_avg_pool_pad_f32(const mco_conv_f32_params *p, const float *input, float *output);
mco_rt_status mco_global_avg_pool_f32(int32_t h, int32_t w, int32_t c, const float *input,
                                      float *output);
/* ReLU, ReLU6 or any clamp, in place. */
mco_rt_status mco_clamp_f32(float *data, int32_t size, float act_min, float act_max);
/* The scalars of a clamp, a float Add or a float Softmax (size = one row)
 * as one record: an emitted model keeps every op's parameters as a const
 * struct and passes its members. */
typedef struct {
    int32_t size;
    float act_min, act_max;
} mco_clamp_f32_params;
/* Concat along the channels: per pixel, input1's channels1 values then
 * input2's channels2 (mco_concat_f32.c, mco_concat_s8.c). */
typedef struct {
    int32_t pixels;                /* height x width of every tensor */
    int32_t channels1, channels2;  /* the output has channels1 + channels2 */
} mco_concat_f32_params;
mco_rt_status mco_concat_f32(const mco_concat_f32_params *p, const float *input1, const float *input2,
                             float *output);
mco_rt_status mco_add_f32(const float *a, const float *b, float *output, int32_t size,
                          float act_min, float act_max);
/* Sigmoid, tanh, LeakyReLU, HardSigmoid, HardSwish (mco_activation_f32.c):
 * `function` is one of these; alpha is LeakyReLU's slope below zero and
 * HardSigmoid's slope, beta HardSigmoid's offset. */
#define MCO_ACTIVATION_SIGMOID 0
#define MCO_ACTIVATION_TANH 1
#define MCO_ACTIVATION_LEAKY_RELU 2
#define MCO_ACTIVATION_HARD_SIGMOID 3
#define MCO_ACTIVATION_HARD_SWISH 4
typedef struct {
    int32_t size;
    int32_t function;
    float alpha, beta;
} mco_activation_f32_params;
mco_rt_status mco_activation_f32(const mco_activation_f32_params *p, const float *input, float *output);
/* Softmax over the last axis: rows of row_size values. Uses mco_exp_f32. */
mco_rt_status mco_softmax_f32(const float *input, float *output, int32_t n_rows,
                              int32_t row_size);
/* exp(x) without libm: 2^(x*log2 e) split into 2^integer (exponent bits)
 * and a degree-6 polynomial for 2^fraction; relative error below 2e-7.
 * Saturates to 0 below -87.3 and to +inf above 88.7. */
float mco_exp_f32(float x);

/* Conv2D + max pool 2x2 stride 2 (floor) + clamp, tile by tile: the conv
 * output is never stored. p->win describes the convolution; the output is
 * [out_h/2][out_w/2][out_c], equal to conv2d_f32 then max_pool_f32. */
mco_rt_status mco_conv2d_maxpool2x2_f32(const mco_conv_f32_params *p, const float *input,
                                        const float *weights, const float *bias,
                                        float *output);

/* ------------------------------------------------------------------------
 * IEEE half precision conversion (integer bit manipulation only).
 * f32 -> f16 rounds to nearest even, overflows to inf, keeps NaN a NaN;
 * f16 -> f32 is exact (subnormals included).
 */
float mco_f16_to_f32(uint16_t h);
uint16_t mco_f32_to_f16(float f);

/* ------------------------------------------------------------------------
 * int8 kernels.
 */
typedef struct {
    mco_window win;
    int32_t input_offset;         /* -input zero point, in [-127, 128] */
    int32_t output_offset;        /* output zero point, in [-128, 127] */
    int32_t act_min, act_max;     /* output clamp, within [-128, 127] */
    const int32_t *multiplier;    /* [out_c] requantization multipliers (> 0) */
    const int32_t *shift;         /* [out_c] their shifts (> 0: left), in [-31, 30] */
} mco_conv_s8_params;             /* Conv2D and DepthwiseConv2D */

typedef struct {
    int32_t in_size, out_size;
    int32_t input_offset, output_offset;
    int32_t act_min, act_max;
    const int32_t *multiplier;    /* [out_size]: per unit; [1] if per_tensor */
    const int32_t *shift;         /* [out_size], or [1] */
    int32_t per_tensor;           /* 1: one weight scale for the layer (TFLite's default for a
                                     Dense layer), so one multiplier and shift serve every unit */
    int32_t interleaved;          /* mco_fully_connected_s8 only, out_size >= MCO_FC_S8_ROWS:
                                     1: the weights in its interleaved layout
                                     (mco_fc_s8_interleave), 0: [out_size][in_size] */
} mco_fc_s8_params;

typedef struct {
    mco_window win;
    int32_t act_min, act_max;     /* output has the input's quantization */
} mco_pool_s8_params;

typedef struct {
    mco_window win;
    int32_t pad_value;            /* what a padded position holds: the input zero point (a real 0) */
    int32_t act_min, act_max;     /* output has the input's quantization */
} mco_avg_pool_pad_s8_params;

typedef struct {
    int32_t size;
    int32_t input1_offset, input2_offset;     /* minus the inputs' zero points */
    int32_t input1_multiplier, input1_shift;  /* scale_i / (2 * max(scale_1, scale_2)); shift in [-31, 0] */
    int32_t input2_multiplier, input2_shift;
    int32_t left_shift;                       /* 20, as TFLite */
    int32_t output_multiplier, output_shift;  /* 2*max(scale)/((1 << left_shift) * out_scale); shift in [-31, 30] */
    int32_t output_offset;
    int32_t act_min, act_max;
} mco_add_s8_params;

typedef struct {
    int32_t n_rows, row_size;
    int32_t input_multiplier;     /* from beta * input_scale (>= 0), see mco_softmax_s8 */
    int32_t input_left_shift;
    int32_t diff_min;             /* inputs further than this below the row max give 0 */
} mco_softmax_s8_params;

mco_rt_status mco_conv2d_s8(const mco_conv_s8_params *p, const int8_t *input,
                            const int8_t *weights, const int32_t *bias, int8_t *output);
/* Same with 4-bit weights (see "s4" above). */
mco_rt_status mco_conv2d_s4(const mco_conv_s8_params *p, const int8_t *input,
                            const uint8_t *packed_weights, const int32_t *bias, int8_t *output);
/* Depthwise: scratch is NULL or holds get_buffer_size(&p->win) bytes,
 * 4-byte aligned (a DSP build runs 3x3 kernels with stride 1 or 2 through
 * it, see mco_depthwise_conv2d_s8.c). */
mco_rt_status mco_depthwise_conv2d_s8(const mco_conv_s8_params *p, const int8_t *input,
                                      const int8_t *weights, const int32_t *bias,
                                      int8_t *output, void *scratch);
int32_t mco_depthwise_conv2d_s8_get_buffer_size(const mco_window *win);
int32_t mco_depthwise_conv2d_s8_get_buffer_size_dsp(const mco_window *win);
/* ------------------------------------------------------------------------
 * The general convolution: a Conv2D with groups or a dilation, a
 * DepthwiseConv2D with a depth multiplier or a dilation (plain C
 * reference kernels, mco_conv_general_f32.c and mco_conv_general_s8.c;
 * the common shapes run the kernels above). The input channels form
 * `groups` equal groups, each read by out_c / groups output channels:
 * output channel o reads the in_c / groups channels of group
 * o / (out_c / groups). Weights:
 *   depthwise 0  [out_c][kernel_h][kernel_w][in_c / groups]   (Conv2D)
 *   depthwise 1  [kernel_h][kernel_w][out_c], groups = in_c   (DepthwiseConv2D,
 *                out_c = in_c x depth multiplier: TFLite's layout)
 * Kernel taps are dilation_h rows and dilation_w columns apart: a window
 * spans (kernel - 1) * dilation + 1 input rows / columns, and the pads
 * before (win.pad_top / pad_left) are below that span. Padded positions
 * add nothing; the int8 arithmetic is the one above.
 */
typedef struct {
    mco_window win;
    int32_t dilation_h, dilation_w;   /* >= 1 */
    int32_t groups;                   /* divides in_c and out_c */
    int32_t depthwise;                /* 1: the depthwise weight layout (groups = in_c) */
} mco_conv_general;

typedef struct {
    mco_conv_general conv;
    float act_min, act_max;
} mco_conv_general_f32_params;

typedef struct {
    mco_conv_general conv;
    int32_t input_offset;         /* -input zero point, in [-127, 128] */
    int32_t output_offset;        /* output zero point, in [-128, 127] */
    int32_t act_min, act_max;     /* output clamp, within [-128, 127] */
    const int32_t *multiplier;    /* [out_c] */
    const int32_t *shift;         /* [out_c] */
} mco_conv_general_s8_params;

mco_rt_status mco_conv_general_f32(const mco_conv_general_f32_params *p, const float *input,
                                   const float *weights, const float *bias, float *output);
mco_rt_status mco_conv_general_s8(const mco_conv_general_s8_params *p, const int8_t *input,
                                  const int8_t *weights, const int32_t *bias, int8_t *output);

/* Dense: MCO_FC_S8_ROWS units per pass over the input; a layer of fewer
 * units takes two per pass, a path a build with MCO_FC_WIDE_ONLY 1 (every
 * Dense layer has MCO_FC_S8_ROWS units or more: mco_config.h) leaves out,
 * and then refuses such a layer with MCO_RT_ARG_ERROR. */
#define MCO_FC_S8_ROWS 5
mco_rt_status mco_fully_connected_s8(const mco_fc_s8_params *p, const int8_t *input,
                                     const int8_t *weights, const int32_t *bias,
                                     int8_t *output);
mco_rt_status mco_fully_connected_s4(const mco_fc_s8_params *p, const int8_t *input,
                                     const uint8_t *packed_weights, const int32_t *bias,
                                     int8_t *output);
/* The interleaved Dense layout (p->interleaved = 1; out_size >= MCO_FC_S8_ROWS):
 * per pass of MCO_FC_S8_ROWS units (the last pass ends at the last unit, so
 * it may repeat rows of the one before) a block of its rows: word j (inputs
 * 4j .. 4j+3) of each row in turn, then the in_size % 4 last inputs of each
 * row in turn. The DSP cores' five-unit pass reads a pass's words from one
 * pointer (see mco_fully_connected_s8.c). _size: the bytes of the layout;
 * _interleave: [out_size][in_size] weights -> dst (that many bytes). */
size_t mco_fc_s8_interleaved_size(int32_t in_size, int32_t out_size);
void mco_fc_s8_interleave(int32_t in_size, int32_t out_size, const int8_t *weights, int8_t *dst);
typedef struct {
    mco_window win;               /* the input (in_h, in_w, in_c); output [in_c] */
    int32_t input_offset;         /* -input zero point, in [-127, 128] */
    int32_t output_offset;        /* output zero point, in [-128, 127] */
    int32_t multiplier, shift;    /* input_scale / output_scale / (in_h * in_w), TFLite's way */
    int32_t act_min, act_max;
} mco_mean_s8_params;

mco_rt_status mco_max_pool_s8(const mco_pool_s8_params *p, const int8_t *input, int8_t *output);
/* Mean rounded half away from zero, as TFLite's AveragePool. */
mco_rt_status mco_avg_pool_s8(const mco_pool_s8_params *p, const int8_t *input, int8_t *output);
/* The same over the whole window (MCO_AVG_POOL_PAD_MAX_TAPS taps at most),
 * each padded position holding pad_value. */
mco_rt_status mco_avg_pool_pad_s8(const mco_avg_pool_pad_s8_params *p, const int8_t *input, int8_t *output);
mco_rt_status mco_global_avg_pool_s8(int32_t h, int32_t w, int32_t c, int32_t act_min,
                                     int32_t act_max, const int8_t *input, int8_t *output);
/* TFLite's int8 MEAN over height and width: requantizes to its own output
 * quantization (see mco_mean_s8.c). */
mco_rt_status mco_mean_s8(const mco_mean_s8_params *p, const int8_t *input, int8_t *output);
/* Standalone ReLU / ReLU6 on int8: a clamp in place (bounds in the tensor's
 * quantized domain, e.g. ReLU: act_min = zero point). */
mco_rt_status mco_clamp_s8(int8_t *data, int32_t size, int32_t act_min, int32_t act_max);
/* The scalars of an int8 clamp, as one record (see mco_clamp_f32_params). */
typedef struct {
    int32_t size;
    int32_t act_min, act_max;
} mco_clamp_s8_params;
/* int8 Concat along the channels: each input copied (its quantization is
 * the output's) or requantized through its 256-entry table, tables[0..255]
 * for input 1 and tables[256..511] for input 2, table[q + 128] = the output
 * value of q (the host computes them: TFLite's reference rule). */
typedef struct {
    int32_t pixels;                /* height x width of every tensor */
    int32_t channels1, channels2;  /* the output has channels1 + channels2 */
    int32_t requantize1, requantize2;  /* 0: copied, 1: through its table */
} mco_concat_s8_params;
mco_rt_status mco_concat_s8(const mco_concat_s8_params *p, const int8_t *input1, const int8_t *input2,
                            const int8_t *tables, int8_t *output);
mco_rt_status mco_add_s8(const mco_add_s8_params *p, const int8_t *input1, const int8_t *input2,
                         int8_t *output);
/* Any int8 element-wise function as a 256-entry table (mco_lut_s8.c):
 * output[i] = table[input[i] + 128]; sigmoid, tanh, LeakyReLU, HardSigmoid
 * and HardSwish run this way. */
typedef struct {
    int32_t size;
} mco_lut_s8_params;
mco_rt_status mco_lut_s8(const mco_lut_s8_params *p, const int8_t *input, const int8_t *table, int8_t *output);
/* TFLite's int8 softmax (gemmlowp fixed point, as CMSIS-NN arm_softmax_s8):
 * output scale 1/256, zero point -128. The host derives the parameters with
 * mco_quant_softmax_params() (src/compress/quant_multiplier.c). */
mco_rt_status mco_softmax_s8(const mco_softmax_s8_params *p, const int8_t *input,
                             int8_t *output);

/* Conv2D + clamp (fused ReLU) + max pool 2x2 stride 2 (floor), tile by tile:
 * output [win.out_h/2][win.out_w/2][out_c], bit-identical to mco_conv2d_s8
 * followed by mco_max_pool_s8. A 3x3 kernel on one input channel (the
 * mnist-paper first layer) takes a register-blocked fast path. */
mco_rt_status mco_conv2d_maxpool2x2_s8(const mco_conv_s8_params *p, const int8_t *input,
                                       const int8_t *weights, const int32_t *bias,
                                       int8_t *output);

/* The same for the common first layer: a 3x3 kernel on one input channel,
 * stride 1, "valid" padding, activation range [-128, 127] with output zero
 * point -128 (ReLU), per channel
 * multiplier >= 0, shift in [-22, -1] and a bias that keeps the sums below
 * 2^30; register-blocked with SMLAD on DSP cores. Bit-identical to
 * mco_conv2d_maxpool2x2_s8. Its `requant` holds MCO_CONV3X3_REQUANT_WORDS
 * words per output channel, which mco_conv3x3_maxpool2x2_s8_prepare()
 * computes from the bias, multipliers and shifts (p->multiplier and p->shift
 * are not read); prepare returns 1 if the layer is in the kernel's case
 * (requant may be NULL to only ask), 0 otherwise. */
#define MCO_CONV3X3_REQUANT_WORDS 3
/* Stack bytes of its assembly path (DSP cores, shape in mco_config.h): the
 * input widened to int16. */
#define MCO_CONV3X3_WIDE_BYTES(in_h, in_w) (2 * (in_h) * (in_w))
mco_rt_status mco_conv3x3_maxpool2x2_s8(const mco_conv_s8_params *p, const int8_t *input,
                                        const int8_t *weights, const int32_t *requant,
                                        int8_t *output);
int mco_conv3x3_maxpool2x2_s8_prepare(const mco_conv_s8_params *p, const int8_t *weights, const int32_t *bias,
                                      int32_t *requant);

/* ------------------------------------------------------------------------
 * Fixed-point helpers (TFLite / gemmlowp semantics), exported for tests and
 * the host quantizer. The kernels use the inline copies in mco_fixed_point.h.
 */
int32_t mco_requantize(int32_t acc, int32_t multiplier, int32_t shift);
int32_t mco_saturating_rounding_doubling_high_mul(int32_t a, int32_t b);
int32_t mco_rounding_divide_by_pot(int32_t x, int32_t exponent);

/* int4 packing: value i of a packed array (low nibble first), and storing one. */
int32_t mco_s4_get(const uint8_t *packed, size_t index);
void mco_s4_set(uint8_t *packed, size_t index, int32_t value);   /* value in [-8, 7] */

/* ------------------------------------------------------------------------
 * ConvTranspose2D (mco_conv_transpose2d_f32.c, mco_conv_transpose2d_s8.c):
 * a transposed convolution, group 1, dilation 1, weights OHWI (the
 * equivalent convolution's, not flipped). The window reads as its own:
 * input in_h x in_w x in_c, output out_h x out_w x out_c, pad_top /
 * pad_left the rows / columns cropped before the output; input pixel
 * (iy, ix) reaches output (oy, ox) through tap (ky, kx) when
 * oy + pad_top = iy * stride_h + ky (columns alike). The padding after and
 * the output padding follow from out_h / out_w. int8: TFLite's
 * TRANSPOSE_CONV arithmetic, per-channel requantization as Conv2D's.
 */
mco_rt_status mco_conv_transpose2d_f32(const mco_conv_f32_params *p, const float *input, const float *weights,
                                       const float *bias, float *output);
mco_rt_status mco_conv_transpose2d_s8(const mco_conv_s8_params *p, const int8_t *input, const int8_t *weights,
                                      const int32_t *bias, int8_t *output);

#ifdef __cplusplus
}
#endif
#endif
