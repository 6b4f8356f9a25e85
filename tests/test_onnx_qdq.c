/*
 * test_onnx_qdq.c - QDQ ONNX import (onnx_qdq.h) of mcuopt's own int8
 * exports: every built-in architecture (conv, depthwise, dense, average
 * and global average pools, residual adds, softmax) and a small model with
 * an explicit-padded average pool and an add of two branches, quantized
 * to int8 on synthetic images with each weight granularity and with
 * symmetric activations, exported in QDQ form and imported back, must give
 * the same deploy model (input and output quantization of every layer,
 * int8 weights, int32 biases, multipliers and shifts) and the same int8
 * outputs, byte for byte, on 16 images. A float model's export is refused
 * by the QDQ importer (one error line) and a QDQ export is recognised as
 * one; cut short anywhere, an export fails cleanly.
 *
 * What it leaves out: QDQ graphs written by other tools and the refusals
 * of unsupported patterns (tests/onnx_qdq.sh, with onnxruntime-style
 * models made by tests/onnx/make_qdq_models.py), and comparing with an ONNX
 * runtime (bench/qdq_fidelity.sh).
 */
#include <stdlib.h>
#include <string.h>

#include "mcuopt/arch.h"
#include "mcuopt/codegen.h"
#include "mcuopt/deploy.h"
#include "mcuopt/deploy_util.h"
#include "mcuopt/onnx.h"
#include "mcuopt/onnx_qdq.h"
#include "test_fixtures.h"
#include "test_util.h"

#define N_IMAGES 16

static int same_q(mco_qparams a, mco_qparams b) { return a.scale == b.scale && a.zero_point == b.zero_point; }

/* The deploy models hold the same integer model. */
static void check_same_deploy(const mco_deploy_model *a, const mco_deploy_model *b, const char *what)
{
    int bad = 0;
    CHECK(a->model.n_layers == b->model.n_layers);
    CHECK(same_q(a->input, b->input));
    CHECK(b->activation_format == MCO_ACT_S8);
    for (int i = 0; i < a->model.n_layers && i < b->model.n_layers; i++) {
        const mco_layer *l = &a->model.layers[i];
        const mco_deploy_layer *da = &a->layers[i], *db = &b->layers[i];
        bad += l->type != b->model.layers[i].type || strcmp(l->name, b->model.layers[i].name) != 0;
        bad += !same_q(da->output, db->output);
        if (!mco_deploy_is_weighted(l)) continue;
        size_t n = l->params[MCO_PARAM_WEIGHTS].size, c = (size_t)da->n_channels;
        bad += db->weight_format != MCO_WEIGHTS_S8 || db->n_channels != da->n_channels;
        if (bad) break;
        bad += memcmp(da->weights_q, db->weights_q, n) != 0;
        bad += memcmp(da->bias_q, db->bias_q, c * sizeof *da->bias_q) != 0;
        bad += memcmp(da->multiplier, db->multiplier, c * sizeof *da->multiplier) != 0;
        bad += memcmp(da->shift, db->shift, c * sizeof *da->shift) != 0;
        bad += memcmp(da->weight_scales, db->weight_scales, c * sizeof *da->weight_scales) != 0;
        if (bad) {
            fprintf(stderr, "%s: layer %d (%s) differs after the QDQ round trip\n", what, i, l->name);
            break;
        }
    }
    CHECK(bad == 0);
}

/* The plans of both give the same int8 outputs on the images. */
static void check_same_outputs(const mco_deploy_model *a, const mco_deploy_model *b, const mco_dataset *ds,
                               const char *what)
{
    mco_plan pa, pb;
    CHECK_OK(mco_plan_build(a, NULL, &pa));
    mco_status st = mco_plan_build(b, NULL, &pb);
    CHECK_OK(st);
    if (st != MCO_OK) {
        mco_plan_free(&pa);
        return;
    }
    CHECK(pa.output_bytes == pb.output_bytes);
    uint8_t *oa = calloc(N_IMAGES, pa.output_bytes), *ob = calloc(N_IMAGES, pb.output_bytes);
    CHECK_OK(mco_deploy_predict_samples(a, &pa, ds, 0, N_IMAGES, NULL, oa));
    CHECK_OK(mco_deploy_predict_samples(b, &pb, ds, 0, N_IMAGES, NULL, ob));
    if (memcmp(oa, ob, N_IMAGES * pa.output_bytes) != 0) {
        fprintf(stderr, "%s: the imported QDQ model's int8 outputs differ\n", what);
        test_failures++;
    }
    free(oa);
    free(ob);
    mco_plan_free(&pa);
    mco_plan_free(&pb);
}

static void round_trip(mco_model *m, const char *name)
{
    static const mco_weight_granularity grans[] = {MCO_GRANULARITY_TFLITE, MCO_GRANULARITY_PER_CHANNEL,
                                                   MCO_GRANULARITY_PER_TENSOR};
    mco_dataset ds;
    test_random_images(&ds, m->input_shape, 32, 2024);
    for (int v = 0; v < 4; v++) {
        char what[96];
        snprintf(what, sizeof what, "%s (variant %d)", name, v);
        mco_quant_options opt;
        mco_quant_options_default(&opt);
        opt.activation_format = MCO_ACT_S8;
        opt.weight_format = MCO_WEIGHTS_S8;
        opt.granularity = grans[v % 3];
        opt.symmetric_activations = v == 3;
        mco_deploy_model dm, back;
        mco_status st = mco_quantize(m, &ds, &opt, &dm);
        CHECK_OK(st);
        if (st != MCO_OK) continue;
        uint8_t *bytes = NULL;
        size_t size = 0;
        CHECK_OK(mco_onnx_serialize_deploy(&dm, &bytes, &size));
        CHECK(mco_onnx_is_qdq(bytes, size));
        st = mco_onnx_import_qdq_bytes(bytes, size, what, &back);
        CHECK_OK(st);
        if (st == MCO_OK) {
            check_same_deploy(&dm, &back, what);
            check_same_outputs(&dm, &back, &ds, what);
            CHECK(back.model.norm.scale == m->norm.scale && back.model.norm.std == m->norm.std);
            mco_deploy_free(&back);
        }
        if (v == 0)   /* cut short: an error, never a crash */
            for (size_t cut = 0; cut < size; cut += size / 23 + 1) {
                mco_status c = mco_onnx_import_qdq_bytes(bytes, cut, "cut", &back);
                CHECK(c != MCO_OK);
                CHECK(strchr(mco_last_error(), '\n') == NULL);
            }
        free(bytes);
        mco_deploy_free(&dm);
    }
    mco_dataset_free(&ds);
}

static void builtin(const char *arch)
{
    mco_model m;
    CHECK_OK(mco_arch_load(arch, (mco_shape){0, 0, 0}, 0, &m));
    CHECK_OK(mco_model_alloc_params(&m));
    mco_model_init_params(&m, 11);
    m.norm = (mco_normalization){1.0f / 255.0f, 0.1307f, 0.3081f};
    /* trained-looking biases: the initialiser's zeros would test nothing */
    for (int i = 0; i < m.n_layers; i++) {
        mco_param *b = &m.layers[i].params[MCO_PARAM_BIAS];
        if (mco_deploy_is_weighted(&m.layers[i]))
            for (size_t k = 0; k < b->size; k++) b->data[k] = 0.05f * (float)((int)(k % 7) - 3);
    }
    round_trip(&m, arch);
    mco_model_free(&m);
}

/* Conv -> explicit-padded average pool, and a depthwise branch added to it. */
static void pool_and_add(void)
{
    mco_model m;
    mco_model_init(&m, (mco_shape){12, 12, 2});
    snprintf(m.arch_name, sizeof m.arch_name, "pool-add");
    mco_layer conv = {.type = MCO_LAYER_CONV2D, .units = 6, .kernel_h = 3, .kernel_w = 3, .stride_h = 1,
                      .stride_w = 1, .padding = MCO_PADDING_SAME};
    mco_layer relu = {.type = MCO_LAYER_RELU};
    mco_layer pool = {.type = MCO_LAYER_AVGPOOL2D, .kernel_h = 3, .kernel_w = 3, .stride_h = 2, .stride_w = 2,
                      .padding = MCO_PADDING_EXPLICIT, .pad_top = 1, .pad_left = 1, .pad_bottom = 0, .pad_right = 0};
    mco_layer dw = {.type = MCO_LAYER_DEPTHWISE_CONV2D, .kernel_h = 3, .kernel_w = 3, .stride_h = 1, .stride_w = 1,
                    .padding = MCO_PADDING_SAME};
    mco_layer add = {.type = MCO_LAYER_ADD, .n_inputs = 2, .inputs = {2, 3}};
    mco_layer gap = {.type = MCO_LAYER_GLOBAL_AVGPOOL}, dense = {.type = MCO_LAYER_DENSE, .units = 5};
    mco_layer softmax = {.type = MCO_LAYER_SOFTMAX};
    const mco_layer *layers[] = {&conv, &relu, &pool, &dw, &add, &gap, &dense, &softmax};
    for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++) CHECK_OK(mco_model_add_layer(&m, layers[i], NULL));
    CHECK_OK(mco_model_infer_shapes(&m));
    CHECK_OK(mco_model_alloc_params(&m));
    mco_model_init_params(&m, 5);
    m.norm = (mco_normalization){1.0f / 255.0f, 0.5f, 0.25f};
    round_trip(&m, "pool-add");
    mco_model_free(&m);
}

/* A float export is not QDQ: the QDQ importer says so in one line. */
static void float_refused(void)
{
    mco_model m;
    CHECK_OK(mco_arch_load("lenet5", (mco_shape){0, 0, 0}, 0, &m));
    CHECK_OK(mco_model_alloc_params(&m));
    mco_model_init_params(&m, 3);
    uint8_t *bytes = NULL;
    size_t size = 0;
    CHECK_OK(mco_onnx_serialize_model(&m, &bytes, &size));
    CHECK(!mco_onnx_is_qdq(bytes, size));
    mco_deploy_model dm;
    test_check_error(mco_onnx_import_qdq_bytes(bytes, size, "float.onnx", &dm), "float.onnx",
                     "no QuantizeLinear or DequantizeLinear node");
    free(bytes);
    mco_model_free(&m);
}

int main(void)
{
    const char *const *names = mco_arch_builtin_names();
    int n = 0;
    for (; *names; names++, n++) builtin(*names);
    CHECK(n >= 6);
    pool_and_add();
    float_refused();
    TEST_MAIN_END();
}
