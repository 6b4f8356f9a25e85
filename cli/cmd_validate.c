/*
 * cmd_validate.c - `mcuopt validate MODEL --target T --inputs FILE | --data
 * PATH`: runs the user's inputs through the float model (MODEL itself when
 * it is a .mco, or --float-model), the integer host runtime and the emitted
 * code on the emulated target (mco_validate, src/measure/validate.c), and
 * reports how the outputs compare and the target's per-op instructions and
 * cycles, like `stedgeai validate`. Exit status 1 when the target's outputs
 * differ from the host runtime's.
 */
#include <string.h>

#include "cli.h"
#include "mcuopt/model_file.h"
#include "mcuopt/validate.h"

enum { OPT_TARGET = 1000, OPT_INPUTS, OPT_IMAGES, OPT_FLOAT_MODEL, OPT_INPUT_TYPE, OPT_OUTPUT_TYPE, OPT_CC };

static const cli_option validate_table[] = {
    {"target", 0, "NAME", "the MCU profile (mcuopt targets)", OPT_TARGET},
    {"inputs", 0, "FILE", "the inputs: a .npy array (uint8 or float32 samples, or int8 model inputs), or raw .u8 "
     "/ .f32 / .i8 values, N inputs of the model's H*W*C values (or --data: its test split is the inputs)",
     OPT_INPUTS},
    {"images", 0, "N", "only the first N inputs (default: all)", OPT_IMAGES},
    {"float-model", 0, "M", "the float model (.mco) to compare a .mcq with", OPT_FLOAT_MODEL},
    CLI_OPTION_INPUT_TYPE(OPT_INPUT_TYPE),
    CLI_OPTION_OUTPUT_TYPE(OPT_OUTPUT_TYPE),
    CLI_OPTION_CC(OPT_CC),
    CLI_OPTION_OPT_LEVEL,
    CLI_OPTION_JSON,
    {0},
};

static const cli_option *const validate_tables[] = {validate_table, cli_data_table, NULL};

static const cli_command_spec validate_spec = {
    "validate", "MODEL --target NAME|FILE.json (--inputs FILE | --data PATH) [OPTIONS]",
    "Runs your inputs through the float model, the integer host runtime and the emitted C code on the target's "
    "emulated Cortex-M (QEMU), and reports for the output: how many are identical between host and target (bit "
    "for bit), the largest difference in quantization steps, the top-1 agreement with the float model, the "
    "accuracy when the inputs have labels, and the target's exact instructions and estimated cycles per op. Exit "
    "status 1 if any target output differs from the host's.\n\nMODEL is a .mcq deploy model (compared with "
    "--float-model, if given) or a .mco float model (the float model and the code, computing in float).",
    validate_tables, NULL,
};

static cJSON *result_json(const char *model, const mco_model *m, const mco_target_profile *t,
                          const mco_validate_result *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "model", model);
    cJSON_AddStringToObject(o, "target", t->name);
    cJSON_AddStringToObject(o, "qemu_machine", r->measure.qemu_machine);
    cJSON_AddStringToObject(o, "build", r->measure.build);
    cJSON_AddNumberToObject(o, "inputs", r->n_inputs);
    cJSON *out = cJSON_CreateObject();
    cJSON_AddNumberToObject(out, "values", r->n_values);
    cJSON_AddStringToObject(out, "type", mco_io_type_name(r->output_type));
    cJSON_AddNumberToObject(out, "identical", r->identical);
    cJSON_AddNumberToObject(out, "identical_percent", 100.0 * r->identical / r->n_inputs);
    cJSON_AddNumberToObject(out, "identical_values", (double)r->identical_values);
    cJSON_AddNumberToObject(out, "max_difference", r->max_diff);
    cJSON_AddStringToObject(out, "difference_unit", r->quantized ? "quantization steps" : "output units");
    cJSON_AddNumberToObject(out, "first_difference", r->first_difference);
    cJSON_AddNumberToObject(out, "top1_host_target", r->top1_host_target);
    if (r->has_reference) {
        cJSON_AddNumberToObject(out, "top1_host_float", r->top1_host_reference);
        cJSON_AddNumberToObject(out, "top1_target_float", r->top1_target_reference);
        cJSON_AddNumberToObject(out, "max_difference_float", r->max_diff_reference);
    }
    if (r->has_labels) {
        cJSON_AddNumberToObject(out, "correct_host", r->correct_host);
        cJSON_AddNumberToObject(out, "correct_target", r->correct_target);
        if (r->has_reference) cJSON_AddNumberToObject(out, "correct_float", r->correct_reference);
    }
    cJSON *outputs = cJSON_AddArrayToObject(o, "outputs");
    cJSON_AddItemToArray(outputs, out);
    cJSON_AddNumberToObject(o, "instructions", r->measure.insns_mean);
    cJSON_AddNumberToObject(o, "cycles_estimate", r->measure.cycles_est);
    if (r->measure.n_layers > 0) cJSON_AddItemToObject(o, "layers", cli_measure_layers_json(m, &r->measure));
    return o;
}

static double percent(int k, int n) { return n ? 100.0 * k / n : 0.0; }

static void print_result(const char *model, const mco_model *m, const mco_target_profile *t,
                         const mco_validate_result *r)
{
    printf("%s on %s (emulated by qemu %s, built with %s): %d inputs\n", model, t->name, r->measure.qemu_machine,
           r->measure.build, r->n_inputs);
    printf("output: %d %s values per input\n", r->n_values, mco_io_type_name(r->output_type));
    printf("  host runtime vs target: %d of %d identical (%.2f %%), %ld of %ld values; max difference %g %s\n",
           r->identical, r->n_inputs, percent(r->identical, r->n_inputs), r->identical_values,
           (long)r->n_inputs * r->n_values, r->max_diff, r->quantized ? "quantization steps" : "(output units)");
    printf("  top-1 host = target:    %d of %d\n", r->top1_host_target, r->n_inputs);
    if (r->has_reference) {
        printf("  top-1 vs float model:   host %d of %d (%.2f %%), target %d of %d (%.2f %%); max |host - float| %g %s\n",
               r->top1_host_reference, r->n_inputs, percent(r->top1_host_reference, r->n_inputs),
               r->top1_target_reference, r->n_inputs, percent(r->top1_target_reference, r->n_inputs),
               r->max_diff_reference, r->quantized ? "quantization steps" : "(output units)");
    }
    if (r->has_labels) {
        printf("  accuracy (labels):      host %.2f %%, target %.2f %%", percent(r->correct_host, r->n_inputs),
               percent(r->correct_target, r->n_inputs));
        if (r->has_reference) printf(", float model %.2f %%", percent(r->correct_reference, r->n_inputs));
        printf("\n");
    }
    printf("instructions: %.0f per inference (exact); ~%.0f cycles (estimate)\n", r->measure.insns_mean,
           r->measure.cycles_est);
    if (r->measure.n_layers > 0) cli_measure_print_layers(m, &r->measure);
}

int cmd_validate(int argc, char **argv)
{
    const char *target_name = NULL, *inputs_path = NULL, *float_path = NULL;
    cli_data_options data = {0};
    int json = 0, data_given = 0, images = 0;
    char opt_level[8];
    mco_validate_options vo;
    mco_validate_options_default(&vo);
    vo.measure.ctx = cli_context();
    cli_parser p;
    cli_parser_init(&p, &validate_spec, argc, argv);
    int c;
    while ((c = cli_getopt(&p)) > 0) {
        switch (c) {
        case OPT_TARGET: target_name = optarg; break;
        case OPT_INPUTS: inputs_path = optarg; break;
        case OPT_IMAGES:
            if (!cli_parse_int("validate", "--images", optarg, 1, 1000000, &images)) return CLI_EXIT_USAGE;
            break;
        case OPT_FLOAT_MODEL: float_path = optarg; break;
        case OPT_INPUT_TYPE:
        case OPT_OUTPUT_TYPE:
            if (!cli_parse_io_type("validate", optarg, c == OPT_OUTPUT_TYPE,
                                   c == OPT_OUTPUT_TYPE ? &vo.measure.output_type : &vo.measure.input_type))
                return CLI_EXIT_USAGE;
            break;
        case OPT_CC:
            if (mco_cc_parse(optarg, &vo.measure.cc) != MCO_OK)
                return cli_usage_error("validate", "%s", mco_last_error());
            break;
        case 'O':
            snprintf(opt_level, sizeof opt_level, "-O%s", optarg);
            if (mco_opt_level_check(opt_level) != MCO_OK) return cli_usage_error("validate", "%s", mco_last_error());
            vo.measure.opt = opt_level;
            break;
        case CLI_OPT_JSON: json = 1; break;
        default: {   /* the data options (cli_data_table) */
            int r = cli_data_option(&data, &data_given, "validate", c, optarg);
            if (r != CLI_EXIT_OK) return r == -1 ? cli_option_unhandled(&p, c) : r;
        }
        }
    }
    if (c < 0) return p.exit_code;
    if (optind != argc - 1) return cli_usage_error("validate", "expected one MODEL file");
    if (!target_name) return cli_usage_error("validate", "--target is required");
    if (!inputs_path == !data_given)
        return cli_usage_error("validate", "give the inputs with either --inputs FILE or --data PATH");
    const char *path = argv[optind];
    int is_float = !cli_is_deploy_file(path);
    if (is_float && float_path)
        return cli_usage_error("validate", "--float-model is for a .mcq MODEL; %s is the float model itself", path);

    mco_target_profile target;
    mco_status st = mco_target_load(cli_context(), target_name, &target);
    if (st != MCO_OK) return cli_fail(st);
    mco_deploy_model dm;
    mco_model ref;
    int have_ref = 0;
    if (is_float || float_path) {
        st = mco_model_load(is_float ? path : float_path, &ref);
        have_ref = st == MCO_OK;
    }
    if (st != MCO_OK) return cli_fail(st);
    st = is_float ? mco_deploy_from_float(&ref, &dm) : mco_deploy_load(path, &dm);
    if (st != MCO_OK) {
        if (have_ref) mco_model_free(&ref);
        return cli_fail(st);
    }
    mco_validate_file file;
    memset(&file, 0, sizeof file);
    mco_dataset test;
    memset(&test, 0, sizeof test);
    mco_validate_inputs in = {NULL, NULL, images};
    if (inputs_path) {
        st = mco_validate_read_inputs(inputs_path, dm.model.input_shape, &file);
        if (file.model_inputs) {
            in.model_inputs = file.model_inputs;
            in.n = images && images < file.n ? images : file.n;
        } else {
            in.samples = &file.samples;
        }
    } else {
        data.input = dm.model.input_shape;
        cli_take_frontend(&dm.model, &data);
        st = cli_load_dataset(&data, MCO_SPLIT_TEST, 0, json, &test);
        in.samples = &test;
    }
    vo.reference = have_ref ? &ref : NULL;
    mco_validate_result r;
    if (st == MCO_OK) st = mco_validate(&dm, &target, &in, &vo, &r);
    if (st == MCO_OK) {
        if (json) cli_print_json(result_json(path, &dm.model, &target, &r));
        else print_result(path, &dm.model, &target, &r);
    }
    mco_validate_file_free(&file);
    mco_dataset_free(&test);
    mco_deploy_free(&dm);
    if (have_ref) mco_model_free(&ref);
    if (st != MCO_OK) return cli_fail(st);
    if (r.identical != r.n_inputs) {
        fprintf(stderr, "mcuopt: error: %d of %d outputs on %s differ from the host runtime (first: input %d)\n",
                r.n_inputs - r.identical, r.n_inputs, target.name, r.first_difference);
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}
