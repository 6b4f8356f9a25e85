/*
 * fuzz_npy.c - libFuzzer harness for the NumPy .npy reader (mco_npy_read)
 * and the x.npy / y.npy data sets (mco_dataset_load_npy): the input is
 * written as x.npy in a temporary directory and read as an array, then as
 * an unlabelled set (both splits), then, copied to y.npy too, as a
 * labelled one (the same array as samples and labels).
 *
 * A read must either succeed or fail with one error line. An array read
 * holds exactly count * item_size bytes, count being the product of its
 * dimensions; a set's two splits hold every row once, each of the array's
 * row shape, every label below the class count.
 *
 * What it leaves out: the x_train / x_test layout (the same reader on other
 * names) and two different arrays for x and y.
 */
#include <string.h>

#include "fuzz_util.h"
#include "mcuopt/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void load_set(int labelled, size_t rows)
{
    int total = 0;
    for (int split = 0; split < 2; split++) {
        mco_dataset ds;
        mco_status st = mco_dataset_load_npy(fuzz_temp_path(""), (mco_split)split, NULL, &ds);
        fuzz_check_status(st, "mco_dataset_load_npy");
        if (st != MCO_OK) return;
        size_t values = mco_shape_size(ds.shape) * (size_t)ds.n;
        if (values) {
            volatile float f = ds.sample_type == MCO_SAMPLE_F32 ? ds.samples_f32[values - 1] : ds.samples_u8[values - 1];
            (void)f;
        }
        if ((ds.label_kind == MCO_LABELS_CLASS) != labelled) fuzz_fail("mco_dataset_load_npy", "label kind");
        for (int i = 0; labelled && i < ds.n; i++)
            if (ds.labels[i] >= ds.n_classes) fuzz_fail("mco_dataset_load_npy", "label out of range");
        total += ds.n;
        mco_dataset_free(&ds);
    }
    if ((size_t)total != rows) fuzz_fail("mco_dataset_load_npy", "the splits do not hold every row once");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_remove_temp("y.npy");   /* first: fuzz_temp_path's buffer is reused by each call */
    const char *path = fuzz_write_temp("x.npy", data, size);
    mco_npy a;
    mco_status st = mco_npy_read(path, &a);
    fuzz_check_status(st, "mco_npy_read");
    if (st != MCO_OK) return 0;
    size_t count = 1;
    for (int d = 0; d < a.ndim; d++) count *= a.dims[d];
    if (count != a.count || a.ndim < 0 || a.ndim > 5) fuzz_fail("mco_npy_read", "count is not the product of the dimensions");
    if (a.count * a.item_size > 0) {
        volatile uint8_t last = a.data[a.count * a.item_size - 1];
        (void)last;
    }
    size_t rows = a.ndim > 0 ? a.dims[0] : 0;
    mco_npy_free(&a);
    load_set(0, rows);
    fuzz_write_temp("y.npy", data, size);
    load_set(1, rows);
    fuzz_remove_temp("y.npy");
    return 0;
}
