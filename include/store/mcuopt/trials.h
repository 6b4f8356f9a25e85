/*
 * trials.h - the trial store of the adaptive search: every pipeline
 * configuration the search tries, its state and its results, kept in a
 * database so that a search that is interrupted (Ctrl-C, kill, a crash, a
 * reboot) resumes without redoing finished trials, and so that several
 * worker processes can share one search.
 *
 * Two backends behind this one interface, chosen by the address given to
 * mco_trials_open():
 *   "search.db", "sqlite:///abs/search.db"   a SQLite file: workers on one machine
 *   "postgresql://user@host:port/db?study=NAME[&lease=SECONDS]"
 *                                            a study in a PostgreSQL database:
 *                                            workers on many machines
 * Another "scheme://" is refused.
 *
 * A trial is one configuration (the pipeline text, e.g.
 * "prune:structured=0.5,criterion=l1 -> distill:T=4,alpha=0.1 -> quant:int8,per_channel")
 * at one rung of successive halving (rung 0 is the cheapest; `budget` is
 * what that rung trains with, in the search's own unit, e.g. epochs). The
 * pair (config, rung) is unique. A trial's life:
 *
 *   queued --claim--> running --finish--> done
 *                        |   --fail----> failed
 *                        |   --prune---> pruned   (stopped early or rejected)
 *                        +-- worker died, found by recover_stale or by a
 *                            later claim --> queued / running again
 *
 * done, failed and pruned are final: claiming such a trial hands back the
 * stored record, so the caller skips it.
 *
 * Workers. Each worker process opens its own handle (a handle must not be
 * used across fork()); claiming is one SQLite write transaction, so two
 * workers never get the same trial. A trial records the worker's pid and,
 * on Linux, that process's start time, so a pid reused by an unrelated
 * process (common in containers, where pids restart from 1) does not make a
 * dead worker's trial look alive. With SQLite, workers are expected on one
 * machine: the pid check means nothing across machines (and SQLite's
 * locking is not safe on network file systems anyway). With PostgreSQL a
 * claim records the machine and pid and holds a lease that the worker
 * renews with mco_trials_heartbeat(); a trial whose lease ran out counts as
 * abandoned (claimable again, and recover_stale requeues it).
 *
 * Metrics. All metric fields are doubles and NAN means "not measured" (no
 * target, no test set); in the database that is NULL. `objective` is a cost:
 * lower is better. Accuracy is a fraction 0..1.
 *
 * Errors are one line that starts with the database path (or the address,
 * without its password):
 *   "search.db: not an mcuopt trials database"
 *   "search.db: created for target stm32f405, not stm32l432"
 *
 * The schema (PRAGMA application_id 0x4D434F54 "MCOT", user_version 1) is
 * documented in src/store/trials_sqlite.c (SQLite) and
 * src/store/trials_postgres.c (PostgreSQL), where it is created.
 *
 * Example (a worker):
 *   mco_trials *db;
 *   mco_trial t;
 *   mco_claim_outcome outcome;
 *   if (mco_trials_open("search.db", &study, &db) != MCO_OK) return fail();
 *   mco_trials_recover_stale(db, NULL);                 // on resume
 *   mco_trials_claim(db, config, rung, epochs, getpid(), &t, &outcome);
 *   if (outcome == MCO_CLAIM_CLAIMED) {
 *       mco_trial_result r;
 *       mco_trial_result_init(&r);
 *       ... run the pipeline, fill r and stages ...
 *       mco_trials_finish(db, &t, &r, stages, n_stages);
 *   } else if (outcome == MCO_CLAIM_FINISHED) {
 *       use t.result (stored earlier)
 *   }
 *   mco_trials_close(db);
 *
 * What it leaves out: deleting or editing trials (the store only grows),
 * more than one study per SQLite file.
 */
#ifndef MCUOPT_TRIALS_H
#define MCUOPT_TRIALS_H

#include <stddef.h>
#include <stdint.h>

#include "mcuopt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MCO_TRIAL_CONFIG_MAX 2048      /* config text, including the NUL */
#define MCO_TRIAL_PATH_MAX 512
#define MCO_TRIAL_ERROR_MAX 256
#define MCO_TRIAL_STAGE_TEXT_MAX 256
#define MCO_TRIAL_HASH_HEX 17          /* 16 hex digits and the NUL */
#define MCO_STUDY_SETTINGS_MAX 4096

typedef struct mco_trials mco_trials;   /* an open trial store */

/* What a search is: a database belongs to one study, and reopening it with
 * different values is refused. model_path is for reports only (not
 * compared); every other field must match exactly. */
typedef struct {
    char model_hash[64];     /* identifies the input model: mco_trials_hash_file() */
    char model_path[MCO_TRIAL_PATH_MAX];
    char target[32];         /* target profile name, e.g. "stm32f405" ("" for none) */
    double min_accuracy;     /* accuracy floor, 0..1 */
    uint64_t seed;
    double budget;           /* the search's total budget, in its own unit */
    char settings[MCO_STUDY_SETTINGS_MAX];   /* anything else that must be equal to
                                                resume (search space...); may be "" */
} mco_trial_study;

typedef enum {
    MCO_TRIAL_QUEUED,
    MCO_TRIAL_RUNNING,
    MCO_TRIAL_DONE,
    MCO_TRIAL_FAILED,
    MCO_TRIAL_PRUNED
} mco_trial_state;

#define MCO_TRIAL_STATE_COUNT 5

/* What a trial produced (NAN: not measured; "" paths: none). */
typedef struct {
    double accuracy;         /* 0..1 */
    double flash_bytes;
    double ram_bytes;
    double cycles;           /* per inference, estimated */
    double latency_ms;
    double energy_uj;        /* per inference */
    double objective;        /* lower is better */
    char model_path[MCO_TRIAL_PATH_MAX];    /* the float .mco, if kept */
    char deploy_path[MCO_TRIAL_PATH_MAX];   /* the deploy .mcq, if kept */
} mco_trial_result;

typedef struct {
    int64_t id;              /* 1, 2, ... in the order trials were first seen */
    mco_trial_state state;
    char config[MCO_TRIAL_CONFIG_MAX];
    char config_hash[MCO_TRIAL_HASH_HEX];   /* mco_trials_hash_text(config) */
    int rung;
    double budget;
    int pid;                 /* worker that claimed it last (0: never claimed) */
    int attempts;            /* how often it was claimed (> 1: a worker died on it) */
    double queued_at, started_at, finished_at;   /* Unix seconds; NAN: not yet */
    mco_trial_result result;
    char error[MCO_TRIAL_ERROR_MAX];        /* why it failed or was pruned */
    int on_pareto;           /* set by mco_pareto_mark / mco_trials_pareto only */
} mco_trial;

/* The model after one stage of a trial's pipeline. */
typedef struct {
    int index;               /* 0: the input model, 1..: after stage `index` */
    char stage[MCO_TRIAL_STAGE_TEXT_MAX];
    double accuracy;         /* NAN: not measured */
    double flash_bytes;
    double ram_bytes;
    double instructions;     /* per inference */
} mco_trial_stage;

/* Which trials to look at. Zero-initialise, or mco_trial_query_init():
 * every limit 0 means "no limit". A trial with an unknown (NAN) value
 * never meets a limit on that value. */
typedef struct {
    int state;               /* an mco_trial_state, or -1 for any (list only) */
    int min_rung;
    double min_accuracy;
    double max_flash_bytes;
    double max_ram_bytes;
    double max_latency_ms;
    double max_energy_uj;
} mco_trial_query;

typedef enum {
    MCO_CLAIM_CLAIMED,   /* it is now running for the caller: run it */
    MCO_CLAIM_FINISHED,  /* done, failed or pruned earlier: skip it, the record says how */
    MCO_CLAIM_BUSY,      /* running in another live worker */
    MCO_CLAIM_NONE       /* mco_trials_claim_next only: nothing queued */
} mco_claim_outcome;

/* ---- opening -------------------------------------------------------------- */

/* Opens the store at `path` (a file or an address, see the top). With a study: creates the file if it does not
 * exist (recording the study) or checks that an existing one was created
 * for the same study (MCO_ERR_ARG naming the first field that differs).
 * With study == NULL: opens an existing store without a check (listing).
 * A file that is not an mcuopt store gives MCO_ERR_FORMAT. A file this
 * call created is removed again if the call fails (a full disk). */
mco_status mco_trials_open(const char *path, const mco_trial_study *study, mco_trials **out);
void mco_trials_close(mco_trials *db);   /* NULL is fine */

/* For a run that failed: closes the store like mco_trials_close and, if
 * this handle created the file and no trial in it is done, pruned or
 * running (nothing to resume, no other process's work), deletes it with
 * the -wal, -shm and -journal files SQLite keeps beside it. Returns 1 if
 * it deleted them. */
int mco_trials_discard(mco_trials *db);

/* The study the store was created for. */
mco_status mco_trials_study(mco_trials *db, mco_trial_study *study);

/* FNV-1a 64-bit hash as 16 lowercase hex digits: of a text, of a file's bytes. */
void mco_trials_hash_text(const char *text, char hex[MCO_TRIAL_HASH_HEX]);
mco_status mco_trials_hash_file(const char *path, char hex[MCO_TRIAL_HASH_HEX]);

/* ---- claiming and finishing ------------------------------------------------ */

typedef enum {
    MCO_ADD_NEW,      /* added as queued */
    MCO_ADD_EXISTS,   /* it was there already (in any state) */
    MCO_ADD_FULL      /* absent, and the study already holds max_trials trials */
} mco_add_outcome;

/* Adds (config, rung) as queued unless it exists, and only while the study
 * holds fewer than `max_trials` trials (0: no limit). The limit is the
 * study's, shared by every worker and every search process on the store:
 * counting and adding are one write transaction, so together they never add
 * more. *trial gets the record (NEW or EXISTS; untouched for FULL). Adding
 * the same pair with another budget is MCO_ERR_ARG. */
mco_status mco_trials_add(mco_trials *db, const char *config, int rung, double budget, int max_trials,
                          mco_trial *trial, mco_add_outcome *outcome);

/* mco_trials_add without a limit; *id (may be NULL) gets the trial's id. */
mco_status mco_trials_enqueue(mco_trials *db, const char *config, int rung, double budget,
                              int64_t *id);

/* Adds (config, rung) if absent and, in the same transaction, claims it for
 * worker `pid` if it is queued, or if it is running in a worker that is no
 * longer alive. *trial gets the record in every outcome (for FINISHED with
 * its stored result). */
mco_status mco_trials_claim(mco_trials *db, const char *config, int rung, double budget, int pid,
                            mco_trial *trial, mco_claim_outcome *outcome);

/* Claims the queued trial with the lowest rung, then lowest id, for `pid`.
 * *outcome is CLAIMED (and *trial filled) or NONE. */
mco_status mco_trials_claim_next(mco_trials *db, int pid, mco_trial *trial,
                                 mco_claim_outcome *outcome);

/* Ends a trial the caller claimed (`claimed` as claim returned it): it must
 * still be running for the same worker, else MCO_ERR_ARG (the trial was
 * taken over after this worker was thought dead). finish also stores the
 * per-stage rows (n_stages may be 0). prune's result may be NULL. The
 * message/reason is shortened to MCO_TRIAL_ERROR_MAX - 1 bytes. */
mco_status mco_trials_finish(mco_trials *db, const mco_trial *claimed, const mco_trial_result *result,
                             const mco_trial_stage *stages, int n_stages);
mco_status mco_trials_fail(mco_trials *db, const mco_trial *claimed, const char *message);
mco_status mco_trials_prune(mco_trials *db, const mco_trial *claimed, const mco_trial_result *result,
                            const char *reason);

/* Puts a trial the caller claimed and will not finish (the search is
 * stopping) back in the queue, so another worker takes it at once; nothing
 * happens if it is no longer running for the claimer. */
mco_status mco_trials_release(mco_trials *db, const mco_trial *claimed);

/* Puts running trials whose worker is gone back in the queue (call it on
 * resume). *n_recovered (may be NULL) gets how many. */
mco_status mco_trials_recover_stale(mco_trials *db, int *n_recovered);

/* Keeps this process's claims alive: with PostgreSQL, renews the lease of
 * every trial running for getpid() on this machine (at most three times a
 * lease; call it often while trials run). Nothing to do with SQLite. */
mco_status mco_trials_heartbeat(mco_trials *db);

/* 1 when the store is a database server (PostgreSQL) that workers on
 * several machines share, so a study may have workers this process knows
 * nothing of; 0 for a SQLite file (one machine). The search then learns
 * from every finished trial of the study and gives each worker its own
 * proposals (docs/search.md). */
int mco_trials_spans_machines(const mco_trials *db);

/* A trial's model file kept in the store itself, for workers on machines
 * that share no directory (PostgreSQL only: with SQLite, one machine, the
 * file is enough; MCO_ERR_ARG). put replaces what the trial had; get gives
 * a malloc'd copy (free() it), MCO_ERR_NOT_FOUND if the trial has none. */
mco_status mco_trials_put_model(mco_trials *db, int64_t id, const uint8_t *data, size_t size);
mco_status mco_trials_get_model(mco_trials *db, int64_t id, uint8_t **data, size_t *size);

/* ---- reading --------------------------------------------------------------- */

mco_status mco_trials_get(mco_trials *db, int64_t id, mco_trial *trial);   /* MCO_ERR_NOT_FOUND */

/* Trials matching `query` (NULL: all) in id order, as a malloc'd array
 * (free() it; NULL when *n == 0). */
mco_status mco_trials_list(mco_trials *db, const mco_trial_query *query, mco_trial **trials, int *n);

/* The stage rows of a trial, in stage order (free() the array). */
mco_status mco_trials_stages(mco_trials *db, int64_t id, mco_trial_stage **stages, int *n);

/* The best done trial meeting the query's limits (its `state` is ignored):
 * the lowest objective (unknown objectives last), then the highest accuracy,
 * then the lowest id. *found = 0 when no trial qualifies. */
mco_status mco_trials_best(mco_trials *db, const mco_trial_query *query, mco_trial *best, int *found);

/* The Pareto front (see mco_pareto_mark) of the done trials meeting the
 * query's limits, in order of increasing Flash (malloc'd; free() it). */
mco_status mco_trials_pareto(mco_trials *db, const mco_trial_query *query, int with_accuracy,
                             mco_trial **front, int *n);

/* ---- helpers without a database --------------------------------------------- */

/* Sets on_pareto of each trial: 1 if it is done, has an accuracy of at
 * least min_accuracy, and no other such trial is at least as good in every
 * one of Flash, RAM, latency and energy (lower is better; an unknown value
 * counts as worst) and better in one; with with_accuracy, accuracy (higher
 * is better) is a fifth objective, so a more accurate trial is kept even if
 * it costs more. Equal trials are all kept. O(n^2). */
void mco_pareto_mark(mco_trial *trials, int n, double min_accuracy, int with_accuracy);

/* 1 if `t` meets the query's state, rung and limits. */
int mco_trial_matches(const mco_trial *t, const mco_trial_query *query);

void mco_trial_query_init(mco_trial_query *query);   /* any state, no limits */
void mco_trial_result_init(mco_trial_result *result);   /* every metric NAN, no paths */
void mco_trial_stage_init(mco_trial_stage *stage);      /* index 0, no text, metrics NAN */

/* "queued", "running", "done", "failed", "pruned"; parse: MCO_ERR_ARG if unknown. */
const char *mco_trial_state_name(mco_trial_state state);
mco_status mco_trial_state_parse(const char *name, mco_trial_state *state);

#ifdef __cplusplus
}
#endif
#endif
