/*
 * audio_frontend.c - the audio front-end's parameters as a model records
 * them (mcuopt/graph.h: mco_audio_frontend): the MLPerf Tiny default, the
 * check against the MCU runtime's ranges (runtime/mco_mfcc.c's
 * mco_mfcc_check, the one place the ranges are written), the features'
 * shape, a model's front-end against its input, and a one-line
 * description.
 *
 * What it leaves out: computing features (runtime/mco_mfcc.c does, for
 * the audio reader on the host and the emitted code on the chip).
 */
#include "mcuopt/audio_frontend.h"

#include <stdio.h>

#include "mco_mfcc.h"

void mco_audio_frontend_default(mco_audio_frontend *a)
{
    mco_mfcc_params p;
    mco_mfcc_default(&p);
    a->sample_rate = p.sample_rate;
    a->clip_samples = p.n_samples;
    a->frame_length = p.frame_length;
    a->frame_stride = p.frame_stride;
    a->fft_size = p.fft_size;
    a->n_mels = p.n_mels;
    a->n_coeffs = p.n_coeffs;
    a->lower_hz = p.lower_hz;
    a->upper_hz = p.upper_hz;
    a->window_frames = 0;
}

void mco_audio_frontend_machine_default(mco_audio_frontend *a)
{
    *a = (mco_audio_frontend){.sample_rate = 16000, .clip_samples = 160000, .frame_length = 1024,
                              .frame_stride = 512, .fft_size = 1024, .n_mels = 128, .n_coeffs = 0,
                              .lower_hz = 0.0f, .upper_hz = 8000.0f, .window_frames = 5};
}

mco_status mco_audio_frontend_params(const mco_audio_frontend *a, mco_mfcc_params *p)
{
    p->sample_rate = a->sample_rate;
    p->n_samples = a->clip_samples;
    p->frame_length = a->frame_length;
    p->frame_stride = a->frame_stride;
    p->fft_size = a->fft_size;
    p->n_mels = a->n_mels;
    p->n_coeffs = a->n_coeffs;
    p->lower_hz = a->lower_hz;
    p->upper_hz = a->upper_hz;
    if (mco_mfcc_check(p) != MCO_RT_OK)
        return mco_error(MCO_ERR_ARG, "audio front-end parameters out of range: %d Hz, %d-sample clips, frames of %d "
                         "every %d, FFT %d, %d mel bands from %g to %g Hz, %d coefficients (the FFT size a power of "
                         "two from 16 to %d and at least the frame, at most %d bands and half the FFT size, "
                         "coefficients at most the bands, the bands below half the rate)",
                         a->sample_rate, a->clip_samples, a->frame_length, a->frame_stride, a->fft_size, a->n_mels,
                         (double)a->lower_hz, (double)a->upper_hz, a->n_coeffs, MCO_MFCC_MAX_FFT, MCO_MFCC_MAX_MELS);
    return MCO_OK;
}

mco_status mco_audio_frontend_shape(const mco_audio_frontend *a, mco_shape *shape)
{
    mco_mfcc_params p;
    mco_status st = mco_audio_frontend_params(a, &p);
    if (st != MCO_OK) return st;
    int frames = (int)mco_mfcc_frames(&p), values = (int)mco_mfcc_frame_values(&p);
    if (a->window_frames < 0 || a->window_frames > frames)
        return mco_error(MCO_ERR_ARG, "audio front-end: windows of %d frames, but a clip has %d", a->window_frames,
                         frames);
    *shape = a->window_frames ? (mco_shape){1, 1, a->window_frames * values} : (mco_shape){frames, values, 1};
    return MCO_OK;
}

mco_status mco_model_check_frontend(const mco_model *model)
{
    if (!model->has_frontend) return MCO_OK;
    mco_shape f = {0, 0, 0}, m = model->input_shape;
    mco_status st = mco_audio_frontend_shape(&model->frontend, &f);
    if (st != MCO_OK) return st;
    if (f.h != m.h || f.w != m.w || f.c != m.c)
        return mco_error(MCO_ERR_SHAPE, "the audio front-end gives %dx%dx%d features but the model takes %dx%dx%d",
                         f.h, f.w, f.c, m.h, m.w, m.c);
    return MCO_OK;
}

void mco_audio_frontend_describe(const mco_audio_frontend *a, char *buf, size_t size)
{
    mco_shape s = {0, 0, 0};
    if (mco_audio_frontend_shape(a, &s) != MCO_OK) mco_clear_error();
    char coeffs[40] = ", no DCT";
    if (a->n_coeffs) snprintf(coeffs, sizeof coeffs, ", %d coefficients", a->n_coeffs);
    snprintf(buf, size, "%s %dx%d from %d samples at %d Hz (frames of %d every %d, FFT %d, %d mel bands %g-%g Hz%s)",
             a->n_coeffs ? "MFCC" : "log-mel", s.h, s.w, a->clip_samples, a->sample_rate, a->frame_length,
             a->frame_stride, a->fft_size, a->n_mels, (double)a->lower_hz, (double)a->upper_hz, coeffs);
}
