/*
 * emit_measure.c - Flash and RAM of an emitted model, measured with the
 * real cross compiler: every .c file of the directory is compiled for the
 * chosen core with -O2 -ffunction-sections -fdata-sections and linked into
 * one relocatable object with --gc-sections from NAME_run (libgcc
 * included, for the soft-float and division helpers of cores without an
 * FPU); arm-none-eabi-size then gives text, data and bss:
 *   Flash = text + data, static RAM = data + bss (the arena is in bss).
 * With an audio front-end NAME_run_pcm is kept too (its tables and
 * mco_mfcc.c count in Flash) and the stack is the deeper of the two.
 * The worst-case stack of NAME_run is the deepest path of the call graph
 * GCC writes with -fcallgraph-info=su (each function's -fstack-usage frame,
 * each call), from NAME_run down; unknown (0) if the graph has recursion, a
 * dynamic frame or an indirect call. The package's example/ is not compiled.
 *
 * What it leaves out: the frames of libc's memcpy and libgcc's helpers
 * (leaf functions of a few dozen bytes, not compiled here), the startup
 * code and vector table of a real firmware image, and other compilers and
 * optimisation levels (the frames are GCC -O2's).
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

/* The call graph of the compiled package, from GCC's -fcallgraph-info=su
 * files (.ci, one per source, VCG text): a node per function with its
 * frame ("N bytes (static)"), an edge per call. */
#define MAX_NODES 512
#define MAX_EDGES 2048

typedef struct {
    char title[160];
    long bytes;        /* -1: not compiled here (libc, libgcc) */
    int dynamic;       /* the frame is not static (alloca, VLA): no bound */
} cg_node;

typedef struct {
    int n_nodes, n_edges;
    cg_node nodes[MAX_NODES];
    int from[MAX_EDGES], to[MAX_EDGES];
    int overflow;
} call_graph;

static int cg_node_index(call_graph *g, const char *title)
{
    for (int i = 0; i < g->n_nodes; i++)
        if (strcmp(g->nodes[i].title, title) == 0) return i;
    if (g->n_nodes == MAX_NODES) {
        g->overflow = 1;
        return -1;
    }
    cg_node *n = &g->nodes[g->n_nodes];
    snprintf(n->title, sizeof n->title, "%s", title);
    n->bytes = -1;
    n->dynamic = 0;
    return g->n_nodes++;
}

/* Copies the quoted value after `key` in `line` into out; 0 if absent. */
static int quoted_after(const char *line, const char *key, char *out, size_t cap)
{
    const char *p = strstr(line, key);
    if (!p) return 0;
    p += strlen(key);
    const char *end = strchr(p, '"');
    if (!end || (size_t)(end - p) >= cap) return 0;
    memcpy(out, p, (size_t)(end - p));
    out[end - p] = '\0';
    return 1;
}

static void cg_read(call_graph *g, char *text)
{
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char a[160], b[160];
        if (strncmp(line, "node:", 5) == 0 && quoted_after(line, "title: \"", a, sizeof a)) {
            int i = cg_node_index(g, a);
            const char *bytes = quoted_after(line, "label: \"", b, sizeof b) ? strstr(line, " bytes (") : NULL;
            if (i >= 0 && bytes) {
                const char *num = bytes;
                while (num > line && num[-1] >= '0' && num[-1] <= '9') num--;
                g->nodes[i].bytes = strtol(num, NULL, 10);
                g->nodes[i].dynamic = strncmp(bytes, " bytes (static)", 15) != 0;
            }
        } else if (strncmp(line, "edge:", 5) == 0 && quoted_after(line, "sourcename: \"", a, sizeof a) &&
                   quoted_after(line, "targetname: \"", b, sizeof b)) {
            int i = cg_node_index(g, a), j = cg_node_index(g, b);
            if (i < 0 || j < 0 || g->n_edges == MAX_EDGES) {
                g->overflow = 1;
                continue;
            }
            g->from[g->n_edges] = i;
            g->to[g->n_edges++] = j;
        }
    }
}

/* The deepest stack below node i (its frame included); -1 if unbounded
 * (recursion, a dynamic frame, an indirect call). `state`: 0 unvisited,
 * 1 on the path, 2 done (depth[i] set). */
static long cg_depth(const call_graph *g, int i, int *state, long *depth)
{
    if (state[i] == 2) return depth[i];
    if (state[i] == 1) return -1;   /* recursion */
    const cg_node *n = &g->nodes[i];
    if (n->dynamic || strstr(n->title, "__indirect_call")) return -1;
    state[i] = 1;
    long deepest = 0;
    for (int e = 0; e < g->n_edges && deepest >= 0; e++) {
        if (g->from[e] != i) continue;
        long d = cg_depth(g, g->to[e], state, depth);
        deepest = d < 0 ? -1 : d > deepest ? d : deepest;
    }
    state[i] = 2;
    depth[i] = deepest < 0 ? -1 : deepest + (n->bytes > 0 ? n->bytes : 0);
    return depth[i];
}

/* Worst-case stack bytes of `entry` from the .ci files in `dir`; 0 if
 * unknown. Functions not compiled here (memcpy, libgcc helpers) count 0. */
static size_t stack_worst_case(const char *dir, const char *entry)
{
    call_graph *g = calloc(1, sizeof *g);
    DIR *d = g ? opendir(dir) : NULL;
    if (!d) {
        free(g);
        return 0;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 4 || strcmp(e->d_name + len - 3, ".ci") != 0) continue;
        char path[4400], *text = NULL;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (mco_read_text_file(path, MCO_READ_GENERATED_MAX, &text) != MCO_OK) continue;
        cg_read(g, text);
        free(text);
    }
    closedir(d);
    size_t worst = 0;
    int root = -1;
    for (int i = 0; i < g->n_nodes; i++)
        if (strcmp(g->nodes[i].title, entry) == 0) root = i;
    if (root >= 0 && !g->overflow && g->nodes[root].bytes >= 0) {
        int state[MAX_NODES] = {0};
        long depth[MAX_NODES];
        long w = cg_depth(g, root, state, depth);
        worst = w > 0 ? (size_t)w : 0;
    }
    free(g);
    return worst;
}

mco_status mco_emit_measure(const mco_context *ctx, const char *dir, const char *cpu, const mco_emit_names *nm,
                            int pcm,
                            mco_emit_result *res)
{
    if (!on_path("arm-none-eabi-gcc") || !on_path("arm-none-eabi-size")) return MCO_OK;
    const char *flags[3];
    mco_status st = cpu_flags(cpu, flags);
    if (st != MCO_OK) return st;
    char work[4096];
    if ((st = mco_context_make_temp_dir(ctx, "emit", work, sizeof work)) != MCO_OK) return st;
    char obj[4200], log[4200], dumpdir[4200], include[4200], include_rt[4200], entry[80], keep[96], run[64];
    char keep_pcm[96], run_pcm[72];
    snprintf(obj, sizeof obj, "%s/model.o", work);
    snprintf(log, sizeof log, "%s/build.log", work);
    snprintf(dumpdir, sizeof dumpdir, "%s/", work);
    snprintf(include, sizeof include, "-I%s", dir);
    snprintf(include_rt, sizeof include_rt, "-I%s/%s", dir, MCO_EMIT_RUNTIME_DIR);
    snprintf(run, sizeof run, "%s_run", nm->lower);
    snprintf(entry, sizeof entry, "-Wl,-e,%s", run);
    snprintf(keep, sizeof keep, "-Wl,-u,%s", run);
    snprintf(run_pcm, sizeof run_pcm, "%s_run_pcm", nm->lower);
    snprintf(keep_pcm, sizeof keep_pcm, "-Wl,-u,%s", run_pcm);

    char *argv[MAX_ARGS + 1];
    char *sources[MCO_EMIT_MAX_FILES];
    int n_sources = 0, n = 0;
    const char *fixed[] = {"arm-none-eabi-gcc", "-mthumb", "-std=c99", "-O2", "-ffp-contract=off",
                           "-ffunction-sections", "-fdata-sections", "-fcallgraph-info=su", "-nostdlib", "-r",
                           "-Wl,--gc-sections", "-dumpdir"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) argv[n++] = (char *)fixed[i];
    argv[n++] = dumpdir;
    for (int i = 0; i < 3; i++)
        if (flags[i]) argv[n++] = (char *)flags[i];
    argv[n++] = keep;
    if (pcm) argv[n++] = keep_pcm;
    argv[n++] = entry;
    argv[n++] = include;
    argv[n++] = include_rt;
    argv[n++] = "-o";
    argv[n++] = obj;
    for (int i = 0; i < res->n_files && n < MAX_ARGS - 2; i++) {
        size_t len = strlen(res->files[i]);
        if (len < 3 || strcmp(res->files[i] + len - 2, ".c") != 0 || strncmp(res->files[i], "example/", 8) == 0)
            continue;
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
            res->stack_bytes = stack_worst_case(work, run);
            if (pcm) {   /* the deeper of the two entry points (0 if either is unknown) */
                size_t s = stack_worst_case(work, run_pcm);
                res->stack_bytes = s && res->stack_bytes ? (s > res->stack_bytes ? s : res->stack_bytes) : 0;
            }
        }
    }
    free(out);
    mco_remove_tree(work);
    return st;
}
