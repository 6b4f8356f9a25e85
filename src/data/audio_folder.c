/*
 * audio_folder.c - a data set of audio features from a folder of WAV
 * files, one sub-directory per label (the Speech Commands layout; data.h
 * says which files go to which split): the folder is listed
 * (class_folder.c), then each file of the split is read as a clip
 * (audio_file.c) and turned into features by the MCU runtime's front-end
 * (runtime/mco_mfcc.c), so that training and evaluation see exactly the
 * features the chip computes. One clip is held at a time besides the
 * features.
 *
 * Augmentation (data.h) makes its copies of each training clip right
 * after reading it, from the _background_noise_ files read whole once.
 *
 * What it leaves out: augmentation per epoch (the copies are fixed),
 * and reading on several threads.
 */
#include "audio_file.h"
#include "class_folder.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mcuopt/audio_frontend.h"
#include "mcuopt/rng.h"
#include "mco_mfcc.h"

#define AUDIO_MAX_BYTES ((size_t)1 << 32)     /* all the split's features: 4 GiB */
#define AUDIO_LIST_MAX_BYTES (64u << 20)      /* a testing_list.txt / validation_list.txt */
#define AUDIO_NOISE_MAX_FILES 64
#define AUDIO_NOISE_MAX_SECONDS 60
#define AUDIO_SHIFT_MS 100                    /* the recipe's time_shift_ms */
#define AUDIO_NOISE_PROBABILITY 0.8f          /* background_frequency */
#define AUDIO_NOISE_VOLUME 0.1f               /* background_volume_range */

/* ---- The split lists (testing_list.txt, validation_list.txt) -------------------- */

typedef struct {
    char **paths;     /* sorted */
    size_t n;
    char *text;       /* the file, lines cut in place */
} path_list;

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void path_list_free(path_list *l)
{
    free(l->paths);
    free(l->text);
    memset(l, 0, sizeof *l);
}

/* Reads dir/name into l if it exists (l->n = 0 and MCO_OK if it does not). */
static mco_status path_list_read(const char *dir, const char *name, path_list *l)
{
    char path[4096];
    memset(l, 0, sizeof *l);
    mco_status st = folder_path_join(path, sizeof path, dir, name);
    if (st != MCO_OK) return st;
    FILE *f = fopen(path, "rb");
    if (!f) return errno == ENOENT ? MCO_OK : mco_error(MCO_ERR_IO, "%s: %s", path, strerror(errno));
    struct stat s;
    if (fstat(fileno(f), &s) != 0 || !S_ISREG(s.st_mode) || s.st_size > AUDIO_LIST_MAX_BYTES) {
        fclose(f);
        return mco_error(MCO_ERR_FORMAT, "%s: not a regular file of at most %u MB", path, AUDIO_LIST_MAX_BYTES >> 20);
    }
    size_t size = (size_t)s.st_size;
    l->text = malloc(size + 1);
    l->paths = malloc((size / 2 + 1) * sizeof *l->paths);
    if (!l->text || !l->paths) st = mco_error(MCO_ERR_NOMEM, "%s: out of memory", path);
    else if (fread(l->text, 1, size, f) != size) st = mco_error(MCO_ERR_IO, "%s: read error", path);
    fclose(f);
    if (st != MCO_OK) {
        path_list_free(l);
        return st;
    }
    l->text[size] = '\0';
    for (char *line = l->text, *next; line < l->text + size; line = next) {
        char *end = memchr(line, '\n', (size_t)(l->text + size - line));
        next = end ? end + 1 : l->text + size;
        if (!end) end = l->text + size;
        if (end > line && end[-1] == '\r') end--;
        *end = '\0';
        if (*line) l->paths[l->n++] = line;   /* a line of one byte at least, with its newline: size / 2 + 1 */
    }
    qsort(l->paths, l->n, sizeof *l->paths, compare_strings);
    return MCO_OK;
}

static int in_test_list(void *user, const char *rel)
{
    const path_list *l = user;
    return bsearch(&rel, l->paths, l->n, sizeof *l->paths, compare_strings) != NULL;
}

/* ---- Augmentation --------------------------------------------------------------- */

typedef struct {
    int16_t *samples[AUDIO_NOISE_MAX_FILES];
    size_t length[AUDIO_NOISE_MAX_FILES];
    int n;
} noise_set;

static int compare_names(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void noise_free(noise_set *noise)
{
    for (int i = 0; i < noise->n; i++) free(noise->samples[i]);
    memset(noise, 0, sizeof *noise);
}

/* The .wav files of dir/_background_noise_ (none if it does not exist),
 * each read whole at `rate` up to AUDIO_NOISE_MAX_SECONDS, in sorted order
 * (readdir's order differs between file systems). */
static mco_status noise_read(const char *dir, int rate, noise_set *noise)
{
    char noise_dir[4096];
    memset(noise, 0, sizeof *noise);
    mco_status st = folder_path_join(noise_dir, sizeof noise_dir, dir, "_background_noise_");
    if (st != MCO_OK) return st;
    DIR *d = opendir(noise_dir);
    if (!d) return MCO_OK;
    class_name *names = malloc(AUDIO_NOISE_MAX_FILES * sizeof *names);
    int count = 0;
    struct dirent *e;
    if (!names) st = mco_error(MCO_ERR_NOMEM, "%s: out of memory", noise_dir);
    while (st == MCO_OK && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || !folder_has_suffix(e->d_name, ".wav")) continue;
        if (count == AUDIO_NOISE_MAX_FILES)
            st = mco_error(MCO_ERR_RANGE, "%s: more than %d noise files", noise_dir, AUDIO_NOISE_MAX_FILES);
        else
            snprintf(names[count++], MCO_CLASS_NAME_MAX, "%s", e->d_name);
    }
    closedir(d);
    if (st == MCO_OK) qsort(names, (size_t)count, sizeof *names, compare_names);
    for (int i = 0; st == MCO_OK && i < count; i++) {
        char path[4096];
        if ((st = folder_path_join(path, sizeof path, noise_dir, names[i])) == MCO_OK)
            st = mco_audio_read_whole(path, rate, (size_t)rate * AUDIO_NOISE_MAX_SECONDS, &noise->samples[i],
                                      &noise->length[i]);
        if (st == MCO_OK) noise->n++;
    }
    free(names);
    if (st != MCO_OK) noise_free(noise);
    return st;
}

/* One augmented copy of clip (n samples at `rate`) into out. */
static void augment_clip(const int16_t *clip, int n, int rate, const noise_set *noise, mco_rng *rng, int16_t *out)
{
    int max_shift = rate * AUDIO_SHIFT_MS / 1000;
    int shift = (int)mco_rng_below(rng, (uint64_t)(2 * max_shift + 1)) - max_shift;
    for (int i = 0; i < n; i++) {
        int from = i - shift;
        out[i] = from >= 0 && from < n ? clip[from] : 0;
    }
    if (noise->n == 0 || !(mco_rng_uniform(rng) < AUDIO_NOISE_PROBABILITY)) return;
    int which = (int)mco_rng_below(rng, (uint64_t)noise->n);
    float volume = mco_rng_uniform(rng) * AUDIO_NOISE_VOLUME;
    size_t length = noise->length[which];
    size_t start = length > (size_t)n ? (size_t)mco_rng_below(rng, (uint64_t)(length - (size_t)n + 1)) : 0;
    for (int i = 0; i < n && start + (size_t)i < length; i++) {
        float v = (float)out[i] + volume * (float)noise->samples[which][start + (size_t)i];
        out[i] = (int16_t)(v > 32767.0f ? 32767 : v < -32768.0f ? -32768 : (int)v);
    }
}

/* ---- Reading the folder --------------------------------------------------------- */

static int has_wav_extension(const char *name)
{
    return folder_has_suffix(name, ".wav");
}

/* The files of the split, in the data set's order (the test list read and
 * freed here); *classes is malloc'd (NULL on failure). */
static mco_status list_split(const char *dir, mco_split split, const mco_data_options *opt, char *root,
                             size_t root_size, class_name **classes, int *n_classes, folder_list *list)
{
    /* the test split's list: testing_list.txt, else validation_list.txt */
    path_list test_list;
    mco_status st = path_list_read(dir, "testing_list.txt", &test_list);
    if (st != MCO_OK) return st;
    if (!test_list.text && (st = path_list_read(dir, "validation_list.txt", &test_list)) != MCO_OK) return st;
    const folder_spec spec = {has_wav_extension, "WAV files",
                              "an audio folder holds one sub-directory of WAV files per label", "_background_noise_",
                              test_list.text ? in_test_list : NULL, &test_list};
    st = folder_list_split(dir, split, opt->test_percent, &spec, root, root_size, classes, n_classes, list);
    path_list_free(&test_list);
    if (st == MCO_OK && list->n == 0)
        st = mco_error(MCO_ERR_FORMAT, "%s: no WAV files in the %s split", dir,
                       split == MCO_SPLIT_TEST ? "test" : "training");
    if (st != MCO_OK) {
        free(*classes);
        *classes = NULL;
    }
    return st;
}

mco_status mco_audio_read_clips(const char *dir, mco_split split, const mco_data_options *opt, int max_clips,
                                int16_t **pcm, int *n)
{
    *pcm = NULL;
    *n = 0;
    mco_data_options defaults;
    if (!opt) {
        mco_data_options_default(&defaults);
        opt = &defaults;
    }
    mco_mfcc_params p;
    mco_status st = mco_audio_frontend_params(&opt->audio, &p);
    if (st != MCO_OK) return st;
    if (max_clips < 1) return mco_error(MCO_ERR_ARG, "%s: %d clips asked for", dir, max_clips);
    char root[4096];
    class_name *classes = NULL;
    int n_classes = 0;
    folder_list list = {0};
    if ((st = list_split(dir, split, opt, root, sizeof root, &classes, &n_classes, &list)) != MCO_OK) return st;
    free(classes);
    int count = list.n < (size_t)max_clips ? (int)list.n : max_clips;
    int16_t *clips = malloc((size_t)count * (size_t)p.n_samples * sizeof *clips);
    if (!clips) st = mco_error(MCO_ERR_NOMEM, "%s: cannot allocate %d clips", dir, count);
    for (int i = 0; st == MCO_OK && i < count; i++) {
        char path[4096];
        size_t file = (size_t)i * list.n / (size_t)count;   /* spread over the split (it is sorted by label) */
        if ((st = folder_path_join(path, sizeof path, root, list.items[file].path)) == MCO_OK)
            st = mco_audio_read(path, p.sample_rate, p.n_samples, clips + (size_t)i * (size_t)p.n_samples);
    }
    folder_list_free(&list);
    if (st != MCO_OK) {
        free(clips);
        return st;
    }
    *pcm = clips;
    *n = count;
    return MCO_OK;
}

mco_status mco_dataset_load_audio(const char *dir, mco_split split, const mco_data_options *opt, mco_dataset *out)
{
    memset(out, 0, sizeof *out);
    mco_data_options defaults;
    if (!opt) {
        mco_data_options_default(&defaults);
        opt = &defaults;
    }
    mco_mfcc_params p;
    mco_status st = mco_audio_frontend_params(&opt->audio, &p);
    if (st != MCO_OK) return st;
    if (opt->audio.window_frames)
        return mco_error(MCO_ERR_ARG, "%s: windows of frames (window=%d) are for machine sounds, not audio folders",
                         dir, opt->audio.window_frames);
    mco_shape shape = {(int)mco_mfcc_frames(&p), (int)mco_mfcc_frame_values(&p), 1};
    const char *what = p.n_coeffs ? "MFCCs" : "log-mel bands";
    if (opt->shape.h > 0 && (opt->shape.h != shape.h || opt->shape.w != shape.w || opt->shape.c != shape.c))
        return mco_error(MCO_ERR_SHAPE, "%s: audio features are %dx%dx%d (%d frames x %d %s) but the model takes "
                         "%dx%dx%d", dir, shape.h, shape.w, shape.c, shape.h, shape.w, what, opt->shape.h,
                         opt->shape.w, opt->shape.c);

    char root[4096];
    class_name *classes = NULL;
    int n_classes = 0;
    folder_list list = {0};
    st = list_split(dir, split, opt, root, sizeof root, &classes, &n_classes, &list);
    size_t values = mco_shape_size(shape);
    size_t copies = split == MCO_SPLIT_TRAIN && opt->augment > 0 ? (size_t)opt->augment : 0;
    if (st == MCO_OK && opt->augment > 100)
        st = mco_error(MCO_ERR_ARG, "%s: %d augmented copies per clip (at most 100)", dir, opt->augment);
    if (st == MCO_OK && list.n * (copies + 1) > AUDIO_MAX_BYTES / (values * sizeof(float)))
        st = mco_error(MCO_ERR_RANGE, "%s: %zu clips of %dx%d features are more than %zu GiB", dir, list.n, shape.h,
                       shape.w, AUDIO_MAX_BYTES >> 30);

    void *tables_buf = NULL, *scratch = NULL;
    int16_t *pcm = NULL, *copy = NULL;
    mco_mfcc_tables tables;
    noise_set noise = {0};
    mco_rng rng;
    mco_rng_seed(&rng, opt->augment_seed);
    size_t total = list.n * (copies + 1);
    if (st == MCO_OK && copies) st = noise_read(dir, p.sample_rate, &noise);
    if (st == MCO_OK) {
        out->samples_f32 = malloc(total * values * sizeof(float));
        out->labels = malloc(total);
        tables_buf = malloc((size_t)mco_mfcc_tables_get_buffer_size(&p));
        scratch = malloc((size_t)mco_mfcc_get_buffer_size(&p));
        pcm = malloc((size_t)p.n_samples * sizeof *pcm);
        copy = malloc((size_t)p.n_samples * sizeof *copy);
        if (!out->samples_f32 || !out->labels || !tables_buf || !scratch || !pcm || !copy)
            st = mco_error(MCO_ERR_NOMEM, "%s: cannot allocate %zu clips' features", dir, total);
        else if (mco_mfcc_tables_init(&p, tables_buf, &tables) != MCO_RT_OK)
            st = mco_error(MCO_ERR_ARG, "%s: the audio front-end refused its parameters", dir);
    }
    for (size_t i = 0; st == MCO_OK && i < list.n; i++) {
        char path[4096];
        if ((st = folder_path_join(path, sizeof path, root, list.items[i].path)) == MCO_OK)
            st = mco_audio_read(path, p.sample_rate, p.n_samples, pcm);
        if (st == MCO_OK && mco_mfcc_s16(&p, &tables, pcm, scratch, out->samples_f32 + i * values) != MCO_RT_OK)
            st = mco_error(MCO_ERR_ARG, "%s: the audio front-end failed", path);
        out->labels[i] = (uint8_t)list.items[i].label;
        /* copy k of clip i at list.n + i * copies + k */
        for (size_t k = 0; st == MCO_OK && k < copies; k++) {
            size_t slot = list.n + i * copies + k;
            augment_clip(pcm, p.n_samples, p.sample_rate, &noise, &rng, copy);
            if (mco_mfcc_s16(&p, &tables, copy, scratch, out->samples_f32 + slot * values) != MCO_RT_OK)
                st = mco_error(MCO_ERR_ARG, "%s: the audio front-end failed", path);
            out->labels[slot] = (uint8_t)list.items[i].label;
        }
    }
    noise_free(&noise);
    free(tables_buf);
    free(scratch);
    free(pcm);
    free(copy);
    folder_list_free(&list);
    if (st != MCO_OK) {
        free(classes);
        mco_dataset_free(out);
        return st;
    }
    out->n = (int)total;
    out->shape = shape;
    out->sample_type = MCO_SAMPLE_F32;
    out->label_kind = MCO_LABELS_CLASS;
    out->n_classes = n_classes;
    out->class_names = classes;
    return MCO_OK;
}
