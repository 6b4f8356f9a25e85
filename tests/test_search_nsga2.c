/*
 * test_search_nsga2.c - the multi-objective parts of the search samplers
 * (search.h): non-dominated sorting, crowding distance and the exact
 * hypervolume on cases computed by hand; NSGA-II proposals (valid,
 * deterministic, and a better front than random search on ZDT1 with the
 * same budget); the sampler interface by name; and retiring: a choice that
 * lost by the margin is no longer proposed by any sampler, one that has not
 * had its trials yet still is.
 */
#include <math.h>
#include <string.h>

#include "mcuopt/search.h"
#include "test_util.h"

static void test_dominates_and_sort(void)
{
    const double a[2] = {1, 2}, b[2] = {1, 3}, c[2] = {2, 1};
    CHECK(mco_pareto_dominates(a, b, 2));
    CHECK(!mco_pareto_dominates(b, a, 2));
    CHECK(!mco_pareto_dominates(a, c, 2) && !mco_pareto_dominates(c, a, 2));
    CHECK(!mco_pareto_dominates(a, a, 2));   /* equal: neither */

    /* (1,1) and (3,0) are the front; (2,2) and (1,3) are dominated only by
     * (1,1); (3,3) by (2,2) too; (1,1) twice: both on the front. */
    const double f[] = {1, 1, 2, 2, 1, 3, 3, 0, 3, 3, 1, 1};
    int rank[6];
    CHECK_OK(mco_nondominated_sort(f, 6, 2, rank));
    const int want[6] = {0, 1, 1, 0, 2, 0};
    for (int i = 0; i < 6; i++) CHECK(rank[i] == want[i]);

    /* Three objectives: a chain of three fronts. */
    const double g[] = {3, 3, 3, 1, 1, 1, 2, 2, 2, 0, 5, 5};
    int r3[4];
    CHECK_OK(mco_nondominated_sort(g, 4, 3, r3));
    CHECK(r3[0] == 2 && r3[1] == 0 && r3[2] == 1 && r3[3] == 0);
}

static void test_crowding(void)
{
    /* (0,4) (1,2) (3,1) (4,0): ranges 4 and 4. Point (1,2): f0 neighbours
     * 0 and 3 -> 3/4, f1 neighbours 4 and 1 -> 3/4: 1.5. Point (3,1): f0
     * 1 and 4 -> 3/4, f1 2 and 0 -> 2/4: 1.25. The ends: INFINITY. */
    const double f[] = {0, 4, 1, 2, 3, 1, 4, 0};
    const int members[4] = {0, 1, 2, 3};
    double d[4];
    CHECK_OK(mco_crowding_distance(f, 2, members, 4, d));
    CHECK(isinf(d[0]) && isinf(d[3]));
    CHECK_NEAR(d[1], 1.5, 1e-12);
    CHECK_NEAR(d[2], 1.25, 1e-12);
    /* A subset, given in another order: members index into f. */
    const int sub[3] = {2, 0, 1};
    CHECK_OK(mco_crowding_distance(f, 2, sub, 3, d));
    CHECK(isinf(d[0]) && isinf(d[1]));
    /* (1,2) between (0,4) and (3,1): f0 (3-0)/3 = 1, f1 (4-1)/3 = 1 */
    CHECK_NEAR(d[2], 2.0, 1e-12);
    /* An objective where all are equal adds nothing. */
    const double flat[] = {0, 7, 1, 7, 2, 7};
    const int three[3] = {0, 1, 2};
    CHECK_OK(mco_crowding_distance(flat, 2, three, 3, d));
    CHECK_NEAR(d[1], 1.0, 1e-12);
}

static void test_hypervolume(void)
{
    /* 2-D: (1,3) (2,2) (3,1) against (4,4): strips of width 1 and heights
     * 1, 2, 3 -> 6. A dominated point and one outside the box add nothing. */
    const double ref2[2] = {4, 4};
    const double f2[] = {1, 3, 2, 2, 3, 1, 3, 3, 0.5, 4};
    CHECK_NEAR(mco_hypervolume(f2, 3, 2, ref2), 6.0, 1e-12);
    CHECK_NEAR(mco_hypervolume(f2, 5, 2, ref2), 6.0, 1e-12);
    CHECK_NEAR(mco_hypervolume(f2, 0, 2, ref2), 0.0, 0);
    /* 3-D: one point (1,1,1) against (2,2,2) -> 1. Two boxes (0,0,1) and
     * (1,1,0) against (2,2,2): 2*2*1 + 1*1*2 - 1*1*1 = 5. */
    const double ref3[3] = {2, 2, 2};
    const double one[3] = {1, 1, 1};
    CHECK_NEAR(mco_hypervolume(one, 1, 3, ref3), 1.0, 1e-12);
    const double two[6] = {0, 0, 1, 1, 1, 0};
    CHECK_NEAR(mco_hypervolume(two, 2, 3, ref3), 5.0, 1e-12);
    /* Three boxes against (3,3,3): A (0,2,2) 3*1*1 = 3, B (2,0,2) 1*3*1 = 3,
     * C (2,2,0) 1*1*3 = 3; pairwise overlaps [2,3]^3 each 1, triple 1:
     * 9 - 3 + 1 = 7. */
    const double ref33[3] = {3, 3, 3};
    const double abc[9] = {0, 2, 2, 2, 0, 2, 2, 2, 0};
    CHECK_NEAR(mco_hypervolume(abc, 3, 3, ref33), 7.0, 1e-12);
    /* 4-D: a single box and the same box twice. */
    const double ref4[4] = {1, 1, 1, 1};
    const double p4[8] = {0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5};
    CHECK_NEAR(mco_hypervolume(p4, 2, 4, ref4), 0.0625, 1e-12);
}

/* ZDT1 (Zitzler, Deb, Thiele 2000) on two variables, plus a categorical
 * dimension that adds 1 to f2 unless it is choice 0. */
static mco_search_space zdt_space(void)
{
    mco_search_space s;
    memset(&s, 0, sizeof s);
    s.n_dims = 3;
    s.dims[0] = (mco_search_dim){.name = "x0", .kind = MCO_DIM_FLOAT, .low = 0.0, .high = 1.0};
    s.dims[1] = (mco_search_dim){.name = "x1", .kind = MCO_DIM_FLOAT, .low = 0.0, .high = 1.0};
    s.dims[2] = (mco_search_dim){.name = "mode", .kind = MCO_DIM_CATEGORICAL, .n_choices = 3,
                                 .choices = {"a", "b", "c"}};
    return s;
}

static void zdt1(const mco_search_point *x, mco_search_observation *o)
{
    double g = 1.0 + 9.0 * x->v[1];
    o->x = *x;
    o->feasible = 1;
    o->n_f = 2;
    o->f[0] = x->v[0];
    o->f[1] = g * (1.0 - sqrt(x->v[0] / g)) + (x->v[2] == 0.0 ? 0.0 : 1.0);
    o->objective = o->f[0] + o->f[1];
}

static double zdt_run(mco_sampler_kind kind, uint64_t seed, int budget)
{
    mco_search_space s = zdt_space();
    mco_sampler sampler;
    mco_sampler_init(&sampler, kind);
    mco_search_observation h[128];
    double f[256];
    for (int i = 0; i < budget; i++) {
        mco_search_point x;
        mco_search_propose(&sampler, &s, h, i, seed * 7919u + (uint64_t)i, &x);
        CHECK(x.v[0] >= 0.0 && x.v[0] <= 1.0 && x.v[1] >= 0.0 && x.v[1] <= 1.0);
        CHECK(x.v[2] == 0.0 || x.v[2] == 1.0 || x.v[2] == 2.0);
        zdt1(&x, &h[i]);
        f[2 * i] = h[i].f[0];
        f[2 * i + 1] = h[i].f[1];
    }
    const double ref[2] = {1.1, 11.0};
    return mco_hypervolume(f, budget, 2, ref);
}

static void test_nsga2_proposals(void)
{
    CHECK(zdt_run(MCO_SAMPLER_NSGA2, 3, 40) == zdt_run(MCO_SAMPLER_NSGA2, 3, 40));   /* deterministic */
    double nsga = 0.0, rnd = 0.0;
    for (uint64_t seed = 1; seed <= 10; seed++) {
        nsga += zdt_run(MCO_SAMPLER_NSGA2, seed, 60);
        rnd += zdt_run(MCO_SAMPLER_RANDOM, seed, 60);
    }
    fprintf(stderr, "ZDT1, 60 evaluations, mean hypervolume over 10 seeds: NSGA-II %.4f, random %.4f\n", nsga / 10,
            rnd / 10);
    CHECK(nsga > rnd);

    /* Infeasible observations rank after every feasible one and among
     * themselves by violation: with a population of two, the parents are
     * the one feasible point (7) and the closest infeasible one (9), the
     * only ones with mode "a"; a child has another mode only by mutation
     * (probability 1/3, then 2/3 of the redraws: about 22 %). */
    mco_search_space s = zdt_space();
    mco_nsga2_options opt;
    mco_nsga2_options_default(&opt);
    opt.population = 2;
    mco_search_observation h[10];
    for (int i = 0; i < 10; i++) {
        memset(&h[i], 0, sizeof h[i]);
        h[i].x.v[0] = 0.05 * i;
        h[i].x.v[1] = 0.5;
        h[i].x.v[2] = i == 7 || i == 9 ? 0.0 : 2.0;
        h[i].feasible = i == 7;
        h[i].objective = i == 7 ? 0.0 : 10.0 - i;   /* violation: 9 is the closest */
    }
    int other = 0;
    for (uint64_t seed = 0; seed < 300; seed++) {
        mco_search_point x;
        mco_search_nsga2(&s, h, 10, &opt, seed, &x);
        other += x.v[2] != 0.0;
    }
    fprintf(stderr, "children of the two best parents with another mode: %d of 300\n", other);
    CHECK(other > 20 && other < 110);
}

static void test_sampler_names(void)
{
    mco_sampler_kind k;
    CHECK(mco_sampler_parse("nsga2", &k) && k == MCO_SAMPLER_NSGA2);
    CHECK(mco_sampler_parse("tpe", &k) && k == MCO_SAMPLER_TPE);
    CHECK(mco_sampler_parse("random", &k) && k == MCO_SAMPLER_RANDOM);
    CHECK(!mco_sampler_parse("grid", &k));
    CHECK(strcmp(mco_sampler_name(MCO_SAMPLER_NSGA2), "nsga2") == 0);
}

/* Weight formats as in the search: int4 lost widely (cost +0.6 against
 * -0.3 for int8) after two trials; float16 had one trial only. */
static void test_losing_choice_retired(void)
{
    mco_search_space s;
    memset(&s, 0, sizeof s);
    s.n_dims = 2;
    s.dims[0] = (mco_search_dim){.name = "ratio", .kind = MCO_DIM_FLOAT, .low = 0.0, .high = 1.0};
    s.dims[1] = (mco_search_dim){.name = "weights", .kind = MCO_DIM_CATEGORICAL, .n_choices = 3,
                                 .choices = {"int8", "int4", "float16"}};
    mco_search_observation h[12];
    memset(h, 0, sizeof h);
    const double weights[12] = {0, 1, 0, 1, 2, 0, 0, 0, 0, 0, 0, 0};
    const double cost[12] = {-0.3, 0.6, -0.1, 0.7, 0.2, -0.2, -0.25, -0.1, 0.0, -0.05, -0.15, -0.2};
    for (int i = 0; i < 12; i++) {
        h[i].x.v[0] = 0.08 * i;
        h[i].x.v[1] = weights[i];
        h[i].feasible = 1;
        h[i].objective = cost[i];
    }
    const mco_sampler_kind kinds[3] = {MCO_SAMPLER_RANDOM, MCO_SAMPLER_TPE, MCO_SAMPLER_NSGA2};
    for (int k = 0; k < 3; k++) {
        mco_sampler sm;
        mco_sampler_init(&sm, kinds[k]);
        sm.nsga2.population = 12;   /* int4 trials in the population: without retiring it may be bred */
        int seen_before[3] = {0}, seen_after[3] = {0};
        for (uint64_t seed = 0; seed < 300; seed++) {
            mco_search_point x;
            mco_search_propose(&sm, &s, h, 12, seed, &x);   /* no retiring */
            seen_before[(int)x.v[1]]++;
        }
        sm.retire_dim = 1;
        sm.retire_min_trials = 2;
        sm.retire_margin = 0.5;
        mco_search_retirement r;
        mco_search_retired(&sm, &s, h, 12, &r);
        CHECK(r.winner == 0 && r.retired == 2u && r.tried[1] == 2 && r.tried[2] == 1);
        CHECK_NEAR(r.best[1], 0.6, 1e-12);
        for (uint64_t seed = 0; seed < 300; seed++) {
            mco_search_point x;
            mco_search_propose(&sm, &s, h, 12, seed, &x);
            seen_after[(int)x.v[1]]++;
        }
        fprintf(stderr, "%s: int8/int4/float16 proposed %d/%d/%d without retiring, %d/%d/%d with\n",
                mco_sampler_name(kinds[k]), seen_before[0], seen_before[1], seen_before[2], seen_after[0],
                seen_after[1], seen_after[2]);
        /* int4 was proposed (TPE itself already shuns it here) ... */
        CHECK(kinds[k] == MCO_SAMPLER_TPE || seen_before[1] > 0);
        CHECK(seen_after[1] == 0);    /* ... and no longer is */
        CHECK(kinds[k] == MCO_SAMPLER_NSGA2 || seen_after[2] > 0);   /* float16 still has its chance */
    }
    /* Not by the margin: int4 at +0.1 against -0.3 stays. Nothing feasible
     * of int4 while int8 is feasible: retired after four trials (twice the
     * minimum). No feasible trial at all: nothing is retired (no winner). */
    mco_sampler sm;
    mco_sampler_init(&sm, MCO_SAMPLER_RANDOM);
    sm.retire_dim = 1;
    sm.retire_min_trials = 2;
    sm.retire_margin = 0.5;
    mco_search_retirement r;
    h[1].objective = h[3].objective = 0.1;
    mco_search_retired(&sm, &s, h, 12, &r);
    CHECK(r.retired == 0);
    h[1].feasible = h[3].feasible = 0;
    mco_search_retired(&sm, &s, h, 12, &r);
    CHECK(r.retired == 0 && isinf(r.best[1]));   /* two infeasible trials: not enough yet */
    h[5].x.v[1] = h[6].x.v[1] = 1.0;   /* two more int4 trials, infeasible too */
    h[5].feasible = h[6].feasible = 0;
    mco_search_retired(&sm, &s, h, 12, &r);
    CHECK(r.retired == 2u && r.tried[1] == 4);
    /* A winner that does not beat the starting model (cost 0) retires nothing. */
    sm.retire_winner_below = -0.5;   /* int8's best is -0.3 */
    mco_search_retired(&sm, &s, h, 12, &r);
    CHECK(r.retired == 0 && r.winner == 0);
    sm.retire_winner_below = 0.0;
    for (int i = 0; i < 12; i++) h[i].feasible = 0;
    mco_search_retired(&sm, &s, h, 12, &r);
    CHECK(r.retired == 0 && r.winner == -1);
}

int main(void)
{
    test_dominates_and_sort();
    test_crowding();
    test_hypervolume();
    test_nsga2_proposals();
    test_sampler_names();
    test_losing_choice_retired();
    TEST_MAIN_END();
}
