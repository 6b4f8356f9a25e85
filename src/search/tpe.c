/*
 * tpe.c - the search samplers (see search.h): uniform random points, the
 * Tree-structured Parzen Estimator, and successive-halving bookkeeping.
 *
 * TPE in short: sort the finished trials (feasible by objective, then the
 * infeasible ones), call the best gamma fraction "good" and the rest "bad",
 * and model each dimension separately with two densities: l(x) over the
 * good values and g(x) over the bad ones. Each density is a mixture of a
 * uniform prior and one kernel per observation (a truncated Gaussian on the
 * dimension's [0, 1]-normalised, optionally log, scale; for a categorical
 * dimension, smoothed choice frequencies). Candidates are drawn from l and
 * the one with the largest l(x) / g(x) is proposed.
 *
 * What it leaves out: dependencies between dimensions (the "tree" of
 * conditional parameters is flattened: a parameter of a stage that is off
 * is still sampled, and simply unused), multivariate kernels, and
 * constant-liar handling of running trials (the caller's history holds only
 * finished ones).
 */
#include "mcuopt/search.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mcuopt/rng.h"

void mco_tpe_options_default(mco_tpe_options *opt)
{
    opt->n_startup = 8;
    opt->gamma = 0.15;
    opt->n_candidates = 24;
    opt->prior_weight = 1.0;
}

mco_status mco_search_space_check(const mco_search_space *space)
{
    if (space->n_dims < 1 || space->n_dims > MCO_SEARCH_MAX_DIMS)
        return mco_error(MCO_ERR_ARG, "a search space needs 1 to %d dimensions", MCO_SEARCH_MAX_DIMS);
    for (int d = 0; d < space->n_dims; d++) {
        const mco_search_dim *dim = &space->dims[d];
        const char *name = dim->name ? dim->name : "?";
        if (dim->kind == MCO_DIM_CATEGORICAL) {
            if (dim->n_choices < 1 || dim->n_choices > MCO_SEARCH_MAX_CHOICES)
                return mco_error(MCO_ERR_ARG, "dimension %s: 1 to %d choices", name, MCO_SEARCH_MAX_CHOICES);
            for (int c = 0; c < dim->n_choices; c++)
                if (!dim->choices[c]) return mco_error(MCO_ERR_ARG, "dimension %s: choice %d has no name", name, c);
        } else if (!(dim->low <= dim->high) || (dim->log_scale && !(dim->low > 0.0))) {
            return mco_error(MCO_ERR_ARG, "dimension %s: bounds [%g, %g] are not valid", name, dim->low,
                             dim->high);
        }
    }
    return MCO_OK;
}

/* ---- numeric dimensions on a [0, 1] scale --------------------------------- */

double mco_search_to_unit(const mco_search_dim *dim, double value)
{
    double lo = dim->low, hi = dim->high, v = value;
    if (dim->kind == MCO_DIM_INT) {
        lo -= 0.5;
        hi += 0.5;
    }
    if (dim->log_scale) {
        lo = log(lo);
        hi = log(hi);
        v = log(v);
    }
    return hi > lo ? (v - lo) / (hi - lo) : 0.5;
}

double mco_search_from_unit(const mco_search_dim *dim, double u)
{
    double lo = dim->low, hi = dim->high;
    if (dim->kind == MCO_DIM_INT) {
        lo -= 0.5;
        hi += 0.5;
    }
    if (dim->log_scale) {
        lo = log(lo);
        hi = log(hi);
    }
    double v = lo + u * (hi - lo);
    if (dim->log_scale) v = exp(v);
    if (dim->kind == MCO_DIM_INT) {
        v = floor(v + 0.5);
        if (v < dim->low) v = dim->low;
        if (v > dim->high) v = dim->high;
    } else {
        if (v < dim->low) v = dim->low;
        if (v > dim->high) v = dim->high;
    }
    return v;
}

void mco_search_random(const mco_search_space *space, uint64_t seed, mco_search_point *out)
{
    mco_rng rng;
    mco_rng_seed(&rng, seed);
    memset(out, 0, sizeof *out);
    for (int d = 0; d < space->n_dims; d++) {
        const mco_search_dim *dim = &space->dims[d];
        if (dim->kind == MCO_DIM_CATEGORICAL)
            out->v[d] = (double)mco_rng_below(&rng, (uint64_t)dim->n_choices);
        else
            out->v[d] = mco_search_from_unit(dim, (double)mco_rng_uniform(&rng));
    }
}

/* A Parzen density over one dimension, built from `n` values. */
typedef struct {
    const mco_search_dim *dim;
    int n;
    const double *units;       /* numeric: the observations on the unit scale */
    double bandwidth;
    double prior_weight;
    double choice_p[MCO_SEARCH_MAX_CHOICES];   /* categorical probabilities */
} parzen;

static void parzen_init(parzen *p, const mco_search_dim *dim, const double *values, int n, double *units,
                        double prior_weight)
{
    p->dim = dim;
    p->n = n;
    p->units = units;
    p->prior_weight = prior_weight;
    if (dim->kind == MCO_DIM_CATEGORICAL) {
        double total = prior_weight + n;
        for (int c = 0; c < dim->n_choices; c++) p->choice_p[c] = prior_weight / dim->n_choices;
        for (int i = 0; i < n; i++) p->choice_p[(int)values[i]] += 1.0;
        for (int c = 0; c < dim->n_choices; c++) p->choice_p[c] /= total;
        return;
    }
    for (int i = 0; i < n; i++) units[i] = mco_search_to_unit(dim, values[i]);
    /* A Scott-style n^(-1/5) shrinking bandwidth on the unit interval,
     * starting at 0.2 (a fifth of the range) and kept above 0.02. */
    double bw = 0.2 * pow((double)(n > 0 ? n : 1), -0.2);
    p->bandwidth = bw < 0.02 ? 0.02 : bw;
}

static double normal_cdf(double z)
{
    return 0.5 * erfc(-z / sqrt(2.0));
}

/* Density at unit value u: the uniform prior plus Gaussians truncated to
 * [0, 1] (2.50662827... is sqrt(2 pi)). */
static double parzen_density_unit(const parzen *p, double u)
{
    double sum = p->prior_weight;
    const double s = p->bandwidth;
    for (int i = 0; i < p->n; i++) {
        double mass = normal_cdf((1.0 - p->units[i]) / s) - normal_cdf((0.0 - p->units[i]) / s);
        double z = (u - p->units[i]) / s;
        sum += exp(-0.5 * z * z) / (s * 2.5066282746310002) / (mass > 1e-12 ? mass : 1e-12);
    }
    return sum / (p->prior_weight + p->n);
}

static double parzen_log_density(const parzen *p, double value)
{
    if (p->dim->kind == MCO_DIM_CATEGORICAL) return log(p->choice_p[(int)value]);
    return log(parzen_density_unit(p, mco_search_to_unit(p->dim, value)));
}

static double parzen_sample(const parzen *p, mco_rng *rng)
{
    const mco_search_dim *dim = p->dim;
    if (dim->kind == MCO_DIM_CATEGORICAL) {
        double r = (double)mco_rng_uniform(rng), acc = 0.0;
        for (int c = 0; c < dim->n_choices; c++) {
            acc += p->choice_p[c];
            if (r < acc) return (double)c;
        }
        return (double)(dim->n_choices - 1);
    }
    /* Pick the prior or one kernel in proportion to its weight, then sample it. */
    double total = p->prior_weight + p->n;
    double r = (double)mco_rng_uniform(rng) * total;
    if (r < p->prior_weight || p->n == 0) return mco_search_from_unit(dim, (double)mco_rng_uniform(rng));
    int k = (int)(r - p->prior_weight);
    if (k >= p->n) k = p->n - 1;
    for (int tries = 0; tries < 32; tries++) {
        double u = p->units[k] + p->bandwidth * (double)mco_rng_normal(rng);
        if (u >= 0.0 && u <= 1.0) return mco_search_from_unit(dim, u);
    }
    return mco_search_from_unit(dim, p->units[k]);
}

/* Sort order of observations: feasible before infeasible, then by objective. */
static int observation_better(const mco_search_observation *a, const mco_search_observation *b)
{
    if (a->feasible != b->feasible) return a->feasible > b->feasible;
    return a->objective < b->objective;
}

void mco_search_tpe(const mco_search_space *space, const mco_search_observation *history, int n,
                    const mco_tpe_options *opt, uint64_t seed, mco_search_point *out)
{
    if (n < opt->n_startup || n < 2) {
        mco_search_random(space, seed, out);
        return;
    }
    /* Rank the observations (insertion sort of indices: histories are small). */
    int *order = malloc((size_t)n * sizeof *order);
    double *good = malloc((size_t)n * sizeof *good), *bad = malloc((size_t)n * sizeof *bad);
    if (!order || !good || !bad) {
        free(order), free(good), free(bad);
        mco_search_random(space, seed, out);
        return;
    }
    for (int i = 0; i < n; i++) {
        int j = i;
        while (j > 0 && observation_better(&history[i], &history[order[j - 1]])) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    int n_good = (int)ceil(opt->gamma * n);
    if (n_good < 1) n_good = 1;
    if (n_good >= n) n_good = n - 1;

    mco_rng rng;
    mco_rng_seed(&rng, seed);
    parzen l[MCO_SEARCH_MAX_DIMS], g[MCO_SEARCH_MAX_DIMS];
    /* Each dimension gets its own slice of the unit buffers. */
    double *gu = calloc((size_t)n * (size_t)space->n_dims, sizeof *gu);
    double *bu = calloc((size_t)n * (size_t)space->n_dims, sizeof *bu);
    if (!gu || !bu) {
        free(gu), free(bu), free(order), free(good), free(bad);
        mco_search_random(space, seed, out);
        return;
    }
    for (int d = 0; d < space->n_dims; d++) {
        for (int i = 0; i < n; i++) {
            double v = history[order[i]].x.v[d];
            if (i < n_good) good[i] = v;
            else bad[i - n_good] = v;
        }
        parzen_init(&l[d], &space->dims[d], good, n_good, gu + (size_t)d * (size_t)n, opt->prior_weight);
        parzen_init(&g[d], &space->dims[d], bad, n - n_good, bu + (size_t)d * (size_t)n, opt->prior_weight);
    }
    double best_score = -INFINITY;
    for (int c = 0; c < (opt->n_candidates > 0 ? opt->n_candidates : 1); c++) {
        mco_search_point cand;
        memset(&cand, 0, sizeof cand);
        double score = 0.0;
        for (int d = 0; d < space->n_dims; d++) {
            cand.v[d] = parzen_sample(&l[d], &rng);
            score += parzen_log_density(&l[d], cand.v[d]) - parzen_log_density(&g[d], cand.v[d]);
        }
        if (score > best_score) {
            best_score = score;
            *out = cand;
        }
    }
    free(gu), free(bu), free(order), free(good), free(bad);
}

/* ---- successive halving -------------------------------------------------- */

double mco_halving_budget(const mco_halving *h, int rung)
{
    double b = h->min_budget * pow((double)h->eta, rung);
    return b > h->max_budget ? h->max_budget : b;
}

int mco_halving_rungs(const mco_halving *h)
{
    int rungs = 1;
    while (mco_halving_budget(h, rungs - 1) < h->max_budget && rungs < 16) rungs++;
    return rungs;
}

int mco_halving_promote_count(const mco_halving *h, int n_in_rung)
{
    int k = n_in_rung / (h->eta > 1 ? h->eta : 2);
    return k < 1 && n_in_rung > 0 ? 1 : k;
}

int mco_halving_select(const mco_halving *h, const double *objectives, int n, int *promoted)
{
    int k = mco_halving_promote_count(h, n);
    /* Selection of the k lowest objectives, ties by index: a stable insertion sort. */
    int *order = malloc((size_t)(n > 0 ? n : 1) * sizeof *order);
    if (!order) return 0;
    for (int i = 0; i < n; i++) {
        int j = i;
        while (j > 0 && objectives[i] < objectives[order[j - 1]]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    for (int i = 0; i < k; i++) promoted[i] = order[i];
    free(order);
    return k;
}
