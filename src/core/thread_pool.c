/*
 * thread_pool.c - persistent pthread workers (see thread_pool.h).
 *
 * A run publishes (task, arg) and bumps a generation counter under the
 * mutex; each worker waits for a generation it has not run yet, runs its
 * index, and counts itself done. The caller runs index 0 meanwhile and then
 * waits for the count.
 */
#include "mcuopt/thread_pool.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#define MCO_MAX_THREADS 256

struct mco_pool {
    int n_threads;
    pthread_t *threads;
    pthread_mutex_t mutex;
    pthread_cond_t work_ready;
    pthread_cond_t work_done;
    unsigned long generation;
    int pending;             /* workers still running this generation */
    int stopping;
    mco_pool_task task;
    void *arg;
};

typedef struct {
    mco_pool *pool;
    int index;
} worker_start;

int mco_thread_count(int threads)
{
    if (threads <= 0) {
        long online = sysconf(_SC_NPROCESSORS_ONLN);
        threads = online > 0 ? (int)online : 1;
    }
    return threads > MCO_MAX_THREADS ? MCO_MAX_THREADS : threads;
}

static void *worker_main(void *p)
{
    worker_start start = *(worker_start *)p;
    free(p);
    mco_pool *pool = start.pool;
    unsigned long seen = 0;
    pthread_mutex_lock(&pool->mutex);
    for (;;) {
        while (pool->generation == seen && !pool->stopping)
            pthread_cond_wait(&pool->work_ready, &pool->mutex);
        if (pool->stopping)
            break;
        seen = pool->generation;
        mco_pool_task task = pool->task;
        void *arg = pool->arg;
        pthread_mutex_unlock(&pool->mutex);
        task(arg, start.index);
        pthread_mutex_lock(&pool->mutex);
        if (--pool->pending == 0)
            pthread_cond_signal(&pool->work_done);
    }
    pthread_mutex_unlock(&pool->mutex);
    return NULL;
}

mco_status mco_pool_create(int threads, mco_pool **out)
{
    *out = NULL;
    mco_pool *pool = calloc(1, sizeof(*pool));
    if (!pool)
        return mco_error(MCO_ERR_NOMEM, "thread pool: out of memory");
    pool->n_threads = mco_thread_count(threads);
    pool->threads = calloc((size_t)pool->n_threads, sizeof(pthread_t));
    if (!pool->threads) {
        free(pool);
        return mco_error(MCO_ERR_NOMEM, "thread pool: out of memory");
    }
    pthread_mutex_init(&pool->mutex, NULL);
    pthread_cond_init(&pool->work_ready, NULL);
    pthread_cond_init(&pool->work_done, NULL);
    for (int i = 1; i < pool->n_threads; i++) {
        worker_start *start = malloc(sizeof(*start));
        if (start) {
            start->pool = pool;
            start->index = i;
        }
        if (!start || pthread_create(&pool->threads[i], NULL, worker_main, start) != 0) {
            free(start);
            pool->n_threads = i;   /* destroy joins the ones that started */
            mco_pool_destroy(pool);
            return mco_error(MCO_ERR_NOMEM, "thread pool: cannot start thread %d", i);
        }
    }
    *out = pool;
    return MCO_OK;
}

int mco_pool_size(const mco_pool *pool)
{
    return pool->n_threads;
}

void mco_pool_run(mco_pool *pool, mco_pool_task task, void *arg)
{
    if (pool->n_threads > 1) {
        pthread_mutex_lock(&pool->mutex);
        pool->task = task;
        pool->arg = arg;
        pool->pending = pool->n_threads - 1;
        pool->generation++;
        pthread_cond_broadcast(&pool->work_ready);
        pthread_mutex_unlock(&pool->mutex);
    }
    task(arg, 0);
    if (pool->n_threads > 1) {
        pthread_mutex_lock(&pool->mutex);
        while (pool->pending > 0)
            pthread_cond_wait(&pool->work_done, &pool->mutex);
        pthread_mutex_unlock(&pool->mutex);
    }
}

void mco_pool_destroy(mco_pool *pool)
{
    if (!pool)
        return;
    pthread_mutex_lock(&pool->mutex);
    pool->stopping = 1;
    pthread_cond_broadcast(&pool->work_ready);
    pthread_mutex_unlock(&pool->mutex);
    for (int i = 1; i < pool->n_threads; i++)
        pthread_join(pool->threads[i], NULL);
    pthread_mutex_destroy(&pool->mutex);
    pthread_cond_destroy(&pool->work_ready);
    pthread_cond_destroy(&pool->work_done);
    free(pool->threads);
    free(pool);
}
