/*
 * target_profile.c - loading MCU target profiles (targets/<name>.json, the
 * fields are documented in include/target/mcuopt/target.h) and listing them.
 *
 * A profile whose QEMU machine has less Flash or RAM than the profile is
 * refused (mco_target_check_memory): a model that fits could not be measured.
 *
 * "ram_regions" (optional) must add up to "ram_kb"; without it the profile
 * has one region "RAM" of ram_kb.
 *
 * Left out: writing profiles, and checking the figures themselves against
 * anything beyond "present, right type, sane range".
 */
#include "mcuopt/target.h"
#include "mcuopt/context.h"
#include "mcuopt/process.h"
#include "target_machine.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const core_names[] = {
    [MCO_CORE_M0] = "cortex-m0",   [MCO_CORE_M0PLUS] = "cortex-m0plus", [MCO_CORE_M3] = "cortex-m3",
    [MCO_CORE_M4] = "cortex-m4",   [MCO_CORE_M4F] = "cortex-m4f",       [MCO_CORE_M7] = "cortex-m7",
    [MCO_CORE_M33] = "cortex-m33", [MCO_CORE_M55] = "cortex-m55",
};
#define N_CORES ((int)(sizeof core_names / sizeof core_names[0]))

static const char *const fpu_names[] = {[MCO_FPU_NONE] = "none", [MCO_FPU_SP] = "sp", [MCO_FPU_DP] = "dp"};
#define N_FPUS ((int)(sizeof fpu_names / sizeof fpu_names[0]))

const char *mco_core_name(mco_core core)
{
    return (int)core >= 0 && (int)core < N_CORES ? core_names[core] : "unknown";
}

const char *mco_fpu_name(mco_fpu fpu)
{
    return (int)fpu >= 0 && (int)fpu < N_FPUS ? fpu_names[fpu] : "unknown";
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Field readers: each fails with "<file>: field "<name>" ..." */

static mco_status get_string(const cJSON *root, const char *path, const char *field, char *dst, size_t cap)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(root, field);
    if (!item) return mco_error(MCO_ERR_FORMAT, "%s: missing field \"%s\"", path, field);
    if (!cJSON_IsString(item)) return mco_error(MCO_ERR_FORMAT, "%s: field \"%s\" must be a string", path, field);
    if (strlen(item->valuestring) >= cap)
        return mco_error(MCO_ERR_FORMAT, "%s: field \"%s\" is longer than %zu characters", path, field, cap - 1);
    strcpy(dst, item->valuestring);
    return MCO_OK;
}

static mco_status get_number(const cJSON *root, const char *path, const char *field, double min, double max,
                             double *dst)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(root, field);
    if (!item) return mco_error(MCO_ERR_FORMAT, "%s: missing field \"%s\"", path, field);
    if (!cJSON_IsNumber(item)) return mco_error(MCO_ERR_FORMAT, "%s: field \"%s\" must be a number", path, field);
    if (!(item->valuedouble >= min && item->valuedouble <= max))
        return mco_error(MCO_ERR_FORMAT, "%s: field \"%s\" = %g is outside [%g, %g]", path, field,
                         item->valuedouble, min, max);
    *dst = item->valuedouble;
    return MCO_OK;
}

static mco_status get_bool(const cJSON *root, const char *path, const char *field, int *dst)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(root, field);
    if (!item) return mco_error(MCO_ERR_FORMAT, "%s: missing field \"%s\"", path, field);
    if (!cJSON_IsBool(item)) return mco_error(MCO_ERR_FORMAT, "%s: field \"%s\" must be true or false", path, field);
    *dst = cJSON_IsTrue(item);
    return MCO_OK;
}

/* Looks `text` up in `names`; fails naming the field and the allowed values. */
static mco_status get_enum(const cJSON *root, const char *path, const char *field, const char *const *names,
                           int n_names, int *dst)
{
    char text[32];
    mco_status st = get_string(root, path, field, text, sizeof text);
    if (st != MCO_OK) return st;
    for (int i = 0; i < n_names; i++) {
        if (strcmp(text, names[i]) == 0) {
            *dst = i;
            return MCO_OK;
        }
    }
    char allowed[256] = "";
    for (int i = 0; i < n_names; i++) {
        strncat(allowed, names[i], sizeof allowed - strlen(allowed) - 1);
        if (i + 1 < n_names) strncat(allowed, ", ", sizeof allowed - strlen(allowed) - 1);
    }
    return mco_error(MCO_ERR_FORMAT, "%s: field \"%s\" = \"%s\" is not one of: %s", path, field, text, allowed);
}

/* "ram_regions": each entry an object with the five fields, names unique,
 * exactly one default ("section": "") region, sizes adding up to ram_kb.
 * Absent: one region "RAM" of ram_kb. */
static mco_status parse_regions(const cJSON *root, const char *path, mco_target_profile *p)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "ram_regions");
    if (!list) {
        p->n_ram_regions = 1;
        memset(&p->ram_regions[0], 0, sizeof p->ram_regions[0]);
        snprintf(p->ram_regions[0].name, sizeof p->ram_regions[0].name, "RAM");
        p->ram_regions[0].kb = p->ram_kb;   /* DMA reach and TCM not known: 0 */
        return MCO_OK;
    }
    int n = cJSON_IsArray(list) ? cJSON_GetArraySize(list) : 0;
    if (n < 1 || n > MCO_TARGET_MAX_REGIONS)
        return mco_error(MCO_ERR_FORMAT, "%s: field \"ram_regions\" must be an array of 1 to %d regions", path,
                         MCO_TARGET_MAX_REGIONS);
    int total = 0, defaults = 0;
    for (int i = 0; i < n; i++) {
        const cJSON *o = cJSON_GetArrayItem(list, i);
        mco_ram_region *r = &p->ram_regions[i];
        char where[600];
        snprintf(where, sizeof where, "%s: ram_regions[%d]", path, i);
        if (!cJSON_IsObject(o)) return mco_error(MCO_ERR_FORMAT, "%s is not an object", where);
        double kb = 0;
        mco_status st;
        if ((st = get_string(o, where, "name", r->name, sizeof r->name)) != MCO_OK) return st;
        if ((st = get_number(o, where, "kb", 1, 1 << 20, &kb)) != MCO_OK) return st;
        if ((st = get_bool(o, where, "dma", &r->dma)) != MCO_OK) return st;
        if ((st = get_bool(o, where, "tcm", &r->tcm)) != MCO_OK) return st;
        if ((st = get_string(o, where, "section", r->section, sizeof r->section)) != MCO_OK) return st;
        if (!r->name[0] || kb != (int)kb)
            return mco_error(MCO_ERR_FORMAT, "%s: needs a name and a whole number of KB", where);
        /* both go into a linker script and a -D option */
        if (strspn(r->name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") != strlen(r->name))
            return mco_error(MCO_ERR_FORMAT, "%s: name \"%s\" may hold only letters, digits and _", where, r->name);
        if (r->section[0] && (r->section[0] != '.' || strspn(r->section, "._abcdefghijklmnopqrstuvwxyz"
                                                             "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != strlen(r->section)))
            return mco_error(MCO_ERR_FORMAT,
                             "%s: section \"%s\" must be \"\" or a section name: a dot, then letters, digits, . and _",
                             where, r->section);
        static const char *const taken[] = {".text", ".rodata", ".data", ".bss", ".ARM", ".isr_vector", ".init",
                                            ".fini", ".heap", ".stack"};
        for (size_t k = 0; k < sizeof taken / sizeof taken[0]; k++)
            if (strncmp(r->section, taken[k], strlen(taken[k])) == 0)
                return mco_error(MCO_ERR_FORMAT, "%s: section \"%s\" is one the default layout uses", where,
                                 r->section);
        for (int j = 0; j < i; j++)
            if (strcmp(p->ram_regions[j].name, r->name) == 0)
                return mco_error(MCO_ERR_FORMAT, "%s: region name \"%s\" is used twice", where, r->name);
        r->kb = (int)kb;
        total += r->kb;
        defaults += r->section[0] == '\0';
    }
    if (defaults != 1)
        return mco_error(MCO_ERR_FORMAT,
                         "%s: field \"ram_regions\" needs exactly one region with \"section\": \"\" (the default "
                         ".data/.bss region), not %d",
                         path, defaults);
    if (total != p->ram_kb)
        return mco_error(MCO_ERR_FORMAT, "%s: the ram_regions add up to %d KB but \"ram_kb\" is %d", path, total,
                         p->ram_kb);
    p->n_ram_regions = n;
    return MCO_OK;
}

static mco_status parse_profile(const cJSON *root, const char *path, mco_target_profile *p)
{
    mco_status st;
    double flash_kb = 0, ram_kb = 0;
    int core = 0, fpu = 0;
    if ((st = get_string(root, path, "name", p->name, sizeof p->name)) != MCO_OK) return st;
    if ((st = get_string(root, path, "vendor", p->vendor, sizeof p->vendor)) != MCO_OK) return st;
    if ((st = get_enum(root, path, "core", core_names, N_CORES, &core)) != MCO_OK) return st;
    if ((st = get_number(root, path, "clock_mhz", 1, 2000, &p->clock_mhz)) != MCO_OK) return st;
    if ((st = get_number(root, path, "flash_kb", 1, 1 << 20, &flash_kb)) != MCO_OK) return st;
    if ((st = get_number(root, path, "ram_kb", 1, 1 << 20, &ram_kb)) != MCO_OK) return st;
    if ((st = get_enum(root, path, "fpu", fpu_names, N_FPUS, &fpu)) != MCO_OK) return st;
    if ((st = get_bool(root, path, "dsp", &p->dsp)) != MCO_OK) return st;
    if ((st = get_bool(root, path, "helium", &p->helium)) != MCO_OK) return st;
    if ((st = get_number(root, path, "active_ua_per_mhz", 0, 100000, &p->active_ua_per_mhz)) != MCO_OK) return st;
    if ((st = get_number(root, path, "voltage", 0.5, 5.5, &p->voltage)) != MCO_OK) return st;
    if ((st = get_string(root, path, "qemu_machine", p->qemu_machine, sizeof p->qemu_machine)) != MCO_OK)
        return st;
    if (cJSON_GetObjectItemCaseSensitive(root, "source") &&
        (st = get_string(root, path, "source", p->source, sizeof p->source)) != MCO_OK)
        return st;
    p->core = (mco_core)core;
    p->fpu = (mco_fpu)fpu;
    p->flash_kb = (int)flash_kb;
    p->ram_kb = (int)ram_kb;
    if ((st = parse_regions(root, path, p)) != MCO_OK) return st;
    snprintf(p->core_name, sizeof p->core_name, "%s", core_names[core]);
    return MCO_OK;
}

static mco_status load_file(const mco_context *ctx, const char *path, mco_target_profile *out)
{
    char *text = NULL;
    mco_status st = mco_read_text_file(path, MCO_READ_TEXT_MAX, &text);
    if (st != MCO_OK) return st;
    cJSON *root = cJSON_Parse(text);
    if (!root || !cJSON_IsObject(root)) {
        const char *where = cJSON_GetErrorPtr();
        int line = 1;
        if (where && where >= text)
            for (const char *c = text; c < where && *c; c++) line += *c == '\n';
        cJSON_Delete(root);
        free(text);
        return mco_error(MCO_ERR_FORMAT, "%s: not a JSON object (syntax error near line %d)", path, line);
    }
    mco_target_profile p;
    memset(&p, 0, sizeof p);
    st = parse_profile(root, path, &p);
    cJSON_Delete(root);
    free(text);
    if (st != MCO_OK) return st;
    snprintf(p.path, sizeof p.path, "%s", path);
    if ((st = mco_target_check_memory(ctx, &p)) != MCO_OK) return st;
    *out = p;
    return MCO_OK;
}

/* Calls `fn` for every "*.json" file name in the targets directory `dir`,
 * in directory order. */
static mco_status for_each_profile_file(const char *dir, mco_status (*fn)(const char *dir, const char *file, void *user),
                                        void *user)
{
    DIR *d = opendir(dir);
    if (!d) return mco_error(MCO_ERR_IO, "%s: cannot open targets directory: %s", dir, strerror(errno));
    mco_status st = MCO_OK;
    struct dirent *e;
    while (st == MCO_OK && (e = readdir(d)) != NULL)
        if (e->d_name[0] != '.' && ends_with(e->d_name, ".json")) st = fn(dir, e->d_name, user);
    closedir(d);
    return st;
}

static mco_status append_name(const char *dir, const char *file, void *user)
{
    (void)dir;
    char *names = user; /* 1024 bytes */
    size_t used = strlen(names);
    snprintf(names + used, 1024 - used, "%s%.*s", used ? ", " : "", (int)(strlen(file) - 5), file);
    return MCO_OK;
}

mco_status mco_target_load(const mco_context *ctx, const char *name_or_path, mco_target_profile *out)
{
    if (!name_or_path || !*name_or_path || !out) return mco_error(MCO_ERR_ARG, "target: no name given");
    if (ends_with(name_or_path, ".json")) return load_file(ctx, name_or_path, out);
    if (strchr(name_or_path, '/'))
        return mco_error(MCO_ERR_ARG, "target \"%s\": give a name or a path ending in .json", name_or_path);
    const char *dir;
    mco_status st = mco_context_require(ctx, MCO_RESOURCE_TARGETS, "target", &dir);
    if (st != MCO_OK) return st;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.json", dir, name_or_path);
    FILE *probe = fopen(path, "rb");
    if (probe) {
        fclose(probe);
        return load_file(ctx, path, out);
    }
    char names[1024] = "";
    if (for_each_profile_file(dir, append_name, names) != MCO_OK) snprintf(names, sizeof names, "(none readable)");
    return mco_error(MCO_ERR_NOT_FOUND, "unknown target \"%s\" (in %s); available: %s", name_or_path, dir, names);
}

typedef struct {
    const mco_context *ctx;
    mco_target_profile *items;
    int count, cap;
} profile_list;

static mco_status append_profile(const char *dir, const char *file, void *user)
{
    profile_list *list = user;
    if (list->count == list->cap) {
        int cap = list->cap ? list->cap * 2 : 16;
        mco_target_profile *bigger = realloc(list->items, (size_t)cap * sizeof *bigger);
        if (!bigger) return mco_error(MCO_ERR_NOMEM, "target list: out of memory");
        list->items = bigger;
        list->cap = cap;
    }
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    mco_status st = load_file(list->ctx, path, &list->items[list->count]);
    if (st == MCO_OK) list->count++;
    return st;
}

static int compare_by_name(const void *a, const void *b)
{
    return strcmp(((const mco_target_profile *)a)->name, ((const mco_target_profile *)b)->name);
}

mco_status mco_target_list(const mco_context *ctx, mco_target_profile **out, int *count)
{
    if (!out || !count) return mco_error(MCO_ERR_ARG, "mco_target_list: NULL argument");
    const char *dir;
    mco_status st = mco_context_require(ctx, MCO_RESOURCE_TARGETS, "target list", &dir);
    if (st != MCO_OK) return st;
    profile_list list = {ctx, NULL, 0, 0};
    st = for_each_profile_file(dir, append_profile, &list);
    if (st != MCO_OK) {
        free(list.items);
        return st;
    }
    if (list.count > 1) qsort(list.items, (size_t)list.count, sizeof *list.items, compare_by_name);
    *out = list.items;
    *count = list.count;
    return MCO_OK;
}
