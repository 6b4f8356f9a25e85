/*
 * cmd_eval.c - `mcuopt eval MODEL`: accuracy, loss and confusion matrix of a
 * saved model on a data set split: a float model (.mco) with the training
 * layers, a deploy model (.mcq: quantized, or imported from TFLite) with the MCU runtime's kernels
 * compiled for the host (the integer arithmetic the chip runs). A
 * reconstruction model (an autoencoder, loss mse) gets its mean squared
 * reconstruction error and, on data labelled 0 normal / 1 anomalous, the AUC
 * of that error instead of accuracy and a confusion matrix.
 */
#include <string.h>

#include "cli.h"
#include "mcuopt/codegen.h"
#include "mcuopt/model_file.h"

enum { OPT_SPLIT = 1000, OPT_THREADS };

static const cli_option eval_table[] = {
    {"split", 0, "NAME", "test (default) or train", OPT_SPLIT},
    {"threads", 0, "N", "worker threads (default: all cores)", OPT_THREADS},
    CLI_OPTION_JSON,
    {0},
};

static const cli_option *const eval_tables[] = {cli_data_table, eval_table, NULL};

static const cli_command_spec eval_spec = {
    "eval", "MODEL [OPTIONS]",
    "Evaluates a saved model (inference mode) and prints accuracy, loss and the confusion matrix (rows: true "
    "class, columns: predicted class); for an autoencoder (loss mse), the mean squared reconstruction error and, "
    "where the data labels samples 0 (normal) and 1 (anomalous), its AUC.\n\nMODEL is a float model (.mco) or a "
    "quantized deploy model (.mcq), which runs on the MCU runtime's integer kernels as the chip does.",
    eval_tables, NULL,
};

static void print_confusion(const mco_eval_result *r)
{
    printf("confusion matrix (rows: true, columns: predicted)\n     ");
    for (int p = 0; p < r->n_classes; p++) printf("%6d", p);
    printf("\n");
    for (int t = 0; t < r->n_classes; t++) {
        printf("%4d ", t);
        for (int p = 0; p < r->n_classes; p++) printf("%6d", r->confusion[t * r->n_classes + p]);
        printf("\n");
    }
}

int cmd_eval(int argc, char **argv)
{
    cli_data_options data = {0};
    mco_split split = MCO_SPLIT_TEST;
    int threads = 0, json = 0, data_given = 0;
    cli_parser p;
    cli_parser_init(&p, &eval_spec, argc, argv);
    int c;
    while ((c = cli_getopt(&p)) > 0) {
        switch (c) {
        case OPT_SPLIT:
            if (strcmp(optarg, "test") == 0) split = MCO_SPLIT_TEST;
            else if (strcmp(optarg, "train") == 0) split = MCO_SPLIT_TRAIN;
            else return cli_usage_error("eval", "--split must be test or train, not '%s'", optarg);
            break;
        case OPT_THREADS:
            if (!cli_parse_int("eval", "--threads", optarg, 0, 256, &threads)) return CLI_EXIT_USAGE;
            break;
        case CLI_OPT_JSON: json = 1; break;
        default: {   /* the data options (cli_data_table) */
            int r = cli_data_option(&data, &data_given, "eval", c, optarg);
            if (r != CLI_EXIT_OK) return r == -1 ? cli_option_unhandled(&p, c) : r;
        }
        }
    }
    if (c < 0) return p.exit_code;
    if (optind != argc - 1) return cli_usage_error("eval", "expected one MODEL file");
    const char *path = argv[optind];

    int deploy = cli_is_deploy_file(path);
    mco_model model;
    mco_deploy_model dm;
    mco_status st = deploy ? mco_deploy_load(path, &dm) : mco_model_load(path, &model);
    if (st != MCO_OK) return cli_fail(st);
    mco_dataset ds;
    data.input = deploy ? dm.model.input_shape : model.input_shape;
    cli_take_frontend(deploy ? &dm.model : &model, &data);
    st = cli_load_dataset(&data, split, !data_given, json, &ds);
    mco_eval_result r;
    if (st == MCO_OK) {
        cli_warn_input_stats(deploy ? NULL : &model, deploy ? &dm : NULL, &ds);
        st = deploy ? mco_deploy_evaluate(&dm, &ds, threads, &r) : mco_evaluate(&model, &ds, threads, &r);
        mco_dataset_free(&ds);
    }
    if (deploy) mco_deploy_free(&dm);
    else mco_model_free(&model);
    if (st != MCO_OK) return cli_fail(st);

    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "model", path);
        cJSON_AddStringToObject(o, "runtime", deploy ? "mcu" : "float");
        cJSON_AddStringToObject(o, "dataset", data.dataset);
        cJSON_AddNumberToObject(o, "images", r.n);
        if (r.kind == MCO_LOSS_MSE) {
            cJSON_AddStringToObject(o, "loss_kind", "mse");
            cJSON_AddNumberToObject(o, "reconstruction_error", r.loss);
            cli_json_add_auc(o, "auc", r.auc);
            cli_print_json(o);
            mco_eval_result_free(&r);
            return CLI_EXIT_OK;
        }
        cJSON_AddNumberToObject(o, "correct", r.correct);
        cJSON_AddNumberToObject(o, "accuracy", r.accuracy);
        cJSON_AddNumberToObject(o, "loss", r.loss);
        cJSON *rows = cJSON_AddArrayToObject(o, "confusion");
        for (int t = 0; t < r.n_classes; t++)
            cJSON_AddItemToArray(rows, cJSON_CreateIntArray(r.confusion + t * r.n_classes, r.n_classes));
        cli_print_json(o);
    } else if (r.kind == MCO_LOSS_MSE) {
        printf("%s on %s %s: mean reconstruction error %.6f over %d samples", path, data.dataset,
               split == MCO_SPLIT_TEST ? "test" : "train", r.loss, r.n);
        if (r.auc >= 0.0) printf(", AUC %.4f (labels 0 normal, 1 anomalous)\n", r.auc);
        else printf(" (no AUC: the data does not label both normal (0) and anomalous (1) samples)\n");
    } else {
        printf("%s on %s %s: accuracy %.2f %% (%d of %d), loss %.4f\n", path, data.dataset,
               split == MCO_SPLIT_TEST ? "test" : "train", r.accuracy * 100.0, r.correct, r.n, r.loss);
        print_confusion(&r);
    }
    mco_eval_result_free(&r);
    return CLI_EXIT_OK;
}
