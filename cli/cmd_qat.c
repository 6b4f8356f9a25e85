/*
 * cmd_qat.c - `mcuopt qat MODEL.mco -o OUT.mcq`: quantization-aware
 * fine-tuning of a trained float model (BatchNorm folded first), then
 * conversion to an int8 deploy model with the learnt activation ranges.
 * Reports the float accuracy of the input model, the accuracy of the
 * fake-quantized model after training, and the accuracy of the int8 deploy
 * model run by the host evaluator on the MCU kernels.
 *
 * What it leaves out: a validation hold-out (QAT fine-tunes on the whole
 * training split; nothing is selected on the test split), saving the
 * fine-tuned float model, int4 QAT.
 */
#include <string.h>

#include "cli.h"
#include "cli_train_job.h"
#include "mcuopt/codegen.h"
#include "mcuopt/model_file.h"
#include "mcuopt/qat.h"

#define QAT_DEFAULT_EPOCHS 2
#define QAT_DEFAULT_LR 5e-4f   /* qat_table's --lr help says it: 0.0005 */

enum { OPT_EMA_DECAY = 1000, OPT_FREEZE };

/* the training job's options it takes (no --arch, --val, optimizer or schedule choice) */
static const cli_option qat_table[] = {
    CLI_OPTION_OUTPUT("FILE", "the deploy model to write (.mcq)"),
    CLI_JOB_OPTION_EPOCHS("fine-tuning epochs (default " CLI_STR(QAT_DEFAULT_EPOCHS) ")"),
    CLI_JOB_OPTION_LR("Adam learning rate, cosine decay to 0 (default 0.0005)"),
    CLI_JOB_OPTION_BATCH,
    {"ema-decay", 0, "F", "activation range moving-average decay per step (default 0.999)", OPT_EMA_DECAY},
    {"freeze", 0, "F", "ranges stop moving after this fraction of the steps (default 0.75)", OPT_FREEZE},
    CLI_JOB_OPTION_SEED,
    CLI_JOB_OPTION_THREADS,
    CLI_JOB_OPTION_AUGMENT,
    CLI_OPTION_JSON,
    CLI_OPTION_QUIET,
    {0},
};

static const cli_option *const qat_tables[] = {qat_table, cli_data_table, NULL};

static const cli_command_spec qat_spec = {
    "qat", "MODEL.mco -o OUT.mcq [OPTIONS]",
    "Quantization-aware training: folds BatchNorm into the preceding layers, fine-tunes the model with its weights "
    "and activations rounded as the int8 runtime will round them (activation ranges by moving averages of the "
    "batch min/max), and writes the int8 deploy model built with those ranges. Prints the float, fake-quantized "
    "and int8 (host evaluation with the MCU kernels) test accuracies.",
    qat_tables, NULL,
};

typedef struct {
    double float_accuracy, fake_quant_accuracy, int8_accuracy;
    double seconds;
    int train_images, test_images;
} qat_report;

/* Fine-tunes `qat` on the training split (all of it: the job's --val does
 * not apply) and fills the report's accuracies; `dm` receives the
 * converted model. */
static mco_status run_qat(const mco_model *model, mco_model *qat, cli_train_job *job, mco_qat_config *cfg,
                          mco_deploy_model *dm, qat_report *rep)
{
    mco_dataset train = {0}, test = {0};
    mco_eval_result r;
    mco_train_result result;
    cli_data_options *data = &job->data;
    mco_train_options *opt = &job->train;
    const int quiet = job->quiet;
    data->input = model->input_shape;
    cli_take_frontend(model, data);
    mco_status st = cli_load_dataset(data, MCO_SPLIT_TRAIN, !job->data_given, quiet, &train);
    if (st == MCO_OK) st = cli_load_dataset(data, MCO_SPLIT_TEST, 0, quiet, &test);
    if (st == MCO_OK && (st = mco_evaluate(model, &test, opt->threads, &r)) == MCO_OK) {
        rep->float_accuracy = r.accuracy;
        mco_eval_result_free(&r);
    }
    cli_progress progress;
    cli_progress_init(&progress, quiet);
    opt->progress = cli_progress_train;
    opt->progress_user = &progress;
    if (st == MCO_OK) {
        if (!quiet)
            fprintf(stderr, "QAT of %s on %s: %d images, %d epochs, batch %d, lr %g\n", model->arch_name,
                    data->dataset, train.n, opt->epochs, opt->batch_size, (double)opt->learning_rate);
        st = mco_train(qat, &train, NULL, opt, &result);
        rep->seconds = result.seconds;
    }
    if (st == MCO_OK && (st = mco_qat_evaluate(qat, cfg->ranges, &test, opt->threads, &r)) == MCO_OK) {
        rep->fake_quant_accuracy = r.accuracy;
        mco_eval_result_free(&r);
    }
    if (st == MCO_OK) st = mco_qat_convert(qat, cfg->ranges, dm);
    if (st == MCO_OK && (st = mco_deploy_evaluate(dm, &test, opt->threads, &r)) == MCO_OK) {
        rep->int8_accuracy = r.accuracy;
        mco_eval_result_free(&r);
    }
    rep->train_images = train.n;
    rep->test_images = test.n;
    mco_dataset_free(&train);
    mco_dataset_free(&test);
    return st;
}

int cmd_qat(int argc, char **argv)
{
    cli_train_job job;
    cli_train_job_defaults(&job);
    job.train.epochs = QAT_DEFAULT_EPOCHS;
    job.train.learning_rate = QAT_DEFAULT_LR;
    mco_qat_config cfg;
    mco_qat_config_default(&cfg);
    const char *output = NULL;
    int json = 0;
    cli_parser p;
    cli_parser_init(&p, &qat_spec, argc, argv);
    int c;
    while ((c = cli_getopt(&p)) > 0) {
        switch (c) {
        case 'o': output = optarg; break;
        case OPT_EMA_DECAY:
            if (!cli_parse_float("qat", "--ema-decay", optarg, &cfg.ema_decay)) return CLI_EXIT_USAGE;
            if (!(cfg.ema_decay >= 0.0f && cfg.ema_decay < 1.0f))
                return cli_usage_error("qat", "--ema-decay must be in [0, 1), got '%s'", optarg);
            break;
        case OPT_FREEZE:
            if (!cli_parse_float("qat", "--freeze", optarg, &cfg.freeze_fraction)) return CLI_EXIT_USAGE;
            if (!(cfg.freeze_fraction >= 0.0f && cfg.freeze_fraction <= 1.0f))
                return cli_usage_error("qat", "--freeze must be in [0, 1], got '%s'", optarg);
            break;
        case CLI_OPT_JSON: json = 1; break;
        default: {
            int r = cli_train_job_option(&job, "qat", c, optarg);
            if (r != CLI_EXIT_OK) return r;
        }
        }
    }
    if (c < 0) return p.exit_code;
    if (!(job.train.learning_rate > 0.0f))
        return cli_usage_error("qat", "--lr must be > 0, got '%g'", (double)job.train.learning_rate);
    if (optind != argc - 1) return cli_usage_error("qat", "expected one MODEL file");
    if (!output) return cli_usage_error("qat", "missing -o OUT.mcq");
    if (json) job.quiet = 1;
    const char *path = argv[optind];

    mco_model model, qat;
    mco_status st = mco_model_load(path, &model);
    if (st != MCO_OK) return cli_fail(st);
    if ((st = mco_qat_prepare(&model, &qat)) != MCO_OK) {
        mco_model_free(&model);
        return cli_fail(st);
    }
    mco_qat_ranges ranges;
    mco_deploy_model dm = {0};
    qat_report rep = {0};
    if ((st = mco_qat_ranges_init(&ranges, &qat)) == MCO_OK) {
        cfg.ranges = &ranges;
        job.train.qat = &cfg;
        st = run_qat(&model, &qat, &job, &cfg, &dm, &rep);
        if (st == MCO_OK) st = mco_deploy_save(&dm, output);
        mco_qat_ranges_free(&ranges);
    }
    int exit_code = CLI_EXIT_OK;
    if (st != MCO_OK) {
        exit_code = cli_fail(st);
    } else if (json) {
        char variant[160];
        mco_deploy_describe(&dm, variant, sizeof variant);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "model", path);
        cJSON_AddStringToObject(o, "output", output);
        cJSON_AddStringToObject(o, "variant", variant);
        cJSON_AddStringToObject(o, "dataset", job.data.dataset);
        cJSON_AddNumberToObject(o, "epochs", job.train.epochs);
        cJSON_AddNumberToObject(o, "learning_rate", job.train.learning_rate);
        cJSON_AddNumberToObject(o, "ema_decay", cfg.ema_decay);
        cJSON_AddNumberToObject(o, "freeze_fraction", cfg.freeze_fraction);
        cJSON_AddNumberToObject(o, "train_images", rep.train_images);
        cJSON_AddNumberToObject(o, "train_seconds", rep.seconds);
        cJSON_AddNumberToObject(o, "test_images", rep.test_images);
        cJSON_AddNumberToObject(o, "float_accuracy", rep.float_accuracy);
        cJSON_AddNumberToObject(o, "fake_quant_accuracy", rep.fake_quant_accuracy);
        cJSON_AddNumberToObject(o, "int8_accuracy", rep.int8_accuracy);
        cJSON_AddNumberToObject(o, "weight_bytes", (double)mco_deploy_weight_bytes(&dm));
        cli_print_json(o);
    } else {
        printf("%s -> %s: QAT %d epochs on %d %s images in %.1f s, int8 weights and activations\n", path, output,
               job.train.epochs, rep.train_images, job.data.dataset, rep.seconds);
        printf("test accuracy (%d images): float %.2f %%, fake-quantized %.2f %%, int8 runtime %.2f %%\n",
               rep.test_images, rep.float_accuracy * 100.0, rep.fake_quant_accuracy * 100.0,
               rep.int8_accuracy * 100.0);
        printf("weights: %zu bytes\n", mco_deploy_weight_bytes(&dm));
    }
    mco_deploy_free(&dm);
    mco_model_free(&qat);
    mco_model_free(&model);
    return exit_code;
}
