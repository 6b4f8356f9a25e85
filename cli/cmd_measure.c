/*
 * cmd_measure.c - `mcuopt measure MODEL --target NAME`: emits the model's C
 * code, runs it on the target's emulated Cortex-M over test images, checks
 * that every output is bit-identical to the host runtime's, and prints the
 * exact instruction count, estimated cycles/latency/energy, Flash and RAM.
 */
#include <getopt.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "mcuopt/measure.h"

static void print_help(void)
{
    printf("usage: mcuopt measure MODEL --target NAME|FILE.json [OPTIONS]\n\n"
           "Runs the emitted code of MODEL (.mcq deploy model or .mco float model) in\n"
           "QEMU on the target's core and compares every output with the host runtime.\n"
           "Instruction counts are exact; cycles, latency and energy are estimates.\n\n"
           "options:\n"
           "      --target NAME     MCU profile (see 'mcuopt targets') or a profile file\n"
           "      --images N        test images to run (default 100)\n"
           "      --clock-mhz F     clock for the latency (default: the profile's maximum)\n"
           "      --dataset NAME    mnist (default), fashion-mnist or cifar10\n"
           "      --data DIR        directory holding the data set's files\n"
           "      --code-dir DIR    keep the emitted code there, and in DIR/measure the firmware\n"
           "                        (fw.elf) and its per-address instruction counts (counts.txt)\n"
           "      --no-fuse         do not fuse conv + ReLU + max pool\n"
           "      --cc NAME         compiler of the model code: gcc (arm-none-eabi-gcc, default)\n"
           "                        or clang (--target=arm-none-eabi, newlib from arm-none-eabi-gcc)\n"
           "      --opt FLAG        its optimisation level: -O0, -O1, -O2 (default), -O3, -Os,\n"
           "                        -Og or -Oz (the harness is always built with gcc -O2)\n"
           "      --json            print the results as JSON on stdout\n"
           "  -h, --help            this help\n");
}

static cJSON *result_json(const char *model, const mco_target_profile *t, const mco_measure_result *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "model", model);
    cJSON_AddStringToObject(o, "target", t->name);
    cJSON_AddStringToObject(o, "core", t->core_name);
    cJSON_AddStringToObject(o, "qemu_machine", r->qemu_machine);
    cJSON_AddStringToObject(o, "build", r->build);
    cJSON_AddNumberToObject(o, "images", r->n_inputs);
    cJSON_AddNumberToObject(o, "mismatches", r->n_mismatch);
    cJSON_AddBoolToObject(o, "bit_exact", r->n_mismatch == 0);
    cJSON_AddNumberToObject(o, "instructions", r->insns_mean);
    cJSON_AddNumberToObject(o, "instructions_min", (double)r->insns_min);
    cJSON_AddNumberToObject(o, "instructions_max", (double)r->insns_max);
    cJSON_AddNumberToObject(o, "cycles_estimate", r->cycles_est);
    cJSON_AddNumberToObject(o, "clock_mhz", r->clock_mhz);
    cJSON_AddNumberToObject(o, "latency_ms_estimate", r->latency_ms);
    cJSON_AddNumberToObject(o, "energy_uj_estimate", r->energy_uj);
    cJSON_AddNumberToObject(o, "flash_bytes", (double)r->flash_bytes);
    cJSON_AddNumberToObject(o, "ram_bytes", (double)r->ram_bytes);
    cJSON_AddNumberToObject(o, "static_ram_bytes", (double)r->static_ram_bytes);
    cJSON_AddNumberToObject(o, "stack_bytes", (double)r->stack_bytes);
    cJSON_AddStringToObject(o, "note", r->note);
    return o;
}

static void print_result(const char *model, const mco_target_profile *t, const mco_measure_result *r)
{
    printf("%s on %s (%s, emulated by qemu %s, built with %s)\n", model, t->name, t->core_name, r->qemu_machine,
           r->build);
    printf("outputs:      %d of %d bit-identical to the host runtime\n", r->n_inputs - r->n_mismatch,
           r->n_inputs);
    if (r->insns_identical)
        printf("instructions: %.0f per inference (exact, the same for every input)\n", r->insns_mean);
    else
        printf("instructions: %.0f per inference (exact; mean, %llu..%llu)\n", r->insns_mean,
               (unsigned long long)r->insns_min, (unsigned long long)r->insns_max);
    printf("cycles:       ~%.0f per inference (estimate) -> %.3f ms at %.0f MHz, ~%.1f uJ\n",
           r->cycles_est, r->latency_ms, r->clock_mhz, r->energy_uj);
    printf("Flash:        %zu bytes (model weights + code; the target has %d KB)\n", r->flash_bytes,
           t->flash_kb);
    printf("RAM:          %zu bytes (static %zu + stack %zu; the target has %d KB)\n", r->ram_bytes,
           r->static_ram_bytes, r->stack_bytes, t->ram_kb);
    printf("note:         %s\n", r->note);
}

int cmd_measure(int argc, char **argv)
{
    enum { OPT_TARGET = 1000, OPT_IMAGES, OPT_CLOCK, OPT_DATASET, OPT_DATA, OPT_CODE_DIR, OPT_NO_FUSE, OPT_JSON, OPT_CC,
           OPT_OPT };
    static const struct option options[] = {
        {"target", required_argument, NULL, OPT_TARGET},
        {"images", required_argument, NULL, OPT_IMAGES},
        {"clock-mhz", required_argument, NULL, OPT_CLOCK},
        {"dataset", required_argument, NULL, OPT_DATASET},
        {"data", required_argument, NULL, OPT_DATA},
        {"code-dir", required_argument, NULL, OPT_CODE_DIR},
        {"no-fuse", no_argument, NULL, OPT_NO_FUSE},
        {"json", no_argument, NULL, OPT_JSON},
        {"cc", required_argument, NULL, OPT_CC},
        {"opt", required_argument, NULL, OPT_OPT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *target_name = NULL;
    cli_data_options data = {"mnist", NULL};
    int json = 0, data_given = 0;
    float clock = 0.0f;
    mco_measure_options mo;
    mco_measure_options_default(&mo);
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (c) {
        case OPT_TARGET: target_name = optarg; break;
        case OPT_IMAGES:
            if (!cli_parse_int("measure", "--images", optarg, 1, 10000, &mo.n_samples)) return CLI_EXIT_USAGE;
            break;
        case OPT_CLOCK:
            if (!cli_parse_float("measure", "--clock-mhz", optarg, &clock) || clock <= 0.0f)
                return cli_usage_error("measure", "--clock-mhz expects a positive number");
            mo.clock_mhz = clock;
            break;
        case OPT_DATASET: data.dataset = optarg; data_given = 1; break;
        case OPT_DATA: data.data_dir = optarg; data_given = 1; break;
        case OPT_CODE_DIR: mo.code_dir = optarg; break;
        case OPT_NO_FUSE: mo.fuse_conv_pool = 0; break;
        case OPT_JSON: json = 1; break;
        case OPT_CC:
            if (mco_cc_parse(optarg, &mo.cc) != MCO_OK) return cli_usage_error("measure", "%s", mco_last_error());
            break;
        case OPT_OPT:
            if (mco_opt_level_check(optarg) != MCO_OK) return cli_usage_error("measure", "%s", mco_last_error());
            mo.opt = optarg;
            break;
        case 'h': print_help(); return CLI_EXIT_OK;
        default: return CLI_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) return cli_usage_error("measure", "expected one MODEL file");
    if (!target_name) return cli_usage_error("measure", "--target is required");
    const char *path = argv[optind];

    mco_target_profile target;
    mco_status st = mco_target_load(target_name, &target);
    if (st != MCO_OK) return cli_fail(st);
    mco_deploy_model dm;
    st = cli_load_deploy_model(path, &dm);
    if (st != MCO_OK) return cli_fail(st);
    mco_dataset test;
    st = cli_load_dataset(&data, MCO_SPLIT_TEST, !data_given, json, &test);
    if (st != MCO_OK) {
        mco_deploy_free(&dm);
        return cli_fail(st);
    }
    if (!json && isatty(STDERR_FILENO)) fprintf(stderr, "measuring %s on %s over %d images...\n", path, target.name, mo.n_samples);
    mco_measure_result r;
    st = mco_measure_deploy_model(&dm, &target, &test, &mo, &r);
    mco_dataset_free(&test);
    mco_deploy_free(&dm);
    if (st != MCO_OK) return cli_fail(st);
    if (json) cli_print_json(result_json(path, &target, &r));
    else print_result(path, &target, &r);
    if (r.n_mismatch) {
        fprintf(stderr, "mcuopt: error: %d of %d outputs on %s differ from the host runtime (first: image %d)\n",
                r.n_mismatch, r.n_inputs, target.name, r.first_mismatch);
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}
