/*
 * pipeline.c - runs a compression pipeline (see pipeline.h): the stage
 * table, one run function per stage kind, each a thin adapter over the
 * library call that does the work (structured pruning, distillation,
 * training, quantization), and the evaluation after every stage (accuracy,
 * weight bytes, and with a target Flash / RAM / instructions on the
 * emulated MCU).
 *
 * The state is the current float model until a stage makes the deploy model
 * (quant, or qat, which converts its fake-quantized model), which is then
 * the final model. The input model is kept unchanged as the default
 * distillation teacher; its logits on the training set are computed once,
 * on first use. After unstructured pruning every later training stage keeps
 * the zero weights at zero (a mask made from the zeros, applied after every
 * optimizer step), so fine-tuning, distillation and QAT do not undo it.
 *
 * What it leaves out: retrying or skipping a failed stage, saving the
 * intermediate models.
 */
#include "mcuopt/pipeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pipeline_internal.h"
#include "mcuopt/codegen.h"
#include "mcuopt/distill.h"
#include "mcuopt/model_file.h"
#include "mcuopt/qat.h"

struct pipeline_state {
    const mco_pipeline_options *opt;
    const mco_model *input;     /* before the pipeline: the default teacher */
    mco_model model;            /* the current float model (until is_deploy) */
    int is_deploy;
    mco_deploy_model deploy;    /* after quant */
    float *input_logits;        /* the input model's logits on opt->train, once computed */
    int sparse;                 /* unstructured pruning ran: training keeps the zeros */
};

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- stage adapters -------------------------------------------------------------- */

/* The pipeline's base training options with a stage's epochs / lr. */
static mco_train_options stage_train_options(const pipeline_state *s, const stage_training *t)
{
    mco_train_options o = s->opt->train_options;
    if (t->epochs >= 0) o.epochs = t->epochs;
    if (t->lr > 0.0f) o.learning_rate = t->lr;
    return o;
}

static mco_status keep_masks(void *user, mco_model *model, long step, long total_steps)
{
    (void)step;
    (void)total_steps;
    mco_pruner_apply(user, model);
    return MCO_OK;
}

/* Trains `model` with `o`; after unstructured pruning, with a mask of the
 * model's zero weights re-applied after every step. distill: the teacher's
 * logits and alpha / T, or NULL for plain training. */
static mco_status train_keeping_zeros(const pipeline_state *s, mco_model *model, mco_train_options o,
                                      const float *teacher, const distill_config *distill)
{
    if (o.epochs == 0) return MCO_OK;
    mco_pruner pruner;
    memset(&pruner, 0, sizeof pruner);
    mco_status st = MCO_OK;
    if (s->sparse) {
        mco_prune_options po;
        mco_prune_options_default(&po);
        if ((st = mco_pruner_init(&pruner, model, &po)) != MCO_OK) return st;
        for (int i = 0; i < pruner.n_layers; i++) {
            const float *w = model->layers[pruner.layers[i]].params[MCO_PARAM_WEIGHTS].data;
            for (size_t k = 0; k < pruner.sizes[i]; k++) pruner.keep[i][k] = w[k] != 0.0f;
        }
        o.after_step = keep_masks;
        o.after_step_user = &pruner;
    }
    mco_train_result r;
    if (distill) {
        mco_distill_options d = {o, distill->alpha, distill->temperature};
        st = mco_distill(model, teacher, s->opt->train, s->opt->val, &d, &r);
    } else {
        st = mco_train(model, s->opt->train, s->opt->val, &o, &r);
    }
    if (s->sparse) mco_pruner_free(&pruner);
    return st;
}

static mco_status run_finetune(pipeline_state *s, const stage_config *c)
{
    return train_keeping_zeros(s, &s->model, stage_train_options(s, &c->train), NULL, NULL);
}

static mco_status run_prune(pipeline_state *s, const stage_config *c)
{
    const prune_config *p = &c->prune;
    mco_train_options o = stage_train_options(s, &p->train);
    if (p->structured) {
        mco_structured_options so;
        mco_structured_options_default(&so);
        so.criterion = p->criterion;
        so.ratio = p->amount;
        so.min_channels = p->min_channels;
        so.calibration_samples = p->samples;
        mco_status st = mco_structured_prune(&s->model, &so, s->opt->train);
        if (st != MCO_OK) return st;
        return train_keeping_zeros(s, &s->model, o, NULL, NULL);
    }
    mco_prune_options po;
    mco_prune_options_default(&po);
    po.schedule = p->schedule;
    po.global = p->global;
    s->sparse = 1;
    if (o.epochs == 0) return mco_prune_apply_now(&s->model, &po);   /* one-shot */
    /* gradual: the sparsity rises on the schedule while training */
    mco_pruner pruner;
    mco_status st = mco_pruner_init(&pruner, &s->model, &po);
    if (st != MCO_OK) return st;
    o.after_step = mco_pruner_after_step;
    o.after_step_user = &pruner;
    mco_train_result r;
    st = mco_train(&s->model, s->opt->train, s->opt->val, &o, &r);
    mco_pruner_free(&pruner);
    return st;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* The teacher's logits on the training set: the input model's (cached), or
 * those of a .mco / .mcq file. *owned is set when the caller must free them. */
static mco_status teacher_logits(pipeline_state *s, const char *teacher, const float **logits, float **owned)
{
    const mco_dataset *train = s->opt->train;
    int threads = s->opt->train_options.threads;
    *owned = NULL;
    if (teacher[0] == '\0') {
        mco_status st = MCO_OK;
        if (!s->input_logits) st = mco_teacher_logits_float(s->input, train, threads, &s->input_logits);
        *logits = s->input_logits;
        return st;
    }
    mco_status st;
    int classes;
    if (ends_with(teacher, ".mcq")) {
        mco_deploy_model dm;
        if ((st = mco_deploy_load(teacher, &dm)) != MCO_OK) return st;
        classes = dm.model.n_classes;
        if (classes == s->model.n_classes) st = mco_teacher_logits_deploy(&dm, train, threads, owned);
        mco_deploy_free(&dm);
    } else {
        mco_model m;
        if ((st = mco_model_load(teacher, &m)) != MCO_OK) return st;
        classes = m.n_classes;
        if (classes == s->model.n_classes) st = mco_teacher_logits_float(&m, train, threads, owned);
        mco_model_free(&m);
    }
    if (st == MCO_OK && classes != s->model.n_classes)
        st = mco_error(MCO_ERR_SHAPE, "teacher %s has %d classes, the model %d", teacher, classes, s->model.n_classes);
    *logits = *owned;
    return st;
}

static mco_status run_distill(pipeline_state *s, const stage_config *c)
{
    const distill_config *d = &c->distill;
    const float *logits;
    float *owned;
    mco_status st = teacher_logits(s, d->teacher, &logits, &owned);
    if (st == MCO_OK) st = train_keeping_zeros(s, &s->model, stage_train_options(s, &d->train), logits, d);
    free(owned);
    return st;
}

/* Fold, fine-tune with fake quantization, convert to the int8 deploy model. */
static mco_status run_qat(pipeline_state *s, const stage_config *c)
{
    const qat_config *q = &c->qat;
    mco_model qat_model;
    mco_status st = mco_qat_prepare(&s->model, &qat_model);
    if (st != MCO_OK) return st;
    mco_qat_ranges ranges;
    if ((st = mco_qat_ranges_init(&ranges, &qat_model)) != MCO_OK) {
        mco_model_free(&qat_model);
        return st;
    }
    mco_qat_config cfg;
    mco_qat_config_default(&cfg);
    cfg.ema_decay = q->ema_decay;
    cfg.freeze_fraction = q->freeze_fraction;
    cfg.ranges = &ranges;
    mco_train_options o = stage_train_options(s, &q->train);
    o.qat = &cfg;
    st = train_keeping_zeros(s, &qat_model, o, NULL, NULL);
    if (st == MCO_OK && ranges.updates == 0)
        st = mco_error(MCO_ERR_ARG, "no activation ranges were learnt (epochs=0?): QAT needs at least one training step");
    if (st == MCO_OK) st = mco_qat_convert(&qat_model, &ranges, &s->deploy);
    mco_qat_ranges_free(&ranges);
    mco_model_free(&qat_model);
    if (st != MCO_OK) return st;
    s->is_deploy = 1;
    mco_model_free(&s->model);
    return MCO_OK;
}

static mco_status run_quant(pipeline_state *s, const stage_config *c)
{
    mco_quant_options q = c->quant.options;
    q.threads = s->opt->train_options.threads;
    /* calibrate on the training engine's forward, unless the reference loops were asked for */
    q.engine = s->opt->train_options.reference_kernels ? NULL : &mco_train_calib_engine;
    mco_status st = mco_quantize(&s->model, s->opt->train, &q, &s->deploy);
    if (st != MCO_OK) return st;
    s->is_deploy = 1;
    mco_model_free(&s->model);
    return MCO_OK;
}

/* ---- the stage table ------------------------------------------------------------ */

static const stage_kind stage_kinds[] = {
    {"prune", "remove whole channels (structured=R) or single weights (sparsity=S), optionally fine-tuning (epochs=E)",
     "sparsity, structured, criterion, samples, min_channels, initial, begin, end, frequency, power, global, epochs, lr",
     0, mco_stage_parse_prune, run_prune},
    {"distill", "train against a teacher's soft outputs (default teacher: the model before the pipeline)",
     "T, temperature, alpha, epochs, lr, teacher", 0, mco_stage_parse_distill, run_distill},
    {"qat", "quantization-aware training, then conversion to the int8 deploy model (must be last)",
     "epochs, lr, ema_decay, freeze", 1, mco_stage_parse_qat, run_qat},
    {"finetune", "train on the labels", "epochs, lr", 0, mco_stage_parse_training, run_finetune},
    {"quant", "post-training quantization into the deploy model (must be last)",
     "int8, int8-weights, int4, int4-weights, float16, mode, per_channel, per_tensor, symmetric, calibration, "
     "percentile, samples",
     1, mco_stage_parse_quant, run_quant},
};

#define STAGE_KIND_COUNT ((int)(sizeof stage_kinds / sizeof stage_kinds[0]))

const stage_kind *mco_stage_kind_find(const char *name)
{
    for (int i = 0; i < STAGE_KIND_COUNT; i++)
        if (strcmp(stage_kinds[i].name, name) == 0) return &stage_kinds[i];
    return NULL;
}

void mco_stage_kind_list(char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < STAGE_KIND_COUNT && used < size; i++) {
        int n = snprintf(buf + used, size - used, "%s%s", i ? ", " : "", stage_kinds[i].name);
        if (n < 0) break;
        used += (size_t)n;
    }
}

int mco_pipeline_makes_deploy(const mco_pipeline *pipeline)
{
    if (pipeline->n_stages < 1) return 0;
    const stage_kind *kind = mco_stage_kind_find(pipeline->stages[pipeline->n_stages - 1].kind);
    return kind && kind->makes_deploy;
}

int mco_stage_kind_count(void) { return STAGE_KIND_COUNT; }
const char *mco_stage_kind_name(int i) { return i >= 0 && i < STAGE_KIND_COUNT ? stage_kinds[i].name : NULL; }
const char *mco_stage_kind_summary(int i) { return i >= 0 && i < STAGE_KIND_COUNT ? stage_kinds[i].summary : NULL; }
const char *mco_stage_kind_keys(int i) { return i >= 0 && i < STAGE_KIND_COUNT ? stage_kinds[i].keys : NULL; }

/* ---- evaluation after a stage ----------------------------------------------------- */

void mco_pipeline_options_default(mco_pipeline_options *opt)
{
    memset(opt, 0, sizeof *opt);
    mco_train_options_default(&opt->train_options);
    mco_measure_options_default(&opt->measure);
    opt->measure.n_samples = 20;
}

static size_t nonzero_params(const mco_model *m)
{
    size_t n = 0;
    for (int l = 0; l < m->n_layers; l++)
        for (int p = 0; p < m->layers[l].n_params; p++) {
            const mco_param *param = &m->layers[l].params[p];
            for (size_t i = 0; i < param->size; i++) n += param->data[i] != 0.0f;
        }
    return n;
}

static void measure(const pipeline_state *s, const mco_deploy_model *dm, mco_stage_report *r)
{
    const mco_pipeline_options *opt = s->opt;
    const mco_dataset *samples = opt->test ? opt->test : opt->train;
    mco_measure_options mo = opt->measure;
    if (mo.n_samples > samples->n) mo.n_samples = samples->n;
    mco_measure_result m;
    if (mco_measure_deploy_model(dm, opt->target, samples, &mo, &m) != MCO_OK) {
        snprintf(r->note, sizeof r->note, "%s", mco_last_error());
        return;
    }
    r->measured = 1;
    r->flash_bytes = m.flash_bytes;
    r->ram_bytes = m.ram_bytes;
    r->instructions = m.insns_mean;
    r->mismatches = m.n_mismatch;
}

/* Fills the report of the current model. */
static mco_status report_model(const pipeline_state *s, mco_stage_report *r)
{
    const mco_pipeline_options *opt = s->opt;
    int threads = opt->train_options.threads;
    mco_deploy_model as_float = {0};
    const mco_deploy_model *dm = &s->deploy;
    mco_status st = MCO_OK;
    if (!s->is_deploy) {
        if ((st = mco_deploy_from_float(&s->model, &as_float)) != MCO_OK) return st;
        dm = &as_float;
    }
    const mco_model *m = s->is_deploy ? &s->deploy.model : &s->model;
    r->is_deploy = s->is_deploy;
    r->params = mco_model_param_count(m);
    r->nonzero_params = nonzero_params(m);
    r->weight_bytes = mco_deploy_weight_bytes(dm);
    if (s->is_deploy) mco_deploy_describe(dm, r->variant, sizeof r->variant);
    else snprintf(r->variant, sizeof r->variant, "float32");
    r->accuracy = -1.0;
    if (opt->test) {
        mco_eval_result e;
        st = s->is_deploy ? mco_deploy_evaluate(dm, opt->test, threads, &e) : mco_evaluate(&s->model, opt->test, threads, &e);
        if (st == MCO_OK) {
            r->accuracy = mco_eval_quality(&e);   /* an autoencoder's AUC */
            r->loss = e.loss;
            mco_eval_result_free(&e);
        }
    }
    if (st == MCO_OK && opt->target) measure(s, dm, r);
    mco_deploy_free(&as_float);
    return st;
}

/* ---- running ---------------------------------------------------------------------- */

static void state_free(pipeline_state *s)
{
    mco_model_free(&s->model);
    mco_deploy_free(&s->deploy);
    free(s->input_logits);
    s->input_logits = NULL;
}

mco_status mco_pipeline_run(const mco_pipeline *pipeline, const mco_model *input, const mco_pipeline_options *opt,
                            mco_pipeline_result *result)
{
    memset(result, 0, sizeof *result);
    if (!opt->train) return mco_error(MCO_ERR_ARG, "pipeline: a training set is required");
    if (pipeline->n_stages < 1 || pipeline->n_stages > MCO_PIPELINE_MAX_STAGES)
        return mco_error(MCO_ERR_ARG, "pipeline: %d stages", pipeline->n_stages);
    pipeline_state s;
    memset(&s, 0, sizeof s);
    s.opt = opt;
    s.input = input;
    mco_status st = mco_model_clone(input, &s.model);
    if (st != MCO_OK) return st;

    mco_stage_report *r = &result->reports[0];
    snprintf(r->stage, sizeof r->stage, "input");
    st = report_model(&s, r);
    if (st == MCO_OK && opt->on_stage) opt->on_stage(opt->on_stage_user, 0, r);
    for (int i = 0; i < pipeline->n_stages && st == MCO_OK; i++) {
        const mco_stage *stage = &pipeline->stages[i];
        const stage_kind *kind = mco_stage_kind_find(stage->kind);
        stage_config config;
        st = kind ? kind->parse(stage, &config) : mco_error(MCO_ERR_ARG, "unknown stage '%s'", stage->kind);
        if (st != MCO_OK) break;
        if (s.is_deploy) {
            st = mco_stage_error(stage, MCO_ERR_ARG, "comes after quantization, which must be the last stage");
            break;
        }
        r = &result->reports[i + 1];
        snprintf(r->stage, sizeof r->stage, "%s", stage->text);
        double t0 = seconds_now();
        st = kind->run(&s, &config);
        r->seconds = seconds_now() - t0;
        if (st == MCO_OK) st = report_model(&s, r);
        if (st != MCO_OK) {
            char message[512];
            snprintf(message, sizeof message, "%s", mco_last_error());
            st = mco_stage_error(stage, st, "%s", message);
            break;
        }
        if (opt->on_stage) opt->on_stage(opt->on_stage_user, i + 1, r);
    }
    if (st != MCO_OK) {
        state_free(&s);
        memset(result, 0, sizeof *result);
        return st;
    }
    result->n_reports = pipeline->n_stages + 1;
    result->is_deploy = s.is_deploy;
    if (s.is_deploy) result->deploy = s.deploy;
    else result->model = s.model;
    memset(&s.model, 0, sizeof s.model);
    memset(&s.deploy, 0, sizeof s.deploy);
    state_free(&s);
    return MCO_OK;
}

void mco_pipeline_result_free(mco_pipeline_result *result)
{
    if (result->is_deploy) mco_deploy_free(&result->deploy);
    else mco_model_free(&result->model);
    memset(result, 0, sizeof *result);
}
