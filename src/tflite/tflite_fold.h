/*
 * tflite_fold.h - the constant tensors of a TFLite graph (tflite_fold.c):
 * reading a constant's values as integers or floats, and folding the
 * operators whose inputs are all known (the SHAPE -> STRIDED_SLICE -> PACK
 * chain Keras models compute a RESHAPE's shape with, CONCATENATION and
 * RESHAPE of constants, DEQUANTIZE of float16 or int8 weights) into new
 * constants.
 *
 * What it leaves out: folding anything else (an operator on constants that
 * is not listed stays an operator, and the importer maps or refuses it).
 */
#ifndef MCO_TFLITE_FOLD_H
#define MCO_TFLITE_FOLD_H

#include <stddef.h>
#include <stdint.h>

#include "tflite_graph.h"

typedef struct {
    const mco_tfl_graph *g;
    const char *origin;
    int64_t **ints;       /* [n_tensors]: folded integer values, or NULL */
    float **floats;       /* [n_tensors]: folded float values, or NULL */
} mco_tfl_consts;

mco_status mco_tfl_consts_init(mco_tfl_consts *c, const mco_tfl_graph *g, const char *origin);
void mco_tfl_consts_free(mco_tfl_consts *c);

/* 1 if tensor t's values are known (file data or folded). */
int mco_tfl_is_const(const mco_tfl_consts *c, int t);
/* Element count of tensor t's shape. */
size_t mco_tfl_count(const mco_tfl_graph *g, int t);

/* The values of an INT32 / INT64 constant (at most `cap`, count in *n). */
mco_status mco_tfl_const_ints(const mco_tfl_consts *c, int t, int64_t *out, size_t cap, size_t *n);
/* The n values of a FLOAT32 / FLOAT16 constant, or of an INT8 / UINT8 one
 * dequantized with its scales and zero points (per channel along its
 * quantized dimension). */
mco_status mco_tfl_const_floats(const mco_tfl_consts *c, int t, float *out, size_t n);

/* Folds operator k if it is one of the foldable kinds and its inputs are
 * known: *folded = 1 and its output becomes a constant. *folded = 0 when
 * it is not (the caller maps it). Errors name the operator. */
mco_status mco_tfl_fold(mco_tfl_consts *c, int k, int *folded);

#endif
