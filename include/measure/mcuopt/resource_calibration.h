/*
 * resource_calibration.h - fitting the resource model's calibration table
 * (mcuopt/resource.h) from emulator runs, and comparing one prediction with
 * a measurement (src/measure/resource_calibration.c). It sits above the
 * estimate because it builds, quantizes, emits and measures models.
 *
 * What it leaves out: the estimate itself (mcuopt/resource.h).
 */
#ifndef MCUOPT_RESOURCE_CALIBRATION_H
#define MCUOPT_RESOURCE_CALIBRATION_H

#include <stdint.h>

#include "mcuopt/deploy.h"
#include "mcuopt/measure.h"
#include "mcuopt/resource.h"
#include "mcuopt/status.h"
#include "mcuopt/target.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const mco_context *ctx;  /* runtime and firmware directories (required), temporary
                                directory; its log gets one MCO_LOG_INFO line per
                                measured model and per fitted kernel */
    const char *classes;     /* comma-separated class names; NULL: m0plus,m3,m4f,m7 */
    int timeout_s;           /* per QEMU run; 0: 120 */
} mco_calibration_options;

void mco_calibration_options_default(mco_calibration_options *opt);

/* Measures the calibration models on every class and fits the table (see the
 * top of mcuopt/resource.h). Needs the tools mco_target_measure needs; takes minutes. */
mco_status mco_cost_model_calibrate(const mco_calibration_options *opt, mco_cost_model **out);

/* The profile the calibration of a class runs on: its core and FPU, the QEMU
 * machine, 4 MB Flash and RAM (so the profile's own limits never refuse a
 * model; M0+ code runs on the Cortex-M3 machine mps2-an385, which executes
 * the same ARMv6-M instructions, for its 4 MB of RAM). */
mco_status mco_cost_class_profile(const char *class_name, mco_target_profile *out);

/* A deploy model of an architecture (built-in name or file, see arch.h) with
 * random weights from `seed`, in a named format: "int8", "float32",
 * "float16" (weights), "int8w" (int8 weights, float activations), "int4"
 * (int4 weights, int8 activations), "int8-sparse" / "int8-sparse50" (int8
 * with 75 % / 50 % of the Conv2D and Dense weights zero, at random places);
 * int8 activation ranges come from four
 * random samples. For calibration and checks: its accuracy means nothing. */
mco_status mco_resource_random_model(const char *arch, const char *format, uint32_t seed, mco_deploy_model *out);

/* Predicts and measures one deploy model on a target (n_samples random
 * inputs from a fixed seed) so the two can be compared; ctx as for
 * mco_measure_deploy_model. */
mco_status mco_resource_check(const mco_context *ctx, const mco_cost_model *cm, const mco_deploy_model *dm,
                              const mco_target_profile *t, int n_samples, mco_resource_estimate *predicted,
                              mco_measure_result *measured);

#ifdef __cplusplus
}
#endif
#endif
