/*
 * test_onnx_roundtrip.c - ONNX export then import gives back the same model:
 * for every built-in architecture (conv, depthwise, dense, pools, batchnorm,
 * dropout, residual add, softmax, ...) with random parameters plus a few
 * special values (-0, a subnormal, the largest float), the same graph (types,
 * names, inputs, hyper-parameters, shapes, normalisation) and every
 * parameter bit for bit, in memory and as .mco files; exporting the imported
 * model gives the same bytes. An export holding infinity or NaN is refused
 * on import, naming the layer (a .mco file refuses them too).
 * The same for a model with explicit padding on every window layer (ONNX
 * pads, kept as explicit padding on import).
 * Also: a deploy model with float activations exports like its float model,
 * and import refuses a truncated export without crashing.
 *
 * What it leaves out: comparing with an ONNX runtime (tests/onnx_import.sh
 * does that with numpy) and int8 QDQ exports (same script).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mcuopt/arch.h"
#include "mcuopt/deploy.h"
#include "mcuopt/model_file.h"
#include "mcuopt/onnx.h"
#include "test_util.h"

static int is_windowed(mco_layer_type t)
{
    return t == MCO_LAYER_CONV2D || t == MCO_LAYER_DEPTHWISE_CONV2D || t == MCO_LAYER_MAXPOOL2D ||
           t == MCO_LAYER_AVGPOOL2D;
}

static int same_bits(const void *a, const void *b, size_t n)
{
    return memcmp(a, b, n) == 0;
}

/* The graph and every parameter of b equal a's. */
static void check_same_model(const mco_model *a, const mco_model *b, const char *arch)
{
    CHECK(strcmp(a->arch_name, b->arch_name) == 0);
    CHECK(a->input_shape.h == b->input_shape.h && a->input_shape.w == b->input_shape.w &&
          a->input_shape.c == b->input_shape.c);
    CHECK(a->n_classes == b->n_classes);
    CHECK(same_bits(&a->norm, &b->norm, sizeof a->norm));
    CHECK(a->n_layers == b->n_layers);
    for (int i = 0; i < a->n_layers && i < b->n_layers; i++) {
        const mco_layer *la = &a->layers[i], *lb = &b->layers[i];
        int same = la->type == lb->type && strcmp(la->name, lb->name) == 0 && la->n_inputs == lb->n_inputs &&
                   la->inputs[0] == lb->inputs[0] && (la->n_inputs < 2 || la->inputs[1] == lb->inputs[1]) &&
                   la->out_shape.h == lb->out_shape.h && la->out_shape.w == lb->out_shape.w &&
                   la->out_shape.c == lb->out_shape.c && la->n_params == lb->n_params;
        if (la->type == MCO_LAYER_CONV2D || la->type == MCO_LAYER_DENSE) same = same && la->units == lb->units;
        if (is_windowed(la->type))
            same = same && la->kernel_h == lb->kernel_h && la->kernel_w == lb->kernel_w &&
                   la->stride_h == lb->stride_h && la->stride_w == lb->stride_w && la->padding == lb->padding &&
                   la->pad_top == lb->pad_top && la->pad_left == lb->pad_left &&
                   la->pad_bottom == lb->pad_bottom && la->pad_right == lb->pad_right && la->count_pad == lb->count_pad;
        if (la->type == MCO_LAYER_DROPOUT) same = same && same_bits(&la->rate, &lb->rate, sizeof la->rate);
        if (la->type == MCO_LAYER_BATCHNORM)
            same = same && same_bits(&la->epsilon, &lb->epsilon, sizeof la->epsilon) &&
                   same_bits(&la->momentum, &lb->momentum, sizeof la->momentum);
        for (int p = 0; same && p < la->n_params; p++)
            same = la->params[p].size == lb->params[p].size &&
                   same_bits(la->params[p].data, lb->params[p].data, la->params[p].size * sizeof(float));
        if (!same) fprintf(stderr, "%s: layer %d (%s) differs after the round trip\n", arch, i, la->name);
        CHECK(same);
    }
}

/* A model file's bytes (at most cap), or 0 bytes if it cannot be written. */
static size_t saved_bytes(const mco_model *m, const char *path, unsigned char *buf, size_t cap)
{
    if (mco_model_save(m, path) != MCO_OK) return 0;
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, cap, f) : 0;
    if (f) fclose(f);
    remove(path);
    return n;
}

/* a and b save to the same .mco bytes: the round trip is exact to the byte,
 * hyper-parameters a layer type does not use included. */
static void check_same_file(const mco_model *a, const mco_model *b, const char *arch)
{
    static unsigned char fa[1 << 21], fb[1 << 21];   /* ad-autoencoder's file is 1.08 MB */
    size_t na = saved_bytes(a, "/tmp/mco-test-onnx-a.mco", fa, sizeof fa);
    size_t nb = saved_bytes(b, "/tmp/mco-test-onnx-b.mco", fb, sizeof fb);
    if (na == 0 || na != nb || memcmp(fa, fb, na) != 0) fprintf(stderr, "%s: .mco files differ\n", arch);
    CHECK(na > 0 && na < sizeof fa && na == nb && memcmp(fa, fb, na) == 0);
}

/* The first weighted layer's weights (NULL if none has 4). */
static float *first_weights(mco_model *m)
{
    for (int i = 0; i < m->n_layers; i++) {
        mco_param *w = &m->layers[i].params[MCO_PARAM_WEIGHTS];
        if (m->layers[i].n_params == 2 && w->size >= 4) return w->data;
    }
    return NULL;
}

/* Random parameters, then a few special values in the first weighted layer. */
static void fill_params(mco_model *m, uint64_t seed)
{
    mco_model_init_params(m, seed);
    for (int i = 0; i < m->n_layers; i++) {
        mco_layer *l = &m->layers[i];
        if (l->type == MCO_LAYER_BATCHNORM)   /* non-trivial statistics */
            for (size_t c = 0; c < l->params[0].size; c++) {
                l->params[MCO_PARAM_BN_MEAN].data[c] = 0.01f * (float)c;
                l->params[MCO_PARAM_BN_VAR].data[c] = 1.0f + 0.1f * (float)c;
            }
    }
    float *w = first_weights(m);
    if (!w) return;
    w[0] = -0.0f;
    w[1] = 1e-40f;
    w[2] = 3.4028235e38f;
    w[3] = -1.1754944e-38f;
}

/* Exports m (params allocated), imports it back, compares; frees m. */
static void round_trip_model(mco_model *model, const char *arch)
{
    mco_model m = *model, back, again;
    fill_params(&m, 7);
    m.norm = (mco_normalization){1.0f / 255.0f, 0.1307f, 0.3081f};
    uint8_t *bytes = NULL, *bytes2 = NULL;
    size_t size = 0, size2 = 0;
    CHECK_OK(mco_onnx_serialize_model(&m, &bytes, &size));
    mco_status st = mco_onnx_import_bytes(bytes, size, arch, &back);
    CHECK_OK(st);
    if (st == MCO_OK) {
        check_same_model(&m, &back, arch);
        check_same_file(&m, &back, arch);
        CHECK_OK(mco_onnx_serialize_model(&back, &bytes2, &size2));
        CHECK(size2 == size && bytes2 && memcmp(bytes, bytes2, size) == 0);
        free(bytes2);
        mco_model_free(&back);
    }
    /* Infinity and NaN: ONNX can carry them, but a model holding them is
     * refused on import with the layer named (as a .mco file refuses them). */
    float *w = first_weights(&m);
    if (w) {
        w[2] = INFINITY;
        w[3] = NAN;
        uint8_t *nf = NULL;
        size_t nf_size = 0;
        CHECK_OK(mco_onnx_serialize_model(&m, &nf, &nf_size));
        CHECK(mco_onnx_import_bytes(nf, nf_size, arch, &back) != MCO_OK);
        CHECK(back.n_layers == 0);
        CHECK(strstr(mco_last_error(), "is inf: the parameters are not finite") != NULL);
        free(nf);
    }
    /* Cut short anywhere in the first bytes: an error, never a crash. */
    for (size_t cut = 0; cut < size && cut < 400; cut += 7) {
        CHECK(mco_onnx_import_bytes(bytes, cut, "cut", &again) != MCO_OK);
        CHECK(again.n_layers == 0);
    }
    free(bytes);
    mco_model_free(&m);
}

static void round_trip(const char *arch)
{
    mco_model m;
    CHECK_OK(mco_arch_load(arch, (mco_shape){0, 0, 0}, 0, &m));
    CHECK_OK(mco_model_alloc_params(&m));
    round_trip_model(&m, arch);
}

static void add_padded(mco_model *m, mco_layer_type type, int units, int k, int stride, int top, int left,
                       int bottom, int right)
{
    mco_layer l = {.type = type, .units = units, .kernel_h = k, .kernel_w = k, .stride_h = stride,
                   .stride_w = stride, .padding = MCO_PADDING_EXPLICIT, .pad_top = top, .pad_left = left,
                   .pad_bottom = bottom, .pad_right = right};
    CHECK_OK(mco_model_add_layer(m, &l, NULL));
}

/* Explicit padding neither "valid" nor "same" on every window layer type:
 * PyTorch's stride-2 padding-1 conv on an even input, a SAME_LOWER-like
 * depthwise, a ceil_mode-like max pool, asymmetric conv and average pool. */
static void explicit_padding_round_trip(void)
{
    mco_model m;
    mco_model_init(&m, (mco_shape){12, 10, 2});
    snprintf(m.arch_name, sizeof m.arch_name, "explicit");
    add_padded(&m, MCO_LAYER_CONV2D, 4, 3, 2, 1, 1, 1, 1);        /* 6x5 */
    add_padded(&m, MCO_LAYER_DEPTHWISE_CONV2D, 0, 2, 1, 1, 1, 0, 0);
    add_padded(&m, MCO_LAYER_MAXPOOL2D, 0, 3, 2, 1, 1, 2, 2);       /* 4x3 (3x3 with pads 1 all round) */
    add_padded(&m, MCO_LAYER_CONV2D, 3, 3, 1, 2, 0, 1, 2);          /* 5x3 */
    add_padded(&m, MCO_LAYER_AVGPOOL2D, 0, 2, 2, 0, 1, 1, 0);       /* 3x2 */
    mco_layer flatten = {.type = MCO_LAYER_FLATTEN}, dense = {.type = MCO_LAYER_DENSE, .units = 5};
    CHECK_OK(mco_model_add_layer(&m, &flatten, NULL));
    CHECK_OK(mco_model_add_layer(&m, &dense, NULL));
    CHECK_OK(mco_model_infer_shapes(&m));
    CHECK(m.layers[2].out_shape.h == 4 && m.layers[2].out_shape.w == 3);
    CHECK(m.layers[4].out_shape.h == 3 && m.layers[4].out_shape.w == 2);
    CHECK_OK(mco_model_alloc_params(&m));
    round_trip_model(&m, "explicit");
}

/* A float deploy model (folded) exports as plain ONNX of its folded model. */
static void deploy_float_export(void)
{
    mco_model m;
    mco_deploy_model dm;
    CHECK_OK(mco_arch_load("ds-cnn-s", (mco_shape){0, 0, 0}, 0, &m));
    CHECK_OK(mco_model_alloc_params(&m));
    fill_params(&m, 3);
    CHECK_OK(mco_deploy_from_float(&m, &dm));
    uint8_t *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    CHECK_OK(mco_onnx_serialize_deploy(&dm, &a, &na));
    CHECK_OK(mco_onnx_serialize_model(&dm.model, &b, &nb));
    CHECK(na == nb && a && b && memcmp(a, b, na) == 0);
    free(a);
    free(b);
    mco_deploy_free(&dm);
    mco_model_free(&m);
}

int main(void)
{
    const char *const *names = mco_arch_builtin_names();
    int n = 0;
    for (; *names; names++, n++) round_trip(*names);
    CHECK(n >= 4);
    explicit_padding_round_trip();
    deploy_float_export();
    TEST_MAIN_END();
}
