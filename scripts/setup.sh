#!/usr/bin/env bash
# Creates .venv (Python >= 3.13, Home Assistant + test tools) and .venv-pymodbus-latest
# (protocol layer against the newest pymodbus). Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

find_python() {
  local cand
  for cand in "${ACUREV_PYTHON:-}" python3.14 python3.13 \
      "$(pyenv root 2>/dev/null)/versions/3.13.0/bin/python" \
      "$HOME/.pyenv/versions/3.13.0/bin/python" python3; do
    [ -n "$cand" ] || continue
    command -v "$cand" >/dev/null 2>&1 || [ -x "$cand" ] || continue
    if "$cand" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 13) else 1)' 2>/dev/null; then
      echo "$cand"; return 0
    fi
  done
  return 1
}

PY=$(find_python) || { echo "setup: no Python >= 3.13 found (set ACUREV_PYTHON)" >&2; exit 1; }
export SSL_CERT_FILE=${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}

stamp_ok() { [ -f "$1/.stamp" ] && [ "$(cat "$1/.stamp")" = "$2" ]; }

make_env() {  # make_env DIR STAMP REQ-ARGS...
  local dir=$1 stamp=$2; shift 2
  if stamp_ok "$dir" "$stamp"; then return 0; fi
  # A changed requirement installs into the existing venv (uv only adds what is missing), so a
  # run that is using the venv meanwhile is not pulled from under its feet; a venv of another
  # Python is rebuilt.
  if [ ! -x "$dir/bin/python" ] || [ "$("$dir/bin/python" -V 2>&1)" != "$("$PY" -V 2>&1)" ]; then
    echo "setup: building $dir with $("$PY" -V)" >&2
    rm -rf "$dir"
    "$PY" -m venv "$dir"
    "$dir/bin/python" -m pip install -q uv
  else
    echo "setup: updating $dir" >&2
  fi
  "$dir/bin/python" -m uv pip install -q --python "$dir/bin/python" "$@"
  echo "$stamp" > "$dir/.stamp"
}

req_hash=$(cat requirements/*.txt pyproject.toml pyacurev/pyproject.toml acurev_simulator/pyproject.toml \
  | sha256sum | cut -c1-16)
# requirements/demo.txt: what scripts/demo.sh needs to start a real Home Assistant offline.
# The library and the simulator are installed from the repository path (editable), as a user
# would install them from PyPI; tests import them from the checkout either way.
LOCAL=(-e ./pyacurev -e ./acurev_simulator)
make_env .venv "$req_hash" -r requirements/test.txt -r requirements/demo.txt -r requirements/bridge.txt \
  "${LOCAL[@]}" -c requirements/pymodbus-floor.txt
make_env .venv-pymodbus-latest "$req_hash" -r requirements/protocol-latest.txt "${LOCAL[@]}"
echo "setup: ok ($("$ROOT/.venv/bin/python" -V))" >&2
