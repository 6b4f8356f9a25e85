/*
 * input_warning.c - the warning `mcuopt eval` and `mcuopt quantize` print
 * when the data, after the model's input normalisation, looks far from the
 * inputs the model was made for (mco_input_check, input_check.h): one
 * "mcuopt: warning:" line on stderr naming the likely fix; the command goes
 * on (a model may really take such inputs).
 *
 * What it leaves out: looking at more than the first 1000 samples, and data
 * of another shape than the model's input (the command then fails with its
 * own error line, which stays the only line).
 */
#include <stdio.h>

#include "cli.h"
#include "mcuopt/input_check.h"

void cli_warn_input_stats(const mco_model *model, const mco_deploy_model *dm, const mco_dataset *ds)
{
    float lo = 0.0f, hi = 0.0f;
    if (dm) {
        model = &dm->model;
        if (dm->activation_format == MCO_ACT_S8) {   /* what quantizes into [-128, 127] without clamping */
            lo = dm->input.scale * ((float)(-128 - dm->input.zero_point) - 0.5f);
            hi = dm->input.scale * ((float)(127 - dm->input.zero_point) + 0.5f);
        }
    }
    mco_shape in = model->input_shape;
    if (ds->shape.h != in.h || ds->shape.w != in.w || ds->shape.c != in.c) return;   /* the evaluation says so */
    mco_input_stats s;
    char why[700];
    if (mco_input_stats_compute(ds, &model->norm, 1000, lo, hi, &s) != MCO_OK) {
        mco_clear_error();   /* out of memory: no statistics, no warning */
        return;
    }
    if (mco_input_check(&s, &model->norm, ds->sample_type == MCO_SAMPLE_U8, lo, hi, why, sizeof why))
        fprintf(stderr, "mcuopt: warning: %s\n", why);
}
