/*
 * importance.c - how important each channel of a channel group is, and
 * which channels a pruning ratio keeps (see prune_structured.h).
 *
 * Weight criteria (l1, l2) read the producers' filters. Activation criteria
 * (apoz, mean-activation) run the quantizer's reference float forward
 * (mcuopt/calibrate.h) one calibration image at a time (spread over the set:
 * mco_dataset_spread_indices) and look at every
 * layer output that belongs to the group: the ReLU/ReLU6 outputs if the
 * group has any, else the producers' outputs.
 *
 * What it leaves out: gradient-based criteria (Taylor, first-order), and
 * batching or threads for the activation pass (it is the plain reference
 * forward, one image at a time, as quantization calibration uses).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mcuopt/calibrate.h"
#include "mcuopt/prune_structured.h"
#include "mcuopt/train.h"

static const char *const criterion_names[MCO_IMPORTANCE_COUNT] = {
    [MCO_IMPORTANCE_L1] = "l1",
    [MCO_IMPORTANCE_L2] = "l2",
    [MCO_IMPORTANCE_APOZ] = "apoz",
    [MCO_IMPORTANCE_MEAN_ACTIVATION] = "mean-activation",
};

const char *mco_importance_criterion_name(mco_importance_criterion criterion)
{
    if ((int)criterion < 0 || criterion >= MCO_IMPORTANCE_COUNT) return "unknown";
    return criterion_names[criterion];
}

mco_status mco_importance_criterion_parse(const char *name, mco_importance_criterion *criterion)
{
    for (int c = 0; c < MCO_IMPORTANCE_COUNT; c++)
        if (strcmp(name, criterion_names[c]) == 0) {
            *criterion = (mco_importance_criterion)c;
            return MCO_OK;
        }
    return mco_error(MCO_ERR_ARG, "unknown importance criterion '%s' (use l1, l2, apoz or mean-activation)",
                     name);
}

int mco_importance_needs_data(mco_importance_criterion criterion)
{
    return criterion == MCO_IMPORTANCE_APOZ || criterion == MCO_IMPORTANCE_MEAN_ACTIVATION;
}

static int is_producer(const mco_layer *l)
{
    return l->type == MCO_LAYER_CONV2D || l->type == MCO_LAYER_DENSE;
}

/* Adds the L1 or L2 norm of every output channel's weights of `layer`. */
static void add_weight_norms(const mco_layer *layer, int l2, float *importance)
{
    const mco_param *w = &layer->params[MCO_PARAM_WEIGHTS];
    size_t row = w->size / (size_t)layer->units;
    for (int k = 0; k < layer->units; k++) {
        const float *x = w->data + (size_t)k * row;
        double sum = 0.0;
        for (size_t j = 0; j < row; j++) sum += l2 ? (double)x[j] * x[j] : fabs((double)x[j]);
        importance[k] += (float)(l2 ? sqrt(sum) : sum);
    }
}

/* Layers whose outputs the activation criteria look at: per group, its
 * ReLU/ReLU6 outputs, or its producers' outputs when it has no ReLU. */
static void choose_activation_points(const mco_model *model, const mco_channel_groups *groups, uint8_t *point)
{
    for (int g = 0; g < groups->n_groups; g++) {
        int relus = 0;
        for (int i = 0; i < model->n_layers; i++) {
            mco_layer_type t = model->layers[i].type;
            if (groups->layer_group[i] == g && (t == MCO_LAYER_RELU || t == MCO_LAYER_RELU6)) {
                point[i] = 1;
                relus++;
            }
        }
        if (relus == 0)
            for (int i = 0; i < model->n_layers; i++)
                if (groups->layer_group[i] == g && is_producer(&model->layers[i])) point[i] = 1;
    }
}

/* Per group and channel: count of values <= 0, sum of |value|, count of values. */
typedef struct {
    double *zeros, *abs_sum, *count;
} activation_stats;

static mco_status activation_importance(const mco_model *model, mco_channel_groups *groups,
                                        mco_importance_criterion criterion, const mco_dataset *data,
                                        int max_samples)
{
    if (!data) return mco_error(MCO_ERR_ARG, "the %s criterion needs calibration images",
                                mco_importance_criterion_name(criterion));
    mco_shape in = model->input_shape;
    if (data->shape.h != in.h || data->shape.w != in.w || data->shape.c != in.c)
        return mco_error(MCO_ERR_SHAPE, "calibration images are %dx%dx%d, the model takes %dx%dx%d",
                         data->shape.h, data->shape.w, data->shape.c, in.h, in.w, in.c);
    int samples = data->n < max_samples ? data->n : max_samples;
    if (samples <= 0) return mco_error(MCO_ERR_ARG, "no calibration images for the %s criterion",
                                       mco_importance_criterion_name(criterion));

    size_t in_size = mco_shape_size(in);
    uint8_t *point = calloc((size_t)model->n_layers, 1);
    activation_stats *stats = calloc((size_t)groups->n_groups, sizeof *stats);
    float *input = malloc(in_size * sizeof *input);
    int *indices = malloc((size_t)samples * sizeof *indices);
    mco_calib_activations acts = {0};
    mco_status st = MCO_OK;
    if (!point || !stats || !input || !indices) {
        st = mco_error(MCO_ERR_NOMEM, "out of memory for channel importance");
        goto done;
    }
    for (int g = 0; g < groups->n_groups; g++) {
        size_t c = (size_t)groups->groups[g].channels;
        stats[g].zeros = calloc(c, sizeof(double));
        stats[g].abs_sum = calloc(c, sizeof(double));
        stats[g].count = calloc(c, sizeof(double));
        if (!stats[g].zeros || !stats[g].abs_sum || !stats[g].count) {
            st = mco_error(MCO_ERR_NOMEM, "out of memory for channel importance");
            goto done;
        }
    }
    mco_dataset_spread_indices(data->n, samples, indices);
    choose_activation_points(model, groups, point);
    if ((st = mco_calib_activations_init(&acts, model)) != MCO_OK) goto done;

    for (int s = 0; s < samples; s++) {
        mco_dataset_to_float(data, &model->norm, indices + s, 0, 1, input);
        if ((st = mco_calib_forward(model, input, &acts)) != MCO_OK) goto done;
        for (int i = 0; i < model->n_layers; i++) {
            int g = groups->layer_group[i];
            if (!point[i] || g < 0 || !groups->groups[g].prunable) continue;
            /* Flattened tensors hold h*w*C values; value j is channel j % C. */
            size_t n = mco_shape_size(model->layers[i].out_shape), c = (size_t)groups->groups[g].channels;
            const float *x = acts.outputs[i];
            for (size_t j = 0; j < n; j++) {
                size_t k = j % c;
                stats[g].zeros[k] += x[j] <= 0.0f;
                stats[g].abs_sum[k] += fabs((double)x[j]);
                stats[g].count[k] += 1.0;
            }
        }
    }
    for (int g = 0; g < groups->n_groups; g++) {
        mco_channel_group *grp = &groups->groups[g];
        if (!grp->prunable) continue;
        for (int k = 0; k < grp->channels; k++) {
            double n = stats[g].count[k] > 0 ? stats[g].count[k] : 1.0;
            grp->importance[k] = criterion == MCO_IMPORTANCE_APOZ ? (float)(1.0 - stats[g].zeros[k] / n)
                                                                  : (float)(stats[g].abs_sum[k] / n);
        }
    }
done:
    if (stats)
        for (int g = 0; g < groups->n_groups; g++) {
            free(stats[g].zeros);
            free(stats[g].abs_sum);
            free(stats[g].count);
        }
    free(stats);
    free(point);
    free(input);
    free(indices);
    mco_calib_activations_free(&acts);
    return st;
}

mco_status mco_channel_importance(const mco_model *model, mco_channel_groups *groups,
                                  mco_importance_criterion criterion, const mco_dataset *calibration,
                                  int max_samples)
{
    if ((int)criterion < 0 || criterion >= MCO_IMPORTANCE_COUNT)
        return mco_error(MCO_ERR_ARG, "unknown importance criterion %d", (int)criterion);
    if (groups->n_layers != model->n_layers)
        return mco_error(MCO_ERR_ARG, "channel groups were traced on another model");
    for (int g = 0; g < groups->n_groups; g++) {
        mco_channel_group *grp = &groups->groups[g];
        if (!grp->prunable) continue;
        if (!grp->importance) grp->importance = malloc((size_t)grp->channels * sizeof(float));
        if (!grp->importance) return mco_error(MCO_ERR_NOMEM, "out of memory for channel importance");
        memset(grp->importance, 0, (size_t)grp->channels * sizeof(float));
    }
    if (mco_importance_needs_data(criterion))
        return activation_importance(model, groups, criterion, calibration, max_samples);

    for (int i = 0; i < model->n_layers; i++) {
        int g = groups->layer_group[i];
        if (g < 0 || !groups->groups[g].prunable || !is_producer(&model->layers[i])) continue;
        add_weight_norms(&model->layers[i], criterion == MCO_IMPORTANCE_L2, groups->groups[g].importance);
    }
    return MCO_OK;
}

/* A channel and its importance, ordered by importance, ties by index. */
typedef struct {
    float importance;
    int channel;
} ranked_channel;

static int compare_ranked(const void *a, const void *b)
{
    const ranked_channel *x = a, *y = b;
    if (x->importance < y->importance) return -1;
    if (x->importance > y->importance) return 1;
    return (x->channel > y->channel) - (x->channel < y->channel);
}

mco_status mco_channel_keep_mask(const mco_model *model, const mco_channel_group *group, float ratio,
                                 int min_channels, uint8_t *keep, int *removed)
{
    const char *name = model->layers[group->leader].name;
    if (!group->prunable) return mco_error(MCO_ERR_ARG, "the channels of %s cannot be pruned", name);
    if (!group->importance) return mco_error(MCO_ERR_ARG, "no channel importance computed for %s", name);
    if (!(ratio >= 0.0f && ratio < 1.0f))
        return mco_error(MCO_ERR_ARG, "pruning ratio %g for %s is outside [0, 1)", (double)ratio, name);
    int c = group->channels;
    int n_remove = (int)floor((double)ratio * c + 0.5);
    if (n_remove >= c)
        return mco_error(MCO_ERR_RANGE, "pruning ratio %g would remove all %d channels of %s", (double)ratio, c,
                         name);
    if (min_channels < 1) min_channels = 1;
    if (c - n_remove < min_channels) n_remove = c > min_channels ? c - min_channels : 0;

    ranked_channel *order = malloc((size_t)c * sizeof *order);
    if (!order) return mco_error(MCO_ERR_NOMEM, "out of memory ranking channels");
    for (int k = 0; k < c; k++) order[k] = (ranked_channel){group->importance[k], k};
    qsort(order, (size_t)c, sizeof *order, compare_ranked);
    memset(keep, 1, (size_t)c);
    for (int k = 0; k < n_remove; k++) keep[order[k].channel] = 0;
    free(order);
    if (removed) *removed = n_remove;
    return MCO_OK;
}
