/*
 * emit_measure.c - Flash and RAM of an emitted model, measured with the
 * real cross compiler: every .c file of the directory is compiled for the
 * chosen core with -O2 -ffunction-sections -fdata-sections and linked into
 * one relocatable object with --gc-sections from model_run (libgcc
 * included, for the soft-float and division helpers of cores without an
 * FPU); arm-none-eabi-size then gives text, data and bss:
 *   Flash = text + data, static RAM = data + bss (the arena is in bss).
 * The stack estimate adds the -fstack-usage frame of model_run (and of
 * mco_ops_run and mco_op_run, if a directory still has the dispatcher) to
 * the two largest other frames (a kernel and the worker it calls); it is an
 * estimate, not a call-graph analysis.
 *
 * What it leaves out: libc's memcpy (a few dozen bytes), the startup code
 * and vector table of a real firmware image.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emit_internal.h"
#include "mcuopt/process.h"

#define MAX_ARGS 64

static int on_path(const char *tool)
{
    const char *path = getenv("PATH");
    char buf[4200];
    while (path && *path) {
        const char *colon = strchr(path, ':');
        size_t len = colon ? (size_t)(colon - path) : strlen(path);
        snprintf(buf, sizeof buf, "%.*s/%s", (int)len, path, tool);
        if (access(buf, X_OK) == 0) return 1;
        path = colon ? colon + 1 : NULL;
    }
    return 0;
}

/* The -mcpu / -mfpu / -mfloat-abi flags of a core name. */
static mco_status cpu_flags(const char *cpu, const char *flags[3])
{
    flags[1] = flags[2] = NULL;
    if (strcmp(cpu, "cortex-m0plus") == 0) flags[0] = "-mcpu=cortex-m0plus";
    else if (strcmp(cpu, "cortex-m0") == 0) flags[0] = "-mcpu=cortex-m0";
    else if (strcmp(cpu, "cortex-m3") == 0) flags[0] = "-mcpu=cortex-m3";
    else if (strcmp(cpu, "cortex-m4") == 0) {
        flags[0] = "-mcpu=cortex-m4";
        flags[1] = "-mfpu=fpv4-sp-d16";
        flags[2] = "-mfloat-abi=hard";
    } else if (strcmp(cpu, "cortex-m7") == 0) {
        flags[0] = "-mcpu=cortex-m7";
        flags[1] = "-mfpu=fpv5-d16";
        flags[2] = "-mfloat-abi=hard";
    } else
        return mco_error(MCO_ERR_ARG, "unknown cpu '%s' (cortex-m0plus, cortex-m3, cortex-m4, cortex-m7)", cpu);
    return MCO_OK;
}

/* Frames from the .su files in `dir`: model_run + mco_ops_run + mco_op_run
 * plus the two largest others. */
static size_t stack_estimate(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    size_t chain = 0, top[2] = {0, 0};
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 4 || strcmp(e->d_name + len - 3, ".su") != 0) continue;
        char path[4400], *text = NULL;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (mco_read_text_file(path, MCO_READ_GENERATED_MAX, &text) != MCO_OK) continue;
        for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            char *tab = strchr(line, '\t'), *colon;
            if (!tab) continue;
            *tab = '\0';
            colon = strrchr(line, ':');
            const char *fn = colon ? colon + 1 : line;
            size_t bytes = (size_t)strtoul(tab + 1, NULL, 10);
            if (strcmp(fn, "model_run") == 0 || strcmp(fn, "mco_ops_run") == 0 || strcmp(fn, "mco_op_run") == 0)
                chain += bytes;
            else if (bytes > top[0]) {
                top[1] = top[0];
                top[0] = bytes;
            } else if (bytes > top[1])
                top[1] = bytes;
        }
        free(text);
    }
    closedir(d);
    return chain ? chain + top[0] + top[1] : 0;
}

mco_status mco_emit_measure(const mco_context *ctx, const char *dir, const char *cpu, mco_emit_result *res)
{
    if (!on_path("arm-none-eabi-gcc") || !on_path("arm-none-eabi-size")) return MCO_OK;
    const char *flags[3];
    mco_status st = cpu_flags(cpu, flags);
    if (st != MCO_OK) return st;
    char work[4096];
    if ((st = mco_context_make_temp_dir(ctx, "emit", work, sizeof work)) != MCO_OK) return st;
    char obj[4200], log[4200], dumpdir[4200], include[4200];
    snprintf(obj, sizeof obj, "%s/model.o", work);
    snprintf(log, sizeof log, "%s/build.log", work);
    snprintf(dumpdir, sizeof dumpdir, "%s/", work);
    snprintf(include, sizeof include, "-I%s", dir);

    char *argv[MAX_ARGS + 1];
    char *sources[MCO_EMIT_MAX_FILES];
    int n_sources = 0, n = 0;
    const char *fixed[] = {"arm-none-eabi-gcc", "-mthumb", "-std=c99", "-O2", "-ffp-contract=off",
                           "-ffunction-sections", "-fdata-sections", "-fstack-usage", "-nostdlib", "-r",
                           "-Wl,--gc-sections", "-Wl,-u,model_run", "-Wl,-e,model_run", "-dumpdir"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) argv[n++] = (char *)fixed[i];
    argv[n++] = dumpdir;
    for (int i = 0; i < 3; i++)
        if (flags[i]) argv[n++] = (char *)flags[i];
    argv[n++] = include;
    argv[n++] = "-o";
    argv[n++] = obj;
    for (int i = 0; i < res->n_files && n < MAX_ARGS - 2; i++) {
        size_t len = strlen(res->files[i]);
        if (len < 3 || strcmp(res->files[i] + len - 2, ".c") != 0) continue;
        size_t size = strlen(dir) + len + 2;
        sources[n_sources] = malloc(size);
        if (!sources[n_sources]) break;
        snprintf(sources[n_sources], size, "%s/%s", dir, res->files[i]);
        argv[n++] = sources[n_sources++];
    }
    argv[n++] = "-lgcc";
    argv[n] = NULL;

    int code = 0, timed_out = 0;
    st = mco_run_tool(argv, log, 300, &code, &timed_out);
    for (int i = 0; i < n_sources; i++) free(sources[i]);
    if (st == MCO_OK && (timed_out || code != 0)) {
        char excerpt[300];
        mco_log_excerpt(log, "error", excerpt, sizeof excerpt);
        st = mco_error(MCO_ERR_UNSUPPORTED, "arm-none-eabi-gcc (%s) failed on %s: %s", cpu, dir,
                       excerpt[0] ? excerpt : timed_out ? "timed out" : "(no output)");
    }
    char *out = NULL;
    if (st == MCO_OK) {
        char *size_argv[] = {"arm-none-eabi-size", obj, NULL};
        st = mco_run_tool_capture(size_argv, log, 60, &out, &code);
        unsigned long text, data, bss;
        /* "   text    data     bss     dec     hex filename\n  1234  ..." */
        const char *line = out ? strchr(out, '\n') : NULL;
        if (st == MCO_OK && (code != 0 || !line || sscanf(line, "%lu %lu %lu", &text, &data, &bss) != 3))
            st = mco_error(MCO_ERR_FORMAT, "arm-none-eabi-size: unexpected output");
        if (st == MCO_OK) {
            res->measured = 1;
            res->flash_bytes = text + data;
            res->ram_bytes = data + bss;
            res->code_bytes = res->flash_bytes > res->weight_bytes ? res->flash_bytes - res->weight_bytes : 0;
            res->stack_bytes = stack_estimate(work);
        }
    }
    free(out);
    mco_remove_tree(work);
    return st;
}
