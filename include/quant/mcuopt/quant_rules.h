/*
 * quant_rules.h - pieces of post-training quantization (quantize.c)
 * that quantization-aware training reuses so that its fake quantization
 * and its conversion compute exactly what the quantizer computes: the
 * symmetric weight rule, the model input mapping, which ReLU is fused into
 * its producer, and quantizing with activation ranges given by the caller
 * instead of calibrated ones.
 *
 * What it leaves out: the calibration itself (calibrate.h) and the deploy
 * model facts shared with the .mcq reader (deploy_util.h).
 */
#ifndef MCUOPT_QUANT_RULES_H
#define MCUOPT_QUANT_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "mcuopt/deploy.h"

/* Output channel of flat weight index k of a Conv2D (OHWI), Dense
 * ([units][in]) or DepthwiseConv2D (HWC: the channel is innermost) layer. */
int mco_quant_weight_channel(const mco_layer *l, size_t k);

/* Symmetric integer weights of a weighted layer: scales[mco_deploy_channels(l)]
 * (max|w| / qmax per channel, or the tensor's max for every channel when
 * per_channel is 0; 1 for an all-zero channel) and q[k] = round(w[k] / scale)
 * clamped to [-qmax, qmax]. Fails on a non-finite weight. */
mco_status mco_quant_weights_symmetric(const mco_layer *l, int per_channel, int qmax, float *scales, int8_t *q);

/* The int8 model input: q = raw - 128 for raw uint8 pixels, scale
 * norm.scale / norm.std (see quantize.c). */
mco_status mco_quant_input_qparams(const mco_normalization *norm, mco_qparams *q);

/* The ReLU/ReLU6 that is the only consumer of layer i (and so is fused into
 * it, its output range being the one layer i is quantized with), or -1. */
int mco_quant_fused_activation(const mco_model *m, int i);

/* The int8 output quantization an activation layer has whatever its range
 * (TFLite's): sigmoid and hard_sigmoid scale 1/256, zero point -128; tanh
 * 1/128, 0. Returns 1 and sets *out for those; 0 for every other layer type
 * (LeakyReLU and HardSwish get their calibrated range). */
int mco_quant_activation_fixed_output(mco_layer_type type, mco_qparams *out);

/* The 256-entry int8 table of activation layer l (mco_layer_is_activation)
 * from its input to its output quantization, for the runtime's mco_lut_s8:
 * table[q + 128] = clamp(round(f(in.scale * (q - in.zero_point)) / out.scale)
 * + out.zero_point) with f the exact function (see activation_lut.c). */
mco_status mco_quant_activation_lut(const mco_layer *l, mco_qparams in, mco_qparams out, int8_t table[256]);

/* The 256-entry table taking one int8 input of a concat to the concat's
 * output quantization, TFLite's reference rule
 * (reference_ops::ConcatenationWithScaling, in float32):
 * table[q + 128] = clamp(round(q * s + b) + out.zero_point, -128, 127) with
 * s = in.scale * (1 / out.scale) and b = -in.zero_point * s, round half
 * away from zero. Returns 1 when the input has the output's quantization
 * (it is then copied: the table is the identity), 0 otherwise. Scales must
 * be positive and finite (the deploy model checks them). */
int mco_quant_concat_table(mco_qparams in, mco_qparams out, int8_t table[256]);

/* mco_quantize with the activation ranges given instead of calibrated:
 * lo[i], hi[i] for every layer of the folded model (n_ranges must equal its
 * layer count; only the entries quantize.c reads matter: each Conv2D /
 * DepthwiseConv2D / Dense / Add without a fused activation, each fused
 * ReLU/ReLU6, and each LeakyReLU and HardSwish). */
mco_status mco_quantize_with_ranges(const mco_model *float_model, const float *lo, const float *hi, int n_ranges,
                                    const mco_quant_options *opt, mco_deploy_model *out);

#endif
