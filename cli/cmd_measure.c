/*
 * cmd_measure.c - `mcuopt measure MODEL --target NAME`: emits the model's C
 * code, runs it on the target's emulated Cortex-M over test images, checks
 * that every output is bit-identical to the host runtime's, and prints the
 * exact instruction count, estimated cycles/latency/energy, Flash and RAM,
 * and both figures per op (the overhead around the ops stated, so the
 * table adds up to the total).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "mcuopt/codegen.h"
#include "mcuopt/measure.h"

enum {
    OPT_TARGET = 1000, OPT_IMAGES, OPT_CLOCK, OPT_CODE_DIR, OPT_NO_FUSE, OPT_OPTIMIZE, OPT_CC, OPT_MEASURE_DIR,
    OPT_INPUT_TYPE, OPT_OUTPUT_TYPE
};

static const cli_option measure_table[] = {
    {"target", 0, "NAME", "MCU profile (see 'mcuopt targets') or a profile file", OPT_TARGET},
    {"images", 0, "N", "test images to run (default 100)", OPT_IMAGES},
    {"clock-mhz", 0, "F", "clock for the latency (default: the profile's maximum)", OPT_CLOCK},
    {"code-dir", 0, "DIR", "write the model's C package there (as 'mcuopt emit' does, with the measured stack in "
     "model.h)", OPT_CODE_DIR},
    {"measure-dir", 0, "DIR", "keep the measurement build there: the firmware (fw.elf), its logs and per-address "
     "instruction counts (counts.txt); not inside --code-dir", OPT_MEASURE_DIR},
    {"no-fuse", 0, NULL, "do not fuse conv + ReLU + max pool", OPT_NO_FUSE},
    CLI_OPTION_OPTIMIZE(OPT_OPTIMIZE),
    CLI_OPTION_INPUT_TYPE(OPT_INPUT_TYPE),
    CLI_OPTION_OUTPUT_TYPE(OPT_OUTPUT_TYPE),
    CLI_OPTION_CC(OPT_CC),
    CLI_OPTION_OPT_LEVEL,
    CLI_OPTION_JSON,
    {0},
};

static const cli_option *const measure_tables[] = {measure_table, cli_data_table, NULL};

static const cli_command_spec measure_spec = {
    "measure", "MODEL --target NAME|FILE.json [OPTIONS]",
    "Runs the emitted code of MODEL (.mcq deploy model or .mco float model) in QEMU on the target's core and "
    "compares every output with the host runtime. Instruction counts are exact; cycles, latency and energy are "
    "estimates. Both are also given per op (kernel call) of the emitted code, with the overhead around the ops "
    "(the harness's call, model_run's entry and exit, the input / output conversions of --input-type / "
    "--output-type), so the table adds up to the totals.",
    measure_tables, NULL,
};

/* "conv2d_1" or "conv2d_1 .. max_pooling2d" for an op's layers. */
static void layer_span(const mco_model *m, const mco_layer_measure *l, char *buf, size_t cap)
{
    if (l->first_layer < 0 || l->last_layer >= m->n_layers) snprintf(buf, cap, "?");
    else if (l->last_layer > l->first_layer)
        snprintf(buf, cap, "%s .. %s", m->layers[l->first_layer].name, m->layers[l->last_layer].name);
    else snprintf(buf, cap, "%s", m->layers[l->first_layer].name);
}

cJSON *cli_measure_layers_json(const mco_model *m, const mco_measure_result *r)
{
    cJSON *a = cJSON_CreateArray();
    for (int k = 0; k < r->n_layers; k++) {
        const mco_layer_measure *l = &r->layers[k];
        char span[2 * MCO_NAME_MAX + 8];
        layer_span(m, l, span, sizeof span);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "op", k);
        cJSON_AddStringToObject(o, "kernel", mco_op_kind_name(l->op_kind));
        cJSON_AddStringToObject(o, "layers", span);
        cJSON_AddNumberToObject(o, "macs", (double)l->macs);
        cJSON_AddNumberToObject(o, "instructions", l->insns);
        cJSON_AddNumberToObject(o, "cycles_estimate", l->cycles_est);
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

static cJSON *result_json(const char *model, const mco_model *m, const mco_target_profile *t,
                          const mco_measure_result *r)
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
    cJSON_AddItemToObject(o, "ram_regions", cli_ram_regions_json(t, &r->ram_placement));
    if (r->ram_layout[0]) cJSON_AddStringToObject(o, "emulated_ram_layout", r->ram_layout);
    cJSON_AddStringToObject(o, "note", r->note);
    if (r->n_layers > 0) {
        cJSON_AddItemToObject(o, "layers", cli_measure_layers_json(m, r));
        cJSON_AddNumberToObject(o, "overhead_instructions", r->overhead_insns);
        cJSON_AddNumberToObject(o, "overhead_cycles_estimate", r->overhead_cycles_est);
    }
    return o;
}

/* The per-op table; its rows and the overhead add up to the totals. */
void cli_measure_print_layers(const mco_model *m, const mco_measure_result *r)
{
    printf("per op:       exact instructions and estimated cycles per inference\n");
    printf("  %3s  %-26s %-34s %10s %12s %12s %8s %6s\n", "op", "kernel", "layers", "MACs", "instructions",
           "cycles", "cyc/MAC", "share");
    for (int k = 0; k < r->n_layers; k++) {
        const mco_layer_measure *l = &r->layers[k];
        char span[2 * MCO_NAME_MAX + 8], per_mac[16] = "-";
        layer_span(m, l, span, sizeof span);
        if (l->macs) snprintf(per_mac, sizeof per_mac, "%.2f", l->cycles_est / (double)l->macs);
        printf("  %3d  %-26s %-34s %10llu %12.0f %12.0f %8s %5.1f%%\n", k, mco_op_kind_name(l->op_kind), span,
               (unsigned long long)l->macs, l->insns, l->cycles_est, per_mac,
               r->cycles_est > 0 ? 100.0 * l->cycles_est / r->cycles_est : 0.0);
    }
    printf("  %3s  %-61s %10s %12.0f %12.0f %8s %5.1f%%\n", "", "overhead: the call, model_run's entry and exit, I/O conversions",
           "", r->overhead_insns, r->overhead_cycles_est, "",
           r->cycles_est > 0 ? 100.0 * r->overhead_cycles_est / r->cycles_est : 0.0);
    printf("  %3s  %-61s %10s %12.0f %12.0f\n", "", "total", "", r->insns_mean, r->cycles_est);
}

static void print_result(const char *model, const mco_model *m, const mco_target_profile *t,
                         const mco_measure_result *r)
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
    char regions[512];
    mco_ram_placement_describe(t, &r->ram_placement, regions, sizeof regions);
    printf("RAM regions:  %s\n", regions);
    if (r->ram_layout[0]) printf("emulated:     %s\n", r->ram_layout);
    printf("note:         %s\n", r->note);
    if (r->n_layers > 0) cli_measure_print_layers(m, r);
}

int cmd_measure(int argc, char **argv)
{
    const char *target_name = NULL;
    cli_data_options data = {0};
    int json = 0, data_given = 0;
    float clock = 0.0f;
    char opt_level[8];   /* "-O" + the -O option's argument */
    mco_measure_options mo;
    mco_measure_options_default(&mo);
    mo.ctx = cli_context();
    cli_parser p;
    cli_parser_init(&p, &measure_spec, argc, argv);
    int c;
    while ((c = cli_getopt(&p)) > 0) {
        switch (c) {
        case OPT_TARGET: target_name = optarg; break;
        case OPT_IMAGES:
            if (!cli_parse_int("measure", "--images", optarg, 1, 10000, &mo.n_samples)) return CLI_EXIT_USAGE;
            break;
        case OPT_CLOCK:
            if (!cli_parse_positive("measure", "--clock-mhz", optarg, CLI_MAX_CLOCK_MHZ, &clock)) return CLI_EXIT_USAGE;
            mo.clock_mhz = clock;
            break;
        case OPT_CODE_DIR: mo.code_dir = optarg; break;
        case OPT_MEASURE_DIR: mo.measure_dir = optarg; break;
        case OPT_NO_FUSE: mo.fuse_conv_pool = 0; break;
        case OPT_INPUT_TYPE:
        case OPT_OUTPUT_TYPE:
            if (!cli_parse_io_type("measure", optarg, c == OPT_OUTPUT_TYPE,
                                   c == OPT_OUTPUT_TYPE ? &mo.output_type : &mo.input_type))
                return CLI_EXIT_USAGE;
            break;
        case OPT_OPTIMIZE:
            if (!cli_parse_optimize("measure", optarg, &mo.plan_goal)) return CLI_EXIT_USAGE;
            break;
        case CLI_OPT_JSON: json = 1; break;
        case OPT_CC:
            if (mco_cc_parse(optarg, &mo.cc) != MCO_OK) return cli_usage_error("measure", "%s", mco_last_error());
            break;
        case 'O':
            snprintf(opt_level, sizeof opt_level, "-O%s", optarg);
            if (mco_opt_level_check(opt_level) != MCO_OK) return cli_usage_error("measure", "%s", mco_last_error());
            mo.opt = opt_level;
            break;
        default: {   /* the data options (cli_data_table) */
            int r = cli_data_option(&data, &data_given, "measure", c, optarg);
            if (r != CLI_EXIT_OK) return r == -1 ? cli_option_unhandled(&p, c) : r;
        }
        }
    }
    if (c < 0) return p.exit_code;
    if (optind != argc - 1) return cli_usage_error("measure", "expected one MODEL file");
    if (!target_name) return cli_usage_error("measure", "--target is required");
    if (mo.code_dir && mo.measure_dir) {   /* the package holds only what the firmware needs */
        size_t n = strlen(mo.code_dir);
        while (n > 1 && mo.code_dir[n - 1] == '/') n--;
        if (strncmp(mo.measure_dir, mo.code_dir, n) == 0 && (mo.measure_dir[n] == '\0' || mo.measure_dir[n] == '/'))
            return cli_usage_error("measure", "--measure-dir %s is inside --code-dir %s: the package must hold only "
                                   "what the firmware needs", mo.measure_dir, mo.code_dir);
    }
    const char *path = argv[optind];

    mco_target_profile target;
    mco_status st = mco_target_load(cli_context(), target_name, &target);
    if (st != MCO_OK) return cli_fail(st);
    mco_deploy_model dm;
    st = cli_load_deploy_model(path, &dm);
    if (st != MCO_OK) return cli_fail(st);
    mco_dataset test;
    data.input = dm.model.input_shape;
    cli_take_frontend(&dm.model, &data);
    st = cli_load_dataset(&data, MCO_SPLIT_TEST, !data_given, json, &test);
    if (st != MCO_OK) {
        mco_deploy_free(&dm);
        return cli_fail(st);
    }
    if (!json && isatty(STDERR_FILENO)) fprintf(stderr, "measuring %s on %s over %d images...\n", path, target.name, mo.n_samples);
    mco_measure_result r, pcm_r;
    int16_t *pcm = NULL;   /* a model with an audio front-end on a WAV folder: its clips, run from PCM too */
    st = cli_measure_pcm_setup(&data, &dm.model, &mo, &pcm, &pcm_r);
    if (st == MCO_OK) st = mco_measure_deploy_model(&dm, &target, &test, &mo, &r);
    mco_dataset_free(&test);
    if (st != MCO_OK) {
        free(pcm);
        mco_deploy_free(&dm);
        return cli_fail(st);
    }
    if (json) {
        cJSON *o = result_json(path, &dm.model, &target, &r);
        if (pcm) {
            cJSON *p = cJSON_AddObjectToObject(o, "from_pcm");
            cJSON_AddNumberToObject(p, "clips", pcm_r.n_inputs);
            cJSON_AddNumberToObject(p, "mismatches", pcm_r.n_mismatch);
            cJSON_AddNumberToObject(p, "instructions", pcm_r.insns_mean);
            cJSON_AddNumberToObject(p, "flash_bytes", (double)pcm_r.flash_bytes);
            cJSON_AddNumberToObject(p, "ram_bytes", (double)pcm_r.ram_bytes);
        }
        cli_print_json(o);
    } else {
        print_result(path, &dm.model, &target, &r);
    }
    mco_deploy_free(&dm);
    st = cli_measure_pcm_report(&mo, &target, json ? NULL : stdout);
    free(pcm);
    if (st != MCO_OK) return cli_fail(st);
    if (r.n_mismatch) {
        fprintf(stderr, "mcuopt: error: %d of %d outputs on %s differ from the host runtime (first: image %d)\n",
                r.n_mismatch, r.n_inputs, target.name, r.first_mismatch);
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}
