/*
 * prune_structured.h - structured pruning: whole output channels (Conv2D
 * filters, Dense units) are removed, so the model really shrinks, and every
 * layer that reads those channels is sliced to match. Also the importance
 * criteria that choose the channels, and a per-layer sensitivity analysis.
 *
 * Channel groups. A set of channels that must be pruned together is a group:
 * a Conv2D or Dense layer creates one; layers that keep the channel count
 * (BatchNorm, ReLU, ReLU6, pools, GlobalAvgPool, Dropout, DepthwiseConv2D,
 * Flatten) carry it on; an Add joins the groups of its two inputs (union-find),
 * so everything feeding or reading a residual sum keeps the same channels. A
 * group is named by its leader, the first Conv2D/Dense layer in it. Removing
 * channel k of a group removes, in every member tensor of c channels,
 * every index j with j % C == k (C = the group's channels): after Flatten a
 * tensor (h, w, C) becomes h*w*C values in NHWC order, so a following Dense
 * loses the input columns of channel k at every spatial position.
 *   Producers (Conv2D, Dense in the group)  lose output filters / units
 *   Conv2D reading the group                loses input channels (OHWI: the I)
 *   DepthwiseConv2D / BatchNorm reading it  lose the channel's weights / params
 *   Dense reading it                        loses the matching input columns
 * A group is locked (never pruned) when it reaches the model output (the
 * last layer's units are the classes), feeds a Softmax, or is added to the
 * model input.
 *
 * Importance of a channel (higher = more important, the lowest are removed):
 *   l1, l2           sum over the group's producers of the L1 / L2 norm of the
 *                    channel's filter (Conv2D) or weight row (Dense)
 *   apoz             1 - the average percentage of zeros: the fraction of
 *                    values <= 0 at the group's ReLU/ReLU6 outputs (at its
 *                    producers' outputs if it has no ReLU) on calibration images
 *   mean-activation  mean |value| at those same points
 * Ties are broken by channel index (the lower index is removed first).
 *
 * Example:
 *   mco_structured_options opt;
 *   mco_structured_options_default(&opt);
 *   opt.criterion = MCO_IMPORTANCE_L1;
 *   opt.ratio = 0.5f;                       // every prunable group loses half
 *   mco_structured_prune(&model, &opt, NULL);  // calibration only for apoz / mean-activation
 *
 * What it leaves out: a pruned channel's constant contribution (e.g. a
 * BatchNorm beta after a zeroed filter) is dropped, not folded into the next
 * layer's bias; fine-tuning (mco_train) recovers it. Pruning the input
 * channels of the first layer is not done (they are the data).
 */
#ifndef MCUOPT_PRUNE_STRUCTURED_H
#define MCUOPT_PRUNE_STRUCTURED_H

#include <stddef.h>
#include <stdint.h>

#include "mcuopt/data.h"
#include "mcuopt/graph.h"
#include "mcuopt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    MCO_IMPORTANCE_L1 = 0,
    MCO_IMPORTANCE_L2,
    MCO_IMPORTANCE_APOZ,
    MCO_IMPORTANCE_MEAN_ACTIVATION,
    MCO_IMPORTANCE_COUNT
} mco_importance_criterion;

/* "l1", "l2", "apoz", "mean-activation". */
const char *mco_importance_criterion_name(mco_importance_criterion criterion);
mco_status mco_importance_criterion_parse(const char *name, mco_importance_criterion *criterion);
/* 1 for the criteria that need calibration images (apoz, mean-activation). */
int mco_importance_needs_data(mco_importance_criterion criterion);

typedef struct {
    int leader;          /* index of the group's first Conv2D / Dense layer */
    int channels;        /* C: the channels every producer of the group has */
    int prunable;        /* 0 when locked (see above) */
    float *importance;   /* [channels] after mco_channel_importance(), else NULL */
} mco_channel_group;

typedef struct {
    int n_layers;
    int *layer_group;    /* [n_layers]: group of each layer's output, -1 for none */
    int n_groups;
    mco_channel_group *groups;
} mco_channel_groups;

/* Traces the channel groups of a model with inferred shapes. */
mco_status mco_channel_groups_find(const mco_model *model, mco_channel_groups *groups);
void mco_channel_groups_free(mco_channel_groups *groups);
/* The group whose channels `layer` outputs, or -1. */
int mco_channel_group_of(const mco_channel_groups *groups, int layer);

/* Fills `importance` of every prunable group. `calibration` (raw images,
 * normalised with the model's normalisation) is needed by apoz and
 * mean-activation, which use its first `max_samples` images. */
mco_status mco_channel_importance(const mco_model *model, mco_channel_groups *groups,
                                  mco_importance_criterion criterion, const mco_dataset *calibration,
                                  int max_samples);

/* The channels of `group` to keep after removing round(ratio * C) of the
 * least important ones, but never more than C - min_channels. Fails with
 * MCO_ERR_RANGE when the ratio would remove every channel, MCO_ERR_ARG when
 * the ratio is outside [0, 1) or the group is locked or has no importance.
 * keep[channels]: 1 = keep. *removed (may be NULL) gets the count removed. */
mco_status mco_channel_keep_mask(const mco_model *model, const mco_channel_group *group, float ratio,
                                 int min_channels, uint8_t *keep, int *removed);

/* Low level: removes the channels with keep_mask[k] == 0 from the group that
 * `layer` outputs (keep_mask has that group's C entries) and from every
 * layer reading them, then re-infers and checks the shapes. On failure the
 * model is unchanged. */
mco_status mco_prune_channels(mco_model *model, int layer, const uint8_t *keep_mask);

typedef struct {
    mco_importance_criterion criterion;
    float ratio;               /* fraction of the channels removed from each selected group */
    const float *layer_ratios; /* NULL: every prunable group gets `ratio`. Else [n_layers]: a
                                  group gets the largest ratio of its Conv2D/Dense members, and
                                  is left alone when that is 0 */
    int min_channels;          /* channels every group keeps at least (>= 1; default 1) */
    int calibration_samples;   /* images for apoz / mean-activation, spread evenly over the set
                                  (mco_dataset_spread_indices; default 256) */
} mco_structured_options;

void mco_structured_options_default(mco_structured_options *opt);

/* Scores every selected group on the unpruned model, then removes each
 * group's least important channels (mco_prune_channels). `calibration` may
 * be NULL for l1 / l2. On failure the model is unchanged. */
mco_status mco_structured_prune(mco_model *model, const mco_structured_options *opt,
                                const mco_dataset *calibration);

/* Sensitivity: every prunable group pruned alone at every ratio (no
 * fine-tuning), evaluated on `val`. */
typedef struct {
    int n_groups;            /* rows: the prunable groups */
    int n_ratios;            /* columns */
    float *ratios;           /* [n_ratios] */
    int *leaders;            /* [n_groups] leader layer index */
    int *channels;           /* [n_groups] channels before pruning */
    double baseline_accuracy;
    size_t baseline_params;
    double *accuracy;        /* [n_groups][n_ratios], -1 where the ratio would remove every channel */
    int *kept;               /* [n_groups][n_ratios] channels left */
    size_t *params;          /* [n_groups][n_ratios] parameters of the pruned model */
} mco_sensitivity_result;

/* opt->ratio, layer_ratios are ignored (every prunable group is a row);
 * criterion, min_channels and calibration_samples apply. `threads` as in
 * mco_evaluate. */
mco_status mco_structured_sensitivity(const mco_model *model, const mco_structured_options *opt,
                                      const float *ratios, int n_ratios, const mco_dataset *calibration,
                                      const mco_dataset *val, int threads, mco_sensitivity_result *result);
void mco_sensitivity_result_free(mco_sensitivity_result *result);

#ifdef __cplusplus
}
#endif
#endif
