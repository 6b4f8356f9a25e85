/*
 * deploy_model.c - the deploy model's life cycle and bookkeeping (see
 * deploy.h): the float32 deploy model, freeing, Flash bytes per layer, the
 * one-line description, and the quantization option defaults.
 *
 * Flash bytes: float32 4 per weight and bias; float16 2 per weight + float
 * bias; int8 1 per weight and int4 half a byte per weight (rounded up) with
 * int8 activations -- plus int32 bias, multiplier and shift per channel --
 * but 1 byte per int4 weight with float activations, whose kernels take
 * unpacked weights -- plus float bias and float scale per channel.
 *
 * What it leaves out: quantization itself (quantize.c) and the .mcq file
 * (deploy_file.c).
 */
#include "mcuopt/deploy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcuopt/deploy_util.h"
#include "mcuopt/model_file.h"

int mco_deploy_is_weighted(const mco_layer *l)
{
    return l->type == MCO_LAYER_CONV2D || l->type == MCO_LAYER_DEPTHWISE_CONV2D ||
           l->type == MCO_LAYER_DENSE || l->type == MCO_LAYER_CONV_TRANSPOSE2D;
}

int mco_deploy_channels(const mco_layer *l)
{
    if (l->type == MCO_LAYER_DEPTHWISE_CONV2D) return l->out_shape.c;   /* in_c x depth multiplier */
    if (mco_deploy_is_weighted(l)) return l->units;
    return 0;
}

int mco_deploy_weight_qmax(mco_weight_format f)
{
    return f == MCO_WEIGHTS_S8 ? 127 : f == MCO_WEIGHTS_S4 ? 7 : 0;
}

const char *mco_weight_format_name(mco_weight_format f)
{
    switch (f) {
    case MCO_WEIGHTS_F32: return "f32";
    case MCO_WEIGHTS_F16: return "f16";
    case MCO_WEIGHTS_S8: return "s8";
    case MCO_WEIGHTS_S4: return "s4";
    }
    return "?";
}

void mco_quant_options_default(mco_quant_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->activation_format = MCO_ACT_S8;
    opt->weight_format = MCO_WEIGHTS_S8;
    opt->layer_formats = NULL;
    opt->granularity = MCO_GRANULARITY_TFLITE;
    opt->symmetric_activations = 0;
    opt->calibration = MCO_CALIBRATE_MINMAX;
    opt->percentile = 99.99f;
    opt->calibration_samples = 1000;
    opt->threads = 0;
}

mco_status mco_deploy_init_from_folded(mco_deploy_model *dm, mco_model *folded)
{
    memset(dm, 0, sizeof *dm);
    dm->layers = calloc((size_t)folded->n_layers, sizeof *dm->layers);
    if (!dm->layers) {
        mco_model_free(folded);
        return mco_error(MCO_ERR_NOMEM, "out of memory for %d deploy layers", folded->n_layers);
    }
    dm->model = *folded;
    dm->activation_format = MCO_ACT_F32;
    dm->calibration = MCO_CALIBRATE_MINMAX;
    for (int i = 0; i < folded->n_layers; i++) {
        dm->layers[i].weight_format = MCO_WEIGHTS_F32;
        dm->layers[i].n_channels = mco_deploy_channels(&folded->layers[i]);
        dm->layers[i].per_channel = 1;
    }
    return MCO_OK;
}

mco_status mco_deploy_from_float(const mco_model *float_model, mco_deploy_model *out)
{
    memset(out, 0, sizeof *out);
    /* Non-finite parameters (a diverged training run) would come out as
     * garbage weights and scales: refuse them, naming the layer. Folding can
     * make them too (a negative BatchNorm variance). */
    mco_status st = mco_model_check_finite(float_model);
    if (st != MCO_OK) return st;
    mco_model folded;
    if ((st = mco_model_clone(float_model, &folded)) != MCO_OK) return st;
    if ((st = mco_model_fold_for_inference(&folded)) == MCO_OK && mco_model_check_finite(&folded) != MCO_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", mco_last_error());
        st = mco_error(MCO_ERR_RANGE, "after folding batch normalisation, %s", msg);
    }
    if (st != MCO_OK) {
        mco_model_free(&folded);
        return st;
    }
    return mco_deploy_init_from_folded(out, &folded);
}

void mco_deploy_free(mco_deploy_model *dm)
{
    if (dm->layers) {
        for (int i = 0; i < dm->model.n_layers; i++) {
            mco_deploy_layer *l = &dm->layers[i];
            free(l->weight_scales);
            free(l->weights_q);
            free(l->weights_f16);
            free(l->bias_q);
            free(l->multiplier);
            free(l->shift);
        }
    }
    free(dm->layers);
    mco_model_free(&dm->model);
    memset(dm, 0, sizeof *dm);
}

size_t mco_deploy_layer_bytes(const mco_deploy_model *dm, int layer)
{
    if (layer < 0 || layer >= dm->model.n_layers) return 0;
    const mco_layer *l = &dm->model.layers[layer];
    const mco_deploy_layer *d = &dm->layers[layer];
    if (!mco_deploy_is_weighted(l) || d->weight_format == MCO_WEIGHTS_F32)
        return mco_layer_param_count(l) * sizeof(float);
    size_t n_weights = l->params[MCO_PARAM_WEIGHTS].size, channels = (size_t)d->n_channels;
    switch (d->weight_format) {
    case MCO_WEIGHTS_F16:
        return 2 * n_weights + 4 * l->params[MCO_PARAM_BIAS].size;
    case MCO_WEIGHTS_S8:
    case MCO_WEIGHTS_S4: {
        /* int4 is packed two per byte only for the int8-activation kernels; the float
         * (hybrid) kernels take int4 weights unpacked, one byte each (see codegen.h). */
        int packed = d->weight_format == MCO_WEIGHTS_S4 && dm->activation_format == MCO_ACT_S8;
        size_t weight_bytes = packed ? (n_weights + 1) / 2 : n_weights;
        /* int8 activations: int32 bias, multiplier and shift; float: float bias and scale
         * (per channel, or one for the layer) */
        size_t scale_bytes = dm->activation_format == MCO_ACT_S8 ? 8 : 4;
        return weight_bytes + 4 * channels + scale_bytes * (d->per_channel ? channels : 1);
    }
    default:
        return 0;
    }
}

size_t mco_deploy_weight_bytes(const mco_deploy_model *dm)
{
    size_t total = 0;
    for (int i = 0; i < dm->model.n_layers; i++) total += mco_deploy_layer_bytes(dm, i);
    return total;
}

static const char *calibration_name(mco_calibration c)
{
    switch (c) {
    case MCO_CALIBRATE_MINMAX: return "minmax";
    case MCO_CALIBRATE_PERCENTILE: return "percentile";
    case MCO_CALIBRATE_MSE: return "mse";
    case MCO_CALIBRATE_IMPORTED: return "the imported file's scales";
    }
    return "?";
}

void mco_deploy_describe(const mco_deploy_model *dm, char *buf, size_t size)
{
    if (size == 0) return;
    /* The weight formats of the weighted layers, in order, and whether they differ. */
    char formats[256] = "";
    size_t used = 0;
    int n_weighted = 0, mixed = 0, per_channel = 0, per_tensor = 0;
    mco_weight_format first = MCO_WEIGHTS_F32;
    for (int i = 0; i < dm->model.n_layers; i++) {
        if (!mco_deploy_is_weighted(&dm->model.layers[i])) continue;
        const mco_deploy_layer *d = &dm->layers[i];
        if (n_weighted == 0) first = d->weight_format;
        if (d->weight_format != first) mixed = 1;
        if (d->weight_format == MCO_WEIGHTS_S8 || d->weight_format == MCO_WEIGHTS_S4)
        {
            per_channel |= d->per_channel;
            per_tensor |= !d->per_channel;
        }
        if (used < sizeof formats)
            used += (size_t)snprintf(formats + used, sizeof formats - used, "%s%s", n_weighted ? "," : "",
                                     mco_weight_format_name(d->weight_format));
        n_weighted++;
    }
    int quantized = mixed || first == MCO_WEIGHTS_S8 || first == MCO_WEIGHTS_S4;
    const char *granularity = per_channel && per_tensor ? "per-channel conv, per-tensor dense"
                              : per_channel               ? "per-channel"
                                                          : "per-tensor";
    if (dm->activation_format == MCO_ACT_S8) {
        const char *calib = calibration_name(dm->calibration);
        if (mixed)
            snprintf(buf, size, "mixed %s weights + int8 activations (%s, %s)", formats, granularity, calib);
        else if (first == MCO_WEIGHTS_S4)
            snprintf(buf, size, "int4 weights + int8 activations (%s, %s)", granularity, calib);
        else
            snprintf(buf, size, "int8 (%s weights, int8 activations, %s)", granularity, calib);
    } else if (mixed) {
        snprintf(buf, size, "mixed %s weights (%s, float32 activations)", formats, granularity);
    } else if (quantized) {
        snprintf(buf, size, "%s weights only (%s, float32 activations)",
                 first == MCO_WEIGHTS_S8 ? "int8" : "int4", granularity);
    } else {
        snprintf(buf, size, "%s", first == MCO_WEIGHTS_F16 ? "float16 weights (float32 activations)"
                                                           : "float32");
    }
}
