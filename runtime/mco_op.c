/*
 * mco_op.c - runs a deployed model's op list on the host (see mco_op.h):
 * one switch from op kind to kernel call. Each case is compiled only when
 * MCO_OP_USE_<KIND> or MCO_OP_USE_ALL is defined (mco_op_config.h; the
 * host's enables every kind). Emitted model code does not use this file: it
 * calls the kernels directly with the same arguments (keep
 * src/codegen/op_table.c's argument lists in step with these cases).
 */
#include "mco_op.h"

#include "mco_op_config.h"

#if defined(MCO_OP_USE_ALL)
#define MCO_OP_USE_CONV2D_F32 1
#define MCO_OP_USE_CONV2D_F16W 1
#define MCO_OP_USE_DEPTHWISE_CONV2D_F32 1
#define MCO_OP_USE_DEPTHWISE_CONV2D_F16W 1
#define MCO_OP_USE_FULLY_CONNECTED_F32 1
#define MCO_OP_USE_FULLY_CONNECTED_F16W 1
#define MCO_OP_USE_CONV2D_MAXPOOL_F32 1
#define MCO_OP_USE_MAX_POOL_F32 1
#define MCO_OP_USE_AVG_POOL_F32 1
#define MCO_OP_USE_GLOBAL_AVG_POOL_F32 1
#define MCO_OP_USE_CLAMP_F32 1
#define MCO_OP_USE_ADD_F32 1
#define MCO_OP_USE_SOFTMAX_F32 1
#define MCO_OP_USE_CONV2D_S8 1
#define MCO_OP_USE_CONV2D_S4 1
#define MCO_OP_USE_DEPTHWISE_CONV2D_S8 1
#define MCO_OP_USE_FULLY_CONNECTED_S8 1
#define MCO_OP_USE_FULLY_CONNECTED_S4 1
#define MCO_OP_USE_CONV2D_MAXPOOL_S8 1
#define MCO_OP_USE_MAX_POOL_S8 1
#define MCO_OP_USE_AVG_POOL_S8 1
#define MCO_OP_USE_GLOBAL_AVG_POOL_S8 1
#define MCO_OP_USE_CLAMP_S8 1
#define MCO_OP_USE_ADD_S8 1
#define MCO_OP_USE_SOFTMAX_S8 1
#define MCO_OP_USE_CONV2D_S8W_F32 1
#define MCO_OP_USE_DEPTHWISE_CONV2D_S8W_F32 1
#define MCO_OP_USE_FULLY_CONNECTED_S8W_F32 1
#define MCO_OP_USE_CONV3X3_MAXPOOL_S8 1
#define MCO_OP_USE_FULLY_CONNECTED_SPARSE_S8 1
#define MCO_OP_USE_CONV2D_MAXPOOL_SPARSE_S8 1
#define MCO_OP_USE_MEAN_S8 1
#endif

/* Typed views of an arena offset. The arena and every offset are 4-byte
 * aligned (the memory planner guarantees it), so the float casts are safe. */
#define F32_AT(arena, offset) ((float *)(void *)((arena) + (offset)))
#define S8_AT(arena, offset) ((int8_t *)(void *)((arena) + (offset)))

mco_rt_status mco_op_run(const mco_op *op, uint8_t *arena)
{
    if (op == 0 || arena == 0 || op->params == 0) return MCO_RT_ARG_ERROR;
    switch (op->kind) {
#if defined(MCO_OP_USE_CONV2D_F32)
    case MCO_OP_CONV2D_F32:
        return mco_conv2d_f32((const mco_conv_f32_params *)op->params, F32_AT(arena, op->input),
                              (const float *)op->weights, (const float *)op->bias,
                              F32_AT(arena, op->output));
#endif
#if defined(MCO_OP_USE_CONV2D_F16W)
    case MCO_OP_CONV2D_F16W:
        return mco_conv2d_f16w((const mco_conv_f32_params *)op->params, F32_AT(arena, op->input),
                               (const uint16_t *)op->weights, (const float *)op->bias,
                               F32_AT(arena, op->output));
#endif
#if defined(MCO_OP_USE_DEPTHWISE_CONV2D_F32)
    case MCO_OP_DEPTHWISE_CONV2D_F32:
        return mco_depthwise_conv2d_f32((const mco_conv_f32_params *)op->params,
                                        F32_AT(arena, op->input), (const float *)op->weights,
                                        (const float *)op->bias, F32_AT(arena, op->output));
#endif
#if defined(MCO_OP_USE_DEPTHWISE_CONV2D_F16W)
    case MCO_OP_DEPTHWISE_CONV2D_F16W:
        return mco_depthwise_conv2d_f16w((const mco_conv_f32_params *)op->params,
                                         F32_AT(arena, op->input), (const uint16_t *)op->weights,
                                         (const float *)op->bias, F32_AT(arena, op->output));
#endif
#if defined(MCO_OP_USE_FULLY_CONNECTED_F32)
    case MCO_OP_FULLY_CONNECTED_F32:
        return mco_fully_connected_f32((const mco_fc_f32_params *)op->params,
                                       F32_AT(arena, op->input), (const float *)op->weights,
                                       (const float *)op->bias, F32_AT(arena, op->output));
#endif
#if defined(MCO_OP_USE_FULLY_CONNECTED_F16W)
    case MCO_OP_FULLY_CONNECTED_F16W:
        return mco_fully_connected_f16w((const mco_fc_f32_params *)op->params,
                                        F32_AT(arena, op->input), (const uint16_t *)op->weights,
                                        (const float *)op->bias, F32_AT(arena, op->output));
#endif
#if defined(MCO_OP_USE_CONV2D_MAXPOOL_F32)
    case MCO_OP_CONV2D_MAXPOOL_F32:
        return mco_conv2d_maxpool2x2_f32((const mco_conv_f32_params *)op->params,
                                         F32_AT(arena, op->input), (const float *)op->weights,
                                         (const float *)op->bias, F32_AT(arena, op->output));
#endif
#if defined(MCO_OP_USE_MAX_POOL_F32)
    case MCO_OP_MAX_POOL_F32:
        return mco_max_pool_f32((const mco_conv_f32_params *)op->params, F32_AT(arena, op->input),
                                F32_AT(arena, op->output));
#endif
#if defined(MCO_OP_USE_AVG_POOL_F32)
    case MCO_OP_AVG_POOL_F32:
        return mco_avg_pool_f32((const mco_conv_f32_params *)op->params, F32_AT(arena, op->input),
                                F32_AT(arena, op->output));
#endif
#if defined(MCO_OP_USE_GLOBAL_AVG_POOL_F32)
    case MCO_OP_GLOBAL_AVG_POOL_F32: {
        const mco_window *w = (const mco_window *)op->params;
        return mco_global_avg_pool_f32(w->in_h, w->in_w, w->in_c, F32_AT(arena, op->input),
                                       F32_AT(arena, op->output));
    }
#endif
#if defined(MCO_OP_USE_CLAMP_F32)
    case MCO_OP_CLAMP_F32: {
        const mco_clamp_f32_params *c = (const mco_clamp_f32_params *)op->params;
        return mco_clamp_f32(F32_AT(arena, op->output), c->size, c->act_min, c->act_max);
    }
#endif
#if defined(MCO_OP_USE_ADD_F32)
    case MCO_OP_ADD_F32: {
        const mco_clamp_f32_params *c = (const mco_clamp_f32_params *)op->params;
        return mco_add_f32(F32_AT(arena, op->input), F32_AT(arena, op->input2),
                           F32_AT(arena, op->output), c->size, c->act_min, c->act_max);
    }
#endif
#if defined(MCO_OP_USE_SOFTMAX_F32)
    case MCO_OP_SOFTMAX_F32: {
        const mco_clamp_f32_params *c = (const mco_clamp_f32_params *)op->params;
        return mco_softmax_f32(F32_AT(arena, op->input), F32_AT(arena, op->output), 1, c->size);
    }
#endif
#if defined(MCO_OP_USE_CONV2D_S8)
    case MCO_OP_CONV2D_S8:
        return mco_conv2d_s8((const mco_conv_s8_params *)op->params, S8_AT(arena, op->input),
                             (const int8_t *)op->weights, (const int32_t *)op->bias,
                             S8_AT(arena, op->output));
#endif
#if defined(MCO_OP_USE_CONV2D_S4)
    case MCO_OP_CONV2D_S4:
        return mco_conv2d_s4((const mco_conv_s8_params *)op->params, S8_AT(arena, op->input),
                             (const uint8_t *)op->weights, (const int32_t *)op->bias,
                             S8_AT(arena, op->output));
#endif
#if defined(MCO_OP_USE_DEPTHWISE_CONV2D_S8)
    case MCO_OP_DEPTHWISE_CONV2D_S8:
        return mco_depthwise_conv2d_s8((const mco_conv_s8_params *)op->params,
                                       S8_AT(arena, op->input), (const int8_t *)op->weights,
                                       (const int32_t *)op->bias, S8_AT(arena, op->output));
#endif
#if defined(MCO_OP_USE_FULLY_CONNECTED_S8)
    case MCO_OP_FULLY_CONNECTED_S8:
        return mco_fully_connected_s8((const mco_fc_s8_params *)op->params,
                                      S8_AT(arena, op->input), (const int8_t *)op->weights,
                                      (const int32_t *)op->bias, S8_AT(arena, op->output));
#endif
#if defined(MCO_OP_USE_FULLY_CONNECTED_S4)
    case MCO_OP_FULLY_CONNECTED_S4:
        return mco_fully_connected_s4((const mco_fc_s8_params *)op->params,
                                      S8_AT(arena, op->input), (const uint8_t *)op->weights,
                                      (const int32_t *)op->bias, S8_AT(arena, op->output));
#endif
#if defined(MCO_OP_USE_CONV2D_MAXPOOL_S8)
    case MCO_OP_CONV2D_MAXPOOL_S8:
        return mco_conv2d_maxpool2x2_s8((const mco_conv_s8_params *)op->params,
                                        S8_AT(arena, op->input), (const int8_t *)op->weights,
                                        (const int32_t *)op->bias, S8_AT(arena, op->output));
#endif
#if defined(MCO_OP_USE_CONV3X3_MAXPOOL_S8)
    case MCO_OP_CONV3X3_MAXPOOL_S8:
        return mco_conv3x3_maxpool2x2_s8((const mco_conv_s8_params *)op->params,
                                         S8_AT(arena, op->input), (const int8_t *)op->weights,
                                         (const int32_t *)op->bias, S8_AT(arena, op->output));
#endif
#if defined(MCO_OP_USE_FULLY_CONNECTED_SPARSE_S8)
    case MCO_OP_FULLY_CONNECTED_SPARSE_S8:
        return mco_fully_connected_sparse_s8((const mco_fc_s8_params *)op->params,
                                             S8_AT(arena, op->input), (const uint8_t *)op->weights,
                                             (const int32_t *)op->bias, S8_AT(arena, op->output));
#endif
#if defined(MCO_OP_USE_CONV2D_MAXPOOL_SPARSE_S8)
    case MCO_OP_CONV2D_MAXPOOL_SPARSE_S8:
        return mco_conv2d_maxpool2x2_sparse_s8((const mco_conv_s8_params *)op->params,
                                               S8_AT(arena, op->input), (const uint8_t *)op->weights,
                                               (const int32_t *)op->bias, S8_AT(arena, op->output));
#endif
#if defined(MCO_OP_USE_MEAN_S8)
    case MCO_OP_MEAN_S8:
        return mco_mean_s8((const mco_mean_s8_params *)op->params, S8_AT(arena, op->input),
                           S8_AT(arena, op->output));
#endif
#if defined(MCO_OP_USE_MAX_POOL_S8)
    case MCO_OP_MAX_POOL_S8:
        return mco_max_pool_s8((const mco_pool_s8_params *)op->params, S8_AT(arena, op->input),
                               S8_AT(arena, op->output));
#endif
#if defined(MCO_OP_USE_AVG_POOL_S8)
    case MCO_OP_AVG_POOL_S8:
        return mco_avg_pool_s8((const mco_pool_s8_params *)op->params, S8_AT(arena, op->input),
                               S8_AT(arena, op->output));
#endif
#if defined(MCO_OP_USE_GLOBAL_AVG_POOL_S8)
    case MCO_OP_GLOBAL_AVG_POOL_S8: {
        const mco_pool_s8_params *p = (const mco_pool_s8_params *)op->params;
        return mco_global_avg_pool_s8(p->win.in_h, p->win.in_w, p->win.in_c, p->act_min,
                                      p->act_max, S8_AT(arena, op->input),
                                      S8_AT(arena, op->output));
    }
#endif
#if defined(MCO_OP_USE_CLAMP_S8)
    case MCO_OP_CLAMP_S8: {
        const mco_clamp_s8_params *c = (const mco_clamp_s8_params *)op->params;
        return mco_clamp_s8(S8_AT(arena, op->output), c->size, c->act_min, c->act_max);
    }
#endif
#if defined(MCO_OP_USE_ADD_S8)
    case MCO_OP_ADD_S8:
        return mco_add_s8((const mco_add_s8_params *)op->params, S8_AT(arena, op->input),
                          S8_AT(arena, op->input2), S8_AT(arena, op->output));
#endif
#if defined(MCO_OP_USE_SOFTMAX_S8)
    case MCO_OP_SOFTMAX_S8:
        return mco_softmax_s8((const mco_softmax_s8_params *)op->params, S8_AT(arena, op->input),
                              S8_AT(arena, op->output));
#endif
#if defined(MCO_OP_USE_CONV2D_S8W_F32)
    case MCO_OP_CONV2D_S8W_F32:
        return mco_conv2d_s8w_f32((const mco_conv_s8w_f32_params *)op->params,
                                  F32_AT(arena, op->input), (const int8_t *)op->weights,
                                  (const float *)op->bias, F32_AT(arena, op->output));
#endif
#if defined(MCO_OP_USE_DEPTHWISE_CONV2D_S8W_F32)
    case MCO_OP_DEPTHWISE_CONV2D_S8W_F32:
        return mco_depthwise_conv2d_s8w_f32((const mco_conv_s8w_f32_params *)op->params,
                                            F32_AT(arena, op->input), (const int8_t *)op->weights,
                                            (const float *)op->bias, F32_AT(arena, op->output));
#endif
#if defined(MCO_OP_USE_FULLY_CONNECTED_S8W_F32)
    case MCO_OP_FULLY_CONNECTED_S8W_F32:
        return mco_fully_connected_s8w_f32((const mco_fc_s8w_f32_params *)op->params,
                                           F32_AT(arena, op->input), (const int8_t *)op->weights,
                                           (const float *)op->bias, F32_AT(arena, op->output));
#endif
    default:
        return MCO_RT_NO_IMPL;
    }
}

mco_rt_status mco_ops_run(const mco_op *ops, int32_t n_ops, uint8_t *arena)
{
    for (int32_t i = 0; i < n_ops; i++) {
        mco_rt_status st = mco_op_run(&ops[i], arena);
        if (st != MCO_RT_OK) return st;
    }
    return MCO_RT_OK;
}
