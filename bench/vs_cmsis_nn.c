/*
 * vs_cmsis_nn.c - the C half of bench/vs_cmsis_nn.sh: mcuopt's emitted code
 * against the CMSIS-NN kernels a TensorFlow Lite Micro build would call for
 * the same int8 model, measured the same way.
 *
 *   vs_cmsis_nn model ARCH OUT.mcq [SEED]
 *       an int8 deploy model of an architecture (built-in name or .arch
 *       file) with random weights; activation ranges calibrated on random
 *       inputs (mco_resource_random_model), so the requantization
 *       parameters are the realistic ones of a calibrated model.
 *   vs_cmsis_nn sources CMSIS_NN_DIR
 *       the CMSIS-NN source files the peer program is built from, one a line
 *       (the script compiles them for the host; `measure` for the target).
 *   vs_cmsis_nn emit MODEL.mcq DIR [N] [SEED]
 *       N random raw samples (default 2) as DIR/raw.bin, the model inputs
 *       they give as DIR/inputs.bin, mcuopt's host outputs as
 *       DIR/mcuopt_host.bin, and the peer program: DIR/cmsis/model.h and
 *       model.c (model_run() calling CMSIS-NN, with the same interface as
 *       mcuopt's emitted model.h) and DIR/host_main.c (runs it on the host).
 *   vs_cmsis_nn measure MODEL.mcq DIR TARGET CMSIS_NN_DIR SCRATCH_BYTES
 *       measures both sides on TARGET's QEMU machine with mco_target_measure
 *       (same harness, compiler, flags, plugin and cycle estimator; TARGET
 *       is a profile name or file, or class:m0plus|m3|m4f|m7 for the
 *       resource model's 4 MB profiles) and prints one JSON object.
 *       Expects DIR/cmsis_host.bin (the host build's outputs).
 *   vs_cmsis_nn report RESULT.json...
 *       the tables of docs/benchmarks.md from the JSON objects.
 *
 * The peer program is derived from mcuopt's plan of the model built with
 * conv + pool fusion and the sparse kernels off, so that each of its ops is
 * one TFLite int8 operator: Conv2D, DepthwiseConv2D and FullyConnected with
 * the activation fused, MaxPool2D, AveragePool2D (a global average pool is
 * AveragePool2D over the whole input), Add and Softmax. Each op gets the
 * plan's own int8 weights (same layouts: OHWI, 1HWC, [out][in]), int32
 * biases, per-channel multipliers and shifts and offsets, and the kernel
 * TFLM's CMSIS-NN kernels call: arm_convolve_wrapper_s8,
 * arm_depthwise_conv_wrapper_s8, arm_fully_connected_s8, arm_max_pool_s8,
 * arm_avgpool_s8, arm_elementwise_add_s8, arm_softmax_s8. Scratch is one
 * static buffer of the largest size the matching *_get_buffer_size
 * functions give for the core (computed by the host build, which calls the
 * _dsp variants for cores with the DSP extension, the generic ones else).
 * Tensors live at that plan's arena offsets; the model input and output are
 * the caller's buffers on both sides.
 *
 * What it leaves out: TFLM's interpreter itself (its code, the flatbuffer,
 * tensor metadata and the per-op dispatch are not counted on the CMSIS-NN
 * side: this compares kernels and their glue), per-channel Dense layers and
 * int4 weights (no CMSIS-NN s8 counterpart used here), and float models.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "mco_runtime.h"
#include "mcuopt/op.h"
#include "mcuopt/codegen.h"
#include "mcuopt/context.h"
#include "mcuopt/deploy.h"
#include "mcuopt/measure.h"
#include "mcuopt/resource.h"
#include "mcuopt/resource_calibration.h"
#include "mcuopt/target.h"

#define PATH_CAP 4200

static int fail(mco_status st)
{
    fprintf(stderr, "vs_cmsis_nn: %s\n", mco_last_error());
    return st == MCO_OK ? 1 : 2;
}

/* The library context: the source tree's resources (vs_cmsis_nn.sh runs
 * this from the repository root). Lives until the process exits. */
static mco_context *bench_context(void)
{
    static mco_context *ctx;
    if (!ctx && (mco_context_create(&ctx) != MCO_OK || mco_context_set_root(ctx, ".") != MCO_OK)) {
        fprintf(stderr, "vs_cmsis_nn: %s\n", mco_last_error());
        exit(2);
    }
    return ctx;
}

/* ---- files ------------------------------------------------------------------ */

static mco_status write_bytes(const char *dir, const char *name, const void *data, size_t size)
{
    char path[PATH_CAP];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) return mco_error(MCO_ERR_IO, "%s: %s", path, strerror(errno));
    size_t wrote = fwrite(data, 1, size, f);
    if (fclose(f) != 0 || wrote != size) return mco_error(MCO_ERR_IO, "%s: write error", path);
    return MCO_OK;
}

/* Reads dir/name, which must hold exactly `size` bytes, into a new buffer. */
static mco_status read_bytes(const char *dir, const char *name, size_t size, uint8_t **out)
{
    char path[PATH_CAP];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) return mco_error(MCO_ERR_IO, "%s: %s", path, strerror(errno));
    *out = malloc(size + 1);
    size_t got = *out ? fread(*out, 1, size + 1, f) : 0;
    fclose(f);
    if (!*out) return mco_error(MCO_ERR_NOMEM, "out of memory");
    if (got != size) {
        free(*out);
        *out = NULL;
        return mco_error(MCO_ERR_FORMAT, "%s: %zu bytes, want %zu", path, got, size);
    }
    return MCO_OK;
}

static long file_size(const char *dir, const char *name)
{
    char path[PATH_CAP];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct stat sb;
    return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

/* ---- the two plans -------------------------------------------------------------- */

/* mcuopt's plan (what it emits) and the plain plan the peer program follows. */
typedef struct {
    mco_deploy_model dm;
    mco_plan plan;   /* mcuopt, default options */
    mco_plan ref;    /* one TFLite operator per op */
} models;

static void models_free(models *m)
{
    mco_plan_free(&m->plan);
    mco_plan_free(&m->ref);
    mco_deploy_free(&m->dm);
}

static mco_status models_load(const char *path, models *m)
{
    memset(m, 0, sizeof *m);
    mco_status st = mco_deploy_load(path, &m->dm);
    if (st != MCO_OK) return st;
    if (m->dm.activation_format != MCO_ACT_S8)
        st = mco_error(MCO_ERR_UNSUPPORTED, "%s: not an int8 model (the CMSIS-NN peer runs int8 only)", path);
    /* mcuopt's kernels chosen as `mcuopt emit` chooses them: the context's table */
    mco_cost_model *table = NULL;
    if (st == MCO_OK) st = mco_cost_model_load_context(bench_context(), &table);
    mco_plan_options po;
    mco_plan_options_default(&po);
    po.cost_model = table;
    if (st == MCO_OK) st = mco_plan_build(&m->dm, &po, &m->plan);
    mco_cost_model_free(table);
    mco_plan_options ro;
    mco_plan_options_default(&ro);
    ro.fuse_conv_pool = 0;
    ro.sparse_weights = 0;
    /* a class without the DSP extension: mcuopt's kernels then ask for no
     * arena scratch, so the arena holds the activations alone (the peer's
     * scratch is its own buffer) */
    ro.core_class = "m0plus";
    if (st == MCO_OK) st = mco_plan_build(&m->dm, &ro, &m->ref);
    if (st != MCO_OK) models_free(m);
    return st;
}

static const mco_op *ref_op(const models *m, int k) { return &((const mco_op *)m->ref.ops)[k]; }

/* ---- subcommand model ---------------------------------------------------------- */

static int cmd_model(int argc, char **argv)
{
    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: vs_cmsis_nn model ARCH OUT.mcq [SEED]\n");
        return 2;
    }
    mco_deploy_model dm;
    uint32_t seed = argc == 5 ? (uint32_t)strtoul(argv[4], NULL, 10) : 1u;
    mco_status st = mco_resource_random_model(argv[2], "int8", seed, &dm);
    if (st != MCO_OK) return fail(st);
    st = mco_deploy_save(&dm, argv[3]);
    mco_deploy_free(&dm);
    return st == MCO_OK ? 0 : fail(st);
}

/* ---- subcommand sources ---------------------------------------------------------- */

/* The CMSIS-NN files the seven kernels, their buffer-size functions and
 * their helpers live in, for every core this bench measures (the unused
 * ones are dropped by --gc-sections). */
static const char *const cmsis_sources[] = {
    "ConvolutionFunctions/arm_convolve_wrapper_s8.c",
    "ConvolutionFunctions/arm_convolve_s8.c",
    "ConvolutionFunctions/arm_convolve_1x1_s8_fast.c",
    "ConvolutionFunctions/arm_convolve_1x1_s8.c",
    "ConvolutionFunctions/arm_convolve_1_x_n_s8.c",
    "ConvolutionFunctions/arm_convolve_get_buffer_sizes_s8.c",
    "ConvolutionFunctions/arm_depthwise_conv_wrapper_s8.c",
    "ConvolutionFunctions/arm_depthwise_conv_s8.c",
    "ConvolutionFunctions/arm_depthwise_conv_s8_opt.c",
    "ConvolutionFunctions/arm_depthwise_conv_3x3_s8.c",
    "ConvolutionFunctions/arm_depthwise_conv_get_buffer_sizes_s8.c",
    "ConvolutionFunctions/arm_nn_depthwise_conv_s8_core.c",
    "ConvolutionFunctions/arm_nn_mat_mult_s8.c",
    "ConvolutionFunctions/arm_nn_mat_mult_kernel_s8_s16.c",
    "ConvolutionFunctions/arm_nn_mat_mult_kernel_row_offset_s8_s16.c",
    "FullyConnectedFunctions/arm_fully_connected_s8.c",
    "FullyConnectedFunctions/arm_fully_connected_get_buffer_sizes_s8.c",
    "BasicMathFunctions/arm_elementwise_add_s8.c",
    "PoolingFunctions/arm_avgpool_s8.c",
    "PoolingFunctions/arm_max_pool_s8.c",
    "PoolingFunctions/arm_avgpool_get_buffer_sizes_s8.c",
    "SoftmaxFunctions/arm_softmax_s8.c",
    "SoftmaxFunctions/arm_nn_softmax_common_s8.c",
    "NNSupportFunctions/arm_nn_vec_mat_mult_t_s8.c",
    "NNSupportFunctions/arm_nn_mat_mult_nt_t_s8.c",
    "NNSupportFunctions/arm_nn_mat_mul_core_1x_s8.c",
    "NNSupportFunctions/arm_nn_mat_mul_core_4x_s8.c",
    "NNSupportFunctions/arm_q7_to_q15_with_offset.c",
    "NNSupportFunctions/arm_s8_to_s16_unordered_with_offset.c",
    "NNSupportFunctions/arm_nn_depthwise_conv_nt_t_s8.c",
    "NNSupportFunctions/arm_nn_depthwise_conv_nt_t_padded_s8.c",
};
#define N_CMSIS_SOURCES (sizeof cmsis_sources / sizeof cmsis_sources[0])

/* The full paths under cmsis_dir (a NULL-terminated list of malloc'ed strings). */
static mco_status cmsis_source_paths(const char *cmsis_dir, char **paths)
{
    struct stat sb;
    char probe[PATH_CAP];
    snprintf(probe, sizeof probe, "%s/Include/arm_nnfunctions.h", cmsis_dir);
    if (stat(probe, &sb) != 0)
        return mco_error(MCO_ERR_NOT_FOUND, "%s: not a CMSIS-NN source tree (no Include/arm_nnfunctions.h)", cmsis_dir);
    for (size_t i = 0; i < N_CMSIS_SOURCES; i++) {
        size_t len = strlen(cmsis_dir) + strlen(cmsis_sources[i]) + 9;
        paths[i] = malloc(len);
        if (!paths[i]) return mco_error(MCO_ERR_NOMEM, "out of memory");
        snprintf(paths[i], len, "%s/Source/%s", cmsis_dir, cmsis_sources[i]);
        if (stat(paths[i], &sb) != 0) return mco_error(MCO_ERR_NOT_FOUND, "%s: missing", paths[i]);
    }
    paths[N_CMSIS_SOURCES] = NULL;
    return MCO_OK;
}

static int cmd_sources(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: vs_cmsis_nn sources CMSIS_NN_DIR\n");
        return 2;
    }
    char *paths[N_CMSIS_SOURCES + 1] = {0};
    mco_status st = cmsis_source_paths(argv[2], paths);
    for (size_t i = 0; i < N_CMSIS_SOURCES; i++) {
        if (st == MCO_OK) printf("%s\n", paths[i]);
        free(paths[i]);
    }
    return st == MCO_OK ? 0 : fail(st);
}

/* ---- subcommand emit: the peer program ------------------------------------------- */

static void emit_s8(FILE *f, const char *name, const int8_t *v, size_t n)
{
    fprintf(f, "static const int8_t %s[%zu] = {", name, n);
    for (size_t i = 0; i < n; i++) fprintf(f, "%s%d%s", i % 20 == 0 ? "\n    " : "", v[i], i + 1 < n ? "," : "");
    fputs("\n};\n", f);
}

static void emit_s32(FILE *f, const char *name, const int32_t *v, size_t n)
{
    fprintf(f, "static const int32_t %s[%zu] = {", name, n);
    for (size_t i = 0; i < n; i++) {
        fputs(i % 8 == 0 ? "\n    " : " ", f);
        if (v[i] == INT32_MIN) fputs("(-2147483647 - 1)", f);
        else fprintf(f, "%ld", (long)v[i]);
        if (i + 1 < n) fputc(',', f);
    }
    fputs("\n};\n", f);
}

/* The C expression of tensor t in model_run: the caller's in / out, or the arena. */
static void tensor_expr(const mco_plan *p, int t, char *buf, size_t cap)
{
    if (t == p->input_tensor) snprintf(buf, cap, "in");
    else if (t == p->output_tensor) snprintf(buf, cap, "out");
    else snprintf(buf, cap, "(arena.bytes + %lu)", (unsigned long)p->tensors[t].offset);
}

static void emit_dims(FILE *f, int k, const char *what, int n, int h, int w, int c)
{
    fprintf(f, "static const cmsis_nn_dims op%d_%s = {%d, %d, %d, %d};\n", k, what, n, h, w, c);
}

/* Op k's arrays and parameter structs. */
static mco_status emit_op_data(FILE *f, const models *m, int k)
{
    const mco_op *op = ref_op(m, k);
    const mco_plan_op_info *info = &m->ref.info[k];
    const mco_model *model = &m->dm.model;
    char name[64];
    fprintf(f, "/* op %d: %s", k, model->layers[info->first_layer].name);
    if (info->last_layer > info->first_layer) fprintf(f, " .. %s", model->layers[info->last_layer].name);
    fprintf(f, " (mcuopt %s) */\n", mco_op_kind_name((int)op->kind));
    switch (op->kind) {
    case MCO_OP_CONV2D_S8:
    case MCO_OP_DEPTHWISE_CONV2D_S8: {
        const mco_conv_s8_params *p = op->params;
        const mco_window *w = &p->win;
        int dw = op->kind == MCO_OP_DEPTHWISE_CONV2D_S8;
        if (!p->multiplier || !op->weights || !op->bias)
            return mco_error(MCO_ERR_UNSUPPORTED, "op %d: no weights, bias or multipliers", k);
        size_t n_weights = (size_t)w->kernel_h * (size_t)w->kernel_w * (size_t)w->out_c * (dw ? 1u : (size_t)w->in_c);
        snprintf(name, sizeof name, "op%d_weights", k);
        emit_s8(f, name, op->weights, n_weights);
        snprintf(name, sizeof name, "op%d_bias", k);
        emit_s32(f, name, op->bias, (size_t)w->out_c);
        snprintf(name, sizeof name, "op%d_multiplier", k);
        emit_s32(f, name, p->multiplier, (size_t)w->out_c);
        snprintf(name, sizeof name, "op%d_shift", k);
        emit_s32(f, name, p->shift, (size_t)w->out_c);
        fprintf(f,
                "static const %s op%d_params = {\n"
                "    .input_offset = %ld, .output_offset = %ld,%s\n"
                "    .stride = {.w = %ld, .h = %ld}, .padding = {.w = %ld, .h = %ld}, .dilation = {.w = 1, .h = 1},\n"
                "    .activation = {.min = %ld, .max = %ld}};\n",
                dw ? "cmsis_nn_dw_conv_params" : "cmsis_nn_conv_params", k, (long)p->input_offset,
                (long)p->output_offset, dw ? " .ch_mult = 1," : "", (long)w->stride_w, (long)w->stride_h,
                (long)w->pad_left, (long)w->pad_top, (long)p->act_min, (long)p->act_max);
        fprintf(f,
                "static const cmsis_nn_per_channel_quant_params op%d_quant = {(int32_t *)op%d_multiplier, "
                "(int32_t *)op%d_shift};\n",
                k, k, k);
        emit_dims(f, k, "input_dims", 1, w->in_h, w->in_w, w->in_c);
        if (dw) emit_dims(f, k, "filter_dims", 1, w->kernel_h, w->kernel_w, w->out_c);
        else emit_dims(f, k, "filter_dims", w->out_c, w->kernel_h, w->kernel_w, w->in_c);
        emit_dims(f, k, "bias_dims", 1, 1, 1, w->out_c);
        emit_dims(f, k, "output_dims", 1, w->out_h, w->out_w, w->out_c);
        break;
    }
    case MCO_OP_FULLY_CONNECTED_S8: {
        const mco_fc_s8_params *p = op->params;
        if (!p->per_tensor)
            return mco_error(MCO_ERR_UNSUPPORTED,
                             "op %d: a Dense layer with per-channel scales (arm_fully_connected_s8 takes one)", k);
        if (!op->weights || !op->bias) return mco_error(MCO_ERR_UNSUPPORTED, "op %d: no weights or bias", k);
        size_t n_weights = (size_t)p->in_size * (size_t)p->out_size;
        snprintf(name, sizeof name, "op%d_weights", k);
        emit_s8(f, name, op->weights, n_weights);
        snprintf(name, sizeof name, "op%d_bias", k);
        emit_s32(f, name, op->bias, (size_t)p->out_size);
        fprintf(f,
                "static const cmsis_nn_fc_params op%d_params = {\n"
                "    .input_offset = %ld, .filter_offset = 0, .output_offset = %ld,\n"
                "    .activation = {.min = %ld, .max = %ld}};\n"
                "static const cmsis_nn_per_tensor_quant_params op%d_quant = {%ld, %ld};\n",
                k, (long)p->input_offset, (long)p->output_offset, (long)p->act_min, (long)p->act_max, k,
                (long)p->multiplier[0], (long)p->shift[0]);
        emit_dims(f, k, "input_dims", 1, 1, 1, p->in_size);
        emit_dims(f, k, "filter_dims", p->in_size, 1, 1, p->out_size);
        emit_dims(f, k, "bias_dims", 1, 1, 1, p->out_size);
        emit_dims(f, k, "output_dims", 1, 1, 1, p->out_size);
        break;
    }
    case MCO_OP_MAX_POOL_S8:
    case MCO_OP_AVG_POOL_S8:
    case MCO_OP_GLOBAL_AVG_POOL_S8: {
        const mco_pool_s8_params *p = op->params;
        mco_window w = p->win;
        if (op->kind == MCO_OP_GLOBAL_AVG_POOL_S8) {   /* AveragePool2D over the whole input */
            w.kernel_h = w.in_h;
            w.kernel_w = w.in_w;
            w.stride_h = w.stride_w = 1;
            w.pad_top = w.pad_left = 0;
            w.out_h = w.out_w = 1;
            w.out_c = w.in_c;
        }
        fprintf(f,
                "static const cmsis_nn_pool_params op%d_params = {\n"
                "    .stride = {.w = %ld, .h = %ld}, .padding = {.w = %ld, .h = %ld},\n"
                "    .activation = {.min = %ld, .max = %ld}};\n",
                k, (long)w.stride_w, (long)w.stride_h, (long)w.pad_left, (long)w.pad_top, (long)p->act_min,
                (long)p->act_max);
        emit_dims(f, k, "input_dims", 1, w.in_h, w.in_w, w.in_c);
        emit_dims(f, k, "filter_dims", 1, w.kernel_h, w.kernel_w, 1);
        emit_dims(f, k, "output_dims", 1, w.out_h, w.out_w, w.out_c);
        break;
    }
    case MCO_OP_ADD_S8:
    case MCO_OP_SOFTMAX_S8:
    case MCO_OP_CLAMP_S8: break;   /* scalar arguments, written at the call */
    default:
        return mco_error(MCO_ERR_UNSUPPORTED, "op %d: kind %s has no CMSIS-NN counterpart in this bench", k,
                         mco_op_kind_name((int)op->kind));
    }
    fputc('\n', f);
    return MCO_OK;
}

/* Op k's call in model_run. */
static void emit_op_call(FILE *f, const models *m, int k)
{
    const mco_op *op = ref_op(m, k);
    const mco_plan_op_info *info = &m->ref.info[k];
    char in[64], in2[64], out[64];
    tensor_expr(&m->ref, info->input_tensor, in, sizeof in);
    tensor_expr(&m->ref, info->output_tensor, out, sizeof out);
    if (info->input2_tensor >= 0) tensor_expr(&m->ref, info->input2_tensor, in2, sizeof in2);
    fprintf(f, "    MCO_LAYER_MARK(%d);\n", k);
    switch (op->kind) {
    case MCO_OP_CONV2D_S8:
    case MCO_OP_DEPTHWISE_CONV2D_S8:
    case MCO_OP_FULLY_CONNECTED_S8:
        fprintf(f,
                "    status = %s(&ctx, &op%d_params, &op%d_quant, &op%d_input_dims, %s,\n"
                "        &op%d_filter_dims, op%d_weights, &op%d_bias_dims, op%d_bias, &op%d_output_dims, %s);\n",
                op->kind == MCO_OP_CONV2D_S8             ? "arm_convolve_wrapper_s8"
                : op->kind == MCO_OP_DEPTHWISE_CONV2D_S8 ? "arm_depthwise_conv_wrapper_s8"
                                                         : "arm_fully_connected_s8",
                k, k, k, in, k, k, k, k, k, out);
        break;
    case MCO_OP_MAX_POOL_S8:
    case MCO_OP_AVG_POOL_S8:
    case MCO_OP_GLOBAL_AVG_POOL_S8:
        fprintf(f, "    status = %s(&ctx, &op%d_params, &op%d_input_dims, %s, &op%d_filter_dims, &op%d_output_dims, %s);\n",
                op->kind == MCO_OP_MAX_POOL_S8 ? "arm_max_pool_s8" : "arm_avgpool_s8", k, k, in, k, k, out);
        break;
    case MCO_OP_ADD_S8: {
        const mco_add_s8_params *p = op->params;
        fprintf(f,
                "    status = arm_elementwise_add_s8(%s, %s, %ld, %ld, %ld, %ld, %ld, %ld, %ld,\n"
                "        %s, %ld, %ld, %ld, %ld, %ld, %ld);\n",
                in, in2, (long)p->input1_offset, (long)p->input1_multiplier, (long)p->input1_shift,
                (long)p->input2_offset, (long)p->input2_multiplier, (long)p->input2_shift, (long)p->left_shift, out,
                (long)p->output_offset, (long)p->output_multiplier, (long)p->output_shift, (long)p->act_min,
                (long)p->act_max, (long)p->size);
        break;
    }
    case MCO_OP_SOFTMAX_S8: {
        const mco_softmax_s8_params *p = op->params;
        fprintf(f, "    arm_softmax_s8(%s, %ld, %ld, %ld, %ld, %ld, %s);\n", in, (long)p->n_rows, (long)p->row_size,
                (long)p->input_multiplier, (long)p->input_left_shift, (long)p->diff_min, out);
        break;
    }
    case MCO_OP_CLAMP_S8: {   /* a ReLU nothing could absorb: TFLM runs its reference kernel (no CMSIS-NN one) */
        const mco_clamp_s8_params *p = op->params;
        fprintf(f,
                "    for (int32_t i = 0; i < %ld; i++)\n"
                "        %s[i] = (int8_t)(%s[i] < %ld ? %ld : %s[i] > %ld ? %ld : %s[i]);\n",
                (long)p->size, out, in, (long)p->act_min, (long)p->act_min, in, (long)p->act_max, (long)p->act_max,
                in);
        break;
    }
    default: break;
    }
    /* as mcuopt's model_run: a failed op ends the run, the last op's status is returned */
    if (op->kind != MCO_OP_SOFTMAX_S8 && op->kind != MCO_OP_CLAMP_S8 && k + 1 < m->ref.n_ops)
        fputs("    if (status != ARM_CMSIS_NN_SUCCESS) return (int)status;\n", f);
}

/* cmsis_model_scratch_bytes(dsp) of the host build: the largest scratch any
 * op's *_get_buffer_size asks for (the _dsp variants for DSP cores). */
static void emit_scratch_query(FILE *f, const models *m)
{
    fputs("#ifdef CMSIS_HOST\n"
          "int32_t cmsis_model_scratch_bytes(int dsp);\n"
          "int32_t cmsis_model_scratch_bytes(int dsp)\n{\n    int32_t most = 0, need = 0;\n    (void)dsp;\n",
          f);
    for (int k = 0; k < m->ref.n_ops; k++) {
        const char *fn = NULL;
        char args[160];
        switch (ref_op(m, k)->kind) {
        case MCO_OP_CONV2D_S8:
            fn = "arm_convolve_wrapper_s8_get_buffer_size";
            snprintf(args, sizeof args, "&op%d_params, &op%d_input_dims, &op%d_filter_dims, &op%d_output_dims", k, k, k, k);
            break;
        case MCO_OP_DEPTHWISE_CONV2D_S8:
            fn = "arm_depthwise_conv_wrapper_s8_get_buffer_size";
            snprintf(args, sizeof args, "&op%d_params, &op%d_input_dims, &op%d_filter_dims, &op%d_output_dims", k, k, k, k);
            break;
        case MCO_OP_FULLY_CONNECTED_S8:
            fn = "arm_fully_connected_s8_get_buffer_size";
            snprintf(args, sizeof args, "&op%d_filter_dims", k);
            break;
        case MCO_OP_AVG_POOL_S8:
        case MCO_OP_GLOBAL_AVG_POOL_S8:
            fn = "arm_avgpool_s8_get_buffer_size";
            snprintf(args, sizeof args, "op%d_output_dims.w, op%d_input_dims.c", k, k);
            break;
        default: break;
        }
        if (fn) fprintf(f, "    need = dsp ? %s_dsp(%s) : %s(%s);\n    if (need > most) most = need;\n", fn, args, fn, args);
    }
    fputs("    (void)need;\n    return most;\n}\n#endif\n", f);
}

static mco_status write_cmsis_model(const models *m, const char *dir, const char *model_path)
{
    char path[PATH_CAP];
    snprintf(path, sizeof path, "%s/cmsis", dir);
    if (mkdir(path, 0777) != 0 && errno != EEXIST) return mco_error(MCO_ERR_IO, "%s: %s", path, strerror(errno));
    size_t copied = 0, arena = mco_plan_emitted_arena(&m->ref, &copied);
    if (copied) return mco_error(MCO_ERR_UNSUPPORTED, "the model input or output cannot stay in the caller's buffer");

    snprintf(path, sizeof path, "%s/cmsis/model.h", dir);
    FILE *f = fopen(path, "w");
    if (!f) return mco_error(MCO_ERR_IO, "%s: %s", path, strerror(errno));
    fprintf(f,
            "/* model.h - generated by bench/vs_cmsis_nn from %s: the CMSIS-NN peer program,\n"
            " * with the interface of mcuopt's emitted model.h. */\n"
            "#ifndef MODEL_H\n#define MODEL_H\n#include <stdint.h>\n"
            "#define MODEL_INPUT_SIZE %ld\n#define MODEL_OUTPUT_SIZE %ld\n#define MODEL_ARENA_SIZE %zu\n"
            "typedef int8_t model_input_t;\ntypedef int8_t model_output_t;\n"
            "int model_run(const model_input_t *in, model_output_t *out);\n#endif\n",
            model_path, (long)m->ref.input_size, (long)m->ref.output_size, arena);
    if (fclose(f) != 0) return mco_error(MCO_ERR_IO, "%s: write error", path);

    snprintf(path, sizeof path, "%s/cmsis/model.c", dir);
    f = fopen(path, "w");
    if (!f) return mco_error(MCO_ERR_IO, "%s: %s", path, strerror(errno));
    fprintf(f,
            "/*\n * model.c - generated by bench/vs_cmsis_nn from %s: the model's layers as the\n"
            " * CMSIS-NN calls TFLite Micro makes, with mcuopt's int8 parameters. Benchmark\n"
            " * peer only: built from the CMSIS-NN tree, never part of mcuopt.\n */\n"
            "#include <stdint.h>\n\n#include \"arm_nnfunctions.h\"\n#include \"model.h\"\n\n"
            "#ifndef MCO_LAYER_MARK\n#define MCO_LAYER_MARK(k)\n#endif\n"
            "#ifndef CMSIS_SCRATCH_BYTES\n#include \"cmsis_scratch.h\"\n#endif\n\n",
            model_path);
    mco_status st = MCO_OK;
    for (int k = 0; k < m->ref.n_ops && st == MCO_OK; k++) st = emit_op_data(f, m, k);
    if (st != MCO_OK) {
        fclose(f);
        return st;
    }
    fputs("static union {\n    int32_t align;\n    int8_t bytes[MODEL_ARENA_SIZE > 0 ? MODEL_ARENA_SIZE : 1];\n} arena;\n"
          "static union {\n    int32_t align;\n    int8_t bytes[CMSIS_SCRATCH_BYTES > 0 ? CMSIS_SCRATCH_BYTES : 1];\n} scratch;\n\n",
          f);
    emit_scratch_query(f, m);
    fputs("\nint model_run(const model_input_t *in, model_output_t *out)\n{\n"
          "    const cmsis_nn_context ctx = {CMSIS_SCRATCH_BYTES > 0 ? scratch.bytes : 0, CMSIS_SCRATCH_BYTES};\n"
          "    arm_cmsis_nn_status status = ARM_CMSIS_NN_SUCCESS;\n"
          "    (void)ctx;\n    (void)arena;\n",
          f);
    for (int k = 0; k < m->ref.n_ops; k++) emit_op_call(f, m, k);
    fprintf(f, "    MCO_LAYER_MARK(%d);\n    return (int)status;\n}\n", m->ref.n_ops);
    if (fclose(f) != 0) return mco_error(MCO_ERR_IO, "%s: write error", path);

    snprintf(path, sizeof path, "%s/host_main.c", dir);
    f = fopen(path, "w");
    if (!f) return mco_error(MCO_ERR_IO, "%s: %s", path, strerror(errno));
    fputs("/* host_main.c - generated by bench/vs_cmsis_nn: runs the CMSIS-NN peer program on the host.\n"
          " *   host scratch        prints the scratch bytes for DSP cores and for the others\n"
          " *   host run IN OUT     model_run over every input of IN, outputs to OUT */\n"
          "#include <stdio.h>\n#include <string.h>\n#include \"model.h\"\n\n"
          "int32_t cmsis_model_scratch_bytes(int dsp);\n\n"
          "int main(int argc, char **argv)\n{\n"
          "    if (argc == 2 && strcmp(argv[1], \"scratch\") == 0) {\n"
          "        printf(\"%ld %ld\\n\", (long)cmsis_model_scratch_bytes(1), (long)cmsis_model_scratch_bytes(0));\n"
          "        return 0;\n    }\n"
          "    if (argc != 4 || strcmp(argv[1], \"run\") != 0) return 2;\n"
          "    if (cmsis_model_scratch_bytes(0) > CMSIS_SCRATCH_BYTES) return 3;\n"
          "    FILE *in = fopen(argv[2], \"rb\"), *out = fopen(argv[3], \"wb\");\n"
          "    if (!in || !out) return 4;\n"
          "    static model_input_t x[MODEL_INPUT_SIZE];\n    static model_output_t y[MODEL_OUTPUT_SIZE];\n"
          "    while (fread(x, 1, sizeof x, in) == sizeof x) {\n"
          "        if (model_run(x, y) != 0) return 5;\n"
          "        if (fwrite(y, 1, sizeof y, out) != sizeof y) return 6;\n    }\n"
          "    return fclose(out) == 0 ? 0 : 6;\n}\n",
          f);
    if (fclose(f) != 0) return mco_error(MCO_ERR_IO, "%s: write error", path);
    return MCO_OK;
}

static void random_raw(uint8_t *raw, size_t n, uint32_t seed)
{
    uint32_t s = seed * 2654435761u + 12345u;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        raw[i] = (uint8_t)(s >> 24);
    }
}

static int cmd_emit(int argc, char **argv)
{
    if (argc < 4 || argc > 6) {
        fprintf(stderr, "usage: vs_cmsis_nn emit MODEL.mcq DIR [N] [SEED]\n");
        return 2;
    }
    const char *dir = argv[3];
    int n = argc >= 5 ? atoi(argv[4]) : 2;
    uint32_t seed = argc >= 6 ? (uint32_t)strtoul(argv[5], NULL, 10) : 7u;
    if (n < 1 || n > 1000) {
        fprintf(stderr, "vs_cmsis_nn: N must be 1..1000\n");
        return 2;
    }
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "vs_cmsis_nn: %s: %s\n", dir, strerror(errno));
        return 2;
    }
    models m;
    mco_status st = models_load(argv[2], &m);
    if (st != MCO_OK) return fail(st);
    size_t raw_size = mco_shape_size(m.dm.model.input_shape);
    uint8_t *raw = malloc((size_t)n * raw_size), *inputs = malloc((size_t)n * m.plan.input_bytes);
    uint8_t *out = malloc((size_t)n * m.plan.output_bytes), *out_ref = malloc((size_t)n * m.ref.output_bytes);
    if (!raw || !inputs || !out || !out_ref) st = mco_error(MCO_ERR_NOMEM, "out of memory");
    if (st == MCO_OK) {
        random_raw(raw, (size_t)n * raw_size, seed);
        st = mco_deploy_predict_raw(&m.dm, &m.plan, raw, n, inputs, out);
    }
    if (st == MCO_OK) st = mco_deploy_predict_raw(&m.dm, &m.ref, raw, n, NULL, out_ref);
    /* the fusions are exact: the plain plan computes the same bytes */
    if (st == MCO_OK && memcmp(out, out_ref, (size_t)n * m.plan.output_bytes) != 0)
        st = mco_error(MCO_ERR_FORMAT, "mcuopt's plan and its unfused plan give different outputs on the host");
    if (st == MCO_OK) st = write_bytes(dir, "raw.bin", raw, (size_t)n * raw_size);
    if (st == MCO_OK) st = write_bytes(dir, "inputs.bin", inputs, (size_t)n * m.plan.input_bytes);
    if (st == MCO_OK) st = write_bytes(dir, "mcuopt_host.bin", out, (size_t)n * m.plan.output_bytes);
    if (st == MCO_OK) st = write_cmsis_model(&m, dir, argv[2]);
    free(raw);
    free(inputs);
    free(out);
    free(out_ref);
    models_free(&m);
    return st == MCO_OK ? 0 : fail(st);
}

/* ---- subcommand measure ------------------------------------------------------------ */

/* A profile name or file, or class:NAME for the resource model's profiles. */
static mco_status load_target(const char *name, mco_target_profile *t)
{
    if (strncmp(name, "class:", 6) == 0) return mco_cost_class_profile(name + 6, t);
    return mco_target_load(bench_context(), name, t);
}

/* What a group of layers is, for the per-kind table: named from the first
 * layer of mcuopt's op (e.g. "conv 3x3/s2", "conv 10x4/s2, 1 in-ch",
 * "depthwise 3x3", "conv 5x5 + max pool", "dense"). */
static void group_kind(const mco_model *model, int first, int last, char *buf, size_t cap)
{
    const mco_layer *L = &model->layers[first];
    char stride[16] = "";
    if (L->stride_h > 1 || L->stride_w > 1) {
        if (L->stride_h == L->stride_w) snprintf(stride, sizeof stride, "/s%d", L->stride_h);
        else snprintf(stride, sizeof stride, "/s%dx%d", L->stride_h, L->stride_w);
    }
    int pooled = 0;
    for (int i = first + 1; i <= last; i++) pooled |= model->layers[i].type == MCO_LAYER_MAXPOOL2D;
    switch (L->type) {
    case MCO_LAYER_CONV2D:
        if (L->in_shape.c <= 3)
            snprintf(buf, cap, "conv %dx%d%s, %d in-ch%s", L->kernel_h, L->kernel_w, stride, L->in_shape.c,
                     pooled ? " + max pool" : "");
        else
            snprintf(buf, cap, "conv %dx%d%s%s", L->kernel_h, L->kernel_w, stride, pooled ? " + max pool" : "");
        break;
    case MCO_LAYER_DEPTHWISE_CONV2D: snprintf(buf, cap, "depthwise %dx%d%s", L->kernel_h, L->kernel_w, stride); break;
    case MCO_LAYER_DENSE: snprintf(buf, cap, "dense"); break;
    case MCO_LAYER_MAXPOOL2D: snprintf(buf, cap, "max pool"); break;
    case MCO_LAYER_AVGPOOL2D: snprintf(buf, cap, "average pool"); break;
    case MCO_LAYER_GLOBAL_AVGPOOL: snprintf(buf, cap, "global average pool"); break;
    default: snprintf(buf, cap, "%s", mco_layer_type_name(L->type)); break;
    }
}

static cJSON *side_json(const mco_measure_result *r, const mco_measure_result *production, size_t params)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "bit_exact", r->n_mismatch == 0 && production->n_mismatch == 0);
    cJSON_AddNumberToObject(o, "instructions", r->insns_mean);
    cJSON_AddNumberToObject(o, "instructions_without_marks", production->insns_mean);
    cJSON_AddNumberToObject(o, "cycles", r->cycles_est);
    cJSON_AddNumberToObject(o, "overhead_instructions", r->overhead_insns);
    cJSON_AddNumberToObject(o, "overhead_cycles", r->overhead_cycles_est);
    cJSON_AddNumberToObject(o, "flash", (double)r->flash_bytes);
    cJSON_AddNumberToObject(o, "params", (double)params);
    cJSON_AddNumberToObject(o, "static_ram", (double)r->static_ram_bytes);
    cJSON_AddNumberToObject(o, "stack", (double)r->stack_bytes);
    cJSON_AddNumberToObject(o, "ram", (double)r->ram_bytes);
    return o;
}

/* The groups: each of mcuopt's ops with the peer ops that run its layers. */
static mco_status groups_json(const models *m, const mco_measure_result *rm, const mco_measure_result *rc,
                              cJSON *groups)
{
    const mco_model *model = &m->dm.model;
    if (rm->n_layers != m->plan.n_ops || rc->n_layers != m->ref.n_ops)
        return mco_error(MCO_ERR_FORMAT, "per-op counts missing (%d of %d mcuopt ops, %d of %d CMSIS-NN ops)",
                         rm->n_layers, m->plan.n_ops, rc->n_layers, m->ref.n_ops);
    int assigned = 0;
    for (int k = 0; k < m->plan.n_ops; k++) {
        int first = m->plan.info[k].first_layer, last = m->plan.info[k].last_layer;
        char kind[64], span[2 * MCO_NAME_MAX + 8], kernels[256] = "";
        group_kind(model, first, last, kind, sizeof kind);
        if (last > first) snprintf(span, sizeof span, "%s .. %s", model->layers[first].name, model->layers[last].name);
        else snprintf(span, sizeof span, "%s", model->layers[first].name);
        double c_insns = 0, c_cycles = 0;
        for (int j = 0; j < m->ref.n_ops; j++) {
            int fl = m->ref.info[j].first_layer;
            if (fl < first || fl > last) continue;
            c_insns += rc->layers[j].insns;
            c_cycles += rc->layers[j].cycles_est;
            size_t len = strlen(kernels);
            snprintf(kernels + len, sizeof kernels - len, "%s%s", len ? "+" : "", mco_op_kind_name((int)ref_op(m, j)->kind));
            assigned++;
        }
        cJSON *g = cJSON_CreateObject();
        cJSON_AddStringToObject(g, "layers", span);
        cJSON_AddStringToObject(g, "kind", kind);
        cJSON_AddNumberToObject(g, "macs", (double)rm->layers[k].macs);
        cJSON_AddStringToObject(g, "mcuopt_kernel", mco_op_kind_name((int)((const mco_op *)m->plan.ops)[k].kind));
        cJSON_AddStringToObject(g, "cmsis_ops", kernels);
        cJSON_AddNumberToObject(g, "mcuopt_instructions", rm->layers[k].insns);
        cJSON_AddNumberToObject(g, "mcuopt_cycles", rm->layers[k].cycles_est);
        cJSON_AddNumberToObject(g, "cmsis_instructions", c_insns);
        cJSON_AddNumberToObject(g, "cmsis_cycles", c_cycles);
        cJSON_AddItemToArray(groups, g);
    }
    if (assigned != m->ref.n_ops)
        return mco_error(MCO_ERR_FORMAT, "%d of the %d CMSIS-NN ops fall outside mcuopt's ops", m->ref.n_ops - assigned,
                         m->ref.n_ops);
    return MCO_OK;
}

static int cmd_measure(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: vs_cmsis_nn measure MODEL.mcq DIR TARGET CMSIS_NN_DIR SCRATCH_BYTES\n");
        return 2;
    }
    const char *model_path = argv[2], *dir = argv[3], *cmsis_dir = argv[5];
    long scratch = strtol(argv[6], NULL, 10);
    mco_target_profile t;
    mco_status st = load_target(argv[4], &t);
    if (st != MCO_OK) return fail(st);
    models m;
    if ((st = models_load(model_path, &m)) != MCO_OK) return fail(st);
    char *sources[N_CMSIS_SOURCES + 1] = {0};
    char include[PATH_CAP], code_dir[PATH_CAP], work_dir[PATH_CAP], model_dir[PATH_CAP];
    snprintf(include, sizeof include, "%s/Include", cmsis_dir);
    snprintf(code_dir, sizeof code_dir, "%s/mcuopt-%s", dir, t.name);
    snprintf(work_dir, sizeof work_dir, "%s/cmsis-%s", dir, t.name);
    snprintf(model_dir, sizeof model_dir, "%s/cmsis", dir);
    st = cmsis_source_paths(cmsis_dir, sources);

    /* the samples, inputs and host outputs `emit` and the host build wrote */
    size_t raw_size = mco_shape_size(m.dm.model.input_shape);
    long raw_bytes = file_size(dir, "raw.bin");
    int n = raw_bytes > 0 ? (int)(raw_bytes / (long)raw_size) : 0;
    uint8_t *raw = NULL, *inputs = NULL, *host_m = NULL, *host_c = NULL;
    if (st == MCO_OK && (n < 1 || (size_t)raw_bytes != (size_t)n * raw_size))
        st = mco_error(MCO_ERR_FORMAT, "%s/raw.bin: not a whole number of samples (run `emit` first)", dir);
    if (st == MCO_OK) st = read_bytes(dir, "raw.bin", (size_t)n * raw_size, &raw);
    if (st == MCO_OK) st = read_bytes(dir, "inputs.bin", (size_t)n * m.plan.input_bytes, &inputs);
    if (st == MCO_OK) st = read_bytes(dir, "mcuopt_host.bin", (size_t)n * m.plan.output_bytes, &host_m);
    if (st == MCO_OK) st = read_bytes(dir, "cmsis_host.bin", (size_t)n * m.ref.output_bytes, &host_c);
    if (st == MCO_OK && (scratch < 0 || scratch > (1L << 24)))
        st = mco_error(MCO_ERR_ARG, "SCRATCH_BYTES %s: want 0 .. 16 MB", argv[6]);
    if (st == MCO_OK) {
        char text[96];
        snprintf(text, sizeof text, "#define CMSIS_SCRATCH_BYTES %ld\n", scratch);
        st = write_bytes(model_dir, "cmsis_scratch.h", text, strlen(text));
    }

    /* mcuopt: plan, emit and measure as `mcuopt measure` does */
    mco_measure_result *rm = calloc(1, sizeof *rm), *rc = calloc(1, sizeof *rc);
    if (st == MCO_OK && (!rm || !rc)) st = mco_error(MCO_ERR_NOMEM, "out of memory");
    if (st == MCO_OK) {
        mco_dataset samples = {.n = n, .shape = m.dm.model.input_shape, .n_classes = m.dm.model.n_classes,
                               .samples_u8 = raw, .labels = NULL};
        uint8_t *labels = calloc((size_t)n, 1);
        samples.labels = labels;
        mco_measure_options mo;
        mco_measure_options_default(&mo);
        mo.ctx = bench_context();
        mo.n_samples = n;
        mo.code_dir = code_dir;
        st = labels ? mco_measure_deploy_model(&m.dm, &t, &samples, &mo, rm) : mco_error(MCO_ERR_NOMEM, "out of memory");
        free(labels);
    }
    /* CMSIS-NN: the peer program, same harness, same flags */
    const char *includes[] = {include, NULL};
    mco_measure_request req;
    memset(&req, 0, sizeof req);
    req.ctx = bench_context();
    req.model_dir = model_dir;
    req.n_inputs = n;
    req.inputs = inputs;
    req.input_bytes = m.ref.input_bytes;
    req.expected = host_c;
    req.output_bytes = m.ref.output_bytes;
    req.work_dir = work_dir;
    req.extra_sources = (const char *const *)sources;
    req.extra_include_dirs = includes;
    if (st == MCO_OK) st = mco_target_measure(&t, &req, rc);
    /* Both again as production builds, without the layer marks: the totals
     * the marks may have disturbed (a literal pool moved, see
     * firmware/mco_layer_mark.h) are reported beside the marked ones. */
    mco_measure_result *pm = calloc(1, sizeof *pm), *pc = calloc(1, sizeof *pc);
    if (st == MCO_OK && (!pm || !pc)) st = mco_error(MCO_ERR_NOMEM, "out of memory");
    req.no_layer_marks = 1;
    snprintf(work_dir, sizeof work_dir, "%s/cmsis-%s-production", dir, t.name);
    if (st == MCO_OK) st = mco_target_measure(&t, &req, pc);
    if (st == MCO_OK) {
        snprintf(work_dir, sizeof work_dir, "%s/mcuopt-%s-production", dir, t.name);
        req.model_dir = code_dir;
        req.input_bytes = m.plan.input_bytes;
        req.expected = host_m;
        req.output_bytes = m.plan.output_bytes;
        req.extra_sources = NULL;
        req.extra_include_dirs = NULL;
        st = mco_target_measure(&t, &req, pm);
    }
    int host_differ = 0, max_diff = 0;
    for (int i = 0; st == MCO_OK && i < n; i++) {
        const int8_t *a = (const int8_t *)host_m + (size_t)i * m.plan.output_bytes;
        const int8_t *b = (const int8_t *)host_c + (size_t)i * m.plan.output_bytes;
        int differ = 0;
        for (size_t j = 0; j < m.plan.output_bytes; j++) {
            int d = abs((int)a[j] - (int)b[j]);
            if (d) differ = 1;
            if (d > max_diff) max_diff = d;
        }
        host_differ += differ;
    }
    cJSON *o = NULL;
    if (st == MCO_OK) {
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "model", model_path);
        cJSON_AddStringToObject(o, "arch", m.dm.model.arch_name);
        cJSON_AddStringToObject(o, "target", t.name);
        cJSON_AddStringToObject(o, "core", t.core_name);
        cJSON_AddStringToObject(o, "qemu_machine", rm->qemu_machine);
        cJSON_AddNumberToObject(o, "inputs", n);
        cJSON_AddNumberToObject(o, "macs", (double)mco_model_macs(&m.dm.model));
        cJSON_AddNumberToObject(o, "cmsis_scratch", (double)scratch);
        cJSON_AddNumberToObject(o, "host_outputs_differing", host_differ);
        cJSON_AddNumberToObject(o, "host_outputs_max_difference", max_diff);
        cJSON_AddItemToObject(o, "mcuopt", side_json(rm, pm, m.plan.param_bytes));
        cJSON_AddItemToObject(o, "cmsis", side_json(rc, pc, m.ref.param_bytes));
        cJSON *groups = cJSON_AddArrayToObject(o, "groups");
        st = groups_json(&m, rm, rc, groups);
        cJSON_AddStringToObject(o, "note", rm->note);
    }
    if (st == MCO_OK) {
        char *text = cJSON_Print(o);
        if (text) puts(text);
        free(text);
    }
    cJSON_Delete(o);
    for (size_t i = 0; i < N_CMSIS_SOURCES; i++) free(sources[i]);
    free(raw);
    free(inputs);
    free(host_m);
    free(host_c);
    free(rm);
    free(rc);
    free(pm);
    free(pc);
    models_free(&m);
    return st == MCO_OK ? 0 : fail(st);
}

/* ---- subcommand report ---------------------------------------------------------------- */

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "?";
}

static const cJSON *side(const cJSON *o, const char *name) { return cJSON_GetObjectItemCaseSensitive(o, name); }

/* The architecture's name without a ".arch" file suffix. */
static const char *arch_name(const cJSON *o, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", str(o, "arch"));
    size_t len = strlen(buf);
    if (len > 5 && strcmp(buf + len - 5, ".arch") == 0) buf[len - 5] = '\0';
    return buf;
}

static int bit_exact(const cJSON *o)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(side(o, "mcuopt"), "bit_exact")) &&
           cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(side(o, "cmsis"), "bit_exact"));
}

static void print_summary(cJSON *const *res, int n)
{
    printf("| model (MACs) | core | mcuopt cycles | CMSIS-NN cycles | ratio | cycles/MAC mcuopt / CMSIS-NN | "
           "Flash mcuopt / CMSIS-NN (B) | RAM mcuopt / CMSIS-NN (B) | bit-exact | marks' cost (instructions) |\n"
           "|---|---|---|---|---|---|---|---|---|---|\n");
    for (int i = 0; i < n; i++) {
        const cJSON *o = res[i], *a = side(o, "mcuopt"), *b = side(o, "cmsis");
        double macs = num(o, "macs");
        char name[80];
        printf("| %s (%.2f M) | %s | %.0f | %.0f | %.2f | %.2f / %.2f | %.0f / %.0f (%.2f) | %.0f / %.0f (%.2f) | %s%s "
               "| %+.0f / %+.0f |\n",
               arch_name(o, name, sizeof name), macs / 1e6, str(o, "core"), num(a, "cycles"), num(b, "cycles"),
               num(a, "cycles") / num(b, "cycles"), num(a, "cycles") / macs, num(b, "cycles") / macs, num(a, "flash"),
               num(b, "flash"), num(a, "flash") / num(b, "flash"), num(a, "ram"), num(b, "ram"),
               num(a, "ram") / num(b, "ram"), bit_exact(o) ? "yes" : "NO",
               num(o, "host_outputs_differing") > 0 ? " (hosts differ)" : ", both hosts equal",
               num(a, "instructions") - num(a, "instructions_without_marks"),
               num(b, "instructions") - num(b, "instructions_without_marks"));
    }
}

/* Per model and core: the layer kinds, summed over the model's layers of that kind. */
static void print_kinds(const cJSON *o)
{
    enum { MAX_KINDS = 64 };
    struct {
        const char *kind;
        int count;
        double macs, m_cycles, c_cycles;
    } rows[MAX_KINDS];
    int n_rows = 0;
    const cJSON *g;
    cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(o, "groups"))
    {
        const char *kind = str(g, "kind");
        int r = 0;
        while (r < n_rows && strcmp(rows[r].kind, kind) != 0) r++;
        if (r == n_rows) {
            if (n_rows == MAX_KINDS) continue;
            rows[n_rows].kind = kind;
            rows[n_rows].count = 0;
            rows[n_rows].macs = rows[n_rows].m_cycles = rows[n_rows].c_cycles = 0;
            n_rows++;
        }
        rows[r].count++;
        rows[r].macs += num(g, "macs");
        rows[r].m_cycles += num(g, "mcuopt_cycles");
        rows[r].c_cycles += num(g, "cmsis_cycles");
    }
    const cJSON *a = side(o, "mcuopt"), *b = side(o, "cmsis");
    char name[80];
    printf("\n%s on %s (%s):\n\n| layer kind | layers | MACs | mcuopt cycles | cycles/MAC | CMSIS-NN cycles | "
           "cycles/MAC | ratio | share of mcuopt |\n|---|---|---|---|---|---|---|---|---|\n",
           arch_name(o, name, sizeof name), str(o, "core"), str(o, "qemu_machine"));
    for (int r = 0; r < n_rows; r++) {
        char m_per[16] = "-", c_per[16] = "-";
        if (rows[r].macs > 0) {
            snprintf(m_per, sizeof m_per, "%.2f", rows[r].m_cycles / rows[r].macs);
            snprintf(c_per, sizeof c_per, "%.2f", rows[r].c_cycles / rows[r].macs);
        }
        printf("| %s | %d | %.0f | %.0f | %s | %.0f | %s | %.2f | %.1f %% |\n", rows[r].kind, rows[r].count,
               rows[r].macs, rows[r].m_cycles, m_per, rows[r].c_cycles, c_per, rows[r].m_cycles / rows[r].c_cycles,
               100 * rows[r].m_cycles / num(a, "cycles"));
    }
    printf("| overhead (harness call, model_run entry/exit) | | | %.0f | | %.0f | | | %.1f %% |\n",
           num(a, "overhead_cycles"), num(b, "overhead_cycles"), 100 * num(a, "overhead_cycles") / num(a, "cycles"));
    printf("| **total** | | %.0f | %.0f | %.2f | %.0f | %.2f | %.2f | |\n", num(o, "macs"), num(a, "cycles"),
           num(a, "cycles") / num(o, "macs"), num(b, "cycles"), num(b, "cycles") / num(o, "macs"),
           num(a, "cycles") / num(b, "cycles"));
    printf("\nInstructions per inference (exact): mcuopt %.0f, CMSIS-NN %.0f; built without the layer marks: "
           "%.0f and %.0f.\n",
           num(a, "instructions"), num(b, "instructions"), num(a, "instructions_without_marks"),
           num(b, "instructions_without_marks"));
    printf("Flash: mcuopt %.0f B (parameter arrays %.0f), CMSIS-NN %.0f B (%.0f). RAM: mcuopt %.0f B (static "
           "%.0f + stack %.0f), CMSIS-NN %.0f B (static %.0f, of which scratch %.0f, + stack %.0f).\n",
           num(a, "flash"), num(a, "params"), num(b, "flash"), num(b, "params"), num(a, "ram"), num(a, "static_ram"),
           num(a, "stack"), num(b, "ram"), num(b, "static_ram"), num(o, "cmsis_scratch"), num(b, "stack"));
}

static int cmd_report(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: vs_cmsis_nn report RESULT.json...\n");
        return 2;
    }
    int n = argc - 2, status = 0;
    cJSON **res = calloc((size_t)n, sizeof *res);
    for (int i = 0; res && i < n; i++) {
        FILE *f = fopen(argv[i + 2], "rb");
        char *text = NULL;
        size_t len = 0;
        if (f) {
            fseek(f, 0, SEEK_END);
            long size = ftell(f);
            fseek(f, 0, SEEK_SET);
            text = size > 0 ? malloc((size_t)size + 1) : NULL;
            if (text) len = fread(text, 1, (size_t)size, f);
            fclose(f);
        }
        if (text) text[len] = '\0';
        res[i] = text ? cJSON_Parse(text) : NULL;
        free(text);
        if (!res[i] || !side(res[i], "mcuopt") || !side(res[i], "cmsis")) {
            fprintf(stderr, "vs_cmsis_nn: %s: not a `measure` result\n", argv[i + 2]);
            status = 2;
        }
    }
    if (res && status == 0) {
        print_summary(res, n);
        for (int i = 0; i < n; i++) print_kinds(res[i]);
    }
    for (int i = 0; res && i < n; i++) cJSON_Delete(res[i]);
    free(res);
    return res ? status : 2;
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "";
    if (!strcmp(cmd, "model")) return cmd_model(argc, argv);
    if (!strcmp(cmd, "sources")) return cmd_sources(argc, argv);
    if (!strcmp(cmd, "emit")) return cmd_emit(argc, argv);
    if (!strcmp(cmd, "measure")) return cmd_measure(argc, argv);
    if (!strcmp(cmd, "report")) return cmd_report(argc, argv);
    fprintf(stderr, "usage: vs_cmsis_nn model|sources|emit|measure|report ... (see bench/vs_cmsis_nn.c)\n");
    return 2;
}
