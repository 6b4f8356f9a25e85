/*
 * test_runtime_kernels.c - every runtime kernel against an independent naive
 * reference written here in double precision (bounds-checked windows, no
 * shared code with the runtime):
 *   - float32 kernels within 1e-5 (relative), f16-stored weights equal to
 *     f32 on the same (half-representable) weights, bit for bit;
 *   - int8 / int4 kernels: random floats are quantized, the kernel runs, its
 *     dequantized output must be within one output quantization step of the
 *     reference on the dequantized inputs and weights;
 *   - the fused Conv2D+ReLU+MaxPool kernels equal conv then max pool exactly
 *     (int8 fast path, its border fallback, and the general path);
 *   - the activations (sigmoid, tanh, LeakyReLU, HardSigmoid, HardSwish):
 *     the float kernel within 1e-5 of libm, the int8 lookup table (built by
 *     the host's mco_quant_activation_lut, run by mco_lut_s8, also in place)
 *     within one output step over all 256 inputs.
 */
#include <stdint.h>
#include <string.h>

#include "mcuopt/quant_multiplier.h"
#include "mcuopt/quant_rules.h"
#include "mco_runtime.h"
#include "mcuopt/status.h"
#include "test_util.h"

#define MAXN 40000

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;
static float rnd(float lo, float hi)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return lo + (hi - lo) * (float)((rng_state >> 40) & 0xFFFFFF) / 16777216.0f;
}

/* ---- quantization helpers (test side, TFLite rules) ---------------------- */
typedef struct { float scale; int32_t zp; } qp;

static qp qp_for_range(float lo, float hi)
{
    qp q;
    if (lo > 0.0f) lo = 0.0f;
    if (hi < 0.0f) hi = 0.0f;
    if (hi - lo < 1e-6f) hi = lo + 1e-6f;
    q.scale = (hi - lo) / 255.0f;
    q.zp = (int32_t)lroundf(-128.0f - lo / q.scale);
    if (q.zp < -128) q.zp = -128;
    if (q.zp > 127) q.zp = 127;
    return q;
}

static int8_t quant(float x, qp q)
{
    long v = lroundf(x / q.scale) + q.zp;
    return (int8_t)(v < -128 ? -128 : (v > 127 ? 127 : v));
}

static float dequant(int8_t v, qp q) { return q.scale * (float)(v - q.zp); }

/* Random activations: quantized copy and its dequantized floats. */
static qp make_input(int n, float lo, float hi, int8_t *xq, float *xd)
{
    qp q = qp_for_range(lo, hi);
    int i;
    for (i = 0; i < n; i++) {
        xq[i] = quant(rnd(lo, hi), q);
        xd[i] = dequant(xq[i], q);
    }
    return q;
}

/* Random symmetric per-channel weights with `levels` (127 for int8, 7 for
 * int4): channel c has the values at index c*stride_c + i*stride_i. */
static void make_weights(int channels, int per_channel, int stride_c, int stride_i, int levels,
                         int8_t *wq, float *wd, float *scales)
{
    int c, i;
    for (c = 0; c < channels; c++) {
        float maxabs = 0.0f, range = rnd(0.1f, 1.0f);
        for (i = 0; i < per_channel; i++) {
            float v = rnd(-range, range);
            wd[c * stride_c + i * stride_i] = v;
            maxabs = fabsf(v) > maxabs ? fabsf(v) : maxabs;
        }
        scales[c] = maxabs / (float)levels;
        for (i = 0; i < per_channel; i++) {
            int k = c * stride_c + i * stride_i;
            long q = lroundf(wd[k] / scales[c]);
            wq[k] = (int8_t)q;
            wd[k] = (float)q * scales[c];
        }
    }
}

static void make_bias(int channels, float in_scale, const float *w_scales, int32_t *bq, float *bd)
{
    int c;
    for (c = 0; c < channels; c++) {
        float s = in_scale * w_scales[c];
        bq[c] = (int32_t)lroundf(rnd(-0.5f, 0.5f) / s);
        bd[c] = (float)bq[c] * s;
    }
}

static void make_multipliers(int channels, float in_scale, const float *w_scales, float out_scale,
                             int32_t *mult, int32_t *shift)
{
    int c;
    for (c = 0; c < channels; c++)
        CHECK_OK(mco_quantize_multiplier((double)in_scale * w_scales[c] / out_scale, &mult[c], &shift[c]));
}

static qp qp_for_values(const float *y, int n)
{
    float lo = y[0], hi = y[0];
    int i;
    for (i = 1; i < n; i++) {
        lo = y[i] < lo ? y[i] : lo;
        hi = y[i] > hi ? y[i] : hi;
    }
    return qp_for_range(lo, hi);
}

/* Every dequantized output within one step of the reference (clamped to act). */
static void check_within_step(const char *what, const int8_t *yq, const float *ref, int n, qp q,
                              float act_lo)
{
    int i, bad = 0;
    for (i = 0; i < n; i++) {
        float r = ref[i] < act_lo ? act_lo : ref[i];
        if (fabsf(dequant(yq[i], q) - r) > q.scale * 1.001f + 1e-6f) {
            if (bad++ < 3)
                fprintf(stderr, "%s: output %d = %g, reference %g (step %g)\n", what, i,
                        dequant(yq[i], q), r, q.scale);
        }
    }
    CHECK(bad == 0);
}

static void check_close(const char *what, const float *y, const float *ref, int n)
{
    int i, bad = 0;
    for (i = 0; i < n; i++)
        if (fabsf(y[i] - ref[i]) > 1e-5f * (1.0f + fabsf(ref[i]))) {
            if (bad++ < 3) fprintf(stderr, "%s: output %d = %g, reference %g\n", what, i, y[i], ref[i]);
        }
    CHECK(bad == 0);
}

/* ---- naive double references ---------------------------------------------- */
static void ref_conv(const mco_window *w, int depthwise, const float *x, const float *wt,
                     const float *b, float *y)
{
    int oy, ox, oc, ky, kx, ic;
    for (oy = 0; oy < w->out_h; oy++)
        for (ox = 0; ox < w->out_w; ox++)
            for (oc = 0; oc < w->out_c; oc++) {
                double acc = b[oc];
                for (ky = 0; ky < w->kernel_h; ky++)
                    for (kx = 0; kx < w->kernel_w; kx++) {
                        int iy = oy * w->stride_h - w->pad_top + ky, ix = ox * w->stride_w - w->pad_left + kx;
                        if (iy < 0 || iy >= w->in_h || ix < 0 || ix >= w->in_w) continue;
                        if (depthwise) {
                            acc += (double)x[(iy * w->in_w + ix) * w->in_c + oc] * wt[(ky * w->kernel_w + kx) * w->in_c + oc];
                        } else {
                            for (ic = 0; ic < w->in_c; ic++)
                                acc += (double)x[(iy * w->in_w + ix) * w->in_c + ic] *
                                       wt[((oc * w->kernel_h + ky) * w->kernel_w + kx) * w->in_c + ic];
                        }
                    }
                y[(oy * w->out_w + ox) * w->out_c + oc] = (float)acc;
            }
}

static void ref_pool(const mco_window *w, int is_max, const float *x, float *y)
{
    int oy, ox, c, ky, kx;
    for (oy = 0; oy < w->out_h; oy++)
        for (ox = 0; ox < w->out_w; ox++)
            for (c = 0; c < w->in_c; c++) {
                double acc = is_max ? -1e30 : 0.0;
                int count = 0;
                for (ky = 0; ky < w->kernel_h; ky++)
                    for (kx = 0; kx < w->kernel_w; kx++) {
                        int iy = oy * w->stride_h - w->pad_top + ky, ix = ox * w->stride_w - w->pad_left + kx;
                        double v;
                        if (iy < 0 || iy >= w->in_h || ix < 0 || ix >= w->in_w) continue;
                        v = x[(iy * w->in_w + ix) * w->in_c + c];
                        acc = is_max ? (v > acc ? v : acc) : acc + v;
                        count++;
                    }
                y[(oy * w->out_w + ox) * w->out_c + c] = (float)(is_max ? acc : acc / count);
            }
}

static void ref_dense(int in, int out, const float *x, const float *wt, const float *b, float *y)
{
    int u, i;
    for (u = 0; u < out; u++) {
        double acc = b[u];
        for (i = 0; i < in; i++) acc += (double)x[i] * wt[u * in + i];
        y[u] = (float)acc;
    }
}

/* ---- buffers ------------------------------------------------------------- */
static int8_t xq[MAXN], wq[MAXN], yq[MAXN], yq2[MAXN], tq[MAXN];
static uint8_t w4[MAXN / 2];
static float xd[MAXN], wd[MAXN], yref[MAXN], yf[MAXN], yf2[MAXN], tf[MAXN];
static float wscale[512], bd[512];
static int32_t bq[512], mult[512], shift[512];
static uint16_t wh[MAXN];

typedef struct { int in_h, in_w, in_c, out_c, kh, kw, stride, same; } conv_case;

static const conv_case conv_cases[] = {
    { 28, 28, 1, 12, 3, 3, 1, 0 },   /* mnist-paper first layer */
    { 13, 13, 12, 16, 3, 3, 1, 1 },
    { 9, 7, 3, 5, 3, 3, 2, 1 },
    { 8, 8, 8, 8, 1, 1, 1, 0 },
    { 12, 9, 1, 7, 5, 3, 2, 1 },
    { 10, 10, 6, 4, 4, 4, 3, 1 },
    { 10, 4, 2, 3, 10, 4, 2, 1 },
};

static void test_conv(const conv_case *cc, int bits)
{
    mco_window w;
    mco_conv_s8_params p;
    mco_conv_f32_params pf;
    qp qin, qout;
    int n_in, n_out, n_w, i;
    char what[64];
    CHECK(mco_window_init(&w, cc->in_h, cc->in_w, cc->in_c, cc->out_c, cc->kh, cc->kw, cc->stride,
                          cc->stride, cc->same) == MCO_RT_OK);
    n_in = cc->in_h * cc->in_w * cc->in_c;
    n_out = w.out_h * w.out_w * w.out_c;
    n_w = cc->out_c * cc->kh * cc->kw * cc->in_c;
    qin = make_input(n_in, -1.0f, 2.0f, xq, xd);
    make_weights(cc->out_c, n_w / cc->out_c, n_w / cc->out_c, 1, bits == 8 ? 127 : 7, wq, wd, wscale);
    make_bias(cc->out_c, qin.scale, wscale, bq, bd);
    ref_conv(&w, 0, xd, wd, bd, yref);

    /* float kernel */
    pf.win = w;
    pf.act_min = -3e38f;
    pf.act_max = 3e38f;
    CHECK(mco_conv2d_f32(&pf, xd, wd, bd, yf) == MCO_RT_OK);
    snprintf(what, sizeof what, "conv2d_f32 %dx%dx%d k%dx%d", cc->in_h, cc->in_w, cc->in_c, cc->kh, cc->kw);
    check_close(what, yf, yref, n_out);

    /* int kernel, with ReLU on every other case */
    qout = qp_for_values(yref, n_out);
    p.win = w;
    p.input_offset = -qin.zp;
    p.output_offset = qout.zp;
    p.act_min = cc->same ? qout.zp : -128;
    p.act_max = 127;
    p.multiplier = mult;
    p.shift = shift;
    make_multipliers(cc->out_c, qin.scale, wscale, qout.scale, mult, shift);
    if (bits == 8) {
        CHECK(mco_conv2d_s8(&p, xq, wq, bq, yq) == MCO_RT_OK);
    } else {
        memset(w4, 0, sizeof w4);
        for (i = 0; i < n_w; i++) mco_s4_set(w4, (size_t)i, wq[i]);
        CHECK(mco_conv2d_s4(&p, xq, w4, bq, yq) == MCO_RT_OK);
    }
    snprintf(what, sizeof what, "conv2d_s%d %dx%dx%d k%dx%d", bits, cc->in_h, cc->in_w, cc->in_c, cc->kh, cc->kw);
    check_within_step(what, yq, yref, n_out, qout, cc->same ? 0.0f : -3e38f);

    if (bits == 8) {
        /* fused conv + relu + maxpool 2x2 == conv then max pool, exactly */
        mco_pool_s8_params pp;
        mco_conv_f32_params pfp;
        int n_pooled;
        p.act_min = qout.zp;   /* ReLU */
        CHECK(mco_conv2d_s8(&p, xq, wq, bq, tq) == MCO_RT_OK);
        CHECK(mco_window_init(&pp.win, w.out_h, w.out_w, w.out_c, w.out_c, 2, 2, 2, 2, 0) == MCO_RT_OK);
        pp.act_min = -128;
        pp.act_max = 127;
        CHECK(mco_max_pool_s8(&pp, tq, yq) == MCO_RT_OK);
        n_pooled = pp.win.out_h * pp.win.out_w * pp.win.out_c;
        memset(yq2, 0x55, (size_t)n_pooled);
        CHECK(mco_conv2d_maxpool2x2_s8(&p, xq, wq, bq, yq2) == MCO_RT_OK);
        CHECK(memcmp(yq, yq2, (size_t)n_pooled) == 0);
        {   /* the specialised 1-channel 3x3 kernel, where it applies: same bytes */
            static int32_t requant[64 * MCO_CONV3X3_REQUANT_WORDS];
            if (w.out_c <= 64 && mco_conv3x3_maxpool2x2_s8_prepare(&p, wq, bq, requant)) {
                memset(yq2, 0x55, (size_t)n_pooled);
                CHECK(mco_conv3x3_maxpool2x2_s8(&p, xq, wq, requant, yq2) == MCO_RT_OK);
                CHECK(memcmp(yq, yq2, (size_t)n_pooled) == 0);
            }
        }

        pf.act_min = 0.0f;
        CHECK(mco_conv2d_f32(&pf, xd, wd, bd, tf) == MCO_RT_OK);
        pfp.win = pp.win;
        pfp.act_min = -3e38f;
        pfp.act_max = 3e38f;
        CHECK(mco_max_pool_f32(&pfp, tf, yf) == MCO_RT_OK);
        CHECK(mco_conv2d_maxpool2x2_f32(&pf, xd, wd, bd, yf2) == MCO_RT_OK);
        CHECK(memcmp(yf, yf2, (size_t)n_pooled * sizeof(float)) == 0);

        /* half-stored weights: identical to f32 on the same values */
        for (i = 0; i < n_w; i++) {
            wh[i] = mco_f32_to_f16(wd[i]);
            tf[i] = mco_f16_to_f32(wh[i]);
        }
        pf.act_min = -3e38f;
        CHECK(mco_conv2d_f32(&pf, xd, tf, bd, yf) == MCO_RT_OK);
        CHECK(mco_conv2d_f16w(&pf, xd, wh, bd, yf2) == MCO_RT_OK);
        CHECK(memcmp(yf, yf2, (size_t)n_out * sizeof(float)) == 0);
    }
}

static void test_depthwise(const conv_case *cc)
{
    mco_window w;
    mco_conv_s8_params p;
    mco_conv_f32_params pf;
    qp qin, qout;
    int n_in, n_out, n_w, i, c = cc->in_c;
    CHECK(mco_window_init(&w, cc->in_h, cc->in_w, c, c, cc->kh, cc->kw, cc->stride, cc->stride,
                          cc->same) == MCO_RT_OK);
    n_in = cc->in_h * cc->in_w * c;
    n_out = w.out_h * w.out_w * c;
    n_w = cc->kh * cc->kw * c;
    qin = make_input(n_in, -2.0f, 1.0f, xq, xd);
    make_weights(c, cc->kh * cc->kw, 1, c, 127, wq, wd, wscale);
    make_bias(c, qin.scale, wscale, bq, bd);
    ref_conv(&w, 1, xd, wd, bd, yref);
    pf.win = w;
    pf.act_min = -3e38f;
    pf.act_max = 3e38f;
    CHECK(mco_depthwise_conv2d_f32(&pf, xd, wd, bd, yf) == MCO_RT_OK);
    check_close("depthwise_conv2d_f32", yf, yref, n_out);
    for (i = 0; i < n_w; i++) {
        wh[i] = mco_f32_to_f16(wd[i]);
        tf[i] = mco_f16_to_f32(wh[i]);
    }
    CHECK(mco_depthwise_conv2d_f32(&pf, xd, tf, bd, yf) == MCO_RT_OK);
    CHECK(mco_depthwise_conv2d_f16w(&pf, xd, wh, bd, yf2) == MCO_RT_OK);
    CHECK(memcmp(yf, yf2, (size_t)n_out * sizeof(float)) == 0);

    qout = qp_for_values(yref, n_out);
    p.win = w;
    p.input_offset = -qin.zp;
    p.output_offset = qout.zp;
    p.act_min = -128;
    p.act_max = 127;
    p.multiplier = mult;
    p.shift = shift;
    make_multipliers(c, qin.scale, wscale, qout.scale, mult, shift);
    CHECK(mco_depthwise_conv2d_s8(&p, xq, wq, bq, yq, NULL) == MCO_RT_OK);
    check_within_step("depthwise_conv2d_s8", yq, yref, n_out, qout, -3e38f);
}

static void test_dense(int in, int out, int bits, int per_tensor)
{
    mco_fc_s8_params p;
    mco_fc_f32_params pf;
    qp qin, qout;
    int i;
    char what[64];
    qin = make_input(in, -0.5f, 3.0f, xq, xd);
    make_weights(out, in, in, 1, bits == 8 ? 127 : 7, wq, wd, wscale);
    if (per_tensor) {   /* one scale for the whole tensor: requantize to the largest */
        float s = 0.0f;
        for (i = 0; i < out; i++) s = wscale[i] > s ? wscale[i] : s;
        for (i = 0; i < out * in; i++) {
            int c = i / in;
            long q = lroundf((float)wq[i] * wscale[c] / s);
            wq[i] = (int8_t)q;
            wd[i] = (float)q * s;
        }
        for (i = 0; i < out; i++) wscale[i] = s;
    }
    make_bias(out, qin.scale, wscale, bq, bd);
    ref_dense(in, out, xd, wd, bd, yref);
    pf.in_size = in;
    pf.out_size = out;
    pf.act_min = 0.0f;
    pf.act_max = 3e38f;
    CHECK(mco_fully_connected_f32(&pf, xd, wd, bd, yf) == MCO_RT_OK);
    for (i = 0; i < out; i++) yref[out + i] = yref[i] < 0.0f ? 0.0f : yref[i];
    check_close("fully_connected_f32", yf, yref + out, out);
    for (i = 0; i < in * out; i++) {
        wh[i] = mco_f32_to_f16(wd[i]);
        tf[i] = mco_f16_to_f32(wh[i]);
    }
    CHECK(mco_fully_connected_f32(&pf, xd, tf, bd, yf) == MCO_RT_OK);
    CHECK(mco_fully_connected_f16w(&pf, xd, wh, bd, yf2) == MCO_RT_OK);
    CHECK(memcmp(yf, yf2, (size_t)out * sizeof(float)) == 0);

    qout = qp_for_values(yref, out);
    p.in_size = in;
    p.out_size = out;
    p.input_offset = -qin.zp;
    p.output_offset = qout.zp;
    p.act_min = qout.zp;   /* ReLU */
    p.act_max = 127;
    p.multiplier = mult;
    p.shift = shift;
    make_multipliers(out, qin.scale, wscale, qout.scale, mult, shift);
    p.per_tensor = per_tensor;
    p.interleaved = 0;
    if (per_tensor)   /* only entry 0 may be read */
        for (i = 1; i < out; i++) mult[i] = -1, shift[i] = 99;
    if (bits == 8) {
        CHECK(mco_fully_connected_s8(&p, xq, wq, bq, yq) == MCO_RT_OK);
    } else {
        memset(w4, 0, sizeof w4);
        for (i = 0; i < in * out; i++) mco_s4_set(w4, (size_t)i, wq[i]);
        CHECK(mco_fully_connected_s4(&p, xq, w4, bq, yq) == MCO_RT_OK);
    }
    snprintf(what, sizeof what, "fully_connected_s%d %dx%d", bits, out, in);
    check_within_step(what, yq, yref, out, qout, 0.0f);
}

static void test_pools(void)
{
    mco_pool_s8_params p;
    mco_conv_f32_params pf;
    qp q;
    int n_in, n_out, same;
    for (same = 0; same < 2; same++) {
        CHECK(mco_window_init(&p.win, 11, 9, 5, 5, 3, 2, 2, 2, same) == MCO_RT_OK);
        n_in = 11 * 9 * 5;
        n_out = p.win.out_h * p.win.out_w * 5;
        q = make_input(n_in, -1.0f, 1.0f, xq, xd);
        p.act_min = -128;
        p.act_max = 127;
        pf.win = p.win;
        pf.act_min = -3e38f;
        pf.act_max = 3e38f;
        ref_pool(&p.win, 1, xd, yref);
        CHECK(mco_max_pool_f32(&pf, xd, yf) == MCO_RT_OK);
        check_close("max_pool_f32", yf, yref, n_out);
        CHECK(mco_max_pool_s8(&p, xq, yq) == MCO_RT_OK);
        check_within_step("max_pool_s8", yq, yref, n_out, q, -3e38f);
        ref_pool(&p.win, 0, xd, yref);
        CHECK(mco_avg_pool_f32(&pf, xd, yf) == MCO_RT_OK);
        check_close("avg_pool_f32", yf, yref, n_out);
        CHECK(mco_avg_pool_s8(&p, xq, yq) == MCO_RT_OK);
        check_within_step("avg_pool_s8", yq, yref, n_out, q, -3e38f);
    }
    /* global average pool */
    q = make_input(6 * 5 * 7, -1.0f, 3.0f, xq, xd);
    CHECK(mco_window_init(&p.win, 6, 5, 7, 7, 6, 5, 1, 1, 0) == MCO_RT_OK);
    ref_pool(&p.win, 0, xd, yref);
    CHECK(mco_global_avg_pool_f32(6, 5, 7, xd, yf) == MCO_RT_OK);
    check_close("global_avg_pool_f32", yf, yref, 7);
    CHECK(mco_global_avg_pool_s8(6, 5, 7, -128, 127, xq, yq) == MCO_RT_OK);
    check_within_step("global_avg_pool_s8", yq, yref, 7, q, -3e38f);
}

static void test_elementwise(void)
{
    mco_add_s8_params p;
    qp q1, q2, qo;
    double twice_max;
    int i, n = 300;
    float relu6[4] = { -1.0f, 3.0f, 7.0f, 6.0f };
    int8_t r8[4] = { -100, -3, 50, 127 };
    CHECK(mco_clamp_f32(relu6, 4, 0.0f, 6.0f) == MCO_RT_OK);
    CHECK(relu6[0] == 0.0f && relu6[1] == 3.0f && relu6[2] == 6.0f && relu6[3] == 6.0f);
    CHECK(mco_clamp_s8(r8, 4, -3, 100) == MCO_RT_OK);
    CHECK(r8[0] == -3 && r8[1] == -3 && r8[2] == 50 && r8[3] == 100);

    q1 = make_input(n, -1.0f, 2.0f, xq, xd);
    q2 = make_input(n, -4.0f, 0.5f, wq, wd);
    for (i = 0; i < n; i++) yref[i] = xd[i] + wd[i];
    CHECK(mco_add_f32(xd, wd, yf, n, -3e38f, 3e38f) == MCO_RT_OK);
    check_close("add_f32", yf, yref, n);
    qo = qp_for_values(yref, n);
    twice_max = 2.0 * (q1.scale > q2.scale ? q1.scale : q2.scale);
    p.size = n;
    p.left_shift = 20;
    p.input1_offset = -q1.zp;
    p.input2_offset = -q2.zp;
    p.output_offset = qo.zp;
    CHECK_OK(mco_quantize_multiplier(q1.scale / twice_max, &p.input1_multiplier, &p.input1_shift));
    CHECK_OK(mco_quantize_multiplier(q2.scale / twice_max, &p.input2_multiplier, &p.input2_shift));
    CHECK_OK(mco_quantize_multiplier(twice_max / ((double)(1 << 20) * qo.scale), &p.output_multiplier,
                                     &p.output_shift));
    p.act_min = -128;
    p.act_max = 127;
    CHECK(mco_add_s8(&p, xq, wq, yq) == MCO_RT_OK);
    check_within_step("add_s8", yq, yref, n, qo, -3e38f);
}

static void test_softmax(void)
{
    mco_softmax_s8_params p;
    qp qin, qout;
    int r, i, rows = 50, size = 10;
    int32_t mult1, shift1, diff_min;
    qout.scale = 1.0f / 256.0f;
    qout.zp = -128;
    qin = make_input(rows * size, -6.0f, 9.0f, xq, xd);
    CHECK(mco_softmax_f32(xd, yf, rows, size) == MCO_RT_OK);
    for (r = 0; r < rows; r++) {   /* reference with libm exp */
        double max = -1e30, sum = 0.0;
        for (i = 0; i < size; i++) max = xd[r * size + i] > max ? xd[r * size + i] : max;
        for (i = 0; i < size; i++) sum += exp(xd[r * size + i] - max);
        for (i = 0; i < size; i++) yref[r * size + i] = (float)(exp(xd[r * size + i] - max) / sum);
    }
    check_close("softmax_f32", yf, yref, rows * size);
    CHECK_OK(mco_quant_softmax_params(qin.scale, &mult1, &shift1, &diff_min));
    p.n_rows = rows;
    p.row_size = size;
    p.input_multiplier = mult1;
    p.input_left_shift = shift1;
    p.diff_min = diff_min;
    CHECK(mco_softmax_s8(&p, xq, yq) == MCO_RT_OK);
    check_within_step("softmax_s8", yq, yref, rows * size, qout, -3e38f);
    /* equal inputs: 1/10 each = 25.6/256 */
    memset(xq, 7, 10);
    p.n_rows = 1;
    CHECK(mco_softmax_s8(&p, xq, yq) == MCO_RT_OK);
    for (i = 0; i < 10; i++) CHECK(yq[i] == -128 + 26);
}

/* The activations' real values, written here apart from the library's. */
static double ref_activation(int function, double x, double alpha, double beta)
{
    double r;
    switch (function) {
    case MCO_ACTIVATION_SIGMOID: return 1.0 / (1.0 + exp(-x));
    case MCO_ACTIVATION_TANH: return tanh(x);
    case MCO_ACTIVATION_LEAKY_RELU: return x > 0.0 ? x : alpha * x;
    case MCO_ACTIVATION_HARD_SIGMOID:
        r = alpha * x + beta;
        return r < 0.0 ? 0.0 : r > 1.0 ? 1.0 : r;
    default:
        r = x + 3.0;
        r = r < 0.0 ? 0.0 : r > 6.0 ? 6.0 : r;
        return x * r / 6.0;
    }
}

static void test_activations(void)
{
    static const mco_layer_type types[] = {MCO_LAYER_SIGMOID, MCO_LAYER_TANH, MCO_LAYER_LEAKY_RELU,
                                           MCO_LAYER_HARD_SIGMOID, MCO_LAYER_HARD_SWISH};
    static const int32_t functions[] = {MCO_ACTIVATION_SIGMOID, MCO_ACTIVATION_TANH, MCO_ACTIVATION_LEAKY_RELU,
                                        MCO_ACTIVATION_HARD_SIGMOID, MCO_ACTIVATION_HARD_SWISH};
    int t, i, n = 256 + 300;
    for (t = 0; t < 5; t++) {
        mco_layer l;
        mco_activation_f32_params pf;
        mco_lut_s8_params pq;
        mco_qparams in_q, out_q;
        int8_t table[256];
        qp qin, qout;
        memset(&l, 0, sizeof l);
        l.type = types[t];
        l.alpha = t == 2 ? 0.1f : t == 3 ? 0.2f : 0.0f;
        l.beta = t == 3 ? 0.5f : 0.0f;
        snprintf(l.name, sizeof l.name, "act%d", t);
        /* every int8 value, then random ones */
        qin = make_input(n, -7.0f, 6.0f, xq, xd);
        for (i = 0; i < 256; i++) {
            xq[i] = (int8_t)(i - 128);
            xd[i] = dequant(xq[i], qin);
        }
        for (i = 0; i < n; i++) yref[i] = (float)ref_activation(functions[t], xd[i], l.alpha, l.beta);
        pf.size = n;
        pf.function = functions[t];
        pf.alpha = l.alpha;
        pf.beta = l.beta;
        CHECK(mco_activation_f32(&pf, xd, yf) == MCO_RT_OK);
        check_close(mco_layer_type_name(l.type), yf, yref, n);
        if (!mco_quant_activation_fixed_output(l.type, &out_q)) {
            qout = qp_for_values(yref, n);
            out_q.scale = qout.scale;
            out_q.zero_point = qout.zp;
        }
        qout.scale = out_q.scale;
        qout.zp = out_q.zero_point;
        in_q.scale = qin.scale;
        in_q.zero_point = qin.zp;
        CHECK_OK(mco_quant_activation_lut(&l, in_q, out_q, table));
        pq.size = n;
        CHECK(mco_lut_s8(&pq, xq, table, yq) == MCO_RT_OK);
        check_within_step(mco_layer_type_name(l.type), yq, yref, n, qout, -3e38f);
        CHECK(mco_lut_s8(&pq, xq, table, xq) == MCO_RT_OK);   /* in place */
        CHECK(memcmp(xq, yq, (size_t)n) == 0);
    }
    {
        mco_activation_f32_params bad = {4, 5, 0.0f, 0.0f};
        CHECK(mco_activation_f32(&bad, xd, yf) == MCO_RT_ARG_ERROR);
        CHECK(mco_lut_s8(NULL, xq, xq, yq) == MCO_RT_ARG_ERROR);
    }
}

static void test_arg_errors(void)
{
    mco_fc_s8_params p;
    memset(&p, 0, sizeof p);
    CHECK(mco_fully_connected_s8(&p, xq, wq, bq, yq) == MCO_RT_ARG_ERROR);
    CHECK(mco_conv2d_s8(NULL, xq, wq, bq, yq) == MCO_RT_ARG_ERROR);
    CHECK(mco_softmax_s8(NULL, xq, yq) == MCO_RT_ARG_ERROR);
}

int main(void)
{
    size_t i;
    for (i = 0; i < sizeof conv_cases / sizeof conv_cases[0]; i++) {
        test_conv(&conv_cases[i], 8);
        test_conv(&conv_cases[i], 4);
        test_depthwise(&conv_cases[i]);
    }
    test_dense(2028, 10, 8, 0);
    test_dense(37, 9, 8, 1);
    test_dense(64, 33, 8, 0);
    test_dense(3, 2, 8, 0);
    test_dense(2028, 10, 4, 0);
    test_dense(31, 7, 4, 0);
    test_pools();
    test_elementwise();
    test_softmax();
    test_activations();
    test_arg_errors();
    TEST_MAIN_END();
}
