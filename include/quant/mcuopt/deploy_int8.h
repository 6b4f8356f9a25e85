/*
 * deploy_int8.h - an int8 deploy model (deploy.h) from the integer
 * parameters a converter hands over, rather than from calibration: the
 * TFLite importer (a full-integer .tflite) and the ONNX QDQ importer (an
 * ONNX graph with QuantizeLinear / DequantizeLinear) both fill a deploy
 * model this way (deploy_int8.c), after setting every layer's output
 * quantization (and dm->input) from the file.
 *
 * What it leaves out: reading any file format (the importers do), and the
 * layer kinds whose integer parameters depend on one format's semantics
 * (TFLite's MEAN multiplier: the TFLite importer sets it).
 */
#ifndef MCUOPT_DEPLOY_INT8_H
#define MCUOPT_DEPLOY_INT8_H

#include <stdint.h>

#include "mcuopt/deploy.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The int8 weights of one weighted layer as a file gives them. */
typedef struct {
    const int8_t *weights;   /* in mcuopt's layout (OHWI, 1HWC, [units][in]) */
    const float *scales;     /* one per output channel, or one for all */
    int n_scales;            /* 1 or the layer's output channels */
    const int32_t *bias;     /* int32 bias per output channel (scale input x weight scale), or NULL: zeros */
    int fc_float_product;    /* 1: a per-tensor Dense's multiplier is double(float(input scale x weight scale))
                                / output scale, as TFLite Micro's FULLY_CONNECTED; 0: the product in double */
} mco_int8_weights;

/* The quantization of layer `input`'s output (MCO_INPUT: the model input). */
mco_qparams mco_deploy_input_qparams(const mco_deploy_model *dm, int input);

/* Sets weighted layer i of an int8 deploy model (its output and its
 * input's quantization already set): S8 weights (-128 is refused, as
 * TFLite's int8 specification keeps weights in [-127, 127]), scales,
 * biases, and the requantization multiplier and shift of each channel.
 * Errors are one line "layer i (name): ...". */
mco_status mco_deploy_int8_weighted(mco_deploy_model *dm, int i, const mco_int8_weights *w);

/* Checks layer i (a layer without weights) once every output quantization
 * is set: a softmax's must be (1/256, -128), the int8 kernel's; a ReLU,
 * ReLU6, max or average pool, flatten or dropout does not requantize, so
 * its output quantization must be its input's. */
mco_status mco_deploy_int8_check_layer(const mco_deploy_model *dm, int i);

#ifdef __cplusplus
}
#endif
#endif
