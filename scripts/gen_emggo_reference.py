#!/usr/bin/env python3
"""Independent reference for the emgGO ECG-contaminated recording: muscle
activity between the heartbeats, with the heartbeats cut out.

Input: ../shared/data/emggo-ecg/ecg_contaminated_2048hz.csv (8 channels,
2048 Hz, values taken as mV as in tests/real_data.rs).
Output: tests/fixtures/emggo_ecg_between_beats.csv, read by
tests/real_data.rs: per channel and per 0.5 s stretch, the RMS (uV) of the
zero-phase 20-150 Hz band-passed signal (the default EMG band) over the
samples outside every heartbeat (from 120 ms before to 200 ms after each
R peak), and the fraction of the stretch those samples make up. CI never runs this script:

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install numpy scipy
    /tmp/venv/bin/python scripts/gen_emggo_reference.py [SHARED_DATA_DIR]

R peaks are found once for all channels, on the sum over channels of each
channel's |deviation from its median| in units of its median absolute
deviation, at least 0.3 s apart.
"""

import os
import sys

import numpy as np
import scipy.signal as sig

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "shared", "data")
OUT = os.path.join(HERE, "..", "tests", "fixtures", "emggo_ecg_between_beats.csv")
FS_HZ = 2048.0
STRETCH_S = 0.5
BEFORE_R_S = 0.12
AFTER_R_S = 0.20


def main():
    path = os.path.join(DATA, "emggo-ecg", "ecg_contaminated_2048hz.csv")
    d = np.loadtxt(path, delimiter=",", skiprows=1)
    x_uv = d[:, 1:] * 1000.0
    dev = np.abs(x_uv - np.median(x_uv, axis=0))
    z = (dev / np.median(dev, axis=0)).sum(axis=1)
    peaks, _ = sig.find_peaks(z, height=np.percentile(z, 99) / 2, distance=int(0.3 * FS_HZ))
    keep = np.ones(len(z), bool)
    for p in peaks:
        keep[max(0, p - int(BEFORE_R_S * FS_HZ)) : p + int(AFTER_R_S * FS_HZ)] = False
    sos = sig.butter(4, [20.0, 150.0], btype="bandpass", fs=FS_HZ, output="sos")
    n = int(STRETCH_S * FS_HZ)
    with open(OUT, "w") as f:
        f.write("# scripts/gen_emggo_reference.py: %d R peaks at %s s\n"
                % (len(peaks), " ".join("%.2f" % (p / FS_HZ) for p in peaks)))
        f.write("channel,start_s,end_s,rms_between_beats_uv,fraction_between_beats\n")
        for c in range(x_uv.shape[1]):
            y = sig.sosfiltfilt(sos, x_uv[:, c])
            for i in range(0, len(y) - n + 1, n):
                k = keep[i : i + n]
                rms = np.sqrt(np.mean(y[i : i + n][k] ** 2)) if k.any() else float("nan")
                f.write("ch%d,%.1f,%.1f,%.2f,%.3f\n" % (c + 1, i / FS_HZ, (i + n) / FS_HZ, rms, k.mean()))


if __name__ == "__main__":
    main()
