/*
 * op_table.c - the names of the mco_op kinds (runtime/mco_op.h), the
 * runtime function each one calls and the shape of that call's argument
 * list (how emit.c writes it out, mirroring mco_op_run), in one table that
 * must list every kind.
 */
#include <stddef.h>

#include "codegen_internal.h"
#include "mco_op.h"
#include "mcuopt/codegen.h"

typedef struct {
    mco_op_kind kind;
    const char *name;        /* MCO_OP_<name>, MCO_OP_USE_<name> */
    const char *function;
    mco_op_call call;
} op_kind_entry;

static const op_kind_entry op_kinds[] = {
    {MCO_OP_CONV2D_F32, "CONV2D_F32", "mco_conv2d_f32", MCO_CALL_WEIGHTED},
    {MCO_OP_CONV2D_F16W, "CONV2D_F16W", "mco_conv2d_f16w", MCO_CALL_WEIGHTED},
    {MCO_OP_DEPTHWISE_CONV2D_F32, "DEPTHWISE_CONV2D_F32", "mco_depthwise_conv2d_f32", MCO_CALL_WEIGHTED},
    {MCO_OP_DEPTHWISE_CONV2D_F16W, "DEPTHWISE_CONV2D_F16W", "mco_depthwise_conv2d_f16w", MCO_CALL_WEIGHTED},
    {MCO_OP_FULLY_CONNECTED_F32, "FULLY_CONNECTED_F32", "mco_fully_connected_f32", MCO_CALL_WEIGHTED},
    {MCO_OP_FULLY_CONNECTED_F16W, "FULLY_CONNECTED_F16W", "mco_fully_connected_f16w", MCO_CALL_WEIGHTED},
    {MCO_OP_CONV2D_MAXPOOL_F32, "CONV2D_MAXPOOL_F32", "mco_conv2d_maxpool2x2_f32", MCO_CALL_WEIGHTED},
    {MCO_OP_MAX_POOL_F32, "MAX_POOL_F32", "mco_max_pool_f32", MCO_CALL_POOL},
    {MCO_OP_AVG_POOL_F32, "AVG_POOL_F32", "mco_avg_pool_f32", MCO_CALL_POOL},
    {MCO_OP_GLOBAL_AVG_POOL_F32, "GLOBAL_AVG_POOL_F32", "mco_global_avg_pool_f32", MCO_CALL_GLOBAL_POOL_F32},
    {MCO_OP_CLAMP_F32, "CLAMP_F32", "mco_clamp_f32", MCO_CALL_CLAMP},
    {MCO_OP_ADD_F32, "ADD_F32", "mco_add_f32", MCO_CALL_ADD_F32},
    {MCO_OP_SOFTMAX_F32, "SOFTMAX_F32", "mco_softmax_f32", MCO_CALL_SOFTMAX_F32},
    {MCO_OP_CONV2D_S8, "CONV2D_S8", "mco_conv2d_s8", MCO_CALL_WEIGHTED},
    {MCO_OP_CONV2D_S4, "CONV2D_S4", "mco_conv2d_s4", MCO_CALL_WEIGHTED},
    {MCO_OP_DEPTHWISE_CONV2D_S8, "DEPTHWISE_CONV2D_S8", "mco_depthwise_conv2d_s8", MCO_CALL_WEIGHTED},
    {MCO_OP_FULLY_CONNECTED_S8, "FULLY_CONNECTED_S8", "mco_fully_connected_s8", MCO_CALL_WEIGHTED},
    {MCO_OP_FULLY_CONNECTED_S4, "FULLY_CONNECTED_S4", "mco_fully_connected_s4", MCO_CALL_WEIGHTED},
    {MCO_OP_CONV2D_MAXPOOL_S8, "CONV2D_MAXPOOL_S8", "mco_conv2d_maxpool2x2_s8", MCO_CALL_WEIGHTED},
    {MCO_OP_MAX_POOL_S8, "MAX_POOL_S8", "mco_max_pool_s8", MCO_CALL_POOL},
    {MCO_OP_AVG_POOL_S8, "AVG_POOL_S8", "mco_avg_pool_s8", MCO_CALL_POOL},
    {MCO_OP_GLOBAL_AVG_POOL_S8, "GLOBAL_AVG_POOL_S8", "mco_global_avg_pool_s8", MCO_CALL_GLOBAL_POOL_S8},
    {MCO_OP_CLAMP_S8, "CLAMP_S8", "mco_clamp_s8", MCO_CALL_CLAMP},
    {MCO_OP_ADD_S8, "ADD_S8", "mco_add_s8", MCO_CALL_ADD_S8},
    {MCO_OP_SOFTMAX_S8, "SOFTMAX_S8", "mco_softmax_s8", MCO_CALL_POOL},
    {MCO_OP_CONV2D_S8W_F32, "CONV2D_S8W_F32", "mco_conv2d_s8w_f32", MCO_CALL_WEIGHTED},
    {MCO_OP_DEPTHWISE_CONV2D_S8W_F32, "DEPTHWISE_CONV2D_S8W_F32", "mco_depthwise_conv2d_s8w_f32", MCO_CALL_WEIGHTED},
    {MCO_OP_FULLY_CONNECTED_S8W_F32, "FULLY_CONNECTED_S8W_F32", "mco_fully_connected_s8w_f32", MCO_CALL_WEIGHTED},
    {MCO_OP_CONV3X3_MAXPOOL_S8, "CONV3X3_MAXPOOL_S8", "mco_conv3x3_maxpool2x2_s8", MCO_CALL_WEIGHTED},
    {MCO_OP_FULLY_CONNECTED_SPARSE_S8, "FULLY_CONNECTED_SPARSE_S8", "mco_fully_connected_sparse_s8", MCO_CALL_WEIGHTED},
    {MCO_OP_CONV2D_MAXPOOL_SPARSE_S8, "CONV2D_MAXPOOL_SPARSE_S8", "mco_conv2d_maxpool2x2_sparse_s8", MCO_CALL_WEIGHTED},
    {MCO_OP_MEAN_S8, "MEAN_S8", "mco_mean_s8", MCO_CALL_POOL},
};

_Static_assert(sizeof op_kinds / sizeof op_kinds[0] == MCO_OP_KIND_COUNT,
               "op_kinds must list every mco_op_kind");

static const op_kind_entry *find(int kind)
{
    for (size_t i = 0; i < sizeof op_kinds / sizeof op_kinds[0]; i++)
        if ((int)op_kinds[i].kind == kind) return &op_kinds[i];
    return NULL;
}

const char *mco_op_kind_name(int kind)
{
    const op_kind_entry *e = find(kind);
    return e ? e->name : "UNKNOWN";
}

const char *mco_op_kernel_function(int kind)
{
    const op_kind_entry *e = find(kind);
    return e ? e->function : NULL;
}

mco_op_call mco_op_kernel_call(int kind)
{
    const op_kind_entry *e = find(kind);
    return e ? e->call : MCO_CALL_WEIGHTED;
}
