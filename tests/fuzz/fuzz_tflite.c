/*
 * fuzz_tflite.c - libFuzzer harness for the TFLite importer
 * (mco_tflite_import_bytes, the in-memory form of mco_tflite_import: the
 * flatbuffers Verifier, the reader's bounds checks, constant folding and
 * the mapping onto mcuopt's layers).
 *
 * Each input is a candidate .tflite file. An import must either succeed or
 * fail with one error line (names from the file are made printable before
 * they reach a message). Then what `mcuopt import` does next: a float
 * model must save as a .mco model, load back and save to the same bytes
 * (fuzz_check_model_round_trip); a full-integer model must plan (or fail with one
 * line), save as a .mcq and load back (the loader's checks, e.g. that no
 * int32 accumulator can overflow, are made on import), and run one sample
 * in the MCU runtime without undefined behaviour.
 *
 * Seed corpus: tests/fuzz/corpus/tflite/ (small float, float16, hybrid and
 * int8 models from tests/tflite/make_models.py, written by make_seeds.sh,
 * and regress-* inputs that once broke the importer).
 *
 * What it leaves out: flatbuffers' Verifier is fuzzed as part of this (it
 * is what checks the bytes), not on its own; inputs other than the
 * all-255 one; plans with an arena over 1 MB.
 */
#include "fuzz_util.h"
#include "mcuopt/codegen.h"
#include "mcuopt/deploy.h"
#include "mcuopt/tflite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mco_tflite_model m;
    mco_status st = mco_tflite_import_bytes(data, size, "fuzz.tflite", &m);
    fuzz_check_status(st, "mco_tflite_import_bytes");
    if (st != MCO_OK) return 0;
    if (m.kind == MCO_TFLITE_INT8) {
        fuzz_check_model(&m.deploy.model, "mco_tflite_import_bytes");
        fuzz_check_imported_deploy(&m.deploy);
    } else {
        fuzz_check_model(&m.model, "mco_tflite_import_bytes");
        fuzz_check_model_round_trip(&m.model);
    }
    mco_tflite_free(&m);
    return 0;
}
