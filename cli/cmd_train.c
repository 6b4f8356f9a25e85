/*
 * cmd_train.c - `mcuopt train`: build a model from an architecture, train it
 * on a data set with a held-out validation split, report test accuracy and
 * save it. The training job itself (cli_train_job) is shared with `mcuopt run`.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_train_job.h"
#include "mcuopt/arch.h"
#include "mcuopt/model_file.h"

enum { OPT_INIT = 3000 };

static const cli_option train_table[] = {
    CLI_JOB_OPTION_EPOCHS("training epochs (default 3)"),
    {"init", 0, "MODEL", "go on training this model (e.g. one made by 'mcuopt import') instead of a new one of "
     "--arch: fine-tuning", OPT_INIT},
    CLI_OPTION_OUTPUT("FILE", "model file to write (default model.mco)"),
    CLI_OPTION_JSON,
    CLI_OPTION_QUIET,
    {0},
};

static const cli_option *const train_tables[] = {cli_train_job_arch_table, cli_data_table, cli_train_job_table,
                                                 cli_train_job_val_data_table, train_table, NULL};

static const cli_command_spec train_spec = {
    "train", "[OPTIONS]", "Trains a float model and saves it.", train_tables, cli_train_job_print_notes,
};

int cmd_train(int argc, char **argv)
{
    cli_train_job job;
    cli_train_job_defaults(&job);
    const char *output = "model.mco";
    int json = 0;

    cli_parser p;
    cli_parser_init(&p, &train_spec, argc, argv);
    int c;
    while ((c = cli_getopt(&p)) > 0) {
        switch (c) {
        case 'o': output = optarg; break;
        case CLI_OPT_JSON: json = 1; break;
        case OPT_INIT: job.init = optarg; break;
        default: {
            int r = cli_train_job_option(&job, "train", c, optarg);
            if (r != CLI_EXIT_OK) return r;
        }
        }
    }
    if (c < 0) return p.exit_code;
    if (optind < argc) return cli_usage_error("train", "unexpected argument '%s'", argv[optind]);

    mco_model model;
    cli_train_report report;
    mco_status st = cli_train_job_run(&job, &model, &report);
    if (st != MCO_OK) return cli_fail(st);
    st = mco_model_save(&model, output);
    if (st != MCO_OK) {
        mco_eval_result_free(&report.test);
        mco_model_free(&model);
        return cli_fail(st);
    }
    if (json) {
        cJSON *o = cli_train_report_json(&job, &report);
        cJSON_AddStringToObject(o, "output", output);
        cli_print_json(o);
    } else {
        cli_train_report_print(&job, &report, stdout);
        printf("saved %s\n", output);
    }
    mco_eval_result_free(&report.test);
    mco_model_free(&model);
    return CLI_EXIT_OK;
}
