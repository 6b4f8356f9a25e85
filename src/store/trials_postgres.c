/*
 * trials_postgres.c - the trial store in a PostgreSQL database (see
 * mcuopt/trials.h and trials_backend.h), so that workers on several
 * machines share one study. Reached through libpq with an address
 *
 *   postgresql://user@host:port/db?study=NAME[&lease=SECONDS][&other libpq parameters]
 *
 * (a Unix socket directory goes in host=/dir). study names the study inside
 * the database (required: one database holds many studies); lease is how
 * long a claim lives without a heartbeat (default 60 s). Everything else is
 * handed to libpq as it is; connect_timeout defaults to 10 s.
 *
 * Schema (created on first use, under an advisory lock so that workers
 * starting together do not race; every table is shared by all studies):
 *
 *   mcuopt_studies  one row per study: name (primary key), model_hash,
 *                   model_path, target, min_accuracy, seed, budget, settings,
 *                   created_at, schema_version (1)
 *   mcuopt_trials   one row per (study, config, rung): the columns of the
 *                   SQLite store's trials table, plus host (the claimer's
 *                   machine) and lease_until (server time, Unix seconds) in
 *                   place of pid_start. Ids count 1, 2, ... per study.
 *   mcuopt_stages   (study, trial_id, stage_index) -> the stage rows
 *   mcuopt_models   (study, trial_id) -> the trial's model file (bytea), for
 *                   workers that share no directory (added later: CREATE
 *                   TABLE IF NOT EXISTS at every open gives older databases
 *                   the table, so it needs no migration)
 *
 * Claims and leases. A pid says nothing on another machine, so a claim
 * records host and pid and a lease: lease_until = server now + lease. The
 * worker renews the leases of its running trials with mco_trials_heartbeat()
 * (the search driver calls it while it waits for its trial processes); a
 * worker that dies stops renewing, and once its lease runs out the trial is
 * claimable again (by a claim of the same configuration, by claim_next, and
 * recover_stale puts it back in the queue). claim_next takes the next row
 * with SELECT ... FOR UPDATE SKIP LOCKED, so workers never wait on one
 * another's claims. Adding a trial locks the study row first: the per-study
 * id and the max_trials count are then exact across workers. Finishing
 * checks that the trial still runs for the same host and pid.
 *
 * Times: queued/started/finished are the worker's clock (as in the SQLite
 * store); lease times are the server's clock, so machines need not agree.
 *
 * A lost connection (the server restarted, a network cut) is reconnected:
 * a call that fails on a broken connection waits for the server (once a
 * second, up to a minute) and is made again (see RETRY for the one case
 * where that is not the same as the first try).
 *
 * What it leaves out: schema migrations, TLS settings beyond what libpq
 * reads from the address and the environment, connection pooling.
 */
#include "trials_backend.h"

#include <libpq-fe.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PG_SCHEMA_VERSION 1
#define PG_LOCK_KEY 1296257876      /* "MCOT": the advisory lock for creating tables */
#define PG_DEFAULT_LEASE_S 60.0
#define PG_MAX_PARAMS 20
#define NOW_SQL "EXTRACT(EPOCH FROM clock_timestamp())::float8"

static const char *const schema_sql[] = {
    "CREATE TABLE IF NOT EXISTS mcuopt_studies ("
    " name TEXT PRIMARY KEY, model_hash TEXT NOT NULL, model_path TEXT NOT NULL, target TEXT NOT NULL,"
    " min_accuracy DOUBLE PRECISION NOT NULL, seed BIGINT NOT NULL, budget DOUBLE PRECISION NOT NULL,"
    " settings TEXT NOT NULL, created_at DOUBLE PRECISION NOT NULL, schema_version INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS mcuopt_trials ("
    " study TEXT NOT NULL REFERENCES mcuopt_studies (name) ON DELETE CASCADE, id BIGINT NOT NULL,"
    " config TEXT NOT NULL, config_hash TEXT NOT NULL, rung INTEGER NOT NULL, budget DOUBLE PRECISION NOT NULL,"
    " state TEXT NOT NULL CHECK (state IN ('queued','running','done','failed','pruned')),"
    " pid INTEGER NOT NULL DEFAULT 0, host TEXT NOT NULL DEFAULT '', lease_until DOUBLE PRECISION,"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " queued_at DOUBLE PRECISION, started_at DOUBLE PRECISION, finished_at DOUBLE PRECISION,"
    " accuracy DOUBLE PRECISION, flash_bytes DOUBLE PRECISION, ram_bytes DOUBLE PRECISION,"
    " cycles DOUBLE PRECISION, latency_ms DOUBLE PRECISION, energy_uj DOUBLE PRECISION,"
    " objective DOUBLE PRECISION, error TEXT, model_path TEXT, deploy_path TEXT,"
    " PRIMARY KEY (study, id), UNIQUE (study, config_hash, rung))",
    "CREATE INDEX IF NOT EXISTS mcuopt_trials_by_state ON mcuopt_trials (study, state)",
    "CREATE TABLE IF NOT EXISTS mcuopt_stages ("
    " study TEXT NOT NULL, trial_id BIGINT NOT NULL, stage_index INTEGER NOT NULL, stage TEXT NOT NULL,"
    " accuracy DOUBLE PRECISION, flash_bytes DOUBLE PRECISION, ram_bytes DOUBLE PRECISION,"
    " instructions DOUBLE PRECISION, PRIMARY KEY (study, trial_id, stage_index),"
    " FOREIGN KEY (study, trial_id) REFERENCES mcuopt_trials (study, id) ON DELETE CASCADE)",
    "CREATE TABLE IF NOT EXISTS mcuopt_models ("
    " study TEXT NOT NULL, trial_id BIGINT NOT NULL, data BYTEA NOT NULL, PRIMARY KEY (study, trial_id),"
    " FOREIGN KEY (study, trial_id) REFERENCES mcuopt_trials (study, id) ON DELETE CASCADE)",
};

/* The columns read_trial() expects, in its order; the last says whether a
 * running trial's lease has run out. */
#define TRIAL_COLUMNS                                                                        \
    "id, state, config, config_hash, rung, budget, pid, attempts, queued_at, started_at, " \
    "finished_at, accuracy, flash_bytes, ram_bytes, cycles, latency_ms, energy_uj, "       \
    "objective, model_path, deploy_path, error, "                                          \
    "(state = 'running' AND (lease_until IS NULL OR lease_until < " NOW_SQL ")) AS expired"

/* ---- parameters and statements ---------------------------------------------------- */

/* Values for $1, $2, ... as text (libpq's text format); NULL is SQL NULL. */
typedef struct {
    int n;
    const char *value[PG_MAX_PARAMS];
    char number[PG_MAX_PARAMS][40];
} params;

static void p_text(params *p, const char *text)
{
    p->value[p->n++] = text;
}

static void p_text_or_null(params *p, const char *text)
{
    p->value[p->n++] = text && text[0] ? text : NULL;
}

static void p_num(params *p, double value)
{
    if (isnan(value)) {
        p->value[p->n++] = NULL;
        return;
    }
    snprintf(p->number[p->n], sizeof p->number[p->n], "%.17g", value);
    p->value[p->n] = p->number[p->n];
    p->n++;
}

static void p_int(params *p, int64_t value)
{
    snprintf(p->number[p->n], sizeof p->number[p->n], "%lld", (long long)value);
    p->value[p->n] = p->number[p->n];
    p->n++;
}

/* The study name and this worker, the first parameters of most statements. */
static void p_study(params *p, const mco_trials *h)
{
    p->n = 0;
    p_text(p, h->study_name);
}

/* libpq's message as one line (it may hold several, and ends in a newline). */
static mco_status pg_error(const mco_trials *h, const char *what, const char *message)
{
    char line[512];
    snprintf(line, sizeof line, "%s", message && message[0] ? message : "unknown error");
    line[strcspn(line, "\r\n")] = '\0';
    return mco_error(MCO_ERR_IO, "%s: %s: %s", h->path, what, line);
}

/* Runs `sql` with the parameters; *out (may be NULL) gets the result to
 * PQclear(). `what` names the statement in messages. */
static mco_status pg_run(mco_trials *h, const char *sql, const params *p, PGresult **out, const char *what)
{
    if (out) *out = NULL;
    PGresult *res = PQexecParams(h->pg, sql, p ? p->n : 0, NULL, p ? p->value : NULL, NULL, NULL, 0);
    ExecStatusType status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        mco_status st = pg_error(h, what, res ? PQresultErrorMessage(res) : PQerrorMessage(h->pg));
        PQclear(res);
        return st;
    }
    if (out) *out = res;
    else PQclear(res);
    return MCO_OK;
}

/* Rows changed by the statement that made `res`. */
static int changed_rows(PGresult *res)
{
    return atoi(PQcmdTuples(res));
}

static double cell_number(PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NAN : strtod(PQgetvalue(res, row, col), NULL);
}

static void cell_text(PGresult *res, int row, int col, char *out, size_t size)
{
    snprintf(out, size, "%s", PQgetisnull(res, row, col) ? "" : PQgetvalue(res, row, col));
}

static mco_status begin(mco_trials *h)
{
    return pg_run(h, "BEGIN", NULL, NULL, "starting a transaction");
}

/* Commits if st is MCO_OK, else rolls back keeping st's message. */
static mco_status end(mco_trials *h, mco_status st)
{
    if (st == MCO_OK) {
        st = pg_run(h, "COMMIT", NULL, NULL, "committing");
        if (st == MCO_OK) return MCO_OK;
    }
    char message[512];
    snprintf(message, sizeof message, "%s", mco_last_error());
    PGresult *res = PQexec(h->pg, "ROLLBACK");
    PQclear(res);
    return mco_error(st, "%s", message);
}

static double monotonic_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- opening ----------------------------------------------------------------------- */

/* Splits the address's query into our parameters (study, lease) and the
 * ones for libpq; writes the libpq address to conninfo. */
static mco_status parse_address(mco_trials *h, const char *address, char *conninfo, size_t size)
{
    const char *query = strchr(address, '?');
    size_t base = query ? (size_t)(query - address) : strlen(address);
    if (base + 32 >= size) return mco_error(MCO_ERR_ARG, "%s: address too long", h->path);
    memcpy(conninfo, address, base);
    size_t used = base;
    int n_kept = 0, has_timeout = 0;
    h->lease_s = PG_DEFAULT_LEASE_S;
    const char *p = query ? query + 1 : "";
    while (*p) {
        size_t len = strcspn(p, "&");
        char item[512];
        if (len >= sizeof item) return mco_error(MCO_ERR_ARG, "%s: address parameter too long", h->path);
        memcpy(item, p, len);
        item[len] = '\0';
        p += len + (p[len] == '&');
        if (!item[0]) continue;
        if (strncmp(item, "study=", 6) == 0) {
            const char *name = item + 6;
            if (!name[0] || strlen(name) >= sizeof h->study_name)
                return mco_error(MCO_ERR_ARG, "%s: study name must be 1 to %zu characters", h->path,
                                 sizeof h->study_name - 1);
            snprintf(h->study_name, sizeof h->study_name, "%s", name);
        } else if (strncmp(item, "lease=", 6) == 0) {
            char *stop;
            double lease = strtod(item + 6, &stop);
            if (stop == item + 6 || *stop || !(lease >= 1.0 && lease <= 86400.0))
                return mco_error(MCO_ERR_ARG, "%s: lease must be 1 to 86400 seconds, got '%s'", h->path, item + 6);
            h->lease_s = lease;
        } else {
            has_timeout |= strncmp(item, "connect_timeout=", 16) == 0;
            if (used + len + 2 >= size) return mco_error(MCO_ERR_ARG, "%s: address too long", h->path);
            conninfo[used++] = n_kept++ ? '&' : '?';
            memcpy(conninfo + used, item, len);
            used += len;
        }
    }
    if (!has_timeout) {
        const char *timeout = "connect_timeout=10";
        if (used + strlen(timeout) + 2 >= size) return mco_error(MCO_ERR_ARG, "%s: address too long", h->path);
        conninfo[used++] = n_kept++ ? '&' : '?';
        memcpy(conninfo + used, timeout, strlen(timeout));
        used += strlen(timeout);
    }
    conninfo[used] = '\0';
    if (!h->study_name[0])
        return mco_error(MCO_ERR_ARG, "%s: no study named (add ?study=NAME to the address)", h->path);
    return MCO_OK;
}

static mco_status pg_study(mco_trials *h, mco_trial_study *s)
{
    memset(s, 0, sizeof *s);
    params p;
    p_study(&p, h);
    PGresult *res;
    mco_status st = pg_run(h,
                           "SELECT model_hash, model_path, target, min_accuracy, seed, budget, settings"
                           " FROM mcuopt_studies WHERE name = $1",
                           &p, &res, "reading the study");
    if (st != MCO_OK) return st;
    if (PQntuples(res) == 1) {
        cell_text(res, 0, 0, s->model_hash, sizeof s->model_hash);
        cell_text(res, 0, 1, s->model_path, sizeof s->model_path);
        cell_text(res, 0, 2, s->target, sizeof s->target);
        s->min_accuracy = cell_number(res, 0, 3);
        s->seed = (uint64_t)strtoll(PQgetvalue(res, 0, 4), NULL, 10);
        s->budget = cell_number(res, 0, 5);
        cell_text(res, 0, 6, s->settings, sizeof s->settings);
    } else {
        st = mco_error(MCO_ERR_NOT_FOUND, "%s: no study '%s' in this database", h->path, h->study_name);
    }
    PQclear(res);
    return st;
}

/* Creates the tables (if absent) and the study row (if absent). */
static mco_status create_study(mco_trials *h, const mco_trial_study *s)
{
    mco_status st = begin(h);
    if (st != MCO_OK) return st;
    params p = {0};
    p_int(&p, PG_LOCK_KEY);
    st = pg_run(h, "SELECT pg_advisory_xact_lock($1::bigint)", &p, NULL, "locking the schema");
    for (size_t i = 0; st == MCO_OK && i < sizeof schema_sql / sizeof schema_sql[0]; i++)
        st = pg_run(h, schema_sql[i], NULL, NULL, "creating the tables");
    if (st == MCO_OK) {
        p_study(&p, h);
        p_text(&p, s->model_hash);
        p_text(&p, s->model_path);
        p_text(&p, s->target);
        p_num(&p, s->min_accuracy);
        p_int(&p, (int64_t)s->seed);
        p_num(&p, s->budget);
        p_text(&p, s->settings);
        p_num(&p, mco_trials_now());
        p_int(&p, PG_SCHEMA_VERSION);
        PGresult *res;
        st = pg_run(h,
                    "INSERT INTO mcuopt_studies (name, model_hash, model_path, target, min_accuracy, seed, budget,"
                    " settings, created_at, schema_version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
                    " ON CONFLICT (name) DO NOTHING",
                    &p, &res, "recording the study");
        if (st == MCO_OK) {
            h->created = changed_rows(res) == 1;
            PQclear(res);
        }
    }
    return end(h, st);
}

/* For listing: the tables and the study must exist. */
static mco_status check_exists(mco_trials *h)
{
    PGresult *res;
    mco_status st = pg_run(h, "SELECT to_regclass('mcuopt_studies') IS NOT NULL", NULL, &res, "looking for the tables");
    if (st != MCO_OK) return st;
    int present = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (!present)
        return mco_error(MCO_ERR_FORMAT, "%s: not an mcuopt trials database (no mcuopt_studies table)", h->path);
    mco_trial_study s;
    return pg_study(h, &s);
}

static mco_status pg_open(mco_trials *h, const char *address, const mco_trial_study *study)
{
    char conninfo[2048];
    mco_status st = parse_address(h, address, conninfo, sizeof conninfo);
    if (st != MCO_OK) return st;
    if (gethostname(h->host, sizeof h->host) != 0) snprintf(h->host, sizeof h->host, "unknown");
    h->host[sizeof h->host - 1] = '\0';
    h->pg = PQconnectdb(conninfo);
    if (!h->pg) return mco_error(MCO_ERR_NOMEM, "%s: out of memory", h->path);
    if (PQstatus(h->pg) != CONNECTION_OK) {
        st = pg_error(h, "cannot connect", PQerrorMessage(h->pg));
    } else {
        PGresult *res = PQexec(h->pg, "SET client_min_messages = warning");   /* no NOTICE lines on stderr */
        PQclear(res);
        if (study) {
            st = create_study(h, study);
            mco_trial_study have;
            if (st == MCO_OK) st = pg_study(h, &have);
            if (st == MCO_OK) st = mco_trials_compare_study(h, &have, study);
        } else {
            st = check_exists(h);
        }
    }
    if (st != MCO_OK) {
        PQfinish(h->pg);
        h->pg = NULL;
    }
    return st;
}

static void pg_close(mco_trials *h)
{
    PQfinish(h->pg);
    free(h);
}

static int pg_discard(mco_trials *h)
{
    int removed = 0;
    if (h->created) {
        params p;
        p_study(&p, h);
        PGresult *res;
        /* One statement: deletes the study only if nothing in it can be resumed. */
        if (pg_run(h,
                   "DELETE FROM mcuopt_studies WHERE name = $1 AND NOT EXISTS (SELECT 1 FROM mcuopt_trials"
                   " WHERE study = $1 AND state IN ('done', 'pruned', 'running'))",
                   &p, &res, "discarding the study") == MCO_OK) {
            removed = changed_rows(res) == 1;
            PQclear(res);
        } else {
            mco_clear_error();
        }
    }
    pg_close(h);
    return removed;
}

/* ---- reading trials ------------------------------------------------------------------- */

static void read_trial(PGresult *res, int row, mco_trial *t, int *expired)
{
    memset(t, 0, sizeof *t);
    t->id = strtoll(PQgetvalue(res, row, 0), NULL, 10);
    int s = mco_trial_state_from_text(PQgetvalue(res, row, 1));
    t->state = s < 0 ? MCO_TRIAL_FAILED : (mco_trial_state)s;   /* the CHECK constraint rules this out */
    cell_text(res, row, 2, t->config, sizeof t->config);
    cell_text(res, row, 3, t->config_hash, sizeof t->config_hash);
    t->rung = atoi(PQgetvalue(res, row, 4));
    t->budget = cell_number(res, row, 5);
    t->pid = atoi(PQgetvalue(res, row, 6));
    t->attempts = atoi(PQgetvalue(res, row, 7));
    t->queued_at = cell_number(res, row, 8);
    t->started_at = cell_number(res, row, 9);
    t->finished_at = cell_number(res, row, 10);
    mco_trial_result *r = &t->result;
    r->accuracy = cell_number(res, row, 11);
    r->flash_bytes = cell_number(res, row, 12);
    r->ram_bytes = cell_number(res, row, 13);
    r->cycles = cell_number(res, row, 14);
    r->latency_ms = cell_number(res, row, 15);
    r->energy_uj = cell_number(res, row, 16);
    r->objective = cell_number(res, row, 17);
    cell_text(res, row, 18, r->model_path, sizeof r->model_path);
    cell_text(res, row, 19, r->deploy_path, sizeof r->deploy_path);
    cell_text(res, row, 20, t->error, sizeof t->error);
    if (expired) *expired = strcmp(PQgetvalue(res, row, 21), "t") == 0;
}

/* The trial with `id` (its row locked FOR UPDATE with lock != 0, inside a
 * transaction); MCO_ERR_NOT_FOUND if there is none. */
static mco_status get_trial(mco_trials *h, int64_t id, mco_trial *t, int *expired)
{
    params p;
    p_study(&p, h);
    p_int(&p, id);
    PGresult *res;
    mco_status st = pg_run(h, "SELECT " TRIAL_COLUMNS " FROM mcuopt_trials WHERE study = $1 AND id = $2", &p, &res,
                           "reading a trial");
    if (st != MCO_OK) return st;
    if (PQntuples(res) == 1) read_trial(res, 0, t, expired);
    else st = mco_error(MCO_ERR_NOT_FOUND, "%s: no trial %lld", h->path, (long long)id);
    PQclear(res);
    return st;
}

static mco_status pg_get(mco_trials *h, int64_t id, mco_trial *trial)
{
    return get_trial(h, id, trial, NULL);
}

static mco_status pg_list(mco_trials *h, const mco_trial_query *query, mco_trial **trials, int *n)
{
    *trials = NULL;
    *n = 0;
    mco_trial_query all;
    mco_trial_query_init(&all);
    if (!query) query = &all;
    params p;
    p_study(&p, h);
    p_text(&p, query->state >= 0 && query->state < MCO_TRIAL_STATE_COUNT ? mco_trial_state_names[query->state] : "");
    p_int(&p, query->min_rung);
    PGresult *res;
    mco_status st = pg_run(h,
                           "SELECT " TRIAL_COLUMNS " FROM mcuopt_trials WHERE study = $1"
                           " AND ($2::text = '' OR state = $2::text) AND rung >= $3 ORDER BY id",
                           &p, &res, "listing trials");
    if (st != MCO_OK) return st;
    int rows = PQntuples(res), kept = 0;
    mco_trial *list = rows ? malloc((size_t)rows * sizeof *list) : NULL;
    if (rows && !list) st = mco_error(MCO_ERR_NOMEM, "%s: out of memory listing trials", h->path);
    for (int i = 0; st == MCO_OK && i < rows; i++) {
        read_trial(res, i, &list[kept], NULL);
        kept += mco_trial_matches(&list[kept], query);
    }
    PQclear(res);
    if (st != MCO_OK || kept == 0) {
        free(list);
        return st;
    }
    *trials = list;
    *n = kept;
    return MCO_OK;
}

static mco_status pg_stages(mco_trials *h, int64_t id, mco_trial_stage **stages, int *n)
{
    *stages = NULL;
    *n = 0;
    params p;
    p_study(&p, h);
    p_int(&p, id);
    PGresult *res;
    mco_status st = pg_run(h,
                           "SELECT stage_index, stage, accuracy, flash_bytes, ram_bytes, instructions"
                           " FROM mcuopt_stages WHERE study = $1 AND trial_id = $2 ORDER BY stage_index",
                           &p, &res, "reading stages");
    if (st != MCO_OK) return st;
    int rows = PQntuples(res);
    mco_trial_stage *list = rows ? malloc((size_t)rows * sizeof *list) : NULL;
    if (rows && !list) st = mco_error(MCO_ERR_NOMEM, "%s: out of memory reading stages", h->path);
    for (int i = 0; st == MCO_OK && i < rows; i++) {
        mco_trial_stage *s = &list[i];
        s->index = atoi(PQgetvalue(res, i, 0));
        cell_text(res, i, 1, s->stage, sizeof s->stage);
        s->accuracy = cell_number(res, i, 2);
        s->flash_bytes = cell_number(res, i, 3);
        s->ram_bytes = cell_number(res, i, 4);
        s->instructions = cell_number(res, i, 5);
    }
    PQclear(res);
    if (st != MCO_OK || rows == 0) {
        free(list);
        return st;
    }
    *stages = list;
    *n = rows;
    return MCO_OK;
}

/* ---- model files kept in the database ------------------------------------------- */

/* Stores a trial's model file as bytea, sent in bytea's hex text form. */
static mco_status pg_put_model(mco_trials *h, int64_t id, const uint8_t *data, size_t size)
{
    static const char digits[] = "0123456789abcdef";
    char *hex = malloc(2 * size + 3);
    if (!hex) return mco_error(MCO_ERR_NOMEM, "%s: out of memory storing a model", h->path);
    hex[0] = '\\';
    hex[1] = 'x';
    for (size_t i = 0; i < size; i++) {
        hex[2 + 2 * i] = digits[data[i] >> 4];
        hex[3 + 2 * i] = digits[data[i] & 15];
    }
    hex[2 + 2 * size] = '\0';
    params p;
    p_study(&p, h);
    p_int(&p, id);
    p_text(&p, hex);
    mco_status st = pg_run(h,
                           "INSERT INTO mcuopt_models (study, trial_id, data) VALUES ($1, $2, $3::bytea)"
                           " ON CONFLICT (study, trial_id) DO UPDATE SET data = EXCLUDED.data",
                           &p, NULL, "storing a model");
    free(hex);
    return st;
}

static mco_status pg_get_model(mco_trials *h, int64_t id, uint8_t **data, size_t *size)
{
    params p;
    p_study(&p, h);
    p_int(&p, id);
    PGresult *res;
    mco_status st = pg_run(h, "SELECT data FROM mcuopt_models WHERE study = $1 AND trial_id = $2", &p, &res,
                           "reading a model");
    if (st != MCO_OK) return st;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return mco_error(MCO_ERR_NOT_FOUND, "%s: trial %lld has no model in the database", h->path, (long long)id);
    }
    size_t n = 0;
    unsigned char *raw = PQunescapeBytea((const unsigned char *)PQgetvalue(res, 0, 0), &n);
    PQclear(res);
    if (!raw) return mco_error(MCO_ERR_NOMEM, "%s: out of memory reading a model", h->path);
    *data = malloc(n + 1);
    if (*data) {
        if (n) memcpy(*data, raw, n);
        *size = n;
    }
    PQfreemem(raw);
    return *data ? MCO_OK : mco_error(MCO_ERR_NOMEM, "%s: out of memory reading a model", h->path);
}

/* ---- adding and claiming ----------------------------------------------------------- */

/* Locks the study row: adds and id numbering are then one at a time. Inside a transaction. */
static mco_status lock_study(mco_trials *h)
{
    params p;
    p_study(&p, h);
    PGresult *res;
    mco_status st = pg_run(h, "SELECT 1 FROM mcuopt_studies WHERE name = $1 FOR UPDATE", &p, &res, "locking the study");
    if (st != MCO_OK) return st;
    int found = PQntuples(res) == 1;
    PQclear(res);
    return found ? MCO_OK : mco_error(MCO_ERR_NOT_FOUND, "%s: the study '%s' was deleted", h->path, h->study_name);
}

/* As the SQLite store's insert_if_absent: adds (config, rung) as queued if
 * absent and the study holds fewer than max_trials (0: no limit), then
 * reads the row back, locked. Inside a transaction, after lock_study(). */
static mco_status insert_if_absent(mco_trials *h, const char *config, int rung, double budget, int max_trials,
                                   mco_trial *t, int *expired, mco_add_outcome *outcome)
{
    mco_status st = mco_trials_check_config(h, config, rung, max_trials);
    if (st != MCO_OK) return st;
    char hash[MCO_TRIAL_HASH_HEX];
    mco_trials_hash_text(config, hash);
    params p;
    p_study(&p, h);
    p_text(&p, config);
    p_text(&p, hash);
    p_int(&p, rung);
    p_num(&p, budget);
    p_num(&p, mco_trials_now());
    p_int(&p, max_trials > 0 ? max_trials : INT64_MAX);
    PGresult *res;
    st = pg_run(h,
                "INSERT INTO mcuopt_trials (study, id, config, config_hash, rung, budget, state, queued_at)"
                " SELECT $1::text, coalesce(max(id), 0) + 1, $2::text, $3::text, $4::int, $5::float8, 'queued',"
                " $6::float8"
                " FROM mcuopt_trials WHERE study = $1 HAVING count(*) < $7::bigint"
                " ON CONFLICT (study, config_hash, rung) DO NOTHING",
                &p, &res, "adding a trial");
    if (st != MCO_OK) return st;
    int added = changed_rows(res) == 1;
    PQclear(res);

    p_study(&p, h);
    p_text(&p, hash);
    p_int(&p, rung);
    st = pg_run(h,
                "SELECT " TRIAL_COLUMNS " FROM mcuopt_trials WHERE study = $1 AND config_hash = $2 AND rung = $3"
                " FOR UPDATE",
                &p, &res, "reading a trial back");
    if (st != MCO_OK) return st;
    mco_trial *found = malloc(sizeof *found);
    if (!found) {
        PQclear(res);
        return mco_error(MCO_ERR_NOMEM, "%s: out of memory", h->path);
    }
    int present = PQntuples(res) == 1, found_expired = 0;
    if (present) read_trial(res, 0, found, &found_expired);
    PQclear(res);
    if (!present) {   /* absent, and not added: the study is full */
        if (outcome) *outcome = MCO_ADD_FULL;
    } else if (strcmp(found->config, config) != 0) {
        st = mco_error(MCO_ERR_FORMAT, "%s: configurations '%s' and '%s' have the same hash %s", h->path,
                       found->config, config, hash);
    } else if (found->budget != budget) {
        st = mco_error(MCO_ERR_ARG, "%s: trial %lld (rung %d) was queued with budget %g, not %g", h->path,
                       (long long)found->id, rung, found->budget, budget);
    } else {
        *t = *found;
        if (expired) *expired = found_expired;
        if (outcome) *outcome = added ? MCO_ADD_NEW : MCO_ADD_EXISTS;
    }
    free(found);
    return st;
}

static mco_status pg_add(mco_trials *h, const char *config, int rung, double budget, int max_trials, mco_trial *trial,
                         mco_add_outcome *outcome)
{
    mco_status st = begin(h);
    if (st != MCO_OK) return st;
    st = lock_study(h);
    if (st == MCO_OK) st = insert_if_absent(h, config, rung, budget, max_trials, trial, NULL, outcome);
    return end(h, st);
}

/* Marks trial `id` running for (host, pid) with a fresh lease and reads it back. */
static mco_status mark_running(mco_trials *h, int64_t id, int pid, mco_trial *t)
{
    params p;
    p_study(&p, h);
    p_int(&p, id);
    p_int(&p, pid);
    p_text(&p, h->host);
    p_num(&p, h->lease_s);
    p_num(&p, mco_trials_now());
    mco_status st = pg_run(h,
                           "UPDATE mcuopt_trials SET state = 'running', pid = $3, host = $4,"
                           " lease_until = " NOW_SQL " + $5, attempts = attempts + 1, started_at = $6,"
                           " finished_at = NULL, error = NULL WHERE study = $1 AND id = $2",
                           &p, NULL, "claiming a trial");
    return st == MCO_OK ? get_trial(h, id, t, NULL) : st;
}

static mco_status pg_claim(mco_trials *h, const char *config, int rung, double budget, int pid, mco_trial *trial,
                           mco_claim_outcome *outcome)
{
    mco_status st = begin(h);
    if (st != MCO_OK) return st;
    int expired = 0;
    st = lock_study(h);
    if (st == MCO_OK) st = insert_if_absent(h, config, rung, budget, 0, trial, &expired, NULL);
    if (st == MCO_OK) {
        if (trial->state == MCO_TRIAL_QUEUED || (trial->state == MCO_TRIAL_RUNNING && expired)) {
            st = mark_running(h, trial->id, pid, trial);
            *outcome = MCO_CLAIM_CLAIMED;
        } else {
            *outcome = trial->state == MCO_TRIAL_RUNNING ? MCO_CLAIM_BUSY : MCO_CLAIM_FINISHED;
        }
    }
    return end(h, st);
}

static mco_status pg_claim_next(mco_trials *h, int pid, mco_trial *trial, mco_claim_outcome *outcome)
{
    *outcome = MCO_CLAIM_NONE;
    mco_status st = begin(h);
    if (st != MCO_OK) return st;
    params p;
    p_study(&p, h);
    PGresult *res;
    st = pg_run(h,
                "SELECT id FROM mcuopt_trials WHERE study = $1 AND (state = 'queued' OR (state = 'running'"
                " AND (lease_until IS NULL OR lease_until < " NOW_SQL "))) ORDER BY rung, id LIMIT 1"
                " FOR UPDATE SKIP LOCKED",
                &p, &res, "finding a queued trial");
    if (st == MCO_OK) {
        int64_t id = PQntuples(res) == 1 ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : 0;
        PQclear(res);
        if (id > 0) {
            st = mark_running(h, id, pid, trial);
            if (st == MCO_OK) *outcome = MCO_CLAIM_CLAIMED;
        }
    }
    return end(h, st);
}

/* ---- finishing ------------------------------------------------------------------- */

static mco_status insert_stages(mco_trials *h, int64_t id, const mco_trial_stage *stages, int n)
{
    params p;
    p_study(&p, h);
    p_int(&p, id);
    mco_status st = pg_run(h, "DELETE FROM mcuopt_stages WHERE study = $1 AND trial_id = $2", &p, NULL,
                           "replacing stage rows");
    for (int i = 0; st == MCO_OK && i < n; i++) {
        const mco_trial_stage *s = &stages[i];
        p_study(&p, h);
        p_int(&p, id);
        p_int(&p, s->index);
        p_text(&p, s->stage);
        p_num(&p, s->accuracy);
        p_num(&p, s->flash_bytes);
        p_num(&p, s->ram_bytes);
        p_num(&p, s->instructions);
        st = pg_run(h,
                    "INSERT INTO mcuopt_stages (study, trial_id, stage_index, stage, accuracy, flash_bytes,"
                    " ram_bytes, instructions) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    &p, NULL, "storing a stage row");
    }
    return st;
}

static mco_status pg_end(mco_trials *h, const mco_trial *claimed, mco_trial_state state, const mco_trial_result *result,
                         const char *message, const mco_trial_stage *stages, int n_stages)
{
    mco_trial_result none;
    mco_trial_result_init(&none);
    if (!result) result = &none;
    char error[MCO_TRIAL_ERROR_MAX];
    snprintf(error, sizeof error, "%s", message ? message : "");

    mco_status st = begin(h);
    if (st != MCO_OK) return st;
    params p;
    p_study(&p, h);
    p_int(&p, claimed->id);
    p_int(&p, claimed->pid);
    p_text(&p, h->host);
    p_text(&p, mco_trial_state_names[state]);
    p_num(&p, mco_trials_now());
    p_text_or_null(&p, error);
    p_num(&p, result->accuracy);
    p_num(&p, result->flash_bytes);
    p_num(&p, result->ram_bytes);
    p_num(&p, result->cycles);
    p_num(&p, result->latency_ms);
    p_num(&p, result->energy_uj);
    p_num(&p, result->objective);
    p_text_or_null(&p, result->model_path);
    p_text_or_null(&p, result->deploy_path);
    PGresult *res;
    st = pg_run(h,
                "UPDATE mcuopt_trials SET state = $5, finished_at = $6, error = $7, accuracy = $8,"
                " flash_bytes = $9, ram_bytes = $10, cycles = $11, latency_ms = $12, energy_uj = $13,"
                " objective = $14, model_path = $15, deploy_path = $16, lease_until = NULL"
                " WHERE study = $1 AND id = $2 AND state = 'running' AND pid = $3 AND host = $4",
                &p, &res, "finishing a trial");
    if (st == MCO_OK) {
        int changed = changed_rows(res);
        PQclear(res);
        if (changed == 1) {
            if (state == MCO_TRIAL_DONE) st = insert_stages(h, claimed->id, stages, n_stages);
        } else {
            mco_trial *now = malloc(sizeof *now);
            st = now ? get_trial(h, claimed->id, now, NULL) : mco_error(MCO_ERR_NOMEM, "%s: out of memory", h->path);
            if (st == MCO_OK)
                st = mco_error(MCO_ERR_ARG, "%s: trial %lld is not running for worker %d on %s (it is %s, worker %d)",
                               h->path, (long long)claimed->id, claimed->pid, h->host,
                               mco_trial_state_names[now->state], now->pid);
            free(now);
        }
    }
    return end(h, st);
}

static mco_status pg_release(mco_trials *h, const mco_trial *claimed)
{
    params p;
    p_study(&p, h);
    p_int(&p, claimed->id);
    p_int(&p, claimed->pid);
    p_text(&p, h->host);
    return pg_run(h,
                  "UPDATE mcuopt_trials SET state = 'queued', started_at = NULL, lease_until = NULL"
                  " WHERE study = $1 AND id = $2 AND state = 'running' AND pid = $3 AND host = $4",
                  &p, NULL, "putting a trial back in the queue");
}

static mco_status pg_recover_stale(mco_trials *h, int *n_recovered)
{
    if (n_recovered) *n_recovered = 0;
    params p;
    p_study(&p, h);
    PGresult *res;
    mco_status st = pg_run(h,
                           "UPDATE mcuopt_trials SET state = 'queued', started_at = NULL, lease_until = NULL"
                           " WHERE study = $1 AND state = 'running'"
                           " AND (lease_until IS NULL OR lease_until < " NOW_SQL ")",
                           &p, &res, "putting expired trials back in the queue");
    if (st != MCO_OK) return st;
    if (n_recovered) *n_recovered = changed_rows(res);
    PQclear(res);
    return MCO_OK;
}

/* Renews the leases of this process's running trials, at most three times a lease. */
static mco_status pg_heartbeat(mco_trials *h)
{
    double now = monotonic_s();
    if (h->last_beat > 0 && now - h->last_beat < h->lease_s / 3.0) return MCO_OK;
    params p;
    p_study(&p, h);
    p_int(&p, (int64_t)getpid());
    p_text(&p, h->host);
    p_num(&p, h->lease_s);
    mco_status st = pg_run(h,
                           "UPDATE mcuopt_trials SET lease_until = " NOW_SQL " + $4"
                           " WHERE study = $1 AND state = 'running' AND pid = $2 AND host = $3",
                           &p, NULL, "renewing leases");
    if (st == MCO_OK) h->last_beat = now;
    return st;
}

/* ---- surviving a server restart ------------------------------------------------------ */

#define PG_RECONNECT_S 60     /* how long a lost server is waited for */
#define PG_MAX_RECONNECTS 3   /* per call */

/* After a call failed: 1 if it failed because the connection was lost and
 * the connection is back (then the call is made again), 0 if the failure
 * stands (its message kept). Reconnects once a second for PG_RECONNECT_S. */
static int reconnected(mco_trials *h, int *n_reconnects)
{
    if (PQstatus(h->pg) != CONNECTION_BAD || (*n_reconnects)++ >= PG_MAX_RECONNECTS) return 0;
    char message[512];
    snprintf(message, sizeof message, "%s", mco_last_error());
    for (int waited = 0; waited < PG_RECONNECT_S; waited++) {
        sleep(1);
        PQreset(h->pg);
        if (PQstatus(h->pg) == CONNECTION_OK) {
            PQclear(PQexec(h->pg, "SET client_min_messages = warning"));
            return 1;
        }
    }
    mco_error(MCO_ERR_IO, "%s (no connection for %d s)", message, PG_RECONNECT_S);
    return 0;
}

/* Returns `call`, made again after a lost connection came back. Each call
 * is one transaction that either committed or did not, so making it again
 * is safe, except when the connection broke after COMMIT reached the
 * server: then a claim finds the trial already running (busy until its
 * lease runs out) and a finish finds it no longer running (an error). */
#define RETRY(h, call)                                 \
    do {                                               \
        int n_reconnects_ = 0;                         \
        mco_status st_;                                \
        while ((st_ = (call)) != MCO_OK && reconnected((h), &n_reconnects_)) { \
        }                                              \
        return st_;                                    \
    } while (0)

static mco_status retry_study(mco_trials *h, mco_trial_study *study)
{
    RETRY(h, pg_study(h, study));
}

static mco_status retry_add(mco_trials *h, const char *config, int rung, double budget, int max_trials,
                            mco_trial *trial, mco_add_outcome *outcome)
{
    RETRY(h, pg_add(h, config, rung, budget, max_trials, trial, outcome));
}

static mco_status retry_claim(mco_trials *h, const char *config, int rung, double budget, int pid, mco_trial *trial,
                              mco_claim_outcome *outcome)
{
    RETRY(h, pg_claim(h, config, rung, budget, pid, trial, outcome));
}

static mco_status retry_claim_next(mco_trials *h, int pid, mco_trial *trial, mco_claim_outcome *outcome)
{
    RETRY(h, pg_claim_next(h, pid, trial, outcome));
}

static mco_status retry_end(mco_trials *h, const mco_trial *claimed, mco_trial_state state,
                            const mco_trial_result *result, const char *message, const mco_trial_stage *stages,
                            int n_stages)
{
    RETRY(h, pg_end(h, claimed, state, result, message, stages, n_stages));
}

static mco_status retry_release(mco_trials *h, const mco_trial *claimed)
{
    RETRY(h, pg_release(h, claimed));
}

static mco_status retry_recover_stale(mco_trials *h, int *n_recovered)
{
    RETRY(h, pg_recover_stale(h, n_recovered));
}

static mco_status retry_heartbeat(mco_trials *h)
{
    RETRY(h, pg_heartbeat(h));
}

static mco_status retry_get(mco_trials *h, int64_t id, mco_trial *trial)
{
    RETRY(h, pg_get(h, id, trial));
}

static mco_status retry_list(mco_trials *h, const mco_trial_query *query, mco_trial **trials, int *n)
{
    RETRY(h, pg_list(h, query, trials, n));
}

static mco_status retry_stages(mco_trials *h, int64_t id, mco_trial_stage **stages, int *n)
{
    RETRY(h, pg_stages(h, id, stages, n));
}

static mco_status retry_put_model(mco_trials *h, int64_t id, const uint8_t *data, size_t size)
{
    RETRY(h, pg_put_model(h, id, data, size));
}

static mco_status retry_get_model(mco_trials *h, int64_t id, uint8_t **data, size_t *size)
{
    RETRY(h, pg_get_model(h, id, data, size));
}

const mco_trials_ops mco_trials_postgres_ops = {
    .open = pg_open,
    .close = pg_close,
    .discard = pg_discard,
    .study = retry_study,
    .add = retry_add,
    .claim = retry_claim,
    .claim_next = retry_claim_next,
    .end = retry_end,
    .release = retry_release,
    .recover_stale = retry_recover_stale,
    .heartbeat = retry_heartbeat,
    .get = retry_get,
    .list = retry_list,
    .stages = retry_stages,
    .put_model = retry_put_model,
    .get_model = retry_get_model,
};
