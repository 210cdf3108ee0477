# Sourced by tests/interop/run.sh and tests/python/run.sh (CI steps that
# need Python packages from PyPI).
#
# python_env WHAT VENV PACKAGE...: makes the virtual environment VENV with
# the packages (kept for the next run while the list is the same), or
# prints "skipped: WHAT ..." and returns 1 where python3 or the packages
# cannot be had.
python_env() {
  local what=$1 venv=$2
  shift 2
  if ! command -v python3 >/dev/null 2>&1; then
    echo "skipped: $what needs python3, which is not installed"
    return 1
  fi
  if [ "$(cat "$venv/.packages" 2>/dev/null)" = "$*" ]; then
    return 0
  fi
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  if ! { python3 -m venv "$venv" && "$venv/bin/pip" install -q "$@"; } >"$venv.pip.log" 2>&1; then
    echo "skipped: $what could not install $* from PyPI (see $venv.pip.log)"
    return 1
  fi
  echo "$*" >"$venv/.packages"
}
