/*
 * onnx_import.c - an ONNX model (onnx.h) to an mcuopt float model.
 *
 * The file is parsed whole by protobuf-c with the subset schema of
 * onnx_subset.proto, after a size cap (256 MiB). Then the graph is walked
 * once in node order (ONNX requires topological order). Every value name
 * maps to either
 *   - a constant: an initializer, a Constant node, or the result of folding
 *     a node whose inputs are all constants (Reshape, Transpose, Cast,
 *     Shape -> Gather -> Concat chains ...), held as doubles, which hold
 *     float32 and the int64 shape values exactly; or
 *   - an activation: the output of an mcuopt layer (or of the model input),
 *     with its ONNX rank (4: [N, C, H, W], 2: [N, features]).
 * A node with an activation input becomes one mcuopt layer (shape inference
 * runs after each, so the next node sees real shapes), an alias (Identity),
 * or folds into the previous layer (an Add of a constant after Conv / Gemm /
 * MatMul is its bias). Weights are converted to mcuopt's layouts as each
 * layer is made.
 *
 * Trust: every count, dimension and byte length from the file is checked
 * before it is used or allocated (tensor sizes overflow-safe, at most 2^26
 * values, raw_data length equal to what dims and type imply), node, input
 * and output counts are capped, name lookups are hashed or binary searched
 * (no quadratic walks), and names are printed sanitised and shortened, so a
 * corrupt or hostile file gives one error line, never a crash or a hang.
 *
 * What it leaves out: see onnx.h.
 */
#include "mcuopt/onnx.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcuopt/file_util.h"
#include "mcuopt/model_file.h"
#include "onnx_internal.h"

#define MAX_NODES 10000
#define MAX_INITIALIZERS 10000
#define MAX_NODE_INPUTS 64
#define MAX_NODE_OUTPUTS 8
#define MAX_RANK 8
#define MAX_CONST_VALUES ((size_t)1 << 26)
/* Folding may make at most this many values beyond FOLD_FACTOR times those
 * the file itself holds (a weight reshaped and transposed is copied twice),
 * so a small file cannot make the importer allocate gigabytes (a Concat of 64
 * copies of a Concat of 64 copies of a 64 KB initializer is 512 MB). */
#define FOLD_FACTOR 4
#define FOLD_SLACK ((size_t)1 << 20)

typedef enum { VALUE_CONST = 1, VALUE_ACT = 2 } value_kind;

typedef struct {
    const char *name;     /* points into the parsed message */
    value_kind kind;
    /* VALUE_CONST */
    int rank;
    int64_t dims[MAX_RANK];
    size_t count;
    int is_int;           /* integer element type (shapes, indices) */
    double *data;         /* count values, row-major (NULL when count is 0) */
    /* VALUE_ACT */
    int layer;            /* producing layer, or MCO_INPUT */
    int act_rank;         /* 4: [N, C, H, W]; 2: [N, features] */
    mco_shape flat_of;    /* rank 2 made by flattening this h x w x c tensor (h = 0: not) */
    int sole_path;        /* the only name under which the layer's output is read */
    int pad[4];           /* a Pad node's zeros around the layer's output, not yet taken by a Conv:
                             top, left, bottom, right (0 for every other activation) */
} value;

typedef struct {
    const char *origin;
    const Onnx__GraphProto *graph;
    int opset;
    mco_model *model;
    value *values;
    int n_values, cap_values;
    int *slots;                    /* hash of value names: index into values, -1 empty; cap_values * 2 */
    const char **reads;            /* every node input and graph output name, sorted (count_uses) */
    size_t n_reads;
    int node_index;
    const Onnx__NodeProto *node;   /* the node being imported, for messages */
    size_t file_values;            /* constant values the file holds (initializers, Constant nodes) */
    double in_a, in_b;             /* Sub / Div / Mul / Add by constants on the model input, folded:
                                      the network input is in_a * (ONNX input) + in_b */
    size_t folded_values;          /* constant values folding has made */
} importer;

/* ---- Messages ---- */

/* Records "node <i> '<name>' (<op>): <message>" for the current node, or the
 * bare message outside node processing. */
static mco_status fail(importer *imp, mco_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static mco_status fail(importer *imp, mco_status st, const char *fmt, ...)
{
    char msg[400], name[48], op[48];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!imp->node) return mco_error(st, "%s", msg);
    const Onnx__NodeProto *n = imp->node;
    if (n->name && n->name[0])
        return mco_error(st, "node %d '%s' (%s): %s", imp->node_index, mco_onnx_printable(n->name, name),
                         mco_onnx_printable(n->op_type, op), msg);
    return mco_error(st, "node %d (%s): %s", imp->node_index, mco_onnx_printable(n->op_type, op), msg);
}

/* ---- Values ---- */

static size_t name_hash(const char *name)
{
    size_t h = 2166136261u;   /* FNV-1a */
    for (; *name; name++) h = (h ^ (unsigned char)*name) * 16777619u;
    return h;
}

/* The slot holding `name`, or the empty slot where it would go. */
static size_t find_slot(const importer *imp, const char *name)
{
    size_t mask = (size_t)imp->cap_values * 2 - 1, i = name_hash(name) & mask;
    while (imp->slots[i] >= 0 && strcmp(imp->values[imp->slots[i]].name, name) != 0) i = (i + 1) & mask;
    return i;
}

static value *find_value(importer *imp, const char *name)
{
    if (!imp->slots) return NULL;
    int index = imp->slots[find_slot(imp, name)];
    return index >= 0 ? &imp->values[index] : NULL;
}

/* Grows the value array and rebuilds the hash (kept at most half full). */
static mco_status grow_values(importer *imp)
{
    int cap = imp->cap_values ? imp->cap_values * 2 : 64;
    value *grown = realloc(imp->values, (size_t)cap * sizeof *grown);
    if (!grown) return fail(imp, MCO_ERR_NOMEM, "out of memory");
    imp->values = grown;
    int *slots = malloc((size_t)cap * 2 * sizeof *slots);
    if (!slots) return fail(imp, MCO_ERR_NOMEM, "out of memory");
    free(imp->slots);
    imp->slots = slots;
    imp->cap_values = cap;
    for (int i = 0; i < cap * 2; i++) slots[i] = -1;
    for (int i = 0; i < imp->n_values; i++) slots[find_slot(imp, imp->values[i].name)] = i;
    return MCO_OK;
}

/* Appends a value named `name`; fails if the name is already defined (ONNX
 * values are assigned once). *out points into imp->values until the next call. */
static mco_status new_value(importer *imp, const char *name, value_kind kind, value **out)
{
    char buf[48];
    if (!name || !name[0]) return fail(imp, MCO_ERR_FORMAT, "a value has an empty name");
    if (find_value(imp, name))
        return fail(imp, MCO_ERR_FORMAT, "value '%s' is defined twice", mco_onnx_printable(name, buf));
    if (imp->n_values == imp->cap_values) {
        mco_status st = grow_values(imp);
        if (st != MCO_OK) return st;
    }
    value *v = &imp->values[imp->n_values];
    memset(v, 0, sizeof *v);
    v->name = name;
    v->kind = kind;
    imp->slots[find_slot(imp, name)] = imp->n_values++;
    *out = v;
    return MCO_OK;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Collects and sorts every name a node or the graph output reads. */
static mco_status index_reads(importer *imp)
{
    const Onnx__GraphProto *g = imp->graph;
    size_t n = g->n_output;
    for (size_t i = 0; i < g->n_node; i++) {
        if (g->node[i]->n_input > MAX_NODE_INPUTS || g->node[i]->n_output > MAX_NODE_OUTPUTS)
            return mco_error(MCO_ERR_UNSUPPORTED, "node %zu has %zu inputs and %zu outputs (at most %d and %d)", i,
                             g->node[i]->n_input, g->node[i]->n_output, MAX_NODE_INPUTS, MAX_NODE_OUTPUTS);
        n += g->node[i]->n_input;
    }
    imp->reads = malloc((n ? n : 1) * sizeof *imp->reads);
    if (!imp->reads) return mco_error(MCO_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < g->n_node; i++)
        for (size_t k = 0; k < g->node[i]->n_input; k++) imp->reads[imp->n_reads++] = g->node[i]->input[k];
    for (size_t i = 0; i < g->n_output; i++) imp->reads[imp->n_reads++] = g->output[i]->name ? g->output[i]->name : "";
    qsort(imp->reads, imp->n_reads, sizeof *imp->reads, compare_names);
    return MCO_OK;
}

/* Number of node inputs and graph outputs that read `name`. */
static int count_uses(const importer *imp, const char *name)
{
    size_t lo = 0, hi = imp->n_reads;   /* first read not below name */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(imp->reads[mid], name) < 0) lo = mid + 1;
        else hi = mid;
    }
    int uses = 0;
    while (lo < imp->n_reads && strcmp(imp->reads[lo++], name) == 0) uses++;
    return uses;
}

/* Input k of the current node: NULL if absent or empty (an omitted optional
 * input); an error if it names a value never defined. */
static mco_status node_input(importer *imp, int k, value **out)
{
    char buf[48];
    *out = NULL;
    if ((size_t)k >= imp->node->n_input || !imp->node->input[k][0]) return MCO_OK;
    *out = find_value(imp, imp->node->input[k]);
    if (!*out)
        return fail(imp, MCO_ERR_FORMAT, "input '%s' is neither an initializer nor an earlier node's output",
                    mco_onnx_printable(imp->node->input[k], buf));
    return MCO_OK;
}

static int is_padded(const value *v)
{
    return v->pad[0] || v->pad[1] || v->pad[2] || v->pad[3];
}

/* An activation read by a node that cannot take a Pad before it. */
static mco_status no_pad(importer *imp, const value *v)
{
    return is_padded(v) ? fail(imp, MCO_ERR_UNSUPPORTED, "the Pad before it is supported only before a Conv "
                                                         "(folded into its padding)")
                        : MCO_OK;
}

/* Input k, an activation, possibly one a Pad node padded (only a Conv takes those). */
static mco_status need_act_padded(importer *imp, int k, value **out)
{
    mco_status st = node_input(imp, k, out);
    if (st != MCO_OK) return st;
    if (!*out) return fail(imp, MCO_ERR_FORMAT, "input %d is missing", k);
    if ((*out)->kind != VALUE_ACT)
        return fail(imp, MCO_ERR_UNSUPPORTED, "input %d must be computed from the model input, not a constant", k);
    return MCO_OK;
}

static mco_status need_act(importer *imp, int k, value **out)
{
    mco_status st = need_act_padded(imp, k, out);
    return st == MCO_OK ? no_pad(imp, *out) : st;
}

static mco_status need_const(importer *imp, int k, int optional, value **out)
{
    mco_status st = node_input(imp, k, out);
    if (st != MCO_OK) return st;
    if (!*out) return optional ? MCO_OK : fail(imp, MCO_ERR_FORMAT, "input %d is missing", k);
    if ((*out)->kind != VALUE_CONST)
        return fail(imp, MCO_ERR_UNSUPPORTED, "input %d must be an initializer or constant", k);
    return MCO_OK;
}

/* Outputs past the first must be absent or unread (Dropout's mask,
 * MaxPool's indices, BatchNormalization's training statistics). */
static mco_status only_first_output(importer *imp)
{
    for (size_t k = 1; k < imp->node->n_output; k++)
        if (imp->node->output[k][0] && count_uses(imp, imp->node->output[k]) > 0)
            return fail(imp, MCO_ERR_UNSUPPORTED, "output %zu is used; only the first output is supported", k);
    return MCO_OK;
}

static mco_status first_output(importer *imp, const char **name)
{
    if (imp->node->n_output < 1 || !imp->node->output[0][0])
        return fail(imp, MCO_ERR_FORMAT, "has no output");
    *name = imp->node->output[0];
    return only_first_output(imp);
}

static mco_status define_act(importer *imp, int layer, int act_rank, mco_shape flat_of, int sole_path)
{
    const char *name;
    value *v;
    mco_status st = first_output(imp, &name);
    if (st == MCO_OK) st = new_value(imp, name, VALUE_ACT, &v);
    if (st != MCO_OK) return st;
    v->layer = layer;
    v->act_rank = act_rank;
    v->flat_of = flat_of;
    v->sole_path = sole_path;
    return MCO_OK;
}

/* The output names the same activation as `in` (Identity, no-op Reshape),
 * with `extra` zeros of a Pad node (top, left, bottom, right; NULL: none)
 * added to those it already has. */
static mco_status define_padded_alias(importer *imp, const value *in, const int *extra)
{
    value copy = *in;
    int sole = in->sole_path && count_uses(imp, in->name) == 1;
    mco_status st = define_act(imp, copy.layer, copy.act_rank, copy.flat_of, sole);   /* moves imp->values */
    if (st != MCO_OK) return st;
    value *out = &imp->values[imp->n_values - 1];
    for (int i = 0; i < 4; i++) out->pad[i] = copy.pad[i] + (extra ? extra[i] : 0);
    return MCO_OK;
}

static mco_status define_alias(importer *imp, const value *in)
{
    return define_padded_alias(imp, in, NULL);
}

/* The producing layer's output, without a Pad's zeros. */
static mco_shape layer_shape(const importer *imp, const value *v)
{
    return v->layer == MCO_INPUT ? imp->model->input_shape : imp->model->layers[v->layer].out_shape;
}

/* The activation's shape, with a Pad's zeros. */
static mco_shape act_shape(const importer *imp, const value *v)
{
    mco_shape s = layer_shape(imp, v);
    s.h += v->pad[0] + v->pad[2];
    s.w += v->pad[1] + v->pad[3];
    return s;
}

/* ---- Constants ---- */

/* Sets v's dims and count, checking each dim and the product (no overflow). */
static mco_status set_const_dims(importer *imp, value *v, size_t rank, const int64_t *dims, const char *what)
{
    if (rank > MAX_RANK) return fail(imp, MCO_ERR_UNSUPPORTED, "%s has %zu dimensions (at most %d)", what, rank, MAX_RANK);
    size_t count = 1;
    for (size_t d = 0; d < rank; d++) {
        if (dims[d] < 0 || (uint64_t)dims[d] > MAX_CONST_VALUES)
            return fail(imp, MCO_ERR_FORMAT, "%s has dimension %lld", what, (long long)dims[d]);
        if (dims[d] > 0 && count > MAX_CONST_VALUES / (size_t)dims[d])
            return fail(imp, MCO_ERR_RANGE, "%s has more than %zu values", what, MAX_CONST_VALUES);
        count *= (size_t)dims[d];
        v->dims[d] = dims[d];
    }
    v->rank = (int)rank;
    v->count = count;
    return MCO_OK;
}

static mco_status alloc_const(importer *imp, value *v)
{
    v->data = calloc(v->count ? v->count : 1, sizeof *v->data);
    return v->data ? MCO_OK : fail(imp, MCO_ERR_NOMEM, "out of memory for a %zu-value constant", v->count);
}

static uint64_t load_le(const uint8_t *p, size_t bytes)
{
    uint64_t u = 0;
    for (size_t i = 0; i < bytes; i++) u |= (uint64_t)p[i] << (8 * i);
    return u;
}

/* One element of raw_data (little-endian) as a double. */
static double raw_element(const uint8_t *p, int type)
{
    switch (type) {
    case MCO_ONNX_FLOAT: {
        uint32_t u = (uint32_t)load_le(p, 4);
        float f;
        memcpy(&f, &u, sizeof f);
        return f;
    }
    case MCO_ONNX_DOUBLE: {
        uint64_t u = load_le(p, 8);
        double d;
        memcpy(&d, &u, sizeof d);
        return d;
    }
    case MCO_ONNX_INT64: return (double)(int64_t)load_le(p, 8);
    case MCO_ONNX_INT32: return (double)(int32_t)(uint32_t)load_le(p, 4);
    case MCO_ONNX_INT8: return (double)(int8_t)p[0];
    default: return (double)p[0];   /* UINT8, BOOL */
    }
}

static size_t element_bytes(int type)
{
    switch (type) {
    case MCO_ONNX_FLOAT: case MCO_ONNX_INT32: return 4;
    case MCO_ONNX_DOUBLE: case MCO_ONNX_INT64: return 8;
    case MCO_ONNX_INT8: case MCO_ONNX_UINT8: case MCO_ONNX_BOOL: return 1;
    default: return 0;
    }
}

/* A TensorProto (initializer or attribute) into constant value v. */
static mco_status decode_tensor(importer *imp, const Onnx__TensorProto *t, const char *what, value *v)
{
    mco_status st = set_const_dims(imp, v, t->n_dims, t->dims, what);
    if (st != MCO_OK) return st;
    imp->file_values += v->count;
    if (t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
        return fail(imp, MCO_ERR_UNSUPPORTED, "%s is stored as external data", what);
    int type = t->data_type;
    size_t bytes = element_bytes(type);
    if (bytes == 0) return fail(imp, MCO_ERR_UNSUPPORTED, "%s has data type %d (supported: float, double, int8, uint8, int32, int64, bool)", what, type);
    v->is_int = type != MCO_ONNX_FLOAT && type != MCO_ONNX_DOUBLE;
    size_t typed = type == MCO_ONNX_FLOAT ? t->n_float_data
                 : type == MCO_ONNX_DOUBLE ? t->n_double_data
                 : type == MCO_ONNX_INT64 ? t->n_int64_data : t->n_int32_data;
    if (t->has_raw_data) {
        if (t->raw_data.len != v->count * bytes)
            return fail(imp, MCO_ERR_FORMAT, "%s: raw_data holds %zu bytes, its dims need %zu", what,
                        t->raw_data.len, v->count * bytes);
    } else if (typed != v->count) {
        return fail(imp, MCO_ERR_FORMAT, "%s holds %zu values, its dims need %zu", what, typed, v->count);
    }
    if ((st = alloc_const(imp, v)) != MCO_OK) return st;
    for (size_t i = 0; i < v->count; i++) {
        if (t->has_raw_data) v->data[i] = raw_element(t->raw_data.data + i * bytes, type);
        else if (type == MCO_ONNX_FLOAT) v->data[i] = t->float_data[i];
        else if (type == MCO_ONNX_DOUBLE) v->data[i] = t->double_data[i];
        else if (type == MCO_ONNX_INT64) v->data[i] = (double)t->int64_data[i];
        else v->data[i] = t->int32_data[i];
    }
    return MCO_OK;
}

/* A new constant output of the current node with the given dims; data
 * allocated (zeroed) for the caller to fill. */
static mco_status define_const(importer *imp, size_t rank, const int64_t *dims, int is_int, value **out)
{
    const char *name;
    mco_status st = first_output(imp, &name);
    if (st == MCO_OK) st = new_value(imp, name, VALUE_CONST, out);
    if (st == MCO_OK) st = set_const_dims(imp, *out, rank, dims, "the result");
    if (st == MCO_OK && (*out)->count > FOLD_FACTOR * imp->file_values + FOLD_SLACK - imp->folded_values)
        st = fail(imp, MCO_ERR_RANGE, "constant folding makes more values than %d times the file's %zu (a hostile model?)",
                  FOLD_FACTOR, imp->file_values);
    if (st == MCO_OK) imp->folded_values += (*out)->count;
    if (st == MCO_OK) st = alloc_const(imp, *out);
    if (st == MCO_OK) (*out)->is_int = is_int;
    return st;
}

/* The integer value of a constant element; fails if it is not an integer
 * within +-2^31. */
static mco_status const_int(importer *imp, const value *v, size_t i, int64_t *out)
{
    double d = v->data[i];
    if (!(d == floor(d) && fabs(d) < 2147483648.0))
        return fail(imp, MCO_ERR_UNSUPPORTED, "'%s' element %zu is %g, expected an integer", v->name, i, d);
    *out = (int64_t)d;
    return MCO_OK;
}

/* ---- Attributes ---- */

static const Onnx__AttributeProto *find_attr(const Onnx__NodeProto *n, const char *name)
{
    for (size_t i = 0; i < n->n_attribute; i++)
        if (n->attribute[i]->name && strcmp(n->attribute[i]->name, name) == 0) return n->attribute[i];
    return NULL;
}

/* Rejects an attribute not in the NULL-terminated list `known`. */
static mco_status check_attrs(importer *imp, const char *const *known)
{
    char buf[48];
    for (size_t i = 0; i < imp->node->n_attribute; i++) {
        const Onnx__AttributeProto *a = imp->node->attribute[i];
        int ok = 0;
        for (const char *const *k = known; *k && !ok; k++) ok = a->name && strcmp(a->name, *k) == 0;
        if (!ok) return fail(imp, MCO_ERR_UNSUPPORTED, "attribute '%s' is not supported", mco_onnx_printable(a->name, buf));
        if (a->ref_attr_name && a->ref_attr_name[0])
            return fail(imp, MCO_ERR_UNSUPPORTED, "attribute '%s' refers to a function attribute", mco_onnx_printable(a->name, buf));
    }
    return MCO_OK;
}

static mco_status attr_int(importer *imp, const char *name, int64_t fallback, int64_t *out)
{
    const Onnx__AttributeProto *a = find_attr(imp->node, name);
    *out = fallback;
    if (!a) return MCO_OK;
    if (!a->has_i || (a->has_type && a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT))
        return fail(imp, MCO_ERR_FORMAT, "attribute '%s' is not an integer", name);
    *out = a->i;
    return MCO_OK;
}

static mco_status attr_float(importer *imp, const char *name, float fallback, float *out)
{
    const Onnx__AttributeProto *a = find_attr(imp->node, name);
    *out = fallback;
    if (!a) return MCO_OK;
    if (!a->has_f || (a->has_type && a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT))
        return fail(imp, MCO_ERR_FORMAT, "attribute '%s' is not a float", name);
    *out = a->f;
    return MCO_OK;
}

/* An INTS attribute of exactly `n` values in [min, max]; absent: `fallback`
 * for each. */
static mco_status attr_ints(importer *imp, const char *name, size_t n, int64_t min, int64_t max,
                            int64_t fallback, int64_t *out)
{
    const Onnx__AttributeProto *a = find_attr(imp->node, name);
    for (size_t i = 0; i < n; i++) out[i] = fallback;
    if (!a) return MCO_OK;
    if (a->has_type && a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS)
        return fail(imp, MCO_ERR_FORMAT, "attribute '%s' is not a list of integers", name);
    if (a->n_ints != n)
        return fail(imp, MCO_ERR_UNSUPPORTED, "attribute '%s' has %zu values, expected %zu (2-D only)", name, a->n_ints, n);
    for (size_t i = 0; i < n; i++) {
        if (a->ints[i] < min || a->ints[i] > max)
            return fail(imp, MCO_ERR_UNSUPPORTED, "attribute '%s' value %lld is outside %lld..%lld", name,
                        (long long)a->ints[i], (long long)min, (long long)max);
        out[i] = a->ints[i];
    }
    return MCO_OK;
}

/* A STRING attribute compared against `expected` values; *index gets the
 * match (or `fallback` when absent). */
static mco_status attr_choice(importer *imp, const char *name, const char *const *choices, int fallback,
                              int *index)
{
    char buf[48];
    const Onnx__AttributeProto *a = find_attr(imp->node, name);
    *index = fallback;
    if (!a) return MCO_OK;
    if (!a->has_s) return fail(imp, MCO_ERR_FORMAT, "attribute '%s' is not a string", name);
    for (int i = 0; choices[i]; i++)
        if (a->s.len == strlen(choices[i]) && memcmp(a->s.data, choices[i], a->s.len) == 0) {
            *index = i;
            return MCO_OK;
        }
    char text[41];
    size_t len = a->s.len < 40 ? a->s.len : 40;
    memcpy(text, a->s.data, len);
    text[len] = '\0';
    return fail(imp, MCO_ERR_UNSUPPORTED, "attribute %s='%s' is not supported", name, mco_onnx_printable(text, buf));
}

/* ---- Layers ---- */

/* Layer name from the node name: printable characters, at most
 * MCO_NAME_MAX - 1; empty leaves mcuopt's default name. */
static void layer_name(const importer *imp, char *out)
{
    const char *s = imp->node->name ? imp->node->name : "";
    size_t len = strlen(s), start = len > MCO_NAME_MAX - 1 ? len - (MCO_NAME_MAX - 1) : 0;
    size_t i = 0;
    for (; s[start + i]; i++) {
        char ch = s[start + i];
        out[i] = (ch >= 0x20 && ch < 0x7f) ? ch : '_';
    }
    out[i] = '\0';
}

/* Appends layer `l` reading `inputs`, infers shapes (errors name the node)
 * and allocates its parameters; *index gets its index. */
static mco_status add_layer(importer *imp, mco_layer *l, int n_inputs, const value *const *inputs, int *index)
{
    l->n_inputs = n_inputs;
    for (int k = 0; k < n_inputs; k++) l->inputs[k] = inputs[k]->layer;
    layer_name(imp, l->name);
    mco_status st = mco_model_add_layer(imp->model, l, index);
    if (st == MCO_OK) st = mco_model_infer_shapes(imp->model);
    if (st == MCO_OK) st = mco_model_alloc_params(imp->model);
    if (st != MCO_OK) {
        char msg[300];
        snprintf(msg, sizeof msg, "%s", mco_last_error());
        return fail(imp, st, "%s", msg);
    }
    return MCO_OK;
}

/* Adds a layer with no parameters reading one activation; the output keeps
 * the input's rank unless `rank` is non-zero. */
static mco_status add_simple(importer *imp, mco_layer *l, const value *in, int rank)
{
    int index;
    int act_rank = rank ? rank : in->act_rank;
    mco_shape flat = rank ? (mco_shape){0, 0, 0} : in->flat_of;
    mco_status st = add_layer(imp, l, 1, &in, &index);
    return st == MCO_OK ? define_act(imp, index, act_rank, flat, 1) : st;
}

static int is_weighted(mco_layer_type t)
{
    return t == MCO_LAYER_CONV2D || t == MCO_LAYER_DEPTHWISE_CONV2D || t == MCO_LAYER_DENSE ||
           t == MCO_LAYER_CONV_TRANSPOSE2D;
}

/* One spatial axis of an ONNX window: padding before and after, output size. */
typedef struct {
    int64_t pad_begin, pad_end, out;
} onnx_axis;

enum { AUTO_PAD_NOTSET, AUTO_PAD_VALID, AUTO_PAD_SAME_UPPER, AUTO_PAD_SAME_LOWER };

/* ONNX's output size and padding of one axis. */
static onnx_axis onnx_window_axis(int64_t in, int64_t k, int64_t s, int auto_pad, int64_t pb, int64_t pe,
                                  int ceil_mode)
{
    onnx_axis a = {pb, pe, 0};
    if (auto_pad == AUTO_PAD_VALID) {
        a.pad_begin = a.pad_end = 0;
    } else if (auto_pad != AUTO_PAD_NOTSET) {
        int64_t out = (in + s - 1) / s, total = (out - 1) * s + k - in;
        if (total < 0) total = 0;
        a.pad_begin = auto_pad == AUTO_PAD_SAME_UPPER ? total / 2 : (total + 1) / 2;
        a.pad_end = total - a.pad_begin;
        a.out = out;
        return a;
    }
    int64_t span = in + a.pad_begin + a.pad_end - k;
    if (span < 0) return a;   /* out 0: the window does not fit */
    a.out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
    /* PyTorch's rule, which its exports assume: the last window must start
     * inside the input or the begin padding. */
    if (ceil_mode && (a.out - 1) * s >= in + a.pad_begin) a.out--;
    return a;
}

/* Whether mcuopt's `padding` ("valid" or TensorFlow "same") gives the
 * same output size and padding before as ONNX on one axis (padding after
 * then reads only zeros / is skipped in both). */
static int axis_matches(int64_t in, int64_t k, int64_t s, onnx_axis a, mco_padding padding)
{
    if (padding == MCO_PADDING_VALID) return a.pad_begin == 0 && a.out == (in >= k ? (in - k) / s + 1 : 0);
    int64_t out = (in + s - 1) / s, total = (out - 1) * s + k - in;
    return a.out == out && a.pad_begin == (total > 0 ? total / 2 : 0);
}

/* The padding after the data that gives ONNX's output size with mcuopt's
 * floor rule: the file's own, or (ceil_mode) what the last window reaches. */
static int64_t explicit_pad_end(int64_t in, int64_t k, int64_t s, onnx_axis a)
{
    int64_t floor_out = (in + a.pad_begin + a.pad_end - k) / s + 1;
    return floor_out == a.out ? a.pad_end : (a.out - 1) * s + k - in - a.pad_begin;
}

/* Reads strides / pads / auto_pad / dilations / ceil_mode of a Conv or pool
 * node with kernel kh x kw on input `in` and sets l's kernel, stride and
 * padding: "valid" or TensorFlow "same" where they match, otherwise
 * explicit pads (SAME_LOWER, PyTorch's symmetric pads at stride 2,
 * ceil_mode as extra padding at the end). `count_include_pad`: an
 * AveragePool dividing by the whole window (its attribute, or a Pad before
 * it, whose zeros are inputs to the pool): l->count_pad where a window
 * reaches the padding, refused where a ceil_mode window passes it (PyTorch
 * and ONNX then divide by the part inside the padding). */
static mco_status read_window(importer *imp, mco_shape in, const int *pre, int64_t kh, int64_t kw,
                              int count_include_pad, mco_layer *l)
{
    static const char *const auto_pads[] = {"NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER", NULL};
    int64_t strides[2], pads[4], dilations[2], ceil_mode;
    int auto_pad;
    mco_status st = attr_ints(imp, "strides", 2, 1, MCO_MAX_DIM, 1, strides);
    if (st == MCO_OK) st = attr_ints(imp, "pads", 4, 0, MCO_MAX_DIM, 0, pads);
    if (st == MCO_OK) st = attr_ints(imp, "dilations", 2, 1, MCO_MAX_DIM, 1, dilations);
    if (st == MCO_OK && (dilations[0] != 1 || dilations[1] != 1)) {
        /* the general convolution (graph.h): a Conv's dilations; the
         * window then spans (kernel - 1) * dilation + 1 */
        if (l->type != MCO_LAYER_CONV2D && l->type != MCO_LAYER_DEPTHWISE_CONV2D)
            return fail(imp, MCO_ERR_UNSUPPORTED, "dilations %lldx%lld (only 1)", (long long)dilations[0],
                        (long long)dilations[1]);
        if ((kh - 1) * dilations[0] + 1 > MCO_MAX_DIM || (kw - 1) * dilations[1] + 1 > MCO_MAX_DIM)
            return fail(imp, MCO_ERR_UNSUPPORTED, "dilations %lldx%lld of the %lldx%lld kernel span more than %d",
                        (long long)dilations[0], (long long)dilations[1], (long long)kh, (long long)kw, MCO_MAX_DIM);
        l->dilation_h = (int)dilations[0];
        l->dilation_w = (int)dilations[1];
        kh = (kh - 1) * dilations[0] + 1;   /* from here on: the span */
        kw = (kw - 1) * dilations[1] + 1;
    }
    if (st == MCO_OK) st = attr_int(imp, "ceil_mode", 0, &ceil_mode);
    if (st == MCO_OK) st = attr_choice(imp, "auto_pad", auto_pads, AUTO_PAD_NOTSET, &auto_pad);
    if (st != MCO_OK) return st;
    if (auto_pad != AUTO_PAD_NOTSET && (pads[0] || pads[1] || pads[2] || pads[3]))
        return fail(imp, MCO_ERR_FORMAT, "has both auto_pad and pads");
    if (pre && (pre[0] || pre[1] || pre[2] || pre[3])) {   /* a Pad's zeros before the window's own padding */
        if (auto_pad != AUTO_PAD_NOTSET)
            return fail(imp, MCO_ERR_UNSUPPORTED, "auto_pad after a Pad (only explicit pads)");
        if (l->type == MCO_LAYER_AVGPOOL2D && !count_include_pad && (pads[0] || pads[1] || pads[2] || pads[3]))
            return fail(imp, MCO_ERR_UNSUPPORTED, "a Pad before an AveragePool with pads of its own and "
                        "count_include_pad=0 (the pool would count the Pad's zeros but not its own padding)");
        for (int i = 0; i < 4; i++) pads[i] += pre[i];
        count_include_pad = l->type == MCO_LAYER_AVGPOOL2D;   /* the Pad's zeros are the pool's inputs: counted */
    }
    onnx_axis ah = onnx_window_axis(in.h, kh, strides[0], auto_pad, pads[0], pads[2], ceil_mode != 0);
    onnx_axis aw = onnx_window_axis(in.w, kw, strides[1], auto_pad, pads[1], pads[3], ceil_mode != 0);
    if (ah.out < 1 || aw.out < 1)
        return fail(imp, MCO_ERR_SHAPE, "%lldx%lld window does not fit the %dx%d input", (long long)kh,
                    (long long)kw, in.h, in.w);
    int valid = axis_matches(in.h, kh, strides[0], ah, MCO_PADDING_VALID) &&
                axis_matches(in.w, kw, strides[1], aw, MCO_PADDING_VALID);
    int same = axis_matches(in.h, kh, strides[0], ah, MCO_PADDING_SAME) &&
               axis_matches(in.w, kw, strides[1], aw, MCO_PADDING_SAME);
    /* Where both fit (1x1 windows ...), the file's auto_pad decides, so
     * mcuopt's own exports (SAME_UPPER for "same") come back unchanged. */
    int prefer_same = auto_pad == AUTO_PAD_SAME_UPPER || auto_pad == AUTO_PAD_SAME_LOWER;
    l->padding = same && (prefer_same || !valid) ? MCO_PADDING_SAME : MCO_PADDING_VALID;
    if (!valid && !same) {
        int64_t pad[4] = {ah.pad_begin, aw.pad_begin, explicit_pad_end(in.h, kh, strides[0], ah),
                          explicit_pad_end(in.w, kw, strides[1], aw)};
        int64_t k[4] = {kh, kw, kh, kw};
        for (int i = 0; i < 4; i++)
            if (pad[i] >= k[i])
                return fail(imp, MCO_ERR_UNSUPPORTED,
                            "padding (top %lld, left %lld, bottom %lld, right %lld) is not smaller than the "
                            "%lldx%lld window", (long long)pad[0], (long long)pad[1], (long long)pad[2],
                            (long long)pad[3], (long long)kh, (long long)kw);
        l->padding = MCO_PADDING_EXPLICIT;
        l->pad_top = (int)pad[0];
        l->pad_left = (int)pad[1];
        l->pad_bottom = (int)pad[2];
        l->pad_right = (int)pad[3];
    }
    int reaches_pad = ah.pad_begin || aw.pad_begin || (ah.out - 1) * strides[0] + kh > in.h ||
                      (aw.out - 1) * strides[1] + kw > in.w;
    if (count_include_pad && reaches_pad) {
        if ((ah.out - 1) * strides[0] + kh > in.h + ah.pad_begin + ah.pad_end ||
            (aw.out - 1) * strides[1] + kw > in.w + aw.pad_begin + aw.pad_end)
            return fail(imp, MCO_ERR_UNSUPPORTED, "count_include_pad=1 with ceil_mode=1 where the last window passes "
                        "the padding (it would be divided by its part inside the padding; mcuopt divides every "
                        "window by its whole size)");
        l->count_pad = 1;
    }
    l->kernel_h = (int)(kh - 1) / (l->dilation_h > 1 ? l->dilation_h : 1) + 1;   /* undilated */
    l->kernel_w = (int)(kw - 1) / (l->dilation_w > 1 ? l->dilation_w : 1) + 1;
    l->stride_h = (int)strides[0];
    l->stride_w = (int)strides[1];
    return MCO_OK;
}

static mco_status need_rank4(importer *imp, const value *x)
{
    return x->act_rank == 4 ? MCO_OK : fail(imp, MCO_ERR_UNSUPPORTED, "input must be 4-D [N, C, H, W]");
}

static mco_status import_conv(importer *imp)
{
    static const char *const attrs[] = {"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides", NULL};
    value *x, *w, *b;
    int64_t group, kshape[2];
    mco_status st = check_attrs(imp, attrs);
    if (st == MCO_OK) st = need_act_padded(imp, 0, &x);
    if (st == MCO_OK) st = need_rank4(imp, x);
    if (st == MCO_OK) st = need_const(imp, 1, 0, &w);
    if (st == MCO_OK) st = need_const(imp, 2, 1, &b);
    if (st == MCO_OK) st = attr_int(imp, "group", 1, &group);
    if (st != MCO_OK) return st;
    if (w->rank != 4) return fail(imp, MCO_ERR_UNSUPPORTED, "weights have %d dimensions, expected 4 (2-D convolution)", w->rank);
    mco_shape in = layer_shape(imp, x);   /* a Pad before it: its zeros join the conv's padding */
    int64_t filters = w->dims[0], per_group = w->dims[1], kh = w->dims[2], kw = w->dims[3];
    if ((st = attr_ints(imp, "kernel_shape", 2, 1, MCO_MAX_DIM, 0, kshape)) != MCO_OK) return st;
    if (kshape[0] && (kshape[0] != kh || kshape[1] != kw)) return fail(imp, MCO_ERR_FORMAT, "kernel_shape differs from the weights' %lldx%lld", (long long)kh, (long long)kw);
    if (kh < 1 || kw < 1 || kh > MCO_MAX_DIM || kw > MCO_MAX_DIM || filters < 1 || filters > MCO_MAX_DIM)
        return fail(imp, MCO_ERR_UNSUPPORTED, "weights of %lldx%lldx%lldx%lld are out of range", (long long)filters,
                    (long long)per_group, (long long)kh, (long long)kw);
    mco_layer l = {0};
    if (group == 1 && per_group == in.c) {
        l.type = MCO_LAYER_CONV2D;
        l.units = (int)filters;
    } else if (group == in.c && per_group == 1 && filters % in.c == 0) {
        /* depthwise, filters / C per channel (a depth multiplier) */
        l.type = MCO_LAYER_DEPTHWISE_CONV2D;
        l.depth_multiplier = (int)(filters / in.c);
    } else if (group > 1 && group < in.c && in.c % group == 0 && per_group == in.c / group && filters % group == 0) {
        l.type = MCO_LAYER_CONV2D;   /* grouped */
        l.units = (int)filters;
        l.groups = (int)group;
    } else {
        return fail(imp, MCO_ERR_UNSUPPORTED,
                    "group %lld with %d input channels, %lld filters of %lld channels (group must divide the "
                    "input channels and the filters, each filter reading input channels / group)",
                    (long long)group, in.c, (long long)filters, (long long)per_group);
    }
    if (b && b->count != (size_t)filters)
        return fail(imp, MCO_ERR_SHAPE, "bias has %zu values for %lld filters", b->count, (long long)filters);
    if ((st = read_window(imp, in, x->pad, kh, kw, 0, &l)) != MCO_OK) return st;
    int index;
    if ((st = add_layer(imp, &l, 1, (const value *const *)&x, &index)) != MCO_OK) return st;
    mco_layer *made = &imp->model->layers[index];
    float *weights = made->params[MCO_PARAM_WEIGHTS].data, *bias = made->params[MCO_PARAM_BIAS].data;
    int k_h = (int)kh, k_w = (int)kw;
    for (int m = 0; m < (int)filters; m++)
        for (int y = 0; y < k_h; y++)
            for (int xx = 0; xx < k_w; xx++) {
                if (l.type == MCO_LAYER_DEPTHWISE_CONV2D) {
                    /* [C x mult][1][kh][kw] -> [kh][kw][C x mult]: filter m reads channel m / mult */
                    weights[((size_t)y * (size_t)k_w + (size_t)xx) * (size_t)filters + (size_t)m] =
                        (float)w->data[mco_onnx_oihw_index(m, y, xx, 0, k_h, k_w, 1)];
                } else {   /* [filters][C / group][kh][kw] -> OHWI */
                    int pg = (int)per_group;
                    for (int c = 0; c < pg; c++)
                        weights[mco_onnx_ohwi_index(m, y, xx, c, k_h, k_w, pg)] =
                            (float)w->data[mco_onnx_oihw_index(m, y, xx, c, k_h, k_w, pg)];
                }
            }
    for (int m = 0; m < (int)filters; m++) bias[m] = b ? (float)b->data[m] : 0.0f;
    return define_act(imp, index, 4, (mco_shape){0, 0, 0}, 1);
}

/* A dense layer of `units` reading x; weight(u, k) gives ONNX's weight of
 * unit u and ONNX input index k. */
typedef double (*dense_weight_fn)(const value *w, int transposed, size_t unit, size_t k);

static double gemm_weight(const value *w, int transposed, size_t unit, size_t k)
{
    size_t units = (size_t)(transposed ? w->dims[0] : w->dims[1]);
    size_t inputs = (size_t)(transposed ? w->dims[1] : w->dims[0]);
    return transposed ? w->data[unit * inputs + k] : w->data[k * units + unit];
}

/* Gemm (alpha, beta, transB) and MatMul: a dense layer; a flattened conv
 * output's NCHW order is mapped to mcuopt's NHWC order. */
static mco_status add_dense(importer *imp, value *x, const value *w, int transposed, double alpha,
                            const value *c, double beta)
{
    if (x->act_rank != 2) return fail(imp, MCO_ERR_UNSUPPORTED, "input must be 2-D [N, features]; flatten it first");
    if (w->rank != 2) return fail(imp, MCO_ERR_UNSUPPORTED, "weights have %d dimensions, expected 2", w->rank);
    mco_shape in = act_shape(imp, x);
    int64_t inputs = transposed ? w->dims[1] : w->dims[0], units = transposed ? w->dims[0] : w->dims[1];
    if (inputs != in.c)
        return fail(imp, MCO_ERR_SHAPE, "weights take %lld inputs, the input has %d", (long long)inputs, in.c);
    if (units < 1 || units > MCO_MAX_DIM) return fail(imp, MCO_ERR_UNSUPPORTED, "%lld units", (long long)units);
    if (c && c->count != (size_t)units && c->count != 1)
        return fail(imp, MCO_ERR_SHAPE, "bias has %zu values for %lld units", c->count, (long long)units);
    mco_layer l = {0};
    l.type = MCO_LAYER_DENSE;
    l.units = (int)units;
    int index;
    mco_status st = add_layer(imp, &l, 1, (const value *const *)&x, &index);
    if (st != MCO_OK) return st;
    mco_layer *made = &imp->model->layers[index];
    float *weights = made->params[MCO_PARAM_WEIGHTS].data, *bias = made->params[MCO_PARAM_BIAS].data;
    int permute = x->flat_of.h * x->flat_of.w > 1;
    for (size_t u = 0; u < (size_t)units; u++) {
        for (size_t k = 0; k < (size_t)in.c; k++) {
            size_t onnx_k = permute ? mco_onnx_flat_index(k, x->flat_of) : k;
            weights[u * (size_t)in.c + k] = (float)(alpha * gemm_weight(w, transposed, u, onnx_k));
        }
        bias[u] = c ? (float)(beta * c->data[c->count == 1 ? 0 : u]) : 0.0f;
    }
    return define_act(imp, index, 2, (mco_shape){0, 0, 0}, 1);
}

static mco_status import_gemm(importer *imp)
{
    static const char *const attrs[] = {"alpha", "beta", "transA", "transB", "broadcast", NULL};
    value *a, *b, *c;
    int64_t trans_a, trans_b;
    float alpha, beta;
    mco_status st = check_attrs(imp, attrs);
    if (st == MCO_OK) st = need_act(imp, 0, &a);
    if (st == MCO_OK) st = need_const(imp, 1, 0, &b);
    if (st == MCO_OK) st = need_const(imp, 2, 1, &c);
    if (st == MCO_OK) st = attr_int(imp, "transA", 0, &trans_a);
    if (st == MCO_OK) st = attr_int(imp, "transB", 0, &trans_b);
    if (st == MCO_OK) st = attr_float(imp, "alpha", 1.0f, &alpha);
    if (st == MCO_OK) st = attr_float(imp, "beta", 1.0f, &beta);
    if (st != MCO_OK) return st;
    if (trans_a) return fail(imp, MCO_ERR_UNSUPPORTED, "transA=1 is not supported");
    return add_dense(imp, a, b, trans_b != 0, alpha, c, beta);
}

static mco_status import_matmul(importer *imp)
{
    static const char *const attrs[] = {NULL};
    value *a, *b;
    mco_status st = check_attrs(imp, attrs);
    if (st == MCO_OK) st = need_act(imp, 0, &a);
    if (st == MCO_OK) st = need_const(imp, 1, 0, &b);
    return st == MCO_OK ? add_dense(imp, a, b, 0, 1.0, NULL, 0.0) : st;
}

/* Add of an activation and a constant: the bias of the Conv / Gemm /
 * MatMul before it, when nothing else reads that layer's output. */
/* x op c with x the model input (read by this node alone, before any
 * layer) and c one number (or one per channel, all equal): folded into the
 * input normalisation, as PyTorch's `(x - mean) / std` at the start of
 * forward() exports it. op: '+', '-', '*', '/'. */
static mco_status fold_input_affine(importer *imp, const value *x, const value *c, char op)
{
    if (x->layer != MCO_INPUT || is_padded(x) || imp->model->n_layers > 0 || count_uses(imp, x->name) != 1)
        return fail(imp, MCO_ERR_UNSUPPORTED, "%s a constant is supported only on the model input, before any other "
                    "node reads it (folded into the input normalisation)",
                    op == '+' ? "adding" : op == '-' ? "subtracting" : op == '*' ? "multiplying by" : "dividing by");
    if (c->count < 1) return fail(imp, MCO_ERR_FORMAT, "the constant is empty");
    double v = c->data[0];
    for (size_t i = 1; i < c->count; i++)
        if (c->data[i] != v)
            return fail(imp, MCO_ERR_UNSUPPORTED, "a normalisation with a value per channel (%g, %g, ...) is not "
                        "supported (mcuopt's is one scale, mean and std)", v, c->data[i]);
    if (!isfinite(v) || ((op == '*' || op == '/') && v == 0.0))
        return fail(imp, MCO_ERR_UNSUPPORTED, "normalising the input with %g", v);
    switch (op) {
    case '+': imp->in_b += v; break;
    case '-': imp->in_b -= v; break;
    case '*': imp->in_a *= v; imp->in_b *= v; break;
    default: imp->in_a /= v; imp->in_b /= v; break;
    }
    return define_alias(imp, x);
}

/* Sub and Div: only of a constant from the model input (fold_input_affine). */
static mco_status import_sub_div(importer *imp, char op)
{
    static const char *const attrs[] = {NULL};
    value *x, *c;
    mco_status st = check_attrs(imp, attrs);
    if (st == MCO_OK) st = need_act(imp, 0, &x);
    if (st == MCO_OK) st = need_const(imp, 1, 0, &c);
    return st == MCO_OK ? fold_input_affine(imp, x, c, op) : st;
}

static mco_status import_sub(importer *imp) { return import_sub_div(imp, '-'); }
static mco_status import_div(importer *imp) { return import_sub_div(imp, '/'); }

static mco_status fold_bias_add(importer *imp, value *x, const value *bias)
{
    if (x->layer == MCO_INPUT || !is_weighted(imp->model->layers[x->layer].type) || !x->sole_path ||
        count_uses(imp, x->name) != 1)
        return fail(imp, MCO_ERR_UNSUPPORTED,
                    "adding a constant is supported only as the bias of a Conv, Gemm or MatMul whose output nothing else reads");
    mco_layer *l = &imp->model->layers[x->layer];
    size_t channels = (size_t)l->out_shape.c;
    /* Broadcast from the right: every dim 1 except the channel axis (axis 1
     * of the activation), which is 1 or the channel count. */
    int channel_dim = bias->rank - (x->act_rank - 1);
    for (int d = 0; d < bias->rank; d++) {
        int ok = bias->dims[d] == 1 || (d == channel_dim && (size_t)bias->dims[d] == channels);
        if (!ok || bias->rank > x->act_rank)
            return fail(imp, MCO_ERR_UNSUPPORTED, "a constant of shape with %d dims does not broadcast as a per-channel bias",
                        bias->rank);
    }
    float *b = l->params[MCO_PARAM_BIAS].data;
    for (size_t c = 0; c < channels; c++) b[c] += (float)bias->data[bias->count == 1 ? 0 : c];
    return define_act(imp, x->layer, x->act_rank, x->flat_of, 1);
}

static mco_status import_add(importer *imp)
{
    static const char *const attrs[] = {"axis", "broadcast", NULL};
    value *a, *b;
    mco_status st = check_attrs(imp, attrs);
    if (st == MCO_OK) st = node_input(imp, 0, &a);
    if (st == MCO_OK) st = node_input(imp, 1, &b);
    if (st != MCO_OK) return st;
    if (!a || !b) return fail(imp, MCO_ERR_FORMAT, "needs two inputs");
    if ((a->kind == VALUE_ACT && (st = no_pad(imp, a)) != MCO_OK) || (b->kind == VALUE_ACT && (st = no_pad(imp, b)) != MCO_OK))
        return st;
    if (a->kind == VALUE_CONST) {
        value *t = a;
        a = b;
        b = t;
    }
    if (b->kind == VALUE_CONST) return a->layer == MCO_INPUT ? fold_input_affine(imp, a, b, '+') : fold_bias_add(imp, a, b);
    if (a->act_rank != b->act_rank) return fail(imp, MCO_ERR_UNSUPPORTED, "inputs of rank %d and %d", a->act_rank, b->act_rank);
    mco_layer l = {0};
    l.type = MCO_LAYER_ADD;
    const value *inputs[2] = {a, b};
    int index;
    if ((st = add_layer(imp, &l, 2, inputs, &index)) != MCO_OK) return st;
    return define_act(imp, index, a->act_rank, a->flat_of, 1);
}

/* Concat of activations along the channels (PyTorch's torch.cat(dim=1)):
 * axis 1 of [N, C, H, W], or of [N, features] not flattened from a conv
 * output (whose NCHW order the next dense layer's weights follow). mcuopt's
 * concat takes two inputs, so n inputs become a chain of n - 1 concats
 * (each int8 one requantizes to its own output scale). */
static mco_status import_concat(importer *imp)
{
    static const char *const attrs[] = {"axis", NULL};
    int64_t axis;
    size_t n = imp->node->n_input;
    mco_status st = check_attrs(imp, attrs);
    if (st == MCO_OK) st = attr_int(imp, "axis", 1, &axis);
    if (st != MCO_OK) return st;
    if (n < 2) return fail(imp, MCO_ERR_UNSUPPORTED, "Concat of %zu input(s) (at least two)", n);
    value *first, *x;
    if ((st = need_act(imp, 0, &first)) != MCO_OK) return st;
    if (axis < 0) axis += first->act_rank;
    if (axis != 1) return fail(imp, MCO_ERR_UNSUPPORTED, "Concat along axis %lld (only the channels, axis 1)", (long long)axis);
    value acc = *first;   /* the chain so far */
    for (size_t k = 1; k < n; k++) {
        if ((st = need_act(imp, (int)k, &x)) != MCO_OK) return st;
        if (x->act_rank != first->act_rank)
            return fail(imp, MCO_ERR_UNSUPPORTED, "inputs of rank %d and %d", first->act_rank, x->act_rank);
        if (acc.flat_of.h * acc.flat_of.w > 1 || x->flat_of.h * x->flat_of.w > 1)
            return fail(imp, MCO_ERR_UNSUPPORTED, "Concat of flattened conv outputs (concatenate before flattening)");
        mco_layer l = {0};
        l.type = MCO_LAYER_CONCAT;
        const value *inputs[2] = {&acc, x};
        int index;
        if ((st = add_layer(imp, &l, 2, inputs, &index)) != MCO_OK) return st;
        acc.layer = index;
        acc.flat_of = (mco_shape){0, 0, 0};
    }
    return define_act(imp, acc.layer, first->act_rank, (mco_shape){0, 0, 0}, 1);
}

static mco_status import_pool(importer *imp, mco_layer_type type)
{
    static const char *const max_attrs[] = {"auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides", NULL};
    static const char *const avg_attrs[] = {"auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads", "strides", NULL};
    value *x;
    int64_t kernel[2], include_pad, storage_order;
    mco_status st = check_attrs(imp, type == MCO_LAYER_MAXPOOL2D ? max_attrs : avg_attrs);
    if (st == MCO_OK) st = need_act_padded(imp, 0, &x);
    if (st == MCO_OK && is_padded(x) && type == MCO_LAYER_MAXPOOL2D)
        return fail(imp, MCO_ERR_UNSUPPORTED, "a Pad before a MaxPool is not supported (only before a Conv or an "
                    "AveragePool)");
    if (st == MCO_OK) st = need_rank4(imp, x);
    if (st == MCO_OK) st = attr_ints(imp, "kernel_shape", 2, 1, MCO_MAX_DIM, 0, kernel);
    if (st == MCO_OK) st = attr_int(imp, "count_include_pad", 0, &include_pad);
    if (st == MCO_OK) st = attr_int(imp, "storage_order", 0, &storage_order);
    if (st != MCO_OK) return st;
    if (kernel[0] == 0) return fail(imp, MCO_ERR_FORMAT, "has no kernel_shape");
    if (storage_order != 0) return fail(imp, MCO_ERR_UNSUPPORTED, "storage_order=%lld", (long long)storage_order);
    mco_layer l = {0};
    l.type = type;
    /* a Pad before it: its zeros join the pool's padding, counted in the divisor */
    if ((st = read_window(imp, layer_shape(imp, x), x->pad, kernel[0], kernel[1], include_pad != 0, &l)) != MCO_OK)
        return st;
    return add_simple(imp, &l, x, 0);
}

static mco_status import_global_avgpool(importer *imp)
{
    static const char *const attrs[] = {NULL};
    value *x;
    mco_status st = check_attrs(imp, attrs);
    if (st == MCO_OK) st = need_act(imp, 0, &x);
    if (st == MCO_OK) st = need_rank4(imp, x);
    if (st != MCO_OK) return st;
    mco_layer l = {0};
    l.type = MCO_LAYER_GLOBAL_AVGPOOL;
    return add_simple(imp, &l, x, 4);
}

/* ReduceMean over the two spatial axes (PyTorch's x.mean((2, 3)), written
 * at opsets up to 17 with an `axes` attribute): a global average pool.
 * keepdims=1 (the default) gives [N, C, 1, 1]; keepdims=0 gives [N, C],
 * the same values as Squeeze would leave. */
static mco_status import_reducemean(importer *imp)
{
    static const char *const attrs[] = {"axes", "keepdims", NULL};
    value *x;
    int64_t axes[2], keepdims;
    mco_status st = check_attrs(imp, attrs);
    if (st == MCO_OK) st = need_act(imp, 0, &x);
    if (st == MCO_OK) st = need_rank4(imp, x);
    if (st == MCO_OK) st = attr_ints(imp, "axes", 2, -4, 3, 0, axes);
    if (st == MCO_OK) st = attr_int(imp, "keepdims", 1, &keepdims);
    if (st != MCO_OK) return st;
    for (int i = 0; i < 2; i++)
        if (axes[i] < 0) axes[i] += 4;
    if (!((axes[0] == 2 && axes[1] == 3) || (axes[0] == 3 && axes[1] == 2)))
        return fail(imp, MCO_ERR_UNSUPPORTED, "a mean only over the spatial axes 2 and 3 (global average pooling)");
    mco_layer l = {0};
    l.type = MCO_LAYER_GLOBAL_AVGPOOL;
    return add_simple(imp, &l, x, keepdims ? 4 : 2);
}

static mco_status import_batchnorm(importer *imp)
{
    static const char *const attrs[] = {"epsilon", "momentum", "spatial", "training_mode", "is_test", NULL};
    value *x, *p[4];
    int64_t spatial, training;
    float epsilon, momentum;
    mco_status st = check_attrs(imp, attrs);
    if (st == MCO_OK) st = need_act(imp, 0, &x);
    for (int k = 0; k < 4 && st == MCO_OK; k++) st = need_const(imp, k + 1, 0, &p[k]);
    if (st == MCO_OK) st = attr_float(imp, "epsilon", 1e-5f, &epsilon);
    if (st == MCO_OK) st = attr_float(imp, "momentum", 0.9f, &momentum);
    if (st == MCO_OK) st = attr_int(imp, "spatial", 1, &spatial);
    if (st == MCO_OK) st = attr_int(imp, "training_mode", 0, &training);
    if (st != MCO_OK) return st;
    if (spatial != 1 || training != 0)
        return fail(imp, MCO_ERR_UNSUPPORTED, "spatial=%lld, training_mode=%lld (only 1 and 0)", (long long)spatial,
                    (long long)training);
    if (!(epsilon > 0.0f) || !(momentum > 0.0f && momentum < 1.0f))
        return fail(imp, MCO_ERR_UNSUPPORTED, "epsilon %g must be > 0 and momentum %g in (0, 1)", (double)epsilon,
                    (double)momentum);
    mco_shape in = act_shape(imp, x);
    for (int k = 0; k < 4; k++)
        if (p[k]->count != (size_t)in.c)
            return fail(imp, MCO_ERR_SHAPE, "input %d has %zu values for %d channels", k + 1, p[k]->count, in.c);
    mco_layer l = {0};
    l.type = MCO_LAYER_BATCHNORM;
    l.epsilon = epsilon;
    l.momentum = momentum;
    int index;
    if ((st = add_layer(imp, &l, 1, (const value *const *)&x, &index)) != MCO_OK) return st;
    mco_layer *made = &imp->model->layers[index];
    for (int k = 0; k < 4; k++)   /* ONNX order scale, B, mean, var = mcuopt's gamma, beta, mean, var */
        for (int c = 0; c < in.c; c++) made->params[k].data[c] = (float)p[k]->data[c];
    return define_act(imp, index, x->act_rank, x->flat_of, 1);
}

/* Clip: ReLU6 for [0, 6], ReLU for [0, +inf). Bounds are attributes before
 * opset 11, optional constant inputs from 11. */
static mco_status import_clip(importer *imp)
{
    static const char *const attrs[] = {"min", "max", NULL};
    value *x, *lo = NULL, *hi = NULL;
    float min = -INFINITY, max = INFINITY;
    mco_status st = check_attrs(imp, attrs);
    if (st == MCO_OK) st = need_act(imp, 0, &x);
    if (st == MCO_OK) st = attr_float(imp, "min", -INFINITY, &min);
    if (st == MCO_OK) st = attr_float(imp, "max", INFINITY, &max);
    if (st == MCO_OK) st = need_const(imp, 1, 1, &lo);
    if (st == MCO_OK) st = need_const(imp, 2, 1, &hi);
    if (st != MCO_OK) return st;
    if ((lo && lo->count != 1) || (hi && hi->count != 1)) return fail(imp, MCO_ERR_UNSUPPORTED, "min and max must be scalars");
    if (lo) min = (float)lo->data[0];
    if (hi) max = (float)hi->data[0];
    mco_layer l = {0};
    if (min == 0.0f && max == 6.0f) l.type = MCO_LAYER_RELU6;
    else if (min == 0.0f && max == INFINITY) l.type = MCO_LAYER_RELU;
    else return fail(imp, MCO_ERR_UNSUPPORTED, "clip to [%g, %g] (only [0, 6] and [0, inf))", (double)min, (double)max);
    return add_simple(imp, &l, x, 0);
}

static mco_status import_relu(importer *imp)
{
    static const char *const attrs[] = {NULL};
    value *x;
    mco_status st = check_attrs(imp, attrs);
    if (st == MCO_OK) st = need_act(imp, 0, &x);
    if (st != MCO_OK) return st;
    mco_layer l = {0};
    l.type = MCO_LAYER_RELU;
    return add_simple(imp, &l, x, 0);
}

/* Sigmoid, Tanh, HardSwish (opset 14): no attributes; LeakyRelu: alpha
 * (default 0.01); HardSigmoid: alpha, beta (defaults 0.2, 0.5; PyTorch
 * writes 1/6, 0.5). */
static mco_status import_activation(importer *imp, mco_layer_type type)
{
    static const char *const none[] = {NULL}, *const leaky[] = {"alpha", NULL}, *const hard[] = {"alpha", "beta", NULL};
    value *x;
    mco_layer l = {0};
    l.type = type;
    mco_status st = check_attrs(imp, type == MCO_LAYER_LEAKY_RELU ? leaky : type == MCO_LAYER_HARD_SIGMOID ? hard : none);
    if (st == MCO_OK) st = need_act(imp, 0, &x);
    if (st == MCO_OK && type == MCO_LAYER_LEAKY_RELU) st = attr_float(imp, "alpha", 0.01f, &l.alpha);
    if (st == MCO_OK && type == MCO_LAYER_HARD_SIGMOID) st = attr_float(imp, "alpha", 0.2f, &l.alpha);
    if (st == MCO_OK && type == MCO_LAYER_HARD_SIGMOID) st = attr_float(imp, "beta", 0.5f, &l.beta);
    if (st != MCO_OK) return st;
    if (!isfinite(l.alpha) || !isfinite(l.beta) || (type == MCO_LAYER_HARD_SIGMOID && l.alpha == 0.0f))
        return fail(imp, MCO_ERR_UNSUPPORTED, "alpha %g, beta %g (finite; HardSigmoid's alpha non-zero)",
                    (double)l.alpha, (double)l.beta);
    return add_simple(imp, &l, x, 0);
}

static mco_status import_sigmoid(importer *imp) { return import_activation(imp, MCO_LAYER_SIGMOID); }
static mco_status import_tanh(importer *imp) { return import_activation(imp, MCO_LAYER_TANH); }
static mco_status import_leaky_relu(importer *imp) { return import_activation(imp, MCO_LAYER_LEAKY_RELU); }
static mco_status import_hard_sigmoid(importer *imp) { return import_activation(imp, MCO_LAYER_HARD_SIGMOID); }
static mco_status import_hard_swish(importer *imp) { return import_activation(imp, MCO_LAYER_HARD_SWISH); }

/* Mul: only x * HardSigmoid(x) with PyTorch's alpha 1/6, beta 0.5, the
 * HardSwish that PyTorch writes before opset 14 (and mcuopt's export, at
 * opset 13): the HardSigmoid layer, just made and read by this Mul alone,
 * becomes the HardSwish, named after the Mul. */
static mco_status import_mul(importer *imp)
{
    static const char *const attrs[] = {NULL};
    value *a, *b;
    mco_status st = check_attrs(imp, attrs);
    if (st == MCO_OK) st = node_input(imp, 0, &a);
    if (st == MCO_OK) st = node_input(imp, 1, &b);
    if (st != MCO_OK) return st;
    if (!a || !b) return fail(imp, MCO_ERR_FORMAT, "Mul needs two inputs");
    if (a->kind == VALUE_ACT && b->kind == VALUE_CONST) return fold_input_affine(imp, a, b, '*');
    if (a->kind == VALUE_CONST && b->kind == VALUE_ACT) return fold_input_affine(imp, b, a, '*');
    if ((st = no_pad(imp, a)) != MCO_OK || (st = no_pad(imp, b)) != MCO_OK) return st;
    mco_model *m = imp->model;
    for (int swap = 0; swap < 2; swap++) {
        const value *x = swap ? b : a, *h = swap ? a : b;
        if (h->layer < 0 || h->layer != m->n_layers - 1) continue;
        mco_layer *l = &m->layers[h->layer];
        if (l->type == MCO_LAYER_HARD_SIGMOID && l->alpha == 1.0f / 6.0f && l->beta == 0.5f &&
            l->inputs[0] == x->layer && h->sole_path && count_uses(imp, h->name) == 1 && x->layer != h->layer) {
            l->type = MCO_LAYER_HARD_SWISH;
            l->alpha = l->beta = 0.0f;
            layer_name(imp, l->name);   /* the Mul's: what the export names the HardSwish */
            return define_act(imp, h->layer, h->act_rank, h->flat_of, 1);
        }
    }
    return fail(imp, MCO_ERR_UNSUPPORTED,
                "Mul of two activations is supported only as x * HardSigmoid(x) (alpha 1/6, beta 0.5: HardSwish)");
}

/* Softmax over the channels (axis 1). */
static mco_status import_softmax(importer *imp)
{
    static const char *const attrs[] = {"axis", NULL};
    value *x;
    int64_t axis;
    mco_status st = check_attrs(imp, attrs);
    if (st == MCO_OK) st = need_act(imp, 0, &x);
    if (st == MCO_OK) st = attr_int(imp, "axis", imp->opset >= 13 ? -1 : 1, &axis);
    if (st != MCO_OK) return st;
    mco_shape in = act_shape(imp, x);
    if (axis < 0) axis += x->act_rank;
    /* mcuopt's softmax runs over the channels of each pixel: ONNX's from
     * opset 13, and before it (over all of C x H x W) only when H = W = 1. */
    if (axis != 1 || (x->act_rank == 4 && imp->opset < 13 && (in.h != 1 || in.w != 1)))
        return fail(imp, MCO_ERR_UNSUPPORTED, "softmax over axis %lld of a rank-%d input (only over the channels)",
                    (long long)axis, x->act_rank);
    mco_layer l = {0};
    l.type = MCO_LAYER_SOFTMAX;
    return add_simple(imp, &l, x, 0);
}

/* Pad with constant zeros around height and width of a 4-D activation
 * (nn.ZeroPad2d, or F.pad before a conv): no layer; the zeros are recorded
 * on the value and a Conv reading it takes them into its padding (they add
 * nothing to its sums, as its own padding). Pads are an attribute before
 * opset 11, a constant input from 11 (the value then input 2, default 0). */
static mco_status import_pad(importer *imp)
{
    static const char *const attrs[] = {"mode", "pads", "value", NULL};
    static const char *const modes[] = {"constant", "reflect", "edge", NULL};
    value *x, *pads_in = NULL, *fill = NULL;
    int mode;
    int64_t pads[8];
    float fill_attr;
    mco_status st = check_attrs(imp, attrs);
    if (st == MCO_OK) st = need_act_padded(imp, 0, &x);
    if (st == MCO_OK) st = need_rank4(imp, x);
    if (st == MCO_OK) st = attr_choice(imp, "mode", modes, 0, &mode);
    if (st == MCO_OK) st = attr_float(imp, "value", 0.0f, &fill_attr);
    if (st == MCO_OK && imp->opset < 11) st = attr_ints(imp, "pads", 8, -MCO_MAX_DIM, MCO_MAX_DIM, 0, pads);
    if (st == MCO_OK && imp->opset >= 11) st = need_const(imp, 1, 0, &pads_in);
    if (st == MCO_OK && imp->opset >= 11) st = need_const(imp, 2, 1, &fill);
    if (st != MCO_OK) return st;
    if (mode != 0) return fail(imp, MCO_ERR_UNSUPPORTED, "mode '%s' (only constant zeros)", modes[mode]);
    if (pads_in && pads_in->count != 8) return fail(imp, MCO_ERR_UNSUPPORTED, "pads has %zu values, expected 8", pads_in->count);
    for (int i = 0; pads_in && i < 8; i++)
        if ((st = const_int(imp, pads_in, (size_t)i, &pads[i])) != MCO_OK) return st;
    double v = fill ? (fill->count == 1 ? fill->data[0] : 1.0) : (double)fill_attr;
    if (v != 0.0) return fail(imp, MCO_ERR_UNSUPPORTED, "padding with %g (only zeros)", v);
    /* [N, C, H, W] begins, then ends */
    if (pads[0] || pads[1] || pads[4] || pads[5])
        return fail(imp, MCO_ERR_UNSUPPORTED, "padding of the batch or channel axis");
    int extra[4] = {(int)pads[2], (int)pads[3], (int)pads[6], (int)pads[7]};
    for (int i = 0; i < 4; i++)
        if (extra[i] < 0 || extra[i] > MCO_MAX_DIM)
            return fail(imp, MCO_ERR_UNSUPPORTED, "pads (top %d, left %d, bottom %d, right %d): only 0..%d",
                        extra[0], extra[1], extra[2], extra[3], MCO_MAX_DIM);
    return define_padded_alias(imp, x, extra);
}

/* LogSoftmax over the channels as the model's output (PyTorch's
 * log_softmax, as the official MNIST example ends): imported as Softmax,
 * which has the same arg-max (class predictions, accuracy) and gives
 * exp() of its outputs. Anywhere else it would change what later nodes see:
 * refused. */
static mco_status import_log_softmax(importer *imp)
{
    const char *name;
    mco_status st = first_output(imp, &name);
    if (st != MCO_OK) return st;
    int is_output = 0;
    for (size_t i = 0; i < imp->graph->n_output; i++)
        is_output |= imp->graph->output[i]->name && strcmp(imp->graph->output[i]->name, name) == 0;
    if (!is_output || count_uses(imp, name) != 1)
        return fail(imp, MCO_ERR_UNSUPPORTED, "LogSoftmax is supported only as the model's output (imported as "
                    "Softmax: the same arg-max)");
    return import_softmax(imp);
}

/* Dropout: the ratio is an attribute before opset 12, an optional input from 12. */
static mco_status import_dropout(importer *imp)
{
    static const char *const attrs[] = {"ratio", "seed", "is_test", NULL};
    value *x, *ratio = NULL, *training = NULL;
    float rate;
    mco_status st = check_attrs(imp, attrs);
    if (st == MCO_OK) st = need_act(imp, 0, &x);
    if (st == MCO_OK) st = attr_float(imp, "ratio", 0.5f, &rate);
    if (st == MCO_OK) st = need_const(imp, 1, 1, &ratio);
    if (st == MCO_OK) st = need_const(imp, 2, 1, &training);
    if (st != MCO_OK) return st;
    if (ratio && ratio->count != 1) return fail(imp, MCO_ERR_UNSUPPORTED, "ratio must be a scalar");
    if (ratio) rate = (float)ratio->data[0];
    if (training && (training->count != 1 || training->data[0] != 0.0))
        return fail(imp, MCO_ERR_UNSUPPORTED, "training_mode must be false");
    if (!(rate >= 0.0f && rate < 1.0f)) return fail(imp, MCO_ERR_UNSUPPORTED, "ratio %g is not in [0, 1)", (double)rate);
    mco_layer l = {0};
    l.type = MCO_LAYER_DROPOUT;
    l.rate = rate;
    return add_simple(imp, &l, x, 0);
}

static mco_status import_identity(importer *imp)
{
    static const char *const attrs[] = {NULL};
    value *x;
    mco_status st = check_attrs(imp, attrs);
    if (st == MCO_OK) st = need_act(imp, 0, &x);
    return st == MCO_OK ? define_alias(imp, x) : st;
}

/* A flatten of an activation to [N, features]: a flatten layer from 4-D
 * (recording the NCHW shape for the dense weights after it), an alias from 2-D. */
static mco_status flatten_act(importer *imp, value *x)
{
    if (x->act_rank == 2) return define_alias(imp, x);
    mco_shape in = act_shape(imp, x);
    mco_layer l = {0};
    l.type = MCO_LAYER_FLATTEN;
    int index;
    mco_status st = add_layer(imp, &l, 1, (const value *const *)&x, &index);
    return st == MCO_OK ? define_act(imp, index, 2, in, 1) : st;
}

static mco_status import_flatten(importer *imp)
{
    static const char *const attrs[] = {"axis", NULL};
    value *x;
    int64_t axis;
    mco_status st = check_attrs(imp, attrs);
    if (st == MCO_OK) st = need_act(imp, 0, &x);
    if (st == MCO_OK) st = attr_int(imp, "axis", 1, &axis);
    if (st != MCO_OK) return st;
    if (axis < 0) axis += x->act_rank;
    if (axis != 1) return fail(imp, MCO_ERR_UNSUPPORTED, "flatten at axis %lld (only 1: [N, features])", (long long)axis);
    return flatten_act(imp, x);
}

/* Squeeze of the 1 x 1 spatial axes of [N, C, 1, 1] (as mcuopt's export
 * writes before a Gemm that reads a global pool): the same values as [N, C]. */
static mco_status import_squeeze(importer *imp)
{
    static const char *const attrs[] = {"axes", NULL};
    value *x, *axes_input;
    int64_t axes[2] = {0, 0};
    mco_status st = check_attrs(imp, attrs);
    if (st == MCO_OK) st = need_act(imp, 0, &x);
    if (st == MCO_OK) st = need_const(imp, 1, 1, &axes_input);
    if (st != MCO_OK) return st;
    const Onnx__AttributeProto *a = find_attr(imp->node, "axes");
    size_t n = a ? a->n_ints : axes_input ? axes_input->count : 0;
    for (size_t i = 0; i < n && i < 2; i++) {
        if (a) axes[i] = a->ints[i];
        else if ((st = const_int(imp, axes_input, i, &axes[i])) != MCO_OK) return st;
        if (axes[i] < 0) axes[i] += 4;
    }
    mco_shape in = act_shape(imp, x);
    int spatial = n == 2 && ((axes[0] == 2 && axes[1] == 3) || (axes[0] == 3 && axes[1] == 2));
    if (x->act_rank != 4 || in.h != 1 || in.w != 1 || !spatial)
        return fail(imp, MCO_ERR_UNSUPPORTED, "squeeze of an activation only of the 1x1 spatial axes 2 and 3");
    value copy = *x;
    int sole = copy.sole_path && count_uses(imp, copy.name) == 1;
    return define_act(imp, copy.layer, 2, copy.flat_of, sole);
}

/* Reshape of an activation: only to [N, features] (or to its own shape). */
static mco_status import_reshape_act(importer *imp, value *x)
{
    static const char *const attrs[] = {"allowzero", NULL};
    value *shape;
    int64_t allowzero, target[MAX_RANK];
    mco_status st = check_attrs(imp, attrs);
    if (st == MCO_OK) st = need_const(imp, 1, 0, &shape);
    if (st == MCO_OK) st = attr_int(imp, "allowzero", 0, &allowzero);
    if (st != MCO_OK) return st;
    mco_shape in = act_shape(imp, x);
    int64_t current[4] = {1, in.c, in.h, in.w};
    if (x->act_rank == 2) current[1] = in.c;
    size_t features = mco_shape_size(in);
    if (shape->rank != 1 || shape->count > MAX_RANK || shape->count < 1)
        return fail(imp, MCO_ERR_UNSUPPORTED, "the shape input must be a 1-D list of at most %d dims", MAX_RANK);
    int64_t known = 1;
    int infer_at = -1;
    for (size_t d = 0; d < shape->count; d++) {
        if ((st = const_int(imp, shape, d, &target[d])) != MCO_OK) return st;
        if (target[d] == 0 && !allowzero && d < (size_t)x->act_rank) target[d] = current[d];
        if (target[d] == -1 && infer_at < 0) infer_at = (int)d;
        else if (target[d] < 1) return fail(imp, MCO_ERR_UNSUPPORTED, "reshape to a dimension of %lld", (long long)target[d]);
        else known *= target[d];
        if (known > (int64_t)MCO_MAX_TENSOR_SIZE) return fail(imp, MCO_ERR_SHAPE, "reshape to too many values");
    }
    /* The batch dimension stays first; the rest must hold the features.
     * PyTorch's x.view(-1, F) infers the batch: the given dimensions must
     * then hold one sample's features exactly. */
    if (infer_at == 0) {
        if (known != (int64_t)features)
            return fail(imp, MCO_ERR_SHAPE, "reshape to (-1, ...) with %lld values per sample; the input has %zu",
                        (long long)known, features);
        target[0] = current[0];
    } else if (infer_at > 0) {
        if (known < 1 || (int64_t)features % (known / target[0]) != 0)
            return fail(imp, MCO_ERR_SHAPE, "cannot reshape %zu features", features);
        target[infer_at] = (int64_t)features / (known / target[0]);
    }
    if (target[0] != 1 && target[0] != current[0])
        return fail(imp, MCO_ERR_UNSUPPORTED, "reshape changes the batch dimension");
    if (shape->count == 2 && (size_t)target[1] == features) return flatten_act(imp, x);
    if (shape->count == (size_t)x->act_rank) {
        int same = 1;
        for (size_t d = 1; d < shape->count; d++) same = same && target[d] == current[d];
        if (same) return define_alias(imp, x);
    }
    return fail(imp, MCO_ERR_UNSUPPORTED, "reshape to a %zu-D shape (only to [N, features])", shape->count);
}

/* ---- Folding nodes whose inputs are all constants ---- */

static mco_status fold_copy(importer *imp, const value *in, size_t rank, const int64_t *dims, int is_int)
{
    value *out;
    int64_t copy[MAX_RANK];
    memcpy(copy, dims, rank * sizeof *dims);   /* dims may point into imp->values, which may move */
    double *data = in->data;
    size_t count = in->count;
    mco_status st = define_const(imp, rank, copy, is_int, &out);
    if (st != MCO_OK) return st;
    if (out->count != count) return fail(imp, MCO_ERR_SHAPE, "the result has %zu values, the input %zu", out->count, count);
    if (count) memcpy(out->data, data, count * sizeof *data);
    return MCO_OK;
}

static mco_status fold_reshape(importer *imp, const value *data, const value *shape)
{
    int64_t dims[MAX_RANK], known = 1;
    int infer_at = -1;
    if (shape->rank != 1 || shape->count > MAX_RANK)
        return fail(imp, MCO_ERR_UNSUPPORTED, "the shape input must be a 1-D list of at most %d dims", MAX_RANK);
    for (size_t d = 0; d < shape->count; d++) {
        mco_status st = const_int(imp, shape, d, &dims[d]);
        if (st != MCO_OK) return st;
        if (dims[d] == 0 && d < (size_t)data->rank) dims[d] = data->dims[d];
        if (dims[d] == -1 && infer_at < 0) infer_at = (int)d;
        else if (dims[d] < 1) return fail(imp, MCO_ERR_UNSUPPORTED, "reshape to a dimension of %lld", (long long)dims[d]);
        else if ((known *= dims[d]) > (int64_t)MAX_CONST_VALUES) return fail(imp, MCO_ERR_SHAPE, "reshape to too many values");
    }
    if (infer_at >= 0) dims[infer_at] = known ? (int64_t)data->count / known : 0;
    return fold_copy(imp, data, shape->count, dims, data->is_int);
}

static mco_status fold_transpose(importer *imp, const value *in)
{
    int64_t perm[MAX_RANK], dims[MAX_RANK];
    int rank = in->rank;
    const Onnx__AttributeProto *a = find_attr(imp->node, "perm");
    for (int d = 0; d < rank; d++) perm[d] = rank - 1 - d;
    if (a) {
        if (a->n_ints != (size_t)rank) return fail(imp, MCO_ERR_FORMAT, "perm has %zu values for rank %d", a->n_ints, rank);
        int seen[MAX_RANK] = {0};
        for (int d = 0; d < rank; d++) {
            if (a->ints[d] < 0 || a->ints[d] >= rank || seen[a->ints[d]]++)
                return fail(imp, MCO_ERR_FORMAT, "perm is not a permutation");
            perm[d] = a->ints[d];
        }
    }
    for (int d = 0; d < rank; d++) dims[d] = in->dims[perm[d]];
    value *out;
    const double *src = in->data;
    int64_t in_dims[MAX_RANK];
    memcpy(in_dims, in->dims, sizeof in_dims);
    mco_status st = define_const(imp, (size_t)rank, dims, in->is_int, &out);
    if (st != MCO_OK) return st;
    size_t in_stride[MAX_RANK], index[MAX_RANK] = {0};
    size_t s = 1;
    for (int d = rank - 1; d >= 0; d--) {
        in_stride[d] = s;
        s *= (size_t)in_dims[d];
    }
    for (size_t i = 0; i < out->count; i++) {
        size_t from = 0;
        for (int d = 0; d < rank; d++) from += index[d] * in_stride[perm[d]];
        out->data[i] = src[from];
        for (int d = rank - 1; d >= 0 && ++index[d] == (size_t)dims[d]; d--) index[d] = 0;
    }
    return MCO_OK;
}

/* Squeeze / Unsqueeze: the axes are an attribute before opset 13, an input from 13. */
static mco_status fold_squeeze(importer *imp, const value *in, const value *axes_input, int unsqueeze)
{
    int64_t axes[MAX_RANK];
    size_t n_axes = 0;
    const Onnx__AttributeProto *a = find_attr(imp->node, "axes");
    if (a) {
        if (a->n_ints > MAX_RANK) return fail(imp, MCO_ERR_UNSUPPORTED, "too many axes");
        n_axes = a->n_ints;
        memcpy(axes, a->ints, n_axes * sizeof *axes);
    } else if (axes_input) {
        if (axes_input->count > MAX_RANK) return fail(imp, MCO_ERR_UNSUPPORTED, "too many axes");
        n_axes = axes_input->count;
        for (size_t i = 0; i < n_axes; i++) {
            mco_status st = const_int(imp, axes_input, i, &axes[i]);
            if (st != MCO_OK) return st;
        }
    }
    int out_rank = unsqueeze ? in->rank + (int)n_axes : in->rank;
    if (out_rank > MAX_RANK) return fail(imp, MCO_ERR_UNSUPPORTED, "result has more than %d dims", MAX_RANK);
    int marked[MAX_RANK] = {0};
    int mark_rank = unsqueeze ? out_rank : in->rank;
    for (size_t i = 0; i < n_axes; i++) {
        int64_t ax = axes[i] < 0 ? axes[i] + mark_rank : axes[i];
        if (ax < 0 || ax >= mark_rank) return fail(imp, MCO_ERR_FORMAT, "axis %lld is out of range", (long long)axes[i]);
        marked[ax] = 1;
    }
    int64_t dims[MAX_RANK];
    size_t rank = 0;
    if (unsqueeze) {
        for (int d = 0, k = 0; d < out_rank; d++) dims[rank++] = marked[d] ? 1 : in->dims[k++];
    } else {
        for (int d = 0; d < in->rank; d++) {
            int drop = n_axes ? marked[d] : in->dims[d] == 1;
            if (drop && in->dims[d] != 1) return fail(imp, MCO_ERR_FORMAT, "squeezes axis %d of size %lld", d, (long long)in->dims[d]);
            if (!drop) dims[rank++] = in->dims[d];
        }
    }
    return fold_copy(imp, in, rank, dims, in->is_int);
}

static mco_status fold_gather(importer *imp, const value *data, const value *indices)
{
    int64_t axis;
    mco_status st = attr_int(imp, "axis", 0, &axis);
    if (st != MCO_OK) return st;
    if (axis != 0 || data->rank < 1) return fail(imp, MCO_ERR_UNSUPPORTED, "gather of constants only along axis 0");
    size_t row = data->dims[0] ? data->count / (size_t)data->dims[0] : 0;
    int64_t dims[MAX_RANK];
    size_t rank = (size_t)indices->rank + (size_t)data->rank - 1;
    if (rank > MAX_RANK) return fail(imp, MCO_ERR_UNSUPPORTED, "result has more than %d dims", MAX_RANK);
    memcpy(dims, indices->dims, (size_t)indices->rank * sizeof *dims);
    memcpy(dims + indices->rank, data->dims + 1, (size_t)(data->rank - 1) * sizeof *dims);
    int64_t idx[64];
    if (indices->count > 64) return fail(imp, MCO_ERR_UNSUPPORTED, "gather of more than 64 constant indices");
    for (size_t i = 0; i < indices->count; i++) {
        if ((st = const_int(imp, indices, i, &idx[i])) != MCO_OK) return st;
        if (idx[i] < 0) idx[i] += data->dims[0];
        if (idx[i] < 0 || idx[i] >= data->dims[0]) return fail(imp, MCO_ERR_FORMAT, "gather index out of range");
    }
    const double *src = data->data;
    size_t n_idx = indices->count;
    int is_int = data->is_int;
    value *out;
    if ((st = define_const(imp, rank, dims, is_int, &out)) != MCO_OK) return st;
    for (size_t i = 0; i < n_idx; i++) memcpy(out->data + i * row, src + (size_t)idx[i] * row, row * sizeof *src);
    return MCO_OK;
}

/* Concat of 1-D constants (shape lists); other ranks are refused. */
static mco_status fold_concat(importer *imp)
{
    size_t total = 0;
    int is_int = 1;
    for (size_t k = 0; k < imp->node->n_input; k++) {
        value *in;
        mco_status st = need_const(imp, (int)k, 0, &in);
        if (st != MCO_OK) return st;
        if (in->rank != 1) return fail(imp, MCO_ERR_UNSUPPORTED, "concat of constants of rank %d (only 1-D)", in->rank);
        total += in->count;
        is_int = is_int && in->is_int;
        if (total > MAX_CONST_VALUES) return fail(imp, MCO_ERR_RANGE, "concat result too large");
    }
    int64_t dims[1] = {(int64_t)total};
    value *out;
    mco_status st = define_const(imp, 1, dims, is_int, &out);
    if (st != MCO_OK) return st;
    int out_index = (int)(out - imp->values);
    size_t at = 0;
    for (size_t k = 0; k < imp->node->n_input; k++) {
        value *in;
        node_input(imp, (int)k, &in);
        if (in->count) memcpy(imp->values[out_index].data + at, in->data, in->count * sizeof *in->data);
        at += in->count;
    }
    return MCO_OK;
}

/* Shape of an activation (static here) or a constant, as an int64 list. */
static mco_status fold_shape(importer *imp, const value *x)
{
    static const char *const attrs[] = {NULL};
    mco_status st = check_attrs(imp, attrs);
    if (st != MCO_OK) return st;
    int64_t list[MAX_RANK];
    int rank;
    if (x->kind == VALUE_ACT) {
        mco_shape s = act_shape(imp, x);
        int64_t nchw[4] = {1, s.c, s.h, s.w};
        rank = x->act_rank;
        memcpy(list, nchw, sizeof nchw);
    } else {
        rank = x->rank;
        memcpy(list, x->dims, (size_t)rank * sizeof *list);
    }
    int64_t dims[1] = {rank};
    value *out;
    if ((st = define_const(imp, 1, dims, 1, &out)) != MCO_OK) return st;
    for (int d = 0; d < rank; d++) out->data[d] = (double)list[d];
    return MCO_OK;
}

/* A Constant node: attribute value (tensor), value_float(s) or value_int(s). */
static mco_status fold_constant(importer *imp)
{
    static const char *const attrs[] = {"value", "value_float", "value_floats", "value_int", "value_ints", NULL};
    mco_status st = check_attrs(imp, attrs);
    if (st != MCO_OK) return st;
    if (imp->node->n_attribute != 1) return fail(imp, MCO_ERR_FORMAT, "needs exactly one value attribute");
    const Onnx__AttributeProto *a = imp->node->attribute[0];
    value *out;
    const char *name;
    if ((st = first_output(imp, &name)) != MCO_OK) return st;
    if (strcmp(a->name, "value") == 0) {
        if (!a->t) return fail(imp, MCO_ERR_FORMAT, "attribute 'value' holds no tensor");
        if ((st = new_value(imp, name, VALUE_CONST, &out)) != MCO_OK) return st;
        return decode_tensor(imp, a->t, "attribute 'value'", out);
    }
    int is_int = strncmp(a->name, "value_int", 9) == 0, is_list = a->name[strlen(a->name) - 1] == 's';
    size_t n = is_list ? (is_int ? a->n_ints : a->n_floats) : 1;
    imp->file_values += n;   /* values written in the file, not made by folding */
    int64_t dims[1] = {(int64_t)n};
    if ((st = define_const(imp, is_list ? 1 : 0, dims, is_int, &out)) != MCO_OK) return st;
    for (size_t i = 0; i < n; i++)
        out->data[i] = is_list ? (is_int ? (double)a->ints[i] : a->floats[i]) : (is_int ? (double)a->i : a->f);
    return MCO_OK;
}

/* ConstantOfShape: a tensor of the dims `shape` holds, every value the
 * attribute's one (default 0). PyTorch's ZeroPad2d computes its pads with it. */
static mco_status fold_constant_of_shape(importer *imp, const value *shape)
{
    static const char *const attrs[] = {"value", NULL};
    mco_status st = check_attrs(imp, attrs);
    if (st != MCO_OK) return st;
    if (shape->rank != 1 || shape->count > MAX_RANK)
        return fail(imp, MCO_ERR_UNSUPPORTED, "the shape input must be a 1-D list of at most %d dims", MAX_RANK);
    int64_t dims[MAX_RANK];
    size_t rank = shape->count;
    for (size_t d = 0; d < rank; d++) {
        if ((st = const_int(imp, shape, d, &dims[d])) != MCO_OK) return st;
        if (dims[d] < 0 || dims[d] > MCO_MAX_DIM)
            return fail(imp, MCO_ERR_UNSUPPORTED, "dimension %lld (0..%d)", (long long)dims[d], MCO_MAX_DIM);
    }
    double fill = 0.0;
    int is_int = 0;
    const Onnx__AttributeProto *a = find_attr(imp->node, "value");
    if (a) {   /* decoded into a scratch value first: its data is the fill */
        value tmp = {0};
        if (!a->t) return fail(imp, MCO_ERR_FORMAT, "attribute 'value' holds no tensor");
        if ((st = decode_tensor(imp, a->t, "attribute 'value'", &tmp)) != MCO_OK) {
            free(tmp.data);
            return st;
        }
        if (tmp.count != 1) st = fail(imp, MCO_ERR_FORMAT, "attribute 'value' has %zu values, expected 1", tmp.count);
        else fill = tmp.data[0];
        is_int = tmp.is_int;
        free(tmp.data);
        if (st != MCO_OK) return st;
    }
    value *out;
    if ((st = define_const(imp, rank, dims, is_int, &out)) != MCO_OK) return st;
    for (size_t i = 0; i < out->count; i++) out->data[i] = fill;
    return MCO_OK;
}

/* Slice of a constant: starts, ends and the optional axes and steps as
 * inputs (opset 10 on), or starts, ends, axes as attributes before; ONNX's
 * clamping of out-of-range bounds, negative steps included (PyTorch's
 * ZeroPad2d reverses its pad list with one). */
static mco_status fold_slice(importer *imp, const value *data)
{
    static const char *const attrs[] = {"starts", "ends", "axes", NULL};
    mco_status st = check_attrs(imp, attrs);
    if (st != MCO_OK) return st;
    int rank = data->rank;
    int64_t start[MAX_RANK], step[MAX_RANK], count[MAX_RANK], in_dims[MAX_RANK];
    for (int d = 0; d < rank; d++) {
        in_dims[d] = data->dims[d];
        start[d] = 0;
        step[d] = 1;
        count[d] = data->dims[d];
    }
    double starts[MAX_RANK], ends[MAX_RANK], axes[MAX_RANK], steps[MAX_RANK];
    size_t n = 0;
    if (imp->opset < 10) {
        const Onnx__AttributeProto *as = find_attr(imp->node, "starts"), *ae = find_attr(imp->node, "ends"),
                                   *aa = find_attr(imp->node, "axes");
        if (!as || !ae || as->n_ints != ae->n_ints || as->n_ints > (size_t)rank || (aa && aa->n_ints != as->n_ints))
            return fail(imp, MCO_ERR_FORMAT, "starts, ends (and axes) must be lists of one length, at most the rank");
        n = as->n_ints;
        for (size_t i = 0; i < n; i++) {
            starts[i] = (double)as->ints[i];
            ends[i] = (double)ae->ints[i];
            axes[i] = aa ? (double)aa->ints[i] : (double)i;
            steps[i] = 1.0;
        }
    } else {
        value *in[4] = {NULL, NULL, NULL, NULL};
        for (int k = 0; k < 4; k++)
            if ((st = need_const(imp, k + 1, k >= 2, &in[k])) != MCO_OK) return st;
        n = in[0]->count;
        if (in[1]->count != n || n > (size_t)rank || (in[2] && in[2]->count != n) || (in[3] && in[3]->count != n))
            return fail(imp, MCO_ERR_FORMAT, "starts, ends, axes and steps must be lists of one length, at most the rank");
        for (size_t i = 0; i < n; i++) {
            starts[i] = in[0]->data[i];
            ends[i] = in[1]->data[i];
            axes[i] = in[2] ? in[2]->data[i] : (double)i;
            steps[i] = in[3] ? in[3]->data[i] : 1.0;
        }
    }
    int seen[MAX_RANK] = {0};
    for (size_t i = 0; i < n; i++) {
        double ax = axes[i] < 0 ? axes[i] + rank : axes[i];
        if (!(ax >= 0 && ax < rank && ax == floor(ax)) || seen[(int)ax]++)
            return fail(imp, MCO_ERR_FORMAT, "axis %g is not a distinct axis of the rank-%d input", axes[i], rank);
        int d = (int)ax;
        double dim = (double)in_dims[d], st_ = steps[i], b = starts[i], e = ends[i];
        if (!(st_ == floor(st_)) || st_ == 0.0 || fabs(st_) > MCO_MAX_DIM || b != floor(b) || e != floor(e))
            return fail(imp, MCO_ERR_UNSUPPORTED, "slice %g:%g:%g (integers, a non-zero step)", b, e, st_);
        if (b < 0) b += dim;
        if (e < 0) e += dim;
        if (st_ > 0) {
            b = b < 0 ? 0 : b > dim ? dim : b;
            e = e < 0 ? 0 : e > dim ? dim : e;
        } else {
            b = b < 0 ? 0 : b > dim - 1 ? dim - 1 : b;
            e = e < -1 ? -1 : e > dim - 1 ? dim - 1 : e;
        }
        double c = dim == 0 ? 0 : st_ > 0 ? ceil((e - b) / st_) : ceil((b - e) / -st_);   /* empty axis: empty */
        start[d] = (int64_t)b;
        step[d] = (int64_t)st_;
        count[d] = c > 0 ? (int64_t)c : 0;
    }
    value *out;
    const double *src = data->data;
    size_t stride[MAX_RANK], idx[MAX_RANK] = {0}, sz = 1;
    for (int d = rank - 1; d >= 0; d--) {
        stride[d] = sz;
        sz *= (size_t)in_dims[d];
    }
    int is_int = data->is_int;
    /* data may move with imp->values: src is the array, which does not */
    if ((st = define_const(imp, (size_t)rank, count, is_int, &out)) != MCO_OK) return st;
    for (size_t i = 0; i < out->count; i++) {
        size_t from = 0;
        for (int d = 0; d < rank; d++) from += (size_t)(start[d] + (int64_t)idx[d] * step[d]) * stride[d];
        out->data[i] = src[from];
        for (int d = rank - 1; d >= 0 && ++idx[d] == (size_t)count[d]; d--) idx[d] = 0;
    }
    return MCO_OK;
}

/* Folds a node whose inputs are all constants; MCO_ERR_UNSUPPORTED for ops
 * that cannot be folded. */
static mco_status fold_node(importer *imp, const char *op)
{
    value *a, *b;
    mco_status st = node_input(imp, 0, &a);
    if (st == MCO_OK) st = node_input(imp, 1, &b);
    if (st != MCO_OK) return st;
    if (strcmp(op, "Constant") == 0) return fold_constant(imp);
    if (!a) return fail(imp, MCO_ERR_FORMAT, "input 0 is missing");
    if (strcmp(op, "Identity") == 0) return fold_copy(imp, a, (size_t)a->rank, a->dims, a->is_int);
    if (strcmp(op, "Cast") == 0) {
        int64_t to;
        if ((st = attr_int(imp, "to", MCO_ONNX_FLOAT, &to)) != MCO_OK) return st;
        return fold_copy(imp, a, (size_t)a->rank, a->dims, to != MCO_ONNX_FLOAT && to != MCO_ONNX_DOUBLE);
    }
    if (strcmp(op, "Reshape") == 0) {
        if (!b || b->kind != VALUE_CONST) return fail(imp, MCO_ERR_FORMAT, "needs a constant shape");
        return fold_reshape(imp, a, b);
    }
    if (strcmp(op, "Flatten") == 0) {
        int64_t axis, dims[2] = {1, 1};
        if ((st = attr_int(imp, "axis", 1, &axis)) != MCO_OK) return st;
        if (axis < 0) axis += a->rank;
        if (axis < 0 || axis > a->rank) return fail(imp, MCO_ERR_FORMAT, "axis out of range");
        for (int d = 0; d < a->rank; d++) dims[d >= axis] *= a->dims[d];
        return fold_copy(imp, a, 2, dims, a->is_int);
    }
    if (strcmp(op, "Transpose") == 0) return fold_transpose(imp, a);
    if (strcmp(op, "Squeeze") == 0 || strcmp(op, "Unsqueeze") == 0)
        return fold_squeeze(imp, a, b, op[0] == 'U');
    if (strcmp(op, "Gather") == 0) {
        if (!b || b->kind != VALUE_CONST) return fail(imp, MCO_ERR_FORMAT, "needs constant indices");
        return fold_gather(imp, a, b);
    }
    if (strcmp(op, "Concat") == 0) return fold_concat(imp);
    if (strcmp(op, "ConstantOfShape") == 0) return fold_constant_of_shape(imp, a);
    if (strcmp(op, "Slice") == 0) return fold_slice(imp, a);
    return fail(imp, MCO_ERR_UNSUPPORTED, "operator %s on constants is not supported", op);
}

/* ---- The node table ---- */

typedef mco_status (*node_fn)(importer *imp);

typedef struct {
    const char *op;
    node_fn run;
} node_handler;

static mco_status import_maxpool(importer *imp) { return import_pool(imp, MCO_LAYER_MAXPOOL2D); }
static mco_status import_avgpool(importer *imp) { return import_pool(imp, MCO_LAYER_AVGPOOL2D); }

static mco_status import_reshape(importer *imp)
{
    value *x;
    mco_status st = need_act(imp, 0, &x);
    return st == MCO_OK ? import_reshape_act(imp, x) : st;
}

/* ---- ConvTranspose ---- */

/* ConvTranspose (PyTorch's nn.ConvTranspose2d): group 1, dilation 1,
 * explicit pads (each below the kernel) and output_padding (each below the
 * stride), as PyTorch exports them; auto_pad and output_shape are refused
 * (PyTorch writes neither). Weights [C_in][C_out][kh][kw] become mcuopt's
 * OHWI [C_out][kh][kw][C_in], element for element (no flip: graph.h). */
static mco_status import_conv_transpose(importer *imp)
{
    static const char *const attrs[] = {"auto_pad", "dilations", "group", "kernel_shape", "output_padding",
                                        "output_shape", "pads", "strides", NULL};
    static const char *const auto_pads[] = {"NOTSET", NULL};
    value *x, *w, *b;
    int64_t group, kshape[2], strides[2], pads[4], dilations[2], out_pad[2];
    int auto_pad;
    mco_status st = check_attrs(imp, attrs);
    if (st == MCO_OK && find_attr(imp->node, "output_shape"))
        return fail(imp, MCO_ERR_UNSUPPORTED, "attribute 'output_shape' is not supported (give pads and output_padding)");
    if (st == MCO_OK) st = attr_choice(imp, "auto_pad", auto_pads, 0, &auto_pad);
    if (st == MCO_OK) st = attr_int(imp, "group", 1, &group);
    if (st == MCO_OK && group != 1)
        return fail(imp, MCO_ERR_UNSUPPORTED, "group %lld (only 1)", (long long)group);
    if (st == MCO_OK) st = attr_ints(imp, "dilations", 2, 1, MCO_MAX_DIM, 1, dilations);
    if (st == MCO_OK && (dilations[0] != 1 || dilations[1] != 1))
        return fail(imp, MCO_ERR_UNSUPPORTED, "dilations %lldx%lld (only 1)", (long long)dilations[0],
                    (long long)dilations[1]);
    if (st == MCO_OK) st = need_act(imp, 0, &x);
    if (st == MCO_OK) st = need_rank4(imp, x);
    if (st == MCO_OK) st = need_const(imp, 1, 0, &w);
    if (st == MCO_OK) st = need_const(imp, 2, 1, &b);
    if (st == MCO_OK) st = attr_ints(imp, "strides", 2, 1, MCO_MAX_DIM, 1, strides);
    if (st == MCO_OK) st = attr_ints(imp, "pads", 4, 0, MCO_MAX_DIM, 0, pads);
    if (st == MCO_OK) st = attr_ints(imp, "output_padding", 2, 0, MCO_MAX_DIM, 0, out_pad);
    if (st == MCO_OK) st = attr_ints(imp, "kernel_shape", 2, 1, MCO_MAX_DIM, 0, kshape);
    if (st != MCO_OK) return st;
    if (w->rank != 4)
        return fail(imp, MCO_ERR_UNSUPPORTED, "weights have %d dimensions, expected 4 (2-D convolution)", w->rank);
    mco_shape in = layer_shape(imp, x);
    int64_t in_c = w->dims[0], filters = w->dims[1], kh = w->dims[2], kw = w->dims[3];
    if (kshape[0] && (kshape[0] != kh || kshape[1] != kw))
        return fail(imp, MCO_ERR_FORMAT, "kernel_shape differs from the weights' %lldx%lld", (long long)kh, (long long)kw);
    if (in_c != in.c || kh < 1 || kw < 1 || kh > MCO_MAX_DIM || kw > MCO_MAX_DIM || filters < 1 || filters > MCO_MAX_DIM)
        return fail(imp, MCO_ERR_UNSUPPORTED, "weights of %lldx%lldx%lldx%lld for %d input channels", (long long)in_c,
                    (long long)filters, (long long)kh, (long long)kw, in.c);
    if (pads[0] >= kh || pads[2] >= kh || pads[1] >= kw || pads[3] >= kw)
        return fail(imp, MCO_ERR_UNSUPPORTED, "pads (top %lld, left %lld, bottom %lld, right %lld) not smaller than the "
                    "%lldx%lld kernel", (long long)pads[0], (long long)pads[1], (long long)pads[2], (long long)pads[3],
                    (long long)kh, (long long)kw);
    if (out_pad[0] >= strides[0] || out_pad[1] >= strides[1])
        return fail(imp, MCO_ERR_UNSUPPORTED, "output_padding %lldx%lld not smaller than the stride %lldx%lld",
                    (long long)out_pad[0], (long long)out_pad[1], (long long)strides[0], (long long)strides[1]);
    if (b && b->count != (size_t)filters)
        return fail(imp, MCO_ERR_SHAPE, "bias has %zu values for %lld filters", b->count, (long long)filters);
    mco_layer l = {0};
    l.type = MCO_LAYER_CONV_TRANSPOSE2D;
    l.units = (int)filters;
    l.kernel_h = (int)kh;
    l.kernel_w = (int)kw;
    l.stride_h = (int)strides[0];
    l.stride_w = (int)strides[1];
    l.padding = pads[0] || pads[1] || pads[2] || pads[3] ? MCO_PADDING_EXPLICIT : MCO_PADDING_VALID;
    l.pad_top = (int)pads[0];
    l.pad_left = (int)pads[1];
    l.pad_bottom = (int)pads[2];
    l.pad_right = (int)pads[3];
    l.output_pad_h = (int)out_pad[0];
    l.output_pad_w = (int)out_pad[1];
    int index;
    if ((st = add_layer(imp, &l, 1, (const value *const *)&x, &index)) != MCO_OK) return st;
    mco_layer *made = &imp->model->layers[index];
    float *weights = made->params[MCO_PARAM_WEIGHTS].data, *bias = made->params[MCO_PARAM_BIAS].data;
    int k_h = (int)kh, k_w = (int)kw, c_out = (int)filters;
    for (int o = 0; o < c_out; o++)
        for (int y = 0; y < k_h; y++)
            for (int xx = 0; xx < k_w; xx++)
                for (int c = 0; c < in.c; c++)   /* ONNX [c][o][y][x]: oihw with c as "m" and o as the channel */
                    weights[mco_onnx_ohwi_index(o, y, xx, c, k_h, k_w, in.c)] =
                        (float)w->data[mco_onnx_oihw_index(c, y, xx, o, k_h, k_w, c_out)];
    for (int o = 0; o < c_out; o++) bias[o] = b ? (float)b->data[o] : 0.0f;
    return define_act(imp, index, 4, (mco_shape){0, 0, 0}, 1);
}

/* Operators on activations. */
static const node_handler handlers[] = {
    {"Conv", import_conv},
    {"Gemm", import_gemm},
    {"MatMul", import_matmul},
    {"Add", import_add},
    {"Concat", import_concat},
    {"Relu", import_relu},
    {"Clip", import_clip},
    {"MaxPool", import_maxpool},
    {"AveragePool", import_avgpool},
    {"GlobalAveragePool", import_global_avgpool},
    {"ReduceMean", import_reducemean},
    {"BatchNormalization", import_batchnorm},
    {"Flatten", import_flatten},
    {"Reshape", import_reshape},
    {"Softmax", import_softmax},
    {"LogSoftmax", import_log_softmax},
    {"Pad", import_pad},
    {"Sub", import_sub},
    {"Div", import_div},
    {"Sigmoid", import_sigmoid},
    {"Tanh", import_tanh},
    {"LeakyRelu", import_leaky_relu},
    {"HardSigmoid", import_hard_sigmoid},
    {"HardSwish", import_hard_swish},
    {"Mul", import_mul},
    {"Dropout", import_dropout},
    {"Identity", import_identity},
    {"Squeeze", import_squeeze},
    {"ConvTranspose", import_conv_transpose},
};

static mco_status import_node(importer *imp)
{
    const Onnx__NodeProto *n = imp->node;
    char buf[48];
    if (n->domain && n->domain[0] && strcmp(n->domain, "ai.onnx") != 0)
        return fail(imp, MCO_ERR_UNSUPPORTED, "operator domain '%s' is not supported", mco_onnx_printable(n->domain, buf));
    const char *op = n->op_type ? n->op_type : "";
    /* Activation inputs decide between a layer and folding. */
    int has_act = 0;
    for (size_t k = 0; k < n->n_input; k++) {
        value *v;
        mco_status st = node_input(imp, (int)k, &v);
        if (st != MCO_OK) return st;
        has_act = has_act || (v && v->kind == VALUE_ACT);
    }
    if (strcmp(op, "Shape") == 0) {
        value *x;
        mco_status st = node_input(imp, 0, &x);
        if (st != MCO_OK) return st;
        if (!x) return fail(imp, MCO_ERR_FORMAT, "input 0 is missing");
        return fold_shape(imp, x);
    }
    if (!has_act) return fold_node(imp, op);
    for (size_t i = 0; i < sizeof handlers / sizeof handlers[0]; i++)
        if (strcmp(op, handlers[i].op) == 0) return handlers[i].run(imp);
    return fail(imp, MCO_ERR_UNSUPPORTED, "operator '%s' is not supported", mco_onnx_printable(op, buf));
}

/* ---- The graph ---- */

static mco_status read_opset(importer *imp, const Onnx__ModelProto *m)
{
    imp->opset = 0;
    for (size_t i = 0; i < m->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *o = m->opset_import[i];
        if (!o->domain || !o->domain[0] || strcmp(o->domain, "ai.onnx") == 0)
            imp->opset = o->version > 0 && o->version < 1000 ? (int)o->version : -1;
    }
    if (imp->opset == 0) return mco_error(MCO_ERR_FORMAT, "the model imports no opset of the default ONNX domain");
    if (imp->opset < MCO_ONNX_MIN_OPSET || imp->opset > MCO_ONNX_MAX_OPSET)
        return mco_error(MCO_ERR_UNSUPPORTED, "opset %d is not supported (%d to %d)", imp->opset,
                         MCO_ONNX_MIN_OPSET, MCO_ONNX_MAX_OPSET);
    return MCO_OK;
}

static int is_initializer(const Onnx__GraphProto *g, const char *name)
{
    for (size_t i = 0; i < g->n_initializer; i++)
        if (g->initializer[i]->name && strcmp(g->initializer[i]->name, name) == 0) return 1;
    return 0;
}

/* The one graph input that is not an initializer: float [N, C, H, W] or [N, F]. */
static mco_status read_input(importer *imp)
{
    const Onnx__GraphProto *g = imp->graph;
    const Onnx__ValueInfoProto *input = NULL;
    char buf[48];
    for (size_t i = 0; i < g->n_input; i++) {
        if (!g->input[i]->name || is_initializer(g, g->input[i]->name)) continue;
        if (input) return mco_error(MCO_ERR_UNSUPPORTED, "the model has more than one input");
        input = g->input[i];
    }
    if (!input) return mco_error(MCO_ERR_FORMAT, "the model has no input");
    const char *name = mco_onnx_printable(input->name, buf);
    const Onnx__TypeProto *t = input->type;
    if (!t || t->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !t->tensor_type->shape)
        return mco_error(MCO_ERR_UNSUPPORTED, "input '%s' is not a tensor of known shape", name);
    if (t->tensor_type->elem_type != MCO_ONNX_FLOAT)
        return mco_error(MCO_ERR_UNSUPPORTED, "input '%s' has element type %d, expected float", name,
                         t->tensor_type->elem_type);
    const Onnx__TensorShapeProto *s = t->tensor_type->shape;
    int64_t dims[4] = {1, 1, 1, 1};
    if (s->n_dim != 4 && s->n_dim != 2)
        return mco_error(MCO_ERR_UNSUPPORTED, "input '%s' has %zu dimensions (expected [N, C, H, W] or [N, features])",
                         name, s->n_dim);
    for (size_t d = 1; d < s->n_dim; d++) {
        if (s->dim[d]->value_case != ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE ||
            s->dim[d]->dim_value < 1 || s->dim[d]->dim_value > MCO_MAX_DIM)
            return mco_error(MCO_ERR_UNSUPPORTED, "input '%s' dimension %zu is not a fixed size in 1..%d", name, d, MCO_MAX_DIM);
        dims[d] = s->dim[d]->dim_value;
    }
    mco_shape shape = s->n_dim == 4 ? (mco_shape){(int)dims[2], (int)dims[3], (int)dims[1]}
                                    : (mco_shape){1, 1, (int)dims[1]};
    if (mco_shape_size(shape) > MCO_MAX_TENSOR_SIZE)
        return mco_error(MCO_ERR_UNSUPPORTED, "input '%s' is too large", name);
    imp->model->input_shape = shape;
    value *v;
    mco_status st = new_value(imp, input->name, VALUE_ACT, &v);
    if (st != MCO_OK) return st;
    v->layer = MCO_INPUT;
    v->act_rank = (int)s->n_dim;
    v->sole_path = 1;
    return MCO_OK;
}

static mco_status read_initializers(importer *imp)
{
    const Onnx__GraphProto *g = imp->graph;
    char buf[48], what[80];
    if (g->n_initializer > MAX_INITIALIZERS)
        return mco_error(MCO_ERR_UNSUPPORTED, "%zu initializers (at most %d)", g->n_initializer, MAX_INITIALIZERS);
    for (size_t i = 0; i < g->n_initializer; i++) {
        const Onnx__TensorProto *t = g->initializer[i];
        snprintf(what, sizeof what, "initializer '%s'", mco_onnx_printable(t->name, buf));
        value *v;
        mco_status st = new_value(imp, t->name, VALUE_CONST, &v);
        if (st == MCO_OK) st = decode_tensor(imp, t, what, v);
        if (st != MCO_OK) return st;
    }
    return MCO_OK;
}

/* The model's name: the graph name, else "onnx". */
static void set_arch_name(importer *imp)
{
    const char *name = imp->graph->name && imp->graph->name[0] ? imp->graph->name : "onnx";
    char *out = imp->model->arch_name;
    size_t i = 0;
    for (; name[i] && i < sizeof imp->model->arch_name - 1; i++)
        out[i] = (name[i] >= 0x20 && name[i] < 0x7f) ? name[i] : '_';
    out[i] = '\0';
}

/* The input normalisation mcuopt's export records ("scale,mean,std"); a
 * missing or malformed entry leaves the identity. Its "mcuopt.loss" entry
 * "mse" marks a reconstruction model (checked once the shapes are known). */
static mco_status read_normalization(importer *imp, const Onnx__ModelProto *m)
{
    for (size_t i = 0; i < m->n_metadata_props; i++) {
        const Onnx__StringStringEntryProto *e = m->metadata_props[i];
        float v[3];
        char end;
        if (e->key && e->value && strcmp(e->key, "mcuopt.loss") == 0 && strcmp(e->value, "mse") == 0)
            imp->model->loss = MCO_LOSS_MSE;
        if (!e->key || !e->value || strcmp(e->key, "mcuopt.normalization") != 0) continue;
        if (sscanf(e->value, "%g,%g,%g%c", &v[0], &v[1], &v[2], &end) != 3) continue;
        if (!isfinite(v[0]) || !isfinite(v[1]) || !isfinite(v[2]) || v[2] == 0.0f) continue;
        imp->model->norm = (mco_normalization){v[0], v[1], v[2]};
    }
    /* Then the folded Sub / Div / Mul / Add: network input = a * v + b with
     * v = (raw * scale - mean) / std, i.e. (raw * scale - (mean - b std / a)) / (std / a). */
    mco_normalization *n = &imp->model->norm;
    double mean = (double)n->mean - imp->in_b * (double)n->std / imp->in_a, std = (double)n->std / imp->in_a;
    if (!(isfinite(mean) && isfinite(std) && fabs(mean) < 3e38 && fabs(std) < 3e38 && (float)std != 0.0f))
        return mco_error(MCO_ERR_UNSUPPORTED, "the input normalisation folded from Sub / Div / Mul / Add (x * %g + %g) "
                         "is out of range", imp->in_a, imp->in_b);
    n->mean = (float)mean;
    n->std = (float)std;
    return MCO_OK;
}

static mco_status import_graph(importer *imp, const Onnx__ModelProto *m)
{
    mco_status st = read_opset(imp, m);
    if (st != MCO_OK) return st;
    if (!m->graph) return mco_error(MCO_ERR_FORMAT, "the model has no graph");
    imp->graph = m->graph;
    if (imp->graph->n_node > MAX_NODES)
        return mco_error(MCO_ERR_UNSUPPORTED, "%zu nodes (at most %d)", imp->graph->n_node, MAX_NODES);
    set_arch_name(imp);
    if ((st = index_reads(imp)) != MCO_OK) return st;
    if ((st = read_initializers(imp)) != MCO_OK) return st;
    if ((st = read_input(imp)) != MCO_OK) return st;
    for (size_t i = 0; i < imp->graph->n_node; i++) {
        imp->node_index = (int)i;
        imp->node = imp->graph->node[i];
        if ((st = import_node(imp)) != MCO_OK) return st;
    }
    imp->node = NULL;
    if (imp->graph->n_output != 1)
        return mco_error(MCO_ERR_UNSUPPORTED, "the model has %zu outputs (only one is supported)", imp->graph->n_output);
    char buf[48];
    const char *out_name = imp->graph->output[0]->name ? imp->graph->output[0]->name : "";
    value *out = find_value(imp, out_name);
    if (!out) return mco_error(MCO_ERR_FORMAT, "output '%s' is not computed by any node", mco_onnx_printable(out_name, buf));
    if (out->kind != VALUE_ACT || out->layer == MCO_INPUT || out->layer != imp->model->n_layers - 1 || is_padded(out))
        return mco_error(MCO_ERR_UNSUPPORTED, "output '%s' is not the result of the last layer", mco_onnx_printable(out_name, buf));
    if ((st = read_normalization(imp, m)) != MCO_OK) return st;
    return mco_model_check_loss(imp->model);
}

mco_status mco_onnx_import_bytes(const uint8_t *bytes, size_t size, const char *origin, mco_model *model)
{
    if (!origin) origin = "<memory>";
    mco_model_init(model, (mco_shape){0, 0, 0});
    if (size > MCO_ONNX_MAX_FILE_BYTES)
        return mco_error(MCO_ERR_FORMAT, "%s: larger than %zu MiB", origin, MCO_ONNX_MAX_FILE_BYTES >> 20);
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, size, bytes);
    if (!m && mco_model_file_kind(bytes, size))
        return mco_error(MCO_ERR_FORMAT, "%s: %s, not an ONNX file", origin, mco_model_file_kind(bytes, size));
    if (!m) return mco_error(MCO_ERR_FORMAT, "%s: not a valid ONNX file (the protobuf does not parse)", origin);
    importer imp = {0};
    imp.origin = origin;
    imp.model = model;
    imp.in_a = 1.0;   /* no input normalisation folded yet */
    mco_status st = import_graph(&imp, m);
    /* A NaN or infinity in an initializer (or one that folding a BatchNorm
     * with a negative variance makes) is refused here, naming the layer,
     * rather than when the model is saved or emitted. */
    if (st == MCO_OK) st = mco_model_check_finite(model);
    for (int i = 0; i < imp.n_values; i++) free(imp.values[i].data);
    free(imp.values);
    free(imp.slots);
    free(imp.reads);
    onnx__model_proto__free_unpacked(m, NULL);
    if (st != MCO_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", mco_last_error());
        mco_model_free(model);
        mco_model_init(model, (mco_shape){0, 0, 0});
        return mco_error(st, "%s: %s", origin, msg);
    }
    return MCO_OK;
}

static mco_status decode_onnx(const uint8_t *bytes, size_t size, const char *origin, void *out)
{
    return mco_onnx_import_bytes(bytes, size, origin, out);
}

mco_status mco_onnx_import(const char *path, mco_model *model)
{
    mco_model_init(model, (mco_shape){0, 0, 0});
    return mco_read_model_file(path, MCO_ONNX_MAX_FILE_BYTES, decode_onnx, model);
}
