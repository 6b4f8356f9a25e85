/*
 * mco_io.h - the model's input and output in the types the caller chose
 * (mcuopt emit --input-type / --output-type): the conversions the emitted
 * NAME_run makes before its first kernel and after its last one, and the
 * ones the host makes to compute the same model input, so that host and chip
 * agree bit for bit.
 *
 *   float -> int8   x = (v * norm_scale - norm_mean) / norm_std (the model's
 *                   normalisation), q = clamp(floor(x / scale + 0.5) +
 *                   zero_point, -128, 127), all in double; a NaN gives the
 *                   zero point (x = 0)
 *   float -> float  x = (v * norm_scale - norm_mean) / norm_std in float
 *   uint8 -> int8 / float   a 256-entry table the emitter computes with the
 *                   host's own conversion of each byte value
 *   int8 -> float   the output dequantized: (q - zero_point) * scale
 *
 * What it leaves out: per-channel normalisation (the model has one scale,
 * mean and std for every input value) and uint8 or float16 outputs.
 */
#ifndef MCO_IO_H
#define MCO_IO_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A float input sample -> the model's input. */
typedef struct {
    float norm_scale, norm_mean, norm_std;   /* the normalisation: norm_std > 0 */
    float scale;                             /* the int8 input's quantization: scale > 0 */
    int32_t zero_point;
} mco_input_params;

/* One value: the int8 model input of a float sample value. */
int8_t mco_input_value_s8(const mco_input_params *p, float v);

/* A float's position among all floats in order, as an int32 (-0 and +0
 * alike; -infinity -0x7f800000, +infinity 0x7f800000), or
 * MCO_FLOAT_ORDER_NAN for a NaN: integer compares of positions order
 * floats as float compares do, with no floating point at all. */
#define MCO_FLOAT_ORDER_NAN ((int32_t)0x7fffffff)
int32_t mco_float_order(float v);

/* The same conversion without arithmetic: v -> int8 is non-decreasing in v
 * (every step above rounds monotonically, the scales being positive), so it
 * is fixed by the 255 floats where it steps up. steps[k] is the position
 * (mco_float_order) of the smallest float whose int8 input is at least
 * k - 127 (k = 0..254, non-decreasing); the result is -128 + the number of
 * steps <= v's position, found in eight integer compares; a NaN gives
 * nan_value. The host computes the table with mco_input_value_s8 itself
 * (mco_plan_io_init), so both agree on every float, on any core: ~50
 * instructions per value where the double arithmetic takes ~1,600 on a
 * Cortex-M4F, and the table (1 KB) is smaller than the double routines it
 * replaces. */
typedef struct {
    int32_t steps[255];
    int8_t nan_value;
} mco_input_steps;

void mco_input_f32_s8_steps(const mco_input_steps *t, const float *in, int8_t *out, int32_t n);

void mco_input_f32_s8(const mco_input_params *p, const float *in, int8_t *out, int32_t n);
void mco_input_f32_f32(const mco_input_params *p, const float *in, float *out, int32_t n);
void mco_input_u8_s8(const int8_t *table, const uint8_t *in, int8_t *out, int32_t n);
void mco_input_u8_f32(const float *table, const uint8_t *in, float *out, int32_t n);
void mco_output_s8_f32(float scale, int32_t zero_point, const int8_t *in, float *out, int32_t n);

#ifdef __cplusplus
}
#endif
#endif
