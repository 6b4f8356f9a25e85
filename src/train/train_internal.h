/*
 * train_internal.h - what train.c and evaluate.c share (internal to
 * src/train/): evaluation on an existing thread pool. (A batch's float
 * inputs come from mco_dataset_to_float, mcuopt/data.h.) (The loss, the logits tensor and
 * the data set check are public, in mcuopt/train.h.)
 */
#ifndef MCO_TRAIN_INTERNAL_H
#define MCO_TRAIN_INTERNAL_H

#include <stdint.h>

#include "mcuopt/train.h"
#include "mcuopt/thread_pool.h"
#include "net.h"

/* mco_evaluate on a thread pool the caller owns. */
mco_status mco_evaluate_on_pool(const mco_model *model, const mco_dataset *data, mco_pool *pool,
                                mco_eval_result *result);
/* The same, and mco_model_predict, with every workspace's fake_quant set
 * (quantization-aware training's inference view; NULL: plain float). */
mco_status mco_evaluate_on_pool_with(const mco_model *model, struct mco_fq_thread *fake_quant,
                                     const mco_dataset *data, mco_pool *pool, mco_eval_result *result);
mco_status mco_model_predict_with(const mco_model *model, struct mco_fq_thread *fake_quant, const float *input,
                                  int batch, float *output);

double mco_seconds_now(void);

#endif
