#!/usr/bin/env bash
# Runs every test of factorybridge, unit and integration, on a fresh Debian 12
# machine: installs mosquitto from Debian if missing, fetches open62541 and
# builds the simulator (scripts/open62541.sh), then go vet and go test.
# Integration tests fail instead of skipping when a service is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests need: mosquitto (the broker), gcc and libc6-dev
# (to build the open62541 simulator).
missing=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
command -v gcc >/dev/null 2>&1 || missing+=(gcc)
[ -e /usr/include/stdio.h ] || missing+=(libc6-dev)
if [ ${#missing[@]} -gt 0 ]; then
  echo "test.sh: installing from Debian: ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

scripts/open62541.sh

export FACTORYBRIDGE_REQUIRE_INTEGRATION=1
export PATH="$PATH:/usr/sbin"
go vet ./...
go test -race -count=1 -timeout 30m "$@" ./...
