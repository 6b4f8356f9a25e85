/*
 * main.c - the mcuopt command line: dispatches to one subcommand per
 * cmd_*.c file through a registration table.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const cli_command commands[] = {
    {"run", "the main job: train -> quantize -> emit C -> measure on the emulated MCU", cmd_run},
    {"train", "train a model from an architecture on a data set", cmd_train},
    {"eval", "evaluate a model: accuracy, loss and confusion matrix", cmd_eval},
    {"info", "per-layer shapes, parameters, MACs and bytes of a model", cmd_info},
    {"prune", "magnitude pruning to a target sparsity on a schedule during fine-tuning", cmd_prune},
    {"shrink", "structured pruning: remove whole filters/units, fine-tune", cmd_shrink},
    {"sensitivity", "per-layer structured-pruning sensitivity table", cmd_sensitivity},
    {"distill", "knowledge distillation: train a student against a teacher's soft outputs", cmd_distill},
    {"compress", "run a compression pipeline (prune -> distill -> quant ...) with a table per stage", cmd_compress},
    {"qat", "quantization-aware training, then int8 conversion with the learnt ranges", cmd_qat},
    {"quantize", "post-training quantization: float16, int8, int4, mixed", cmd_quantize},
    {"import", "an ONNX or TFLite model to an mcuopt model (.mco, or .mcq for int8 TFLite)", cmd_import},
    {"export", "a model (.mco float, .mcq int8 as QDQ) to ONNX", cmd_export},
    {"predict", "run a model on float inputs from a file, write its outputs (to compare with other tools)", cmd_predict},
    {"emit", "generate C code (model.h/model.c + runtime) for the MCU", cmd_emit},
    {"measure", "run the emitted code on an emulated Cortex-M: bit-exactness, instructions, latency", cmd_measure},
    {"validate", "compare the float model, the host runtime and the emulated target on your inputs", cmd_validate},
    {"estimate", "predict Flash, RAM, cycles, latency and energy per layer without the emulator", cmd_estimate},
    {"search", "adaptive search over the whole compression pipeline for a target", cmd_search},
    {"trials", "list the trials of a search database", cmd_trials},
    {"targets", "list the MCU profiles", cmd_targets},
};

static void print_usage(FILE *out)
{
    int width = cli_help_width(out);
    fprintf(out, "mcuopt %s - fit neural networks onto Arm Cortex-M microcontrollers\n\n", MCO_VERSION);
    fputs("usage: mcuopt [-v|--verbose] COMMAND [OPTIONS]\n"
          "       mcuopt COMMAND --help   (its options)\n"
          "       mcuopt --version\n\n", out);
    fputs("  -v, --verbose  ", out);
    cli_help_wrap(out, "also print the steps of long operations (tools run, directories used)", 17, 17, width);
    fputs("\n\ncommands:\n", out);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        fprintf(out, "  %-12s ", commands[i].name);
        cli_help_wrap(out, commands[i].summary, 15, 15, width);
        fputc('\n', out);
    }
}

static int run_command(int argc, char **argv)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[0], commands[i].name) == 0) {
            return commands[i].run(argc, argv);   /* cli_getopt words its errors */
        }
    fprintf(stderr, "mcuopt: unknown command '%s' (see 'mcuopt --help')\n", argv[0]);
    return CLI_EXIT_USAGE;
}

int main(int argc, char **argv)
{
    const char *argv0 = argv[0];
    int verbose = 0;
    if (argc >= 2 && (strcmp(argv[1], "-v") == 0 || strcmp(argv[1], "--verbose") == 0)) {
        verbose = 1;
        argv[1] = argv[0];
        argc--;
        argv++;
    }
    if (argc < 2) {
        print_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        print_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("mcuopt %s\n", MCO_VERSION);
        return CLI_EXIT_OK;
    }
    mco_status st = cli_context_init(argv0, verbose);
    if (st != MCO_OK) return cli_fail(st);
    int rc = run_command(argc - 1, argv + 1);
    cli_context_free();
    return rc;
}
