/*
 * mco_kernel_util.h - internal helpers shared by the kernels: clipping a
 * kernel window to the input, dot products (float, half-stored, int8 with
 * a DSP path, int4), and the Conv2D window sum used by both the plain and
 * the fused convolutions (so they agree bit for bit).
 *
 * Not part of the runtime's API: include mco_runtime.h instead.
 */
#ifndef MCO_KERNEL_UTIL_H
#define MCO_KERNEL_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mco_arch.h"
#include "mco_fixed_point.h"
#include "mco_runtime.h"

/* ---- the int8 Dense output stage --------------------------------------- */

/* Unit `unit` of an int8 Dense layer from its accumulator: its multiplier
 * and shift (entry 0 for every unit when p->per_tensor), the output zero
 * point and the activation clamp. */
static inline int8_t mco_fc_output_s8(const mco_fc_s8_params *p, int32_t acc, int32_t unit)
{
    int32_t q = p->per_tensor ? 0 : unit;
    return mco_fp_output_s8(acc, p->multiplier[q], p->shift[q], p->output_offset, p->act_min, p->act_max);
}

/* ---- windows ---------------------------------------------------------- */

/* The part of the kernel window of output pixel (oy, ox) that lies inside
 * the input: kernel rows [ky_lo, ky_hi), columns [kx_lo, kx_hi); the
 * window's top-left input pixel is (y0, x0) (may be negative). */
typedef struct {
    int32_t y0, x0;
    int32_t ky_lo, ky_hi, kx_lo, kx_hi;
} mco_clip;

static inline mco_clip mco_clip_window(const mco_window *w, int32_t oy, int32_t ox)
{
    mco_clip c;
    c.y0 = oy * w->stride_h - w->pad_top;
    c.x0 = ox * w->stride_w - w->pad_left;
    c.ky_lo = c.y0 < 0 ? -c.y0 : 0;
    c.kx_lo = c.x0 < 0 ? -c.x0 : 0;
    c.ky_hi = w->in_h - c.y0 < w->kernel_h ? w->in_h - c.y0 : w->kernel_h;
    c.kx_hi = w->in_w - c.x0 < w->kernel_w ? w->in_w - c.x0 : w->kernel_w;
    return c;
}

/* Checks a window's fields; depthwise and pools also need out_c == in_c. */
static inline int mco_window_valid(const mco_window *w, int same_channels)
{
    return w->in_h > 0 && w->in_w > 0 && w->in_c > 0 && w->out_h > 0 && w->out_w > 0 &&
           w->out_c > 0 && w->kernel_h > 0 && w->kernel_w > 0 && w->stride_h > 0 &&
           w->stride_w > 0 && w->pad_top >= 0 && w->pad_left >= 0 &&
           w->pad_top < w->kernel_h && w->pad_left < w->kernel_w &&
           (!same_channels || w->out_c == w->in_c);
}

/* 1 if a general convolution's geometry is consistent (mco_runtime.h):
 * the window's sizes positive, the pads below the dilated span, groups
 * dividing both channel counts (every input channel, for depthwise). */
static inline int mco_conv_general_valid(const mco_conv_general *g)
{
    const mco_window *w = &g->win;
    if (!(w->in_h > 0 && w->in_w > 0 && w->in_c > 0 && w->out_h > 0 && w->out_w > 0 && w->out_c > 0 &&
          w->kernel_h > 0 && w->kernel_w > 0 && w->stride_h > 0 && w->stride_w > 0 && g->dilation_h > 0 &&
          g->dilation_w > 0 && g->groups > 0 && w->pad_top >= 0 && w->pad_left >= 0))
        return 0;
    if (w->in_c % g->groups != 0 || w->out_c % g->groups != 0 || (g->depthwise && g->groups != w->in_c))
        return 0;
    return (int64_t)w->pad_top < (int64_t)(w->kernel_h - 1) * g->dilation_h + 1 &&
           (int64_t)w->pad_left < (int64_t)(w->kernel_w - 1) * g->dilation_w + 1;
}

/* How a general convolution addresses its weights (both kernels): output
 * channel oc belongs to group oc / group_out and reads that group's
 * group_in input channels; the weight of output oc, kernel tap t (ky *
 * kernel_w + kx) and group input i is at oc * w_out + t * w_tap + i * w_in
 * (depthwise: [kh][kw][out_c], one input per output). `g` must be valid. */
typedef struct {
    int32_t group_in, group_out;
    size_t w_out, w_tap, w_in;
} mco_conv_general_layout;

static inline void mco_conv_general_layout_of(const mco_conv_general *g, mco_conv_general_layout *l)
{
    const mco_window *w = &g->win;
    l->group_in = w->in_c / g->groups;
    l->group_out = w->out_c / g->groups;
    l->w_out = g->depthwise ? 1u : (size_t)w->kernel_h * (size_t)w->kernel_w * (size_t)l->group_in;
    l->w_tap = g->depthwise ? (size_t)w->out_c : (size_t)l->group_in;
    l->w_in = g->depthwise ? 0u : 1u;
}

/* The window of a global average pool: one output pixel covering h x w.
 * (Filled here, not by mco_window_init, so the kernels never depend on a
 * same-named host symbol.) */
static inline mco_window mco_global_window(int32_t h, int32_t w, int32_t c)
{
    mco_window win;
    win.in_h = win.kernel_h = h;
    win.in_w = win.kernel_w = w;
    win.in_c = win.out_c = c;
    win.out_h = win.out_w = 1;
    win.stride_h = win.stride_w = 1;
    win.pad_top = win.pad_left = 0;
    return win;
}

/* ---- float ------------------------------------------------------------ */

static inline float mco_bits_to_float(uint32_t bits)
{
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static inline uint32_t mco_float_to_bits(float f)
{
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    return bits;
}

/* IEEE half -> float, exact. */
static inline float mco_half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exponent = (uint32_t)(h >> 10) & 0x1Fu;
    uint32_t mantissa = (uint32_t)h & 0x3FFu;
    if (exponent == 0x1Fu) return mco_bits_to_float(sign | 0x7F800000u | (mantissa << 13));
    if (exponent != 0) return mco_bits_to_float(sign | ((exponent + 112u) << 23) | (mantissa << 13));
    if (mantissa == 0) return mco_bits_to_float(sign);
    exponent = 113u;   /* subnormal: normalise so the leading 1 is implicit */
    while ((mantissa & 0x400u) == 0) {
        mantissa <<= 1;
        exponent--;
    }
    return mco_bits_to_float(sign | (exponent << 23) | ((mantissa & 0x3FFu) << 13));
}

static inline float mco_dot_f32(float acc, const float *a, const float *b, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; i++) acc += a[i] * b[i];
    return acc;
}

static inline float mco_dot_f16w(float acc, const float *a, const uint16_t *b, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; i++) acc += a[i] * mco_half_to_float(b[i]);
    return acc;
}

/* Weights of a float kernel: exactly one of the pointers is set. */
typedef struct {
    const float *f32;
    const uint16_t *f16;
} mco_float_weights;

static inline mco_float_weights mco_float_weights_f32(const float *w)
{
    mco_float_weights fw;
    fw.f32 = w;
    fw.f16 = NULL;
    return fw;
}

static inline mco_float_weights mco_float_weights_f16(const uint16_t *w)
{
    mco_float_weights fw;
    fw.f32 = NULL;
    fw.f16 = w;
    return fw;
}

static inline float mco_dot_fw(float acc, const float *a, mco_float_weights w, size_t offset,
                               int32_t n)
{
    return w.f32 ? mco_dot_f32(acc, a, w.f32 + offset, n) : mco_dot_f16w(acc, a, w.f16 + offset, n);
}

static inline float mco_clamp_f(float v, float lo, float hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

/* Conv2D: bias + window sum of output pixel (oy, ox), channel oc. */
static inline float mco_conv_window_f32(const mco_window *w, const float *input,
                                        mco_float_weights weights, float bias, int32_t oc,
                                        int32_t oy, int32_t ox)
{
    mco_clip c = mco_clip_window(w, oy, ox);
    int32_t row_len = (c.kx_hi - c.kx_lo) * w->in_c;
    size_t channel = (size_t)oc * (size_t)(w->kernel_h * w->kernel_w * w->in_c);
    float acc = bias;
    int32_t ky;
    for (ky = c.ky_lo; ky < c.ky_hi; ky++) {
        /* One kernel row is contiguous in both the input and the weights. */
        const float *in = input + ((size_t)(c.y0 + ky) * (size_t)w->in_w + (size_t)(c.x0 + c.kx_lo)) * (size_t)w->in_c;
        size_t w_off = channel + (size_t)((ky * w->kernel_w + c.kx_lo) * w->in_c);
        acc = mco_dot_fw(acc, in, weights, w_off, row_len);
    }
    return acc;
}

/* ---- int8 / int4 ------------------------------------------------------- */

/* acc + sum((input[i] + input_offset) * w[i]). The DSP path does four MACs
 * per step with two SMLADs; the scalar loop finishes the tail. */
static inline int32_t mco_dot_s8(int32_t acc, const int8_t *input, const int8_t *w, int32_t n,
                                 int32_t input_offset)
{
#if MCO_HAVE_DSP
    const int32_t offset2 = mco_dup16(input_offset);
    for (; n >= 4; n -= 4) {
        int32_t x = mco_read_s8x4(&input);
        int32_t wv = mco_read_s8x4(&w);
        acc = mco_smlad(mco_sxtb16(wv), mco_sxtab16(offset2, x), acc);
        acc = mco_smlad(mco_sxtb16_ror8(wv), mco_sxtab16_ror8(offset2, x), acc);
    }
#endif
    for (; n > 0; n--) acc += ((int32_t)*input++ + input_offset) * (int32_t)*w++;
    return acc;
}

/* Two weight rows against one input: acc[0] += input.w0, acc[1] += input.w1.
 * The input words are loaded and widened once for both rows. */
static inline void mco_dot2_s8(int32_t acc[2], const int8_t *input, const int8_t *w0,
                               const int8_t *w1, int32_t n, int32_t input_offset)
{
    int32_t a0 = acc[0], a1 = acc[1];
#if MCO_HAVE_DSP
    const int32_t offset2 = mco_dup16(input_offset);
    for (; n >= 4; n -= 4) {
        int32_t x = mco_read_s8x4(&input);
        int32_t x02 = mco_sxtab16(offset2, x), x13 = mco_sxtab16_ror8(offset2, x);
        int32_t wa = mco_read_s8x4(&w0), wb = mco_read_s8x4(&w1);
        a0 = mco_smlad(mco_sxtb16(wa), x02, a0);
        a0 = mco_smlad(mco_sxtb16_ror8(wa), x13, a0);
        a1 = mco_smlad(mco_sxtb16(wb), x02, a1);
        a1 = mco_smlad(mco_sxtb16_ror8(wb), x13, a1);
    }
#endif
    for (; n > 0; n--) {
        int32_t x = (int32_t)*input++ + input_offset;
        a0 += x * (int32_t)*w0++;
        a1 += x * (int32_t)*w1++;
    }
    acc[0] = a0;
    acc[1] = a1;
}

/* Signed 4-bit value `index` of a packed array, low nibble first. */
static inline int32_t mco_s4_at(const uint8_t *packed, size_t index)
{
    uint32_t byte = packed[index >> 1];
    uint32_t nibble = (index & 1u) ? (byte >> 4) : (byte & 0xFu);
    return (int32_t)(nibble ^ 8u) - 8;
}

/* acc + sum((input[i] + input_offset) * w4[start + i]). Scalar only. */
static inline int32_t mco_dot_s4(int32_t acc, const int8_t *input, const uint8_t *packed,
                                 size_t start, int32_t n, int32_t input_offset)
{
    int32_t i;
    for (i = 0; i < n; i++) acc += ((int32_t)input[i] + input_offset) * mco_s4_at(packed, start + (size_t)i);
    return acc;
}

/* Weights of an integer kernel: exactly one of the pointers is set. */
typedef struct {
    const int8_t *s8;
    const uint8_t *s4;
} mco_int_weights;

/* Conv2D window sums of output pixel (oy, ox) for channel oc (acc[0]) and,
 * when `two`, channel oc + 1 (acc[1]); acc holds the biases on entry. */
static inline void mco_conv_window_s8(const mco_conv_s8_params *p, const int8_t *input,
                                      mco_int_weights weights, int32_t oc, int two, int32_t oy,
                                      int32_t ox, int32_t acc[2])
{
    const mco_window *w = &p->win;
    mco_clip c = mco_clip_window(w, oy, ox);
    int32_t row_len = (c.kx_hi - c.kx_lo) * w->in_c;
    size_t channel_size = (size_t)(w->kernel_h * w->kernel_w * w->in_c);
    size_t channel = (size_t)oc * channel_size;
    int32_t ky;
    for (ky = c.ky_lo; ky < c.ky_hi; ky++) {
        const int8_t *in = input + ((size_t)(c.y0 + ky) * (size_t)w->in_w + (size_t)(c.x0 + c.kx_lo)) * (size_t)w->in_c;
        size_t w_off = channel + (size_t)((ky * w->kernel_w + c.kx_lo) * w->in_c);
        if (weights.s8 && two) {
            mco_dot2_s8(acc, in, weights.s8 + w_off, weights.s8 + w_off + channel_size, row_len,
                        p->input_offset);
        } else if (weights.s8) {
            acc[0] = mco_dot_s8(acc[0], in, weights.s8 + w_off, row_len, p->input_offset);
        } else {
            acc[0] = mco_dot_s4(acc[0], in, weights.s4, w_off, row_len, p->input_offset);
            if (two)
                acc[1] = mco_dot_s4(acc[1], in, weights.s4, w_off + channel_size, row_len,
                                    p->input_offset);
        }
    }
}

/* Checks the int8 quantization fields shared by conv and dense. */
static inline int mco_quant_valid(int32_t input_offset, int32_t output_offset, int32_t act_min,
                                  int32_t act_max, const int32_t *multiplier, const int32_t *shift)
{
    return multiplier && shift && input_offset >= -127 && input_offset <= 128 &&
           output_offset >= -128 && output_offset <= 127 && act_min >= -128 &&
           act_max <= 127 && act_min <= act_max;
}

/* ---- transposed windows (ConvTranspose2D) ------------------------------ */

/* The taps of a transposed convolution along one axis that reach output
 * position o (mco_conv_transpose2d_*.c): tap k reads input index
 * (o + pad - k) / stride where that divides evenly and lies in [0, in).
 * Returns the first such tap (kernel when there is none) and sets *i to its
 * input index; the next ones are tap + stride, tap + 2 stride, ... reading
 * *i - 1, *i - 2, ..., while the tap is below kernel and the index >= 0. */
static inline int32_t mco_transposed_first_tap(int32_t o, int32_t pad, int32_t stride, int32_t kernel, int32_t in,
                                               int32_t *i)
{
    int32_t k = (o + pad) % stride;
    int32_t idx = (o + pad - k) / stride;
    if (idx >= in) {   /* the taps whose input lies past the end */
        k += (idx - in + 1) * stride;
        idx = in - 1;
    }
    *i = idx;
    return k < kernel ? k : kernel;
}

#endif
