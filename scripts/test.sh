#!/usr/bin/env bash
# Runs every test of factorybridge, unit and integration, on a fresh Debian 12
# machine: installs what they need (scripts/deps.sh: mosquitto, gcc, the
# open62541 simulator), then go vet and go test with the race detector.
# Integration tests fail instead of skipping when a service is missing.
# Extra arguments go to go test (e.g. -run TestFault -v).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh

export FACTORYBRIDGE_REQUIRE_INTEGRATION=1
export PATH="$PATH:/usr/sbin"
go vet ./...
# The end-to-end tests (cmd/factorybridge) measure rates and latencies of a
# whole bridge; they run on their own, after the other packages, so that no
# other package's tests share the machine's two cores with them.
go test -race -count=1 -timeout 30m "$@" $(go list ./... | grep -v '/cmd/factorybridge$')
go test -race -count=1 -timeout 60m "$@" ./cmd/factorybridge
# the tests of the patches to the gopcua copy (a module of its own)
(cd third_party/gopcua && go test -race -count=1 -run Patch ./...)
