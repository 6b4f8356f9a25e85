/*
 * emit.c - mco_emit_c(): writes a plan out as C99 for the MCU.
 *
 *   model.h          MODEL_INPUT_SIZE / MODEL_OUTPUT_SIZE (elements), the
 *                    input and output types and int8 quantization, the
 *                    arena size, and `int model_run(in, out)`
 *   model.c          the const weight / bias / multiplier / shift / scale
 *                    arrays with the plan's exact values, one static const
 *                    parameter struct per op, the op table, the static
 *                    arena, and model_run()
 *   mco_op_config.h  MCO_OP_USE_<KIND> for just the kinds the model uses
 *   runtime files    mco_op.c and the kernel files those kinds need, with
 *                    their headers (emit_runtime.c picks them)
 *
 * Floats are printed with 9 significant digits ("%.9g"), which reads back
 * as the identical float, so model.c computes bit for bit what the host
 * plan computes. Every file is written to a temporary name and renamed.
 * After writing, emit_measure.c compiles the directory with
 * arm-none-eabi-gcc (when present) to report Flash and RAM.
 *
 * What it leaves out: placing the arena or weights in named linker
 * sections, and multiple models in one program (the names are fixed).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codegen/emit_internal.h"
#include "mco_hybrid.h"
#include "mco_op.h"
#include "mcuopt/codegen.h"

void mco_emit_options_default(mco_emit_options *opt)
{
    opt->cpu = "cortex-m4";
    opt->measure = 1;
}

/* ---- output files --------------------------------------------------------- */

mco_status mco_emit_open(mco_emit_file *out, const char *dir, const char *name)
{
    snprintf(out->path, sizeof out->path, "%s/%s", dir, name);
    snprintf(out->tmp, sizeof out->tmp, "%s/.%s.tmp.%ld", dir, name, (long)getpid());
    out->f = fopen(out->tmp, "w");
    if (!out->f) return mco_error(MCO_ERR_IO, "%s: %s", out->tmp, strerror(errno));
    return MCO_OK;
}

mco_status mco_emit_close(mco_emit_file *out, mco_emit_result *res, const char *name)
{
    int failed = ferror(out->f);
    if (fclose(out->f) != 0) failed = 1;
    out->f = NULL;
    if (failed || rename(out->tmp, out->path) != 0) {
        remove(out->tmp);
        return mco_error(MCO_ERR_IO, "%s: write error", out->path);
    }
    if (res && res->n_files < MCO_EMIT_MAX_FILES)
        snprintf(res->files[res->n_files++], MCO_EMIT_NAME_MAX, "%s", name);
    return MCO_OK;
}

static void abandon(mco_emit_file *out)
{
    if (out->f) fclose(out->f);
    out->f = NULL;
    remove(out->tmp);
}

/* ---- numbers ---------------------------------------------------------------- */

/* A float as a C float constant that reads back as the same float. */
static const char *float_literal(float v, char buf[40])
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
static mco_status emit_array(FILE *f, const char *name, mco_data_type type, const void *data, size_t count,
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
            fputs(float_literal(v, lit), f);
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
        if ((st = emit_array(f, name, info->weights_type, op->weights, info->weights_count, weight_bytes)) != MCO_OK)
            return st;
    }
    if (op->bias) {
        snprintf(name, sizeof name, "op%d_bias", k);
        if ((st = emit_array(f, name, info->bias_type, op->bias, info->bias_count, weight_bytes)) != MCO_OK)
            return st;
    }
    switch (info->params_type) {
    case MCO_PARAMS_CONV_S8: {
        const mco_conv_s8_params *p = op->params;
        snprintf(name, sizeof name, "op%d_multiplier", k);
        if ((st = emit_array(f, name, MCO_DATA_S32, p->multiplier, nc, weight_bytes)) != MCO_OK) return st;
        snprintf(name, sizeof name, "op%d_shift", k);
        if ((st = emit_array(f, name, MCO_DATA_S32, p->shift, nc, weight_bytes)) != MCO_OK) return st;
        fprintf(f, "static const mco_conv_s8_params op%d_params = {\n    .win = ", k);
        emit_window(f, &p->win);
        fprintf(f,
                ",\n    .input_offset = %s, .output_offset = %d, .act_min = %d, .act_max = %d,\n"
                "    .multiplier = op%d_multiplier, .shift = op%d_shift\n};\n",
                int_literal(p->input_offset, a), (int)p->output_offset, (int)p->act_min, (int)p->act_max, k, k);
        break;
    }
    case MCO_PARAMS_FC_S8: {
        const mco_fc_s8_params *p = op->params;
        snprintf(name, sizeof name, "op%d_multiplier", k);
        if ((st = emit_array(f, name, MCO_DATA_S32, p->multiplier, nc, weight_bytes)) != MCO_OK) return st;
        snprintf(name, sizeof name, "op%d_shift", k);
        if ((st = emit_array(f, name, MCO_DATA_S32, p->shift, nc, weight_bytes)) != MCO_OK) return st;
        fprintf(f,
                "static const mco_fc_s8_params op%d_params = {\n"
                "    .in_size = %d, .out_size = %d, .input_offset = %d, .output_offset = %d,\n"
                "    .act_min = %d, .act_max = %d, .multiplier = op%d_multiplier, .shift = op%d_shift\n};\n",
                k, (int)p->in_size, (int)p->out_size, (int)p->input_offset, (int)p->output_offset, (int)p->act_min,
                (int)p->act_max, k, k);
        break;
    }
    case MCO_PARAMS_CONV_S8W_F32: {
        const mco_conv_s8w_f32_params *p = op->params;
        snprintf(name, sizeof name, "op%d_scales", k);
        if ((st = emit_array(f, name, MCO_DATA_F32, p->weight_scales, nc, weight_bytes)) != MCO_OK) return st;
        fprintf(f, "static const mco_conv_s8w_f32_params op%d_params = {\n    .win = ", k);
        emit_window(f, &p->win);
        fprintf(f, ",\n    .act_min = %s, .act_max = %s, .weight_scales = op%d_scales\n};\n",
                float_literal(p->act_min, a), float_literal(p->act_max, b), k);
        break;
    }
    case MCO_PARAMS_FC_S8W_F32: {
        const mco_fc_s8w_f32_params *p = op->params;
        snprintf(name, sizeof name, "op%d_scales", k);
        if ((st = emit_array(f, name, MCO_DATA_F32, p->weight_scales, nc, weight_bytes)) != MCO_OK) return st;
        fprintf(f,
                "static const mco_fc_s8w_f32_params op%d_params = {\n"
                "    .in_size = %d, .out_size = %d, .act_min = %s, .act_max = %s, .weight_scales = op%d_scales\n};\n",
                k, (int)p->in_size, (int)p->out_size, float_literal(p->act_min, a), float_literal(p->act_max, b), k);
        break;
    }
    case MCO_PARAMS_CONV_F32: {
        const mco_conv_f32_params *p = op->params;
        fprintf(f, "static const mco_conv_f32_params op%d_params = {\n    .win = ", k);
        emit_window(f, &p->win);
        fprintf(f, ",\n    .act_min = %s, .act_max = %s\n};\n", float_literal(p->act_min, a),
                float_literal(p->act_max, b));
        break;
    }
    case MCO_PARAMS_FC_F32: {
        const mco_fc_f32_params *p = op->params;
        fprintf(f, "static const mco_fc_f32_params op%d_params = {\n    .in_size = %d, .out_size = %d, .act_min = %s, .act_max = %s\n};\n",
                k, (int)p->in_size, (int)p->out_size, float_literal(p->act_min, a), float_literal(p->act_max, b));
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
                k, (int)p->size, float_literal(p->act_min, a), float_literal(p->act_max, b));
        break;
    }
    case MCO_PARAMS_CLAMP_S8: {
        const mco_clamp_s8_params *p = op->params;
        fprintf(f, "static const mco_clamp_s8_params op%d_params = { .size = %d, .act_min = %d, .act_max = %d };\n",
                k, (int)p->size, (int)p->act_min, (int)p->act_max);
        break;
    }
    case MCO_PARAMS_POOL_S8: {
        const mco_pool_s8_params *p = op->params;
        fprintf(f, "static const mco_pool_s8_params op%d_params = {\n    .win = ", k);
        emit_window(f, &p->win);
        fprintf(f, ",\n    .act_min = %d, .act_max = %d\n};\n", (int)p->act_min, (int)p->act_max);
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

static const char *elem_ctype(mco_elem_type t) { return t == MCO_ELEM_S8 ? "int8_t" : "float"; }

static void emit_header_comment(FILE *f, const char *file, const mco_deploy_model *dm)
{
    char desc[160];
    mco_deploy_describe(dm, desc, sizeof desc);
    fprintf(f, "/*\n * %s - generated by mcuopt %s from the model \"%s\": %s.\n", file, MCO_VERSION,
            dm->model.arch_name, desc);
}

static mco_status write_model_h(const mco_deploy_model *dm, const mco_plan *plan, const char *dir,
                                mco_emit_result *res)
{
    mco_emit_file out;
    mco_status st = mco_emit_open(&out, dir, "model.h");
    if (st != MCO_OK) return st;
    FILE *f = out.f;
    char a[40];
    const mco_normalization *norm = &dm->model.norm;
    emit_header_comment(f, "model.h", dm);
    fprintf(f,
            " *\n * model_run(in, out) runs one inference: `in` holds MODEL_INPUT_SIZE values\n"
            " * (NHWC %dx%dx%d), `out` receives MODEL_OUTPUT_SIZE values. It returns 0, or a\n"
            " * negative mco_rt_status if a kernel rejected its arguments. Not reentrant:\n"
            " * the activations live in one static arena of MODEL_ARENA_SIZE bytes.\n"
            " * A raw 8-bit sample becomes the float input x = (raw * %.9g - %.9g) / %.9g",
            dm->model.input_shape.h, dm->model.input_shape.w, dm->model.input_shape.c, (double)norm->scale,
            (double)norm->mean, (double)norm->std);
    if (plan->input_type == MCO_ELEM_S8)
        fputs(",\n * then q = clamp(round(x / MODEL_INPUT_SCALE) + MODEL_INPUT_ZERO_POINT, -128, 127)", f);
    fputs(".\n */\n#ifndef MODEL_H\n#define MODEL_H\n\n#include <stdint.h>\n\n", f);
    fprintf(f, "#define MODEL_INPUT_SIZE %d\n#define MODEL_OUTPUT_SIZE %d\n", (int)plan->input_size,
            (int)plan->output_size);
    fprintf(f, "#define MODEL_INPUT_H %d\n#define MODEL_INPUT_W %d\n#define MODEL_INPUT_C %d\n",
            dm->model.input_shape.h, dm->model.input_shape.w, dm->model.input_shape.c);
    fprintf(f, "#define MODEL_ARENA_SIZE %" PRIu32 "\n\n", plan->arena_size);
    if (plan->input_type == MCO_ELEM_S8)
        fprintf(f, "#define MODEL_INPUT_SCALE %s\n#define MODEL_INPUT_ZERO_POINT (%d)\n",
                float_literal(plan->input_q.scale, a), (int)plan->input_q.zero_point);
    if (plan->output_type == MCO_ELEM_S8)
        fprintf(f, "#define MODEL_OUTPUT_SCALE %s\n#define MODEL_OUTPUT_ZERO_POINT (%d)\n",
                float_literal(plan->output_q.scale, a), (int)plan->output_q.zero_point);
    fprintf(f, "\ntypedef %s model_input_t;\ntypedef %s model_output_t;\n\n", elem_ctype(plan->input_type),
            elem_ctype(plan->output_type));
    fputs("int model_run(const model_input_t *in, model_output_t *out);\n\n#endif\n", f);
    st = mco_emit_close(&out, res, "model.h");
    return st;
}

static mco_status write_model_c(const mco_deploy_model *dm, const mco_plan *plan, const char *dir,
                                mco_emit_result *res)
{
    mco_emit_file out;
    mco_status st = mco_emit_open(&out, dir, "model.c");
    if (st != MCO_OK) return st;
    FILE *f = out.f;
    const mco_op *ops = plan->ops;
    emit_header_comment(f, "model.c", dm);
    fputs(" * The model as a list of runtime kernel calls (mco_op) over one static arena;\n"
          " * every parameter array holds the exact values the host evaluated.\n */\n"
          "#include <string.h>\n\n#include \"mco_hybrid.h\"\n#include \"mco_op.h\"\n#include \"mco_runtime.h\"\n"
          "#include \"model.h\"\n\n",
          f);
    fprintf(f, "#define MODEL_N_OPS %d\n#define MODEL_INPUT_OFFSET %" PRIu32 "u\n#define MODEL_OUTPUT_OFFSET %" PRIu32
            "u\n\n", plan->n_ops, plan->input_offset, plan->output_offset);
    size_t weight_bytes = 0;
    for (int k = 0; k < plan->n_ops && st == MCO_OK; k++) {
        const mco_plan_op_info *info = &plan->info[k];
        fprintf(f, "/* op %d: %s", k, dm->model.layers[info->first_layer].name);
        if (info->last_layer > info->first_layer) fprintf(f, " .. %s", dm->model.layers[info->last_layer].name);
        fprintf(f, " (%s) */\n", mco_op_kind_name((int)ops[k].kind));
        st = emit_op_data(f, plan, k, &weight_bytes);
        fputc('\n', f);
    }
    if (st != MCO_OK) {
        abandon(&out);
        return st;
    }
    fputs("static const mco_op model_ops[MODEL_N_OPS] = {\n", f);
    for (int k = 0; k < plan->n_ops; k++) {
        char w[32] = "0", b[32] = "0";
        if (ops[k].weights) snprintf(w, sizeof w, "op%d_weights", k);
        if (ops[k].bias) snprintf(b, sizeof b, "op%d_bias", k);
        fprintf(f, "    { MCO_OP_%s, %" PRIu32 "u, %" PRIu32 "u, %" PRIu32 "u, &op%d_params, %s, %s },\n",
                mco_op_kind_name((int)ops[k].kind), ops[k].input, ops[k].input2, ops[k].output, k, w, b);
    }
    fputs("};\n\n/* Every activation; the word member keeps it 4-byte aligned. */\n"
          "static union {\n    uint32_t align;\n    uint8_t bytes[MODEL_ARENA_SIZE];\n} model_arena;\n\n",
          f);
    fputs("int model_run(const model_input_t *in, model_output_t *out)\n{\n"
          "    mco_rt_status status;\n"
          "    if (in == 0 || out == 0) return (int)MCO_RT_ARG_ERROR;\n"
          "    memcpy(model_arena.bytes + MODEL_INPUT_OFFSET, in, sizeof(model_input_t) * (size_t)MODEL_INPUT_SIZE);\n"
          "    status = mco_ops_run(model_ops, MODEL_N_OPS, model_arena.bytes);\n"
          "    if (status != MCO_RT_OK) return (int)status;\n"
          "    memcpy(out, model_arena.bytes + MODEL_OUTPUT_OFFSET, sizeof(model_output_t) * (size_t)MODEL_OUTPUT_SIZE);\n"
          "    return 0;\n}\n",
          f);
    res->weight_bytes = weight_bytes;
    return mco_emit_close(&out, res, "model.c");
}

static mco_status write_op_config(const mco_plan *plan, const char *dir, mco_emit_result *res)
{
    mco_emit_file out;
    mco_status st = mco_emit_open(&out, dir, "mco_op_config.h");
    if (st != MCO_OK) return st;
    FILE *f = out.f;
    fputs("/*\n * mco_op_config.h - generated by mcuopt: the op kinds this model uses, so\n"
          " * mco_op.c compiles only their kernels.\n */\n#ifndef MCO_OP_CONFIG_H\n#define MCO_OP_CONFIG_H\n\n",
          f);
    const mco_op *ops = plan->ops;
    for (int kind = 0; kind < MCO_OP_KIND_COUNT; kind++) {
        int used = 0;
        for (int k = 0; k < plan->n_ops && !used; k++) used = (int)ops[k].kind == kind;
        if (used) fprintf(f, "#define MCO_OP_USE_%s 1\n", mco_op_kind_name(kind));
    }
    fputs("\n#endif\n", f);
    return mco_emit_close(&out, res, "mco_op_config.h");
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
    res->arena_bytes = plan->arena_size;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) return mco_error(MCO_ERR_IO, "%s: %s", dir, strerror(errno));
    mco_status st = write_model_h(dm, plan, dir, res);
    if (st == MCO_OK) st = write_model_c(dm, plan, dir, res);
    if (st == MCO_OK) st = write_op_config(plan, dir, res);
    if (st == MCO_OK) st = mco_emit_runtime(plan, dir, res);
    if (st == MCO_OK && opt->measure) st = mco_emit_measure(dir, res->cpu, res);
    return st;
}

mco_status mco_emit_c(const mco_deploy_model *dm, const mco_plan *plan, const char *dir, mco_emit_result *res)
{
    return mco_emit_c_with(dm, plan, dir, NULL, res);
}
