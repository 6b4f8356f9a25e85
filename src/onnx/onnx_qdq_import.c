/*
 * onnx_qdq_import.c - an ONNX graph in QDQ form to an int8 deploy model
 * (see mcuopt/onnx_qdq.h for what is read and how).
 *
 * Three steps, so that the float importer (onnx_import.c) stays the one
 * place that maps ONNX operators onto layers:
 *   1. classify: every QuantizeLinear / DequantizeLinear node is an
 *      activation's Q, its DQ, or the DQ of an initializer (a weight or a
 *      bias); the quantization of each activation and the integers of each
 *      DQ'd initializer are recorded, and anything else is refused naming
 *      the node;
 *   2. rewrite and import as float: Q and DQ nodes become Identity nodes
 *      (an initializer's DQ reads a float initializer holding its
 *      dequantized values), so node indices in messages stay the file's;
 *      the rewritten model is packed and imported by mco_onnx_import_bytes;
 *   3. the deploy model: each layer is found again by its node's name (made
 *      unique with a "#<node>" tag when the file's names are not), gets the
 *      quantization of its node's output, and weighted layers their int8
 *      weights (mcuopt's layout from the float weights divided by the
 *      scales, checked to be integers), int32 biases and multipliers
 *      (deploy_int8.c, shared with the TFLite importer).
 * Lookups by name go through sorted tables (no quadratic walks on large
 * graphs), and every count from the file is checked before it is used.
 *
 * What it leaves out: see onnx_qdq.h.
 */
#include "mcuopt/onnx_qdq.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcuopt/deploy_int8.h"
#include "mcuopt/deploy_util.h"
#include "mcuopt/file_io.h"
#include "mcuopt/onnx.h"
#include "mcuopt/quant_multiplier.h"
#include "mcuopt/quant_rules.h"
#include "onnx_internal.h"

#define MAX_VALUES ((size_t)1 << 26)
#define TAG_SUFFIX "#qdq"   /* name of the float initializer holding a DQ'd initializer's values */

typedef enum { NODE_OTHER = 0, NODE_ACT_Q, NODE_ACT_DQ, NODE_CONST_DQ, NODE_ROUNDING } node_role;

typedef struct {
    const char *name;
    int index;
} name_entry;

/* A DequantizeLinear of an initializer. */
typedef struct {
    int node;
    int type;             /* element type of the integers: int8, uint8 or int32 */
    int rank;
    int64_t dims[4];
    size_t count;
    double *q;            /* the integers */
    double *scales;       /* one, or one per index along `axis` */
    double *zeros;        /* as many zero points, or NULL (0) */
    size_t n_scales;
    int axis;             /* 0 <= axis < rank (meaningful when n_scales > 1) */
    int zero_nonzero;     /* some zero point is not 0 */
} const_dq;

/* The quantization of an activation (a QuantizeLinear's input). */
typedef struct {
    const char *name;
    mco_qparams q;
} act_q;

typedef struct {
    const char *origin;
    const Onnx__GraphProto *g;
    int node;                    /* node being read, for messages; -1: none */
    node_role *role;             /* [n_node] */
    name_entry *inits;           /* initializers by name */
    size_t n_inits;
    name_entry *q_outs;          /* outputs of activation QuantizeLinear nodes -> node */
    size_t n_q_outs;
    const_dq *cdq;               /* [n_node]: filled for NODE_CONST_DQ */
    name_entry *cdq_outs;        /* outputs of initializer DQ nodes -> node */
    size_t n_cdq_outs;
    name_entry *roundings;       /* outputs of mcuopt's half-away nudges (onnx_export.c) -> their last Add */
    size_t n_roundings;
    act_q *aq;                   /* sorted by name after classify() */
    size_t n_aq;
    mco_qparams *node_q;         /* [n_node]: a Q / activation DQ node's quantization */
    int tag_names;               /* node names replaced by "#<index>" in the rewritten graph */
} qdq;

/* ---- names and messages ---- */

static int compare_entries(const void *a, const void *b)
{
    return strcmp(((const name_entry *)a)->name, ((const name_entry *)b)->name);
}

static int lookup(const name_entry *table, size_t n, const char *name)
{
    if (!name) return -1;
    name_entry key = {name, 0};
    const name_entry *e = n ? bsearch(&key, table, n, sizeof *table, compare_entries) : NULL;
    return e ? e->index : -1;
}

static const char *op_of(const Onnx__NodeProto *n) { return n->op_type ? n->op_type : ""; }

static int is_op(const Onnx__NodeProto *n, const char *op)
{
    return strcmp(op_of(n), op) == 0 && (!n->domain || !n->domain[0] || strcmp(n->domain, "ai.onnx") == 0);
}

/* "<origin>: node <k> '<name>' (<op>): <why>", or "<origin>: <why>" outside a node. */
static mco_status fail(const qdq *s, mco_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static mco_status fail(const qdq *s, mco_status st, const char *fmt, ...)
{
    char why[400], name[48], op[48];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    if (s->node < 0) return mco_error(st, "%s: %s", s->origin, why);
    const Onnx__NodeProto *n = s->g->node[s->node];
    return mco_error(st, "%s: node %d '%s' (%s): %s", s->origin, s->node, mco_onnx_printable(n->name, name),
                     mco_onnx_printable(n->op_type, op), why);
}

/* ---- initializer values ---- */

static const Onnx__TensorProto *initializer(const qdq *s, const char *name)
{
    int i = lookup(s->inits, s->n_inits, name);
    return i < 0 ? NULL : s->g->initializer[i];
}

/* The values of an initializer of type float, int8, uint8 or int32 as
 * doubles (malloc'd, *count of them); *type its element type. */
static mco_status tensor_values(const qdq *s, const Onnx__TensorProto *t, const char *what, double **out,
                                size_t *count, int *type)
{
    char buf[48];
    size_t n = 1;
    *out = NULL;
    for (size_t d = 0; d < t->n_dims; d++) {
        if (t->dims[d] < 0 || (t->dims[d] > 0 && n > MAX_VALUES / (size_t)t->dims[d]))
            return fail(s, MCO_ERR_FORMAT, "%s '%s' has a negative or too large dimension", what,
                        mco_onnx_printable(t->name, buf));
        n *= (size_t)t->dims[d];
    }
    if (t->n_dims > 4 || n > MAX_VALUES)
        return fail(s, MCO_ERR_UNSUPPORTED, "%s '%s' has more than 4 dimensions or 2^26 values", what,
                    mco_onnx_printable(t->name, buf));
    if (t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
        return fail(s, MCO_ERR_UNSUPPORTED, "%s '%s' is stored as external data", what, mco_onnx_printable(t->name, buf));
    *type = t->data_type;
    size_t bytes = *type == MCO_ONNX_FLOAT || *type == MCO_ONNX_INT32 ? 4
                 : *type == MCO_ONNX_INT8 || *type == MCO_ONNX_UINT8 ? 1 : 0;
    if (!bytes)
        return fail(s, MCO_ERR_UNSUPPORTED, "%s '%s' has element type %d (float, int8, uint8 or int32 expected)", what,
                    mco_onnx_printable(t->name, buf), *type);
    size_t typed = *type == MCO_ONNX_FLOAT ? t->n_float_data : t->n_int32_data;
    if (t->has_raw_data ? t->raw_data.len != n * bytes : typed != n)
        return fail(s, MCO_ERR_FORMAT, "%s '%s' holds a number of values its dims do not give", what,
                    mco_onnx_printable(t->name, buf));
    double *v = malloc((n ? n : 1) * sizeof *v);
    if (!v) return fail(s, MCO_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        if (!t->has_raw_data) {
            v[i] = *type == MCO_ONNX_FLOAT ? (double)t->float_data[i] : (double)t->int32_data[i];
            if (*type == MCO_ONNX_INT8) v[i] = (double)(int8_t)t->int32_data[i];
            if (*type == MCO_ONNX_UINT8) v[i] = (double)(uint8_t)t->int32_data[i];
            continue;
        }
        const uint8_t *p = t->raw_data.data + i * bytes;
        uint32_t u = bytes == 4 ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24
                                : p[0];
        if (*type == MCO_ONNX_FLOAT) {
            float f;
            memcpy(&f, &u, sizeof f);
            v[i] = f;
        } else if (*type == MCO_ONNX_INT32) {
            v[i] = u >= 0x80000000u ? (double)u - 4294967296.0 : (double)u;
        } else {
            v[i] = *type == MCO_ONNX_INT8 ? (double)(int8_t)p[0] : (double)p[0];
        }
    }
    *out = v;
    *count = n;
    return MCO_OK;
}

/* Scale (input 1) and zero point (input 2, optional: uint8 0) of a Q / DQ
 * node; per-tensor unless `scales` is given (then one per channel). */
static mco_status read_qparams(qdq *s, const Onnx__NodeProto *n, double **scales, size_t *n_scales,
                               double **zeros, size_t *n_zeros, int *zero_type)
{
    *scales = *zeros = NULL;
    if (n->n_input < 2 || n->n_input > 3 || n->n_output != 1)
        return fail(s, MCO_ERR_FORMAT, "%zu inputs and %zu outputs (2 or 3 inputs and 1 output expected)",
                    n->n_input, n->n_output);
    const Onnx__TensorProto *ts = initializer(s, n->input[1]);
    const Onnx__TensorProto *tz = n->n_input == 3 && n->input[2] && n->input[2][0] ? initializer(s, n->input[2]) : NULL;
    if (!ts || (n->n_input == 3 && n->input[2] && n->input[2][0] && !tz))
        return fail(s, MCO_ERR_UNSUPPORTED, "its scale and zero point must be initializers");
    int type;
    mco_status st = tensor_values(s, ts, "scale", scales, n_scales, &type);
    if (st != MCO_OK) return st;
    if (type != MCO_ONNX_FLOAT) return fail(s, MCO_ERR_UNSUPPORTED, "a scale of element type %d (float expected)", type);
    for (size_t i = 0; i < *n_scales; i++)
        if (!(isfinite((*scales)[i]) && (*scales)[i] > 0.0))
            return fail(s, MCO_ERR_FORMAT, "scale %g is not a positive number", (*scales)[i]);
    if (!tz) {   /* ONNX: no zero point means uint8 zero */
        *zero_type = MCO_ONNX_UINT8;
        *n_zeros = 0;
        return MCO_OK;
    }
    if ((st = tensor_values(s, tz, "zero point", zeros, n_zeros, zero_type)) != MCO_OK) return st;
    if (*n_zeros != *n_scales) return fail(s, MCO_ERR_FORMAT, "%zu scales and %zu zero points", *n_scales, *n_zeros);
    return MCO_OK;
}

/* An activation's quantization: one scale, an int8 or uint8 zero point
 * (uint8: the same real values in int8, zero point - 128). */
static mco_status activation_qparams(qdq *s, const Onnx__NodeProto *n, mco_qparams *q)
{
    double *scales, *zeros;
    size_t n_scales, n_zeros;
    int zero_type;
    mco_status st = read_qparams(s, n, &scales, &n_scales, &zeros, &n_zeros, &zero_type);
    if (st == MCO_OK && n_scales != 1)
        st = fail(s, MCO_ERR_UNSUPPORTED, "%zu scales on an activation (only per-tensor activation quantization)",
                  n_scales);
    if (st == MCO_OK && zero_type != MCO_ONNX_INT8 && zero_type != MCO_ONNX_UINT8)
        st = fail(s, MCO_ERR_UNSUPPORTED, "activations of element type %d (int8 or uint8 only)", zero_type);
    if (st == MCO_OK) {
        double zp = n_zeros ? zeros[0] : 0.0;
        q->scale = (float)scales[0];
        q->zero_point = (int32_t)(zero_type == MCO_ONNX_UINT8 ? zp - 128.0 : zp);
        if (!(q->scale > 0.0f) || !isfinite(q->scale))
            st = fail(s, MCO_ERR_UNSUPPORTED, "scale %g is out of float's range", scales[0]);
    }
    free(scales);
    free(zeros);
    return st;
}

/* ---- 1. classify ---- */

static mco_status index_initializers(qdq *s)
{
    const Onnx__GraphProto *g = s->g;
    s->inits = malloc((g->n_initializer ? g->n_initializer : 1) * sizeof *s->inits);
    if (!s->inits) return fail(s, MCO_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < g->n_initializer; i++)
        if (g->initializer[i]->name) s->inits[s->n_inits++] = (name_entry){g->initializer[i]->name, (int)i};
    qsort(s->inits, s->n_inits, sizeof *s->inits, compare_entries);
    return MCO_OK;
}

/* An initializer's DequantizeLinear: its integers and scales. */
static mco_status read_const_dq(qdq *s, int k)
{
    const Onnx__NodeProto *n = s->g->node[k];
    const_dq *c = &s->cdq[k];
    const Onnx__TensorProto *t = initializer(s, n->input[0]);
    size_t n_zeros = 0;
    int zero_type;
    c->node = k;
    mco_status st = tensor_values(s, t, "initializer", &c->q, &c->count, &c->type);
    if (st == MCO_OK) st = read_qparams(s, n, &c->scales, &c->n_scales, &c->zeros, &n_zeros, &zero_type);
    if (st != MCO_OK) return st;
    if (c->type != MCO_ONNX_INT8 && c->type != MCO_ONNX_INT32)
        st = fail(s, MCO_ERR_UNSUPPORTED, "dequantizes %s values (int8 weights and int32 biases only)",
                  c->type == MCO_ONNX_UINT8 ? "uint8" : "float");
    else if (n_zeros && zero_type != c->type)
        st = fail(s, MCO_ERR_FORMAT, "its zero point's type differs from the values'");
    for (size_t i = 0; st == MCO_OK && i < n_zeros; i++) c->zero_nonzero |= c->zeros[i] != 0.0;
    if (st != MCO_OK) return st;
    c->rank = (int)t->n_dims;
    for (int d = 0; d < c->rank; d++) c->dims[d] = t->dims[d];
    int64_t axis = 1;
    for (size_t a = 0; a < n->n_attribute; a++)
        if (n->attribute[a]->name && strcmp(n->attribute[a]->name, "axis") == 0) axis = n->attribute[a]->i;
    if (axis < 0) axis += c->rank;
    if (c->n_scales > 1 && (axis < 0 || axis >= c->rank || (size_t)c->dims[axis] != c->n_scales))
        return fail(s, MCO_ERR_FORMAT, "%zu scales along axis %lld of a %d-D tensor", c->n_scales, (long long)axis,
                    c->rank);
    c->axis = (int)axis;
    return MCO_OK;
}

static int compare_aq(const void *a, const void *b)
{
    return strcmp(((const act_q *)a)->name, ((const act_q *)b)->name);
}

/* The node producing `name` (-1: none), from the sorted table of outputs. */
static int producer(const name_entry *outs, size_t n, const char *name, const Onnx__GraphProto *g, const char *op)
{
    int k = lookup(outs, n, name);
    return k >= 0 && is_op(g->node[k], op) ? k : -1;
}

static int scalar_initializer(const qdq *s, const Onnx__NodeProto *n, size_t input)
{
    const Onnx__TensorProto *t = input < n->n_input ? initializer(s, n->input[input]) : NULL;
    size_t count = 1;
    for (size_t d = 0; t && d < t->n_dims; d++) count *= t->dims[d] == 1 ? 1 : 2;
    return t && count == 1;
}

/* mcuopt's export nudges the float result y of an int8 layer before its
 * QuantizeLinear so that an ONNX runtime rounds as mcuopt's kernels do
 * (onnx_export.c): an average pool's as Add(y, Mul(Sign(Add(y, c1)), c2)),
 * a Conv's or Gemm's as Add(y, Mul(Sign(y), c)), c1, c2 and c
 * initializers. That rounding is what mcuopt's kernels compute anyway: the
 * nodes are marked and become Identity nodes of y. */
static mco_status find_roundings(qdq *s)
{
    const Onnx__GraphProto *g = s->g;
    size_t n = g->n_node, m = 0;
    name_entry *outs = malloc((n ? n : 1) * sizeof *outs);
    s->roundings = malloc((n ? n : 1) * sizeof *s->roundings);
    if (!outs || !s->roundings) {
        free(outs);
        return fail(s, MCO_ERR_NOMEM, "out of memory");
    }
    for (size_t k = 0; k < n; k++)
        if (g->node[k]->n_output >= 1 && g->node[k]->output[0]) outs[m++] = (name_entry){g->node[k]->output[0], (int)k};
    qsort(outs, m, sizeof *outs, compare_entries);
    for (size_t k = 0; k < n; k++) {
        const Onnx__NodeProto *add = g->node[k];
        if (!is_op(add, "Add") || add->n_input != 2 || !add->input[0] || !add->input[1]) continue;
        int mul = producer(outs, m, add->input[1], g, "Mul");
        if (mul < 0 || g->node[mul]->n_input != 2 || !initializer(s, g->node[mul]->input[1])) continue;
        int sign = producer(outs, m, g->node[mul]->input[0], g, "Sign");
        if (sign < 0 || g->node[sign]->n_input != 1 || !g->node[sign]->input[0]) continue;
        int raw = -1;
        if (strcmp(g->node[sign]->input[0], add->input[0]) != 0) {   /* a pool's: Sign of y + c1 */
            raw = producer(outs, m, g->node[sign]->input[0], g, "Add");
            if (raw < 0 || g->node[raw]->n_input != 2 || !scalar_initializer(s, g->node[raw], 1) ||
                !g->node[raw]->input[0] || strcmp(g->node[raw]->input[0], add->input[0]) != 0)
                continue;
            s->role[raw] = NODE_ROUNDING;
        }
        s->role[k] = s->role[mul] = s->role[sign] = NODE_ROUNDING;
        s->roundings[s->n_roundings++] = (name_entry){add->output[0], (int)k};
    }
    free(outs);
    qsort(s->roundings, s->n_roundings, sizeof *s->roundings, compare_entries);
    return MCO_OK;
}

static mco_status classify(qdq *s)
{
    const Onnx__GraphProto *g = s->g;
    size_t n = g->n_node;
    s->role = calloc(n ? n : 1, sizeof *s->role);
    s->cdq = calloc(n ? n : 1, sizeof *s->cdq);
    s->node_q = calloc(n ? n : 1, sizeof *s->node_q);
    s->q_outs = malloc((n ? n : 1) * sizeof *s->q_outs);
    s->cdq_outs = malloc((n ? n : 1) * sizeof *s->cdq_outs);
    s->aq = malloc((2 * n + 1) * sizeof *s->aq);   /* a Q's input, and the pool a nudge reads */
    if (!s->role || !s->cdq || !s->node_q || !s->q_outs || !s->cdq_outs || !s->aq)
        return fail(s, MCO_ERR_NOMEM, "out of memory");
    mco_status st = index_initializers(s);
    if (st == MCO_OK) st = find_roundings(s);
    /* Pass 1: activation QuantizeLinear nodes. */
    for (size_t k = 0; st == MCO_OK && k < n; k++) {
        const Onnx__NodeProto *node = g->node[k];
        if (!is_op(node, "QuantizeLinear")) continue;
        s->node = (int)k;
        if (node->n_input < 1 || !node->input[0] || node->n_output != 1 || !node->output[0])
            return fail(s, MCO_ERR_FORMAT, "needs an input and one output");
        if (initializer(s, node->input[0]))
            return fail(s, MCO_ERR_UNSUPPORTED, "quantizes a constant; store the quantized values instead "
                        "(DequantizeLinear of an int8 initializer)");
        if ((st = activation_qparams(s, node, &s->node_q[k])) != MCO_OK) return st;
        s->role[k] = NODE_ACT_Q;
        s->q_outs[s->n_q_outs++] = (name_entry){node->output[0], (int)k};
        s->aq[s->n_aq++] = (act_q){node->input[0], s->node_q[k]};
        int nudge = lookup(s->roundings, s->n_roundings, node->input[0]);
        if (nudge >= 0) s->aq[s->n_aq++] = (act_q){g->node[nudge]->input[0], s->node_q[k]};
    }
    qsort(s->q_outs, s->n_q_outs, sizeof *s->q_outs, compare_entries);
    qsort(s->aq, s->n_aq, sizeof *s->aq, compare_aq);
    for (size_t i = 1; i < s->n_aq; i++)
        if (strcmp(s->aq[i].name, s->aq[i - 1].name) == 0 &&
            (s->aq[i].q.scale != s->aq[i - 1].q.scale || s->aq[i].q.zero_point != s->aq[i - 1].q.zero_point)) {
            char buf[48];
            s->node = -1;
            return fail(s, MCO_ERR_UNSUPPORTED, "tensor '%s' is quantized twice with different scales or zero points",
                        mco_onnx_printable(s->aq[i].name, buf));
        }
    /* Pass 2: DequantizeLinear nodes, and no other node reading int8 values. */
    for (size_t k = 0; st == MCO_OK && k < n; k++) {
        const Onnx__NodeProto *node = g->node[k];
        char buf[48];
        s->node = (int)k;
        if (is_op(node, "QuantizeLinear") || s->role[k] == NODE_ROUNDING) continue;
        if (!is_op(node, "DequantizeLinear")) {
            for (size_t i = 0; i < node->n_input; i++)
                if (lookup(s->q_outs, s->n_q_outs, node->input[i]) >= 0)
                    return fail(s, MCO_ERR_UNSUPPORTED, "reads the quantized tensor '%s'; only DequantizeLinear may "
                                "(integer operators such as QLinearConv are not supported: export in QDQ form)",
                                mco_onnx_printable(node->input[i], buf));
            continue;
        }
        if (node->n_input < 1 || !node->input[0] || node->n_output != 1 || !node->output[0])
            return fail(s, MCO_ERR_FORMAT, "needs an input and one output");
        int q = lookup(s->q_outs, s->n_q_outs, node->input[0]);
        if (q >= 0) {
            if ((st = activation_qparams(s, node, &s->node_q[k])) != MCO_OK) return st;
            if (s->node_q[k].scale != s->node_q[q].scale || s->node_q[k].zero_point != s->node_q[q].zero_point)
                return fail(s, MCO_ERR_UNSUPPORTED, "its scale or zero point differs from its QuantizeLinear's "
                            "(node %d)", q);
            s->role[k] = NODE_ACT_DQ;
        } else if (initializer(s, node->input[0])) {
            if ((st = read_const_dq(s, (int)k)) != MCO_OK) return st;
            s->role[k] = NODE_CONST_DQ;
            s->cdq_outs[s->n_cdq_outs++] = (name_entry){node->output[0], (int)k};
        } else {
            return fail(s, MCO_ERR_UNSUPPORTED, "dequantizes '%s', which is neither an int8 / int32 initializer nor "
                        "the output of a QuantizeLinear", mco_onnx_printable(node->input[0], buf));
        }
    }
    s->node = -1;
    for (size_t i = 0; i < g->n_output; i++)
        if (g->output[i]->name && lookup(s->q_outs, s->n_q_outs, g->output[i]->name) >= 0)
            return fail(s, MCO_ERR_UNSUPPORTED, "the model output is the int8 result of a QuantizeLinear "
                        "(a QDQ graph's output is dequantized)");
    qsort(s->cdq_outs, s->n_cdq_outs, sizeof *s->cdq_outs, compare_entries);
    return st;
}

/* ---- 2. rewrite and import as float ---- */

/* The name a layer gets from node k (onnx_import.c's layer_name: the last
 * MCO_NAME_MAX - 1 characters, non-printable ones as '_'). */
static void layer_name_of(const qdq *s, int k, char out[MCO_NAME_MAX])
{
    if (s->tag_names) {
        snprintf(out, MCO_NAME_MAX, "#%d", k);
        return;
    }
    const char *name = s->g->node[k]->name ? s->g->node[k]->name : "";
    size_t len = strlen(name), start = len > MCO_NAME_MAX - 1 ? len - (MCO_NAME_MAX - 1) : 0, i = 0;
    for (; name[start + i]; i++) out[i] = name[start + i] >= 0x20 && name[start + i] < 0x7f ? name[start + i] : '_';
    out[i] = '\0';
}

/* Memory of the rewritten message. */
typedef struct {
    Onnx__NodeProto *nodes;
    Onnx__NodeProto **node_ptrs;
    Onnx__TensorProto *tensors;
    Onnx__TensorProto **init_ptrs;
    char **strings;
    size_t n_strings;
    char **inputs;   /* one input name per Identity node */
} rewrite;

static void rewrite_free(rewrite *r, size_t n_node)
{
    if (r->tensors)
        for (size_t k = 0; k < n_node; k++) free(r->tensors[k].raw_data.data);
    for (size_t i = 0; i < r->n_strings; i++) free(r->strings[i]);
    free(r->strings);
    free(r->nodes);
    free(r->node_ptrs);
    free(r->tensors);
    free(r->init_ptrs);
    free(r->inputs);
}

static char *keep_string(rewrite *r, const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 1;
    char *p = malloc(n);
    if (!p) return NULL;
    snprintf(p, n, "%s%s", a, b);
    r->strings[r->n_strings++] = p;
    return p;
}

/* The float values of initializer DQ node k as a float initializer. */
static mco_status dequantized_tensor(qdq *s, rewrite *r, int k, Onnx__TensorProto *t)
{
    const const_dq *c = &s->cdq[k];
    onnx__tensor_proto__init(t);
    t->name = keep_string(r, s->g->node[k]->output[0], TAG_SUFFIX);
    if (!t->name) return fail(s, MCO_ERR_NOMEM, "out of memory");
    if (initializer(s, t->name)) {
        char buf[48];
        return fail(s, MCO_ERR_UNSUPPORTED, "an initializer is already named '%s'", mco_onnx_printable(t->name, buf));
    }
    uint8_t *raw = malloc(c->count ? c->count * 4 : 1);
    if (!raw) return fail(s, MCO_ERR_NOMEM, "out of memory");
    size_t inner = 1;
    for (int d = c->rank - 1; d > c->axis; d--) inner *= (size_t)c->dims[d];
    for (size_t i = 0; i < c->count; i++) {
        size_t ch = c->n_scales > 1 ? (i / inner) % c->n_scales : 0;
        /* ONNX: (q - zero point) * scale in float */
        float f = (float)(c->q[i] - (c->zeros ? c->zeros[ch] : 0.0)) * (float)c->scales[ch];
        memcpy(raw + 4 * i, &f, 4);   /* little-endian hosts, as the rest of the ONNX code */
    }
    t->n_dims = (size_t)c->rank;
    t->dims = (int64_t *)c->dims;
    t->has_data_type = 1;
    t->data_type = MCO_ONNX_FLOAT;
    t->has_raw_data = 1;
    t->raw_data.len = c->count * 4;
    t->raw_data.data = raw;
    return MCO_OK;
}

/* 1 if every node that can make a layer has a non-empty name, unique as a
 * layer name: layers are then found by their own names. */
static int names_usable(qdq *s)
{
    size_t n = s->g->n_node, m = 0;
    name_entry *e = malloc((n ? n : 1) * sizeof *e);
    char (*names)[MCO_NAME_MAX] = malloc((n ? n : 1) * sizeof *names);
    int ok = e && names;
    for (size_t k = 0; ok && k < n; k++) {
        if (s->role[k] != NODE_OTHER) continue;
        layer_name_of(s, (int)k, names[k]);
        if (!names[k][0] || names[k][0] == '#') ok = 0;
        e[m++] = (name_entry){names[k], (int)k};
    }
    if (ok) qsort(e, m, sizeof *e, compare_entries);
    for (size_t i = 1; ok && i < m; i++) ok = strcmp(e[i].name, e[i - 1].name) != 0;
    free(e);
    free(names);
    return ok;
}

static mco_status import_float(qdq *s, const Onnx__ModelProto *m, mco_model *model)
{
    const Onnx__GraphProto *g = s->g;
    size_t n = g->n_node;
    rewrite r = {0};
    s->tag_names = !names_usable(s);
    r.nodes = calloc(n ? n : 1, sizeof *r.nodes);
    r.node_ptrs = calloc(n ? n : 1, sizeof *r.node_ptrs);
    r.tensors = calloc(n ? n : 1, sizeof *r.tensors);
    r.init_ptrs = calloc(g->n_initializer + n + 1, sizeof *r.init_ptrs);
    r.strings = calloc(2 * n + 1, sizeof *r.strings);
    r.inputs = calloc(n ? n : 1, sizeof *r.inputs);
    mco_status st = r.nodes && r.node_ptrs && r.tensors && r.init_ptrs && r.strings && r.inputs
                        ? MCO_OK : fail(s, MCO_ERR_NOMEM, "out of memory");
    size_t n_inits = g->n_initializer;
    if (st == MCO_OK && n_inits) memcpy(r.init_ptrs, g->initializer, n_inits * sizeof *r.init_ptrs);
    for (size_t k = 0; st == MCO_OK && k < n; k++) {
        Onnx__NodeProto *copy = &r.nodes[k];
        *copy = *g->node[k];
        r.node_ptrs[k] = copy;
        if (s->tag_names) {
            char tag[MCO_NAME_MAX];
            layer_name_of(s, (int)k, tag);
            if (!(copy->name = keep_string(&r, tag, ""))) st = fail(s, MCO_ERR_NOMEM, "out of memory");
        }
        if (s->role[k] == NODE_OTHER) continue;
        /* Q, DQ, a nudge: Identity of the same input (the float value); an
         * initializer's DQ: Identity of its float values. */
        copy->op_type = "Identity";
        copy->domain = NULL;
        copy->n_attribute = 0;
        copy->attribute = NULL;
        copy->n_input = 1;
        r.inputs[k] = g->node[k]->input[0];
        copy->input = &r.inputs[k];
        if (s->role[k] == NODE_CONST_DQ && st == MCO_OK) {
            s->node = (int)k;
            if ((st = dequantized_tensor(s, &r, (int)k, &r.tensors[k])) == MCO_OK) {
                r.inputs[k] = r.tensors[k].name;
                r.init_ptrs[n_inits++] = &r.tensors[k];
            }
            s->node = -1;
        }
    }
    uint8_t *bytes = NULL;
    size_t size = 0;
    if (st == MCO_OK) {
        Onnx__GraphProto g2 = *g;
        Onnx__ModelProto m2 = *m;
        g2.n_node = n;
        g2.node = r.node_ptrs;
        g2.n_initializer = n_inits;
        g2.initializer = r.init_ptrs;
        m2.graph = &g2;
        size = onnx__model_proto__get_packed_size(&m2);
        bytes = malloc(size ? size : 1);
        if (!bytes) st = fail(s, MCO_ERR_NOMEM, "out of memory");
        else onnx__model_proto__pack(&m2, bytes);
    }
    rewrite_free(&r, n);
    if (st == MCO_OK) st = mco_onnx_import_bytes(bytes, size, s->origin, model);   /* messages start with origin */
    free(bytes);
    return st;
}

/* ---- 3. the deploy model ---- */

static const mco_qparams *find_q(const qdq *s, const char *name)
{
    if (!name) return NULL;
    act_q key = {name, {0.0f, 0}};
    const act_q *e = s->n_aq ? bsearch(&key, s->aq, s->n_aq, sizeof *s->aq, compare_aq) : NULL;
    return e ? &e->q : NULL;
}

static const const_dq *find_cdq(const qdq *s, const Onnx__NodeProto *n, size_t input)
{
    if (input >= n->n_input) return NULL;
    int k = lookup(s->cdq_outs, s->n_cdq_outs, n->input[input]);
    return k < 0 ? NULL : &s->cdq[k];
}

/* The quantization of the output of layer i (node k; `last`: the last layer node k makes). */
static mco_status output_qparams(qdq *s, mco_deploy_model *dm, const int *node_of, int i)
{
    const mco_layer *l = &dm->model.layers[i];
    int k = node_of[i], last = i == dm->model.n_layers - 1 || node_of[i + 1] != k;
    const mco_qparams *q = last && s->g->node[k]->n_output ? find_q(s, s->g->node[k]->output[0]) : NULL;
    int fused = mco_quant_fused_activation(&dm->model, i);
    s->node = k;
    if (q) {
        dm->layers[i].output = *q;
    } else if (l->type == MCO_LAYER_RELU || l->type == MCO_LAYER_RELU6 || l->type == MCO_LAYER_MAXPOOL2D ||
               l->type == MCO_LAYER_FLATTEN) {
        dm->layers[i].output = mco_deploy_input_qparams(dm, l->inputs[0]);
    } else if (fused >= 0 && (fused == dm->model.n_layers - 1 || node_of[fused + 1] != node_of[fused]) &&
               s->g->node[node_of[fused]]->n_output && (q = find_q(s, s->g->node[node_of[fused]]->output[0]))) {
        dm->layers[i].output = *q;   /* the ReLU after it decides its range, as when the ReLU is fused */
    } else if (l->type == MCO_LAYER_SOFTMAX) {
        dm->layers[i].output = (mco_qparams){1.0f / 256.0f, -128};
    } else {
        return fail(s, MCO_ERR_UNSUPPORTED, "its output has no QuantizeLinear; an int8 %s needs its output's "
                    "scale and zero point", mco_layer_type_name(l->type));
    }
    return MCO_OK;
}

/* The integers of weighted layer i (node k) in mcuopt's layout: the float
 * weights (the float importer put them in mcuopt's layout) divided by
 * their channel's scale, which must give back integers. */
static mco_status weighted_layer(qdq *s, mco_deploy_model *dm, const int *node_of, int i)
{
    const mco_layer *l = &dm->model.layers[i];
    const Onnx__NodeProto *n = s->g->node[node_of[i]];
    size_t channels = (size_t)dm->layers[i].n_channels, n_w = l->params[MCO_PARAM_WEIGHTS].size;
    int gemm = is_op(n, "Gemm"), matmul = is_op(n, "MatMul");
    s->node = node_of[i];
    if (!is_op(n, "Conv") && !gemm && !matmul)
        return fail(s, MCO_ERR_UNSUPPORTED, "a layer with weights from this operator is not read in QDQ form");
    int64_t trans_b = 0;
    for (size_t a = 0; a < n->n_attribute; a++) {
        const Onnx__AttributeProto *at = n->attribute[a];
        if (!at->name) continue;
        if (strcmp(at->name, "transB") == 0) trans_b = at->i;
        if ((strcmp(at->name, "alpha") == 0 || strcmp(at->name, "beta") == 0) && at->f != 1.0f)
            return fail(s, MCO_ERR_UNSUPPORTED, "%s %g (QDQ import takes 1 only)", at->name, (double)at->f);
    }
    const const_dq *w = find_cdq(s, n, 1), *b = gemm || !matmul ? find_cdq(s, n, 2) : NULL;
    if (!w)
        return fail(s, MCO_ERR_UNSUPPORTED, "its weights are not a DequantizeLinear of int8 values (weights-only "
                    "or float layers in a QDQ graph are not supported)");
    if (w->type != MCO_ONNX_INT8 || w->zero_nonzero)
        return fail(s, MCO_ERR_UNSUPPORTED, "its weights are not int8 with zero point 0 (symmetric)");
    int out_axis = (gemm && !trans_b) || matmul ? 1 : 0;
    if (w->count != n_w || (w->n_scales != 1 && (w->n_scales != channels || w->axis != out_axis)))
        return fail(s, MCO_ERR_UNSUPPORTED, "%zu weights with %zu scales (axis %d) for %zu output channels: one scale "
                    "or one per output channel (axis %d)", w->count, w->n_scales, w->axis, channels, out_axis);
    float *scales = malloc(channels * sizeof *scales);
    int8_t *q = malloc(n_w ? n_w : 1);
    int32_t *bias = malloc(channels * sizeof *bias);
    mco_status st = scales && q && bias ? MCO_OK : fail(s, MCO_ERR_NOMEM, "out of memory");
    int all_equal = 1;
    for (size_t c = 0; st == MCO_OK && c < channels; c++) {
        scales[c] = (float)w->scales[w->n_scales > 1 ? c : 0];
        all_equal &= scales[c] == scales[0];
    }
    const float *wf = l->params[MCO_PARAM_WEIGHTS].data;
    for (size_t k = 0; st == MCO_OK && k < n_w; k++) {
        double v = (double)wf[k] / (double)scales[mco_quant_weight_channel(l, k)], r = nearbyint(v);
        if (fabs(v - r) > 1e-3 || r < -128.0 || r > 127.0)
            st = fail(s, MCO_ERR_FORMAT, "weight %zu does not come back as an int8 value (%g)", k, v);
        else q[k] = (int8_t)r;
    }
    float in_s = mco_deploy_input_qparams(dm, l->inputs[0]).scale;
    if (st == MCO_OK && b && (b->type != MCO_ONNX_INT32 || b->zero_nonzero || b->count != channels))
        st = fail(s, MCO_ERR_UNSUPPORTED, "its bias is not %zu int32 values with zero point 0", channels);
    for (size_t c = 0; st == MCO_OK && c < channels; c++) {
        double want = (double)in_s * (double)scales[c];
        if (b) {   /* the file's integers, whose scale must be what the integer kernels assume */
            double got = b->scales[b->n_scales > 1 ? c : 0];
            if (fabs(got - want) > 1e-6 * want)
                st = fail(s, MCO_ERR_UNSUPPORTED, "bias scale %g of channel %zu is not input scale x weight scale "
                          "(%g)", got, c, want);
            bias[c] = (int32_t)b->q[c];
        } else {   /* a float bias (or none): quantized as mcuopt's quantizer does */
            double v = round((double)l->params[MCO_PARAM_BIAS].data[c] / want);
            bias[c] = (int32_t)(v < INT32_MIN ? INT32_MIN : v > INT32_MAX ? INT32_MAX : v);
        }
    }
    if (st == MCO_OK) {
        mco_int8_weights iw = {q, scales, all_equal ? 1 : (int)channels, bias, 0};
        if ((st = mco_deploy_int8_weighted(dm, i, &iw)) != MCO_OK) {
            char why[400];
            snprintf(why, sizeof why, "%s", mco_last_error());
            st = fail(s, st, "%s", why);
        }
    }
    free(scales);
    free(q);
    free(bias);
    return st;
}

static int compare_layer_names(const void *a, const void *b) { return compare_entries(a, b); }

static mco_status build_deploy(qdq *s, mco_model *model, mco_deploy_model *dm)
{
    size_t n = s->g->n_node;
    /* layer -> node, by name */
    name_entry *by_name = malloc((n ? n : 1) * sizeof *by_name);
    char (*names)[MCO_NAME_MAX] = malloc((n ? n : 1) * sizeof *names);
    int *node_of = malloc((size_t)(model->n_layers ? model->n_layers : 1) * sizeof *node_of);
    mco_status st = by_name && names && node_of ? MCO_OK : fail(s, MCO_ERR_NOMEM, "out of memory");
    size_t m = 0;
    for (size_t k = 0; st == MCO_OK && k < n; k++) {
        if (s->role[k] != NODE_OTHER) continue;
        layer_name_of(s, (int)k, names[k]);
        by_name[m++] = (name_entry){names[k], (int)k};
    }
    if (st == MCO_OK) qsort(by_name, m, sizeof *by_name, compare_layer_names);
    for (int i = 0; st == MCO_OK && i < model->n_layers; i++) {
        mco_layer *l = &model->layers[i];
        node_of[i] = lookup(by_name, m, l->name);
        s->node = node_of[i];
        if (node_of[i] < 0)
            st = fail(s, MCO_ERR_UNSUPPORTED, "layer %d (%s) comes from no node of the graph", i, l->name);
        else if (l->type == MCO_LAYER_BATCHNORM || l->type == MCO_LAYER_DROPOUT)
            st = fail(s, MCO_ERR_UNSUPPORTED, "%s in a QDQ graph: quantize the model after folding it",
                      l->type == MCO_LAYER_BATCHNORM ? "a BatchNormalization" : "a Dropout");
        else if (s->tag_names && s->g->node[node_of[i]]->name && s->g->node[node_of[i]]->name[0]) {
            s->tag_names = 0;   /* the file's own name back */
            layer_name_of(s, node_of[i], l->name);
            s->tag_names = 1;
        } else if (s->tag_names) {
            snprintf(l->name, sizeof l->name, "%s_%d", mco_layer_type_name(l->type), i);
        }
    }
    s->node = -1;
    free(by_name);
    free(names);
    if (st != MCO_OK) {
        free(node_of);
        mco_model_free(model);
        return st;
    }
    if ((st = mco_deploy_init_from_folded(dm, model)) != MCO_OK) {   /* takes model */
        free(node_of);
        return st;
    }
    dm->activation_format = MCO_ACT_S8;
    dm->calibration = MCO_CALIBRATE_IMPORTED;
    const Onnx__GraphProto *g = s->g;
    const mco_qparams *in_q = NULL;
    for (size_t i = 0; i < g->n_input && !in_q; i++)
        if (g->input[i]->name && !initializer(s, g->input[i]->name)) in_q = find_q(s, g->input[i]->name);
    if (!in_q) st = fail(s, MCO_ERR_UNSUPPORTED, "the model input has no QuantizeLinear (not an int8 QDQ graph)");
    else dm->input = *in_q;
    for (int i = 0; st == MCO_OK && i < dm->model.n_layers; i++) {
        if ((st = output_qparams(s, dm, node_of, i)) != MCO_OK) break;
        const mco_layer *l = &dm->model.layers[i];
        mco_deploy_layer *d = &dm->layers[i];
        if (mco_deploy_is_weighted(l)) {
            st = weighted_layer(s, dm, node_of, i);
        } else if (l->type == MCO_LAYER_GLOBAL_AVGPOOL &&
                   (d->output.scale != mco_deploy_input_qparams(dm, l->inputs[0]).scale ||
                    d->output.zero_point != mco_deploy_input_qparams(dm, l->inputs[0]).zero_point)) {
            /* a requantizing global pool: TFLite's MEAN kernel (input scale / output scale) */
            d->multiplier = calloc(1, sizeof *d->multiplier);
            d->shift = calloc(1, sizeof *d->shift);
            if (!d->multiplier || !d->shift) st = fail(s, MCO_ERR_NOMEM, "out of memory");
            else if ((st = mco_quantize_multiplier((double)mco_deploy_input_qparams(dm, l->inputs[0]).scale /
                                                       (double)d->output.scale, d->multiplier, d->shift)) != MCO_OK)
                st = fail(s, st, "%s", "the ratio of its input and output scales is out of range");
        }
    }
    for (int i = 0; st == MCO_OK && i < dm->model.n_layers; i++) {
        if (mco_deploy_int8_check_layer(dm, i) != MCO_OK) {
            char why[400];
            snprintf(why, sizeof why, "%s", mco_last_error());
            s->node = node_of[i];
            st = fail(s, MCO_ERR_UNSUPPORTED, "%s", why);
        }
    }
    s->node = -1;
    if (st == MCO_OK && mco_deploy_check(dm) != MCO_OK) {
        char why[400];
        snprintf(why, sizeof why, "%s", mco_last_error());
        st = fail(s, MCO_ERR_FORMAT, "%s", why);
    }
    free(node_of);
    if (st != MCO_OK) mco_deploy_free(dm);
    return st;
}

/* ---- entry points ---- */

static int has_qdq_node(const Onnx__ModelProto *m)
{
    for (size_t k = 0; m->graph && k < m->graph->n_node; k++)
        if (is_op(m->graph->node[k], "QuantizeLinear") || is_op(m->graph->node[k], "DequantizeLinear")) return 1;
    return 0;
}

int mco_onnx_is_qdq(const uint8_t *bytes, size_t size)
{
    if (size > MCO_ONNX_MAX_FILE_BYTES) return 0;
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, size, bytes);
    int yes = m && has_qdq_node(m);
    if (m) onnx__model_proto__free_unpacked(m, NULL);
    return yes;
}

int mco_onnx_file_is_qdq(const char *path)
{
    uint8_t *bytes;
    size_t size;
    if (!path || mco_read_file(path, MCO_ONNX_MAX_FILE_BYTES, &bytes, &size) != MCO_OK) {
        mco_clear_error();
        return 0;
    }
    int yes = mco_onnx_is_qdq(bytes, size);
    free(bytes);
    return yes;
}

mco_status mco_onnx_import_qdq_bytes(const uint8_t *bytes, size_t size, const char *origin, mco_deploy_model *dm)
{
    if (!dm) return mco_error(MCO_ERR_ARG, "QDQ import: NULL output");
    memset(dm, 0, sizeof *dm);
    if (!origin) origin = "<memory>";
    if (size > MCO_ONNX_MAX_FILE_BYTES)
        return mco_error(MCO_ERR_FORMAT, "%s: larger than %zu MiB", origin, MCO_ONNX_MAX_FILE_BYTES >> 20);
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, size, bytes);
    if (!m) return mco_error(MCO_ERR_FORMAT, "%s: not a valid ONNX file (the protobuf does not parse)", origin);
    qdq s = {0};
    s.origin = origin;
    s.node = -1;
    mco_status st = MCO_OK;
    if (!m->graph) st = mco_error(MCO_ERR_FORMAT, "%s: the model has no graph", origin);
    else if (m->graph->n_node > 10000 || m->graph->n_initializer > 10000)
        st = mco_error(MCO_ERR_UNSUPPORTED, "%s: more than 10000 nodes or initializers", origin);
    else if (!has_qdq_node(m))
        st = mco_error(MCO_ERR_UNSUPPORTED, "%s: no QuantizeLinear or DequantizeLinear node: a float model "
                       "(import it as an .mco model)", origin);
    s.g = m->graph;
    if (st == MCO_OK) st = classify(&s);
    mco_model model;
    memset(&model, 0, sizeof model);
    if (st == MCO_OK) st = import_float(&s, m, &model);
    if (st == MCO_OK) st = build_deploy(&s, &model, dm);   /* takes model */
    for (size_t k = 0; s.cdq && k < s.g->n_node; k++) {
        free(s.cdq[k].q);
        free(s.cdq[k].scales);
        free(s.cdq[k].zeros);
    }
    free(s.role);
    free(s.cdq);
    free(s.node_q);
    free(s.q_outs);
    free(s.cdq_outs);
    free(s.aq);
    free(s.roundings);
    free(s.inits);
    onnx__model_proto__free_unpacked(m, NULL);
    if (st != MCO_OK) memset(dm, 0, sizeof *dm);
    return st;
}

static mco_status decode_qdq(const uint8_t *bytes, size_t size, const char *origin, void *out)
{
    return mco_onnx_import_qdq_bytes(bytes, size, origin, out);
}

mco_status mco_onnx_import_qdq(const char *path, mco_deploy_model *dm)
{
    if (!dm) return mco_error(MCO_ERR_ARG, "QDQ import: NULL output");
    memset(dm, 0, sizeof *dm);
    return mco_read_model_file(path, MCO_ONNX_MAX_FILE_BYTES, decode_qdq, dm);
}
