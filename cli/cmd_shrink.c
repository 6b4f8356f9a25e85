/*
 * cmd_shrink.c - `mcuopt shrink MODEL.mco -o OUT.mco`: structured pruning.
 * Removes the least important filters / units of every prunable layer (or
 * of the layers named with --layers), so the saved model is really smaller,
 * then fine-tunes it on the training split and reports test accuracy,
 * parameters and MACs before and after, layer by layer.
 *
 * The fine-tuning options are the training job's (cli_train_job.h) minus
 * --arch and --val; --fine-tune-epochs replaces --epochs.
 *
 * What it leaves out: iterative prune / fine-tune schedules (run the command
 * again on its output), and distillation during fine-tuning.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_train_job.h"
#include "mcuopt/model_file.h"
#include "mcuopt/prune_structured.h"

enum { OPT_RATIO = 1000, OPT_CRITERION, OPT_LAYERS, OPT_MIN_CHANNELS, OPT_SAMPLES, OPT_FINE_TUNE_EPOCHS };

/* the training job's options less --arch, --val and --epochs (--fine-tune-epochs) */
static const cli_option shrink_table[] = {
    CLI_OPTION_OUTPUT("FILE", "the pruned model to write (.mco)"),
    {"ratio", 0, "R", "fraction of channels removed per layer, in [0, 1) (default 0.5)", OPT_RATIO},
    {"criterion", 0, "NAME", "l1 (default), l2, apoz or mean-activation", OPT_CRITERION},
    {"layers", 0, "NAME[=R],...", "prune only these Conv2D/Dense layers, each with its own ratio R or --ratio",
     OPT_LAYERS},
    {"min-channels", 0, "N", "channels every layer keeps at least (default 1)", OPT_MIN_CHANNELS},
    {"calibration-samples", 0, "N", "training images for apoz / mean-activation, spread over the set (default 256)", OPT_SAMPLES},
    {"fine-tune-epochs", 0, "N", "epochs of fine-tuning after pruning (default 1; 0: none)", OPT_FINE_TUNE_EPOCHS},
    CLI_JOB_OPTION_BATCH,
    CLI_JOB_OPTION_OPTIMIZER,
    CLI_JOB_OPTION_LR("fine-tuning learning rate (default 0.001)"),
    CLI_JOB_OPTION_MOMENTUM,
    CLI_JOB_OPTION_WEIGHT_DECAY,
    CLI_JOB_OPTION_SCHEDULE,
    CLI_JOB_OPTION_SEED,
    CLI_JOB_OPTION_THREADS,
    CLI_JOB_OPTION_AUGMENT,
    CLI_OPTION_JSON,
    CLI_OPTION_QUIET,
    {0},
};

static const cli_option *const shrink_tables[] = {shrink_table, cli_data_table, NULL};

static const cli_command_spec shrink_spec = {
    "shrink", "MODEL.mco -o OUT.mco [OPTIONS]",
    "Structured pruning: removes whole filters (Conv2D), units (Dense) and the matching channels of every layer "
    "that reads them (BatchNorm, DepthwiseConv2D, the next Conv2D's input channels, a Dense's flattened input "
    "columns). Layers joined by a residual add are pruned together; the output layer never is. Then fine-tunes "
    "the smaller model and reports accuracy, parameters and MACs.",
    shrink_tables, NULL,
};

static int is_prunable_type(const mco_layer *l)
{
    return l->type == MCO_LAYER_CONV2D || l->type == MCO_LAYER_DENSE;
}

/* Parses "conv2d_0,dense_3=0.25" into per-layer ratios (0 = not named).
 * Returns 0 after printing a usage error. */
static int parse_layers(const char *text, const mco_model *model, float default_ratio, float *ratios)
{
    char *copy = strdup(text);
    if (!copy) {
        cli_usage_error("shrink", "out of memory");
        return 0;
    }
    int ok = 1;
    for (char *save = NULL, *item = strtok_r(copy, ",", &save); item && ok; item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        float ratio = default_ratio;
        if (eq) {
            *eq = '\0';
            if (!cli_parse_float("shrink", "--layers", eq + 1, &ratio)) {
                ok = 0;
                break;
            }
        }
        int found = -1;
        for (int i = 0; i < model->n_layers; i++)
            if (strcmp(model->layers[i].name, item) == 0) found = i;
        if (found < 0 || !is_prunable_type(&model->layers[found])) {
            cli_usage_error("shrink", "--layers: '%s' is not a conv2d or dense layer of the model (see mcuopt info)",
                            item);
            ok = 0;
        } else if (!(ratio >= 0.0f && ratio < 1.0f)) {
            cli_usage_error("shrink", "--layers: ratio %g for %s is outside [0, 1)", (double)ratio, item);
            ok = 0;
        } else {
            ratios[found] = ratio;
        }
    }
    free(copy);
    return ok;
}

static mco_status accuracy_on(const mco_model *model, const mco_dataset *test, int threads, double *accuracy)
{
    mco_eval_result r;
    mco_status st = mco_evaluate(model, test, threads, &r);
    if (st != MCO_OK) return st;
    *accuracy = r.accuracy;
    mco_eval_result_free(&r);
    return MCO_OK;
}

/* Channels a layer outputs, for the per-layer table. */
static int out_channels(const mco_layer *l)
{
    return l->out_shape.c;
}

static void print_layers(const mco_model *before, const mco_model *after)
{
    printf("  %-3s %-18s %-16s %17s %21s\n", "#", "layer", "type", "channels", "parameters");
    for (int i = 0; i < before->n_layers; i++) {
        const mco_layer *a = &before->layers[i], *b = &after->layers[i];
        if (a->n_params == 0) continue;
        size_t pa = mco_layer_param_count(a), pb = mco_layer_param_count(b);
        printf("  %-3d %-18s %-16s %7d -> %-7d %9zu -> %-9zu%s\n", i, a->name, mco_layer_type_name(a->type),
               out_channels(a), out_channels(b), pa, pb, pa != pb ? "" : " (unchanged)");
    }
}

static cJSON *layers_json(const mco_model *before, const mco_model *after)
{
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < before->n_layers; i++) {
        const mco_layer *a = &before->layers[i], *b = &after->layers[i];
        if (a->n_params == 0) continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", a->name);
        cJSON_AddStringToObject(o, "type", mco_layer_type_name(a->type));
        cJSON_AddNumberToObject(o, "channels_before", out_channels(a));
        cJSON_AddNumberToObject(o, "channels_after", out_channels(b));
        cJSON_AddNumberToObject(o, "parameters_before", (double)mco_layer_param_count(a));
        cJSON_AddNumberToObject(o, "parameters_after", (double)mco_layer_param_count(b));
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

int cmd_shrink(int argc, char **argv)
{
    cli_train_job job;
    cli_train_job_defaults(&job);
    job.train.epochs = 1;
    job.train.learning_rate = 1e-3f;
    mco_structured_options popt;
    mco_structured_options_default(&popt);
    const char *output = NULL, *layers = NULL;
    int json = 0;
    cli_parser p;
    cli_parser_init(&p, &shrink_spec, argc, argv);
    int c;
    while ((c = cli_getopt(&p)) > 0) {
        switch (c) {
        case 'o': output = optarg; break;
        case OPT_RATIO:
            if (!cli_parse_float("shrink", "--ratio", optarg, &popt.ratio)) return CLI_EXIT_USAGE;
            if (!(popt.ratio >= 0.0f && popt.ratio < 1.0f))
                return cli_usage_error("shrink", "--ratio must be in [0, 1), got '%s'", optarg);
            break;
        case OPT_CRITERION:
            if (mco_importance_criterion_parse(optarg, &popt.criterion) != MCO_OK)
                return cli_usage_error("shrink", "%s", mco_last_error());
            break;
        case OPT_LAYERS: layers = optarg; break;
        case OPT_MIN_CHANNELS:
            if (!cli_parse_int("shrink", "--min-channels", optarg, 1, MCO_MAX_DIM, &popt.min_channels))
                return CLI_EXIT_USAGE;
            break;
        case OPT_SAMPLES:
            if (!cli_parse_int("shrink", "--calibration-samples", optarg, 1, 1000000, &popt.calibration_samples))
                return CLI_EXIT_USAGE;
            break;
        case OPT_FINE_TUNE_EPOCHS:
            if (!cli_parse_int("shrink", "--fine-tune-epochs", optarg, 0, 10000, &job.train.epochs))
                return CLI_EXIT_USAGE;
            break;
        case CLI_OPT_JSON: json = 1; break;
        default: {
            int r = cli_train_job_option(&job, "shrink", c, optarg);
            if (r != CLI_EXIT_OK) return r;
        }
        }
    }
    if (c < 0) return p.exit_code;
    if (optind != argc - 1) return cli_usage_error("shrink", "expected one MODEL file");
    if (!output) return cli_usage_error("shrink", "missing -o OUT.mco");
    const char *path = argv[optind];
    int quiet = job.quiet || json, threads = job.train.threads;

    mco_model original, model = {0};
    mco_status st = mco_model_load(path, &original);
    if (st != MCO_OK) return cli_fail(st);

    /* Everything below is released at `done`. */
    int exit_code = CLI_EXIT_FAIL;
    float *ratios = NULL;
    mco_dataset train = {0}, test = {0};
    if (layers) {
        ratios = calloc((size_t)original.n_layers, sizeof *ratios);
        if (!ratios) {
            st = mco_error(MCO_ERR_NOMEM, "out of memory");
            goto fail;
        }
        if (!parse_layers(layers, &original, popt.ratio, ratios)) {
            exit_code = CLI_EXIT_USAGE;
            goto done;
        }
        popt.layer_ratios = ratios;
    }
    job.data.input = original.input_shape;
    if ((st = cli_load_dataset(&job.data, MCO_SPLIT_TRAIN, !job.data_given, quiet, &train)) != MCO_OK) goto fail;
    if ((st = cli_load_dataset(&job.data, MCO_SPLIT_TEST, 0, quiet, &test)) != MCO_OK) goto fail;

    double acc_before, acc_pruned, acc_after;
    if ((st = accuracy_on(&original, &test, threads, &acc_before)) != MCO_OK) goto fail;
    if ((st = mco_model_clone(&original, &model)) != MCO_OK) goto fail;
    if ((st = mco_structured_prune(&model, &popt, &train)) != MCO_OK) goto fail;
    if ((st = accuracy_on(&model, &test, threads, &acc_pruned)) != MCO_OK) goto fail;
    acc_after = acc_pruned;
    mco_train_result tr = {0};
    if (job.train.epochs > 0) {
        cli_progress progress;
        cli_progress_init(&progress, quiet);
        if (!quiet)
            fprintf(stderr, "fine-tuning on %s: %d images, %d epochs, lr %g\n", job.data.dataset, train.n,
                    job.train.epochs, (double)job.train.learning_rate);
        job.train.progress = cli_progress_train;
        job.train.progress_user = &progress;
        st = mco_train(&model, &train, NULL, &job.train, &tr);
        job.train.progress = NULL;
        if (st != MCO_OK) goto fail;
        if ((st = accuracy_on(&model, &test, threads, &acc_after)) != MCO_OK) goto fail;
    }
    if ((st = mco_model_save(&model, output)) != MCO_OK) goto fail;

    size_t p0 = mco_model_param_count(&original), p1 = mco_model_param_count(&model);
    unsigned long long m0 = (unsigned long long)mco_model_macs(&original);
    unsigned long long m1 = (unsigned long long)mco_model_macs(&model);
    const char *criterion = mco_importance_criterion_name(popt.criterion);
    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "model", path);
        cJSON_AddStringToObject(o, "output", output);
        cJSON_AddStringToObject(o, "criterion", criterion);
        cJSON_AddNumberToObject(o, "ratio", popt.ratio);
        cJSON_AddStringToObject(o, "dataset", job.data.dataset);
        cJSON_AddNumberToObject(o, "parameters_before", (double)p0);
        cJSON_AddNumberToObject(o, "parameters_after", (double)p1);
        cJSON_AddNumberToObject(o, "macs_before", (double)m0);
        cJSON_AddNumberToObject(o, "macs_after", (double)m1);
        cJSON_AddNumberToObject(o, "accuracy_before", acc_before);
        cJSON_AddNumberToObject(o, "accuracy_pruned", acc_pruned);
        cJSON_AddNumberToObject(o, "fine_tune_epochs", job.train.epochs);
        cJSON_AddNumberToObject(o, "fine_tune_seconds", tr.seconds);
        cJSON_AddNumberToObject(o, "accuracy_after", acc_after);
        cJSON_AddItemToObject(o, "layers", layers_json(&original, &model));
        cli_print_json(o);
    } else {
        printf("%s -> %s: %s pruning, ratio %g%s\n", path, output, criterion, (double)popt.ratio,
               layers ? " (named layers only)" : "");
        printf("parameters %zu -> %zu (%.1f %%), MACs %llu -> %llu (%.1f %%)\n", p0, p1,
               p0 ? 100.0 * (double)p1 / (double)p0 : 0.0, m0, m1, m0 ? 100.0 * (double)m1 / (double)m0 : 0.0);
        printf("accuracy on %s test: %.2f %% before, %.2f %% pruned", job.data.dataset, acc_before * 100.0,
               acc_pruned * 100.0);
        if (job.train.epochs > 0)
            printf(", %.2f %% after %d fine-tuning epoch%s (%.1f s)", acc_after * 100.0, job.train.epochs,
                   job.train.epochs == 1 ? "" : "s", tr.seconds);
        printf("\n");
        print_layers(&original, &model);
    }
    exit_code = CLI_EXIT_OK;
    goto done;
fail:
    exit_code = cli_fail(st);
done:
    mco_dataset_free(&train);
    mco_dataset_free(&test);
    free(ratios);
    mco_model_free(&model);
    mco_model_free(&original);
    return exit_code;
}
