/*
 * cli_task.c - the task table of `mcuopt run --task NAME` (cli_task.h):
 * MLPerf Tiny's four benchmarks with their models and quality targets
 * (keyword spotting 90 % accuracy, visual wake words 80 %, image
 * classification 85 %, anomaly detection 0.85 AUC).
 *
 * `--task ad` reads machine sounds in the DCASE layout (train/ and test/
 * WAV clips named normal_* / anomaly_*, cut into 640-value windows of
 * log-mel frames by the machine reader), or such windows prepared as .npy
 * or CSV. Its training split holds normal clips only, so its validation
 * AUC needs --val-data DIR (a labelled set); without it the held-out share
 * of training clips gives a validation loss only.
 *
 * What it leaves out: one-folder-per-label WAV sets for anomaly detection
 * (the audio reader's layout): they are refused with one line.
 */
#include "cli_task.h"

#include <stdio.h>
#include <string.h>

#include "cli_options.h"

static const cli_task tasks[] = {
    {"kws", "keyword spotting", "ds-cnn",
     "a WAV folder in the Speech Commands layout (one sub-directory of clips per word)",
     {MCO_DATA_AUDIO, MCO_DATA_AUTO}, 30, 10, 0, 90.0},
    {"vww", "visual wake words", "mobilenet-v1-0.25",
     "an image folder with two sub-directories (e.g. person/ and non_person/), resized to 96x96 RGB, or "
     "96x96x3 arrays as .npy",
     {MCO_DATA_IMAGES, MCO_DATA_NPY, MCO_DATA_AUTO}, 20, 10, 0, 80.0},
    {"ic", "image classification", "resnet8",
     "CIFAR-10 binary batches (data_batch_*.bin, test_batch.bin), an image folder resized to 32x32 RGB, or "
     "32x32x3 arrays as .npy",
     {MCO_DATA_CIFAR10, MCO_DATA_IMAGES, MCO_DATA_NPY, MCO_DATA_AUTO}, 30, 10, 0, 85.0},
    {"ad", "anomaly detection", "ad-autoencoder",
     "machine sounds in the DCASE layout (train/ and test/ WAV clips named normal_* / anomaly_*), or log-mel "
     "frames as x.npy / y.npy or CSV, 640 values per sample (5 frames x 128 bands; labels 0 normal, 1 "
     "anomalous, for the AUC)",
     {MCO_DATA_MACHINE, MCO_DATA_NPY, MCO_DATA_CSV, MCO_DATA_AUTO}, 30, 10, 1, 0.85},
};
#define N_TASKS ((int)(sizeof tasks / sizeof tasks[0]))

const cli_task *cli_task_find(const char *name, const char *command)
{
    for (int i = 0; i < N_TASKS; i++)
        if (strcmp(tasks[i].name, name) == 0) return &tasks[i];
    cli_usage_error(command, "unknown task '%s' (kws: keyword spotting, vww: visual wake words, ic: image "
                    "classification, ad: anomaly detection)", name);
    return NULL;
}

const char *cli_task_arg(int argc, char **argv)
{
    const char *found = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) break;
        if (strcmp(argv[i], "--task") == 0 && i + 1 < argc) found = argv[++i];
        else if (strncmp(argv[i], "--task=", 7) == 0) found = argv[i] + 7;
    }
    return found;
}

void cli_task_apply(const cli_task *task, cli_train_job *job)
{
    job->arch = task->arch;
    job->train.epochs = task->epochs;
    job->val_percent = task->val_percent;
    job->data_given = 1;   /* never the MNIST fallback */
}

mco_status cli_task_check_data(const cli_task *task, const cli_train_job *job)
{
    if (!job->data.data_dir)
        return mco_error(MCO_ERR_ARG, "--task %s (%s) trains on --data DIR: %s", task->name, task->what,
                         task->data_what);
    mco_data_format format;
    if (job->data.dataset) {
        if (mco_data_format_parse(job->data.dataset, &format) != MCO_OK) {
            mco_clear_error();
            return MCO_OK;   /* a named set (cifar10, ...): its reader checks it */
        }
    } else if (mco_data_detect(job->data.data_dir, &format) != MCO_OK) {
        return MCO_ERR_FORMAT;   /* keeps the detection's line */
    }
    for (int i = 0; task->formats[i] != MCO_DATA_AUTO; i++)
        if (format == task->formats[i]) return MCO_OK;
    return mco_error(MCO_ERR_FORMAT, "--task %s (%s) reads %s; %s holds %s data", task->name, task->what,
                     task->data_what, job->data.data_dir, mco_data_format_name(format));
}

void cli_task_print_notes(FILE *out, int width)
{
    cli_help_paragraph(out, "tasks (run --task NAME):", width);
    for (int i = 0; i < N_TASKS; i++) {
        char line[200];
        snprintf(line, sizeof line, "  %-3s %s: %s, %d epochs, floor %s %g%s", tasks[i].name, tasks[i].what,
                 tasks[i].arch, tasks[i].epochs, tasks[i].floor_is_auc ? "AUC" : "accuracy", tasks[i].floor,
                 tasks[i].floor_is_auc ? "" : " %");
        cli_help_paragraph(out, line, width);
    }
}
