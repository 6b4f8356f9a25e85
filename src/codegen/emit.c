/*
 * emit.c - mco_emit_c(): writes a plan out as C99 for the MCU.
 *
 *   model.h          MODEL_INPUT_SIZE / MODEL_OUTPUT_SIZE (elements), the
 *                    input and output types and int8 quantization, the
 *                    arena size, and `int model_run(in, out)`
 *   model.c          the const weight / bias / multiplier / shift / scale
 *                    arrays with the plan's exact values, one static const
 *                    parameter struct per op, the static arena, and
 *                    model_run(): one direct kernel call per op, with the
 *                    arguments its kind's descriptor gives (op_desc.h: the
 *                    same call the host evaluator makes). The first op reads the caller's
 *                    `in` and the last writes the caller's `out` directly
 *                    (no copies, and the arena holds neither: it is only as
 *                    large as the other tensors need, at the plan's offsets).
 *                    Before each call (and after the last) an
 *                    MCO_LAYER_MARK(k), empty unless the measurement build
 *                    defines it (firmware/mco_layer_mark.h: per-layer counts)
 *                    An input or output of another type than the model's
 *                    (mco_emit_options.input_type / output_type) is
 *                    converted into / out of the arena by runtime/mco_io.c,
 *                    with the static table or parameters it needs
 *   runtime files    the kernel files the ops call, with their headers
 *                    (emit_runtime.c picks them; no dispatcher)
 *
 * Floats are printed with 9 significant digits ("%.9g"), which reads back
 * as the identical float, so model.c computes bit for bit what the host
 * plan computes. The directory is written under a temporary name and put in
 * place only when every file is written (mcuopt/file_io.h), so a failure (a
 * full disk) leaves nothing. Before that, emit_measure.c compiles it with
 * arm-none-eabi-gcc (when present) to report Flash and RAM.
 *
 * What it leaves out: placing the arena or weights in named linker
 * sections, and multiple models in one program (the names are fixed).
 */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emit_internal.h"
#include "mcuopt/codegen.h"
#include "op_desc.h"

void mco_emit_options_default(mco_emit_options *opt)
{
    opt->ctx = NULL;
    opt->cpu = "cortex-m4";
    opt->measure = 1;
    opt->name = NULL;
    opt->measured_stack_bytes = 0;
    opt->input_type = MCO_IO_MODEL;
    opt->output_type = MCO_IO_MODEL;
    opt->example = MCO_EXAMPLE_SEMIHOST;
    opt->example_inputs = 1;
}

mco_status mco_emit_example_parse(const char *name, mco_emit_example *out)
{
    if (name && strcmp(name, "semihost") == 0) *out = MCO_EXAMPLE_SEMIHOST;
    else if (name && strcmp(name, "uart") == 0) *out = MCO_EXAMPLE_UART;
    else return mco_error(MCO_ERR_ARG, "the example's I/O must be semihost or uart, not '%s'", name ? name : "");
    return MCO_OK;
}

/* ---- output files --------------------------------------------------------- */

mco_status mco_emit_open(mco_emit_file *out, const char *dir, const char *name)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return mco_output_open(out, path);
}

mco_status mco_emit_close(mco_emit_file *out, mco_emit_result *res, const char *name)
{
    mco_status st = mco_output_commit(out);
    if (st != MCO_OK) return st;
    if (res && res->n_files < MCO_EMIT_MAX_FILES)
        snprintf(res->files[res->n_files++], MCO_EMIT_NAME_MAX, "%s", name);
    return MCO_OK;
}

/* ---- numbers ---------------------------------------------------------------- */

/* A float as a C float constant that reads back as the same float. */
const char *mco_emit_float_literal(float v, char buf[40])
{
    snprintf(buf, 40, "%.9g", (double)v);
    if (!strpbrk(buf, ".e")) strcat(buf, ".0");
    strcat(buf, "f");
    return buf;
}

/* An int32 as a C constant (INT32_MIN has no literal of its own). */
static const char *int_literal(int32_t v, char buf[40])
{
    if (v == INT32_MIN) snprintf(buf, 40, "(-2147483647 - 1)");
    else snprintf(buf, 40, "%" PRId32, v);
    return buf;
}

static const char *data_ctype(mco_data_type t)
{
    switch (t) {
    case MCO_DATA_F32: return "float";
    case MCO_DATA_U16: return "uint16_t";
    case MCO_DATA_S8: return "int8_t";
    case MCO_DATA_U8: return "uint8_t";
    case MCO_DATA_S32: return "int32_t";
    default: return "void";
    }
}

static size_t data_size(mco_data_type t)
{
    switch (t) {
    case MCO_DATA_F32:
    case MCO_DATA_S32: return 4;
    case MCO_DATA_U16: return 2;
    case MCO_DATA_S8:
    case MCO_DATA_U8: return 1;
    default: return 0;
    }
}

/* `static const <type> <name>[count] = {...};`; returns its bytes, or fails on a non-finite float. */
mco_status mco_emit_array(FILE *f, const char *name, mco_data_type type, const void *data, size_t count,
                          size_t *bytes)
{
    char lit[40];
    int per_line = type == MCO_DATA_F32 ? 6 : 16;
    fprintf(f, "static const %s %s[%zu] = {", data_ctype(type), name, count);
    for (size_t i = 0; i < count; i++) {
        fputs(i % (size_t)per_line == 0 ? "\n    " : " ", f);
        switch (type) {
        case MCO_DATA_F32: {
            float v = ((const float *)data)[i];
            if (!isfinite(v)) return mco_error(MCO_ERR_RANGE, "%s[%zu] is not a finite number", name, i);
            fputs(mco_emit_float_literal(v, lit), f);
            break;
        }
        case MCO_DATA_U16: fprintf(f, "%u", (unsigned)((const uint16_t *)data)[i]); break;
        case MCO_DATA_S8: fprintf(f, "%d", (int)((const int8_t *)data)[i]); break;
        case MCO_DATA_U8: fprintf(f, "%u", (unsigned)((const uint8_t *)data)[i]); break;
        case MCO_DATA_S32: fputs(int_literal(((const int32_t *)data)[i], lit), f); break;
        default: break;
        }
        if (i + 1 < count) fputc(',', f);
    }
    fputs("\n};\n", f);
    *bytes += count * data_size(type);
    return MCO_OK;
}

static void emit_window(FILE *f, const mco_window *w)
{
    fprintf(f,
            "{ .in_h = %d, .in_w = %d, .in_c = %d, .out_h = %d, .out_w = %d, .out_c = %d,\n"
            "               .kernel_h = %d, .kernel_w = %d, .stride_h = %d, .stride_w = %d,\n"
            "               .pad_top = %d, .pad_left = %d }",
            (int)w->in_h, (int)w->in_w, (int)w->in_c, (int)w->out_h, (int)w->out_w, (int)w->out_c,
            (int)w->kernel_h, (int)w->kernel_w, (int)w->stride_h, (int)w->stride_w, (int)w->pad_top,
            (int)w->pad_left);
}

/* ---- one op ------------------------------------------------------------------ */

/* Arrays and the parameter struct of op k, named op<k>_*. */
static mco_status emit_op_data(FILE *f, const mco_plan *plan, int k, size_t *weight_bytes)
{
    const mco_op *op = &((const mco_op *)plan->ops)[k];
    const mco_plan_op_info *info = &plan->info[k];
    char name[64], a[40], b[40];
    mco_status st = MCO_OK;
    size_t nc = (size_t)info->n_channels;
    if (op->weights) {
        snprintf(name, sizeof name, "op%d_weights", k);
        if ((st = mco_emit_array(f, name, info->weights_type, op->weights, info->weights_count, weight_bytes)) != MCO_OK)
            return st;
    }
    if (op->bias) {
        snprintf(name, sizeof name, "op%d_bias", k);
        if ((st = mco_emit_array(f, name, info->bias_type, op->bias, info->bias_count, weight_bytes)) != MCO_OK)
            return st;
    }
    switch (info->params_type) {
    case MCO_PARAMS_CONV_S8: {
        const mco_conv_s8_params *p = op->params;
        char mult[64] = "0", shift[64] = "0";   /* no arrays: folded into prepared words (conv3x3) */
        if (p->multiplier) {
            snprintf(name, sizeof name, "op%d_multiplier", k);
            if ((st = mco_emit_array(f, name, MCO_DATA_S32, p->multiplier, nc, weight_bytes)) != MCO_OK) return st;
            snprintf(mult, sizeof mult, "%s", name);
            snprintf(name, sizeof name, "op%d_shift", k);
            if ((st = mco_emit_array(f, name, MCO_DATA_S32, p->shift, nc, weight_bytes)) != MCO_OK) return st;
            snprintf(shift, sizeof shift, "%s", name);
        }
        fprintf(f, "static const mco_conv_s8_params op%d_params = {\n    .win = ", k);
        emit_window(f, &p->win);
        fprintf(f,
                ",\n    .input_offset = %s, .output_offset = %d, .act_min = %d, .act_max = %d,\n"
                "    .multiplier = %s, .shift = %s\n};\n",
                int_literal(p->input_offset, a), (int)p->output_offset, (int)p->act_min, (int)p->act_max, mult,
                shift);
        break;
    }
    case MCO_PARAMS_FC_S8: {
        const mco_fc_s8_params *p = op->params;
        size_t n_scales = p->per_tensor ? 1 : nc;
        snprintf(name, sizeof name, "op%d_multiplier", k);
        if ((st = mco_emit_array(f, name, MCO_DATA_S32, p->multiplier, n_scales, weight_bytes)) != MCO_OK) return st;
        snprintf(name, sizeof name, "op%d_shift", k);
        if ((st = mco_emit_array(f, name, MCO_DATA_S32, p->shift, n_scales, weight_bytes)) != MCO_OK) return st;
        fprintf(f,
                "static const mco_fc_s8_params op%d_params = {\n"
                "    .in_size = %d, .out_size = %d, .input_offset = %d, .output_offset = %d,\n"
                "    .act_min = %d, .act_max = %d, .multiplier = op%d_multiplier, .shift = op%d_shift,\n"
                "    .per_tensor = %d\n};\n",
                k, (int)p->in_size, (int)p->out_size, (int)p->input_offset, (int)p->output_offset, (int)p->act_min,
                (int)p->act_max, k, k, (int)p->per_tensor);
        break;
    }
    case MCO_PARAMS_CONV_S8W_F32: {
        const mco_conv_s8w_f32_params *p = op->params;
        snprintf(name, sizeof name, "op%d_scales", k);
        if ((st = mco_emit_array(f, name, MCO_DATA_F32, p->weight_scales, nc, weight_bytes)) != MCO_OK) return st;
        fprintf(f, "static const mco_conv_s8w_f32_params op%d_params = {\n    .win = ", k);
        emit_window(f, &p->win);
        fprintf(f, ",\n    .act_min = %s, .act_max = %s, .weight_scales = op%d_scales\n};\n",
                mco_emit_float_literal(p->act_min, a), mco_emit_float_literal(p->act_max, b), k);
        break;
    }
    case MCO_PARAMS_FC_S8W_F32: {
        const mco_fc_s8w_f32_params *p = op->params;
        snprintf(name, sizeof name, "op%d_scales", k);
        if ((st = mco_emit_array(f, name, MCO_DATA_F32, p->weight_scales, nc, weight_bytes)) != MCO_OK) return st;
        fprintf(f,
                "static const mco_fc_s8w_f32_params op%d_params = {\n"
                "    .in_size = %d, .out_size = %d, .act_min = %s, .act_max = %s, .weight_scales = op%d_scales\n};\n",
                k, (int)p->in_size, (int)p->out_size, mco_emit_float_literal(p->act_min, a), mco_emit_float_literal(p->act_max, b), k);
        break;
    }
    case MCO_PARAMS_CONV_F32: {
        const mco_conv_f32_params *p = op->params;
        fprintf(f, "static const mco_conv_f32_params op%d_params = {\n    .win = ", k);
        emit_window(f, &p->win);
        fprintf(f, ",\n    .act_min = %s, .act_max = %s\n};\n", mco_emit_float_literal(p->act_min, a),
                mco_emit_float_literal(p->act_max, b));
        break;
    }
    case MCO_PARAMS_FC_F32: {
        const mco_fc_f32_params *p = op->params;
        fprintf(f, "static const mco_fc_f32_params op%d_params = {\n    .in_size = %d, .out_size = %d, .act_min = %s, .act_max = %s\n};\n",
                k, (int)p->in_size, (int)p->out_size, mco_emit_float_literal(p->act_min, a), mco_emit_float_literal(p->act_max, b));
        break;
    }
    case MCO_PARAMS_WINDOW:
        fprintf(f, "static const mco_window op%d_params = ", k);
        emit_window(f, op->params);
        fputs(";\n", f);
        break;
    case MCO_PARAMS_CLAMP_F32: {
        const mco_clamp_f32_params *p = op->params;
        fprintf(f, "static const mco_clamp_f32_params op%d_params = { .size = %d, .act_min = %s, .act_max = %s };\n",
                k, (int)p->size, mco_emit_float_literal(p->act_min, a), mco_emit_float_literal(p->act_max, b));
        break;
    }
    case MCO_PARAMS_CLAMP_S8: {
        const mco_clamp_s8_params *p = op->params;
        fprintf(f, "static const mco_clamp_s8_params op%d_params = { .size = %d, .act_min = %d, .act_max = %d };\n",
                k, (int)p->size, (int)p->act_min, (int)p->act_max);
        break;
    }
    case MCO_PARAMS_ACTIVATION_F32: {
        static const char *const functions[] = {"MCO_ACTIVATION_SIGMOID", "MCO_ACTIVATION_TANH",
                                                "MCO_ACTIVATION_LEAKY_RELU", "MCO_ACTIVATION_HARD_SIGMOID",
                                                "MCO_ACTIVATION_HARD_SWISH"};
        const mco_activation_f32_params *p = op->params;
        if (p->function < 0 || p->function > MCO_ACTIVATION_HARD_SWISH)
            return mco_error(MCO_ERR_ARG, "op %d: unknown activation function %d", k, (int)p->function);
        fprintf(f, "static const mco_activation_f32_params op%d_params = { .size = %d, .function = %s, "
                   ".alpha = %s, .beta = %s };\n",
                k, (int)p->size, functions[p->function], mco_emit_float_literal(p->alpha, a),
                mco_emit_float_literal(p->beta, b));
        break;
    }
    case MCO_PARAMS_LUT_S8: {
        const mco_lut_s8_params *p = op->params;
        fprintf(f, "static const mco_lut_s8_params op%d_params = { .size = %d };\n", k, (int)p->size);
        break;
    }
    case MCO_PARAMS_POOL_S8: {
        const mco_pool_s8_params *p = op->params;
        fprintf(f, "static const mco_pool_s8_params op%d_params = {\n    .win = ", k);
        emit_window(f, &p->win);
        fprintf(f, ",\n    .act_min = %d, .act_max = %d\n};\n", (int)p->act_min, (int)p->act_max);
        break;
    }
    case MCO_PARAMS_AVG_POOL_PAD_S8: {
        const mco_avg_pool_pad_s8_params *p = op->params;
        fprintf(f, "static const mco_avg_pool_pad_s8_params op%d_params = {\n    .win = ", k);
        emit_window(f, &p->win);
        fprintf(f, ",\n    .pad_value = %d, .act_min = %d, .act_max = %d\n};\n", (int)p->pad_value, (int)p->act_min,
                (int)p->act_max);
        break;
    }
    case MCO_PARAMS_CONV_GENERAL_F32:
    case MCO_PARAMS_CONV_GENERAL_S8: {
        int s8 = info->params_type == MCO_PARAMS_CONV_GENERAL_S8;
        const mco_conv_general *g = s8 ? &((const mco_conv_general_s8_params *)op->params)->conv
                                       : &((const mco_conv_general_f32_params *)op->params)->conv;
        if (s8) {
            const mco_conv_general_s8_params *p = op->params;
            snprintf(name, sizeof name, "op%d_multiplier", k);
            if ((st = mco_emit_array(f, name, MCO_DATA_S32, p->multiplier, nc, weight_bytes)) != MCO_OK) return st;
            snprintf(name, sizeof name, "op%d_shift", k);
            if ((st = mco_emit_array(f, name, MCO_DATA_S32, p->shift, nc, weight_bytes)) != MCO_OK) return st;
        }
        fprintf(f, "static const mco_conv_general_%s_params op%d_params = {\n    .conv = { .win = ", s8 ? "s8" : "f32", k);
        emit_window(f, &g->win);
        fprintf(f, ",\n        .dilation_h = %d, .dilation_w = %d, .groups = %d, .depthwise = %d },\n", (int)g->dilation_h,
                (int)g->dilation_w, (int)g->groups, (int)g->depthwise);
        if (s8) {
            const mco_conv_general_s8_params *p = op->params;
            fprintf(f,
                    "    .input_offset = %s, .output_offset = %d, .act_min = %d, .act_max = %d,\n"
                    "    .multiplier = op%d_multiplier, .shift = op%d_shift\n};\n",
                    int_literal(p->input_offset, a), (int)p->output_offset, (int)p->act_min, (int)p->act_max, k, k);
        } else {
            const mco_conv_general_f32_params *p = op->params;
            fprintf(f, "    .act_min = %s, .act_max = %s\n};\n", mco_emit_float_literal(p->act_min, a),
                    mco_emit_float_literal(p->act_max, b));
        }
        break;
    }
    case MCO_PARAMS_CONCAT_F32: {
        const mco_concat_f32_params *p = op->params;
        fprintf(f, "static const mco_concat_f32_params op%d_params = { .pixels = %d, .channels1 = %d, .channels2 = %d };\n",
                k, (int)p->pixels, (int)p->channels1, (int)p->channels2);
        break;
    }
    case MCO_PARAMS_CONCAT_S8: {
        const mco_concat_s8_params *p = op->params;
        fprintf(f,
                "static const mco_concat_s8_params op%d_params = {\n"
                "    .pixels = %d, .channels1 = %d, .channels2 = %d,\n"
                "    .input1_offset = %d, .input1_multiplier = %s, .input1_shift = %d,\n"
                "    .input2_offset = %d, .input2_multiplier = %s, .input2_shift = %d, .output_offset = %d\n};\n",
                k, (int)p->pixels, (int)p->channels1, (int)p->channels2, (int)p->input1_offset,
                int_literal(p->input1_multiplier, a), (int)p->input1_shift, (int)p->input2_offset,
                int_literal(p->input2_multiplier, b), (int)p->input2_shift, (int)p->output_offset);
        break;
    }
    case MCO_PARAMS_MEAN_S8: {
        const mco_mean_s8_params *p = op->params;
        fprintf(f, "static const mco_mean_s8_params op%d_params = {\n    .win = ", k);
        emit_window(f, &p->win);
        fprintf(f, ",\n    .input_offset = %d, .output_offset = %d, .multiplier = %s, .shift = %d,\n"
                   "    .act_min = %d, .act_max = %d\n};\n",
                (int)p->input_offset, (int)p->output_offset, int_literal(p->multiplier, a), (int)p->shift,
                (int)p->act_min, (int)p->act_max);
        break;
    }
    case MCO_PARAMS_ADD_S8: {
        const mco_add_s8_params *p = op->params;
        fprintf(f,
                "static const mco_add_s8_params op%d_params = {\n"
                "    .size = %d, .input1_offset = %d, .input2_offset = %d,\n"
                "    .input1_multiplier = %s, .input1_shift = %d, .input2_multiplier = %s, .input2_shift = %d,\n"
                "    .left_shift = %d, .output_multiplier = %s, .output_shift = %d, .output_offset = %d,\n"
                "    .act_min = %d, .act_max = %d\n};\n",
                k, (int)p->size, (int)p->input1_offset, (int)p->input2_offset, int_literal(p->input1_multiplier, a),
                (int)p->input1_shift, int_literal(p->input2_multiplier, b), (int)p->input2_shift, (int)p->left_shift,
                int_literal(p->output_multiplier, name), (int)p->output_shift, (int)p->output_offset,
                (int)p->act_min, (int)p->act_max);
        break;
    }
    case MCO_PARAMS_SOFTMAX_S8: {
        const mco_softmax_s8_params *p = op->params;
        fprintf(f,
                "static const mco_softmax_s8_params op%d_params = {\n"
                "    .n_rows = %d, .row_size = %d, .input_multiplier = %s, .input_left_shift = %d, .diff_min = %s\n};\n",
                k, (int)p->n_rows, (int)p->row_size, int_literal(p->input_multiplier, a), (int)p->input_left_shift,
                int_literal(p->diff_min, b));
        break;
    }
    }
    return MCO_OK;
}

/* ---- model.c / model.h ---------------------------------------------------------- */

int mco_emit_kernel_headers(const mco_plan *plan, const char *headers[MCO_EMIT_MAX_HEADERS])
{
    int n = 0;
    headers[n++] = "mco_runtime.h";   /* the status codes and the common parameter structs */
    for (int k = 0; k < plan->n_ops; k++) {
        const char *h = mco_op_desc_of((int)plan->ops[k].kind)->header;
        int seen = 0;
        for (int i = 0; i < n; i++) seen |= strcmp(headers[i], h) == 0;
        if (!seen && n < MCO_EMIT_MAX_HEADERS) headers[n++] = h;
    }
    return n;
}

static void emit_header_comment(FILE *f, const char *file, const mco_deploy_model *dm)
{
    char desc[160];
    mco_deploy_describe(dm, desc, sizeof desc);
    fprintf(f, "/*\n * %s - generated by mcuopt %s from the model \"%s\": %s.\n", file, MCO_VERSION,
            dm->model.arch_name, desc);
}

/* How model_run reaches the model input and output: the caller's `in` is
 * read directly unless an op writes the input tensor (an in-place clamp), the
 * caller's `out` is written directly unless the output is the input tensor;
 * otherwise they are copied into / out of the arena, which then holds only
 * the tensors the caller's buffers do not (same offsets as the host plan).
 * An input or output in another type than the model's (--input-type,
 * --output-type) is converted into / out of the arena instead. */
typedef struct {
    int direct_in, direct_out;
    uint32_t arena_bytes;     /* 0: no arena */
} io_binding;

static io_binding bind_io(const mco_plan *plan, const mco_plan_io *types)
{
    io_binding io;
    io.direct_in = plan->n_ops > 0 && !types->convert_input;
    for (int k = 0; k < plan->n_ops; k++)
        if (plan->info[k].output_tensor == plan->input_tensor) io.direct_in = 0;
    io.direct_out = plan->output_tensor != plan->input_tensor && !types->convert_output;
    io.arena_bytes = 0;
    for (int t = 0; t < plan->n_tensors; t++) {
        if ((t == plan->input_tensor && io.direct_in) || (t == plan->output_tensor && io.direct_out)) continue;
        uint32_t end = (plan->tensors[t].offset + plan->tensors[t].bytes + 3u) & ~3u;
        if (end > io.arena_bytes) io.arena_bytes = end;
    }
    return io;
}

/* The C expression of tensor t as a kernel argument. */
static void tensor_arg(const mco_plan *plan, const io_binding *io, int t, char buf[96])
{
    if (t == plan->input_tensor && io->direct_in) snprintf(buf, 96, "in");
    else if (t == plan->output_tensor && io->direct_out) snprintf(buf, 96, "out");
    else
        snprintf(buf, 96, "%s_AT(%" PRIu32 "u)", plan->tensors[t].type == MCO_ELEM_S8 ? "S8" : "F32",
                 plan->tensors[t].offset);
}

/* Writes a descriptor's argument list for op k: the names P, IN, IN2, OUT,
 * W, B and SCRATCH become the op's parameter struct, activations, weights,
 * bias and scratch; everything else (`&`, `.member`, numbers) is copied. */
static void emit_args(FILE *f, const char *args, int k, const char *in, const char *in2, const char *out,
                      const char *w, const char *b, const char *scratch)
{
    for (const char *p = args; *p;) {
        if (!(isalpha((unsigned char)*p) || *p == '_')) {
            fputc(*p++, f);
            continue;
        }
        size_t n = 0;
        while (isalnum((unsigned char)p[n]) || p[n] == '_') n++;
        if (p > args && p[-1] == '.') fwrite(p, 1, n, f);   /* a member name */
        else if (n == 1 && *p == 'P') fprintf(f, "op%d_params", k);
        else if (n == 2 && !strncmp(p, "IN", 2)) fputs(in, f);
        else if (n == 3 && !strncmp(p, "IN2", 3)) fputs(in2, f);
        else if (n == 3 && !strncmp(p, "OUT", 3)) fputs(out, f);
        else if (n == 1 && *p == 'W') fputs(w, f);
        else if (n == 1 && *p == 'B') fputs(b, f);
        else if (n == 7 && !strncmp(p, "SCRATCH", 7)) fputs(scratch, f);
        else fwrite(p, 1, n, f);
        p += n;
    }
}

/* `status = <kernel>(...);` for op k, the arguments of its descriptor. */
static void emit_op_call(FILE *f, const mco_plan *plan, const io_binding *io, int k)
{
    const mco_op *op = &plan->ops[k];
    const mco_plan_op_info *info = &plan->info[k];
    const mco_op_desc *d = mco_op_desc_of((int)op->kind);
    char in[96], in2[96] = "0", out[96], w[32] = "0", b[32] = "0", scratch[96] = "0";
    tensor_arg(plan, io, info->input_tensor, in);
    if (info->input2_tensor >= 0) tensor_arg(plan, io, info->input2_tensor, in2);
    if (info->scratch_tensor >= 0) tensor_arg(plan, io, info->scratch_tensor, scratch);
    tensor_arg(plan, io, info->output_tensor, out);
    if (op->weights) snprintf(w, sizeof w, "op%d_weights", k);
    if (op->bias) snprintf(b, sizeof b, "op%d_bias", k);
    fprintf(f, "    MCO_LAYER_MARK(%d);\n    status = %s(", k, d->function);
    emit_args(f, d->args, k, in, in2, out, w, b, scratch);
    fputs(");\n", f);
    if (k + 1 < plan->n_ops) fputs("    if (status != MCO_RT_OK) return (int)status;\n", f);
    else fprintf(f, "    MCO_LAYER_MARK(%d);\n", k + 1);
}

mco_status mco_emit_check_name(const char *name)
{
    if (!name || !name[0]) return mco_error(MCO_ERR_ARG, "emit: the model name is empty");
    size_t n = strlen(name);
    if (n > MCO_EMIT_MODEL_NAME_MAX)
        return mco_error(MCO_ERR_ARG, "emit: the model name '%.40s...' is longer than %d characters", name,
                         MCO_EMIT_MODEL_NAME_MAX);
    for (size_t i = 0; i < n; i++)
        if (!(islower((unsigned char)name[i]) || name[i] == '_' || (i > 0 && isdigit((unsigned char)name[i]))))
            return mco_error(MCO_ERR_ARG,
                             "emit: the model name '%s' is not a lower-case C identifier (a-z, 0-9 and _, "
                             "starting with a letter or _)",
                             name);
    /* the runtime's own prefix and the package's runtime directory */
    if (strncmp(name, "mco_", 4) == 0 || strcmp(name, "mco") == 0 || strcmp(name, MCO_EMIT_RUNTIME_DIR) == 0)
        return mco_error(MCO_ERR_ARG, "emit: the model name '%s' is reserved for the runtime (mco_*)", name);
    return MCO_OK;
}

void mco_emit_make_names(const char *name, mco_emit_names *nm)
{
    snprintf(nm->lower, sizeof nm->lower, "%s", name);
    for (size_t i = 0; i <= strlen(nm->lower); i++) nm->upper[i] = (char)toupper((unsigned char)nm->lower[i]);
    snprintf(nm->header, sizeof nm->header, "%s.h", name);
    snprintf(nm->source, sizeof nm->source, "%s.c", name);
}

const char *mco_emit_io_ctype(mco_io_type t)
{
    return t == MCO_IO_FLOAT ? "float" : t == MCO_IO_UINT8 ? "uint8_t" : "int8_t";
}

void mco_emit_input_recipe(FILE *f, const char *prefix, const mco_deploy_model *dm, const mco_plan *plan,
                           const mco_plan_io *io, const mco_emit_names *nm)
{
    const mco_normalization *norm = &dm->model.norm;
    char formula[200];
    snprintf(formula, sizeof formula, "x = (%s * %.9g - %.9g) / %.9g", io->input_type == MCO_IO_FLOAT ? "v" : "raw",
             (double)norm->scale, (double)norm->mean, (double)norm->std);
    if (io->convert_input) {
        fprintf(f, "%s%s_run takes %s: %s_run normalises it itself,\n%s%s", prefix, nm->lower,
                io->input_type == MCO_IO_UINT8 ? "the raw 8-bit sample (a pixel, an ADC byte)"
                                               : "the sample's float values v, in the data's units",
                nm->lower, prefix, formula);
        if (plan->input_type == MCO_ELEM_S8)
            fprintf(f, ",\n%sand quantizes it, q = clamp(round(x / %.9g) + %d, -128, 127)%s", prefix,
                    (double)io->in_scale, (int)io->in_zero_point,
                    io->input_type == MCO_IO_UINT8 ? " (a table of the 256 values)"
                    : io->use_steps                ? " (a lookup among the 255 values where q steps up)"
                                                   : " (in double)");
        fputs(".\n", f);
        return;
    }
    fprintf(f, "%sA raw 8-bit sample becomes the float input %s", prefix, formula);
    if (plan->input_type == MCO_ELEM_S8)
        fprintf(f, ",\n%sthen q = clamp(round(x / %s_INPUT_SCALE) + %s_INPUT_ZERO_POINT, -128, 127)", prefix,
                nm->upper, nm->upper);
    fputs(".\n", f);
}

/* NAME.h: the sizes, types, quantization, memory figures and the two entry
 * points. `stack_worst` / `stack_measured`: 0 when unknown. */
static mco_status write_header(const mco_deploy_model *dm, const mco_plan *plan, const io_binding *io,
                               const mco_plan_io *types, const mco_emit_frontend *fe, const mco_emit_names *nm,
                               size_t stack_worst, size_t stack_measured, const char *cpu, const char *dir,
                               mco_emit_result *res)
{
    mco_emit_file out;
    mco_status st = mco_emit_open(&out, dir, nm->header);
    if (st != MCO_OK) return st;
    FILE *f = out.f;
    const char *N = nm->upper, *n = nm->lower;
    char a[40];
    emit_header_comment(f, nm->header, dm);
    fprintf(f,
            " *\n * %s_run(in, out) runs one inference: `in` holds %s_INPUT_SIZE values\n"
            " * (NHWC %dx%dx%d), `out` receives %s_OUTPUT_SIZE values. It returns 0, or a\n"
            " * negative mco_rt_status if a kernel rejected its arguments. `in` and `out`\n"
            " * must not overlap (the kernels read `in` and write `out` directly). The\n"
            " * other activations live in a static arena of %s_ARENA_SIZE bytes inside\n"
            " * %s.c (define %s_ARENA_SECTION when compiling %s.c to place it, e.g.\n"
            " * -D'%s_ARENA_SECTION=__attribute__((section(\".ccmram\")))'), so %s_run is\n"
            " * not reentrant. %s_run_with_arena(in, out, arena) uses the caller's buffer\n"
            " * instead (%s_ARENA_SIZE bytes, %s_ARENA_ALIGN-aligned, e.g.\n"
            " * `static uint32_t buf[%s_ARENA_WORDS];`); one buffer per concurrent call.\n",
            n, N, dm->model.input_shape.h, dm->model.input_shape.w, dm->model.input_shape.c, N, N, n, N, n, N, n, n,
            N, N, N);
    mco_emit_input_recipe(f, " * ", dm, plan, types, nm);
    if (types->convert_output)
        fprintf(f, " * %s_run gives the int8 output dequantized: y = (q - %d) * %.9g.\n", n,
                (int)types->out_zero_point, (double)types->out_scale);
    fprintf(f, " */\n#ifndef %s_H\n#define %s_H\n\n#include <stdint.h>\n\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n",
            N, N);
    fprintf(f, "#define %s_INPUT_SIZE %d\n#define %s_OUTPUT_SIZE %d\n", N, (int)plan->input_size, N,
            (int)plan->output_size);
    fprintf(f, "#define %s_INPUT_H %d\n#define %s_INPUT_W %d\n#define %s_INPUT_C %d\n", N, dm->model.input_shape.h,
            N, dm->model.input_shape.w, N, dm->model.input_shape.c);
    if (types->input_type == MCO_IO_INT8)
        fprintf(f, "#define %s_INPUT_SCALE %s\n#define %s_INPUT_ZERO_POINT (%d)\n", N,
                mco_emit_float_literal(plan->input_q.scale, a), N, (int)plan->input_q.zero_point);
    if (types->output_type == MCO_IO_INT8)
        fprintf(f, "#define %s_OUTPUT_SCALE %s\n#define %s_OUTPUT_ZERO_POINT (%d)\n", N,
                mco_emit_float_literal(plan->output_q.scale, a), N, (int)plan->output_q.zero_point);
    fprintf(f,
            "\n/* Memory. The arena: bytes, alignment, and 32-bit words for a caller's buffer. */\n"
            "#define %s_ARENA_SIZE %" PRIu32 "\n#define %s_ARENA_ALIGN 4\n#define %s_ARENA_WORDS %" PRIu32 "\n",
            N, io->arena_bytes, N, N, (io->arena_bytes + 3u) / 4u + (io->arena_bytes == 0));
    fprintf(f,
            "/* Stack bytes %s_run needs (0: unknown): worst case from the call graph and\n"
            " * -fstack-usage of arm-none-eabi-gcc -O2 for %s (other compilers and\n"
            " * levels differ; -O0 needs more), and the deepest use measured by stack\n"
            " * painting in an emulated run (mcuopt measure / run / search). */\n"
            "#define %s_STACK_WORST %zu\n#define %s_STACK_MEASURED %zu\n",
            n, cpu, N, stack_worst, N, stack_measured);
    fprintf(f,
            "/* The stack to budget: the worst case if known, else the measured use. */\n"
            "#define %s_STACK_SIZE %zu\n"
            "/* RAM the model needs beyond your application's: arena + stack. */\n"
            "#define %s_RAM_TOTAL (%s_ARENA_SIZE + %s_STACK_SIZE)\n\n",
            N, stack_worst ? stack_worst : stack_measured, N, N, N);
    fprintf(f, "typedef %s %s_input_t;\ntypedef %s %s_output_t;\n\n", mco_emit_io_ctype(types->input_type), n,
            mco_emit_io_ctype(types->output_type), n);
    fprintf(f,
            "int %s_run(const %s_input_t *in, %s_output_t *out);\n"
            "int %s_run_with_arena(const %s_input_t *in, %s_output_t *out, void *arena);\n",
            n, n, n, n, n, n);
    mco_emit_frontend_header(f, fe, &dm->model.frontend, nm);
    fputs("\n#ifdef __cplusplus\n}\n#endif\n\n#endif\n", f);
    return mco_emit_close(&out, res, nm->header);
}

/* The static data of the input conversion (--input-type uint8 / float);
 * returns its bytes (counted with the weights). */
static size_t emit_input_data(FILE *f, const mco_plan *plan, const mco_plan_io *types)
{
    char a[40], b[40], c[40], d[40];
    if (types->input_type == MCO_IO_UINT8) {
        int s8 = plan->input_type == MCO_ELEM_S8;
        fprintf(f, "/* the model input of each raw byte value, as mcuopt's host computes it */\n"
                   "static const %s input_table[256] = {", s8 ? "int8_t" : "float");
        for (int v = 0; v < 256; v++) {
            fputs(v % (s8 ? 16 : 6) == 0 ? "\n    " : " ", f);
            if (s8) fprintf(f, "%d", (int)types->table_s8[v]);
            else fputs(mco_emit_float_literal(types->table_f32[v], a), f);
            if (v < 255) fputc(',', f);
        }
        fputs("\n};\n\n", f);
        return 256 * (s8 ? sizeof(int8_t) : sizeof(float));
    } else if (types->use_steps) {
        fputs("/* where the float -> int8 input steps up: steps[k] is the position in float\n"
              " * order (mco_float_order) of the smallest float whose model input is at least\n"
              " * k - 127, as mcuopt's host computes it with the model's normalisation and\n"
              " * input quantization (mco_io.h) */\n"
              "static const mco_input_steps input_steps = {\n    {", f);
        for (int k = 0; k < 255; k++) {
            fputs(k % 8 == 0 ? "\n        " : " ", f);
            fprintf(f, "%" PRId32, types->steps[k]);
            if (k < 254) fputc(',', f);
        }
        fprintf(f, "\n    },\n    %d\n};\n\n", (int)types->steps_nan);
        return sizeof(int32_t) * 255 + 1;
    } else {
        fprintf(f,
                "/* the model's normalisation and its input's quantization */\n"
                "static const mco_input_params input_params = {\n"
                "    .norm_scale = %s, .norm_mean = %s, .norm_std = %s,\n"
                "    .scale = %s, .zero_point = %d\n};\n\n",
                mco_emit_float_literal(types->norm_scale, a), mco_emit_float_literal(types->norm_mean, b),
                mco_emit_float_literal(types->norm_std, c), mco_emit_float_literal(types->in_scale, d),
                (int)types->in_zero_point);
        return sizeof(float) * 4 + sizeof(int32_t);
    }
}

/* The conversion of the caller's `in` into the model input in the arena. */
static void emit_input_conversion(FILE *f, const mco_plan *plan, const mco_plan_io *types, const char *N)
{
    int s8 = plan->input_type == MCO_ELEM_S8;
    const char *at = s8 ? "S8_AT" : "F32_AT";
    if (types->input_type == MCO_IO_UINT8)
        fprintf(f, "    mco_input_u8_%s(input_table, in, %s(%" PRIu32 "u), %s_INPUT_SIZE);\n", s8 ? "s8" : "f32", at,
                plan->input_offset, N);
    else if (s8 && types->use_steps)
        fprintf(f, "    mco_input_f32_s8_steps(&input_steps, in, %s(%" PRIu32 "u), %s_INPUT_SIZE);\n", at,
                plan->input_offset, N);
    else
        fprintf(f, "    mco_input_f32_%s(&input_params, in, %s(%" PRIu32 "u), %s_INPUT_SIZE);\n", s8 ? "s8" : "f32",
                at, plan->input_offset, N);
}

/* The runtime functions (runtime/mco_io.c) the conversions call, and the
 * front-end's; NULL-terminated. */
static void io_functions(const mco_plan *plan, const mco_plan_io *types, const mco_emit_frontend *fe,
                         const char *fns[5])
{
    int n = 0, s8 = plan->input_type == MCO_ELEM_S8;
    if (fe->on) fns[n++] = "mco_mfcc_s16";
    if (fe->on && !fe->via_float)
        fns[n++] = !s8 ? "mco_input_f32_f32" : fe->float_io.use_steps ? "mco_input_f32_s8_steps" : "mco_input_f32_s8";
    if (types->convert_input)
        fns[n++] = types->input_type == MCO_IO_UINT8 ? (s8 ? "mco_input_u8_s8" : "mco_input_u8_f32")
                   : !s8                           ? "mco_input_f32_f32"
                   : types->use_steps              ? "mco_input_f32_s8_steps"
                                                   : "mco_input_f32_s8";
    if (types->convert_output) fns[n++] = "mco_output_s8_f32";
    fns[n] = NULL;
}

static mco_status write_source(const mco_deploy_model *dm, const mco_plan *plan, const io_binding *io,
                               const mco_plan_io *types, const mco_emit_frontend *fe, const mco_emit_names *nm,
                               const char *dir, mco_emit_result *res)
{
    mco_emit_file out;
    mco_status st = mco_emit_open(&out, dir, nm->source);
    if (st != MCO_OK) return st;
    FILE *f = out.f;
    const mco_op *ops = plan->ops;
    const char *N = nm->upper, *n = nm->lower;
    char lit[40];
    emit_header_comment(f, nm->source, dm);
    fputs(" * The model as one runtime kernel call per op (the calls the host's\n"
          " * evaluator makes for the same plan); every parameter array holds the\n"
          " * exact values the host evaluated.\n */\n"
          "#include <string.h>\n\n",
          f);
    const char *headers[MCO_EMIT_MAX_HEADERS];
    int n_headers = mco_emit_kernel_headers(plan, headers);
    for (int h = 0; h < n_headers; h++) fprintf(f, "#include \"%s\"\n", headers[h]);
    if (types->convert_input || types->convert_output || (fe->on && !fe->via_float))
        fputs("#include \"mco_io.h\"\n", f);
    if (fe->on) fputs("#include \"mco_mfcc.h\"\n", f);
    fprintf(f, "#include \"%s\"\n\n", nm->header);
    size_t weight_bytes = types->convert_input ? emit_input_data(f, plan, types) : 0;
    st = mco_emit_frontend_data(f, fe, &dm->model.frontend, &weight_bytes);
    for (int k = 0; k < plan->n_ops && st == MCO_OK; k++) {
        const mco_plan_op_info *info = &plan->info[k];
        fprintf(f, "/* op %d: %s", k, dm->model.layers[info->first_layer].name);
        if (info->last_layer > info->first_layer) fprintf(f, " .. %s", dm->model.layers[info->last_layer].name);
        fprintf(f, " (%s) */\n", mco_op_kind_name((int)ops[k].kind));
        st = emit_op_data(f, plan, k, &weight_bytes);
        fputc('\n', f);
    }
    if (st != MCO_OK) {
        mco_output_abort(&out);
        return st;
    }
    if (io->arena_bytes > 0)
        fprintf(f,
                "/* The activations the caller's buffers do not hold; the word member keeps\n"
                " * it 4-byte aligned. %s_ARENA_SECTION (empty unless you define it) places it. */\n"
                "#ifndef %s_ARENA_SECTION\n#define %s_ARENA_SECTION\n#endif\n"
                "static union {\n    uint32_t align;\n    uint8_t bytes[%s_ARENA_SIZE];\n"
                "} %s_arena %s_ARENA_SECTION;\n"
                "#define S8_AT(offset) ((int8_t *)(void *)(arena_bytes + (offset)))\n"
                "#define F32_AT(offset) ((float *)(void *)(arena_bytes + (offset)))\n\n",
                N, N, N, N, n, N);
    fputs("/* MCO_LAYER_MARK(k) marks where op k begins (k = the number of ops: where\n"
          " * the last one ends) for the per-layer counts of `mcuopt measure`, whose\n"
          " * measurement build defines it; in any other build it is empty. */\n"
          "#ifndef MCO_LAYER_MARK\n#define MCO_LAYER_MARK(k)\n#endif\n\n",
          f);
    fprintf(f,
            "/* One copy of the body, which %s_run calls (a measurement build's layer marks\n"
            " * must appear once). */\n"
            "#if defined(__GNUC__)\n__attribute__((noinline))\n#endif\n"
            "int %s_run_with_arena(const %s_input_t *in, %s_output_t *out, void *arena)\n{\n"
            "    mco_rt_status status;\n",
            n, n, n, n);
    if (io->arena_bytes > 0)
        fprintf(f,
                "    uint8_t *arena_bytes = (uint8_t *)arena;\n"
                "    if (in == 0 || out == 0 || arena == 0 || ((uintptr_t)arena & (%s_ARENA_ALIGN - 1u)) != 0)\n"
                "        return (int)MCO_RT_ARG_ERROR;\n",
                N);
    else
        fputs("    (void)arena;   /* the model needs no arena */\n"
              "    if (in == 0 || out == 0) return (int)MCO_RT_ARG_ERROR;\n",
              f);
    if (types->convert_input)
        emit_input_conversion(f, plan, types, N);
    else if (!io->direct_in)
        fprintf(f, "    memcpy(arena_bytes + %" PRIu32 "u, in, sizeof(%s_input_t) * (size_t)%s_INPUT_SIZE);\n",
                plan->input_offset, n, N);
    for (int k = 0; k < plan->n_ops; k++) emit_op_call(f, plan, io, k);
    if (plan->n_ops == 0) fputs("    status = MCO_RT_OK;\n", f);
    if (!io->direct_out) {
        fputs("    if (status != MCO_RT_OK) return (int)status;\n", f);
        if (types->convert_output)
            fprintf(f, "    mco_output_s8_f32(%s, %d, S8_AT(%" PRIu32 "u), out, %s_OUTPUT_SIZE);\n",
                    mco_emit_float_literal(types->out_scale, lit), (int)types->out_zero_point, plan->output_offset, N);
        else
            fprintf(f, "    memcpy(out, arena_bytes + %" PRIu32 "u, sizeof(%s_output_t) * (size_t)%s_OUTPUT_SIZE);\n",
                    plan->output_offset, n, N);
    }
    fputs("    return (int)status;\n}\n\n", f);
    char arena_arg[MCO_EMIT_MODEL_NAME_MAX + 16] = "0";
    if (io->arena_bytes > 0) snprintf(arena_arg, sizeof arena_arg, "%s_arena.bytes", n);
    fprintf(f, "int %s_run(const %s_input_t *in, %s_output_t *out)\n{\n    return %s_run_with_arena(in, out, %s);\n}\n",
            n, n, n, n, arena_arg);
    mco_emit_frontend_functions(f, fe, plan, nm);
    res->weight_bytes = weight_bytes;
    return mco_emit_close(&out, res, nm->source);
}

mco_status mco_emit_c_with(const mco_deploy_model *dm, const mco_plan *plan, const char *dir,
                           const mco_emit_options *opt, mco_emit_result *res)
{
    if (!dm || !plan || !plan->ops || !dir || !res) return mco_error(MCO_ERR_ARG, "emit: NULL argument");
    mco_emit_options defaults;
    if (!opt) {
        mco_emit_options_default(&defaults);
        opt = &defaults;
    }
    memset(res, 0, sizeof *res);
    snprintf(res->cpu, sizeof res->cpu, "%s", opt->cpu ? opt->cpu : "cortex-m4");
    const char *name = opt->name ? opt->name : "model";
    mco_status st = mco_emit_check_name(name);
    if (st != MCO_OK) return st;
    if (opt->example_inputs < 1 || opt->example_inputs > MCO_EMIT_EXAMPLE_INPUTS_MAX)
        return mco_error(MCO_ERR_ARG, "emit: the example's inputs must be 1 to %d, not %d", MCO_EMIT_EXAMPLE_INPUTS_MAX,
                         opt->example_inputs);
    mco_plan_io types;
    if ((st = mco_plan_io_init(dm, plan, opt->input_type, opt->output_type, &types)) != MCO_OK) return st;
    io_binding io = bind_io(plan, &types);
    mco_emit_frontend fe;
    if ((st = mco_emit_frontend_init(dm, plan, &types, io.arena_bytes, &fe)) != MCO_OK) return st;
    if (fe.on) io.arena_bytes = fe.arena_bytes;   /* the front-end's scratch is in the arena too */
    res->arena_bytes = io.arena_bytes;
    const char *io_fns[5];
    io_functions(plan, &types, &fe, io_fns);
    mco_emit_names nm;
    mco_emit_make_names(name, &nm);
    /* Everything goes to a staged directory that only a success puts in place.
     * The header is written again once the stack is known. */
    mco_output_dir out;
    if ((st = mco_output_dir_begin(&out, dir)) != MCO_OK) return st;
    st = write_header(dm, plan, &io, &types, &fe, &nm, 0, 0, res->cpu, out.stage, NULL);
    if (st == MCO_OK) st = write_source(dm, plan, &io, &types, &fe, &nm, out.stage, res);
    if (st == MCO_OK) st = mco_emit_runtime(opt->ctx, plan, io_fns, out.stage, res);
    if (st == MCO_OK && opt->measure) st = mco_emit_measure(opt->ctx, out.stage, res->cpu, &nm, fe.on, res);
    if (st == MCO_OK)
        st = write_header(dm, plan, &io, &types, &fe, &nm, res->stack_bytes, opt->measured_stack_bytes, res->cpu,
                          out.stage, res);
    if (st == MCO_OK)
        st = mco_emit_package(dm, plan, &types, &nm, opt->example, opt->example_inputs, opt->measured_stack_bytes,
                              out.stage, res);
    if (st == MCO_OK) return mco_output_dir_commit(&out);
    mco_output_dir_abort(&out);
    return st;
}

mco_status mco_emit_c(const mco_context *ctx, const mco_deploy_model *dm, const mco_plan *plan, const char *dir,
                      mco_emit_result *res)
{
    mco_emit_options opt;
    mco_emit_options_default(&opt);
    opt.ctx = ctx;
    return mco_emit_c_with(dm, plan, dir, &opt, res);
}
