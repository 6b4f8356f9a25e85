/*
 * fuzz_seeds.h - what the seed maker (make_seeds.c) and the harnesses must
 * agree on:
 *   fuzz_tiny_arch     the architecture of the seed models (every common
 *                      layer on a 6x6x1 input, 129 parameters, so each
 *                      execution stays cheap; every deploy format of it
 *                      plans and runs); fuzz_resource_model.c estimates
 *                      it under every loaded table;
 *   fuzz_seed_study()  the search study of the trial-store seeds, which the
 *                      trial store harness resumes with, so resuming gets
 *                      past the study check and into the trial rows.
 *
 * What it leaves out: nothing else; header-only (static).
 */
#ifndef MCO_FUZZ_SEEDS_H
#define MCO_FUZZ_SEEDS_H

#include <stdio.h>
#include <string.h>

#include "mcuopt/trials.h"

static const char fuzz_tiny_arch[] =
    "# every common layer on a 6x6x1 input\n"
    "input 6 6 1\n"
    "classes 3\n"
    "conv2d filters=2 kernel=3 padding=same\n"
    "s = relu\n"
    "depthwise_conv2d kernel=3 padding=same\n"
    "b = relu6\n"
    "add inputs=s,b\n"
    "conv2d filters=2 kernel=3 padding=valid\n"
    "maxpool2d pool=2\n"
    "avgpool2d pool=1\n"
    "flatten\n"
    "dense units=4\n"
    "relu\n"
    "dense units=classes\n"
    "softmax\n";

static inline void fuzz_seed_study(mco_trial_study *study)
{
    memset(study, 0, sizeof *study);
    snprintf(study->model_hash, sizeof study->model_hash, "0123456789abcdef");
    snprintf(study->model_path, sizeof study->model_path, "seed.mco");
    snprintf(study->target, sizeof study->target, "stm32f405");
    study->min_accuracy = 0.9;
    study->seed = 7;
    study->budget = 10;
    snprintf(study->settings, sizeof study->settings, "space=fuzz");
}

#endif
