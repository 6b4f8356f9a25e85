/*
 * cmd_emit.c - `mcuopt emit MODEL -o DIR [--name NAME]`: writes a model
 * (.mco float or .mcq deploy model) as a C package for the MCU (NAME.h,
 * NAME.c, mcuopt_runtime/, README.md, CMakeLists.txt, NAME.mk,
 * example/main.c) and reports its Flash, RAM and stack, measured with
 * arm-none-eabi-gcc when that is installed.
 *
 * Hidden options for tests and size studies: --test-vectors PATH also
 * writes a C header with a few deterministic inputs and the host plan's
 * exact outputs for them (tests/codegen_compile.sh compiles the emitted code
 * against it); --random-arch NAME [--random-format int8|int8w|f16] emits a
 * built-in architecture with random weights instead of a MODEL file (int8:
 * calibrated on random images).
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "mcuopt/arch.h"
#include "mcuopt/codegen.h"
#include "mcuopt/deploy.h"
#include "mcuopt/file_io.h"
#include "mcuopt/model_file.h"
#include "mcuopt/resource.h"

#define TEST_VECTORS 4

enum {
    OPT_CPU = 1000, OPT_NAME, OPT_NO_FUSE, OPT_VECTORS, OPT_RANDOM_ARCH, OPT_RANDOM_FORMAT, OPT_OPTIMIZE,
    OPT_INPUT_TYPE, OPT_OUTPUT_TYPE, OPT_EXAMPLE, OPT_EXAMPLE_INPUTS
};

static const cli_option emit_table[] = {
    CLI_OPTION_OUTPUT("DIR", "directory to write (created if missing)"),
    {"name", 0, "NAME", "the model's name in every file, function, type and macro (a lower-case C identifier; "
     "default: model)", OPT_NAME},
    {"cpu", 0, "CPU", "the core: cortex-m0plus, cortex-m3, cortex-m4 (default) or cortex-m7 (the size "
     "measurement, and the kernel choice)", OPT_CPU},
    CLI_OPTION_INPUT_TYPE(OPT_INPUT_TYPE),
    CLI_OPTION_OUTPUT_TYPE(OPT_OUTPUT_TYPE),
    {"example", 0, "IO", "how example/main.c prints: semihost (printf; runs as it is on the host and in QEMU, the "
     "default) or uart (through example/board.c: board_init and board_putc, a stub to fill in for your board)",
     OPT_EXAMPLE},
    {"example-inputs", 0, "N", "how many built-in inputs example/main.c runs and checks against the host "
     "runtime's outputs (1 to 16; default 1)", OPT_EXAMPLE_INPUTS},
    {"no-fuse", 0, NULL, "do not fuse Conv2D + MaxPool into one kernel", OPT_NO_FUSE},
    CLI_OPTION_OPTIMIZE(OPT_OPTIMIZE),
    CLI_OPTION_JSON,
    {"test-vectors", 0, "FILE", "testing: also write a C header of 4 deterministic inputs and the host's outputs "
     "for them", OPT_VECTORS},
    {"random-arch", 0, "NAME|FILE", "testing: emit this architecture with random weights instead of MODEL",
     OPT_RANDOM_ARCH},
    {"random-format", 0, "FMT", "testing: the deploy format of --random-arch's model", OPT_RANDOM_FORMAT},
    {0},
};

static const cli_option *const emit_tables[] = {emit_table, NULL};

static const cli_command_spec emit_spec = {
    "emit", "MODEL -o DIR [OPTIONS]",
    "Writes MODEL (.mco float model or .mcq deploy model) as a C99 package for a Cortex-M: NAME.h / NAME.c (int "
    "NAME_run(in, out) and NAME_run_with_arena(in, out, arena), calling the kernels directly), mcuopt_runtime/ "
    "(the runtime kernels the model uses, shared by every model of a firmware), README.md, CMakeLists.txt, "
    "NAME.mk and example/main.c; nothing else. Reports Flash, RAM and worst-case stack (compiled with "
    "arm-none-eabi-gcc when it is installed).",
    emit_tables, NULL,
};

/* A built-in architecture with random weights, in a deploy format. */
static mco_status random_deploy_model(const char *arch, const char *format, mco_deploy_model *dm)
{
    mco_shape none = {0, 0, 0};
    mco_model model;
    mco_status st = mco_arch_load(arch, none, 0, &model);
    if (st != MCO_OK) return st;
    model.norm = (mco_normalization){1.0f / 255.0f, 0.0f, 1.0f};
    if ((st = mco_model_alloc_params(&model)) == MCO_OK) mco_model_init_params(&model, 1);
    mco_quant_options qo;
    mco_quant_options_default(&qo);
    qo.calibration_samples = 64;
    qo.threads = 1;
    mco_dataset calib;
    memset(&calib, 0, sizeof calib);
    if (st == MCO_OK && format && strcmp(format, "int8") == 0) {
        size_t size = mco_shape_size(model.input_shape);
        calib.n = 64;
        calib.shape = model.input_shape;
        calib.n_classes = model.n_classes;
        calib.samples_u8 = malloc((size_t)calib.n * size);
        calib.labels = calloc((size_t)calib.n, 1);
        if (!calib.samples_u8 || !calib.labels) st = mco_error(MCO_ERR_NOMEM, "out of memory");
        for (size_t i = 0; st == MCO_OK && i < (size_t)calib.n * size; i++)
            calib.samples_u8[i] = (uint8_t)(((i * 2654435761u) >> 11) % 256u);
        qo.activation_format = MCO_ACT_S8;
        qo.weight_format = MCO_WEIGHTS_S8;
    } else if (format && strcmp(format, "int8w") == 0) {
        qo.activation_format = MCO_ACT_F32;
        qo.weight_format = MCO_WEIGHTS_S8;
    } else if (format && strcmp(format, "f16") == 0) {
        qo.activation_format = MCO_ACT_F32;
        qo.weight_format = MCO_WEIGHTS_F16;
    } else if (format && strcmp(format, "f32") != 0) {
        st = mco_error(MCO_ERR_ARG, "--random-format must be f32, f16, int8w or int8, not '%s'", format);
    }
    if (st == MCO_OK) {
        if (format && strcmp(format, "f32") != 0)
            st = mco_quantize(&model, calib.samples_u8 ? &calib : NULL, &qo, dm);
        else
            st = mco_deploy_from_float(&model, dm);
    }
    free(calib.samples_u8);
    free(calib.labels);
    mco_model_free(&model);
    return st;
}

static void write_bytes(FILE *f, const char *name, const uint8_t *data, int rows, size_t cols)
{
    fprintf(f, "static const uint8_t %s[%d][%zu] = {\n", name, rows, cols);
    for (int r = 0; r < rows; r++) {
        fputs("    {", f);
        for (size_t c = 0; c < cols; c++) fprintf(f, "%s%u", c ? "," : "", data[(size_t)r * cols + c]);
        fputs("},\n", f);
    }
    fputs("};\n", f);
}

/* Deterministic raw samples (a gradient plus a hash pattern), their model
 * inputs and the plan's outputs, as a C header. */
static mco_status write_test_vectors(const mco_deploy_model *dm, const mco_plan *plan, const mco_emit_options *eo,
                                     const char *path)
{
    mco_plan_io io;
    mco_status st = mco_plan_io_init(dm, plan, eo->input_type, eo->output_type, &io);
    if (st != MCO_OK) return st;
    size_t raw_size = mco_shape_size(dm->model.input_shape);
    uint8_t *raw = malloc(TEST_VECTORS * raw_size);
    uint8_t *in = malloc(TEST_VECTORS * io.input_bytes), *outputs = malloc(TEST_VECTORS * io.output_bytes);
    if (!raw || !in || !outputs) st = mco_error(MCO_ERR_NOMEM, "out of memory");
    for (size_t i = 0; st == MCO_OK && i < TEST_VECTORS * raw_size; i++)
        raw[i] = (uint8_t)(((i * 2654435761u) >> 13) % 256u);
    if (st == MCO_OK) st = mco_deploy_predict_io(dm, plan, &io, MCO_SAMPLE_U8, raw, TEST_VECTORS, in, outputs);
    mco_output_file out;
    if (st == MCO_OK) st = mco_output_open(&out, path);
    if (st == MCO_OK) {
        FILE *f = out.f;
        fprintf(f, "/* test vectors generated by mcuopt emit: inputs and the host plan's outputs */\n"
                   "#include <stdint.h>\n#define TV_N %d\n#define TV_INPUT_BYTES %zu\n#define TV_OUTPUT_BYTES %zu\n",
                TEST_VECTORS, io.input_bytes, io.output_bytes);
        write_bytes(f, "tv_inputs", in, TEST_VECTORS, io.input_bytes);
        write_bytes(f, "tv_expected", outputs, TEST_VECTORS, io.output_bytes);
        st = mco_output_commit(&out);
    }
    free(raw);
    free(in);
    free(outputs);
    return st;
}

int cmd_emit(int argc, char **argv)
{
    const char *dir = NULL, *vectors = NULL, *random_arch = NULL, *random_format = NULL;
    mco_emit_options eo;
    mco_emit_options_default(&eo);
    eo.ctx = cli_context();
    mco_plan_options po;
    mco_plan_options_default(&po);
    int json = 0;
    cli_parser p;
    cli_parser_init(&p, &emit_spec, argc, argv);
    int c;
    while ((c = cli_getopt(&p)) > 0) {
        switch (c) {
        case 'o': dir = optarg; break;
        case OPT_CPU:
            if (strcmp(optarg, "cortex-m0plus") != 0 && strcmp(optarg, "cortex-m3") != 0 &&
                strcmp(optarg, "cortex-m4") != 0 && strcmp(optarg, "cortex-m7") != 0)
                return cli_usage_error("emit", "--cpu must be cortex-m0plus, cortex-m3, cortex-m4 or cortex-m7, not '%s'",
                                       optarg);
            eo.cpu = optarg;
            break;
        case OPT_NAME:
            if (mco_emit_check_name(optarg) != MCO_OK)
                return cli_usage_error("emit", "--name: %s", mco_last_error() + strlen("emit: "));
            eo.name = optarg;
            break;
        case OPT_NO_FUSE: po.fuse_conv_pool = 0; break;
        case OPT_EXAMPLE:
            if (mco_emit_example_parse(optarg, &eo.example) != MCO_OK)
                return cli_usage_error("emit", "--example must be semihost or uart, not '%s'", optarg);
            break;
        case OPT_EXAMPLE_INPUTS:
            if (!cli_parse_int("emit", "--example-inputs", optarg, 1, MCO_EMIT_EXAMPLE_INPUTS_MAX,
                                     &eo.example_inputs))
                return CLI_EXIT_USAGE;
            break;
        case OPT_INPUT_TYPE:
        case OPT_OUTPUT_TYPE:
            if (!cli_parse_io_type("emit", optarg, c == OPT_OUTPUT_TYPE, c == OPT_OUTPUT_TYPE ? &eo.output_type : &eo.input_type))
                return CLI_EXIT_USAGE;
            break;
        case OPT_OPTIMIZE:
            if (!cli_parse_optimize("emit", optarg, &po.goal)) return CLI_EXIT_USAGE;
            break;
        case CLI_OPT_JSON: json = 1; break;
        case OPT_VECTORS: vectors = optarg; break;
        case OPT_RANDOM_ARCH: random_arch = optarg; break;
        case OPT_RANDOM_FORMAT: random_format = optarg; break;
        default: return cli_option_unhandled(&p, c);
        }
    }
    if (c < 0) return p.exit_code;
    if (optind != argc - (random_arch ? 0 : 1)) return cli_usage_error("emit", "expected one MODEL file");
    if (!dir) return cli_usage_error("emit", "-o DIR is required");
    const char *path = random_arch ? random_arch : argv[optind];

    mco_deploy_model dm;
    mco_status st = random_arch ? random_deploy_model(random_arch, random_format, &dm) : cli_load_deploy_model(path, &dm);
    if (st != MCO_OK) return cli_fail(st);
    /* the kernels are chosen for the resource model's class of the core */
    po.core_class = strcmp(eo.cpu, "cortex-m0plus") == 0 ? "m0plus"
                    : strcmp(eo.cpu, "cortex-m3") == 0   ? "m3"
                    : strcmp(eo.cpu, "cortex-m7") == 0   ? "m7"
                                                         : "m4f";
    mco_cost_model *table = NULL;   /* the installed resource model's table */
    if (po.goal != MCO_PLAN_LISTED) st = mco_cost_model_load_context(cli_context(), &table);
    po.cost_model = table;
    mco_plan plan;
    if (st == MCO_OK) st = mco_plan_build(&dm, &po, &plan);
    else memset(&plan, 0, sizeof plan);
    mco_cost_model_free(table);
    mco_emit_result res;
    if (st == MCO_OK) st = mco_emit_c_with(&dm, &plan, dir, &eo, &res);
    if (st == MCO_OK && vectors) st = write_test_vectors(&dm, &plan, &eo, vectors);
    char desc[160];
    mco_deploy_describe(&dm, desc, sizeof desc);
    mco_plan_free(&plan);
    mco_deploy_free(&dm);
    if (st != MCO_OK) return cli_fail(st);

    size_t peak_ram = res.measured ? res.ram_bytes + res.stack_bytes : res.arena_bytes;
    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "model", path);
        cJSON_AddStringToObject(o, "format", desc);
        cJSON_AddStringToObject(o, "dir", dir);
        cJSON_AddStringToObject(o, "cpu", res.cpu);
        cJSON_AddBoolToObject(o, "measured", res.measured);
        cJSON_AddNumberToObject(o, "flash_bytes", (double)res.flash_bytes);
        cJSON_AddNumberToObject(o, "weight_bytes", (double)res.weight_bytes);
        cJSON_AddNumberToObject(o, "code_bytes", (double)res.code_bytes);
        cJSON_AddNumberToObject(o, "static_ram_bytes", (double)res.ram_bytes);
        cJSON_AddNumberToObject(o, "arena_bytes", (double)res.arena_bytes);
        cJSON_AddNumberToObject(o, "stack_bytes", (double)res.stack_bytes);
        cJSON_AddNumberToObject(o, "peak_ram_bytes", (double)peak_ram);
        cJSON *files = cJSON_AddArrayToObject(o, "files");
        for (int i = 0; i < res.n_files; i++) cJSON_AddItemToArray(files, cJSON_CreateString(res.files[i]));
        cli_print_json(o);
        return CLI_EXIT_OK;
    }
    printf("%s (%s) -> %s/\n", path, desc, dir);
    if (res.measured) {
        printf("Flash: %zu bytes (weights %zu + code %zu) for %s\n", res.flash_bytes, res.weight_bytes,
               res.code_bytes, res.cpu);
        char stack[32] = "unknown";
        if (res.stack_bytes) snprintf(stack, sizeof stack, "%zu", res.stack_bytes);
        printf("RAM:   %zu bytes peak (static %zu, of which arena %zu; worst-case stack %s)\n", peak_ram,
               res.ram_bytes, res.arena_bytes, stack);
    } else {
        printf("Flash: weights %zu bytes (+ code: arm-none-eabi-gcc not found, not measured)\n", res.weight_bytes);
        printf("RAM:   arena %zu bytes (+ stack, not measured)\n", res.arena_bytes);
    }
    printf("files:");
    for (int i = 0; i < res.n_files; i++) printf(" %s", res.files[i]);
    printf("\n");
    return CLI_EXIT_OK;
}
