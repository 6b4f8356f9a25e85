/*
 * test_distill.c - knowledge distillation (distill.h) on a small synthetic
 * image problem:
 *   - alpha = 1 is plain training, bit for bit;
 *   - alpha = 0 moves a half-width student towards its teacher (the KL
 *     divergence falls; with a teacher that contradicts the labels the
 *     student follows the teacher, not the labels);
 *   - the distillation gradient, read off one plain SGD step (lr 1), matches
 *     central finite differences of alpha*CE + (1-alpha)*T^2*KL;
 *   - width scaling: parameter counts of mnist-paper x0.5 / x2, resnet8's
 *     residual adds, the minimum of one filter, bad multipliers;
 *   - teacher logits: independent of the thread count, the logits before a
 *     final Softmax, and from deploy models (float32 and int8);
 *   - repeatability of a distillation run.
 */
#include <stdint.h>
#include <string.h>

#include "mcuopt/rng.h"
#include "mcuopt/arch.h"
#include "mcuopt/distill.h"
#include "mcuopt/train.h"
#include "test_fixtures.h"

#define CLASSES 4

/* 8x8 images of 4 classes: a random prototype image per class plus noise. */
static void make_prototypes(mco_dataset *ds, int n, uint64_t seed)
{
    mco_rng rng;
    mco_rng_seed(&rng, 99);   /* the prototypes are the same for every split */
    uint8_t proto[CLASSES][64];
    for (int k = 0; k < CLASSES; k++)
        for (int p = 0; p < 64; p++) proto[k][p] = (uint8_t)mco_rng_below(&rng, 200);
    mco_rng_seed(&rng, seed);
    test_dataset_alloc(ds, "prototypes", n, (mco_shape){8, 8, 1}, CLASSES);
    for (int i = 0; i < n; i++) {
        int label = (int)mco_rng_below(&rng, CLASSES);
        for (int p = 0; p < 64; p++) {
            int v = proto[label][p] + (int)mco_rng_below(&rng, 120) - 60;
            ds->samples_u8[(size_t)i * 64 + (size_t)p] = (uint8_t)(v < 0 ? 0 : (v > 255 ? 255 : v));
        }
        ds->labels[i] = (uint8_t)label;
    }
}

static const char *small_arch = "input 8 8 1\n"
                                "classes 4\n"
                                "conv2d filters=8 kernel=3\n"
                                "relu\n"
                                "maxpool2d pool=2\n"
                                "flatten\n"
                                "dense units=classes\n";

static void build(const char *text, uint64_t seed, mco_model *m)
{
    CHECK_OK(mco_arch_parse(text, "test", (mco_shape){0, 0, 0}, 0, m));
    CHECK_OK(mco_model_alloc_params(m));
    mco_model_init_params(m, seed);
    m->norm = (mco_normalization){1.0f / 255.0f, 0.4f, 0.3f};
}

static void train_teacher(const mco_dataset *train, mco_model *teacher)
{
    build(small_arch, 11, teacher);
    mco_train_options opt;
    mco_train_options_default(&opt);
    opt.epochs = 3;
    opt.threads = 2;
    mco_train_result r;
    CHECK_OK(mco_train(teacher, train, NULL, &opt, &r));
}

static void check_alpha_one_is_plain_training(const mco_dataset *train, const float *teacher_logits)
{
    mco_distill_options dopt;
    mco_distill_options_default(&dopt);
    CHECK(dopt.alpha == 0.1f && dopt.temperature == 4.0f && dopt.train.epochs == 3);
    dopt.train.epochs = 2;
    dopt.train.threads = 2;
    dopt.train.batch_size = 25;
    dopt.alpha = 1.0f;
    mco_model plain, distilled, mixed;
    build(small_arch, 5, &plain);
    build(small_arch, 5, &distilled);
    build(small_arch, 5, &mixed);
    mco_train_result r1, r2, r3;
    CHECK_OK(mco_train(&plain, train, NULL, &dopt.train, &r1));
    CHECK_OK(mco_distill(&distilled, teacher_logits, train, NULL, &dopt, &r2));
    CHECK(test_same_params(&plain, &distilled));
    CHECK(r1.final_loss == r2.final_loss);
    dopt.alpha = 0.5f;   /* the teacher does matter otherwise */
    CHECK_OK(mco_distill(&mixed, teacher_logits, train, NULL, &dopt, &r3));
    CHECK(!test_same_params(&plain, &mixed));
    mco_model_free(&plain);
    mco_model_free(&distilled);
    mco_model_free(&mixed);
}

static double student_kl(const mco_model *student, const mco_dataset *data, const float *teacher_logits, float T)
{
    float *logits = NULL;
    CHECK_OK(mco_teacher_logits_float(student, data, 2, &logits));
    double kl = logits ? mco_logits_kl_divergence(teacher_logits, logits, data->n, CLASSES, T) : 1e30;
    free(logits);
    return kl;
}

static void check_alpha_zero_imitates(const mco_model *teacher, const mco_dataset *train, const float *teacher_logits)
{
    mco_distill_options dopt;
    mco_distill_options_default(&dopt);
    dopt.train.epochs = 3;
    dopt.train.threads = 2;
    dopt.alpha = 0.0f;
    dopt.temperature = 4.0f;
    mco_model student, plain;
    CHECK_OK(mco_model_scale_width(teacher, 0.5f, &student));
    CHECK_OK(mco_model_alloc_params(&student));
    mco_model_init_params(&student, 7);
    CHECK_OK(mco_model_clone(&student, &plain));
    double kl_before = student_kl(&student, train, teacher_logits, 4.0f);
    mco_train_result r;
    CHECK_OK(mco_distill(&student, teacher_logits, train, NULL, &dopt, &r));
    double kl_after = student_kl(&student, train, teacher_logits, 4.0f);
    printf("KL(teacher || student) at T=4: %.5f before, %.5f after distillation (alpha 0)\n", kl_before, kl_after);
    CHECK(kl_after < 0.2 * kl_before);

    /* A teacher that disagrees with the labels (its class k is class k+1):
     * with alpha 0 the student follows the teacher, not the labels. */
    float *shifted = malloc((size_t)train->n * CLASSES * sizeof(float));
    for (int s = 0; s < train->n; s++)
        for (int k = 0; k < CLASSES; k++)
            shifted[s * CLASSES + (k + 1) % CLASSES] = teacher_logits[s * CLASSES + k];
    mco_model follower;
    CHECK_OK(mco_model_clone(&plain, &follower));
    CHECK_OK(mco_distill(&follower, shifted, train, NULL, &dopt, &r));
    CHECK_OK(mco_train(&plain, train, NULL, &dopt.train, &r));
    double kl_follower = student_kl(&follower, train, shifted, 1.0f);
    double kl_plain = student_kl(&plain, train, shifted, 1.0f);
    mco_eval_result eval;
    CHECK_OK(mco_evaluate(&follower, train, 2, &eval));
    printf("shifted teacher: KL at T=1 %.5f distilled vs %.5f plain training; distilled label accuracy %.3f\n",
           kl_follower, kl_plain, eval.accuracy);
    CHECK(kl_follower < 0.5 * kl_plain);
    CHECK(eval.accuracy < 0.2);
    mco_eval_result_free(&eval);
    free(shifted);
    mco_model_free(&follower);
    mco_model_free(&student);
    mco_model_free(&plain);
}

/* The distillation loss of train.h, in double from the model's float logits. */
static double distill_loss(const mco_model *m, const mco_dataset *data, const float *teacher_logits, float alpha,
                           float T)
{
    float *logits = NULL;
    CHECK_OK(mco_teacher_logits_float(m, data, 1, &logits));
    if (!logits) return 0.0;
    double ce = 0.0;
    for (int s = 0; s < data->n; s++) {
        const float *z = logits + (size_t)s * CLASSES;
        double max = z[0], sum = 0.0;
        for (int i = 1; i < CLASSES; i++) max = z[i] > max ? z[i] : max;
        for (int i = 0; i < CLASSES; i++) sum += exp(z[i] - max);
        ce += log(sum) - (z[data->labels[s]] - max);
    }
    double kl = mco_logits_kl_divergence(teacher_logits, logits, data->n, CLASSES, T);
    free(logits);
    return alpha * ce / data->n + (1.0 - alpha) * (double)T * (double)T * kl;
}

static void check_gradient(const mco_dataset *train, const float *teacher_logits)
{
    mco_dataset batch;
    CHECK_OK(mco_dataset_head(train, 16, &batch));
    const float alpha = 0.3f, T = 2.0f;
    mco_model before, after;
    build(small_arch, 21, &before);
    CHECK_OK(mco_model_clone(&before, &after));
    /* One full-batch plain SGD step with lr 1: after = before - gradient. */
    mco_distill_options dopt;
    mco_distill_options_default(&dopt);
    dopt.train.epochs = 1;
    dopt.train.batch_size = batch.n;
    dopt.train.optimizer = MCO_OPTIMIZER_SGD;
    dopt.train.momentum = 0.0f;
    dopt.train.learning_rate = 1.0f;
    dopt.train.schedule = MCO_LR_CONSTANT;
    dopt.train.threads = 1;
    dopt.alpha = alpha;
    dopt.temperature = T;
    mco_train_result r;
    CHECK_OK(mco_distill(&after, teacher_logits, &batch, NULL, &dopt, &r));

    const double h = 1e-3;
    int checked = 0, bad = 0;
    for (int l = 0; l < before.n_layers; l++) {
        for (int p = 0; p < before.layers[l].n_params; p++) {
            mco_param *param = &before.layers[l].params[p];
            for (size_t i = 0; i < param->size; i += param->size / 7 + 1) {
                double step = (double)param->data[i] - (double)after.layers[l].params[p].data[i];
                float saved = param->data[i];
                param->data[i] = (float)(saved + h);
                double up = distill_loss(&before, &batch, teacher_logits, alpha, T);
                param->data[i] = (float)(saved - h);
                double down = distill_loss(&before, &batch, teacher_logits, alpha, T);
                param->data[i] = saved;
                double numeric = (up - down) / (2.0 * h);
                checked++;
                if (fabs(numeric - step) > 1e-3 + 1e-2 * fabs(numeric)) {
                    bad++;
                    fprintf(stderr, "layer %d param %d [%zu]: step gradient %.6g, finite difference %.6g\n", l, p, i,
                            step, numeric);
                }
            }
        }
    }
    printf("distillation gradient: %d of %d parameters agree with finite differences\n", checked - bad, checked);
    CHECK(checked >= 20);
    CHECK(bad == 0);
    mco_model_free(&before);
    mco_model_free(&after);
    mco_dataset_free(&batch);
}

static void check_width_scaling(void)
{
    mco_model paper, half, twice, tiny;
    CHECK_OK(mco_arch_load("mnist-paper", (mco_shape){0, 0, 0}, 0, &paper));
    CHECK(mco_model_param_count(&paper) == 20410);
    CHECK_OK(mco_model_scale_width(&paper, 0.5f, &half));
    CHECK(half.layers[0].units == 6);
    CHECK(half.n_classes == 10);
    CHECK(mco_model_param_count(&half) == 6 * 9 + 6 + 13 * 13 * 6 * 10 + 10);
    CHECK(strcmp(half.arch_name, "mnist-paper x0.5") == 0);
    CHECK_OK(mco_model_scale_width(&paper, 2.0f, &twice));
    CHECK(mco_model_param_count(&twice) == 24 * 9 + 24 + 13 * 13 * 24 * 10 + 10);
    CHECK_OK(mco_model_scale_width(&paper, 0.01f, &tiny));
    CHECK(tiny.layers[0].units == 1);
    mco_model bad;
    CHECK(mco_model_scale_width(&paper, 0.0f, &bad) == MCO_ERR_ARG);
    CHECK(mco_model_scale_width(&paper, 17.0f, &bad) == MCO_ERR_ARG);
    mco_model_free(&paper);
    mco_model_free(&half);
    mco_model_free(&twice);
    mco_model_free(&tiny);

    /* resnet8: residual adds still line up; every conv halves; the hidden
     * dense layers of mlp halve too, the last keeps the classes */
    mco_model resnet, resnet_half;
    CHECK_OK(mco_arch_load("resnet8", (mco_shape){0, 0, 0}, 0, &resnet));
    CHECK_OK(mco_model_scale_width(&resnet, 0.5f, &resnet_half));
    for (int i = 0; i < resnet.n_layers && i < resnet_half.n_layers; i++)
        if (resnet.layers[i].type == MCO_LAYER_CONV2D) CHECK(resnet_half.layers[i].units * 2 == resnet.layers[i].units);
    CHECK(resnet_half.n_classes == 10);
    CHECK(mco_model_param_count(&resnet_half) < mco_model_param_count(&resnet) / 3);
    mco_model_free(&resnet);
    mco_model_free(&resnet_half);

    mco_model mlp, mlp_half;
    CHECK_OK(mco_arch_load("mlp", (mco_shape){0, 0, 0}, 0, &mlp));
    CHECK_OK(mco_model_scale_width(&mlp, 0.5f, &mlp_half));
    int last_dense = -1;
    for (int i = 0; i < mlp.n_layers; i++)
        if (mlp.layers[i].type == MCO_LAYER_DENSE) last_dense = i;
    for (int i = 0; i < mlp.n_layers; i++)
        if (mlp.layers[i].type == MCO_LAYER_DENSE)
            CHECK(mlp_half.layers[i].units ==
                  (i == last_dense ? mlp.layers[i].units : (int)lround(mlp.layers[i].units * 0.5)));
    mco_model_free(&mlp);
    mco_model_free(&mlp_half);
}

static void check_teacher_logits(const mco_model *teacher, const mco_dataset *train, const float *logits)
{
    /* thread count does not matter; equal to mco_model_predict */
    float *one = NULL, *three = NULL;
    CHECK_OK(mco_teacher_logits_float(teacher, train, 1, &one));
    CHECK_OK(mco_teacher_logits_float(teacher, train, 3, &three));
    CHECK(one && three && memcmp(one, logits, (size_t)train->n * CLASSES * sizeof(float)) == 0);
    CHECK(one && three && memcmp(three, logits, (size_t)train->n * CLASSES * sizeof(float)) == 0);
    float input[64], direct[CLASSES];
    mco_normalize_input(&teacher->norm, train->samples_u8 + 5 * 64, 64, input);
    CHECK_OK(mco_model_predict(teacher, input, 1, direct));
    CHECK(memcmp(direct, logits + 5 * CLASSES, sizeof direct) == 0);
    free(one);
    free(three);

    /* with a final Softmax: the logits feeding it */
    char text[512];
    snprintf(text, sizeof text, "%ssoftmax\n", small_arch);
    mco_model with_softmax;
    build(text, 11, &with_softmax);
    for (int l = 0; l < teacher->n_layers; l++)
        for (int p = 0; p < teacher->layers[l].n_params; p++)
            memcpy(with_softmax.layers[l].params[p].data, teacher->layers[l].params[p].data,
                   teacher->layers[l].params[p].size * sizeof(float));
    with_softmax.norm = teacher->norm;
    float *pre_softmax = NULL;
    CHECK_OK(mco_teacher_logits_float(&with_softmax, train, 2, &pre_softmax));
    CHECK(pre_softmax && memcmp(pre_softmax, logits, (size_t)train->n * CLASSES * sizeof(float)) == 0);
    free(pre_softmax);
    mco_model_free(&with_softmax);

    /* a float32 deploy model on the MCU runtime: the same logits up to rounding */
    mco_deploy_model f32, s8;
    CHECK_OK(mco_deploy_from_float(teacher, &f32));
    float *deploy_f32 = NULL;
    CHECK_OK(mco_teacher_logits_deploy(&f32, train, 2, &deploy_f32));
    double max_diff = 0.0;
    for (size_t i = 0; deploy_f32 && i < (size_t)train->n * CLASSES; i++)
        max_diff = fmax(max_diff, fabs(deploy_f32[i] - logits[i]));
    CHECK(deploy_f32 && max_diff < 1e-4);

    /* int8: dequantized outputs, close to the float logits, same for any thread count */
    mco_quant_options qopt;
    mco_quant_options_default(&qopt);
    CHECK_OK(mco_quantize(teacher, train, &qopt, &s8));
    float *deploy_s8 = NULL, *deploy_s8_one = NULL;
    CHECK_OK(mco_teacher_logits_deploy(&s8, train, 3, &deploy_s8));
    CHECK_OK(mco_teacher_logits_deploy(&s8, train, 1, &deploy_s8_one));
    CHECK(deploy_s8 && deploy_s8_one &&
          memcmp(deploy_s8, deploy_s8_one, (size_t)train->n * CLASSES * sizeof(float)) == 0);
    int agree = 0;
    for (int s = 0; deploy_s8 && s < train->n; s++) {
        int a = 0, b = 0;
        for (int i = 1; i < CLASSES; i++) {
            if (logits[s * CLASSES + i] > logits[s * CLASSES + a]) a = i;
            if (deploy_s8[s * CLASSES + i] > deploy_s8[s * CLASSES + b]) b = i;
        }
        agree += a == b;
    }
    printf("int8 teacher: %d of %d argmax agree with the float teacher; float32 deploy max |diff| %.2g\n", agree,
           train->n, max_diff);
    CHECK(agree >= train->n * 95 / 100);
    free(deploy_f32);
    free(deploy_s8);
    free(deploy_s8_one);
    mco_deploy_free(&f32);
    mco_deploy_free(&s8);

    mco_dataset wrong = *train;
    wrong.shape.h = 7;
    float *none = NULL;
    CHECK(mco_teacher_logits_float(teacher, &wrong, 1, &none) == MCO_ERR_SHAPE && none == NULL);
}

static void check_repeatable(const mco_model *teacher, const mco_dataset *train, const float *teacher_logits)
{
    mco_distill_options dopt;
    mco_distill_options_default(&dopt);
    dopt.train.epochs = 1;
    dopt.train.threads = 2;
    mco_model a, b;
    CHECK_OK(mco_model_scale_width(teacher, 0.5f, &a));
    CHECK_OK(mco_model_alloc_params(&a));
    mco_model_init_params(&a, 3);
    CHECK_OK(mco_model_clone(&a, &b));
    mco_train_result r;
    CHECK_OK(mco_distill(&a, teacher_logits, train, NULL, &dopt, &r));
    CHECK_OK(mco_distill(&b, teacher_logits, train, NULL, &dopt, &r));
    CHECK(test_same_params(&a, &b));
    CHECK(mco_distill(&a, NULL, train, NULL, &dopt, &r) == MCO_ERR_ARG);
    dopt.alpha = 1.5f;
    CHECK(mco_distill(&a, teacher_logits, train, NULL, &dopt, &r) == MCO_ERR_ARG);
    mco_model_free(&a);
    mco_model_free(&b);
}

int main(void)
{
    mco_dataset train;
    make_prototypes(&train, 600, 1);
    mco_model teacher;
    train_teacher(&train, &teacher);
    mco_eval_result eval;
    CHECK_OK(mco_evaluate(&teacher, &train, 2, &eval));
    printf("teacher: %.3f training accuracy\n", eval.accuracy);
    CHECK(eval.accuracy > 0.9);
    mco_eval_result_free(&eval);
    float *teacher_logits = NULL;
    CHECK_OK(mco_teacher_logits_float(&teacher, &train, 2, &teacher_logits));
    if (!teacher_logits) return 1;

    check_alpha_one_is_plain_training(&train, teacher_logits);
    check_alpha_zero_imitates(&teacher, &train, teacher_logits);
    check_gradient(&train, teacher_logits);
    check_width_scaling();
    check_teacher_logits(&teacher, &train, teacher_logits);
    check_repeatable(&teacher, &train, teacher_logits);

    free(teacher_logits);
    mco_model_free(&teacher);
    mco_dataset_free(&train);
    TEST_MAIN_END();
}
