#!/usr/bin/env bash
# The Python package (issue 20): builds the wheel with maturin, installs it
# with numpy, pandas, pytest and mne into a virtual environment under
# target/python, and runs pytest on tests/python against the CLI binary.
# Prints "skipped: ..." and exits 0 where Python or the packages cannot be
# installed. Run: bash tests/python/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
work=target/python
venv="$work/venv"
mkdir -p "$work"
if ! command -v python3 >/dev/null 2>&1; then
  echo "skipped: tests/python needs python3, which is not installed"
  exit 0
fi
if [ ! -x "$venv/bin/pytest" ]; then
  rm -rf "$venv"
  if ! { python3 -m venv "$venv" && "$venv/bin/pip" install -q maturin numpy pandas pytest mne; } >"$work/pip.log" 2>&1; then
    echo "skipped: tests/python could not install maturin, numpy, pandas, pytest and mne from PyPI (see $work/pip.log)"
    exit 0
  fi
fi
cargo build --release -q
rm -rf "$work/wheels"
"$venv/bin/maturin" build --release -q -o "$work/wheels"
"$venv/bin/pip" install -q --force-reinstall --no-deps "$work"/wheels/crampscan-*.whl
CRAMPSCAN_BIN="$PWD/target/release/crampscan" "$venv/bin/pytest" -q tests/python
