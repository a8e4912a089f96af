package bridge

import (
	"log/slog"
	"math"
	"os"
	"runtime/debug"

	"factorybridge/buffer"
	"factorybridge/config"
)

// The Go runtime's soft memory limit (debug.SetMemoryLimit), derived from
// the configuration. With GOGC at its default the heap may grow to twice
// what was live after the last collection: at 10,000 nodes (sampling
// 100 ms, queue 20, publishing 1 s; live heap 28 MB median, 35 MB 90th
// percentile after a collection) that is ~72 MB of anonymous memory, 91 MB
// of RSS with the binary's and the buffer file's mapped pages. The limit
// makes the collector run before that: memHeadroom times an estimate of
// the live heap (its 90th percentile). Measured at 10,000 nodes in one run
// (scripts in docs/benchmarks.md): no limit 91 MB RSS at 1.20 µs of CPU a
// reading; 48 MiB 64 MB at 2.40 µs; 44 MiB 60 MB at 3.6 µs — below about
// 1.3 times the live heap the collector runs all the time. The limit is
// soft: when a peak (a drain after an outage) needs more, the runtime caps
// the collector's CPU and lets the heap grow. It is set once at start: a
// reload that adds nodes keeps it.
//
// The estimate follows heap profiles and the collector's trace at 10,000
// and 30,000 nodes: a fixed part (runtime, code tables, connections, the
// status page, the publish responses being decoded: at most notifyQueue of
// maxNotificationsPerPublish values), a part per configured node (its
// spec and state in the OPC UA client, its origin in the buffer's
// dictionary, its config, its entry in the publisher's node table), a part
// per notification a node can deliver in one publishing interval (the
// publisher packs a whole cycle before it sends it, and holds what was
// sent until it is acknowledged), and the readings waiting for a commit
// (two arrays of buffer.Options.PendingLimit readings).
const (
	memBase       = 15 << 20
	memPerNode    = 1 << 10
	memPerNotif   = 64
	memPerPending = 232 // the size of a factorybridge.Reading
	// memHeadroom is in tenths: 14 is 1.4 × the live heap estimate.
	memHeadroom = 14
	// memFloor is the least limit set: below it the fixed costs dominate
	// and a limit buys nothing.
	memFloor = 40 << 20
)

// MemoryLimit returns the soft memory limit, in bytes, that the runtime
// gets for cfg (defaults applied).
func MemoryLimit(cfg *config.Config) int64 {
	live := int64(memBase)
	for _, ref := range cfg.Nodes("") {
		live += memPerNode + memPerNotif*notificationsPerPublish(ref.Node)
	}
	pending := cfg.Buffer.CommitMaxReadings
	if pending <= 0 {
		pending = buffer.DefaultCommitMaxReadings
	}
	live += memPerPending * 2 * 2 * int64(pending) // two arrays of buffer.Options.PendingLimit's default
	limit := max(memFloor, live*memHeadroom/10)
	return (limit + 1<<20 - 1) &^ (1<<20 - 1) // whole MiB, as logged
}

// notificationsPerPublish bounds what one node delivers per publishing
// interval: its queue, or fewer when it is sampled more slowly than that.
// Sampling "0s" (as fast as the server can) is bounded by the queue only.
func notificationsPerPublish(n config.Node) int64 {
	q := max(int64(n.QueueSize), 1)
	sampling, publishing := n.SamplingInterval.D(), n.PublishingInterval.D()
	if sampling <= 0 || publishing <= 0 {
		return q
	}
	perInterval := int64((publishing + sampling - 1) / sampling)
	return min(q, max(perInterval, 1))
}

// SetMemoryLimit gives the runtime MemoryLimit(cfg) as its soft memory
// limit and logs it, unless the environment sets GOMEMLIMIT, which the
// runtime has applied already and which wins. It returns the limit in force.
func SetMemoryLimit(cfg *config.Config, log *slog.Logger) int64 {
	return setMemoryLimit(cfg, log, os.Getenv, debug.SetMemoryLimit)
}

func setMemoryLimit(cfg *config.Config, log *slog.Logger, getenv func(string) string, set func(int64) int64) int64 {
	if v := getenv("GOMEMLIMIT"); v != "" {
		limit := set(-1) // -1 reads the limit without changing it
		log.Info("memory limit from GOMEMLIMIT", "limit_mib", mib(limit), "GOMEMLIMIT", v)
		return limit
	}
	limit := MemoryLimit(cfg)
	set(limit)
	log.Info("memory limit derived from the configuration (GOMEMLIMIT overrides it)",
		"limit_mib", limit>>20, "nodes", len(cfg.Nodes("")))
	return limit
}

// mib is limit in MiB for the log, or "off" for no limit.
func mib(limit int64) any {
	if limit == math.MaxInt64 {
		return "off"
	}
	return limit >> 20
}
