package opcua

import (
	"context"
	"time"
)

// overlaps counts the moved nodes of one live update whose old and new
// items have not both reported a same value yet. Until they have, the old
// item may still hold values the new one never reports (the new one starts
// with the value current at its creation, and deleting the old one deletes
// what it still queues), so its deletion waits (awaitOverlaps). Changed on
// the drain's goroutine; done is closed when left reaches zero.
type overlaps struct {
	left int
	done chan struct{}
}

// prove marks w's node as overlapping, once.
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
	if len(none) > 0 {
		if err := s.onDrain(ctx, func() { s.proveAll(none) }); err != nil {
			return err
		}
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
	left := 0
	if err := s.onDrain(ctx, func() { left = wait.left }); err != nil {
		return err
	}
	s.c.log.Warn("old items of moved nodes deleted before their new items reported a value they had; values between may be lost",
		"nodes", left, "waited", limit)
	return nil
}

// proveAll marks the moved nodes as overlapping; on the drain.
func (s *session) proveAll(nodes []int) {
	for _, j := range nodes {
		if w := s.c.state[j].window; w != nil {
			w.prove()
		}
	}
}

// overlapTimeout bounds the wait for the items of u's moved nodes to
// overlap: each item reports within its publishing interval, and a publish
// response within a request's timeout. A node whose value changes overlaps
// at its next change that both report, an unchanging one at the new item's
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
