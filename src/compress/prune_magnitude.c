/*
 * prune_magnitude.c - unstructured magnitude pruning on a polynomial
 * schedule (see include/compress/mcuopt/prune.h): the schedule, keep-masks per
 * weighted layer with per-layer or global thresholds, the mco_train
 * after_step hook, one-shot pruning and the sparsity count.
 *
 * A mask update sorts the candidate weights by (already masked first,
 * magnitude, layer, index) and masks the first k: exact counts, monotone
 * masks, and the same result on every run. Sorting all of a model's
 * weights (qsort) is fine at the default frequency of 100 steps.
 *
 * What it leaves out: anything but magnitude as the criterion (no
 * gradient- or movement-based pruning), sparsity patterns (blocks, N:M).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mcuopt/prune.h"

static int is_weighted(mco_layer_type t)
{
    return t == MCO_LAYER_CONV2D || t == MCO_LAYER_DEPTHWISE_CONV2D || t == MCO_LAYER_DENSE;
}

/* ---- schedule --------------------------------------------------------------- */

float mco_prune_schedule_sparsity(const mco_prune_schedule *s, long step)
{
    double p = 1.0;
    if (s->end_step > s->begin_step) p = (double)(step - s->begin_step) / (double)(s->end_step - s->begin_step);
    else if (step < s->begin_step) p = 0.0;
    p = p < 0.0 ? 0.0 : (p > 1.0 ? 1.0 : p);
    double decay = pow(1.0 - p, (double)s->power);
    return (float)((double)s->target_sparsity + ((double)s->initial_sparsity - (double)s->target_sparsity) * decay);
}

int mco_prune_schedule_updates_at(const mco_prune_schedule *s, long step)
{
    if (step < s->begin_step || step > s->end_step || s->frequency < 1) return 0;
    return (step - s->begin_step) % s->frequency == 0 || step == s->end_step;
}

void mco_prune_options_default(mco_prune_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->schedule.initial_sparsity = 0.0f;
    opt->schedule.target_sparsity = 0.5f;
    opt->schedule.begin_step = 0;
    opt->schedule.end_step = -1;
    opt->schedule.frequency = 100;
    opt->schedule.power = 3.0f;
    opt->global = 0;
}

static mco_status check_schedule(const mco_prune_schedule *s)
{
    if (!(s->initial_sparsity >= 0.0f && s->initial_sparsity <= 1.0f && s->target_sparsity >= 0.0f &&
          s->target_sparsity <= 1.0f))
        return mco_error(MCO_ERR_ARG, "prune: sparsities must be in [0, 1] (initial %g, target %g)",
                         (double)s->initial_sparsity, (double)s->target_sparsity);
    if (s->begin_step < 0 || s->frequency < 1 || !(s->power > 0.0f))
        return mco_error(MCO_ERR_ARG, "prune: need begin step >= 0, frequency >= 1 and power > 0 (got %ld, %ld, %g)",
                         s->begin_step, s->frequency, (double)s->power);
    if (s->end_step >= 0 && s->end_step < s->begin_step)
        return mco_error(MCO_ERR_ARG, "prune: end step %ld is before begin step %ld", s->end_step, s->begin_step);
    return MCO_OK;
}

/* ---- pruner ------------------------------------------------------------------ */

void mco_pruner_free(mco_pruner *pruner)
{
    if (!pruner) return;
    if (pruner->keep)
        for (int i = 0; i < pruner->n_layers; i++) free(pruner->keep[i]);
    free(pruner->keep);
    free(pruner->layers);
    free(pruner->sizes);
    memset(pruner, 0, sizeof *pruner);
}

static int is_excluded(const mco_prune_options *opt, const char *name)
{
    for (int i = 0; i < opt->n_exclude; i++)
        if (opt->exclude && opt->exclude[i] && strcmp(opt->exclude[i], name) == 0) return 1;
    return 0;
}

mco_status mco_pruner_init(mco_pruner *pruner, const mco_model *model, const mco_prune_options *opt)
{
    if (!pruner) return mco_error(MCO_ERR_ARG, "prune: NULL pruner");
    memset(pruner, 0, sizeof *pruner);
    if (!model || !opt) return mco_error(MCO_ERR_ARG, "prune: NULL argument");
    mco_status st = check_schedule(&opt->schedule);
    if (st != MCO_OK) return st;
    for (int e = 0; e < opt->n_exclude; e++) {
        int found = 0;
        for (int i = 0; i < model->n_layers && !found; i++)
            found = opt->exclude && opt->exclude[e] && is_weighted(model->layers[i].type) &&
                    strcmp(model->layers[i].name, opt->exclude[e]) == 0;
        if (!found)
            return mco_error(MCO_ERR_ARG, "prune: '%s' is not a conv2d, depthwise_conv2d or dense layer of the model",
                             opt->exclude && opt->exclude[e] ? opt->exclude[e] : "(null)");
    }
    pruner->opt = *opt;
    pruner->opt.exclude = NULL;
    pruner->opt.n_exclude = 0;
    pruner->layers = malloc((size_t)model->n_layers * sizeof *pruner->layers);
    pruner->sizes = malloc((size_t)model->n_layers * sizeof *pruner->sizes);
    pruner->keep = calloc((size_t)model->n_layers, sizeof *pruner->keep);
    if (!pruner->layers || !pruner->sizes || !pruner->keep) {
        mco_pruner_free(pruner);
        return mco_error(MCO_ERR_NOMEM, "prune: out of memory");
    }
    for (int i = 0; i < model->n_layers; i++) {
        const mco_layer *L = &model->layers[i];
        if (!is_weighted(L->type) || is_excluded(opt, L->name)) continue;
        const mco_param *w = &L->params[MCO_PARAM_WEIGHTS];
        if (!w->data || w->size == 0) {
            mco_pruner_free(pruner);
            return mco_error(MCO_ERR_ARG, "prune: layer %s has no weights allocated", L->name);
        }
        int k = pruner->n_layers;
        pruner->keep[k] = malloc(w->size);
        if (!pruner->keep[k]) {
            mco_pruner_free(pruner);
            return mco_error(MCO_ERR_NOMEM, "prune: out of memory");
        }
        memset(pruner->keep[k], 1, w->size);
        pruner->layers[k] = i;
        pruner->sizes[k] = w->size;
        pruner->total += w->size;
        pruner->n_layers++;
    }
    if (pruner->n_layers == 0) {
        mco_pruner_free(pruner);
        return mco_error(MCO_ERR_ARG, "prune: the model has no conv2d, depthwise_conv2d or dense layer left to prune");
    }
    return MCO_OK;
}

/* Checks that `model` has the layers the pruner was made for. */
static mco_status check_model(const mco_pruner *pruner, const mco_model *model)
{
    for (int k = 0; k < pruner->n_layers; k++) {
        int i = pruner->layers[k];
        if (i >= model->n_layers || model->layers[i].params[MCO_PARAM_WEIGHTS].size != pruner->sizes[k] ||
            !model->layers[i].params[MCO_PARAM_WEIGHTS].data)
            return mco_error(MCO_ERR_ARG, "prune: the model does not match the one the pruner was made for");
    }
    return MCO_OK;
}

void mco_pruner_apply(const mco_pruner *pruner, mco_model *model)
{
    for (int k = 0; k < pruner->n_layers; k++) {
        float *w = model->layers[pruner->layers[k]].params[MCO_PARAM_WEIGHTS].data;
        const uint8_t *keep = pruner->keep[k];
        for (size_t j = 0; j < pruner->sizes[k]; j++)
            if (!keep[j]) w[j] = 0.0f;
    }
}

mco_status mco_pruner_mask_zeros(mco_pruner *pruner, const mco_model *model)
{
    if (!pruner || !model) return mco_error(MCO_ERR_ARG, "prune: NULL argument");
    mco_status st = check_model(pruner, model);
    if (st != MCO_OK) return st;
    for (int k = 0; k < pruner->n_layers; k++) {
        const float *w = model->layers[pruner->layers[k]].params[MCO_PARAM_WEIGHTS].data;
        for (size_t j = 0; j < pruner->sizes[k]; j++)
            if (w[j] == 0.0f) pruner->keep[k][j] = 0;
    }
    return MCO_OK;
}

/* One candidate weight of a mask update. */
typedef struct {
    float magnitude;
    int masked;
    int layer;      /* index into the pruner's layers */
    size_t index;
} candidate;

static int compare_candidates(const void *pa, const void *pb)
{
    const candidate *a = pa, *b = pb;
    if (a->masked != b->masked) return a->masked ? -1 : 1;
    if (a->magnitude != b->magnitude) return a->magnitude < b->magnitude ? -1 : 1;
    if (a->layer != b->layer) return a->layer < b->layer ? -1 : 1;
    return a->index < b->index ? -1 : (a->index > b->index ? 1 : 0);
}

/* Fills c[] with the weights of pruner layers [first, last); returns how
 * many are already masked, or -1 if a weight is not finite. */
static long fill_candidates(const mco_pruner *pruner, const mco_model *model, int first, int last, candidate *c)
{
    long masked = 0;
    size_t n = 0;
    for (int k = first; k < last; k++) {
        const float *w = model->layers[pruner->layers[k]].params[MCO_PARAM_WEIGHTS].data;
        for (size_t j = 0; j < pruner->sizes[k]; j++, n++) {
            if (!isfinite(w[j])) return -1;
            c[n].magnitude = fabsf(w[j]);
            c[n].masked = !pruner->keep[k][j];
            c[n].layer = k;
            c[n].index = j;
            masked += c[n].masked;
        }
    }
    return masked;
}

/* Masks the first round(sparsity * n) (at least the already masked) of n candidates. */
static void mask_smallest(mco_pruner *pruner, candidate *c, size_t n, long already_masked, float sparsity)
{
    size_t k = (size_t)floor((double)sparsity * (double)n + 0.5);
    if (k < (size_t)already_masked) k = (size_t)already_masked;
    if (k > n) k = n;
    qsort(c, n, sizeof *c, compare_candidates);
    for (size_t j = 0; j < k; j++) pruner->keep[c[j].layer][c[j].index] = 0;
}

mco_status mco_pruner_update(mco_pruner *pruner, mco_model *model, float sparsity)
{
    if (!pruner || !model) return mco_error(MCO_ERR_ARG, "prune: NULL argument");
    if (!(sparsity >= 0.0f && sparsity <= 1.0f))
        return mco_error(MCO_ERR_ARG, "prune: sparsity %g is not in [0, 1]", (double)sparsity);
    mco_status st = check_model(pruner, model);
    if (st != MCO_OK) return st;
    size_t largest = 0;
    for (int k = 0; k < pruner->n_layers; k++)
        if (pruner->sizes[k] > largest) largest = pruner->sizes[k];
    candidate *c = malloc((pruner->opt.global ? pruner->total : largest) * sizeof *c);
    if (!c) return mco_error(MCO_ERR_NOMEM, "prune: out of memory");
    for (int k = 0; k < pruner->n_layers; k++) {
        int last = pruner->opt.global ? pruner->n_layers : k + 1;
        long masked = fill_candidates(pruner, model, k, last, c);
        if (masked < 0) {
            free(c);
            return mco_error(MCO_ERR_RANGE, "prune: layer %s has weights that are not finite numbers",
                             model->layers[pruner->layers[k]].name);
        }
        size_t n = 0;
        for (int j = k; j < last; j++) n += pruner->sizes[j];
        mask_smallest(pruner, c, n, masked, sparsity);
        if (pruner->opt.global) break;
    }
    free(c);
    mco_pruner_apply(pruner, model);
    pruner->sparsity = sparsity;
    pruner->n_updates++;
    return MCO_OK;
}

mco_status mco_pruner_after_step(void *user, mco_model *model, long step, long total_steps)
{
    mco_pruner *pruner = user;
    if (!pruner || !model) return mco_error(MCO_ERR_ARG, "prune: NULL argument");
    mco_prune_schedule s = pruner->opt.schedule;
    long last = total_steps - 1;
    if (s.end_step < 0 || s.end_step > last) s.end_step = last;
    if (s.begin_step > last)
        return mco_error(MCO_ERR_ARG, "prune: begin step %ld is past the last training step %ld", s.begin_step, last);
    if (mco_prune_schedule_updates_at(&s, step))
        return mco_pruner_update(pruner, model, mco_prune_schedule_sparsity(&s, step));
    mco_status st = check_model(pruner, model);
    if (st == MCO_OK) mco_pruner_apply(pruner, model);
    return st;
}

mco_status mco_prune_apply_now(mco_model *model, const mco_prune_options *opt)
{
    mco_pruner pruner;
    mco_status st = mco_pruner_init(&pruner, model, opt);
    if (st != MCO_OK) return st;
    st = mco_pruner_update(&pruner, model, opt->schedule.target_sparsity);
    mco_pruner_free(&pruner);
    return st;
}

/* ---- statistics ------------------------------------------------------------------ */

double mco_model_sparsity(const mco_model *model, mco_layer_sparsity *per_layer)
{
    size_t weights = 0, zeros = 0;
    for (int i = 0; i < model->n_layers; i++) {
        const mco_layer *L = &model->layers[i];
        mco_layer_sparsity s = {0, 0};
        if (is_weighted(L->type) && L->params[MCO_PARAM_WEIGHTS].data) {
            const mco_param *w = &L->params[MCO_PARAM_WEIGHTS];
            s.weights = w->size;
            for (size_t j = 0; j < w->size; j++) s.zeros += w->data[j] == 0.0f;
        }
        weights += s.weights;
        zeros += s.zeros;
        if (per_layer) per_layer[i] = s;
    }
    return weights ? (double)zeros / (double)weights : 0.0;
}
