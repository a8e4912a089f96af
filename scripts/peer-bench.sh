#!/usr/bin/env bash
# The peer benchmark (docs/benchmarks.md, "Against Telegraf"): factorybridge
# and Telegraf v1.37.2 (inputs.opcua_listener + outputs.mqtt, JSON) run one
# after the other — never both at once — against the same open62541 load
# server, mosquitto broker and counting subscriber, for each node count, and
# print one table: delivered of offered, CPU µs per reading, RSS and wire
# bytes per reading. About 12 minutes on 2 cores with the defaults.
#
# Telegraf is built once from the Go module proxy with only the plugins the
# benchmark needs (its "custom" build tags, docs/CUSTOMIZATION.md in its
# source) and cached in .cache/telegraf/; GitHub is not needed.
#
# Knobs (environment): FB_PEER_NODES ("10000 30000"), FB_PEER_WARMUP (20s),
# FB_PEER_WINDOW (60s), FB_PEER_RATE (10), FB_PEER_PROGRAMS
# ("factorybridge factorybridge-sampling0 telegraf"; also telegraf-batch:
# outputs.mqtt with layout "batch", and factorybridge-nolimit: factorybridge
# with GOMEMLIMIT=off), TELEGRAF (a prebuilt binary instead of the cached
# build).
# Usage: scripts/peer-bench.sh [go test flags]
set -euo pipefail

readonly TELEGRAF_VERSION=1.37.2
readonly TELEGRAF_MODULE=github.com/influxdata/telegraf
readonly TELEGRAF_TAGS=custom,inputs.opcua_listener,outputs.mqtt,serializers.json

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${FACTORYSIM_CACHE:-$REPO/.cache}

die() {
	echo "peer-bench.sh: $*" >&2
	exit 1
}

# build_telegraf builds the trimmed Telegraf into $1 from the module's source
# as the proxy serves it, with the flags of Telegraf's own release builds
# (CGO off, stripped, version stamped).
build_telegraf() {
	local bin=$1 dir log=$CACHE/telegraf/build.log start=$SECONDS
	mkdir -p "$(dirname "$bin")"
	echo "peer-bench.sh: building Telegraf $TELEGRAF_VERSION ($TELEGRAF_TAGS)…" >&2
	dir=$(go mod download -json "$TELEGRAF_MODULE@v$TELEGRAF_VERSION" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p') ||
		die "download $TELEGRAF_MODULE@v$TELEGRAF_VERSION failed"
	[[ -d $dir ]] || die "no source directory for $TELEGRAF_MODULE@v$TELEGRAF_VERSION"
	(cd "$dir" && CGO_ENABLED=0 GOFLAGS=-mod=readonly go build -tags "$TELEGRAF_TAGS" \
		-ldflags "-s -w -X $TELEGRAF_MODULE/internal.Version=$TELEGRAF_VERSION" \
		-o "$bin.tmp" ./cmd/telegraf) >"$log" 2>&1 || {
		tail -n 20 "$log" >&2
		die "build Telegraf failed (log: $log)"
	}
	mv -f "$bin.tmp" "$bin"
	echo "peer-bench.sh: built $bin in $((SECONDS - start)) s, $(du -h "$bin" | cut -f1)" >&2
}

main() {
	cd "$REPO"
	scripts/deps.sh
	if [[ -z ${TELEGRAF:-} ]]; then
		TELEGRAF=$CACHE/telegraf/telegraf-$TELEGRAF_VERSION
		# Serialized like the simulator's build: two runs share one cache.
		mkdir -p "$CACHE/telegraf"
		exec 8>"$CACHE/telegraf/build.lock"
		flock 8
		[[ -x $TELEGRAF ]] || build_telegraf "$TELEGRAF"
		flock -u 8
	fi
	"$TELEGRAF" --version >/dev/null || die "$TELEGRAF does not run"
	export TELEGRAF FACTORYBRIDGE_REQUIRE_INTEGRATION=1
	export PATH="$PATH:/usr/sbin"
	exec go test -run '^$' -bench '^BenchmarkPeers$' -benchtime 1x -timeout 40m "$@" ./cmd/factorybridge/
}

main "$@"
