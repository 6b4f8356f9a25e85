/*
 * nsga2.c - NSGA-II, the multi-objective sampler of `mcuopt search`, written
 * from its paper (K. Deb, A. Pratap, S. Agarwal, T. Meyarivan, "A fast and
 * elitist multiobjective genetic algorithm: NSGA-II", IEEE Trans. Evol.
 * Comput. 6(2), 2002), and the exact hypervolume a front is judged by.
 *
 *   - fast non-dominated sorting (section III-A): each point's domination
 *     count and the set it dominates, fronts peeled off in turn;
 *   - crowding distance (section III-B): per objective, the normalised gap
 *     between a point's two neighbours, INFINITY at the ends;
 *   - constrained domination (section VI): a feasible point beats an
 *     infeasible one, and of two infeasible ones the smaller violation wins;
 *   - the proposal: the search evaluates one configuration at a time (a
 *     batch), so the generational loop of the paper becomes a steady state:
 *     the population is the best `population` trials so far by (front,
 *     crowding), and each proposal is one child of two parents picked by
 *     binary crowded tournaments, made by simulated binary crossover (SBX,
 *     Deb and Agrawal 1995) and polynomial mutation on the unit scale of
 *     numeric dimensions (the paper's operators for real variables), and
 *     uniform crossover / redrawing for categorical ones;
 *   - the hypervolume: the measure of the union of the boxes between each
 *     point and the reference point, exactly, by slicing along the last
 *     objective (the "hypervolume by slicing objectives" recursion, While et
 *     al. 2006) down to a sweep in two objectives. It costs O(n^(m-1) log n),
 *     plenty for the few hundred trials of a search.
 *
 * What it leaves out: the paper's binary-coded operators, a generation
 * counter (the steady state needs none), faster hypervolume algorithms for
 * many objectives (WFG, or the O(n log n) 3-D sweep).
 */
#include "mcuopt/search.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mcuopt/rng.h"

void mco_nsga2_options_default(mco_nsga2_options *opt)
{
    opt->n_startup = 8;
    opt->population = 12;
    opt->crossover_prob = 0.9;
    opt->eta_c = 15.0;
    opt->eta_m = 20.0;
}

int mco_pareto_dominates(const double *a, const double *b, int m)
{
    int better = 0;
    for (int k = 0; k < m; k++) {
        if (a[k] > b[k]) return 0;
        if (a[k] < b[k]) better = 1;
    }
    return better;
}

mco_status mco_nondominated_sort(const double *f, int n, int m, int *rank)
{
    if (n <= 0) return MCO_OK;
    /* dominated_by[i]: how many points dominate i; dominates[i * n + j]: i dominates j. */
    int *count = calloc((size_t)n, sizeof *count);
    int *front = malloc((size_t)n * sizeof *front), *next = malloc((size_t)n * sizeof *next);
    unsigned char *dominates = calloc((size_t)n * (size_t)n, 1);
    if (!count || !front || !next || !dominates) {
        free(count), free(front), free(next), free(dominates);
        return mco_error(MCO_ERR_NOMEM, "search: out of memory sorting %d points", n);
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            if (i != j && mco_pareto_dominates(f + (size_t)i * (size_t)m, f + (size_t)j * (size_t)m, m)) {
                dominates[(size_t)i * (size_t)n + (size_t)j] = 1;
                count[j]++;
            }
    int n_front = 0;
    for (int i = 0; i < n; i++)
        if (count[i] == 0) {
            rank[i] = 0;
            front[n_front++] = i;
        }
    for (int r = 1; n_front > 0; r++) {
        int n_next = 0;
        for (int a = 0; a < n_front; a++) {
            int p = front[a];
            for (int q = 0; q < n; q++)
                if (dominates[(size_t)p * (size_t)n + (size_t)q] && --count[q] == 0) {
                    rank[q] = r;
                    next[n_next++] = q;
                }
        }
        memcpy(front, next, (size_t)n_next * sizeof *front);
        n_front = n_next;
    }
    free(count), free(front), free(next), free(dominates);
    return MCO_OK;
}

/* qsort has no context argument: the sort below is an insertion sort of
 * indices by one objective (fronts are small). */
static void sort_by(const double *f, int m, int k, int *idx, int n)
{
    for (int i = 1; i < n; i++) {
        int v = idx[i], j = i;
        while (j > 0 && f[(size_t)idx[j - 1] * (size_t)m + (size_t)k] > f[(size_t)v * (size_t)m + (size_t)k]) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = v;
    }
}

mco_status mco_crowding_distance(const double *f, int m, const int *members, int k, double *dist)
{
    if (k <= 0) return MCO_OK;
    int *order = malloc((size_t)k * sizeof *order);   /* positions 0..k-1 into members */
    double *g = malloc((size_t)k * (size_t)m * sizeof *g);   /* the members' objectives, packed */
    if (!order || !g) {
        free(order), free(g);
        return mco_error(MCO_ERR_NOMEM, "search: out of memory for crowding distances");
    }
    for (int i = 0; i < k; i++) {
        dist[i] = 0.0;
        memcpy(g + (size_t)i * (size_t)m, f + (size_t)members[i] * (size_t)m, (size_t)m * sizeof *g);
    }
    for (int obj = 0; obj < m; obj++) {
        for (int i = 0; i < k; i++) order[i] = i;
        sort_by(g, m, obj, order, k);
        double lo = g[(size_t)order[0] * (size_t)m + (size_t)obj];
        double hi = g[(size_t)order[k - 1] * (size_t)m + (size_t)obj];
        dist[order[0]] = dist[order[k - 1]] = INFINITY;
        if (!(hi > lo)) continue;
        for (int i = 1; i < k - 1; i++)
            dist[order[i]] += (g[(size_t)order[i + 1] * (size_t)m + (size_t)obj] -
                               g[(size_t)order[i - 1] * (size_t)m + (size_t)obj]) / (hi - lo);
    }
    free(order), free(g);
    return MCO_OK;
}

/* ---- hypervolume ---------------------------------------------------------- */

/* The hypervolume of n points (packed, m objectives, all strictly inside
 * the reference box); idx and scratch have room for n ints and n * m
 * doubles per level below. */
static double hv_rec(double *p, int n, int m, const double *ref, int *idx, double *scratch)
{
    if (n == 0) return 0.0;
    if (m == 1) {
        double lo = p[0];
        for (int i = 1; i < n; i++) lo = fmin(lo, p[i]);
        return ref[0] - lo;
    }
    for (int i = 0; i < n; i++) idx[i] = i;
    sort_by(p, m, m - 1, idx, n);
    if (m == 2) {
        /* Sweep in the last objective: each point, taken in increasing
         * order of it, extends the covered width in the first one. */
        double volume = 0.0, best_x = ref[0];
        for (int a = 0; a < n; a++) {
            const double *q = p + (size_t)idx[a] * 2;
            double top = a + 1 < n ? p[(size_t)idx[a + 1] * 2 + 1] : ref[1];
            if (q[0] < best_x) best_x = q[0];
            volume += (ref[0] - best_x) * (top - q[1]);
        }
        return volume;
    }
    /* Slices along the last objective: between the a-th and (a+1)-th
     * values, the points 0..a project onto an (m-1)-objective front. */
    double volume = 0.0;
    double *slice = scratch;   /* the first m - 1 objectives of points 0..a, in that order */
    for (int a = 0; a < n; a++) {
        const double *q = p + (size_t)idx[a] * (size_t)m;
        memcpy(slice + (size_t)a * (size_t)(m - 1), q, (size_t)(m - 1) * sizeof *slice);
        double top = a + 1 < n ? p[(size_t)idx[a + 1] * (size_t)m + (size_t)(m - 1)] : ref[m - 1];
        double height = top - q[m - 1];
        if (height > 0.0)   /* hv_rec only reads its points: the slice grows in place */
            volume += height * hv_rec(slice, a + 1, m - 1, ref, idx + n, scratch + (size_t)n * (size_t)m);
    }
    return volume;
}

double mco_hypervolume(const double *f, int n, int m, const double *ref)
{
    if (n <= 0 || m < 1 || m > MCO_SEARCH_MAX_OBJECTIVES) return 0.0;
    /* Per level of the recursion: a slice of n * m doubles and n indices. */
    size_t levels = (size_t)m + 1;
    double *p = malloc((size_t)n * (size_t)m * sizeof *p);
    double *scratch = malloc(levels * (size_t)n * (size_t)m * sizeof *scratch);
    int *idx = malloc(levels * (size_t)n * sizeof *idx);
    if (!p || !scratch || !idx) {
        free(p), free(scratch), free(idx);
        return -1.0;
    }
    int kept = 0;
    for (int i = 0; i < n; i++) {
        const double *q = f + (size_t)i * (size_t)m;
        int inside = 1;
        for (int k = 0; k < m; k++) inside &= q[k] < ref[k];
        if (inside) memcpy(p + (size_t)kept++ * (size_t)m, q, (size_t)m * sizeof *p);
    }
    double volume = hv_rec(p, kept, m, ref, idx, scratch);
    free(p), free(scratch), free(idx);
    return volume;
}

/* ---- the proposal ----------------------------------------------------------- */

/* Simulated binary crossover of two values in [0, 1] (Deb and Agrawal
 * 1995, with the bounded spread of Deb's later codes omitted: children are
 * clipped to the interval); returns one child, picked at random. */
static double sbx(double a, double b, double eta, mco_rng *rng)
{
    double u = (double)mco_rng_uniform(rng);
    double beta = u <= 0.5 ? pow(2.0 * u, 1.0 / (eta + 1.0)) : pow(1.0 / (2.0 * (1.0 - u)), 1.0 / (eta + 1.0));
    double c1 = 0.5 * ((1.0 + beta) * a + (1.0 - beta) * b);
    double c2 = 0.5 * ((1.0 - beta) * a + (1.0 + beta) * b);
    double c = mco_rng_uniform(rng) < 0.5f ? c1 : c2;
    return fmin(fmax(c, 0.0), 1.0);
}

/* Polynomial mutation of a value in [0, 1] (Deb and Goyal 1996). */
static double polynomial_mutation(double x, double eta, mco_rng *rng)
{
    double u = (double)mco_rng_uniform(rng);
    double delta = u < 0.5 ? pow(2.0 * u, 1.0 / (eta + 1.0)) - 1.0 : 1.0 - pow(2.0 * (1.0 - u), 1.0 / (eta + 1.0));
    return fmin(fmax(x + delta, 0.0), 1.0);
}

/* Each observation's (rank, crowding): feasible ones by their fronts, then
 * infeasible ones after the last front, one rank per distinct violation. */
static mco_status rank_history(const mco_search_observation *h, int n, int *rank, double *crowd)
{
    int m = 1;
    for (int i = 0; i < n; i++)
        if (h[i].feasible && h[i].n_f > m) m = h[i].n_f;
    int *feas = malloc((size_t)n * sizeof *feas), *frank = malloc((size_t)n * sizeof *frank);
    double *f = malloc((size_t)n * (size_t)m * sizeof *f), *dist = malloc((size_t)n * sizeof *dist);
    int *members = malloc((size_t)n * sizeof *members);
    if (!feas || !frank || !f || !dist || !members) {
        free(feas), free(frank), free(f), free(dist), free(members);
        return mco_error(MCO_ERR_NOMEM, "search: out of memory ranking the trials");
    }
    int nf = 0;
    for (int i = 0; i < n; i++) {
        crowd[i] = 0.0;
        if (!h[i].feasible) continue;
        for (int k = 0; k < m; k++)
            f[(size_t)nf * (size_t)m + (size_t)k] = h[i].n_f > 0 ? (k < h[i].n_f ? h[i].f[k] : 0.0)
                                                                 : (k == 0 ? h[i].objective : 0.0);
        feas[nf++] = i;
    }
    mco_status st = mco_nondominated_sort(f, nf, m, frank);
    int max_rank = -1;
    for (int a = 0; a < nf; a++) {
        rank[feas[a]] = frank[a];
        if (frank[a] > max_rank) max_rank = frank[a];
    }
    for (int r = 0; r <= max_rank && st == MCO_OK; r++) {
        int k = 0;
        for (int a = 0; a < nf; a++)
            if (frank[a] == r) members[k++] = a;
        st = mco_crowding_distance(f, m, members, k, dist);
        for (int j = 0; j < k && st == MCO_OK; j++) crowd[feas[members[j]]] = dist[j];
    }
    /* Constrained domination among the infeasible: by violation. */
    for (int i = 0; i < n; i++) {
        if (h[i].feasible) continue;
        int below = 0;
        for (int j = 0; j < n; j++)
            if (!h[j].feasible && h[j].objective < h[i].objective) below++;
        rank[i] = max_rank + 1 + below;
    }
    free(feas), free(frank), free(f), free(dist), free(members);
    return st;
}

/* The crowded-comparison operator: lower rank, then larger crowding. */
static int crowded_better(const int *rank, const double *crowd, int a, int b)
{
    if (rank[a] != rank[b]) return rank[a] < rank[b];
    return crowd[a] > crowd[b];
}

void mco_search_nsga2(const mco_search_space *space, const mco_search_observation *history, int n,
                      const mco_nsga2_options *opt, uint64_t seed, mco_search_point *out)
{
    if (n < opt->n_startup || n < 2) {
        mco_search_random(space, seed, out);
        return;
    }
    int *rank = malloc((size_t)n * sizeof *rank), *pop = malloc((size_t)n * sizeof *pop);
    double *crowd = malloc((size_t)n * sizeof *crowd);
    if (!rank || !pop || !crowd || rank_history(history, n, rank, crowd) != MCO_OK) {
        free(rank), free(pop), free(crowd);
        mco_clear_error();
        mco_search_random(space, seed, out);
        return;
    }
    /* Elitist selection: the population is the best by the crowded
     * comparison (an insertion sort of indices, ties by index). */
    for (int i = 0; i < n; i++) {
        int j = i;
        while (j > 0 && crowded_better(rank, crowd, i, pop[j - 1])) {
            pop[j] = pop[j - 1];
            j--;
        }
        pop[j] = i;
    }
    int size = opt->population < n ? opt->population : n;
    if (size < 2) size = 2;
    mco_rng rng;
    mco_rng_seed(&rng, seed);
    int parent[2];
    for (int t = 0; t < 2; t++) {   /* binary tournaments */
        int a = pop[mco_rng_below(&rng, (uint64_t)size)], b = pop[mco_rng_below(&rng, (uint64_t)size)];
        parent[t] = crowded_better(rank, crowd, b, a) ? b : a;
    }
    const mco_search_point *p1 = &history[parent[0]].x, *p2 = &history[parent[1]].x;
    int cross = (double)mco_rng_uniform(&rng) < opt->crossover_prob;
    double p_mut = 1.0 / (double)space->n_dims;
    memset(out, 0, sizeof *out);
    for (int d = 0; d < space->n_dims; d++) {
        const mco_search_dim *dim = &space->dims[d];
        if (dim->kind == MCO_DIM_CATEGORICAL) {
            double v = cross && mco_rng_uniform(&rng) < 0.5f ? p2->v[d] : p1->v[d];
            if ((double)mco_rng_uniform(&rng) < p_mut) v = (double)mco_rng_below(&rng, (uint64_t)dim->n_choices);
            out->v[d] = v;
        } else {
            double u = mco_search_to_unit(dim, p1->v[d]);
            if (cross) u = sbx(u, mco_search_to_unit(dim, p2->v[d]), opt->eta_c, &rng);
            if ((double)mco_rng_uniform(&rng) < p_mut) u = polynomial_mutation(u, opt->eta_m, &rng);
            out->v[d] = mco_search_from_unit(dim, u);
        }
    }
    free(rank), free(pop), free(crowd);
}
