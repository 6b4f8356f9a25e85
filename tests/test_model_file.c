/*
 * test_model_file.c - tests of the .mco model file (model_file.h), its CRC-32
 * and the file helpers (core/file_util.h).
 *
 * - Round trips of three models (conv/pool/dense; depthwise + batchnorm +
 *   residual add + global average pool + dropout + softmax; explicit
 *   padding on conv, depthwise and both pools) are exact: every field and
 *   every finite float bit pattern (-0, subnormals, the largest) survives,
 *   and re-serialising gives the same bytes; NaN and infinity are neither
 *   written nor loaded (a diverged training run), naming the layer.
 * - An autoencoder (loss mse) round-trips with its LOSS chunk; a classifier's
 *   file has none; an unknown loss value is refused naming the file.
 * - A keyword spotter's audio front-end round-trips in its mfcc chunk; one
 *   whose features are not the model's input is refused (file and writer).
 * - An independent encoder written here from the documented layout produces
 *   the same bytes as mco_model_serialize, and is used to build hostile files
 *   that carry a correct CRC: each must fail with MCO_ERR_FORMAT and a
 *   message that starts with the origin and names the problem (PADS chunks
 *   missing, misplaced, cut short or out of range among them).
 * - Every prefix of a small file, and every single-byte corruption of it
 *   (plus 2,000 sampled positions of a bigger one), fails cleanly.
 * - Saving is atomic: a failed save leaves no temporary file and the old
 *   target untouched; saving over a file replaces it.
 * Outside sanitizer builds the address space is capped at 1 GiB, so a loader
 * that trusted a hostile count and allocated gigabytes would fail here.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "mcuopt/arch.h"
#include "mcuopt/file_util.h"
#include "mcuopt/graph.h"
#include "mcuopt/model_file.h"
#include "test_util.h"

/* ---- Building models with the graph API ---- */

static int add_layer(mco_model *m, mco_layer_type type, const char *name, int units, int kernel,
                     int stride, mco_padding padding)
{
    mco_layer l;
    memset(&l, 0, sizeof l);
    l.type = type;
    snprintf(l.name, sizeof l.name, "%s", name);
    l.units = units;
    l.kernel_h = l.kernel_w = kernel;
    l.stride_h = l.stride_w = stride;
    l.padding = padding;
    int index = -1;
    CHECK_OK(mco_model_add_layer(m, &l, &index));
    return index;
}

static int add_residual(mco_model *m, const char *name, int a, int b)
{
    mco_layer l;
    memset(&l, 0, sizeof l);
    l.type = MCO_LAYER_ADD;
    snprintf(l.name, sizeof l.name, "%s", name);
    l.n_inputs = 2;
    l.inputs[0] = a;
    l.inputs[1] = b;
    int index = -1;
    CHECK_OK(mco_model_add_layer(m, &l, &index));
    return index;
}

static void finish_model(mco_model *m, uint64_t seed)
{
    CHECK_OK(mco_model_infer_shapes(m));
    CHECK_OK(mco_model_alloc_params(m));
    mco_model_init_params(m, seed);
}

static void set_bits(float *f, uint32_t bits)
{
    memcpy(f, &bits, sizeof *f);
}

static uint32_t bits_of(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* conv -> relu -> maxpool -> conv(same) -> avgpool -> flatten -> dense -> softmax */
static void build_cnn(mco_model *m)
{
    mco_model_init(m, (mco_shape){28, 28, 1});
    snprintf(m->arch_name, sizeof m->arch_name, "test_cnn");
    m->norm = (mco_normalization){1.0f / 255.0f, 0.1307f, 0.3081f};
    add_layer(m, MCO_LAYER_CONV2D, "conv_a", 8, 3, 1, MCO_PADDING_VALID);
    add_layer(m, MCO_LAYER_RELU, "relu_a", 0, 0, 0, MCO_PADDING_VALID);
    add_layer(m, MCO_LAYER_MAXPOOL2D, "pool_a", 0, 2, 2, MCO_PADDING_VALID);
    add_layer(m, MCO_LAYER_CONV2D, "conv_b", 6, 3, 2, MCO_PADDING_SAME);
    add_layer(m, MCO_LAYER_AVGPOOL2D, "pool_b", 0, 2, 1, MCO_PADDING_SAME);
    add_layer(m, MCO_LAYER_FLATTEN, "flatten", 0, 0, 0, MCO_PADDING_VALID);
    add_layer(m, MCO_LAYER_DENSE, "dense_out", 10, 0, 0, MCO_PADDING_VALID);
    add_layer(m, MCO_LAYER_SOFTMAX, "softmax", 0, 0, 0, MCO_PADDING_VALID);
    finish_model(m, 42);
    /* Floats that a careless writer or reader would not keep bit for bit. */
    float *w = m->layers[0].params[MCO_PARAM_WEIGHTS].data;
    set_bits(&w[0], 0x80800000u);   /* smallest negative normal */
    set_bits(&w[1], 0xff7fffffu);   /* most negative finite */
    set_bits(&w[2], 0x80000000u);   /* -0 */
    set_bits(&w[3], 0x00000001u);   /* smallest subnormal */
    set_bits(&w[4], 0x7f7fffffu);   /* largest finite */
    set_bits(&m->layers[6].params[MCO_PARAM_BIAS].data[9], 0x807fffffu);   /* largest negative subnormal */
}

/* conv -> bn -> relu6 -> depthwise -> bn -> relu -> add(relu, relu6) ->
 * global avgpool -> dropout -> dense -> softmax */
static void build_residual(mco_model *m)
{
    mco_model_init(m, (mco_shape){12, 10, 3});
    snprintf(m->arch_name, sizeof m->arch_name, "test_residual");
    m->norm = (mco_normalization){0.5f, -1.25f, 2.0f};
    add_layer(m, MCO_LAYER_CONV2D, "stem", 8, 3, 1, MCO_PADDING_SAME);
    int bn1 = add_layer(m, MCO_LAYER_BATCHNORM, "stem_bn", 0, 0, 0, MCO_PADDING_VALID);
    m->layers[bn1].epsilon = 1e-5f;
    m->layers[bn1].momentum = 0.9f;
    int branch = add_layer(m, MCO_LAYER_RELU6, "stem_relu6", 0, 0, 0, MCO_PADDING_VALID);
    add_layer(m, MCO_LAYER_DEPTHWISE_CONV2D, "dw", 0, 3, 1, MCO_PADDING_SAME);
    add_layer(m, MCO_LAYER_BATCHNORM, "dw_bn", 0, 0, 0, MCO_PADDING_VALID);
    int relu = add_layer(m, MCO_LAYER_RELU, "dw_relu", 0, 0, 0, MCO_PADDING_VALID);
    add_residual(m, "residual", relu, branch);
    add_layer(m, MCO_LAYER_GLOBAL_AVGPOOL, "gap", 0, 0, 0, MCO_PADDING_VALID);
    int drop = add_layer(m, MCO_LAYER_DROPOUT, "dropout", 0, 0, 0, MCO_PADDING_VALID);
    m->layers[drop].rate = 0.25f;
    add_layer(m, MCO_LAYER_DENSE, "logits", 5, 0, 0, MCO_PADDING_VALID);
    add_layer(m, MCO_LAYER_SOFTMAX, "probs", 0, 0, 0, MCO_PADDING_VALID);
    finish_model(m, 7);
    /* Non-trivial batchnorm statistics, so every parameter has its own value. */
    for (int i = 0; i < m->n_layers; i++) {
        mco_layer *l = &m->layers[i];
        if (l->type != MCO_LAYER_BATCHNORM) continue;
        for (int p = 0; p < l->n_params; p++)
            for (size_t k = 0; k < l->params[p].size; k++)
                l->params[p].data[k] = 0.1f * (float)(p + 1) + 0.01f * (float)k + 0.001f * (float)i;
    }
}

static void set_pads(mco_model *m, int layer, int top, int left, int bottom, int right)
{
    mco_layer *l = &m->layers[layer];
    l->padding = MCO_PADDING_EXPLICIT;
    l->pad_top = top;
    l->pad_left = left;
    l->pad_bottom = bottom;
    l->pad_right = right;
}

/* Explicit padding: PyTorch's stride-2 padding-1 conv on an even input,
 * a depthwise padded top/left only, a ceil_mode-like max pool, an
 * asymmetric average pool. */
static void build_explicit(mco_model *m)
{
    mco_model_init(m, (mco_shape){10, 8, 2});
    snprintf(m->arch_name, sizeof m->arch_name, "test_explicit");
    m->norm = (mco_normalization){1.0f, 0.0f, 1.0f};
    set_pads(m, add_layer(m, MCO_LAYER_CONV2D, "conv_s2", 4, 3, 2, MCO_PADDING_VALID), 1, 1, 1, 1);
    set_pads(m, add_layer(m, MCO_LAYER_DEPTHWISE_CONV2D, "dw", 0, 2, 1, MCO_PADDING_VALID), 1, 1, 0, 0);
    set_pads(m, add_layer(m, MCO_LAYER_MAXPOOL2D, "pool_ceil", 0, 3, 2, MCO_PADDING_VALID), 1, 1, 2, 2);
    set_pads(m, add_layer(m, MCO_LAYER_AVGPOOL2D, "avg", 0, 2, 1, MCO_PADDING_VALID), 0, 1, 1, 0);
    add_layer(m, MCO_LAYER_FLATTEN, "flatten", 0, 0, 0, MCO_PADDING_VALID);
    add_layer(m, MCO_LAYER_DENSE, "logits", 3, 0, 0, MCO_PADDING_VALID);
    finish_model(m, 11);
    /* (10 + 2 - 3) / 2 + 1 = 5 by 4; 5x4; (5 + 3 - 3) / 2 + 1 = 3 by (4 + 3 - 3) / 2 + 1 = 3;
     * (3 + 1 - 2) + 1 = 3 by 3. */
    CHECK(m->layers[0].out_shape.h == 5 && m->layers[0].out_shape.w == 4);
    CHECK(m->layers[1].out_shape.h == 5 && m->layers[1].out_shape.w == 4);
    CHECK(m->layers[2].out_shape.h == 3 && m->layers[2].out_shape.w == 3);
    CHECK(m->layers[3].out_shape.h == 3 && m->layers[3].out_shape.w == 3);
}

/* The element-wise activations, LeakyReLU and HardSigmoid with their
 * alpha / beta (ACTP chunks): dense -> leaky_relu -> dense -> hard_sigmoid
 * -> sigmoid -> tanh -> hard_swish -> dense. */
static void build_activations(mco_model *m)
{
    mco_model_init(m, (mco_shape){1, 1, 6});
    snprintf(m->arch_name, sizeof m->arch_name, "test_activations");
    add_layer(m, MCO_LAYER_DENSE, "d1", 5, 0, 0, MCO_PADDING_VALID);
    int leaky = add_layer(m, MCO_LAYER_LEAKY_RELU, "leaky", 0, 0, 0, MCO_PADDING_VALID);   /* add_layer moves m->layers */
    m->layers[leaky].alpha = 0.125f;
    add_layer(m, MCO_LAYER_DENSE, "d2", 4, 0, 0, MCO_PADDING_VALID);
    int hs = add_layer(m, MCO_LAYER_HARD_SIGMOID, "hsig", 0, 0, 0, MCO_PADDING_VALID);
    m->layers[hs].alpha = 0.2f;
    m->layers[hs].beta = -0.0f;   /* kept bit for bit */
    add_layer(m, MCO_LAYER_SIGMOID, "sig", 0, 0, 0, MCO_PADDING_VALID);
    add_layer(m, MCO_LAYER_TANH, "tanh", 0, 0, 0, MCO_PADDING_VALID);
    add_layer(m, MCO_LAYER_HARD_SWISH, "hswish", 0, 0, 0, MCO_PADDING_VALID);
    add_layer(m, MCO_LAYER_DENSE, "out", 3, 0, 0, MCO_PADDING_VALID);
    finish_model(m, 5);
}

/* input 2x2x1 -> flatten -> dense(3) -> softmax: 15 parameters. */
static void build_tiny(mco_model *m)
{
    mco_model_init(m, (mco_shape){2, 2, 1});
    snprintf(m->arch_name, sizeof m->arch_name, "tiny");
    add_layer(m, MCO_LAYER_FLATTEN, "flatten", 0, 0, 0, MCO_PADDING_VALID);
    add_layer(m, MCO_LAYER_DENSE, "dense", 3, 0, 0, MCO_PADDING_VALID);
    add_layer(m, MCO_LAYER_SOFTMAX, "softmax", 0, 0, 0, MCO_PADDING_VALID);
    CHECK_OK(mco_model_infer_shapes(m));
    CHECK_OK(mco_model_alloc_params(m));
    float value = 0.0f;
    for (int i = 0; i < m->n_layers; i++)
        for (int p = 0; p < m->layers[i].n_params; p++)
            for (size_t k = 0; k < m->layers[i].params[p].size; k++, value += 0.5f)
                m->layers[i].params[p].data[k] = value;
}

/* ---- Comparing models field by field ---- */

static int shapes_equal(mco_shape a, mco_shape b)
{
    return a.h == b.h && a.w == b.w && a.c == b.c;
}

static int layers_equal(const mco_layer *a, const mco_layer *b)
{
    int same = a->type == b->type && strcmp(a->name, b->name) == 0 && a->n_inputs == b->n_inputs &&
               a->units == b->units && a->kernel_h == b->kernel_h && a->kernel_w == b->kernel_w &&
               a->stride_h == b->stride_h && a->stride_w == b->stride_w && a->padding == b->padding &&
               a->pad_top == b->pad_top && a->pad_left == b->pad_left && a->pad_bottom == b->pad_bottom &&
               a->pad_right == b->pad_right && a->count_pad == b->count_pad &&
               a->output_pad_h == b->output_pad_h && a->output_pad_w == b->output_pad_w &&
               bits_of(a->rate) == bits_of(b->rate) && bits_of(a->epsilon) == bits_of(b->epsilon) &&
               bits_of(a->momentum) == bits_of(b->momentum) && bits_of(a->alpha) == bits_of(b->alpha) &&
               bits_of(a->beta) == bits_of(b->beta) && shapes_equal(a->in_shape, b->in_shape) &&
               shapes_equal(a->out_shape, b->out_shape) && a->n_params == b->n_params;
    for (int k = 0; same && k < a->n_inputs; k++) same = a->inputs[k] == b->inputs[k];
    for (int p = 0; same && p < a->n_params; p++) {
        const mco_param *x = &a->params[p], *y = &b->params[p];
        same = x->ndim == y->ndim && x->size == y->size && x->data && y->data &&
               memcmp(x->dims, y->dims, sizeof(int) * (size_t)x->ndim) == 0 &&
               memcmp(x->data, y->data, x->size * sizeof(float)) == 0;   /* bitwise */
    }
    return same;
}

static int models_equal(const mco_model *a, const mco_model *b)
{
    if (strcmp(a->arch_name, b->arch_name) != 0 || !shapes_equal(a->input_shape, b->input_shape) ||
        a->n_classes != b->n_classes || a->loss != b->loss || bits_of(a->norm.scale) != bits_of(b->norm.scale) ||
        bits_of(a->norm.mean) != bits_of(b->norm.mean) || bits_of(a->norm.std) != bits_of(b->norm.std) ||
        a->n_layers != b->n_layers || a->has_frontend != b->has_frontend ||
        (a->has_frontend && memcmp(&a->frontend, &b->frontend, sizeof a->frontend) != 0))
        return 0;
    for (int i = 0; i < a->n_layers; i++)
        if (!layers_equal(&a->layers[i], &b->layers[i])) {
            fprintf(stderr, "layer %d differs\n", i);
            return 0;
        }
    return 1;
}

static int model_is_empty(const mco_model *m)
{
    return m->n_layers == 0 && m->layers == NULL;
}

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* ---- An independent encoder, written from docs/model-format.md ---- */

typedef struct {
    uint8_t data[1 << 18];
    size_t size;
} tbuf;

static void tb_bytes(tbuf *b, const void *p, size_t n)
{
    if (b->size + n > sizeof b->data) abort();
    memcpy(b->data + b->size, p, n);
    b->size += n;
}

static void tb_u32(tbuf *b, uint32_t v)
{
    uint8_t le[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    tb_bytes(b, le, 4);
}

static void tb_f32(tbuf *b, float f)
{
    tb_u32(b, bits_of(f));
}

static void tb_str(tbuf *b, const char *s)
{
    tb_u32(b, (uint32_t)strlen(s));
    tb_bytes(b, s, strlen(s));
}

static size_t tb_chunk_begin(tbuf *b, const char *tag)
{
    tb_bytes(b, tag, 4);
    tb_u32(b, 0);
    return b->size;
}

static void tb_chunk_end(tbuf *b, size_t start)
{
    uint32_t len = (uint32_t)(b->size - start);
    for (int i = 0; i < 4; i++) b->data[start - 4 + i] = (uint8_t)(len >> (8 * i));
}

static void tb_header(tbuf *b)
{
    b->size = 0;
    tb_bytes(b, "MCOM", 4);
    tb_u32(b, 1);
    tb_u32(b, 0);
    tb_u32(b, 0);
    tb_u32(b, 0);
}

/* Patches the payload size and appends the CRC, as a writer would. */
static void tb_seal(tbuf *b)
{
    uint64_t payload = b->size - 20;
    for (int i = 0; i < 8; i++) b->data[12 + i] = (uint8_t)(payload >> (8 * i));
    tb_u32(b, (uint32_t)crc32(0L, b->data, (uInt)b->size));   /* zlib's CRC, not ours */
}

typedef struct {
    const char *name;
    int32_t h, w, c, n_classes;
    float scale, mean, std;
    uint32_t n_layers;
} arch_spec;

typedef struct {
    uint32_t type;
    const char *name;
    uint32_t n_inputs;
    int32_t inputs[2];
    int32_t units, kernel_h, kernel_w, stride_h, stride_w;
    uint32_t padding;
    float rate, epsilon, momentum;
    uint32_t n_params;
    uint32_t ndim[4];
    uint32_t dims[4][4];
    uint32_t pads_bytes;   /* > 0: a PADS chunk of this many bytes follows (16 when well-formed) */
    int32_t pads[4];       /* top, left, bottom, right */
} layer_spec;

typedef struct {
    arch_spec arch;
    int n_layers;
    layer_spec layers[4];
    uint32_t tens_floats;
} tiny_spec;

static void tb_arch(tbuf *b, const arch_spec *a)
{
    size_t start = tb_chunk_begin(b, "ARCH");
    tb_str(b, a->name);
    tb_u32(b, (uint32_t)a->h);
    tb_u32(b, (uint32_t)a->w);
    tb_u32(b, (uint32_t)a->c);
    tb_u32(b, (uint32_t)a->n_classes);
    tb_f32(b, a->scale);
    tb_f32(b, a->mean);
    tb_f32(b, a->std);
    tb_u32(b, a->n_layers);
    tb_chunk_end(b, start);
}

static void tb_layer(tbuf *b, const layer_spec *l)
{
    size_t start = tb_chunk_begin(b, "LAYR");
    tb_u32(b, l->type);
    tb_str(b, l->name);
    tb_u32(b, l->n_inputs);
    for (uint32_t k = 0; k < l->n_inputs && k < 2; k++) tb_u32(b, (uint32_t)l->inputs[k]);
    tb_u32(b, (uint32_t)l->units);
    tb_u32(b, (uint32_t)l->kernel_h);
    tb_u32(b, (uint32_t)l->kernel_w);
    tb_u32(b, (uint32_t)l->stride_h);
    tb_u32(b, (uint32_t)l->stride_w);
    tb_u32(b, l->padding);
    tb_f32(b, l->rate);
    tb_f32(b, l->epsilon);
    tb_f32(b, l->momentum);
    tb_u32(b, l->n_params);
    for (uint32_t p = 0; p < l->n_params && p < 4; p++) {
        tb_u32(b, l->ndim[p]);
        for (uint32_t d = 0; d < l->ndim[p] && d < 4; d++) tb_u32(b, l->dims[p][d]);
    }
    tb_chunk_end(b, start);
    if (l->pads_bytes) {
        start = tb_chunk_begin(b, "PADS");
        for (uint32_t k = 0; k < l->pads_bytes / 4; k++) tb_u32(b, k < 4 ? (uint32_t)l->pads[k] : 0);
        tb_chunk_end(b, start);
    }
}

static void tb_tens(tbuf *b, uint32_t n_floats)
{
    size_t start = tb_chunk_begin(b, "TENS");
    for (uint32_t k = 0; k < n_floats; k++) tb_f32(b, 0.5f * (float)k);
    tb_chunk_end(b, start);
}

/* The spec of build_tiny()'s model. */
static tiny_spec tiny_default(void)
{
    tiny_spec s;
    memset(&s, 0, sizeof s);
    s.arch = (arch_spec){"tiny", 2, 2, 1, 3, 1.0f, 0.0f, 1.0f, 3};
    s.n_layers = 3;
    s.layers[0] = (layer_spec){.type = MCO_LAYER_FLATTEN, .name = "flatten", .n_inputs = 1,
                               .inputs = {MCO_INPUT, 0}};
    s.layers[1] = (layer_spec){.type = MCO_LAYER_DENSE, .name = "dense", .n_inputs = 1,
                               .inputs = {0, 0}, .units = 3, .n_params = 2, .ndim = {2, 1},
                               .dims = {{3, 4}, {3}}};
    s.layers[2] = (layer_spec){.type = MCO_LAYER_SOFTMAX, .name = "softmax", .n_inputs = 1,
                               .inputs = {1, 0}};
    s.tens_floats = 15;
    return s;
}

static void tb_tiny(tbuf *b, const tiny_spec *s)
{
    tb_header(b);
    tb_arch(b, &s->arch);
    for (int i = 0; i < s->n_layers; i++) tb_layer(b, &s->layers[i]);
    tb_tens(b, s->tens_floats);
    tb_seal(b);
}

/* Deserialises from a buffer of exactly `size` bytes (so ASan sees any
 * over-read) and checks a failure is clean: MCO_ERR_FORMAT, the model left
 * empty, the message starting with the origin. Returns the status. */
static mco_status load_bytes(const uint8_t *bytes, size_t size, mco_model *m)
{
    uint8_t *copy = malloc(size ? size : 1);
    if (size) memcpy(copy, bytes, size);
    mco_clear_error();
    mco_status st = mco_model_deserialize(copy, size, "hostile.mco", m);
    free(copy);
    if (st != MCO_OK) {
        CHECK(st == MCO_ERR_FORMAT);
        CHECK(model_is_empty(m));
        CHECK(starts_with(mco_last_error(), "hostile.mco: "));
        CHECK(strchr(mco_last_error(), '\n') == NULL);
    }
    return st;
}

/* Expects `b` to be rejected with a message containing `expect`. */
static void expect_rejected(const tbuf *b, const char *expect, const char *label)
{
    mco_model m;
    mco_status st = load_bytes(b->data, b->size, &m);
    if (st == MCO_OK) {
        fprintf(stderr, "%s: accepted a hostile file\n", label);
        mco_model_free(&m);
        test_failures++;
        return;
    }
    if (!strstr(mco_last_error(), expect)) {
        fprintf(stderr, "%s: message \"%s\" lacks \"%s\"\n", label, mco_last_error(), expect);
        test_failures++;
    }
}

/* ---- Tests ---- */

static void test_crc32(void)
{
    CHECK(mco_crc32(0, "123456789", 9) == 0xCBF43926u);
    CHECK(mco_crc32(0, "", 0) == 0);
    uint8_t data[10000];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof data; i++) {
        x = x * 1103515245u + 12345u;
        data[i] = (uint8_t)(x >> 16);
    }
    uint32_t whole = mco_crc32(0, data, sizeof data);
    CHECK(whole == (uint32_t)crc32(0L, data, sizeof data));
    CHECK(mco_crc32(mco_crc32(0, data, 777), data + 777, sizeof data - 777) == whole);
}

/* Serialise, deserialise, compare, serialise again: same bytes. */
static void check_round_trip(const mco_model *m)
{
    uint8_t *bytes = NULL, *again = NULL;
    size_t size = 0, size_again = 0;
    mco_model loaded;
    CHECK_OK(mco_model_serialize(m, &bytes, &size));
    CHECK_OK(mco_model_deserialize(bytes, size, "memory", &loaded));
    CHECK(models_equal(m, &loaded));
    CHECK_OK(mco_model_serialize(&loaded, &again, &size_again));
    CHECK(size == size_again && memcmp(bytes, again, size) == 0);
    /* The size follows from the layout: 24 bytes of header and CRC, 8 per chunk, 4 per float. */
    CHECK(size > 24 + 8 * (size_t)(m->n_layers + 2) + 4 * mco_model_param_count(m));
    mco_model_free(&loaded);
    free(bytes);
    free(again);
}

static void test_round_trips(void)
{
    mco_model cnn, res, tiny, explicit;
    build_cnn(&cnn);
    build_residual(&res);
    build_tiny(&tiny);
    build_explicit(&explicit);
    check_round_trip(&cnn);
    check_round_trip(&res);
    check_round_trip(&tiny);
    check_round_trip(&explicit);
    mco_model_free(&explicit);
    /* The loaded bits are the saved ones. */
    uint8_t *bytes;
    size_t size;
    mco_model loaded;
    CHECK_OK(mco_model_serialize(&cnn, &bytes, &size));
    CHECK_OK(mco_model_deserialize(bytes, size, "memory", &loaded));
    CHECK(bits_of(loaded.layers[0].params[0].data[0]) == 0x80800000u);
    CHECK(bits_of(loaded.layers[0].params[0].data[2]) == 0x80000000u);
    mco_model_free(&loaded);
    free(bytes);
    mco_model_free(&cnn);
    mco_model_free(&res);
    mco_model_free(&tiny);
}

/* The test's own encoding of `spec` equals mco_model_serialize(model) and
 * loads back equal to it; frees model. */
static void check_encoder_matches(const tiny_spec *spec, mco_model *model)
{
    uint8_t *bytes;
    size_t size;
    CHECK_OK(mco_model_serialize(model, &bytes, &size));
    static tbuf b;
    tb_tiny(&b, spec);
    CHECK(b.size == size && memcmp(b.data, bytes, size) == 0);
    mco_model loaded;
    CHECK(load_bytes(b.data, b.size, &loaded) == MCO_OK);
    if (model_is_empty(&loaded) == 0) {
        CHECK(models_equal(model, &loaded));
        mco_model_free(&loaded);
    }
    free(bytes);
    mco_model_free(model);
}

/* The test's own encoder must agree byte for byte with the library. */
static void test_independent_encoder(void)
{
    mco_model tiny;
    build_tiny(&tiny);
    tiny_spec spec = tiny_default();
    check_encoder_matches(&spec, &tiny);

    /* With explicit padding: a 2x2 max pool, stride 1, padded below and
     * right (2x2 -> 2x2), before the flatten: a LAYR then its PADS. */
    build_tiny(&tiny);
    mco_model pooled;
    mco_model_init(&pooled, tiny.input_shape);
    snprintf(pooled.arch_name, sizeof pooled.arch_name, "tiny");
    set_pads(&pooled, add_layer(&pooled, MCO_LAYER_MAXPOOL2D, "pool", 0, 2, 1, MCO_PADDING_VALID), 0, 0, 1, 1);
    for (int i = 0; i < tiny.n_layers; i++) {
        mco_layer l = tiny.layers[i];
        l.n_params = 0;
        l.n_inputs = 0;
        CHECK_OK(mco_model_add_layer(&pooled, &l, NULL));
    }
    mco_model_free(&tiny);
    CHECK_OK(mco_model_infer_shapes(&pooled));
    CHECK_OK(mco_model_alloc_params(&pooled));
    for (size_t k = 0; k < 15; k++)   /* tiny_spec's TENS values: 0, 0.5, 1, ... */
        pooled.layers[2].params[k / 12].data[k % 12] = 0.5f * (float)k;
    spec.arch.n_layers = 4;
    spec.n_layers = 4;
    for (int i = 3; i > 0; i--) spec.layers[i] = spec.layers[i - 1];
    spec.layers[0] = (layer_spec){.type = MCO_LAYER_MAXPOOL2D, .name = "pool", .n_inputs = 1,
                                  .inputs = {MCO_INPUT, 0}, .kernel_h = 2, .kernel_w = 2, .stride_h = 1,
                                  .stride_w = 1, .padding = 2, .pads_bytes = 16, .pads = {0, 0, 1, 1}};
    for (int i = 1; i < 4; i++) spec.layers[i].inputs[0] = i - 1;
    check_encoder_matches(&spec, &pooled);
}

static void test_truncation_and_corruption(void)
{
    mco_model tiny, m;
    build_tiny(&tiny);
    uint8_t *bytes;
    size_t size;
    CHECK_OK(mco_model_serialize(&tiny, &bytes, &size));
    int accepted = 0;
    for (size_t len = 0; len < size; len++) {
        if (load_bytes(bytes, len, &m) == MCO_OK) {
            accepted++;
            mco_model_free(&m);
        }
    }
    CHECK(accepted == 0);
    CHECK(load_bytes(bytes, 10, &m) == MCO_ERR_FORMAT && strstr(mco_last_error(), "truncated"));

    /* Every byte, flipped two ways. */
    for (size_t pos = 0; pos < size; pos++) {
        for (int flip = 0; flip < 2; flip++) {
            uint8_t saved = bytes[pos];
            bytes[pos] ^= flip ? 0xff : 0x01;
            if (load_bytes(bytes, size, &m) == MCO_OK) {
                accepted++;
                mco_model_free(&m);
            }
            bytes[pos] = saved;
        }
    }
    CHECK(accepted == 0);
    free(bytes);
    mco_model_free(&tiny);

    /* 2,000 deterministic positions of a bigger file. */
    mco_model cnn;
    build_cnn(&cnn);
    CHECK_OK(mco_model_serialize(&cnn, &bytes, &size));
    uint32_t x = 2024;
    for (int i = 0; i < 2000; i++) {
        x = x * 1664525u + 1013904223u;
        size_t pos = (size_t)x % size;
        uint8_t saved = bytes[pos];
        bytes[pos] ^= (uint8_t)(1u << (i % 8));
        if (load_bytes(bytes, size, &m) == MCO_OK) {
            accepted++;
            mco_model_free(&m);
        }
        bytes[pos] = saved;
    }
    CHECK(accepted == 0);
    CHECK(strstr(mco_last_error(), "CRC mismatch") || strstr(mco_last_error(), "hostile.mco"));
    free(bytes);
    mco_model_free(&cnn);
}

/* Files with a correct CRC that lie about their content. */
static void test_hostile_files(void)
{
    static tbuf b;
    tiny_spec s;

#define HOSTILE(change, expect)            \
    do {                                   \
        s = tiny_default();                \
        change;                            \
        tb_tiny(&b, &s);                   \
        expect_rejected(&b, expect, #change); \
    } while (0)

    HOSTILE(s.arch.n_layers = 0xffffffffu, "4294967295 layers");
    HOSTILE(s.arch.n_layers = 1000, "1000 layers");
    HOSTILE(s.arch.n_layers = 2, "ARCH declares 2 layers, the file has 3 LAYR chunks");
    HOSTILE(s.arch.n_layers = 0, "0 layers");
    HOSTILE(s.arch.h = 65537, "input shape");
    HOSTILE(s.arch.c = -1, "input shape");
    HOSTILE((s.arch.h = 65536, s.arch.w = 65536, s.arch.c = 65536), "has more than 67108864 values");
    /* 46341 * 46341 * 2 wraps to 9266 in an int: a flatten must not believe that. */
    HOSTILE((s.arch.h = 46341, s.arch.w = 46341, s.arch.c = 2, s.layers[1].dims[0][1] = 9266),
            "has more than 67108864 values");
    HOSTILE(s.arch.n_classes = 4, "n_classes 4 in file, 3 expected");
    HOSTILE(s.arch.std = 0.0f, "std");
    HOSTILE(s.arch.std = NAN, "std");
    HOSTILE(s.arch.scale = INFINITY, "normalisation");
    HOSTILE(s.arch.name = "a name that is much longer than sixty-three bytes, so it cannot fit",
            "architecture name");
    HOSTILE(s.layers[1].type = MCO_LAYER_TYPE_COUNT, "layer 1: unknown layer type 20");
    HOSTILE(s.layers[1].type = 0xffffffffu, "unknown layer type 4294967295");
    HOSTILE(s.layers[1].inputs[0] = 1, "layer 1 (dense): input 0 refers to layer 1, not an earlier one");
    HOSTILE(s.layers[1].inputs[0] = 2, "refers to layer 2");
    HOSTILE(s.layers[1].inputs[0] = -2, "refers to layer -2");
    HOSTILE(s.layers[1].n_inputs = 3, "3 inputs, expected 1 or 2");
    HOSTILE(s.layers[1].n_inputs = 0, "0 inputs");
    HOSTILE(s.layers[1].n_inputs = 2, "dense takes 1 input(s), has 2");
    HOSTILE(s.layers[1].units = 0, "units must be positive");
    HOSTILE(s.layers[1].units = -5, "out of range");
    HOSTILE(s.layers[1].padding = 3, "unknown padding 3");
    HOSTILE(s.layers[1].padding = 2, "layer 1 (dense): explicit padding without its PADS chunk");
    HOSTILE(s.layers[1].pads_bytes = 16, "layer 1 (dense): PADS chunk for a layer without explicit padding");
    HOSTILE((s.layers[1].padding = 2, s.layers[1].pads_bytes = 16), "explicit padding on a dense layer");
    HOSTILE((s.layers[1].padding = 2, s.layers[1].pads_bytes = 12), "layer 1: PADS chunk is cut short");
    HOSTILE((s.layers[1].padding = 2, s.layers[1].pads_bytes = 20), "layer 1: PADS chunk has 4 unexpected bytes");
    /* A 2x2 max pool, stride 1, instead of the flatten (the dense then fails later, if ever). */
    layer_spec pool = {.type = MCO_LAYER_MAXPOOL2D, .name = "pool", .n_inputs = 1, .inputs = {MCO_INPUT, 0},
                       .kernel_h = 2, .kernel_w = 2, .stride_h = 1, .stride_w = 1, .padding = 2,
                       .pads_bytes = 16};
    HOSTILE((s.layers[0] = pool, s.layers[0].pads[0] = 2),
            "layer 0 (pool): pads (top 2, left 0, bottom 0, right 0) must be 0..kernel-1");
    HOSTILE((s.layers[0] = pool, s.layers[0].pads[3] = -1), "layer 0 (pool): pads out of range");
    HOSTILE((s.layers[0] = pool, s.layers[0].padding = 1), "layer 0 (pool): PADS chunk for a layer without");
    HOSTILE(s.layers[1].rate = NAN, "must be finite");
    HOSTILE(s.layers[2].type = MCO_LAYER_MAXPOOL2D, "kernel and stride must be positive");
    HOSTILE((s.layers[2].type = MCO_LAYER_DROPOUT, s.layers[2].rate = 1.0f), "dropout rate");
    HOSTILE(s.layers[2].type = MCO_LAYER_BATCHNORM, "batchnorm epsilon");
    HOSTILE(s.layers[1].name = "", "layer 1: name");
    HOSTILE(s.layers[1].name = "a layer name longer than 31 bytes", "layer 1: name");
    HOSTILE(s.layers[1].name = "bad\nname", "control characters");
    HOSTILE(s.layers[1].n_params = 5, "5 parameter tensors, at most 4");
    HOSTILE(s.layers[1].n_params = 1, "1 parameter tensors in file, 2 expected");
    HOSTILE(s.layers[1].ndim[0] = 5, "weights has 5 dimensions");
    HOSTILE(s.layers[1].ndim[0] = 0, "weights has 0 dimensions");
    HOSTILE(s.layers[1].dims[0][0] = 0xffffffffu, "weights dimension 0 is 4294967295");
    HOSTILE(s.layers[1].dims[0][1] = 0, "weights dimension 1 is 0");
    HOSTILE((s.layers[1].dims[0][0] = 65536, s.layers[1].dims[0][1] = 65536),
            "weights is larger than");
    HOSTILE((s.layers[1].ndim[0] = 4, s.layers[1].dims[0][2] = 65536, s.layers[1].dims[0][3] = 65536),
            "weights is larger than");
    HOSTILE(s.layers[1].dims[0][1] = 5, "layer 1 (dense): weights shape 3x5 in file, 3x4 expected");
    HOSTILE(s.layers[1].dims[1][0] = 4, "bias shape 4 in file, 3 expected");
    HOSTILE(s.tens_floats = 14, "TENS chunk holds 56 bytes, the layers need 60");
    HOSTILE(s.tens_floats = 16, "TENS chunk holds 64 bytes");
    HOSTILE(s.tens_floats = 0, "TENS chunk holds 0 bytes");

    /* The brief's example message, from a model whose dense input is 2029 wide. */
    s = tiny_default();
    s.arch.h = 1;
    s.arch.w = 1;
    s.arch.c = 2029;
    s.layers[1].units = 10;
    s.layers[1].name = "dense_1";
    s.layers[1].dims[0][0] = 10;
    s.layers[1].dims[0][1] = 2028;
    s.layers[1].dims[1][0] = 10;
    s.arch.n_classes = 10;
    s.tens_floats = 10 * 2028 + 10;
    tb_tiny(&b, &s);
    mco_model m;
    CHECK(load_bytes(b.data, b.size, &m) == MCO_ERR_FORMAT);
    CHECK(strcmp(mco_last_error(), "hostile.mco: layer 1 (dense_1): weights shape 10x2028 in file, "
                                   "10x2029 expected") == 0);

    /* A chunk inside a LAYR that claims more bytes than remain: rebuild by hand. */
    s = tiny_default();
    tb_tiny(&b, &s);
    CHECK(load_bytes(b.data, b.size, &m) == MCO_OK);
    mco_model_free(&m);
    size_t arch_len_at = 20 + 4;
    b.data[arch_len_at + 2] = 0x01;   /* ARCH length += 65536 */
    b.size -= 4;
    tb_seal(&b);
    expect_rejected(&b, "chunk 'ARCH' at offset 20 claims", "chunk length");

    /* Header lies: payload size beyond the file, or short of it. */
    tb_tiny(&b, &s);
    for (int i = 12; i < 20; i++) b.data[i] = 0xff;
    expect_rejected(&b, "truncated: the header promises 18446744073709551615 payload bytes", "payload size");
    tb_tiny(&b, &s);
    b.data[12] -= 4;
    expect_rejected(&b, "4 unexpected bytes after the end", "payload size short");

    /* Version and flags. */
    tb_tiny(&b, &s);
    b.data[4] = 7;
    expect_rejected(&b, "hostile.mco: format version 7 is newer than this mcuopt supports (1)", "version");
    CHECK(strcmp(mco_last_error(), "hostile.mco: format version 7 is newer than this mcuopt supports (1)") == 0);
    tb_tiny(&b, &s);
    b.data[4] = 0;
    expect_rejected(&b, "format version 0", "version 0");
    tb_tiny(&b, &s);
    b.data[8] = 1;
    expect_rejected(&b, "unknown header flags", "flags");
    tb_tiny(&b, &s);
    b.data[0] = 'X';
    expect_rejected(&b, "not an mcuopt model file", "magic");
    tb_tiny(&b, &s);
    b.data[b.size - 1] ^= 0x40;
    expect_rejected(&b, "CRC mismatch", "crc");

    /* Chunk order, unknown chunks, bad tags. */
    tb_header(&b);
    tb_arch(&b, &s.arch);
    tb_layer(&b, &s.layers[0]);
    tb_tens(&b, 15);
    tb_layer(&b, &s.layers[1]);
    tb_layer(&b, &s.layers[2]);
    tb_seal(&b);
    expect_rejected(&b, "chunk 'LAYR' at offset", "LAYR after TENS");

    tb_header(&b);
    tb_layer(&b, &s.layers[0]);
    tb_seal(&b);
    expect_rejected(&b, "out of order", "LAYR before ARCH");

    tb_header(&b);
    tb_seal(&b);
    expect_rejected(&b, "missing ARCH chunk", "empty payload");

    tb_header(&b);
    tb_arch(&b, &s.arch);
    for (int i = 0; i < 3; i++) tb_layer(&b, &s.layers[i]);
    tb_seal(&b);
    expect_rejected(&b, "missing TENS chunk", "no TENS");

    tb_header(&b);
    tb_arch(&b, &s.arch);
    tb_arch(&b, &s.arch);
    tb_seal(&b);
    expect_rejected(&b, "chunk 'ARCH' at offset", "two ARCH");

    tb_header(&b);
    tb_arch(&b, &s.arch);
    for (int i = 0; i < 3; i++) tb_layer(&b, &s.layers[i]);
    tb_tens(&b, 15);
    tb_bytes(&b, "QNTZ", 4);
    tb_u32(&b, 0);
    tb_seal(&b);
    expect_rejected(&b, "unknown critical chunk 'QNTZ'", "critical chunk");

    tb_header(&b);
    tb_arch(&b, &s.arch);
    tb_bytes(&b, "LA1R", 4);
    tb_u32(&b, 0);
    tb_seal(&b);
    expect_rejected(&b, "bad chunk tag 0x4c413152", "bad tag");

    tb_header(&b);
    tb_arch(&b, &s.arch);
    tb_bytes(&b, "LAY", 3);
    tb_seal(&b);
    expect_rejected(&b, "chunk header at offset", "short chunk header");

    /* A LAYR chunk with one byte too few, and one with a byte too many. */
    tb_header(&b);
    tb_arch(&b, &s.arch);
    size_t start = tb_chunk_begin(&b, "LAYR");
    tb_u32(&b, MCO_LAYER_FLATTEN);
    tb_str(&b, "flatten");
    tb_u32(&b, 1);
    tb_chunk_end(&b, start);
    tb_layer(&b, &s.layers[1]);
    tb_layer(&b, &s.layers[2]);
    tb_tens(&b, 15);
    tb_seal(&b);
    expect_rejected(&b, "layer 0: LAYR chunk is cut short", "short LAYR");

    tb_header(&b);
    start = tb_chunk_begin(&b, "ARCH");
    tb_arch(&b, &s.arch);   /* a whole ARCH chunk nested: 8 extra bytes after the real fields */
    tb_chunk_end(&b, start);
    tb_seal(&b);
    expect_rejected(&b, "hostile.mco:", "nested ARCH");

    tb_header(&b);
    size_t arch_start = tb_chunk_begin(&b, "ARCH");
    tb_str(&b, "tiny");
    for (int i = 0; i < 4; i++) tb_u32(&b, i < 2 ? 2 : (i == 2 ? 1 : 3));
    tb_f32(&b, 1.0f);
    tb_f32(&b, 0.0f);
    tb_f32(&b, 1.0f);
    tb_u32(&b, 3);
    tb_u32(&b, 99);   /* extra */
    tb_chunk_end(&b, arch_start);
    for (int i = 0; i < 3; i++) tb_layer(&b, &s.layers[i]);
    tb_tens(&b, 15);
    tb_seal(&b);
    expect_rejected(&b, "ARCH chunk has 4 unexpected bytes at its end", "long ARCH");

    /* 257 layers declared; 257 LAYR chunks. */
    tb_header(&b);
    s.arch.n_layers = 257;
    tb_arch(&b, &s.arch);
    tb_layer(&b, &s.layers[0]);
    tb_tens(&b, 0);
    tb_seal(&b);
    expect_rejected(&b, "257 layers, expected 1..256", "257 layers");
    tb_header(&b);
    s.arch.n_layers = 256;
    tb_arch(&b, &s.arch);
    for (int i = 0; i < 257; i++) tb_layer(&b, &s.layers[0]);
    tb_tens(&b, 0);
    tb_seal(&b);
    expect_rejected(&b, "more than 256 LAYR chunks", "257 LAYR chunks");

    /* PADS belongs after a LAYR: not before the first, not twice. */
    s = tiny_default();
    s.layers[0] = pool;
    tb_header(&b);
    tb_arch(&b, &s.arch);
    start = tb_chunk_begin(&b, "PADS");
    tb_chunk_end(&b, start);
    tb_layer(&b, &s.layers[0]);
    tb_seal(&b);
    expect_rejected(&b, "chunk 'PADS' at offset", "PADS before LAYR");
    tb_header(&b);
    tb_arch(&b, &s.arch);
    tb_layer(&b, &s.layers[0]);
    start = tb_chunk_begin(&b, "PADS");
    for (int k = 0; k < 4; k++) tb_u32(&b, 0);
    tb_chunk_end(&b, start);
    tb_seal(&b);
    expect_rejected(&b, "is out of order (expected ARCH, [LOSS], LAYR [PADS] [ACTP] [CPAD] [CGEN] [OPAD]..., TENS)", "two PADS");
#undef HOSTILE
}

/* Optional chunks are skipped wherever they are; re-saving drops them. */
static void test_optional_chunks(void)
{
    static tbuf b;
    tiny_spec s = tiny_default();
    tb_header(&b);
    tb_bytes(&b, "xfst", 4);
    tb_u32(&b, 3);
    tb_bytes(&b, "abc", 3);
    tb_arch(&b, &s.arch);
    tb_layer(&b, &s.layers[0]);
    tb_bytes(&b, "qNTZ", 4);   /* lowercase first letter: optional */
    tb_u32(&b, 0);
    tb_layer(&b, &s.layers[1]);
    tb_layer(&b, &s.layers[2]);
    tb_tens(&b, 15);
    tb_bytes(&b, "pmsk", 4);
    tb_u32(&b, 1);
    tb_bytes(&b, "z", 1);
    tb_seal(&b);

    mco_model loaded, tiny;
    build_tiny(&tiny);
    CHECK(load_bytes(b.data, b.size, &loaded) == MCO_OK);
    if (!model_is_empty(&loaded)) {
        CHECK(models_equal(&tiny, &loaded));
        uint8_t *again, *plain;
        size_t again_size, plain_size;
        CHECK_OK(mco_model_serialize(&loaded, &again, &again_size));
        CHECK_OK(mco_model_serialize(&tiny, &plain, &plain_size));
        CHECK(again_size == plain_size && memcmp(again, plain, plain_size) == 0);
        free(again);
        free(plain);
        mco_model_free(&loaded);
    }
    mco_model_free(&tiny);
}

/* Saving refuses models that could not be loaded back. */
static void test_serialize_checks(void)
{
    mco_model m;
    build_tiny(&m);
    uint8_t *bytes = (uint8_t *)&m;   /* must be reset to NULL on failure */
    size_t size = 1;
    float *saved = m.layers[1].params[MCO_PARAM_BIAS].data;
    m.layers[1].params[MCO_PARAM_BIAS].data = NULL;
    CHECK(mco_model_serialize(&m, &bytes, &size) == MCO_ERR_ARG);
    CHECK(bytes == NULL && size == 0);
    CHECK(strstr(mco_last_error(), "layer 1 (dense): bias is not allocated") != NULL);
    m.layers[1].params[MCO_PARAM_BIAS].data = saved;
    m.norm.std = 0.0f;
    CHECK(mco_model_serialize(&m, &bytes, &size) == MCO_ERR_ARG);
    m.norm.std = 1.0f;
    m.layers[2].name[0] = '\0';
    CHECK(mco_model_serialize(&m, &bytes, &size) == MCO_ERR_ARG);
    m.layers[2].name[0] = 's';
    m.layers[1].pad_left = 1;   /* pads are only stored with explicit padding */
    CHECK(mco_model_serialize(&m, &bytes, &size) == MCO_ERR_ARG);
    CHECK(strstr(mco_last_error(), "layer 1 (dense): pads set without explicit padding") != NULL);
    mco_model_free(&m);
}

/* A diverged training run leaves NaN or infinite parameters: they are
 * neither written nor loaded, and the message names the layer; a deploy
 * model (.mcq) given as a float model is named as such. */
static void test_non_finite(void)
{
    mco_model m;
    build_tiny(&m);
    uint8_t *bytes = NULL;
    size_t size = 0;
    CHECK_OK(mco_model_check_finite(&m));
    m.layers[1].params[MCO_PARAM_BIAS].data[2] = NAN;
    CHECK(mco_model_check_finite(&m) == MCO_ERR_RANGE);
    CHECK(strstr(mco_last_error(), "layer 1 (dense): bias[2] is nan") != NULL);
    CHECK(mco_model_serialize(&m, &bytes, &size) == MCO_ERR_RANGE);
    CHECK(bytes == NULL && size == 0);
    m.layers[1].params[MCO_PARAM_WEIGHTS].data[0] = -INFINITY;
    CHECK(mco_model_serialize(&m, &bytes, &size) == MCO_ERR_RANGE);
    CHECK(strstr(mco_last_error(), "layer 1 (dense): weights[0] is inf") != NULL);
    mco_model_free(&m);

    /* The same in a file with valid framing and CRC, written by hand. */
    static tbuf b;
    tiny_spec spec = tiny_default();
    tb_header(&b);
    tb_arch(&b, &spec.arch);
    for (int i = 0; i < spec.n_layers; i++) tb_layer(&b, &spec.layers[i]);
    size_t start = tb_chunk_begin(&b, "TENS");
    for (uint32_t k = 0; k < spec.tens_floats; k++) tb_f32(&b, k == 13 ? NAN : 0.25f);
    tb_chunk_end(&b, start);
    tb_seal(&b);
    expect_rejected(&b, "layer 1 (dense): bias[1] is nan", "a NaN bias");
    b.size = 0;
    tb_bytes(&b, MCO_DEPLOY_MAGIC, 4);
    tb_u32(&b, 1);
    expect_rejected(&b, "a quantized deploy model (.mcq)", "a deploy model's magic");
}

/* Number of directory entries whose name contains `part`. */
static int count_entries(const char *dir, const char *part)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strstr(e->d_name, part)) n++;
    closedir(d);
    return n;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

static void test_files(void)
{
    char dir[] = "/tmp/mco_test_model_file_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256], missing[256], sub[256], tmp_text[256];
    snprintf(path, sizeof path, "%s/model.mco", dir);
    snprintf(missing, sizeof missing, "%s/no/such/dir/model.mco", dir);
    snprintf(sub, sizeof sub, "%s/a_directory", dir);

    mco_model res, loaded;
    build_residual(&res);

    /* Saving over an existing file replaces it. */
    write_text(path, "an old file that is not a model");
    CHECK_OK(mco_model_save(&res, path));
    CHECK_OK(mco_model_load(path, &loaded));
    CHECK(models_equal(&res, &loaded));
    mco_model_free(&loaded);
    CHECK(count_entries(dir, ".tmp.") == 0);

    /* A save into a missing directory fails and leaves nothing behind. */
    CHECK(mco_model_save(&res, missing) == MCO_ERR_IO);
    CHECK(starts_with(mco_last_error(), missing));
    CHECK(count_entries(dir, ".tmp.") == 0);

    /* A save whose rename fails (the target is a directory) removes its temp file. */
    CHECK(mkdir(sub, 0700) == 0);
    CHECK(mco_model_save(&res, sub) == MCO_ERR_IO);
    CHECK(count_entries(dir, ".tmp.") == 0);
    struct stat st;
    CHECK(stat(sub, &st) == 0 && S_ISDIR(st.st_mode));

    /* A model that cannot be written leaves the old file untouched. */
    float *bias = res.layers[0].params[MCO_PARAM_BIAS].data;
    res.layers[0].params[MCO_PARAM_BIAS].data = NULL;
    CHECK(mco_model_save(&res, path) == MCO_ERR_ARG);
    CHECK(starts_with(mco_last_error(), path));
    res.layers[0].params[MCO_PARAM_BIAS].data = bias;
    CHECK_OK(mco_model_load(path, &loaded));
    CHECK(models_equal(&res, &loaded));
    mco_model_free(&loaded);

    /* Load errors: missing file, a directory, a text file, an empty file. */
    CHECK(mco_model_load(missing, &loaded) == MCO_ERR_IO);
    CHECK(starts_with(mco_last_error(), missing) && model_is_empty(&loaded));
    CHECK(mco_model_load(sub, &loaded) == MCO_ERR_IO);
    CHECK(starts_with(mco_last_error(), sub));
    snprintf(tmp_text, sizeof tmp_text, "%s/text.mco", dir);
    write_text(tmp_text, "hello, this is not a model file at all\n");
    CHECK(mco_model_load(tmp_text, &loaded) == MCO_ERR_FORMAT);
    CHECK(starts_with(mco_last_error(), tmp_text) && strstr(mco_last_error(), "not an mcuopt model"));
    write_text(tmp_text, "");
    CHECK(mco_model_load(tmp_text, &loaded) == MCO_ERR_FORMAT);
    CHECK(strstr(mco_last_error(), "truncated") != NULL);

    /* mco_read_file's cap. */
    write_text(tmp_text, "0123456789");
    uint8_t *bytes;
    size_t size;
    CHECK_OK(mco_read_file(tmp_text, 10, &bytes, &size));
    CHECK(size == 10 && memcmp(bytes, "0123456789", 10) == 0);
    free(bytes);
    CHECK(mco_read_file(tmp_text, 9, &bytes, &size) == MCO_ERR_RANGE);
    CHECK(bytes == NULL && starts_with(mco_last_error(), tmp_text));
    write_text(tmp_text, "");
    CHECK_OK(mco_read_file(tmp_text, 9, &bytes, &size));
    CHECK(size == 0);
    free(bytes);

    /* mco_write_file_atomic on its own. */
    CHECK_OK(mco_write_file_atomic(tmp_text, "xyz", 3));
    CHECK_OK(mco_read_file(tmp_text, 100, &bytes, &size));
    CHECK(size == 3 && memcmp(bytes, "xyz", 3) == 0);
    free(bytes);

    remove(tmp_text);
    remove(path);
    rmdir(sub);
    CHECK(count_entries(dir, "") == 2);   /* only "." and ".." */
    rmdir(dir);
    mco_model_free(&res);
}

/* A reconstruction model carries a critical LOSS chunk right after ARCH; a
 * classifier's file has none (so files written before it are unchanged). A
 * LOSS chunk with an unknown value is refused. */
static uint8_t *find_tag(uint8_t *bytes, size_t size, const char *tag)
{
    for (size_t i = 0; i + 4 <= size; i++)
        if (memcmp(bytes + i, tag, 4) == 0) return bytes + i;
    return NULL;
}

static void test_loss_chunk(void)
{
    mco_model ae, tiny, loaded;
    CHECK_OK(mco_arch_load("ad-autoencoder", (mco_shape){0, 0, 0}, 0, &ae));
    CHECK_OK(mco_model_alloc_params(&ae));
    mco_model_init_params(&ae, 3);
    CHECK(ae.loss == MCO_LOSS_MSE);
    check_round_trip(&ae);
    uint8_t *bytes;
    size_t size;
    CHECK_OK(mco_model_serialize(&ae, &bytes, &size));
    uint8_t *tag = find_tag(bytes, size, "LOSS");
    CHECK(tag != NULL);
    CHECK_OK(mco_model_deserialize(bytes, size, "memory", &loaded));
    CHECK(loaded.loss == MCO_LOSS_MSE);
    mco_model_free(&loaded);
    if (tag) {
        tag[8] = 7;   /* the u32 loss value, then a fresh CRC over [0, size - 4) */
        uint32_t crc = mco_crc32(0, bytes, size - 4);
        for (int i = 0; i < 4; i++) bytes[size - 4 + (size_t)i] = (uint8_t)(crc >> (8 * i));
        CHECK(mco_model_deserialize(bytes, size, "bad.mco", &loaded) == MCO_ERR_FORMAT);
        CHECK(strstr(mco_last_error(), "bad.mco") && strstr(mco_last_error(), "unknown loss 7"));
    }
    free(bytes);
    build_tiny(&tiny);
    CHECK_OK(mco_model_serialize(&tiny, &bytes, &size));
    CHECK(find_tag(bytes, size, "LOSS") == NULL);
    free(bytes);
    mco_model_free(&tiny);
    mco_model_free(&ae);
}

/* A model trained on audio: its front-end round-trips in the mfcc chunk
 * (a model without one has none); a front-end whose features are not the
 * model's input is refused by the writer and, in a file, by the loader. */
static void test_mfcc_chunk(void)
{
    mco_model kws, loaded;
    CHECK_OK(mco_arch_load("ds-cnn", (mco_shape){0, 0, 0}, 12, &kws));
    CHECK_OK(mco_model_alloc_params(&kws));
    mco_model_init_params(&kws, 5);
    uint8_t *bytes;
    size_t size;
    CHECK_OK(mco_model_serialize(&kws, &bytes, &size));
    CHECK(find_tag(bytes, size, "mfcc") == NULL);
    free(bytes);
    kws.has_frontend = 1;
    mco_audio_frontend_default(&kws.frontend);
    kws.frontend.lower_hz = 60.0f;
    check_round_trip(&kws);
    CHECK_OK(mco_model_serialize(&kws, &bytes, &size));
    CHECK_OK(mco_model_deserialize(bytes, size, "memory", &loaded));
    CHECK(loaded.has_frontend && loaded.frontend.lower_hz == 60.0f && loaded.frontend.n_coeffs == 10);
    mco_model_free(&loaded);
    uint8_t *tag = find_tag(bytes, size, "mfcc");
    CHECK(tag != NULL);
    if (tag) {
        tag[8 + 6 * 4] = 13;   /* n_coeffs 13: 49x13 features, then a fresh CRC over [0, size - 4) */
        uint32_t crc = mco_crc32(0, bytes, size - 4);
        for (int i = 0; i < 4; i++) bytes[size - 4 + (size_t)i] = (uint8_t)(crc >> (8 * i));
        CHECK(mco_model_deserialize(bytes, size, "bad.mco", &loaded) == MCO_ERR_FORMAT);
        CHECK(strstr(mco_last_error(), "bad.mco") &&
              strstr(mco_last_error(), "the audio front-end gives 49x13x1 features but the model takes 49x10x1"));
    }
    free(bytes);
    kws.frontend.n_coeffs = 13;
    CHECK(mco_model_serialize(&kws, &bytes, &size) == MCO_ERR_SHAPE);
    kws.frontend.n_coeffs = 10;
    kws.frontend.fft_size = 500;   /* not a power of two */
    CHECK(mco_model_serialize(&kws, &bytes, &size) == MCO_ERR_ARG);
    CHECK(strstr(mco_last_error(), "audio front-end parameters out of range") != NULL);
    mco_model_free(&kws);
}

/* The activations' file: its ACTP chunks present, renamed away (then
 * missing), or on a layer that takes none. */
static void test_activation_chunks(void)
{
    mco_model m;
    build_activations(&m);
    check_round_trip(&m);
    uint8_t *bytes;
    size_t size;
    CHECK_OK(mco_model_serialize(&m, &bytes, &size));
    static tbuf b;
    memcpy(b.data, bytes, size);
    free(bytes);
    b.size = size - 4;
    uint8_t *tag = NULL;
    for (size_t k = 0; !tag && k + 4 <= b.size; k++)
        if (memcmp(b.data + k, "ACTP", 4) == 0) tag = b.data + k;
    CHECK(tag != NULL);
    if (tag) {
        tag[0] = 'a';   /* now optional: skipped, so the leaky_relu has none */
        tb_seal(&b);
        expect_rejected(&b, "layer 1 (leaky): leaky_relu without its ACTP chunk", "ACTP missing");
    }
    /* An alpha on a sigmoid is refused by the writer, as a loader would. */
    m.layers[4].alpha = 1.0f;
    CHECK(mco_model_serialize(&m, &bytes, &size) == MCO_ERR_ARG);
    CHECK(strstr(mco_last_error(), "alpha or beta set on a sigmoid layer") != NULL);
    m.layers[4].alpha = 0.0f;
    m.layers[3].alpha = 0.0f;
    CHECK(mco_model_serialize(&m, &bytes, &size) == MCO_ERR_ARG);
    CHECK(strstr(mco_last_error(), "hard_sigmoid alpha is 0") != NULL);
    mco_model_free(&m);
}

/* An average pool dividing by its whole window (count_pad): its CPAD chunk
 * round-trips, holds 1 (2 is refused), and only an avgpool2d may have one;
 * a model without count_pad has none. */
static void test_count_pad_chunk(void)
{
    mco_model m;
    build_explicit(&m);
    uint8_t *bytes;
    size_t size;
    CHECK_OK(mco_model_serialize(&m, &bytes, &size));
    CHECK(find_tag(bytes, size, "CPAD") == NULL);
    free(bytes);
    m.layers[3].count_pad = 1;
    check_round_trip(&m);
    CHECK_OK(mco_model_serialize(&m, &bytes, &size));
    static tbuf b;
    memcpy(b.data, bytes, size);
    free(bytes);
    b.size = size - 4;
    uint8_t *tag = find_tag(b.data, b.size, "CPAD");
    CHECK(tag != NULL);
    if (tag) {
        tag[8] = 2;
        tb_seal(&b);
        expect_rejected(&b, "layer 3 (avg): count_pad 2 in the CPAD chunk (only 1)", "CPAD of 2");
    }
    m.layers[2].count_pad = 1;   /* the max pool */
    CHECK(mco_model_serialize(&m, &bytes, &size) == MCO_ERR_ARG);
    CHECK(strstr(mco_last_error(), "count_pad 1 on a maxpool2d layer (only 1 on an avgpool2d)") != NULL);
    mco_model_free(&m);
}

/* A conv_transpose2d with output padding: its OPAD chunk round-trips (with
 * explicit pads too), a layer without output padding writes none, values
 * at or above the stride are refused on load, and only a conv_transpose2d
 * may have one. */
static void test_output_pad_chunk(void)
{
    mco_model m;
    mco_model_init(&m, (mco_shape){4, 5, 2});
    mco_layer l;
    memset(&l, 0, sizeof l);
    l.type = MCO_LAYER_CONV_TRANSPOSE2D;
    strcpy(l.name, "up");
    l.units = 3;
    l.kernel_h = l.kernel_w = 3;
    l.stride_h = l.stride_w = 2;
    CHECK_OK(mco_model_add_layer(&m, &l, NULL));
    finish_model(&m, 5);
    CHECK(m.layers[0].out_shape.h == 9 && m.layers[0].out_shape.w == 11);
    uint8_t *bytes;
    size_t size;
    CHECK_OK(mco_model_serialize(&m, &bytes, &size));
    CHECK(find_tag(bytes, size, "OPAD") == NULL);
    free(bytes);
    check_round_trip(&m);
    m.layers[0].output_pad_h = 1;
    m.layers[0].padding = MCO_PADDING_EXPLICIT;
    m.layers[0].pad_top = m.layers[0].pad_left = m.layers[0].pad_bottom = m.layers[0].pad_right = 1;
    CHECK_OK(mco_model_infer_shapes(&m));
    CHECK(m.layers[0].out_shape.h == 8 && m.layers[0].out_shape.w == 9);
    check_round_trip(&m);
    CHECK_OK(mco_model_serialize(&m, &bytes, &size));
    static tbuf b;
    memcpy(b.data, bytes, size);
    free(bytes);
    b.size = size - 4;
    uint8_t *tag = find_tag(b.data, b.size, "OPAD");
    CHECK(tag != NULL);
    if (tag) {
        tag[8] = 2;   /* output_pad_h 2 with stride 2 */
        tb_seal(&b);
        expect_rejected(&b, "layer 0 (up): output padding 2x0 in the OPAD chunk (0..stride-1 for stride 2x2, not both 0)",
                        "OPAD of 2");
    }
    mco_model_free(&m);
    build_explicit(&m);
    m.layers[1].output_pad_w = 1;
    CHECK(mco_model_serialize(&m, &bytes, &size) == MCO_ERR_ARG);
    CHECK(strstr(mco_last_error(), "(only 0..stride-1 on a conv_transpose2d)") != NULL);
    mco_model_free(&m);
}

/* The general convolution (conv16): a grouped conv and a dilated depthwise
 * conv with a depth multiplier; their CGEN chunks round-trip, a model
 * without them has none, and a field of 0 or a chunk with every field 1
 * is refused. */
static void test_general_conv_chunk(void)
{
    mco_model m;
    mco_model_init(&m, (mco_shape){7, 6, 4});
    snprintf(m.arch_name, sizeof m.arch_name, "test_general");
    int g = add_layer(&m, MCO_LAYER_CONV2D, "grouped", 6, 3, 1, MCO_PADDING_SAME);
    m.layers[g].groups = 2;
    int dw = add_layer(&m, MCO_LAYER_DEPTHWISE_CONV2D, "dw", 0, 2, 1, MCO_PADDING_VALID);
    m.layers[dw].depth_multiplier = 2;
    m.layers[dw].dilation_h = 3;
    add_layer(&m, MCO_LAYER_FLATTEN, "flatten", 0, 0, 0, MCO_PADDING_VALID);
    add_layer(&m, MCO_LAYER_DENSE, "logits", 3, 0, 0, MCO_PADDING_VALID);
    finish_model(&m, 5);
    /* 7x6x6 (24 weights per filter: 3x3x2), then 4x5x12 */
    CHECK(m.layers[g].params[MCO_PARAM_WEIGHTS].size == 6 * 3 * 3 * 2);
    CHECK(m.layers[dw].out_shape.h == 4 && m.layers[dw].out_shape.w == 5 && m.layers[dw].out_shape.c == 12);
    check_round_trip(&m);
    uint8_t *bytes;
    size_t size;
    CHECK_OK(mco_model_serialize(&m, &bytes, &size));
    static tbuf b;
    memcpy(b.data, bytes, size);
    free(bytes);
    b.size = size - 4;
    uint8_t *tag = find_tag(b.data, b.size, "CGEN");
    CHECK(tag != NULL);
    if (tag) {
        tag[16] = 0;   /* groups (the third u32 after the tag and length) */
        tb_seal(&b);
        expect_rejected(&b, "layer 0 (grouped): CGEN field 2 is 0 (1..65536)", "CGEN groups 0");
        tag[16] = 1;   /* groups 1: dilations 1, depth multiplier 1 too */
        b.size = size - 4;
        tb_seal(&b);
        expect_rejected(&b, "layer 0 (grouped): CGEN chunk with every field 1", "CGEN all 1");
    }
    mco_model_free(&m);
    build_explicit(&m);   /* plain convs: no CGEN */
    CHECK_OK(mco_model_serialize(&m, &bytes, &size));
    CHECK(find_tag(bytes, size, "CGEN") == NULL);
    free(bytes);
    mco_model_free(&m);
}

int main(void)
{
    test_output_pad_chunk();
    test_activation_chunks();
    test_count_pad_chunk();
    test_general_conv_chunk();
#if !defined(__SANITIZE_ADDRESS__)
    /* A loader that believed a hostile size would now fail to allocate. */
    struct rlimit limit = {(rlim_t)1 << 30, (rlim_t)1 << 30};
    setrlimit(RLIMIT_AS, &limit);
#endif
    test_crc32();
    test_round_trips();
    test_loss_chunk();
    test_mfcc_chunk();
    test_independent_encoder();
    test_truncation_and_corruption();
    test_hostile_files();
    test_optional_chunks();
    test_serialize_checks();
    test_non_finite();
    test_files();
    TEST_MAIN_END();
}
