/*
 * cli_train_job.c - the training job shared by `train`, `run` and the
 * commands that train on (see cli_train_job.h).
 */
#include "cli_train_job.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mcuopt/arch.h"
#include "mcuopt/model_file.h"

const cli_option cli_train_job_arch_table[] = {
    {"arch", 0, "NAME|FILE", "architecture: a built-in one (listed below) or an architecture file (default "
     "mnist-paper)", CLI_JOB_OPT_ARCH},
    {0},
};

const cli_option cli_train_job_val_data_table[] = {
    {"val-data", 0, "DIR", "the validation set: the test split of DIR, read like --data (for anomaly detection a "
     "labelled set with anomalies, e.g. DCASE's development test/ clips: a machine-sound training split holds "
     "normal clips only); nothing is then held out of training", CLI_JOB_OPT_VAL_DATA},
    {0},
};

const cli_option cli_train_job_table[] = {
    CLI_JOB_OPTION_BATCH,
    CLI_JOB_OPTION_OPTIMIZER,
    CLI_JOB_OPTION_LR("learning rate (default 0.003, cosine-decayed)"),
    CLI_JOB_OPTION_MOMENTUM,
    CLI_JOB_OPTION_WEIGHT_DECAY,
    CLI_JOB_OPTION_SCHEDULE,
    CLI_JOB_OPTION_SEED,
    CLI_JOB_OPTION_THREADS,
    {"val", 0, "N", "training images held out for validation (default 5000)", CLI_JOB_OPT_VAL},
    CLI_JOB_OPTION_AUGMENT,
    {0},
};

void cli_train_job_defaults(cli_train_job *job)
{
    memset(job, 0, sizeof *job);
    job->arch = "mnist-paper";
    job->val_count = 5000;
    mco_train_options_default(&job->train);
}

void cli_train_job_print_notes(FILE *out, int width)
{
    char text[1024] = "built-in architectures (--arch):";
    size_t used = strlen(text);
    for (const char *const *names = mco_arch_builtin_names(); *names && used < sizeof text; names++) {
        int n = snprintf(text + used, sizeof text - used, " %s", *names);
        used += n > 0 ? (size_t)n : 0;
    }
    cli_help_paragraph(out, text, width);
}

int cli_train_job_option(cli_train_job *job, const char *command, int option, const char *value)
{
    mco_train_options *t = &job->train;
    int seed;
    switch (option) {
    case 'q': job->quiet = 1; return CLI_EXIT_OK;
    case CLI_JOB_OPT_ARCH: job->arch = value; return CLI_EXIT_OK;
    case CLI_JOB_OPT_EPOCHS:
        return cli_parse_int(command, "--epochs", value, 1, 10000, &t->epochs) ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    case CLI_JOB_OPT_BATCH:
        return cli_parse_int(command, "--batch", value, 1, 65536, &t->batch_size) ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    case CLI_JOB_OPT_THREADS:
        return cli_parse_int(command, "--threads", value, 0, 256, &t->threads) ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    case CLI_JOB_OPT_VAL_DATA: job->val_data = value; return CLI_EXIT_OK;
    case CLI_JOB_OPT_VAL:
        job->val_percent = 0;
        job->val_given = 1;
        return cli_parse_int(command, "--val", value, 0, 10000000, &job->val_count) ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    case CLI_JOB_OPT_AUGMENT:
        return cli_parse_int(command, "--augment", value, 0, 100, &job->data.augment) ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    case CLI_JOB_OPT_SEED:
        if (!cli_parse_int(command, "--seed", value, 0, 2147483647, &seed)) return CLI_EXIT_USAGE;
        t->seed = (uint64_t)seed;
        return CLI_EXIT_OK;
    case CLI_JOB_OPT_LR:
        return cli_parse_positive(command, "--lr", value, INFINITY, &t->learning_rate) ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    case CLI_JOB_OPT_MOMENTUM:
        return cli_parse_float_range(command, "--momentum", value, 0.0f, 1.0f, &t->momentum) ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    case CLI_JOB_OPT_WEIGHT_DECAY:
        return cli_parse_float_range(command, "--weight-decay", value, 0.0f, 1.0f, &t->weight_decay) ? CLI_EXIT_OK
                                                                                                      : CLI_EXIT_USAGE;
    case CLI_JOB_OPT_OPTIMIZER:
        if (strcmp(value, "adam") == 0) t->optimizer = MCO_OPTIMIZER_ADAM;
        else if (strcmp(value, "sgd") == 0) t->optimizer = MCO_OPTIMIZER_SGD;
        else return cli_usage_error(command, "--optimizer must be adam or sgd, not '%s'", value);
        return CLI_EXIT_OK;
    case CLI_JOB_OPT_SCHEDULE:
        if (strcmp(value, "cosine") == 0) t->schedule = MCO_LR_COSINE;
        else if (strcmp(value, "step") == 0) t->schedule = MCO_LR_STEP;
        else if (strcmp(value, "constant") == 0) t->schedule = MCO_LR_CONSTANT;
        else return cli_usage_error(command, "--schedule must be cosine, step or constant, not '%s'", value);
        return CLI_EXIT_OK;
    default: {
        int r = cli_data_option(&job->data, &job->data_given, command, option, value);
        if (r != -1) return r;
        /* an option of the command's table its switch forgot */
        fprintf(stderr, "mcuopt: %s: internal error: option %d has no handler\n", command, option);
        return CLI_EXIT_FAIL;
    }
    }
}

mco_status cli_train_job_load_data(cli_train_job *job, int max_train_images, mco_dataset *train,
                                   mco_dataset *val, mco_dataset *test)
{
    mco_dataset full, head;
    memset(train, 0, sizeof *train);
    memset(val, 0, sizeof *val);
    if (job->data.input.h == 0) {
        /* The model's input (what an image folder is resized to): the
         * --init model's, or the architecture's own input line. An
         * architecture without one takes the data's shape instead. */
        mco_model m;
        mco_status got = job->init ? mco_model_load(job->init, &m) : mco_arch_load(job->arch, (mco_shape){0, 0, 0}, 0, &m);
        /* A text without a classes line needs a class count to build; any
         * will do for reading its input line (it has none to conflict). */
        if (got != MCO_OK && !job->init) got = mco_arch_load(job->arch, (mco_shape){0, 0, 0}, 2, &m);
        if (got == MCO_OK) {
            job->data.input = m.input_shape;
            cli_take_frontend(&m, &job->data);
            mco_model_free(&m);
        }
    }
    job->data.augment_seed = job->train.seed;
    mco_status st = cli_load_dataset(&job->data, MCO_SPLIT_TRAIN, !job->data_given, job->quiet, &full);
    if (st != MCO_OK) return st;
    if (max_train_images > 0 && max_train_images < full.n) {
        st = mco_dataset_head(&full, max_train_images, &head);
        mco_dataset_free(&full);
        if (st != MCO_OK) return st;
        full = head;
    }
    if (job->val_percent > 0) job->val_count = (int)((long long)full.n * job->val_percent / 100);
    if (job->val_data) {   /* a validation set of its own: all of the training split trains */
        if (job->val_given && job->val_count > 0)
            st = mco_error(MCO_ERR_ARG, "give --val-data or --val, not both");
        else
            st = cli_load_val_data(&job->data, job->val_data, job->quiet, val);
        if (st == MCO_OK) {
            *train = full;
            memset(&full, 0, sizeof full);
        }
    } else if (job->val_count >= full.n) {
        st = mco_error(MCO_ERR_ARG, "--val %d leaves no training images (%d are loaded)", job->val_count,
                       full.n);
    } else {
        st = mco_dataset_split(&full, job->val_count, job->train.seed, train, val);
    }
    mco_dataset_free(&full);
    if (st == MCO_OK) st = cli_load_dataset(&job->data, MCO_SPLIT_TEST, 0, job->quiet, test);
    if (st != MCO_OK) {
        mco_dataset_free(train);
        mco_dataset_free(val);
    }
    return st;
}

mco_status cli_train_job_run(cli_train_job *job, mco_model *model, cli_train_report *report)
{
    memset(report, 0, sizeof *report);
    mco_dataset train, val, test;
    mco_status st = cli_train_job_load_data(job, 0, &train, &val, &test);
    if (st != MCO_OK) return st;

    /* *model is ours to free only once a load or build succeeded: a failed
     * one leaves nothing allocated. */
    int have_model = 0;
    if (job->init) {
        st = mco_model_load(job->init, model);
        have_model = st == MCO_OK;
        if (st == MCO_OK && (model->input_shape.h != train.shape.h || model->input_shape.w != train.shape.w ||
                             model->input_shape.c != train.shape.c ||
                             (model->loss != MCO_LOSS_MSE && model->n_classes != train.n_classes)))
            st = mco_error(MCO_ERR_SHAPE, "%s: the model takes %dx%dx%d inputs into %d classes, %s has %dx%dx%d into %d",
                           job->init, model->input_shape.h, model->input_shape.w, model->input_shape.c,
                           model->n_classes, job->data.dataset, train.shape.h, train.shape.w, train.shape.c,
                           train.n_classes);
    } else {
        st = mco_arch_load(job->arch, train.shape, train.n_classes, model);
        have_model = st == MCO_OK;
        if (st == MCO_OK) {
            st = cli_set_normalization(model, job->data.dataset, &train);
            if (st == MCO_OK) st = mco_model_alloc_params(model);
            if (st == MCO_OK) mco_model_init_params(model, job->train.seed);
        }
    }
    if (st == MCO_OK) cli_record_frontend(&job->data, model);
    cli_progress progress;
    if (st == MCO_OK) {
        cli_progress_init(&progress, job->quiet);
        if (!job->quiet)
            fprintf(stderr, "training %s on %s: %d images (%d %s), %d epochs, batch %d\n", model->arch_name,
                    job->data.dataset, train.n, val.n, job->val_data ? "for validation from --val-data" : "held out",
                    job->train.epochs, job->train.batch_size);
        job->train.progress = cli_progress_train;
        job->train.progress_user = &progress;
        st = mco_train(model, &train, val.n > 0 ? &val : NULL, &job->train, &report->train);
        job->train.progress = NULL;
    }
    if (st == MCO_OK) st = mco_evaluate(model, &test, job->train.threads, &report->test);
    report->train_count = train.n;
    report->val_count = val.n;
    report->test_count = test.n;
    mco_dataset_free(&train);
    mco_dataset_free(&val);
    mco_dataset_free(&test);
    if (st != MCO_OK) {
        if (have_model) mco_model_free(model);
        return st;
    }
    report->params = mco_model_param_count(model);
    report->macs = (unsigned long long)mco_model_macs(model);
    return MCO_OK;
}

void cli_train_report_print(const cli_train_job *job, const cli_train_report *r, FILE *out)
{
    fprintf(out, "%s on %s: %zu parameters, %llu MACs per inference\n", job->init ? job->init : job->arch,
            job->data.dataset, r->params, r->macs);
    fprintf(out, "trained %d epochs on %d images in %.2f s (%.0f images/s)\n", job->train.epochs,
            r->train_count, r->train.seconds,
            r->train.seconds > 0 ? (double)r->train_count * job->train.epochs / r->train.seconds : 0.0);
    if (r->test.kind == MCO_LOSS_MSE) {
        if (r->train.val_accuracy >= 0)   /* an AUC: the validation set held anomalies */
            fprintf(out, "validation AUC %.4f (%d samples)\n", r->train.val_accuracy, r->val_count);
        else if (r->val_count > 0)
            fprintf(out, "validation: no AUC (the %d validation samples hold no anomalies; --val-data DIR gives a "
                    "labelled validation set)\n", r->val_count);
        fprintf(out, "test reconstruction error %.6f (%d samples)", r->test.loss, r->test.n);
        if (r->test.auc >= 0.0) fprintf(out, ", AUC %.4f (labels 0 normal, 1 anomalous)", r->test.auc);
        fprintf(out, "\n");
        return;
    }
    if (r->train.val_accuracy >= 0)
        fprintf(out, "validation accuracy %.2f %% (%d images)\n", r->train.val_accuracy * 100.0,
                r->val_count);
    fprintf(out, "test accuracy %.2f %% (%d of %d), loss %.4f\n", r->test.accuracy * 100.0,
            r->test.correct, r->test.n, r->test.loss);
}

cJSON *cli_train_report_json(const cli_train_job *job, const cli_train_report *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "arch", job->init ? job->init : job->arch);
    cJSON_AddStringToObject(o, "dataset", job->data.dataset);
    cJSON_AddNumberToObject(o, "parameters", (double)r->params);
    cJSON_AddNumberToObject(o, "macs", (double)r->macs);
    cJSON_AddNumberToObject(o, "epochs", job->train.epochs);
    cJSON_AddNumberToObject(o, "batch_size", job->train.batch_size);
    cJSON_AddNumberToObject(o, "seed", (double)job->train.seed);
    cJSON_AddNumberToObject(o, "train_images", r->train_count);
    cJSON_AddNumberToObject(o, "train_seconds", r->train.seconds);
    cJSON_AddNumberToObject(o, "train_accuracy", r->train.final_accuracy);
    cJSON_AddNumberToObject(o, "train_loss", r->train.final_loss);
    if (r->train.val_accuracy >= 0) cJSON_AddNumberToObject(o, "val_accuracy", r->train.val_accuracy);
    cJSON_AddStringToObject(o, "loss_kind", mco_loss_name(r->test.kind));
    cJSON_AddNumberToObject(o, "test_accuracy", r->test.accuracy);
    cJSON_AddNumberToObject(o, "test_loss", r->test.loss);
    if (r->test.kind == MCO_LOSS_MSE) {
        cli_json_add_auc(o, "test_auc", r->test.auc);
        if (r->train.val_accuracy >= 0) cli_json_add_auc(o, "val_auc", r->train.val_accuracy);
    }
    return o;
}
