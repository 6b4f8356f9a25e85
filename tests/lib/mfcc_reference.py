#!/usr/bin/python3
"""mfcc_reference.py - an independent float64 computation of the audio
front-end's features (runtime/mco_mfcc.h) with numpy and scipy, compared
with the C runtime's output.

Usage: mfcc_reference.py PCM.raw FEATURES.raw sample_rate n_samples
       frame_length frame_stride fft_size n_mels n_coeffs lower_hz upper_hz
       tolerance
PCM.raw holds int16 samples, FEATURES.raw the C code's float32 features
(frames x values). The mel matrix is written here from its formula
(TensorFlow's linear_to_mel_weight_matrix, HTK mel scale), the spectrum is
scipy.fft.rfft's, the DCT scipy.fft.dct's (type II, unnormalised, scaled by
1/sqrt(2 n_mels) as tf.signal.mfccs_from_log_mel_spectrograms). Prints the
largest absolute difference and exits 1 if it exceeds the tolerance.
"""
import sys

import numpy as np
import scipy.fft


def mel(hz):
    return 1127.0 * np.log1p(np.asarray(hz, dtype=np.float64) / 700.0)


def features(pcm, sr, n_samples, length, stride, fft, n_mels, n_coeffs, lo, hi):
    x = pcm[:n_samples].astype(np.float64) / 32768.0
    frames = 1 + (n_samples - length) // stride
    n = np.arange(length)
    window = 0.5 - 0.5 * np.cos(2.0 * np.pi * n / length)          # periodic Hann
    index = np.arange(length)[None, :] + stride * np.arange(frames)[:, None]
    spectrum = np.abs(scipy.fft.rfft(x[index] * window, n=fft, axis=1))
    edges = np.linspace(mel(lo), mel(hi), n_mels + 2)
    bin_mel = mel(np.arange(fft // 2 + 1) * sr / fft)
    weights = np.zeros((fft // 2 + 1, n_mels))
    for b in range(n_mels):
        rise = (bin_mel - edges[b]) / (edges[b + 1] - edges[b])
        fall = (edges[b + 2] - bin_mel) / (edges[b + 2] - edges[b + 1])
        weights[:, b] = np.maximum(0.0, np.minimum(rise, fall))
    weights[0, :] = 0.0                                               # no DC bin
    log_mel = np.log(spectrum @ weights + 1e-6)
    if n_coeffs == 0:
        return log_mel
    return scipy.fft.dct(log_mel, type=2, axis=1)[:, :n_coeffs] / np.sqrt(2.0 * n_mels)


def main():
    a = sys.argv[1:]
    if len(a) != 12:
        sys.exit(__doc__)
    pcm = np.fromfile(a[0], dtype="<i2")
    got = np.fromfile(a[1], dtype="<f4").astype(np.float64)
    sr, n_samples, length, stride, fft, n_mels, n_coeffs = (int(v) for v in a[2:9])
    lo, hi, tol = float(a[9]), float(a[10]), float(a[11])
    want = features(pcm, sr, n_samples, length, stride, fft, n_mels, n_coeffs, lo, hi)
    if got.size != want.size:
        print(f"size: C gave {got.size} values, the reference {want.size}")
        return 1
    diff = np.abs(got.reshape(want.shape) - want)
    worst = np.unravel_index(np.argmax(diff), diff.shape)
    print(f"max |C - numpy| = {diff.max():.3g} at frame {worst[0]} value {worst[1]} "
          f"(C {got.reshape(want.shape)[worst]:.6g}, numpy {want[worst]:.6g}), tolerance {tol:g}")
    return 0 if diff.max() <= tol else 1


if __name__ == "__main__":
    sys.exit(main())
