/*
 * file_util.c - reading a whole file with a size cap, and writing a file
 * atomically through a temporary file and rename (see file_util.h).
 *
 * Reading starts from the size fstat reports for a regular file, but grows
 * its buffer as data actually arrives rather than trusting that size, so it
 * works for pipes and files that change, never allocates more than about
 * twice what the file really holds, and at most cap + 1 bytes.
 *
 * Writing goes to "<path>.tmp.<pid>" in the same directory, is flushed and
 * fsync'd, and then renamed over `path`; rename within one file system is
 * atomic on POSIX, so readers see either the old file or the whole new one.
 * On any failure the temporary file is removed and `path` is left as it was.
 *
 * What it leaves out: fsync of the directory after the rename (the new name
 * may be lost in a power cut, but never points at a half-written file), and
 * keeping the old file's permissions or owner (the new file gets the
 * default ones, as from fopen).
 */
#include "mcuopt/file_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_FIRST_CAPACITY ((size_t)64 << 10)

mco_status mco_read_file(const char *path, size_t max_size, uint8_t **bytes, size_t *size)
{
    *bytes = NULL;
    *size = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return mco_error(MCO_ERR_IO, "%s: cannot open: %s", path, strerror(errno));

    /* Room for one byte more than the cap, so a too-large file is detected by reading it. */
    size_t limit = max_size < SIZE_MAX ? max_size + 1 : max_size;
    /* A regular file's size is a good first guess (+1 to see the end without
     * growing); the loop still copes if the file changes while we read it. */
    size_t first = READ_FIRST_CAPACITY;
    struct stat info;
    if (fstat(fileno(f), &info) == 0 && S_ISREG(info.st_mode) && (uint64_t)info.st_size < limit)
        first = (size_t)info.st_size + 1;
    size_t capacity = 0, used = 0;
    uint8_t *buf = NULL;
    mco_status st = MCO_OK;
    for (;;) {
        if (used == capacity) {
            if (capacity == limit) break;
            size_t grown = capacity ? capacity * 2 : first;
            if (grown > limit || grown < capacity) grown = limit;
            uint8_t *bigger = realloc(buf, grown ? grown : 1);
            if (!bigger) {
                st = mco_error(MCO_ERR_NOMEM, "%s: out of memory reading %zu bytes", path, grown);
                break;
            }
            buf = bigger;
            capacity = grown;
        }
        size_t got = fread(buf + used, 1, capacity - used, f);
        used += got;
        if (got == 0) {
            if (ferror(f)) st = mco_error(MCO_ERR_IO, "%s: read failed: %s", path, strerror(errno));
            break;
        }
    }
    fclose(f);
    if (st == MCO_OK && used > max_size)
        st = mco_error(MCO_ERR_RANGE, "%s: file is larger than the %zu-byte limit", path, max_size);
    if (st == MCO_OK && !buf) {
        buf = malloc(1);   /* an empty file: still hand back a buffer the caller can free */
        if (!buf) st = mco_error(MCO_ERR_NOMEM, "%s: out of memory", path);
    }
    if (st != MCO_OK) {
        free(buf);
        return st;
    }
    *bytes = buf;
    *size = used;
    return MCO_OK;
}

/* Writes all bytes to a fresh file and closes it; reports the first failure. */
static mco_status write_and_close(FILE *f, const char *path, const void *data, size_t size)
{
    int failed = size > 0 && fwrite(data, 1, size, f) != size;
    failed = failed || fflush(f) != 0 || fsync(fileno(f)) != 0;
    int saved_errno = errno;
    if (fclose(f) != 0 && !failed) {
        failed = 1;
        saved_errno = errno;
    }
    if (failed) return mco_error(MCO_ERR_IO, "%s: write failed: %s", path, strerror(saved_errno));
    return MCO_OK;
}

mco_status mco_write_file_atomic(const char *path, const void *data, size_t size)
{
    size_t tmp_len = strlen(path) + 32;
    char *tmp_path = malloc(tmp_len);
    if (!tmp_path) return mco_error(MCO_ERR_NOMEM, "%s: out of memory", path);
    snprintf(tmp_path, tmp_len, "%s.tmp.%ld", path, (long)getpid());

    mco_status st;
    FILE *f = fopen(tmp_path, "wb");
    if (!f) {
        st = mco_error(MCO_ERR_IO, "%s: cannot create %s: %s", path, tmp_path, strerror(errno));
    } else {
        st = write_and_close(f, path, data, size);
        if (st == MCO_OK && rename(tmp_path, path) != 0)
            st = mco_error(MCO_ERR_IO, "%s: cannot rename %s over it: %s", path, tmp_path,
                           strerror(errno));
        if (st != MCO_OK) remove(tmp_path);
    }
    free(tmp_path);
    return st;
}
