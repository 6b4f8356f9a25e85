/*
 * search.h - the black-box optimizer behind `mcuopt search`: a search space
 * of typed dimensions, a Tree-structured Parzen Estimator (TPE, Bergstra et
 * al. 2011) that proposes the next configuration from the trials so far, a
 * random sampler (the baseline), and successive halving (Jamieson and
 * Talwalkar 2016) that gives bad configurations little training.
 *
 * NSGA-II (Deb et al. 2002, nsga2.c) is the multi-objective sampler: it
 * ranks the trials by non-dominated sorting and crowding distance and
 * breeds the next proposal from them; the same file has the exact
 * hypervolume a front is judged by. mco_search_propose() (sampler.c) is the
 * one entry the search uses, whichever sampler is chosen; it also retires
 * the choices of a categorical dimension that lost by a wide margin.
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

#define MCO_SEARCH_MAX_OBJECTIVES 4

/* One finished trial as the sampler sees it: lower objective is better;
 * an infeasible trial (constraint violated) counts as worse than every
 * feasible one, and among infeasible ones `objective` is the violation
 * (lower is closer to feasible). For a multi-objective search a feasible
 * trial also has n_f objectives f[] (all minimised); n_f = 0: only
 * `objective`. */
typedef struct {
    mco_search_point x;
    double objective;
    int feasible;
    int n_f;
    double f[MCO_SEARCH_MAX_OBJECTIVES];
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

/* A numeric dimension's value <-> its place in [0, 1] (log scale for a
 * log dimension; an int dimension's integers get equal widths); from_unit
 * clips and rounds to the dimension. */
double mco_search_to_unit(const mco_search_dim *dim, double value);
double mco_search_from_unit(const mco_search_dim *dim, double u);

/* A point drawn uniformly from the space. */
void mco_search_random(const mco_search_space *space, uint64_t seed, mco_search_point *out);

/* The TPE proposal given `n` observations (random while n < n_startup). */
void mco_search_tpe(const mco_search_space *space, const mco_search_observation *history, int n,
                    const mco_tpe_options *opt, uint64_t seed, mco_search_point *out);

/* ---- NSGA-II and the front (nsga2.c) ------------------------------------- */

/* 1 if a dominates b: no worse in every one of m objectives (minimised) and
 * better in at least one. */
int mco_pareto_dominates(const double *a, const double *b, int m);

/* Fast non-dominated sorting (Deb et al. 2002, section III-A) of n points
 * of m objectives (f[i * m + k]): rank[i] = 0 for the first front, 1 for
 * the front once that one is removed, and so on. Equal points share a rank.
 * MCO_ERR_NOMEM only. */
mco_status mco_nondominated_sort(const double *f, int n, int m, int *rank);

/* The crowding distance (section III-B) of the k points members[0..k) (one
 * front) into dist[0..k): per objective, the points sorted by it, the two
 * ends get INFINITY and each other one adds (next - previous) / (max - min)
 * (nothing for an objective where all are equal). MCO_ERR_NOMEM only. */
mco_status mco_crowding_distance(const double *f, int m, const int *members, int k, double *dist);

/* The hypervolume of n points of m <= MCO_SEARCH_MAX_OBJECTIVES objectives
 * (minimised) against the reference point ref: the measure of the union of
 * the boxes [f_i, ref], computed exactly (slicing along the last objective,
 * a sweep in two). Points not strictly better than ref in every objective
 * add nothing. Returns -1 when out of memory. */
double mco_hypervolume(const double *f, int n, int m, const double *ref);

typedef struct {
    int n_startup;            /* random points before NSGA-II takes over (default 8) */
    int population;           /* parents kept by non-dominated rank and crowding (default 12) */
    double crossover_prob;    /* SBX / uniform crossover (default 0.9) */
    double eta_c;             /* SBX distribution index (default 15) */
    double eta_m;             /* polynomial mutation index (default 20); each gene mutates
                                 with probability 1 / dimensions */
} mco_nsga2_options;

void mco_nsga2_options_default(mco_nsga2_options *opt);

/* The NSGA-II proposal given n observations: the population is the best
 * `population` of them by constrained domination (feasible first, by front
 * and crowding distance; infeasible after, by violation), two parents are
 * picked by binary crowded tournaments, crossed (simulated binary crossover
 * on the unit scale of numeric dimensions, uniform for categorical ones)
 * and mutated (polynomial mutation; a categorical gene redrawn). Feasible
 * observations with n_f = 0 are ranked by `objective` alone. Random while
 * n < n_startup. */
void mco_search_nsga2(const mco_search_space *space, const mco_search_observation *history, int n,
                      const mco_nsga2_options *opt, uint64_t seed, mco_search_point *out);

/* ---- one interface for the samplers (sampler.c) -------------------------- */

typedef enum { MCO_SAMPLER_TPE = 0, MCO_SAMPLER_RANDOM = 1, MCO_SAMPLER_NSGA2 = 2 } mco_sampler_kind;

/* "tpe", "random", "nsga2" <-> the kind; parse returns 0 for an unknown name. */
const char *mco_sampler_name(mco_sampler_kind kind);
int mco_sampler_parse(const char *name, mco_sampler_kind *kind);

typedef struct {
    mco_sampler_kind kind;
    mco_tpe_options tpe;
    mco_nsga2_options nsga2;
    /* Retiring losing choices: the categorical dimension whose choices may
     * be retired (-1: none), after how many observations of a choice, and
     * by what margin of `objective` its best must trail the best choice's.
     * A choice with nothing feasible while another has loses too, after
     * twice as many observations (infeasible early trials say more about
     * their other settings than about the choice). Only a winner whose best
     * is below retire_winner_below retires others (the search: 0, the
     * starting model's cost: a choice is never dropped for one that does
     * not even beat the starting model). */
    int retire_dim;
    int retire_min_trials;
    double retire_margin;
    double retire_winner_below;
} mco_sampler;

/* TPE, 8 random start-up points, no retiring (retire_winner_below INFINITY). */
void mco_sampler_init(mco_sampler *sampler, mco_sampler_kind kind);

/* Which choices of sampler->retire_dim lost, a pure function of the
 * history: per choice its observations and best feasible objective, the
 * winner (the best choice, -1 while none is feasible: then nothing is
 * retired) and the retired ones (bit c for choice c). */
typedef struct {
    int winner;
    unsigned retired;
    int tried[MCO_SEARCH_MAX_CHOICES];
    double best[MCO_SEARCH_MAX_CHOICES];   /* INFINITY: nothing feasible */
} mco_search_retirement;

void mco_search_retired(const mco_sampler *sampler, const mco_search_space *space,
                        const mco_search_observation *history, int n, mco_search_retirement *out);

/* The next point: the sampler's proposal, with a retired choice replaced
 * by the winner. TPE given multi-objective observations (n_f > 0) sees a
 * feasible trial's non-dominated rank as its objective. Deterministic in
 * the seed and the history. */
void mco_search_propose(const mco_sampler *sampler, const mco_search_space *space,
                        const mco_search_observation *history, int n, uint64_t seed, mco_search_point *out);

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
