/*
 * mco_sparse_pack.c - builds the bitmap + values form of sparse int8
 * weights (see mco_sparse.h) from a dense matrix. It runs on the host (the
 * planner packs the weights, the tests pack random ones); it lives in the
 * runtime next to the kernels so the format has one definition. An MCU
 * build never calls it and the linker drops it.
 *
 * What it leaves out: unpacking (the tests compare kernel outputs instead).
 */
#include <string.h>

#include "mco_sparse.h"

size_t mco_sparse_s8_bytes(int32_t rows, int32_t cols, size_t nonzeros)
{
    if (rows <= 0 || cols <= 0) return 0;
    return (size_t)rows * (size_t)((cols + 7) / 8) + nonzeros;
}

/* Appends row r's non-zeros of columns [c0, c1) to out at *n (counting only when out is NULL). */
static void put_values(const int8_t *row, int32_t c0, int32_t c1, uint8_t *values, size_t *n)
{
    int32_t c;
    for (c = c0; c < c1; c++) {
        if (row[c] == 0) continue;
        if (values) values[*n] = (uint8_t)row[c];
        (*n)++;
    }
}

int32_t mco_sparse_s8_pack(const int8_t *dense, int32_t rows, int32_t cols, mco_sparse_order order,
                           uint8_t *out, int32_t capacity)
{
    size_t row_bytes, bitmap_bytes, n = 0, total;
    uint8_t *values = 0;
    int32_t r, c;
    if (!dense || rows <= 0 || cols <= 0 || (order != MCO_SPARSE_ROWS && order != MCO_SPARSE_ROW_PAIRS))
        return -1;
    row_bytes = (size_t)((cols + 7) / 8);
    bitmap_bytes = (size_t)rows * row_bytes;
    for (r = 0; r < rows; r++) put_values(dense + (size_t)r * (size_t)cols, 0, cols, 0, &n);
    total = bitmap_bytes + n;
    if (total > 0x7FFFFFFFu) return -1;
    if (!out) return (int32_t)total;
    if (capacity < 0 || (size_t)capacity < total) return -1;

    memset(out, 0, bitmap_bytes);
    for (r = 0; r < rows; r++)
        for (c = 0; c < cols; c++)
            if (dense[(size_t)r * (size_t)cols + (size_t)c] != 0)
                out[(size_t)r * row_bytes + (size_t)(c / 8)] |= (uint8_t)(1u << (c % 8));
    values = out + bitmap_bytes;
    n = 0;
    if (order == MCO_SPARSE_ROWS) {
        for (r = 0; r < rows; r++) put_values(dense + (size_t)r * (size_t)cols, 0, cols, values, &n);
        return (int32_t)total;
    }
    for (r = 0; r < rows; r += 2) {
        const int8_t *first = dense + (size_t)r * (size_t)cols;
        int two = r + 1 < rows;
        for (c = 0; c < cols; c += 4) {
            int32_t end = c + 4 < cols ? c + 4 : cols;
            put_values(first, c, end, values, &n);
            if (two) put_values(first + cols, c, end, values, &n);
        }
    }
    return (int32_t)total;
}
