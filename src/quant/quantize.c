/*
 * quantize.c - post-training quantization (mco_quantize, see deploy.h):
 * folds the float model, stores every Conv2D / DepthwiseConv2D / Dense
 * layer's weights in its chosen format, and for int8 activations calibrates
 * activation ranges on training samples and derives every tensor's scale and
 * zero point, the int32 biases and the requantization multipliers.
 *
 * Conventions (TFLite's int8 scheme, see deploy.h):
 *   weights    S8: q = round(w / s), s = max|w| / 127, q in [-127, 127];
 *              S4: s = max|w| / 7, q in [-7, 7]; per output channel, or one
 *              scale for the tensor. An all-zero channel gets scale 1.
 *              F16: IEEE half, round to nearest even (mco_f32_to_f16).
 *              The float parameters of dm->model are kept unchanged.
 *   model input  q = raw - 128 for raw uint8 pixels: scale = norm.scale /
 *              norm.std, zero point = round(norm.mean / norm.scale - 128)
 *              (clamped to [-128, 127]). Real input = (raw * norm.scale -
 *              norm.mean) / norm.std = scale * (raw - mean / norm.scale), so
 *              the rounding of mean / norm.scale is the only approximation.
 *              This holds with symmetric activations too.
 *              float32 samples (features): the normalised input's range,
 *              calibrated like an activation's (by the chosen method) but
 *              always asymmetric, as for raw pixels.
 *   Conv2D, DepthwiseConv2D, Dense, Add: their own calibrated range -- but
 *              when a ReLU/ReLU6 is the layer's only consumer, the range
 *              observed AFTER that ReLU (so the planner can fuse it as
 *              act_min = zero point, as TFLite fuses activations).
 *   ReLU, ReLU6, MaxPool, AvgPool, GlobalAvgPool, Flatten, Dropout: the
 *              qparams of their input (the runtime's pools and in-place
 *              clamps do not requantize).
 *   Softmax:   scale 1/256, zero point -128 (TFLite), even with symmetric
 *              activations.
 *   Sigmoid, HardSigmoid: scale 1/256, zero point -128; Tanh: 1/128, 0
 *              (TFLite's fixed output ranges); LeakyReLU, HardSwish: their
 *              own calibrated range. All five run as a 256-entry lookup
 *              table the planner builds (mco_quant_activation_lut).
 *   bias_q[c] = round(bias[c] / (input_scale * weight_scale[c])), saturated
 *              to int32; multiplier/shift = mco_quantize_multiplier(
 *              input_scale * weight_scale[c] / output_scale).
 *
 * mco_quantize_with_ranges (mcuopt/quant_rules.h) does the same with activation
 * ranges given by the caller, e.g. learnt by quantization-aware training.
 *
 * What it leaves out: BatchNorm layers that folding could not remove (with
 * int8 activations they are rejected), weight clipping other than max|w|,
 * bias correction, and threads (opt->threads is ignored: calibration of 1000
 * MNIST images takes about a second on one core).
 */
#include "mcuopt/deploy.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcuopt/calibrate.h"
#include "mcuopt/deploy_util.h"
#include "mcuopt/quant_multiplier.h"
#include "mcuopt/quant_rules.h"
#include "mco_runtime.h"

/* ---- Options and formats ---- */

static int weight_format_valid(mco_weight_format f)
{
    return f == MCO_WEIGHTS_F32 || f == MCO_WEIGHTS_F16 || f == MCO_WEIGHTS_S8 || f == MCO_WEIGHTS_S4;
}

static mco_status check_options(const mco_quant_options *opt)
{
    if (opt->activation_format != MCO_ACT_F32 && opt->activation_format != MCO_ACT_S8)
        return mco_error(MCO_ERR_ARG, "unknown activation format %d", (int)opt->activation_format);
    if (!weight_format_valid(opt->weight_format))
        return mco_error(MCO_ERR_ARG, "unknown weight format %d", (int)opt->weight_format);
    if (opt->calibration != MCO_CALIBRATE_MINMAX && opt->calibration != MCO_CALIBRATE_PERCENTILE &&
        opt->calibration != MCO_CALIBRATE_MSE)
        return mco_error(MCO_ERR_ARG, "unknown calibration method %d", (int)opt->calibration);
    if (opt->calibration == MCO_CALIBRATE_PERCENTILE && !(opt->percentile > 50.0f && opt->percentile <= 100.0f))
        return mco_error(MCO_ERR_ARG, "percentile %g is not in (50, 100]", (double)opt->percentile);
    if (opt->activation_format == MCO_ACT_S8 && opt->calibration_samples < 1)
        return mco_error(MCO_ERR_ARG, "calibration needs at least one sample, not %d", opt->calibration_samples);
    return MCO_OK;
}

/* Gives every weighted layer its format and checks it fits the activations. */
static mco_status assign_formats(mco_deploy_model *dm, const mco_quant_options *opt)
{
    for (int i = 0; i < dm->model.n_layers; i++) {
        const mco_layer *l = &dm->model.layers[i];
        if (opt->activation_format == MCO_ACT_S8 && l->type == MCO_LAYER_BATCHNORM)
            return mco_error(MCO_ERR_UNSUPPORTED,
                             "layer %d (%s): a BatchNorm that does not follow a conv/dense layer cannot be "
                             "folded, and int8 inference has no BatchNorm kernel", i, l->name);
        if (!mco_deploy_is_weighted(l)) continue;
        mco_weight_format f = opt->layer_formats ? opt->layer_formats[i] : opt->weight_format;
        if (!weight_format_valid(f))
            return mco_error(MCO_ERR_ARG, "layer %d (%s): unknown weight format %d", i, l->name, (int)f);
        if (opt->activation_format == MCO_ACT_S8 && f != MCO_WEIGHTS_S8 && f != MCO_WEIGHTS_S4)
            return mco_error(MCO_ERR_ARG,
                             "layer %d (%s): %s weights cannot be used with int8 activations (only int8 or int4)",
                             i, l->name, f == MCO_WEIGHTS_F16 ? "float16" : "float32");
        dm->layers[i].weight_format = f;
        dm->layers[i].per_channel = mco_granularity_per_channel(opt->granularity, l);
    }
    dm->activation_format = opt->activation_format;
    dm->calibration = opt->calibration;
    return MCO_OK;
}

/* ---- Weights ---- */

int mco_quant_weight_channel(const mco_layer *l, size_t k)
{
    size_t n = l->params[MCO_PARAM_WEIGHTS].size, channels = (size_t)mco_deploy_channels(l);
    if (l->type == MCO_LAYER_DEPTHWISE_CONV2D) return (int)(k % channels);
    return (int)(k / (n / channels));
}

static mco_status quantize_weights_f16(const mco_layer *l, mco_deploy_layer *d)
{
    const mco_param *w = &l->params[MCO_PARAM_WEIGHTS];
    d->weights_f16 = malloc(w->size * sizeof *d->weights_f16);
    if (!d->weights_f16) return mco_error(MCO_ERR_NOMEM, "%s: out of memory for float16 weights", l->name);
    for (size_t k = 0; k < w->size; k++) d->weights_f16[k] = mco_f32_to_f16(w->data[k]);
    return MCO_OK;
}

int mco_granularity_per_channel(mco_weight_granularity g, const mco_layer *l)
{
    return g == MCO_GRANULARITY_PER_CHANNEL || (g == MCO_GRANULARITY_TFLITE && l->type != MCO_LAYER_DENSE);
}

mco_status mco_quant_weights_symmetric(const mco_layer *l, int per_channel, int qmax, float *scales, int8_t *q)
{
    const mco_param *w = &l->params[MCO_PARAM_WEIGHTS];
    int channels = mco_deploy_channels(l);
    float *absmax = scales;   /* first the max |w| per channel, then the scale */
    for (int c = 0; c < channels; c++) absmax[c] = 0.0f;
    for (size_t k = 0; k < w->size; k++) {
        int c = mco_quant_weight_channel(l, k);
        absmax[c] = fmaxf(absmax[c], fabsf(w->data[k]));
    }
    if (!per_channel) {
        float all = 0.0f;
        for (int c = 0; c < channels; c++) all = fmaxf(all, absmax[c]);
        for (int c = 0; c < channels; c++) absmax[c] = all;
    }
    for (int c = 0; c < channels; c++) {
        if (!isfinite(absmax[c]))
            return mco_error(MCO_ERR_RANGE, "%s: channel %d has a non-finite weight", l->name, c);
        scales[c] = absmax[c] > 0.0f ? absmax[c] / (float)qmax : 1.0f;
    }
    for (size_t k = 0; k < w->size; k++) {
        float s = scales[mco_quant_weight_channel(l, k)];
        double v = round((double)w->data[k] / s);
        q[k] = (int8_t)(v < -qmax ? -qmax : v > qmax ? qmax : v);
    }
    return MCO_OK;
}

/* S8 / S4: symmetric scales (per channel or per tensor) and the integer values. */
static mco_status quantize_weights_int(const mco_layer *l, mco_deploy_layer *d)
{
    d->weight_scales = calloc((size_t)d->n_channels, sizeof *d->weight_scales);
    d->weights_q = malloc(l->params[MCO_PARAM_WEIGHTS].size);
    if (!d->weight_scales || !d->weights_q)
        return mco_error(MCO_ERR_NOMEM, "%s: out of memory for quantized weights", l->name);
    return mco_quant_weights_symmetric(l, d->per_channel, mco_deploy_weight_qmax(d->weight_format),
                                       d->weight_scales, d->weights_q);
}

static mco_status quantize_all_weights(mco_deploy_model *dm)
{
    for (int i = 0; i < dm->model.n_layers; i++) {
        const mco_layer *l = &dm->model.layers[i];
        mco_deploy_layer *d = &dm->layers[i];
        if (!mco_deploy_is_weighted(l)) continue;
        mco_status st = MCO_OK;
        if (d->weight_format == MCO_WEIGHTS_F16) st = quantize_weights_f16(l, d);
        else if (d->weight_format == MCO_WEIGHTS_S8 || d->weight_format == MCO_WEIGHTS_S4)
            st = quantize_weights_int(l, d);
        if (st != MCO_OK) return st;
    }
    return MCO_OK;
}

/* ---- Calibration ---- */

#define ENGINE_BATCH 50   /* calibration images per run of a batched engine */

/* Feeds the observers: pass 0 records min/max, pass 1 the histogram. */
static void observe(mco_calib_observer *obs, int pass, const float *x, size_t n)
{
    if (pass == 0) mco_calib_observe_minmax(obs, x, n);
    else mco_calib_observe_histogram(obs, x, n);
}

/* Runs the float model over the n calibration samples indices[0..n-1]
 * (mco_dataset_spread_indices: spread over the set): pass 0 records
 * every layer's min/max, pass 1 (percentile, MSE) its histogram; obs[n_layers]
 * observes the model input. With an engine the samples go through it in
 * batches (the observers do not depend on the order they see values in:
 * min, max and whole-number counts). */
static mco_status observe_pass(const mco_model *m, const mco_dataset *ds, const int *indices, int n, int pass,
                               const mco_calib_engine *engine, mco_calib_observer *obs)
{
    size_t in_size = mco_shape_size(m->input_shape);
    int chunk = engine ? (n < ENGINE_BATCH ? n : ENGINE_BATCH) : 1;
    float *input = malloc((size_t)chunk * in_size * sizeof *input);
    mco_calib_activations acts = {0};
    void *state = NULL;
    if (!input) return mco_error(MCO_ERR_NOMEM, "out of memory for a calibration input");
    mco_status st = engine ? engine->open(m, chunk, &state) : mco_calib_activations_init(&acts, m);
    for (int s = 0; st == MCO_OK && s < n; s += chunk) {
        int count = n - s < chunk ? n - s : chunk;
        float *const *outputs = acts.outputs;
        mco_dataset_to_float(ds, &m->norm, indices + s, 0, count, input);
        observe(&obs[m->n_layers], pass, input, (size_t)count * in_size);
        st = engine ? engine->run(state, input, count, &outputs) : mco_calib_forward(m, input, &acts);
        for (int i = 0; st == MCO_OK && i < m->n_layers; i++)
            observe(&obs[i], pass, outputs[i], (size_t)count * mco_shape_size(m->layers[i].out_shape));
    }
    if (engine && state) engine->close(state);
    mco_calib_activations_free(&acts);
    free(input);
    return st;
}

/* Every layer's output range [lo[i], hi[i]] by the chosen method, and in
 * lo[n_layers], hi[n_layers] the model input's (never symmetric). */
static mco_status calibrate_ranges(const mco_model *m, const mco_dataset *ds, const mco_quant_options *opt,
                                   float *lo, float *hi)
{
    if (!ds || ds->n < 1)
        return mco_error(MCO_ERR_ARG, "int8 activations need calibration samples (none given)");
    mco_shape s = ds->shape, in = m->input_shape;
    if (s.h != in.h || s.w != in.w || s.c != in.c)
        return mco_error(MCO_ERR_SHAPE, "calibration samples are %dx%dx%d, the model takes %dx%dx%d", s.h, s.w,
                         s.c, in.h, in.w, in.c);
    int n = opt->calibration_samples < ds->n ? opt->calibration_samples : ds->n;
    int n_obs = m->n_layers + 1;
    mco_calib_observer *obs = calloc((size_t)n_obs, sizeof *obs);
    int *indices = malloc((size_t)n * sizeof *indices);
    if (!obs || !indices) {
        free(obs);
        free(indices);
        return mco_error(MCO_ERR_NOMEM, "out of memory for calibration");
    }
    mco_dataset_spread_indices(ds->n, n, indices);
    for (int i = 0; i < n_obs; i++) mco_calib_observer_init(&obs[i]);

    mco_status st = observe_pass(m, ds, indices, n, 0, opt->engine, obs);
    if (st == MCO_OK && opt->calibration != MCO_CALIBRATE_MINMAX) {
        for (int i = 0; st == MCO_OK && i < n_obs; i++) st = mco_calib_histogram_init(&obs[i]);
        if (st == MCO_OK) st = observe_pass(m, ds, indices, n, 1, opt->engine, obs);
    }
    for (int i = 0; i < n_obs; i++) {
        const char *name = i < m->n_layers ? m->layers[i].name : "input";
        if (st == MCO_OK && !(isfinite(obs[i].min) && isfinite(obs[i].max)))
            st = i < m->n_layers ? mco_error(MCO_ERR_RANGE, "layer %d (%s): calibration saw non-finite outputs", i, name)
                                 : mco_error(MCO_ERR_RANGE, "calibration: %s has non-finite input values", ds->name);
        if (st == MCO_OK)
            mco_calib_choose_range(&obs[i], opt->calibration, opt->percentile,
                                   i < m->n_layers && opt->symmetric_activations, &lo[i], &hi[i]);
        mco_calib_observer_free(&obs[i]);
    }
    free(obs);
    free(indices);
    return st;
}

/* ---- Activation quantization parameters ---- */

mco_status mco_quant_input_qparams(const mco_normalization *norm, mco_qparams *q)
{
    if (!(norm->scale > 0.0f && norm->std > 0.0f))
        return mco_error(MCO_ERR_UNSUPPORTED, "int8 input needs a positive normalisation scale and std "
                                              "(scale %g, std %g)", (double)norm->scale, (double)norm->std);
    double zp = round((double)norm->mean / norm->scale - 128.0);
    q->scale = (float)((double)norm->scale / norm->std);
    q->zero_point = (int32_t)(zp < -128.0 ? -128.0 : zp > 127.0 ? 127.0 : zp);
    return MCO_OK;
}

static mco_qparams layer_input_q(const mco_deploy_model *dm, int input)
{
    return input == MCO_INPUT ? dm->input : dm->layers[input].output;
}

int mco_quant_fused_activation(const mco_model *m, int i)
{
    int consumer = -1, count = 0;
    for (int j = i + 1; j < m->n_layers; j++)
        for (int k = 0; k < m->layers[j].n_inputs; k++)
            if (m->layers[j].inputs[k] == i) {
                consumer = j;
                count++;
            }
    if (count != 1) return -1;
    mco_layer_type t = m->layers[consumer].type;
    return t == MCO_LAYER_RELU || t == MCO_LAYER_RELU6 ? consumer : -1;
}

static void assign_activation_qparams(mco_deploy_model *dm, const float *lo, const float *hi, int symmetric)
{
    const mco_model *m = &dm->model;
    for (int i = 0; i < m->n_layers; i++) {
        const mco_layer *l = &m->layers[i];
        mco_qparams *out = &dm->layers[i].output;
        if (l->type == MCO_LAYER_CONCAT) {   /* its own range: each input is requantized to it (TFLite) */
            *out = mco_calib_qparams_from_range(lo[i], hi[i], symmetric);
        } else if (mco_deploy_is_weighted(l) || l->type == MCO_LAYER_ADD) {
            int relu = mco_quant_fused_activation(m, i);
            int from = relu >= 0 ? relu : i;
            *out = mco_calib_qparams_from_range(lo[from], hi[from], symmetric);
        } else if (l->type == MCO_LAYER_SOFTMAX) {
            *out = (mco_qparams){1.0f / 256.0f, -128};
        } else if (mco_layer_is_activation(l->type)) {
            if (!mco_quant_activation_fixed_output(l->type, out))
                *out = mco_calib_qparams_from_range(lo[i], hi[i], symmetric);
        } else {
            *out = layer_input_q(dm, l->inputs[0]);   /* relu, pools, flatten, dropout */
        }
    }
}

/* int32 bias, multiplier and shift per channel of weighted layer i. */
static mco_status integer_params(mco_deploy_model *dm, int i)
{
    const mco_layer *l = &dm->model.layers[i];
    mco_deploy_layer *d = &dm->layers[i];
    size_t c_count = (size_t)d->n_channels;
    d->bias_q = malloc(c_count * sizeof *d->bias_q);
    d->multiplier = malloc(c_count * sizeof *d->multiplier);
    d->shift = malloc(c_count * sizeof *d->shift);
    if (!d->bias_q || !d->multiplier || !d->shift)
        return mco_error(MCO_ERR_NOMEM, "%s: out of memory for int8 parameters", l->name);
    double in_scale = layer_input_q(dm, l->inputs[0]).scale, out_scale = d->output.scale;
    const float *bias = l->params[MCO_PARAM_BIAS].data;
    for (size_t c = 0; c < c_count; c++) {
        double bias_scale = in_scale * d->weight_scales[c];
        double b = round(bias[c] / bias_scale);
        d->bias_q[c] = (int32_t)(b < INT32_MIN ? INT32_MIN : b > INT32_MAX ? INT32_MAX : b);
        if (mco_quantize_multiplier(bias_scale / out_scale, &d->multiplier[c], &d->shift[c]) != MCO_OK) {
            char why[256];
            snprintf(why, sizeof why, "%s", mco_last_error());
            return mco_error(MCO_ERR_RANGE, "layer %d (%s): channel %zu: %s", i, l->name, c, why);
        }
    }
    return MCO_OK;
}

/* Every tensor's qparams from the per-layer ranges, then the integer
 * parameters of the weighted layers. The input's come from input_range
 * ([lo, hi] of float32 samples) or, when it is NULL, from the normalisation
 * of raw uint8 samples. */
static mco_status activations_from_ranges(mco_deploy_model *dm, const float *input_range, const float *lo,
                                          const float *hi, int symmetric)
{
    mco_status st = MCO_OK;
    if (input_range) dm->input = mco_calib_qparams_from_range(input_range[0], input_range[1], 0);
    else st = mco_quant_input_qparams(&dm->model.norm, &dm->input);
    if (st == MCO_OK) assign_activation_qparams(dm, lo, hi, symmetric);
    for (int i = 0; st == MCO_OK && i < dm->model.n_layers; i++)
        if (mco_deploy_is_weighted(&dm->model.layers[i])) st = integer_params(dm, i);
    return st;
}

static mco_status quantize_activations(mco_deploy_model *dm, const mco_dataset *calibration,
                                       const mco_quant_options *opt)
{
    int n = dm->model.n_layers;
    float *lo = calloc((size_t)n + 1, sizeof *lo), *hi = calloc((size_t)n + 1, sizeof *hi);
    mco_status st = lo && hi ? MCO_OK : mco_error(MCO_ERR_NOMEM, "out of memory for calibration");
    if (st == MCO_OK) st = calibrate_ranges(&dm->model, calibration, opt, lo, hi);
    if (st == MCO_OK) {   /* calibrate_ranges checked that calibration is there */
        float input_range[2] = {lo[n], hi[n]};
        st = activations_from_ranges(dm, calibration->sample_type == MCO_SAMPLE_U8 ? NULL : input_range, lo, hi,
                                     opt->symmetric_activations);
    }
    free(lo);
    free(hi);
    return st;
}

/* Folds, assigns formats and quantizes the weights: everything but the activations. */
static mco_status quantize_weights_of(const mco_model *float_model, const mco_quant_options *opt,
                                      mco_deploy_model *out)
{
    memset(out, 0, sizeof *out);
    mco_status st = check_options(opt);
    if (st != MCO_OK) return st;
    if ((st = mco_deploy_from_float(float_model, out)) != MCO_OK) return st;
    st = assign_formats(out, opt);
    if (st == MCO_OK) st = quantize_all_weights(out);
    if (st != MCO_OK) mco_deploy_free(out);
    return st;
}

mco_status mco_quantize(const mco_model *float_model, const mco_dataset *calibration,
                        const mco_quant_options *opt, mco_deploy_model *out)
{
    mco_status st = quantize_weights_of(float_model, opt, out);
    if (st != MCO_OK) return st;
    if (opt->activation_format == MCO_ACT_S8) st = quantize_activations(out, calibration, opt);
    if (st != MCO_OK) mco_deploy_free(out);
    return st;
}

mco_status mco_quantize_with_ranges(const mco_model *float_model, const float *lo, const float *hi, int n_ranges,
                                    const mco_quant_options *opt, mco_deploy_model *out)
{
    mco_status st = quantize_weights_of(float_model, opt, out);
    if (st != MCO_OK) return st;
    if (out->model.n_layers != n_ranges)
        st = mco_error(MCO_ERR_SHAPE, "activation ranges are given for %d layers, the folded model has %d",
                       n_ranges, out->model.n_layers);
    for (int i = 0; st == MCO_OK && i < n_ranges; i++)
        if (!(isfinite(lo[i]) && isfinite(hi[i]) && lo[i] <= hi[i]))
            st = mco_error(MCO_ERR_RANGE, "layer %d (%s): activation range [%g, %g] is not a finite interval", i,
                           out->model.layers[i].name, (double)lo[i], (double)hi[i]);
    if (st == MCO_OK && opt->activation_format == MCO_ACT_S8)
        st = activations_from_ranges(out, NULL, lo, hi, opt->symmetric_activations);
    if (st != MCO_OK) mco_deploy_free(out);
    return st;
}
