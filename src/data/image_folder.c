/*
 * image_folder.c - a data set from a folder of images, one sub-directory
 * per class (Keras' image_dataset_from_directory layout; see data.h for
 * the layout, the splits and the conversions).
 *
 * The folder is listed first (names only, class_folder.c), then exactly
 * the split's samples are allocated and each file is decoded straight into
 * its slot by mco_image_read (image_file.c): at most one decoded image is
 * held besides them.
 *
 * What it leaves out: listing (class_folder.c), decoding a file
 * (image_file.c), and decoding on several threads.
 */
#include "class_folder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMAGE_MAX_BYTES ((size_t)1 << 32)   /* all the split's samples: 4 GiB */

static int has_image_extension(const char *name)
{
    return folder_has_suffix(name, ".png") || folder_has_suffix(name, ".jpg") || folder_has_suffix(name, ".jpeg") ||
           folder_has_suffix(name, ".bmp");
}

mco_status mco_dataset_load_images(const char *dir, mco_split split, const mco_data_options *opt, mco_dataset *out)
{
    memset(out, 0, sizeof *out);
    mco_shape shape = opt ? opt->shape : (mco_shape){0, 0, 0};
    if (shape.h < 1 || shape.w < 1)
        return mco_error(MCO_ERR_ARG, "%s: an image folder is resized to the model's input, and no input shape "
                         "is known (an architecture needs its line: input H W C)", dir);
    if (shape.c != 1 && shape.c != 3)
        return mco_error(MCO_ERR_SHAPE, "%s: images are read as 1 (grey) or 3 (RGB) channels, the model takes %d",
                         dir, shape.c);
    char root[4096];
    class_name *classes = NULL;
    int n_classes = 0;
    folder_list list = {0};
    const folder_spec spec = {has_image_extension, "PNG, JPEG or BMP images",
                              "an image folder holds one sub-directory of PNG, JPEG or BMP files per class", NULL,
                              NULL, NULL};
    mco_status st = folder_list_split(dir, split, opt ? opt->test_percent : 0, &spec, root, sizeof root, &classes,
                                      &n_classes, &list);
    size_t bytes = mco_shape_size(shape);
    if (st == MCO_OK && list.n > IMAGE_MAX_BYTES / bytes)
        st = mco_error(MCO_ERR_RANGE, "%s: %zu images of %dx%dx%d are more than %zu GiB", dir, list.n, shape.h, shape.w,
                       shape.c, IMAGE_MAX_BYTES >> 30);
    if (st == MCO_OK) {
        out->samples_u8 = malloc(list.n * bytes + 1);
        out->labels = malloc(list.n + 1);
        if (!out->samples_u8 || !out->labels) st = mco_error(MCO_ERR_NOMEM, "%s: cannot allocate %zu images", dir, list.n);
    }
    for (size_t i = 0; st == MCO_OK && i < list.n; i++) {
        char path[4096];
        if ((st = folder_path_join(path, sizeof path, root, list.items[i].path)) == MCO_OK)
            st = mco_image_read(path, shape, out->samples_u8 + i * bytes);
        out->labels[i] = (uint8_t)list.items[i].label;
    }
    size_t n = list.n;
    folder_list_free(&list);
    if (st != MCO_OK) {
        free(classes);
        mco_dataset_free(out);
        return st;
    }
    out->n = (int)n;
    out->shape = shape;
    out->sample_type = MCO_SAMPLE_U8;
    out->label_kind = MCO_LABELS_CLASS;
    out->n_classes = n_classes;
    out->class_names = classes;
    return MCO_OK;
}
