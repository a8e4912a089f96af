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
// what was live after the last collection; that is what keeps the
// collector's CPU low, so the limit does not undercut it in steady state:
// it is memHeadroom times an estimate of the live heap, and so clips the
// peaks (a publish response decoded while the previous one is still being
// committed, a drain after an outage) rather than the steady state. At
// 10,000 nodes (live heap ~50 MB after a collection) the derived 139 MiB
// cost no more collections per reading than no limit; 110 MiB cost 17 %
// more, and 48 MiB twice the CPU per reading for 44 MB of anonymous memory.
// The limit is set once at start: a reload that adds nodes keeps it.
//
// The estimate follows the heap profile and the collector's trace (live
// heap after a collection, 90th percentile: 58 MB at 10,000 nodes, 108 MB
// at 30,000, sampling 100 ms, publishing 1 s): a fixed part (runtime, code tables, the status
// page), a part per configured node (its name, its monitored item, its
// origin in the buffer's dictionary, its line counters, its config), and a
// part per notification a node can deliver in one publishing interval
// (the decoded publish response, the readings on their way to the buffer,
// the publisher's batches), plus the readings the buffer lets wait for a
// commit.
const (
	memBase       = 32 << 20
	memPerNode    = 1 << 10
	memPerNotif   = 150
	memPerPending = 256
	// memHeadroom is in tenths: 23 is 2.3 × the live heap estimate.
	memHeadroom = 23
	// memFloor is the least limit set: below it the fixed costs dominate
	// and a limit buys nothing.
	memFloor = 96 << 20
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
	live += memPerPending * 4 * int64(pending) // buffer.Options.PendingLimit's default
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
