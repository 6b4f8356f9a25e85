/*
 * mco_concat_f32.c - float Concat along the channels of two NHWC tensors
 * of one height and width: each output pixel is input 1's channels, then
 * input 2's.
 *
 * What it leaves out: more than two inputs (a chain of two-input concats
 * does that), other axes.
 */
#include <string.h>

#include "mco_runtime.h"

mco_rt_status mco_concat_f32(const mco_concat_f32_params *p, const float *input1, const float *input2,
                             float *output)
{
    int32_t i;
    size_t c1, c2;
    if (!p || !input1 || !input2 || !output || p->pixels <= 0 || p->channels1 <= 0 || p->channels2 <= 0)
        return MCO_RT_ARG_ERROR;
    c1 = (size_t)p->channels1;
    c2 = (size_t)p->channels2;
    for (i = 0; i < p->pixels; i++) {
        memcpy(output, input1 + (size_t)i * c1, c1 * sizeof *output);
        memcpy(output + c1, input2 + (size_t)i * c2, c2 * sizeof *output);
        output += c1 + c2;
    }
    return MCO_RT_OK;
}
