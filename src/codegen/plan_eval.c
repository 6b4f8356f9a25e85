/*
 * plan_eval.c - the host evaluator of deployed models: runs a plan with the
 * MCU runtime's own kernels (each op through its kind's descriptor, the
 * same call model_run makes on the chip), so the accuracy reported on the
 * host is the accuracy of the code the chip runs. Also prepares inputs the
 * way model_run() expects them and produces exact expected outputs for the
 * on-target measurement.
 *
 * mco_deploy_evaluate splits the samples into one contiguous slice per
 * thread, each thread with its own arena; per-sample losses and predictions
 * go into arrays that are summed in sample order afterwards, so the result
 * does not depend on the thread count.
 *
 * What it leaves out: batching (the MCU kernels take one sample at a time).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcuopt/codegen.h"
#include "mcuopt/thread_pool.h"
#include "mcuopt/train.h"
#include "op_desc.h"

mco_status mco_plan_run(const mco_plan *plan, uint8_t *arena, const void *input, void *output)
{
    if (!plan || !plan->ops || !arena || !input || !output) return mco_error(MCO_ERR_ARG, "plan run: NULL argument");
    memcpy(arena + plan->input_offset, input, plan->input_bytes);
    for (int k = 0; k < plan->n_ops; k++) {
        const mco_op *op = &plan->ops[k];
        const mco_op_desc *d = mco_op_desc_of((int)op->kind);
        mco_rt_status rs = d && op->params ? d->eval(op, arena) : MCO_RT_ARG_ERROR;
        if (rs != MCO_RT_OK)
            return mco_error(MCO_ERR_UNSUPPORTED, "plan run: op %d (%s) failed with runtime status %d", k,
                             mco_op_kind_name((int)op->kind), (int)rs);
    }
    memcpy(output, arena + plan->output_offset, plan->output_bytes);
    return MCO_OK;
}

void mco_deploy_prepare_input(const mco_deploy_model *dm, mco_sample_type type, const void *sample, void *input)
{
    const mco_model *m = &dm->model;
    size_t n = mco_shape_size(m->input_shape);
    if (dm->activation_format != MCO_ACT_S8) {
        mco_samples_to_float(type, sample, n, &m->norm, input);
        return;
    }
    int8_t *q = input;
    const mco_normalization *norm = &m->norm;
    const uint8_t *raw = sample;
    const float *values = sample;
    double scale = dm->input.scale > 0.0f ? (double)dm->input.scale : 1.0;
    for (size_t i = 0; i < n; i++) {
        double v = type == MCO_SAMPLE_U8 ? (double)raw[i] : (double)values[i];
        /* in double: raw * (1/255) / (1/255) lands within 1e-12 of raw, so rounding gives raw exactly */
        double real = (v * (double)norm->scale - (double)norm->mean) / (double)norm->std;
        double r = floor(real / scale + 0.5) + (double)dm->input.zero_point;
        q[i] = (int8_t)(r < -128.0 ? -128.0 : (r > 127.0 ? 127.0 : r));
    }
}

static void *aligned_arena(const mco_plan *plan)
{
    size_t size = plan->arena_size ? plan->arena_size : 4;
    return aligned_alloc(16, (size + 15) & ~(size_t)15);
}

/* Prepares and runs n samples of `type` from `samples` (n_values each). */
static mco_status predict(const mco_deploy_model *dm, const mco_plan *plan, mco_sample_type type, const void *samples,
                          int n, void *inputs, void *outputs)
{
    size_t sample_bytes = mco_shape_size(dm->model.input_shape) * mco_sample_type_size(type);
    uint8_t *arena = aligned_arena(plan);
    uint8_t *in = malloc(plan->input_bytes), *out = malloc(plan->output_bytes);
    mco_status st = arena && in && out ? MCO_OK : mco_error(MCO_ERR_NOMEM, "predict: out of memory");
    for (int s = 0; st == MCO_OK && s < n; s++) {
        mco_deploy_prepare_input(dm, type, (const uint8_t *)samples + (size_t)s * sample_bytes, in);
        st = mco_plan_run(plan, arena, in, out);
        if (inputs) memcpy((uint8_t *)inputs + (size_t)s * plan->input_bytes, in, plan->input_bytes);
        if (outputs) memcpy((uint8_t *)outputs + (size_t)s * plan->output_bytes, out, plan->output_bytes);
    }
    free(arena);
    free(in);
    free(out);
    return st;
}

mco_status mco_deploy_predict_raw(const mco_deploy_model *dm, const mco_plan *plan, const uint8_t *raw, int n,
                                  void *inputs, void *outputs)
{
    if (!dm || !plan || (!raw && n > 0) || n < 0) return mco_error(MCO_ERR_ARG, "predict: bad arguments");
    return predict(dm, plan, MCO_SAMPLE_U8, raw, n, inputs, outputs);
}

mco_status mco_deploy_predict_samples(const mco_deploy_model *dm, const mco_plan *plan, const mco_dataset *ds,
                                      int first, int n, void *inputs, void *outputs)
{
    if (!dm || !plan || !ds || n < 0 || first < 0 || first > ds->n || n > ds->n - first)
        return mco_error(MCO_ERR_ARG, "predict: bad arguments");
    mco_shape s = ds->shape, in = dm->model.input_shape;
    if (s.h != in.h || s.w != in.w || s.c != in.c)
        return mco_error(MCO_ERR_SHAPE, "%s samples are %dx%dx%d, the model takes %dx%dx%d", ds->name, s.h, s.w, s.c,
                         in.h, in.w, in.c);
    return predict(dm, plan, ds->sample_type, n > 0 ? mco_dataset_sample(ds, first) : NULL, n, inputs, outputs);
}

/* ---- evaluation ----------------------------------------------------------- */

typedef struct {
    const mco_deploy_model *dm;
    const mco_plan *plan;
    const mco_dataset *ds;
    int n_threads;
    int ends_in_softmax;
    double *loss;        /* [n] per sample; a reconstruction model's squared error */
    int *pred;           /* [n] */
    mco_status *status;  /* [n_threads] */
    char (*message)[256];   /* [n_threads]: the worker's error (messages are thread-local) */
} eval_job;

/* The output of one sample as floats (dequantized for int8). */
static void output_as_float(const mco_plan *plan, const void *out, float *values)
{
    for (int32_t i = 0; i < plan->output_size; i++) {
        if (plan->output_type == MCO_ELEM_S8)
            values[i] = plan->output_q.scale * (float)((int32_t)((const int8_t *)out)[i] - plan->output_q.zero_point);
        else
            values[i] = ((const float *)out)[i];
    }
}

static void eval_task(void *arg, int t)
{
    eval_job *job = arg;
    const mco_plan *plan = job->plan;
    const mco_dataset *ds = job->ds;
    int start = (int)((long)ds->n * t / job->n_threads), end = (int)((long)ds->n * (t + 1) / job->n_threads);
    uint8_t *arena = aligned_arena(plan);
    void *in = malloc(plan->input_bytes), *out = malloc(plan->output_bytes);
    float *values = malloc((size_t)plan->output_size * sizeof *values);
    /* reconstruction: the target is the float (normalised) input, as in training */
    const int reconstruction = job->dm->model.loss == MCO_LOSS_MSE;
    float *target = reconstruction ? malloc((size_t)plan->output_size * sizeof *target) : NULL;
    mco_status st = arena && in && out && values && (target || !reconstruction)
                        ? MCO_OK
                        : mco_error(MCO_ERR_NOMEM, "evaluate: out of memory");
    for (int s = start; st == MCO_OK && s < end; s++) {
        mco_deploy_prepare_input(job->dm, ds->sample_type, mco_dataset_sample(ds, s), in);
        st = mco_plan_run(plan, arena, in, out);
        if (st != MCO_OK) break;
        output_as_float(plan, out, values);
        if (reconstruction) {
            mco_samples_to_float(ds->sample_type, mco_dataset_sample(ds, s), (size_t)plan->output_size,
                                 &job->dm->model.norm, target);
            job->loss[s] = mco_mse(values, target, (int)plan->output_size, NULL, 0.0f);
            job->pred[s] = 0;
            continue;
        }
        int label = ds->labels[s], pred = 0;
        if (job->ends_in_softmax) {
            for (int32_t i = 1; i < plan->output_size; i++)
                if (values[i] > values[pred]) pred = (int)i;
            double p = values[label] > 1e-12f ? (double)values[label] : 1e-12;
            job->loss[s] = -log(p);
        } else {
            job->loss[s] = mco_softmax_xent(values, plan->output_size, label, NULL, 0.0f, &pred);
        }
        job->pred[s] = pred;
    }
    job->status[t] = st;
    if (st != MCO_OK) snprintf(job->message[t], sizeof job->message[t], "%s", mco_last_error());
    free(arena);
    free(in);
    free(out);
    free(values);
    free(target);
}

mco_status mco_deploy_evaluate(const mco_deploy_model *dm, const mco_dataset *ds, int threads, mco_eval_result *r)
{
    if (!dm || !ds || !r) return mco_error(MCO_ERR_ARG, "evaluate: NULL argument");
    memset(r, 0, sizeof *r);
    const mco_model *m = &dm->model;
    mco_status st = mco_check_dataset(m, ds, "evaluation");
    if (st != MCO_OK) return st;
    mco_plan plan;
    if ((st = mco_plan_build(dm, NULL, &plan)) != MCO_OK) return st;
    const int reconstruction = m->loss == MCO_LOSS_MSE;
    size_t expected = reconstruction ? mco_shape_size(m->input_shape) : (size_t)m->n_classes;
    if ((size_t)plan.output_size != expected) {
        mco_plan_free(&plan);
        return mco_error(MCO_ERR_SHAPE, "evaluate: the model outputs %d values for %zu %s", (int)plan.output_size,
                         expected, reconstruction ? "input values" : "classes");
    }
    int nc = reconstruction ? 1 : m->n_classes;   /* (a reconstruction model's confusion array is unused) */
    int n_threads = mco_thread_count(threads);
    if (n_threads > ds->n && ds->n > 0) n_threads = ds->n;
    eval_job job = {dm, &plan, ds, n_threads, m->layers[m->n_layers - 1].type == MCO_LAYER_SOFTMAX, NULL, NULL, NULL, NULL};
    job.loss = malloc((size_t)(ds->n > 0 ? ds->n : 1) * sizeof *job.loss);
    job.pred = malloc((size_t)(ds->n > 0 ? ds->n : 1) * sizeof *job.pred);
    job.status = malloc((size_t)n_threads * sizeof *job.status);
    job.message = malloc((size_t)n_threads * sizeof *job.message);
    r->confusion = calloc((size_t)nc * (size_t)nc, sizeof *r->confusion);
    mco_pool *pool = NULL;
    if (!job.loss || !job.pred || !job.status || !job.message || !r->confusion) st = mco_error(MCO_ERR_NOMEM, "evaluate: out of memory");
    if (st == MCO_OK) st = mco_pool_create(n_threads, &pool);
    if (st == MCO_OK) {
        mco_pool_run(pool, eval_task, &job);
        for (int t = 0; t < n_threads && st == MCO_OK; t++)
            if (job.status[t] != MCO_OK) st = mco_error(job.status[t], "%s", job.message[t]);
    }
    if (pool) mco_pool_destroy(pool);
    if (st == MCO_OK && reconstruction) {
        free(r->confusion);
        r->confusion = NULL;
        st = mco_eval_reconstruction_summary(ds, job.loss, r);
    } else if (st == MCO_OK) {
        double loss = 0.0;
        r->n = ds->n;
        r->n_classes = nc;
        for (int s = 0; s < ds->n; s++) {
            loss += job.loss[s];
            r->correct += job.pred[s] == ds->labels[s];
            r->confusion[ds->labels[s] * nc + job.pred[s]]++;
        }
        r->accuracy = ds->n ? (double)r->correct / ds->n : 0.0;
        r->loss = ds->n ? loss / ds->n : 0.0;
        r->auc = -1.0;
    } else {
        free(r->confusion);
        r->confusion = NULL;
    }
    free(job.loss);
    free(job.pred);
    free(job.status);
    free(job.message);
    mco_plan_free(&plan);
    return st;
}
