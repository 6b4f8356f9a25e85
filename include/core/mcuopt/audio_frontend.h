/*
 * audio_frontend.h - an mco_audio_frontend (mcuopt/graph.h) as the MCU
 * runtime's front-end parameters (runtime/mco_mfcc.h), for the library's
 * files that compute features (the audio reader, the code generator's
 * tables, the measurement's host outputs).
 *
 * What it leaves out: anything a user of the installed library needs (it
 * includes the runtime's mco_mfcc.h, which is not installed as a library
 * header: include it only from the library's own sources).
 */
#ifndef MCUOPT_AUDIO_FRONTEND_H
#define MCUOPT_AUDIO_FRONTEND_H

#include "mco_mfcc.h"
#include "mcuopt/graph.h"
#include "mcuopt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Copies the fields; MCO_ERR_ARG with one line naming every parameter and
 * the runtime's ranges if mco_mfcc_check refuses them. */
mco_status mco_audio_frontend_params(const mco_audio_frontend *a, mco_mfcc_params *p);

#ifdef __cplusplus
}
#endif
#endif
