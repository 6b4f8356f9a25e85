/*
 * idx.c - reader for IDX files, the format of MNIST and Fashion-MNIST
 * (see data.h), gzip'd or plain: zlib's gzread passes plain files through.
 *
 * Layout (all integers big-endian):
 *   byte 0-1  zero
 *   byte 2    element type; only 0x08 (unsigned byte) is accepted
 *   byte 3    number of dimensions, 1..4
 *   then      one uint32 per dimension
 *   then      the product of the dimensions, in bytes, row-major
 * The file must hold exactly that many data bytes: a short file or extra
 * bytes at the end are format errors that say which.
 *
 * The header's size is checked before allocating, and the buffer grows as
 * data actually arrives, so a hostile header cannot make us allocate a
 * gigabyte for a tiny file. The file is opened by mco_open_regular, so a
 * FIFO or directory is refused instead of waited on. What it leaves out: the other IDX element types
 * (int8, int16, int32, float, double), which no supported data set uses.
 */
#include "mcuopt/data.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "mcuopt/file_util.h"

#define IDX_TYPE_UBYTE 0x08
#define IDX_MAX_COUNT 10000000u          /* cap on the first (sample count) dimension */
#define IDX_MAX_BYTES ((size_t)1 << 30)  /* cap on the data size: 1 GiB */
#define IDX_FIRST_CHUNK ((size_t)1 << 20)

/* Reads up to `n` bytes; *got says how many arrived (fewer only at the end
 * of the file). Fails only for read errors and corrupt gzip data. */
static mco_status read_bytes(gzFile gz, const char *path, uint8_t *buf, size_t n, size_t *got)
{
    *got = 0;
    while (*got < n) {
        size_t want = n - *got;
        if (want > ((size_t)1 << 30))
            want = (size_t)1 << 30;
        int r = gzread(gz, buf + *got, (unsigned)want);
        if (r < 0) {
            int code = 0;
            const char *msg = gzerror(gz, &code);
            if (code == Z_ERRNO)
                return mco_error(MCO_ERR_IO, "%s: read failed: %s", path, strerror(errno));
            return mco_error(MCO_ERR_FORMAT, "%s: corrupt gzip data: %s", path, msg);
        }
        if (r == 0)
            break;
        *got += (size_t)r;
    }
    /* zlib reports a gzip stream cut short as a plain end of file plus an error code. */
    int code = 0;
    const char *msg = gzerror(gz, &code);
    if (code != Z_OK && code != Z_BUF_ERROR)
        return mco_error(MCO_ERR_FORMAT, "%s: corrupt gzip data: %s", path, msg);
    if (code == Z_BUF_ERROR)
        return mco_error(MCO_ERR_FORMAT, "%s: truncated: gzip stream ends early", path);
    return MCO_OK;
}

static uint32_t load_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

/* Checks the header bytes already read (magic and dims) and fills ndim, dims, size. */
static mco_status parse_header(gzFile gz, const char *path, mco_idx *out)
{
    uint8_t magic[4];
    size_t got;
    mco_status st = read_bytes(gz, path, magic, sizeof magic, &got);
    if (st != MCO_OK)
        return st;
    if (got < sizeof magic)
        return mco_error(MCO_ERR_FORMAT, "%s: truncated: file is shorter than the 4-byte IDX magic", path);
    if (magic[0] != 0 || magic[1] != 0 || magic[3] < 1 || magic[3] > 4)
        return mco_error(MCO_ERR_FORMAT, "%s: not an IDX file (magic 0x%02x%02x%02x%02x)", path,
                         magic[0], magic[1], magic[2], magic[3]);
    if (magic[2] != IDX_TYPE_UBYTE)
        return mco_error(MCO_ERR_UNSUPPORTED, "%s: IDX element type 0x%02x is not supported (only unsigned byte, 0x08)",
                         path, magic[2]);

    out->ndim = magic[3];
    uint8_t dim_bytes[16];
    size_t dims_len = 4 * (size_t)out->ndim;
    st = read_bytes(gz, path, dim_bytes, dims_len, &got);
    if (st != MCO_OK)
        return st;
    if (got < dims_len)
        return mco_error(MCO_ERR_FORMAT, "%s: truncated: header ends inside the %d dimensions", path, out->ndim);

    size_t size = 1;
    for (int i = 0; i < out->ndim; i++) {
        uint32_t d = load_be32(dim_bytes + 4 * i);
        uint32_t cap = i == 0 ? IDX_MAX_COUNT : MCO_MAX_DIM;
        if (d == 0 || d > cap)
            return mco_error(MCO_ERR_FORMAT, "%s: dimension %d is %u (must be 1..%u)", path, i, d, cap);
        if (size > IDX_MAX_BYTES / d)
            return mco_error(MCO_ERR_RANGE, "%s: header claims more than %zu bytes of data", path, IDX_MAX_BYTES);
        size *= d;
        out->dims[i] = d;
    }
    out->size = size;
    return MCO_OK;
}

/* Reads exactly out->size data bytes into a buffer that grows as data arrives,
 * then checks that nothing follows them. */
static mco_status read_data(gzFile gz, const char *path, mco_idx *out)
{
    size_t capacity = 0, have = 0;
    while (have < out->size) {
        size_t next = capacity ? 2 * capacity : IDX_FIRST_CHUNK;
        if (next > out->size)
            next = out->size;
        uint8_t *grown = realloc(out->data, next);
        if (!grown)
            return mco_error(MCO_ERR_NOMEM, "%s: cannot allocate %zu bytes", path, next);
        out->data = grown;
        capacity = next;

        size_t got;
        mco_status st = read_bytes(gz, path, out->data + have, capacity - have, &got);
        if (st != MCO_OK)
            return st;
        have += got;
        if (have < capacity)
            return mco_error(MCO_ERR_FORMAT, "%s: truncated: header says %zu data bytes, file has %zu",
                             path, out->size, have);
    }

    uint8_t extra;
    size_t got;
    mco_status st = read_bytes(gz, path, &extra, 1, &got);
    if (st != MCO_OK)
        return st;
    if (got != 0)
        return mco_error(MCO_ERR_FORMAT, "%s: trailing bytes after the %zu data bytes the header declares",
                         path, out->size);
    return MCO_OK;
}

mco_status mco_idx_read(const char *path, mco_idx *out)
{
    memset(out, 0, sizeof *out);
    if (access(path, F_OK) != 0 && errno == ENOENT) return mco_error(MCO_ERR_NOT_FOUND, "%s: no such file", path);
    int fd;   /* the library's open: a FIFO or directory is refused, never waited on */
    mco_status st = mco_open_regular(path, &fd, NULL);
    if (st != MCO_OK) return st;
    gzFile gz = gzdopen(fd, "rb");
    if (!gz) {
        close(fd);
        return mco_error(MCO_ERR_NOMEM, "%s: cannot allocate zlib state", path);
    }

    st = parse_header(gz, path, out);
    if (st == MCO_OK)
        st = read_data(gz, path, out);
    gzclose(gz);
    if (st != MCO_OK)
        mco_idx_free(out);
    return st;
}

void mco_idx_free(mco_idx *idx)
{
    free(idx->data);
    memset(idx, 0, sizeof *idx);
}
