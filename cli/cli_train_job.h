/*
 * cli_train_job.h - the training job shared by `mcuopt train` and
 * `mcuopt run`: its options, running it, and reporting it. The commands
 * that train on (distill, compress, prune, qat, shrink) take its options
 * and data loading too.
 */
#ifndef MCO_CLI_TRAIN_JOB_H
#define MCO_CLI_TRAIN_JOB_H

#include "cli.h"
#include "cli_options.h"

typedef struct {
    const char *arch;          /* built-in name or architecture file */
    const char *init;          /* or a model file to go on training (fine-tuning), e.g. an
                                  imported ONNX model: its graph, weights and normalisation */
    cli_data_options data;
    int data_given;            /* --dataset or --data was given: no fallback */
    int val_count;             /* images held out from the training set */
    int val_percent;           /* > 0: hold out this share of the training split instead (a task's
                                  default, cli_task.h); --val sets val_count and clears it */
    int val_given;             /* --val was given */
    const char *val_data;      /* --val-data DIR: the validation set is DIR's test split
                                  (cli_load_val_data), and nothing is held out of training */
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

/* The job's options, each defined once (cli_train_job_option handles their
 * ids). cli_train_job_table holds them all but --arch, which
 * cli_train_job_arch_table holds (commands that start from a model leave it
 * out); --epochs, whose default differs (fine-tuning takes fewer), is in
 * each command's own table; a command that takes only some of them (qat)
 * lists those in its own table. The data options are cli_data_table's. */
enum {
    CLI_JOB_OPT_ARCH = 2000, CLI_JOB_OPT_EPOCHS, CLI_JOB_OPT_BATCH, CLI_JOB_OPT_OPTIMIZER, CLI_JOB_OPT_LR,
    CLI_JOB_OPT_MOMENTUM, CLI_JOB_OPT_WEIGHT_DECAY, CLI_JOB_OPT_SCHEDULE, CLI_JOB_OPT_SEED, CLI_JOB_OPT_THREADS,
    CLI_JOB_OPT_VAL, CLI_JOB_OPT_AUGMENT, CLI_JOB_OPT_VAL_DATA
};
#define CLI_JOB_OPTION_EPOCHS(help) {"epochs", 0, "N", help, CLI_JOB_OPT_EPOCHS}
#define CLI_JOB_OPTION_LR(help) {"lr", 0, "F", help, CLI_JOB_OPT_LR}
#define CLI_JOB_OPTION_BATCH {"batch", 0, "N", "mini-batch size (default 32)", CLI_JOB_OPT_BATCH}
#define CLI_JOB_OPTION_SEED {"seed", 0, "N", "random seed (default 1)", CLI_JOB_OPT_SEED}
#define CLI_JOB_OPTION_THREADS {"threads", 0, "N", "worker threads (default: all cores)", CLI_JOB_OPT_THREADS}
#define CLI_JOB_OPTION_OPTIMIZER {"optimizer", 0, "NAME", "adam (default) or sgd", CLI_JOB_OPT_OPTIMIZER}
#define CLI_JOB_OPTION_MOMENTUM {"momentum", 0, "F", "SGD momentum (default 0.9)", CLI_JOB_OPT_MOMENTUM}
#define CLI_JOB_OPTION_WEIGHT_DECAY {"weight-decay", 0, "F", "L2 weight decay (default 0)", CLI_JOB_OPT_WEIGHT_DECAY}
#define CLI_JOB_OPTION_SCHEDULE {"schedule", 0, "NAME", "cosine (default), step or constant", CLI_JOB_OPT_SCHEDULE}
#define CLI_JOB_OPTION_AUGMENT                                                                                   \
    {"augment", 0, "N",                                                                                          \
     "audio folders: N augmented copies of each training clip (time shift, _background_noise_ mixed in; "      \
     "default 0)", CLI_JOB_OPT_AUGMENT}
/* --val-data DIR, the validation set of its own (train and run: the commands whose job loads its data
 * with cli_train_job_load_data and trains from scratch) */
extern const cli_option cli_train_job_val_data_table[];
extern const cli_option cli_train_job_arch_table[];
extern const cli_option cli_train_job_table[];
/* The built-in architectures, for the notes of a command's help. */
void cli_train_job_print_notes(FILE *out, int width);

/* Handles one parsed option of the job's tables, cli_data_table or -q:
 * CLI_EXIT_OK, or the exit code (message printed) for a bad value or an
 * option nobody handles (an internal error). */
int cli_train_job_option(cli_train_job *job, const char *command, int option, const char *value);
/* Loads the data set of the job: the test split, and the training split
 * (its first max_train_images images when that is > 0) cut into a
 * training and a held-out validation part by --val and --seed; with
 * --val-data DIR, the whole training split and DIR's test split as the
 * validation set. On failure nothing is left allocated. */
mco_status cli_train_job_load_data(cli_train_job *job, int max_train_images, mco_dataset *train,
                                   mco_dataset *val, mco_dataset *test);
/* Loads data, builds and trains the model, evaluates it on the test split.
 * On success the caller owns *model and report->test. */
mco_status cli_train_job_run(cli_train_job *job, mco_model *model, cli_train_report *report);
void cli_train_report_print(const cli_train_job *job, const cli_train_report *report, FILE *out);
cJSON *cli_train_report_json(const cli_train_job *job, const cli_train_report *report);

#endif
