/*
 * test_sample_types.c - a data set of float32 samples, or without labels,
 * through every consumer of data sets (see mcuopt/data.h).
 *
 * The 8x8 "blobs" set (test_fixtures.h) is held twice: as raw uint8 pixels
 * and as float32 copies of the same values. With the same normalisation
 * both must give bit-identical network inputs, so training, evaluation and
 * the deploy evaluator must give bit-identical results on either. The
 * quantizer must take the int8 input grid of float32 data from the
 * calibrated input range (raw pixels keep q = raw - 128). A set without
 * labels is refused with one line by what needs labels (training,
 * accuracy) and accepted by what does not (calibration); QAT refuses
 * float32 samples. Copies (head, split) keep the sample type, the label
 * kind and the class names.
 *
 * What it leaves out: the readers that make such sets (test_data.c and
 * tests/data_readers.sh).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mcuopt/codegen.h"
#include "mcuopt/calibrate.h"
#include "mcuopt/data.h"
#include "mcuopt/deploy.h"
#include "mcuopt/qat.h"
#include "mcuopt/quant_rules.h"
#include "mcuopt/train.h"
#include "test_fixtures.h"
#include "test_util.h"

/* A float32 copy of a uint8 set: the same values, labels and names. */
static void float_copy(const mco_dataset *src, mco_dataset *out)
{
    size_t n = (size_t)src->n * mco_shape_size(src->shape);
    *out = *src;
    out->sample_type = MCO_SAMPLE_F32;
    out->samples_u8 = NULL;
    out->samples_f32 = malloc(n * sizeof(float));
    out->labels = malloc((size_t)src->n);
    out->class_names = NULL;
    for (size_t k = 0; k < n; k++) out->samples_f32[k] = (float)src->samples_u8[k];
    memcpy(out->labels, src->labels, (size_t)src->n);
}

static void blobs_model(mco_model *m)
{
    mco_model_init(m, (mco_shape){8, 8, 1});
    test_add_layer(m, MCO_LAYER_CONV2D, 4, 3, 1, 0.0f);
    test_add_layer(m, MCO_LAYER_RELU, 0, 0, 0, 0.0f);
    test_add_layer(m, MCO_LAYER_FLATTEN, 0, 0, 0, 0.0f);
    test_add_layer(m, MCO_LAYER_DENSE, 4, 0, 0, 0.0f);
    test_finish_blobs_model(m, 7);
}

static void check_fails_with(mco_status st, const char *needle)
{
    CHECK(st != MCO_OK);
    if (st != MCO_OK && !strstr(mco_last_error(), needle))
        fprintf(stderr, "error '%s' does not say '%s'\n", mco_last_error(), needle);
    CHECK(st != MCO_OK && strstr(mco_last_error(), needle) != NULL && !strchr(mco_last_error(), '\n'));
}

/* The same network inputs from both sample types, value for value. */
static void test_same_inputs(const mco_dataset *u8, const mco_dataset *f32, const mco_model *m)
{
    size_t size = mco_shape_size(u8->shape);
    int idx[3] = {5, 0, 17};
    float *a = malloc(3 * size * sizeof(float)), *b = malloc(3 * size * sizeof(float));
    mco_dataset_to_float(u8, &m->norm, idx, 0, 3, a);
    mco_dataset_to_float(f32, &m->norm, idx, 0, 3, b);
    CHECK(memcmp(a, b, 3 * size * sizeof(float)) == 0);
    /* The uint8 path gives exactly mco_normalize_input's values. */
    mco_normalize_input(&m->norm, u8->samples_u8 + 17 * size, size, b);
    CHECK(memcmp(a + 2 * size, b, size * sizeof(float)) == 0);
    free(a);
    free(b);
}

/* Training and evaluation give the same bits on either sample type. */
static void test_train_and_evaluate(const mco_dataset *u8, const mco_dataset *f32)
{
    mco_model a, b;
    blobs_model(&a);
    blobs_model(&b);
    mco_train_options opt;
    mco_train_options_default(&opt);
    opt.epochs = 2;
    opt.threads = 2;
    mco_train_result ra, rb;
    CHECK_OK(mco_train(&a, u8, NULL, &opt, &ra));
    CHECK_OK(mco_train(&b, f32, NULL, &opt, &rb));
    CHECK(test_same_params(&a, &b));
    mco_eval_result ea, eb;
    CHECK_OK(mco_evaluate(&a, u8, 2, &ea));
    CHECK_OK(mco_evaluate(&b, f32, 2, &eb));
    CHECK(ea.correct == eb.correct && ea.loss == eb.loss);
    CHECK(ea.accuracy > 0.5);   /* four classes: it did learn something */

    /* int8: raw pixels keep the exact grid; float32 samples get the
     * calibrated range of the normalised input. */
    mco_quant_options qo;
    mco_quant_options_default(&qo);
    qo.activation_format = MCO_ACT_S8;
    qo.weight_format = MCO_WEIGHTS_S8;
    mco_deploy_model da, db;
    CHECK_OK(mco_quantize(&a, u8, &qo, &da));
    CHECK_OK(mco_quantize(&b, f32, &qo, &db));
    mco_qparams raw_grid;
    CHECK_OK(mco_quant_input_qparams(&a.norm, &raw_grid));
    CHECK(da.input.scale == raw_grid.scale && da.input.zero_point == raw_grid.zero_point);
    float lo = ((float)u8->samples_u8[0] * a.norm.scale - a.norm.mean) / a.norm.std, hi = lo;
    for (int s = 0; s < (u8->n < qo.calibration_samples ? u8->n : qo.calibration_samples); s++)
        for (int k = 0; k < 64; k++) {
            float x = ((float)u8->samples_u8[(size_t)s * 64 + (size_t)k] * a.norm.scale - a.norm.mean) / a.norm.std;
            lo = fminf(lo, x);
            hi = fmaxf(hi, x);
        }
    mco_qparams want = mco_calib_qparams_from_range(lo, hi, 0);
    CHECK(db.input.scale == want.scale && db.input.zero_point == want.zero_point);

    /* The deploy evaluator runs both; the float32 model's input grid is
     * coarser than raw - 128 but the accuracy stays close. */
    mco_eval_result qa, qb;
    CHECK_OK(mco_deploy_evaluate(&da, u8, 2, &qa));
    CHECK_OK(mco_deploy_evaluate(&db, f32, 2, &qb));
    CHECK(fabs(qa.accuracy - ea.accuracy) < 0.05 && fabs(qb.accuracy - eb.accuracy) < 0.05);

    /* A float32 sample prepared for the int8 input: q = round(x / s) + zp. */
    int8_t q[64];
    mco_deploy_prepare_input(&db, MCO_SAMPLE_F32, f32->samples_f32 + 64, q);
    for (int k = 0; k < 64; k++) {
        double x = ((double)f32->samples_f32[64 + k] * a.norm.scale - a.norm.mean) / a.norm.std;
        double r = floor(x / db.input.scale + 0.5) + db.input.zero_point;
        CHECK(q[k] == (int8_t)(r < -128 ? -128 : r > 127 ? 127 : r));
    }

    /* QAT's input grid is that of raw pixels: float32 samples are refused. */
    mco_qat_ranges ranges;
    mco_qat_config cfg;
    mco_qat_config_default(&cfg);
    CHECK_OK(mco_qat_ranges_init(&ranges, &b));
    cfg.ranges = &ranges;
    opt.qat = &cfg;
    check_fails_with(mco_train(&b, f32, NULL, &opt, &rb), "QAT takes raw uint8 samples");
    mco_qat_ranges_free(&ranges);

    mco_eval_result_free(&ea);
    mco_eval_result_free(&eb);
    mco_eval_result_free(&qa);
    mco_eval_result_free(&qb);
    mco_deploy_free(&da);
    mco_deploy_free(&db);
    mco_model_free(&a);
    mco_model_free(&b);
}

/* A set without labels: refused by training and accuracy, fine for calibration. */
static void test_unlabelled(const mco_dataset *f32)
{
    mco_dataset none = *f32;
    none.label_kind = MCO_LABELS_NONE;
    none.labels = NULL;
    none.n_classes = 0;
    mco_model m;
    blobs_model(&m);
    mco_train_options opt;
    mco_train_options_default(&opt);
    opt.epochs = 1;
    mco_train_result tr;
    check_fails_with(mco_train(&m, &none, NULL, &opt, &tr), "has no class labels");
    mco_eval_result er;
    check_fails_with(mco_evaluate(&m, &none, 1, &er), "has no class labels");

    mco_quant_options qo;
    mco_quant_options_default(&qo);
    qo.activation_format = MCO_ACT_S8;
    qo.weight_format = MCO_WEIGHTS_S8;
    mco_deploy_model dm;
    CHECK_OK(mco_quantize(&m, &none, &qo, &dm));
    check_fails_with(mco_deploy_evaluate(&dm, &none, 1, &er), "has no class labels");
    mco_deploy_free(&dm);
    mco_model_free(&m);

    /* Copies keep the kind and the values. */
    mco_dataset head, train, val;
    CHECK_OK(mco_dataset_head(&none, 10, &head));
    CHECK(head.sample_type == MCO_SAMPLE_F32 && head.label_kind == MCO_LABELS_NONE && !head.labels &&
          !head.samples_u8 && memcmp(head.samples_f32, none.samples_f32, 10 * 64 * sizeof(float)) == 0);
    CHECK_OK(mco_dataset_split(&none, 7, 3, &train, &val));
    CHECK(train.n == none.n - 7 && val.n == 7 && val.label_kind == MCO_LABELS_NONE && val.samples_f32);
    mco_dataset_free(&head);
    mco_dataset_free(&train);
    mco_dataset_free(&val);
}

/* Copies of a labelled float32 set with class names keep all of it. */
static void test_copies_keep_names(const mco_dataset *f32)
{
    mco_dataset named = *f32;
    char (*names)[MCO_CLASS_NAME_MAX] = calloc(4, sizeof *names);
    strcpy(names[0], "north-west");
    strcpy(names[3], "south-east");
    named.class_names = names;
    mco_dataset train, val;
    CHECK_OK(mco_dataset_split(&named, 50, 9, &train, &val));
    CHECK(val.class_names && strcmp(val.class_names[3], "south-east") == 0 && val.class_names != names);
    CHECK(train.sample_type == MCO_SAMPLE_F32 && train.n_classes == 4);
    /* Every sample of the split is one of the source's, with its label. */
    int found = 0;
    for (int s = 0; s < named.n; s++)
        if (memcmp(named.samples_f32 + (size_t)s * 64, val.samples_f32, 64 * sizeof(float)) == 0 &&
            named.labels[s] == val.labels[0])
            found = 1;
    CHECK(found);
    mco_dataset_free(&train);
    mco_dataset_free(&val);
    free(names);
}

int main(void)
{
    mco_dataset u8, f32;
    test_make_blobs(&u8, 400, 11);
    float_copy(&u8, &f32);
    mco_model m;
    blobs_model(&m);
    CHECK(strcmp(mco_sample_type_name(MCO_SAMPLE_F32), "float32") == 0 && mco_sample_type_size(MCO_SAMPLE_F32) == 4);
    CHECK(mco_dataset_sample(&f32, 3) == f32.samples_f32 + 3 * 64 && mco_dataset_sample(&u8, 3) == u8.samples_u8 + 3 * 64);
    test_same_inputs(&u8, &f32, &m);
    mco_model_free(&m);
    test_train_and_evaluate(&u8, &f32);
    test_unlabelled(&f32);
    test_copies_keep_names(&f32);
    mco_dataset_free(&u8);
    mco_dataset_free(&f32);
    TEST_MAIN_END();
}
