/*
 * test_train.c - end-to-end checks of mco_train / mco_evaluate:
 *   - a small synthetic, separable image problem is learned to high
 *     accuracy with SGD and with Adam (and with BatchNorm, Dropout and a
 *     final Softmax in the model);
 *   - two runs with the same seed and thread count give bit-identical
 *     parameters, also for a model whose every kind of layer runs on the
 *     oneDNN fast path (conv, depthwise, dense, BatchNorm + ReLU fused, a
 *     residual add), with 1 and with 2 threads, and with or without the
 *     data thread (the same parameters either way);
 *   - progress callbacks, the confusion matrix, predict and shape errors;
 *   - a diverging run (learning rate 1e30) stops at the step where the loss
 *     or a parameter became non-finite;
 *   - if the MNIST files are present, mnist-paper trained on
 *     6,000 images (two epochs) beats 90% on 1,000 test images.
 */
#include <stdint.h>
#include <string.h>

#include "mcuopt/arch.h"
#include "mcuopt/data.h"
#include "mcuopt/graph.h"
#include "mcuopt/train.h"
#include "test_fixtures.h"

/* conv 3x3 (6) -> relu -> maxpool 2 -> flatten -> dense 4 */
static void small_cnn(mco_model *m)
{
    mco_model_init(m, (mco_shape){8, 8, 1});
    test_add_layer(m, MCO_LAYER_CONV2D, 6, 3, 1, 0);
    test_add_layer(m, MCO_LAYER_RELU, 0, 0, 0, 0);
    test_add_layer(m, MCO_LAYER_MAXPOOL2D, 0, 2, 2, 0);
    test_add_layer(m, MCO_LAYER_FLATTEN, 0, 0, 0, 0);
    test_add_layer(m, MCO_LAYER_DENSE, 4, 0, 0, 0);
    test_finish_blobs_model(m, 3);
}

/* conv (stride 2) -> BN -> relu6 -> dropout -> global avgpool -> dense -> softmax */
static void bn_dropout_cnn(mco_model *m)
{
    mco_model_init(m, (mco_shape){8, 8, 1});
    test_add_layer(m, MCO_LAYER_CONV2D, 8, 3, 1, 0);
    test_add_layer(m, MCO_LAYER_BATCHNORM, 0, 0, 0, 0);
    test_add_layer(m, MCO_LAYER_RELU6, 0, 0, 0, 0);
    test_add_layer(m, MCO_LAYER_DROPOUT, 0, 0, 0, 0.2f);
    test_add_layer(m, MCO_LAYER_MAXPOOL2D, 0, 2, 2, 0);
    test_add_layer(m, MCO_LAYER_FLATTEN, 0, 0, 0, 0);
    test_add_layer(m, MCO_LAYER_DENSE, 4, 0, 0, 0);
    test_add_layer(m, MCO_LAYER_SOFTMAX, 0, 0, 0, 0);
    test_finish_blobs_model(m, 4);
}

typedef struct {
    int batches;
    int epoch_ends;
    double last_val_accuracy;
} progress_count;

static void count_progress(void *user, const mco_train_progress *p)
{
    progress_count *c = user;
    if (p->epoch_done) {
        c->epoch_ends++;
        c->last_val_accuracy = p->val_accuracy;
    } else {
        c->batches++;
    }
}

static double train_and_evaluate(mco_model *m, const mco_dataset *train, const mco_dataset *test,
                                 const mco_train_options *opt)
{
    mco_train_result result;
    CHECK_OK(mco_train(m, train, NULL, opt, &result));
    mco_eval_result eval;
    CHECK_OK(mco_evaluate(m, test, 2, &eval));
    mco_eval_result_free(&eval);
    return eval.accuracy;
}

static void check_learns(const mco_dataset *train, const mco_dataset *test)
{
    mco_train_options opt;
    mco_model m;

    mco_train_options_default(&opt);
    opt.epochs = 4;
    opt.threads = 2;
    small_cnn(&m);
    double adam = train_and_evaluate(&m, train, test, &opt);
    printf("blobs, Adam: %.3f\n", adam);
    CHECK(adam >= 0.95);
    mco_model_free(&m);

    opt.optimizer = MCO_OPTIMIZER_SGD;
    opt.learning_rate = 0.05f;
    opt.momentum = 0.9f;
    opt.schedule = MCO_LR_STEP;
    opt.step_gamma = 0.5f;
    opt.step_epochs = 2;
    opt.weight_decay = 1e-4f;
    small_cnn(&m);
    double sgd = train_and_evaluate(&m, train, test, &opt);
    printf("blobs, SGD: %.3f\n", sgd);
    CHECK(sgd >= 0.95);
    mco_model_free(&m);

    mco_train_options_default(&opt);
    opt.epochs = 4;
    opt.threads = 3;
    opt.batch_size = 20;
    bn_dropout_cnn(&m);
    double bn = train_and_evaluate(&m, train, test, &opt);
    printf("blobs, BN + dropout + softmax, 3 threads: %.3f\n", bn);
    CHECK(bn >= 0.90);
    /* the moving statistics moved away from their initial 0 / 1 */
    const mco_layer *bn_layer = &m.layers[1];
    CHECK(bn_layer->params[MCO_PARAM_BN_MEAN].data[0] != 0.0f);
    CHECK(bn_layer->params[MCO_PARAM_BN_VAR].data[0] != 1.0f);
    mco_model_free(&m);
}

static void check_repeatable(const mco_dataset *train)
{
    mco_train_options opt;
    mco_train_options_default(&opt);
    opt.epochs = 2;
    opt.threads = 2;
    opt.batch_size = 25; /* slices of 12 and 13, and a short last batch */
    mco_model a, b;
    mco_train_result result;
    bn_dropout_cnn(&a);
    bn_dropout_cnn(&b);
    CHECK(test_same_params(&a, &b));
    CHECK_OK(mco_train(&a, train, NULL, &opt, &result));
    CHECK_OK(mco_train(&b, train, NULL, &opt, &result));
    CHECK(test_same_params(&a, &b));
    mco_model_free(&a);
    mco_model_free(&b);
}

/* Every layer kind of the fast path, a fused BatchNorm + ReLU and a residual add. */
static const char fast_path_arch[] = "input 8 8 1\n"
                                     "classes 4\n"
                                     "conv2d filters=8 kernel=3 padding=same\n"
                                     "batchnorm\n"
                                     "stem = relu\n"
                                     "depthwise_conv2d kernel=3 padding=same\n"
                                     "batchnorm\n"
                                     "relu\n"
                                     "conv2d filters=8 kernel=1 padding=same\n"
                                     "b = batchnorm\n"
                                     "add inputs=stem,b\n"
                                     "relu\n"
                                     "dropout rate=0.2\n"
                                     "global_avgpool\n"
                                     "dense units=classes\n";

static void fast_path_model(mco_model *m)
{
    CHECK_OK(mco_arch_parse(fast_path_arch, "fast_path_arch", (mco_shape){0, 0, 0}, 0, m));
    CHECK_OK(mco_model_alloc_params(m));
    mco_model_init_params(m, 5);
    m->norm = (mco_normalization){1.0f / 255.0f, 0.3f, 0.3f};
}

static void check_repeatable_fast_path(const mco_dataset *train)
{
    for (int threads = 1; threads <= 2; threads++) {
        mco_train_options opt;
        mco_train_options_default(&opt);
        opt.epochs = 2;
        opt.threads = threads;
        opt.batch_size = 30; /* 1,000 samples: a short last batch, another batch size on the fast path */
        mco_model a, b, initial;
        mco_train_result ra, rb;
        fast_path_model(&a);
        fast_path_model(&b);
        fast_path_model(&initial);
        CHECK_OK(mco_train(&a, train, NULL, &opt, &ra));
        CHECK_OK(mco_train(&b, train, NULL, &opt, &rb));
        CHECK(!test_same_params(&a, &initial)); /* it trained */
        CHECK(test_same_params(&a, &b));
        CHECK(ra.final_loss == rb.final_loss);
        mco_model_free(&a);
        mco_model_free(&b);
        mco_model_free(&initial);
    }
}

/* The data thread (mco_train_options.data_thread) gives the same run as the
 * workers converting their own slices, and the same run twice: with 1 and 2
 * training threads, over three epochs (reshuffles) with a short last batch,
 * on a model with a max pool taking its ReLU in and on the fast-path model. */
static void check_data_thread(const mco_dataset *train)
{
    for (int threads = 1; threads <= 2; threads++)
        for (int arch = 0; arch < 2; arch++) {
            mco_train_options opt;
            mco_train_options_default(&opt);
            opt.epochs = 3;
            opt.threads = threads;
            opt.batch_size = 30;
            mco_model m[3], initial;
            mco_train_result r[3];
            for (int k = 0; k < 3; k++) {
                if (arch == 0)
                    small_cnn(&m[k]);
                else
                    fast_path_model(&m[k]);
                opt.data_thread = k > 0;
                CHECK_OK(mco_train(&m[k], train, NULL, &opt, &r[k]));
            }
            if (arch == 0)
                small_cnn(&initial);
            else
                fast_path_model(&initial);
            CHECK(!test_same_params(&m[0], &initial)); /* it trained */
            CHECK(test_same_params(&m[0], &m[1]));
            CHECK(test_same_params(&m[1], &m[2]));
            CHECK(r[0].final_loss == r[1].final_loss && r[1].final_loss == r[2].final_loss);
            for (int k = 0; k < 3; k++)
                mco_model_free(&m[k]);
            mco_model_free(&initial);
        }
}

static void check_api(const mco_dataset *train, const mco_dataset *test)
{
    mco_model m;
    small_cnn(&m);
    mco_train_options opt;
    mco_train_options_default(&opt);
    CHECK(opt.epochs == 3 && opt.batch_size == 32 && opt.optimizer == MCO_OPTIMIZER_ADAM);
    opt.epochs = 2;
    opt.batch_size = 64;
    opt.threads = 2;
    progress_count count = {0, 0, -1.0};
    opt.progress = count_progress;
    opt.progress_user = &count;
    mco_train_result result;
    CHECK_OK(mco_train(&m, train, test, &opt, &result));
    long steps = (train->n + 63) / 64;
    CHECK(count.batches == 2 * steps);
    CHECK(count.epoch_ends == 2);
    CHECK(result.val_accuracy == count.last_val_accuracy);
    CHECK(result.val_accuracy > 0.8);

    mco_eval_result eval;
    CHECK_OK(mco_evaluate(&m, test, 0, &eval));
    int total = 0, diagonal = 0;
    for (int t = 0; t < 4; t++)
        for (int p = 0; p < 4; p++) {
            total += eval.confusion[t * 4 + p];
            diagonal += t == p ? eval.confusion[t * 4 + p] : 0;
        }
    CHECK(total == test->n);
    CHECK(diagonal == eval.correct);
    CHECK_NEAR(eval.accuracy, result.val_accuracy, 1e-12);

    /* predict agrees with evaluate */
    float *x = malloc((size_t)test->n * 64 * sizeof(float));
    float *y = malloc((size_t)test->n * 4 * sizeof(float));
    mco_normalize_input(&m.norm, test->samples_u8, (size_t)test->n * 64, x);
    CHECK_OK(mco_model_predict(&m, x, test->n, y));
    int correct = 0;
    for (int i = 0; i < test->n; i++) {
        int best = 0;
        for (int k = 1; k < 4; k++)
            if (y[i * 4 + k] > y[i * 4 + best])
                best = k;
        correct += best == test->labels[i];
    }
    CHECK(correct == eval.correct);
    free(x);
    free(y);
    mco_eval_result_free(&eval);

    /* a data set of the wrong shape is refused */
    mco_dataset wrong = *test;
    wrong.shape = (mco_shape){4, 16, 1};
    CHECK(mco_train(&m, &wrong, NULL, &opt, &result) == MCO_ERR_SHAPE);
    CHECK(mco_evaluate(&m, &wrong, 1, &eval) == MCO_ERR_SHAPE);
    opt.batch_size = 0;
    CHECK(mco_train(&m, train, NULL, &opt, &result) == MCO_ERR_ARG);
    mco_model_free(&m);
}

/* A run that diverges (learning rate far too high) stops with
 * MCO_ERR_RANGE at the step where the loss or a parameter stopped being
 * finite, with a hint, and calls progress for no later step. */
static void check_divergence(const mco_dataset *train)
{
    mco_model m;
    small_cnn(&m);
    mco_train_options opt;
    mco_train_options_default(&opt);
    opt.learning_rate = 1e30f;
    opt.threads = 1;
    progress_count count = {0, 0, -1.0};
    opt.progress = count_progress;
    opt.progress_user = &count;
    mco_train_result result;
    CHECK(mco_train(&m, train, NULL, &opt, &result) == MCO_ERR_RANGE);
    const char *msg = mco_last_error();
    CHECK(strstr(msg, "training diverged at step ") != NULL);
    CHECK(strstr(msg, "lower the learning rate (--lr, now 1e+30)") != NULL);
    long step = 0;
    CHECK(sscanf(msg, "training diverged at step %ld", &step) == 1);
    CHECK(step >= 1 && step == count.batches + 1);   /* every step before it was finite */
    CHECK(count.epoch_ends == 0);
    mco_model_free(&m);
}

static void check_mnist_subset(void)
{
    mco_dataset train, test;
    if (!test_load_mnist_subset(6000, 1000, &train, &test, "mnist-paper on a 6,000-image MNIST subset")) return;

    mco_model m;
    mco_model_init(&m, (mco_shape){28, 28, 1});
    test_add_layer(&m, MCO_LAYER_CONV2D, 12, 3, 1, 0);
    test_add_layer(&m, MCO_LAYER_RELU, 0, 0, 0, 0);
    test_add_layer(&m, MCO_LAYER_MAXPOOL2D, 0, 2, 2, 0);
    test_add_layer(&m, MCO_LAYER_FLATTEN, 0, 0, 0, 0);
    test_add_layer(&m, MCO_LAYER_DENSE, 10, 0, 0, 0);
    test_finish_blobs_model(&m, 1);
    CHECK(mco_model_param_count(&m) == 20410);
    m.norm = (mco_normalization){1.0f / 255.0f, 0.1307f, 0.3081f};

    mco_train_options opt;
    mco_train_options_default(&opt);
    opt.epochs = 2;      /* one epoch of 6,000 images gives 88-90%, too close to call */
    opt.threads = 2;     /* a fixed thread count keeps the result the same on every machine */
    mco_train_result result;
    CHECK_OK(mco_train(&m, &train, NULL, &opt, &result));
    mco_eval_result eval;
    CHECK_OK(mco_evaluate(&m, &test, 0, &eval));
    printf("mnist-paper, 6000 images, 2 epochs: %.1f%% on 1000 test images (%.2f s)\n",
           100.0 * eval.accuracy, result.seconds);
    CHECK(eval.accuracy > 0.90);
    mco_eval_result_free(&eval);
    mco_model_free(&m);
    mco_dataset_free(&train);
    mco_dataset_free(&test);
}

int main(void)
{
    mco_dataset train, test;
    test_make_blobs(&train, 1000, 11);
    test_make_blobs(&test, 300, 12);
    check_learns(&train, &test);
    check_repeatable(&train);
    check_repeatable_fast_path(&train);
    check_data_thread(&train);
    check_api(&train, &test);
    check_divergence(&train);
    check_mnist_subset();
    mco_dataset_free(&train);
    mco_dataset_free(&test);
    TEST_MAIN_END();
}
