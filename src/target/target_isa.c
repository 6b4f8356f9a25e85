/*
 * target_isa.c - mco_check_armv6m(): did an image built for a Cortex-M0/M0+
 * execute only ARMv6-M instructions? QEMU 7.2's only ARMv6-M machine (microbit)
 * has 16 KB of RAM, so M0/M0+ firmware runs on a larger ARMv7-M machine
 * (mps2-an385, a Cortex-M3), which would also execute ARMv7-M instructions
 * that a real M0+ faults on. This check, run on the executed addresses the
 * QEMU plugin reports, turns such an instruction into a failed measurement.
 *
 * The test is on the encoding (ARMv6-M Architecture Reference Manual,
 * ARM DDI 0419, A5.2 and A5.3): ARMv6-M has every 16-bit Thumb encoding
 * except CBZ/CBNZ and IT, which ARMv7-M added, and of the 32-bit encodings
 * only BL, MSR, MRS, DSB, DMB, ISB and UDF.W.
 *
 * Left out: behaviour that differs on the same instruction (an unaligned
 * LDR/STR faults on ARMv6-M; QEMU 7.2 faults on neither machine, so the
 * emulator cannot catch it either way), and the instruction set of other
 * cores (their QEMU machine has the core's own architecture).
 */
#include "target_machine.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One instruction line of `arm-none-eabi-objdump -d` (raw bytes shown):
 * "     56:\tf000 f865 \tbl\t124 <memcpy>". Data lines (".word", the byte
 * dump of the vector table) and headers are not instructions. */
typedef struct {
    uint64_t addr;
    unsigned hw1, hw2; /* the halfwords, hw2 only if wide */
    int wide;
    const char *text; /* mnemonic and operands, up to the end of the line */
    int text_len;
} thumb_insn;

/* Reads exactly four hex digits at *p into *v. */
static int read_halfword(const char **p, const char *end, unsigned *v)
{
    const char *s = *p;
    unsigned x = 0;
    for (int i = 0; i < 4; i++, s++) {
        if (s >= end || !isxdigit((unsigned char)*s)) return 0;
        x = x * 16 + (unsigned)(isdigit((unsigned char)*s) ? *s - '0' : tolower((unsigned char)*s) - 'a' + 10);
    }
    if (s < end && isxdigit((unsigned char)*s)) return 0; /* a longer group: data */
    *v = x;
    *p = s;
    return 1;
}

static int parse_line(const char *line, const char *end, thumb_insn *out)
{
    const char *p = line;
    while (p < end && *p == ' ') p++;
    if (p == end || !isxdigit((unsigned char)*p)) return 0;
    char *after;
    out->addr = strtoull(p, &after, 16);
    p = after;
    if (p >= end || *p != ':') return 0;
    p++;
    while (p < end && (*p == ' ' || *p == '\t')) p++;
    if (!read_halfword(&p, end, &out->hw1)) return 0;
    out->wide = 0;
    out->hw2 = 0;
    if (p + 1 < end && *p == ' ' && isxdigit((unsigned char)p[1])) {
        p++;
        if (!read_halfword(&p, end, &out->hw2)) return 0;
        out->wide = 1;
    }
    while (p < end && (*p == ' ' || *p == '\t')) p++;
    if (p == end || *p == '.') return 0; /* .word, .short: data */
    out->text = p;
    out->text_len = (int)(end - p);
    return 1;
}

/* 1 if the encoding exists in ARMv6-M. */
static int is_armv6m(unsigned hw1, unsigned hw2, int wide)
{
    if (!wide) {
        if ((hw1 & 0xF500) == 0xB100) return 0;                    /* CBZ, CBNZ: 1011 o0i1 */
        if ((hw1 & 0xFF00) == 0xBF00 && (hw1 & 0x000F) != 0) return 0; /* IT (mask 0 is a hint: NOP, WFI...) */
        return 1;
    }
    if ((hw1 & 0xF800) == 0xF000 && (hw2 & 0xD000) == 0xD000) return 1; /* BL */
    if ((hw1 & 0xFFF0) == 0xF380 && (hw2 & 0xFF00) == 0x8800) return 1; /* MSR */
    if (hw1 == 0xF3EF && (hw2 & 0xF000) == 0x8000) return 1;            /* MRS */
    if (hw1 == 0xF3BF && (hw2 & 0xFFF0) >= 0x8F40 && (hw2 & 0xFFF0) <= 0x8F60) return 1; /* DSB, DMB, ISB */
    if ((hw1 & 0xFFF0) == 0xF7F0 && (hw2 & 0xF000) == 0xA000) return 1; /* UDF.W */
    return 0;
}

static int compare_addr(const void *a, const void *b)
{
    uint64_t x = ((const mco_insn_count *)a)->addr, y = ((const mco_insn_count *)b)->addr;
    return x < y ? -1 : x > y;
}

mco_status mco_check_armv6m(const char *disasm, const mco_insn_count *executed, size_t n_executed,
                            const char *machine)
{
    mco_insn_count *sorted = malloc((n_executed ? n_executed : 1) * sizeof *sorted);
    char *seen = calloc(n_executed ? n_executed : 1, 1);
    if (!sorted || !seen) {
        free(sorted);
        free(seen);
        return mco_error(MCO_ERR_NOMEM, "ARMv6-M check: out of memory");
    }
    if (n_executed) memcpy(sorted, executed, n_executed * sizeof *sorted);
    qsort(sorted, n_executed, sizeof *sorted, compare_addr);

    size_t n_bad = 0;
    thumb_insn first_bad = {0};
    uint64_t first_bad_count = 0;
    for (const char *line = disasm; line && *line;) {
        const char *end = strchr(line, '\n');
        if (!end) end = line + strlen(line);
        thumb_insn insn;
        if (parse_line(line, end, &insn)) {
            mco_insn_count key = {insn.addr, 0};
            const mco_insn_count *hit = bsearch(&key, sorted, n_executed, sizeof key, compare_addr);
            if (hit) {
                seen[hit - sorted] = 1;
                if (!is_armv6m(insn.hw1, insn.hw2, insn.wide) && n_bad++ == 0) {
                    first_bad = insn;
                    first_bad_count = hit->count;
                }
            }
        }
        line = *end ? end + 1 : end;
    }

    mco_status st = MCO_OK;
    size_t n_unseen = 0, first_unseen = 0;
    for (size_t i = 0; i < n_executed; i++)
        if (!seen[i] && n_unseen++ == 0) first_unseen = i;
    if (n_bad) {
        char text[96];
        snprintf(text, sizeof text, "%.*s", first_bad.text_len, first_bad.text);
        for (char *c = text; *c; c++)
            if (*c == '\t') *c = ' ';
        char where[64] = "outside the measured model_run calls";
        if (first_bad_count)
            snprintf(where, sizeof where, "%" PRIu64 " times in the measured model_run calls", first_bad_count);
        st = mco_error(MCO_ERR_UNSUPPORTED,
                       "%zu executed instruction(s) on qemu %s are not ARMv6-M, which a Cortex-M0/M0+ cannot run "
                       "(first: 0x%" PRIx64 " '%s', %s)",
                       n_bad, machine, first_bad.addr, text, where);
    } else if (n_unseen) {
        st = mco_error(MCO_ERR_FORMAT,
                       "%zu executed address(es) on qemu %s are not instructions in the firmware's disassembly "
                       "(first: 0x%" PRIx64 "): cannot check that they are ARMv6-M",
                       n_unseen, machine, sorted[first_unseen].addr);
    }
    free(sorted);
    free(seen);
    return st;
}
