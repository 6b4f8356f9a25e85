/*
 * validate.c - mco_validate (validate.h): the user's inputs through the
 * float model, the integer host runtime and the emitted code on the
 * emulated target (mco_measure_deploy_model, which also gives the per-op
 * instructions and cycles), then the comparisons:
 *   host vs target   identical inputs and values (bit for bit), the
 *                    largest difference (in the int8 output's quantization
 *                    steps, a dequantized float output divided by its
 *                    scale; a float model's in its units), same top-1;
 *   host vs float    top-1 agreement and the largest difference, the host
 *                    output dequantized;
 *   labels           the accuracy of each, when the inputs have labels.
 * The inputs are measured in chunks whose test vectors fit half the
 * target's Flash (one build and run each; the per-op figures are the
 * means over all inputs).
 * The float model sees what the data set's float input would be
 * (mco_dataset_to_float with its normalisation), or for int8 model inputs
 * their dequantized values.
 *
 * What it leaves out: error statistics beyond the largest difference
 * (RMSE, cosine), per-class figures.
 */
#include "mcuopt/validate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcuopt/file_io.h"
#include "mcuopt/train.h"

#define REFERENCE_BATCH 64   /* samples per mco_model_predict call: bounds its activation memory */

void mco_validate_options_default(mco_validate_options *opt)
{
    memset(opt, 0, sizeof *opt);
    mco_measure_options_default(&opt->measure);
    opt->reference = NULL;
}

/* Value i of an output (int8 or float) as a double. */
static double value_at(const uint8_t *out, mco_io_type type, int i)
{
    if (type == MCO_IO_INT8) return (double)((const int8_t *)out)[i];
    float v;
    memcpy(&v, out + 4 * (size_t)i, sizeof v);
    return (double)v;
}

static int top1(const uint8_t *out, mco_io_type type, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (value_at(out, type, i) > value_at(out, type, best)) best = i;
    return best;
}

static int top1_f32(const float *v, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[best]) best = i;
    return best;
}

/* The float model's outputs for the inputs, in batches. */
static mco_status reference_outputs(const mco_deploy_model *dm, const mco_model *ref, const mco_validate_inputs *in,
                                    int n, float *out)
{
    size_t size = mco_shape_size(ref->input_shape);
    float *x = malloc((size_t)REFERENCE_BATCH * size * sizeof *x);
    mco_status st = x ? MCO_OK : mco_error(MCO_ERR_NOMEM, "validate: out of memory");
    for (int first = 0; st == MCO_OK && first < n; first += REFERENCE_BATCH) {
        int count = n - first < REFERENCE_BATCH ? n - first : REFERENCE_BATCH;
        if (in->samples) {
            mco_dataset_to_float(in->samples, &ref->norm, NULL, first, count, x);
        } else {
            const int8_t *q = in->model_inputs + (size_t)first * size;
            for (size_t i = 0; i < (size_t)count * size; i++)
                x[i] = (float)((int32_t)q[i] - dm->input.zero_point) * dm->input.scale;
        }
        st = mco_model_predict(ref, x, count, out + (size_t)first * (size_t)ref->n_classes);
    }
    free(x);
    return st;
}

/* Adds a later chunk's measurement (n inputs from input `first`) to *all:
 * counts, worst cases, and per-inference means weighted by the inputs. */
static void merge_measure(mco_measure_result *all, const mco_measure_result *m, int first)
{
    int a = all->n_inputs, b = m->n_inputs;
    double wa = (double)a / (a + b), wb = (double)b / (a + b);
    if (all->first_mismatch < 0 && m->first_mismatch >= 0) all->first_mismatch = first + m->first_mismatch;
    all->n_mismatch += m->n_mismatch;
    all->n_inputs = a + b;
    all->insns_identical = all->insns_identical && m->insns_identical && m->insns_min == all->insns_min;
    all->insns_mean = all->insns_mean * wa + m->insns_mean * wb;
    if (m->insns_min < all->insns_min) all->insns_min = m->insns_min;
    if (m->insns_max > all->insns_max) all->insns_max = m->insns_max;
    all->cycles_est = all->cycles_est * wa + m->cycles_est * wb;
    all->latency_ms = all->latency_ms * wa + m->latency_ms * wb;
    all->energy_uj = all->energy_uj * wa + m->energy_uj * wb;
    if (m->stack_bytes > all->stack_bytes) all->stack_bytes = m->stack_bytes;
    all->ram_bytes = all->static_ram_bytes + all->stack_bytes;
    for (int k = 0; k < all->n_layers && k < m->n_layers; k++) {
        all->layers[k].insns = all->layers[k].insns * wa + m->layers[k].insns * wb;
        all->layers[k].cycles_est = all->layers[k].cycles_est * wa + m->layers[k].cycles_est * wb;
    }
    all->overhead_insns = all->overhead_insns * wa + m->overhead_insns * wb;
    all->overhead_cycles_est = all->overhead_cycles_est * wa + m->overhead_cycles_est * wb;
}

/* Measures the n inputs in chunks whose test vectors (inputs and expected
 * outputs, in the firmware's Flash) take at most half the target's Flash:
 * each chunk is one build and one emulator run. */
static mco_status measure_in_chunks(const mco_deploy_model *dm, const mco_target_profile *target,
                                    const mco_validate_inputs *in, const mco_dataset *stub, mco_measure_options *mo,
                                    const mco_plan_io *io, int n, uint8_t *host, uint8_t *dev, mco_measure_result *all)
{
    size_t budget = (size_t)target->flash_kb * 1024u / 2u, per_input = io->input_bytes + io->output_bytes;
    int chunk = per_input ? (int)(budget / per_input) : n;
    if (chunk < 1) chunk = 1;
    mco_status st = MCO_OK;
    mco_measure_result *m = malloc(sizeof *m);
    if (!m) return mco_error(MCO_ERR_NOMEM, "validate: out of memory");
    for (int first = 0; st == MCO_OK && first < n; first += chunk) {
        int count = n - first < chunk ? n - first : chunk;
        mco_dataset view;   /* the chunk's samples: a view, not a copy */
        const mco_dataset *samples = stub;
        if (in->samples) {
            size_t size = mco_shape_size(in->samples->shape);
            view = *in->samples;
            view.n = count;
            if (view.samples_u8) view.samples_u8 += (size_t)first * size;
            if (view.samples_f32) view.samples_f32 += (size_t)first * size;
            if (view.labels) view.labels += first;
            samples = &view;
        }
        mo->n_samples = count;
        mo->inputs = in->model_inputs ? in->model_inputs + (size_t)first * io->input_bytes : NULL;
        mo->host_outputs = host + (size_t)first * io->output_bytes;
        mo->target_outputs = dev + (size_t)first * io->output_bytes;
        st = mco_measure_deploy_model(dm, target, samples, mo, first == 0 ? all : m);
        if (st == MCO_OK && first > 0) merge_measure(all, m, first);
    }
    free(m);
    return st;
}

mco_status mco_validate(const mco_deploy_model *dm, const mco_target_profile *target, const mco_validate_inputs *in,
                        const mco_validate_options *opt, mco_validate_result *r)
{
    if (!dm || !target || !in || !opt || !r || !in->samples == !in->model_inputs)
        return mco_error(MCO_ERR_ARG, "validate: bad arguments");
    memset(r, 0, sizeof *r);
    r->first_difference = -1;
    mco_shape shape = dm->model.input_shape;
    int n = in->n;
    if (in->samples) {
        mco_shape s = in->samples->shape;
        if (s.h != shape.h || s.w != shape.w || s.c != shape.c)
            return mco_error(MCO_ERR_SHAPE, "validate: the inputs are %dx%dx%d, the model takes %dx%dx%d", s.h, s.w,
                             s.c, shape.h, shape.w, shape.c);
        if (n <= 0 || n > in->samples->n) n = in->samples->n;
    } else if (dm->activation_format != MCO_ACT_S8) {
        return mco_error(MCO_ERR_UNSUPPORTED, "validate: int8 inputs need a model with int8 activations");
    }
    if (n < 1) return mco_error(MCO_ERR_ARG, "validate: no inputs");
    const mco_model *ref = opt->reference;
    if (ref) {
        mco_shape rs = ref->input_shape;
        if (rs.h != shape.h || rs.w != shape.w || rs.c != shape.c || ref->n_classes != dm->model.n_classes)
            return mco_error(MCO_ERR_SHAPE, "validate: the float model takes %dx%dx%d and gives %d values, the "
                             "deployed one %dx%dx%d and %d", rs.h, rs.w, rs.c, ref->n_classes, shape.h, shape.w,
                             shape.c, dm->model.n_classes);
    }

    /* the output's size and type, from the plan measure will build (the
     * planner's options change kernels, never the output) */
    mco_measure_options mo = opt->measure;
    if (in->model_inputs) mo.input_type = MCO_IO_INT8;
    mco_plan plan;
    mco_status st = mco_plan_build(dm, NULL, &plan);
    if (st != MCO_OK) return st;
    mco_plan_io io;
    st = mco_plan_io_init(dm, &plan, mo.input_type, mo.output_type, &io);
    r->n_values = plan.output_size;
    r->quantized = plan.output_type == MCO_ELEM_S8;
    r->output_scale = plan.output_q.scale;
    int32_t out_zp = plan.output_q.zero_point;
    mco_plan_free(&plan);
    if (st != MCO_OK) return st;
    if (ref && ref->n_classes != r->n_values)
        return mco_error(MCO_ERR_SHAPE, "validate: the float model gives %d values, the deployed one %d",
                         ref->n_classes, r->n_values);
    r->output_type = io.output_type;
    r->n_inputs = n;

    uint8_t *host = malloc((size_t)n * io.output_bytes), *dev = malloc((size_t)n * io.output_bytes);
    float *ref_out = ref ? malloc((size_t)n * (size_t)r->n_values * sizeof *ref_out) : NULL;
    if (!host || !dev || (ref && !ref_out)) st = mco_error(MCO_ERR_NOMEM, "validate: out of memory");
    mco_dataset stub;   /* int8 inputs: only the count and shape are read */
    memset(&stub, 0, sizeof stub);
    stub.n = n;
    stub.shape = shape;
    snprintf(stub.name, sizeof stub.name, "inputs");
    if (st == MCO_OK) st = measure_in_chunks(dm, target, in, &stub, &mo, &io, n, host, dev, &r->measure);
    if (st == MCO_OK && ref) st = reference_outputs(dm, ref, in, n, ref_out);

    /* a value's difference in the reported unit */
    double unit = r->quantized && io.output_type == MCO_IO_FLOAT ? (double)r->output_scale : 1.0;
    size_t elem = io.output_type == MCO_IO_FLOAT ? 4 : 1;
    const mco_dataset *ds = in->samples;
    r->has_labels = ds && ds->labels && ds->label_kind == MCO_LABELS_CLASS;
    r->has_reference = ref != NULL;
    for (int s = 0; st == MCO_OK && s < n; s++) {
        const uint8_t *h = host + (size_t)s * io.output_bytes, *d = dev + (size_t)s * io.output_bytes;
        if (memcmp(h, d, io.output_bytes) == 0) r->identical++;
        else if (r->first_difference < 0) r->first_difference = s;
        for (int i = 0; i < r->n_values; i++) {
            r->identical_values += memcmp(h + (size_t)i * elem, d + (size_t)i * elem, elem) == 0;
            double diff = fabs(value_at(d, io.output_type, i) - value_at(h, io.output_type, i)) / unit;
            if (diff > r->max_diff || diff != diff) r->max_diff = diff;
        }
        int th = top1(h, io.output_type, r->n_values), td = top1(d, io.output_type, r->n_values);
        r->top1_host_target += th == td;
        if (ref) {
            const float *f = ref_out + (size_t)s * (size_t)r->n_values;
            int tf = top1_f32(f, r->n_values);
            r->top1_host_reference += th == tf;
            r->top1_target_reference += td == tf;
            for (int i = 0; i < r->n_values; i++) {
                double hv = value_at(h, io.output_type, i);
                if (r->quantized && io.output_type == MCO_IO_INT8) hv = (hv - out_zp) * (double)r->output_scale;
                double diff = fabs(hv - (double)f[i]) / (r->quantized ? (double)r->output_scale : 1.0);
                if (diff > r->max_diff_reference || diff != diff) r->max_diff_reference = diff;
            }
            if (r->has_labels) r->correct_reference += tf == ds->labels[s];
        }
        if (r->has_labels) {
            r->correct_host += th == ds->labels[s];
            r->correct_target += td == ds->labels[s];
        }
    }
    free(host);
    free(dev);
    free(ref_out);
    return st;
}

/* ---- inputs from a file ------------------------------------------------------ */

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

typedef enum { VALUES_U8, VALUES_F32, VALUES_I8 } value_kind;

/* n values of `kind` at `data` as the inputs (copied). */
static mco_status take_values(const char *path, mco_shape shape, value_kind kind, const uint8_t *data, size_t count,
                              mco_validate_file *out)
{
    size_t size = mco_shape_size(shape);
    if (size == 0 || count == 0 || count % size != 0)
        return mco_error(MCO_ERR_SHAPE, "%s: %zu values are not a whole number of the model's %dx%dx%d inputs "
                         "(%zu values each)", path, count, shape.h, shape.w, shape.c, size);
    if (count / size > 1000000)
        return mco_error(MCO_ERR_RANGE, "%s: more than 1000000 inputs", path);
    int n = (int)(count / size);
    size_t item = kind == VALUES_F32 ? sizeof(float) : 1;
    void *copy = malloc(count * item);
    if (!copy) return mco_error(MCO_ERR_NOMEM, "%s: out of memory", path);
    memcpy(copy, data, count * item);
    if (kind == VALUES_F32) {
        const float *v = copy;
        for (size_t i = 0; i < count; i++)
            if (!isfinite(v[i])) {
                free(copy);
                return mco_error(MCO_ERR_FORMAT, "%s: value %zu (input %zu) is not a finite number", path, i, i / size);
            }
    }
    out->n = n;
    if (kind == VALUES_I8) {
        out->model_inputs = copy;
        return MCO_OK;
    }
    mco_dataset *ds = &out->samples;
    snprintf(ds->name, sizeof ds->name, "inputs");
    ds->n = n;
    ds->shape = shape;
    ds->label_kind = MCO_LABELS_NONE;
    ds->sample_type = kind == VALUES_F32 ? MCO_SAMPLE_F32 : MCO_SAMPLE_U8;
    if (kind == VALUES_F32) ds->samples_f32 = copy;
    else ds->samples_u8 = copy;
    return MCO_OK;
}

mco_status mco_validate_read_inputs(const char *path, mco_shape shape, mco_validate_file *out)
{
    memset(out, 0, sizeof *out);
    if (!path) return mco_error(MCO_ERR_ARG, "validate: no inputs file");
    if (ends_with(path, ".npy")) {
        mco_npy npy;
        mco_status st = mco_npy_read(path, &npy);
        if (st != MCO_OK) return st;
        value_kind kind = npy.dtype == MCO_NPY_U8 ? VALUES_U8 : npy.dtype == MCO_NPY_F32 ? VALUES_F32 : VALUES_I8;
        if (npy.dtype != MCO_NPY_U8 && npy.dtype != MCO_NPY_F32 && npy.dtype != MCO_NPY_I8)
            st = mco_error(MCO_ERR_UNSUPPORTED, "%s: the inputs must be uint8 or float32 samples or int8 model "
                           "inputs (save them with x.astype(...))", path);
        if (st == MCO_OK) st = take_values(path, shape, kind, npy.data, npy.count, out);
        mco_npy_free(&npy);
        return st;
    }
    value_kind kind;
    if (ends_with(path, ".u8")) kind = VALUES_U8;
    else if (ends_with(path, ".f32")) kind = VALUES_F32;
    else if (ends_with(path, ".i8")) kind = VALUES_I8;
    else
        return mco_error(MCO_ERR_UNSUPPORTED, "%s: inputs are a .npy array or raw .u8 (bytes), .i8 (int8 model "
                         "inputs) or .f32 (float32) values", path);
    uint8_t *bytes;
    size_t size;
    mco_status st = mco_read_file(path, (size_t)1 << 31, &bytes, &size);
    if (st != MCO_OK) return st;
    size_t item = kind == VALUES_F32 ? sizeof(float) : 1;
    if (size % item != 0)
        st = mco_error(MCO_ERR_FORMAT, "%s: %zu bytes are not a whole number of float32 values", path, size);
    if (st == MCO_OK) st = take_values(path, shape, kind, bytes, size / item, out);
    free(bytes);
    return st;
}

void mco_validate_file_free(mco_validate_file *f)
{
    mco_dataset_free(&f->samples);
    free(f->model_inputs);
    memset(f, 0, sizeof *f);
}
