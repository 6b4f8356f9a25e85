/*
 * file_util.h - files (src/core/file_util.c, src/core/safe_output.c): the
 * reader and safe writers of mcuopt/file_io.h, which every area uses, plus
 * the helpers the library's own areas need (opening a file to stream it,
 * naming a file type in an error, removing a tree).
 *
 * What it leaves out: see mcuopt/file_io.h.
 */
#ifndef MCO_CORE_FILE_UTIL_H
#define MCO_CORE_FILE_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mcuopt/file_io.h"
#include "mcuopt/status.h"

/* Opens `path` for reading (a blocking fd in *fd, its size in *size if
 * size is not NULL), refusing anything but a regular file without waiting
 * (a FIFO with no writer). For streaming readers (gzip); mco_read_file
 * uses it too. */
mco_status mco_open_regular(const char *path, int *fd, off_t *size);

/* "a directory", "a FIFO", "a symbolic link", ... for an error line. */
const char *mco_file_kind(mode_t mode);

/* mco_output_open, but with named = 1 the temporary file has its name from
 * the start, as where O_TMPFILE is missing (for tests of that path). */
mco_status mco_output_open_named(mco_output_file *out, const char *path, int named);

/* Removes `path` and everything under it (symlinks are removed, never
 * followed); errors are ignored. */
void mco_remove_tree(const char *path);

#endif
