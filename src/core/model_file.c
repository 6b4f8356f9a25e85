/*
 * model_file.c - the .mco model file: a model to bytes and back, and saving
 * and loading it (see model_file.h). The layout is documented here, where it
 * is parsed, and with examples in docs/model-format.md.
 *
 * LAYOUT, version 1. Integers are little-endian, i32 in two's complement;
 * f32 values are the IEEE-754 binary32 bit patterns, stored exactly.
 *
 *   offset  size  field
 *   0       4     magic "MCOM"
 *   4       4     u32 version (1)
 *   8       4     u32 flags (0; a version-1 reader rejects any other value)
 *   12      8     u64 payload size P
 *   20      P     payload: chunks, back to back, no padding
 *   20+P    4     u32 CRC-32 (as zlib's crc32) of bytes [0, 20+P)
 * The file is exactly 24 + P bytes.
 *
 * A chunk is a 4-byte tag of ASCII letters, a u32 content length L, then L
 * bytes of content. As in PNG, a tag whose first letter is lowercase marks an
 * optional chunk, which a reader that does not know it skips; an unknown tag
 * with an uppercase first letter is critical, and the file is rejected with a
 * message naming it. So later versions can add chunks (e.g. quantization
 * parameters, pruning masks) without changing the version number; the version
 * changes only if the header, the chunk framing or a version-1 chunk changes.
 *
 * The critical chunks of version 1, in this order (optional chunks may appear
 * anywhere between them):
 *   ARCH  exactly once, first:
 *           str  arch_name          (str = u32 length n, then n bytes, no NUL)
 *           i32  input h, w, c      (each 1..MCO_MAX_DIM, product at most 2^26)
 *           i32  n_classes          (must equal the last layer's channels)
 *           f32  normalisation scale, mean, std
 *           u32  n_layers           (1..MCO_MAX_LAYERS)
 *   LAYR  n_layers times, one per layer in model order:
 *           u32  type               (mco_layer_type: 0 conv2d ... 12 dropout, 13 sigmoid,
 *                                    14 tanh, 15 leaky_relu, 16 hard_sigmoid, 17 hard_swish,
 *                                    18 concat, 19 conv_transpose2d)
 *           str  name               (1..MCO_NAME_MAX-1 bytes, no control characters)
 *           u32  n_inputs           (2 for add and concat, else 1)
 *           i32  inputs[n_inputs]   (an earlier layer's index, or -1 for the model input)
 *           i32  units, kernel_h, kernel_w, stride_h, stride_w
 *           u32  padding            (0 valid, 1 same, 2 explicit)
 *           f32  rate, epsilon, momentum
 *           u32  n_params           (0..MCO_MAX_PARAMS)
 *           then per parameter: u32 ndim (1..4), u32 dims[ndim] (1..MCO_MAX_DIM)
 *   LOSS  at most once, right after ARCH, only in a model not trained on
 *         cross-entropy (files of classifiers hold none and are unchanged):
 *           u32  loss               (mco_loss: 1 mse, i.e. a reconstruction
 *                                    model whose output has its input's size)
 *         Critical, so a reader older than it refuses an autoencoder instead
 *         of judging its 640 outputs as 640 classes.
 *   PADS  after (and only after) the LAYR of each layer with explicit padding,
 *         before the next LAYR:
 *           i32  pad_top, pad_left, pad_bottom, pad_right   (each 0..kernel-1)
 *         Critical, so a reader older than explicit padding refuses the
 *         file instead of misreading the layer's output size; files without
 *         explicit padding hold no PADS chunk and are unchanged.
 *   ACTP  after (and only after) the LAYR of each leaky_relu and
 *         hard_sigmoid layer, before the next LAYR:
 *           f32  alpha, beta        (finite; leaky_relu: beta 0; hard_sigmoid:
 *                                    alpha non-zero)
 *         Critical for the same reason as PADS; no other layer has one (and
 *         their alpha and beta are 0).
 *   CPAD  after (and only after) the LAYR of each avgpool2d that divides by
 *         the whole window, padding included (count_pad 1: ONNX
 *         count_include_pad=1), before the next LAYR:
 *           u32  count_pad          (1)
 *         Critical for the same reason as PADS; an average pool without one
 *         divides by its in-bounds inputs (count_pad 0), as before.
 *   OPAD  after (and only after) the LAYR of each conv_transpose2d with
 *         output padding (ONNX / PyTorch output_padding), before the next LAYR:
 *           i32  output_pad_h, output_pad_w     (each 0..stride-1, not both 0)
 *         Critical for the same reason as PADS; a conv_transpose2d without
 *         one adds no rows or columns after its output.
 *   CGEN  after (and only after) the LAYR of each general convolution (a
 *         conv2d with groups or a dilation above 1, a depthwise_conv2d with a
 *         depth multiplier or a dilation above 1; graph.h), after its PADS /
 *         CPAD, before the next LAYR:
 *           u32  dilation_h, dilation_w, groups, depth_multiplier  (each >= 1;
 *                groups 1 on a depthwise_conv2d, depth_multiplier 1 on a conv2d)
 *         Critical for the same reason as PADS; a convolution without one
 *         has them all 1, as before.
 *   mfcc  optional, at most once, anywhere (written after ARCH / LOSS), only
 *         in a model trained on audio features (mco_model.has_frontend):
 *           i32  sample_rate, clip_samples, frame_length, frame_stride,
 *                fft_size, n_mels, n_coeffs (0: log-mel)
 *           f32  lower_hz, upper_hz
 *         The audio front-end the input's features come from (graph.h:
 *         mco_audio_frontend); checked against the runtime's ranges and the
 *         input shape. Optional: the model computes the same function
 *         without it (an older reader loses only NAME_run_pcm).
 *   TENS  exactly once, last: every parameter's f32 values in layer order,
 *         parameter order within a layer, each tensor in the row-major layout
 *         of graph.h. Its length must be 4 x the sum of the tensor sizes, and
 *         every value must be finite (no NaN or infinity: neither written
 *         nor loaded).
 * A layer's in/out shapes are not stored: the loader re-runs shape inference
 * and rejects a file whose stored parameter shapes or n_classes differ from
 * the inferred ones.
 *
 * Trust: the header, payload size and CRC are checked before any chunk is
 * read; then every count and length is checked against the bytes remaining
 * and the caps of graph.h before it is used, and the parameter storage is
 * allocated only once its size is known to equal the TENS chunk's length. So
 * a truncated, corrupt or hostile file gives MCO_ERR_FORMAT and one line
 * starting with its origin (the path), never a crash or a big allocation.
 *
 * Every value is encoded and decoded byte by byte, so the code does not
 * depend on the host's byte order or alignment.
 *
 * What it leaves out: optional chunks are skipped on load and not kept, so
 * re-saving such a file drops them; no compression; no streaming (the whole
 * file is built or read in memory, which the 256 MiB cap keeps bounded).
 */
#include "mcuopt/model_file.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcuopt/file_util.h"

/* The layer type numbers are part of the file format: new types go at the end
 * of mco_layer_type, and docs/model-format.md lists them. */
_Static_assert(MCO_LAYER_TYPE_COUNT == 20, "layer types changed: update the model file docs");
_Static_assert(sizeof(float) == sizeof(uint32_t), "floats are stored as 32-bit patterns");

#define HEADER_SIZE 20
#define CRC_SIZE 4
#define CHUNK_HEADER_SIZE 8
#define MODEL_MAX_FILE_BYTES ((size_t)256 << 20)   /* load cap: 256 MiB */
#define MAX_PARAM_FLOATS (MODEL_MAX_FILE_BYTES / 4)
#define ARCH_NAME_MAX (sizeof(((mco_model *)0)->arch_name))

/* ---- Little-endian encoding ---- */

static void store_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t load_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t load_u64(const uint8_t *p)
{
    return (uint64_t)load_u32(p) | (uint64_t)load_u32(p + 4) << 32;
}

/* Two's complement without relying on implementation-defined conversions. */
static int32_t i32_from_u32(uint32_t u)
{
    return u <= (uint32_t)INT32_MAX ? (int32_t)u : -(int32_t)(UINT32_MAX - u) - 1;
}

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float f32_from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* ---- Error messages ---- */

/* Re-records the last message as "<origin>: <message>" with status `st`. */
static mco_status prefix_error(mco_status st, const char *origin)
{
    char msg[512];
    snprintf(msg, sizeof msg, "%s", mco_last_error());
    return mco_error(st, "%s: %s", origin, msg);
}

/* Records "layer <index> (<name>): <message>", or "layer <index>: ..." while
 * the name is not known yet. */
static mco_status layer_error(mco_status st, int index, const char *name, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static mco_status layer_error(mco_status st, int index, const char *name, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (name && name[0]) return mco_error(st, "layer %d (%s): %s", index, name, msg);
    return mco_error(st, "layer %d: %s", index, msg);
}

static const char *param_name(mco_layer_type type, int p)
{
    static const char *const batchnorm[MCO_MAX_PARAMS] = {"gamma", "beta", "moving_mean",
                                                          "moving_var"};
    static const char *const weighted[2] = {"weights", "bias"};
    if (type == MCO_LAYER_BATCHNORM) return batchnorm[p];
    return p < 2 ? weighted[p] : "extra parameter";
}

/* Writes dims as "10x2028". */
static void format_dims(const mco_param *p, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int d = 0; d < p->ndim && used < size; d++)
        used += (size_t)snprintf(buf + used, size - used, d ? "x%d" : "%d", p->dims[d]);
}

/* ---- Checks shared by writing and reading, so nothing is written that
 * would not load. `fail` is the status to report (ARG when saving, FORMAT
 * when loading). ---- */

/* A name of `len` bytes that fits a buffer of `cap` bytes with its NUL and
 * holds no control characters (messages stay on one line). */
static int name_is_valid(const char *s, size_t len, size_t cap)
{
    if (len >= cap) return 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f) return 0;
    return 1;
}

static int dim_in_range(int v, int min)
{
    return v >= min && v <= MCO_MAX_DIM;
}

/* The model-level fields; `n_layers` is passed apart because the loader
 * checks the declared count before it has added any layer. */
static mco_status check_model_fields(const mco_model *m, long long n_layers, mco_status fail)
{
    size_t name_len = strnlen(m->arch_name, ARCH_NAME_MAX);
    if (!name_is_valid(m->arch_name, name_len, ARCH_NAME_MAX))
        return mco_error(fail, "architecture name is too long or holds control characters");
    mco_shape s = m->input_shape;
    if (!dim_in_range(s.h, 1) || !dim_in_range(s.w, 1) || !dim_in_range(s.c, 1))
        return mco_error(fail, "input shape %dx%dx%d is out of range (1..%d each)", s.h, s.w, s.c,
                         MCO_MAX_DIM);
    /* Bounds the input's size too, so no shape product downstream can overflow an int. */
    if ((uint64_t)s.h * (uint64_t)s.w * (uint64_t)s.c > MAX_PARAM_FLOATS)
        return mco_error(fail, "input shape %dx%dx%d has more than %zu values", s.h, s.w, s.c,
                         MAX_PARAM_FLOATS);
    if (n_layers < 1 || n_layers > MCO_MAX_LAYERS)
        return mco_error(fail, "%lld layers, expected 1..%d", n_layers, MCO_MAX_LAYERS);
    const mco_normalization *n = &m->norm;
    if (!isfinite(n->scale) || !isfinite(n->mean) || !isfinite(n->std) || n->std == 0.0f)
        return mco_error(fail, "normalisation scale %g, mean %g, std %g: all must be finite, std non-zero",
                         (double)n->scale, (double)n->mean, (double)n->std);
    return MCO_OK;
}

static int uses_window(mco_layer_type t)
{
    return t == MCO_LAYER_CONV2D || t == MCO_LAYER_DEPTHWISE_CONV2D || t == MCO_LAYER_MAXPOOL2D ||
           t == MCO_LAYER_AVGPOOL2D || t == MCO_LAYER_CONV_TRANSPOSE2D;
}

/* The layers that have an ACTP chunk. */
static int has_alpha(mco_layer_type t)
{
    return t == MCO_LAYER_LEAKY_RELU || t == MCO_LAYER_HARD_SIGMOID;
}

static int pads_are_zero(const mco_layer *l)
{
    return l->pad_top == 0 && l->pad_left == 0 && l->pad_bottom == 0 && l->pad_right == 0;
}

/* Everything about layer `index` that does not need shape inference. */
static mco_status check_layer_fields(const mco_layer *l, int index, mco_status fail)
{
    if ((int)l->type < 0 || l->type >= MCO_LAYER_TYPE_COUNT)
        return layer_error(fail, index, NULL, "unknown layer type %d", (int)l->type);
    size_t name_len = strnlen(l->name, MCO_NAME_MAX);
    if (name_len == 0 || !name_is_valid(l->name, name_len, MCO_NAME_MAX))
        return layer_error(fail, index, NULL, "name is empty, longer than %d bytes or holds control characters",
                           MCO_NAME_MAX - 1);
    const char *name = l->name;
    int inputs_needed = mco_layer_input_count(l->type);
    if (l->n_inputs != inputs_needed)
        return layer_error(fail, index, name, "%s takes %d input(s), has %d",
                           mco_layer_type_name(l->type), inputs_needed, l->n_inputs);
    for (int k = 0; k < l->n_inputs; k++)
        if (l->inputs[k] < MCO_INPUT || l->inputs[k] >= index)
            return layer_error(fail, index, name, "input %d refers to layer %d, not an earlier one", k,
                               l->inputs[k]);
    if (!dim_in_range(l->units, 0) || !dim_in_range(l->kernel_h, 0) || !dim_in_range(l->kernel_w, 0) ||
        !dim_in_range(l->stride_h, 0) || !dim_in_range(l->stride_w, 0))
        return layer_error(fail, index, name, "units, kernel or stride out of range (0..%d)", MCO_MAX_DIM);
    if (uses_window(l->type) &&
        (l->kernel_h == 0 || l->kernel_w == 0 || l->stride_h == 0 || l->stride_w == 0))
        return layer_error(fail, index, name, "kernel and stride must be positive");
    if ((l->type == MCO_LAYER_CONV2D || l->type == MCO_LAYER_DENSE || l->type == MCO_LAYER_CONV_TRANSPOSE2D) &&
        l->units == 0)
        return layer_error(fail, index, name, "units must be positive");
    if ((l->output_pad_h != 0 || l->output_pad_w != 0) &&
        (l->type != MCO_LAYER_CONV_TRANSPOSE2D || l->output_pad_h < 0 || l->output_pad_w < 0 ||
         l->output_pad_h >= l->stride_h || l->output_pad_w >= l->stride_w))
        return layer_error(fail, index, name, "output padding %dx%d on a %s layer of stride %dx%d (only 0..stride-1 "
                           "on a conv_transpose2d)", l->output_pad_h, l->output_pad_w, mco_layer_type_name(l->type),
                           l->stride_h, l->stride_w);
    if (l->padding != MCO_PADDING_VALID && l->padding != MCO_PADDING_SAME && l->padding != MCO_PADDING_EXPLICIT)
        return layer_error(fail, index, name, "unknown padding %d", (int)l->padding);
    if (l->padding == MCO_PADDING_EXPLICIT && !uses_window(l->type))
        return layer_error(fail, index, name, "explicit padding on a %s layer", mco_layer_type_name(l->type));
    if (l->padding != MCO_PADDING_EXPLICIT && !pads_are_zero(l))
        return layer_error(fail, index, name, "pads set without explicit padding");
    if (!dim_in_range(l->pad_top, 0) || !dim_in_range(l->pad_left, 0) || !dim_in_range(l->pad_bottom, 0) ||
        !dim_in_range(l->pad_right, 0))
        return layer_error(fail, index, name, "pads out of range (0..%d)", MCO_MAX_DIM);
    if (!isfinite(l->rate) || !isfinite(l->epsilon) || !isfinite(l->momentum))
        return layer_error(fail, index, name, "rate, epsilon and momentum must be finite");
    if (!isfinite(l->alpha) || !isfinite(l->beta))
        return layer_error(fail, index, name, "alpha and beta must be finite");
    if (l->count_pad != 0 && (l->count_pad != 1 || l->type != MCO_LAYER_AVGPOOL2D))
        return layer_error(fail, index, name, "count_pad %d on a %s layer (only 1 on an avgpool2d)", l->count_pad,
                           mco_layer_type_name(l->type));
    if (!has_alpha(l->type) && (l->alpha != 0.0f || l->beta != 0.0f))
        return layer_error(fail, index, name, "alpha or beta set on a %s layer", mco_layer_type_name(l->type));
    if (l->type == MCO_LAYER_LEAKY_RELU && l->beta != 0.0f)
        return layer_error(fail, index, name, "leaky_relu beta %g is not 0", (double)l->beta);
    if (l->type == MCO_LAYER_HARD_SIGMOID && l->alpha == 0.0f)
        return layer_error(fail, index, name, "hard_sigmoid alpha is 0");
    if (l->type == MCO_LAYER_DROPOUT && !(l->rate >= 0.0f && l->rate < 1.0f))
        return layer_error(fail, index, name, "dropout rate %g is not in [0, 1)", (double)l->rate);
    /* Shape inference replaces these with defaults, which would break the round trip. */
    if (l->type == MCO_LAYER_BATCHNORM &&
        !(l->epsilon > 0.0f && l->momentum > 0.0f && l->momentum < 1.0f))
        return layer_error(fail, index, name, "batchnorm epsilon %g must be > 0, momentum %g in (0, 1)",
                           (double)l->epsilon, (double)l->momentum);
    if (l->n_params < 0 || l->n_params > MCO_MAX_PARAMS)
        return layer_error(fail, index, name, "%d parameter tensors, at most %d", l->n_params,
                           MCO_MAX_PARAMS);
    return MCO_OK;
}

/* Checks a parameter's ndim and dims are in range and sets *size to their
 * product, at most MAX_PARAM_FLOATS (checked as it multiplies: no overflow). */
static mco_status param_shape_size(const mco_param *p, const mco_layer *l, int index, int pi,
                                   mco_status fail, size_t *size_out)
{
    const char *what = param_name(l->type, pi);
    if (p->ndim < 1 || p->ndim > 4)
        return layer_error(fail, index, l->name, "%s has %d dimensions, expected 1..4", what, p->ndim);
    size_t size = 1;
    for (int d = 0; d < p->ndim; d++) {
        if (!dim_in_range(p->dims[d], 1))
            return layer_error(fail, index, l->name, "%s dimension %d is %d, expected 1..%d", what, d,
                               p->dims[d], MCO_MAX_DIM);
        size *= (size_t)p->dims[d];
        if (size > MAX_PARAM_FLOATS)
            return layer_error(fail, index, l->name, "%s is larger than %zu values", what,
                               MAX_PARAM_FLOATS);
    }
    *size_out = size;
    return MCO_OK;
}

/* 1 if every value is finite. Training calls this once per step, so it is
 * one branch-free pass the compiler vectorises: a float is NaN or infinite
 * exactly when its exponent bits are all ones, and adding one exponent step
 * to the exponent field carries into bit 31 only then. */
static int all_finite(const float *x, size_t n)
{
    uint32_t carry = 0;
    for (size_t k = 0; k < n; k++) {
        uint32_t u;
        memcpy(&u, &x[k], sizeof u);
        carry |= (u & 0x7f800000u) + 0x00800000u;
    }
    return !(carry & 0x80000000u);
}

mco_status mco_model_check_finite(const mco_model *m)
{
    for (int i = 0; i < m->n_layers; i++) {
        const mco_layer *l = &m->layers[i];
        for (int p = 0; p < l->n_params; p++) {
            const mco_param *t = &l->params[p];
            if (!t->data || all_finite(t->data, t->size)) continue;
            size_t k = 0;
            while (isfinite(t->data[k])) k++;
            return layer_error(MCO_ERR_RANGE, i, l->name, "%s[%zu] is %g: the parameters are not finite",
                               param_name(l->type, p), k, fabs((double)t->data[k]));   /* "nan", not "-nan" */
        }
    }
    return MCO_OK;
}

/* ---- Writing ---- */

/* A growing byte buffer; after a failed allocation further writes do nothing. */
typedef struct {
    uint8_t *data;
    size_t size, capacity;
    int out_of_memory;
} writer;

/* Makes room for `n` more bytes; returns 0 (and sets out_of_memory) if it cannot. */
static int ensure_room(writer *w, size_t n)
{
    if (w->out_of_memory) return 0;
    if (n > w->capacity - w->size) {
        size_t capacity = w->capacity ? w->capacity : 4096;
        while (n > capacity - w->size) capacity *= 2;
        uint8_t *grown = realloc(w->data, capacity);
        if (!grown) {
            w->out_of_memory = 1;
            return 0;
        }
        w->data = grown;
        w->capacity = capacity;
    }
    return 1;
}

static void put_bytes(writer *w, const void *src, size_t n)
{
    if (!ensure_room(w, n)) return;
    memcpy(w->data + w->size, src, n);
    w->size += n;
}

static void put_u32(writer *w, uint32_t v)
{
    uint8_t b[4];
    store_u32(b, v);
    put_bytes(w, b, 4);
}

static void put_i32(writer *w, int v)
{
    put_u32(w, (uint32_t)v);   /* conversion to unsigned is defined: modulo 2^32 */
}

static void put_f32(writer *w, float f)
{
    put_u32(w, f32_bits(f));
}

static void put_str(writer *w, const char *s)
{
    size_t len = strlen(s);
    put_u32(w, (uint32_t)len);
    put_bytes(w, s, len);
}

/* Writes a chunk header with a placeholder length; returns where the content starts. */
static size_t begin_chunk(writer *w, const char *tag)
{
    put_bytes(w, tag, 4);
    put_u32(w, 0);
    return w->size;
}

static void end_chunk(writer *w, size_t content_start)
{
    if (!w->out_of_memory)
        store_u32(w->data + content_start - 4, (uint32_t)(w->size - content_start));
}

static void put_arch_chunk(writer *w, const mco_model *m)
{
    size_t start = begin_chunk(w, "ARCH");
    put_str(w, m->arch_name);
    put_i32(w, m->input_shape.h);
    put_i32(w, m->input_shape.w);
    put_i32(w, m->input_shape.c);
    put_i32(w, m->n_classes);
    put_f32(w, m->norm.scale);
    put_f32(w, m->norm.mean);
    put_f32(w, m->norm.std);
    put_u32(w, (uint32_t)m->n_layers);
    end_chunk(w, start);
}

static void put_layer_chunk(writer *w, const mco_layer *l)
{
    size_t start = begin_chunk(w, "LAYR");
    put_u32(w, (uint32_t)l->type);
    put_str(w, l->name);
    put_u32(w, (uint32_t)l->n_inputs);
    for (int k = 0; k < l->n_inputs; k++) put_i32(w, l->inputs[k]);
    put_i32(w, l->units);
    put_i32(w, l->kernel_h);
    put_i32(w, l->kernel_w);
    put_i32(w, l->stride_h);
    put_i32(w, l->stride_w);
    put_u32(w, (uint32_t)l->padding);
    put_f32(w, l->rate);
    put_f32(w, l->epsilon);
    put_f32(w, l->momentum);
    put_u32(w, (uint32_t)l->n_params);
    for (int p = 0; p < l->n_params; p++) {
        put_u32(w, (uint32_t)l->params[p].ndim);
        for (int d = 0; d < l->params[p].ndim; d++) put_u32(w, (uint32_t)l->params[p].dims[d]);
    }
    end_chunk(w, start);
    if (l->padding == MCO_PADDING_EXPLICIT) {
        start = begin_chunk(w, "PADS");
        put_i32(w, l->pad_top);
        put_i32(w, l->pad_left);
        put_i32(w, l->pad_bottom);
        put_i32(w, l->pad_right);
        end_chunk(w, start);
    }
    if (has_alpha(l->type)) {
        start = begin_chunk(w, "ACTP");
        put_f32(w, l->alpha);
        put_f32(w, l->beta);
        end_chunk(w, start);
    }
    if (l->count_pad) {
        start = begin_chunk(w, "CPAD");
        put_u32(w, (uint32_t)l->count_pad);
        end_chunk(w, start);
    }
    if (mco_layer_is_general_conv(l)) {
        start = begin_chunk(w, "CGEN");
        put_u32(w, (uint32_t)l->dilation_h);
        put_u32(w, (uint32_t)l->dilation_w);
        put_u32(w, (uint32_t)(l->groups > 1 ? l->groups : 1));
        put_u32(w, (uint32_t)(l->depth_multiplier > 1 ? l->depth_multiplier : 1));
        end_chunk(w, start);
    }
    if (l->output_pad_h || l->output_pad_w) {
        start = begin_chunk(w, "OPAD");
        put_i32(w, l->output_pad_h);
        put_i32(w, l->output_pad_w);
        end_chunk(w, start);
    }
}

static void put_tensor_chunk(writer *w, const mco_model *m)
{
    size_t start = begin_chunk(w, "TENS");
    for (int i = 0; i < m->n_layers; i++) {
        const mco_layer *l = &m->layers[i];
        for (int p = 0; p < l->n_params; p++)
            for (size_t k = 0; k < l->params[p].size; k++) put_f32(w, l->params[p].data[k]);
    }
    end_chunk(w, start);
}

/* Checks the model can be written (and read back); sets *param_floats. */
static mco_status check_model_for_writing(const mco_model *m, size_t *param_floats)
{
    mco_status st = check_model_fields(m, m->n_layers, MCO_ERR_ARG);
    if (st != MCO_OK) return st;
    size_t total = 0;
    for (int i = 0; i < m->n_layers; i++) {
        const mco_layer *l = &m->layers[i];
        if ((st = check_layer_fields(l, i, MCO_ERR_ARG)) != MCO_OK) return st;
        for (int p = 0; p < l->n_params; p++) {
            size_t size;
            if ((st = param_shape_size(&l->params[p], l, i, p, MCO_ERR_ARG, &size)) != MCO_OK)
                return st;
            if (size != l->params[p].size)
                return layer_error(MCO_ERR_ARG, i, l->name, "%s holds %zu values, its dims say %zu",
                                   param_name(l->type, p), l->params[p].size, size);
            if (!l->params[p].data)
                return layer_error(MCO_ERR_ARG, i, l->name, "%s is not allocated",
                                   param_name(l->type, p));
            total += l->params[p].size;
            if (total > MAX_PARAM_FLOATS)
                return mco_error(MCO_ERR_RANGE, "the model has more than %zu parameters, the file limit",
                                 MAX_PARAM_FLOATS);
        }
    }
    *param_floats = total;
    if ((st = mco_model_check_frontend(m)) != MCO_OK) return st;
    return mco_model_check_finite(m);
}

mco_status mco_model_serialize(const mco_model *model, uint8_t **bytes, size_t *size)
{
    *bytes = NULL;
    *size = 0;
    size_t param_floats = 0;
    mco_status st = check_model_for_writing(model, &param_floats);
    if (st != MCO_OK) return st;

    /* One allocation up front in the common case: the floats plus a generous
     * allowance for the header and the ARCH and LAYR chunks. */
    writer w = {0};
    ensure_room(&w, 4 * param_floats + 4096 + 256 * (size_t)model->n_layers);
    put_bytes(&w, MCO_MODEL_MAGIC, 4);
    put_u32(&w, MCO_MODEL_VERSION);
    put_u32(&w, 0);                                     /* flags */
    put_u32(&w, 0);                                     /* payload size, patched below */
    put_u32(&w, 0);
    put_arch_chunk(&w, model);
    if (model->loss != MCO_LOSS_CROSS_ENTROPY) {
        size_t start = begin_chunk(&w, "LOSS");
        put_u32(&w, (uint32_t)model->loss);
        end_chunk(&w, start);
    }
    if (model->has_frontend) {
        const mco_audio_frontend *a = &model->frontend;
        size_t start = begin_chunk(&w, "mfcc");
        put_i32(&w, a->sample_rate);
        put_i32(&w, a->clip_samples);
        put_i32(&w, a->frame_length);
        put_i32(&w, a->frame_stride);
        put_i32(&w, a->fft_size);
        put_i32(&w, a->n_mels);
        put_i32(&w, a->n_coeffs);
        put_f32(&w, a->lower_hz);
        put_f32(&w, a->upper_hz);
        end_chunk(&w, start);
    }
    for (int i = 0; i < model->n_layers; i++) put_layer_chunk(&w, &model->layers[i]);
    put_tensor_chunk(&w, model);
    if (w.out_of_memory) {
        free(w.data);
        return mco_error(MCO_ERR_NOMEM, "out of memory serialising a model of %zu parameters",
                         param_floats);
    }
    if (w.size + CRC_SIZE > MODEL_MAX_FILE_BYTES) {
        free(w.data);
        return mco_error(MCO_ERR_RANGE, "the model file would exceed the %zu-byte limit",
                         MODEL_MAX_FILE_BYTES);
    }
    uint64_t payload = (uint64_t)(w.size - HEADER_SIZE);
    store_u32(w.data + 12, (uint32_t)payload);
    store_u32(w.data + 16, (uint32_t)(payload >> 32));
    put_u32(&w, mco_crc32(0, w.data, w.size));
    if (w.out_of_memory) {
        free(w.data);
        return mco_error(MCO_ERR_NOMEM, "out of memory serialising a model");
    }
    *bytes = w.data;
    *size = w.size;
    return MCO_OK;
}

/* ---- Reading ---- */

/* A bounded cursor over one chunk's content. A read past the end yields
 * zeros and sets `cut_short`, which the chunk's decoder reports once. */
typedef struct {
    const uint8_t *p;
    size_t left;
    int cut_short;
} reader;

static const uint8_t *take(reader *r, size_t n)
{
    if (n > r->left) {
        r->cut_short = 1;
        r->left = 0;
        return NULL;
    }
    const uint8_t *at = r->p;
    r->p += n;
    r->left -= n;
    return at;
}

static uint32_t get_u32(reader *r)
{
    const uint8_t *p = take(r, 4);
    return p ? load_u32(p) : 0;
}

static int get_i32(reader *r)
{
    return i32_from_u32(get_u32(r));
}

static float get_f32(reader *r)
{
    return f32_from_bits(get_u32(r));
}

/* Reads a str into dst[cap]; returns 0 if it does not fit (including its NUL)
 * or holds a NUL byte. A string cut short reads as empty. */
static int get_str(reader *r, char *dst, size_t cap)
{
    uint32_t len = get_u32(r);
    if (len >= cap) return 0;
    const uint8_t *p = take(r, len);
    dst[0] = '\0';
    if (!p) return 1;
    if (memchr(p, 0, len)) return 0;
    memcpy(dst, p, len);
    dst[len] = '\0';
    return 1;
}

/* Reports a chunk that ended early or has bytes left over. */
static mco_status finish_chunk(const reader *r, const char *what)
{
    if (r->cut_short) return mco_error(MCO_ERR_FORMAT, "%s chunk is cut short", what);
    if (r->left) return mco_error(MCO_ERR_FORMAT, "%s chunk has %zu unexpected bytes at its end", what, r->left);
    return MCO_OK;
}

typedef struct {
    const uint8_t *data;
    size_t size;
} chunk;

/* Where each critical chunk is (a layer's PADS has data NULL when absent),
 * and each layer's parameter shapes as the file states them (shape
 * inference overwrites the model's own). */
typedef struct {
    chunk arch;
    chunk loss;                 /* data NULL when absent: cross-entropy */
    chunk mfcc;                 /* data NULL when absent: no audio front-end */
    chunk layers[MCO_MAX_LAYERS];
    chunk pads[MCO_MAX_LAYERS];
    chunk actp[MCO_MAX_LAYERS];
    chunk cpad[MCO_MAX_LAYERS];
    chunk opad[MCO_MAX_LAYERS];   /* conv_transpose2d output padding */
    chunk cgen[MCO_MAX_LAYERS];
    int n_layer_chunks;
    chunk tensors;
    int file_n_params[MCO_MAX_LAYERS];
    mco_param file_params[MCO_MAX_LAYERS][MCO_MAX_PARAMS];
} load_state;

const char *mco_model_file_kind(const uint8_t *bytes, size_t size)
{
    if (size >= 4 && memcmp(bytes, MCO_MODEL_MAGIC, 4) == 0) return "an mcuopt float model (.mco)";
    if (size >= 4 && memcmp(bytes, MCO_DEPLOY_MAGIC, 4) == 0) return "a quantized deploy model (.mcq)";
    if (size >= 8 && memcmp(bytes + 4, MCO_TFLITE_IDENTIFIER, 4) == 0)
        return "a TFLite model (.tflite; `mcuopt import` converts it)";
    return NULL;
}

/* Checks size, magic, version, flags, payload size and CRC; sets the payload. */
static mco_status check_header(const uint8_t *bytes, size_t size, chunk *payload)
{
    const char *kind = mco_model_file_kind(bytes, size);
    if (kind && memcmp(bytes, MCO_MODEL_MAGIC, 4) != 0)
        return mco_error(MCO_ERR_FORMAT, "%s, not the float model (.mco) needed here", kind);
    if (size >= 4 && memcmp(bytes, MCO_MODEL_MAGIC, 4) != 0)
        return mco_error(MCO_ERR_FORMAT, "not an mcuopt model file (no \"%s\" magic)", MCO_MODEL_MAGIC);
    if (size < HEADER_SIZE)
        return mco_error(MCO_ERR_FORMAT, "truncated: %zu bytes, shorter than the %d-byte header", size,
                         HEADER_SIZE);
    uint32_t version = load_u32(bytes + 4);
    if (version > MCO_MODEL_VERSION)
        return mco_error(MCO_ERR_FORMAT, "format version %u is newer than this mcuopt supports (%d)",
                         (unsigned)version, MCO_MODEL_VERSION);
    if (version == 0) return mco_error(MCO_ERR_FORMAT, "format version 0 is not valid");
    uint32_t flags = load_u32(bytes + 8);
    if (flags != 0) return mco_error(MCO_ERR_FORMAT, "unknown header flags 0x%08x", (unsigned)flags);
    uint64_t payload_size = load_u64(bytes + 12);
    size_t available = size >= HEADER_SIZE + CRC_SIZE ? size - HEADER_SIZE - CRC_SIZE : 0;
    if (size < HEADER_SIZE + CRC_SIZE || payload_size > available)
        return mco_error(MCO_ERR_FORMAT,
                         "truncated: the header promises %llu payload bytes, the file has room for %zu",
                         (unsigned long long)payload_size, available);
    if (payload_size < available)
        return mco_error(MCO_ERR_FORMAT, "%zu unexpected bytes after the end of the model",
                         available - (size_t)payload_size);
    size_t crc_at = HEADER_SIZE + (size_t)payload_size;
    uint32_t stored = load_u32(bytes + crc_at), computed = mco_crc32(0, bytes, crc_at);
#ifdef MCO_FUZZ
    stored = computed;   /* fuzz builds only (tests/fuzz): mutated files reach the decoder */
#endif
    if (stored != computed)
        return mco_error(MCO_ERR_FORMAT, "CRC mismatch (file is corrupt): stored 0x%08x, computed 0x%08x",
                         (unsigned)stored, (unsigned)computed);
    payload->data = bytes + HEADER_SIZE;
    payload->size = (size_t)payload_size;
    return MCO_OK;
}

static int is_ascii_letter(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* Walks the chunk list: checks every tag and length, enforces the order
 * ARCH, LAYR (each maybe followed by one PADS)..., TENS, skips optional
 * chunks, and records where the critical ones are. Contents are decoded
 * later. */
static mco_status index_chunks(chunk payload, load_state *s)
{
    enum { BEFORE_ARCH, IN_LAYERS, AFTER_TENSORS } stage = BEFORE_ARCH;
    size_t pos = 0;
    while (pos < payload.size) {
        size_t offset = HEADER_SIZE + pos;   /* file offset, for messages */
        if (payload.size - pos < CHUNK_HEADER_SIZE)
            return mco_error(MCO_ERR_FORMAT, "chunk header at offset %zu is cut short", offset);
        const uint8_t *tag = payload.data + pos;
        for (int i = 0; i < 4; i++)
            if (!is_ascii_letter(tag[i]))
                return mco_error(MCO_ERR_FORMAT, "bad chunk tag 0x%02x%02x%02x%02x at offset %zu",
                                 tag[0], tag[1], tag[2], tag[3], offset);
        uint32_t length = load_u32(tag + 4);
        size_t left = payload.size - pos - CHUNK_HEADER_SIZE;
        if (length > left)
            return mco_error(MCO_ERR_FORMAT, "chunk '%.4s' at offset %zu claims %u bytes, only %zu remain",
                             (const char *)tag, offset, (unsigned)length, left);
        chunk c = {tag + CHUNK_HEADER_SIZE, length};
        pos += CHUNK_HEADER_SIZE + length;

        int in_order = 1;
        if (memcmp(tag, "ARCH", 4) == 0) {
            in_order = stage == BEFORE_ARCH;
            s->arch = c;
            stage = IN_LAYERS;
        } else if (memcmp(tag, "LOSS", 4) == 0) {
            in_order = stage == IN_LAYERS && s->n_layer_chunks == 0 && !s->loss.data;
            s->loss = c;
        } else if (memcmp(tag, "LAYR", 4) == 0) {
            in_order = stage == IN_LAYERS;
            if (in_order && s->n_layer_chunks == MCO_MAX_LAYERS)
                return mco_error(MCO_ERR_FORMAT, "more than %d LAYR chunks", MCO_MAX_LAYERS);
            if (in_order) s->layers[s->n_layer_chunks++] = c;
        } else if (memcmp(tag, "PADS", 4) == 0) {
            in_order = stage == IN_LAYERS && s->n_layer_chunks > 0 && !s->pads[s->n_layer_chunks - 1].data;
            if (in_order) s->pads[s->n_layer_chunks - 1] = c;
        } else if (memcmp(tag, "ACTP", 4) == 0) {
            in_order = stage == IN_LAYERS && s->n_layer_chunks > 0 && !s->actp[s->n_layer_chunks - 1].data;
            if (in_order) s->actp[s->n_layer_chunks - 1] = c;
        } else if (memcmp(tag, "CPAD", 4) == 0) {
            in_order = stage == IN_LAYERS && s->n_layer_chunks > 0 && !s->cpad[s->n_layer_chunks - 1].data;
            if (in_order) s->cpad[s->n_layer_chunks - 1] = c;
        } else if (memcmp(tag, "OPAD", 4) == 0) {
            in_order = stage == IN_LAYERS && s->n_layer_chunks > 0 && !s->opad[s->n_layer_chunks - 1].data;
            if (in_order) s->opad[s->n_layer_chunks - 1] = c;
        } else if (memcmp(tag, "CGEN", 4) == 0) {
            in_order = stage == IN_LAYERS && s->n_layer_chunks > 0 && !s->cgen[s->n_layer_chunks - 1].data;
            if (in_order) s->cgen[s->n_layer_chunks - 1] = c;
        } else if (memcmp(tag, "TENS", 4) == 0) {
            in_order = stage == IN_LAYERS;
            s->tensors = c;
            stage = AFTER_TENSORS;
        } else if (memcmp(tag, "mfcc", 4) == 0) {
            if (s->mfcc.data)
                return mco_error(MCO_ERR_FORMAT, "a second mfcc chunk at offset %zu", offset);
            s->mfcc = c;
            continue;
        } else if (tag[0] >= 'a' && tag[0] <= 'z') {
            continue;   /* optional chunk unknown to this version: skip it */
        } else {
            return mco_error(MCO_ERR_FORMAT,
                             "unknown critical chunk '%.4s' at offset %zu (written by a newer mcuopt?)",
                             (const char *)tag, offset);
        }
        if (!in_order)
            return mco_error(MCO_ERR_FORMAT,
                             "chunk '%.4s' at offset %zu is out of order (expected ARCH, [LOSS], LAYR [PADS] [ACTP] [CPAD] [CGEN] [OPAD]..., TENS)",
                             (const char *)tag, offset);
    }
    if (stage != AFTER_TENSORS)
        return mco_error(MCO_ERR_FORMAT, "missing %s chunk", stage == BEFORE_ARCH ? "ARCH" : "TENS");
    return MCO_OK;
}

/* Decodes ARCH into the model's own fields; *n_layers is the declared count. */
static mco_status decode_arch(chunk c, mco_model *m, uint32_t *n_layers)
{
    reader r = {c.data, c.size, 0};
    int name_ok = get_str(&r, m->arch_name, ARCH_NAME_MAX);
    m->input_shape.h = get_i32(&r);
    m->input_shape.w = get_i32(&r);
    m->input_shape.c = get_i32(&r);
    m->n_classes = get_i32(&r);
    m->norm.scale = get_f32(&r);
    m->norm.mean = get_f32(&r);
    m->norm.std = get_f32(&r);
    *n_layers = get_u32(&r);
    if (!name_ok)
        return mco_error(MCO_ERR_FORMAT, "architecture name is longer than %zu bytes or holds a NUL",
                         ARCH_NAME_MAX - 1);
    mco_status st = finish_chunk(&r, "ARCH");
    if (st != MCO_OK) return st;
    return check_model_fields(m, *n_layers, MCO_ERR_FORMAT);
}

/* Decodes the LOSS chunk, if there is one, into m->loss. */
static mco_status decode_loss(chunk c, mco_model *m)
{
    if (!c.data) return MCO_OK;
    reader r = {c.data, c.size, 0};
    uint32_t loss = get_u32(&r);
    mco_status st = finish_chunk(&r, "LOSS");
    if (st != MCO_OK) return st;
    if (loss != MCO_LOSS_MSE) return mco_error(MCO_ERR_FORMAT, "unknown loss %u in the LOSS chunk", (unsigned)loss);
    m->loss = MCO_LOSS_MSE;
    return MCO_OK;
}

/* Decodes the mfcc chunk, if there is one, into m->frontend; checked once
 * the input shape is known. */
static mco_status decode_mfcc(chunk c, mco_model *m)
{
    if (!c.data) return MCO_OK;
    reader r = {c.data, c.size, 0};
    mco_audio_frontend *a = &m->frontend;
    a->sample_rate = get_i32(&r);
    a->clip_samples = get_i32(&r);
    a->frame_length = get_i32(&r);
    a->frame_stride = get_i32(&r);
    a->fft_size = get_i32(&r);
    a->n_mels = get_i32(&r);
    a->n_coeffs = get_i32(&r);
    a->lower_hz = get_f32(&r);
    a->upper_hz = get_f32(&r);
    mco_status st = finish_chunk(&r, "mfcc");
    if (st != MCO_OK) return st;
    m->has_frontend = 1;
    if (mco_model_check_frontend(m) != MCO_OK) return MCO_ERR_FORMAT;   /* keeps its message */
    return MCO_OK;
}

/* Decodes layer `index`'s PADS chunk into *l; it must be there exactly when
 * the layer's padding is explicit. */
static mco_status decode_pads(chunk c, int index, mco_layer *l)
{
    if (!c.data && l->padding == MCO_PADDING_EXPLICIT)
        return layer_error(MCO_ERR_FORMAT, index, l->name, "explicit padding without its PADS chunk");
    if (!c.data) return MCO_OK;
    if (l->padding != MCO_PADDING_EXPLICIT)
        return layer_error(MCO_ERR_FORMAT, index, l->name, "PADS chunk for a layer without explicit padding");
    reader r = {c.data, c.size, 0};
    l->pad_top = get_i32(&r);
    l->pad_left = get_i32(&r);
    l->pad_bottom = get_i32(&r);
    l->pad_right = get_i32(&r);
    char what[64];
    snprintf(what, sizeof what, "layer %d: PADS", index);
    return finish_chunk(&r, what);
}

/* Decodes layer `index`'s ACTP chunk into *l; it must be there exactly when
 * the layer's type has an alpha. */
static mco_status decode_actp(chunk c, int index, mco_layer *l)
{
    if (!c.data && has_alpha(l->type))
        return layer_error(MCO_ERR_FORMAT, index, l->name, "%s without its ACTP chunk", mco_layer_type_name(l->type));
    if (!c.data) return MCO_OK;
    if (!has_alpha(l->type))
        return layer_error(MCO_ERR_FORMAT, index, l->name, "ACTP chunk for a %s layer", mco_layer_type_name(l->type));
    reader r = {c.data, c.size, 0};
    l->alpha = get_f32(&r);
    l->beta = get_f32(&r);
    char what[64];
    snprintf(what, sizeof what, "layer %d: ACTP", index);
    return finish_chunk(&r, what);
}

/* Decodes layer `index`'s CPAD chunk, if there is one, into l->count_pad:
 * only an avgpool2d has one, and it holds 1. */
static mco_status decode_cpad(chunk c, int index, mco_layer *l)
{
    if (!c.data) return MCO_OK;
    if (l->type != MCO_LAYER_AVGPOOL2D)
        return layer_error(MCO_ERR_FORMAT, index, l->name, "CPAD chunk for a %s layer", mco_layer_type_name(l->type));
    reader r = {c.data, c.size, 0};
    uint32_t count_pad = get_u32(&r);
    char what[64];
    snprintf(what, sizeof what, "layer %d: CPAD", index);
    mco_status st = finish_chunk(&r, what);
    if (st != MCO_OK) return st;
    if (count_pad != 1)
        return layer_error(MCO_ERR_FORMAT, index, l->name, "count_pad %u in the CPAD chunk (only 1)", (unsigned)count_pad);
    l->count_pad = 1;
    return MCO_OK;
}

/* Decodes layer `index`'s OPAD chunk, if there is one, into its output
 * padding: only a conv_transpose2d has one, each value 0..stride-1, not
 * both 0 (a layer without output padding has no OPAD). */
static mco_status decode_opad(chunk c, int index, mco_layer *l)
{
    if (!c.data) return MCO_OK;
    if (l->type != MCO_LAYER_CONV_TRANSPOSE2D)
        return layer_error(MCO_ERR_FORMAT, index, l->name, "OPAD chunk for a %s layer", mco_layer_type_name(l->type));
    reader r = {c.data, c.size, 0};
    int32_t h = get_i32(&r), w = get_i32(&r);
    char what[64];
    snprintf(what, sizeof what, "layer %d: OPAD", index);
    mco_status st = finish_chunk(&r, what);
    if (st != MCO_OK) return st;
    if (h < 0 || w < 0 || h >= l->stride_h || w >= l->stride_w || (h == 0 && w == 0))
        return layer_error(MCO_ERR_FORMAT, index, l->name, "output padding %dx%d in the OPAD chunk (0..stride-1 for "
                           "stride %dx%d, not both 0)", (int)h, (int)w, l->stride_h, l->stride_w);
    l->output_pad_h = (int)h;
    l->output_pad_w = (int)w;
    return MCO_OK;
}

/* Decodes layer `index`'s CGEN chunk, if there is one, into the general
 * convolution fields: only a conv2d or depthwise_conv2d has one, every
 * field at least 1, at least one above 1 (the writer writes none
 * otherwise); shape inference checks the rest (groups dividing the
 * channels, ...). */
static mco_status decode_cgen(chunk c, int index, mco_layer *l)
{
    if (!c.data) return MCO_OK;
    if (l->type != MCO_LAYER_CONV2D && l->type != MCO_LAYER_DEPTHWISE_CONV2D)
        return layer_error(MCO_ERR_FORMAT, index, l->name, "CGEN chunk for a %s layer", mco_layer_type_name(l->type));
    reader r = {c.data, c.size, 0};
    uint32_t v[4];
    for (int i = 0; i < 4; i++) v[i] = get_u32(&r);
    char what[64];
    snprintf(what, sizeof what, "layer %d: CGEN", index);
    mco_status st = finish_chunk(&r, what);
    if (st != MCO_OK) return st;
    for (int i = 0; i < 4; i++)
        if (v[i] < 1 || v[i] > MCO_MAX_DIM)
            return layer_error(MCO_ERR_FORMAT, index, l->name, "CGEN field %d is %u (1..%d)", i, (unsigned)v[i],
                               MCO_MAX_DIM);
    l->dilation_h = (int)v[0];
    l->dilation_w = (int)v[1];
    l->groups = (int)v[2];
    l->depth_multiplier = (int)v[3];
    if (!mco_layer_is_general_conv(l))
        return layer_error(MCO_ERR_FORMAT, index, l->name, "CGEN chunk with every field 1");
    return MCO_OK;
}

/* Decodes LAYR chunk `index` (and its PADS, ACTP, CPAD and CGEN chunks,
 * data NULL if none) into *l and the file's parameter shapes. */
static mco_status decode_layer(chunk c, chunk pads, chunk actp, chunk cpad, chunk cgen, int index, mco_layer *l,
                               int *n_params, mco_param *params)
{
    reader r = {c.data, c.size, 0};
    memset(l, 0, sizeof *l);
    uint32_t type = get_u32(&r);
    if (type >= MCO_LAYER_TYPE_COUNT)
        return layer_error(MCO_ERR_FORMAT, index, NULL, "unknown layer type %u", (unsigned)type);
    l->type = (mco_layer_type)type;
    if (!get_str(&r, l->name, MCO_NAME_MAX))
        return layer_error(MCO_ERR_FORMAT, index, NULL, "name is longer than %d bytes or holds a NUL",
                           MCO_NAME_MAX - 1);
    uint32_t n_inputs = get_u32(&r);
    if (n_inputs < 1 || n_inputs > 2)
        return layer_error(MCO_ERR_FORMAT, index, l->name, "%u inputs, expected 1 or 2",
                           (unsigned)n_inputs);
    l->n_inputs = (int)n_inputs;
    for (int k = 0; k < l->n_inputs; k++) l->inputs[k] = get_i32(&r);
    l->units = get_i32(&r);
    l->kernel_h = get_i32(&r);
    l->kernel_w = get_i32(&r);
    l->stride_h = get_i32(&r);
    l->stride_w = get_i32(&r);
    uint32_t padding = get_u32(&r);
    if (padding > MCO_PADDING_EXPLICIT)
        return layer_error(MCO_ERR_FORMAT, index, l->name, "unknown padding %u", (unsigned)padding);
    l->padding = (mco_padding)padding;
    l->rate = get_f32(&r);
    l->epsilon = get_f32(&r);
    l->momentum = get_f32(&r);
    uint32_t count = get_u32(&r);
    if (count > MCO_MAX_PARAMS)
        return layer_error(MCO_ERR_FORMAT, index, l->name, "%u parameter tensors, at most %d",
                           (unsigned)count, MCO_MAX_PARAMS);
    *n_params = (int)count;
    for (int p = 0; p < *n_params; p++) {
        uint32_t ndim = get_u32(&r);
        if (ndim < 1 || ndim > 4)
            return layer_error(MCO_ERR_FORMAT, index, l->name, "%s has %u dimensions, expected 1..4",
                               param_name(l->type, p), (unsigned)ndim);
        params[p].ndim = (int)ndim;
        for (int d = 0; d < params[p].ndim; d++) {
            uint32_t dim = get_u32(&r);
            if (dim > MCO_MAX_DIM)
                return layer_error(MCO_ERR_FORMAT, index, l->name, "%s dimension %d is %u, at most %d",
                                   param_name(l->type, p), d, (unsigned)dim, MCO_MAX_DIM);
            params[p].dims[d] = (int)dim;
        }
    }
    char what[64];
    snprintf(what, sizeof what, "layer %d: LAYR", index);
    mco_status st = finish_chunk(&r, what);
    if (st == MCO_OK) st = decode_pads(pads, index, l);
    if (st == MCO_OK) st = decode_actp(actp, index, l);
    if (st == MCO_OK) st = decode_cpad(cpad, index, l);
    if (st == MCO_OK) st = decode_cgen(cgen, index, l);
    if (st != MCO_OK) return st;

    /* Semantic checks; n_params is checked by comparing with inference later. */
    if ((st = check_layer_fields(l, index, MCO_ERR_FORMAT)) != MCO_OK) return st;
    for (int p = 0; p < *n_params; p++)
        if ((st = param_shape_size(&params[p], l, index, p, MCO_ERR_FORMAT, &params[p].size)) != MCO_OK)
            return st;
    return MCO_OK;
}

/* The stored parameter shapes and n_classes must equal the inferred ones. */
static mco_status compare_with_inferred(const mco_model *m, const load_state *s, int file_n_classes)
{
    for (int i = 0; i < m->n_layers; i++) {
        const mco_layer *l = &m->layers[i];
        if (s->file_n_params[i] != l->n_params)
            return layer_error(MCO_ERR_FORMAT, i, l->name, "%d parameter tensors in file, %d expected",
                               s->file_n_params[i], l->n_params);
        for (int p = 0; p < l->n_params; p++) {
            const mco_param *stored = &s->file_params[i][p], *inferred = &l->params[p];
            int same = stored->ndim == inferred->ndim;
            for (int d = 0; same && d < stored->ndim; d++) same = stored->dims[d] == inferred->dims[d];
            if (!same) {
                char in_file[64], expected[64];
                format_dims(stored, in_file, sizeof in_file);
                format_dims(inferred, expected, sizeof expected);
                return layer_error(MCO_ERR_FORMAT, i, l->name, "%s shape %s in file, %s expected",
                                   param_name(l->type, p), in_file, expected);
            }
        }
    }
    if (file_n_classes != m->n_classes)
        return mco_error(MCO_ERR_FORMAT, "n_classes %d in file, %d expected (the last layer's channels)",
                         file_n_classes, m->n_classes);
    return MCO_OK;
}

/* Allocates the parameters (their total size is known to match the chunk's
 * length first) and copies the floats in. */
static mco_status decode_tensors(chunk c, mco_model *m)
{
    size_t total = mco_model_param_count(m);
    if (c.size / 4 != total || c.size % 4 != 0)
        return mco_error(MCO_ERR_FORMAT, "TENS chunk holds %zu bytes, the layers need %zu (%zu floats)",
                         c.size, total * 4, total);
    mco_status st = mco_model_alloc_params(m);
    if (st != MCO_OK) return st;
    const uint8_t *p = c.data;
    for (int i = 0; i < m->n_layers; i++) {
        mco_layer *l = &m->layers[i];
        for (int pi = 0; pi < l->n_params; pi++)
            for (size_t k = 0; k < l->params[pi].size; k++, p += 4)
                l->params[pi].data[k] = f32_from_bits(load_u32(p));
    }
    /* A NaN or infinity (a diverged training run) would pass through
     * quantization and code generation as garbage. */
    return mco_model_check_finite(m) == MCO_OK ? MCO_OK : MCO_ERR_FORMAT;
}

/* Decodes a payload whose framing is already checked; errors have no origin yet. */
static mco_status decode_model(chunk payload, load_state *s, mco_model *m)
{
    mco_status st = index_chunks(payload, s);
    if (st != MCO_OK) return st;
    uint32_t declared;
    if ((st = decode_arch(s->arch, m, &declared)) != MCO_OK) return st;
    int n_classes = m->n_classes;   /* shape inference overwrites it */
    if (declared != (uint32_t)s->n_layer_chunks)
        return mco_error(MCO_ERR_FORMAT, "ARCH declares %u layers, the file has %d LAYR chunks",
                         (unsigned)declared, s->n_layer_chunks);
    for (int i = 0; i < s->n_layer_chunks; i++) {
        mco_layer layer;
        st = decode_layer(s->layers[i], s->pads[i], s->actp[i], s->cpad[i], s->cgen[i], i, &layer, &s->file_n_params[i], s->file_params[i]);
        if (st == MCO_OK) st = decode_opad(s->opad[i], i, &layer);
        if (st != MCO_OK) return st;
        if ((st = mco_model_add_layer(m, &layer, NULL)) != MCO_OK) return st;
    }
    if ((st = mco_model_infer_shapes(m)) != MCO_OK) return MCO_ERR_FORMAT;   /* keeps its message */
    if ((st = compare_with_inferred(m, s, n_classes)) != MCO_OK) return st;
    if ((st = decode_loss(s->loss, m)) != MCO_OK) return st;
    if ((st = mco_model_check_loss(m)) != MCO_OK) return MCO_ERR_FORMAT;   /* keeps its message */
    if ((st = decode_mfcc(s->mfcc, m)) != MCO_OK) return st;
    return decode_tensors(s->tensors, m);
}

mco_status mco_model_deserialize(const uint8_t *bytes, size_t size, const char *origin,
                                 mco_model *model)
{
    if (!origin) origin = "<memory>";
    mco_model_init(model, (mco_shape){0, 0, 0});
    chunk payload = {NULL, 0};
    mco_status st = check_header(bytes, size, &payload);
    if (st != MCO_OK) return prefix_error(st, origin);

    load_state *s = calloc(1, sizeof *s);
    if (!s) return mco_error(MCO_ERR_NOMEM, "%s: out of memory", origin);
    st = decode_model(payload, s, model);
    free(s);
    if (st != MCO_OK) {
        mco_model_free(model);
        mco_model_init(model, (mco_shape){0, 0, 0});
        return prefix_error(st, origin);
    }
    return MCO_OK;
}

mco_status mco_model_save(const mco_model *model, const char *path)
{
    uint8_t *bytes;
    size_t size;
    mco_status st = mco_model_serialize(model, &bytes, &size);
    if (st != MCO_OK) return prefix_error(st, path);
    st = mco_write_file_atomic(path, bytes, size);
    free(bytes);
    return st;
}

static mco_status decode_mco(const uint8_t *bytes, size_t size, const char *origin, void *out)
{
    return mco_model_deserialize(bytes, size, origin, out);
}

mco_status mco_model_load(const char *path, mco_model *model)
{
    mco_model_init(model, (mco_shape){0, 0, 0});
    return mco_read_model_file(path, MODEL_MAX_FILE_BYTES, decode_mco, model);
}
