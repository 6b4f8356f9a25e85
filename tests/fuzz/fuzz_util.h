/*
 * fuzz_util.h - what the libFuzzer harnesses of tests/fuzz share: a private
 * temporary directory for loaders that only take a path, a NUL-terminated
 * copy of the input for text parsers, and the check every harness makes of
 * a failed load (one non-empty line of error message).
 *
 * A harness aborts (a finding for libFuzzer) when a loader breaks its
 * contract in a way the sanitizers cannot see: a failure without a message,
 * a message on several lines, or a loaded object that does not survive a
 * save and a reload.
 *
 * What it leaves out: anything libFuzzer does itself (corpus handling,
 * limits, reproduction); see tests/fuzz/README.md.
 */
#ifndef MCO_FUZZ_UTIL_H
#define MCO_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "mcuopt/deploy.h"
#include "mcuopt/graph.h"
#include "mcuopt/status.h"

/* The path of `name` in this process's temporary directory ($TMPDIR, else
 * /dev/shm or /tmp; removed with its files when the process exits), in a
 * static buffer that the next call overwrites. */
const char *fuzz_temp_path(const char *name);

/* Writes the input to fuzz_temp_path(name) (replacing it) and returns that path. */
const char *fuzz_write_temp(const char *name, const uint8_t *data, size_t size);

/* Removes fuzz_temp_path(name) if it exists. */
void fuzz_remove_temp(const char *name);

/* 1 if the two temporary files hold the same bytes. */
int fuzz_same_temp_files(const char *name_a, const char *name_b);

/* A malloc'd copy of the input with a NUL appended (NUL bytes inside stay). */
char *fuzz_text(const uint8_t *data, size_t size);

/* After a load: for a failure, aborts unless the library recorded exactly
 * one non-empty line without control characters; then clears the message. */
void fuzz_check_status(mco_status st, const char *what);

/* Checks what every loaded or parsed model must satisfy: each parameter's
 * size is the product of its dimensions (computed without overflow).
 * Aborts otherwise. */
void fuzz_check_model(const mco_model *m, const char *what);

/* A float model that loaded or imported must save as a .mco, load back and
 * save to the same bytes. Aborts otherwise. */
void fuzz_check_model_round_trip(const mco_model *m);

/* What emit, estimate and predict do with a deploy model: plan it (succeed
 * or fail with one line), and when the plan's arena is at most 1 MB, run it
 * on the brightest raw input (all 255), which gives the int8 inputs their
 * widest range, in the MCU runtime (one line on failure). */
void fuzz_plan_and_run(const mco_deploy_model *dm);

/* An int8 deploy model an importer made (TFLite, ONNX QDQ) plans (or is
 * refused with one line), saves as a .mcq, loads back, and the loaded one
 * plans and runs (fuzz_plan_and_run). Aborts otherwise. */
void fuzz_check_imported_deploy(const mco_deploy_model *dm);

/* Aborts with `why` (a finding for libFuzzer). */
void fuzz_fail(const char *what, const char *why);

#endif
