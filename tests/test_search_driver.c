/*
 * test_search_driver.c - `mcuopt search` below the CLI: the pipeline search
 * space (point -> text -> point -> the same text, every text parses;
 * --formats and --stages restrict it, and bad lists are refused), the
 * objective and feasibility, and a tiny search on a 2,000-image MNIST subset
 * that finds a feasible model, writes its outputs and, run a second time
 * with the same seed into a fresh store, tries exactly the same trials with
 * exactly the same results; a child process of the caller's own that ends
 * during the search is left for the caller to reap.
 *
 * What it leaves out: the CLI, kill-and-resume (tests/search_resume.sh) and
 * search quality (bench/search_vs_baselines.sh).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mcuopt/arch.h"
#include "mcuopt/model_file.h"
#include "mcuopt/pipeline.h"
#include "mcuopt/search_driver.h"
#include "test_fixtures.h"

static void check_space(void)
{
    mco_target_profile f405, m0;
    CHECK_OK(mco_target_load(test_context(), "stm32f405", &f405));
    CHECK_OK(mco_target_load(test_context(), "cortex-m0plus-32k", &m0));
    mco_pipeline_space_caps caps = {1, 1, 1, 0, 0};
    mco_search_space space, space_m0;
    CHECK_OK(mco_pipeline_space_build(&f405, &caps, &space));
    CHECK_OK(mco_pipeline_space_build(&m0, &caps, &space_m0));
    CHECK_OK(mco_search_space_check(&space));
    /* float16 only where there is an FPU. */
    int has_f16 = 0, has_f16_m0 = 0;
    for (int d = 0; d < space.n_dims; d++)
        if (strcmp(space.dims[d].name, "weights") == 0) has_f16 = space.dims[d].n_choices == 3;
    for (int d = 0; d < space_m0.n_dims; d++)
        if (strcmp(space_m0.dims[d].name, "weights") == 0) has_f16_m0 = space_m0.dims[d].n_choices == 3;
    CHECK(has_f16 && !has_f16_m0);

    int mismatches = 0, distinct_orders = 0;
    for (uint64_t seed = 1; seed <= 300; seed++) {
        mco_search_point x, back;
        mco_search_random(&space, seed, &x);
        char text[MCO_TRIAL_CONFIG_MAX], again[MCO_TRIAL_CONFIG_MAX], dry[MCO_TRIAL_CONFIG_MAX];
        CHECK_OK(mco_pipeline_space_config(&space, &x, 0, text, sizeof text));
        CHECK_OK(mco_pipeline_space_config(&space, &x, 1, dry, sizeof dry));
        mco_pipeline p;
        CHECK_OK(mco_pipeline_parse(text, "test", &p));
        CHECK_OK(mco_pipeline_parse(dry, "test", &p));
        CHECK(strstr(dry, "epochs") == NULL && strstr(dry, "distill") == NULL);
        CHECK_OK(mco_pipeline_space_point(&space, text, &back));
        CHECK_OK(mco_pipeline_space_config(&space, &back, 0, again, sizeof again));
        if (strcmp(text, again) != 0) {
            if (mismatches++ < 3) fprintf(stderr, "round trip:\n  %s\n  %s\n", text, again);
        }
        distinct_orders += strncmp(text, "distill", 7) == 0;
    }
    CHECK(mismatches == 0);
    CHECK(distinct_orders > 0);   /* distill-first is reachable */

    /* A known text and its point. */
    const char *known = "prune:structured=0.50,criterion=l2 -> distill:T=4.0,alpha=0.10,epochs=2,lr=0.001 -> "
                        "quant:int4,per_tensor,calibration=mse";
    mco_search_point x;
    char again[MCO_TRIAL_CONFIG_MAX];
    CHECK_OK(mco_pipeline_space_point(&space, known, &x));
    CHECK_OK(mco_pipeline_space_config(&space, &x, 0, again, sizeof again));
    CHECK(strcmp(known, again) == 0);
    CHECK(mco_pipeline_space_point(&space, "finetune:epochs=1 -> quant:int8", &x) != MCO_OK);
}

/* --formats and --stages: only what is allowed is ever in a pipeline text. */
static void check_restricted_space(void)
{
    mco_target_profile f405, m0;
    CHECK_OK(mco_target_load(test_context(), "stm32f405", &f405));
    CHECK_OK(mco_target_load(test_context(), "cortex-m0plus-32k", &m0));
    unsigned formats = 0, stages = 0;
    CHECK_OK(mco_search_parse_formats("int8,int4", "--formats", &formats));
    CHECK(formats == (MCO_FORMAT_INT8 | MCO_FORMAT_INT4));
    CHECK_OK(mco_search_parse_stages("prune", "--stages", &stages));
    CHECK(stages == (MCO_STAGE_PRUNE | MCO_STAGE_QUANT));   /* quant is implied */
    CHECK(mco_search_parse_formats("int8,int16", "--formats", &formats) == MCO_ERR_ARG &&
          strstr(mco_last_error(), "unknown 'int16'"));
    CHECK(mco_search_parse_formats("int8,", "--formats", &formats) == MCO_ERR_ARG &&
          strstr(mco_last_error(), "empty name"));
    CHECK(mco_search_parse_stages("prune,finetune", "--stages", &stages) == MCO_ERR_ARG &&
          strstr(mco_last_error(), "unknown 'finetune'"));

    mco_pipeline_space_caps caps = {1, 1, 1, MCO_FORMAT_INT4, MCO_STAGE_PRUNE | MCO_STAGE_QUANT};
    mco_search_space space;
    CHECK_OK(mco_pipeline_space_build(&f405, &caps, &space));
    CHECK_OK(mco_search_space_check(&space));
    int pruned = 0;
    for (uint64_t seed = 1; seed <= 200; seed++) {
        mco_search_point x, back;
        mco_search_random(&space, seed, &x);
        char text[MCO_TRIAL_CONFIG_MAX], again[MCO_TRIAL_CONFIG_MAX];
        CHECK_OK(mco_pipeline_space_config(&space, &x, 0, text, sizeof text));
        CHECK(strstr(text, "quant:int4") != NULL && strstr(text, "int8") == NULL);
        CHECK(strstr(text, "distill") == NULL && strstr(text, "qat") == NULL);
        pruned += strstr(text, "prune:") != NULL;
        CHECK_OK(mco_pipeline_space_point(&space, text, &back));
        CHECK_OK(mco_pipeline_space_config(&space, &back, 0, again, sizeof again));
        CHECK(strcmp(text, again) == 0);
    }
    CHECK(pruned > 100);
    /* quantization only: no training stage at all */
    caps.formats = 0;
    caps.stages = MCO_STAGE_QUANT;
    CHECK_OK(mco_pipeline_space_build(&f405, &caps, &space));
    for (uint64_t seed = 1; seed <= 50; seed++) {
        mco_search_point x;
        mco_search_random(&space, seed, &x);
        char text[MCO_TRIAL_CONFIG_MAX];
        CHECK_OK(mco_pipeline_space_config(&space, &x, 0, text, sizeof text));
        CHECK(strncmp(text, "quant:", 6) == 0 && strstr(text, "->") == NULL);
    }
    /* float16 asked for on a core without an FPU */
    caps.formats = MCO_FORMAT_FLOAT16;
    CHECK(mco_pipeline_space_build(&m0, &caps, &space) == MCO_ERR_ARG && strstr(mco_last_error(), "FPU"));
}

static void check_objective(void)
{
    mco_target_profile m0;
    CHECK_OK(mco_target_load(test_context(), "cortex-m0plus-32k", &m0));
    mco_search_resources ref = {20000, 2000, 2.0, 100.0};
    mco_search_objective obj;
    mco_search_objective_init(&obj, &m0, &ref, 0.975, 1.5);
    CHECK_NEAR(mco_search_cost(&obj, &ref), 0.0, 1e-12);
    mco_search_resources half = {10000, 2000, 2.0, 100.0};
    CHECK_NEAR(mco_search_cost(&obj, &half), 0.4 * log(0.5), 1e-12);
    char why[MCO_TRIAL_ERROR_MAX];
    mco_search_resources small = {10000, 2000, 1.0, 50.0};
    CHECK(mco_search_fits(&obj, &small, why, sizeof why));
    mco_search_resources big = {40000, 2000, 1.0, 50.0};
    CHECK(!mco_search_fits(&obj, &big, why, sizeof why) && strstr(why, "Flash"));
    mco_search_resources big_ram = {10000, 9000, 1.0, 50.0};
    CHECK(!mco_search_fits(&obj, &big_ram, why, sizeof why) && strstr(why, "RAM"));
    CHECK(!mco_search_fits(&obj, &ref, why, sizeof why) && strstr(why, "latency"));   /* 2 ms > 1.5 */

    double score, score_worse;
    int feasible;
    mco_search_score(&obj, 0.98, &small, &score, &feasible);
    CHECK(feasible && score < 0.0);
    mco_search_score(&obj, 0.96, &small, &score, &feasible);
    CHECK(!feasible && score > 0.0);
    mco_search_score(&obj, 0.90, &small, &score_worse, &feasible);
    CHECK(!feasible && score_worse > score);   /* further below the floor: worse */
    mco_search_score(&obj, 0.99, &big, &score, &feasible);
    CHECK(!feasible && score >= 1.0);
}

typedef struct {
    mco_model model;
    mco_dataset train, test;
    char model_path[256];
} fixture;

static int load_fixture(fixture *f)
{
    if (!test_have_arm_tools()) {
        test_skip("search on MNIST: arm-none-eabi-gcc or qemu-system-arm not on PATH (it measures on target)");
        return 0;
    }
    if (!test_load_mnist_subset(2000, 1000, &f->train, &f->test, "search on MNIST")) return 0;
    test_train_mnist_paper(&f->train, 3, &f->model);
    snprintf(f->model_path, sizeof f->model_path, "/tmp/mco_test_search_%d.mco", (int)getpid());
    CHECK_OK(mco_model_save(&f->model, f->model_path));
    return 1;
}

static void search_options(const fixture *f, const mco_target_profile *t, const char *out, const char *db,
                           mco_search_options *so)
{
    mco_search_options_default(so);
    so->ctx = test_context();
    so->model = &f->model;
    so->model_path = f->model_path;
    so->target = t;
    so->train = &f->train;
    so->test = &f->test;
    so->min_accuracy = 0.80;
    so->budget_s = 600.0;   /* --max-trials decides, so both runs stop at the same point */
    so->max_trials = 3;
    so->seed = 11;
    so->workers = 2;
    so->threads = 1;
    so->val_images = 500;
    so->measure_images = 5;
    so->db_path = db;
    so->out_dir = out;
}

/* The trials of a store as "id state rung config accuracy" lines. */
static char *trial_lines(const char *db_path)
{
    mco_trials *db;
    mco_trial *trials = NULL;
    int n = 0;
    CHECK_OK(mco_trials_open(db_path, NULL, &db));
    CHECK_OK(mco_trials_list(db, NULL, &trials, &n));
    mco_trials_close(db);
    size_t size = (size_t)n * (MCO_TRIAL_CONFIG_MAX + 64) + 1;
    char *text = calloc(size, 1);
    size_t used = 0;
    for (int i = 0; i < n && text; i++)
        used += (size_t)snprintf(text + used, size - used, "%lld %s %d %s %.6f\n", (long long)trials[i].id,
                                 mco_trial_state_name(trials[i].state), trials[i].rung, trials[i].config,
                                 trials[i].result.accuracy);
    free(trials);
    return text;
}

static void check_tiny_search(const fixture *f)
{
    mco_target_profile t;
    CHECK_OK(mco_target_load(test_context(), "stm32f405", &t));
    char out[256], db1[300], db2[300];
    snprintf(out, sizeof out, "/tmp/mco_test_search_%d", (int)getpid());
    snprintf(db1, sizeof db1, "%s/first.db", out);
    snprintf(db2, sizeof db2, "%s/second.db", out);
    mkdir(out, 0777);
    mco_search_options so;
    mco_search_result r1, r2;
    search_options(f, &t, out, db1, &so);
    /* A child of the program's own, which ends during the search: the search
     * waits for its workers by pid, so this child is still the program's to
     * reap afterwards (waitpid(-1) in the search would take it). */
    pid_t own_child = fork();
    if (own_child == 0) {
        struct timespec nap = {0, 200 * 1000 * 1000};
        nanosleep(&nap, NULL);
        _exit(42);
    }
    CHECK(own_child > 0);
    CHECK_OK(mco_search_run(&so, &r1));
    int own_status = 0;
    CHECK(own_child > 0 && waitpid(own_child, &own_status, 0) == own_child);
    CHECK(WIFEXITED(own_status) && WEXITSTATUS(own_status) == 42);
    printf("  first search: %d trials (%d done, %d pruned, %d failed) in %.1f s; best %s: val %.4f, test %.4f\n",
           r1.n_trials, r1.n_done, r1.n_pruned, r1.n_failed, r1.seconds, r1.found ? r1.best.config : "-",
           r1.found ? r1.best.result.accuracy : 0.0, r1.test_accuracy);
    CHECK(r1.n_trials == 3 && r1.n_run == 3 && r1.n_reused == 0);
    CHECK(r1.n_failed == 0);
    CHECK(r1.found);
    CHECK(r1.found && r1.best.result.accuracy >= 0.80);
    CHECK(r1.measured && r1.measure.n_mismatch == 0);
    CHECK(access(r1.model_path, R_OK) == 0);
    CHECK(access(r1.report_html, R_OK) == 0 && access(r1.report_json, R_OK) == 0);
    char model_c[1100];
    snprintf(model_c, sizeof model_c, "%s/model.c", r1.code_dir);
    CHECK(access(model_c, R_OK) == 0);

    /* The same seed into a fresh store: the same trials, the same results. */
    search_options(f, &t, out, db2, &so);
    CHECK_OK(mco_search_run(&so, &r2));
    char *a = trial_lines(db1), *b = trial_lines(db2);
    /* The first trial is the starting model as int8 with the quant stage's
     * defaults, before any draw of the sampler. */
    CHECK(a && strncmp(a, "1 done 0 quant:int8,calibration=minmax ", 39) == 0);
    CHECK(a && b && strcmp(a, b) == 0);
    if (a && b && strcmp(a, b) != 0) fprintf(stderr, "first:\n%ssecond:\n%s", a, b);
    printf("  second search, same seed: %s\n", a && b && strcmp(a, b) == 0 ? "identical trials" : "DIFFERENT");
    free(a);
    free(b);

    /* Running it once more on the first store reads every trial back. */
    search_options(f, &t, out, db1, &so);
    mco_search_result r3;
    CHECK_OK(mco_search_run(&so, &r3));
    CHECK(r3.n_run == 0 && r3.n_reused == 3 && r3.found && r3.best.id == r1.best.id);

    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", out);
    CHECK(system(cmd) == 0);
}

int main(void)
{
    check_space();
    check_restricted_space();
    check_objective();
    fixture f;
    if (load_fixture(&f)) {
        check_tiny_search(&f);
        unlink(f.model_path);
        mco_model_free(&f.model);
        mco_dataset_free(&f.train);
        mco_dataset_free(&f.test);
    }
    TEST_MAIN_END();
}
