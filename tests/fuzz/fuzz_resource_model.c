/*
 * fuzz_resource_model.c - libFuzzer harness for the resource-model
 * calibration table loader (mco_cost_model_load on a temporary file), and
 * for the estimates that read a loaded table.
 *
 * A load must either succeed or fail with one error line. A table that
 * loads is then used as `mcuopt estimate` uses it: the seeds' tiny model
 * (fuzz_seeds.h) in int8, int4 and float32 (made once per process) is
 * estimated on the calibration profile of every class the table has, and
 * every estimate must succeed or fail with one line (a hostile table must
 * not reach undefined behaviour in the arithmetic, e.g. a float-to-integer
 * conversion out of range).
 *
 * What it leaves out: the default table path lookup, and calibrating.
 */
#include <stdlib.h>

#include "fuzz_seeds.h"
#include "fuzz_util.h"
#include "mcuopt/resource.h"
#include "mcuopt/resource_calibration.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const formats[] = {"int8", "int4", "float32"};
#define N_FORMATS (sizeof formats / sizeof formats[0])
static mco_deploy_model models[N_FORMATS];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *arch = fuzz_write_temp("tiny.arch", (const uint8_t *)fuzz_tiny_arch, sizeof fuzz_tiny_arch - 1);
    for (size_t f = 0; f < N_FORMATS; f++) {
        mco_plan plan;   /* a model that does not plan would test nothing */
        if (mco_resource_random_model(arch, formats[f], 1, &models[f]) != MCO_OK ||
            mco_plan_build(&models[f], NULL, &plan) != MCO_OK)
            fuzz_fail("making the estimate models", mco_last_error());
        mco_plan_free(&plan);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mco_cost_model *cm = NULL;
    mco_status st = mco_cost_model_load(fuzz_write_temp("fuzz-resource.json", data, size), &cm);
    fuzz_check_status(st, "mco_cost_model_load");
    if (st != MCO_OK) return 0;
    for (int c = 0; c < cm->n_classes; c++) {
        mco_target_profile t;
        if (mco_cost_class_profile(cm->classes[c].name, &t) != MCO_OK) {
            mco_clear_error();
            continue;   /* a class name this build does not know: never chosen */
        }
        for (size_t f = 0; f < N_FORMATS; f++) {
            mco_resource_estimate e;
            st = mco_resource_estimate_deploy(cm, &models[f], &t, 0, &e);
            fuzz_check_status(st, "mco_resource_estimate_deploy");
            if (st == MCO_OK) mco_resource_estimate_free(&e);
        }
    }
    mco_cost_model_free(cm);
    return 0;
}
