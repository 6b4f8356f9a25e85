/*
 * fast_dnnl.h - what the fast layers (fast_layer.c, fast_batchnorm.c)
 * share about calling oneDNN (internal to src/train/): one thread per call,
 * memories whose data handle is set at each call, primitives with their own
 * scratchpad, and the BatchNorm fast path that fast_layer.c dispatches to.
 *
 * What it leaves out: the layers themselves.
 */
#ifndef MCO_TRAIN_FAST_DNNL_H
#define MCO_TRAIN_FAST_DNNL_H

#include <assert.h>
#include <omp.h>
#include <oneapi/dnnl/dnnl.h>

#include "layer_ops.h"

#define MCO_FAST_MAX_PLANS 4 /* batch sizes kept per layer: max_batch, a training tail, evaluation tails */

/* oneDNN's primitives decide their threading when they are created and
 * parallelise over OpenMP when they run: one thread, always, on every
 * thread that calls them (the setting is per thread, and stays: a program
 * that also uses OpenMP on the thread that trains gets its thread count
 * back with omp_set_num_threads). */
static inline void mco_dnnl_one_thread(void)
{
    if (omp_get_max_threads() != 1)
        omp_set_num_threads(1);
}

static inline void mco_dnnl_set(dnnl_memory_t m, const void *data)
{
    dnnl_status_t st = dnnl_memory_set_data_handle(m, (void *)data);
    assert(st == dnnl_success);
    (void)st;
}

/* Runs a primitive whose arguments are all set; a failure here would be a
 * bug of the caller (wrong arguments), not a run-time condition. */
static inline void mco_dnnl_run(dnnl_stream_t stream, dnnl_primitive_t prim, int n, const dnnl_exec_arg_t *args)
{
    dnnl_status_t st = dnnl_primitive_execute(prim, stream, n, args);
    assert(st == dnnl_success);
    (void)st;
}

/* Appends the scratchpad argument if the primitive has one; returns the new count. */
static inline int mco_dnnl_with_scratch(dnnl_exec_arg_t *args, int n, dnnl_memory_t scratch)
{
    if (scratch) {
        args[n].arg = DNNL_ARG_SCRATCHPAD;
        args[n].memory = scratch;
        n++;
    }
    return n;
}

/* A memory of description md: with oneDNN's own buffer (own = 1) or none
 * yet (the handle is set before each use). */
dnnl_status_t mco_dnnl_new_memory(dnnl_engine_t engine, const dnnl_memory_desc_t *md, int own, dnnl_memory_t *m);
/* The primitive of pd, and a scratchpad memory of its own if it needs one
 * (the pd was made with scratchpad mode "user"). */
dnnl_status_t mco_dnnl_new_primitive(dnnl_engine_t engine, const_dnnl_primitive_desc_t pd, dnnl_primitive_t *prim,
                                     dnnl_memory_t *scratch);
/* The plan cache both fast layers keep: up to MCO_FAST_MAX_PLANS plans for
 * different batch sizes, each plan a struct whose first member is `int
 * batch` (0 when empty), in an array of plan_size-byte elements. Returns the
 * plan for `batch`, building it with build(owner, layer, batch, plan) the
 * first time; when all slots are taken the last is freed and rebuilt (slot
 * 0, max_batch, stays). NULL if batch is out of 1..max_batch or the build
 * fails. */
typedef struct {
    void *plans;
    size_t plan_size;
    int *n_plans;
    int max_batch;
    void (*free_plan)(void *plan);
    dnnl_status_t (*build)(void *owner, const mco_layer *layer, int batch, void *plan);
    void *owner;
} mco_dnnl_plan_cache;
void *mco_dnnl_plan_for(const mco_dnnl_plan_cache *cache, const mco_layer *layer, int batch);

/* An attribute with scratchpad mode "user" (no allocation when running). */
dnnl_status_t mco_dnnl_user_scratchpad(dnnl_primitive_attr_t *attr);
void mco_dnnl_destroy_primitive(dnnl_primitive_t *p);
void mco_dnnl_destroy_memory(dnnl_memory_t *m);

/* BatchNorm in training mode (fast_batchnorm.c). Forward writes the batch
 * mean and variance where mco_batchnorm_batch_mean/var find them (the
 * reference kernel's scratch) and, with fuse_relu, applies ReLU to its
 * output (backward then takes the gradient through both). */
typedef struct mco_fast_bn mco_fast_bn;
dnnl_status_t mco_fast_bn_create(const mco_layer *layer, int max_batch, int fuse_relu, dnnl_engine_t engine,
                                 mco_fast_bn **out);
void mco_fast_bn_free(mco_fast_bn *bn);
int mco_fast_bn_forward(mco_fast_bn *bn, dnnl_stream_t stream, const mco_layer_ctx *ctx);
int mco_fast_bn_backward(mco_fast_bn *bn, dnnl_stream_t stream, const mco_layer_ctx *ctx, int overwrite_input_grad);

#endif
