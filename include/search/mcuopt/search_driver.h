/*
 * search_driver.h - `mcuopt search`: the adaptive search over the whole
 * compression pipeline. Given a float model, a target profile and an
 * accuracy floor it finds the pipeline (pruning, distillation, QAT,
 * quantization and their settings) whose deployed model is cheapest on the
 * target while staying above the floor. docs/search.md explains the design.
 *
 * Three layers, each usable on its own:
 *   - the pipeline search space (search_space_pipeline.c): a point of
 *     search.h's space <-> a pipeline text for pipeline.h, deterministic,
 *     conditioned on the profile (float16 only with an FPU) and on what the
 *     pipeline library can run (unstructured pruning, QAT);
 *   - the objective (objective.c): feasibility (accuracy floor, Flash, RAM,
 *     latency limit) and the cost, a weighted sum of log ratios of Flash,
 *     RAM, latency and energy to the starting model's int8 deployment;
 *   - the driver (search_driver.c): batch-synchronous proposals (TPE,
 *     NSGA-II or random), a constraint check before any training (a "dry" pipeline run
 *     gives the deployed structure, measured once per structure), successive
 *     halving over the fraction of the training set, forked worker processes,
 *     the SQLite trial store (trials.h) for resume, and the outputs (best
 *     model, its C code, report.html / report.json).
 *
 * Searches on one store share it: several `mcuopt search` processes with the
 * same study (same options) on one database claim each trial once, wait for
 * the trials another one is running and read them back, and together add at
 * most max_trials trials: the limit is the study's, enforced by the store
 * (mco_trials_add). Each reports what it ran itself (n_run) apart from what
 * it read back (n_reused, n_by_others). The time budget is each process's,
 * counted from the study's first trial. With a store that spans machines
 * (PostgreSQL, mco_trials_spans_machines), the workers also share what they
 * learn: before each batch a worker takes in every trial the others
 * finished (n_learned), and each worker draws its own proposals (a stream
 * salted with its host name and output directory), so workers spread over
 * the space instead of proposing the same configurations.
 *
 * Stopping: the search stops proposing at the budget, on opt->stop (checked
 * between proposals and every 50 ms while workers run; their trials go back
 * in the queue), at max_trials, and after 100 proposals in a row that cannot
 * fit the target. A target that even the smallest candidates of the space
 * cannot fit is refused before anything is written (MCO_ERR_RANGE saying
 * which limit they miss and by how much).
 *
 * Determinism: every proposal is a pure function of the seed and the
 * results of earlier batches, and every trial trains with a seed derived
 * from the study seed and its configuration; with the same seed, settings,
 * worker count and machine (thread count) a search tries the same trials
 * in the same order. A resumed search replays the same loop: trials found
 * finished in the store are read back, never run again. Workers of a study
 * in a store that spans machines learn from each other, so their proposals
 * depend on when the others' trials finish: each trial is still run once
 * and resumed the same way, but the sequence is not reproducible.
 *
 * A format that loses: once a weight format has had RETIRE_MIN_TRIALS
 * trials (or rejections before training: too big or too slow for the
 * limits) and its best is worse than the best format's by a wide margin
 * (or twice as many with nothing feasible while another format has), and
 * the best format beats the starting model, the sampler stops proposing it: a proposal with that format gets the best
 * format instead (mco_search_retired in search.h: a deterministic function
 * of the history, so a resume replays it). result->formats_dropped says
 * which and why.
 *
 * A proposal that cannot win: with the weighted cost, one whose Flash,
 * RAM, latency and energy are each no better than a trial feasible on full
 * data is rejected before training (its cost cannot be lower), pruned
 * with a note naming that trial.
 *
 * Samplers and objectives: TPE, NSGA-II or random (search.h), on the
 * weighted cost or on the Pareto front of accuracy, Flash, RAM and latency
 * (opt->objective); result->hypervolume measures the front either way.
 *
 * What it leaves out: workers on several machines, searching the
 * architecture itself.
 */
#ifndef MCUOPT_SEARCH_DRIVER_H
#define MCUOPT_SEARCH_DRIVER_H

#include <stddef.h>
#include <stdint.h>

#include "mcuopt/data.h"
#include "mcuopt/graph.h"
#include "mcuopt/measure.h"
#include "mcuopt/report.h"
#include "mcuopt/search.h"
#include "mcuopt/status.h"
#include "mcuopt/target.h"
#include "mcuopt/trials.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the pipeline search space (search_space_pipeline.c) -------------------- */

/* Weight formats and stages the user lets the search use (`--formats
 * int8,int4`, `--stages prune,quant`); 0 for a whole set means all of it. */
#define MCO_FORMAT_INT8 1u
#define MCO_FORMAT_INT4 2u
#define MCO_FORMAT_FLOAT16 4u
#define MCO_STAGE_PRUNE 1u      /* structured and unstructured pruning */
#define MCO_STAGE_DISTILL 2u
#define MCO_STAGE_QAT 4u
#define MCO_STAGE_QUANT 8u      /* always run: it makes the deploy model */

/* "int8,int4" -> a MCO_FORMAT_* mask; "prune,quant" -> a MCO_STAGE_* mask
 * (quant is implied). An unknown or empty name is MCO_ERR_ARG naming it and
 * the known ones (`what` names the option in the message). */
mco_status mco_search_parse_formats(const char *list, const char *what, unsigned *mask);
mco_status mco_search_parse_stages(const char *list, const char *what, unsigned *mask);

/* What the space may use beyond structured pruning, distillation and int8 /
 * int4 quantization, and what the user allows. */
typedef struct {
    int float16;        /* float16 weights (only sensible with an FPU) */
    int unstructured;   /* the pipeline runs prune:sparsity= */
    int qat;            /* the pipeline runs qat: */
    unsigned formats;   /* MCO_FORMAT_* allowed (0: all) */
    unsigned stages;    /* MCO_STAGE_* allowed (0: all) */
} mco_pipeline_space_caps;

/* The space for a target (NULL: no FPU) and capabilities. A stage that is
 * not allowed has no dimensions (it is never in a pipeline text); the
 * weights dimension lists the allowed formats, float16 only with an FPU.
 * MCO_ERR_ARG when no allowed format is possible on the target (float16
 * alone without an FPU). */
mco_status mco_pipeline_space_build(const mco_target_profile *target, const mco_pipeline_space_caps *caps,
                                    mco_search_space *space);

/* The pipeline text of a point (deterministic; values rounded as written).
 * With dry = 1: the same pipeline without training and with a small
 * calibration, which gives the deployed model's structure (what decides
 * Flash, RAM and latency) quickly. */
mco_status mco_pipeline_space_config(const mco_search_space *space, const mco_search_point *x, int dry, char *buf,
                                     size_t size);

/* The point of a pipeline text made by mco_pipeline_space_config (values of
 * stages that are off get the low end of their range). */
mco_status mco_pipeline_space_point(const mco_search_space *space, const char *config, mco_search_point *x);

/* The most compressed points of the space, whose deployed models are its
 * smallest in Flash and RAM: the most structured pruning and sparsity,
 * per-tensor scales, no distillation or QAT, with each weight format
 * narrower than float (int4 is smallest, int8 may be faster; float16 last,
 * for a space that allows only it). Writes at most
 * `max`; returns how many. */
int mco_pipeline_space_smallest(const mco_search_space *space, mco_search_point *points, int max);

/* One line naming every dimension and its range, for the study settings. */
void mco_pipeline_space_describe(const mco_search_space *space, char *buf, size_t size);

/* ---- the objective (objective.c) ---------------------------------------------- */

/* What a deployed model costs on the target (NAN: unknown). */
typedef struct {
    double flash_bytes, ram_bytes, latency_ms, energy_uj;
} mco_search_resources;

typedef struct {
    double w_flash, w_ram, w_latency, w_energy;   /* weights of the log ratios */
    mco_search_resources reference;   /* the starting model's int8 deployment */
    double min_accuracy;              /* 0..1 */
    double max_flash_bytes, max_ram_bytes;   /* the profile's */
    double max_latency_ms;            /* 0: no limit */
} mco_search_objective;

/* Weights 0.4 Flash, 0.2 RAM, 0.3 latency, 0.1 energy; limits from the profile. */
void mco_search_objective_init(mco_search_objective *obj, const mco_target_profile *target,
                               const mco_search_resources *reference, double min_accuracy, double max_latency_ms);

/* 1 if the resources meet Flash, RAM and latency limits; else 0 and `why`
 * (may be NULL) says which. */
int mco_search_fits(const mco_search_objective *obj, const mco_search_resources *r, char *why, size_t why_size);

/* How far the resources are over the limits: the largest value / limit - 1
 * (<= 0 when they fit; INFINITY for an unknown value). */
double mco_search_excess(const mco_search_objective *obj, const mco_search_resources *r);

/* The cost: sum of w * log(value / reference) (0 for the reference itself). */
double mco_search_cost(const mco_search_objective *obj, const mco_search_resources *r);

/* What the sampler sees: feasible (accuracy >= floor and fits) with the cost,
 * or infeasible with the shortfall (1 - accuracy / floor, plus 1 if it does
 * not fit) as the order among infeasible trials. */
void mco_search_score(const mco_search_objective *obj, double accuracy, const mco_search_resources *r,
                      double *score, int *feasible);

/* ---- the driver (search_driver.c) ---------------------------------------------- */

/* What the search optimises: the weighted cost above (with the accuracy
 * floor and the limits as constraints), or the Pareto front of accuracy
 * against Flash, RAM and latency (the sampler sees each trial's four
 * objectives; the chosen model is still the front's lowest cost). */
typedef enum { MCO_OBJECTIVE_COST = 0, MCO_OBJECTIVE_PARETO = 1 } mco_objective_kind;

typedef struct {
    int trials_done;        /* finished trials (done, pruned or failed) */
    int trials_pruned;
    int trials_reused;      /* read back from the store instead of run */
    int running;            /* in the current batch */
    int found;              /* a feasible trial exists */
    double best_accuracy;   /* of the best feasible trial */
    double best_flash_bytes, best_latency_ms, best_cost;
    double elapsed_s, budget_s;
} mco_search_progress;

typedef void (*mco_search_progress_fn)(void *user, const mco_search_progress *progress);

typedef struct {
    const mco_context *ctx;          /* runtime and firmware directories (required: the
                                        structures are measured), the resource model table,
                                        temporary directory, thread budget (mcuopt/context.h) */
    const mco_model *model;          /* the float model to compress (required) */
    const char *model_path;          /* for the study (hash) and the report (required) */
    const mco_target_profile *target;/* required */
    const mco_dataset *train;        /* the full training split (required) */
    const mco_dataset *test;         /* the test split: only the chosen model sees it */
    double min_accuracy;             /* 0..1; for an autoencoder (loss mse) the floor is on the AUC
                                        of its reconstruction error (mco_eval_quality), so its
                                        validation images need normal (0) and anomalous (1) labels
                                        (else the search fails at once with one line) */
    double max_latency_ms;           /* 0: no limit */
    double clock_mhz;                /* 0: the profile's maximum */
    double budget_s;                 /* wall-clock budget for trials */
    int max_trials;                  /* 0: no limit (else stop after this many trials) */
    uint64_t seed;
    int workers;                     /* worker processes (default 1) */
    int threads;                     /* training threads per worker; 0: the context's
                                        threads / workers */
    mco_sampler_kind sampler;        /* search.h: tpe (default), random or nsga2 */
    mco_objective_kind objective;    /* weighted cost (default) or the Pareto front */
    unsigned formats;                /* MCO_FORMAT_* the space may use (0: all the target can run) */
    unsigned stages;                 /* MCO_STAGE_* the space may use (0: all) */
    int val_images;                  /* held out of `train` for the objective (default 5000) */
    const mco_dataset *val;          /* NULL: val_images held out of `train`; else the validation
                                        set itself (all of it; `train` then trains whole), e.g. a
                                        labelled set of anomalies for an autoencoder whose training
                                        split holds normal samples only (DCASE's layout) */
    int train_images;                /* 0: all the rest */
    int eta;                         /* successive halving: budgets 1/eta^2, 1/eta, 1 (default 3) */
    double rung_margin;              /* accuracy (0..1) a trial of a lower rung may fall short of
                                        the floor per rung below the top and still be promoted
                                        and count as feasible for the sampler: training on less
                                        data reads low (default 0.005, half a point) */
    int measure_images;              /* QEMU check of the chosen model (default 100) */
    int use_resource_model;          /* 1 (default): resource.h's estimates when its table
                                        loads; 0: always measure structures in QEMU */
    mco_plan_goal plan_goal;         /* how every deployment chooses its kernels (default
                                        MCO_PLAN_FASTEST; part of the study) */
    const char *db_path;             /* the trial store (required) */
    const char *out_dir;             /* outputs (required; created) */
    const char *artifacts_dir;       /* where trials' models go (NULL: OUTDIR/trials); a
                                        directory shared by the workers of a study on several
                                        machines: it is created if absent, never removed */
    int report_only;                 /* 1: run no trial; write the outputs (best model, code,
                                        report) of the study as the store holds it, e.g. on a
                                        machine other than the workers' */
    mco_search_progress_fn progress; /* may be NULL */
    void *progress_user;
    volatile int *stop;              /* may be NULL: set non-zero (e.g. by SIGINT) to stop */
} mco_search_options;

void mco_search_options_default(mco_search_options *opt);

typedef struct {
    int n_trials;            /* in the store (the study's, whoever ran them) */
    int n_done, n_pruned, n_failed;   /* of those, in the store */
    int n_run;               /* run (or rejected) by this call */
    int n_reused;            /* finished before this call needed them: read back from the store */
    int n_by_others;         /* run by another search on the same store while this one waited */
    int n_learned;           /* store spanning machines: trials of other workers taken into the
                                sampler's history (and promotions) without waiting for them */
    int interrupted;         /* stopped by opt->stop */
    int found;               /* a trial met the floor and the limits */
    char closest_misfit[512];/* of the proposals this call rejected as too big, the one
                                closest to fitting: "CONFIG: Flash 9876 B is ... over ..." */
    mco_trial best;          /* the chosen trial (found) */
    double test_accuracy;    /* of the chosen model on opt->test (-1: no test set) */
    int measured;            /* 1: measured on the emulated target */
    mco_measure_result measure;
    mco_search_resources reference;   /* the starting model's int8 deployment as the cost
                                         sees it (predicted or measured, like the trials) */
    double reference_cost_int8;        /* 0 by definition, for reports */
    /* Measured on the emulated target after the search, like `mcuopt
     * measure` does (same images, same build): the starting model as int8
     * ("quant:int8", evaluated on the validation split and the test set)
     * and the chosen model. These are the figures to show; the gain compares
     * the two. */
    mco_report_model start, chosen;
    char trial_figures[16];  /* "predicted" (resource model) or "measured" (emulator) */
    char model_hash[64];     /* of the source model file */
    char formats_dropped[256];/* formats the sampler stopped proposing and why ("" none) */
    /* The front's hypervolume (mco_hypervolume) over the done full-data
     * trials that meet the floor and the limits, in three objectives:
     * accuracy points above the floor, and the fractions of the starting
     * model's Flash and latency saved (trial figures, like the cost). The
     * reference point is the starting model at the floor: a trial adds
     * volume only if it is above the floor and smaller and faster than the
     * starting model. 0: no such trial. */
    double hypervolume;
    int front_size;          /* trials on that front */
    char model_path[1024];   /* OUT/best.mcq */
    char code_dir[1024];     /* OUT/code */
    char report_html[1024], report_json[1024];
    double seconds;
} mco_search_result;

/* Runs (or resumes) a search; see the top of this file. An interrupted
 * search (opt->stop) still writes its outputs from the finished trials. */
mco_status mco_search_run(const mco_search_options *opt, mco_search_result *result);

#ifdef __cplusplus
}
#endif
#endif
