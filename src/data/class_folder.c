/*
 * class_folder.c - listing a folder with one sub-directory per class (see
 * class_folder.h): names only, nothing is opened but directories. Shared
 * by image_folder.c and audio_folder.c, which decode the listed files.
 *
 * What it leaves out: decoding, symbolic-link loops beyond the depth cap.
 */
#include "class_folder.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FOLDER_MAX_DEPTH 16          /* sub-directory levels below a class */
#define FOLDER_MAX_FILES 10000000

int folder_has_suffix(const char *name, const char *suffix)
{
    size_t n = strlen(name), m = strlen(suffix);
    if (n < m) return 0;
    for (size_t i = 0; i < m; i++) {
        char a = name[n - m + i], b = suffix[i];
        if (a >= 'A' && a <= 'Z') a = (char)(a - 'A' + 'a');
        if (b >= 'A' && b <= 'Z') b = (char)(b - 'A' + 'a');
        if (a != b) return 0;
    }
    return 1;
}

mco_status folder_path_join(char *buf, size_t size, const char *a, const char *b)
{
    if ((size_t)snprintf(buf, size, "%s/%s", a, b) >= size) return mco_error(MCO_ERR_RANGE, "%s/%s: path too long", a, b);
    return MCO_OK;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(a, b);
}

static int compare_entries(const void *a, const void *b)
{
    const folder_entry *x = a, *y = b;
    return x->label != y->label ? (x->label < y->label ? -1 : 1) : strcmp(x->path, y->path);
}

/* The sorted sub-directory names of `dir` (hidden ones and skip_dir
 * skipped); at most MCO_DATA_MAX_CLASSES. */
static mco_status list_classes(const char *dir, const char *skip_dir, class_name **names, int *count)
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
        if (e->d_name[0] == '.' || (skip_dir && strcmp(e->d_name, skip_dir) == 0)) continue;
        if ((st = folder_path_join(path, sizeof path, dir, e->d_name)) != MCO_OK) break;
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

static mco_status add_entry(folder_list *list, const char *rel, int label)
{
    if (list->n == FOLDER_MAX_FILES) return mco_error(MCO_ERR_RANGE, "more than %d files", FOLDER_MAX_FILES);
    if (list->n == list->capacity) {
        size_t grown = list->capacity ? 2 * list->capacity : 256;
        folder_entry *items = realloc(list->items, grown * sizeof *items);
        if (!items) return mco_error(MCO_ERR_NOMEM, "out of memory listing files");
        list->items = items;
        list->capacity = grown;
    }
    char *copy = strdup(rel);
    if (!copy) return mco_error(MCO_ERR_NOMEM, "out of memory listing files");
    list->items[list->n++] = (folder_entry){copy, label};
    return MCO_OK;
}

/* Adds the accepted files below root/rel (walked to FOLDER_MAX_DEPTH
 * levels) of class `label`; with `select`, only those in `split` (every
 * file counts in list->seen). */
static mco_status walk(const char *root, const char *rel, int depth, int label, int select, mco_split split,
                       int test_percent, const folder_spec *spec, folder_list *list)
{
    char dir[4096];
    mco_status st = folder_path_join(dir, sizeof dir, root, rel);
    if (st != MCO_OK) return st;
    DIR *d = opendir(dir);
    if (!d) return mco_error(MCO_ERR_IO, "%s: %s", dir, strerror(errno));
    struct dirent *e;
    while (st == MCO_OK && (e = readdir(d)) != NULL) {
        char child[4096], path[4096];
        struct stat s;
        if (e->d_name[0] == '.') continue;
        if ((st = folder_path_join(child, sizeof child, rel, e->d_name)) != MCO_OK) break;
        if ((st = folder_path_join(path, sizeof path, root, child)) != MCO_OK) break;
        if (stat(path, &s) != 0) continue;   /* a dangling link */
        if (S_ISDIR(s.st_mode)) {
            if (depth < FOLDER_MAX_DEPTH)
                st = walk(root, child, depth + 1, label, select, split, test_percent, spec, list);
        } else if (S_ISREG(s.st_mode) && spec->accept(e->d_name)) {
            list->seen++;
            int test = !select ? 0
                       : spec->in_test ? spec->in_test(spec->user, child)
                                       : mco_data_in_test_split(child, strlen(child), test_percent);
            if (!select || test == (split == MCO_SPLIT_TEST)) st = add_entry(list, child, label);
        }
    }
    closedir(d);
    return st;
}

void folder_list_free(folder_list *list)
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

mco_status folder_list_split(const char *dir, mco_split split, int test_percent, const folder_spec *spec,
                             char *root, size_t root_size, class_name **classes, int *n_classes,
                             folder_list *list)
{
    char train[4096], test[4096];
    struct stat s;
    *classes = NULL;
    *n_classes = 0;
    mco_status st = folder_path_join(train, sizeof train, dir, "train");
    if (st == MCO_OK) st = folder_path_join(test, sizeof test, dir, "test");
    if (st != MCO_OK) return st;
    int split_dirs = stat(train, &s) == 0 && S_ISDIR(s.st_mode) && stat(test, &s) == 0 && S_ISDIR(s.st_mode);
    snprintf(root, root_size, "%s", split_dirs ? (split == MCO_SPLIT_TRAIN ? train : test) : dir);
    if ((st = list_classes(split_dirs ? train : dir, spec->skip_dir, classes, n_classes)) != MCO_OK) return st;
    if (*n_classes == 0)
        st = mco_error(MCO_ERR_FORMAT, "%s: no class sub-directories (%s)", split_dirs ? train : dir, spec->layout);
    else if (*n_classes == 1)
        st = mco_error(MCO_ERR_FORMAT, "%s: only one class sub-directory ('%s'): classification needs at least two",
                       split_dirs ? train : dir, (*classes)[0]);

    /* The split's own class directories (test/'s must be among train/'s). */
    class_name *own = *classes;
    int n_own = *n_classes;
    if (st == MCO_OK && split_dirs && split == MCO_SPLIT_TEST)
        st = list_classes(test, spec->skip_dir, &own, &n_own);
    for (int c = 0; st == MCO_OK && c < n_own; c++) {
        int label = class_index(*classes, *n_classes, own[c]);
        if (label < 0) {
            st = mco_error(MCO_ERR_FORMAT, "%s/%s: a class that %s does not have", test, own[c], train);
            break;
        }
        list->seen = 0;
        st = walk(root, own[c], 0, label, !split_dirs, split, test_percent, spec, list);
        if (st == MCO_OK && list->seen == 0) st = mco_error(MCO_ERR_FORMAT, "%s/%s: no %s", root, own[c], spec->files);
    }
    if (own != *classes) free(own);
    if (st == MCO_OK) {
        qsort(list->items, list->n, sizeof *list->items, compare_entries);
    } else {
        free(*classes);
        *classes = NULL;
        *n_classes = 0;
        folder_list_free(list);
    }
    return st;
}
