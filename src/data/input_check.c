/*
 * input_check.c - statistics of a data set after a model's normalisation,
 * and whether they look like the model's inputs (see mcuopt/input_check.h).
 *
 * What it leaves out: per-channel statistics (one mean and spread over all
 * values), and samples beyond the first `max_samples`.
 */
#include "mcuopt/input_check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

mco_status mco_input_stats_compute(const mco_dataset *ds, const mco_normalization *norm, int max_samples, float lo,
                                   float hi, mco_input_stats *out)
{
    size_t per = mco_shape_size(ds->shape);
    int count = ds->n < max_samples ? ds->n : max_samples;
    *out = (mco_input_stats){0.0, 0.0, 0.0, 0.0, 0.0, 0};
    if (count < 1 || per < 1) return MCO_OK;
    float *x = malloc(per * sizeof *x);
    if (!x) return mco_error(MCO_ERR_NOMEM, "out of memory for input statistics");
    double sum = 0.0, sum2 = 0.0, outside = 0.0, mn = INFINITY, mx = -INFINITY;
    for (int i = 0; i < count; i++) {
        mco_dataset_to_float(ds, norm, NULL, i, 1, x);
        for (size_t k = 0; k < per; k++) {
            double v = x[k];
            sum += v;
            sum2 += v * v;
            mn = v < mn ? v : mn;
            mx = v > mx ? v : mx;
            outside += lo < hi && (v < lo || v > hi);
        }
    }
    free(x);
    double n = (double)count * (double)per, mean = sum / n, var = sum2 / n - mean * mean;
    *out = (mco_input_stats){mean, sqrt(var > 0.0 ? var : 0.0), mn, mx, outside / n, (size_t)n};
    return MCO_OK;
}

/* The fix to name: the normalisation is set when the model is imported. */
static const char *likely_fix(const mco_normalization *norm, int raw_u8, int too_large)
{
    int identity = norm->scale == 1.0f && norm->mean == 0.0f && norm->std == 1.0f;
    if (raw_u8 && identity && too_large)
        return "if the model was trained on pixel / 255, import it with --normalize 0.00392157,0,1 (or "
               "--dataset NAME for a built-in set's normalisation)";
    return "check the model's input normalisation (mcuopt info shows it; mcuopt import --normalize SCALE,MEAN,STD "
           "or --dataset NAME sets it)";
}

int mco_input_check(const mco_input_stats *s, const mco_normalization *norm, int raw_u8, float lo, float hi,
                    char *why, size_t size)
{
    if (s->n == 0 || !isfinite(s->mean) || !isfinite(s->std)) return 0;
    if (lo < hi) {
        double span = (double)hi - (double)lo, data_span = s->max - s->min;
        if (s->outside > 0.02) {
            snprintf(why, size, "%.0f %% of the input values after the model's normalisation (range [%.4g, %.4g]) "
                     "fall outside the range its int8 input was calibrated on, [%.4g, %.4g]; %s",
                     100.0 * s->outside, s->min, s->max, (double)lo, (double)hi,
                     likely_fix(norm, raw_u8, data_span > span));
            return 1;
        }
        if (data_span < span / 16.0) {
            snprintf(why, size, "the input values after the model's normalisation span [%.4g, %.4g], a small part "
                     "of the range its int8 input was calibrated on, [%.4g, %.4g]; %s", s->min, s->max,
                     (double)lo, (double)hi, likely_fix(norm, raw_u8, 0));
            return 1;
        }
        return 0;
    }
    if (fabs(s->mean) > 20.0 || s->std > 20.0 || (s->std < 0.02 && s->max > s->min)) {
        snprintf(why, size, "the input values after the model's normalisation have mean %.4g and standard deviation "
                 "%.4g (range [%.4g, %.4g]), far from the unit scale networks are trained on; %s", s->mean, s->std,
                 s->min, s->max, likely_fix(norm, raw_u8, s->std > 20.0 || fabs(s->mean) > 20.0));
        return 1;
    }
    return 0;
}
