/*
 * deploy_util.h - small facts about deploy models shared by the
 * quantizer (quantize.c), the .mcq reader/writer (deploy_file.c), the QAT
 * fake quantization (src/train/fake_quant.c), the ONNX exporter and
 * deploy_model.c, which implements them.
 */
#ifndef MCUOPT_DEPLOY_UTIL_H
#define MCUOPT_DEPLOY_UTIL_H

#include <stddef.h>

#include "mcuopt/deploy.h"

/* Conv2D, DepthwiseConv2D and Dense: the layers whose weights are quantized. */
int mco_deploy_is_weighted(const mco_layer *l);
/* Output channels of a weighted layer (filters, channels, units); 0 otherwise. */
int mco_deploy_channels(const mco_layer *l);
/* Largest magnitude of a quantized weight: 127 (S8), 7 (S4), else 0. */
int mco_deploy_weight_qmax(mco_weight_format f);
/* "f32", "f16", "s8", "s4" (or "?"). */
const char *mco_weight_format_name(mco_weight_format f);

/* Starts *dm as a float32 deploy model owning `folded` (moved in, not
 * copied): one zeroed F32 layer record per model layer. On failure
 * `folded` is freed. */
mco_status mco_deploy_init_from_folded(mco_deploy_model *dm, mco_model *folded);

#endif
