/*
 * cmd_compress.c - `mcuopt compress MODEL.mco --stages "A -> B -> C" -o OUT`:
 * runs a compression pipeline (pipeline.h; syntax in docs/pipeline.md) on a
 * float model and prints, after every stage, its accuracy on the test split,
 * parameters, weight bytes and (with --target) Flash, RAM and instructions
 * per inference measured on the emulated MCU. Writes OUT.mcq when the last
 * stage quantizes, else OUT.mco.
 *
 * Training options (--epochs, --lr, --batch, ...) are those of `mcuopt
 * train` and are the defaults of every training stage; a stage's own
 * epochs= / lr= win.
 *
 * What it leaves out: resuming a pipeline from an intermediate stage, and
 * saving the intermediate models.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_train_job.h"
#include "mcuopt/measure.h"
#include "mcuopt/model_file.h"
#include "mcuopt/pipeline.h"
#include "mcuopt/target.h"

enum { OPT_STAGES = 1000, OPT_CONFIG, OPT_TRAIN_IMAGES, OPT_TARGET, OPT_CLOCK, OPT_IMAGES };

static const cli_option compress_table[] = {
    CLI_JOB_OPTION_EPOCHS("training epochs of every stage that trains (default 3)"),
    {"stages", 0, "TEXT", "the stages, separated by '->'", OPT_STAGES},
    {"config", 0, "FILE", "the stages from a file (one a line, '#' comments)", OPT_CONFIG},
    CLI_OPTION_OUTPUT("OUT", "writes OUT.mcq (last stage quant) or OUT.mco"),
    {"train-images", 0, "N", "use only the first N training images (default: all)", OPT_TRAIN_IMAGES},
    {"target", 0, "NAME", "measure Flash, RAM and instructions after every stage on this MCU's emulated core (see "
     "'mcuopt targets')", OPT_TARGET},
    {"clock-mhz", 0, "F", "clock for the target (default: its maximum)", OPT_CLOCK},
    {"images", 0, "N", "test images run on the target per stage (default 20)", OPT_IMAGES},
    CLI_OPTION_JSON,
    CLI_OPTION_QUIET,
    {0},
};

/* The training and data options are the defaults of every stage; the
 * model is MODEL.mco, so --arch is not one of them. */
static const cli_option *const compress_tables[] = {compress_table, cli_data_table, cli_train_job_table, NULL};

/* The stage kinds, after the options. */
static void print_stage_kinds(FILE *out, int width)
{
    fprintf(out, "stage kinds:\n");
    for (int i = 0; i < mco_stage_kind_count(); i++) {
        char text[1024];
        snprintf(text, sizeof text, "%s (keys: %s)", mco_stage_kind_summary(i), mco_stage_kind_keys(i));
        fprintf(out, "  %-9s ", mco_stage_kind_name(i));
        cli_help_wrap(out, text, 12, 12, width);
        fputc('\n', out);
    }
}

static const cli_command_spec compress_spec = {
    "compress", "MODEL.mco (--stages \"STAGE -> STAGE ...\" | --config FILE) -o OUT [OPTIONS]",
    "Runs compression stages in order and evaluates the model after each. A stage is KIND or "
    "KIND:key=value,flag,... (see docs/pipeline.md), e.g. "
    "\"prune:structured=0.5,criterion=l1 -> distill:T=4,alpha=0.1,epochs=2 -> quant:int8\". The training and "
    "data options are the defaults of every stage; a stage's own epochs= / lr= win.",
    compress_tables, print_stage_kinds,
};

static void print_header(int measured)
{
    printf("%-3s %-44s %9s %8s %9s", "#", "stage", "accuracy", "params", "weights");
    if (measured) printf(" %9s %8s %12s", "Flash", "RAM", "instructions");
    printf(" %8s\n", "time");
}

typedef struct {
    int measured;    /* a target was given */
    int quiet;
    int n_stages;
} row_printer;

static void print_row(void *user, int index, const mco_stage_report *r)
{
    const row_printer *p = user;
    char accuracy[16];
    if (r->accuracy >= 0.0) snprintf(accuracy, sizeof accuracy, "%.2f %%", r->accuracy * 100.0);
    else snprintf(accuracy, sizeof accuracy, "-");
    printf("%-3d %-44.44s %9s %8zu %9zu", index, r->stage, accuracy, r->params, r->weight_bytes);
    if (p->measured) {
        if (r->measured) printf(" %9zu %8zu %12.0f", r->flash_bytes, r->ram_bytes, r->instructions);
        else printf(" %9s %8s %12s", "-", "-", "-");
    }
    printf(" %7.1fs\n", r->seconds);
    if (r->nonzero_params < r->params)
        printf("    %.1f %% of the weights are zero\n", 100.0 * (double)(r->params - r->nonzero_params) / (double)r->params);
    if (p->measured && !r->measured) printf("    not measured: %s\n", r->note);
    if (r->mismatches) printf("    %d emulated outputs differ from the host runtime\n", r->mismatches);
    fflush(stdout);
    if (!p->quiet && index < p->n_stages) fprintf(stderr, "stage %d of %d...\n", index + 1, p->n_stages);
}

static cJSON *report_json(const mco_stage_report *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "stage", r->stage);
    cJSON_AddStringToObject(o, "variant", r->variant);
    if (r->accuracy >= 0.0) {
        cJSON_AddNumberToObject(o, "accuracy", r->accuracy);
        cJSON_AddNumberToObject(o, "loss", r->loss);
    }
    cJSON_AddNumberToObject(o, "parameters", (double)r->params);
    cJSON_AddNumberToObject(o, "nonzero_parameters", (double)r->nonzero_params);
    cJSON_AddNumberToObject(o, "weight_bytes", (double)r->weight_bytes);
    cJSON_AddBoolToObject(o, "measured", r->measured);
    if (r->measured) {
        cJSON_AddNumberToObject(o, "flash_bytes", (double)r->flash_bytes);
        cJSON_AddNumberToObject(o, "ram_bytes", (double)r->ram_bytes);
        cJSON_AddNumberToObject(o, "instructions", r->instructions);
        cJSON_AddNumberToObject(o, "mismatches", r->mismatches);
    } else if (r->note[0]) {
        cJSON_AddStringToObject(o, "note", r->note);
    }
    cJSON_AddNumberToObject(o, "seconds", r->seconds);
    return o;
}

/* OUT with the extension of the final model; 0 after a usage error. */
static int output_path(const char *out, int is_deploy, char *path, size_t size)
{
    const char *ext = is_deploy ? ".mcq" : ".mco", *other = is_deploy ? ".mco" : ".mcq";
    size_t n = strlen(out);
    if (n >= 4 && strcmp(out + n - 4, other) == 0) {
        cli_usage_error("compress", "-o %s: the final model is a %s model, so it is written as %s", out,
                        is_deploy ? "quantized" : "float", ext);
        return 0;
    }
    snprintf(path, size, "%s%s", out, n >= 4 && strcmp(out + n - 4, ext) == 0 ? "" : ext);
    return 1;
}

int cmd_compress(int argc, char **argv)
{
    cli_train_job job;
    cli_train_job_defaults(&job);
    const char *stages = NULL, *config = NULL, *output = NULL, *target_name = NULL;
    int json = 0, train_images = 0;
    mco_pipeline_options popt;
    mco_pipeline_options_default(&popt);
    popt.measure.ctx = cli_context();

    cli_parser p;
    cli_parser_init(&p, &compress_spec, argc, argv);
    int c;
    float clock = 0.0f;
    while ((c = cli_getopt(&p)) > 0) {
        switch (c) {
        case OPT_STAGES: stages = optarg; break;
        case OPT_CONFIG: config = optarg; break;
        case OPT_TRAIN_IMAGES:
            if (!cli_parse_int("compress", "--train-images", optarg, 1, 100000000, &train_images)) return CLI_EXIT_USAGE;
            break;
        case OPT_TARGET: target_name = optarg; break;
        case OPT_CLOCK:
            if (!cli_parse_positive("compress", "--clock-mhz", optarg, CLI_MAX_CLOCK_MHZ, &clock)) return CLI_EXIT_USAGE;
            popt.measure.clock_mhz = clock;
            break;
        case OPT_IMAGES:
            if (!cli_parse_int("compress", "--images", optarg, 1, 10000, &popt.measure.n_samples)) return CLI_EXIT_USAGE;
            break;
        case 'o': output = optarg; break;
        case CLI_OPT_JSON: json = 1; break;
        default: {
            int r = cli_train_job_option(&job, "compress", c, optarg);
            if (r != CLI_EXIT_OK) return r;
        }
        }
    }
    if (c < 0) return p.exit_code;
    if (optind != argc - 1) return cli_usage_error("compress", "expected one MODEL.mco file");
    if (!stages == !config) return cli_usage_error("compress", "give the stages as --stages TEXT or --config FILE (one of them)");
    if (!output) return cli_usage_error("compress", "missing -o OUT");
    if (json) job.quiet = 1;
    const char *model_path = argv[optind];

    /* A bad pipeline is found before anything is loaded or trained. */
    mco_pipeline pipeline;
    mco_status st = stages ? mco_pipeline_parse(stages, "--stages", &pipeline) : mco_pipeline_load(config, &pipeline);
    if (st != MCO_OK) return cli_fail(st);
    char path[1024];
    if (!output_path(output, mco_pipeline_makes_deploy(&pipeline), path, sizeof path)) return CLI_EXIT_USAGE;
    mco_target_profile target;
    if (target_name && (st = mco_target_load(cli_context(), target_name, &target)) != MCO_OK) return cli_fail(st);
    mco_model model;
    if ((st = mco_model_load(model_path, &model)) != MCO_OK) return cli_fail(st);

    /* Everything below is released at `done`. */
    mco_dataset train = {0}, val = {0}, test = {0};
    mco_pipeline_result result;
    memset(&result, 0, sizeof result);
    int exit_code = CLI_EXIT_FAIL;

    job.data.input = model.input_shape;
    cli_take_frontend(&model, &job.data);
    if ((st = cli_train_job_load_data(&job, train_images, &train, &val, &test)) != MCO_OK) goto fail;

    cli_progress progress;
    cli_progress_init(&progress, job.quiet);
    row_printer printer = {target_name != NULL, job.quiet, pipeline.n_stages};
    popt.train = &train;
    popt.val = val.n > 0 ? &val : NULL;
    popt.test = &test;
    popt.train_options = job.train;
    popt.train_options.progress = cli_progress_train;
    popt.train_options.progress_user = &progress;
    popt.target = target_name ? &target : NULL;
    if (!json) {
        printf("%s: %d stage%s; %d training images, accuracy on %d %s test images%s%s\n", model_path,
               pipeline.n_stages, pipeline.n_stages == 1 ? "" : "s", train.n, test.n, job.data.dataset, target_name ? "; measured on " : "",
               target_name ? target.name : "");
        print_header(printer.measured);
        popt.on_stage = print_row;
        popt.on_stage_user = &printer;
    }
    if ((st = mco_pipeline_run(&pipeline, &model, &popt, &result)) != MCO_OK) goto fail;
    st = result.is_deploy ? mco_deploy_save(&result.deploy, path) : mco_model_save(&result.model, path);
    if (st != MCO_OK) goto fail;

    int mismatches = 0;
    for (int i = 0; i < result.n_reports; i++) mismatches += result.reports[i].mismatches;
    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "model", model_path);
        cJSON_AddStringToObject(o, "output", path);
        cJSON_AddStringToObject(o, "dataset", job.data.dataset);
        cJSON_AddNumberToObject(o, "train_images", train.n);
        cJSON_AddNumberToObject(o, "test_images", test.n);
        if (target_name) cJSON_AddStringToObject(o, "target", target.name);
        cJSON *rows = cJSON_AddArrayToObject(o, "stages");
        for (int i = 0; i < result.n_reports; i++) cJSON_AddItemToArray(rows, report_json(&result.reports[i]));
        cli_print_json(o);
    } else {
        printf("saved %s\n", path);
    }
    if (mismatches) {
        fprintf(stderr, "mcuopt: error: %d emulated outputs differ from the host runtime\n", mismatches);
        goto done;
    }
    exit_code = CLI_EXIT_OK;
    goto done;
fail:
    exit_code = cli_fail(st);
done:
    mco_pipeline_result_free(&result);
    mco_dataset_free(&train);
    mco_dataset_free(&val);
    mco_dataset_free(&test);
    mco_model_free(&model);
    return exit_code;
}
