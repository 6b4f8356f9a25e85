/*
 * bench_train_epoch.c - times mco_train on MNIST with the `mnist-paper`
 * network (Conv2D 12x3x3 valid + ReLU -> MaxPool 2 -> Flatten -> Dense 10),
 * then evaluates on the test set. Used by bench/train_vs_pytorch.sh.
 *
 * Usage: bench_train_epoch [mnist_dir] [epochs] [threads] [batch] [constant|step|cosine]
 *        (defaults: ../shared/data/mnist 1 2 32 cosine). Prints one JSON line.
 *
 * What it leaves out: other architectures (the CLI's `mcuopt train` does those).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcuopt/data.h"
#include "mcuopt/graph.h"
#include "mcuopt/train.h"

static mco_status build_mnist_paper(mco_model *model)
{
    mco_model_init(model, (mco_shape){28, 28, 1});
    mco_layer layers[5];
    memset(layers, 0, sizeof(layers));
    layers[0].type = MCO_LAYER_CONV2D;
    layers[0].units = 12;
    layers[0].kernel_h = layers[0].kernel_w = 3;
    layers[0].stride_h = layers[0].stride_w = 1;
    layers[0].padding = MCO_PADDING_VALID;
    layers[1].type = MCO_LAYER_RELU;
    layers[2].type = MCO_LAYER_MAXPOOL2D;
    layers[2].kernel_h = layers[2].kernel_w = 2;
    layers[2].stride_h = layers[2].stride_w = 2;
    layers[3].type = MCO_LAYER_FLATTEN;
    layers[4].type = MCO_LAYER_DENSE;
    layers[4].units = 10;
    for (int i = 0; i < 5; i++) {
        snprintf(layers[i].name, MCO_NAME_MAX, "%s_%d", mco_layer_type_name(layers[i].type), i);
        mco_status st = mco_model_add_layer(model, &layers[i], NULL);
        if (st != MCO_OK)
            return st;
    }
    mco_status st = mco_model_infer_shapes(model);
    if (st == MCO_OK)
        st = mco_model_alloc_params(model);
    if (st != MCO_OK)
        return st;
    mco_model_init_params(model, 1);
    model->norm = (mco_normalization){1.0f / 255.0f, 0.1307f, 0.3081f};
    return MCO_OK;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "../shared/data/mnist";
    mco_train_options opt;
    mco_train_options_default(&opt);
    opt.epochs = argc > 2 ? atoi(argv[2]) : 1;
    opt.threads = argc > 3 ? atoi(argv[3]) : 2;
    opt.batch_size = argc > 4 ? atoi(argv[4]) : 32;
    if (argc > 5)
        opt.schedule = strcmp(argv[5], "constant") == 0 ? MCO_LR_CONSTANT
                       : strcmp(argv[5], "step") == 0   ? MCO_LR_STEP
                                                        : MCO_LR_COSINE;

    mco_dataset train, test;
    mco_model model;
    mco_train_result result;
    mco_eval_result eval;
    mco_status st = mco_dataset_load_idx_dir(dir, MCO_SPLIT_TRAIN, "mnist", &train);
    if (st == MCO_OK)
        st = mco_dataset_load_idx_dir(dir, MCO_SPLIT_TEST, "mnist", &test);
    if (st == MCO_OK)
        st = build_mnist_paper(&model);
    if (st == MCO_OK)
        st = mco_train(&model, &train, NULL, &opt, &result);
    if (st == MCO_OK)
        st = mco_evaluate(&model, &test, opt.threads, &eval);
    if (st != MCO_OK) {
        fprintf(stderr, "bench_train_epoch: %s\n", mco_last_error());
        return 1;
    }
    printf("{\"epochs\": %d, \"threads\": %d, \"batch\": %d, \"train_seconds\": %.3f, "
           "\"train_accuracy\": %.4f, \"test_accuracy\": %.4f, \"test_loss\": %.4f}\n",
           opt.epochs, opt.threads, opt.batch_size, result.seconds, result.final_accuracy, eval.accuracy,
           eval.loss);
    mco_eval_result_free(&eval);
    mco_model_free(&model);
    mco_dataset_free(&train);
    mco_dataset_free(&test);
    return 0;
}
