/*
 * fake_quant.h - fake quantization for quantization-aware training
 * (internal to src/train/; the rules are in include/train/mcuopt/qat.h).
 *
 * An mco_fake_quant holds the shared state of one QAT run: a "shadow" of the
 * model whose weighted layers point to fake-quantized copies of the master
 * weights (the networks run on the shadow, the optimizer updates the master),
 * the kind of every layer output, and the int8 parameters that the current
 * ranges give each one. Each worker thread has an mco_fq_thread with its
 * batch min/max and clipping masks; mco_net calls mco_fq_forward after every
 * layer's forward and mco_fq_backward before every layer's backward when its
 * `fake_quant` is set.
 *
 * A step: mco_fake_quant_begin_step (calling thread: refresh the weights,
 * decide whether ranges are used and observed) -> the threads' forward and
 * backward -> mco_fake_quant_end_step (calling thread: combine the threads'
 * batch min/max in thread order, move the ranges).
 *
 * What it leaves out: everything qat.h leaves out.
 */
#ifndef MCO_TRAIN_FAKE_QUANT_H
#define MCO_TRAIN_FAKE_QUANT_H

#include <stddef.h>
#include <stdint.h>

#include "mcuopt/deploy.h"
#include "mcuopt/qat.h"

/* MCO_OK if `data` holds raw uint8 samples, the only input QAT's grid
 * (q = raw - 128) fits; one error line otherwise. */
mco_status mco_qat_require_u8(const mco_dataset *data);

typedef enum {
    MCO_FQ_NONE = 0,       /* left as it is */
    MCO_FQ_RANGE = 1,      /* a quantization point: its own range, clipped gradient */
    MCO_FQ_REQUANTIZE = 2  /* rounded to its input's grid (average pools), gradient passes */
} mco_fq_kind;

struct mco_fake_quant;

/* One thread's view. The training threads' own buffers; the inference view
 * (mco_fake_quant.inference) has none and is shared read-only. */
typedef struct mco_fq_thread {
    const struct mco_fake_quant *fq;
    float *batch_min, *batch_max;   /* [n_layers]: this step's min/max at quantization points */
    unsigned char **clip_mask;      /* [n_layers]: 1 where the input was inside the range (quantization points) */
    int observed;                   /* 1 if batch_min/max hold this step's samples */
} mco_fq_thread;

typedef struct mco_fake_quant {
    const mco_model *master;   /* float master weights */
    mco_model shadow;          /* the networks' model: master's layers, fake-quantized weights */
    mco_qat_ranges *ranges;
    float decay, freeze_fraction;
    unsigned char *kind;       /* [n_layers] mco_fq_kind */
    mco_qparams input_q;       /* the deploy model's input grid (q = raw - 128) */
    mco_qparams *q;            /* [n_layers] the grid of every layer output (NONE layers: their input's) */
    int active;                /* ranges initialised: activations are fake-quantized */
    int observing;             /* this step's min/max move the ranges */
    int n_threads;
    mco_fq_thread *threads;    /* [n_threads] training threads */
    mco_fq_thread inference;
    float **params;            /* [n_layers] weighted layers: fake-quantized weights, then bias (owned) */
    float *scales;             /* scratch: scales of the widest layer */
    int8_t *weights_q;         /* scratch: integer weights of the largest layer */
} mco_fake_quant;

/* Sets up QAT over `master` (no BatchNorm left) with `ranges` (its layer
 * count), and per-thread buffers for n_threads training threads of up to
 * max_batch samples (n_threads 0: inference only). */
mco_status mco_fake_quant_init(mco_fake_quant *fq, const mco_model *master, mco_qat_ranges *ranges,
                               float decay, float freeze_fraction, int n_threads, int max_batch);
void mco_fake_quant_free(mco_fake_quant *fq);

/* Re-quantizes the shadow weights from the master weights and the grids
 * from the ranges (before an evaluation, or inside begin_step). */
mco_status mco_fake_quant_refresh(mco_fake_quant *fq);
/* Before training step `step` of `total_steps` (0-based): refresh, and
 * decide whether this step observes ranges. */
mco_status mco_fake_quant_begin_step(mco_fake_quant *fq, long step, long total_steps);
/* After the threads ran the step: moves the ranges by the combined batch
 * min/max (thread order), if this step observes. */
void mco_fake_quant_end_step(mco_fake_quant *fq);

/* Called by mco_net before the first layer: rounds the model input to the
 * deploy input grid, which maps normalised raw pixels to exactly what the
 * runtime sees (scale * (raw - 128 - zero point); the zero point's rounding
 * shifts MNIST's input by a third of a grey level). */
void mco_fq_input(const mco_fq_thread *th, float *input, int batch);
/* Called by mco_net after layer l's forward on `batch` samples (x: its output). */
void mco_fq_forward(mco_fq_thread *th, int l, float *x, int batch, int training);
/* Called by mco_net before layer l's backward: zeroes the gradient where the
 * forward clipped. */
void mco_fq_backward(const mco_fq_thread *th, int l, float *grad, int batch);

/* y[k] = scale * (clamp(round(x[k] / scale) + zero_point, -128, 127) - zero_point),
 * in place; mask[k] (if not NULL) = 1 if x[k] lay inside the representable
 * range [scale * (-128 - zp), scale * (127 - zp)], else 0. */
void mco_fake_quantize(float *x, size_t n, mco_qparams q, unsigned char *mask);

#endif
