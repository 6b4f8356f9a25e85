/*
 * test_plan_io.c - the caller's input and output types of an emitted model
 * (mco_plan_io, runtime/mco_io.c; mcuopt emit --input-type / --output-type),
 * on mnist-paper with random weights and MNIST's normalisation
 * (x = (raw / 255 - 0.1307) / 0.3081):
 *   - int8 model: the uint8 input (raw bytes through the 256-entry table)
 *     and the float input (the same pixels as floats, normalised and
 *     quantized in double) give the model input and the output bytes of
 *     the int8 path (mco_deploy_prepare_input), for every sample; the
 *     table is that path's value for each byte;
 *   - the float output is the int8 output dequantized, with the same top-1;
 *   - float model: uint8 and float inputs give the bytes of the model's
 *     own path (normalised floats);
 *   - the float -> int8 conversion's edges: NaN gives the zero point,
 *     infinities and huge values clamp; the lookup among the conversion's
 *     255 steps (what the emitted code and the host run) gives the double
 *     arithmetic's result on ~1 M floats over every bit pattern and around
 *     every step, for five parameter sets;
 *   - refusals: an int8 input or output of a float model, a uint8 input fed
 *     float samples, unknown type names.
 * What it leaves out: the emitted C (tests/emit_io_types.sh runs it in QEMU).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mco_io.h"
#include "mcuopt/arch.h"
#include "mcuopt/codegen.h"
#include "mcuopt/deploy.h"
#include "test_fixtures.h"

#define N 24
#define SIZE (28 * 28)

static void make_raw(uint8_t *raw, size_t n)
{
    for (size_t i = 0; i < n; i++) {   /* strokes on a dark background, as MNIST digits look */
        uint32_t h = (uint32_t)(i * 2654435761u) >> 13;
        raw[i] = (uint8_t)(h % 5 == 0 ? 255 - h % 40 : (h % 7 == 0 ? h % 256 : 0));
    }
}

static void make_model(mco_model *m)
{
    mco_shape none = {0, 0, 0};
    CHECK_OK(mco_arch_load("mnist-paper", none, 0, m));
    m->norm = (mco_normalization){1.0f / 255.0f, 0.1307f, 0.3081f};
    CHECK_OK(mco_model_alloc_params(m));
    mco_model_init_params(m, 3);
}

static int argmax_s8(const int8_t *v, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[best]) best = i;
    return best;
}

static int argmax_f32(const float *v, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[best]) best = i;
    return best;
}

/* outputs of n raw samples with the given types; inputs/outputs malloc'ed */
static void predict(const mco_deploy_model *dm, const mco_plan *plan, mco_io_type in, mco_io_type out,
                    const uint8_t *raw, mco_plan_io *io, uint8_t **inputs, uint8_t **outputs)
{
    CHECK_OK(mco_plan_io_init(dm, plan, in, out, io));
    *inputs = malloc(N * io->input_bytes);
    *outputs = malloc(N * io->output_bytes);
    if (io->input_type == MCO_IO_FLOAT && in == MCO_IO_FLOAT) {   /* float pixels */
        float *px = malloc(N * SIZE * sizeof *px);
        for (size_t i = 0; i < (size_t)N * SIZE; i++) px[i] = (float)raw[i];
        CHECK_OK(mco_deploy_predict_io(dm, plan, io, MCO_SAMPLE_F32, px, N, *inputs, *outputs));
        free(px);
    } else {
        CHECK_OK(mco_deploy_predict_io(dm, plan, io, MCO_SAMPLE_U8, raw, N, *inputs, *outputs));
    }
}

static void test_int8_model(const mco_model *m, const uint8_t *raw)
{
    mco_quant_options qo;
    mco_quant_options_default(&qo);
    qo.activation_format = MCO_ACT_S8;
    qo.weight_format = MCO_WEIGHTS_S8;
    qo.threads = 1;
    mco_dataset calib;
    test_dataset_alloc(&calib, "calib", N, m->input_shape, 10);
    memcpy(calib.samples_u8, raw, (size_t)N * SIZE);
    mco_deploy_model dm;
    CHECK_OK(mco_quantize(m, &calib, &qo, &dm));
    mco_dataset_free(&calib);
    mco_plan plan;
    CHECK_OK(mco_plan_build(&dm, NULL, &plan));

    mco_plan_io io_model, io_u8, io_f32, io_fo;
    uint8_t *in_model, *out_model, *in_u8, *out_u8, *in_f32, *out_f32, *in_fo, *out_fo;
    predict(&dm, &plan, MCO_IO_MODEL, MCO_IO_MODEL, raw, &io_model, &in_model, &out_model);
    predict(&dm, &plan, MCO_IO_UINT8, MCO_IO_INT8, raw, &io_u8, &in_u8, &out_u8);
    predict(&dm, &plan, MCO_IO_FLOAT, MCO_IO_MODEL, raw, &io_f32, &in_f32, &out_f32);
    predict(&dm, &plan, MCO_IO_UINT8, MCO_IO_FLOAT, raw, &io_fo, &in_fo, &out_fo);
    CHECK(io_model.input_type == MCO_IO_INT8 && io_model.output_type == MCO_IO_INT8 && !io_model.convert_input);
    CHECK(io_u8.input_bytes == SIZE && io_f32.input_bytes == 4 * SIZE && io_fo.output_bytes == 40);
    CHECK(memcmp(in_u8, raw, (size_t)N * SIZE) == 0);   /* raw bytes go straight in */
    /* the same output bytes whatever the input type */
    CHECK(memcmp(out_model, out_u8, (size_t)N * 10) == 0);
    CHECK(memcmp(out_model, out_f32, (size_t)N * 10) == 0);
    /* the table is the int8 path's value of each byte */
    uint8_t *sample = calloc(SIZE, 1);
    int8_t *q = malloc(SIZE);
    for (int v = 0; v < 256; v++) {
        sample[v] = (uint8_t)v;
        mco_deploy_prepare_input(&dm, MCO_SAMPLE_U8, sample, q);
        CHECK(q[v] == io_u8.table_s8[v]);
    }
    /* with MNIST's normalisation the int8 input is raw - 128 (the exact grid) */
    CHECK(io_u8.table_s8[0] == -128 && io_u8.table_s8[255] == 127 && io_u8.table_s8[100] == -28);
    free(sample);
    free(q);
    /* the float output: the int8 one dequantized, with the same top-1 */
    int same_top1 = 0;
    for (int s = 0; s < N; s++) {
        const int8_t *o8 = (const int8_t *)out_model + s * 10;
        const float *of = (const float *)(const void *)(out_fo + (size_t)s * 40);
        for (int i = 0; i < 10; i++) CHECK(of[i] == ((float)((int32_t)o8[i] - plan.output_q.zero_point)) * plan.output_q.scale);
        same_top1 += argmax_s8(o8, 10) == argmax_f32(of, 10);
    }
    CHECK(same_top1 == N);
    /* a uint8 input refuses float samples */
    float px[SIZE] = {0};
    CHECK(mco_plan_io_input(&dm, &plan, &io_u8, MCO_SAMPLE_F32, px, in_u8) == MCO_ERR_UNSUPPORTED);
    free(in_model), free(out_model), free(in_u8), free(out_u8), free(in_f32), free(out_f32), free(in_fo), free(out_fo);
    mco_plan_free(&plan);
    mco_deploy_free(&dm);
}

static void test_float_model(const mco_model *m, const uint8_t *raw)
{
    mco_deploy_model dm;
    CHECK_OK(mco_deploy_from_float(m, &dm));
    mco_plan plan;
    CHECK_OK(mco_plan_build(&dm, NULL, &plan));
    mco_plan_io io_model, io_u8, io_f32;
    uint8_t *in_model, *out_model, *in_u8, *out_u8, *in_f32, *out_f32;
    predict(&dm, &plan, MCO_IO_MODEL, MCO_IO_MODEL, raw, &io_model, &in_model, &out_model);
    predict(&dm, &plan, MCO_IO_UINT8, MCO_IO_FLOAT, raw, &io_u8, &in_u8, &out_u8);
    predict(&dm, &plan, MCO_IO_FLOAT, MCO_IO_MODEL, raw, &io_f32, &in_f32, &out_f32);
    CHECK(io_model.input_type == MCO_IO_FLOAT && !io_model.convert_input && io_f32.convert_input);
    CHECK(memcmp(out_model, out_u8, (size_t)N * 40) == 0);
    CHECK(memcmp(out_model, out_f32, (size_t)N * 40) == 0);
    mco_plan_io io;
    CHECK(mco_plan_io_init(&dm, &plan, MCO_IO_INT8, MCO_IO_MODEL, &io) == MCO_ERR_UNSUPPORTED);
    CHECK(mco_plan_io_init(&dm, &plan, MCO_IO_MODEL, MCO_IO_INT8, &io) == MCO_ERR_UNSUPPORTED);
    free(in_model), free(out_model), free(in_u8), free(out_u8), free(in_f32), free(out_f32);
    mco_plan_free(&plan);
    mco_deploy_free(&dm);
}

static void test_conversion_edges(void)
{
    mco_input_params p = {1.0f / 255.0f, 0.1307f, 0.3081f, 0.0127287889f, -95};
    CHECK(mco_input_value_s8(&p, NAN) == -95);
    CHECK(mco_input_value_s8(&p, INFINITY) == 127);
    CHECK(mco_input_value_s8(&p, -INFINITY) == -128);
    CHECK(mco_input_value_s8(&p, 1e30f) == 127);
    CHECK(mco_input_value_s8(&p, -1e30f) == -128);
    CHECK(mco_input_value_s8(&p, 1000.0f) == 127);
    mco_io_type t;
    CHECK(mco_io_type_parse("uint8", 0, &t) == MCO_OK && t == MCO_IO_UINT8);
    CHECK(mco_io_type_parse("float", 1, &t) == MCO_OK && t == MCO_IO_FLOAT);
    CHECK(mco_io_type_parse("uint8", 1, &t) == MCO_ERR_ARG);
    CHECK(mco_io_type_parse("int16", 0, &t) == MCO_ERR_ARG);
}

/* The lookup among the steps (mco_input_f32_s8_steps) against the double
 * arithmetic (mco_input_value_s8) on ~1 M floats spread over every bit
 * pattern, on the floats around each step, and on NaN and the infinities,
 * for parameter sets from MNIST's to extreme scales. */
static int steps_agree(const mco_input_params *p, const mco_input_steps *t, float v)
{
    int8_t q;
    mco_input_f32_s8_steps(t, &v, &q, 1);
    return q == mco_input_value_s8(p, v);
}

static void test_input_steps(void)
{
    const mco_input_params sets[] = {
        {1.0f / 255.0f, 0.1307f, 0.3081f, 0.0127287889f, -95},   /* MNIST pixels */
        {1.0f, 0.0f, 1.0f, 0.02f, 3},
        {1.0f, -3.5f, 12.0f, 0.37f, -120},                      /* features, mostly negative */
        {1.0f, 0.0f, 1.0f, 1e-6f, 0},                           /* steps among tiny floats */
        {1.0f, 0.0f, 1.0f, 1e30f, 127},                         /* steps among huge floats */
    };
    for (size_t s = 0; s < sizeof sets / sizeof sets[0]; s++) {
        const mco_input_params *p = &sets[s];
        mco_input_steps t;
        CHECK(mco_input_steps_build(p->norm_scale, p->norm_mean, p->norm_std, p->scale, p->zero_point, t.steps,
                                    &t.nan_value));
        int bad = 0;
        for (uint64_t bits = 0; bits < 0x100000000ull; bits += 4093) {
            uint32_t b = (uint32_t)bits;
            float v;
            memcpy(&v, &b, sizeof v);
            bad += !steps_agree(p, &t, v);
        }
        for (int k = 0; k < 255; k++) {
            CHECK(k == 0 || t.steps[k - 1] <= t.steps[k]);
            uint32_t b = t.steps[k] >= 0 ? (uint32_t)t.steps[k] : 0x80000000u | (uint32_t)-t.steps[k];
            float v;
            memcpy(&v, &b, sizeof v);
            CHECK(mco_float_order(v) == t.steps[k]);
            float below = v, above = v;
            for (int u = 0; u < 3; u++) {
                below = nextafterf(below, -INFINITY), above = nextafterf(above, INFINITY);
                bad += !steps_agree(p, &t, below) + !steps_agree(p, &t, above);
            }
            bad += !steps_agree(p, &t, v);
        }
        bad += !steps_agree(p, &t, NAN) + !steps_agree(p, &t, INFINITY) + !steps_agree(p, &t, -INFINITY);
        CHECK(bad == 0);
    }
    CHECK(mco_float_order(-0.0f) == 0 && mco_float_order(0.0f) == 0 && mco_float_order(NAN) == MCO_FLOAT_ORDER_NAN &&
          mco_float_order(-INFINITY) == -0x7f800000 && mco_float_order(-1.0f) < mco_float_order(-0.5f) &&
          mco_float_order(1e-45f) == 1);
    int32_t steps[255];
    int8_t nan_value;
    CHECK(!mco_input_steps_build(-1.0f, 0.0f, 1.0f, 0.02f, 0, steps, &nan_value));   /* decreasing: no steps */
}

int main(void)
{
    uint8_t *raw = malloc((size_t)N * SIZE);
    make_raw(raw, (size_t)N * SIZE);
    mco_model m;
    make_model(&m);
    test_int8_model(&m, raw);
    test_float_model(&m, raw);
    test_conversion_edges();
    test_input_steps();
    mco_model_free(&m);
    free(raw);
    TEST_MAIN_END();
}
