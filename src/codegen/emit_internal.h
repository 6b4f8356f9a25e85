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
#include "mco_mfcc.h"

/* An emitted file: write to ->f (see mcuopt/file_io.h). */
typedef mco_output_file mco_emit_file;

/* Opens dir/name for writing (through a temporary file). */
mco_status mco_emit_open(mco_emit_file *out, const char *dir, const char *name);
/* Puts it in place as dir/name; records `name` in res->files. */
mco_status mco_emit_close(mco_emit_file *out, mco_emit_result *res, const char *name);

/* The model's name as used in the package: `lower` for files, functions and
 * types (kws.h, kws_run, kws_input_t), `upper` for macros (KWS_ARENA_SIZE). */
typedef struct {
    char lower[MCO_EMIT_MODEL_NAME_MAX + 1];
    char upper[MCO_EMIT_MODEL_NAME_MAX + 1];
    char header[MCO_EMIT_MODEL_NAME_MAX + 3];   /* NAME.h */
    char source[MCO_EMIT_MODEL_NAME_MAX + 3];   /* NAME.c */
} mco_emit_names;

/* Fills the names of a model called `name` (checked by mco_emit_check_name). */
void mco_emit_make_names(const char *name, mco_emit_names *nm);

/* A float as a C constant that reads back as the same float ("%.9g" + f). */
const char *mco_emit_float_literal(float v, char buf[40]);

/* "int8_t", "uint8_t" or "float": the C type of the caller's input or output. */
const char *mco_emit_io_ctype(mco_io_type t);

/* Writes the input recipe (what NAME_run takes, from a raw sample), each
 * line starting with `prefix`. */
void mco_emit_input_recipe(FILE *f, const char *prefix, const mco_deploy_model *dm, const mco_plan *plan,
                           const mco_plan_io *io, const mco_emit_names *nm);

/* `static const <type> <name>[count] = {...};`, adding its bytes to *bytes;
 * fails on a non-finite float. */
mco_status mco_emit_array(FILE *f, const char *name, mco_data_type type, const void *data, size_t count,
                          size_t *bytes);

/* NAME_run_pcm of a model with an audio front-end (emit_frontend.c, which
 * explains the arena layout). on: 0 for a model without one (the other
 * functions then write nothing). */
typedef struct {
    int on;
    int via_float;              /* NAME_run converts a float input: the features go to it as they are */
    int input_s8;               /* the model input is int8 */
    mco_mfcc_params params;
    mco_plan_io float_io;       /* float features -> the model input (normalisation, quantization) */
    uint32_t feature_offset, feature_bytes;
    uint32_t input_offset, input_bytes;     /* the model input made from them (0 bytes: via_float) */
    uint32_t scratch_offset, scratch_bytes;
    uint32_t arena_bytes;       /* the whole arena: NAME_ARENA_SIZE */
} mco_emit_frontend;

/* Fills *fe for dm's plan (nothing on without a front-end) after a model
 * arena of model_arena bytes; refuses a uint8 caller input. */
mco_status mco_emit_frontend_init(const mco_deploy_model *dm, const mco_plan *plan, const mco_plan_io *types,
                                  uint32_t model_arena, mco_emit_frontend *fe);
/* NAME.c's front-end parameters and tables (their bytes added to *bytes). */
mco_status mco_emit_frontend_data(FILE *f, const mco_emit_frontend *fe, const mco_audio_frontend *a,
                                  size_t *bytes);
/* NAME.h's PCM macros and prototypes; NAME.c's two functions (after
 * NAME_run_with_arena and the static arena). */
void mco_emit_frontend_header(FILE *f, const mco_emit_frontend *fe, const mco_audio_frontend *a,
                              const mco_emit_names *nm);
void mco_emit_frontend_functions(FILE *f, const mco_emit_frontend *fe, const mco_plan *plan,
                                 const mco_emit_names *nm);

/* The runtime's on/off shortcuts (mco_config.h, which explains each): 1 when
 * every op of the plan allows it. A build with several models turns one on
 * only if every model allows it (the package's CMakeLists.txt and .mk count
 * the models' votes). */
typedef enum {
    MCO_SHORTCUT_REQUANT_RIGHT_ONLY,
    MCO_SHORTCUT_REQUANT_FAST,
    MCO_SHORTCUT_FC_WIDE_ONLY,
    MCO_SHORTCUT_FC_UNROLL,
    MCO_SHORTCUT_COUNT
} mco_emit_shortcut;

/* The macro name of each shortcut ("MCO_REQUANT_FAST", ...). */
extern const char *const mco_emit_shortcut_names[MCO_SHORTCUT_COUNT];

/* The runtime options (mco_config.h) the plan allows: the shortcuts and the
 * 3x3 conv + pool shape its assembly path takes (all 0: the C path). */
typedef struct {
    int shortcut[MCO_SHORTCUT_COUNT];
    int32_t conv3x3_shape[3];   /* in_h, in_w, out_c */
    int uses_conv3x3;           /* the plan has a 3x3 conv + pool op */
} mco_emit_config;
void mco_emit_runtime_config(const mco_plan *plan, mco_emit_config *cfg);

/* The runtime headers model.c includes: mco_runtime.h and the headers
 * declaring the plan's kernels (each once). Returns how many. */
#define MCO_EMIT_MAX_HEADERS 8
int mco_emit_kernel_headers(const mco_plan *plan, const char *headers[MCO_EMIT_MAX_HEADERS]);

/* Copies the runtime files the plan's kernels need (found by
 * which file defines each kernel function, then by what those files call
 * and include) from the context's runtime directory into
 * dir/mcuopt_runtime/, with the plan's own mco_config.h. */
/* `functions`: more runtime functions NAME.c calls (the input / output
 * conversions of mco_io.h), NULL-terminated, or NULL. */
mco_status mco_emit_runtime(const mco_context *ctx, const mco_plan *plan, const char *const *functions,
                            const char *dir, mco_emit_result *res);

/* The package's build files, README and example (emit_package.c): README.md,
 * CMakeLists.txt, NAME.mk and example/main.c (running `inputs` built-in
 * inputs), for a package whose NAME.h, NAME.c and runtime files are already
 * in `dir` (res->files) and whose sizes res holds. */
mco_status mco_emit_package(const mco_deploy_model *dm, const mco_plan *plan, const mco_plan_io *io,
                            const mco_emit_names *nm, mco_emit_example example, int inputs, size_t stack_measured,
                            const char *dir, mco_emit_result *res);

/* Compiles dir/ *.c for `cpu` with arm-none-eabi-gcc into one relocatable
 * object (unused sections dropped, libgcc included; built in the context's
 * temporary directory) and fills flash/code/ram/stack_bytes; does nothing
 * when the compiler is missing. pcm: the package has NAME_run_pcm (kept
 * too; the stack is the deeper entry's). */
mco_status mco_emit_measure(const mco_context *ctx, const char *dir, const char *cpu, const mco_emit_names *nm,
                            int pcm, mco_emit_result *res);

#endif
