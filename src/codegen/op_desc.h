/*
 * op_desc.h - the op descriptor: everything mcuopt knows about one op kind
 * (one runtime kernel), in one record that the planner, the emitter, the
 * host evaluator and the resource model all read. Internal to src/codegen/.
 *
 * The model is TensorFlow Lite Micro's registration (one per op, with
 * Prepare and Eval), cut down to what a planner that emits C needs:
 *
 *   supports  can this kernel run the layer the planner describes (the
 *             "site": layer type, formats, shapes, quantization)? Several
 *             kinds may; the planner then takes the one with the fewest
 *             estimated cycles for the target's core class, or the least
 *             Flash (plan.c, choose_kernel);
 *   prepare   fills the op: the kernel's parameter struct and its weights,
 *             bias and per-channel arrays in the formats it reads, all
 *             allocated in the plan (TFLite Micro's Prepare);
 *   eval      runs the op on the host, on an arena (TFLite Micro's Eval);
 *   args      the argument list of the kernel call the emitter writes into
 *             model_run(), the same call `eval` makes;
 *   (scratch) a prepare that sets op->scratch_bytes gets that many bytes of
 *             the arena for the op alone (the kernel's _get_buffer_size), at
 *             op->scratch; args name it SCRATCH (NULL when there is none);
 *   features  what the resource model's cycle coefficients multiply
 *             (multiply-accumulates, loop runs, outputs, ...), counted the
 *             way this kernel does the work;
 *   stack_scratch  stack the kernel takes beyond its fixed frame because it
 *             grows with the layer (NULL: none).
 *
 * The descriptors live in one file per op family (op_conv.c, op_conv_pool.c,
 * op_dense.c, op_pool.c, op_elementwise.c, op_conv_transpose.c, ...) and are listed in MCO_OP_KINDS
 * (mcuopt/op.h); op_table.c turns that list into the table.
 *
 * What it leaves out: the parameter struct's C text (emit.c writes each
 * mco_params_type; a kernel with a new parameter struct adds a case there).
 */
#ifndef MCO_OP_DESC_H
#define MCO_OP_DESC_H

#include <stddef.h>
#include <stdint.h>

#include "mco_hybrid.h"
#include "mco_runtime.h"
#include "mco_sparse.h"
#include "mcuopt/codegen.h"
#include "mcuopt/op.h"
#include "mcuopt/resource.h"

/* ---- the site: what the planner asks a kernel to run ------------------------ */

/* One layer, or a Conv2D / DepthwiseConv2D / Dense / Add with the ReLU it
 * absorbs, or a Conv2D with its ReLU and a MaxPool 2x2 stride 2 after it.
 * Built by plan.c; read by supports() and prepare(). */
typedef struct {
    const mco_deploy_model *dm;
    const mco_layer *L;              /* the main layer (conv, dense, pool, add, ...) */
    const mco_deploy_layer *dl;      /* its deploy format */
    int layer;                       /* index of L */
    int act_layer;                   /* the fused ReLU / ReLU6, -1 if none */
    int pool_layer;                  /* the fused max pool, -1 if none */
    int s8;                          /* 1: int8 activations, 0: float */
    int dsp;                         /* 1: the core class has the DSP extension (not m0plus, m3):
                                        a kernel with a DSP path sizes its scratch for it */
    int sparse_allowed;              /* mco_plan_options.sparse_weights */
    mco_qparams in_q, in2_q, out_q;  /* int8 quantization of the inputs and the output */
    int32_t out_size;                /* elements of the op's output (the pool's, if fused) */
    mco_window win;                  /* Conv2D / DepthwiseConv2D / pool geometry; for a fused
                                        conv + pool the conv's (zero for other layers) */
    int32_t n_out;                   /* output channels (Dense: units) */
    int32_t in_size;                 /* elements of the input (Dense: its fan-in) */
    float f_min, f_max;              /* the output clamp, float */
    int32_t q_min, q_max;            /* the output clamp, int8 */
    /* int8 weighted layers: the requantization as the kernels take it (an
     * all-zero output channel rewritten, see plan.c constant_channels) */
    int per_tensor;                  /* Dense with one weight scale: one multiplier and shift */
    const int32_t *multiplier;       /* [per_tensor ? 1 : n_out] */
    const int32_t *shift;
    const int32_t *bias;             /* [n_out] */
} mco_op_site;

/* ---- the descriptor --------------------------------------------------------------- */

typedef struct {
    mco_op_kind kind;
    const char *name;       /* "CONV2D_S8": MCO_OP_<name>, the resource table's key */
    const char *function;   /* the runtime function the op calls; emit_runtime.c copies the
                               runtime file that defines it and what that file needs */
    const char *header;     /* the runtime header that declares it (model.c includes it) */
    /* The argument list the emitter writes, mirroring eval: P is the op's
     * parameter struct, IN / IN2 / OUT its activations, W / B its weights
     * and bias, SCRATCH its scratch; e.g. "&P, IN, W, B, OUT" or
     * "OUT, P.size, P.act_min, P.act_max". */
    const char *args;
    int (*supports)(const mco_op_site *site);
    /* Sets op->params / weights / bias (allocated in the plan) and info's
     * types, counts and n_channels; adds the parameter bytes to
     * plan->param_bytes. Errors name the layer. */
    mco_status (*prepare)(mco_plan *plan, const mco_op_site *site, mco_op *op, mco_plan_op_info *info);
    mco_rt_status (*eval)(const mco_op *op, uint8_t *arena);
    /* Fills the features of resource.h (all but MCO_COST_CALLS, which is 1;
     * f arrives zeroed). */
    void (*features)(const mco_op *op, const mco_plan_op_info *info, double f[MCO_COST_N_FEATURES]);
    size_t (*stack_scratch)(const mco_plan *plan, int op, int dsp);
    /* The kind whose cycle coefficients stand in while this one has no
     * calibration (-1: none). */
    int fallback;
} mco_op_desc;

/* The descriptor of a kind, NULL for a number that is none. */
const mco_op_desc *mco_op_desc_of(int kind);

#define MCO_OP_DECLARE_(name, desc) extern const mco_op_desc mco_op_##desc;
MCO_OP_KINDS(MCO_OP_DECLARE_)
#undef MCO_OP_DECLARE_

/* ---- for eval functions: typed views of an arena offset --------------------------
 * The arena and every offset are 4-byte aligned (the memory planner
 * guarantees it), so the float casts are safe. */
#define MCO_F32_AT(arena, offset) ((float *)(void *)((arena) + (offset)))
#define MCO_S8_AT(arena, offset) ((int8_t *)(void *)((arena) + (offset)))
/* The op's scratch in the arena, NULL if it has none. */
#define MCO_SCRATCH_AT(arena, op) ((op)->scratch_bytes ? (void *)((arena) + (op)->scratch) : NULL)

/* ---- for prepare functions (op_common.c) ------------------------------------------ */

/* Zeroed memory owned by the plan (freed by mco_plan_free); NULL when out of memory. */
void *mco_plan_alloc(mco_plan *plan, size_t size);
/* A copy of size bytes of src in the plan (zeroed if src is NULL). */
void *mco_plan_copy(mco_plan *plan, const void *src, size_t size);
/* "plan: out of memory" */
mco_status mco_plan_nomem(void);

/* How a prepare stores the layer's weights. */
typedef enum {
    MCO_STORE_F32 = 0,       /* float */
    MCO_STORE_F16,           /* IEEE half */
    MCO_STORE_S8,            /* int8 (int4 values unpacked, one per byte) */
    MCO_STORE_S4,            /* int4, two per byte */
    MCO_STORE_SPARSE_ROWS,   /* runtime/mco_sparse.h, bitmap + values by rows (Conv2D) */
    MCO_STORE_SPARSE_PAIRS   /* runtime/mco_sparse.h, group stream by row pairs (Dense) */
} mco_weight_store;

/* Stores the site's weights as `store` and its bias (int32 for int8
 * activations, else float) in op and info; sets info->n_channels. */
mco_status mco_prepare_weights(mco_plan *plan, const mco_op_site *site, mco_weight_store store, mco_op *op,
                               mco_plan_op_info *info);
/* The conv-shaped kinds (conv, conv + pool, pool, depthwise): the site's
 * mco_conv_f32_params (window, activation range) or mco_conv_s8_params
 * (window, zero points, activation range, per-channel multipliers and
 * shifts), allocated in the plan, as op->params with info->params_type.
 * The weights are stored apart (mco_prepare_weights). */
mco_status mco_prepare_conv_f32_op(mco_plan *plan, const mco_op_site *site, mco_op *op, mco_plan_op_info *info);
mco_status mco_prepare_conv_s8_op(mco_plan *plan, const mco_op_site *site, mco_op *op, mco_plan_op_info *info);
/* The parameter structs of the other weighted kinds, allocated in the
 * plan, with their per-channel arrays copied (int8: multipliers and shifts;
 * hybrid: weight scales). */
mco_status mco_prepare_fc_s8_params(mco_plan *plan, const mco_op_site *site, mco_fc_s8_params **out);
mco_status mco_prepare_conv_s8w_f32_params(mco_plan *plan, const mco_op_site *site,
                                           mco_conv_s8w_f32_params **out);
mco_status mco_prepare_fc_s8w_f32_params(mco_plan *plan, const mco_op_site *site, mco_fc_s8w_f32_params **out);

/* Packs int8 weights [rows][cols] into the sparse form `order` in the plan;
 * *bytes gets its size. */
mco_status mco_prepare_sparse(mco_plan *plan, const mco_op_site *site, mco_sparse_order order, uint8_t **out,
                              size_t *bytes);

/* Layer tests for supports() */
int mco_site_is(const mco_op_site *site, mco_layer_type type, int s8, int fused_pool);
int mco_site_weights(const mco_op_site *site, mco_weight_format a, mco_weight_format b);

/* ---- for feature functions (op_common.c) --------------------------------------- */

/* Conv2D: each output pixel and channel sums its clipped window row by
 * row; int8_dot: the 4-wide DSP loop's scalar tail is counted apart. */
void mco_features_conv(const mco_window *w, int int8_dot, double *f);
/* Depthwise conv and pools: per output pixel and channel, the clipped
 * window; per_channel_loops: the inner loop runs per channel. */
void mco_features_window(const mco_window *w, int per_channel_loops, double *f);
/* Kernel rows (or columns) of output position o that lie inside the input. */
int32_t mco_window_inside(int32_t o, int32_t in, int32_t kernel, int32_t stride, int32_t pad);

/* ---- the resource model for the planner (resource_model.c) ---------------------- */

/* Cycles of one op on a class (its kind's coefficients, or its fallback's:
 * *calibrated 0 then); -1 when neither is calibrated. */
double mco_cost_op_cycles(const mco_cost_class *c, const mco_op *op, const mco_plan_op_info *info,
                          int *calibrated);
/* Flash bytes of one op's parameters as emitted: its arrays, each 4-byte
 * aligned, its parameter struct (c's figure; 0 without a class). */
size_t mco_cost_op_param_bytes(const mco_cost_class *c, const mco_op *op, const mco_plan_op_info *info);
/* Code bytes the kind's functions add to a program that links the symbols
 * marked in `linked` ([MCO_COST_MAX_SYMBOLS]); with commit, marks them. */
size_t mco_cost_kind_code_bytes(const mco_cost_class *c, int kind, unsigned char *linked, int commit);

#endif
