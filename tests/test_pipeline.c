/*
 * test_pipeline.c - the compression pipeline (pipeline.h):
 *   - parsing: valid strings (spaces, flags, order), config files with
 *     comments and continued lines, and every parse error (status and the
 *     word the message must name);
 *   - running on a 2,000-image MNIST subset (skipped without MNIST):
 *     finetune -> distill -> quant equals the same library calls made by
 *     hand, bit for bit; the stage order is respected (swapping two stages
 *     changes the result); a run repeats exactly; structured pruning shrinks
 *     the model; teacher=FILE equals the default teacher; a failing stage is
 *     named in the error; unstructured pruning (one-shot and gradual) keeps
 *     its zeros through later fine-tuning, distillation, int8 and QAT.
 */
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "mcuopt/arch.h"
#include "mcuopt/distill.h"
#include "mcuopt/model_file.h"
#include "mcuopt/pipeline.h"
#include "mcuopt/prune.h"
#include "test_fixtures.h"

/* ---- parsing ------------------------------------------------------------------ */

static void check_valid(void)
{
    mco_pipeline p;
    CHECK_OK(mco_pipeline_parse("prune:structured=0.5,criterion=l1 -> distill:T=4,alpha=0.1,epochs=2 -> quant:int8,per_channel",
                                "--stages", &p));
    CHECK(p.n_stages == 3);
    CHECK(strcmp(p.stages[0].kind, "prune") == 0 && strcmp(p.stages[1].kind, "distill") == 0 &&
          strcmp(p.stages[2].kind, "quant") == 0);
    CHECK(p.stages[0].n_params == 2 && strcmp(p.stages[0].params[0].key, "structured") == 0 &&
          strcmp(p.stages[0].params[0].value, "0.5") == 0 && strcmp(p.stages[0].params[1].key, "criterion") == 0);
    CHECK(p.stages[1].n_params == 3 && strcmp(p.stages[1].params[2].key, "epochs") == 0 &&
          strcmp(p.stages[1].params[2].value, "2") == 0);
    CHECK(p.stages[2].n_params == 2 && strcmp(p.stages[2].params[0].key, "int8") == 0 &&
          p.stages[2].params[0].value[0] == '\0');
    CHECK(strcmp(p.stages[1].text, "distill:T=4,alpha=0.1,epochs=2") == 0);
    CHECK(p.stages[2].index == 3 && strcmp(p.stages[2].where, "--stages") == 0);
    CHECK(mco_pipeline_makes_deploy(&p));

    /* spaces anywhere, stages without parameters, every quant option */
    CHECK_OK(mco_pipeline_parse("  finetune : epochs = 2 , lr=0.001->finetune->distill -> "
                                "quant: mode=int4, per_tensor, symmetric, calibration=percentile, percentile=99.9, samples=100",
                                "x", &p));
    CHECK(p.n_stages == 4 && strcmp(p.stages[0].text, "finetune:epochs=2,lr=0.001") == 0);
    CHECK(strcmp(p.stages[0].params[0].value, "2") == 0 && strcmp(p.stages[0].params[1].value, "0.001") == 0);
    CHECK(p.stages[1].n_params == 0 && p.stages[2].n_params == 0 && p.stages[3].n_params == 6);
    CHECK_OK(mco_pipeline_parse("prune:sparsity=0.8,initial=0.1,begin=10,end=500,frequency=50,power=2,global,epochs=2,lr=1e-4"
                                " -> distill:temperature=2,teacher=/tmp/t.mco -> qat:epochs=1,lr=1e-4,ema_decay=0.99,freeze=0.5",
                                "x", &p));
    CHECK(p.n_stages == 3 && strcmp(p.stages[1].params[1].value, "/tmp/t.mco") == 0 && p.stages[2].n_params == 4);
    CHECK(mco_pipeline_makes_deploy(&p));
    CHECK_OK(mco_pipeline_parse("finetune -> distill", "x", &p));
    CHECK(!mco_pipeline_makes_deploy(&p));

    /* a config file: comments, blank lines, one stage a line, a line ending in "->" continues */
    const char *cfg = "# compress mnist-paper\n"
                      "\n"
                      "prune: structured=0.5, criterion=l2   # half the filters\n"
                      "distill: T=4, alpha=0.1, epochs=3 ->\n"
                      "   finetune: epochs=1\n"
                      "quant: int8\n";
    char path[] = "/tmp/test_pipeline_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd >= 0) {
        CHECK(write(fd, cfg, strlen(cfg)) == (ssize_t)strlen(cfg));
        close(fd);
        CHECK_OK(mco_pipeline_load(path, &p));
        CHECK(p.n_stages == 4 && strcmp(p.stages[3].kind, "quant") == 0 &&
              strcmp(p.stages[0].params[1].value, "l2") == 0);
        char where[128];
        snprintf(where, sizeof where, "%s:5", path);
        CHECK(strcmp(p.stages[2].where, where) == 0);
        unlink(path);
    }
    CHECK(mco_pipeline_load("/nonexistent/stages.txt", &p) == MCO_ERR_IO);

    /* the stage table */
    CHECK(mco_stage_kind_count() == 5);
    for (int i = 0; i < mco_stage_kind_count(); i++)
        CHECK(mco_stage_kind_name(i) && mco_stage_kind_summary(i) && mco_stage_kind_keys(i));
    CHECK(mco_stage_kind_name(5) == NULL);
    mco_quant_options q;
    mco_quant_options_default(&q);
    CHECK_OK(mco_quant_mode_parse("int8-weights", &q));
    CHECK(q.activation_format == MCO_ACT_F32 && q.weight_format == MCO_WEIGHTS_S8);
    CHECK(mco_quant_mode_parse("int3", &q) == MCO_ERR_ARG);
}

typedef struct {
    const char *text;
    mco_status status;
    const char *message;   /* must occur in the error message */
} bad_case;

static void check_errors(void)
{
    static const bad_case cases[] = {
        {"", MCO_ERR_ARG, "no stages"},
        {"  # only a comment\n\n", MCO_ERR_ARG, "no stages"},
        {"-> quant:int8", MCO_ERR_ARG, "no stage before"},
        {"finetune -> -> quant:int8", MCO_ERR_ARG, "no stage before"},
        {"finetune ->", MCO_ERR_ARG, "no stage after"},
        {"prun:sparsity=0.5", MCO_ERR_ARG, "unknown stage 'prun' (known: prune, distill, qat, finetune, quant)"},
        {"finetune -> Quant:int8", MCO_ERR_ARG, "stage 2: unknown stage 'Quant'"},
        {"finetune:", MCO_ERR_ARG, "nothing after ':'"},
        {"finetune:epochs=1,,lr=1", MCO_ERR_ARG, "empty parameter"},
        {"finetune:epochs=1,", MCO_ERR_ARG, "empty parameter"},
        {"finetune:=3", MCO_ERR_ARG, "no name"},
        {"finetune:epochs=", MCO_ERR_ARG, "'epochs' has no value"},
        {"finetune:epochs=1,epochs=2", MCO_ERR_ARG, "'epochs' is given twice"},
        {"finetune:epochs=two", MCO_ERR_ARG, "epochs expects a whole number, not 'two'"},
        {"finetune:epochs=-1", MCO_ERR_RANGE, "epochs=-1 is outside"},
        {"finetune:lr=0", MCO_ERR_RANGE, "lr=0 is outside"},
        {"finetune:lr=abc", MCO_ERR_ARG, "lr expects a number"},
        {"finetune:foo=1", MCO_ERR_ARG, "stage 1 (finetune): unknown parameter 'foo' (known: epochs, lr)"},
        {"finetune:epochs", MCO_ERR_ARG, "'epochs' needs a value"},
        {"distill:beta=1", MCO_ERR_ARG, "unknown parameter 'beta' (known: T, temperature, alpha, epochs, lr, teacher)"},
        {"distill:alpha=1.5", MCO_ERR_RANGE, "alpha=1.5"},
        {"distill:T=0", MCO_ERR_RANGE, "T=0"},
        {"distill:int8", MCO_ERR_ARG, "unknown parameter 'int8'"},
        {"qat:T=4", MCO_ERR_ARG, "stage 1 (qat): unknown parameter 'T' (known: epochs, lr, ema_decay, freeze)"},
        {"prune:criterion=l1", MCO_ERR_ARG, "needs sparsity=S (unstructured) or structured=R"},
        {"prune:structured=0.5,sparsity=0.5", MCO_ERR_ARG, "not both"},
        {"prune:structured=1", MCO_ERR_RANGE, "structured=1"},
        {"prune:structured=0.5,criterion=l7", MCO_ERR_ARG, "criterion must be l1, l2, apoz or mean-activation, not 'l7'"},
        {"prune:sparsity=0.5,criterion=l1", MCO_ERR_ARG, "criterion applies to structured pruning (structured=R) only"},
        {"prune:structured=0.5,frequency=10", MCO_ERR_ARG, "frequency applies to unstructured pruning (sparsity=S) only"},
        {"prune:structured=0.5,global", MCO_ERR_ARG, "global applies to unstructured"},
        {"prune:sparsity=0.5,global=1", MCO_ERR_ARG, "'global' is a flag"},
        {"prune:sparsity=0.5,begin=20,end=10", MCO_ERR_ARG, "end=10 must be after begin=20"},
        {"prune:sparsity=0.5,frequency=0", MCO_ERR_RANGE, "frequency must be >= 1"},
        {"prune:sparsity=1.5", MCO_ERR_RANGE, "sparsity=1.5"},
        {"prune:sparsity", MCO_ERR_ARG, "'sparsity' needs a value"},
        {"qat:epochs=0", MCO_ERR_RANGE, "epochs=0"},
        {"qat:ema_decay=1", MCO_ERR_RANGE, "ema_decay=1"},
        {"qat -> quant:int8", MCO_ERR_ARG, "stage 2 (quant): cannot follow stage 1 (qat)"},
        {"prune:structured=0.5,samples=0", MCO_ERR_RANGE, "samples=0"},
        {"quant", MCO_ERR_ARG, "needs a mode"},
        {"quant:per_channel", MCO_ERR_ARG, "needs a mode"},
        {"quant:int8,int4", MCO_ERR_ARG, "more than one quantization mode"},
        {"quant:int9", MCO_ERR_ARG, "unknown parameter 'int9'"},
        {"quant:mode=int9", MCO_ERR_ARG, "mode must be"},
        {"quant:mode", MCO_ERR_ARG, "'mode' needs a value"},
        {"quant:int8,per_channel,per_tensor", MCO_ERR_ARG, "one of per_channel and per_tensor"},
        {"quant:int8,calibration=foo", MCO_ERR_ARG, "calibration must be minmax, percentile or mse, not 'foo'"},
        {"quant:int8,per_channel=1", MCO_ERR_ARG, "'per_channel' is a flag"},
        {"quant:int8,percentile=101", MCO_ERR_RANGE, "percentile=101"},
        {"quant:int8 -> finetune", MCO_ERR_ARG, "stage 2 (finetune): cannot follow stage 1 (quant)"},
        {"finetune:epochs=1\nfinetune:epochz=1\n", MCO_ERR_ARG, "cfg:2: stage 2 (finetune): unknown parameter 'epochz'"},
        {"finetune:abcdefghijabcdefghijabcdefghijabcdefghij=1", MCO_ERR_RANGE, "too long"},
        {"finetune:a=1,b=2,c=3,d=4,e=5,f=6,g=7,h=8,i=9,j=10,k=11,l=12,m=13", MCO_ERR_RANGE, "more than 12 parameters"},
        {"finetune->finetune->finetune->finetune->finetune->finetune->finetune->finetune->"
         "finetune->finetune->finetune->finetune->finetune->finetune->finetune->finetune->finetune",
         MCO_ERR_RANGE, "more than 16 stages"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mco_pipeline p;
        mco_clear_error();
        mco_status st = mco_pipeline_parse(cases[i].text, "cfg", &p);
        const char *message = mco_last_error();
        if (st != cases[i].status || !strstr(message, cases[i].message)) {
            fprintf(stderr, "case '%s': got %s '%s', expected %s with '%s'\n", cases[i].text, mco_status_string(st),
                    message, mco_status_string(cases[i].status), cases[i].message);
            test_failures++;
        }
        CHECK(strchr(message, '\n') == NULL);
    }
}

/* ---- running -------------------------------------------------------------------- */

typedef struct {
    mco_dataset train, test;
    mco_model model;     /* mnist-paper trained for two epochs on `train` */
} fixture;

static mco_pipeline_options base_options(const fixture *f)
{
    mco_pipeline_options opt;
    mco_pipeline_options_default(&opt);
    opt.measure.ctx = test_context();
    opt.train = &f->train;
    opt.test = &f->test;
    opt.train_options.epochs = 1;
    opt.train_options.threads = 2;
    return opt;
}

static int same_deploy(const mco_deploy_model *a, const mco_deploy_model *b)
{
    if (a->model.n_layers != b->model.n_layers) return 0;
    for (int l = 0; l < a->model.n_layers; l++) {
        const mco_deploy_layer *x = &a->layers[l], *y = &b->layers[l];
        const mco_layer *layer = &a->model.layers[l];
        if (x->n_channels != y->n_channels) return 0;
        if (x->weights_q && (!y->weights_q || memcmp(x->weights_q, y->weights_q, layer->params[0].size) != 0)) return 0;
        if (x->bias_q && (!y->bias_q || memcmp(x->bias_q, y->bias_q, (size_t)x->n_channels * sizeof(int32_t)) != 0))
            return 0;
    }
    return 1;
}

typedef struct {
    int calls;
    int order_ok;
} stage_calls;

static void count_stage(void *user, int index, const mco_stage_report *r)
{
    stage_calls *c = user;
    c->order_ok &= index == c->calls && r->stage[0] != '\0';
    c->calls++;
}

static void check_matches_manual(const fixture *f)
{
    const char *text = "finetune:epochs=1,lr=0.001 -> distill:T=3,alpha=0.5,epochs=1 -> quant:int8";
    mco_pipeline p;
    CHECK_OK(mco_pipeline_parse(text, "--stages", &p));
    mco_pipeline_options opt = base_options(f);
    stage_calls calls = {0, 1};
    opt.on_stage = count_stage;
    opt.on_stage_user = &calls;
    mco_pipeline_result res;
    CHECK_OK(mco_pipeline_run(&p, &f->model, &opt, &res));
    CHECK(calls.calls == 4 && calls.order_ok);
    CHECK(res.n_reports == 4 && res.is_deploy);
    CHECK(strcmp(res.reports[0].stage, "input") == 0 && strcmp(res.reports[1].stage, "finetune:epochs=1,lr=0.001") == 0 &&
          strcmp(res.reports[2].stage, "distill:T=3,alpha=0.5,epochs=1") == 0 &&
          strcmp(res.reports[3].stage, "quant:int8") == 0);
    CHECK(!res.reports[2].is_deploy && res.reports[3].is_deploy);
    CHECK(res.reports[3].weight_bytes < res.reports[2].weight_bytes / 3);
    for (int i = 0; i < res.n_reports; i++) {
        printf("  %-34s accuracy %.4f  weights %6zu bytes  %5.2f s  %s\n", res.reports[i].stage,
               res.reports[i].accuracy, res.reports[i].weight_bytes, res.reports[i].seconds, res.reports[i].variant);
        CHECK(res.reports[i].accuracy > 0.8 && !res.reports[i].measured);
    }

    /* the same by hand */
    mco_model m;
    CHECK_OK(mco_model_clone(&f->model, &m));
    mco_train_options to = opt.train_options;
    to.learning_rate = 0.001f;
    mco_train_result tr;
    CHECK_OK(mco_train(&m, &f->train, NULL, &to, &tr));
    float *logits = NULL;
    CHECK_OK(mco_teacher_logits_float(&f->model, &f->train, 1, &logits));
    mco_distill_options dopt;
    dopt.train = opt.train_options;
    dopt.alpha = 0.5f;
    dopt.temperature = 3.0f;
    CHECK_OK(mco_distill(&m, logits, &f->train, NULL, &dopt, &tr));
    mco_quant_options qopt;
    mco_quant_options_default(&qopt);
    qopt.threads = 2;
    mco_deploy_model dm;
    CHECK_OK(mco_quantize(&m, &f->train, &qopt, &dm));
    CHECK(same_deploy(&dm, &res.deploy));
    mco_eval_result e;
    CHECK_OK(mco_deploy_evaluate(&dm, &f->test, 2, &e));
    CHECK(e.accuracy == res.reports[3].accuracy);
    mco_eval_result_free(&e);

    /* a run repeats exactly */
    mco_pipeline_result again;
    opt.on_stage = NULL;
    CHECK_OK(mco_pipeline_run(&p, &f->model, &opt, &again));
    CHECK(same_deploy(&again.deploy, &res.deploy));
    for (int i = 0; i < res.n_reports; i++) CHECK(again.reports[i].accuracy == res.reports[i].accuracy);

    /* the order matters: distill before finetune is another model */
    mco_pipeline swapped;
    CHECK_OK(mco_pipeline_parse("distill:T=3,alpha=0.5,epochs=1 -> finetune:epochs=1,lr=0.001 -> quant:int8", "x", &swapped));
    mco_pipeline_result other;
    CHECK_OK(mco_pipeline_run(&swapped, &f->model, &opt, &other));
    CHECK(!same_deploy(&other.deploy, &res.deploy));

    free(logits);
    mco_deploy_free(&dm);
    mco_model_free(&m);
    mco_pipeline_result_free(&res);
    mco_pipeline_result_free(&again);
    mco_pipeline_result_free(&other);
}

static void check_structured_and_teachers(const fixture *f)
{
    mco_pipeline_options opt = base_options(f);
    mco_pipeline p;
    mco_pipeline_result a, b;
    CHECK_OK(mco_pipeline_parse("prune:structured=0.5,criterion=l1 -> distill:T=4,alpha=0.1,epochs=1", "x", &p));
    CHECK_OK(mco_pipeline_run(&p, &f->model, &opt, &a));
    CHECK(!a.is_deploy && a.model.layers[0].units == 6);
    CHECK(a.reports[1].params == 6 * 9 + 6 + 13 * 13 * 6 * 10 + 10 && a.reports[0].params == 20410);
    CHECK(a.reports[1].weight_bytes < a.reports[0].weight_bytes);
    printf("  structured 0.5: %.4f after pruning, %.4f after distillation (input %.4f)\n", a.reports[1].accuracy,
           a.reports[2].accuracy, a.reports[0].accuracy);
    CHECK(a.reports[2].accuracy > 0.8);

    /* teacher=FILE with the input model is the default teacher */
    char path[] = "/tmp/test_pipeline_teacher_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    char mco_path[64], text[256];
    snprintf(mco_path, sizeof mco_path, "%s.mco", path);
    CHECK_OK(mco_model_save(&f->model, mco_path));
    snprintf(text, sizeof text, "prune:structured=0.5,criterion=l1 -> distill:T=4,alpha=0.1,epochs=1,teacher=%s", mco_path);
    CHECK_OK(mco_pipeline_parse(text, "x", &p));
    CHECK_OK(mco_pipeline_run(&p, &f->model, &opt, &b));
    int same = a.model.n_layers == b.model.n_layers;
    for (int l = 0; same && l < a.model.n_layers; l++)
        for (int k = 0; k < a.model.layers[l].n_params; k++)
            same &= memcmp(a.model.layers[l].params[k].data, b.model.layers[l].params[k].data,
                           a.model.layers[l].params[k].size * sizeof(float)) == 0;
    CHECK(same);
    mco_pipeline_result_free(&b);

    /* an int8 teacher file */
    mco_deploy_model q;
    mco_quant_options qopt;
    mco_quant_options_default(&qopt);
    CHECK_OK(mco_quantize(&f->model, &f->train, &qopt, &q));
    char mcq_path[64];
    snprintf(mcq_path, sizeof mcq_path, "%s.mcq", path);
    CHECK_OK(mco_deploy_save(&q, mcq_path));
    snprintf(text, sizeof text, "distill:epochs=1,alpha=0,teacher=%s", mcq_path);
    CHECK_OK(mco_pipeline_parse(text, "x", &p));
    CHECK_OK(mco_pipeline_run(&p, &f->model, &opt, &b));
    CHECK(b.reports[1].accuracy > 0.8);
    mco_pipeline_result_free(&b);
    mco_deploy_free(&q);

    /* a failing stage is named; nothing is left to free */
    CHECK_OK(mco_pipeline_parse("finetune:epochs=1 -> distill:teacher=/nonexistent/t.mco", "--stages", &p));
    CHECK(mco_pipeline_run(&p, &f->model, &opt, &b) == MCO_ERR_IO);
    CHECK(strstr(mco_last_error(), "--stages: stage 2 (distill): /nonexistent/t.mco") != NULL);
    CHECK(b.n_reports == 0);
    opt.train = NULL;
    CHECK(mco_pipeline_run(&p, &f->model, &opt, &b) == MCO_ERR_ARG);

    unlink(path);
    unlink(mco_path);
    unlink(mcq_path);
    mco_pipeline_result_free(&a);
}

/* Fraction of zeros among the int8 weights of a deploy model. */
static double deploy_zero_fraction(const mco_deploy_model *dm)
{
    size_t zeros = 0, total = 0;
    for (int l = 0; l < dm->model.n_layers; l++) {
        if (!dm->layers[l].weights_q) continue;
        size_t n = dm->model.layers[l].params[MCO_PARAM_WEIGHTS].size;
        for (size_t i = 0; i < n; i++) zeros += dm->layers[l].weights_q[i] == 0;
        total += n;
    }
    return total ? (double)zeros / (double)total : 0.0;
}

static void check_sparsity_and_qat(const fixture *f)
{
    mco_pipeline_options opt = base_options(f);
    mco_pipeline p;
    mco_pipeline_result r;

    /* one-shot: exactly half the weights of each layer */
    CHECK_OK(mco_pipeline_parse("prune:sparsity=0.5", "x", &p));
    CHECK_OK(mco_pipeline_run(&p, &f->model, &opt, &r));
    CHECK_NEAR(mco_model_sparsity(&r.model, NULL), 0.5, 1e-3);
    CHECK(r.reports[1].nonzero_params < r.reports[0].nonzero_params * 6 / 10);
    mco_pipeline_result_free(&r);

    /* gradual during one epoch, then fine-tuning and distillation keep the zeros, and int8 keeps them */
    CHECK_OK(mco_pipeline_parse("prune:sparsity=0.75,frequency=10,epochs=1 -> finetune:epochs=1 -> distill:epochs=1 -> quant:int8",
                                "x", &p));
    CHECK_OK(mco_pipeline_run(&p, &f->model, &opt, &r));
    CHECK(r.reports[1].nonzero_params == r.reports[2].nonzero_params &&
          r.reports[2].nonzero_params == r.reports[3].nonzero_params);
    double zeros = deploy_zero_fraction(&r.deploy);
    printf("  75 %% sparsity: accuracy %.4f pruned, %.4f fine-tuned, %.4f distilled, %.4f int8 (%.3f of int8 weights 0)\n",
           r.reports[1].accuracy, r.reports[2].accuracy, r.reports[3].accuracy, r.reports[4].accuracy, zeros);
    CHECK(zeros >= 0.75);
    CHECK(r.reports[4].accuracy > 0.8);
    mco_pipeline_result_free(&r);

    /* QAT makes the int8 deploy model; after pruning the zeros survive it */
    CHECK_OK(mco_pipeline_parse("prune:sparsity=0.5 -> qat:epochs=1", "x", &p));
    CHECK_OK(mco_pipeline_run(&p, &f->model, &opt, &r));
    CHECK(r.is_deploy && r.deploy.activation_format == MCO_ACT_S8 && r.reports[2].is_deploy);
    zeros = deploy_zero_fraction(&r.deploy);
    printf("  50 %% sparsity -> QAT: accuracy %.4f (%.3f of int8 weights 0)\n", r.reports[2].accuracy, zeros);
    CHECK(zeros >= 0.5);
    CHECK(r.reports[2].accuracy > 0.8);
    mco_pipeline_result_free(&r);
}

static int load_fixture(fixture *f)
{
    if (!test_load_mnist_subset(2000, 500, &f->train, &f->test, "pipeline runs on MNIST")) return 0;
    test_train_mnist_paper(&f->train, 2, &f->model);
    return 1;
}

int main(void)
{
    check_valid();
    check_errors();
    fixture f;
    if (load_fixture(&f)) {
        check_matches_manual(&f);
        check_structured_and_teachers(&f);
        check_sparsity_and_qat(&f);
        mco_model_free(&f.model);
        mco_dataset_free(&f.train);
        mco_dataset_free(&f.test);
    }
    TEST_MAIN_END();
}
