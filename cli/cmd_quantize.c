/*
 * cmd_quantize.c - `mcuopt quantize MODEL.mco -o OUT.mcq`: post-training
 * quantization of a saved float model into a deploy model (.mcq), with the
 * accuracy of the quantized model (run by the host evaluator on the MCU
 * runtime's kernels) next to the float accuracy.
 *
 * Modes: float16 (half weights, float activations), int8-weights and
 * int4-weights (weights only, float activations), int8 (int8 weights and
 * activations) and int4 (int4 weights, int8 activations). --layer-bits sets
 * the bits of each weighted layer (mixed precision).
 *
 * What it leaves out: choosing bits automatically (a sensitivity search).
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "mcuopt/codegen.h"
#include "mcuopt/deploy.h"
#include "mcuopt/deploy_util.h"
#include "mcuopt/model_file.h"

enum {
    OPT_MODE = 1000, OPT_PER_TENSOR, OPT_PER_CHANNEL, OPT_SYMMETRIC, OPT_CALIBRATION, OPT_PERCENTILE, OPT_SAMPLES,
    OPT_LAYER_BITS, OPT_NO_EVAL, OPT_THREADS
};

static const cli_option quantize_table[] = {
    CLI_OPTION_OUTPUT("FILE", "the deploy model to write (.mcq)"),
    {"mode", 0, "MODE", "float16 | int8-weights | int8 (default) | int4-weights | int4 (int4 weights, int8 "
     "activations)", OPT_MODE},
    {"per-tensor", 0, NULL, "one weight scale per layer", OPT_PER_TENSOR},
    {"per-channel", 0, NULL, "weight scales per output channel in every layer (default: per channel for conv "
     "layers, one scale per Dense layer, as TFLite's int8 specification)", OPT_PER_CHANNEL},
    {"symmetric-activations", 0, NULL, "activation zero points 0", OPT_SYMMETRIC},
    {"calibration", 0, "METHOD", "minmax (default) | percentile | mse", OPT_CALIBRATION},
    {"percentile", 0, "P", "for percentile calibration (default 99.99)", OPT_PERCENTILE},
    {"calibration-samples", 0, "N", "training samples to calibrate on, spread evenly over the set (default 1000)", OPT_SAMPLES},
    {"layer-bits", 0, "B,B,...", "bits per weighted layer (32, 16, 8 or 4; with int8 activations only 8 or 4), "
     "e.g. 8,4,8", OPT_LAYER_BITS},
    {"no-eval", 0, NULL, "skip the accuracy evaluation", OPT_NO_EVAL},
    {"threads", 0, "N", "evaluation threads (default: all cores)", OPT_THREADS},
    CLI_OPTION_JSON,
    {0},
};

static const cli_option *const quantize_tables[] = {quantize_table, cli_data_table, NULL};

static const cli_command_spec quantize_spec = {
    "quantize", "MODEL.mco -o OUT.mcq [OPTIONS]",
    "Post-training quantization: folds BatchNorm, removes Dropout, stores the weights in the chosen format and, "
    "for int8 activations, calibrates activation ranges on training images. Prints the weight bytes and the "
    "accuracy of the quantized model (host evaluation with the MCU kernels) next to the float accuracy.",
    quantize_tables, NULL,
};

typedef struct {
    const char *name;
    mco_activation_format activations;
    mco_weight_format weights;
} quant_mode;

static const quant_mode modes[] = {
    {"float16", MCO_ACT_F32, MCO_WEIGHTS_F16},
    {"int8-weights", MCO_ACT_F32, MCO_WEIGHTS_S8},
    {"int8", MCO_ACT_S8, MCO_WEIGHTS_S8},
    {"int4-weights", MCO_ACT_F32, MCO_WEIGHTS_S4},
    {"int4", MCO_ACT_S8, MCO_WEIGHTS_S4},
};

static const char *format_name(mco_weight_format f)
{
    static const char *const names[] = {"float32", "float16", "int8", "int4"};
    return (int)f >= 0 && (int)f < 4 ? names[f] : "?";
}

/* Parses "8,4,8" into formats for the weighted layers of the folded model
 * (formats[] is indexed by folded layer). Returns 0 after a usage error. */
static int parse_layer_bits(const char *text, const mco_model *folded, mco_weight_format *formats)
{
    int weighted = 0;
    for (int i = 0; i < folded->n_layers; i++) {
        if (mco_deploy_is_weighted(&folded->layers[i])) weighted++;
    }
    const char *p = text;
    int k = 0;
    for (int i = 0; i < folded->n_layers; i++) {
        formats[i] = MCO_WEIGHTS_F32;
        if (!mco_deploy_is_weighted(&folded->layers[i])) continue;   /* conv, depthwise, conv_transpose, dense */
        char *end;
        long bits = strtol(p, &end, 10);
        if (end == p) break;
        if (bits == 32) formats[i] = MCO_WEIGHTS_F32;
        else if (bits == 16) formats[i] = MCO_WEIGHTS_F16;
        else if (bits == 8) formats[i] = MCO_WEIGHTS_S8;
        else if (bits == 4) formats[i] = MCO_WEIGHTS_S4;
        else {
            cli_usage_error("quantize", "--layer-bits: %ld bits for layer %d (%s); use 32, 16, 8 or 4", bits, i,
                            folded->layers[i].name);
            return 0;
        }
        k++;
        p = *end == ',' ? end + 1 : end;
        if (*end != ',' && *end != '\0') break;
    }
    if (k != weighted || *p != '\0') {
        cli_usage_error("quantize", "--layer-bits needs %d comma-separated values (one per conv/dense layer), got '%s'",
                        weighted, text);
        return 0;
    }
    return 1;
}

static void print_layers(const mco_deploy_model *dm)
{
    printf("  %-3s %-16s %-16s %-8s %10s", "#", "layer", "type", "weights", "bytes");
    if (dm->activation_format == MCO_ACT_S8) printf(" %12s %5s", "out scale", "zp");
    printf("\n");
    for (int i = 0; i < dm->model.n_layers; i++) {
        const mco_layer *l = &dm->model.layers[i];
        const mco_deploy_layer *d = &dm->layers[i];
        int weighted = d->n_channels > 0;
        printf("  %-3d %-16s %-16s %-8s %10zu", i, l->name, mco_layer_type_name(l->type),
               weighted ? format_name(d->weight_format) : "-", mco_deploy_layer_bytes(dm, i));
        if (dm->activation_format == MCO_ACT_S8) printf(" %12.6g %5d", (double)d->output.scale, (int)d->output.zero_point);
        printf("\n");
    }
}

static cJSON *layers_json(const mco_deploy_model *dm)
{
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < dm->model.n_layers; i++) {
        const mco_layer *l = &dm->model.layers[i];
        const mco_deploy_layer *d = &dm->layers[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", l->name);
        cJSON_AddStringToObject(o, "type", mco_layer_type_name(l->type));
        if (d->n_channels > 0) cJSON_AddStringToObject(o, "weights", format_name(d->weight_format));
        cJSON_AddNumberToObject(o, "bytes", (double)mco_deploy_layer_bytes(dm, i));
        if (dm->activation_format == MCO_ACT_S8) {
            cJSON_AddNumberToObject(o, "output_scale", d->output.scale);
            cJSON_AddNumberToObject(o, "output_zero_point", d->output.zero_point);
        }
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

/* The float and the deploy model on the test split (results without their
 * confusion matrices). */
static mco_status evaluate_both(const mco_model *model, const mco_deploy_model *dm, cli_data_options *data,
                                int allow_fallback, int quiet, int threads, mco_eval_result *r_float,
                                mco_eval_result *r_quant)
{
    mco_dataset test;
    mco_status st = cli_load_dataset(data, MCO_SPLIT_TEST, allow_fallback, quiet, &test);
    if (st != MCO_OK) return st;
    if (dm->activation_format != MCO_ACT_S8) cli_warn_input_stats(model, NULL, &test);   /* int8: on calibration */
    if ((st = mco_evaluate(model, &test, threads, r_float)) == MCO_OK) {
        mco_eval_result_free(r_float);
        if ((st = mco_deploy_evaluate(dm, &test, threads, r_quant)) == MCO_OK) mco_eval_result_free(r_quant);
    }
    mco_dataset_free(&test);
    return st;
}

int cmd_quantize(int argc, char **argv)
{
    mco_quant_options qopt;
    mco_quant_options_default(&qopt);
    cli_data_options data = {0};
    const char *output = NULL, *layer_bits = NULL, *mode_name = "int8";
    int threads = 0, json = 0, data_given = 0, evaluate = 1;
    cli_parser p;
    cli_parser_init(&p, &quantize_spec, argc, argv);
    int c;
    while ((c = cli_getopt(&p)) > 0) {
        switch (c) {
        case 'o': output = optarg; break;
        case OPT_MODE: mode_name = optarg; break;
        case OPT_PER_TENSOR: qopt.granularity = MCO_GRANULARITY_PER_TENSOR; break;
        case OPT_PER_CHANNEL: qopt.granularity = MCO_GRANULARITY_PER_CHANNEL; break;
        case OPT_SYMMETRIC: qopt.symmetric_activations = 1; break;
        case OPT_CALIBRATION:
            if (strcmp(optarg, "minmax") == 0) qopt.calibration = MCO_CALIBRATE_MINMAX;
            else if (strcmp(optarg, "percentile") == 0) qopt.calibration = MCO_CALIBRATE_PERCENTILE;
            else if (strcmp(optarg, "mse") == 0) qopt.calibration = MCO_CALIBRATE_MSE;
            else return cli_usage_error("quantize", "--calibration must be minmax, percentile or mse, not '%s'", optarg);
            break;
        case OPT_PERCENTILE:
            if (!cli_parse_float("quantize", "--percentile", optarg, &qopt.percentile)) return CLI_EXIT_USAGE;
            if (!(qopt.percentile > 50.0f && qopt.percentile <= 100.0f))
                return cli_usage_error("quantize", "--percentile must be in (50, 100], got '%s'", optarg);
            qopt.calibration = MCO_CALIBRATE_PERCENTILE;
            break;
        case OPT_SAMPLES:
            if (!cli_parse_int("quantize", "--calibration-samples", optarg, 1, 1000000, &qopt.calibration_samples))
                return CLI_EXIT_USAGE;
            break;
        case OPT_LAYER_BITS: layer_bits = optarg; break;
        case OPT_NO_EVAL: evaluate = 0; break;
        case OPT_THREADS:
            if (!cli_parse_int("quantize", "--threads", optarg, 0, 256, &threads)) return CLI_EXIT_USAGE;
            break;
        case CLI_OPT_JSON: json = 1; break;
        default: {   /* the data options (cli_data_table) */
            int r = cli_data_option(&data, &data_given, "quantize", c, optarg);
            if (r != CLI_EXIT_OK) return r == -1 ? cli_option_unhandled(&p, c) : r;
        }
        }
    }
    if (c < 0) return p.exit_code;
    if (optind != argc - 1) return cli_usage_error("quantize", "expected one MODEL file");
    if (!output) return cli_usage_error("quantize", "missing -o OUT.mcq");
    const quant_mode *mode = NULL;
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
        if (strcmp(mode_name, modes[i].name) == 0) mode = &modes[i];
    if (!mode)
        return cli_usage_error("quantize", "--mode must be float16, int8-weights, int8, int4-weights or int4, not '%s'",
                               mode_name);
    qopt.activation_format = mode->activations;
    qopt.weight_format = mode->weights;
    const char *path = argv[optind];

    mco_model model;
    mco_status st = mco_model_load(path, &model);
    if (st != MCO_OK) return cli_fail(st);
    data.input = model.input_shape;
    cli_take_frontend(&model, &data);

    /* Everything below is released at `done`. */
    int exit_code = CLI_EXIT_FAIL;
    mco_weight_format *formats = NULL;
    mco_dataset calib = {0};
    mco_deploy_model dm = {0}, folded = {0};
    if (layer_bits) {
        if ((st = mco_deploy_from_float(&model, &folded)) != MCO_OK) goto fail;
        formats = calloc((size_t)folded.model.n_layers, sizeof *formats);
        if (!formats) {
            st = mco_error(MCO_ERR_NOMEM, "out of memory");
            goto fail;
        }
        if (!parse_layer_bits(layer_bits, &folded.model, formats)) {
            exit_code = CLI_EXIT_USAGE;
            goto done;
        }
        qopt.layer_formats = formats;
    }
    if (qopt.activation_format == MCO_ACT_S8 &&
        (st = cli_load_dataset(&data, MCO_SPLIT_TRAIN, !data_given, json, &calib)) != MCO_OK)
        goto fail;
    if (qopt.activation_format == MCO_ACT_S8) cli_warn_input_stats(&model, NULL, &calib);
    if ((st = mco_quantize(&model, qopt.activation_format == MCO_ACT_S8 ? &calib : NULL, &qopt, &dm)) != MCO_OK)
        goto fail;
    mco_dataset_free(&calib);
    if ((st = mco_deploy_save(&dm, output)) != MCO_OK) goto fail;

    mco_eval_result r_float = {0}, r_quant = {0};
    if (evaluate &&
        (st = evaluate_both(&model, &dm, &data, !data_given, json, threads, &r_float, &r_quant)) != MCO_OK)
        goto fail;

    char variant[160];
    mco_deploy_describe(&dm, variant, sizeof variant);
    size_t bytes = mco_deploy_weight_bytes(&dm), float_bytes = mco_model_param_count(&model) * sizeof(float);
    mco_deploy_model as_float;
    if (mco_deploy_from_float(&model, &as_float) == MCO_OK) {   /* folded float32 bytes: the fair baseline */
        float_bytes = mco_deploy_weight_bytes(&as_float);
        mco_deploy_free(&as_float);
    }
    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "model", path);
        cJSON_AddStringToObject(o, "output", output);
        cJSON_AddStringToObject(o, "mode", mode->name);
        cJSON_AddStringToObject(o, "variant", variant);
        cJSON_AddNumberToObject(o, "weight_bytes", (double)bytes);
        cJSON_AddNumberToObject(o, "float_weight_bytes", (double)float_bytes);
        if (evaluate) {
            cJSON_AddStringToObject(o, "dataset", data.dataset);
            if (r_float.kind == MCO_LOSS_MSE) {
                cJSON_AddNumberToObject(o, "float_reconstruction_error", r_float.loss);
                cJSON_AddNumberToObject(o, "quantized_reconstruction_error", r_quant.loss);
                cli_json_add_auc(o, "float_auc", r_float.auc);
                cli_json_add_auc(o, "quantized_auc", r_quant.auc);
            } else {
                cJSON_AddNumberToObject(o, "float_accuracy", r_float.accuracy);
                cJSON_AddNumberToObject(o, "quantized_accuracy", r_quant.accuracy);
            }
        }
        cJSON_AddItemToObject(o, "layers", layers_json(&dm));
        cli_print_json(o);
    } else {
        printf("%s -> %s: %s\n", path, output, variant);
        printf("weights: %zu bytes (float32: %zu bytes, %.2fx smaller)\n", bytes, float_bytes,
               bytes ? (double)float_bytes / (double)bytes : 0.0);
        if (evaluate && r_float.kind == MCO_LOSS_MSE) {
            printf("reconstruction error on %s test: float %.6f, quantized %.6f", data.dataset, r_float.loss,
                   r_quant.loss);
            if (r_float.auc >= 0.0) printf("; AUC: float %.4f, quantized %.4f", r_float.auc, r_quant.auc);
            printf("\n");
        } else if (evaluate) {
            printf("accuracy on %s test: float %.2f %%, quantized %.2f %% (%+.2f points)\n", data.dataset,
                   r_float.accuracy * 100.0, r_quant.accuracy * 100.0, (r_quant.accuracy - r_float.accuracy) * 100.0);
        }
        print_layers(&dm);
    }
    exit_code = CLI_EXIT_OK;
    goto done;
fail:
    exit_code = cli_fail(st);
done:
    mco_dataset_free(&calib);
    mco_deploy_free(&dm);
    mco_deploy_free(&folded);
    free(formats);
    mco_model_free(&model);
    return exit_code;
}
