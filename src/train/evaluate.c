/*
 * evaluate.c - inference-mode evaluation (accuracy, mean cross-entropy,
 * confusion matrix; for a reconstruction model the mean squared error and
 * its AUC, see auc.c), prediction, and the losses and data set check the
 * trainer shares.
 *
 * Evaluation splits the data set into one contiguous range per thread; each
 * thread runs its range in chunks of EVAL_BATCH with its own workspace and
 * counters, which are merged in thread order.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "train_internal.h"

#define EVAL_BATCH 64

double mco_seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int mco_logits_layer(const mco_model *model)
{
    int last = model->n_layers - 1;
    if (last >= 0 && model->layers[last].type == MCO_LAYER_SOFTMAX)
        return model->layers[last].inputs[0];
    return last;
}

/* A reconstruction model's data: labels are optional and, outside training
 * (which does not read them), mark samples normal (0) or anomalous (1). */
static mco_status check_reconstruction_data(const mco_model *model, const mco_dataset *data, const char *what)
{
    mco_status st = mco_model_check_loss(model);
    if (st != MCO_OK || !data->labels || strcmp(what, "training") == 0)
        return st;
    for (int i = 0; i < data->n; i++)
        if (data->labels[i] > 1)
            return mco_error(MCO_ERR_RANGE,
                             "%s set: label %d of sample %d: an autoencoder's labels are 0 (normal) or 1 (anomalous)",
                             what, data->labels[i], i);
    return MCO_OK;
}

mco_status mco_check_dataset(const mco_model *model, const mco_dataset *data, const char *what)
{
    mco_status st = model->loss == MCO_LOSS_MSE
                        ? MCO_OK
                        : mco_dataset_require_labels(data, what, "training and accuracy need them");
    if (st != MCO_OK)
        return st;
    mco_shape m = model->input_shape, d = data->shape;
    if (m.h != d.h || m.w != d.w || m.c != d.c)
        return mco_error(MCO_ERR_SHAPE, "%s set samples are %dx%dx%d but the model takes %dx%dx%d", what,
                         d.h, d.w, d.c, m.h, m.w, m.c);
    if (model->n_layers < 1 || mco_logits_layer(model) < 0)
        return mco_error(MCO_ERR_SHAPE, "model has no layer producing logits");
    if (model->loss == MCO_LOSS_MSE)
        return check_reconstruction_data(model, data, what);
    int classes = (int)mco_shape_size(model->layers[mco_logits_layer(model)].out_shape);
    if (classes > MCO_MAX_CLASSES)
        return mco_error(MCO_ERR_SHAPE,
                         "model outputs %d values, more classes than %d (an autoencoder needs a 'loss mse' line "
                         "in its architecture)",
                         classes, MCO_MAX_CLASSES);
    if (classes != model->n_classes || classes < 2)
        return mco_error(MCO_ERR_SHAPE, "model output has %d values but %d classes", classes,
                         model->n_classes);
    if (data->n_classes > model->n_classes)
        return mco_error(MCO_ERR_SHAPE, "%s set has %d classes but the model outputs %d", what,
                         data->n_classes, model->n_classes);
    for (int i = 0; i < data->n; i++)
        if (data->labels[i] >= model->n_classes)
            return mco_error(MCO_ERR_RANGE, "%s set: label %d of sample %d is not below %d", what,
                             data->labels[i], i, model->n_classes);
    return MCO_OK;
}

double mco_mse(const float *output, const float *target, int n, float *grad, float grad_scale)
{
    double sum = 0.0;
    for (int i = 0; i < n; i++) {
        double d = (double)output[i] - (double)target[i];
        sum += d * d;
        if (grad)
            grad[i] = (float)((double)grad_scale * 2.0 * d / n);
    }
    return n > 0 ? sum / n : 0.0;
}

double mco_softmax_xent(const float *logits, int n_classes, int label, float *grad, float grad_scale,
                        int *pred)
{
    int best = 0;
    for (int i = 1; i < n_classes; i++)
        if (logits[i] > logits[best])
            best = i;
    *pred = best;
    double max = logits[best], sum = 0.0;
    for (int i = 0; i < n_classes; i++)
        sum += exp((double)logits[i] - max);
    double log_sum = log(sum);
    if (grad)
        for (int i = 0; i < n_classes; i++) {
            double p = exp((double)logits[i] - max - log_sum);
            grad[i] = (float)(grad_scale * (p - (i == label ? 1.0 : 0.0)));
        }
    return log_sum - ((double)logits[label] - max);
}

typedef struct {
    mco_net net;
    double loss;
    int correct;
    int *confusion;     /* classifier */
} eval_worker;

typedef struct {
    const mco_model *model;
    const mco_dataset *data;
    eval_worker *workers;
    int n_threads;
    int logits;
    double *errors;     /* reconstruction: [data->n] per-sample squared error */
} eval_job;

static void eval_task(void *arg, int t)
{
    eval_job *job = arg;
    eval_worker *w = &job->workers[t];
    const int nc = job->model->n_classes;
    int start = (int)((long)job->data->n * t / job->n_threads);
    int end = (int)((long)job->data->n * (t + 1) / job->n_threads);
    double loss = 0.0;
    int correct = 0;
    for (int first = start; first < end; first += EVAL_BATCH) {
        int count = end - first < EVAL_BATCH ? end - first : EVAL_BATCH;
        mco_dataset_to_float(job->data, &job->model->norm, NULL, first, count, w->net.input);
        mco_net_forward(&w->net, count, 0);
        const float *logits = w->net.act[job->logits];
        if (job->errors) {   /* reconstruction: the target is the (normalised) input */
            const int d = (int)mco_shape_size(job->model->input_shape);
            for (int s = 0; s < count; s++)
                job->errors[first + s] =
                    mco_mse(logits + (size_t)s * d, w->net.input + (size_t)s * d, d, NULL, 0.0f);
            continue;
        }
        for (int s = 0; s < count; s++) {
            int label = job->data->labels[first + s], pred;
            loss += mco_softmax_xent(logits + (size_t)s * nc, nc, label, NULL, 0.0f, &pred);
            correct += pred == label;
            w->confusion[label * nc + pred]++;
        }
    }
    w->loss = loss;
    w->correct = correct;
}

mco_status mco_evaluate_on_pool(const mco_model *model, const mco_dataset *data, mco_pool *pool,
                                mco_eval_result *result)
{
    return mco_evaluate_on_pool_with(model, NULL, data, pool, result);
}

mco_status mco_evaluate_on_pool_with(const mco_model *model, struct mco_fq_thread *fake_quant,
                                     const mco_dataset *data, mco_pool *pool, mco_eval_result *result)
{
    memset(result, 0, sizeof(*result));
    mco_status st = mco_check_dataset(model, data, "evaluation");
    if (st != MCO_OK)
        return st;
    const int nc = model->n_classes, n_threads = mco_pool_size(pool);
    const int reconstruction = model->loss == MCO_LOSS_MSE;
    /* a reconstruction model keeps per-sample errors instead of a confusion matrix */
    const size_t confusion_size = reconstruction ? 1 : (size_t)nc * nc;
    eval_job *job = calloc(1, sizeof(*job));
    eval_worker *workers = calloc((size_t)n_threads, sizeof(eval_worker));
    double *errors = reconstruction ? malloc((size_t)(data->n > 0 ? data->n : 1) * sizeof *errors) : NULL;
    result->confusion = calloc(confusion_size, sizeof(int));
    if (!job || !workers || !result->confusion || (reconstruction && !errors)) {
        free(job);
        free(workers);
        free(errors);
        mco_eval_result_free(result);
        return mco_error(MCO_ERR_NOMEM, "evaluation: out of memory");
    }
    for (int t = 0; t < n_threads && st == MCO_OK; t++) {
        workers[t].confusion = calloc(confusion_size, sizeof(int));
        if (!workers[t].confusion)
            st = mco_error(MCO_ERR_NOMEM, "evaluation: out of memory");
        else
            st = mco_net_init(&workers[t].net, model, EVAL_BATCH, 0);
        workers[t].net.fake_quant = fake_quant;
    }
    if (st == MCO_OK) {
        job->model = model;
        job->data = data;
        job->workers = workers;
        job->n_threads = n_threads;
        job->logits = mco_logits_layer(model);
        job->errors = errors;
        mco_pool_run(pool, eval_task, job);
    }
    if (st == MCO_OK && reconstruction) {
        mco_eval_result_free(result);
        st = mco_eval_reconstruction_summary(data, errors, result);
    } else if (st == MCO_OK) {
        result->n = data->n;
        result->n_classes = nc;
        for (int t = 0; t < n_threads; t++) {
            result->loss += workers[t].loss;
            result->correct += workers[t].correct;
            for (int i = 0; i < nc * nc; i++)
                result->confusion[i] += workers[t].confusion[i];
        }
        result->accuracy = data->n ? (double)result->correct / data->n : 0.0;
        result->loss = data->n ? result->loss / data->n : 0.0;
        result->auc = -1.0;
    }
    for (int t = 0; t < n_threads; t++) {
        mco_net_free(&workers[t].net);
        free(workers[t].confusion);
    }
    free(workers);
    free(job);
    free(errors);
    if (st != MCO_OK)
        mco_eval_result_free(result);
    return st;
}

mco_status mco_evaluate(const mco_model *model, const mco_dataset *data, int threads,
                        mco_eval_result *result)
{
    memset(result, 0, sizeof(*result));
    mco_pool *pool;
    mco_status st = mco_pool_create(threads, &pool);
    if (st != MCO_OK)
        return st;
    st = mco_evaluate_on_pool(model, data, pool, result);
    mco_pool_destroy(pool);
    return st;
}

void mco_eval_result_free(mco_eval_result *result)
{
    free(result->confusion);
    result->confusion = NULL;
}

mco_status mco_model_predict(const mco_model *model, const float *input, int batch, float *output)
{
    return mco_model_predict_with(model, NULL, input, batch, output);
}

mco_status mco_model_predict_with(const mco_model *model, struct mco_fq_thread *fake_quant, const float *input,
                                  int batch, float *output)
{
    if (batch < 0 || model->n_layers < 1)
        return mco_error(MCO_ERR_ARG, "predict: batch %d on a model of %d layers", batch, model->n_layers);
    if (batch == 0)
        return MCO_OK;
    mco_net net;
    int chunk = batch < EVAL_BATCH ? batch : EVAL_BATCH;
    mco_status st = mco_net_init(&net, model, chunk, 0);
    if (st != MCO_OK)
        return st;
    net.fake_quant = fake_quant;
    const size_t in_size = mco_shape_size(model->input_shape);
    const size_t out_size = mco_shape_size(model->layers[model->n_layers - 1].out_shape);
    for (int first = 0; first < batch; first += chunk) {
        int count = batch - first < chunk ? batch - first : chunk;
        memcpy(net.input, input + (size_t)first * in_size, (size_t)count * in_size * sizeof(float));
        mco_net_forward(&net, count, 0);
        memcpy(output + (size_t)first * out_size, net.act[model->n_layers - 1],
               (size_t)count * out_size * sizeof(float));
    }
    mco_net_free(&net);
    return MCO_OK;
}
