/*
 * audio_frontend.h - an mco_audio_frontend (mcuopt/graph.h) as the MCU
 * runtime's front-end parameters (runtime/mco_mfcc.h), for the library's
 * files that compute features (the audio reader, the code generator's
 * tables, the measurement's host outputs).
 *
 * The runtime's struct is only declared here: a file that calls this
 * includes the runtime's mco_mfcc.h itself (it links the runtime), so
 * that every area can include this header.
 *
 * What it leaves out: the features themselves (runtime/mco_mfcc.c).
 */
#ifndef MCUOPT_AUDIO_FRONTEND_H
#define MCUOPT_AUDIO_FRONTEND_H

#include "mcuopt/graph.h"
#include "mcuopt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

struct mco_mfcc_params;   /* runtime/mco_mfcc.h */

/* Copies the fields; MCO_ERR_ARG with one line naming every parameter and
 * the runtime's ranges if mco_mfcc_check refuses them. */
mco_status mco_audio_frontend_params(const mco_audio_frontend *a, struct mco_mfcc_params *p);

#ifdef __cplusplus
}
#endif
#endif
