/*
 * cmd_predict.c - `mcuopt predict MODEL --input X.f32 -o Y.f32`: runs a model
 * on network inputs given as raw float32 and writes its outputs as raw
 * float32, so results can be compared value by value with another tool (an
 * ONNX runtime, PyTorch, numpy). A .mco model runs in float (inference mode);
 * a .mcq deploy model runs its plan with the MCU runtime, int8 inputs
 * quantized from the floats and int8 outputs dequantized.
 *
 * What it leaves out: raw-pixel inputs and the model's normalisation (the
 * input is the network input itself), and batching beyond a loop.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "mcuopt/codegen.h"
#include "mcuopt/file_io.h"
#include "mcuopt/model_file.h"

#define PREDICT_MAX_INPUT_BYTES ((size_t)1 << 30)

enum { OPT_INPUT = 1000, OPT_LAYOUT };

static const cli_option predict_table[] = {
    {"input", 0, "FILE", "the inputs (a multiple of H*W*C*4 bytes)", OPT_INPUT},
    CLI_OPTION_OUTPUT("FILE", "where to write the outputs"),
    {"layout", 0, "L", "nhwc (default, mcuopt's order) or nchw (ONNX's order) for the inputs and outputs",
     OPT_LAYOUT},
    {0},
};

static const cli_option *const predict_tables[] = {predict_table, NULL};

static const cli_command_spec predict_spec = {
    "predict", "MODEL --input FILE -o FILE [OPTIONS]",
    "Runs MODEL (.mco float, .mcq deploy) on the samples of FILE, each one network input (after normalisation) "
    "of H*W*C little-endian float32 values, and writes the outputs, one row of float32 values per sample (int8 "
    "outputs dequantized).",
    predict_tables, NULL,
};

/* Reorders one h x w x c sample between NHWC and NCHW (to_nchw selects the direction). */
static void reorder(const float *in, float *out, mco_shape s, int to_nchw)
{
    for (int y = 0; y < s.h; y++)
        for (int x = 0; x < s.w; x++)
            for (int c = 0; c < s.c; c++) {
                size_t nhwc = ((size_t)y * (size_t)s.w + (size_t)x) * (size_t)s.c + (size_t)c;
                size_t nchw = ((size_t)c * (size_t)s.h + (size_t)y) * (size_t)s.w + (size_t)x;
                if (to_nchw) out[nchw] = in[nhwc];
                else out[nhwc] = in[nchw];
            }
}

/* Runs a deploy model's plan on n float samples. */
static mco_status predict_deploy(const mco_deploy_model *dm, const float *inputs, int n, float *outputs)
{
    mco_plan_options po;
    mco_plan_options_default(&po);
    mco_plan plan;
    mco_status st = mco_plan_build(dm, &po, &plan);
    if (st != MCO_OK) return st;
    size_t in_size = (size_t)plan.input_size, out_size = (size_t)plan.output_size;
    uint8_t *arena = aligned_alloc(16, ((size_t)plan.arena_size + 19) & ~(size_t)15);
    void *in = malloc(plan.input_bytes), *out = malloc(plan.output_bytes);
    if (!arena || !in || !out) st = mco_error(MCO_ERR_NOMEM, "predict: out of memory");
    for (int s = 0; st == MCO_OK && s < n; s++) {
        const float *x = inputs + (size_t)s * in_size;
        if (plan.input_type == MCO_ELEM_S8) {
            for (size_t i = 0; i < in_size; i++) {   /* as mco_deploy_prepare_input */
                double v = floor((double)x[i] / (double)plan.input_q.scale + 0.5) + plan.input_q.zero_point;
                ((int8_t *)in)[i] = (int8_t)(v < -128.0 ? -128.0 : (v > 127.0 ? 127.0 : v));
            }
        } else {
            memcpy(in, x, plan.input_bytes);
        }
        st = mco_plan_run(&plan, arena, in, out);
        float *y = outputs + (size_t)s * out_size;
        for (size_t i = 0; st == MCO_OK && i < out_size; i++)
            y[i] = plan.output_type == MCO_ELEM_S8
                       ? plan.output_q.scale * (float)((int32_t)((int8_t *)out)[i] - plan.output_q.zero_point)
                       : ((float *)out)[i];
    }
    free(arena);
    free(in);
    free(out);
    mco_plan_free(&plan);
    return st;
}

int cmd_predict(int argc, char **argv)
{
    const char *input_path = NULL, *output_path = NULL;
    int nchw = 0;
    cli_parser p;
    cli_parser_init(&p, &predict_spec, argc, argv);
    int c;
    while ((c = cli_getopt(&p)) > 0) {
        switch (c) {
        case OPT_INPUT: input_path = optarg; break;
        case 'o': output_path = optarg; break;
        case OPT_LAYOUT:
            if (strcmp(optarg, "nchw") == 0) nchw = 1;
            else if (strcmp(optarg, "nhwc") == 0) nchw = 0;
            else return cli_usage_error("predict", "--layout must be nhwc or nchw, not '%s'", optarg);
            break;
        default: return cli_option_unhandled(&p, c);
        }
    }
    if (c < 0) return p.exit_code;
    if (argc - optind != 1) return cli_usage_error("predict", "expected one MODEL file");
    if (!input_path || !output_path) return cli_usage_error("predict", "--input and -o are required");

    const char *model_path = argv[optind];
    int deploy = cli_is_deploy_file(model_path);
    mco_deploy_model dm;
    mco_model model;
    mco_status st = deploy ? mco_deploy_load(model_path, &dm) : mco_model_load(model_path, &model);
    if (st != MCO_OK) return cli_fail(st);
    const mco_model *m = deploy ? &dm.model : &model;
    mco_shape in_shape = m->input_shape, out_shape = m->layers[m->n_layers - 1].out_shape;
    size_t in_size = mco_shape_size(in_shape), out_size = mco_shape_size(out_shape);

    uint8_t *bytes = NULL;
    size_t n_bytes = 0;
    float *inputs = NULL, *outputs = NULL, *scratch = NULL;
    int n = 0;
    st = mco_read_file(input_path, PREDICT_MAX_INPUT_BYTES, &bytes, &n_bytes);
    if (st == MCO_OK && (n_bytes == 0 || n_bytes % (in_size * 4) != 0 || n_bytes / (in_size * 4) > 1000000))
        st = mco_error(MCO_ERR_ARG, "%s: %zu bytes is not a positive multiple of one %dx%dx%d float32 sample (%zu bytes)",
                       input_path, n_bytes, in_shape.h, in_shape.w, in_shape.c, in_size * 4);
    if (st == MCO_OK) {
        n = (int)(n_bytes / (in_size * 4));
        inputs = malloc(n_bytes);
        outputs = malloc((size_t)n * out_size * sizeof *outputs);
        scratch = malloc((in_size > out_size ? in_size : out_size) * sizeof *scratch);
        if (!inputs || !outputs || !scratch) st = mco_error(MCO_ERR_NOMEM, "predict: out of memory");
    }
    if (st == MCO_OK) {
        for (size_t i = 0; i < n_bytes / 4; i++) {   /* little-endian float32, whatever the host */
            uint32_t u = (uint32_t)bytes[4 * i] | (uint32_t)bytes[4 * i + 1] << 8 |
                         (uint32_t)bytes[4 * i + 2] << 16 | (uint32_t)bytes[4 * i + 3] << 24;
            memcpy(&inputs[i], &u, sizeof u);
        }
        for (int s = 0; nchw && s < n; s++) {
            reorder(inputs + (size_t)s * in_size, scratch, in_shape, 0);
            memcpy(inputs + (size_t)s * in_size, scratch, in_size * sizeof *scratch);
        }
        st = deploy ? predict_deploy(&dm, inputs, n, outputs) : mco_model_predict(&model, inputs, n, outputs);
    }
    if (st == MCO_OK) {
        for (int s = 0; nchw && s < n; s++) {
            reorder(outputs + (size_t)s * out_size, scratch, out_shape, 1);
            memcpy(outputs + (size_t)s * out_size, scratch, out_size * sizeof *scratch);
        }
        uint8_t *out_bytes = (uint8_t *)outputs;   /* reuse: rewritten in place as little-endian */
        for (size_t i = 0; i < (size_t)n * out_size; i++) {
            uint32_t u;
            memcpy(&u, &outputs[i], sizeof u);
            for (int b = 0; b < 4; b++) out_bytes[4 * i + (size_t)b] = (uint8_t)(u >> (8 * b));
        }
        st = mco_write_file_atomic(output_path, out_bytes, (size_t)n * out_size * 4);
    }
    if (st == MCO_OK)
        fprintf(stderr, "predict: %d samples of %dx%dx%d -> %zu outputs each, written to %s\n", n, in_shape.h,
                in_shape.w, in_shape.c, out_size, output_path);
    free(bytes);
    free(inputs);
    free(outputs);
    free(scratch);
    if (deploy) mco_deploy_free(&dm);
    else mco_model_free(&model);
    return st == MCO_OK ? CLI_EXIT_OK : cli_fail(st);
}
