/*
 * cmd_run.c - `mcuopt run`: the main job on built-in defaults, with a
 * progress display: train the architecture (mnist-paper on MNIST unless told
 * otherwise) -> quantize to int8 (calibrated on training images) -> emit C
 * code -> measure it on the target's emulated Cortex-M (bit-exactness,
 * instructions, estimated latency, Flash, RAM). Writes everything into an
 * output directory: model.mco, model-int8.mcq, code/ and summary.json,
 * put in place only when the run completes (mcuopt/file_io.h).
 * --task kws|vww|ic|ad takes an MLPerf Tiny task's model, data format and
 * defaults (cli_task.c); --model FILE skips training and takes a trained
 * float model instead. A model with an audio front-end measured on a WAV
 * folder also runs from PCM on the target (the features computed on the
 * chip, cli_measure_pcm_setup).
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_task.h"
#include "cli_train_job.h"
#include "mcuopt/deploy.h"
#include "mcuopt/file_io.h"
#include "mcuopt/measure.h"
#include "mcuopt/model_file.h"

enum {
    OPT_TARGET = 1000, OPT_CLOCK, OPT_IMAGES, OPT_OPTIMIZE, OPT_INPUT_TYPE, OPT_OUTPUT_TYPE, OPT_TASK, OPT_MODEL,
    OPT_MIN_ACCURACY, OPT_MIN_AUC
};

/* run writes files, not JSON: no --json */
static const cli_option run_table[] = {
    CLI_JOB_OPTION_EPOCHS("training epochs (default 3)"),
    {"task", 0, "NAME", "an MLPerf Tiny task: its model, data format and defaults (other options override them; "
     "--data DIR is required): see the tasks below", OPT_TASK},
    {"model", 0, "FILE", "a trained float model (.mco) instead of training one", OPT_MODEL},
    {"min-accuracy", 0, "P", "the floor (percent) the int8 model is judged against (default: the task's; reported "
     "in the summary, not an error)", OPT_MIN_ACCURACY},
    {"min-auc", 0, "F", "the same for an autoencoder's AUC", OPT_MIN_AUC},
    {"target", 0, "NAME", "MCU profile to measure on (default stm32f405)", OPT_TARGET},
    {"clock-mhz", 0, "F", "clock for the latency (default: the profile's maximum)", OPT_CLOCK},
    {"images", 0, "N", "test images run on the emulated target (default 100)", OPT_IMAGES},
    CLI_OPTION_OPTIMIZE(OPT_OPTIMIZE),
    CLI_OPTION_INPUT_TYPE(OPT_INPUT_TYPE),
    CLI_OPTION_OUTPUT_TYPE(OPT_OUTPUT_TYPE),
    CLI_OPTION_OUTPUT("DIR", "output directory (default mcuopt-out)"),
    CLI_OPTION_QUIET,
    {0},
};

static const cli_option *const run_tables[] = {cli_train_job_arch_table, cli_data_table, cli_train_job_table,
                                               cli_train_job_val_data_table, run_table, NULL};

/* The training job's notes, then the tasks of --task. */
static void run_notes(FILE *out, int width)
{
    cli_train_job_print_notes(out, width);
    cli_task_print_notes(out, width);
}

static const cli_command_spec run_spec = {
    "run", "[OPTIONS]",
    "The main job: train -> quantize (int8) -> emit C -> measure on the target. With no options: mnist-paper on "
    "MNIST (Fashion-MNIST if MNIST is absent), measured on an emulated STM32F405.",
    run_tables, run_notes,
};

static void stage(int quiet, int n, const char *what)
{
    if (!quiet) fprintf(stderr, "[%d/4] %s\n", n, what);
}

/* Quantizes to int8 (weights and activations), calibrated on training
 * images, and evaluates the result with the runtime on the test set. */
static mco_status quantize_int8(cli_train_job *job, const mco_model *model, const mco_dataset *test,
                                mco_deploy_model *dm, mco_eval_result *accuracy)
{
    mco_dataset train;
    mco_status st = cli_load_dataset(&job->data, MCO_SPLIT_TRAIN, 0, 1, &train);
    if (st != MCO_OK) return st;
    mco_quant_options qo;
    mco_quant_options_default(&qo);
    st = mco_quantize(model, &train, &qo, dm);
    mco_dataset_free(&train);
    if (st != MCO_OK) return st;
    st = mco_deploy_evaluate(dm, test, job->train.threads, accuracy);
    if (st != MCO_OK) mco_deploy_free(dm);
    return st;
}

static cJSON *summary_json(const cli_train_job *job, const cli_train_report *report,
                           const mco_deploy_model *dm, const mco_eval_result *int8_eval,
                           const mco_target_profile *target, const mco_measure_result *m)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "train", cli_train_report_json(job, report));
    cJSON *q = cJSON_AddObjectToObject(o, "int8");
    char desc[160];
    mco_deploy_describe(dm, desc, sizeof desc);
    cJSON_AddStringToObject(q, "variant", desc);
    cJSON_AddNumberToObject(q, "weight_bytes", (double)mco_deploy_weight_bytes(dm));
    cJSON_AddNumberToObject(q, "test_accuracy", int8_eval->accuracy);
    if (int8_eval->kind == MCO_LOSS_MSE) {
        cJSON_AddNumberToObject(q, "test_reconstruction_error", int8_eval->loss);
        cli_json_add_auc(q, "test_auc", int8_eval->auc);
    }
    cJSON *t = cJSON_AddObjectToObject(o, "target");
    cJSON_AddStringToObject(t, "name", target->name);
    cJSON_AddStringToObject(t, "qemu_machine", m->qemu_machine);
    cJSON_AddNumberToObject(t, "images", m->n_inputs);
    cJSON_AddNumberToObject(t, "mismatches", m->n_mismatch);
    cJSON_AddNumberToObject(t, "instructions", m->insns_mean);
    cJSON_AddNumberToObject(t, "cycles_estimate", m->cycles_est);
    cJSON_AddNumberToObject(t, "clock_mhz", m->clock_mhz);
    cJSON_AddNumberToObject(t, "latency_ms_estimate", m->latency_ms);
    cJSON_AddNumberToObject(t, "flash_bytes", (double)m->flash_bytes);
    cJSON_AddNumberToObject(t, "ram_bytes", (double)m->ram_bytes);
    cJSON_AddStringToObject(t, "note", m->note);
    return o;
}

/* --model FILE: the given float model instead of training, evaluated on
 * the test split (report->test); the data is read as the model reads it. */
static mco_status given_model(cli_train_job *job, const char *path, mco_model *model, cli_train_report *report)
{
    memset(report, 0, sizeof *report);
    mco_status st = mco_model_load(path, model);
    if (st != MCO_OK) return st;
    job->data.input = model->input_shape;
    cli_take_frontend(model, &job->data);
    mco_dataset test;
    st = cli_load_dataset(&job->data, MCO_SPLIT_TEST, 0, job->quiet, &test);
    if (st == MCO_OK) {
        st = mco_evaluate(model, &test, job->train.threads, &report->test);
        report->test_count = test.n;
        mco_dataset_free(&test);
    }
    if (st != MCO_OK) {
        mco_model_free(model);
        return st;
    }
    report->params = mco_model_param_count(model);
    report->macs = (unsigned long long)mco_model_macs(model);
    if (model->loss == MCO_LOSS_MSE)
        printf("%s on %s: test reconstruction error %.6f, AUC %.4f (%d samples)\n", path, job->data.dataset,
               report->test.loss, report->test.auc, report->test_count);
    else
        printf("%s on %s: test accuracy %.2f %% (%d images)\n", path, job->data.dataset,
               report->test.accuracy * 100.0, report->test_count);
    return MCO_OK;
}

/* The int8 model against the floor (the task's, --min-accuracy or
 * --min-auc): one line; *met 1 if it holds. A run without a floor prints
 * nothing. */
static void report_floor(const mco_eval_result *int8_eval, double min_accuracy, double min_auc, int *met)
{
    *met = 1;
    if (int8_eval->kind == MCO_LOSS_MSE && min_auc > 0.0) {
        *met = int8_eval->auc >= min_auc;
        printf("int8 AUC %.4f %s the floor of %.4f%s\n", int8_eval->auc, *met ? "meets" : "is below", min_auc,
               *met ? "" : " (train longer: --epochs; or set --min-auc)");
    } else if (int8_eval->kind != MCO_LOSS_MSE && min_accuracy > 0.0) {
        *met = int8_eval->accuracy * 100.0 >= min_accuracy;
        printf("int8 test accuracy %.2f %% %s the floor of %.2f %%%s\n", int8_eval->accuracy * 100.0,
               *met ? "meets" : "is below", min_accuracy, *met ? "" : " (train longer: --epochs; or set --min-accuracy)");
    }
}

static mco_status write_summary(const char *path, cJSON *summary)
{
    char *text = cJSON_Print(summary);
    if (!text) return mco_error(MCO_ERR_NOMEM, "out of memory");
    mco_status st = mco_write_file_atomic(path, text, strlen(text));
    cJSON_free(text);
    return st;
}

int cmd_run(int argc, char **argv)
{
    cli_train_job job;
    cli_train_job_defaults(&job);
    /* A task's defaults first, so that every option given overrides them. */
    const char *task_name = cli_task_arg(argc, argv), *model_path = NULL;
    const cli_task *task = NULL;
    if (task_name && !(task = cli_task_find(task_name, "run"))) return CLI_EXIT_USAGE;
    if (task) cli_task_apply(task, &job);
    float min_accuracy = task && !task->floor_is_auc ? (float)task->floor : 0.0f;
    float min_auc = task && task->floor_is_auc ? (float)task->floor : 0.0f;
    const char *out_dir = "mcuopt-out", *target_name = "stm32f405";
    mco_measure_options mo;
    mco_measure_options_default(&mo);
    mo.ctx = cli_context();
    float clock = 0.0f;

    cli_parser p;
    cli_parser_init(&p, &run_spec, argc, argv);
    int c;
    while ((c = cli_getopt(&p)) > 0) {
        switch (c) {
        case OPT_TARGET: target_name = optarg; break;
        case OPT_CLOCK:
            if (!cli_parse_positive("run", "--clock-mhz", optarg, CLI_MAX_CLOCK_MHZ, &clock)) return CLI_EXIT_USAGE;
            mo.clock_mhz = clock;
            break;
        case OPT_IMAGES:
            if (!cli_parse_int("run", "--images", optarg, 1, 10000, &mo.n_samples)) return CLI_EXIT_USAGE;
            break;
        case OPT_OPTIMIZE:
            if (!cli_parse_optimize("run", optarg, &mo.plan_goal)) return CLI_EXIT_USAGE;
            break;
        case OPT_INPUT_TYPE:
        case OPT_OUTPUT_TYPE:
            if (!cli_parse_io_type("run", optarg, c == OPT_OUTPUT_TYPE, c == OPT_OUTPUT_TYPE ? &mo.output_type : &mo.input_type))
                return CLI_EXIT_USAGE;
            break;
        case OPT_TASK: break;   /* applied above */
        case OPT_MODEL: model_path = optarg; break;
        case OPT_MIN_ACCURACY:
            if (!cli_parse_float_range("run", "--min-accuracy", optarg, 0.0f, 100.0f, &min_accuracy))
                return CLI_EXIT_USAGE;
            break;
        case OPT_MIN_AUC:
            if (!cli_parse_float_range("run", "--min-auc", optarg, 0.0f, 1.0f, &min_auc)) return CLI_EXIT_USAGE;
            break;
        case 'o': out_dir = optarg; break;
        default: {
            int r = cli_train_job_option(&job, "run", c, optarg);
            if (r != CLI_EXIT_OK) return r;
        }
        }
    }
    if (c < 0) return p.exit_code;
    if (optind < argc) return cli_usage_error("run", "unexpected argument '%s'", argv[optind]);
    if (model_path && job.val_data)
        return cli_usage_error("run", "--val-data is the training's validation set, and --model trains nothing");

    /* Check the target before spending minutes on training. Everything is
     * written under a staged directory that only a complete run puts in
     * place as out_dir, so a failure (a full disk, a model that does not
     * fit) leaves no partial output. */
    mco_status st = task ? cli_task_check_data(task, &job) : MCO_OK;
    if (st != MCO_OK) return cli_fail(st);
    mco_target_profile target;
    st = mco_target_load(cli_context(), target_name, &target);
    mco_output_dir out;
    if (st == MCO_OK) st = mco_output_dir_begin(&out, out_dir);
    if (st != MCO_OK) return cli_fail(st);
    char path[4096];

    stage(job.quiet, 1, model_path ? "evaluate the given model" : "train");
    mco_model model;
    cli_train_report report;
    st = model_path ? given_model(&job, model_path, &model, &report) : cli_train_job_run(&job, &model, &report);
    if (st != MCO_OK) {
        mco_output_dir_abort(&out);
        return cli_fail(st);
    }
    if (!model_path) cli_train_report_print(&job, &report, stdout);
    snprintf(path, sizeof path, "%s/model.mco", out.stage);
    st = mco_model_save(&model, path);

    mco_deploy_model dm;
    mco_eval_result int8_eval;
    mco_dataset test;
    if (st == MCO_OK) st = cli_load_dataset(&job.data, MCO_SPLIT_TEST, 0, 1, &test);
    if (st == MCO_OK) {
        stage(job.quiet, 2, "quantize: int8 weights and activations, calibrated on training images");
        st = quantize_int8(&job, &model, &test, &dm, &int8_eval);
        if (st != MCO_OK) mco_dataset_free(&test);
    }
    mco_model_free(&model);
    if (st != MCO_OK) {
        mco_eval_result_free(&report.test);
        mco_output_dir_abort(&out);
        return cli_fail(st);
    }
    if (int8_eval.kind == MCO_LOSS_MSE)
        printf("int8: %zu bytes of weights, test reconstruction error %.6f (float %.6f), AUC %.4f (float %.4f)\n",
               mco_deploy_weight_bytes(&dm), int8_eval.loss, report.test.loss, int8_eval.auc, report.test.auc);
    else
        printf("int8: %zu bytes of weights, test accuracy %.2f %% (float %.2f %%)\n",
               mco_deploy_weight_bytes(&dm), int8_eval.accuracy * 100.0, report.test.accuracy * 100.0);
    int floor_met;
    report_floor(&int8_eval, min_accuracy, min_auc, &floor_met);
    snprintf(path, sizeof path, "%s/model-int8.mcq", out.stage);
    st = mco_deploy_save(&dm, path);

    char code_dir[4096];
    snprintf(code_dir, sizeof code_dir, "%s/code", out.stage);
    mo.code_dir = code_dir;
    mco_measure_result m, pcm_m;
    int16_t *pcm = NULL;   /* an audio front-end on a WAV folder: test clips run from PCM too */
    if (st == MCO_OK) st = cli_measure_pcm_setup(&job.data, &dm.model, &mo, &pcm, &pcm_m);
    if (st == MCO_OK) {
        stage(job.quiet, 3, "emit C code and measure it on the emulated target");
        if (!job.quiet)
            fprintf(stderr, "running %d test images on %s (%s, qemu)...\n", mo.n_samples, target.name,
                    target.core_name);
        st = mco_measure_deploy_model(&dm, &target, &test, &mo, &m);
    }
    if (st == MCO_OK) {
        cJSON *summary = summary_json(&job, &report, &dm, &int8_eval, &target, &m);
        if (model_path) {   /* no training: the given model's test figures */
            cJSON_DeleteItemFromObject(summary, "train");
            cJSON *given = cJSON_AddObjectToObject(summary, "model");
            cJSON_AddStringToObject(given, "path", model_path);
            cJSON_AddNumberToObject(given, "test_accuracy", report.test.accuracy);
            if (report.test.kind == MCO_LOSS_MSE) cli_json_add_auc(given, "test_auc", report.test.auc);
        }
        if (task || min_accuracy > 0.0f || min_auc > 0.0f) {
            cJSON *t = cJSON_AddObjectToObject(summary, "task");
            cJSON_AddStringToObject(t, "name", task ? task->name : "");
            cJSON_AddStringToObject(t, "floor_on", int8_eval.kind == MCO_LOSS_MSE ? "auc" : "accuracy");
            char floor_text[32];   /* the float as given (0.85, not 0.850000024) */
            snprintf(floor_text, sizeof floor_text, "%.6g", (double)(int8_eval.kind == MCO_LOSS_MSE ? min_auc : min_accuracy));
            cJSON_AddNumberToObject(t, "floor", strtod(floor_text, NULL));
            cJSON_AddBoolToObject(t, "floor_met", floor_met);
        }
        if (pcm) {
            cJSON *p = cJSON_AddObjectToObject(summary, "from_pcm");
            cJSON_AddNumberToObject(p, "clips", pcm_m.n_inputs);
            cJSON_AddNumberToObject(p, "mismatches", pcm_m.n_mismatch);
            cJSON_AddNumberToObject(p, "instructions", pcm_m.insns_mean);
            cJSON_AddNumberToObject(p, "flash_bytes", (double)pcm_m.flash_bytes);
            cJSON_AddNumberToObject(p, "ram_bytes", (double)pcm_m.ram_bytes);
        }
        snprintf(path, sizeof path, "%s/summary.json", out.stage);
        st = write_summary(path, summary);
        cJSON_Delete(summary);
    }
    /* A complete output is kept even when the target's outputs differ (the
     * error below): it is what is needed to see why. */
    if (st == MCO_OK) st = mco_output_dir_commit(&out);
    else mco_output_dir_abort(&out);
    if (st == MCO_OK) {
        stage(job.quiet, 4, "report");
        printf("saved %s/: model.mco, model-int8.mcq, code/ (the C package: model.h, model.c, mcuopt_runtime/, README.md), summary.json\n", out_dir);
        printf("on %s (qemu %s): %d of %d outputs bit-identical to the host\n", target.name,
               m.qemu_machine, m.n_inputs - m.n_mismatch, m.n_inputs);
        printf("  %.0f instructions per inference (exact); ~%.0f cycles (estimate) = %.3f ms at %.0f MHz\n",
               m.insns_mean, m.cycles_est, m.latency_ms, m.clock_mhz);
        printf("  Flash %zu bytes, RAM %zu bytes\n", m.flash_bytes, m.ram_bytes);
        st = cli_measure_pcm_report(&mo, &target, stdout);
        if (m.n_mismatch)
            st = mco_error(MCO_ERR_RANGE, "%d of %d outputs on %s differ from the host runtime",
                           m.n_mismatch, m.n_inputs, target.name);
    }
    free(pcm);
    mco_dataset_free(&test);
    mco_deploy_free(&dm);
    mco_eval_result_free(&int8_eval);
    mco_eval_result_free(&report.test);
    return st == MCO_OK ? CLI_EXIT_OK : cli_fail(st);
}
