/*
 * validate.h - validating the emitted code on the user's own inputs, as
 * `stedgeai validate` does: the same inputs through the float model (when
 * there is one), the integer host runtime and the emitted C on an emulated
 * target, compared output by output (mcuopt validate).
 *
 * What it leaves out: models with several outputs (mcuopt models have one),
 * and per-layer comparisons of activations (the target's per-op figures are
 * instructions and cycles, from the measurement).
 */
#ifndef MCUOPT_VALIDATE_H
#define MCUOPT_VALIDATE_H

#include "mcuopt/measure.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    /* How the code is planned, typed, built and run (measure.h); n_samples,
     * inputs, host_outputs and target_outputs are mco_validate's own. */
    mco_measure_options measure;
    const mco_model *reference;   /* the float model to compare with; NULL: none */
} mco_validate_options;

void mco_validate_options_default(mco_validate_options *opt);

/* The inputs: a data set's samples (uint8 or float32), or the int8 model's
 * own quantized inputs (n of them, each the model's input size; the code
 * then takes int8). */
typedef struct {
    const mco_dataset *samples;   /* or NULL */
    const int8_t *model_inputs;   /* or NULL */
    int n;                        /* model_inputs: how many; samples: all of them (0) or the first n */
} mco_validate_inputs;

typedef struct {
    int n_inputs;
    int n_values;                /* values per output */
    mco_io_type output_type;     /* the emitted code's output (int8 or float) */
    int quantized;               /* 1: the model's output is int8: differences are in its steps */
    float output_scale;          /* its scale (quantized) */
    /* host runtime vs target */
    int identical;               /* inputs whose target output equals the host's byte for byte */
    long identical_values;       /* values equal bit for bit, of n_inputs * n_values */
    int first_difference;        /* the first input that differs, -1 if none */
    double max_diff;             /* largest |target - host| over all values: in quantization steps
                                    (quantized), else in the output's units */
    int top1_host_target;        /* inputs with the same top-1 on host and target */
    /* the float model, when given */
    int has_reference;
    int top1_host_reference;     /* inputs whose host top-1 equals the float model's */
    int top1_target_reference;   /* the same for the target */
    double max_diff_reference;   /* largest |host - float model| (quantized: in output steps of the
                                    dequantized host output) */
    /* labels, when the samples have them */
    int has_labels;
    int correct_reference, correct_host, correct_target;
    mco_measure_result measure;  /* the target's build, sizes and per-op instructions / cycles */
} mco_validate_result;

/* Inputs read from one file (mco_validate_read_inputs): samples, or int8
 * model inputs. */
typedef struct {
    mco_dataset samples;          /* uint8 / float32 samples, no labels (n 0 if int8) */
    int8_t *model_inputs;         /* int8 model inputs, or NULL */
    int n;                        /* inputs */
} mco_validate_file;

/* Reads the inputs of a model taking `shape` from `path`, by its name:
 *   NAME.npy  uint8 or float32 (samples) or int8 (the int8 model's own
 *             inputs); shape (N, ...) whose rows hold H*W*C values, or one
 *             sample of H*W*C values
 *   NAME.u8   raw bytes (samples), NAME.f32 little-endian float32 (samples),
 *   NAME.i8   int8 model inputs: N * H*W*C values, nothing else
 * Float values must be finite. One error line naming the file otherwise. */
mco_status mco_validate_read_inputs(const char *path, mco_shape shape, mco_validate_file *out);
void mco_validate_file_free(mco_validate_file *f);

/* Runs the inputs through the three and compares. A reference whose input
 * shape or output count differ from dm's is refused (MCO_ERR_SHAPE); so are
 * inputs whose shape differs. Differences are results, not errors. */
mco_status mco_validate(const mco_deploy_model *dm, const mco_target_profile *target, const mco_validate_inputs *in,
                        const mco_validate_options *opt, mco_validate_result *r);

#ifdef __cplusplus
}
#endif
#endif
