/*
 * sample.c - what every consumer of a data set (see data.h) uses to reach
 * its samples: the element type's name and size, a pointer to one sample,
 * the float network input of a batch, the calibration samples spread over a
 * set, and the check that a set has class labels.
 *
 * What it leaves out: reading files (idx.c, cifar10.c, dataset.c) and
 * per-feature normalisation (the model's mco_normalization is one scale,
 * mean and std for every value).
 */
#include "mcuopt/data.h"

const char *mco_sample_type_name(mco_sample_type type)
{
    return type == MCO_SAMPLE_F32 ? "float32" : "uint8";
}

size_t mco_sample_type_size(mco_sample_type type)
{
    return type == MCO_SAMPLE_F32 ? sizeof(float) : 1;
}

const void *mco_dataset_sample(const mco_dataset *ds, int i)
{
    size_t offset = (size_t)i * mco_shape_size(ds->shape);
    if (ds->sample_type == MCO_SAMPLE_F32) return ds->samples_f32 + offset;
    return ds->samples_u8 + offset;
}

void mco_samples_to_float(mco_sample_type type, const void *values, size_t n, const mco_normalization *norm,
                          float *out)
{
    if (type == MCO_SAMPLE_U8) {
        mco_normalize_input(norm, values, n, out);
        return;
    }
    const float *v = values;
    for (size_t k = 0; k < n; k++) out[k] = (v[k] * norm->scale - norm->mean) / norm->std;
}

void mco_dataset_to_float(const mco_dataset *ds, const mco_normalization *norm, const int *indices, int first,
                          int count, float *out)
{
    const size_t size = mco_shape_size(ds->shape);
    float lut[256];
    if (ds->sample_type == MCO_SAMPLE_U8) {
        uint8_t values[256];
        for (int v = 0; v < 256; v++) values[v] = (uint8_t)v;
        mco_normalize_input(norm, values, 256, lut);
    }
    for (int i = 0; i < count; i++) {
        size_t sample = indices ? (size_t)indices[i] : (size_t)first + (size_t)i;
        float *x = out + (size_t)i * size;
        if (ds->sample_type == MCO_SAMPLE_U8) {
            const uint8_t *raw = ds->samples_u8 + sample * size;
            for (size_t k = 0; k < size; k++) x[k] = lut[raw[k]];
        } else {
            mco_samples_to_float(MCO_SAMPLE_F32, ds->samples_f32 + sample * size, size, norm, x);
        }
    }
}

void mco_dataset_spread_indices(int total, int n, int *indices)
{
    for (int i = 0; i < n; i++) indices[i] = (int)((int64_t)i * total / n);
}

mco_status mco_dataset_require_labels(const mco_dataset *ds, const char *what, const char *why)
{
    if (ds->label_kind == MCO_LABELS_CLASS && (ds->labels || ds->n == 0)) return MCO_OK;
    return mco_error(MCO_ERR_ARG, "%s set (%s) has no class labels: %s", what, ds->name[0] ? ds->name : "unnamed",
                     why);
}
