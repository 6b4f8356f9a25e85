/*
 * test_mfcc.c - the audio front-end (runtime/mco_mfcc.c) on the host:
 * parameter checks and sizes (49 x 10 for the MLPerf Tiny KWS default),
 * then every test clip of tests/lib/mfcc_signals.h under every parameter
 * set compared with an independent float64 numpy/scipy computation
 * (tests/lib/mfcc_reference.py) within MFCC_TOLERANCE.
 *
 * The tolerance: the C code is float32 throughout. Its elementary
 * functions are within 3e-7 (mco_mfcc.c) and the FFT's rounding is about
 * log2(fft_size) ulp of the frame's loudest bins, so a band's energy is off
 * by ~1e-6 of the frame's energy and its log by ~1e-6 / (the band's share
 * of it). Measured worst case over these clips: 2.9e-4 (the square wave's
 * quietest bands, log-mel set); the other clips stay under 1e-4.
 * MFCC_TOLERANCE = 1e-3 on log-mel values and MFCCs.
 * One clip is left out here: full-scale alternation +32767, -32768 puts
 * all its energy in the Nyquist bin, outside every band; the bands hold
 * only the window's leakage, exactly ~1e-10 of the peak, which float32
 * (resolution 6e-8 of the peak) cannot represent: its bands are rounding
 * noise (log-mel off by up to 6 against float64). The target test still
 * checks that clip's bits against the host's.
 * What it leaves out: the target's bits (tests/mfcc_on_target.sh) and the
 * WAV reader (test_audio_folder.c). Skipped (77) without python3, numpy or
 * scipy (Debian python3-numpy, python3-scipy; scripts/setup.sh).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/mfcc_signals.h"
#include "mco_mfcc.h"
#include "test_util.h"

#define MFCC_TOLERANCE 1e-3
#define MFCC_NYQUIST_CLIP 5   /* see above: float32's noise floor, compared on the target only */

static void test_params_and_sizes(void)
{
    mco_mfcc_params p;
    mco_mfcc_default(&p);
    CHECK(mco_mfcc_check(&p) == MCO_RT_OK);
    CHECK(mco_mfcc_frames(&p) == 49);
    CHECK(mco_mfcc_frame_values(&p) == 10);
    CHECK(mco_mfcc_get_buffer_size(&p) == (512 + 40) * 4);
    CHECK(mco_mfcc_tables_get_buffer_size(&p) > 0);
    mco_mfcc_params bad = p;
    bad.fft_size = 500;   /* not a power of two */
    CHECK(mco_mfcc_check(&bad) != MCO_RT_OK && mco_mfcc_frames(&bad) == 0);
    bad = p;
    bad.frame_length = 1024;   /* longer than the FFT */
    CHECK(mco_mfcc_check(&bad) != MCO_RT_OK && mco_mfcc_tables_get_buffer_size(&bad) == 0);
    bad = p;
    bad.upper_hz = 9000.0f;   /* above Nyquist */
    CHECK(mco_mfcc_check(&bad) != MCO_RT_OK);
    bad = p;
    bad.n_coeffs = 41;
    CHECK(mco_mfcc_check(&bad) != MCO_RT_OK);
    bad = p;
    bad.lower_hz = NAN;
    CHECK(mco_mfcc_check(&bad) != MCO_RT_OK);
    bad = p;
    bad.n_samples = 100;
    CHECK(mco_mfcc_check(&bad) != MCO_RT_OK);
}

static int write_file(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    int ok = fwrite(data, 1, size, f) == size;
    return fclose(f) == 0 && ok;
}

/* Features of every clip under every parameter set, against numpy/scipy. */
static void test_against_numpy(void)
{
    if (system("/usr/bin/python3 -c 'import numpy, scipy.fft' >/dev/null 2>&1") != 0) {
        test_skip("/usr/bin/python3 with numpy and scipy not found (Debian python3-numpy python3-scipy)");
        return;
    }
    char dir[] = "/tmp/mco_mfcc_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char pcm_path[64], out_path[64];
    snprintf(pcm_path, sizeof pcm_path, "%s/pcm.raw", dir);
    snprintf(out_path, sizeof out_path, "%s/features.raw", dir);
    static int16_t pcm[MFCC_TEST_MAX_SAMPLES];
    for (int set = 0; set < MFCC_TEST_PARAMS; set++) {
        mco_mfcc_params p;
        mfcc_test_params(set, &p);
        CHECK(mco_mfcc_check(&p) == MCO_RT_OK);
        size_t n_out = (size_t)mco_mfcc_frames(&p) * (size_t)mco_mfcc_frame_values(&p);
        void *tables_buf = malloc((size_t)mco_mfcc_tables_get_buffer_size(&p));
        void *scratch = malloc((size_t)mco_mfcc_get_buffer_size(&p));
        float *out = malloc(n_out * sizeof *out), *again = malloc(n_out * sizeof *again);
        mco_mfcc_tables t;
        CHECK(tables_buf && scratch && out && again);
        CHECK(mco_mfcc_tables_init(&p, tables_buf, &t) == MCO_RT_OK);
        for (int s = 0; s < MFCC_TEST_SIGNALS; s++) {
            if (s == MFCC_NYQUIST_CLIP) continue;
            mfcc_test_signal(s, pcm, p.n_samples);
            CHECK(mco_mfcc_s16(&p, &t, pcm, scratch, out) == MCO_RT_OK);
            CHECK(mco_mfcc_s16(&p, &t, pcm, scratch, again) == MCO_RT_OK);
            CHECK(memcmp(out, again, n_out * sizeof *out) == 0);   /* no state carried between runs */
            CHECK(write_file(pcm_path, pcm, (size_t)p.n_samples * sizeof *pcm));
            CHECK(write_file(out_path, out, n_out * sizeof *out));
            char cmd[512];
            snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/lib/mfcc_reference.py %s %s %d %d %d %d %d %d %d %.9g %.9g %g",
                     pcm_path, out_path, (int)p.sample_rate, (int)p.n_samples, (int)p.frame_length,
                     (int)p.frame_stride, (int)p.fft_size, (int)p.n_mels, (int)p.n_coeffs, (double)p.lower_hz,
                     (double)p.upper_hz, MFCC_TOLERANCE);
            printf("parameter set %d, clip %d: ", set, s);
            fflush(stdout);
            int rc = system(cmd);
            if (rc != 0) fprintf(stderr, "parameter set %d, clip %d: features differ from numpy/scipy\n", set, s);
            CHECK(rc == 0);
        }
        free(tables_buf);
        free(scratch);
        free(out);
        free(again);
    }
    remove(pcm_path);
    remove(out_path);
    rmdir(dir);
}

int main(void)
{
    test_params_and_sizes();
    test_against_numpy();
    TEST_MAIN_END();
}
