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

    fuzz_check_model_round_trip(&m);

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
