/*
 * mco_insn_profile.c - a QEMU TCG plugin that counts, per guest instruction
 * address, how often each instruction executes while a measurement window is
 * open, and optionally splits the counts by layer. mcuopt compiles it with
 * the host gcc at measure time (gcc -shared -fPIC) and loads it into
 * qemu-system-arm 7.2:
 *
 *   -plugin mco_insn_profile.so,begin=0x1a4,end=0x1a8,out=counts.txt[,marks=marks.txt,layers=layers.txt] -d plugin
 *
 * begin/end are the addresses of the firmware's noinline marker functions
 * mco_measure_begin() and mco_measure_end(). Executing the first instruction
 * of mco_measure_begin opens a window, executing the first instruction of
 * mco_measure_end closes it. Counted are the instructions from begin's first
 * instruction up to (not including) end's first instruction: that is the
 * model_run call plus a constant handful of instructions of the harness.
 *
 * The output file gets one line "window <index> <instructions>" per closed
 * window, then one line "<address hex> <count>" per instruction address
 * executed inside any window (summed over all windows), and "<address hex> 0"
 * per address executed only outside the windows (start-up, harness, stdio),
 * so that mcuopt can check the instruction set of everything that ran.
 *
 * Layers (optional): marks= names a file of instruction addresses, one hex
 * address per line, in order: the places where each op of model_run begins
 * (and, last, where the ops end), recorded by the measurement build's layer
 * marks (firmware/mco_layer_mark.h). They cut each window into segments:
 * segment 0 runs from the window's start to the first mark, segment i from
 * mark i-1 to mark i, the last from the last mark to the window's end; a
 * segment starts with the first instruction at its mark. The file named by
 * layers= then gets one line "hits <mark index> <times executed in windows>"
 * per mark and one line "seg <segment> <address hex> <count>" per address
 * executed in a segment (summed over all windows), so per segment the counts
 * add up to the window totals.
 *
 * Left out: multi-vCPU guests (the counters are not atomic; our firmware runs
 * on one core) and anything about time or cycles (see src/target/cycles.c).
 *
 * Debian ships no qemu-plugin.h, so the few declarations of the QEMU 7.2
 * plugin API (version 1) used here are written out below.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the part of QEMU 7.2 include/qemu/qemu-plugin.h that we use ---- */
#define QEMU_PLUGIN_EXPORT __attribute__((visibility("default")))
typedef uint64_t qemu_plugin_id_t;
typedef struct {
    const char *target_name;
    struct {
        int min;
        int cur;
    } version;
    bool system_emulation;
    union {
        struct {
            int smp_vcpus;
            int max_vcpus;
        } system;
    };
} qemu_info_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn, qemu_plugin_vcpu_udata_cb_t cb,
                                            enum qemu_plugin_cb_flags flags, void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);
void qemu_plugin_outs(const char *string);
/* ---------------------------------------------------------------------- */

QEMU_PLUGIN_EXPORT int qemu_plugin_version = 1;

/* One record per distinct instruction address, kept in an open-addressing
 * hash table so a retranslated block reuses its address's counter. */
typedef struct {
    uint64_t addr;
    uint64_t count;           /* executions inside windows */
    uint64_t *segment_counts; /* [n_segments], allocated when first counted (layers only) */
    int mark;                 /* 1 + index of the layer mark at this address, 0 if none */
    bool used;
    bool ran;                 /* executed at all */
} insn_record;

static insn_record *records;
static size_t records_cap; /* power of two, fixed: records never move */
static size_t records_used;
static uint64_t begin_addr, end_addr;
static bool window_open;
static uint64_t window_count;
static uint64_t *window_totals;
static size_t n_windows, windows_cap;
static char out_path[4096];

#define MAX_MARKS 1024
static uint64_t mark_addrs[MAX_MARKS];
static uint64_t mark_hits[MAX_MARKS];
static size_t n_marks;        /* 0: no layer split */
static size_t n_segments;     /* n_marks + 1 */
static size_t segment;        /* the segment being counted */
static char layers_path[4096];

static insn_record *record_for(uint64_t addr)
{
    size_t i = (size_t)(addr >> 1) & (records_cap - 1);
    while (records[i].used && records[i].addr != addr) i = (i + 1) & (records_cap - 1);
    if (!records[i].used) {
        if (records_used + 1 >= records_cap / 2) {
            qemu_plugin_outs("mco_insn_profile: too many distinct instruction addresses\n");
            abort();
        }
        records[i].used = true;
        records[i].addr = addr;
        records_used++;
    }
    return &records[i];
}

static void on_insn(unsigned int vcpu, void *userdata)
{
    (void)vcpu;
    insn_record *rec = userdata;
    rec->ran = true;
    if (window_open) {
        rec->count++;
        window_count++;
        if (n_segments) {
            if (!rec->segment_counts) {
                rec->segment_counts = calloc(n_segments, sizeof *rec->segment_counts);
                if (!rec->segment_counts) abort();
            }
            rec->segment_counts[segment]++;
        }
    }
}

static void on_begin(unsigned int vcpu, void *userdata)
{
    window_open = true;
    window_count = 0;
    segment = 0;
    on_insn(vcpu, userdata);
}

/* A layer mark: from here on the counts go to the segment after it. */
static void on_mark(unsigned int vcpu, void *userdata)
{
    insn_record *rec = userdata;
    if (window_open) {
        segment = (size_t)rec->mark;
        mark_hits[rec->mark - 1]++;
    }
    on_insn(vcpu, userdata);
}

static void on_end(unsigned int vcpu, void *userdata)
{
    (void)vcpu;
    ((insn_record *)userdata)->ran = true;
    if (!window_open) return;
    window_open = false;
    if (n_windows == windows_cap) {
        windows_cap = windows_cap ? windows_cap * 2 : 64;
        window_totals = realloc(window_totals, windows_cap * sizeof *window_totals);
        if (!window_totals) abort();
    }
    window_totals[n_windows++] = window_count;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    size_t n = qemu_plugin_tb_n_insns(tb);
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uint64_t addr = qemu_plugin_insn_vaddr(insn);
        insn_record *rec = record_for(addr);
        qemu_plugin_vcpu_udata_cb_t cb = on_insn;
        if (addr == begin_addr) cb = on_begin;
        else if (addr == end_addr) cb = on_end;
        else if (rec->mark) cb = on_mark;
        qemu_plugin_register_vcpu_insn_exec_cb(insn, cb, QEMU_PLUGIN_CB_NO_REGS, rec);
    }
}

static void on_qemu_exit(qemu_plugin_id_t id, void *userdata)
{
    (void)id;
    (void)userdata;
    FILE *f = fopen(out_path, "w");
    if (!f) {
        qemu_plugin_outs("mco_insn_profile: cannot write the output file\n");
        return;
    }
    for (size_t i = 0; i < n_windows; i++) fprintf(f, "window %zu %" PRIu64 "\n", i, window_totals[i]);
    for (size_t i = 0; i < records_cap; i++)
        if (records[i].used && records[i].ran) fprintf(f, "%" PRIx64 " %" PRIu64 "\n", records[i].addr, records[i].count);
    fclose(f);
    if (!n_marks) return;
    f = fopen(layers_path, "w");
    if (!f) {
        qemu_plugin_outs("mco_insn_profile: cannot write the layers file\n");
        return;
    }
    for (size_t m = 0; m < n_marks; m++) fprintf(f, "hits %zu %" PRIu64 "\n", m, mark_hits[m]);
    for (size_t s = 0; s < n_segments; s++)
        for (size_t i = 0; i < records_cap; i++)
            if (records[i].used && records[i].segment_counts && records[i].segment_counts[s])
                fprintf(f, "seg %zu %" PRIx64 " %" PRIu64 "\n", s, records[i].addr, records[i].segment_counts[s]);
    fclose(f);
}

/* Reads the marks file: one hex address per line. */
static int read_marks(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    unsigned long long addr;
    while (fscanf(f, "%llx", &addr) == 1) {
        if (n_marks == MAX_MARKS) {
            fclose(f);
            return -1;
        }
        mark_addrs[n_marks++] = addr & ~1ull;
    }
    int ok = feof(f);
    fclose(f);
    return ok ? 0 : -1;
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
    (void)info;
    bool have_begin = false, have_end = false;
    const char *marks_path = NULL;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (strncmp(arg, "begin=", 6) == 0) {
            begin_addr = strtoull(arg + 6, NULL, 0) & ~1ull;
            have_begin = true;
        } else if (strncmp(arg, "end=", 4) == 0) {
            end_addr = strtoull(arg + 4, NULL, 0) & ~1ull;
            have_end = true;
        } else if (strncmp(arg, "out=", 4) == 0) {
            snprintf(out_path, sizeof out_path, "%s", arg + 4);
        } else if (strncmp(arg, "marks=", 6) == 0) {
            marks_path = arg + 6;
        } else if (strncmp(arg, "layers=", 7) == 0) {
            snprintf(layers_path, sizeof layers_path, "%s", arg + 7);
        } else {
            qemu_plugin_outs("mco_insn_profile: unknown argument (want begin=, end=, out=, marks=, layers=)\n");
            return -1;
        }
    }
    if (!have_begin || !have_end || !out_path[0]) {
        qemu_plugin_outs("mco_insn_profile: begin=, end= and out= are required\n");
        return -1;
    }
    if (!marks_path != !layers_path[0]) {
        qemu_plugin_outs("mco_insn_profile: marks= and layers= go together\n");
        return -1;
    }
    if (marks_path && read_marks(marks_path) != 0) {
        qemu_plugin_outs("mco_insn_profile: cannot read the marks file (hex addresses, at most 1024)\n");
        return -1;
    }
    n_segments = n_marks ? n_marks + 1 : 0;
    records_cap = 1u << 19;
    records = calloc(records_cap, sizeof *records);
    if (!records) return -1;
    for (size_t m = 0; m < n_marks; m++) {
        insn_record *rec = record_for(mark_addrs[m]);
        if (rec->mark) {
            qemu_plugin_outs("mco_insn_profile: two layer marks at one address\n");
            return -1;
        }
        rec->mark = (int)m + 1;
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, on_qemu_exit, NULL);
    return 0;
}
