/*
 * emit_runtime.c - copies the runtime files an emitted model needs.
 *
 * The runtime keeps one kernel (or one kernel family) per .c file. Rather
 * than a hand-kept table of file names, the files are found from the source:
 *   1. read every .c file of the runtime and note the mco_* functions each defines
 *      (a line starting in column 0 with a return type and a name);
 *   2. start from the files defining the plan's kernels (each op kind's
 *      descriptor names its function) and the headers model.c includes
 *      (mco_runtime.h and each kernel's header, see mco_emit_kernel_headers);
 *   3. add the files defining any mco_* function a chosen kernel file calls,
 *      and every header a chosen file #includes, until nothing new appears.
 * model.c calls the kernels directly: there is no dispatcher on the chip.
 * mco_config.h is not copied but written for the plan: it turns on the
 * runtime's shorter code paths the model's parameters allow. The files go
 * to the package's mcuopt_runtime/ directory.
 *
 * What it leaves out: calls made from inline functions in headers (a kernel
 * header calling an exported function would be missed; the compile test in
 * tests/codegen_compile.sh would catch it).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "emit_internal.h"
#include "op_desc.h"

#define MAX_RUNTIME_FILES 96

typedef struct {
    char name[64];
    char *text;
    int is_source;    /* .c */
    int chosen;
    int scanned;
} runtime_file;

typedef struct {
    char dir[4096];
    int n;
    runtime_file files[MAX_RUNTIME_FILES];
} runtime_set;

static void free_set(runtime_set *set)
{
    for (int i = 0; i < set->n; i++) free(set->files[i].text);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static mco_status load_set(const mco_context *ctx, runtime_set *set)
{
    const char *runtime_dir;
    mco_status st = mco_context_require(ctx, MCO_RESOURCE_RUNTIME, "emit", &runtime_dir);
    if (st != MCO_OK) return st;
    snprintf(set->dir, sizeof set->dir, "%s", runtime_dir);
    DIR *d = opendir(set->dir);
    if (!d) return mco_error(MCO_ERR_NOT_FOUND, "runtime directory %s: %s", set->dir, strerror(errno));
    struct dirent *e;
    while (st == MCO_OK && (e = readdir(d)) != NULL) {
        if (!(ends_with(e->d_name, ".c") || ends_with(e->d_name, ".h")) || e->d_name[0] == '.') continue;
        if (strlen(e->d_name) >= sizeof set->files[0].name) continue;
        if (set->n == MAX_RUNTIME_FILES) {
            st = mco_error(MCO_ERR_RANGE, "%s: more than %d runtime files", set->dir, MAX_RUNTIME_FILES);
            break;
        }
        runtime_file *rf = &set->files[set->n];
        memset(rf, 0, sizeof *rf);
        snprintf(rf->name, sizeof rf->name, "%s", e->d_name);
        rf->is_source = ends_with(e->d_name, ".c");
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", set->dir, e->d_name);
        st = mco_read_text_file(path, MCO_READ_TEXT_MAX, &rf->text);
        if (st == MCO_OK) set->n++;
    }
    closedir(d);
    return st;
}

static int find_file(const runtime_set *set, const char *name)
{
    for (int i = 0; i < set->n; i++)
        if (strcmp(set->files[i].name, name) == 0) return i;
    return -1;
}

/* 1 if `text` defines function `fn`: a line starting in column 0 (not
 * "static") that holds "fn(" after its return type. */
static int defines(const char *text, const char *fn)
{
    size_t len = strlen(fn);
    for (const char *p = strstr(text, fn); p; p = strstr(p + 1, fn)) {
        if (p[len] != '(' || (p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '_'))) continue;
        const char *line = p;
        while (line > text && line[-1] != '\n') line--;
        if (line == p || isspace((unsigned char)*line) || strncmp(line, "static", 6) == 0 || *line == '#' ||
            *line == '/' || *line == '*')
            continue;
        return 1;
    }
    return 0;
}

static int defining_file(const runtime_set *set, const char *fn)
{
    for (int i = 0; i < set->n; i++)
        if (set->files[i].is_source && defines(set->files[i].text, fn))
            return i;
    return -1;
}

/* Marks the files that `file` includes, and (unless only_includes) the
 * files defining the mco_* functions it calls. */
static void scan(runtime_set *set, int file, int only_includes)
{
    const char *text = set->files[file].text;
    for (const char *p = strstr(text, "#include \""); p; p = strstr(p + 1, "#include \"")) {
        char name[64];
        const char *start = p + 10, *end = strchr(start, '"');
        if (!end || (size_t)(end - start) >= sizeof name) continue;
        memcpy(name, start, (size_t)(end - start));
        name[end - start] = '\0';
        int i = find_file(set, name);
        if (i >= 0) set->files[i].chosen = 1;
    }
    if (only_includes) return;
    for (const char *p = strstr(text, "mco_"); p; p = strstr(p + 1, "mco_")) {
        if (p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '_')) continue;
        char fn[80];
        size_t n = 0;
        while (n + 1 < sizeof fn && (isalnum((unsigned char)p[n]) || p[n] == '_')) {
            fn[n] = p[n];
            n++;
        }
        fn[n] = '\0';
        const char *q = p + n;
        while (*q == ' ') q++;
        if (*q != '(') continue;
        int i = defining_file(set, fn);
        if (i >= 0 && i != file) set->files[i].chosen = 1;
    }
}

/* The requantization options of runtime/mco_config.h a plan allows. */
typedef struct {
    int right_only, fast;
} requant_options;

/* Narrows *o for n output stages with these multipliers and shifts (one
 * for all if `shared`), whose accumulators stay within
 * bias[i] + fan_in * 128 * 255 in magnitude (bias NULL: within 2^29, the
 * bound of TFLite's int8 Add). */
static void check_requant(requant_options *o, int32_t n, const int32_t *multiplier, const int32_t *shift,
                          int shared, const int32_t *bias, int64_t fan_in)
{
    for (int32_t i = 0; i < n; i++) {
        int32_t m = multiplier[shared ? 0 : i], e = shift[shared ? 0 : i];
        int64_t bound = bias ? llabs((long long)bias[i]) + fan_in * 128 * 255 : (int64_t)1 << 29;
        if (m < 0 || e > -1 || e < -31) o->right_only = o->fast = 0;
        if (e < -22 || bound >= ((int64_t)1 << 30)) o->fast = 0;
    }
}

static requant_options requant_allowed(const mco_plan *plan)
{
    requant_options o = {1, 1};
    const mco_op *ops = plan->ops;
    for (int k = 0; k < plan->n_ops; k++) {
        const void *params = ops[k].params;
        int32_t n = plan->info[k].n_channels;
        switch (plan->info[k].params_type) {
        case MCO_PARAMS_CONV_S8: {
            const mco_conv_s8_params *p = params;
            int64_t fan_in = (int64_t)p->win.kernel_h * p->win.kernel_w * p->win.in_c;
            if (p->multiplier)   /* else prepared words the kernel requantizes with itself */
                check_requant(&o, n, p->multiplier, p->shift, 0, (const int32_t *)ops[k].bias, fan_in);
            break;
        }
        case MCO_PARAMS_FC_S8: {
            const mco_fc_s8_params *p = params;
            check_requant(&o, n, p->multiplier, p->shift, p->per_tensor, (const int32_t *)ops[k].bias, p->in_size);
            break;
        }
        case MCO_PARAMS_ADD_S8: {
            const mco_add_s8_params *p = params;
            check_requant(&o, 1, &p->output_multiplier, &p->output_shift, 0, NULL, 0);
            break;
        }
        default: break;
        }
    }
    return o;
}

int mco_plan_conv3x3_asm_shape(const mco_plan *plan, int32_t shape[3])
{
    const mco_op *ops = plan->ops;
    int found = 0, same = 1;
    shape[0] = shape[1] = shape[2] = 0;
    for (int k = 0; k < plan->n_ops; k++) {
        if (ops[k].kind != MCO_OP_CONV3X3_MAXPOOL_S8) continue;
        const mco_window *w = &((const mco_conv_s8_params *)ops[k].params)->win;
        if (found && (w->in_h != shape[0] || w->in_w != shape[1] || w->out_c != shape[2])) same = 0;
        shape[0] = w->in_h;
        shape[1] = w->in_w;
        shape[2] = w->out_c;
        found = 1;
    }
    if (!found || !same || shape[1] % 4 != 0 || shape[2] > 255 ||
        (int64_t)shape[0] * shape[1] > MCO_CONV3X3_ASM_MAX_PIXELS) {
        shape[0] = shape[1] = shape[2] = 0;
        return 0;
    }
    return 1;
}

const char *const mco_emit_shortcut_names[MCO_SHORTCUT_COUNT] = {
    "MCO_REQUANT_RIGHT_ONLY",
    "MCO_REQUANT_FAST",
    "MCO_FC_WIDE_ONLY",
    "MCO_FC_UNROLL",
    "MCO_FC_ROWS_ONLY",
    "MCO_FC_INTERLEAVED_ONLY",
};

/* 1 when every int8 Dense layer has at least FC_S8_ROWS units, so
 * mco_fully_connected_s8 never needs its two-unit pass. */
static int fc_wide_only(const mco_plan *plan)
{
    for (int k = 0; k < plan->n_ops; k++)
        if (plan->ops[k].kind == MCO_OP_FULLY_CONNECTED_S8 &&
            ((const mco_fc_s8_params *)plan->ops[k].params)->out_size < MCO_FC_S8_ROWS)
            return 0;
    return 1;
}

/* 1 when the model's int8 Dense layers run at least MCO_FC_UNROLL_MIN_TURNS
 * turns of the kernel's word loop (four inputs x five units each) per
 * inference: unrolled, each turn saves about 2 cycles on a Cortex-M4 for
 * some 120 bytes of code (mco_config.h), so below that the smaller loop is
 * kept (mnist-paper's one 10-unit Dense layer: 1,014 turns; the anomaly
 * autoencoder: 13,364). */
#define MCO_FC_UNROLL_MIN_TURNS 4096

static int fc_unroll(const mco_plan *plan)
{
    double turns = 0;
    for (int k = 0; k < plan->n_ops; k++) {
        if (plan->ops[k].kind != MCO_OP_FULLY_CONNECTED_S8) continue;
        const mco_fc_s8_params *p = plan->ops[k].params;
        if (p->out_size < MCO_FC_S8_ROWS) continue;   /* the two-unit pass has no assembly */
        turns += (double)((p->out_size + MCO_FC_S8_ROWS - 1) / MCO_FC_S8_ROWS) * (double)(p->in_size / 4);
    }
    return turns >= MCO_FC_UNROLL_MIN_TURNS;
}

/* 1 when every int8 Dense layer of MCO_FC_S8_ROWS units or more has the
 * weight layout `interleaved` (0: [units][in]), so the kernel leaves the
 * other layout's pass out. */
static int fc_layout_only(const mco_plan *plan, int32_t interleaved)
{
    for (int k = 0; k < plan->n_ops; k++) {
        if (plan->ops[k].kind != MCO_OP_FULLY_CONNECTED_S8) continue;
        const mco_fc_s8_params *p = plan->ops[k].params;
        if (p->out_size >= MCO_FC_S8_ROWS && p->interleaved != interleaved) return 0;
    }
    return 1;
}

void mco_emit_runtime_config(const mco_plan *plan, mco_emit_config *cfg)
{
    requant_options o = requant_allowed(plan);
    cfg->shortcut[MCO_SHORTCUT_REQUANT_RIGHT_ONLY] = o.right_only;
    cfg->shortcut[MCO_SHORTCUT_REQUANT_FAST] = o.fast;
    cfg->shortcut[MCO_SHORTCUT_FC_WIDE_ONLY] = fc_wide_only(plan);
    cfg->shortcut[MCO_SHORTCUT_FC_UNROLL] = fc_unroll(plan);
    cfg->shortcut[MCO_SHORTCUT_FC_ROWS_ONLY] = fc_layout_only(plan, 0);
    cfg->shortcut[MCO_SHORTCUT_FC_INTERLEAVED_ONLY] = fc_layout_only(plan, 1);
    mco_plan_conv3x3_asm_shape(plan, cfg->conv3x3_shape);
    cfg->uses_conv3x3 = 0;
    for (int k = 0; k < plan->n_ops; k++) cfg->uses_conv3x3 |= plan->ops[k].kind == MCO_OP_CONV3X3_MAXPOOL_S8;
}

static void write_option(FILE *f, const char *name, int value)
{
    fprintf(f, "#ifndef %s\n#define %s %d\n#endif\n", name, name, value);
}

/* Each option is the model's value unless the build defines it: a firmware
 * with several models compiles one runtime with the options all of them
 * allow (the package's CMakeLists.txt and NAME.mk pass them as -D). */
static void write_config(FILE *f, const mco_plan *plan)
{
    fputs("/*\n"
          " * mco_config.h - the runtime's compile-time options for this model, written\n"
          " * by mcuopt emit from the model's plan (the runtime's own copy holds the\n"
          " * host's settings and explains each option). A build with several models\n"
          " * defines them (-D) to what every model allows: CMakeLists.txt and the .mk\n"
          " * fragment do it.\n"
          " */\n"
          "#ifndef MCO_CONFIG_H\n"
          "#define MCO_CONFIG_H\n\n", f);
    mco_emit_config c;
    mco_emit_runtime_config(plan, &c);
    for (int i = 0; i < MCO_SHORTCUT_COUNT; i++) write_option(f, mco_emit_shortcut_names[i], c.shortcut[i]);
    const char *shape_names[3] = {"MCO_CONV3X3_IN_H", "MCO_CONV3X3_IN_W", "MCO_CONV3X3_OUT_C"};
    for (int i = 0; i < 3; i++) write_option(f, shape_names[i], (int)c.conv3x3_shape[i]);
    fputs("\n#endif\n", f);
}

static mco_status copy_file(const mco_plan *plan, const runtime_file *rf, const char *dir, mco_emit_result *res)
{
    char name[MCO_EMIT_NAME_MAX];
    snprintf(name, sizeof name, "%s/%s", MCO_EMIT_RUNTIME_DIR, rf->name);
    mco_emit_file out;
    mco_status st = mco_emit_open(&out, dir, name);
    if (st != MCO_OK) return st;
    if (strcmp(rf->name, "mco_config.h") == 0) write_config(out.f, plan);
    else fputs(rf->text, out.f);
    return mco_emit_close(&out, res, name);
}

mco_status mco_emit_runtime(const mco_context *ctx, const mco_plan *plan, const char *const *functions,
                            const char *dir, mco_emit_result *res)
{
    runtime_set *set = calloc(1, sizeof *set);
    if (!set) return mco_error(MCO_ERR_NOMEM, "emit: out of memory");
    mco_status st = load_set(ctx, set);
    const char *headers[MCO_EMIT_MAX_HEADERS];
    int n_headers = mco_emit_kernel_headers(plan, headers);
    for (int h = 0; st == MCO_OK && h < n_headers; h++) {
        int i = find_file(set, headers[h]);
        if (i < 0) st = mco_error(MCO_ERR_NOT_FOUND, "%s: no %s", set->dir, headers[h]);
        else set->files[i].chosen = 1;
    }
    const mco_op *ops = plan->ops;
    for (int k = 0; st == MCO_OK && k < plan->n_ops; k++) {
        const char *fn = mco_op_kernel_function((int)ops[k].kind);
        int i = fn ? defining_file(set, fn) : -1;
        if (i < 0)
            st = mco_error(MCO_ERR_NOT_FOUND, "%s: no runtime file defines %s (op %s)", set->dir, fn ? fn : "?",
                           mco_op_kind_name((int)ops[k].kind));
        else
            set->files[i].chosen = 1;
    }
    for (int k = 0; st == MCO_OK && functions && functions[k]; k++) {
        int i = defining_file(set, functions[k]);
        if (i < 0) st = mco_error(MCO_ERR_NOT_FOUND, "%s: no runtime file defines %s", set->dir, functions[k]);
        else set->files[i].chosen = 1;
    }
    if (st == MCO_OK) {
        for (int changed = 1; changed;) {
            changed = 0;
            for (int i = 0; i < set->n; i++) {
                if (!set->files[i].chosen || set->files[i].scanned) continue;
                set->files[i].scanned = 1;
                scan(set, i, !set->files[i].is_source);
                changed = 1;
            }
        }
    }
    char sub[4200];
    snprintf(sub, sizeof sub, "%s/%s", dir, MCO_EMIT_RUNTIME_DIR);
    if (st == MCO_OK && mkdir(sub, 0755) != 0 && errno != EEXIST)
        st = mco_error(MCO_ERR_IO, "%s: %s", sub, strerror(errno));
    for (int i = 0; st == MCO_OK && i < set->n; i++)
        if (set->files[i].chosen) st = copy_file(plan, &set->files[i], dir, res);
    free_set(set);
    free(set);
    return st;
}
