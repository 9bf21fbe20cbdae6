#!/usr/bin/env bash
# The AcuRev demo: a real Home Assistant with the integration, talking to the simulator,
# set up with no clicks.
#
#   scripts/demo.sh            start everything, print URL/login/token, run until Ctrl-C
#   scripts/demo.sh --check    start everything, verify end to end, take screenshots, exit 0/1
#
# Options: --speed N (simulator time factor, default 60: one real minute = one simulated hour,
#          so the energy counters visibly grow), --no-forward (see below), --ha-only (no
#          simulator and no AcuRev entry: to debug the Home Assistant side alone), -h/--help.
#
# Runs as root (network namespaces). From a fresh clone it:
#   1. runs scripts/setup.sh (.venv with Home Assistant 2025.4.4, its frontend, the packages its
#      auth imports, so nothing is installed at runtime) and byte-compiles .venv once;
#   2. creates the network namespace "acurev-demo" with only a loopback interface (reused if it
#      exists; deleted at exit only if this run created it). Home Assistant joins mDNS multicast
#      on the default interface even without zeroconf configured; inside the namespace nothing
#      it does can leave the machine;
#   3. starts there the simulator on 127.0.0.1:5020 (3LN, 18 channels) and `hass` on
#      http://127.0.0.1:8123 with a fresh config in .demo/config (gitignored), the integration
#      symlinked into its custom_components/;
#   4. scripts/demo/hademo.py then onboards the owner account (user "demo"), makes a long-lived
#      token (.demo/token), adds the AcuRev entry through the config-flow API, sets the energy
#      poll to 10 s through the options flow, and configures the Energy dashboard (grid = the
#      meter's import/export energy; each channel an individual device, nested under its 3-phase
#      circuit where this HA version supports upstream devices), then prints energy/validate.
#
# The browser: 127.0.0.1:8123 inside the namespace is not the host's 127.0.0.1. Unless
# --no-forward, scripts/demo/forward.py listens on the host's 127.0.0.1:8123 (loopback only) and
# relays into the namespace, so http://127.0.0.1:8123 works in a browser on this machine.
#
# Files: .demo/config (HA config, recreated each run), .demo/credentials.json (the generated
# password, kept across runs), .demo/token (long-lived access token), .demo/logs/*.log,
# .demo/energy.png and .demo/device.png (--check).
# Env: ACUREV_DEMO_NETNS (namespace name), ACUREV_DEMO_PASSWORD (fixed password).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$REPO"

MODE=run
SPEED=60
FORWARD=1
HA_ONLY=0
while [ $# -gt 0 ]; do
  case $1 in
    --check) MODE=check ;;
    --speed) SPEED=${2:?--speed needs a number}; shift ;;
    --speed=*) SPEED=${1#--speed=} ;;
    --no-forward) FORWARD=0 ;;
    --ha-only) HA_ONLY=1 ;;  # debugging aid, see above
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done

[ "$MODE$HA_ONLY" = check1 ] && { echo "demo: --check needs the meter; drop --ha-only" >&2; exit 2; }

NS=${ACUREV_DEMO_NETNS:-acurev-demo}
STATE=$REPO/.demo
CONFIG=$STATE/config
LOGS=$STATE/logs
PY=$REPO/.venv/bin/python
HOST=127.0.0.1
SIM_PORT=5020
HA_PORT=8123
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

# Leftovers of a run killed with SIGKILL (which cannot clean up). The pid file has lines
# "<name> <pid>"; a pid is only stopped if its command line is exactly what we started there.
PIDFILE=$STATE/pids
if [ -f "$PIDFILE" ]; then
  while read -r name pid; do
    case $name in
      hass) pattern="-m homeassistant -c $CONFIG " ;;
      simulator) pattern="-m acurev_simulator --host $HOST --port $SIM_PORT " ;;
      *) pattern="scripts/demo/forward.py $NS " ;;
    esac
    if [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -e "$pattern"; then
      say "stopping $name (pid $pid) left over from an earlier run"
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      kill -9 "$pid" 2>/dev/null || true
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

HASS_PID='' SIM_PID='' FWD_PID=''
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
cleanup() {
  trap - EXIT INT TERM HUP
  say "stopping ..."
  stop_pid "$FWD_PID" 5
  stop_pid "$HASS_PID" 30   # first, so it does not log the meter going away
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
  "$PY" -m acurev_simulator --host "$HOST" --port "$SIM_PORT" --wiring 3LN --channels 18 --speed "$SPEED"
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
automation:
script:
scene:
person:
system_health:
logger:
  default: warning
  logs:
    custom_components.acurev: info
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
READY=$(elapsed)

# The recorder compiles statistics on the wall clock, whatever the simulator's speed: 5-minute
# statistics just after every :00/:05/..., the hourly ones the Energy dashboard draws just after
# every full hour. Until the first hourly run the dashboard says "There is no data to show".
now=$(date +%s)
FIRST_5MIN=$(date -d "@$(( (now / 300 + 1) * 300 ))" +%H:%M)
FIRST_HOUR=$(date -d "@$(( ((now / 300 + 1) * 300 + 3599) / 3600 * 3600 ))" +%H:%M)
STATS_NOTE="Statistics are compiled on the wall clock, whatever the simulator speed: the first
   5-minute statistics at ~$FIRST_5MIN (then energy/validate's statistics_not_defined goes away),
   the first hourly ones, which the Energy dashboard draws, at ~$FIRST_HOUR. Until then it shows
   \"There is no data to show\". No history is faked or back-filled."

if [ "$MODE" = check ]; then
  say "ready after $READY; checking ..."
  say "note: $STATS_NOTE"
  # Network hygiene, checked rather than assumed: both servers live in the loopback-only
  # namespace (a process outside it would have no `ip netns identify` answer).
  for name in hass simulator; do
    pid=$HASS_PID; [ "$name" = simulator ] && pid=$SIM_PID
    [ "$(ip netns identify "$pid")" = "$NS" ] || die "$name (pid $pid) is not in namespace $NS"
  done
  echo "  [ok] hass and the simulator run in namespace $NS, whose only interface is lo" >&2
  set +e
  hademo check --channels 18 --wait 20
  rc=$?
  set -e
  say "check finished after $(elapsed) (exit $rc); logs in $LOGS"
  exit "$rc"
fi

URL="http://$HOST:$HA_PORT"
if [ "$FORWARD" = 1 ]; then
  start forward "$LOGS/forward.log" "$PY" scripts/demo/forward.py "$NS" "$HA_PORT" "$HA_PORT"
  FWD_PID=$!
  sleep 0.5
  if ! kill -0 "$FWD_PID" 2>/dev/null; then
    say "host port $HA_PORT is taken ($(cat "$LOGS/forward.log")): no browser access from the host"
    FWD_PID=''
  fi
fi

cat >&2 <<EOF

================================================================================
 AcuRev demo is running (ready after $READY)

   URL:       $URL   $([ -n "$FWD_PID" ] && echo "(forwarded from the host's loopback)" || echo "(inside namespace $NS only)")
   Username:  demo
   Password:  $PASSWORD
   Token:     .demo/token  (long-lived access token, for the API and the bridges)

 Energy dashboard: $URL/energy
   $STATS_NOTE
 From a shell: ip netns exec $NS curl -H "Authorization: Bearer \$(cat .demo/token)" $URL/api/states
 Logs: .demo/logs/hass.log, .demo/logs/simulator.log

 Ctrl-C stops Home Assistant and the simulator.
================================================================================
EOF

# Runs until Ctrl-C (trap above) or until one of the two exits on its own.
set +e
wait -n "$HASS_PID" ${SIM_PID:+"$SIM_PID"}
set -e
kill -0 "$HASS_PID" 2>/dev/null || { tail -n 20 "$LOGS/hass.log" >&2; say "Home Assistant exited"; }
[ -z "$SIM_PID" ] || kill -0 "$SIM_PID" 2>/dev/null || { tail -n 20 "$LOGS/simulator.log" >&2; say "the simulator exited"; }
exit 1
