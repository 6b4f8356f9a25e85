/*
 * train.h - float training and evaluation of an mco_model.
 *
 * Mini-batch SGD (with momentum) or Adam on softmax cross-entropy, L2 weight
 * decay, and a learning-rate schedule. Each batch is split into equal
 * contiguous slices, one per worker thread; every thread runs forward and
 * backward on its slice into its own gradient buffer and the buffers are
 * summed in thread order, so a run is bit-for-bit repeatable for a given
 * seed and thread count. BatchNorm uses the statistics of each thread's
 * slice (as unsynchronised data-parallel BN does).
 *
 * The model's last layer produces logits (or Softmax probabilities: a final
 * Softmax layer is recognised and its cross-entropy gradient taken directly).
 * A reconstruction model (model->loss MCO_LOSS_MSE, an autoencoder) is
 * trained on the mean squared error between its output and its own
 * normalised input instead; it trains only on samples not labelled
 * anomalous (label 1, where the data has labels), and evaluation
 * reports the mean reconstruction error and, where the data labels samples
 * normal (0) or anomalous (1), the AUC of that error.
 */
#ifndef MCUOPT_TRAIN_H
#define MCUOPT_TRAIN_H

#include <stdint.h>

#include "mcuopt/data.h"
#include "mcuopt/graph.h"
#include "mcuopt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { MCO_OPTIMIZER_SGD = 0, MCO_OPTIMIZER_ADAM = 1 } mco_optimizer;
typedef enum {
    MCO_LR_CONSTANT = 0,
    MCO_LR_STEP = 1,    /* lr * gamma^(epoch / step_epochs) */
    MCO_LR_COSINE = 2   /* cosine decay from lr to 0 over all steps */
} mco_lr_schedule;

typedef struct {
    int epoch;           /* 0-based */
    int epochs;
    long step;           /* batches done in this epoch */
    long steps;          /* batches per epoch */
    double loss;         /* running mean training loss this epoch */
    double accuracy;     /* running training accuracy this epoch (0..1); -1 for a reconstruction model */
    double samples_per_sec;
    double elapsed_sec;  /* since training started */
    int epoch_done;      /* 1 on the call made at the end of an epoch */
    double val_loss;     /* valid when epoch_done and a validation set was given */
    double val_accuracy; /* mco_eval_quality: an autoencoder's AUC (-1: its validation set has no anomalies) */
} mco_train_progress;

typedef void (*mco_progress_fn)(void *user, const mco_train_progress *progress);

typedef struct {
    int epochs;
    int batch_size;
    mco_optimizer optimizer;
    float learning_rate;
    float momentum;        /* SGD */
    float beta1, beta2, adam_epsilon;
    float weight_decay;    /* L2 on conv/dense weights (not biases, not BN) */
    mco_lr_schedule schedule;
    float step_gamma;
    int step_epochs;
    uint64_t seed;         /* shuffling, dropout */
    int threads;           /* 0 = all cores */
    mco_progress_fn progress;  /* may be NULL; called after every batch from the calling thread */
    void *progress_user;

    /* Knowledge distillation (off when teacher_logits is NULL): the teacher's
     * logits for every training sample, [train->n][n_classes] in data set
     * order (computed once beforehand, so any teacher works: float, or
     * quantized and run by the integer runtime). The loss becomes
     *   alpha * CE(labels, s) + (1 - alpha) * T^2 * KL(softmax(t/T) || softmax(s/T)). */
    const float *teacher_logits;
    float distill_alpha;        /* weight of the hard-label loss, in [0, 1] */
    float distill_temperature;  /* T > 0 */

    /* Called on the calling thread after every optimizer step (global step
     * 0-based, of total_steps), e.g. to apply pruning masks on a schedule.
     * A non-OK status stops training with that status. */
    mco_status (*after_step)(void *user, mco_model *model, long step, long total_steps);
    void *after_step_user;

    /* 1: run every layer on mcuopt's own loops, not on the oneDNN fast path
     * of Conv2D, DepthwiseConv2D and Dense (for comparisons; much slower). */
    int reference_kernels;

    /* Quantization-aware training (off when NULL): the forward pass rounds
     * weights and activations as the int8 runtime will; see qat.h. */
    const struct mco_qat_config *qat;

    /* 1: a thread of its own shuffles, slices and converts the next batches
     * to float (up to 2 ahead) while the workers train; 0 (default): each
     * worker converts its slice of the batch. The results are bit-identical. */
    int data_thread;
} mco_train_options;

/* Defaults: 3 epochs, batch 32, Adam lr 3e-3 (0.9, 0.999, 1e-7), no weight
 * decay, cosine schedule, seed 1, all cores. */
void mco_train_options_default(mco_train_options *opt);

typedef struct {
    double final_loss;
    double final_accuracy;     /* training accuracy of the last epoch (-1 for a reconstruction model) */
    double val_accuracy;       /* -1 if no validation set; mco_eval_quality (an autoencoder's AUC) */
    double seconds;
} mco_train_result;

/* Trains `model` in place (parameters must be allocated and initialised).
 * `val` may be NULL. Fails if the data set shape does not match the model input,
 * and with MCO_ERR_RANGE (naming the step) as soon as the loss or a parameter
 * is no longer finite: the run diverged; the model then holds that step's values. */
mco_status mco_train(mco_model *model, const mco_dataset *train, const mco_dataset *val,
                     const mco_train_options *opt, mco_train_result *result);

#define MCO_MAX_CLASSES 100

typedef struct {
    int n;
    int n_classes;         /* 0 for a reconstruction model */
    int correct;
    double accuracy;       /* 0..1; 0 for a reconstruction model */
    double loss;           /* mean cross-entropy, or a reconstruction model's mean squared error */
    int *confusion;        /* n_classes * n_classes, [true][predicted], malloc'd; NULL for reconstruction */
    mco_loss kind;         /* the model's loss: what the figures above mean */
    double auc;            /* reconstruction: AUC of the per-sample error for labels 0 normal / 1
                              anomalous (mco_auc), or of the per-recording mean error when the
                              data has groups; -1 when the data lacks one kind or has no labels */
} mco_eval_result;

/* Inference-mode evaluation (BatchNorm uses moving statistics, Dropout is identity). */
mco_status mco_evaluate(const mco_model *model, const mco_dataset *data, int threads,
                        mco_eval_result *result);
void mco_eval_result_free(mco_eval_result *result);

/* Inference on `batch` samples already normalised to float (batch x input
 * shape); writes batch x n_classes outputs of the last layer. */
mco_status mco_model_predict(const mco_model *model, const float *input, int batch, float *output);

/* The training engine's float forward (oneDNN, a batch at a time) for
 * quantization's calibration: set mco_quant_options.engine to it. */
extern const struct mco_calib_engine mco_train_calib_engine;

/* The pieces of evaluation that the evaluation of a deploy model
 * (mco_deploy_evaluate) and distillation share with training: */

/* The layer whose output the loss reads: the last layer, or the input of a
 * final Softmax. -1 if that would be the model input. */
int mco_logits_layer(const mco_model *model);

/* Checks that `data` fits `model` (class labels present, sample shape,
 * class count); `what` names the data set in the error ("training"). For a
 * reconstruction model: the sample shape, and labels, if any, 0 or 1 (except
 * for "training", whose labels are not used). */
mco_status mco_check_dataset(const mco_model *model, const mco_dataset *data, const char *what);

/* Mean squared error of one sample's output[n] against target[n]:
 * mean((output - target)^2). If grad is not NULL, writes its gradient
 * grad_scale * 2 * (output - target) / n into it. Returns the loss. */
double mco_mse(const float *output, const float *target, int n, float *grad, float grad_scale);

/* The area under the ROC curve of `scores` (higher: more anomalous) for
 * labels 0 (normal) and 1 (anomalous): the chance that a random anomalous
 * sample scores above a random normal one, a tie counting one half (the
 * Mann-Whitney U statistic over n0 * n1). MCO_ERR_ARG if a label is neither
 * 0 nor 1 or a kind is missing, MCO_ERR_RANGE for a score that is not
 * finite; each one line naming the sample. O(n log n). */
mco_status mco_auc(const double *scores, const uint8_t *labels, int n, double *auc);

/* The figure a quality floor applies to (higher is better, 0..1): a
 * classifier's accuracy, a reconstruction model's AUC (-1: none, which meets
 * no floor). */
double mco_eval_quality(const mco_eval_result *r);

/* Fills *r for a reconstruction model from the per-sample errors[data->n]:
 * kind, n, the mean error as loss, and the AUC where data labels samples of
 * both kinds (labels must be 0 or 1: mco_check_dataset); with data->groups,
 * the AUC of the groups (recordings), each scored by its mean error. */
mco_status mco_eval_reconstruction_summary(const mco_dataset *data, const double *errors, mco_eval_result *r);

/* Softmax cross-entropy of one sample's logits[n_classes]. Writes the
 * predicted class to *pred; if grad is not NULL, writes
 * grad_scale * (softmax - onehot(label)) into it. Returns the loss. */
double mco_softmax_xent(const float *logits, int n_classes, int label, float *grad, float grad_scale,
                        int *pred);

#ifdef __cplusplus
}
#endif
#endif
