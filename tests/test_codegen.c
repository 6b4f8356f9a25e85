/*
 * test_codegen.c - the plan, the memory planner, the host evaluator and the
 * C emitter (src/codegen/):
 *   - planner: tensors with disjoint lifetimes share memory, overlapping
 *     ones never do (fixed case and random cases), offsets 4-byte aligned;
 *   - a float mnist-paper-shaped model (conv -> relu -> maxpool -> flatten
 *     -> dense) run through the plan matches mco_model_predict within 1e-5;
 *   - fused and unfused plans give identical output bytes (float, int8),
 *     and the fused int8 plan never holds the conv output (smaller arena);
 *   - int8-weights-only (hybrid) plans stay close to the float model;
 *   - mco_deploy_evaluate does not depend on the thread count;
 *   - a kernel's scratch lives in the arena during its op only, and a 1x1
 *     conv runs in place over its input (smaller arena, same bytes);
 *   - mco_emit_c writes the expected files (kernels called directly, no
 *     mco_op.c dispatcher; the arena leaves out the caller-held input).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mcuopt/arch.h"
#include "mco_runtime.h"
#include "mcuopt/op.h"
#include "mcuopt/codegen.h"
#include "mcuopt/deploy.h"
#include "mcuopt/file_util.h"
#include "mcuopt/resource_calibration.h"
#include "mcuopt/train.h"
#include "test_fixtures.h"

static uint32_t rng_state = 12345u;
static uint32_t next_rand(void)
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return rng_state >> 8;
}

static int lifetimes_overlap(int f1, int l1, int f2, int l2) { return f1 <= l2 && f2 <= l1; }

static void check_plan_valid(int n, const uint32_t *sizes, const int *first, const int *last, const uint32_t *off,
                             uint32_t arena)
{
    for (int i = 0; i < n; i++) {
        CHECK(off[i] % 4 == 0);
        CHECK(off[i] + sizes[i] <= arena);
        for (int j = i + 1; j < n; j++)
            if (lifetimes_overlap(first[i], last[i], first[j], last[j]))
                CHECK(off[i] + sizes[i] <= off[j] || off[j] + sizes[j] <= off[i]);
    }
}

static void test_memory_planner(void)
{
    /* A chain a -> b -> c: a and c never live together and share memory. */
    uint32_t sizes[3] = {100, 64, 100}, off[3], arena;
    int first[3] = {-1, 0, 1}, last[3] = {0, 1, 2};
    CHECK_OK(mco_memory_plan(3, sizes, first, last, off, &arena));
    CHECK(off[0] == off[2]);
    CHECK(arena == 164);
    check_plan_valid(3, sizes, first, last, off, arena);

    for (int trial = 0; trial < 200; trial++) {
        enum { N = 12 };
        uint32_t s[N], o[N], total = 0, a;
        int f[N], l[N];
        for (int i = 0; i < N; i++) {
            s[i] = 1 + next_rand() % 500;
            f[i] = (int)(next_rand() % 10);
            l[i] = f[i] + (int)(next_rand() % 4);
            total += (s[i] + 3u) & ~3u;
        }
        CHECK_OK(mco_memory_plan(N, s, f, l, o, &a));
        check_plan_valid(N, s, f, l, o, a);
        CHECK(a <= total);
    }
}

static mco_status make_model(const char *arch, mco_model *m)
{
    mco_shape none = {0, 0, 0};
    mco_status st = mco_arch_load(arch, none, 0, m);
    if (st != MCO_OK) return st;
    m->norm = (mco_normalization){1.0f / 255.0f, 0.0f, 1.0f};
    if ((st = mco_model_alloc_params(m)) != MCO_OK) return st;
    mco_model_init_params(m, 7);
    /* non-zero biases so they are exercised */
    for (int i = 0; i < m->n_layers; i++)
        if (m->layers[i].n_params > 1)
            for (size_t k = 0; k < m->layers[i].params[1].size; k++)
                m->layers[i].params[1].data[k] = 0.01f * (float)((int)(next_rand() % 21) - 10);
    return MCO_OK;
}

static void make_dataset(mco_dataset *ds, int n)
{
    memset(ds, 0, sizeof *ds);
    snprintf(ds->name, sizeof ds->name, "random");
    ds->n = n;
    ds->shape = (mco_shape){28, 28, 1};
    ds->n_classes = 10;
    ds->samples_u8 = malloc((size_t)n * 784);
    ds->labels = malloc((size_t)n);
    for (int i = 0; i < n * 784; i++) ds->samples_u8[i] = (uint8_t)(next_rand() % 256);
    for (int i = 0; i < n; i++) ds->labels[i] = (uint8_t)(next_rand() % 10);
}

/* Runs both plans on a few samples; returns 1 if every output byte agrees. */
static int plans_agree(const mco_deploy_model *dm, const mco_plan *a, const mco_plan *b, const mco_dataset *ds)
{
    int n = 5, same = 1;
    uint8_t *out_a = malloc((size_t)n * a->output_bytes), *out_b = malloc((size_t)n * b->output_bytes);
    CHECK_OK(mco_deploy_predict_raw(dm, a, ds->samples_u8, n, NULL, out_a));
    CHECK_OK(mco_deploy_predict_raw(dm, b, ds->samples_u8, n, NULL, out_b));
    same = a->output_bytes == b->output_bytes && memcmp(out_a, out_b, (size_t)n * a->output_bytes) == 0;
    free(out_a);
    free(out_b);
    return same;
}

static void test_float_plan(const mco_model *m, const mco_dataset *ds)
{
    mco_deploy_model dm;
    CHECK_OK(mco_deploy_from_float(m, &dm));
    mco_plan plan, unfused;
    mco_plan_options opt;
    mco_plan_options_default(&opt);
    CHECK_OK(mco_plan_build(&dm, &opt, &plan));
    opt.fuse_conv_pool = 0;
    opt.fuse_activations = 0;
    CHECK_OK(mco_plan_build(&dm, &opt, &unfused));
    CHECK(plan.n_ops == 2);       /* conv+relu+pool, dense */
    CHECK(unfused.n_ops == 4);    /* conv, relu (in place), pool, dense */
    CHECK(plan.input_type == MCO_ELEM_F32 && plan.output_size == 10);

    float in[784], ref[10], out[10];
    mco_normalize_input(&m->norm, ds->samples_u8, 784, in);
    CHECK_OK(mco_model_predict(m, in, 1, ref));
    uint8_t *arena = aligned_alloc(16, (plan.arena_size + 15u) & ~15u);
    CHECK_OK(mco_plan_run(&plan, arena, in, out));
    for (int i = 0; i < 10; i++) CHECK_NEAR(out[i], ref[i], 1e-5);
    free(arena);
    CHECK(plans_agree(&dm, &plan, &unfused, ds));

    /* evaluation does not depend on the thread count */
    mco_eval_result r1, r2;
    CHECK_OK(mco_deploy_evaluate(&dm, ds, 1, &r1));
    CHECK_OK(mco_deploy_evaluate(&dm, ds, 3, &r2));
    CHECK(r1.correct == r2.correct && r1.loss == r2.loss && r1.n == ds->n);
    CHECK(memcmp(r1.confusion, r2.confusion, 100 * sizeof(int)) == 0);
    mco_eval_result re;
    CHECK_OK(mco_evaluate(m, ds, 1, &re));
    CHECK(re.correct == r1.correct);
    CHECK_NEAR(re.loss, r1.loss, 1e-4);
    mco_eval_result_free(&r1);
    mco_eval_result_free(&r2);
    mco_eval_result_free(&re);

    mco_plan_free(&plan);
    mco_plan_free(&unfused);
    mco_deploy_free(&dm);
}

static void test_int8_plan(const mco_model *m, const mco_dataset *ds)
{
    mco_quant_options qo;
    mco_quant_options_default(&qo);
    qo.activation_format = MCO_ACT_S8;
    qo.weight_format = MCO_WEIGHTS_S8;
    qo.calibration_samples = 50;
    qo.threads = 1;
    mco_deploy_model dm;
    CHECK_OK(mco_quantize(m, ds, &qo, &dm));
    mco_plan plan, unfused;
    mco_plan_options opt;
    mco_plan_options_default(&opt);
    CHECK_OK(mco_plan_build(&dm, &opt, &plan));
    opt.fuse_conv_pool = 0;
    opt.fuse_activations = 0;
    CHECK_OK(mco_plan_build(&dm, &opt, &unfused));
    CHECK(plan.input_type == MCO_ELEM_S8 && plan.output_type == MCO_ELEM_S8);
    CHECK(plan.arena_size < 26 * 26 * 12);      /* the conv output is never held */
    CHECK(unfused.arena_size >= 26 * 26 * 12);
    CHECK(plans_agree(&dm, &plan, &unfused, ds));
    /* the specialised 3x3 conv reads prepared words, no multiplier / shift arrays */
    int conv3x3 = 0;
    for (int k = 0; k < plan.n_ops; k++) {
        const mco_op *op = &((const mco_op *)plan.ops)[k];
        if (op->kind != MCO_OP_CONV3X3_MAXPOOL_S8) continue;
        conv3x3++;
        CHECK(((const mco_conv_s8_params *)op->params)->multiplier == NULL);
        CHECK(plan.info[k].bias_count == (size_t)plan.info[k].n_channels * MCO_CONV3X3_REQUANT_WORDS);
    }
    CHECK(conv3x3 == 1);

    /* the input of MNIST-like data is raw - 128 */
    int8_t q[784];
    mco_deploy_prepare_input(&dm, MCO_SAMPLE_U8, ds->samples_u8, q);
    if (dm.input.zero_point == -128 && dm.input.scale == 1.0f / 255.0f)
        for (int i = 0; i < 784; i++) CHECK(q[i] == (int)ds->samples_u8[i] - 128);

    mco_eval_result r;
    CHECK_OK(mco_deploy_evaluate(&dm, ds, 2, &r));
    CHECK(r.n == ds->n);
    mco_eval_result_free(&r);

    /* emit (no cross compile here; tests/codegen_compile.sh does that) */
    mco_emit_options eo;
    mco_emit_options_default(&eo);
    eo.ctx = test_context();
    eo.measure = 0;
    mco_emit_result res;
    char dir[] = "/tmp/mco-test-codegen-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    /* the example runs 1 to MCO_EMIT_EXAMPLE_INPUTS_MAX built-in inputs */
    eo.example_inputs = 0;
    CHECK(mco_emit_c_with(&dm, &plan, dir, &eo, &res) == MCO_ERR_ARG);
    eo.example_inputs = MCO_EMIT_EXAMPLE_INPUTS_MAX + 1;
    CHECK(mco_emit_c_with(&dm, &plan, dir, &eo, &res) == MCO_ERR_ARG);
    eo.example_inputs = 1;
    CHECK_OK(mco_emit_c_with(&dm, &plan, dir, &eo, &res));
    int has_model_c = 0, has_conv_pool = 0, has_float_conv = 0, has_dispatcher = 0, has_config = 0;
    /* the package: these files at the top, the runtime's in mcuopt_runtime/, nothing else */
    const char *package[] = {"model.h", "model.c", "README.md", "CMakeLists.txt", "model.mk", "example/main.c"};
    int found[6] = {0};
    for (int i = 0; i < res.n_files; i++) {
        const char *rt = strncmp(res.files[i], "mcuopt_runtime/", 15) == 0 ? res.files[i] + 15 : NULL;
        int known = rt != NULL;
        for (int k = 0; k < 6; k++)
            if (strcmp(res.files[i], package[k]) == 0) known = ++found[k];
        CHECK(known);
        if (!rt) rt = "";
        has_model_c |= strcmp(res.files[i], "model.c") == 0;
        has_dispatcher |= strcmp(rt, "mco_op.c") == 0 || strcmp(rt, "mco_op_config.h") == 0;
        has_conv_pool |= strcmp(rt, "mco_conv2d_maxpool2x2_s8.c") == 0 || strcmp(rt, "mco_conv3x3_maxpool2x2_s8.c") == 0;
        has_float_conv |= strcmp(rt, "mco_conv2d_f32.c") == 0;
        char path[200];
        snprintf(path, sizeof path, "%s/%s", dir, res.files[i]);
        if (strcmp(rt, "mco_config.h") == 0) {
            /* written for this plan, not copied: small shifts and bounded sums
             * allow the 32-bit requantization */
            char text[2048] = "";
            FILE *f = fopen(path, "r");
            CHECK(f != NULL);
            if (f) {
                size_t n = fread(text, 1, sizeof text - 1, f);
                text[n] = '\0';
                fclose(f);
            }
            CHECK(strstr(text, "mcuopt emit") != NULL && strstr(text, "#define MCO_REQUANT_FAST 1") != NULL);
            /* its one Dense layer has 10 units: the two-unit pass is left out */
            CHECK(strstr(text, "#define MCO_FC_WIDE_ONLY 1") != NULL);
            /* and two passes over its inputs are too few word-loop turns to
             * pay for the Dense loop's unrolled copy */
            CHECK(strstr(text, "#define MCO_FC_UNROLL 0") != NULL);
            has_config = 1;
        }
    }
    for (int k = 0; k < 6; k++) CHECK(found[k] == 1);
    mco_remove_tree(dir);
    CHECK(has_model_c && has_conv_pool && !has_float_conv && has_config);
    CHECK(!has_dispatcher);   /* model_run calls the kernels directly */
    /* the caller's buffers hold the model input and output, so the emitted
     * arena is the plan's without the (largest-first placed) input image */
    CHECK(res.arena_bytes > 0 && res.arena_bytes < plan.arena_size);
    CHECK(res.arena_bytes <= plan.arena_size - plan.input_bytes);
    CHECK(res.weight_bytes == plan.param_bytes);

    mco_plan_free(&plan);
    mco_plan_free(&unfused);
    mco_deploy_free(&dm);
}

static void test_hybrid_plan(const mco_model *m, const mco_dataset *ds)
{
    mco_quant_options qo;
    mco_quant_options_default(&qo);
    qo.activation_format = MCO_ACT_F32;
    qo.weight_format = MCO_WEIGHTS_S8;
    mco_deploy_model dm;
    CHECK_OK(mco_quantize(m, NULL, &qo, &dm));
    mco_plan plan;
    CHECK_OK(mco_plan_build(&dm, NULL, &plan));
    CHECK(plan.n_ops == 3);   /* hybrid conv (+relu), max pool, dense: no fused hybrid conv+pool */
    float in[784], ref[10], out[10];
    mco_normalize_input(&m->norm, ds->samples_u8, 784, in);
    CHECK_OK(mco_model_predict(m, in, 1, ref));
    uint8_t *arena = aligned_alloc(16, (plan.arena_size + 15u) & ~15u);
    CHECK_OK(mco_plan_run(&plan, arena, in, out));
    for (int i = 0; i < 10; i++) CHECK_NEAR(out[i], ref[i], 0.05 + 0.02 * fabs(ref[i]));
    free(arena);
    mco_plan_free(&plan);
    mco_deploy_free(&dm);
}

/* A kernel's scratch is an arena tensor alive during its op only, and a 1x1
 * conv with no more output than input channels writes over its input: the
 * plan on the blocked kernels needs less arena than the one on the general
 * kernel, and gives the same bytes. */
static void test_scratch_and_in_place(void)
{
    static const char arch[] = "input 8 8 2\n"
                               "conv2d filters=16 kernel=3 padding=same\n"
                               "relu\n"
                               "conv2d filters=12 kernel=1\n"
                               "relu\n"
                               "flatten\n"
                               "dense units=10\n";
    char path[] = "/tmp/mco-test-codegen-arch-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0) return;
    CHECK(write(fd, arch, sizeof arch - 1) == (ssize_t)(sizeof arch - 1));
    close(fd);
    mco_deploy_model dm;
    mco_status st = mco_resource_random_model(path, "int8", 7u, &dm);
    unlink(path);
    CHECK_OK(st);
    if (st != MCO_OK) return;
    static const mco_op_kind blocked[] = {MCO_OP_CONV1X1_S8, MCO_OP_CONV2D_IM2COL_S8}, general[] = {MCO_OP_CONV2D_S8};
    mco_plan_options po;
    mco_plan_options_default(&po);
    mco_plan pb, pg;
    po.prefer = blocked;
    po.n_prefer = 2;
    CHECK_OK(mco_plan_build(&dm, &po, &pb));
    po.prefer = general;
    po.n_prefer = 1;
    CHECK_OK(mco_plan_build(&dm, &po, &pg));
    CHECK(pb.n_ops == 3 && pg.n_ops == 3);
    if (pb.n_ops == 3 && pg.n_ops == 3) {
        CHECK(pb.ops[0].kind == MCO_OP_CONV2D_IM2COL_S8 && pb.ops[1].kind == MCO_OP_CONV1X1_S8);
        /* the 1x1 conv's output overlays its input; its scratch is 8 x 16 bytes */
        const mco_plan_op_info *pw = &pb.info[1];
        CHECK(pb.tensors[pw->output_tensor].overlays == pw->input_tensor);
        CHECK(pb.ops[1].output == pb.ops[1].input);
        CHECK(pw->scratch_tensor >= 0 && pb.ops[1].scratch_bytes == 8 * 16);
        if (pw->scratch_tensor >= 0) {
            const mco_plan_tensor *t = &pb.tensors[pw->scratch_tensor];
            CHECK(t->first_op == 1 && t->last_op == 1 && t->bytes == 8 * 16);
        }
        /* 8x8x16 + its scratch at most, against the general plan's 8x8x16 + 8x8x12 */
        CHECK(pb.arena_size <= 8 * 8 * 16 + 9 * 3 * 3 * 16);
        CHECK(pg.arena_size >= 8 * 8 * 16 + 8 * 8 * 12);
        enum { N = 4 };
        uint8_t raw[N * 8 * 8 * 2];
        for (size_t i = 0; i < sizeof raw; i++) raw[i] = (uint8_t)(next_rand() >> 3);
        int8_t ob[N * 10], og[N * 10];
        CHECK_OK(mco_deploy_predict_raw(&dm, &pb, raw, N, NULL, ob));
        CHECK_OK(mco_deploy_predict_raw(&dm, &pg, raw, N, NULL, og));
        CHECK(memcmp(ob, og, sizeof ob) == 0);
    }
    mco_plan_free(&pb);
    mco_plan_free(&pg);
    mco_deploy_free(&dm);
}

int main(void)
{
    test_memory_planner();
    test_scratch_and_in_place();
    mco_model m;
    mco_dataset ds;
    make_dataset(&ds, 40);
    CHECK_OK(make_model("mnist-paper", &m));
    test_float_plan(&m, &ds);
    test_int8_plan(&m, &ds);
    test_hybrid_plan(&m, &ds);
    mco_model_free(&m);
    mco_dataset_free(&ds);
    TEST_MAIN_END();
}
