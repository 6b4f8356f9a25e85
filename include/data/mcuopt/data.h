/*
 * data.h - data sets in memory and the readers that fill them: IDX (MNIST,
 * Fashion-MNIST), the CIFAR-10 binary format, splits and copies.
 *
 * A data set (mco_dataset) is n samples of one shape (NHWC, h x w x c
 * values each) and, for classification, one class label per sample:
 *
 *   samples  of one element type (sample_type):
 *            MCO_SAMPLE_U8   raw 8-bit values (image pixels), in samples_u8;
 *                            kept as bytes (60,000 MNIST images are 47 MB)
 *                            and turned into floats batch by batch through a
 *                            256-entry table of the model's normalisation;
 *            MCO_SAMPLE_F32  float32 values (features, .npy float arrays,
 *                            CSV columns), in samples_f32.
 *            Either way the network input is x = (v * scale - mean) / std
 *            with the model's mco_normalization (mco_dataset_to_float).
 *   labels   of one kind (label_kind):
 *            MCO_LABELS_CLASS  labels[i] < n_classes, one byte per sample;
 *            MCO_LABELS_NONE   no labels (labels NULL, n_classes 0): data for
 *                              reconstruction, whose target is the sample
 *                              itself (an autoencoder's training set).
 *            class_names, when the data names its classes (an image folder's
 *            sub-directories), holds n_classes names; NULL otherwise.
 *
 * A zeroed mco_dataset is an empty set of raw uint8 samples with class
 * labels, so code that builds one by hand gets today's meaning by default.
 * Consumers that need labels (training, accuracy) or raw bytes (QAT's input
 * grid) check with mco_dataset_require_labels / the sample type and refuse
 * the other kind with one error line.
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

/* The element type of a data set's samples. */
typedef enum {
    MCO_SAMPLE_U8 = 0,    /* raw 8-bit values, normalised through a 256-entry table */
    MCO_SAMPLE_F32 = 1    /* float32 values */
} mco_sample_type;

/* What a data set's labels are. */
typedef enum {
    MCO_LABELS_CLASS = 0, /* one class index per sample */
    MCO_LABELS_NONE = 1   /* none: the target is the sample itself (reconstruction) */
} mco_label_kind;

#define MCO_DATA_MAX_CLASSES 256   /* labels are bytes */
#define MCO_CLASS_NAME_MAX 256     /* a class name with its NUL (a file name is at most 255 bytes) */

typedef struct {
    char name[64];             /* "mnist", "fashion-mnist", "cifar10", or a folder's name */
    int n;                     /* number of samples */
    mco_shape shape;           /* per-sample shape, e.g. 28x28x1 */
    mco_sample_type sample_type;
    uint8_t *samples_u8;       /* MCO_SAMPLE_U8: n * mco_shape_size(shape) values, NHWC; else NULL */
    float *samples_f32;        /* MCO_SAMPLE_F32: the same count of floats; else NULL */
    mco_label_kind label_kind;
    int n_classes;             /* MCO_LABELS_CLASS: labels are below it (10 for the built-in sets); else 0 */
    uint8_t *labels;           /* MCO_LABELS_CLASS: n bytes; else NULL */
    char (*class_names)[MCO_CLASS_NAME_MAX];   /* [n_classes] or NULL */
} mco_dataset;

/* "uint8" or "float32". */
const char *mco_sample_type_name(mco_sample_type type);

/* Bytes per value: 1 or 4. */
size_t mco_sample_type_size(mco_sample_type type);

/* Sample i's values (n_values = mco_shape_size(ds->shape) of ds->sample_type). */
const void *mco_dataset_sample(const mco_dataset *ds, int i);

/* Writes the float network input x = (v * scale - mean) / std of n values
 * of `type` to out (raw uint8 values through mco_normalize_input). */
void mco_samples_to_float(mco_sample_type type, const void *values, size_t n, const mco_normalization *norm,
                          float *out);

/* Writes the float network input of `count` samples to out (count x
 * mco_shape_size(ds->shape) floats): samples first..first+count-1, or
 * indices[0..count-1] when indices is not NULL. x = (v * scale - mean) /
 * std; raw uint8 values go through a 256-entry table of that formula
 * (mco_normalize_input), so they get exactly its values. */
void mco_dataset_to_float(const mco_dataset *ds, const mco_normalization *norm, const int *indices, int first,
                          int count, float *out);

/* MCO_OK if ds has class labels; otherwise one line: "<what> set (<name>)
 * has no class labels: <why>", e.g. why = "accuracy needs them". */
mco_status mco_dataset_require_labels(const mco_dataset *ds, const char *what, const char *why);

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
