/*
 * trials_backend.h - inside the trial store (not installed): the handle
 * every backend shares and the table of functions a backend provides.
 * trials.c implements the public mco_trials_* calls of mcuopt/trials.h by
 * choosing a backend from the store's address and calling through its table;
 * trials_sqlite.c (a file) and trials_postgres.c (a server) are the two
 * backends. Each backend keeps the same rules: a claim is atomic, finishing
 * checks the trial still runs for the claimer, errors are one line that
 * starts with `name`.
 *
 * What it leaves out: backends chosen at run time from plug-ins (there are two,
 * both compiled in).
 */
#ifndef MCO_TRIALS_BACKEND_H
#define MCO_TRIALS_BACKEND_H

#include "mcuopt/trials.h"

struct sqlite3;
struct pg_conn;

typedef struct mco_trials_ops mco_trials_ops;

struct mco_trials {
    const mco_trials_ops *ops;
    char path[1024];           /* SQLite: the file; PostgreSQL: the address without a password */
    int created;               /* this handle created the store (the file, or the study) */
    struct sqlite3 *db;        /* SQLite backend */
    struct pg_conn *pg;        /* PostgreSQL backend */
    char study_name[128];      /* PostgreSQL: which study in the database */
    char host[256];            /* PostgreSQL: this machine's name, recorded with a claim */
    double lease_s;            /* PostgreSQL: how long a claim lives without a heartbeat */
    double last_beat;          /* PostgreSQL: when the last heartbeat was sent (monotonic s) */
};

struct mco_trials_ops {
    /* `h` is calloc'd with path set; on failure the backend frees only what it opened. */
    mco_status (*open)(mco_trials *h, const char *address, const mco_trial_study *study);
    void (*close)(mco_trials *h);   /* also frees h */
    int (*discard)(mco_trials *h);  /* also frees h */
    mco_status (*study)(mco_trials *h, mco_trial_study *study);
    mco_status (*add)(mco_trials *h, const char *config, int rung, double budget, int max_trials,
                      mco_trial *trial, mco_add_outcome *outcome);
    mco_status (*claim)(mco_trials *h, const char *config, int rung, double budget, int pid, mco_trial *trial,
                        mco_claim_outcome *outcome);
    mco_status (*claim_next)(mco_trials *h, int pid, mco_trial *trial, mco_claim_outcome *outcome);
    mco_status (*end)(mco_trials *h, const mco_trial *claimed, mco_trial_state state, const mco_trial_result *result,
                      const char *message, const mco_trial_stage *stages, int n_stages);
    mco_status (*release)(mco_trials *h, const mco_trial *claimed);
    mco_status (*recover_stale)(mco_trials *h, int *n_recovered);
    mco_status (*heartbeat)(mco_trials *h);   /* NULL: nothing to renew */
    mco_status (*get)(mco_trials *h, int64_t id, mco_trial *trial);
    mco_status (*list)(mco_trials *h, const mco_trial_query *query, mco_trial **trials, int *n);
    mco_status (*stages)(mco_trials *h, int64_t id, mco_trial_stage **stages, int *n);
    /* A trial's model file kept in the store (NULL: the store keeps none, as SQLite). */
    mco_status (*put_model)(mco_trials *h, int64_t id, const uint8_t *data, size_t size);
    mco_status (*get_model)(mco_trials *h, int64_t id, uint8_t **data, size_t *size);
};

extern const mco_trials_ops mco_trials_sqlite_ops;
extern const mco_trials_ops mco_trials_postgres_ops;

/* Shared by the backends (trials.c). */
extern const char *const mco_trial_state_names[MCO_TRIAL_STATE_COUNT];
int mco_trial_state_from_text(const char *text);   /* -1 if unknown */
double mco_trials_now(void);                       /* Unix seconds */
/* Checks a configuration before it is added: MCO_ERR_ARG/RANGE naming h->path. */
mco_status mco_trials_check_config(const mco_trials *h, const char *config, int rung, int max_trials);
/* MCO_ERR_ARG naming the first field in which `have` (stored) differs from `want`. */
mco_status mco_trials_compare_study(const mco_trials *h, const mco_trial_study *have, const mco_trial_study *want);

#endif
