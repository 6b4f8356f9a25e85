/*
 * test_target_measure.c - mco_target_measure() end to end on QEMU: a tiny
 * hand-written int8 model (a 16 -> 4 dot product with requantization, not the
 * real runtime) is built for a Cortex-M4 (mps2-an386) and a Cortex-M0+
 * (mps2-an385, a Cortex-M3 machine) profile and run on three inputs. Checks:
 * outputs match the host results, instruction counts are the same on a
 * second run (deterministic) and equal the pinned value for the Debian 12
 * toolchain (arm-none-eabi-gcc 12.2), a wrong expected output is reported as
 * a mismatch (and the target's outputs come back, MCO_OUTPUT), a crashing or hanging model gives a clear error, and an
 * ARMv7-M instruction (SDIV) in M0+ code fails the measurement although the
 * Cortex-M3 machine runs it.
 * Per-layer figures (layer marks, firmware/mco_layer_mark.h): the same
 * model split into two marked ops reports both, they and the overhead add
 * up to the totals, the bigger op counts more, and the build without the
 * marks counts the same within 2 instructions (between inline computations
 * a mark can shift the register allocation); an emitted model with random
 * weights (conv, depthwise, 1x1, add, global pool, dense, softmax) gets one
 * entry per op with its kernel, layers and MACs, adding up likewise, and
 * exactly the same total as its production build (no_layer_marks: model_run
 * only calls kernels, so there is little for a mark to disturb).
 *
 * Skipped (exit 77, "SKIPPED: why") when arm-none-eabi-gcc or
 * qemu-system-arm is not on PATH.
 */
#include "mco_runtime.h"
#include "mcuopt/op.h"
#include "mcuopt/codegen.h"
#include "mcuopt/measure.h"
#include "mcuopt/resource.h"
#include "mcuopt/resource_calibration.h"
#include "mcuopt/target.h"
#include "test_fixtures.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N_IN 16
#define N_OUT 4
#define N_CASES 3

static const char *model_h =
    "#include <stdint.h>\n"
    "#define MODEL_INPUT_SIZE 16\n"
    "#define MODEL_OUTPUT_SIZE 4\n"
    "typedef int8_t model_input_t;\n"
    "typedef int8_t model_output_t;\n"
    "int model_run(const model_input_t *in, model_output_t *out);\n";

/* The model body is shared by the target build (as text) and the host
 * reference (compiled into this test), so both compute the same thing. */
#define MODEL_BODY                                                                     \
    for (int o = 0; o < 4; o++) {                                                      \
        int32_t acc = 0;                                                               \
        for (int i = 0; i < 16; i++) acc += (int32_t)in[i] * (int32_t)((i * 7 + o * 13) % 11 - 5); \
        acc = (acc + 8) >> 4;                                                          \
        out[o] = (int8_t)(acc > 127 ? 127 : acc < -128 ? -128 : acc);                  \
    }                                                                                  \
    return 0;
#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

static int host_model_run(const int8_t *in, int8_t *out) { MODEL_BODY }

static const char *model_c = "#include \"model.h\"\n"
                             "int model_run(const model_input_t *in, model_output_t *out) {\n" STRINGIFY(MODEL_BODY) "\n}\n";

static const char *crash_c = "#include \"model.h\"\n"
                             "int model_run(const model_input_t *in, model_output_t *out) {\n"
                             "    (void)in; out[0] = *(volatile int8_t *)0xF0000000u; return 0; }\n";

/* SDIV exists on the Cortex-M3 machine but not on the M0+ the profile names;
 * the assembler emits it on request (.inst.w) even for -mcpu=cortex-m0plus. */
static const char *sdiv_c = "#include \"model.h\"\n"
                            "int model_run(const model_input_t *in, model_output_t *out) {\n"
                            "    register int32_t x __asm__(\"r0\") = in[0];\n"
                            "    register int32_t y __asm__(\"r1\") = 3;\n"
                            "    __asm__ volatile(\".inst.w 0xfb90f0f1\" : \"+r\"(x) : \"r\"(y)); /* sdiv r0, r0, r1 */\n"
                            "    for (int o = 0; o < 4; o++) out[o] = (int8_t)x;\n"
                            "    return 0; }\n";

static const char *hang_c = "#include \"model.h\"\n"
                            "int model_run(const model_input_t *in, model_output_t *out) {\n"
                            "    (void)in; (void)out; for (;;) __asm__ volatile(\"\"); }\n";

/* The same model as two ops: outputs 0 (op 0) and 1..3 (op 1), marked as
 * the emitted code marks them; and the same text without the marks. */
#define SPLIT_BODY(MARK)                                                                \
    MARK(0) for (int o = 0; o < 1; o++) {                                               \
        int32_t acc = 0;                                                                \
        for (int i = 0; i < 16; i++) acc += (int32_t)in[i] * (int32_t)((i * 7 + o * 13) % 11 - 5); \
        acc = (acc + 8) >> 4;                                                           \
        out[o] = (int8_t)(acc > 127 ? 127 : acc < -128 ? -128 : acc);                   \
    }                                                                                   \
    MARK(1) for (int o = 1; o < 4; o++) {                                               \
        int32_t acc = 0;                                                                \
        for (int i = 0; i < 16; i++) acc += (int32_t)in[i] * (int32_t)((i * 7 + o * 13) % 11 - 5); \
        acc = (acc + 8) >> 4;                                                           \
        out[o] = (int8_t)(acc > 127 ? 127 : acc < -128 ? -128 : acc);                   \
    }                                                                                   \
    MARK(2) return 0;
#define NO_MARK(k)
#define TEXT_MARK(k) MCO_LAYER_MARK(k);

static const char *split_marked_c = "#include \"model.h\"\n"
                                    "#ifndef MCO_LAYER_MARK\n#define MCO_LAYER_MARK(k)\n#endif\n"
                                    "int model_run(const model_input_t *in, model_output_t *out) {\n" STRINGIFY(
                                        SPLIT_BODY(TEXT_MARK)) "\n}\n";
static const char *split_plain_c = "#include \"model.h\"\n"
                                   "int model_run(const model_input_t *in, model_output_t *out) {\n" STRINGIFY(
                                       SPLIT_BODY(NO_MARK)) "\n}\n";

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

static void remove_model_dir(const char *dir)
{
    char path[512];
    snprintf(path, sizeof path, "%s/model.h", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/model.c", dir);
    unlink(path);
    rmdir(dir);
}

static void make_vectors(uint8_t inputs[N_CASES][N_IN], uint8_t expected[N_CASES][N_OUT])
{
    uint32_t state = 12345;
    for (int c = 0; c < N_CASES; c++) {
        for (int i = 0; i < N_IN; i++) {
            state = state * 1664525u + 1013904223u;
            inputs[c][i] = (uint8_t)(state >> 24);
        }
        if (c == 2) memset(inputs[c], 0x7f, N_IN); /* drives the saturation path */
        host_model_run((const int8_t *)inputs[c], (int8_t *)expected[c]);
    }
}

/* Counts the log lines that name the QEMU run. */
static void count_qemu_lines(void *user, mco_log_level level, const char *line)
{
    if (level == MCO_LOG_DEBUG && strstr(line, "qemu-system-arm -M")) ++*(int *)user;
}

static void measure_on(const char *target, const char *model_dir, uint64_t pinned_insns)
{
    /* A context of its own: the source tree's resources, a private
     * temporary directory (empty again afterwards) and a log. */
    mco_context *ctx;
    char temp[] = "/tmp/mco-test-measure-tmp-XXXXXX";
    int qemu_lines = 0;
    CHECK_OK(mco_context_create(&ctx));
    CHECK_OK(mco_context_set_root(ctx, "."));
    CHECK(mkdtemp(temp) != NULL);
    CHECK_OK(mco_context_set_temp_dir(ctx, temp));
    mco_context_set_log(ctx, count_qemu_lines, &qemu_lines);
    mco_target_profile t;
    CHECK_OK(mco_target_load(ctx, target, &t));
    uint8_t inputs[N_CASES][N_IN], expected[N_CASES][N_OUT];
    make_vectors(inputs, expected);
    mco_measure_request req = {.ctx = ctx, .model_dir = model_dir, .n_inputs = N_CASES, .inputs = &inputs[0][0],
                               .input_bytes = N_IN, .expected = &expected[0][0], .output_bytes = N_OUT,
                               .timeout_s = 60};
    mco_measure_result a, b;
    CHECK_OK(mco_target_measure(&t, &req, &a));
    CHECK(a.n_inputs == N_CASES && a.n_mismatch == 0 && a.first_mismatch == -1);
    CHECK(a.insns_min > 50 && a.insns_max < 5000);
    CHECK(a.cycles_est >= a.insns_min);
    CHECK(a.flash_bytes > 40 && a.flash_bytes < 2000);
    CHECK(a.stack_bytes > 0 && a.stack_bytes < 256);
    CHECK(a.ram_bytes == a.static_ram_bytes + a.stack_bytes);
    CHECK(a.fits_flash && a.fits_ram);
    CHECK_NEAR(a.latency_ms, a.cycles_est / (t.clock_mhz * 1000.0), 1e-12);
    CHECK(strstr(a.note, "estimate") != NULL);
    printf("%s on %s: %.1f insns/inference (min %llu max %llu), ~%.0f cycles, %.4f ms at %.0f MHz, %.4f uJ, "
           "flash %zu B, static RAM %zu B, stack %zu B\n  note: %s\n",
           target, a.qemu_machine, a.insns_mean, (unsigned long long)a.insns_min, (unsigned long long)a.insns_max,
           a.cycles_est, a.latency_ms, a.clock_mhz, a.energy_uj, a.flash_bytes, a.static_ram_bytes, a.stack_bytes,
           a.note);

    /* Second run, at half the clock, with one expected output made wrong:
     * the target's outputs come back (MCO_OUTPUT), the right ones there too. */
    uint8_t right[N_CASES][N_OUT], actual[N_CASES][N_OUT];
    memcpy(right, expected, sizeof right);
    expected[1][2] ^= 0x01;
    req.clock_mhz = t.clock_mhz / 2;
    req.actual = &actual[0][0];
    CHECK_OK(mco_target_measure(&t, &req, &b));
    CHECK(b.n_mismatch == 1 && b.first_mismatch == 1);
    CHECK(memcmp(actual, right, sizeof right) == 0);
    CHECK(b.insns_min == a.insns_min && b.insns_max == a.insns_max && b.insns_mean == a.insns_mean);
    CHECK(b.cycles_est == a.cycles_est);
    CHECK_NEAR(b.latency_ms, 2 * a.latency_ms, 1e-9);
    CHECK(b.flash_bytes == a.flash_bytes && b.stack_bytes == a.stack_bytes);
    CHECK(qemu_lines == 2);
    CHECK(rmdir(temp) == 0);   /* the work directories were made there and removed */
    mco_context_free(ctx);

    if (a.insns_min != pinned_insns)
        fprintf(stderr, "%s: %llu instructions for input 0..2 minimum, pinned value %llu (different compiler?)\n",
                target, (unsigned long long)a.insns_min, (unsigned long long)pinned_insns);
    CHECK(a.insns_min == pinned_insns);
}

/* The ops and the overhead add up to the totals. */
static void check_layers_add_up(const mco_measure_result *r)
{
    double insns = r->overhead_insns, cycles = r->overhead_cycles_est;
    for (int k = 0; k < r->n_layers; k++) {
        CHECK(r->layers[k].insns > 0 && r->layers[k].cycles_est >= r->layers[k].insns * 0.5);
        insns += r->layers[k].insns;
        cycles += r->layers[k].cycles_est;
    }
    CHECK(r->overhead_insns > 0 && r->overhead_insns < 100);
    CHECK_NEAR(insns, r->insns_mean, 1e-6);
    CHECK_NEAR(cycles, r->cycles_est, 1e-6 * r->cycles_est);
}

/* The hand-written model split in two marked ops, and without the marks. */
static void measure_split(const char *target, const char *model_dir)
{
    mco_target_profile t;
    CHECK_OK(mco_target_load(test_context(), target, &t));
    uint8_t inputs[N_CASES][N_IN], expected[N_CASES][N_OUT];
    make_vectors(inputs, expected);
    mco_measure_request req = {.ctx = test_context(), .model_dir = model_dir, .n_inputs = N_CASES,
                               .inputs = &inputs[0][0],
                               .input_bytes = N_IN, .expected = &expected[0][0], .output_bytes = N_OUT,
                               .timeout_s = 60};
    mco_measure_result marked, plain, unmarked;
    write_file(model_dir, "model.c", split_marked_c);
    CHECK_OK(mco_target_measure(&t, &req, &marked));
    req.no_layer_marks = 1;   /* the same text, built as production code */
    CHECK_OK(mco_target_measure(&t, &req, &unmarked));
    req.no_layer_marks = 0;
    write_file(model_dir, "model.c", split_plain_c);
    CHECK_OK(mco_target_measure(&t, &req, &plain));
    CHECK(marked.n_mismatch == 0 && plain.n_mismatch == 0 && unmarked.n_mismatch == 0);
    CHECK(marked.n_layers == 2 && plain.n_layers == 0 && unmarked.n_layers == 0);
    CHECK(unmarked.insns_mean == plain.insns_mean);
    check_layers_add_up(&marked);
    /* op 1 computes three outputs, op 0 one */
    CHECK(marked.layers[1].insns > 2.5 * marked.layers[0].insns);
    CHECK(marked.layers[0].op_kind == -1 && marked.layers[0].first_layer == -1);
    /* Between computations written inline (not calls, as in emitted code)
     * the marks may shift the register allocation by an instruction. */
    CHECK(fabs(marked.insns_mean - plain.insns_mean) <= 2);
    printf("%s, two marked ops: %.0f + %.0f instructions + %.0f overhead = %.0f (unmarked build: %.0f)\n", target,
           marked.layers[0].insns, marked.layers[1].insns, marked.overhead_insns, marked.insns_mean, plain.insns_mean);
}

/* An emitted model: one entry per op, adding up, and the same total as the
 * code without its marks. */
static void measure_emitted(const char *target)
{
    static const char *arch = "input 12 10 3\n"
                              "classes 6\n"
                              "conv2d filters=8 kernel=3 padding=same\n"
                              "s = relu\n"
                              "depthwise_conv2d kernel=3 padding=same\n"
                              "relu\n"
                              "conv2d filters=8 kernel=1 padding=same\n"
                              "add inputs=s,conv2d_4\n"
                              "global_avgpool\n"
                              "dense units=classes\n"
                              "softmax\n";
    char dir[] = "/tmp/mco-test-measure-emitted-XXXXXX", arch_path[128], code_dir[128];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(arch_path, sizeof arch_path, "%s/model.arch", dir);
    snprintf(code_dir, sizeof code_dir, "%s/code", dir);
    write_file(dir, "model.arch", arch);
    mco_deploy_model dm;
    mco_status st = mco_resource_random_model(arch_path, "int8", 3u, &dm);
    CHECK_OK(st);
    if (st != MCO_OK) return;
    mco_target_profile t;
    CHECK_OK(mco_target_load(test_context(), target, &t));
    enum { N = 2 };
    mco_dataset samples = {.n = N, .shape = dm.model.input_shape, .n_classes = 6};
    size_t raw = mco_shape_size(samples.shape);
    uint8_t images[N * 12 * 10 * 3], labels[N] = {0};
    for (size_t i = 0; i < sizeof images; i++) images[i] = (uint8_t)((i * 2654435761u) >> 13);
    CHECK(raw * N == sizeof images);
    samples.samples_u8 = images;
    samples.labels = labels;
    mco_measure_options mo;
    mco_measure_options_default(&mo);
    mo.ctx = test_context();
    mo.code_dir = code_dir;
    mo.n_samples = N;
    mco_measure_result marked, plain;
    CHECK_OK(mco_measure_deploy_model(&dm, &t, &samples, &mo, &marked));

    mco_plan plan;   /* the plan the measurement made: the context's table, the target's class */
    mco_plan_options po;
    mco_plan_options_default(&po);
    po.cost_model = test_cost_model();
    po.core_class = mco_cost_class_name(&t);
    CHECK_OK(mco_plan_build(&dm, &po, &plan));
    CHECK(marked.n_mismatch == 0 && marked.n_layers == plan.n_ops && plan.n_ops >= 6);
    check_layers_add_up(&marked);
    uint64_t macs = 0;
    for (int k = 0; k < marked.n_layers; k++) {
        const mco_layer_measure *l = &marked.layers[k];
        CHECK(l->op_kind == (int)((const mco_op *)plan.ops)[k].kind);
        CHECK(l->first_layer == plan.info[k].first_layer && l->last_layer == plan.info[k].last_layer);
        macs += l->macs;
        printf("  op %d %-24s layers %d..%d: %llu MACs, %.0f instructions, ~%.0f cycles\n", k,
               mco_op_kind_name(l->op_kind), l->first_layer, l->last_layer, (unsigned long long)l->macs, l->insns,
               l->cycles_est);
    }
    CHECK(macs == mco_model_macs(&dm.model));

    /* the production build (no marks): no split, the same instructions */
    uint8_t *in = malloc(N * plan.input_bytes), *exp = malloc(N * plan.output_bytes);
    CHECK_OK(mco_deploy_predict_raw(&dm, &plan, images, N, in, exp));
    mco_measure_request req = {.ctx = test_context(), .model_dir = code_dir, .n_inputs = N, .inputs = in,
                               .input_bytes = plan.input_bytes, .expected = exp, .output_bytes = plan.output_bytes,
                               .timeout_s = 120, .no_layer_marks = 1};
    CHECK_OK(mco_target_measure(&t, &req, &plain));
    CHECK(plain.n_mismatch == 0 && plain.n_layers == 0);
    CHECK(plain.insns_min == marked.insns_min && plain.insns_max == marked.insns_max);
    printf("%s, emitted model of %d ops: %.0f instructions with layer marks, %.0f without\n", target, plan.n_ops,
           marked.insns_mean, plain.insns_mean);
    free(in);
    free(exp);
    mco_plan_free(&plan);
    mco_deploy_free(&dm);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

static void expect_failure(const char *target, const char *model_dir, const char *source, int timeout_s,
                           mco_status want, const char *want_text)
{
    write_file(model_dir, "model.c", source);
    mco_target_profile t;
    CHECK_OK(mco_target_load(test_context(), target, &t));
    uint8_t inputs[N_CASES][N_IN], expected[N_CASES][N_OUT];
    make_vectors(inputs, expected);
    mco_measure_request req = {.ctx = test_context(), .model_dir = model_dir, .n_inputs = 1, .inputs = &inputs[0][0],
                               .input_bytes = N_IN, .expected = &expected[0][0], .output_bytes = N_OUT,
                               .timeout_s = timeout_s};
    mco_measure_result r;
    mco_status st = mco_target_measure(&t, &req, &r);
    CHECK(st == want);
    CHECK(strstr(mco_last_error(), want_text) != NULL);
    printf("expected failure: %s\n", mco_last_error());
}

int main(void)
{
    if (!test_have_arm_tools()) {
        test_skip("arm-none-eabi-gcc or qemu-system-arm not on PATH");
        TEST_MAIN_END();
    }
    char dir[] = "/tmp/mco-test-measure-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    write_file(dir, "model.h", model_h);
    write_file(dir, "model.c", model_c);

    measure_on("stm32l432", dir, 777);     /* Cortex-M4F on mps2-an386 */
    measure_on("stm32g071", dir, 2897);     /* Cortex-M0+ on mps2-an385 (the same count as on microbit) */
    measure_split("stm32l432", dir);
    measure_split("stm32g071", dir);
    measure_emitted("stm32l432");
    write_file(dir, "model.c", model_c);

    /* The size contract: a wrong input size is a build error naming it. */
    {
        mco_target_profile t;
        CHECK_OK(mco_target_load(test_context(), "stm32l432", &t));
        uint8_t in[N_IN + 1] = {0}, exp[N_OUT] = {0};
        mco_measure_request req = {.ctx = test_context(), .model_dir = dir, .n_inputs = 1, .inputs = in,
                                   .input_bytes = N_IN + 1, .expected = exp, .output_bytes = N_OUT};
        mco_measure_result r;
        CHECK(mco_target_measure(&t, &req, &r) == MCO_ERR_UNSUPPORTED);
        CHECK(strstr(mco_last_error(), "MODEL_INPUT_SIZE") != NULL);
        printf("expected failure: %s\n", mco_last_error());
    }
    expect_failure("stm32l432", dir, crash_c, 60, MCO_ERR_IO, "MCO_FAULT");
    expect_failure("stm32l432", dir, hang_c, 2, MCO_ERR_RANGE, "within 2 s");
    expect_failure("samd21", dir, sdiv_c, 60, MCO_ERR_UNSUPPORTED,
                   "1 executed instruction(s) on qemu mps2-an385 are not ARMv6-M");
    remove_model_dir(dir);
    TEST_MAIN_END();
}
