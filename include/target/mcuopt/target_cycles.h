/*
 * target_cycles.h - the per-core cycle estimate from executed instruction
 * counts (src/target/target_cycles.c), and the reader of the counts file
 * the QEMU plugin writes, used by the measurement
 * (target_measure.c) and by the resource model's calibration
 * (src/measure/resource_calibration.c).
 *
 * What it leaves out: running the emulator (target.h) and external tools
 * (mcuopt/process.h).
 */
#ifndef MCUOPT_TARGET_CYCLES_H
#define MCUOPT_TARGET_CYCLES_H

#include <stddef.h>
#include <stdint.h>

#include "mcuopt/target.h"

/* One executed instruction address and how often it ran. */
typedef struct {
    uint64_t addr;
    uint64_t count;
} mco_insn_count;

/* The measurement windows of a counts file: how many, and the smallest,
 * largest and summed instruction totals. */
typedef struct {
    int n;
    uint64_t min, max, sum;
} mco_insn_windows;

/* Reads the QEMU plugin's counts file (firmware/qemu-plugin): "window I
 * TOTAL" lines (one per measured inference) into *windows, "ADDR COUNT"
 * lines (hexadecimal address, executions) into *counts (malloc'd, file
 * order); other lines are skipped. Fails with the reader's status if the
 * file cannot be read, MCO_ERR_NOMEM naming the path. */
mco_status mco_read_insn_counts(const char *path, mco_insn_count **counts, size_t *n_counts,
                                mco_insn_windows *windows);

/* Estimates cycles for the executed instructions: `disasm` is the output of
 * `arm-none-eabi-objdump -d --no-show-raw-insn` of the image, `counts` the
 * per-address execution counts (any order). Instructions not found in the
 * disassembly cost one cycle each (*n_unknown counts them). */
double mco_estimate_cycles(mco_core core, const char *disasm, const mco_insn_count *counts, size_t n_counts,
                           uint64_t *n_unknown);

/* The one-line description of what the estimate for `core` models. */
const char *mco_cycle_model_note(mco_core core);

#endif
