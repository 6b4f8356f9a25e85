/*
 * memory_plan.c - the arena planner (mco_memory_plan): tensors with known
 * lifetimes get offsets in one arena so that tensors alive at the same time
 * never overlap and the arena is as small as a simple greedy rule makes it.
 *
 * The rule (TFLite's "greedy by size"): take the tensors largest first (ties:
 * lower index first); put each at the lowest 4-byte aligned offset that
 * overlaps none of the already placed tensors whose lifetimes overlap its
 * own. Lifetimes are inclusive op ranges [first, last]; two tensors conflict
 * when first_a <= last_b and first_b <= last_a. O(n^2 log n), n = tensors.
 * Reentrant: no global state, so threads may plan models at once.
 *
 * What it leaves out: optimal placement (NP-hard in general) and reordering
 * ops to lower the peak.
 */
#include <stdlib.h>
#include <string.h>

#include "mcuopt/codegen.h"

typedef struct {
    uint32_t start, end;   /* [start, end) */
} span;

static uint32_t align4(uint32_t x) { return (x + 3u) & ~3u; }

/* A tensor in placement order: its size travels with its index, so the
 * comparison needs no pointer to the sizes array (qsort has no context
 * argument, and a global one would make two plans at once race). */
typedef struct {
    uint32_t size;
    int index;
} sized;

/* Largest first; ties: lower index first (a total order, so the result does
 * not depend on qsort's algorithm). */
static int by_size_desc(const void *pa, const void *pb)
{
    const sized *a = pa, *b = pb;
    if (a->size != b->size) return a->size > b->size ? -1 : 1;
    return a->index < b->index ? -1 : (a->index > b->index);
}

static int by_start(const void *pa, const void *pb)
{
    const span *a = pa, *b = pb;
    return a->start < b->start ? -1 : (a->start > b->start);
}

mco_status mco_memory_plan(int n, const uint32_t *sizes, const int *first, const int *last,
                           uint32_t *offsets, uint32_t *arena_size)
{
    if (n < 0 || (n > 0 && (!sizes || !first || !last || !offsets)) || !arena_size)
        return mco_error(MCO_ERR_ARG, "memory plan: bad arguments");
    *arena_size = 0;
    if (n == 0) return MCO_OK;
    sized *order = malloc((size_t)n * sizeof *order);
    char *placed = calloc((size_t)n, 1);
    span *busy = malloc((size_t)n * sizeof *busy);
    if (!order || !placed || !busy) {
        free(order);
        free(placed);
        free(busy);
        return mco_error(MCO_ERR_NOMEM, "memory plan: out of memory");
    }
    for (int i = 0; i < n; i++) order[i] = (sized){sizes[i], i};
    qsort(order, (size_t)n, sizeof *order, by_size_desc);
    uint64_t total = 0;
    for (int k = 0; k < n; k++) {
        int t = order[k].index;
        int n_busy = 0;
        for (int j = 0; j < n; j++)
            if (placed[j] && first[t] <= last[j] && first[j] <= last[t])
                busy[n_busy++] = (span){offsets[j], offsets[j] + align4(sizes[j])};
        qsort(busy, (size_t)n_busy, sizeof *busy, by_start);
        /* First fit: walk the conflicting spans in address order. */
        uint32_t offset = 0, need = align4(sizes[t]);
        for (int j = 0; j < n_busy; j++) {
            if (busy[j].start >= offset + need) break;   /* the gap before this span fits */
            if (busy[j].end > offset) offset = busy[j].end;
        }
        offsets[t] = offset;
        placed[t] = 1;
        if ((uint64_t)offset + need > total) total = (uint64_t)offset + need;
    }
    free(order);
    free(placed);
    free(busy);
    if (total > 0xFFFFFFF0u) return mco_error(MCO_ERR_RANGE, "memory plan: the arena exceeds 4 GB");
    *arena_size = (uint32_t)total;
    return MCO_OK;
}
