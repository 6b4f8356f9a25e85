/*
 * data_read.c - reading a data set from a path in any format (see data.h):
 * the format names, detecting the format from what the path holds, the
 * dispatch to each reader, and the normalisation computed from a set.
 *
 * What it leaves out: the options and the hash split the readers share
 * (split.c), the readers themselves (idx.c and dataset.c, cifar10.c,
 * image_folder.c, npy.c, csv.c, audio_folder.c,
 * machine_sounds.c) and named sets in their default places
 * (mco_dataset_load in dataset.c).
 */
#include "mcuopt/data.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

static const char *const format_names[] = {"auto", "idx", "cifar10", "images", "npy", "csv", "audio", "machine"};
#define FORMAT_COUNT ((int)(sizeof format_names / sizeof format_names[0]))

const char *mco_data_format_name(mco_data_format format)
{
    return (int)format >= 0 && (int)format < FORMAT_COUNT ? format_names[format] : "unknown";
}

mco_status mco_data_format_parse(const char *name, mco_data_format *format)
{
    for (int i = 0; i < FORMAT_COUNT; i++)
        if (strcmp(name, format_names[i]) == 0) {
            *format = (mco_data_format)i;
            return MCO_OK;
        }
    return mco_error(MCO_ERR_ARG, "unknown data format '%s' (known: auto, idx, cifar10, images, npy, csv, audio, "
                     "machine)", name);
}

static int exists_in(const char *dir, const char *name, int want_dir)
{
    char path[4096];
    struct stat st;
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path) return 0;
    return stat(path, &st) == 0 && (want_dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode));
}

static int any_exists_in(const char *dir, const char *const *names, int want_dir)
{
    for (; *names; names++)
        if (exists_in(dir, *names, want_dir)) return 1;
    return 0;
}

/* 1 if the directory dir/sub holds a .wav file (any case); with
 * `machine`, one named normal_* or anomaly_* (a machine-sound clip). */
static int holds_wav(const char *dir, const char *sub, int machine)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, sub) >= sizeof path) return 0;
    DIR *d = opendir(path);
    if (!d) return 0;
    struct dirent *e;
    int found = 0;
    while (!found && (e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        found = e->d_name[0] != '.' && n > 4 && strcasecmp(e->d_name + n - 4, ".wav") == 0 &&
                (!machine || strncmp(e->d_name, "normal_", 7) == 0 || strncmp(e->d_name, "anomaly_", 8) == 0);
    }
    closedir(d);
    return found;
}

/* 1 if a sub-directory of dir (hidden ones and _background_noise_ aside)
 * holds a .wav file: an audio folder. */
static int has_wav_subdirectory(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *e;
    int found = 0;
    while (!found && (e = readdir(d)) != NULL)
        found = e->d_name[0] != '.' && strcmp(e->d_name, "_background_noise_") != 0 && exists_in(dir, e->d_name, 1) &&
                holds_wav(dir, e->d_name, 0);
    closedir(d);
    return found;
}

/* 1 if dir holds a sub-directory (hidden ones aside). */
static int has_subdirectory(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *e;
    int found = 0;
    while (!found && (e = readdir(d)) != NULL)
        found = e->d_name[0] != '.' && exists_in(dir, e->d_name, 1);
    closedir(d);
    return found;
}

static int ends_with_ci(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    if (n < m) return 0;
    for (size_t i = 0; i < m; i++) {
        char a = s[n - m + i], b = suffix[i];
        if (a >= 'A' && a <= 'Z') a = (char)(a - 'A' + 'a');
        if (a != b) return 0;
    }
    return 1;
}

mco_status mco_data_detect(const char *path, mco_data_format *format)
{
    static const char *const idx_files[] = {
        "train-images-idx3-ubyte", "train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte",
        "t10k-images-idx3-ubyte.gz", "train-images.idx3-ubyte", "train-images.idx3-ubyte.gz",
        "t10k-images.idx3-ubyte", "t10k-images.idx3-ubyte.gz", NULL};
    static const char *const cifar_files[] = {"data_batch_1.bin", "test_batch.bin", NULL};
    static const char *const npy_files[] = {"x.npy", "x_train.npy", "x_test.npy", NULL};
    struct stat st;
    if (stat(path, &st) != 0)
        return errno == ENOENT ? mco_error(MCO_ERR_NOT_FOUND, "%s: not found", path)
                               : mco_error(MCO_ERR_IO, "%s: %s", path, strerror(errno));
    if (S_ISREG(st.st_mode)) {
        if (ends_with_ci(path, ".csv")) {
            *format = MCO_DATA_CSV;
            return MCO_OK;
        }
        return mco_error(MCO_ERR_FORMAT, "%s: a file that is not .csv (other formats are directories: IDX, "
                         "CIFAR-10, x.npy / y.npy, or one sub-directory of images per class)", path);
    }
    if (!S_ISDIR(st.st_mode)) return mco_error(MCO_ERR_FORMAT, "%s: neither a directory nor a .csv file", path);
    if (any_exists_in(path, idx_files, 0)) *format = MCO_DATA_IDX;
    else if (any_exists_in(path, cifar_files, 0) || exists_in(path, "cifar-10-batches-bin", 1))
        *format = MCO_DATA_CIFAR10;
    else if (any_exists_in(path, npy_files, 0)) *format = MCO_DATA_NPY;
    else if (holds_wav(path, "train", 1) || holds_wav(path, "test", 1)) *format = MCO_DATA_MACHINE;
    else if (has_wav_subdirectory(path)) *format = MCO_DATA_AUDIO;
    else if (has_subdirectory(path)) *format = MCO_DATA_IMAGES;   /* image_folder.c checks the classes */
    else
        return mco_error(MCO_ERR_NOT_FOUND, "%s: no data set found (no train-images-idx3-ubyte[.gz], "
                         "data_batch_1.bin, x.npy, x_train.npy, train/ normal_*.wav clips, or sub-directories of images "
                         "or WAV files)", path);
    return MCO_OK;
}

/* The set's name from its path: the last component, without ".csv". */
static void name_from_path(const char *path, char *name, size_t size)
{
    char copy[4096];
    snprintf(copy, sizeof copy, "%s", path);
    size_t n = strlen(copy);
    while (n > 1 && copy[n - 1] == '/') copy[--n] = '\0';
    const char *base = strrchr(copy, '/');
    base = base && base[1] ? base + 1 : copy;
    snprintf(name, size, "%s", base);
    if (ends_with_ci(name, ".csv")) name[strlen(name) - 4] = '\0';
}

mco_status mco_dataset_read(const char *path, mco_split split, const mco_data_options *opt, mco_dataset *out)
{
    memset(out, 0, sizeof *out);
    mco_data_options o;
    if (opt) o = *opt;
    else mco_data_options_default(&o);
    if (o.test_percent < 0 || o.test_percent >= 100) o.test_percent = 0;   /* split.c's default */
    mco_status st = MCO_OK;
    if (o.format == MCO_DATA_AUTO && (st = mco_data_detect(path, &o.format)) != MCO_OK) return st;
    char name[64];
    if (o.name) snprintf(name, sizeof name, "%s", o.name);
    else if (o.format == MCO_DATA_IDX) snprintf(name, sizeof name, "mnist");
    else if (o.format == MCO_DATA_CIFAR10) snprintf(name, sizeof name, "cifar10");
    else name_from_path(path, name, sizeof name);
    o.name = name;
    switch (o.format) {
    case MCO_DATA_IDX: st = mco_dataset_load_idx_dir(path, split, name, out); break;
    case MCO_DATA_CIFAR10: st = mco_dataset_load_cifar10(path, split, out); break;
    case MCO_DATA_IMAGES: st = mco_dataset_load_images(path, split, &o, out); break;
    case MCO_DATA_NPY: st = mco_dataset_load_npy(path, split, &o, out); break;
    case MCO_DATA_CSV: st = mco_dataset_load_csv(path, split, &o, out); break;
    case MCO_DATA_AUDIO: st = mco_dataset_load_audio(path, split, &o, out); break;
    case MCO_DATA_MACHINE: st = mco_dataset_load_machine(path, split, &o, out); break;
    default: st = mco_error(MCO_ERR_ARG, "unknown data format %d", (int)o.format); break;
    }
    if (st == MCO_OK) snprintf(out->name, sizeof out->name, "%s", name);
    return st;
}

mco_status mco_dataset_normalization(const mco_dataset *ds, mco_normalization *norm)
{
    size_t count = (size_t)ds->n * mco_shape_size(ds->shape);
    if (count == 0) return mco_error(MCO_ERR_ARG, "%s: no values to compute a normalisation from", ds->name);
    norm->scale = ds->sample_type == MCO_SAMPLE_U8 ? 1.0f / 255.0f : 1.0f;
    double sum = 0.0, sum_sq = 0.0;
    for (size_t k = 0; k < count; k++) {
        double v = ds->sample_type == MCO_SAMPLE_U8 ? ds->samples_u8[k] : ds->samples_f32[k];
        v *= (double)norm->scale;
        sum += v;
        sum_sq += v * v;
    }
    double mean = sum / (double)count, var = sum_sq / (double)count - mean * mean;
    double std = var > 0.0 ? sqrt(var) : 0.0;
    norm->mean = (float)mean;
    norm->std = std > 1e-6 * (fabs(mean) + 1.0) ? (float)std : 1.0f;
    if (!isfinite(norm->mean) || !isfinite(norm->std))
        return mco_error(MCO_ERR_RANGE, "%s: its values are too large for a normalisation", ds->name);
    return MCO_OK;
}
