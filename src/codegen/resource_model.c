/*
 * resource_model.c - the resource model of resource.h: op features from the
 * plan, the calibration table (JSON load / save), the core class of a
 * profile, the estimate itself, and the non-negative least-squares fit the
 * calibration uses.
 *
 * What it leaves out: measuring anything (resource_calibration.c does that),
 * and op kinds the table has never seen (a related kind's coefficients are
 * used, and the estimate counts them in uncalibrated_ops).
 */
#include "mcuopt/resource.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mcuopt/context.h"
#include "mcuopt/process.h"
#include "op_desc.h"

_Static_assert(MCO_OP_KIND_COUNT <= MCO_COST_MAX_KINDS, "raise MCO_COST_MAX_KINDS");
_Static_assert(MCO_PARAMS_FC_S8W_F32 < MCO_COST_MAX_PARAMS_TYPES, "raise MCO_COST_MAX_PARAMS_TYPES");

static const char *const feature_names[MCO_COST_N_FEATURES] = {"macs", "fast_macs", "tail_macs",
                                                                "loops", "outputs", "calls"};

const char *mco_cost_feature_name(int feature)
{
    return feature >= 0 && feature < MCO_COST_N_FEATURES ? feature_names[feature] : "?";
}

/* ---- features ------------------------------------------------------------------ */

void mco_plan_op_features(const mco_plan *plan, int k, double f[MCO_COST_N_FEATURES])
{
    memset(f, 0, MCO_COST_N_FEATURES * sizeof f[0]);
    const mco_op_desc *d = mco_op_desc_of((int)plan->ops[k].kind);
    if (d) d->features(&plan->ops[k], &plan->info[k], f);
    f[MCO_COST_CALLS] = 1;
}

static size_t data_type_size(mco_data_type t)
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

static size_t align4(size_t n) { return (n + 3u) & ~(size_t)3u; }

size_t mco_plan_op_stack_scratch(const mco_plan *plan, int k, int dsp)
{
    const mco_op_desc *d = mco_op_desc_of((int)plan->ops[k].kind);
    return d && d->stack_scratch ? d->stack_scratch(plan, k, dsp) : 0;
}

/* The op's arrays as emitted, each rounded up to 4 bytes. */
static size_t op_array_bytes(const mco_op *op, const mco_plan_op_info *info)
{
    size_t bytes = 0, nc = (size_t)(info->n_channels > 0 ? info->n_channels : 0);
    if (op->weights) bytes += align4(info->weights_count * data_type_size(info->weights_type));
    if (op->bias) bytes += align4(info->bias_count * data_type_size(info->bias_type));
    switch (info->params_type) {
    case MCO_PARAMS_CONV_S8:
        if (((const mco_conv_s8_params *)op->params)->multiplier) bytes += 2 * 4 * nc;   /* multiplier, shift */
        break;
    case MCO_PARAMS_FC_S8: bytes += 2 * 4 * (((const mco_fc_s8_params *)op->params)->per_tensor ? 1 : nc); break;
    case MCO_PARAMS_CONV_S8W_F32:
    case MCO_PARAMS_FC_S8W_F32: bytes += 4 * nc; break;          /* weight scales */
    default: break;
    }
    return bytes;
}

size_t mco_plan_op_array_bytes(const mco_plan *plan, int k)
{
    return op_array_bytes(&plan->ops[k], &plan->info[k]);
}

/* Which of the model input and output model_run reads / writes in the
 * caller's buffers; mirrors bind_io() of src/codegen/emit.c. */
static void caller_buffers(const mco_plan *plan, int *direct_in, int *direct_out)
{
    *direct_in = plan->n_ops > 0;
    *direct_out = plan->output_tensor != plan->input_tensor;
    for (int k = 0; k < plan->n_ops; k++)
        if (plan->info[k].output_tensor == plan->input_tensor) *direct_in = 0;
}

static int in_arena(const mco_plan *plan, int t, int direct_in, int direct_out)
{
    return !((t == plan->input_tensor && direct_in) || (t == plan->output_tensor && direct_out));
}

size_t mco_plan_emitted_arena(const mco_plan *plan, size_t *copied_bytes)
{
    int direct_in, direct_out;
    caller_buffers(plan, &direct_in, &direct_out);
    size_t arena = 0;
    for (int t = 0; t < plan->n_tensors; t++) {
        if (!in_arena(plan, t, direct_in, direct_out)) continue;
        size_t end = align4((size_t)plan->tensors[t].offset + plan->tensors[t].bytes);
        if (end > arena) arena = end;
    }
    if (copied_bytes) *copied_bytes = (direct_in ? 0 : plan->input_bytes) + (direct_out ? 0 : plan->output_bytes);
    return arena;
}

/* ---- least squares ------------------------------------------------------------------- */

/* Solves the normal equations of the columns in `set` (n of them) of the
 * scaled matrix; z gets the solution in those positions, 0 elsewhere. */
static int solve_subset(int rows, int cols, const double *a, const double *b, const int *set, int n, double *z)
{
    double m[64 * 65];
    for (int p = 0; p < n; p++) {
        for (int q = 0; q <= n; q++) {
            double s = 0;
            for (int i = 0; i < rows; i++)
                s += a[i * cols + set[p]] * (q < n ? a[i * cols + set[q]] : b[i]);
            m[p * (n + 1) + q] = s;
        }
        m[p * (n + 1) + p] *= 1 + 1e-12;   /* a whisper of ridge for collinear columns */
    }
    for (int c = 0; c < n; c++) {          /* Gaussian elimination, partial pivoting */
        int piv = c;
        for (int r = c + 1; r < n; r++)
            if (fabs(m[r * (n + 1) + c]) > fabs(m[piv * (n + 1) + c])) piv = r;
        if (fabs(m[piv * (n + 1) + c]) < 1e-300) return 0;
        if (piv != c)
            for (int q = 0; q <= n; q++) {
                double t = m[c * (n + 1) + q];
                m[c * (n + 1) + q] = m[piv * (n + 1) + q];
                m[piv * (n + 1) + q] = t;
            }
        for (int r = c + 1; r < n; r++) {
            double factor = m[r * (n + 1) + c] / m[c * (n + 1) + c];
            for (int q = c; q <= n; q++) m[r * (n + 1) + q] -= factor * m[c * (n + 1) + q];
        }
    }
    for (int j = 0; j < cols; j++) z[j] = 0;
    for (int c = n - 1; c >= 0; c--) {
        double s = m[c * (n + 1) + n];
        for (int q = c + 1; q < n; q++) s -= m[c * (n + 1) + q] * z[set[q]];
        z[set[c]] = s / m[c * (n + 1) + c];
    }
    return 1;
}

mco_status mco_least_squares_nonneg(int rows, int cols, const double *a_in, const double *b_in,
                                    const double *weights, double *x)
{
    if (rows < 1 || cols < 1 || cols > 64 || !a_in || !b_in || !x)
        return mco_error(MCO_ERR_ARG, "least squares: bad arguments (%d rows, %d columns)", rows, cols);
    double *a = malloc((size_t)rows * (size_t)cols * sizeof *a), *b = malloc((size_t)rows * sizeof *b);
    double scale[64], w[64], z[64], residual_unused = 0;
    int passive[64], set[64];
    if (!a || !b) {
        free(a);
        free(b);
        return mco_error(MCO_ERR_NOMEM, "least squares: out of memory");
    }
    (void)residual_unused;
    /* Weighted rows, columns scaled to unit norm (zero columns stay out). */
    for (int i = 0; i < rows; i++) {
        double wi = weights ? weights[i] : 1.0;
        b[i] = wi * b_in[i];
        for (int j = 0; j < cols; j++) a[i * cols + j] = wi * a_in[i * cols + j];
    }
    for (int j = 0; j < cols; j++) {
        double s = 0;
        for (int i = 0; i < rows; i++) s += a[i * cols + j] * a[i * cols + j];
        scale[j] = sqrt(s);
        for (int i = 0; i < rows; i++) a[i * cols + j] = scale[j] > 0 ? a[i * cols + j] / scale[j] : 0;
        x[j] = 0;
        passive[j] = 0;
    }
    double bnorm = 0;
    for (int i = 0; i < rows; i++) bnorm += b[i] * b[i];
    double tol = 1e-12 * (sqrt(bnorm) + 1e-300);
    for (int iter = 0; iter < 3 * cols + 10; iter++) {
        /* gradient w = A^T (b - A x) */
        int best = -1;
        for (int j = 0; j < cols; j++) {
            double s = 0;
            for (int i = 0; i < rows; i++) {
                double r = b[i];
                for (int q = 0; q < cols; q++) r -= a[i * cols + q] * x[q];
                s += a[i * cols + j] * r;
            }
            w[j] = s;
            if (!passive[j] && scale[j] > 0 && s > tol && (best < 0 || s > w[best])) best = j;
        }
        if (best < 0) break;
        passive[best] = 1;
        for (int inner = 0; inner < 3 * cols + 10; inner++) {
            int n = 0;
            for (int j = 0; j < cols; j++)
                if (passive[j]) set[n++] = j;
            if (!solve_subset(rows, cols, a, b, set, n, z)) {
                passive[best] = 0;
                break;
            }
            int feasible = 1;
            for (int p = 0; p < n; p++) feasible &= z[set[p]] > 0;
            if (feasible) {
                for (int j = 0; j < cols; j++) x[j] = z[j];
                break;
            }
            double alpha = 1;
            for (int p = 0; p < n; p++) {
                int j = set[p];
                if (z[j] <= 0 && x[j] - z[j] > 0) {
                    double t = x[j] / (x[j] - z[j]);
                    if (t < alpha) alpha = t;
                }
            }
            for (int j = 0; j < cols; j++) {
                x[j] += alpha * (z[j] - x[j]);
                if (passive[j] && x[j] <= 1e-15) {
                    passive[j] = 0;
                    x[j] = 0;
                }
            }
        }
    }
    for (int j = 0; j < cols; j++) x[j] = scale[j] > 0 ? x[j] / scale[j] : 0;
    free(a);
    free(b);
    return MCO_OK;
}

/* ---- the table ------------------------------------------------------------------------- */

void mco_cost_model_free(mco_cost_model *cm) { free(cm); }

static const char *const params_type_names[] = {"CONV_F32", "FC_F32", "WINDOW", "CLAMP_F32", "CONV_S8", "FC_S8",
                                                "POOL_S8", "CLAMP_S8", "ADD_S8", "SOFTMAX_S8", "CONV_S8W_F32",
                                                "FC_S8W_F32"};
#define N_PARAMS_TYPES ((int)(sizeof params_type_names / sizeof params_type_names[0]))
_Static_assert(sizeof params_type_names / sizeof params_type_names[0] == MCO_PARAMS_FC_S8W_F32 + 1,
               "params_type_names must list every mco_params_type");

static cJSON *number_array(const double *v, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++) cJSON_AddItemToArray(a, cJSON_CreateNumber(v[i]));
    return a;
}

static cJSON *class_json(const mco_cost_class *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", c->name);
    cJSON_AddStringToObject(o, "core", c->core);
    cJSON_AddStringToObject(o, "fpu", c->fpu);
    cJSON_AddStringToObject(o, "qemu_machine", c->qemu_machine);
    cJSON_AddNumberToObject(o, "calibration_models", c->n_models);
    cJSON_AddNumberToObject(o, "fit_max_rel_error", c->fit_max_rel_error);
    cJSON_AddItemToObject(o, "overhead_cycles_per_copied_byte_op_inference", number_array(c->overhead, 3));
    cJSON_AddItemToObject(o, "glue_bytes_base_per_kind_per_op", number_array(c->glue_bytes, 3));
    cJSON_AddNumberToObject(o, "flash_extra_bytes", c->flash_extra_bytes);
    cJSON_AddNumberToObject(o, "op_record_bytes", c->op_record_bytes);
    cJSON_AddNumberToObject(o, "stack_default", c->stack_default);
    cJSON *ps = cJSON_AddObjectToObject(o, "params_struct_bytes");
    for (int t = 0; t < N_PARAMS_TYPES; t++)
        if (c->params_struct_bytes[t]) cJSON_AddNumberToObject(ps, params_type_names[t], c->params_struct_bytes[t]);
    cJSON *syms = cJSON_AddArrayToObject(o, "symbols");
    for (int s = 0; s < c->n_symbols; s++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "name", c->symbols[s].name);
        cJSON_AddNumberToObject(e, "flash", c->symbols[s].flash_bytes);
        cJSON_AddNumberToObject(e, "ram", c->symbols[s].ram_bytes);
        if (c->symbols[s].base) cJSON_AddTrueToObject(e, "base");
        cJSON_AddItemToArray(syms, e);
    }
    cJSON *kinds = cJSON_AddObjectToObject(o, "kinds");
    for (int k = 0; k < MCO_OP_KIND_COUNT; k++) {
        const mco_cost_kind *ck = &c->kinds[k];
        if (!ck->samples && !ck->n_symbols && !ck->stack_bytes) continue;
        cJSON *e = cJSON_AddObjectToObject(kinds, mco_op_kind_name(k));
        cJSON_AddNumberToObject(e, "samples", ck->samples);
        cJSON *cy = cJSON_AddObjectToObject(e, "cycles");
        for (int f = 0; f < MCO_COST_N_FEATURES; f++) cJSON_AddNumberToObject(cy, feature_names[f], ck->cycles[f]);
        cJSON_AddNumberToObject(e, "fit_rms_rel_error", ck->fit_rms_rel_error);
        cJSON_AddNumberToObject(e, "fit_max_rel_error", ck->fit_max_rel_error);
        cJSON_AddNumberToObject(e, "stack_bytes", ck->stack_bytes);
        cJSON *ks = cJSON_AddArrayToObject(e, "symbols");
        for (int s = 0; s < ck->n_symbols; s++)
            cJSON_AddItemToArray(ks, cJSON_CreateString(c->symbols[ck->symbols[s]].name));
    }
    return o;
}

mco_status mco_cost_model_save(const mco_cost_model *cm, const char *path)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "format", "mcuopt-resource-model");
    cJSON_AddNumberToObject(root, "version", 1);
    cJSON_AddStringToObject(root, "note",
                            "Written by `mcuopt estimate --calibrate` (bench/calibrate_resource_model.sh). Cycles are "
                            "fitted to the emulator's cycle estimate (exact instruction counts x per-core timing "
                            "tables), not to silicon. Features: see include/codegen/mcuopt/resource.h.");
    cJSON_AddStringToObject(root, "toolchain", cm->toolchain);
    cJSON_AddStringToObject(root, "created", cm->created);
    cJSON *classes = cJSON_AddArrayToObject(root, "classes");
    for (int i = 0; i < cm->n_classes; i++) cJSON_AddItemToArray(classes, class_json(&cm->classes[i]));
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text) return mco_error(MCO_ERR_NOMEM, "%s: out of memory", path);
    mco_output_file out;
    mco_status st = mco_output_open(&out, path);
    if (st == MCO_OK) {
        fputs(text, out.f);
        fputc('\n', out.f);
        st = mco_output_commit(&out);   /* reports a failed write */
    }
    free(text);
    return st;
}

/* Numbers are read with a range: a table's figures are counts, bytes and
 * cycle coefficients far below TABLE_MAX, and a value outside its range (or
 * not finite) is recorded as the first bad key, so a corrupt or hostile
 * table is refused instead of reaching an out-of-range conversion to an
 * integer. A missing number reads as 0. */
#define TABLE_MAX 1e9

static double get_num(const cJSON *o, const char *key, double min, double max, const char **bad)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v)) return 0;
    if (v->valuedouble >= min && v->valuedouble <= max) return v->valuedouble;
    if (!*bad) *bad = key;
    return 0;
}

static void get_str(const cJSON *o, const char *key, char *dst, size_t cap)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    snprintf(dst, cap, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

static void get_numbers(const cJSON *o, const char *key, double *dst, int n, double min, const char **bad)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, key);
    for (int i = 0; i < n; i++) {
        const cJSON *v = cJSON_IsArray(a) ? cJSON_GetArrayItem(a, i) : NULL;
        dst[i] = cJSON_IsNumber(v) ? v->valuedouble : 0;
        if (!(dst[i] >= min && dst[i] <= TABLE_MAX)) {
            dst[i] = 0;
            if (!*bad) *bad = key;
        }
    }
}

static int symbol_index(const mco_cost_class *c, const char *name)
{
    for (int s = 0; s < c->n_symbols; s++)
        if (strcmp(c->symbols[s].name, name) == 0) return s;
    return -1;
}

static mco_status parse_class(const cJSON *o, const char *path, mco_cost_class *c)
{
    const char *bad = NULL;
    get_str(o, "name", c->name, sizeof c->name);
    if (!c->name[0]) return mco_error(MCO_ERR_FORMAT, "%s: a class without a name", path);
    get_str(o, "core", c->core, sizeof c->core);
    get_str(o, "fpu", c->fpu, sizeof c->fpu);
    get_str(o, "qemu_machine", c->qemu_machine, sizeof c->qemu_machine);
    c->n_models = (int)get_num(o, "calibration_models", 0, TABLE_MAX, &bad);
    c->fit_max_rel_error = get_num(o, "fit_max_rel_error", 0, TABLE_MAX, &bad);
    get_numbers(o, "overhead_cycles_per_copied_byte_op_inference", c->overhead, 3, 0, &bad);
    get_numbers(o, "glue_bytes_base_per_kind_per_op", c->glue_bytes, 3, -TABLE_MAX, &bad);   /* a fit: may be < 0 */
    c->flash_extra_bytes = get_num(o, "flash_extra_bytes", -TABLE_MAX, TABLE_MAX, &bad);
    c->op_record_bytes = (uint32_t)get_num(o, "op_record_bytes", 0, TABLE_MAX, &bad);
    c->stack_default = (uint32_t)get_num(o, "stack_default", 0, TABLE_MAX, &bad);
    const cJSON *ps = cJSON_GetObjectItemCaseSensitive(o, "params_struct_bytes");
    for (int t = 0; t < N_PARAMS_TYPES; t++)
        c->params_struct_bytes[t] = (uint32_t)get_num(ps, params_type_names[t], 0, TABLE_MAX, &bad);
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(o, "symbols"))
    {
        if (c->n_symbols == MCO_COST_MAX_SYMBOLS)
            return mco_error(MCO_ERR_FORMAT, "%s: class %s: more than %d symbols", path, c->name,
                             MCO_COST_MAX_SYMBOLS);
        mco_cost_symbol *s = &c->symbols[c->n_symbols++];
        get_str(e, "name", s->name, sizeof s->name);
        s->flash_bytes = (uint32_t)get_num(e, "flash", 0, TABLE_MAX, &bad);
        s->ram_bytes = (uint32_t)get_num(e, "ram", 0, TABLE_MAX, &bad);
        s->base = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "base"));
    }
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(o, "kinds"))
    {
        if (!e->string) return mco_error(MCO_ERR_FORMAT, "%s: class %s: \"kinds\" is not an object", path, c->name);
        int k = mco_op_kind_by_name(e->string);
        if (k < 0) continue;   /* a kind this build does not have */
        mco_cost_kind *ck = &c->kinds[k];
        ck->samples = (int)get_num(e, "samples", 0, TABLE_MAX, &bad);
        const cJSON *cy = cJSON_GetObjectItemCaseSensitive(e, "cycles");
        for (int f = 0; f < MCO_COST_N_FEATURES; f++) ck->cycles[f] = get_num(cy, feature_names[f], 0, TABLE_MAX, &bad);
        ck->fit_rms_rel_error = get_num(e, "fit_rms_rel_error", 0, TABLE_MAX, &bad);
        ck->fit_max_rel_error = get_num(e, "fit_max_rel_error", 0, TABLE_MAX, &bad);
        ck->stack_bytes = (uint32_t)get_num(e, "stack_bytes", 0, TABLE_MAX, &bad);
        const cJSON *name;
        cJSON_ArrayForEach(name, cJSON_GetObjectItemCaseSensitive(e, "symbols"))
        {
            int s = cJSON_IsString(name) ? symbol_index(c, name->valuestring) : -1;
            if (s < 0)
                return mco_error(MCO_ERR_FORMAT, "%s: class %s, kind %s: unknown symbol", path, c->name, e->string);
            if (ck->n_symbols < MCO_COST_MAX_KIND_SYMBOLS) ck->symbols[ck->n_symbols++] = s;
        }
    }
    if (bad)
        return mco_error(MCO_ERR_FORMAT, "%s: class %s: a \"%s\" value is out of range (negative, not finite or above %g)",
                         path, c->name, bad, TABLE_MAX);
    return MCO_OK;
}

mco_status mco_cost_model_load_context(const mco_context *ctx, mco_cost_model **out)
{
    if (!out) return mco_error(MCO_ERR_ARG, "mco_cost_model_load_context: NULL argument");
    *out = NULL;
    const char *path = mco_context_resource(ctx, MCO_RESOURCE_COST_MODEL);
    struct stat info;
    if (!path || (stat(path, &info) != 0 && errno == ENOENT)) {
        mco_context_log(ctx, MCO_LOG_DEBUG, "no resource model table%s%s: kernels in the op table's order",
                        path ? " at " : "", path ? path : "");
        return MCO_OK;
    }
    return mco_cost_model_load(path, out);
}

mco_status mco_cost_model_load(const char *path, mco_cost_model **out)
{
    if (!out || !path) return mco_error(MCO_ERR_ARG, "mco_cost_model_load: NULL argument");
    *out = NULL;
    char *text = NULL;
    struct stat info;
    if (stat(path, &info) != 0 && errno == ENOENT)
        return mco_error(MCO_ERR_NOT_FOUND, "%s: no resource model table (run bench/calibrate_resource_model.sh)",
                         path);
    mco_status st = mco_read_text_file(path, MCO_READ_GENERATED_MAX, &text);
    if (st != MCO_OK) return st;
    cJSON *root = cJSON_Parse(text);
    free(text);
    const cJSON *format = cJSON_GetObjectItemCaseSensitive(root, "format");
    const char *bad = NULL;
    if (!root || !cJSON_IsString(format) || strcmp(format->valuestring, "mcuopt-resource-model") != 0 ||
        get_num(root, "version", 0, TABLE_MAX, &bad) != 1) {
        cJSON_Delete(root);
        return mco_error(MCO_ERR_FORMAT, "%s: not a version 1 mcuopt-resource-model file", path);
    }
    mco_cost_model *cm = calloc(1, sizeof *cm);
    if (!cm) {
        cJSON_Delete(root);
        return mco_error(MCO_ERR_NOMEM, "%s: out of memory", path);
    }
    get_str(root, "toolchain", cm->toolchain, sizeof cm->toolchain);
    get_str(root, "created", cm->created, sizeof cm->created);
    snprintf(cm->path, sizeof cm->path, "%s", path);
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(root, "classes"))
    {
        if (cm->n_classes == MCO_COST_MAX_CLASSES) break;
        st = parse_class(c, path, &cm->classes[cm->n_classes]);
        if (st != MCO_OK) break;
        cm->n_classes++;
    }
    cJSON_Delete(root);
    if (st == MCO_OK && cm->n_classes == 0) st = mco_error(MCO_ERR_FORMAT, "%s: no classes", path);
    if (st != MCO_OK) {
        free(cm);
        return st;
    }
    *out = cm;
    return MCO_OK;
}

/* ---- core class -------------------------------------------------------------------------- */

const mco_cost_class *mco_cost_class_named(const mco_cost_model *cm, const char *name)
{
    for (int i = 0; cm && name && i < cm->n_classes; i++)
        if (strcmp(cm->classes[i].name, name) == 0) return &cm->classes[i];
    return NULL;
}

/* The class of a profile's core, whether it is the core's own, and why not. */
static const char *class_of(const mco_target_profile *t, int *exact, const char **reason)
{
    *exact = 1;
    *reason = "";
    switch (t->core) {
    case MCO_CORE_M0PLUS: return "m0plus";
    case MCO_CORE_M0:
        *exact = 0;
        *reason = "Cortex-M0 estimated with the M0+ class (the M0 takes one more cycle per taken branch)";
        return "m0plus";
    case MCO_CORE_M3: return "m3";
    case MCO_CORE_M4:
    case MCO_CORE_M4F:
        if (t->fpu != MCO_FPU_NONE) return "m4f";
        *exact = 0;
        *reason = "Cortex-M4 without FPU estimated with the M3 class (soft float; its int8 DSP path is faster)";
        return "m3";
    case MCO_CORE_M7: return "m7";
    case MCO_CORE_M33:
        *exact = 0;
        *reason = "Cortex-M33 estimated with the M4F class (as the emulator's cycle table does)";
        return "m4f";
    case MCO_CORE_M55:
        *exact = 0;
        *reason = "Cortex-M55 estimated with the M4F class (Helium not modelled)";
        return "m4f";
    }
    return MCO_COST_DEFAULT_CLASS;
}

const char *mco_cost_class_name(const mco_target_profile *t)
{
    int exact;
    const char *reason;
    return t ? class_of(t, &exact, &reason) : MCO_COST_DEFAULT_CLASS;
}

const mco_cost_class *mco_cost_class_for(const mco_cost_model *cm, const mco_target_profile *t, int *exact,
                                         char *why, size_t why_size)
{
    int is_exact;
    const char *reason;
    const char *name = class_of(t, &is_exact, &reason);
    if (exact) *exact = is_exact;
    if (why && why_size) snprintf(why, why_size, "%s", reason);
    return mco_cost_class_named(cm, name);
}

/* ---- one op's cost (the estimate below and the planner's choice) ------------------------------ */

/* The kind's coefficients, or those of its descriptor's fallback chain. */
static const mco_cost_kind *kind_costs(const mco_cost_class *c, int kind, int *calibrated)
{
    *calibrated = kind >= 0 && kind < MCO_COST_MAX_KINDS && c->kinds[kind].samples > 0;
    if (*calibrated) return &c->kinds[kind];
    const mco_op_desc *d = mco_op_desc_of(kind);
    for (int k = d ? d->fallback : -1, hops = 0; k >= 0 && hops < 4; hops++) {
        if (k < MCO_COST_MAX_KINDS && c->kinds[k].samples > 0) return &c->kinds[k];
        d = mco_op_desc_of(k);
        k = d ? d->fallback : -1;
    }
    return NULL;
}

double mco_cost_op_cycles(const mco_cost_class *c, const mco_op *op, const mco_plan_op_info *info,
                          int *calibrated)
{
    const mco_op_desc *d = mco_op_desc_of((int)op->kind);
    const mco_cost_kind *ck = kind_costs(c, (int)op->kind, calibrated);
    if (!d || !ck) return -1;
    double f[MCO_COST_N_FEATURES] = {0}, cycles = 0;
    d->features(op, info, f);
    f[MCO_COST_CALLS] = 1;
    for (int j = 0; j < MCO_COST_N_FEATURES; j++) cycles += ck->cycles[j] * f[j];
    return cycles;
}

size_t mco_cost_op_param_bytes(const mco_cost_class *c, const mco_op *op, const mco_plan_op_info *info)
{
    int pt = (int)info->params_type;
    return op_array_bytes(op, info) +
           (c && pt >= 0 && pt < MCO_COST_MAX_PARAMS_TYPES ? c->params_struct_bytes[pt] + c->op_record_bytes : 0);
}

size_t mco_cost_kind_code_bytes(const mco_cost_class *c, int kind, unsigned char *linked, int commit)
{
    if (kind < 0 || kind >= MCO_COST_MAX_KINDS) return 0;
    const mco_cost_kind *own = &c->kinds[kind];
    size_t bytes = 0;
    for (int i = 0; i < own->n_symbols; i++) {
        int s = own->symbols[i];
        if (linked[s]) continue;
        bytes += c->symbols[s].flash_bytes;
        if (commit) linked[s] = 1;
    }
    return bytes;
}

/* ---- the estimate --------------------------------------------------------------------------- */

/* Bytes of the arena's tensors live while op `op` runs. */
static size_t live_bytes(const mco_plan *plan, int op)
{
    int direct_in, direct_out;
    caller_buffers(plan, &direct_in, &direct_out);
    size_t bytes = 0;
    for (int t = 0; t < plan->n_tensors; t++) {
        const mco_plan_tensor *pt = &plan->tensors[t];
        if (!in_arena(plan, t, direct_in, direct_out) || pt->first_op > op || op > pt->last_op) continue;
        /* an output written over its input (mco_plan_tensor.overlays) while that input is alive takes no more */
        if (pt->overlays >= 0 && plan->tensors[pt->overlays].first_op <= op && op <= plan->tensors[pt->overlays].last_op) {
            if (pt->bytes > plan->tensors[pt->overlays].bytes) bytes += pt->bytes - plan->tensors[pt->overlays].bytes;
            continue;
        }
        bytes += pt->bytes;
    }
    return bytes;
}

static void op_layer_name(const mco_plan *plan, int k, const mco_deploy_model *dm, char *buf, size_t cap)
{
    const mco_plan_op_info *info = &plan->info[k];
    if (!dm) {
        snprintf(buf, cap, "layers %d..%d", info->first_layer, info->last_layer);
        return;
    }
    const char *first = dm->model.layers[info->first_layer].name, *last = dm->model.layers[info->last_layer].name;
    if (info->last_layer > info->first_layer) snprintf(buf, cap, "%s..%s", first, last);
    else snprintf(buf, cap, "%s", first);
}

static mco_status estimate(const mco_cost_model *cm, const mco_plan *plan, const mco_deploy_model *dm,
                           const mco_target_profile *t, double clock_mhz, mco_resource_estimate *out)
{
    if (!out) return mco_error(MCO_ERR_ARG, "resource estimate: NULL result");
    memset(out, 0, sizeof *out);
    if (!cm || !plan || !plan->ops || !t) return mco_error(MCO_ERR_ARG, "resource estimate: NULL argument");
    int exact = 1;
    char why[160];
    const mco_cost_class *c = mco_cost_class_for(cm, t, &exact, why, sizeof why);
    if (!c)
        return mco_error(MCO_ERR_NOT_FOUND, "%s: no calibration for the core of %s (%s)", cm->path, t->name,
                         t->core_name);
    out->ops = calloc((size_t)plan->n_ops, sizeof *out->ops);
    if (!out->ops) return mco_error(MCO_ERR_NOMEM, "resource estimate: out of memory");
    out->n_ops = plan->n_ops;
    snprintf(out->target, sizeof out->target, "%s", t->name);
    snprintf(out->core_class, sizeof out->core_class, "%s", c->name);
    out->clock_mhz = clock_mhz > 0 ? clock_mhz : t->clock_mhz;

    unsigned char linked[MCO_COST_MAX_SYMBOLS] = {0};
    int kind_seen[MCO_COST_MAX_KINDS] = {0}, n_kinds = 0;
    size_t symbol_ram = 0, base_code = 0;
    for (int s = 0; s < c->n_symbols; s++) {
        if (!c->symbols[s].base) continue;
        linked[s] = 1;
        base_code += c->symbols[s].flash_bytes;
        symbol_ram += c->symbols[s].ram_bytes;
    }
    for (int k = 0; k < plan->n_ops; k++) {
        const mco_op *op = &plan->ops[k];
        mco_resource_op *r = &out->ops[k];
        r->kind = (int)op->kind;
        snprintf(r->kind_name, sizeof r->kind_name, "%s", mco_op_kind_name(r->kind));
        op_layer_name(plan, k, dm, r->layer, sizeof r->layer);
        mco_plan_op_features(plan, k, r->features);
        r->macs = (uint64_t)(r->features[MCO_COST_MACS] + r->features[MCO_COST_FAST_MACS]);
        r->cycles = mco_cost_op_cycles(c, op, &plan->info[k], &r->calibrated);
        if (r->cycles < 0) r->cycles = 0;
        if (!r->calibrated) out->uncalibrated_ops++;
        r->param_bytes = mco_cost_op_param_bytes(c, op, &plan->info[k]);
        r->arena_bytes = live_bytes(plan, k);
        const mco_cost_kind *own = r->kind >= 0 && r->kind < MCO_COST_MAX_KINDS ? &c->kinds[r->kind] : NULL;
        r->stack_bytes = (own && own->stack_bytes ? own->stack_bytes : c->stack_default) +
                         mco_plan_op_stack_scratch(plan, k, t->dsp);
        if (own && !kind_seen[r->kind]) {
            kind_seen[r->kind] = 1;
            n_kinds++;
            for (int i = 0; i < own->n_symbols; i++) {
                int s = own->symbols[i];
                if (linked[s]) continue;
                linked[s] = 1;
                r->code_bytes += c->symbols[s].flash_bytes;
                symbol_ram += c->symbols[s].ram_bytes;
            }
        }
        out->cycles += r->cycles;
        out->param_bytes += r->param_bytes;
        out->code_bytes += r->code_bytes;
        if (r->stack_bytes > out->stack_bytes) out->stack_bytes = r->stack_bytes;
    }
    size_t copied = 0;
    out->arena_bytes = mco_plan_emitted_arena(plan, &copied);
    out->overhead_cycles = c->overhead[0] * (double)copied + c->overhead[1] * plan->n_ops + c->overhead[2];
    out->cycles += out->overhead_cycles;
    /* model_run, the dispatcher and link padding: never negative, so the
     * code total is at least the ops' code (a table fitted while aliased
     * symbols were counted twice held a negative padding). */
    double glue = c->glue_bytes[0] + c->glue_bytes[1] * n_kinds + c->glue_bytes[2] * plan->n_ops;
    double unattributed = glue + c->flash_extra_bytes;
    out->code_bytes += base_code + (unattributed > 0 ? (size_t)lround(unattributed) : 0);
    out->flash_bytes = out->param_bytes + out->code_bytes;
    out->static_ram_bytes = out->arena_bytes + symbol_ram;
    out->ram_bytes = out->static_ram_bytes + out->stack_bytes;
    out->latency_ms = out->cycles / (out->clock_mhz * 1000.0);
    out->energy_uj = t->active_ua_per_mhz * t->voltage * out->cycles * 1e-6;
    out->fits_flash = out->flash_bytes <= (size_t)t->flash_kb * 1024;
    out->fits_ram = mco_target_place_ram(t, out->static_ram_bytes, out->stack_bytes, &out->ram_placement);
    int soft_float = 0;   /* float activations on a core class without FPU: libgcc soft float */
    for (int t = 0; t < plan->n_tensors && strcmp(c->fpu, "none") == 0; t++)
        soft_float |= plan->tensors[t].type == MCO_ELEM_F32;
    snprintf(out->note, sizeof out->note,
             "predicted from the %s calibration (fitted to the emulator's instruction-based cycle estimate)%s%s%s%s",
             c->name, exact ? "" : "; ", why, out->uncalibrated_ops ? "; some op kinds were not calibrated" : "",
             soft_float ? "; soft-float cycles depend on the data: expect +-15 %" : "");
    return MCO_OK;
}

mco_status mco_resource_estimate_plan(const mco_cost_model *cm, const mco_plan *plan, const mco_target_profile *t,
                                      double clock_mhz, mco_resource_estimate *out)
{
    return estimate(cm, plan, NULL, t, clock_mhz, out);
}

mco_status mco_resource_estimate_deploy_with(const mco_cost_model *cm, const mco_deploy_model *dm,
                                             const mco_target_profile *t, double clock_mhz,
                                             const mco_plan_options *po, mco_resource_estimate *out)
{
    if (out) memset(out, 0, sizeof *out);
    if (!dm || !cm || !t) return mco_error(MCO_ERR_ARG, "resource estimate: NULL argument");
    mco_plan_options opt;
    if (po) opt = *po;
    else mco_plan_options_default(&opt);
    opt.cost_model = cm;
    opt.core_class = mco_cost_class_name(t);
    mco_plan plan;
    mco_status st = mco_plan_build(dm, &opt, &plan);
    if (st != MCO_OK) return st;
    st = estimate(cm, &plan, dm, t, clock_mhz, out);
    mco_plan_free(&plan);
    return st;
}

mco_status mco_resource_estimate_deploy(const mco_cost_model *cm, const mco_deploy_model *dm,
                                        const mco_target_profile *t, double clock_mhz,
                                        mco_resource_estimate *out)
{
    return mco_resource_estimate_deploy_with(cm, dm, t, clock_mhz, NULL, out);
}

mco_status mco_resource_estimate_arch(const mco_cost_model *cm, const mco_model *float_model,
                                      const mco_quant_options *format, const mco_target_profile *t,
                                      double clock_mhz, mco_resource_estimate *out)
{
    if (out) memset(out, 0, sizeof *out);
    if (!float_model || !format) return mco_error(MCO_ERR_ARG, "resource estimate: NULL model or format");
    mco_model m;
    mco_status st = mco_model_clone(float_model, &m);
    if (st != MCO_OK) return st;
    int had_params = 1;
    for (int i = 0; i < m.n_layers; i++)
        for (int p = 0; p < m.layers[i].n_params; p++) had_params &= m.layers[i].params[p].data != NULL;
    if (!had_params) {
        st = mco_model_alloc_params(&m);
        if (st == MCO_OK) mco_model_init_params(&m, 1);
    }
    /* One synthetic calibration sample: a ramp over the input's values. */
    mco_dataset sample;
    memset(&sample, 0, sizeof sample);
    size_t size = mco_shape_size(m.input_shape);
    uint8_t label = 0, *image = malloc(size ? size : 1);
    if (st == MCO_OK && !image) st = mco_error(MCO_ERR_NOMEM, "resource estimate: out of memory");
    if (st == MCO_OK) {
        for (size_t i = 0; i < size; i++) image[i] = (uint8_t)((i * 37u) & 0xFFu);
        sample.n = 1;
        sample.shape = m.input_shape;
        sample.n_classes = m.n_classes;
        sample.samples_u8 = image;
        sample.labels = &label;
        mco_quant_options q = *format;
        q.calibration_samples = 1;
        q.threads = 1;
        mco_deploy_model dm;
        st = mco_quantize(&m, format->activation_format == MCO_ACT_S8 ? &sample : NULL, &q, &dm);
        if (st == MCO_OK) {
            st = mco_resource_estimate_deploy(cm, &dm, t, clock_mhz, out);
            mco_deploy_free(&dm);
        }
    }
    free(image);
    mco_model_free(&m);
    return st;
}

void mco_resource_estimate_free(mco_resource_estimate *e)
{
    if (!e) return;
    free(e->ops);
    e->ops = NULL;
    e->n_ops = 0;
}
