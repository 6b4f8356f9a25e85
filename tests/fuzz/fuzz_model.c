/*
 * fuzz_model.c - libFuzzer harness for the .mco model loader
 * (mco_model_deserialize, the in-memory form of mco_model_load).
 *
 * Each input is a candidate model file. A load must either succeed or fail
 * with one error line; a model that loads must also save, and the saved
 * bytes must load back and save to the very same bytes (nothing loads that
 * would not save, and nothing is lost or changed in a round trip), and it
 * must fold into a float deploy model and plan, or fail with one line. In this
 * fuzz build the CRC is not checked (MCO_FUZZ), so mutations reach the
 * chunk decoder instead of stopping at the checksum.
 *
 * What it leaves out: reading from a path (fuzz_deploy reads its file),
 * training, quantizing with data, and running the model.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "mcuopt/codegen.h"
#include "mcuopt/deploy.h"
#include "mcuopt/model_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mco_model m;
    mco_status st = mco_model_deserialize(data, size, "fuzz.mco", &m);
    fuzz_check_status(st, "mco_model_deserialize");
    if (st != MCO_OK) return 0;
    fuzz_check_model(&m, "mco_model_deserialize");

    uint8_t *first = NULL, *second = NULL;
    size_t first_size = 0, second_size = 0;
    if (mco_model_serialize(&m, &first, &first_size) != MCO_OK)
        fuzz_fail("a loaded model does not serialize", mco_last_error());
    mco_model again;
    if (mco_model_deserialize(first, first_size, "saved", &again) != MCO_OK)
        fuzz_fail("a saved model does not load back", mco_last_error());
    if (mco_model_serialize(&again, &second, &second_size) != MCO_OK)
        fuzz_fail("a reloaded model does not serialize", mco_last_error());
    if (first_size != second_size || memcmp(first, second, first_size) != 0)
        fuzz_fail("model round trip", "saving the reloaded model gives other bytes");
    free(first);
    free(second);
    mco_model_free(&again);

    /* What quantize and emit do first: fold it into a float deploy model and plan that. */
    mco_deploy_model dm;
    mco_status fold = mco_deploy_from_float(&m, &dm);
    fuzz_check_status(fold, "mco_deploy_from_float");
    if (fold == MCO_OK) {
        mco_plan plan;
        fuzz_check_status(mco_plan_build(&dm, NULL, &plan), "mco_plan_build");
        mco_plan_free(&plan);
        mco_deploy_free(&dm);
    }
    mco_model_free(&m);
    return 0;
}
