/*
 * process.h - running external tools (compilers, size/nm/objdump, QEMU)
 * with output sent to a log file and a time limit, and an excerpt of a
 * log (src/core/process.c). Used by the measurement on an emulated target,
 * the code size measurement of emitted code and the resource model's
 * calibration.
 *
 * What it leaves out: Windows; process groups (the tools are exec'ed
 * directly, so killing the child kills the tool).
 */
#ifndef MCUOPT_PROCESS_H
#define MCUOPT_PROCESS_H

#include <stddef.h>

#include "mcuopt/file_util.h"   /* mco_read_text_file, mco_remove_tree: what callers use with it */
#include "mcuopt/status.h"

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

#endif
