/*
 * target_measure.c - mco_target_measure(): builds an emitted model directory
 * into firmware for a target's core, runs it in qemu-system-arm with our
 * instruction-count plugin (firmware/plugin/mco_insn_profile.c), and turns
 * what comes back into a mco_measure_result.
 *
 * Steps, all inside one work directory:
 *   1. test_vectors.c  - the inputs and expected outputs as const arrays;
 *   2. obj/ *.o, fw.elf - model_dir/ *.c (and the request's extra sources)
 *                        compiled with the requested compiler
 *                        (arm-none-eabi-gcc or clang) and optimisation
 *                        level, linked by arm-none-eabi-gcc (newlib, libgcc)
 *                        with firmware/startup.c + harness_main.c + test
 *                        vectors (arm-none-eabi-gcc -O2) and
 *                        firmware/ld/<machine>.ld;
 *   3. model.elf       - the model objects alone (compiled again without
 *                        the layer marks: obj-size/), entry model_run,
 *                        unused code removed: its `size` is the model's
 *                        flash and static RAM;
 *   4. plugin.so       - the QEMU plugin, compiled with the host gcc;
 *      marks.txt       - the addresses of the layer marks, from fw.elf's
 *                        .mco_marks section (firmware/mco_layer_mark.h,
 *                        force-included into the firmware build only,
 *                        unless the request asks for no_layer_marks);
 *   5. run.log / counts.txt / layers.txt - harness output, per-address
 *                        counts, and the same split by op at the marks;
 *   6. objdump of fw.elf + counts -> the cycle estimate (target_cycles.c),
 *                        per op and for the overhead around them when the
 *                        code has layer marks (the total is then their sum).
 *
 * A profile's QEMU machine must hold at least the profile's Flash and RAM
 * (mco_target_check_memory, read from its linker script, checked when the
 * profile is loaded), so that every model that fits the profile can be
 * measured. Cortex-M0/M0+ profiles run on mps2-an385 (a Cortex-M3 with 4 MB
 * each; QEMU's one ARMv6-M machine, microbit, has only 16 KB of RAM): there
 * every executed instruction is checked to be ARMv6-M (target_isa.c), and
 * the cycle estimate uses the M0/M0+ timings.
 *
 * Left out: real hardware (no flashing, no serial capture), cores without a
 * QEMU 7.2 machine (MCO_ERR_UNSUPPORTED), and power measurement (energy is
 * datasheet current x voltage x estimated time).
 */
#include "mcuopt/target.h"
#include "mcuopt/context.h"
#include "mcuopt/process.h"
#include "mcuopt/target_cycles.h"
#include "target_machine.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The runtime files' subdirectory of an emitted package (mcuopt emit's
 * layout, see docs/design.md); a flat directory with them beside model.c
 * works too. */
#define PACKAGE_RUNTIME_DIR "mcuopt_runtime"

#define TOOL_TIMEOUT_S 300
#define DEFAULT_QEMU_TIMEOUT_S 300
#define MAX_ARGS 512

/* ---- argument lists for the tools ---- */

typedef struct {
    char *v[MAX_ARGS + 1];
    int n;
    int overflow;
} arg_list;

static void args_add(arg_list *a, const char *s)
{
    if (a->n >= MAX_ARGS) {
        a->overflow = 1;
        return;
    }
    a->v[a->n] = strdup(s);
    if (!a->v[a->n]) {
        a->overflow = 1;
        return;
    }
    a->n++;
    a->v[a->n] = NULL;
}

static void args_addf(arg_list *a, const char *fmt, const char *value)
{
    char buf[4200];
    snprintf(buf, sizeof buf, fmt, value);
    args_add(a, buf);
}

static void args_free(arg_list *a)
{
    for (int i = 0; i < a->n; i++) free(a->v[i]);
    a->n = 0;
}

/* ---- paths ---- */

/* The context's firmware directory (check_request made sure it is set). */
static const char *firmware_dir(const mco_measure_request *req)
{
    return mco_context_resource(req->ctx, MCO_RESOURCE_FIRMWARE);
}

static int file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* ---- the compiler choice ---- */

static const char *const cc_names[] = {"gcc", "clang"};
static const char *const opt_levels[] = {"-O0", "-O1", "-O2", "-O3", "-Os", "-Og", "-Oz"};

mco_status mco_cc_parse(const char *name, mco_cc *out)
{
    for (int i = 0; i < 2; i++)
        if (name && strcmp(name, cc_names[i]) == 0) {
            *out = (mco_cc)i;
            return MCO_OK;
        }
    return mco_error(MCO_ERR_ARG, "unknown compiler '%s' (gcc or clang)", name ? name : "");
}

const char *mco_cc_name(mco_cc cc) { return cc == MCO_CC_CLANG ? "clang" : "gcc"; }

mco_status mco_opt_level_check(const char *opt)
{
    for (size_t i = 0; i < sizeof opt_levels / sizeof opt_levels[0]; i++)
        if (opt && strcmp(opt, opt_levels[i]) == 0) return MCO_OK;
    return mco_error(MCO_ERR_ARG, "unknown optimisation level '%s' (-O0, -O1, -O2, -O3, -Os, -Og or -Oz)",
                     opt ? opt : "");
}

static const char *request_opt(const mco_measure_request *req) { return req->opt ? req->opt : "-O2"; }

/* ---- compiler flags for a profile ---- */

/* clang: whether the flags are for clang (it has no -mfpu=auto). */
static void add_cpu_flags(arg_list *a, const mco_target_profile *t, int clang)
{
    int hard_float = t->fpu != MCO_FPU_NONE;
    switch (t->core) {
    case MCO_CORE_M0: args_add(a, "-mcpu=cortex-m0"); hard_float = 0; break;
    case MCO_CORE_M0PLUS: args_add(a, "-mcpu=cortex-m0plus"); hard_float = 0; break;
    case MCO_CORE_M3: args_add(a, "-mcpu=cortex-m3"); hard_float = 0; break;
    case MCO_CORE_M4:
    case MCO_CORE_M4F:
        args_add(a, "-mcpu=cortex-m4");
        if (hard_float) args_add(a, "-mfpu=fpv4-sp-d16");
        break;
    case MCO_CORE_M7:
        args_add(a, "-mcpu=cortex-m7");
        if (hard_float) args_add(a, t->fpu == MCO_FPU_DP ? "-mfpu=fpv5-d16" : "-mfpu=fpv5-sp-d16");
        break;
    case MCO_CORE_M33:
        args_add(a, t->dsp ? "-mcpu=cortex-m33" : "-mcpu=cortex-m33+nodsp");
        if (hard_float) args_add(a, "-mfpu=fpv5-sp-d16");
        break;
    case MCO_CORE_M55:
        args_add(a, "-mcpu=cortex-m55");
        if (hard_float && !clang) args_add(a, "-mfpu=auto");
        break;
    }
    args_add(a, hard_float ? "-mfloat-abi=hard" : "-mfloat-abi=soft");
    args_add(a, "-mthumb");
}

static void add_common_cflags(arg_list *a, const mco_target_profile *t, const char *model_dir, int clang,
                              const char *opt)
{
    add_cpu_flags(a, t, clang);
    args_add(a, "-std=gnu11");
    args_add(a, opt);
    args_add(a, "-ffp-contract=off");
    args_add(a, "-ffunction-sections");
    args_add(a, "-fdata-sections");
    args_addf(a, "-I%s", model_dir);
    char runtime[4100];
    snprintf(runtime, sizeof runtime, "%.4000s/" PACKAGE_RUNTIME_DIR, model_dir);
    if (file_exists(runtime)) args_addf(a, "-I%s", runtime);
}

/* The request's extra -I directories (a NULL-terminated list). */
static void add_extra_include_dirs(arg_list *a, const mco_measure_request *req)
{
    for (const char *const *d = req->extra_include_dirs; d && *d; d++) args_addf(a, "-I%s", *d);
}

/* ---- step 1: test vectors ---- */

static void write_byte_array(FILE *f, const char *name, const uint8_t *data, int rows, size_t cols)
{
    fprintf(f, "const uint8_t %s[%d][%zu] = {\n", name, rows, cols);
    for (int r = 0; r < rows; r++) {
        fputs("    {", f);
        for (size_t c = 0; c < cols; c++)
            fprintf(f, "%s%s%u", c ? "," : "", c % 24 == 23 ? "\n     " : "", data[(size_t)r * cols + c]);
        fputs("},\n", f);
    }
    fputs("};\n", f);
}

static mco_status write_test_vectors(const char *path, const mco_measure_request *req)
{
    FILE *f = fopen(path, "w");
    if (!f) return mco_error(MCO_ERR_IO, "%s: %s", path, strerror(errno));
    fputs("/* test_vectors.c - generated by mco_target_measure: inputs and expected outputs. */\n"
          "#include <stdint.h>\n",
          f);
    write_byte_array(f, "mco_test_inputs", req->inputs, req->n_inputs, req->input_bytes);
    write_byte_array(f, "mco_test_expected", req->expected, req->n_inputs, req->output_bytes);
    int failed = ferror(f);
    if (fclose(f) != 0 || failed) return mco_error(MCO_ERR_IO, "%s: write error", path);
    return MCO_OK;
}

/* Runs a build step; on failure the error names the step and quotes the
 * first compiler error line. */
static mco_status run_build_step(arg_list *a, const char *what, const char *log_path)
{
    if (a->overflow) return mco_error(MCO_ERR_RANGE, "%s: too many source files", what);
    int code, timed_out;
    mco_status st = mco_run_tool(a->v, log_path, TOOL_TIMEOUT_S, &code, &timed_out);
    if (st != MCO_OK) return st;
    if (timed_out) return mco_error(MCO_ERR_IO, "%s: %s timed out", what, a->v[0]);
    if (code != 0) {
        char excerpt[300];
        mco_log_excerpt(log_path, "error", excerpt, sizeof excerpt);
        return mco_error(MCO_ERR_UNSUPPORTED, "%s failed: %s", what, excerpt[0] ? excerpt : "(no output)");
    }
    return MCO_OK;
}

/* ---- step 3: sizes ---- */

static mco_status model_sizes(const char *elf, const char *log_path, size_t *text, size_t *data, size_t *bss)
{
    char *const argv[] = {"arm-none-eabi-size", "-B", (char *)elf, NULL};
    char *out = NULL;
    int code;
    mco_status st = mco_run_tool_capture(argv, log_path, TOOL_TIMEOUT_S, &out, &code);
    if (st != MCO_OK) return st;
    const char *line = strchr(out, '\n');
    unsigned long long t = 0, d = 0, b = 0;
    if (code != 0 || !line || sscanf(line + 1, "%llu %llu %llu", &t, &d, &b) != 3) {
        free(out);
        return mco_error(MCO_ERR_FORMAT, "arm-none-eabi-size %s: unexpected output", elf);
    }
    free(out);
    *text = (size_t)t;
    *data = (size_t)d;
    *bss = (size_t)b;
    return MCO_OK;
}

/* ---- step 4: marker addresses ---- */

static mco_status marker_addresses(const char *elf, const char *log_path, uint64_t *begin, uint64_t *end)
{
    char *const argv[] = {"arm-none-eabi-nm", (char *)elf, NULL};
    char *out = NULL;
    int code;
    mco_status st = mco_run_tool_capture(argv, log_path, TOOL_TIMEOUT_S, &out, &code);
    if (st != MCO_OK) return st;
    int found = 0;
    for (char *save = NULL, *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        unsigned long long addr;
        char kind, name[128];
        if (sscanf(line, "%llx %c %127s", &addr, &kind, name) != 3) continue;
        if (strcmp(name, "mco_measure_begin") == 0) *begin = addr & ~1ull, found |= 1;
        if (strcmp(name, "mco_measure_end") == 0) *end = addr & ~1ull, found |= 2;
    }
    free(out);
    if (found != 3) return mco_error(MCO_ERR_FORMAT, "%s: marker functions mco_measure_begin/end not found", elf);
    return MCO_OK;
}

/* ---- step 4b: layer marks ---- */

/* The layer marks of fw.elf: (address, op index) word pairs in its
 * .mco_marks section, written by MCO_LAYER_MARK (firmware/mco_layer_mark.h).
 * On success marks[k] is the address of mark k, for k = 0 .. *n_marks - 1
 * (the last one is where the ops end); *n_marks = 0 if the code has none. */
static mco_status read_layer_marks(const char *dir, const char *log_path, uint64_t *marks, int *n_marks)
{
    char elf[4200], bin[4200], copy[4200], dump[8600];
    snprintf(elf, sizeof elf, "%s/fw.elf", dir);
    snprintf(bin, sizeof bin, "%s/marks.bin", dir);
    snprintf(copy, sizeof copy, "%s/marks.elf", dir);
    snprintf(dump, sizeof dump, ".mco_marks=%s", bin);
    unlink(bin);
    *n_marks = 0;
    /* objcopy writes the section's bytes, or no file if there is no such section */
    char *const argv[] = {"arm-none-eabi-objcopy", "--dump-section", dump, elf, copy, NULL};
    int code, timed_out;
    mco_status st = mco_run_tool(argv, log_path, TOOL_TIMEOUT_S, &code, &timed_out);
    unlink(copy);
    if (st != MCO_OK) return st;
    FILE *f = fopen(bin, "rb");
    if (!f) return MCO_OK;
    uint8_t word[8];
    int seen[MCO_MEASURE_MAX_LAYERS + 1] = {0}, n = 0;
    size_t got;
    while (st == MCO_OK && (got = fread(word, 1, sizeof word, f)) > 0) {
        uint32_t addr = (uint32_t)word[0] | (uint32_t)word[1] << 8 | (uint32_t)word[2] << 16 | (uint32_t)word[3] << 24;
        uint32_t k = (uint32_t)word[4] | (uint32_t)word[5] << 8 | (uint32_t)word[6] << 16 | (uint32_t)word[7] << 24;
        if (got != sizeof word)
            st = mco_error(MCO_ERR_FORMAT, "%s: .mco_marks is not a list of (address, op) word pairs", elf);
        else if (k > MCO_MEASURE_MAX_LAYERS)
            st = mco_error(MCO_ERR_RANGE, "%s: layer mark %lu: more than %d ops", elf, (unsigned long)k,
                           MCO_MEASURE_MAX_LAYERS);
        else if (seen[k]++)
            st = mco_error(MCO_ERR_FORMAT, "%s: layer mark %lu appears twice (the compiler duplicated it)", elf,
                           (unsigned long)k);
        else {
            marks[k] = addr & ~1u;
            if ((int)k + 1 > n) n = (int)k + 1;
        }
    }
    fclose(f);
    unlink(bin);
    for (int k = 0; st == MCO_OK && k < n; k++)
        if (!seen[k]) st = mco_error(MCO_ERR_FORMAT, "%s: layer mark %d is missing", elf, k);
    if (st == MCO_OK && n == 1) st = mco_error(MCO_ERR_FORMAT, "%s: a single layer mark (want one per op and an end)", elf);
    if (st == MCO_OK) *n_marks = n;
    return st;
}

static mco_status write_marks_file(const char *path, const uint64_t *marks, int n_marks)
{
    FILE *f = fopen(path, "w");
    if (!f) return mco_error(MCO_ERR_IO, "%s: %s", path, strerror(errno));
    for (int k = 0; k < n_marks; k++) fprintf(f, "%" PRIx64 "\n", marks[k]);
    int failed = ferror(f);
    if (fclose(f) != 0 || failed) return mco_error(MCO_ERR_IO, "%s: write error", path);
    return MCO_OK;
}

/* ---- step 5: run and parse ---- */

static mco_status run_qemu(const mco_target_profile *t, const char *dir, const char *plugin_arg, int timeout_s)
{
    char log_path[4200], elf[4200];
    snprintf(log_path, sizeof log_path, "%s/run.log", dir);
    snprintf(elf, sizeof elf, "%s/fw.elf", dir);
    char *const argv[] = {"qemu-system-arm", "-M", (char *)t->qemu_machine, "-nographic", "-monitor", "none",
                          "-serial", "none", "-semihosting-config", "enable=on,target=native", "-kernel", elf,
                          "-plugin", (char *)plugin_arg, "-d", "plugin", NULL};
    int code, timed_out;
    mco_status st = mco_run_tool(argv, log_path, timeout_s, &code, &timed_out);
    if (st != MCO_OK) return st;
    if (timed_out)
        return mco_error(MCO_ERR_RANGE, "qemu-system-arm -M %s: no result within %d s (model too slow, or hung)",
                         t->qemu_machine, timeout_s);
    if (code != 0) {
        char excerpt[300];
        mco_log_excerpt(log_path, "MCO_FAULT", excerpt, sizeof excerpt);
        if (!strstr(excerpt, "MCO_FAULT")) mco_log_excerpt(log_path, "qemu", excerpt, sizeof excerpt);
        return mco_error(MCO_ERR_IO, "firmware on qemu -M %s exited with status %d: %s", t->qemu_machine, code,
                         excerpt[0] ? excerpt : "(no output)");
    }
    return MCO_OK;
}

/* The hex digits of one MCO_OUTPUT line into out (n bytes); 0 if malformed. */
static int parse_hex_output(const char *hex, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (!isxdigit((unsigned char)hex[2 * i]) || !isxdigit((unsigned char)hex[2 * i + 1]) ||
            sscanf(hex + 2 * i, "%2x", &v) != 1)
            return 0;
        out[i] = (uint8_t)v;
    }
    return hex[2 * n] == '\0' || hex[2 * n] == '\r';
}

static mco_status parse_harness_output(const char *path, const mco_measure_request *req, mco_measure_result *res)
{
    int n_inputs = req->n_inputs;
    if (req->actual) memcpy(req->actual, req->expected, (size_t)n_inputs * req->output_bytes);
    char *text = NULL;
    mco_status st = mco_read_text_file(path, MCO_READ_GENERATED_MAX, &text);
    if (st != MCO_OK) return st;
    int seen = 0, done = 0;
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        int index, rc, pass;
        unsigned long stack;
        if (sscanf(line, "MCO_RESULT %d %d %d %lu", &index, &rc, &pass, &stack) == 4) {
            if (index != seen) break;
            seen++;
            if (!pass) {
                if (res->n_mismatch == 0) res->first_mismatch = index;
                res->n_mismatch++;
            }
            if (stack > res->stack_bytes) res->stack_bytes = stack;
        } else if (req->actual && sscanf(line, "MCO_OUTPUT %d %n", &index, &rc) == 1 && index >= 0 &&
                   index < n_inputs) {
            if (!parse_hex_output(line + rc, req->actual + (size_t)index * req->output_bytes, req->output_bytes)) {
                st = mco_error(MCO_ERR_FORMAT, "%s: a malformed MCO_OUTPUT line for input %d", path, index);
                break;
            }
        } else if (strncmp(line, "MCO_DONE", 8) == 0) {
            done = 1;
        }
    }
    free(text);
    if (st != MCO_OK) return st;
    if (!done || seen != n_inputs)
        return mco_error(MCO_ERR_FORMAT, "%s: harness reported %d of %d results%s", path, seen, n_inputs,
                         done ? "" : " and did not finish");
    return MCO_OK;
}

/* Reads counts.txt: per-window totals into res, per-address counts into
 * *counts (malloc'ed). */
static mco_status parse_counts(const char *path, int n_inputs, mco_measure_result *res, mco_insn_count **counts,
                               size_t *n_counts)
{
    mco_insn_windows w;
    mco_status st = mco_read_insn_counts(path, counts, n_counts, &w);
    if (st == MCO_ERR_NOMEM) return st;
    if (st != MCO_OK) return mco_error(MCO_ERR_IO, "%s: the QEMU plugin wrote no counts", path);
    if (w.n != n_inputs) {
        free(*counts);
        *counts = NULL;
        return mco_error(MCO_ERR_FORMAT, "%s: %d measurement windows for %d inputs", path, w.n, n_inputs);
    }
    res->insns_min = w.min;
    res->insns_max = w.max;
    res->insns_mean = (double)w.sum / n_inputs;
    res->insns_identical = res->insns_min == res->insns_max;
    return MCO_OK;
}

/* The counts split at the layer marks (layers.txt): segment 0 is before
 * mark 0, segment k + 1 runs from mark k to mark k + 1 (op k), the last
 * segment from the end mark on. */
typedef struct {
    mco_insn_count *counts;
    size_t n, cap;
} segment_counts;

static void free_segments(segment_counts *segs, int n_segments)
{
    for (int i = 0; segs && i < n_segments; i++) free(segs[i].counts);
    free(segs);
}

/* Reads layers.txt into segs[0 .. n_marks] and checks that the segments
 * hold every counted instruction. *all_ran: 1 if every mark ran once per
 * inference (else, e.g. when model_run returned an error half way, the
 * split means nothing). */
static mco_status parse_layer_counts(const char *path, int n_inputs, int n_marks, const mco_insn_count *counts,
                                     size_t n_counts, segment_counts *segs, int *all_ran)
{
    char *text = NULL;
    if (mco_read_text_file(path, MCO_READ_GENERATED_MAX, &text) != MCO_OK)
        return mco_error(MCO_ERR_IO, "%s: the QEMU plugin wrote no per-layer counts", path);
    mco_status st = MCO_OK;
    int hits_seen = 0;
    uint64_t in_segments = 0, in_total = 0;
    *all_ran = 1;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); st == MCO_OK && line; line = strtok_r(NULL, "\n", &save)) {
        unsigned long long a, b;
        int k;
        if (sscanf(line, "hits %d %llu", &k, &a) == 2) {
            if (k < 0 || k >= n_marks) st = mco_error(MCO_ERR_FORMAT, "%s: layer mark %d out of range", path, k);
            if (a != (unsigned long long)n_inputs) *all_ran = 0;
            hits_seen++;
        } else if (sscanf(line, "seg %d %llx %llu", &k, &a, &b) == 3) {
            if (k < 0 || k > n_marks) {
                st = mco_error(MCO_ERR_FORMAT, "%s: segment %d out of range", path, k);
                break;
            }
            segment_counts *sg = &segs[k];
            if (sg->n == sg->cap) {
                size_t cap = sg->cap ? 2 * sg->cap : 256;
                mco_insn_count *bigger = realloc(sg->counts, cap * sizeof *bigger);
                if (!bigger) {
                    st = mco_error(MCO_ERR_NOMEM, "%s: out of memory", path);
                    break;
                }
                sg->counts = bigger;
                sg->cap = cap;
            }
            sg->counts[sg->n].addr = a;
            sg->counts[sg->n].count = b;
            sg->n++;
            in_segments += b;
        }
    }
    free(text);
    if (st != MCO_OK) return st;
    if (hits_seen != n_marks) return mco_error(MCO_ERR_FORMAT, "%s: %d of %d layer marks reported", path, hits_seen, n_marks);
    for (size_t i = 0; i < n_counts; i++) in_total += counts[i].count;
    if (in_segments != in_total)
        return mco_error(MCO_ERR_FORMAT, "%s: the per-layer counts add up to %llu instructions, the total is %llu", path,
                         (unsigned long long)in_segments, (unsigned long long)in_total);
    return MCO_OK;
}

/* ---- step 6: cycles ---- */

static uint64_t sum_counts(const mco_insn_count *counts, size_t n)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) sum += counts[i].count;
    return sum;
}

/* The cycle estimate: with layer marks, per segment (the total is their
 * sum, so the ops and the overhead add up to it exactly), else over all
 * counts at once. */
static mco_status estimate_cycles(const mco_target_profile *t, const char *dir, const mco_insn_count *counts,
                                  size_t n_counts, const segment_counts *segs, int n_marks, int n_inputs,
                                  mco_measure_result *res)
{
    char elf[4200], log_path[4200];
    snprintf(elf, sizeof elf, "%s/fw.elf", dir);
    snprintf(log_path, sizeof log_path, "%s/tools.log", dir);
    char *const argv[] = {"arm-none-eabi-objdump", "-d", "--no-show-raw-insn", elf, NULL};
    char *disasm = NULL;
    int code;
    mco_status st = mco_run_tool_capture(argv, log_path, TOOL_TIMEOUT_S, &disasm, &code);
    if (st != MCO_OK) return st;
    if (code != 0) {
        free(disasm);
        return mco_error(MCO_ERR_FORMAT, "arm-none-eabi-objdump %s failed", elf);
    }
    uint64_t unknown = 0;
    double cycles = 0;
    if (n_marks > 0) {
        res->n_layers = n_marks - 1;
        for (int sg = 0; sg <= n_marks && cycles >= 0; sg++) {
            uint64_t seg_unknown = 0;
            double c = mco_estimate_cycles(t->core, disasm, segs[sg].counts, segs[sg].n, &seg_unknown);
            double insns = (double)sum_counts(segs[sg].counts, segs[sg].n) / n_inputs;
            unknown += seg_unknown;
            cycles = c < 0 ? -1 : cycles + c;
            if (sg == 0 || sg == n_marks) {
                res->overhead_insns += insns;
                res->overhead_cycles_est += c / n_inputs;
            } else {
                mco_layer_measure *l = &res->layers[sg - 1];
                l->insns = insns;
                l->cycles_est = c / n_inputs;
            }
        }
    } else {
        cycles = mco_estimate_cycles(t->core, disasm, counts, n_counts, &unknown);
    }
    free(disasm);
    if (cycles < 0) return mco_error(MCO_ERR_NOMEM, "cycle estimate: out of memory");
    res->cycles_est = cycles / n_inputs;
    snprintf(res->note, sizeof res->note, "%s%s", mco_cycle_model_note(t->core),
             unknown ? " (some executed addresses were not in the disassembly: 1 cycle each)" : "");
    return MCO_OK;
}

/* ---- ARMv6-M cores: the instruction set of what ran (before step 6) ---- */

static int is_armv6m_core(mco_core core)
{
    return core == MCO_CORE_M0 || core == MCO_CORE_M0PLUS;
}

static mco_status check_instruction_set(const mco_target_profile *t, const char *dir, const mco_insn_count *counts,
                                        size_t n_counts)
{
    char elf[4200], log_path[4200];
    snprintf(elf, sizeof elf, "%s/fw.elf", dir);
    snprintf(log_path, sizeof log_path, "%s/tools.log", dir);
    char *const argv[] = {"arm-none-eabi-objdump", "-d", elf, NULL};
    char *disasm = NULL;
    int code;
    mco_status st = mco_run_tool_capture(argv, log_path, TOOL_TIMEOUT_S, &disasm, &code);
    if (st != MCO_OK) return st;
    if (code != 0) st = mco_error(MCO_ERR_FORMAT, "arm-none-eabi-objdump %s failed", elf);
    else st = mco_check_armv6m(disasm, counts, n_counts, t->qemu_machine);
    free(disasm);
    return st;
}

/* ---- the emulated machine ---- */

mco_status mco_target_check_memory(const mco_context *ctx, const mco_target_profile *t)
{
    const char *fw = mco_context_resource(ctx, MCO_RESOURCE_FIRMWARE);
    char ld[4200];
    snprintf(ld, sizeof ld, "%s/ld/%s.ld", fw ? fw : "", t->qemu_machine);
    if (!fw || !t->qemu_machine[0] || !file_exists(ld)) return MCO_OK; /* measuring says so, if it is tried */
    char *script = NULL;
    mco_status st = mco_read_text_file(ld, MCO_READ_TEXT_MAX, &script);
    if (st != MCO_OK) return st;
    size_t flash = 0, ram = 0;
    uint64_t origin;
    int ok = mco_ld_region(script, "FLASH", &origin, &flash) && mco_ld_region(script, "RAM", &origin, &ram);
    free(script);
    if (!ok) return mco_error(MCO_ERR_FORMAT, "%s: no FLASH and RAM regions with a LENGTH", ld);

    const char *region = NULL;
    size_t has = 0;
    int profile_kb = 0;
    if ((size_t)t->flash_kb * 1024 > flash) region = "Flash", has = flash, profile_kb = t->flash_kb;
    else if ((size_t)t->ram_kb * 1024 > ram) region = "RAM", has = ram, profile_kb = t->ram_kb;
    if (region)
        return mco_error(MCO_ERR_FORMAT,
                         "%s: QEMU machine %s has %zu KB of %s, less than the profile's %d KB, so a model that fits "
                         "the profile might not run there (Cortex-M0/M0+ profiles use mps2-an385)",
                         t->path[0] ? t->path : t->name, t->qemu_machine, has / 1024, region, profile_kb);
    return MCO_OK;
}

/* ---- the whole measurement ---- */

static mco_status check_request(const mco_target_profile *t, const mco_measure_request *req)
{
    if (!t || !req || !req->model_dir || !req->inputs || !req->expected)
        return mco_error(MCO_ERR_ARG, "measure: missing profile, model directory, inputs or expected outputs");
    if (req->n_inputs < 1 || req->input_bytes == 0 || req->output_bytes == 0)
        return mco_error(MCO_ERR_ARG, "measure: need at least one input and non-zero input/output sizes");
    if (req->cc != MCO_CC_GCC && req->cc != MCO_CC_CLANG) return mco_error(MCO_ERR_ARG, "measure: unknown compiler");
    if (req->opt) {
        mco_status st = mco_opt_level_check(req->opt);
        if (st != MCO_OK) return st;
    }
    if (!t->qemu_machine[0])
        return mco_error(MCO_ERR_UNSUPPORTED, "target %s (%s): no QEMU machine emulates this core", t->name,
                         t->core_name);
    const char *fw;
    mco_status st = mco_context_require(req->ctx, MCO_RESOURCE_FIRMWARE, "measure", &fw);
    if (st != MCO_OK) return st;
    char ld[4200];
    snprintf(ld, sizeof ld, "%s/ld/%s.ld", fw, t->qemu_machine);
    if (!file_exists(ld))
        return mco_error(MCO_ERR_UNSUPPORTED, "target %s: no linker script %s for QEMU machine \"%s\"", t->name, ld,
                         t->qemu_machine);
    return MCO_OK;
}

/* ---- step 2: building ---- */

/* The directory newlib's headers and libraries sit in (clang's --sysroot),
 * from arm-none-eabi-gcc's libc.a: <sysroot>/lib/libc.a. */
static mco_status newlib_sysroot(const char *log_path, char *buf, size_t cap)
{
    char *const argv[] = {"arm-none-eabi-gcc", "-print-file-name=libc.a", NULL};
    char *out = NULL;
    int code;
    mco_status st = mco_run_tool_capture(argv, log_path, TOOL_TIMEOUT_S, &out, &code);
    if (st != MCO_OK) return st;
    out[strcspn(out, "\r\n")] = '\0';
    char *slash = strrchr(out, '/');
    if (slash) *slash = '\0';
    slash = strrchr(out, '/');   /* <sysroot>/lib -> <sysroot> */
    if (code != 0 || !slash || !file_exists(out)) {
        free(out);
        return mco_error(MCO_ERR_NOT_FOUND,
                         "clang needs newlib's headers, but arm-none-eabi-gcc has no libc.a (apt-get install "
                         "libnewlib-arm-none-eabi)");
    }
    *slash = '\0';
    snprintf(buf, cap, "%s", out);
    free(out);
    return MCO_OK;
}

/* Compiles one source of the model (or an extra source) into obj with the
 * request's compiler and level; marks: with the layer marks. */
static mco_status compile_model_source(const mco_target_profile *t, const mco_measure_request *req,
                                       const char *sysroot, int marks, const char *arena_section, const char *src,
                                       const char *obj, const char *log_path)
{
    int clang = req->cc == MCO_CC_CLANG;
    char what[96];
    arg_list a = {0};
    if (clang) {
        args_add(&a, "clang");
        args_add(&a, "--target=arm-none-eabi");
        args_addf(&a, "--sysroot=%s", sysroot);
    } else {
        args_add(&a, "arm-none-eabi-gcc");
    }
    add_common_cflags(&a, t, req->model_dir, clang, request_opt(req));
    add_extra_include_dirs(&a, req);
    /* Clang as a GCC user would need it: arm-none-eabi-gcc's (and newlib's)
     * enum size, and unaligned word loads on Armv7-M and Armv8-M mainline,
     * which GCC allows and the int8 kernels rely on for speed (Clang's
     * bare-metal default, strict alignment, turns each 4-byte memcpy into
     * four LDRB). */
    if (clang) args_add(&a, "-fshort-enums");
    if (clang && t->core != MCO_CORE_M0 && t->core != MCO_CORE_M0PLUS) args_add(&a, "-munaligned-access");
    if (marks) {
        args_add(&a, "-include");
        args_addf(&a, "%s/mco_layer_mark.h", firmware_dir(req));
    }
    /* the arena in the region the placement chose (the model is "model") */
    if (arena_section[0]) args_addf(&a, "-DMODEL_ARENA_SECTION=__attribute__((section(\"%s\")))", arena_section);
    args_add(&a, "-c");
    args_add(&a, src);
    args_add(&a, "-o");
    args_add(&a, obj);
    snprintf(what, sizeof what, "model build (%s %s)", clang ? "clang" : "arm-none-eabi-gcc", request_opt(req));
    mco_status st = run_build_step(&a, what, log_path);
    args_free(&a);
    return st;
}

/* Appends dir/ *.c (sorted, so that the build does not depend on the
 * directory order) to `list`. */
static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static mco_status add_c_files(arg_list *list, const char *dir, int required)
{
    DIR *d = opendir(dir);
    if (!d) return required ? mco_error(MCO_ERR_IO, "%s: %s", dir, strerror(errno)) : MCO_OK;
    int first = list->n;
    struct dirent *e;
    char path[4200];
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len > 2 && e->d_name[0] != '.' && strcmp(e->d_name + len - 2, ".c") == 0) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            args_add(list, path);
        }
    }
    closedir(d);
    qsort(list->v + first, (size_t)(list->n - first), sizeof list->v[0], compare_names);
    return MCO_OK;
}

/* Compiles every model_dir/ *.c and model_dir/mcuopt_runtime/ *.c file
 * (not example/) and the request's extra sources into
 * dir/subdir/ (object i named i-<source>.o, so two extra sources may share
 * a name) and appends the objects to `objects`; fails if there is no
 * model.h. `arena_section` (not ""): the section the arena goes to. */
static mco_status compile_model(const mco_target_profile *t, const mco_measure_request *req, const char *dir,
                                const char *subdir, int marks, const char *arena_section, arg_list *objects)
{
    char path[4200], obj[4200], log_path[4200], sysroot[4096] = "";
    snprintf(path, sizeof path, "%s/model.h", req->model_dir);
    if (!file_exists(path))
        return mco_error(MCO_ERR_NOT_FOUND, "%s: no model.h (not an emitted model directory?)", req->model_dir);
    for (const char *const *src = req->extra_sources; src && *src; src++)
        if (!file_exists(*src)) return mco_error(MCO_ERR_NOT_FOUND, "%s: no such source file", *src);
    snprintf(log_path, sizeof log_path, "%s/build.log", dir);
    snprintf(obj, sizeof obj, "%s/%s", dir, subdir);
    if (mkdir(obj, 0755) != 0 && errno != EEXIST) return mco_error(MCO_ERR_IO, "%s: %s", obj, strerror(errno));
    mco_status st = req->cc == MCO_CC_CLANG ? newlib_sysroot(log_path, sysroot, sizeof sysroot) : MCO_OK;
    if (st != MCO_OK) return st;

    arg_list sources = {0};
    st = add_c_files(&sources, req->model_dir, 1);
    snprintf(path, sizeof path, "%s/%s", req->model_dir, PACKAGE_RUNTIME_DIR);
    if (st == MCO_OK && file_exists(path)) st = add_c_files(&sources, path, 1);
    if (st != MCO_OK) {
        args_free(&sources);
        return st;
    }
    if (sources.n == 0) {
        args_free(&sources);
        return mco_error(MCO_ERR_NOT_FOUND, "%s: no .c files", req->model_dir);
    }
    for (const char *const *src = req->extra_sources; src && *src; src++) args_add(&sources, *src);
    if (sources.overflow) st = mco_error(MCO_ERR_RANGE, "model build: too many source files");
    for (int i = 0; st == MCO_OK && i < sources.n; i++) {
        const char *base = strrchr(sources.v[i], '/');
        base = base ? base + 1 : sources.v[i];
        snprintf(obj, sizeof obj, "%s/%s/%d-%.*s.o", dir, subdir, i, (int)(strlen(base) - 2), base);
        st = compile_model_source(t, req, sysroot, marks, arena_section, sources.v[i], obj, log_path);
        args_add(objects, obj);
    }
    args_free(&sources);
    return st;
}

/* Clang's objects carry a non-executable-stack note that newlib's lack,
 * which makes the linker warn: say so explicitly (no effect on the code). */
static void add_link_notes(arg_list *a, const mco_measure_request *req)
{
    if (req->cc == MCO_CC_CLANG) args_add(a, "-Wl,-z,noexecstack");
}

static mco_status build_firmware(const mco_target_profile *t, const mco_measure_request *req, const char *dir,
                                 const arg_list *objects, const char *layout_ld)
{
    const char *fw = firmware_dir(req);
    char path[4200], log_path[4200], defs[64];
    snprintf(log_path, sizeof log_path, "%s/build.log", dir);
    snprintf(path, sizeof path, "%s/test_vectors.c", dir);
    mco_status st = write_test_vectors(path, req);
    if (st != MCO_OK) return st;

    arg_list a = {0};
    args_add(&a, "arm-none-eabi-gcc");
    add_common_cflags(&a, t, req->model_dir, 0, "-O2");
    add_extra_include_dirs(&a, req);
    if (!req->no_layer_marks) {
        args_add(&a, "-include");
        args_addf(&a, "%s/mco_layer_mark.h", fw);
    }
    snprintf(defs, sizeof defs, "-DMCO_N_INPUTS=%d", req->n_inputs);
    args_add(&a, defs);
    snprintf(defs, sizeof defs, "-DMCO_INPUT_BYTES=%zu", req->input_bytes);
    args_add(&a, defs);
    snprintf(defs, sizeof defs, "-DMCO_OUTPUT_BYTES=%zu", req->output_bytes);
    args_add(&a, defs);
    if (req->pcm) args_add(&a, "-DMCO_HARNESS_PCM");
    args_addf(&a, "%s/startup.c", fw);
    args_addf(&a, "%s/harness_main.c", fw);
    args_add(&a, path);
    for (int i = 0; i < objects->n; i++) args_add(&a, objects->v[i]);
    args_add(&a, "--specs=nano.specs");
    args_add(&a, "--specs=rdimon.specs");
    args_add(&a, "-nostartfiles");
    args_add(&a, "-Wl,--gc-sections");
    add_link_notes(&a, req);
    args_addf(&a, "-L%s/ld", fw);
    if (layout_ld[0]) snprintf(path, sizeof path, "-T%s", layout_ld);
    else snprintf(path, sizeof path, "-T%s/ld/%s.ld", fw, t->qemu_machine);
    args_add(&a, path);
    args_addf(&a, "-o%s/fw.elf", dir);
    args_add(&a, "-lm");
    st = run_build_step(&a, "firmware build (arm-none-eabi-gcc)", log_path);
    args_free(&a);
    return st;
}

static mco_status build_model_only(const mco_target_profile *t, const mco_measure_request *req, const char *dir,
                                   const arg_list *objects, mco_measure_result *res)
{
    const char *fw = firmware_dir(req);
    char path[4200], log_path[4200], elf[4200];
    snprintf(log_path, sizeof log_path, "%s/build.log", dir);
    snprintf(elf, sizeof elf, "%s/model.elf", dir);
    arg_list a = {0};
    args_add(&a, "arm-none-eabi-gcc");
    add_cpu_flags(&a, t, 0);   /* picks newlib's and libgcc's build for the core */
    for (int i = 0; i < objects->n; i++) args_add(&a, objects->v[i]);
    args_add(&a, "--specs=nano.specs");
    args_add(&a, "--specs=nosys.specs");
    args_add(&a, "-nostartfiles");
    args_add(&a, "-Wl,--gc-sections");
    args_add(&a, req->pcm ? "-Wl,-e,model_run_pcm" : "-Wl,-e,model_run");
    add_link_notes(&a, req);
    args_addf(&a, "-L%s/ld", fw);
    snprintf(path, sizeof path, "-T%s/ld/%s.ld", fw, t->qemu_machine);
    args_add(&a, path);
    args_add(&a, "-o");
    args_add(&a, elf);
    args_add(&a, "-lm");
    mco_status st = run_build_step(&a, "model-only link for sizes (arm-none-eabi-gcc)", log_path);
    args_free(&a);
    size_t text = 0, data = 0, bss = 0;
    if (st == MCO_OK) st = model_sizes(elf, log_path, &text, &data, &bss);
    if (st == MCO_OK) {
        res->flash_bytes = text + data;
        res->static_ram_bytes = data + bss;
    }
    return st;
}

/* For a profile with several RAM regions: the layout linker script in dir
 * (mco_target_write_layout) and the section of the region the static RAM
 * is placed in ("" for the default region, or when it fits nowhere: the
 * link then says the RAM overflowed). One region: "" for both. */
static mco_status plan_layout(const mco_target_profile *t, const mco_measure_request *req, const char *dir,
                              mco_measure_result *res, char *layout_ld, size_t ld_size, const char **section)
{
    layout_ld[0] = '\0';
    *section = "";
    if (t->n_ram_regions < 2) return MCO_OK;
    char machine_ld[4200];
    snprintf(machine_ld, sizeof machine_ld, "%s/ld/%s.ld", firmware_dir(req), t->qemu_machine);
    snprintf(layout_ld, ld_size, "%s/layout.ld", dir);
    mco_status st = mco_target_write_layout(t, machine_ld, layout_ld, res->ram_layout, sizeof res->ram_layout);
    mco_ram_placement pl;
    if (st != MCO_OK || !mco_target_place_ram(t, res->static_ram_bytes, 0, &pl)) return st;
    *section = t->ram_regions[pl.static_region].section;
    const char *default_region = t->ram_regions[0].name;
    for (int i = 0; i < t->n_ram_regions; i++)
        if (!t->ram_regions[i].section[0]) default_region = t->ram_regions[i].name;
    size_t used = strlen(res->ram_layout);
    snprintf(res->ram_layout + used, sizeof res->ram_layout - used,
             "; the arena in %s, the stack in %s (the firmware's default region)",
             t->ram_regions[pl.static_region].name, default_region);
    return st;
}

/* Step 2 and 3: the model compiled once without the layer marks for its
 * size, then (with the marks, or with the arena in a region of its own)
 * for the firmware, which is linked with the profile's regions. */
static mco_status build_all(const mco_target_profile *t, const mco_measure_request *req, const char *dir,
                            mco_measure_result *res)
{
    arg_list fw_objects = {0}, size_objects = {0};
    char layout_ld[4200];
    const char *section = "";
    mco_status st = compile_model(t, req, dir, "obj", 0, "", &size_objects);
    if (st == MCO_OK) st = build_model_only(t, req, dir, &size_objects, res);
    if (st == MCO_OK) st = plan_layout(t, req, dir, res, layout_ld, sizeof layout_ld, &section);
    int own_objects = !req->no_layer_marks || section[0];
    if (st == MCO_OK && own_objects)
        st = compile_model(t, req, dir, "obj-fw", !req->no_layer_marks, section, &fw_objects);
    if (st == MCO_OK) st = build_firmware(t, req, dir, own_objects ? &fw_objects : &size_objects, layout_ld);
    args_free(&fw_objects);
    args_free(&size_objects);
    return st;
}

static mco_status build_plugin(const mco_measure_request *req, const char *dir, char *so_path, size_t cap)
{
    char src[4200], log_path[4200];
    snprintf(src, sizeof src, "%s/plugin/mco_insn_profile.c", firmware_dir(req));
    snprintf(log_path, sizeof log_path, "%s/build.log", dir);
    snprintf(so_path, cap, "%s/mco_insn_profile.so", dir);
    arg_list a = {0};
    args_add(&a, "gcc");
    args_add(&a, "-shared");
    args_add(&a, "-fPIC");
    args_add(&a, "-O2");
    args_add(&a, "-o");
    args_add(&a, so_path);
    args_add(&a, src);
    mco_status st = run_build_step(&a, "QEMU plugin build (host gcc)", log_path);
    args_free(&a);
    return st;
}

static mco_status measure_in(const mco_target_profile *t, const mco_measure_request *req, const char *dir,
                             mco_measure_result *res)
{
    mco_context_log(req->ctx, MCO_LOG_DEBUG, "measure: building the firmware for %s in %s (firmware from %s)",
                    t->qemu_machine, dir, firmware_dir(req));
    mco_status st = build_all(t, req, dir, res);
    char so_path[4200], elf[4200], log_path[4200];
    snprintf(elf, sizeof elf, "%s/fw.elf", dir);
    snprintf(log_path, sizeof log_path, "%s/tools.log", dir);
    if (st == MCO_OK) st = build_plugin(req, dir, so_path, sizeof so_path);
    uint64_t begin = 0, end = 0;
    if (st == MCO_OK) st = marker_addresses(elf, log_path, &begin, &end);
    uint64_t marks[MCO_MEASURE_MAX_LAYERS + 1];
    int n_marks = 0;
    if (st == MCO_OK) st = read_layer_marks(dir, log_path, marks, &n_marks);
    if (st == MCO_OK) {
        char plugin_arg[17000];
        int len = snprintf(plugin_arg, sizeof plugin_arg,
                           "%s,begin=0x%" PRIx64 ",end=0x%" PRIx64 ",out=%s/counts.txt", so_path, begin, end, dir);
        if (n_marks > 0) {
            char marks_path[4200];
            snprintf(marks_path, sizeof marks_path, "%s/marks.txt", dir);
            st = write_marks_file(marks_path, marks, n_marks);
            snprintf(plugin_arg + len, sizeof plugin_arg - (size_t)len, ",marks=%s,layers=%s/layers.txt", marks_path,
                     dir);
        }
        if (strchr(dir, ',')) return mco_error(MCO_ERR_ARG, "work directory %s: must not contain a comma", dir);
        if (st == MCO_OK) {
            mco_context_log(req->ctx, MCO_LOG_DEBUG, "measure: running %d inputs on qemu-system-arm -M %s",
                            req->n_inputs, t->qemu_machine);
            st = run_qemu(t, dir, plugin_arg, req->timeout_s > 0 ? req->timeout_s : DEFAULT_QEMU_TIMEOUT_S);
        }
    }
    if (st == MCO_OK) {
        snprintf(log_path, sizeof log_path, "%s/run.log", dir);
        st = parse_harness_output(log_path, req, res);
    }
    mco_insn_count *counts = NULL;
    size_t n_counts = 0;
    if (st == MCO_OK) {
        snprintf(log_path, sizeof log_path, "%s/counts.txt", dir);
        st = parse_counts(log_path, req->n_inputs, res, &counts, &n_counts);
    }
    if (st == MCO_OK && is_armv6m_core(t->core)) st = check_instruction_set(t, dir, counts, n_counts);
    segment_counts *segs = NULL;
    if (st == MCO_OK && n_marks > 0) {
        segs = calloc((size_t)n_marks + 1, sizeof *segs);
        snprintf(log_path, sizeof log_path, "%s/layers.txt", dir);
        int all_ran = 0;
        st = segs ? parse_layer_counts(log_path, req->n_inputs, n_marks, counts, n_counts, segs, &all_ran)
                  : mco_error(MCO_ERR_NOMEM, "out of memory");
        /* With wrong outputs (model_run may have stopped half way) the
         * totals are still reported, only the split is dropped. */
        if (st == MCO_OK && !all_ran && res->n_mismatch == 0)
            st = mco_error(MCO_ERR_FORMAT, "%s: a layer mark did not run once per inference", log_path);
        if (st == MCO_OK && !all_ran) {
            free_segments(segs, n_marks + 1);
            segs = NULL;
            n_marks = 0;
        }
    }
    if (st == MCO_OK) st = estimate_cycles(t, dir, counts, n_counts, segs, n_marks, req->n_inputs, res);
    if (st == MCO_OK && is_armv6m_core(t->core)) {
        size_t used = strlen(res->note);
        snprintf(res->note + used, sizeof res->note - used, "; every instruction that ran is ARMv6-M (checked)");
    }
    free_segments(segs, n_marks + 1);
    free(counts);
    return st;
}

mco_status mco_target_measure(const mco_target_profile *t, const mco_measure_request *req, mco_measure_result *res)
{
    if (!res) return mco_error(MCO_ERR_ARG, "measure: NULL result");
    memset(res, 0, sizeof *res);
    res->first_mismatch = -1;
    for (int k = 0; k < MCO_MEASURE_MAX_LAYERS; k++)
        res->layers[k].op_kind = res->layers[k].first_layer = res->layers[k].last_layer = -1;
    mco_status st = check_request(t, req);
    if (st != MCO_OK) return st;

    char dir[4096];
    int temporary = req->work_dir == NULL;
    if (temporary) {
        if ((st = mco_context_make_temp_dir(req->ctx, "measure", dir, sizeof dir)) != MCO_OK) return st;
    } else {
        snprintf(dir, sizeof dir, "%s", req->work_dir);
        if (mkdir(dir, 0755) != 0 && errno != EEXIST) return mco_error(MCO_ERR_IO, "%s: %s", dir, strerror(errno));
        char stale[4200];
        snprintf(stale, sizeof stale, "%s/counts.txt", dir);
        unlink(stale);
        snprintf(stale, sizeof stale, "%s/run.log", dir);
        unlink(stale);
        snprintf(stale, sizeof stale, "%s/build.log", dir);
        unlink(stale);
        snprintf(stale, sizeof stale, "%s/layers.txt", dir);
        unlink(stale);
        snprintf(stale, sizeof stale, "%s/marks.txt", dir);
        unlink(stale);
    }

    res->n_inputs = req->n_inputs;
    snprintf(res->qemu_machine, sizeof res->qemu_machine, "%s", t->qemu_machine);
    snprintf(res->build, sizeof res->build, "%s %s", mco_cc_name(req->cc), request_opt(req));
    st = measure_in(t, req, dir, res);
    if (temporary) mco_remove_tree(dir);
    if (st != MCO_OK) return st;

    res->clock_mhz = req->clock_mhz > 0 ? req->clock_mhz : t->clock_mhz;
    res->latency_ms = res->cycles_est / (res->clock_mhz * 1000.0);
    /* uA/MHz x MHz = uA; x V x seconds = uJ * 1e-6 ... the clock cancels. */
    res->energy_uj = t->active_ua_per_mhz * t->voltage * res->cycles_est * 1e-6;
    res->ram_bytes = res->static_ram_bytes + res->stack_bytes;
    res->fits_flash = res->flash_bytes <= (size_t)t->flash_kb * 1024;
    res->fits_ram = mco_target_place_ram(t, res->static_ram_bytes, res->stack_bytes, &res->ram_placement);
    return MCO_OK;
}
