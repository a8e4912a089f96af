//go:build !unix

package publisher

import "time"

// cpuTime is not measured on this platform; benchmarks omit the CPU rate.
func cpuTime() time.Duration { return 0 }
