/*
 * model_file.h - the versioned binary model file (.mco).
 *
 * The layout is documented in src/core/model_file.c, where it is parsed.
 * Saving goes through mcuopt/file_io.h (a temporary file in the same
 * directory, renamed over `path`), so a failed or interrupted save never
 * leaves a half-written model and never replaces a FIFO, device or symlink.
 * Loading checks the magic, version, every length against the bytes
 * remaining and the caps in graph.h, and the CRC32 before it trusts
 * anything, so a truncated, corrupt or hostile file gives MCO_ERR_FORMAT
 * with one clear line, never a crash or a huge allocation.
 */
#ifndef MCUOPT_MODEL_FILE_H
#define MCUOPT_MODEL_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "mcuopt/file_io.h"
#include "mcuopt/graph.h"
#include "mcuopt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MCO_MODEL_MAGIC "MCOM"
#define MCO_MODEL_VERSION 1
/* The deploy model file's magic (.mcq, compress/deploy_file.c), here so that
 * each loader can tell a user who gave the other kind of model file. */
#define MCO_DEPLOY_MAGIC "MCOQ"
/* TFLite's file identifier (bytes 4..7 of a .tflite flatbuffer). */
#define MCO_TFLITE_IDENTIFIER "TFL3"

/* What kind of model file the bytes start like, for a loader's message to a
 * user who gave one kind where another is needed: "an mcuopt float model
 * (.mco)", "a quantized deploy model (.mcq)", "a TFLite model (.tflite;
 * `mcuopt import` converts it)", or NULL. */
const char *mco_model_file_kind(const uint8_t *bytes, size_t size);

/* Saving refuses a model with a non-finite parameter (as loading does):
 * MCO_ERR_RANGE naming the layer, e.g. from a diverged training run. */
mco_status mco_model_save(const mco_model *model, const char *path);
mco_status mco_model_load(const char *path, mco_model *model);

/* MCO_OK if every parameter of every layer is finite, else MCO_ERR_RANGE
 * with "layer 3 (dense_3): weights[12] is nan" (the first one found).
 * Loaders, saving, quantization and training check with it. */
mco_status mco_model_check_finite(const mco_model *model);

/* In-memory forms of the same, used by the file functions and by tests. */
mco_status mco_model_serialize(const mco_model *model, uint8_t **bytes, size_t *size);
mco_status mco_model_deserialize(const uint8_t *bytes, size_t size, const char *origin,
                                 mco_model *model);

/* CRC-32 (IEEE 802.3, as zlib's crc32). */
uint32_t mco_crc32(uint32_t crc, const void *data, size_t size);

#ifdef __cplusplus
}
#endif
#endif
