/*
 * test_sparse_kernels.c - the sparse int8 weight forms and their
 * kernels (runtime/mco_sparse.h), and the planner's choice of them:
 *   - mco_sparse_s8_pack on small matrices gives the documented bytes
 *     (bitmap + values by rows; the Dense group stream: pattern bytes, the
 *     reordered 3-weight groups, skips of empty runs over 255 groups, end
 *     markers), and mco_sparse_fc_s8_profile walks it and rejects broken
 *     streams;
 *   - mco_fully_connected_sparse_s8 == mco_fully_connected_s8 and
 *     mco_conv2d_maxpool2x2_sparse_s8 == mco_conv2d_s8 + mco_max_pool_s8,
 *     bit for bit, on random pruned weights (Dense: sparsity 0 to 100 %,
 *     inputs up to MCO_SPARSE_FC_MAX_IN, long zero runs; conv: 0, 50, 90,
 *     100 %; some fully zero rows / filters), random shapes (odd sizes, partial
 *     bitmap bytes, several input channels, strides) and quantization; both
 *     the generic path (the library) and the DSP path (the kernel sources
 *     compiled here with MCO_EMULATE_DSP); inputs sit at the very end of
 *     their allocation so an over-read shows up under the sanitizers;
 *   - the kernels refuse what they do not implement;
 *   - mco_plan_build's choice among the dense, specialised and sparse
 *     kernels is the best by the resource model for its goal: the fastest
 *     plan is estimated no slower, the smallest no larger, than the plans
 *     that prefer each rival kernel, and all compute the same bytes; with
 *     nothing pruned the fastest plan takes no sparse kernel; a filter with
 *     too many non-zeros cannot run on the sparse conv even when preferred;
 *   - the regression: a 50 % pruned MLP runs the dense kernel when
 *     optimising for cycles (the sparse one is estimated > 10 % slower);
 *   - a fully pruned filter (weight scale 1, shift >= 0 from the quantizer)
 *     still gets the specialised 3x3 kernel, with the general kernel's
 *     exact output on the quantizer's own parameters.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mco_sparse.h"   /* the real names, declared before the renames below */

/* The DSP path of the sparse kernels, on the host. */
#define MCO_EMULATE_DSP 1
#define mco_fully_connected_sparse_s8 emu_fully_connected_sparse_s8
#define mco_conv2d_maxpool2x2_sparse_s8 emu_conv2d_maxpool2x2_sparse_s8
#include "mco_conv2d_maxpool2x2_sparse_s8.c"
#include "mco_fully_connected_sparse_s8.c"
#undef mco_fully_connected_sparse_s8
#undef mco_conv2d_maxpool2x2_sparse_s8

#include "mcuopt/arch.h"
#include "mcuopt/codegen.h"
#include "mcuopt/op.h"
#include "mcuopt/resource.h"
#include "mcuopt/resource_calibration.h"
#include "mcuopt/rng.h"
#include "mcuopt/deploy.h"
#include "mcuopt/graph.h"
#include "mcuopt/prune.h"
#include "test_fixtures.h"

#if !MCO_HAVE_DSP
#error "MCO_EMULATE_DSP should enable the DSP path"
#endif

mco_rt_status emu_fully_connected_sparse_s8(const mco_fc_s8_params *p, const int8_t *input,
                                            const uint8_t *sparse_weights, const int32_t *bias, int8_t *output);
mco_rt_status emu_conv2d_maxpool2x2_sparse_s8(const mco_conv_s8_params *p, const int8_t *input,
                                              const uint8_t *sparse_weights, const int32_t *bias,
                                              int8_t *output);

static mco_rng rng;

static int32_t below(int32_t n) { return (int32_t)mco_rng_below(&rng, (uint64_t)n); }

/* n random int8 weights in [-127, 127], each zero with probability `sparsity`. */
static void random_weights(int8_t *w, size_t n, double sparsity)
{
    for (size_t i = 0; i < n; i++) {
        int32_t v = below(255) - 127;
        w[i] = (int8_t)(mco_rng_uniform(&rng) < sparsity ? 0 : (v == 0 ? 1 : v));
    }
}

/* A buffer of n bytes placed at the very end of its allocation. */
typedef struct {
    uint8_t *block;
    int8_t *data;
} tail_buffer;

static tail_buffer tail_alloc(size_t n)
{
    tail_buffer b;
    b.block = malloc(n + 1);
    b.data = (int8_t *)(b.block + 1);
    return b;
}

static uint8_t *packed_copy(const int8_t *w, int32_t rows, int32_t cols, mco_sparse_order order)
{
    int32_t n = mco_sparse_s8_pack(w, rows, cols, order, NULL, 0);
    size_t nonzeros = 0;
    for (size_t i = 0; i < (size_t)rows * (size_t)cols; i++) nonzeros += w[i] != 0;
    if (order == MCO_SPARSE_ROWS) CHECK(n >= 0 && (size_t)n == mco_sparse_s8_bytes(rows, cols, nonzeros));
    uint8_t *p = malloc((size_t)n);   /* exact size: an over-read shows up under ASan */
    CHECK(mco_sparse_s8_pack(w, rows, cols, order, p, n) == n);
    CHECK(mco_sparse_s8_pack(w, rows, cols, order, p, n - 1) == -1);
    if (order == MCO_SPARSE_ROW_PAIRS) {
        mco_sparse_fc_profile pr;
        CHECK(mco_sparse_fc_s8_profile(p, (size_t)n, rows, cols, &pr) == 0);
        CHECK((size_t)pr.nonzeros == nonzeros && pr.row_pairs == (rows + 1) / 2);
        /* at most a pattern byte per group, a 2-byte skip per 2 groups, 2 bytes per row pair */
        CHECK((size_t)n <= nonzeros + (size_t)pr.row_pairs * (size_t)((3 * ((cols + 3) / 4) + 1) / 2 + 2));
    }
    return p;
}

static void test_pack(void)
{
    /* 3 rows x 6 cols; groups of 4 columns: [0..3], [4..5] */
    static const int8_t w[18] = {
        1, 0, 2, 0, 0, 3,
        0, 4, 0, 0, 5, 0,
        0, 0, 0, 0, 0, 6,
    };
    uint8_t out[32];
    CHECK(mco_sparse_s8_pack(w, 3, 6, MCO_SPARSE_ROWS, NULL, 0) == 3 + 6);
    CHECK(mco_sparse_s8_bytes(3, 6, 6) == 9);
    CHECK(mco_sparse_s8_pack(w, 3, 6, MCO_SPARSE_ROWS, out, sizeof out) == 9);
    CHECK(out[0] == 0x25 && out[1] == 0x12 && out[2] == 0x20);   /* bits 0,2,5 / 1,4 / 5 */
    static const uint8_t rows[6] = {1, 2, 3, 4, 5, 6};
    CHECK(memcmp(out + 3, rows, 6) == 0);
    /* rows 0+1: group 0 -> patterns 0101 | 0010, weights 1 2 | 4; group 1
     * -> 0010 | 0001, 3 | 5; end. Row 2 alone: group 0 empty (skip 1),
     * group 1 -> 0010, 6; end. */
    static const uint8_t pairs[15] = {0x25, 1, 2, 4, 0x12, 3, 5, 0, 0, 0, 1, 0x02, 6, 0, 0};
    CHECK(mco_sparse_s8_pack(w, 3, 6, MCO_SPARSE_ROW_PAIRS, NULL, 0) == 15);
    CHECK(mco_sparse_s8_pack(w, 3, 6, MCO_SPARSE_ROW_PAIRS, out, sizeof out) == 15);
    CHECK(memcmp(out, pairs, 15) == 0);
    /* the two reordered 3-weight patterns, {0,1,3} -> (1, 0, 3) and
     * {0,2,3} -> (0, 3, 2); trailing empty groups left out */
    static const int8_t w3[16] = {1, 2, 0, 3, 0, 0, 0, 0,
                                  4, 0, 5, 6, 0, 0, 0, 0};
    static const uint8_t stream3[9] = {0xDB, 2, 1, 3, 4, 6, 5, 0, 0};
    CHECK(mco_sparse_s8_pack(w3, 2, 8, MCO_SPARSE_ROW_PAIRS, out, sizeof out) == 9);
    CHECK(memcmp(out, stream3, 9) == 0);
    mco_sparse_fc_profile pr;
    CHECK(mco_sparse_fc_s8_profile(out, 9, 2, 8, &pr) == 0);
    CHECK(pr.groups == 1 && pr.skips == 0 && pr.nonzeros == 6 && pr.row_pairs == 1);
    CHECK(mco_sparse_fc_s8_profile(out, 8, 2, 8, &pr) == -1);    /* cut short */
    CHECK(mco_sparse_fc_s8_profile(out, 9, 1, 8, &pr) == -1);    /* row b weights for a single row */
    /* a run of 301 empty groups is two skips (255 + 46) */
    int8_t *wide = calloc(2 * 1208, 1);
    wide[1207] = 7;
    int32_t n = mco_sparse_s8_pack(wide, 1, 1208, MCO_SPARSE_ROW_PAIRS, out, sizeof out);
    static const uint8_t skips[8] = {0, 255, 0, 46, 0x08, 7, 0, 0};   /* groups 0..300 empty, 301 */
    CHECK(n == 8 && memcmp(out, skips, 8) == 0);
    CHECK(mco_sparse_fc_s8_profile(out, 8, 1, 1208, &pr) == 0 && pr.skips == 2 && pr.groups == 1);
    CHECK(mco_sparse_fc_s8_profile(out, 8, 1, 1200, &pr) == -1);   /* groups past the end */
    free(wide);
    CHECK(mco_sparse_s8_pack(w, 0, 6, MCO_SPARSE_ROWS, out, sizeof out) == -1);
    CHECK(mco_sparse_s8_pack(NULL, 3, 6, MCO_SPARSE_ROWS, out, sizeof out) == -1);
}

/* Random requantization: multipliers in [2^30, 2^31), shifts mostly right,
 * some left (the general requantization path). */
static void random_requant(int32_t *mult, int32_t *shift, int32_t n)
{
    for (int32_t i = 0; i < n; i++) {
        mult[i] = (int32_t)(0x40000000u | (uint32_t)mco_rng_next_u64(&rng) >> 2);
        shift[i] = below(8) == 0 ? below(3) : -1 - below(12);
    }
}

static const double sparsities[] = {0.0, 0.5, 0.9, 1.0};
static const double fc_sparsities[] = {0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.97, 1.0};

/* The sparse Dense kernel, library and DSP-emulated, against the dense one. */
static void check_fully_connected(int32_t in, int32_t out, double s, int trial)
{
    int8_t *w = malloc((size_t)(in * out));
    int32_t bias[9], mult[9], shift[9];
    int8_t ref[9], got[9], emu[9];
    random_weights(w, (size_t)(in * out), s);
    if (trial % 5 == 1) memset(w + (size_t)below(out) * (size_t)in, 0, (size_t)in);   /* a pruned-away unit */
    if (trial % 7 == 2 && in > 8) {   /* long runs of empty groups (several skips) */
        int32_t from = below(in / 2);
        for (int32_t u = 0; u < out; u++) memset(w + (size_t)u * (size_t)in + from, 0, (size_t)(in / 2));
    }
    for (int32_t u = 0; u < out; u++) bias[u] = below(20001) - 10000;
    random_requant(mult, shift, out);
    mco_fc_s8_params p = {in, out, below(256) - 127, below(256) - 128, -128, 127, mult, shift, 0, 0};
    if (trial % 3 == 0) p.act_min = p.output_offset;   /* fused ReLU */
    tail_buffer x = tail_alloc((size_t)in);
    for (int32_t i = 0; i < in; i++) x.data[i] = (int8_t)(below(256) - 128);
    uint8_t *sw = packed_copy(w, out, in, MCO_SPARSE_ROW_PAIRS);
    CHECK(mco_fully_connected_s8(&p, x.data, w, bias, ref) == MCO_RT_OK);
    CHECK(mco_fully_connected_sparse_s8(&p, x.data, sw, bias, got) == MCO_RT_OK);
    CHECK(emu_fully_connected_sparse_s8(&p, x.data, sw, bias, emu) == MCO_RT_OK);
    CHECK(memcmp(ref, got, (size_t)out) == 0);
    CHECK(memcmp(ref, emu, (size_t)out) == 0);
    free(sw);
    free(x.block);
    free(w);
}

static void test_fully_connected(void)
{
    for (int trial = 0; trial < 800 && test_failures <= 10; trial++)
        check_fully_connected(1 + below(70), 1 + below(9), fc_sparsities[trial % 8], trial);
    for (int trial = 0; trial < 40 && test_failures <= 10; trial++)   /* wide: runs of > 255 empty groups */
        check_fully_connected(1500 + below(MCO_SPARSE_FC_MAX_IN - 1499), 1 + below(9), fc_sparsities[trial % 8], trial);
    mco_fc_s8_params bad = {0, 1, 0, 0, -128, 127, NULL, NULL, 0, 0};
    int8_t x[4] = {0}, y[4];
    uint8_t sw[4] = {0};
    int32_t b[1] = {0}, one = 1 << 30, minus = -1;
    CHECK(mco_fully_connected_sparse_s8(&bad, x, sw, b, y) == MCO_RT_ARG_ERROR);
    mco_fc_s8_params wide = {MCO_SPARSE_FC_MAX_IN + 1, 1, 0, 0, -128, 127, &one, &minus, 0, 0};
    CHECK(mco_fully_connected_sparse_s8(&wide, x, sw, b, y) == MCO_RT_NO_IMPL);
}

/* Random "valid" conv + pool geometry; dsp_shape: one input channel, stride 1. */
static mco_window random_window(int dsp_shape)
{
    mco_window win;
    int32_t kh = 1 + below(4), kw = 1 + below(4), sh = dsp_shape ? 1 : 1 + below(2), sw = dsp_shape ? 1 : 1 + below(2);
    int32_t in_c = dsp_shape ? 1 : 1 + below(3);
    int32_t out_h = 2 + below(12), out_w = 2 + below(14);
    win.in_h = (out_h - 1) * sh + kh + below(sh);   /* sometimes a row / column the windows never reach */
    win.in_w = (out_w - 1) * sw + kw + below(sw);
    win.in_c = in_c;
    win.out_h = out_h;
    win.out_w = out_w;
    win.out_c = 1 + below(8);
    win.kernel_h = kh;
    win.kernel_w = kw;
    win.stride_h = sh;
    win.stride_w = sw;
    win.pad_top = win.pad_left = 0;
    return win;
}

static void test_conv_pool(void)
{
    for (int trial = 0; trial < 400; trial++) {
        mco_window win = random_window(trial % 2 == 0);
        int32_t k = win.kernel_h * win.kernel_w * win.in_c, oc = win.out_c;
        int32_t pooled = (win.out_h / 2) * (win.out_w / 2) * oc;
        size_t n_in = (size_t)(win.in_h * win.in_w * win.in_c), n_conv = (size_t)(win.out_h * win.out_w * oc);
        double s = sparsities[(trial / 2) % 4];
        int8_t *w = malloc((size_t)(k * oc)), *conv = malloc(n_conv);
        int8_t *ref = malloc((size_t)pooled), *got = malloc((size_t)pooled), *emu = malloc((size_t)pooled);
        int32_t bias[8], mult[8], shift[8];
        random_weights(w, (size_t)(k * oc), s);
        if (trial % 5 == 1) memset(w + (size_t)below(oc) * (size_t)k, 0, (size_t)k);   /* a dead filter */
        for (int32_t c = 0; c < oc; c++) bias[c] = below(200001) - 100000;
        random_requant(mult, shift, oc);
        mco_conv_s8_params p = {win, below(256) - 127, below(256) - 128, -128, 127, mult, shift};
        if (trial % 3 != 2) p.act_min = p.output_offset;   /* fused ReLU, usually */
        tail_buffer x = tail_alloc(n_in);
        for (size_t i = 0; i < n_in; i++) x.data[i] = (int8_t)(below(256) - 128);
        uint8_t *sw = packed_copy(w, oc, k, MCO_SPARSE_ROWS);
        mco_pool_s8_params pp;
        pp.win = (mco_window){win.out_h, win.out_w, oc, win.out_h / 2, win.out_w / 2, oc, 2, 2, 2, 2, 0, 0};
        pp.act_min = -128;
        pp.act_max = 127;
        CHECK(mco_conv2d_s8(&p, x.data, w, bias, conv) == MCO_RT_OK);
        CHECK(mco_max_pool_s8(&pp, conv, ref) == MCO_RT_OK);
        int32_t most = 0;   /* non-zeros of the fullest filter */
        for (int32_t c = 0; c < oc; c++) {
            int32_t nz = 0;
            for (int32_t j = 0; j < k; j++) nz += w[c * k + j] != 0;
            if (nz > most) most = nz;
        }
        mco_rt_status expect = most > MCO_SPARSE_MAX_TAPS ? MCO_RT_NO_IMPL : MCO_RT_OK;
        mco_rt_status st = mco_conv2d_maxpool2x2_sparse_s8(&p, x.data, sw, bias, got);
        if (st == MCO_RT_OK) {
            CHECK(memcmp(ref, got, (size_t)pooled) == 0);
            CHECK(emu_conv2d_maxpool2x2_sparse_s8(&p, x.data, sw, bias, emu) == MCO_RT_OK);
            CHECK(memcmp(ref, emu, (size_t)pooled) == 0);
        }
        CHECK(st == expect);
        free(sw);
        free(x.block);
        free(w);
        free(conv);
        free(ref);
        free(got);
        free(emu);
        if (test_failures > 10) return;
    }
    /* refusals: more taps than the kernel holds, padding, a negative multiplier */
    static int8_t w[6 * 6 * 2], x[8 * 8 * 2], y[64];
    int32_t bias[1] = {0}, mult[1] = {1 << 30}, shift[1] = {-1};
    memset(w, 1, sizeof w);
    uint8_t *sw = packed_copy(w, 1, 6 * 6 * 2, MCO_SPARSE_ROWS);
    mco_conv_s8_params p = {{8, 8, 2, 3, 3, 1, 6, 6, 1, 1, 0, 0}, 0, 0, -128, 127, mult, shift};
    CHECK(mco_conv2d_maxpool2x2_sparse_s8(&p, x, sw, bias, y) == MCO_RT_NO_IMPL);
    p.win = (mco_window){8, 8, 2, 8, 8, 1, 3, 3, 1, 1, 1, 1};
    CHECK(mco_conv2d_maxpool2x2_sparse_s8(&p, x, sw, bias, y) == MCO_RT_ARG_ERROR);
    p.win = (mco_window){8, 8, 2, 6, 6, 1, 3, 3, 1, 1, 0, 0};
    mult[0] = -5;
    CHECK(mco_conv2d_maxpool2x2_sparse_s8(&p, x, sw, bias, y) == MCO_RT_ARG_ERROR);
    free(sw);
}

/* ---- the planner ------------------------------------------------------------ */

static void add_layer(mco_model *m, mco_layer_type type, int units, int kernel, int stride)
{
    mco_layer l;
    memset(&l, 0, sizeof(l));
    l.type = type;
    l.units = units;
    l.kernel_h = l.kernel_w = kernel;
    l.stride_h = l.stride_w = stride;
    CHECK_OK(mco_model_add_layer(m, &l, NULL));
}

/* conv kxk (6 filters) -> relu -> maxpool 2 -> flatten -> dense 10, on in_c-channel 14x14 images */
static void small_cnn(mco_model *m, int kernel, int in_c)
{
    mco_model_init(m, (mco_shape){14, 14, in_c});
    add_layer(m, MCO_LAYER_CONV2D, 6, kernel, 1);
    add_layer(m, MCO_LAYER_RELU, 0, 0, 0);
    add_layer(m, MCO_LAYER_MAXPOOL2D, 0, 2, 2);
    add_layer(m, MCO_LAYER_FLATTEN, 0, 0, 0);
    add_layer(m, MCO_LAYER_DENSE, 10, 0, 0);
    CHECK_OK(mco_model_infer_shapes(m));
    CHECK_OK(mco_model_alloc_params(m));
    mco_model_init_params(m, 9);
    m->norm = (mco_normalization){1.0f / 255.0f, 0.0f, 1.0f};
}

static void random_images(mco_dataset *ds, mco_shape shape, int n)
{
    memset(ds, 0, sizeof *ds);
    strcpy(ds->name, "random");
    ds->n = n;
    ds->shape = shape;
    ds->n_classes = 10;
    ds->samples_u8 = malloc((size_t)n * mco_shape_size(shape));
    ds->labels = calloc((size_t)n, 1);
    for (size_t i = 0; i < (size_t)n * mco_shape_size(shape); i++) ds->samples_u8[i] = (uint8_t)below(256);
}

/* A deploy model of m pruned (magnitude) to `sparsity`, int8. */
static void pruned_int8(const mco_model *m, float sparsity, const mco_dataset *ds, mco_deploy_model *dm)
{
    mco_model pruned;
    CHECK_OK(mco_model_clone(m, &pruned));
    mco_prune_options po;
    mco_prune_options_default(&po);
    po.schedule.target_sparsity = sparsity;
    if (sparsity > 0) CHECK_OK(mco_prune_apply_now(&pruned, &po));
    mco_quant_options qo;
    mco_quant_options_default(&qo);
    qo.calibration_samples = 20;
    qo.threads = 1;
    CHECK_OK(mco_quantize(&pruned, ds, &qo, dm));
    mco_model_free(&pruned);
}

static int is_sparse_kind(mco_op_kind k)
{
    return k == MCO_OP_FULLY_CONNECTED_SPARSE_S8 || k == MCO_OP_CONV2D_MAXPOOL_SPARSE_S8;
}

/* The resource model's estimate of a plan on the shipped table's m4f class
 * (the class the planner assumes without a target). */
static void estimate(const mco_plan *plan, double *cycles, double *flash)
{
    mco_target_profile t;
    CHECK_OK(mco_cost_class_profile("m4f", &t));
    mco_resource_estimate e;
    CHECK_OK(mco_resource_estimate_plan(test_cost_model(), plan, &t, 0, &e));
    *cycles = e.cycles;
    *flash = (double)e.flash_bytes;
    mco_resource_estimate_free(&e);
}

/* Plans dm for a goal into kinds[]: the plan's kinds must be the best by the
 * goal's measure among the plans that prefer, in turn, each kind of
 * `rivals` (which can run some of the same layers); all of them compute the
 * same output bytes. The greedy choice sees a kind's code only where it is
 * first linked, so Flash gets a little slack (shared helpers). */
static void check_choice(const mco_deploy_model *dm, mco_plan_goal goal, const mco_dataset *ds,
                         mco_op_kind kinds[2])
{
    static const mco_op_kind rivals[] = {MCO_OP_FULLY_CONNECTED_S8, MCO_OP_FULLY_CONNECTED_SPARSE_S8,
                                         MCO_OP_CONV2D_MAXPOOL_S8, MCO_OP_CONV3X3_MAXPOOL_S8,
                                         MCO_OP_CONV2D_MAXPOOL_SPARSE_S8};
    mco_plan_options opt;
    mco_plan_options_default(&opt);
    CHECK(opt.sparse_weights == 1 && opt.goal == MCO_PLAN_FASTEST);
    opt.goal = goal;
    opt.cost_model = test_cost_model();   /* the table the choice reads */
    mco_plan chosen;
    CHECK_OK(mco_plan_build(dm, &opt, &chosen));
    CHECK(chosen.n_ops == 2);
    for (int k = 0; k < 2 && k < chosen.n_ops; k++) kinds[k] = chosen.ops[k].kind;
    double cycles, flash;
    estimate(&chosen, &cycles, &flash);
    int n = 8;
    uint8_t *a = malloc((size_t)n * chosen.output_bytes), *b = malloc((size_t)n * chosen.output_bytes);
    CHECK_OK(mco_deploy_predict_raw(dm, &chosen, ds->samples_u8, n, NULL, a));
    for (size_t r = 0; r < sizeof rivals / sizeof rivals[0]; r++) {
        mco_plan rival;
        opt.prefer = &rivals[r];
        opt.n_prefer = 1;
        CHECK_OK(mco_plan_build(dm, &opt, &rival));
        double rc, rf;
        estimate(&rival, &rc, &rf);
        if (goal == MCO_PLAN_FASTEST) CHECK(cycles <= rc);
        else CHECK(flash <= rf + 64);
        CHECK_OK(mco_deploy_predict_raw(dm, &rival, ds->samples_u8, n, NULL, b));
        CHECK(memcmp(a, b, (size_t)n * chosen.output_bytes) == 0);
        mco_plan_free(&rival);
    }
    free(a);
    free(b);
    mco_plan_free(&chosen);
}

/* The kinds chosen for the fastest and the smallest plan of m pruned to `sparsity`. */
static void plan_kinds(const mco_model *m, float sparsity, const mco_dataset *ds, mco_op_kind fast[2],
                       mco_op_kind small[2])
{
    mco_deploy_model dm;
    pruned_int8(m, sparsity, ds, &dm);
    check_choice(&dm, MCO_PLAN_FASTEST, ds, fast);
    check_choice(&dm, MCO_PLAN_SMALLEST, ds, small);
    /* sparse_weights = 0: never the sparse kernels */
    mco_plan_options opt;
    mco_plan_options_default(&opt);
    opt.sparse_weights = 0;
    opt.goal = MCO_PLAN_SMALLEST;
    opt.cost_model = test_cost_model();
    mco_plan dense;
    CHECK_OK(mco_plan_build(&dm, &opt, &dense));
    for (int k = 0; k < dense.n_ops; k++) CHECK(!is_sparse_kind(dense.ops[k].kind));
    mco_plan_free(&dense);
    mco_deploy_free(&dm);
}

/* The kind of op 0 when m pruned to `sparsity` is planned preferring `kind`. */
static mco_op_kind preferring(const mco_model *m, float sparsity, const mco_dataset *ds, mco_op_kind kind)
{
    mco_deploy_model dm;
    pruned_int8(m, sparsity, ds, &dm);
    mco_plan_options opt;
    mco_plan_options_default(&opt);
    opt.prefer = &kind;
    opt.n_prefer = 1;
    mco_plan plan;
    CHECK_OK(mco_plan_build(&dm, &opt, &plan));
    mco_op_kind got = plan.n_ops > 0 ? plan.ops[0].kind : MCO_OP_KIND_COUNT;
    mco_plan_free(&plan);
    mco_deploy_free(&dm);
    return got;
}

/* A fully pruned conv filter gets weight scale 1 from the quantizer, so
 * its shift can be >= 0; the planner rewrites that channel's requantization
 * so the specialised 3x3 kernel still runs, with the very same output as the
 * general kernel on the quantizer's own parameters. */
static void test_dead_filter(void)
{
    mco_model m;
    mco_dataset ds;
    small_cnn(&m, 3, 1);
    random_images(&ds, m.input_shape, 20);
    memset(m.layers[0].params[MCO_PARAM_WEIGHTS].data, 0, 9 * 2 * sizeof(float));   /* filters 0 and 1 */
    m.layers[0].params[MCO_PARAM_BIAS].data[0] = 0.3f;
    m.layers[0].params[MCO_PARAM_BIAS].data[1] = -0.2f;
    mco_quant_options qo;
    mco_quant_options_default(&qo);
    qo.calibration_samples = 20;
    qo.threads = 1;
    mco_deploy_model dm;
    CHECK_OK(mco_quantize(&m, &ds, &qo, &dm));
    const mco_deploy_layer *dl = &dm.layers[0];
    CHECK(dl->shift[0] >= 0 || dl->shift[1] >= 0);   /* what the rewrite is for */
    mco_plan plan;
    mco_plan_options opt;
    mco_plan_options_default(&opt);
    const mco_op_kind conv3x3 = MCO_OP_CONV3X3_MAXPOOL_S8;
    opt.prefer = &conv3x3;   /* taken if it can run the layer at all */
    opt.n_prefer = 1;
    CHECK_OK(mco_plan_build(&dm, &opt, &plan));
    const mco_op *op = plan.ops;
    CHECK(op[0].kind == MCO_OP_CONV3X3_MAXPOOL_S8);
    mco_conv_s8_params orig = *(const mco_conv_s8_params *)op[0].params;
    orig.multiplier = dl->multiplier;
    orig.shift = dl->shift;
    int8_t x[14 * 14], got[6 * 6 * 6], ref[6 * 6 * 6];
    for (int t = 0; t < 5; t++) {
        for (int i = 0; i < 14 * 14; i++) x[i] = (int8_t)(below(256) - 128);
        CHECK(mco_conv3x3_maxpool2x2_s8(op[0].params, x, op[0].weights, op[0].bias, got) == MCO_RT_OK);
        CHECK(mco_conv2d_maxpool2x2_s8(&orig, x, dl->weights_q, dl->bias_q, ref) == MCO_RT_OK);
        CHECK(memcmp(got, ref, sizeof ref) == 0);
    }
    mco_plan_free(&plan);
    mco_deploy_free(&dm);
    mco_dataset_free(&ds);
    mco_model_free(&m);
}

/* The regression: a 50 % pruned MLP (784 - 128 - 10) ran on the sparse
 * Dense kernel because it takes fewer instructions, though it takes more
 * cycles (its table jumps refill the pipeline). By cycles it now runs the
 * dense kernel; the smallest plan still takes the sparse one, estimated
 * clearly slower. (tests/test_resource_model.c runs both in the emulator.) */
static void test_pruned_mlp(void)
{
    mco_model m;
    mco_shape none = {0, 0, 0};
    CHECK_OK(mco_arch_load("mlp", none, 0, &m));
    CHECK_OK(mco_model_alloc_params(&m));
    mco_model_init_params(&m, 4);
    m.norm = (mco_normalization){1.0f / 255.0f, 0.0f, 1.0f};
    mco_dataset ds;
    random_images(&ds, m.input_shape, 20);
    mco_deploy_model dm;
    pruned_int8(&m, 0.5f, &ds, &dm);
    mco_plan fast, small;
    mco_plan_options opt;
    mco_plan_options_default(&opt);
    opt.cost_model = test_cost_model();
    CHECK_OK(mco_plan_build(&dm, &opt, &fast));
    opt.goal = MCO_PLAN_SMALLEST;
    CHECK_OK(mco_plan_build(&dm, &opt, &small));
    CHECK(fast.n_ops == 2 && small.n_ops == 2);
    CHECK(fast.ops[0].kind == MCO_OP_FULLY_CONNECTED_S8 && fast.ops[1].kind == MCO_OP_FULLY_CONNECTED_S8);
    CHECK(small.ops[0].kind == MCO_OP_FULLY_CONNECTED_SPARSE_S8);
    double fc, ff, sc, sf;
    estimate(&fast, &fc, &ff);
    estimate(&small, &sc, &sf);
    printf("pruned mlp on m4f: dense %.0f cycles %.0f B Flash, sparse %.0f cycles (%+.1f %%) %.0f B\n", fc, ff, sc,
           100 * (sc - fc) / fc, sf);
    CHECK(sc > 1.1 * fc && sf < 0.8 * ff);
    mco_plan_free(&fast);
    mco_plan_free(&small);
    mco_deploy_free(&dm);
    mco_dataset_free(&ds);
    mco_model_free(&m);
}

/* 1 for the kinds running a dense int8 conv + ReLU + max pool on any shape. */
static int is_dense_conv_pool(mco_op_kind k)
{
    return k == MCO_OP_CONV2D_MAXPOOL_S8 || k == MCO_OP_CONV2D_MAXPOOL_IM2COL_S8;
}

static void test_plan(void)
{
    mco_op_kind fast[2], small[2];
    mco_model m;
    mco_dataset ds;
    /* 3x3 on one channel (the specialised dense conv, the general and the
     * sparse one can run it), a Dense layer of 216 inputs */
    small_cnn(&m, 3, 1);
    random_images(&ds, m.input_shape, 20);
    static const float levels[] = {0.0f, 0.25f, 0.5f, 0.6f, 0.9f};
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        plan_kinds(&m, levels[i], &ds, fast, small);
        printf("3x3 cnn %2.0f %% pruned: fastest %s + %s, smallest %s + %s\n", 100 * levels[i],
               mco_op_kind_name(fast[0]), mco_op_kind_name(fast[1]), mco_op_kind_name(small[0]),
               mco_op_kind_name(small[1]));
        /* nothing to skip: the sparse kernels do all the work and decode the bitmap too (the
         * smallest plan may still take one whose code is smaller) */
        if (levels[i] == 0.0f) CHECK(!is_sparse_kind(fast[0]) && !is_sparse_kind(fast[1]));
    }
    mco_model_free(&m);
    mco_dataset_free(&ds);
    /* 3x3 on 2 channels: a dense fused conv (the general or the blocked one,
     * which the table prices since the blocked kinds are calibrated) or the
     * sparse one (on so few channels the sparse one is faster than the
     * general one even with nothing pruned: 196,578 against 283,028 cycles
     * in the emulated M4F; its tap list costs less than the general
     * kernel's loop per kernel row) */
    small_cnn(&m, 3, 2);
    random_images(&ds, m.input_shape, 20);
    plan_kinds(&m, 0.5f, &ds, fast, small);
    CHECK(is_dense_conv_pool(fast[0]) || fast[0] == MCO_OP_CONV2D_MAXPOOL_SPARSE_S8);
    plan_kinds(&m, 0.0f, &ds, fast, small);
    CHECK(fast[1] == MCO_OP_FULLY_CONNECTED_S8);
    mco_model_free(&m);
    mco_dataset_free(&ds);
    /* 7x7 on one channel: at 30 % about 34 non-zeros per filter, more than
     * the sparse conv holds, so it cannot run the layer even when preferred
     * (a dense conv + pool runs it: the general kernel, or the blocked one,
     * listed first); at 90 % about 5, and it can */
    small_cnn(&m, 7, 1);
    random_images(&ds, m.input_shape, 20);
    plan_kinds(&m, 0.3f, &ds, fast, small);
    CHECK(is_dense_conv_pool(fast[0]) && is_dense_conv_pool(small[0]));
    CHECK(is_dense_conv_pool(preferring(&m, 0.3f, &ds, MCO_OP_CONV2D_MAXPOOL_SPARSE_S8)));
    plan_kinds(&m, 0.9f, &ds, fast, small);
    CHECK(preferring(&m, 0.9f, &ds, MCO_OP_CONV2D_MAXPOOL_SPARSE_S8) == MCO_OP_CONV2D_MAXPOOL_SPARSE_S8);
    mco_model_free(&m);
    mco_dataset_free(&ds);
    test_dead_filter();
    test_pruned_mlp();
    CHECK(strcmp(mco_op_kind_name(MCO_OP_FULLY_CONNECTED_SPARSE_S8), "FULLY_CONNECTED_SPARSE_S8") == 0);
    CHECK(strcmp(mco_op_kind_name(MCO_OP_CONV2D_MAXPOOL_SPARSE_S8), "CONV2D_MAXPOOL_SPARSE_S8") == 0);
}

int main(void)
{
    mco_rng_seed(&rng, 2024);
    test_pack();
    test_fully_connected();
    test_conv_pool();
    test_plan();
    TEST_MAIN_END();
}
