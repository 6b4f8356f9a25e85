/*
 * test_prune_magnitude.c - unstructured magnitude pruning (prune.h):
 *   - the polynomial schedule at given steps against hand-computed values,
 *     and which steps update the masks;
 *   - one-shot per-layer pruning masks exactly round(s * n) weights per
 *     layer, the smallest ones; global pruning masks round(s * N) with one
 *     threshold over all layers (a layer of small weights loses more);
 *     excluded layers and biases are untouched;
 *   - fine-tuning a small CNN with the after_step hook: afterwards every
 *     masked weight is exactly 0, each layer is at exactly the target
 *     sparsity, weights masked at the first update are still 0 (masks only
 *     grow), and two runs with the same seed give identical parameters;
 *   - an already pruned model keeps its zeros through more training with
 *     mco_pruner_mask_zeros + mco_pruner_apply;
 *   - bad options are rejected.
 */
#include <stdint.h>
#include <string.h>

#include "mcuopt/data.h"
#include "mcuopt/graph.h"
#include "mcuopt/prune.h"
#include "mcuopt/train.h"
#include "test_fixtures.h"

/* conv 3x3 (6) -> relu -> maxpool 2 -> flatten -> dense 16 -> relu -> dense 4 */
static void small_cnn(mco_model *m, uint64_t seed)
{
    mco_model_init(m, (mco_shape){8, 8, 1});
    test_add_layer(m, MCO_LAYER_CONV2D, 6, 3, 1, 0);
    test_add_layer(m, MCO_LAYER_RELU, 0, 0, 0, 0);
    test_add_layer(m, MCO_LAYER_MAXPOOL2D, 0, 2, 2, 0);
    test_add_layer(m, MCO_LAYER_FLATTEN, 0, 0, 0, 0);
    test_add_layer(m, MCO_LAYER_DENSE, 16, 0, 0, 0);
    test_add_layer(m, MCO_LAYER_RELU, 0, 0, 0, 0);
    test_add_layer(m, MCO_LAYER_DENSE, 4, 0, 0, 0);
    test_finish_blobs_model(m, seed);
}

enum { CONV = 0, DENSE1 = 4, DENSE2 = 6 };
static const int weighted[3] = {CONV, DENSE1, DENSE2};

static const float *weights_of(const mco_model *m, int layer) { return m->layers[layer].params[MCO_PARAM_WEIGHTS].data; }
static size_t count_of(const mco_model *m, int layer) { return m->layers[layer].params[MCO_PARAM_WEIGHTS].size; }

static size_t zeros_in(const mco_model *m, int layer)
{
    size_t z = 0;
    for (size_t j = 0; j < count_of(m, layer); j++) z += weights_of(m, layer)[j] == 0.0f;
    return z;
}

/* Largest |w| among the zeroed weights of `before` and smallest |w| among
 * the kept ones, over the given layers. */
static void pruned_kept_range(const mco_model *before, const mco_model *after, const int *layers, int n,
                              float *max_pruned, float *min_kept)
{
    *max_pruned = 0.0f;
    *min_kept = 1e30f;
    for (int l = 0; l < n; l++)
        for (size_t j = 0; j < count_of(before, layers[l]); j++) {
            float mag = fabsf(weights_of(before, layers[l])[j]);
            if (weights_of(after, layers[l])[j] == 0.0f) {
                if (mag > *max_pruned) *max_pruned = mag;
            } else if (mag < *min_kept) {
                *min_kept = mag;
            }
        }
}

static size_t round_half_up(double x) { return (size_t)floor(x + 0.5); }

static void test_schedule(void)
{
    mco_prune_schedule s = {0.1f, 0.8f, 10, 110, 10, 3.0f};
    CHECK_NEAR(mco_prune_schedule_sparsity(&s, 10), 0.1, 1e-6);
    CHECK_NEAR(mco_prune_schedule_sparsity(&s, 0), 0.1, 1e-6);      /* before begin: the initial value */
    /* step 60: p = 0.5, 0.8 + (0.1 - 0.8) * 0.5^3 = 0.7125 */
    CHECK_NEAR(mco_prune_schedule_sparsity(&s, 60), 0.7125, 1e-6);
    /* step 35: p = 0.25, 0.8 - 0.7 * 0.421875 = 0.5046875 */
    CHECK_NEAR(mco_prune_schedule_sparsity(&s, 35), 0.5046875, 1e-6);
    /* step 100: p = 0.9, 0.8 - 0.7 * 0.001 = 0.7993 */
    CHECK_NEAR(mco_prune_schedule_sparsity(&s, 100), 0.7993, 1e-6);
    CHECK_NEAR(mco_prune_schedule_sparsity(&s, 110), 0.8, 1e-6);
    CHECK_NEAR(mco_prune_schedule_sparsity(&s, 500), 0.8, 1e-6);
    CHECK(mco_prune_schedule_updates_at(&s, 10));
    CHECK(mco_prune_schedule_updates_at(&s, 20));
    CHECK(mco_prune_schedule_updates_at(&s, 110));
    CHECK(!mco_prune_schedule_updates_at(&s, 9));
    CHECK(!mco_prune_schedule_updates_at(&s, 15));
    CHECK(!mco_prune_schedule_updates_at(&s, 120));
    /* the end step updates even off the frequency grid */
    mco_prune_schedule t = {0.0f, 0.5f, 0, 25, 10, 3.0f};
    CHECK(mco_prune_schedule_updates_at(&t, 20));
    CHECK(mco_prune_schedule_updates_at(&t, 25));
    CHECK(!mco_prune_schedule_updates_at(&t, 30));
    /* power 1: linear */
    mco_prune_schedule lin = {0.0f, 0.5f, 0, 100, 1, 1.0f};
    CHECK_NEAR(mco_prune_schedule_sparsity(&lin, 40), 0.2, 1e-6);
}

static void test_one_shot(void)
{
    mco_model orig, m;
    small_cnn(&orig, 7);
    /* make the first dense layer's weights 10x smaller, so a global threshold prunes it more */
    for (size_t j = 0; j < count_of(&orig, DENSE1); j++) orig.layers[DENSE1].params[MCO_PARAM_WEIGHTS].data[j] *= 0.1f;

    mco_prune_options opt;
    mco_prune_options_default(&opt);
    opt.schedule.target_sparsity = 0.6f;
    CHECK_OK(mco_model_clone(&orig, &m));
    CHECK_OK(mco_prune_apply_now(&m, &opt));
    mco_layer_sparsity per[16];
    double overall = mco_model_sparsity(&m, per);
    size_t total = 0, total_zeros = 0;
    for (int l = 0; l < 3; l++) {
        int i = weighted[l];
        CHECK(per[i].weights == count_of(&m, i));
        CHECK(per[i].zeros == round_half_up(0.6 * (double)count_of(&m, i)));
        CHECK(zeros_in(&m, i) == per[i].zeros);
        float max_pruned, min_kept;
        pruned_kept_range(&orig, &m, &i, 1, &max_pruned, &min_kept);
        CHECK(max_pruned <= min_kept);
        total += per[i].weights;
        total_zeros += per[i].zeros;
        /* biases untouched */
        CHECK(memcmp(m.layers[i].params[MCO_PARAM_BIAS].data, orig.layers[i].params[MCO_PARAM_BIAS].data,
                     m.layers[i].params[MCO_PARAM_BIAS].size * sizeof(float)) == 0);
    }
    CHECK(per[1].weights == 0 && per[2].weights == 0);
    CHECK_NEAR(overall, (double)total_zeros / (double)total, 1e-12);
    mco_model_free(&m);

    /* global: one threshold over all layers */
    opt.global = 1;
    CHECK_OK(mco_model_clone(&orig, &m));
    CHECK_OK(mco_prune_apply_now(&m, &opt));
    overall = mco_model_sparsity(&m, per);
    size_t zeros = per[CONV].zeros + per[DENSE1].zeros + per[DENSE2].zeros;
    CHECK(zeros == round_half_up(0.6 * (double)total));
    float max_pruned, min_kept;
    pruned_kept_range(&orig, &m, weighted, 3, &max_pruned, &min_kept);
    CHECK(max_pruned <= min_kept);
    /* the layer of small weights is pruned more than the target, the others less */
    CHECK((double)per[DENSE1].zeros / (double)per[DENSE1].weights > 0.6);
    CHECK((double)per[CONV].zeros / (double)per[CONV].weights < 0.6);
    mco_model_free(&m);

    /* exclusion */
    const char *exclude[] = {orig.layers[CONV].name};
    opt.global = 0;
    opt.exclude = exclude;
    opt.n_exclude = 1;
    CHECK_OK(mco_model_clone(&orig, &m));
    CHECK_OK(mco_prune_apply_now(&m, &opt));
    CHECK(memcmp(weights_of(&m, CONV), weights_of(&orig, CONV), count_of(&m, CONV) * sizeof(float)) == 0);
    CHECK(zeros_in(&m, DENSE1) == round_half_up(0.6 * (double)count_of(&m, DENSE1)));
    mco_model_free(&m);

    /* 0 % prunes nothing, 100 % everything */
    opt.exclude = NULL;
    opt.n_exclude = 0;
    opt.schedule.target_sparsity = 0.0f;
    CHECK_OK(mco_model_clone(&orig, &m));
    CHECK_OK(mco_prune_apply_now(&m, &opt));
    CHECK(mco_model_sparsity(&m, NULL) == 0.0);
    opt.schedule.target_sparsity = 1.0f;
    CHECK_OK(mco_prune_apply_now(&m, &opt));
    CHECK(mco_model_sparsity(&m, NULL) == 1.0);
    mco_model_free(&m);
    mco_model_free(&orig);
}

/* The after_step hook, plus a snapshot of the masks right after the first update. */
typedef struct {
    mco_pruner pruner;
    uint8_t *first_keep[3];
    long updates_seen[64];
    int n_seen;
} hook_state;

static mco_status recording_hook(void *user, mco_model *model, long step, long total_steps)
{
    hook_state *h = user;
    int before = h->pruner.n_updates;
    mco_status st = mco_pruner_after_step(&h->pruner, model, step, total_steps);
    if (h->pruner.n_updates != before && h->n_seen < 64) h->updates_seen[h->n_seen++] = step;
    if (h->pruner.n_updates == 2 && before == 1)   /* the first update with a non-zero sparsity */
        for (int k = 0; k < 3; k++) memcpy(h->first_keep[k], h->pruner.keep[k], h->pruner.sizes[k]);
    return st;
}

/* Fine-tunes a fresh small CNN for 2 epochs with pruning to 70 %. */
static void prune_train(mco_model *m, hook_state *h, int global, mco_train_result *result)
{
    mco_dataset train;
    test_make_blobs(&train, 640, 11);
    small_cnn(m, 5);
    mco_prune_options po;
    mco_prune_options_default(&po);
    po.schedule.target_sparsity = 0.7f;
    po.schedule.begin_step = 0;
    po.schedule.end_step = 25;   /* 2 epochs of 20 steps; the rest recovers at 70 % */
    po.schedule.frequency = 5;
    po.global = global;
    memset(h, 0, sizeof *h);
    CHECK_OK(mco_pruner_init(&h->pruner, m, &po));
    for (int k = 0; k < 3; k++) h->first_keep[k] = malloc(h->pruner.sizes[k]);
    mco_train_options topt;
    mco_train_options_default(&topt);
    topt.epochs = 2;
    topt.threads = 2;
    topt.seed = 3;
    topt.after_step = recording_hook;
    topt.after_step_user = h;
    CHECK_OK(mco_train(m, &train, NULL, &topt, result));
    mco_dataset_free(&train);
}

static void free_hook(hook_state *h)
{
    for (int k = 0; k < 3; k++) free(h->first_keep[k]);
    mco_pruner_free(&h->pruner);
}

static void test_fine_tuning(void)
{
    mco_model a, b;
    hook_state ha, hb;
    mco_train_result ra, rb;
    prune_train(&a, &ha, 0, &ra);
    /* updates at 0, 5, ..., 25 */
    CHECK(ha.n_seen == 6);
    CHECK(ha.updates_seen[0] == 0 && ha.updates_seen[5] == 25);
    CHECK_NEAR(ha.pruner.sparsity, 0.7, 1e-6);
    for (int k = 0; k < 3; k++) {
        int i = ha.pruner.layers[k];
        CHECK(i == weighted[k]);
        size_t masked = 0;
        for (size_t j = 0; j < ha.pruner.sizes[k]; j++) {
            if (!ha.pruner.keep[k][j]) {
                masked++;
                CHECK(weights_of(&a, i)[j] == 0.0f);
            }
            if (!ha.first_keep[k][j]) CHECK(!ha.pruner.keep[k][j]);   /* masked once, masked for good */
        }
        CHECK(masked == round_half_up(0.7 * (double)count_of(&a, i)));
        CHECK(zeros_in(&a, i) == masked);   /* nothing else happens to be exactly 0 */
    }
    CHECK(ra.final_accuracy > 0.8);   /* the task is still learned at 70 % sparsity */

    /* same seed: the same parameters, bit for bit */
    prune_train(&b, &hb, 0, &rb);
    CHECK(test_same_params(&a, &b));
    free_hook(&ha);
    free_hook(&hb);
    mco_model_free(&a);
    mco_model_free(&b);

    /* global thresholds through training: the total is exact */
    prune_train(&a, &ha, 1, &ra);
    size_t zeros = 0, total = 0;
    for (int k = 0; k < 3; k++) {
        zeros += zeros_in(&a, weighted[k]);
        total += count_of(&a, weighted[k]);
    }
    CHECK(zeros == round_half_up(0.7 * (double)total));
    free_hook(&ha);
    mco_model_free(&a);
}

/* An already pruned model keeps its zeros through more training when its
 * zeros become the masks and mco_pruner_apply runs after every step. */
static mco_status apply_hook(void *user, mco_model *model, long step, long total_steps)
{
    (void)step;
    (void)total_steps;
    mco_pruner_apply(user, model);
    return MCO_OK;
}

static void test_keep_zeros(void)
{
    mco_model m;
    small_cnn(&m, 4);
    mco_prune_options po;
    mco_prune_options_default(&po);
    po.schedule.target_sparsity = 0.6f;
    CHECK_OK(mco_prune_apply_now(&m, &po));
    size_t zeros_before = zeros_in(&m, CONV) + zeros_in(&m, DENSE1) + zeros_in(&m, DENSE2);
    mco_pruner p;
    CHECK_OK(mco_pruner_init(&p, &m, &po));
    CHECK_OK(mco_pruner_mask_zeros(&p, &m));
    mco_dataset train;
    test_make_blobs(&train, 320, 5);
    mco_train_options topt;
    mco_train_options_default(&topt);
    topt.epochs = 1;
    topt.threads = 1;
    topt.after_step = apply_hook;
    topt.after_step_user = &p;
    mco_train_result r;
    CHECK_OK(mco_train(&m, &train, NULL, &topt, &r));
    for (int k = 0; k < 3; k++)
        for (size_t j = 0; j < p.sizes[k]; j++)
            if (!p.keep[k][j]) CHECK(weights_of(&m, p.layers[k])[j] == 0.0f);
    CHECK(zeros_in(&m, CONV) + zeros_in(&m, DENSE1) + zeros_in(&m, DENSE2) == zeros_before);
    mco_model other;
    small_cnn(&other, 4);
    other.layers[DENSE2].params[MCO_PARAM_WEIGHTS].size--;   /* not the pruner's model */
    CHECK(mco_pruner_mask_zeros(&p, &other) == MCO_ERR_ARG);
    other.layers[DENSE2].params[MCO_PARAM_WEIGHTS].size++;
    mco_model_free(&other);
    mco_pruner_free(&p);
    mco_dataset_free(&train);
    mco_model_free(&m);
}

static void test_errors(void)
{
    mco_model m;
    small_cnn(&m, 1);
    mco_pruner p;
    mco_prune_options opt;
    mco_prune_options_default(&opt);
    opt.schedule.target_sparsity = 1.5f;
    CHECK(mco_pruner_init(&p, &m, &opt) == MCO_ERR_ARG);
    mco_prune_options_default(&opt);
    opt.schedule.frequency = 0;
    CHECK(mco_pruner_init(&p, &m, &opt) == MCO_ERR_ARG);
    mco_prune_options_default(&opt);
    opt.schedule.begin_step = 50;
    opt.schedule.end_step = 10;
    CHECK(mco_pruner_init(&p, &m, &opt) == MCO_ERR_ARG);
    mco_prune_options_default(&opt);
    const char *bad[] = {"no_such_layer"};
    opt.exclude = bad;
    opt.n_exclude = 1;
    CHECK(mco_pruner_init(&p, &m, &opt) == MCO_ERR_ARG);
    const char *all[] = {m.layers[CONV].name, m.layers[DENSE1].name, m.layers[DENSE2].name};
    opt.exclude = all;
    opt.n_exclude = 3;
    CHECK(mco_pruner_init(&p, &m, &opt) == MCO_ERR_ARG);
    /* a begin step past the end of training */
    mco_prune_options_default(&opt);
    opt.schedule.begin_step = 1000;
    CHECK_OK(mco_pruner_init(&p, &m, &opt));
    CHECK(mco_pruner_after_step(&p, &m, 0, 100) == MCO_ERR_ARG);
    mco_pruner_free(&p);
    /* not finite weights */
    mco_prune_options_default(&opt);
    m.layers[DENSE2].params[MCO_PARAM_WEIGHTS].data[3] = NAN;
    CHECK(mco_prune_apply_now(&m, &opt) == MCO_ERR_RANGE);
    mco_model_free(&m);
}

int main(void)
{
    test_schedule();
    test_one_shot();
    test_fine_tuning();
    test_keep_zeros();
    test_errors();
    TEST_MAIN_END();
}
