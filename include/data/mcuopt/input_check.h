/*
 * input_check.h - does a data set, put through a model's input
 * normalisation, look like what the model was made for? (input_check.c)
 * `mcuopt eval` and `mcuopt quantize` warn when it does not: a model
 * trained on pixel / 255 but imported without its normalisation gets raw
 * 0..255 values, runs, and scores far below what it should, with no error.
 *
 * What the model was made for: an int8 deploy model's input quantization
 * is the range its inputs were calibrated on; a float model records no
 * range, and networks are trained on inputs of about unit scale (standardised,
 * or pixel / 255), so normalised inputs with a mean or spread beyond 20, or
 * a spread below 0.02, are taken as far from it.
 *
 * What it leaves out: anything finer than these bounds (a model trained
 * on a scale of 30 would be warned about wrongly), and the data's labels.
 */
#ifndef MCUOPT_INPUT_CHECK_H
#define MCUOPT_INPUT_CHECK_H

#include <stddef.h>

#include "mcuopt/data.h"
#include "mcuopt/graph.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    double mean, std, min, max;   /* of the normalised input values */
    double outside;               /* share of values outside [lo, hi] (0 when no range is given) */
    size_t n;                     /* values looked at */
} mco_input_stats;

/* Statistics of the normalised input values of the first `max_samples`
 * samples of ds (all when it holds fewer); lo < hi counts the values
 * outside [lo, hi], else pass lo = hi = 0. */
mco_status mco_input_stats_compute(const mco_dataset *ds, const mco_normalization *norm, int max_samples, float lo,
                                   float hi, mco_input_stats *out);

/* 1 and one line in `why` (the finding and the likely fix) when the stats
 * look far from the model's inputs: with a range (lo < hi, an int8
 * model's), more than 2 % of the values outside it or a spread below 1/16
 * of it; without, a mean or standard deviation beyond 20, or a standard
 * deviation below 0.02. 0 otherwise. `raw_u8`: the samples are raw 8-bit
 * values (the fix then names pixel / 255). */
int mco_input_check(const mco_input_stats *s, const mco_normalization *norm, int raw_u8, float lo, float hi,
                    char *why, size_t size);

#ifdef __cplusplus
}
#endif
#endif
