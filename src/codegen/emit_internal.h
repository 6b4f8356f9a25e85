/*
 * emit_internal.h - what the code generator's files share (internal to
 * src/codegen/): writing a file atomically, copying the runtime files a
 * plan needs, and measuring the emitted code with arm-none-eabi-gcc.
 */
#ifndef MCO_EMIT_INTERNAL_H
#define MCO_EMIT_INTERNAL_H

#include <stdio.h>

#include "mcuopt/file_util.h"
#include "mcuopt/codegen.h"
#include "mcuopt/context.h"

/* An emitted file: write to ->f (see mcuopt/file_io.h). */
typedef mco_output_file mco_emit_file;

/* Opens dir/name for writing (through a temporary file). */
mco_status mco_emit_open(mco_emit_file *out, const char *dir, const char *name);
/* Puts it in place as dir/name; records `name` in res->files. */
mco_status mco_emit_close(mco_emit_file *out, mco_emit_result *res, const char *name);

/* The runtime headers model.c includes: mco_runtime.h and the headers
 * declaring the plan's kernels (each once). Returns how many. */
#define MCO_EMIT_MAX_HEADERS 8
int mco_emit_kernel_headers(const mco_plan *plan, const char *headers[MCO_EMIT_MAX_HEADERS]);

/* Copies the runtime files the plan's kernels need (found by
 * which file defines each kernel function, then by what those files call
 * and include) from the context's runtime directory. */
mco_status mco_emit_runtime(const mco_context *ctx, const mco_plan *plan, const char *dir, mco_emit_result *res);

/* Compiles dir/ *.c for `cpu` with arm-none-eabi-gcc into one relocatable
 * object (unused sections dropped, libgcc included; built in the context's
 * temporary directory) and fills flash/code/ram/stack_bytes; does nothing
 * when the compiler is missing. */
mco_status mco_emit_measure(const mco_context *ctx, const char *dir, const char *cpu, mco_emit_result *res);

#endif
