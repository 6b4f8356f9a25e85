/*
 * codegen.h - from a deploy model to code that runs on the MCU: the plan
 * (the model as a list of runtime kernel calls over one memory arena), the
 * host evaluator that executes that plan with the very kernels the chip
 * runs, and the C code generator that writes the plan out as a model.c /
 * model.h pair plus the runtime files it needs.
 *
 * The plan (mco_plan_build):
 *   - each Conv2D / DepthwiseConv2D / Dense / pool / Add / Softmax becomes
 *     one mco_op (mcuopt/op.h) with its kernel parameter struct;
 *   - a ReLU / ReLU6 right after a Conv2D, DepthwiseConv2D, Dense or Add
 *     that it is the only consumer of is fused into that op's clamp
 *     (int8: act_min = max(-128, zero point), ReLU6 act_max = min(127,
 *     zero point + round(6 / scale))); other ReLUs clamp in place;
 *   - Flatten and Dropout are no-ops: their output is their input's buffer;
 *   - Conv2D (+ ReLU) followed by MaxPool2D 2x2 stride 2 "valid" becomes one
 *     fused conv+pool kernel (opt->fuse_conv_pool), so the conv output is
 *     never stored (float32 or int8 weights with the matching activations);
 *   - where several kernels can run a layer (the int8 Dense kernel and the
 *     sparse one on pruned weights, runtime/mco_sparse.h; the general fused
 *     conv + pool, the specialised 3x3 one-channel one and the sparse one;
 *     a conv + pool fused or as two ops), the planner takes the one with
 *     the fewest cycles the resource model (mcuopt/resource.h) estimates
 *     for the target's core class, or the least Flash (opt->goal); the
 *     kernels and what each can run are the op descriptors of
 *     src/codegen/op_*.c (mcuopt/op.h lists them);
 *   - an int8 Conv2D / Dense output channel whose weights are all zero
 *     (pruned away) gets an equivalent requantization with a right shift
 *     (it outputs a constant), so the specialised kernels still apply;
 *   - float activations with int8 / int4 weights use the hybrid kernels of
 *     runtime/mco_hybrid.h (weights int8 + per-channel float scales); int4
 *     weights are then stored unpacked, one int8 per value (no Flash saving
 *     over int8 in that mode: only int8 activations have packed int4 kernels).
 *
 * The memory planner: every tensor lives from the op that writes it to the
 * last op that reads it (the model input from before op 0, the model output
 * to after the last op). Tensors are placed largest first (ties: lower
 * tensor index first); each goes at the lowest 4-byte aligned offset where
 * it overlaps no already placed tensor whose lifetime overlaps its own
 * (first fit over the gaps between those). The arena size is the highest
 * end offset: the real peak under this placement, not the sum of tensors.
 * An op's input and output always live at the same time, so kernels never
 * run in place, except the in-place ReLU clamp (it reads and writes one
 * tensor) and an op whose kernel allows it (mco_plan_op_info.
 * may_run_in_place: the 1x1 convolution with no more output than input
 * channels) when nothing else reads its input: its output tensor then
 * overlays the input's bytes (mco_plan_tensor.overlays). A kernel's scratch
 * buffer (mco_plan_op_info.scratch_bytes) is a tensor alive during its op only.
 *
 * What it leaves out: batch > 1, BatchNorm that was not folded, ReLUs whose
 * input has other consumers, int8 Add/Softmax without the quantizer's
 * parameters (see mco_plan_build's errors), operator scheduling (ops run in
 * layer order).
 */
#ifndef MCUOPT_CODEGEN_H
#define MCUOPT_CODEGEN_H

#include <stddef.h>
#include <stdint.h>

#include "mcuopt/context.h"
#include "mcuopt/data.h"
#include "mcuopt/deploy.h"
#include "mcuopt/op.h"
#include "mcuopt/status.h"
#include "mcuopt/train.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- plan ---------------------------------------------------------------- */

/* How the planner chooses among the kernels that can run a layer. */
typedef enum {
    MCO_PLAN_FASTEST = 0,  /* the fewest cycles the resource model estimates for the core class (default) */
    MCO_PLAN_SMALLEST,     /* the least Flash: the op's parameters and the code its kernel adds */
    MCO_PLAN_LISTED        /* the first in the op table's order (mcuopt/op.h): no cost table read */
} mco_plan_goal;

struct mco_cost_model;     /* mcuopt/resource.h */

typedef struct {
    int fuse_conv_pool;    /* 1 (default): Conv2D (+ReLU) + MaxPool 2x2/2 may run as one fused kernel */
    int fuse_activations;  /* 1 (default): ReLU/ReLU6 into the producing op's clamp */
    int sparse_weights;    /* 1 (default): int8 Dense / fused Conv2D+pool layers may run the sparse
                              kernels (runtime/mco_sparse.h) on their pruned weights */
    mco_plan_goal goal;    /* MCO_PLAN_FASTEST (default) */
    /* The resource model's table the choice reads (mcuopt/resource.h:
     * mco_cost_model_load_context loads the context's); NULL: none, and then
     * MCO_PLAN_FASTEST takes the first kernel in the op table's order and
     * MCO_PLAN_SMALLEST compares parameter bytes only. The planner reads no
     * file. */
    const struct mco_cost_model *cost_model;
    const char *core_class;       /* "m0plus", "m3", "m4f", "m7" (mco_cost_class_name); NULL: "m4f" */
    /* Kinds taken wherever they can run a layer, before any comparison,
     * the first listed first (the calibration measures every kernel this
     * way); NULL: none. */
    const mco_op_kind *prefer;
    int n_prefer;
} mco_plan_options;

void mco_plan_options_default(mco_plan_options *opt);

typedef enum { MCO_ELEM_F32 = 0, MCO_ELEM_S8 = 1 } mco_elem_type;

/* Element types of the arrays an op points to (for the code generator). */
typedef enum {
    MCO_DATA_NONE = 0,
    MCO_DATA_F32,
    MCO_DATA_U16,   /* IEEE half */
    MCO_DATA_S8,
    MCO_DATA_U8,    /* packed int4 */
    MCO_DATA_S32
} mco_data_type;

/* Which parameter struct an op's `params` points to. */
typedef enum {
    MCO_PARAMS_CONV_F32 = 0,   /* mco_conv_f32_params (conv, depthwise, pools) */
    MCO_PARAMS_FC_F32,         /* mco_fc_f32_params */
    MCO_PARAMS_WINDOW,         /* mco_window (float global average pool) */
    MCO_PARAMS_CLAMP_F32,      /* mco_clamp_f32_params (clamp, add, softmax) */
    MCO_PARAMS_CONV_S8,        /* mco_conv_s8_params */
    MCO_PARAMS_FC_S8,          /* mco_fc_s8_params */
    MCO_PARAMS_POOL_S8,        /* mco_pool_s8_params */
    MCO_PARAMS_CLAMP_S8,       /* mco_clamp_s8_params */
    MCO_PARAMS_ADD_S8,         /* mco_add_s8_params */
    MCO_PARAMS_SOFTMAX_S8,     /* mco_softmax_s8_params */
    MCO_PARAMS_CONV_S8W_F32,   /* mco_conv_s8w_f32_params (runtime/mco_hybrid.h) */
    MCO_PARAMS_FC_S8W_F32,     /* mco_fc_s8w_f32_params */
    MCO_PARAMS_MEAN_S8,        /* mco_mean_s8_params */
    MCO_PARAMS_ACTIVATION_F32, /* mco_activation_f32_params */
    MCO_PARAMS_LUT_S8,         /* mco_lut_s8_params */
    MCO_PARAMS_AVG_POOL_PAD_S8, /* mco_avg_pool_pad_s8_params */
    MCO_PARAMS_CONCAT_F32,     /* mco_concat_f32_params */
    MCO_PARAMS_CONCAT_S8,      /* mco_concat_s8_params */
    MCO_PARAMS_CONV_GENERAL_F32, /* mco_conv_general_f32_params */
    MCO_PARAMS_CONV_GENERAL_S8   /* mco_conv_general_s8_params */
} mco_params_type;

/* One tensor of the arena. first_op / last_op: its lifetime, inclusive
 * (-1 = before op 0 for the model input, n_ops = after the last op for the
 * model output). */
typedef struct {
    uint32_t offset;
    uint32_t bytes;
    int first_op, last_op;
    mco_elem_type type;
    mco_qparams q;             /* int8 tensors */
    mco_shape shape;
    /* -1, or the tensor whose bytes this one reuses: the output of an op
     * that runs in place over its input (the memory planner gives both
     * one place, alive over both lifetimes) */
    int overlays;
} mco_plan_tensor;

/* What the code generator needs to know about an op beyond the mco_op. */
typedef struct {
    int first_layer, last_layer;        /* the model layers it implements */
    mco_params_type params_type;
    mco_data_type weights_type;
    size_t weights_count;               /* elements (bytes for packed int4) */
    mco_data_type bias_type;
    size_t bias_count;
    int32_t n_channels;                 /* length of multiplier / shift / weight_scales */
    int input_tensor, input2_tensor, output_tensor;   /* -1 if none */
    int scratch_tensor;                 /* the op's scratch (mco_op.scratch_bytes > 0), -1 if none: a
                                           tensor that lives during the op alone */
    /* Set by the kind's prepare: the kernel may write its output over its
     * input (each output written only after the inputs it overwrites are
     * read). The planner then places the output over the input when no
     * other op reads that input and it is not the caller's model input. */
    int may_run_in_place;
} mco_plan_op_info;

typedef struct {
    int n_ops;
    mco_op *ops;               /* [n_ops] (mcuopt/op.h), what mco_plan_run executes */
    mco_plan_op_info *info;    /* [n_ops] */
    int n_tensors;
    mco_plan_tensor *tensors;  /* tensor 0 is the model input */
    int input_tensor, output_tensor;
    uint32_t arena_size;       /* bytes, a multiple of 4 */
    uint32_t input_offset, output_offset;
    int32_t input_size, output_size;   /* elements */
    mco_elem_type input_type, output_type;
    mco_qparams input_q, output_q;     /* for int8 input / output */
    size_t input_bytes, output_bytes;
    size_t param_bytes;        /* bytes of every weight, bias, multiplier, shift and scale array */
    /* everything the plan allocated (params, weights, ...), freed by mco_plan_free */
    void **allocs;
    int n_allocs, cap_allocs;
} mco_plan;

/* Builds the plan of a deploy model. The plan copies what it needs and does
 * not reference dm afterwards. On failure *plan is left empty (safe to free). */
mco_status mco_plan_build(const mco_deploy_model *dm, const mco_plan_options *opt, mco_plan *plan);
void mco_plan_free(mco_plan *plan);

/* The memory planner on its own: n tensors of sizes[i] bytes living over ops
 * [first[i], last[i]]; writes 4-byte aligned offsets[i] and the arena size.
 * Deterministic. */
mco_status mco_memory_plan(int n, const uint32_t *sizes, const int *first, const int *last,
                           uint32_t *offsets, uint32_t *arena_size);

/* The shape {in_h, in_w, out_c} every 3x3 conv + max pool op of the plan
 * (MCO_OP_CONV3X3_MAXPOOL_S8) shares, when its assembly path can take it
 * (width a multiple of 4, at most MCO_CONV3X3_ASM_MAX_PIXELS input pixels,
 * at most 255 channels): returns 1 and the emitted mco_config.h carries it;
 * else 0 (no such op, or they differ: the C path runs). On DSP cores that
 * path keeps the widened input on the stack: 2 * in_h * in_w bytes. */
#define MCO_CONV3X3_ASM_MAX_PIXELS 2048
int mco_plan_conv3x3_asm_shape(const mco_plan *plan, int32_t shape[3]);

/* ---- host evaluation ------------------------------------------------------ */

/* Runs the plan once: copies `input` (plan->input_bytes) into `arena`
 * (plan->arena_size bytes, 4-byte aligned), runs every op with the MCU
 * runtime, copies the output (plan->output_bytes) to `output`. */
mco_status mco_plan_run(const mco_plan *plan, uint8_t *arena, const void *input, void *output);

/* Turns one sample (mco_shape_size(input shape) values of `type`: raw
 * uint8 or float32) into the model input: floats normalised with the
 * model's normalisation, or for int8 activations
 * q = clamp(round(real / input.scale) + input.zero_point, -128, 127)
 * (computed in double, so raw/255 with scale 1/255, zero point -128 gives
 * exactly raw - 128). `input` receives input_size floats or int8. */
void mco_deploy_prepare_input(const mco_deploy_model *dm, mco_sample_type type, const void *sample, void *input);

/* For measuring on a chip: the prepared input bytes and the exact output
 * bytes of the plan for samples first..first+n-1 of `ds` (either sample
 * type). inputs gets n * plan->input_bytes, outputs n * plan->output_bytes;
 * either may be NULL. */
mco_status mco_deploy_predict_samples(const mco_deploy_model *dm, const mco_plan *plan, const mco_dataset *ds,
                                      int first, int n, void *inputs, void *outputs);

/* The same for n raw uint8 samples in one buffer (each mco_shape_size(input
 * shape) bytes). */
mco_status mco_deploy_predict_raw(const mco_deploy_model *dm, const mco_plan *plan, const uint8_t *raw,
                                  int n, void *inputs, void *outputs);

/* ---- the caller's input and output types ------------------------------------ */

/* The element type the emitted NAME_run takes or gives (mcuopt emit
 * --input-type / --output-type):
 *   MCO_IO_MODEL  the model's own: its int8 input (quantized as NAME.h says)
 *                 or its normalised float input; its int8 or float output
 *   MCO_IO_INT8   the int8 model's own quantized input / output
 *   MCO_IO_UINT8  (input) a raw byte per value, as the model's uint8 data
 *                 sets hold it: NAME_run normalises (and quantizes) it
 *   MCO_IO_FLOAT  (input) a float per value in the data's units (as float32
 *                 data sets hold it): NAME_run normalises (and quantizes) it;
 *                 (output) the int8 output dequantized, or the float output */
typedef enum { MCO_IO_MODEL = 0, MCO_IO_INT8, MCO_IO_UINT8, MCO_IO_FLOAT } mco_io_type;

/* "int8" / "uint8" / "float" (an output: "int8" / "float") to a type;
 * MCO_ERR_ARG naming the choices otherwise. */
mco_status mco_io_type_parse(const char *name, int is_output, mco_io_type *type);
const char *mco_io_type_name(mco_io_type type);   /* "int8", "uint8", "float"; "model" */

/* A plan's input and output as the caller sees them, with the conversions
 * NAME_run (and the host, through the same runtime functions of
 * runtime/mco_io.h) makes between them and the model's own. */
typedef struct {
    mco_io_type input_type, output_type;   /* resolved: never MCO_IO_MODEL */
    int convert_input, convert_output;     /* 1: a conversion runs (else the model's own buffers) */
    size_t input_bytes, output_bytes;      /* one sample's input / output as the caller passes them */
    /* uint8 input: the model input of each byte value (int8 or float model) */
    int8_t table_s8[256];
    float table_f32[256];
    /* float input: x = (v * norm_scale - norm_mean) / norm_std, then for an
     * int8 model q = clamp(floor(x / in_scale + 0.5) + in_zero_point) */
    float norm_scale, norm_mean, norm_std, in_scale;
    int32_t in_zero_point;
    /* ... or, when use_steps, the same results from the 255 values where
     * that conversion steps up (runtime/mco_io.h, mco_input_f32_s8_steps) */
    int use_steps;
    int32_t steps[255];
    int8_t steps_nan;
    float out_scale;                       /* int8 -> float output: (q - out_zero_point) * out_scale */
    int32_t out_zero_point;
} mco_plan_io;

/* The float -> int8 input conversion of these parameters as the 255 floats
 * where it steps up (steps[k]: the position in float order, runtime/mco_io.h
 * mco_float_order, of the smallest float whose int8 input is at least
 * k - 127; *nan_value: a NaN's), searched over every float with the
 * conversion itself, so a table lookup gives its results on every float.
 * Returns 0 (use the arithmetic) when the conversion is not monotonic (a
 * scale that is not positive). */
int mco_input_steps_build(float norm_scale, float norm_mean, float norm_std, float scale, int32_t zero_point,
                          int32_t steps[255], int8_t *nan_value);

/* Resolves the caller's types for a plan of dm (MCO_IO_MODEL: the plan's
 * own); MCO_ERR_UNSUPPORTED with one line for a type the model cannot take
 * (int8 in or out of a model computing in float, a uint8 output). */
mco_status mco_plan_io_init(const mco_deploy_model *dm, const mco_plan *plan, mco_io_type input,
                            mco_io_type output, mco_plan_io *io);

/* One sample of a data set (`type`) as the caller's input: raw bytes stay
 * bytes (uint8), become floats (float) or the model input (int8, as
 * mco_deploy_prepare_input); floats become the model input or stay floats,
 * and a uint8 input refuses them (MCO_ERR_UNSUPPORTED). */
mco_status mco_plan_io_input(const mco_deploy_model *dm, const mco_plan *plan, const mco_plan_io *io,
                             mco_sample_type type, const void *sample, void *input);

/* mco_plan_run on the caller's input and output (io->input_bytes and
 * io->output_bytes): the conversions NAME_run makes around the plan. */
mco_status mco_plan_io_run(const mco_plan *plan, const mco_plan_io *io, uint8_t *arena, const void *input,
                           void *output);

/* mco_deploy_predict_samples with the caller's types: n samples of `type`
 * from `samples`; inputs gets n * io->input_bytes, outputs n *
 * io->output_bytes (either may be NULL). */
mco_status mco_deploy_predict_io(const mco_deploy_model *dm, const mco_plan *plan, const mco_plan_io *io,
                                 mco_sample_type type, const void *samples, int n, void *inputs, void *outputs);

/* Accuracy, mean cross-entropy (from the dequantized logits; from the output
 * probabilities when the model ends in Softmax) and confusion matrix of the
 * deploy model on a data set, on `threads` threads (0: all cores), each with
 * its own arena. The result does not depend on the thread count. */
mco_status mco_deploy_evaluate(const mco_deploy_model *dm, const mco_dataset *ds, int threads,
                               mco_eval_result *r);

/* ---- C code generation ----------------------------------------------------- */

#define MCO_EMIT_MAX_FILES 48
#define MCO_EMIT_NAME_MAX 80     /* a path inside the package, e.g. "mcuopt_runtime/mco_pool_s8.c" */
#define MCO_EMIT_MODEL_NAME_MAX 32
#define MCO_EMIT_RUNTIME_DIR "mcuopt_runtime"   /* the package's subdirectory of runtime files */

/* How example/main.c prints (mcuopt emit --example):
 *   MCO_EXAMPLE_SEMIHOST  printf: on the host, or on an emulator / debugger
 *                         with semihosting (QEMU runs it as it is)
 *   MCO_EXAMPLE_UART      through example/board.c's two functions,
 *                         board_init() and board_putc(c), a stub the user
 *                         fills in for their board's UART (no printf) */
typedef enum { MCO_EXAMPLE_SEMIHOST = 0, MCO_EXAMPLE_UART } mco_emit_example;

#define MCO_EMIT_EXAMPLE_INPUTS_MAX 16   /* mcuopt emit --example-inputs */

/* "semihost" / "uart" to a kind; MCO_ERR_ARG naming the choices otherwise. */
mco_status mco_emit_example_parse(const char *name, mco_emit_example *out);

typedef struct {
    const mco_context *ctx;   /* the runtime directory (required) and the temporary directory */
    const char *cpu;     /* for the size measurement: cortex-m0plus | cortex-m3 | cortex-m4 (default) | cortex-m7 */
    int measure;         /* 1 (default): compile with arm-none-eabi-gcc if it is on PATH and report sizes */
    const char *name;    /* the model's name: NAME.h, NAME.c, NAME_run(), NAME_ARENA_SIZE, NAME.mk ...;
                            a C identifier of lower-case letters, digits and '_' (NULL: "model") */
    size_t measured_stack_bytes; /* the stack NAME_run used in an emulated run (stack painting,
                                    mcuopt/measure.h), written into NAME.h; 0: not measured */
    mco_io_type input_type, output_type;   /* what NAME_run takes and gives (default MCO_IO_MODEL) */
    mco_emit_example example;              /* the example's I/O (default MCO_EXAMPLE_SEMIHOST) */
    int example_inputs;                    /* built-in inputs example/main.c runs and checks, 1 (default)
                                              to MCO_EMIT_EXAMPLE_INPUTS_MAX */
} mco_emit_options;

/* MCO_OK if `name` can name an emitted model (see mco_emit_options.name);
 * else MCO_ERR_ARG with one line saying why. */
mco_status mco_emit_check_name(const char *name);

void mco_emit_options_default(mco_emit_options *opt);

typedef struct {
    int measured;              /* 1 if the sizes below come from arm-none-eabi-size */
    char cpu[24];
    size_t flash_bytes;        /* text + data of model.c + runtime, with unused sections removed */
    size_t weight_bytes;       /* the const parameter arrays and structs of model.c (exact, always set) */
    size_t code_bytes;         /* flash_bytes - weight_bytes */
    size_t ram_bytes;          /* static RAM: data + bss (includes the arena) */
    size_t arena_bytes;        /* MODEL_ARENA_SIZE (always set) */
    size_t stack_bytes;        /* worst-case stack of NAME_run: its deepest call chain from
                                  arm-none-eabi-gcc's -fstack-usage / -fcallgraph-info (-O2), 0 if unknown */
    int n_files;
    char files[MCO_EMIT_MAX_FILES][MCO_EMIT_NAME_MAX];
} mco_emit_result;

/* Writes the model's package into `dir` (created if missing; written
 * under a temporary name and put in place only when complete): NAME.h,
 * NAME.c, mcuopt_runtime/ (the runtime files the model needs and its
 * mco_config.h), README.md, CMakeLists.txt, NAME.mk and example/main.c;
 * nothing else (docs/design.md, "The emitted package"). The runtime is read from the context's runtime
 * directory (MCO_RESOURCE_RUNTIME). mco_emit_c: the default options with
 * ctx; mco_emit_c_with: the given options (NULL: defaults, no context, so
 * it fails for want of a runtime directory). */
mco_status mco_emit_c(const mco_context *ctx, const mco_deploy_model *dm, const mco_plan *plan, const char *dir,
                      mco_emit_result *res);
mco_status mco_emit_c_with(const mco_deploy_model *dm, const mco_plan *plan, const char *dir,
                           const mco_emit_options *opt, mco_emit_result *res);

#ifdef __cplusplus
}
#endif
#endif
