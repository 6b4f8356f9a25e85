/*
 * split.c - what the path readers (npy.c, csv.c, image_folder.c) share:
 * their options' defaults, and the hash split that puts a sample in the
 * test split by a CRC-32 of its key (a file's path below the set, or a row
 * index), so a set without a test split of its own is split the same way
 * on every machine and a sample keeps its split as others are added.
 *
 * What it leaves out: the seeded train/validation split of a loaded set
 * (mco_dataset_split in dataset.c).
 */
#include "mcuopt/data.h"

#include <string.h>
#include <zlib.h>

#define DEFAULT_TEST_PERCENT 20

void mco_data_options_default(mco_data_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->format = MCO_DATA_AUTO;
    opt->test_percent = DEFAULT_TEST_PERCENT;
    mco_audio_frontend_default(&opt->audio);
}

int mco_data_in_test_split(const void *key, size_t size, int test_percent)
{
    if (test_percent <= 0) test_percent = DEFAULT_TEST_PERCENT;
    return (int)(crc32(0L, key, (uInt)size) % 100u) < test_percent;
}
