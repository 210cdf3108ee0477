#!/usr/bin/env bash
# Event files read by the field's own tools (issue 18, item 6): simulated
# PSG nights as EDF at 200, 256 and 500 Hz, scanned with --events all, and
# each night's .events.edf, .events.xml, .events.annot and _events.tsv
# read back with MNE, Luna (lunapi) and pandas by check_events.py against
# episodes.csv. Python packages from PyPI into a virtual environment under
# target/interop; prints "skipped: ..." and exits 0 where they cannot be
# installed. Run: bash tests/interop/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
work=target/interop
venv="$work/venv"
. tests/python_env.sh
python_env tests/interop "$venv" mne lunapi numpy pandas || exit 0
cargo build --release -q
bin=target/release/crampscan
for fs in 200 256 500; do
  rm -rf "$work/sim_$fs" "$work/out_$fs"
  "$bin" simulate --difficulty psg --format edf --hours 0.25 --emg-fs "$fs" --seed "$fs" -o "$work/sim_$fs" >/dev/null
  "$bin" scan "$work/sim_$fs" --events all -o "$work/out_$fs" >/dev/null 2>&1
  echo "== $fs Hz"
  "$venv/bin/python" tests/interop/check_events.py "$work/out_$fs" "$work/sim_$fs/night01_emg.edf" "$fs" 2>&1 \
    | grep -vE '^(initiated lunapi|_{10,}|Processing:| duration | signals:|  [a-z_]+ \||  extracting| \.{10,}| CMD #| +options:|  set epochs|  keeping annotations|\s*$)'
done
