/*
 * test_plan_threads.c - the planner is reentrant: two threads planning two
 * different models at the same time, many times over, get exactly the
 * plans (tensor offsets, arena size) a single thread gets. Two kinds of
 * work run at once:
 *   - mco_plan_build on two deploy models (resnet8 and ds-cnn-s, int8,
 *     random weights), the whole planner;
 *   - mco_memory_plan alone on two different random problems of 48
 *     tensors, many times: the sort is a large part of each call, so the
 *     two threads' sorts overlap often, and a shared sort state (as the
 *     planner once had for qsort's comparison) gets overwritten by the
 *     other thread mid-sort.
 *
 * What it leaves out: the emitter and the evaluator (they only read a plan).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "mcuopt/codegen.h"
#include "mcuopt/resource_calibration.h"
#include "test_util.h"

#define ROUNDS 200               /* whole plans per thread */
#define MEMORY_ROUNDS 20000       /* memory plans per thread: small and quick, so the
                                     sorts of the two threads often overlap */
#define N_RANDOM_TENSORS 48

/* One random memory-planning problem and its single-threaded answer. */
typedef struct {
    uint32_t sizes[N_RANDOM_TENSORS];
    int first[N_RANDOM_TENSORS], last[N_RANDOM_TENSORS];
    uint32_t offsets[N_RANDOM_TENSORS], arena;
} problem;

/* One thread's work: a deploy model and a problem, with the expected results. */
typedef struct {
    const char *arch;
    mco_deploy_model dm;
    mco_plan expected;
    problem *prob;
    int mismatches, failures;
} job;

static void make_problem(problem *p, uint32_t seed)
{
    uint32_t state = seed;
    for (int i = 0; i < N_RANDOM_TENSORS; i++) {
        state = state * 1664525u + 1013904223u;
        p->sizes[i] = 4 + (state >> 8) % 64;   /* many equal sizes: ties are ordered by index */
        state = state * 1664525u + 1013904223u;
        p->first[i] = (int)((state >> 8) % 40);
        state = state * 1664525u + 1013904223u;
        p->last[i] = p->first[i] + (int)((state >> 8) % 8);
    }
}

static int same_plan(const mco_plan *a, const mco_plan *b)
{
    if (a->n_tensors != b->n_tensors || a->arena_size != b->arena_size || a->n_ops != b->n_ops) return 0;
    for (int i = 0; i < a->n_tensors; i++)
        if (a->tensors[i].offset != b->tensors[i].offset || a->tensors[i].bytes != b->tensors[i].bytes) return 0;
    return 1;
}

static void *run_job(void *arg)
{
    job *j = arg;
    uint32_t offsets[N_RANDOM_TENSORS], arena;
    for (int round = 0; round < ROUNDS; round++) {
        mco_plan plan;
        if (mco_plan_build(&j->dm, NULL, &plan) != MCO_OK) {
            j->failures++;
            continue;
        }
        if (!same_plan(&plan, &j->expected)) j->mismatches++;
        mco_plan_free(&plan);
    }
    const problem *p = j->prob;
    for (int round = 0; round < MEMORY_ROUNDS; round++) {
        if (mco_memory_plan(N_RANDOM_TENSORS, p->sizes, p->first, p->last, offsets, &arena) != MCO_OK) {
            j->failures++;
            continue;
        }
        if (arena != p->arena || memcmp(offsets, p->offsets, sizeof offsets) != 0) j->mismatches++;
    }
    return NULL;
}

int main(void)
{
    static problem problems[2];
    job jobs[2] = {{.arch = "resnet8", .prob = &problems[0]}, {.arch = "ds-cnn-s", .prob = &problems[1]}};
    for (int k = 0; k < 2; k++) {
        job *j = &jobs[k];
        CHECK_OK(mco_resource_random_model(j->arch, "int8", 3u + (uint32_t)k, &j->dm));
        CHECK_OK(mco_plan_build(&j->dm, NULL, &j->expected));
        make_problem(j->prob, 99u + (uint32_t)k);
        CHECK_OK(mco_memory_plan(N_RANDOM_TENSORS, j->prob->sizes, j->prob->first, j->prob->last,
                                 j->prob->offsets, &j->prob->arena));
    }
    CHECK(jobs[0].expected.n_tensors != jobs[1].expected.n_tensors ||
          jobs[0].expected.arena_size != jobs[1].expected.arena_size);   /* two different models */
    if (test_failures) TEST_MAIN_END();

    pthread_t threads[2];
    for (int k = 0; k < 2; k++) CHECK(pthread_create(&threads[k], NULL, run_job, &jobs[k]) == 0);
    for (int k = 0; k < 2; k++) pthread_join(threads[k], NULL);
    for (int k = 0; k < 2; k++) {
        printf("%s: %d plans and %d memory plans at once with the other thread, %d differ from the "
               "single-threaded result, %d calls failed\n",
               jobs[k].arch, ROUNDS, MEMORY_ROUNDS, jobs[k].mismatches, jobs[k].failures);
        CHECK(jobs[k].mismatches == 0 && jobs[k].failures == 0);
        mco_plan_free(&jobs[k].expected);
        mco_deploy_free(&jobs[k].dm);
    }
    TEST_MAIN_END();
}
