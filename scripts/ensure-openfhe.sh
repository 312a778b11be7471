#!/usr/bin/env bash
# Threshold encrypted verification (facegate.templates.he.threshold) runs OpenFHE, whose PyPI
# wheels carry extensions for CPython 3.10 (built on Ubuntu 22.04, which this glibc and
# libstdc++ load) and 3.12 (built on 24.04: needs GCC 13's libstdc++). facegate itself runs on
# 3.11, so OpenFHE gets a venv of its own, .venv-openfhe, under a CPython 3.10 found on PATH
# or under pyenv. Without one the threshold mode says how to get it; nothing else needs it.
set -euo pipefail
VENV=${1:-.venv-openfhe}
PIN="openfhe==1.6.1.0.22.4"
if [ -x "$VENV/bin/python" ] && env -u PYTHONPATH "$VENV/bin/python" -c "import openfhe" 2>/dev/null; then
  exit 0
fi
py=""
for candidate in "${FACEGATE_OPENFHE_BASE_PYTHON:-}" \
    "$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"/versions/3.10*/bin/python3.10 \
    /usr/bin/python3.10 /usr/local/bin/python3.10 "$(command -v python3.10 || true)"; do
  # a pyenv shim is on PATH even where it cannot run 3.10: ask the interpreter itself
  if [ -n "$candidate" ] && [ -x "$candidate" ] && "$candidate" -c \
      'import sys, venv; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
    py=$candidate; break
  fi
done
if [ -z "$py" ]; then
  echo "no CPython 3.10 found: threshold encrypted verification (OpenFHE) stays unavailable;" \
       "install python3.10 (e.g. pyenv install 3.10) and run make install again" >&2
  exit 0
fi
# facegate's own PYTHONPATH (a test run's, say) must not reach the other interpreter
unset PYTHONPATH PYTHONHOME
rm -rf "$VENV"
"$py" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check "$PIN"
"$VENV/bin/python" -c "import openfhe"
chmod 700 "$VENV"
