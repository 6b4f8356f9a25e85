/*
 * deploy_int8.c - int8 deploy models from a file's own integer parameters
 * (see mcuopt/deploy_int8.h): the part the TFLite and ONNX QDQ importers
 * share. Multipliers follow TFLite Micro's Prepare
 * (GetQuantizedConvolutionMultipler): input scale x weight scale / output
 * scale in double, except a per-tensor FULLY_CONNECTED's when asked.
 *
 * What it leaves out: how a file's tensors map onto layers (the importers).
 */
#include "mcuopt/deploy_int8.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcuopt/deploy_util.h"
#include "mcuopt/quant_multiplier.h"

mco_qparams mco_deploy_input_qparams(const mco_deploy_model *dm, int input)
{
    return input == MCO_INPUT ? dm->input : dm->layers[input].output;
}

static mco_status layer_error(const mco_deploy_model *dm, int i, mco_status st, const char *what, size_t k,
                              const char *why)
{
    return mco_error(st, "layer %d (%s): %s %zu%s", i, dm->model.layers[i].name, what, k, why);
}

mco_status mco_deploy_int8_weighted(mco_deploy_model *dm, int i, const mco_int8_weights *w)
{
    const mco_layer *l = &dm->model.layers[i];
    mco_deploy_layer *d = &dm->layers[i];
    size_t channels = (size_t)d->n_channels, n_w = l->params[MCO_PARAM_WEIGHTS].size;
    if (!mco_deploy_is_weighted(l) || channels < 1 || (w->n_scales != 1 && (size_t)w->n_scales != channels))
        return mco_error(MCO_ERR_ARG, "layer %d (%s): %d weight scales for %zu output channels", i, l->name,
                         w->n_scales, channels);
    d->weight_format = MCO_WEIGHTS_S8;
    d->per_channel = w->n_scales > 1;
    d->weight_scales = calloc(channels, sizeof *d->weight_scales);
    d->weights_q = calloc(n_w ? n_w : 1, 1);
    d->bias_q = calloc(channels, sizeof *d->bias_q);
    d->multiplier = calloc(channels, sizeof *d->multiplier);
    d->shift = calloc(channels, sizeof *d->shift);
    if (!d->weight_scales || !d->weights_q || !d->bias_q || !d->multiplier || !d->shift)
        return mco_error(MCO_ERR_NOMEM, "layer %d (%s): out of memory", i, l->name);
    for (size_t k = 0; k < n_w; k++) {
        if (w->weights[k] == -128)
            return layer_error(dm, i, MCO_ERR_UNSUPPORTED, "weight", k,
                               " is -128; TFLite's int8 specification keeps weights in [-127, 127]");
        d->weights_q[k] = w->weights[k];
    }
    if (w->bias) memcpy(d->bias_q, w->bias, channels * sizeof *d->bias_q);
    float in_s = mco_deploy_input_qparams(dm, l->inputs[0]).scale;
    double out_s = (double)d->output.scale;
    for (size_t c = 0; c < channels; c++) {
        float ws = w->scales[w->n_scales > 1 ? c : 0];
        if (!(ws > 0.0f) || !isfinite(ws))
            return layer_error(dm, i, MCO_ERR_FORMAT, "channel", c, ": its weight scale is not a positive number");
        d->weight_scales[c] = ws;
        double real = w->fc_float_product && l->type == MCO_LAYER_DENSE && !d->per_channel
                          ? (double)(in_s * ws) / out_s
                          : (double)in_s * (double)ws / out_s;
        mco_status st = mco_quantize_multiplier(real, &d->multiplier[c], &d->shift[c]);
        if (st != MCO_OK) {
            char why[300];
            snprintf(why, sizeof why, ": %s", mco_last_error());
            return layer_error(dm, i, st, "channel", c, why);
        }
    }
    return MCO_OK;
}

static int same_q(mco_qparams a, mco_qparams b) { return a.scale == b.scale && a.zero_point == b.zero_point; }

mco_status mco_deploy_int8_check_layer(const mco_deploy_model *dm, int i)
{
    const mco_layer *l = &dm->model.layers[i];
    mco_qparams in = mco_deploy_input_qparams(dm, l->inputs[0]), out = dm->layers[i].output;
    switch (l->type) {
    case MCO_LAYER_SOFTMAX:
        if (out.scale != 1.0f / 256.0f || out.zero_point != -128)
            return mco_error(MCO_ERR_UNSUPPORTED, "layer %d (%s): int8 softmax output quantization (%g, %d); "
                             "the int8 kernel's (TFLite's) is (1/256, -128)", i, l->name, (double)out.scale,
                             (int)out.zero_point);
        return MCO_OK;
    case MCO_LAYER_RELU:
    case MCO_LAYER_RELU6:
    case MCO_LAYER_MAXPOOL2D:
    case MCO_LAYER_AVGPOOL2D:
    case MCO_LAYER_FLATTEN:
    case MCO_LAYER_DROPOUT:
        if (!same_q(in, out))
            return mco_error(MCO_ERR_UNSUPPORTED, "layer %d (%s): input and output quantization differ "
                             "((%g, %d) and (%g, %d)); mcuopt's int8 %s keeps its input's", i, l->name,
                             (double)in.scale, (int)in.zero_point, (double)out.scale, (int)out.zero_point,
                             mco_layer_type_name(l->type));
        return MCO_OK;
    default:
        return MCO_OK;
    }
}
