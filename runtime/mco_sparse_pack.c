/*
 * mco_sparse_pack.c - builds the two sparse int8 weight forms of
 * mco_sparse.h from a dense matrix (bitmap + values for the Conv2D kernel,
 * the group stream for the Dense kernel), and profiles a packed group
 * stream (what the Dense kernel will do with it, in instructions). It runs
 * on the host (the planner packs the weights and compares costs, the tests
 * pack random ones); it lives in the runtime next to the kernels so the
 * format has one definition. An MCU build never calls it and the linker
 * drops it.
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

/* ---- MCO_SPARSE_ROWS: bitmap + values --------------------------------------- */

static size_t pack_rows(const int8_t *dense, int32_t rows, int32_t cols, uint8_t *out)
{
    size_t row_bytes = (size_t)((cols + 7) / 8), bitmap_bytes = (size_t)rows * row_bytes, n = 0, i;
    size_t count = (size_t)rows * (size_t)cols;
    for (i = 0; i < count; i++) {
        if (dense[i] == 0) continue;
        if (out) {
            size_t r = i / (size_t)cols, c = i % (size_t)cols;
            out[r * row_bytes + c / 8] |= (uint8_t)(1u << (c % 8));
            out[bitmap_bytes + n] = (uint8_t)dense[i];
        }
        n++;
    }
    return bitmap_bytes + n;
}

/* ---- MCO_SPARSE_ROW_PAIRS: the group stream --------------------------------- */

/* The non-zero pattern of columns 4g .. 4g + 3 of `row` (NULL: an absent row). */
static uint32_t group_bits(const int8_t *row, int32_t cols, int32_t g)
{
    uint32_t bits = 0;
    int32_t c;
    if (!row) return 0;
    for (c = 0; c < 4 && 4 * g + c < cols; c++)
        if (row[4 * g + c] != 0) bits |= 1u << c;
    return bits;
}

/* Byte writer that only counts when out is NULL. */
typedef struct {
    uint8_t *out;
    size_t n;
} byte_sink;

static void put(byte_sink *s, uint32_t byte)
{
    if (s->out) s->out[s->n] = (uint8_t)byte;
    s->n++;
}

/* Group g's weights of `row` (pattern bits) in the kernel's order. */
static void put_group_weights(byte_sink *s, const int8_t *row, int32_t g, uint32_t bits)
{
    int32_t i, k = 0;
    uint32_t v;
    for (v = bits; v; v &= v - 1u) k++;
    for (i = 0; i < k; i++) put(s, (uint32_t)(uint8_t)row[4 * g + mco_sparse_group_column(bits, i)]);
}

static size_t pack_row_pairs(const int8_t *dense, int32_t rows, int32_t cols, uint8_t *out)
{
    byte_sink s;
    int32_t groups = (cols + 3) / 4, r, g;
    s.out = out;
    s.n = 0;
    for (r = 0; r < rows; r += 2) {
        const int8_t *a = dense + (size_t)r * (size_t)cols, *b = r + 1 < rows ? a + cols : NULL;
        int32_t last = groups;   /* groups from `last` on are empty in both rows */
        while (last > 0 && (group_bits(a, cols, last - 1) | group_bits(b, cols, last - 1)) == 0) last--;
        for (g = 0; g < last;) {
            uint32_t pa = group_bits(a, cols, g), pb = group_bits(b, cols, g);
            if ((pa | pb) == 0) {
                int32_t n = 1;
                while (n < 255 && (group_bits(a, cols, g + n) | group_bits(b, cols, g + n)) == 0) n++;
                put(&s, 0);
                put(&s, (uint32_t)n);
                g += n;
                continue;
            }
            put(&s, pa | pb << 4);
            put_group_weights(&s, a, g, pa);
            if (b) put_group_weights(&s, b, g, pb);
            g++;
        }
        put(&s, 0);
        put(&s, 0);
    }
    return s.n;
}

int32_t mco_sparse_s8_pack(const int8_t *dense, int32_t rows, int32_t cols, mco_sparse_order order,
                           uint8_t *out, int32_t capacity)
{
    size_t total;
    if (!dense || rows <= 0 || cols <= 0 || (size_t)rows * (size_t)cols > 0x3FFFFFFFu ||
        (order != MCO_SPARSE_ROWS && order != MCO_SPARSE_ROW_PAIRS))
        return -1;
    total = order == MCO_SPARSE_ROWS ? pack_rows(dense, rows, cols, NULL) : pack_row_pairs(dense, rows, cols, NULL);
    if (total > 0x7FFFFFFFu) return -1;
    if (!out) return (int32_t)total;
    if (capacity < 0 || (size_t)capacity < total) return -1;
    memset(out, 0, total);
    if (order == MCO_SPARSE_ROWS) pack_rows(dense, rows, cols, out);
    else pack_row_pairs(dense, rows, cols, out);
    return (int32_t)total;
}

/* ---- profile ---------------------------------------------------------------- */

/* Instructions of the Cortex-M4 Dense kernel (mco_fully_connected_sparse_s8.c):
 * the assembly, per nibble pattern (0 / 1 / 2 / 3 / 4 non-zeros: 0 / 2 / 4
 * / 5 / 5), per group (pattern load, input load, the shift of the pattern
 * to row b's nibble, two table jumps), per skip
 * (escape: load n, test, two adds, then the group code) and per row pair
 * (entry, end marker); the C around it as fitted to QEMU counts: the
 * widening per 4 inputs, the per row pair call and the two requantized
 * outputs, the fixed call cost. */
#define GROUP_INSNS 5
#define SKIP_INSNS 7
#define PAIR_ASM_INSNS 12
#define PAIR_C_INSNS 90
#define WIDEN_INSNS_PER_GROUP 5
#define CALL_INSNS 55

static int32_t nibble_insns(uint32_t bits)
{
    static const uint8_t insns[16] = {0, 2, 2, 4, 2, 4, 4, 5, 2, 4, 4, 5, 4, 5, 5, 5};
    return insns[bits & 15u];
}

static int32_t popcount4(uint32_t bits)
{
    return (int32_t)(bits & 1u) + (int32_t)((bits >> 1) & 1u) + (int32_t)((bits >> 2) & 1u) + (int32_t)((bits >> 3) & 1u);
}

int mco_sparse_fc_s8_profile(const uint8_t *packed, size_t bytes, int32_t rows, int32_t cols,
                             mco_sparse_fc_profile *out)
{
    mco_sparse_fc_profile pr;
    int32_t groups = (cols + 3) / 4, r;
    size_t i = 0;
    if (!packed || !out || rows <= 0 || cols <= 0) return -1;
    memset(&pr, 0, sizeof pr);
    pr.instructions = CALL_INSNS + (int64_t)WIDEN_INSNS_PER_GROUP * groups;
    for (r = 0; r < rows; r += 2) {
        int32_t g = 0;
        pr.row_pairs++;
        pr.instructions += PAIR_ASM_INSNS + PAIR_C_INSNS;
        for (;;) {
            uint32_t p, pa, pb;
            if (i >= bytes) return -1;
            p = packed[i++];
            if (p == 0) {
                uint32_t n;
                if (i >= bytes) return -1;
                n = packed[i++];
                if (n == 0) break;
                pr.skips++;
                pr.instructions += SKIP_INSNS;
                g += (int32_t)n;
            } else {
                pa = p & 15u;
                pb = p >> 4;
                if (r + 1 >= rows && pb != 0) return -1;
                pr.groups++;
                pr.nonzeros += popcount4(pa) + popcount4(pb);
                pr.instructions += GROUP_INSNS + nibble_insns(pa) + nibble_insns(pb);
                i += (size_t)(popcount4(pa) + popcount4(pb));
                g++;
            }
            if (g > groups || i > bytes) return -1;
        }
    }
    if (i != bytes) return -1;
    *out = pr;
    return 0;
}
