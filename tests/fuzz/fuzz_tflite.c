/*
 * fuzz_tflite.c - libFuzzer harness for the TFLite importer
 * (mco_tflite_import_bytes: the flatbuffers Verifier, the reader's bounds
 * checks, constant folding and the mapping onto mcuopt's layers). Any
 * input must give MCO_OK or an error, never a crash, a hang, a leak or
 * undefined behaviour (build with -fsanitize=fuzzer,address,undefined); an
 * error must record exactly one non-empty line of printable characters (the
 * harness aborts otherwise).
 *
 * Seed corpus: tests/fuzz/corpus/tflite/ (small float and int8 models from
 * tests/tflite/make_models.py, one per operator family).
 *
 *   clang -fsanitize=fuzzer,address,undefined ... fuzz_tflite.c \
 *       -lmcuopt_tflite -lmcuopt_quant ... -lstdc++
 *   ./fuzz_tflite tests/fuzz/corpus/tflite -max_total_time=60
 *
 * What it leaves out: writing the result (the importer's output is freed).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "mcuopt/tflite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mco_tflite_model m;
    if (mco_tflite_import_bytes(data, size, "fuzz", &m) == MCO_OK) {
        mco_tflite_free(&m);
        return 0;
    }
    const char *msg = mco_last_error();
    if (!msg[0]) abort();
    for (const char *c = msg; *c; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e) abort();
    return 0;
}
