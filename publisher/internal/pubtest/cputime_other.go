//go:build !unix

package pubtest

import "time"

// CPUTime is not measured on this platform; benchmarks omit the CPU rate.
func CPUTime() time.Duration { return 0 }
