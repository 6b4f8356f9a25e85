/*
 * csv.c - a data set from one CSV file (see data.h): a sample per row,
 * numeric feature columns as float32 samples, and a label column of class
 * indices or class names (or none, for an unlabelled set).
 *
 * Parsing is libcsv's (Debian libcsv-dev; RFC 4180 quoting, strict mode).
 * The file is read in 64 KiB blocks and handed to libcsv one physical line
 * at a time, so every error names file:line (for a row with a quoted line
 * break inside, its last line). Callbacks cannot stop libcsv, so the first
 * error is recorded, later events are ignored and reading stops at the end
 * of that line. A field longer than 1 MiB is refused through libcsv's
 * realloc hook, so a file without separators cannot make it grow a huge
 * buffer; rows of the other split are parsed and checked but not stored.
 *
 * The header row: given a label column by name (or the default "label"),
 * the first row must be a header holding it; given an index or "none", the
 * first row is a header when one of its fields (outside the label column)
 * is not a number. A UTF-8 byte order mark (Excel) is skipped.
 *
 * What it leaves out: other separators than ',' (semicolon-separated
 * exports), missing values (an empty field is an error), per-column
 * normalisation (the model's normalisation is one scale for all columns),
 * and a second file for the test split (the split is a hash of the row
 * index).
 */
#include "mcuopt/data.h"

#include <csv.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mcuopt/file_util.h"

#define CSV_MAX_FIELD ((size_t)1 << 20)
#define CSV_MAX_ROWS 100000000L
#define CSV_MAX_VALUES ((size_t)1 << 30)   /* floats kept: 4 GiB */
#define CSV_BLOCK 65536

typedef struct {
    const char *path;
    long line;                 /* the physical line being parsed (1-based) */
    mco_status status;         /* the first error; later events are ignored */

    /* what the caller asked for */
    const char *label_name;    /* by name (NULL: by index or none) */
    int label_index;           /* by index; -1: none */
    int default_label;         /* no label column given: "label" */
    mco_split split;
    int test_percent;

    /* the first row, kept until it is known to be a header or data */
    int first_done;
    char **first;              /* [first_count] */
    int first_count;
    int header;                /* 1: the first row was a header */

    /* the current row */
    int field;                 /* fields seen in the current row */
    int n_cols;                /* columns of every row (from the first) */
    int label_col;             /* -1: none */
    float *row;                /* [n_cols] values of the current row (the label's slot unused) */
    int row_label;             /* label id of the current row */

    /* what is kept */
    long data_rows;            /* data rows seen (the split key) */
    size_t kept, capacity;     /* rows kept, and room for */
    float *values;             /* [kept][n_features] */
    uint8_t *label_ids;        /* [kept] */
    char labels[MCO_DATA_MAX_CLASSES][MCO_CLASS_NAME_MAX];   /* distinct label texts */
    int n_labels;
} csv_reader;

static void *capped_realloc(void *p, size_t n)
{
    return n > CSV_MAX_FIELD ? NULL : realloc(p, n);
}

/* Records the first error, as "path:line: ...". */
static void fail(csv_reader *r, mco_status code, const char *fmt, const char *a, const char *b)
{
    if (r->status != MCO_OK) return;
    char what[512];
    snprintf(what, sizeof what, fmt, a ? a : "", b ? b : "");
    r->status = mco_error(code, "%s:%ld: %s", r->path, r->line, what);
}

/* A whole field as a finite float. */
static int parse_number(const char *s, float *out)
{
    if (!*s) return 0;
    char *end;
    errno = 0;
    float v = strtof(s, &end);
    if (end == s || *end != '\0' || !isfinite(v)) return 0;
    *out = v;
    return 1;
}

/* "column 'name' (3)" or "column 3" for error messages. */
static const char *column_name(const csv_reader *r, int col, char *buf, size_t size)
{
    if (r->header && col < r->first_count) snprintf(buf, size, "column '%.80s' (%d)", r->first[col], col);
    else snprintf(buf, size, "column %d", col);
    return buf;
}

/* The id of a label text in the table of distinct labels (added if new). */
static int label_id(csv_reader *r, const char *text)
{
    for (int i = 0; i < r->n_labels; i++)
        if (strcmp(r->labels[i], text) == 0) return i;
    if (strlen(text) >= MCO_CLASS_NAME_MAX) {
        fail(r, MCO_ERR_FORMAT, "a label longer than 255 bytes ('%.40s...')", text, NULL);
        return -1;
    }
    if (r->n_labels == MCO_DATA_MAX_CLASSES) {
        fail(r, MCO_ERR_RANGE, "more than 256 distinct labels ('%.80s' is one more)", text, NULL);
        return -1;
    }
    snprintf(r->labels[r->n_labels], MCO_CLASS_NAME_MAX, "%s", text);
    return r->n_labels++;
}

/* One field of a data row. */
static void data_field(csv_reader *r, const char *text)
{
    char col[128];
    if (r->field >= r->n_cols) {
        if (r->field == r->n_cols) {
            char n[32];
            snprintf(n, sizeof n, "%d", r->n_cols);
            fail(r, MCO_ERR_FORMAT, "more fields than the %s columns of the first row", n, NULL);
        }
        return;
    }
    if (r->field == r->label_col) {
        r->row_label = label_id(r, text);
    } else if (!*text) {
        fail(r, MCO_ERR_FORMAT, "%s is empty", column_name(r, r->field, col, sizeof col), NULL);
    } else if (!parse_number(text, &r->row[r->field])) {
        fail(r, MCO_ERR_FORMAT, "%s: '%.60s' is not a finite number", column_name(r, r->field, col, sizeof col),
             text);
    }
    r->field++;
}

/* The end of a data row: checked, and kept if it is in the split. */
static void data_row_end(csv_reader *r)
{
    if (r->status != MCO_OK) return;
    if (r->field < r->n_cols) {
        char col[128], n[32];
        snprintf(n, sizeof n, "%d", r->field);
        fail(r, MCO_ERR_FORMAT, "only %s fields: %s is missing", n, column_name(r, r->field, col, sizeof col));
        return;
    }
    if (r->data_rows == CSV_MAX_ROWS) {
        fail(r, MCO_ERR_RANGE, "more than 100,000,000 rows", NULL, NULL);
        return;
    }
    uint32_t index = (uint32_t)r->data_rows++;
    unsigned char key[4] = {(unsigned char)index, (unsigned char)(index >> 8), (unsigned char)(index >> 16),
                            (unsigned char)(index >> 24)};
    if (mco_data_in_test_split(key, 4, r->test_percent) != (r->split == MCO_SPLIT_TEST)) return;
    size_t features = (size_t)r->n_cols - (r->label_col >= 0);
    if (r->kept == r->capacity) {
        size_t grown = r->capacity ? 2 * r->capacity : 1024;
        if (grown * features > CSV_MAX_VALUES) grown = CSV_MAX_VALUES / features;
        if (grown <= r->kept) {
            fail(r, MCO_ERR_RANGE, "more values than mcuopt keeps in memory (2^30)", NULL, NULL);
            return;
        }
        float *values = realloc(r->values, grown * features * sizeof *values);
        if (values) r->values = values;
        uint8_t *ids = realloc(r->label_ids, grown);
        if (ids) r->label_ids = ids;
        if (!values || !ids) {
            r->status = mco_error(MCO_ERR_NOMEM, "%s: out of memory after %zu rows", r->path, r->kept);
            return;
        }
        r->capacity = grown;
    }
    float *dst = r->values + r->kept * features;
    for (int c = 0; c < r->n_cols; c++)
        if (c != r->label_col) *dst++ = r->row[c];
    r->label_ids[r->kept++] = (uint8_t)(r->label_col >= 0 ? r->row_label : 0);
}

/* Decides the header and the label column from the first row. */
static void first_row_end(csv_reader *r)
{
    r->n_cols = r->first_count;
    r->label_col = -1;
    if (r->label_name) {
        for (int c = 0; c < r->first_count && r->label_col < 0; c++)
            if (strcmp(r->first[c], r->label_name) == 0) r->label_col = c;
        if (r->label_col < 0) {
            float v;
            int numbers = 1;
            for (int c = 0; c < r->first_count; c++) numbers &= parse_number(r->first[c], &v);
            if (r->default_label && numbers)
                fail(r, MCO_ERR_FORMAT, "no header row: name the label column's 0-based index with "
                     "--label-column N (or none)", NULL, NULL);
            else
                fail(r, MCO_ERR_FORMAT, "no column named '%.80s' in the header row%s", r->label_name,
                     r->default_label ? " (give --label-column NAME, a 0-based INDEX, or none)" : "");
            return;
        }
        r->header = 1;
    } else {
        if (r->label_index >= r->first_count) {
            char n[32], cols[32];
            snprintf(n, sizeof n, "%d", r->label_index);
            snprintf(cols, sizeof cols, "%d", r->first_count);
            fail(r, MCO_ERR_FORMAT, "label column %s is not among the %s columns", n, cols);
            return;
        }
        r->label_col = r->label_index;
        float v;
        for (int c = 0; c < r->first_count; c++)
            if (c != r->label_col && !parse_number(r->first[c], &v)) r->header = 1;
    }
    if (r->n_cols - (r->label_col >= 0) < 1) {
        fail(r, MCO_ERR_FORMAT, "no feature column besides the label", NULL, NULL);
        return;
    }
    if (r->n_cols - (r->label_col >= 0) > MCO_MAX_DIM) {
        fail(r, MCO_ERR_RANGE, "more than 65536 feature columns", NULL, NULL);
        return;
    }
    r->row = calloc((size_t)r->n_cols, sizeof *r->row);
    if (!r->row) {
        r->status = mco_error(MCO_ERR_NOMEM, "%s: out of memory", r->path);
        return;
    }
    if (!r->header) {   /* the first row is data */
        r->field = 0;
        for (int c = 0; c < r->first_count; c++) data_field(r, r->first[c]);
        data_row_end(r);
    }
}

static void on_field(void *s, size_t len, void *user)
{
    csv_reader *r = user;
    const char *text = s ? s : "";
    (void)len;
    if (r->status != MCO_OK) return;
    if (r->first_done) {
        data_field(r, text);
        return;
    }
    if (r->first_count > MCO_MAX_DIM) {
        fail(r, MCO_ERR_RANGE, "more than 65536 columns", NULL, NULL);
        return;
    }
    char **grown = realloc(r->first, ((size_t)r->first_count + 1) * sizeof *grown);
    char *copy = strdup(text);
    if (grown) r->first = grown;
    if (!grown || !copy) {
        free(copy);
        r->status = mco_error(MCO_ERR_NOMEM, "%s: out of memory", r->path);
        return;
    }
    r->first[r->first_count++] = copy;
}

static void on_row(int terminator, void *user)
{
    csv_reader *r = user;
    (void)terminator;
    if (r->status != MCO_OK) return;
    if (!r->first_done) {
        r->first_done = 1;
        first_row_end(r);
    } else {
        data_row_end(r);
    }
    r->field = 0;
}

/* Feeds a block to libcsv line by line, counting lines. */
static void feed(csv_reader *r, struct csv_parser *p, const char *block, size_t size)
{
    while (size > 0 && r->status == MCO_OK) {
        const char *nl = memchr(block, '\n', size);
        size_t n = nl ? (size_t)(nl - block) + 1 : size;
        if (csv_parse(p, block, n, on_field, on_row, r) != n && r->status == MCO_OK) {
            int e = csv_error(p);
            if (e == CSV_ENOMEM) r->status = mco_error(MCO_ERR_RANGE, "%s:%ld: a field longer than 1 MiB", r->path, r->line);
            else r->status = mco_error(MCO_ERR_FORMAT, "%s:%ld: %s", r->path, r->line, csv_strerror(e));
        }
        if (nl) r->line++;
        block += n;
        size -= n;
    }
}

static mco_status parse_file(csv_reader *r)
{
    int fd;
    mco_status st = mco_open_regular(r->path, &fd, NULL);
    if (st != MCO_OK) return st;
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        close(fd);
        return mco_error(MCO_ERR_IO, "%s: %s", r->path, strerror(errno));
    }
    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
        fclose(f);
        return mco_error(MCO_ERR_NOMEM, "%s: cannot set up the CSV parser", r->path);
    }
    csv_set_realloc_func(&p, capped_realloc);
    char *block = malloc(CSV_BLOCK);
    if (!block) r->status = mco_error(MCO_ERR_NOMEM, "%s: out of memory", r->path);
    int first_block = 1;
    while (r->status == MCO_OK) {
        size_t got = fread(block, 1, CSV_BLOCK, f);
        if (got == 0) {
            if (ferror(f)) r->status = mco_error(MCO_ERR_IO, "%s: read failed: %s", r->path, strerror(errno));
            break;
        }
        size_t skip = first_block && got >= 3 && memcmp(block, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
        first_block = 0;
        feed(r, &p, block + skip, got - skip);
    }
    if (r->status == MCO_OK && csv_fini(&p, on_field, on_row, r) != 0 && r->status == MCO_OK)
        r->status = mco_error(MCO_ERR_FORMAT, "%s:%ld: %s", r->path, r->line, csv_strerror(csv_error(&p)));
    csv_free(&p);
    free(block);
    fclose(f);
    return r->status;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* Class indices of the distinct labels: the numbers themselves when all are
 * integers 0..255, else their rank in sorted order (names kept). */
static mco_status assign_classes(csv_reader *r, mco_dataset *out, int class_of[MCO_DATA_MAX_CLASSES])
{
    int numeric = 1, max = -1;
    for (int i = 0; i < r->n_labels && numeric; i++) {
        char *end;
        errno = 0;
        long v = strtol(r->labels[i], &end, 10);
        numeric = end != r->labels[i] && *end == '\0' && !errno && v >= 0 && v < MCO_DATA_MAX_CLASSES;
        if (numeric) {
            class_of[i] = (int)v;
            if (v > max) max = (int)v;
        }
    }
    if (numeric) {
        if (max < 1)
            return mco_error(MCO_ERR_FORMAT, "%s: every label is %s: classification needs at least two classes",
                             r->path, r->n_labels ? r->labels[0] : "absent");
        out->n_classes = max + 1;
        return MCO_OK;
    }
    if (r->n_labels < 2)
        return mco_error(MCO_ERR_FORMAT, "%s: only one label ('%.80s'): classification needs at least two classes",
                         r->path, r->labels[0]);
    out->class_names = malloc((size_t)r->n_labels * sizeof *out->class_names);
    if (!out->class_names) return mco_error(MCO_ERR_NOMEM, "%s: out of memory", r->path);
    memcpy(out->class_names, r->labels, (size_t)r->n_labels * sizeof *out->class_names);
    qsort(out->class_names, (size_t)r->n_labels, sizeof *out->class_names, compare_names);
    for (int i = 0; i < r->n_labels; i++)
        for (int c = 0; c < r->n_labels; c++)
            if (strcmp(r->labels[i], out->class_names[c]) == 0) class_of[i] = c;
    out->n_classes = r->n_labels;
    return MCO_OK;
}

mco_status mco_dataset_load_csv(const char *path, mco_split split, const mco_data_options *opt, mco_dataset *out)
{
    memset(out, 0, sizeof *out);
    csv_reader *r = calloc(1, sizeof *r);
    if (!r) return mco_error(MCO_ERR_NOMEM, "%s: out of memory", path);
    r->path = path;
    r->line = 1;
    r->split = split;
    r->test_percent = opt ? opt->test_percent : 0;
    const char *label = opt ? opt->label_column : NULL;
    r->label_index = -1;
    if (!label) {
        r->label_name = "label";
        r->default_label = 1;
    } else if (strcmp(label, "none") != 0) {
        char *end;
        long v = strtol(label, &end, 10);
        if (*label && *end == '\0' && v >= 0 && v <= MCO_MAX_DIM) r->label_index = (int)v;
        else r->label_name = label;
    }

    mco_status st = parse_file(r);
    if (st == MCO_OK && !r->first_done) st = mco_error(MCO_ERR_FORMAT, "%s: empty file", path);
    if (st == MCO_OK && r->data_rows == 0) st = mco_error(MCO_ERR_FORMAT, "%s: a header row and no data rows", path);
    int class_of[MCO_DATA_MAX_CLASSES] = {0};
    if (st == MCO_OK && r->label_col >= 0) st = assign_classes(r, out, class_of);
    if (st == MCO_OK) {
        size_t features = (size_t)r->n_cols - (r->label_col >= 0);
        mco_shape want = opt ? opt->shape : (mco_shape){0, 0, 0};
        out->shape = want.h > 0 && mco_shape_size(want) == features ? want : (mco_shape){1, 1, (int)features};
        out->n = (int)r->kept;
        out->sample_type = MCO_SAMPLE_F32;
        out->samples_f32 = r->values ? r->values : malloc(sizeof(float));
        r->values = NULL;
        out->label_kind = r->label_col >= 0 ? MCO_LABELS_CLASS : MCO_LABELS_NONE;
        if (r->label_col >= 0) {
            out->labels = r->label_ids ? r->label_ids : malloc(1);
            r->label_ids = NULL;
            for (size_t i = 0; out->labels && i < r->kept; i++) out->labels[i] = (uint8_t)class_of[out->labels[i]];
        }
        if (!out->samples_f32 || (r->label_col >= 0 && !out->labels)) st = mco_error(MCO_ERR_NOMEM, "%s: out of memory", path);
    }
    for (int c = 0; c < r->first_count; c++) free(r->first[c]);
    free(r->first);
    free(r->row);
    free(r->values);
    free(r->label_ids);
    free(r);
    if (st != MCO_OK) mco_dataset_free(out);
    return st;
}
