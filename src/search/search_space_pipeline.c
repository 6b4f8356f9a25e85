/*
 * search_space_pipeline.c - the search space of `mcuopt search` and the
 * mapping between its points and pipeline texts (see search_driver.h).
 *
 * Dimensions (a stage's parameters are sampled even when the stage is off,
 * as TPE flattens the tree; they then simply do not appear in the text):
 *   structured   channel ratio removed by structured pruning, [0, 0.75];
 *                below 0.05 there is no structured pruning
 *   criterion    l1 | l2 (structured pruning's channel importance)
 *   sparsity     unstructured sparsity [0, 0.8] in steps of 0.1, below 0.05
 *                off (only when the pipeline can run prune:sparsity=); it is
 *                part of the dry text, as sparse kernels change Flash and speed
 *   distill      off | on; T [1, 8]; alpha [0, 1]
 *   qat          off | on (only when the pipeline can run qat:), one epoch;
 *                with int8 weights it replaces quant (QAT makes the int8
 *                deploy model itself), otherwise it is unused
 *   epochs       1..3 epochs of recovery training (fine-tuning in the last
 *                pruning stage, or distillation)
 *   lr           its learning rate, log-uniform [2e-4, 3e-3]
 *   weights      int8 | int4 (| float16 on a profile with an FPU)
 *   granularity  tflite (per-channel conv, per-tensor dense: the quant
 *                stage's default, written as no flag) | per_channel | per_tensor
 *   calibration  minmax | percentile | mse
 *   order        prune-first | distill-first (prune -> distill -> quant, or
 *                distill -> prune with fine-tuning -> quant)
 * The text is canonical: settings that change nothing are left out, so two
 * points that build the same pipeline give the same text (and the trial
 * store runs it once).
 *
 * What it leaves out: mixed int8/int4 per layer (the quant stage has no
 * per-layer formats yet), apoz / mean-activation criteria (they need
 * activation statistics; l1/l2 are free), int8-weights-only modes (float
 * activations: slower and larger than int8 on every profile).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcuopt/pipeline.h"
#include "mcuopt/search_driver.h"

#define PRUNE_MIN 0.05   /* ratios / sparsities below this mean "no pruning" */
#define DRY_CALIBRATION_SAMPLES 32

static void add_float(mco_search_space *s, const char *name, double low, double high, int log_scale)
{
    mco_search_dim *d = &s->dims[s->n_dims++];
    memset(d, 0, sizeof *d);
    d->name = name;
    d->kind = MCO_DIM_FLOAT;
    d->low = low;
    d->high = high;
    d->log_scale = log_scale;
}

static void add_int(mco_search_space *s, const char *name, int low, int high)
{
    add_float(s, name, low, high, 0);
    s->dims[s->n_dims - 1].kind = MCO_DIM_INT;
}

static void add_choices(mco_search_space *s, const char *name, int n, const char *const *choices)
{
    mco_search_dim *d = &s->dims[s->n_dims++];
    memset(d, 0, sizeof *d);
    d->name = name;
    d->kind = MCO_DIM_CATEGORICAL;
    d->n_choices = n;
    for (int i = 0; i < n; i++) d->choices[i] = choices[i];
}

/* The names of a mask's bits, in bit order. */
static const char *const format_names[] = {"int8", "int4", "float16"};
static const char *const stage_names[] = {"prune", "distill", "qat", "quant"};

/* "a,b,c" of names[0..n) -> a mask of 1 << index. */
static mco_status parse_names(const char *list, const char *what, const char *const *names, int n, unsigned *mask)
{
    *mask = 0;
    const char *p = list;
    for (;;) {
        size_t len = strcspn(p, ",");
        int found = -1;
        for (int i = 0; i < n && found < 0; i++)
            if (len == strlen(names[i]) && strncmp(p, names[i], len) == 0) found = i;
        if (found < 0) {
            char known[64] = "";
            for (int i = 0; i < n; i++)
                snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "", names[i]);
            if (len == 0) return mco_error(MCO_ERR_ARG, "%s: an empty name in '%s' (known: %s)", what, list, known);
            return mco_error(MCO_ERR_ARG, "%s: unknown '%.*s' (known: %s)", what, (int)(len > 32 ? 32 : len), p,
                             known);
        }
        *mask |= 1u << found;
        if (p[len] == '\0') break;
        p += len + 1;
    }
    return MCO_OK;
}

mco_status mco_search_parse_formats(const char *list, const char *what, unsigned *mask)
{
    return parse_names(list, what, format_names, 3, mask);
}

mco_status mco_search_parse_stages(const char *list, const char *what, unsigned *mask)
{
    mco_status st = parse_names(list, what, stage_names, 4, mask);
    if (st == MCO_OK) *mask |= MCO_STAGE_QUANT;
    return st;
}

mco_status mco_pipeline_space_build(const mco_target_profile *target, const mco_pipeline_space_caps *caps,
                                    mco_search_space *space)
{
    static const char *const on_off[] = {"off", "on"};
    static const char *const criteria[] = {"l1", "l2"};
    static const char *const granularity[] = {"tflite", "per_channel", "per_tensor"};
    static const char *const calibration[] = {"minmax", "percentile", "mse"};
    static const char *const order[] = {"prune-first", "distill-first"};
    memset(space, 0, sizeof *space);
    unsigned stages = caps && caps->stages ? caps->stages : ~0u;
    unsigned asked = caps ? caps->formats : 0;
    int fpu = target && target->fpu != MCO_FPU_NONE;
    unsigned possible = MCO_FORMAT_INT8 | MCO_FORMAT_INT4 | (caps && caps->float16 && fpu ? MCO_FORMAT_FLOAT16 : 0);
    if ((asked & MCO_FORMAT_FLOAT16) && !fpu)
        return mco_error(MCO_ERR_ARG, "search: float16 weights need an FPU; %s has none (use int8 or int4)",
                         target ? target->name : "the target");
    unsigned formats = asked ? asked & possible : possible;
    const char *weights[3];
    int n_weights = 0;
    for (int i = 0; i < 3; i++)
        if (formats & (1u << i)) weights[n_weights++] = format_names[i];
    if (n_weights == 0) return mco_error(MCO_ERR_ARG, "search: no weight format left to search");
    int prune = (stages & MCO_STAGE_PRUNE) != 0, distill = (stages & MCO_STAGE_DISTILL) != 0;
    int qat = (stages & MCO_STAGE_QAT) && caps && caps->qat && (formats & MCO_FORMAT_INT8);
    if (prune) {
        add_float(space, "structured", 0.0, 0.75, 0);
        add_choices(space, "criterion", 2, criteria);
        if (caps && caps->unstructured) add_float(space, "sparsity", 0.0, 0.8, 0);
    }
    if (distill) {
        add_choices(space, "distill", 2, on_off);
        add_float(space, "T", 1.0, 8.0, 0);
        add_float(space, "alpha", 0.0, 1.0, 0);
    }
    if (qat) add_choices(space, "qat", 2, on_off);
    if (prune || distill || qat) {   /* the training stages' settings */
        add_int(space, "epochs", 1, 3);
        add_float(space, "lr", 2e-4, 3e-3, 1);
    }
    add_choices(space, "weights", n_weights, weights);
    add_choices(space, "granularity", 3, granularity);
    add_choices(space, "calibration", 3, calibration);
    if (prune && distill) add_choices(space, "order", 2, order);
    return MCO_OK;
}

static int dim_index(const mco_search_space *s, const char *name)
{
    for (int d = 0; d < s->n_dims; d++)
        if (strcmp(s->dims[d].name, name) == 0) return d;
    return -1;
}

/* The value of a dimension (fallback when the space lacks it). */
static double value_of(const mco_search_space *s, const mco_search_point *x, const char *name, double fallback)
{
    int d = dim_index(s, name);
    return d < 0 ? fallback : x->v[d];
}

static const char *choice_of(const mco_search_space *s, const mco_search_point *x, const char *name,
                             const char *fallback)
{
    int d = dim_index(s, name);
    if (d < 0) return fallback;
    int i = (int)x->v[d];
    if (i < 0) i = 0;
    if (i >= s->dims[d].n_choices) i = s->dims[d].n_choices - 1;
    return s->dims[d].choices[i];
}

/* A small appender that records overflow. */
typedef struct {
    char *buf;
    size_t size, used;
    int overflow;
} text;

static void put(text *t, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void put(text *t, const char *fmt, ...)
{
    if (t->overflow) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->buf + t->used, t->size - t->used, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= t->size - t->used) {
        t->overflow = 1;
        return;
    }
    t->used += (size_t)n;
}

static void stage_sep(text *t)
{
    if (t->used > 0) put(t, " -> ");
}

mco_status mco_pipeline_space_config(const mco_search_space *space, const mco_search_point *x, int dry, char *buf,
                                     size_t size)
{
    text t = {buf, size, 0, 0};
    if (size) buf[0] = '\0';
    double structured = round(value_of(space, x, "structured", 0.0) * 100.0) / 100.0;
    /* Sparsity in steps of 0.1: it changes the deployed structure (sparse
     * kernels), and every structure is measured once. */
    double sparsity = round(value_of(space, x, "sparsity", 0.0) * 10.0) / 10.0;
    int prune_s = structured >= PRUNE_MIN, prune_u = sparsity >= PRUNE_MIN;
    int distill = strcmp(choice_of(space, x, "distill", "off"), "on") == 0;
    int qat = strcmp(choice_of(space, x, "qat", "off"), "on") == 0;
    int epochs = (int)lround(value_of(space, x, "epochs", 1.0));
    char lr[32];
    snprintf(lr, sizeof lr, "%.2g", value_of(space, x, "lr", 1e-3));
    const char *weights = choice_of(space, x, "weights", "int8");
    int distill_first = distill && (prune_s || prune_u) && strcmp(choice_of(space, x, "order", "prune-first"), "distill-first") == 0;

    if (!dry && distill && distill_first) {
        stage_sep(&t);
        put(&t, "distill:T=%.1f,alpha=%.2f,epochs=%d,lr=%s", value_of(space, x, "T", 4.0),
            value_of(space, x, "alpha", 0.5), epochs, lr);
    }
    /* The last pruning stage fine-tunes unless distillation follows it. */
    int prune_trains = !dry && (!distill || distill_first);
    if (prune_s) {
        stage_sep(&t);
        put(&t, "prune:structured=%.2f,criterion=%s", structured, choice_of(space, x, "criterion", "l1"));
        if (prune_trains && !prune_u) put(&t, ",epochs=%d,lr=%s", epochs, lr);
    }
    if (prune_u) {
        stage_sep(&t);
        put(&t, "prune:sparsity=%.1f", sparsity);
        if (prune_trains) put(&t, ",epochs=%d,lr=%s", epochs, lr);
    }
    if (!dry && distill && !distill_first) {
        stage_sep(&t);
        put(&t, "distill:T=%.1f,alpha=%.2f,epochs=%d,lr=%s", value_of(space, x, "T", 4.0),
            value_of(space, x, "alpha", 0.5), epochs, lr);
    }
    /* QAT ends the pipeline itself with an int8 deploy model, so
     * it stands for quant when the weights are int8. */
    int use_qat = qat && strcmp(weights, "int8") == 0;
    stage_sep(&t);
    if (use_qat && !dry) {
        put(&t, "qat:epochs=1,lr=%s", lr);
    } else if (strcmp(weights, "float16") == 0) {
        put(&t, "quant:float16");
    } else {
        const char *granularity = use_qat ? "tflite" : choice_of(space, x, "granularity", "tflite");
        put(&t, "quant:%s%s%s,calibration=%s", weights, strcmp(granularity, "tflite") == 0 ? "" : ",",
            strcmp(granularity, "tflite") == 0 ? "" : granularity,
            dry ? "minmax" : choice_of(space, x, "calibration", "minmax"));
        if (dry) put(&t, ",samples=%d", DRY_CALIBRATION_SAMPLES);
    }
    if (t.overflow) return mco_error(MCO_ERR_RANGE, "search: pipeline text longer than %zu bytes", size);
    return MCO_OK;
}

/* ---- text -> point ----------------------------------------------------------- */

static void set_value(const mco_search_space *s, mco_search_point *x, const char *name, double v)
{
    int d = dim_index(s, name);
    if (d >= 0) x->v[d] = v;
}

static mco_status set_choice(const mco_search_space *s, mco_search_point *x, const char *name, const char *choice)
{
    int d = dim_index(s, name);
    if (d < 0) return mco_error(MCO_ERR_ARG, "search: '%s' is not a dimension of this search space", name);
    for (int i = 0; i < s->dims[d].n_choices; i++)
        if (strcmp(s->dims[d].choices[i], choice) == 0) {
            x->v[d] = i;
            return MCO_OK;
        }
    return mco_error(MCO_ERR_ARG, "search: '%s' is not a choice of %s", choice, name);
}

static const char *param_value(const mco_stage *stage, const char *key)
{
    for (int i = 0; i < stage->n_params; i++)
        if (strcmp(stage->params[i].key, key) == 0) return stage->params[i].value;
    return NULL;
}

static int has_flag(const mco_stage *stage, const char *flag)
{
    const char *v = param_value(stage, flag);
    return v && v[0] == '\0';
}

/* epochs= and lr= of a training stage, if given. */
static void read_training(const mco_search_space *s, const mco_stage *stage, mco_search_point *x)
{
    const char *epochs = param_value(stage, "epochs"), *lr = param_value(stage, "lr");
    if (epochs && strcmp(stage->kind, "qat") != 0) set_value(s, x, "epochs", atof(epochs));
    if (lr) set_value(s, x, "lr", atof(lr));
}

mco_status mco_pipeline_space_point(const mco_search_space *space, const char *config, mco_search_point *x)
{
    mco_pipeline p;
    mco_status st = mco_pipeline_parse(config, "search config", &p);
    if (st != MCO_OK) return st;
    memset(x, 0, sizeof *x);
    for (int d = 0; d < space->n_dims; d++)
        x->v[d] = space->dims[d].kind == MCO_DIM_CATEGORICAL ? 0.0 : space->dims[d].low;
    int seen_prune = 0;
    for (int i = 0; i < p.n_stages && st == MCO_OK; i++) {
        const mco_stage *stage = &p.stages[i];
        const char *v;
        read_training(space, stage, x);
        if (strcmp(stage->kind, "prune") == 0) {
            seen_prune = 1;
            if ((v = param_value(stage, "structured"))) set_value(space, x, "structured", atof(v));
            if ((v = param_value(stage, "sparsity"))) set_value(space, x, "sparsity", atof(v));
            if ((v = param_value(stage, "criterion"))) st = set_choice(space, x, "criterion", v);
        } else if (strcmp(stage->kind, "distill") == 0) {
            st = set_choice(space, x, "distill", "on");
            if (st == MCO_OK && !seen_prune) st = set_choice(space, x, "order", "distill-first");
            if ((v = param_value(stage, "T"))) set_value(space, x, "T", atof(v));
            if ((v = param_value(stage, "alpha"))) set_value(space, x, "alpha", atof(v));
        } else if (strcmp(stage->kind, "qat") == 0) {
            st = set_choice(space, x, "qat", "on");
            if (st == MCO_OK) st = set_choice(space, x, "weights", "int8");
        } else if (strcmp(stage->kind, "quant") == 0) {
            static const char *const modes[] = {"int8", "int4", "float16"};
            for (int m = 0; m < 3 && st == MCO_OK; m++)
                if (has_flag(stage, modes[m])) st = set_choice(space, x, "weights", modes[m]);
            if (st == MCO_OK && has_flag(stage, "per_tensor")) st = set_choice(space, x, "granularity", "per_tensor");
            if (st == MCO_OK && has_flag(stage, "per_channel")) st = set_choice(space, x, "granularity", "per_channel");
            if (st == MCO_OK && (v = param_value(stage, "calibration"))) st = set_choice(space, x, "calibration", v);
        } else {
            st = mco_error(MCO_ERR_ARG, "search: stage '%s' is not made by the search space", stage->kind);
        }
    }
    /* distill-first without any pruning stage is written as plain distillation. */
    if (st == MCO_OK && !seen_prune && dim_index(space, "order") >= 0) st = set_choice(space, x, "order", "prune-first");
    return st;
}

int mco_pipeline_space_smallest(const mco_search_space *space, mco_search_point *points, int max)
{
    static const char *const narrow[] = {"int4", "int8", "float16"};
    int n = 0;
    for (int w = 0; w < 3 && n < max; w++) {
        mco_search_point *x = &points[n];
        memset(x, 0, sizeof *x);
        for (int d = 0; d < space->n_dims; d++)
            x->v[d] = space->dims[d].kind == MCO_DIM_CATEGORICAL ? 0.0 : space->dims[d].low;
        int structured = dim_index(space, "structured"), sparsity = dim_index(space, "sparsity");
        if (structured >= 0) x->v[structured] = space->dims[structured].high;
        if (sparsity >= 0) x->v[sparsity] = space->dims[sparsity].high;
        /* off / the first choice elsewhere: distill and qat "off" */
        if (set_choice(space, x, "weights", narrow[w]) != MCO_OK) continue;
        set_choice(space, x, "granularity", "per_tensor");
        n++;
    }
    mco_clear_error();   /* a choice this space lacks is not an error */
    return n;
}

void mco_pipeline_space_describe(const mco_search_space *space, char *buf, size_t size)
{
    text t = {buf, size, 0, 0};
    if (size) buf[0] = '\0';
    for (int d = 0; d < space->n_dims; d++) {
        const mco_search_dim *dim = &space->dims[d];
        put(&t, "%s%s=", d ? " " : "", dim->name);
        if (dim->kind == MCO_DIM_CATEGORICAL)
            for (int i = 0; i < dim->n_choices; i++) put(&t, "%s%s", i ? "|" : "", dim->choices[i]);
        else
            put(&t, "[%g,%g]%s", dim->low, dim->high, dim->log_scale ? "log" : "");
    }
}
