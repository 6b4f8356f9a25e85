/*
 * dataset.c - data sets in memory (see data.h): loading the IDX layout of
 * MNIST and Fashion-MNIST, finding a named set in its default place, and
 * deep copies of either sample type and label kind (head, seeded
 * train/validation split).
 *
 * What it leaves out: augmentation and float conversion (sample.c, batch by
 * batch), and IDX sets with more or fewer than 10 classes.
 */
#include "mcuopt/data.h"

#include "mcuopt/context.h"
#include "mcuopt/rng.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DATASET_CLASSES 10

/* Reads `stem`-`kind` from `dir`, trying the plain and .gz names and the
 * older dotted spelling (train-images.idx3-ubyte) some copies use. */
static mco_status read_idx_in_dir(const char *dir, const char *stem, const char *kind, mco_idx *out)
{
    static const char *const formats[] = { "%s/%s-%s", "%s/%s-%s.gz", "%s/%s.%s", "%s/%s.%s.gz" };
    char path[1024];
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
        if ((size_t)snprintf(path, sizeof path, formats[i], dir, stem, kind) >= sizeof path)
            return mco_error(MCO_ERR_ARG, "%s: directory name too long", dir);
        mco_status st = mco_idx_read(path, out);
        if (st != MCO_ERR_NOT_FOUND)
            return st;
    }
    return mco_error(MCO_ERR_NOT_FOUND, "%s: no %s-%s or %s-%s.gz", dir, stem, kind, stem, kind);
}

/* Checks every label is a class index; `what` names the labels' source. */
static mco_status check_labels(const uint8_t *labels, int n, const char *what)
{
    for (int i = 0; i < n; i++) {
        if (labels[i] >= DATASET_CLASSES)
            return mco_error(MCO_ERR_FORMAT, "%s: label %d of sample %d is not below %d", what,
                             labels[i], i, DATASET_CLASSES);
    }
    return MCO_OK;
}

mco_status mco_dataset_load_idx_dir(const char *dir, mco_split split, const char *name,
                                    mco_dataset *out)
{
    memset(out, 0, sizeof *out);
    const char *prefix = split == MCO_SPLIT_TRAIN ? "train" : "t10k";
    char images_stem[32], labels_stem[32];
    snprintf(images_stem, sizeof images_stem, "%s-images", prefix);
    snprintf(labels_stem, sizeof labels_stem, "%s-labels", prefix);

    mco_idx images, labels;
    mco_status st = read_idx_in_dir(dir, images_stem, "idx3-ubyte", &images);
    if (st != MCO_OK)
        return st;
    st = read_idx_in_dir(dir, labels_stem, "idx1-ubyte", &labels);
    if (st != MCO_OK) {
        mco_idx_free(&images);
        return st;
    }

    if (images.ndim != 3)
        st = mco_error(MCO_ERR_FORMAT, "%s: %s file has %d dimensions, expected 3 (count, rows, columns)",
                       dir, images_stem, images.ndim);
    else if (labels.ndim != 1)
        st = mco_error(MCO_ERR_FORMAT, "%s: %s file has %d dimensions, expected 1", dir, labels_stem,
                       labels.ndim);
    else if (images.dims[0] != labels.dims[0])
        st = mco_error(MCO_ERR_FORMAT, "%s: %u images but %u labels", dir, images.dims[0], labels.dims[0]);
    else {
        char what[1100];
        snprintf(what, sizeof what, "%s/%s", dir, labels_stem);
        st = check_labels(labels.data, (int)labels.dims[0], what);
    }
    if (st != MCO_OK) {
        mco_idx_free(&images);
        mco_idx_free(&labels);
        return st;
    }

    snprintf(out->name, sizeof out->name, "%s", name ? name : "");
    out->n = (int)images.dims[0];  /* at most 10,000,000: mco_idx_read caps it */
    out->shape.h = (int)images.dims[1];
    out->shape.w = (int)images.dims[2];
    out->shape.c = 1;
    out->n_classes = DATASET_CLASSES;
    out->samples_u8 = images.data;  /* ownership moves to the data set */
    out->labels = labels.data;
    return MCO_OK;
}

/* ---- Finding a named data set ------------------------------------------ */

typedef struct {
    const char *name;
    int is_cifar10;                 /* 0: IDX layout */
    const char *default_dirs[4];    /* tried in order when no directory is given */
    const char *how_to_get;
} known_dataset;

static const known_dataset known_datasets[] = {
    { "mnist", 0,
      { "../shared/data/mnist", "/usr/share/datasets/mnist", "data/mnist" },
      "pass --data DIR or run scripts/fetch_mnist.sh" },
    { "fashion-mnist", 0,
      { "/usr/share/datasets/fashion-mnist" },
      "pass --data DIR or install Debian's dataset-fashion-mnist package" },
    { "cifar10", 1,
      { "data/cifar10", "data/cifar-10-batches-bin" },
      "pass --data DIR holding the CIFAR-10 binary version (data_batch_1.bin ... test_batch.bin)" },
};

static int is_directory(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static mco_status load_from_dir(const known_dataset *ds, const char *dir, mco_split split, mco_dataset *out)
{
    if (ds->is_cifar10)
        return mco_dataset_load_cifar10(dir, split, out);
    return mco_dataset_load_idx_dir(dir, split, ds->name, out);
}

mco_status mco_dataset_load(const mco_context *ctx, const char *name, const char *dir, mco_split split,
                            mco_dataset *out)
{
    memset(out, 0, sizeof *out);
    const known_dataset *ds = NULL;
    char known_names[256] = "";
    for (size_t i = 0; i < sizeof known_datasets / sizeof known_datasets[0]; i++) {
        if (name && strcmp(name, known_datasets[i].name) == 0)
            ds = &known_datasets[i];
        size_t used = strlen(known_names);
        snprintf(known_names + used, sizeof known_names - used, "%s%s", used ? ", " : "", known_datasets[i].name);
    }
    if (!ds)
        return mco_error(MCO_ERR_NOT_FOUND, "unknown data set '%s' (known: %s)", name ? name : "(null)",
                         known_names);

    if (dir && *dir) {
        if (!is_directory(dir))
            return mco_error(MCO_ERR_NOT_FOUND, "data directory %s not found (for data set '%s')", dir,
                             ds->name);
        return load_from_dir(ds, dir, split, out);
    }

    /* Try <the context's data directory>/<name>, then the set's own
     * default places; the message lists every place looked at. */
    char looked[1024] = "";
    char ctx_dir[1024];
    const char *data_root = mco_context_resource(ctx, MCO_RESOURCE_DATA);
    if (data_root) {
        snprintf(ctx_dir, sizeof ctx_dir, "%s/%s", data_root, ds->name);
        if (is_directory(ctx_dir))
            return load_from_dir(ds, ctx_dir, split, out);
        snprintf(looked, sizeof looked, "%s", ctx_dir);
    }
    for (int i = 0; i < 4 && ds->default_dirs[i]; i++) {
        if (is_directory(ds->default_dirs[i]))
            return load_from_dir(ds, ds->default_dirs[i], split, out);
        size_t used = strlen(looked);
        snprintf(looked + used, sizeof looked - used, "%s%s", used ? ", " : "", ds->default_dirs[i]);
    }
    return mco_error(MCO_ERR_NOT_FOUND, "data set '%s' not found (looked in %s): %s", ds->name, looked,
                     ds->how_to_get);
}

/* ---- Copies ------------------------------------------------------------- */

/* Fills `out` with the samples src[index[0]], src[index[1]], ... (or the
 * first `count` samples when index is NULL), as a deep copy: samples of the
 * same type, labels when src has them, the class names and the groups. */
static mco_status dataset_gather(const mco_dataset *src, const int *index, int count, mco_dataset *out)
{
    memset(out, 0, sizeof *out);
    size_t bytes = mco_shape_size(src->shape) * mco_sample_type_size(src->sample_type);
    int labelled = src->label_kind == MCO_LABELS_CLASS;
    size_t names = src->class_names ? (size_t)src->n_classes * sizeof *src->class_names : 0;
    /* +1 so an empty copy still gets distinct non-NULL buffers. */
    uint8_t *samples = malloc((size_t)count * bytes + 1);
    uint8_t *labels = labelled ? malloc((size_t)count + 1) : NULL;
    void *class_names = names ? malloc(names) : NULL;
    int *groups = src->groups ? malloc(((size_t)count + 1) * sizeof *groups) : NULL;
    if (!samples || (labelled && !labels) || (names && !class_names) || (src->groups && !groups)) {
        free(samples);
        free(labels);
        free(class_names);
        free(groups);
        return mco_error(MCO_ERR_NOMEM, "cannot allocate a copy of %d samples of %s", count, src->name);
    }
    const uint8_t *from_samples = mco_dataset_sample(src, 0);
    for (int i = 0; i < count; i++) {
        int from = index ? index[i] : i;
        memcpy(samples + (size_t)i * bytes, from_samples + (size_t)from * bytes, bytes);
        if (labelled) labels[i] = src->labels[from];
        if (groups) groups[i] = src->groups[from];
    }
    if (names) memcpy(class_names, src->class_names, names);
    memcpy(out->name, src->name, sizeof out->name);
    out->n = count;
    out->shape = src->shape;
    out->sample_type = src->sample_type;
    if (src->sample_type == MCO_SAMPLE_F32) out->samples_f32 = (float *)(void *)samples;
    else out->samples_u8 = samples;
    out->label_kind = src->label_kind;
    out->n_classes = src->n_classes;
    out->labels = labels;
    out->class_names = class_names;
    out->groups = groups;
    return MCO_OK;
}

mco_status mco_dataset_split(const mco_dataset *src, int n_val, uint64_t seed,
                             mco_dataset *train, mco_dataset *val)
{
    memset(train, 0, sizeof *train);
    memset(val, 0, sizeof *val);
    if (n_val < 0 || n_val > src->n)
        return mco_error(MCO_ERR_ARG, "validation size %d is outside 0..%d (the size of %s)", n_val, src->n,
                         src->name);

    int *order = malloc(((size_t)src->n + 1) * sizeof *order);
    if (!order)
        return mco_error(MCO_ERR_NOMEM, "cannot allocate a permutation of %d samples", src->n);
    for (int i = 0; i < src->n; i++)
        order[i] = i;
    /* Fisher-Yates with the library's xoshiro256** (mcuopt/rng.h), so a seed
     * gives the same split on every machine: position i takes a uniformly
     * chosen element of 0..i. */
    mco_rng rng;
    mco_rng_seed(&rng, seed);
    for (int i = src->n - 1; i > 0; i--) {
        int j = (int)mco_rng_below(&rng, (uint64_t)i + 1);
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
    }

    int n_train = src->n - n_val;
    mco_status st = dataset_gather(src, order, n_train, train);
    if (st == MCO_OK)
        st = dataset_gather(src, order + n_train, n_val, val);
    free(order);
    if (st != MCO_OK)
        mco_dataset_free(train);
    return st;
}

mco_status mco_dataset_head(const mco_dataset *src, int n, mco_dataset *out)
{
    if (n < 0 || n > src->n) {
        memset(out, 0, sizeof *out);
        return mco_error(MCO_ERR_ARG, "cannot take the first %d samples of %s, which has %d", n, src->name,
                         src->n);
    }
    return dataset_gather(src, NULL, n, out);
}

void mco_dataset_free(mco_dataset *ds)
{
    free(ds->samples_u8);
    free(ds->samples_f32);
    free(ds->labels);
    free(ds->class_names);
    free(ds->groups);
    memset(ds, 0, sizeof *ds);
}
