/*
 * distill.c - knowledge distillation around the trainer (see distill.h):
 * teacher logits from a float or a deploy model, width-scaled students, and
 * the distillation training call.
 *
 * Teacher logits are computed on a thread pool, one contiguous slice of the
 * data set per thread; every sample's logits depend only on that sample, so
 * the result does not depend on the thread count.
 *
 * What it leaves out: the loss and its gradient (src/train/train.c), and
 * teachers that do not fit in memory next to the student.
 */
#include "mcuopt/distill.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcuopt/codegen.h"
#include "mcuopt/thread_pool.h"
#include "mcuopt/train.h"

#define LOGITS_CHUNK 256       /* samples normalised and predicted at a time per thread */
#define PROBABILITY_FLOOR 1e-7 /* log(p) of a Softmax teacher's outputs is taken of max(p, this) */

/* ---- teacher logits --------------------------------------------------------- */

/* The work one thread does for its slice [start, end) of the samples. */
typedef mco_status (*slice_fn)(const void *teacher, const mco_dataset *data, int start, int end, float *logits);

typedef struct {
    slice_fn fn;
    const void *teacher;
    const mco_dataset *data;
    int n_threads;
    float *logits;
    mco_status *status;      /* [n_threads] */
    char (*message)[256];    /* [n_threads]: error messages are thread-local */
} logits_job;

static void logits_task(void *arg, int t)
{
    logits_job *job = arg;
    int start = (int)((long)job->data->n * t / job->n_threads);
    int end = (int)((long)job->data->n * (t + 1) / job->n_threads);
    job->status[t] = start < end ? job->fn(job->teacher, job->data, start, end, job->logits) : MCO_OK;
    if (job->status[t] != MCO_OK) snprintf(job->message[t], sizeof job->message[t], "%s", mco_last_error());
}

/* Runs fn over the data set on a pool; *logits gets [data->n][n_classes]. */
static mco_status logits_on_pool(slice_fn fn, const void *teacher, int n_classes, const mco_dataset *data,
                                 int threads, float **logits)
{
    *logits = NULL;
    int n_threads = mco_thread_count(threads);
    if (n_threads > data->n) n_threads = data->n > 0 ? data->n : 1;
    logits_job job = {fn, teacher, data, n_threads, NULL, NULL, NULL};
    job.logits = malloc((size_t)(data->n > 0 ? data->n : 1) * (size_t)n_classes * sizeof(float));
    job.status = calloc((size_t)n_threads, sizeof *job.status);
    job.message = calloc((size_t)n_threads, sizeof *job.message);
    mco_pool *pool = NULL;
    mco_status st = job.logits && job.status && job.message ? MCO_OK
                                                            : mco_error(MCO_ERR_NOMEM, "teacher logits: out of memory");
    if (st == MCO_OK) st = mco_pool_create(n_threads, &pool);
    if (st == MCO_OK) {
        mco_pool_run(pool, logits_task, &job);
        for (int t = 0; t < n_threads && st == MCO_OK; t++)
            if (job.status[t] != MCO_OK) st = mco_error(job.status[t], "%s", job.message[t]);
    }
    if (pool) mco_pool_destroy(pool);
    free(job.status);
    free(job.message);
    if (st != MCO_OK) {
        free(job.logits);
        return st;
    }
    *logits = job.logits;
    return MCO_OK;
}

static mco_status float_slice(const void *teacher, const mco_dataset *data, int start, int end, float *logits)
{
    const mco_model *model = teacher;
    const size_t in_size = mco_shape_size(model->input_shape);
    const int nc = model->n_classes;
    float *input = malloc((size_t)LOGITS_CHUNK * in_size * sizeof(float));
    if (!input) return mco_error(MCO_ERR_NOMEM, "teacher logits: out of memory");
    mco_status st = MCO_OK;
    for (int first = start; first < end && st == MCO_OK; first += LOGITS_CHUNK) {
        int count = end - first < LOGITS_CHUNK ? end - first : LOGITS_CHUNK;
        mco_dataset_to_float(data, &model->norm, NULL, first, count, input);
        st = mco_model_predict(model, input, count, logits + (size_t)first * (size_t)nc);
    }
    free(input);
    return st;
}

mco_status mco_distill_check_teacher(const mco_model *teacher)
{
    if (teacher->loss == MCO_LOSS_MSE)
        return mco_error(MCO_ERR_ARG, "distillation needs a classifier teacher, not a reconstruction model (loss mse)");
    return MCO_OK;
}

static mco_status check_teacher(const mco_model *teacher, const mco_dataset *data)
{
    mco_status st = mco_distill_check_teacher(teacher);
    return st != MCO_OK ? st : mco_check_dataset(teacher, data, "training");
}

mco_status mco_teacher_logits_float(const mco_model *teacher, const mco_dataset *data, int threads,
                                    float **logits)
{
    *logits = NULL;
    mco_status st = check_teacher(teacher, data);
    if (st != MCO_OK) return st;
    /* A final Softmax is left out (a shallow view of the model that ends at
     * the layer the loss reads), so the values are the logits feeding it. */
    mco_model view = *teacher;
    view.n_layers = mco_logits_layer(teacher) + 1;
    return logits_on_pool(float_slice, &view, teacher->n_classes, data, threads, logits);
}

typedef struct {
    const mco_deploy_model *dm;
    const mco_plan *plan;
    int ends_in_softmax;
} deploy_teacher;

static mco_status deploy_slice(const void *teacher, const mco_dataset *data, int start, int end, float *logits)
{
    const deploy_teacher *dt = teacher;
    const mco_plan *plan = dt->plan;
    const int nc = (int)plan->output_size;
    void *outputs = malloc((size_t)(end - start) * plan->output_bytes);
    if (!outputs) return mco_error(MCO_ERR_NOMEM, "teacher logits: out of memory");
    mco_status st = mco_deploy_predict_samples(dt->dm, plan, data, start, end - start, NULL, outputs);
    for (int s = 0; st == MCO_OK && s < end - start; s++) {
        float *row = logits + (size_t)(start + s) * (size_t)nc;
        for (int i = 0; i < nc; i++) {
            size_t k = (size_t)s * (size_t)nc + (size_t)i;
            float v = plan->output_type == MCO_ELEM_S8
                          ? plan->output_q.scale * (float)((int32_t)((const int8_t *)outputs)[k] - plan->output_q.zero_point)
                          : ((const float *)outputs)[k];
            row[i] = dt->ends_in_softmax ? (float)log(v > PROBABILITY_FLOOR ? (double)v : PROBABILITY_FLOOR) : v;
        }
    }
    free(outputs);
    return st;
}

mco_status mco_teacher_logits_deploy(const mco_deploy_model *teacher, const mco_dataset *data, int threads,
                                     float **logits)
{
    *logits = NULL;
    const mco_model *m = &teacher->model;
    mco_status st = check_teacher(m, data);
    if (st != MCO_OK) return st;
    mco_plan plan;
    if ((st = mco_plan_build(teacher, NULL, &plan)) != MCO_OK) return st;
    if (plan.output_size != m->n_classes) {
        mco_plan_free(&plan);
        return mco_error(MCO_ERR_SHAPE, "the teacher outputs %d values for %d classes", (int)plan.output_size,
                         m->n_classes);
    }
    deploy_teacher dt = {teacher, &plan, m->layers[m->n_layers - 1].type == MCO_LAYER_SOFTMAX};
    st = logits_on_pool(deploy_slice, &dt, m->n_classes, data, threads, logits);
    mco_plan_free(&plan);
    return st;
}

/* ---- width scaling ----------------------------------------------------------- */

mco_status mco_model_scale_width(const mco_model *teacher_arch, float multiplier, mco_model *student)
{
    memset(student, 0, sizeof *student);
    if (!(multiplier > 0.0f && multiplier <= 16.0f))
        return mco_error(MCO_ERR_ARG, "width multiplier must be in (0, 16], got %g", (double)multiplier);
    int last_dense = -1;
    for (int i = 0; i < teacher_arch->n_layers; i++)
        if (teacher_arch->layers[i].type == MCO_LAYER_DENSE) last_dense = i;

    mco_model_init(student, teacher_arch->input_shape);
    snprintf(student->arch_name, sizeof student->arch_name, "%.48s x%g", teacher_arch->arch_name,
             (double)multiplier);
    student->norm = teacher_arch->norm;
    student->has_frontend = teacher_arch->has_frontend;
    student->frontend = teacher_arch->frontend;
    mco_status st = MCO_OK;
    for (int i = 0; i < teacher_arch->n_layers && st == MCO_OK; i++) {
        mco_layer layer = teacher_arch->layers[i];
        int scaled = layer.type == MCO_LAYER_CONV2D || (layer.type == MCO_LAYER_DENSE && i != last_dense);
        if (scaled) {
            long units = lround((double)layer.units * (double)multiplier);
            layer.units = units < 1 ? 1 : (units > MCO_MAX_DIM ? MCO_MAX_DIM : (int)units);
        }
        layer.n_params = 0;   /* parameter shapes are re-inferred */
        memset(layer.params, 0, sizeof layer.params);
        st = mco_model_add_layer(student, &layer, NULL);
    }
    if (st == MCO_OK) st = mco_model_infer_shapes(student);
    if (st != MCO_OK) mco_model_free(student);
    return st;
}

/* ---- training ------------------------------------------------------------------ */

void mco_distill_options_default(mco_distill_options *opt)
{
    mco_train_options_default(&opt->train);
    opt->alpha = 0.1f;
    opt->temperature = 4.0f;
}

mco_status mco_distill(mco_model *student, const float *teacher_logits, const mco_dataset *train,
                       const mco_dataset *val, const mco_distill_options *opt, mco_train_result *result)
{
    if (!teacher_logits) return mco_error(MCO_ERR_ARG, "distillation needs the teacher's logits");
    mco_train_options train_opt = opt->train;
    train_opt.teacher_logits = teacher_logits;
    train_opt.distill_alpha = opt->alpha;
    train_opt.distill_temperature = opt->temperature;
    return mco_train(student, train, val, &train_opt, result);
}

double mco_logits_kl_divergence(const float *teacher, const float *student, int n, int n_classes,
                                float temperature)
{
    double total = 0.0, T = (double)temperature;
    for (int s = 0; s < n; s++) {
        const float *t = teacher + (size_t)s * (size_t)n_classes, *q = student + (size_t)s * (size_t)n_classes;
        double t_max = t[0], q_max = q[0];
        for (int i = 1; i < n_classes; i++) {
            if (t[i] > t_max) t_max = t[i];
            if (q[i] > q_max) q_max = q[i];
        }
        double t_sum = 0.0, q_sum = 0.0;
        for (int i = 0; i < n_classes; i++) {
            t_sum += exp((t[i] - t_max) / T);
            q_sum += exp((q[i] - q_max) / T);
        }
        double t_log_sum = log(t_sum), q_log_sum = log(q_sum);
        for (int i = 0; i < n_classes; i++) {
            double log_pt = (t[i] - t_max) / T - t_log_sum, log_pq = (q[i] - q_max) / T - q_log_sum;
            total += exp(log_pt) * (log_pt - log_pq);
        }
    }
    return n > 0 ? total / n : 0.0;
}
