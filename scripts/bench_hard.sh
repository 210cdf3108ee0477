#!/usr/bin/env bash
# Leaderboard of the three detectors on 20 hard simulated nights (1 h each,
# seeds fixed by --seed 2026), as shown in the README ("Detectors on 20 hard nights" under "Validation and its limits").
# Usage: scripts/bench_hard.sh [WORKDIR]   (default /tmp/crampscan-hard)
set -euo pipefail
cd "$(dirname "$0")/.."
work="${1:-/tmp/crampscan-hard}"
rm -rf "$work"
cargo build --release --quiet
bin=target/release/crampscan
"$bin" simulate -o "$work/nights" --nights 20 --hours 1 --difficulty hard --format wav --seed 2026
"$bin" bench-detectors --nights "$work/nights" -o "$work/bench" --detectors fft-band,rms-envelope,tkeo
