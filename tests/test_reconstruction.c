/*
 * test_reconstruction.c - reconstruction models (an architecture's
 * `loss mse`, the anomaly detection autoencoder) and the AUC of their error.
 *
 * - mco_mse: its value on a hand case, and its gradient against central
 *   differences of the loss in double.
 * - The MSE gradient through a network: the loss train.c minimises, the mean
 *   over a batch of mco_mse(output, input), back-propagated by mco_net, is
 *   compared with central differences for every trainable parameter (the
 *   target, the input, does not depend on them).
 * - Training an autoencoder (mco_train) lowers its mean reconstruction error
 *   on held-out data by more than half; samples labelled anomalous are not
 *   trained on (the result is bit for bit that of the normal ones alone), and mco_evaluate's error and AUC are
 *   exactly those computed here from mco_model_predict's outputs.
 * - mco_auc on hand-computed cases, ties included (a tie counts one half),
 *   and against a pairwise count on 300 samples with many ties; its refusals
 *   (a label other than 0/1, one kind missing, a score not finite).
 * - A set of windows cut from recordings (mco_dataset.groups) is scored per
 *   recording: mco_eval_reconstruction_summary's AUC is mco_auc of each
 *   group's mean error (hand case where it differs from the per-window AUC),
 *   after a copy (mco_dataset_split keeps the groups), and a group holding
 *   both labels is refused.
 * - Errors are one line each: a `loss mse` text with a classes line or
 *   whose output is not the input's size, an unknown loss, evaluation labels
 *   other than 0/1 for an autoencoder, distillation into one, and a classifier with more outputs
 *   than MCO_MAX_CLASSES (what a Dense autoencoder without `loss mse` is).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mcuopt/arch.h"
#include "mcuopt/graph.h"
#include "mcuopt/rng.h"
#include "mcuopt/train.h"
#include "test_util.h"
#include "train/layer_ops.h"
#include "train/net.h"

#define BATCH 3
#define EPS 1e-2f

static mco_rng rng;

static float uniform(float lo, float hi)
{
    return lo + (hi - lo) * mco_rng_uniform(&rng);
}

static void test_mse_value_and_gradient(void)
{
    const float out2[2] = {1.0f, 2.0f}, zero2[2] = {0.0f, 0.0f};
    CHECK_NEAR(mco_mse(out2, zero2, 2, NULL, 0.0f), 2.5, 1e-12);   /* (1 + 4) / 2 */
    float out[7], target[7], grad[7];
    for (int i = 0; i < 7; i++) {
        out[i] = uniform(-2.0f, 2.0f);
        target[i] = uniform(-2.0f, 2.0f);
    }
    const float scale = 0.25f;
    mco_mse(out, target, 7, grad, scale);
    for (int i = 0; i < 7; i++) {
        float saved = out[i];
        out[i] = saved + EPS;
        double plus = scale * mco_mse(out, target, 7, NULL, 0.0f);
        out[i] = saved - EPS;
        double minus = scale * mco_mse(out, target, 7, NULL, 0.0f);
        out[i] = saved;
        CHECK_NEAR(grad[i], (plus - minus) / (2.0 * EPS), 1e-4);
    }
}

/* The batch loss train.c minimises: mean over samples of mco_mse(y, x). */
static double batch_loss(mco_net *net, int d, float *grad)
{
    mco_net_forward(net, BATCH, 1);
    const int last = net->model->n_layers - 1;
    double loss = 0.0;
    for (int s = 0; s < BATCH; s++)
        loss += mco_mse(net->act[last] + (size_t)s * d, net->input + (size_t)s * d, d,
                        grad ? grad + (size_t)s * d : NULL, 1.0f / BATCH) / BATCH;
    return loss;
}

static void test_mse_network_gradient(void)
{
    static const char text[] = "input 1 1 6\nloss mse\ndense units=4\nbatchnorm\ndense units=3\ndense units=6\n";
    mco_model m;
    CHECK_OK(mco_arch_parse(text, "ae.arch", (mco_shape){0, 0, 0}, 0, &m));
    CHECK(m.loss == MCO_LOSS_MSE);
    CHECK_OK(mco_model_alloc_params(&m));
    mco_model_init_params(&m, 5);
    mco_net net;
    CHECK_OK(mco_net_init(&net, &m, BATCH, MCO_NET_GRADIENTS));
    const int d = 6, last = m.n_layers - 1;
    for (int i = 0; i < BATCH * d; i++) net.input[i] = uniform(-1.0f, 1.0f);
    mco_net_zero_grads(&net, BATCH);
    batch_loss(&net, d, net.grad[last]);
    mco_net_backward(&net, BATCH, last, 1);
    int checked = 0, bad = 0;
    for (int l = 0; l < m.n_layers; l++)
        for (int p = 0; p < m.layers[l].n_params; p++) {
            if (!mco_param_is_trainable(&m.layers[l], p)) continue;
            const float *g = net.param_grad[l * MCO_MAX_PARAMS + p];
            float *v = m.layers[l].params[p].data;
            for (size_t k = 0; k < m.layers[l].params[p].size; k++, checked++) {
                float saved = v[k];
                v[k] = saved + EPS;
                double plus = batch_loss(&net, d, NULL);
                v[k] = saved - EPS;
                double minus = batch_loss(&net, d, NULL);
                v[k] = saved;
                double numeric = (plus - minus) / (2.0 * EPS);
                if (fabs(g[k] - numeric) > 2e-3 + 2e-2 * fabs(numeric)) {
                    fprintf(stderr, "  %s param %d [%zu]: analytic %.6g numeric %.6g\n", m.layers[l].name, p, k,
                            (double)g[k], numeric);
                    bad++;
                }
            }
        }
    CHECK(checked > 50);
    CHECK(bad == 0);
    mco_net_free(&net);
    mco_model_free(&m);
}

/* n samples of 16 float values on a low-dimensional pattern (two sines of
 * random amplitude) plus noise; label 1 (anomalous) samples get a spike. */
static void make_set(int n, int labelled, uint64_t seed, mco_dataset *ds)
{
    memset(ds, 0, sizeof *ds);
    mco_rng r;
    mco_rng_seed(&r, seed);
    ds->n = n;
    ds->shape = (mco_shape){1, 1, 16};
    ds->sample_type = MCO_SAMPLE_F32;
    ds->samples_f32 = malloc((size_t)n * 16 * sizeof(float));
    ds->label_kind = labelled ? MCO_LABELS_CLASS : MCO_LABELS_NONE;
    ds->n_classes = labelled ? 2 : 0;
    ds->labels = labelled ? calloc((size_t)n, 1) : NULL;
    snprintf(ds->name, sizeof ds->name, "synthetic");
    for (int s = 0; s < n; s++) {
        float a = mco_rng_uniform(&r) * 2.0f - 1.0f, b = mco_rng_uniform(&r) * 2.0f - 1.0f;
        int anomalous = labelled && s % 2;
        if (labelled) ds->labels[s] = (uint8_t)anomalous;
        for (int i = 0; i < 16; i++) {
            float v = a * sinf(0.4f * (float)i) + b * cosf(0.9f * (float)i) + 0.05f * (mco_rng_uniform(&r) - 0.5f);
            if (anomalous && i == 5 + s % 7) v += 1.5f;
            ds->samples_f32[s * 16 + i] = v;
        }
    }
}

static void test_train_and_evaluate(void)
{
    static const char text[] = "input 1 1 16\nloss mse\ndense units=16\nrelu\ndense units=2\ndense units=16\nrelu\n"
                               "dense units=16\n";
    mco_model m;
    CHECK_OK(mco_arch_parse(text, "ae16.arch", (mco_shape){0, 0, 0}, 0, &m));
    CHECK_OK(mco_model_alloc_params(&m));
    mco_model_init_params(&m, 1);
    mco_dataset train, test;
    make_set(512, 0, 3, &train);
    make_set(200, 1, 4, &test);

    mco_eval_result before, after;
    CHECK_OK(mco_evaluate(&m, &test, 2, &before));
    CHECK(before.kind == MCO_LOSS_MSE && before.confusion == NULL && before.n == 200);
    mco_train_options opt;
    mco_train_options_default(&opt);
    opt.epochs = 30;
    opt.threads = 2;
    mco_train_result tr;
    CHECK_OK(mco_train(&m, &train, NULL, &opt, &tr));
    CHECK_OK(mco_evaluate(&m, &test, 2, &after));
    printf("reconstruction error %.4f -> %.4f, AUC %.4f\n", before.loss, after.loss, after.auc);
    CHECK(after.loss < 0.5 * before.loss);
    CHECK(after.auc > 0.8);

    /* The same figures from the outputs directly. */
    float *out = malloc((size_t)test.n * 16 * sizeof(float));
    double *errors = malloc((size_t)test.n * sizeof(double));
    CHECK_OK(mco_model_predict(&m, test.samples_f32, test.n, out));
    double sum = 0.0;
    for (int s = 0; s < test.n; s++) {
        errors[s] = mco_mse(out + s * 16, test.samples_f32 + s * 16, 16, NULL, 0.0f);
        sum += errors[s];
    }
    double auc;
    CHECK_OK(mco_auc(errors, test.labels, test.n, &auc));
    CHECK_NEAR(after.loss, sum / test.n, 1e-9);
    CHECK_NEAR(after.auc, auc, 1e-12);

    /* Unlabelled data: an error but no AUC. Labels other than 0/1: one line. */
    mco_eval_result r;
    CHECK_OK(mco_evaluate(&m, &train, 2, &r));
    CHECK(r.auc == -1.0 && r.loss > 0.0);
    test.labels[7] = 2;
    CHECK(mco_evaluate(&m, &test, 2, &r) == MCO_ERR_RANGE);
    CHECK(strstr(mco_last_error(), "evaluation set: label 2 of sample 7: an autoencoder's labels are 0 (normal) or 1 "
                                   "(anomalous)") != NULL);
    /* Training does not read the labels. */
    opt.epochs = 1;
    CHECK_OK(mco_train(&m, &test, NULL, &opt, &tr));
    /* Anomalous samples (label 1) are not trained on: training on the test
     * set gives bit for bit the model trained on its normal half alone. */
    mco_model with, without;
    CHECK_OK(mco_arch_parse(text, "ae16.arch", (mco_shape){0, 0, 0}, 0, &with));
    CHECK_OK(mco_model_alloc_params(&with));
    mco_model_init_params(&with, 2);
    CHECK_OK(mco_model_clone(&with, &without));
    mco_dataset normal = test;
    normal.labels = NULL;
    normal.label_kind = MCO_LABELS_NONE;
    normal.n_classes = 0;
    normal.n = 0;
    normal.samples_f32 = malloc((size_t)test.n * 16 * sizeof(float));
    test.labels[7] = 1;
    for (int i = 0; i < test.n; i++)
        if (test.labels[i] == 0) memcpy(normal.samples_f32 + 16 * normal.n++, test.samples_f32 + 16 * i, 16 * sizeof(float));
    CHECK(normal.n == 100);
    opt.epochs = 2;
    CHECK_OK(mco_train(&with, &test, NULL, &opt, &tr));
    CHECK_OK(mco_train(&without, &normal, NULL, &opt, &tr));
    for (int l = 0; l < with.n_layers; l++)
        for (int p = 0; p < with.layers[l].n_params; p++)
            CHECK(memcmp(with.layers[l].params[p].data, without.layers[l].params[p].data,
                         with.layers[l].params[p].size * sizeof(float)) == 0);
    mco_model_free(&with);
    mco_model_free(&without);
    free(normal.samples_f32);
    memset(test.labels, 1, (size_t)test.n);
    CHECK(mco_train(&m, &test, NULL, &opt, &tr) == MCO_ERR_ARG);
    CHECK(strstr(mco_last_error(), "training set: all 200 samples are labelled anomalous (1); an autoencoder trains "
                                   "on normal (0) ones") != NULL);
    /* Distillation has no meaning for an autoencoder. */
    float teacher[16] = {0};
    opt.teacher_logits = teacher;
    CHECK(mco_train(&m, &test, NULL, &opt, &tr) == MCO_ERR_ARG);
    CHECK(strstr(mco_last_error(), "distillation needs a classifier, not a reconstruction model (loss mse)") != NULL);
    free(out);
    free(errors);
    mco_dataset_free(&train);
    mco_dataset_free(&test);
    mco_model_free(&m);
}

/* O(n^2) reference: pairs (anomalous, normal) with the anomalous one above, ties one half. */
static double auc_pairwise(const double *scores, const uint8_t *labels, int n)
{
    double u = 0.0, pairs = 0.0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            if (labels[i] == 1 && labels[j] == 0) {
                pairs += 1.0;
                u += scores[i] > scores[j] ? 1.0 : (scores[i] == scores[j] ? 0.5 : 0.0);
            }
    return u / pairs;
}

static void test_auc(void)
{
    double auc;
    /* 4 pairs: 0.35 beats 0.1 only, 0.8 beats both: 3 of 4. */
    const double s1[] = {0.1, 0.4, 0.35, 0.8};
    const uint8_t l1[] = {0, 0, 1, 1};
    CHECK_OK(mco_auc(s1, l1, 4, &auc));
    CHECK_NEAR(auc, 0.75, 1e-15);
    /* A tie between an anomalous and a normal sample counts one half: (0.5 + 1 + 1 + 1) / 4. */
    const double s2[] = {0.5, 0.5, 0.2, 0.9};
    const uint8_t l2[] = {0, 1, 0, 1};
    CHECK_OK(mco_auc(s2, l2, 4, &auc));
    CHECK_NEAR(auc, 0.875, 1e-15);
    /* All equal: one half; reversed: 0; separated: 1. */
    const double s3[] = {1, 1, 1, 1, 1};
    const uint8_t l3[] = {0, 1, 0, 1, 1};
    CHECK_OK(mco_auc(s3, l3, 5, &auc));
    CHECK_NEAR(auc, 0.5, 1e-15);
    const double s4[] = {3, 2, 1};
    const uint8_t l4[] = {0, 0, 1};
    CHECK_OK(mco_auc(s4, l4, 3, &auc));
    CHECK_NEAR(auc, 0.0, 1e-15);
    const uint8_t l5[] = {1, 1, 0};
    CHECK_OK(mco_auc(s4, l5, 3, &auc));
    CHECK_NEAR(auc, 1.0, 1e-15);
    /* Ties within one kind do not matter: 2 normals at 1, anomalous at 1 and 2: (0.5 + 0.5 + 1 + 1) / 4. */
    const double s6[] = {1, 1, 1, 2};
    const uint8_t l6[] = {0, 0, 1, 1};
    CHECK_OK(mco_auc(s6, l6, 4, &auc));
    CHECK_NEAR(auc, 0.75, 1e-15);

    double scores[300];
    uint8_t labels[300];
    for (int i = 0; i < 300; i++) {
        labels[i] = (uint8_t)(mco_rng_uniform(&rng) < 0.3f);
        scores[i] = floor(10.0 * mco_rng_uniform(&rng)) + (labels[i] ? 2.0 : 0.0);   /* 12 levels: many ties */
    }
    CHECK_OK(mco_auc(scores, labels, 300, &auc));
    CHECK_NEAR(auc, auc_pairwise(scores, labels, 300), 1e-12);
    CHECK(auc > 0.5 && auc < 1.0);

    const uint8_t bad[] = {0, 2, 1};
    CHECK(mco_auc(s4, bad, 3, &auc) == MCO_ERR_ARG && auc == -1.0);
    CHECK(strstr(mco_last_error(), "label 2 of sample 1 is neither 0 (normal) nor 1 (anomalous)") != NULL);
    const uint8_t one_kind[] = {0, 0, 0};
    CHECK(mco_auc(s4, one_kind, 3, &auc) == MCO_ERR_ARG);
    CHECK(strstr(mco_last_error(), "needs normal (0) and anomalous (1) samples, got 3 and 0") != NULL);
    const double with_nan[] = {1, NAN, 2};
    CHECK(mco_auc(with_nan, l4, 3, &auc) == MCO_ERR_RANGE);
    CHECK(strstr(mco_last_error(), "the score of sample 1 is not finite") != NULL);
}

static void test_group_auc(void)
{
    /* 3 recordings of 2 windows: normal (0.1, 0.9) mean 0.5, normal (0.2, 0.2) mean 0.2, anomalous (0.4, 0.8)
     * mean 0.6. Per window 0.4 beats 0.1, 0.2, 0.2 and 0.8 beats three: (3 + 3) / 8 = 0.75; per recording the
     * anomalous one beats both normal ones: 1. */
    float values[6] = {0};
    uint8_t labels[6] = {0, 0, 0, 0, 1, 1};
    int groups[6] = {0, 0, 1, 1, 2, 2};
    const double errors[6] = {0.1, 0.9, 0.2, 0.2, 0.4, 0.8};
    mco_dataset ds = {.n = 6, .shape = {1, 1, 1}, .sample_type = MCO_SAMPLE_F32, .samples_f32 = values,
                      .label_kind = MCO_LABELS_CLASS, .n_classes = 2, .labels = labels};
    mco_eval_result r;
    CHECK_OK(mco_eval_reconstruction_summary(&ds, errors, &r));
    CHECK_NEAR(r.auc, 0.75, 1e-15);
    ds.groups = groups;
    CHECK_OK(mco_eval_reconstruction_summary(&ds, errors, &r));
    CHECK_NEAR(r.auc, 1.0, 1e-15);
    CHECK_NEAR(r.loss, 2.6 / 6.0, 1e-15);
    /* a copy keeps each sample's group: the AUC of the permuted copy is the same */
    mco_dataset all, none;
    CHECK_OK(mco_dataset_split(&ds, 0, 7, &all, &none));
    CHECK(all.groups != NULL);
    double permuted[6];
    /* each copied window scored by its group's mean: the same per-recording scores */
    for (int i = 0; i < 6 && all.groups; i++)
        permuted[i] = (errors[2 * all.groups[i]] + errors[2 * all.groups[i] + 1]) / 2.0;
    CHECK_OK(mco_eval_reconstruction_summary(&all, permuted, &r));
    CHECK_NEAR(r.auc, 1.0, 1e-15);
    mco_dataset_free(&all);
    mco_dataset_free(&none);
    groups[5] = 1;   /* recording 1 now holds normal and anomalous windows */
    CHECK(mco_eval_reconstruction_summary(&ds, errors, &r) == MCO_ERR_ARG);
    CHECK(strstr(mco_last_error(), "recording 1 holds both normal and anomalous samples") != NULL);
}

static void expect_arch_error(const char *text, const char *message)
{
    mco_model m;
    mco_status st = mco_arch_parse(text, "t.arch", (mco_shape){0, 0, 0}, 0, &m);
    CHECK(st != MCO_OK);
    if (st == MCO_OK || !strstr(mco_last_error(), message)) {
        fprintf(stderr, "  wanted \"%s\", got \"%s\"\n", message, st == MCO_OK ? "success" : mco_last_error());
        test_failures++;
    }
    if (st == MCO_OK) mco_model_free(&m);
}

static void test_errors(void)
{
    expect_arch_error("input 1 1 8\nclasses 8\nloss mse\ndense units=8\n",
                      "t.arch:3: loss mse reconstructs the input and takes no classes line");
    expect_arch_error("input 1 1 8\nloss mse\nclasses 8\ndense units=8\n",
                      "t.arch:3: loss mse reconstructs the input and takes no classes line");
    expect_arch_error("input 1 1 8\nloss mae\ndense units=8\n", "t.arch:2: expected: loss mse | cross_entropy");
    expect_arch_error("input 1 1 8\nloss mse\ndense units=4\n",
                      "t.arch: loss mse reconstructs the input: the output has 4 values, the input 8");
    /* A Dense autoencoder without `loss mse` is a classifier of 784 classes: one line saying so. */
    mco_model m;
    CHECK_OK(mco_arch_parse("input 28 28 1\nflatten\ndense units=32\nrelu\ndense units=784\n", "ae784.arch",
                            (mco_shape){0, 0, 0}, 0, &m));
    mco_dataset ds;
    make_set(4, 1, 9, &ds);
    ds.shape = (mco_shape){28, 28, 1};
    CHECK(mco_check_dataset(&m, &ds, "training") == MCO_ERR_SHAPE);
    CHECK(strstr(mco_last_error(), "model outputs 784 values, more classes than 100 (an autoencoder needs a "
                                   "'loss mse' line in its architecture)") != NULL);
    mco_dataset_free(&ds);
    mco_model_free(&m);
}

int main(void)
{
    mco_rng_seed(&rng, 2024);
    test_mse_value_and_gradient();
    test_mse_network_gradient();
    test_auc();
    test_group_auc();
    test_errors();
    test_train_and_evaluate();
    TEST_MAIN_END();
}
