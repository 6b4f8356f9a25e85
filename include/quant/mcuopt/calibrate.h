/*
 * calibrate.h - the helpers of post-training quantization (calibrate.c): a plain
 * single-sample float forward pass that keeps every layer's output, range
 * observers (min/max plus a histogram), the three ways of choosing a
 * clipping range from them, and the TFLite rule that turns a range into int8
 * scale and zero point.
 *
 * What it leaves out: batching and threads (calibration runs one image at a
 * time; 1000 MNIST images take well under a second; a batched engine can be
 * plugged in, mco_calib_engine), and float16 or
 * quantized forward passes (the host evaluator in src/codegen/ does those).
 */
#ifndef MCO_COMPRESS_CALIBRATE_H
#define MCO_COMPRESS_CALIBRATE_H

#include <stddef.h>
#include <stdint.h>

#include "mcuopt/deploy.h"
#include "mcuopt/graph.h"
#include "mcuopt/status.h"

/* ---- Float reference forward ---- */

/* One buffer per layer output, sized from the model's inferred shapes. */
typedef struct {
    int n_layers;
    float **outputs;   /* [n_layers], outputs[i] has mco_shape_size(layers[i].out_shape) floats */
} mco_calib_activations;

mco_status mco_calib_activations_init(mco_calib_activations *acts, const mco_model *model);
void mco_calib_activations_free(mco_calib_activations *acts);

/* Runs `model` (inference mode: BatchNorm with moving statistics, Dropout as
 * identity) on one normalised input and fills every layer's output. */
mco_status mco_calib_forward(const mco_model *model, const float *input,
                             mco_calib_activations *acts);

/* A faster float forward that quantization can calibrate on instead of
 * mco_calib_forward (mco_quant_options.engine), e.g. the training engine's
 * batched one (mco_train_calib_engine, mcuopt/train.h; an area above this
 * one, hence the table of functions). Its outputs are the same values up
 * to float rounding, so ranges may differ in their last bits.
 *   open   prepares for `model` and up to max_batch inputs at a time
 *   run    takes `batch` normalised inputs, one after another, and returns
 *          in *outputs one pointer per layer: layer i's outputs for the
 *          batch, sample after sample (valid until the next run or close)
 *   close  frees what open made */
typedef struct mco_calib_engine {
    mco_status (*open)(const mco_model *model, int max_batch, void **state);
    mco_status (*run)(void *state, const float *inputs, int batch, float *const **outputs);
    void (*close)(void *state);
} mco_calib_engine;

/* ---- Range observers ---- */

#define MCO_CALIB_HIST_BINS 2048

/* Collects the min/max of a tensor over many samples (first pass) and, for
 * percentile and MSE calibration, a histogram over that fixed [min, max]
 * (second pass). */
typedef struct {
    float min, max;      /* observed; min > max while nothing was seen */
    double *counts;      /* NULL, or MCO_CALIB_HIST_BINS bins over [hist_lo, hist_hi] */
    float hist_lo, hist_hi;
    double total;
} mco_calib_observer;

void mco_calib_observer_init(mco_calib_observer *obs);
void mco_calib_observer_free(mco_calib_observer *obs);
void mco_calib_observe_minmax(mco_calib_observer *obs, const float *x, size_t n);
/* Allocates the histogram over the min/max observed so far. */
mco_status mco_calib_histogram_init(mco_calib_observer *obs);
void mco_calib_observe_histogram(mco_calib_observer *obs, const float *x, size_t n);

/* The clipping range [*lo, *hi] by `method` (the histogram is needed for
 * percentile and MSE). With `symmetric` the range is chosen as [-t, t]. */
void mco_calib_choose_range(const mco_calib_observer *obs, mco_calibration method,
                            float percentile, int symmetric, float *lo, float *hi);

/* ---- Ranges to quantization parameters ---- */

/* TFLite's ChooseQuantizationParams: the range is widened to include 0, the
 * scale is (hi - lo) / 255 over [-128, 127] and the zero point is rounded
 * ("nudged") so that real 0 is exactly representable. Symmetric: zero point
 * 0, scale max(|lo|, |hi|) / 127. An empty range gets scale 1/255. */
mco_qparams mco_calib_qparams_from_range(float lo, float hi, int symmetric);

/* Mean squared error of quantizing then dequantizing x[0..n) with `qp`
 * (int8, clamped to [-128, 127]). Used by the MSE search and by tests. */
double mco_calib_quant_mse(const float *x, size_t n, mco_qparams qp);

#endif
