/*
 * mco_op.h - a deployed model as a list of kernel calls over one arena.
 *
 * The host evaluates a planned model as `mco_op` records (kernel kind,
 * arena offsets of the operands, pointers to the const parameter struct,
 * weights and bias) run by mco_ops_run(). The code generator writes the
 * same plan as one direct kernel call per op, with the same parameter
 * structs and the arguments mco_op_run() passes (src/codegen/op_table.c
 * records each kind's argument list), so the host and the chip execute the
 * same kernels on the same values; the chip needs neither this dispatcher
 * nor the op table.
 *
 * Each kind maps to one kernel of mco_runtime.h; `params` points to that
 * kernel's parameter struct (mco_conv_s8_params, mco_fc_s8_params, ...).
 * mco_op.c compiles a case only when MCO_OP_USE_<KIND> is defined (or
 * MCO_OP_USE_ALL is, as in the host's runtime/mco_op_config.h), so a build
 * that wants the dispatcher on a chip can keep just the kernels it needs.
 * The clamp parameter structs below are also used by the emitted code.
 *
 * The hybrid kinds (float activations, int8 weights) call the kernels of
 * mco_hybrid.h.
 */
#ifndef MCO_OP_H
#define MCO_OP_H

#include <stdint.h>

#include "mco_hybrid.h"
#include "mco_runtime.h"
#include "mco_sparse.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    /* float activations */
    MCO_OP_CONV2D_F32 = 0,       /* params: mco_conv_f32_params, weights float */
    MCO_OP_CONV2D_F16W,          /* weights uint16_t (IEEE half) */
    MCO_OP_DEPTHWISE_CONV2D_F32,
    MCO_OP_DEPTHWISE_CONV2D_F16W,
    MCO_OP_FULLY_CONNECTED_F32,  /* params: mco_fc_f32_params */
    MCO_OP_FULLY_CONNECTED_F16W,
    MCO_OP_CONV2D_MAXPOOL_F32,   /* fused conv + clamp + max pool 2x2 */
    MCO_OP_MAX_POOL_F32,         /* params: mco_conv_f32_params */
    MCO_OP_AVG_POOL_F32,
    MCO_OP_GLOBAL_AVG_POOL_F32,  /* params: mco_window (in_h, in_w, in_c) */
    MCO_OP_CLAMP_F32,            /* params: mco_clamp_f32_params; in place (input == output) */
    MCO_OP_ADD_F32,              /* params: mco_clamp_f32_params */
    MCO_OP_SOFTMAX_F32,          /* params: mco_clamp_f32_params (size = row size, one row) */
    /* int8 activations */
    MCO_OP_CONV2D_S8,            /* params: mco_conv_s8_params, weights int8 */
    MCO_OP_CONV2D_S4,            /* weights packed int4 */
    MCO_OP_DEPTHWISE_CONV2D_S8,
    MCO_OP_FULLY_CONNECTED_S8,   /* params: mco_fc_s8_params */
    MCO_OP_FULLY_CONNECTED_S4,
    MCO_OP_CONV2D_MAXPOOL_S8,    /* params: mco_conv_s8_params */
    MCO_OP_MAX_POOL_S8,          /* params: mco_pool_s8_params */
    MCO_OP_AVG_POOL_S8,
    MCO_OP_GLOBAL_AVG_POOL_S8,   /* params: mco_pool_s8_params (win.in_h/in_w/in_c, act_min/max) */
    MCO_OP_CLAMP_S8,             /* params: mco_clamp_s8_params; in place */
    MCO_OP_ADD_S8,               /* params: mco_add_s8_params */
    MCO_OP_SOFTMAX_S8,           /* params: mco_softmax_s8_params */
    /* float activations, int8 weights with per-channel float scales (mco_hybrid.h) */
    MCO_OP_CONV2D_S8W_F32,       /* params: mco_conv_s8w_f32_params, weights int8 */
    MCO_OP_DEPTHWISE_CONV2D_S8W_F32,
    MCO_OP_FULLY_CONNECTED_S8W_F32,  /* params: mco_fc_s8w_f32_params */
    /* int8, specialised: conv 3x3 on one input channel + clamp + max pool 2x2 */
    MCO_OP_CONV3X3_MAXPOOL_S8,   /* params: mco_conv_s8_params */
    /* int8, sparse weights: bitmap + non-zero values in one byte array (mco_sparse.h) */
    MCO_OP_FULLY_CONNECTED_SPARSE_S8,  /* params: mco_fc_s8_params */
    MCO_OP_CONV2D_MAXPOOL_SPARSE_S8,   /* params: mco_conv_s8_params (fused conv + clamp + max pool 2x2) */
    /* int8, TFLite's MEAN over height and width (an imported model's global average pool) */
    MCO_OP_MEAN_S8,              /* params: mco_mean_s8_params */
    MCO_OP_KIND_COUNT
} mco_op_kind;

typedef struct {
    int32_t size;
    float act_min, act_max;
} mco_clamp_f32_params;

typedef struct {
    int32_t size;
    int32_t act_min, act_max;
} mco_clamp_s8_params;

typedef struct {
    mco_op_kind kind;
    uint32_t input;              /* byte offset of the (first) input in the arena */
    uint32_t input2;             /* second input (Add) */
    uint32_t output;             /* byte offset of the output */
    const void *params;          /* the kernel's parameter struct */
    const void *weights;
    const void *bias;
} mco_op;

/* Runs one op on an arena (aligned to 4 bytes, holding every activation). */
mco_rt_status mco_op_run(const mco_op *op, uint8_t *arena);
/* Runs n ops in order; stops at the first error. */
mco_rt_status mco_ops_run(const mco_op *ops, int32_t n_ops, uint8_t *arena);

#ifdef __cplusplus
}
#endif
#endif
