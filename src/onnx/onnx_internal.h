/*
 * onnx_internal.h - what onnx_import.c and onnx_export.c share: the C code
 * protoc-c generates from onnx_subset.proto (in the build directory), the
 * ONNX element type numbers mcuopt uses, and the weight layout conversions
 * between ONNX (NCHW, OIHW) and mcuopt (NHWC, OHWI), which import and export
 * must agree on exactly.
 *
 * What it leaves out: anything about the message layout beyond the
 * generated header.
 */
#ifndef MCO_ONNX_INTERNAL_H
#define MCO_ONNX_INTERNAL_H

#include <stddef.h>
#include <string.h>

#include "mcuopt/graph.h"
#include "onnx_subset.pb-c.h"

/* TensorProto.DataType values. */
enum {
    MCO_ONNX_FLOAT = 1,
    MCO_ONNX_UINT8 = 2,
    MCO_ONNX_INT8 = 3,
    MCO_ONNX_INT32 = 6,
    MCO_ONNX_INT64 = 7,
    MCO_ONNX_BOOL = 9,
    MCO_ONNX_DOUBLE = 11
};

/* Index of Conv2D weight (m, y, x, c) in mcuopt's OHWI layout and of the
 * same weight in ONNX's OIHW layout, for m filters of kh x kw x channels. */
static inline size_t mco_onnx_ohwi_index(int m, int y, int x, int c, int kh, int kw, int channels)
{
    return (((size_t)m * (size_t)kh + (size_t)y) * (size_t)kw + (size_t)x) * (size_t)channels + (size_t)c;
}

static inline size_t mco_onnx_oihw_index(int m, int y, int x, int c, int kh, int kw, int channels)
{
    return (((size_t)m * (size_t)channels + (size_t)c) * (size_t)kh + (size_t)y) * (size_t)kw + (size_t)x;
}

/* A dense layer reading a flattened h x w x c tensor: mcuopt flattens in
 * NHWC order, ONNX in NCHW order. Maps mcuopt's input index to ONNX's. */
static inline size_t mco_onnx_flat_index(size_t ours, mco_shape flat_of)
{
    size_t c = ours % (size_t)flat_of.c, pixel = ours / (size_t)flat_of.c;
    return c * (size_t)flat_of.h * (size_t)flat_of.w + pixel;
}

/* At most 40 characters of a file-supplied string for a message, with
 * control and non-ASCII bytes replaced, so messages stay one short line
 * (onnx_import.c, onnx_qdq_import.c). */
static inline const char *mco_onnx_printable(const char *s, char buf[48])
{
    size_t i = 0;
    if (!s) s = "";
    for (; s[i] && i < 40; i++) buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    if (s[i]) {
        memcpy(buf + i, "...", 3);
        i += 3;
    }
    buf[i] = '\0';
    return buf;
}

#endif
