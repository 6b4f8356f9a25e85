/*
 * search_driver.c - the loop of `mcuopt search` (see search_driver.h and
 * docs/search.md): propose a batch, reject what cannot fit before training,
 * run the rest in forked workers, read the results back, repeat until the
 * budget is spent; then pick the best trial, check it on the test set and
 * on the emulated target, and write the model, its C code and the report.
 *
 * The loop keeps its whole state in memory and rebuilds it the same way on
 * a resume: it proposes exactly what the interrupted run proposed (a pure
 * function of the seed and earlier batches) and asks the trial store for
 * each (config, rung); finished trials come back with their stored results
 * and are not run again, stale ones (their worker is dead) run again.
 *
 * Resources of a configuration (Flash, RAM, latency, energy) depend only on
 * the structure of its deployed model (channels kept, weight format and
 * granularity), not on trained values, so they are measured once per
 * structure on the emulated target from a "dry" pipeline (no training,
 * 32 calibration images) and cached; every trial of that structure reuses
 * them (instruction counts vary by < 0.5 % with the data).
 *
 * What it leaves out: stopping a running trial when the budget ends (a
 * batch always completes), asynchronous promotion across batches (a batch
 * is the unit of determinism), the resource model of resource.h (the
 * emulator is exact and, cached per structure, cheap enough here).
 */
#include "mcuopt/search_driver.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "mcuopt/context.h"
#include "mcuopt/file_io.h"     /* mco_read_file, mco_write_file_atomic */
#include "mcuopt/file_util.h"   /* mco_remove_tree */
#include "mcuopt/codegen.h"
#include "mcuopt/deploy.h"
#include "mcuopt/pipeline.h"
#include "mcuopt/report.h"
#include "mcuopt/resource.h"
#include "mcuopt/train.h"

#define MAX_RUNGS 4
#define MAX_WORKERS 64
#define DUPLICATE_DRAWS 32       /* proposals tried per slot before giving up on new configs */
#define STRUCTURE_SAMPLES 2      /* images run on the emulator per structure */
#define SCORE_FAILED 3.0         /* sampler score of a failed trial (infeasible) */
#define FINAL_RESERVE_S 10.0     /* budget kept for the test evaluation, QEMU check and report */
#define MAX_REJECTED_IN_A_ROW 100 /* proposals in a row that do not fit before the search gives up */
#define RETIRE_MIN_TRIALS 2      /* trials (or rejections) of a format before it may be dropped (twice as
                                    many when none of them is feasible) */
#define MODEL_FILE_MAX ((size_t)64 << 20) /* a trial's model file kept in the store */
#define RETIRE_MARGIN 0.5        /* cost by which its best trails the best format's: a wide margin (the
                                    cost is a weighted sum of log ratios: 0.5 is ~1.65x the geometric mean) */

typedef struct {
    char dry[MCO_TRIAL_CONFIG_MAX];
    int fits;
    mco_search_resources r;
    char why[MCO_TRIAL_ERROR_MAX];
    int estimated;           /* 1: from the resource model, 0: measured in QEMU */
    int saved;               /* in the cache file (read from it, or appended) */
} structure;

typedef struct {
    char config[MCO_TRIAL_CONFIG_MAX];
    mco_search_point x;
    int structure;           /* index into the structure cache */
    int rejected;            /* pruned before training (does not fit, or dominated) */
    int dominated;           /* rejected as no better than a feasible trial (it would fit) */
    double excess;           /* then how far over the limits: mco_search_excess() */
    int failed;
    int finished[MAX_RUNGS];
    int promoted[MAX_RUNGS]; /* sent on to rung + 1 */
    double score[MAX_RUNGS];
    int feasible[MAX_RUNGS];
    double accuracy[MAX_RUNGS];
    int64_t trial_id[MAX_RUNGS];
    /* The same against the floor lowered by opt->rung_margin per rung below
     * the top: what promotions and the sampler go by. The chosen model
     * meets the floor itself (feasible). */
    double promise[MAX_RUNGS];
    int promising[MAX_RUNGS];
    int top_rung;            /* highest finished rung, -1: none */
} config_entry;

/* A trial that was in the store when this run started. */
typedef struct {
    char hash[MCO_TRIAL_HASH_HEX];
    int rung;
    int final;               /* done, failed or pruned */
} stored_trial;

typedef struct {
    int entry, rung;
    int64_t id;
    int skip;                /* not added: the study holds its trial limit */
    int done;                /* its final record has been absorbed */
    int waited;              /* another search was running it */
    mco_trial claimed;       /* the record of this search's claim (pid 0: none) */
    pid_t pid;               /* the worker running it (0: none now) */
} batch_item;

typedef struct {
    const mco_search_options *opt;
    mco_search_result *res;
    mco_trial_study study;
    mco_trials *db;
    mco_search_space space;
    mco_search_objective objective;
    mco_halving halving;
    int n_rungs;
    mco_dataset train_all, val;       /* the split of opt->train */
    mco_dataset rung_train[MAX_RUNGS];
    int threads;
    char trials_dir[400];
    char structures_path[420];        /* OUT/structures.tsv: measured structures, kept across runs */
    int made_out_dir, made_trials_dir, had_structures;   /* what a failed run removes again */
    mco_cost_model *cost_model;       /* resource.h's table, NULL: measure in QEMU */
    structure *structures;
    int n_structures, cap_structures;
    config_entry *entries;
    int n_entries, cap_entries;
    stored_trial *stored;              /* the store's trials at start-up */
    int n_stored;
    int n_trials;                      /* (config, rung) pairs the loop went through */
    int study_full;                    /* the store holds opt->max_trials trials */
    int rejected_in_a_row;             /* proposals that did not fit since the last that did */
    double closest_excess;             /* of res->closest_misfit */
    long draws;                        /* proposals drawn (seeds) */
    int weights_dim;                   /* the space's weight format dimension (-1: none) */
    mco_sampler sampler;               /* how proposals are made (search.h) */
    unsigned dropped;                  /* weight formats (choice indices as bits) reported as dropped */
    double t0, credited_s;
    double batch_seconds;              /* duration of the last batch that ran something */
    int shared;                        /* the store spans machines: learn from the study's other workers */
    uint64_t draw_salt;                /* this worker's own proposals in a shared study (0: none) */
    int n_pending;                     /* shared: trials of the study neither final nor this search's */
} search;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void mco_search_options_default(mco_search_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->min_accuracy = 0.975;
    opt->budget_s = 1800.0;
    opt->seed = 1;
    opt->workers = 1;
    opt->sampler = MCO_SAMPLER_TPE;
    opt->val_images = 5000;
    opt->eta = 3;
    opt->rung_margin = 0.005;
    opt->measure_images = 100;
    opt->use_resource_model = 1;
}

static uint64_t mix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

static int stopped(const search *s)
{
    return s->opt->stop && *s->opt->stop;
}

static double elapsed(const search *s)
{
    return s->credited_s + now_s() - s->t0;
}

/* 1 once no new trial should start: only the final reserve of the budget is left. */
static int out_of_time(const search *s)
{
    return elapsed(s) + FINAL_RESERVE_S >= s->opt->budget_s;
}

/* 1 if (config, rung) was final in the store when this run started (replaying it costs nothing). */
static int stored_final(const search *s, const char *config, int rung)
{
    char hash[MCO_TRIAL_HASH_HEX];
    mco_trials_hash_text(config, hash);
    for (int j = 0; j < s->n_stored; j++)
        if (s->stored[j].final && s->stored[j].rung == rung && strcmp(s->stored[j].hash, hash) == 0) return 1;
    return 0;
}

/* ---- set-up ------------------------------------------------------------------- */

/* Creates `path` unless it is a directory already; *made says whether this
 * call created it. Something else at `path` is refused, never replaced. */
static mco_status make_dir(const char *path, int *made)
{
    *made = mkdir(path, 0777) == 0;
    if (!*made && errno != EEXIST)
        return mco_error(MCO_ERR_IO, "%s: cannot create directory: %s", path, strerror(errno));
    struct stat info;
    if (!*made && stat(path, &info) == 0 && !S_ISDIR(info.st_mode))
        return mco_error(MCO_ERR_IO, "%s: exists and is %s, not a directory; refusing to replace it", path,
                         mco_file_kind(info.st_mode));
    return MCO_OK;
}

/* Runs a pipeline text without a test set or target (for probes and structures). */
static mco_status run_quiet(const search *s, const char *text, const mco_dataset *train, mco_pipeline_result *out)
{
    mco_pipeline p;
    mco_status st = mco_pipeline_parse(text, "search", &p);
    if (st != MCO_OK) return st;
    mco_pipeline_options po;
    mco_pipeline_options_default(&po);
    po.train = train;
    po.train_options.threads = s->threads;
    po.train_options.seed = s->opt->seed;
    return mco_pipeline_run(&p, s->opt->model, &po, out);
}

/* 1 if the pipeline library runs `text` (a stage may still be "not in the library yet"). */
static int pipeline_can_run(const search *s, const char *text)
{
    mco_dataset tiny;
    if (mco_dataset_head(&s->train_all, s->train_all.n < 64 ? s->train_all.n : 64, &tiny) != MCO_OK) return 0;
    mco_pipeline_result r;
    mco_status st = run_quiet(s, text, &tiny, &r);
    if (st == MCO_OK) mco_pipeline_result_free(&r);
    mco_dataset_free(&tiny);
    return st == MCO_OK;
}

static mco_status grow(void **array, int *cap, int need, size_t item)
{
    if (need <= *cap) return MCO_OK;
    int n = *cap ? *cap * 2 : 16;
    while (n < need) n *= 2;
    void *p = realloc(*array, (size_t)n * item);
    if (!p) return mco_error(MCO_ERR_NOMEM, "search: out of memory");
    *array = p;
    *cap = n;
    return MCO_OK;
}

/* The structure cache file: one line per measured structure,
 *   target <TAB> clock_mhz <TAB> fits <TAB> flash <TAB> ram <TAB> latency_ms <TAB> energy_uj <TAB> dry text
 * so a resumed or repeated search does not measure them again. Lines of
 * another target or clock, or that do not parse, are ignored. */
static void load_structures(search *s)
{
    char *text = NULL;
    if (mco_read_text_file(s->structures_path, MCO_READ_GENERATED_MAX, &text) != MCO_OK) {
        mco_clear_error();   /* absent (a first run) or unreadable: measure again */
        return;
    }
    double clock = s->opt->clock_mhz;
    for (char *line = text, *next; *line; line = next) {
        next = line + strcspn(line, "\n");
        if (*next) *next++ = '\0';
        structure c;
        memset(&c, 0, sizeof c);
        char target[64];
        double line_clock;
        int used = 0;
        if (sscanf(line, "%63[^\t]\t%lf\t%d\t%lf\t%lf\t%lf\t%lf\t%n", target, &line_clock, &c.fits, &c.r.flash_bytes,
                   &c.r.ram_bytes, &c.r.latency_ms, &c.r.energy_uj, &used) != 7 || used == 0)
            continue;
        if (strcmp(target, s->opt->target->name) != 0 || line_clock != clock) continue;
        snprintf(c.dry, sizeof c.dry, "%s", line + used);
        c.dry[strcspn(c.dry, "\n")] = '\0';
        if (!c.fits) snprintf(c.why, sizeof c.why, "not measurable (see an earlier run)");
        c.saved = 1;
        if (grow((void **)&s->structures, &s->cap_structures, s->n_structures + 1, sizeof(structure)) != MCO_OK) break;
        s->structures[s->n_structures++] = c;
    }
    free(text);
}

/* Appends a measured structure to the cache file, once its directory exists
 * (set-up measures the first ones before it creates the output directory). */
static void save_structure(const search *s, structure *c)
{
    if (c->estimated || c->saved) return;   /* estimates are cheap to redo and may change with the table */
    FILE *f;
    if (mco_output_append(s->structures_path, &f) != MCO_OK) {
        mco_clear_error();   /* a cache: not saving it costs a measurement next time (or, before
                                set-up has made the directory, it is saved then) */
        return;
    }
    fprintf(f, "%s\t%.17g\t%d\t%.17g\t%.17g\t%.17g\t%.17g\t%s\n", s->opt->target->name, s->opt->clock_mhz, c->fits,
            c->r.flash_bytes, c->r.ram_bytes, c->r.latency_ms, c->r.energy_uj, c->dry);
    c->saved = fclose(f) == 0;
}

/* The resources of a dry pipeline text, measured once (cached). */
static mco_status structure_of(search *s, const char *dry, int *index)
{
    for (int i = 0; i < s->n_structures; i++)
        if (strcmp(s->structures[i].dry, dry) == 0) {
            *index = i;
            return MCO_OK;
        }
    mco_status st = grow((void **)&s->structures, &s->cap_structures, s->n_structures + 1, sizeof(structure));
    if (st != MCO_OK) return st;
    structure *c = &s->structures[s->n_structures];
    memset(c, 0, sizeof *c);
    snprintf(c->dry, sizeof c->dry, "%s", dry);
    mco_pipeline_result pr;
    if ((st = run_quiet(s, dry, &s->train_all, &pr)) != MCO_OK) return st;
    if (s->cost_model) {
        mco_resource_estimate e;
        mco_plan_options po;
        mco_plan_options_default(&po);
        po.goal = s->opt->plan_goal;
        st = mco_resource_estimate_deploy_with(s->cost_model, &pr.deploy, s->opt->target, s->opt->clock_mhz, &po,
                                               &e);
        mco_pipeline_result_free(&pr);
        if (st != MCO_OK) return st;
        c->r.flash_bytes = (double)e.flash_bytes;
        c->r.ram_bytes = (double)e.ram_bytes;
        c->r.latency_ms = e.latency_ms;
        c->r.energy_uj = e.energy_uj;
        c->fits = 1;
        c->estimated = 1;
        mco_resource_estimate_free(&e);
        *index = s->n_structures++;
        return MCO_OK;
    }
    /* Measured on a copy of the profile without memory limits, so a model
     * that does not fit still gets its figures; fitting is judged by the
     * objective against the real profile. */
    mco_target_profile unlimited = *s->opt->target;
    unlimited.flash_kb = 1 << 20;
    unlimited.ram_kb = 1 << 20;
    unlimited.n_ram_regions = 0;   /* one region of ram_kb */
    mco_measure_options mo;
    mco_measure_options_default(&mo);
    mo.ctx = s->opt->ctx;
    mo.n_samples = STRUCTURE_SAMPLES;
    mo.clock_mhz = s->opt->clock_mhz;
    mo.plan_goal = s->opt->plan_goal;
    mco_measure_result m;
    st = mco_measure_deploy_model(&pr.deploy, &unlimited, &s->val, &mo, &m);
    mco_pipeline_result_free(&pr);
    if (st != MCO_OK) {
        /* Larger than the emulated machine's memory: it cannot fit the part either. */
        c->fits = 0;
        c->r.flash_bytes = c->r.ram_bytes = c->r.latency_ms = c->r.energy_uj = NAN;
        snprintf(c->why, sizeof c->why, "not measurable: %s", mco_last_error());
    } else {
        c->r.flash_bytes = (double)m.flash_bytes;
        c->r.ram_bytes = (double)m.ram_bytes;
        c->r.latency_ms = m.latency_ms;
        c->r.energy_uj = m.energy_uj;
        c->fits = 1;
    }
    save_structure(s, c);
    *index = s->n_structures++;
    return MCO_OK;
}

/* An AUC floor needs anomalous (1) and normal (0) validation samples:
 * without both the AUC is undefined and every trial would fall short of
 * the floor, so the search refuses to start, saying what to give. */
static mco_status check_auc_validation(const search *s)
{
    const mco_dataset *val = &s->val;
    int kinds[2] = {0, 0};
    for (int i = 0; val->labels && i < val->n; i++) kinds[val->labels[i] ? 1 : 0]++;
    if (kinds[0] > 0 && kinds[1] > 0) return MCO_OK;
    char source[160];
    if (s->opt->val)
        snprintf(source, sizeof source, "the validation set %s (%d samples)", val->name, val->n);
    else
        snprintf(source, sizeof source, "the %d validation samples held out of the training split", val->n);
    return mco_error(MCO_ERR_ARG, "search: %s hold no %s samples, and the AUC floor needs normal (label 0) and "
                     "anomalous (1) ones: give a labelled validation set with --val-data DIR (its test split, "
                     "e.g. part of DCASE's development test/ clips)", source, kinds[1] == 0 ? "anomalous" : "normal");
}

static mco_status setup_data(search *s)
{
    const mco_search_options *opt = s->opt;
    mco_dataset rest;
    mco_status st;
    if (opt->val) {
        /* A validation set of its own: all of the training split trains,
         * shuffled (a split of none) as the held-out case is, so that the
         * rungs' first fractions are fair samples of it. */
        mco_dataset none;
        if (opt->val->n < 1) return mco_error(MCO_ERR_ARG, "search: the validation set %s is empty", opt->val->name);
        st = mco_dataset_split(opt->train, 0, opt->seed, &rest, &none);
        mco_dataset_free(&none);
        if (st == MCO_OK) st = mco_dataset_head(opt->val, opt->val->n, &s->val);
        if (st != MCO_OK) {
            mco_dataset_free(&rest);
            return st;
        }
    } else {
        int n_val = opt->val_images;
        if (n_val < 100 || n_val >= opt->train->n)
            return mco_error(MCO_ERR_ARG, "search: %d validation images out of %d training images", n_val,
                             opt->train->n);
        st = mco_dataset_split(opt->train, n_val, opt->seed, &rest, &s->val);
        if (st != MCO_OK) return st;
    }
    if (opt->model->loss == MCO_LOSS_MSE && (st = check_auc_validation(s)) != MCO_OK) {
        mco_dataset_free(&rest);
        return st;
    }
    if (opt->train_images > 0 && opt->train_images < rest.n) {
        st = mco_dataset_head(&rest, opt->train_images, &s->train_all);
        mco_dataset_free(&rest);
        if (st != MCO_OK) return st;
    } else {
        s->train_all = rest;
    }
    /* The split already shuffled the images, so the first fraction of them
     * is a fair sample: rung r trains on that fraction. */
    for (int r = 0; r < s->n_rungs && st == MCO_OK; r++) {
        int n = (int)ceil(mco_halving_budget(&s->halving, r) * s->train_all.n);
        if (n < 32) n = s->train_all.n < 32 ? s->train_all.n : 32;
        st = mco_dataset_head(&s->train_all, n, &s->rung_train[r]);
    }
    return st;
}

/* Reads the store: time already spent on the study, and the trials it
 * holds (what a resume replays without running). */
static mco_status read_store(search *s)
{
    mco_trial *trials = NULL;
    int n = 0;
    mco_status st = mco_trials_list(s->db, NULL, &trials, &n);
    if (st != MCO_OK) return st;
    /* Time already spent on this study by earlier runs counts against the budget. */
    double first = INFINITY, last = -INFINITY;
    for (int i = 0; i < n; i++) {
        if (trials[i].queued_at < first) first = trials[i].queued_at;
        if (trials[i].finished_at > last) last = trials[i].finished_at;
    }
    s->credited_s = n > 0 && last > first ? last - first : 0.0;
    s->stored = calloc((size_t)n + 1, sizeof *s->stored);
    if (!s->stored) {
        free(trials);
        return mco_error(MCO_ERR_NOMEM, "search: out of memory");
    }
    for (int i = 0; i < n; i++) {
        snprintf(s->stored[i].hash, sizeof s->stored[i].hash, "%s", trials[i].config_hash);
        s->stored[i].rung = trials[i].rung;
        s->stored[i].final = trials[i].state == MCO_TRIAL_DONE || trials[i].state == MCO_TRIAL_FAILED ||
                             trials[i].state == MCO_TRIAL_PRUNED;
    }
    s->n_stored = n;
    free(trials);
    return MCO_OK;
}

/* "Flash 9,876 B is 8,852 B over the 1,024 B limit" for the first limit the
 * resources exceed, or why they are unknown. */
static void misfit_text(const search *s, const structure *c, char *buf, size_t size)
{
    if (!c->fits) snprintf(buf, size, "%s", c->why);
    else mco_search_fits(&s->objective, &c->r, buf, size);
}

/* Nothing can fit the target when even the most compressed candidates of
 * the space do not (Flash and RAM only shrink with more pruning and
 * narrower weights): then the search stops before it starts, with
 * MCO_ERR_RANGE saying which limit the smallest candidate misses, by how
 * much. */
static mco_status check_something_fits(search *s)
{
    mco_search_point corners[4];
    int n = mco_pipeline_space_smallest(&s->space, corners, 4);
    int closest = -1;
    double closest_excess = INFINITY;
    for (int i = 0; i < n; i++) {
        char dry[MCO_TRIAL_CONFIG_MAX];
        int index;
        mco_status st = mco_pipeline_space_config(&s->space, &corners[i], 1, dry, sizeof dry);
        if (st == MCO_OK) st = structure_of(s, dry, &index);
        if (st != MCO_OK) return st;
        const structure *c = &s->structures[index];
        if (c->fits && mco_search_fits(&s->objective, &c->r, NULL, 0)) return MCO_OK;
        double excess = c->fits ? mco_search_excess(&s->objective, &c->r) : INFINITY;
        if (closest < 0 || excess < closest_excess) closest = index, closest_excess = excess;
    }
    if (closest < 0) return MCO_OK;
    char why[MCO_TRIAL_ERROR_MAX];
    misfit_text(s, &s->structures[closest], why, sizeof why);
    return mco_error(MCO_ERR_RANGE, "search: nothing fits %s: even the smallest candidate (%s) does not: %s",
                     s->opt->target->name, s->structures[closest].dry, why);
}

/* A study in a store that spans machines may have other workers: each one
 * proposes from its own stream of draws (salted with its host name and
 * output directory as given, from the working directory, so a worker that is restarted with the same command
 * draws as before, and two workers do not propose the same configurations
 * in the same order), and learns from every finished trial of the study
 * (study_news() before each batch). */
static void join_shared_study(search *s)
{
    char host[256] = "";
    if (gethostname(host, sizeof host - 1) != 0) host[0] = 0;
    char cwd[4096] = "";
    if (s->opt->out_dir[0] != '/' && !getcwd(cwd, sizeof cwd)) cwd[0] = 0;
    size_t size = strlen(host) + strlen(cwd) + strlen(s->opt->out_dir) + 3;
    char *name = malloc(size);
    char hex[MCO_TRIAL_HASH_HEX];
    if (name) {
        snprintf(name, size, "%s:%s/%s", host, cwd, s->opt->out_dir);
        mco_trials_hash_text(name, hex);
    } else {
        mco_trials_hash_text(s->opt->out_dir, hex);   /* out of memory: the directory alone */
    }
    free(name);
    s->shared = 1;
    s->draw_salt = mix64(strtoull(hex, NULL, 16)) | 1u;   /* never 0: that is the unshared stream */
}

static mco_status setup(search *s)
{
    const mco_search_options *opt = s->opt;
    if (!opt->model || !opt->model_path || !opt->target || !opt->train || !opt->db_path || !opt->out_dir)
        return mco_error(MCO_ERR_ARG, "search: model, model path, target, training set, database and output "
                                      "directory are required");
    if (opt->workers < 1 || opt->workers > MAX_WORKERS)
        return mco_error(MCO_ERR_ARG, "search: --workers must be 1..%d", MAX_WORKERS);
    if (!(opt->min_accuracy > 0.0 && opt->min_accuracy <= 1.0))
        return mco_error(MCO_ERR_ARG, "search: the accuracy floor must be in (0, 1]");
    if (!(opt->budget_s > 0.0 && isfinite(opt->budget_s)))
        return mco_error(MCO_ERR_ARG, "search: the time budget must be a positive number of seconds");
    if (opt->max_trials < 0) return mco_error(MCO_ERR_ARG, "search: negative trial limit %d", opt->max_trials);
    int cores = mco_context_threads(opt->ctx);   /* the threads the program lets the library use */
    s->threads = opt->threads > 0 ? opt->threads : cores > opt->workers ? cores / opt->workers : 1;
    s->halving.eta = opt->eta >= 2 ? opt->eta : 3;
    s->halving.max_budget = 1.0;
    s->halving.min_budget = 1.0 / (double)(s->halving.eta * s->halving.eta);
    s->n_rungs = mco_halving_rungs(&s->halving);
    if (s->n_rungs > MAX_RUNGS) s->n_rungs = MAX_RUNGS;
    mco_status st = setup_data(s);
    if (st != MCO_OK) return st;
    if (strlen(opt->out_dir) + 20 > sizeof s->trials_dir ||
        (opt->artifacts_dir && strlen(opt->artifacts_dir) + 1 > sizeof s->trials_dir))
        return mco_error(MCO_ERR_ARG, "search: output directory path too long");
    if (opt->artifacts_dir) snprintf(s->trials_dir, sizeof s->trials_dir, "%s", opt->artifacts_dir);
    else snprintf(s->trials_dir, sizeof s->trials_dir, "%s/trials", opt->out_dir);
    snprintf(s->structures_path, sizeof s->structures_path, "%s/structures.tsv", opt->out_dir);
    s->had_structures = access(s->structures_path, F_OK) == 0;

    /* The space, conditioned on what the pipeline library can run now. */
    mco_pipeline_space_caps caps = {1, 0, 0, opt->formats, opt->stages};
    caps.unstructured = pipeline_can_run(s, "prune:sparsity=0.1 -> quant:int8,samples=8");
    caps.qat = pipeline_can_run(s, "qat:epochs=1");
    mco_clear_error();
    if ((st = mco_pipeline_space_build(opt->target, &caps, &s->space)) != MCO_OK) return st;
    if ((st = mco_search_space_check(&s->space)) != MCO_OK) return st;
    s->weights_dim = -1;
    for (int d = 0; d < s->space.n_dims; d++)
        if (strcmp(s->space.dims[d].name, "weights") == 0) s->weights_dim = d;
    if ((unsigned)opt->sampler > MCO_SAMPLER_NSGA2)
        return mco_error(MCO_ERR_ARG, "search: unknown sampler %d", (int)opt->sampler);
    mco_sampler_init(&s->sampler, opt->sampler);
    s->sampler.retire_dim = s->weights_dim;
    s->sampler.retire_min_trials = RETIRE_MIN_TRIALS;
    s->sampler.retire_margin = RETIRE_MARGIN;
    s->sampler.retire_winner_below = 0.0;   /* the starting model's cost */

    /* The study: everything that must be equal for a resume to continue. */
    mco_trial_study *study = &s->study;
    memset(study, 0, sizeof *study);
    char hash[MCO_TRIAL_HASH_HEX];
    if ((st = mco_trials_hash_file(opt->model_path, hash)) != MCO_OK) return st;
    snprintf(study->model_hash, sizeof study->model_hash, "%s", hash);
    snprintf(study->model_path, sizeof study->model_path, "%s", opt->model_path);
    snprintf(study->target, sizeof study->target, "%s", opt->target->name);
    study->min_accuracy = opt->min_accuracy;
    study->seed = opt->seed;
    study->budget = opt->budget_s;
    char space_text[2048], latency_text[32], clock_text[32];
    mco_pipeline_space_describe(&s->space, space_text, sizeof space_text);
    /* 0 means unset: written so, not as a limit of 0 */
    if (opt->max_latency_ms > 0) snprintf(latency_text, sizeof latency_text, "%g", opt->max_latency_ms);
    else snprintf(latency_text, sizeof latency_text, "unset");
    if (opt->clock_mhz > 0) snprintf(clock_text, sizeof clock_text, "%g", opt->clock_mhz);
    else snprintf(clock_text, sizeof clock_text, "profile(%g)", opt->target->clock_mhz);
    snprintf(study->settings, sizeof study->settings,
             "sampler=%s eta=%d rung_margin=%g val_images=%d train_images=%d max_latency_ms=%s clock_mhz=%s%s "
             "space: %s",
             mco_sampler_name(opt->sampler), s->halving.eta, opt->rung_margin, s->val.n,
             s->train_all.n, latency_text, clock_text,
             opt->plan_goal == MCO_PLAN_SMALLEST ? " optimize=size" : "", space_text);
    if (opt->val) {   /* only then: earlier studies keep their settings */
        size_t used = strlen(study->settings);
        snprintf(study->settings + used, sizeof study->settings - used, " val_data=%s", opt->val->name);
    }
    if (opt->objective == MCO_OBJECTIVE_PARETO) {   /* only then: earlier studies keep their settings */
        size_t used = strlen(study->settings);
        snprintf(study->settings + used, sizeof study->settings - used, " objective=pareto");
    }

    /* Resources from resource.h's model when its calibration table is there
     * (fast), else from the emulator (exact, ~3 s per structure). One source
     * for all trials, so the report can say which: the cache of measured
     * structures is read only when they are measured. */
    const char *table = mco_context_resource(opt->ctx, MCO_RESOURCE_COST_MODEL);
    if (opt->use_resource_model && (!table || mco_cost_model_load(table, &s->cost_model) != MCO_OK)) {
        s->cost_model = NULL;
        mco_clear_error();
    }
    if (!s->cost_model) load_structures(s);
    snprintf(s->res->trial_figures, sizeof s->res->trial_figures, "%s", s->cost_model ? "predicted" : "measured");
    snprintf(s->res->model_hash, sizeof s->res->model_hash, "%s", study->model_hash);

    /* The reference: the starting model deployed as int8. */
    int ref;
    if ((st = structure_of(s, "quant:int8,calibration=minmax,samples=32", &ref)) != MCO_OK) return st;
    s->res->reference = s->structures[ref].r;
    mco_search_objective_init(&s->objective, opt->target, &s->structures[ref].r, opt->min_accuracy,
                              opt->max_latency_ms);
    /* Before anything is written: a target nothing can fit is an error. */
    if ((st = check_something_fits(s)) != MCO_OK) return st;

    /* The outputs and the store (by default inside the output directory). */
    if ((st = make_dir(opt->out_dir, &s->made_out_dir)) != MCO_OK) return st;
    if ((st = make_dir(s->trials_dir, &s->made_trials_dir)) != MCO_OK) return st;
    for (int i = 0; i < s->n_structures; i++) save_structure(s, &s->structures[i]);
    if ((st = mco_trials_open(opt->db_path, study, &s->db)) != MCO_OK) return st;
    if ((st = mco_trials_recover_stale(s->db, NULL)) != MCO_OK) return st;
    if ((st = read_store(s)) != MCO_OK) return st;
    if (mco_trials_spans_machines(s->db)) join_shared_study(s);
    return MCO_OK;
}

/* ---- the history the sampler sees --------------------------------------------- */

/* The objectives of a feasible trial in a Pareto search, all minimised:
 * 1 - accuracy and the log ratios of Flash, RAM and latency to the
 * starting model's (the cost's terms, unweighted). */
static int pareto_objectives(const search *s, double accuracy, const mco_search_resources *r, double *f)
{
    const mco_search_resources *ref = &s->objective.reference;
    f[0] = 1.0 - accuracy;
    f[1] = log(r->flash_bytes / ref->flash_bytes);
    f[2] = log(r->ram_bytes / ref->ram_bytes);
    f[3] = log(r->latency_ms / ref->latency_ms);
    for (int k = 0; k < 4; k++)
        if (!isfinite(f[k])) f[k] = 1e9;   /* unknown: worst */
    return 4;
}

static int build_history(const search *s, mco_search_observation *h)
{
    int n = 0;
    for (int i = 0; i < s->n_entries; i++) {
        const config_entry *e = &s->entries[i];
        memset(&h[n], 0, sizeof h[n]);
        if (e->dominated) {
            /* Its cost is known (resources only) and no better than a
             * feasible trial's: the sampler learns it is no improvement. */
            h[n].x = e->x;
            h[n].feasible = 1;
            h[n].objective = mco_search_cost(&s->objective, &s->structures[e->structure].r);
            n++;
        } else if (e->rejected || e->failed) {
            /* A rejection scores by how far it misses the limits, so the
             * sampler moves towards configurations that fit. */
            h[n].x = e->x;
            h[n].feasible = 0;
            h[n].objective = e->failed ? SCORE_FAILED : 2.0 + (e->excess > 0 ? fmin(e->excess, 0.99) : 0.0);
            n++;
        } else if (e->top_rung >= 0) {
            h[n].x = e->x;
            h[n].feasible = e->promising[e->top_rung];
            h[n].objective = e->promise[e->top_rung];
            if (s->opt->objective == MCO_OBJECTIVE_PARETO && h[n].feasible)
                h[n].n_f = pareto_objectives(s, e->accuracy[e->top_rung], &s->structures[e->structure].r, h[n].f);
            n++;
        }
    }
    return n;
}

static int find_entry(const search *s, const char *config)
{
    for (int i = 0; i < s->n_entries; i++)
        if (strcmp(s->entries[i].config, config) == 0) return i;
    return -1;
}

/* ---- one trial in a worker process ---------------------------------------------- */

static uint64_t trial_seed(const search *s, const char *config)
{
    char hex[MCO_TRIAL_HASH_HEX];
    mco_trials_hash_text(config, hex);
    return mix64(s->opt->seed ^ strtoull(hex, NULL, 16));
}

static void stage_rows(const mco_pipeline_result *pr, mco_trial_stage *rows)
{
    for (int i = 0; i < pr->n_reports; i++) {
        const mco_stage_report *r = &pr->reports[i];
        mco_trial_stage_init(&rows[i]);
        rows[i].index = i;
        snprintf(rows[i].stage, sizeof rows[i].stage, "%s", r->stage);
        rows[i].accuracy = r->accuracy >= 0.0 ? r->accuracy : NAN;
        if (r->measured) {
            rows[i].flash_bytes = (double)r->flash_bytes;
            rows[i].ram_bytes = (double)r->ram_bytes;
            rows[i].instructions = r->instructions;
        }
    }
}

/* Runs a claimed trial and records how it ended; returns nothing (the store holds it). */
static void run_trial(const search *s, mco_trials *db, const mco_trial *t, const structure *c)
{
    mco_pipeline p;
    mco_pipeline_result pr;
    mco_status st = mco_pipeline_parse(t->config, "search", &p);
    if (st == MCO_OK) {
        mco_pipeline_options po;
        mco_pipeline_options_default(&po);
        po.train = &s->rung_train[t->rung];
        po.test = &s->val;
        po.train_options.threads = s->threads;
        po.train_options.seed = trial_seed(s, t->config);
        st = mco_pipeline_run(&p, s->opt->model, &po, &pr);
    }
    if (st != MCO_OK) {
        mco_trials_fail(db, t, mco_last_error());
        return;
    }
    mco_trial_result r;
    mco_trial_result_init(&r);
    r.accuracy = pr.reports[pr.n_reports - 1].accuracy;
    r.flash_bytes = c->r.flash_bytes;
    r.ram_bytes = c->r.ram_bytes;
    r.latency_ms = c->r.latency_ms;
    r.energy_uj = c->r.energy_uj;
    double clock = s->opt->clock_mhz > 0 ? s->opt->clock_mhz : s->opt->target->clock_mhz;
    r.cycles = c->r.latency_ms * clock * 1000.0;
    r.objective = mco_search_cost(&s->objective, &c->r);
    snprintf(r.deploy_path, sizeof r.deploy_path, "%s/trial-%lld.mcq", s->trials_dir, (long long)t->id);
    if (!pr.is_deploy || mco_deploy_save(&pr.deploy, r.deploy_path) != MCO_OK) r.deploy_path[0] = '\0';
    /* Workers on several machines with no directory they share: the model
     * goes into the store too, so any machine can write the outputs. */
    if (r.deploy_path[0] && mco_trials_spans_machines(db) && !s->opt->artifacts_dir) {
        uint8_t *bytes;
        size_t size;
        mco_status kept = mco_read_file(r.deploy_path, MODEL_FILE_MAX, &bytes, &size);
        if (kept == MCO_OK) {
            kept = mco_trials_put_model(db, t->id, bytes, size);
            free(bytes);
        }
        if (kept != MCO_OK) {
            mco_trials_fail(db, t, mco_last_error());
            mco_pipeline_result_free(&pr);
            return;
        }
    }
    mco_trial_stage rows[MCO_PIPELINE_MAX_STAGES + 1];
    stage_rows(&pr, rows);
    mco_trials_finish(db, t, &r, rows, pr.n_reports);
    mco_pipeline_result_free(&pr);
}

/* A forked worker: runs the trial its parent claimed (the claim carries the
 * parent's pid, which stays alive while it waits for this worker). */
static void worker_main(const search *s, const batch_item *item)
{
#ifdef __linux__
    prctl(PR_SET_PDEATHSIG, SIGKILL);   /* a killed search leaves no orphans behind */
#endif
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    const config_entry *e = &s->entries[item->entry];
    mco_trials *db;
    /* A database server may be restarting: the parent's calls wait for it
     * (they reconnect), and so does the trial's own connection, for as long
     * (PG_RECONNECT_S in trials_postgres.c). */
    for (int waited = 0; mco_trials_open(s->opt->db_path, &s->study, &db) != MCO_OK; waited++) {
        if (!s->shared || waited >= 60) _exit(2);
        sleep(1);
    }
    run_trial(s, db, &item->claimed, &s->structures[e->structure]);
    mco_trials_close(db);
    _exit(0);
}

/* ---- a batch -------------------------------------------------------------------- */

static void report_progress(search *s, int running)
{
    const mco_search_options *opt = s->opt;
    if (!opt->progress) return;
    mco_search_progress p;
    memset(&p, 0, sizeof p);
    mco_search_result *res = s->res;
    p.trials_done = res->n_done + res->n_pruned + res->n_failed;
    p.trials_pruned = res->n_pruned;
    p.trials_reused = res->n_reused;
    p.running = running;
    p.elapsed_s = elapsed(s);
    p.budget_s = opt->budget_s;
    double best = INFINITY;
    for (int i = 0; i < s->n_entries; i++) {
        const config_entry *e = &s->entries[i];
        for (int r = 0; r < s->n_rungs; r++)
            if (e->finished[r] && e->feasible[r] && e->score[r] < best) {
                best = e->score[r];
                p.found = 1;
                p.best_cost = e->score[r];
                p.best_flash_bytes = s->structures[e->structure].r.flash_bytes;
                p.best_latency_ms = s->structures[e->structure].r.latency_ms;
            }
    }
    opt->progress(opt->progress_user, &p);
}

/* Puts a final trial's outcome into its entry (done: the scores at its
 * rung; pruned: rejected; failed). */
static void record_result(search *s, config_entry *e, int rung, const mco_trial *t)
{
    const structure *c = &s->structures[e->structure];
    if (t->state == MCO_TRIAL_DONE) {
        e->finished[rung] = 1;
        mco_search_score(&s->objective, t->result.accuracy, &c->r, &e->score[rung], &e->feasible[rung]);
        e->accuracy[rung] = t->result.accuracy;
        e->trial_id[rung] = t->id;
        mco_search_objective lowered = s->objective;
        lowered.min_accuracy -= s->opt->rung_margin * (s->n_rungs - 1 - rung);
        mco_search_score(&lowered, t->result.accuracy, &c->r, &e->promise[rung], &e->promising[rung]);
        if (rung > e->top_rung) e->top_rung = rung;
    } else if (t->state == MCO_TRIAL_PRUNED) {
        e->rejected = 1;
    } else {
        e->failed = 1;
    }
}

/* Records a finished trial's result in the loop's state. */
static void absorb(search *s, const batch_item *item, const mco_trial *t)
{
    mco_search_result *res = s->res;
    record_result(s, &s->entries[item->entry], item->rung, t);
    if (t->state == MCO_TRIAL_DONE) res->n_done++;
    else if (t->state == MCO_TRIAL_PRUNED) res->n_pruned++;
    else res->n_failed++;
}

/* With a store that spans machines, before each batch: takes in what the
 * study's other workers did. A trial this search has no record of becomes
 * known, so the sampler learns from everyone's results, promotions count
 * everyone's trials (a promotion another worker added is not added again:
 * the store holds each configuration and rung once, so whichever worker
 * adds it first decides it), and a configuration another worker has queued
 * or is running is not proposed again. A trial not final yet is looked at
 * again next time. A trial pruned before training whose structure fits
 * was pruned as dominated (reject()). */
static mco_status study_news(search *s)
{
    mco_trial *trials = NULL;
    int n = 0;
    mco_status st = mco_trials_list(s->db, NULL, &trials, &n);
    s->n_pending = 0;
    for (int i = 0; i < n && st == MCO_OK; i++) {
        const mco_trial *t = &trials[i];
        int final = t->state == MCO_TRIAL_DONE || t->state == MCO_TRIAL_PRUNED || t->state == MCO_TRIAL_FAILED;
        if (t->rung < 0 || t->rung >= s->n_rungs) continue;
        s->n_pending += !final;   /* between batches, a trial not final is another worker's (or a dead one's) */
        int k = find_entry(s, t->config);
        if (k < 0) {
            mco_search_point x;
            char dry[MCO_TRIAL_CONFIG_MAX];
            int structure_index;
            if (mco_pipeline_space_point(&s->space, t->config, &x) != MCO_OK ||
                mco_pipeline_space_config(&s->space, &x, 1, dry, sizeof dry) != MCO_OK) {
                mco_clear_error();   /* not a point of this study's space (the study check makes it rare) */
                continue;
            }
            if ((st = structure_of(s, dry, &structure_index)) != MCO_OK) break;
            if ((st = grow((void **)&s->entries, &s->cap_entries, s->n_entries + 1, sizeof(config_entry))) != MCO_OK)
                break;
            k = s->n_entries++;
            config_entry *e = &s->entries[k];
            memset(e, 0, sizeof *e);
            snprintf(e->config, sizeof e->config, "%s", t->config);
            e->x = x;
            e->structure = structure_index;
            e->top_rung = -1;
            if (t->rung == 0) s->n_trials++;
        }
        config_entry *e = &s->entries[k];
        if (t->rung > 0 && !e->promoted[t->rung - 1]) {   /* another worker's promotion */
            e->promoted[t->rung - 1] = 1;
            s->n_trials++;
        }
        if (!final || e->finished[t->rung] || e->failed || (e->rejected && t->state == MCO_TRIAL_PRUNED)) continue;
        if (t->state == MCO_TRIAL_PRUNED) {
            const structure *c = &s->structures[e->structure];
            e->dominated = c->fits && mco_search_fits(&s->objective, &c->r, NULL, 0);
            e->excess = c->fits ? mco_search_excess(&s->objective, &c->r) : INFINITY;
        }
        record_result(s, e, t->rung, t);
        s->res->n_learned++;
    }
    free(trials);
    return st;
}

/* Takes one step for a batch item whose trial is not final and that no
 * worker of this search is running: claims it and starts a worker if it is
 * queued or its worker died, reads it back if it is final, or leaves it to
 * the other search on the same store that is running it. */
static mco_status step_item(search *s, batch_item *item)
{
    config_entry *e = &s->entries[item->entry];
    double budget = mco_halving_budget(&s->halving, item->rung);
    mco_trial t;
    mco_claim_outcome outcome;
    mco_status st = mco_trials_claim(s->db, e->config, item->rung, budget, (int)getpid(), &t, &outcome);
    if (st != MCO_OK) return st;
    if (outcome == MCO_CLAIM_FINISHED) {
        if (item->waited) s->res->n_by_others++;
        else s->res->n_reused++;
        item->done = 1;
        absorb(s, item, &t);
    } else if (outcome == MCO_CLAIM_BUSY) {
        item->waited = 1;
    } else {
        item->claimed = t;
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0) {
            mco_trials_release(s->db, &t);
            return mco_error(MCO_ERR_IO, "search: fork: %s", strerror(errno));
        }
        if (pid == 0) worker_main(s, item);
        item->pid = pid;
    }
    return MCO_OK;
}

/* After this search's worker for `item` exited: reads its trial back. A
 * worker that died without recording an end left it running under this
 * search's claim: it fails. */
static mco_status worker_ended(search *s, batch_item *item)
{
    mco_trial t;
    mco_status st = mco_trials_get(s->db, item->id, &t);
    if (st == MCO_OK && t.state == MCO_TRIAL_RUNNING) {
        st = mco_trials_fail(s->db, &item->claimed, "the worker process died");
        if (st == MCO_OK) st = mco_trials_get(s->db, item->id, &t);
    }
    if (st != MCO_OK) return st;
    s->res->n_run++;
    item->done = 1;
    absorb(s, item, &t);
    return MCO_OK;
}

/* Runs a batch. Each item's trial is added to the store (unless the study
 * already holds opt->max_trials trials: then the item is skipped and the
 * search ends after this batch), then claimed and run by a forked worker, or
 * read back if it is final. A trial another search on the same store is
 * running is waited for and read back when it ends: concurrent searches on
 * one store share the trials and the study's trial limit. A stop kills the
 * workers and puts their trials back in the queue. */
static mco_status run_batch(search *s, batch_item *items, int n)
{
    mco_status st = MCO_OK;
    double t0 = now_s();
    int max_trials = s->opt->max_trials;
    for (int i = 0; i < n && st == MCO_OK; i++) {
        batch_item *item = &items[i];
        config_entry *e = &s->entries[item->entry];
        mco_trial t;
        mco_add_outcome added;
        item->done = item->skip = item->waited = 0;
        item->pid = 0;
        memset(&item->claimed, 0, sizeof item->claimed);
        st = mco_trials_add(s->db, e->config, item->rung, mco_halving_budget(&s->halving, item->rung), max_trials, &t,
                            &added);
        if (st == MCO_OK && added == MCO_ADD_FULL) item->skip = s->study_full = 1;
        else if (st == MCO_OK) item->id = t.id;
    }
    int ran = 0;
    double last_report = 0.0, last_poll = 0.0;
    for (;;) {
        int pending = 0, running = 0;
        int poll_others = now_s() - last_poll >= 0.5;   /* claims of waited-for trials: twice a second */
        if (poll_others) last_poll = now_s();
        for (int i = 0; i < n && st == MCO_OK; i++) {
            batch_item *item = &items[i];
            if (item->skip || item->done) continue;
            pending++;
            if (item->pid > 0) {
                /* Each worker is waited for by its own pid: a program that
                 * embeds the library may have children of its own, which
                 * waitpid(-1) would reap and lose for it. ECHILD: reaped
                 * elsewhere, so it has ended. */
                int status;
                pid_t r = waitpid(item->pid, &status, WNOHANG);
                if (r == 0 || (r < 0 && errno != ECHILD)) {
                    running++;
                    continue;
                }
                item->pid = 0;
                ran = 1;
                st = worker_ended(s, item);
                if (st != MCO_OK || item->done) continue;
            }
            if (stopped(s) || (item->waited && !poll_others)) continue;
            st = step_item(s, item);
            running += item->pid > 0;
        }
        if (st != MCO_OK || pending == 0) break;
        if (stopped(s)) {
            for (int i = 0; i < n; i++) {
                if (items[i].pid <= 0) continue;
                kill(items[i].pid, SIGKILL);
                waitpid(items[i].pid, NULL, 0);
                items[i].pid = 0;
                if (!items[i].done) mco_trials_release(s->db, &items[i].claimed);
            }
            break;
        }
        if (now_s() - last_report >= 1.0) {
            report_progress(s, running);
            last_report = now_s();
        }
        st = mco_trials_heartbeat(s->db);   /* keeps the claims of running trials (PostgreSQL leases) */
        if (st != MCO_OK) break;
        struct timespec nap = {0, 50 * 1000 * 1000};
        nanosleep(&nap, NULL);
    }
    if (st != MCO_OK) {   /* stop this batch's workers: nothing will read their results */
        for (int i = 0; i < n; i++)
            if (items[i].pid > 0) {
                kill(items[i].pid, SIGKILL);
                waitpid(items[i].pid, NULL, 0);
                mco_trials_release(s->db, &items[i].claimed);
            }
    }
    if (ran) s->batch_seconds = now_s() - t0;
    return st;
}

/* ---- proposing ------------------------------------------------------------------- */

/* Adds the promotions due (successive halving), higher rungs first. */
static int add_promotions(search *s, batch_item *items, int n, int cap)
{
    double *keys = malloc((size_t)(s->n_entries + 1) * sizeof *keys);
    int *idx = malloc((size_t)(s->n_entries + 1) * sizeof *idx);
    int *sel = malloc((size_t)(s->n_entries + 1) * sizeof *sel);
    if (!keys || !idx || !sel) {
        free(keys), free(idx), free(sel);
        return n;
    }
    for (int r = s->n_rungs - 2; r >= 0 && n < cap; r--) {
        int m = 0;
        for (int i = 0; i < s->n_entries; i++) {
            const config_entry *e = &s->entries[i];
            if (!e->finished[r]) continue;
            keys[m] = e->promising[r] ? e->promise[r] : 1000.0 + e->promise[r];
            idx[m++] = i;
        }
        if (m < s->halving.eta) continue;
        int k = mco_halving_select(&s->halving, keys, m, sel);
        for (int j = 0; j < k && n < cap; j++) {
            config_entry *e = &s->entries[idx[sel[j]]];
            if (e->promoted[r]) continue;
            e->promoted[r] = 1;
            items[n].entry = idx[sel[j]];
            items[n].rung = r + 1;
            n++;
        }
    }
    free(keys), free(idx), free(sel);
    return n;
}

/* Rejects a configuration before it trains: a pruned trial. It cannot fit
 * (dominant = NULL), or (dominant: an entry feasible on full data) its
 * Flash, RAM, latency and energy are each no better than that entry's, so
 * its cost cannot be lower. */
static mco_status reject(search *s, config_entry *e, const structure *c, const config_entry *dominant)
{
    mco_trial t;
    mco_claim_outcome outcome;
    mco_add_outcome added;
    double budget = mco_halving_budget(&s->halving, 0);
    mco_status st = mco_trials_add(s->db, e->config, 0, budget, s->opt->max_trials, &t, &added);
    if (st != MCO_OK) return st;
    e->rejected = 1;
    e->dominated = dominant != NULL;
    char why[MCO_TRIAL_ERROR_MAX];
    if (dominant) {
        const mco_search_resources *d = &s->structures[dominant->structure].r;
        int top = s->n_rungs - 1;
        snprintf(why, sizeof why,
                 "dominated before training: Flash %.0f B, RAM %.0f B, latency %.3f ms are no better than "
                 "trial %lld's (%.0f B, %.0f B, %.3f ms, feasible, cost %+.3f)",
                 c->r.flash_bytes, c->r.ram_bytes, c->r.latency_ms, (long long)dominant->trial_id[top],
                 d->flash_bytes, d->ram_bytes, d->latency_ms, dominant->score[top]);
    } else {
        e->excess = c->fits ? mco_search_excess(&s->objective, &c->r) : INFINITY;
        misfit_text(s, c, why, sizeof why);
        if (!s->res->closest_misfit[0] || e->excess < s->closest_excess) {
            snprintf(s->res->closest_misfit, sizeof s->res->closest_misfit, "%.240s: %s", e->config, why);
            s->closest_excess = e->excess;
        }
    }
    if (added == MCO_ADD_FULL) {
        s->study_full = 1;
        return MCO_OK;
    }
    st = mco_trials_claim(s->db, e->config, 0, budget, (int)getpid(), &t, &outcome);
    if (st != MCO_OK) return st;
    if (outcome == MCO_CLAIM_CLAIMED) {
        mco_trial_result r;
        mco_trial_result_init(&r);
        r.flash_bytes = c->r.flash_bytes;
        r.ram_bytes = c->r.ram_bytes;
        r.latency_ms = c->r.latency_ms;
        r.energy_uj = c->r.energy_uj;
        char reason[MCO_TRIAL_ERROR_MAX + 32];
        if (dominant) snprintf(reason, sizeof reason, "%s", why);
        else snprintf(reason, sizeof reason, "does not fit before training: %s", why);
        st = mco_trials_prune(s->db, &t, &r, reason);
        s->res->n_run++;
    } else {
        s->res->n_reused++;
    }
    s->res->n_pruned++;
    return st;
}

/* With the weighted cost, the first entry feasible on full data whose
 * resources are each no larger than `r` (NULL: none). A Pareto search
 * keeps such a configuration: it may be more accurate. */
static const config_entry *dominating_entry(const search *s, const mco_search_resources *r)
{
    if (s->opt->objective != MCO_OBJECTIVE_COST) return NULL;
    int top = s->n_rungs - 1;
    for (int i = 0; i < s->n_entries; i++) {
        const config_entry *e = &s->entries[i];
        if (!e->finished[top] || !e->feasible[top]) continue;
        const mco_search_resources *d = &s->structures[e->structure].r;
        if (d->flash_bytes <= r->flash_bytes && d->ram_bytes <= r->ram_bytes && d->latency_ms <= r->latency_ms &&
            d->energy_uj <= r->energy_uj)
            return e;
    }
    return NULL;
}

/* Records in res->formats_dropped the weight formats the sampler newly
 * retired (mco_search_retired), once each, with why. */
static void note_dropped_formats(search *s, const mco_search_observation *history, int n)
{
    mco_search_retirement r;
    mco_search_retired(&s->sampler, &s->space, history, n, &r);
    if (r.winner < 0) return;
    const mco_search_dim *dim = &s->space.dims[s->weights_dim];
    for (int c = 0; c < dim->n_choices; c++) {
        if (!(r.retired & (1u << c)) || (s->dropped & (1u << c))) continue;
        s->dropped |= 1u << c;
        char why[128];
        if (isfinite(r.best[c]))
            snprintf(why, sizeof why, "%s after %d trials (best cost %+.2f against %+.2f for %s)", dim->choices[c],
                     r.tried[c], r.best[c], r.best[r.winner], dim->choices[r.winner]);
        else
            snprintf(why, sizeof why, "%s after %d trials (none feasible; %s has cost %+.2f)", dim->choices[c],
                     r.tried[c], dim->choices[r.winner], r.best[r.winner]);
        size_t used = strlen(s->res->formats_dropped);
        snprintf(s->res->formats_dropped + used, sizeof s->res->formats_dropped - used, "%s%s", used ? "; " : "",
                 why);
    }
}

/* The study's first configuration, before any draw: the starting model
 * quantized with the quant stage's defaults in the narrowest format of
 * int8 first (no pruning, distillation or QAT), the usual default of
 * configuration searches (SMAC's initial design). It is what the user
 * would deploy without a search; when it meets the floor, the search can
 * only return something at least as good, the sampler has a feasible point
 * to model from its first batch, and proposals whose resources it
 * dominates are rejected without training. 1 with *x set when no trial of
 * it is known yet (in this study, from any worker); it takes no draw, so
 * the sampler's stream is the same with or without it. */
static int baseline_point(const search *s, mco_search_point *x)
{
    static const char *const texts[] = {"quant:int8", "quant:int4", "quant:float16"};
    for (int i = 0; i < 3; i++) {
        char config[MCO_TRIAL_CONFIG_MAX];
        if (mco_pipeline_space_point(&s->space, texts[i], x) != MCO_OK ||
            mco_pipeline_space_config(&s->space, x, 0, config, sizeof config) != MCO_OK) {
            mco_clear_error();   /* a format this search leaves out */
            continue;
        }
        return find_entry(s, config) < 0;
    }
    return 0;
}

/* Fills the batch with new configurations at rung 0. */
static mco_status add_proposals(search *s, batch_item *items, int *n, int cap, int trial_cap)
{
    const mco_search_options *opt = s->opt;
    mco_search_observation *history = malloc((size_t)(s->n_entries + 1) * sizeof *history);
    if (!history) return mco_error(MCO_ERR_NOMEM, "search: out of memory");
    int n_history = build_history(s, history);
    mco_status st = MCO_OK;
    int misses = 0;
    while (*n < cap && s->n_trials < trial_cap && misses < DUPLICATE_DRAWS && st == MCO_OK && !s->study_full &&
           s->rejected_in_a_row < MAX_REJECTED_IN_A_ROW && !stopped(s)) {
        mco_search_point x;
        if (!baseline_point(s, &x)) {
            uint64_t seed = mix64((opt->seed ^ s->draw_salt) * 0x100000001B3ull + (uint64_t)s->draws++);
            mco_search_propose(&s->sampler, &s->space, history, n_history, seed, &x);
            note_dropped_formats(s, history, n_history);
        }
        char config[MCO_TRIAL_CONFIG_MAX], dry[MCO_TRIAL_CONFIG_MAX];
        if ((st = mco_pipeline_space_config(&s->space, &x, 0, config, sizeof config)) != MCO_OK) break;
        if ((st = mco_pipeline_space_config(&s->space, &x, 1, dry, sizeof dry)) != MCO_OK) break;
        if (find_entry(s, config) >= 0) {
            misses++;
            continue;
        }
        misses = 0;
        /* Out of time, only what an earlier run finished is still replayed. */
        if (out_of_time(s) && !stored_final(s, config, 0)) break;
        if ((st = grow((void **)&s->entries, &s->cap_entries, s->n_entries + 1, sizeof(config_entry))) != MCO_OK)
            break;
        int structure_index;
        if ((st = structure_of(s, dry, &structure_index)) != MCO_OK) break;
        config_entry *e = &s->entries[s->n_entries++];
        memset(e, 0, sizeof *e);
        snprintf(e->config, sizeof e->config, "%s", config);
        e->x = x;
        e->structure = structure_index;
        e->top_rung = -1;
        s->n_trials++;
        const structure *c = &s->structures[structure_index];
        const config_entry *dominant = c->fits ? dominating_entry(s, &c->r) : NULL;
        if (!c->fits || !mco_search_fits(&s->objective, &c->r, NULL, 0) || dominant) {
            st = reject(s, e, c, dominant);
            s->rejected_in_a_row++;   /* misfits, or (converged) dominated proposals */
            /* The rejection is known at once: later proposals of this batch learn from it. */
            mco_search_observation *grown = realloc(history, (size_t)(s->n_entries + 1) * sizeof *history);
            if (!grown) {
                st = mco_error(MCO_ERR_NOMEM, "search: out of memory");
                break;
            }
            history = grown;
            n_history = build_history(s, history);
            continue;
        }
        s->rejected_in_a_row = 0;
        items[*n].entry = s->n_entries - 1;
        items[*n].rung = 0;
        (*n)++;
    }
    free(history);
    return st;
}

/* ---- the outputs ------------------------------------------------------------------ */

/* The chosen model's ops as measured (one row per op, its layers' params,
 * bytes and MACs summed); returns how many rows. */
static int op_rows(const mco_deploy_model *dm, const mco_measure_result *m, mco_report_layer *rows)
{
    for (int k = 0; k < m->n_layers; k++) {
        const mco_layer_measure *op = &m->layers[k];
        mco_report_layer *row = &rows[k];
        memset(row, 0, sizeof *row);
        snprintf(row->type, sizeof row->type, "%s", op->op_kind >= 0 ? mco_op_kind_name(op->op_kind) : "?");
        int first = op->first_layer, last = op->last_layer;
        if (first < 0 || last < first || last >= dm->model.n_layers) {
            snprintf(row->name, sizeof row->name, "?");
        } else {
            const mco_layer *out = &dm->model.layers[last];
            if (last > first)
                snprintf(row->name, sizeof row->name, "%.50s .. %.50s", dm->model.layers[first].name, out->name);
            else snprintf(row->name, sizeof row->name, "%.100s", out->name);
            snprintf(row->output_shape, sizeof row->output_shape, "%dx%dx%d", out->out_shape.h, out->out_shape.w,
                     out->out_shape.c);
            for (int l = first; l <= last; l++) {
                row->params += mco_layer_param_count(&dm->model.layers[l]);
                row->bytes += mco_deploy_layer_bytes(dm, l);
            }
        }
        row->macs = op->macs;
        row->instructions = op->insns;
        row->cycles = op->cycles_est;
    }
    return m->n_layers;
}

/* A measured model as the report shows it. */
static void report_model(const char *config, int64_t trial_id, double val_accuracy, double test_accuracy,
                         const mco_measure_result *m, mco_report_model *out)
{
    mco_report_model_init(out);
    snprintf(out->config, sizeof out->config, "%s", config);
    out->trial_id = trial_id;
    out->val_accuracy = val_accuracy;
    out->test_accuracy = test_accuracy;
    if (!m) return;
    out->measured = 1;
    out->images = m->n_inputs;
    out->mismatches = m->n_mismatch;
    out->instructions = m->insns_mean;
    out->cycles = m->cycles_est;
    out->clock_mhz = m->clock_mhz;
    out->latency_ms = m->latency_ms;
    out->energy_uj = m->energy_uj;
    out->flash_bytes = (double)m->flash_bytes;
    out->ram_bytes = (double)m->ram_bytes;
    snprintf(out->build, sizeof out->build, "%s", m->build);
}

/* Accuracy of a deploy model on a data set, or an autoencoder's AUC
 * (mco_eval_quality; NAN: no data set). */
static mco_status accuracy_on(const search *s, const mco_deploy_model *dm, const mco_dataset *ds, double *accuracy)
{
    *accuracy = NAN;
    if (!ds) return MCO_OK;
    mco_eval_result e;
    mco_status st = mco_deploy_evaluate(dm, ds, s->threads, &e);
    if (st != MCO_OK) return st;
    *accuracy = mco_eval_quality(&e);
    mco_eval_result_free(&e);
    return MCO_OK;
}

/* Measures a deploy model on the target as the chosen one is (and as `mcuopt
 * measure --images N` does): the first measure_images test images. */
static mco_status measure_final(const search *s, const mco_deploy_model *dm, const mco_target_profile *target,
                                const char *code_dir, mco_measure_result *m)
{
    const mco_search_options *opt = s->opt;
    mco_measure_options mo;
    mco_measure_options_default(&mo);
    mo.ctx = opt->ctx;
    const mco_dataset *samples = opt->test ? opt->test : &s->val;
    mo.n_samples = opt->measure_images < samples->n ? opt->measure_images : samples->n;
    mo.clock_mhz = opt->clock_mhz;
    mo.code_dir = code_dir;
    mo.plan_goal = opt->plan_goal;
    return mco_measure_deploy_model(dm, target, samples, &mo, m);
}

/* The pipeline text of the starting model as the report compares with it. */
#define START_PIPELINE "quant:int8"

/* The starting model deployed as int8, evaluated and measured: the baseline
 * of the gain. It may not fit the target (that is why one searches): it is
 * measured on a copy of the profile without memory limits, and if even the
 * emulated machine cannot hold it, it stays unmeasured (no gain shown). */
static mco_status measure_start(search *s)
{
    mco_pipeline_result pr;
    mco_status st = run_quiet(s, START_PIPELINE, &s->train_all, &pr);
    if (st != MCO_OK) return st;
    if (!pr.is_deploy) {
        mco_pipeline_result_free(&pr);
        return mco_error(MCO_ERR_UNSUPPORTED, "search: '%s' gave no deploy model", START_PIPELINE);
    }
    double val, test;
    st = accuracy_on(s, &pr.deploy, &s->val, &val);
    if (st == MCO_OK) st = accuracy_on(s, &pr.deploy, s->opt->test, &test);
    mco_measure_result *m = malloc(sizeof *m);
    if (st == MCO_OK && !m) st = mco_error(MCO_ERR_NOMEM, "search: out of memory");
    if (st == MCO_OK) {
        mco_target_profile unlimited = *s->opt->target;
        unlimited.flash_kb = 1 << 20;
        unlimited.ram_kb = 1 << 20;
        unlimited.n_ram_regions = 0;   /* one region of ram_kb */
        int measured = measure_final(s, &pr.deploy, &unlimited, NULL, m) == MCO_OK;
        if (!measured) mco_clear_error();
        report_model(START_PIPELINE, 0, val, test, measured ? m : NULL, &s->res->start);
    }
    free(m);
    mco_pipeline_result_free(&pr);
    return st;
}

/* res->hypervolume and res->front_size (see search_driver.h) from the
 * store's trials. */
static mco_status front_hypervolume(search *s, const mco_trial *trials, int n)
{
    double floor_points = 100.0 * (1.0 - s->opt->min_accuracy);
    const double ref[3] = {floor_points, 1.0, 1.0};
    const mco_search_resources *start = &s->objective.reference;
    double *f = malloc((size_t)(n > 0 ? n : 1) * 3 * sizeof *f);
    int *rank = malloc((size_t)(n > 0 ? n : 1) * sizeof *rank);
    if (!f || !rank) {
        free(f), free(rank);
        return mco_error(MCO_ERR_NOMEM, "search: out of memory");
    }
    int k = 0;
    for (int i = 0; i < n; i++) {
        const mco_trial *t = &trials[i];
        mco_search_resources r = {t->result.flash_bytes, t->result.ram_bytes, t->result.latency_ms,
                                  t->result.energy_uj};
        if (t->state != MCO_TRIAL_DONE || t->rung != s->n_rungs - 1 || !(t->result.accuracy >= s->opt->min_accuracy) ||
            !mco_search_fits(&s->objective, &r, NULL, 0))
            continue;
        f[3 * k] = 100.0 * (1.0 - t->result.accuracy);
        f[3 * k + 1] = r.flash_bytes / start->flash_bytes;
        f[3 * k + 2] = r.latency_ms / start->latency_ms;
        k++;
    }
    mco_status st = mco_nondominated_sort(f, k, 3, rank);
    s->res->front_size = 0;
    for (int i = 0; i < k && st == MCO_OK; i++) s->res->front_size += rank[i] == 0;
    s->res->hypervolume = st == MCO_OK ? mco_hypervolume(f, k, 3, ref) : 0.0;
    if (st == MCO_OK && s->res->hypervolume < 0) st = mco_error(MCO_ERR_NOMEM, "search: out of memory");
    free(f), free(rank);
    return st;
}

/* The chosen trial's model file: where its worker wrote it, or, written by
 * a worker on another machine (not readable here) into a store that keeps
 * model files, copied from the store to this search's trials directory
 * (best->result.deploy_path then names the copy). */
static mco_status fetch_model(search *s, mco_trial *best)
{
    if (access(best->result.deploy_path, R_OK) == 0 || !mco_trials_spans_machines(s->db)) return MCO_OK;
    uint8_t *bytes;
    size_t size;
    mco_status st = mco_trials_get_model(s->db, best->id, &bytes, &size);
    if (st != MCO_OK) return st;
    char path[sizeof best->result.deploy_path];
    if (snprintf(path, sizeof path, "%s/trial-%lld.mcq", s->trials_dir, (long long)best->id) >= (int)sizeof path) {
        free(bytes);
        return mco_error(MCO_ERR_ARG, "search: output directory path too long");
    }
    st = mco_write_file_atomic(path, bytes, size);
    free(bytes);
    if (st == MCO_OK) snprintf(best->result.deploy_path, sizeof best->result.deploy_path, "%s", path);
    return st;
}

static mco_status write_outputs(search *s)
{
    const mco_search_options *opt = s->opt;
    mco_search_result *res = s->res;
    mco_trial_query q;
    mco_trial_query_init(&q);
    q.min_accuracy = opt->min_accuracy;
    q.max_flash_bytes = s->objective.max_flash_bytes;
    q.max_ram_bytes = s->objective.max_ram_bytes;
    q.max_latency_ms = opt->max_latency_ms;
    mco_status st = mco_trials_best(s->db, &q, &res->best, &res->found);
    if (st != MCO_OK) return st;
    mco_report_model_init(&res->start);
    mco_report_model_init(&res->chosen);
    if ((st = measure_start(s)) != MCO_OK) return st;

    mco_deploy_model dm;
    int have_model = 0;
    res->test_accuracy = -1.0;
    if (res->found) {
        if (!res->best.result.deploy_path[0])
            return mco_error(MCO_ERR_NOT_FOUND, "search: trial %lld kept no model file", (long long)res->best.id);
        if ((st = fetch_model(s, &res->best)) != MCO_OK) return st;
        if ((st = mco_deploy_load(res->best.result.deploy_path, &dm)) != MCO_OK) return st;
        have_model = 1;
        snprintf(res->model_path, sizeof res->model_path, "%s/best.mcq", opt->out_dir);
        snprintf(res->code_dir, sizeof res->code_dir, "%s/code", opt->out_dir);
        st = mco_deploy_save(&dm, res->model_path);
        double test = NAN;
        if (st == MCO_OK) st = accuracy_on(s, &dm, opt->test, &test);
        if (st == MCO_OK && opt->test) res->test_accuracy = test;
        if (st == MCO_OK) {
            st = measure_final(s, &dm, opt->target, res->code_dir, &res->measure);
            res->measured = st == MCO_OK;
        }
        if (st != MCO_OK) {
            mco_deploy_free(&dm);
            return st;
        }
        report_model(res->best.config, res->best.id, res->best.result.accuracy, test, &res->measure, &res->chosen);
    }

    /* The report. */
    mco_trial *trials = NULL;
    mco_trial_stage *stages = NULL;
    int n = 0, n_stages = 0, n_rows = 0;
    mco_report_layer *rows = NULL;
    st = mco_trials_list(s->db, NULL, &trials, &n);
    if (st == MCO_OK && res->found) st = mco_trials_stages(s->db, res->best.id, &stages, &n_stages);
    if (st == MCO_OK && have_model) {
        rows = calloc((size_t)res->measure.n_layers + 1, sizeof *rows);
        if (!rows) st = mco_error(MCO_ERR_NOMEM, "search: out of memory");
        else n_rows = op_rows(&dm, &res->measure, rows);
    }
    if (st == MCO_OK) st = front_hypervolume(s, trials, n);
    if (st == MCO_OK) {
        /* The study's counts: with other searches on the store, more than this run saw. */
        res->n_trials = n;
        res->n_done = res->n_pruned = res->n_failed = 0;
        for (int i = 0; i < n; i++) {
            res->n_done += trials[i].state == MCO_TRIAL_DONE;
            res->n_pruned += trials[i].state == MCO_TRIAL_PRUNED;
            res->n_failed += trials[i].state == MCO_TRIAL_FAILED;
        }
        mco_report report;
        memset(&report, 0, sizeof report);
        report.study = &s->study;
        report.min_accuracy = opt->min_accuracy;
        report.trials = trials;
        report.n_trials = n;
        report.chosen_id = res->found ? res->best.id : 0;
        report.stages = stages;
        report.n_stages = n_stages;
        report.layers = rows;
        report.n_layers = n_rows;
        report.overhead_instructions = res->measure.overhead_insns;
        report.overhead_cycles = res->measure.overhead_cycles_est;
        report.start = &res->start;
        report.chosen = res->found ? &res->chosen : NULL;
        report.trial_figures = res->trial_figures;
        report.train_images = s->train_all.n;
        report.max_flash_bytes = s->objective.max_flash_bytes;
        report.max_ram_bytes = s->objective.max_ram_bytes;
        report.max_latency_ms = opt->max_latency_ms;
        report.clock_mhz = opt->clock_mhz > 0 ? opt->clock_mhz : opt->target->clock_mhz;
        report.formats_dropped = res->formats_dropped;
        report.sampler = mco_sampler_name(opt->sampler);
        report.objective = opt->objective == MCO_OBJECTIVE_PARETO ? "pareto" : "cost";
        report.pareto_with_accuracy = opt->objective == MCO_OBJECTIVE_PARETO;
        report.has_hypervolume = 1;
        report.hypervolume = res->hypervolume;
        report.front_size = res->front_size;
        snprintf(res->report_html, sizeof res->report_html, "%s/report.html", opt->out_dir);
        snprintf(res->report_json, sizeof res->report_json, "%s/report.json", opt->out_dir);
        st = mco_report_write_html(res->report_html, &report);
        if (st == MCO_OK) st = mco_report_write_json(res->report_json, &report);
    }
    free(rows);
    free(trials);
    free(stages);
    if (have_model) mco_deploy_free(&dm);
    return st;
}

/* ---- the loop ---------------------------------------------------------------------- */

/* 1 if every trial of the batch finished in an earlier run (replaying it costs nothing). */
static int batch_is_replay(const search *s, const batch_item *items, int n)
{
    for (int i = 0; i < n; i++)
        if (!stored_final(s, s->entries[items[i].entry].config, items[i].rung)) return 0;
    return 1;
}

/* Shared study, nothing else to run: adds the study's trials that are not
 * final (another worker's, queued or running) to the batch. run_batch()
 * claims each: a queued one (its worker died and its lease ran out, so it
 * was put back) runs here; a running one is waited for and read back, and
 * taken over if its worker dies meanwhile. So a study's last trials are
 * never lost with the worker that held them. */
static mco_status add_pending(search *s, batch_item *items, int *n, int cap)
{
    mco_status st = mco_trials_recover_stale(s->db, NULL);   /* leases that ran out: back in the queue */
    mco_trial *trials = NULL;
    int n_trials = 0;
    if (st == MCO_OK) st = mco_trials_list(s->db, NULL, &trials, &n_trials);
    for (int i = 0; i < n_trials && st == MCO_OK && *n < cap; i++) {
        const mco_trial *t = &trials[i];
        if (t->state != MCO_TRIAL_QUEUED && t->state != MCO_TRIAL_RUNNING) continue;
        int k = find_entry(s, t->config);
        if (k < 0 || t->rung < 0 || t->rung >= s->n_rungs) continue;
        int in_batch = 0;
        for (int j = 0; j < *n; j++) in_batch |= items[j].entry == k && items[j].rung == t->rung;
        if (in_batch) continue;
        items[*n].entry = k;
        items[*n].rung = t->rung;
        (*n)++;
    }
    free(trials);
    return st;
}

static mco_status search_loop(search *s)
{
    const mco_search_options *opt = s->opt;
    int trial_cap = opt->max_trials > 0 ? opt->max_trials : 1 << 30;
    batch_item items[MAX_WORKERS];
    mco_status st = MCO_OK;
    while (st == MCO_OK && !stopped(s)) {
        /* A shared study: first what the other workers did (n_pending: their
         * trials still open, which this worker waits for at the end). */
        if (s->shared && (st = study_news(s)) != MCO_OK) break;
        int proposing = s->n_trials < trial_cap && !s->study_full && s->rejected_in_a_row < MAX_REJECTED_IN_A_ROW;
        if (!proposing && s->n_pending == 0) break;
        /* Start a batch only if about half of one still fits in the budget
         * (a batch an earlier run finished is replayed regardless). Proposing
         * also rejects what does not fit, which is cheap enough to do first. */
        int no_time = elapsed(s) + 0.5 * s->batch_seconds + FINAL_RESERVE_S >= opt->budget_s;
        if (no_time && s->n_stored == 0) break;
        int n = 0;
        if (proposing) {
            n = add_promotions(s, items, 0, opt->workers);
            if (s->n_trials + n > trial_cap) n = trial_cap - s->n_trials;
            s->n_trials += n;
            st = add_proposals(s, items, &n, opt->workers, trial_cap);
        }
        if (st == MCO_OK && n == 0 && s->n_pending > 0) st = add_pending(s, items, &n, opt->workers);
        if (st != MCO_OK || n == 0) break;
        if (no_time && !batch_is_replay(s, items, n)) break;
        report_progress(s, n);
        st = run_batch(s, items, n);
        report_progress(s, 0);
    }
    return st;
}

static void search_free(search *s)
{
    mco_trials_close(s->db);
    mco_cost_model_free(s->cost_model);
    mco_dataset_free(&s->train_all);
    mco_dataset_free(&s->val);
    for (int r = 0; r < MAX_RUNGS; r++) mco_dataset_free(&s->rung_train[r]);
    free(s->structures);
    free(s->entries);
    free(s->stored);
}

/* A run that failed (not one interrupted: that one is resumed) removes what
 * it created, so a full disk leaves no empty store behind: the store, if
 * nothing in it can be resumed (mco_trials_discard), and then the structure
 * cache, trials/ and the output directory if this run made them. */
static void discard_created(search *s)
{
    int store_gone = s->db ? mco_trials_discard(s->db) : 1;   /* no handle: a failed open removed its own */
    s->db = NULL;
    if (!store_gone) return;
    if (!s->had_structures && s->structures_path[0]) unlink(s->structures_path);
    if (s->made_trials_dir && !s->opt->artifacts_dir) mco_remove_tree(s->trials_dir);   /* a shared one: others' too */
    if (s->made_out_dir) mco_remove_tree(s->opt->out_dir);
}

mco_status mco_search_run(const mco_search_options *opt, mco_search_result *result)
{
    memset(result, 0, sizeof *result);
    search s;
    memset(&s, 0, sizeof s);
    s.opt = opt;
    s.res = result;
    s.t0 = now_s();
    mco_status st = setup(&s);
    if (st == MCO_OK && opt->report_only && s.n_stored == 0)
        st = mco_error(MCO_ERR_NOT_FOUND, "search: --report: the study in %s has no trials yet", opt->db_path);
    if (st == MCO_OK && !opt->report_only) st = search_loop(&s);
    result->interrupted = stopped(&s);
    if (st == MCO_OK) st = write_outputs(&s);
    result->seconds = now_s() - s.t0;
    if (st != MCO_OK && !result->interrupted) discard_created(&s);
    search_free(&s);
    return st;
}
