/*
 * op.h - the op kinds of a plan and the op record the host runs.
 *
 * An op kind is one runtime kernel with its calling convention: the planner
 * turns a layer (or a Conv2D with its fused ReLU and max pool) into one op
 * of a kind that can run it, the emitter writes one call of that kind's
 * kernel per op, and the host evaluator runs the same kernel on the same
 * parameters. Every kind is described once, by a descriptor in
 * src/codegen/op_<family>.c (its kernel, parameter preparation, the call the
 * emitter writes, the host call, its resource-model features and which
 * layers it can run); docs/design.md ("Adding a kernel") walks through one.
 *
 * MCO_OP_KINDS lists the kinds as X(NAME, descriptor): the kind is
 * MCO_OP_<NAME>, its descriptor the variable mco_op_<descriptor>. The order
 * is the planner's order of preference when it has no cost table to choose
 * by (MCO_PLAN_LISTED): specialised kernels before the general ones they
 * replace, dense before sparse. The names are the keys of the resource
 * model's table (targets/calibration/resource-model.json), so a kind keeps
 * its name; the numbers follow this list and are not stored anywhere.
 *
 * What it leaves out: the descriptors themselves (internal to src/codegen/,
 * op_desc.h), the kernels and their parameter structs (runtime/, which the
 * areas above codegen do not see: running a plan is mco_plan_run).
 */
#ifndef MCUOPT_OP_H
#define MCUOPT_OP_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MCO_OP_KINDS(X)                                                                                       \
    /* float activations */                                                                                   \
    X(CONV2D_F32, conv2d_f32)                           /* mco_conv_f32_params, float weights */              \
    X(CONV2D_F16W, conv2d_f16w)                         /* weights IEEE half (uint16_t) */                    \
    X(DEPTHWISE_CONV2D_F32, depthwise_conv2d_f32)                                                             \
    X(DEPTHWISE_CONV2D_F16W, depthwise_conv2d_f16w)                                                           \
    X(FULLY_CONNECTED_F32, fully_connected_f32)         /* mco_fc_f32_params */                               \
    X(FULLY_CONNECTED_F16W, fully_connected_f16w)                                                             \
    X(CONV2D_MAXPOOL_F32, conv2d_maxpool_f32)           /* fused conv + clamp + max pool 2x2 */               \
    X(MAX_POOL_F32, max_pool_f32)                       /* mco_conv_f32_params */                             \
    X(AVG_POOL_F32, avg_pool_f32)                                                                             \
    X(AVG_POOL_PAD_F32, avg_pool_pad_f32)               /* divides by the whole window (count_pad) */         \
    X(GLOBAL_AVG_POOL_F32, global_avg_pool_f32)         /* mco_window */                                      \
    X(CLAMP_F32, clamp_f32)                             /* mco_clamp_f32_params, in place */                  \
    X(ADD_F32, add_f32)                                 /* mco_clamp_f32_params */                            \
    X(CONCAT_F32, concat_f32)                           /* mco_concat_f32_params: two inputs */               \
    X(SOFTMAX_F32, softmax_f32)                         /* mco_clamp_f32_params (size = one row) */           \
    X(ACTIVATION_F32, activation_f32)                   /* mco_activation_f32_params: sigmoid, tanh, ... */  \
    /* int8 activations */                                                                                    \
    X(CONV1X1_S8, conv1x1_s8)                           /* blocked weights, im2col scratch (mco_conv_blocked.h) */ \
    X(CONV2D_IM2COL_S8, conv2d_im2col_s8)               /* blocked weights, im2col scratch */                 \
    X(CONV2D_S8, conv2d_s8)                             /* mco_conv_s8_params, int8 weights */                \
    X(CONV2D_S4, conv2d_s4)                             /* packed int4 weights */                             \
    X(DEPTHWISE_CONV2D_S8, depthwise_conv2d_s8)                                                               \
    X(FULLY_CONNECTED_S8, fully_connected_s8)           /* mco_fc_s8_params */                                \
    X(FULLY_CONNECTED_S4, fully_connected_s4)                                                                 \
    X(CONV3X3_MAXPOOL_S8, conv3x3_maxpool_s8)           /* 3x3 on one channel + clamp + max pool 2x2 */       \
    X(CONV2D_MAXPOOL_IM2COL_S8, conv2d_maxpool_im2col_s8) /* blocked, fused conv + clamp + max pool 2x2 */     \
    X(CONV2D_MAXPOOL_S8, conv2d_maxpool_s8)             /* mco_conv_s8_params, fused conv + pool */           \
    X(MAX_POOL_S8, max_pool_s8)                         /* mco_pool_s8_params */                              \
    X(AVG_POOL_S8, avg_pool_s8)                                                                               \
    X(AVG_POOL_PAD_S8, avg_pool_pad_s8)                 /* mco_avg_pool_pad_s8_params (count_pad) */          \
    X(GLOBAL_AVG_POOL_S8, global_avg_pool_s8)                                                                 \
    X(MEAN_S8, mean_s8)                                 /* mco_mean_s8_params: TFLite's MEAN */              \
    X(CLAMP_S8, clamp_s8)                               /* mco_clamp_s8_params, in place */                   \
    X(ADD_S8, add_s8)                                   /* mco_add_s8_params */                               \
    X(CONCAT_S8, concat_s8)                             /* mco_concat_s8_params: two inputs, requantized */   \
    X(SOFTMAX_S8, softmax_s8)                           /* mco_softmax_s8_params */                           \
    X(LUT_S8, lut_s8)                                   /* mco_lut_s8_params + 256-entry table: sigmoid, ... */ \
    /* float activations, int8 weights with per-channel float scales (runtime/mco_hybrid.h) */                \
    X(CONV2D_S8W_F32, conv2d_s8w_f32)                   /* mco_conv_s8w_f32_params */                         \
    X(DEPTHWISE_CONV2D_S8W_F32, depthwise_conv2d_s8w_f32)                                                     \
    X(FULLY_CONNECTED_S8W_F32, fully_connected_s8w_f32) /* mco_fc_s8w_f32_params */                           \
    /* int8, sparse weights: bitmap + non-zero values in one byte array (runtime/mco_sparse.h) */             \
    X(FULLY_CONNECTED_SPARSE_S8, fully_connected_sparse_s8)   /* mco_fc_s8_params */                          \
    X(CONV2D_MAXPOOL_SPARSE_S8, conv2d_maxpool_sparse_s8)     /* mco_conv_s8_params */                        \
    /* the general convolution: groups, dilation, depth multiplier (op_conv_general.c) */                    \
    X(CONV_GENERAL_F32, conv_general_f32)               /* mco_conv_general_f32_params */                     \
    X(CONV_GENERAL_S8, conv_general_s8)                 /* mco_conv_general_s8_params */                       \
    /* ConvTranspose2D (op_conv_transpose.c): float and int8 */                                               \
    X(CONV_TRANSPOSE2D_F32, conv_transpose2d_f32)       /* mco_conv_f32_params, float weights */              \
    X(CONV_TRANSPOSE2D_S8, conv_transpose2d_s8)         /* mco_conv_s8_params, int8 weights */

typedef enum {
#define MCO_OP_ENUM_(name, desc) MCO_OP_##name,
    MCO_OP_KINDS(MCO_OP_ENUM_)
#undef MCO_OP_ENUM_
    MCO_OP_KIND_COUNT
} mco_op_kind;

/* One op of a plan: its kind, the arena offsets of its operands, and its
 * kernel's const parameter struct, weights and bias (the arrays the emitter
 * writes into model.c). */
typedef struct {
    mco_op_kind kind;
    uint32_t input;              /* byte offset of the (first) input in the arena */
    uint32_t input2;             /* second input (Add, Concat) */
    uint32_t output;             /* byte offset of the output */
    const void *params;          /* the kernel's parameter struct */
    const void *weights;
    const void *bias;
    uint32_t scratch;            /* byte offset of the kernel's scratch in the arena */
    uint32_t scratch_bytes;      /* its size, set by the kind's prepare (0: none, the kernel gets NULL) */
} mco_op;

/* Name of a kind ("CONV2D_S8"; "UNKNOWN" for a number that is none) and
 * the runtime function it calls ("mco_conv2d_s8"; NULL for none). */
const char *mco_op_kind_name(int kind);
const char *mco_op_kernel_function(int kind);
/* The kind of a name, -1 if none. */
int mco_op_kind_by_name(const char *name);

#ifdef __cplusplus
}
#endif
#endif
