/*
 * pipeline.h - a compression pipeline: an ordered list of stages (pruning,
 * distillation, quantization-aware training, fine-tuning, quantization),
 * each run by the library call that implements it, with the model evaluated
 * after every stage.
 *
 * The text form (mcuopt compress --stages, or a config file; docs/pipeline.md):
 *
 *   prune:structured=0.5,criterion=l1 -> distill:T=4,alpha=0.1,epochs=2 -> quant:int8,per_channel
 *
 * Stages are separated by "->" or by line breaks; '#' starts a comment that
 * runs to the end of the line. A stage is `kind` or `kind:param,param,...`;
 * a param is `key=value` or a bare word (a flag such as `int8` or
 * `per_tensor`). Spaces around names and values are ignored. Every kind and
 * key is checked when the text is parsed, so a typo fails before anything
 * runs, with one line naming it: "stages.txt:3: stage 2 (distill): unknown
 * parameter 'beta' (known: T, temperature, alpha, epochs, lr, teacher)".
 *
 * Stage kinds and their parameters:
 *   prune     sparsity=S (unstructured, 0 <= S < 1) | structured=R (fraction of
 *             each prunable channel group removed, 0 <= R < 1), criterion=l1|l2|
 *             apoz|mean-activation (structured), samples=N (apoz/mean-activation
 *             images), min_channels=N, epochs=E, lr=F (fine-tuning inside the
 *             stage; epochs=0: none)
 *   distill   T=F (or temperature=F), alpha=F, epochs=E, lr=F, teacher=FILE
 *             (.mco or .mcq; default: the model as it was before the pipeline)
 *   qat       epochs=E, lr=F
 *   finetune  epochs=E, lr=F
 *   quant     int8 | int8-weights | int4 | int4-weights | float16 (or mode=...),
 *             per_channel | per_tensor, symmetric, calibration=minmax|percentile|mse,
 *             percentile=P, samples=N
 * quant turns the float model into a deploy model, so it must be the last stage.
 *
 * Example:
 *   mco_pipeline p;
 *   mco_pipeline_options opt;
 *   mco_pipeline_result res;
 *   mco_pipeline_options_default(&opt);
 *   opt.train = &train; opt.test = &test;
 *   if (mco_pipeline_parse("finetune:epochs=1 -> quant:int8", "--stages", &p) != MCO_OK ||
 *       mco_pipeline_run(&p, &model, &opt, &res) != MCO_OK)
 *       puts(mco_last_error());
 *
 * What it leaves out: branching or repeated searches (a pipeline is one
 * straight line), stages after quantization (the integer model is not
 * trained), data augmentation.
 */
#ifndef MCUOPT_PIPELINE_H
#define MCUOPT_PIPELINE_H

#include <stddef.h>

#include "mcuopt/data.h"
#include "mcuopt/deploy.h"
#include "mcuopt/graph.h"
#include "mcuopt/measure.h"
#include "mcuopt/status.h"
#include "mcuopt/target.h"
#include "mcuopt/train.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MCO_PIPELINE_MAX_STAGES 16
#define MCO_STAGE_MAX_PARAMS 12
#define MCO_STAGE_KIND_MAX 16     /* kind buffer, including the NUL */
#define MCO_STAGE_KEY_MAX 32
#define MCO_STAGE_VALUE_MAX 256   /* long enough for a teacher's path */
#define MCO_STAGE_TEXT_MAX 160    /* the stage as written (shortened if longer) */
#define MCO_STAGE_WHERE_MAX 96    /* "stages.txt:3" or "--stages" */

typedef struct {
    char key[MCO_STAGE_KEY_MAX];
    char value[MCO_STAGE_VALUE_MAX];   /* "" for a bare word */
} mco_stage_param;

typedef struct {
    char kind[MCO_STAGE_KIND_MAX];     /* a kind of the stage table: "prune", "quant", ... */
    char text[MCO_STAGE_TEXT_MAX];     /* as written, spaces removed, for reports */
    char where[MCO_STAGE_WHERE_MAX];   /* origin[:line], for error messages */
    int index;                         /* 1-based position in the pipeline */
    int n_params;
    mco_stage_param params[MCO_STAGE_MAX_PARAMS];   /* in the order written */
} mco_stage;

typedef struct {
    int n_stages;
    mco_stage stages[MCO_PIPELINE_MAX_STAGES];
} mco_pipeline;

/* Parses and checks a pipeline text (see the top of this file). `origin`
 * names it in error messages ("--stages", a file name). An empty pipeline
 * is an error. */
mco_status mco_pipeline_parse(const char *text, const char *origin, mco_pipeline *out);
/* The same from a file. */
mco_status mco_pipeline_load(const char *path, mco_pipeline *out);

/* 1 if the pipeline ends in a deploy model (its last stage is quant or qat),
 * 0 if it ends in a float model. */
int mco_pipeline_makes_deploy(const mco_pipeline *pipeline);

/* The stage table: how many kinds, and the name, a one-line summary and the
 * parameter keys of kind i (NULL when i is out of range). */
int mco_stage_kind_count(void);
const char *mco_stage_kind_name(int i);
const char *mco_stage_kind_summary(int i);
const char *mco_stage_kind_keys(int i);

/* Sets opt's activation and weight format from a quantization mode name:
 * float16, int8-weights, int8, int4-weights, int4. MCO_ERR_ARG otherwise. */
mco_status mco_quant_mode_parse(const char *name, mco_quant_options *opt);

/* What the model is like after a stage (row 0: the input model). */
typedef struct {
    char stage[MCO_STAGE_TEXT_MAX];   /* the stage's text, "input" for row 0 */
    int is_deploy;                    /* 1 after quantization */
    char variant[96];                 /* "float32", or mco_deploy_describe()'s text */
    double accuracy;                  /* on opt->test, 0..1 (-1 without a test set); for an
                                         autoencoder, its AUC (mco_eval_quality) */
    double loss;
    size_t params;                    /* parameters of the float model */
    size_t nonzero_params;            /* of which not zero (unstructured pruning) */
    size_t weight_bytes;              /* mco_deploy_weight_bytes() in the deployed format
                                         (float32 after folding for a float model) */
    int measured;                     /* 1 if the fields below come from the target */
    size_t flash_bytes, ram_bytes;
    double instructions;              /* per inference, exact */
    int mismatches;                   /* emulated outputs differing from the host's */
    char note[160];                   /* why it was not measured, if it was not */
    double seconds;                   /* time the stage took (without the evaluation) */
} mco_stage_report;

typedef void (*mco_stage_report_fn)(void *user, int index, const mco_stage_report *report);

typedef struct {
    const mco_dataset *train;      /* fine-tuning, distillation, calibration (required) */
    const mco_dataset *val;        /* validation during training; may be NULL */
    const mco_dataset *test;       /* accuracy after every stage; may be NULL */
    mco_train_options train_options;   /* the base of every training stage (batch, optimizer,
                                          seed, threads, progress); a stage's epochs / lr
                                          override these */
    const mco_target_profile *target;  /* NULL: no Flash / RAM / instruction measurement */
    mco_measure_options measure;       /* samples come from `test` (else `train`) */
    mco_stage_report_fn on_stage;      /* may be NULL: called after every row is complete */
    void *on_stage_user;
} mco_pipeline_options;

/* Training defaults (mco_train_options_default), measurement defaults with
 * 20 samples, no target. */
void mco_pipeline_options_default(mco_pipeline_options *opt);

typedef struct {
    int n_reports;                     /* n_stages + 1 */
    mco_stage_report reports[MCO_PIPELINE_MAX_STAGES + 1];
    int is_deploy;                     /* which of the two below is the final model */
    mco_model model;                   /* the final float model (is_deploy == 0) */
    mco_deploy_model deploy;           /* the final deploy model (is_deploy == 1) */
} mco_pipeline_result;

/* Runs the stages in order on a copy of `input` (which is not changed and is
 * the default distillation teacher). On failure the message names the stage
 * ("stage 2 (distill): ...") and *result holds nothing to free. */
mco_status mco_pipeline_run(const mco_pipeline *pipeline, const mco_model *input, const mco_pipeline_options *opt,
                            mco_pipeline_result *result);
void mco_pipeline_result_free(mco_pipeline_result *result);

#ifdef __cplusplus
}
#endif
#endif
