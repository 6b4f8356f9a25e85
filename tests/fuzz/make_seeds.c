/*
 * make_seeds.c - writes the seed corpus of the fuzz harnesses: small valid
 * files of every loaded format, made by the library's own writers, into
 * OUT/<harness>/ (run by tests/fuzz/make_seeds.sh, which also copies the
 * MCU profiles of targets/). Everything is deterministic: fixed seeds, and
 * the trial store's times set to fixed values.
 *
 *   fuzz_make_seeds OUT targets/calibration/resource-model.json
 *
 * Seeds are kept to a few KB per harness: tiny models (6x6x1 input) rather
 * than real ones, so each fuzzer execution stays cheap; the real files'
 * features (every layer type, explicit padding, BatchNorm, every deploy
 * format, gzip) are all present.
 *
 * What it leaves out: crash reproducers (libFuzzer writes those; they are
 * added to the corpus by hand, named regress-*).
 */
#include <errno.h>
#include <sndfile.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include <stb/stb_image_write.h>

#include "fuzz_seeds.h"
#include "mcuopt/arch.h"
#include "mcuopt/codegen.h"
#include "mcuopt/data.h"
#include "mcuopt/deploy.h"
#include "mcuopt/model_file.h"
#include "mcuopt/onnx.h"
#include "mcuopt/pipeline.h"
#include "mcuopt/resource.h"
#include "mcuopt/trials.h"

static const char *out_dir;

static const char bn_arch[] =
    "input 5 5 2\n"
    "classes 3\n"
    "conv2d filters=3 kernel=3 stride=2 padding=same\n"
    "batchnorm\n"
    "relu\n"
    "dropout rate=0.25\n"
    "global_avgpool\n"
    "dense units=classes\n";

/* A reconstruction model (the LOSS chunk of .mco files, mcuopt.loss in ONNX). */
static const char ae_arch[] =
    "input 1 1 6\n"
    "loss mse\n"
    "dense units=3\n"
    "batchnorm\n"
    "relu\n"
    "dense units=6\n";

/* The element-wise activations (their ACTP chunks in .mco, LUT_S8 in int8),
 * an average pool counting its padding (CPAD, AVG_POOL_PAD_S8) and a concat
 * of two differently quantized tensors (CONCAT_S8). */
static const char act_arch[] =
    "input 4 4 1\n"
    "classes 3\n"
    "c = conv2d filters=2 kernel=3 padding=same\n"
    "leaky_relu alpha=0.1\n"
    "hard_swish\n"
    "sigmoid\n"
    "p = avgpool2d pool=3 stride=1 padding=same count_pad=1\n"
    "concat inputs=p,c\n"
    "flatten\n"
    "dense units=4\n"
    "tanh\n"
    "hard_sigmoid alpha=0.2 beta=0.5\n"
    "dense units=classes\n";

/* The general convolution (conv16): a depthwise conv with a depth
 * multiplier and a dilation, a grouped conv (their CGEN chunks in .mco,
 * CONV_GENERAL_S8 in int8). */
static const char general_arch[] =
    "input 5 5 2\n"
    "classes 3\n"
    "depthwise_conv2d kernel=2 multiplier=2 dilation=2x1 padding=same\n"
    "conv2d filters=4 kernel=3 groups=2\n"
    "relu\n"
    "flatten\n"
    "dense units=classes\n";

/* A model trained on audio: its front-end (the mfcc chunk of .mco files)
 * gives 4 frames x 4 MFCCs of a 256-sample clip at 8 kHz. */
static const char kws_arch[] =
    "input 4 4 1\n"
    "classes 3\n"
    "flatten\n"
    "dense units=classes\n";

static void die(const char *what)
{
    const char *why = mco_last_error();
    fprintf(stderr, "make_seeds: %s%s%s\n", what, why[0] ? ": " : "", why);
    exit(1);
}

static void check(mco_status st, const char *what)
{
    if (st != MCO_OK) die(what);
}

/* OUT/<harness>/<name>, creating OUT/<harness>. */
static const char *seed_path(const char *harness, const char *name)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s/%s", out_dir, harness);
    if (mkdir(path, 0755) != 0 && errno != EEXIST) die(path);
    snprintf(path, sizeof path, "%s/%s/%s", out_dir, harness, name);
    return path;
}

static void write_seed(const char *harness, const char *name, const void *bytes, size_t size)
{
    const char *path = seed_path(harness, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(bytes, 1, size, f) != size || fclose(f) != 0) die(path);
}

static void write_seed_gz(const char *harness, const char *name, const void *bytes, size_t size)
{
    const char *path = seed_path(harness, name);
    gzFile gz = gzopen(path, "wb9");
    if (!gz || gzwrite(gz, bytes, (unsigned)size) != (int)size || gzclose(gz) != Z_OK) die(path);
}

static void write_text_seed(const char *harness, const char *name, const char *text)
{
    write_seed(harness, name, text, strlen(text));
}

/* ---- models ---------------------------------------------------------------- */

static void make_model(const char *text, mco_model *m)
{
    check(mco_arch_parse(text, "seed", (mco_shape){0, 0, 0}, 0, m), "parsing a seed architecture");
    check(mco_model_alloc_params(m), "allocating parameters");
    mco_model_init_params(m, 42);
}

/* The tiny model with explicit, asymmetric padding on its first layer (as
 * ONNX imports make): exercises the PADS chunk. */
static void make_padded_model(mco_model *m)
{
    check(mco_arch_parse(fuzz_tiny_arch, "seed", (mco_shape){0, 0, 0}, 0, m), "parsing the tiny architecture");
    mco_layer *l = &m->layers[0];
    l->padding = MCO_PADDING_EXPLICIT;
    l->pad_top = 2, l->pad_left = 0, l->pad_bottom = 0, l->pad_right = 1;
    check(mco_model_infer_shapes(m), "shapes of the padded model");
    check(mco_model_alloc_params(m), "allocating parameters");
    mco_model_init_params(m, 43);
}

static void save_model_seed(const char *name, const mco_model *m)
{
    uint8_t *bytes;
    size_t size;
    check(mco_model_serialize(m, &bytes, &size), name);
    write_seed("model", name, bytes, size);
    free(bytes);
    check(mco_onnx_serialize_model(m, &bytes, &size), name);
    char onnx_name[64];
    snprintf(onnx_name, sizeof onnx_name, "%.*s.onnx", (int)(strlen(name) - 4), name);
    write_seed("onnx", onnx_name, bytes, size);
    free(bytes);
}

/* Eight synthetic images of the model's input shape for int8 calibration. */
static void calibration_set(const mco_model *m, mco_dataset *ds)
{
    memset(ds, 0, sizeof *ds);
    ds->n = 8;
    ds->shape = m->input_shape;
    ds->n_classes = m->n_classes;
    size_t size = mco_shape_size(m->input_shape);
    ds->samples_u8 = malloc((size_t)ds->n * size);
    ds->labels = malloc((size_t)ds->n);
    if (!ds->samples_u8 || !ds->labels) die("out of memory");
    for (size_t i = 0; i < (size_t)ds->n * size; i++) ds->samples_u8[i] = (uint8_t)((i * 37u + 11u) & 0xFFu);
    for (int i = 0; i < ds->n; i++) ds->labels[i] = (uint8_t)(i % m->n_classes);
}

static void save_deploy_seed(const mco_model *m, const char *mode, const char *name)
{
    mco_deploy_model dm;
    if (strcmp(mode, "float32") == 0) {
        check(mco_deploy_from_float(m, &dm), name);
    } else {
        mco_quant_options opt;
        mco_quant_options_default(&opt);
        check(mco_quant_mode_parse(mode, &opt), mode);
        mco_dataset calib;
        calibration_set(m, &calib);
        check(mco_quantize(m, &calib, &opt, &dm), name);
        mco_dataset_free(&calib);
    }
    mco_plan plan;   /* a seed that does not plan would leave the harness's plan and run untested */
    check(mco_plan_build(&dm, NULL, &plan), name);
    mco_plan_free(&plan);
    check(mco_deploy_save(&dm, seed_path("deploy", name)), name);
    if (strcmp(mode, "int8") == 0) {   /* the QDQ export, as another importer would see it */
        uint8_t *bytes;
        size_t size;
        check(mco_onnx_serialize_deploy(&dm, &bytes, &size), name);
        write_seed("onnx", "tiny-int8-qdq.onnx", bytes, size);
        free(bytes);
    }
    mco_deploy_free(&dm);
}

static void make_model_seeds(void)
{
    mco_model tiny, bn, padded, ae, act, kws;
    make_model(fuzz_tiny_arch, &tiny);
    make_model(kws_arch, &kws);
    kws.has_frontend = 1;
    kws.frontend = (mco_audio_frontend){8000, 256, 64, 64, 64, 8, 4, 20.0f, 4000.0f, 0};
    make_model(bn_arch, &bn);
    make_model(ae_arch, &ae);
    make_model(act_arch, &act);
    make_padded_model(&padded);
    save_model_seed("tiny.mco", &tiny);
    save_model_seed("batchnorm.mco", &bn);
    save_model_seed("padded.mco", &padded);
    save_model_seed("autoencoder.mco", &ae);
    save_model_seed("activations.mco", &act);
    save_model_seed("kws-frontend.mco", &kws);

    static const char *const modes[] = {"float32", "float16", "int8-weights", "int8", "int4"};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        char name[64];
        snprintf(name, sizeof name, "tiny-%s.mcq", modes[i]);
        save_deploy_seed(&tiny, modes[i], name);
    }
    save_deploy_seed(&act, "int8", "activations-int8.mcq");
    save_deploy_seed(&bn, "int8", "batchnorm-int8.mcq");
    save_deploy_seed(&padded, "int4-weights", "padded-int4-weights.mcq");
    save_deploy_seed(&ae, "int8", "autoencoder-int8.mcq");
    save_deploy_seed(&kws, "int8", "kws-frontend-int8.mcq");
    mco_model_free(&ae);
    mco_model_free(&tiny);
    mco_model_free(&bn);
    mco_model_free(&padded);
    mco_model_free(&act);
    mco_model_free(&kws);

    mco_model general;   /* conv16 */
    make_model(general_arch, &general);
    save_model_seed("general-conv.mco", &general);
    save_deploy_seed(&general, "int8", "general-conv-int8.mcq");
    mco_model_free(&general);
}

/* ---- data sets ---------------------------------------------------------------- */

/* An IDX file of unsigned bytes: magic, big-endian dims, values i * 7. */
static size_t idx_bytes(const uint32_t *dims, int ndim, uint8_t *buf, size_t cap)
{
    size_t n = 4, values = 1;
    buf[0] = 0, buf[1] = 0, buf[2] = 0x08, buf[3] = (uint8_t)ndim;
    for (int d = 0; d < ndim; d++, n += 4) {
        for (int b = 0; b < 4; b++) buf[n + (size_t)b] = (uint8_t)(dims[d] >> (24 - 8 * b));
        values *= dims[d];
    }
    if (n + values > cap) die("IDX seed too large");
    for (size_t i = 0; i < values; i++) buf[n + i] = (uint8_t)(i * 7u);
    return n + values;
}

static void make_data_seeds(void)
{
    uint8_t buf[4096];
    static const uint32_t images[3] = {3, 4, 4}, labels[1] = {3}, matrix[2] = {2, 5}, four[4] = {2, 2, 2, 3};
    size_t n = idx_bytes(images, 3, buf, sizeof buf);
    write_seed("idx", "images-idx3-ubyte", buf, n);
    write_seed_gz("idx", "images-idx3-ubyte.gz", buf, n);
    n = idx_bytes(labels, 1, buf, sizeof buf);
    write_seed("idx", "labels-idx1-ubyte", buf, n);
    write_seed_gz("idx", "labels-idx1-ubyte.gz", buf, n);
    n = idx_bytes(matrix, 2, buf, sizeof buf);
    write_seed("idx", "matrix-idx2-ubyte", buf, n);
    n = idx_bytes(four, 4, buf, sizeof buf);
    write_seed_gz("idx", "four-idx4-ubyte.gz", buf, n);

    /* CIFAR-10: records of a label byte and a 3x32x32 image (CHW). */
    static uint8_t records[2 * 3073];
    for (int r = 0; r < 2; r++) {
        records[r * 3073] = (uint8_t)(r ? 9 : 3);
        for (int i = 0; i < 3072; i++) records[r * 3073 + 1 + i] = (uint8_t)((i / 32 + i % 32 * 3 + r) & 0xFF);
    }
    write_seed("cifar10", "one-record.bin", records, 3073);
    write_seed("cifar10", "two-records.bin", records, sizeof records);
}

/* ---- issue 15's readers: .npy, CSV, images ------------------------------------ */

/* A .npy file as numpy.save writes it (format 1.0, header padded to 64 bytes). */
static void write_npy_seed_to(const char *harness, const char *name, const char *descr, const char *shape,
                              const void *data, size_t size)
{
    uint8_t buf[512];
    char header[128];
    int n = snprintf(header, sizeof header, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shape);
    size_t len = (size_t)n + 1;
    while ((10 + len) % 64) len++;
    if (10 + len + size > sizeof buf) die("npy seed too large");
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (uint8_t)len;
    buf[9] = (uint8_t)(len >> 8);
    memset(buf + 10, ' ', len);
    memcpy(buf + 10, header, (size_t)n);
    buf[10 + len - 1] = '\n';
    memcpy(buf + 10 + len, data, size);
    write_seed(harness, name, buf, 10 + len + size);
}

static void write_npy_seed(const char *name, const char *descr, const char *shape, const void *data, size_t size)
{
    write_npy_seed_to("npy", name, descr, shape, data, size);
}

static void make_reader_seeds(void)
{
    static const float features[3][2] = {{0.5f, -1.0f}, {2.0f, 3.25f}, {-4.0f, 1e-3f}};
    static const uint8_t pixels[2][2][2] = {{{0, 50}, {100, 150}}, {{200, 250}, {1, 2}}};
    static const int64_t labels[4] = {0, 1, 2, 1};
    static const int8_t signed_values[2][3] = {{-128, 0, 127}, {1, -1, 5}};
    write_npy_seed("f32-3x2.npy", "<f4", "(3, 2)", features, sizeof features);
    write_npy_seed("u8-2x2x2.npy", "|u1", "(2, 2, 2)", pixels, sizeof pixels);
    write_npy_seed("i64-labels.npy", "<i8", "(4,)", labels, sizeof labels);
    write_npy_seed("i8-2x3.npy", "|i1", "(2, 3)", signed_values, sizeof signed_values);

    write_text_seed("csv", "header.csv", "a,b,label\n1,2,0\n3.5,-4,1\n5,6e2,1\n0,0,0\n");
    write_text_seed("csv", "names.csv", "\xEF\xBB\xBFx,\"y z\",label\r\n1,2,cat\r\n3,4,\"dog, big\"\r\n5,6,cat\r\n");
    write_text_seed("csv", "no-header.csv", "0,1.5,2\n1,3,4\n2,5,6\n");

    /* 4x3 images: RGB PNG, grey PNG, RGB JPEG, RGB BMP, RGBA PNG. */
    uint8_t rgba[4 * 3 * 4];
    for (size_t i = 0; i < sizeof rgba; i++) rgba[i] = (uint8_t)(i * 29u + 7u);
    uint8_t rgb[4 * 3 * 3];
    for (size_t i = 0; i < sizeof rgb; i++) rgb[i] = rgba[i];
    if (!stbi_write_png(seed_path("image", "rgb.png"), 4, 3, 3, rgb, 12) ||
        !stbi_write_png(seed_path("image", "grey.png"), 4, 3, 1, rgb, 4) ||
        !stbi_write_png(seed_path("image", "rgba.png"), 4, 3, 4, rgba, 16) ||
        !stbi_write_jpg(seed_path("image", "rgb.jpg"), 4, 3, 3, rgb, 90) ||
        !stbi_write_bmp(seed_path("image", "rgb.bmp"), 4, 3, 3, rgb))
        die("image seeds");
}

/* ---- WAV files (fuzz_audio) ----------------------------------------------------- */

/* A WAV of `frames` samples of a 200 Hz-ish triangle at `rate`. */
static void write_wav_seed(const char *name, int rate, int channels, int format, int frames)
{
    SF_INFO info = {0};
    info.samplerate = rate;
    info.channels = channels;
    info.format = format;
    const char *path = seed_path("audio", name);
    SNDFILE *f = sf_open(path, SFM_WRITE, &info);
    if (!f) die(path);
    for (int i = 0; i < frames; i++) {
        short v[2];
        int phase = (i * 200 * 4 / rate) % 4;
        v[0] = v[1] = (short)((phase < 2 ? i % (rate / 200 + 1) : -(i % (rate / 200 + 1))) * 50);
        if (sf_writef_short(f, v, 1) != 1) die(path);
    }
    sf_close(f);
}

/* Small WAV files of every kind the reader takes or refuses by name: 16-bit
 * at the model's rate, at 8 and 44.1 kHz (resampled), 24-bit, float,
 * WAVE_FORMAT_EXTENSIBLE, the refused stereo and 8-bit ones, and a machine
 * sound's clip (DCASE's name; 2,048 samples, longer than one 1024-sample
 * frame of the machine-sound features). */
static void make_audio_seeds(void)
{
    write_wav_seed("pcm16-16k.wav", 16000, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 800);
    write_wav_seed("pcm16-8k.wav", 8000, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 400);
    write_wav_seed("pcm16-44k.wav", 44100, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 1200);
    write_wav_seed("pcm24-16k.wav", 16000, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_24, 300);
    write_wav_seed("float-16k.wav", 16000, 1, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 300);
    write_wav_seed("wavex-16k.wav", 16000, 1, SF_FORMAT_WAVEX | SF_FORMAT_PCM_16, 300);
    write_wav_seed("stereo-16k.wav", 16000, 2, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 200);
    write_wav_seed("u8-16k.wav", 16000, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_U8, 200);
    write_wav_seed("normal_id_00_00000000.wav", 16000, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 2048);
}

/* ---- texts -------------------------------------------------------------------- */

static void make_text_seeds(void)
{
    write_text_seed("arch", "tiny.arch", fuzz_tiny_arch);
    write_text_seed("arch", "batchnorm.arch", bn_arch);
    write_text_seed("arch", "autoencoder.arch", ae_arch);
    for (const char *const *name = mco_arch_builtin_names(); *name; name++) {
        char file[64];
        snprintf(file, sizeof file, "%s.arch", *name);
        write_text_seed("arch", file, mco_arch_builtin_text(*name));
    }

    static const struct {
        const char *name, *text;
    } pipelines[] = {
        {"one.txt", "quant:int8"},
        {"doc-example.txt", "prune:structured=0.5,criterion=l1 -> distill:T=4,alpha=0.1,epochs=2 -> quant:int8,per_channel"},
        {"unstructured.txt", "prune:sparsity=0.7,epochs=1,lr=0.001 -> finetune:epochs=2,lr=0.0005 -> qat:epochs=1 -> quant:int4"},
        {"lines.txt",
         "# a pipeline config file\n"
         "prune: structured=0.25, criterion=apoz, samples=64, min_channels=2\n"
         "distill: temperature=2, alpha=0.5, teacher=teacher.mcq   # comment\n"
         "\n"
         "quant: mode=int8-weights, per_tensor, symmetric, calibration=percentile, percentile=99.9, samples=100\n"},
        {"float16.txt", "finetune:epochs=1 -> quant:float16"},
        {"mse.txt", "prune:structured=0.5,criterion=mean-activation -> quant:int8,calibration=mse"},
    };
    for (size_t i = 0; i < sizeof pipelines / sizeof pipelines[0]; i++)
        write_text_seed("pipeline", pipelines[i].name, pipelines[i].text);
}

/* ---- the resource-model table --------------------------------------------------- */

/* One class of the real table, keeping only the kinds named in `keep` and
 * the symbols they link (so the seed stays a few KB). */
static void save_trimmed_class(const mco_cost_model *full, const char *class_name, const char *const *keep,
                               const char *name)
{
    mco_cost_model *cm = calloc(1, sizeof *cm);
    if (!cm) die("out of memory");
    snprintf(cm->toolchain, sizeof cm->toolchain, "%s", full->toolchain);
    snprintf(cm->created, sizeof cm->created, "%s", full->created);
    const mco_cost_class *from = NULL;
    for (int c = 0; c < full->n_classes; c++)
        if (strcmp(full->classes[c].name, class_name) == 0) from = &full->classes[c];
    if (!from) die(class_name);
    mco_cost_class *to = &cm->classes[cm->n_classes++];
    *to = *from;
    memset(to->kinds, 0, sizeof to->kinds);
    to->n_symbols = 0;
    int new_index[MCO_COST_MAX_SYMBOLS];
    for (int s = 0; s < from->n_symbols; s++) {
        new_index[s] = -1;
        if (from->symbols[s].base) {   /* always linked: keep */
            new_index[s] = to->n_symbols;
            to->symbols[to->n_symbols++] = from->symbols[s];
        }
    }
    for (int k = 0; k < MCO_COST_MAX_KINDS; k++) {
        int kept = 0;
        for (const char *const *n = keep; *n; n++) kept |= strcmp(*n, mco_op_kind_name(k)) == 0;
        if (!kept) continue;
        to->kinds[k] = from->kinds[k];
        for (int i = 0; i < from->kinds[k].n_symbols; i++) {
            int s = from->kinds[k].symbols[i];
            if (new_index[s] < 0) {
                new_index[s] = to->n_symbols;
                to->symbols[to->n_symbols++] = from->symbols[s];
            }
            to->kinds[k].symbols[i] = new_index[s];
        }
    }
    check(mco_cost_model_save(cm, seed_path("resource_model", name)), name);
    free(cm);
}

static void make_resource_seeds(const char *table)
{
    mco_cost_model *full;
    check(mco_cost_model_load(table, &full), table);
    static const char *const int8_kinds[] = {"CONV2D_S8", "DEPTHWISE_CONV2D_S8", "FULLY_CONNECTED_S8",
                                             "CONV2D_MAXPOOL_S8", "ADD_S8", "CLAMP_S8", "SOFTMAX_S8", NULL};
    static const char *const float_kinds[] = {"CONV2D_F32", "FULLY_CONNECTED_F32", "MAX_POOL_F32", "AVG_POOL_F32",
                                              "CONV2D_S4", "FULLY_CONNECTED_S4", NULL};
    save_trimmed_class(full, "m4f", int8_kinds, "m4f-int8.json");
    save_trimmed_class(full, "m0plus", float_kinds, "m0plus-float-int4.json");
    mco_cost_model_free(full);
}

/* ---- the trial store -------------------------------------------------------------- */

/* A store for the harness's study with a trial in every state (the running
 * one by a pid that does not exist, so resuming puts it back), compacted to
 * 512-byte pages. */
static void make_trial_store_seed(void)
{
    const char *path = seed_path("trial_store", "store.db");
    remove(path);
    mco_trial_study study;
    fuzz_seed_study(&study);
    mco_trials *db;
    check(mco_trials_open(path, &study, &db), path);
    static const char *const configs[] = {"prune:sparsity=0.5 -> quant:int8", "quant:int4", "qat:epochs=1 -> quant:int8",
                                          "quant:float16", "prune:structured=0.25 -> quant:int8"};
    mco_trial t;
    mco_claim_outcome outcome;
    mco_trial_result r;
    for (int i = 0; i < 5; i++) check(mco_trials_enqueue(db, configs[i], i % 2, 1.0 + i, NULL), "enqueue");
    check(mco_trials_claim(db, configs[0], 0, 1.0, 1, &t, &outcome), "claim");
    mco_trial_result_init(&r);
    r.accuracy = 0.97, r.flash_bytes = 21944, r.ram_bytes = 3748, r.cycles = 141013, r.latency_ms = 0.978;
    r.energy_uj = 12.5, r.objective = 21944;
    snprintf(r.deploy_path, sizeof r.deploy_path, "trial-1.mcq");
    mco_trial_stage stages[2];
    mco_trial_stage_init(&stages[0]);
    mco_trial_stage_init(&stages[1]);
    snprintf(stages[0].stage, sizeof stages[0].stage, "input");
    stages[0].accuracy = 0.98;
    stages[1].index = 1;
    snprintf(stages[1].stage, sizeof stages[1].stage, "prune:sparsity=0.5");
    stages[1].flash_bytes = 30000;
    check(mco_trials_finish(db, &t, &r, stages, 2), "finish");
    check(mco_trials_claim(db, configs[1], 1, 2.0, 1, &t, &outcome), "claim");
    check(mco_trials_fail(db, &t, "out of memory"), "fail");
    check(mco_trials_claim(db, configs[2], 0, 3.0, 1, &t, &outcome), "claim");
    check(mco_trials_prune(db, &t, NULL, "below the rung's median"), "prune");
    check(mco_trials_claim(db, configs[3], 1, 4.0, 999999999, &t, &outcome), "claim");
    mco_trials_close(db);

    sqlite3 *s;
    char *err = NULL;
    if (sqlite3_open(path, &s) != SQLITE_OK ||
        sqlite3_exec(s,
                     "UPDATE study SET created_at = 1764547200; UPDATE trials SET queued_at = 1764547200,"
                     " pid_start = 0; UPDATE trials SET started_at = 1764547201 WHERE started_at IS NOT NULL;"
                     " UPDATE trials SET finished_at = 1764547202 WHERE finished_at IS NOT NULL;"
                     " PRAGMA journal_mode=DELETE; PRAGMA page_size=512; VACUUM;",
                     NULL, NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "make_seeds: %s: %s\n", path, err ? err : sqlite3_errmsg(s));
        exit(1);
    }
    sqlite3_close(s);

    /* A SQLite file that is not a store. */
    path = seed_path("trial_store", "foreign.db");
    remove(path);
    if (sqlite3_open(path, &s) != SQLITE_OK ||
        sqlite3_exec(s, "PRAGMA page_size=512; CREATE TABLE t (a INTEGER, b TEXT); INSERT INTO t VALUES (1, 'x');",
                     NULL, NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "make_seeds: %s: %s\n", path, err ? err : sqlite3_errmsg(s));
        exit(1);
    }
    sqlite3_close(s);
}

/* ---- issue 14: mcuopt validate --inputs (.npy, raw .u8 / .f32 / .i8) -------- */

/* The harness writes each seed under every name it reads (x.npy, x.u8,
 * x.f32, x.i8), for model inputs of 28x28x1, 2x2x1 and 1x1x3 values. */
static void make_validate_seeds(void)
{
    static const uint8_t pixels[2][2][2] = {{{0, 50}, {100, 150}}, {{200, 250}, {1, 2}}};
    static const float values[2][3] = {{0.5f, -1.0f, 255.0f}, {2.0f, 3.25f, 0.0f}};
    static const int8_t q[3][2][2] = {{{-128, 0}, {127, 1}}, {{-1, 5}, {9, -9}}, {{0, 0}, {0, 0}}};
    write_npy_seed_to("validate_inputs", "u8-2x2x2.npy", "|u1", "(2, 2, 2)", pixels, sizeof pixels);
    write_npy_seed_to("validate_inputs", "f32-2x3.npy", "<f4", "(2, 3)", values, sizeof values);
    write_npy_seed_to("validate_inputs", "i8-3x2x2.npy", "|i1", "(3, 2, 2)", q, sizeof q);
    write_seed("validate_inputs", "raw-8-bytes", pixels, sizeof pixels);
    write_seed("validate_inputs", "raw-6-floats", values, sizeof values);
}

/* ---- ConvTranspose2D (issue 16, wip/convt16) ----------------------------------- */

/* A transposed convolution with output padding (the OPAD chunk of .mco,
 * CONV_TRANSPOSE2D_S8 in int8, ConvTranspose in ONNX) after a strided conv. */
static const char conv_transpose_arch[] =
    "input 6 5 2\n"
    "classes 4\n"
    "conv2d filters=3 kernel=3 stride=2 padding=same\n"
    "relu\n"
    "conv_transpose2d filters=2 kernel=3x2 stride=2 output_padding=1x0\n"
    "flatten\n"
    "dense units=classes\n";

static void make_conv_transpose_seeds(void)
{
    mco_model m;
    make_model(conv_transpose_arch, &m);
    save_model_seed("conv-transpose.mco", &m);
    save_deploy_seed(&m, "int8", "conv-transpose-int8.mcq");
    write_text_seed("arch", "conv-transpose.arch", conv_transpose_arch);
    mco_model_free(&m);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: fuzz_make_seeds OUT RESOURCE_MODEL_JSON\n");
        return 2;
    }
    out_dir = argv[1];
    if (mkdir(out_dir, 0755) != 0 && errno != EEXIST) die(out_dir);
    make_validate_seeds();
    make_model_seeds();
    make_data_seeds();
    make_audio_seeds();
    make_reader_seeds();
    make_text_seeds();
    make_resource_seeds(argv[2]);
    make_trial_store_seed();
    make_conv_transpose_seeds();
    return 0;
}
