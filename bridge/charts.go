package bridge

import "slices"

// Charts is what the status page draws: the recent rates and depth of the
// buffer, and the trend of every line's and station's rolling OEE.
type Charts struct {
	// T are the sample times in Unix milliseconds; AckRate and CommitRate
	// the readings acknowledged and committed per second since the
	// previous point; Depth the readings in the buffer.
	T          []int64   `json:"t"`
	AckRate    []float64 `json:"ackRate"`
	CommitRate []float64 `json:"commitRate"`
	Depth      []uint64  `json:"depth"`
	OEE        []Trend   `json:"oee"`
}

// Trend is one line's or station's rolling OEE (percent, null where
// undefined) at the end of each record.
type Trend struct {
	Line    string     `json:"line"`
	Station string     `json:"station,omitempty"`
	T       []int64    `json:"t"`
	OEE     []*float64 `json:"oee"`
}

// charts returns the history thinned to at most chartPoints per series,
// the newest point always included.
func (h *history) charts(scopes [][2]string) Charts {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := Charts{T: []int64{}, AckRate: []float64{}, CommitRate: []float64{}, Depth: []uint64{}, OEE: []Trend{}}
	n := len(h.samples)
	step := max(1, (n+chartPoints-1)/chartPoints)
	var idx []int
	for i := n - 1; i-step >= 0; i -= step {
		idx = append(idx, i)
	}
	slices.Reverse(idx)
	for _, i := range idx {
		cur, old := h.samples[i], h.samples[i-step]
		dt := cur.at.Sub(old.at)
		c.T = append(c.T, cur.at.UnixMilli())
		c.AckRate = append(c.AckRate, round1(perSecond(old.acked, cur.acked, dt)))
		c.CommitRate = append(c.CommitRate, round1(perSecond(old.committed, cur.committed, dt)))
		c.Depth = append(c.Depth, cur.depth)
	}
	for _, key := range scopes {
		tr := Trend{Line: key[0], Station: key[1], T: []int64{}, OEE: []*float64{}}
		for _, p := range h.trends[key] {
			tr.T = append(tr.T, p.end.UnixMilli())
			tr.OEE = append(tr.OEE, p.oee)
		}
		c.OEE = append(c.OEE, tr)
	}
	return c
}
