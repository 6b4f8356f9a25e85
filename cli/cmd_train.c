/*
 * cmd_train.c - `mcuopt train`: build a model from an architecture, train it
 * on a data set with a held-out validation split, report test accuracy and
 * save it. The training job itself (cli_train_job) is shared with `mcuopt run`.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_train_job.h"
#include "mcuopt/arch.h"
#include "mcuopt/model_file.h"

static void print_help(void)
{
    printf("usage: mcuopt train [OPTIONS]\n\n"
           "Trains a float model and saves it.\n\n"
           "options:\n");
    cli_train_job_print_options(stdout);
    printf("      --init MODEL      go on training this model (e.g. one made by 'mcuopt import')\n"
           "                        instead of a new one of --arch: fine-tuning\n");
    printf("  -o, --output FILE     model file to write (default model.mco)\n"
           "      --json            print the results as JSON on stdout\n"
           "  -q, --quiet           no progress display\n"
           "  -h, --help            this help\n");
}

int cmd_train(int argc, char **argv)
{
    cli_train_job job;
    cli_train_job_defaults(&job);
    const char *output = "model.mco";
    int json = 0;

    enum { OPT_INIT = 3000 };
    static const struct option extra[] = {{"init", required_argument, NULL, OPT_INIT}, {NULL, 0, NULL, 0}};
    struct option options[CLI_TRAIN_JOB_MAX_OPTIONS];
    cli_train_job_merge_options(NULL, extra, options);

    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, CLI_TRAIN_JOB_SHORT_OPTIONS, options, NULL)) != -1) {
        switch (c) {
        case 'o': output = optarg; break;
        case CLI_TRAIN_JOB_OPT_JSON: json = 1; break;
        case OPT_INIT: job.init = optarg; break;
        case 'h': print_help(); return CLI_EXIT_OK;
        default: {
            int r = cli_train_job_option(&job, "train", c, optarg);
            if (r != CLI_EXIT_OK) return r == -1 ? CLI_EXIT_USAGE : r;   /* getopt_long said why */
        }
        }
    }
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
