/*
 * fuzz_idx.c - libFuzzer harness for the IDX reader (mco_idx_read), plain
 * and gzip'd: zlib's gzread passes plain files through, so one harness
 * takes both, and the seed corpus holds both kinds.
 *
 * A read must either succeed or fail with one error line; a file that reads
 * has 1..4 dimensions whose product is its size. mco_idx_read takes a path,
 * so each input is written to a temporary file.
 *
 * What it leaves out: the pairing of images and labels in a data set
 * directory (mco_dataset_load_idx_dir: count and label checks on two files
 * that each went through this reader).
 */
#include "fuzz_util.h"
#include "mcuopt/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mco_idx idx;
    mco_status st = mco_idx_read(fuzz_write_temp("fuzz-idx", data, size), &idx);
    fuzz_check_status(st, "mco_idx_read");
    if (st != MCO_OK) return 0;
    size_t product = 1;
    if (idx.ndim < 1 || idx.ndim > 4) fuzz_fail("mco_idx_read", "rank out of range");
    for (int d = 0; d < idx.ndim; d++) product *= idx.dims[d];
    if (product != idx.size || !idx.data) fuzz_fail("mco_idx_read", "size is not the product of the dimensions");
    volatile uint8_t sink = idx.data[0] ^ idx.data[idx.size - 1];   /* touches both ends under ASan */
    (void)sink;
    mco_idx_free(&idx);
    return 0;
}
