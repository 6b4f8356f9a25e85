/*
 * context.c - the library context (see mcuopt/context.h): a small struct of
 * owned strings, a thread count and a log sink, with setters and getters.
 *
 * What it leaves out: checking that the resource paths exist (the calls
 * that read them report a missing file with its path), and locking (a
 * context is set up first and then only read).
 */
#include "mcuopt/context.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcuopt/thread_pool.h"

struct mco_context {
    char *resources[MCO_RESOURCE_COUNT];   /* NULL: unset */
    char *temp_dir;                        /* NULL: $TMPDIR or /tmp */
    int threads;                           /* 0: all online processors */
    mco_log_fn log;
    void *log_user;
};

static const char *const resource_names[MCO_RESOURCE_COUNT] = {
    [MCO_RESOURCE_TARGETS] = "targets",   [MCO_RESOURCE_RUNTIME] = "runtime",
    [MCO_RESOURCE_FIRMWARE] = "firmware", [MCO_RESOURCE_COST_MODEL] = "cost-model",
    [MCO_RESOURCE_DATA] = "data",
};

/* Where each resource sits under a root (mco_context_set_root); NULL: not
 * part of a root. */
static const char *const root_layout[MCO_RESOURCE_COUNT] = {
    [MCO_RESOURCE_TARGETS] = "targets",
    [MCO_RESOURCE_RUNTIME] = "runtime",
    [MCO_RESOURCE_FIRMWARE] = "firmware",
    [MCO_RESOURCE_COST_MODEL] = "targets/calibration/resource-model.json",
};

static int valid_resource(mco_resource r) { return (int)r >= 0 && r < MCO_RESOURCE_COUNT; }

const char *mco_resource_name(mco_resource resource)
{
    return valid_resource(resource) ? resource_names[resource] : "unknown";
}

mco_status mco_context_create(mco_context **out)
{
    if (!out) return mco_error(MCO_ERR_ARG, "mco_context_create: NULL argument");
    *out = calloc(1, sizeof **out);
    if (!*out) return mco_error(MCO_ERR_NOMEM, "context: out of memory");
    return MCO_OK;
}

void mco_context_free(mco_context *ctx)
{
    if (!ctx) return;
    for (int r = 0; r < MCO_RESOURCE_COUNT; r++) free(ctx->resources[r]);
    free(ctx->temp_dir);
    free(ctx);
}

/* Replaces *slot with a copy of value (NULL or "": unset). */
static mco_status set_string(char **slot, const char *value)
{
    char *copy = NULL;
    if (value && *value && !(copy = strdup(value))) return mco_error(MCO_ERR_NOMEM, "context: out of memory");
    free(*slot);
    *slot = copy;
    return MCO_OK;
}

mco_status mco_context_set_resource(mco_context *ctx, mco_resource resource, const char *path)
{
    if (!ctx || !valid_resource(resource)) return mco_error(MCO_ERR_ARG, "mco_context_set_resource: bad argument");
    return set_string(&ctx->resources[resource], path);
}

mco_status mco_context_set_root(mco_context *ctx, const char *root)
{
    if (!ctx || !root || !*root) return mco_error(MCO_ERR_ARG, "mco_context_set_root: no root directory");
    for (int r = 0; r < MCO_RESOURCE_COUNT; r++) {
        if (!root_layout[r]) continue;
        size_t n = strlen(root) + strlen(root_layout[r]) + 2;
        char *path = malloc(n);
        if (!path) return mco_error(MCO_ERR_NOMEM, "context: out of memory");
        snprintf(path, n, "%s/%s", root, root_layout[r]);
        free(ctx->resources[r]);
        ctx->resources[r] = path;
    }
    return MCO_OK;
}

const char *mco_context_resource(const mco_context *ctx, mco_resource resource)
{
    return ctx && valid_resource(resource) ? ctx->resources[resource] : NULL;
}

mco_status mco_context_require(const mco_context *ctx, mco_resource resource, const char *for_what,
                               const char **path)
{
    *path = mco_context_resource(ctx, resource);
    if (*path) return MCO_OK;
    return mco_error(MCO_ERR_NOT_FOUND, "%s: no %s %s given (%s)", for_what ? for_what : "mcuopt",
                     mco_resource_name(resource), resource == MCO_RESOURCE_COST_MODEL ? "file" : "directory",
                     ctx ? "set it in the context: mco_context_set_root or mco_context_set_resource"
                         : "the call was given no context");
}

mco_status mco_context_set_temp_dir(mco_context *ctx, const char *dir)
{
    if (!ctx) return mco_error(MCO_ERR_ARG, "mco_context_set_temp_dir: NULL context");
    return set_string(&ctx->temp_dir, dir);
}

const char *mco_context_temp_dir(const mco_context *ctx)
{
    if (ctx && ctx->temp_dir) return ctx->temp_dir;
    const char *env = getenv("TMPDIR");   /* the convention every Unix tool follows */
    return env && *env ? env : "/tmp";
}

mco_status mco_context_make_temp_dir(const mco_context *ctx, const char *what, char *out, size_t cap)
{
    const char *base = mco_context_temp_dir(ctx);
    int n = snprintf(out, cap, "%s/mcuopt-%s-XXXXXX", base, what);
    if (n < 0 || (size_t)n >= cap) return mco_error(MCO_ERR_ARG, "temporary directory %s: path too long", base);
    if (!mkdtemp(out))
        return mco_error(MCO_ERR_IO, "cannot create a temporary directory in %s: %s", base, strerror(errno));
    return MCO_OK;
}

void mco_context_set_threads(mco_context *ctx, int threads)
{
    if (ctx) ctx->threads = threads > 0 ? threads : 0;
}

int mco_context_threads(const mco_context *ctx)
{
    return mco_thread_count(ctx ? ctx->threads : 0);
}

void mco_context_set_log(mco_context *ctx, mco_log_fn fn, void *user)
{
    if (!ctx) return;
    ctx->log = fn;
    ctx->log_user = user;
}

void mco_context_log(const mco_context *ctx, mco_log_level level, const char *fmt, ...)
{
    if (!ctx || !ctx->log) return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    ctx->log(ctx->log_user, level, line);
}
