#!/usr/bin/env bash
# Installs the net-snmp command-line tools and the MIB checker that the SNMP tests use as
# independent clients:
#   snmp       -> snmpget, snmpgetnext, snmpwalk, snmpbulkwalk, snmpset, snmptranslate
#   snmptrapd  -> snmptrapd (the trap/inform receiver; its own Debian package)
#   smitools   -> smilint, smidump (MIB check)
# Idempotent: when every binary is already on PATH it does nothing (no network). Otherwise it
# runs `apt-get update` once and installs the missing packages (needs root, as CI and the
# developers' machines are). Meant to be run by scripts/test.sh before pytest; the SNMP tests
# also run it themselves when a tool is missing (on the host only, never inside a chroot).
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

need=()
command -v snmpget >/dev/null 2>&1 && command -v snmpbulkwalk >/dev/null 2>&1 \
  && command -v snmpset >/dev/null 2>&1 || need+=(snmp)
command -v snmptrapd >/dev/null 2>&1 || need+=(snmptrapd)
command -v smilint >/dev/null 2>&1 || need+=(smitools)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-snmp-tools: need root to apt-get install ${need[*]}" >&2
  exit 1
fi
echo "install-snmp-tools: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
# --no-install-recommends keeps snmptrapd from pulling in the full snmpd daemon.
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# Debian's snmptrapd depends on snmpd; both packages enable system services (UDP 161/162). The
# tests run their own agent and receivers on free loopback ports, so stop the system ones if an
# init system started them.
if command -v systemctl >/dev/null 2>&1; then
  for unit in snmptrapd snmpd; do
    if systemctl is-active --quiet "$unit" 2>/dev/null; then
      systemctl stop "$unit" || true
      systemctl disable "$unit" >/dev/null 2>&1 || true
    fi
  done
fi
for bin in snmpget snmpwalk snmpbulkwalk snmpset snmptrapd smilint; do
  command -v "$bin" >/dev/null 2>&1 || { echo "install-snmp-tools: $bin still missing" >&2; exit 1; }
done
