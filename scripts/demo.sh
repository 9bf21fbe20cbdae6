#!/usr/bin/env bash
# The AcuRev demo: a real Home Assistant with the integration, talking to the simulator, the
# bridge (BACnet/IP, SNMP, the Node-RED API) and Node-RED with the AcuRev palette, set up with
# no clicks.
#
#   scripts/demo.sh            start everything, print URLs/logins/keys, run until Ctrl-C
#   scripts/demo.sh --check    start everything, verify end to end, take screenshots, exit 0/1
#
# Options: --speed N (simulator time factor, default 10: one real minute = ten simulated
#          minutes, so the energy counters visibly grow; faster than about 12 the meter counts
#          more energy per wall-clock second than its CT primaries x rated voltage allow, and
#          the integration's energy guard rightly holds those readings back), --no-forward (see below), --no-node-red (the
#          bridge but no Node-RED), --no-bridge (nor the bridge: Home Assistant and the simulator
#          only), --ha-only (no simulator, no AcuRev entry, no bridge: to debug the Home
#          Assistant side alone), -h/--help.
#
# Runs as root (network namespaces). From a fresh clone it:
#   1. runs scripts/setup.sh (.venv with Home Assistant 2025.4.4, its frontend, the packages its
#      auth imports, the bridge's packages, so nothing is installed at runtime) and
#      byte-compiles .venv once; installs the net-snmp tools (scripts/install-snmp-tools.sh),
#      `npm ci` in nodered/ (Node-RED 4 is a dev dependency of the palette) and the packed
#      palette into .demo/node-red: everything that needs a package registry happens here,
#      on the host, before anything starts in the namespace;
#   2. creates the network namespace "acurev-demo" with only a loopback interface (reused if it
#      exists; deleted at exit only if this run created it). Home Assistant joins mDNS multicast
#      on the default interface even without zeroconf configured, and BACnet/IP broadcasts
#      Who-Is/I-Am: inside the namespace nothing any of them does can leave the machine;
#   3. starts there the simulator on 127.0.0.1:5020 (3LN, 18 channels) and `hass` on
#      http://127.0.0.1:8123 with a fresh config in .demo/config (gitignored), the integration
#      symlinked into its custom_components/;
#   4. scripts/demo/hademo.py then onboards the owner account (user "demo"), makes a long-lived
#      token (.demo/token), adds the AcuRev entry through the config-flow API, sets the energy
#      poll to 10 s through the options flow, and configures the Energy dashboard (grid = the
#      meter's import/export energy; each channel an individual device, nested under its 3-phase
#      circuit where this HA version supports upstream devices), then prints energy/validate;
#   5. starts there the bridge (`python -m bacnet_bridge run --config .demo/bridge.yaml`, written
#      each run) with that token: BACnet/IP device 2020001 on udp 127.0.0.1:47808 (relay
#      commands allowed: the bridge's default is no, the demo shows the feature), the SNMP agent
#      on udp 127.0.0.1:1161 (a v2c community and a v3 user, SHA + AES-128, generated once into
#      .demo/snmp.env) and the Node-RED API on http://127.0.0.1:8099 (token .demo/api-token);
#      scripts/demo/bridgedemo.py waits until it mirrors the meter;
#   6. starts there Node-RED on http://127.0.0.1:1880 through nodered/tools/demo.js, user
#      directory .demo/node-red, with the example flows deployed against the bridge (again each
#      run: edits to them in the editor are replaced).
#
# From the host: 127.0.0.1 inside the namespace is not the host's 127.0.0.1. Unless --no-forward,
# scripts/demo/forward.py listens on the host's 127.0.0.1 (loopback only) and relays into the
# namespace: TCP 8123 (Home Assistant), 1880 (Node-RED), 8099 (the bridge's API), so the browser
# and curl on this machine work, and UDP 1161 (SNMP), so snmpwalk on the host works. BACnet is
# not relayed: a BACnet/IP peer is known by its address (I-Am answers to a broadcast Who-Is,
# COV notifications sent to the subscriber), which a relay would replace with its own, and BACnet
# tools usually bind 47808 themselves. BACnet tools run inside the namespace instead
# (`ip netns exec acurev-demo ...`; the summary prints a ready command).
#
# Files: .demo/config (HA config, recreated each run), .demo/credentials.json (the generated
# password, kept across runs), .demo/token (long-lived access token), .demo/bridge.yaml,
# .demo/bridge-state/ (BACnet instance numbers, SNMP engine ID: kept, as an installation would),
# .demo/api-token and .demo/snmp.env (generated once, kept), .demo/node-red/, .demo/logs/*.log,
# .demo/energy.png, .demo/device.png and .demo/node-red.png (--check).
# Env: ACUREV_DEMO_NETNS (namespace name), ACUREV_DEMO_PASSWORD (fixed password),
# ACUREV_DEMO_LOG_HISTORY_HOURS (the simulator's data-log history, default 72; 0: none, and the
# Energy dashboard has no bars before the first full hour, which --check then reports).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$REPO"

MODE=run
SPEED=10
FORWARD=1
HA_ONLY=0
BRIDGE=1
NODE_RED=1
while [ $# -gt 0 ]; do
  case $1 in
    --check) MODE=check ;;
    --speed) SPEED=${2:?--speed needs a number}; shift ;;
    --speed=*) SPEED=${1#--speed=} ;;
    --no-forward) FORWARD=0 ;;
    --ha-only) HA_ONLY=1 ;;  # debugging aid, see above
    --no-bridge) BRIDGE=0 ;;
    --no-node-red) NODE_RED=0 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done

[ "$MODE$HA_ONLY" = check1 ] && { echo "demo: --check needs the meter; drop --ha-only" >&2; exit 2; }
[ "$HA_ONLY" = 1 ] && BRIDGE=0     # the bridge mirrors the meter: nothing to mirror
[ "$BRIDGE" = 0 ] && NODE_RED=0    # the palette talks to the bridge only

NS=${ACUREV_DEMO_NETNS:-acurev-demo}
STATE=$REPO/.demo
CONFIG=$STATE/config
LOGS=$STATE/logs
PY=$REPO/.venv/bin/python
HOST=127.0.0.1
SIM_PORT=5020
HA_PORT=8123
API_PORT=8099          # the bridge's HTTP/websocket API (what the Node-RED nodes use)
SNMP_PORT=1161         # 161 would need privileges; 1161 is the bridge's default
BACNET_PORT=47808      # 0xBAC0, the standard BACnet/IP port
BACNET_DEVICE=2020001
NODE_RED_PORT=1880
NODE_RED_DIR=$STATE/node-red
# Deployed in this order; the first is the tab the editor opens on.
NODE_RED_EXAMPLES=di4-relay2-webhook,http-endpoints,read-and-watch,relay-buttons,alarms
T0=$SECONDS

say() { echo "demo: $*" >&2; }
die() { echo "demo: ERROR: $*" >&2; exit 1; }
elapsed() { echo "$((SECONDS - T0)) s"; }
in_ns() { ip netns exec "$NS" "$@"; }

[ "$(id -u)" = 0 ] || die "needs root (it creates a network namespace)"

# One demo at a time, and taken before setup.sh: a rebuild of .venv under a running hass
# would pull the floor from under it.
mkdir -p "$STATE" "$LOGS"
exec 9>"$STATE/lock"
flock -n 9 || die "another scripts/demo.sh is running (lock $STATE/lock)"

# ---- 1. environment ------------------------------------------------------------------------
scripts/setup.sh

# uv installs without byte-compiling and this host sets PYTHONDONTWRITEBYTECODE, so without this
# every start of hass compiles its imports again (twice as slow). Again whenever setup.sh has
# changed .venv (its stamp differs from the marker); compileall skips files already compiled,
# so after an in-place update that run is short.
if [ "$(cat .venv/.demo-compiled 2>/dev/null)" != "$(cat .venv/.stamp)" ]; then
  say "byte-compiling .venv (after each change of it) ..."
  "$PY" -m compileall -q -j0 .venv/lib/python*/site-packages >/dev/null 2>&1 || true
  cp .venv/.stamp .venv/.demo-compiled
fi

apt_install() {  # apt_install PACKAGE... (only what is missing; refresh lists only if needed)
  local missing=() p
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -gt 0 ] || return 0
  say "installing ${missing[*]} with apt-get ..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null ||
    { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; }
}
command -v ip >/dev/null || apt_install iproute2
[ "$MODE" = check ] && apt_install chromium fonts-liberation

# requirements/demo.txt pins the frontend for HA 2025.4.4, the HA requirements/test.txt picks on
# Python < 3.13.2. On another Python setup.sh installs another HA: then install the frontend
# version that HA's frontend manifest names, while still online (without it: recovery mode).
FRONTEND_REQ=$("$PY" -c 'import json, homeassistant.components.frontend as f, pathlib
print(json.loads((pathlib.Path(f.__file__).parent / "manifest.json").read_text())["requirements"][0])')
if ! "$PY" -c "import importlib.metadata as m, sys; sys.exit(m.version('home-assistant-frontend') != '${FRONTEND_REQ#*==}')" 2>/dev/null; then
  say "installing $FRONTEND_REQ for this Home Assistant ..."
  "$PY" -m uv pip install -q --python "$PY" "$FRONTEND_REQ"
fi

if [ "$BRIDGE" = 1 ]; then
  # The commands the summary prints, and independent SNMP clients for --check.
  scripts/install-snmp-tools.sh
fi
if [ "$NODE_RED" = 1 ]; then
  { command -v node && command -v npm; } >/dev/null || apt_install nodejs npm
  export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
  # Node-RED itself is the palette's dev dependency; the same stamp as scripts/test-nodered.sh,
  # so whichever ran last leaves the other nothing to do.
  stamp=nodered/node_modules/.acurev-lock-hash
  want=$(sha256sum nodered/package-lock.json | cut -c1-16)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "npm ci in nodered/ (Node-RED and the palette's dev dependencies) ..."
    (cd nodered && npm ci --no-progress >/dev/null)
    echo "$want" >"$stamp"
  fi
  # Packed and installed here, on the host, where npm reaches the registry (the palette's one
  # dependency, ws, usually from npm's cache); Node-RED then starts in the namespace, which has
  # no network at all, with --no-install. Every run: the checkout's palette may have changed.
  node nodered/tools/demo.js --install-only --user-dir "$NODE_RED_DIR" >/dev/null ||
    die "installing the Node-RED palette into $NODE_RED_DIR failed"
fi

# Leftovers of a run killed with SIGKILL (which cannot clean up). The pid file has lines
# "<name> <pid>"; a pid is only stopped if its command line is exactly what we started there.
PIDFILE=$STATE/pids
stop_leftover() {  # stop_leftover NAME PID
  say "stopping $1 (pid $2) left over from an earlier run"
  kill "$2" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$2" 2>/dev/null || break; sleep 0.2; done
  kill -9 "$2" 2>/dev/null || true
}
cmdline() { tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline" || true; }  # '' once it is gone
if [ -f "$PIDFILE" ]; then
  while read -r name pid; do
    case $name in
      hass) pattern="-m homeassistant -c $CONFIG " ;;
      simulator) pattern="-m acurev_simulator --host $HOST --port $SIM_PORT " ;;
      bridge) pattern="-m bacnet_bridge run --config $STATE/bridge.yaml " ;;
      node-red) pattern="nodered/tools/demo.js --no-install --user-dir $NODE_RED_DIR " ;;
      *) pattern="scripts/demo/forward.py $NS " ;;
    esac
    if [[ $(cmdline "$pid") == *"$pattern"* ]]; then stop_leftover "$name" "$pid"; fi
    # Node-RED itself, demo.js's child, outlives a demo.js killed with SIGKILL and replaces its
    # command line with its process title "node-red": found as a member of the session that
    # start() below gave demo.js (the session id is demo.js's pid, also after it is gone).
    if [ "$name" = node-red ]; then
      for member in $(ps -o pid= -s "$pid" 2>/dev/null || true); do
        if [[ $(cmdline "$member") =~ ^node-red( |$) ]]; then stop_leftover Node-RED "$member"; fi
      done
    fi
  done <"$PIDFILE"
  rm -f "$PIDFILE"
fi

# ---- 2. the namespace ----------------------------------------------------------------------
CREATED_NS=0
if ip netns list | awk '{print $1}' | grep -qx "$NS"; then
  # Created by an earlier run of ours that could not clean up? Then it is still ours to delete.
  [ -f "$STATE/netns-created" ] && CREATED_NS=1
else
  ip netns add "$NS"
  CREATED_NS=1
  touch "$STATE/netns-created"
fi
# Loopback only, with multicast routed to it: zeroconf's joins succeed and stay on lo.
in_ns ip link set lo up
in_ns ip link set lo multicast on
in_ns ip route replace 224.0.0.0/4 dev lo
others=$(ip -n "$NS" -o link show | awk -F': ' '$2 != "lo" {print $2}')
[ -z "$others" ] || die "namespace $NS has interfaces besides lo ($others): refusing to run there"

HASS_PID='' SIM_PID='' BRIDGE_PID='' NR_PID='' FWD_PIDS=()
# shellcheck disable=SC2317  # stop_pid and cleanup run from the EXIT trap
stop_pid() {  # stop_pid PID SECONDS: SIGTERM, then SIGKILL after SECONDS
  local pid=$1 i
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < $2 * 5; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -0 "$pid" 2>/dev/null && { say "pid $pid did not stop, killing it"; kill -9 "$pid" 2>/dev/null || true; }
  wait "$pid" 2>/dev/null || true
}
# shellcheck disable=SC2317
stop_group() {  # stop_group PID SECONDS: stop_pid, then what is left of the process group PID
  local pid=$1 i
  [ -n "$pid" ] || return 0
  stop_pid "$pid" "$2"
  kill -0 -- "-$pid" 2>/dev/null || return 0
  say "process group $pid outlived its leader, stopping it"
  kill -TERM -- "-$pid" 2>/dev/null || true
  for ((i = 0; i < 25; i++)); do kill -0 -- "-$pid" 2>/dev/null || return 0; sleep 0.2; done
  kill -9 -- "-$pid" 2>/dev/null || true
}
# shellcheck disable=SC2317
cleanup() {
  trap - EXIT INT TERM HUP
  # Ctrl-C on `scripts/demo.sh | tee log` ends tee too: a message to the closed pipe must not
  # kill (SIGPIPE) or stop (set -e) the clean-up half-way.
  trap '' PIPE
  set +e
  say "stopping ..."
  local pid
  for pid in "${FWD_PIDS[@]}"; do stop_pid "$pid" 5; done
  # The consumers before what they consume, so none of them logs its source going away:
  # Node-RED (demo.js passes SIGTERM on to it and exits with it; the group catches a straggler),
  # the bridge, Home Assistant, the simulator.
  stop_group "$NR_PID" 15
  stop_pid "$BRIDGE_PID" 15
  stop_pid "$HASS_PID" 30
  stop_pid "$SIM_PID" 10
  rm -f "$PIDFILE"
  if [ "$CREATED_NS" = 1 ]; then ip netns del "$NS" 2>/dev/null || true; rm -f "$STATE/netns-created"; fi
  say "stopped"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP   # exit runs the EXIT trap

# Children run in their own session (setsid): Ctrl-C reaches only this script, which then stops
# them in order. setsid and `ip netns exec` both exec, so $! is the real process id.
start() {  # start NAME LOGFILE COMMAND...
  local name=$1 log=$2; shift 2
  # 9>&-: the lock stays with this script; orphans of a killed run must not keep holding it.
  setsid "$@" >"$log" 2>&1 </dev/null 9>&- &
  echo "$name $!" >>"$PIDFILE"
}

# ---- 3. simulator and Home Assistant -------------------------------------------------------
if [ "$HA_ONLY" = 0 ]; then
say "starting the simulator on $HOST:$SIM_PORT (3LN, 18 channels, speed x$SPEED) ..."
start simulator "$LOGS/simulator.log" ip netns exec "$NS" \
  "$PY" -m acurev_simulator --host "$HOST" --port "$SIM_PORT" --wiring 3LN --channels 18 --speed "$SPEED" \
  --log-history-hours "${ACUREV_DEMO_LOG_HISTORY_HOURS:-72}"
SIM_PID=$!
for i in $(seq 100); do
  kill -0 "$SIM_PID" 2>/dev/null || { tail -n 30 "$LOGS/simulator.log" >&2; die "the simulator exited (log above, $LOGS/simulator.log)"; }
  in_ns bash -c "exec 3<>/dev/tcp/$HOST/$SIM_PORT" 2>/dev/null && break
  [ "$i" = 100 ] && die "the simulator does not listen on $HOST:$SIM_PORT after 20 s"
  sleep 0.2
done
fi

# A fresh configuration every run: the simulator starts from its own counters each time, and
# history recorded against an earlier run's counters would only confuse the dashboard.
rm -rf "$CONFIG"
mkdir -p "$CONFIG/.storage" "$CONFIG/custom_components"
ln -s "$REPO/custom_components/acurev" "$CONFIG/custom_components/acurev"
# Onboarding steps other than the owner account are marked done before the first start: doing
# core_config through the API would start flows (met, radio_browser, ...) that go online.
cat >"$CONFIG/.storage/onboarding" <<'EOF'
{"version": 4, "minor_version": 1, "key": "onboarding", "data": {"done": ["core_config", "analytics", "integration"]}}
EOF
TZNAME=$(cat /etc/timezone 2>/dev/null || readlink /etc/localtime 2>/dev/null | sed 's|.*/zoneinfo/||' || true)
# The demo's automation (faster counter reads) is created through the config API at start.
echo "[]" >"$CONFIG/automations.yaml"
cat >"$CONFIG/configuration.yaml" <<EOF
# Written by scripts/demo.sh (recreated on every run).
# Integrations are listed one by one instead of default_config: that pulls ~33 more,
# some of which want the internet or binaries (go2rtc, cloud, ...).
homeassistant:
  name: AcuRev demo
  unit_system: metric
  time_zone: ${TZNAME:-UTC}
  currency: CAD
  country: CA
  internal_url: http://$HOST:$HA_PORT
http:
  server_host: $HOST
  server_port: $HA_PORT
frontend:
config:
energy:
history:
logbook:
recorder:
automation: !include automations.yaml
script:
scene:
person:
system_health:
logger:
  default: warning
  logs:
    custom_components.acurev: info
    pyacurev: info
    homeassistant.setup: info
EOF

say "starting Home Assistant on http://$HOST:$HA_PORT (in namespace $NS) ..."
T_HASS=$SECONDS
# --skip-pip: everything is in .venv already, and there is no network in the namespace anyway.
# Its console log (also in .demo/config/home-assistant.log) goes to .demo/logs/hass.log, so
# that a crash before logging starts is there too.
start hass "$LOGS/hass.log" ip netns exec "$NS" \
  "$PY" -m homeassistant -c "$CONFIG" --skip-pip --log-no-color
HASS_PID=$!

hademo() { in_ns "$PY" scripts/demo/hademo.py --state "$STATE" --host "$HOST" --port "$SIM_PORT" --unit 1 "$@"; }

if ! hademo wait --timeout 180; then
  tail -n 30 "$LOGS/hass.log" >&2 || true
  die "Home Assistant did not start (logs above)"
fi
say "Home Assistant answers after $((SECONDS - T_HASS)) s"

# ---- 4. no-click set-up --------------------------------------------------------------------
if [ ! -f "$STATE/credentials.json" ]; then
  password=${ACUREV_DEMO_PASSWORD:-$(head -c 12 /dev/urandom | base64 | tr -d '/+=')}
  printf '{"username": "demo", "password": "%s"}\n' "$password" >"$STATE/credentials.json"
  chmod 600 "$STATE/credentials.json"
fi
PASSWORD=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["password"])' "$STATE/credentials.json")

PROVISION_ARGS=()
[ "$HA_ONLY" = 1 ] && PROVISION_ARGS=(--no-entry)
hademo provision "${PROVISION_ARGS[@]}" || { tail -n 40 "$LOGS/hass.log" >&2; die "set-up failed (HA log tail above, $LOGS/hass.log)"; }

# ---- 5. the bridge ------------------------------------------------------------------------
secret() {  # secret LENGTH: letters and digits only (safe in YAML, a shell line, a command line)
  head -c 96 /dev/urandom | base64 -w0 | tr -dc 'A-Za-z0-9' | cut -c "1-$1"
}
bridgedemo() { in_ns "$PY" scripts/demo/bridgedemo.py --state "$STATE" "$@"; }
SNMP_COMMUNITY='' SNMP_USER='' SNMP_AUTH_KEY='' SNMP_PRIV_KEY=''
if [ "$BRIDGE" = 1 ]; then
  # Made once and kept, like the password: the commands a reader copied keep working next run.
  if [ ! -s "$STATE/api-token" ]; then (umask 077; secret 32 >"$STATE/api-token"); fi
  if [ ! -s "$STATE/snmp.env" ]; then
    (umask 077; printf 'SNMP_COMMUNITY=%s\nSNMP_USER=demo\nSNMP_AUTH_KEY=%s\nSNMP_PRIV_KEY=%s\n' \
      "$(secret 12)" "$(secret 16)" "$(secret 16)" >"$STATE/snmp.env")
  fi
  while IFS='=' read -r key value; do   # read, not sourced: it is data
    case $key in SNMP_COMMUNITY|SNMP_USER|SNMP_AUTH_KEY|SNMP_PRIV_KEY) printf -v "$key" %s "$value" ;; esac
  done <"$STATE/snmp.env"
  # Everything on the namespace's loopback. The v3 keys are in the file (0600): the bridge reads
  # them from its file or from its environment, and the latter is no more private to root.
  (umask 077; cat >"$STATE/bridge.yaml") <<EOF
# Written by scripts/demo.sh on every run (the secrets come from .demo/snmp.env and
# .demo/api-token, made once). Reference: docs/BACNET.md, docs/SNMP.md, docs/NODE-RED.md.
# Relative paths are relative to this file.
home_assistant:
  url: http://$HOST:$HA_PORT
  token_file: token                  # the long-lived token scripts/demo/hademo.py made
meters: []                           # every AcuRev meter of this Home Assistant
state_dir: bridge-state              # BACnet instance numbers, SNMP engine ID: kept across runs
bacnet:
  device_instance: $BACNET_DEVICE
  device_name: AcuRev Bridge (demo)
  address: $HOST                     # the namespace's loopback: broadcasts go to 127.0.0.255
  netmask_bits: 24
  port: $BACNET_PORT
  allow_relay_commands: true         # the bridge's default is false; the demo shows the feature
snmp:
  address: $HOST
  port: $SNMP_PORT
  community: $SNMP_COMMUNITY         # SNMPv2c, read-only
  users:                             # SNMPv3, authPriv: SHA + AES-128
    - name: $SNMP_USER
      auth_key: $SNMP_AUTH_KEY
      priv_key: $SNMP_PRIV_KEY
api:
  enabled: true
  address: $HOST
  port: $API_PORT
  token_file: api-token
EOF
  say "starting the bridge: BACnet udp $HOST:$BACNET_PORT, SNMP udp $HOST:$SNMP_PORT, API http://$HOST:$API_PORT ..."
  T_BRIDGE=$SECONDS
  start bridge "$LOGS/bridge.log" ip netns exec "$NS" \
    "$PY" -m bacnet_bridge run --config "$STATE/bridge.yaml"
  BRIDGE_PID=$!
fi

# ---- 6. Node-RED ---------------------------------------------------------------------------
# Started while the bridge syncs: its nodes (re)connect to the bridge by themselves.
if [ "$NODE_RED" = 1 ]; then
  say "starting Node-RED on http://$HOST:$NODE_RED_PORT (palette from the packed tarball) ..."
  start node-red "$LOGS/node-red.log" ip netns exec "$NS" \
    node nodered/tools/demo.js --no-install --user-dir "$NODE_RED_DIR" \
    --bridge-url "http://$HOST:$API_PORT" --token-file "$STATE/api-token" \
    --port "$NODE_RED_PORT" --examples "$NODE_RED_EXAMPLES"
  NR_PID=$!
fi
if [ "$BRIDGE" = 1 ]; then
  bridgedemo wait --timeout 60 --pid "$BRIDGE_PID" ||
    { tail -n 30 "$LOGS/bridge.log" >&2; die "the bridge did not sync (log above, $LOGS/bridge.log)"; }
  say "the bridge mirrors the meter after $((SECONDS - T_BRIDGE)) s"
fi
if [ "$NODE_RED" = 1 ]; then
  for i in $(seq 300); do   # demo.js prints this line once the flows are deployed
    grep -q '^node-red-demo: ready ' "$LOGS/node-red.log" && break
    kill -0 "$NR_PID" 2>/dev/null || { tail -n 30 "$LOGS/node-red.log" >&2; die "Node-RED exited (log above, $LOGS/node-red.log)"; }
    [ "$i" = 300 ] && { tail -n 30 "$LOGS/node-red.log" >&2; die "Node-RED was not ready after 60 s"; }
    sleep 0.2
  done
  say "Node-RED has the example flows deployed after $((SECONDS - T_BRIDGE)) s"
fi

# ---- 7. from the host: forwards (see the top) ---------------------------------------------
# One process per port, so that a host port something else holds costs only that one path.
FORWARDED=()  # "tcp:8123" ... the ones that listen
if [ "$FORWARD" = 1 ]; then
  specs=("tcp $HA_PORT")
  [ "$BRIDGE" = 1 ] && specs+=("tcp $API_PORT" "udp $SNMP_PORT")
  [ "$NODE_RED" = 1 ] && specs+=("tcp $NODE_RED_PORT")
  for spec in "${specs[@]}"; do
    read -r proto port <<<"$spec"
    log=$LOGS/forward-$proto-$port.log
    start forward "$log" "$PY" scripts/demo/forward.py "$NS" "$port" "$port" "$proto"
    pid=$!
    for _ in $(seq 50); do   # it says "listening" once it is, or exits with the reason
      if grep -q '^forward: listening ' "$log" || ! kill -0 "$pid" 2>/dev/null; then break; fi
      sleep 0.1
    done
    if grep -q '^forward: listening ' "$log" && kill -0 "$pid" 2>/dev/null; then
      FWD_PIDS+=("$pid"); FORWARDED+=("$proto:$port")
    else
      say "no host $proto port $port ($(cat "$log")): reach it inside namespace $NS only"
      stop_pid "$pid" 5
    fi
  done
fi
forwarded() { [[ " ${FORWARDED[*]} " == *" $1 "* ]]; }
READY=$(elapsed)

# The recorder compiles statistics on the wall clock, whatever the simulator's speed: 5-minute
# statistics just after every :00/:05/..., the hourly ones just after every full hour. The
# dashboard has bars before that: the integration imports the hours the meter's own data log
# covers (the simulator starts with 72 simulated hours of log history) at its first counter poll.
now=$(date +%s)
FIRST_5MIN=$(date -d "@$(( (now / 300 + 1) * 300 ))" +%H:%M)
FIRST_HOUR=$(date -d "@$(( ((now / 300 + 1) * 300 + 3599) / 3600 * 3600 ))" +%H:%M)
STATS_NOTE="Statistics are compiled on the wall clock, whatever the simulator speed: the first
   5-minute statistics at ~$FIRST_5MIN (then energy/validate's statistics_not_defined goes away),
   the first hourly ones at ~$FIRST_HOUR. The hours before the start come from the meter's own
   data log (the simulator keeps 72 simulated hours of it), imported by the integration's
   backfill at its first counter poll: the Energy dashboard draws them at once."

if [ "$MODE" = check ]; then
  say "ready after $READY; checking ..."
  say "note: $STATS_NOTE"
  # Network hygiene, checked rather than assumed: every server lives in the loopback-only
  # namespace (a process outside it would have no `ip netns identify` answer) ...
  names=(hass simulator)
  [ "$BRIDGE" = 1 ] && names+=(bridge)
  [ "$NODE_RED" = 1 ] && names+=(node-red)
  for name in "${names[@]}"; do
    case $name in
      hass) pid=$HASS_PID ;; simulator) pid=$SIM_PID ;; bridge) pid=$BRIDGE_PID ;; *) pid=$NR_PID ;;
    esac
    [ "$(ip netns identify "$pid")" = "$NS" ] || die "$name (pid $pid) is not in namespace $NS"
  done
  list="${names[*]}"
  echo "  [ok] ${list// /, } run in namespace $NS, whose only interface is lo" >&2
  # ... and the bridge and Node-RED bind its loopback address, not a wildcard.
  rc=0
  if [ "$BRIDGE" = 1 ]; then
    sockets=$(in_ns ss -H -lntu | awk -v ports=" $API_PORT $SNMP_PORT $BACNET_PORT $NODE_RED_PORT " '
      { n = split($5, a, ":"); if (index(ports, " " a[n] " ")) print $1 " " $5 }' | sort -u)
    if [ -n "$sockets" ] && ! grep -qvE '^(tcp|udp) 127\.' <<<"$sockets"; then
      echo "  [ok] their sockets: $(paste -sd, <<<"$sockets" | sed 's/,/, /g')" >&2
    else
      echo "  [FAIL] sockets of the bridge/Node-RED not on 127.x: $(paste -sd, <<<"$sockets")" >&2
      rc=1
    fi
  fi
  set +e
  hademo check --channels 18 --wait 60 || rc=1
  if [ "$BRIDGE" = 1 ]; then
    check_args=()
    [ "$NODE_RED" = 1 ] || check_args+=(--no-node-red)
    bridgedemo check "${check_args[@]}" || rc=1
  fi
  if [ ${#FORWARDED[@]} -gt 0 ]; then
    # From the host's side, through the forwards, with the summary's commands.
    host_args=()
    for f in "${FORWARDED[@]}"; do host_args+=("--${f%%:*}" "${f#*:}"); done
    "$PY" scripts/demo/bridgedemo.py --state "$STATE" check-host "${host_args[@]}" || rc=1
  fi
  set -e
  say "check finished after $(elapsed) (exit $rc); logs in $LOGS"
  exit "$rc"
fi

# ---- the summary ---------------------------------------------------------------------------
where() {  # where PROTO:PORT: how the host reaches it
  if ! forwarded "$1"; then echo "(inside namespace $NS only)"
  elif [ "${1%%:*}" = udp ]; then echo "(relayed from the host's loopback)"
  else echo "(forwarded from the host's loopback)"; fi
}
pre() {  # pre PROTO:PORT: what a command on the host needs in front to reach it
  forwarded "$1" || echo "ip netns exec $NS "
}
URL="http://$HOST:$HA_PORT"
{
  cat <<EOF

================================================================================
 AcuRev demo is running (ready after $READY)

 Home Assistant  $URL   $(where "tcp:$HA_PORT")
   Username:  demo
   Password:  $PASSWORD
   Token:     .demo/token  (long-lived access token, for the API and the bridge)
   Energy dashboard: $URL/energy
   REST API:  $(pre "tcp:$HA_PORT")curl -H "Authorization: Bearer \$(cat .demo/token)" $URL/api/states
   $STATS_NOTE
EOF
  if [ "$NODE_RED" = 1 ]; then
    cat <<EOF

 Node-RED        http://$HOST:$NODE_RED_PORT   $(where "tcp:$NODE_RED_PORT")
   No login (loopback only). Flows deployed against the bridge: ${NODE_RED_EXAMPLES//,/, }
   Try: $(pre "tcp:$NODE_RED_PORT")curl http://$HOST:$NODE_RED_PORT/acurev/channel/7
EOF
  fi
  if [ "$BRIDGE" = 1 ]; then
    snmp_pre=$(pre "udp:$SNMP_PORT")
    cat <<EOF

 Bridge API      http://$HOST:$API_PORT/api/v1   $(where "tcp:$API_PORT")
   Token file: .demo/api-token     config: .demo/bridge.yaml     log: .demo/logs/bridge.log
   $(pre "tcp:$API_PORT")curl -H "Authorization: Bearer \$(cat .demo/api-token)" http://$HOST:$API_PORT/api/v1/status

 SNMP agent      udp $HOST:$SNMP_PORT   $(where "udp:$SNMP_PORT")
   v2c community: $SNMP_COMMUNITY   (read-only)
   v3 user:       $SNMP_USER   auth SHA key: $SNMP_AUTH_KEY   priv AES-128 key: $SNMP_PRIV_KEY
   ${snmp_pre}snmpwalk -v2c -c $SNMP_COMMUNITY $HOST:$SNMP_PORT 1.3.6.1.4.1.32473
   ${snmp_pre}snmpwalk -v3 -l authPriv -u $SNMP_USER -a SHA -A $SNMP_AUTH_KEY -x AES -X $SNMP_PRIV_KEY $HOST:$SNMP_PORT 1.3.6.1.4.1.32473
   With the MIB's names (in $REPO):
   ${snmp_pre}snmptable -v2c -c $SNMP_COMMUNITY -M mibs/stubs:mibs -m ACUREV-BRIDGE-MIB -Cb -Ci $HOST:$SNMP_PORT acurevChannelTable

 BACnet/IP       device $BACNET_DEVICE at udp $HOST:$BACNET_PORT   (inside namespace $NS only)
   Relay commands (WriteProperty to the relays' binary outputs) are ALLOWED in this demo:
   bacnet.allow_relay_commands: true in .demo/bridge.yaml; the bridge's default is false.
   Not relayed to the host: BACnet peers find and notify each other by address (Who-Is/I-Am
   broadcasts, COV notifications), which a relay would replace by its own. Inside the namespace
   (in $REPO), with bac-py from .venv:
   ip netns exec $NS .venv/bin/python scripts/demo/bridgedemo.py bacnet                     (list)
   ip netns exec $NS .venv/bin/python scripts/demo/bridgedemo.py bacnet ch01_active_power   (read)
   Any other BACnet tool the same way: ip netns exec $NS <tool> (on a port other than $BACNET_PORT)
EOF
  fi
  cat <<EOF

 Logs: .demo/logs/*.log
 Ctrl-C stops everything.
================================================================================
EOF
} >&2

# Runs until Ctrl-C (trap above) or until one of the servers exits on its own.
set +e
wait -n "$HASS_PID" ${SIM_PID:+"$SIM_PID"} ${BRIDGE_PID:+"$BRIDGE_PID"} ${NR_PID:+"$NR_PID"}
set -e
kill -0 "$HASS_PID" 2>/dev/null || { tail -n 20 "$LOGS/hass.log" >&2; say "Home Assistant exited"; }
for name in simulator bridge node-red; do
  case $name in simulator) pid=$SIM_PID ;; bridge) pid=$BRIDGE_PID ;; *) pid=$NR_PID ;; esac
  [ -z "$pid" ] || kill -0 "$pid" 2>/dev/null || { tail -n 20 "$LOGS/$name.log" >&2; say "$name exited"; }
done
exit 1
