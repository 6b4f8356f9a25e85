/*
 * trials_sqlite.c - the adaptive search's trial store in SQLite (see
 * mcuopt/trials.h), one of its two backends (trials_backend.h).
 *
 * The file is a SQLite database in WAL mode (readers never block the one
 * writer) with PRAGMA application_id 0x4D434F54 ("MCOT") and user_version 1,
 * so another SQLite file is recognised as "not an mcuopt trials database".
 * Every change is one BEGIN IMMEDIATE transaction (the write lock is taken at
 * the start, so two workers cannot both read "queued" and both claim), and a
 * busy timeout makes a worker wait for another's write instead of failing.
 * All SQL goes through prepared statements with bound values.
 *
 * Schema (version 1):
 *
 *   study   one row (id = 1): what the search is. A resumed search must match.
 *     id INTEGER PRIMARY KEY CHECK (id = 1)
 *     model_hash TEXT, model_path TEXT, target TEXT, min_accuracy REAL,
 *     seed INTEGER (the uint64 seed's bits), budget REAL, settings TEXT,
 *     created_at REAL (Unix seconds)
 *
 *   trials  one row per (config, rung).
 *     id INTEGER PRIMARY KEY
 *     config TEXT            the pipeline text
 *     config_hash TEXT       FNV-1a 64 of config, 16 hex digits
 *     rung INTEGER, budget REAL          successive-halving level and its budget
 *     state TEXT             queued | running | done | failed | pruned
 *     pid INTEGER            worker that claimed it last
 *     pid_start INTEGER      that worker's start time (Linux clock ticks since
 *                            boot, /proc/<pid>/stat field 22; 0 if unknown)
 *     attempts INTEGER       number of claims
 *     queued_at, started_at, finished_at REAL   Unix seconds, NULL if not yet
 *     accuracy, flash_bytes, ram_bytes, cycles, latency_ms, energy_uj,
 *     objective              metrics, NULL if not measured
 *     error TEXT             why it failed or was pruned
 *     model_path, deploy_path TEXT       files the trial produced
 *     UNIQUE (config_hash, rung); an index on state
 *
 *   stages  the model after each stage of a finished trial.
 *     trial_id INTEGER REFERENCES trials(id), stage_index INTEGER,
 *     stage TEXT, accuracy REAL, flash_bytes INTEGER, ram_bytes INTEGER,
 *     instructions REAL; PRIMARY KEY (trial_id, stage_index)
 *
 * Whether a worker is alive: kill(pid, 0) says the pid exists, and on Linux
 * /proc/<pid>/stat says it is not a zombie and started when the claim
 * recorded (so a reused pid is not mistaken for the worker).
 *
 * What it leaves out: schema migrations (there is one version), statement
 * caching (a trial runs for seconds to minutes, so preparing a statement per
 * call costs nothing measurable), workers on other machines (that is
 * trials_postgres.c), and
 * PRAGMA synchronous=NORMAL (the default FULL is kept: a finished trial must
 * survive a power cut, and a few fsyncs per trial are cheap).
 */
#include "trials_backend.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TRIALS_APPLICATION_ID 0x4D434F54   /* "MCOT" */
#define TRIALS_SCHEMA_VERSION 1
#define TRIALS_BUSY_TIMEOUT_MS 60000       /* a write transaction takes milliseconds */

static const char *const schema_sql[] = {
    "CREATE TABLE IF NOT EXISTS study ("
    " id INTEGER PRIMARY KEY CHECK (id = 1),"
    " model_hash TEXT NOT NULL, model_path TEXT NOT NULL, target TEXT NOT NULL,"
    " min_accuracy REAL NOT NULL, seed INTEGER NOT NULL, budget REAL NOT NULL,"
    " settings TEXT NOT NULL, created_at REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS trials ("
    " id INTEGER PRIMARY KEY,"
    " config TEXT NOT NULL, config_hash TEXT NOT NULL,"
    " rung INTEGER NOT NULL, budget REAL NOT NULL,"
    " state TEXT NOT NULL CHECK (state IN ('queued','running','done','failed','pruned')),"
    " pid INTEGER NOT NULL DEFAULT 0, pid_start INTEGER NOT NULL DEFAULT 0,"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " queued_at REAL, started_at REAL, finished_at REAL,"
    " accuracy REAL, flash_bytes INTEGER, ram_bytes INTEGER, cycles REAL,"
    " latency_ms REAL, energy_uj REAL, objective REAL,"
    " error TEXT, model_path TEXT, deploy_path TEXT,"
    " UNIQUE (config_hash, rung))",
    "CREATE INDEX IF NOT EXISTS trials_by_state ON trials (state)",
    "CREATE TABLE IF NOT EXISTS stages ("
    " trial_id INTEGER NOT NULL REFERENCES trials (id),"
    " stage_index INTEGER NOT NULL, stage TEXT NOT NULL,"
    " accuracy REAL, flash_bytes INTEGER, ram_bytes INTEGER, instructions REAL,"
    " PRIMARY KEY (trial_id, stage_index))",
};

/* The columns read_trial() expects, in its order. */
#define TRIAL_COLUMNS                                                                        \
    "id, state, config, config_hash, rung, budget, pid, attempts, queued_at, started_at, " \
    "finished_at, accuracy, flash_bytes, ram_bytes, cycles, latency_ms, energy_uj, "       \
    "objective, model_path, deploy_path, error, pid_start"

/* ---- small helpers ----------------------------------------------------------- */

static mco_status sql_error(mco_trials *h, const char *what)
{
    return mco_error(MCO_ERR_IO, "%s: %s: %s", h->path, what, sqlite3_errmsg(h->db));
}

static mco_status prepare(mco_trials *h, const char *sql, sqlite3_stmt **stmt)
{
    if (sqlite3_prepare_v2(h->db, sql, -1, stmt, NULL) != SQLITE_OK) {
        *stmt = NULL;
        return sql_error(h, "preparing a statement");
    }
    return MCO_OK;
}

/* Runs a statement that returns no rows (or whose rows are not needed). */
static mco_status run_sql(mco_trials *h, const char *sql)
{
    sqlite3_stmt *stmt;
    mco_status st = prepare(h, sql, &stmt);
    if (st != MCO_OK) return st;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) st = sql_error(h, sql);
    sqlite3_finalize(stmt);
    return st;
}

/* Steps a statement that must finish without rows (INSERT/UPDATE/DELETE). */
static mco_status step_done(mco_trials *h, sqlite3_stmt *stmt, const char *what)
{
    return sqlite3_step(stmt) == SQLITE_DONE ? MCO_OK : sql_error(h, what);
}

/* step_done, then finalizes the statement. */
static mco_status step_done_once(mco_trials *h, sqlite3_stmt *stmt, const char *what)
{
    mco_status st = step_done(h, stmt, what);
    sqlite3_finalize(stmt);
    return st;
}

/* Reads the current row of a statement into `row`; returns 1 to keep it,
 * 0 to drop it (the next row then takes its place). */
typedef int (*row_reader)(sqlite3_stmt *stmt, void *row, const void *user);

/* Steps `stmt` to its end and finalizes it, reading every row with
 * read_row into a growing array of `size`-byte elements. *rows gets the
 * array (the caller frees it) and *n its length; NULL and 0 when no row
 * is kept or on failure. `what` names the query in messages. */
static mco_status collect_rows(mco_trials *h, sqlite3_stmt *stmt, size_t size, row_reader read_row,
                               const void *user, const char *what, void **rows, int *n)
{
    char *list = NULL;
    int count = 0, capacity = 0, rc;
    mco_status st = MCO_OK;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (count == capacity) {
            int grown = capacity ? capacity * 2 : 16;
            char *bigger = realloc(list, (size_t)grown * size);
            if (!bigger) {
                st = mco_error(MCO_ERR_NOMEM, "%s: out of memory %s", h->path, what);
                break;
            }
            list = bigger;
            capacity = grown;
        }
        count += read_row(stmt, list + (size_t)count * size, user);
    }
    if (st == MCO_OK && rc != SQLITE_DONE) st = sql_error(h, what);
    sqlite3_finalize(stmt);
    if (st != MCO_OK || count == 0) {
        free(list);
        list = NULL;
        count = 0;
    }
    *rows = list;
    *n = count;
    return st;
}

static mco_status begin_write(mco_trials *h)
{
    return run_sql(h, "BEGIN IMMEDIATE");
}

/* Commits if st is MCO_OK, else rolls back; returns st or the commit's error
 * (the error message of a failed step is kept). */
static mco_status end_write(mco_trials *h, mco_status st)
{
    if (st == MCO_OK) {
        st = run_sql(h, "COMMIT");
        if (st == MCO_OK) return MCO_OK;
    }
    if (!sqlite3_get_autocommit(h->db)) {
        char message[512];
        snprintf(message, sizeof message, "%s", mco_last_error());
        run_sql(h, "ROLLBACK");
        mco_error(st, "%s", message);
    }
    return st;
}

static void bind_number(sqlite3_stmt *stmt, int index, double value)
{
    if (isnan(value)) sqlite3_bind_null(stmt, index);
    else sqlite3_bind_double(stmt, index, value);
}

static void bind_text(sqlite3_stmt *stmt, int index, const char *text)
{
    sqlite3_bind_text(stmt, index, text ? text : "", -1, SQLITE_TRANSIENT);
}

static double column_number(sqlite3_stmt *stmt, int index)
{
    return sqlite3_column_type(stmt, index) == SQLITE_NULL ? NAN : sqlite3_column_double(stmt, index);
}

static void column_text(sqlite3_stmt *stmt, int index, char *out, size_t size)
{
    const unsigned char *text = sqlite3_column_text(stmt, index);
    snprintf(out, size, "%s", text ? (const char *)text : "");
}

static void copy_text(char *out, size_t size, const char *text)
{
    snprintf(out, size, "%s", text ? text : "");
}

/* ---- worker liveness ----------------------------------------------------------- */

/* Start time of process `pid` (clock ticks since boot, field 22 of
 * /proc/<pid>/stat) or 0 if it cannot be read; *zombie is set if the process
 * has exited and waits to be reaped. */
static int64_t process_start_ticks(int pid, int *zombie)
{
    *zombie = 0;
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t got = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[got] = '\0';
    /* "pid (comm) S ppid ...": comm may hold spaces and ')', so start after the last ')'. */
    char *p = strrchr(buf, ')');
    if (!p) return 0;
    p++;
    for (int field = 3; field <= 22; field++) {
        while (*p == ' ') p++;
        if (*p == '\0') return 0;
        if (field == 3) *zombie = (*p == 'Z' || *p == 'X');
        if (field == 22) return strtoll(p, NULL, 10);
        while (*p && *p != ' ') p++;
    }
    return 0;
}

static int worker_alive(int pid, int64_t recorded_start)
{
    if (pid <= 0) return 0;
    if (kill(pid, 0) != 0 && errno != EPERM) return 0;
    int zombie;
    int64_t start = process_start_ticks(pid, &zombie);
    if (zombie) return 0;
    if (recorded_start != 0 && start != 0 && start != recorded_start) return 0;   /* pid reused */
    return 1;
}

/* ---- opening, schema and study ---------------------------------------------------- */

static mco_status query_int(mco_trials *h, const char *sql, int64_t *value)
{
    sqlite3_stmt *stmt;
    mco_status st = prepare(h, sql, &stmt);
    if (st != MCO_OK) return st;
    int rc = sqlite3_step(stmt);
    *value = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) st = sql_error(h, sql);
    sqlite3_finalize(stmt);
    return st;
}

static mco_status not_a_store(mco_trials *h)
{
    return mco_error(MCO_ERR_FORMAT, "%s: not an mcuopt trials database", h->path);
}

/* Where the file stands: 1 an mcuopt store, 0 an empty database, else an error. */
static mco_status schema_state(mco_trials *h, int *is_store)
{
    int64_t app_id, version, n_objects;
    /* The first access: a file that is not SQLite fails here. The three
     * reads are separate transactions and another worker may create the
     * store between them (tables, ids and version in one commit), so the
     * tables are counted first: a count taken before that commit with ids
     * read after it still reads as a store, never as a foreign file. */
    mco_status st = query_int(h, "SELECT count(*) FROM sqlite_master", &n_objects);
    if (st == MCO_OK) st = query_int(h, "PRAGMA application_id", &app_id);
    if (st == MCO_OK) st = query_int(h, "PRAGMA user_version", &version);
    if (st != MCO_OK) {
        if (sqlite3_errcode(h->db) == SQLITE_NOTADB) return not_a_store(h);
        return st;
    }
    if (app_id == 0 && n_objects == 0) {
        *is_store = 0;
        return MCO_OK;
    }
    if (app_id != TRIALS_APPLICATION_ID) return not_a_store(h);
    if (version > TRIALS_SCHEMA_VERSION)
        return mco_error(MCO_ERR_FORMAT, "%s: written by a newer mcuopt (schema %lld; this one reads %d)",
                         h->path, (long long)version, TRIALS_SCHEMA_VERSION);
    /* A store holds only plain tables and indexes: a view or trigger in a
     * hostile file could make a read endless (a recursive view has no last
     * row) or run its own writes. */
    int64_t foreign;
    st = query_int(h,
                   "SELECT count(*) FROM sqlite_master WHERE type NOT IN ('table', 'index')"
                   " OR (type = 'table' AND sql NOT LIKE 'CREATE TABLE %')",
                   &foreign);
    if (st != MCO_OK) return st;
    if (foreign != 0)
        return mco_error(MCO_ERR_FORMAT, "%s: not an mcuopt trials database (it holds views, triggers or virtual tables)",
                         h->path);
    *is_store = 1;
    return MCO_OK;
}

static mco_status insert_study(mco_trials *h, const mco_trial_study *s)
{
    sqlite3_stmt *stmt;
    mco_status st = prepare(h,
                            "INSERT INTO study (id, model_hash, model_path, target, min_accuracy, seed,"
                            " budget, settings, created_at) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?)",
                            &stmt);
    if (st != MCO_OK) return st;
    bind_text(stmt, 1, s->model_hash);
    bind_text(stmt, 2, s->model_path);
    bind_text(stmt, 3, s->target);
    sqlite3_bind_double(stmt, 4, s->min_accuracy);
    sqlite3_bind_int64(stmt, 5, (sqlite3_int64)s->seed);
    sqlite3_bind_double(stmt, 6, s->budget);
    bind_text(stmt, 7, s->settings);
    sqlite3_bind_double(stmt, 8, mco_trials_now());
    st = step_done_once(h, stmt, "recording the study");
    return st;
}

/* Creates the tables and the study row, unless another process did it
 * first (checked again inside the write transaction). */
static mco_status create_store(mco_trials *h, const mco_trial_study *study)
{
    /* WAL is a property of the file; it cannot be switched inside a transaction.
     * Switching needs the file to itself, and SQLite answers "locked" at once
     * instead of calling the busy handler when several workers open a new
     * store together: retry for up to the busy timeout. */
    mco_status st = run_sql(h, "PRAGMA journal_mode=WAL");
    for (int waited = 0; st != MCO_OK && sqlite3_errcode(h->db) == SQLITE_BUSY && waited < TRIALS_BUSY_TIMEOUT_MS;
         waited += 20) {
        sqlite3_sleep(20);
        st = run_sql(h, "PRAGMA journal_mode=WAL");
    }
    if (st == MCO_OK) st = begin_write(h);
    if (st != MCO_OK) return st;
    int is_store;
    st = schema_state(h, &is_store);
    if (st == MCO_OK && !is_store) {
        for (size_t i = 0; st == MCO_OK && i < sizeof schema_sql / sizeof schema_sql[0]; i++)
            st = run_sql(h, schema_sql[i]);
        if (st == MCO_OK) st = insert_study(h, study);
        /* PRAGMA values cannot be bound; these are our own constants */
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA application_id=%d", TRIALS_APPLICATION_ID);
        if (st == MCO_OK) st = run_sql(h, sql);
        snprintf(sql, sizeof sql, "PRAGMA user_version=%d", TRIALS_SCHEMA_VERSION);
        if (st == MCO_OK) st = run_sql(h, sql);
    }
    return end_write(h, st);
}

static mco_status sqlite_study(mco_trials *h, mco_trial_study *s)
{
    memset(s, 0, sizeof *s);
    sqlite3_stmt *stmt;
    mco_status st = prepare(h,
                            "SELECT model_hash, model_path, target, min_accuracy, seed, budget, settings"
                            " FROM study WHERE id = 1",
                            &stmt);
    if (st != MCO_OK) return st;
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        column_text(stmt, 0, s->model_hash, sizeof s->model_hash);
        column_text(stmt, 1, s->model_path, sizeof s->model_path);
        column_text(stmt, 2, s->target, sizeof s->target);
        s->min_accuracy = sqlite3_column_double(stmt, 3);
        s->seed = (uint64_t)sqlite3_column_int64(stmt, 4);
        s->budget = sqlite3_column_double(stmt, 5);
        column_text(stmt, 6, s->settings, sizeof s->settings);
    } else if (rc == SQLITE_DONE) {
        st = mco_error(MCO_ERR_FORMAT, "%s: the study record is missing", h->path);
    } else {
        st = sql_error(h, "reading the study");
    }
    sqlite3_finalize(stmt);
    return st;
}

/* MCO_ERR_ARG naming the first field in which the stored study differs. */
static mco_status check_study(mco_trials *h, const mco_trial_study *want)
{
    mco_trial_study have;
    mco_status st = sqlite_study(h, &have);
    return st == MCO_OK ? mco_trials_compare_study(h, &have, want) : st;
}

/* Deletes the database file and the files SQLite keeps beside it. */
static void remove_store_files(const char *path)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        char name[1100];
        snprintf(name, sizeof name, "%s%s", path, suffixes[i]);
        unlink(name);
    }
}

static void sqlite_close(mco_trials *h);

static mco_status sqlite_open(mco_trials *h, const char *path, const mco_trial_study *study)
{
    struct stat info;
    h->created = study && stat(path, &info) != 0 && errno == ENOENT;

    int flags = SQLITE_OPEN_READWRITE | (study ? SQLITE_OPEN_CREATE : 0);
    mco_status st = MCO_OK;
    if (sqlite3_open_v2(path, &h->db, flags, NULL) != SQLITE_OK) {
        int os_error = h->db ? sqlite3_system_errno(h->db) : 0;
        st = !h->db ? mco_error(MCO_ERR_NOMEM, "%s: out of memory", path)
             : os_error ? mco_error(MCO_ERR_IO, "%s: cannot open: %s", path, strerror(os_error))
                        : mco_error(MCO_ERR_IO, "%s: cannot open: %s", path, sqlite3_errmsg(h->db));
    } else {
        sqlite3_busy_timeout(h->db, TRIALS_BUSY_TIMEOUT_MS);
        /* The file may come from anyone: SQLite's settings for untrusted databases. */
        sqlite3_db_config(h->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
        sqlite3_db_config(h->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
        int is_store = 0;
        st = schema_state(h, &is_store);
        if (st == MCO_OK && !is_store) {
            if (study) st = create_store(h, study);
            else st = not_a_store(h);   /* an empty file */
        }
        if (st == MCO_OK && study) st = check_study(h, study);
    }
    if (st != MCO_OK) {
        /* A store this call created but could not set up (a full disk) is not left behind. */
        sqlite3_close(h->db);
        h->db = NULL;
        if (h->created) remove_store_files(path);
    }
    return st;
}

static void sqlite_close(mco_trials *h)
{
    sqlite3_close(h->db);
    free(h);
}

static int sqlite_discard(mco_trials *h)
{
    int64_t kept = 1;
    if (h->created &&
        query_int(h, "SELECT count(*) FROM trials WHERE state IN ('done', 'pruned', 'running')", &kept) != MCO_OK) {
        mco_clear_error();
        kept = 0;   /* no readable trials table: nothing to resume */
    }
    char path[sizeof h->path];
    copy_text(path, sizeof path, h->path);
    int remove = h->created && kept == 0;
    sqlite_close(h);
    if (remove) remove_store_files(path);
    return remove;
}

/* ---- reading trials -------------------------------------------------------------- */

/* Fills *t from a row of TRIAL_COLUMNS; *pid_start (may be NULL) gets the last column. */
static void read_trial(sqlite3_stmt *stmt, mco_trial *t, int64_t *pid_start)
{
    memset(t, 0, sizeof *t);
    t->id = sqlite3_column_int64(stmt, 0);
    char state[16];
    column_text(stmt, 1, state, sizeof state);
    int s = mco_trial_state_from_text(state);
    t->state = s < 0 ? MCO_TRIAL_FAILED : (mco_trial_state)s;   /* the CHECK constraint rules this out */
    column_text(stmt, 2, t->config, sizeof t->config);
    column_text(stmt, 3, t->config_hash, sizeof t->config_hash);
    t->rung = sqlite3_column_int(stmt, 4);
    t->budget = sqlite3_column_double(stmt, 5);
    t->pid = sqlite3_column_int(stmt, 6);
    t->attempts = sqlite3_column_int(stmt, 7);
    t->queued_at = column_number(stmt, 8);
    t->started_at = column_number(stmt, 9);
    t->finished_at = column_number(stmt, 10);
    mco_trial_result *r = &t->result;
    r->accuracy = column_number(stmt, 11);
    r->flash_bytes = column_number(stmt, 12);
    r->ram_bytes = column_number(stmt, 13);
    r->cycles = column_number(stmt, 14);
    r->latency_ms = column_number(stmt, 15);
    r->energy_uj = column_number(stmt, 16);
    r->objective = column_number(stmt, 17);
    column_text(stmt, 18, r->model_path, sizeof r->model_path);
    column_text(stmt, 19, r->deploy_path, sizeof r->deploy_path);
    column_text(stmt, 20, t->error, sizeof t->error);
    if (pid_start) *pid_start = sqlite3_column_int64(stmt, 21);
}

/* The trial with `id`; MCO_ERR_NOT_FOUND if there is none. */
static mco_status get_trial(mco_trials *h, int64_t id, mco_trial *t, int64_t *pid_start)
{
    sqlite3_stmt *stmt;
    mco_status st = prepare(h, "SELECT " TRIAL_COLUMNS " FROM trials WHERE id = ?", &stmt);
    if (st != MCO_OK) return st;
    sqlite3_bind_int64(stmt, 1, id);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) read_trial(stmt, t, pid_start);
    else if (rc == SQLITE_DONE) st = mco_error(MCO_ERR_NOT_FOUND, "%s: no trial %lld", h->path, (long long)id);
    else st = sql_error(h, "reading a trial");
    sqlite3_finalize(stmt);
    return st;
}

static mco_status sqlite_get(mco_trials *h, int64_t id, mco_trial *trial)
{
    return get_trial(h, id, trial, NULL);
}

/* A row_reader: a row of TRIAL_COLUMNS, kept if it matches the query `user`. */
static int read_matching_trial(sqlite3_stmt *stmt, void *row, const void *user)
{
    read_trial(stmt, row, NULL);
    return mco_trial_matches(row, user);
}

static mco_status sqlite_list(mco_trials *h, const mco_trial_query *query, mco_trial **trials, int *n)
{
    *trials = NULL;
    *n = 0;
    mco_trial_query all;
    mco_trial_query_init(&all);
    if (!query) query = &all;
    sqlite3_stmt *stmt;
    mco_status st = prepare(h,
                            "SELECT " TRIAL_COLUMNS " FROM trials"
                            " WHERE (?1 = '' OR state = ?1) AND rung >= ?2 ORDER BY id",
                            &stmt);
    if (st != MCO_OK) return st;
    int any = query->state < 0 || query->state >= MCO_TRIAL_STATE_COUNT;
    bind_text(stmt, 1, any ? "" : mco_trial_state_names[query->state]);
    sqlite3_bind_int(stmt, 2, query->min_rung);
    void *rows;
    st = collect_rows(h, stmt, sizeof **trials, read_matching_trial, query, "listing trials", &rows, n);
    *trials = rows;
    return st;
}

/* A row_reader: one row of the stages table. */
static int read_stage(sqlite3_stmt *stmt, void *row, const void *user)
{
    (void)user;
    mco_trial_stage *s = row;
    s->index = sqlite3_column_int(stmt, 0);
    column_text(stmt, 1, s->stage, sizeof s->stage);
    s->accuracy = column_number(stmt, 2);
    s->flash_bytes = column_number(stmt, 3);
    s->ram_bytes = column_number(stmt, 4);
    s->instructions = column_number(stmt, 5);
    return 1;
}

static mco_status sqlite_stages(mco_trials *h, int64_t id, mco_trial_stage **stages, int *n)
{
    *stages = NULL;
    *n = 0;
    sqlite3_stmt *stmt;
    mco_status st = prepare(h,
                            "SELECT stage_index, stage, accuracy, flash_bytes, ram_bytes, instructions"
                            " FROM stages WHERE trial_id = ? ORDER BY stage_index",
                            &stmt);
    if (st != MCO_OK) return st;
    sqlite3_bind_int64(stmt, 1, id);
    void *rows;
    st = collect_rows(h, stmt, sizeof **stages, read_stage, NULL, "reading stages", &rows, n);
    *stages = rows;
    return st;
}

/* ---- claiming -------------------------------------------------------------------- */

/* Inserts (config, rung) as queued unless present, then reads it back and
 * checks it is the same config and budget. Inside a write transaction. */
/* Adds (config, rung) as queued if it is absent and the study holds fewer
 * than max_trials trials (0: no limit), and reads its record into *t.
 * *outcome (may be NULL) says which; for MCO_ADD_FULL *t is not touched.
 * Inside a write transaction, which is what makes the limit hold across
 * workers: the count and the insert are one statement under the store's
 * write lock (a server database would lock the study row first). */
static mco_status insert_if_absent(mco_trials *h, const char *config, int rung, double budget, int max_trials,
                                   mco_trial *t, int64_t *pid_start, mco_add_outcome *outcome)
{
    mco_status st = mco_trials_check_config(h, config, rung, max_trials);
    if (st != MCO_OK) return st;
    char hash[MCO_TRIAL_HASH_HEX];
    mco_trials_hash_text(config, hash);

    sqlite3_stmt *stmt;
    st = prepare(h,
                            "INSERT INTO trials (config, config_hash, rung, budget, state, queued_at)"
                            " SELECT ?, ?, ?, ?, 'queued', ? WHERE (SELECT count(*) FROM trials) < ?"
                            " ON CONFLICT (config_hash, rung) DO NOTHING",
                            &stmt);
    if (st != MCO_OK) return st;
    bind_text(stmt, 1, config);
    bind_text(stmt, 2, hash);
    sqlite3_bind_int(stmt, 3, rung);
    sqlite3_bind_double(stmt, 4, budget);
    sqlite3_bind_double(stmt, 5, mco_trials_now());
    sqlite3_bind_int64(stmt, 6, max_trials > 0 ? max_trials : INT64_MAX);
    st = step_done_once(h, stmt, "adding a trial");
    if (st != MCO_OK) return st;
    int added = sqlite3_changes(h->db) == 1;

    st = prepare(h, "SELECT " TRIAL_COLUMNS " FROM trials WHERE config_hash = ? AND rung = ?", &stmt);
    if (st != MCO_OK) return st;
    bind_text(stmt, 1, hash);
    sqlite3_bind_int(stmt, 2, rung);
    mco_trial *found = malloc(sizeof *found);
    if (!found) {
        sqlite3_finalize(stmt);
        return mco_error(MCO_ERR_NOMEM, "%s: out of memory", h->path);
    }
    int64_t found_start = 0;
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) read_trial(stmt, found, &found_start);
    else if (rc != SQLITE_DONE) st = sql_error(h, "reading a trial back");
    sqlite3_finalize(stmt);
    if (st == MCO_OK && rc == SQLITE_DONE) {   /* absent, and not added: the study is full */
        if (outcome) *outcome = MCO_ADD_FULL;
    } else if (st == MCO_OK && strcmp(found->config, config) != 0) {
        st = mco_error(MCO_ERR_FORMAT, "%s: configurations '%s' and '%s' have the same hash %s", h->path,
                       found->config, config, hash);
    } else if (st == MCO_OK && found->budget != budget) {
        st = mco_error(MCO_ERR_ARG, "%s: trial %lld (rung %d) was queued with budget %g, not %g", h->path,
                       (long long)found->id, rung, found->budget, budget);
    } else if (st == MCO_OK) {
        *t = *found;
        if (pid_start) *pid_start = found_start;
        if (outcome) *outcome = added ? MCO_ADD_NEW : MCO_ADD_EXISTS;
    }
    free(found);
    return st;
}

/* Marks trial t running for `pid` and reads it back. Inside a write transaction. */
static mco_status mark_running(mco_trials *h, int64_t id, int pid, mco_trial *t)
{
    int zombie;
    sqlite3_stmt *stmt;
    mco_status st = prepare(h,
                            "UPDATE trials SET state = 'running', pid = ?, pid_start = ?,"
                            " attempts = attempts + 1, started_at = ?, finished_at = NULL, error = NULL"
                            " WHERE id = ?",
                            &stmt);
    if (st != MCO_OK) return st;
    sqlite3_bind_int(stmt, 1, pid);
    sqlite3_bind_int64(stmt, 2, process_start_ticks(pid, &zombie));
    sqlite3_bind_double(stmt, 3, mco_trials_now());
    sqlite3_bind_int64(stmt, 4, id);
    st = step_done_once(h, stmt, "claiming a trial");
    return st == MCO_OK ? get_trial(h, id, t, NULL) : st;
}

static mco_status sqlite_add(mco_trials *h, const char *config, int rung, double budget, int max_trials,
                          mco_trial *trial, mco_add_outcome *outcome)
{
    mco_status st = begin_write(h);
    if (st == MCO_OK) st = end_write(h, insert_if_absent(h, config, rung, budget, max_trials, trial, NULL, outcome));
    return st;
}

static mco_status sqlite_claim(mco_trials *h, const char *config, int rung, double budget, int pid,
                            mco_trial *trial, mco_claim_outcome *outcome)
{
    if (pid <= 0) return mco_error(MCO_ERR_ARG, "%s: claim needs a worker pid", h->path);
    mco_status st = begin_write(h);
    if (st != MCO_OK) return st;
    int64_t pid_start = 0;
    st = insert_if_absent(h, config, rung, budget, 0, trial, &pid_start, NULL);
    if (st == MCO_OK) {
        if (trial->state == MCO_TRIAL_QUEUED ||
            (trial->state == MCO_TRIAL_RUNNING && !worker_alive(trial->pid, pid_start))) {
            st = mark_running(h, trial->id, pid, trial);
            *outcome = MCO_CLAIM_CLAIMED;
        } else {
            *outcome = trial->state == MCO_TRIAL_RUNNING ? MCO_CLAIM_BUSY : MCO_CLAIM_FINISHED;
        }
    }
    return end_write(h, st);
}

static mco_status sqlite_claim_next(mco_trials *h, int pid, mco_trial *trial, mco_claim_outcome *outcome)
{
    if (pid <= 0) return mco_error(MCO_ERR_ARG, "%s: claim needs a worker pid", h->path);
    *outcome = MCO_CLAIM_NONE;
    mco_status st = begin_write(h);
    if (st != MCO_OK) return st;
    sqlite3_stmt *stmt;
    st = prepare(h, "SELECT id FROM trials WHERE state = 'queued' ORDER BY rung, id LIMIT 1", &stmt);
    if (st == MCO_OK) {
        int rc = sqlite3_step(stmt);
        int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) st = sql_error(h, "finding a queued trial");
        sqlite3_finalize(stmt);
        if (st == MCO_OK && id > 0) {
            st = mark_running(h, id, pid, trial);
            if (st == MCO_OK) *outcome = MCO_CLAIM_CLAIMED;
        }
    }
    return end_write(h, st);
}

/* ---- finishing ------------------------------------------------------------------- */

static mco_status insert_stages(mco_trials *h, int64_t id, const mco_trial_stage *stages, int n)
{
    sqlite3_stmt *stmt;
    mco_status st = prepare(h, "DELETE FROM stages WHERE trial_id = ?", &stmt);
    if (st != MCO_OK) return st;
    sqlite3_bind_int64(stmt, 1, id);
    st = step_done_once(h, stmt, "replacing stage rows");
    if (st != MCO_OK || n <= 0) return st;

    st = prepare(h,
                 "INSERT INTO stages (trial_id, stage_index, stage, accuracy, flash_bytes, ram_bytes,"
                 " instructions) VALUES (?, ?, ?, ?, ?, ?, ?)",
                 &stmt);
    if (st != MCO_OK) return st;
    for (int i = 0; i < n && st == MCO_OK; i++) {
        const mco_trial_stage *s = &stages[i];
        sqlite3_reset(stmt);
        sqlite3_bind_int64(stmt, 1, id);
        sqlite3_bind_int(stmt, 2, s->index);
        bind_text(stmt, 3, s->stage);
        bind_number(stmt, 4, s->accuracy);
        bind_number(stmt, 5, s->flash_bytes);
        bind_number(stmt, 6, s->ram_bytes);
        bind_number(stmt, 7, s->instructions);
        st = step_done(h, stmt, "storing a stage row");
    }
    sqlite3_finalize(stmt);
    return st;
}

/* Moves a trial the caller is running to a final state, with the result
 * (NULL: metrics unknown) and message. Inside a write transaction. */
static mco_status end_trial(mco_trials *h, const mco_trial *claimed, mco_trial_state state,
                            const mco_trial_result *result, const char *message)
{
    mco_trial_result none;
    mco_trial_result_init(&none);
    if (!result) result = &none;
    char error[MCO_TRIAL_ERROR_MAX];
    copy_text(error, sizeof error, message);

    sqlite3_stmt *stmt;
    mco_status st = prepare(h,
                            "UPDATE trials SET state = ?, finished_at = ?, error = ?, accuracy = ?,"
                            " flash_bytes = ?, ram_bytes = ?, cycles = ?, latency_ms = ?, energy_uj = ?,"
                            " objective = ?, model_path = ?, deploy_path = ?"
                            " WHERE id = ? AND state = 'running' AND pid = ?",
                            &stmt);
    if (st != MCO_OK) return st;
    bind_text(stmt, 1, mco_trial_state_names[state]);
    sqlite3_bind_double(stmt, 2, mco_trials_now());
    if (error[0]) bind_text(stmt, 3, error);
    bind_number(stmt, 4, result->accuracy);
    bind_number(stmt, 5, result->flash_bytes);
    bind_number(stmt, 6, result->ram_bytes);
    bind_number(stmt, 7, result->cycles);
    bind_number(stmt, 8, result->latency_ms);
    bind_number(stmt, 9, result->energy_uj);
    bind_number(stmt, 10, result->objective);
    if (result->model_path[0]) bind_text(stmt, 11, result->model_path);
    if (result->deploy_path[0]) bind_text(stmt, 12, result->deploy_path);
    sqlite3_bind_int64(stmt, 13, claimed->id);
    sqlite3_bind_int(stmt, 14, claimed->pid);
    st = step_done_once(h, stmt, "finishing a trial");
    if (st != MCO_OK || sqlite3_changes(h->db) == 1) return st;

    mco_trial *now = malloc(sizeof *now);
    if (!now) return mco_error(MCO_ERR_NOMEM, "%s: out of memory", h->path);
    st = get_trial(h, claimed->id, now, NULL);
    if (st == MCO_OK)
        st = mco_error(MCO_ERR_ARG, "%s: trial %lld is not running for worker %d (it is %s, worker %d)",
                       h->path, (long long)claimed->id, claimed->pid, mco_trial_state_names[now->state], now->pid);
    free(now);
    return st;
}

static mco_status sqlite_end(mco_trials *h, const mco_trial *claimed, mco_trial_state state,
                             const mco_trial_result *result, const char *message, const mco_trial_stage *stages,
                             int n_stages)
{
    mco_status st = begin_write(h);
    if (st != MCO_OK) return st;
    st = end_trial(h, claimed, state, result, message);
    if (st == MCO_OK && state == MCO_TRIAL_DONE) st = insert_stages(h, claimed->id, stages, n_stages);
    return end_write(h, st);
}

static mco_status sqlite_release(mco_trials *h, const mco_trial *claimed)
{
    mco_status st = begin_write(h);
    if (st != MCO_OK) return st;
    sqlite3_stmt *stmt;
    st = prepare(h,
                 "UPDATE trials SET state = 'queued', started_at = NULL"
                 " WHERE id = ? AND state = 'running' AND pid = ?",
                 &stmt);
    if (st == MCO_OK) {
        sqlite3_bind_int64(stmt, 1, claimed->id);
        sqlite3_bind_int(stmt, 2, claimed->pid);
        st = step_done_once(h, stmt, "putting a trial back in the queue");
    }
    return end_write(h, st);
}

/* A row_reader: the id of a running trial whose worker is gone. */
static int read_stale_id(sqlite3_stmt *stmt, void *row, const void *user)
{
    (void)user;
    if (worker_alive(sqlite3_column_int(stmt, 1), sqlite3_column_int64(stmt, 2))) return 0;
    *(int64_t *)row = sqlite3_column_int64(stmt, 0);
    return 1;
}

static mco_status sqlite_recover_stale(mco_trials *h, int *n_recovered)
{
    if (n_recovered) *n_recovered = 0;
    mco_status st = begin_write(h);
    if (st != MCO_OK) return st;
    /* First the ids of the stale trials, then the updates: rows are not
     * changed under a running SELECT. */
    void *rows = NULL;
    int n_stale = 0;
    sqlite3_stmt *stmt;
    st = prepare(h, "SELECT id, pid, pid_start FROM trials WHERE state = 'running'", &stmt);
    if (st == MCO_OK)
        st = collect_rows(h, stmt, sizeof(int64_t), read_stale_id, NULL, "finding running trials", &rows, &n_stale);
    const int64_t *stale = rows;
    if (st == MCO_OK && n_stale > 0) {
        st = prepare(h, "UPDATE trials SET state = 'queued', started_at = NULL WHERE id = ?", &stmt);
        for (int i = 0; st == MCO_OK && i < n_stale; i++) {
            sqlite3_reset(stmt);
            sqlite3_bind_int64(stmt, 1, stale[i]);
            st = step_done(h, stmt, "putting a trial back in the queue");
        }
        sqlite3_finalize(stmt);
    }
    free(rows);
    st = end_write(h, st);
    if (st == MCO_OK && n_recovered) *n_recovered = n_stale;
    return st;
}


const mco_trials_ops mco_trials_sqlite_ops = {
    .open = sqlite_open,
    .close = sqlite_close,
    .discard = sqlite_discard,
    .study = sqlite_study,
    .add = sqlite_add,
    .claim = sqlite_claim,
    .claim_next = sqlite_claim_next,
    .end = sqlite_end,
    .release = sqlite_release,
    .recover_stale = sqlite_recover_stale,
    .heartbeat = NULL,
    .get = sqlite_get,
    .list = sqlite_list,
    .stages = sqlite_stages,
};
