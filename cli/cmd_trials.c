/*
 * cmd_trials.c - `mcuopt trials DB`: the trials of a search's store
 * (trials.h) as a table or JSON: id, state, rung and budget, accuracy, Flash,
 * RAM, latency, energy, objective, whether the trial is on the Pareto front,
 * and the configuration; the best trial at or above the accuracy floor is
 * starred. It only reads the store, so it can watch a running search.
 *
 * What it leaves out: changing trials (requeueing, deleting), sorting
 * options; --json prints the same document as report.json.
 */
#include <math.h>
#include <stdlib.h>

#include "cli.h"
#include "mcuopt/report.h"
#include "mcuopt/trials.h"

enum { OPT_STATE = 1000, OPT_STORAGE };

static const cli_option trials_table[] = {
    {"storage", 0, "URL", "the trial store as an address (instead of DB)", OPT_STORAGE},
    {"state", 0, "STATE", "only trials in this state: queued, running, done, failed or pruned", OPT_STATE},
    {"json", 0, NULL, "print the trials as JSON on stdout (as report.json)", CLI_OPT_JSON},
    {0},
};

static const cli_option *const trials_tables[] = {trials_table, NULL};

static const cli_command_spec trials_spec = {
    "trials", "DB | --storage URL [--json] [--state STATE]",
    "Lists the trials of a search database: state, rung/budget, accuracy, Flash, RAM, latency, energy, "
    "objective, Pareto front (over Flash, RAM, latency and energy among finished trials at or above the accuracy "
    "floor) and config. The best finished trial at or above the floor (lowest objective) is starred.\n\nDB is a "
    "file; URL is sqlite:///FILE or postgresql://USER@HOST:PORT/DB?study=NAME.",
    trials_tables, NULL,
};

/* A number scaled and with `decimals` digits, or "-" when unknown. */
static const char *cell(char *buf, size_t size, double value, double scale, int decimals)
{
    if (isnan(value)) snprintf(buf, size, "-");
    else snprintf(buf, size, "%.*f", decimals, value * scale);
    return buf;
}

static void print_table(const char *path, const mco_trial_study *study, mco_trial *trials, int n, int64_t best_id)
{
    printf("%s: target %s, accuracy floor %.2f%%, %d trial%s\n", path, study->target[0] ? study->target : "(none)",
           study->min_accuracy * 100.0, n, n == 1 ? "" : "s");
    if (n == 0) return;
    printf("%6s %-7s %4s %6s %8s %9s %8s %10s %10s %11s %-6s %s\n", "id", "state", "rung", "budget", "acc (%)",
           "Flash KB", "RAM KB", "latency ms", "energy uJ", "objective", "Pareto", "config");
    for (int i = 0; i < n; i++) {
        const mco_trial *t = &trials[i];
        const mco_trial_result *m = &t->result;
        char acc[32], flash[32], ram[32], latency[32], energy[32], objective[32];
        printf("%5lld%c %-7s %4d %6g %8s %9s %8s %10s %10s %11s %-6s %s", (long long)t->id,
               t->id == best_id ? '*' : ' ', mco_trial_state_name(t->state), t->rung, t->budget,
               cell(acc, sizeof acc, m->accuracy, 100.0, 2), cell(flash, sizeof flash, m->flash_bytes, 1.0 / 1024.0, 1),
               cell(ram, sizeof ram, m->ram_bytes, 1.0 / 1024.0, 1), cell(latency, sizeof latency, m->latency_ms, 1.0, 3),
               cell(energy, sizeof energy, m->energy_uj, 1.0, 2), cell(objective, sizeof objective, m->objective, 1.0, 4),
               t->on_pareto ? "yes" : "", t->config);
        if (t->error[0]) printf("  [%s]", t->error);
        putchar('\n');
    }
    for (int i = 0; i < n; i++)
        if (trials[i].id == best_id) printf("* best finished trial at or above the floor (lowest objective)\n");
}

int cmd_trials(int argc, char **argv)
{
    int json = 0;
    const char *path = NULL;
    mco_trial_query query;
    mco_trial_query_init(&query);
    cli_parser p;
    cli_parser_init(&p, &trials_spec, argc, argv);
    int c;
    while ((c = cli_getopt(&p)) > 0) {
        switch (c) {
        case CLI_OPT_JSON: json = 1; break;
        case OPT_STORAGE:
            if (path) return cli_usage_error("trials", "--storage given twice");
            path = optarg;
            break;
        case OPT_STATE: {
            mco_trial_state state;
            if (mco_trial_state_parse(optarg, &state) != MCO_OK)
                return cli_usage_error("trials", "--state expects queued, running, done, failed or pruned, got '%s'",
                                       optarg);
            query.state = (int)state;
            break;
        }
        default: return cli_option_unhandled(&p, c);
        }
    }
    if (c < 0) return p.exit_code;
    if (path && optind != argc) return cli_usage_error("trials", "give either a DB file or --storage, not both");
    if (!path && optind != argc - 1) return cli_usage_error("trials", "expected one DB file (or --storage URL)");
    if (!path) path = argv[optind];

    mco_trials *db;
    mco_status st = mco_trials_open(path, NULL, &db);
    if (st != MCO_OK) return cli_fail(st);
    mco_trial_study *study = malloc(sizeof *study);
    mco_trial *best = malloc(sizeof *best);
    mco_trial *trials = NULL;
    mco_trial_stage *stages = NULL;
    int n = 0, n_stages = 0, found = 0;
    st = study && best ? mco_trials_study(db, study) : mco_error(MCO_ERR_NOMEM, "out of memory");
    if (st == MCO_OK) st = mco_trials_list(db, &query, &trials, &n);
    if (st == MCO_OK) {
        mco_trial_query floor;
        mco_trial_query_init(&floor);
        floor.min_accuracy = study->min_accuracy;
        st = mco_trials_best(db, &floor, best, &found);
    }
    if (st == MCO_OK && found && json) st = mco_trials_stages(db, best->id, &stages, &n_stages);
    mco_trials_close(db);

    if (st == MCO_OK) {
        /* Only done trials can be on the front, and a state filter keeps all
         * of them or none, so marking the listed trials marks them as among all. */
        int64_t best_id = found ? best->id : 0;
        if (json) {
            mco_report r = {0};
            r.title = path;
            r.study = study;
            r.min_accuracy = study->min_accuracy;
            r.trials = trials;
            r.n_trials = n;
            r.chosen_id = best_id;
            r.stages = stages;
            r.n_stages = n_stages;
            char *text;
            st = mco_report_json_text(&r, &text);
            if (st == MCO_OK) {
                fputs(text, stdout);
                free(text);
            }
        } else {
            mco_pareto_mark(trials, n, study->min_accuracy, 0);
            print_table(path, study, trials, n, best_id);
        }
    }
    free(study);
    free(best);
    free(trials);
    free(stages);
    return st == MCO_OK ? CLI_EXIT_OK : cli_fail(st);
}
