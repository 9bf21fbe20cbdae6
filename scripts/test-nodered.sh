#!/usr/bin/env bash
# The Node-RED palette's checks (nodered/, @acurev/node-red-acurev):
#   1. installs its dev dependencies from package-lock.json (npm ci, into nodered/node_modules,
#      gitignored; skipped while the lock file is unchanged since the last install);
#   2. eslint;
#   3. mocha: the nodes in a real Node-RED 4 runtime (node-red-node-test-helper) against a small
#      fake bridge in JS (test/fake-bridge.js), and the example flows;
#   4. the end-to-end check (tests/bridge/test_api_nodered_e2e.py, through nodered/tools/demo.js):
#      npm pack, the tarball installed into a fresh Node-RED user directory, Node-RED started on
#      127.0.0.1, the example flows deployed through the admin API and driven through their
#      http-in endpoints against the real bridge on a real Home Assistant with the simulator.
# Needs node >= 18 and npm (Node 20 here) and the npm registry (for step 1 and the palette's one
# runtime dependency, ws, in step 4; npm's cache serves repeats). ~15 s cold, ~5 s warm.
#
#   scripts/test-nodered.sh            (scripts/test.sh calls it)
#   ACUREV_NODERED_E2E=0 scripts/test-nodered.sh    steps 1-3 only
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in node npm; do
  command -v "$tool" >/dev/null || {
    echo "test-nodered: $tool not found; install Node.js >= 18 with npm (Debian: apt-get install nodejs npm)" >&2
    exit 1
  }
done

export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false

echo "== node-red palette: dependencies (node $(node --version), npm $(npm --version))" >&2
stamp=nodered/node_modules/.acurev-lock-hash
want=$(sha256sum nodered/package-lock.json | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  (cd nodered && npm ci --no-progress >&2)
  echo "$want" >"$stamp"
fi

echo "== node-red palette: eslint" >&2
(cd nodered && npx --no-install eslint .)

echo "== node-red palette: mocha (Node-RED $(node -p "require('./nodered/node_modules/node-red/package.json').version"))" >&2
(cd nodered && npx --no-install mocha --reporter dot 'test/**/*_spec.js')

if [ "${ACUREV_NODERED_E2E:-1}" != "0" ]; then
  echo "== node-red palette: end to end (packed palette, real Node-RED, real bridge)" >&2
  .venv/bin/python -m pytest -q -p no:cacheprovider tests/bridge/test_api_nodered_e2e.py
fi
