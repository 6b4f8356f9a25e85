/*
 * prune.h - unstructured magnitude pruning with a sparsity schedule, as in
 * the TensorFlow Model Optimization Toolkit (prune_low_magnitude with
 * PolynomialDecay): individual weights of Conv2D, DepthwiseConv2D and Dense
 * layers (never biases, never BatchNorm) are set to exactly 0.0f, the
 * smallest magnitudes first, and kept at 0 through fine-tuning.
 *
 * The schedule (polynomial decay, power 3 by default):
 *   p(t)   = clamp((t - begin_step) / (end_step - begin_step), 0, 1)
 *   s(t)   = target + (initial - target) * (1 - p(t))^power
 * Masks are recomputed at steps begin_step, begin_step + frequency, ... up
 * to end_step, and also at end_step itself (TF-MOT skips it when the range
 * is not a multiple of the frequency and then never reaches the target; we
 * always do). end_step < 0 means the last training step; an end_step past
 * the last training step is clamped to it, so a run always ends at the
 * target sparsity. Between updates the masks are re-applied (masked weights
 * zeroed) after every optimizer step.
 *
 * Masks only grow within a run: a weight masked once stays masked. At an
 * update the k = round(s * n) smallest-magnitude weights are masked, where
 * already masked weights count as magnitude 0, so they are always among
 * them (k never shrinks: it is at least the count already masked). TF-MOT
 * instead recomputes masks from magnitudes, but its masked weights also sit
 * at 0 (it zeroes them after each step and they get no gradient), so they
 * are the smallest there too; the two differ only in that a masked weight
 * here cannot come back through optimizer momentum. Ties in magnitude are
 * broken by layer, then weight index, so the count is exact and runs repeat.
 *
 * Thresholds: per layer (default; every pruned layer gets sparsity s), or
 * global (one magnitude threshold over all pruned layers together: layers
 * with small weights lose more). Layers can be excluded by name.
 *
 * Typical use with the trainer:
 *   mco_prune_options po;
 *   mco_prune_options_default(&po);           // 50 %, per layer, freq 100
 *   po.schedule.end_step = 2000;
 *   mco_pruner pruner;
 *   mco_pruner_init(&pruner, &model, &po);
 *   topt.after_step = mco_pruner_after_step;   // mco_train_options
 *   topt.after_step_user = &pruner;
 *   mco_train(&model, &train, &val, &topt, &result);
 *   mco_pruner_free(&pruner);
 *
 * What it leaves out: structured (channel) pruning (see prune_structured.h),
 * block sparsity (e.g. 1x4 blocks for SIMD), pruning schedules other than
 * polynomial decay (a constant sparsity is initial = target).
 */
#ifndef MCUOPT_PRUNE_H
#define MCUOPT_PRUNE_H

#include <stddef.h>
#include <stdint.h>

#include "mcuopt/graph.h"
#include "mcuopt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    float initial_sparsity;   /* s_i, in [0, 1] */
    float target_sparsity;    /* s_f, in [0, 1] */
    long begin_step;          /* >= 0 */
    long end_step;            /* > begin_step, or < 0: the last training step */
    long frequency;           /* >= 1: steps between mask updates */
    float power;              /* > 0, 3 as TF-MOT */
} mco_prune_schedule;

/* s(step) of the schedule; end_step must be resolved (>= 0). */
float mco_prune_schedule_sparsity(const mco_prune_schedule *s, long step);
/* 1 if masks are recomputed at `step`: begin + k * frequency <= end, or end. */
int mco_prune_schedule_updates_at(const mco_prune_schedule *s, long step);

typedef struct {
    mco_prune_schedule schedule;
    int global;                  /* 1: one threshold over all pruned layers */
    const char *const *exclude;  /* names of weighted layers not to prune (may be NULL) */
    int n_exclude;
} mco_prune_options;

/* Target 0.5 from 0, steps 0 to the last training step, every 100 steps,
 * power 3, per-layer thresholds, nothing excluded. */
void mco_prune_options_default(mco_prune_options *opt);

/* The pruning state of one training run: a keep-mask per pruned layer. */
typedef struct {
    mco_prune_options opt;       /* copy; opt.exclude is not used after init */
    int n_layers;                /* pruned layers */
    int *layers;                 /* [n_layers] their indices in the model */
    uint8_t **keep;              /* [n_layers][weights]: 1 = kept, 0 = masked */
    size_t *sizes;               /* [n_layers] weights per layer */
    size_t total;                /* weights over all pruned layers */
    float sparsity;              /* the sparsity of the last mask update */
    int n_updates;               /* mask updates done */
} mco_pruner;

/* Prepares masks (all kept) for the model's weighted layers minus the
 * excluded ones. Fails on bad options, an excluded name that is not a
 * weighted layer, or nothing left to prune. */
mco_status mco_pruner_init(mco_pruner *pruner, const mco_model *model, const mco_prune_options *opt);
/* The mco_train after_step hook (user = the pruner): on schedule, recomputes
 * the masks from the weight magnitudes; every step, zeroes the masked weights. */
mco_status mco_pruner_after_step(void *user, mco_model *model, long step, long total_steps);
/* Recomputes the masks for sparsity s now (monotone, see above) and zeroes
 * the masked weights. */
mco_status mco_pruner_update(mco_pruner *pruner, mco_model *model, float sparsity);
/* Zeroes the masked weights. */
void mco_pruner_apply(const mco_pruner *pruner, mco_model *model);
/* Masks every pruned-layer weight that is exactly 0 in `model` now (on top
 * of the existing masks): with mco_pruner_apply as the after_step hook, an
 * already pruned model keeps its zeros through more training (fine-tuning,
 * distillation, QAT). Fails if `model` is not the pruner's. */
mco_status mco_pruner_mask_zeros(mco_pruner *pruner, const mco_model *model);
void mco_pruner_free(mco_pruner *pruner);

/* One-shot pruning to opt->schedule.target_sparsity (no fine-tuning). */
mco_status mco_prune_apply_now(mco_model *model, const mco_prune_options *opt);

/* Exact zeros among the weights (not biases) of a layer; weights = 0 for
 * layers without weights. */
typedef struct {
    size_t weights;
    size_t zeros;
} mco_layer_sparsity;

/* Fills per_layer[model->n_layers] (may be NULL) and returns the fraction
 * of zero weights over all Conv2D / DepthwiseConv2D / Dense layers (0 if
 * there are none). */
double mco_model_sparsity(const mco_model *model, mco_layer_sparsity *per_layer);

#ifdef __cplusplus
}
#endif
#endif
