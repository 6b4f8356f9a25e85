/*
 * cmd_sensitivity.c - `mcuopt sensitivity MODEL.mco`: how much accuracy each
 * prunable layer loses when only that layer is structurally pruned (no
 * fine-tuning) at each of a few ratios. A table layer x ratio -> accuracy
 * and drop, to choose per-layer ratios for `mcuopt shrink --layers`.
 *
 * Layers joined by a residual add form one row, named by its first layer
 * with the others after '+'.
 *
 * What it leaves out: choosing the ratios automatically from the table.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "mcuopt/model_file.h"
#include "mcuopt/prune_structured.h"

#define MAX_RATIOS 32

enum { OPT_CRITERION = 1000, OPT_RATIOS, OPT_IMAGES, OPT_SPLIT, OPT_MIN_CHANNELS, OPT_SAMPLES, OPT_THREADS };

static const cli_option sensitivity_table[] = {
    {"criterion", 0, "NAME", "l1 (default), l2, apoz or mean-activation", OPT_CRITERION},
    {"ratios", 0, "R,R,...", "ratios in [0, 1) (default 0.25,0.5,0.75)", OPT_RATIOS},
    {"images", 0, "N", "images evaluated (default 2000; 0: all)", OPT_IMAGES},
    {"split", 0, "NAME", "val (default: the 5,000 training images that 'mcuopt train' holds out with its default "
     "--val and --seed, so never trained on), test or train", OPT_SPLIT},
    {"min-channels", 0, "N", "channels every layer keeps at least (default 1)", OPT_MIN_CHANNELS},
    {"calibration-samples", 0, "N", "training images for apoz / mean-activation, spread over the set (default 256)", OPT_SAMPLES},
    {"threads", 0, "N", "evaluation threads (default: all cores)", OPT_THREADS},
    CLI_OPTION_JSON,
    {0},
};

static const cli_option *const sensitivity_tables[] = {sensitivity_table, cli_data_table, NULL};

static const cli_command_spec sensitivity_spec = {
    "sensitivity", "MODEL.mco [OPTIONS]",
    "Prunes each prunable layer alone (structured: whole filters / units, and what reads them) at each ratio, "
    "without fine-tuning, and prints the accuracy and its drop from the unpruned model.",
    sensitivity_tables, NULL,
};

/* Parses "0.25,0.5" into ratios; returns the count, 0 after a usage error. */
static int parse_ratios(const char *text, float *ratios)
{
    int n = 0;
    const char *p = text;
    while (*p) {
        char *end;
        float r = strtof(p, &end);
        if (end == p || (*end != ',' && *end != '\0') || !(r >= 0.0f && r < 1.0f) || n == MAX_RATIOS) {
            cli_usage_error("sensitivity", "--ratios expects up to %d comma-separated numbers in [0, 1), got '%s'",
                            MAX_RATIOS, text);
            return 0;
        }
        ratios[n++] = r;
        p = *end == ',' ? end + 1 : end;
    }
    if (n == 0) cli_usage_error("sensitivity", "--ratios is empty");
    return n;
}

/* "conv2d_13+sc2": the Conv2D/Dense layers of the group led by `leader`. */
static void group_label(const mco_model *model, const mco_channel_groups *groups, int leader, char *buf,
                        size_t size)
{
    int g = mco_channel_group_of(groups, leader);
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < model->n_layers && used < size; i++) {
        const mco_layer *l = &model->layers[i];
        if (groups->layer_group[i] != g || (l->type != MCO_LAYER_CONV2D && l->type != MCO_LAYER_DENSE)) continue;
        int w = snprintf(buf + used, size - used, "%s%s", used ? "+" : "", l->name);
        if (w < 0) break;
        used += (size_t)w;
    }
}

int cmd_sensitivity(int argc, char **argv)
{
    mco_structured_options opt;
    mco_structured_options_default(&opt);
    cli_data_options data = {0};
    float ratios[MAX_RATIOS] = {0.25f, 0.5f, 0.75f};
    int n_ratios = 3, images = 2000, threads = 0, json = 0, data_given = 0;
    mco_split split = MCO_SPLIT_TRAIN;
    int use_val = 1;
    cli_parser p;
    cli_parser_init(&p, &sensitivity_spec, argc, argv);
    int c;
    while ((c = cli_getopt(&p)) > 0) {
        switch (c) {
        case OPT_CRITERION:
            if (mco_importance_criterion_parse(optarg, &opt.criterion) != MCO_OK)
                return cli_usage_error("sensitivity", "%s", mco_last_error());
            break;
        case OPT_RATIOS:
            if (!(n_ratios = parse_ratios(optarg, ratios))) return CLI_EXIT_USAGE;
            break;
        case OPT_IMAGES:
            if (!cli_parse_int("sensitivity", "--images", optarg, 0, 100000000, &images)) return CLI_EXIT_USAGE;
            break;
        case OPT_SPLIT:
            use_val = strcmp(optarg, "val") == 0;
            if (use_val || strcmp(optarg, "train") == 0) split = MCO_SPLIT_TRAIN;
            else if (strcmp(optarg, "test") == 0) split = MCO_SPLIT_TEST;
            else return cli_usage_error("sensitivity", "--split must be val, test or train, not '%s'", optarg);
            break;
        case OPT_MIN_CHANNELS:
            if (!cli_parse_int("sensitivity", "--min-channels", optarg, 1, MCO_MAX_DIM, &opt.min_channels))
                return CLI_EXIT_USAGE;
            break;
        case OPT_SAMPLES:
            if (!cli_parse_int("sensitivity", "--calibration-samples", optarg, 1, 1000000, &opt.calibration_samples))
                return CLI_EXIT_USAGE;
            break;
        case OPT_THREADS:
            if (!cli_parse_int("sensitivity", "--threads", optarg, 0, 256, &threads)) return CLI_EXIT_USAGE;
            break;
        case CLI_OPT_JSON: json = 1; break;
        default: {   /* the data options (cli_data_table) */
            int r = cli_data_option(&data, &data_given, "sensitivity", c, optarg);
            if (r != CLI_EXIT_OK) return r == -1 ? cli_option_unhandled(&p, c) : r;
        }
        }
    }
    if (c < 0) return p.exit_code;
    if (optind != argc - 1) return cli_usage_error("sensitivity", "expected one MODEL file");
    const char *path = argv[optind];

    mco_model model;
    mco_status st = mco_model_load(path, &model);
    if (st != MCO_OK) return cli_fail(st);
    data.input = model.input_shape;

    /* Everything below is released at `done`. */
    int exit_code = CLI_EXIT_FAIL;
    mco_dataset loaded = {0}, val = {0}, calib = {0};
    mco_sensitivity_result r = {0};
    mco_channel_groups groups = {0};
    if ((st = cli_load_dataset(&data, split, !data_given, json, &loaded)) != MCO_OK) goto fail;
    if (use_val) {
        /* The same held-out split as `mcuopt train`'s defaults (--val 5000 --seed 1). */
        mco_dataset train_part, held_out;
        if ((st = mco_dataset_split(&loaded, 5000 < loaded.n ? 5000 : loaded.n / 10, 1, &train_part, &held_out)) != MCO_OK)
            goto fail;
        mco_dataset_free(&train_part);
        st = mco_dataset_head(&held_out, images > 0 && images < held_out.n ? images : held_out.n, &val);
        mco_dataset_free(&held_out);
        if (st != MCO_OK) goto fail;
    } else if ((st = mco_dataset_head(&loaded, images > 0 && images < loaded.n ? images : loaded.n, &val)) != MCO_OK) {
        goto fail;
    }
    if (mco_importance_needs_data(opt.criterion)) {
        if (split != MCO_SPLIT_TRAIN) {
            mco_dataset_free(&loaded);
            if ((st = cli_load_dataset(&data, MCO_SPLIT_TRAIN, 0, json, &loaded)) != MCO_OK) goto fail;
        }
        calib = loaded;   /* calibrates on the first training images */
        loaded = (mco_dataset){0};
    }
    mco_dataset_free(&loaded);
    if ((st = mco_structured_sensitivity(&model, &opt, ratios, n_ratios, calib.n ? &calib : NULL, &val, threads,
                                         &r)) != MCO_OK)
        goto fail;
    if ((st = mco_channel_groups_find(&model, &groups)) != MCO_OK) goto fail;

    const char *criterion = mco_importance_criterion_name(opt.criterion);
    const char *split_name = use_val ? "val" : split == MCO_SPLIT_TEST ? "test" : "train";
    char label[256];
    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "model", path);
        cJSON_AddStringToObject(o, "criterion", criterion);
        cJSON_AddStringToObject(o, "dataset", data.dataset);
        cJSON_AddStringToObject(o, "split", split_name);
        cJSON_AddNumberToObject(o, "images", val.n);
        cJSON_AddNumberToObject(o, "baseline_accuracy", r.baseline_accuracy);
        cJSON_AddNumberToObject(o, "baseline_parameters", (double)r.baseline_params);
        cJSON *rows = cJSON_AddArrayToObject(o, "layers");
        for (int g = 0; g < r.n_groups; g++) {
            cJSON *row = cJSON_CreateObject();
            group_label(&model, &groups, r.leaders[g], label, sizeof label);
            cJSON_AddStringToObject(row, "layer", model.layers[r.leaders[g]].name);
            cJSON_AddStringToObject(row, "group", label);
            cJSON_AddNumberToObject(row, "channels", r.channels[g]);
            cJSON *cells = cJSON_AddArrayToObject(row, "ratios");
            for (int k = 0; k < r.n_ratios; k++) {
                size_t cell = (size_t)g * (size_t)r.n_ratios + (size_t)k;
                cJSON *x = cJSON_CreateObject();
                cJSON_AddNumberToObject(x, "ratio", r.ratios[k]);
                if (r.accuracy[cell] < 0.0) {
                    cJSON_AddNullToObject(x, "accuracy");
                } else {
                    cJSON_AddNumberToObject(x, "channels", r.kept[cell]);
                    cJSON_AddNumberToObject(x, "parameters", (double)r.params[cell]);
                    cJSON_AddNumberToObject(x, "accuracy", r.accuracy[cell]);
                    cJSON_AddNumberToObject(x, "drop", r.baseline_accuracy - r.accuracy[cell]);
                }
                cJSON_AddItemToArray(cells, x);
            }
            cJSON_AddItemToArray(rows, row);
        }
        cli_print_json(o);
    } else {
        printf("%s: %s sensitivity on %d %s %s images, no fine-tuning\n", path, criterion, val.n, data.dataset,
               split_name);
        printf("unpruned: %.2f %% accuracy, %zu parameters\n", r.baseline_accuracy * 100.0, r.baseline_params);
        printf("accuracy %% (drop in points) when only that layer loses the ratio of its channels:\n");
        printf("  %-24s %8s", "layer", "channels");
        for (int k = 0; k < r.n_ratios; k++) printf("  %14.2f", (double)r.ratios[k]);
        printf("\n");
        for (int g = 0; g < r.n_groups; g++) {
            group_label(&model, &groups, r.leaders[g], label, sizeof label);
            printf("  %-24s %8d", label, r.channels[g]);
            for (int k = 0; k < r.n_ratios; k++) {
                size_t cell = (size_t)g * (size_t)r.n_ratios + (size_t)k;
                if (r.accuracy[cell] < 0.0) printf("  %14s", "-");
                else printf("  %6.2f (%+6.2f)", r.accuracy[cell] * 100.0,
                            (r.accuracy[cell] - r.baseline_accuracy) * 100.0);
            }
            printf("\n");
        }
        if (r.n_groups == 0) printf("  (no prunable layers: only the output layer has channels)\n");
    }
    exit_code = CLI_EXIT_OK;
    goto done;
fail:
    exit_code = cli_fail(st);
done:
    mco_channel_groups_free(&groups);
    mco_sensitivity_result_free(&r);
    mco_dataset_free(&loaded);
    mco_dataset_free(&val);
    mco_dataset_free(&calib);
    mco_model_free(&model);
    return exit_code;
}
