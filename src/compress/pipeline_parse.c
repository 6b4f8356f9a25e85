/*
 * pipeline_parse.c - the text form of a compression pipeline (syntax in
 * pipeline.h and docs/pipeline.md): splitting it into stages, checking each
 * stage's kind against the stage table, and each kind's parameters into its
 * typed config. Every error is one line naming the origin, the stage and the
 * offending word.
 *
 * What it leaves out: quoting (values cannot contain ',', '#' or "->"),
 * includes and variables in config files.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline_internal.h"
#include "mcuopt/file_util.h"
#include "mcuopt/qat.h"

#define PIPELINE_FILE_MAX (1u << 20)   /* a config file larger than this is a mistake */

mco_status mco_stage_error(const mco_stage *stage, mco_status status, const char *fmt, ...)
{
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    return mco_error(status, "%s: stage %d (%s): %s", stage->where, stage->index, stage->kind, message);
}

/* ---- parameter values ------------------------------------------------------- */

static mco_status param_float(const mco_stage *s, const mco_stage_param *p, double min, double max,
                              int min_inclusive, float *out)
{
    char *end;
    errno = 0;
    double v = strtod(p->value, &end);
    if (p->value[0] == '\0' || *end != '\0' || errno != 0 || !isfinite(v))
        return mco_stage_error(s, MCO_ERR_ARG, "%s expects a number, not '%s'", p->key, p->value);
    if (v > max || v < min || (!min_inclusive && v == min))
        return mco_stage_error(s, MCO_ERR_RANGE, "%s=%s is outside %s%g, %g]", p->key, p->value,
                               min_inclusive ? "[" : "(", min, max);
    *out = (float)v;
    return MCO_OK;
}

static mco_status param_int(const mco_stage *s, const mco_stage_param *p, long min, long max, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(p->value, &end, 10);
    if (p->value[0] == '\0' || *end != '\0' || errno != 0)
        return mco_stage_error(s, MCO_ERR_ARG, "%s expects a whole number, not '%s'", p->key, p->value);
    if (v < min || v > max)
        return mco_stage_error(s, MCO_ERR_RANGE, "%s=%s is outside [%ld, %ld]", p->key, p->value, min, max);
    *out = (int)v;
    return MCO_OK;
}

/* 1 if `key` is one of the comma-separated words of `list`. */
static int key_listed(const char *list, const char *key)
{
    size_t n = strlen(key);
    for (const char *w = list; *w;) {
        while (*w == ' ' || *w == ',') w++;
        size_t len = strcspn(w, ", ");
        if (len == n && strncmp(w, key, n) == 0) return 1;
        w += len;
    }
    return 0;
}

/* The error for a parameter the kind does not take as written: a known key
 * without its value, or an unknown word. */
static mco_status bad_param(const mco_stage *s, const mco_stage_param *p)
{
    const stage_kind *kind = mco_stage_kind_find(s->kind);
    if (key_listed(kind->keys, p->key)) {
        if (p->value[0] == '\0')
            return mco_stage_error(s, MCO_ERR_ARG, "parameter '%s' needs a value (%s=...)", p->key, p->key);
        return mco_stage_error(s, MCO_ERR_ARG, "'%s' is a flag and takes no value (got '%s')", p->key, p->value);
    }
    return mco_stage_error(s, MCO_ERR_ARG, "unknown parameter '%s' (known: %s)", p->key, kind->keys);
}

/* epochs= and lr=, which every training stage takes. Returns 1 if `p` was one. */
static int training_param(const mco_stage *s, const mco_stage_param *p, stage_training *t, mco_status *st)
{
    if (strcmp(p->key, "epochs") == 0) *st = param_int(s, p, 0, 10000, &t->epochs);
    else if (strcmp(p->key, "lr") == 0) *st = param_float(s, p, 0.0, 10.0, 0, &t->lr);
    else return 0;
    return 1;
}

static int is_flag(const mco_stage_param *p) { return p->value[0] == '\0'; }

/* ---- per-kind parameters -------------------------------------------------------- */

mco_status mco_stage_parse_training(const mco_stage *s, stage_config *config)
{
    stage_training *t = &config->train;
    t->epochs = -1;
    t->lr = 0.0f;
    mco_status st = MCO_OK;
    for (int i = 0; i < s->n_params && st == MCO_OK; i++) {
        const mco_stage_param *p = &s->params[i];
        if (is_flag(p) || !training_param(s, p, t, &st)) return bad_param(s, p);
    }
    return st;
}

static mco_status param_steps(const mco_stage *s, const mco_stage_param *p, long *out)
{
    int v;
    mco_status st = param_int(s, p, 0, 2147483647, &v);
    *out = v;
    return st;
}

mco_status mco_stage_parse_prune(const mco_stage *s, stage_config *config)
{
    prune_config *c = &config->prune;
    memset(c, 0, sizeof *c);
    c->structured = -1;
    c->criterion = MCO_IMPORTANCE_L1;
    c->samples = 256;
    c->min_channels = 1;
    mco_prune_options po;
    mco_prune_options_default(&po);
    c->schedule = po.schedule;
    c->train.epochs = 0;   /* no fine-tuning inside the stage unless asked */
    const char *structured_only = NULL, *unstructured_only = NULL;
    mco_status st = MCO_OK;
    for (int i = 0; i < s->n_params && st == MCO_OK; i++) {
        const mco_stage_param *p = &s->params[i];
        if (is_flag(p)) {
            if (strcmp(p->key, "global") != 0) return bad_param(s, p);
            c->global = 1;
            unstructured_only = p->key;
            continue;
        }
        if (training_param(s, p, &c->train, &st)) continue;
        if (strcmp(p->key, "sparsity") == 0 || strcmp(p->key, "structured") == 0) {
            if (c->structured >= 0)
                return mco_stage_error(s, MCO_ERR_ARG, "give one of sparsity= (unstructured) and structured=, not both");
            c->structured = strcmp(p->key, "structured") == 0;
            st = param_float(s, p, 0.0, c->structured ? 0.999 : 1.0, 1, &c->amount);
        } else if (strcmp(p->key, "criterion") == 0) {
            if (mco_importance_criterion_parse(p->value, &c->criterion) != MCO_OK)
                return mco_stage_error(s, MCO_ERR_ARG, "criterion must be l1, l2, apoz or mean-activation, not '%s'",
                                       p->value);
            structured_only = p->key;
        } else if (strcmp(p->key, "samples") == 0) {
            st = param_int(s, p, 1, 1000000, &c->samples);
            structured_only = p->key;
        } else if (strcmp(p->key, "min_channels") == 0) {
            st = param_int(s, p, 1, 65536, &c->min_channels);
            structured_only = p->key;
        } else if (strcmp(p->key, "initial") == 0) {
            st = param_float(s, p, 0.0, 1.0, 1, &c->schedule.initial_sparsity);
            unstructured_only = p->key;
        } else if (strcmp(p->key, "begin") == 0) {
            st = param_steps(s, p, &c->schedule.begin_step);
            unstructured_only = p->key;
        } else if (strcmp(p->key, "end") == 0) {
            st = param_steps(s, p, &c->schedule.end_step);
            unstructured_only = p->key;
        } else if (strcmp(p->key, "frequency") == 0) {
            st = param_steps(s, p, &c->schedule.frequency);
            if (st == MCO_OK && c->schedule.frequency < 1) st = mco_stage_error(s, MCO_ERR_RANGE, "frequency must be >= 1");
            unstructured_only = p->key;
        } else if (strcmp(p->key, "power") == 0) {
            st = param_float(s, p, 0.0, 100.0, 0, &c->schedule.power);
            unstructured_only = p->key;
        } else {
            return bad_param(s, p);
        }
    }
    if (st != MCO_OK) return st;
    if (c->structured < 0) return mco_stage_error(s, MCO_ERR_ARG, "needs sparsity=S (unstructured) or structured=R");
    if (!c->structured && structured_only)
        return mco_stage_error(s, MCO_ERR_ARG, "%s applies to structured pruning (structured=R) only", structured_only);
    if (c->structured && unstructured_only)
        return mco_stage_error(s, MCO_ERR_ARG, "%s applies to unstructured pruning (sparsity=S) only", unstructured_only);
    c->schedule.target_sparsity = c->amount;
    if (c->schedule.end_step >= 0 && c->schedule.end_step <= c->schedule.begin_step)
        return mco_stage_error(s, MCO_ERR_ARG, "end=%ld must be after begin=%ld", c->schedule.end_step,
                               c->schedule.begin_step);
    return MCO_OK;
}

mco_status mco_stage_parse_qat(const mco_stage *s, stage_config *config)
{
    qat_config *c = &config->qat;
    c->train.epochs = -1;
    c->train.lr = 2e-4f;   /* QAT fine-tunes a trained model: the training default would undo it */
    mco_qat_config q;
    mco_qat_config_default(&q);
    c->ema_decay = q.ema_decay;
    c->freeze_fraction = q.freeze_fraction;
    mco_status st = MCO_OK;
    for (int i = 0; i < s->n_params && st == MCO_OK; i++) {
        const mco_stage_param *p = &s->params[i];
        if (is_flag(p)) return bad_param(s, p);
        if (training_param(s, p, &c->train, &st)) continue;
        if (strcmp(p->key, "ema_decay") == 0) st = param_float(s, p, 0.0, 0.999999, 1, &c->ema_decay);
        else if (strcmp(p->key, "freeze") == 0) st = param_float(s, p, 0.0, 1.0, 1, &c->freeze_fraction);
        else return bad_param(s, p);
    }
    if (st == MCO_OK && c->train.epochs == 0)
        return mco_stage_error(s, MCO_ERR_RANGE, "epochs=0: QAT learns its activation ranges while training");
    return st;
}

mco_status mco_stage_parse_distill(const mco_stage *s, stage_config *config)
{
    distill_config *c = &config->distill;
    memset(c, 0, sizeof *c);
    c->temperature = 4.0f;
    c->alpha = 0.1f;
    c->train.epochs = -1;
    mco_status st = MCO_OK;
    for (int i = 0; i < s->n_params && st == MCO_OK; i++) {
        const mco_stage_param *p = &s->params[i];
        if (is_flag(p)) return bad_param(s, p);
        if (training_param(s, p, &c->train, &st)) continue;
        if (strcmp(p->key, "T") == 0 || strcmp(p->key, "temperature") == 0)
            st = param_float(s, p, 0.0, 1000.0, 0, &c->temperature);
        else if (strcmp(p->key, "alpha") == 0)
            st = param_float(s, p, 0.0, 1.0, 1, &c->alpha);
        else if (strcmp(p->key, "teacher") == 0)
            snprintf(c->teacher, sizeof c->teacher, "%s", p->value);
        else
            return bad_param(s, p);
    }
    return st;
}

typedef struct {
    const char *name;
    mco_activation_format activations;
    mco_weight_format weights;
} quant_mode;

static const quant_mode quant_modes[] = {
    {"float16", MCO_ACT_F32, MCO_WEIGHTS_F16},
    {"int8-weights", MCO_ACT_F32, MCO_WEIGHTS_S8},
    {"int8", MCO_ACT_S8, MCO_WEIGHTS_S8},
    {"int4-weights", MCO_ACT_F32, MCO_WEIGHTS_S4},
    {"int4", MCO_ACT_S8, MCO_WEIGHTS_S4},
};

mco_status mco_quant_mode_parse(const char *name, mco_quant_options *opt)
{
    for (size_t i = 0; i < sizeof quant_modes / sizeof quant_modes[0]; i++)
        if (strcmp(name, quant_modes[i].name) == 0) {
            opt->activation_format = quant_modes[i].activations;
            opt->weight_format = quant_modes[i].weights;
            return MCO_OK;
        }
    return mco_error(MCO_ERR_ARG, "unknown quantization mode '%s' (known: float16, int8-weights, int8, int4-weights, int4)",
                     name);
}

mco_status mco_stage_parse_quant(const mco_stage *s, stage_config *config)
{
    mco_quant_options *q = &config->quant.options;
    mco_quant_options_default(q);
    int mode_given = 0, layout_given = 0;
    mco_status st = MCO_OK;
    for (int i = 0; i < s->n_params && st == MCO_OK; i++) {
        const mco_stage_param *p = &s->params[i];
        const char *mode = is_flag(p) ? p->key : (strcmp(p->key, "mode") == 0 ? p->value : NULL);
        if (mode && mco_quant_mode_parse(mode, q) == MCO_OK) {
            if (mode_given++) return mco_stage_error(s, MCO_ERR_ARG, "more than one quantization mode ('%s')", mode);
        } else if (mode && !is_flag(p)) {
            return mco_stage_error(s, MCO_ERR_ARG, "mode must be float16, int8-weights, int8, int4-weights or int4, not '%s'",
                                   mode);
        } else if (is_flag(p) && (strcmp(p->key, "per_channel") == 0 || strcmp(p->key, "per_tensor") == 0)) {
            if (layout_given++) return mco_stage_error(s, MCO_ERR_ARG, "give one of per_channel and per_tensor");
            q->granularity = strcmp(p->key, "per_channel") == 0 ? MCO_GRANULARITY_PER_CHANNEL : MCO_GRANULARITY_PER_TENSOR;
        } else if (is_flag(p) && strcmp(p->key, "symmetric") == 0) {
            q->symmetric_activations = 1;
        } else if (strcmp(p->key, "calibration") == 0 && !is_flag(p)) {
            if (strcmp(p->value, "minmax") == 0) q->calibration = MCO_CALIBRATE_MINMAX;
            else if (strcmp(p->value, "percentile") == 0) q->calibration = MCO_CALIBRATE_PERCENTILE;
            else if (strcmp(p->value, "mse") == 0) q->calibration = MCO_CALIBRATE_MSE;
            else return mco_stage_error(s, MCO_ERR_ARG, "calibration must be minmax, percentile or mse, not '%s'", p->value);
        } else if (strcmp(p->key, "percentile") == 0 && !is_flag(p)) {
            st = param_float(s, p, 50.0, 100.0, 0, &q->percentile);
        } else if (strcmp(p->key, "samples") == 0 && !is_flag(p)) {
            st = param_int(s, p, 1, 1000000, &q->calibration_samples);
        } else {
            return bad_param(s, p);
        }
    }
    if (st == MCO_OK && !mode_given)
        return mco_stage_error(s, MCO_ERR_ARG, "needs a mode: int8, int8-weights, int4, int4-weights or float16");
    return st;
}

/* ---- splitting the text into stages --------------------------------------------- */

/* Copies [begin, end) without surrounding spaces into buf (size bytes);
 * returns 0 if it does not fit. */
static int copy_trimmed(const char *begin, const char *end, char *buf, size_t size)
{
    while (begin < end && isspace((unsigned char)*begin)) begin++;
    while (end > begin && isspace((unsigned char)end[-1])) end--;
    size_t n = (size_t)(end - begin);
    if (n >= size) return 0;
    memcpy(buf, begin, n);
    buf[n] = '\0';
    return 1;
}

static int is_blank(const char *begin, const char *end)
{
    for (; begin < end; begin++)
        if (!isspace((unsigned char)*begin)) return 0;
    return 1;
}

/* Parses one stage's text [begin, end) (not blank) into *s. */
static mco_status parse_stage(const char *begin, const char *end, mco_stage *s)
{
    /* the text without spaces, for reports */
    size_t k = 0;
    for (const char *c = begin; c < end && k + 1 < sizeof s->text; c++)
        if (!isspace((unsigned char)*c)) s->text[k++] = *c;
    s->text[k] = '\0';

    const char *colon = memchr(begin, ':', (size_t)(end - begin));
    const char *kind_end = colon ? colon : end;
    if (!copy_trimmed(begin, kind_end, s->kind, sizeof s->kind) || !mco_stage_kind_find(s->kind)) {
        char kind[64], known[160];
        if (!copy_trimmed(begin, kind_end, kind, sizeof kind)) snprintf(kind, sizeof kind, "%.40s...", begin);
        mco_stage_kind_list(known, sizeof known);
        return mco_error(MCO_ERR_ARG, "%s: stage %d: unknown stage '%s' (known: %s)", s->where, s->index, kind, known);
    }
    const char *p = colon ? colon + 1 : end;
    if (colon && is_blank(p, end)) return mco_stage_error(s, MCO_ERR_ARG, "nothing after ':'");
    while (colon && p <= end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *item_end = comma ? comma : end;
        if (is_blank(p, item_end)) return mco_stage_error(s, MCO_ERR_ARG, "empty parameter (two commas, or a comma at the end)");
        if (s->n_params == MCO_STAGE_MAX_PARAMS)
            return mco_stage_error(s, MCO_ERR_RANGE, "more than %d parameters", MCO_STAGE_MAX_PARAMS);
        mco_stage_param *param = &s->params[s->n_params];
        const char *eq = memchr(p, '=', (size_t)(item_end - p));
        if (!copy_trimmed(p, eq ? eq : item_end, param->key, sizeof param->key))
            return mco_stage_error(s, MCO_ERR_RANGE, "parameter name '%.*s' is too long", (int)((eq ? eq : item_end) - p), p);
        if (param->key[0] == '\0') return mco_stage_error(s, MCO_ERR_ARG, "a parameter has no name before '='");
        param->value[0] = '\0';
        if (eq) {
            if (!copy_trimmed(eq + 1, item_end, param->value, sizeof param->value))
                return mco_stage_error(s, MCO_ERR_RANGE, "value of '%s' is too long", param->key);
            if (param->value[0] == '\0') return mco_stage_error(s, MCO_ERR_ARG, "parameter '%s' has no value after '='", param->key);
        }
        for (int i = 0; i < s->n_params; i++)
            if (strcmp(s->params[i].key, param->key) == 0)
                return mco_stage_error(s, MCO_ERR_ARG, "parameter '%s' is given twice", param->key);
        s->n_params++;
        if (!comma) break;
        p = comma + 1;
    }
    stage_config config;
    return mco_stage_kind_find(s->kind)->parse(s, &config);
}

/* Adds the stage [begin, end) found on `line` (0: the text has no lines worth naming). */
static mco_status add_stage(mco_pipeline *out, const char *origin, int line, const char *begin, const char *end)
{
    if (out->n_stages == MCO_PIPELINE_MAX_STAGES)
        return mco_error(MCO_ERR_RANGE, "%s: more than %d stages", origin, MCO_PIPELINE_MAX_STAGES);
    mco_stage *s = &out->stages[out->n_stages];
    memset(s, 0, sizeof *s);
    s->index = out->n_stages + 1;
    if (line > 0) snprintf(s->where, sizeof s->where, "%.80s:%d", origin, line);
    else snprintf(s->where, sizeof s->where, "%.90s", origin);
    mco_status st = parse_stage(begin, end, s);
    if (st != MCO_OK) return st;
    if (s->index > 1) {
        const mco_stage *prev = &out->stages[s->index - 2];
        if (mco_stage_kind_find(prev->kind)->makes_deploy)
            return mco_stage_error(s, MCO_ERR_ARG, "cannot follow stage %d (%s): it makes the integer deploy model, so it must be last",
                                   prev->index, prev->kind);
    }
    out->n_stages++;
    return MCO_OK;
}

mco_status mco_pipeline_parse(const char *text, const char *origin, mco_pipeline *out)
{
    memset(out, 0, sizeof *out);
    if (!origin) origin = "pipeline";
    int multiline = strchr(text, '\n') != NULL;
    int expect_stage = 0;   /* a "->" was seen and no stage after it yet */
    int line = 1;
    const char *line_begin = text;
    for (;;) {
        const char *line_end = strchr(line_begin, '\n');
        if (!line_end) line_end = line_begin + strlen(line_begin);
        const char *hash = memchr(line_begin, '#', (size_t)(line_end - line_begin));
        const char *content_end = hash ? hash : line_end;
        const char *p = line_begin;
        for (;;) {
            const char *arrow = NULL;
            for (const char *c = p; c + 1 < content_end; c++)
                if (c[0] == '-' && c[1] == '>') {
                    arrow = c;
                    break;
                }
            const char *piece_end = arrow ? arrow : content_end;
            if (!is_blank(p, piece_end)) {
                mco_status st = add_stage(out, origin, multiline ? line : 0, p, piece_end);
                if (st != MCO_OK) return st;
                expect_stage = 0;
            }
            if (!arrow) break;
            if (out->n_stages == 0 || expect_stage)
                return mco_error(MCO_ERR_ARG, multiline ? "%s:%d: '->' with no stage before it" : "%s: '->' with no stage before it",
                                 origin, line);
            expect_stage = 1;
            p = arrow + 2;
        }
        if (*line_end == '\0') break;
        line_begin = line_end + 1;
        line++;
    }
    if (expect_stage) return mco_error(MCO_ERR_ARG, "%s: '->' with no stage after it", origin);
    if (out->n_stages == 0) return mco_error(MCO_ERR_ARG, "%s: no stages", origin);
    return MCO_OK;
}

mco_status mco_pipeline_load(const char *path, mco_pipeline *out)
{
    memset(out, 0, sizeof *out);
    uint8_t *bytes;
    size_t size;
    mco_status st = mco_read_file(path, PIPELINE_FILE_MAX, &bytes, &size);
    if (st != MCO_OK) return st;
    char *text = malloc(size + 1);
    if (!text) {
        free(bytes);
        return mco_error(MCO_ERR_NOMEM, "%s: out of memory", path);
    }
    memcpy(text, bytes, size);
    text[size] = '\0';
    free(bytes);
    if (strlen(text) != size) st = mco_error(MCO_ERR_FORMAT, "%s: not a text file (holds a NUL byte)", path);
    else st = mco_pipeline_parse(text, path, out);
    free(text);
    return st;
}
