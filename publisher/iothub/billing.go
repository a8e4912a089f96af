package iothub

import (
	"sync"
	"time"
)

// billingMeter sums billable units in total and per minute over the last
// hour (a ring of 60 minutes, so it stays small however long it runs).
type billingMeter struct {
	mu      sync.Mutex
	total   uint64
	minutes [60]uint64
	stamps  [60]int64 // the Unix minute each slot counts
}

func (b *billingMeter) add(units uint64, now time.Time) {
	m := now.Unix() / 60
	b.mu.Lock()
	defer b.mu.Unlock()
	i := m % 60
	if b.stamps[i] != m {
		b.stamps[i], b.minutes[i] = m, 0
	}
	b.minutes[i] += units
	b.total += units
}

// read returns the total and the units of the last 60 minutes.
func (b *billingMeter) read(now time.Time) (total, lastHour uint64) {
	m := now.Unix() / 60
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, stamp := range b.stamps {
		if m-stamp < 60 {
			lastHour += b.minutes[i]
		}
	}
	return b.total, lastHour
}
