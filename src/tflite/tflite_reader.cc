/*
 * tflite_reader.cc - mco_tfl_read(): a TFLite flatbuffer to the plain C
 * graph of tflite_graph.h, with Debian's flatbuffers library and the
 * accessors flatc generates from our schema subset (tflite_subset.fbs).
 * The area's only C++ file; everything after reading is C.
 *
 * Trust: flatbuffers::Verifier runs first over the whole buffer (every
 * offset, vtable, vector, string and union member inside the file, nesting
 * depth at most 64, at most 1,000,000 tables: a hostile file cannot make
 * the accessors read outside it or loop). Then the checks the Verifier
 * cannot make, each failing with one line: tensor, opcode and buffer
 * indices in range, shapes of at most MCO_TFL_MAX_DIMS non-negative
 * dimensions whose element count fits, constant data exactly as large as
 * its shape says, quantization vectors of consistent lengths and finite
 * positive scales, counts below MCO_TFL_MAX_TENSORS / _OPS.
 *
 * What it leaves out: subgraphs after the first, sparse tensors,
 * `details` quantization, buffers stored outside the flatbuffer, custom
 * options (all refused where the main subgraph uses them), and every
 * option mcuopt does not map. No C++ exception can leave it: the
 * generated accessors and the Verifier do not throw, and allocation uses
 * malloc.
 */
#include "tflite_graph.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcuopt/model_file.h"
#include "tflite_subset_generated.h"

namespace {

const char *kTypeNames[] = {"FLOAT32", "FLOAT16", "INT32", "UINT8", "INT64", "STRING", "BOOL",
                            "INT16", "COMPLEX64", "INT8", "FLOAT64"};

/* The reader's state: the origin for messages and the graph being filled. */
struct Reader {
    const char *origin;
    mco_tfl_graph *graph;
};

mco_status fail(const Reader &r, mco_status st, const char *what)
{
    return mco_error(st, "%s: %s", r.origin, what);
}

/* Element count of a shape, or -1 if a dimension is negative or the count passes 2^31. */
int64_t element_count(const mco_tfl_tensor &t)
{
    int64_t n = 1;
    for (int d = 0; d < t.ndim; d++) {
        if (t.dims[d] < 0) return -1;
        n *= t.dims[d];
        if (n > INT32_MAX) return -1;
    }
    return n;
}

mco_status read_quantization(const Reader &r, int index, const tflite::QuantizationParameters *q,
                             mco_tfl_tensor &t)
{
    if (!q) return MCO_OK;
    if (q->details_type() != tflite::QuantizationDetails_NONE)
        return mco_error(MCO_ERR_UNSUPPORTED, "%s: tensor %d (%s): custom quantization details are not supported",
                         r.origin, index, t.name);
    const flatbuffers::Vector<float> *scale = q->scale();
    const flatbuffers::Vector<int64_t> *zp = q->zero_point();
    size_t n = scale ? scale->size() : 0;
    if (n == 0) return MCO_OK;   /* min/max only, or empty: not quantized */
    if (zp && zp->size() != n && zp->size() != 0)
        return mco_error(MCO_ERR_FORMAT, "%s: tensor %d (%s): %zu scales but %zu zero points", r.origin, index,
                         t.name, n, (size_t)zp->size());
    if (n > (size_t)INT32_MAX) return fail(r, MCO_ERR_FORMAT, "too many quantization scales");
    t.scales = static_cast<float *>(malloc(n * sizeof *t.scales));
    t.zero_points = static_cast<int64_t *>(calloc(n, sizeof *t.zero_points));
    if (!t.scales || !t.zero_points) return fail(r, MCO_ERR_NOMEM, "out of memory for quantization parameters");
    for (size_t k = 0; k < n; k++) {
        t.scales[k] = scale->Get(static_cast<flatbuffers::uoffset_t>(k));
        if (!(std::isfinite(t.scales[k]) && t.scales[k] > 0.0f))
            return mco_error(MCO_ERR_FORMAT, "%s: tensor %d (%s): quantization scale %zu is %g, expected finite and > 0",
                             r.origin, index, t.name, k, (double)t.scales[k]);
        /* memcpy, not zp->Get(): flatbuffers 2.0.8's Verifier checks a vector's
         * 4-byte length, not that 8-byte elements are 8-byte aligned (fuzzer) */
        if (zp && zp->size() == n) memcpy(&t.zero_points[k], zp->Data() + 8 * k, 8);
        if (t.zero_points[k] < -65536 || t.zero_points[k] > 65536)
            return mco_error(MCO_ERR_FORMAT, "%s: tensor %d (%s): zero point %lld is out of range", r.origin, index,
                             t.name, static_cast<long long>(t.zero_points[k]));
    }
    t.n_quant = static_cast<int>(n);
    t.quant_dim = q->quantized_dimension();
    if (n > 1 && (t.quant_dim < 0 || t.quant_dim >= t.ndim || t.dims[t.quant_dim] != static_cast<int32_t>(n)))
        return mco_error(MCO_ERR_FORMAT, "%s: tensor %d (%s): %zu scales along dimension %d of a %d-D tensor",
                         r.origin, index, t.name, n, t.quant_dim, t.ndim);
    return MCO_OK;
}

mco_status read_tensor(const Reader &r, const tflite::Model *model, int index, const tflite::Tensor *src,
                       mco_tfl_tensor &t)
{
    if (!src) return mco_error(MCO_ERR_FORMAT, "%s: tensor %d is missing", r.origin, index);
    /* names go into one-line messages: printable ASCII only */
    if (src->name()) snprintf(t.name, sizeof t.name, "%s", src->name()->c_str());
    for (char *c = t.name; *c; c++)
        if (*c < 0x20 || *c > 0x7e) *c = '_';
    const flatbuffers::Vector<int32_t> *shape = src->shape();
    size_t ndim = shape ? shape->size() : 0;
    if (ndim > MCO_TFL_MAX_DIMS)
        return mco_error(MCO_ERR_UNSUPPORTED, "%s: tensor %d (%s) has %zu dimensions, at most %d are supported",
                         r.origin, index, t.name, ndim, MCO_TFL_MAX_DIMS);
    t.ndim = static_cast<int>(ndim);
    for (size_t d = 0; d < ndim; d++) t.dims[d] = shape->Get(static_cast<flatbuffers::uoffset_t>(d));
    t.type = src->type();
    int64_t count = element_count(t);
    if (count < 0)
        return mco_error(MCO_ERR_FORMAT, "%s: tensor %d (%s): negative dimension or more than 2^31 elements",
                         r.origin, index, t.name);
    if (src->sparsity())
        return mco_error(MCO_ERR_UNSUPPORTED, "%s: tensor %d (%s) is sparse, which is not supported", r.origin,
                         index, t.name);
    if (src->is_variable())
        return mco_error(MCO_ERR_UNSUPPORTED, "%s: tensor %d (%s) is a variable (stateful models are not supported)",
                         r.origin, index, t.name);
    uint32_t b = src->buffer();
    const auto *buffers = model->buffers();
    size_t n_buffers = buffers ? buffers->size() : 0;
    if (b != 0 && b >= n_buffers)
        return mco_error(MCO_ERR_FORMAT, "%s: tensor %d (%s) names buffer %u of %zu", r.origin, index, t.name,
                         (unsigned)b, n_buffers);
    const tflite::Buffer *buffer = b < n_buffers ? buffers->Get(b) : nullptr;
    if (buffer && buffer->offset() > 1)
        return mco_error(MCO_ERR_UNSUPPORTED, "%s: tensor %d (%s): data stored outside the flatbuffer (a model over "
                         "2 GB) is not supported", r.origin, index, t.name);
    if (buffer && buffer->data() && buffer->data()->size() > 0) {
        size_t elem = mco_tfl_type_size(t.type);
        t.data = buffer->data()->data();
        t.data_size = buffer->data()->size();
        if (elem == 0)
            return mco_error(MCO_ERR_UNSUPPORTED, "%s: tensor %d (%s): constant of type %s is not supported",
                             r.origin, index, t.name, mco_tfl_type_name(t.type));
        if (t.data_size != static_cast<size_t>(count) * elem)
            return mco_error(MCO_ERR_FORMAT, "%s: tensor %d (%s): %zu bytes of data for %lld %s values", r.origin,
                             index, t.name, t.data_size, static_cast<long long>(count), mco_tfl_type_name(t.type));
    }
    return read_quantization(r, index, src->quantization(), t);
}

/* Copies an index vector after checking each index names a tensor (-1 allowed if `optional`). */
mco_status read_indices(const Reader &r, const flatbuffers::Vector<int32_t> *v, int32_t *out, int *n, int cap,
                        int optional, const char *what, int op_index)
{
    size_t size = v ? v->size() : 0;
    if (size > static_cast<size_t>(cap))
        return mco_error(MCO_ERR_UNSUPPORTED, "%s: operator %d has %zu %s, at most %d are supported", r.origin,
                         op_index, size, what, cap);
    for (size_t k = 0; k < size; k++) {
        int32_t t = v->Get(static_cast<flatbuffers::uoffset_t>(k));
        if ((t < 0 && !(optional && t == -1)) || t >= r.graph->n_tensors)
            return mco_error(MCO_ERR_FORMAT, "%s: operator %d: %s %zu names tensor %d of %d", r.origin, op_index,
                             what, k, (int)t, r.graph->n_tensors);
        out[k] = t;
    }
    *n = static_cast<int>(size);
    return MCO_OK;
}

/* The options mcuopt reads, from whichever BuiltinOptions member is present. */
void read_options(const tflite::Operator *src, mco_tfl_op &op)
{
    op.options_type = src->builtin_options_type();
    op.dilation_w = op.dilation_h = 1;
    op.beta = 1.0f;
    if (const auto *o = src->builtin_options_as_Conv2DOptions()) {
        op.padding = o->padding();
        op.stride_w = o->stride_w();
        op.stride_h = o->stride_h();
        op.activation = o->fused_activation_function();
        op.dilation_w = o->dilation_w_factor();
        op.dilation_h = o->dilation_h_factor();
    } else if (const auto *o = src->builtin_options_as_DepthwiseConv2DOptions()) {
        op.padding = o->padding();
        op.stride_w = o->stride_w();
        op.stride_h = o->stride_h();
        op.depth_multiplier = o->depth_multiplier();
        op.activation = o->fused_activation_function();
        op.dilation_w = o->dilation_w_factor();
        op.dilation_h = o->dilation_h_factor();
    } else if (const auto *o = src->builtin_options_as_Pool2DOptions()) {
        op.padding = o->padding();
        op.stride_w = o->stride_w();
        op.stride_h = o->stride_h();
        op.filter_w = o->filter_width();
        op.filter_h = o->filter_height();
        op.activation = o->fused_activation_function();
    } else if (const auto *o = src->builtin_options_as_FullyConnectedOptions()) {
        op.activation = o->fused_activation_function();
        op.weights_format = o->weights_format();
        op.keep_num_dims = o->keep_num_dims();
    } else if (const auto *o = src->builtin_options_as_SoftmaxOptions()) {
        op.beta = o->beta();
    } else if (const auto *o = src->builtin_options_as_ConcatenationOptions()) {
        op.axis = o->axis();
        op.activation = o->fused_activation_function();
    } else if (const auto *o = src->builtin_options_as_AddOptions()) {
        op.activation = o->fused_activation_function();
    } else if (const auto *o = src->builtin_options_as_MulOptions()) {
        op.activation = o->fused_activation_function();
    } else if (const auto *o = src->builtin_options_as_ReducerOptions()) {
        op.keep_dims = o->keep_dims();
    } else if (const auto *o = src->builtin_options_as_StridedSliceOptions()) {
        op.begin_mask = o->begin_mask();
        op.end_mask = o->end_mask();
        op.ellipsis_mask = o->ellipsis_mask();
        op.new_axis_mask = o->new_axis_mask();
        op.shrink_axis_mask = o->shrink_axis_mask();
        op.offset = o->offset();
    } else if (const auto *o = src->builtin_options_as_PackOptions()) {
        op.axis = o->axis();
    }
}

mco_status read_operator(const Reader &r, const tflite::Model *model, int index, const tflite::Operator *src,
                         mco_tfl_op &op)
{
    if (!src) return mco_error(MCO_ERR_FORMAT, "%s: operator %d is missing", r.origin, index);
    const auto *codes = model->operator_codes();
    size_t n_codes = codes ? codes->size() : 0;
    if (src->opcode_index() >= n_codes)
        return mco_error(MCO_ERR_FORMAT, "%s: operator %d names operator code %u of %zu", r.origin, index,
                         (unsigned)src->opcode_index(), n_codes);
    const tflite::OperatorCode *code = codes->Get(src->opcode_index());
    if (!code) return mco_error(MCO_ERR_FORMAT, "%s: operator code %u is missing", r.origin, (unsigned)src->opcode_index());
    /* As TFLite: the larger of the two fields (old files set only the byte). */
    int builtin = code->builtin_code() > code->deprecated_builtin_code() ? code->builtin_code()
                                                                         : code->deprecated_builtin_code();
    op.code = builtin;
    if (builtin == 32 /* CUSTOM */) {
        op.code = -1;
        snprintf(op.custom, sizeof op.custom, "%s", code->custom_code() ? code->custom_code()->c_str() : "?");
        for (char *c = op.custom; *c; c++)
            if (*c < 0x20 || *c > 0x7e) *c = '_';
    }
    if (src->large_custom_options_offset() > 1)
        return mco_error(MCO_ERR_UNSUPPORTED, "%s: operator %d: options stored outside the flatbuffer are not supported",
                         r.origin, index);
    mco_status st = read_indices(r, src->inputs(), op.inputs, &op.n_inputs, MCO_TFL_MAX_OP_INPUTS, 1, "inputs", index);
    if (st == MCO_OK)
        st = read_indices(r, src->outputs(), op.outputs, &op.n_outputs, MCO_TFL_MAX_OP_INPUTS, 0, "outputs", index);
    if (st == MCO_OK) read_options(src, op);
    return st;
}

mco_status read_model(const Reader &r, const uint8_t *bytes, size_t size)
{
    flatbuffers::Verifier::Options options;
    options.max_depth = 64;
    options.max_tables = 1000000;
    options.check_alignment = true;
    flatbuffers::Verifier verifier(bytes, size, options);
    if (!tflite::VerifyModelBuffer(verifier))
        return fail(r, MCO_ERR_FORMAT, "not a valid TFLite file (the flatbuffer does not verify: an offset, "
                                       "vector or table is out of range or malformed)");
    const tflite::Model *model = tflite::GetModel(bytes);
    mco_tfl_graph *g = r.graph;
    g->version = model->version();
    if (g->version != 3)
        return mco_error(MCO_ERR_UNSUPPORTED, "%s: TFLite schema version %u, mcuopt reads version 3", r.origin,
                         (unsigned)g->version);
    const auto *subgraphs = model->subgraphs();
    if (!subgraphs || subgraphs->size() == 0 || !subgraphs->Get(0))
        return fail(r, MCO_ERR_FORMAT, "the model has no subgraph");
    const tflite::SubGraph *sg = subgraphs->Get(0);
    size_t n_tensors = sg->tensors() ? sg->tensors()->size() : 0;
    size_t n_ops = sg->operators() ? sg->operators()->size() : 0;
    if (n_tensors > MCO_TFL_MAX_TENSORS || n_ops > MCO_TFL_MAX_OPS)
        return mco_error(MCO_ERR_UNSUPPORTED, "%s: %zu tensors and %zu operators, at most %d and %d are supported",
                         r.origin, n_tensors, n_ops, MCO_TFL_MAX_TENSORS, MCO_TFL_MAX_OPS);
    if (n_ops == 0) return fail(r, MCO_ERR_FORMAT, "the main subgraph has no operators");
    g->tensors = static_cast<mco_tfl_tensor *>(calloc(n_tensors ? n_tensors : 1, sizeof *g->tensors));
    g->ops = static_cast<mco_tfl_op *>(calloc(n_ops, sizeof *g->ops));
    if (!g->tensors || !g->ops) return fail(r, MCO_ERR_NOMEM, "out of memory for the graph");
    g->n_tensors = static_cast<int>(n_tensors);
    mco_status st = MCO_OK;
    for (size_t k = 0; st == MCO_OK && k < n_tensors; k++)
        st = read_tensor(r, model, static_cast<int>(k), sg->tensors()->Get(static_cast<flatbuffers::uoffset_t>(k)),
                         g->tensors[k]);
    g->n_ops = static_cast<int>(n_ops);
    for (size_t k = 0; st == MCO_OK && k < n_ops; k++)
        st = read_operator(r, model, static_cast<int>(k), sg->operators()->Get(static_cast<flatbuffers::uoffset_t>(k)),
                           g->ops[k]);
    if (st == MCO_OK) st = read_indices(r, sg->inputs(), g->inputs, &g->n_inputs, 4, 0, "subgraph inputs", -1);
    if (st == MCO_OK) st = read_indices(r, sg->outputs(), g->outputs, &g->n_outputs, 4, 0, "subgraph outputs", -1);
    return st;
}

}  // namespace

extern "C" {

int mco_tfl_is_tflite(const uint8_t *bytes, size_t size)
{
    return bytes && size >= 8 && flatbuffers::BufferHasIdentifier(bytes, tflite::ModelIdentifier());
}

size_t mco_tfl_type_size(int type)
{
    switch (type) {
    case MCO_TFL_FLOAT32: case MCO_TFL_INT32: return 4;
    case MCO_TFL_FLOAT16: case MCO_TFL_INT16: return 2;
    case MCO_TFL_UINT8: case MCO_TFL_INT8: return 1;
    case MCO_TFL_INT64: return 8;
    default: return 0;
    }
}

const char *mco_tfl_type_name(int type)
{
    return type >= 0 && type < static_cast<int>(sizeof kTypeNames / sizeof kTypeNames[0]) ? kTypeNames[type]
                                                                                           : "an unknown type";
}

mco_status mco_tfl_read(const uint8_t *bytes, size_t size, const char *origin, mco_tfl_graph *graph)
{
    if (!graph) return mco_error(MCO_ERR_ARG, "tflite read: NULL graph");
    memset(graph, 0, sizeof *graph);
    if (!origin) origin = "model";
    if (!mco_tfl_is_tflite(bytes, size)) {
        const char *kind = mco_model_file_kind(bytes, size);
        if (kind) return mco_error(MCO_ERR_FORMAT, "%s: %s, not a TFLite file (it needs no import)", origin, kind);
        return mco_error(MCO_ERR_FORMAT, "%s: not a TFLite file (no \"TFL3\" identifier)", origin);
    }
    if (size >= static_cast<size_t>(FLATBUFFERS_MAX_BUFFER_SIZE))
        return mco_error(MCO_ERR_FORMAT, "%s: %zu bytes is larger than a flatbuffer can be", origin, size);
    Reader r = {origin, graph};
    mco_status st = read_model(r, bytes, size);
    if (st != MCO_OK) mco_tfl_graph_free(graph);
    return st;
}

void mco_tfl_graph_free(mco_tfl_graph *graph)
{
    if (!graph) return;
    for (int k = 0; graph->tensors && k < graph->n_tensors; k++) {
        free(graph->tensors[k].scales);
        free(graph->tensors[k].zero_points);
    }
    free(graph->tensors);
    free(graph->ops);
    memset(graph, 0, sizeof *graph);
}

}  // extern "C"
