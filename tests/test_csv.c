/*
 * test_csv.c - the CSV reader (src/data/csv.c): writes small CSV files into
 * a fresh directory under /tmp and checks the values and labels read back;
 * a header row with a named label column, class names as labels (sorted
 * into class indices), numeric labels, a label column by index, an
 * unlabelled set, quoting, a byte order mark; the hash split of the rows
 * (disjoint and complete); a row of exactly the model's input size taking
 * its shape; and that each bad file (a missing column, an extra field, a
 * non-number, an empty field, one class, no data rows, an unknown label
 * column) is one error line with file:line.
 *
 * What it leaves out: hostile bytes (tests/fuzz/fuzz_csv.c).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mcuopt/data.h"
#include "test_util.h"

static char dir[64], path[128];

static void write_file(const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(1);
    }
    fputs(text, f);
    fclose(f);
}

static void check_error(mco_status st, const char *what) { test_check_error(st, path, what); }

/* Loads both splits with `opt` and checks they partition the rows. */
static void load_both(const mco_data_options *opt, mco_dataset *all_train, mco_dataset *all_test)
{
    CHECK_OK(mco_dataset_load_csv(path, MCO_SPLIT_TRAIN, opt, all_train));
    CHECK_OK(mco_dataset_load_csv(path, MCO_SPLIT_TEST, opt, all_test));
}

static void test_named_labels(void)
{
    /* 50 rows: x0 = row, x1 = row + 0.5, a quoted third feature; the label a
     * name ("cat" for even rows, "ant" for odd: sorted, ant = 0). */
    char text[8192] = "\xEF\xBB\xBFx0,x1,label,\"x 2\"\n";
    for (int i = 0; i < 50; i++) {
        char row[128];
        snprintf(row, sizeof row, "%d,%d.5,%s,\"%d\"\r\n", i, i, i % 2 ? "ant" : "cat", 2 * i);
        strcat(text, row);
    }
    write_file(text);
    mco_data_options opt;
    mco_data_options_default(&opt);
    mco_dataset train, test;
    load_both(&opt, &train, &test);
    CHECK(train.n + test.n == 50 && test.n > 2 && test.n < 20);
    CHECK(train.sample_type == MCO_SAMPLE_F32 && train.shape.h == 1 && train.shape.w == 1 && train.shape.c == 3);
    CHECK(train.n_classes == 2 && train.class_names && strcmp(train.class_names[0], "ant") == 0 &&
          strcmp(train.class_names[1], "cat") == 0);
    int seen[50] = {0};
    const mco_dataset *sets[2] = {&train, &test};
    for (int s = 0; s < 2; s++)
        for (int i = 0; i < sets[s]->n; i++) {
            const float *v = &sets[s]->samples_f32[3 * i];
            int row = (int)v[0];
            CHECK(row >= 0 && row < 50);
            if (row < 0 || row >= 50) continue;
            seen[row]++;
            CHECK(v[1] == (float)row + 0.5f && v[2] == (float)(2 * row));
            CHECK(sets[s]->labels[i] == (row % 2 ? 0 : 1));
        }
    for (int i = 0; i < 50; i++) CHECK(seen[i] == 1);
    mco_dataset_free(&train);
    mco_dataset_free(&test);

    /* The same file with 3 features and a 1x1x3 model; a 3x1x1 model takes
     * the row as its shape (the values in row order). */
    opt.shape = (mco_shape){3, 1, 1};
    CHECK_OK(mco_dataset_load_csv(path, MCO_SPLIT_TRAIN, &opt, &train));
    CHECK(train.shape.h == 3 && train.shape.w == 1 && train.shape.c == 1);
    mco_dataset_free(&train);
    opt.shape = (mco_shape){2, 2, 1};   /* 4 values: not the row's 3, so 1x1x3 stays (the consumer refuses it) */
    CHECK_OK(mco_dataset_load_csv(path, MCO_SPLIT_TRAIN, &opt, &train));
    CHECK(train.shape.h == 1 && train.shape.c == 3);
    mco_dataset_free(&train);
}

static void test_numeric_and_index(void)
{
    /* No header; the label in column 0 by index; numeric labels are the
     * class indices themselves (0..3: 4 classes though 2 never occurs). */
    write_file("0,1.5,2\n3,4,5e-1\n1,7,8\n0,9,10\n");
    mco_data_options opt;
    mco_data_options_default(&opt);
    opt.label_column = "0";
    opt.test_percent = 1;
    mco_dataset ds;
    CHECK_OK(mco_dataset_load_csv(path, MCO_SPLIT_TRAIN, &opt, &ds));
    CHECK(ds.n + 0 <= 4 && ds.n_classes == 4 && ds.shape.c == 2 && ds.class_names == NULL);
    if (ds.n == 4) CHECK(ds.labels[1] == 3 && ds.samples_f32[3] == 0.5f);
    mco_dataset_free(&ds);

    /* "none": every column a feature, no labels. */
    opt.label_column = "none";
    CHECK_OK(mco_dataset_load_csv(path, MCO_SPLIT_TRAIN, &opt, &ds));
    CHECK(ds.label_kind == MCO_LABELS_NONE && ds.labels == NULL && ds.shape.c == 3);
    mco_dataset_free(&ds);
}

static void test_bad_files(void)
{
    mco_data_options opt;
    mco_data_options_default(&opt);
    mco_dataset ds;
    write_file("a,b,label\n1,2,0\n3,1\n");
    check_error(mco_dataset_load_csv(path, MCO_SPLIT_TRAIN, &opt, &ds), ":3: only 2 fields: column 'label' (2) is missing");
    write_file("a,b,label\n1,2,0\n3,1,1,9\n");
    check_error(mco_dataset_load_csv(path, MCO_SPLIT_TRAIN, &opt, &ds), ":3: more fields than the 3 columns");
    write_file("a,b,label\n1,2,0\n3,x,1\n");
    check_error(mco_dataset_load_csv(path, MCO_SPLIT_TRAIN, &opt, &ds), ":3: column 'b' (1): 'x' is not a finite number");
    write_file("a,b,label\n1,,0\n3,1,1\n");
    check_error(mco_dataset_load_csv(path, MCO_SPLIT_TRAIN, &opt, &ds), ":2: column 'b' (1) is empty");
    write_file("a,b,label\n1,2,0\n3,4,0\n");
    check_error(mco_dataset_load_csv(path, MCO_SPLIT_TRAIN, &opt, &ds), "at least two classes");
    write_file("a,b,label\n");
    check_error(mco_dataset_load_csv(path, MCO_SPLIT_TRAIN, &opt, &ds), "no data rows");
    write_file("");
    check_error(mco_dataset_load_csv(path, MCO_SPLIT_TRAIN, &opt, &ds), "empty file");
    write_file("a,b,class\n1,2,0\n");
    check_error(mco_dataset_load_csv(path, MCO_SPLIT_TRAIN, &opt, &ds), "no column named 'label'");
    write_file("1,2,0\n3,4,1\n");
    check_error(mco_dataset_load_csv(path, MCO_SPLIT_TRAIN, &opt, &ds), "no header row");
    write_file("a,b,label\n1,\"2,0\n");
    check_error(mco_dataset_load_csv(path, MCO_SPLIT_TRAIN, &opt, &ds), path);
    opt.label_column = "7";
    write_file("1,2,0\n3,4,1\n");
    check_error(mco_dataset_load_csv(path, MCO_SPLIT_TRAIN, &opt, &ds), "label column 7 is not among the 3 columns");
    opt.label_column = NULL;
    snprintf(path, sizeof path, "%s/missing.csv", dir);
    CHECK(mco_dataset_load_csv(path, MCO_SPLIT_TRAIN, &opt, &ds) != MCO_OK);
    CHECK(strstr(mco_last_error(), "missing.csv") != NULL);
    snprintf(path, sizeof path, "%s/d.csv", dir);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/mco_test_csv_XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(path, sizeof path, "%s/d.csv", dir);
    test_named_labels();
    test_numeric_and_index();
    test_bad_files();
    unlink(path);
    rmdir(dir);
    TEST_MAIN_END();
}
