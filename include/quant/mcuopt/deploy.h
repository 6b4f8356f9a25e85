/*
 * deploy.h - a model prepared for the MCU: BatchNorm folded, Dropout gone,
 * and every weight and activation in its deployed number format (float32,
 * float16 weights, int8 weights, int8 weights + activations, int4 weights,
 * mixed per layer). Produced by post-training quantization (src/compress/),
 * consumed by the planner, the host evaluator and the code generator
 * (src/codegen/).
 *
 * Quantization follows the TFLite int8 specification:
 *   real = scale * (q - zero_point)
 *   weights: int8 symmetric (zero_point 0), range [-127, 127], per output
 *            channel or per tensor (then every channel has the same scale);
 *            int4: [-7, 7]
 *   activations: int8 asymmetric, [-128, 127]
 *   bias: int32, scale = input_scale * weight_scale[c], zero point 0
 *   requantization: multiplier/shift from input_scale * weight_scale[c] /
 *                   output_scale (mco_quantize_multiplier)
 * With float activations (activation_format MCO_ACT_F32) int8/int4 weight
 * layers are stored quantized and dequantized when the host builds the plan
 * or when the generated code is compiled; see the code generator.
 */
#ifndef MCUOPT_DEPLOY_H
#define MCUOPT_DEPLOY_H

#include <stdint.h>

#include "mcuopt/data.h"
#include "mcuopt/graph.h"
#include "mcuopt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    MCO_WEIGHTS_F32 = 0,
    MCO_WEIGHTS_F16 = 1,
    MCO_WEIGHTS_S8 = 2,
    MCO_WEIGHTS_S4 = 3
} mco_weight_format;

typedef enum {
    MCO_ACT_F32 = 0,   /* float activations (float32, float16 weights, int8 weights-only) */
    MCO_ACT_S8 = 1     /* int8 activations: full integer inference */
} mco_activation_format;

typedef struct {
    float scale;
    int32_t zero_point;
} mco_qparams;

/* How activation ranges are chosen from calibration data. */
typedef enum {
    MCO_CALIBRATE_MINMAX = 0,         /* the observed min/max */
    MCO_CALIBRATE_PERCENTILE = 1,     /* the `percentile` and 100 - `percentile` percentiles */
    MCO_CALIBRATE_MSE = 2             /* the clipping range with least quantization MSE */
} mco_calibration;

/* The deployed form of one layer of mco_deploy_model.model. Arrays are
 * malloc'd and owned; those that a format does not use are NULL. */
typedef struct {
    mco_weight_format weight_format;  /* for layers with weights; F32 otherwise */
    int per_channel;                  /* weight scales per output channel */
    int n_channels;                   /* output channels (conv filters, dense units, dw channels) */
    float *weight_scales;             /* [n_channels] for S8/S4 (all equal when per tensor) */
    int8_t *weights_q;                /* S8/S4: one value per weight (S4 values in [-7, 7], unpacked) */
    uint16_t *weights_f16;            /* F16: IEEE half, same layout as the float weights */
    int32_t *bias_q;                  /* S8 activations: [n_channels] int32 bias */
    int32_t *multiplier;              /* S8 activations: [n_channels] requantization */
    int32_t *shift;                   /* S8 activations: [n_channels] */
    mco_qparams output;               /* S8 activations: this layer's output quantization */
} mco_deploy_layer;

typedef struct {
    mco_model model;                  /* folded float model: shapes and float parameters */
    mco_activation_format activation_format;
    mco_qparams input;                /* S8: quantization of the model input */
    mco_deploy_layer *layers;         /* [model.n_layers] */
    mco_calibration calibration;      /* S8: how activation ranges were chosen (for reports) */
} mco_deploy_model;

/* Which weight tensors get one scale per output channel. */
typedef enum {
    MCO_GRANULARITY_TFLITE = 0,   /* per channel for Conv2D and DepthwiseConv2D, one scale for a Dense
                                     layer: TFLite's int8 quantization specification (the default) */
    MCO_GRANULARITY_PER_CHANNEL,  /* per channel in every layer */
    MCO_GRANULARITY_PER_TENSOR    /* one scale per layer */
} mco_weight_granularity;

/* 1 if layer l's weights get one scale per output channel under g. */
int mco_granularity_per_channel(mco_weight_granularity g, const mco_layer *l);

/* How a float model becomes a deploy model. */
typedef struct {
    mco_activation_format activation_format;
    mco_weight_format weight_format;  /* default for every weighted layer */
    const mco_weight_format *layer_formats;  /* optional [n_layers] override (mixed precision), indexed
                                        by the layer index of the folded model; NULL: use weight_format */
    mco_weight_granularity granularity;
    int symmetric_activations;        /* 1: activation zero point 0 (range [-127, 127] scaled) */
    mco_calibration calibration;
    float percentile;                 /* e.g. 99.99 */
    int calibration_samples;          /* samples taken from the calibration set, spread evenly over it
                                         (mco_dataset_spread_indices, data.h; default 1000) */
    int threads;
    const struct mco_calib_engine *engine; /* the float forward calibration runs on (calibrate.h);
                                        NULL (default): mco_calib_forward, one image at a time */
} mco_quant_options;

void mco_quant_options_default(mco_quant_options *opt);

/* Folds the float model and quantizes it. `calibration` (training images)
 * is needed for MCO_ACT_S8 and may be NULL otherwise. */
mco_status mco_quantize(const mco_model *float_model, const mco_dataset *calibration,
                        const mco_quant_options *opt, mco_deploy_model *out);

/* A deploy model with everything float32 (no quantization): folds only. */
mco_status mco_deploy_from_float(const mco_model *float_model, mco_deploy_model *out);

void mco_deploy_free(mco_deploy_model *dm);

/* Bytes the layer's parameters take in Flash in its deployed format
 * (weights, bias, scales, multipliers and shifts). */
size_t mco_deploy_layer_bytes(const mco_deploy_model *dm, int layer);
size_t mco_deploy_weight_bytes(const mco_deploy_model *dm);

/* Short description, e.g. "int8 (per-channel weights, int8 activations, minmax)". */
void mco_deploy_describe(const mco_deploy_model *dm, char *buf, size_t size);

/* Deploy model files (.mcq): the folded float model plus the quantized
 * tensors, versioned and CRC-checked like .mco files, written atomically. */
mco_status mco_deploy_save(const mco_deploy_model *dm, const char *path);
mco_status mco_deploy_load(const char *path, mco_deploy_model *dm);

/* The value checks mco_deploy_load makes of every layer (scales, zero
 * points, multipliers and shifts in range; no int32 accumulator can
 * overflow for any input), on a model in memory: for an importer, so that
 * what it builds is refused before it is written rather than when read
 * back. MCO_ERR_FORMAT and "layer i (name): ..." otherwise. */
mco_status mco_deploy_check(const mco_deploy_model *dm);

#ifdef __cplusplus
}
#endif
#endif
