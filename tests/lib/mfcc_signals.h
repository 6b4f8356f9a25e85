/*
 * mfcc_signals.h - the test clips and parameter sets of the audio
 * front-end's tests, in plain C99 without libm so that the host test
 * (tests/test_mfcc.c, against numpy/scipy) and the firmware run in QEMU
 * (tests/mfcc_on_target.sh, against the host's bits) make the very same
 * samples: white noise loud and quiet, a sweep, a square wave, a
 * vowel-like pulse train under an envelope, full-scale alternation, and
 * silence.
 */
#ifndef MFCC_SIGNALS_H
#define MFCC_SIGNALS_H

#include <stdint.h>

#include "mco_mfcc.h"

#define MFCC_TEST_SIGNALS 7
#define MFCC_TEST_PARAMS 3
#define MFCC_TEST_MAX_SAMPLES 16000

/* Parameter set i: the MLPerf Tiny KWS default (49 x 10 MFCCs); 8 kHz
 * with FFT 256, 32 bands up to Nyquist, 13 MFCCs; log-mel with 64 bands,
 * FFT 1024, 40 ms frames every 20 ms. */
static void mfcc_test_params(int i, mco_mfcc_params *p)
{
    mco_mfcc_default(p);
    if (i == 1) {
        p->sample_rate = 8000;
        p->n_samples = 8000;
        p->frame_length = 256;
        p->frame_stride = 128;
        p->fft_size = 256;
        p->n_mels = 32;
        p->n_coeffs = 13;
        p->lower_hz = 0.0f;
        p->upper_hz = 4000.0f;
    } else if (i == 2) {
        p->frame_length = 640;
        p->frame_stride = 320;
        p->fft_size = 1024;
        p->n_mels = 64;
        p->n_coeffs = 0;
        p->lower_hz = 60.0f;
        p->upper_hz = 7800.0f;
    }
}

static uint32_t mfcc_test_rng(uint32_t *state)
{
    *state = *state * 1664525u + 1013904223u;
    return *state >> 8;
}

/* A triangle wave of the phase (0..65535), -32767..32767. */
static int32_t mfcc_test_triangle(uint32_t phase)
{
    int32_t x = (int32_t)(phase & 0xffffu);
    return x < 32768 ? 2 * x - 32767 : 98303 - 2 * x;
}

/* Clip `which` (0..MFCC_TEST_SIGNALS-1) of n samples. */
static void mfcc_test_signal(int which, int16_t *pcm, int32_t n)
{
    uint32_t state = 12345u + (uint32_t)which, phase = 0, step = 300;
    int32_t i;
    for (i = 0; i < n; i++) {
        int32_t v = 0;
        switch (which) {
        case 0: v = (int32_t)(mfcc_test_rng(&state) & 0xffffu) - 32768; break;         /* loud noise */
        case 1: v = (int32_t)(mfcc_test_rng(&state) % 129u) - 64; break;               /* quiet noise */
        case 2:                                                                         /* sweep */
            phase += step;
            if ((i & 63) == 0) step += 3;
            v = mfcc_test_triangle(phase) / 2;
            break;
        case 3: v = (i / 23) % 2 ? 12000 : -12000; break;                               /* square */
        case 4: {                                                                       /* vowel-like */
            int32_t envelope = i < n / 4 ? 0 : (i < n / 2 ? (i - n / 4) : (i < 3 * n / 4 ? n / 4 : n - i));
            int32_t pulse = (i % 133) < 6 ? 20000 : 0;
            phase += 900;
            v = (pulse + mfcc_test_triangle(phase) / 4) / 2 * envelope / (n / 4 + 1);
            break;
        }
        case 5: v = (i & 1) ? 32767 : -32768; break;                                    /* Nyquist */
        default: v = 0; break;                                                          /* silence */
        }
        pcm[i] = (int16_t)v;
    }
}

#endif
