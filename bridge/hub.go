package bridge

import (
	"fmt"
	"math"
	"os"
	"time"

	"factorybridge/config"
	"factorybridge/oee"
	"factorybridge/opcua"
	"factorybridge/publisher/iothub"
)

// hub builds the IoT Hub publisher from [iothub] and the environment, and
// makes the bridge the hub's reporter.
func (b *Bridge) hub() (*iothub.Publisher, error) {
	o, err := b.hubOptions(b.cfg)
	if err != nil {
		return nil, err
	}
	p, err := iothub.New(o)
	if err != nil {
		return nil, fmt.Errorf("mqtt: %w", err)
	}
	return p, nil
}

// hubOptions are the IoT Hub publisher's options for cfg; it logs the
// identity they resolve to.
func (b *Bridge) hubOptions(cfg *config.Config) (iothub.Options, error) {
	o, desc, err := cfg.IoTHubOptions(os.Getenv)
	if err != nil {
		return o, err
	}
	b.log.Info("iothub: identity", "identity", desc, "transport", cfg.IoTHub.Transport,
		"token_lifetime", cfg.IoTHub.TokenLifetime.D())
	o.MQTT.Queue, o.MQTT.Logger = b.queue, b.log.With("component", "iothub")
	o.MQTT.AckLatency = b.metrics.observeAck
	o.Reporter = &hubReporter{b: b}
	o.SetLogLevel = b.opts.SetLogLevel
	return o, nil
}

// hubReporter answers GetStatus and GetOEE and fills the twin's reported
// properties from the bridge's live state.
type hubReporter struct {
	b *Bridge
}

// Status is GetStatus's answer: the same Report as /api/status.
func (r *hubReporter) Status() any { return r.b.Report() }

// clockStatus is a server's clock in GetStatus (docs/clocks.md).
type clockStatus struct {
	OffsetS      float64   `json:"offsetS"` // server less bridge: positive when the server is ahead
	UncertaintyS float64   `json:"uncertaintyS"`
	MeasuredAt   time.Time `json:"measuredAt"`
	Skewed       bool      `json:"skewed"`     // beyond clock_skew_threshold
	Correcting   bool      `json:"correcting"` // readings' times are moved by the offset
	Steps        uint64    `json:"steps"`      // steps of the server's clock seen
}

func clockOf(st opcua.ClockStats) *clockStatus {
	if st.MeasuredAt.IsZero() {
		return nil
	}
	return &clockStatus{OffsetS: st.Offset.Seconds(), UncertaintyS: st.Uncertainty.Seconds(), MeasuredAt: st.MeasuredAt,
		Skewed: st.Skewed, Correcting: st.Correcting, Steps: st.Steps}
}

// OEE is GetOEE's answer: the latest rolling record of every line and station.
func (r *hubReporter) OEE() (any, bool) {
	if r.b.oee == nil {
		return nil, false
	}
	recs := r.b.oee.Current()
	if recs == nil {
		recs = []oee.Record{}
	}
	return map[string]any{"configured": true, "records": recs}, true
}

// Reported are the twin's reported properties. Servers' states are a map
// so the twin merges them per server.
func (r *hubReporter) Reported() any {
	states := map[string]string{}
	for _, s := range r.b.serverStatus() {
		states[s.Name] = s.State
	}
	buf := r.b.buf.Stats()
	rep := map[string]any{
		"version": r.b.opts.Version, "configDigest": r.b.digest(), "servers": states,
		"buffer": map[string]any{"depth": buf.Depth, "dropped": buf.Dropped},
	}
	if r.b.oee != nil {
		rep["oee"] = r.oeeSummary()
	}
	return rep
}

// oeeSummary is each line's latest OEE figures, in percent.
func (r *hubReporter) oeeSummary() map[string]any {
	out := map[string]any{}
	for _, line := range r.b.oee.Lines() {
		rec, ok := r.b.oee.Latest(line)
		if !ok {
			continue
		}
		out[line] = map[string]any{"oee": pct(rec.OEE), "availability": pct(rec.Availability),
			"performance": pct(rec.Performance), "quality": pct(rec.Quality), "end": rec.End}
	}
	return out
}

// pct is a ratio in percent with one decimal, or nil when undefined.
func pct(x oee.Ratio) any {
	if !x.Defined {
		return nil
	}
	return math.Round(1000*x.Value) / 10
}
