/*
 * test_mcq_accumulator.c - a .mcq file with valid checksums whose int32
 * bias would overflow the int8 kernels' int32 accumulator is refused on
 * load, with one line naming the layer, by the library (mco_deploy_load) and
 * by the command line (`mcuopt predict`); a bias exactly at the bound
 * (bias +- 255 * sum|w| at the edge of int32) loads and runs. Every
 * weighted layer kind: Conv2D, DepthwiseConv2D and Dense, int8 and int4
 * weights. (The defect: a Dense bias edited to about -2^31 loaded and the
 * Dense kernels summed past INT32_MIN.)
 * The command line is the one CTest passes in MCO_CLI.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "mcuopt/arch.h"
#include "mcuopt/codegen.h"
#include "mcuopt/deploy.h"
#include "mcuopt/model_file.h"
#include "test_util.h"

#define MCQ_PATH "build-test-mcq-accumulator.mcq"
#define INPUT_PATH "build-test-mcq-accumulator.f32"
#define OUTPUT_PATH "build-test-mcq-accumulator.out"
#define ERR_PATH "build-test-mcq-accumulator.err"

static const char *ARCH = "input 6 6 2\n"
                          "conv2d filters=3 kernel=3 padding=same\n"
                          "relu\n"
                          "depthwise_conv2d kernel=3 padding=valid\n"
                          "flatten\n"
                          "dense units=4\n";
#define CONV 0
#define DEPTHWISE 2
#define DENSE 4

static void make_deploy(mco_weight_format format, mco_deploy_model *dm)
{
    mco_model m;
    mco_dataset ds;
    memset(&ds, 0, sizeof ds);
    CHECK_OK(mco_arch_parse(ARCH, "test", (mco_shape){6, 6, 2}, 0, &m));
    CHECK_OK(mco_model_alloc_params(&m));
    mco_model_init_params(&m, 7);
    m.norm = (mco_normalization){1.0f / 255.0f, 0.5f, 0.25f};
    ds.n = 16;
    ds.shape = (mco_shape){6, 6, 2};
    ds.n_classes = 4;
    ds.samples_u8 = malloc(16 * 72);
    ds.labels = calloc(16, 1);
    for (int k = 0; k < 16 * 72; k++) ds.samples_u8[k] = (uint8_t)(k * 37 + k / 72);
    mco_quant_options opt;
    mco_quant_options_default(&opt);
    opt.weight_format = format;
    CHECK_OK(mco_quantize(&m, &ds, &opt, dm));
    mco_dataset_free(&ds);
    mco_model_free(&m);
}

/* 255 * sum |w| over output channel c of layer i. */
static int64_t reach(const mco_deploy_model *dm, int i, int c)
{
    const mco_layer *l = &dm->model.layers[i];
    const mco_deploy_layer *d = &dm->layers[i];
    size_t n = l->params[MCO_PARAM_WEIGHTS].size, channels = (size_t)d->n_channels, per = n / channels;
    int64_t s = 0;
    for (size_t k = 0; k < per; k++) {
        int w = d->weights_q[l->type == MCO_LAYER_DEPTHWISE_CONV2D ? k * channels + (size_t)c : (size_t)c * per + k];
        s += w < 0 ? -w : w;
    }
    return 255 * s;
}

/* Runs the plan of dm on an input of all `value` (checks it runs: under the
 * sanitizer build an overflow in a kernel aborts here). */
static void run_plan(const mco_deploy_model *dm, int8_t value)
{
    mco_plan_options po;
    mco_plan plan;
    mco_plan_options_default(&po);
    CHECK_OK(mco_plan_build(dm, &po, &plan));
    uint8_t *arena = aligned_alloc(16, ((size_t)plan.arena_size + 15) & ~(size_t)15);
    int8_t *in = malloc(plan.input_bytes), *out = malloc(plan.output_bytes);
    memset(in, value, plan.input_bytes);
    CHECK_OK(mco_plan_run(&plan, arena, in, out));
    free(arena);
    free(in);
    free(out);
    mco_plan_free(&plan);
}

/* `mcuopt predict MCQ_PATH` must exit 1 with one stderr line containing `what`, and write nothing. */
static void expect_cli_refusal(const char *what)
{
    const char *cli = getenv("MCO_CLI");
    char cmd[1024], line[1024];
    if (!cli || !*cli) return;   /* main() reports it */
    remove(OUTPUT_PATH);
    snprintf(cmd, sizeof cmd, "'%s' predict %s --input %s -o %s 2>%s >/dev/null", cli, MCQ_PATH, INPUT_PATH,
             OUTPUT_PATH, ERR_PATH);
    int status = system(cmd);
    CHECK(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 1);
    FILE *f = fopen(ERR_PATH, "r");
    int lines = 0, found = 0;
    while (f && fgets(line, sizeof line, f)) {
        lines++;
        found |= strstr(line, what) != NULL && strstr(line, "overflows the int32 accumulator") != NULL;
    }
    if (f) fclose(f);
    if (lines != 1 || !found) {
        fprintf(stderr, "mcuopt predict: %d stderr lines, expected one naming '%s'\n", lines, what);
        CHECK(0);
    }
    FILE *o = fopen(OUTPUT_PATH, "rb");
    CHECK(o == NULL);   /* no output left behind */
    if (o) fclose(o);
}

/* Sets channel c's bias of layer i to `bias`, saves, and loads: must load
 * (expect_ok) or be refused with one line naming the layer and channel. */
static void check_bias(mco_deploy_model *dm, int i, int c, int64_t bias, int expect_ok, int via_cli)
{
    int32_t saved = dm->layers[i].bias_q[c];
    dm->layers[i].bias_q[c] = (int32_t)bias;
    CHECK_OK(mco_deploy_save(dm, MCQ_PATH));
    dm->layers[i].bias_q[c] = saved;
    mco_deploy_model back;
    mco_status st = mco_deploy_load(MCQ_PATH, &back);
    char what[128];
    snprintf(what, sizeof what, "layer %d (%s): %s %d: bias %lld", i, dm->model.layers[i].name,
             i == DENSE ? "unit" : "channel", c, (long long)bias);
    if (expect_ok) {
        CHECK_OK(st);
        if (st == MCO_OK) {   /* at the bound: runs without overflow on the extreme inputs */
            run_plan(&back, -128);
            run_plan(&back, 127);
            mco_deploy_free(&back);
        }
        return;
    }
    CHECK(st == MCO_ERR_FORMAT);
    if (st == MCO_OK) {
        mco_deploy_free(&back);
        return;
    }
    const char *msg = mco_last_error();
    if (strncmp(msg, MCQ_PATH ": ", strlen(MCQ_PATH) + 2) != 0 || !strstr(msg, what) || strchr(msg, '\n') ||
        !strstr(msg, "overflows the int32 accumulator")) {
        fprintf(stderr, "message '%s' lacks '%s'\n", msg, what);
        CHECK(0);
    }
    if (via_cli) expect_cli_refusal(what);
}

int main(void)
{
    const char *cli = getenv("MCO_CLI");
    FILE *f = fopen(INPUT_PATH, "wb");   /* one zero input sample for predict */
    float zeros[72] = {0};
    CHECK(f && fwrite(zeros, sizeof zeros, 1, f) == 1);
    if (f) fclose(f);

    for (int fmt = 0; fmt < 2; fmt++) {
        mco_deploy_model dm;
        make_deploy(fmt == 0 ? MCO_WEIGHTS_S8 : MCO_WEIGHTS_S4, &dm);
        CHECK(dm.activation_format == MCO_ACT_S8);
        static const int layers[3] = {CONV, DEPTHWISE, DENSE};
        for (int k = 0; k < 3; k++) {
            int i = layers[k], c = dm.layers[i].n_channels - 1;
            CHECK(dm.model.layers[i].type == (i == CONV ? MCO_LAYER_CONV2D
                                              : i == DEPTHWISE ? MCO_LAYER_DEPTHWISE_CONV2D
                                                               : MCO_LAYER_DENSE));
            int64_t r = reach(&dm, i, c);
            CHECK(r > 0);
            check_bias(&dm, i, c, INT32_MAX - r, 1, 0);       /* at the bound: fine */
            check_bias(&dm, i, c, INT32_MIN + r, 1, 0);
            check_bias(&dm, i, c, INT32_MAX - r + 1, 0, 0);   /* one past: refused */
            check_bias(&dm, i, c, INT32_MIN + r - 1, 0, fmt == 0);
        }
        /* the reported case: a Dense bias edited to about -2^31 */
        check_bias(&dm, DENSE, 0, INT32_MIN + 5, 0, fmt == 0);
        mco_deploy_free(&dm);
    }
    remove(MCQ_PATH);
    remove(INPUT_PATH);
    remove(OUTPUT_PATH);
    remove(ERR_PATH);
    if (!cli || !*cli) test_skip("the command-line half: MCO_CLI is not set (CTest sets it)");
    TEST_MAIN_END();
}
