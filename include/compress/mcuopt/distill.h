/*
 * distill.h - knowledge distillation: a small student model learns from the
 * outputs of a larger (or unpruned, or float) teacher.
 *
 * The trainer does the work (train.h: teacher_logits, distill_alpha,
 * distill_temperature; loss alpha * CE + (1 - alpha) * T^2 *
 * KL(softmax(t/T) || softmax(s/T))). This module supplies what goes around
 * it: the teacher's logits for every training sample, from a float model or
 * from a quantized deploy model run by the MCU runtime's own kernels; a
 * student derived from the teacher's architecture by a width multiplier; and
 * one call that trains the student.
 *
 * Example (a half-width student of a float teacher):
 *   float *t_logits;
 *   mco_model student;
 *   mco_distill_options opt;
 *   mco_distill_options_default(&opt);
 *   if (mco_teacher_logits_float(&teacher, &train, 0, &t_logits) == MCO_OK &&
 *       mco_model_scale_width(&teacher, 0.5f, &student) == MCO_OK &&
 *       mco_model_alloc_params(&student) == MCO_OK) {
 *       mco_model_init_params(&student, opt.train.seed);
 *       mco_distill(&student, t_logits, &train, &val, &opt, &result);
 *   }
 *
 * Teachers whose last layer is Softmax: a float teacher gives the logits
 * feeding that Softmax; a deploy teacher gives log(max(p, 1e-7)) of its
 * (dequantized) probabilities, which equals the logits up to a per-sample
 * constant, and softmax(t/T) ignores such constants (except where p was
 * clamped).
 *
 * What it leaves out: feature (intermediate layer) distillation, online
 * teachers (logits are computed once, without data augmentation).
 */
#ifndef MCUOPT_DISTILL_H
#define MCUOPT_DISTILL_H

#include "mcuopt/data.h"
#include "mcuopt/deploy.h"
#include "mcuopt/graph.h"
#include "mcuopt/status.h"
#include "mcuopt/train.h"

#ifdef __cplusplus
extern "C" {
#endif

/* MCO_OK if `teacher` can teach: a classifier, not a reconstruction model
 * (loss mse, which has no class logits); else one line saying so. The
 * functions below check it too. */
mco_status mco_distill_check_teacher(const mco_model *teacher);

/* The logits of a float model for every sample of `data`: *logits receives a
 * malloc'd [data->n][n_classes] array (free() it). Inference mode, on
 * `threads` threads (0: all cores); the values do not depend on the thread
 * count. Works for any model (the name says what it is for). */
mco_status mco_teacher_logits_float(const mco_model *teacher, const mco_dataset *data, int threads,
                                    float **logits);

/* The same for a deploy model, evaluated with the MCU runtime (mco_plan_build
 * + mco_plan_run); int8 outputs are dequantized with the output's scale and
 * zero point. */
mco_status mco_teacher_logits_deploy(const mco_deploy_model *teacher, const mco_dataset *data, int threads,
                                     float **logits);

/* A student with the teacher's architecture and every Conv2D's filters and
 * every Dense's units multiplied by `multiplier` (rounded to nearest, at
 * least 1), except the last Dense, which keeps the class count. Depthwise
 * convolutions, BatchNorm and Add follow their inputs, so residual blocks
 * stay consistent (all their convolutions scale alike). Shapes are inferred;
 * parameters are not allocated (as mco_arch_load). arch_name becomes e.g.
 * "mnist-paper x0.5". multiplier must be in (0, 16]. */
mco_status mco_model_scale_width(const mco_model *teacher_arch, float multiplier, mco_model *student);

typedef struct {
    mco_train_options train;   /* epochs, optimizer, seed, threads, ...; its teacher_logits,
                                  distill_alpha and distill_temperature are set by mco_distill */
    float alpha;               /* weight of the hard-label loss, in [0, 1] (default 0.1) */
    float temperature;         /* T > 0 (default 4) */
} mco_distill_options;

/* Training defaults (mco_train_options_default), alpha 0.1, temperature 4. */
void mco_distill_options_default(mco_distill_options *opt);

/* Trains `student` (parameters allocated and initialised, or already
 * trained) on `train` against `teacher_logits` ([train->n][student
 * n_classes], e.g. from mco_teacher_logits_float on the same `train`).
 * `val` may be NULL. With alpha = 1 this is exactly mco_train. */
mco_status mco_distill(mco_model *student, const float *teacher_logits, const mco_dataset *train,
                       const mco_dataset *val, const mco_distill_options *opt, mco_train_result *result);

/* Mean over n samples of KL(softmax(teacher/T) || softmax(student/T)), both
 * [n][n_classes] logits: how far the student is from imitating the teacher. */
double mco_logits_kl_divergence(const float *teacher, const float *student, int n, int n_classes,
                                float temperature);

#ifdef __cplusplus
}
#endif
#endif
