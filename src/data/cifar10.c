/*
 * cifar10.c - loader for the binary version of CIFAR-10 (see data.h).
 *
 * Each file (data_batch_1.bin ... data_batch_5.bin for training,
 * test_batch.bin for test; 10,000 records each in the official release) is a
 * plain sequence of 3073-byte records:
 *   byte 0          label, 0..9
 *   bytes 1..3072   the 32x32 image as three 1024-byte planes: red, green,
 *                   blue, each row-major (CHW)
 * The loader converts the pixels to HWC, the layout the rest of mcuopt uses.
 * A file whose size is not a positive multiple of 3073 is rejected.
 *
 * The files may sit directly in the given directory or in the
 * cifar-10-batches-bin folder the official tarball unpacks to.
 * What it leaves out: the Python-pickle and Matlab versions, CIFAR-100, and
 * gzip'd .bin files (unpack the tarball first).
 */
#include "mcuopt/data.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CIFAR_SIDE 32
#define CIFAR_CHANNELS 3
#define CIFAR_PIXELS (CIFAR_SIDE * CIFAR_SIDE)
#define CIFAR_IMAGE_BYTES (CIFAR_PIXELS * CIFAR_CHANNELS)
#define CIFAR_RECORD_BYTES (1 + CIFAR_IMAGE_BYTES)
#define CIFAR_CLASSES 10
#define CIFAR_MAX_FILES 5
#define CIFAR_MAX_SAMPLES 1000000  /* guards against absurd files: 3 GB of records */

/* Builds the paths of the split's files in dir (or dir/cifar-10-batches-bin
 * when the first file is only found there); returns how many. */
static int cifar_file_paths(const char *dir, mco_split split, char paths[][1024])
{
    static const char *const train_names[CIFAR_MAX_FILES] = {
        "data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"
    };
    static const char *const test_names[1] = { "test_batch.bin" };
    const char *const *names = split == MCO_SPLIT_TRAIN ? train_names : test_names;
    int count = split == MCO_SPLIT_TRAIN ? CIFAR_MAX_FILES : 1;

    const char *sub = "";
    struct stat st;
    snprintf(paths[0], 1024, "%s/%s", dir, names[0]);
    if (stat(paths[0], &st) != 0) {
        char nested[1024];
        snprintf(nested, sizeof nested, "%s/cifar-10-batches-bin/%s", dir, names[0]);
        if (stat(nested, &st) == 0)
            sub = "cifar-10-batches-bin/";
    }
    for (int i = 0; i < count; i++)
        snprintf(paths[i], 1024, "%s/%s%s", dir, sub, names[i]);
    return count;
}

/* The number of records in `path`, from its size. */
static mco_status cifar_count_records(const char *path, int *records)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT)
            return mco_error(MCO_ERR_NOT_FOUND, "%s: no such file", path);
        return mco_error(MCO_ERR_IO, "%s: %s", path, strerror(errno));
    }
    if (st.st_size <= 0 || st.st_size % CIFAR_RECORD_BYTES != 0)
        return mco_error(MCO_ERR_FORMAT, "%s: size %lld is not a positive multiple of the %d-byte record",
                         path, (long long)st.st_size, CIFAR_RECORD_BYTES);
    if (st.st_size / CIFAR_RECORD_BYTES > CIFAR_MAX_SAMPLES)
        return mco_error(MCO_ERR_RANGE, "%s: more than %d records", path, CIFAR_MAX_SAMPLES);
    *records = (int)(st.st_size / CIFAR_RECORD_BYTES);
    return MCO_OK;
}

/* Reads `records` records from `path` into images (HWC) and labels. */
static mco_status cifar_read_file(const char *path, int records, uint8_t *images, uint8_t *labels)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return mco_error(MCO_ERR_IO, "%s: %s", path, strerror(errno));
    uint8_t record[CIFAR_RECORD_BYTES];
    mco_status st = MCO_OK;
    for (int r = 0; r < records; r++) {
        if (fread(record, 1, sizeof record, f) != sizeof record) {
            st = mco_error(MCO_ERR_FORMAT, "%s: truncated in record %d", path, r);
            break;
        }
        if (record[0] >= CIFAR_CLASSES) {
            st = mco_error(MCO_ERR_FORMAT, "%s: record %d has label %d, not below %d", path, r, record[0],
                           CIFAR_CLASSES);
            break;
        }
        labels[r] = record[0];
        uint8_t *image = images + (size_t)r * CIFAR_IMAGE_BYTES;
        for (int p = 0; p < CIFAR_PIXELS; p++) {
            for (int c = 0; c < CIFAR_CHANNELS; c++)
                image[p * CIFAR_CHANNELS + c] = record[1 + c * CIFAR_PIXELS + p];
        }
    }
    fclose(f);
    return st;
}

mco_status mco_dataset_load_cifar10(const char *dir, mco_split split, mco_dataset *out)
{
    memset(out, 0, sizeof *out);
    char paths[CIFAR_MAX_FILES][1024];
    int n_files = cifar_file_paths(dir, split, paths);

    int records[CIFAR_MAX_FILES];
    int total = 0;
    for (int i = 0; i < n_files; i++) {
        mco_status st = cifar_count_records(paths[i], &records[i]);
        if (st != MCO_OK)
            return st;
        if (records[i] > CIFAR_MAX_SAMPLES - total)
            return mco_error(MCO_ERR_RANGE, "%s: more than %d records in all", dir, CIFAR_MAX_SAMPLES);
        total += records[i];
    }

    uint8_t *images = malloc((size_t)total * CIFAR_IMAGE_BYTES);
    uint8_t *labels = malloc((size_t)total);
    if (!images || !labels) {
        free(images);
        free(labels);
        return mco_error(MCO_ERR_NOMEM, "%s: cannot allocate %d CIFAR-10 images", dir, total);
    }
    int done = 0;
    for (int i = 0; i < n_files; i++) {
        mco_status st = cifar_read_file(paths[i], records[i], images + (size_t)done * CIFAR_IMAGE_BYTES,
                                        labels + done);
        if (st != MCO_OK) {
            free(images);
            free(labels);
            return st;
        }
        done += records[i];
    }

    snprintf(out->name, sizeof out->name, "cifar10");
    out->n = total;
    out->shape.h = CIFAR_SIDE;
    out->shape.w = CIFAR_SIDE;
    out->shape.c = CIFAR_CHANNELS;
    out->n_classes = CIFAR_CLASSES;
    out->samples_u8 = images;
    out->labels = labels;
    return MCO_OK;
}
