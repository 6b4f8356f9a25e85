/*
 * batch_feed.h - the batches of a training run, in shuffled order, for
 * train.c (internal to src/train/; batch_feed.c).
 *
 * Every epoch the sample order is shuffled (one pass of Fisher-Yates from
 * the run's seed, the same sequence in either mode) and cut into batches.
 * Two modes, the same batches:
 *   no thread  mco_batch_feed_next shuffles at the start of an epoch and
 *              hands out a slice of the order; the workers then convert
 *              their own slices of the batch to float, in parallel.
 *   thread     a producer thread runs ahead: it shuffles, slices and
 *              converts the next batches into a bounded ring of slots
 *              allocated at the start (nothing is allocated per step),
 *              while the workers train on the current one. Nothing it does
 *              draws on timing, so the batches, and the run, are
 *              bit-identical to the no-thread mode.
 *
 * What it leaves out: augmentation (the audio reader's augmented copies are
 * made once when the data set is loaded, src/data/audio_folder.c), and more
 * than one producer.
 */
#ifndef MCO_TRAIN_BATCH_FEED_H
#define MCO_TRAIN_BATCH_FEED_H

#include <stdint.h>

#include "mcuopt/data.h"
#include "mcuopt/graph.h"
#include "mcuopt/status.h"

typedef struct {
    const int *indices;    /* the batch's samples (data set indices) */
    int count;
    const float *inputs;   /* thread mode: count x input size normalised floats; else NULL (the
                              workers convert their slices of `indices` themselves) */
} mco_batch;

typedef struct mco_batch_feed mco_batch_feed;

/* A feed over samples[0..n) (copied) of `data`, normalised with `norm`, in
 * batches of batch_size for `epochs` epochs, shuffled from `seed`; with
 * `thread` a producer thread starts at once. */
mco_status mco_batch_feed_start(const mco_dataset *data, const mco_normalization *norm, const int *samples, int n,
                                int batch_size, int epochs, uint64_t seed, int thread, mco_batch_feed **out);

/* The next batch (waits for the producer in thread mode); it stays valid
 * until mco_batch_feed_done. Batches come epoch after epoch, step after step. */
void mco_batch_feed_next(mco_batch_feed *feed, mco_batch *batch);
void mco_batch_feed_done(mco_batch_feed *feed);

/* Stops the producer (also in mid-run, after an error) and frees the feed. */
void mco_batch_feed_free(mco_batch_feed *feed);

#endif
