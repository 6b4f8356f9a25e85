/*
 * mfcc_hash_main.c - prints one line per parameter set and test clip of
 * tests/lib/mfcc_signals.h: the FNV-1a hash of the front-end's output bits
 * and its first value's bits. tests/mfcc_on_target.sh builds it for the
 * host and for emulated Cortex-M cores and compares the lines: identical
 * lines mean bit-identical features. Static buffers only (no malloc on the
 * target side either).
 */
#include <stdio.h>
#include <string.h>

#include "mco_mfcc.h"
#include "mfcc_signals.h"

#ifdef MFCC_MEASURE
static volatile int marker_sink;
__attribute__((noinline)) void mco_measure_begin(void);
__attribute__((noinline)) void mco_measure_end(void);
__attribute__((noinline)) void mco_measure_begin(void) { marker_sink = 1; }
__attribute__((noinline)) void mco_measure_end(void) { marker_sink = 2; }
#define MEASURE(set, clip, call) \
    ((set) == 0 && (clip) == 0 ? (mco_measure_begin(), (call) == MCO_RT_OK ? (mco_measure_end(), 1) : (mco_measure_end(), 0)) \
                               : (call) == MCO_RT_OK)
#else
#define MEASURE(set, clip, call) ((call) == MCO_RT_OK)
#endif

static float tables_buf[4096];
static float scratch[MCO_MFCC_MAX_FFT + MCO_MFCC_MAX_MELS];
static float out[4096];
static int16_t pcm[MFCC_TEST_MAX_SAMPLES];

int main(void)
{
    int set, clip, failures = 0;
    for (set = 0; set < MFCC_TEST_PARAMS; set++) {
        mco_mfcc_params p;
        mco_mfcc_tables t;
        int32_t n_out, i;
        mfcc_test_params(set, &p);
        n_out = mco_mfcc_frames(&p) * mco_mfcc_frame_values(&p);
        if (mco_mfcc_tables_get_buffer_size(&p) > (int32_t)sizeof tables_buf || n_out > (int32_t)(sizeof out / sizeof out[0]) ||
            mco_mfcc_get_buffer_size(&p) > (int32_t)sizeof scratch || !MEASURE(set, 0, mco_mfcc_tables_init(&p, tables_buf, &t))) {
            printf("set %d: buffers too small or bad parameters\n", set);
            failures++;
            continue;
        }
        for (clip = 0; clip < MFCC_TEST_SIGNALS; clip++) {
            uint32_t hash = 2166136261u, first;
            mfcc_test_signal(clip, pcm, p.n_samples);
            if (!MEASURE(set, clip, mco_mfcc_s16(&p, &t, pcm, scratch, out))) {
                printf("set %d clip %d: run failed\n", set, clip);
                failures++;
                continue;
            }
            for (i = 0; i < n_out; i++) {
                uint32_t bits;
                int b;
                memcpy(&bits, &out[i], sizeof bits);
                for (b = 0; b < 4; b++) hash = (hash ^ ((bits >> (8 * b)) & 0xffu)) * 16777619u;
            }
            memcpy(&first, &out[0], sizeof first);
            printf("MFCC set %d clip %d: %ld values, hash %08lx, first %08lx\n", set, clip, (long)n_out,
                   (unsigned long)hash, (unsigned long)first);
        }
    }
    return failures != 0;
}
