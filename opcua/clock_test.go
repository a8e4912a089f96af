package opcua

import (
	"testing"
	"time"

	"github.com/gopcua/opcua/ua"

	fb "factorybridge"
	"factorybridge/internal/testenv"
)

// TestClockWarnings: one WARN when the offset passes the threshold, one
// more when it changes by more than the threshold, an all-clear when it is
// back, and a step (with OnStep) whenever consecutive measurements differ
// by more than the threshold.
func TestClockWarnings(t *testing.T) {
	logs := &testenv.Logs{}
	var steps []time.Duration
	opts := testOptions(testServer("plc", "opc.tcp://127.0.0.1:1"), newRecordSink(), logs)
	opts.Clock.OnStep = func(server string, step time.Duration, _ time.Time) {
		if server != "plc" {
			t.Errorf("OnStep for server %q", server)
		}
		steps = append(steps, step)
	}
	c := newClient(t, opts)
	at := time.Date(2026, 3, 4, 7, 0, 0, 0, time.UTC)
	for _, off := range []time.Duration{
		-2 * time.Hour, -2*time.Hour + 20*time.Second, -2*time.Hour + 40*time.Second, // warn, quiet, drift beyond: changed
		-2*time.Hour + 40*time.Second, time.Hour, 0, 10 * time.Second, // quiet, step: changed, step: agrees, quiet
	} {
		c.clockMeasured(clockSample{offset: off, rtt: 2 * time.Millisecond, at: at})
	}
	if n := logs.Count("server clock differs from the bridge's"); n != 1 {
		t.Errorf("%d skew warnings, want 1:\n%s", n, logs)
	}
	if n := logs.Count("server clock offset changed"); n != 2 {
		t.Errorf("%d offset-changed warnings, want 2 (drift beyond the threshold, a step):\n%s", n, logs)
	}
	if n := logs.Count("server clock agrees with the bridge's again"); n != 1 {
		t.Errorf("%d all-clears, want 1:\n%s", n, logs)
	}
	want := []time.Duration{3*time.Hour - 40*time.Second, -time.Hour}
	if len(steps) != len(want) || steps[0] != want[0] || steps[1] != want[1] {
		t.Errorf("steps %v, want %v", steps, want)
	}
	st := c.Stats().Clock
	if st.Offset != 10*time.Second || st.Skewed || st.Correcting != true || st.Steps != 2 || !st.MeasuredAt.Equal(at) {
		t.Errorf("stats %+v", st)
	}
}

// TestPlaceReadings: where each choice of timestamps and correction puts a
// reading of a server whose clock is two hours behind.
func TestPlaceReadings(t *testing.T) {
	recv := time.Date(2026, 3, 4, 7, 0, 0, 0, time.UTC)
	src, srv := recv.Add(-2*time.Hour-300*time.Millisecond), recv.Add(-2*time.Hour-100*time.Millisecond)
	for _, tc := range []struct {
		timestamps, correction string
		r                      fb.Reading
		want                   time.Time // zero: BridgeTime stays zero
	}{
		{TimestampsSource, CorrectionAuto, fb.Reading{SourceTime: src, ServerTime: srv}, recv.Add(-300 * time.Millisecond)},
		{TimestampsSource, CorrectionOff, fb.Reading{SourceTime: src, ServerTime: srv}, time.Time{}},
		{TimestampsSource, CorrectionAuto, fb.Reading{ServerTime: srv}, recv.Add(-100 * time.Millisecond)},
		{TimestampsServer, CorrectionAuto, fb.Reading{SourceTime: src, ServerTime: srv}, recv.Add(-100 * time.Millisecond)},
		{TimestampsServer, CorrectionOff, fb.Reading{SourceTime: src, ServerTime: srv}, srv},
		{TimestampsBridge, CorrectionAuto, fb.Reading{SourceTime: src, ServerTime: srv}, recv},
		{TimestampsSource, CorrectionAuto, fb.Reading{}, recv},
	} {
		p := placer{timestamps: tc.timestamps, correct: tc.correction == CorrectionAuto, offset: -2 * time.Hour}
		r := tc.r
		p.place(&r, recv)
		if !r.BridgeTime.Equal(tc.want) || !r.SourceTime.Equal(tc.r.SourceTime) {
			t.Errorf("%s/%s %+v: bridge time %v, want %v", tc.timestamps, tc.correction, tc.r, r.BridgeTime, tc.want)
		}
	}
}

// TestPlaceAcrossStep: in the notification that shows the PLC's clock was
// set forward by an hour, a value sampled before the step keeps the old
// offset and one after it takes the new; neither lands in the future or
// an hour back.
func TestPlaceAcrossStep(t *testing.T) {
	recv := time.Date(2026, 3, 4, 7, 0, 0, 0, time.UTC)
	p := placer{timestamps: TimestampsSource, correct: true, offset: time.Hour}
	p.afterStep(0, DefaultSkewThreshold)
	for _, tc := range []struct {
		src, want time.Time
	}{
		{recv.Add(-40 * time.Millisecond), recv.Add(-40 * time.Millisecond)},          // before the step
		{recv.Add(time.Hour - 10*time.Millisecond), recv.Add(-10 * time.Millisecond)}, // after it
		{recv.Add(-3 * time.Hour), recv.Add(-3 * time.Hour)},                          // a value unchanged for hours
	} {
		r := fb.Reading{SourceTime: tc.src}
		p.place(&r, recv)
		if got := r.Time(); !got.Equal(tc.want) {
			t.Errorf("source %v: placed at %v, want %v", tc.src, got, tc.want)
		}
	}
	back := placer{timestamps: TimestampsSource, correct: true, offset: 0}
	back.afterStep(time.Hour, DefaultSkewThreshold) // set back by an hour
	r := fb.Reading{SourceTime: recv.Add(time.Hour - 20*time.Millisecond)}
	if back.place(&r, recv); !r.Time().Equal(recv.Add(-20 * time.Millisecond)) {
		t.Errorf("a value from before a step back is placed at %v", r.Time())
	}
}

// TestSuspectStep: a timestamp beyond the measured offset by more than the
// threshold calls for a measurement (a server timestamp both ways, a
// source timestamp only forward); after one that found nothing, the next
// rests for a while.
func TestSuspectStep(t *testing.T) {
	c := newClient(t, testOptions(testServer("plc", "opc.tcp://127.0.0.1:1"), newRecordSink(), &testenv.Logs{}))
	recv := time.Now()
	c.clockMeasured(clockSample{offset: -2 * time.Hour, at: recv})
	for _, tc := range []struct {
		r    fb.Reading
		want bool
	}{
		{fb.Reading{SourceTime: recv.Add(-2 * time.Hour), ServerTime: recv.Add(-2 * time.Hour)}, false},
		{fb.Reading{SourceTime: recv.Add(-9 * time.Hour)}, false}, // an old value
		{fb.Reading{SourceTime: recv.Add(-time.Hour)}, true},
		{fb.Reading{ServerTime: recv.Add(-3 * time.Hour)}, true},
	} {
		c.clock.quiet = time.Time{}
		if _, got := c.suspect(timedItems(tc.r), recv); got != tc.want {
			t.Errorf("%+v: suspect %v, want %v", tc.r, got, tc.want)
		}
	}
	r := fb.Reading{ServerTime: recv.Add(-3 * time.Hour)}
	if _, again := c.suspect(timedItems(r), recv); again {
		t.Error("a second suspicion right after one that found no step")
	}
}

// timedItems returns one item whose value has r's timestamps.
func timedItems(r fb.Reading) []*ua.MonitoredItemNotification {
	return []*ua.MonitoredItemNotification{{Value: &ua.DataValue{SourceTimestamp: r.SourceTime, ServerTimestamp: r.ServerTime}}}
}

func TestClockOptionsChecked(t *testing.T) {
	for _, o := range []ClockOptions{{Timestamps: "plc"}, {Correction: "on"}} {
		opts := testOptions(testServer("plc", "opc.tcp://127.0.0.1:1"), newRecordSink(), &testenv.Logs{})
		opts.Clock = o
		if _, err := New(opts); err == nil {
			t.Errorf("New accepted %+v", o)
		}
	}
}

// setChannelLifetime sets the secure channel lifetime clients request and
// returns the function that restores it.
func setChannelLifetime(d time.Duration) (restore func()) {
	old := channelLifetime
	channelLifetime = d
	return func() { channelLifetime = old }
}
