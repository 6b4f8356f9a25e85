/*
 * test_trial_store.c - the search's trial store (trials.h):
 *   - creating, reopening and refusing a database of another study, a file
 *     that is not SQLite, and a SQLite file of another program;
 *   - claim / finish / fail / prune, skipping finished trials with their
 *     stored results, stage rows, unknown (NAN) metrics, ownership checks;
 *   - three worker processes claiming and finishing trials concurrently
 *     against one file (both claim styles): no trial runs twice, all end done;
 *   - four processes adding trials under one study-wide limit: exactly that
 *     many end in the store; releasing a claimed trial;
 *   - a "killed" search: a trial left running by a SIGKILLed worker, by a
 *     zombie and by a reused pid is recovered on resume; finished ones are not
 *     redone, live workers' trials are left alone;
 *   - the Pareto front and the best trial on hand-made points.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mcuopt/trials.h"
#include "test_util.h"

static char tmp_dir[] = "/tmp/mco_trials_XXXXXX";

static void tmp_path(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", tmp_dir, name);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void make_study(mco_trial_study *s)
{
    memset(s, 0, sizeof *s);
    snprintf(s->model_hash, sizeof s->model_hash, "0123456789abcdef");
    snprintf(s->model_path, sizeof s->model_path, "m.mco");
    snprintf(s->target, sizeof s->target, "stm32f405");
    s->min_accuracy = 0.97;
    s->seed = 42;
    s->budget = 20;
    snprintf(s->settings, sizeof s->settings, "space=prune,quant");
}

static int contains(const char *text, const char *part)
{
    return strstr(text, part) != NULL;
}

/* A result whose numbers follow from `k`, so a reader can check them. */
static void make_result(mco_trial_result *r, double k)
{
    mco_trial_result_init(r);
    r->accuracy = 0.9 + k / 1000.0;
    r->flash_bytes = 10000 + k;
    r->ram_bytes = 2000 + k;
    r->cycles = 1e5 + k;
    r->latency_ms = 1.0 + k / 10.0;
    r->objective = k;
}

/* ---- create / reopen / mismatch ------------------------------------------------ */

static void check_open_and_study(void)
{
    char path[256];
    tmp_path(path, sizeof path, "study.db");
    mco_trial_study s, back;
    make_study(&s);
    mco_trials *db = NULL;
    CHECK_OK(mco_trials_open(path, &s, &db));
    CHECK_OK(mco_trials_study(db, &back));
    CHECK(strcmp(back.target, "stm32f405") == 0 && back.seed == 42 && back.min_accuracy == 0.97 &&
          back.budget == 20 && strcmp(back.model_hash, s.model_hash) == 0 &&
          strcmp(back.settings, s.settings) == 0 && strcmp(back.model_path, "m.mco") == 0);
    /* a file is one machine's: no shared study, models stay files */
    CHECK(mco_trials_spans_machines(db) == 0);
    const uint8_t model[4] = {1, 2, 3, 4};
    CHECK(mco_trials_put_model(db, 1, model, sizeof model) == MCO_ERR_ARG);
    mco_trials_close(db);

    /* reopening with the same study, and without one (listing) */
    CHECK_OK(mco_trials_open(path, &s, &db));
    mco_trials_close(db);
    CHECK_OK(mco_trials_open(path, NULL, &db));
    mco_trials_close(db);

    /* another study: each field is named */
    mco_trial_study other = s;
    snprintf(other.target, sizeof other.target, "stm32l432");
    db = NULL;
    CHECK(mco_trials_open(path, &other, &db) == MCO_ERR_ARG && db == NULL);
    char expected[400];
    snprintf(expected, sizeof expected, "%s: created for target stm32f405, not stm32l432", path);
    CHECK(strcmp(mco_last_error(), expected) == 0);

    other = s;
    other.seed = 43;
    CHECK(mco_trials_open(path, &other, &db) == MCO_ERR_ARG && contains(mco_last_error(), "seed 42, not 43"));
    other = s;
    other.min_accuracy = 0.98;
    CHECK(mco_trials_open(path, &other, &db) == MCO_ERR_ARG &&
          contains(mco_last_error(), "minimum accuracy 0.97, not 0.98"));
    other = s;
    other.budget = 30;
    CHECK(mco_trials_open(path, &other, &db) == MCO_ERR_ARG && contains(mco_last_error(), "budget 20, not 30"));
    other = s;
    snprintf(other.model_hash, sizeof other.model_hash, "ffff");
    CHECK(mco_trials_open(path, &other, &db) == MCO_ERR_ARG && contains(mco_last_error(), "another model"));
    other = s;
    snprintf(other.settings, sizeof other.settings, "space=quant");
    CHECK(mco_trials_open(path, &other, &db) == MCO_ERR_ARG && contains(mco_last_error(), "search settings"));
    other = s;   /* model_path is informational only */
    snprintf(other.model_path, sizeof other.model_path, "/elsewhere/m.mco");
    CHECK_OK(mco_trials_open(path, &other, &db));
    mco_trials_close(db);

    /* not a trials database: a text file, another program's SQLite file, an empty file */
    char text_path[256], other_db[256], empty_path[256], missing[256];
    tmp_path(text_path, sizeof text_path, "notes.txt");
    FILE *f = fopen(text_path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs("this is not a database, it is a long enough text file to fill a header.......\n", f);
        fclose(f);
    }
    CHECK(mco_trials_open(text_path, &s, &db) == MCO_ERR_FORMAT);
    snprintf(expected, sizeof expected, "%s: not an mcuopt trials database", text_path);
    CHECK(strcmp(mco_last_error(), expected) == 0);

    tmp_path(other_db, sizeof other_db, "other.db");
    sqlite3 *raw;
    CHECK(sqlite3_open(other_db, &raw) == SQLITE_OK);
    CHECK(sqlite3_exec(raw, "CREATE TABLE t (x)", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(raw);
    CHECK(mco_trials_open(other_db, &s, &db) == MCO_ERR_FORMAT &&
          contains(mco_last_error(), "not an mcuopt trials database"));

    tmp_path(empty_path, sizeof empty_path, "empty.db");
    f = fopen(empty_path, "w");
    if (f) fclose(f);
    CHECK(mco_trials_open(empty_path, NULL, &db) == MCO_ERR_FORMAT);
    CHECK_OK(mco_trials_open(empty_path, &s, &db));   /* an empty file becomes a new store */
    mco_trials_close(db);

    tmp_path(missing, sizeof missing, "missing.db");
    CHECK(mco_trials_open(missing, NULL, &db) == MCO_ERR_IO && contains(mco_last_error(), missing));
    CHECK(access(missing, F_OK) != 0);   /* listing does not create files */

    /* hashing */
    char h1[MCO_TRIAL_HASH_HEX], h2[MCO_TRIAL_HASH_HEX];
    mco_trials_hash_text("", h1);
    CHECK(strcmp(h1, "cbf29ce484222325") == 0);   /* FNV-1a 64 offset basis */
    mco_trials_hash_text("a", h1);
    CHECK(strcmp(h1, "af63dc4c8601ec8c") == 0);   /* published FNV-1a 64 test vector */
    CHECK_OK(mco_trials_hash_file(text_path, h2));
    mco_trials_hash_text("this is not a database, it is a long enough text file to fill a header.......\n", h1);
    CHECK(strcmp(h1, h2) == 0);
    CHECK(mco_trials_hash_file(missing, h2) == MCO_ERR_IO);
}

/* ---- claim / finish / skip ------------------------------------------------------- */

static const char *config_a = "prune:structured=0.5,criterion=l1 -> distill:T=4,alpha=0.1 -> quant:int8,per_channel";

static void check_claim_and_finish(void)
{
    char path[256];
    tmp_path(path, sizeof path, "claim.db");
    mco_trial_study s;
    make_study(&s);
    mco_trials *db;
    CHECK_OK(mco_trials_open(path, &s, &db));
    if (!db) return;
    int pid = (int)getpid();

    mco_trial *t = malloc(sizeof *t), *u = malloc(sizeof *u);
    mco_claim_outcome outcome;
    CHECK_OK(mco_trials_claim(db, config_a, 0, 1.0, pid, t, &outcome));
    CHECK(outcome == MCO_CLAIM_CLAIMED && t->state == MCO_TRIAL_RUNNING && t->pid == pid && t->attempts == 1);
    CHECK(t->id == 1 && t->rung == 0 && t->budget == 1.0 && strcmp(t->config, config_a) == 0);
    CHECK(!isnan(t->started_at) && isnan(t->finished_at) && isnan(t->result.accuracy));
    char hash[MCO_TRIAL_HASH_HEX];
    mco_trials_hash_text(config_a, hash);
    CHECK(strcmp(t->config_hash, hash) == 0);

    /* a second claim while this (live) worker runs it */
    CHECK_OK(mco_trials_claim(db, config_a, 0, 1.0, pid, u, &outcome));
    CHECK(outcome == MCO_CLAIM_BUSY && u->id == t->id);
    /* the same config with another budget at the same rung is a mistake */
    CHECK(mco_trials_claim(db, config_a, 0, 2.0, pid, u, &outcome) == MCO_ERR_ARG &&
          contains(mco_last_error(), "budget 1, not 2"));

    mco_trial_result r;
    make_result(&r, 7);
    r.energy_uj = NAN;   /* not measured */
    snprintf(r.model_path, sizeof r.model_path, "trials/1/model.mco");
    snprintf(r.deploy_path, sizeof r.deploy_path, "trials/1/model.mcq");
    mco_trial_stage stages[3];
    for (int i = 0; i < 3; i++) {
        mco_trial_stage_init(&stages[i]);
        stages[i].index = i;
        stages[i].accuracy = 0.99 - 0.01 * i;
        stages[i].flash_bytes = 40000 - 10000 * i;
    }
    snprintf(stages[0].stage, sizeof stages[0].stage, "input");
    snprintf(stages[1].stage, sizeof stages[1].stage, "prune:structured=0.5,criterion=l1");
    snprintf(stages[2].stage, sizeof stages[2].stage, "quant:int8,per_channel");
    stages[2].ram_bytes = 3000;
    stages[2].instructions = 218000;
    CHECK_OK(mco_trials_finish(db, t, &r, stages, 3));

    /* claiming it again gives the stored result: the caller skips it */
    CHECK_OK(mco_trials_claim(db, config_a, 0, 1.0, pid, u, &outcome));
    CHECK(outcome == MCO_CLAIM_FINISHED && u->state == MCO_TRIAL_DONE && u->id == t->id && u->attempts == 1);
    CHECK(u->result.accuracy == r.accuracy && u->result.flash_bytes == r.flash_bytes &&
          u->result.ram_bytes == r.ram_bytes && u->result.cycles == r.cycles &&
          u->result.latency_ms == r.latency_ms && u->result.objective == r.objective);
    CHECK(isnan(u->result.energy_uj));
    CHECK(strcmp(u->result.model_path, r.model_path) == 0 && strcmp(u->result.deploy_path, r.deploy_path) == 0);
    CHECK(!isnan(u->finished_at) && u->finished_at >= u->started_at);

    mco_trial_stage *back;
    int n_back;
    CHECK_OK(mco_trials_stages(db, t->id, &back, &n_back));
    CHECK(n_back == 3);
    if (n_back == 3) {
        CHECK(strcmp(back[1].stage, stages[1].stage) == 0 && back[1].accuracy == stages[1].accuracy);
        CHECK(back[2].flash_bytes == 20000 && back[2].ram_bytes == 3000 && back[2].instructions == 218000);
        CHECK(isnan(back[0].ram_bytes) && isnan(back[0].instructions));
    }
    free(back);

    /* finishing again, or a trial that is not the caller's, is refused */
    CHECK(mco_trials_finish(db, t, &r, NULL, 0) == MCO_ERR_ARG && contains(mco_last_error(), "is not running"));

    /* the next rung of the same config is a new trial */
    CHECK_OK(mco_trials_claim(db, config_a, 1, 4.0, pid, u, &outcome));
    CHECK(outcome == MCO_CLAIM_CLAIMED && u->id == 2 && u->rung == 1);
    mco_trial stranger = *u;
    stranger.pid = pid + 1;
    CHECK(mco_trials_finish(db, &stranger, &r, NULL, 0) == MCO_ERR_ARG &&
          contains(mco_last_error(), "not running for worker"));
    CHECK_OK(mco_trials_prune(db, u, NULL, "rung 1: below the top third"));
    CHECK_OK(mco_trials_get(db, u->id, u));
    CHECK(u->state == MCO_TRIAL_PRUNED && strcmp(u->error, "rung 1: below the top third") == 0 &&
          isnan(u->result.accuracy));

    /* the queue: enqueue, claim_next in rung then id order, fail */
    int64_t id_b, id_c, id_again;
    CHECK_OK(mco_trials_enqueue(db, "finetune:epochs=1 -> quant:int8", 1, 4.0, &id_b));
    CHECK_OK(mco_trials_enqueue(db, "quant:int8", 0, 1.0, &id_c));
    CHECK_OK(mco_trials_enqueue(db, "quant:int8", 0, 1.0, &id_again));
    CHECK(id_again == id_c && id_b == 3 && id_c == 4);
    CHECK_OK(mco_trials_claim_next(db, pid, u, &outcome));
    CHECK(outcome == MCO_CLAIM_CLAIMED && u->id == id_c);   /* rung 0 before rung 1 */
    CHECK_OK(mco_trials_fail(db, u, "stage 1 (quant): out of memory"));
    CHECK_OK(mco_trials_claim_next(db, pid, u, &outcome));
    CHECK(outcome == MCO_CLAIM_CLAIMED && u->id == id_b);
    make_result(&r, 3);
    CHECK_OK(mco_trials_finish(db, u, &r, NULL, 0));
    CHECK_OK(mco_trials_claim_next(db, pid, u, &outcome));
    CHECK(outcome == MCO_CLAIM_NONE);
    CHECK_OK(mco_trials_claim(db, "quant:int8", 0, 1.0, pid, u, &outcome));
    CHECK(outcome == MCO_CLAIM_FINISHED && u->state == MCO_TRIAL_FAILED &&
          strcmp(u->error, "stage 1 (quant): out of memory") == 0);

    /* bad input */
    CHECK(mco_trials_claim(db, "", 0, 1.0, pid, u, &outcome) == MCO_ERR_ARG);
    CHECK(mco_trials_claim(db, "quant:int8", -1, 1.0, pid, u, &outcome) == MCO_ERR_ARG);
    CHECK(mco_trials_claim(db, "quant:int8", 0, 1.0, 0, u, &outcome) == MCO_ERR_ARG);
    char *long_config = malloc(MCO_TRIAL_CONFIG_MAX + 1);
    memset(long_config, 'x', MCO_TRIAL_CONFIG_MAX);
    long_config[MCO_TRIAL_CONFIG_MAX] = '\0';
    CHECK(mco_trials_enqueue(db, long_config, 0, 1.0, NULL) == MCO_ERR_RANGE);
    free(long_config);
    CHECK(mco_trials_get(db, 99, u) == MCO_ERR_NOT_FOUND);

    /* listing with filters */
    mco_trial *list;
    int n;
    CHECK_OK(mco_trials_list(db, NULL, &list, &n));
    CHECK(n == 4 && list[0].id == 1 && list[3].id == 4);
    free(list);
    mco_trial_query q;
    mco_trial_query_init(&q);
    q.state = MCO_TRIAL_DONE;
    CHECK_OK(mco_trials_list(db, &q, &list, &n));
    CHECK(n == 2 && list[0].id == 1 && list[1].id == id_b);
    free(list);
    q.min_rung = 1;
    CHECK_OK(mco_trials_list(db, &q, &list, &n));
    CHECK(n == 1 && list[0].id == id_b);
    free(list);
    q.state = MCO_TRIAL_QUEUED;
    CHECK_OK(mco_trials_list(db, &q, &list, &n));
    CHECK(n == 0 && list == NULL);

    mco_trial_state st;
    CHECK_OK(mco_trial_state_parse("pruned", &st));
    CHECK(st == MCO_TRIAL_PRUNED && strcmp(mco_trial_state_name(MCO_TRIAL_RUNNING), "running") == 0);
    CHECK(mco_trial_state_parse("finished", &st) == MCO_ERR_ARG);

    free(t);
    free(u);
    mco_trials_close(db);
}

/* ---- concurrent workers ----------------------------------------------------------- */

#define N_CONFIGS 24
#define N_WORKERS 3

static void config_text(int i, char *out, size_t size)
{
    snprintf(out, size, "prune:structured=0.%d,criterion=l1 -> quant:int8", i + 10);
}

/* A worker process: claims and finishes trials, writes each id it ran to
 * `out`; worker 1 claims configs by name (in reverse), the others take the
 * queue. Returns the exit status. */
static int run_worker(const char *path, const char *fresh_path, const mco_trial_study *s, int worker, int out)
{
    /* first all workers race to create the same new database */
    mco_trials *db;
    char config[128];
    snprintf(config, sizeof config, "worker %d", worker);
    if (mco_trials_open(fresh_path, s, &db) != MCO_OK || mco_trials_enqueue(db, config, 0, 1.0, NULL) != MCO_OK) {
        fprintf(stderr, "worker %d: %s\n", worker, mco_last_error());
        return 1;
    }
    mco_trials_close(db);

    if (mco_trials_open(path, s, &db) != MCO_OK) {
        fprintf(stderr, "worker %d: %s\n", worker, mco_last_error());
        return 1;
    }
    int pid = (int)getpid();
    mco_trial *t = malloc(sizeof *t);
    mco_trial_result r;
    int status = 0;
    for (int i = 0;; i++) {
        mco_claim_outcome outcome;
        mco_status st;
        if (worker == 1) {
            if (i == N_CONFIGS) break;
            config_text(N_CONFIGS - 1 - i, config, sizeof config);
            st = mco_trials_claim(db, config, 0, 1.0, pid, t, &outcome);
        } else {
            st = mco_trials_claim_next(db, pid, t, &outcome);
        }
        if (st != MCO_OK) {
            fprintf(stderr, "worker %d: %s\n", worker, mco_last_error());
            status = 1;
            break;
        }
        if (outcome == MCO_CLAIM_NONE) break;
        if (outcome != MCO_CLAIM_CLAIMED) continue;
        sleep_ms(5);   /* "training" */
        make_result(&r, (double)t->id);
        if (mco_trials_finish(db, t, &r, NULL, 0) != MCO_OK) {
            fprintf(stderr, "worker %d: %s\n", worker, mco_last_error());
            status = 1;
            break;
        }
        if (write(out, &t->id, sizeof t->id) != (ssize_t)sizeof t->id) status = 1;
    }
    free(t);
    mco_trials_close(db);
    return status;
}

static void check_concurrent_workers(void)
{
    char path[256], fresh_path[256];
    tmp_path(path, sizeof path, "concurrent.db");
    tmp_path(fresh_path, sizeof fresh_path, "fresh.db");
    mco_trial_study s;
    make_study(&s);
    mco_trials *db;
    CHECK_OK(mco_trials_open(path, &s, &db));
    if (!db) return;
    for (int i = 0; i < N_CONFIGS; i++) {
        char config[128];
        config_text(i, config, sizeof config);
        CHECK_OK(mco_trials_enqueue(db, config, 0, 1.0, NULL));
    }
    mco_trials_close(db);   /* a handle must not cross fork() */

    /* fds: ids from the workers; go: closed by the parent to start them together */
    int fds[2], go[2];
    CHECK(pipe(fds) == 0 && pipe(go) == 0);
    fflush(NULL);
    pid_t pids[N_WORKERS];
    for (int w = 0; w < N_WORKERS; w++) {
        pids[w] = fork();
        if (pids[w] == 0) {
            close(fds[0]);
            close(go[1]);
            char byte;
            if (read(go[0], &byte, 1) != 0) _exit(3);
            _exit(run_worker(path, fresh_path, &s, w, fds[1]));
        }
        CHECK(pids[w] > 0);
    }
    close(go[0]);
    close(go[1]);
    close(fds[1]);
    int runs[N_CONFIGS + 1] = {0}, n_runs = 0;
    int64_t id;
    while (read(fds[0], &id, sizeof id) == (ssize_t)sizeof id) {
        n_runs++;
        if (id >= 1 && id <= N_CONFIGS) runs[id]++;
        else CHECK(!"a worker ran a trial id that was never queued");
    }
    close(fds[0]);
    for (int w = 0; w < N_WORKERS; w++) {
        int status = -1;
        if (pids[w] > 0) waitpid(pids[w], &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    CHECK(n_runs == N_CONFIGS);
    for (int i = 1; i <= N_CONFIGS; i++) CHECK(runs[i] == 1);

    CHECK_OK(mco_trials_open(path, &s, &db));
    if (!db) return;
    mco_trial *list;
    int n;
    CHECK_OK(mco_trials_list(db, NULL, &list, &n));
    CHECK(n == N_CONFIGS);
    int pids_seen = 0;
    for (int i = 0; i < n; i++) {
        CHECK(list[i].state == MCO_TRIAL_DONE && list[i].attempts == 1);
        CHECK(list[i].result.objective == (double)list[i].id);   /* finished by whoever claimed it */
        for (int w = 0; w < N_WORKERS; w++)
            if (list[i].pid == pids[w]) pids_seen |= 1 << w;
    }
    free(list);
    mco_trials_close(db);

    /* the database the workers created together: one study, every worker's trial */
    CHECK_OK(mco_trials_open(fresh_path, &s, &db));
    if (!db) return;
    CHECK_OK(mco_trials_list(db, NULL, &list, &n));
    CHECK(n == N_WORKERS);
    printf("concurrent: %d runs of %d trials; workers that ran some: mask %d of %d\n", n_runs, N_CONFIGS,
           pids_seen, (1 << N_WORKERS) - 1);
    free(list);
    mco_trials_close(db);
}

/* ---- a trial limit shared by processes ----------------------------------------------- */

#define LIMIT 7
#define LIMIT_WORKERS 4
#define LIMIT_CONFIGS 10

/* Each of several processes adds the same 10 configurations in its own
 * order (and 10 of its own) under a limit of 7 for the study: the store ends
 * with exactly 7 trials between them, every add after that says FULL, and an
 * existing trial is still found when the study is full. Then release. */
static int run_limited_adder(const char *path, const mco_trial_study *s, int w)
{
    mco_trials *db;
    if (mco_trials_open(path, s, &db) != MCO_OK) return 2;
    int bad = 0;
    mco_trial *t = malloc(sizeof *t);
    for (int k = 0; k < 2 * LIMIT_CONFIGS && t; k++) {
        char config[128];
        if (k < LIMIT_CONFIGS) config_text((k * (w + 1) + w) % LIMIT_CONFIGS, config, sizeof config);
        else snprintf(config, sizeof config, "worker %d config %d", w, k);
        mco_add_outcome outcome;
        if (mco_trials_add(db, config, 0, 1.0, LIMIT, t, &outcome) != MCO_OK) bad = 1;
        else if (outcome != MCO_ADD_FULL && strcmp(t->config, config) != 0) bad = 1;
    }
    free(t);
    mco_trials_close(db);
    return bad ? 4 : 0;
}

static void check_shared_limit(void)
{
    char path[256];
    tmp_path(path, sizeof path, "limit.db");
    mco_trial_study s;
    make_study(&s);
    int go[2];
    CHECK(pipe(go) == 0);
    fflush(NULL);
    pid_t pids[LIMIT_WORKERS];
    for (int w = 0; w < LIMIT_WORKERS; w++) {
        pids[w] = fork();
        if (pids[w] == 0) {
            close(go[1]);
            char byte;
            if (read(go[0], &byte, 1) != 0) _exit(3);
            _exit(run_limited_adder(path, &s, w));
        }
        CHECK(pids[w] > 0);
    }
    close(go[0]);
    close(go[1]);
    for (int w = 0; w < LIMIT_WORKERS; w++) {
        int status = -1;
        if (pids[w] > 0) waitpid(pids[w], &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    mco_trials *db;
    CHECK_OK(mco_trials_open(path, &s, &db));
    if (!db) return;
    mco_trial *list;
    int n;
    CHECK_OK(mco_trials_list(db, NULL, &list, &n));
    CHECK(n == LIMIT);
    mco_trial t, first = list[0];
    free(list);
    mco_add_outcome outcome;
    CHECK_OK(mco_trials_add(db, "one more", 0, 1.0, LIMIT, &t, &outcome));
    CHECK(outcome == MCO_ADD_FULL);
    CHECK_OK(mco_trials_add(db, first.config, 0, 1.0, LIMIT, &t, &outcome));
    CHECK(outcome == MCO_ADD_EXISTS && t.id == first.id);
    CHECK_OK(mco_trials_add(db, "one more", 0, 1.0, LIMIT + 1, &t, &outcome));   /* a higher limit */
    CHECK(outcome == MCO_ADD_NEW && t.state == MCO_TRIAL_QUEUED);
    CHECK_OK(mco_trials_add(db, "and another", 0, 1.0, 0, &t, &outcome));   /* 0: none */
    CHECK(outcome == MCO_ADD_NEW);

    /* release: a claimed trial goes back in the queue, only for its claimer */
    mco_claim_outcome claimed;
    CHECK_OK(mco_trials_claim(db, first.config, 0, 1.0, (int)getpid(), &t, &claimed));
    CHECK(claimed == MCO_CLAIM_CLAIMED && t.state == MCO_TRIAL_RUNNING);
    mco_trial other = t;
    other.pid = t.pid + 1;
    CHECK_OK(mco_trials_release(db, &other));
    CHECK_OK(mco_trials_get(db, t.id, &first));
    CHECK(first.state == MCO_TRIAL_RUNNING);
    CHECK_OK(mco_trials_release(db, &t));
    CHECK_OK(mco_trials_get(db, t.id, &first));
    CHECK(first.state == MCO_TRIAL_QUEUED && first.attempts == 1);
    mco_trials_close(db);
}

/* ---- a killed search resumes ------------------------------------------------------ */

/* A child that claims `config` and then dies: by SIGKILL from the parent
 * (hang = 1) or by exiting at once (hang = 0, left unreaped). */
static pid_t start_doomed_worker(const char *path, const mco_trial_study *s, const char *config, int hang)
{
    int fds[2];
    if (pipe(fds) != 0) return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        mco_trials *db;
        mco_trial *t = malloc(sizeof *t);
        mco_claim_outcome outcome;
        char ok = mco_trials_open(path, s, &db) == MCO_OK &&
                  mco_trials_claim(db, config, 0, 1.0, (int)getpid(), t, &outcome) == MCO_OK &&
                  outcome == MCO_CLAIM_CLAIMED;
        if (write(fds[1], &ok, 1) != 1) _exit(2);
        if (hang)
            for (;;) pause();
        _exit(0);   /* dies without finishing (and without closing the database) */
    }
    close(fds[1]);
    char ok = 0;
    if (pid < 0 || read(fds[0], &ok, 1) != 1) ok = 0;
    close(fds[0]);
    CHECK(ok == 1);
    return pid;
}

static void check_resume_after_kill(void)
{
    char path[256];
    tmp_path(path, sizeof path, "resume.db");
    mco_trial_study s;
    make_study(&s);
    mco_trials *db;
    CHECK_OK(mco_trials_open(path, &s, &db));
    if (!db) return;
    int me = (int)getpid();
    mco_trial *t = malloc(sizeof *t);
    mco_claim_outcome outcome;
    mco_trial_result r;

    /* trial 1 finished before the "crash" */
    CHECK_OK(mco_trials_claim(db, "finetune:epochs=1", 0, 1.0, me, t, &outcome));
    make_result(&r, 1);
    CHECK_OK(mco_trials_finish(db, t, &r, NULL, 0));
    /* trial 2: a worker killed with SIGKILL in the middle (reaped) */
    pid_t killed = start_doomed_worker(path, &s, "qat:epochs=1", 1);
    if (killed > 0) {
        kill(killed, SIGKILL);
        waitpid(killed, NULL, 0);
    }
    /* trial 3: this (live) process runs it: must stay running */
    CHECK_OK(mco_trials_claim(db, "distill:T=4", 0, 1.0, me, t, &outcome));
    int64_t live_id = t->id;
    /* trial 4: claimed by this pid in an earlier life (another start time), as
     * after a container restart where pids start from 1 again */
    CHECK_OK(mco_trials_claim(db, "prune:sparsity=0.5", 0, 1.0, me, t, &outcome));
    int64_t reused_id = t->id;
    sqlite3 *raw;
    CHECK(sqlite3_open(path, &raw) == SQLITE_OK);
    sqlite3_busy_timeout(raw, 10000);
    char sql[128];
    snprintf(sql, sizeof sql, "UPDATE trials SET pid_start = 1 WHERE id = %lld", (long long)reused_id);
    CHECK(sqlite3_exec(raw, sql, NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(raw);
    mco_trials_close(db);

    /* resume */
    CHECK_OK(mco_trials_open(path, &s, &db));
    if (!db) return;
    int recovered = -1;
    CHECK_OK(mco_trials_recover_stale(db, &recovered));
    CHECK(recovered == 2);
    CHECK_OK(mco_trials_get(db, 2, t));
    CHECK(t->state == MCO_TRIAL_QUEUED && t->pid == (int)killed && t->attempts == 1 && isnan(t->started_at));
    CHECK_OK(mco_trials_get(db, reused_id, t));
    CHECK(t->state == MCO_TRIAL_QUEUED);
    CHECK_OK(mco_trials_get(db, live_id, t));
    CHECK(t->state == MCO_TRIAL_RUNNING && t->pid == me);
    CHECK_OK(mco_trials_recover_stale(db, &recovered));
    CHECK(recovered == 0);

    /* the resumed search walks its configs again: only unfinished ones run */
    CHECK_OK(mco_trials_claim(db, "finetune:epochs=1", 0, 1.0, me, t, &outcome));
    CHECK(outcome == MCO_CLAIM_FINISHED && t->id == 1 && t->result.accuracy == r.accuracy && t->attempts == 1);
    CHECK_OK(mco_trials_claim(db, "qat:epochs=1", 0, 1.0, me, t, &outcome));
    CHECK(outcome == MCO_CLAIM_CLAIMED && t->id == 2 && t->attempts == 2 && t->pid == me);
    /* the dead worker's late finish (had it only seemed dead) is refused */
    mco_trial ghost = *t;
    ghost.pid = (int)killed;
    CHECK(mco_trials_finish(db, &ghost, &r, NULL, 0) == MCO_ERR_ARG);
    CHECK_OK(mco_trials_finish(db, t, &r, NULL, 0));
    CHECK_OK(mco_trials_claim(db, "distill:T=4", 0, 1.0, me, t, &outcome));
    CHECK(outcome == MCO_CLAIM_BUSY);

    /* a worker that exited (a zombie, not yet reaped): a claim takes its trial over */
    pid_t zombie = start_doomed_worker(path, &s, "finetune:epochs=3", 0);
    if (zombie > 0) {
        for (int i = 0; i < 200; i++) {   /* wait until it has exited, without reaping it */
            siginfo_t info;
            memset(&info, 0, sizeof info);
            if (waitid(P_PID, (id_t)zombie, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == zombie) break;
            sleep_ms(10);
        }
        CHECK_OK(mco_trials_claim(db, "finetune:epochs=3", 0, 1.0, me, t, &outcome));
        CHECK(outcome == MCO_CLAIM_CLAIMED && t->attempts == 2 && t->pid == me);
        waitpid(zombie, NULL, 0);
    }
    free(t);
    mco_trials_close(db);
}

/* ---- Pareto front and best trial ---------------------------------------------------- */

typedef struct {
    double flash, ram, latency, energy, accuracy, objective;
    mco_trial_state state;
} point;

/* Hand-made points; the comments say what happens with floor 0.95. */
static const point points[] = {
    {100, 10, 5, 50, 0.980, 0.5, MCO_TRIAL_DONE},      /* 1: front */
    {200, 10, 5, 50, 0.990, 0.4, MCO_TRIAL_DONE},      /* 2: dominated by 1, unless accuracy counts */
    {50, 20, 5, 50, 0.970, 0.6, MCO_TRIAL_DONE},       /* 3: front (least Flash) */
    {150, 30, 6, 60, 0.985, 0.3, MCO_TRIAL_DONE},      /* 4: dominated by 1, unless accuracy counts */
    {40, 5, 1, 10, 0.900, 0.1, MCO_TRIAL_DONE},        /* 5: below the floor (else it beats all) */
    {100, 10, 5, 50, 0.980, 0.5, MCO_TRIAL_DONE},      /* 6: equal to 1: kept too */
    {10, 1, 1, 1, 0.999, 0.0, MCO_TRIAL_FAILED},       /* 7: not done: ignored */
    {60, 15, NAN, 40, 0.970, NAN, MCO_TRIAL_DONE},     /* 8: unknown latency, still front */
};
#define N_POINTS ((int)(sizeof points / sizeof points[0]))

static void fill_trial(mco_trial *t, int i)
{
    memset(t, 0, sizeof *t);
    t->id = i + 1;
    t->state = points[i].state;
    mco_trial_result_init(&t->result);
    t->result.flash_bytes = points[i].flash;
    t->result.ram_bytes = points[i].ram;
    t->result.latency_ms = points[i].latency;
    t->result.energy_uj = points[i].energy;
    t->result.accuracy = points[i].accuracy;
    t->result.objective = points[i].objective;
}

static int front_mask(const mco_trial *t, int n)
{
    int mask = 0;
    for (int i = 0; i < n; i++)
        if (t[i].on_pareto) mask |= 1 << (t[i].id - 1);
    return mask;
}

#define BIT(id) (1 << ((id) - 1))

static void check_pareto_and_best(void)
{
    mco_trial t[N_POINTS];
    for (int i = 0; i < N_POINTS; i++) fill_trial(&t[i], i);
    mco_pareto_mark(t, N_POINTS, 0.95, 0);
    CHECK(front_mask(t, N_POINTS) == (BIT(1) | BIT(3) | BIT(6) | BIT(8)));
    mco_pareto_mark(t, N_POINTS, 0.95, 1);
    CHECK(front_mask(t, N_POINTS) == (BIT(1) | BIT(2) | BIT(3) | BIT(4) | BIT(6) | BIT(8)));
    mco_pareto_mark(t, N_POINTS, 0.0, 0);   /* no floor: trial 5 beats every other */
    CHECK(front_mask(t, N_POINTS) == BIT(5));
    mco_pareto_mark(t, N_POINTS, 0.9995, 0);   /* nobody reaches the floor */
    CHECK(front_mask(t, N_POINTS) == 0);
    mco_pareto_mark(t, 0, 0.95, 0);

    /* the same through a database: store the points as trials */
    char path[256];
    tmp_path(path, sizeof path, "pareto.db");
    mco_trial_study s;
    make_study(&s);
    mco_trials *db;
    CHECK_OK(mco_trials_open(path, &s, &db));
    if (!db) return;
    mco_trial *claimed = malloc(sizeof *claimed);
    for (int i = 0; i < N_POINTS; i++) {
        char config[64];
        snprintf(config, sizeof config, "point %d", i + 1);
        mco_claim_outcome outcome;
        CHECK_OK(mco_trials_claim(db, config, 0, 1.0, (int)getpid(), claimed, &outcome));
        if (points[i].state == MCO_TRIAL_FAILED) {
            CHECK_OK(mco_trials_fail(db, claimed, "boom"));
        } else {
            CHECK_OK(mco_trials_finish(db, claimed, &t[i].result, NULL, 0));
        }
    }
    free(claimed);
    mco_trial_query q;
    mco_trial_query_init(&q);
    q.min_accuracy = 0.95;
    mco_trial *front;
    int n;
    CHECK_OK(mco_trials_pareto(db, &q, 0, &front, &n));
    CHECK(n == 4);
    if (n == 4)   /* by Flash, then RAM, then id */
        CHECK(front[0].id == 3 && front[1].id == 8 && front[2].id == 1 && front[3].id == 6 && front[0].on_pareto);
    free(front);

    mco_trial best;
    int found;
    CHECK_OK(mco_trials_best(db, &q, &best, &found));
    CHECK(found && best.id == 4);   /* lowest objective above the floor */
    q.max_flash_bytes = 120;
    CHECK_OK(mco_trials_best(db, &q, &best, &found));
    CHECK(found && best.id == 1);   /* 1 and 6 tie: lower id */
    q.max_latency_ms = 4;           /* only trial 5 is that fast, and it is below the floor */
    CHECK_OK(mco_trials_best(db, &q, &best, &found));
    CHECK(!found);
    mco_trial_query_init(&q);
    q.min_accuracy = 0.95;
    q.max_energy_uj = 45;           /* trial 8: energy 40, unknown objective still counts */
    CHECK_OK(mco_trials_best(db, &q, &best, &found));
    CHECK(found && best.id == 8);
    q.max_energy_uj = 0;
    q.max_latency_ms = 100;         /* an unknown latency never meets a limit */
    CHECK_OK(mco_trials_list(db, &q, &front, &n));
    for (int i = 0; i < n; i++) CHECK(front[i].id != 8);
    free(front);
    mco_trials_close(db);
}

static void remove_tmp_dir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp_dir);
}

int main(void)
{
    if (!mkdtemp(tmp_dir)) {
        perror("mkdtemp");
        return 1;
    }
    check_open_and_study();
    check_claim_and_finish();
    check_concurrent_workers();
    check_shared_limit();
    check_resume_after_kill();
    check_pareto_and_best();
    remove_tmp_dir();
    TEST_MAIN_END();
}
