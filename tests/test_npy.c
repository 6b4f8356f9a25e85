/*
 * test_npy.c - the NumPy .npy reader and the x.npy / y.npy data sets
 * (src/data/npy.c). Writes small real .npy files (the bytes numpy.save
 * writes: magic, version, little-endian header length, dict header padded
 * to 64 bytes, C-order data) into a fresh directory under /tmp and checks:
 * the values read back; float32 / uint8 / int8 samples and their shapes;
 * the hash split of one x.npy / y.npy pair (disjoint, complete, stable);
 * the x_train / x_test layout; an unlabelled set; and that each bad file
 * (wrong dtype, Fortran order, truncated, trailing bytes, wrong label
 * shape, mismatched counts, a NaN) is refused with one error line naming
 * the file.
 *
 * What it leaves out: numpy itself (tests/data_readers_cli.sh writes its
 * arrays with numpy) and hostile headers (tests/fuzz/fuzz_npy.c).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mcuopt/data.h"
#include "test_util.h"

static char dir[64];

/* Writes dir/name as numpy.save would (format 1.0): descr, fortran_order
 * and shape as given, then `size` data bytes. */
static void write_npy(const char *name, const char *descr, const char *fortran, const char *shape,
                      const void *data, size_t size)
{
    char path[256], header[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int n = snprintf(header, sizeof header, "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }", descr, fortran,
                     shape);
    int total = 10 + n + 1;
    int pad = (64 - total % 64) % 64;
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(1);
    }
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(n + pad + 1),
                             (unsigned char)((n + pad + 1) >> 8)};
    fwrite(pre, 1, 10, f);
    fwrite(header, 1, (size_t)n, f);
    for (int i = 0; i < pad; i++) fputc(' ', f);
    fputc('\n', f);
    if (size) fwrite(data, 1, size, f);
    fclose(f);
}

static void remove_file(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    unlink(path);
}

#define N 100

static void test_pair_split(void)
{
    float x[N][3];
    uint8_t y[N];
    for (int i = 0; i < N; i++) {
        for (int k = 0; k < 3; k++) x[i][k] = (float)(i * 10 + k) + 0.25f;
        y[i] = (uint8_t)(i % 4);
    }
    write_npy("x.npy", "<f4", "False", "(100, 3)", x, sizeof x);
    write_npy("y.npy", "|u1", "False", "(100,)", y, sizeof y);

    mco_npy a;
    char path[256];
    snprintf(path, sizeof path, "%s/x.npy", dir);
    CHECK_OK(mco_npy_read(path, &a));
    CHECK(a.dtype == MCO_NPY_F32 && a.ndim == 2 && a.dims[0] == N && a.dims[1] == 3 && a.count == 3 * N);
    CHECK(a.data && memcmp(a.data, x, sizeof x) == 0);
    mco_npy_free(&a);

    mco_data_options opt;
    mco_data_options_default(&opt);
    mco_dataset train, test;
    CHECK_OK(mco_dataset_load_npy(dir, MCO_SPLIT_TRAIN, &opt, &train));
    CHECK_OK(mco_dataset_load_npy(dir, MCO_SPLIT_TEST, &opt, &test));
    CHECK(train.n + test.n == N);
    CHECK(test.n > 5 && test.n < 40);   /* about 20 % */
    CHECK(train.sample_type == MCO_SAMPLE_F32 && train.shape.h == 1 && train.shape.w == 1 && train.shape.c == 3);
    CHECK(train.n_classes == 4 && test.n_classes == 4 && train.label_kind == MCO_LABELS_CLASS);
    /* Every row is in exactly one split, with its own label, in file order. */
    int seen[N] = {0};
    const mco_dataset *sets[2] = {&train, &test};
    for (int s = 0; s < 2; s++)
        for (int i = 0; i < sets[s]->n; i++) {
            int row = (int)(sets[s]->samples_f32[3 * i] / 10.0f);
            CHECK(row >= 0 && row < N);
            if (row < 0 || row >= N) continue;
            seen[row]++;
            CHECK(memcmp(&sets[s]->samples_f32[3 * i], x[row], sizeof x[row]) == 0);
            CHECK(sets[s]->labels[i] == y[row]);
            CHECK(mco_data_in_test_split((unsigned char[4]){(unsigned char)row, 0, 0, 0}, 4, 20) == s);
        }
    for (int i = 0; i < N; i++) CHECK(seen[i] == 1);
    mco_dataset_free(&train);
    mco_dataset_free(&test);

    /* No y.npy: an unlabelled set (reconstruction). */
    remove_file("y.npy");
    CHECK_OK(mco_dataset_load_npy(dir, MCO_SPLIT_TRAIN, &opt, &train));
    CHECK(train.label_kind == MCO_LABELS_NONE && train.labels == NULL && train.n_classes == 0);
    mco_dataset_free(&train);
    remove_file("x.npy");
}

static void test_split_files(void)
{
    uint8_t x[6][2][2][1];
    int8_t xi[3][4];
    int64_t y[6] = {0, 1, 2, 0, 1, 2};
    uint8_t y_test[3] = {4, 0, 1};   /* the class count spans both files: 5 */
    for (int i = 0; i < 24; i++) ((uint8_t *)x)[i] = (uint8_t)(i * 10);
    for (int i = 0; i < 12; i++) ((int8_t *)xi)[i] = (int8_t)(i - 6);
    write_npy("x_train.npy", "|u1", "False", "(6, 2, 2, 1)", x, sizeof x);
    write_npy("y_train.npy", "<i8", "False", "(6, 1)", y, sizeof y);
    write_npy("x_test.npy", "|i1", "False", "(3, 4)", xi, sizeof xi);
    write_npy("y_test.npy", "|u1", "False", "(3,)", y_test, sizeof y_test);
    mco_dataset train, test;
    CHECK_OK(mco_dataset_load_npy(dir, MCO_SPLIT_TRAIN, NULL, &train));
    CHECK(train.n == 6 && train.sample_type == MCO_SAMPLE_U8 && train.shape.h == 2 && train.shape.w == 2 &&
          train.shape.c == 1);
    CHECK(train.samples_u8 && memcmp(train.samples_u8, x, sizeof x) == 0);
    CHECK(train.n_classes == 5 && train.labels[5] == 2);
    CHECK_OK(mco_dataset_load_npy(dir, MCO_SPLIT_TEST, NULL, &test));
    CHECK(test.n == 3 && test.sample_type == MCO_SAMPLE_F32 && test.shape.c == 4);
    CHECK(test.samples_f32 && test.samples_f32[0] == -6.0f && test.samples_f32[11] == 5.0f);
    CHECK(test.n_classes == 5 && test.labels[0] == 4);
    mco_dataset_free(&train);
    mco_dataset_free(&test);

    /* Both layouts at once is ambiguous. */
    write_npy("x.npy", "|u1", "False", "(6, 2, 2, 1)", x, sizeof x);
    test_check_error(mco_dataset_load_npy(dir, MCO_SPLIT_TRAIN, NULL, &train), dir, "keep one layout");
    remove_file("x.npy");
    const char *names[] = {"x_train.npy", "y_train.npy", "x_test.npy", "y_test.npy"};
    for (int i = 0; i < 4; i++) remove_file(names[i]);
    test_check_error(mco_dataset_load_npy(dir, MCO_SPLIT_TRAIN, NULL, &train), dir, "no x.npy");
}

static void test_bad_files(void)
{
    float x[4][2] = {{1, 2}, {3, 4}, {5, 6}, {7, 8}};
    double xd[4][2] = {{0}};
    uint8_t y[4] = {0, 1, 0, 1};
    float yf[4] = {0, 1, 0, 1};
    mco_dataset ds;
    mco_npy a;
    char path[256];
    snprintf(path, sizeof path, "%s/x.npy", dir);

    write_npy("y.npy", "|u1", "False", "(4,)", y, sizeof y);
    write_npy("x.npy", "<f8", "False", "(4, 2)", xd, sizeof xd);
    test_check_error(mco_dataset_load_npy(dir, MCO_SPLIT_TRAIN, NULL, &ds), "x.npy", "float64");
    write_npy("x.npy", "<c8", "False", "(4, 2)", x, sizeof x);
    test_check_error(mco_npy_read(path, &a), "x.npy", "dtype '<c8' is not supported");
    write_npy("x.npy", ">f4", "False", "(4, 2)", x, sizeof x);
    test_check_error(mco_npy_read(path, &a), "x.npy", "big-endian");
    write_npy("x.npy", "<f4", "True", "(4, 2)", x, sizeof x);
    test_check_error(mco_npy_read(path, &a), "x.npy", "Fortran order");
    write_npy("x.npy", "<f4", "False", "(4, 2)", x, sizeof x - 4);
    test_check_error(mco_npy_read(path, &a), "x.npy", "truncated");
    write_npy("x.npy", "<f4", "False", "(4, 2)", x, sizeof x);
    FILE *f = fopen(path, "ab");
    fputc(0, f);
    fclose(f);
    test_check_error(mco_npy_read(path, &a), "x.npy", "trailing bytes");
    write_npy("x.npy", "<f4", "False", "(3, 2)", x, 6 * sizeof(float));
    test_check_error(mco_dataset_load_npy(dir, MCO_SPLIT_TRAIN, NULL, &ds), "x.npy has 3 samples", "y.npy has 4 labels");
    write_npy("x.npy", "<f4", "False", "(2, 2, 2, 1, 1)", x, sizeof x);
    test_check_error(mco_dataset_load_npy(dir, MCO_SPLIT_TRAIN, NULL, &ds), "x.npy", "5 dimensions");
    x[2][1] = NAN;
    write_npy("x.npy", "<f4", "False", "(4, 2)", x, sizeof x);
    mco_data_options opt;
    mco_data_options_default(&opt);
    opt.test_percent = 1;   /* rows 0..3 all go to train with 1 % in test: 2's NaN is read */
    mco_status st = mco_dataset_load_npy(dir, MCO_SPLIT_TRAIN, &opt, &ds);
    if (st == MCO_OK) mco_dataset_free(&ds);
    test_check_error(st, "x.npy", "non-finite");
    x[2][1] = 6;
    write_npy("x.npy", "<f4", "False", "(4, 2)", x, sizeof x);
    write_npy("y.npy", "<f4", "False", "(4,)", yf, sizeof yf);
    test_check_error(mco_dataset_load_npy(dir, MCO_SPLIT_TRAIN, NULL, &ds), "y.npy", "integers");
    write_npy("y.npy", "|u1", "False", "(2, 2)", y, sizeof y);
    test_check_error(mco_dataset_load_npy(dir, MCO_SPLIT_TRAIN, NULL, &ds), "y.npy", "one-hot");
    uint8_t zeros[4] = {0};
    write_npy("y.npy", "|u1", "False", "(4,)", zeros, sizeof zeros);
    test_check_error(mco_dataset_load_npy(dir, MCO_SPLIT_TRAIN, NULL, &ds), "y.npy", "at least two classes");
    int16_t big[4] = {0, 1, 300, 2};
    write_npy("y.npy", "<i2", "False", "(4,)", big, sizeof big);
    test_check_error(mco_dataset_load_npy(dir, MCO_SPLIT_TRAIN, NULL, &ds), "y.npy", "label 300");
    f = fopen(path, "wb");
    fputs("x,y\n1,2\n", f);
    fclose(f);
    test_check_error(mco_npy_read(path, &a), "x.npy", "not a .npy file");
    remove_file("x.npy");
    remove_file("y.npy");
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/mco_test_npy_XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_pair_split();
    test_split_files();
    test_bad_files();
    rmdir(dir);
    TEST_MAIN_END();
}
