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
. tests/python_env.sh
python_env tests/python "$venv" maturin numpy pandas pytest mne || exit 0
cargo build --release -q
rm -rf "$work/wheels"
"$venv/bin/maturin" build --release -q -o "$work/wheels"
"$venv/bin/pip" install -q --force-reinstall --no-deps "$work"/wheels/crampscan-*.whl
CRAMPSCAN_BIN="$PWD/target/release/crampscan" "$venv/bin/pytest" -q tests/python
