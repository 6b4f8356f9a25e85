/*
 * fuzz_csv.c - libFuzzer harness for the CSV reader (mco_dataset_load_csv):
 * the input is written as data.csv in a temporary directory and read with
 * the label column found by name (the default "label"), by index 0, and
 * none, both splits each.
 *
 * A read must either succeed or fail with one error line. A set holds
 * float32 samples of one shape, every value finite, every label below the
 * class count, and class names (when there are any) for every class; the
 * two splits of one reading hold the same class count.
 *
 * What it leaves out: a model shape the rows take (opt.shape), and files
 * larger than libFuzzer's inputs.
 */
#include <math.h>

#include "fuzz_util.h"
#include "mcuopt/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_temp("data.csv", data, size);
    static const char *const columns[] = {NULL, "0", "none"};
    for (int c = 0; c < 3; c++) {
        int classes = -1;
        for (int split = 0; split < 2; split++) {
            mco_data_options opt;
            mco_data_options_default(&opt);
            opt.label_column = columns[c];
            mco_dataset ds;
            mco_status st = mco_dataset_load_csv(path, (mco_split)split, &opt, &ds);
            fuzz_check_status(st, "mco_dataset_load_csv");
            if (st != MCO_OK) break;
            if (ds.sample_type != MCO_SAMPLE_F32 || mco_shape_size(ds.shape) < 1)
                fuzz_fail("mco_dataset_load_csv", "samples are not float32 of one shape");
            size_t values = mco_shape_size(ds.shape) * (size_t)ds.n;
            for (size_t k = 0; k < values; k++)
                if (!isfinite(ds.samples_f32[k])) fuzz_fail("mco_dataset_load_csv", "a non-finite value");
            for (int i = 0; ds.label_kind == MCO_LABELS_CLASS && i < ds.n; i++)
                if (ds.labels[i] >= ds.n_classes) fuzz_fail("mco_dataset_load_csv", "label out of range");
            if (ds.class_names)
                for (int k = 0; k < ds.n_classes; k++) {
                    volatile char first = ds.class_names[k][0];
                    (void)first;
                }
            if (classes >= 0 && classes != ds.n_classes) fuzz_fail("mco_dataset_load_csv", "the splits' class counts differ");
            classes = ds.n_classes;
            mco_dataset_free(&ds);
        }
    }
    return 0;
}
