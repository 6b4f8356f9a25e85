/*
 * trial_store.c - the adaptive search's trial store in SQLite (see
 * mcuopt/trials.h), and the Pareto front over trials.
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
 * call costs nothing measurable), workers on other machines, and
 * PRAGMA synchronous=NORMAL (the default FULL is kept: a finished trial must
 * survive a power cut, and a few fsyncs per trial are cheap).
 */
#include "mcuopt/trials.h"

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

struct mco_trials {
    sqlite3 *db;
    char path[1024];   /* for messages, and mco_trials_discard() */
    int created;       /* this handle created the file */
};

static const char *const state_names[MCO_TRIAL_STATE_COUNT] = {"queued", "running", "done", "failed",
                                                               "pruned"};

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

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
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

static int state_from_text(const char *text)
{
    for (int i = 0; i < MCO_TRIAL_STATE_COUNT; i++)
        if (strcmp(text, state_names[i]) == 0) return i;
    return -1;
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

/* ---- hashing ------------------------------------------------------------------- */

#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

static uint64_t fnv1a(uint64_t hash, const unsigned char *bytes, size_t n)
{
    for (size_t i = 0; i < n; i++) hash = (hash ^ bytes[i]) * FNV_PRIME;
    return hash;
}

static void hash_hex(uint64_t hash, char hex[MCO_TRIAL_HASH_HEX])
{
    snprintf(hex, MCO_TRIAL_HASH_HEX, "%016llx", (unsigned long long)hash);
}

void mco_trials_hash_text(const char *text, char hex[MCO_TRIAL_HASH_HEX])
{
    hash_hex(fnv1a(FNV_OFFSET, (const unsigned char *)text, strlen(text)), hex);
}

mco_status mco_trials_hash_file(const char *path, char hex[MCO_TRIAL_HASH_HEX])
{
    FILE *f = fopen(path, "rb");
    if (!f) return mco_error(MCO_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    unsigned char buf[1 << 16];
    uint64_t hash = FNV_OFFSET;
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0) hash = fnv1a(hash, buf, got);
    int failed = ferror(f);
    fclose(f);
    if (failed) return mco_error(MCO_ERR_IO, "%s: read failed", path);
    hash_hex(hash, hex);
    return MCO_OK;
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
    sqlite3_bind_double(stmt, 8, now_seconds());
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

mco_status mco_trials_study(mco_trials *h, mco_trial_study *s)
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

static const char *or_none(const char *text)
{
    return text[0] ? text : "(none)";
}

/* MCO_ERR_ARG naming the first field in which the stored study differs. */
static mco_status check_study(mco_trials *h, const mco_trial_study *want)
{
    mco_trial_study have;
    mco_status st = mco_trials_study(h, &have);
    if (st != MCO_OK) return st;
    if (strcmp(have.target, want->target) != 0)
        return mco_error(MCO_ERR_ARG, "%s: created for target %s, not %s", h->path, or_none(have.target),
                         or_none(want->target));
    if (strcmp(have.model_hash, want->model_hash) != 0)
        return mco_error(MCO_ERR_ARG, "%s: created for another model (%s, hash %s; this one's is %s)",
                         h->path, or_none(have.model_path), or_none(have.model_hash), or_none(want->model_hash));
    if (have.min_accuracy != want->min_accuracy)
        return mco_error(MCO_ERR_ARG, "%s: created with minimum accuracy %g, not %g", h->path,
                         have.min_accuracy, want->min_accuracy);
    if (have.seed != want->seed)
        return mco_error(MCO_ERR_ARG, "%s: created with seed %llu, not %llu", h->path,
                         (unsigned long long)have.seed, (unsigned long long)want->seed);
    if (have.budget != want->budget)
        return mco_error(MCO_ERR_ARG, "%s: created with budget %g, not %g", h->path, have.budget,
                         want->budget);
    if (strcmp(have.settings, want->settings) != 0)
        return mco_error(MCO_ERR_ARG,
                         "%s: created with other search settings (resume with the same options, or use a new database)",
                         h->path);
    return MCO_OK;
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

mco_status mco_trials_open(const char *path, const mco_trial_study *study, mco_trials **out)
{
    *out = NULL;
    if (!path || !path[0]) return mco_error(MCO_ERR_ARG, "trials database: no path given");
    mco_trials *h = calloc(1, sizeof *h);
    if (!h) return mco_error(MCO_ERR_NOMEM, "%s: out of memory", path);
    copy_text(h->path, sizeof h->path, path);
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
        int created = h->created;
        mco_trials_close(h);
        if (created) remove_store_files(path);
        return st;
    }
    *out = h;
    return MCO_OK;
}

void mco_trials_close(mco_trials *h)
{
    if (!h) return;
    sqlite3_close(h->db);
    free(h);
}

int mco_trials_discard(mco_trials *h)
{
    if (!h) return 0;
    int64_t kept = 1;
    if (h->created &&
        query_int(h, "SELECT count(*) FROM trials WHERE state IN ('done', 'pruned', 'running')", &kept) != MCO_OK) {
        mco_clear_error();
        kept = 0;   /* no readable trials table: nothing to resume */
    }
    char path[sizeof h->path];
    copy_text(path, sizeof path, h->path);
    int remove = h->created && kept == 0;
    mco_trials_close(h);
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
    int s = state_from_text(state);
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

mco_status mco_trials_get(mco_trials *h, int64_t id, mco_trial *trial)
{
    return get_trial(h, id, trial, NULL);
}

void mco_trial_query_init(mco_trial_query *q)
{
    memset(q, 0, sizeof *q);
    q->state = -1;
}

static int within(double value, double limit)
{
    return limit <= 0 || (!isnan(value) && value <= limit);
}

int mco_trial_matches(const mco_trial *t, const mco_trial_query *q)
{
    if (!q) return 1;
    const mco_trial_result *r = &t->result;
    return (q->state < 0 || (int)t->state == q->state) && t->rung >= q->min_rung &&
           (q->min_accuracy <= 0 || (!isnan(r->accuracy) && r->accuracy >= q->min_accuracy)) &&
           within(r->flash_bytes, q->max_flash_bytes) && within(r->ram_bytes, q->max_ram_bytes) &&
           within(r->latency_ms, q->max_latency_ms) && within(r->energy_uj, q->max_energy_uj);
}

/* A row_reader: a row of TRIAL_COLUMNS, kept if it matches the query `user`. */
static int read_matching_trial(sqlite3_stmt *stmt, void *row, const void *user)
{
    read_trial(stmt, row, NULL);
    return mco_trial_matches(row, user);
}

mco_status mco_trials_list(mco_trials *h, const mco_trial_query *query, mco_trial **trials, int *n)
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
    bind_text(stmt, 1, query->state >= 0 && query->state < MCO_TRIAL_STATE_COUNT ? state_names[query->state] : "");
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

mco_status mco_trials_stages(mco_trials *h, int64_t id, mco_trial_stage **stages, int *n)
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
    if (!config || !config[0]) return mco_error(MCO_ERR_ARG, "%s: empty trial configuration", h->path);
    if (strlen(config) >= MCO_TRIAL_CONFIG_MAX)
        return mco_error(MCO_ERR_RANGE, "%s: trial configuration longer than %d bytes", h->path,
                         MCO_TRIAL_CONFIG_MAX - 1);
    if (rung < 0) return mco_error(MCO_ERR_ARG, "%s: negative rung %d", h->path, rung);
    if (max_trials < 0) return mco_error(MCO_ERR_ARG, "%s: negative trial limit %d", h->path, max_trials);
    char hash[MCO_TRIAL_HASH_HEX];
    mco_trials_hash_text(config, hash);

    sqlite3_stmt *stmt;
    mco_status st = prepare(h,
                            "INSERT INTO trials (config, config_hash, rung, budget, state, queued_at)"
                            " SELECT ?, ?, ?, ?, 'queued', ? WHERE (SELECT count(*) FROM trials) < ?"
                            " ON CONFLICT (config_hash, rung) DO NOTHING",
                            &stmt);
    if (st != MCO_OK) return st;
    bind_text(stmt, 1, config);
    bind_text(stmt, 2, hash);
    sqlite3_bind_int(stmt, 3, rung);
    sqlite3_bind_double(stmt, 4, budget);
    sqlite3_bind_double(stmt, 5, now_seconds());
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
    sqlite3_bind_double(stmt, 3, now_seconds());
    sqlite3_bind_int64(stmt, 4, id);
    st = step_done_once(h, stmt, "claiming a trial");
    return st == MCO_OK ? get_trial(h, id, t, NULL) : st;
}

mco_status mco_trials_add(mco_trials *h, const char *config, int rung, double budget, int max_trials,
                          mco_trial *trial, mco_add_outcome *outcome)
{
    mco_status st = begin_write(h);
    if (st == MCO_OK) st = end_write(h, insert_if_absent(h, config, rung, budget, max_trials, trial, NULL, outcome));
    return st;
}

mco_status mco_trials_enqueue(mco_trials *h, const char *config, int rung, double budget, int64_t *id)
{
    mco_trial *t = malloc(sizeof *t);
    if (!t) return mco_error(MCO_ERR_NOMEM, "%s: out of memory", h->path);
    mco_status st = mco_trials_add(h, config, rung, budget, 0, t, NULL);
    if (st == MCO_OK && id) *id = t->id;
    free(t);
    return st;
}

mco_status mco_trials_claim(mco_trials *h, const char *config, int rung, double budget, int pid,
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

mco_status mco_trials_claim_next(mco_trials *h, int pid, mco_trial *trial, mco_claim_outcome *outcome)
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
    bind_text(stmt, 1, state_names[state]);
    sqlite3_bind_double(stmt, 2, now_seconds());
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
                       h->path, (long long)claimed->id, claimed->pid, state_names[now->state], now->pid);
    free(now);
    return st;
}

mco_status mco_trials_finish(mco_trials *h, const mco_trial *claimed, const mco_trial_result *result,
                             const mco_trial_stage *stages, int n_stages)
{
    if (!result) return mco_error(MCO_ERR_ARG, "%s: finishing trial %lld without a result", h->path,
                                  (long long)claimed->id);
    mco_status st = begin_write(h);
    if (st != MCO_OK) return st;
    st = end_trial(h, claimed, MCO_TRIAL_DONE, result, NULL);
    if (st == MCO_OK) st = insert_stages(h, claimed->id, stages, n_stages);
    return end_write(h, st);
}

mco_status mco_trials_fail(mco_trials *h, const mco_trial *claimed, const char *message)
{
    mco_status st = begin_write(h);
    if (st != MCO_OK) return st;
    return end_write(h, end_trial(h, claimed, MCO_TRIAL_FAILED, NULL, message ? message : "failed"));
}

mco_status mco_trials_prune(mco_trials *h, const mco_trial *claimed, const mco_trial_result *result,
                            const char *reason)
{
    mco_status st = begin_write(h);
    if (st != MCO_OK) return st;
    return end_write(h, end_trial(h, claimed, MCO_TRIAL_PRUNED, result, reason ? reason : "pruned"));
}

mco_status mco_trials_release(mco_trials *h, const mco_trial *claimed)
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

mco_status mco_trials_recover_stale(mco_trials *h, int *n_recovered)
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

/* ---- best trial and Pareto front ------------------------------------------------- */

/* 1 if a is a better pick than b: lower objective (unknown last), then
 * higher accuracy, then lower id. */
static int better_pick(const mco_trial *a, const mco_trial *b)
{
    double oa = a->result.objective, ob = b->result.objective;
    if (isnan(oa) != isnan(ob)) return !isnan(oa);
    if (!isnan(oa) && oa != ob) return oa < ob;
    double aa = isnan(a->result.accuracy) ? -INFINITY : a->result.accuracy;
    double ab = isnan(b->result.accuracy) ? -INFINITY : b->result.accuracy;
    if (aa != ab) return aa > ab;
    return a->id < b->id;
}

static void done_query(const mco_trial_query *query, mco_trial_query *done)
{
    if (query) *done = *query;
    else mco_trial_query_init(done);
    done->state = MCO_TRIAL_DONE;
}

mco_status mco_trials_best(mco_trials *h, const mco_trial_query *query, mco_trial *best, int *found)
{
    *found = 0;
    mco_trial_query done;
    done_query(query, &done);
    mco_trial *list;
    int n;
    mco_status st = mco_trials_list(h, &done, &list, &n);
    if (st != MCO_OK) return st;
    int pick = -1;
    for (int i = 0; i < n; i++)
        if (pick < 0 || better_pick(&list[i], &list[pick])) pick = i;
    if (pick >= 0) {
        *best = list[pick];
        *found = 1;
    }
    free(list);
    return MCO_OK;
}

static int pareto_eligible(const mco_trial *t, double min_accuracy)
{
    return t->state == MCO_TRIAL_DONE &&
           (min_accuracy <= 0 || (!isnan(t->result.accuracy) && t->result.accuracy >= min_accuracy));
}

#define PARETO_MAX_OBJECTIVES 5

/* The trial's costs, lower is better, unknown = +infinity; returns how many. */
static int pareto_costs(const mco_trial *t, int with_accuracy, double *cost)
{
    const mco_trial_result *r = &t->result;
    double values[PARETO_MAX_OBJECTIVES] = {r->flash_bytes, r->ram_bytes, r->latency_ms, r->energy_uj,
                                            -r->accuracy};
    int n = with_accuracy ? 5 : 4;
    for (int i = 0; i < n; i++) cost[i] = isnan(values[i]) ? INFINITY : values[i];
    return n;
}

/* 1 if a is no worse than b in every cost and better in at least one. */
static int dominates(const mco_trial *a, const mco_trial *b, int with_accuracy)
{
    double ca[PARETO_MAX_OBJECTIVES], cb[PARETO_MAX_OBJECTIVES];
    int n = pareto_costs(a, with_accuracy, ca);
    pareto_costs(b, with_accuracy, cb);
    int better = 0;
    for (int i = 0; i < n; i++) {
        if (ca[i] > cb[i]) return 0;
        if (ca[i] < cb[i]) better = 1;
    }
    return better;
}

void mco_pareto_mark(mco_trial *trials, int n, double min_accuracy, int with_accuracy)
{
    for (int i = 0; i < n; i++) {
        trials[i].on_pareto = 0;
        if (!pareto_eligible(&trials[i], min_accuracy)) continue;
        int dominated = 0;
        for (int j = 0; j < n && !dominated; j++)
            dominated = j != i && pareto_eligible(&trials[j], min_accuracy) &&
                        dominates(&trials[j], &trials[i], with_accuracy);
        trials[i].on_pareto = !dominated;
    }
}

static int by_flash_then_ram(const void *pa, const void *pb)
{
    const mco_trial *a = pa, *b = pb;
    double ka[2] = {a->result.flash_bytes, a->result.ram_bytes};
    double kb[2] = {b->result.flash_bytes, b->result.ram_bytes};
    for (int i = 0; i < 2; i++) {
        double x = isnan(ka[i]) ? INFINITY : ka[i], y = isnan(kb[i]) ? INFINITY : kb[i];
        if (x != y) return x < y ? -1 : 1;
    }
    return a->id < b->id ? -1 : a->id > b->id;
}

mco_status mco_trials_pareto(mco_trials *h, const mco_trial_query *query, int with_accuracy,
                             mco_trial **front, int *n)
{
    mco_trial_query done;
    done_query(query, &done);
    mco_status st = mco_trials_list(h, &done, front, n);
    if (st != MCO_OK) return st;
    mco_pareto_mark(*front, *n, done.min_accuracy, with_accuracy);
    int kept = 0;
    for (int i = 0; i < *n; i++)
        if ((*front)[i].on_pareto) (*front)[kept++] = (*front)[i];
    *n = kept;
    if (kept == 0) {
        free(*front);
        *front = NULL;
        return MCO_OK;
    }
    qsort(*front, (size_t)kept, sizeof **front, by_flash_then_ram);
    return MCO_OK;
}

/* ---- small public helpers ---------------------------------------------------------- */

void mco_trial_result_init(mco_trial_result *r)
{
    memset(r, 0, sizeof *r);
    r->accuracy = r->flash_bytes = r->ram_bytes = r->cycles = NAN;
    r->latency_ms = r->energy_uj = r->objective = NAN;
}

void mco_trial_stage_init(mco_trial_stage *s)
{
    memset(s, 0, sizeof *s);
    s->accuracy = s->flash_bytes = s->ram_bytes = s->instructions = NAN;
}

const char *mco_trial_state_name(mco_trial_state state)
{
    return (int)state >= 0 && state < MCO_TRIAL_STATE_COUNT ? state_names[state] : "unknown";
}

mco_status mco_trial_state_parse(const char *name, mco_trial_state *state)
{
    int s = state_from_text(name);
    if (s < 0)
        return mco_error(MCO_ERR_ARG, "unknown trial state '%s' (known: queued, running, done, failed, pruned)",
                         name);
    *state = (mco_trial_state)s;
    return MCO_OK;
}
