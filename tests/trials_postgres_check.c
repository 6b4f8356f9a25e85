/*
 * trials_postgres_check.c - the PostgreSQL backend of the trial store
 * (src/store/trials_postgres.c) against a real server, at the level of
 * mcuopt/trials.h: run by tests/trials_postgres.sh, which starts the server
 * and passes a database address (without study=) as argv[1].
 *
 * Checks:
 *   - a study is created once and a reopen with another target is refused;
 *     listing a study that does not exist is an error;
 *   - four processes adding trials at once with a limit of 10 add exactly 10,
 *     numbered 1..10 (the limit and the ids hold across workers);
 *   - four processes taking trials with claim_next until none is left claim
 *     each trial exactly once (FOR UPDATE SKIP LOCKED);
 *   - a claim whose lease runs out is claimable again, and the first
 *     claimer can then no longer finish it; a claim kept alive by heartbeats
 *     is not; recover_stale requeues an expired claim;
 *   - results (unknown metrics as NULL) and stage rows read back as written;
 *   - a trial's model file kept in the database reads back byte for byte;
 *   - discarding a study this handle created with nothing to resume deletes it.
 *
 * What it leaves out: what tests/test_trial_store.c checks on the shared code
 * (Pareto front, best trial), and the search itself (tests/search_postgres.sh).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mcuopt/trials.h"
#include "test_util.h"

#define N_PROCS 4
#define N_TRIALS 10

static const char *base;   /* the database address, without study= */

static void address(const char *study, const char *extra, char *out, size_t size)
{
    snprintf(out, size, "%s%sstudy=%s%s", base, strchr(base, '?') ? "&" : "?", study, extra ? extra : "");
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void make_study(mco_trial_study *s, const char *target)
{
    memset(s, 0, sizeof *s);
    snprintf(s->model_hash, sizeof s->model_hash, "0123456789abcdef");
    snprintf(s->model_path, sizeof s->model_path, "m.mco");
    snprintf(s->target, sizeof s->target, "%s", target);
    s->min_accuracy = 0.9;
    s->seed = 7;
    s->budget = 60.0;
}

static int contains(const char *text, const char *part)
{
    return strstr(text, part) != NULL;
}

static void check_open(void)
{
    char url[1024];
    mco_trial_study s;
    make_study(&s, "stm32f405");
    address("open", NULL, url, sizeof url);
    mco_trials *db = NULL;
    CHECK_OK(mco_trials_open(url, &s, &db));
    mco_trials_close(db);
    make_study(&s, "stm32l432");
    CHECK(mco_trials_open(url, &s, &db) == MCO_ERR_ARG && contains(mco_last_error(), "created for target stm32f405"));
    address("no-such-study", NULL, url, sizeof url);
    CHECK(mco_trials_open(url, NULL, &db) == MCO_ERR_NOT_FOUND && contains(mco_last_error(), "no study"));
}

/* Runs fn(worker) in N_PROCS processes started together; returns how many failed. */
static int in_processes(int (*fn)(int worker))
{
    pid_t pids[N_PROCS];
    for (int i = 0; i < N_PROCS; i++) {
        pids[i] = fork();
        if (pids[i] == 0) _exit(fn(i));
    }
    int failed = 0;
    for (int i = 0; i < N_PROCS; i++) {
        int status;
        waitpid(pids[i], &status, 0);
        failed += !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    return failed;
}

static int add_worker(int worker)
{
    char url[1024], config[64];
    mco_trial_study s;
    make_study(&s, "stm32f405");
    address("race", NULL, url, sizeof url);
    mco_trials *db;
    if (mco_trials_open(url, &s, &db) != MCO_OK) {
        fprintf(stderr, "worker %d: %s\n", worker, mco_last_error());
        return 1;
    }
    mco_trial t;
    int status = 0;
    for (int i = 0; i < N_TRIALS; i++) {   /* 4 x 10 distinct configurations for 10 places */
        snprintf(config, sizeof config, "quant:int8 # %d.%d", worker, i);
        mco_add_outcome outcome;
        if (mco_trials_add(db, config, 0, 1.0, N_TRIALS, &t, &outcome) != MCO_OK) {
            fprintf(stderr, "worker %d: %s\n", worker, mco_last_error());
            status = 1;
            break;
        }
    }
    mco_trials_close(db);
    return status;
}

static int claim_worker(int worker)
{
    char url[1024];
    address("race", NULL, url, sizeof url);
    mco_trials *db;
    if (mco_trials_open(url, NULL, &db) != MCO_OK) {
        fprintf(stderr, "worker %d: %s\n", worker, mco_last_error());
        return 1;
    }
    mco_trial t;
    mco_trial_result r;
    int status = 0;
    for (;;) {
        mco_claim_outcome outcome;
        if (mco_trials_claim_next(db, (int)getpid(), &t, &outcome) != MCO_OK) {
            fprintf(stderr, "worker %d: %s\n", worker, mco_last_error());
            status = 1;
            break;
        }
        if (outcome == MCO_CLAIM_NONE) break;
        sleep_ms(20);   /* "training" */
        mco_trial_result_init(&r);
        r.accuracy = 0.95;
        r.flash_bytes = 1000.0 + (double)t.id;
        if (mco_trials_finish(db, &t, &r, NULL, 0) != MCO_OK) {
            fprintf(stderr, "worker %d: %s\n", worker, mco_last_error());
            status = 1;
            break;
        }
    }
    mco_trials_close(db);
    return status;
}

static void check_workers(void)
{
    CHECK(in_processes(add_worker) == 0);
    CHECK(in_processes(claim_worker) == 0);
    char url[1024];
    address("race", NULL, url, sizeof url);
    mco_trials *db;
    CHECK_OK(mco_trials_open(url, NULL, &db));
    if (!db) return;
    mco_trial *list = NULL;
    int n = 0;
    CHECK_OK(mco_trials_list(db, NULL, &list, &n));
    CHECK(n == N_TRIALS);
    for (int i = 0; i < n; i++) {
        CHECK(list[i].id == i + 1);
        CHECK(list[i].state == MCO_TRIAL_DONE);
        CHECK(list[i].attempts == 1);
        CHECK(list[i].result.flash_bytes == 1000.0 + (double)list[i].id);
    }
    free(list);
    mco_trials_close(db);
}

static void check_leases(void)
{
    char url[1024];
    mco_trial_study s;
    make_study(&s, "stm32f405");
    address("lease", "&lease=1", url, sizeof url);
    mco_trials *a, *b;
    CHECK_OK(mco_trials_open(url, &s, &a));
    CHECK_OK(mco_trials_open(url, &s, &b));
    if (!a || !b) return;
    mco_trial t1, t2, taken;
    mco_claim_outcome outcome;
    int me = (int)getpid(), other = me + 1;

    /* a claims trial 1 and goes silent: after the lease, b takes it over */
    CHECK_OK(mco_trials_claim(a, "quant:int8", 0, 1.0, me, &t1, &outcome));
    CHECK(outcome == MCO_CLAIM_CLAIMED);
    CHECK_OK(mco_trials_claim(b, "quant:int8", 0, 1.0, other, &taken, &outcome));
    CHECK(outcome == MCO_CLAIM_BUSY);
    sleep_ms(1500);
    CHECK_OK(mco_trials_claim(b, "quant:int8", 0, 1.0, other, &taken, &outcome));
    CHECK(outcome == MCO_CLAIM_CLAIMED && taken.attempts == 2 && taken.pid == other);
    mco_trial_result r;
    mco_trial_result_init(&r);
    CHECK(mco_trials_finish(a, &t1, &r, NULL, 0) == MCO_ERR_ARG &&
          contains(mco_last_error(), "not running for worker"));
    CHECK_OK(mco_trials_finish(b, &taken, &r, NULL, 0));

    /* a claims trial 2 and keeps it alive with heartbeats for three leases */
    CHECK_OK(mco_trials_claim(a, "quant:int4", 0, 1.0, me, &t2, &outcome));
    CHECK(outcome == MCO_CLAIM_CLAIMED);
    for (int i = 0; i < 15; i++) {
        CHECK_OK(mco_trials_heartbeat(a));
        sleep_ms(200);
    }
    CHECK_OK(mco_trials_claim_next(b, other, &taken, &outcome));
    CHECK(outcome == MCO_CLAIM_NONE);
    int n = -1;
    CHECK_OK(mco_trials_recover_stale(b, &n));
    CHECK(n == 0);

    /* results: unknown metrics stay unknown; stage rows come back in order */
    mco_trial_result_init(&r);
    r.flash_bytes = 1234.0;
    r.objective = -0.25;
    snprintf(r.deploy_path, sizeof r.deploy_path, "shared/trial-2.mcq");
    mco_trial_stage stages[2];
    for (int i = 0; i < 2; i++) {
        mco_trial_stage_init(&stages[i]);
        stages[i].index = i;
        snprintf(stages[i].stage, sizeof stages[i].stage, "stage %d", i);
        stages[i].instructions = 100.0 * (i + 1);
    }
    CHECK_OK(mco_trials_finish(a, &t2, &r, stages, 2));
    mco_trial back;
    CHECK_OK(mco_trials_get(b, t2.id, &back));
    CHECK(back.state == MCO_TRIAL_DONE && isnan(back.result.accuracy) && back.result.flash_bytes == 1234.0 &&
          back.result.objective == -0.25 && strcmp(back.result.deploy_path, "shared/trial-2.mcq") == 0 &&
          back.result.model_path[0] == '\0');
    mco_trial_stage *got = NULL;
    CHECK_OK(mco_trials_stages(b, t2.id, &got, &n));
    CHECK(n == 2 && got && strcmp(got[1].stage, "stage 1") == 0 && got[1].instructions == 200.0 &&
          isnan(got[0].accuracy));
    free(got);

    /* a trial's model kept in the database: every byte value comes back, a
     * second put replaces the first, a trial without one is NOT_FOUND */
    uint8_t bytes[300];
    for (int i = 0; i < 300; i++) bytes[i] = (uint8_t)(i * 7);
    CHECK_OK(mco_trials_put_model(a, t2.id, bytes, 10));
    CHECK_OK(mco_trials_put_model(a, t2.id, bytes, sizeof bytes));
    uint8_t *model = NULL;
    size_t size = 0;
    CHECK_OK(mco_trials_get_model(b, t2.id, &model, &size));
    CHECK(model && size == sizeof bytes && memcmp(model, bytes, sizeof bytes) == 0);
    free(model);
    CHECK(mco_trials_get_model(b, taken.id, &model, &size) == MCO_ERR_NOT_FOUND && !model && size == 0);
    CHECK(mco_trials_spans_machines(a) == 1);

    /* a claim by a worker that died without a word: recover_stale requeues it */
    CHECK_OK(mco_trials_claim(b, "quant:float16", 0, 1.0, other, &taken, &outcome));
    sleep_ms(1500);
    CHECK_OK(mco_trials_recover_stale(a, &n));
    CHECK(n == 1);
    CHECK_OK(mco_trials_get(a, taken.id, &back));
    CHECK(back.state == MCO_TRIAL_QUEUED);
    mco_trials_close(a);
    mco_trials_close(b);
}

static void check_discard(void)
{
    char url[1024];
    mco_trial_study s;
    make_study(&s, "stm32f405");
    address("discard", NULL, url, sizeof url);
    mco_trials *db;
    CHECK_OK(mco_trials_open(url, &s, &db));
    if (!db) return;
    CHECK_OK(mco_trials_enqueue(db, "quant:int8", 0, 1.0, NULL));
    CHECK(mco_trials_discard(db) == 1);
    CHECK(mco_trials_open(url, NULL, &db) == MCO_ERR_NOT_FOUND);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: trials_postgres_check postgresql://...\n");
        return 2;
    }
    base = argv[1];
    check_open();
    check_workers();
    check_leases();
    check_discard();
    TEST_MAIN_END();
}
