/*
 * optimizer.h - SGD with momentum, Adam, L2 weight decay and the learning
 * rate schedules (internal to src/train/).
 *
 * The optimizer walks the model's parameters in model order (net.h), the
 * same order as the flat gradient array, and skips what is not trainable
 * (BatchNorm moving statistics).
 *
 * Conventions (Keras): SGD v = momentum*v - lr*g, w += v; Adam with
 * lr_t = lr*sqrt(1-beta2^t)/(1-beta1^t), w -= lr_t*m/(sqrt(v)+epsilon).
 * Weight decay adds decay*w to the gradient of conv/dense weights, i.e. the
 * loss gains decay/2 * |w|^2.
 */
#ifndef MCO_TRAIN_OPTIMIZER_H
#define MCO_TRAIN_OPTIMIZER_H

#include "mcuopt/train.h"

typedef struct {
    mco_train_options opt;
    float *m;      /* SGD velocity or Adam first moment, model order */
    float *v;      /* Adam second moment (NULL for SGD) */
    long t;        /* steps taken */
} mco_optimizer_state;

mco_status mco_optimizer_init(mco_optimizer_state *state, const mco_model *model,
                              const mco_train_options *opt);
void mco_optimizer_free(mco_optimizer_state *state);

/* One update of every trainable parameter from `grads` (model order). */
void mco_optimizer_step(mco_optimizer_state *state, mco_model *model, const float *grads, float lr);

/* The learning rate of global step `step` (0-based) in `epoch` of a run of
 * total_steps steps. */
float mco_learning_rate(const mco_train_options *opt, int epoch, long step, long total_steps);

#endif
