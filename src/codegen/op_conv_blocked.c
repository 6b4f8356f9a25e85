/*
 * op_conv_blocked.c - the op descriptors of the register-blocked int8
 * convolutions (runtime/mco_conv_blocked.h): CONV1X1_S8 (a 1x1 kernel, any
 * stride: pointwise convolutions and strided projection shortcuts) and
 * CONV2D_IM2COL_S8 (any Conv2D) and CONV2D_MAXPOOL_IM2COL_S8 (any Conv2D with
 * its ReLU and a max pool 2x2 stride 2, fused). They take the weights in their blocked
 * order (written here, by the runtime's own mco_conv_blocked_s8_reorder) and
 * an im2col scratch that the planner places in the arena for the op's
 * duration (op->scratch_bytes, from the kernel's _get_buffer_size). The
 * planner takes them where the resource model says they beat the general
 * CONV2D_S8 (whose coefficients stand in until they are calibrated). See
 * op_desc.h.
 *
 * What it leaves out: int4 and sparse weights (CONV2D_S4 and the sparse conv
 * + pool of op_conv_pool.c run them).
 */
#include "mco_conv_blocked.h"
#include "op_desc.h"

/* ---- supports --------------------------------------------------------------------- */

/* An int8 Conv2D whose int8 weights hold its shape. */
static int supports_im2col(const mco_op_site *s)
{
    const mco_window *w = &s->win;
    return mco_site_is(s, MCO_LAYER_CONV2D, 1, 0) && mco_site_weights(s, MCO_WEIGHTS_S8, MCO_WEIGHTS_S8) &&
           s->dl->weights_q &&
           s->L->params[MCO_PARAM_WEIGHTS].size ==
               (size_t)w->kernel_h * (size_t)w->kernel_w * (size_t)w->in_c * (size_t)w->out_c;
}

/* ... with a 1x1 kernel (which never needs padding). */
static int supports_1x1(const mco_op_site *s)
{
    return supports_im2col(s) && s->win.kernel_h == 1 && s->win.kernel_w == 1 && s->win.pad_top == 0 &&
           s->win.pad_left == 0;
}

/* ... fused with a ReLU and a max pool 2x2 stride 2, multipliers >= 0 (the
 * pool is taken before the requantization). */
static int supports_pool(const mco_op_site *s)
{
    const mco_window *w = &s->win;
    if (!(mco_site_is(s, MCO_LAYER_CONV2D, 1, 1) && mco_site_weights(s, MCO_WEIGHTS_S8, MCO_WEIGHTS_S8) &&
          s->dl->weights_q && s->multiplier && w->out_h >= 2 && w->out_w >= 2 &&
          s->L->params[MCO_PARAM_WEIGHTS].size ==
              (size_t)w->kernel_h * (size_t)w->kernel_w * (size_t)w->in_c * (size_t)w->out_c))
        return 0;
    for (int32_t c = 0; c < s->n_out; c++)
        if (s->multiplier[c] < 0) return 0;
    return 1;
}

/* ---- prepare ---------------------------------------------------------------------- */

/* mco_conv_s8_params, the weights in blocked order, the bias, and the scratch. */
static mco_status prepare_blocked(mco_plan *plan, const mco_op_site *s, mco_op *op, mco_plan_op_info *info)
{
    mco_status st = mco_prepare_conv_s8_op(plan, s, op, info);
    if (st != MCO_OK || (st = mco_prepare_weights(plan, s, MCO_STORE_S8, op, info)) != MCO_OK) return st;
    const mco_window *w = &s->win;
    int32_t k = w->kernel_h * w->kernel_w * w->in_c;
    size_t bytes = mco_conv_blocked_s8_weights_size(w->out_c, k);
    int8_t *blocked = mco_plan_alloc(plan, bytes);
    if (!blocked) return mco_plan_nomem();
    mco_conv_blocked_s8_reorder(w->out_c, k, op->weights, blocked);
    plan->param_bytes = plan->param_bytes - info->weights_count + bytes;
    op->weights = blocked;
    info->weights_count = bytes;
    op->scratch_bytes = (uint32_t)mco_conv2d_im2col_s8_get_buffer_size(w);
    return MCO_OK;
}

/* The 1x1 kernel widens a block's input rows before it writes the block's
 * outputs, so with no more output than input channels it may write over
 * its input (mco_conv1x1_s8). */
static mco_status prepare_1x1(mco_plan *plan, const mco_op_site *s, mco_op *op, mco_plan_op_info *info)
{
    mco_status st = prepare_blocked(plan, s, op, info);
    if (st != MCO_OK) return st;
    const mco_window *w = &((const mco_conv_s8_params *)op->params)->win;
    op->scratch_bytes = (uint32_t)mco_conv1x1_s8_get_buffer_size(w);
    info->may_run_in_place = w->out_c <= w->in_c;
    return MCO_OK;
}

/* ---- eval (the same calls as args) ----------------------------------------------------- */

static mco_rt_status eval_1x1(const mco_op *op, uint8_t *arena)
{
    return mco_conv1x1_s8(op->params, MCO_S8_AT(arena, op->input), op->weights, op->bias,
                          MCO_S8_AT(arena, op->output), MCO_SCRATCH_AT(arena, op));
}

static mco_rt_status eval_im2col(const mco_op *op, uint8_t *arena)
{
    return mco_conv2d_im2col_s8(op->params, MCO_S8_AT(arena, op->input), op->weights, op->bias,
                                MCO_S8_AT(arena, op->output), MCO_SCRATCH_AT(arena, op));
}

static mco_rt_status eval_pool(const mco_op *op, uint8_t *arena)
{
    return mco_conv2d_maxpool2x2_im2col_s8(op->params, MCO_S8_AT(arena, op->input), op->weights, op->bias,
                                           MCO_S8_AT(arena, op->output), MCO_SCRATCH_AT(arena, op));
}

/* ---- features -------------------------------------------------------------------------- */

/* Counted as the kernels work:
 *   MACs       every product of the blocks (pixels in fours, channels in
 *              pairs, k in fours, padding included);
 *   tail MACs  the values widened straight from the input into the columns
 *              (the in-bounds windows of whole-word kernel rows);
 *   fast MACs  the values widened through the scratch's int8 column (the
 *              other windows: clipped at a border, or rows of 1-3 channels);
 *   loops      blocks x channel pairs (accumulators set, the loop entered,
 *              the pair's outputs requantized and stored);
 *   outputs    (the slot reused: the stored outputs are loops x 2 or x 8,
 *              priced with them) the calls that assemble the windows, each
 *              a fixed cost whatever its length: per computed window
 *              mco_conv_block_s8_im2col and the widening, and for a window
 *              through the int8 column one memcpy per kernel row inside the
 *              input and the memset of its padding or border (a 5x5
 *              one-channel window: 2 + 5 + 1 calls for 28 values).
 * CONV1X1_S8 keeps the outputs in their slot (its windows are one row). */
typedef struct {
    double windows;      /* computed windows (a short last block's repeated one included) */
    double assembled;    /* those through the int8 column */
    double calls;        /* their assembly calls (the outputs slot) */
} window_counts;

/* Adds output pixel (oy, ox)'s window (mco_conv_block_s8_im2col). */
static void count_window(const mco_window *w, int32_t oy, int32_t ox, window_counts *n)
{
    int32_t k = w->kernel_h * w->kernel_w * w->in_c;
    int32_t rows = mco_window_inside(oy, w->in_h, w->kernel_h, w->stride_h, w->pad_top);
    int32_t cols = mco_window_inside(ox, w->in_w, w->kernel_w, w->stride_w, w->pad_left);
    int whole = rows == w->kernel_h && cols == w->kernel_w;
    n->windows += 1;
    n->calls += 2;   /* the window's im2col and its widening */
    if (whole && (w->kernel_w * w->in_c) % 4 == 0) return;
    n->assembled += 1;
    n->calls += rows + (!whole || MCO_BLOCK_K_PAD(k) > k);
}

static void features_of(const mco_window *w, double blocks, const window_counts *n, double *f)
{
    double k_pad = (double)MCO_BLOCK_K_PAD(w->kernel_h * w->kernel_w * w->in_c), pairs = (double)((w->out_c + 1) / 2);
    f[MCO_COST_MACS] = 8 * blocks * pairs * k_pad;
    f[MCO_COST_TAIL_MACS] = (n->windows - n->assembled) * k_pad;
    f[MCO_COST_FAST_MACS] = n->assembled * k_pad;
    f[MCO_COST_LOOPS] = blocks * pairs;
    f[MCO_COST_OUTPUTS] = n->calls;
}

/* blocks of four pixels in row-major order, a short last block repeating
 * its last pixel (mco_conv2d_im2col_s8) */
static void features_im2col(const mco_op *op, const mco_plan_op_info *info, double *f)
{
    const mco_window *w = &((const mco_conv_s8_params *)op->params)->win;
    int64_t pixels = (int64_t)w->out_h * w->out_w, blocks = (pixels + 3) / 4;
    window_counts n = {0, 0, 0};
    (void)info;
    for (int32_t oy = 0; oy < w->out_h; oy++)
        for (int32_t ox = 0; ox < w->out_w; ox++) count_window(w, oy, ox, &n);
    for (int64_t extra = 4 * blocks - pixels; extra > 0; extra--) count_window(w, w->out_h - 1, w->out_w - 1, &n);
    features_of(w, (double)blocks, &n, f);
}

static void features_1x1(const mco_op *op, const mco_plan_op_info *info, double *f)
{
    const mco_window *w = &((const mco_conv_s8_params *)op->params)->win;
    double pixels = (double)w->out_h * w->out_w;
    window_counts n = {pixels, w->in_c % 4 != 0 ? pixels : 0, 0};
    (void)info;
    features_of(w, (double)(((int64_t)w->out_h * w->out_w + 3) / 4), &n, f);
    f[MCO_COST_OUTPUTS] = pixels * w->out_c;
}

/* the fused pool: a block per pooled pixel, its four conv pixels computed,
 * one output stored per block and channel */
static void features_pool(const mco_op *op, const mco_plan_op_info *info, double *f)
{
    const mco_window *w = &((const mco_conv_s8_params *)op->params)->win;
    double pooled = (double)(w->out_h / 2) * (w->out_w / 2);
    window_counts n = {0, 0, 0};
    (void)info;
    for (int32_t oy = 0; oy < w->out_h / 2 * 2; oy++)
        for (int32_t ox = 0; ox < w->out_w / 2 * 2; ox++) count_window(w, oy, ox, &n);
    features_of(w, pooled, &n, f);
}

/* ---- the descriptors ------------------------------------------------------------------- */

#define BLOCKED_ARGS "&P, IN, W, B, OUT, SCRATCH"

const mco_op_desc mco_op_conv1x1_s8 = {
    MCO_OP_CONV1X1_S8, "CONV1X1_S8", "mco_conv1x1_s8", "mco_conv_blocked.h", BLOCKED_ARGS,
    supports_1x1, prepare_1x1, eval_1x1, features_1x1, NULL, MCO_OP_CONV2D_S8};

const mco_op_desc mco_op_conv2d_maxpool_im2col_s8 = {
    MCO_OP_CONV2D_MAXPOOL_IM2COL_S8, "CONV2D_MAXPOOL_IM2COL_S8", "mco_conv2d_maxpool2x2_im2col_s8",
    "mco_conv_blocked.h", BLOCKED_ARGS, supports_pool, prepare_blocked, eval_pool, features_pool, NULL,
    MCO_OP_CONV2D_MAXPOOL_S8};

const mco_op_desc mco_op_conv2d_im2col_s8 = {
    MCO_OP_CONV2D_IM2COL_S8, "CONV2D_IM2COL_S8", "mco_conv2d_im2col_s8", "mco_conv_blocked.h", BLOCKED_ARGS,
    supports_im2col, prepare_blocked, eval_im2col, features_im2col, NULL, MCO_OP_CONV2D_S8};
