/*
 * deploy_file.c - the .mcq deploy model file: saving and loading a
 * mco_deploy_model (see deploy.h). Framed like .mco files (model_file.c):
 *
 * LAYOUT, version 1. Little-endian; f32 as IEEE-754 bit patterns.
 *   offset  size  field
 *   0       4     magic "MCOQ"
 *   4       4     u32 version (1)
 *   8       4     u32 flags (0)
 *   12      8     u64 payload size P
 *   20      P     chunks: 4-byte ASCII tag, u32 length L, L bytes
 *   20+P    4     u32 CRC-32 of bytes [0, 20+P)
 * Chunks, in this order (a chunk whose tag starts lowercase is optional and
 * skipped by readers that do not know it; any other unknown tag is an error):
 *   MODL  the folded float model as a complete .mco image (its own header
 *         and CRC; mco_model_serialize)
 *   QNFO  u32 activation format, u32 calibration method (3: none, an
 *         imported model's own scales), f32 input scale,
 *         i32 input zero point, u32 n_layers (must equal the model's)
 *   QLYR  n_layers times, in layer order:
 *           u32 weight format, u32 per_channel, u32 n_channels,
 *           f32 output scale, i32 output zero point,
 *           then six arrays, each u32 count + count values:
 *           weight_scales f32, weights_q i8, weights_f16 u16, bias_q i32,
 *           multiplier i32, shift i32 (count 0: the array is NULL); a
 *           layer's channel count each, except that an int8 global average
 *           pool has 0 multipliers and shifts (it keeps its input's
 *           quantization) or 1 (TFLite's MEAN, requantizing by input
 *           scale / output scale: an imported TFLite model's)
 *
 * Trust: header and CRC first; every count is compared with the count the
 * model and formats imply before anything is allocated (so allocations are
 * bounded by the embedded model, itself bounded by the file size), and every
 * value is range-checked (weights within +-127 or +-7, scales finite and
 * positive, zero points in [-128, 127], shifts in [-31, 30]), and every
 * int8 layer's accumulator is proved to stay within int32 for any input
 * (check_accumulator_range). A bad file gives MCO_ERR_FORMAT and one line
 * starting with the path.
 *
 * What it leaves out: int4 weights are stored unpacked (one byte each);
 * optional chunks are not kept on re-save.
 */
#include "mcuopt/deploy.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcuopt/deploy_util.h"
#include "mcuopt/file_util.h"
#include "mcuopt/model_file.h"

#define MCQ_MAGIC MCO_DEPLOY_MAGIC
#define MCQ_VERSION 1
#define HEADER_SIZE 20
#define CRC_SIZE 4
#define CHUNK_HEADER_SIZE 8
#define MCQ_MAX_FILE_BYTES ((size_t)512 << 20)

/* ---- Writing: a growing buffer; after a failed allocation writes do nothing ---- */

typedef struct {
    uint8_t *data;
    size_t size, capacity;
    int out_of_memory;
} writer;

static void put_bytes(writer *w, const void *src, size_t n)
{
    if (w->out_of_memory || n == 0) return;
    if (n > w->capacity - w->size) {
        size_t capacity = w->capacity ? w->capacity : 4096;
        while (n > capacity - w->size) capacity *= 2;
        uint8_t *grown = realloc(w->data, capacity);
        if (!grown) {
            w->out_of_memory = 1;
            return;
        }
        w->data = grown;
        w->capacity = capacity;
    }
    memcpy(w->data + w->size, src, n);
    w->size += n;
}

static void store_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u32(writer *w, uint32_t v)
{
    uint8_t b[4];
    store_u32(b, v);
    put_bytes(w, b, 4);
}

static void put_f32(writer *w, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    put_u32(w, u);
}

static size_t begin_chunk(writer *w, const char *tag)
{
    put_bytes(w, tag, 4);
    put_u32(w, 0);
    return w->size;
}

static void end_chunk(writer *w, size_t start)
{
    if (!w->out_of_memory) store_u32(w->data + start - 4, (uint32_t)(w->size - start));
}

/* An array: count, then each value as `width` little-endian bytes. */
static void put_array(writer *w, const void *values, size_t count, int width)
{
    put_u32(w, values ? (uint32_t)count : 0);
    if (!values) return;
    const uint8_t *bytes = values;
    for (size_t k = 0; k < count; k++) {
        uint32_t v = 0;
        memcpy(&v, bytes + k * (size_t)width, (size_t)width);   /* little-endian host (see model_file.c) */
        uint8_t b[4];
        store_u32(b, v);
        put_bytes(w, b, (size_t)width);
    }
}

static void put_layer(writer *w, const mco_deploy_model *dm, int i)
{
    const mco_deploy_layer *d = &dm->layers[i];
    const mco_layer *l = &dm->model.layers[i];
    size_t n_weights = mco_deploy_is_weighted(l) ? l->params[MCO_PARAM_WEIGHTS].size : 0;
    size_t channels = d->n_channels > 0 ? (size_t)d->n_channels : 0;
    size_t start = begin_chunk(w, "QLYR");
    put_u32(w, (uint32_t)d->weight_format);
    put_u32(w, (uint32_t)d->per_channel);
    put_u32(w, (uint32_t)d->n_channels);
    put_f32(w, d->output.scale);
    put_u32(w, (uint32_t)d->output.zero_point);
    put_array(w, d->weight_scales, channels, 4);
    put_array(w, d->weights_q, n_weights, 1);
    put_array(w, d->weights_f16, n_weights, 2);
    put_array(w, d->bias_q, channels, 4);
    size_t requant = mco_deploy_is_weighted(l) ? channels : 1;   /* 1: a MEAN's */
    put_array(w, d->multiplier, requant, 4);
    put_array(w, d->shift, requant, 4);
    end_chunk(w, start);
}

static mco_status serialize(const mco_deploy_model *dm, uint8_t **bytes, size_t *size)
{
    uint8_t *model_bytes;
    size_t model_size;
    mco_status st = mco_model_serialize(&dm->model, &model_bytes, &model_size);
    if (st != MCO_OK) return st;

    writer w = {0};
    put_bytes(&w, MCQ_MAGIC, 4);
    put_u32(&w, MCQ_VERSION);
    put_u32(&w, 0);
    put_u32(&w, 0);   /* payload size, u64, filled in below */
    put_u32(&w, 0);
    size_t start = begin_chunk(&w, "MODL");
    put_bytes(&w, model_bytes, model_size);
    end_chunk(&w, start);
    free(model_bytes);
    start = begin_chunk(&w, "QNFO");
    put_u32(&w, (uint32_t)dm->activation_format);
    put_u32(&w, (uint32_t)dm->calibration);
    put_f32(&w, dm->input.scale);
    put_u32(&w, (uint32_t)dm->input.zero_point);
    put_u32(&w, (uint32_t)dm->model.n_layers);
    end_chunk(&w, start);
    for (int i = 0; i < dm->model.n_layers; i++) put_layer(&w, dm, i);
    if (!w.out_of_memory) {
        uint64_t payload = w.size - HEADER_SIZE;
        store_u32(w.data + 12, (uint32_t)payload);
        store_u32(w.data + 16, (uint32_t)(payload >> 32));
        put_u32(&w, mco_crc32(0, w.data, w.size));
    }
    if (w.out_of_memory) {
        free(w.data);
        return mco_error(MCO_ERR_NOMEM, "out of memory serializing the deploy model");
    }
    *bytes = w.data;
    *size = w.size;
    return MCO_OK;
}

mco_status mco_deploy_save(const mco_deploy_model *dm, const char *path)
{
    uint8_t *bytes = NULL;
    size_t size = 0;
    mco_status st = serialize(dm, &bytes, &size);
    if (st != MCO_OK) {
        char why[400];
        snprintf(why, sizeof why, "%s", mco_last_error());
        return mco_error(st, "%s: %s", path, why);
    }
    st = mco_write_file_atomic(path, bytes, size);
    free(bytes);
    return st;
}

/* ---- Reading: a bounds-checked cursor; reading past the end sets `short_read` ---- */

typedef struct {
    const uint8_t *data;
    size_t size, pos;
    int short_read;
} reader;

static uint32_t load_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t get_u32(reader *r)
{
    if (r->size - r->pos < 4) {
        r->short_read = 1;
        r->pos = r->size;
        return 0;
    }
    uint32_t v = load_u32(r->data + r->pos);
    r->pos += 4;
    return v;
}

static int32_t get_i32(reader *r)
{
    uint32_t u = get_u32(r);
    return u <= (uint32_t)INT32_MAX ? (int32_t)u : -(int32_t)(UINT32_MAX - u) - 1;
}

static float get_f32(reader *r)
{
    uint32_t u = get_u32(r);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* Reads an array of `expected` values of `width` bytes into a new buffer
 * (*out stays NULL for 0), after checking the stored count. */
static mco_status get_array(reader *r, size_t expected, int width, const char *what, void **out)
{
    *out = NULL;
    uint32_t count = get_u32(r);
    if (r->short_read) return mco_error(MCO_ERR_FORMAT, "QLYR chunk is cut short");
    if (count != expected)
        return mco_error(MCO_ERR_FORMAT, "%u %s in file, %zu expected", (unsigned)count, what, expected);
    if (count == 0) return MCO_OK;
    if ((r->size - r->pos) / (size_t)width < count)
        return mco_error(MCO_ERR_FORMAT, "%s: %u values claimed, only %zu bytes remain", what,
                         (unsigned)count, r->size - r->pos);
    uint8_t *buf = malloc((size_t)count * (size_t)width);
    if (!buf) return mco_error(MCO_ERR_NOMEM, "out of memory for %u %s", (unsigned)count, what);
    for (size_t k = 0; k < count; k++) {
        uint32_t v = 0;
        for (int b = 0; b < width; b++) v |= (uint32_t)r->data[r->pos++] << (8 * b);
        memcpy(buf + k * (size_t)width, &v, (size_t)width);   /* little-endian host */
    }
    *out = buf;
    return MCO_OK;
}

static int qparams_valid(mco_qparams q)
{
    return isfinite(q.scale) && q.scale > 0.0f && q.zero_point >= -128 && q.zero_point <= 127;
}

/* Value checks of a decoded layer whose array lengths are already right. */
static mco_status check_layer_values(const mco_deploy_model *dm, const mco_deploy_layer *d, size_t n_weights)
{
    size_t channels = (size_t)d->n_channels;
    int qmax = mco_deploy_weight_qmax(d->weight_format);
    if (dm->activation_format == MCO_ACT_S8 && !qparams_valid(d->output))
        return mco_error(MCO_ERR_FORMAT, "output scale %g / zero point %d out of range",
                         (double)d->output.scale, (int)d->output.zero_point);
    for (size_t c = 0; d->weight_scales && c < channels; c++) {
        if (!(isfinite(d->weight_scales[c]) && d->weight_scales[c] > 0.0f))
            return mco_error(MCO_ERR_FORMAT, "weight scale %zu is %g, expected finite and > 0", c,
                             (double)d->weight_scales[c]);
        if (!d->per_channel && d->weight_scales[c] != d->weight_scales[0])
            return mco_error(MCO_ERR_FORMAT, "per-tensor weights with differing channel scales");
    }
    for (size_t k = 0; d->weights_q && k < n_weights; k++)
        if (d->weights_q[k] < -qmax || d->weights_q[k] > qmax)
            return mco_error(MCO_ERR_FORMAT, "quantized weight %zu is %d, outside [-%d, %d]", k,
                             d->weights_q[k], qmax, qmax);
    size_t requant = channels ? channels : 1;   /* a MEAN's one multiplier */
    for (size_t c = 0; d->multiplier && c < requant; c++)
        if (d->multiplier[c] < 0 || d->shift[c] < -31 || d->shift[c] > 30)
            return mco_error(MCO_ERR_FORMAT, "channel %zu: multiplier %d / shift %d out of range", c,
                             (int)d->multiplier[c], (int)d->shift[c]);
    return MCO_OK;
}

/* With int8 activations a weighted layer's kernels sum, per output channel,
 * acc = bias + sum((x - zp) * w) in int32 (TFLite's arithmetic, the only
 * form the runtime has), for int8 inputs x and the input zero point zp,
 * so |x - zp| <= 255. This proves that sum cannot overflow for any input:
 * bias - 255 * sum|w| >= INT32_MIN and bias + 255 * sum|w| <= INT32_MAX,
 * channel by channel, for every weighted layer (conv, depthwise, dense;
 * int8 or int4; the sparse kernels sum the same products). The emitter's
 * faster forms (mco_config.h) check their own, tighter bounds. A file that
 * breaks it was not written by the quantizer: its biases are in range. */
static mco_status check_accumulator_range(const mco_layer *l, const mco_deploy_layer *d, size_t n_weights)
{
    if (!d->bias_q || !d->weights_q || d->n_channels <= 0) return MCO_OK;
    size_t channels = (size_t)d->n_channels, per_channel = n_weights / channels;
    int depthwise = l->type == MCO_LAYER_DEPTHWISE_CONV2D;
    for (size_t c = 0; c < channels; c++) {
        int64_t abs_sum = 0;   /* at most 127 * n_weights: far from overflowing */
        for (size_t k = 0; k < per_channel; k++) {
            int w = d->weights_q[depthwise ? k * channels + c : c * per_channel + k];
            abs_sum += w < 0 ? -w : w;
        }
        int64_t bias = d->bias_q[c], reach = 255 * abs_sum;
        if (bias + reach > INT32_MAX || bias - reach < INT32_MIN)
            return mco_error(MCO_ERR_FORMAT,
                             "%s %zu: bias %lld plus up to +-%lld from its inputs (255 x sum |w|) overflows "
                             "the int32 accumulator",
                             l->type == MCO_LAYER_DENSE ? "unit" : "channel", c, (long long)bias, (long long)reach);
    }
    return MCO_OK;
}

/* Decodes QLYR chunk i into dm->layers[i]; messages are "layer i (name): ...". */
static mco_status decode_layer(const uint8_t *data, size_t size, mco_deploy_model *dm, int i)
{
    const mco_layer *l = &dm->model.layers[i];
    mco_deploy_layer *d = &dm->layers[i];
    reader r = {data, size, 0, 0};
    uint32_t format = get_u32(&r), per_channel = get_u32(&r), channels = get_u32(&r);
    d->output.scale = get_f32(&r);
    d->output.zero_point = get_i32(&r);
    if (r.short_read) return mco_error(MCO_ERR_FORMAT, "QLYR chunk is cut short");
    if (format > MCO_WEIGHTS_S4 || per_channel > 1)
        return mco_error(MCO_ERR_FORMAT, "unknown weight format %u or per-channel flag %u", (unsigned)format,
                         (unsigned)per_channel);
    d->weight_format = (mco_weight_format)format;
    d->per_channel = (int)per_channel;
    int weighted = mco_deploy_is_weighted(l);
    if (!weighted && d->weight_format != MCO_WEIGHTS_F32)
        return mco_error(MCO_ERR_FORMAT, "%s weights on a %s layer", mco_weight_format_name(d->weight_format),
                         mco_layer_type_name(l->type));
    if (weighted && dm->activation_format == MCO_ACT_S8 &&
        d->weight_format != MCO_WEIGHTS_S8 && d->weight_format != MCO_WEIGHTS_S4)
        return mco_error(MCO_ERR_FORMAT, "%s weights with int8 activations", mco_weight_format_name(d->weight_format));
    if (channels != (uint32_t)mco_deploy_channels(l))
        return mco_error(MCO_ERR_FORMAT, "%u channels in file, %d expected", (unsigned)channels,
                         mco_deploy_channels(l));
    d->n_channels = (int)channels;

    size_t n_weights = weighted ? l->params[MCO_PARAM_WEIGHTS].size : 0;
    int is_int = d->weight_format == MCO_WEIGHTS_S8 || d->weight_format == MCO_WEIGHTS_S4;
    int int_params = weighted && dm->activation_format == MCO_ACT_S8;
    mco_status st = get_array(&r, is_int ? channels : 0, 4, "weight scales", (void **)&d->weight_scales);
    if (st == MCO_OK) st = get_array(&r, is_int ? n_weights : 0, 1, "quantized weights", (void **)&d->weights_q);
    if (st == MCO_OK)
        st = get_array(&r, d->weight_format == MCO_WEIGHTS_F16 ? n_weights : 0, 2, "float16 weights",
                       (void **)&d->weights_f16);
    if (st == MCO_OK) st = get_array(&r, int_params ? channels : 0, 4, "int32 biases", (void **)&d->bias_q);
    size_t requant = int_params ? channels : 0;
    if (st == MCO_OK && l->type == MCO_LAYER_GLOBAL_AVGPOOL && dm->activation_format == MCO_ACT_S8 &&
        r.size - r.pos >= 4 && load_u32(r.data + r.pos) == 1)
        requant = 1;   /* TFLite's MEAN (see LAYOUT) */
    if (st == MCO_OK) st = get_array(&r, requant, 4, "multipliers", (void **)&d->multiplier);
    if (st == MCO_OK) st = get_array(&r, requant, 4, "shifts", (void **)&d->shift);
    if (st == MCO_OK && r.pos != r.size)
        st = mco_error(MCO_ERR_FORMAT, "%zu unexpected bytes at the end of the QLYR chunk", r.size - r.pos);
    if (st == MCO_OK) st = check_layer_values(dm, d, n_weights);
    if (st == MCO_OK) st = check_accumulator_range(l, d, n_weights);
    return st;
}

mco_status mco_deploy_check(const mco_deploy_model *dm)
{
    for (int i = 0; i < dm->model.n_layers; i++) {
        const mco_layer *l = &dm->model.layers[i];
        const mco_deploy_layer *d = &dm->layers[i];
        size_t n_weights = mco_deploy_is_weighted(l) ? l->params[MCO_PARAM_WEIGHTS].size : 0;
        mco_status st = check_layer_values(dm, d, n_weights);
        if (st == MCO_OK) st = check_accumulator_range(l, d, n_weights);
        if (st != MCO_OK) {
            char why[400];
            snprintf(why, sizeof why, "%s", mco_last_error());
            return mco_error(st, "layer %d (%s): %s", i, l->name, why);
        }
    }
    return MCO_OK;
}

/* Finds the next critical chunk (skipping optional ones); it must be `tag`. */
static mco_status next_chunk(reader *payload, const char *tag, const uint8_t **data, size_t *size)
{
    for (;;) {
        size_t offset = HEADER_SIZE + payload->pos;
        if (payload->size - payload->pos < CHUNK_HEADER_SIZE)
            return mco_error(MCO_ERR_FORMAT, "missing %s chunk at offset %zu", tag, offset);
        const uint8_t *head = payload->data + payload->pos;
        uint32_t length = load_u32(head + 4);
        size_t left = payload->size - payload->pos - CHUNK_HEADER_SIZE;
        if (length > left)
            return mco_error(MCO_ERR_FORMAT, "chunk at offset %zu claims %u bytes, only %zu remain", offset,
                             (unsigned)length, left);
        payload->pos += CHUNK_HEADER_SIZE + length;
        if (head[0] >= 'a' && head[0] <= 'z') continue;   /* optional: skip */
        if (memcmp(head, tag, 4) != 0)
            return mco_error(MCO_ERR_FORMAT, "expected chunk %s at offset %zu, found 0x%02x%02x%02x%02x", tag,
                             offset, head[0], head[1], head[2], head[3]);
        *data = head + CHUNK_HEADER_SIZE;
        *size = length;
        return MCO_OK;
    }
}

static mco_status check_header(const uint8_t *bytes, size_t size, reader *payload)
{
    const char *kind = mco_model_file_kind(bytes, size);
    if (kind && memcmp(bytes, MCQ_MAGIC, 4) != 0)
        return mco_error(MCO_ERR_FORMAT, "%s, not the deploy model (.mcq) needed here", kind);
    if (size < HEADER_SIZE + CRC_SIZE)
        return mco_error(MCO_ERR_FORMAT, "%zu bytes is too short for a deploy model file", size);
    if (memcmp(bytes, MCQ_MAGIC, 4) != 0)
        return mco_error(MCO_ERR_FORMAT, "not a deploy model file (magic is not %s)", MCQ_MAGIC);
    uint32_t version = load_u32(bytes + 4), flags = load_u32(bytes + 8);
    if (version != MCQ_VERSION)
        return mco_error(MCO_ERR_FORMAT, "version %u, this mcuopt reads version %d", (unsigned)version, MCQ_VERSION);
    if (flags != 0) return mco_error(MCO_ERR_FORMAT, "unknown flags 0x%08x", (unsigned)flags);
    uint64_t payload_size = (uint64_t)load_u32(bytes + 12) | (uint64_t)load_u32(bytes + 16) << 32;
    if (payload_size != size - HEADER_SIZE - CRC_SIZE)
        return mco_error(MCO_ERR_FORMAT, "header says %llu payload bytes, the file holds %zu (truncated?)",
                         (unsigned long long)payload_size, size - HEADER_SIZE - CRC_SIZE);
    size_t crc_at = size - CRC_SIZE;
    uint32_t stored = load_u32(bytes + crc_at), computed = mco_crc32(0, bytes, crc_at);
#ifdef MCO_FUZZ
    stored = computed;   /* fuzz builds only (tests/fuzz): mutated files reach the decoder */
#endif
    if (stored != computed)
        return mco_error(MCO_ERR_FORMAT, "CRC mismatch (file is corrupt): stored 0x%08x, computed 0x%08x",
                         (unsigned)stored, (unsigned)computed);
    *payload = (reader){bytes + HEADER_SIZE, (size_t)payload_size, 0, 0};
    return MCO_OK;
}

/* Decodes a file image into *dm (which the caller frees on failure). */
static mco_status decode(const uint8_t *bytes, size_t size, mco_deploy_model *dm)
{
    reader payload;
    const uint8_t *data;
    size_t len;
    mco_status st = check_header(bytes, size, &payload);
    if (st == MCO_OK) st = next_chunk(&payload, "MODL", &data, &len);
    if (st != MCO_OK) return st;
    mco_model model;
    if ((st = mco_model_deserialize(data, len, "MODL chunk", &model)) != MCO_OK) return st;
    if ((st = mco_deploy_init_from_folded(dm, &model)) != MCO_OK) return st;

    if ((st = next_chunk(&payload, "QNFO", &data, &len)) != MCO_OK) return st;
    reader r = {data, len, 0, 0};
    uint32_t act = get_u32(&r), calib = get_u32(&r);
    dm->input.scale = get_f32(&r);
    dm->input.zero_point = get_i32(&r);
    uint32_t n_layers = get_u32(&r);
    if (r.short_read || r.pos != r.size)
        return mco_error(MCO_ERR_FORMAT, "QNFO chunk holds %zu bytes, expected 20", len);
    if (act > MCO_ACT_S8 || calib > MCO_CALIBRATE_IMPORTED)
        return mco_error(MCO_ERR_FORMAT, "unknown activation format %u or calibration %u", (unsigned)act,
                         (unsigned)calib);
    dm->activation_format = (mco_activation_format)act;
    dm->calibration = (mco_calibration)calib;
    if (n_layers != (uint32_t)dm->model.n_layers)
        return mco_error(MCO_ERR_FORMAT, "QNFO declares %u layers, the model has %d", (unsigned)n_layers,
                         dm->model.n_layers);
    if (dm->activation_format == MCO_ACT_S8 && !qparams_valid(dm->input))
        return mco_error(MCO_ERR_FORMAT, "input scale %g / zero point %d out of range", (double)dm->input.scale,
                         (int)dm->input.zero_point);
    for (int i = 0; i < dm->model.n_layers; i++) {
        const mco_layer *l = &dm->model.layers[i];
        if (dm->activation_format == MCO_ACT_S8 && l->type == MCO_LAYER_BATCHNORM)
            return mco_error(MCO_ERR_FORMAT, "layer %d (%s): unfolded BatchNorm with int8 activations", i, l->name);
        if ((st = next_chunk(&payload, "QLYR", &data, &len)) == MCO_OK) st = decode_layer(data, len, dm, i);
        if (st != MCO_OK) {
            char why[400];
            snprintf(why, sizeof why, "%s", mco_last_error());
            return mco_error(st, "layer %d (%s): %s", i, l->name, why);
        }
    }
    while (payload.pos < payload.size) {   /* only optional chunks may follow */
        if ((st = next_chunk(&payload, "end of file", &data, &len)) != MCO_OK) return st;
    }
    return MCO_OK;
}

/* decode, a failure naming the file */
static mco_status decode_mcq(const uint8_t *bytes, size_t size, const char *origin, void *out)
{
    mco_status st = decode(bytes, size, out);
    if (st != MCO_OK) {
        char why[400];
        snprintf(why, sizeof why, "%s", mco_last_error());
        mco_deploy_free(out);
        return mco_error(st == MCO_ERR_NOMEM ? st : MCO_ERR_FORMAT, "%s: %s", origin, why);
    }
    return MCO_OK;
}

mco_status mco_deploy_load(const char *path, mco_deploy_model *dm)
{
    memset(dm, 0, sizeof *dm);
    return mco_read_model_file(path, MCQ_MAX_FILE_BYTES, decode_mcq, dm);
}
