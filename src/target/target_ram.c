/*
 * target_ram.c - placing a model's RAM on the RAM regions of a target
 * profile (mco_target_place_ram, see mcuopt/target.h): the static RAM (the
 * arena and the runtime's .data/.bss, which a linker keeps together) goes to
 * the first region in preference order that holds it, the stack to the first
 * region with room left after that. Every RAM fit check (estimate, measure,
 * the deploy measurement, the search) asks this one function.
 *
 * Left out: splitting the arena across regions (the emitted code has one
 * arena array) and the application's own RAM (not counted anywhere).
 */
#include "mcuopt/target.h"

#include <stdio.h>
#include <string.h>

/* The profile's regions; a profile that was not loaded (no regions) is one
 * region "RAM" of ram_kb. */
static int regions_of(const mco_target_profile *t, const mco_ram_region **regions, mco_ram_region *single)
{
    if (t->n_ram_regions > 0) {
        *regions = t->ram_regions;
        return t->n_ram_regions;
    }
    memset(single, 0, sizeof *single);
    snprintf(single->name, sizeof single->name, "RAM");
    single->kb = t->ram_kb;
    *regions = single;
    return 1;
}

/* `v` with thousands separators: 140000 -> "140,000". */
static const char *grouped(size_t v, char *buf, size_t size)
{
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%zu", v), o = 0;
    for (int i = 0; i < n && (size_t)o + 2 < size; i++) {
        if (i > 0 && (n - i) % 3 == 0) buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
    return buf;
}

/* "SRAM 128 KB, CCM 64 KB (192 KB in all)"; with `used`, each region also
 * says how many bytes are left. */
static void list_regions(const mco_ram_region *r, int n, const size_t *used, char *buf, size_t size)
{
    size_t o = 0;
    int total = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && o < size; i++) {
        total += r[i].kb;
        char left[48] = "";
        if (used) {
            size_t cap = (size_t)r[i].kb * 1024;
            char g[32];
            snprintf(left, sizeof left, " (%s B left)", grouped(cap > used[i] ? cap - used[i] : 0, g, sizeof g));
        }
        o += (size_t)snprintf(buf + o, size - o, "%s%s %d KB%s", i ? ", " : "", r[i].name, r[i].kb, left);
    }
    if (o < size) snprintf(buf + o, size - o, " (%d KB in all)", total);
}

int mco_target_place_ram(const mco_target_profile *t, size_t static_bytes, size_t stack_bytes, mco_ram_placement *out)
{
    memset(out, 0, sizeof *out);
    out->static_region = out->stack_region = -1;
    mco_ram_region single;
    const mco_ram_region *r;
    int n = regions_of(t, &r, &single);
    char list[320], g[32];
    for (int i = 0; i < n && out->static_region < 0; i++)
        if (static_bytes <= (size_t)r[i].kb * 1024) out->static_region = i;
    if (out->static_region < 0) {
        list_regions(r, n, NULL, list, sizeof list);
        snprintf(out->why, sizeof out->why, "the arena and static data (%s B) fit no single RAM region of %s: %s",
                 grouped(static_bytes, g, sizeof g), t->name, list);
        return 0;
    }
    out->used[out->static_region] = static_bytes;
    for (int i = 0; i < n && out->stack_region < 0; i++)
        if (out->used[i] + stack_bytes <= (size_t)r[i].kb * 1024) out->stack_region = i;
    if (out->stack_region < 0) {
        list_regions(r, n, out->used, list, sizeof list);
        snprintf(out->why, sizeof out->why, "the stack (%s B) fits in no RAM region of %s beside the static data: %s",
                 grouped(stack_bytes, g, sizeof g), t->name, list);
        return 0;
    }
    out->used[out->stack_region] += stack_bytes;
    out->placed = 1;
    return 1;
}

size_t mco_target_ram_block_bytes(const mco_target_profile *t)
{
    mco_ram_region single;
    const mco_ram_region *r;
    int n = regions_of(t, &r, &single);
    size_t largest = 0;
    for (int i = 0; i < n; i++)
        if ((size_t)r[i].kb * 1024 > largest) largest = (size_t)r[i].kb * 1024;
    return largest;
}

void mco_ram_placement_describe(const mco_target_profile *t, const mco_ram_placement *pl, char *buf, size_t size)
{
    if (!pl->placed) {
        snprintf(buf, size, "not placed: %s", pl->why);
        return;
    }
    mco_ram_region single;
    const mco_ram_region *r;
    int n = regions_of(t, &r, &single);
    size_t o = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && o < size; i++) {
        const char *what = i == pl->static_region && i == pl->stack_region ? "static + stack"
                           : i == pl->static_region                       ? "static"
                           : i == pl->stack_region                        ? "stack"
                                                                          : "unused";
        char a[32], b[32];
        o += (size_t)snprintf(buf + o, size - o, "%s%s %s of %s B (%s)", i ? ", " : "", r[i].name,
                              grouped(pl->used[i], a, sizeof a), grouped((size_t)r[i].kb * 1024, b, sizeof b), what);
    }
}
