/*
 * cmd_run.c - `mcuopt run`: the main job on built-in defaults. Trains the
 * architecture (mnist-paper on MNIST unless told otherwise), evaluates it and
 * writes the results into an output directory, with a progress display.
 */
#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "cli_train_job.h"
#include "mcuopt/model_file.h"

static void print_help(void)
{
    printf("usage: mcuopt run [OPTIONS]\n\n"
           "The main job: train -> evaluate -> save, into an output directory.\n"
           "With no options: mnist-paper on MNIST (Fashion-MNIST if MNIST is absent).\n\n"
           "options:\n");
    cli_train_job_print_options(stdout);
    printf("  -o, --output DIR      output directory (default mcuopt-out)\n"
           "  -q, --quiet           no progress display\n"
           "  -h, --help            this help\n");
}

static mco_status make_dir(const char *dir)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return mco_error(MCO_ERR_IO, "%s: cannot create directory: %s", dir, strerror(errno));
    return MCO_OK;
}

int cmd_run(int argc, char **argv)
{
    cli_train_job job;
    cli_train_job_defaults(&job);
    const char *out_dir = "mcuopt-out";

    struct option options[64];
    struct option extra[] = {
        {"output", required_argument, NULL, 'o'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int n = cli_train_job_options(options, 64 - 4);
    memcpy(options + n, extra, sizeof extra);
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "o:qh", options, NULL)) != -1) {
        switch (c) {
        case 'o': out_dir = optarg; break;
        case 'q': job.quiet = 1; break;
        case 'h': print_help(); return CLI_EXIT_OK;
        default: {
            int r = cli_train_job_option(&job, "run", c, optarg);
            if (r != CLI_EXIT_OK) return r == -1 ? CLI_EXIT_USAGE : r;
        }
        }
    }
    if (optind < argc) return cli_usage_error("run", "unexpected argument '%s'", argv[optind]);

    mco_status st = make_dir(out_dir);
    if (st != MCO_OK) return cli_fail(st);

    if (!job.quiet) fprintf(stderr, "[1/2] train\n");
    mco_model model;
    cli_train_report report;
    st = cli_train_job_run(&job, &model, &report);
    if (st != MCO_OK) return cli_fail(st);
    cli_train_report_print(&job, &report, stdout);
    mco_eval_result_free(&report.test);

    if (!job.quiet) fprintf(stderr, "[2/2] save\n");
    char path[4096];
    snprintf(path, sizeof path, "%s/model.mco", out_dir);
    st = mco_model_save(&model, path);
    mco_model_free(&model);
    if (st != MCO_OK) return cli_fail(st);
    printf("saved %s\n", path);
    return CLI_EXIT_OK;
}
