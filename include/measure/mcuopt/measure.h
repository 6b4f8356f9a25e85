/*
 * measure.h - measuring a deploy model on an emulated target in one call:
 * plan it, emit its C code, compute the host runtime's exact outputs for N
 * samples, and run the emitted code on the target's QEMU machine
 * (mco_target_measure), which checks every output byte against the host.
 */
#ifndef MCUOPT_MEASURE_H
#define MCUOPT_MEASURE_H

#include "mcuopt/codegen.h"
#include "mcuopt/data.h"
#include "mcuopt/deploy.h"
#include "mcuopt/target.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const mco_context *ctx; /* runtime and firmware directories (required), temporary
                             * directory, log (mcuopt/context.h) */
    int n_samples;          /* samples taken from the start of the data set (default 100) */
    double clock_mhz;       /* 0: the profile's maximum clock */
    const char *code_dir;   /* where to write the model's C package (mco_emit_c_with, name
                             * "model", with the measured stack in model.h), put in place
                             * only if the call succeeds; NULL: none */
    const char *measure_dir; /* where to keep the measurement build (firmware, logs,
                              * per-address counts; never in code_dir's package), staged
                              * and put in place only if the call succeeds; NULL: a
                              * temporary directory, removed */
    int fuse_conv_pool;     /* planner option (default 1) */
    int timeout_s;          /* 0: default */
    /* How the planner chooses kernels (mco_plan_options.goal; default
     * MCO_PLAN_FASTEST), by this resource-model table (NULL: the context's,
     * mco_cost_model_load_context) for the target's core class. */
    mco_plan_goal plan_goal;
    const struct mco_cost_model *cost_model;
    mco_cc cc;              /* compiler of the model code (default gcc, see target.h) */
    const char *opt;        /* its optimisation flag, e.g. "-O0"; NULL: "-O2" */
    /* What model_run takes and gives (mcuopt/codegen.h: mco_emit_options);
     * the samples go in converted to it (a uint8 input needs uint8 samples)
     * and the host's outputs are computed through the same conversions. */
    mco_io_type input_type, output_type;
    /* NULL, or the n_samples inputs in the caller's input type, used
     * instead of the samples' (which then give only the count and shape):
     * e.g. int8 model inputs as they are. */
    const void *inputs;
    /* NULL, or room for n_samples outputs in the caller's output type:
     * receive the host runtime's and the target's outputs (mcuopt validate). */
    void *host_outputs, *target_outputs;
    /* A model with an audio front-end (mco_model.has_frontend): NULL, or
     * pcm_clips 16-bit clips of its frontend.clip_samples samples each
     * (e.g. mco_audio_read_clips). After the measurement above, the same
     * code runs again with model_run_pcm on them: the chip computes the
     * features (runtime/mco_mfcc.c) and runs the model, and each output is
     * compared with the host's (the same front-end's features through the
     * host runtime); that run's figures go to *pcm_result (required with
     * pcm). The clips are test vectors in the firmware's Flash: at most
     * MCO_MEASURE_MAX_PCM_CLIPS, and only as many as fit the target's Flash
     * beside the model with 64 KB to spare (none: MCO_ERR_RANGE). */
    const int16_t *pcm;
    int pcm_clips;
    mco_measure_result *pcm_result;
} mco_measure_options;

#define MCO_MEASURE_MAX_PCM_CLIPS 16

void mco_measure_options_default(mco_measure_options *opt);

/* Fails with MCO_ERR_RANGE ("does not fit") when the measured Flash or RAM
 * exceeds the profile's; output mismatches are reported in result->n_mismatch
 * (the caller decides), not as an error. */
mco_status mco_measure_deploy_model(const mco_deploy_model *dm, const mco_target_profile *target,
                                    const mco_dataset *samples, const mco_measure_options *opt,
                                    mco_measure_result *result);

#ifdef __cplusplus
}
#endif
#endif
