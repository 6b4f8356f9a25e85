/*
 * cli_task.h - the four MLPerf Tiny tasks of `mcuopt run --task NAME`:
 * each one's built-in architecture, the data formats it reads, and its
 * defaults (epochs, validation share, the quality floor the int8 model is
 * judged against), which the command's own options then override.
 */
#ifndef MCO_CLI_TASK_H
#define MCO_CLI_TASK_H

#include "cli_train_job.h"

typedef struct {
    const char *name;          /* "kws", "vww", "ic", "ad" */
    const char *what;          /* "keyword spotting" */
    const char *arch;          /* the built-in architecture: "ds-cnn" */
    const char *data_what;     /* what --data must hold, for messages and help */
    mco_data_format formats[4];/* the formats it reads (MCO_DATA_AUTO ends the list) */
    int epochs;                /* default --epochs */
    int val_percent;           /* default validation share of the training split */
    int floor_is_auc;          /* 1: the floor is on the AUC (an autoencoder), else accuracy */
    double floor;              /* accuracy in percent, or AUC */
} cli_task;

/* The task named `name`; NULL and one usage line listing them otherwise. */
const cli_task *cli_task_find(const char *name, const char *command);

/* The value of --task in argv (as `--task NAME` or `--task=NAME`), NULL
 * when absent: the task's defaults are set before the options are parsed,
 * so that every other option overrides them. */
const char *cli_task_arg(int argc, char **argv);

/* Sets the job's defaults for the task (architecture, data format,
 * epochs, validation share). */
void cli_task_apply(const cli_task *task, cli_train_job *job);

/* After the options: --data is required, and what it holds must be one of
 * the task's formats (one line naming the task, what it reads and what the
 * directory holds otherwise; for ad on a WAV folder, that mcuopt has no
 * machine-sound reader yet). */
mco_status cli_task_check_data(const cli_task *task, const cli_train_job *job);

/* Lists the tasks for a command's --help. */
void cli_task_print_notes(FILE *out, int width);   /* the tasks, for run's --help */

#endif
