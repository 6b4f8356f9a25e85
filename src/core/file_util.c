/*
 * file_util.c - the library's one file reader (mco_read_file, see
 * mcuopt/file_io.h), reading and decoding a model file with it
 * (mco_read_model_file), and removing a directory tree.
 *
 * The file is opened without blocking (a FIFO with no writer would
 * otherwise hang in open) and refused unless fstat says it is a regular
 * file: a directory, FIFO, socket or device gets one error line, and
 * /dev/zero cannot make it read forever. Reading starts from the size fstat
 * reports but grows its buffer as data actually arrives rather than
 * trusting that size, so a file that changes while it is read is still read
 * correctly, and never more than cap + 1 bytes are allocated.
 *
 * What it leaves out: memory-mapping, and reading pipes or stdin.
 */
#include "mcuopt/file_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_FIRST_CAPACITY ((size_t)64 << 10)

const char *mco_file_kind(mode_t mode)
{
    if (S_ISREG(mode)) return "a regular file";
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    if (S_ISLNK(mode)) return "a symbolic link";
    return "a special file";
}

/* Reads everything from fd into a buffer with room for a trailing '\0',
 * at most max_size + 1 bytes (one more than allowed shows a too-large file). */
static mco_status read_all(int fd, const char *path, size_t first, size_t max_size, uint8_t **bytes,
                           size_t *size)
{
    size_t limit = max_size < SIZE_MAX - 1 ? max_size + 1 : SIZE_MAX - 1;
    size_t capacity = 0, used = 0;
    uint8_t *buf = NULL;
    for (;;) {
        if (used == capacity) {   /* full (or nothing yet): grow, keeping a byte for the '\0' */
            if (capacity == limit) break;
            size_t grown = capacity ? capacity * 2 : first;
            if (grown > limit || grown < capacity) grown = limit;
            uint8_t *bigger = realloc(buf, grown + 1);
            if (!bigger) {
                free(buf);
                return mco_error(MCO_ERR_NOMEM, "%s: out of memory reading %zu bytes", path, grown);
            }
            buf = bigger;
            capacity = grown;
        }
        ssize_t got = read(fd, buf + used, capacity - used);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            int saved = errno;
            free(buf);
            return mco_error(MCO_ERR_IO, "%s: read failed: %s", path, strerror(saved));
        }
        if (got == 0) break;
        used += (size_t)got;
    }
    if (used > max_size) {
        free(buf);
        return mco_error(MCO_ERR_RANGE, "%s: file too large (more than the %zu bytes allowed here)", path,
                         max_size);
    }
    buf[used] = '\0';
    *bytes = buf;
    *size = used;
    return MCO_OK;
}

mco_status mco_open_regular(const char *path, int *fd, off_t *size)
{
    *fd = -1;
    if (!path || !path[0]) return mco_error(MCO_ERR_ARG, "no file name given");
    /* O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below. */
    int f = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (f < 0) return mco_error(MCO_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat info;
    mco_status st = MCO_OK;
    if (fstat(f, &info) != 0) st = mco_error(MCO_ERR_IO, "%s: %s", path, strerror(errno));
    else if (!S_ISREG(info.st_mode))
        st = mco_error(MCO_ERR_IO, "%s: is %s, not a regular file", path, mco_file_kind(info.st_mode));
    if (st != MCO_OK) {
        close(f);
        return st;
    }
    int flags = fcntl(f, F_GETFL);
    if (flags >= 0) fcntl(f, F_SETFL, flags & ~O_NONBLOCK);
    *fd = f;
    if (size) *size = info.st_size;
    return MCO_OK;
}

mco_status mco_read_file(const char *path, size_t max_size, uint8_t **bytes, size_t *size)
{
    *bytes = NULL;
    *size = 0;
    int fd;
    off_t reported;
    mco_status st = mco_open_regular(path, &fd, &reported);
    if (st != MCO_OK) return st;
    if ((uint64_t)reported > max_size)
        st = mco_error(MCO_ERR_RANGE, "%s: file too large (%lld bytes; at most %zu allowed here)", path,
                       (long long)reported, max_size);
    /* The reported size is a first guess (+1 to see the end without growing). */
    size_t first = reported > 0 ? (size_t)reported + 1 : READ_FIRST_CAPACITY;
    if (st == MCO_OK) st = read_all(fd, path, first, max_size, bytes, size);
    close(fd);
    return st;
}

mco_status mco_read_text_file(const char *path, size_t max_size, char **text)
{
    uint8_t *bytes;
    size_t size;
    mco_status st = mco_read_file(path, max_size, &bytes, &size);
    *text = (char *)bytes;
    return st;
}

mco_status mco_read_model_file(const char *path, size_t max_size, mco_decode_fn decode, void *out)
{
    uint8_t *bytes;
    size_t size;
    mco_status st = mco_read_file(path, max_size, &bytes, &size);
    if (st == MCO_ERR_RANGE) return MCO_ERR_FORMAT;   /* the message names the path and the cap */
    if (st != MCO_OK) return st;
    st = decode(bytes, size, path, out);
    free(bytes);
    return st;
}

void mco_remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            size_t n = strlen(path) + strlen(e->d_name) + 2;
            char *child = malloc(n);
            if (!child) continue;
            snprintf(child, n, "%s/%s", path, e->d_name);
            struct stat sb;   /* lstat: a symlink is removed, never followed */
            if (lstat(child, &sb) == 0 && S_ISDIR(sb.st_mode)) mco_remove_tree(child);
            else unlink(child);
            free(child);
        }
        closedir(d);
    }
    rmdir(path);
}
