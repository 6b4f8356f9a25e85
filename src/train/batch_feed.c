/*
 * batch_feed.c - the shuffled batches of a training run, made on the spot
 * or ahead by a producer thread (see batch_feed.h).
 *
 * The producer and the trainer share a ring of MCO_FEED_SLOTS slots under
 * one mutex: the producer fills slot (taken + ready) % slots when one is
 * free, the trainer reads slot `head` and hands it back. Two condition
 * variables wake whoever waits: `filled` the trainer, `freed` the producer.
 */
#include "batch_feed.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "mcuopt/rng.h"

#define MCO_FEED_SLOTS 2   /* batches prepared ahead at most */

typedef struct {
    int *indices;   /* batch_size */
    float *inputs;  /* batch_size x input size */
    int count;
} slot;

struct mco_batch_feed {
    const mco_dataset *data;
    mco_normalization norm;
    int *order;             /* the samples, reshuffled every epoch */
    int n, batch_size, epochs;
    long steps;             /* batches per epoch */
    mco_rng rng;            /* the shuffle */
    long next_step;         /* no-thread mode: the next batch of the run (epoch * steps + step) */

    int thread;             /* 1: the producer below runs */
    pthread_t producer;
    pthread_mutex_t lock;
    pthread_cond_t filled, freed;
    slot slots[MCO_FEED_SLOTS];
    int head;               /* the slot the trainer reads next */
    int ready;              /* filled slots from head on */
    int stop;               /* set by mco_batch_feed_free */
};

static void shuffle(int *order, int n, mco_rng *rng)
{
    for (int i = n - 1; i > 0; i--) {
        int j = (int)mco_rng_below(rng, (uint64_t)i + 1);
        int tmp = order[i];
        order[i] = order[j];
        order[j] = tmp;
    }
}

/* Run step `step` (epoch * steps + step in epoch): shuffles at the start of
 * an epoch; returns the batch's first position in the order and its size. */
static int batch_of(mco_batch_feed *f, long step, int *count)
{
    long in_epoch = step % f->steps;
    if (in_epoch == 0)
        shuffle(f->order, f->n, &f->rng);
    int first = (int)(in_epoch * f->batch_size);
    *count = f->n - first < f->batch_size ? f->n - first : f->batch_size;
    return first;
}

static void *produce(void *arg)
{
    mco_batch_feed *f = arg;
    const long total = f->steps * f->epochs;
    for (long step = 0; step < total; step++) {
        pthread_mutex_lock(&f->lock);
        while (f->ready == MCO_FEED_SLOTS && !f->stop)
            pthread_cond_wait(&f->freed, &f->lock);
        const int stop = f->stop;
        slot *s = &f->slots[(f->head + f->ready) % MCO_FEED_SLOTS];
        pthread_mutex_unlock(&f->lock);
        if (stop)
            break;
        /* the slot is the producer's until it is counted as ready */
        int first = batch_of(f, step, &s->count);
        memcpy(s->indices, f->order + first, (size_t)s->count * sizeof(int));
        mco_dataset_to_float(f->data, &f->norm, s->indices, 0, s->count, s->inputs);
        pthread_mutex_lock(&f->lock);
        f->ready++;
        pthread_cond_signal(&f->filled);
        pthread_mutex_unlock(&f->lock);
    }
    return NULL;
}

void mco_batch_feed_free(mco_batch_feed *f)
{
    if (!f)
        return;
    if (f->thread) {
        pthread_mutex_lock(&f->lock);
        f->stop = 1;
        pthread_cond_broadcast(&f->freed);
        pthread_mutex_unlock(&f->lock);
        pthread_join(f->producer, NULL);
        pthread_cond_destroy(&f->filled);
        pthread_cond_destroy(&f->freed);
        pthread_mutex_destroy(&f->lock);
    }
    for (int i = 0; i < MCO_FEED_SLOTS; i++) {
        free(f->slots[i].indices);
        free(f->slots[i].inputs);
    }
    free(f->order);
    free(f);
}

mco_status mco_batch_feed_start(const mco_dataset *data, const mco_normalization *norm, const int *samples, int n,
                                int batch_size, int epochs, uint64_t seed, int thread, mco_batch_feed **out)
{
    *out = NULL;
    if (n < 1 || batch_size < 1 || epochs < 1)
        return mco_error(MCO_ERR_ARG, "batch feed: %d samples, batch %d, %d epochs", n, batch_size, epochs);
    mco_batch_feed *f = calloc(1, sizeof(*f));
    if (!f)
        return mco_error(MCO_ERR_NOMEM, "training: out of memory");
    f->data = data;
    f->norm = *norm;
    f->n = n;
    f->batch_size = batch_size;
    f->epochs = epochs;
    f->steps = (n + batch_size - 1) / batch_size;
    mco_rng_seed(&f->rng, seed);
    f->order = malloc((size_t)n * sizeof(int));
    int ok = f->order != NULL;
    const size_t in_size = mco_shape_size(data->shape);
    for (int i = 0; ok && thread && i < MCO_FEED_SLOTS; i++) {
        f->slots[i].indices = malloc((size_t)batch_size * sizeof(int));
        f->slots[i].inputs = malloc((size_t)batch_size * in_size * sizeof(float));
        ok = f->slots[i].indices && f->slots[i].inputs;
    }
    if (!ok) {
        mco_batch_feed_free(f);
        return mco_error(MCO_ERR_NOMEM, "training: out of memory for the batch feed");
    }
    memcpy(f->order, samples, (size_t)n * sizeof(int));
    if (thread) {
        if (pthread_mutex_init(&f->lock, NULL) != 0 || pthread_cond_init(&f->filled, NULL) != 0 ||
            pthread_cond_init(&f->freed, NULL) != 0) {
            free(f->order);
            for (int i = 0; i < MCO_FEED_SLOTS; i++) {
                free(f->slots[i].indices);
                free(f->slots[i].inputs);
            }
            free(f);
            return mco_error(MCO_ERR_NOMEM, "training: cannot set up the data thread's locks");
        }
        f->thread = 1;
        if (pthread_create(&f->producer, NULL, produce, f) != 0) {
            f->thread = 0;
            pthread_cond_destroy(&f->filled);
            pthread_cond_destroy(&f->freed);
            pthread_mutex_destroy(&f->lock);
            mco_batch_feed_free(f);
            return mco_error(MCO_ERR_NOMEM, "training: cannot start the data thread");
        }
    }
    *out = f;
    return MCO_OK;
}

void mco_batch_feed_next(mco_batch_feed *f, mco_batch *b)
{
    if (!f->thread) {
        int first = batch_of(f, f->next_step++, &b->count);
        b->indices = f->order + first;
        b->inputs = NULL;
        return;
    }
    pthread_mutex_lock(&f->lock);
    while (f->ready == 0)
        pthread_cond_wait(&f->filled, &f->lock);
    const slot *s = &f->slots[f->head];
    pthread_mutex_unlock(&f->lock);
    b->indices = s->indices;
    b->count = s->count;
    b->inputs = s->inputs;
}

void mco_batch_feed_done(mco_batch_feed *f)
{
    if (!f->thread)
        return;
    pthread_mutex_lock(&f->lock);
    f->head = (f->head + 1) % MCO_FEED_SLOTS;
    f->ready--;
    pthread_cond_signal(&f->freed);
    pthread_mutex_unlock(&f->lock);
}
