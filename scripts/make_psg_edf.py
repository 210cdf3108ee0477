"""Writes a night shaped like a clinical PSG export, with pyedflib (the
field's EDF library), for scripts/bench_night.sh (issue 21, item 4).

    python scripts/make_psg_edf.py OUT.edf [HOURS]

EDF+C, 1 s records, 22 signals plus the annotation signal: six EEG and two
EOG at 256 Hz, chin EMG 512, ECG 256, both legs (LAT, RAT) at 512, snore
512, airflow, nasal pressure, thorax, abdomen and pleth at 32 Hz, SpO2,
pulse, position and light at 1 Hz; low-amplitude noise (legs about 3 uV
RMS). The layout is benches/support/psg_layout.tsv, as for
benches/psg_edf.rs. Written a minute at a time,
so memory stays small.
"""

import sys
from pathlib import Path

import numpy as np
import pyedflib

# (label, unit, Hz, physical range +-), shared with benches/psg_edf.rs
LAYOUT = Path(__file__).resolve().parent.parent / "benches" / "support" / "psg_layout.tsv"


def signals():
    rows = LAYOUT.read_text().splitlines()[1:]
    out = []
    for row in filter(None, rows):
        label, unit, hz, r = row.split("\t")
        out.append((label, unit, int(hz), float(r)))
    return out


CHUNK_S = 60


def main():
    out = sys.argv[1]
    hours = float(sys.argv[2]) if len(sys.argv) > 2 else 8.0
    total_s = int(hours * 3600)
    layout = signals()
    w = pyedflib.EdfWriter(out, len(layout), file_type=pyedflib.FILETYPE_EDFPLUS)
    headers = []
    for label, unit, fs, r in layout:
        headers.append(
            {
                "label": label,
                "dimension": unit,
                "sample_frequency": fs,
                "physical_min": -r,
                "physical_max": r,
                "digital_min": -32768,
                "digital_max": 32767,
                "transducer": "",
                "prefilter": "",
            }
        )
    w.setSignalHeaders(headers)
    rng = np.random.default_rng(2026)
    for start in range(0, total_s, CHUNK_S):
        n_s = min(CHUNK_S, total_s - start)
        data = []
        for _, _, fs, r in layout:
            # About 3 uV RMS on the legs (0.1 uV per step), 10x elsewhere.
            sd = 30.0 if r > 3000 else 300.0
            d = np.clip(rng.normal(0.0, sd, fs * n_s), -32768, 32767).astype(np.int32)
            data.append(d)
        w.writeSamples(data, digital=True)
    w.close()


if __name__ == "__main__":
    main()
