/*
 * cli_context.c - the library context (mcuopt/context.h) of one mcuopt run:
 * main() creates it once (cli_context_init) and every command passes
 * cli_context() to the library calls that need it.
 *
 * Where the resources (targets/, runtime/, firmware/, the resource model
 * table) are found, first match wins:
 *   1. one environment variable per resource, read here and nowhere in the
 *      library: MCO_TARGETS_DIR, MCO_RUNTIME_DIR, MCO_FIRMWARE_DIR,
 *      MCO_RESOURCE_MODEL (a file), and MCO_DATA_DIR (named data sets as
 *      <dir>/<name>/);
 *   2. <directory of the executable>/../share/mcuopt: an installed mcuopt
 *      (cmake --install puts bin/mcuopt and share/mcuopt/ under one prefix;
 *      MCO_SHARE_FROM_BIN, from CMakeLists.txt, is that relative path);
 *   3. <directory of the executable>/share/mcuopt: a build tree (the build
 *      makes <build>/share/mcuopt/ with links to the source tree's
 *      directories, the installed layout).
 * A root counts when it has targets/ and runtime/ directories. The
 * executable is found through /proc/self/exe (else argv[0]). With no root
 * found, the installed place is set anyway, so a command that needs a
 * resource fails naming the path it expected; commands that need none
 * (train, quantize, ...) do not care.
 *
 * The log sink prints the library's MCO_LOG_INFO lines (progress a command
 * asked for) on stderr, and its MCO_LOG_DEBUG lines (tools run, directories
 * used) too with `mcuopt --verbose COMMAND`.
 *
 * What it leaves out: a configuration file; the temporary directory is the
 * library's default ($TMPDIR or /tmp).
 */
#define _XOPEN_SOURCE 700   /* realpath */

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#ifndef MCO_SHARE_FROM_BIN
#define MCO_SHARE_FROM_BIN "../share/mcuopt"
#endif

static mco_context *the_context;
static int log_debug;

static void print_log_line(void *user, mco_log_level level, const char *line)
{
    (void)user;
    if (level == MCO_LOG_DEBUG) {
        if (log_debug) fprintf(stderr, "mcuopt: %s\n", line);
    } else {
        fprintf(stderr, "%s\n", line);
    }
}

static int is_dir(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* The directory holding the running executable, into out[cap]; 0 if unknown. */
static int executable_dir(const char *argv0, char *out, size_t cap)
{
    char path[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
    if (n > 0) path[n] = '\0';
    else if (!argv0 || !strchr(argv0, '/') || !realpath(argv0, path)) return 0;
    char *slash = strrchr(path, '/');
    if (!slash) return 0;
    if (slash == path) slash++;   /* the executable is in "/" */
    *slash = '\0';
    return snprintf(out, cap, "%s", path) < (int)cap;
}

/* Sets the root of the resources: the first candidate under the
 * executable's directory that has targets/ and runtime/, else the first
 * candidate (see the top of this file). */
static mco_status set_root(mco_context *ctx, const char *argv0)
{
    static const char *const candidates[] = {MCO_SHARE_FROM_BIN, "share/mcuopt"};
    char dir[PATH_MAX], root[PATH_MAX + 32], targets[PATH_MAX + 64], runtime[PATH_MAX + 64];
    if (!executable_dir(argv0, dir, sizeof dir)) return MCO_OK;   /* resources only from the environment */
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++) {
        snprintf(root, sizeof root, "%s/%s", dir, candidates[i]);
        snprintf(targets, sizeof targets, "%s/targets", root);
        snprintf(runtime, sizeof runtime, "%s/runtime", root);
        if (is_dir(targets) && is_dir(runtime)) {
            char clean[PATH_MAX];
            return mco_context_set_root(ctx, realpath(root, clean) ? clean : root);
        }
    }
    snprintf(root, sizeof root, "%s/%s", dir, candidates[0]);
    return mco_context_set_root(ctx, root);
}

mco_status cli_context_init(const char *argv0, int verbose)
{
    static const struct {
        mco_resource resource;
        const char *variable;
    } overrides[] = {
        {MCO_RESOURCE_TARGETS, "MCO_TARGETS_DIR"},       {MCO_RESOURCE_RUNTIME, "MCO_RUNTIME_DIR"},
        {MCO_RESOURCE_FIRMWARE, "MCO_FIRMWARE_DIR"},     {MCO_RESOURCE_COST_MODEL, "MCO_RESOURCE_MODEL"},
        {MCO_RESOURCE_DATA, "MCO_DATA_DIR"},
    };
    mco_context *ctx;
    mco_status st = mco_context_create(&ctx);
    if (st != MCO_OK) return st;
    st = set_root(ctx, argv0);
    for (size_t i = 0; st == MCO_OK && i < sizeof overrides / sizeof overrides[0]; i++) {
        const char *value = getenv(overrides[i].variable);
        if (value && *value) st = mco_context_set_resource(ctx, overrides[i].resource, value);
    }
    if (st != MCO_OK) {
        mco_context_free(ctx);
        return st;
    }
    log_debug = verbose;
    mco_context_set_log(ctx, print_log_line, NULL);
    the_context = ctx;
    return MCO_OK;
}

const mco_context *cli_context(void)
{
    return the_context;
}

void cli_context_free(void)
{
    mco_context_free(the_context);
    the_context = NULL;
}
