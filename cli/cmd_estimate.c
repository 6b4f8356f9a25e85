/*
 * cmd_estimate.c - `mcuopt estimate MODEL --target NAME`: predicts Flash,
 * RAM, cycles, latency and energy per inference of a model on an MCU from
 * the calibrated resource model (resource.h), per op and in total, without
 * compiling or emulating anything. `--arch NAME --format FMT` estimates an
 * architecture that has no trained weights yet.
 *
 * Two maintenance options, not in --help's main list:
 *   --calibrate [-o FILE] [--classes LIST]   re-derives the table from QEMU
 *                                            runs (minutes; bench/calibrate_resource_model.sh)
 *   --validate [--classes LIST] [--formats LIST] [--archs LIST]
 *                                            prints predicted vs emulator for the
 *                                            built-in architectures (random weights)
 * What it leaves out: measuring (that is `mcuopt measure`).
 */
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "mcuopt/resource_calibration.h"

/* The shipped calibration table (the context's cost-model file). */
static const char *default_table(void)
{
    const char *path = mco_context_resource(cli_context(), MCO_RESOURCE_COST_MODEL);
    return path ? path : "(unknown: set MCO_RESOURCE_MODEL)";
}

enum {
    OPT_TARGET = 1000, OPT_CLOCK, OPT_ARCH, OPT_FORMAT, OPT_TABLE, OPT_CALIBRATE, OPT_VALIDATE, OPT_CLASSES,
    OPT_FORMATS, OPT_ARCHS
};

static const cli_option estimate_table[] = {
    {"target", 0, "NAME", "MCU profile (see 'mcuopt targets') or a profile file", OPT_TARGET},
    {"clock-mhz", 0, "F", "clock for latency (default: the profile's maximum)", OPT_CLOCK},
    {"arch", 0, "NAME", "estimate an architecture instead of a model file", OPT_ARCH},
    {"format", 0, "FMT", "its deploy format: int8, float32, float16, int8w (int8 weights, float activations), "
     "int4, int8-sparse (75 % zero weights), int8-sparse50 (50 %)", OPT_FORMAT},
    {"table", 0, "FILE", "resource model table (default: the installed one, named below)", OPT_TABLE},
    CLI_OPTION_JSON,
    {"calibrate", 0, NULL, "maintenance: re-derive the table from QEMU runs (minutes), into -o FILE (default: the "
     "table), for --classes", OPT_CALIBRATE},
    {"validate", 0, NULL, "maintenance: predicted against the emulator on --archs in --formats for --classes",
     OPT_VALIDATE},
    {"classes", 0, "LIST", "maintenance: core classes (default m0plus,m3,m4f,m7)", OPT_CLASSES},
    {"formats", 0, "LIST", "maintenance: formats (default int8,float32)", OPT_FORMATS},
    {"archs", 0, "LIST", "maintenance: architectures (default mnist-paper,lenet5,ds-cnn-s,resnet8,mlp)", OPT_ARCHS},
    CLI_OPTION_OUTPUT("FILE", "maintenance: where --calibrate writes the table"),
    {0},
};

static const cli_option *const estimate_tables[] = {estimate_table, NULL};

static void estimate_notes(FILE *out, int width);

static const cli_command_spec estimate_spec = {
    "estimate", "MODEL --target NAME|FILE.json [OPTIONS]  or  --arch NAME|FILE --format FMT --target NAME",
    "Predicts Flash, peak RAM, cycles, latency and energy per inference of MODEL (.mcq deploy model or .mco float "
    "model) on the target, per op and in total, from the calibrated resource model; nothing is compiled or "
    "emulated. The cycle model is fitted to the emulator's cycle estimate (mcuopt measure).",
    estimate_tables, estimate_notes,
};

static void estimate_notes(FILE *out, int width)
{
    char text[4200];
    snprintf(text, sizeof text, "resource model table: %s", default_table());
    cli_help_paragraph(out, text, width);
}

/* ---- the estimate ------------------------------------------------------------- */

static cJSON *estimate_json(const char *model, const mco_target_profile *t, const mco_resource_estimate *e)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "model", model);
    cJSON_AddStringToObject(o, "target", t->name);
    cJSON_AddStringToObject(o, "core", t->core_name);
    cJSON_AddStringToObject(o, "core_class", e->core_class);
    cJSON_AddNumberToObject(o, "clock_mhz", e->clock_mhz);
    cJSON_AddNumberToObject(o, "cycles", e->cycles);
    cJSON_AddNumberToObject(o, "latency_ms", e->latency_ms);
    cJSON_AddNumberToObject(o, "energy_uj", e->energy_uj);
    cJSON_AddNumberToObject(o, "flash_bytes", (double)e->flash_bytes);
    cJSON_AddNumberToObject(o, "param_bytes", (double)e->param_bytes);
    cJSON_AddNumberToObject(o, "code_bytes", (double)e->code_bytes);
    cJSON_AddNumberToObject(o, "ram_bytes", (double)e->ram_bytes);
    cJSON_AddNumberToObject(o, "arena_bytes", (double)e->arena_bytes);
    cJSON_AddNumberToObject(o, "static_ram_bytes", (double)e->static_ram_bytes);
    cJSON_AddNumberToObject(o, "stack_bytes", (double)e->stack_bytes);
    cJSON_AddBoolToObject(o, "fits_flash", e->fits_flash);
    cJSON_AddBoolToObject(o, "fits_ram", e->fits_ram);
    cJSON_AddItemToObject(o, "ram_regions", cli_ram_regions_json(t, &e->ram_placement));
    if (!e->fits_ram) cJSON_AddStringToObject(o, "ram_not_placed", e->ram_placement.why);
    cJSON_AddNumberToObject(o, "overhead_cycles", e->overhead_cycles);
    cJSON_AddNumberToObject(o, "uncalibrated_ops", e->uncalibrated_ops);
    cJSON_AddStringToObject(o, "note", e->note);
    cJSON *ops = cJSON_AddArrayToObject(o, "ops");
    for (int k = 0; k < e->n_ops; k++) {
        const mco_resource_op *r = &e->ops[k];
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "layer", r->layer);
        cJSON_AddStringToObject(j, "kernel", r->kind_name);
        cJSON_AddNumberToObject(j, "macs", (double)r->macs);
        cJSON_AddNumberToObject(j, "param_bytes", (double)r->param_bytes);
        cJSON_AddNumberToObject(j, "code_bytes", (double)r->code_bytes);
        cJSON_AddNumberToObject(j, "arena_bytes", (double)r->arena_bytes);
        cJSON_AddNumberToObject(j, "stack_bytes", (double)r->stack_bytes);
        cJSON_AddNumberToObject(j, "cycles", r->cycles);
        cJSON_AddNumberToObject(j, "latency_ms", r->cycles / (e->clock_mhz * 1000.0));
        cJSON_AddBoolToObject(j, "calibrated", r->calibrated);
        cJSON_AddItemToArray(ops, j);
    }
    return o;
}

static void print_estimate(const char *model, const mco_target_profile *t, const mco_resource_estimate *e)
{
    printf("%s on %s (%s, %s class) at %.0f MHz - predicted, not measured\n\n", model, t->name, t->core_name,
           e->core_class, e->clock_mhz);
    printf("%3s  %-24s %-26s %10s %9s %8s %9s %12s %6s\n", "op", "layer", "kernel", "MACs", "Flash B", "(code)",
           "RAM B", "cycles", "share");
    for (int k = 0; k < e->n_ops; k++) {
        const mco_resource_op *r = &e->ops[k];
        printf("%3d  %-24.24s %-26s %10llu %9zu %8zu %9zu %12.0f %5.1f%%%s\n", k, r->layer, r->kind_name,
               (unsigned long long)r->macs, r->param_bytes + r->code_bytes, r->code_bytes, r->arena_bytes, r->cycles,
               e->cycles > 0 ? 100 * r->cycles / e->cycles : 0.0, r->calibrated ? "" : " *");
    }
    /* The code no op claims: model_run, the dispatcher, base code and padding
     * (the library keeps the total at least the ops' sum; no underflow here
     * whatever a table holds). */
    size_t ops_code = 0;
    for (int k = 0; k < e->n_ops; k++) ops_code += e->ops[k].code_bytes;
    size_t base_code = e->code_bytes > ops_code ? e->code_bytes - ops_code : 0;
    printf("%3s  %-24s %-26s %10s %9zu %8zu %9s %12.0f %5.1f%%\n", "", "(model_run, base code)", "", "", base_code,
           base_code, "", e->overhead_cycles, e->cycles > 0 ? 100 * e->overhead_cycles / e->cycles : 0.0);
    printf("\ncycles:  ~%.0f per inference -> %.3f ms at %.0f MHz, ~%.2f uJ\n", e->cycles, e->latency_ms, e->clock_mhz,
           e->energy_uj);
    printf("Flash:   %zu bytes (parameters %zu + code %zu; the target has %d KB)%s\n", e->flash_bytes,
           e->param_bytes, e->code_bytes, t->flash_kb, e->fits_flash ? "" : "  DOES NOT FIT");
    printf("RAM:     %zu bytes (arena %zu + other static %zu + stack %zu; the target has %d KB)%s\n", e->ram_bytes,
           e->arena_bytes, e->static_ram_bytes - e->arena_bytes, e->stack_bytes, t->ram_kb,
           e->fits_ram ? "" : "  DOES NOT FIT");
    char regions[512];
    mco_ram_placement_describe(t, &e->ram_placement, regions, sizeof regions);
    printf("regions: %s\n", regions);
    printf("note:    %s\n", e->note);
    if (e->uncalibrated_ops) printf("         * kernel without its own calibration: a related kernel's figures\n");
}

/* ---- maintenance ------------------------------------------------------------------ */

static int run_calibrate(const char *out_path, const char *classes)
{
    mco_calibration_options opt;
    mco_calibration_options_default(&opt);
    opt.ctx = cli_context();   /* its log prints a line per measured model */
    opt.classes = classes;
    mco_cost_model *cm = NULL;
    double t0 = cli_now();
    mco_status st = mco_cost_model_calibrate(&opt, &cm);
    if (st == MCO_OK) st = mco_cost_model_save(cm, out_path);
    mco_cost_model_free(cm);
    if (st != MCO_OK) return cli_fail(st);
    fprintf(stderr, "wrote %s in %.0f s\n", out_path, cli_now() - t0);
    return CLI_EXIT_OK;
}

static double rel_error(double predicted, double measured)
{
    return measured != 0 ? (predicted - measured) / measured : 0;
}

/* Calls fn for each comma-separated item of list; stops at the first non-zero return. */
static int for_each_item(const char *list, int (*fn)(const char *item, void *ctx), void *ctx)
{
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        char item[64];
        snprintf(item, sizeof item, "%.*s", (int)len, p);
        p += len + (p[len] == ',');
        int rc = fn(item, ctx);
        if (rc) return rc;
    }
    return 0;
}

typedef struct {
    const mco_cost_model *cm;
    const char *formats, *archs;
    const char *class_name, *format;
    mco_target_profile profile;
    double worst_cycles, worst_flash, worst_ram;
    int n_rows;
} validation;

static int validate_arch(const char *arch, void *ctx)
{
    validation *v = ctx;
    mco_deploy_model dm;
    mco_status st = mco_resource_random_model(arch, v->format, 11u, &dm);
    if (st != MCO_OK) return cli_fail(st);
    mco_resource_estimate e;
    mco_measure_result m;
    st = mco_resource_check(cli_context(), v->cm, &dm, &v->profile, 1, &e, &m);
    mco_deploy_free(&dm);
    if (st != MCO_OK) return cli_fail(st);
    double ec = rel_error(e.cycles, m.cycles_est), ef = rel_error((double)e.flash_bytes, (double)m.flash_bytes),
           er = rel_error((double)e.ram_bytes, (double)m.ram_bytes);
    printf("%-7s %-8s %-12s %12.0f %12.0f %+7.2f%% %8zu %8zu %+7.2f%% %7zu %7zu %+7.2f%%\n", v->class_name, v->format,
           arch, e.cycles, m.cycles_est, 100 * ec, e.flash_bytes, m.flash_bytes, 100 * ef, e.ram_bytes, m.ram_bytes,
           100 * er);
    fflush(stdout);
    if (fabs(ec) > v->worst_cycles) v->worst_cycles = fabs(ec);
    if (fabs(ef) > v->worst_flash) v->worst_flash = fabs(ef);
    if (fabs(er) > v->worst_ram) v->worst_ram = fabs(er);
    v->n_rows++;
    mco_resource_estimate_free(&e);
    return 0;
}

static int validate_format(const char *format, void *ctx)
{
    validation *v = ctx;
    v->format = format;
    return for_each_item(v->archs, validate_arch, v);
}

static int validate_class(const char *class_name, void *ctx)
{
    validation *v = ctx;
    mco_status st = mco_cost_class_profile(class_name, &v->profile);
    if (st != MCO_OK) return cli_fail(st);
    v->class_name = class_name;
    return for_each_item(v->formats, validate_format, v);
}

static int run_validate(const mco_cost_model *cm, const char *classes, const char *formats, const char *archs)
{
    validation v;
    memset(&v, 0, sizeof v);
    v.cm = cm;
    v.formats = formats;
    v.archs = archs;
    printf("predicted (resource model) vs measured (QEMU: exact instructions, estimated cycles), random weights\n");
    printf("%-7s %-8s %-12s %12s %12s %8s %8s %8s %8s %7s %7s %8s\n", "class", "format", "arch", "cycles pred",
           "cycles emu", "error", "Flash p", "Flash m", "error", "RAM p", "RAM m", "error");
    int rc = for_each_item(classes, validate_class, &v);
    if (rc) return rc;
    printf("worst |error| over %d models: cycles %.2f%%, Flash %.2f%%, RAM %.2f%%\n", v.n_rows, 100 * v.worst_cycles,
           100 * v.worst_flash, 100 * v.worst_ram);
    return CLI_EXIT_OK;
}

/* ---- the command ------------------------------------------------------------------- */

int cmd_estimate(int argc, char **argv)
{
    const char *target_name = NULL, *arch = NULL, *format = NULL, *table = NULL, *out_path = NULL;
    const char *classes = "m0plus,m3,m4f,m7", *formats = "int8,float32",
               *archs = "mnist-paper,lenet5,ds-cnn-s,resnet8,mlp";
    int json = 0, calibrate = 0, validate = 0;
    float clock = 0.0f;
    cli_parser p;
    cli_parser_init(&p, &estimate_spec, argc, argv);
    int c;
    while ((c = cli_getopt(&p)) > 0) {
        switch (c) {
        case OPT_TARGET: target_name = optarg; break;
        case OPT_CLOCK:
            if (!cli_parse_positive("estimate", "--clock-mhz", optarg, CLI_MAX_CLOCK_MHZ, &clock)) return CLI_EXIT_USAGE;
            break;
        case OPT_ARCH: arch = optarg; break;
        case OPT_FORMAT: format = optarg; break;
        case OPT_TABLE: table = optarg; break;
        case CLI_OPT_JSON: json = 1; break;
        case OPT_CALIBRATE: calibrate = 1; break;
        case OPT_VALIDATE: validate = 1; break;
        case OPT_CLASSES: classes = optarg; break;
        case OPT_FORMATS: formats = optarg; break;
        case OPT_ARCHS: archs = optarg; break;
        case 'o': out_path = optarg; break;
        default: return cli_option_unhandled(&p, c);
        }
    }
    if (c < 0) return p.exit_code;
    if (calibrate) {
        if (optind != argc) return cli_usage_error("estimate", "--calibrate takes no MODEL");
        return run_calibrate(out_path ? out_path : default_table(), classes);
    }
    mco_cost_model *cm = NULL;
    mco_status st = mco_cost_model_load(table ? table : default_table(), &cm);
    if (st != MCO_OK) return cli_fail(st);
    if (validate) {
        int rc = optind == argc ? run_validate(cm, classes, formats, archs)
                                : cli_usage_error("estimate", "--validate takes no MODEL");
        mco_cost_model_free(cm);
        return rc;
    }
    int rc = CLI_EXIT_OK;
    if (!target_name) rc = cli_usage_error("estimate", "--target is required");
    else if (arch ? optind != argc : optind != argc - 1)
        rc = cli_usage_error("estimate", arch ? "--arch takes no MODEL file" : "expected one MODEL file");
    else if (arch && !format)
        rc = cli_usage_error("estimate", "--arch needs --format (int8, float32, float16, int8w, int4, int8-sparse, int8-sparse50)");
    if (rc != CLI_EXIT_OK) {
        mco_cost_model_free(cm);
        return rc;
    }
    mco_target_profile target;
    mco_deploy_model dm;
    const char *name = arch ? arch : argv[optind];
    st = mco_target_load(cli_context(), target_name, &target);
    if (st == MCO_OK) st = arch ? mco_resource_random_model(arch, format, 1u, &dm) : cli_load_deploy_model(name, &dm);
    mco_resource_estimate e;
    if (st == MCO_OK) {
        st = mco_resource_estimate_deploy(cm, &dm, &target, clock, &e);
        mco_deploy_free(&dm);
    }
    mco_cost_model_free(cm);
    if (st != MCO_OK) return cli_fail(st);
    if (json) cli_print_json(estimate_json(name, &target, &e));
    else print_estimate(name, &target, &e);
    mco_resource_estimate_free(&e);
    return CLI_EXIT_OK;
}
