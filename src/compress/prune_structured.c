/*
 * prune_structured.c - structured pruning (see prune_structured.h): tracing
 * channel groups through the graph, removing channels from producers and
 * every consumer, choosing channels by importance for the whole model, and
 * the per-group sensitivity analysis.
 *
 * Removal works on a clone: each parameter is sliced along one axis
 * (generic over its dims), the shapes are re-inferred, and every parameter
 * size is checked against what the slicing produced before the clone
 * replaces the model. So a failed prune leaves the model as it was.
 *
 * What it leaves out: pruning the model input's channels, groups through a
 * Softmax or a Concat (the channels of a Concat's inputs are kept), pruning
 * a ConvTranspose2D (neither its filters nor the channels it reads), and folding a removed channel's constant output into its
 * consumers' biases.
 */
#include <stdlib.h>
#include <string.h>

#include "mcuopt/prune_structured.h"
#include "mcuopt/train.h"

static int is_producer(const mco_layer *l)
{
    return l->type == MCO_LAYER_CONV2D || l->type == MCO_LAYER_DENSE;
}

/* ---- Channel groups ---- */

/* Union-find over producer layer indices (a producer starts its own set). */
static int find_root(int *parent, int x)
{
    while (parent[x] != x) {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    return x;
}

/* Joins two sets; the union is locked if either was or if their channel
 * counts differ (then no consistent slicing exists). Returns the root. */
static int join(const mco_model *model, int *parent, uint8_t *locked, int a, int b)
{
    a = find_root(parent, a);
    b = find_root(parent, b);
    if (a == b) return a;
    int root = a < b ? a : b, other = a < b ? b : a;
    parent[other] = root;
    locked[root] |= locked[other];
    if (model->layers[a].units != model->layers[b].units) locked[root] = 1;
    return root;
}

void mco_channel_groups_free(mco_channel_groups *groups)
{
    if (groups->groups)
        for (int g = 0; g < groups->n_groups; g++) free(groups->groups[g].importance);
    free(groups->groups);
    free(groups->layer_group);
    memset(groups, 0, sizeof *groups);
}

mco_status mco_channel_groups_find(const mco_model *model, mco_channel_groups *out)
{
    memset(out, 0, sizeof *out);
    int n = model->n_layers;
    if (n <= 0) return mco_error(MCO_ERR_ARG, "the model has no layers");
    int *parent = malloc((size_t)n * sizeof *parent);
    int *set = malloc((size_t)n * sizeof *set);          /* provisional: a producer index or -1 */
    int *group_of_root = malloc((size_t)n * sizeof *group_of_root);
    uint8_t *locked = calloc((size_t)n, 1);
    out->layer_group = malloc((size_t)n * sizeof *out->layer_group);
    out->groups = calloc((size_t)n, sizeof *out->groups);
    out->n_layers = n;
    mco_status st = MCO_OK;
    if (!parent || !set || !group_of_root || !locked || !out->layer_group || !out->groups) {
        st = mco_error(MCO_ERR_NOMEM, "out of memory tracing channel groups");
        goto done;
    }

    for (int i = 0; i < n; i++) {
        const mco_layer *l = &model->layers[i];
        int in0 = l->inputs[0] == MCO_INPUT ? -1 : set[l->inputs[0]];
        parent[i] = i;
        if (is_producer(l)) {
            set[i] = i;
        } else if (l->type == MCO_LAYER_ADD) {
            int in1 = l->inputs[1] == MCO_INPUT ? -1 : set[l->inputs[1]];
            if (in0 >= 0 && in1 >= 0) {
                set[i] = join(model, parent, locked, in0, in1);
            } else {   /* added to the model input: those channels are fixed */
                set[i] = in0 >= 0 ? in0 : in1;
                if (set[i] >= 0) locked[find_root(parent, set[i])] = 1;
            }
        } else if (l->type == MCO_LAYER_CONCAT) {   /* its inputs' channels are fixed; it is in no group */
            int in1 = l->inputs[1] == MCO_INPUT ? -1 : set[l->inputs[1]];
            if (in0 >= 0) locked[find_root(parent, in0)] = 1;
            if (in1 >= 0) locked[find_root(parent, in1)] = 1;
            set[i] = -1;
        } else if (l->type == MCO_LAYER_CONV_TRANSPOSE2D) {   /* not pruned: its input channels are fixed */
            if (in0 >= 0) locked[find_root(parent, in0)] = 1;
            set[i] = -1;
        } else {
            set[i] = in0;
            if (l->type == MCO_LAYER_SOFTMAX && in0 >= 0) locked[find_root(parent, in0)] = 1;
        }
        if (mco_layer_is_general_conv(l)) {
            /* groups and depth multipliers tie output channels to input
             * channels in blocks: neither side is pruned */
            if (in0 >= 0) locked[find_root(parent, in0)] = 1;
            if (set[i] >= 0) locked[find_root(parent, set[i])] = 1;
        }
    }
    if (set[n - 1] >= 0) locked[find_root(parent, set[n - 1])] = 1;   /* the classes */

    /* Number the groups in order of their first layer, which is a producer. */
    for (int i = 0; i < n; i++) group_of_root[i] = -1;
    for (int i = 0; i < n; i++) {
        out->layer_group[i] = -1;
        if (set[i] < 0) continue;
        int root = find_root(parent, set[i]);
        if (group_of_root[root] < 0) {
            mco_channel_group *grp = &out->groups[out->n_groups];
            group_of_root[root] = out->n_groups++;
            grp->leader = i;
            grp->channels = model->layers[i].units;
            grp->prunable = !locked[root];
        }
        out->layer_group[i] = group_of_root[root];
    }
    /* Every member tensor must hold whole copies of the group's channels. */
    for (int i = 0; i < n; i++) {
        int g = out->layer_group[i];
        if (g >= 0 && model->layers[i].out_shape.c % out->groups[g].channels != 0) out->groups[g].prunable = 0;
    }
done:
    free(parent);
    free(set);
    free(group_of_root);
    free(locked);
    if (st != MCO_OK) mco_channel_groups_free(out);
    return st;
}

int mco_channel_group_of(const mco_channel_groups *groups, int layer)
{
    if (layer < 0 || layer >= groups->n_layers) return -1;
    return groups->layer_group[layer];
}

/* ---- Removing channels ---- */

static mco_status locked_error(const mco_model *model, const mco_channel_group *grp)
{
    return mco_error(MCO_ERR_ARG, "the channels of %s cannot be pruned (they reach the model output, "
                     "a softmax or the input)", model->layers[grp->leader].name);
}

/* Keeps, along dimension `axis` of `p`, the indices j with keep[j % period] != 0. */
static mco_status slice_param(mco_param *p, int axis, const uint8_t *keep, int period)
{
    size_t outer = 1, inner = 1;
    for (int d = 0; d < axis; d++) outer *= (size_t)p->dims[d];
    for (int d = axis + 1; d < p->ndim; d++) inner *= (size_t)p->dims[d];
    int len = p->dims[axis], kept = 0;
    for (int j = 0; j < len; j++) kept += keep[j % period] != 0;
    float *data = malloc(outer * (size_t)kept * inner * sizeof *data);
    if (!data) return mco_error(MCO_ERR_NOMEM, "out of memory pruning channels");
    float *dst = data;
    for (size_t o = 0; o < outer; o++)
        for (int j = 0; j < len; j++) {
            if (!keep[j % period]) continue;
            memcpy(dst, p->data + (o * (size_t)len + (size_t)j) * inner, inner * sizeof *dst);
            dst += inner;
        }
    free(p->data);
    p->data = data;
    p->dims[axis] = kept;
    p->size = outer * (size_t)kept * inner;
    return MCO_OK;
}

/* Removes output channels of a producer of the group. */
static mco_status prune_outputs(mco_layer *l, const uint8_t *keep, int channels)
{
    mco_status st;
    if ((st = slice_param(&l->params[MCO_PARAM_WEIGHTS], 0, keep, channels)) != MCO_OK) return st;
    if ((st = slice_param(&l->params[MCO_PARAM_BIAS], 0, keep, channels)) != MCO_OK) return st;
    l->units = l->params[MCO_PARAM_BIAS].dims[0];
    return MCO_OK;
}

/* Removes what a layer reading the group holds for the removed channels. */
static mco_status prune_inputs(mco_layer *l, const uint8_t *keep, int channels)
{
    mco_status st = MCO_OK;
    switch (l->type) {
    case MCO_LAYER_CONV2D:   /* OHWI */
        return slice_param(&l->params[MCO_PARAM_WEIGHTS], 3, keep, channels);
    case MCO_LAYER_DENSE:    /* [units][in], in = flattened NHWC */
        return slice_param(&l->params[MCO_PARAM_WEIGHTS], 1, keep, channels);
    case MCO_LAYER_DEPTHWISE_CONV2D:   /* [kh][kw][c], bias [c] */
        if ((st = slice_param(&l->params[MCO_PARAM_WEIGHTS], 2, keep, channels)) != MCO_OK) return st;
        return slice_param(&l->params[MCO_PARAM_BIAS], 0, keep, channels);
    case MCO_LAYER_BATCHNORM:
        for (int p = 0; p < l->n_params && st == MCO_OK; p++) st = slice_param(&l->params[p], 0, keep, channels);
        return st;
    default:   /* no per-channel parameters */
        return MCO_OK;
    }
}

/* Slices every layer of `model` for group `g` and re-infers the shapes. */
static mco_status remove_group_channels(mco_model *model, const mco_channel_groups *groups, int g,
                                        const uint8_t *keep)
{
    int channels = groups->groups[g].channels;
    mco_status st;
    size_t *expected = calloc((size_t)model->n_layers * MCO_MAX_PARAMS, sizeof *expected);
    if (!expected) return mco_error(MCO_ERR_NOMEM, "out of memory pruning channels");
    for (int i = 0; i < model->n_layers; i++) {
        mco_layer *l = &model->layers[i];
        /* A Conv2D of an identity residual y = x + conv(x) is both producer and reader. */
        if (groups->layer_group[i] == g && is_producer(l) && (st = prune_outputs(l, keep, channels)) != MCO_OK)
            goto done;
        if (l->inputs[0] != MCO_INPUT && groups->layer_group[l->inputs[0]] == g &&
            (st = prune_inputs(l, keep, channels)) != MCO_OK)
            goto done;
        for (int p = 0; p < l->n_params; p++) expected[(size_t)i * MCO_MAX_PARAMS + (size_t)p] = l->params[p].size;
    }
    if ((st = mco_model_infer_shapes(model)) != MCO_OK) goto done;
    for (int i = 0; i < model->n_layers; i++)
        for (int p = 0; p < model->layers[i].n_params; p++)
            if (model->layers[i].params[p].size != expected[(size_t)i * MCO_MAX_PARAMS + (size_t)p]) {
                st = mco_error(MCO_ERR_SHAPE, "pruning left layer %d (%s) with %zu values in parameter %d, "
                               "its shape needs %zu", i, model->layers[i].name,
                               expected[(size_t)i * MCO_MAX_PARAMS + (size_t)p], p,
                               model->layers[i].params[p].size);
                goto done;
            }
done:
    free(expected);
    return st;
}

/* Checks that `layer` outputs a prunable group and that the mask keeps a
 * channel of it; *g gets the group, *kept the channels kept. */
static mco_status check_request(const mco_model *model, const mco_channel_groups *groups, int layer,
                                const uint8_t *keep_mask, int *g, int *kept)
{
    *g = mco_channel_group_of(groups, layer);
    if (*g < 0) return mco_error(MCO_ERR_ARG, "layer %d has no channels to prune", layer);
    const mco_channel_group *grp = &groups->groups[*g];
    if (!grp->prunable) return locked_error(model, grp);
    *kept = 0;
    for (int k = 0; k < grp->channels; k++) *kept += keep_mask[k] != 0;
    if (*kept == 0)
        return mco_error(MCO_ERR_RANGE, "pruning would remove all %d channels of %s", grp->channels,
                         model->layers[grp->leader].name);
    return MCO_OK;
}

mco_status mco_prune_channels(mco_model *model, int layer, const uint8_t *keep_mask)
{
    mco_channel_groups groups;
    mco_status st = mco_channel_groups_find(model, &groups);
    if (st != MCO_OK) return st;
    int g, kept;
    st = check_request(model, &groups, layer, keep_mask, &g, &kept);
    if (st == MCO_OK && kept < groups.groups[g].channels) {
        mco_model work;
        if ((st = mco_model_clone(model, &work)) == MCO_OK &&
            (st = remove_group_channels(&work, &groups, g, keep_mask)) == MCO_OK) {
            mco_model_free(model);
            *model = work;
        } else {
            mco_model_free(&work);
        }
    }
    mco_channel_groups_free(&groups);
    return st;
}

/* ---- Whole-model pruning ---- */

void mco_structured_options_default(mco_structured_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->criterion = MCO_IMPORTANCE_L1;
    opt->ratio = 0.5f;
    opt->layer_ratios = NULL;
    opt->min_channels = 1;
    opt->calibration_samples = 256;
}

/* Checks the options and finds the groups with their importance. */
static mco_status prepare(const mco_model *model, const mco_structured_options *opt, const mco_dataset *calibration,
                          mco_channel_groups *groups)
{
    if (!(opt->ratio >= 0.0f && opt->ratio < 1.0f))
        return mco_error(MCO_ERR_ARG, "pruning ratio %g is outside [0, 1)", (double)opt->ratio);
    if (opt->min_channels < 1) return mco_error(MCO_ERR_ARG, "min_channels must be at least 1");
    if (mco_importance_needs_data(opt->criterion) && opt->calibration_samples < 1)
        return mco_error(MCO_ERR_ARG, "the %s criterion needs calibration_samples >= 1",
                         mco_importance_criterion_name(opt->criterion));
    mco_status st = mco_channel_groups_find(model, groups);
    if (st != MCO_OK) return st;
    st = mco_channel_importance(model, groups, opt->criterion, calibration, opt->calibration_samples);
    if (st != MCO_OK) mco_channel_groups_free(groups);
    return st;
}

/* The ratio a group gets under `opt`: see mco_structured_options. */
static float group_ratio(const mco_model *model, const mco_channel_groups *groups, int g,
                         const mco_structured_options *opt)
{
    if (!opt->layer_ratios) return opt->ratio;
    float ratio = 0.0f;
    for (int i = 0; i < model->n_layers; i++)
        if (groups->layer_group[i] == g && is_producer(&model->layers[i]) && opt->layer_ratios[i] > ratio)
            ratio = opt->layer_ratios[i];
    return ratio;
}

mco_status mco_structured_prune(mco_model *model, const mco_structured_options *opt,
                                const mco_dataset *calibration)
{
    if (opt->layer_ratios)
        for (int i = 0; i < model->n_layers; i++)
            if (!(opt->layer_ratios[i] >= 0.0f && opt->layer_ratios[i] < 1.0f))
                return mco_error(MCO_ERR_ARG, "pruning ratio %g for %s is outside [0, 1)",
                                 (double)opt->layer_ratios[i], model->layers[i].name);
    mco_channel_groups groups;
    mco_status st = prepare(model, opt, calibration, &groups);
    if (st != MCO_OK) return st;

    /* Every mask is chosen on the unpruned model, then the groups (disjoint,
     * and unchanged in structure by pruning) are removed one by one. */
    mco_model work = {0};
    uint8_t **masks = calloc((size_t)groups.n_groups, sizeof *masks);
    if (!masks) {
        st = mco_error(MCO_ERR_NOMEM, "out of memory pruning channels");
        goto done;
    }
    for (int g = 0; g < groups.n_groups; g++) {
        const mco_channel_group *grp = &groups.groups[g];
        float ratio = group_ratio(model, &groups, g, opt);
        if (!grp->prunable && opt->layer_ratios && ratio > 0.0f) {   /* named explicitly */
            st = locked_error(model, grp);
            goto done;
        }
        if (!grp->prunable || ratio <= 0.0f) continue;
        int removed;
        if (!(masks[g] = malloc((size_t)grp->channels))) {
            st = mco_error(MCO_ERR_NOMEM, "out of memory pruning channels");
            goto done;
        }
        if ((st = mco_channel_keep_mask(model, grp, ratio, opt->min_channels, masks[g], &removed)) != MCO_OK)
            goto done;
    }
    if ((st = mco_model_clone(model, &work)) != MCO_OK) goto done;
    for (int g = 0; g < groups.n_groups; g++)
        if (masks[g] && (st = mco_prune_channels(&work, groups.groups[g].leader, masks[g])) != MCO_OK) goto done;
    mco_model_free(model);
    *model = work;
    work = (mco_model){0};
done:
    if (masks)
        for (int g = 0; g < groups.n_groups; g++) free(masks[g]);
    free(masks);
    mco_model_free(&work);
    mco_channel_groups_free(&groups);
    return st;
}

/* ---- Sensitivity ---- */

void mco_sensitivity_result_free(mco_sensitivity_result *r)
{
    free(r->ratios);
    free(r->leaders);
    free(r->channels);
    free(r->accuracy);
    free(r->kept);
    free(r->params);
    memset(r, 0, sizeof *r);
}

static mco_status accuracy_of(const mco_model *model, const mco_dataset *val, int threads, double *accuracy)
{
    mco_eval_result r;
    mco_status st = mco_evaluate(model, val, threads, &r);
    if (st != MCO_OK) return st;
    *accuracy = r.accuracy;
    mco_eval_result_free(&r);
    return MCO_OK;
}

/* One cell: group `g` alone pruned at `ratio`. */
static mco_status sensitivity_cell(const mco_model *model, const mco_channel_groups *groups, int g, float ratio,
                                   const mco_structured_options *opt, const mco_dataset *val, int threads,
                                   double *accuracy, int *kept, size_t *params)
{
    const mco_channel_group *grp = &groups->groups[g];
    uint8_t *keep = malloc((size_t)grp->channels);
    if (!keep) return mco_error(MCO_ERR_NOMEM, "out of memory in the sensitivity analysis");
    int removed;
    mco_status st = mco_channel_keep_mask(model, grp, ratio, opt->min_channels, keep, &removed);
    if (st == MCO_ERR_RANGE) {   /* the ratio would empty the layer: an empty cell, not an error */
        mco_clear_error();
        *accuracy = -1.0;
        *kept = 0;
        *params = 0;
        free(keep);
        return MCO_OK;
    }
    mco_model pruned = {0};
    if (st == MCO_OK && (st = mco_model_clone(model, &pruned)) == MCO_OK &&
        (st = mco_prune_channels(&pruned, grp->leader, keep)) == MCO_OK &&
        (st = accuracy_of(&pruned, val, threads, accuracy)) == MCO_OK) {
        *kept = grp->channels - removed;
        *params = mco_model_param_count(&pruned);
    }
    mco_model_free(&pruned);
    free(keep);
    return st;
}

mco_status mco_structured_sensitivity(const mco_model *model, const mco_structured_options *opt,
                                      const float *ratios, int n_ratios, const mco_dataset *calibration,
                                      const mco_dataset *val, int threads, mco_sensitivity_result *result)
{
    memset(result, 0, sizeof *result);
    if (n_ratios < 1) return mco_error(MCO_ERR_ARG, "the sensitivity analysis needs at least one ratio");
    for (int k = 0; k < n_ratios; k++)
        if (!(ratios[k] >= 0.0f && ratios[k] < 1.0f))
            return mco_error(MCO_ERR_ARG, "pruning ratio %g is outside [0, 1)", (double)ratios[k]);
    mco_structured_options checked = *opt;
    checked.ratio = 0.0f;
    mco_channel_groups groups;
    mco_status st = prepare(model, &checked, calibration, &groups);
    if (st != MCO_OK) return st;

    int rows = 0;
    for (int g = 0; g < groups.n_groups; g++) rows += groups.groups[g].prunable;
    size_t cells = (size_t)rows * (size_t)n_ratios;
    result->n_groups = rows;
    result->n_ratios = n_ratios;
    result->ratios = malloc((size_t)n_ratios * sizeof *result->ratios);
    result->leaders = malloc((size_t)(rows ? rows : 1) * sizeof *result->leaders);
    result->channels = malloc((size_t)(rows ? rows : 1) * sizeof *result->channels);
    result->accuracy = malloc((cells ? cells : 1) * sizeof *result->accuracy);
    result->kept = malloc((cells ? cells : 1) * sizeof *result->kept);
    result->params = malloc((cells ? cells : 1) * sizeof *result->params);
    if (!result->ratios || !result->leaders || !result->channels || !result->accuracy || !result->kept ||
        !result->params) {
        st = mco_error(MCO_ERR_NOMEM, "out of memory in the sensitivity analysis");
        goto done;
    }
    memcpy(result->ratios, ratios, (size_t)n_ratios * sizeof *ratios);
    result->baseline_params = mco_model_param_count(model);
    if ((st = accuracy_of(model, val, threads, &result->baseline_accuracy)) != MCO_OK) goto done;

    int row = 0;
    for (int g = 0; g < groups.n_groups; g++) {
        if (!groups.groups[g].prunable) continue;
        result->leaders[row] = groups.groups[g].leader;
        result->channels[row] = groups.groups[g].channels;
        for (int k = 0; k < n_ratios; k++) {
            size_t cell = (size_t)row * (size_t)n_ratios + (size_t)k;
            st = sensitivity_cell(model, &groups, g, ratios[k], opt, val, threads, &result->accuracy[cell],
                                  &result->kept[cell], &result->params[cell]);
            if (st != MCO_OK) goto done;
        }
        row++;
    }
done:
    mco_channel_groups_free(&groups);
    if (st != MCO_OK) mco_sensitivity_result_free(result);
    return st;
}
