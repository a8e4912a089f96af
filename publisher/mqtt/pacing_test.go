package mqtt

import (
	"fmt"
	"testing"
	"time"

	"factorybridge"
	"factorybridge/publisher/internal/pubtest"
	"factorybridge/publisher/wire"
)

func TestDueOf(t *testing.T) {
	readAt := time.Date(2026, 12, 5, 6, 0, 0, 0, time.UTC)
	o := Options{CycleGrace: 150 * time.Millisecond, PublishingIntervals: map[string]time.Duration{"plc": time.Second}}
	at := func(d time.Duration) time.Time { return readAt.Add(d) }
	for _, tc := range []struct {
		name string
		r    factorybridge.Reading
		want time.Duration // after readAt
	}{
		{"on time: grace after the cycle", factorybridge.Reading{Server: "plc", SourceTime: at(-900 * time.Millisecond)}, 250 * time.Millisecond},
		{"late, within the grace", factorybridge.Reading{Server: "plc", SourceTime: at(-1050 * time.Millisecond)}, 100 * time.Millisecond},
		{"late, near the grace's end: a third of it", factorybridge.Reading{Server: "plc", SourceTime: at(-1120 * time.Millisecond)},
			50 * time.Millisecond},
		{"heartbeat: no cycle", factorybridge.Reading{Server: "plc", SourceTime: at(-900 * time.Millisecond), Class: factorybridge.ClassHeartbeat},
			150 * time.Millisecond},
		{"clock ahead: an interval after read", factorybridge.Reading{Server: "plc", SourceTime: at(time.Hour)}, 1150 * time.Millisecond},
		{"bridge time first", factorybridge.Reading{Server: "plc", SourceTime: at(-time.Hour), BridgeTime: at(-900 * time.Millisecond)},
			250 * time.Millisecond},
		{"server time without source time", factorybridge.Reading{Server: "plc", ServerTime: at(-800 * time.Millisecond)}, 350 * time.Millisecond},
		{"no time", factorybridge.Reading{Server: "plc"}, 150 * time.Millisecond},
		{"server without an interval", factorybridge.Reading{Server: "other", SourceTime: at(-900 * time.Millisecond)}, 150 * time.Millisecond},
		{"OEE record", factorybridge.Reading{Server: "plc", SourceTime: at(-900 * time.Millisecond), Class: factorybridge.ClassOEE},
			150 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if due, until := o.dueOf(&tc.r, readAt); !due.Equal(at(tc.want)) || !until.IsZero() {
				t.Errorf("due %v after read, until %v; want %v, none", due.Sub(readAt), until, tc.want)
			}
		})
	}
	for _, late := range []time.Duration{1300 * time.Millisecond, time.Hour} {
		t.Run(fmt.Sprintf("late by %v: until its cycle's end", late), func(t *testing.T) {
			r := factorybridge.Reading{Server: "plc", SourceTime: at(-late)}
			if due, until := o.dueOf(&r, readAt); !due.IsZero() || !until.Equal(r.SourceTime.Add(time.Second)) {
				t.Errorf("due %v, until %v; want none, %v", due, until, r.SourceTime.Add(time.Second))
			}
		})
	}
}

// burst describes how an OPC UA server's publish responses reach the
// publisher: every cycle (publishing interval 1 s) lists every node's
// first sample, then every node's second, …; sample times are phase,
// phase+100 ms, … after the cycle began. The publisher reads a cycle's
// readings evenly over ingest, starting lag after the cycle ended; a
// backlog (every > 0) is read one cycle every that long, from lag after
// the first cycle ended.
type burst struct {
	nodes, samples, cycles    int
	phase, lag, ingest, every time.Duration
}

const burstInterval = time.Second

// reads returns the reads of b: when each was read and what it returned.
func (b burst) reads(t0 time.Time) (times []time.Time, reads [][]factorybridge.Reading) {
	nodes := pubtest.Nodes(b.nodes)
	const perRead = 256
	seq := uint64(0)
	for c := range b.cycles {
		end := t0.Add(time.Duration(c+1) * burstInterval) // when the server published the cycle
		var cycle []factorybridge.Reading
		for j := range b.samples {
			src := end.Add(-burstInterval + b.phase + time.Duration(j)*100*time.Millisecond)
			for _, n := range nodes {
				seq++
				cycle = append(cycle, factorybridge.Reading{Seq: seq, Name: n.Name, NodeID: n.ID, Server: n.Server,
					Line: "l", Station: "s", Value: factorybridge.IntValue(factorybridge.TypeInt32, int64(seq)),
					SourceTime: src, ServerTime: src})
			}
		}
		start := end.Add(b.lag)
		if b.every > 0 {
			start = t0.Add(burstInterval + b.lag + time.Duration(c)*b.every)
		}
		for i := 0; i < len(cycle); i += perRead {
			times = append(times, start.Add(b.ingest*time.Duration(i)/time.Duration(len(cycle))))
			reads = append(reads, cycle[i:min(i+perRead, len(cycle))])
		}
	}
	return times, reads
}

// paced is a message the pacing harness sent: when, and what it held.
type paced struct {
	at       time.Time
	readings []*factorybridge.Reading
}

// pace runs a session's packing decisions (dueAt, nextDue, holdByCycle,
// releaseCycles) over reads on a simulated clock: before each read it
// sends the builders due by then, at their due time, as the loop's timer
// does. Readings go
// into one builder per topic (no sharding, messages large enough).
func pace(t *testing.T, opts Options, times []time.Time, reads [][]factorybridge.Reading) (msgs []paced, readAt map[uint64]time.Time) {
	t.Helper()
	opts.BridgeID, opts.Queue, opts.Broker = "b", pubtest.NewMemQueue(), "tcp://127.0.0.1:1883"
	opts.MaxMessageBytes = 4 << 20
	p, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	s := p.newSession(1, opts.MaxMessageBytes)
	held := map[*wire.Builder][]*factorybridge.Reading{}
	send := func(b *wire.Builder, at time.Time) {
		msgs = append(msgs, paced{at, held[b]})
		delete(held, b)
		p.packer.Finish(b, nil)
	}
	flushUntil := func(now time.Time) {
		for b, at := s.nextDue(); b != nil && !at.After(now); b, at = s.nextDue() {
			send(b, at)
		}
	}
	readAt = map[uint64]time.Time{}
	for i, rs := range reads {
		flushUntil(times[i])
		s.readAt = times[i]
		for j := range rs {
			r := &rs[j]
			readAt[r.Seq] = times[i]
			slot := p.packer.SlotOf(p.topicOf(r), r)
			b := p.packer.Builder(slot)
			if b == nil {
				b = p.packer.Start(slot, s.readAt)
			}
			if !p.packer.Add(b, r) {
				t.Fatalf("seq %d does not fit", r.Seq)
			}
			s.added(b, r)
			held[b] = append(held[b], r)
		}
		s.releaseCycles(times[i])
	}
	flushUntil(times[len(times)-1].Add(time.Hour))
	return msgs, readAt
}

// TestPacingByCycle: the publish responses' time-major bursts, packed by
// the default settings. Every reading goes out by its due time (the
// latency bound), and a node's samples of one cycle travel together when
// the cycle comes in within the grace — not one sample per message, which
// is what a delay counted from the first reading read makes of a burst
// that takes longer than the delay to come in.
func TestPacingByCycle(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    burst
		// fewest samples of a node per message on average, and the most
		// (0: any): a backlog's messages hold a cycle, not what a fixed
		// delay reads
		wantSamples, maxSamples float64
		// the longest a reading may wait after it was read; 0: MaxBatchDelay
		maxWait time.Duration
	}{
		{name: "the cycle comes in within the grace", wantSamples: 10, maxSamples: 10,
			b: burst{nodes: 300, samples: 10, cycles: 4, phase: 80 * time.Millisecond, lag: 20 * time.Millisecond, ingest: 180 * time.Millisecond}},
		{name: "the cycle comes in at once", wantSamples: 10, maxSamples: 10,
			b: burst{nodes: 300, samples: 10, cycles: 4, lag: 10 * time.Millisecond}},
		{name: "slow intake: split where the oldest reading is due", wantSamples: 3,
			b: burst{nodes: 300, samples: 10, cycles: 4, phase: 50 * time.Millisecond, lag: 50 * time.Millisecond, ingest: 600 * time.Millisecond}},
		{name: "intake behind the grace, in bursts: whole cycles once it pauses", wantSamples: 10, maxSamples: 10,
			maxWait: 360 * time.Millisecond, // the burst's 200 ms and the grace
			b:       burst{nodes: 300, samples: 10, cycles: 4, lag: 1200 * time.Millisecond, ingest: 200 * time.Millisecond}},
		{name: "intake behind the grace, without pause: whole cycles", wantSamples: 9, maxSamples: 12,
			b: burst{nodes: 300, samples: 10, cycles: 4, lag: 700 * time.Millisecond, ingest: time.Second}},
		{name: "backlog read slower than the grace: whole cycles", wantSamples: 9.5, maxSamples: 12,
			b: burst{nodes: 300, samples: 10, cycles: 4, lag: time.Hour, ingest: 300 * time.Millisecond, every: 300 * time.Millisecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := Options{PublishingIntervals: map[string]time.Duration{"plc1": burstInterval}}
			opts.applyDefaults()
			times, reads := tc.b.reads(time.Date(2026, 12, 5, 6, 0, 0, 0, time.UTC))
			msgs, readAt := pace(t, opts, times, reads)
			if tc.maxWait > 0 {
				opts.MaxBatchDelay = tc.maxWait // what checkPaced checks
			}
			checkPaced(t, opts, msgs, readAt, tc.b.nodes*tc.b.samples*tc.b.cycles)
			got := samplesPerNode(msgs)
			if got < tc.wantSamples || tc.maxSamples > 0 && got > tc.maxSamples {
				t.Errorf("%.1f samples of a node per message, want %.1f to %.0f (%d messages)", got, tc.wantSamples, tc.maxSamples, len(msgs))
			}
		})
	}
}

// checkPaced checks that every reading went out once, in order per node,
// by its due time and at most MaxBatchDelay after it was read.
func checkPaced(t *testing.T, o Options, msgs []paced, readAt map[uint64]time.Time, want int) {
	t.Helper()
	seen, last := map[uint64]bool{}, map[string]uint64{}
	for _, m := range msgs {
		for _, r := range m.readings {
			switch due, _ := o.dueOf(r, readAt[r.Seq]); {
			case seen[r.Seq]:
				t.Fatalf("seq %d sent twice", r.Seq)
			case r.Seq < last[r.Name]:
				t.Fatalf("seq %d of %s after seq %d", r.Seq, r.Name, last[r.Name])
			case !due.IsZero() && m.at.After(due):
				t.Fatalf("seq %d sent %v after its due time", r.Seq, m.at.Sub(due))
			case m.at.Sub(readAt[r.Seq]) > o.MaxBatchDelay:
				t.Fatalf("seq %d waited %v after it was read", r.Seq, m.at.Sub(readAt[r.Seq]))
			}
			seen[r.Seq], last[r.Name] = true, r.Seq
		}
	}
	if len(seen) != want {
		t.Fatalf("%d readings sent, want %d", len(seen), want)
	}
}

// samplesPerNode is the readings per node head over msgs.
func samplesPerNode(msgs []paced) float64 {
	var readings, heads int
	for _, m := range msgs {
		nodes := map[string]bool{}
		for _, r := range m.readings {
			nodes[r.Name] = true
		}
		readings, heads = readings+len(m.readings), heads+len(nodes)
	}
	return float64(readings) / float64(max(heads, 1))
}

// TestHeldReadingsBounded: with delays that never end, only the bound on
// held readings sends messages, and none holds more than the bound.
func TestHeldReadingsBounded(t *testing.T) {
	defer func(n int) { maxHeldReadings = n }(maxHeldReadings)
	maxHeldReadings = 50
	b := startBroker(t)
	q := pubtest.NewMemQueue()
	want := pubtest.WithSeqs(pubtest.Readings(pubtest.Nodes(4), 1000))
	last := q.Append(want...)
	opts := testOptions(t, b.url(), q)
	opts.MaxMessageBytes, opts.MaxBatchDelay, opts.CycleGrace = 256<<10, time.Hour, time.Hour
	opts.Topic = "t/{bridge}"
	runPublisher(t, opts)
	q.WaitAcked(t, last-uint64(maxHeldReadings), waitLong)
	for _, m := range b.rec.decoded(t) {
		if m.Count > maxHeldReadings {
			t.Fatalf("a message of %d readings; at most %d are held", m.Count, maxHeldReadings)
		}
	}
}

// TestCycleSendsBeforeMaxBatchDelay: through a running publisher, readings
// of a server with a publishing interval go out when their cycle's grace
// ends, not when MaxBatchDelay does.
func TestCycleSendsBeforeMaxBatchDelay(t *testing.T) {
	b := startBroker(t)
	q := pubtest.NewMemQueue()
	now := time.Now().Truncate(time.Millisecond)
	var want []factorybridge.Reading
	for i, n := range pubtest.Nodes(20) {
		want = append(want, factorybridge.Reading{Name: n.Name, NodeID: n.ID, Server: n.Server, Line: n.Line, Station: n.Station,
			Value: factorybridge.TextValue(factorybridge.TypeString, fmt.Sprint(i)), SourceTime: now})
	}
	want = pubtest.WithSeqs(want)
	last := q.Append(want...)
	opts := testOptions(t, b.url(), q)
	opts.MaxBatchDelay, opts.CycleGrace = time.Hour, 50*time.Millisecond
	opts.PublishingIntervals = map[string]time.Duration{"plc1": 200 * time.Millisecond}
	runPublisher(t, opts)
	q.WaitAcked(t, last, waitLong)
	pubtest.CheckDelivery(t, b.rec.decoded(t), want, last)
}

// TestPublishingIntervalsCopied: the caller's map is not the Publisher's,
// which Run's goroutine reads.
func TestPublishingIntervalsCopied(t *testing.T) {
	ivs := map[string]time.Duration{"plc1": time.Second}
	opts := testOptions(t, "tcp://127.0.0.1:1883", pubtest.NewMemQueue())
	opts.PublishingIntervals = ivs
	p, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ivs["plc1"] = time.Hour
	if got := p.opts.PublishingIntervals["plc1"]; got != time.Second {
		t.Errorf("interval %v after the caller changed its map, want 1s", got)
	}
}
