#!/usr/bin/env bash
# The README's test command: set up, lint, type-check, then run the suite on
#   1. Home Assistant 2025.4.4 + pymodbus 3.8.3 (host Python 3.13.0), with coverage;
#   2. the protocol layer and simulator against the newest pymodbus;
#   3. the newest Home Assistant this machine can reach (Python 3.14, Debian sid chroot):
#      2026.10.4 with its matching phcc, and 2026.11.0 beside that phcc.
# ACUREV_SKIP_LATEST=1 skips step 3 for a quick local run (CI never sets it).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
scripts/install-snmp-tools.sh   # net-snmp and smilint: the SNMP tests' independent clients

echo "== ruff" >&2
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== mypy --strict (pyacurev, integration, simulator, bridge)" >&2
.venv/bin/mypy pyacurev custom_components/acurev acurev_simulator bacnet_bridge

echo "== Node-RED palette: eslint, mocha in a real Node-RED, packed-tarball end to end" >&2
ACUREV_NODERED_E2E=0 scripts/test-nodered.sh  # the e2e runs once, in pytest below

echo "== pytest: HA 2025.4.4, pymodbus 3.8.3" >&2
.venv/bin/python -m pytest -q -p no:cacheprovider \
  --cov=custom_components/acurev --cov-report=term-missing:skip-covered --cov-fail-under=95

echo "== pytest: protocol + simulator on the newest pymodbus" >&2
.venv-pymodbus-latest/bin/python -m pytest -q -p no:cacheprovider -m protocol \
  tests/protocol tests/simulator tests/library

if [ "${ACUREV_SKIP_LATEST:-0}" != "1" ]; then
  echo "== pytest: newest Home Assistant (Python 3.14 chroot)" >&2
  scripts/ha-latest.sh -q -p no:cacheprovider -m "not packaging"
  echo "== pytest: Home Assistant 2026.11.0 (no matching phcc yet; see scripts/ha-latest.sh)" >&2
  ACUREV_HA=2026.11.0 scripts/ha-latest.sh -q -p no:cacheprovider -m "not packaging"
fi
