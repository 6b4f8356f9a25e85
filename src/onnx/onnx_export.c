/*
 * onnx_export.c - mcuopt models to ONNX (onnx.h): float models as plain
 * ONNX, int8 deploy models in QDQ form.
 *
 * The graph is built as protobuf-c messages (onnx_subset.proto) in a
 * builder that records every allocation, then packed in one go. Opset 13,
 * IR version 7. One node per mcuopt layer (Relu6 as Clip(0, 6); a Dense
 * reading a 1 x 1 x C tensor gets a Squeeze of the spatial axes first); tensors
 * are NCHW ([N, C, H, W], or [N, features] after Flatten / Gemm); weights go
 * out in ONNX's layouts (OIHW; depthwise [C, 1, kh, kw]; Gemm with transB=1
 * and the columns of a Dense that reads a flattened conv output put back in
 * NCHW order), as raw little-endian data. Layer names become node names, the
 * model's name the graph name, and its input normalisation the metadata
 * entry "mcuopt.normalization" ("scale,mean,std" with 9 significant
 * digits), and a reconstruction model's loss the entry "mcuopt.loss" ("mse";
 * a classifier has none), so importing an export gives back the same model
 * bit for bit.
 *
 * QDQ (deploy models with int8 activations): the input and every layer's
 * output pass through QuantizeLinear -> DequantizeLinear with the layer's
 * scale and zero point; Conv / Gemm weights are int8 initializers behind a
 * per-channel (axis 0) DequantizeLinear, biases int32 behind one with scale
 * input_scale x weight_scale[c]. Deploy models with float activations and
 * int8 / int4 weights get the weight DequantizeLinear only. An int8
 * average pool's mean is nudged by a quarter of 1 / count of a step away
 * from the raw zero (Add, Sign, Mul, Add) before its QuantizeLinear, so
 * that it rounds half away from zero as mcuopt's kernel does
 * (round_half_away; the QDQ importer folds the four nodes back); a Conv's,
 * Gemm's or requantizing global pool's output is nudged by
 * Sign(y) x scale x 2^-(e+1) per channel (Sign, Mul, Add), e being the
 * right shift of the channel's requantization, which rounds twice
 * (round_as_requantize). With both, an
 * ONNX runtime evaluating the graph in float gives mcuopt's integers but
 * where float rounding puts a value on the other side of a boundary (see
 * docs/benchmarks.md, "QDQ export fidelity").
 *
 * What it leaves out: float16 weights, graph inputs with a free batch
 * dimension (N is 1), and doc strings.
 */
#include "mcuopt/onnx.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcuopt/deploy_util.h"
#include "mcuopt/model_file.h"
#include "mcuopt/quant_multiplier.h"
#include "onnx_internal.h"

#define EXPORT_OPSET 13
#define EXPORT_IR_VERSION 7

/* ---- The builder: protobuf-c messages whose memory it owns ---- */

typedef struct {
    void **allocs;
    size_t n_allocs, cap_allocs;
    int out_of_memory;
    Onnx__ModelProto model;
    Onnx__GraphProto graph;
    size_t cap_nodes, cap_initializers;
} builder;

static void *remember(builder *b, void *p)
{
    if (!p || b->out_of_memory) {
        free(p);
        b->out_of_memory = 1;
        return NULL;
    }
    if (b->n_allocs == b->cap_allocs) {
        size_t cap = b->cap_allocs ? b->cap_allocs * 2 : 256;
        void **grown = realloc(b->allocs, cap * sizeof *grown);
        if (!grown) {
            free(p);
            b->out_of_memory = 1;
            return NULL;
        }
        b->allocs = grown;
        b->cap_allocs = cap;
    }
    return b->allocs[b->n_allocs++] = p;
}

static void *bnew(builder *b, size_t size)
{
    return remember(b, calloc(1, size ? size : 1));
}

static char *bstr(builder *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static char *bstr(builder *b, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char *s = bnew(b, strlen(buf) + 1);
    if (s) strcpy(s, buf);
    return s;
}

/* Appends a pointer to a growing array owned by the builder's graph. */
static int push(builder *b, void ***array, size_t *n, size_t *cap, void *item)
{
    if (!item || b->out_of_memory) return 0;
    if (*n == *cap) {
        size_t grown_cap = *cap ? *cap * 2 : 64;
        void **grown = realloc(*array, grown_cap * sizeof *grown);
        if (!grown) {
            b->out_of_memory = 1;
            return 0;
        }
        *array = grown;
        *cap = grown_cap;
    }
    (*array)[(*n)++] = item;
    return 1;
}

static void builder_init(builder *b)
{
    memset(b, 0, sizeof *b);
    onnx__model_proto__init(&b->model);
    onnx__graph_proto__init(&b->graph);
}

static void builder_free(builder *b)
{
    for (size_t i = 0; i < b->n_allocs; i++) free(b->allocs[i]);
    free(b->allocs);
    free(b->graph.node);
    free(b->graph.initializer);
}

/* ---- Initializers ---- */

/* An initializer of `count` elements of `elem_bytes` (1, 4 or 8) each, from
 * `values` in host order, written as little-endian raw_data. */
static const char *add_initializer(builder *b, const char *name, int type, int rank, const int64_t *dims,
                                   const void *values, size_t count, size_t elem_bytes)
{
    Onnx__TensorProto *t = bnew(b, sizeof *t);
    int64_t *d = bnew(b, (size_t)rank * sizeof *d);
    uint8_t *raw = bnew(b, count * elem_bytes);
    if (!t || !d || !raw) return NULL;
    onnx__tensor_proto__init(t);
    if (rank) memcpy(d, dims, (size_t)rank * sizeof *d);
    for (size_t i = 0; i < count; i++) {
        const uint8_t *p = (const uint8_t *)values + i * elem_bytes;
        uint64_t u = p[0];
        uint32_t u32;
        if (elem_bytes == 4) {
            memcpy(&u32, p, sizeof u32);
            u = u32;
        } else if (elem_bytes == 8) {
            memcpy(&u, p, sizeof u);
        }
        for (size_t k = 0; k < elem_bytes; k++) raw[i * elem_bytes + k] = (uint8_t)(u >> (8 * k));
    }
    t->name = (char *)name;
    t->n_dims = (size_t)rank;
    t->dims = d;
    t->has_data_type = 1;
    t->data_type = type;
    t->has_raw_data = 1;
    t->raw_data.len = count * elem_bytes;
    t->raw_data.data = raw;
    push(b, (void ***)&b->graph.initializer, &b->graph.n_initializer, &b->cap_initializers, t);
    return name;
}

static const char *add_floats(builder *b, const char *name, int rank, const int64_t *dims, const float *v, size_t n)
{
    return add_initializer(b, name, MCO_ONNX_FLOAT, rank, dims, v, n, sizeof *v);
}

static const char *add_scalar_float(builder *b, const char *name, float v)
{
    return add_initializer(b, name, MCO_ONNX_FLOAT, 0, NULL, &v, 1, sizeof v);
}

/* ---- Nodes ---- */

static Onnx__NodeProto *add_node(builder *b, const char *op, const char *name, int n_inputs,
                                 const char *const *inputs, const char *output)
{
    Onnx__NodeProto *n = bnew(b, sizeof *n);
    char **in = bnew(b, (size_t)n_inputs * sizeof *in);
    char **out = bnew(b, sizeof *out);
    if (!n || !in || !out) return NULL;
    onnx__node_proto__init(n);
    for (int k = 0; k < n_inputs; k++) {
        in[k] = (char *)inputs[k];
        if (!inputs[k]) b->out_of_memory = 1;
    }
    out[0] = (char *)output;
    n->op_type = (char *)op;
    n->name = (char *)name;
    n->n_input = (size_t)n_inputs;
    n->input = in;
    n->n_output = 1;
    n->output = out;
    push(b, (void ***)&b->graph.node, &b->graph.n_node, &b->cap_nodes, n);
    return n;
}

static Onnx__AttributeProto *add_attr(builder *b, Onnx__NodeProto *n, const char *name, int type)
{
    if (!n) return NULL;
    Onnx__AttributeProto *a = bnew(b, sizeof *a);
    Onnx__AttributeProto **list = bnew(b, (n->n_attribute + 1) * sizeof *list);
    if (!a || !list) return NULL;
    onnx__attribute_proto__init(a);
    a->name = (char *)name;
    a->has_type = 1;
    a->type = (Onnx__AttributeProto__AttributeType)type;
    if (n->n_attribute) memcpy(list, n->attribute, n->n_attribute * sizeof *list);
    list[n->n_attribute++] = a;
    n->attribute = list;   /* the old list stays owned by the builder */
    return a;
}

static void attr_int(builder *b, Onnx__NodeProto *n, const char *name, int64_t v)
{
    Onnx__AttributeProto *a = add_attr(b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    if (!a) return;
    a->has_i = 1;
    a->i = v;
}

static void attr_float(builder *b, Onnx__NodeProto *n, const char *name, float v)
{
    Onnx__AttributeProto *a = add_attr(b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    if (!a) return;
    a->has_f = 1;
    a->f = v;
}

static void attr_ints(builder *b, Onnx__NodeProto *n, const char *name, size_t count, const int64_t *v)
{
    Onnx__AttributeProto *a = add_attr(b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    int64_t *copy = bnew(b, count * sizeof *copy);
    if (!a || !copy) return;
    memcpy(copy, v, count * sizeof *copy);
    a->n_ints = count;
    a->ints = copy;
}

/* A graph input or output: a float tensor of the given dims. */
static Onnx__ValueInfoProto *value_info(builder *b, const char *name, int rank, const int64_t *dims)
{
    Onnx__ValueInfoProto *v = bnew(b, sizeof *v);
    Onnx__TypeProto *t = bnew(b, sizeof *t);
    Onnx__TypeProto__Tensor *tt = bnew(b, sizeof *tt);
    Onnx__TensorShapeProto *s = bnew(b, sizeof *s);
    Onnx__TensorShapeProto__Dimension **d = bnew(b, (size_t)rank * sizeof *d);
    if (!v || !t || !tt || !s || !d) return NULL;
    onnx__value_info_proto__init(v);
    onnx__type_proto__init(t);
    onnx__type_proto__tensor__init(tt);
    onnx__tensor_shape_proto__init(s);
    for (int i = 0; i < rank; i++) {
        d[i] = bnew(b, sizeof *d[i]);
        if (!d[i]) return NULL;
        onnx__tensor_shape_proto__dimension__init(d[i]);
        d[i]->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
        d[i]->dim_value = dims[i];
    }
    s->n_dim = (size_t)rank;
    s->dim = d;
    tt->has_elem_type = 1;
    tt->elem_type = MCO_ONNX_FLOAT;
    tt->shape = s;
    t->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    t->tensor_type = tt;
    v->name = (char *)name;
    v->type = t;
    return v;
}

/* ---- Layers ---- */

/* What the export knows of each tensor: ONNX rank and the flattened shape
 * a Dense must undo (as the importer tracks it). */
typedef struct {
    const mco_model *m;
    const mco_deploy_model *dm;   /* NULL for a float model */
    int qdq;                      /* int8 activations: Q/DQ after every tensor */
    const char **names;           /* [n_layers]: the name consumers read */
    int *rank;                    /* [n_layers] */
    mco_shape *flat_of;           /* [n_layers] */
    const char *input_name;
    int input_rank;
} export_state;

static const char *input_name(const export_state *s, int input)
{
    return input == MCO_INPUT ? s->input_name : s->names[input];
}

static int input_rank(const export_state *s, int input)
{
    return input == MCO_INPUT ? s->input_rank : s->rank[input];
}

static mco_shape input_flat_of(const export_state *s, int input)
{
    return input == MCO_INPUT ? (mco_shape){0, 0, 0} : s->flat_of[input];
}

/* perm[onnx index] = mcuopt index of the weights of layer i. */
static size_t *weight_permutation(builder *b, const export_state *s, int i)
{
    const mco_layer *l = &s->m->layers[i];
    const mco_param *w = &l->params[MCO_PARAM_WEIGHTS];
    size_t *perm = bnew(b, w->size * sizeof *perm);
    if (!perm) return NULL;
    int kh = l->kernel_h, kw = l->kernel_w, in_c = l->in_shape.c;
    if (l->type == MCO_LAYER_CONV2D) {
        int pg = in_c / (l->groups > 1 ? l->groups : 1);   /* input channels per filter */
        for (int m = 0; m < l->units; m++)
            for (int y = 0; y < kh; y++)
                for (int x = 0; x < kw; x++)
                    for (int c = 0; c < pg; c++)
                        perm[mco_onnx_oihw_index(m, y, x, c, kh, kw, pg)] = mco_onnx_ohwi_index(m, y, x, c, kh, kw, pg);
    } else if (l->type == MCO_LAYER_CONV_TRANSPOSE2D) {   /* ONNX [in_c][out_c][kh][kw] */
        for (int m = 0; m < l->units; m++)
            for (int y = 0; y < kh; y++)
                for (int x = 0; x < kw; x++)
                    for (int c = 0; c < in_c; c++)
                        perm[mco_onnx_oihw_index(c, y, x, m, kh, kw, l->units)] = mco_onnx_ohwi_index(m, y, x, c, kh, kw, in_c);
    } else if (l->type == MCO_LAYER_DEPTHWISE_CONV2D) {
        int out_c = l->out_shape.c;   /* in_c x depth multiplier */
        for (int c = 0; c < out_c; c++)
            for (int y = 0; y < kh; y++)
                for (int x = 0; x < kw; x++)
                    perm[mco_onnx_oihw_index(c, y, x, 0, kh, kw, 1)] = ((size_t)y * (size_t)kw + (size_t)x) * (size_t)out_c + (size_t)c;
    } else {
        mco_shape flat = input_flat_of(s, l->inputs[0]);
        int permute = flat.h * flat.w > 1;
        for (size_t u = 0; u < (size_t)l->units; u++)
            for (size_t k = 0; k < (size_t)in_c; k++)
                perm[u * (size_t)in_c + (permute ? mco_onnx_flat_index(k, flat) : k)] = u * (size_t)in_c + k;
    }
    return perm;
}

/* ONNX dims of layer i's weights. */
static int weight_dims(const mco_layer *l, int64_t dims[4])
{
    if (l->type == MCO_LAYER_DENSE) {
        dims[0] = l->units;
        dims[1] = l->in_shape.c;
        return 2;
    }
    if (l->type == MCO_LAYER_CONV_TRANSPOSE2D) {   /* [in_c][out_c][kh][kw] */
        dims[0] = l->in_shape.c;
        dims[1] = l->units;
        dims[2] = l->kernel_h;
        dims[3] = l->kernel_w;
        return 4;
    }
    int depthwise = l->type == MCO_LAYER_DEPTHWISE_CONV2D;
    dims[0] = depthwise ? l->out_shape.c : l->units;
    dims[1] = depthwise ? 1 : l->in_shape.c / (l->groups > 1 ? l->groups : 1);
    dims[2] = l->kernel_h;
    dims[3] = l->kernel_w;
    return 4;
}

/* A per-channel DequantizeLinear of int8 or int32 values along `axis`;
 * returns its output. */
static const char *dequantize_along(builder *b, const char *base, int type, int rank, const int64_t *dims,
                                    const void *values, size_t count, const float *scales, int channels, int axis)
{
    size_t elem = type == MCO_ONNX_INT8 ? 1 : 4;
    void *zeros = bnew(b, (size_t)channels * elem);
    int64_t cdims[1] = {channels};
    const char *in[3] = {
        add_initializer(b, bstr(b, "%s_quantized", base), type, rank, dims, values, count, elem),
        add_floats(b, bstr(b, "%s_scale", base), 1, cdims, scales, (size_t)channels),
        zeros ? add_initializer(b, bstr(b, "%s_zero_point", base), type, 1, cdims, zeros, (size_t)channels, elem) : NULL};
    const char *out = bstr(b, "%s", base);
    Onnx__NodeProto *n = add_node(b, "DequantizeLinear", bstr(b, "%s_dequantize", base), 3, in, out);
    attr_int(b, n, "axis", axis);
    return out;
}

/* The same along axis 0 (a Conv's or Gemm's output channels, a bias). */
static const char *dequantize_per_channel(builder *b, const char *base, int type, int rank, const int64_t *dims,
                                          const void *values, size_t count, const float *scales, int channels)
{
    return dequantize_along(b, base, type, rank, dims, values, count, scales, channels, 0);
}

/* The weights and bias inputs of weighted layer i: float initializers, or
 * int8 / int32 ones behind DequantizeLinear. */
static void weight_inputs(builder *b, const export_state *s, int i, const char *base, const char **w_name,
                          const char **b_name)
{
    const mco_layer *l = &s->m->layers[i];
    const mco_param *w = &l->params[MCO_PARAM_WEIGHTS], *bias = &l->params[MCO_PARAM_BIAS];
    const mco_deploy_layer *d = s->dm ? &s->dm->layers[i] : NULL;
    int quantized = d && (d->weight_format == MCO_WEIGHTS_S8 || d->weight_format == MCO_WEIGHTS_S4);
    int64_t dims[4], bdims[1] = {(int64_t)bias->size};
    int rank = weight_dims(l, dims);
    size_t *perm = weight_permutation(b, s, i);
    void *ordered = bnew(b, w->size * (quantized ? sizeof(int8_t) : sizeof(float)));
    if (!perm || !ordered) return;
    for (size_t k = 0; k < w->size; k++) {
        if (quantized) ((int8_t *)ordered)[k] = d->weights_q[perm[k]];
        else ((float *)ordered)[k] = w->data[perm[k]];
    }
    if (!quantized) {
        *w_name = add_floats(b, bstr(b, "%s.weight", base), rank, dims, ordered, w->size);
        *b_name = add_floats(b, bstr(b, "%s.bias", base), 1, bdims, bias->data, bias->size);
        return;
    }
    /* a ConvTranspose's output channels are axis 1 of its weights */
    *w_name = dequantize_along(b, bstr(b, "%s.weight", base), MCO_ONNX_INT8, rank, dims, ordered, w->size,
                               d->weight_scales, d->n_channels, l->type == MCO_LAYER_CONV_TRANSPOSE2D);
    if (!s->qdq || !d->bias_q) {
        *b_name = add_floats(b, bstr(b, "%s.bias", base), 1, bdims, bias->data, bias->size);
        return;
    }
    float *bias_scales = bnew(b, (size_t)d->n_channels * sizeof *bias_scales);
    if (!bias_scales) return;
    double in_scale = l->inputs[0] == MCO_INPUT ? s->dm->input.scale : s->dm->layers[l->inputs[0]].output.scale;
    for (int c = 0; c < d->n_channels; c++) bias_scales[c] = (float)(in_scale * d->weight_scales[c]);
    *b_name = dequantize_per_channel(b, bstr(b, "%s.bias", base), MCO_ONNX_INT32, 1, bdims, d->bias_q, bias->size,
                                     bias_scales, d->n_channels);
}

/* Kernel, strides and padding: TensorFlow "same" is ONNX's auto_pad
 * SAME_UPPER (the extra row / column at the bottom / right); explicit
 * padding is ONNX's pads [top, left, bottom, right] (floor rounding, as
 * mcuopt's). */
static void window_attrs(builder *b, Onnx__NodeProto *n, const mco_layer *l)
{
    int64_t kernel[2] = {l->kernel_h, l->kernel_w}, strides[2] = {l->stride_h, l->stride_w};
    attr_ints(b, n, "kernel_shape", 2, kernel);
    attr_ints(b, n, "strides", 2, strides);
    if (l->padding == MCO_PADDING_EXPLICIT) {
        int64_t pads[4] = {l->pad_top, l->pad_left, l->pad_bottom, l->pad_right};
        attr_ints(b, n, "pads", 4, pads);
        return;
    }
    Onnx__AttributeProto *a = add_attr(b, n, "auto_pad", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
    if (!a) return;
    const char *pad = l->padding == MCO_PADDING_SAME ? "SAME_UPPER" : "VALID";
    a->has_s = 1;
    a->s.data = (uint8_t *)pad;
    a->s.len = strlen(pad);
}

/* Quantize-dequantize of `name` with qparams q; returns the dequantized name. */
static const char *add_qdq(builder *b, const char *name, mco_qparams q)
{
    int8_t zp = (int8_t)q.zero_point;
    const char *scale = add_scalar_float(b, bstr(b, "%s_scale", name), q.scale);
    const char *zero = add_initializer(b, bstr(b, "%s_zero_point", name), MCO_ONNX_INT8, 0, NULL, &zp, 1, 1);
    const char *quantized = bstr(b, "%s_quantized", name), *out = bstr(b, "%s_dequantized", name);
    const char *q_in[3] = {name, scale, zero}, *dq_in[3] = {quantized, scale, zero};
    add_node(b, "QuantizeLinear", bstr(b, "%s_quantize", name), 3, q_in, quantized);
    add_node(b, "DequantizeLinear", bstr(b, "%s_dequantize", name), 3, dq_in, out);
    return out;
}

/* mcuopt's int8 average pools (and global average pools that keep their
 * input's quantization) round the mean of the raw int8 values half away
 * from zero, as TFLite's; a QuantizeLinear after a float AveragePool rounds
 * half to even. So that an ONNX runtime gives mcuopt's integers, the mean
 * y is moved a quarter of 1 / count of a step away from the raw zero
 * before it is quantized: y + Sign(y + scale x zero point) x scale /
 * (4 count). A tie then rounds away from zero, and nothing else moves
 * across a rounding boundary (the mean of count integers is at least
 * 1 / (2 count) of a step from one unless it is a tie). Returns the name of
 * the nudged value. */
static const char *round_half_away(builder *b, const char *y, mco_qparams q, int count)
{
    const char *raw_zero[2] = {y, add_scalar_float(b, bstr(b, "%s.raw_zero", y), q.scale * (float)q.zero_point)};
    const char *raw = bstr(b, "%s:raw", y), *sign = bstr(b, "%s:sign", y), *nudge = bstr(b, "%s:nudge", y);
    add_node(b, "Add", bstr(b, "%s_raw", y), 2, raw_zero, raw);
    add_node(b, "Sign", bstr(b, "%s_sign", y), 1, &raw, sign);
    const char *step[2] = {sign, add_scalar_float(b, bstr(b, "%s.quarter_step", y), q.scale / (4.0f * (float)count))};
    add_node(b, "Mul", bstr(b, "%s_nudge", y), 2, step, nudge);
    const char *sum[2] = {y, nudge}, *out = bstr(b, "%s:half_away", y);
    add_node(b, "Add", bstr(b, "%s_half_away", y), 2, sum, out);
    return out;
}

/* mcuopt's (TFLite's) requantization of an accumulator (a Conv's, a
 * Gemm's, a requantizing global pool's sum) with a right shift e = -shift
 * rounds twice (the doubling high multiply, then the rounding shift): it
 * computes floor(acc M + 1/2 +- 2^-(e+1)), + for acc >= 0
 * (runtime/mco_fixed_point.h). A QuantizeLinear rounds the exact value. So
 * the export adds Sign(y) x output scale x 2^-(e+1) per channel to the
 * layer's float output y before quantizing it (Sign, Mul, Add); a left
 * shift rounds once and gets 0. `shift` holds one value per channel, or
 * one for all (n_shift 1). Returns the nudged value. */
static const char *round_as_requantize(builder *b, const char *y, mco_qparams out, const int32_t *shift, int n_shift,
                                       int channels, int rank)
{
    float *nudge = bnew(b, (size_t)channels * sizeof *nudge);
    if (!nudge) return y;
    for (int c = 0; c < channels; c++) {
        int32_t sh = shift[n_shift > 1 ? c : 0];
        nudge[c] = sh < 0 ? (float)ldexp((double)out.scale, sh - 1) : 0.0f;
    }
    int64_t dims[4] = {1, channels, 1, 1};
    const char *sign = bstr(b, "%s:sign", y), *step = bstr(b, "%s:nudge", y);
    add_node(b, "Sign", bstr(b, "%s_sign", y), 1, &y, sign);
    const char *mul[2] = {sign, add_floats(b, bstr(b, "%s.double_rounding", y), rank, dims, nudge, (size_t)channels)};
    add_node(b, "Mul", bstr(b, "%s_nudge", y), 2, mul, step);
    const char *sum[2] = {y, step}, *nudged = bstr(b, "%s:requantized", y);
    add_node(b, "Add", bstr(b, "%s_requantized", y), 2, sum, nudged);
    return nudged;
}

/* The rounding mcuopt's int8 kernel of layer i applies, carried into the
 * graph before its QuantizeLinear (round_half_away, round_as_requantize);
 * `out` when there is none to carry. */
static const char *carry_rounding(builder *b, const export_state *s, int i, const char *out, int rank)
{
    const mco_layer *l = &s->m->layers[i];
    const mco_deploy_layer *d = &s->dm->layers[i];
    int pool = l->type == MCO_LAYER_AVGPOOL2D || l->type == MCO_LAYER_GLOBAL_AVGPOOL;
    if (pool && !d->multiplier) {   /* the pools that keep their input's quantization */
        int count = l->type == MCO_LAYER_AVGPOOL2D ? l->kernel_h * l->kernel_w : l->in_shape.h * l->in_shape.w;
        return round_half_away(b, out, d->output, count);
    }
    if (l->type == MCO_LAYER_GLOBAL_AVGPOOL && d->multiplier && d->shift) {   /* TFLite's MEAN */
        int32_t m, shift;
        if (mco_quant_mean_params(d->multiplier[0], d->shift[0], (int64_t)l->in_shape.h * l->in_shape.w, &m,
                                  &shift) != MCO_OK) {
            mco_clear_error();   /* the planner refuses such a layer with its own message */
            return out;
        }
        return round_as_requantize(b, out, d->output, &shift, 1, l->in_shape.c, rank);
    }
    if (mco_deploy_is_weighted(l) && d->multiplier && d->shift)
        return round_as_requantize(b, out, d->output, d->shift, d->n_channels, d->n_channels, rank);
    return out;
}

/* The node(s) of layer i. */
static mco_status export_layer(builder *b, export_state *s, int i)
{
    const mco_layer *l = &s->m->layers[i];
    const char *node_name = bstr(b, "%s", l->name);
    const char *out = i == s->m->n_layers - 1 && !s->qdq ? "output" : bstr(b, "%s:%d", l->name, i);
    const char *x = input_name(s, l->inputs[0]);
    int rank = input_rank(s, l->inputs[0]);
    mco_shape flat = input_flat_of(s, l->inputs[0]);
    const char *w = NULL, *bias = NULL;
    Onnx__NodeProto *n = NULL;
    switch (l->type) {
    case MCO_LAYER_CONV2D:
    case MCO_LAYER_DEPTHWISE_CONV2D: {
        weight_inputs(b, s, i, out, &w, &bias);
        const char *in[3] = {x, w, bias};
        n = add_node(b, "Conv", node_name, 3, in, out);
        window_attrs(b, n, l);
        if (l->type == MCO_LAYER_DEPTHWISE_CONV2D) attr_int(b, n, "group", l->in_shape.c);
        if (l->type == MCO_LAYER_CONV2D && l->groups > 1) attr_int(b, n, "group", l->groups);
        if (l->dilation_h > 1 || l->dilation_w > 1) {
            int64_t dilations[2] = {l->dilation_h, l->dilation_w};
            attr_ints(b, n, "dilations", 2, dilations);
        }
        rank = 4;
        break;
    }
    case MCO_LAYER_CONV_TRANSPOSE2D: {
        weight_inputs(b, s, i, out, &w, &bias);
        const char *in[3] = {x, w, bias};
        n = add_node(b, "ConvTranspose", node_name, 3, in, out);
        /* always explicit pads (valid: zeros), as PyTorch writes them */
        int64_t kernel[2] = {l->kernel_h, l->kernel_w}, strides[2] = {l->stride_h, l->stride_w};
        int64_t pads[4] = {l->pad_top, l->pad_left, l->pad_bottom, l->pad_right};
        int64_t out_pad[2] = {l->output_pad_h, l->output_pad_w};
        attr_ints(b, n, "kernel_shape", 2, kernel);
        attr_ints(b, n, "strides", 2, strides);
        attr_ints(b, n, "pads", 4, pads);
        if (l->output_pad_h || l->output_pad_w) attr_ints(b, n, "output_padding", 2, out_pad);
        rank = 4;
        break;
    }
    case MCO_LAYER_DENSE: {
        if (rank == 4) {   /* a 1 x 1 x C input (after a global pool): Gemm takes [N, C] */
            int64_t axes[2] = {2, 3}, dims[1] = {2};
            const char *in[2] = {x, add_initializer(b, bstr(b, "%s.squeeze_axes", out), MCO_ONNX_INT64, 1, dims, axes,
                                                    2, sizeof axes[0])};
            x = bstr(b, "%s:squeezed", out);
            add_node(b, "Squeeze", bstr(b, "%s_squeeze", node_name), 2, in, x);
        }
        weight_inputs(b, s, i, out, &w, &bias);
        const char *in[3] = {x, w, bias};
        n = add_node(b, "Gemm", node_name, 3, in, out);
        attr_int(b, n, "transB", 1);
        rank = 2;
        flat = (mco_shape){0, 0, 0};
        break;
    }
    case MCO_LAYER_MAXPOOL2D:
    case MCO_LAYER_AVGPOOL2D:
        n = add_node(b, l->type == MCO_LAYER_MAXPOOL2D ? "MaxPool" : "AveragePool", node_name, 1, &x, out);
        window_attrs(b, n, l);
        if (l->count_pad) attr_int(b, n, "count_include_pad", 1);
        break;
    case MCO_LAYER_GLOBAL_AVGPOOL:
        add_node(b, "GlobalAveragePool", node_name, 1, &x, out);
        break;
    case MCO_LAYER_RELU:
        add_node(b, "Relu", node_name, 1, &x, out);
        break;
    case MCO_LAYER_RELU6: {
        const char *in[3] = {x, add_scalar_float(b, bstr(b, "%s.min", out), 0.0f),
                             add_scalar_float(b, bstr(b, "%s.max", out), 6.0f)};
        add_node(b, "Clip", node_name, 3, in, out);
        break;
    }
    case MCO_LAYER_BATCHNORM: {
        static const char *const suffix[4] = {"scale", "bias", "mean", "var"};
        const char *in[5] = {x};
        int64_t dims[1] = {l->in_shape.c};
        for (int p = 0; p < 4; p++)
            in[p + 1] = add_floats(b, bstr(b, "%s.%s", out, suffix[p]), 1, dims, l->params[p].data, l->params[p].size);
        n = add_node(b, "BatchNormalization", node_name, 5, in, out);
        attr_float(b, n, "epsilon", l->epsilon);
        attr_float(b, n, "momentum", l->momentum);
        break;
    }
    case MCO_LAYER_ADD: {
        const char *in[2] = {x, input_name(s, l->inputs[1])};
        add_node(b, "Add", node_name, 2, in, out);
        break;
    }
    case MCO_LAYER_CONCAT: {   /* along the channels: axis 1 of NCHW (or of [N, features]) */
        const char *in[2] = {x, input_name(s, l->inputs[1])};
        n = add_node(b, "Concat", node_name, 2, in, out);
        attr_int(b, n, "axis", 1);
        break;
    }
    case MCO_LAYER_FLATTEN:
        n = add_node(b, "Flatten", node_name, 1, &x, out);
        attr_int(b, n, "axis", 1);
        if (rank == 4) flat = l->in_shape;
        rank = 2;
        break;
    case MCO_LAYER_SOFTMAX:
        n = add_node(b, "Softmax", node_name, 1, &x, out);
        attr_int(b, n, "axis", 1);
        break;
    case MCO_LAYER_SIGMOID:
        add_node(b, "Sigmoid", node_name, 1, &x, out);
        break;
    case MCO_LAYER_TANH:
        add_node(b, "Tanh", node_name, 1, &x, out);
        break;
    case MCO_LAYER_LEAKY_RELU:
        n = add_node(b, "LeakyRelu", node_name, 1, &x, out);
        attr_float(b, n, "alpha", l->alpha);
        break;
    case MCO_LAYER_HARD_SIGMOID:
        n = add_node(b, "HardSigmoid", node_name, 1, &x, out);
        attr_float(b, n, "alpha", l->alpha);
        attr_float(b, n, "beta", l->beta);
        break;
    case MCO_LAYER_HARD_SWISH: {   /* HardSwish is opset 14: x * HardSigmoid(x), as PyTorch writes it before */
        const char *in[2] = {x, bstr(b, "%s:hard_sigmoid", out)};
        n = add_node(b, "HardSigmoid", bstr(b, "%s_hard_sigmoid", node_name), 1, &x, in[1]);
        attr_float(b, n, "alpha", 1.0f / 6.0f);
        attr_float(b, n, "beta", 0.5f);
        add_node(b, "Mul", node_name, 2, in, out);
        break;
    }
    case MCO_LAYER_DROPOUT: {
        const char *in[2] = {x, add_scalar_float(b, bstr(b, "%s.ratio", out), l->rate)};
        add_node(b, "Dropout", node_name, 2, in, out);
        break;
    }
    default:
        return mco_error(MCO_ERR_UNSUPPORTED, "layer %d (%s): type %s cannot be exported", i, l->name,
                         mco_layer_type_name(l->type));
    }
    s->rank[i] = rank;
    s->flat_of[i] = flat;
    if (s->qdq) out = carry_rounding(b, s, i, out, rank);
    s->names[i] = s->qdq ? add_qdq(b, out, s->dm->layers[i].output) : out;
    return MCO_OK;
}

/* The model input is [1, C, H, W], or [1, C] when it is 1 x 1 x C and only
 * Dense layers read it. */
static int model_input_rank(const mco_model *m)
{
    if (m->input_shape.h != 1 || m->input_shape.w != 1) return 4;
    for (int i = 0; i < m->n_layers; i++)
        for (int k = 0; k < m->layers[i].n_inputs; k++)
            if (m->layers[i].inputs[k] == MCO_INPUT && m->layers[i].type != MCO_LAYER_DENSE) return 4;
    return 2;
}

static void set_metadata(builder *b, const mco_model *m)
{
    size_t n = m->loss == MCO_LOSS_MSE ? 2 : 1;
    Onnx__StringStringEntryProto *e = bnew(b, n * sizeof *e);
    Onnx__StringStringEntryProto **list = bnew(b, n * sizeof *list);
    if (!e || !list) return;
    for (size_t i = 0; i < n; i++) {
        onnx__string_string_entry_proto__init(&e[i]);
        list[i] = &e[i];
    }
    e[0].key = "mcuopt.normalization";
    e[0].value = bstr(b, "%.9g,%.9g,%.9g", (double)m->norm.scale, (double)m->norm.mean, (double)m->norm.std);
    if (n == 2) {
        e[1].key = "mcuopt.loss";
        e[1].value = "mse";
    }
    b->model.n_metadata_props = n;
    b->model.metadata_props = list;
}

static mco_status serialize(const mco_model *m, const mco_deploy_model *dm, uint8_t **bytes, size_t *size)
{
    *bytes = NULL;
    *size = 0;
    if (m->n_layers < 1) return mco_error(MCO_ERR_ARG, "export: the model has no layers");
    builder b;
    builder_init(&b);
    export_state s = {m, dm, dm && dm->activation_format == MCO_ACT_S8, NULL, NULL, NULL, "input",
                      model_input_rank(m)};
    s.names = bnew(&b, (size_t)m->n_layers * sizeof *s.names);
    s.rank = bnew(&b, (size_t)m->n_layers * sizeof *s.rank);
    s.flat_of = bnew(&b, (size_t)m->n_layers * sizeof *s.flat_of);
    mco_shape in = m->input_shape, out = m->layers[m->n_layers - 1].out_shape;
    int64_t in_dims[4] = {1, in.c, in.h, in.w};
    Onnx__ValueInfoProto *input = value_info(&b, "input", s.input_rank, in_dims);
    if (s.qdq) s.input_name = add_qdq(&b, "input", dm->input);
    mco_status st = MCO_OK;
    for (int i = 0; st == MCO_OK && !b.out_of_memory && i < m->n_layers; i++) st = export_layer(&b, &s, i);
    if (st == MCO_OK && s.qdq) {   /* the graph output is the last dequantized tensor, renamed */
        const char *in_name = s.names[m->n_layers - 1];
        add_node(&b, "Identity", "output_identity", 1, &in_name, "output");
    }
    int out_rank = s.rank ? s.rank[m->n_layers - 1] : 4;
    int64_t out_dims[4] = {1, out.c, out.h, out.w};
    Onnx__ValueInfoProto *output = value_info(&b, "output", out_rank, out_dims);
    Onnx__ValueInfoProto **inputs = bnew(&b, sizeof *inputs), **outputs = bnew(&b, sizeof *outputs);
    Onnx__OperatorSetIdProto *opset = bnew(&b, sizeof *opset);
    Onnx__OperatorSetIdProto **opsets = bnew(&b, sizeof *opsets);
    if (st == MCO_OK && !b.out_of_memory) {
        inputs[0] = input;
        outputs[0] = output;
        b.graph.name = bstr(&b, "%s", m->arch_name[0] ? m->arch_name : "mcuopt");
        b.graph.n_input = b.graph.n_output = 1;
        b.graph.input = inputs;
        b.graph.output = outputs;
        onnx__operator_set_id_proto__init(opset);
        opset->domain = "";
        opset->has_version = 1;
        opset->version = EXPORT_OPSET;
        opsets[0] = opset;
        b.model.has_ir_version = 1;
        b.model.ir_version = EXPORT_IR_VERSION;
        b.model.n_opset_import = 1;
        b.model.opset_import = opsets;
        b.model.producer_name = "mcuopt";
        b.model.producer_version = MCO_VERSION;
        b.model.graph = &b.graph;
        set_metadata(&b, m);
    }
    if (st == MCO_OK && b.out_of_memory) st = mco_error(MCO_ERR_NOMEM, "export: out of memory");
    if (st == MCO_OK) {
        *size = onnx__model_proto__get_packed_size(&b.model);
        *bytes = malloc(*size ? *size : 1);
        if (!*bytes) st = mco_error(MCO_ERR_NOMEM, "export: out of memory");
        else onnx__model_proto__pack(&b.model, *bytes);
    }
    builder_free(&b);
    return st;
}

mco_status mco_onnx_serialize_model(const mco_model *model, uint8_t **bytes, size_t *size)
{
    return serialize(model, NULL, bytes, size);
}

mco_status mco_onnx_serialize_deploy(const mco_deploy_model *dm, uint8_t **bytes, size_t *size)
{
    for (int i = 0; i < dm->model.n_layers; i++) {
        const mco_deploy_layer *d = &dm->layers[i];
        if (mco_deploy_is_weighted(&dm->model.layers[i]) && d->weight_format == MCO_WEIGHTS_F16)
            return mco_error(MCO_ERR_UNSUPPORTED, "export: layer %d (%s) has float16 weights, which ONNX export does "
                             "not support", i, dm->model.layers[i].name);
    }
    return serialize(&dm->model, dm, bytes, size);
}

static mco_status write_file(mco_status st, uint8_t *bytes, size_t size, const char *path)
{
    if (st == MCO_OK) st = mco_write_file_atomic(path, bytes, size);
    free(bytes);
    return st;
}

mco_status mco_onnx_export_model(const mco_model *model, const char *path)
{
    uint8_t *bytes;
    size_t size;
    mco_status st = mco_onnx_serialize_model(model, &bytes, &size);
    return write_file(st, bytes, size, path);
}

mco_status mco_onnx_export_deploy(const mco_deploy_model *dm, const char *path)
{
    uint8_t *bytes;
    size_t size;
    mco_status st = mco_onnx_serialize_deploy(dm, &bytes, &size);
    return write_file(st, bytes, size, path);
}
