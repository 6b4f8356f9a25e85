/*
 * test_data.c - tests of the data module (src/data) and the library's
 * random number generator (src/core/rng.c).
 *
 * The IDX and CIFAR-10 cases use small files the test writes itself into a
 * fresh directory under /tmp (removed at the end): round trips plain and
 * gzip'd, and each kind of damaged file. If the shared MNIST copy
 * (../shared/data/mnist) or Debian's dataset-fashion-mnist package is
 * present, the real sets are loaded and their known class counts checked.
 */
#include "mcuopt/data.h"

#include "mcuopt/rng.h"
#include "test_util.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static char temp_dir[64];

/* temp_dir/name, in a static buffer that the next call overwrites. */
static const char *temp_path(const char *name)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", temp_dir, name);
    return path;
}

/* Writes `n` bytes to temp_dir/name, gzip-compressed if `gzip`. */
static void write_file(const char *name, const uint8_t *bytes, size_t n, int gzip)
{
    const char *path = temp_path(name);
    if (gzip) {
        gzFile gz = gzopen(path, "wb");
        CHECK(gz != NULL);
        if (!gz) return;
        CHECK(n == 0 || gzwrite(gz, bytes, (unsigned)n) == (int)n);
        CHECK(gzclose(gz) == Z_OK);
    } else {
        FILE *f = fopen(path, "wb");
        CHECK(f != NULL);
        if (!f) return;
        CHECK(fwrite(bytes, 1, n, f) == n);
        fclose(f);
    }
}

/* An IDX file: the 4-byte magic (0, 0, type, ndim), the dims, then `data`.
 * `extra` bytes of value 0x55 are appended (trailing garbage) or, when
 * negative, that many data bytes are left off (truncation). */
static void write_idx(const char *name, int type, int ndim, const uint32_t *dims, const uint8_t *data,
                      size_t data_len, int extra, int gzip)
{
    uint8_t buf[4096];
    size_t n = 0;
    buf[n++] = 0;
    buf[n++] = 0;
    buf[n++] = (uint8_t)type;
    buf[n++] = (uint8_t)ndim;
    for (int i = 0; i < ndim; i++) {
        buf[n++] = (uint8_t)(dims[i] >> 24);
        buf[n++] = (uint8_t)(dims[i] >> 16);
        buf[n++] = (uint8_t)(dims[i] >> 8);
        buf[n++] = (uint8_t)dims[i];
    }
    size_t keep = extra < 0 ? data_len - (size_t)(-extra) : data_len;
    memcpy(buf + n, data, keep);
    n += keep;
    for (int i = 0; i < extra; i++)
        buf[n++] = 0x55;
    write_file(name, buf, n, gzip);
}

static void remove_temp_dir(void)
{
    DIR *d = opendir(temp_dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            unlink(temp_path(e->d_name));
    }
    closedir(d);
    rmdir(temp_dir);
}

/* Checks that `st` is `want` and that the message contains `fragment`. */
#define CHECK_FAILS(st, want, fragment)                                                    \
    do {                                                                                   \
        mco_status got_ = (st);                                                            \
        CHECK(got_ == (want));                                                             \
        if (!strstr(mco_last_error(), (fragment))) {                                       \
            fprintf(stderr, "%s:%d: message \"%s\" lacks \"%s\"\n", __FILE__, __LINE__,    \
                    mco_last_error(), (fragment));                                         \
            test_failures++;                                                               \
        }                                                                                  \
    } while (0)

static const uint8_t sample_pixels[12] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 254, 255 };
static const uint32_t images_dims[3] = { 3, 2, 2 };   /* 3 images of 2x2 */

static void test_idx_round_trip(void)
{
    for (int gzip = 0; gzip <= 1; gzip++) {
        const char *name = gzip ? "round.idx.gz" : "round.idx";
        write_idx(name, 0x08, 3, images_dims, sample_pixels, sizeof sample_pixels, 0, gzip);
        mco_idx idx;
        CHECK_OK(mco_idx_read(temp_path(name), &idx));
        CHECK(idx.ndim == 3);
        CHECK(idx.dims[0] == 3 && idx.dims[1] == 2 && idx.dims[2] == 2);
        CHECK(idx.size == sizeof sample_pixels);
        CHECK(idx.data && memcmp(idx.data, sample_pixels, sizeof sample_pixels) == 0);
        mco_idx_free(&idx);
        CHECK(idx.data == NULL && idx.size == 0);
    }
    /* One dimension, and four. */
    uint32_t one[1] = { 12 }, four[4] = { 1, 2, 3, 2 };
    mco_idx idx;
    write_idx("one.idx", 0x08, 1, one, sample_pixels, 12, 0, 0);
    CHECK_OK(mco_idx_read(temp_path("one.idx"), &idx));
    CHECK(idx.ndim == 1 && idx.size == 12);
    mco_idx_free(&idx);
    write_idx("four.idx", 0x08, 4, four, sample_pixels, 12, 0, 1);
    CHECK_OK(mco_idx_read(temp_path("four.idx"), &idx));
    CHECK(idx.ndim == 4 && idx.dims[3] == 2 && idx.size == 12);
    mco_idx_free(&idx);
}

static void test_idx_damaged(void)
{
    mco_idx idx;

    CHECK_FAILS(mco_idx_read(temp_path("missing.idx"), &idx), MCO_ERR_NOT_FOUND, "missing.idx");
    CHECK(idx.data == NULL);

    for (int gzip = 0; gzip <= 1; gzip++) {
        write_idx("short.idx", 0x08, 3, images_dims, sample_pixels, sizeof sample_pixels, -2, gzip);
        CHECK_FAILS(mco_idx_read(temp_path("short.idx"), &idx), MCO_ERR_FORMAT,
                    "short.idx: truncated: header says 12 data bytes, file has 10");
        CHECK(idx.data == NULL);

        write_idx("long.idx", 0x08, 3, images_dims, sample_pixels, sizeof sample_pixels, 3, gzip);
        CHECK_FAILS(mco_idx_read(temp_path("long.idx"), &idx), MCO_ERR_FORMAT, "long.idx: trailing bytes");
    }

    /* A file that ends inside the header. */
    uint8_t header_only[6] = { 0, 0, 8, 3, 0, 0 };
    write_file("header.idx", header_only, sizeof header_only, 0);
    CHECK_FAILS(mco_idx_read(temp_path("header.idx"), &idx), MCO_ERR_FORMAT, "truncated");
    write_file("empty.idx", header_only, 0, 0);
    CHECK_FAILS(mco_idx_read(temp_path("empty.idx"), &idx), MCO_ERR_FORMAT, "truncated");

    /* A gzip stream cut in the middle: valid gzip header, no end. */
    uint8_t big[2048];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 37u + (i >> 3));
    uint32_t big_dims[1] = { sizeof big };
    write_idx("cut.idx.gz", 0x08, 1, big_dims, big, sizeof big, 0, 1);
    struct stat st;
    CHECK(stat(temp_path("cut.idx.gz"), &st) == 0);
    CHECK(truncate(temp_path("cut.idx.gz"), st.st_size / 2) == 0);
    CHECK_FAILS(mco_idx_read(temp_path("cut.idx.gz"), &idx), MCO_ERR_FORMAT, "truncated");

    /* Corrupt compressed data: flip bytes after the 10-byte gzip header. */
    write_idx("bad.idx.gz", 0x08, 1, big_dims, big, sizeof big, 0, 1);
    FILE *f = fopen(temp_path("bad.idx.gz"), "r+b");
    CHECK(f != NULL);
    if (f) {
        fseek(f, 12, SEEK_SET);
        uint8_t junk[16];
        memset(junk, 0xff, sizeof junk);
        fwrite(junk, 1, sizeof junk, f);
        fclose(f);
    }
    CHECK(mco_idx_read(temp_path("bad.idx.gz"), &idx) == MCO_ERR_FORMAT);

    /* Bad magic, other element types, dimension counts and sizes. */
    uint8_t bad_magic[16] = { 1, 0, 8, 1, 0, 0, 0, 4, 1, 2, 3, 4 };
    write_file("magic.idx", bad_magic, 12, 0);
    CHECK_FAILS(mco_idx_read(temp_path("magic.idx"), &idx), MCO_ERR_FORMAT, "not an IDX file");

    uint32_t three[1] = { 3 };
    write_idx("float.idx", 0x0D, 1, three, sample_pixels, 12, 0, 0);
    CHECK_FAILS(mco_idx_read(temp_path("float.idx"), &idx), MCO_ERR_UNSUPPORTED, "element type 0x0d");

    write_idx("ndim0.idx", 0x08, 0, three, sample_pixels, 3, 0, 0);
    CHECK_FAILS(mco_idx_read(temp_path("ndim0.idx"), &idx), MCO_ERR_FORMAT, "not an IDX file");
    uint32_t five[5] = { 1, 1, 1, 1, 3 };
    write_idx("ndim5.idx", 0x08, 5, five, sample_pixels, 3, 0, 0);
    CHECK_FAILS(mco_idx_read(temp_path("ndim5.idx"), &idx), MCO_ERR_FORMAT, "not an IDX file");

    uint32_t zero_dim[3] = { 3, 0, 2 };
    write_idx("zero.idx", 0x08, 3, zero_dim, sample_pixels, 0, 0, 0);
    CHECK_FAILS(mco_idx_read(temp_path("zero.idx"), &idx), MCO_ERR_FORMAT, "dimension 1 is 0");
    uint32_t wide[3] = { 3, 2, 70000 };
    write_idx("wide.idx", 0x08, 3, wide, sample_pixels, 12, 0, 0);
    CHECK_FAILS(mco_idx_read(temp_path("wide.idx"), &idx), MCO_ERR_FORMAT, "dimension 2 is 70000");
    /* Each dimension allowed, but 2^31 bytes in all: refused before reading. */
    uint32_t huge[3] = { 8192, 512, 512 };
    write_idx("huge.idx", 0x08, 3, huge, sample_pixels, 12, 0, 0);
    CHECK_FAILS(mco_idx_read(temp_path("huge.idx"), &idx), MCO_ERR_RANGE, "more than");
    /* A large but allowed header over a tiny file: truncated, not out of memory. */
    uint32_t large[3] = { 100000, 64, 64 };
    write_idx("large.idx.gz", 0x08, 3, large, sample_pixels, 12, 0, 1);
    CHECK_FAILS(mco_idx_read(temp_path("large.idx.gz"), &idx), MCO_ERR_FORMAT,
                "truncated: header says 409600000 data bytes, file has 12");
}

/* Writes MNIST-layout files for `prefix` ("train" or "t10k"): n images of
 * 2x3 whose pixels are i*10+p, and the given labels. */
static void write_idx_pair(const char *prefix, int n, const uint8_t *labels, int gzip_images)
{
    uint8_t pixels[64 * 6];
    for (int i = 0; i < n * 6; i++)
        pixels[i] = (uint8_t)((i / 6) * 10 + i % 6);
    uint32_t image_dims[3] = { (uint32_t)n, 2, 3 };
    uint32_t label_dims[1] = { (uint32_t)n };
    char name[64];
    snprintf(name, sizeof name, "%s-images-idx3-ubyte%s", prefix, gzip_images ? ".gz" : "");
    write_idx(name, 0x08, 3, image_dims, pixels, (size_t)n * 6, 0, gzip_images);
    snprintf(name, sizeof name, "%s-labels-idx1-ubyte", prefix);
    write_idx(name, 0x08, 1, label_dims, labels, (size_t)n, 0, 0);
}

static void test_idx_dir(void)
{
    uint8_t labels[5] = { 3, 0, 9, 1, 3 };
    write_idx_pair("train", 5, labels, 1);
    mco_dataset ds;
    CHECK_OK(mco_dataset_load_idx_dir(temp_dir, MCO_SPLIT_TRAIN, "tiny", &ds));
    CHECK(strcmp(ds.name, "tiny") == 0);
    CHECK(ds.n == 5 && ds.n_classes == 10);
    CHECK(ds.shape.h == 2 && ds.shape.w == 3 && ds.shape.c == 1);
    CHECK(ds.samples_u8 && ds.samples_u8[6 * 4 + 5] == 45);
    CHECK(ds.labels && memcmp(ds.labels, labels, 5) == 0);
    mco_dataset_free(&ds);
    CHECK(ds.samples_u8 == NULL && ds.n == 0);

    /* The test split is missing. */
    CHECK_FAILS(mco_dataset_load_idx_dir(temp_dir, MCO_SPLIT_TEST, "tiny", &ds), MCO_ERR_NOT_FOUND,
                "t10k-images-idx3-ubyte");

    /* A label out of range. */
    uint8_t bad_labels[3] = { 1, 10, 2 };
    write_idx_pair("t10k", 3, bad_labels, 0);
    CHECK_FAILS(mco_dataset_load_idx_dir(temp_dir, MCO_SPLIT_TEST, "tiny", &ds), MCO_ERR_FORMAT,
                "label 10 of sample 1");
    CHECK(ds.samples_u8 == NULL);

    /* Counts that disagree: 3 images, 2 labels. */
    uint32_t two[1] = { 2 };
    write_idx("t10k-labels-idx1-ubyte", 0x08, 1, two, labels, 2, 0, 0);
    CHECK_FAILS(mco_dataset_load_idx_dir(temp_dir, MCO_SPLIT_TEST, "tiny", &ds), MCO_ERR_FORMAT,
                "3 images but 2 labels");

    /* Images that are not 3-D, labels that are not 1-D. */
    uint32_t flat[2] = { 3, 6 };
    write_idx("t10k-images-idx3-ubyte", 0x08, 2, flat, sample_pixels, 12, 6, 0);
    CHECK_FAILS(mco_dataset_load_idx_dir(temp_dir, MCO_SPLIT_TEST, "tiny", &ds), MCO_ERR_FORMAT,
                "expected 3");
    write_idx_pair("t10k", 3, labels, 0);
    uint32_t label_grid[2] = { 3, 1 };
    write_idx("t10k-labels-idx1-ubyte", 0x08, 2, label_grid, labels, 3, 0, 0);
    CHECK_FAILS(mco_dataset_load_idx_dir(temp_dir, MCO_SPLIT_TEST, "tiny", &ds), MCO_ERR_FORMAT,
                "expected 1");
    unlink(temp_path("t10k-images-idx3-ubyte"));
    unlink(temp_path("t10k-labels-idx1-ubyte"));
}

static void test_load_by_name(void)
{
    mco_dataset ds;
    CHECK_FAILS(mco_dataset_load(NULL, "imagenet", NULL, MCO_SPLIT_TEST, &ds), MCO_ERR_NOT_FOUND,
                "known: mnist, fashion-mnist, cifar10");

    /* <the context's data directory>/<name> is found; an explicit dir wins over it. */
    char sub[128];
    snprintf(sub, sizeof sub, "%s/mnist", temp_dir);
    CHECK(mkdir(sub, 0700) == 0);
    uint8_t labels[4] = { 0, 1, 2, 3 };
    char name[160];
    snprintf(name, sizeof name, "mnist/t10k-images-idx3-ubyte.gz");
    uint8_t pixels[24] = { 0 };
    uint32_t dims[3] = { 4, 2, 3 }, label_dims[1] = { 4 };
    write_idx(name, 0x08, 3, dims, pixels, 24, 0, 1);
    write_idx("mnist/t10k-labels-idx1-ubyte.gz", 0x08, 1, label_dims, labels, 4, 0, 1);
    mco_context *ctx;
    CHECK_OK(mco_context_create(&ctx));
    CHECK_OK(mco_context_set_resource(ctx, MCO_RESOURCE_DATA, temp_dir));
    CHECK_OK(mco_dataset_load(ctx, "mnist", NULL, MCO_SPLIT_TEST, &ds));
    CHECK(ds.n == 4 && strcmp(ds.name, "mnist") == 0);
    mco_dataset_free(&ds);
    CHECK_OK(mco_dataset_load(ctx, "mnist", sub, MCO_SPLIT_TEST, &ds));
    CHECK(ds.n == 4);
    mco_dataset_free(&ds);
    unlink(temp_path("mnist/t10k-images-idx3-ubyte.gz"));
    unlink(temp_path("mnist/t10k-labels-idx1-ubyte.gz"));
    rmdir(sub);

    /* Nowhere to be found: one line saying where it looked and what to do. */
    CHECK_FAILS(mco_dataset_load(ctx, "cifar10", NULL, MCO_SPLIT_TEST, &ds), MCO_ERR_NOT_FOUND, "looked in");
    CHECK(strstr(mco_last_error(), temp_dir) != NULL);
    CHECK(strstr(mco_last_error(), "--data DIR") != NULL);
    CHECK(strchr(mco_last_error(), '\n') == NULL);
    mco_context_free(ctx);
}

/* Pixel value of CIFAR record r, channel c, pixel p in the file's CHW order. */
static uint8_t cifar_pixel(int r, int c, int p)
{
    return (uint8_t)(r * 101 + c * 29 + p * 7 + (p >> 5));
}

static void write_cifar(const char *name, int records, int first_record, int bad_label_at)
{
    static uint8_t buf[3 * 3073];
    for (int r = 0; r < records; r++) {
        uint8_t *rec = buf + r * 3073;
        rec[0] = r == bad_label_at ? 10 : (uint8_t)((first_record + r) % 10);
        for (int c = 0; c < 3; c++)
            for (int p = 0; p < 1024; p++)
                rec[1 + c * 1024 + p] = cifar_pixel(first_record + r, c, p);
    }
    write_file(name, buf, (size_t)records * 3073, 0);
}

static void check_cifar_hwc(const mco_dataset *ds)
{
    int bad = 0;
    for (int r = 0; r < ds->n; r++)
        for (int y = 0; y < 32; y++)
            for (int x = 0; x < 32; x++)
                for (int c = 0; c < 3; c++) {
                    uint8_t got = ds->samples_u8[(size_t)r * 3072 + (size_t)(y * 32 + x) * 3 + (size_t)c];
                    bad += got != cifar_pixel(r, c, y * 32 + x);
                }
    CHECK(bad == 0);
    for (int r = 0; r < ds->n; r++)
        CHECK(ds->labels[r] == r % 10);
}

static void test_cifar10(void)
{
    mco_dataset ds;
    write_cifar("test_batch.bin", 2, 0, -1);
    CHECK_OK(mco_dataset_load_cifar10(temp_dir, MCO_SPLIT_TEST, &ds));
    CHECK(ds.n == 2 && ds.shape.h == 32 && ds.shape.w == 32 && ds.shape.c == 3 && ds.n_classes == 10);
    CHECK(strcmp(ds.name, "cifar10") == 0);
    check_cifar_hwc(&ds);
    /* Spot check by hand: record 1, pixel (y=0, x=1), green is C=1, P=1. */
    CHECK(ds.samples_u8[3072 + 1 * 3 + 1] == (uint8_t)(101 + 29 + 7));
    mco_dataset_free(&ds);

    /* The train split reads five files in order; one missing is reported. */
    CHECK_FAILS(mco_dataset_load_cifar10(temp_dir, MCO_SPLIT_TRAIN, &ds), MCO_ERR_NOT_FOUND, "data_batch_1.bin");
    for (int i = 0; i < 5; i++) {
        char name[32];
        snprintf(name, sizeof name, "data_batch_%d.bin", i + 1);
        write_cifar(name, i == 2 ? 3 : 1, i == 0 ? 0 : i == 1 ? 1 : i == 2 ? 2 : i + 2, -1);
    }
    CHECK_OK(mco_dataset_load_cifar10(temp_dir, MCO_SPLIT_TRAIN, &ds));
    CHECK(ds.n == 7);
    check_cifar_hwc(&ds);
    mco_dataset_free(&ds);

    write_cifar("test_batch.bin", 2, 0, 1);
    CHECK_FAILS(mco_dataset_load_cifar10(temp_dir, MCO_SPLIT_TEST, &ds), MCO_ERR_FORMAT, "record 1 has label 10");
    uint8_t odd[3074] = { 0 };
    write_file("test_batch.bin", odd, sizeof odd, 0);
    CHECK_FAILS(mco_dataset_load_cifar10(temp_dir, MCO_SPLIT_TEST, &ds), MCO_ERR_FORMAT, "not a positive multiple");
    write_file("test_batch.bin", odd, 0, 0);
    CHECK_FAILS(mco_dataset_load_cifar10(temp_dir, MCO_SPLIT_TEST, &ds), MCO_ERR_FORMAT, "not a positive multiple");
    CHECK(ds.samples_u8 == NULL);
}

/* A synthetic set whose sample i has every pixel and the label derived from i. */
static mco_status make_counting_set(int n, mco_dataset *ds)
{
    memset(ds, 0, sizeof *ds);
    snprintf(ds->name, sizeof ds->name, "counting");
    ds->n = n;
    ds->shape = (mco_shape){ 2, 2, 1 };
    ds->n_classes = 10;
    ds->samples_u8 = malloc((size_t)n * 4);
    ds->labels = malloc((size_t)n);
    if (!ds->samples_u8 || !ds->labels)
        return MCO_ERR_NOMEM;
    for (int i = 0; i < n; i++) {
        for (int p = 0; p < 4; p++)
            ds->samples_u8[i * 4 + p] = (uint8_t)(i + p);
        ds->labels[i] = (uint8_t)(i % 10);
    }
    return MCO_OK;
}

static void test_split_and_head(void)
{
    enum { N = 200 };
    mco_dataset src, train, val, train2, val2, head;
    CHECK_OK(make_counting_set(N, &src));

    CHECK_OK(mco_dataset_split(&src, 50, 42, &train, &val));
    CHECK(train.n == 150 && val.n == 50);
    CHECK(strcmp(train.name, "counting") == 0 && val.shape.h == 2 && val.n_classes == 10);

    /* Every sample lands in exactly one part, with its label and pixels intact.
     * Pixel 0 identifies the sample modulo 256, so use label and pixel 0 together
     * with N < 256. */
    int seen[N] = { 0 };
    int in_place = 0;
    for (int part = 0; part < 2; part++) {
        const mco_dataset *d = part ? &val : &train;
        for (int i = 0; i < d->n; i++) {
            int id = d->samples_u8[i * 4];
            CHECK(d->labels[i] == id % 10);
            CHECK(d->samples_u8[i * 4 + 3] == (uint8_t)(id + 3));
            seen[id]++;
            in_place += part == 0 && id == i;
        }
    }
    int once = 0;
    for (int i = 0; i < N; i++)
        once += seen[i] == 1;
    CHECK(once == N);
    CHECK(in_place < 20);  /* it really is shuffled */

    /* Same seed, same split; another seed, another split. */
    CHECK_OK(mco_dataset_split(&src, 50, 42, &train2, &val2));
    CHECK(memcmp(val.samples_u8, val2.samples_u8, 50 * 4) == 0 && memcmp(train.labels, train2.labels, 150) == 0);
    mco_dataset_free(&train2);
    mco_dataset_free(&val2);
    CHECK_OK(mco_dataset_split(&src, 50, 43, &train2, &val2));
    CHECK(memcmp(val.samples_u8, val2.samples_u8, 50 * 4) != 0);
    mco_dataset_free(&train2);
    mco_dataset_free(&val2);

    /* Edge sizes. */
    CHECK_OK(mco_dataset_split(&src, 0, 1, &train2, &val2));
    CHECK(train2.n == N && val2.n == 0);
    mco_dataset_free(&train2);
    mco_dataset_free(&val2);
    CHECK_FAILS(mco_dataset_split(&src, N + 1, 1, &train2, &val2), MCO_ERR_ARG, "validation size");
    CHECK(train2.samples_u8 == NULL && val2.samples_u8 == NULL);

    CHECK_OK(mco_dataset_head(&src, 7, &head));
    CHECK(head.n == 7 && memcmp(head.samples_u8, src.samples_u8, 7 * 4) == 0 && memcmp(head.labels, src.labels, 7) == 0);
    CHECK(head.samples_u8 != src.samples_u8);
    mco_dataset_free(&head);
    CHECK_FAILS(mco_dataset_head(&src, N + 1, &head), MCO_ERR_ARG, "first 201");

    mco_dataset_free(&train);
    mco_dataset_free(&val);
    mco_dataset_free(&src);
}

static void test_rng(void)
{
    mco_rng a, b;
    mco_rng_seed(&a, 7);
    mco_rng_seed(&b, 7);
    int same = 1;
    for (int i = 0; i < 100; i++)
        same &= mco_rng_next_u64(&a) == mco_rng_next_u64(&b);
    CHECK(same);
    mco_rng_seed(&b, 8);
    CHECK(mco_rng_next_u64(&a) != mco_rng_next_u64(&b));

    /* Seed 0 still works (splitmix64 mixes it). */
    mco_rng_seed(&a, 0);
    CHECK(mco_rng_next_u64(&a) != 0 || mco_rng_next_u64(&a) != 0);

    double sum = 0, sum_sq = 0, usum = 0;
    int out_of_range = 0, counts[7] = { 0 };
    const int n = 100000;
    mco_rng_seed(&a, 123);
    for (int i = 0; i < n; i++) {
        float u = mco_rng_uniform(&a);
        out_of_range += !(u >= 0.0f && u < 1.0f);
        usum += u;
        uint64_t k = mco_rng_below(&a, 7);
        out_of_range += k >= 7;
        if (k < 7) counts[k]++;
        double z = mco_rng_normal(&a);
        sum += z;
        sum_sq += z * z;
    }
    CHECK(out_of_range == 0);
    CHECK_NEAR(usum / n, 0.5, 0.01);
    for (int k = 0; k < 7; k++)
        CHECK_NEAR(counts[k], n / 7.0, 600);
    CHECK_NEAR(sum / n, 0.0, 0.02);
    CHECK_NEAR(sum_sq / n, 1.0, 0.02);
    CHECK(mco_rng_below(&a, 0) == 0 && mco_rng_below(&a, 1) == 0);
}

static void check_class_counts(const mco_dataset *ds, const int *want)
{
    int counts[10] = { 0 };
    for (int i = 0; i < ds->n; i++)
        counts[ds->labels[i]]++;
    for (int k = 0; k < 10; k++) {
        if (counts[k] != want[k]) {
            fprintf(stderr, "%s: class %d has %d samples, expected %d\n", ds->name, k, counts[k], want[k]);
            test_failures++;
        }
    }
}

static void test_real_sets(void)
{
    const char *mnist = test_mnist_dir();
    struct stat st;
    mco_dataset ds;
    if (test_have_mnist()) {
        CHECK_OK(mco_dataset_load_idx_dir(mnist, MCO_SPLIT_TRAIN, "mnist", &ds));
        CHECK(ds.n == 60000 && ds.shape.h == 28 && ds.shape.w == 28 && ds.shape.c == 1);
        static const int train_counts[10] = { 5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949 };
        if (ds.n == 60000) check_class_counts(&ds, train_counts);
        mco_dataset_free(&ds);

        CHECK_OK(mco_dataset_load(NULL, "mnist", mnist, MCO_SPLIT_TEST, &ds));
        CHECK(ds.n == 10000 && ds.shape.h == 28 && ds.shape.w == 28 && ds.shape.c == 1);
        static const int test_counts[10] = { 980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009 };
        if (ds.n == 10000) check_class_counts(&ds, test_counts);
        mco_dataset_free(&ds);
    } else {
        test_skip("MNIST counts: MNIST not found in %s", mnist);
    }

    if (stat("/usr/share/datasets/fashion-mnist", &st) == 0) {
        CHECK_OK(mco_dataset_load(NULL, "fashion-mnist", NULL, MCO_SPLIT_TEST, &ds));
        CHECK(ds.n == 10000 && ds.shape.h == 28 && ds.shape.w == 28 && strcmp(ds.name, "fashion-mnist") == 0);
        static const int balanced[10] = { 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000 };
        if (ds.n == 10000) check_class_counts(&ds, balanced);
        mco_dataset_free(&ds);
    } else {
        test_skip("Fashion-MNIST counts: /usr/share/datasets/fashion-mnist absent (Debian package dataset-fashion-mnist)");
    }
}

int main(void)
{
    snprintf(temp_dir, sizeof temp_dir, "/tmp/mco_test_data_XXXXXX");
    if (!mkdtemp(temp_dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_idx_round_trip();
    test_idx_damaged();
    test_idx_dir();
    test_load_by_name();
    test_cifar10();
    test_split_and_head();
    test_rng();
    test_real_sets();
    remove_temp_dir();
    TEST_MAIN_END();
}
