/*
 * test_runtime_random.c - every kernel of the MCU runtime over many random
 * shapes and quantization parameters, against references written here from
 * the arithmetic's definition (no code shared with runtime/):
 *   - int8 / int4 kernels (conv, depthwise (with and without its scratch),
 *     dense, the fused conv + max pool, the register-blocked conv, 1x1 conv
 *     and conv + max pool, the 3x3 one-channel kernel, sparse dense and
 *     sparse conv + pool, pools, TFLite's MEAN, clamp, add, the general
 *     convolution with groups, dilations and depth multipliers) bit for bit
 *     against TFLite's integer arithmetic: int64
 *     sums, then TFLite's requantization written as TFLite writes it
 *     (nudged rounding doubling high multiply with a truncating division,
 *     rounding division by a power of two from its definition);
 *   - int8 softmax within one output step of the float softmax;
 *   - float kernels (f32, f16-stored and int8-stored weights) within a
 *     rigorous bound of the float summation error around a double reference;
 *     the f16-weight and fused forms bit for bit against the plain f32 ones;
 *   - the fixed-point helpers, half-precision conversion, int4 packing and
 *     mco_window_init against their definitions.
 * Shapes: 1..30 rows and columns, 1..24 channels, kernels 1..5, strides
 * 1..3, "same" and "valid" padding, dense layers of 1..1500 inputs (every
 * remainder of the 4- and 5-wide loops). Quantization: input and output zero
 * points over their whole range, activation clamps, multipliers with shifts
 * from -31 to 30, and biases up to the very edge of what keeps the
 * accumulator in int32: bias +- max|x - zero point| * sum|w| (the .mcq
 * loader proves the looser bias +- 255 * sum|w|, for any zero point). Every
 * buffer is allocated at its exact size, so an AddressSanitizer build
 * catches a read or write one byte out.
 *
 * tests/runtime_random.sh compiles this file and runtime/ (all of it) with
 * clang -fsanitize=address,undefined,pointer-overflow in several
 * configurations: MCO_FORCE_GENERIC, MCO_EMULATE_DSP (the DSP path, its
 * instructions emulated in C by mco_arch.h), the default, and both paths
 * again with the requantization options `mcuopt emit` writes when a model
 * allows them (MCO_REQUANT_RIGHT_ONLY, MCO_REQUANT_FAST: the random
 * parameters then keep to what they promise); builds that differ only in
 * the path must print the same digest of every output (the generic and
 * the DSP paths agree bit for bit). CMake also builds this file as an
 * ordinary CTest (host compiler, the library's runtime).
 *
 * MCO_RANDOM_SEED=n runs another seed, MCO_RANDOM_SCALE=k k times the trials.
 * What it leaves out: the Cortex-M assembly paths (tests/mnist_paper_on_target.sh
 * and tests/sparse_fc_on_target.sh run those in QEMU) and mco_op.c's dispatch.
 */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mco_arch.h"
#include "mco_conv_blocked.h"
#include "mco_fixed_point.h"
#include "mco_hybrid.h"
#include "mco_runtime.h"
#include "mco_sparse.h"
#include "test_util.h"

/* ---- randomness, failures, digest ----------------------------------------- */

static uint64_t seed = 2026;
static uint64_t rng_state;
static int scale = 1;

static uint64_t next64(void)   /* splitmix64 */
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int32_t between(int32_t lo, int32_t hi)   /* inclusive */
{
    return (int32_t)((int64_t)lo + (int64_t)(next64() % (uint64_t)((int64_t)hi - lo + 1)));
}

static int one_in(int n) { return next64() % (uint64_t)n == 0; }

static double uniform(double lo, double hi)
{
    return lo + (hi - lo) * (double)(next64() >> 11) / 9007199254740992.0;
}

static char case_desc[400];   /* the case being run, printed with each failure */

static void describe(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(case_desc, sizeof case_desc, fmt, ap);
    va_end(ap);
}

static void fail(int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "test_runtime_random.c:%d: [%s] ", line, case_desc);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (++test_failures >= 20) {
        fprintf(stderr, "too many failures, stopping (MCO_RANDOM_SEED=%llu)\n", (unsigned long long)seed);
        exit(1);
    }
}
#define FAIL(...) fail(__LINE__, __VA_ARGS__)
#define EXPECT(cond)                              \
    do {                                          \
        if (!(cond)) FAIL("check failed: %s", #cond); \
    } while (0)

/* FNV-1a over every kernel output: equal digests = bit-identical runs. */
static uint64_t digest = 0xCBF29CE484222325ull;

static void hash(const void *data, size_t n)
{
    const uint8_t *b = (const uint8_t *)data;
    size_t i;
    for (i = 0; i < n; i++) {
        digest ^= b[i];
        digest *= 0x100000001B3ull;
    }
}

/* Buffers of exactly n elements, filled with a pattern no kernel writes by chance. */
static void *exact_alloc(size_t bytes)
{
    void *p = malloc(bytes ? bytes : 1);
    if (!p) {
        fprintf(stderr, "test_runtime_random: out of memory\n");
        exit(2);
    }
    memset(p, 0xA5, bytes);
    return p;
}
#define NEW(type, n) ((type *)exact_alloc((size_t)(n) * sizeof(type)))

/* ---- the requantization options this build was compiled with ------------- */

/* mco_config.h may promise the kernels right shifts only, or moreover small
 * accumulators (the emitted options); random parameters keep to the promise. */
static int32_t shift_lo(void) { return MCO_REQUANT_FAST ? -22 : -31; }
static int32_t shift_hi(void) { return MCO_REQUANT_FAST || MCO_REQUANT_RIGHT_ONLY ? -1 : 30; }
static int64_t acc_limit(void) { return MCO_REQUANT_FAST ? ((int64_t)1 << 30) - 1 : INT32_MAX; }

/* ---- the reference arithmetic --------------------------------------------- */

/* TFLite's SaturatingRoundingDoublingHighMul, as written there. */
static int32_t ref_srdhm(int32_t a, int32_t b)
{
    int64_t ab = (int64_t)a * (int64_t)b;
    int64_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
    if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

/* x / 2^e rounded to nearest, ties away from zero (RoundingDivideByPOT). */
static int32_t ref_rdbpot(int32_t x, int32_t e)
{
    int64_t d = (int64_t)1 << e, mag = x < 0 ? -(int64_t)x : (int64_t)x;
    int64_t q = (2 * mag + d) / (2 * d);
    return (int32_t)(x < 0 ? -q : q);
}

/* MultiplyByQuantizedMultiplier. TFLite's x * 2^left overflows (undefined)
 * where the runtime saturates; saturating agrees wherever TFLite is defined. */
static int32_t ref_requantize(int32_t acc, int32_t m, int32_t shift)
{
    int32_t left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
    int64_t shifted = (int64_t)acc * ((int64_t)1 << left);
    if (shifted > INT32_MAX) shifted = INT32_MAX;
    if (shifted < INT32_MIN) shifted = INT32_MIN;
    return ref_rdbpot(ref_srdhm((int32_t)shifted, m), right);
}

static int8_t ref_output(int64_t acc, int32_t m, int32_t shift, int32_t zp, int32_t lo, int32_t hi)
{
    int64_t v = (int64_t)ref_requantize((int32_t)acc, m, shift) + zp;
    return (int8_t)(v < lo ? lo : (v > hi ? hi : v));
}

/* TFLite's QuantizeMultiplier (frexp, 31-bit mantissa). */
static void ref_quantize_multiplier(double real, int32_t *m, int32_t *shift)
{
    int e = 0;
    double f = frexp(real, &e);
    int64_t q = (int64_t)llround(f * 2147483648.0);
    *m = 0;
    *shift = 0;
    if (real == 0.0) return;
    if (q == ((int64_t)1 << 31)) {
        q /= 2;
        e++;
    }
    if (e < -31) return;
    *m = (int32_t)q;
    *shift = e;
}

/* IEEE half -> double from the definition. */
static double ref_half(uint16_t h)
{
    int sign = h >> 15, e = (h >> 10) & 31, m = h & 1023;
    double v;
    if (e == 31) return m ? NAN : (sign ? -INFINITY : INFINITY);
    v = e == 0 ? ldexp((double)m, -24) : ldexp((double)(1024 + m), e - 25);
    return sign ? -v : v;
}

/* A random finite half of moderate magnitude (about 2^-6 .. 2^3), or zero. */
static uint16_t random_half(void)
{
    if (one_in(16)) return 0;
    return (uint16_t)((uint32_t)between(0, 1) << 15 | (uint32_t)between(9, 18) << 10 | (uint32_t)between(0, 1023));
}

/* ---- geometry ------------------------------------------------------------- */

/* A conv / pool window, computed here with TensorFlow's rules. */
typedef struct {
    int32_t in_h, in_w, in_c, out_h, out_w, out_c, kh, kw, sh, sw, pt, pl;
    int same;
} geom;

static int32_t ref_out_size(int32_t in, int32_t k, int32_t s, int same)
{
    return same ? (in + s - 1) / s : (in - k) / s + 1;
}

static int32_t ref_pad_before(int32_t in, int32_t out, int32_t k, int32_t s)
{
    int32_t total = (out - 1) * s + k - in;
    return total > 0 ? total / 2 : 0;
}

/* Fills g's outputs and pads; 0 if "valid" padding has a kernel larger than the input. */
static int ref_window(geom *g)
{
    if (!g->same && (g->kh > g->in_h || g->kw > g->in_w)) return 0;
    g->out_h = ref_out_size(g->in_h, g->kh, g->sh, g->same);
    g->out_w = ref_out_size(g->in_w, g->kw, g->sw, g->same);
    g->pt = ref_pad_before(g->in_h, g->out_h, g->kh, g->sh);
    g->pl = ref_pad_before(g->in_w, g->out_w, g->kw, g->sw);
    return 1;
}

/* The runtime's window for g (mco_window_init), checked against g. */
static mco_window window_of(const geom *g)
{
    mco_window w;
    memset(&w, 0, sizeof w);
    if (mco_window_init(&w, g->in_h, g->in_w, g->in_c, g->out_c, g->kh, g->kw, g->sh, g->sw, g->same) != MCO_RT_OK)
        FAIL("mco_window_init refused a valid window");
    else if (w.out_h != g->out_h || w.out_w != g->out_w || w.pad_top != g->pt || w.pad_left != g->pl ||
             w.in_h != g->in_h || w.in_w != g->in_w || w.in_c != g->in_c || w.out_c != g->out_c ||
             w.kernel_h != g->kh || w.kernel_w != g->kw || w.stride_h != g->sh || w.stride_w != g->sw)
        FAIL("mco_window_init: out %dx%d pads %d,%d, expected %dx%d pads %d,%d", w.out_h, w.out_w, w.pad_top,
             w.pad_left, g->out_h, g->out_w, g->pt, g->pl);
    return w;
}

/* A random window: same_channels for depthwise and pools; outputs of at
 * least min_out x min_out (2 for the fused pools). */
static geom random_geom(int same_channels, int32_t min_out)
{
    for (;;) {
        geom g;
        int big = one_in(8);
        g.same = one_in(2);
        g.in_h = between(1, big ? 30 : 9);
        g.in_w = one_in(4) ? g.in_h : between(1, big ? 30 : 9);
        g.in_c = between(1, one_in(5) ? 24 : 4);
        g.out_c = same_channels ? g.in_c : between(1, one_in(5) ? 20 : 6);
        g.kh = one_in(3) ? 3 : between(1, 5);
        g.kw = one_in(2) ? g.kh : between(1, 5);
        g.sh = one_in(3) ? between(2, 3) : 1;
        g.sw = one_in(2) ? g.sh : between(1, 3);
        if (!ref_window(&g) || g.out_h < min_out || g.out_w < min_out) continue;
        return g;
    }
}

static size_t in_count(const geom *g) { return (size_t)g->in_h * (size_t)g->in_w * (size_t)g->in_c; }
static size_t out_count(const geom *g) { return (size_t)g->out_h * (size_t)g->out_w * (size_t)g->out_c; }
static size_t weight_count(const geom *g, int depthwise)
{
    return (size_t)g->kh * (size_t)g->kw * (size_t)(depthwise ? 1 : g->out_c) * (size_t)g->in_c;
}

/* Index of weight (oc, ky, kx, ci): OHWI, or HWC for depthwise (ci = oc). */
static size_t weight_index(const geom *g, int depthwise, int32_t oc, int32_t ky, int32_t kx, int32_t ci)
{
    if (depthwise) return ((size_t)ky * (size_t)g->kw + (size_t)kx) * (size_t)g->in_c + (size_t)oc;
    return (((size_t)oc * (size_t)g->kh + (size_t)ky) * (size_t)g->kw + (size_t)kx) * (size_t)g->in_c + (size_t)ci;
}

/* The input pixel under kernel tap (ky, kx) of output (oy, ox), or -1 in the padding. */
static int64_t input_pixel(const geom *g, int32_t oy, int32_t ox, int32_t ky, int32_t kx)
{
    int32_t iy = oy * g->sh - g->pt + ky, ix = ox * g->sw - g->pl + kx;
    if (iy < 0 || iy >= g->in_h || ix < 0 || ix >= g->in_w) return -1;
    return (int64_t)iy * g->in_w + ix;
}

/* sum((x + in_off) * w) of output (oy, ox, oc), in int64. */
static int64_t ref_conv_sum(const geom *g, int depthwise, const int8_t *x, const int8_t *w, int32_t in_off,
                            int32_t oy, int32_t ox, int32_t oc)
{
    int64_t sum = 0;
    int32_t ky, kx, ci;
    for (ky = 0; ky < g->kh; ky++)
        for (kx = 0; kx < g->kw; kx++) {
            int64_t pix = input_pixel(g, oy, ox, ky, kx);
            if (pix < 0) continue;
            for (ci = depthwise ? oc : 0; ci < (depthwise ? oc + 1 : g->in_c); ci++)
                sum += ((int64_t)x[pix * g->in_c + ci] + in_off) * w[weight_index(g, depthwise, oc, ky, kx, ci)];
        }
    return sum;
}

/* Float version: *mag gets sum |x * w| (for the error bound). */
static double ref_conv_sum_f(const geom *g, int depthwise, const float *x, const double *w, int32_t oy, int32_t ox,
                             int32_t oc, double *mag)
{
    double sum = 0.0;
    int32_t ky, kx, ci;
    *mag = 0.0;
    for (ky = 0; ky < g->kh; ky++)
        for (kx = 0; kx < g->kw; kx++) {
            int64_t pix = input_pixel(g, oy, ox, ky, kx);
            if (pix < 0) continue;
            for (ci = depthwise ? oc : 0; ci < (depthwise ? oc + 1 : g->in_c); ci++) {
                double t = (double)x[pix * g->in_c + ci] * w[weight_index(g, depthwise, oc, ky, kx, ci)];
                sum += t;
                *mag += fabs(t);
            }
        }
    return sum;
}

/* sum |w| of output channel oc. */
static int64_t channel_abs_sum(const geom *g, int depthwise, const int8_t *w, int32_t oc)
{
    int64_t s = 0;
    int32_t ky, kx, ci;
    for (ky = 0; ky < g->kh; ky++)
        for (kx = 0; kx < g->kw; kx++)
            for (ci = depthwise ? oc : 0; ci < (depthwise ? oc + 1 : g->in_c); ci++) {
                int32_t v = w[weight_index(g, depthwise, oc, ky, kx, ci)];
                s += v < 0 ? -v : v;
            }
    return s;
}

/* ---- random data ---------------------------------------------------------- */

static void random_s8(int8_t *x, size_t n)
{
    int extremes = one_in(8);
    size_t i;
    for (i = 0; i < n; i++) x[i] = (int8_t)(extremes ? (one_in(2) ? -128 : 127) : between(-128, 127));
}

/* Weights in [lo, hi]: uniform, sparse, all zero or at the extremes. */
static void random_weights(int8_t *w, size_t n, int32_t lo, int32_t hi)
{
    int kind = between(0, 9);
    double zeros = kind == 0 ? 1.0 : kind <= 2 ? uniform(0.3, 0.98) : 0.0;
    size_t i;
    for (i = 0; i < n; i++) {
        if (uniform(0.0, 1.0) < zeros) w[i] = 0;
        else if (kind == 3) w[i] = (int8_t)(one_in(2) ? lo : hi);
        else w[i] = (int8_t)between(lo, hi);
    }
}

static void random_floats(float *x, size_t n, double range)
{
    size_t i;
    for (i = 0; i < n; i++) x[i] = (float)uniform(-range, range);
}

/* max |x + in_off| over int8 x. */
static int64_t input_reach(int32_t in_off)
{
    int64_t a = (int64_t)in_off - 128, b = (int64_t)in_off + 127;
    a = a < 0 ? -a : a;
    b = b < 0 ? -b : b;
    return a > b ? a : b;
}

/* A bias whose accumulator, bias + a sum within +-reach, stays within the
 * build's limit: small, medium, or at either edge of the allowed range. */
static int32_t random_bias(int64_t reach)
{
    int64_t room = acc_limit() - reach;
    int64_t b;
    if (room < 0) room = 0;
    switch (between(0, 7)) {
    case 0: b = room; break;
    case 1: b = -room; break;
    case 2: b = (int64_t)between(-(int32_t)(room / 2), (int32_t)(room / 2)); break;
    case 3: b = between(-(1 << 20), 1 << 20); break;
    default: b = between(-4096, 4096); break;
    }
    if (b > room) b = room;
    if (b < -room) b = -room;
    return (int32_t)b;
}

/* Multipliers >= 0 (0 now and then) with shifts mostly small and right,
 * sometimes anywhere in the build's range. */
static void random_requant(int32_t *m, int32_t *shift, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; i++) {
        m[i] = one_in(16) ? 0 : between(1 << 30, INT32_MAX);
        shift[i] = one_in(8) ? between(shift_lo(), shift_hi()) : between(-12, -1);
        if (one_in(12) && shift_hi() >= 0) shift[i] = between(0, 3);
    }
}

/* Quantization of an int8 kernel's activations. */
typedef struct {
    int32_t in_off, out_off, act_min, act_max;
} qact;

static qact random_qact(void)
{
    qact q;
    q.in_off = one_in(8) ? (one_in(2) ? -127 : 128) : between(-127, 128);
    q.out_off = between(-128, 127);
    switch (between(0, 2)) {
    case 0: q.act_min = -128; q.act_max = 127; break;                    /* none */
    case 1: q.act_min = q.out_off; q.act_max = 127; break;               /* ReLU */
    default:
        q.act_min = between(-128, 127);
        q.act_max = between(q.act_min, 127);
        break;
    }
    return q;
}

static void pack_s4(const int8_t *w, size_t n, uint8_t *packed)
{
    size_t i;
    memset(packed, 0, (n + 1) / 2);
    for (i = 0; i < n; i++) packed[i / 2] |= (uint8_t)(((uint32_t)w[i] & 15u) << (4 * (i % 2)));
}

/* ---- fixed point, half precision, int4, windows --------------------------- */

static void test_fixed_point(void)
{
    static const int32_t edges[] = {0, 1, -1, 2, -2, INT32_MAX, INT32_MIN, INT32_MIN + 1, 1 << 30, -(1 << 30),
                                    (1 << 29) - 1, -(1 << 29)};
    const int n_edges = (int)(sizeof edges / sizeof edges[0]);
    int trial;
    describe("fixed point");
    for (trial = 0; trial < 200000 * scale; trial++) {
        int32_t a = trial < n_edges * n_edges ? edges[trial % n_edges] : (int32_t)(uint32_t)next64();
        int32_t b = trial < n_edges * n_edges ? edges[trial / n_edges] : (int32_t)(uint32_t)next64();
        int32_t e = between(0, 31), m = between(0, INT32_MAX), shift = between(-31, 30);
        if (one_in(3)) a >>= between(0, 31);
        if (mco_saturating_rounding_doubling_high_mul(a, b) != ref_srdhm(a, b))
            FAIL("srdhm(%d, %d) = %d, expected %d", a, b, mco_saturating_rounding_doubling_high_mul(a, b), ref_srdhm(a, b));
        if (mco_rounding_divide_by_pot(a, e) != ref_rdbpot(a, e))
            FAIL("rdbpot(%d, %d) = %d, expected %d", a, e, mco_rounding_divide_by_pot(a, e), ref_rdbpot(a, e));
        if (mco_requantize(a, m, shift) != ref_requantize(a, m, shift))
            FAIL("requantize(%d, %d, %d) = %d, expected %d", a, m, shift, mco_requantize(a, m, shift),
                 ref_requantize(a, m, shift));
        /* the emitted options' forms (mco_config.h) */
        if (shift < 0) {
            mco_requant_right rq = mco_fp_requant_right_init(m, shift);
            if (mco_fp_requant_right(&rq, a) != ref_requantize(a, m, shift))
                FAIL("requant_right(%d, %d, %d) = %d, expected %d", a, m, shift, mco_fp_requant_right(&rq, a),
                     ref_requantize(a, m, shift));
        }
        if (shift < 0 && shift >= -22 && a < (1 << 30) && a > -(1 << 30) &&
            mco_fp_requant_fast(a, m, shift) != ref_requantize(a, m, shift))
            FAIL("requant_fast(%d, %d, %d) = %d, expected %d", a, m, shift, mco_fp_requant_fast(a, m, shift),
                 ref_requantize(a, m, shift));
        if (test_failures) return;
    }
}

/* Nearest half to f (ties to even) by bisection over the positive halves. */
static uint16_t ref_f32_to_f16(float f)
{
    double v = fabs((double)f);
    uint16_t sign = (uint16_t)(signbit(f) ? 0x8000u : 0u), lo = 0, hi = 0x7BFF;
    if (f != f) return 0x7E00;
    if (v >= 65520.0) return (uint16_t)(sign | 0x7C00u);   /* halfway to 2^16 and beyond: inf */
    if (v >= ref_half(0x7BFF)) return (uint16_t)(sign | 0x7BFFu);
    while (hi - lo > 1) {   /* ref_half(lo) <= v < ref_half(hi) */
        uint16_t mid = (uint16_t)((lo + hi) / 2);
        if (ref_half(mid) <= v) lo = mid;
        else hi = mid;
    }
    {
        double dlo = v - ref_half(lo), dhi = ref_half(hi) - v;
        uint16_t r = dlo < dhi ? lo : dhi < dlo ? hi : (lo % 2 == 0 ? lo : hi);
        return (uint16_t)(sign | r);
    }
}

static void test_half(void)
{
    uint32_t h;
    int trial;
    describe("half precision");
    for (h = 0; h < 65536; h++) {
        float f = mco_f16_to_f32((uint16_t)h);
        double r = ref_half((uint16_t)h);
        if (r != r ? f == f : ((double)f != r || !signbit(f) != !signbit(r))) FAIL("f16_to_f32(0x%04x) = %g", h, (double)f);
        if (r == r && mco_f32_to_f16(f) != h) FAIL("f32_to_f16(f16_to_f32(0x%04x)) = 0x%04x", h, mco_f32_to_f16(f));
        if (r != r && (mco_f32_to_f16(f) & 0x7C00u) != 0x7C00u) FAIL("NaN 0x%04x did not stay a NaN", h);
        if (test_failures) return;
    }
    for (trial = 0; trial < 100000 * scale; trial++) {
        uint32_t bits = (uint32_t)next64();
        float f;
        if (trial % 2) bits = (bits & 0x807FFFFFu) | (uint32_t)between(95, 145) << 23;   /* near half range */
        memcpy(&f, &bits, sizeof f);
        if (f != f) continue;
        if (mco_f32_to_f16(f) != ref_f32_to_f16(f))
            FAIL("f32_to_f16(%a) = 0x%04x, expected 0x%04x", (double)f, mco_f32_to_f16(f), ref_f32_to_f16(f));
        if (test_failures) return;
    }
}

static void test_s4_and_windows(void)
{
    uint8_t packed[16];
    int8_t values[32];
    int trial, i;
    memset(packed, 0, sizeof packed);
    describe("int4 packing");
    for (trial = 0; trial < 2000; trial++) {
        for (i = 0; i < 32; i++) {
            values[i] = (int8_t)between(-8, 7);
            mco_s4_set(packed, (size_t)i, values[i]);
        }
        for (i = 0; i < 32; i++)
            if (mco_s4_get(packed, (size_t)i) != values[i]) FAIL("s4 value %d: %d, set %d", i, mco_s4_get(packed, (size_t)i), values[i]);
    }
    describe("mco_window_init");
    for (trial = 0; trial < 20000; trial++) {
        geom g;
        mco_window w;
        g.in_h = between(1, 40);
        g.in_w = between(1, 40);
        g.in_c = between(1, 8);
        g.out_c = between(1, 8);
        g.kh = between(1, 9);
        g.kw = between(1, 9);
        g.sh = between(1, 5);
        g.sw = between(1, 5);
        g.same = one_in(2);
        if (!ref_window(&g)) {
            if (mco_window_init(&w, g.in_h, g.in_w, g.in_c, g.out_c, g.kh, g.kw, g.sh, g.sw, 0) != MCO_RT_ARG_ERROR)
                FAIL("valid window with kernel %dx%d on %dx%d accepted", g.kh, g.kw, g.in_h, g.in_w);
            continue;
        }
        window_of(&g);
        if (test_failures) return;
    }
}

/* ---- int8 / int4 convolutions --------------------------------------------- */

/* Random biases for every channel within the accumulator limit. */
static void channel_biases(const geom *g, int depthwise, const int8_t *w, int32_t in_off, int32_t *bias)
{
    int32_t oc;
    for (oc = 0; oc < g->out_c; oc++) bias[oc] = random_bias(input_reach(in_off) * channel_abs_sum(g, depthwise, w, oc));
}

/* The reference output of conv output (oy, ox, oc) and its accumulator. */
static int8_t ref_conv_out(const geom *g, int depthwise, const mco_conv_s8_params *p, const int8_t *x,
                           const int8_t *w, const int32_t *bias, int32_t oy, int32_t ox, int32_t oc, int64_t *acc)
{
    *acc = bias[oc] + ref_conv_sum(g, depthwise, x, w, p->input_offset, oy, ox, oc);
    if (*acc > acc_limit() || *acc < -acc_limit()) FAIL("test generator: accumulator %lld beyond the limit", (long long)*acc);
    return ref_output(*acc, p->multiplier[oc], p->shift[oc], p->output_offset, p->act_min, p->act_max);
}

/* y (out_h x out_w x out_c) against the reference conv. */
static void check_conv_s8(const char *kernel, const geom *g, int depthwise, const mco_conv_s8_params *p,
                          const int8_t *x, const int8_t *w, const int32_t *bias, const int8_t *y)
{
    int32_t oy, ox, oc;
    for (oy = 0; oy < g->out_h; oy++)
        for (ox = 0; ox < g->out_w; ox++)
            for (oc = 0; oc < g->out_c; oc++) {
                int64_t acc;
                int8_t want = ref_conv_out(g, depthwise, p, x, w, bias, oy, ox, oc, &acc);
                int8_t got = y[((size_t)oy * (size_t)g->out_w + (size_t)ox) * (size_t)g->out_c + (size_t)oc];
                if (got != want) {
                    FAIL("%s at (%d, %d, %d): %d, expected %d (acc %lld, multiplier %d, shift %d)", kernel, oy, ox, oc,
                         got, want, (long long)acc, p->multiplier[oc], p->shift[oc]);
                    return;
                }
            }
}

static void describe_conv(const char *kernel, const geom *g, const qact *q)
{
    describe("%s %dx%dx%d -> %dx%dx%d, kernel %dx%d, stride %dx%d, %s, offsets %d / %d, act [%d, %d], seed %llu",
             kernel, g->in_h, g->in_w, g->in_c, g->out_h, g->out_w, g->out_c, g->kh, g->kw, g->sh, g->sw,
             g->same ? "same" : "valid", q->in_off, q->out_off, q->act_min, q->act_max, (unsigned long long)seed);
}

static mco_conv_s8_params conv_params(const geom *g, const qact *q, const int32_t *m, const int32_t *s)
{
    mco_conv_s8_params p;
    p.win = window_of(g);
    p.input_offset = q->in_off;
    p.output_offset = q->out_off;
    p.act_min = q->act_min;
    p.act_max = q->act_max;
    p.multiplier = m;
    p.shift = s;
    return p;
}

/* mco_conv2d_s8, mco_conv2d_s4, mco_depthwise_conv2d_s8. */
static void test_conv_s8(int trials)
{
    int trial;
    for (trial = 0; trial < trials && !test_failures; trial++) {
        int kind = between(0, 2);   /* 0: s8, 1: s4, 2: depthwise s8 */
        int depthwise = kind == 2;
        geom g = random_geom(depthwise, 1);
        qact q = random_qact();
        size_t nw = weight_count(&g, depthwise);
        int8_t *x = NEW(int8_t, in_count(&g)), *w = NEW(int8_t, nw), *y = NEW(int8_t, out_count(&g));
        uint8_t *w4 = NEW(uint8_t, (nw + 1) / 2);
        int32_t *bias = NEW(int32_t, g.out_c), *m = NEW(int32_t, g.out_c), *s = NEW(int32_t, g.out_c);
        const char *name = kind == 0 ? "conv2d_s8" : kind == 1 ? "conv2d_s4" : "depthwise_conv2d_s8";
        mco_conv_s8_params p = conv_params(&g, &q, m, s);
        mco_rt_status st;
        describe_conv(name, &g, &q);
        random_s8(x, in_count(&g));
        random_weights(w, nw, kind == 1 ? -8 : -127, kind == 1 ? 7 : 127);
        pack_s4(w, nw, w4);
        random_requant(m, s, g.out_c);
        channel_biases(&g, depthwise, w, q.in_off, bias);
        st = kind == 0 ? mco_conv2d_s8(&p, x, w, bias, y)
             : kind == 1 ? mco_conv2d_s4(&p, x, w4, bias, y)
                         : mco_depthwise_conv2d_s8(&p, x, w, bias, y, NULL);
        if (st != MCO_RT_OK) FAIL("%s returned %d", name, st);
        else check_conv_s8(name, &g, depthwise, &p, x, w, bias, y);
        hash(y, out_count(&g));
        free(x);
        free(w);
        free(y);
        free(w4);
        free(bias);
        free(m);
        free(s);
    }
}

/* mco_depthwise_conv2d_s8 with the scratch its _get_buffer_size asks for
 * (the DSP build's lines path: 3x3 kernels, stride 1 or 2 along lines of at
 * least 8 outputs, the rows or, when the output is taller than wide, the
 * columns; a quarter of the cases at least), against the reference and
 * against its run without scratch (the channels path on DSP builds). */
static void test_depthwise_s8(int trials)
{
    int trial, lines = 0;
    for (trial = 0; trial < trials && !test_failures; trial++) {
        geom g;
        qact q = random_qact();
        int8_t *x, *w, *y, *y_plain;
        int32_t *bias, *m, *s, size;
        void *scratch;
        mco_conv_s8_params p;
        mco_rt_status st;
        do {
            g.same = !one_in(4);
            g.in_h = between(1, one_in(6) ? 40 : 12);
            g.in_w = one_in(3) ? g.in_h : between(1, one_in(6) ? 40 : 12);
            g.in_c = between(1, one_in(4) ? 20 : 5);
            g.out_c = g.in_c;
            g.kh = one_in(8) ? between(1, 5) : 3;
            g.kw = one_in(8) ? between(1, 5) : 3;
            g.sh = one_in(3) ? 2 : one_in(8) ? 3 : 1;
            g.sw = one_in(2) ? g.sh : one_in(3) ? 2 : one_in(8) ? 3 : 1;
        } while (!ref_window(&g));
        x = NEW(int8_t, in_count(&g));
        w = NEW(int8_t, weight_count(&g, 1));
        y = NEW(int8_t, out_count(&g));
        y_plain = NEW(int8_t, out_count(&g));
        bias = NEW(int32_t, g.out_c);
        m = NEW(int32_t, g.out_c);
        s = NEW(int32_t, g.out_c);
        p = conv_params(&g, &q, m, s);
        describe_conv("depthwise_conv2d_s8 (scratch)", &g, &q);
        random_s8(x, in_count(&g));
        random_weights(w, weight_count(&g, 1), -127, 127);
        random_requant(m, s, g.out_c);
        channel_biases(&g, 1, w, q.in_off, bias);
        size = mco_depthwise_conv2d_s8_get_buffer_size(&p.win);
        if (size < 0 || size > 1 << 20) FAIL("get_buffer_size: %d", size);
        lines += size > 0;
        scratch = size > 0 ? exact_alloc((size_t)size) : NULL;
        st = mco_depthwise_conv2d_s8(&p, x, w, bias, y, scratch);
        if (st != MCO_RT_OK) FAIL("depthwise_conv2d_s8 returned %d", st);
        else check_conv_s8("depthwise_conv2d_s8 (scratch)", &g, 1, &p, x, w, bias, y);
        if (mco_depthwise_conv2d_s8(&p, x, w, bias, y_plain, NULL) != MCO_RT_OK ||
            memcmp(y, y_plain, out_count(&g)) != 0)
            FAIL("depthwise_conv2d_s8: with scratch and without, the outputs differ");
        hash(y, out_count(&g));
        free(scratch);
        free(x);
        free(w);
        free(y);
        free(y_plain);
        free(bias);
        free(m);
        free(s);
    }
    if (!test_failures && MCO_HAVE_DSP && lines < trials / 4)
        FAIL("only %d of %d depthwise cases ran with scratch", lines, trials);
}

/* The fused conv + clamp + max pool 2x2 reference: max of the four int8
 * conv outputs (conv2d_s8 then max_pool_s8). */
static void check_conv_pool_s8(const char *kernel, const geom *g, const mco_conv_s8_params *p, const int8_t *x,
                               const int8_t *w, const int32_t *bias, const int8_t *y)
{
    int32_t py, px, oc, dy, dx;
    for (py = 0; py < g->out_h / 2; py++)
        for (px = 0; px < g->out_w / 2; px++)
            for (oc = 0; oc < g->out_c; oc++) {
                int32_t want = -129;
                int8_t got = y[((size_t)py * (size_t)(g->out_w / 2) + (size_t)px) * (size_t)g->out_c + (size_t)oc];
                for (dy = 0; dy < 2; dy++)
                    for (dx = 0; dx < 2; dx++) {
                        int64_t acc;
                        int32_t v = ref_conv_out(g, 0, p, x, w, bias, 2 * py + dy, 2 * px + dx, oc, &acc);
                        want = v > want ? v : want;
                    }
                if (got != want) {
                    FAIL("%s at pooled (%d, %d, %d): %d, expected %d (multiplier %d, shift %d, bias %d)", kernel, py,
                         px, oc, got, want, p->multiplier[oc], p->shift[oc], bias[oc]);
                    return;
                }
            }
}

/* The 3x3 one-channel kernel's case: conv3x3 shape, ReLU output zero point
 * -128, shifts it takes (the prepare step decides the rest). */
static void make_conv3x3_case(geom *g, qact *q, int32_t *s)
{
    int32_t oc, any_shift = one_in(8);
    g->in_c = 1;
    g->kh = g->kw = 3;
    g->sh = g->sw = 1;
    g->same = 0;
    ref_window(g);
    q->out_off = -128;
    q->act_min = -128;
    q->act_max = 127;
    for (oc = 0; oc < g->out_c; oc++)
        if (!any_shift) s[oc] = between(shift_lo() > -22 ? shift_lo() : -22, -1);
}

/* mco_conv2d_maxpool2x2_s8, mco_conv3x3_maxpool2x2_s8 (with its prepare
 * step) and mco_conv2d_maxpool2x2_sparse_s8 against conv then max pool. */
static void test_conv_pool_s8(int trials)
{
    int trial, accepted3 = 0, ran_sparse = 0;
    for (trial = 0; trial < trials && !test_failures; trial++) {
        geom g = random_geom(0, 2);
        qact q = random_qact();
        int shape3 = one_in(2), sparse_shape = !shape3 && one_in(2);
        int32_t *m, *s, *bias, *requant;
        int8_t *x, *w, *y;
        size_t nw, ny;
        mco_conv_s8_params p;
        mco_rt_status st;
        while (shape3 && (g.in_h < 4 || g.in_w < 4)) g = random_geom(0, 2);
        if (sparse_shape) {   /* valid padding, the DSP path's shape (one channel, stride 1) half the time */
            g.same = 0;
            if (one_in(2)) {
                g.in_c = 1;
                g.sh = g.sw = 1;
            }
            if (!ref_window(&g) || g.out_h < 2 || g.out_w < 2) continue;
        }
        m = NEW(int32_t, g.out_c);
        s = NEW(int32_t, g.out_c);
        random_requant(m, s, g.out_c);
        if (shape3) make_conv3x3_case(&g, &q, s);
        nw = weight_count(&g, 0);
        ny = (size_t)(g.out_h / 2) * (size_t)(g.out_w / 2) * (size_t)g.out_c;
        x = NEW(int8_t, in_count(&g));
        w = NEW(int8_t, nw);
        y = NEW(int8_t, ny);
        bias = NEW(int32_t, g.out_c);
        requant = NEW(int32_t, (size_t)g.out_c * MCO_CONV3X3_REQUANT_WORDS);
        p = conv_params(&g, &q, m, s);
        random_s8(x, in_count(&g));
        random_weights(w, nw, -127, 127);
        channel_biases(&g, 0, w, q.in_off, bias);
        if (shape3 && one_in(2)) {   /* the usual small biases: the kernel's case */
            int32_t oc;
            for (oc = 0; oc < g.out_c; oc++) bias[oc] = between(-50000, 50000);
        }

        describe_conv("conv2d_maxpool2x2_s8", &g, &q);
        st = mco_conv2d_maxpool2x2_s8(&p, x, w, bias, y);
        if (st != MCO_RT_OK) FAIL("returned %d", st);
        else check_conv_pool_s8("conv2d_maxpool2x2_s8", &g, &p, x, w, bias, y);
        hash(y, ny);

        describe_conv("conv3x3_maxpool2x2_s8", &g, &q);
        if (mco_conv3x3_maxpool2x2_s8_prepare(&p, w, bias, requant)) {
            accepted3++;
            memset(y, 0xA5, ny);
            st = mco_conv3x3_maxpool2x2_s8(&p, x, w, requant, y);
            if (st != MCO_RT_OK) FAIL("returned %d", st);
            else check_conv_pool_s8("conv3x3_maxpool2x2_s8", &g, &p, x, w, bias, y);
            hash(y, ny);
        } else if (g.in_c != 1 || g.kh != 3 || g.kw != 3 || g.sh != 1 || g.sw != 1 || g.out_h != g.in_h - 2 ||
                   g.out_w != g.in_w - 2) {
            EXPECT(mco_conv3x3_maxpool2x2_s8(&p, x, w, requant, y) == MCO_RT_ARG_ERROR);   /* not its shape */
        }

        if ((g.out_h - 1) * g.sh + g.kh <= g.in_h && (g.out_w - 1) * g.sw + g.kw <= g.in_w) {   /* no padding */
            int32_t packed_n = mco_sparse_s8_pack(w, g.out_c, g.kh * g.kw * g.in_c, MCO_SPARSE_ROWS, NULL, 0);
            uint8_t *packed = NEW(uint8_t, packed_n);
            int32_t oc, most = 0;
            describe_conv("conv2d_maxpool2x2_sparse_s8", &g, &q);
            EXPECT(mco_sparse_s8_pack(w, g.out_c, g.kh * g.kw * g.in_c, MCO_SPARSE_ROWS, packed, packed_n) == packed_n);
            for (oc = 0; oc < g.out_c; oc++) {
                int32_t taps = 0, j;
                for (j = 0; j < g.kh * g.kw * g.in_c; j++) taps += w[(size_t)oc * (size_t)(g.kh * g.kw * g.in_c) + (size_t)j] != 0;
                most = taps > most ? taps : most;
            }
            memset(y, 0xA5, ny);
            st = mco_conv2d_maxpool2x2_sparse_s8(&p, x, packed, bias, y);
            if (most > MCO_SPARSE_MAX_TAPS || g.out_w / 2 > 64) {
                if (st != MCO_RT_NO_IMPL) FAIL("%d taps, pooled width %d: returned %d, expected NO_IMPL", most, g.out_w / 2, st);
            } else if (st != MCO_RT_OK) {
                FAIL("returned %d", st);
            } else {
                ran_sparse++;
                check_conv_pool_s8("conv2d_maxpool2x2_sparse_s8", &g, &p, x, w, bias, y);
                hash(y, ny);
            }
            free(packed);
        }
        free(x);
        free(w);
        free(y);
        free(bias);
        free(requant);
        free(m);
        free(s);
    }
    describe("conv + pool coverage");
    if (!test_failures && (accepted3 < trials / 10 || ran_sparse < trials / 10))
        FAIL("only %d of %d cases ran the conv3x3 kernel, %d the sparse one", accepted3, trials, ran_sparse);
}

/* ---- int8 / int4 Dense, dense and sparse ----------------------------------- */

static void test_fc_s8(int trials)
{
    int trial;
    for (trial = 0; trial < trials && !test_failures; trial++) {
        int32_t in = between(1, one_in(4) ? (one_in(3) ? 1500 : 700) : 40), out = between(1, one_in(4) ? 40 : 12);
        int bits = one_in(3) ? 4 : 8, per_tensor = one_in(2);
        /* int8 with five units or more: half the time the interleaved layout */
        int interleaved = bits == 8 && out >= MCO_FC_S8_ROWS && one_in(2);
        qact q = random_qact();
        size_t nw = (size_t)in * (size_t)out;
        int8_t *x = NEW(int8_t, in), *w = NEW(int8_t, nw), *y = NEW(int8_t, out);
        uint8_t *w4 = NEW(uint8_t, (nw + 1) / 2);
        int8_t *wi = interleaved ? NEW(int8_t, mco_fc_s8_interleaved_size(in, out)) : NULL;
        int32_t nq = per_tensor ? 1 : out;
        int32_t *bias = NEW(int32_t, out), *m = NEW(int32_t, nq), *s = NEW(int32_t, nq);
        mco_fc_s8_params p;
        int32_t u, i;
        mco_rt_status st;
        describe("fully_connected_s%d %d -> %d, %s%s, offsets %d / %d, act [%d, %d], seed %llu", bits, in, out,
                 per_tensor ? "per tensor" : "per unit", interleaved ? ", interleaved" : "", q.in_off, q.out_off, q.act_min, q.act_max,
                 (unsigned long long)seed);
        random_s8(x, (size_t)in);
        random_weights(w, nw, bits == 4 ? -8 : -127, bits == 4 ? 7 : 127);
        if (one_in(8)) {   /* long runs of empty groups, then a weight: the sparse stream's skips */
            memset(w, 0, nw);
            for (i = 0; i < out; i += 2) w[(size_t)i * (size_t)in + (size_t)(in - 1)] = (int8_t)between(1, 7);
        }
        pack_s4(w, nw, w4);
        random_requant(m, s, nq);
        for (u = 0; u < out; u++) {
            int64_t abs_sum = 0;
            for (i = 0; i < in; i++) abs_sum += abs(w[(size_t)u * (size_t)in + (size_t)i]);
            bias[u] = random_bias(input_reach(q.in_off) * abs_sum);
        }
        p.in_size = in;
        p.out_size = out;
        p.input_offset = q.in_off;
        p.output_offset = q.out_off;
        p.act_min = q.act_min;
        p.act_max = q.act_max;
        p.multiplier = m;
        p.shift = s;
        p.per_tensor = per_tensor;
        p.interleaved = interleaved;
        if (interleaved) mco_fc_s8_interleave(in, out, w, wi);
        st = bits == 8 ? mco_fully_connected_s8(&p, x, interleaved ? wi : w, bias, y)
                       : mco_fully_connected_s4(&p, x, w4, bias, y);
        if (st != MCO_RT_OK) FAIL("returned %d", st);
        for (u = 0; st == MCO_RT_OK && u < out; u++) {
            int64_t acc = bias[u];
            int32_t k = per_tensor ? 0 : u;
            int8_t want;
            for (i = 0; i < in; i++) acc += ((int64_t)x[i] + q.in_off) * w[(size_t)u * (size_t)in + (size_t)i];
            if (acc > acc_limit() || acc < -acc_limit()) FAIL("test generator: accumulator %lld", (long long)acc);
            want = ref_output(acc, m[k], s[k], q.out_off, q.act_min, q.act_max);
            if (y[u] != want) {
                FAIL("unit %d: %d, expected %d (acc %lld)", u, y[u], want, (long long)acc);
                break;
            }
        }
        hash(y, (size_t)out);
        if (bits == 8) {   /* the sparse kernel on the same weights: the same bytes */
            int32_t n = mco_sparse_s8_pack(w, out, in, MCO_SPARSE_ROW_PAIRS, NULL, 0);
            uint8_t *packed = NEW(uint8_t, n);
            int8_t *ys = NEW(int8_t, out);
            mco_sparse_fc_profile pr;
            describe("fully_connected_sparse_s8 %d -> %d, seed %llu", in, out, (unsigned long long)seed);
            p.interleaved = 0;   /* the sparse kernel reads its own stream */
            EXPECT(mco_sparse_s8_pack(w, out, in, MCO_SPARSE_ROW_PAIRS, packed, n) == n);
            EXPECT(mco_sparse_fc_s8_profile(packed, (size_t)n, out, in, &pr) == 0);
            st = mco_fully_connected_sparse_s8(&p, x, packed, bias, ys);
            if (st != MCO_RT_OK) FAIL("returned %d", st);
            else if (memcmp(y, ys, (size_t)out) != 0) FAIL("differs from fully_connected_s8");
            hash(ys, (size_t)out);
            free(packed);
            free(ys);
        }
        free(x);
        free(w);
        free(y);
        free(w4);
        free(wi);
        free(bias);
        free(m);
        free(s);
    }
}

/* ---- int8 pools, clamp, add, softmax -------------------------------------- */

/* Max, average, average over the whole window (count_pad: each padded tap
 * holds pad_value, the input zero point) and global average pools. */
static void test_pools_s8(int trials)
{
    int trial;
    for (trial = 0; trial < trials && !test_failures; trial++) {
        int global = one_in(4), is_max = !global && one_in(3), count_pad = !global && !is_max && one_in(2);
        geom g = random_geom(1, 1);
        qact q = random_qact();
        int8_t *x, *y;
        mco_pool_s8_params p;
        mco_avg_pool_pad_s8_params pp;
        int32_t oy, ox, c, ky, kx, pad_value = between(-128, 127);
        mco_rt_status st;
        if (global) {   /* one window over the whole input */
            g.kh = g.in_h;
            g.kw = g.in_w;
            g.sh = g.sw = 1;
            g.same = 0;
            ref_window(&g);
        }
        x = NEW(int8_t, in_count(&g));
        y = NEW(int8_t, out_count(&g));
        random_s8(x, in_count(&g));
        p.act_min = q.act_min;
        p.act_max = q.act_max;
        describe_conv(global ? "global_avg_pool_s8" : is_max ? "max_pool_s8" : count_pad ? "avg_pool_pad_s8" : "avg_pool_s8",
                      &g, &q);
        if (global) {
            st = mco_global_avg_pool_s8(g.in_h, g.in_w, g.in_c, q.act_min, q.act_max, x, y);
        } else if (count_pad) {
            pp.win = window_of(&g);
            pp.pad_value = pad_value;
            pp.act_min = q.act_min;
            pp.act_max = q.act_max;
            st = mco_avg_pool_pad_s8(&pp, x, y);
        } else {
            p.win = window_of(&g);
            st = is_max ? mco_max_pool_s8(&p, x, y) : mco_avg_pool_s8(&p, x, y);
        }
        if (st != MCO_RT_OK) FAIL("returned %d", st);
        for (oy = 0; st == MCO_RT_OK && oy < g.out_h; oy++)
            for (ox = 0; ox < g.out_w; ox++)
                for (c = 0; c < g.in_c; c++) {
                    int64_t sum = 0, best = -1000, count = 0, v;
                    for (ky = 0; ky < g.kh; ky++)
                        for (kx = 0; kx < g.kw; kx++) {
                            int64_t pix = input_pixel(&g, oy, ox, ky, kx);
                            if (pix < 0 && !count_pad) continue;
                            v = pix < 0 ? pad_value : x[pix * g.in_c + c];
                            sum += v;
                            best = v > best ? v : best;
                            count++;
                        }
                    /* the mean rounded half away from zero */
                    v = is_max ? best : (sum >= 0 ? (2 * sum + count) / (2 * count) : -((-2 * sum + count) / (2 * count)));
                    v = v < q.act_min ? q.act_min : (v > q.act_max ? q.act_max : v);
                    if (y[((size_t)oy * (size_t)g.out_w + (size_t)ox) * (size_t)g.in_c + (size_t)c] != v) {
                        FAIL("at (%d, %d, %d): %d, expected %d", oy, ox, c,
                             y[((size_t)oy * (size_t)g.out_w + (size_t)ox) * (size_t)g.in_c + (size_t)c], (int)v);
                        oy = g.out_h;
                        ox = g.out_w;
                        break;
                    }
                }
        hash(y, out_count(&g));
        free(x);
        free(y);
    }
}

/* TFLite's int8 MEAN over height and width (mco_mean_s8): the channel sum
 * minus count x zero point, requantized, plus the output zero point. */
static void test_mean_s8(int trials)
{
    int trial;
    for (trial = 0; trial < trials && !test_failures; trial++) {
        int32_t h = between(1, 24), w = between(1, 24), c = between(1, 40), k, i;
        qact q = random_qact();
        mco_mean_s8_params p;
        int8_t *x = NEW(int8_t, (size_t)(h * w * c)), *y = NEW(int8_t, (size_t)c);
        random_s8(x, (size_t)(h * w * c));
        memset(&p.win, 0, sizeof p.win);   /* one window over the whole input */
        p.win.in_h = p.win.kernel_h = h;
        p.win.in_w = p.win.kernel_w = w;
        p.win.in_c = p.win.out_c = c;
        p.win.out_h = p.win.out_w = p.win.stride_h = p.win.stride_w = 1;
        p.input_offset = q.in_off;
        p.output_offset = q.out_off;
        p.multiplier = between(1 << 30, INT32_MAX);
        p.shift = between(-31, 2);
        p.act_min = q.act_min;
        p.act_max = q.act_max;
        describe("mean_s8 %dx%dx%d offsets %d/%d multiplier %d shift %d act [%d, %d]", h, w, c, p.input_offset,
                 p.output_offset, p.multiplier, p.shift, p.act_min, p.act_max);
        if (mco_mean_s8(&p, x, y) != MCO_RT_OK) FAIL("returned an error");
        for (k = 0; k < c; k++) {
            int64_t acc = (int64_t)h * w * q.in_off, v;
            for (i = 0; i < h * w; i++) acc += x[(size_t)i * (size_t)c + (size_t)k];
            v = (int64_t)ref_requantize((int32_t)acc, p.multiplier, p.shift) + q.out_off;
            v = v < q.act_min ? q.act_min : (v > q.act_max ? q.act_max : v);
            if (y[k] != v) {
                FAIL("channel %d: %d, expected %d", k, y[k], (int)v);
                break;
            }
        }
        hash(y, (size_t)c);
        free(x);
        free(y);
    }
}

/* y against TFLite's reference Add. */
static void check_add_s8(const mco_add_s8_params *p, const int8_t *a, const int8_t *b, const int8_t *y)
{
    int32_t i;
    for (i = 0; i < p->size; i++) {
        int32_t x1 = (a[i] + p->input1_offset) * (1 << p->left_shift), x2 = (b[i] + p->input2_offset) * (1 << p->left_shift);
        int32_t sum = ref_requantize(x1, p->input1_multiplier, p->input1_shift) +
                      ref_requantize(x2, p->input2_multiplier, p->input2_shift);
        int8_t want = ref_output(sum, p->output_multiplier, p->output_shift, p->output_offset, p->act_min, p->act_max);
        if (y[i] != want) {
            FAIL("value %d (%d + %d): %d, expected %d", i, a[i], b[i], y[i], want);
            return;
        }
    }
}

static void test_clamp_add_s8(int trials)
{
    int trial;
    for (trial = 0; trial < trials && !test_failures; trial++) {
        int32_t n = between(1, one_in(4) ? 2000 : 64), i;
        qact q = random_qact();
        int8_t *a = NEW(int8_t, n), *b = NEW(int8_t, n), *y = NEW(int8_t, n);
        mco_add_s8_params p;
        double s1 = exp(uniform(-7.0, 0.0)), s2 = s1 * exp(uniform(-3.0, 3.0)), so = (s1 + s2) * exp(uniform(-1.5, 1.5));
        double twice_max = 2.0 * (s1 > s2 ? s1 : s2);
        random_s8(a, (size_t)n);
        random_s8(b, (size_t)n);
        describe("clamp_s8 %d values to [%d, %d], seed %llu", n, q.act_min, q.act_max, (unsigned long long)seed);
        memcpy(y, a, (size_t)n);
        if (mco_clamp_s8(y, n, q.act_min, q.act_max) != MCO_RT_OK) FAIL("returned an error");
        for (i = 0; i < n; i++) {
            int32_t want = a[i] < q.act_min ? q.act_min : (a[i] > q.act_max ? q.act_max : a[i]);
            if (y[i] != want) {
                FAIL("value %d: %d, expected %d", i, y[i], want);
                break;
            }
        }
        hash(y, (size_t)n);

        p.size = n;
        p.input1_offset = q.in_off;
        p.input2_offset = between(-127, 128);
        p.left_shift = one_in(4) ? between(0, 20) : 20;
        ref_quantize_multiplier(s1 / twice_max, &p.input1_multiplier, &p.input1_shift);
        ref_quantize_multiplier(s2 / twice_max, &p.input2_multiplier, &p.input2_shift);
        ref_quantize_multiplier(twice_max / ((double)(1 << p.left_shift) * so), &p.output_multiplier, &p.output_shift);
        p.output_offset = q.out_off;
        p.act_min = q.act_min;
        p.act_max = q.act_max;
        describe("add_s8 %d values, scales %g %g -> %g, left shift %d, offsets %d %d / %d, act [%d, %d], seed %llu", n, s1,
                 s2, so, p.left_shift, p.input1_offset, p.input2_offset, p.output_offset, p.act_min, p.act_max,
                 (unsigned long long)seed);
        if (p.output_shift >= shift_lo() && p.output_shift <= shift_hi()) {   /* else not this build's case */
            if (mco_add_s8(&p, a, b, y) != MCO_RT_OK) FAIL("returned an error");
            else check_add_s8(&p, a, b, y);
            hash(y, (size_t)n);
        }
        free(a);
        free(b);
        free(y);
    }
}

/* Concat along the channels, int8 (each input through its table, or
 * copied) and float (copied), against the reference's walk over the
 * output. */
static void test_concat(int trials)
{
    int trial;
    for (trial = 0; trial < trials && !test_failures; trial++) {
        int32_t pixels = between(1, one_in(4) ? 300 : 20), c1 = between(1, 24), c2 = between(1, 24), px, k;
        size_t n1 = (size_t)(pixels * c1), n2 = (size_t)(pixels * c2), n = n1 + n2;
        int8_t *a = NEW(int8_t, n1), *b = NEW(int8_t, n2), *y = NEW(int8_t, n), tables[512];
        float *fa = NEW(float, n1), *fb = NEW(float, n2), *fy = NEW(float, n);
        mco_concat_s8_params p;
        mco_concat_f32_params pf;
        random_s8(a, n1);
        random_s8(b, n2);
        random_floats(fa, n1, 10.0);
        random_floats(fb, n2, 10.0);
        p.pixels = pf.pixels = pixels;
        p.channels1 = pf.channels1 = c1;
        p.channels2 = pf.channels2 = c2;
        p.requantize1 = !one_in(4);
        p.requantize2 = !one_in(4);
        random_s8(tables, 512);
        describe("concat_s8 %d pixels, %d + %d channels, requantized %d, %d, seed %llu", pixels, c1, c2,
                 (int)p.requantize1, (int)p.requantize2, (unsigned long long)seed);
        if (mco_concat_s8(&p, a, b, tables, y) != MCO_RT_OK) FAIL("returned an error");
        for (px = 0; px < pixels && !test_failures; px++)
            for (k = 0; k < c1 + c2; k++) {
                int first = k < c1;
                int32_t q = first ? a[px * c1 + k] : b[px * c2 + k - c1];
                int32_t want = (first ? p.requantize1 : p.requantize2) ? tables[(first ? 0 : 256) + q + 128] : q;
                if (y[px * (c1 + c2) + k] != want) {
                    FAIL("pixel %d channel %d: %d, expected %d", px, k, y[px * (c1 + c2) + k], want);
                    break;
                }
            }
        hash(y, n);
        describe("concat_f32 %d pixels, %d + %d channels, seed %llu", pixels, c1, c2, (unsigned long long)seed);
        if (mco_concat_f32(&pf, fa, fb, fy) != MCO_RT_OK) FAIL("returned an error");
        for (px = 0; px < pixels && !test_failures; px++)
            if (memcmp(fy + px * (c1 + c2), fa + px * c1, (size_t)c1 * sizeof *fy) != 0 ||
                memcmp(fy + px * (c1 + c2) + c1, fb + px * c2, (size_t)c2 * sizeof *fy) != 0)
                FAIL("pixel %d differs from the inputs' channels", px);
        hash(fy, n * sizeof *fy);
        p.channels2 = 0;   /* refused, not run */
        if (mco_concat_s8(&p, a, b, tables, y) != MCO_RT_ARG_ERROR) FAIL("took 0 channels");
        p.channels2 = c2;
        p.requantize1 = 1;
        if (mco_concat_s8(&p, a, b, NULL, y) != MCO_RT_ARG_ERROR) FAIL("requantized without tables");
        free(a);
        free(b);
        free(y);
        free(fa);
        free(fb);
        free(fy);
    }
}

/* TFLite's PreprocessSoftmaxScaling + CalculateInputRadius for beta 1. */
static int softmax_params(double input_scale, mco_softmax_s8_params *p)
{
    double real = input_scale * (double)(1 << 26);
    if (real >= 1073741824.0) real = 1073741823.0;
    ref_quantize_multiplier(real, &p->input_multiplier, &p->input_left_shift);
    if (p->input_left_shift < 0) return 0;
    p->diff_min = -(int32_t)floor(31.0 * (double)(1 << 26) / ldexp(1.0, p->input_left_shift));
    return 1;
}

static void test_softmax_s8(int trials)
{
    int trial;
    for (trial = 0; trial < trials && !test_failures; trial++) {
        int32_t rows = between(1, 4), size = between(1, one_in(8) ? 4095 : 300), r, i;
        double in_scale = exp(uniform(-6.0, 0.0));
        mco_softmax_s8_params p;
        int8_t *x = NEW(int8_t, rows * size), *y = NEW(int8_t, rows * size);
        if (!softmax_params(in_scale, &p)) FAIL("softmax parameters for scale %g", in_scale);
        p.n_rows = rows;
        p.row_size = size;
        random_s8(x, (size_t)(rows * size));
        describe("softmax_s8 %d x %d, input scale %g, seed %llu", rows, size, in_scale, (unsigned long long)seed);
        if (mco_softmax_s8(&p, x, y) != MCO_RT_OK) FAIL("returned an error");
        for (r = 0; r < rows && !test_failures; r++) {
            const int8_t *xr = x + r * size;
            double sum = 0.0;
            int32_t max = -128;
            for (i = 0; i < size; i++) max = xr[i] > max ? xr[i] : max;
            for (i = 0; i < size; i++) sum += exp(in_scale * (xr[i] - max));
            for (i = 0; i < size; i++) {
                double want = 256.0 * exp(in_scale * (xr[i] - max)) / sum - 128.0;
                int32_t got = y[r * size + i];
                if (want > 127.0) want = 127.0;
                if (fabs(got - want) > 1.0) {
                    FAIL("row %d value %d: %d, float softmax %.3f", r, i, got, want);
                    break;
                }
            }
        }
        hash(y, (size_t)(rows * size));
        free(x);
        free(y);
    }
}

/* ---- float kernels --------------------------------------------------------- */

/* Recursive summation of n terms errs by at most n * 2^-24 * sum |terms|
 * (plus one rounding per extra operation): the bound a float result must meet. */
static int float_close(double got, double want, double magnitude, int32_t ops)
{
    return fabs(got - want) <= (double)(ops + 2) * 0x1p-24 * magnitude + 1e-30;
}

static double clampd(double v, float lo, float hi) { return v < lo ? lo : (v > hi ? hi : v); }

static void random_act_f(float *lo, float *hi)
{
    switch (between(0, 3)) {
    case 0: *lo = -FLT_MAX; *hi = FLT_MAX; break;
    case 1: *lo = 0.0f; *hi = FLT_MAX; break;
    case 2: *lo = 0.0f; *hi = 6.0f; break;
    default: *lo = (float)uniform(-3.0, 0.0); *hi = (float)uniform(0.0, 3.0); break;
    }
}

/* Conv2D or depthwise in f32, f16-weight and int8-weight (hybrid) forms,
 * and the fused f32 conv + max pool. */
static void test_conv_float(int trials)
{
    int trial;
    for (trial = 0; trial < trials && !test_failures; trial++) {
        int depthwise = one_in(3);
        geom g = random_geom(depthwise, 1);
        size_t nx = in_count(&g), nw = weight_count(&g, depthwise), ny = out_count(&g), i;
        float *x = NEW(float, nx), *wf = NEW(float, nw), *bias = NEW(float, g.out_c), *scales = NEW(float, g.out_c);
        float *y = NEW(float, ny), *y2 = NEW(float, ny);
        uint16_t *wh = NEW(uint16_t, nw);
        int8_t *wq = NEW(int8_t, nw);
        double *wd = NEW(double, nw), *wqd = NEW(double, nw);
        mco_conv_f32_params p;
        mco_conv_s8w_f32_params ph;
        int32_t oy, ox, oc, form;
        qact q = random_qact();
        random_floats(x, nx, one_in(4) ? 100.0 : 2.0);
        for (i = 0; i < nw; i++) {   /* halves, so f32 and f16 weights are the same values */
            wh[i] = random_half();
            wf[i] = (float)ref_half(wh[i]);
            wd[i] = wf[i];
        }
        random_weights(wq, nw, -127, 127);
        for (i = 0; i < nw; i++) wqd[i] = wq[i];
        random_floats(bias, (size_t)g.out_c, 3.0);
        for (oc = 0; oc < g.out_c; oc++) scales[oc] = (float)exp(uniform(-8.0, 0.0));
        p.win = window_of(&g);
        random_act_f(&p.act_min, &p.act_max);
        ph.win = p.win;
        ph.act_min = p.act_min;
        ph.act_max = p.act_max;
        ph.weight_scales = scales;
        for (form = 0; form < 3 && !test_failures; form++) {   /* f32, f16 weights, int8 weights */
            const char *names[2][3] = {{"conv2d_f32", "conv2d_f16w", "conv2d_s8w_f32"},
                                       {"depthwise_conv2d_f32", "depthwise_conv2d_f16w", "depthwise_conv2d_s8w_f32"}};
            mco_rt_status st;
            describe_conv(names[depthwise][form], &g, &q);
            memset(y2, 0xA5, ny * sizeof *y2);
            float *out = form == 0 ? y : y2;
            if (depthwise)
                st = form == 0 ? mco_depthwise_conv2d_f32(&p, x, wf, bias, out)
                     : form == 1 ? mco_depthwise_conv2d_f16w(&p, x, wh, bias, out)
                                 : mco_depthwise_conv2d_s8w_f32(&ph, x, wq, bias, out);
            else
                st = form == 0 ? mco_conv2d_f32(&p, x, wf, bias, out)
                     : form == 1 ? mco_conv2d_f16w(&p, x, wh, bias, out)
                                 : mco_conv2d_s8w_f32(&ph, x, wq, bias, out);
            if (st != MCO_RT_OK) {
                FAIL("returned %d", st);
                break;
            }
            if (form == 1 && memcmp(y, y2, ny * sizeof *y) != 0) FAIL("f16 weights differ from the same f32 weights");
            for (oy = 0; form != 1 && oy < g.out_h; oy++)
                for (ox = 0; ox < g.out_w; ox++)
                    for (oc = 0; oc < g.out_c; oc++) {
                        double mag, sum = ref_conv_sum_f(&g, depthwise, x, form ? wqd : wd, oy, ox, oc, &mag);
                        double sc = form ? scales[oc] : 1.0;
                        double want = clampd(bias[oc] + sc * sum, p.act_min, p.act_max);
                        double got = out[((size_t)oy * (size_t)g.out_w + (size_t)ox) * (size_t)g.out_c + (size_t)oc];
                        if (!float_close(got, want, fabs(bias[oc]) + sc * mag, 2 * g.kh * g.kw * g.in_c + 4)) {
                            FAIL("at (%d, %d, %d): %.9g, expected %.9g", oy, ox, oc, got, want);
                            oy = g.out_h;
                            ox = g.out_w;
                            break;
                        }
                    }
            hash(out, ny * sizeof *out);
        }
        if (!depthwise && g.out_h >= 2 && g.out_w >= 2 && !test_failures) {
            /* fused conv + clamp + max pool == conv2d_f32 then max_pool_f32, bit for bit */
            size_t np = (size_t)(g.out_h / 2) * (size_t)(g.out_w / 2) * (size_t)g.out_c;
            float *fused = NEW(float, np), *pooled = NEW(float, np);
            mco_conv_f32_params pp;
            describe_conv("conv2d_maxpool2x2_f32", &g, &q);
            pp.act_min = -FLT_MAX;
            pp.act_max = FLT_MAX;
            if (mco_window_init(&pp.win, g.out_h, g.out_w, g.out_c, g.out_c, 2, 2, 2, 2, 0) != MCO_RT_OK ||
                mco_max_pool_f32(&pp, y, pooled) != MCO_RT_OK || mco_conv2d_maxpool2x2_f32(&p, x, wf, bias, fused) != MCO_RT_OK)
                FAIL("returned an error");
            else if (memcmp(fused, pooled, np * sizeof *fused) != 0)
                FAIL("differs from conv2d_f32 then max_pool_f32");
            hash(fused, np * sizeof *fused);
            free(fused);
            free(pooled);
        }
        free(x);
        free(wf);
        free(bias);
        free(scales);
        free(y);
        free(y2);
        free(wh);
        free(wq);
        free(wd);
        free(wqd);
    }
}

static void test_fc_float(int trials)
{
    int trial;
    for (trial = 0; trial < trials && !test_failures; trial++) {
        int32_t in = between(1, one_in(4) ? 700 : 40), out = between(1, one_in(4) ? 40 : 12), u, i, form;
        size_t nw = (size_t)in * (size_t)out;
        float *x = NEW(float, in), *wf = NEW(float, nw), *bias = NEW(float, out), *scales = NEW(float, out);
        float *y = NEW(float, out), *y2 = NEW(float, out);
        uint16_t *wh = NEW(uint16_t, nw);
        int8_t *wq = NEW(int8_t, nw);
        mco_fc_f32_params p;
        mco_fc_s8w_f32_params ph;
        random_floats(x, (size_t)in, 2.0);
        for (i = 0; i < (int32_t)nw; i++) {
            wh[i] = random_half();
            wf[i] = (float)ref_half(wh[i]);
        }
        random_weights(wq, nw, -127, 127);
        random_floats(bias, (size_t)out, 3.0);
        for (u = 0; u < out; u++) scales[u] = (float)exp(uniform(-8.0, 0.0));
        p.in_size = ph.in_size = in;
        p.out_size = ph.out_size = out;
        random_act_f(&p.act_min, &p.act_max);
        ph.act_min = p.act_min;
        ph.act_max = p.act_max;
        ph.weight_scales = scales;
        for (form = 0; form < 3 && !test_failures; form++) {
            static const char *names[3] = {"fully_connected_f32", "fully_connected_f16w", "fully_connected_s8w_f32"};
            float *o = form == 0 ? y : y2;
            mco_rt_status st = form == 0 ? mco_fully_connected_f32(&p, x, wf, bias, o)
                               : form == 1 ? mco_fully_connected_f16w(&p, x, wh, bias, o)
                                           : mco_fully_connected_s8w_f32(&ph, x, wq, bias, o);
            describe("%s %d -> %d, act [%g, %g], seed %llu", names[form], in, out, (double)p.act_min, (double)p.act_max,
                     (unsigned long long)seed);
            if (st != MCO_RT_OK) {
                FAIL("returned %d", st);
                break;
            }
            if (form == 1 && memcmp(y, y2, (size_t)out * sizeof *y) != 0) FAIL("f16 weights differ from f32");
            for (u = 0; form != 1 && u < out; u++) {
                double sum = 0.0, mag = 0.0, sc = form ? scales[u] : 1.0, want;
                for (i = 0; i < in; i++) {
                    double t = (double)x[i] * (form ? (double)wq[(size_t)u * (size_t)in + (size_t)i] : (double)wf[(size_t)u * (size_t)in + (size_t)i]);
                    sum += t;
                    mag += fabs(t);
                }
                want = clampd(bias[u] + sc * sum, p.act_min, p.act_max);
                if (!float_close(o[u], want, fabs(bias[u]) + sc * mag, 2 * in + 4)) {
                    FAIL("unit %d: %.9g, expected %.9g", u, (double)o[u], want);
                    break;
                }
            }
            hash(o, (size_t)out * sizeof *o);
        }
        free(x);
        free(wf);
        free(bias);
        free(scales);
        free(y);
        free(y2);
        free(wh);
        free(wq);
    }
}

/* Max, average, average over the whole window (count_pad: padded taps are
 * zeros) and global average pools. */
static void test_pools_f32(int trials)
{
    int trial;
    for (trial = 0; trial < trials && !test_failures; trial++) {
        int global = one_in(4), is_max = !global && one_in(3), count_pad = !global && !is_max && one_in(2);
        geom g = random_geom(1, 1);
        float *x, *y;
        mco_conv_f32_params p;
        int32_t oy, ox, c, ky, kx;
        mco_rt_status st;
        qact q = random_qact();
        if (global) {
            g.kh = g.in_h;
            g.kw = g.in_w;
            g.sh = g.sw = 1;
            g.same = 0;
            ref_window(&g);
        }
        x = NEW(float, in_count(&g));
        y = NEW(float, out_count(&g));
        random_floats(x, in_count(&g), 10.0);
        random_act_f(&p.act_min, &p.act_max);
        if (global) p.act_min = -FLT_MAX, p.act_max = FLT_MAX;
        describe_conv(global ? "global_avg_pool_f32" : is_max ? "max_pool_f32" : count_pad ? "avg_pool_pad_f32" : "avg_pool_f32",
                      &g, &q);
        if (global) {
            st = mco_global_avg_pool_f32(g.in_h, g.in_w, g.in_c, x, y);
        } else {
            p.win = window_of(&g);
            st = is_max ? mco_max_pool_f32(&p, x, y) : count_pad ? mco_avg_pool_pad_f32(&p, x, y) : mco_avg_pool_f32(&p, x, y);
        }
        if (st != MCO_RT_OK) FAIL("returned %d", st);
        for (oy = 0; st == MCO_RT_OK && oy < g.out_h; oy++)
            for (ox = 0; ox < g.out_w; ox++)
                for (c = 0; c < g.in_c; c++) {
                    double sum = 0.0, mag = 0.0, best = -INFINITY, want;
                    int32_t count = 0;
                    float got = y[((size_t)oy * (size_t)g.out_w + (size_t)ox) * (size_t)g.in_c + (size_t)c];
                    for (ky = 0; ky < g.kh; ky++)
                        for (kx = 0; kx < g.kw; kx++) {
                            int64_t pix = input_pixel(&g, oy, ox, ky, kx);
                            if (pix < 0) continue;
                            sum += x[pix * g.in_c + c];
                            mag += fabs(x[pix * g.in_c + c]);
                            best = x[pix * g.in_c + c] > best ? x[pix * g.in_c + c] : best;
                            count++;
                        }
                    if (count_pad) {   /* the sum over the taps inside, divided by the whole window */
                        mag *= (double)count / (g.kh * g.kw);
                        count = g.kh * g.kw;
                    }
                    want = clampd(is_max ? best : sum / count, p.act_min, p.act_max);
                    if (is_max ? (double)got != want : !float_close(got, want, mag / count, count + 2)) {
                        FAIL("at (%d, %d, %d): %.9g, expected %.9g", oy, ox, c, (double)got, want);
                        oy = g.out_h;
                        ox = g.out_w;
                        break;
                    }
                }
        hash(y, out_count(&g) * sizeof *y);
        free(x);
        free(y);
    }
}

static void test_elementwise_f32(int trials)
{
    int trial;
    for (trial = 0; trial < trials && !test_failures; trial++) {
        int32_t n = between(1, 500), rows = between(1, 4), i, r;
        float lo, hi;
        float *a = NEW(float, n), *b = NEW(float, n), *y = NEW(float, n);
        float *sx = NEW(float, rows * n), *sy = NEW(float, rows * n);
        random_floats(a, (size_t)n, 10.0);
        random_floats(b, (size_t)n, 10.0);
        random_act_f(&lo, &hi);
        describe("clamp_f32 / add_f32 %d values, [%g, %g], seed %llu", n, (double)lo, (double)hi, (unsigned long long)seed);
        memcpy(y, a, (size_t)n * sizeof *y);
        EXPECT(mco_clamp_f32(y, n, lo, hi) == MCO_RT_OK);
        for (i = 0; i < n; i++)
            if ((double)y[i] != clampd(a[i], lo, hi)) {
                FAIL("clamp value %d: %g", i, (double)y[i]);
                break;
            }
        hash(y, (size_t)n * sizeof *y);
        EXPECT(mco_add_f32(a, b, y, n, lo, hi) == MCO_RT_OK);
        for (i = 0; i < n; i++)
            if ((double)y[i] != clampd((double)(a[i] + b[i]), lo, hi)) {
                FAIL("add value %d: %g", i, (double)y[i]);
                break;
            }
        hash(y, (size_t)n * sizeof *y);

        random_floats(sx, (size_t)(rows * n), one_in(4) ? 100.0 : 8.0);
        describe("softmax_f32 %d x %d, seed %llu", rows, n, (unsigned long long)seed);
        EXPECT(mco_softmax_f32(sx, sy, rows, n) == MCO_RT_OK);
        for (r = 0; r < rows && !test_failures; r++) {
            double max = -INFINITY, sum = 0.0;
            for (i = 0; i < n; i++) max = sx[r * n + i] > max ? sx[r * n + i] : max;
            for (i = 0; i < n; i++) sum += exp(sx[r * n + i] - max);
            for (i = 0; i < n; i++) {
                double want = exp(sx[r * n + i] - max) / sum;
                /* exp errs by 2e-7 relative, the float difference x - max by
                 * 2^-24 |x - max| (relative, after exp), the float sum by n roundings */
                double d = fabs((double)sx[r * n + i] - max);
                if (fabs(sy[r * n + i] - want) > want * (5e-7 + (d + (double)n + 4.0) * 0x1p-24) + 1e-37) {
                    FAIL("row %d value %d: %.9g, expected %.9g", r, i, (double)sy[r * n + i], want);
                    break;
                }
            }
        }
        hash(sy, (size_t)(rows * n) * sizeof *sy);
        free(a);
        free(b);
        free(y);
        free(sx);
        free(sy);
    }
    describe("exp_f32");
    for (trial = 0; trial < 200000 * scale && !test_failures; trial++) {
        float x = (float)(trial % 8 ? uniform(-87.0, 88.5) : uniform(-100.0, 100.0)), got = mco_exp_f32(x);
        double want = exp((double)x);
        if (x < -87.33654f ? got != 0.0f
            : x > 88.72283f ? !isinf(got)
            : x < -87.0f || x > 88.5f ? !(got >= 0.0f)
                            : fabs(got - want) > 2e-7 * want)
            FAIL("exp(%.9g) = %.9g, expected %.9g", (double)x, (double)got, want);
    }
}

/* The register-blocked convolutions (mco_conv_blocked.h): mco_conv2d_im2col_s8
 * on every window, mco_conv1x1_s8 on the 1x1 ones and the fused
 * mco_conv2d_maxpool2x2_im2col_s8 where the output is at least 2x2, with
 * the weights in their blocked order and the scratch at exactly its
 * _get_buffer_size (the 1x1 one also in place, its output over its input,
 * when it has no more output than input channels); now and then many channels (several channel pairs, odd
 * counts) or a pointwise layer's shape. */
static void test_conv_blocked_s8(int trials)
{
    int trial;
    for (trial = 0; trial < trials && !test_failures; trial++) {
        geom g = random_geom(0, 1);
        qact q;
        size_t nw, nb;
        int8_t *x, *w, *wb, *y;
        int32_t *bias, *m, *s;
        void *scratch;
        mco_conv_s8_params p;
        mco_rt_status st;
        int pointwise;
        if (one_in(4)) {   /* a pointwise layer: 1x1, stride 1 or 2, more channels */
            g.kh = g.kw = 1;
            g.sh = g.sw = between(1, 2);
            g.same = one_in(2);
            g.in_c = one_in(2) ? 4 * between(1, 16) : between(1, 40);
            g.out_c = between(1, 40);
            if (!ref_window(&g)) continue;
        } else if (one_in(4)) {
            g.out_c = between(7, 37);
        }
        pointwise = g.kh == 1 && g.kw == 1;
        q = random_qact();
        nw = weight_count(&g, 0);
        nb = mco_conv_blocked_s8_weights_size(g.out_c, g.kh * g.kw * g.in_c);
        x = NEW(int8_t, in_count(&g));
        w = NEW(int8_t, nw);
        wb = NEW(int8_t, nb);
        y = NEW(int8_t, out_count(&g));
        bias = NEW(int32_t, g.out_c);
        m = NEW(int32_t, g.out_c);
        s = NEW(int32_t, g.out_c);
        p = conv_params(&g, &q, m, s);
        scratch = exact_alloc((size_t)mco_conv2d_im2col_s8_get_buffer_size(&p.win));
        describe_conv("conv2d_im2col_s8", &g, &q);
        random_s8(x, in_count(&g));
        random_weights(w, nw, -127, 127);
        random_requant(m, s, g.out_c);
        channel_biases(&g, 0, w, q.in_off, bias);
        mco_conv_blocked_s8_reorder(g.out_c, g.kh * g.kw * g.in_c, w, wb);
        st = mco_conv2d_im2col_s8(&p, x, wb, bias, y, scratch);
        if (st != MCO_RT_OK) FAIL("conv2d_im2col_s8 returned %d", st);
        else check_conv_s8("conv2d_im2col_s8", &g, 0, &p, x, w, bias, y);
        hash(y, out_count(&g));
        free(scratch);
        if (g.out_h >= 2 && g.out_w >= 2 && !test_failures) {
            int8_t *pooled = NEW(int8_t, (size_t)(g.out_h / 2) * (size_t)(g.out_w / 2) * (size_t)g.out_c);
            scratch = exact_alloc((size_t)mco_conv2d_im2col_s8_get_buffer_size(&p.win));
            describe_conv("conv2d_maxpool2x2_im2col_s8", &g, &q);
            st = mco_conv2d_maxpool2x2_im2col_s8(&p, x, wb, bias, pooled, scratch);
            if (st != MCO_RT_OK) FAIL("conv2d_maxpool2x2_im2col_s8 returned %d", st);
            else check_conv_pool_s8("conv2d_maxpool2x2_im2col_s8", &g, &p, x, w, bias, pooled);
            hash(pooled, (size_t)(g.out_h / 2) * (size_t)(g.out_w / 2) * (size_t)g.out_c);
            free(pooled);
            free(scratch);
        }
        if (pointwise && !test_failures) {
            scratch = exact_alloc((size_t)mco_conv1x1_s8_get_buffer_size(&p.win));
            describe_conv("conv1x1_s8", &g, &q);
            memset(y, 0, out_count(&g));
            st = mco_conv1x1_s8(&p, x, wb, bias, y, scratch);
            if (st != MCO_RT_OK) FAIL("conv1x1_s8 returned %d", st);
            else check_conv_s8("conv1x1_s8", &g, 0, &p, x, w, bias, y);
            hash(y, out_count(&g));
            if (g.out_c <= g.in_c && !test_failures) {   /* in place: the output over the input */
                int8_t *io = NEW(int8_t, in_count(&g));
                memcpy(io, x, in_count(&g));
                describe_conv("conv1x1_s8 in place", &g, &q);
                st = mco_conv1x1_s8(&p, io, wb, bias, io, scratch);
                if (st != MCO_RT_OK) FAIL("conv1x1_s8 in place returned %d", st);
                else check_conv_s8("conv1x1_s8 in place", &g, 0, &p, x, w, bias, io);
                free(io);
            }
            free(scratch);
        }
        free(x);
        free(w);
        free(wb);
        free(y);
        free(bias);
        free(m);
        free(s);
    }
}

/* ---- the general convolution (groups, dilation, depth multiplier) ------------- */

/* A random general convolution: a Conv2D with groups (1..4 groups of 1..5
 * channels, 1..3 outputs each) or a depthwise one (multiplier 1..3), any
 * dilation 1..3 per axis, stride 1..3, explicit pads below the dilated span;
 * 0 when the window does not fit (the caller draws again). */
static int random_general(mco_conv_general *g)
{
    mco_window *w = &g->win;
    int32_t span_h, span_w, group_in, group_out, pad_bottom, pad_right;
    g->depthwise = one_in(3);
    g->groups = between(1, 4);
    group_in = g->depthwise ? 1 : between(1, 5);
    group_out = between(1, 3);
    w->in_c = g->groups * group_in;
    w->out_c = g->groups * group_out;
    if (g->depthwise) g->groups = w->in_c;
    w->in_h = between(1, 14);
    w->in_w = between(1, 14);
    w->kernel_h = between(1, 4);
    w->kernel_w = between(1, 4);
    g->dilation_h = between(1, 3);
    g->dilation_w = one_in(2) ? g->dilation_h : between(1, 3);
    w->stride_h = between(1, 3);
    w->stride_w = between(1, 3);
    span_h = (w->kernel_h - 1) * g->dilation_h + 1;
    span_w = (w->kernel_w - 1) * g->dilation_w + 1;
    w->pad_top = between(0, span_h - 1);
    w->pad_left = between(0, span_w - 1);
    pad_bottom = between(0, span_h - 1);
    pad_right = between(0, span_w - 1);
    if (w->in_h + w->pad_top + pad_bottom < span_h || w->in_w + w->pad_left + pad_right < span_w) return 0;
    w->out_h = (w->in_h + w->pad_top + pad_bottom - span_h) / w->stride_h + 1;
    w->out_w = (w->in_w + w->pad_left + pad_right - span_w) / w->stride_w + 1;
    return 1;
}

/* The weight of output oc, tap (ky, kx), input i of its group. */
static size_t general_weight(const mco_conv_general *g, int32_t oc, int32_t ky, int32_t kx, int32_t i)
{
    const mco_window *w = &g->win;
    if (g->depthwise) return ((size_t)ky * (size_t)w->kernel_w + (size_t)kx) * (size_t)w->out_c + (size_t)oc;
    return (((size_t)oc * (size_t)w->kernel_h + (size_t)ky) * (size_t)w->kernel_w + (size_t)kx) *
               (size_t)(w->in_c / g->groups) + (size_t)i;
}

/* The reference sum over output (oy, ox, oc)'s taps inside the input of
 * (x + in_off) * w (int8, in int64) or x * w (float, in double; *mag gets
 * sum |x * w|). */
static int64_t ref_general_s8(const mco_conv_general *g, const int8_t *x, const int8_t *wt, int32_t in_off, int32_t oy,
                              int32_t ox, int32_t oc, int64_t *abs_w)
{
    const mco_window *w = &g->win;
    int32_t group_in = w->in_c / g->groups, first = oc / (w->out_c / g->groups) * group_in, ky, kx, i;
    int64_t sum = 0;
    *abs_w = 0;
    for (ky = 0; ky < w->kernel_h; ky++)
        for (kx = 0; kx < w->kernel_w; kx++)
            for (i = 0; i < group_in; i++) {
                int32_t iy = oy * w->stride_h - w->pad_top + ky * g->dilation_h;
                int32_t ix = ox * w->stride_w - w->pad_left + kx * g->dilation_w;
                int32_t v = wt[general_weight(g, oc, ky, kx, i)];
                *abs_w += v < 0 ? -v : v;
                if (iy < 0 || iy >= w->in_h || ix < 0 || ix >= w->in_w) continue;
                sum += ((int64_t)x[((size_t)iy * (size_t)w->in_w + (size_t)ix) * (size_t)w->in_c + (size_t)(first + i)] +
                        in_off) * v;
            }
    return sum;
}

static double ref_general_f32(const mco_conv_general *g, const float *x, const float *wt, int32_t oy, int32_t ox,
                              int32_t oc, double *mag, int32_t *ops)
{
    const mco_window *w = &g->win;
    int32_t group_in = w->in_c / g->groups, first = oc / (w->out_c / g->groups) * group_in, ky, kx, i;
    double sum = 0.0;
    *mag = 0.0;
    *ops = 0;
    for (ky = 0; ky < w->kernel_h; ky++)
        for (kx = 0; kx < w->kernel_w; kx++)
            for (i = 0; i < group_in; i++) {
                int32_t iy = oy * w->stride_h - w->pad_top + ky * g->dilation_h;
                int32_t ix = ox * w->stride_w - w->pad_left + kx * g->dilation_w;
                double t;
                if (iy < 0 || iy >= w->in_h || ix < 0 || ix >= w->in_w) continue;
                t = (double)x[((size_t)iy * (size_t)w->in_w + (size_t)ix) * (size_t)w->in_c + (size_t)(first + i)] *
                    (double)wt[general_weight(g, oc, ky, kx, i)];
                sum += t;
                *mag += fabs(t);
                (*ops)++;
            }
    return sum;
}

/* mco_conv_general_s8 bit for bit against TFLite's arithmetic, and
 * mco_conv_general_f32 within the float summation bound; an inconsistent
 * geometry (groups not dividing the channels) is refused. */
static void test_conv_general(int trials)
{
    int trial;
    for (trial = 0; trial < trials && !test_failures; trial++) {
        mco_conv_general_s8_params p;
        mco_conv_general_f32_params pf;
        const mco_window *w = &p.conv.win;
        qact q = random_qact();
        int32_t oy, ox, oc;
        size_t nx, ny, nw;
        int8_t *x, *wt, *y;
        float *fx, *fw, *fy, *fb;
        int32_t *bias, *m, *s;
        while (!random_general(&p.conv)) {}
        nx = (size_t)w->in_h * (size_t)w->in_w * (size_t)w->in_c;
        ny = (size_t)w->out_h * (size_t)w->out_w * (size_t)w->out_c;
        nw = (size_t)w->kernel_h * (size_t)w->kernel_w * (size_t)w->out_c * (size_t)(w->in_c / p.conv.groups);
        x = NEW(int8_t, nx);
        wt = NEW(int8_t, nw);
        y = NEW(int8_t, ny);
        fx = NEW(float, nx);
        fw = NEW(float, nw);
        fy = NEW(float, ny);
        fb = NEW(float, (size_t)w->out_c);
        bias = NEW(int32_t, (size_t)w->out_c);
        m = NEW(int32_t, (size_t)w->out_c);
        s = NEW(int32_t, (size_t)w->out_c);
        random_s8(x, nx);
        random_weights(wt, nw, -127, 127);
        random_requant(m, s, w->out_c);
        for (oc = 0; oc < w->out_c; oc++) {
            int64_t abs_w;
            ref_general_s8(&p.conv, x, wt, q.in_off, 0, 0, oc, &abs_w);
            bias[oc] = random_bias(input_reach(q.in_off) * abs_w);
        }
        p.input_offset = q.in_off;
        p.output_offset = q.out_off;
        p.act_min = q.act_min;
        p.act_max = q.act_max;
        p.multiplier = m;
        p.shift = s;
        describe("conv_general_s8 %dx%dx%d -> %dx%dx%d, kernel %dx%d, dilation %dx%d, stride %dx%d, pads %d %d, "
                 "groups %d%s, seed %llu", w->in_h, w->in_w, w->in_c, w->out_h, w->out_w, w->out_c, w->kernel_h,
                 w->kernel_w, p.conv.dilation_h, p.conv.dilation_w, w->stride_h, w->stride_w, w->pad_top, w->pad_left,
                 p.conv.groups, p.conv.depthwise ? " (depthwise)" : "", (unsigned long long)seed);
        if (mco_conv_general_s8(&p, x, wt, bias, y) != MCO_RT_OK) FAIL("returned an error");
        for (oy = 0; oy < w->out_h && !test_failures; oy++)
            for (ox = 0; ox < w->out_w && !test_failures; ox++)
                for (oc = 0; oc < w->out_c; oc++) {
                    int64_t abs_w, acc = bias[oc] + ref_general_s8(&p.conv, x, wt, q.in_off, oy, ox, oc, &abs_w);
                    int8_t want = ref_output(acc, m[oc], s[oc], q.out_off, q.act_min, q.act_max);
                    int8_t got = y[((size_t)oy * (size_t)w->out_w + (size_t)ox) * (size_t)w->out_c + (size_t)oc];
                    if (got != want) {
                        FAIL("at (%d, %d, %d): %d, expected %d (acc %lld)", oy, ox, oc, got, want, (long long)acc);
                        break;
                    }
                }
        hash(y, ny);

        pf.conv = p.conv;
        random_act_f(&pf.act_min, &pf.act_max);
        random_floats(fx, nx, 4.0);
        random_floats(fw, nw, 1.0);
        random_floats(fb, (size_t)w->out_c, 1.0);
        describe("conv_general_f32 (the geometry above), seed %llu", (unsigned long long)seed);
        if (mco_conv_general_f32(&pf, fx, fw, fb, fy) != MCO_RT_OK) FAIL("returned an error");
        for (oy = 0; oy < w->out_h && !test_failures; oy++)
            for (ox = 0; ox < w->out_w && !test_failures; ox++)
                for (oc = 0; oc < w->out_c; oc++) {
                    double mag;
                    int32_t ops;
                    double want = (double)fb[oc] + ref_general_f32(&pf.conv, fx, fw, oy, ox, oc, &mag, &ops);
                    double got = fy[((size_t)oy * (size_t)w->out_w + (size_t)ox) * (size_t)w->out_c + (size_t)oc];
                    if (!float_close(got, clampd(want, pf.act_min, pf.act_max), mag + fabs((double)fb[oc]), ops + 1)) {
                        FAIL("at (%d, %d, %d): %g, expected %g", oy, ox, oc, got, want);
                        break;
                    }
                }
        hash(fy, ny * sizeof *fy);
        if (w->in_c > 1 && !p.conv.depthwise) {   /* groups that do not divide the channels: refused */
            int32_t groups = p.conv.groups;
            p.conv.groups = w->in_c + 1;
            if (mco_conv_general_s8(&p, x, wt, bias, y) != MCO_RT_ARG_ERROR) FAIL("took %d groups", p.conv.groups);
            p.conv.groups = groups;
        }
        free(x);
        free(wt);
        free(y);
        free(fx);
        free(fw);
        free(fy);
        free(fb);
        free(bias);
        free(m);
        free(s);
    }
}

/* ---- ConvTranspose2D --------------------------------------------------------- */

/* mco_conv_transpose2d_s8 and _f32 against a scatter written here: every
 * input pixel (iy, ix) adds (x + in_off) * w into the output pixels
 * (iy * sh + ky - pt, ix * sw + kx - pl) inside the output; random kernels,
 * strides (some above the kernel: outputs no tap reaches), pads before and
 * after and output padding. Each output sums every weight of its channel
 * at most once, so the conv biases' bound keeps the accumulator in range. */
static void test_conv_transpose(int trials)
{
    int trial;
    for (trial = 0; trial < trials && !test_failures; trial++) {
        geom g;
        int32_t pb, pr, oph, opw, iy, ix, ky, kx, oc, ci, k;
        qact q = random_qact();
        memset(&g, 0, sizeof g);
        g.in_h = between(1, 8);
        g.in_w = one_in(3) ? g.in_h : between(1, 8);
        g.in_c = between(1, one_in(5) ? 16 : 4);
        g.out_c = between(1, one_in(5) ? 12 : 5);
        g.kh = between(1, 5);
        g.kw = one_in(2) ? g.kh : between(1, 5);
        g.sh = between(1, 3);
        g.sw = one_in(2) ? g.sh : between(1, 3);
        g.pt = between(0, g.kh - 1);
        g.pl = between(0, g.kw - 1);
        pb = between(0, g.kh - 1);
        pr = between(0, g.kw - 1);
        oph = between(0, g.sh - 1);
        opw = between(0, g.sw - 1);
        g.out_h = (g.in_h - 1) * g.sh + g.kh - g.pt - pb + oph;
        g.out_w = (g.in_w - 1) * g.sw + g.kw - g.pl - pr + opw;
        if (g.out_h < 1 || g.out_w < 1) {
            trial--;
            continue;
        }
        {
            size_t nx = in_count(&g), ny = out_count(&g), nw = weight_count(&g, 0), n;
            int8_t *x = NEW(int8_t, nx), *w = NEW(int8_t, nw), *y = NEW(int8_t, ny);
            int32_t *bias = NEW(int32_t, g.out_c), *m = NEW(int32_t, g.out_c), *sh = NEW(int32_t, g.out_c);
            int64_t *acc = NEW(int64_t, ny);
            float *fx = NEW(float, nx), *fw = NEW(float, nw), *fb = NEW(float, g.out_c), *fy = NEW(float, ny);
            double *fwant = NEW(double, ny), *fmag = NEW(double, ny);
            mco_conv_s8_params p;
            mco_conv_f32_params pf;
            memset(&p.win, 0, sizeof p.win);
            p.win.in_h = g.in_h;
            p.win.in_w = g.in_w;
            p.win.in_c = g.in_c;
            p.win.out_h = g.out_h;
            p.win.out_w = g.out_w;
            p.win.out_c = g.out_c;
            p.win.kernel_h = g.kh;
            p.win.kernel_w = g.kw;
            p.win.stride_h = g.sh;
            p.win.stride_w = g.sw;
            p.win.pad_top = g.pt;
            p.win.pad_left = g.pl;
            p.input_offset = q.in_off;
            p.output_offset = q.out_off;
            p.act_min = q.act_min;
            p.act_max = q.act_max;
            p.multiplier = m;
            p.shift = sh;
            pf.win = p.win;
            random_act_f(&pf.act_min, &pf.act_max);
            describe("conv_transpose2d %dx%dx%d -> %dx%dx%d, kernel %dx%d, stride %dx%d, pads %d,%d,%d,%d, "
                     "output padding %d,%d, offsets %d / %d, seed %llu", g.in_h, g.in_w, g.in_c, g.out_h, g.out_w,
                     g.out_c, g.kh, g.kw, g.sh, g.sw, g.pt, g.pl, pb, pr, oph, opw, q.in_off, q.out_off,
                     (unsigned long long)seed);
            random_s8(x, nx);
            random_weights(w, nw, -127, 127);
            random_requant(m, sh, g.out_c);
            channel_biases(&g, 0, w, q.in_off, bias);
            random_floats(fx, nx, 4.0);
            random_floats(fw, nw, 1.0);
            random_floats(fb, (size_t)g.out_c, 1.0);
            for (n = 0; n < ny; n++) {
                acc[n] = bias[n % (size_t)g.out_c];
                fwant[n] = fb[n % (size_t)g.out_c];
                fmag[n] = fabs(fwant[n]);
            }
            for (iy = 0; iy < g.in_h; iy++)
                for (ix = 0; ix < g.in_w; ix++)
                    for (ky = 0; ky < g.kh; ky++)
                        for (kx = 0; kx < g.kw; kx++) {
                            int32_t oy = iy * g.sh + ky - g.pt, ox = ix * g.sw + kx - g.pl;
                            if (oy < 0 || oy >= g.out_h || ox < 0 || ox >= g.out_w) continue;
                            for (oc = 0; oc < g.out_c; oc++)
                                for (ci = 0; ci < g.in_c; ci++) {
                                    size_t xi = ((size_t)iy * (size_t)g.in_w + (size_t)ix) * (size_t)g.in_c + (size_t)ci;
                                    size_t wi = weight_index(&g, 0, oc, ky, kx, ci);
                                    size_t yi = ((size_t)oy * (size_t)g.out_w + (size_t)ox) * (size_t)g.out_c + (size_t)oc;
                                    acc[yi] += ((int64_t)x[xi] + q.in_off) * w[wi];
                                    fwant[yi] += (double)fx[xi] * fw[wi];
                                    fmag[yi] += fabs((double)fx[xi] * fw[wi]);
                                }
                        }
            if (mco_conv_transpose2d_s8(&p, x, w, bias, y) != MCO_RT_OK) FAIL("conv_transpose2d_s8 returned an error");
            for (n = 0; n < ny && !test_failures; n++) {
                int32_t c = (int32_t)(n % (size_t)g.out_c);
                int8_t want;
                if (acc[n] > acc_limit() || acc[n] < -acc_limit())
                    FAIL("test generator: accumulator %lld beyond the limit", (long long)acc[n]);
                want = ref_output(acc[n], m[c], sh[c], q.out_off, q.act_min, q.act_max);
                if (y[n] != want) FAIL("conv_transpose2d_s8 value %zu: %d, expected %d (acc %lld)", n, y[n], want, (long long)acc[n]);
            }
            hash(y, ny);
            if (mco_conv_transpose2d_f32(&pf, fx, fw, fb, fy) != MCO_RT_OK) FAIL("conv_transpose2d_f32 returned an error");
            for (n = 0; n < ny && !test_failures; n++) {
                double want = clampd(fwant[n], pf.act_min, pf.act_max);
                if (!float_close(fy[n], want, fmag[n], 2 * g.kh * g.kw * g.in_c + 4))
                    FAIL("conv_transpose2d_f32 value %zu: %.9g, expected %.9g", n, fy[n], want);
            }
            hash(fy, ny * sizeof *fy);
            k = p.win.pad_top;   /* refused, not run: a pad as large as the kernel */
            p.win.pad_top = g.kh;
            if (mco_conv_transpose2d_s8(&p, x, w, bias, y) != MCO_RT_ARG_ERROR) FAIL("took a pad of the kernel's size");
            p.win.pad_top = k;
            free(x);
            free(w);
            free(y);
            free(bias);
            free(m);
            free(sh);
            free(acc);
            free(fx);
            free(fw);
            free(fb);
            free(fy);
            free(fwant);
            free(fmag);
        }
    }
}

int main(void)
{
    const char *env_seed = getenv("MCO_RANDOM_SEED"), *env_scale = getenv("MCO_RANDOM_SCALE");
    if (env_seed && *env_seed) seed = strtoull(env_seed, NULL, 10);
    if (env_scale && *env_scale) scale = atoi(env_scale) > 0 ? atoi(env_scale) : 1;
    rng_state = seed;
    printf("path: %s, requantization: %s\n", MCO_HAVE_DSP ? "dsp" : "generic",
           MCO_REQUANT_FAST ? "fast" : MCO_REQUANT_RIGHT_ONLY ? "right shifts" : "general");

    test_fixed_point();
    test_half();
    test_s4_and_windows();
    test_conv_s8(6000 * scale);
    test_depthwise_s8(3000 * scale);
    test_conv_pool_s8(3000 * scale);
    test_fc_s8(6000 * scale);
    test_pools_s8(3000 * scale);
    test_mean_s8(1000 * scale);
    test_clamp_add_s8(2000 * scale);
    test_concat(1000 * scale);
    test_softmax_s8(500 * scale);
    test_conv_float(3000 * scale);
    test_fc_float(2000 * scale);
    test_pools_f32(2000 * scale);
    test_elementwise_f32(800 * scale);
    test_conv_blocked_s8(4000 * scale);
    test_conv_general(1500 * scale);
    test_conv_transpose(2000 * scale);

    printf("digest: %016llx\n", (unsigned long long)digest);
    TEST_MAIN_END();
}
