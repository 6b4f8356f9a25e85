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
#include "mco_io.h"
#include "op_desc.h"

/* Runs every op over the arena, whose model input is in place. */
static mco_status run_ops(const mco_plan *plan, uint8_t *arena)
{
    for (int k = 0; k < plan->n_ops; k++) {
        const mco_op *op = &plan->ops[k];
        const mco_op_desc *d = mco_op_desc_of((int)op->kind);
        mco_rt_status rs = d && op->params ? d->eval(op, arena) : MCO_RT_ARG_ERROR;
        if (rs != MCO_RT_OK)
            return mco_error(MCO_ERR_UNSUPPORTED, "plan run: op %d (%s) failed with runtime status %d", k,
                             mco_op_kind_name((int)op->kind), (int)rs);
    }
    return MCO_OK;
}

mco_status mco_plan_run(const mco_plan *plan, uint8_t *arena, const void *input, void *output)
{
    if (!plan || !plan->ops || !arena || !input || !output) return mco_error(MCO_ERR_ARG, "plan run: NULL argument");
    memcpy(arena + plan->input_offset, input, plan->input_bytes);
    mco_status st = run_ops(plan, arena);
    if (st == MCO_OK) memcpy(output, arena + plan->output_offset, plan->output_bytes);
    return st;
}

static void deploy_input_params(const mco_deploy_model *dm, mco_input_params *p)
{
    const mco_normalization *norm = &dm->model.norm;
    p->norm_scale = norm->scale;
    p->norm_mean = norm->mean;
    p->norm_std = norm->std;
    p->scale = dm->input.scale > 0.0f ? dm->input.scale : 1.0f;
    p->zero_point = dm->input.zero_point;
}

void mco_deploy_prepare_input(const mco_deploy_model *dm, mco_sample_type type, const void *sample, void *input)
{
    const mco_model *m = &dm->model;
    size_t n = mco_shape_size(m->input_shape);
    if (dm->activation_format != MCO_ACT_S8) {
        mco_samples_to_float(type, sample, n, &m->norm, input);
        return;
    }
    mco_input_params ip;
    deploy_input_params(dm, &ip);
    int8_t *q = input;
    for (size_t i = 0; i < n; i++) {
        /* a byte as a float is exact; in double, raw * (1/255) / (1/255) lands
         * within 1e-12 of raw, so rounding gives raw exactly */
        float v = type == MCO_SAMPLE_U8 ? (float)((const uint8_t *)sample)[i] : ((const float *)sample)[i];
        q[i] = mco_input_value_s8(&ip, v);
    }
}

static void *aligned_arena(const mco_plan *plan)
{
    size_t size = plan->arena_size ? plan->arena_size : 4;
    return aligned_alloc(16, (size + 15) & ~(size_t)15);
}

/* ---- the caller's input and output types --------------------------------- */

mco_status mco_io_type_parse(const char *name, int is_output, mco_io_type *type)
{
    if (name && strcmp(name, "int8") == 0) *type = MCO_IO_INT8;
    else if (name && strcmp(name, "float") == 0) *type = MCO_IO_FLOAT;
    else if (name && strcmp(name, "uint8") == 0 && !is_output) *type = MCO_IO_UINT8;
    else
        return mco_error(MCO_ERR_ARG, "%s type must be %s, not '%s'", is_output ? "the output" : "the input",
                         is_output ? "int8 or float" : "int8, uint8 or float", name ? name : "");
    return MCO_OK;
}

const char *mco_io_type_name(mco_io_type type)
{
    switch (type) {
    case MCO_IO_INT8: return "int8";
    case MCO_IO_UINT8: return "uint8";
    case MCO_IO_FLOAT: return "float";
    default: return "model";
    }
}

mco_status mco_plan_io_init(const mco_deploy_model *dm, const mco_plan *plan, mco_io_type input,
                            mco_io_type output, mco_plan_io *io)
{
    memset(io, 0, sizeof *io);
    int s8_in = plan->input_type == MCO_ELEM_S8, s8_out = plan->output_type == MCO_ELEM_S8;
    if (input == MCO_IO_INT8 && !s8_in)
        return mco_error(MCO_ERR_UNSUPPORTED, "an int8 input needs a model with int8 activations; \"%s\" computes "
                         "in float (take uint8 or float)", dm->model.arch_name);
    if (output == MCO_IO_INT8 && !s8_out)
        return mco_error(MCO_ERR_UNSUPPORTED, "an int8 output needs a model with int8 activations; \"%s\" "
                         "computes in float", dm->model.arch_name);
    if (output == MCO_IO_UINT8) return mco_error(MCO_ERR_UNSUPPORTED, "the output type must be int8 or float, not uint8");
    io->input_type = input != MCO_IO_MODEL ? input : (s8_in ? MCO_IO_INT8 : MCO_IO_FLOAT);
    io->output_type = output != MCO_IO_MODEL ? output : (s8_out ? MCO_IO_INT8 : MCO_IO_FLOAT);
    io->convert_input = input == MCO_IO_UINT8 || input == MCO_IO_FLOAT;
    io->convert_output = io->output_type == MCO_IO_FLOAT && s8_out;
    size_t in_elem = io->input_type == MCO_IO_FLOAT ? sizeof(float) : 1;
    size_t out_elem = io->output_type == MCO_IO_FLOAT ? sizeof(float) : 1;
    io->input_bytes = (size_t)plan->input_size * in_elem;
    io->output_bytes = (size_t)plan->output_size * out_elem;
    mco_input_params ip;
    deploy_input_params(dm, &ip);
    io->norm_scale = ip.norm_scale;
    io->norm_mean = ip.norm_mean;
    io->norm_std = ip.norm_std;
    io->in_scale = ip.scale;
    io->in_zero_point = ip.zero_point;
    io->out_scale = plan->output_q.scale;
    io->out_zero_point = plan->output_q.zero_point;
    if (io->convert_input && !(ip.norm_std > 0.0f && ip.norm_scale > 0.0f))
        return mco_error(MCO_ERR_UNSUPPORTED, "a %s input needs a positive normalisation scale and std (\"%s\" has "
                         "%g and %g)", mco_io_type_name(input), dm->model.arch_name, (double)ip.norm_scale,
                         (double)ip.norm_std);
    /* float: the steps of the conversion, for the lookup both sides make */
    if (input == MCO_IO_FLOAT && s8_in)
        io->use_steps = mco_input_steps_build(ip.norm_scale, ip.norm_mean, ip.norm_std, ip.scale, ip.zero_point,
                                              io->steps, &io->steps_nan);
    /* uint8: each byte's model input, as the host computes it for a raw sample */
    if (input == MCO_IO_UINT8 && s8_in) {
        for (int v = 0; v < 256; v++) io->table_s8[v] = mco_input_value_s8(&ip, (float)v);
    } else if (input == MCO_IO_UINT8) {
        uint8_t bytes[256];
        for (int v = 0; v < 256; v++) bytes[v] = (uint8_t)v;
        mco_normalize_input(&dm->model.norm, bytes, 256, io->table_f32);
    }
    return MCO_OK;
}

/* The float at position o of the floats in order (mco_float_order's
 * inverse: o < 0 the negative ones; -0x7f800000 is -infinity, 0x7f800000
 * +infinity). */
static float float_in_order(int64_t o)
{
    uint32_t bits = o >= 0 ? (uint32_t)o : 0x80000000u | (uint32_t)-o;
    float v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

int mco_input_steps_build(float norm_scale, float norm_mean, float norm_std, float scale, int32_t zero_point,
                          int32_t steps[255], int8_t *nan_value)
{
    mco_input_params p = {norm_scale, norm_mean, norm_std, scale, zero_point};
    if (!(norm_scale > 0.0f && norm_std > 0.0f && scale > 0.0f)) return 0;   /* not monotonic */
    for (int k = 0; k < 255; k++) {
        /* The first float in order whose input reaches k - 127: +infinity's is 127. */
        int64_t lo = -0x7f800000LL, hi = 0x7f800000LL;
        while (lo < hi) {
            int64_t mid = lo + (hi - lo) / 2;
            if (mco_input_value_s8(&p, float_in_order(mid)) >= k - 127) hi = mid;
            else lo = mid + 1;
        }
        steps[k] = (int32_t)lo;
    }
    *nan_value = mco_input_value_s8(&p, NAN);
    return 1;
}

static void io_input_params(const mco_plan_io *io, mco_input_params *p)
{
    p->norm_scale = io->norm_scale;
    p->norm_mean = io->norm_mean;
    p->norm_std = io->norm_std;
    p->scale = io->in_scale;
    p->zero_point = io->in_zero_point;
}

/* The runtime's table lookup on the plan's steps. */
static void input_by_steps(const mco_plan_io *io, const float *in, int8_t *out, int32_t n)
{
    mco_input_steps t;
    memcpy(t.steps, io->steps, sizeof t.steps);
    t.nan_value = io->steps_nan;
    mco_input_f32_s8_steps(&t, in, out, n);
}

/* The caller's input -> the model input at `model_in` (NAME_run's conversion). */
static void io_convert_input(const mco_plan *plan, const mco_plan_io *io, const void *in, void *model_in)
{
    mco_input_params p;
    io_input_params(io, &p);
    int s8 = plan->input_type == MCO_ELEM_S8;
    if (!io->convert_input) memcpy(model_in, in, plan->input_bytes);
    else if (io->input_type == MCO_IO_UINT8 && s8) mco_input_u8_s8(io->table_s8, in, model_in, plan->input_size);
    else if (io->input_type == MCO_IO_UINT8) mco_input_u8_f32(io->table_f32, in, model_in, plan->input_size);
    else if (s8 && io->use_steps) input_by_steps(io, in, model_in, plan->input_size);
    else if (s8) mco_input_f32_s8(&p, in, model_in, plan->input_size);
    else mco_input_f32_f32(&p, in, model_in, plan->input_size);
}

mco_status mco_plan_io_run(const mco_plan *plan, const mco_plan_io *io, uint8_t *arena, const void *input,
                           void *output)
{
    if (!plan || !plan->ops || !io || !arena || !input || !output) return mco_error(MCO_ERR_ARG, "plan run: NULL argument");
    io_convert_input(plan, io, input, arena + plan->input_offset);
    mco_status st = run_ops(plan, arena);
    if (st != MCO_OK) return st;
    if (io->convert_output)
        mco_output_s8_f32(io->out_scale, io->out_zero_point, (const int8_t *)(arena + plan->output_offset), output,
                          plan->output_size);
    else
        memcpy(output, arena + plan->output_offset, plan->output_bytes);
    return MCO_OK;
}

mco_status mco_plan_io_input(const mco_deploy_model *dm, const mco_plan *plan, const mco_plan_io *io,
                             mco_sample_type type, const void *sample, void *input)
{
    size_t n = (size_t)plan->input_size;
    if (!io->convert_input) {   /* the model's own input */
        mco_deploy_prepare_input(dm, type, sample, input);
        return MCO_OK;
    }
    if (io->input_type == MCO_IO_UINT8) {
        if (type != MCO_SAMPLE_U8)
            return mco_error(MCO_ERR_UNSUPPORTED, "a uint8 input takes raw bytes, but the samples are %s "
                             "(take --input-type float)", mco_sample_type_name(type));
        memcpy(input, sample, n);
        return MCO_OK;
    }
    float *x = input;   /* float: the sample's values */
    for (size_t i = 0; i < n; i++)
        x[i] = type == MCO_SAMPLE_U8 ? (float)((const uint8_t *)sample)[i] : ((const float *)sample)[i];
    return MCO_OK;
}

mco_status mco_deploy_predict_io(const mco_deploy_model *dm, const mco_plan *plan, const mco_plan_io *io,
                                 mco_sample_type type, const void *samples, int n, void *inputs, void *outputs)
{
    if (!dm || !plan || !io || (!samples && n > 0) || n < 0) return mco_error(MCO_ERR_ARG, "predict: bad arguments");
    size_t sample_bytes = mco_shape_size(dm->model.input_shape) * mco_sample_type_size(type);
    uint8_t *arena = aligned_arena(plan);
    uint8_t *in = malloc(io->input_bytes), *out = malloc(io->output_bytes);
    mco_status st = arena && in && out ? MCO_OK : mco_error(MCO_ERR_NOMEM, "predict: out of memory");
    for (int s = 0; st == MCO_OK && s < n; s++) {
        st = mco_plan_io_input(dm, plan, io, type, (const uint8_t *)samples + (size_t)s * sample_bytes, in);
        if (st == MCO_OK) st = mco_plan_io_run(plan, io, arena, in, out);
        if (inputs) memcpy((uint8_t *)inputs + (size_t)s * io->input_bytes, in, io->input_bytes);
        if (outputs) memcpy((uint8_t *)outputs + (size_t)s * io->output_bytes, out, io->output_bytes);
    }
    free(arena);
    free(in);
    free(out);
    return st;
}

/* Prepares and runs n samples of `type` with the model's own input and output. */
static mco_status predict(const mco_deploy_model *dm, const mco_plan *plan, mco_sample_type type, const void *samples,
                          int n, void *inputs, void *outputs)
{
    mco_plan_io io;
    mco_status st = mco_plan_io_init(dm, plan, MCO_IO_MODEL, MCO_IO_MODEL, &io);
    if (st == MCO_OK) st = mco_deploy_predict_io(dm, plan, &io, type, samples, n, inputs, outputs);
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

/* The output of one sample as floats (dequantized for int8, as NAME_run
 * does for a float output). */
static void output_as_float(const mco_plan *plan, const void *out, float *values)
{
    if (plan->output_type == MCO_ELEM_S8)
        mco_output_s8_f32(plan->output_q.scale, plan->output_q.zero_point, out, values, plan->output_size);
    else
        memcpy(values, out, (size_t)plan->output_size * sizeof *values);
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
