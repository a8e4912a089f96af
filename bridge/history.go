package bridge

import (
	"context"
	"sync"
	"time"

	fb "factorybridge"
	"factorybridge/oee"
)

// History tuning: what the status page's charts and the drain estimate
// look back on.
const (
	// DefaultSampleInterval is how often the counters are sampled.
	DefaultSampleInterval = time.Second
	// historySpan is how far back the samples go.
	historySpan = 10 * time.Minute
	// rateWindow is the span rates are averaged over.
	rateWindow = 30 * time.Second
	// backlogAge: the buffer holds a backlog when its oldest unacknowledged
	// reading is older than this (in normal operation it is a batch delay
	// and a round trip old).
	backlogAge = 5 * time.Second
	// trendPoints bounds each OEE trend.
	trendPoints = 120
	// chartPoints bounds the points of one chart series served.
	chartPoints = 120
)

// sample is the buffer's counters at one moment.
type sample struct {
	at                      time.Time
	committed, acked, depth uint64
}

// trendPoint is one rolling OEE record's OEE (percent; nil undefined).
type trendPoint struct {
	end time.Time
	oee *float64
}

// history keeps the recent samples and OEE trends, for rates, the drain
// estimate and the status page's charts. Run's sampler writes it; any
// goroutine reads it.
type history struct {
	every time.Duration

	mu      sync.Mutex
	samples []sample // oldest first, at most historySpan/every
	trends  map[[2]string][]trendPoint
}

func newHistory(every time.Duration) *history {
	return &history{every: every, trends: map[[2]string][]trendPoint{}}
}

// run samples every h.every until ctx ends.
func (h *history) run(ctx context.Context, stats func() fb.BufferStats, recs func() []oee.Record) {
	t := time.NewTicker(h.every)
	defer t.Stop()
	for {
		h.add(time.Now(), stats(), recs())
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (h *history) add(now time.Time, st fb.BufferStats, recs []oee.Record) {
	h.mu.Lock()
	defer h.mu.Unlock()
	keep := max(2, int(historySpan/h.every))
	if len(h.samples) >= keep {
		h.samples = append(h.samples[:0], h.samples[len(h.samples)-keep+1:]...)
	}
	h.samples = append(h.samples, sample{at: now, committed: st.Committed, acked: st.Acked, depth: st.Depth})
	for _, r := range recs {
		key := [2]string{r.Line, r.Station}
		tr := h.trends[key]
		if n := len(tr); n > 0 && tr[n-1].end.Equal(r.End) {
			continue
		}
		if len(tr) >= trendPoints {
			tr = append(tr[:0], tr[1:]...)
		}
		h.trends[key] = append(tr, trendPoint{end: r.End, oee: pctp(r.OEE)})
	}
}

// window returns the oldest sample within rateWindow of the newest, and
// the newest; ok is false with fewer than two samples.
func (h *history) window() (old, cur sample, ok bool) {
	n := len(h.samples)
	if n < 2 {
		return sample{}, sample{}, false
	}
	cur = h.samples[n-1]
	i := n - 2
	for i > 0 && cur.at.Sub(h.samples[i-1].at) <= rateWindow {
		i--
	}
	return h.samples[i], cur, true
}

// ackedSince is what was acknowledged between the last sample at or
// before t and the newest; with no sample that old, since the first.
func (h *history) ackedSince(t time.Time) uint64 {
	n := len(h.samples)
	if n == 0 {
		return 0
	}
	i := n - 1
	for i > 0 && h.samples[i].at.After(t) {
		i--
	}
	return h.samples[n-1].acked - h.samples[i].acked
}

func perSecond(a, b uint64, d time.Duration) float64 {
	if d <= 0 || b < a {
		return 0
	}
	return float64(b-a) / d.Seconds()
}

// ackRate is the readings acknowledged per second, lately.
func (h *history) ackRate() float64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	old, cur, ok := h.window()
	if !ok {
		return 0
	}
	return perSecond(old.acked, cur.acked, cur.at.Sub(old.at))
}

// Drain is the progress of a backlog in the buffer.
type Drain struct {
	// Backlog is true while the oldest unacknowledged reading is older
	// than backlogAge: the publisher is behind or cut off.
	Backlog bool
	// Rate is the readings acknowledged per second, Net the rate at which
	// the buffer shrinks (acknowledged less committed; negative while it
	// grows), both over the last rateWindow.
	Rate, Net float64
	// Stalled is true with a backlog of which nothing was acknowledged
	// for backlogAge: the publisher is cut off.
	Stalled bool
	// Remaining is the readings in the buffer.
	Remaining uint64
	// ETA is the time left at Net; zero when unknown (no backlog, or the
	// buffer does not shrink).
	ETA time.Duration
}

// drain estimates the drain of the buffer whose stats are st.
func (h *history) drain(st fb.BufferStats) Drain {
	d := Drain{Backlog: st.OldestAge > backlogAge, Remaining: st.Depth}
	h.mu.Lock()
	old, cur, ok := h.window()
	d.Stalled = d.Backlog && h.ackedSince(cur.at.Add(-backlogAge)) == 0
	h.mu.Unlock()
	if !ok {
		return d
	}
	dt := cur.at.Sub(old.at)
	d.Rate = perSecond(old.acked, cur.acked, dt)
	d.Net = d.Rate - perSecond(old.committed, cur.committed, dt)
	if d.Backlog && d.Net > 0 {
		d.ETA = time.Duration(float64(st.Depth) / d.Net * float64(time.Second)).Round(time.Second)
	}
	return d
}
