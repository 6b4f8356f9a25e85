/*
 * fuzz_cifar10.c - libFuzzer harness for the CIFAR-10 binary loader
 * (mco_dataset_load_cifar10 on the test split: the input is written as
 * test_batch.bin in a temporary directory).
 *
 * A load must either succeed or fail with one error line; a loaded set has
 * one 32x32x3 image and a label below 10 per 3073-byte record.
 *
 * What it leaves out: the five training files (the same reader, called five
 * times) and the cifar-10-batches-bin subdirectory lookup.
 */
#include "fuzz_util.h"
#include "mcuopt/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_write_temp("test_batch.bin", data, size);
    mco_dataset ds;
    mco_status st = mco_dataset_load_cifar10(fuzz_temp_path(""), MCO_SPLIT_TEST, &ds);
    fuzz_check_status(st, "mco_dataset_load_cifar10");
    if (st != MCO_OK) return 0;
    if (ds.n < 1 || (size_t)ds.n * 3073 != size || ds.shape.h != 32 || ds.shape.w != 32 || ds.shape.c != 3)
        fuzz_fail("mco_dataset_load_cifar10", "sample count or shape does not match the file");
    for (int i = 0; i < ds.n; i++)
        if (ds.labels[i] >= ds.n_classes) fuzz_fail("mco_dataset_load_cifar10", "label out of range");
    volatile uint8_t sink = ds.samples_u8[(size_t)ds.n * 3072 - 1];
    (void)sink;
    mco_dataset_free(&ds);
    return 0;
}
