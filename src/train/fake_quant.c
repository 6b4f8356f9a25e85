/*
 * fake_quant.c - fake quantization for quantization-aware training (see
 * fake_quant.h and, for the rules, include/train/mcuopt/qat.h), and the public
 * QAT helpers that need the training engine: preparing a model, the range
 * records, and fake-quantized evaluation and prediction.
 *
 * The rules are not restated here but taken from the quantizer itself:
 * weights from mco_quant_weights_symmetric, the activation grid from
 * mco_calib_qparams_from_range, the fused ReLU from
 * mco_quant_fused_activation and the input grid from mco_quant_input_qparams,
 * so that training rounds exactly where and how mco_qat_convert will.
 *
 * What it leaves out: see qat.h.
 */
#include "fake_quant.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mcuopt/calibrate.h"
#include "mcuopt/deploy_util.h"
#include "mcuopt/quant_rules.h"
#include "mcuopt/thread_pool.h"
#include "train_internal.h"

/* ---- Where the runtime has an int8 tensor ---- */

static int is_requantizing(const mco_layer *l)
{
    return mco_deploy_is_weighted(l) || l->type == MCO_LAYER_ADD;
}

static mco_fq_kind layer_kind(const mco_model *m, int i)
{
    const mco_layer *l = &m->layers[i];
    switch (l->type) {
    case MCO_LAYER_CONV2D:
    case MCO_LAYER_DEPTHWISE_CONV2D:
    case MCO_LAYER_DENSE:
    case MCO_LAYER_ADD:
    case MCO_LAYER_CONV_TRANSPOSE2D:
        return mco_quant_fused_activation(m, i) >= 0 ? MCO_FQ_NONE : MCO_FQ_RANGE;
    case MCO_LAYER_RELU:
    case MCO_LAYER_RELU6: {
        int src = l->inputs[0];
        int fused = src != MCO_INPUT && is_requantizing(&m->layers[src]) && mco_quant_fused_activation(m, src) == i;
        return fused ? MCO_FQ_RANGE : MCO_FQ_NONE;
    }
    case MCO_LAYER_SIGMOID:
    case MCO_LAYER_TANH:
    case MCO_LAYER_LEAKY_RELU:
    case MCO_LAYER_HARD_SIGMOID:
    case MCO_LAYER_HARD_SWISH:
    case MCO_LAYER_CONCAT:   /* each input requantized to the concat's own grid */
        return MCO_FQ_RANGE;   /* its own output grid (fixed for sigmoid, tanh, hard_sigmoid) */
    case MCO_LAYER_AVGPOOL2D:
    case MCO_LAYER_GLOBAL_AVGPOOL:
        return MCO_FQ_REQUANTIZE;
    default:
        return MCO_FQ_NONE;
    }
}

int mco_qat_is_quantization_point(const mco_model *qat_model, int i)
{
    return i >= 0 && i < qat_model->n_layers && layer_kind(qat_model, i) == MCO_FQ_RANGE;
}

/* ---- The rounding itself ---- */

/* This runs over every activation of every step (about a fifth of a QAT
 * step's time on mnist-paper), so it avoids libm and divisions: the mask
 * in a loop of its own (which vectorises), then a multiplication by
 * 1 / scale (it differs from a division only in the last bit, i.e. at exact
 * ties) and round-half-away-from-zero through an int conversion after
 * clamping (which also sends NaN low). That loop vectorises only because
 * this file is compiled with -fno-trapping-math (src/CMakeLists.txt): GCC
 * does not if-convert the clamps under the default -ftrapping-math. */
void mco_fake_quantize(float *x, size_t n, mco_qparams q, unsigned char *mask)
{
    const double scale = q.scale, inv = 1.0 / scale, zp = q.zero_point;
    if (mask) {
        const float lo = (float)(scale * (-128.0 - zp)), hi = (float)(scale * (127.0 - zp));
        for (size_t k = 0; k < n; k++) mask[k] = (unsigned char)((x[k] >= lo) & (x[k] <= hi));
    }
    for (size_t k = 0; k < n; k++) {
        double t = (double)x[k] * inv;
        t = t >= -512.0 ? t : -512.0;
        t = t <= 512.0 ? t : 512.0;
        t = (double)(int)(t + (t < 0.0 ? -0.5 : 0.5)) + zp;
        t = t > -128.0 ? t : -128.0;
        t = t < 127.0 ? t : 127.0;
        x[k] = (float)(scale * (t - zp));
    }
}

/* ---- State ---- */

static size_t layer_outputs(const mco_model *m, int l, int batch)
{
    return (size_t)batch * mco_shape_size(m->layers[l].out_shape);
}

static mco_status threads_init(mco_fake_quant *fq, int n_threads, int max_batch)
{
    const mco_model *m = fq->master;
    const size_t n = (size_t)m->n_layers;
    fq->threads = calloc((size_t)n_threads, sizeof *fq->threads);
    if (n_threads > 0 && !fq->threads) return mco_error(MCO_ERR_NOMEM, "QAT: out of memory");
    fq->n_threads = n_threads;
    for (int t = 0; t < n_threads; t++) {
        mco_fq_thread *th = &fq->threads[t];
        th->fq = fq;
        th->batch_min = calloc(n, sizeof *th->batch_min);
        th->batch_max = calloc(n, sizeof *th->batch_max);
        th->clip_mask = calloc(n, sizeof *th->clip_mask);
        if (!th->batch_min || !th->batch_max || !th->clip_mask) return mco_error(MCO_ERR_NOMEM, "QAT: out of memory");
        for (int l = 0; l < m->n_layers; l++)
            if (fq->kind[l] == MCO_FQ_RANGE && !(th->clip_mask[l] = malloc(layer_outputs(m, l, max_batch))))
                return mco_error(MCO_ERR_NOMEM, "QAT: out of memory for clipping masks");
    }
    return MCO_OK;
}

/* The shadow model: master's layer records, weighted layers pointing to
 * fake-quantized copies of their weights and bias (one block each). */
static mco_status shadow_init(mco_fake_quant *fq)
{
    const mco_model *m = fq->master;
    const size_t n = (size_t)m->n_layers;
    size_t widest = 1, largest = 1;
    fq->shadow = *m;
    fq->shadow.layers = malloc(n * sizeof *fq->shadow.layers);
    fq->params = calloc(n, sizeof *fq->params);
    if (!fq->shadow.layers || !fq->params) return mco_error(MCO_ERR_NOMEM, "QAT: out of memory");
    memcpy(fq->shadow.layers, m->layers, n * sizeof *fq->shadow.layers);
    for (int l = 0; l < m->n_layers; l++) {
        const mco_layer *layer = &m->layers[l];
        if (!mco_deploy_is_weighted(layer)) continue;
        size_t size = layer->params[MCO_PARAM_WEIGHTS].size, channels = (size_t)mco_deploy_channels(layer);
        if (!(fq->params[l] = malloc((size + channels) * sizeof(float))))
            return mco_error(MCO_ERR_NOMEM, "QAT: out of memory for fake-quantized weights");
        fq->shadow.layers[l].params[MCO_PARAM_WEIGHTS].data = fq->params[l];
        fq->shadow.layers[l].params[MCO_PARAM_BIAS].data = fq->params[l] + size;
        widest = channels > widest ? channels : widest;
        largest = size > largest ? size : largest;
    }
    fq->scales = malloc(widest * sizeof *fq->scales);
    fq->weights_q = malloc(largest);
    if (!fq->scales || !fq->weights_q) return mco_error(MCO_ERR_NOMEM, "QAT: out of memory");
    return MCO_OK;
}

static mco_status check_model(const mco_model *m)
{
    for (int l = 0; l < m->n_layers; l++)
        if (m->layers[l].type == MCO_LAYER_BATCHNORM)
            return mco_error(MCO_ERR_UNSUPPORTED,
                             "layer %d (%s): QAT needs BatchNorm folded into the preceding layer first "
                             "(mco_qat_prepare), and this one cannot be folded", l, m->layers[l].name);
    return MCO_OK;
}

mco_status mco_fake_quant_init(mco_fake_quant *fq, const mco_model *master, mco_qat_ranges *ranges,
                               float decay, float freeze_fraction, int n_threads, int max_batch)
{
    memset(fq, 0, sizeof *fq);
    if (!ranges || ranges->n_layers != master->n_layers)
        return mco_error(MCO_ERR_ARG, "QAT ranges are for %d layers, the model has %d", ranges ? ranges->n_layers : 0,
                         master->n_layers);
    if (!(decay >= 0.0f && decay < 1.0f) || !(freeze_fraction >= 0.0f && freeze_fraction <= 1.0f))
        return mco_error(MCO_ERR_ARG, "QAT needs 0 <= ema decay < 1 and 0 <= freeze fraction <= 1 (got %g, %g)",
                         (double)decay, (double)freeze_fraction);
    mco_status st = check_model(master);
    if (st != MCO_OK) return st;
    fq->master = master;
    fq->ranges = ranges;
    fq->decay = decay;
    fq->freeze_fraction = freeze_fraction;
    fq->inference.fq = fq;
    const size_t n = (size_t)master->n_layers;
    fq->kind = calloc(n, 1);
    fq->q = calloc(n, sizeof *fq->q);
    if (!fq->kind || !fq->q) st = mco_error(MCO_ERR_NOMEM, "QAT: out of memory");
    for (int l = 0; st == MCO_OK && l < master->n_layers; l++) fq->kind[l] = (unsigned char)layer_kind(master, l);
    if (st == MCO_OK) st = mco_quant_input_qparams(&master->norm, &fq->input_q);
    if (st == MCO_OK) st = shadow_init(fq);
    if (st == MCO_OK) st = threads_init(fq, n_threads, max_batch);
    if (st == MCO_OK) st = mco_fake_quant_refresh(fq);
    if (st != MCO_OK) mco_fake_quant_free(fq);
    return st;
}

void mco_fake_quant_free(mco_fake_quant *fq)
{
    for (int t = 0; t < fq->n_threads; t++) {
        mco_fq_thread *th = &fq->threads[t];
        for (int l = 0; th->clip_mask && l < fq->master->n_layers; l++) free(th->clip_mask[l]);
        free(th->clip_mask);
        free(th->batch_min);
        free(th->batch_max);
    }
    free(fq->threads);
    for (int l = 0; fq->params && l < fq->master->n_layers; l++) free(fq->params[l]);
    free(fq->params);
    free(fq->shadow.layers);
    free(fq->scales);
    free(fq->weights_q);
    free(fq->kind);
    free(fq->q);
    memset(fq, 0, sizeof *fq);
}

/* ---- Steps ---- */

/* Weighted layer l's weights as mco_quantize stores them and, once the
 * input grid is known, its bias as the int32 the runtime adds:
 * round(b / (input scale * weight scale)) steps. */
static mco_status refresh_layer(mco_fake_quant *fq, int l)
{
    const mco_layer *layer = &fq->master->layers[l];
    const mco_param *w = &layer->params[MCO_PARAM_WEIGHTS];
    mco_layer *shadow = &fq->shadow.layers[l];
    /* the granularity the QAT conversion quantizes with (qat_convert.c) */
    mco_status st = mco_quant_weights_symmetric(layer, mco_granularity_per_channel(MCO_GRANULARITY_TFLITE, layer),
                                                127, fq->scales, fq->weights_q);
    if (st != MCO_OK) return st;
    for (size_t k = 0; k < w->size; k++)
        shadow->params[MCO_PARAM_WEIGHTS].data[k] =
            (float)fq->weights_q[k] * fq->scales[mco_quant_weight_channel(layer, k)];
    const float *bias = layer->params[MCO_PARAM_BIAS].data;
    float *bias_fq = shadow->params[MCO_PARAM_BIAS].data;
    int src = layer->inputs[0];
    double in_scale = src == MCO_INPUT ? fq->input_q.scale : fq->q[src].scale;
    for (int c = 0; c < mco_deploy_channels(layer); c++) {
        double step = in_scale * fq->scales[c];
        bias_fq[c] = fq->active ? (float)(round(bias[c] / step) * step) : bias[c];
    }
    return MCO_OK;
}

mco_status mco_fake_quant_refresh(mco_fake_quant *fq)
{
    const mco_model *m = fq->master;
    fq->active = fq->ranges->updates > 0;
    for (int l = 0; fq->active && l < m->n_layers; l++) {
        int src = m->layers[l].inputs[0];
        if (fq->kind[l] == MCO_FQ_RANGE && !mco_quant_activation_fixed_output(m->layers[l].type, &fq->q[l]))
            fq->q[l] = mco_calib_qparams_from_range(fq->ranges->lo[l], fq->ranges->hi[l], 0);
        else
            fq->q[l] = src == MCO_INPUT ? fq->input_q : fq->q[src];
    }
    for (int l = 0; l < m->n_layers; l++) {
        mco_status st = fq->params[l] ? refresh_layer(fq, l) : MCO_OK;
        if (st != MCO_OK) return st;
    }
    return MCO_OK;
}

mco_status mco_fake_quant_begin_step(mco_fake_quant *fq, long step, long total_steps)
{
    fq->observing = fq->ranges->updates == 0 || (double)step < (double)fq->freeze_fraction * (double)total_steps;
    for (int t = 0; t < fq->n_threads; t++) fq->threads[t].observed = 0;
    return mco_fake_quant_refresh(fq);
}

void mco_fake_quant_end_step(mco_fake_quant *fq)
{
    int any = 0;
    for (int t = 0; t < fq->n_threads; t++) any |= fq->threads[t].observed;
    if (!fq->observing || !any) return;
    mco_qat_ranges *r = fq->ranges;
    for (int l = 0; l < fq->master->n_layers; l++) {
        if (fq->kind[l] != MCO_FQ_RANGE) continue;
        float lo = FLT_MAX, hi = -FLT_MAX;
        for (int t = 0; t < fq->n_threads; t++) {   /* thread order */
            const mco_fq_thread *th = &fq->threads[t];
            if (!th->observed) continue;
            lo = th->batch_min[l] < lo ? th->batch_min[l] : lo;
            hi = th->batch_max[l] > hi ? th->batch_max[l] : hi;
        }
        if (r->updates == 0) {
            r->lo[l] = lo;
            r->hi[l] = hi;
        } else {
            r->lo[l] = (float)(fq->decay * (double)r->lo[l] + (1.0 - fq->decay) * lo);
            r->hi[l] = (float)(fq->decay * (double)r->hi[l] + (1.0 - fq->decay) * hi);
        }
    }
    r->updates++;
}

void mco_fq_input(const mco_fq_thread *th, float *input, int batch)
{
    const mco_fake_quant *fq = th->fq;
    mco_fake_quantize(input, (size_t)batch * mco_shape_size(fq->master->input_shape), fq->input_q, NULL);
}

void mco_fq_forward(mco_fq_thread *th, int l, float *x, int batch, int training)
{
    const mco_fake_quant *fq = th->fq;
    int kind = fq->kind[l];
    if (kind == MCO_FQ_NONE || batch < 1) return;
    size_t n = layer_outputs(fq->master, l, batch);
    if (kind == MCO_FQ_RANGE && training && fq->observing && th->batch_min) {
        float lo = x[0], hi = x[0];
        for (size_t k = 1; k < n; k++) {
            lo = x[k] < lo ? x[k] : lo;
            hi = x[k] > hi ? x[k] : hi;
        }
        th->batch_min[l] = lo;
        th->batch_max[l] = hi;
        th->observed = 1;
    }
    if (!fq->active) return;
    unsigned char *mask = kind == MCO_FQ_RANGE && training && th->clip_mask ? th->clip_mask[l] : NULL;
    mco_fake_quantize(x, n, fq->q[l], mask);
}

void mco_fq_backward(const mco_fq_thread *th, int l, float *grad, int batch)
{
    const mco_fake_quant *fq = th->fq;
    if (fq->kind[l] != MCO_FQ_RANGE || !fq->active || !th->clip_mask || !grad) return;
    const unsigned char *mask = th->clip_mask[l];
    size_t n = layer_outputs(fq->master, l, batch);
    for (size_t k = 0; k < n; k++)
        if (!mask[k]) grad[k] = 0.0f;
}

/* ---- Public QAT helpers ---- */

void mco_qat_config_default(mco_qat_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->ema_decay = 0.999f;
    cfg->freeze_fraction = 0.75f;
    cfg->ranges = NULL;
}

mco_status mco_qat_prepare(const mco_model *float_model, mco_model *qat_model)
{
    mco_status st = mco_model_clone(float_model, qat_model);
    if (st != MCO_OK) return st;
    st = mco_model_fold_for_inference(qat_model);
    if (st == MCO_OK) st = check_model(qat_model);
    if (st != MCO_OK) mco_model_free(qat_model);
    return st;
}

mco_status mco_qat_ranges_init(mco_qat_ranges *ranges, const mco_model *qat_model)
{
    memset(ranges, 0, sizeof *ranges);
    if (qat_model->n_layers < 1) return mco_error(MCO_ERR_ARG, "QAT ranges: the model has no layers");
    ranges->lo = calloc((size_t)qat_model->n_layers, sizeof *ranges->lo);
    ranges->hi = calloc((size_t)qat_model->n_layers, sizeof *ranges->hi);
    if (!ranges->lo || !ranges->hi) {
        mco_qat_ranges_free(ranges);
        return mco_error(MCO_ERR_NOMEM, "QAT ranges: out of memory");
    }
    ranges->n_layers = qat_model->n_layers;
    return MCO_OK;
}

void mco_qat_ranges_free(mco_qat_ranges *ranges)
{
    free(ranges->lo);
    free(ranges->hi);
    memset(ranges, 0, sizeof *ranges);
}

/* Inference-only fake quantization over trained ranges. `view` is a copy of
 * the caller's (const) ranges record: inference never writes through it. */
static mco_status inference_init(mco_fake_quant *fq, const mco_model *model, mco_qat_ranges *view)
{
    if (view->updates == 0)
        return mco_error(MCO_ERR_ARG, "QAT ranges are not initialised: train with them first");
    return mco_fake_quant_init(fq, model, view, 0.0f, 0.0f, 0, 1);
}

mco_status mco_qat_require_u8(const mco_dataset *data)
{
    if (data->sample_type == MCO_SAMPLE_U8) return MCO_OK;
    return mco_error(MCO_ERR_UNSUPPORTED, "QAT takes raw uint8 samples (its input grid is q = raw - 128); %s holds "
                     "%s samples: train in float and quantize with calibration instead", data->name,
                     mco_sample_type_name(data->sample_type));
}

mco_status mco_qat_evaluate(const mco_model *qat_model, const mco_qat_ranges *ranges, const mco_dataset *data,
                            int threads, mco_eval_result *result)
{
    memset(result, 0, sizeof *result);
    mco_status st = mco_qat_require_u8(data);
    if (st != MCO_OK) return st;
    mco_qat_ranges view = *ranges;
    mco_fake_quant fq;
    st = inference_init(&fq, qat_model, &view);
    if (st != MCO_OK) return st;
    mco_pool *pool;
    if ((st = mco_pool_create(threads, &pool)) == MCO_OK) {
        st = mco_evaluate_on_pool_with(&fq.shadow, &fq.inference, data, pool, result);
        mco_pool_destroy(pool);
    }
    mco_fake_quant_free(&fq);
    return st;
}

mco_status mco_qat_predict(const mco_model *qat_model, const mco_qat_ranges *ranges, const float *input,
                           int batch, float *output)
{
    mco_qat_ranges view = *ranges;
    mco_fake_quant fq;
    mco_status st = inference_init(&fq, qat_model, &view);
    if (st != MCO_OK) return st;
    st = mco_model_predict_with(&fq.shadow, &fq.inference, input, batch, output);
    mco_fake_quant_free(&fq);
    return st;
}
