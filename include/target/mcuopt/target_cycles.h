/*
 * target_cycles.h - the per-core cycle estimate from executed instruction
 * counts (src/target/target_cycles.c), used by the measurement
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

/* Estimates cycles for the executed instructions: `disasm` is the output of
 * `arm-none-eabi-objdump -d --no-show-raw-insn` of the image, `counts` the
 * per-address execution counts (any order). Instructions not found in the
 * disassembly cost one cycle each (*n_unknown counts them). */
double mco_estimate_cycles(mco_core core, const char *disasm, const mco_insn_count *counts, size_t n_counts,
                           uint64_t *n_unknown);

/* The one-line description of what the estimate for `core` models. */
const char *mco_cycle_model_note(mco_core core);

#endif
