/*
 * test_op_table.c - the op descriptor table (src/codegen/op_desc.h,
 * mcuopt/op.h), white box:
 *   - every kind has a complete descriptor: its own kind, a unique name
 *     that mco_op_kind_by_name finds, a kernel function that a runtime .c
 *     file defines and the named runtime header declares, an argument list
 *     of known names, every hook, a fallback chain that ends;
 *   - every kind is reachable: over two architectures in every deploy
 *     format (and int8 with TFLite's MEAN as the global average pool),
 *     planning with each kind preferred in turn (MCO_PLAN_LISTED),
 *     every kind of the table is chosen somewhere; plans that run the same
 *     layers on different kernels compute the same output bytes on the host;
 *   - every descriptor's emitted call is its host call: for a set of those
 *     plans covering every kind, model.c is emitted, compiled with the host
 *     cc (-std=c99 -Wall -Wextra -Wconversion -Werror) and run, and its
 *     outputs equal the host evaluator's byte for byte;
 *   - a kind nobody supports for a layer gives one clear error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codegen/op_desc.h"
#include "mcuopt/arch.h"
#include "mcuopt/model_file.h"
#include "mcuopt/quant_multiplier.h"
#include "mcuopt/resource_calibration.h"
#include "test_fixtures.h"

/* A whole file, NUL-terminated (NULL if unreadable); *size its bytes. */
static char *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0, got;
    char *buf = malloc(cap + 1);
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *bigger = realloc(buf, 2 * cap + 1);
            if (!bigger) free(buf);
            buf = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf) buf[n] = '\0';
    if (size) *size = n;
    return buf;
}

/* ---- the descriptors --------------------------------------------------------- */

static char *read_runtime_file(const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "runtime/%s", name);   /* tests run at the repository root */
    return slurp(path, NULL);
}

/* 1 if a runtime .c file has a line starting with the return type and `fn(`. */
static int runtime_defines(const char *fn)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "grep -l '^mco_rt_status %s(' runtime/*.c >/dev/null 2>&1", fn);
    return system(cmd) == 0;
}

static void test_descriptors(void)
{
    for (int k = 0; k < MCO_OP_KIND_COUNT; k++) {
        const mco_op_desc *d = mco_op_desc_of(k);
        CHECK(d != NULL);
        if (!d) continue;
        CHECK((int)d->kind == k);
        CHECK(d->name && strcmp(mco_op_kind_name(k), d->name) == 0 && mco_op_kind_by_name(d->name) == k);
        for (int j = 0; j < k; j++) CHECK(strcmp(mco_op_desc_of(j)->name, d->name) != 0);
        CHECK(d->supports && d->prepare && d->eval && d->features);
        CHECK(d->function && strcmp(mco_op_kernel_function(k), d->function) == 0);
        if (!runtime_defines(d->function)) {
            fprintf(stderr, "%s: no runtime .c file defines %s\n", d->name, d->function);
            CHECK(0);
        }
        char *header = d->header ? read_runtime_file(d->header) : NULL;
        char decl[96];
        snprintf(decl, sizeof decl, "mco_rt_status %s(", d->function);
        CHECK(header && strstr(header, decl));
        free(header);
        /* the argument list: names the emitter knows, and member accesses of P */
        for (const char *p = d->args; *p; p++) {
            if (!(p[0] >= 'A' && p[0] <= 'Z') || (p > d->args && (p[-1] == '.' || p[-1] == '_'))) continue;
            size_t n = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
            int known = (n == 1 && strchr("PWB", *p)) || (n == 2 && !strncmp(p, "IN", 2)) ||
                        (n == 3 && (!strncmp(p, "IN2", 3) || !strncmp(p, "OUT", 3))) ||
                        (n == 7 && !strncmp(p, "SCRATCH", 7));
            if (!known) fprintf(stderr, "%s: unknown name in \"%s\"\n", d->name, d->args);
            CHECK(known);
            p += n - 1;
        }
        int hops = 0;
        for (int f = d->fallback; f >= 0 && hops < MCO_OP_KIND_COUNT; f = mco_op_desc_of(f)->fallback) hops++;
        CHECK(hops < MCO_OP_KIND_COUNT && d->fallback != k);
    }
    CHECK(mco_op_desc_of(-1) == NULL && mco_op_desc_of(MCO_OP_KIND_COUNT) == NULL);
    CHECK(mco_op_kind_by_name("NO_SUCH_KIND") == -1 && strcmp(mco_op_kind_name(-3), "UNKNOWN") == 0);
}

/* ---- every kind, planned, evaluated and emitted -------------------------------- */

/* A 3x3 one-channel conv + ReLU + pool (3x3 / general / sparse), a plain
 * conv, a depthwise conv, a 1x1 conv that may run in place, a residual Add + ReLU, a pool on its own, a ReLU
 * on its own, two Dense layers and Softmax. */
static const char *const arch_a = "input 16 16 1\n"
                                  "conv2d filters=6 kernel=3 padding=valid\n"
                                  "relu\n"
                                  "maxpool2d pool=2\n"
                                  "b1 = conv2d filters=6 kernel=3 padding=same\n"
                                  "d = depthwise_conv2d kernel=3 padding=same\n"
                                  "e = conv2d filters=6 kernel=1\n"
                                  "add inputs=b1,e\n"
                                  "relu\n"
                                  "maxpool2d pool=2\n"
                                  "relu\n"
                                  "flatten\n"
                                  "dense units=12\n"
                                  "relu\n"
                                  "dense units=10\n"
                                  "softmax\n";
/* Average pools (one dividing by its whole window, count_pad) and global
 * average pools; a strided 1x1 conv with an odd channel count; a concat of
 * two tensors of different quantizations; the five activations of
 * ACTIVATION_F32 / LUT_S8. */
static const char *const arch_b = "input 10 10 3\n"
                                  "conv2d filters=4 kernel=3 padding=same\n"
                                  "leaky_relu alpha=0.2\n"
                                  "c = conv2d filters=5 kernel=1 stride=2 padding=same\n"
                                  "hard_swish\n"
                                  "p = avgpool2d pool=3 stride=1 padding=same count_pad=1\n"
                                  "concat inputs=p,c\n"
                                  "avgpool2d pool=2\n"
                                  "relu\n"
                                  "tanh\n"
                                  "sigmoid\n"
                                  "global_avgpool\n"
                                  "hard_sigmoid alpha=0.2 beta=0.5\n";

/* The general convolution (CONV_GENERAL_F32 / _S8; float32 and int8
 * only): a depthwise conv with a depth multiplier of 2, a dilated conv
 * with padding, a grouped conv with a fused ReLU, a dilated depthwise conv. */
static const char *const arch_c = "input 9 9 3\n"
                                  "depthwise_conv2d kernel=3 multiplier=2 padding=same\n"
                                  "conv2d filters=8 kernel=3 dilation=2 padding=same\n"
                                  "conv2d filters=4 kernel=3 groups=4 stride=2\n"
                                  "relu\n"
                                  "depthwise_conv2d kernel=2 dilation=2x1\n"
                                  "global_avgpool\n";

/* ConvTranspose2D (float and int8 only: no other format has its kernel):
 * stride 2 with output padding and a fused ReLU, then a 2x3 kernel of
 * stride 3x2 (output positions no tap reaches), into a Dense. */
static const char *const arch_d = "input 5 6 2\n"
                                  "conv_transpose2d filters=3 kernel=3 stride=2 output_padding=1\n"
                                  "relu\n"
                                  "conv_transpose2d filters=2 kernel=2x3 stride=3x2\n"
                                  "flatten\n"
                                  "dense units=4\n";

/* "int8-mean": the int8 model with each global average pool turned into
 * TFLite's MEAN as an imported TFLite model has it: an output quantization
 * of its own (here 0.75 x the input's scale, zero point moved by 3) and the
 * multiplier of input scale / output scale (MEAN_S8). */
static mco_status make_means(mco_deploy_model *dm)
{
    for (int i = 0; i < dm->model.n_layers; i++) {
        mco_deploy_layer *d = &dm->layers[i];
        const mco_layer *l = &dm->model.layers[i];
        if (l->type != MCO_LAYER_GLOBAL_AVGPOOL) continue;
        mco_qparams in = l->inputs[0] == MCO_INPUT ? dm->input : dm->layers[l->inputs[0]].output;
        d->output = (mco_qparams){0.75f * in.scale, in.zero_point > 120 ? in.zero_point - 3 : in.zero_point + 3};
        d->multiplier = malloc(sizeof *d->multiplier);
        d->shift = malloc(sizeof *d->shift);
        if (!d->multiplier || !d->shift) return mco_error(MCO_ERR_NOMEM, "out of memory");
        mco_status st = mco_quantize_multiplier((double)in.scale / (double)d->output.scale, d->multiplier, d->shift);
        if (st != MCO_OK) return st;
    }
    return MCO_OK;
}

static mco_status model_of(const char *text, const char *format, mco_deploy_model *dm)
{
    if (strcmp(format, "int8-mean") == 0) {
        mco_status st = model_of(text, "int8", dm);
        if (st == MCO_OK && (st = make_means(dm)) != MCO_OK) mco_deploy_free(dm);
        return st;
    }
    char path[] = "/tmp/mco-test-op-table-arch-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return mco_error(MCO_ERR_IO, "mkstemp");
    FILE *f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
    mco_status st = mco_resource_random_model(path, format, 3u, dm);
    unlink(path);
    return st;
}

/* n deterministic raw samples for a model. */
static uint8_t *samples(const mco_deploy_model *dm, int n)
{
    size_t size = mco_shape_size(dm->model.input_shape);
    uint8_t *raw = malloc((size_t)n * size);
    for (size_t i = 0; i < (size_t)n * size; i++) raw[i] = (uint8_t)((i * 73u + 11u) & 0xFFu);
    return raw;
}

enum { N_SAMPLES = 3 };

/* Emits the plan, compiles it with a main that runs the prepared inputs,
 * and compares its outputs with the host plan's; returns 1 if they agree. */
static int emitted_agrees(const mco_deploy_model *dm, const mco_plan *plan, const char *label)
{
    char dir[] = "/tmp/mco-test-op-table-XXXXXX";
    if (!mkdtemp(dir)) return 0;
    char code[1100], path[1200], cmd[6000];
    snprintf(code, sizeof code, "%s/code", dir);
    mco_emit_options eo;
    mco_emit_options_default(&eo);
    eo.ctx = test_context();
    eo.measure = 0;
    mco_emit_result er;
    int ok = mco_emit_c_with(dm, plan, code, &eo, &er) == MCO_OK;
    if (!ok) fprintf(stderr, "%s: %s\n", label, mco_last_error());
    uint8_t *raw = samples(dm, N_SAMPLES);
    uint8_t *in = malloc(N_SAMPLES * plan->input_bytes), *want = malloc(N_SAMPLES * plan->output_bytes);
    ok = ok && mco_deploy_predict_raw(dm, plan, raw, N_SAMPLES, in, want) == MCO_OK;
    snprintf(path, sizeof path, "%s/in.bin", dir);
    ok = ok && mco_write_file_atomic(path, in, N_SAMPLES * plan->input_bytes) == MCO_OK;
    snprintf(path, sizeof path, "%s/main.c", dir);
    FILE *f = ok ? fopen(path, "w") : NULL;
    if (f) {
        fprintf(f,
                "#include <stdio.h>\n#include \"model.h\"\n"
                "int main(int argc, char **argv)\n{\n"
                "    static model_input_t in[MODEL_INPUT_SIZE];\n    static model_output_t out[MODEL_OUTPUT_SIZE];\n"
                "    FILE *fi = fopen(argv[1], \"rb\"), *fo = fopen(argv[2], \"wb\");\n"
                "    int i;\n    (void)argc;\n    if (!fi || !fo) return 2;\n"
                "    for (i = 0; i < %d; i++) {\n"
                "        if (fread(in, sizeof in, 1, fi) != 1 || model_run(in, out) != 0) return 3;\n"
                "        fwrite(out, sizeof out, 1, fo);\n    }\n"
                "    return fclose(fo) != 0;\n}\n",
                N_SAMPLES);
        ok = fclose(f) == 0;
    } else {
        ok = 0;
    }
    snprintf(cmd, sizeof cmd,
             "cc -std=c99 -O1 -Wall -Wextra -Wconversion -Werror -ffp-contract=off -I%s -I%s/mcuopt_runtime %s/*.c "
             "%s/mcuopt_runtime/*.c %s/main.c -o %s/run -lm > %s/cc.log 2>&1 && %s/run %s/in.bin %s/out.bin",
             code, code, code, code, dir, dir, dir, dir, dir, dir);
    if (ok && system(cmd) != 0) {
        fprintf(stderr, "%s: the emitted code did not build or run:\n", label);
        snprintf(cmd, sizeof cmd, "head -20 %s/cc.log >&2", dir);
        if (system(cmd) != 0) fprintf(stderr, "(no log)\n");
        ok = 0;
    }
    size_t got_size = 0;
    snprintf(path, sizeof path, "%s/out.bin", dir);
    char *got = ok ? slurp(path, &got_size) : NULL;
    ok = got && got_size == N_SAMPLES * plan->output_bytes && memcmp(got, want, got_size) == 0;
    if (!ok) fprintf(stderr, "%s: the emitted model's outputs differ from the host plan's\n", label);
    free(got);
    free(raw);
    free(in);
    free(want);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return ok;
}

static void test_every_kind(void)
{
    static const char *const formats[] = {"float32", "float16", "int8w", "int8", "int4", "int8-sparse", "int8-mean"};
    static const char *const *archs[] = {&arch_a, &arch_b, &arch_c, &arch_d};
    int planned[MCO_OP_KIND_COUNT] = {0}, emitted[MCO_OP_KIND_COUNT] = {0};
    for (size_t a = 0; a < sizeof archs / sizeof archs[0]; a++) {
        for (size_t fi = 0; fi < sizeof formats / sizeof formats[0]; fi++) {
            /* the general convolution (arch_c) and ConvTranspose2D (arch_d) have float32 and
             * int8 kernels only */
            if (a >= 2 && strcmp(formats[fi], "float32") != 0 && strcmp(formats[fi], "int8") != 0) continue;
            mco_deploy_model dm;
            mco_status st = model_of(*archs[a], formats[fi], &dm);
            CHECK_OK(st);
            if (st != MCO_OK) continue;
            uint8_t *raw = samples(&dm, N_SAMPLES);
            mco_plan base;
            mco_plan_options po;
            mco_plan_options_default(&po);
            po.goal = MCO_PLAN_LISTED;
            CHECK_OK(mco_plan_build(&dm, &po, &base));
            uint8_t *want = malloc(N_SAMPLES * base.output_bytes), *got = malloc(N_SAMPLES * base.output_bytes);
            CHECK_OK(mco_deploy_predict_raw(&dm, &base, raw, N_SAMPLES, NULL, want));
            for (int k = -1; k < MCO_OP_KIND_COUNT; k++) {
                mco_op_kind prefer = (mco_op_kind)(k < 0 ? 0 : k);
                po.prefer = k < 0 ? NULL : &prefer;
                po.n_prefer = k < 0 ? 0 : 1;
                mco_plan plan;
                CHECK_OK(mco_plan_build(&dm, &po, &plan));
                if (!plan.ops) continue;
                int uses_new = 0;
                for (int i = 0; i < plan.n_ops; i++) {
                    planned[plan.ops[i].kind] = 1;
                    uses_new |= !emitted[plan.ops[i].kind];
                }
                /* the same layers on other kernels: the same bytes */
                CHECK(plan.output_bytes == base.output_bytes);
                CHECK_OK(mco_deploy_predict_raw(&dm, &plan, raw, N_SAMPLES, NULL, got));
                CHECK(memcmp(got, want, N_SAMPLES * base.output_bytes) == 0);
                if (uses_new) {
                    char label[160];
                    snprintf(label, sizeof label, "arch %c, %s, preferring %s", 'a' + (int)a, formats[fi],
                             k < 0 ? "none" : mco_op_kind_name(k));
                    int agrees = emitted_agrees(&dm, &plan, label);
                    CHECK(agrees);
                    for (int i = 0; agrees && i < plan.n_ops; i++) emitted[plan.ops[i].kind] = 1;
                }
                mco_plan_free(&plan);
            }
            free(want);
            free(got);
            free(raw);
            mco_plan_free(&base);
            mco_deploy_free(&dm);
        }
    }
    for (int k = 0; k < MCO_OP_KIND_COUNT; k++) {
        if (!planned[k] || !emitted[k])
            fprintf(stderr, "%s: %s\n", mco_op_kind_name(k), planned[k] ? "never emitted and run" : "never planned");
        CHECK(planned[k] && emitted[k]);
    }
}

/* ---- no kernel ------------------------------------------------------------------- */

static void test_no_kernel(void)
{
    /* float16 weights with int8 activations: no kernel takes them */
    mco_deploy_model dm;
    CHECK_OK(model_of("input 4 4 1\nflatten\ndense units=3\n", "int8", &dm));
    dm.layers[1].weight_format = MCO_WEIGHTS_F16;
    mco_plan plan;
    CHECK(mco_plan_build(&dm, NULL, &plan) == MCO_ERR_UNSUPPORTED);
    CHECK(strstr(mco_last_error(), "dense_1") != NULL);
    CHECK(plan.ops == NULL && plan.n_ops == 0);
    mco_deploy_free(&dm);
}

int main(void)
{
    test_descriptors();
    test_every_kind();
    test_no_kernel();
    TEST_MAIN_END();
}
