/*
 * test_image_folder.c - the image folder reader (src/data/image_folder.c):
 * draws small PNG, JPEG and BMP files with stb_image_write (Debian
 * libstb-dev; mcuopt decodes them with libpng, libjpeg-turbo and
 * stb_image) into class sub-directories under /tmp, and checks: the classes (sorted sub-directory names) and
 * their labels; nested directories walked, other files ignored; the hash
 * split (disjoint, complete); the train/ + test/ layout; conversion to grey
 * and RGB and resizing (a flat colour stays that colour; a larger image is
 * area-averaged); and that each bad folder or file (a corrupt PNG, a PNG
 * chunk longer than the file, a JPEG cut short, a BMP without its pixel
 * rows, a text file named .png, one
 * class, an empty class, no input shape, 2 channels, a test class train/
 * lacks) is one error line naming it.
 *
 * What it leaves out: hostile bytes (tests/fuzz/fuzz_image.c) and the
 * command line (tests/data_readers_cli.sh).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stb/stb_image_write.h>

#include "mcuopt/data.h"
#include "test_util.h"

static char root[64];

static void make_dir(const char *rel)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    mkdir(path, 0755);
}

/* An image of w x h x comp filled with `colour` (one byte per channel),
 * written as PNG, JPEG or BMP by the file name's extension. */
static void draw(const char *rel, int w, int h, int comp, const uint8_t *colour)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    uint8_t *pixels = malloc((size_t)(w * h * comp));
    for (int i = 0; i < w * h; i++) memcpy(pixels + i * comp, colour, (size_t)comp);
    const char *ext = strrchr(rel, '.');
    int ok = strcmp(ext, ".png") == 0   ? stbi_write_png(path, w, h, comp, pixels, w * comp)
             : strcmp(ext, ".bmp") == 0 ? stbi_write_bmp(path, w, h, comp, pixels)
                                        : stbi_write_jpg(path, w, h, comp, pixels, 95);
    free(pixels);
    if (!ok) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
}

static const uint8_t orange[3] = {200, 100, 50}, grey[1] = {90};

/* 30 orange RGB PNGs of 40x30 in "orange", 20 grey JPEGs and BMPs of 8x8 in
 * "grey" (some in a nested directory), plus files that are not images. */
static void make_folder(void)
{
    make_dir("orange");
    make_dir("grey");
    make_dir("grey/nested");
    make_dir(".hidden");
    for (int i = 0; i < 30; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "orange/%02d.png", i);
        draw(rel, 40, 30, 3, orange);
    }
    for (int i = 0; i < 20; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, i < 10 ? "grey/%02d.JPG" : i < 15 ? "grey/%02d.bmp" : "grey/nested/%02d.jpeg", i);
        draw(rel, 8, 8, 1, grey);
    }
    draw(".hidden/x.png", 4, 4, 1, grey);
    char path[256];
    snprintf(path, sizeof path, "%s/README.txt", root);
    FILE *f = fopen(path, "w");
    if (f) fclose(f);
    snprintf(path, sizeof path, "%s/grey/notes.txt", root);
    f = fopen(path, "w");
    fputs("not an image\n", f);
    fclose(f);
}

static void test_folder(void)
{
    mco_data_options opt;
    mco_data_options_default(&opt);
    opt.shape = (mco_shape){20, 20, 3};
    mco_dataset train, test;
    CHECK_OK(mco_dataset_load_images(root, MCO_SPLIT_TRAIN, &opt, &train));
    CHECK_OK(mco_dataset_load_images(root, MCO_SPLIT_TEST, &opt, &test));
    CHECK(train.n + test.n == 50 && test.n > 3 && test.n < 20);
    CHECK(train.n_classes == 2 && train.class_names && strcmp(train.class_names[0], "grey") == 0 &&
          strcmp(train.class_names[1], "orange") == 0);
    CHECK(train.sample_type == MCO_SAMPLE_U8 && train.shape.h == 20 && train.shape.w == 20 && train.shape.c == 3);
    /* Every orange sample is orange at every pixel (a flat colour resized
     * stays flat; PNG is lossless); grey ones are grey in all three
     * channels, within JPEG's error. */
    const mco_dataset *sets[2] = {&train, &test};
    int orange_count = 0;
    for (int s = 0; s < 2; s++)
        for (int i = 0; i < sets[s]->n; i++) {
            const uint8_t *p = sets[s]->samples_u8 + (size_t)i * 1200;
            int label = sets[s]->labels[i], bad = 0;
            orange_count += label == 1;
            for (int k = 0; k < 1200; k++) {
                int want = label == 1 ? orange[k % 3] : grey[0];
                bad += abs(p[k] - want) > (label == 1 ? 0 : 2);
            }
            CHECK(bad == 0);
        }
    CHECK(orange_count == 30);
    mco_dataset_free(&train);
    mco_dataset_free(&test);

    /* Grey from RGB by stb's luma weights: (77 r + 150 g + 29 b) >> 8. */
    opt.shape = (mco_shape){3, 4, 1};
    CHECK_OK(mco_dataset_load_images(root, MCO_SPLIT_TRAIN, &opt, &train));
    for (int i = 0; i < train.n; i++)
        if (train.labels[i] == 1) CHECK(train.samples_u8[(size_t)i * 12 + 5] == (77 * 200 + 150 * 100 + 29 * 50) >> 8);
    mco_dataset_free(&train);

    /* Area averaging when shrinking: a 4x2 image, left half 0, right 200, to 2x1. */
    uint8_t halves[8] = {0, 0, 200, 200, 0, 0, 200, 200}, out[2];
    char path[256];
    snprintf(path, sizeof path, "%s/halves.png", root);
    CHECK(stbi_write_png(path, 4, 2, 1, halves, 4));
    CHECK_OK(mco_image_read(path, (mco_shape){1, 2, 1}, out));
    CHECK(out[0] == 0 && out[1] == 200);
    CHECK_OK(mco_image_read(path, (mco_shape){1, 1, 1}, out));
    CHECK(out[0] == 100);
    unlink(path);
}

static void test_errors(void)
{
    mco_data_options opt;
    mco_data_options_default(&opt);
    opt.shape = (mco_shape){8, 8, 1};
    mco_dataset ds;
    char path[256];

    /* A PNG whose IDAT chunk declares 400 MB in a small file: refused
     * before stb_image allocates a buffer that size (a fuzz finding). */
    static const uint8_t plain[4] = {10, 20, 30, 40};
    snprintf(path, sizeof path, "%s/huge-chunk.png", root);
    CHECK(stbi_write_png(path, 2, 2, 1, plain, 2));
    FILE *f = fopen(path, "r+b");
    CHECK(f != NULL);
    uint8_t head[41];
    CHECK(fread(head, 1, sizeof head, f) == sizeof head && memcmp(head + 37, "IDAT", 4) == 0);
    CHECK(fseek(f, 33, SEEK_SET) == 0 && fwrite("\x18\x00\x00\x00", 1, 4, f) == 4);
    fclose(f);
    test_check_error(mco_image_read(path, opt.shape, (uint8_t[64]){0}), "chunk 'IDAT' of 402653184 bytes runs past",
                "image");
    unlink(path);

    /* A JPEG cut short: libjpeg would fill the rest with grey and warn;
     * the reader makes the warning an error naming the file. */
    uint8_t noise[32 * 32 * 3];
    for (size_t i = 0; i < sizeof noise; i++) noise[i] = (uint8_t)(i * 131u + 7u);
    snprintf(path, sizeof path, "%s/cut.jpg", root);
    CHECK(stbi_write_jpg(path, 32, 32, 3, noise, 90));
    f = fopen(path, "r+b");
    CHECK(f != NULL && fseek(f, 0, SEEK_END) == 0);
    long jpeg_size = ftell(f);
    fclose(f);
    CHECK(truncate(path, jpeg_size * 2 / 3) == 0);
    test_check_error(mco_image_read(path, opt.shape, (uint8_t[64]){0}), "cut.jpg: corrupt image", "Premature end");
    unlink(path);
    /* A BMP whose pixel rows are missing (stb_image would read zeros). */
    snprintf(path, sizeof path, "%s/cut.bmp", root);
    CHECK(stbi_write_bmp(path, 32, 32, 3, noise));
    CHECK(truncate(path, 200) == 0);
    test_check_error(mco_image_read(path, opt.shape, (uint8_t[64]){0}), "cut.bmp: corrupt image",
                "needs 3072 bytes of pixels, the file has 200 bytes");
    unlink(path);
    snprintf(path, sizeof path, "%s/text.png", root);
    f = fopen(path, "w");
    CHECK(f != NULL && fputs("hello\n", f) >= 0);
    fclose(f);
    test_check_error(mco_image_read(path, opt.shape, (uint8_t[64]){0}), "text.png", "not a PNG, JPEG or BMP image");
    unlink(path);

    /* A corrupt PNG (cut in half) is named, whichever split it is in. */
    snprintf(path, sizeof path, "%s/orange/05.png", root);
    f = fopen(path, "r+b");
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    CHECK(truncate(path, size / 2) == 0);
    mco_status st_train = mco_dataset_load_images(root, MCO_SPLIT_TRAIN, &opt, &ds);
    if (st_train == MCO_OK) mco_dataset_free(&ds);
    mco_status st_test = mco_dataset_load_images(root, MCO_SPLIT_TEST, &opt, &ds);
    if (st_test == MCO_OK) mco_dataset_free(&ds);
    test_check_error(st_train != MCO_OK ? st_train : st_test, "orange/05.png", "image");
    CHECK(st_train == MCO_OK || st_test == MCO_OK);
    test_check_error(mco_image_read(path, opt.shape, (uint8_t[64]){0}), "orange/05.png", "image");
    unlink(path);

    opt.shape = (mco_shape){0, 0, 0};
    test_check_error(mco_dataset_load_images(root, MCO_SPLIT_TRAIN, &opt, &ds), root, "no input shape");
    opt.shape = (mco_shape){8, 8, 2};
    test_check_error(mco_dataset_load_images(root, MCO_SPLIT_TRAIN, &opt, &ds), root, "the model takes 2");
    opt.shape = (mco_shape){8, 8, 1};

    make_dir("empty");
    test_check_error(mco_dataset_load_images(root, MCO_SPLIT_TRAIN, &opt, &ds), "empty", "no PNG, JPEG or BMP images");
    snprintf(path, sizeof path, "%s/empty", root);
    rmdir(path);

    /* The train/ + test/ layout: test's classes must be train's. */
    char sub[256];
    snprintf(sub, sizeof sub, "%s", root);
    make_dir("split");
    make_dir("split/train");
    make_dir("split/test");
    make_dir("split/train/a");
    make_dir("split/train/b");
    make_dir("split/test/a");
    draw("split/train/a/1.png", 8, 8, 1, grey);
    draw("split/train/a/2.png", 8, 8, 1, grey);
    draw("split/train/b/1.bmp", 8, 8, 3, orange);
    draw("split/test/a/1.png", 8, 8, 1, grey);
    snprintf(path, sizeof path, "%s/split", root);
    CHECK_OK(mco_dataset_load_images(path, MCO_SPLIT_TRAIN, &opt, &ds));
    CHECK(ds.n == 3 && ds.n_classes == 2 && ds.labels[2] == 1);
    mco_dataset_free(&ds);
    CHECK_OK(mco_dataset_load_images(path, MCO_SPLIT_TEST, &opt, &ds));
    CHECK(ds.n == 1 && ds.n_classes == 2 && ds.labels[0] == 0);
    mco_dataset_free(&ds);
    make_dir("split/test/c");
    draw("split/test/c/1.png", 8, 8, 1, grey);
    test_check_error(mco_dataset_load_images(path, MCO_SPLIT_TEST, &opt, &ds), "test/c", "a class that");

    /* One class only. */
    snprintf(path, sizeof path, "%s/split/train", root);
    snprintf(sub, sizeof sub, "%s/split/train/b/1.bmp", root);
    unlink(sub);
    snprintf(sub, sizeof sub, "%s/split/train/b", root);
    rmdir(sub);
    snprintf(path, sizeof path, "%s/split/train", root);
    test_check_error(mco_dataset_load_images(path, MCO_SPLIT_TRAIN, &opt, &ds), path, "only one class");
}

int main(void)
{
    snprintf(root, sizeof root, "/tmp/mco_test_images_XXXXXX");
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    make_folder();
    test_folder();
    test_errors();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", root);
    TEST_MAIN_END();
}
