/*
 * audio_file.h - what the audio readers (audio_folder.c, machine_sounds.c)
 * share besides the public mco_audio_read: a whole file at the model's
 * rate (audio_file.c), the front-end's runtime parameters (audio_folder.c).
 * Private to src/data.
 */
#ifndef MCO_AUDIO_FILE_H
#define MCO_AUDIO_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "mco_mfcc.h"
#include "mcuopt/data.h"

/* The whole WAV file at `path` (checked as mco_audio_read does) resampled
 * to `rate`, at most max_samples (1 <= max_samples <= 16 * 192000) of it:
 * *out malloc'd, *n samples. */
mco_status mco_audio_read_whole(const char *path, int rate, size_t max_samples, int16_t **out, size_t *n);

/* The runtime's parameters for the front-end `a` (window_frames aside);
 * MCO_ERR_ARG with one line naming them all when they are out of range. */
mco_status mco_audio_frontend_params(const mco_audio_frontend *a, mco_mfcc_params *p);

#endif
