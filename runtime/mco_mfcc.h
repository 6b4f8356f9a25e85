/*
 * mco_mfcc.h - the audio front-end: MFCC or log-mel features from 16-bit
 * PCM, computed by the very same code on the host (training, evaluation)
 * and on the microcontroller (from the microphone's samples).
 *
 * The computation is the MLPerf Tiny keyword-spotting reference's
 * (TensorFlow's tf.signal, as its get_dataset.py calls it):
 *   x[n]      = pcm[n] / 32768
 *   frames    of frame_length samples every frame_stride samples, as many
 *             as fit in n_samples (no padding): 1 + (n_samples -
 *             frame_length) / frame_stride
 *   window    periodic Hann, w[n] = 0.5 - 0.5 cos(2 pi n / frame_length)
 *   spectrum  |X[k]|, k = 0..fft_size/2, of the windowed frame zero-padded
 *             to fft_size (a magnitude, not a power)
 *   mel       n_mels triangular bands on the HTK mel scale
 *             mel(f) = 1127 ln(1 + f / 700), their n_mels + 2 edges evenly
 *             spaced in mel from lower_hz to upper_hz; bin k (frequency
 *             k * sample_rate / fft_size, bin 0 left out) weighs
 *             max(0, min(rise, fall)) in band b with edges e_b < e_b+1 <
 *             e_b+2: rise = (mel_k - e_b) / (e_b+1 - e_b), fall = (e_b+2 -
 *             mel_k) / (e_b+2 - e_b+1) (tf.signal.linear_to_mel_weight_matrix)
 *   log       ln(mel + 1e-6)
 *   MFCC      c_i = sqrt(2 / n_mels) sum_b logmel_b cos(pi i (2b + 1) /
 *             (2 n_mels)), i < n_coeffs (tf.signal.mfccs_from_log_mel_
 *             spectrograms, truncated); n_coeffs = 0 outputs the log-mel
 *             values themselves.
 * Output: frames x (n_coeffs or n_mels) floats, frame-major: a frames x
 * coeffs x 1 input (49 x 10 x 1 with the defaults of mco_mfcc_default).
 *
 * Arithmetic: float32 only, no libm. cos/sin, ln and sqrt are written here
 * (see mco_mfcc.c for each one's error bound). Every operation is an IEEE
 * single-precision +, -, *, / in a fixed order, so a build with
 * -ffp-contract=off (no fused multiply-add) gives the same bits on an x86-64
 * host, a Cortex-M4F/M7/M33 FPU and the soft-float library of an M0+/M3.
 *
 * Memory: the tables (window, twiddles, mel weights, DCT matrix) live in a
 * caller-given buffer of mco_mfcc_tables_get_buffer_size() bytes, filled
 * once by mco_mfcc_tables_init (or given as const arrays computed by the
 * same function on the host); one run needs mco_mfcc_get_buffer_size()
 * bytes of scratch. Nothing is allocated.
 *
 * What it leaves out: fixed-point arithmetic (an M0+ runs the float code
 * through soft float: correct, slow), pre-emphasis, streaming (one whole
 * clip per call) and a power spectrum option.
 */
#ifndef MCO_MFCC_H
#define MCO_MFCC_H

#include <stddef.h>
#include <stdint.h>

#include "mco_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MCO_MFCC_MAX_FFT 4096
#define MCO_MFCC_MAX_MELS 256

typedef struct mco_mfcc_params {   /* tagged: the library's headers declare it without this file */
    int32_t sample_rate;    /* Hz: 1000..192000 */
    int32_t n_samples;      /* samples per clip, >= frame_length */
    int32_t frame_length;   /* samples per frame: 16..fft_size */
    int32_t frame_stride;   /* samples between frame starts: >= 1 */
    int32_t fft_size;       /* a power of two, 16..MCO_MFCC_MAX_FFT */
    int32_t n_mels;         /* mel bands: 1..min(MCO_MFCC_MAX_MELS, fft_size / 2) */
    int32_t n_coeffs;       /* MFCCs kept: 1..n_mels; 0: log-mel output */
    float lower_hz;         /* the lowest band's lower edge: >= 0 */
    float upper_hz;         /* the highest band's upper edge: > lower_hz, <= sample_rate / 2 */
} mco_mfcc_params;

/* The tables one parameter set needs; mco_mfcc_tables_init points them
 * into a buffer, or an emitted model points them at const arrays. */
typedef struct {
    const float *window;        /* [frame_length] */
    const float *cos_table;     /* [fft_size / 2]: cos(2 pi k / fft_size) */
    const float *sin_table;     /* [fft_size / 2]: sin(2 pi k / fft_size) */
    const int16_t *mel_segment; /* [fft_size / 2 + 1]: j with e_j <= mel_k < e_j+1, or -1 */
    const float *mel_rise;      /* [fft_size / 2 + 1]: bin k's weight in band j */
    const float *mel_fall;      /* [fft_size / 2 + 1]: its weight in band j - 1 */
    const float *dct;           /* [n_coeffs][n_mels] (NULL when n_coeffs is 0) */
} mco_mfcc_tables;

/* The MLPerf Tiny KWS setting: 16 kHz, 1 s (16000 samples), 30 ms frames
 * (480) every 20 ms (320), FFT 512, 40 bands from 20 Hz to 4 kHz, 10 MFCCs:
 * 49 x 10 features. */
void mco_mfcc_default(mco_mfcc_params *p);

/* MCO_RT_OK if every field is in the range above, else MCO_RT_ARG_ERROR. */
mco_rt_status mco_mfcc_check(const mco_mfcc_params *p);

/* Frames per clip and values per frame (n_coeffs, or n_mels for log-mel);
 * 0 for invalid parameters. */
int32_t mco_mfcc_frames(const mco_mfcc_params *p);
int32_t mco_mfcc_frame_values(const mco_mfcc_params *p);

/* Bytes of the tables' buffer (0 for invalid parameters). */
int32_t mco_mfcc_tables_get_buffer_size(const mco_mfcc_params *p);

/* Computes the tables into `buffer` (tables_get_buffer_size bytes, aligned
 * for float) and points *t at them. */
mco_rt_status mco_mfcc_tables_init(const mco_mfcc_params *p, void *buffer, mco_mfcc_tables *t);

/* Bytes of scratch one run needs (0 for invalid parameters). */
int32_t mco_mfcc_get_buffer_size(const mco_mfcc_params *p);

/* The features of one clip: pcm holds n_samples samples; scratch holds
 * mco_mfcc_get_buffer_size bytes (aligned for float); out receives
 * frames * frame_values floats. */
mco_rt_status mco_mfcc_s16(const mco_mfcc_params *p, const mco_mfcc_tables *t, const int16_t *pcm,
                           void *scratch, float *out);

#ifdef __cplusplus
}
#endif
#endif
