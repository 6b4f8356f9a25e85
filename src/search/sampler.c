/*
 * sampler.c - the one interface `mcuopt search` proposes through (search.h):
 * the sampler by name (tpe, random, nsga2), the proposal of the chosen one,
 * and the retiring of a categorical dimension's choices that lost by a wide
 * margin (the search retires weight formats this way: int4 or float16 on a
 * core where they are ten times slower than int8 stop being proposed).
 *
 * Retiring is a pure function of the history, like every proposal, so a
 * resumed search proposes the same points. A proposal whose choice is
 * retired gets the winning choice instead (the other dimensions stay as the
 * sampler drew them), which keeps the sampler's own distribution intact.
 *
 * What it leaves out: retiring values of numeric dimensions, and bringing a
 * retired choice back (it can only come back if the history changes, e.g.
 * when a trial of it that was running finishes better).
 */
#include "mcuopt/search.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const sampler_names[] = {"tpe", "random", "nsga2"};

const char *mco_sampler_name(mco_sampler_kind kind)
{
    return (unsigned)kind < 3 ? sampler_names[kind] : "?";
}

int mco_sampler_parse(const char *name, mco_sampler_kind *kind)
{
    for (int i = 0; i < 3; i++)
        if (strcmp(name, sampler_names[i]) == 0) {
            *kind = (mco_sampler_kind)i;
            return 1;
        }
    return 0;
}

void mco_sampler_init(mco_sampler *sampler, mco_sampler_kind kind)
{
    memset(sampler, 0, sizeof *sampler);
    sampler->kind = kind;
    mco_tpe_options_default(&sampler->tpe);
    mco_nsga2_options_default(&sampler->nsga2);
    sampler->retire_dim = -1;
    sampler->retire_winner_below = INFINITY;
}

void mco_search_retired(const mco_sampler *sampler, const mco_search_space *space,
                        const mco_search_observation *history, int n, mco_search_retirement *out)
{
    memset(out, 0, sizeof *out);
    out->winner = -1;
    for (int c = 0; c < MCO_SEARCH_MAX_CHOICES; c++) out->best[c] = INFINITY;
    int d = sampler->retire_dim;
    if (d < 0 || d >= space->n_dims || space->dims[d].kind != MCO_DIM_CATEGORICAL) return;
    int n_choices = space->dims[d].n_choices;
    for (int i = 0; i < n; i++) {
        int c = (int)history[i].x.v[d];
        if (c < 0 || c >= n_choices) continue;
        out->tried[c]++;
        if (history[i].feasible && history[i].objective < out->best[c]) out->best[c] = history[i].objective;
    }
    int w = -1;
    for (int c = 0; c < n_choices; c++)
        if (isfinite(out->best[c]) && (w < 0 || out->best[c] < out->best[w])) w = c;
    out->winner = w;
    if (w < 0 || !(out->best[w] < sampler->retire_winner_below)) return;
    for (int c = 0; c < n_choices; c++) {
        int needed = isfinite(out->best[c]) ? sampler->retire_min_trials : 2 * sampler->retire_min_trials;
        if (c != w && out->tried[c] > 0 && out->tried[c] >= needed &&
            !(out->best[c] <= out->best[w] + sampler->retire_margin))
            out->retired |= 1u << c;
    }
}

/* TPE needs one number per trial: given several objectives, a feasible
 * trial's number is its non-dominated rank (0: on the front). Returns a
 * malloc'd copy of the history, or NULL to use it as it is. */
static mco_search_observation *ranked_for_tpe(const mco_search_observation *history, int n)
{
    int m = 0, n_feasible = 0;
    for (int i = 0; i < n; i++)
        if (history[i].feasible) {
            n_feasible++;
            if (history[i].n_f > m) m = history[i].n_f;
        }
    if (m == 0 || n_feasible == 0) return NULL;
    mco_search_observation *copy = malloc((size_t)n * sizeof *copy);
    double *f = calloc((size_t)n_feasible * (size_t)m, sizeof *f);
    int *rank = malloc((size_t)n_feasible * sizeof *rank);
    if (!copy || !f || !rank) {
        free(copy), free(f), free(rank);
        return NULL;
    }
    memcpy(copy, history, (size_t)n * sizeof *copy);
    int k = 0;
    for (int i = 0; i < n; i++)
        if (history[i].feasible) {
            for (int j = 0; j < history[i].n_f && j < m; j++) f[(size_t)k * (size_t)m + (size_t)j] = history[i].f[j];
            k++;
        }
    if (mco_nondominated_sort(f, n_feasible, m, rank) != MCO_OK) {
        mco_clear_error();
        free(copy), free(f), free(rank);
        return NULL;
    }
    k = 0;
    for (int i = 0; i < n; i++)
        if (copy[i].feasible) copy[i].objective = rank[k++];
    free(f), free(rank);
    return copy;
}

void mco_search_propose(const mco_sampler *sampler, const mco_search_space *space,
                        const mco_search_observation *history, int n, uint64_t seed, mco_search_point *out)
{
    switch (sampler->kind) {
    case MCO_SAMPLER_RANDOM: mco_search_random(space, seed, out); break;
    case MCO_SAMPLER_NSGA2: mco_search_nsga2(space, history, n, &sampler->nsga2, seed, out); break;
    default: {
        mco_search_observation *ranked = ranked_for_tpe(history, n);
        mco_search_tpe(space, ranked ? ranked : history, n, &sampler->tpe, seed, out);
        free(ranked);
        break;
    }
    }
    mco_search_retirement r;
    mco_search_retired(sampler, space, history, n, &r);
    if (r.retired && (r.retired & (1u << (int)out->v[sampler->retire_dim]))) out->v[sampler->retire_dim] = r.winner;
}
