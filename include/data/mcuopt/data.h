/*
 * data.h - data sets in memory and the readers that fill them: IDX (MNIST,
 * Fashion-MNIST), the CIFAR-10 binary format, image folders (PNG / JPEG /
 * BMP, one sub-directory per class), audio folders (WAV, one sub-directory
 * per label, turned into MFCC / log-mel features), machine sounds (WAV
 * clips named normal_* / anomaly_*, the DCASE / MLPerf Tiny anomaly
 * detection layout, cut into windows of log-mel frames), NumPy .npy
 * arrays, CSV files; splits and copies.
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
    int *groups;               /* NULL, or n indices of the recording each sample was cut from
                                  (machine sounds: a clip's windows); the AUC of a
                                  reconstruction model is then taken over recordings, each
                                  scored by the mean error of its samples (mco_eval_result) */
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

/* The indices of n samples spread evenly over a set of `total` (1 <= n <=
 * total): indices[i] = floor(i * total / n), a fixed stride from the first
 * sample, so n == total takes every sample in order and the choice is the
 * same on every run. Calibration takes its samples this way (mco_quantize,
 * the pipeline's quant stage, the search's trials, the apoz /
 * mean-activation pruning criteria): a set read in recording order, such as
 * machine sounds' windows clip by clip, is then covered whole instead of by
 * its first recordings only. */
void mco_dataset_spread_indices(int total, int n, int *indices);

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

/* ---- Reading a data set from a path (mcuopt --data PATH) ---------------- */

typedef enum {
    MCO_DATA_AUTO = 0,    /* detected from what the path holds (mco_data_detect) */
    MCO_DATA_IDX,         /* MNIST-layout IDX files */
    MCO_DATA_CIFAR10,     /* CIFAR-10 binary batches */
    MCO_DATA_IMAGES,      /* one sub-directory of PNG / JPEG / BMP files per class */
    MCO_DATA_NPY,         /* NumPy arrays x.npy, y.npy (or x_train.npy, ..., x_test.npy, ...) */
    MCO_DATA_CSV,         /* one CSV file, a sample per row */
    MCO_DATA_AUDIO,       /* one sub-directory of WAV files per label (Speech Commands layout) */
    MCO_DATA_MACHINE      /* train/ and test/ WAV clips named normal_* / anomaly_* (DCASE layout) */
} mco_data_format;

/* "auto", "idx", "cifar10", "images", "npy", "csv", "audio", "machine";
 * parse fails with one line listing them. */
const char *mco_data_format_name(mco_data_format format);
mco_status mco_data_format_parse(const char *name, mco_data_format *format);

/* Audio folders are read as the features of an mco_audio_frontend
 * (mcuopt/graph.h, with mco_audio_frontend_default and _shape: the
 * parameters a model trained on them records). */

typedef struct {
    mco_data_format format;    /* MCO_DATA_AUTO: detect */
    mco_shape shape;           /* the model's input (zeros: unknown). Image folders are resized to
                                  it and converted to its channels (1: grey, 3: RGB), and need it;
                                  a CSV row of exactly that many values takes it (else 1x1xF). Other
                                  formats keep their own shape (the consumers check it). */
    const char *label_column;  /* CSV: a column name, a 0-based index, or "none" (no labels);
                                  NULL: the column named "label" */
    int test_percent;          /* a set without a test split of its own (one image tree, one
                                  x.npy/y.npy pair, one CSV file): the share of samples in the test
                                  split, chosen by a CRC-32 of each sample's file path or index
                                  (stable as samples are added); 0: 20 */
    const char *name;          /* the set's name; NULL: "mnist" for IDX, "cifar10" for CIFAR-10,
                                  else the path's last component (without .csv) */
    mco_audio_frontend audio;  /* audio folders and machine sounds: the features, when audio_set */
    int audio_set;             /* 0: each audio format's default (audio folders: MLPerf KWS's, which
                                  mco_data_options_default puts in `audio`; machine sounds:
                                  mco_audio_frontend_machine_default) */
    int augment;               /* audio folders, training split only: this many augmented copies of
                                  each clip besides it (mco_dataset_load_audio); 0: none */
    uint64_t augment_seed;     /* the augmentation's random choices */
} mco_data_options;

void mco_data_options_default(mco_data_options *opt);

/* What `path` holds: a .csv file is MCO_DATA_CSV; a directory with
 * train-/t10k-images-idx3-ubyte[.gz] is MCO_DATA_IDX, with data_batch_1.bin
 * or test_batch.bin (or cifar-10-batches-bin/) MCO_DATA_CIFAR10, with x.npy,
 * x_train.npy or x_test.npy MCO_DATA_NPY, with a train/ or test/
 * sub-directory holding normal_*.wav or anomaly_*.wav files
 * MCO_DATA_MACHINE, with sub-directories MCO_DATA_AUDIO if one of them
 * holds a .wav file, else MCO_DATA_IMAGES.
 * Anything else is one error line naming the path. */
mco_status mco_data_detect(const char *path, mco_data_format *format);

/* Reads the split of the data set at `path` in opt->format (detected when
 * MCO_DATA_AUTO). opt may be NULL (defaults; image folders then fail for
 * want of a shape). */
mco_status mco_dataset_read(const char *path, mco_split split, const mco_data_options *opt, mco_dataset *out);

/* 1 if the sample whose key (a file path relative to the set, or an index)
 * is `key` belongs to the test split: CRC-32 of the key, mod 100, below
 * test_percent. The readers share it, so a set split this way is split the
 * same on every machine. */
int mco_data_in_test_split(const void *key, size_t size, int test_percent);

/* An image folder (Keras' image_dataset_from_directory layout): DIR/<class>/
 * files, classes named by their sorted sub-directory names (at least two),
 * *.png, *.jpg, *.jpeg, *.bmp files (any case) in each, sub-directories
 * walked; other files are ignored. With DIR/train/ and DIR/test/ those are
 * the splits (test's classes must be train's); otherwise the split is
 * mco_data_in_test_split of each file's path below DIR. Every image is
 * decoded by its content (PNG: libpng, JPEG: libjpeg-turbo, BMP:
 * stb_image; image_file.c), converted to opt->shape.c channels (1: grey
 * from RGB by stb_image's luma weights; 3: RGB, grey replicated; alpha
 * dropped) and
 * resized to opt->shape.h x opt->shape.w with stb_image_resize (box filter
 * along an axis that shrinks, i.e. area averaging; triangle, i.e. bilinear,
 * along one that grows). Raw uint8 samples. */
mco_status mco_dataset_load_images(const char *dir, mco_split split, const mco_data_options *opt,
                                   mco_dataset *out);

/* One image file decoded, converted and resized as above into `out`
 * (shape.h * shape.w * shape.c bytes, HWC). Refuses a file over 64 MiB or
 * an image over 16384 pixels a side or 2^26 decoded bytes before decoding
 * it. */
mco_status mco_image_read(const char *path, mco_shape shape, uint8_t *out);

/* An audio folder (the Speech Commands layout): DIR/<label>/ *.wav files
 * (any case; sub-directories walked), labels named by their sorted
 * sub-directory names (at least two); DIR/_background_noise_/ is no label
 * (the noise for augmentation). The splits: DIR/train/ and DIR/test/ if
 * both exist (as image folders); else the files listed in
 * DIR/testing_list.txt (one path below DIR per line, as Speech Commands
 * ships it) are the test split, or those of validation_list.txt when
 * there is no testing list, and every other file is training data (the
 * trainer's --val takes its validation set from them); with neither list,
 * mco_data_in_test_split of each file's path below DIR. Each file is read
 * by mco_audio_read at opt->audio's rate and length and turned into
 * opt->audio's features by the MCU runtime's front-end
 * (runtime/mco_mfcc.c: the chip computes the same bits): float32 samples
 * of frames x values x 1. With opt->shape set (the model's input), a
 * different feature shape is one error line giving both.
 * Augmentation (opt->augment copies per training clip, as the Speech
 * Commands recipe's settings, drawn once per copy from opt->augment_seed):
 * the clip shifted in time by a uniform -100..100 ms (zeros shifted in)
 * and, with probability 0.8, a random 1 s stretch of a random
 * _background_noise_/ file (read whole, at most 60 s each) added at a
 * uniform volume of 0..0.1, saturated to 16 bits; the copies follow the
 * originals. They are made once, not per epoch, and a --val split taken
 * from the set afterwards may hold copies of training clips. */
mco_status mco_dataset_load_audio(const char *dir, mco_split split, const mco_data_options *opt, mco_dataset *out);

/* The clips of max_clips files of an audio folder's split (all of them if
 * fewer), spread evenly over it (the split is sorted by label, so they
 * cover the labels; no augmentation) as 16-bit PCM: *n clips of opt->audio.clip_samples samples at its rate,
 * read by mco_audio_read into *pcm (malloc'd; the caller frees it). For
 * running a model's front-end on the chip (mcuopt/measure.h). */
mco_status mco_audio_read_clips(const char *dir, mco_split split, const mco_data_options *opt, int max_clips,
                                int16_t **pcm, int *n);

/* One WAV file (by libsndfile) as a clip of n_samples 16-bit samples at
 * `rate` Hz: resampled by libsamplerate when the file's rate differs, then
 * cut or zero-padded at the end. Refused with one line naming the file: not
 * WAV, not mono, 8-bit or compressed samples, a rate outside 1..384 kHz or
 * more than 256 times from `rate`, no samples, truncated (fewer samples
 * than its data chunk declares) or unreadable. Only as much of the file as
 * the clip needs is read. mco_audio_decode does the same from memory
 * (`name` names it in errors). */
mco_status mco_audio_read(const char *path, int rate, int n_samples, int16_t *out);
mco_status mco_audio_decode(const void *data, size_t size, const char *name, int rate, int n_samples,
                            int16_t *out);

/* A NumPy .npy file (format 1.0, 2.0 or 3.0): the header's dict is checked
 * (descr, fortran_order False, shape of 1..5 dimensions, each 1..2^26 and
 * at most 2^31 values in all) and the file must hold exactly the data it
 * declares; only then is the data read. */
typedef enum {
    MCO_NPY_U8, MCO_NPY_I8, MCO_NPY_U16, MCO_NPY_I16, MCO_NPY_U32, MCO_NPY_I32, MCO_NPY_U64, MCO_NPY_I64,
    MCO_NPY_F32, MCO_NPY_F64
} mco_npy_dtype;

typedef struct {
    mco_npy_dtype dtype;       /* little-endian (or one byte) */
    int ndim;                  /* 0..5 */
    uint32_t dims[5];
    size_t count;              /* product of dims */
    size_t item_size;
    uint8_t *data;             /* count * item_size bytes, C order */
} mco_npy;

mco_status mco_npy_read(const char *path, mco_npy *out);
void mco_npy_free(mco_npy *npy);

/* Machine sounds in the DCASE 2020 task 2 / MLPerf Tiny anomaly detection
 * layout: DIR/train/ and DIR/test/ hold WAV clips named normal_* (label 0)
 * or anomaly_* (label 1), e.g. normal_id_00_00000000.wav; a .wav file named
 * otherwise is one error line. Each clip of the split (in sorted name
 * order) is read by mco_audio_read at the front-end's rate and length (cut
 * or zero-padded), turned into log-mel frames by the MCU runtime's
 * front-end (opt->audio when opt->audio_set, else
 * mco_audio_frontend_machine_default; it must be log-mel, n_coeffs 0, with
 * window_frames >= 1), and every run of window_frames consecutive frames
 * is one sample of 1 x 1 x (window_frames * n_mels) float32 values, as the
 * MLPerf reference's feature extraction concatenates them; out->groups
 * gives each sample's clip, so a reconstruction model's AUC is per clip
 * (the mean error over its windows), as the reference scores it. Classes:
 * 2 ("normal", "anomaly"); an autoencoder trains on the normal ones only.
 * With opt->shape set, a different window shape is one error line giving
 * both. */
mco_status mco_dataset_load_machine(const char *dir, mco_split split, const mco_data_options *opt, mco_dataset *out);

/* NumPy arrays in `dir`: x_train.npy / y_train.npy and x_test.npy /
 * y_test.npy (the splits), or one pair x.npy / y.npy (split by
 * mco_data_in_test_split of the row index). x is (N,), (N, F), (N, H, W) or
 * (N, H, W, C) of uint8 (raw samples), int8 or float32 (float32 samples;
 * every value finite); its shape gives the sample shape (1x1x1, 1x1xF,
 * HxWx1, HxWxC). y is (N,) or (N, 1) of integers 0..255, the class labels;
 * no y file: an unlabelled set. The class count is one more than the
 * largest label of all the directory's y files. */
mco_status mco_dataset_load_npy(const char *dir, mco_split split, const mco_data_options *opt, mco_dataset *out);

/* A CSV file (RFC 4180, read by libcsv), one sample per row: every column
 * but the label column (opt->label_column) is a number (float32 samples).
 * The first row is a header when the label column is named, or, otherwise,
 * when a field of it outside the label column is not a number. Labels that
 * are all integers 0..255 are class indices (class count: the largest + 1);
 * otherwise each distinct label is a class, in sorted order (at most 256).
 * A bad row is one line with file:line. Split by mco_data_in_test_split of
 * the data row index (0-based). */
mco_status mco_dataset_load_csv(const char *path, mco_split split, const mco_data_options *opt, mco_dataset *out);

/* The normalisation that gives the set's values mean 0 and standard
 * deviation 1 over all samples: raw uint8 values on the [0, 1] scale
 * (scale 1/255), float32 values as they are (scale 1); a constant set gets
 * std 1. */
mco_status mco_dataset_normalization(const mco_dataset *ds, mco_normalization *norm);

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
