package main

import (
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"factorybridge/internal/testenv"
	"factorybridge/publisher/wire"
)

// oeeRecord is the part of a published OEE record the test compares.
type oeeRecord struct {
	Seq                                uint64
	Kind, Line, Station                string
	Start, End                         time.Time
	PlannedS, RunS, SmallStopS         float64
	UnknownS                           float64
	Total, Good, Reject, GapParts      int64
	CounterResets                      int64
	Reasons                            []oeeReason
	Availability, Performance, Quality *float64
	UnplannedStopS                     float64
	ClockSteps                         int64
}

// oeeReason is one entry of a record's reasons.
type oeeReason struct {
	Code, Loss string
	S          float64
	Stops      int64
}

// sample is one published reading of a node: its times (Unix ns) and value.
// bridge is its time on the bridge's clock (docs/clocks.md).
type sample struct {
	source, server, bridge int64
	value                  uint64
}

// oeeLog collects OEE records and the readings of the line from the broker.
type oeeLog struct {
	mu      sync.Mutex
	seen    map[uint64]bool
	recs    []oeeRecord
	samples map[string][]sample // station/node → readings
	errs    []string
	// readingSeqs and recordSeqs are every seq received, resends included,
	// for the density check.
	readingSeqs, recordSeqs []uint64
}

func subscribeOEE(t *testing.T, broker string) *oeeLog {
	t.Helper()
	l := &oeeLog{seen: map[uint64]bool{}, samples: map[string][]sample{}}
	o := mqtt.NewClientOptions().AddBroker(broker).SetClientID("oee-it-consumer").SetOrderMatters(true)
	cl := mqtt.NewClient(o)
	if tok := cl.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect consumer: %v", tok.Error())
	}
	t.Cleanup(func() { cl.Disconnect(100) })
	tok := cl.Subscribe("factorybridge/#", 1, func(_ mqtt.Client, m mqtt.Message) { l.add(m.Payload()) })
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	return l
}

func (l *oeeLog) add(payload []byte) {
	m, err := wire.DecodeMessage(payload)
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.errs = append(l.errs, err.Error())
		return
	}
	for i := range m.Readings {
		r := &m.Readings[i]
		if m.Type == "oee" {
			l.recordSeqs = append(l.recordSeqs, r.Seq)
			l.addRecord(m.Records[i])
			continue
		}
		l.readingSeqs = append(l.readingSeqs, r.Seq)
		node := r.Name[strings.LastIndexByte(r.Name, '/')+1:]
		l.samples[r.Station+"/"+node] = append(l.samples[r.Station+"/"+node],
			sample{r.SourceTime.UnixNano(), r.ServerTime.UnixNano(), r.Time().UnixNano(), r.Value.Bits})
	}
}

func (l *oeeLog) addRecord(raw json.RawMessage) {
	var j struct {
		Seq                                uint64
		Kind, Line, Station                string
		Start, End                         time.Time
		PlannedS                           float64 `json:"planned_s"`
		RunS                               float64 `json:"run_s"`
		SmallStopS                         float64 `json:"small_stop_s"`
		UnplannedStopS                     float64 `json:"unplanned_stop_s"`
		UnknownS                           float64 `json:"unknown_s"`
		Total, Good, Reject                int64
		GapParts                           int64 `json:"gap_parts"`
		CounterResets                      int64 `json:"counter_resets"`
		Reasons                            []oeeReason
		Availability, Performance, Quality *float64
		ClockSteps                         int64 `json:"clock_steps"`
	}
	if err := json.Unmarshal(raw, &j); err != nil {
		l.errs = append(l.errs, err.Error())
		return
	}
	if l.seen[j.Seq] {
		return // sent again after a restart: at least once
	}
	l.seen[j.Seq] = true
	l.recs = append(l.recs, oeeRecord{Seq: j.Seq, Kind: j.Kind, Line: j.Line, Station: j.Station, Start: j.Start, End: j.End,
		PlannedS: j.PlannedS, RunS: j.RunS, SmallStopS: j.SmallStopS, UnplannedStopS: j.UnplannedStopS,
		UnknownS: j.UnknownS, Total: j.Total, Good: j.Good, Reject: j.Reject, GapParts: j.GapParts,
		CounterResets: j.CounterResets, Reasons: j.Reasons,
		Availability: j.Availability, Performance: j.Performance, Quality: j.Quality, ClockSteps: j.ClockSteps})
}

// shiftToDate returns station's ("" for the line) shift-to-date record
// ending at end.
func (l *oeeLog) shiftToDate(station string, end time.Time) (oeeRecord, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.recs {
		if r.Kind == "shift_to_date" && r.Station == station && r.End.Equal(end) {
			return r, true
		}
	}
	return oeeRecord{}, false
}

// lineEnds returns the ends of the line's shift-to-date records, in order.
func (l *oeeLog) lineEnds() []time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []time.Time
	for _, r := range l.recs {
		if r.Kind == "shift_to_date" && r.Station == "" {
			out = append(out, r.End)
		}
	}
	return out
}

// resumeAfter is the first server timestamp at or after t: when the server
// sent the bridge data again, by the server's clock, not the bridge's.
func (l *oeeLog) resumeAfter(t time.Time) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	first := int64(0)
	for _, ss := range l.samples {
		for _, s := range ss {
			if s.server >= t.UnixNano() && (first == 0 || s.server < first) {
				first = s.server
			}
		}
	}
	return first
}

// lastBefore is the last server timestamp at or before t: the last data the
// server sent that reached the broker.
func (l *oeeLog) lastBefore(t time.Time) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	last := int64(0)
	for _, ss := range l.samples {
		for _, s := range ss {
			if s.server <= t.UnixNano() {
				last = max(last, s.server)
			}
		}
	}
	return last
}

// published reports whether station's node was published with value v at a
// source time in [from, to].
func (l *oeeLog) published(station, node string, v uint64, from, to int64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.samples[station+"/"+node] {
		if s.value == v && s.source >= from && s.source <= to {
			return true
		}
	}
	return false
}

// sampledIn reports whether station's node was published with a source
// time in (from, to).
func (l *oeeLog) sampledIn(station, node string, from, to int64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.samples[station+"/"+node] {
		if s.source > from && s.source < to {
			return true
		}
	}
	return false
}

func (l *oeeLog) waitRecordAfter(t *testing.T, at time.Time) {
	t.Helper()
	testenv.Wait(t, oeeWaitRecord, "an OEE line record ending after "+at.String(), func() bool {
		ends := l.lineEnds()
		return len(ends) > 0 && ends[len(ends)-1].After(at)
	})
}

// seqsOf returns a function that copies one of l's seq lists, for checkDense.
func (l *oeeLog) seqsOf(list *[]uint64) func() []uint64 {
	return func() []uint64 {
		l.mu.Lock()
		defer l.mu.Unlock()
		return slices.Clone(*list)
	}
}
