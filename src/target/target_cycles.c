/*
 * target_cycles.c - reads the QEMU plugin's per-address instruction
 * counts (mco_read_insn_counts) and estimates Cortex-M cycles from them:
 * each executed instruction is looked up in the
 * objdump disassembly of the firmware, classified (ALU, load, multiply,
 * branch, FP, ...) and charged the cycles a per-core timing table gives it.
 *
 * The tables follow the instruction timing sections of the Cortex-M0+, M3,
 * M4 and M7 technical reference manuals, with one number where the manual
 * gives a range (noted in the table). Refinements applied:
 *   - a load/store directly after another load/store (no branch between)
 *     costs the pipelined figure (M3/M4/M33: 1 instead of 2);
 *   - a conditional branch is split into taken / not taken from the counts:
 *     not taken = min(count(branch), count(next instruction)), the rest taken;
 *   - LDM/STM/PUSH/POP and VLDM/VSTM/VPUSH/VPOP cost 1 + number of words,
 *     plus a pipeline refill when PC is loaded;
 *   - M3/M4: an IT instruction directly after a 16-bit instruction costs
 *     nothing (IT folding, on by default: ACTLR.DISFOLD = 0), else 1.
 * Not modelled, so absolute figures are estimates: flash wait states and
 * prefetch/ART/XIP caches, bus contention, unaligned accesses (split into
 * two bus transfers), data-dependent early-out of multiply/divide, M7 dual
 * issue, caches and branch prediction, register dependencies. Ratios
 * between two builds measured the same way are much more reliable than the
 * absolute number.
 */
#include "mcuopt/target_cycles.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcuopt/file_io.h"

mco_status mco_read_insn_counts(const char *path, mco_insn_count **counts, size_t *n_counts,
                                mco_insn_windows *windows)
{
    char *text = NULL;
    *counts = NULL;
    *n_counts = 0;
    *windows = (mco_insn_windows){0, 0, 0, 0};
    mco_status st = mco_read_text_file(path, MCO_READ_GENERATED_MAX, &text);
    if (st != MCO_OK) return st;
    size_t cap = 1024, n = 0;
    mco_insn_count *list = malloc(cap * sizeof *list);
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); list && line; line = strtok_r(NULL, "\n", &save)) {
        unsigned long long a, b;
        if (sscanf(line, "window %llu %llu", &a, &b) == 2) {
            if (windows->n == 0 || b < windows->min) windows->min = b;
            if (windows->n == 0 || b > windows->max) windows->max = b;
            windows->sum += b;
            windows->n++;
        } else if (sscanf(line, "%llx %llu", &a, &b) == 2) {
            if (n == cap) {
                mco_insn_count *bigger = realloc(list, 2 * cap * sizeof *list);
                if (!bigger) {
                    free(list);
                    list = NULL;
                    break;
                }
                list = bigger;
                cap *= 2;
            }
            list[n].addr = a;
            list[n].count = b;
            n++;
        }
    }
    free(text);
    if (!list) return mco_error(MCO_ERR_NOMEM, "%s: out of memory", path);
    *counts = list;
    *n_counts = n;
    return MCO_OK;
}

typedef struct {
    double alu, mul, mla, long_mul, long_mla, dsp_mac, div;
    double load, store, load_store_pipelined, load_store_double;
    double multi_base, multi_per_word; /* LDM/STM/PUSH/POP: base + words * per_word */
    double branch_not_taken, branch_taken, call, pc_load_refill;
    double fp_alu, fp_mac, fp_div, fp_load, fp_mov;
    int pipelined_loads; /* 1 if back-to-back loads/stores overlap */
    int it_folding;      /* 1 if an IT after a 16-bit instruction costs nothing */
} core_timing;

/* Cortex-M0+ (2-stage pipeline): loads/stores 2, single-cycle multiplier
 * (the usual build option), taken branch 2, BL 3, POP {pc} 3+N. No divide or
 * FP instructions exist: the compiler calls library routines, which are
 * counted instruction by instruction. */
static const core_timing timing_m0plus = {
    .alu = 1, .mul = 1, .mla = 1, .long_mul = 1, .long_mla = 1, .dsp_mac = 1, .div = 1,
    .load = 2, .store = 2, .load_store_pipelined = 2, .load_store_double = 4,
    .multi_base = 1, .multi_per_word = 1,
    .branch_not_taken = 1, .branch_taken = 2, .call = 3, .pc_load_refill = 2,
    .fp_alu = 1, .fp_mac = 1, .fp_div = 1, .fp_load = 2, .fp_mov = 1, .pipelined_loads = 0,
};

/* Cortex-M0 (3-stage pipeline): like M0+ but taken branch 3, BL 4. */
static const core_timing timing_m0 = {
    .alu = 1, .mul = 1, .mla = 1, .long_mul = 1, .long_mla = 1, .dsp_mac = 1, .div = 1,
    .load = 2, .store = 2, .load_store_pipelined = 2, .load_store_double = 4,
    .multi_base = 1, .multi_per_word = 1,
    .branch_not_taken = 1, .branch_taken = 3, .call = 4, .pc_load_refill = 3,
    .fp_alu = 1, .fp_mac = 1, .fp_div = 1, .fp_load = 2, .fp_mov = 1, .pipelined_loads = 0,
};

/* Cortex-M3: MLA 2, UMULL/SMULL 3..5 (4), UMLAL/SMLAL 4..7 (5), SDIV 2..12
 * (7), LDR/STR 2 or 1 pipelined, LDRD 3, taken branch 1 + refill 1..3 (2). */
static const core_timing timing_m3 = {
    .alu = 1, .mul = 1, .mla = 2, .long_mul = 4, .long_mla = 5, .dsp_mac = 1, .div = 7,
    .load = 2, .store = 2, .load_store_pipelined = 1, .load_store_double = 3,
    .multi_base = 1, .multi_per_word = 1,
    .branch_not_taken = 1, .branch_taken = 3, .call = 3, .pc_load_refill = 2,
    .fp_alu = 1, .fp_mac = 1, .fp_div = 1, .fp_load = 2, .fp_mov = 1, .pipelined_loads = 1,
    .it_folding = 1,
};

/* Cortex-M4 (and used for M33/M55, same 3-stage in-order class): single-cycle
 * MAC/long MAC/DSP, SDIV 2..12 (7), VMLA/VFMA 3, VDIV/VSQRT 14, VLDR 2. */
static const core_timing timing_m4 = {
    .alu = 1, .mul = 1, .mla = 1, .long_mul = 1, .long_mla = 1, .dsp_mac = 1, .div = 7,
    .load = 2, .store = 2, .load_store_pipelined = 1, .load_store_double = 3,
    .multi_base = 1, .multi_per_word = 1,
    .branch_not_taken = 1, .branch_taken = 3, .call = 3, .pc_load_refill = 2,
    .fp_alu = 1, .fp_mac = 3, .fp_div = 14, .fp_load = 2, .fp_mov = 1, .pipelined_loads = 1,
    .it_folding = 1,
};

/* Cortex-M7 (6-stage, dual issue, branch predictor, caches): counted as a
 * single-issue core with 1-cycle loads from TCM/cache, LDM two words per
 * cycle and a 2-cycle taken branch. Dual issue would lower it, cache misses
 * and mispredictions raise it. */
static const core_timing timing_m7 = {
    .alu = 1, .mul = 1, .mla = 1, .long_mul = 1, .long_mla = 1, .dsp_mac = 1, .div = 7,
    .load = 1, .store = 1, .load_store_pipelined = 1, .load_store_double = 1,
    .multi_base = 1, .multi_per_word = 0.5,
    .branch_not_taken = 1, .branch_taken = 2, .call = 2, .pc_load_refill = 2,
    .fp_alu = 1, .fp_mac = 1, .fp_div = 14, .fp_load = 1, .fp_mov = 1, .pipelined_loads = 1,
};

static const core_timing *timing_for(mco_core core)
{
    switch (core) {
    case MCO_CORE_M0: return &timing_m0;
    case MCO_CORE_M0PLUS: return &timing_m0plus;
    case MCO_CORE_M3: return &timing_m3;
    case MCO_CORE_M7: return &timing_m7;
    case MCO_CORE_M4:
    case MCO_CORE_M4F:
    case MCO_CORE_M33:
    case MCO_CORE_M55: return &timing_m4;
    }
    return &timing_m4;
}

const char *mco_cycle_model_note(mco_core core)
{
    switch (core) {
    case MCO_CORE_M0:
    case MCO_CORE_M0PLUS:
        return "cycles estimated from exact instruction counts with Cortex-M0/M0+ TRM timings "
               "(1-cycle multiplier assumed); not modelled: flash wait states, bus contention";
    case MCO_CORE_M7:
        return "cycles estimated from exact instruction counts as a single-issue Cortex-M7 with 1-cycle "
               "loads; not modelled: dual issue, caches, branch prediction, flash wait states";
    case MCO_CORE_M33:
    case MCO_CORE_M55:
        return "cycles estimated from exact instruction counts with Cortex-M4 TRM timings (as a stand-in); "
               "not modelled: flash wait states, bus contention, core differences";
    default:
        return "cycles estimated from exact instruction counts with Cortex-M3/M4 TRM timings; not modelled: "
               "flash wait states and flash caches, bus contention, unaligned accesses, register dependencies";
    }
}

/* ---- disassembly ---- */

typedef enum {
    CLS_ALU,
    CLS_MUL,
    CLS_MLA,
    CLS_LONG_MUL,
    CLS_LONG_MLA,
    CLS_DSP_MAC,
    CLS_DIV,
    CLS_LOAD,
    CLS_STORE,
    CLS_LOAD_STORE_DOUBLE,
    CLS_MULTI,       /* LDM/STM/PUSH/POP */
    CLS_BRANCH,      /* unconditional branch, BX, BLX reg */
    CLS_CALL,        /* BL / BLX label */
    CLS_COND_BRANCH, /* B<cond>, CBZ, CBNZ */
    CLS_TABLE_BRANCH,
    CLS_IT,          /* IT, ITT, ITE, ... */
    CLS_FP_ALU,
    CLS_FP_MAC,
    CLS_FP_DIV,
    CLS_FP_LOAD,
    CLS_FP_MULTI,
    CLS_FP_MOV
} insn_class;

typedef struct {
    uint64_t addr;
    insn_class cls;
    int words;     /* registers moved by CLS_MULTI / CLS_FP_MULTI, in 32-bit words */
    int loads_pc;  /* writes PC by a load (POP {pc}, LDM ... pc, LDR pc) */
} insn_info;

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int is_condition(const char *s)
{
    static const char *const conds[] = {"eq", "ne", "cs", "hs", "cc", "lo", "mi", "pl",
                                        "vs", "vc", "hi", "ls", "ge", "lt", "gt", "le"};
    for (size_t i = 0; i < sizeof conds / sizeof conds[0]; i++)
        if (strcmp(s, conds[i]) == 0) return 1;
    return 0;
}

/* Words moved by a register list "{r4, r5-r7, lr}" or "{s16-s31}" / "{d8-d9}". */
static int count_register_words(const char *operands, int *has_pc)
{
    *has_pc = 0;
    const char *p = strchr(operands, '{');
    if (!p) return 1;
    int words = 0;
    for (p++; *p && *p != '}';) {
        while (*p == ' ' || *p == ',') p++;
        char kind = *p;
        const char *tok = p;
        while (*p && *p != ',' && *p != '}') p++;
        int first = 0, last = 0;
        if (sscanf(tok + 1, "%d-%*c%d", &first, &last) == 2 && last >= first) {
            words += (last - first + 1) * (kind == 'd' ? 2 : 1);
        } else {
            words += kind == 'd' ? 2 : 1;
            if (starts_with(tok, "pc")) *has_pc = 1;
        }
    }
    return words > 0 ? words : 1;
}

/* Operand text mentions pc as the destination ("pc, [sp], #4" / "ldr pc, ..."). */
static int destination_is_pc(const char *operands)
{
    return starts_with(operands, "pc");
}

static insn_class classify(const char *mnemonic, const char *operands, int *words, int *loads_pc)
{
    char m[24];
    snprintf(m, sizeof m, "%s", mnemonic);
    char *dot = strchr(m, '.'); /* drop .n / .w / .f32 / .s32 ... */
    if (dot) *dot = '\0';
    *words = 1;
    *loads_pc = 0;

    if (m[0] == 'v') {
        if (starts_with(m, "vldm") || starts_with(m, "vstm") || strcmp(m, "vpush") == 0 || strcmp(m, "vpop") == 0) {
            int has_pc;
            *words = count_register_words(operands, &has_pc);
            return CLS_FP_MULTI;
        }
        if (strcmp(m, "vldr") == 0 || strcmp(m, "vstr") == 0) return CLS_FP_LOAD;
        if (starts_with(m, "vmla") || starts_with(m, "vmls") || starts_with(m, "vnml") || starts_with(m, "vfma") ||
            starts_with(m, "vfms") || starts_with(m, "vfnm"))
            return CLS_FP_MAC;
        if (starts_with(m, "vdiv") || starts_with(m, "vsqrt")) return CLS_FP_DIV;
        if (starts_with(m, "vmov") || starts_with(m, "vmrs") || starts_with(m, "vmsr")) return CLS_FP_MOV;
        return CLS_FP_ALU;
    }
    if (strcmp(m, "b") == 0 || strcmp(m, "bx") == 0) return CLS_BRANCH;
    if (strcmp(m, "bl") == 0 || strcmp(m, "blx") == 0) return CLS_CALL;
    if ((m[0] == 'b' && strlen(m) == 3 && is_condition(m + 1)) || strcmp(m, "cbz") == 0 || strcmp(m, "cbnz") == 0)
        return CLS_COND_BRANCH;
    if (strcmp(m, "tbb") == 0 || strcmp(m, "tbh") == 0) return CLS_TABLE_BRANCH;
    if (m[0] == 'i' && m[1] == 't' && strspn(m + 2, "te") == strlen(m + 2) && strlen(m) <= 5) return CLS_IT;
    if (strcmp(m, "push") == 0 || strcmp(m, "pop") == 0 || starts_with(m, "ldm") || starts_with(m, "stm")) {
        *words = count_register_words(operands, loads_pc);
        return CLS_MULTI;
    }
    if (starts_with(m, "ldrd") || starts_with(m, "strd")) return CLS_LOAD_STORE_DOUBLE;
    if (starts_with(m, "ldr") || starts_with(m, "lda")) {
        *loads_pc = destination_is_pc(operands);
        return CLS_LOAD;
    }
    if (starts_with(m, "str") || starts_with(m, "stl")) return CLS_STORE;
    if (strcmp(m, "sdiv") == 0 || strcmp(m, "udiv") == 0) return CLS_DIV;
    if (strcmp(m, "mul") == 0 || strcmp(m, "muls") == 0) return CLS_MUL;
    if (strcmp(m, "mla") == 0 || strcmp(m, "mls") == 0) return CLS_MLA;
    if (strcmp(m, "umull") == 0 || strcmp(m, "smull") == 0) return CLS_LONG_MUL;
    if (strcmp(m, "umlal") == 0 || strcmp(m, "smlal") == 0) return CLS_LONG_MLA;
    if (starts_with(m, "smla") || starts_with(m, "smul") || starts_with(m, "smua") || starts_with(m, "smus") ||
        starts_with(m, "smls") || starts_with(m, "smm") || starts_with(m, "umaal"))
        return CLS_DSP_MAC;
    return CLS_ALU;
}

static int is_load_store(insn_class cls)
{
    return cls == CLS_LOAD || cls == CLS_STORE || cls == CLS_FP_LOAD;
}

/* Parses one objdump line "    1a4:\tldr\tr3, [pc, #8]\t@ ..." into info;
 * returns 0 for lines that are not instructions. */
static int parse_disasm_line(const char *line, const char *line_end, insn_info *info)
{
    const char *p = line;
    while (p < line_end && *p == ' ') p++;
    char *after_addr;
    unsigned long long addr = strtoull(p, &after_addr, 16);
    if (after_addr == p || after_addr >= line_end || *after_addr != ':' || after_addr[1] != '\t') return 0;
    p = after_addr + 2;
    char mnemonic[24], operands[160];
    size_t n = 0;
    while (p < line_end && !isspace((unsigned char)*p) && n + 1 < sizeof mnemonic) mnemonic[n++] = *p++;
    mnemonic[n] = '\0';
    if (n == 0 || mnemonic[0] == '.') return 0; /* .word / .short literal data */
    while (p < line_end && isspace((unsigned char)*p)) p++;
    n = 0;
    while (p < line_end && *p != '\t' && *p != '@' && n + 1 < sizeof operands) operands[n++] = *p++;
    operands[n] = '\0';
    info->addr = addr;
    info->cls = classify(mnemonic, operands, &info->words, &info->loads_pc);
    return 1;
}

static int compare_counts(const void *a, const void *b)
{
    uint64_t x = ((const mco_insn_count *)a)->addr, y = ((const mco_insn_count *)b)->addr;
    return x < y ? -1 : x > y;
}

static uint64_t count_at(const mco_insn_count *sorted, size_t n, uint64_t addr)
{
    mco_insn_count key = {addr, 0};
    const mco_insn_count *hit = bsearch(&key, sorted, n, sizeof key, compare_counts);
    return hit ? hit->count : 0;
}

static double cycles_of(const core_timing *t, const insn_info *insn, int after_load_store)
{
    switch (insn->cls) {
    case CLS_ALU: return t->alu;
    case CLS_MUL: return t->mul;
    case CLS_MLA: return t->mla;
    case CLS_LONG_MUL: return t->long_mul;
    case CLS_LONG_MLA: return t->long_mla;
    case CLS_DSP_MAC: return t->dsp_mac;
    case CLS_DIV: return t->div;
    case CLS_LOAD:
    case CLS_STORE: {
        double base = insn->cls == CLS_LOAD ? t->load : t->store;
        if (after_load_store && t->pipelined_loads) base = t->load_store_pipelined;
        return base + (insn->loads_pc ? t->pc_load_refill : 0);
    }
    case CLS_LOAD_STORE_DOUBLE: return t->load_store_double;
    case CLS_MULTI: return t->multi_base + t->multi_per_word * insn->words + (insn->loads_pc ? t->pc_load_refill : 0);
    case CLS_BRANCH: return t->branch_taken;
    case CLS_CALL: return t->call;
    case CLS_COND_BRANCH: return t->branch_taken; /* split by the caller */
    case CLS_TABLE_BRANCH: return t->load + t->branch_taken;
    case CLS_IT: return t->alu; /* folding: see the caller */
    case CLS_FP_ALU: return t->fp_alu;
    case CLS_FP_MAC: return t->fp_mac;
    case CLS_FP_DIV: return t->fp_div;
    case CLS_FP_LOAD: return after_load_store && t->pipelined_loads ? t->load_store_pipelined : t->fp_load;
    case CLS_FP_MULTI: return t->multi_base + t->multi_per_word * insn->words;
    case CLS_FP_MOV: return t->fp_mov;
    }
    return 1;
}

double mco_estimate_cycles(mco_core core, const char *disasm, const mco_insn_count *counts, size_t n_counts,
                           uint64_t *n_unknown)
{
    const core_timing *t = timing_for(core);
    mco_insn_count *sorted = malloc((n_counts ? n_counts : 1) * sizeof *sorted);
    uint64_t total_counted = 0;
    *n_unknown = 0;
    if (!sorted) return -1;
    memcpy(sorted, counts, n_counts * sizeof *sorted);
    qsort(sorted, n_counts, sizeof *sorted, compare_counts);
    for (size_t i = 0; i < n_counts; i++) total_counted += sorted[i].count;

    double cycles = 0;
    uint64_t covered = 0;
    insn_info prev = {0}, cur;
    int have_prev = 0;
    /* Walk the disassembly in address order; each instruction needs the next
     * one's address (for the branch split), so keep one line of look-behind. */
    for (const char *line = disasm; line && *line;) {
        const char *line_end = strchr(line, '\n');
        if (!line_end) line_end = line + strlen(line);
        int is_insn = parse_disasm_line(line, line_end, &cur);
        if (!is_insn && line_end > line && line[0] != ' ') have_prev = 0; /* new symbol or section */
        if (is_insn) {
            uint64_t n = count_at(sorted, n_counts, cur.addr);
            if (n) {
                int after_ls = have_prev && is_load_store(prev.cls);
                if (cur.cls == CLS_COND_BRANCH) {
                    /* The next instruction's address is not known yet: the
                     * split needs it, so peek at the next instruction line. */
                    const char *next = *line_end ? line_end + 1 : line_end;
                    insn_info following;
                    uint64_t fall_through = 0;
                    while (*next) {
                        const char *next_end = strchr(next, '\n');
                        if (!next_end) next_end = next + strlen(next);
                        if (parse_disasm_line(next, next_end, &following)) {
                            fall_through = count_at(sorted, n_counts, following.addr);
                            break;
                        }
                        next = *next_end ? next_end + 1 : next_end;
                    }
                    uint64_t not_taken = fall_through < n ? fall_through : n;
                    cycles += (double)not_taken * t->branch_not_taken + (double)(n - not_taken) * t->branch_taken;
                } else if (cur.cls == CLS_IT && t->it_folding && have_prev && cur.addr - prev.addr == 2) {
                    /* folded onto the 16-bit instruction before it: no cycle */
                } else {
                    cycles += (double)n * cycles_of(t, &cur, after_ls);
                }
                covered += n;
            }
            prev = cur;
            have_prev = cur.cls != CLS_BRANCH && cur.cls != CLS_CALL && cur.cls != CLS_COND_BRANCH;
        }
        line = *line_end ? line_end + 1 : line_end;
    }
    free(sorted);
    /* Executed addresses missing from the disassembly: one cycle each. */
    if (total_counted > covered) {
        *n_unknown = total_counted - covered;
        cycles += (double)*n_unknown;
    }
    return cycles;
}
