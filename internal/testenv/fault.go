package testenv

import "os"

// FaultFull reports whether the fault tests run at the full durations of
// docs/faults.md (FACTORYBRIDGE_FAULT_FULL=1) instead of scaled down for CI.
func FaultFull() bool { return os.Getenv("FACTORYBRIDGE_FAULT_FULL") == "1" }
