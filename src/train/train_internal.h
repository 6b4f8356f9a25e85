/*
 * train_internal.h - what train.c and evaluate.c share (internal to
 * src/train/): loading a batch of raw samples into a workspace, and
 * evaluation on an existing thread pool. (The loss, the logits tensor and
 * the data set check are public, in mcuopt/train.h.)
 */
#ifndef MCO_TRAIN_INTERNAL_H
#define MCO_TRAIN_INTERNAL_H

#include <stdint.h>

#include "mcuopt/train.h"
#include "mcuopt/thread_pool.h"
#include "net.h"

/* Fills net->input with samples indices[0..count-1] of `data` (or samples
 * first..first+count-1 when indices is NULL), normalised through `lut`
 * (lut[v] = the float input of raw value v). */
void mco_load_samples(mco_net *net, const mco_dataset *data, const int *indices, int first, int count,
                      const float lut[256]);
void mco_normalization_table(const mco_normalization *norm, float lut[256]);

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
