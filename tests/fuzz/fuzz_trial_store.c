/*
 * fuzz_trial_store.c - libFuzzer harness for the search's trial store
 * opened on a hostile SQLite file (the input, written to a temporary
 * fuzz.db; its -wal, -shm and -journal files are removed first).
 *
 * Two uses of a file a user points --db at:
 *   listing (`mcuopt trials`): open without a study, read the study, list
 *   every trial and its stages, the best trial and the Pareto front;
 *   resuming (`mcuopt search --resume`): open with the study the seed
 *   corpus was made for (tests/fuzz/make_seeds.c uses the same one), put
 *   stale trials back, claim, finish and enqueue.
 * Every call must succeed or fail with one error line.
 *
 * What it leaves out: concurrent workers (tests/test_trial_store.c) and
 * the search driver around the store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_seeds.h"
#include "fuzz_util.h"
#include "mcuopt/trials.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_STAGE_LISTS 8   /* trials whose stages are read */

static void list_store(const char *path)
{
    mco_trials *db;
    mco_status st = mco_trials_open(path, NULL, &db);
    fuzz_check_status(st, "mco_trials_open (listing)");
    if (st != MCO_OK) return;
    mco_trial_study study;
    fuzz_check_status(mco_trials_study(db, &study), "mco_trials_study");

    mco_trial *trials = NULL;
    int n = 0;
    st = mco_trials_list(db, NULL, &trials, &n);
    fuzz_check_status(st, "mco_trials_list");
    for (int i = 0; st == MCO_OK && i < n && i < MAX_STAGE_LISTS; i++) {
        mco_trial_stage *stages = NULL;
        int n_stages = 0;
        mco_status sst = mco_trials_stages(db, trials[i].id, &stages, &n_stages);
        fuzz_check_status(sst, "mco_trials_stages");
        free(stages);
        mco_trial one;
        fuzz_check_status(mco_trials_get(db, trials[i].id, &one), "mco_trials_get");
    }
    free(trials);

    mco_trial_query query;
    mco_trial_query_init(&query);
    mco_trial best;
    int found = 0;
    fuzz_check_status(mco_trials_best(db, &query, &best, &found), "mco_trials_best");
    mco_trial *front = NULL;
    int n_front = 0;
    fuzz_check_status(mco_trials_pareto(db, &query, 1, &front, &n_front), "mco_trials_pareto");
    free(front);
    mco_trials_close(db);
}

static void resume_store(const char *path)
{
    mco_trial_study study;
    fuzz_seed_study(&study);
    mco_trials *db;
    mco_status st = mco_trials_open(path, &study, &db);
    fuzz_check_status(st, "mco_trials_open (resuming)");
    if (st != MCO_OK) return;
    int recovered = 0;
    fuzz_check_status(mco_trials_recover_stale(db, &recovered), "mco_trials_recover_stale");

    mco_trial t;
    mco_claim_outcome outcome;
    st = mco_trials_claim_next(db, (int)getpid(), &t, &outcome);
    fuzz_check_status(st, "mco_trials_claim_next");
    if (st == MCO_OK && outcome == MCO_CLAIM_CLAIMED) {
        mco_trial_result result;
        mco_trial_result_init(&result);
        result.accuracy = 0.5;
        result.flash_bytes = 1000;
        mco_trial_stage stage;
        mco_trial_stage_init(&stage);
        snprintf(stage.stage, sizeof stage.stage, "input");
        fuzz_check_status(mco_trials_finish(db, &t, &result, &stage, 1), "mco_trials_finish");
    }
    st = mco_trials_claim(db, "prune:sparsity=0.5", 0, 1.0, (int)getpid(), &t, &outcome);
    fuzz_check_status(st, "mco_trials_claim");
    if (st == MCO_OK && outcome == MCO_CLAIM_CLAIMED)
        fuzz_check_status(mco_trials_fail(db, &t, "fuzz"), "mco_trials_fail");
    fuzz_check_status(mco_trials_enqueue(db, "quant:int8", 1, 2.0, NULL), "mco_trials_enqueue");
    mco_trials_close(db);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_remove_temp("fuzz.db-wal");
    fuzz_remove_temp("fuzz.db-shm");
    fuzz_remove_temp("fuzz.db-journal");
    char path[1024];
    snprintf(path, sizeof path, "%s", fuzz_write_temp("fuzz.db", data, size));
    list_store(path);
    resume_store(path);
    return 0;
}
