#!/usr/bin/env python3
"""Writes the scipy reference fixtures for crampscan's DSP core.

Output: tests/fixtures/dsp/{butter,filter,welch,notch}.json, read by
tests/dsp_scipy.rs. CI never runs this script; rerun it by hand after
changing the grid:

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install numpy scipy
    /tmp/venv/bin/python scripts/gen_dsp_fixtures.py

Input signals are generated here (seeded) and stored, so Rust never needs
numpy's RNG. They are float32 values written with 9 significant digits, which
round-trip exactly: Rust reads the same numbers scipy filtered (as float64).
"""

import json
import os
import sys

import numpy as np
import scipy
import scipy.signal as sig

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "dsp")
RATES_HZ = [200.0, 256.0, 500.0, 1000.0, 2000.0]


def f32_list(x):
    """float32 samples as exact short decimal strings turned back into floats."""
    return [float("%.9g" % v) for v in np.asarray(x, dtype=np.float32)]


def rounded(x, digits=15):
    return [float("%.*g" % (digits, v)) for v in np.asarray(x, dtype=np.float64)]


def exact(x):
    """float64 values written so that they read back bit for bit."""
    return [float(repr(float(v))) for v in np.asarray(x, dtype=np.float64).ravel()]


def signal(seed, n, fs):
    """Seeded noise (µV-like scale) plus a small offset and a 50 Hz hum, as float32."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / fs
    x = 20.0 * rng.standard_normal(n) + 3.0 + 8.0 * np.sin(2 * np.pi * 50.0 * t + 0.4)
    return np.asarray(x, dtype=np.float32)


def butter_grid():
    cases = []
    for fs in RATES_HZ:
        nyq = fs / 2
        lows = [1.0, 20.0, 0.45 * fs]
        # The last band is symmetric about fs/4 (lo + hi = fs/2): its z-plane
        # poles come in mirror pairs of equal modulus, and scipy's section
        # ordering between them is decided by rounding (SIMD tan, FMA), which
        # depends on the CPU. Those designs are marked `tie`.
        bands = [(20.0, min(150.0, 0.45 * fs)), (0.5, 35.0), (0.2 * fs, 0.35 * fs), (0.2 * fs, 0.3 * fs)]
        for order in range(1, 9):
            for btype in ["lowpass", "highpass"]:
                for fc in lows:
                    assert fc < nyq
                    sos = sig.butter(order, fc, btype, fs=fs, output="sos")
                    cases.append(dict(order=order, btype=btype, fs=fs, wn=[fc], tie=False, sos=exact(sos)))
            for btype in ["bandpass", "bandstop"]:
                for lo, hi in bands:
                    sos = sig.butter(order, [lo, hi], btype, fs=fs, output="sos")
                    tie = abs((lo + hi) - fs / 2) < 1e-9 * fs
                    cases.append(dict(order=order, btype=btype, fs=fs, wn=[lo, hi], tie=tie, sos=exact(sos)))
    return cases


def filter_cases():
    """sosfilt and sosfiltfilt of seeded signals, including lengths just above the padding."""
    specs = [
        # (order, btype, wn, fs, n, seed)
        (4, "bandpass", [20.0, 150.0], 1000.0, 1500, 1),
        (2, "highpass", [10.0], 256.0, 700, 2),
        (8, "lowpass", [30.0], 200.0, 600, 3),
        (3, "bandstop", [45.0, 55.0], 500.0, 800, 4),
        (1, "highpass", [0.5], 2000.0, 600, 5),
    ]
    cases = []
    for order, btype, wn, fs, n, seed in specs:
        sos = sig.butter(order, wn if len(wn) > 1 else wn[0], btype, fs=fs, output="sos")
        ntaps = 2 * len(sos) + 1 - min((sos[:, 2] == 0).sum(), (sos[:, 5] == 0).sum())
        padlen = 3 * int(ntaps)
        for length in [n, padlen + 1, padlen + 7]:
            x32 = signal(seed * 100 + length, length, fs)
            x = x32.astype(np.float64)
            cases.append(
                dict(
                    order=order,
                    btype=btype,
                    wn=wn,
                    fs=fs,
                    padlen=padlen,
                    x=f32_list(x32),
                    sosfilt=rounded(sig.sosfilt(sos, x), 13),
                    sosfiltfilt=rounded(sig.sosfiltfilt(sos, x), 13),
                )
            )
    return dict(zi_check=zi_cases(), cases=cases)


def zi_cases():
    out = []
    for order, btype, wn, fs in [(4, "bandpass", [20.0, 150.0], 1000.0), (5, "lowpass", [40.0], 256.0)]:
        sos = sig.butter(order, wn if len(wn) > 1 else wn[0], btype, fs=fs, output="sos")
        out.append(dict(order=order, btype=btype, wn=wn, fs=fs, zi=exact(sig.sosfilt_zi(sos))))
    return out


def band_features(f, p, lo, hi):
    m = (f >= lo) & (f <= hi)
    fb, pb = f[m], p[m]
    total = pb.sum()
    mean = float((fb * pb).sum() / total)
    idx = int(np.argmax(np.cumsum(pb) >= 0.5 * total))
    return mean, float(fb[idx])


def welch_cases():
    fs = 1000.0
    x32 = signal(42, 4000, fs)
    x32 += np.asarray(30.0 * np.sin(2 * np.pi * 93.7 * np.arange(4000) / fs), dtype=np.float32)
    x = x32.astype(np.float64)
    short32 = signal(43, 200, fs)
    configs = [
        dict(nperseg=256, noverlap=None, scaling="density", short=False),
        dict(nperseg=256, noverlap=None, scaling="spectrum", short=False),
        dict(nperseg=500, noverlap=100, scaling="density", short=False),
        dict(nperseg=255, noverlap=200, scaling="spectrum", short=False),
        dict(nperseg=1000, noverlap=0, scaling="density", short=False),
        # Segment longer than the signal: scipy cuts it to the signal length.
        dict(nperseg=256, noverlap=None, scaling="density", short=True),
    ]
    cases = []
    for c in configs:
        data = short32.astype(np.float64) if c["short"] else x
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            f, p = sig.welch(
                data, fs=fs, nperseg=c["nperseg"], noverlap=c["noverlap"], scaling=c["scaling"]
            )
        mean, median = band_features(f, p, 20.0, 150.0)
        cases.append(
            dict(
                c,
                freqs=rounded(f, 15),
                psd=rounded(p, 15),
                mean_hz_20_150=mean,
                median_hz_20_150=median,
            )
        )
    return dict(fs=fs, x=f32_list(x32), short_x=f32_list(short32), cases=cases)


def notch_cases():
    designs = []
    for f0, q, fs in [(50.0, 30.0, 1000.0), (60.0, 30.0, 256.0), (50.0, 5.0, 200.0), (60.0, 35.0, 2000.0), (100.0, 0.7, 500.0)]:
        b, a = sig.iirnotch(f0, q, fs=fs)
        designs.append(dict(f0=f0, q=q, fs=fs, b=exact(b), a=exact(a)))
    combs = []
    for mains, q, fs, up_to in [(50.0, 30.0, 1000.0, 300.0), (60.0, 30.0, 500.0, 1000.0)]:
        secs = []
        k = 1
        while k * mains <= up_to and k * mains < fs / 2:
            b, a = sig.iirnotch(k * mains, k * q, fs=fs)
            secs.append(list(b) + list(a))
            k += 1
        sos = np.array(secs)
        x32 = signal(int(mains * 10 + fs), 1000, fs)
        freqs = [10.0, mains, 2 * mains, 75.0, 0.4 * fs]
        _, h = sig.sosfreqz(sos, worN=freqs, fs=fs)
        combs.append(
            dict(
                mains=mains,
                q=q,
                fs=fs,
                up_to=up_to,
                sos=exact(sos),
                x=f32_list(x32),
                sosfilt=rounded(sig.sosfilt(sos, x32.astype(np.float64)), 13),
                response_freqs=freqs,
                response_abs=rounded(np.abs(h), 15),
            )
        )
    return dict(designs=designs, combs=combs)


def main():
    os.makedirs(OUT, exist_ok=True)
    meta = dict(scipy=scipy.__version__, numpy=np.__version__, python=sys.version.split()[0])
    for name, payload in [
        ("butter", dict(cases=butter_grid())),
        ("filter", filter_cases()),
        ("welch", welch_cases()),
        ("notch", notch_cases()),
    ]:
        payload = dict(generated_by="scripts/gen_dsp_fixtures.py", versions=meta, **payload)
        path = os.path.join(OUT, name + ".json")
        with open(path, "w") as fh:
            json.dump(payload, fh, separators=(",", ":"))
            fh.write("\n")
        print(f"{path}: {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
