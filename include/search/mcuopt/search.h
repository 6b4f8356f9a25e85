/*
 * search.h - the black-box optimizer behind `mcuopt search`: a search space
 * of typed dimensions, a Tree-structured Parzen Estimator (TPE, Bergstra et
 * al. 2011) that proposes the next configuration from the trials so far, a
 * random sampler (the baseline), and successive halving (Jamieson and
 * Talwalkar 2016) that gives bad configurations little training.
 *
 * A point is one double per dimension: the value for float and int
 * dimensions, the choice index for categorical ones. Every proposal is a
 * pure function of its seed and the history, so a resumed search (which
 * derives the seed from the study seed and the trial number) proposes
 * exactly what the interrupted one would have.
 */
#ifndef MCUOPT_SEARCH_H
#define MCUOPT_SEARCH_H

#include <stdint.h>

#include "mcuopt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MCO_SEARCH_MAX_DIMS 24
#define MCO_SEARCH_MAX_CHOICES 8

typedef enum {
    MCO_DIM_FLOAT = 0,        /* uniform (or log-uniform) in [low, high] */
    MCO_DIM_INT = 1,          /* integers low..high */
    MCO_DIM_CATEGORICAL = 2   /* index 0..n_choices-1 */
} mco_dim_kind;

typedef struct {
    const char *name;
    mco_dim_kind kind;
    double low, high;         /* float and int */
    int log_scale;            /* float: sample log-uniformly (low > 0) */
    int n_choices;            /* categorical */
    const char *choices[MCO_SEARCH_MAX_CHOICES];
} mco_search_dim;

typedef struct {
    int n_dims;
    mco_search_dim dims[MCO_SEARCH_MAX_DIMS];
} mco_search_space;

typedef struct {
    double v[MCO_SEARCH_MAX_DIMS];
} mco_search_point;

/* One finished trial as the sampler sees it: lower objective is better;
 * an infeasible trial (constraint violated) counts as worse than every
 * feasible one. */
typedef struct {
    mco_search_point x;
    double objective;
    int feasible;
} mco_search_observation;

typedef struct {
    int n_startup;            /* random points before TPE takes over (default 8) */
    double gamma;             /* fraction of observations that are "good" (default 0.15) */
    int n_candidates;         /* candidates drawn from l(x), best l/g kept (default 24) */
    double prior_weight;      /* weight of the uniform prior in each density (default 1) */
} mco_tpe_options;

void mco_tpe_options_default(mco_tpe_options *opt);

/* Checks a space: bounds ordered, log-scale bounds positive, choices named. */
mco_status mco_search_space_check(const mco_search_space *space);

/* A point drawn uniformly from the space. */
void mco_search_random(const mco_search_space *space, uint64_t seed, mco_search_point *out);

/* The TPE proposal given `n` observations (random while n < n_startup). */
void mco_search_tpe(const mco_search_space *space, const mco_search_observation *history, int n,
                    const mco_tpe_options *opt, uint64_t seed, mco_search_point *out);

/* Successive halving: the budget of rung r is min_budget * eta^r, capped at
 * max_budget; the number of configurations promoted from a rung of `n` is
 * n / eta (at least 1). */
typedef struct {
    double min_budget, max_budget;
    int eta;
} mco_halving;

int mco_halving_rungs(const mco_halving *h);           /* number of rungs */
double mco_halving_budget(const mco_halving *h, int rung);
int mco_halving_promote_count(const mco_halving *h, int n_in_rung);
/* Indices (into objectives[0..n)) of the configurations to promote, best
 * (lowest objective) first, ties broken by index; returns how many. */
int mco_halving_select(const mco_halving *h, const double *objectives, int n, int *promoted);

#ifdef __cplusplus
}
#endif
#endif
