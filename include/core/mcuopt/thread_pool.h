/*
 * thread_pool.h - a fixed set of worker threads that all run the same task
 * at once, each with its own index (src/core/thread_pool.c; used by
 * training, evaluation and the host evaluator of deploy models).
 *
 * mco_pool_run(pool, task, arg) calls task(arg, i) for i = 0..n_threads-1,
 * index 0 on the calling thread and the others on the workers, and returns
 * when every call has finished. The threads are created once and sleep on a
 * condition variable between runs.
 *
 * What it leaves out: queues, work stealing, tasks of different kinds at
 * the same time.
 */
#ifndef MCO_TRAIN_THREAD_POOL_H
#define MCO_TRAIN_THREAD_POOL_H

#include "mcuopt/status.h"

typedef void (*mco_pool_task)(void *arg, int thread_index);
typedef struct mco_pool mco_pool;

/* threads <= 0 means the number of online processors. */
mco_status mco_pool_create(int threads, mco_pool **out);
int mco_pool_size(const mco_pool *pool);
void mco_pool_run(mco_pool *pool, mco_pool_task task, void *arg);
void mco_pool_destroy(mco_pool *pool);

/* The thread count `threads` resolves to (0 -> all cores, at least 1). */
int mco_thread_count(int threads);

#endif
