/*
 * cmd_search.c - `mcuopt search MODEL.mco --target NAME --min-accuracy P`:
 * the adaptive search over the compression pipeline (search_driver.h). This
 * file parses options, loads the model, profile and data, shows progress
 * and prints the outcome; the search itself is mco_search_run().
 *
 * What it leaves out: editing or listing the trial store (`mcuopt trials`).
 */
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "mcuopt/model_file.h"
#include "mcuopt/search_driver.h"
#include "mcuopt/trials.h"

static volatile int search_stop;

static void on_signal(int sig)
{
    (void)sig;
    search_stop = 1;
}

enum {
    OPT_TARGET = 1000, OPT_MIN_ACC, OPT_BUDGET, OPT_DB, OPT_SEED, OPT_WORKERS, OPT_THREADS, OPT_SAMPLER,
    OPT_MAX_LAT, OPT_CLOCK, OPT_MAX_TRIALS, OPT_VAL, OPT_TRAIN, OPT_ETA, OPT_MARGIN, OPT_OPTIMIZE, OPT_FORMATS,
    OPT_STAGES, OPT_STORAGE, OPT_ARTIFACTS, OPT_MIN_AUC, OPT_OBJECTIVE, OPT_REPORT, OPT_VAL_DATA
};

static const cli_option search_table[] = {
    {"target", 0, "NAME", "MCU profile (see 'mcuopt targets') or a profile file", OPT_TARGET},
    {"min-accuracy", 0, "P", "accuracy floor in percent (e.g. 97.5)", OPT_MIN_ACC},
    {"min-auc", 0, "F", "for an autoencoder (loss mse): floor on the AUC of its reconstruction error, 0..1 (e.g. "
     "0.85), instead", OPT_MIN_AUC},
    {"budget", 0, "T", "time budget: 90s, 30m, 1h or seconds (default 30m)", OPT_BUDGET},
    {"db", 0, "FILE", "trial store (default OUTDIR/search.db)", OPT_DB},
    {"storage", 0, "URL", "trial store as an address instead: sqlite:///FILE, or "
     "postgresql://USER@HOST:PORT/DB?study=NAME to share one study among workers on several machines", OPT_STORAGE},
    {"artifacts", 0, "DIR", "where trials' models go (default OUTDIR/trials); with workers on several machines, a "
     "directory they share", OPT_ARTIFACTS},
    {"report", 0, NULL, "run no trial: write the outputs of the study as the store holds it (same options as its "
     "workers)", OPT_REPORT},
    CLI_OPTION_OUTPUT("DIR", "OUTDIR: best.mcq, code/, report.html, report.json (default search-out)"),
    {"out", 0, "DIR", "the same as --output", 'o'},
    {"seed", 0, "N", "study seed (default 1)", OPT_SEED},
    {"workers", 0, "N", "worker processes (default 1)", OPT_WORKERS},
    {"threads", 0, "N", "training threads per worker (default cores / workers)", OPT_THREADS},
    {"sampler", 0, "NAME", "tpe (default), nsga2 (NSGA-II) or random", OPT_SAMPLER},
    {"objective", 0, "WHAT", "cost: the weighted cost of Flash, RAM, latency and energy (default with tpe, "
     "random); pareto: the front of accuracy against Flash, RAM and latency (nsga2's)", OPT_OBJECTIVE},
    {"formats", 0, "LIST", "weight formats to search, of int8, int4 and float16 (FPU only), e.g. int8,int4 "
     "(default: all the target can run)", OPT_FORMATS},
    {"stages", 0, "LIST", "stages to search, of prune, distill, qat and quant (always run), e.g. prune,quant "
     "(default: all)", OPT_STAGES},
    {"max-latency-ms", 0, "F", "latency limit at the clock below", OPT_MAX_LAT},
    {"clock-mhz", 0, "F", "clock for latency and energy (default: the profile's)", OPT_CLOCK},
    CLI_OPTION_OPTIMIZE(OPT_OPTIMIZE),
    {"max-trials", 0, "N", "stop after N trials (default: the budget decides)", OPT_MAX_TRIALS},
    {"val-images", 0, "N", "validation images held out (default 5000)", OPT_VAL},
    {"val-data", 0, "DIR", "the validation set instead: the test split of DIR, read like --data, all of it (for "
     "--min-auc a labelled set with anomalies, e.g. DCASE's development test/ clips, since a machine-sound "
     "training split holds normal clips only); the whole training split then trains", OPT_VAL_DATA},
    {"train-images", 0, "N", "use only N training images (default: all)", OPT_TRAIN},
    {"eta", 0, "N", "successive halving factor (default 3)", OPT_ETA},
    {"rung-margin", 0, "P", "points below the floor a trial on less data may score and still be promoted, per "
     "rung below the top (default 0.5)", OPT_MARGIN},
    CLI_OPTION_QUIET,
    CLI_OPTION_JSON,
    {0},
};

static const cli_option *const search_tables[] = {search_table, cli_data_table, NULL};

static const cli_command_spec search_spec = {
    "search", "MODEL.mco --target NAME --min-accuracy P [OPTIONS]",
    "Finds how to compress MODEL for the target: pruning, distillation, QAT and quantization settings, chosen by "
    "TPE (or NSGA-II) with successive halving, so that the deployed model keeps at least P % accuracy (on a "
    "validation split held out of the training set, or on --val-data) and costs the least Flash, RAM, latency and energy (or, "
    "with --objective pareto, trades accuracy against them). Configurations that cannot fit the target, or "
    "(cost) cannot beat a feasible one, are rejected before training.\n\nTrials are kept in a SQLite database: "
    "run the same command again to resume.",
    search_tables, NULL,
};

/* "90s", "30m", "1h", "45" (seconds). */
static int parse_budget(const char *text, double *seconds)
{
    char *end;
    double v = strtod(text, &end);
    if (end == text || !(v > 0.0 && isfinite(v))) return 0;
    double unit = 1.0;
    if (*end == 's') end++;
    else if (*end == 'm') unit = 60.0, end++;
    else if (*end == 'h') unit = 3600.0, end++;
    if (*end != '\0' || v * unit > 366.0 * 86400.0) return 0;   /* a year at most */
    *seconds = v * unit;
    return 1;
}

static void show_progress(void *user, const mco_search_progress *p)
{
    (void)user;
    double left = p->budget_s - p->elapsed_s;
    if (left < 0) left = 0;
    char best[96], brief_best[64], full[256], brief[192];
    if (p->found) {
        snprintf(best, sizeof best, "best: %.0f B, %.3f ms predicted, cost %+.3f", p->best_flash_bytes,
                 p->best_latency_ms, p->best_cost);
        snprintf(brief_best, sizeof brief_best, "best %.0f B %.3f ms", p->best_flash_bytes, p->best_latency_ms);
    } else {
        snprintf(best, sizeof best, "no feasible model yet");
        snprintf(brief_best, sizeof brief_best, "none feasible yet");
    }
    snprintf(full, sizeof full, "trials %d done (%d pruned, %d reused), %d running | %s | %.0f:%02.0f left",
             p->trials_done, p->trials_pruned, p->trials_reused, p->running, best, floor(left / 60.0),
             fmod(left, 60.0));
    snprintf(brief, sizeof brief, "%d done, %d running | %s | %.0f:%02.0f left", p->trials_done, p->running,
             brief_best, floor(left / 60.0), fmod(left, 60.0));
    cli_status_line(full, brief, 0);
}

/* A trial as JSON; `measured` (may be NULL): its figures on the target,
 * shown instead of the search's when this is the chosen trial. */
static cJSON *trial_json(const mco_trial *t, const char *figures, const mco_report_model *measured)
{
    int use = measured && measured->measured && measured->trial_id == t->id;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)t->id);
    cJSON_AddStringToObject(o, "config", t->config);
    cJSON_AddNumberToObject(o, "rung", t->rung);
    cJSON_AddNumberToObject(o, "data_fraction", t->budget);
    cJSON_AddNumberToObject(o, "val_accuracy", t->result.accuracy);
    cJSON_AddStringToObject(o, "figures", use ? "measured" : figures);
    cJSON_AddNumberToObject(o, "flash_bytes", use ? measured->flash_bytes : t->result.flash_bytes);
    cJSON_AddNumberToObject(o, "ram_bytes", use ? measured->ram_bytes : t->result.ram_bytes);
    cJSON_AddNumberToObject(o, "latency_ms", use ? measured->latency_ms : t->result.latency_ms);
    cJSON_AddNumberToObject(o, "energy_uj", use ? measured->energy_uj : t->result.energy_uj);
    cJSON_AddNumberToObject(o, "objective", t->result.objective);
    return o;
}

/* The report's view of this search, for the objects both outputs share. */
static void search_report(const mco_search_options *opt, const mco_search_result *r, mco_trial_study *study,
                          mco_report *report)
{
    memset(study, 0, sizeof *study);
    snprintf(study->model_path, sizeof study->model_path, "%s", opt->model_path);
    snprintf(study->model_hash, sizeof study->model_hash, "%s", r->model_hash);
    snprintf(study->target, sizeof study->target, "%s", opt->target->name);
    memset(report, 0, sizeof *report);
    report->study = study;
    report->start = &r->start;
    report->chosen = r->found ? &r->chosen : NULL;
}

static cJSON *result_json(const mco_search_options *opt, const mco_search_result *r)
{
    mco_trial_study study;
    mco_report report;
    search_report(opt, r, &study, &report);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "mcuopt_version", MCO_VERSION);
    cJSON_AddStringToObject(o, "model", opt->model_path);
    cJSON_AddStringToObject(o, "model_hash", r->model_hash);
    cJSON_AddStringToObject(o, "target", opt->target->name);
    cJSON_AddNumberToObject(o, "min_accuracy", opt->min_accuracy);
    cJSON_AddStringToObject(o, "floor_on", opt->model->loss == MCO_LOSS_MSE ? "auc" : "accuracy");
    if (opt->val) {   /* --val-data: the validation set the floor is judged on */
        cJSON *v = cJSON_AddObjectToObject(o, "val_data");
        cJSON_AddStringToObject(v, "name", opt->val->name);
        cJSON_AddNumberToObject(v, "samples", opt->val->n);
    }
    cJSON_AddNumberToObject(o, "trials", r->n_trials);
    cJSON_AddNumberToObject(o, "done", r->n_done);
    cJSON_AddNumberToObject(o, "pruned", r->n_pruned);
    cJSON_AddNumberToObject(o, "failed", r->n_failed);
    cJSON_AddNumberToObject(o, "run", r->n_run);
    cJSON_AddNumberToObject(o, "reused", r->n_reused);
    cJSON_AddNumberToObject(o, "run_by_others", r->n_by_others);
    cJSON_AddNumberToObject(o, "learned_from_others", r->n_learned);
    cJSON_AddBoolToObject(o, "interrupted", r->interrupted);
    cJSON_AddNumberToObject(o, "seconds", r->seconds);
    cJSON_AddStringToObject(o, "trial_figures", r->trial_figures);
    if (r->formats_dropped[0]) cJSON_AddStringToObject(o, "formats_dropped", r->formats_dropped);
    else cJSON_AddNullToObject(o, "formats_dropped");
    cJSON_AddStringToObject(o, "sampler", mco_sampler_name(opt->sampler));
    cJSON_AddStringToObject(o, "objective", opt->objective == MCO_OBJECTIVE_PARETO ? "pareto" : "cost");
    cJSON *hv = cJSON_AddObjectToObject(o, "hypervolume");
    cJSON_AddNumberToObject(hv, "value", r->hypervolume);
    cJSON_AddNumberToObject(hv, "front_size", r->front_size);
    cJSON_AddStringToObject(hv, "objectives", MCO_REPORT_HYPERVOLUME_OBJECTIVES);
    cJSON_AddStringToObject(hv, "reference", MCO_REPORT_HYPERVOLUME_REFERENCE);
    /* what the cost is relative to: the starting model as the trials' figures see it */
    cJSON *ref = cJSON_AddObjectToObject(o, "reference_int8");
    cJSON_AddStringToObject(ref, "figures", r->trial_figures);
    cJSON_AddNumberToObject(ref, "flash_bytes", r->reference.flash_bytes);
    cJSON_AddNumberToObject(ref, "ram_bytes", r->reference.ram_bytes);
    cJSON_AddNumberToObject(ref, "latency_ms", r->reference.latency_ms);
    cJSON_AddNumberToObject(ref, "energy_uj", r->reference.energy_uj);
    cJSON_AddItemToObject(o, "start", mco_report_model_json(&r->start));
    cJSON_AddBoolToObject(o, "found", r->found);
    if (r->found) {
        cJSON *best = trial_json(&r->best, r->trial_figures, &r->chosen);
        cJSON_AddNumberToObject(best, "test_accuracy", r->test_accuracy);
        cJSON_AddItemToObject(o, "best", best);
        cJSON_AddItemToObject(o, "chosen_model", mco_report_model_json(&r->chosen));
        cJSON_AddStringToObject(o, "model_file", r->model_path);
        cJSON_AddStringToObject(o, "code_dir", r->code_dir);
    } else {
        cJSON_AddNullToObject(o, "chosen_model");
    }
    cJSON_AddItemToObject(o, "gain", mco_report_gain_json(&r->start, r->found ? &r->chosen : NULL));
    cJSON_AddItemToObject(o, "provenance", mco_report_provenance_json(&report));
    if (r->measured) {
        cJSON *m = cJSON_AddObjectToObject(o, "measured");
        cJSON_AddNumberToObject(m, "images", r->measure.n_inputs);
        cJSON_AddNumberToObject(m, "mismatches", r->measure.n_mismatch);
        cJSON_AddBoolToObject(m, "bit_exact", r->measure.n_mismatch == 0);
        cJSON_AddNumberToObject(m, "instructions", r->measure.insns_mean);
        cJSON_AddNumberToObject(m, "latency_ms_estimate", r->measure.latency_ms);
        cJSON_AddNumberToObject(m, "clock_mhz", r->measure.clock_mhz);
        cJSON_AddNumberToObject(m, "energy_uj_estimate", r->measure.energy_uj);
        cJSON_AddNumberToObject(m, "flash_bytes", (double)r->measure.flash_bytes);
        cJSON_AddNumberToObject(m, "ram_bytes", (double)r->measure.ram_bytes);
    }
    cJSON_AddStringToObject(o, "report_html", r->report_html);
    cJSON_AddStringToObject(o, "report_json", r->report_json);
    /* The Pareto front, from the store. */
    mco_trials *db;
    if (mco_trials_open(opt->db_path, NULL, &db) == MCO_OK) {
        mco_trial_query q;
        mco_trial_query_init(&q);
        q.min_accuracy = opt->min_accuracy;
        mco_trial *front = NULL;
        int n = 0;
        if (mco_trials_pareto(db, &q, 0, &front, &n) == MCO_OK) {
            cJSON *a = cJSON_AddArrayToObject(o, "pareto");
            for (int i = 0; i < n; i++)
                cJSON_AddItemToArray(a, trial_json(&front[i], r->trial_figures, r->found ? &r->chosen : NULL));
            free(front);
        }
        mco_trials_close(db);
    }
    return o;
}

/* "-30.1 %" of b against a, for the gain line. */
static void change_text(char *buf, size_t size, double a, double b)
{
    if (a > 0 && !isnan(b)) snprintf(buf, size, "%+.1f %%", 100.0 * (b - a) / a);
    else snprintf(buf, size, "unknown");
}

/* One line of a measured model's figures. */
static void print_measured(const char *label, const mco_report_model *m)
{
    if (!m->measured) {
        printf("%s not measured (the emulated machine cannot hold it)\n", label);
        return;
    }
    printf("%s Flash %.0f B, RAM %.0f B, %.0f instructions, ~%.3f ms at %.0f MHz, ~%.1f uJ; "
           "%d of %d outputs bit-exact (measured)\n",
           label, m->flash_bytes, m->ram_bytes, m->instructions, m->latency_ms, m->clock_mhz, m->energy_uj,
           m->images - m->mismatches, m->images);
}

/* A quality figure as the floor means it: "97.50 % accuracy", or an
 * autoencoder's "AUC 0.9876" (its figures are AUCs, mco_eval_quality). */
static const char *quality_text(const mco_search_options *opt, double q, char *buf, size_t size)
{
    if (opt->model->loss == MCO_LOSS_MSE) snprintf(buf, size, "AUC %.4f", q);
    else snprintf(buf, size, "%.2f %% accuracy", 100.0 * q);
    return buf;
}

static void print_result(const mco_search_options *opt, const mco_search_result *r)
{
    char q1[48], q2[48];
    printf("search on %s: %d trials in the store (%d done, %d pruned before training, %d failed); "
           "%d run now, %d read back",
           opt->target->name, r->n_trials, r->n_done, r->n_pruned, r->n_failed, r->n_run, r->n_reused);
    if (r->n_by_others) printf(", %d run by another search on the same store", r->n_by_others);
    if (r->n_learned) printf(", %d learned from other workers", r->n_learned);
    printf("\n");
    printf("trials' Flash, RAM and latency: %s\n", strcmp(r->trial_figures, "measured") == 0
                                                    ? "measured on the emulated target"
                                                    : "predicted by the resource model");
    if (r->formats_dropped[0]) printf("dropped:  %s\n", r->formats_dropped);
    printf("front:    %d trial%s, hypervolume %.4f (accuracy points x Flash saved x latency saved)\n", r->front_size,
           r->front_size == 1 ? "" : "s", r->hypervolume);
    printf("start:    %s (the starting model as int8): ", r->start.config);
    if (!isnan(r->start.test_accuracy) && opt->model->loss == MCO_LOSS_MSE)
        printf("test %s\n", quality_text(opt, r->start.test_accuracy, q1, sizeof q1));
    else if (!isnan(r->start.test_accuracy))
        printf("%.2f %% test accuracy\n", 100.0 * r->start.test_accuracy);
    else printf("no test set\n");
    print_measured("         ", &r->start);
    if (!r->found) {
        printf("no configuration reached validation %s within the target's limits\n",
               quality_text(opt, opt->min_accuracy, q1, sizeof q1));
        return;
    }
    const mco_trial *b = &r->best;
    printf("best:     trial %lld (rung %d): %s\n", (long long)b->id, b->rung, b->config);
    if (opt->val) printf("validation: %s, %d samples (--val-data)\n", opt->val->name, opt->val->n);
    if (opt->model->loss == MCO_LOSS_MSE)
        printf("quality:  validation %s, test %s\n", quality_text(opt, b->result.accuracy, q1, sizeof q1),
               quality_text(opt, r->test_accuracy, q2, sizeof q2));
    else
        printf("accuracy: %.2f %% validation, %.2f %% test\n", 100.0 * b->result.accuracy, 100.0 * r->test_accuracy);
    print_measured("target:  ", &r->chosen);
    if (r->chosen.measured && r->start.measured) {
        char flash[32], ram[32], latency[32];
        change_text(flash, sizeof flash, r->start.flash_bytes, r->chosen.flash_bytes);
        change_text(ram, sizeof ram, r->start.ram_bytes, r->chosen.ram_bytes);
        change_text(latency, sizeof latency, r->start.latency_ms, r->chosen.latency_ms);
        printf("gain:     Flash %s, RAM %s, latency %s against the starting model as int8 (both measured)\n", flash,
               ram, latency);
    }
    printf("          (the target has %d KB Flash / %d KB RAM)\n", opt->target->flash_kb, opt->target->ram_kb);
    printf("cost:     %+.3f (0 = the starting model as int8, lower is better; on %s figures)\n", b->result.objective,
           r->trial_figures);
    printf("wrote:    %s, %s/, %s, %s\n", r->model_path, r->code_dir, r->report_html, r->report_json);
}

int cmd_search(int argc, char **argv)
{
    mco_search_options so;
    mco_search_options_default(&so);
    so.ctx = cli_context();
    const char *target_name = NULL, *out_dir = "search-out", *db_path = NULL, *val_dir = NULL;
    cli_data_options data = {0};
    int json = 0, quiet = 0, data_given = 0, have_floor = 0, seed = 1, val_images_given = 0;
    int objective = -1;   /* not given: pareto with nsga2, else cost */
    float f;
    cli_parser p;
    cli_parser_init(&p, &search_spec, argc, argv);
    int c;
    while ((c = cli_getopt(&p)) > 0) {
        switch (c) {
        case OPT_TARGET: target_name = optarg; break;
        case OPT_MIN_ACC:
            if (!cli_parse_accuracy("search", "--min-accuracy", optarg, &so.min_accuracy)) return CLI_EXIT_USAGE;
            have_floor |= 1;
            break;
        case OPT_MIN_AUC:
            if (!cli_parse_float("search", "--min-auc", optarg, &f)) return CLI_EXIT_USAGE;
            if (!(f > 0.0f && f <= 1.0f))
                return cli_usage_error("search", "--min-auc expects an AUC in (0, 1], not '%s'", optarg);
            so.min_accuracy = f;
            have_floor |= 2;
            break;
        case OPT_BUDGET:
            if (!parse_budget(optarg, &so.budget_s))
                return cli_usage_error("search", "--budget expects a time like 90s, 30m or 1h (at most a year), not '%s'", optarg);
            break;
        case OPT_DB:
        case OPT_STORAGE:
            if (db_path) return cli_usage_error("search", "give the trial store once (--db or --storage)");
            db_path = optarg;
            break;
        case 'o': out_dir = optarg; break;
        case OPT_ARTIFACTS: so.artifacts_dir = optarg; break;
        case OPT_REPORT: so.report_only = 1; break;
        case OPT_SEED:
            if (!cli_parse_int("search", "--seed", optarg, 0, 2147483647, &seed)) return CLI_EXIT_USAGE;
            so.seed = (uint64_t)seed;
            break;
        case OPT_WORKERS:
            if (!cli_parse_int("search", "--workers", optarg, 1, 64, &so.workers)) return CLI_EXIT_USAGE;
            break;
        case OPT_THREADS:
            if (!cli_parse_int("search", "--threads", optarg, 1, 256, &so.threads)) return CLI_EXIT_USAGE;
            break;
        case OPT_SAMPLER:
            if (!mco_sampler_parse(optarg, &so.sampler))
                return cli_usage_error("search", "--sampler must be tpe, nsga2 or random, not '%s'", optarg);
            break;
        case OPT_OBJECTIVE:
            if (strcmp(optarg, "cost") == 0) objective = MCO_OBJECTIVE_COST;
            else if (strcmp(optarg, "pareto") == 0) objective = MCO_OBJECTIVE_PARETO;
            else return cli_usage_error("search", "--objective must be cost or pareto, not '%s'", optarg);
            break;
        case OPT_FORMATS:
            if (mco_search_parse_formats(optarg, "--formats", &so.formats) != MCO_OK)
                return cli_usage_error("search", "%s", mco_last_error());
            break;
        case OPT_STAGES:
            if (mco_search_parse_stages(optarg, "--stages", &so.stages) != MCO_OK)
                return cli_usage_error("search", "%s", mco_last_error());
            break;
        case OPT_MAX_LAT:
            if (!cli_parse_positive("search", "--max-latency-ms", optarg, INFINITY, &f)) return CLI_EXIT_USAGE;
            so.max_latency_ms = f;
            break;
        case OPT_CLOCK:
            if (!cli_parse_positive("search", "--clock-mhz", optarg, CLI_MAX_CLOCK_MHZ, &f)) return CLI_EXIT_USAGE;
            so.clock_mhz = f;
            break;
        case OPT_MAX_TRIALS:
            if (!cli_parse_int("search", "--max-trials", optarg, 1, 1000000, &so.max_trials)) return CLI_EXIT_USAGE;
            break;
        case OPT_VAL_DATA: val_dir = optarg; break;
        case OPT_VAL:
            val_images_given = 1;
            if (!cli_parse_int("search", "--val-images", optarg, 100, 1000000, &so.val_images)) return CLI_EXIT_USAGE;
            break;
        case OPT_TRAIN:
            if (!cli_parse_int("search", "--train-images", optarg, 100, 10000000, &so.train_images))
                return CLI_EXIT_USAGE;
            break;
        case OPT_ETA:
            if (!cli_parse_int("search", "--eta", optarg, 2, 10, &so.eta)) return CLI_EXIT_USAGE;
            break;
        case OPT_MARGIN:
            if (!cli_parse_float_range("search", "--rung-margin", optarg, 0.0f, 10.0f, &f)) return CLI_EXIT_USAGE;
            so.rung_margin = f / 100.0;
            break;
        case OPT_OPTIMIZE:
            if (!cli_parse_optimize("search", optarg, &so.plan_goal)) return CLI_EXIT_USAGE;
            break;
        case 'q': quiet = 1; break;
        case CLI_OPT_JSON: json = 1; break;
        default: {   /* the data options (cli_data_table) */
            int r = cli_data_option(&data, &data_given, "search", c, optarg);
            if (r != CLI_EXIT_OK) return r == -1 ? cli_option_unhandled(&p, c) : r;
        }
        }
    }
    if (c < 0) return p.exit_code;
    if (optind != argc - 1) return cli_usage_error("search", "expected one MODEL.mco file");
    if (!target_name) return cli_usage_error("search", "--target is required");
    if (!have_floor) return cli_usage_error("search", "--min-accuracy (or, for an autoencoder, --min-auc) is required");
    if (have_floor == 3) return cli_usage_error("search", "give --min-accuracy or --min-auc, not both");
    if (val_dir && val_images_given) return cli_usage_error("search", "give --val-data or --val-images, not both");
    so.objective = objective >= 0 ? (mco_objective_kind)objective
                   : so.sampler == MCO_SAMPLER_NSGA2 ? MCO_OBJECTIVE_PARETO : MCO_OBJECTIVE_COST;
    so.model_path = argv[optind];
    char default_db[1024];
    if (!db_path) {
        snprintf(default_db, sizeof default_db, "%s/search.db", out_dir);
        db_path = default_db;
    }
    so.db_path = db_path;
    so.out_dir = out_dir;

    mco_target_profile target;
    mco_status st = mco_target_load(cli_context(), target_name, &target);
    if (st != MCO_OK) return cli_fail(st);
    so.target = &target;
    mco_model model;
    if ((st = mco_model_load(so.model_path, &model)) != MCO_OK) return cli_fail(st);
    so.model = &model;
    /* The floor must be the model's kind: AUC for an autoencoder, accuracy for a classifier. */
    if ((model.loss == MCO_LOSS_MSE) != (have_floor == 2)) {
        mco_model_free(&model);
        return cli_usage_error("search", model.loss == MCO_LOSS_MSE
                                             ? "%s is an autoencoder (loss mse): give --min-auc, not --min-accuracy"
                                             : "%s is a classifier: give --min-accuracy, not --min-auc",
                               so.model_path);
    }
    /* An autoencoder cannot be distilled (no class logits): its search leaves the stage out. */
    const unsigned all_stages = MCO_STAGE_PRUNE | MCO_STAGE_DISTILL | MCO_STAGE_QAT | MCO_STAGE_QUANT;
    if (model.loss == MCO_LOSS_MSE && so.stages && (so.stages & MCO_STAGE_DISTILL)) {
        mco_model_free(&model);
        return cli_usage_error("search", "%s is an autoencoder (loss mse): --stages cannot include distill",
                               so.model_path);
    }
    if (model.loss == MCO_LOSS_MSE) so.stages = (so.stages ? so.stages : all_stages) & ~MCO_STAGE_DISTILL;
    mco_dataset train = {0}, test = {0}, val = {0};
    data.input = model.input_shape;
    cli_take_frontend(&model, &data);
    st = cli_load_dataset(&data, MCO_SPLIT_TRAIN, !data_given, quiet || json, &train);
    if (st == MCO_OK) st = cli_load_dataset(&data, MCO_SPLIT_TEST, !data_given, 1, &test);
    if (st == MCO_OK && val_dir) st = cli_load_val_data(&data, val_dir, 1, &val);
    if (st != MCO_OK) {
        mco_model_free(&model);
        mco_dataset_free(&train);
        mco_dataset_free(&test);
        return cli_fail(st);
    }
    if (val_dir) so.val = &val;
    so.train = &train;
    so.test = &test;
    int show = !quiet && !json && isatty(STDERR_FILENO);
    if (show) so.progress = show_progress;
    so.stop = &search_stop;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    mco_search_result r;
    st = mco_search_run(&so, &r);
    if (show) fprintf(stderr, "\n");
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    int code = CLI_EXIT_OK;
    if (st != MCO_OK) {
        code = cli_fail(st);
    } else {
        if (json) cli_print_json(result_json(&so, &r));
        else print_result(&so, &r);
        if (r.interrupted) {
            fprintf(stderr, "mcuopt: search interrupted; run the same command again to resume from %s\n", db_path);
            code = 130;
        } else if (!r.found) {
            char floor[48];
            fprintf(stderr, "mcuopt: error: no configuration reached validation %s within %s's limits "
                            "(%d trials: %d done, %d did not fit, %d failed; see %s)",
                    quality_text(&so, so.min_accuracy, floor, sizeof floor), target.name, r.n_trials, r.n_done, r.n_pruned, r.n_failed,
                    r.report_html[0] ? r.report_html : db_path);
            if (r.n_done == 0 && r.closest_misfit[0])
                fprintf(stderr, "; the closest to fitting was %s", r.closest_misfit);
            fprintf(stderr, "\n");
            code = CLI_EXIT_FAIL;
        } else if (r.measured && r.measure.n_mismatch) {
            fprintf(stderr, "mcuopt: error: %d of %d outputs on %s differ from the host runtime\n",
                    r.measure.n_mismatch, r.measure.n_inputs, target.name);
            code = CLI_EXIT_FAIL;
        }
    }
    mco_dataset_free(&train);
    mco_dataset_free(&test);
    mco_dataset_free(&val);
    mco_model_free(&model);
    return code;
}
