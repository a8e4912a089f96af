#!/usr/bin/env bash
# Installs what the tests and the benchmark need on a fresh Debian 12
# machine: mosquitto (the broker), gcc and libc6-dev (to build the open62541
# simulator), chromium (the status page's browser test drives it headless),
# systemd (systemd-analyze checks the shipped unit) and faketime (libfaketime:
# the simulator as a PLC whose clock is off) from Debian, then open62541
# itself into .cache/ and the simulator (scripts/open62541.sh).
# Idempotent; quick when all is present.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
command -v gcc >/dev/null 2>&1 || missing+=(gcc)
[ -e /usr/include/stdio.h ] || missing+=(libc6-dev)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
command -v faketime >/dev/null 2>&1 || missing+=(faketime)
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps.sh: installing from Debian: ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

scripts/open62541.sh
