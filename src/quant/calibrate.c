/*
 * calibrate.c - activation calibration for post-training quantization (see
 * calibrate.h): a deliberately plain float forward pass, min/max and
 * histogram observers, minmax / percentile / MSE range selection, and the
 * range-to-(scale, zero point) rule of TFLite.
 *
 * The forward pass is a reference, written for clarity rather than speed:
 * direct loops, one sample, padding before the data from
 * mco_layer_pad_before (the padding after follows from the output size),
 * average pools dividing by the number of in-bounds inputs. It is
 * independent of the training engine so that quantization does not depend
 * on it.
 *
 * What it leaves out: threads, batches, and any layer type not in graph.h.
 */
#include "mcuopt/calibrate.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- Float reference forward ---- */

mco_status mco_calib_activations_init(mco_calib_activations *acts, const mco_model *model)
{
    acts->n_layers = model->n_layers;
    acts->outputs = calloc((size_t)model->n_layers, sizeof *acts->outputs);
    if (!acts->outputs) return mco_error(MCO_ERR_NOMEM, "out of memory for calibration buffers");
    for (int i = 0; i < model->n_layers; i++) {
        acts->outputs[i] = malloc(mco_shape_size(model->layers[i].out_shape) * sizeof(float));
        if (!acts->outputs[i]) {
            mco_calib_activations_free(acts);
            return mco_error(MCO_ERR_NOMEM, "out of memory for calibration buffers");
        }
    }
    return MCO_OK;
}

void mco_calib_activations_free(mco_calib_activations *acts)
{
    if (acts->outputs)
        for (int i = 0; i < acts->n_layers; i++) free(acts->outputs[i]);
    free(acts->outputs);
    acts->outputs = NULL;
    acts->n_layers = 0;
}

/* Conv2D (weights OHWI) and DepthwiseConv2D (weights HWC), with any
 * dilation, groups and depth multiplier (mco_layer_conv_groups). */
static void conv_forward(const mco_layer *l, const float *in, float *out)
{
    mco_shape is = l->in_shape, os = l->out_shape;
    const float *w = l->params[MCO_PARAM_WEIGHTS].data, *bias = l->params[MCO_PARAM_BIAS].data;
    mco_conv_groups g;
    int pt, pl;
    mco_layer_conv_groups(l, &g);
    mco_layer_pad_before(l, &pt, &pl);
    for (int oy = 0; oy < os.h; oy++)
        for (int ox = 0; ox < os.w; ox++)
            for (int oc = 0; oc < os.c; oc++) {
                float acc = bias[oc];
                int ic0 = oc / g.group_out * g.group_in;
                for (int ky = 0; ky < l->kernel_h; ky++) {
                    int iy = oy * l->stride_h - pt + ky * l->dilation_h;
                    if (iy < 0 || iy >= is.h) continue;
                    for (int kx = 0; kx < l->kernel_w; kx++) {
                        int ix = ox * l->stride_w - pl + kx * l->dilation_w;
                        if (ix < 0 || ix >= is.w) continue;
                        const float *px = in + ((size_t)iy * is.w + ix) * is.c + ic0;
                        const float *wk = w + (size_t)oc * g.w_out + (size_t)(ky * l->kernel_w + kx) * g.w_tap;
                        for (int ic = 0; ic < g.group_in; ic++) acc += px[ic] * wk[(size_t)ic * g.w_in];
                    }
                }
                out[((size_t)oy * os.w + ox) * os.c + oc] = acc;
            }
}

/* ConvTranspose2D, written as the scatter it is: every input pixel adds
 * x * w into the output pixels its taps reach (oy = iy * stride + ky -
 * pad_top), the pads cropped (the training loops gather instead). */
static void conv_transpose_forward(const mco_layer *l, const float *in, float *out)
{
    mco_shape is = l->in_shape, os = l->out_shape;
    const float *w = l->params[MCO_PARAM_WEIGHTS].data, *bias = l->params[MCO_PARAM_BIAS].data;
    size_t taps = (size_t)l->kernel_h * l->kernel_w * is.c;
    for (size_t k = 0; k < mco_shape_size(os); k++) out[k] = bias[k % (size_t)os.c];
    for (int iy = 0; iy < is.h; iy++)
        for (int ix = 0; ix < is.w; ix++)
            for (int ky = 0; ky < l->kernel_h; ky++) {
                int oy = iy * l->stride_h + ky - l->pad_top;
                if (oy < 0 || oy >= os.h) continue;
                for (int kx = 0; kx < l->kernel_w; kx++) {
                    int ox = ix * l->stride_w + kx - l->pad_left;
                    if (ox < 0 || ox >= os.w) continue;
                    const float *px = in + ((size_t)iy * is.w + ix) * is.c;
                    float *po = out + ((size_t)oy * os.w + ox) * os.c;
                    for (int oc = 0; oc < os.c; oc++) {
                        const float *wk = w + (size_t)oc * taps + ((size_t)ky * l->kernel_w + kx) * is.c;
                        float acc = 0.0f;
                        for (int ic = 0; ic < is.c; ic++) acc += px[ic] * wk[ic];
                        po[oc] += acc;
                    }
                }
            }
}

static void dense_forward(const mco_layer *l, const float *in, float *out)
{
    size_t n_in = mco_shape_size(l->in_shape);
    const float *w = l->params[MCO_PARAM_WEIGHTS].data, *bias = l->params[MCO_PARAM_BIAS].data;
    for (int u = 0; u < l->units; u++) {
        float acc = bias[u];
        for (size_t k = 0; k < n_in; k++) acc += in[k] * w[(size_t)u * n_in + k];
        out[u] = acc;
    }
}

/* Max pool (is_max = 1) or average pool over the in-bounds inputs. */
static void pool_forward(const mco_layer *l, const float *in, float *out, int is_max)
{
    mco_shape is = l->in_shape, os = l->out_shape;
    int pt, pl;
    mco_layer_pad_before(l, &pt, &pl);
    for (int oy = 0; oy < os.h; oy++)
        for (int ox = 0; ox < os.w; ox++)
            for (int c = 0; c < os.c; c++) {
                float acc = is_max ? -FLT_MAX : 0.0f;
                int count = 0;
                for (int ky = 0; ky < l->kernel_h; ky++) {
                    int iy = oy * l->stride_h - pt + ky;
                    if (iy < 0 || iy >= is.h) continue;
                    for (int kx = 0; kx < l->kernel_w; kx++) {
                        int ix = ox * l->stride_w - pl + kx;
                        if (ix < 0 || ix >= is.w) continue;
                        float v = in[((size_t)iy * is.w + ix) * is.c + c];
                        acc = is_max ? (v > acc ? v : acc) : acc + v;
                        count++;
                    }
                }
                if (l->count_pad) count = l->kernel_h * l->kernel_w;   /* the padding counts as zeros */
                out[((size_t)oy * os.w + ox) * os.c + c] = is_max || count == 0 ? acc : acc / (float)count;
            }
}

static void global_avgpool_forward(const mco_layer *l, const float *in, float *out)
{
    size_t pixels = (size_t)l->in_shape.h * l->in_shape.w;
    for (int c = 0; c < l->in_shape.c; c++) {
        float sum = 0.0f;
        for (size_t p = 0; p < pixels; p++) sum += in[p * l->in_shape.c + c];
        out[c] = sum / (float)pixels;
    }
}

static void clamp_forward(const float *in, float *out, size_t n, float lo, float hi)
{
    for (size_t k = 0; k < n; k++) out[k] = in[k] < lo ? lo : in[k] > hi ? hi : in[k];
}

static void batchnorm_forward(const mco_layer *l, const float *in, float *out)
{
    size_t n = mco_shape_size(l->out_shape);
    int channels = l->out_shape.c;
    const float *gamma = l->params[MCO_PARAM_BN_GAMMA].data, *beta = l->params[MCO_PARAM_BN_BETA].data;
    const float *mean = l->params[MCO_PARAM_BN_MEAN].data, *var = l->params[MCO_PARAM_BN_VAR].data;
    for (size_t k = 0; k < n; k++) {
        int c = (int)(k % (size_t)channels);
        out[k] = gamma[c] * (in[k] - mean[c]) / sqrtf(var[c] + l->epsilon) + beta[c];
    }
}

/* Softmax over the channels of every pixel (the last axis). */
static void softmax_forward(const mco_layer *l, const float *in, float *out)
{
    int row = l->out_shape.c;
    size_t rows = mco_shape_size(l->out_shape) / (size_t)row;
    for (size_t r = 0; r < rows; r++) {
        const float *x = in + r * row;
        float *y = out + r * row;
        float max = x[0], sum = 0.0f;
        for (int k = 1; k < row; k++) max = x[k] > max ? x[k] : max;
        for (int k = 0; k < row; k++) sum += y[k] = expf(x[k] - max);
        for (int k = 0; k < row; k++) y[k] /= sum;
    }
}

mco_status mco_calib_forward(const mco_model *model, const float *input, mco_calib_activations *acts)
{
    for (int i = 0; i < model->n_layers; i++) {
        const mco_layer *l = &model->layers[i];
        const float *in = l->inputs[0] == MCO_INPUT ? input : acts->outputs[l->inputs[0]];
        float *out = acts->outputs[i];
        size_t n = mco_shape_size(l->out_shape);
        switch (l->type) {
        case MCO_LAYER_CONV2D:
        case MCO_LAYER_DEPTHWISE_CONV2D: conv_forward(l, in, out); break;
        case MCO_LAYER_DENSE: dense_forward(l, in, out); break;
        case MCO_LAYER_CONV_TRANSPOSE2D: conv_transpose_forward(l, in, out); break;
        case MCO_LAYER_MAXPOOL2D: pool_forward(l, in, out, 1); break;
        case MCO_LAYER_AVGPOOL2D: pool_forward(l, in, out, 0); break;
        case MCO_LAYER_GLOBAL_AVGPOOL: global_avgpool_forward(l, in, out); break;
        case MCO_LAYER_RELU: clamp_forward(in, out, n, 0.0f, FLT_MAX); break;
        case MCO_LAYER_RELU6: clamp_forward(in, out, n, 0.0f, 6.0f); break;
        case MCO_LAYER_BATCHNORM: batchnorm_forward(l, in, out); break;
        case MCO_LAYER_FLATTEN:
        case MCO_LAYER_DROPOUT: memcpy(out, in, n * sizeof(float)); break;
        case MCO_LAYER_SOFTMAX: softmax_forward(l, in, out); break;
        case MCO_LAYER_SIGMOID:
        case MCO_LAYER_TANH:
        case MCO_LAYER_LEAKY_RELU:
        case MCO_LAYER_HARD_SIGMOID:
        case MCO_LAYER_HARD_SWISH:
            for (size_t k = 0; k < n; k++) out[k] = (float)mco_activation_value(l, (double)in[k]);
            break;
        case MCO_LAYER_ADD: {
            const float *b = l->inputs[1] == MCO_INPUT ? input : acts->outputs[l->inputs[1]];
            for (size_t k = 0; k < n; k++) out[k] = in[k] + b[k];
            break;
        }
        case MCO_LAYER_CONCAT: {   /* per pixel: input 0's channels, then input 1's */
            const float *b = l->inputs[1] == MCO_INPUT ? input : acts->outputs[l->inputs[1]];
            size_t c0 = (size_t)l->in_shape.c, c1 = (size_t)l->out_shape.c - c0;
            for (size_t p = 0; p < n / (c0 + c1); p++) {
                memcpy(out + p * (c0 + c1), in + p * c0, c0 * sizeof(float));
                memcpy(out + p * (c0 + c1) + c0, b + p * c1, c1 * sizeof(float));
            }
            break;
        }
        default:
            return mco_error(MCO_ERR_UNSUPPORTED, "layer %d (%s): %s is not supported by calibration", i,
                             l->name, mco_layer_type_name(l->type));
        }
    }
    return MCO_OK;
}

/* ---- Range observers ---- */

void mco_calib_observer_init(mco_calib_observer *obs)
{
    memset(obs, 0, sizeof *obs);
    obs->min = FLT_MAX;
    obs->max = -FLT_MAX;
}

void mco_calib_observer_free(mco_calib_observer *obs)
{
    free(obs->counts);
    obs->counts = NULL;
}

void mco_calib_observe_minmax(mco_calib_observer *obs, const float *x, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        if (x[k] < obs->min) obs->min = x[k];
        if (x[k] > obs->max) obs->max = x[k];
    }
}

mco_status mco_calib_histogram_init(mco_calib_observer *obs)
{
    free(obs->counts);
    obs->counts = calloc(MCO_CALIB_HIST_BINS, sizeof *obs->counts);
    if (!obs->counts) return mco_error(MCO_ERR_NOMEM, "out of memory for a calibration histogram");
    obs->hist_lo = obs->min <= obs->max ? obs->min : 0.0f;
    obs->hist_hi = obs->min <= obs->max ? obs->max : 0.0f;
    obs->total = 0.0;
    return MCO_OK;
}

/* Bin of x; values outside [hist_lo, hist_hi] go to the end bins. */
static int bin_of(const mco_calib_observer *obs, float x)
{
    double width = (double)obs->hist_hi - obs->hist_lo;
    if (!(width > 0.0)) return 0;
    double pos = ((double)x - obs->hist_lo) / width * MCO_CALIB_HIST_BINS;
    if (pos < 0.0) return 0;
    if (pos >= MCO_CALIB_HIST_BINS) return MCO_CALIB_HIST_BINS - 1;
    return (int)pos;
}

void mco_calib_observe_histogram(mco_calib_observer *obs, const float *x, size_t n)
{
    for (size_t k = 0; k < n; k++) obs->counts[bin_of(obs, x[k])] += 1.0;
    obs->total += (double)n;
}

static double bin_width(const mco_calib_observer *obs)
{
    return ((double)obs->hist_hi - obs->hist_lo) / MCO_CALIB_HIST_BINS;
}

/* The lower edge of the bin where the count from below reaches `fraction`
 * of the total (from_top = 0), or the upper edge of the bin where the count
 * from above does (from_top = 1). */
static float histogram_quantile(const mco_calib_observer *obs, double fraction, int from_top)
{
    double target = fraction * obs->total, seen = 0.0, w = bin_width(obs);
    for (int k = 0; k < MCO_CALIB_HIST_BINS; k++) {
        int bin = from_top ? MCO_CALIB_HIST_BINS - 1 - k : k;
        seen += obs->counts[bin];
        if (seen > target)
            return (float)(obs->hist_lo + w * (from_top ? bin + 1 : bin));
    }
    return from_top ? obs->hist_lo : obs->hist_hi;
}

/* Squared error of one value quantized with qp. */
static double value_quant_error(double x, mco_qparams qp)
{
    double q = round(x / qp.scale) + qp.zero_point;
    if (q < -128.0) q = -128.0;
    if (q > 127.0) q = 127.0;
    double e = qp.scale * (q - qp.zero_point) - x;
    return e * e;
}

/* Quantization MSE of the histogram's contents (bin centres stand for their values). */
static double histogram_quant_mse(const mco_calib_observer *obs, mco_qparams qp)
{
    double w = bin_width(obs), sum = 0.0;
    for (int k = 0; k < MCO_CALIB_HIST_BINS; k++)
        if (obs->counts[k] > 0.0)
            sum += obs->counts[k] * value_quant_error(obs->hist_lo + w * (k + 0.5), qp);
    return obs->total > 0.0 ? sum / obs->total : 0.0;
}

#define MSE_GRID 48   /* clipping candidates per side: fractions 1/48 .. 48/48 of min and max */

/* The range with least histogram MSE: a grid over [min*i/G, max*j/G]
 * (asymmetric) or [-t, t] with t = m*i/G, m = max(|min|, |max|) (symmetric). */
static void mse_range(const mco_calib_observer *obs, int symmetric, float *lo, float *hi)
{
    double best = INFINITY;
    float absmax = fmaxf(fabsf(obs->min), fabsf(obs->max));
    for (int i = 1; i <= MSE_GRID; i++) {
        for (int j = 1; j <= (symmetric ? 1 : MSE_GRID); j++) {
            float clo = symmetric ? -absmax * i / MSE_GRID : obs->min * i / MSE_GRID;
            float chi = symmetric ? absmax * i / MSE_GRID : obs->max * j / MSE_GRID;
            double mse = histogram_quant_mse(obs, mco_calib_qparams_from_range(clo, chi, symmetric));
            if (mse < best) {
                best = mse;
                *lo = clo;
                *hi = chi;
            }
        }
    }
}

void mco_calib_choose_range(const mco_calib_observer *obs, mco_calibration method, float percentile,
                            int symmetric, float *lo, float *hi)
{
    if (obs->min > obs->max) {   /* nothing observed */
        *lo = *hi = 0.0f;
        return;
    }
    *lo = obs->min;
    *hi = obs->max;
    if (!obs->counts || obs->total <= 0.0) method = MCO_CALIBRATE_MINMAX;
    if (method == MCO_CALIBRATE_PERCENTILE) {
        double tail = (100.0 - percentile) / 100.0;
        *lo = fmaxf(obs->min, histogram_quantile(obs, tail, 0));
        *hi = fminf(obs->max, histogram_quantile(obs, tail, 1));
    } else if (method == MCO_CALIBRATE_MSE) {
        mse_range(obs, symmetric, lo, hi);
    }
    if (symmetric) {
        float t = fmaxf(fabsf(*lo), fabsf(*hi));
        *lo = -t;
        *hi = t;
    }
}

/* ---- Ranges to quantization parameters ---- */

mco_qparams mco_calib_qparams_from_range(float lo, float hi, int symmetric)
{
    const double qmin = -128.0, qmax = 127.0;
    double rmin = fmin((double)lo, 0.0), rmax = fmax((double)hi, 0.0);
    mco_qparams qp;
    if (symmetric) {
        double t = fmax(-rmin, rmax);
        qp.scale = t > 0.0 ? (float)(t / 127.0) : 1.0f / 255.0f;
        qp.zero_point = 0;
        return qp;
    }
    if (!(rmax - rmin > 0.0)) return (mco_qparams){1.0f / 255.0f, -128};
    double scale = (rmax - rmin) / (qmax - qmin);
    /* TFLite: take the zero point from whichever end loses less precision. */
    double zp_from_min = qmin - rmin / scale, zp_from_max = qmax - rmax / scale;
    double err_min = fabs(qmin) + fabs(rmin / scale), err_max = fabs(qmax) + fabs(rmax / scale);
    double zp = err_min < err_max ? zp_from_min : zp_from_max;
    zp = zp < qmin ? qmin : zp > qmax ? qmax : round(zp);
    qp.scale = (float)scale;
    qp.zero_point = (int32_t)zp;
    return qp;
}

double mco_calib_quant_mse(const float *x, size_t n, mco_qparams qp)
{
    double sum = 0.0;
    for (size_t k = 0; k < n; k++) sum += value_quant_error(x[k], qp);
    return n ? sum / (double)n : 0.0;
}
