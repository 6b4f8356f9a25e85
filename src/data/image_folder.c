/*
 * image_folder.c - a data set from a folder of images, one sub-directory
 * per class (Keras' image_dataset_from_directory layout; see data.h for
 * the layout, the splits and the conversions).
 *
 * The folder is listed first (names only), then exactly the split's
 * samples are allocated and each file is decoded straight into its slot by
 * mco_image_read (image_file.c): at most one decoded image is held besides
 * them.
 *
 * What it leaves out: decoding a file (image_file.c), symbolic-link loops
 * beyond the depth cap, and decoding on several threads.
 */
#include "mcuopt/data.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define IMAGE_MAX_DEPTH 16          /* sub-directory levels below a class */
#define IMAGE_MAX_FILES 10000000
#define IMAGE_MAX_BYTES ((size_t)1 << 32)   /* all the split's samples: 4 GiB */

/* ---- Listing a folder --------------------------------------------------------- */

typedef struct {
    char *path;      /* below the split's root: "circle/0001.png" */
    int label;
} image_entry;

typedef struct {
    image_entry *items;
    size_t n, capacity;
    size_t seen;     /* image files of the current class, in either split */
} image_list;

typedef char class_name[MCO_CLASS_NAME_MAX];

static int has_image_extension(const char *name)
{
    static const char *const extensions[] = {".png", ".jpg", ".jpeg", ".bmp"};
    const char *dot = strrchr(name, '.');
    if (!dot) return 0;
    for (size_t i = 0; i < sizeof extensions / sizeof extensions[0]; i++) {
        const char *e = extensions[i], *d = dot;
        while (*e && *d && (*d == *e || (*d >= 'A' && *d <= 'Z' && *d - 'A' + 'a' == *e))) {
            e++;
            d++;
        }
        if (!*e && !*d) return 1;
    }
    return 0;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(a, b);
}

static int compare_entries(const void *a, const void *b)
{
    const image_entry *x = a, *y = b;
    return x->label != y->label ? (x->label < y->label ? -1 : 1) : strcmp(x->path, y->path);
}

static mco_status path_join(char *buf, size_t size, const char *a, const char *b)
{
    if ((size_t)snprintf(buf, size, "%s/%s", a, b) >= size) return mco_error(MCO_ERR_RANGE, "%s/%s: path too long", a, b);
    return MCO_OK;
}

/* The sorted sub-directory names of `dir` (hidden ones skipped); at most
 * MCO_DATA_MAX_CLASSES. */
static mco_status list_classes(const char *dir, class_name **names, int *count)
{
    *names = NULL;
    *count = 0;
    DIR *d = opendir(dir);
    if (!d) return mco_error(errno == ENOENT ? MCO_ERR_NOT_FOUND : MCO_ERR_IO, "%s: %s", dir, strerror(errno));
    class_name *list = malloc(MCO_DATA_MAX_CLASSES * sizeof *list);
    mco_status st = list ? MCO_OK : mco_error(MCO_ERR_NOMEM, "%s: out of memory", dir);
    struct dirent *e;
    while (st == MCO_OK && (e = readdir(d)) != NULL) {
        char path[4096];
        struct stat s;
        if (e->d_name[0] == '.') continue;
        if ((st = path_join(path, sizeof path, dir, e->d_name)) != MCO_OK) break;
        if (stat(path, &s) != 0 || !S_ISDIR(s.st_mode)) continue;
        if (*count == MCO_DATA_MAX_CLASSES)
            st = mco_error(MCO_ERR_RANGE, "%s: more than %d class sub-directories", dir, MCO_DATA_MAX_CLASSES);
        else if (strlen(e->d_name) >= MCO_CLASS_NAME_MAX)
            st = mco_error(MCO_ERR_RANGE, "%s: a sub-directory name longer than 255 bytes", dir);
        else
            snprintf(list[(*count)++], MCO_CLASS_NAME_MAX, "%s", e->d_name);
    }
    closedir(d);
    if (st != MCO_OK) {
        free(list);
        *count = 0;
        return st;
    }
    qsort(list, (size_t)*count, sizeof *list, compare_names);
    *names = list;
    return MCO_OK;
}

static mco_status add_entry(image_list *list, const char *rel, int label)
{
    if (list->n == IMAGE_MAX_FILES) return mco_error(MCO_ERR_RANGE, "more than %d images", IMAGE_MAX_FILES);
    if (list->n == list->capacity) {
        size_t grown = list->capacity ? 2 * list->capacity : 256;
        image_entry *items = realloc(list->items, grown * sizeof *items);
        if (!items) return mco_error(MCO_ERR_NOMEM, "out of memory listing images");
        list->items = items;
        list->capacity = grown;
    }
    char *copy = strdup(rel);
    if (!copy) return mco_error(MCO_ERR_NOMEM, "out of memory listing images");
    list->items[list->n++] = (image_entry){copy, label};
    return MCO_OK;
}

/* Adds the image files below root/rel (walked to IMAGE_MAX_DEPTH levels) of
 * class `label`; with `hash_split`, only those mco_data_in_test_split puts
 * in `split` (every file counts in list->seen). */
static mco_status walk(const char *root, const char *rel, int depth, int label, int hash_split, mco_split split,
                       int test_percent, image_list *list)
{
    char dir[4096];
    mco_status st = path_join(dir, sizeof dir, root, rel);
    if (st != MCO_OK) return st;
    DIR *d = opendir(dir);
    if (!d) return mco_error(MCO_ERR_IO, "%s: %s", dir, strerror(errno));
    struct dirent *e;
    while (st == MCO_OK && (e = readdir(d)) != NULL) {
        char child[4096], path[4096];
        struct stat s;
        if (e->d_name[0] == '.') continue;
        if ((st = path_join(child, sizeof child, rel, e->d_name)) != MCO_OK) break;
        if ((st = path_join(path, sizeof path, root, child)) != MCO_OK) break;
        if (stat(path, &s) != 0) continue;   /* a dangling link */
        if (S_ISDIR(s.st_mode)) {
            if (depth < IMAGE_MAX_DEPTH)
                st = walk(root, child, depth + 1, label, hash_split, split, test_percent, list);
        } else if (S_ISREG(s.st_mode) && has_image_extension(e->d_name)) {
            list->seen++;
            if (!hash_split || mco_data_in_test_split(child, strlen(child), test_percent) == (split == MCO_SPLIT_TEST))
                st = add_entry(list, child, label);
        }
    }
    closedir(d);
    return st;
}

static void free_list(image_list *list)
{
    for (size_t i = 0; i < list->n; i++) free(list->items[i].path);
    free(list->items);
    memset(list, 0, sizeof *list);
}

/* The index of `name` in the sorted class list, or -1. */
static int class_index(class_name *classes, int n, const char *name)
{
    class_name *found = bsearch(name, classes, (size_t)n, sizeof *classes, compare_names);
    return found ? (int)(found - classes) : -1;
}

/* Lists the split: the classes (from train/ in the train/ + test/ layout,
 * else from dir) and the split's image files below *root. */
static mco_status list_split(const char *dir, mco_split split, int test_percent, char *root, size_t root_size,
                             class_name **classes, int *n_classes, image_list *list)
{
    char train[4096], test[4096];
    struct stat s;
    mco_status st = path_join(train, sizeof train, dir, "train");
    if (st == MCO_OK) st = path_join(test, sizeof test, dir, "test");
    if (st != MCO_OK) return st;
    int split_dirs = stat(train, &s) == 0 && S_ISDIR(s.st_mode) && stat(test, &s) == 0 && S_ISDIR(s.st_mode);
    snprintf(root, root_size, "%s", split_dirs ? (split == MCO_SPLIT_TRAIN ? train : test) : dir);
    if ((st = list_classes(split_dirs ? train : dir, classes, n_classes)) != MCO_OK) return st;
    if (*n_classes == 0)
        return mco_error(MCO_ERR_FORMAT, "%s: no class sub-directories (an image folder holds one sub-directory of "
                         "PNG, JPEG or BMP files per class)", split_dirs ? train : dir);
    if (*n_classes == 1)
        return mco_error(MCO_ERR_FORMAT, "%s: only one class sub-directory ('%s'): classification needs at least two",
                         split_dirs ? train : dir, (*classes)[0]);

    /* The split's own class directories (test/'s must be among train/'s). */
    class_name *own = *classes;
    int n_own = *n_classes;
    if (split_dirs && split == MCO_SPLIT_TEST && (st = list_classes(test, &own, &n_own)) != MCO_OK) return st;
    for (int c = 0; st == MCO_OK && c < n_own; c++) {
        int label = class_index(*classes, *n_classes, own[c]);
        if (label < 0) {
            st = mco_error(MCO_ERR_FORMAT, "%s/%s: a class that %s does not have", test, own[c], train);
            break;
        }
        list->seen = 0;
        st = walk(root, own[c], 0, label, !split_dirs, split, test_percent, list);
        if (st == MCO_OK && list->seen == 0)
            st = mco_error(MCO_ERR_FORMAT, "%s/%s: no PNG, JPEG or BMP images", root, own[c]);
    }
    if (own != *classes) free(own);
    return st;
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
    image_list list = {0};
    mco_status st = list_split(dir, split, opt ? opt->test_percent : 0, root, sizeof root, &classes, &n_classes, &list);
    size_t bytes = mco_shape_size(shape);
    if (st == MCO_OK && list.n > IMAGE_MAX_BYTES / bytes)
        st = mco_error(MCO_ERR_RANGE, "%s: %zu images of %dx%dx%d are more than %zu GiB", dir, list.n, shape.h, shape.w,
                       shape.c, IMAGE_MAX_BYTES >> 30);
    if (st == MCO_OK) {
        qsort(list.items, list.n, sizeof *list.items, compare_entries);
        out->samples_u8 = malloc(list.n * bytes + 1);
        out->labels = malloc(list.n + 1);
        if (!out->samples_u8 || !out->labels) st = mco_error(MCO_ERR_NOMEM, "%s: cannot allocate %zu images", dir, list.n);
    }
    for (size_t i = 0; st == MCO_OK && i < list.n; i++) {
        char path[4096];
        if ((st = path_join(path, sizeof path, root, list.items[i].path)) == MCO_OK)
            st = mco_image_read(path, shape, out->samples_u8 + i * bytes);
        out->labels[i] = (uint8_t)list.items[i].label;
    }
    size_t n = list.n;
    free_list(&list);
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
