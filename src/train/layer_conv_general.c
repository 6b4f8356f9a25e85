/*
 * layer_conv_general.c - the general convolution in training, forward and
 * backward, float NHWC: a Conv2D with groups or a dilation, a
 * DepthwiseConv2D with a depth multiplier or a dilation (graph.h,
 * mco_layer_is_general_conv). Plain reference loops over output pixels,
 * output channels and the taps of each window inside the input; weights
 * are addressed through mco_layer_conv_groups, so one loop serves both
 * layer types. layer_conv.c sends the general layers here; the common
 * shapes keep its faster loops (and the oneDNN path, fast_layer.c, which
 * takes no general layer).
 *
 * What it leaves out: speed (no transposed weights, no vector loops).
 */
#include <string.h>

#include "layer_ops.h"

/* The window geometry, the weight addressing and the dilations. */
typedef struct {
    mco_train_window g;
    mco_conv_groups cg;
    int dil_h, dil_w;
} general_geom;

static void general_geom_init(const mco_layer *layer, general_geom *gg)
{
    mco_train_window_init(layer, &gg->g);
    mco_layer_conv_groups(layer, &gg->cg);
    gg->dil_h = layer->dilation_h > 1 ? layer->dilation_h : 1;
    gg->dil_w = layer->dilation_w > 1 ? layer->dilation_w : 1;
}

void mco_conv_general_forward(const mco_layer_ctx *ctx)
{
    const mco_layer *layer = ctx->layer;
    general_geom gg;
    general_geom_init(layer, &gg);
    const mco_train_window *g = &gg.g;
    const mco_conv_groups *cg = &gg.cg;
    const float *w = layer->params[MCO_PARAM_WEIGHTS].data;
    const float *bias = layer->params[MCO_PARAM_BIAS].data;

    for (int n = 0; n < ctx->batch; n++) {
        const float *in = ctx->in[0] + (size_t)n * g->in_h * g->in_w * g->in_c;
        float *out = ctx->out + (size_t)n * g->out_h * g->out_w * g->out_c;
        for (int oy = 0; oy < g->out_h; oy++)
            for (int ox = 0; ox < g->out_w; ox++) {
                float *o = out + ((size_t)oy * g->out_w + ox) * g->out_c;
                memcpy(o, bias, (size_t)g->out_c * sizeof(float));
                for (int ky = 0; ky < g->kernel_h; ky++) {
                    int iy = oy * g->stride_h - g->pad_top + ky * gg.dil_h;
                    if (iy < 0 || iy >= g->in_h) continue;
                    for (int kx = 0; kx < g->kernel_w; kx++) {
                        int ix = ox * g->stride_w - g->pad_left + kx * gg.dil_w;
                        if (ix < 0 || ix >= g->in_w) continue;
                        const float *px = in + ((size_t)iy * g->in_w + ix) * g->in_c;
                        size_t tap = (size_t)(ky * g->kernel_w + kx) * cg->w_tap;
                        for (int oc = 0; oc < g->out_c; oc++) {
                            const float *x = px + oc / cg->group_out * cg->group_in;
                            const float *wk = w + (size_t)oc * cg->w_out + tap;
                            float acc = 0.0f;
                            for (int i = 0; i < cg->group_in; i++) acc += x[i] * wk[(size_t)i * cg->w_in];
                            o[oc] += acc;
                        }
                    }
                }
            }
    }
}

void mco_conv_general_backward(const mco_layer_ctx *ctx)
{
    const mco_layer *layer = ctx->layer;
    general_geom gg;
    general_geom_init(layer, &gg);
    const mco_train_window *g = &gg.g;
    const mco_conv_groups *cg = &gg.cg;
    const float *w = layer->params[MCO_PARAM_WEIGHTS].data;
    float *dw = ctx->param_grad[MCO_PARAM_WEIGHTS];
    float *dbias = ctx->param_grad[MCO_PARAM_BIAS];

    for (int n = 0; n < ctx->batch; n++) {
        const float *in = ctx->in[0] + (size_t)n * g->in_h * g->in_w * g->in_c;
        float *din = ctx->grad_in[0] ? ctx->grad_in[0] + (size_t)n * g->in_h * g->in_w * g->in_c : NULL;
        const float *gout = ctx->grad_out + (size_t)n * g->out_h * g->out_w * g->out_c;
        for (int oy = 0; oy < g->out_h; oy++)
            for (int ox = 0; ox < g->out_w; ox++) {
                const float *go = gout + ((size_t)oy * g->out_w + ox) * g->out_c;
                for (int oc = 0; oc < g->out_c; oc++) dbias[oc] += go[oc];
                for (int ky = 0; ky < g->kernel_h; ky++) {
                    int iy = oy * g->stride_h - g->pad_top + ky * gg.dil_h;
                    if (iy < 0 || iy >= g->in_h) continue;
                    for (int kx = 0; kx < g->kernel_w; kx++) {
                        int ix = ox * g->stride_w - g->pad_left + kx * gg.dil_w;
                        if (ix < 0 || ix >= g->in_w) continue;
                        size_t pixel = ((size_t)iy * g->in_w + ix) * g->in_c;
                        size_t tap = (size_t)(ky * g->kernel_w + kx) * cg->w_tap;
                        for (int oc = 0; oc < g->out_c; oc++) {
                            size_t first = pixel + (size_t)(oc / cg->group_out * cg->group_in);
                            size_t wk = (size_t)oc * cg->w_out + tap;
                            for (int i = 0; i < cg->group_in; i++) {
                                dw[wk + (size_t)i * cg->w_in] += in[first + (size_t)i] * go[oc];
                                if (din) din[first + (size_t)i] += w[wk + (size_t)i * cg->w_in] * go[oc];
                            }
                        }
                    }
                }
            }
    }
}
