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

/* Reads a whole file into a malloc'ed NUL-terminated string. */
mco_status mco_read_file_text(const char *path, char **out);

/* Removes a directory tree (best effort). */
void mco_remove_tree(const char *path);

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

/* Checks that the FLASH and RAM regions of the linker script of the
 * profile's QEMU machine (firmware/ld/<machine>.ld) are at least the
 * profile's Flash and RAM, so every model that fits the profile can run
 * there; MCO_OK if the profile has no machine or the script is missing
 * (measuring reports that). mco_target_load() calls it (target_measure.c). */
mco_status mco_target_check_memory(const mco_target_profile *t);

/* Checks that every executed address (count 0 included: run outside the
 * measured calls) is an ARMv6-M instruction in `disasm`, the output of
 * `arm-none-eabi-objdump -d` (raw bytes shown) of the image that ran on QEMU
 * machine `machine` (for the message). Fails with one line naming the first
 * offending instruction (target_isa.c). */
mco_status mco_check_armv6m(const char *disasm, const mco_insn_count *executed, size_t n_executed,
                            const char *machine);

#endif
