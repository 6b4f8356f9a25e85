/*
 * audio_file.h - what audio_folder.c needs of audio_file.c besides the
 * public mco_audio_read: a whole file at the model's rate. Private to
 * src/data.
 */
#ifndef MCO_AUDIO_FILE_H
#define MCO_AUDIO_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "mcuopt/data.h"

/* The whole WAV file at `path` (checked as mco_audio_read does) resampled
 * to `rate`, at most max_samples (1 <= max_samples <= 16 * 192000) of it:
 * *out malloc'd, *n samples. */
mco_status mco_audio_read_whole(const char *path, int rate, size_t max_samples, int16_t **out, size_t *n);

#endif
