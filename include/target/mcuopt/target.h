/*
 * target.h - MCU target profiles and measurement of emitted model code on an
 * emulated Cortex-M.
 *
 * A target profile (targets/<name>.json) describes one microcontroller: its
 * core, maximum clock, flash and RAM, FPU/DSP/Helium, active current for the
 * energy estimate, and which qemu-system-arm machine emulates its core.
 * Fields of a profile file (all required unless marked optional):
 *
 *   "name"             string   short name, e.g. "stm32f405" (matches the file name)
 *   "vendor"           string   e.g. "STMicroelectronics"
 *   "core"             string   cortex-m0 | cortex-m0plus | cortex-m3 | cortex-m4 |
 *                               cortex-m4f | cortex-m7 | cortex-m33 | cortex-m55
 *   "clock_mhz"        number   maximum core clock
 *   "flash_kb"         number   on-chip flash
 *   "ram_kb"           number   on-chip SRAM (all banks)
 *   "ram_regions"      array    optional: the RAM as the chip has it, one
 *                               object per separately addressed region, in
 *                               the order the model's data should prefer:
 *                               {"name": "SRAM", "kb": 128, "dma": true,
 *                                "tcm": false, "section": ""}
 *                               "name" (up to 15 characters), "kb" (>= 1),
 *                               "dma" (reachable by the DMA controllers),
 *                               "tcm" (tightly coupled to the core),
 *                               "section" (the linker section a firmware
 *                               puts data in to land there; "" = the
 *                               default .data/.bss region, which exactly
 *                               one region has). The sizes add up to
 *                               ram_kb. Absent: one region "RAM" of ram_kb
 *                               (the chip's SRAM is one contiguous block).
 *   "fpu"              string   "none" | "sp" | "dp"
 *   "dsp"              bool     DSP extension (SMLAD, SXTB16, ...)
 *   "helium"           bool     M-profile vector extension (MVE)
 *   "active_ua_per_mhz" number  run-mode current per MHz (datasheet typical)
 *   "voltage"          number   supply voltage that current was given at
 *   "qemu_machine"     string   qemu-system-arm 7.2 machine used to run code
 *                               for this core ("" if there is none); its
 *                               memory (firmware/ld/<machine>.ld) must be at
 *                               least the profile's Flash and RAM, or
 *                               measuring fails before any build. Cortex-M0/
 *                               M0+ profiles use mps2-an385 (a Cortex-M3):
 *                               every instruction that runs there is checked
 *                               to be ARMv6-M
 *   "source"           string   optional: where the figures come from
 *
 * Measurement (mco_target_measure) builds a firmware image from an emitted
 * model directory (compiled with arm-none-eabi-gcc or clang at the
 * requested optimisation level) plus test vectors, runs it under
 * qemu-system-arm with a TCG plugin that counts executed instructions
 * between two marker calls around model_run(), checks every output byte
 * against the expected output, and estimates cycles from the
 * per-instruction counts with a per-core timing table. Instruction counts
 * are exact; cycles, latency and energy are estimates (flash wait states,
 * bus contention, caches and dual issue are not modelled). Code with layer
 * marks (all emitted code) also gets both figures per op (see
 * mco_layer_measure).
 *
 * Example (ctx: a context whose resources are set, mcuopt/context.h):
 *   mco_target_profile t;
 *   if (mco_target_load(ctx, "stm32f405", &t) != MCO_OK) puts(mco_last_error());
 *   mco_measure_request req = { .ctx = ctx, .model_dir = "out/model", .n_inputs = 10,
 *       .inputs = in, .input_bytes = 784, .expected = exp, .output_bytes = 10 };
 *   mco_measure_result res;
 *   if (mco_target_measure(&t, &req, &res) == MCO_OK)
 *       printf("%d/%d ok, %.0f insns, %.3f ms\n", res.n_inputs - res.n_mismatch,
 *              res.n_inputs, res.insns_mean, res.latency_ms);
 */
#ifndef MCUOPT_TARGET_H
#define MCUOPT_TARGET_H

#include <stddef.h>
#include <stdint.h>

#include "mcuopt/context.h"
#include "mcuopt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    MCO_CORE_M0,
    MCO_CORE_M0PLUS,
    MCO_CORE_M3,
    MCO_CORE_M4,
    MCO_CORE_M4F,
    MCO_CORE_M7,
    MCO_CORE_M33,
    MCO_CORE_M55
} mco_core;

typedef enum { MCO_FPU_NONE, MCO_FPU_SP, MCO_FPU_DP } mco_fpu;

#define MCO_TARGET_MAX_REGIONS 8

/* One separately addressed RAM region of a chip ("ram_regions" above). */
typedef struct {
    char name[16];        /* "SRAM", "CCM", "DTCM", ... */
    int kb;
    int dma;              /* 0/1: the DMA controllers reach it */
    int tcm;              /* 0/1: tightly coupled memory */
    char section[32];     /* linker section for data placed there; "" = default .data/.bss */
} mco_ram_region;

typedef struct {
    char name[32];
    char vendor[48];
    mco_core core;
    char core_name[16];   /* as written in the file, e.g. "cortex-m4f" */
    double clock_mhz;     /* maximum core clock */
    int flash_kb;
    int ram_kb;           /* = the sum of the regions' kb */
    int n_ram_regions;    /* >= 1 once loaded */
    mco_ram_region ram_regions[MCO_TARGET_MAX_REGIONS]; /* in order of preference */
    mco_fpu fpu;
    int dsp;              /* 0/1 */
    int helium;           /* 0/1 */
    double active_ua_per_mhz;
    double voltage;
    char qemu_machine[32]; /* "" if no QEMU machine emulates the core */
    char source[512];      /* where the figures come from ("" if not given) */
    char path[512];        /* the file it was loaded from */
} mco_target_profile;

/* Loads a profile. `name_or_path` ending in ".json" is a file path; any
 * other string is a name looked up as <dir>/<name>.json, where <dir> is the
 * context's targets directory (MCO_RESOURCE_TARGETS). A profile whose QEMU
 * machine has less Flash or RAM than it claims (the machine's linker script
 * in the context's firmware directory) is refused; with a context without a
 * firmware directory (or NULL, fine for a path) that check is not made.
 * MCO_ERR_NOT_FOUND (message lists the available names) for an unknown name
 * or a context without a targets directory, MCO_ERR_IO for an unreadable
 * path, MCO_ERR_FORMAT naming file and field for a malformed profile. */
mco_status mco_target_load(const mco_context *ctx, const char *name_or_path, mco_target_profile *out);

/* Loads every profile in the context's targets directory, sorted by name.
 * On success *out is a malloc'ed array of *count profiles (free it with
 * free()). A malformed file makes the whole call fail with its error. */
mco_status mco_target_list(const mco_context *ctx, mco_target_profile **out, int *count);

/* Where a model's RAM goes on a chip with several regions (target_ram.c).
 * The static RAM (the model's arena and the runtime's .data/.bss: a linker
 * puts them in one region) goes to the first region in preference order
 * that holds it; the stack to the first region with room left after that. */
typedef struct {
    int placed;                 /* 1 if both found a region */
    int static_region;          /* index into ram_regions, -1 if none holds it */
    int stack_region;           /* index, -1 if none has room (or static was not placed) */
    size_t used[MCO_TARGET_MAX_REGIONS]; /* bytes placed in each region */
    char why[512];              /* when not placed: one line saying what fits nowhere */
} mco_ram_placement;

/* Places `static_bytes` and `stack_bytes` on t's regions (see above).
 * Returns out->placed; never fails otherwise. A profile with no regions
 * (not loaded by mco_target_load) counts as one region of ram_kb. */
int mco_target_place_ram(const mco_target_profile *t, size_t static_bytes, size_t stack_bytes,
                         mco_ram_placement *out);

/* The largest single block of static RAM t can place (its largest region):
 * the RAM limit for a figure that is not split into static and stack. */
size_t mco_target_ram_block_bytes(const mco_target_profile *t);

/* One line describing the placement, e.g.
 * "SRAM 98,304 of 131,072 B (static), CCM 2,048 of 65,536 B (stack)";
 * "not placed: <why>" when it was not. */
void mco_ram_placement_describe(const mco_target_profile *t, const mco_ram_placement *pl, char *buf, size_t size);

/* Short name of a core ("cortex-m4f") and of an FPU kind ("sp"). */
const char *mco_core_name(mco_core core);
const char *mco_fpu_name(mco_fpu fpu);

/* The compiler the model's code is built with for a measurement (the
 * harness and the link always use arm-none-eabi-gcc and its newlib):
 *   MCO_CC_GCC    arm-none-eabi-gcc
 *   MCO_CC_CLANG  clang --target=arm-none-eabi, with newlib's headers from
 *                 arm-none-eabi-gcc's sysroot, -fshort-enums (GCC's enum
 *                 ABI) and -munaligned-access where the core has it (GCC's
 *                 default; Clang's bare-metal default is strict alignment) */
typedef enum { MCO_CC_GCC, MCO_CC_CLANG } mco_cc;

/* "gcc" / "clang" to a compiler; MCO_ERR_ARG naming the choices otherwise. */
mco_status mco_cc_parse(const char *name, mco_cc *out);
const char *mco_cc_name(mco_cc cc);

/* Checks an optimisation flag: one of -O0 -O1 -O2 -O3 -Os -Og -Oz (both
 * compilers know them all); MCO_ERR_ARG naming the choices otherwise. */
mco_status mco_opt_level_check(const char *opt);

typedef struct {
    const mco_context *ctx;  /* the firmware directory (required), the temporary
                                directory and the log */
    const char *model_dir;   /* emitted code: model.h, model.c, runtime .c/.h */
    int n_inputs;            /* >= 1 */
    const uint8_t *inputs;   /* n_inputs * input_bytes bytes */
    size_t input_bytes;      /* MODEL_INPUT_SIZE * sizeof(model_input_t) */
    const uint8_t *expected; /* n_inputs * output_bytes bytes: host results */
    size_t output_bytes;     /* MODEL_OUTPUT_SIZE * sizeof(model_output_t) */
    double clock_mhz;        /* 0: the profile's maximum clock */
    const char *work_dir;    /* NULL: a fresh directory in the context's temporary
                                directory, removed afterwards; else build
                                products stay there */
    int timeout_s;           /* QEMU time limit; 0: 300 s */
    /* Optional, NULL-terminated lists (NULL: none): more C sources compiled
     * into the firmware and the size link with the model's compiler and
     * flags (code the model calls that does not live in model_dir, e.g. a
     * kernel library measured for comparison), and more -I directories for
     * them. */
    const char *const *extra_sources;
    const char *const *extra_include_dirs;
    int no_layer_marks;      /* 1: build without the layer marks: totals only, from exactly the
                                production code (to check what the marks cost, see below) */
    mco_cc cc;               /* compiler of the model code and the extra sources (default gcc) */
    const char *opt;         /* their optimisation flag; NULL: "-O2" */
    uint8_t *actual;         /* NULL, or n_inputs * output_bytes bytes: receives the outputs the
                                target computed (the expected ones where they agree) */
    int pcm;                 /* 1: the inputs are 16-bit PCM clips (input_bytes = 2 *
                                MODEL_PCM_SAMPLES) and the harness runs model_run_pcm (a model
                                with an audio front-end): the counts and sizes include it */
} mco_measure_request;

/* Per-layer figures need the model's layer marks: emitted model code has
 * an MCO_LAYER_MARK(k) before each op's kernel call and one after the last
 * (k = the number of ops), which the measurement build defines
 * (firmware/mco_layer_mark.h) and every other build leaves empty. Op k's
 * figures cover everything executed from its mark to the next: the call's
 * argument set-up, the kernel with every helper it calls, and the status
 * check. What runs before the first mark and after the last (the harness's
 * call, model_run's entry, input/output copies and return) is the overhead,
 * so the total is exactly overhead + the sum over the ops. */
#define MCO_MEASURE_MAX_LAYERS 256   /* = MCO_MAX_LAYERS: an op runs at least one model layer */

typedef struct {
    double insns;           /* exact instructions per inference (mean over the inputs) */
    double cycles_est;      /* estimated cycles per inference */
    /* set by mco_measure_deploy_model (mcuopt/measure.h) from its plan; 0 / -1 otherwise */
    int op_kind;            /* the op's kernel kind (mco_op_kind_name()), -1 if not known */
    int first_layer, last_layer; /* the model layers the op runs, -1 if not known */
    uint64_t macs;          /* multiply-accumulates of those layers */
} mco_layer_measure;

typedef struct {
    int n_inputs;
    int n_mismatch;             /* inputs whose output differs or model_run != 0 */
    int first_mismatch;         /* index of the first one, -1 if none */
    double insns_mean;          /* executed instructions per inference (exact count) */
    uint64_t insns_min, insns_max;
    int insns_identical;        /* 1 if every inference ran the same count */
    double cycles_est;          /* estimated cycles per inference (mean) */
    double clock_mhz;           /* clock the latency is given for */
    double latency_ms;          /* cycles_est / clock */
    double energy_uj;           /* active current * voltage * latency (estimate) */
    size_t flash_bytes;         /* model + runtime code + weights (+ libc/libgcc helpers) */
    size_t static_ram_bytes;    /* .data + .bss of model + runtime (arena, buffers) */
    size_t stack_bytes;         /* peak stack depth of model_run over all inputs */
    size_t ram_bytes;           /* static_ram_bytes + stack_bytes */
    int fits_flash;             /* 1 if flash_bytes <= the profile's flash_kb */
    int fits_ram;               /* 1 if static RAM and stack are placed on the profile's
                                   RAM regions (the application's own RAM is not counted) */
    mco_ram_placement ram_placement; /* where they go (mco_target_place_ram); the
                                   emulator puts the arena in the static region, and
                                   the stack always in the default region */
    char ram_layout[320];       /* the profile's regions as the emulator had them, e.g.
                                   "SRAM 128 KB at 0x20000000, CCM 64 KB at 0x20020000; the
                                   arena in SRAM, the stack in SRAM (the firmware's default
                                   region)"; "" for one region (the machine's own RAM) */
    char qemu_machine[32];      /* machine the code ran on */
    char build[32];             /* how the model code was compiled, e.g. "clang -O0" */
    char note[320];             /* what the cycle figure is and what it leaves out */
    int n_layers;               /* ops measured one by one; 0 if the code has no layer marks */
    mco_layer_measure layers[MCO_MEASURE_MAX_LAYERS];  /* [n_layers], in op order */
    double overhead_insns;      /* insns_mean - the ops' sum (exact), when n_layers > 0 */
    double overhead_cycles_est; /* cycles_est - the ops' sum */
} mco_measure_result;

/* Builds, runs and measures (see the top of this file). Needs
 * arm-none-eabi-gcc with newlib, qemu-system-arm 7.2 with plugin support and
 * a host gcc on PATH (and clang for MCO_CC_CLANG). A model that fails to build, a QEMU timeout or crash
 * return an error with one clear line; output mismatches are not an error
 * (they are counted in the result). */
mco_status mco_target_measure(const mco_target_profile *t, const mco_measure_request *req,
                              mco_measure_result *res);

#ifdef __cplusplus
}
#endif
#endif
