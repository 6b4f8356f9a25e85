/*
 * file_util.h - whole-file reading and atomic writing (src/core/file_util.c).
 *
 * mco_read_file reads a whole file into memory but refuses one larger than
 * a caller-given cap, so a hostile or mistaken path (a huge file, a device)
 * cannot make the library allocate without bound. mco_write_file_atomic is
 * public (declared in mcuopt/model_file.h) and re-declared here through that
 * include so internal callers need only this header.
 *
 * What it leaves out: memory-mapping, and reading from stdin.
 */
#ifndef MCO_CORE_FILE_UTIL_H
#define MCO_CORE_FILE_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "mcuopt/model_file.h"
#include "mcuopt/status.h"

/* Reads all of `path` into a malloc'd buffer (*bytes, to be freed by the
 * caller; non-NULL even for an empty file) of *size bytes. Fails with
 * MCO_ERR_IO if the file cannot be opened or read, and MCO_ERR_RANGE if it
 * holds more than `max_size` bytes. Messages start with the path. */
mco_status mco_read_file(const char *path, size_t max_size, uint8_t **bytes, size_t *size);

#endif
