#!/usr/bin/env bash
# The end-to-end benchmark (docs/benchmarks.md): the open62541 simulator with
# FB_BENCH_NODES load nodes at FB_BENCH_RATE Hz, mosquitto, and the bridge
# binary with its durable buffer (fsync on); prints delivered readings/s,
# bridge CPU µs per reading, RSS, wire bytes per reading, latency p50/p99 and
# the drain rate after a broker outage. About 3 minutes with the defaults.
#
# Knobs (environment): FB_BENCH_NODES (30000), FB_BENCH_RATE (10),
# FB_BENCH_WARMUP (10s), FB_BENCH_STEADY (30s), FB_BENCH_OUTAGE (60s),
# FB_BENCH_PUBLISHING (1s), FB_BENCH_BATCH_DELAY (1s; "default" leaves
# mqtt.max_batch_delay to the configuration's default), FB_BENCH_SAMPLING
# (0s), FB_BENCH_QUEUE (2 × rate × publishing interval), FB_BENCH_COMMIT_MS (20).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
export FACTORYBRIDGE_REQUIRE_INTEGRATION=1
export PATH="$PATH:/usr/sbin"
exec go test -run '^$' -bench '^BenchmarkEndToEnd$' -benchtime 1x -timeout 20m "$@" ./cmd/factorybridge/
