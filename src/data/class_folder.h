/*
 * class_folder.h - listing a folder with one sub-directory per class (the
 * layout image_folder.c and audio_folder.c read): the sorted class names,
 * the split's files (train/ + test/ sub-folders, a caller's selector, or
 * the hash split) and path helpers. Private to src/data.
 */
#ifndef MCO_CLASS_FOLDER_H
#define MCO_CLASS_FOLDER_H

#include <stddef.h>

#include "mcuopt/data.h"

typedef char class_name[MCO_CLASS_NAME_MAX];

typedef struct {
    char *path;      /* below the split's root: "circle/0001.png" */
    int label;
} folder_entry;

typedef struct {
    folder_entry *items;
    size_t n, capacity;
    size_t seen;     /* files of the current class, in either split */
} folder_list;

typedef struct {
    int (*accept)(const char *file_name);  /* the files of a class (by name) */
    const char *files;                     /* what they are, for errors: "PNG, JPEG or BMP images" */
    const char *layout;                    /* the layout, for errors: "an image folder holds ..." */
    const char *skip_dir;                  /* a sub-directory that is no class, or NULL */
    /* Without train/ and test/ sub-folders: 1 if the file at `rel` (below
     * the folder) is in the test split; NULL: mco_data_in_test_split. */
    int (*in_test)(void *user, const char *rel);
    void *user;
} folder_spec;

/* 1 if name ends with suffix (ASCII, any case). */
int folder_has_suffix(const char *name, const char *suffix);

mco_status folder_path_join(char *buf, size_t size, const char *a, const char *b);

/* Lists the split of the folder `dir`: the classes (from train/ in the
 * train/ + test/ layout, else from dir; at least two) and the split's files
 * below *root (root_size bytes), sorted by class then path. */
mco_status folder_list_split(const char *dir, mco_split split, int test_percent, const folder_spec *spec,
                             char *root, size_t root_size, class_name **classes, int *n_classes,
                             folder_list *list);

void folder_list_free(folder_list *list);

#endif
