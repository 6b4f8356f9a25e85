/*
 * resource_calibration.c - derives the resource model's table
 * (mco_cost_model_calibrate) from emulator runs, and compares a prediction
 * with a measurement (mco_resource_check).
 *
 * Calibration, per core class:
 *   1. a fixed list of generated architectures (calibration_arch: a first
 *      conv block in four variants, depthwise conv, a residual Add, max /
 *      average / global pool, a stand-alone ReLU, two Dense layers and
 *      Softmax, with shapes varied from model to model) is deployed in every
 *      format (int8, float32, float16 weights, int8 weights-only, int4, and
 *      int8 with 75 % and 50 % of the Conv2D / Dense weights zero, for the
 *      sparse kernels) with random weights, planned without the table
 *      (calibration_plan: each kernel the models are meant to reach is
 *      taken, not the one an older table estimates fastest), and run in
 *      QEMU, build directory kept;
 *   2. cycles per op kind: each executed address is charged to the function
 *      containing it (nm of fw.elf, per-function mco_estimate_cycles); the
 *      cycles of helpers (static kernel helpers, libgcc soft float, memcpy)
 *      go to their callers in proportion to the calls counted at each call
 *      site, until they reach a kernel entry (the kind's function) or the
 *      model_run / mco_ops_run / mco_op_run overhead. A costly helper
 *      (> 500 cycles per call) shared by two kinds in one model cannot be
 *      split that way: those kinds' rows of that model are dropped;
 *   3. per kind, a non-negative least-squares fit of its cycles on its
 *      features (relative error); the overhead on bytes copied, ops and 1;
 *   4. sizes from `nm -S model.elf` of the model-only link: a symbol in
 *      every model is base; else it belongs to every kind k such that each
 *      model with k links it; mco_op_run's size is fitted on the number of
 *      kinds; parameter struct and op record sizes are read off op<N>_params
 *      and model_ops; what `size` counts beyond the symbols is link padding;
 *   5. stack per kind: the least model_run stack of the models using it,
 *      less the kernel's shape-dependent part (mco_plan_op_stack_scratch).
 *
 * What it leaves out: kernel variants no calibration model reaches (the
 * list is fixed; extend calibration_arch when kernels gain shape-dependent
 * paths), and cores other than the four classes.
 */
#include "mcuopt/resource_calibration.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mcuopt/arch.h"
#include "mcuopt/process.h"
#include "mcuopt/target_cycles.h"

#define TOOL_TIMEOUT_S 120
#define N_SAMPLES 2              /* inputs per calibration run */
#define HELPER_SPLIT_LIMIT 500.0 /* cycles per call above which a shared helper is ambiguous */

/* ---- classes ---------------------------------------------------------------- */

typedef struct {
    const char *name;
    mco_core core;
    const char *core_name;
    mco_fpu fpu;
    int dsp;
    const char *qemu_machine;
} class_def;

static const class_def class_defs[] = {
    {"m0plus", MCO_CORE_M0PLUS, "cortex-m0plus", MCO_FPU_NONE, 0, "mps2-an385"},
    {"m3", MCO_CORE_M3, "cortex-m3", MCO_FPU_NONE, 0, "mps2-an385"},
    {"m4f", MCO_CORE_M4F, "cortex-m4f", MCO_FPU_SP, 1, "mps2-an386"},
    {"m7", MCO_CORE_M7, "cortex-m7", MCO_FPU_DP, 1, "mps2-an500"},
};
#define N_CLASS_DEFS ((int)(sizeof class_defs / sizeof class_defs[0]))

mco_status mco_cost_class_profile(const char *class_name, mco_target_profile *out)
{
    for (int i = 0; i < N_CLASS_DEFS; i++) {
        const class_def *d = &class_defs[i];
        if (strcmp(d->name, class_name) != 0) continue;
        memset(out, 0, sizeof *out);
        snprintf(out->name, sizeof out->name, "calibration-%s", d->name);
        snprintf(out->vendor, sizeof out->vendor, "mcuopt");
        out->core = d->core;
        snprintf(out->core_name, sizeof out->core_name, "%s", d->core_name);
        out->clock_mhz = 100;
        out->flash_kb = 4096;
        out->ram_kb = 4096;
        out->fpu = d->fpu;
        out->dsp = d->dsp;
        out->active_ua_per_mhz = 100;
        out->voltage = 3.0;
        snprintf(out->qemu_machine, sizeof out->qemu_machine, "%s", d->qemu_machine);
        snprintf(out->source, sizeof out->source, "resource model calibration profile (not a real part)");
        return MCO_OK;
    }
    return mco_error(MCO_ERR_NOT_FOUND, "unknown core class \"%s\" (m0plus, m3, m4f, m7)", class_name);
}

void mco_calibration_options_default(mco_calibration_options *opt)
{
    memset(opt, 0, sizeof *opt);
}

/* ---- calibration models ------------------------------------------------------- */

typedef struct {
    const char *name;
    mco_activation_format act;
    mco_weight_format weights;
    double sparsity;        /* fraction of Conv2D / Dense weights set to zero */
    int n_models;
} format_def;

static const format_def format_defs[] = {
    {"int8", MCO_ACT_S8, MCO_WEIGHTS_S8, 0, 48},
    {"float32", MCO_ACT_F32, MCO_WEIGHTS_F32, 0, 12},
    {"float16", MCO_ACT_F32, MCO_WEIGHTS_F16, 0, 6},
    {"int8w", MCO_ACT_F32, MCO_WEIGHTS_S8, 0, 6},
    {"int4", MCO_ACT_S8, MCO_WEIGHTS_S4, 0, 6},
    {"int8-sparse", MCO_ACT_S8, MCO_WEIGHTS_S8, 0.75, 12},   /* run on the sparse kernels: calibration_plan */
    {"int8-sparse50", MCO_ACT_S8, MCO_WEIGHTS_S8, 0.5, 8},
};

/* How calibration model i of a format is planned: not by the table being
 * made (MCO_PLAN_LISTED: the op table's order, specialised kernels first,
 * so the register-blocked convs before the general ones), but so that every
 * conv kind gets rows. A kind's cycles count only in a model where no
 * costly helper is shared with another kind, and the three blocked kinds
 * share theirs, so no model mixes two of them:
 *   - sparse formats: the sparse kernels wherever they can run, except the
 *     first conv of every eighth model, which keeps the 3x3 kernel its
 *     order gives (so that both get rows); their other convs go to the
 *     blocked kernels in even models, to the general ones in odd models;
 *   - int8: the models whose first block is not the 3x3 one-channel conv
 *     go, every other four, to the general conv kernels; of the others,
 *     those with a fused conv + pool and a 3x3 branch conv (i % 8 == 2) run
 *     the branch on the general kernel. */
static void calibration_plan(const format_def *fmt, int i, mco_plan_options *po)
{
    static const mco_op_kind sparse[] = {MCO_OP_FULLY_CONNECTED_SPARSE_S8, MCO_OP_CONV2D_MAXPOOL_SPARSE_S8,
                                         MCO_OP_CONV2D_S8, MCO_OP_CONV2D_MAXPOOL_S8};
    static const mco_op_kind sparse_first_3x3[] = {MCO_OP_FULLY_CONNECTED_SPARSE_S8, MCO_OP_CONV2D_S8};
    static const mco_op_kind general[] = {MCO_OP_CONV2D_S8, MCO_OP_CONV2D_MAXPOOL_S8};
    static const mco_op_kind pool_blocked[] = {MCO_OP_CONV2D_MAXPOOL_IM2COL_S8, MCO_OP_CONV2D_S8};
    mco_plan_options_default(po);
    po->goal = MCO_PLAN_LISTED;
    if (fmt->sparsity > 0) {
        po->prefer = i % 8 == 0 ? sparse_first_3x3 : sparse;
        po->n_prefer = i % 8 == 0 ? 1 : i % 2 ? 4 : 2;
    } else if (fmt->act == MCO_ACT_S8 && fmt->weights == MCO_WEIGHTS_S8 && i % 4 != 0 && (i / 4) % 2 == 1) {
        po->prefer = general;
        po->n_prefer = 2;
    } else if (fmt->act == MCO_ACT_S8 && fmt->weights == MCO_WEIGHTS_S8 && i % 8 == 2) {
        po->prefer = pool_blocked;
        po->n_prefer = 2;
    }
}
#define N_FORMAT_DEFS ((int)(sizeof format_defs / sizeof format_defs[0]))

/* Architecture text of calibration model i: shapes vary with i; the first
 * block cycles through the four conv variants the planner distinguishes
 * (3x3 one-channel conv + pool, padded one-channel conv + pool, general conv
 * + pool, plain conv) and the pool through max / average / global, so two
 * kinds that share a pool helper never meet in one model. The optional
 * parts (depthwise block, residual Add with a conv or depthwise branch,
 * Dense layers, Softmax) come and go so that no two kinds always appear
 * together: a symbol is only charged to the kinds that always link it.
 * `valid` makes the padded conv + pool variants "valid" (the sparse conv
 * kernel takes no padding) and the one-channel one 5x5 (a 3x3 one would
 * go to the dense specialised kernel). */
static void calibration_arch(int i, int valid, char *buf, size_t cap)
{
    static const int hs[] = {12, 16, 20, 10, 14, 18, 24, 11, 15, 13, 22, 17, 19, 12, 16, 21};
    /* ws[0], [4], [8], [12] are the first (3x3 one-channel) conv's: widths
     * with and without the 3x3 kernel's assembly path (a multiple of 4) */
    static const int ws[] = {10, 10, 16, 14, 16, 20, 8, 13, 12, 18, 10, 15, 20, 17, 12, 9};
    static const int cs[] = {2, 3, 4, 8, 6, 1, 5, 3};
    static const int fs[] = {4, 6, 8, 24, 12, 16, 5, 32, 9, 3, 14, 11, 20, 6, 8, 28};
    static const int ks[] = {3, 5, 1, 3, 5, 3, 1};
    static const int us[] = {16, 24, 33, 40, 12, 64, 20, 9};
    static const int ns[] = {10, 5, 7, 12, 3};
    /* depthwise block, residual Add, Dense layers, Softmax */
    static const char *const acts[] = {"sigmoid", "hard_swish", "tanh", "leaky_relu alpha=0.1", "hard_sigmoid"};
    static const char parts[16][5] = {"1111", "1010", "0101", "1100", "0011", "1110", "0011", "1011",
                                      "1100", "1011", "0100", "1111", "0110", "1000", "0011", "1110"};
#define PICK(a, k) (a)[(size_t)(k) % (sizeof(a) / sizeof((a)[0]))]
    const char *part = PICK(parts, i);
    /* past the first 16 models (int8 has 48) the shapes shift, so the
     * rows of a kind are not the first 16's again (ws by a multiple of 4) */
    int o = i / 16;
    int h = PICK(hs, i + 5 * o), w = PICK(ws, i + 8 * o), c = PICK(cs, i + 3 * o), f = PICK(fs, i + 3 * o),
        k = PICK(ks, i);
    int kd = i % 3 == 2 ? 5 : 3, sd = 1 + (i / 2) % 2, kr = i % 4 == 0 ? 1 : 3, pool = i % 3;
    size_t n = 0;
#define ADD(...) n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, __VA_ARGS__)
    switch (i % 4) {
    case 0: ADD("input %d %d 1\nconv2d filters=%d kernel=3 padding=valid\nrelu\nb0 = maxpool2d pool=2\n", h, w, f); break;
    case 1:
        ADD("input %d %d 1\nconv2d filters=%d kernel=%d padding=%s\nrelu\nb0 = maxpool2d pool=2\n", h, w, f,
            valid || (i / 4) % 2 ? 5 : 3, valid ? "valid" : "same");
        break;
    case 2:
        ADD("input %d %d %d\nconv2d filters=%d kernel=%d padding=%s\nrelu\nb0 = maxpool2d pool=2\n", h, w, c, f,
            (i / 4) % 2 ? 5 : 3, valid || i % 8 == 6 ? "valid" : "same");
        break;
    default:
        ADD("input %d %d %d\nconv2d filters=%d kernel=%d stride=%d padding=%s\nb0 = relu\n", h, w, c, f, k,
            1 + i % 2, i % 8 == 3 ? "valid" : "same");
        break;
    }
    /* every fifth model (a pattern apart from the parts' and the pools')
     * has an element-wise activation of its own (LUT_S8 in int8,
     * ACTIVATION_F32 in float) after its first block */
    if (i % 5 == 2) ADD("%s\n", PICK(acts, i / 5));
    const char *last = "b0";
    if (part[0] == '1') {
        ADD("depthwise_conv2d kernel=%d stride=%d padding=same\nb1 = relu\n", kd, sd);
        last = "b1";
    }
    if (part[1] == '1') {   /* the branch reads the previous layer, `last` */
        if (i % 2) ADD("c = depthwise_conv2d kernel=3 padding=same\n");
        else ADD("c = conv2d filters=%d kernel=%d padding=same\n", f, kr);
        ADD("add inputs=%s,c\nrelu\n", last);
    }
    if (pool == 0) ADD("maxpool2d pool=2\nrelu\n");
    else if (pool == 1) ADD("avgpool2d pool=2\nrelu\n");
    else ADD("global_avgpool\n");
    if (part[2] == '1') ADD("flatten\ndense units=%d\nrelu\ndense units=%d\n", PICK(us, i), PICK(ns, i));
    if (part[3] == '1' && (part[2] == '1' || pool == 2)) ADD("softmax\n");
#undef ADD
#undef PICK
}

static uint32_t next_random(uint32_t *state)
{
    *state = *state * 1664525u + 1013904223u;
    return *state >> 8;
}

/* n random raw samples of a shape (labels 0). */
static mco_status random_samples(mco_shape shape, int n, uint32_t seed, mco_dataset *ds)
{
    memset(ds, 0, sizeof *ds);
    size_t size = mco_shape_size(shape);
    ds->samples_u8 = malloc((size_t)n * size);
    ds->labels = calloc((size_t)n, 1);
    if (!ds->samples_u8 || !ds->labels) {
        mco_dataset_free(ds);
        return mco_error(MCO_ERR_NOMEM, "out of memory");
    }
    snprintf(ds->name, sizeof ds->name, "random");
    ds->n = n;
    ds->shape = shape;
    ds->n_classes = 10;
    for (size_t i = 0; i < (size_t)n * size; i++) ds->samples_u8[i] = (uint8_t)next_random(&seed);
    return MCO_OK;
}

/* A deploy model of a parsed architecture (consumed) with random weights and biases. */
static mco_status random_deploy_model(mco_model *m, const format_def *fmt, uint32_t seed, const mco_dataset *calib,
                                      mco_deploy_model *dm)
{
    m->norm = (mco_normalization){1.0f / 255.0f, 0.0f, 1.0f};
    mco_status st = mco_model_alloc_params(m);
    if (st == MCO_OK) {
        mco_model_init_params(m, seed);
        for (int i = 0; i < m->n_layers; i++) {
            mco_layer *L = &m->layers[i];
            if (L->n_params > MCO_PARAM_BIAS && L->type != MCO_LAYER_BATCHNORM)
                for (size_t k = 0; k < L->params[MCO_PARAM_BIAS].size; k++)
                    L->params[MCO_PARAM_BIAS].data[k] = 0.01f * (float)((int)(next_random(&seed) % 21) - 10);
            if (fmt->sparsity > 0 && (L->type == MCO_LAYER_CONV2D || L->type == MCO_LAYER_DENSE))
                for (size_t k = 0; k < L->params[MCO_PARAM_WEIGHTS].size; k++)
                    if (next_random(&seed) % 1000 < (uint32_t)(fmt->sparsity * 1000))
                        L->params[MCO_PARAM_WEIGHTS].data[k] = 0;
        }
        mco_quant_options q;
        mco_quant_options_default(&q);
        q.activation_format = fmt->act;
        q.weight_format = fmt->weights;
        q.calibration_samples = calib->n;
        q.threads = 1;
        st = mco_quantize(m, calib, &q, dm);
    }
    mco_model_free(m);
    return st;
}

mco_status mco_resource_random_model(const char *arch, const char *format, uint32_t seed, mco_deploy_model *out)
{
    const format_def *fmt = NULL;
    for (int i = 0; i < N_FORMAT_DEFS; i++)
        if (format && strcmp(format_defs[i].name, format) == 0) fmt = &format_defs[i];
    if (!fmt)
        return mco_error(MCO_ERR_ARG,
                         "unknown deploy format \"%s\" (int8, float32, float16, int8w, int4, int8-sparse, "
                         "int8-sparse50)",
                         format ? format : "");
    mco_model m;
    mco_shape none = {0, 0, 0};
    mco_status st = mco_arch_load(arch, none, 0, &m);
    if (st != MCO_OK) return st;
    mco_dataset calib;
    st = random_samples(m.input_shape, 4, seed + 1000u, &calib);
    if (st != MCO_OK) {
        mco_model_free(&m);
        return st;
    }
    st = random_deploy_model(&m, fmt, seed, &calib, out);
    mco_dataset_free(&calib);
    return st;
}

/* ---- one measurement with its build kept ----------------------------------------- */

typedef struct {
    char name[48];
    uint64_t addr;
    uint32_t size;
    char type;      /* nm type letter */
} elf_symbol;

typedef struct {
    elf_symbol *items;
    int n;
} symbol_list;

static mco_status read_symbols(const char *elf, const char *log_path, symbol_list *out)
{
    char *const argv[] = {"arm-none-eabi-nm", "-S", (char *)elf, NULL};
    char *text = NULL;
    int code;
    out->items = NULL;
    out->n = 0;
    mco_status st = mco_run_tool_capture(argv, log_path, TOOL_TIMEOUT_S, &text, &code);
    if (st != MCO_OK) return st;
    if (code != 0) {
        free(text);
        return mco_error(MCO_ERR_FORMAT, "arm-none-eabi-nm %s failed", elf);
    }
    int cap = 0;
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        /* "address size type name": symbols without a size have three fields */
        char addr_text[24], size_text[24], type_text[4], name[128];
        if (sscanf(line, "%23s %23s %3s %127s", addr_text, size_text, type_text, name) != 4 || type_text[1] != '\0')
            continue;
        char *end_addr, *end_size;
        unsigned long long addr = strtoull(addr_text, &end_addr, 16), size = strtoull(size_text, &end_size, 16);
        if (*end_addr || *end_size || size == 0) continue;
        char type = type_text[0];
        if (out->n == cap) {
            cap = cap ? 2 * cap : 256;
            elf_symbol *bigger = realloc(out->items, (size_t)cap * sizeof *bigger);
            if (!bigger) {
                free(text);
                free(out->items);
                out->items = NULL;
                return mco_error(MCO_ERR_NOMEM, "out of memory");
            }
            out->items = bigger;
        }
        elf_symbol *s = &out->items[out->n++];
        snprintf(s->name, sizeof s->name, "%.47s", name);
        s->addr = addr & ~1ull;
        s->size = (uint32_t)size;
        s->type = type;
    }
    free(text);
    return MCO_OK;
}

static int is_code_type(char t) { return t == 't' || t == 'T' || t == 'w' || t == 'W'; }
static int is_flash_type(char t) { return is_code_type(t) || t == 'r' || t == 'R' || t == 'd' || t == 'D'; }
static int is_ram_type(char t) { return t == 'd' || t == 'D' || t == 'b' || t == 'B'; }

/* The code around the kernel calls: the emitted entry points (model_run
 * calls model_run_with_arena, which holds the calls) and a dispatcher's. */
static int is_model_glue(const char *name)
{
    return !strcmp(name, "model_run") || !strcmp(name, "model_run_with_arena") || !strcmp(name, "mco_op_run") ||
           !strcmp(name, "mco_ops_run");
}

/* Symbols the model itself defines (its arrays, structs, op table, arena). */
static int model_specific(const char *name, int *op_index)
{
    *op_index = -1;
    if (strcmp(name, "model_ops") == 0 || strcmp(name, "model_arena") == 0) return 1;
    int k, used = 0;
    if (sscanf(name, "op%d_%n", &k, &used) == 1 && used > 0) {
        *op_index = k;
        return 1;
    }
    return 0;
}

/* What one calibration model contributes. */
typedef struct {
    int kind_present[MCO_COST_MAX_KINDS];
    size_t kind_scratch[MCO_COST_MAX_KINDS];   /* mco_plan_op_stack_scratch, largest per kind */
    int kind_usable[MCO_COST_MAX_KINDS];        /* its cycles could be attributed */
    double features[MCO_COST_MAX_KINDS][MCO_COST_N_FEATURES];
    double kind_cycles[MCO_COST_MAX_KINDS];
    double overhead_features[3], overhead_cycles;
    double total_cycles;
    int n_kinds;
    size_t flash_bytes, stack_bytes;
    size_t other_flash;                          /* flash of symbols minus model-specific, for padding */
    double glue_bytes;                           /* model_run + op dispatcher (if any) */
    int n_ops;
    int n_syms;
    int *syms;                                   /* indices into the class symbol table */
} calib_sample;

typedef struct {
    mco_cost_class *cls;
    calib_sample *samples;
    int n_samples, cap_samples;
} class_run;

static int class_symbol(mco_cost_class *c, const elf_symbol *s)
{
    for (int i = 0; i < c->n_symbols; i++) {
        if (strcmp(c->symbols[i].name, s->name) != 0) continue;
        mco_cost_symbol *cs = &c->symbols[i];
        if (is_flash_type(s->type) && s->size > cs->flash_bytes) cs->flash_bytes = s->size;
        if (is_ram_type(s->type) && s->size > cs->ram_bytes) cs->ram_bytes = s->size;
        return i;
    }
    if (c->n_symbols == MCO_COST_MAX_SYMBOLS) return -1;
    mco_cost_symbol *cs = &c->symbols[c->n_symbols];
    memset(cs, 0, sizeof *cs);
    snprintf(cs->name, sizeof cs->name, "%s", s->name);
    cs->flash_bytes = is_flash_type(s->type) ? s->size : 0;
    cs->ram_bytes = is_ram_type(s->type) ? s->size : 0;
    return c->n_symbols++;
}

static int compare_symbols_by_address(const void *pa, const void *pb)
{
    const elf_symbol *a = *(const elf_symbol *const *)pa, *b = *(const elf_symbol *const *)pb;
    if (a->addr != b->addr) return a->addr < b->addr ? -1 : 1;
    if (a->size != b->size) return a->size > b->size ? -1 : 1;   /* the enclosing symbol first */
    return strcmp(a->name, b->name);
}

/* Aliases (two names for the same bytes, e.g. libgcc's __eqsf2 and __nesf2)
 * and entry points inside another symbol (__aeabi_cfcmple inside
 * __aeabi_cfrcmple) would count the same bytes twice, and the kinds' code
 * would then add up to more than the image holds: each symbol keeps only the
 * bytes that no symbol before it in address order covers. The list keeps
 * nm's order. */
static mco_status count_bytes_once(symbol_list *list)
{
    elf_symbol **by_address = malloc((size_t)(list->n ? list->n : 1) * sizeof *by_address);
    if (!by_address) return mco_error(MCO_ERR_NOMEM, "out of memory");
    for (int i = 0; i < list->n; i++) by_address[i] = &list->items[i];
    qsort(by_address, (size_t)list->n, sizeof *by_address, compare_symbols_by_address);
    uint64_t covered = 0;
    for (int i = 0; i < list->n; i++) {
        elf_symbol *sym = by_address[i];
        uint64_t end = sym->addr + sym->size, own_start = sym->addr > covered ? sym->addr : covered;
        sym->size = end > own_start ? (uint32_t)(end - own_start) : 0;
        if (end > covered) covered = end;
    }
    free(by_address);
    return MCO_OK;
}

/* Sizes of the model-only link into the sample and the class table. */
static mco_status read_sizes(const char *dir, const mco_plan *plan, mco_cost_class *c, calib_sample *cs)
{
    char elf[4200], log_path[4200];
    snprintf(elf, sizeof elf, "%s/model.elf", dir);
    snprintf(log_path, sizeof log_path, "%s/tools.log", dir);
    symbol_list list;
    mco_status st = read_symbols(elf, log_path, &list);
    if (st != MCO_OK) return st;
    if ((st = count_bytes_once(&list)) != MCO_OK) {
        free(list.items);
        return st;
    }
    cs->syms = malloc((size_t)(list.n ? list.n : 1) * sizeof *cs->syms);
    if (!cs->syms) {
        free(list.items);
        return mco_error(MCO_ERR_NOMEM, "out of memory");
    }
    size_t named = 0;
    for (int i = 0; i < list.n; i++) {
        const elf_symbol *s = &list.items[i];
        if (is_flash_type(s->type)) named += s->size;
        int op;
        if (model_specific(s->name, &op)) {
            if (op >= 0 && op < plan->n_ops && strstr(s->name, "_params")) {
                int pt = (int)plan->info[op].params_type;
                if (pt >= 0 && pt < MCO_COST_MAX_PARAMS_TYPES) c->params_struct_bytes[pt] = s->size;
            }
            if (strcmp(s->name, "model_ops") == 0 && plan->n_ops > 0) c->op_record_bytes = s->size / (uint32_t)plan->n_ops;
            continue;
        }
        if (is_model_glue(s->name)) {
            cs->glue_bytes += s->size;
            continue;
        }
        int index = class_symbol(c, s);
        if (index >= 0) cs->syms[cs->n_syms++] = index;
    }
    cs->other_flash = named;
    free(list.items);
    return MCO_OK;
}

/* ---- cycles per function ------------------------------------------------------------ */

enum { ROLE_HELPER = 0, ROLE_OVERHEAD, ROLE_KERNEL };

typedef struct {
    uint64_t start, end;
    const char *name;
    int role, kind;
    double self, pending, owned;
    const char *text;          /* its lines of the disassembly */
    size_t text_len;
    size_t first_count, n_counts;
    double calls_in;
    int first_kernel_caller;   /* kind of the first kernel that called it, -1 none; -2 several */
} fn_info;

typedef struct {
    int caller, callee;
    double calls;
} call_edge;

static int compare_counts_by_addr(const void *a, const void *b)
{
    uint64_t x = ((const mco_insn_count *)a)->addr, y = ((const mco_insn_count *)b)->addr;
    return x < y ? -1 : x > y;
}

static int compare_fn_by_start(const void *a, const void *b)
{
    uint64_t x = ((const fn_info *)a)->start, y = ((const fn_info *)b)->start;
    return x < y ? -1 : x > y;
}

static int fn_at(const fn_info *fns, int n, uint64_t addr)
{
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (addr < fns[mid].start) hi = mid - 1;
        else if (addr >= fns[mid].end) lo = mid + 1;
        else return mid;
    }
    return -1;
}

/* The per-address counts of the plugin's file, sorted by address. */
static mco_status read_counts(const char *path, mco_insn_count **out, size_t *n_out)
{
    mco_insn_windows windows;
    mco_status st = mco_read_insn_counts(path, out, n_out, &windows);
    if (st == MCO_OK) qsort(*out, *n_out, sizeof **out, compare_counts_by_addr);
    return st;
}

static double count_at(const mco_insn_count *sorted, size_t n, uint64_t addr)
{
    mco_insn_count key = {addr, 0};
    const mco_insn_count *hit = bsearch(&key, sorted, n, sizeof key, compare_counts_by_addr);
    return hit ? (double)hit->count : 0;
}

/* The instruction address of a disassembly line, 0 if it is not one. */
static uint64_t line_address(const char *line, const char *end, const char **after)
{
    const char *p = line;
    while (p < end && *p == ' ') p++;
    char *stop;
    unsigned long long addr = strtoull(p, &stop, 16);
    if (stop == p || stop >= end || *stop != ':' || stop[1] != '\t') return 0;
    *after = stop + 2;
    return addr;
}

/* How an instruction passes control on. */
typedef enum {
    FLOW_NEXT = 0,      /* falls through to the next instruction */
    FLOW_CALL,          /* bl / blx: to a target, then back */
    FLOW_JUMP,          /* unconditional branch to a target */
    FLOW_COND_JUMP,     /* conditional branch to a target, else the next instruction */
    FLOW_RETURN         /* bx, pop / ldm / ldr into pc: does not fall through */
} flow_kind;

/* Classifies the instruction text after the address; *target gets the
 * branch target address (0 if none). */
static flow_kind classify_flow(const char *insn, const char *end, uint64_t *target)
{
    char mnemonic[16], operands[128];
    size_t m = 0, o = 0;
    while (insn + m < end && insn[m] != '\t' && m + 1 < sizeof mnemonic) {
        mnemonic[m] = insn[m];
        m++;
    }
    mnemonic[m] = '\0';
    for (const char *p = insn + m + (insn + m < end); p < end && o + 1 < sizeof operands; p++) operands[o++] = *p;
    operands[o] = '\0';
    *target = 0;
    char *dot = strchr(mnemonic, '.');
    if (dot) *dot = '\0';   /* b.n, b.w, beq.n ... */
    int has_target = strchr(operands, '<') != NULL;
    if (has_target) *target = strtoull(operands, NULL, 16);
    if (!strcmp(mnemonic, "bl") || !strcmp(mnemonic, "blx")) return has_target ? FLOW_CALL : FLOW_NEXT;
    if (!strcmp(mnemonic, "b")) return has_target ? FLOW_JUMP : FLOW_RETURN;
    if (!strcmp(mnemonic, "bx")) return FLOW_RETURN;
    if ((mnemonic[0] == 'b' && strlen(mnemonic) == 3 && has_target) || !strcmp(mnemonic, "cbz") ||
        !strcmp(mnemonic, "cbnz"))
        return has_target ? FLOW_COND_JUMP : FLOW_NEXT;
    if ((!strncmp(mnemonic, "pop", 3) || !strncmp(mnemonic, "ldm", 3)) && strstr(operands, "pc}")) return FLOW_RETURN;
    if (!strncmp(mnemonic, "ldr", 3) && !strncmp(operands, "pc,", 3)) return FLOW_RETURN;
    return FLOW_NEXT;
}

static mco_status add_edge(call_edge **edges, int *n, int *cap, fn_info *fns, int caller, int callee, double calls)
{
    if (caller < 0 || callee < 0 || caller == callee || calls <= 0) return MCO_OK;
    if (*n == *cap) {
        int bigger_cap = *cap ? 2 * *cap : 64;
        call_edge *bigger = realloc(*edges, (size_t)bigger_cap * sizeof *bigger);
        if (!bigger) return mco_error(MCO_ERR_NOMEM, "out of memory");
        *edges = bigger;
        *cap = bigger_cap;
    }
    (*edges)[(*n)++] = (call_edge){caller, callee, calls};
    fns[callee].calls_in += calls;
    return MCO_OK;
}

/* Splits the firmware's executed cycles over the op kinds of the sample
 * (see the top of the file). */
static mco_status attribute_cycles(const char *dir, mco_core core, double measured_cycles, calib_sample *cs)
{
    char elf[4200], log_path[4200], path[4200];
    snprintf(elf, sizeof elf, "%s/fw.elf", dir);
    snprintf(log_path, sizeof log_path, "%s/tools.log", dir);
    snprintf(path, sizeof path, "%s/counts.txt", dir);
    symbol_list syms = {0};
    mco_insn_count *counts = NULL;
    size_t n_counts = 0;
    char *disasm = NULL;
    fn_info *fns = NULL;
    call_edge *edges = NULL;
    int n_fns = 0, n_edges = 0, cap_edges = 0;
    mco_status st = read_symbols(elf, log_path, &syms);
    if (st == MCO_OK) st = read_counts(path, &counts, &n_counts);
    if (st == MCO_OK) {
        char *const argv[] = {"arm-none-eabi-objdump", "-d", "--no-show-raw-insn", elf, NULL};
        int code;
        st = mco_run_tool_capture(argv, log_path, TOOL_TIMEOUT_S, &disasm, &code);
        if (st == MCO_OK && code != 0) st = mco_error(MCO_ERR_FORMAT, "arm-none-eabi-objdump %s failed", elf);
    }
    if (st == MCO_OK && !(fns = calloc((size_t)(syms.n ? syms.n : 1), sizeof *fns)))
        st = mco_error(MCO_ERR_NOMEM, "out of memory");
    for (int i = 0; st == MCO_OK && i < syms.n; i++) {
        const elf_symbol *s = &syms.items[i];
        if (!is_code_type(s->type)) continue;
        int alias = 0;
        for (int j = 0; j < n_fns && !alias; j++) alias = fns[j].start == s->addr;
        if (alias) continue;
        fn_info *f = &fns[n_fns++];
        f->start = s->addr;
        f->end = s->addr + s->size;
        f->name = s->name;
        f->kind = -1;
        f->first_kernel_caller = -1;
        f->role = ROLE_HELPER;
        if (is_model_glue(s->name) || !strcmp(s->name, "mco_measure_begin") || !strcmp(s->name, "mco_measure_end"))
            f->role = ROLE_OVERHEAD;
        for (int k = 0; k < MCO_OP_KIND_COUNT; k++) {
            const char *fn = mco_op_kernel_function(k);
            if (cs->kind_present[k] && fn && strcmp(fn, s->name) == 0) f->role = ROLE_KERNEL, f->kind = k;
        }
    }
    if (st == MCO_OK) qsort(fns, (size_t)n_fns, sizeof *fns, compare_fn_by_start);
    /* Assembly routines (libgcc's soft float on ARMv7-M) have symbols whose
     * sizes run into the next entry point: end each one where the next starts. */
    for (int f = 0; st == MCO_OK && f + 1 < n_fns; f++)
        if (fns[f].end > fns[f + 1].start) fns[f].end = fns[f + 1].start;
    /* each function's executed counts (counts are sorted by address) */
    for (size_t i = 0; st == MCO_OK && i < n_counts; i++) {
        int f = fn_at(fns, n_fns, counts[i].addr);
        if (f < 0) continue;
        if (fns[f].n_counts == 0) fns[f].first_count = i;
        fns[f].n_counts = i + 1 - fns[f].first_count;
    }
    /* each function's disassembly lines, and how often control entered each
     * function from another: calls, jumps (tail calls, jumps into shared
     * code), conditional jumps (taken = executed - fall-through) and falling
     * through the end of one function into the next (assembly routines) */
    int prev_f = -1;
    double prev_count = 0;
    flow_kind prev_flow = FLOW_RETURN;
    int prev_target = -1;
    for (const char *line = disasm; st == MCO_OK && line && *line;) {
        const char *end = strchr(line, '\n'), *insn = NULL;
        if (!end) end = line + strlen(line);
        uint64_t addr = line_address(line, end, &insn);
        int f = addr ? fn_at(fns, n_fns, addr) : -1;
        if (f >= 0) {
            if (!fns[f].text) fns[f].text = line;
            fns[f].text_len = (size_t)(end - fns[f].text) + 1;
            double n = count_at(counts, n_counts, addr);
            double fall = prev_flow == FLOW_COND_JUMP ? (n < prev_count ? n : prev_count) : prev_count;
            if (prev_flow == FLOW_COND_JUMP)
                st = add_edge(&edges, &n_edges, &cap_edges, fns, prev_f, prev_target, prev_count - fall);
            if (st == MCO_OK && prev_f != f && (prev_flow == FLOW_NEXT || prev_flow == FLOW_COND_JUMP))
                st = add_edge(&edges, &n_edges, &cap_edges, fns, prev_f, f, fall);
            uint64_t target_addr;
            flow_kind flow = classify_flow(insn, end, &target_addr);
            int target = target_addr ? fn_at(fns, n_fns, target_addr) : -1;
            if (st == MCO_OK && (flow == FLOW_CALL || flow == FLOW_JUMP))
                st = add_edge(&edges, &n_edges, &cap_edges, fns, f, target, n);
            prev_f = f;
            prev_count = n;
            prev_flow = flow;
            prev_target = target;
        } else if (addr) {
            prev_f = -1;   /* outside every known function */
            prev_flow = FLOW_RETURN;
        }
        line = *end ? end + 1 : end;
    }
    /* self cycles per function */
    double self_total = 0;
    for (int f = 0; st == MCO_OK && f < n_fns; f++) {
        if (!fns[f].n_counts || !fns[f].text) continue;
        char *slice = malloc(fns[f].text_len + 1);
        if (!slice) {
            st = mco_error(MCO_ERR_NOMEM, "out of memory");
            break;
        }
        memcpy(slice, fns[f].text, fns[f].text_len);
        slice[fns[f].text_len] = '\0';
        uint64_t unknown = 0;
        fns[f].self = mco_estimate_cycles(core, slice, counts + fns[f].first_count, fns[f].n_counts, &unknown);
        free(slice);
        if (fns[f].self < 0) st = mco_error(MCO_ERR_NOMEM, "out of memory");
        self_total += fns[f].self;
        if (fns[f].role == ROLE_HELPER) fns[f].pending = fns[f].self;
        else fns[f].owned = fns[f].self;
    }
    /* helpers' cycles to their callers; which kernels a costly helper serves */
    double unowned = 0;
    for (int pass = 0; st == MCO_OK && pass < 64; pass++) {
        int moved = 0;
        for (int h = 0; h < n_fns; h++) {
            if (fns[h].pending <= 0) continue;
            moved = 1;
            double pending = fns[h].pending;
            fns[h].pending = 0;
            if (fns[h].calls_in <= 0) {
                unowned += pending;
                continue;
            }
            int costly = fns[h].self / fns[h].calls_in > HELPER_SPLIT_LIMIT;
            for (int e = 0; e < n_edges; e++) {
                if (edges[e].callee != h) continue;
                fn_info *caller = &fns[edges[e].caller];
                double share = pending * edges[e].calls / fns[h].calls_in;
                if (caller->role == ROLE_HELPER) caller->pending += share;
                else caller->owned += share;
                if (costly && caller->role == ROLE_KERNEL) {
                    if (fns[h].first_kernel_caller == -1) fns[h].first_kernel_caller = caller->kind;
                    else if (fns[h].first_kernel_caller != caller->kind) {
                        cs->kind_usable[fns[h].first_kernel_caller] = -1;
                        cs->kind_usable[caller->kind] = -1;
                    }
                }
            }
        }
        if (!moved) break;
    }
    if (st == MCO_OK) {
        for (int f = 0; f < n_fns; f++) unowned += fns[f].pending;
        double scale = self_total > 0 ? measured_cycles * N_SAMPLES / self_total : 0;
        cs->overhead_cycles = unowned * scale / N_SAMPLES;
        for (int f = 0; f < n_fns; f++) {
            double cycles = fns[f].owned * scale / N_SAMPLES;
            if (fns[f].role == ROLE_KERNEL) cs->kind_cycles[fns[f].kind] += cycles;
            else cs->overhead_cycles += cycles;
        }
        for (int k = 0; k < MCO_COST_MAX_KINDS; k++)
            cs->kind_usable[k] = cs->kind_present[k] && cs->kind_usable[k] == 0 && cs->kind_cycles[k] > 0;
        cs->total_cycles = measured_cycles;
    }
    free(edges);
    free(fns);
    free(disasm);
    free(counts);
    free(syms.items);
    return st;
}

/* Plans, emits, runs and analyses one calibration model of a class. */
static mco_status measure_sample(const mco_context *ctx, const class_def *cd, const mco_target_profile *t,
                                 const mco_deploy_model *dm, const mco_plan_options *po, const mco_dataset *samples,
                                 int timeout_s,
                                 mco_cost_class *c, calib_sample *cs, mco_measure_result *res)
{
    char dir[4096], code_dir[4200];
    mco_status st = mco_context_make_temp_dir(ctx, "calibrate", dir, sizeof dir);
    if (st != MCO_OK) return st;
    snprintf(code_dir, sizeof code_dir, "%s/code", dir);
    mco_plan plan;
    st = mco_plan_build(dm, po, &plan);
    uint8_t *inputs = NULL, *outputs = NULL;
    if (st == MCO_OK) {
        mco_emit_options eo;
        mco_emit_options_default(&eo);
        eo.ctx = ctx;
        eo.measure = 0;
        mco_emit_result er;
        st = mco_emit_c_with(dm, &plan, code_dir, &eo, &er);
    }
    if (st == MCO_OK) {
        inputs = malloc((size_t)samples->n * plan.input_bytes);
        outputs = malloc((size_t)samples->n * plan.output_bytes);
        if (!inputs || !outputs) st = mco_error(MCO_ERR_NOMEM, "out of memory");
    }
    if (st == MCO_OK) st = mco_deploy_predict_samples(dm, &plan, samples, 0, samples->n, inputs, outputs);
    if (st == MCO_OK) {
        mco_measure_request req;
        memset(&req, 0, sizeof req);
        req.ctx = ctx;
        req.model_dir = code_dir;
        req.n_inputs = samples->n;
        req.inputs = inputs;
        req.input_bytes = plan.input_bytes;
        req.expected = outputs;
        req.output_bytes = plan.output_bytes;
        req.work_dir = dir;
        req.timeout_s = timeout_s;
        st = mco_target_measure(t, &req, res);
    }
    if (st == MCO_OK && res->n_mismatch)
        st = mco_error(MCO_ERR_RANGE, "%d of %d outputs differ from the host on %s", res->n_mismatch, res->n_inputs,
                       cd->name);
    if (st == MCO_OK) {
        for (int k = 0; k < plan.n_ops; k++) {
            int kind = (int)plan.ops[k].kind;
            double f[MCO_COST_N_FEATURES];
            mco_plan_op_features(&plan, k, f);
            if (!cs->kind_present[kind]) cs->n_kinds++;
            cs->kind_present[kind] = 1;
            size_t scratch = mco_plan_op_stack_scratch(&plan, k, t->dsp);
            if (scratch > cs->kind_scratch[kind]) cs->kind_scratch[kind] = scratch;
            for (int j = 0; j < MCO_COST_N_FEATURES; j++) cs->features[kind][j] += f[j];
        }
        size_t copied = 0;
        mco_plan_emitted_arena(&plan, &copied);
        cs->n_ops = plan.n_ops;
        cs->overhead_features[0] = (double)copied;
        cs->overhead_features[1] = plan.n_ops;
        cs->overhead_features[2] = 1;
        cs->flash_bytes = res->flash_bytes;
        cs->stack_bytes = res->stack_bytes;
        st = attribute_cycles(dir, cd->core, res->cycles_est, cs);
    }
    if (st == MCO_OK) st = read_sizes(dir, &plan, c, cs);
    free(inputs);
    free(outputs);
    mco_plan_free(&plan);
    mco_remove_tree(dir);
    return st;
}

/* ---- fitting ------------------------------------------------------------------------- */

static void fit_kind(const class_run *run, int kind, mco_cost_kind *ck)
{
    int rows = 0;
    for (int s = 0; s < run->n_samples; s++) rows += run->samples[s].kind_usable[kind];
    if (rows == 0) return;
    double *a = calloc((size_t)rows * MCO_COST_N_FEATURES, sizeof *a), *b = calloc((size_t)rows, sizeof *b),
           *w = calloc((size_t)rows, sizeof *w);
    if (!a || !b || !w) goto done;
    int r = 0;
    for (int s = 0; s < run->n_samples; s++) {
        const calib_sample *cs = &run->samples[s];
        if (!cs->kind_usable[kind]) continue;
        memcpy(a + r * MCO_COST_N_FEATURES, cs->features[kind], sizeof cs->features[kind]);
        b[r] = cs->kind_cycles[kind];
        w[r] = 1.0 / b[r];
        r++;
    }
    if (mco_least_squares_nonneg(rows, MCO_COST_N_FEATURES, a, b, w, ck->cycles) != MCO_OK) goto done;
    ck->samples = rows;
    double sum_sq = 0, worst = 0;
    for (r = 0; r < rows; r++) {
        double p = 0;
        for (int f = 0; f < MCO_COST_N_FEATURES; f++) p += ck->cycles[f] * a[r * MCO_COST_N_FEATURES + f];
        double e = fabs(p - b[r]) / b[r];
        sum_sq += e * e;
        if (e > worst) worst = e;
    }
    ck->fit_rms_rel_error = sqrt(sum_sq / rows);
    ck->fit_max_rel_error = worst;
done:
    free(a);
    free(b);
    free(w);
}

static void fit_overhead(const class_run *run, mco_cost_class *c)
{
    int n = run->n_samples;
    double *a = calloc((size_t)n * 3, sizeof *a), *b = calloc((size_t)n, sizeof *b), *w = calloc((size_t)n, sizeof *w);
    if (a && b && w) {
        for (int s = 0; s < n; s++) {
            memcpy(a + 3 * s, run->samples[s].overhead_features, 3 * sizeof *a);
            b[s] = run->samples[s].overhead_cycles;
            w[s] = 1.0 / (b[s] > 1 ? b[s] : 1);
        }
        if (mco_least_squares_nonneg(n, 3, a, b, w, c->overhead) != MCO_OK) memset(c->overhead, 0, sizeof c->overhead);
    }
    free(a);
    free(b);
    free(w);
}

static int sample_has_symbol(const calib_sample *cs, int sym)
{
    for (int i = 0; i < cs->n_syms; i++)
        if (cs->syms[i] == sym) return 1;
    return 0;
}

/* Base symbols, symbols per kind, the dispatcher, padding and stacks. */
static void fit_sizes(const class_run *run, mco_cost_class *c)
{
    int n = run->n_samples;
    for (int sym = 0; sym < c->n_symbols; sym++) {
        int in_all = 1;
        for (int s = 0; s < n && in_all; s++) in_all = sample_has_symbol(&run->samples[s], sym);
        c->symbols[sym].base = in_all;
        if (in_all) continue;
        for (int k = 0; k < MCO_OP_KIND_COUNT; k++) {
            int present = 0, always = 1;
            for (int s = 0; s < n; s++) {
                if (!run->samples[s].kind_present[k]) continue;
                present = 1;
                always &= sample_has_symbol(&run->samples[s], sym);
            }
            mco_cost_kind *ck = &c->kinds[k];
            if (present && always && ck->n_symbols < MCO_COST_MAX_KIND_SYMBOLS) ck->symbols[ck->n_symbols++] = sym;
        }
    }
    /* model_run and any dispatcher: bytes = a + b * kinds + c * ops */
    double *a = calloc((size_t)n * 3, sizeof *a), *b = calloc((size_t)n, sizeof *b);
    for (int s = 0; a && b && s < n; s++) {
        a[3 * s] = 1;
        a[3 * s + 1] = run->samples[s].n_kinds;
        a[3 * s + 2] = run->samples[s].n_ops;
        b[s] = run->samples[s].glue_bytes;
    }
    if (!a || !b || mco_least_squares_nonneg(n, 3, a, b, NULL, c->glue_bytes) != MCO_OK)
        memset(c->glue_bytes, 0, sizeof c->glue_bytes);
    free(a);
    free(b);
    double padding = 0;
    uint32_t deepest = 0;
    for (int s = 0; s < n; s++) {
        const calib_sample *cs = &run->samples[s];
        padding += (double)cs->flash_bytes - (double)cs->other_flash;
        if (cs->stack_bytes > deepest) deepest = (uint32_t)cs->stack_bytes;
        for (int k = 0; k < MCO_OP_KIND_COUNT; k++) {
            mco_cost_kind *ck = &c->kinds[k];
            /* the kind's own frame: the model's stack less its shape-dependent
             * part (at least 1: 0 marks a kind no model has used yet) */
            size_t frame = cs->stack_bytes > cs->kind_scratch[k] ? cs->stack_bytes - cs->kind_scratch[k] : 1;
            if (cs->kind_present[k] && (ck->stack_bytes == 0 || frame < ck->stack_bytes))
                ck->stack_bytes = (uint32_t)frame;
        }
    }
    c->flash_extra_bytes = n ? padding / n : 0;
    c->stack_default = deepest;
}

/* Whole-model cycle error of the fitted class on its own calibration models. */
static double calibration_error(const class_run *run, const mco_cost_class *c)
{
    double worst = 0;
    for (int s = 0; s < run->n_samples; s++) {
        const calib_sample *cs = &run->samples[s];
        double p = 0;
        for (int j = 0; j < 3; j++) p += c->overhead[j] * cs->overhead_features[j];
        for (int k = 0; k < MCO_OP_KIND_COUNT; k++)
            for (int f = 0; cs->kind_present[k] && f < MCO_COST_N_FEATURES; f++)
                p += c->kinds[k].cycles[f] * cs->features[k][f];
        double e = fabs(p - cs->total_cycles) / cs->total_cycles;
        if (e > worst) worst = e;
    }
    return worst;
}

/* ---- the calibration run --------------------------------------------------------------- */

/* Deploys and measures calibration model i of a format into run (a failing
 * model is reported and skipped, so one broken kernel does not void the
 * others' calibration; only running out of memory stops the run). */
static mco_status calibrate_model(const class_def *cd, const mco_target_profile *t, const format_def *fmt, int i,
                                  const mco_calibration_options *opt, class_run *run, int *skipped)
{
    char arch[1024];
    calibration_arch(i, fmt->sparsity > 0, arch, sizeof arch);
    if (run->n_samples == run->cap_samples) {
        int cap = run->cap_samples ? 2 * run->cap_samples : 64;
        calib_sample *bigger = realloc(run->samples, (size_t)cap * sizeof *bigger);
        if (!bigger) return mco_error(MCO_ERR_NOMEM, "out of memory");
        run->samples = bigger;
        run->cap_samples = cap;
    }
    calib_sample *cs = &run->samples[run->n_samples];
    memset(cs, 0, sizeof *cs);
    mco_model m;
    mco_shape none = {0, 0, 0};
    mco_dataset data = {0};
    mco_deploy_model dm;
    mco_measure_result res;
    mco_status st = mco_arch_parse(arch, "calibration", none, 0, &m);
    if (st == MCO_OK) {
        st = random_samples(m.input_shape, N_SAMPLES, 1000u + (uint32_t)i, &data);
        if (st != MCO_OK) mco_model_free(&m);
    }
    if (st == MCO_OK) st = random_deploy_model(&m, fmt, 7u + (uint32_t)i, &data, &dm);
    if (st == MCO_OK) {
        mco_plan_options po;
        calibration_plan(fmt, i, &po);
        st = measure_sample(opt->ctx, cd, t, &dm, &po, &data, opt->timeout_s > 0 ? opt->timeout_s : TOOL_TIMEOUT_S,
                            run->cls, cs, &res);
        mco_deploy_free(&dm);
    }
    mco_dataset_free(&data);
    if (st == MCO_OK) {
        run->n_samples++;
        mco_context_log(opt->ctx, MCO_LOG_INFO,
                        "%-7s %-11s model %2d: %10.0f cycles (%.1f%% outside kernels), flash %zu B, stack %zu B",
                        cd->name, fmt->name, i, res.cycles_est, 100.0 * cs->overhead_cycles / res.cycles_est,
                        res.flash_bytes, res.stack_bytes);
        return MCO_OK;
    }
    free(cs->syms);
    if (st == MCO_ERR_NOMEM) return st;
    (*skipped)++;
    mco_context_log(opt->ctx, MCO_LOG_INFO, "%-7s %-11s model %2d: skipped: %s", cd->name, fmt->name, i,
                    mco_last_error());
    return MCO_OK;
}

static mco_status calibrate_class(const class_def *cd, const mco_calibration_options *opt, mco_cost_class *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", cd->name);
    snprintf(c->core, sizeof c->core, "%s", cd->core_name);
    snprintf(c->fpu, sizeof c->fpu, "%s", mco_fpu_name(cd->fpu));
    snprintf(c->qemu_machine, sizeof c->qemu_machine, "%s", cd->qemu_machine);
    mco_target_profile t;
    mco_status st = mco_cost_class_profile(cd->name, &t);
    if (st != MCO_OK) return st;
    class_run run = {c, NULL, 0, 0};
    int skipped = 0;
    for (int fi = 0; st == MCO_OK && fi < N_FORMAT_DEFS; fi++)
        for (int i = 0; st == MCO_OK && i < format_defs[fi].n_models; i++)
            st = calibrate_model(cd, &t, &format_defs[fi], i, opt, &run, &skipped);
    if (st == MCO_OK && run.n_samples == 0)
        st = mco_error(MCO_ERR_UNSUPPORTED, "calibration of %s: no model could be measured (last: %s)", cd->name,
                       mco_last_error());
    if (st == MCO_OK) {
        c->n_models = run.n_samples;
        for (int k = 0; k < MCO_OP_KIND_COUNT; k++) fit_kind(&run, k, &c->kinds[k]);
        fit_overhead(&run, c);
        fit_sizes(&run, c);
        c->fit_max_rel_error = calibration_error(&run, c);
        for (int k = 0; k < MCO_OP_KIND_COUNT; k++)
            if (c->kinds[k].samples)
                mco_context_log(opt->ctx, MCO_LOG_INFO,
                                "%-7s %-26s %3d rows, fit error rms %5.2f%% max %5.2f%%, %zu symbols, stack %u B",
                                cd->name, mco_op_kind_name(k), c->kinds[k].samples,
                                100 * c->kinds[k].fit_rms_rel_error, 100 * c->kinds[k].fit_max_rel_error,
                                (size_t)c->kinds[k].n_symbols, (unsigned)c->kinds[k].stack_bytes);
        mco_context_log(opt->ctx, MCO_LOG_INFO,
                        "%-7s %d models (%d skipped), whole-model cycle error on them at most %.2f%%", cd->name,
                        c->n_models, skipped, 100 * c->fit_max_rel_error);
    }
    for (int s = 0; s < run.n_samples; s++) free(run.samples[s].syms);
    free(run.samples);
    return st;
}

static void toolchain_version(char *buf, size_t cap)
{
    char *const argv[] = {"arm-none-eabi-gcc", "-dumpversion", NULL};
    char *out = NULL;
    int code;
    snprintf(buf, cap, "unknown");
    if (mco_run_tool_capture(argv, NULL, 30, &out, &code) == MCO_OK && code == 0 && out) {
        out[strcspn(out, "\r\n")] = '\0';
        snprintf(buf, cap, "arm-none-eabi-gcc %s", out);
    }
    free(out);
}

mco_status mco_cost_model_calibrate(const mco_calibration_options *opt_in, mco_cost_model **out)
{
    if (!out) return mco_error(MCO_ERR_ARG, "calibrate: NULL result");
    *out = NULL;
    mco_calibration_options defaults;
    mco_calibration_options_default(&defaults);
    const mco_calibration_options *opt = opt_in ? opt_in : &defaults;
    const char *classes = opt->classes && *opt->classes ? opt->classes : "m0plus,m3,m4f,m7";
    mco_cost_model *cm = calloc(1, sizeof *cm);
    if (!cm) return mco_error(MCO_ERR_NOMEM, "out of memory");
    toolchain_version(cm->toolchain, sizeof cm->toolchain);
    time_t now = time(NULL);
    struct tm utc;
    strftime(cm->created, sizeof cm->created, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &utc));
    mco_status st = MCO_OK;
    for (const char *p = classes; st == MCO_OK && *p;) {
        size_t len = strcspn(p, ",");
        char name[16];
        snprintf(name, sizeof name, "%.*s", (int)len, p);
        p += len + (p[len] == ',');
        const class_def *cd = NULL;
        for (int i = 0; i < N_CLASS_DEFS; i++)
            if (strcmp(class_defs[i].name, name) == 0) cd = &class_defs[i];
        if (!cd) st = mco_error(MCO_ERR_NOT_FOUND, "unknown core class \"%s\" (m0plus, m3, m4f, m7)", name);
        else if (cm->n_classes == MCO_COST_MAX_CLASSES) st = mco_error(MCO_ERR_RANGE, "too many classes");
        else if ((st = calibrate_class(cd, opt, &cm->classes[cm->n_classes])) == MCO_OK) cm->n_classes++;
    }
    if (st != MCO_OK) {
        free(cm);
        return st;
    }
    *out = cm;
    return MCO_OK;
}

/* ---- prediction against measurement ---------------------------------------------------- */

mco_status mco_resource_check(const mco_context *ctx, const mco_cost_model *cm, const mco_deploy_model *dm,
                              const mco_target_profile *t, int n_samples, mco_resource_estimate *predicted,
                              mco_measure_result *measured)
{
    if (!cm || !dm || !t || !predicted || !measured) return mco_error(MCO_ERR_ARG, "resource check: NULL argument");
    memset(predicted, 0, sizeof *predicted);
    mco_status st = mco_resource_estimate_deploy(cm, dm, t, 0, predicted);
    if (st != MCO_OK) return st;
    mco_dataset data;
    st = random_samples(dm->model.input_shape, n_samples > 0 ? n_samples : 1, 4242u, &data);
    if (st == MCO_OK) {
        mco_measure_options mo;
        mco_measure_options_default(&mo);
        mo.ctx = ctx;
        mo.n_samples = data.n;
        mo.cost_model = cm;   /* the plan the estimate made */
        st = mco_measure_deploy_model(dm, t, &data, &mo, measured);
        mco_dataset_free(&data);
    }
    if (st != MCO_OK) mco_resource_estimate_free(predicted);
    return st;
}
