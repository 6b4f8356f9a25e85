/*
 * test_target_measure.c - mco_target_measure() end to end on QEMU: a tiny
 * hand-written int8 model (a 16 -> 4 dot product with requantization, not the
 * real runtime) is built for a Cortex-M4 (mps2-an386) and a Cortex-M0+
 * (microbit) profile and run on three inputs. Checks: outputs match the host
 * results, instruction counts are the same on a second run (deterministic)
 * and equal the pinned value for the Debian 12 toolchain (arm-none-eabi-gcc
 * 12.2), a wrong expected output is reported as a mismatch, and a crashing or
 * hanging model gives a clear error.
 *
 * Skipped (exit 0 with a note) when arm-none-eabi-gcc or qemu-system-arm is
 * not installed.
 */
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

static const char *hang_c = "#include \"model.h\"\n"
                            "int model_run(const model_input_t *in, model_output_t *out) {\n"
                            "    (void)in; (void)out; for (;;) __asm__ volatile(\"\"); }\n";

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

static int have_tools(void)
{
    return system("arm-none-eabi-gcc --version >/dev/null 2>&1 && qemu-system-arm --version >/dev/null 2>&1") == 0;
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

    /* Second run, at half the clock, with one expected output made wrong. */
    expected[1][2] ^= 0x01;
    req.clock_mhz = t.clock_mhz / 2;
    CHECK_OK(mco_target_measure(&t, &req, &b));
    CHECK(b.n_mismatch == 1 && b.first_mismatch == 1);
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

static void expect_failure(const char *model_dir, const char *source, int timeout_s, mco_status want,
                           const char *want_text)
{
    write_file(model_dir, "model.c", source);
    mco_target_profile t;
    CHECK_OK(mco_target_load(test_context(), "stm32l432", &t));
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
    if (!have_tools()) {
        printf("skipped: arm-none-eabi-gcc or qemu-system-arm not installed\n");
        return 0;
    }
    char dir[] = "/tmp/mco-test-measure-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    write_file(dir, "model.h", model_h);
    write_file(dir, "model.c", model_c);

    measure_on("stm32l432", dir, 777);     /* Cortex-M4F on mps2-an386 */
    measure_on("stm32g071", dir, 2897);     /* Cortex-M0+ on microbit */

    /* The size contract: a wrong input size is a build error naming it. */
    {
        mco_target_profile t;
        CHECK_OK(mco_target_load(test_context(), "stm32l432", &t));
        uint8_t in[N_IN + 1] = {0}, exp[N_OUT] = {0};
        mco_measure_request req = {.ctx = test_context(), .model_dir = dir, .n_inputs = 1, .inputs = in, .input_bytes = N_IN + 1,
                                   .expected = exp, .output_bytes = N_OUT};
        mco_measure_result r;
        CHECK(mco_target_measure(&t, &req, &r) == MCO_ERR_UNSUPPORTED);
        CHECK(strstr(mco_last_error(), "MODEL_INPUT_SIZE") != NULL);
        printf("expected failure: %s\n", mco_last_error());
    }
    expect_failure(dir, crash_c, 60, MCO_ERR_IO, "MCO_FAULT");
    expect_failure(dir, hang_c, 2, MCO_ERR_RANGE, "within 2 s");
    remove_model_dir(dir);
    TEST_MAIN_END();
}
