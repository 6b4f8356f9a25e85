/*
 * test_fixtures.h - data and models several C tests share: a library
 * context rooted at the source tree and the resource model's table it
 * names, a synthetic 8x8 "blobs" data set, images of random bytes and
 * the small layer-by-layer models trained on it, a comparison of two
 * models' parameters, and an MNIST subset with mnist-paper trained on it. Header-only (static inline), because CMake
 * makes a test of every tests/test_*.c.
 *
 * What it leaves out: the checks themselves, and fixtures only one test
 * uses (they stay in that test).
 */
#ifndef MCO_TEST_FIXTURES_H
#define MCO_TEST_FIXTURES_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mcuopt/rng.h"
#include "mcuopt/arch.h"
#include "mcuopt/context.h"
#include "mcuopt/data.h"
#include "mcuopt/graph.h"
#include "mcuopt/resource.h"
#include "mcuopt/train.h"
#include "test_util.h"

/* A library context whose resources are the source tree's (a test runs
 * with the repository root as its working directory: CMakeLists.txt). It
 * lives until the process exits. */
static inline const mco_context *test_context(void)
{
    static mco_context *ctx;
    if (!ctx && (mco_context_create(&ctx) != MCO_OK || mco_context_set_root(ctx, ".") != MCO_OK)) {
        fprintf(stderr, "test_context: %s\n", mco_last_error());
        exit(1);
    }
    return ctx;
}

/* The shipped resource model's table (test_context's), loaded once; what
 * the CLI's plans choose kernels by. Exits if it does not load. */
static inline const mco_cost_model *test_cost_model(void)
{
    static mco_cost_model *cm;
    if (!cm && mco_cost_model_load(mco_context_resource(test_context(), MCO_RESOURCE_COST_MODEL), &cm) != MCO_OK) {
        fprintf(stderr, "test_cost_model: %s\n", mco_last_error());
        exit(1);
    }
    return cm;
}

/* An empty data set of n images of `shape` with labels 0..classes-1: the
 * caller fills images and labels; free with mco_dataset_free. */
static inline void test_dataset_alloc(mco_dataset *ds, const char *name, int n, mco_shape shape, int classes)
{
    memset(ds, 0, sizeof *ds);
    snprintf(ds->name, sizeof ds->name, "%s", name);
    ds->n = n;
    ds->shape = shape;
    ds->n_classes = classes;
    ds->samples_u8 = malloc((size_t)n * mco_shape_size(shape));
    ds->labels = malloc((size_t)n);
}

/* n images of `shape` holding pseudo-random bytes (a linear congruential
 * generator started at `seed`), every label 0: inputs for calibration or
 * for comparing two evaluators, with no meaning. */
static inline void test_random_images(mco_dataset *ds, mco_shape shape, int n, uint32_t seed)
{
    test_dataset_alloc(ds, "synthetic", n, shape, 10);
    if (!ds->samples_u8 || !ds->labels) return;
    memset(ds->labels, 0, (size_t)n);
    size_t size = mco_shape_size(shape) * (size_t)n;
    uint32_t x = seed;
    for (size_t k = 0; k < size; k++) {
        x = x * 1664525u + 1013904223u;
        ds->samples_u8[k] = (uint8_t)(x >> 24);
    }
}

/* 8x8 grey images of 4 classes: a bright 3x3 blob in one quadrant, on noise. */
static inline void test_make_blobs(mco_dataset *ds, int n, uint64_t seed)
{
    mco_rng rng;
    mco_rng_seed(&rng, seed);
    test_dataset_alloc(ds, "blobs", n, (mco_shape){8, 8, 1}, 4);
    for (int i = 0; i < n; i++) {
        int label = (int)mco_rng_below(&rng, 4);
        uint8_t *img = ds->samples_u8 + (size_t)i * 64;
        for (int p = 0; p < 64; p++) img[p] = (uint8_t)mco_rng_below(&rng, 90);
        int y0 = (label / 2) * 4 + (int)mco_rng_below(&rng, 2), x0 = (label % 2) * 4 + (int)mco_rng_below(&rng, 2);
        for (int y = y0; y < y0 + 3 && y < 8; y++)
            for (int x = x0; x < x0 + 3 && x < 8; x++) img[y * 8 + x] = (uint8_t)(160 + mco_rng_below(&rng, 96));
        ds->labels[i] = (uint8_t)label;
    }
}

/* Appends a layer with square kernel and stride (0 where they do not apply). */
static inline void test_add_layer(mco_model *m, mco_layer_type type, int units, int kernel, int stride, float rate)
{
    mco_layer l;
    memset(&l, 0, sizeof l);
    l.type = type;
    l.units = units;
    l.kernel_h = l.kernel_w = kernel;
    l.stride_h = l.stride_w = stride;
    l.rate = rate;
    CHECK_OK(mco_model_add_layer(m, &l, NULL));
}

/* Shapes, parameters from `seed`, and the blobs' input normalisation. */
static inline void test_finish_blobs_model(mco_model *m, uint64_t seed)
{
    CHECK_OK(mco_model_infer_shapes(m));
    CHECK_OK(mco_model_alloc_params(m));
    mco_model_init_params(m, seed);
    m->norm = (mco_normalization){1.0f / 255.0f, 0.3f, 0.3f};
}

/* 1 if the two models (of one architecture) have bit-identical parameters. */
static inline int test_same_params(const mco_model *a, const mco_model *b)
{
    if (a->n_layers != b->n_layers) return 0;
    for (int l = 0; l < a->n_layers; l++)
        for (int p = 0; p < a->layers[l].n_params; p++)
            if (memcmp(a->layers[l].params[p].data, b->layers[l].params[p].data,
                       a->layers[l].params[p].size * sizeof(float)) != 0)
                return 0;
    return 1;
}

/* The first n_train training and n_test test images of MNIST. Returns 0
 * (nothing allocated) if the files are not in test_mnist_dir() - recorded as
 * a skip naming `what` - or if they are there but fail to load (a failed
 * check, not a skip). */
static inline int test_load_mnist_subset(int n_train, int n_test, mco_dataset *train, mco_dataset *test,
                                         const char *what)
{
    if (!test_have_mnist()) {
        test_skip("%s: MNIST not found in %s", what, test_mnist_dir());
        return 0;
    }
    mco_dataset full_train, full_test;
    mco_status st = mco_dataset_load_idx_dir(test_mnist_dir(), MCO_SPLIT_TRAIN, "mnist", &full_train);
    CHECK_OK(st);
    if (st != MCO_OK) return 0;
    st = mco_dataset_load_idx_dir(test_mnist_dir(), MCO_SPLIT_TEST, "mnist", &full_test);
    CHECK_OK(st);
    if (st != MCO_OK) {
        mco_dataset_free(&full_train);
        return 0;
    }
    mco_status st_train = mco_dataset_head(&full_train, n_train, train);
    mco_status st_test = mco_dataset_head(&full_test, n_test, test);
    CHECK_OK(st_train);
    CHECK_OK(st_test);
    mco_dataset_free(&full_train);
    mco_dataset_free(&full_test);
    if (st_train != MCO_OK || st_test != MCO_OK) {
        if (st_train == MCO_OK) mco_dataset_free(train);
        if (st_test == MCO_OK) mco_dataset_free(test);
        return 0;
    }
    return 1;
}

/* mnist-paper (parameters from seed 1, pixels scaled to [0, 1]) trained
 * `epochs` epochs on `train` with 2 threads: the same model on every machine. */
static inline void test_train_mnist_paper(const mco_dataset *train, int epochs, mco_model *m)
{
    CHECK_OK(mco_arch_load("mnist-paper", train->shape, 10, m));
    CHECK_OK(mco_model_alloc_params(m));
    mco_model_init_params(m, 1);
    m->norm = (mco_normalization){1.0f / 255.0f, 0.0f, 1.0f};
    mco_train_options to;
    mco_train_options_default(&to);
    to.epochs = epochs;
    to.threads = 2;
    mco_train_result r;
    CHECK_OK(mco_train(m, train, NULL, &to, &r));
}

#endif
