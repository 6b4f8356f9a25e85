/*
 * mco_window.c - filling an mco_window from layer hyper-parameters with
 * TensorFlow's "valid" / "same" output size and padding rules.
 */
#include "mco_runtime.h"

mco_rt_status mco_window_init(mco_window *win, int32_t in_h, int32_t in_w, int32_t in_c,
                              int32_t out_c, int32_t kernel_h, int32_t kernel_w,
                              int32_t stride_h, int32_t stride_w, int same_padding)
{
    int32_t pad_h, pad_w;
    if (!win || in_h <= 0 || in_w <= 0 || in_c <= 0 || out_c <= 0 || kernel_h <= 0 ||
        kernel_w <= 0 || stride_h <= 0 || stride_w <= 0)
        return MCO_RT_ARG_ERROR;
    if (same_padding) {
        win->out_h = (in_h + stride_h - 1) / stride_h;
        win->out_w = (in_w + stride_w - 1) / stride_w;
    } else {
        if (kernel_h > in_h || kernel_w > in_w) return MCO_RT_ARG_ERROR;
        win->out_h = (in_h - kernel_h) / stride_h + 1;
        win->out_w = (in_w - kernel_w) / stride_w + 1;
    }
    pad_h = (win->out_h - 1) * stride_h + kernel_h - in_h;
    pad_w = (win->out_w - 1) * stride_w + kernel_w - in_w;
    win->pad_top = pad_h > 0 ? pad_h / 2 : 0;
    win->pad_left = pad_w > 0 ? pad_w / 2 : 0;
    win->in_h = in_h;
    win->in_w = in_w;
    win->in_c = in_c;
    win->out_c = out_c;
    win->kernel_h = kernel_h;
    win->kernel_w = kernel_w;
    win->stride_h = stride_h;
    win->stride_w = stride_w;
    return MCO_RT_OK;
}
