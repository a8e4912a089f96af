package opcua

import (
	"context"
	"time"

	"github.com/gopcua/opcua"
	"github.com/gopcua/opcua/ua"
)

// dupWindow orders a moved node's values while its old and its new item
// both report it (update.go). The old item reports every value up to its
// deletion; the new one every value from its creation on, starting with
// the value current then, while the old one may still queue values before
// it. Until the old item has reported a value the new one reported too,
// the new item's values are held; then those not delivered yet are
// released, and from then on only the new item's values count. So each
// value is delivered once, in order of source time (each item reports in
// that order).
type dupWindow struct {
	newHandle uint32
	mode      windowMode
	held      []*ua.MonitoredItemNotification // the new item's, in holding mode
	release   []*ua.MonitoredItemNotification // held values to deliver after the current one
	fromNew   bool                            // the new item sent a value
	oldGone   bool                            // the old item's values are through (the marker)

	wait   *overlaps // of the update; the old items are deleted once all are proven
	proven bool      // counted in wait
}

type windowMode uint8

const (
	holding windowMode = iota // the old item's values are delivered, the new one's held
	newOnly                   // the items overlapped: only the new item's values
	either                    // no overlap to wait for: either item's values, in order
)

// admit decides about a value of source time t (Unix ns, 0 for none) from
// either item; last is the source time of the node's last value delivered.
// It reports whether the value is not to be delivered now; values to
// deliver right after it are left in release.
func (w *dupWindow) admit(it *ua.MonitoredItemNotification, t, last int64) (skip bool) {
	fromNew := it.ClientHandle == w.newHandle
	w.fromNew = w.fromNew || fromNew
	switch {
	case w.mode == newOnly && !fromNew:
		return true // the new item reports this value too
	case t == 0: // no source time: no telling its place, nor a repeat
		if fromNew && w.mode == holding { // after the new item's held values
			w.giveUp()
			w.release = append(w.release, it)
			return true
		}
		return false
	case t <= last:
		if fromNew && w.mode == holding {
			w.overlap(last) // the old item delivered it
		}
		return true
	case w.mode != holding:
		return false
	case !fromNew:
		if w.holds(t) {
			w.overlap(t)
		}
		return false
	}
	w.held = append(w.held, detached(it))
	return true
}

// detached is a copy of it that does not share the notification's memory:
// deliver hands a notification's memory back to gopcua once it has been
// delivered (ua.ReleaseDataChangeNotification, gopcua patch 10), and a
// held value outlives its notification.
func detached(it *ua.MonitoredItemNotification) *ua.MonitoredItemNotification {
	cp := *it
	if it.Value != nil {
		dv := *it.Value
		if dv.Value != nil {
			v := *dv.Value
			dv.Value = &v
		}
		cp.Value = &dv
	}
	return &cp
}

func (w *dupWindow) holds(t int64) bool {
	for _, it := range w.held {
		if unixNano(it.Value.SourceTimestamp) == t {
			return true
		}
	}
	return false
}

// overlap switches to the new item: the held values after the source time
// delivered last are released.
func (w *dupWindow) overlap(last int64) {
	for _, it := range w.held {
		if unixNano(it.Value.SourceTimestamp) > last {
			w.release = append(w.release, it)
		}
	}
	w.held, w.mode = nil, newOnly
	w.prove()
}

// giveUp stops waiting for an overlap: either item's values are delivered
// when they come in order; the held ones are released.
func (w *dupWindow) giveUp() {
	w.release = append(w.release, w.held...)
	w.held, w.mode = nil, either
	w.prove()
}

// overlaps counts the moved nodes of one live update whose old and new
// items have not both reported a same value yet. Until they have, the old
// item may still queue values the new one never reports, and deleting it
// deletes them (a server frees a deleted item's queue), so its deletion
// waits (awaitOverlaps). Changed on the drain's goroutine; done is closed
// when left reaches zero.
type overlaps struct {
	left int
	done chan struct{}
}

// prove counts w's node as no longer waited for, once.
func (w *dupWindow) prove() {
	if w.wait == nil || w.proven {
		return
	}
	w.proven = true
	w.wait.left--
	if w.wait.left == 0 {
		close(w.wait.done)
	}
}

// awaitOverlaps waits until the old and the new item of every moved node
// have reported a same value, or for overlapTimeout; on Run's goroutine. A
// node without an old or a new item has nothing to wait for.
func (s *session) awaitOverlaps(ctx context.Context, u *update, oldNodes []node, oldIDs []uint32, wait *overlaps) error {
	var none []int
	for j, i := range u.from {
		if u.how[j] == moved && (oldIDs[i] == 0 || s.itemIDs[j] == 0) {
			none = append(none, j)
		}
	}
	if err := s.giveUpOn(ctx, none); err != nil {
		return err
	}
	limit := s.overlapTimeout(u, oldNodes)
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case <-wait.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
	}
	var left []int
	for j := range u.how {
		if u.how[j] == moved {
			left = append(left, j)
		}
	}
	s.c.log.Warn("moved nodes' old items deleted before their new items reported a value they had: values between may be lost",
		"waited", limit)
	return s.giveUpOn(ctx, left)
}

// giveUpOn stops waiting for the moved nodes' items to overlap and
// delivers the values held meanwhile, as a notification of their own.
func (s *session) giveUpOn(ctx context.Context, nodes []int) error {
	if len(nodes) == 0 {
		return nil
	}
	var held []*ua.MonitoredItemNotification
	err := s.onDrain(ctx, func() {
		for _, j := range nodes {
			if w := s.c.state[j].window; w != nil && w.mode == holding {
				w.giveUp()
				held, w.release = append(held, w.release...), nil
			}
		}
	})
	if err != nil || len(held) == 0 {
		return err
	}
	select {
	case s.notify <- &opcua.PublishNotificationData{Value: &ua.DataChangeNotification{MonitoredItems: held}}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// overlapTimeout bounds the wait for the items of u's moved nodes to
// overlap: each item reports within its publishing interval, and a publish
// response within a request's timeout. A node whose value changes overlaps
// at the first value both report, an unchanging one at the new item's
// first value.
func (s *session) overlapTimeout(u *update, oldNodes []node) time.Duration {
	var longest time.Duration
	for j, i := range u.from {
		if u.how[j] == moved {
			longest = max(longest, s.c.nodes[j].spec.PublishingInterval, oldNodes[i].spec.PublishingInterval)
		}
	}
	return 2*longest + s.c.opts.RequestTimeout
}
