package opcua

import (
	"fmt"
	"slices"
	"sync"
	"time"
)

// Plant networks often have no time server, and a PLC's clock may be
// minutes or hours off. The client measures the server's clock against the
// bridge's at every connect and every ClockOptions.CheckInterval, warns
// when the two disagree by more than a threshold, and places every reading
// on the bridge's clock (Reading.BridgeTime) so that what the bridge does
// by time (OEE) follows the plant's real time. docs/clocks.md tells the
// operator's side.

// The values of ClockOptions.Timestamps.
const (
	// TimestampsSource places a reading at its source timestamp (the
	// PLC's), else its server timestamp.
	TimestampsSource = "source"
	// TimestampsServer places a reading at its server timestamp, else its
	// source timestamp.
	TimestampsServer = "server"
	// TimestampsBridge places a reading at the time the bridge received it.
	TimestampsBridge = "bridge"
)

// The values of ClockOptions.Correction.
const (
	// CorrectionAuto moves the chosen timestamps onto the bridge's clock by
	// the server's measured offset.
	CorrectionAuto = "auto"
	// CorrectionOff keeps the chosen timestamps as the server sent them.
	CorrectionOff = "off"
)

// Valid values of the clock settings, in the order messages list them.
var (
	TimestampChoices = []string{TimestampsSource, TimestampsServer, TimestampsBridge}
	ClockCorrections = []string{CorrectionAuto, CorrectionOff}
)

const (
	// DefaultSkewThreshold is the offset between the server's clock and
	// the bridge's beyond which the client warns (UaExpert warns at 30
	// minutes; an OEE minute is off long before that).
	DefaultSkewThreshold = 30 * time.Second
	// DefaultClockCheck is how often the server's clock is measured while
	// a session is up.
	DefaultClockCheck = 5 * time.Minute
	// MinSkewThreshold and MinClockCheck bound ClockOptions from below: a
	// threshold within a measurement's noise would warn about noise, and
	// every check costs three reads.
	MinSkewThreshold = time.Second
	MinClockCheck    = 10 * time.Second
	// MinCorrection is the least offset CorrectionAuto corrects: below a
	// second, a measurement over a loaded network cannot tell the clocks
	// apart, and correcting would only move timestamps by its noise.
	MinCorrection = time.Second
	// clockSamples is how many reads one measurement takes; the one with
	// the shortest round trip is the least uncertain.
	clockSamples = 3
	// suspectQuiet is how long a timestamp that looked like a clock step,
	// and was not one, stops the next from triggering a measurement.
	suspectQuiet = time.Minute
)

// ClockOptions say how a Client deals with the server's clock. The zero
// value is the default: source timestamps, corrected automatically.
type ClockOptions struct {
	// Timestamps is which timestamp places a reading in time: one of
	// TimestampChoices. Empty means TimestampsSource.
	Timestamps string
	// Correction is CorrectionAuto or CorrectionOff. Empty means
	// CorrectionAuto.
	Correction string
	// SkewThreshold is the offset the client warns about, and the least
	// change of offset it warns about again or takes for a step of the
	// server's clock. Zero means DefaultSkewThreshold.
	SkewThreshold time.Duration
	// CheckInterval is how often the offset is measured while a session is
	// up. Zero means DefaultClockCheck.
	CheckInterval time.Duration
	// OnStep, when set, is told that the server's clock stepped by step
	// (positive: forward) between two measurements, as found at at on the
	// bridge's clock. It runs on the client's goroutines and must not block.
	OnStep func(server string, step time.Duration, at time.Time)
}

func (o ClockOptions) withDefaults() ClockOptions {
	if o.Timestamps == "" {
		o.Timestamps = TimestampsSource
	}
	if o.Correction == "" {
		o.Correction = CorrectionAuto
	}
	if o.SkewThreshold <= 0 {
		o.SkewThreshold = DefaultSkewThreshold
	}
	if o.CheckInterval <= 0 {
		o.CheckInterval = DefaultClockCheck
	}
	return o
}

// check rejects values the client does not know.
func (o ClockOptions) check() error {
	if o.Timestamps != "" && !slices.Contains(TimestampChoices, o.Timestamps) {
		return fmt.Errorf("unknown timestamps %q (valid: %v)", o.Timestamps, TimestampChoices)
	}
	if o.Correction != "" && !slices.Contains(ClockCorrections, o.Correction) {
		return fmt.Errorf("unknown clock correction %q (valid: %v)", o.Correction, ClockCorrections)
	}
	return nil
}

// ClockStats is what the client knows of the server's clock. The zero
// value means it was never measured.
type ClockStats struct {
	// Offset is the server's clock less the bridge's at MeasuredAt:
	// positive when the server is ahead.
	Offset time.Duration
	// Uncertainty is half the round trip of that measurement: the true
	// offset is within Offset ± Uncertainty.
	Uncertainty time.Duration
	// MeasuredAt is when the offset was last measured, on the bridge's
	// clock; zero means never.
	MeasuredAt time.Time
	// Skewed reports that the offset is beyond the threshold (and was
	// warned about); Correcting that readings' times are moved by it.
	Skewed, Correcting bool
	// Steps counts the steps of the server's clock seen since the start.
	Steps uint64
}

// clockSample is one measurement: the offset, the round trip and the
// bridge's time half-way through it.
type clockSample struct {
	offset, rtt time.Duration
	at          time.Time
}

// clockState is the client's view of the server's clock, shared by the
// connect, the periodic check and the drain.
type clockState struct {
	mu       sync.Mutex
	measured bool
	last     clockSample
	warned   bool          // the offset is beyond the threshold, and was warned about
	warnedAt time.Duration // the offset last warned about
	steps    uint64
	quiet    time.Time // no measurement on suspicion before (monotonic clock)
}

// clockVerdict is what a measurement changes about the warning.
type clockVerdict int

const (
	clockQuiet   clockVerdict = iota // nothing to say
	clockSkewed                      // the offset went beyond the threshold
	clockChanged                     // a warned offset changed by more than the threshold
	clockAgrees                      // the offset is back within the threshold
)

// judge updates the warning state with a new offset: a WARN once when the
// offset passes the threshold, again when it changes by more than the
// threshold, and an all-clear when it is back within it.
func (k *clockState) judge(offset, threshold time.Duration) clockVerdict {
	beyond := offset.Abs() > threshold
	switch {
	case beyond && !k.warned:
		k.warned, k.warnedAt = true, offset
		return clockSkewed
	case beyond && (offset-k.warnedAt).Abs() > threshold:
		k.warnedAt = offset
		return clockChanged
	case !beyond && k.warned:
		k.warned = false
		return clockAgrees
	}
	return clockQuiet
}

// effective is the offset readings are corrected by: none below
// MinCorrection.
func effective(offset time.Duration) time.Duration {
	if offset.Abs() < MinCorrection {
		return 0
	}
	return offset
}

// channelLifetime, when positive, is the secure channel token lifetime
// requested (gopcua's default is an hour): tests shorten it to see
// renewals.
var channelLifetime time.Duration
