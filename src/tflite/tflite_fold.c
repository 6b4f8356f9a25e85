/*
 * tflite_fold.c - constant tensors of a TFLite graph and the folding of
 * the operators computed on them (see tflite_fold.h). Values are read with
 * memcpy from the file image (TFLite stores them little-endian, as the
 * hosts mcuopt runs on; see src/core/model_file.c).
 *
 * What it leaves out: STRIDED_SLICE other than on one axis without
 * ellipsis / new-axis masks, PACK and CONCATENATION other than along axis
 * 0 of scalars or vectors (the forms of a shape computation).
 */
#include "tflite_fold.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mco_runtime.h"

mco_status mco_tfl_consts_init(mco_tfl_consts *c, const mco_tfl_graph *g, const char *origin)
{
    c->g = g;
    c->origin = origin;
    c->ints = calloc((size_t)(g->n_tensors > 0 ? g->n_tensors : 1), sizeof *c->ints);
    c->floats = calloc((size_t)(g->n_tensors > 0 ? g->n_tensors : 1), sizeof *c->floats);
    if (!c->ints || !c->floats) {
        mco_tfl_consts_free(c);
        return mco_error(MCO_ERR_NOMEM, "%s: out of memory", origin);
    }
    return MCO_OK;
}

void mco_tfl_consts_free(mco_tfl_consts *c)
{
    for (int t = 0; c->g && t < c->g->n_tensors; t++) {
        if (c->ints) free(c->ints[t]);
        if (c->floats) free(c->floats[t]);
    }
    free(c->ints);
    free(c->floats);
    c->ints = NULL;
    c->floats = NULL;
}

size_t mco_tfl_count(const mco_tfl_graph *g, int t)
{
    size_t n = 1;
    for (int d = 0; d < g->tensors[t].ndim; d++) n *= (size_t)g->tensors[t].dims[d];
    return n;
}

int mco_tfl_is_const(const mco_tfl_consts *c, int t)
{
    return t >= 0 && (c->g->tensors[t].data || c->ints[t] || c->floats[t]);
}

static const char *op_label(int code)
{
    const char *name = mco_tfl_op_name(code);
    return name ? name : "operator";
}

mco_status mco_tfl_const_ints(const mco_tfl_consts *c, int t, int64_t *out, size_t cap, size_t *n)
{
    const mco_tfl_tensor *tt = &c->g->tensors[t];
    size_t count = mco_tfl_count(c->g, t);
    if (count > cap)
        return mco_error(MCO_ERR_UNSUPPORTED, "%s: tensor %d (%s): %zu values where at most %zu are expected",
                         c->origin, t, tt->name, count, cap);
    if (c->ints[t]) {
        memcpy(out, c->ints[t], count * sizeof *out);
    } else if (tt->data && tt->type == MCO_TFL_INT32) {
        for (size_t k = 0; k < count; k++) {
            int32_t v;
            memcpy(&v, tt->data + 4 * k, 4);
            out[k] = v;
        }
    } else if (tt->data && tt->type == MCO_TFL_INT64) {
        memcpy(out, tt->data, count * 8);
    } else {
        return mco_error(MCO_ERR_UNSUPPORTED, "%s: tensor %d (%s): expected constant integers, found %s %s",
                         c->origin, t, tt->name, tt->data ? "constant" : "computed", mco_tfl_type_name(tt->type));
    }
    *n = count;
    return MCO_OK;
}

/* Index along `dim` of flat element k of a tensor. */
static size_t index_along(const mco_tfl_tensor *t, size_t k, int dim)
{
    size_t inner = 1;
    for (int d = t->ndim - 1; d > dim; d--) inner *= (size_t)t->dims[d];
    return (k / inner) % (size_t)t->dims[dim];
}

mco_status mco_tfl_const_floats(const mco_tfl_consts *c, int t, float *out, size_t n)
{
    const mco_tfl_tensor *tt = &c->g->tensors[t];
    if (mco_tfl_count(c->g, t) != n)
        return mco_error(MCO_ERR_SHAPE, "%s: tensor %d (%s) holds %zu values, %zu expected", c->origin, t, tt->name,
                         mco_tfl_count(c->g, t), n);
    if (c->floats[t]) {
        memcpy(out, c->floats[t], n * sizeof *out);
        return MCO_OK;
    }
    if (!tt->data)
        return mco_error(MCO_ERR_UNSUPPORTED, "%s: tensor %d (%s) is computed, a constant is expected", c->origin, t,
                         tt->name);
    switch (tt->type) {
    case MCO_TFL_FLOAT32:
        memcpy(out, tt->data, n * sizeof *out);
        break;
    case MCO_TFL_FLOAT16:
        for (size_t k = 0; k < n; k++) {
            uint16_t h;
            memcpy(&h, tt->data + 2 * k, 2);
            out[k] = mco_f16_to_f32(h);
        }
        break;
    case MCO_TFL_INT8:
    case MCO_TFL_UINT8:
        if (tt->n_quant == 0)
            return mco_error(MCO_ERR_FORMAT, "%s: tensor %d (%s): %s constant without quantization", c->origin, t,
                             tt->name, mco_tfl_type_name(tt->type));
        for (size_t k = 0; k < n; k++) {
            size_t q = tt->n_quant > 1 ? index_along(tt, k, tt->quant_dim) : 0;
            int32_t v = tt->type == MCO_TFL_INT8 ? (int32_t)(int8_t)tt->data[k] : (int32_t)tt->data[k];
            out[k] = tt->scales[q] * (float)((int64_t)v - tt->zero_points[q]);
        }
        break;
    default:
        return mco_error(MCO_ERR_UNSUPPORTED, "%s: tensor %d (%s): %s constants cannot be used as weights",
                         c->origin, t, tt->name, mco_tfl_type_name(tt->type));
    }
    for (size_t k = 0; k < n; k++)
        if (!isfinite(out[k]))
            return mco_error(MCO_ERR_FORMAT, "%s: tensor %d (%s): value %zu is not finite", c->origin, t, tt->name, k);
    return MCO_OK;
}

/* ---- folding ------------------------------------------------------------- */

#define FOLD_MAX 64   /* values of a folded integer tensor (shapes and their parts) */

static mco_status set_ints(mco_tfl_consts *c, int k, int t, const int64_t *v, size_t n)
{
    const mco_tfl_tensor *tt = &c->g->tensors[t];
    if (tt->type != MCO_TFL_INT32 && tt->type != MCO_TFL_INT64)
        return mco_error(MCO_ERR_FORMAT, "%s: operator %d (%s): integer result in a %s tensor", c->origin, k,
                         op_label(c->g->ops[k].code), mco_tfl_type_name(tt->type));
    if (mco_tfl_count(c->g, t) != n)
        return mco_error(MCO_ERR_SHAPE, "%s: operator %d (%s): %zu values computed for a tensor of %zu", c->origin,
                         k, op_label(c->g->ops[k].code), n, mco_tfl_count(c->g, t));
    free(c->ints[t]);
    c->ints[t] = malloc((n ? n : 1) * sizeof *c->ints[t]);
    if (!c->ints[t]) return mco_error(MCO_ERR_NOMEM, "%s: out of memory", c->origin);
    memcpy(c->ints[t], v, n * sizeof *v);
    return MCO_OK;
}

/* Python-style slice bounds of one axis of length `len`, as TensorFlow's StridedSlice. */
static int64_t clamp_index(int64_t i, int64_t len, int64_t stride, int is_end)
{
    if (i < 0) i += len;
    if (stride > 0) return i < 0 ? 0 : i > len ? len : i;
    (void)is_end;
    return i < -1 ? -1 : i > len - 1 ? len - 1 : i;
}

static mco_status fold_strided_slice(mco_tfl_consts *c, int k)
{
    const mco_tfl_op *op = &c->g->ops[k];
    int64_t x[FOLD_MAX], b[4], e[4], s[4], out[FOLD_MAX];
    size_t nx, nb, ne, ns, n = 0;
    mco_status st = mco_tfl_const_ints(c, op->inputs[0], x, FOLD_MAX, &nx);
    if (st == MCO_OK) st = mco_tfl_const_ints(c, op->inputs[1], b, 4, &nb);
    if (st == MCO_OK) st = mco_tfl_const_ints(c, op->inputs[2], e, 4, &ne);
    if (st == MCO_OK && op->n_inputs > 3 && op->inputs[3] >= 0) st = mco_tfl_const_ints(c, op->inputs[3], s, 4, &ns);
    else ns = 1, s[0] = 1;
    if (st != MCO_OK) return st;
    if (c->g->tensors[op->inputs[0]].ndim != 1 || nb != 1 || ne != 1 || ns != 1 || op->ellipsis_mask ||
        op->new_axis_mask || op->offset || s[0] == 0)
        return mco_error(MCO_ERR_UNSUPPORTED, "%s: operator %d (STRIDED_SLICE): only slices of one vector of constants "
                         "are folded", c->origin, k);
    int64_t len = (int64_t)nx, stride = s[0];
    int64_t begin = op->begin_mask & 1 ? (stride > 0 ? 0 : len - 1) : clamp_index(b[0], len, stride, 0);
    int64_t end = op->end_mask & 1 ? (stride > 0 ? len : -1) : clamp_index(e[0], len, stride, 1);
    if (op->shrink_axis_mask & 1) {
        int64_t i = b[0] < 0 ? b[0] + len : b[0];
        if (i < 0 || i >= len)
            return mco_error(MCO_ERR_FORMAT, "%s: operator %d (STRIDED_SLICE): index %lld outside a vector of %lld",
                             c->origin, k, (long long)b[0], (long long)len);
        out[n++] = x[i];
    } else {
        for (int64_t i = begin; stride > 0 ? i < end : i > end; i += stride) out[n++] = x[i];
    }
    return set_ints(c, k, op->outputs[0], out, n);
}

/* PACK or CONCATENATION along axis 0 of integer scalars / vectors. */
static mco_status fold_join(mco_tfl_consts *c, int k)
{
    const mco_tfl_op *op = &c->g->ops[k];
    int64_t out[FOLD_MAX];
    size_t n = 0;
    if (op->axis != 0)
        return mco_error(MCO_ERR_UNSUPPORTED, "%s: operator %d (%s): only axis 0 is folded", c->origin, k,
                         op_label(op->code));
    for (int i = 0; i < op->n_inputs; i++) {
        size_t got;
        if (op->inputs[i] < 0) continue;
        mco_status st = mco_tfl_const_ints(c, op->inputs[i], out + n, FOLD_MAX - n, &got);
        if (st != MCO_OK) return st;
        n += got;
    }
    return set_ints(c, k, op->outputs[0], out, n);
}

static mco_status fold_floats(mco_tfl_consts *c, int k, int from, int to)
{
    size_t n = mco_tfl_count(c->g, to);
    /* The output's shape is only a claim: its count must be the constant's
     * (bounded by the file or an earlier fold) before anything is allocated. */
    if (n != mco_tfl_count(c->g, from))
        return mco_error(MCO_ERR_SHAPE, "%s: operator %d (%s): %zu values become %zu", c->origin, k,
                         op_label(c->g->ops[k].code), mco_tfl_count(c->g, from), n);
    if (c->g->tensors[to].type != MCO_TFL_FLOAT32)
        return mco_error(MCO_ERR_UNSUPPORTED, "%s: operator %d (%s): a %s result of constants is not supported",
                         c->origin, k, op_label(c->g->ops[k].code), mco_tfl_type_name(c->g->tensors[to].type));
    float *v = malloc((n ? n : 1) * sizeof *v);
    if (!v) return mco_error(MCO_ERR_NOMEM, "%s: out of memory", c->origin);
    mco_status st = mco_tfl_const_floats(c, from, v, n);
    if (st != MCO_OK) {
        free(v);
        return st;
    }
    free(c->floats[to]);
    c->floats[to] = v;
    return MCO_OK;
}

mco_status mco_tfl_fold(mco_tfl_consts *c, int k, int *folded)
{
    const mco_tfl_graph *g = c->g;
    const mco_tfl_op *op = &g->ops[k];
    *folded = 0;
    if (op->n_outputs != 1) return MCO_OK;
    int out = op->outputs[0];
    if (op->code == MCO_TFL_OP_SHAPE && op->n_inputs >= 1 && op->inputs[0] >= 0) {   /* -1: left out */
        /* The shape of any tensor is known: TFLite files store static shapes. */
        const mco_tfl_tensor *x = &g->tensors[op->inputs[0]];
        int64_t dims[MCO_TFL_MAX_DIMS];
        for (int d = 0; d < x->ndim; d++) dims[d] = x->dims[d];
        *folded = 1;
        return set_ints(c, k, out, dims, (size_t)x->ndim);
    }
    for (int i = 0; i < op->n_inputs; i++)
        if (op->inputs[i] >= 0 && !mco_tfl_is_const(c, op->inputs[i])) return MCO_OK;
    /* the data input (and a slice's begin and end) may not be left out */
    if (op->n_inputs < 1 || op->inputs[0] < 0) return MCO_OK;
    if (op->code == MCO_TFL_OP_STRIDED_SLICE && (op->n_inputs < 3 || op->inputs[1] < 0 || op->inputs[2] < 0))
        return MCO_OK;
    mco_status st = MCO_OK;
    switch (op->code) {
    case MCO_TFL_OP_STRIDED_SLICE: st = fold_strided_slice(c, k); break;
    case MCO_TFL_OP_PACK:
    case MCO_TFL_OP_CONCATENATION:
        if (g->tensors[out].type != MCO_TFL_INT32 && g->tensors[out].type != MCO_TFL_INT64) return MCO_OK;
        st = fold_join(c, k);
        break;
    case MCO_TFL_OP_DEQUANTIZE: st = fold_floats(c, k, op->inputs[0], out); break;
    case MCO_TFL_OP_RESHAPE:
    case MCO_TFL_OP_SQUEEZE:
        if (mco_tfl_count(g, op->inputs[0]) != mco_tfl_count(g, out))
            return mco_error(MCO_ERR_SHAPE, "%s: operator %d (%s): %zu values reshaped to %zu", c->origin, k,
                             op_label(op->code), mco_tfl_count(g, op->inputs[0]), mco_tfl_count(g, out));
        if (g->tensors[out].type == MCO_TFL_INT32 || g->tensors[out].type == MCO_TFL_INT64) {
            int64_t v[FOLD_MAX];
            size_t n;
            st = mco_tfl_const_ints(c, op->inputs[0], v, FOLD_MAX, &n);
            if (st == MCO_OK) st = set_ints(c, k, out, v, n);
        } else {
            st = fold_floats(c, k, op->inputs[0], out);
        }
        break;
    default:
        return MCO_OK;
    }
    if (st == MCO_OK) *folded = 1;
    return st;
}
