/*
 * test_quantize.c - post-training quantization and .mcq files: weight
 * quantization error bounds, hand-computed bias / multiplier values,
 * calibration range methods, which tensors share quantization parameters,
 * the model input mapping q = raw - 128, describe / bytes, and the .mcq
 * round trip with truncated, bit-flipped and inconsistent files, and
 * float models with NaN or infinite parameters refused, calibration
 * on the training engine's forward against the plain one, and calibration
 * samples spread over the whole set (a set recorded in order, whose later
 * samples are louder, is calibrated on all of it).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcuopt/calibrate.h"
#include "mcuopt/arch.h"
#include "mcuopt/deploy.h"
#include "mcuopt/model_file.h"
#include "mcuopt/train.h"
#include "mco_runtime.h"
#include "test_util.h"

#define MCQ_PATH "build-test-quantize.mcq"

static const char *SMALL_CNN = "input 8 8 1\n"
                               "conv2d filters=4 kernel=3 padding=same\n"
                               "relu\n"
                               "maxpool2d pool=2\n"
                               "flatten\n"
                               "dense units=10\n"
                               "softmax\n";

/* A model from architecture text with seeded parameters and MNIST normalisation. */
static void make_model(const char *text, mco_shape input, uint64_t seed, mco_model *m)
{
    CHECK_OK(mco_arch_parse(text, "test", input, 0, m));
    CHECK_OK(mco_model_alloc_params(m));
    mco_model_init_params(m, seed);
    m->norm = (mco_normalization){1.0f / 255.0f, 0.1307f, 0.3081f};
}

/* n random images of a shape, deterministic. */
static void make_dataset(mco_shape shape, int n, mco_dataset *ds)
{
    memset(ds, 0, sizeof *ds);
    snprintf(ds->name, sizeof ds->name, "synthetic");
    ds->n = n;
    ds->shape = shape;
    ds->n_classes = 10;
    size_t size = mco_shape_size(shape) * (size_t)n;
    ds->samples_u8 = malloc(size);
    ds->labels = calloc((size_t)n, 1);
    uint32_t x = 12345;
    for (size_t k = 0; k < size; k++) {
        x = x * 1664525u + 1013904223u;
        ds->samples_u8[k] = (uint8_t)(x >> 24);
    }
}

static void test_weight_quantization(void)
{
    mco_model m;
    make_model(SMALL_CNN, (mco_shape){8, 8, 1}, 7, &m);
    mco_weight_format formats[] = {MCO_WEIGHTS_S8, MCO_WEIGHTS_S4};
    for (int f = 0; f < 2; f++)
        for (int per_channel = 0; per_channel <= 1; per_channel++) {
            mco_quant_options opt;
            mco_quant_options_default(&opt);
            opt.activation_format = MCO_ACT_F32;
            opt.weight_format = formats[f];
            opt.granularity = per_channel ? MCO_GRANULARITY_PER_CHANNEL : MCO_GRANULARITY_PER_TENSOR;
            mco_deploy_model dm;
            CHECK_OK(mco_quantize(&m, NULL, &opt, &dm));
            int qmax = formats[f] == MCO_WEIGHTS_S8 ? 127 : 7;
            for (int i = 0; i < dm.model.n_layers; i++) {
                const mco_layer *l = &dm.model.layers[i];
                const mco_deploy_layer *d = &dm.layers[i];
                if (l->type != MCO_LAYER_CONV2D && l->type != MCO_LAYER_DENSE) {
                    CHECK(d->weights_q == NULL && d->weight_scales == NULL);
                    continue;
                }
                CHECK(d->weight_format == formats[f] && d->per_channel == per_channel);
                CHECK(d->bias_q == NULL && d->multiplier == NULL);   /* float activations */
                const mco_param *w = &l->params[MCO_PARAM_WEIGHTS];
                size_t per = w->size / (size_t)d->n_channels;
                float overall = 0.0f;
                for (size_t k = 0; k < w->size; k++) overall = fmaxf(overall, fabsf(w->data[k]));
                for (int c = 0; c < d->n_channels; c++) {
                    float absmax = 0.0f;
                    for (size_t k = 0; k < per; k++) absmax = fmaxf(absmax, fabsf(w->data[c * per + k]));
                    float expected = (per_channel ? absmax : overall) / (float)qmax;
                    CHECK(d->weight_scales[c] == expected);
                    for (size_t k = 0; k < per; k++) {
                        size_t idx = c * per + k;
                        float s = d->weight_scales[c];
                        CHECK(d->weights_q[idx] >= -qmax && d->weights_q[idx] <= qmax);
                        CHECK(fabsf(w->data[idx] - s * d->weights_q[idx]) <= 0.5f * s * 1.0001f);
                    }
                }
            }
            mco_deploy_free(&dm);
        }

    /* float16: every weight is the half rounding of the float weight */
    mco_quant_options opt;
    mco_quant_options_default(&opt);
    opt.activation_format = MCO_ACT_F32;
    opt.weight_format = MCO_WEIGHTS_F16;
    mco_deploy_model dm;
    CHECK_OK(mco_quantize(&m, NULL, &opt, &dm));
    const mco_param *w = &dm.model.layers[0].params[MCO_PARAM_WEIGHTS];
    for (size_t k = 0; k < w->size; k++) {
        CHECK(dm.layers[0].weights_f16[k] == mco_f32_to_f16(w->data[k]));
        CHECK(fabsf(mco_f16_to_f32(dm.layers[0].weights_f16[k]) - w->data[k]) <= fabsf(w->data[k]) / 2048.0f);
    }
    char text[128];
    mco_deploy_describe(&dm, text, sizeof text);
    CHECK(strcmp(text, "float16 weights (float32 activations)") == 0);
    mco_deploy_free(&dm);

    /* float16 weights with int8 activations: a clear error */
    opt.activation_format = MCO_ACT_S8;
    CHECK(mco_quantize(&m, NULL, &opt, &dm) == MCO_ERR_ARG);
    CHECK(strstr(mco_last_error(), "float16") != NULL);
    mco_model_free(&m);
}

/* y = 0.5 x + 3 on x = raw - 128 (norm scale 1, mean 128, std 1), raw in {0, 255}:
 * input scale 1, zero point 0; output range [-61, 66.5] -> scale 0.5, zero
 * point -6; weight scale 0.5f / 127 = 0.003937007859; bias 3 / 0.003937 =
 * 762; multiplier of 0.003937007859 / 0.5 = 0.50393701 * 2^-6 ->
 * round(0.50393701 * 2^31) = 1082196480, shift -6. */
static void test_hand_computed_params(void)
{
    mco_model m;
    CHECK_OK(mco_arch_parse("input 1 1 1\ndense units=1\n", "test", (mco_shape){1, 1, 1}, 0, &m));
    CHECK_OK(mco_model_alloc_params(&m));
    m.layers[0].params[MCO_PARAM_WEIGHTS].data[0] = 0.5f;
    m.layers[0].params[MCO_PARAM_BIAS].data[0] = 3.0f;
    m.norm = (mco_normalization){1.0f, 128.0f, 1.0f};
    uint8_t images[2] = {0, 255}, labels[2] = {0, 0};
    mco_dataset ds = {.name = "two", .n = 2, .shape = {1, 1, 1}, .n_classes = 1, .samples_u8 = images, .labels = labels};
    mco_quant_options opt;
    mco_quant_options_default(&opt);
    mco_deploy_model dm;
    CHECK_OK(mco_quantize(&m, &ds, &opt, &dm));
    CHECK(dm.input.scale == 1.0f && dm.input.zero_point == 0);
    const mco_deploy_layer *d = &dm.layers[0];
    CHECK(d->output.scale == 0.5f);
    CHECK(d->output.zero_point == -6);
    CHECK(d->weights_q[0] == 127);
    CHECK_NEAR(d->weight_scales[0], 0.003937007859, 1e-12);
    CHECK(d->bias_q[0] == 762);
    CHECK(d->multiplier[0] == 1082196480);
    CHECK(d->shift[0] == -6);
    /* Integer inference agrees with the float result within one step. */
    for (int raw = 0; raw < 256; raw += 15) {
        int32_t q_in = raw - 128;
        int32_t acc = d->bias_q[0] + (q_in + 0) * d->weights_q[0];
        int32_t q_out = mco_requantize(acc, d->multiplier[0], d->shift[0]) + d->output.zero_point;
        double expect = 0.5 * (raw - 128) + 3.0;
        CHECK_NEAR(d->output.scale * (q_out - d->output.zero_point), expect, d->output.scale);
    }
    CHECK(mco_deploy_layer_bytes(&dm, 0) == 1 + 12);
    mco_deploy_free(&dm);

    /* No calibration data for int8 activations: an error, not a crash. */
    CHECK(mco_quantize(&m, NULL, &opt, &dm) == MCO_ERR_ARG);
    mco_model_free(&m);
}

static void test_calibration_ranges(void)
{
    enum { N = 20001 };
    float *x = malloc(N * sizeof *x);
    uint32_t r = 99;
    for (int k = 0; k < N - 1; k++) {   /* roughly normal: sum of 4 uniforms in [-1, 1] */
        float s = 0.0f;
        for (int j = 0; j < 4; j++) {
            r = r * 1664525u + 1013904223u;
            s += (float)(r >> 8) / 8388608.0f - 1.0f;
        }
        x[k] = s * 0.5f;
    }
    x[N - 1] = 40.0f;   /* one outlier */
    float lo_obs = x[0], hi_obs = x[0];
    for (int k = 0; k < N; k++) {
        lo_obs = fminf(lo_obs, x[k]);
        hi_obs = fmaxf(hi_obs, x[k]);
    }
    mco_calib_observer obs;
    mco_calib_observer_init(&obs);
    mco_calib_observe_minmax(&obs, x, N / 2);   /* in two parts, as over two samples */
    mco_calib_observe_minmax(&obs, x + N / 2, N - N / 2);
    CHECK_OK(mco_calib_histogram_init(&obs));
    mco_calib_observe_histogram(&obs, x, N);

    float lo, hi, plo, phi, mlo, mhi;
    mco_calib_choose_range(&obs, MCO_CALIBRATE_MINMAX, 99.99f, 0, &lo, &hi);
    CHECK(lo == lo_obs && hi == hi_obs);
    mco_calib_choose_range(&obs, MCO_CALIBRATE_PERCENTILE, 99.9f, 0, &plo, &phi);
    CHECK(plo >= lo && phi <= hi && plo < phi);
    CHECK(phi < 10.0f);   /* the outlier is cut off */
    mco_calib_choose_range(&obs, MCO_CALIBRATE_MSE, 99.99f, 0, &mlo, &mhi);
    double mse_minmax = mco_calib_quant_mse(x, N, mco_calib_qparams_from_range(lo, hi, 0));
    double mse_mse = mco_calib_quant_mse(x, N, mco_calib_qparams_from_range(mlo, mhi, 0));
    CHECK(mse_mse < mse_minmax);
    /* symmetric ranges are symmetric and give zero point 0 */
    mco_calib_choose_range(&obs, MCO_CALIBRATE_MSE, 99.99f, 1, &mlo, &mhi);
    CHECK(mlo == -mhi);
    CHECK(mco_calib_qparams_from_range(mlo, mhi, 1).zero_point == 0);
    mco_calib_observer_free(&obs);

    /* Nudging: real 0 is exact; a range not containing 0 is widened to it. */
    mco_qparams q = mco_calib_qparams_from_range(0.3f, 5.0f, 0);
    CHECK(q.zero_point == -128);
    CHECK_NEAR(q.scale, 5.0 / 255.0, 1e-7);
    q = mco_calib_qparams_from_range(-1.0f, 2.0f, 0);
    CHECK(q.zero_point == -43);   /* -128 + 1 / (3 / 255) = -43 */
    free(x);
}

/* The training engine's calibration forward (counted, so the test cannot
 * pass without it running) gives the ranges of calibrate.c's one-image loops
 * up to float rounding, over batches of 50 and a last short one. */
static int engine_runs;

static mco_status counting_open(const mco_model *model, int max_batch, void **state)
{
    return mco_train_calib_engine.open(model, max_batch, state);
}

static mco_status counting_run(void *state, const float *inputs, int batch, float *const **outputs)
{
    engine_runs++;
    return mco_train_calib_engine.run(state, inputs, batch, outputs);
}

static const mco_calib_engine counting_engine = {counting_open, counting_run, NULL};

static void test_calibration_engine(void)
{
    static const char *const text = "input 8 8 1\n"
                                    "conv2d filters=6 kernel=3 padding=same\n"
                                    "relu\n"
                                    "maxpool2d pool=2\n"
                                    "depthwise_conv2d kernel=3 padding=same\n"
                                    "relu6\n"
                                    "flatten\n"
                                    "dense units=10\n"
                                    "softmax\n";
    mco_calib_engine engine = counting_engine;
    engine.close = mco_train_calib_engine.close;
    const mco_calibration methods[2] = {MCO_CALIBRATE_MINMAX, MCO_CALIBRATE_PERCENTILE};
    for (int k = 0; k < 2; k++) {
        mco_model m;
        mco_dataset ds;
        make_model(text, (mco_shape){8, 8, 1}, 21, &m);
        make_dataset(m.input_shape, 120, &ds);
        mco_quant_options opt;
        mco_quant_options_default(&opt);
        opt.calibration = methods[k];
        opt.calibration_samples = 120;
        mco_deploy_model plain, fast;
        CHECK_OK(mco_quantize(&m, &ds, &opt, &plain));
        engine_runs = 0;
        opt.engine = &engine;
        CHECK_OK(mco_quantize(&m, &ds, &opt, &fast));
        CHECK(engine_runs == (k == 0 ? 3 : 6));   /* 50 + 50 + 20 images, once per pass */
        CHECK(plain.model.n_layers == fast.model.n_layers);
        CHECK(plain.input.scale == fast.input.scale && plain.input.zero_point == fast.input.zero_point);
        for (int i = 0; i < plain.model.n_layers; i++) {
            mco_qparams a = plain.layers[i].output, b = fast.layers[i].output;
            CHECK(fabsf(a.scale - b.scale) <= 1e-4f * fabsf(a.scale));
            CHECK(abs(a.zero_point - b.zero_point) <= 1);
        }
        mco_deploy_free(&plain);
        mco_deploy_free(&fast);
        mco_dataset_free(&ds);
        mco_model_free(&m);
    }
}

/* Calibration takes its N samples spread evenly over the set
 * (mco_dataset_spread_indices: floor(i * n / N)), not the first N: a set of
 * 100 float samples whose first half is quiet (values up to 0.1) and second
 * half loud (up to 10), calibrated on 10 samples, gets an input range that
 * covers the loud half, by both forwards. */
static void test_calibration_spread(void)
{
    int idx[5];
    mco_dataset_spread_indices(10, 4, idx);
    CHECK(idx[0] == 0 && idx[1] == 2 && idx[2] == 5 && idx[3] == 7);
    mco_dataset_spread_indices(5, 5, idx);
    for (int i = 0; i < 5; i++) CHECK(idx[i] == i);
    mco_dataset_spread_indices(7, 1, idx);
    CHECK(idx[0] == 0);

    mco_model m;
    CHECK_OK(mco_arch_parse("input 1 1 4\ndense units=4\n", "test", (mco_shape){1, 1, 4}, 0, &m));
    CHECK_OK(mco_model_alloc_params(&m));
    mco_model_init_params(&m, 3);
    m.norm = (mco_normalization){1.0f, 0.0f, 1.0f};
    enum { N = 100 };
    mco_dataset ds = {0};
    snprintf(ds.name, sizeof ds.name, "in-order");
    ds.n = N;
    ds.shape = (mco_shape){1, 1, 4};
    ds.sample_type = MCO_SAMPLE_F32;
    ds.label_kind = MCO_LABELS_NONE;
    ds.samples_f32 = malloc(N * 4 * sizeof(float));
    for (int i = 0; i < N; i++)
        for (int k = 0; k < 4; k++) ds.samples_f32[i * 4 + k] = (i < N / 2 ? 0.1f : 10.0f) * (float)k / 3.0f;
    mco_quant_options opt;
    mco_quant_options_default(&opt);
    opt.calibration_samples = 10;
    for (int engine = 0; engine < 2; engine++) {
        opt.engine = engine ? &mco_train_calib_engine : NULL;
        mco_deploy_model dm;
        CHECK_OK(mco_quantize(&m, &ds, &opt, &dm));
        /* the range [0, 10] over 255 steps; the first 10 samples alone would give [0, 0.1] */
        CHECK_NEAR(dm.input.scale, 10.0 / 255.0, 1e-6);
        mco_deploy_free(&dm);
    }
    mco_dataset_free(&ds);
    mco_model_free(&m);
}

/* conv -> relu -> maxpool -> flatten -> dense -> softmax, int8. */
static void test_shared_qparams_and_input(void)
{
    mco_model m;
    make_model(SMALL_CNN, (mco_shape){8, 8, 1}, 3, &m);
    mco_dataset ds;
    make_dataset((mco_shape){8, 8, 1}, 50, &ds);
    mco_quant_options opt;
    mco_quant_options_default(&opt);
    for (int method = MCO_CALIBRATE_MINMAX; method <= MCO_CALIBRATE_MSE; method++) {
        opt.calibration = (mco_calibration)method;
        mco_deploy_model dm;
        CHECK_OK(mco_quantize(&m, &ds, &opt, &dm));
        if (dm.model.n_layers != 6) {
            CHECK(dm.model.n_layers == 6);
            mco_deploy_free(&dm);
            continue;
        }
        const mco_deploy_layer *L = dm.layers;
        /* conv output takes the relu's range: starts at 0 -> zero point -128 */
        CHECK(L[0].output.zero_point == -128);
        CHECK(L[1].output.scale == L[0].output.scale && L[1].output.zero_point == L[0].output.zero_point);
        CHECK(L[2].output.scale == L[0].output.scale && L[2].output.zero_point == L[0].output.zero_point);
        CHECK(L[3].output.scale == L[2].output.scale && L[3].output.zero_point == L[2].output.zero_point);
        CHECK(L[5].output.scale == 1.0f / 256.0f && L[5].output.zero_point == -128);
        CHECK(L[4].bias_q && L[4].multiplier && L[4].shift);
        /* default granularity, as TFLite: per channel for the conv, one scale for the dense layer */
        CHECK(L[0].per_channel == 1 && L[4].per_channel == 0);
        for (int c = 0; c < L[4].n_channels; c++) {
            CHECK(L[4].multiplier[c] >= (1 << 30));
            double real = (double)L[3].output.scale * L[4].weight_scales[c] / L[4].output.scale;
            CHECK_NEAR(ldexp(L[4].multiplier[c], L[4].shift[c] - 31), real, real * 1e-8);
        }
        /* model input: q = raw - 128 exactly, as the host evaluator prepares it */
        for (int raw = 0; raw < 256; raw++) {
            uint8_t b = (uint8_t)raw;
            float real;
            mco_normalize_input(&dm.model.norm, &b, 1, &real);
            double q = round((double)real / dm.input.scale) + dm.input.zero_point;
            CHECK(q == raw - 128);
        }
        char text[128];
        mco_deploy_describe(&dm, text, sizeof text);
        const char *names[] = {"minmax", "percentile", "mse"};
        char expected[128];
        snprintf(expected, sizeof expected, "int8 (per-channel conv, per-tensor dense weights, int8 activations, %s)",
                 names[method]);
        CHECK(strcmp(text, expected) == 0);
        mco_deploy_free(&dm);
    }
    mco_dataset_free(&ds);
    mco_model_free(&m);
}

static int layers_equal(const mco_deploy_model *a, const mco_deploy_model *b, int i)
{
    const mco_deploy_layer *x = &a->layers[i], *y = &b->layers[i];
    size_t nw = a->model.layers[i].n_params ? a->model.layers[i].params[0].size : 0;
    size_t nc = (size_t)x->n_channels;
#define SAME_ARRAY(f, n) ((x->f == NULL) == (y->f == NULL) && (!x->f || memcmp(x->f, y->f, (n) * sizeof *x->f) == 0))
    return x->weight_format == y->weight_format && x->per_channel == y->per_channel &&
           x->n_channels == y->n_channels && x->output.scale == y->output.scale &&
           x->output.zero_point == y->output.zero_point && SAME_ARRAY(weight_scales, nc) &&
           SAME_ARRAY(weights_q, nw) && SAME_ARRAY(weights_f16, nw) && SAME_ARRAY(bias_q, nc) &&
           SAME_ARRAY(multiplier, nc) && SAME_ARRAY(shift, nc);
#undef SAME_ARRAY
}

static void check_round_trip(const mco_deploy_model *dm)
{
    CHECK_OK(mco_deploy_save(dm, MCQ_PATH));
    mco_deploy_model back;
    CHECK_OK(mco_deploy_load(MCQ_PATH, &back));
    CHECK(back.model.n_layers == dm->model.n_layers);
    CHECK(back.activation_format == dm->activation_format && back.calibration == dm->calibration);
    CHECK(back.input.scale == dm->input.scale && back.input.zero_point == dm->input.zero_point);
    for (int i = 0; i < dm->model.n_layers && i < back.model.n_layers; i++) {
        CHECK(layers_equal(dm, &back, i));
        for (int p = 0; p < dm->model.layers[i].n_params; p++)
            CHECK(memcmp(dm->model.layers[i].params[p].data, back.model.layers[i].params[p].data,
                         dm->model.layers[i].params[p].size * sizeof(float)) == 0);
    }
    CHECK(mco_deploy_weight_bytes(&back) == mco_deploy_weight_bytes(dm));
    mco_deploy_free(&back);
}

static uint8_t *read_whole(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    *size = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(*size);
    if (fread(buf, 1, *size, f) != *size) *size = 0;
    fclose(f);
    return buf;
}

/* Loading `bytes` must fail with a one-line message starting with the path. */
static void expect_load_failure(const uint8_t *bytes, size_t size, const char *must_contain)
{
    FILE *f = fopen(MCQ_PATH, "wb");   /* plain write: no fsync per case */
    CHECK(f && fwrite(bytes, 1, size, f) == size);
    if (f) fclose(f);
    mco_deploy_model dm;
    mco_status st = mco_deploy_load(MCQ_PATH, &dm);
    CHECK(st == MCO_ERR_FORMAT);
    if (st == MCO_OK) {
        mco_deploy_free(&dm);
        return;
    }
    const char *msg = mco_last_error();
    CHECK(strncmp(msg, MCQ_PATH ": ", strlen(MCQ_PATH) + 2) == 0);
    CHECK(strchr(msg, '\n') == NULL);
    if (must_contain && !strstr(msg, must_contain)) {
        fprintf(stderr, "message '%s' lacks '%s'\n", msg, must_contain);
        CHECK(0);
    }
}

static void test_file(void)
{
    mco_model m;
    make_model(SMALL_CNN, (mco_shape){8, 8, 1}, 11, &m);
    mco_dataset ds;
    make_dataset((mco_shape){8, 8, 1}, 20, &ds);

    /* Round trips: int8, weights-only mixed, float16, float32. */
    mco_quant_options opt;
    mco_quant_options_default(&opt);
    mco_deploy_model dm;
    CHECK_OK(mco_quantize(&m, &ds, &opt, &dm));
    check_round_trip(&dm);

    /* Truncations and byte flips of the int8 file. */
    size_t size = 0;
    uint8_t *good = read_whole(MCQ_PATH, &size);
    CHECK(good && size > 100);
    for (size_t cut = 0; good && cut < size; cut += (cut < 64 ? 1 : 7)) expect_load_failure(good, cut, NULL);
    uint8_t *bad = malloc(size);
    for (size_t k = 0; good && k < size; k += 3) {
        memcpy(bad, good, size);
        bad[k] ^= (uint8_t)(1u << (k % 8));
        expect_load_failure(bad, size, NULL);
    }
    free(bad);
    free(good);

    /* Consistent CRC but wrong content: saved from a tampered model. */
    int8_t *saved_q = dm.layers[4].weights_q;
    dm.layers[4].weights_q = NULL;
    CHECK_OK(mco_deploy_save(&dm, MCQ_PATH));
    dm.layers[4].weights_q = saved_q;
    size = 0;
    good = read_whole(MCQ_PATH, &size);
    if (good) expect_load_failure(good, size, "layer 4 (dense_4): 0 quantized weights in file, 640 expected");
    free(good);
    saved_q[0] = 127;
    dm.layers[4].weight_format = MCO_WEIGHTS_S4;
    CHECK_OK(mco_deploy_save(&dm, MCQ_PATH));
    good = read_whole(MCQ_PATH, &size);
    if (good) expect_load_failure(good, size, "outside [-7, 7]");
    free(good);
    mco_deploy_free(&dm);

    /* int4 weights + int8 activations: packed, with int32 bias, multiplier, shift
     * (per channel in the conv; one multiplier and shift for the dense layer) */
    opt.weight_format = MCO_WEIGHTS_S4;
    CHECK_OK(mco_quantize(&m, &ds, &opt, &dm));
    CHECK(mco_deploy_layer_bytes(&dm, 0) == 18 + 4 * 12);
    CHECK(mco_deploy_layer_bytes(&dm, 4) == 320 + 10 * 4 + 8);
    CHECK(mco_deploy_weight_bytes(&dm) == 18 + 48 + 320 + 48);
    check_round_trip(&dm);
    mco_deploy_free(&dm);
    opt.weight_format = MCO_WEIGHTS_S8;

    mco_weight_format mixed[6] = {MCO_WEIGHTS_S4, 0, 0, 0, MCO_WEIGHTS_S8, 0};
    opt.activation_format = MCO_ACT_F32;
    opt.layer_formats = mixed;
    opt.granularity = MCO_GRANULARITY_PER_TENSOR;
    CHECK_OK(mco_quantize(&m, NULL, &opt, &dm));
    char text[128];
    mco_deploy_describe(&dm, text, sizeof text);
    CHECK(strcmp(text, "mixed s4,s8 weights (per-tensor, float32 activations)") == 0);
    /* conv: 36 int4 weights, unpacked with float activations -> 36 bytes + 4 float
     * biases + one scale; dense: 640 + 10 x 4 + 4 */
    CHECK(mco_deploy_layer_bytes(&dm, 0) == 36 + 4 * 4 + 4);
    CHECK(mco_deploy_layer_bytes(&dm, 4) == 640 + 10 * 4 + 4);
    check_round_trip(&dm);
    mco_deploy_free(&dm);

    opt.layer_formats = NULL;
    opt.weight_format = MCO_WEIGHTS_F16;
    CHECK_OK(mco_quantize(&m, NULL, &opt, &dm));
    check_round_trip(&dm);
    mco_deploy_free(&dm);

    CHECK_OK(mco_deploy_from_float(&m, &dm));
    mco_deploy_describe(&dm, text, sizeof text);
    CHECK(strcmp(text, "float32") == 0);
    CHECK(mco_deploy_weight_bytes(&dm) == 4 * mco_model_param_count(&m));
    check_round_trip(&dm);
    mco_deploy_free(&dm);

    /* Not a file / missing file */
    mco_deploy_model missing;
    CHECK(mco_deploy_load("no/such/file.mcq", &missing) == MCO_ERR_IO);
    remove(MCQ_PATH);
    mco_dataset_free(&ds);
    mco_model_free(&m);
}

/* A model with a non-finite parameter (a diverged training run) is refused
 * by every way into a deploy model, naming the layer. */
static void test_non_finite_refused(void)
{
    mco_model m;
    make_model(SMALL_CNN, (mco_shape){8, 8, 1}, 7, &m);
    mco_dataset calib;
    make_dataset(m.input_shape, 16, &calib);
    mco_quant_options qo;
    mco_quant_options_default(&qo);
    qo.calibration_samples = 16;
    m.layers[4].params[MCO_PARAM_WEIGHTS].data[5] = NAN;
    mco_deploy_model dm;
    CHECK(mco_quantize(&m, &calib, &qo, &dm) == MCO_ERR_RANGE);
    CHECK(strstr(mco_last_error(), "layer 4 (dense_4): weights[5] is nan") != NULL);
    CHECK(mco_deploy_from_float(&m, &dm) == MCO_ERR_RANGE);
    m.layers[4].params[MCO_PARAM_WEIGHTS].data[5] = 0.0f;
    m.layers[0].params[MCO_PARAM_BIAS].data[1] = INFINITY;
    CHECK(mco_deploy_from_float(&m, &dm) == MCO_ERR_RANGE);
    CHECK(strstr(mco_last_error(), "bias[1] is inf") != NULL);
    mco_dataset_free(&calib);
    mco_model_free(&m);
}

int main(void)
{
    test_weight_quantization();
    test_hand_computed_params();
    test_calibration_ranges();
    test_calibration_engine();
    test_calibration_spread();
    test_shared_qparams_and_input();
    test_file();
    test_non_finite_refused();
    TEST_MAIN_END();
}
