/*
 * layer_batchnorm.c - BatchNorm over the channel axis, forward and backward.
 *
 * Training: each channel is normalised with the mean and biased variance of
 * its values over the batch and all pixels (N, H, W); those statistics are
 * left at the start of scratch for the trainer to fold into the moving
 * averages (Keras convention, done in train.c). Inference: the moving
 * statistics are used. Sums are taken in double.
 *
 * Scratch: mean[c], var[c], inv_std[c] (double), then xhat (float, batch x size).
 *
 * What it leaves out: renormalisation, virtual batches, synchronising
 * statistics across threads (each thread normalises its own slice).
 */
#include <math.h>
#include <string.h>

#include "layer_ops.h"

typedef struct {
    float *mean, *var;     /* statistics used by the last forward */
    double *sum_a, *sum_b; /* per-channel work sums */
    float *inv_std;
    float *xhat;
} bn_scratch;

static bn_scratch bn_scratch_map(const mco_layer *layer, void *scratch)
{
    const size_t c = (size_t)layer->out_shape.c;
    const size_t fvec = mco_align64(c * sizeof(float)), dvec = mco_align64(c * sizeof(double));
    char *p = scratch;
    bn_scratch s;
    s.mean = (float *)p;
    s.var = (float *)(p + fvec);
    s.inv_std = (float *)(p + 2 * fvec);
    s.sum_a = (double *)(p + 3 * fvec);
    s.sum_b = (double *)(p + 3 * fvec + dvec);
    s.xhat = (float *)(p + 3 * fvec + 2 * dvec);
    return s;
}

static size_t bn_scratch_bytes(const mco_layer *layer, int batch)
{
    const size_t c = (size_t)layer->out_shape.c;
    return 3 * mco_align64(c * sizeof(float)) + 2 * mco_align64(c * sizeof(double)) +
           (size_t)batch * mco_shape_size(layer->out_shape) * sizeof(float);
}

const float *mco_batchnorm_batch_mean(const mco_layer *layer, const void *scratch)
{
    return bn_scratch_map(layer, (void *)scratch).mean;
}

const float *mco_batchnorm_batch_var(const mco_layer *layer, const void *scratch)
{
    return bn_scratch_map(layer, (void *)scratch).var;
}

static void bn_forward(const mco_layer_ctx *ctx)
{
    const mco_layer *layer = ctx->layer;
    const int c = layer->out_shape.c;
    const size_t rows = (size_t)ctx->batch * mco_shape_size(layer->out_shape) / (size_t)c;
    const float *gamma = layer->params[MCO_PARAM_BN_GAMMA].data;
    const float *beta = layer->params[MCO_PARAM_BN_BETA].data;
    const float *x = ctx->in[0];
    bn_scratch s = bn_scratch_map(layer, ctx->scratch);

    if (ctx->training) {
        memset(s.sum_a, 0, (size_t)c * sizeof(double));
        memset(s.sum_b, 0, (size_t)c * sizeof(double));
        for (size_t r = 0; r < rows; r++)
            for (int ch = 0; ch < c; ch++)
                s.sum_a[ch] += x[r * c + ch];
        for (int ch = 0; ch < c; ch++)
            s.mean[ch] = (float)(s.sum_a[ch] / (double)rows);
        for (size_t r = 0; r < rows; r++)
            for (int ch = 0; ch < c; ch++) {
                double d = (double)x[r * c + ch] - s.mean[ch];
                s.sum_b[ch] += d * d;
            }
        for (int ch = 0; ch < c; ch++)
            s.var[ch] = (float)(s.sum_b[ch] / (double)rows);
    } else {
        memcpy(s.mean, layer->params[MCO_PARAM_BN_MEAN].data, (size_t)c * sizeof(float));
        memcpy(s.var, layer->params[MCO_PARAM_BN_VAR].data, (size_t)c * sizeof(float));
    }
    for (int ch = 0; ch < c; ch++)
        s.inv_std[ch] = 1.0f / sqrtf(s.var[ch] + layer->epsilon);

    for (size_t r = 0; r < rows; r++)
        for (int ch = 0; ch < c; ch++) {
            float xhat = (x[r * c + ch] - s.mean[ch]) * s.inv_std[ch];
            s.xhat[r * c + ch] = xhat;
            ctx->out[r * c + ch] = gamma[ch] * xhat + beta[ch];
        }
}

static void bn_backward(const mco_layer_ctx *ctx)
{
    const mco_layer *layer = ctx->layer;
    const int c = layer->out_shape.c;
    const size_t rows = (size_t)ctx->batch * mco_shape_size(layer->out_shape) / (size_t)c;
    const float *gamma = layer->params[MCO_PARAM_BN_GAMMA].data;
    const float *dy = ctx->grad_out;
    bn_scratch s = bn_scratch_map(layer, ctx->scratch);

    /* sum_a = sum(dy), sum_b = sum(dy * xhat) per channel */
    memset(s.sum_a, 0, (size_t)c * sizeof(double));
    memset(s.sum_b, 0, (size_t)c * sizeof(double));
    for (size_t r = 0; r < rows; r++)
        for (int ch = 0; ch < c; ch++) {
            s.sum_a[ch] += dy[r * c + ch];
            s.sum_b[ch] += (double)dy[r * c + ch] * s.xhat[r * c + ch];
        }
    for (int ch = 0; ch < c; ch++) {
        ctx->param_grad[MCO_PARAM_BN_GAMMA][ch] += (float)s.sum_b[ch];
        ctx->param_grad[MCO_PARAM_BN_BETA][ch] += (float)s.sum_a[ch];
    }

    float *dx = ctx->grad_in[0];
    if (!dx)
        return;
    for (int ch = 0; ch < c; ch++) {
        /* In training the statistics depend on x: dx = gamma*inv_std *
         * (dy - mean(dy) - xhat*mean(dy*xhat)); in inference they are constants. */
        s.sum_a[ch] = ctx->training ? s.sum_a[ch] / (double)rows : 0.0;
        s.sum_b[ch] = ctx->training ? s.sum_b[ch] / (double)rows : 0.0;
    }
    for (size_t r = 0; r < rows; r++)
        for (int ch = 0; ch < c; ch++) {
            size_t i = r * c + ch;
            double centred = dy[i] - s.sum_a[ch] - s.xhat[i] * s.sum_b[ch];
            dx[i] += (float)(gamma[ch] * s.inv_std[ch] * centred);
        }
}

const mco_layer_ops mco_batchnorm_ops = {bn_scratch_bytes, bn_forward, bn_backward, 0, 0};
