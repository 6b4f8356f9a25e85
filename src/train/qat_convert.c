/*
 * qat_convert.c - a model trained with quantization-aware training (see
 * include/train/mcuopt/qat.h) becomes an int8 deploy model: int8 weights (per
 * channel in conv layers, one scale per Dense layer, as mco_quantize's
 * default and the fake quantization) and int8 activations, every activation's scale and zero point
 * taken from the ranges learnt in training instead of post-training
 * calibration. Everything else is mco_quantize's own machinery
 * (mco_quantize_with_ranges), so the weights are the very integers the
 * fake-quantized training forward used.
 *
 * What it leaves out: int4 weights, per-tensor scales and symmetric
 * activations (QAT trains none of them).
 */
#include "mcuopt/qat.h"

#include "mcuopt/quant_rules.h"

mco_status mco_qat_convert(const mco_model *qat_model, const mco_qat_ranges *ranges, mco_deploy_model *out)
{
    if (ranges->n_layers != qat_model->n_layers)
        return mco_error(MCO_ERR_ARG, "QAT ranges are for %d layers, the model has %d", ranges->n_layers,
                         qat_model->n_layers);
    if (ranges->updates == 0)
        return mco_error(MCO_ERR_ARG, "QAT ranges are not initialised: train with them first");
    mco_quant_options opt;
    mco_quant_options_default(&opt);
    opt.activation_format = MCO_ACT_S8;
    opt.weight_format = MCO_WEIGHTS_S8;
    opt.granularity = MCO_GRANULARITY_TFLITE;   /* as the fake quantization (fake_quant.c) */
    opt.symmetric_activations = 0;
    /* Folding a QAT model (already folded) changes nothing, so the layer
     * indices of the ranges stay valid; mco_quantize_with_ranges checks the count. */
    return mco_quantize_with_ranges(qat_model, ranges->lo, ranges->hi, ranges->n_layers, &opt, out);
}
