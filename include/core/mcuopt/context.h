/*
 * context.h - the library context (src/core/context.c): where the resource
 * files are, where temporary files go, how many threads the library may
 * use, and where it reports what it is doing. Like SQLite's sqlite3* or
 * Lua's lua_State*, the program creates one context and hands it to the
 * library calls that need it, directly (mco_target_load) or in their options
 * struct (mco_measure_options.ctx, mco_emit_options.ctx, ...). The library
 * has no path compiled in and reads no environment variable for these,
 * except $TMPDIR as the conventional default of the temporary directory.
 *
 * The resources (one place each):
 *   targets     directory of MCU profiles, <name>.json (mcuopt/target.h)
 *   runtime     directory of the MCU runtime sources emitted code copies
 *   firmware    directory of the measurement harness: startup.c,
 *               harness_main.c, ld/<machine>.ld, plugin/mco_insn_profile.c
 *   cost-model  file: the resource model's calibration table
 *               (mcuopt/resource.h)
 *   data        directory holding named data sets as <dir>/<name>/ (optional:
 *               mco_dataset_load tries it before the sets' usual places)
 * mco_context_set_root(ctx, root) sets the first four from one directory
 * laid out like the source tree and like an installed share/mcuopt/:
 * root/targets, root/runtime, root/firmware and
 * root/targets/calibration/resource-model.json.
 *
 * Example (what the CLI does, with the root it found next to its binary):
 *   mco_context *ctx;
 *   if (mco_context_create(&ctx) != MCO_OK ||
 *       mco_context_set_root(ctx, "/usr/local/share/mcuopt") != MCO_OK) ...
 *   mco_target_profile t;
 *   mco_status st = mco_target_load(ctx, "stm32f405", &t);
 *   ...
 *   mco_context_free(ctx);
 *
 * A NULL context is allowed wherever one is taken: it has no resources (a
 * call that needs one fails with a line saying which), the temporary
 * directory is $TMPDIR or /tmp, all online processors, no log.
 *
 * Threads: a context is only read by library calls, so one context may be
 * used by many threads at once; set it up before that. The log function
 * is called on the thread (or in the worker process) that logs.
 *
 * What it leaves out: memory allocators (the library uses malloc), and
 * finding the resources (the program knows where it is installed: see
 * cli/cli_context.c).
 */
#ifndef MCUOPT_CONTEXT_H
#define MCUOPT_CONTEXT_H

#include <stddef.h>

#include "mcuopt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mco_context mco_context;

typedef enum {
    MCO_RESOURCE_TARGETS = 0,   /* directory */
    MCO_RESOURCE_RUNTIME,       /* directory */
    MCO_RESOURCE_FIRMWARE,      /* directory */
    MCO_RESOURCE_COST_MODEL,    /* file */
    MCO_RESOURCE_DATA,          /* directory (optional) */
    MCO_RESOURCE_COUNT
} mco_resource;

typedef enum {
    MCO_LOG_DEBUG = 0,   /* steps of long operations: tools run, directories used */
    MCO_LOG_INFO         /* progress a user asked for (one line per calibration model, ...) */
} mco_log_level;

/* Receives one line (no trailing newline) at a time. */
typedef void (*mco_log_fn)(void *user, mco_log_level level, const char *line);

/* A context with no resources, the temporary directory $TMPDIR (or /tmp),
 * threads 0 (all online processors) and no log. Free with mco_context_free. */
mco_status mco_context_create(mco_context **out);
void mco_context_free(mco_context *ctx);

/* Sets targets, runtime, firmware and cost-model from one root directory
 * (see the top of this file). Only records the paths: nothing is read. */
mco_status mco_context_set_root(mco_context *ctx, const char *root);

/* Sets one resource (NULL or "": unset it). */
mco_status mco_context_set_resource(mco_context *ctx, mco_resource resource, const char *path);

/* The path of a resource, or NULL when it is not set (or ctx is NULL). */
const char *mco_context_resource(const mco_context *ctx, mco_resource resource);

/* Like mco_context_resource, but an unset resource is an MCO_ERR_NOT_FOUND
 * error naming it; `for_what` says which call wanted it ("measure"). */
mco_status mco_context_require(const mco_context *ctx, mco_resource resource, const char *for_what,
                               const char **path);

/* "targets", "runtime", "firmware", "cost-model", "data". */
const char *mco_resource_name(mco_resource resource);

/* The directory temporary files and directories go in (NULL or "": back to
 * $TMPDIR or /tmp). */
mco_status mco_context_set_temp_dir(mco_context *ctx, const char *dir);
const char *mco_context_temp_dir(const mco_context *ctx);

/* Creates a fresh private directory <temp dir>/mcuopt-<what>-XXXXXX
 * (mkdtemp) and writes its path to out[cap]. The caller removes it
 * (mco_remove_tree). */
mco_status mco_context_make_temp_dir(const mco_context *ctx, const char *what, char *out, size_t cap);

/* The number of threads library calls taking this context use when they
 * are given 0 threads: `threads` > 0, or 0 for all online processors. */
void mco_context_set_threads(mco_context *ctx, int threads);
/* That number resolved: at least 1 (online processors when unset). */
int mco_context_threads(const mco_context *ctx);

/* The log sink (fn NULL: no log). */
void mco_context_set_log(mco_context *ctx, mco_log_fn fn, void *user);

/* Formats one line and passes it to the log sink, if there is one. */
void mco_context_log(const mco_context *ctx, mco_log_level level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#ifdef __cplusplus
}
#endif
#endif
