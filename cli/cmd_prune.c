/*
 * cmd_prune.c - `mcuopt prune MODEL.mco -o OUT.mco --sparsity S`:
 * unstructured magnitude pruning of a trained float model with a polynomial
 * sparsity schedule during fine-tuning (include/mcuopt/prune.h), reporting
 * the test accuracy before and after and the sparsity of every layer.
 *
 * The fine-tuning uses the training options of `mcuopt train` (data set,
 * epochs, learning rate, seed, threads...), with 2 epochs by default, on the
 * same training / validation split as `train` for the same --seed and --val.
 * The default schedule goes from 0 to the target between step 0 and 70 % of
 * the fine-tuning steps, updating the masks every 100 steps, so the last
 * 30 % recover at the target sparsity.
 *
 * What it leaves out: --arch (the architecture is the model's), pruning
 * without fine-tuning (the library's mco_prune_apply_now does that).
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_train_job.h"
#include "mcuopt/model_file.h"
#include "mcuopt/prune.h"

#define MAX_EXCLUDE 64

enum { OPT_SPARSITY = 1000, OPT_INITIAL, OPT_BEGIN, OPT_END, OPT_FREQUENCY, OPT_POWER, OPT_GLOBAL, OPT_EXCLUDE };

static const cli_option prune_table[] = {
    CLI_OPTION_OUTPUT("FILE", "pruned model to write (.mco)"),
    {"sparsity", 0, "S", "target sparsity in [0, 1] (default 0.5)", OPT_SPARSITY},
    {"initial-sparsity", 0, "S", "sparsity at the begin step (default 0)", OPT_INITIAL},
    {"begin-step", 0, "N", "first pruning step (default 0)", OPT_BEGIN},
    {"end-step", 0, "N", "step at which the target is reached (default: 70 % of the fine-tuning steps)", OPT_END},
    {"frequency", 0, "N", "steps between mask updates (default 100)", OPT_FREQUENCY},
    {"power", 0, "P", "polynomial decay power (default 3)", OPT_POWER},
    {"global", 0, NULL, "one magnitude threshold over all layers (default: per layer)", OPT_GLOBAL},
    {"exclude", 0, "NAME,...", "layers not to prune", OPT_EXCLUDE},
    CLI_JOB_OPTION_EPOCHS("fine-tuning epochs (default 2)"),
    CLI_OPTION_JSON,
    CLI_OPTION_QUIET,
    {0},
};

/* the fine-tuning takes the training job's options, less --arch (the model's) */
static const cli_option *const prune_tables[] = {prune_table, cli_data_table, cli_train_job_table, NULL};

static const cli_command_spec prune_spec = {
    "prune", "MODEL.mco -o OUT.mco [--sparsity S] [OPTIONS]",
    "Unstructured magnitude pruning during fine-tuning (as TF-MOT's prune_low_magnitude with PolynomialDecay): "
    "the smallest conv / dense weights are set to exactly 0 on a schedule and kept at 0. Prints the test accuracy "
    "before and after and the sparsity of every layer. The fine-tuning takes the options of 'mcuopt train'.",
    prune_tables, NULL,
};

/* Splits "a,b,c" in place into names[]; returns how many, or -1 if too many. */
static int split_names(char *text, const char **names, int capacity)
{
    int n = 0;
    for (char *save = NULL, *tok = strtok_r(text, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (n == capacity) return -1;
        names[n++] = tok;
    }
    return n;
}

typedef struct {
    const char *input, *output;
    double acc_before, acc_after;
    double sparsity;
    long total_steps;
    mco_prune_schedule schedule;   /* end step resolved */
    int global;
    mco_train_result train;
} prune_report;

static void print_report(const prune_report *r, const mco_model *m, const mco_layer_sparsity *per)
{
    printf("%s -> %s: %.2f %% of the conv / dense weights are 0 (%s thresholds)\n", r->input, r->output,
           r->sparsity * 100.0, r->global ? "global" : "per-layer");
    printf("schedule: %.2f -> %.2f between steps %ld and %ld, every %ld steps (power %g), %ld steps in all\n",
           (double)r->schedule.initial_sparsity, (double)r->schedule.target_sparsity, r->schedule.begin_step,
           r->schedule.end_step, r->schedule.frequency, (double)r->schedule.power, r->total_steps);
    printf("test accuracy: before %.2f %%, after %.2f %% (%+.2f points); fine-tuning took %.1f s\n",
           r->acc_before * 100.0, r->acc_after * 100.0, (r->acc_after - r->acc_before) * 100.0, r->train.seconds);
    printf("  %-3s %-16s %-16s %10s %10s %9s\n", "#", "layer", "type", "weights", "zeros", "sparsity");
    for (int i = 0; i < m->n_layers; i++) {
        if (per[i].weights == 0) continue;
        printf("  %-3d %-16s %-16s %10zu %10zu %8.2f%%\n", i, m->layers[i].name, mco_layer_type_name(m->layers[i].type),
               per[i].weights, per[i].zeros, 100.0 * (double)per[i].zeros / (double)per[i].weights);
    }
}

static cJSON *report_json(const prune_report *r, const mco_model *m, const mco_layer_sparsity *per)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "model", r->input);
    cJSON_AddStringToObject(o, "output", r->output);
    cJSON_AddNumberToObject(o, "target_sparsity", r->schedule.target_sparsity);
    cJSON_AddNumberToObject(o, "initial_sparsity", r->schedule.initial_sparsity);
    cJSON_AddNumberToObject(o, "begin_step", (double)r->schedule.begin_step);
    cJSON_AddNumberToObject(o, "end_step", (double)r->schedule.end_step);
    cJSON_AddNumberToObject(o, "frequency", (double)r->schedule.frequency);
    cJSON_AddNumberToObject(o, "power", r->schedule.power);
    cJSON_AddNumberToObject(o, "total_steps", (double)r->total_steps);
    cJSON_AddBoolToObject(o, "global", r->global);
    cJSON_AddNumberToObject(o, "sparsity", r->sparsity);
    cJSON_AddNumberToObject(o, "accuracy_before", r->acc_before);
    cJSON_AddNumberToObject(o, "accuracy_after", r->acc_after);
    cJSON_AddNumberToObject(o, "train_seconds", r->train.seconds);
    cJSON *layers = cJSON_AddArrayToObject(o, "layers");
    for (int i = 0; i < m->n_layers; i++) {
        if (per[i].weights == 0) continue;
        cJSON *l = cJSON_CreateObject();
        cJSON_AddStringToObject(l, "name", m->layers[i].name);
        cJSON_AddStringToObject(l, "type", mco_layer_type_name(m->layers[i].type));
        cJSON_AddNumberToObject(l, "weights", (double)per[i].weights);
        cJSON_AddNumberToObject(l, "zeros", (double)per[i].zeros);
        cJSON_AddNumberToObject(l, "sparsity", (double)per[i].zeros / (double)per[i].weights);
        cJSON_AddItemToArray(layers, l);
    }
    return o;
}

/* Loads the data, evaluates, fine-tunes with the pruner, evaluates again. */
static mco_status run_prune(cli_train_job *job, mco_model *model, mco_prune_options *po, int end_given,
                            prune_report *r)
{
    mco_dataset full = {0}, train = {0}, val = {0}, test = {0};
    mco_pruner pruner = {0};
    mco_eval_result ev;
    cli_progress progress;
    job->data.input = model->input_shape;
    mco_status st = cli_load_dataset(&job->data, MCO_SPLIT_TRAIN, !job->data_given, job->quiet, &full);
    if (st == MCO_OK) st = cli_load_dataset(&job->data, MCO_SPLIT_TEST, 0, job->quiet, &test);
    if (st == MCO_OK && job->val_count >= full.n)
        st = mco_error(MCO_ERR_ARG, "--val %d leaves no training images (the set has %d)", job->val_count, full.n);
    if (st == MCO_OK) st = mco_dataset_split(&full, job->val_count, job->train.seed, &train, &val);
    mco_dataset_free(&full);
    if (st == MCO_OK && (st = mco_evaluate(model, &test, job->train.threads, &ev)) == MCO_OK) {
        r->acc_before = ev.accuracy;
        mco_eval_result_free(&ev);
    }
    if (st == MCO_OK) {
        r->total_steps = (long)((train.n + job->train.batch_size - 1) / job->train.batch_size) * job->train.epochs;
        if (!end_given) po->schedule.end_step = (long)(0.7 * (double)r->total_steps);
        if (po->schedule.end_step > r->total_steps - 1) po->schedule.end_step = r->total_steps - 1;
        if (po->schedule.end_step < po->schedule.begin_step)
            st = mco_error(MCO_ERR_ARG, "--begin-step %ld is past the end step %ld (%ld fine-tuning steps)",
                           po->schedule.begin_step, po->schedule.end_step, r->total_steps);
    }
    if (st == MCO_OK) st = mco_pruner_init(&pruner, model, po);
    if (st == MCO_OK) {
        r->schedule = po->schedule;
        r->global = po->global;
        cli_progress_init(&progress, job->quiet);
        if (!job->quiet)
            fprintf(stderr, "pruning %s to %.0f %% sparsity while fine-tuning on %d %s images, %d epochs\n",
                    r->input, (double)po->schedule.target_sparsity * 100.0, train.n, job->data.dataset,
                    job->train.epochs);
        job->train.progress = cli_progress_train;
        job->train.progress_user = &progress;
        job->train.after_step = mco_pruner_after_step;
        job->train.after_step_user = &pruner;
        st = mco_train(model, &train, val.n > 0 ? &val : NULL, &job->train, &r->train);
        job->train.progress = NULL;
        job->train.after_step = NULL;
    }
    if (st == MCO_OK && (st = mco_evaluate(model, &test, job->train.threads, &ev)) == MCO_OK) {
        r->acc_after = ev.accuracy;
        mco_eval_result_free(&ev);
    }
    mco_pruner_free(&pruner);
    mco_dataset_free(&train);
    mco_dataset_free(&val);
    mco_dataset_free(&test);
    return st;
}

int cmd_prune(int argc, char **argv)
{
    cli_train_job job;
    cli_train_job_defaults(&job);
    job.train.epochs = 2;
    mco_prune_options po;
    mco_prune_options_default(&po);
    const char *output = NULL, *exclude_names[MAX_EXCLUDE];
    char *exclude_text = NULL;
    int json = 0, end_given = 0, value;
    float f;
    cli_parser p;
    cli_parser_init(&p, &prune_spec, argc, argv);
    int c;
    while ((c = cli_getopt(&p)) > 0) {
        switch (c) {
        case 'o': output = optarg; break;
        case OPT_SPARSITY:
        case OPT_INITIAL:
            if (!cli_parse_float_range("prune", c == OPT_SPARSITY ? "--sparsity" : "--initial-sparsity", optarg, 0.0f,
                                       1.0f, &f))
                return CLI_EXIT_USAGE;
            if (c == OPT_SPARSITY) po.schedule.target_sparsity = f;
            else po.schedule.initial_sparsity = f;
            break;
        case OPT_BEGIN:
        case OPT_END:
        case OPT_FREQUENCY:
            if (!cli_parse_int("prune", c == OPT_BEGIN ? "--begin-step" : c == OPT_END ? "--end-step" : "--frequency",
                               optarg, c == OPT_FREQUENCY ? 1 : 0, 1000000000, &value))
                return CLI_EXIT_USAGE;
            if (c == OPT_BEGIN) po.schedule.begin_step = value;
            else if (c == OPT_END) po.schedule.end_step = value, end_given = 1;
            else po.schedule.frequency = value;
            break;
        case OPT_POWER:
            if (!cli_parse_positive("prune", "--power", optarg, 100.0f, &po.schedule.power)) return CLI_EXIT_USAGE;
            break;
        case OPT_GLOBAL: po.global = 1; break;
        case OPT_EXCLUDE: exclude_text = optarg; break;
        case CLI_OPT_JSON: json = 1; break;
        default: {
            int r = cli_train_job_option(&job, "prune", c, optarg);
            if (r != CLI_EXIT_OK) return r;
        }
        }
    }
    if (c < 0) return p.exit_code;
    if (optind != argc - 1) return cli_usage_error("prune", "expected one MODEL file");
    if (!output) return cli_usage_error("prune", "missing -o OUT.mco");
    if (exclude_text) {
        po.n_exclude = split_names(exclude_text, exclude_names, MAX_EXCLUDE);
        if (po.n_exclude < 0) return cli_usage_error("prune", "--exclude: more than %d layers", MAX_EXCLUDE);
        po.exclude = exclude_names;
    }
    if (json) job.quiet = 1;

    prune_report r;
    memset(&r, 0, sizeof r);
    r.input = argv[optind];
    r.output = output;
    mco_model model;
    mco_status st = mco_model_load(r.input, &model);
    if (st != MCO_OK) return cli_fail(st);
    if ((st = run_prune(&job, &model, &po, end_given, &r)) == MCO_OK) st = mco_model_save(&model, output);
    if (st != MCO_OK) {
        mco_model_free(&model);
        return cli_fail(st);
    }
    mco_layer_sparsity *per = calloc((size_t)model.n_layers, sizeof *per);
    if (!per) {
        mco_model_free(&model);
        return cli_fail(mco_error(MCO_ERR_NOMEM, "out of memory"));
    }
    r.sparsity = mco_model_sparsity(&model, per);
    if (json) cli_print_json(report_json(&r, &model, per));
    else print_report(&r, &model, per);
    free(per);
    mco_model_free(&model);
    return CLI_EXIT_OK;
}
