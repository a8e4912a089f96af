package bridge

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"os"
	"time"

	"factorybridge/oee"
)

// Report is the bridge's status as JSON: IoT Hub's GetStatus method
// answers with it and /api/status serves it, so both show the same.
type Report struct {
	Bridge       string         `json:"bridge"`
	Version      string         `json:"version"`
	Commit       string         `json:"commit,omitempty"`
	ConfigDigest string         `json:"configDigest"`
	At           time.Time      `json:"at"`
	UptimeS      int64          `json:"uptimeS"`
	Servers      []serverStatus `json:"servers"`
	Buffer       bufferStatus   `json:"buffer"`
	Publish      publishStatus  `json:"publish"`
	// OEE is the current figures of every line and station with OEE, each
	// line before its stations; absent without OEE.
	OEE []oeeStatus `json:"oee,omitempty"`
}

type serverStatus struct {
	Name        string    `json:"name"`
	State       string    `json:"state"`
	ItemsOK     int       `json:"itemsOk"`
	ItemsFailed int       `json:"itemsFailed"`
	Reconnects  uint64    `json:"reconnects"`
	Readings    uint64    `json:"readings"`
	LastData    time.Time `json:"lastData,omitzero"`
	// Clock is the server's clock offset as last measured; absent before.
	Clock *clockStatus `json:"clock,omitempty"`
}

type bufferStatus struct {
	Depth      uint64      `json:"depth"`
	Bytes      uint64      `json:"bytes"`
	MaxBytes   int64       `json:"maxBytes"`
	OldestAgeS float64     `json:"oldestAgeS"`
	Dropped    uint64      `json:"dropped"`
	LastSeq    uint64      `json:"lastSeq"`
	Committed  uint64      `json:"committed"`
	Drain      drainStatus `json:"drain"`
}

// drainStatus is the progress of a backlog: acknowledged readings per
// second, the net rate at which the buffer shrinks (acknowledged less
// committed), and the time left at that rate (absent when it does not
// shrink).
type drainStatus struct {
	Backlog   bool     `json:"backlog"`
	Stalled   bool     `json:"stalled"`
	RatePerS  float64  `json:"ratePerS"`
	NetPerS   float64  `json:"netPerS"`
	Remaining uint64   `json:"remaining"`
	ETAS      *float64 `json:"etaS"`
}

type publishStatus struct {
	Connected             bool      `json:"connected"`
	LastPublish           time.Time `json:"lastPublish,omitzero"`
	LastAck               time.Time `json:"lastAck,omitzero"`
	ReadingsAcked         uint64    `json:"readingsAcked"`
	RatePerS              float64   `json:"ratePerS"` // readings acknowledged per second, lately
	Reconnects            uint64    `json:"reconnects"`
	TokenRenewals         uint64    `json:"tokenRenewals"`
	BillableUnitsLastHour uint64    `json:"billableUnitsLastHour"`
}

// oeeStatus is one line's or station's OEE now: over the rolling window
// and over the current shift so far (absent outside shifts).
type oeeStatus struct {
	Line    string      `json:"line"`
	Station string      `json:"station,omitempty"`
	Rolling *oeeFigures `json:"rolling,omitempty"`
	Shift   *oeeFigures `json:"shift,omitempty"`
}

// oeeFigures are a record's figures in percent with one decimal (null when
// undefined) and its losses.
type oeeFigures struct {
	Start          time.Time `json:"start"`
	End            time.Time `json:"end"`
	Shift          string    `json:"shift,omitempty"`
	Day            string    `json:"day,omitempty"`
	OEE            *float64  `json:"oee"`
	Availability   *float64  `json:"availability"`
	Performance    *float64  `json:"performance"`
	Quality        *float64  `json:"quality"`
	UnplannedStopS float64   `json:"unplannedStopS"`
	SmallStopS     float64   `json:"smallStopS"`
	SmallStops     int64     `json:"smallStops"`
	Stops          int64     `json:"stops"`
	Good           int64     `json:"good"`
	Reject         int64     `json:"reject"`
}

// Report returns the bridge's status now.
func (b *Bridge) Report() Report {
	now := time.Now()
	return Report{
		Bridge: b.config().Bridge.ID, Version: b.opts.Version, Commit: b.opts.Commit, ConfigDigest: b.digest(),
		At: now, UptimeS: int64(now.Sub(b.started).Seconds()),
		Servers: b.serverStatus(), Buffer: b.bufferStatus(), Publish: b.publishStatus(), OEE: b.oeeStatus(),
	}
}

func (b *Bridge) serverStatus() []serverStatus {
	srcs := b.servers()
	out := make([]serverStatus, len(srcs))
	for i, s := range srcs {
		st := s.client.Stats()
		out[i] = serverStatus{Name: s.name, State: st.State.String(), ItemsOK: st.ItemsOK,
			ItemsFailed: st.ItemsFailed, Reconnects: st.Reconnects, Readings: st.Readings, LastData: st.LastData, Clock: clockOf(st.Clock)}
	}
	return out
}

func (b *Bridge) bufferStatus() bufferStatus {
	st := b.buf.Stats()
	d := b.hist.drain(st)
	ds := drainStatus{Backlog: d.Backlog, Stalled: d.Stalled, RatePerS: round1(d.Rate), NetPerS: round1(d.Net), Remaining: d.Remaining}
	if d.ETA > 0 {
		eta := math.Round(d.ETA.Seconds())
		ds.ETAS = &eta
	}
	return bufferStatus{Depth: st.Depth, Bytes: st.Bytes, MaxBytes: b.config().Buffer.MaxBytes,
		OldestAgeS: st.OldestAge.Seconds(), Dropped: st.Dropped, LastSeq: st.LastSeq, Committed: st.Committed, Drain: ds}
}

func (b *Bridge) publishStatus() publishStatus {
	st := b.pub.Stats()
	return publishStatus{Connected: st.Connected, LastPublish: st.LastPublish, LastAck: st.LastAck,
		ReadingsAcked: st.ReadingsAcked, RatePerS: round1(b.hist.ackRate()), Reconnects: st.Reconnects,
		TokenRenewals: st.TokenRenewals, BillableUnitsLastHour: st.BillableUnitsLastHour}
}

// oeeStatus pairs the runner's rolling and shift records by scope.
func (b *Bridge) oeeStatus() []oeeStatus {
	if b.oee == nil {
		return nil
	}
	shift := map[[2]string]oee.Record{}
	for _, r := range b.oee.Shift() {
		shift[[2]string{r.Line, r.Station}] = r
	}
	var out []oeeStatus
	for _, r := range b.oee.Current() {
		s := oeeStatus{Line: r.Line, Station: r.Station, Rolling: figures(r)}
		if sr, ok := shift[[2]string{r.Line, r.Station}]; ok {
			s.Shift = figures(sr)
		}
		out = append(out, s)
	}
	return sortScopes(out)
}

// sortScopes puts each line's stations right after the line (Current
// lists every line first).
func sortScopes(in []oeeStatus) []oeeStatus {
	out := make([]oeeStatus, 0, len(in))
	for _, l := range in {
		if l.Station != "" {
			continue
		}
		out = append(out, l)
		for _, s := range in {
			if s.Station != "" && s.Line == l.Line {
				out = append(out, s)
			}
		}
	}
	return out
}

func figures(r oee.Record) *oeeFigures {
	return &oeeFigures{Start: r.Start, End: r.End, Shift: r.Shift, Day: r.Day,
		OEE: pctp(r.OEE), Availability: pctp(r.Availability), Performance: pctp(r.Performance), Quality: pctp(r.Quality),
		UnplannedStopS: round1(r.UnplannedStopS), SmallStopS: round1(r.SmallStopS), SmallStops: r.SmallStops,
		Stops: r.Stops, Good: r.Good, Reject: r.Reject}
}

// pctp is a ratio in percent with one decimal, nil when undefined.
func pctp(x oee.Ratio) *float64 {
	if !x.Defined {
		return nil
	}
	v := math.Round(1000*x.Value) / 10
	return &v
}

func round1(x float64) float64 { return math.Round(10*x) / 10 }

// configDigest identifies the configuration file's content in the twin, the
// status and the presence message, so an operator sees which version a
// bridge runs; "" when there is no file.
func configDigest(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:8])
}
