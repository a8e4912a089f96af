//go:build linux

package testenv

import "strconv"

// acquisitionArgs are the flags of the simulator's history, subscription
// and read limits (SimOptions.History, NoSubscriptions, MaxNodesPerRead).
func (o SimOptions) acquisitionArgs() []string {
	var args []string
	if o.History {
		args = append(args, "-history", "1")
	}
	if o.NoSubscriptions {
		args = append(args, "-subscriptions", "0")
	}
	if o.MaxNodesPerRead > 0 {
		args = append(args, "-max-nodes-per-read", strconv.Itoa(o.MaxNodesPerRead))
	}
	return args
}
