/*
 * mco_concat_s8.c - int8 Concat along the channels of two NHWC tensors of
 * one height and width (TFLite's CONCATENATION semantics): each output
 * pixel is input 1's channels, then input 2's, each input requantized to
 * the output's scale and zero point, q_out = requantize(q_in - zp_in) +
 * zp_out with the input's multiplier and shift of in_scale / out_scale
 * (TFLite's fixed-point MultiplyByQuantizedMultiplier; its reference kernel
 * computes the same ratio in float), saturated to [-128, 127]. An input
 * whose quantization is the output's (multiplier 0) is copied unchanged.
 *
 * What it leaves out: more than two inputs (a chain of two-input concats
 * does that), other axes.
 */
#include <string.h>

#include "mco_fixed_point.h"
#include "mco_runtime.h"

/* n values of one input into the output. */
static void put_channels(int8_t *out, const int8_t *in, int32_t n, int32_t offset, int32_t multiplier,
                         int32_t shift, int32_t output_offset)
{
    int32_t k;
    if (multiplier == 0) {
        memcpy(out, in, (size_t)n);
        return;
    }
    for (k = 0; k < n; k++) {
        int32_t v = mco_fp_clamp(mco_fp_requantize(in[k] + offset, multiplier, shift), -256, 255) + output_offset;
        out[k] = (int8_t)mco_fp_clamp(v, -128, 127);
    }
}

mco_rt_status mco_concat_s8(const mco_concat_s8_params *p, const int8_t *input1, const int8_t *input2,
                            int8_t *output)
{
    int32_t i;
    size_t c1, c2;
    if (!p || !input1 || !input2 || !output || p->pixels <= 0 || p->channels1 <= 0 || p->channels2 <= 0 ||
        p->input1_offset < -127 || p->input1_offset > 128 || p->input2_offset < -127 || p->input2_offset > 128 ||
        p->output_offset < -128 || p->output_offset > 127 || p->input1_multiplier < 0 || p->input2_multiplier < 0 ||
        p->input1_shift < -31 || p->input1_shift > 30 || p->input2_shift < -31 || p->input2_shift > 30)
        return MCO_RT_ARG_ERROR;
    c1 = (size_t)p->channels1;
    c2 = (size_t)p->channels2;
    for (i = 0; i < p->pixels; i++) {
        put_channels(output, input1 + (size_t)i * c1, p->channels1, p->input1_offset, p->input1_multiplier,
                     p->input1_shift, p->output_offset);
        put_channels(output + c1, input2 + (size_t)i * c2, p->channels2, p->input2_offset, p->input2_multiplier,
                     p->input2_shift, p->output_offset);
        output += c1 + c2;
    }
    return MCO_RT_OK;
}
