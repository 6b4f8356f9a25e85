/*
 * machine_sounds.c - a data set of log-mel windows from machine sounds in
 * the DCASE 2020 task 2 layout that MLPerf Tiny's anomaly detection reads
 * (data.h, mco_dataset_load_machine): DIR/train/ and DIR/test/ hold WAV
 * clips named normal_* or anomaly_*; each clip of the split is read
 * (audio_file.c), turned into log-mel frames by the MCU runtime's front-end
 * (runtime/mco_mfcc.c, as audio_folder.c does), and every run of
 * window_frames consecutive frames becomes one sample, tagged with its
 * clip (mco_dataset.groups) so that the AUC is taken per clip.
 *
 * The reference (MLPerf Tiny benchmark/training/anomaly_detection,
 * common.py file_to_vector_array) computes librosa's power mel spectrogram
 * and 20 / 2 * log10(mel + eps); the runtime's front-end computes
 * ln(|X| mel + 1e-6) of the magnitude (tf.signal's convention, mco_mfcc.h):
 * the same information up to a scale of 20 / ln 10 and the floor, which
 * the model's input normalisation (mean and standard deviation of the
 * training set) absorbs.
 *
 * What it leaves out: machine ids (the clips of every id in a folder are
 * one set; DCASE trains one model per machine type, which is one folder),
 * windows with a stride other than one frame, and reading on several
 * threads. One clip is held at a time besides the features.
 */
#include "audio_file.h"
#include "class_folder.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MACHINE_MAX_BYTES ((size_t)1 << 32)   /* all the split's windows: 4 GiB */
#define MACHINE_MAX_FILES 100000

static const char *const machine_classes[2] = {"normal", "anomaly"};

/* The label a clip's name gives: 0 normal_*, 1 anomaly_*, -1 neither. */
static int label_of(const char *name)
{
    for (int k = 0; k < 2; k++) {
        size_t n = strlen(machine_classes[k]);
        if (strncmp(name, machine_classes[k], n) == 0 && name[n] == '_') return k;
    }
    return -1;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* The sorted .wav file names of `dir` into *names (malloc'd), *count of them. */
static mco_status list_clips(const char *dir, class_name **names, size_t *count)
{
    *names = NULL;
    *count = 0;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? mco_error(MCO_ERR_NOT_FOUND, "%s: not found (machine sounds are train/ and test/ "
                                           "folders of normal_*.wav and anomaly_*.wav clips)", dir)
                               : mco_error(MCO_ERR_IO, "%s: %s", dir, strerror(errno));
    mco_status st = MCO_OK;
    size_t capacity = 0;
    struct dirent *e;
    while (st == MCO_OK && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || !folder_has_suffix(e->d_name, ".wav")) continue;
        if (label_of(e->d_name) < 0) {
            st = mco_error(MCO_ERR_FORMAT, "%s/%s: a machine-sound clip's name starts with normal_ or anomaly_", dir,
                           e->d_name);
        } else if (*count == MACHINE_MAX_FILES) {
            st = mco_error(MCO_ERR_RANGE, "%s: more than %d clips", dir, MACHINE_MAX_FILES);
        } else if (strlen(e->d_name) >= MCO_CLASS_NAME_MAX) {
            st = mco_error(MCO_ERR_RANGE, "%s: a file name longer than 255 bytes", dir);
        } else {
            if (*count == capacity) {
                size_t grown = capacity ? 2 * capacity : 64;
                class_name *more = realloc(*names, grown * sizeof *more);
                if (!more) {
                    st = mco_error(MCO_ERR_NOMEM, "%s: out of memory listing clips", dir);
                    break;
                }
                *names = more;
                capacity = grown;
            }
            snprintf((*names)[(*count)++], MCO_CLASS_NAME_MAX, "%s", e->d_name);
        }
    }
    closedir(d);
    if (st == MCO_OK && *count == 0)
        st = mco_error(MCO_ERR_FORMAT, "%s: no normal_*.wav or anomaly_*.wav clips", dir);
    if (st != MCO_OK) {
        free(*names);
        *names = NULL;
        *count = 0;
        return st;
    }
    qsort(*names, *count, sizeof **names, compare_names);
    return MCO_OK;
}

mco_status mco_dataset_load_machine(const char *dir, mco_split split, const mco_data_options *opt, mco_dataset *out)
{
    memset(out, 0, sizeof *out);
    mco_audio_frontend a;
    if (opt && opt->audio_set) a = opt->audio;
    else mco_audio_frontend_machine_default(&a);
    mco_mfcc_params p;
    mco_status st = mco_audio_frontend_params(&a, &p);
    if (st != MCO_OK) return st;
    int frames = (int)mco_mfcc_frames(&p), bands = (int)mco_mfcc_frame_values(&p);
    if (p.n_coeffs != 0 || a.window_frames < 1 || a.window_frames > frames)
        return mco_error(MCO_ERR_ARG, "%s: machine sounds need log-mel features cut into windows of 1..%d frames "
                         "(e.g. --audio-features logmel,mels=128,window=5), not %s with windows of %d", dir,
                         frames, p.n_coeffs ? "MFCCs" : "log-mel bands", a.window_frames);
    mco_shape shape = {1, 1, a.window_frames * bands};
    if (opt && opt->shape.h > 0 && (opt->shape.h != shape.h || opt->shape.w != shape.w || opt->shape.c != shape.c))
        return mco_error(MCO_ERR_SHAPE, "%s: machine-sound windows are %dx%dx%d (%d frames x %d log-mel bands) but "
                         "the model takes %dx%dx%d", dir, shape.h, shape.w, shape.c, a.window_frames, bands,
                         opt->shape.h, opt->shape.w, opt->shape.c);

    char split_dir[4096];
    class_name *names = NULL;
    size_t n_clips = 0;
    if ((st = folder_path_join(split_dir, sizeof split_dir, dir, split == MCO_SPLIT_TEST ? "test" : "train")) != MCO_OK)
        return st;
    if ((st = list_clips(split_dir, &names, &n_clips)) != MCO_OK) return st;
    size_t windows = (size_t)(frames - a.window_frames + 1), values = mco_shape_size(shape);
    size_t total = n_clips * windows;
    if (total > MACHINE_MAX_BYTES / (values * sizeof(float)) || total > (size_t)0x7fffffff)
        st = mco_error(MCO_ERR_RANGE, "%s: %zu clips of %zu windows of %zu values are more than %zu GiB", split_dir,
                       n_clips, windows, values, MACHINE_MAX_BYTES >> 30);

    void *tables_buf = NULL, *scratch = NULL;
    int16_t *pcm = NULL;
    float *clip_frames = NULL;
    mco_mfcc_tables tables;
    if (st == MCO_OK) {
        out->samples_f32 = malloc(total * values * sizeof(float));
        out->labels = malloc(total);
        out->groups = malloc(total * sizeof *out->groups);
        out->class_names = malloc(2 * sizeof *out->class_names);
        tables_buf = malloc((size_t)mco_mfcc_tables_get_buffer_size(&p));
        scratch = malloc((size_t)mco_mfcc_get_buffer_size(&p));
        pcm = malloc((size_t)p.n_samples * sizeof *pcm);
        clip_frames = malloc((size_t)frames * (size_t)bands * sizeof *clip_frames);
        if (!out->samples_f32 || !out->labels || !out->groups || !out->class_names || !tables_buf || !scratch ||
            !pcm || !clip_frames)
            st = mco_error(MCO_ERR_NOMEM, "%s: cannot allocate %zu windows of %zu values", split_dir, total, values);
        else if (mco_mfcc_tables_init(&p, tables_buf, &tables) != MCO_RT_OK)
            st = mco_error(MCO_ERR_ARG, "%s: the audio front-end refused its parameters", dir);
    }
    for (size_t i = 0; st == MCO_OK && i < n_clips; i++) {
        char path[4096];
        if ((st = folder_path_join(path, sizeof path, split_dir, names[i])) == MCO_OK)
            st = mco_audio_read(path, p.sample_rate, p.n_samples, pcm);
        if (st == MCO_OK && mco_mfcc_s16(&p, &tables, pcm, scratch, clip_frames) != MCO_RT_OK)
            st = mco_error(MCO_ERR_ARG, "%s: the audio front-end failed", path);
        /* window w of clip i: frames w..w+window_frames-1, contiguous in clip_frames */
        for (size_t w = 0; st == MCO_OK && w < windows; w++) {
            size_t sample = i * windows + w;
            memcpy(out->samples_f32 + sample * values, clip_frames + w * (size_t)bands, values * sizeof(float));
            out->labels[sample] = (uint8_t)label_of(names[i]);
            out->groups[sample] = (int)i;
        }
    }
    free(tables_buf);
    free(scratch);
    free(pcm);
    free(clip_frames);
    free(names);
    if (st != MCO_OK) {
        mco_dataset_free(out);
        return st;
    }
    for (int k = 0; k < 2; k++) snprintf(out->class_names[k], MCO_CLASS_NAME_MAX, "%s", machine_classes[k]);
    out->n = (int)total;
    out->shape = shape;
    out->sample_type = MCO_SAMPLE_F32;
    out->label_kind = MCO_LABELS_CLASS;
    out->n_classes = 2;
    return MCO_OK;
}
