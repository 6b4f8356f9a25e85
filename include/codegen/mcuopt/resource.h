/*
 * resource.h - predicting what a deployed model costs on an MCU without
 * running it: Flash, peak RAM, cycles, latency and energy per inference, per
 * op and in total, from the plan (mco_plan_build) and a calibration table.
 * Fast enough to call thousands of times (no compiler, no emulator).
 *
 * The model, per core class (m0plus, m3, m4f, m7; other cores map to the
 * nearest class, see mco_cost_class_for):
 *   cycles  = sum over ops of  c[kind] . features(op)
 *             + per inference: o0 * bytes copied in and out + o1 * ops + o2
 *             features (mco_plan_op_features, counted by each op kind's
 *             descriptor in src/codegen/op_*.c the way its kernel does the
 *             work): multiply-accumulates on the general path, on a
 *             specialised fast path, in the scalar tail of the 4-wide DSP
 *             loops, inner-loop runs, output elements, and 1;
 *   Flash   = every parameter array of the plan (4-byte aligned) + the const
 *             parameter struct (and op record, if the code has an op table)
 *             of each op + the code of the functions each op kind links
 *             (kernel, static helpers, libgcc / libc routines, each counted
 *             once) + model_run (grows with the ops and kinds) + the always
 *             linked base + what the link adds beyond the named symbols;
 *   RAM     = the arena as emitted (the plan's, less the model input and
 *             output when model_run reads and writes the caller's buffers:
 *             those belong to the caller, as in the measurement) + the static
 *             data those functions need + the deepest stack of the kinds used
 *             (kernel frame and callees).
 * latency = cycles / clock; energy = active current (uA/MHz) * clock * voltage
 * * latency, as mco_target_measure computes it.
 *
 * The planner reads the same model to choose among the kernels that can
 * run a layer (mco_plan_options.goal), so there is one cost model of the
 * kernels, not two.
 *
 * The calibration table (targets/calibration/resource-model.json; not in
 * targets/ itself, where every *.json is read as an MCU profile) comes from
 * mco_cost_model_calibrate (mcuopt/resource_calibration.h, a layer above:
 * it needs the emulator): a fixed set of small generated models in every
 * deploy format is run in QEMU per core class (mco_target_measure); the
 * cycles of each run are split over the op kinds by attributing every
 * executed instruction to its function and each helper's cycles to its
 * callers by call counts; c[kind] is a non-negative least-squares fit of
 * those per-kind cycles (relative error); code and data sizes are read per
 * symbol from the model-only link. The "measured" cycles are themselves the
 * emulator's estimate from exact instruction counts and per-core timing
 * tables (target_cycles.c), so the error of this model is its error against
 * that estimate, not against silicon.
 *
 * What it leaves out: cores and FPUs the table has no class for (the nearest
 * class is used and the estimate's note says so), kernels changed after the
 * calibration run (re-run it), data-dependent timing (soft-float routines,
 * early-out multipliers), and the application's own code and RAM.
 *
 * Example (ctx: a context whose resources are set, mcuopt/context.h):
 *   mco_cost_model *cm;
 *   mco_resource_estimate e;
 *   if (mco_cost_model_load(mco_context_resource(ctx, MCO_RESOURCE_COST_MODEL), &cm) == MCO_OK &&
 *       mco_resource_estimate_deploy(cm, &dm, &target, 0, &e) == MCO_OK)
 *       printf("%.0f cycles, %zu B Flash, %zu B RAM\n", e.cycles, e.flash_bytes, e.ram_bytes);
 */
#ifndef MCUOPT_RESOURCE_H
#define MCUOPT_RESOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "mcuopt/codegen.h"
#include "mcuopt/deploy.h"
#include "mcuopt/graph.h"
#include "mcuopt/status.h"
#include "mcuopt/target.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- features of an op ---------------------------------------------------- */

enum {
    MCO_COST_MACS = 0,       /* multiply-accumulates (window elements for pools, elements for
                                element-wise ops) on the general path; padding clipped away */
    MCO_COST_FAST_MACS,      /* MACs on a specialised path (3x3 one-channel conv + pool: the
                                register-held path of the general kernel, the assembly path of
                                the 3x3 kernel; the paired-tap path of the sparse conv; the
                                whole 3x3 windows of the depthwise DSP lines path) */
    MCO_COST_TAIL_MACS,      /* int8 MACs left to the scalar tail of the 4-wide DSP loops (the
                                register-blocked convs: values widened into their im2col columns;
                                fast MACs: those assembled first, src/codegen/op_conv_blocked.c;
                                the depthwise lines path: the input values widened to int16) */
    MCO_COST_LOOPS,          /* inner-loop runs: dot-product rows, pixels, channels, rows; for the
                                sparse Dense kernel its dispatches (non-empty groups, skips) */
    MCO_COST_OUTPUTS,        /* output elements written (requantized); the register-blocked
                                conv and conv + pool (whose outputs are a fixed multiple of
                                their loops) count here the calls that assemble their windows
                                instead: im2col, widening, memcpy per kernel row, memset */
    MCO_COST_CALLS,          /* 1: the kernel call */
    MCO_COST_N_FEATURES
};

/* Name of a feature ("macs", ...). */
const char *mco_cost_feature_name(int feature);

/* The features of op `op` of a plan, as the kernels it calls do the work. */
void mco_plan_op_features(const mco_plan *plan, int op, double features[MCO_COST_N_FEATURES]);

/* The stack that op `op`'s kernel takes on top of its fixed frame because
 * it scales with the layer: the widened input of the 3x3 conv + pool
 * assembly path (DSP cores), the widened input of the sparse Dense kernel.
 * The calibration stores each kind's stack without it; the estimate adds it. */
size_t mco_plan_op_stack_scratch(const mco_plan *plan, int op, int dsp);

/* The parameter bytes of one op as emitted: its arrays rounded up to 4 bytes
 * each (the struct and op record sizes come from the table). */
size_t mco_plan_op_array_bytes(const mco_plan *plan, int op);

/* How the emitted model_run binds the model input and output (as
 * src/codegen/emit.c does): read / written in the caller's buffers unless an
 * op writes the input in place or the output is the input; then they are
 * copied, and *copied_bytes counts those copies. Returns the emitted arena
 * size (MODEL_ARENA_SIZE). */
size_t mco_plan_emitted_arena(const mco_plan *plan, size_t *copied_bytes);

/* ---- the calibration table --------------------------------------------------- */

#define MCO_COST_MAX_KINDS 48       /* >= MCO_OP_KIND_COUNT (mcuopt/op.h) */
#define MCO_COST_MAX_PARAMS_TYPES 16
#define MCO_COST_MAX_SYMBOLS 192
#define MCO_COST_MAX_KIND_SYMBOLS 24
#define MCO_COST_MAX_CLASSES 8

typedef struct {
    char name[48];
    uint32_t flash_bytes;    /* text, rodata and initialised data */
    uint32_t ram_bytes;      /* initialised data and bss */
    int base;                /* 1: linked into every model */
} mco_cost_symbol;

typedef struct {
    int samples;             /* calibration rows the cycle fit used; 0: not calibrated */
    double cycles[MCO_COST_N_FEATURES];   /* cycles per unit of each feature */
    double fit_rms_rel_error, fit_max_rel_error;   /* on its calibration rows */
    uint32_t stack_bytes;    /* deepest model_run stack seen with this kind (0: unknown) */
    int n_symbols;
    int symbols[MCO_COST_MAX_KIND_SYMBOLS];   /* indices into the class's symbols */
} mco_cost_kind;

typedef struct {
    char name[16];           /* "m0plus", "m3", "m4f", "m7" */
    char core[16];           /* core it was calibrated on ("cortex-m4f") */
    char fpu[8];             /* "none", "sp", "dp" */
    char qemu_machine[32];   /* the machine that ran the calibration */
    double overhead[3];      /* model_run: cycles per byte copied, per op, per inference */
    mco_cost_kind kinds[MCO_COST_MAX_KINDS];   /* indexed by mco_op_kind */
    int n_symbols;
    mco_cost_symbol symbols[MCO_COST_MAX_SYMBOLS];
    double glue_bytes[3];        /* model_run (and a dispatcher, if any): bytes = [0] + [1] * kinds
                                    used + [2] * ops */
    double flash_extra_bytes;    /* mean link padding beyond the named symbols */
    uint32_t params_struct_bytes[MCO_COST_MAX_PARAMS_TYPES];   /* by mco_params_type, 0: unknown */
    uint32_t op_record_bytes;    /* one mco_op in an op table (0: the code has none) */
    uint32_t stack_default;      /* for kinds without their own figure */
    int n_models;                /* calibration models measured */
    double fit_max_rel_error;    /* whole-model cycles on the calibration models */
} mco_cost_class;

typedef struct mco_cost_model {
    int n_classes;
    mco_cost_class classes[MCO_COST_MAX_CLASSES];
    char toolchain[96];      /* arm-none-eabi-gcc version of the calibration */
    char created[32];        /* UTC time of the calibration run */
    char path[512];          /* the file it was loaded from ("" if built in memory) */
} mco_cost_model;

/* Loads a table (the shipped one is the context's MCO_RESOURCE_COST_MODEL
 * file, mcuopt/context.h). *out is malloc'ed; free with
 * mco_cost_model_free. Unknown op kind names in the file are skipped. */
mco_status mco_cost_model_load(const char *path, mco_cost_model **out);

/* The context's table, for a call that plans code for a chip without being
 * given one (mco_measure_deploy_model, `mcuopt emit`): *out is NULL, and the
 * result MCO_OK, when the context names no table or its file does not exist
 * (the planner then takes the op table's order); a file that exists but does
 * not load is an error. Free *out with mco_cost_model_free. */
mco_status mco_cost_model_load_context(const mco_context *ctx, mco_cost_model **out);
mco_status mco_cost_model_save(const mco_cost_model *cm, const char *path);
void mco_cost_model_free(mco_cost_model *cm);

/* The class used for a profile ("m4f" for a Cortex-M4F, ...). *exact is 0
 * when the core has no class of its own (M0 -> m0plus, M33/M55 -> m4f,
 * M4 without FPU -> m3 for its float code); `why` (optional) says so. */
const mco_cost_class *mco_cost_class_for(const mco_cost_model *cm, const mco_target_profile *t, int *exact,
                                         char *why, size_t why_size);
/* The name of that class ("m4f"), for mco_plan_options.core_class. */
const char *mco_cost_class_name(const mco_target_profile *t);
/* The class of that name in a table, NULL if it has none. */
const mco_cost_class *mco_cost_class_named(const mco_cost_model *cm, const char *name);
/* The class the planner assumes when it is given none: the Cortex-M4F. */
#define MCO_COST_DEFAULT_CLASS "m4f"

/* ---- estimates -------------------------------------------------------------------- */

typedef struct {
    int kind;                /* mco_op_kind */
    char kind_name[32];      /* "CONV2D_S8" */
    char layer[2 * MCO_NAME_MAX + 4];   /* "conv2d_1" or "conv2d_1..maxpool2d_1" */
    double features[MCO_COST_N_FEATURES];
    uint64_t macs;           /* features[MACS] + features[FAST_MACS] */
    size_t param_bytes;      /* arrays + parameter struct + op record */
    size_t code_bytes;       /* code and constants first linked for this op's kind (0 if an
                                earlier op has the same kind) */
    size_t arena_bytes;      /* bytes of the arena live while the op runs (not the caller's
                                input / output buffers) */
    size_t stack_bytes;      /* stack of its kind */
    double cycles;
    int calibrated;          /* 0: the kind had no calibration; a fallback kind was used */
} mco_resource_op;

typedef struct {
    char target[32];
    char core_class[16];
    double clock_mhz;
    int n_ops;
    mco_resource_op *ops;    /* malloc'ed [n_ops] */
    double overhead_cycles;  /* model_run: copies and the op loop */
    double cycles;           /* total per inference */
    double latency_ms;
    double energy_uj;
    size_t param_bytes;      /* sum of the ops' */
    size_t code_bytes;       /* kernels + dispatcher + base + link padding: at least the
                                sum of the ops' code_bytes */
    size_t flash_bytes;
    size_t arena_bytes;
    size_t static_ram_bytes; /* arena + static data of the linked functions */
    size_t stack_bytes;
    size_t ram_bytes;        /* static + stack */
    int fits_flash, fits_ram;   /* fits_ram: static RAM and stack placed on the target's RAM regions */
    mco_ram_placement ram_placement; /* where (mco_target_place_ram) */
    int uncalibrated_ops;    /* ops whose kind had no calibration of its own */
    char note[512];          /* what the figures are and any approximation used */
} mco_resource_estimate;

/* Estimate for a plan on a target; clock_mhz 0: the profile's maximum. */
mco_status mco_resource_estimate_plan(const mco_cost_model *cm, const mco_plan *plan, const mco_target_profile *t,
                                      double clock_mhz, mco_resource_estimate *out);

/* Plans the deploy model for the target (default plan options, the
 * kernels chosen by this table for the target's class) and estimates it. */
mco_status mco_resource_estimate_deploy(const mco_cost_model *cm, const mco_deploy_model *dm,
                                        const mco_target_profile *t, double clock_mhz,
                                        mco_resource_estimate *out);
/* The same with plan options (po NULL: the defaults); their cost_model and
 * core_class are replaced by cm and the target's class. */
mco_status mco_resource_estimate_deploy_with(const mco_cost_model *cm, const mco_deploy_model *dm,
                                             const mco_target_profile *t, double clock_mhz,
                                             const mco_plan_options *po, mco_resource_estimate *out);

/* For a configuration that has no trained weights yet: a float model (shapes
 * inferred; parameters may be unallocated) in the deploy format `format`.
 * Placeholder parameters are drawn from a fixed seed and int8 calibration
 * uses one synthetic sample, so only sizes and timing are meaningful. */
mco_status mco_resource_estimate_arch(const mco_cost_model *cm, const mco_model *float_model,
                                      const mco_quant_options *format, const mco_target_profile *t,
                                      double clock_mhz, mco_resource_estimate *out);

void mco_resource_estimate_free(mco_resource_estimate *e);

/* ---- least squares ---------------------------------------------------------------- */

/* Non-negative weighted least squares (Lawson-Hanson): x >= 0 minimising
 * sum_i (weights[i] * (sum_j a[i*cols + j] * x[j] - b[i]))^2. weights may be
 * NULL (all 1). Columns that are all zero get x = 0. rows, cols >= 1,
 * cols <= 64. */
mco_status mco_least_squares_nonneg(int rows, int cols, const double *a, const double *b, const double *weights,
                                    double *x);

#ifdef __cplusplus
}
#endif
#endif
