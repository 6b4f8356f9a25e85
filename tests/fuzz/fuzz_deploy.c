/*
 * fuzz_deploy.c - libFuzzer harness for the .mcq deploy model loader
 * (mco_deploy_load; the library reads deploy models only from a path, so
 * each input is written to a temporary file first).
 *
 * A load must either succeed or fail with one error line. A deploy model
 * that loads must save, load back, and save to the same bytes, plan
 * (mco_plan_build: succeed or fail with one line), and run one sample in
 * the MCU runtime without undefined behaviour. CRCs (the file's and the
 * embedded model's) are not checked in this fuzz build (MCO_FUZZ), so a
 * mutated bias or multiplier reaches the loader's range proofs.
 *
 * What it leaves out: inputs other than the all-255 one (the loader's
 * accumulator bound covers every input; tests/test_runtime_random.c runs
 * the kernels on random data), plans with an arena over 1 MB, and emitting
 * code.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "mcuopt/deploy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mco_deploy_model dm;
    mco_status st = mco_deploy_load(fuzz_write_temp("fuzz.mcq", data, size), &dm);
    fuzz_check_status(st, "mco_deploy_load");
    if (st != MCO_OK) return 0;
    fuzz_check_model(&dm.model, "mco_deploy_load");

    mco_deploy_model again;
    if (mco_deploy_save(&dm, fuzz_temp_path("first.mcq")) != MCO_OK)
        fuzz_fail("a loaded deploy model does not save", mco_last_error());
    if (mco_deploy_load(fuzz_temp_path("first.mcq"), &again) != MCO_OK)
        fuzz_fail("a saved deploy model does not load back", mco_last_error());
    if (mco_deploy_save(&again, fuzz_temp_path("second.mcq")) != MCO_OK)
        fuzz_fail("a reloaded deploy model does not save", mco_last_error());
    if (!fuzz_same_temp_files("first.mcq", "second.mcq"))
        fuzz_fail("deploy model round trip", "saving the reloaded model gives other bytes");
    mco_deploy_free(&again);

    /* What emit, estimate and predict do next (the loader proves every
     * accumulator fits int32, so no input may reach signed overflow or any
     * other UB in the runtime kernels). */
    fuzz_plan_and_run(&dm);
    mco_deploy_free(&dm);
    return 0;
}
