/*
 * cmd_export.c - `mcuopt export MODEL -o model.onnx`: a float model (.mco)
 * as plain ONNX, an int8 deploy model (.mcq) in QDQ form (onnx.h).
 *
 * What it leaves out: float16, int4 and weights-only int8 deploy models
 * (refused with a message); choosing the opset (always 13).
 */
#include <string.h>

#include "cli.h"
#include "mcuopt/model_file.h"
#include "mcuopt/onnx.h"

static const cli_option export_table[] = {
    CLI_OPTION_OUTPUT("FILE", "ONNX file to write (default model.onnx)"),
    {0},
};

static const cli_option *const export_tables[] = {export_table, NULL};

static const cli_command_spec export_spec = {
    "export", "MODEL -o model.onnx",
    "Writes MODEL as ONNX (opset 13, input [1, C, H, W] float): a float model (.mco) as plain ONNX with its float "
    "weights, an int8 deploy model (.mcq from 'mcuopt quantize --mode int8') in QDQ form "
    "(QuantizeLinear/DequantizeLinear with mcuopt's scales and zero points, int8 weights, int32 biases), so "
    "another ONNX runtime can check the quantized model. See docs/onnx.md.",
    export_tables, NULL,
};

int cmd_export(int argc, char **argv)
{
    const char *output = "model.onnx";
    cli_parser p;
    cli_parser_init(&p, &export_spec, argc, argv);
    int c;
    while ((c = cli_getopt(&p)) > 0) {
        switch (c) {
        case 'o': output = optarg; break;
        default: return cli_option_unhandled(&p, c);
        }
    }
    if (c < 0) return p.exit_code;
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
