/*
 * mco_mfcc.c - the audio front-end (see mco_mfcc.h for what it computes):
 * the tables (Hann window, FFT twiddles, mel weights, DCT matrix), a real
 * FFT of fft_size points through a complex radix-2 FFT of fft_size / 2, and
 * the per-frame pipeline.
 *
 * No libm: the few elementary functions are written here, in float, each
 * with its error bound (ulp = 2^-23 relative, about 1.2e-7):
 *   cos/sin(2 pi p / q)  p, q integers: the reduction to [0, pi/4] is exact
 *                        (integer arithmetic on p mod q), then Taylor
 *                        polynomials to degree 10 (cos) and 11 (sin), whose
 *                        truncation error is below 1.2e-10 on [0, pi/4];
 *                        float rounding leaves |error| < 3e-7.
 *   ln(x), x > 0 normal  x = m 2^e with m in [sqrt(1/2), sqrt(2)), ln m =
 *                        2 atanh(s), s = (m - 1) / (m + 1), |s| <= 0.1716,
 *                        as s (2 + 2/3 s^2 + ... + 2/9 s^8) (truncation
 *                        < 7e-10), plus e ln 2 with ln 2 split in two
 *                        floats; |error| < 2 ulp of the result + 3e-7.
 *   sqrt(x)              a bit-level first guess (relative error < 6 %)
 *                        and four Newton steps: within 1 ulp; inputs below
 *                        1e-30 give 0 (an error under 1e-15, far below the
 *                        1e-6 added before the log).
 * The tests compare the features with a float64 numpy/scipy computation
 * (tests/mfcc_reference.sh) and the chip's bits with the host's
 * (tests/mfcc_on_target.sh).
 *
 * What it leaves out: what the header says (fixed point, streaming).
 */
#include <string.h>

#include "mco_mfcc.h"

#define MFCC_PI_4 0.785398163397448309616f
#define MFCC_LOG_FLOOR 1e-6f

/* ---- Elementary functions ------------------------------------------------------- */

/* cos and sin of a in [0, pi/4] (Horner form of the Taylor series). */
static void cos_sin_octant(float a, float *c, float *s)
{
    float a2 = a * a;
    *c = 1.0f + a2 * (-1.0f / 2.0f + a2 * (1.0f / 24.0f + a2 * (-1.0f / 720.0f + a2 * (1.0f / 40320.0f +
         a2 * (-1.0f / 3628800.0f)))));
    *s = a * (1.0f + a2 * (-1.0f / 6.0f + a2 * (1.0f / 120.0f + a2 * (-1.0f / 5040.0f + a2 * (1.0f / 362880.0f +
         a2 * (-1.0f / 39916800.0f))))));
}

/* cos and sin of 2 pi p / q (q >= 1, |p| < 2^30, q < 2^24): the octant and
 * the offset in it are found in integers, so the angle's reduction adds no
 * error. */
static void cos_sin_turns(int32_t p, int32_t q, float *c, float *s)
{
    int32_t r = p % q, octant, t;
    float a, ca, sa;
    if (r < 0) r += q;
    /* 2 pi r / q = (pi / 4) (octant + t / q), t in [0, q) */
    octant = (int32_t)(((int64_t)r * 8) / q);
    t = (int32_t)((int64_t)r * 8 - (int64_t)octant * q);
    /* odd octants count back from the next multiple of pi/4 */
    a = MFCC_PI_4 * ((float)((octant & 1) ? q - t : t) / (float)q);
    cos_sin_octant(a, &ca, &sa);
    switch (octant) {
    case 0: *c = ca; *s = sa; break;          /* a */
    case 1: *c = sa; *s = ca; break;          /* pi/2 - a */
    case 2: *c = -sa; *s = ca; break;         /* pi/2 + a */
    case 3: *c = -ca; *s = sa; break;         /* pi - a */
    case 4: *c = -ca; *s = -sa; break;        /* pi + a */
    case 5: *c = -sa; *s = -ca; break;        /* 3 pi/2 - a */
    case 6: *c = sa; *s = -ca; break;         /* 3 pi/2 + a */
    default: *c = ca; *s = -sa; break;        /* 2 pi - a */
    }
}

static uint32_t float_bits(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static float bits_float(uint32_t u)
{
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* ln(x) for a positive normal x. */
static float log_positive(float x)
{
    uint32_t u = float_bits(x);
    int32_t e = (int32_t)((u >> 23) & 0xffu) - 127;
    float m = bits_float((u & 0x7fffffu) | 0x3f800000u), s, s2, e_f;
    if (m > 1.41421356f) {
        m *= 0.5f;
        e += 1;
    }
    s = (m - 1.0f) / (m + 1.0f);
    s2 = s * s;
    e_f = (float)e;
    return e_f * 1.42860677e-06f +
           (s * (2.0f + s2 * (2.0f / 3.0f + s2 * (2.0f / 5.0f + s2 * (2.0f / 7.0f + s2 * (2.0f / 9.0f))))) +
            e_f * 0.693145751953125f);
}

/* sqrt(x) for x >= 0. */
static float sqrt_nonnegative(float x)
{
    float y;
    int i;
    if (!(x > 1e-30f)) return 0.0f;
    y = bits_float((float_bits(x) >> 1) + 0x1fbd1df5u);
    for (i = 0; i < 4; i++) y = 0.5f * (y + x / y);
    return y;
}

/* The HTK mel scale. */
static float hz_to_mel(float hz)
{
    return 1127.0f * log_positive(1.0f + hz / 700.0f);
}

/* ---- Parameters and sizes ------------------------------------------------------- */

void mco_mfcc_default(mco_mfcc_params *p)
{
    p->sample_rate = 16000;
    p->n_samples = 16000;
    p->frame_length = 480;
    p->frame_stride = 320;
    p->fft_size = 512;
    p->n_mels = 40;
    p->n_coeffs = 10;
    p->lower_hz = 20.0f;
    p->upper_hz = 4000.0f;
}

mco_rt_status mco_mfcc_check(const mco_mfcc_params *p)
{
    if (!p || p->sample_rate < 1000 || p->sample_rate > 192000) return MCO_RT_ARG_ERROR;
    if (p->fft_size < 16 || p->fft_size > MCO_MFCC_MAX_FFT || (p->fft_size & (p->fft_size - 1)) != 0)
        return MCO_RT_ARG_ERROR;
    if (p->frame_length < 16 || p->frame_length > p->fft_size || p->frame_stride < 1) return MCO_RT_ARG_ERROR;
    if (p->n_samples < p->frame_length || p->n_samples > 16 * 192000) return MCO_RT_ARG_ERROR;
    if (p->n_mels < 1 || p->n_mels > MCO_MFCC_MAX_MELS || p->n_mels > p->fft_size / 2) return MCO_RT_ARG_ERROR;
    if (p->n_coeffs < 0 || p->n_coeffs > p->n_mels) return MCO_RT_ARG_ERROR;
    /* written so that a NaN fails too */
    if (!(p->lower_hz >= 0.0f && p->upper_hz > p->lower_hz && p->upper_hz <= 0.5f * (float)p->sample_rate))
        return MCO_RT_ARG_ERROR;
    return MCO_RT_OK;
}

int32_t mco_mfcc_frames(const mco_mfcc_params *p)
{
    return mco_mfcc_check(p) == MCO_RT_OK ? 1 + (p->n_samples - p->frame_length) / p->frame_stride : 0;
}

int32_t mco_mfcc_frame_values(const mco_mfcc_params *p)
{
    if (mco_mfcc_check(p) != MCO_RT_OK) return 0;
    return p->n_coeffs > 0 ? p->n_coeffs : p->n_mels;
}

/* The tables' layout in the buffer, in floats (every array is 4-byte
 * aligned; the int16 segment array is rounded up to whole floats). */
typedef struct {
    int32_t window, cos_table, sin_table, segment, rise, fall, dct, total;
} table_layout;

static table_layout layout_of(const mco_mfcc_params *p)
{
    table_layout l;
    int32_t bins = p->fft_size / 2 + 1;
    l.window = 0;
    l.cos_table = l.window + p->frame_length;
    l.sin_table = l.cos_table + p->fft_size / 2;
    l.segment = l.sin_table + p->fft_size / 2;
    l.rise = l.segment + (bins + 1) / 2;
    l.fall = l.rise + bins;
    l.dct = l.fall + bins;
    l.total = l.dct + p->n_coeffs * p->n_mels;
    return l;
}

int32_t mco_mfcc_tables_get_buffer_size(const mco_mfcc_params *p)
{
    if (mco_mfcc_check(p) != MCO_RT_OK) return 0;
    return layout_of(p).total * (int32_t)sizeof(float);
}

int32_t mco_mfcc_get_buffer_size(const mco_mfcc_params *p)
{
    if (mco_mfcc_check(p) != MCO_RT_OK) return 0;
    /* the complex FFT's fft_size / 2 points, then the mel energies */
    return (p->fft_size + p->n_mels) * (int32_t)sizeof(float);
}

/* ---- Tables --------------------------------------------------------------------- */

mco_rt_status mco_mfcc_tables_init(const mco_mfcc_params *p, void *buffer, mco_mfcc_tables *t)
{
    float *f = (float *)buffer, *window, *cos_table, *sin_table, *rise, *fall, *dct, edges[MCO_MFCC_MAX_MELS + 2];
    int16_t *segment;
    float mel_low, mel_step, scale, unused;
    int32_t half, k, j, n;
    table_layout l;
    if (mco_mfcc_check(p) != MCO_RT_OK || !buffer || !t) return MCO_RT_ARG_ERROR;
    l = layout_of(p);
    half = p->fft_size / 2;
    window = f + l.window;
    cos_table = f + l.cos_table;
    sin_table = f + l.sin_table;
    segment = (int16_t *)(void *)(f + l.segment);
    rise = f + l.rise;
    fall = f + l.fall;
    dct = f + l.dct;

    /* periodic Hann window */
    for (n = 0; n < p->frame_length; n++) {
        float c;
        cos_sin_turns(n, p->frame_length, &c, &unused);
        window[n] = 0.5f - 0.5f * c;
    }
    for (k = 0; k < half; k++) cos_sin_turns(k, p->fft_size, &cos_table[k], &sin_table[k]);

    /* the band edges, evenly spaced in mel */
    mel_low = hz_to_mel(p->lower_hz);
    mel_step = (hz_to_mel(p->upper_hz) - mel_low) / (float)(p->n_mels + 1);
    for (j = 0; j < p->n_mels + 2; j++) edges[j] = mel_low + (float)j * mel_step;
    /* each bin lies in at most one segment [e_j, e_j+1): rising in band j,
     * falling in band j - 1 */
    for (k = 0; k <= half; k++) {
        float mel = hz_to_mel((float)k * (float)p->sample_rate / (float)p->fft_size);
        segment[k] = -1;
        rise[k] = 0.0f;
        fall[k] = 0.0f;
        if (k == 0) continue;   /* the DC bin is in no band (as TensorFlow's) */
        for (j = 0; j <= p->n_mels; j++)
            if (mel >= edges[j] && mel < edges[j + 1]) {
                float width = edges[j + 1] - edges[j];
                segment[k] = (int16_t)j;
                rise[k] = (mel - edges[j]) / width;
                fall[k] = (edges[j + 1] - mel) / width;
                break;
            }
    }

    /* DCT-II, scaled by sqrt(2 / n_mels) */
    scale = sqrt_nonnegative(2.0f / (float)p->n_mels);
    for (k = 0; k < p->n_coeffs; k++)
        for (n = 0; n < p->n_mels; n++) {
            float c;
            cos_sin_turns(k * (2 * n + 1), 4 * p->n_mels, &c, &unused);
            dct[k * p->n_mels + n] = scale * c;
        }

    t->window = window;
    t->cos_table = cos_table;
    t->sin_table = sin_table;
    t->mel_segment = segment;
    t->mel_rise = rise;
    t->mel_fall = fall;
    t->dct = p->n_coeffs > 0 ? dct : NULL;
    return MCO_RT_OK;
}

/* ---- FFT ------------------------------------------------------------------------ */

/* In-place complex FFT (forward, e^-i) of m points (a power of two), z
 * interleaved re, im; the twiddle of step j is table index j * stride. */
static void complex_fft(float *z, int32_t m, const float *cos_table, const float *sin_table, int32_t stride)
{
    int32_t i, j, len;
    /* bit-reversal permutation */
    for (i = 1, j = 0; i < m; i++) {
        int32_t bit = m >> 1;
        for (; j & bit; bit >>= 1) j ^= bit;
        j |= bit;
        if (i < j) {
            float re = z[2 * i], im = z[2 * i + 1];
            z[2 * i] = z[2 * j];
            z[2 * i + 1] = z[2 * j + 1];
            z[2 * j] = re;
            z[2 * j + 1] = im;
        }
    }
    /* butterflies */
    for (len = 2; len <= m; len <<= 1) {
        int32_t half = len >> 1, step = (m / len) * stride, start, k;
        for (start = 0; start < m; start += len)
            for (k = 0; k < half; k++) {
                float c = cos_table[k * step], s = sin_table[k * step];
                float *a = z + 2 * (start + k), *b = z + 2 * (start + k + half);
                /* b * e^-i theta = (br c + bi s) + i (bi c - br s) */
                float tr = b[0] * c + b[1] * s, ti = b[1] * c - b[0] * s;
                b[0] = a[0] - tr;
                b[1] = a[1] - ti;
                a[0] = a[0] + tr;
                a[1] = a[1] + ti;
            }
    }
}

static float magnitude_real(float x)
{
    return x < 0.0f ? -x : x;
}

/* Adds |X[k]| of bin k, weighted, to its bands. */
static void add_to_bands(const mco_mfcc_tables *t, int32_t n_mels, int32_t k, float magnitude, float *mel)
{
    int32_t j = t->mel_segment[k];
    if (j < 0) return;
    if (j < n_mels) mel[j] += t->mel_rise[k] * magnitude;
    if (j >= 1) mel[j - 1] += t->mel_fall[k] * magnitude;
}

/* The mel energies of one frame (frame_length samples at pcm). z holds
 * fft_size floats. */
static void frame_mel(const mco_mfcc_params *p, const mco_mfcc_tables *t, const int16_t *pcm, float *z, float *mel)
{
    int32_t n = p->fft_size, m = n / 2, i, k;
    /* the windowed frame, zero-padded, as m complex points x[2i] + i x[2i+1] */
    for (i = 0; i < n; i++)
        z[i] = i < p->frame_length ? (float)pcm[i] * (1.0f / 32768.0f) * t->window[i] : 0.0f;
    complex_fft(z, m, t->cos_table, t->sin_table, 2);
    for (i = 0; i < p->n_mels; i++) mel[i] = 0.0f;
    /* the real spectrum from the half-size complex one:
     * X[k] = E[k] + e^(-2 pi i k / n) O[k], E = (Z[k] + conj Z[m-k]) / 2,
     * O = (Z[k] - conj Z[m-k]) / 2i; X[0] and X[m] are real */
    add_to_bands(t, p->n_mels, 0, magnitude_real(z[0] + z[1]), mel);
    for (k = 1; k < m; k++) {
        float ar = z[2 * k], ai = z[2 * k + 1], br = z[2 * (m - k)], bi = -z[2 * (m - k) + 1];
        float er = 0.5f * (ar + br), ei = 0.5f * (ai + bi);
        float or_ = 0.5f * (ai - bi), oi = -0.5f * (ar - br);
        float c = t->cos_table[k], s = t->sin_table[k];
        float xr = er + (c * or_ + s * oi), xi = ei + (c * oi - s * or_);
        add_to_bands(t, p->n_mels, k, sqrt_nonnegative(xr * xr + xi * xi), mel);
    }
    add_to_bands(t, p->n_mels, m, magnitude_real(z[0] - z[1]), mel);
}

mco_rt_status mco_mfcc_s16(const mco_mfcc_params *p, const mco_mfcc_tables *t, const int16_t *pcm,
                           void *scratch, float *out)
{
    float *z = (float *)scratch, *mel;
    int32_t frames, f, i, k;
    if (mco_mfcc_check(p) != MCO_RT_OK || !t || !pcm || !scratch || !out) return MCO_RT_ARG_ERROR;
    if (!t->window || !t->cos_table || !t->sin_table || !t->mel_segment || !t->mel_rise || !t->mel_fall ||
        (p->n_coeffs > 0 && !t->dct))
        return MCO_RT_ARG_ERROR;
    mel = z + p->fft_size;
    frames = mco_mfcc_frames(p);
    for (f = 0; f < frames; f++) {
        frame_mel(p, t, pcm + f * p->frame_stride, z, mel);
        for (i = 0; i < p->n_mels; i++) mel[i] = log_positive(mel[i] + MFCC_LOG_FLOOR);
        if (p->n_coeffs == 0) {
            memcpy(out + f * p->n_mels, mel, (size_t)p->n_mels * sizeof *mel);
            continue;
        }
        for (k = 0; k < p->n_coeffs; k++) {
            float sum = 0.0f;
            const float *row = t->dct + k * p->n_mels;
            for (i = 0; i < p->n_mels; i++) sum += row[i] * mel[i];
            out[f * p->n_coeffs + k] = sum;
        }
    }
    return MCO_RT_OK;
}
