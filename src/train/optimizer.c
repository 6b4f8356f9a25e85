/*
 * optimizer.c - parameter updates and learning-rate schedules (see optimizer.h).
 */
#include "optimizer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "layer_ops.h"
#include "net.h"

mco_status mco_optimizer_init(mco_optimizer_state *state, const mco_model *model,
                              const mco_train_options *opt)
{
    memset(state, 0, sizeof(*state));
    state->opt = *opt;
    size_t n = mco_model_param_floats(model);
    state->m = calloc(n ? n : 1, sizeof(float));
    if (opt->optimizer == MCO_OPTIMIZER_ADAM)
        state->v = calloc(n ? n : 1, sizeof(float));
    if (!state->m || (opt->optimizer == MCO_OPTIMIZER_ADAM && !state->v)) {
        mco_optimizer_free(state);
        return mco_error(MCO_ERR_NOMEM, "optimizer: out of memory for %zu parameters", n);
    }
    return MCO_OK;
}

void mco_optimizer_free(mco_optimizer_state *state)
{
    free(state->m);
    free(state->v);
    state->m = state->v = NULL;
}

static void sgd_update(float *restrict w, float *restrict velocity, const float *restrict g, size_t n,
                       float lr, float momentum, float decay)
{
    for (size_t i = 0; i < n; i++) {
        velocity[i] = momentum * velocity[i] - lr * (g[i] + decay * w[i]);
        w[i] += velocity[i];
    }
}

static void adam_update(float *restrict w, float *restrict m, float *restrict v, const float *restrict g,
                        size_t n, float lr_t, const mco_train_options *opt, float decay)
{
    const float b1 = opt->beta1, b2 = opt->beta2;
    for (size_t i = 0; i < n; i++) {
        float grad = g[i] + decay * w[i];
        m[i] = b1 * m[i] + (1.0f - b1) * grad;
        v[i] = b2 * v[i] + (1.0f - b2) * grad * grad;
        w[i] -= lr_t * m[i] / (sqrtf(v[i]) + opt->adam_epsilon);
    }
}

void mco_optimizer_step(mco_optimizer_state *state, mco_model *model, const float *grads, float lr)
{
    const mco_train_options *opt = &state->opt;
    state->t++;
    float lr_t = lr;
    if (opt->optimizer == MCO_OPTIMIZER_ADAM)
        lr_t = (float)(lr * sqrt(1.0 - pow(opt->beta2, (double)state->t)) /
                       (1.0 - pow(opt->beta1, (double)state->t)));
    size_t offset = 0;
    for (int l = 0; l < model->n_layers; l++) {
        mco_layer *layer = &model->layers[l];
        for (int p = 0; p < layer->n_params; p++) {
            mco_param *param = &layer->params[p];
            if (mco_param_is_trainable(layer, p)) {
                float decay = mco_param_takes_decay(layer, p) ? opt->weight_decay : 0.0f;
                if (opt->optimizer == MCO_OPTIMIZER_ADAM)
                    adam_update(param->data, state->m + offset, state->v + offset, grads + offset,
                                param->size, lr_t, opt, decay);
                else
                    sgd_update(param->data, state->m + offset, grads + offset, param->size, lr,
                               opt->momentum, decay);
            }
            offset += param->size;
        }
    }
}

float mco_learning_rate(const mco_train_options *opt, int epoch, long step, long total_steps)
{
    switch (opt->schedule) {
    case MCO_LR_STEP:
        return opt->learning_rate * powf(opt->step_gamma, (float)(epoch / opt->step_epochs));
    case MCO_LR_COSINE:
        return (float)(opt->learning_rate * 0.5 * (1.0 + cos(3.14159265358979323846 * (double)step / (double)total_steps)));
    case MCO_LR_CONSTANT:
    default:
        return opt->learning_rate;
    }
}
