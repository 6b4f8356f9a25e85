/*
 * test_search_tpe.c - the search samplers: space checks, determinism for a
 * seed, bounds and integer/categorical values, TPE beating random search on
 * a synthetic objective with the same budget, and successive halving.
 */
#include <string.h>

#include "mcuopt/search.h"
#include "test_util.h"

static mco_search_space make_space(void)
{
    mco_search_space s;
    memset(&s, 0, sizeof s);
    s.n_dims = 4;
    s.dims[0] = (mco_search_dim){.name = "ratio", .kind = MCO_DIM_FLOAT, .low = 0.0, .high = 1.0};
    s.dims[1] = (mco_search_dim){.name = "lr", .kind = MCO_DIM_FLOAT, .low = 1e-4, .high = 1e-1, .log_scale = 1};
    s.dims[2] = (mco_search_dim){.name = "epochs", .kind = MCO_DIM_INT, .low = 1, .high = 5};
    s.dims[3] = (mco_search_dim){.name = "mode", .kind = MCO_DIM_CATEGORICAL, .n_choices = 3,
                                 .choices = {"int8", "int4", "float16"}};
    return s;
}

/* Minimum 0 at ratio 0.7, lr 1e-2, epochs 3, mode int4. Infeasible when ratio > 0.9. */
static double objective(const mco_search_point *x, int *feasible)
{
    double r = x->v[0] - 0.7, l = log10(x->v[1]) + 2.0, e = x->v[2] - 3.0;
    *feasible = x->v[0] <= 0.9;
    return r * r * 4.0 + l * l + e * e * 0.25 + (x->v[3] == 1.0 ? 0.0 : 1.0);
}

static double run_search(int use_tpe, uint64_t seed, int budget)
{
    mco_search_space s = make_space();
    mco_tpe_options opt;
    mco_tpe_options_default(&opt);
    mco_search_observation hist[64];
    double best = 1e9;
    for (int i = 0; i < budget; i++) {
        mco_search_point x;
        uint64_t trial_seed = seed * 1000003u + (uint64_t)i;
        if (use_tpe) mco_search_tpe(&s, hist, i, &opt, trial_seed, &x);
        else mco_search_random(&s, trial_seed, &x);
        hist[i].x = x;
        hist[i].objective = objective(&x, &hist[i].feasible);
        if (hist[i].feasible && hist[i].objective < best) best = hist[i].objective;
    }
    return best;
}

static void test_points_valid_and_deterministic(void)
{
    mco_search_space s = make_space();
    CHECK_OK(mco_search_space_check(&s));
    for (uint64_t seed = 0; seed < 200; seed++) {
        mco_search_point a, b;
        mco_search_random(&s, seed, &a);
        mco_search_random(&s, seed, &b);
        CHECK(memcmp(&a, &b, sizeof a) == 0);
        CHECK(a.v[0] >= 0.0 && a.v[0] <= 1.0);
        CHECK(a.v[1] >= 1e-4 && a.v[1] <= 1e-1);
        CHECK(a.v[2] == 1 || a.v[2] == 2 || a.v[2] == 3 || a.v[2] == 4 || a.v[2] == 5);
        CHECK(a.v[3] == 0 || a.v[3] == 1 || a.v[3] == 2);
    }
    CHECK(run_search(1, 5, 30) == run_search(1, 5, 30));
    s.dims[1].low = 0.0;
    CHECK(mco_search_space_check(&s) == MCO_ERR_ARG);
}

static void test_tpe_beats_random(void)
{
    double tpe = 0.0, rnd = 0.0;
    for (uint64_t seed = 1; seed <= 10; seed++) {
        tpe += run_search(1, seed, 40);
        rnd += run_search(0, seed, 40);
    }
    fprintf(stderr, "mean best objective over 10 seeds, 40 trials: TPE %.4f, random %.4f\n", tpe / 10, rnd / 10);
    CHECK(tpe < rnd);
}

static void test_halving(void)
{
    mco_halving h = {0.25, 2.0, 2};
    CHECK(mco_halving_rungs(&h) == 4);
    CHECK_NEAR(mco_halving_budget(&h, 0), 0.25, 0);
    CHECK_NEAR(mco_halving_budget(&h, 3), 2.0, 0);
    CHECK(mco_halving_promote_count(&h, 9) == 4);
    CHECK(mco_halving_promote_count(&h, 1) == 1);
    double obj[6] = {0.5, 0.1, 0.9, 0.1, 0.3, 0.7};
    int promoted[6];
    CHECK(mco_halving_select(&h, obj, 6, promoted) == 3);
    CHECK(promoted[0] == 1 && promoted[1] == 3 && promoted[2] == 4);
}

int main(void)
{
    test_points_valid_and_deterministic();
    test_tpe_beats_random();
    test_halving();
    TEST_MAIN_END();
}
