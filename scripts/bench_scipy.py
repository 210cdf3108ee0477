"""The scipy way, as a reference for scripts/bench_night.sh.

Reads a WAV night (2 EMG channels), zero-phase band-pass (4th-order
Butterworth 20-150 Hz, sosfiltfilt) and 50 Hz notch (iirnotch Q=30, filtfilt),
then 0.25 s Hann windows every 0.1 s with rfft, band RMS in 20-150 Hz, and a
fixed threshold over the night's 20th percentile. Prints the number of
supra-threshold windows per channel. Not part of CI.
"""
import sys

import numpy as np
import soundfile as sf
from scipy import signal


def main(path, gain_uv=0.05):
    x, fs = sf.read(path, dtype="int16", always_2d=True)
    x = x.astype(np.float64) * gain_uv
    sos = signal.butter(4, [20, 150], btype="bandpass", fs=fs, output="sos")
    b, a = signal.iirnotch(50.0, 30.0, fs=fs)
    win = int(round(0.25 * fs))
    hop = int(round(0.1 * fs))
    w = signal.get_window("hann", win)
    freqs = np.fft.rfftfreq(win, 1.0 / fs)
    band = (freqs >= 20) & (freqs <= 150)
    scale = 2.0 / (win * np.sum(w**2))
    for c in range(x.shape[1]):
        y = signal.sosfiltfilt(sos, x[:, c])
        y = signal.filtfilt(b, a, y)
        frames = np.lib.stride_tricks.sliding_window_view(y, win)[::hop]
        spec = np.fft.rfft(frames * w, axis=1)
        rms = np.sqrt(scale * np.sum(np.abs(spec[:, band]) ** 2, axis=1))
        thr = np.percentile(rms, 20) + 8.0
        print(f"channel {c}: {len(rms)} windows, {int(np.sum(rms > thr))} above threshold")


if __name__ == "__main__":
    main(sys.argv[1])
