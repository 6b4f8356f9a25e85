/*
 * cmd_export.c - `mcuopt export MODEL -o model.onnx`: a float model (.mco)
 * as plain ONNX, an int8 deploy model (.mcq) in QDQ form (onnx.h).
 *
 * What it leaves out: float16, int4 and weights-only int8 deploy models
 * (refused with a message); choosing the opset (always 13).
 */
#include <getopt.h>
#include <string.h>

#include "cli.h"
#include "mcuopt/model_file.h"
#include "mcuopt/onnx.h"

static void print_help(void)
{
    printf("usage: mcuopt export MODEL -o model.onnx\n\n"
           "Writes MODEL as ONNX (opset 13, input [1, C, H, W] float): a float model (.mco)\n"
           "as plain ONNX with its float weights, an int8 deploy model (.mcq from\n"
           "`mcuopt quantize --mode int8`) in QDQ form (QuantizeLinear/DequantizeLinear\n"
           "with mcuopt's scales and zero points, int8 weights, int32 biases), so another\n"
           "ONNX runtime can check the quantized model. See docs/onnx.md.\n\n"
           "options:\n"
           "  -o, --output FILE     ONNX file to write (default model.onnx)\n"
           "  -h, --help            this help\n");
}

int cmd_export(int argc, char **argv)
{
    static const struct option options[] = {
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *output = "model.onnx";
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "o:h", options, NULL)) != -1) {
        switch (c) {
        case 'o': output = optarg; break;
        case 'h': print_help(); return CLI_EXIT_OK;
        default: return CLI_EXIT_USAGE;
        }
    }
    if (argc - optind != 1) return cli_usage_error("export", "expected one MODEL file (.mco or .mcq)");
    const char *path = argv[optind];
    mco_status st;
    if (cli_is_deploy_file(path)) {
        mco_deploy_model dm;
        if ((st = mco_deploy_load(path, &dm)) != MCO_OK) return cli_fail(st);
        st = mco_onnx_export_deploy(&dm, output);
        mco_deploy_free(&dm);
    } else {
        mco_model model;
        if ((st = mco_model_load(path, &model)) != MCO_OK) return cli_fail(st);
        st = mco_onnx_export_model(&model, output);
        mco_model_free(&model);
    }
    if (st != MCO_OK) return cli_fail(st);
    printf("exported %s -> %s\n", path, output);
    return CLI_EXIT_OK;
}
