/*
 * cli_train_job.h - the training job shared by `mcuopt train` and
 * `mcuopt run`: its options, running it, and reporting it. The commands
 * that train on (distill, compress, prune, qat, shrink) take its options
 * and data loading too.
 */
#ifndef MCO_CLI_TRAIN_JOB_H
#define MCO_CLI_TRAIN_JOB_H

#include <getopt.h>

#include "cli.h"

typedef struct {
    const char *arch;          /* built-in name or architecture file */
    const char *init;          /* or a model file to go on training (fine-tuning), e.g. an
                                  imported ONNX model: its graph, weights and normalisation */
    cli_data_options data;
    int data_given;            /* --dataset or --data was given: no fallback */
    int val_count;             /* images held out from the training set */
    int val_percent;           /* > 0: hold out this share of the training split instead (a task's
                                  default, cli_task.h); --val sets val_count and clears it */
    mco_train_options train;
    int quiet;
} cli_train_job;

typedef struct {
    mco_train_result train;
    mco_eval_result test;      /* on the test split */
    int train_count;
    int val_count;
    int test_count;
    size_t params;
    unsigned long long macs;
} cli_train_report;

void cli_train_job_defaults(cli_train_job *job);
/* Fills `options` with the job's long options (at most `capacity`); returns how many. */
int cli_train_job_options(struct option *options, int capacity);
/* Entries of the getopt_long table cli_train_job_merge_options writes. */
#define CLI_TRAIN_JOB_MAX_OPTIONS 64
/* What getopt_long returns for --json, and the short options, of that table. */
#define CLI_TRAIN_JOB_OPT_JSON 1999
#define CLI_TRAIN_JOB_SHORT_OPTIONS "o:qh"
/* Writes the getopt_long table of a command that runs a training job: the
 * job's long options and those every such command has (-o/--output,
 * --json, -q/--quiet, -h/--help), less those named in `leave_out`
 * (NULL-terminated; NULL: none), then the command's own `extra` up to its
 * {NULL, 0, NULL, 0} terminator (NULL: none), then a terminator. `options`
 * has CLI_TRAIN_JOB_MAX_OPTIONS entries (extra options that do not fit are
 * dropped). */
void cli_train_job_merge_options(const char *const *leave_out, const struct option *extra,
                                 struct option *options);
void cli_train_job_print_options(FILE *out);
/* Handles one parsed option (-q/--quiet too): CLI_EXIT_OK if it was the job's, CLI_EXIT_USAGE
 * (message printed) for a bad value, -1 if the option is not the job's. */
int cli_train_job_option(cli_train_job *job, const char *command, int option, const char *value);
/* Loads the data set of the job: the test split, and the training split
 * (its first max_train_images images when that is > 0) cut into a
 * training and a held-out validation part by --val and --seed. On failure
 * nothing is left allocated. */
mco_status cli_train_job_load_data(cli_train_job *job, int max_train_images, mco_dataset *train,
                                   mco_dataset *val, mco_dataset *test);
/* Loads data, builds and trains the model, evaluates it on the test split.
 * On success the caller owns *model and report->test. */
mco_status cli_train_job_run(cli_train_job *job, mco_model *model, cli_train_report *report);
void cli_train_report_print(const cli_train_job *job, const cli_train_report *report, FILE *out);
cJSON *cli_train_report_json(const cli_train_job *job, const cli_train_report *report);

#endif
