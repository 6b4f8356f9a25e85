/*
 * fuzz_arch.c - libFuzzer harness for the architecture text loader
 * (mco_arch_load on a file path: the input is written to a temporary
 * fuzz.arch, so the file reading, NUL bytes included, is covered too).
 *
 * A load must either succeed or fail with one error line. A model that
 * loads has consistent parameter sizes, and when it is small enough to be
 * cheap here its parameters are allocated and initialised as `mcuopt
 * train` does first.
 *
 * What it leaves out: the built-in architectures (fixed texts, tested in
 * tests/test_arch.c) and the input-shape and class-count overrides.
 */
#include "fuzz_util.h"
#include "mcuopt/arch.h"

#define CHEAP_PARAMS ((size_t)1 << 14)   /* 64 KB of floats: the small texts only */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mco_model m;
    mco_status st = mco_arch_load(fuzz_write_temp("fuzz.arch", data, size), (mco_shape){0, 0, 0}, 0, &m);
    fuzz_check_status(st, "mco_arch_load");
    if (st != MCO_OK) return 0;
    fuzz_check_model(&m, "mco_arch_load");
    if (mco_model_param_count(&m) <= CHEAP_PARAMS) {
        st = mco_model_alloc_params(&m);
        fuzz_check_status(st, "mco_model_alloc_params");
        if (st == MCO_OK) mco_model_init_params(&m, 1);
    }
    mco_model_free(&m);
    return 0;
}
