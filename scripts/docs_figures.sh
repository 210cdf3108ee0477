#!/usr/bin/env bash
# Regenerates the figures shown in the README (data/figures/) from the sample
# nights in data/: the overview of wavnight01 (SVG) and its cramp's
# close-up (PNG). Run from anywhere; needs only cargo.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cargo run --release -q -- scan data -o "$out" --plots >/dev/null
cp "$out/report/figures/wavnight01/overview.svg" data/figures/overview-wavnight01.svg
cp "$out"/report/figures/wavnight01/episode-*.png data/figures/closeup-wavnight01-cramp.png
