/*
 * window_taps.h - the taps of a sliding window (conv, depthwise, pooling)
 * that lie inside the input at one output pixel: the start of the loop
 * body every training window layer shares.
 *
 * What it leaves out: the geometry itself (mco_train_window, layer_ops.h)
 * and what is done with the taps.
 */
#ifndef MCO_TRAIN_WINDOW_TAPS_H
#define MCO_TRAIN_WINDOW_TAPS_H

#include "layer_ops.h"
#include "vec.h"

typedef struct {
    int iy, ix;     /* input row and column of kernel tap (0, 0); negative inside the padding */
    int ky0, ky1;   /* kernel rows [ky0, ky1) fall inside the input */
    int kx0, kx1;   /* kernel columns [kx0, kx1) fall inside the input */
} mco_train_taps;

/* The taps of the window of output pixel (oy, ox). */
static inline mco_train_taps mco_train_window_taps(const mco_train_window *g, int oy, int ox)
{
    mco_train_taps t;
    t.iy = oy * g->stride_h - g->pad_top;
    t.ix = ox * g->stride_w - g->pad_left;
    mco_train_window_range(t.iy, g->kernel_h, g->in_h, &t.ky0, &t.ky1);
    mco_train_window_range(t.ix, g->kernel_w, g->in_w, &t.kx0, &t.kx1);
    return t;
}

#endif
