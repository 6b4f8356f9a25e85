/*
 * qat.h - quantization-aware training (QAT): fine-tune a float model while
 * its forward pass rounds weights and activations the way the int8 runtime
 * will, then convert it to an int8 deploy model with the activation ranges
 * learnt during training instead of post-training calibration.
 *
 * Typical use ("fold then fine-tune"):
 *
 *   mco_model qat;                       // BatchNorm folded, Dropout removed
 *   mco_qat_prepare(&float_model, &qat);
 *   mco_qat_ranges ranges;
 *   mco_qat_ranges_init(&ranges, &qat);
 *   mco_qat_config cfg;
 *   mco_qat_config_default(&cfg);
 *   cfg.ranges = &ranges;
 *   opt.qat = &cfg;                      // mco_train_options, e.g. 2 epochs, lr 5e-4
 *   mco_train(&qat, &train, NULL, &opt, &result);
 *   mco_qat_evaluate(&qat, &ranges, &test, 0, &fake_quant_accuracy);
 *   mco_qat_convert(&qat, &ranges, &deploy);   // then mco_deploy_save / evaluate / emit
 *
 * What the training forward computes (fake quantization), chosen to match
 * the int8 runtime built by mco_qat_convert:
 *   weights      of every Conv2D / DepthwiseConv2D / Dense, each step, from
 *                the float master weights: per output channel symmetric
 *                int8 exactly as mco_quantize stores them (scale = max|w| /
 *                127, round to nearest, clamp to [-127, 127]), dequantized.
 *                Biases likewise become whole steps of input scale x weight
 *                scale (the runtime's int32 bias) once the ranges exist. The
 *                gradient with respect to these is applied to the master
 *                weights and biases (straight-through estimator).
 *   input        rounded to the deploy input grid (scale norm.scale /
 *                norm.std, q = raw - 128): raw pixels land exactly where the
 *                runtime puts them. The grid's zero point is rounded, so this
 *                is not the identity: it shifts MNIST's normalised input by a
 *                third of a grey level, which left uncorrected made a fifth
 *                of the int8 logits differ by one step from the fake-quantized
 *                ones (0.4 % once corrected).
 *   activations  fake-quantized (asymmetric int8 [-128, 127], TFLite's nudged
 *                zero point, mco_quantize's rule) wherever the runtime holds
 *                a requantized int8 tensor: the output of each Conv2D /
 *                DepthwiseConv2D / Dense / Add, taken after its ReLU/ReLU6
 *                when that activation is its only consumer (the runtime fuses
 *                it). AvgPool / GlobalAvgPool outputs are rounded to their
 *                input's grid (the runtime's integer mean). Max pools,
 *                Flatten and unfused ReLUs keep their input's grid, so they
 *                are not touched.
 *                A final Softmax is not quantized: the loss and the accuracy
 *                read its input, the int8 logits.
 *                Backward: the gradient passes where the input lay inside the
 *                representable range and is zero where it was clipped (a
 *                ReLU's own backward then reads its rounded output).
 *   ranges       per quantization point, an exponential moving average of
 *                the batch min/max, updated after each step on the calling
 *                thread from the threads' batch min/max combined in thread
 *                order (deterministic for a seed and thread count). The
 *                first batch initialises them (that step rounds only the
 *                input and the weights); they stop moving after freeze_fraction of
 *                the steps, so the last steps train against the ranges the
 *                conversion uses.
 * BatchNorm: folded into the preceding conv before QAT (mco_qat_prepare),
 * so fine-tuning sees the deployed weights; there is no BatchNorm to train.
 *
 * What it leaves out: symmetric activations, int4 weights, per-tensor
 * weight scales, learnt clipping ranges (LSQ/PACT), a quantized Softmax
 * output, saving the ranges (convert at the end of training).
 */
#ifndef MCUOPT_QAT_H
#define MCUOPT_QAT_H

#include "mcuopt/data.h"
#include "mcuopt/deploy.h"
#include "mcuopt/graph.h"
#include "mcuopt/status.h"
#include "mcuopt/train.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The learnt activation ranges, one entry per layer of the QAT model; only
 * the quantization points' entries are used (the others stay 0). */
typedef struct {
    int n_layers;
    float *lo, *hi;   /* [n_layers] */
    long updates;     /* moving-average updates so far; 0: not initialised yet */
} mco_qat_ranges;

/* What mco_train_options.qat points to. */
typedef struct mco_qat_config {
    float ema_decay;         /* range <- decay * range + (1 - decay) * batch range; in [0, 1), default 0.999 */
    float freeze_fraction;   /* ranges are updated during the first freeze_fraction of the training
                                steps (always on the first, if not yet initialised); in [0, 1], default 0.75 */
    mco_qat_ranges *ranges;  /* in/out, from mco_qat_ranges_init for the model being trained */
} mco_qat_config;

void mco_qat_config_default(mco_qat_config *cfg);

/* A copy of `float_model` ready for QAT: BatchNorm folded into the preceding
 * conv/dense layers and Dropout removed (mco_model_fold_for_inference).
 * Fails if a BatchNorm cannot be folded (int8 inference has no BatchNorm). */
mco_status mco_qat_prepare(const mco_model *float_model, mco_model *qat_model);

/* Ranges for `qat_model`, not yet initialised. */
mco_status mco_qat_ranges_init(mco_qat_ranges *ranges, const mco_model *qat_model);
void mco_qat_ranges_free(mco_qat_ranges *ranges);

/* 1 if layer i's output is fake-quantized with a range of its own (a
 * "quantization point": where mco_qat_ranges has an entry in use). */
int mco_qat_is_quantization_point(const mco_model *qat_model, int i);

/* Inference-mode accuracy of the fake-quantized model (weights and
 * activations rounded as in training, with the ranges as they are); the
 * result does not depend on the thread count (0: all cores). */
mco_status mco_qat_evaluate(const mco_model *qat_model, const mco_qat_ranges *ranges, const mco_dataset *data,
                            int threads, mco_eval_result *result);

/* Inference-mode outputs of the last layer of the fake-quantized model for
 * `batch` normalised inputs (as mco_model_predict). */
mco_status mco_qat_predict(const mco_model *qat_model, const mco_qat_ranges *ranges, const float *input,
                           int batch, float *output);

/* The int8 deploy model (int8 weights with TFLite's granularity, int8 activations) of a
 * trained QAT model, with every activation's scale and zero point taken from
 * `ranges` (mco_quantize's rules otherwise). The runtime then computes what
 * the fake-quantized forward computed, up to the rounding of the int32
 * bias and of the fixed-point requantization. */
mco_status mco_qat_convert(const mco_model *qat_model, const mco_qat_ranges *ranges, mco_deploy_model *out);

#ifdef __cplusplus
}
#endif
#endif
