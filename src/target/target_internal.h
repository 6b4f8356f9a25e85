/*
 * target_internal.h - helpers shared by the measurement code in src/target/:
 * running external tools with a time limit (target_process.c) and the
 * per-core cycle estimate from instruction counts (target_cycles.c).
 * Not a public interface.
 */
#ifndef MCO_TARGET_INTERNAL_H
#define MCO_TARGET_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/file_util.h"   /* mco_read_text_file, mco_remove_tree */
#include "mcuopt/status.h"
#include "mcuopt/target.h"

/* Runs argv[0] (searched on PATH) with stdout and stderr appended to
 * log_path (NULL: discarded). Waits at most timeout_s seconds (then kills it
 * and sets *timed_out). *exit_code gets the exit status, or 128 + signal.
 * Fails only if the program could not be started. */
mco_status mco_run_tool(char *const argv[], const char *log_path, int timeout_s, int *exit_code, int *timed_out);

/* Like mco_run_tool but capturing stdout into a malloc'ed string (*out);
 * stderr goes to log_path. */
mco_status mco_run_tool_capture(char *const argv[], const char *log_path, int timeout_s, char **out,
                                int *exit_code);

/* The first line of a log file that contains `needle` (or else its first
 * non-empty line), trimmed, into buf. */
void mco_log_excerpt(const char *log_path, const char *needle, char *buf, size_t cap);

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
