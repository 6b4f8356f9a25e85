/*
 * npy.c - reader for NumPy's .npy files and the data sets made of them
 * (x.npy / y.npy pairs, see data.h).
 *
 * The format (numpy.lib.format): the magic "\x93NUMPY", a major and minor
 * version byte, the header length (2 bytes little-endian in version 1, 4 in
 * versions 2 and 3), then the header: a Python dict literal such as
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (60000, 28, 28), }
 * padded with spaces and a newline; the data follows, in C order. No Debian
 * library reads .npy from C, so the header is parsed here, strictly: the
 * three keys exactly once, nothing else, a dtype from the list below, and a
 * file that holds exactly the data the header declares (checked against the
 * file's size before any data is allocated).
 *
 * dtypes: |u1 |i1 <u2 <i2 <u4 <i4 <u8 <i8 <f4 <f8 (numpy writes '|' for one
 * byte; '<' and '=' on a little-endian machine are accepted too). Big-endian
 * data, Fortran order, structured and object arrays are refused with a line
 * saying how to save the array instead.
 *
 * A data set keeps only its split: x is read row by row and the rows of the
 * other split are skipped, never stored. What it leaves out: .npz archives
 * (numpy.savez), memory mapping, float16 and float64 samples (convert with
 * x.astype('float32')).
 */
#include "mcuopt/data.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mcuopt/file_util.h"

#define NPY_MAX_HEADER 65536u
#define NPY_MAX_FIRST_DIM 100000000u            /* samples */
#define NPY_MAX_BYTES ((size_t)1 << 32)         /* 4 GiB of data */
#define NPY_MAX_SAMPLE_VALUES ((size_t)1 << 26)

typedef struct {
    const char *text;
    size_t pos, len;
} header_cursor;

static void skip_spaces(header_cursor *c)
{
    while (c->pos < c->len && (c->text[c->pos] == ' ' || c->text[c->pos] == '\t' || c->text[c->pos] == '\n' ||
                               c->text[c->pos] == '\r'))
        c->pos++;
}

static int accept(header_cursor *c, char ch)
{
    skip_spaces(c);
    if (c->pos < c->len && c->text[c->pos] == ch) {
        c->pos++;
        return 1;
    }
    return 0;
}

/* A quoted string ('...' or "...", no escapes) into buf. */
static int parse_string(header_cursor *c, char *buf, size_t size)
{
    skip_spaces(c);
    if (c->pos >= c->len || (c->text[c->pos] != '\'' && c->text[c->pos] != '"')) return 0;
    char quote = c->text[c->pos++];
    size_t n = 0;
    while (c->pos < c->len && c->text[c->pos] != quote) {
        if (c->text[c->pos] == '\\' || n + 1 >= size) return 0;
        buf[n++] = c->text[c->pos++];
    }
    if (c->pos >= c->len) return 0;
    c->pos++;
    buf[n] = '\0';
    return 1;
}

static int parse_word(header_cursor *c, const char *word)
{
    skip_spaces(c);
    size_t n = strlen(word);
    if (c->len - c->pos < n || memcmp(c->text + c->pos, word, n) != 0) return 0;
    c->pos += n;
    return 1;
}

/* (d0, d1, ...) with an optional trailing comma and Python 2's 'L' suffix. */
static mco_status parse_shape(header_cursor *c, const char *path, mco_npy *out)
{
    if (!accept(c, '(')) return mco_error(MCO_ERR_FORMAT, "%s: header: 'shape' is not a tuple", path);
    out->ndim = 0;
    while (!accept(c, ')')) {
        skip_spaces(c);
        if (out->ndim == 5)
            return mco_error(MCO_ERR_UNSUPPORTED, "%s: arrays of more than 5 dimensions are not supported", path);
        unsigned long long v = 0;
        size_t digits = 0;
        while (c->pos < c->len && isdigit((unsigned char)c->text[c->pos]) && digits < 12) {
            v = v * 10 + (unsigned long long)(c->text[c->pos++] - '0');
            digits++;
        }
        if (digits == 0 || digits == 12) return mco_error(MCO_ERR_FORMAT, "%s: header: a bad dimension in 'shape'", path);
        if (c->pos < c->len && c->text[c->pos] == 'L') c->pos++;
        unsigned long long cap = out->ndim == 0 ? NPY_MAX_FIRST_DIM : MCO_MAX_DIM;
        if (v == 0 || v > cap)
            return mco_error(MCO_ERR_FORMAT, "%s: dimension %d is %llu (must be 1..%llu)", path, out->ndim, v, cap);
        out->dims[out->ndim++] = (uint32_t)v;
        if (!accept(c, ',')) {
            if (!accept(c, ')')) return mco_error(MCO_ERR_FORMAT, "%s: header: 'shape' is not a tuple", path);
            break;
        }
    }
    return MCO_OK;
}

static mco_status parse_descr(const char *descr, const char *path, mco_npy *out)
{
    static const struct {
        const char *code;
        mco_npy_dtype dtype;
        size_t size;
    } types[] = {
        {"u1", MCO_NPY_U8, 1}, {"i1", MCO_NPY_I8, 1}, {"u2", MCO_NPY_U16, 2}, {"i2", MCO_NPY_I16, 2},
        {"u4", MCO_NPY_U32, 4}, {"i4", MCO_NPY_I32, 4}, {"u8", MCO_NPY_U64, 8}, {"i8", MCO_NPY_I64, 8},
        {"f4", MCO_NPY_F32, 4}, {"f8", MCO_NPY_F64, 8},
    };
    char order = descr[0];
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if (strcmp(descr + 1, types[i].code) != 0) continue;
        if (order == '>' && types[i].size > 1)
            return mco_error(MCO_ERR_UNSUPPORTED, "%s: big-endian dtype '%s' (save it little-endian: "
                             "x.astype(x.dtype.newbyteorder('<')))", path, descr);
        if (order != '<' && order != '|' && order != '=' && order != '>') break;
        out->dtype = types[i].dtype;
        out->item_size = types[i].size;
        return MCO_OK;
    }
    return mco_error(MCO_ERR_UNSUPPORTED, "%s: dtype '%s' is not supported (uint8, int8, float32 samples; "
                     "integer labels)", path, descr);
}

/* Parses the header dict; all three keys exactly once. */
static mco_status parse_header(const char *text, size_t len, const char *path, mco_npy *out)
{
    header_cursor c = {text, 0, len};
    int have_descr = 0, have_order = 0, have_shape = 0;
    if (!accept(&c, '{')) return mco_error(MCO_ERR_FORMAT, "%s: header is not a dict", path);
    while (!accept(&c, '}')) {
        char key[32], descr[32];
        if (!parse_string(&c, key, sizeof key) || !accept(&c, ':'))
            return mco_error(MCO_ERR_FORMAT, "%s: header: expected 'key': value", path);
        mco_status st = MCO_OK;
        if (strcmp(key, "descr") == 0 && !have_descr) {
            have_descr = 1;
            if (!parse_string(&c, descr, sizeof descr))
                return mco_error(MCO_ERR_UNSUPPORTED, "%s: 'descr' is not a simple dtype string (structured "
                                 "arrays are not supported)", path);
            st = parse_descr(descr, path, out);
        } else if (strcmp(key, "fortran_order") == 0 && !have_order) {
            have_order = 1;
            if (parse_word(&c, "True"))
                return mco_error(MCO_ERR_UNSUPPORTED, "%s: Fortran order (save with np.save(path, "
                                 "np.ascontiguousarray(x)))", path);
            if (!parse_word(&c, "False"))
                return mco_error(MCO_ERR_FORMAT, "%s: header: 'fortran_order' is not True or False", path);
        } else if (strcmp(key, "shape") == 0 && !have_shape) {
            have_shape = 1;
            st = parse_shape(&c, path, out);
        } else {
            return mco_error(MCO_ERR_FORMAT, "%s: header: unexpected or repeated key '%s'", path, key);
        }
        if (st != MCO_OK) return st;
        if (!accept(&c, ',')) {
            if (!accept(&c, '}')) return mco_error(MCO_ERR_FORMAT, "%s: header: expected ',' or '}'", path);
            break;
        }
    }
    skip_spaces(&c);
    if (c.pos != c.len) return mco_error(MCO_ERR_FORMAT, "%s: header: text after the dict", path);
    if (!have_descr || !have_order || !have_shape)
        return mco_error(MCO_ERR_FORMAT, "%s: header lacks '%s'", path,
                         !have_descr ? "descr" : !have_order ? "fortran_order" : "shape");
    return MCO_OK;
}

/* Opens `path`, reads and checks the header, checks that the file holds
 * exactly the declared data; *f is left at the first data byte. */
static mco_status npy_open(const char *path, mco_npy *out, FILE **f)
{
    memset(out, 0, sizeof *out);
    *f = NULL;
    if (access(path, F_OK) != 0 && errno == ENOENT) return mco_error(MCO_ERR_NOT_FOUND, "%s: no such file", path);
    int fd;
    off_t file_size;
    mco_status st = mco_open_regular(path, &fd, &file_size);
    if (st != MCO_OK) return st;
    FILE *file = fdopen(fd, "rb");
    if (!file) {
        close(fd);
        return mco_error(MCO_ERR_IO, "%s: %s", path, strerror(errno));
    }
    unsigned char pre[12];
    char *header = NULL;
    size_t prefix = 0, header_len = 0;
    if (fread(pre, 1, 10, file) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0)
        st = mco_error(MCO_ERR_FORMAT, "%s: not a .npy file (no \\x93NUMPY magic)", path);
    else if (pre[6] < 1 || pre[6] > 3)
        st = mco_error(MCO_ERR_UNSUPPORTED, "%s: .npy format version %d.%d (1.0 to 3.0 are read)", path, pre[6],
                       pre[7]);
    else if (pre[6] == 1) {
        header_len = (size_t)pre[8] | (size_t)pre[9] << 8;
        prefix = 10;
    } else if (fread(pre + 10, 1, 2, file) != 2) {
        st = mco_error(MCO_ERR_FORMAT, "%s: truncated: the header length is cut short", path);
    } else {
        header_len = (size_t)pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
        prefix = 12;
    }
    if (st == MCO_OK && (header_len == 0 || header_len > NPY_MAX_HEADER))
        st = mco_error(MCO_ERR_FORMAT, "%s: header length %zu (must be 1..%u)", path, header_len, NPY_MAX_HEADER);
    if (st == MCO_OK && !(header = malloc(header_len)))
        st = mco_error(MCO_ERR_NOMEM, "%s: out of memory for the header", path);
    if (st == MCO_OK && fread(header, 1, header_len, file) != header_len)
        st = mco_error(MCO_ERR_FORMAT, "%s: truncated: the file ends inside the header", path);
    if (st == MCO_OK && memchr(header, '\0', header_len))
        st = mco_error(MCO_ERR_FORMAT, "%s: header holds a NUL byte", path);
    if (st == MCO_OK) st = parse_header(header, header_len, path, out);
    free(header);
    if (st == MCO_OK) {
        size_t count = 1;
        for (int d = 0; d < out->ndim; d++) count *= out->dims[d];   /* dims are capped: no overflow */
        out->count = count;
        if (count > NPY_MAX_BYTES / out->item_size)
            st = mco_error(MCO_ERR_RANGE, "%s: more than %zu bytes of data", path, NPY_MAX_BYTES);
        else if ((unsigned long long)file_size != prefix + header_len + count * out->item_size)
            st = mco_error(MCO_ERR_FORMAT, "%s: %s: the header declares %zu data bytes, the file has %lld", path,
                           (unsigned long long)file_size < prefix + header_len + count * out->item_size ? "truncated"
                                                                                                      : "trailing bytes",
                           count * out->item_size, (long long)file_size - (long long)(prefix + header_len));
    }
    if (st != MCO_OK) {
        fclose(file);
        return st;
    }
    *f = file;
    return MCO_OK;
}

static mco_status read_exact(FILE *f, const char *path, void *buf, size_t n)
{
    if (fread(buf, 1, n, f) != n)
        return mco_error(ferror(f) ? MCO_ERR_IO : MCO_ERR_FORMAT, "%s: %s", path,
                         ferror(f) ? strerror(errno) : "truncated while reading the data");
    return MCO_OK;
}

mco_status mco_npy_read(const char *path, mco_npy *out)
{
    FILE *f;
    mco_status st = npy_open(path, out, &f);
    if (st != MCO_OK) return st;
    out->data = malloc(out->count * out->item_size);
    if (!out->data) st = mco_error(MCO_ERR_NOMEM, "%s: cannot allocate %zu bytes", path, out->count * out->item_size);
    else st = read_exact(f, path, out->data, out->count * out->item_size);
    fclose(f);
    if (st != MCO_OK) mco_npy_free(out);
    return st;
}

void mco_npy_free(mco_npy *npy)
{
    free(npy->data);
    memset(npy, 0, sizeof *npy);
}

/* ---- x / y data sets -------------------------------------------------------- */

static int is_integer_dtype(mco_npy_dtype t)
{
    return t != MCO_NPY_F32 && t != MCO_NPY_F64;
}

/* Element i of an integer array as a signed 64-bit value (uint64 above
 * INT64_MAX becomes -1: out of any label range either way). */
static long long integer_at(const mco_npy *a, size_t i)
{
    const uint8_t *p = a->data + i * a->item_size;
    uint64_t u = 0;
    for (size_t b = 0; b < a->item_size; b++) u |= (uint64_t)p[b] << (8 * b);
    int is_signed = a->dtype == MCO_NPY_I8 || a->dtype == MCO_NPY_I16 || a->dtype == MCO_NPY_I32 ||
                    a->dtype == MCO_NPY_I64;
    if (is_signed && a->item_size < 8 && (u >> (8 * a->item_size - 1)) & 1u) u |= ~(uint64_t)0 << (8 * a->item_size);
    if (!is_signed && u > (uint64_t)INT64_MAX) return -1;
    return (long long)u;
}

/* Reads a label file: (N,) or (N, 1) integers 0..255; *max_label gets the largest. */
static mco_status read_labels(const char *path, mco_npy *y, int *max_label)
{
    mco_status st = mco_npy_read(path, y);
    if (st != MCO_OK) return st;
    if (!is_integer_dtype(y->dtype))
        st = mco_error(MCO_ERR_FORMAT, "%s: labels must be integers (class indices), not floats", path);
    else if (y->ndim < 1 || y->ndim > 2 || (y->ndim == 2 && y->dims[1] != 1))
        st = mco_error(MCO_ERR_SHAPE, "%s: labels must have shape (N,) or (N, 1) (one-hot labels: save "
                       "np.argmax(y, axis=1))", path);
    *max_label = -1;
    for (size_t i = 0; st == MCO_OK && i < y->count; i++) {
        long long v = integer_at(y, i);
        if (v < 0 || v >= MCO_DATA_MAX_CLASSES)
            st = mco_error(MCO_ERR_RANGE, "%s: label %lld of sample %zu is not a class index 0..%d", path, v, i,
                           MCO_DATA_MAX_CLASSES - 1);
        else if (v > *max_label) *max_label = (int)v;
    }
    if (st != MCO_OK) mco_npy_free(y);
    return st;
}

/* The sample shape of an x array's rows. */
static mco_status sample_shape(const mco_npy *x, const char *path, mco_shape *shape)
{
    if (x->ndim < 1)
        return mco_error(MCO_ERR_SHAPE, "%s: a 0-dimensional array (x needs one row per sample)", path);
    switch (x->ndim) {
    case 1: *shape = (mco_shape){1, 1, 1}; break;
    case 2: *shape = (mco_shape){1, 1, (int)x->dims[1]}; break;
    case 3: *shape = (mco_shape){(int)x->dims[1], (int)x->dims[2], 1}; break;
    case 4: *shape = (mco_shape){(int)x->dims[1], (int)x->dims[2], (int)x->dims[3]}; break;
    default:
        return mco_error(MCO_ERR_SHAPE, "%s: %d dimensions (samples are (N,), (N, F), (N, H, W) or (N, H, W, C))",
                         path, x->ndim);
    }
    if (mco_shape_size(*shape) > NPY_MAX_SAMPLE_VALUES)
        return mco_error(MCO_ERR_RANGE, "%s: samples of more than %zu values", path, NPY_MAX_SAMPLE_VALUES);
    if (x->dtype != MCO_NPY_U8 && x->dtype != MCO_NPY_I8 && x->dtype != MCO_NPY_F32)
        return mco_error(MCO_ERR_UNSUPPORTED, "%s: samples must be uint8, int8 or float32, not %s%s", path,
                         x->dtype == MCO_NPY_F64 ? "float64" : "a wider integer type",
                         x->dtype == MCO_NPY_F64 ? " (save x.astype('float32'))" : "");
    return MCO_OK;
}

/* Converts one row of x into sample `to` of out; float32 values must be finite. */
static mco_status convert_row(const mco_npy *x, const uint8_t *row, size_t values, const char *path, size_t index,
                              mco_dataset *out, int to)
{
    if (x->dtype == MCO_NPY_U8) {
        memcpy(out->samples_u8 + (size_t)to * values, row, values);
        return MCO_OK;
    }
    float *dst = out->samples_f32 + (size_t)to * values;
    for (size_t k = 0; k < values; k++) {
        if (x->dtype == MCO_NPY_I8) {
            dst[k] = (float)(int8_t)row[k];
            continue;
        }
        uint32_t bits = (uint32_t)row[4 * k] | (uint32_t)row[4 * k + 1] << 8 | (uint32_t)row[4 * k + 2] << 16 |
                        (uint32_t)row[4 * k + 3] << 24;
        memcpy(&dst[k], &bits, sizeof bits);
        if (!isfinite(dst[k]))
            return mco_error(MCO_ERR_FORMAT, "%s: sample %zu holds a non-finite value (NaN or infinity)", path, index);
    }
    return MCO_OK;
}

/* The split's rows of x (all rows when `all`, else those mco_data_in_test_split
 * puts in `split`), with their labels from y (NULL: unlabelled). */
static mco_status read_split(const char *x_path, const mco_npy *y, const char *y_path, int all, mco_split split,
                             int test_percent, mco_dataset *out)
{
    mco_npy x;
    FILE *f;
    mco_status st = npy_open(x_path, &x, &f);
    if (st != MCO_OK) return st;
    size_t n = x.ndim > 0 ? x.dims[0] : 0;
    if ((st = sample_shape(&x, x_path, &out->shape)) == MCO_OK && y && y->dims[0] != n)
        st = mco_error(MCO_ERR_SHAPE, "%s has %zu samples but %s has %u labels", x_path, n, y_path, y->dims[0]);
    /* Which rows this split keeps: counted first, so exactly their space is allocated. */
    unsigned char *keep = st == MCO_OK ? malloc(n) : NULL;
    size_t kept = 0;
    if (st == MCO_OK && !keep) st = mco_error(MCO_ERR_NOMEM, "%s: out of memory", x_path);
    for (size_t i = 0; st == MCO_OK && i < n; i++) {
        uint32_t key = (uint32_t)i;
        unsigned char index_bytes[4] = {(unsigned char)key, (unsigned char)(key >> 8), (unsigned char)(key >> 16),
                                        (unsigned char)(key >> 24)};
        keep[i] = (unsigned char)(all || mco_data_in_test_split(index_bytes, 4, test_percent) == (split == MCO_SPLIT_TEST));
        kept += keep[i];
    }
    size_t values = mco_shape_size(out->shape), row_bytes = values * x.item_size;
    uint8_t *row = st == MCO_OK ? malloc(row_bytes) : NULL;
    if (st == MCO_OK) {
        out->n = (int)kept;
        out->sample_type = x.dtype == MCO_NPY_U8 ? MCO_SAMPLE_U8 : MCO_SAMPLE_F32;
        if (out->sample_type == MCO_SAMPLE_U8) out->samples_u8 = malloc(kept * values + 1);
        else out->samples_f32 = malloc((kept * values + 1) * sizeof(float));
        out->label_kind = y ? MCO_LABELS_CLASS : MCO_LABELS_NONE;
        if (y) out->labels = malloc(kept + 1);
        if (!row || (!out->samples_u8 && !out->samples_f32) || (y && !out->labels))
            st = mco_error(MCO_ERR_NOMEM, "%s: cannot allocate %zu samples", x_path, kept);
    }
    int to = 0;
    for (size_t i = 0; st == MCO_OK && i < n; i++) {
        if ((st = read_exact(f, x_path, row, row_bytes)) != MCO_OK) break;
        if (!keep[i]) continue;
        if ((st = convert_row(&x, row, values, x_path, i, out, to)) != MCO_OK) break;
        if (y) out->labels[to] = (uint8_t)integer_at(y, i);
        to++;
    }
    free(row);
    free(keep);
    fclose(f);
    return st;
}

/* dir/name, or MCO_ERR_RANGE for a name too long. */
static mco_status join(char *buf, size_t size, const char *dir, const char *name)
{
    if ((size_t)snprintf(buf, size, "%s/%s", dir, name) >= size)
        return mco_error(MCO_ERR_RANGE, "%s: path too long", dir);
    return MCO_OK;
}

static int file_exists(const char *path)
{
    return access(path, F_OK) == 0;
}

mco_status mco_dataset_load_npy(const char *dir, mco_split split, const mco_data_options *opt, mco_dataset *out)
{
    memset(out, 0, sizeof *out);
    char x_path[4096], y_path[4096], other_y[4096];
    const char *suffix = split == MCO_SPLIT_TRAIN ? "train" : "test";
    char name[32];
    mco_status st = join(x_path, sizeof x_path, dir, "x.npy");
    int paired = st == MCO_OK && file_exists(x_path);
    char train_x[4096], test_x[4096];
    if (st == MCO_OK) st = join(train_x, sizeof train_x, dir, "x_train.npy");
    if (st == MCO_OK) st = join(test_x, sizeof test_x, dir, "x_test.npy");
    if (st != MCO_OK) return st;
    int split_files = file_exists(train_x) || file_exists(test_x);
    if (paired && split_files)
        return mco_error(MCO_ERR_FORMAT, "%s: both x.npy and x_train.npy / x_test.npy: keep one layout", dir);
    if (!paired && !split_files)
        return mco_error(MCO_ERR_NOT_FOUND, "%s: no x.npy, x_train.npy or x_test.npy", dir);
    if (paired) {
        st = join(y_path, sizeof y_path, dir, "y.npy");
        other_y[0] = '\0';
    } else {
        snprintf(name, sizeof name, "x_%s.npy", suffix);
        st = join(x_path, sizeof x_path, dir, name);
        snprintf(name, sizeof name, "y_%s.npy", suffix);
        if (st == MCO_OK) st = join(y_path, sizeof y_path, dir, name);
        snprintf(name, sizeof name, "y_%s.npy", split == MCO_SPLIT_TRAIN ? "test" : "train");
        if (st == MCO_OK) st = join(other_y, sizeof other_y, dir, name);
        if (st == MCO_OK && !file_exists(x_path))
            st = mco_error(MCO_ERR_NOT_FOUND, "%s: no x_%s.npy (the %s split)", dir, suffix, suffix);
    }
    if (st != MCO_OK) return st;

    /* The labels of this split, and the class count over every label file. */
    mco_npy y = {0};
    int labelled = file_exists(y_path), max_label = -1;
    if (labelled && (st = read_labels(y_path, &y, &max_label)) != MCO_OK) return st;
    if (other_y[0] && file_exists(other_y)) {
        mco_npy other;
        int other_max;
        if ((st = read_labels(other_y, &other, &other_max)) != MCO_OK) {
            mco_npy_free(&y);
            return st;
        }
        mco_npy_free(&other);
        if (other_max > max_label) max_label = other_max;
    }
    st = read_split(x_path, labelled ? &y : NULL, y_path, !paired, split, opt ? opt->test_percent : 0, out);
    mco_npy_free(&y);
    if (st == MCO_OK && labelled && max_label < 1)
        st = mco_error(MCO_ERR_FORMAT, "%s: every label is 0: classification needs at least two classes", y_path);
    if (st == MCO_OK && labelled) out->n_classes = max_label + 1;
    if (st != MCO_OK) mco_dataset_free(out);
    return st;
}
