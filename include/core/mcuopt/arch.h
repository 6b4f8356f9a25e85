/*
 * arch.h - describing network architectures: a small text format, and the
 * built-in named architectures (which are written in that same format).
 *
 * The format, one layer per line ('#' starts a comment):
 *
 *   input 28 28 1            # input height, width, channels
 *   classes 10               # default class count; "units=classes" uses it
 *   loss mse                 # optional: train on the mean squared error of
 *                            # reconstructing the input (an autoencoder; no
 *                            # classes line then); default cross_entropy
 *   conv2d filters=12 kernel=3 padding=valid
 *   relu
 *   maxpool2d pool=2
 *   flatten
 *   dense units=classes
 *
 * A layer line is `[name =] type key=value ...`. A layer reads the previous
 * layer's output unless `input=NAME` (or, for add and concat, `inputs=A,B`) names other
 * layers; `input` names the model input. Keys: filters / units (a number or
 * "classes"), kernel (k or KHxKW), stride (s or SHxSW), pool (pool size; the
 * stride defaults to it), padding (valid | same), rate (dropout), epsilon,
 * momentum (batchnorm), alpha (leaky_relu: the slope below zero, default
 * 0.01; hard_sigmoid: the slope, default 1/6), beta (hard_sigmoid: the
 * offset, default 0.5), count_pad (avgpool2d: 1 divides by the whole window,
 * padding counted as zeros, as PyTorch's AvgPool2d; default 0: by the
 * in-bounds inputs), output_padding (conv_transpose2d: rows and columns
 * added after its output, OH or OHxOW, each below the stride; default 0).
 * Layer types are the names of mco_layer_type_name().
 * Errors name the origin and line: "my.arch:4: unknown layer type 'conv3d'".
 */
#ifndef MCUOPT_ARCH_H
#define MCUOPT_ARCH_H

#include "mcuopt/graph.h"
#include "mcuopt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Builds a model from architecture text. A non-zero `input` shape or
 * `n_classes` is what the data gives: it fills in a text without its own
 * `input` / `classes` line, and must equal the text's line where there is
 * one (else MCO_ERR_SHAPE, one line with both: an architecture is never
 * silently refitted to other data). Shapes are inferred; parameters are not
 * allocated. */
mco_status mco_arch_parse(const char *text, const char *origin, mco_shape input, int n_classes,
                          mco_model *out);

/* Same, from a built-in name ("mnist-paper", "lenet5", "ds-cnn" (alias
 * "ds-cnn-s"), "mobilenet-v1-0.25", "ad-autoencoder", "resnet8", "mlp": the
 * MLPerf Tiny ones as in its reference models) or else the path of an
 * architecture file. Both leave *out an empty
 * model on failure (nothing to free; mco_model_free() on it is harmless). */
mco_status mco_arch_load(const char *name_or_path, mco_shape input, int n_classes, mco_model *out);

/* NULL-terminated list of the built-in architecture names. */
const char *const *mco_arch_builtin_names(void);
/* The text of a built-in architecture, or NULL. */
const char *mco_arch_builtin_text(const char *name);

#ifdef __cplusplus
}
#endif
#endif
