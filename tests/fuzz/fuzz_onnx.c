/*
 * fuzz_onnx.c - libFuzzer harness for the ONNX importer
 * (mco_onnx_import_bytes, the in-memory form of mco_onnx_import).
 *
 * Each input is a candidate .onnx file (protobuf). An import must either
 * succeed or fail with one error line. An imported model must save as a
 * .mco model (what `mcuopt import` does next), and exporting it to ONNX and
 * importing that again must give the same model.
 * The QDQ importer (mco_onnx_import_qdq_bytes, onnx_qdq.h) reads every
 * input too: it succeeds or fails with one line; an int8 deploy model it
 * makes must plan (or be refused with one line), save as a .mcq, load back
 * and run one sample (fuzz_check_imported_deploy), and its own QDQ export
 * must import again with the same input quantization and layer count.
 *
 * What it leaves out: protobuf-c's own decoding is fuzzed as part of this
 * (it is what reads the bytes), but not on its own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "mcuopt/model_file.h"
#include "mcuopt/onnx.h"
#include "mcuopt/onnx_qdq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_qdq(const uint8_t *data, size_t size)
{
    mco_deploy_model dm, again;
    mco_status st = mco_onnx_import_qdq_bytes(data, size, "fuzz.onnx", &dm);
    fuzz_check_status(st, "mco_onnx_import_qdq_bytes");
    if (st != MCO_OK) return;
    fuzz_check_model(&dm.model, "mco_onnx_import_qdq_bytes");
    fuzz_check_imported_deploy(&dm);
    uint8_t *onnx = NULL;
    size_t onnx_size = 0;
    if (mco_onnx_serialize_deploy(&dm, &onnx, &onnx_size) != MCO_OK)
        fuzz_fail("an imported QDQ model does not export", mco_last_error());
    if (mco_onnx_import_qdq_bytes(onnx, onnx_size, "exported", &again) != MCO_OK)
        fuzz_fail("an exported QDQ model does not import", mco_last_error());
    if (again.model.n_layers != dm.model.n_layers || again.input.scale != dm.input.scale ||
        again.input.zero_point != dm.input.zero_point)
        fuzz_fail("QDQ round trip", "export and re-import give another model");
    free(onnx);
    mco_deploy_free(&again);
    mco_deploy_free(&dm);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_qdq(data, size);
    mco_model m;
    mco_status st = mco_onnx_import_bytes(data, size, "fuzz.onnx", &m);
    fuzz_check_status(st, "mco_onnx_import_bytes");
    if (st != MCO_OK) return 0;
    fuzz_check_model(&m, "mco_onnx_import_bytes");

    uint8_t *saved = NULL, *onnx = NULL, *saved_again = NULL;
    size_t saved_size = 0, onnx_size = 0, saved_again_size = 0;
    if (mco_model_serialize(&m, &saved, &saved_size) != MCO_OK)
        fuzz_fail("an imported model does not save", mco_last_error());
    if (mco_onnx_serialize_model(&m, &onnx, &onnx_size) != MCO_OK)
        fuzz_fail("an imported model does not export", mco_last_error());
    mco_model again;
    if (mco_onnx_import_bytes(onnx, onnx_size, "exported", &again) != MCO_OK)
        fuzz_fail("an exported model does not import", mco_last_error());
    snprintf(again.arch_name, sizeof again.arch_name, "%s", m.arch_name);
    if (mco_model_serialize(&again, &saved_again, &saved_again_size) != MCO_OK)
        fuzz_fail("a re-imported model does not save", mco_last_error());
    if (saved_size != saved_again_size || memcmp(saved, saved_again, saved_size) != 0)
        fuzz_fail("ONNX round trip", "export and re-import give another model");
    free(saved);
    free(onnx);
    free(saved_again);
    mco_model_free(&again);
    mco_model_free(&m);
    return 0;
}
