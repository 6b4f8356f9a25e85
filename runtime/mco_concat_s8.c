/*
 * mco_concat_s8.c - int8 Concat along the channels of two NHWC tensors of
 * one height and width (TFLite's CONCATENATION semantics): each output
 * pixel is input 1's channels, then input 2's. An input whose
 * quantization is the output's is copied unchanged; another goes through
 * its 256-entry table, table[q + 128] = the output value of q. The host
 * fills the tables (op_elementwise.c) with TFLite's reference rule
 * (reference_ops::ConcatenationWithScaling: round(q * scale + bias) in
 * float, scale = in_scale * (1 / out_scale), bias = -zp_in * scale, plus
 * the output zero point, saturated), so a table lookup is that rule bit for
 * bit on a chip without a floating-point unit, and faster than any
 * arithmetic.
 *
 * What it leaves out: more than two inputs (a chain of two-input concats
 * does that), other axes.
 */
#include <string.h>

#include "mco_runtime.h"

/* n values of one input into the output: copied, or looked up. */
static void put_channels(int8_t *out, const int8_t *in, int32_t n, const int8_t *table)
{
    int32_t k;
    if (!table) {
        memcpy(out, in, (size_t)n);
        return;
    }
    for (k = 0; k < n; k++) out[k] = table[in[k] + 128];
}

mco_rt_status mco_concat_s8(const mco_concat_s8_params *p, const int8_t *input1, const int8_t *input2,
                            const int8_t *tables, int8_t *output)
{
    int32_t i;
    size_t c1, c2;
    const int8_t *t1, *t2;
    if (!p || !input1 || !input2 || !output || p->pixels <= 0 || p->channels1 <= 0 || p->channels2 <= 0 ||
        ((p->requantize1 || p->requantize2) && !tables))
        return MCO_RT_ARG_ERROR;
    c1 = (size_t)p->channels1;
    c2 = (size_t)p->channels2;
    t1 = p->requantize1 ? tables : NULL;
    t2 = p->requantize2 ? tables + 256 : NULL;
    for (i = 0; i < p->pixels; i++) {
        put_channels(output, input1 + (size_t)i * c1, p->channels1, t1);
        put_channels(output + c1, input2 + (size_t)i * c2, p->channels2, t2);
        output += c1 + c2;
    }
    return MCO_RT_OK;
}
