/*
 * bench_train_epoch.c - times mco_train on a built-in architecture (or an
 * architecture file) and prints one JSON line. Used by
 * bench/train_vs_pytorch.sh against bench/pytorch_train_epoch.py.
 *
 * The data are either real MNIST (--data DIR: the training split, and the
 * test split for the accuracy) or synthetic: --samples random images of the
 * architecture's input shape with random labels, made before the clock
 * starts (the time of an epoch does not depend on the pixel values).
 *
 * Usage: bench_train_epoch --arch NAME [--data DIR | --samples N] [--epochs E]
 *        [--threads T] [--batch B] [--seed S] [--reference] [--data-thread]
 *   (defaults: mnist-paper, synthetic with the sample count of
 *   default_samples(), 1 epoch, 2 threads, batch 32, Adam, cosine schedule).
 *   --reference runs mcuopt's own loops instead of the oneDNN fast path
 *   (mco_train_options.reference_kernels); --data-thread prepares the
 *   batches on a thread of their own (mco_train_options.data_thread).
 *
 * train_seconds is wall-clock time; cpu_seconds the CPU time of all
 * threads (a rough guide on a busy machine, never a figure to report).
 *
 * What it leaves out: validation during training, augmentation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mcuopt/arch.h"
#include "mcuopt/data.h"
#include "mcuopt/graph.h"
#include "mcuopt/train.h"

/* Images per synthetic epoch: the counts of the issue that set the targets
 * (MNIST's 60,000 for mnist-paper; smaller sets for the slower models). */
static int default_samples(const char *arch)
{
    if (strcmp(arch, "mnist-paper") == 0)
        return 60000;
    if (strcmp(arch, "lenet5") == 0)
        return 10000;
    return 2000;
}

static mco_status synthetic(mco_shape shape, int n_classes, int n, uint64_t seed, mco_dataset *out)
{
    memset(out, 0, sizeof(*out));
    size_t size = mco_shape_size(shape);
    out->samples_u8 = malloc((size_t)n * size);
    out->labels = malloc((size_t)n);
    if (!out->samples_u8 || !out->labels) {
        mco_dataset_free(out);
        return mco_error(MCO_ERR_NOMEM, "synthetic data: out of memory");
    }
    snprintf(out->name, sizeof(out->name), "synthetic");
    out->n = n;
    out->shape = shape;
    out->n_classes = n_classes;
    uint64_t x = seed * 0x9e3779b97f4a7c15ULL + 1; /* xorshift64 */
    for (size_t i = 0; i < (size_t)n * size + (size_t)n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if (i < (size_t)n * size)
            out->samples_u8[i] = (uint8_t)(x >> 56);
        else
            out->labels[i - (size_t)n * size] = (uint8_t)((x >> 32) % (uint64_t)n_classes);
    }
    return MCO_OK;
}

static const char *arg_value(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) {
        fprintf(stderr, "bench_train_epoch: %s needs a value\n", argv[*i]);
        exit(2);
    }
    return argv[++*i];
}

int main(int argc, char **argv)
{
    const char *arch = "mnist-paper", *dir = NULL;
    int samples = 0, reference = 0;
    mco_train_options opt;
    mco_train_options_default(&opt);
    opt.epochs = 1;
    opt.threads = 2;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--arch") == 0) arch = arg_value(argc, argv, &i);
        else if (strcmp(argv[i], "--data") == 0) dir = arg_value(argc, argv, &i);
        else if (strcmp(argv[i], "--samples") == 0) samples = atoi(arg_value(argc, argv, &i));
        else if (strcmp(argv[i], "--epochs") == 0) opt.epochs = atoi(arg_value(argc, argv, &i));
        else if (strcmp(argv[i], "--threads") == 0) opt.threads = atoi(arg_value(argc, argv, &i));
        else if (strcmp(argv[i], "--batch") == 0) opt.batch_size = atoi(arg_value(argc, argv, &i));
        else if (strcmp(argv[i], "--seed") == 0) opt.seed = (uint64_t)atoll(arg_value(argc, argv, &i));
        else if (strcmp(argv[i], "--reference") == 0) reference = 1;
        else if (strcmp(argv[i], "--data-thread") == 0) opt.data_thread = 1;
        else {
            fprintf(stderr, "bench_train_epoch: unknown argument '%s'\n", argv[i]);
            return 2;
        }
    }
    opt.reference_kernels = reference;

    mco_dataset train, test;
    memset(&train, 0, sizeof(train));
    memset(&test, 0, sizeof(test));
    mco_model model;
    memset(&model, 0, sizeof(model));
    mco_train_result result;
    mco_eval_result eval;
    memset(&eval, 0, sizeof(eval));
    int have_test = 0;
    double cpu_seconds = 0.0;
    mco_status st = MCO_OK;
    if (dir) {
        st = mco_dataset_load_idx_dir(dir, MCO_SPLIT_TRAIN, "mnist", &train);
        if (st == MCO_OK && (st = mco_dataset_load_idx_dir(dir, MCO_SPLIT_TEST, "mnist", &test)) == MCO_OK)
            have_test = 1;
        if (st == MCO_OK)
            st = mco_arch_load(arch, train.shape, train.n_classes, &model);
    } else {
        st = mco_arch_load(arch, (mco_shape){0, 0, 0}, 0, &model);
        if (st == MCO_OK)
            /* (an autoencoder's labels are not read: two classes keep them bytes) */
            st = synthetic(model.input_shape, model.loss == MCO_LOSS_MSE ? 2 : model.n_classes,
                           samples > 0 ? samples : default_samples(arch),
                           opt.seed, &train);
    }
    if (st == MCO_OK)
        st = mco_model_alloc_params(&model);
    if (st == MCO_OK) {
        mco_model_init_params(&model, opt.seed);
        model.norm = (mco_normalization){1.0f / 255.0f, 0.1307f, 0.3081f};
        clock_t cpu0 = clock();
        st = mco_train(&model, &train, NULL, &opt, &result);
        cpu_seconds = (double)(clock() - cpu0) / CLOCKS_PER_SEC;
    }
    if (st == MCO_OK && have_test)
        st = mco_evaluate(&model, &test, opt.threads, &eval);
    if (st != MCO_OK) {
        fprintf(stderr, "bench_train_epoch: %s\n", mco_last_error());
        return 1;
    }
    printf("{\"framework\": \"mcuopt%s\", \"arch\": \"%s\", \"samples\": %d, \"epochs\": %d, \"threads\": %d, "
           "\"batch\": %d, \"data_thread\": %d, \"train_seconds\": %.3f, \"cpu_seconds\": %.3f, "
           "\"train_loss\": %.6f, \"train_accuracy\": %.4f",
           reference ? " (reference loops)" : "", arch, train.n, opt.epochs, opt.threads, opt.batch_size,
           opt.data_thread, result.seconds, cpu_seconds, result.final_loss, result.final_accuracy);
    if (have_test)
        printf(", \"test_accuracy\": %.4f, \"test_loss\": %.4f", eval.accuracy, eval.loss);
    printf("}\n");
    mco_eval_result_free(&eval);
    mco_model_free(&model);
    mco_dataset_free(&train);
    mco_dataset_free(&test);
    return 0;
}
