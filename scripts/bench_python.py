"""crampscan.detect on arrays against the CLI on the same night (issue 20).

A simulated 1-hour night (two EMG channels at 1 kHz, WAV) is scanned by the
CLI, then read with crampscan.read and given to crampscan.detect as a
2 x 3,600,000 float32 array; both are timed (best of 3, wall clock) and
their episodes compared. Needs the wheel installed (bash tests/python/run.sh
builds it into target/python/venv). Run:
    target/python/venv/bin/python scripts/bench_python.py
"""

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import crampscan

BIN = sys.argv[1] if len(sys.argv) > 1 else "target/release/crampscan"


def best(f, n=3):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t)
    return min(times), out


with tempfile.TemporaryDirectory() as d:
    d = Path(d)
    crampscan.simulate(d / "in", nights=1, hours=1.0, seed=11, format="wav")
    (d / "in" / "night01_acc.wav").unlink()
    (d / "in" / "night01_acc_channels.tsv").unlink()
    (d / "in" / "night01_acc.json").unlink(missing_ok=True)
    cli_s, _ = best(lambda: subprocess.run([BIN, "scan", str(d / "in"), "-o", str(d / "out")],
                                           check=True, capture_output=True))
    emg = [c for c in crampscan.read(d / "in" / "night01_emg.wav") if c["kind"] == "emg"]
    x = np.stack([c["samples"] for c in emg])
    py_s, night = best(lambda: crampscan.detect(x, 1000.0, channel_names=[c["name"] for c in emg],
                                                night="night01", start_time="2026-01-01T23:00:00"))
    want = pd.read_csv(d / "out" / "episodes.csv")
    same = night.episodes.equals(want)
    print(f"1 h, 2 x 1 kHz EMG: CLI scan {cli_s:.3f} s, crampscan.detect {py_s:.3f} s "
          f"({py_s / cli_s:.2f} x the CLI); {len(want)} episodes, identical: {same}")
