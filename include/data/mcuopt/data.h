/*
 * data.h - labelled image data sets: IDX (MNIST, Fashion-MNIST) and the
 * CIFAR-10 binary format, held in memory as raw uint8 samples in NHWC order.
 *
 * Raw bytes are kept (60,000 MNIST images are 47 MB as uint8); the trainer
 * turns them into floats with the model's mco_normalization batch by batch.
 */
#ifndef MCUOPT_DATA_H
#define MCUOPT_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "mcuopt/context.h"
#include "mcuopt/graph.h"
#include "mcuopt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { MCO_SPLIT_TRAIN = 0, MCO_SPLIT_TEST = 1 } mco_split;

typedef struct {
    char name[64];        /* "mnist", "fashion-mnist", "cifar10", ... */
    int n;                /* number of samples */
    mco_shape shape;      /* per-sample shape, e.g. 28x28x1 */
    int n_classes;        /* 10 for all built-in sets */
    uint8_t *images;      /* n * mco_shape_size(shape) bytes, NHWC */
    uint8_t *labels;      /* n bytes, each < n_classes */
} mco_dataset;

/* An IDX file (gzip'd or not): big-endian magic 0x0000 08 nd, nd dims, then
 * unsigned bytes. Only the unsigned-byte type (0x08) is accepted. The total
 * size is checked against the file before anything large is allocated. */
typedef struct {
    int ndim;
    uint32_t dims[4];
    size_t size;          /* product of dims */
    uint8_t *data;
} mco_idx;

mco_status mco_idx_read(const char *path, mco_idx *out);
void mco_idx_free(mco_idx *idx);

/* Loads MNIST-layout IDX files from `dir`: train-images-idx3-ubyte[.gz] and
 * train-labels-idx1-ubyte[.gz] (or t10k-* for the test split). Checks that
 * the counts agree and that every label is < 10. `name` is stored in out. */
mco_status mco_dataset_load_idx_dir(const char *dir, mco_split split, const char *name,
                                    mco_dataset *out);

/* Loads the CIFAR-10 binary version from `dir`: data_batch_1..5.bin (train)
 * or test_batch.bin (test); each record is 1 label byte + 3072 bytes CHW,
 * converted to HWC. */
mco_status mco_dataset_load_cifar10(const char *dir, mco_split split, mco_dataset *out);

/* Loads a data set by name ("mnist", "fashion-mnist", "cifar10"). With a
 * NULL or empty `dir` the default location is used: <data>/<name> if the
 * context has a data directory (MCO_RESOURCE_DATA; ctx may be NULL), then
 * ../shared/data/mnist, /usr/share/datasets/mnist or data/mnist for mnist,
 * Debian's dataset-fashion-mnist package for fashion-mnist. A missing data
 * set gives MCO_ERR_NOT_FOUND with a line saying where it looked. */
mco_status mco_dataset_load(const mco_context *ctx, const char *name, const char *dir, mco_split split,
                            mco_dataset *out);

/* Splits `src` into `train` and `val`: the last n_val samples of a
 * seed-determined permutation go to val. Both are deep copies. */
mco_status mco_dataset_split(const mco_dataset *src, int n_val, uint64_t seed,
                             mco_dataset *train, mco_dataset *val);

/* A deep copy of the first `n` samples (n <= src->n). */
mco_status mco_dataset_head(const mco_dataset *src, int n, mco_dataset *out);

void mco_dataset_free(mco_dataset *ds);

#ifdef __cplusplus
}
#endif
#endif
