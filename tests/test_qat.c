/*
 * test_qat.c - quantization-aware training: the fake-quantization rounding
 * and its clipping mask against the formula; a fake-quantized forward
 * against one computed by hand (input grid, weights, int32-step biases,
 * activations); the straight-through gradients (clipped
 * outputs pass nothing, weight gradients are taken at the rounded weights);
 * conversion (the deploy model holds exactly the weights and activation
 * grids training used, and the int8 runtime agrees with the fake-quantized
 * forward on nearly every sample, on synthetic data and an MNIST subset);
 * determinism for a seed and thread count; training without QAT unchanged;
 * the error paths.
 *
 * What it leaves out: the >= 98 % MNIST figure of a full run (about a
 * minute of training), and the CLI (tests/qat_cli.sh).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcuopt/calibrate.h"
#include "mcuopt/arch.h"
#include "mcuopt/codegen.h"
#include "mcuopt/qat.h"
#include "test_fixtures.h"
#include "test_util.h"
#include "train/fake_quant.h"
#include "train/net.h"

/* ---- Helpers ---- */

static void make_model(const char *text, mco_shape input, uint64_t seed, mco_model *m)
{
    CHECK_OK(mco_arch_parse(text, "test", input, 0, m));
    CHECK_OK(mco_model_alloc_params(m));
    mco_model_init_params(m, seed);
    m->norm = (mco_normalization){1.0f / 255.0f, 0.1307f, 0.3081f};
}

/* 8x8 grey images of 4 classes: a brighter 3x3 square in one quadrant, on noise. */
static void make_squares(mco_dataset *ds, int n, uint32_t seed)
{
    memset(ds, 0, sizeof *ds);
    snprintf(ds->name, sizeof ds->name, "squares");
    ds->n = n;
    ds->shape = (mco_shape){8, 8, 1};
    ds->n_classes = 4;
    ds->samples_u8 = malloc((size_t)n * 64);
    ds->labels = malloc((size_t)n);
    uint32_t x = seed;
    for (int i = 0; i < n; i++) {
        x = x * 1664525u + 1013904223u;
        int label = (int)(x >> 30);
        uint8_t *img = ds->samples_u8 + (size_t)i * 64;
        for (int p = 0; p < 64; p++) {
            x = x * 1664525u + 1013904223u;
            img[p] = (uint8_t)((x >> 24) % 100);
        }
        x = x * 1664525u + 1013904223u;
        int y0 = (label / 2) * 4 + (int)((x >> 28) & 1), x0 = (label % 2) * 4 + (int)((x >> 29) & 1);
        for (int y = y0; y < y0 + 3; y++)
            for (int c = x0; c < x0 + 3; c++) img[y * 8 + c] = (uint8_t)(60 + (x >> 24) % 70);
        ds->labels[i] = (uint8_t)label;
    }
}

static int argmax(const float *v, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[best]) best = i;
    return best;
}

static int argmax_s8(const int8_t *v, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[best]) best = i;
    return best;
}

static void train_float(mco_model *m, const mco_dataset *train, int epochs, int threads)
{
    mco_train_options opt;
    mco_train_options_default(&opt);
    opt.epochs = epochs;
    opt.threads = threads;
    mco_train_result res;
    CHECK_OK(mco_train(m, train, NULL, &opt, &res));
}

/* QAT fine-tuning of an already prepared model; ranges initialised here. */
static void train_qat(mco_model *qat, const mco_dataset *train, int epochs, int threads, mco_qat_ranges *ranges)
{
    CHECK_OK(mco_qat_ranges_init(ranges, qat));
    mco_qat_config cfg;
    mco_qat_config_default(&cfg);
    cfg.ranges = ranges;
    mco_train_options opt;
    mco_train_options_default(&opt);
    opt.epochs = epochs;
    opt.threads = threads;
    opt.learning_rate = 5e-4f;
    opt.qat = &cfg;
    mco_train_result res;
    CHECK_OK(mco_train(qat, train, NULL, &opt, &res));
    CHECK(ranges->updates > 0);
}

/* ---- The rounding ---- */

static void test_fake_quantize_formula(void)
{
    mco_qparams qp = mco_calib_qparams_from_range(-1.0f, 3.0f, 0);
    const float xs[] = {-2.0f, -1.0f, -0.3f, 0.0f, 0.01f, 0.7f, 1.2345f, 2.99f, 3.0f, 3.2f, 100.0f};
    enum { N = sizeof xs / sizeof xs[0] };
    float y[N];
    unsigned char mask[N];
    memcpy(y, xs, sizeof y);
    mco_fake_quantize(y, N, qp, mask);
    double lo = qp.scale * (-128.0 - qp.zero_point), hi = qp.scale * (127.0 - qp.zero_point);
    for (int k = 0; k < N; k++) {
        double q = round((double)xs[k] / qp.scale) + qp.zero_point;
        q = q < -128 ? -128 : q > 127 ? 127 : q;
        CHECK(y[k] == (float)(qp.scale * (q - qp.zero_point)));
        CHECK(mask[k] == (xs[k] >= lo && xs[k] <= hi));
        double on_grid = y[k] / qp.scale + qp.zero_point;   /* an integer in [-128, 127] */
        CHECK_NEAR(on_grid, round(on_grid), 1e-3);
        if (mask[k]) CHECK(fabs(y[k] - xs[k]) <= qp.scale / 2 * 1.0001);
    }
    CHECK(y[3] == 0.0f);                  /* real zero is exact */
    CHECK(mask[0] == 0 && mask[10] == 0);  /* clipped both ends */
    CHECK(mask[1] == 1 && mask[7] == 1 && mask[8] == 0);   /* the nudged range is [-1.004, 2.996] */
    memcpy(y, xs, sizeof y);
    mco_fake_quantize(y, N, qp, NULL);    /* no mask wanted */
    CHECK(y[10] == (float)(qp.scale * (127 - qp.zero_point)));

    /* the same formula on many values (the vectorised loop and its tail), NaN going low */
    enum { M = 1001 };
    float *big = malloc(M * sizeof *big);
    uint32_t r = 7;
    for (int k = 0; k < M; k++) {
        r = r * 1664525u + 1013904223u;
        big[k] = k == 500 ? NAN : (float)(r >> 8) / 838860.8f - 10.0f;   /* [-10, 10) */
    }
    float *fq = malloc(M * sizeof *fq);
    memcpy(fq, big, M * sizeof *fq);
    mco_fake_quantize(fq, M, qp, NULL);
    for (int k = 0; k < M; k++) {
        double q = k == 500 ? -128 : round((double)big[k] / qp.scale) + qp.zero_point;
        q = q < -128 ? -128 : q > 127 ? 127 : q;
        CHECK(fq[k] == (float)(qp.scale * (q - qp.zero_point)));
    }
    free(big);
    free(fq);
}

/* ---- A tiny model computed by hand ---- */

/* flatten -> dense 3 -> relu -> dense 2: quantization points at the relu
 * (fused into dense 1) and at dense 2. */
static const char *TINY = "input 2 2 1\nflatten\ndense units=3\nrelu\ndense units=2\n";

static void set_tiny_params(mco_model *m, mco_qat_ranges *r)
{
    const float w1[] = {0.5f, -0.25f, 0.8f, 0.1f, -0.6f, 0.33f, 0.2f, 0.9f, 0.05f, -0.7f, 0.41f, -0.13f};
    const float b1[] = {0.1f, -0.05f, 0.2f};
    const float w2[] = {0.7f, -0.4f, 0.25f, -0.3f, 0.6f, 0.9f};
    const float b2[] = {0.02f, -0.1f};
    memcpy(m->layers[1].params[MCO_PARAM_WEIGHTS].data, w1, sizeof w1);
    memcpy(m->layers[1].params[MCO_PARAM_BIAS].data, b1, sizeof b1);
    memcpy(m->layers[3].params[MCO_PARAM_WEIGHTS].data, w2, sizeof w2);
    memcpy(m->layers[3].params[MCO_PARAM_BIAS].data, b2, sizeof b2);
    /* narrow ranges, so that some values clip */
    r->lo[2] = 0.0f;
    r->hi[2] = 0.8f;
    r->lo[3] = -0.5f;
    r->hi[3] = 0.5f;
    r->updates = 1;
}

/* Symmetric int8 rounding of a Dense layer's [rows][cols] weights by hand,
 * with one scale for the layer (QAT's and mco_quantize's default, as
 * TFLite's); the scale goes to every entry of scales[rows]. */
static void round_rows(const float *w, int rows, int cols, float *out, float *scales)
{
    float absmax = 0.0f;
    for (int k = 0; k < rows * cols; k++) absmax = fmaxf(absmax, fabsf(w[k]));
    float s = absmax / 127.0f;
    for (int r = 0; r < rows; r++) scales[r] = s;
    for (int k = 0; k < rows * cols; k++) out[k] = (float)round((double)w[k] / s) * s;
}

/* The int32 bias the runtime adds, in real units: whole steps of input scale x weight scale. */
static float round_bias(float b, double in_scale, float w_scale)
{
    double step = in_scale * w_scale;
    return (float)(round(b / step) * step);
}

typedef struct {
    float x[4];             /* the input as the runtime sees it */
    float h_pre[3], h[3];   /* relu output before / after fake quantization */
    float o_pre[2], o[2];   /* dense 2 output before / after */
    float w1[12], w2[6];    /* rounded weights */
} tiny_trace;

static void tiny_by_hand(const mco_model *m, const mco_qat_ranges *r, const uint8_t raw[4], tiny_trace *t)
{
    /* input: q = raw - 128, scale norm.scale / norm.std, zero point round(mean / scale - 128) */
    double in_scale = (double)m->norm.scale / m->norm.std, in_zp = round((double)m->norm.mean / m->norm.scale - 128.0);
    for (int k = 0; k < 4; k++) t->x[k] = (float)(in_scale * ((raw[k] - 128) - in_zp));
    float s1[3], s2[2];
    round_rows(m->layers[1].params[MCO_PARAM_WEIGHTS].data, 3, 4, t->w1, s1);
    round_rows(m->layers[3].params[MCO_PARAM_WEIGHTS].data, 2, 3, t->w2, s2);
    for (int u = 0; u < 3; u++) {
        float acc = round_bias(m->layers[1].params[MCO_PARAM_BIAS].data[u], (float)in_scale, s1[u]);
        for (int k = 0; k < 4; k++) acc += t->w1[u * 4 + k] * t->x[k];
        t->h_pre[u] = t->h[u] = acc > 0.0f ? acc : 0.0f;
    }
    mco_qparams q2 = mco_calib_qparams_from_range(r->lo[2], r->hi[2], 0);
    mco_fake_quantize(t->h, 3, q2, NULL);
    for (int u = 0; u < 2; u++) {
        float acc = round_bias(m->layers[3].params[MCO_PARAM_BIAS].data[u], q2.scale, s2[u]);
        for (int k = 0; k < 3; k++) acc += t->w2[u * 3 + k] * t->h[k];
        t->o_pre[u] = t->o[u] = acc;
    }
    mco_fake_quantize(t->o, 2, mco_calib_qparams_from_range(r->lo[3], r->hi[3], 0), NULL);
}

static const uint8_t TINY_PIXELS[4][4] = {{0, 64, 128, 255}, {255, 255, 0, 30}, {10, 200, 90, 160}, {255, 0, 255, 0}};

static void test_forward_by_hand(void)
{
    mco_model m;
    make_model(TINY, (mco_shape){2, 2, 1}, 1, &m);
    mco_qat_ranges r;
    CHECK_OK(mco_qat_ranges_init(&r, &m));
    set_tiny_params(&m, &r);
    CHECK(!mco_qat_is_quantization_point(&m, 0) && !mco_qat_is_quantization_point(&m, 1));
    CHECK(mco_qat_is_quantization_point(&m, 2) && mco_qat_is_quantization_point(&m, 3));
    int clipped = 0;
    for (int s = 0; s < 4; s++) {
        float x[4], out[2];
        mco_normalize_input(&m.norm, TINY_PIXELS[s], 4, x);
        CHECK_OK(mco_qat_predict(&m, &r, x, 1, out));
        tiny_trace t;
        tiny_by_hand(&m, &r, TINY_PIXELS[s], &t);
        for (int u = 0; u < 2; u++) {
            CHECK_NEAR(out[u], t.o[u], 1e-6);
            clipped += fabsf(t.o_pre[u]) > 0.5f;
        }
    }
    CHECK(clipped > 0);   /* the ranges do bite */
    mco_qat_ranges_free(&r);
    mco_model_free(&m);
}

/* ---- Straight-through gradients ---- */

static void test_ste_gradients(void)
{
    enum { B = 4 };
    mco_model m;
    make_model(TINY, (mco_shape){2, 2, 1}, 1, &m);
    mco_qat_ranges r;
    CHECK_OK(mco_qat_ranges_init(&r, &m));
    set_tiny_params(&m, &r);
    mco_fake_quant fq;
    CHECK_OK(mco_fake_quant_init(&fq, &m, &r, 0.999f, 1.0f, 1, B));
    mco_net net;
    CHECK_OK(mco_net_init(&net, &fq.shadow, B, MCO_NET_GRADIENTS));
    net.fake_quant = &fq.threads[0];
    for (int s = 0; s < B; s++) mco_normalize_input(&m.norm, TINY_PIXELS[s], 4, net.input + s * 4);
    mco_net_zero_grads(&net, B);
    mco_net_forward(&net, B, 1);
    for (int k = 0; k < B * 2; k++) net.grad[3][k] = 1.0f;   /* dLoss/d(output) = 1 everywhere */
    mco_net_backward(&net, B, 3, 1);

    /* expected: the output gradient masked where dense 2 clipped, then
     * through W2 (rounded), masked where the relu output clipped, through the relu */
    double gb2[2] = {0}, gw2[6] = {0}, gb1[3] = {0};
    int masked2 = 0, masked1 = 0;
    for (int s = 0; s < B; s++) {
        tiny_trace t;
        tiny_by_hand(&m, &r, TINY_PIXELS[s], &t);
        double g_o[2], g_h[3] = {0};
        for (int u = 0; u < 2; u++) {
            g_o[u] = t.o_pre[u] >= -0.5f - 1e-3f && t.o_pre[u] <= 0.5f + 1e-3f ? 1.0 : 0.0;
            masked2 += g_o[u] == 0.0;
            gb2[u] += g_o[u];
            for (int k = 0; k < 3; k++) {
                gw2[u * 3 + k] += g_o[u] * t.h[k];   /* at the fake-quantized input */
                g_h[k] += g_o[u] * t.w2[u * 3 + k];  /* through the fake-quantized weights */
            }
        }
        mco_qparams q2 = mco_calib_qparams_from_range(r.lo[2], r.hi[2], 0);
        double h_top = q2.scale * (127.0 - q2.zero_point);
        for (int k = 0; k < 3; k++) {
            if (t.h_pre[k] > h_top) {
                g_h[k] = 0.0;
                masked1++;
            }
            gb1[k] += t.h[k] > 0.0f ? g_h[k] : 0.0;   /* relu backward reads its (rounded) output */
        }
    }
    CHECK(masked2 > 0 && masked2 < B * 2);
    CHECK(masked1 > 0);
    const float *pb2 = net.param_grad[3 * MCO_MAX_PARAMS + MCO_PARAM_BIAS];
    const float *pw2 = net.param_grad[3 * MCO_MAX_PARAMS + MCO_PARAM_WEIGHTS];
    const float *pb1 = net.param_grad[1 * MCO_MAX_PARAMS + MCO_PARAM_BIAS];
    for (int u = 0; u < 2; u++) CHECK_NEAR(pb2[u], gb2[u], 1e-5);
    for (int k = 0; k < 6; k++) CHECK_NEAR(pw2[k], gw2[k], 1e-5);
    for (int k = 0; k < 3; k++) CHECK_NEAR(pb1[k], gb1[k], 1e-5);
    mco_net_free(&net);
    mco_fake_quant_free(&fq);
    mco_qat_ranges_free(&r);
    mco_model_free(&m);
}

/* ---- Conversion ---- */

/* conv + BN (folded) + relu, depthwise + relu6, a residual add, average
 * pool, dense, softmax: every quantization kind. */
static const char *RICH = "input 8 8 1\n"
                          "c1 = conv2d filters=6 kernel=3 padding=same\n"
                          "batchnorm\n"
                          "r1 = relu\n"
                          "depthwise_conv2d kernel=3 padding=same\n"
                          "relu6\n"
                          "c3 = conv2d filters=6 kernel=1 padding=same\n"
                          "add inputs=r1,c3\n"
                          "relu\n"
                          "avgpool2d pool=2\n"
                          "flatten\n"
                          "dense units=4\n"
                          "softmax\n";

/* The deploy model holds the weights and activation grids the fake-quantized forward used. */
static void check_conversion_matches(const mco_model *qat, const mco_qat_ranges *r, const mco_deploy_model *dm)
{
    mco_qat_ranges view = *r;
    mco_fake_quant fq;
    CHECK_OK(mco_fake_quant_init(&fq, qat, &view, 0.999f, 1.0f, 0, 1));
    CHECK(dm->model.n_layers == qat->n_layers && dm->activation_format == MCO_ACT_S8);
    int points = 0;
    for (int i = 0; i < qat->n_layers && i < dm->model.n_layers; i++) {
        const mco_deploy_layer *d = &dm->layers[i];
        if (d->weights_q) {
            const mco_param *w = &fq.shadow.layers[i].params[MCO_PARAM_WEIGHTS];
            int exact = 1;
            for (size_t k = 0; k < w->size; k++) {
                size_t channels = (size_t)d->n_channels;   /* HWC depthwise: innermost; else outermost */
                int c = (int)(qat->layers[i].type == MCO_LAYER_DEPTHWISE_CONV2D ? k % channels
                                                                                : k / (w->size / channels));
                exact &= w->data[k] == (float)d->weights_q[k] * d->weight_scales[c];
            }
            CHECK(exact);
        }
        if (mco_qat_is_quantization_point(qat, i)) {
            points++;
            /* a fused relu's grid is its producer's output grid */
            int owner = qat->layers[i].type == MCO_LAYER_RELU || qat->layers[i].type == MCO_LAYER_RELU6
                            ? qat->layers[i].inputs[0] : i;
            CHECK(dm->layers[owner].output.scale == fq.q[i].scale);
            CHECK(dm->layers[owner].output.zero_point == fq.q[i].zero_point);
        }
    }
    CHECK(points >= 2);
    mco_fake_quant_free(&fq);
}

/* Fraction of samples on which the runtime's argmax equals the
 * fake-quantized forward's; also returns both accuracies and, when the
 * model ends in int8 logits, the fraction of logits that are the same
 * integer and the largest difference in output steps. */
static double runtime_agreement(const mco_model *qat, const mco_qat_ranges *r, const mco_deploy_model *dm,
                                const mco_dataset *ds, double *acc_fq, double *acc_rt, double *logits_exact,
                                double *max_step_diff)
{
    mco_plan plan;
    mco_plan_options popt;
    mco_plan_options_default(&popt);
    CHECK_OK(mco_plan_build(dm, &popt, &plan));
    size_t in_size = mco_shape_size(ds->shape);
    int nc = qat->n_classes;
    float *x = malloc((size_t)ds->n * in_size * sizeof *x);
    float *fq_out = malloc((size_t)ds->n * (size_t)nc * sizeof *fq_out);
    int8_t *rt_out = malloc((size_t)ds->n * plan.output_bytes);
    CHECK(plan.output_type == MCO_ELEM_S8 && plan.output_bytes == (size_t)nc);
    mco_normalize_input(&qat->norm, ds->samples_u8, (size_t)ds->n * in_size, x);
    CHECK_OK(mco_qat_predict(qat, r, x, ds->n, fq_out));
    CHECK_OK(mco_deploy_predict_raw(dm, &plan, ds->samples_u8, ds->n, NULL, rt_out));
    int agree = 0, correct_fq = 0, correct_rt = 0;
    *logits_exact = -1.0;   /* int8 logits: compare the values too, in output steps */
    *max_step_diff = 0.0;
    if (dm->layers[dm->model.n_layers - 1].n_channels > 0) {
        mco_qparams oq = dm->layers[dm->model.n_layers - 1].output;
        size_t exact = 0, n = (size_t)ds->n * (size_t)nc;
        for (size_t k = 0; k < n; k++) {
            double d = fabs(fq_out[k] / oq.scale + oq.zero_point - rt_out[k]);
            exact += d < 0.5;
            *max_step_diff = d > *max_step_diff ? d : *max_step_diff;
        }
        *logits_exact = (double)exact / (double)n;
    }
    for (int s = 0; s < ds->n; s++) {
        int a = argmax(fq_out + (size_t)s * nc, nc), b = argmax_s8(rt_out + (size_t)s * nc, nc);
        agree += a == b;
        correct_fq += a == ds->labels[s];
        correct_rt += b == ds->labels[s];
    }
    *acc_fq = (double)correct_fq / ds->n;
    *acc_rt = (double)correct_rt / ds->n;
    free(x);
    free(fq_out);
    free(rt_out);
    mco_plan_free(&plan);
    return (double)agree / ds->n;
}

static void test_conversion_synthetic(const mco_dataset *train, const mco_dataset *test)
{
    mco_model m, qat;
    make_model(RICH, (mco_shape){8, 8, 1}, 5, &m);
    train_float(&m, train, 2, 2);
    CHECK_OK(mco_qat_prepare(&m, &qat));
    CHECK(qat.n_layers == m.n_layers - 1);   /* the BatchNorm is gone */
    mco_qat_ranges r;
    train_qat(&qat, train, 2, 2, &r);
    mco_deploy_model dm;
    CHECK_OK(mco_qat_convert(&qat, &r, &dm));
    check_conversion_matches(&qat, &r, &dm);
    double acc_fq, acc_rt, exact, max_diff;
    double agree = runtime_agreement(&qat, &r, &dm, test, &acc_fq, &acc_rt, &exact, &max_diff);
    printf("synthetic (conv, depthwise, add, avgpool): fake-quant %.2f %%, int8 runtime %.2f %%, "
           "argmax agreement %.2f %%\n", 100 * acc_fq, 100 * acc_rt, 100 * agree);
    CHECK(acc_fq > 0.9);
    CHECK(agree >= 0.98);
    /* the library's evaluations agree with the per-sample ones */
    mco_eval_result e;
    CHECK_OK(mco_qat_evaluate(&qat, &r, test, 2, &e));
    CHECK(e.accuracy == acc_fq);
    mco_eval_result_free(&e);
    CHECK_OK(mco_deploy_evaluate(&dm, test, 2, &e));
    CHECK(e.accuracy == acc_rt);
    mco_eval_result_free(&e);
    mco_deploy_free(&dm);
    mco_qat_ranges_free(&r);
    mco_model_free(&qat);
    mco_model_free(&m);
}

static void test_conversion_mnist(void)
{
    mco_dataset train, test;
    if (!test_load_mnist_subset(6000, 2000, &train, &test, "QAT conversion on MNIST")) return;
    mco_model m, qat;
    CHECK_OK(mco_arch_load("mnist-paper", train.shape, 10, &m));
    CHECK_OK(mco_model_alloc_params(&m));
    mco_model_init_params(&m, 1);
    m.norm = (mco_normalization){1.0f / 255.0f, 0.1307f, 0.3081f};
    train_float(&m, &train, 2, 2);
    CHECK_OK(mco_qat_prepare(&m, &qat));
    mco_qat_ranges r;
    train_qat(&qat, &train, 1, 2, &r);
    mco_deploy_model dm;
    CHECK_OK(mco_qat_convert(&qat, &r, &dm));
    check_conversion_matches(&qat, &r, &dm);
    double acc_fq, acc_rt, exact, max_diff;
    double agree = runtime_agreement(&qat, &r, &dm, &test, &acc_fq, &acc_rt, &exact, &max_diff);
    printf("mnist-paper, 6000 images, 2 float + 1 QAT epochs, 2000 test images: fake-quant %.2f %%, "
           "int8 runtime %.2f %%, argmax agreement %.2f %%, int8 logits equal %.2f %% (others off by %.0f step)\n",
           100 * acc_fq, 100 * acc_rt, 100 * agree, 100 * exact, max_diff);
    CHECK(acc_fq > 0.88);
    CHECK(exact >= 0.99);
    CHECK(max_diff <= 1.0 + 1e-3);   /* only rounding at the edge of a step differs */
    CHECK(agree >= 0.995);
    CHECK(fabs(acc_fq - acc_rt) <= 0.001 + 1e-9);   /* within 0.1 points */
    mco_deploy_free(&dm);
    mco_qat_ranges_free(&r);
    mco_model_free(&qat);
    mco_model_free(&m);
    mco_dataset_free(&train);
    mco_dataset_free(&test);
}

/* ---- Determinism and QAT off ---- */

static const char *SMALL_CNN = "input 8 8 1\n"
                               "conv2d filters=4 kernel=3 padding=same\n"
                               "relu\n"
                               "maxpool2d pool=2\n"
                               "flatten\n"
                               "dense units=4\n";

static void test_determinism(const mco_dataset *train)
{
    mco_model base, a, b;
    make_model(SMALL_CNN, (mco_shape){8, 8, 1}, 3, &base);
    train_float(&base, train, 1, 2);
    CHECK_OK(mco_qat_prepare(&base, &a));
    CHECK_OK(mco_qat_prepare(&base, &b));
    mco_qat_ranges ra, rb;
    train_qat(&a, train, 1, 2, &ra);
    train_qat(&b, train, 1, 2, &rb);
    CHECK(test_same_params(&a, &b));
    CHECK(ra.updates == rb.updates);
    CHECK(memcmp(ra.lo, rb.lo, (size_t)ra.n_layers * sizeof(float)) == 0);
    CHECK(memcmp(ra.hi, rb.hi, (size_t)ra.n_layers * sizeof(float)) == 0);
    CHECK(!test_same_params(&a, &base));   /* QAT did train */
    /* freeze_fraction 0.75 of 32 steps: the first 24 steps moved the ranges */
    CHECK(ra.updates == 24);
    mco_qat_ranges_free(&ra);
    mco_qat_ranges_free(&rb);
    mco_model_free(&a);
    mco_model_free(&b);
    mco_model_free(&base);
}

static void test_qat_off_unchanged(const mco_dataset *train)
{
    /* Without a QAT config training is plain float training: two runs
     * around a QAT run of the same model agree bit for bit, and the QAT
     * run differs. (That the float path is bit-identical to the trainer
     * before QAT existed was checked by comparing model files.) */
    mco_model base, before, with_qat, after;
    make_model(SMALL_CNN, (mco_shape){8, 8, 1}, 9, &base);
    CHECK_OK(mco_model_clone(&base, &before));
    CHECK_OK(mco_model_clone(&base, &with_qat));
    CHECK_OK(mco_model_clone(&base, &after));
    train_float(&before, train, 1, 2);
    mco_qat_ranges r;
    train_qat(&with_qat, train, 1, 2, &r);
    train_float(&after, train, 1, 2);
    CHECK(test_same_params(&before, &after));
    CHECK(!test_same_params(&before, &with_qat));
    mco_qat_ranges_free(&r);
    mco_model_free(&base);
    mco_model_free(&before);
    mco_model_free(&with_qat);
    mco_model_free(&after);
}

/* ---- Errors ---- */

static void test_errors(const mco_dataset *train)
{
    mco_model bn, m;
    /* an unfolded BatchNorm: QAT training refuses it */
    make_model("input 8 8 1\nconv2d filters=2 kernel=3\nbatchnorm\nflatten\ndense units=4\n", (mco_shape){8, 8, 1},
               1, &bn);
    mco_qat_ranges r;
    CHECK_OK(mco_qat_ranges_init(&r, &bn));
    mco_qat_config cfg;
    mco_qat_config_default(&cfg);
    cfg.ranges = &r;
    mco_train_options opt;
    mco_train_options_default(&opt);
    opt.epochs = 1;
    opt.qat = &cfg;
    mco_train_result res;
    CHECK(mco_train(&bn, train, NULL, &opt, &res) == MCO_ERR_UNSUPPORTED);
    CHECK(strstr(mco_last_error(), "BatchNorm") != NULL);
    mco_qat_ranges_free(&r);

    /* a BatchNorm that cannot be folded (after the input) */
    mco_model unfoldable;
    make_model("input 8 8 1\nbatchnorm\nflatten\ndense units=4\n", (mco_shape){8, 8, 1}, 1, &unfoldable);
    CHECK(mco_qat_prepare(&unfoldable, &m) == MCO_ERR_UNSUPPORTED);
    mco_model_free(&unfoldable);

    /* ranges of the wrong model, ranges never trained, bad options */
    CHECK_OK(mco_qat_prepare(&bn, &m));
    CHECK_OK(mco_qat_ranges_init(&r, &bn));   /* one layer more than the folded model */
    cfg.ranges = &r;
    CHECK(mco_train(&m, train, NULL, &opt, &res) == MCO_ERR_ARG);
    mco_qat_ranges_free(&r);
    CHECK_OK(mco_qat_ranges_init(&r, &m));
    mco_deploy_model dm;
    CHECK(mco_qat_convert(&m, &r, &dm) == MCO_ERR_ARG);
    mco_eval_result e;
    CHECK(mco_qat_evaluate(&m, &r, train, 1, &e) == MCO_ERR_ARG);
    cfg.ema_decay = 1.0f;
    CHECK(mco_train(&m, train, NULL, &opt, &res) == MCO_ERR_ARG);
    mco_qat_ranges_free(&r);
    mco_model_free(&m);
    mco_model_free(&bn);
}

int main(void)
{
    mco_dataset train, test;
    make_squares(&train, 1000, 11);
    make_squares(&test, 400, 12);
    test_fake_quantize_formula();
    test_forward_by_hand();
    test_ste_gradients();
    test_conversion_synthetic(&train, &test);
    test_determinism(&train);
    test_qat_off_unchanged(&train);
    test_errors(&train);
    test_conversion_mnist();
    mco_dataset_free(&train);
    mco_dataset_free(&test);
    TEST_MAIN_END();
}
