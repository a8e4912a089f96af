#!/usr/bin/env bash
# Takes docs/status-page.png: the status page test (bridge/page_test.go) runs
# the demo line, broker and bridge, drives the page in headless Chromium and,
# with FACTORYBRIDGE_SCREENSHOT set, saves a screenshot after 30 s of charts.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
export FACTORYBRIDGE_REQUIRE_INTEGRATION=1
FACTORYBRIDGE_SCREENSHOT="$PWD/docs/status-page.png" \
	exec go test -count=1 -run '^TestStatusPageInChromium$' -v ./bridge/
