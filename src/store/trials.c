/*
 * trials.c - the public face of the trial store (mcuopt/trials.h): picks a
 * backend from the store's address and calls through its table
 * (trials_backend.h), and holds what every backend shares: hashing, the
 * study comparison, the best trial and the Pareto front over listed trials,
 * and the small helpers.
 *
 * Addresses:
 *   FILE or sqlite://FILE (sqlite:///abs/path)  a SQLite file (trials_sqlite.c)
 *   postgresql://user@host:port/db?study=NAME   a study in a PostgreSQL
 *   (or postgres://)                            database (trials_postgres.c)
 * Any other "scheme://" is refused, so a typo does not become a file name.
 *
 * What it leaves out: other databases.
 */
#include "trials_backend.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *const mco_trial_state_names[MCO_TRIAL_STATE_COUNT] = {"queued", "running", "done", "failed",
                                                                  "pruned"};

int mco_trial_state_from_text(const char *text)
{
    for (int i = 0; i < MCO_TRIAL_STATE_COUNT; i++)
        if (strcmp(text, mco_trial_state_names[i]) == 0) return i;
    return -1;
}

double mco_trials_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

mco_status mco_trials_check_config(const mco_trials *h, const char *config, int rung, int max_trials)
{
    if (!config || !config[0]) return mco_error(MCO_ERR_ARG, "%s: empty trial configuration", h->path);
    if (strlen(config) >= MCO_TRIAL_CONFIG_MAX)
        return mco_error(MCO_ERR_RANGE, "%s: trial configuration longer than %d bytes", h->path,
                         MCO_TRIAL_CONFIG_MAX - 1);
    if (rung < 0) return mco_error(MCO_ERR_ARG, "%s: negative rung %d", h->path, rung);
    if (max_trials < 0) return mco_error(MCO_ERR_ARG, "%s: negative trial limit %d", h->path, max_trials);
    return MCO_OK;
}

static const char *or_none(const char *text)
{
    return text[0] ? text : "(none)";
}

mco_status mco_trials_compare_study(const mco_trials *h, const mco_trial_study *have, const mco_trial_study *want)
{
    if (strcmp(have->target, want->target) != 0)
        return mco_error(MCO_ERR_ARG, "%s: created for target %s, not %s", h->path, or_none(have->target),
                         or_none(want->target));
    if (strcmp(have->model_hash, want->model_hash) != 0)
        return mco_error(MCO_ERR_ARG, "%s: created for another model (%s, hash %s; this one's is %s)",
                         h->path, or_none(have->model_path), or_none(have->model_hash), or_none(want->model_hash));
    if (have->min_accuracy != want->min_accuracy)
        return mco_error(MCO_ERR_ARG, "%s: created with minimum accuracy %g, not %g", h->path,
                         have->min_accuracy, want->min_accuracy);
    if (have->seed != want->seed)
        return mco_error(MCO_ERR_ARG, "%s: created with seed %llu, not %llu", h->path,
                         (unsigned long long)have->seed, (unsigned long long)want->seed);
    if (have->budget != want->budget)
        return mco_error(MCO_ERR_ARG, "%s: created with budget %g, not %g", h->path, have->budget,
                         want->budget);
    if (strcmp(have->settings, want->settings) != 0)
        return mco_error(MCO_ERR_ARG,
                         "%s: created with other search settings (resume with the same options, or use a new database)",
                         h->path);
    return MCO_OK;
}

/* ---- choosing a backend ----------------------------------------------------------- */

/* The backend for `address` and where it starts (*rest: the file for SQLite). */
static mco_status pick_backend(const char *address, const mco_trials_ops **ops, const char **rest)
{
    *rest = address;
    *ops = &mco_trials_sqlite_ops;
    const char *sep = strstr(address, "://");
    if (!sep) return MCO_OK;   /* a plain file name */
    size_t scheme = (size_t)(sep - address);
    if (scheme == 6 && strncmp(address, "sqlite", 6) == 0) {
        *rest = sep + 3;
        if (!(*rest)[0]) return mco_error(MCO_ERR_ARG, "%s: no file after sqlite://", address);
        return MCO_OK;
    }
    if ((scheme == 10 && strncmp(address, "postgresql", 10) == 0) ||
        (scheme == 8 && strncmp(address, "postgres", 8) == 0)) {
        *ops = &mco_trials_postgres_ops;
        return MCO_OK;
    }
    for (size_t i = 0; i < scheme; i++)
        if (!((address[i] >= 'a' && address[i] <= 'z') || (address[i] >= 'A' && address[i] <= 'Z') ||
              (address[i] >= '0' && address[i] <= '9') || address[i] == '+' || address[i] == '-' || address[i] == '.'))
            return MCO_OK;   /* "://" inside a file name, not after a scheme */
    if (scheme == 0) return MCO_OK;
    return mco_error(MCO_ERR_ARG, "%s: unknown storage scheme '%.*s' (known: sqlite://FILE, postgresql://...)",
                     address, (int)scheme, address);
}

/* The address without a password, for messages: "user:secret@" becomes
 * "user@" and a "password=secret" parameter "password=***". */
static void printable_address(const char *address, char *out, size_t size)
{
    snprintf(out, size, "%s", address);
    char *sep = strstr(out, "://");
    if (!sep) return;
    char *auth = sep + 3;
    char *at = strchr(auth, '@');
    char *end = auth + strcspn(auth, "/?");
    if (at && at < end) {
        char *colon = memchr(auth, ':', (size_t)(at - auth));
        if (colon) memmove(colon, at, strlen(at) + 1);
    }
    char *query = strchr(out, '?');
    for (char *p = query; p && (p = strstr(p, "password=")) != NULL;) {
        p += strlen("password=");
        if (p[-10] != '?' && p[-10] != '&') continue;   /* e.g. "oldpassword=": not ours */
        size_t secret = strcspn(p, "&");
        size_t shown = secret >= 3 ? 3 : 0;   /* "***" fits where the secret was */
        memcpy(p, "***", shown);
        memmove(p + shown, p + secret, strlen(p + secret) + 1);
    }
}

mco_status mco_trials_open(const char *address, const mco_trial_study *study, mco_trials **out)
{
    *out = NULL;
    if (!address || !address[0]) return mco_error(MCO_ERR_ARG, "trials database: no path given");
    const mco_trials_ops *ops;
    const char *rest;
    mco_status st = pick_backend(address, &ops, &rest);
    if (st != MCO_OK) return st;
    mco_trials *h = calloc(1, sizeof *h);
    if (!h) return mco_error(MCO_ERR_NOMEM, "%s: out of memory", address);
    h->ops = ops;
    if (ops == &mco_trials_sqlite_ops) snprintf(h->path, sizeof h->path, "%s", rest);
    else printable_address(address, h->path, sizeof h->path);
    st = ops->open(h, rest, study);
    if (st != MCO_OK) {
        free(h);
        return st;
    }
    *out = h;
    return MCO_OK;
}

void mco_trials_close(mco_trials *h)
{
    if (h) h->ops->close(h);
}

int mco_trials_discard(mco_trials *h)
{
    return h ? h->ops->discard(h) : 0;
}

mco_status mco_trials_study(mco_trials *h, mco_trial_study *study)
{
    return h->ops->study(h, study);
}

mco_status mco_trials_add(mco_trials *h, const char *config, int rung, double budget, int max_trials,
                          mco_trial *trial, mco_add_outcome *outcome)
{
    return h->ops->add(h, config, rung, budget, max_trials, trial, outcome);
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
    return h->ops->claim(h, config, rung, budget, pid, trial, outcome);
}

mco_status mco_trials_claim_next(mco_trials *h, int pid, mco_trial *trial, mco_claim_outcome *outcome)
{
    if (pid <= 0) return mco_error(MCO_ERR_ARG, "%s: claim needs a worker pid", h->path);
    return h->ops->claim_next(h, pid, trial, outcome);
}

mco_status mco_trials_finish(mco_trials *h, const mco_trial *claimed, const mco_trial_result *result,
                             const mco_trial_stage *stages, int n_stages)
{
    if (!result) return mco_error(MCO_ERR_ARG, "%s: finishing trial %lld without a result", h->path,
                                  (long long)claimed->id);
    return h->ops->end(h, claimed, MCO_TRIAL_DONE, result, NULL, stages, n_stages);
}

mco_status mco_trials_fail(mco_trials *h, const mco_trial *claimed, const char *message)
{
    return h->ops->end(h, claimed, MCO_TRIAL_FAILED, NULL, message ? message : "failed", NULL, 0);
}

mco_status mco_trials_prune(mco_trials *h, const mco_trial *claimed, const mco_trial_result *result,
                            const char *reason)
{
    return h->ops->end(h, claimed, MCO_TRIAL_PRUNED, result, reason ? reason : "pruned", NULL, 0);
}

mco_status mco_trials_release(mco_trials *h, const mco_trial *claimed)
{
    return h->ops->release(h, claimed);
}

mco_status mco_trials_recover_stale(mco_trials *h, int *n_recovered)
{
    return h->ops->recover_stale(h, n_recovered);
}

mco_status mco_trials_heartbeat(mco_trials *h)
{
    return h->ops->heartbeat ? h->ops->heartbeat(h) : MCO_OK;
}

int mco_trials_spans_machines(const mco_trials *h)
{
    return h && h->ops == &mco_trials_postgres_ops;
}

mco_status mco_trials_put_model(mco_trials *h, int64_t id, const uint8_t *data, size_t size)
{
    if (!h->ops->put_model) return mco_error(MCO_ERR_ARG, "%s: this store keeps no model files", h->path);
    return h->ops->put_model(h, id, data, size);
}

mco_status mco_trials_get_model(mco_trials *h, int64_t id, uint8_t **data, size_t *size)
{
    *data = NULL;
    *size = 0;
    if (!h->ops->get_model) return mco_error(MCO_ERR_ARG, "%s: this store keeps no model files", h->path);
    return h->ops->get_model(h, id, data, size);
}

mco_status mco_trials_get(mco_trials *h, int64_t id, mco_trial *trial)
{
    return h->ops->get(h, id, trial);
}

mco_status mco_trials_list(mco_trials *h, const mco_trial_query *query, mco_trial **trials, int *n)
{
    return h->ops->list(h, query, trials, n);
}

mco_status mco_trials_stages(mco_trials *h, int64_t id, mco_trial_stage **stages, int *n)
{
    return h->ops->stages(h, id, stages, n);
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
    return (int)state >= 0 && state < MCO_TRIAL_STATE_COUNT ? mco_trial_state_names[state] : "unknown";
}

mco_status mco_trial_state_parse(const char *name, mco_trial_state *state)
{
    int s = mco_trial_state_from_text(name);
    if (s < 0)
        return mco_error(MCO_ERR_ARG, "unknown trial state '%s' (known: queued, running, done, failed, pruned)",
                         name);
    *state = (mco_trial_state)s;
    return MCO_OK;
}
