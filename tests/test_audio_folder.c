/*
 * test_audio_folder.c - the WAV reader and the audio folder reader
 * (src/data/audio_file.c, audio_folder.c): writes small WAV files with
 * libsndfile under /tmp and checks
 *   - a 16-bit 16 kHz clip is read sample for sample, zero-padded when
 *     short and cut when long; 24-bit and float files give the same
 *     samples; an 8 kHz or 44.1 kHz sine is resampled by libsamplerate to
 *     the 16 kHz sine (within 1 % of full scale away from the ends);
 *   - each bad file is one error line naming it: stereo, 8-bit, truncated
 *     (data chunk longer than the file), corrupt (not RIFF), no samples,
 *     compressed (IMA ADPCM), and the same from memory (mco_audio_decode);
 *   - the folder: labels are the sorted sub-directories, _background_noise_
 *     is none of them, testing_list.txt chooses the test split (then
 *     validation_list.txt when there is no testing list; the hash split
 *     with neither); augmented copies (time shift, background noise)
 *     follow the originals, labelled alike, differing from them and from
 *     each other, the same for the same seed, none in the test split, a
 *     bad noise file named; each sample's features are the runtime front-end's
 *     (runtime/mco_mfcc.c) of its clip bit for bit; format detection says
 *     audio; a model input of another shape is one line with both shapes;
 *     a bad file in the folder names the file.
 * What it leaves out: hostile bytes (tests/fuzz/fuzz_audio.c), the
 * features' values (test_mfcc.c) and the command line (kws_synth.sh,
 * cli_errors.sh).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sndfile.h>

#include "mco_mfcc.h"
#include "mcuopt/data.h"
#include "test_util.h"

static char root[64];

static void path_of(char *buf, size_t size, const char *rel)
{
    snprintf(buf, size, "%s/%s", root, rel);
}

static void make_dir(const char *rel)
{
    char path[256];
    path_of(path, sizeof path, rel);
    mkdir(path, 0755);
}

/* Writes n samples (floats in [-1, 1)) as a WAV of `format` subtype. */
static void write_wav(const char *rel, int rate, int channels, int subtype, const float *x, sf_count_t frames)
{
    char path[256];
    path_of(path, sizeof path, rel);
    SF_INFO info = {0};
    info.samplerate = rate;
    info.channels = channels;
    info.format = SF_FORMAT_WAV | subtype;
    SNDFILE *f = sf_open(path, SFM_WRITE, &info);
    if (!f || sf_writef_float(f, x, frames) != frames) {
        fprintf(stderr, "cannot write %s: %s\n", path, sf_strerror(f));
        exit(1);
    }
    sf_close(f);
}

/* Writes n 16-bit samples as a WAV of `subtype` (libsndfile converts them
 * exactly to 24-bit). */
static void write_wav_s16(const char *rel, int subtype, const int16_t *x, sf_count_t frames)
{
    char path[256];
    path_of(path, sizeof path, rel);
    SF_INFO info = {0};
    info.samplerate = 16000;
    info.channels = 1;
    info.format = SF_FORMAT_WAV | subtype;
    SNDFILE *f = sf_open(path, SFM_WRITE, &info);
    if (!f || sf_writef_short(f, x, frames) != frames) {
        fprintf(stderr, "cannot write %s: %s\n", path, sf_strerror(f));
        exit(1);
    }
    sf_close(f);
}

static void write_bytes(const char *rel, const void *data, size_t size)
{
    char path[256];
    path_of(path, sizeof path, rel);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
}

/* A sine of `hz` at `rate`, amplitude 0.5, phase from sample `first`. */
static void sine(float *x, int n, double hz, int rate, int first)
{
    for (int i = 0; i < n; i++) x[i] = (float)(0.5 * sin(6.283185307179586 * hz * (first + i) / rate));
}

static int16_t *pattern(int n, unsigned seed)
{
    int16_t *x = malloc((size_t)n * sizeof *x);
    for (int i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        x[i] = (int16_t)((int)(seed >> 16) - 32768);
    }
    return x;
}

static void test_read_file(void)
{
    int16_t clip[16000];
    char path[256];
    int16_t *x = pattern(20000, 7);
    /* exact, padded, cut */
    write_wav_s16("short.wav", SF_FORMAT_PCM_16, x, 12000);
    path_of(path, sizeof path, "short.wav");
    CHECK_OK(mco_audio_read(path, 16000, 16000, clip));
    int same = 1;
    for (int i = 0; i < 12000; i++) same &= clip[i] == x[i];
    for (int i = 12000; i < 16000; i++) same &= clip[i] == 0;
    CHECK(same);
    write_wav_s16("long.wav", SF_FORMAT_PCM_16, x, 20000);
    path_of(path, sizeof path, "long.wav");
    CHECK_OK(mco_audio_read(path, 16000, 16000, clip));
    same = 1;
    for (int i = 0; i < 16000; i++) same &= clip[i] == x[i];
    CHECK(same);
    /* 24-bit and float files: the same samples */
    int16_t other[16000];
    write_wav_s16("pcm24.wav", SF_FORMAT_PCM_24, x, 20000);
    path_of(path, sizeof path, "pcm24.wav");
    CHECK_OK(mco_audio_read(path, 16000, 16000, other));
    CHECK(memcmp(clip, other, sizeof clip) == 0);
    float *xf = malloc(20000 * sizeof *xf);   /* a float file holds the values as they are */
    for (int i = 0; i < 20000; i++) xf[i] = (float)x[i] / 32768.0f;
    write_wav("float.wav", 16000, 1, SF_FORMAT_FLOAT, xf, 20000);
    free(xf);
    path_of(path, sizeof path, "float.wav");
    CHECK_OK(mco_audio_read(path, 16000, 16000, other));
    CHECK(memcmp(clip, other, sizeof clip) == 0);
    free(x);

    /* resampling: 440 Hz at 8 kHz and 44.1 kHz becomes 440 Hz at 16 kHz */
    static const int rates[] = {8000, 44100};
    float *s = malloc(44100 * sizeof *s), want[16000];
    sine(want, 16000, 440.0, 16000, 0);
    for (int r = 0; r < 2; r++) {
        sine(s, rates[r], 440.0, rates[r], 0);
        write_wav("rate.wav", rates[r], 1, SF_FORMAT_PCM_16, s, rates[r]);
        path_of(path, sizeof path, "rate.wav");
        CHECK_OK(mco_audio_read(path, 16000, 16000, clip));
        double worst = 0.0;
        for (int i = 200; i < 15800; i++) worst = fmax(worst, fabs(clip[i] / 32768.0 - want[i]));
        printf("%d Hz -> 16000 Hz: largest error %.2g of full scale\n", rates[r], worst);
        CHECK(worst < 0.01);
    }
    free(s);
}

static void test_bad_files(void)
{
    int16_t clip[16000];
    char path[256];
    float x[3200];
    sine(x, 1600, 300.0, 16000, 0);
    sine(x + 1600, 1600, 300.0, 16000, 0);

    write_wav("stereo.wav", 16000, 2, SF_FORMAT_PCM_16, x, 1600);
    path_of(path, sizeof path, "stereo.wav");
    test_check_error(mco_audio_read(path, 16000, 16000, clip), "2 channels; mcuopt reads mono", "stereo.wav");

    write_wav("u8.wav", 16000, 1, SF_FORMAT_PCM_U8, x, 1600);
    path_of(path, sizeof path, "u8.wav");
    test_check_error(mco_audio_read(path, 16000, 16000, clip), "8-bit samples", "u8.wav");

    write_wav("adpcm.wav", 16000, 1, SF_FORMAT_IMA_ADPCM, x, 1600);
    path_of(path, sizeof path, "adpcm.wav");
    test_check_error(mco_audio_read(path, 16000, 16000, clip), "sample encoding", "adpcm.wav");

    write_wav("empty.wav", 16000, 1, SF_FORMAT_PCM_16, x, 0);
    path_of(path, sizeof path, "empty.wav");
    test_check_error(mco_audio_read(path, 16000, 16000, clip), "no samples", "empty.wav");

    /* truncated: the whole file minus its last 1000 bytes */
    write_wav("whole.wav", 16000, 1, SF_FORMAT_PCM_16, x, 3200);
    path_of(path, sizeof path, "whole.wav");
    FILE *f = fopen(path, "rb");
    static unsigned char bytes[8000];
    size_t size = fread(bytes, 1, sizeof bytes, f);
    fclose(f);
    CHECK(size > 6000);
    write_bytes("cut.wav", bytes, size - 1000);
    path_of(path, sizeof path, "cut.wav");
    test_check_error(mco_audio_read(path, 16000, 16000, clip), "truncated", "cut.wav");
    test_check_error(mco_audio_decode(bytes, size - 1000, "memory.wav", 16000, 16000, clip), "truncated", "memory.wav");
    CHECK_OK(mco_audio_decode(bytes, size, "memory.wav", 16000, 16000, clip));

    /* corrupt: not RIFF at all, and RIFF with a garbage format chunk */
    write_bytes("text.wav", "this is not audio at all, just some words\n", 42);
    path_of(path, sizeof path, "text.wav");
    test_check_error(mco_audio_read(path, 16000, 16000, clip), "not a WAV file", "text.wav");
    memset(bytes + 20, 0xff, 16);
    write_bytes("garbage.wav", bytes, size);
    path_of(path, sizeof path, "garbage.wav");
    test_check_error(mco_audio_read(path, 16000, 16000, clip), "", "garbage.wav");
    path_of(path, sizeof path, "missing.wav");
    test_check_error(mco_audio_read(path, 16000, 16000, clip), "", "missing.wav");
}

/* The folder: yes/ (4 clips), no/ (3 clips, one nested), _background_noise_/. */
static void make_folder(const char *name)
{
    char rel[128];
    snprintf(rel, sizeof rel, "%s", name);
    make_dir(rel);
    static const char *const dirs[] = {"yes", "no", "no/deeper", "_background_noise_"};
    for (int i = 0; i < 4; i++) {
        snprintf(rel, sizeof rel, "%s/%s", name, dirs[i]);
        make_dir(rel);
    }
    float x[16000];
    for (int i = 0; i < 4; i++) {
        sine(x, 16000, 300.0 + 100.0 * i, 16000, 0);
        snprintf(rel, sizeof rel, "%s/yes/y%d.wav", name, i);
        write_wav(rel, 16000, 1, SF_FORMAT_PCM_16, x, 16000);
    }
    for (int i = 0; i < 3; i++) {
        sine(x, 8000, 1000.0 + 50.0 * i, 16000, 0);
        snprintf(rel, sizeof rel, i == 2 ? "%s/no/deeper/n%d.wav" : "%s/no/n%d.wav", name, i);
        write_wav(rel, 16000, 1, SF_FORMAT_PCM_16, x, 8000);
    }
    snprintf(rel, sizeof rel, "%s/_background_noise_/noise.wav", name);
    int16_t *noise = pattern(16000, 3);
    write_wav_s16(rel, SF_FORMAT_PCM_16, noise, 16000);
    free(noise);
    snprintf(rel, sizeof rel, "%s/README.txt", name);
    write_bytes(rel, "not a clip\n", 11);
}

static void test_folder(void)
{
    char dir[256], path[256];
    make_folder("set");
    path_of(dir, sizeof dir, "set");
    mco_data_format format;
    CHECK_OK(mco_data_detect(dir, &format));
    CHECK(format == MCO_DATA_AUDIO);

    /* testing_list.txt (CRLF lines, a blank one) picks the test split */
    write_bytes("set/testing_list.txt", "yes/y1.wav\r\nno/deeper/n2.wav\r\n\r\n", 32);
    mco_data_options opt;
    mco_data_options_default(&opt);
    mco_dataset train, test;
    CHECK_OK(mco_dataset_read(dir, MCO_SPLIT_TRAIN, &opt, &train));
    CHECK_OK(mco_dataset_read(dir, MCO_SPLIT_TEST, &opt, &test));
    CHECK(train.n == 5 && test.n == 2);
    CHECK(train.n_classes == 2 && test.n_classes == 2);
    CHECK(train.class_names && strcmp(train.class_names[0], "no") == 0 && strcmp(train.class_names[1], "yes") == 0);
    CHECK(train.shape.h == 49 && train.shape.w == 10 && train.shape.c == 1);
    CHECK(train.sample_type == MCO_SAMPLE_F32);
    /* sorted by label then path: test = no/deeper/n2.wav, yes/y1.wav */
    CHECK(test.n == 2 && test.labels[0] == 0 && test.labels[1] == 1);

    /* the features are the runtime's of the clip, bit for bit */
    mco_mfcc_params p;
    mco_mfcc_default(&p);
    mco_mfcc_tables t;
    void *tables = malloc((size_t)mco_mfcc_tables_get_buffer_size(&p));
    void *scratch = malloc((size_t)mco_mfcc_get_buffer_size(&p));
    float features[490];
    int16_t clip[16000];
    CHECK(mco_mfcc_tables_init(&p, tables, &t) == MCO_RT_OK);
    path_of(path, sizeof path, "set/yes/y1.wav");
    CHECK_OK(mco_audio_read(path, 16000, 16000, clip));
    CHECK(mco_mfcc_s16(&p, &t, clip, scratch, features) == MCO_RT_OK);
    CHECK(test.n == 2 && memcmp(test.samples_f32 + 490, features, sizeof features) == 0);
    free(tables);
    free(scratch);
    mco_dataset_free(&train);
    mco_dataset_free(&test);

    /* augmentation: two copies of each training clip after the originals,
     * the same for the same seed, none in the test split */
    opt.augment = 2;
    opt.augment_seed = 11;
    mco_dataset again;
    CHECK_OK(mco_dataset_read(dir, MCO_SPLIT_TRAIN, &opt, &train));
    CHECK_OK(mco_dataset_read(dir, MCO_SPLIT_TRAIN, &opt, &again));
    CHECK_OK(mco_dataset_read(dir, MCO_SPLIT_TEST, &opt, &test));
    CHECK(train.n == 15 && again.n == 15 && test.n == 2);
    CHECK(train.n == 15 && memcmp(train.samples_f32, again.samples_f32, 15 * 490 * sizeof(float)) == 0);
    for (int i = 0; train.n == 15 && i < 5; i++) {
        CHECK(train.labels[5 + 2 * i] == train.labels[i] && train.labels[6 + 2 * i] == train.labels[i]);
        CHECK(memcmp(train.samples_f32 + i * 490, train.samples_f32 + (5 + 2 * i) * 490, 490 * sizeof(float)) != 0);
        CHECK(memcmp(train.samples_f32 + (5 + 2 * i) * 490, train.samples_f32 + (6 + 2 * i) * 490,
                     490 * sizeof(float)) != 0);
    }
    mco_dataset_free(&again);
    opt.augment_seed = 12;
    CHECK_OK(mco_dataset_read(dir, MCO_SPLIT_TRAIN, &opt, &again));
    CHECK(again.n == 15 && memcmp(train.samples_f32 + 5 * 490, again.samples_f32 + 5 * 490, 10 * 490 * sizeof(float)) != 0);
    CHECK(again.n == 15 && memcmp(train.samples_f32, again.samples_f32, 5 * 490 * sizeof(float)) == 0);
    mco_dataset_free(&again);
    mco_dataset_free(&train);
    mco_dataset_free(&test);
    /* a bad noise file is named */
    float st_x[800];
    sine(st_x, 400, 300.0, 16000, 0);
    sine(st_x + 400, 400, 300.0, 16000, 0);
    write_wav("set/_background_noise_/stereo.wav", 16000, 2, SF_FORMAT_PCM_16, st_x, 400);
    test_check_error(mco_dataset_read(dir, MCO_SPLIT_TRAIN, &opt, &train), "_background_noise_/stereo.wav", "2 channels");
    path_of(path, sizeof path, "set/_background_noise_/stereo.wav");
    unlink(path);
    opt.augment = 0;

    /* validation_list.txt when there is no testing list */
    path_of(path, sizeof path, "set/testing_list.txt");
    unlink(path);
    write_bytes("set/validation_list.txt", "no/n0.wav\n", 10);
    CHECK_OK(mco_dataset_read(dir, MCO_SPLIT_TEST, &opt, &test));
    CHECK(test.n == 1 && test.labels[0] == 0);
    mco_dataset_free(&test);
    /* neither: the hash split, disjoint and complete */
    path_of(path, sizeof path, "set/validation_list.txt");
    unlink(path);
    opt.test_percent = 50;
    CHECK_OK(mco_dataset_read(dir, MCO_SPLIT_TRAIN, &opt, &train));
    CHECK_OK(mco_dataset_read(dir, MCO_SPLIT_TEST, &opt, &test));
    CHECK(train.n + test.n == 7);
    mco_dataset_free(&train);
    mco_dataset_free(&test);

    /* log-mel features change the shape; a model of another shape is refused */
    opt.audio.n_coeffs = 0;
    CHECK_OK(mco_dataset_read(dir, MCO_SPLIT_TRAIN, &opt, &train));
    CHECK(train.shape.h == 49 && train.shape.w == 40);
    mco_dataset_free(&train);
    mco_data_options_default(&opt);
    opt.shape = (mco_shape){28, 28, 1};
    test_check_error(mco_dataset_read(dir, MCO_SPLIT_TRAIN, &opt, &train), "audio features are 49x10x1", "28x28x1");
    mco_data_options_default(&opt);
    opt.audio.fft_size = 300;
    test_check_error(mco_dataset_read(dir, MCO_SPLIT_TRAIN, &opt, &train), "audio front-end parameters", "FFT 300");

    /* a bad file in the folder is named */
    float x[1600];
    sine(x, 800, 300.0, 16000, 0);
    sine(x + 800, 800, 300.0, 16000, 0);
    write_wav("set/no/stereo.wav", 16000, 2, SF_FORMAT_PCM_16, x, 800);
    write_bytes("set/testing_list.txt", "no/stereo.wav\n", 14);
    mco_data_options_default(&opt);
    CHECK_OK(mco_dataset_read(dir, MCO_SPLIT_TRAIN, &opt, &train));
    CHECK(train.n == 7);
    mco_dataset_free(&train);
    test_check_error(mco_dataset_read(dir, MCO_SPLIT_TEST, &opt, &test), "set/no/stereo.wav", "2 channels");
}

/* Noise mixing: silent clips stay silent under time shifts alone, so their
 * copies differ from them only through the background noise. */
static void test_noise_mixing(void)
{
    char dir[256], path[256];
    make_dir("quiet");
    make_dir("quiet/a");
    make_dir("quiet/b");
    make_dir("quiet/_background_noise_");
    int16_t zeros[16000] = {0};
    write_wav_s16("quiet/a/1.wav", SF_FORMAT_PCM_16, zeros, 16000);
    write_wav_s16("quiet/a/2.wav", SF_FORMAT_PCM_16, zeros, 16000);
    write_wav_s16("quiet/b/1.wav", SF_FORMAT_PCM_16, zeros, 16000);
    write_wav_s16("quiet/b/2.wav", SF_FORMAT_PCM_16, zeros, 16000);
    write_bytes("quiet/testing_list.txt", "b/2.wav\n", 8);
    int16_t *noise = pattern(48000, 5);
    write_wav_s16("quiet/_background_noise_/noise.wav", SF_FORMAT_PCM_16, noise, 48000);
    free(noise);
    path_of(dir, sizeof dir, "quiet");
    mco_data_options opt;
    mco_data_options_default(&opt);
    opt.augment = 5;
    mco_dataset ds;
    for (int with_noise = 1; with_noise >= 0; with_noise--) {
        CHECK_OK(mco_dataset_read(dir, MCO_SPLIT_TRAIN, &opt, &ds));
        CHECK(ds.n == 18);
        int differ = 0;
        for (int i = 3; ds.n == 18 && i < 18; i++) differ += memcmp(ds.samples_f32, ds.samples_f32 + i * 490, 490 * sizeof(float)) != 0;
        printf("%s noise: %d of 15 copies of silent clips differ from them\n", with_noise ? "with" : "without", differ);
        CHECK(with_noise ? differ >= 6 : differ == 0);   /* 15 copies, each noisy with probability 0.8 */
        mco_dataset_free(&ds);
        path_of(path, sizeof path, "quiet/_background_noise_/noise.wav");
        unlink(path);
    }
}

int main(void)
{
    snprintf(root, sizeof root, "/tmp/mco_audio_XXXXXX");
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    test_read_file();
    test_bad_files();
    test_folder();
    test_noise_mixing();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    CHECK(system(cmd) == 0);
    TEST_MAIN_END();
}
