package bridge

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"time"

	"factorybridge/oee"
	"factorybridge/opcua"
	"factorybridge/publisher/iothub"
)

// hub builds the IoT Hub publisher from [iothub] and the environment, and
// makes the bridge the hub's reporter.
func (b *Bridge) hub() (*iothub.Publisher, error) {
	o, desc, err := b.cfg.IoTHubOptions(os.Getenv)
	if err != nil {
		return nil, err
	}
	b.log.Info("iothub: identity", "identity", desc, "transport", b.cfg.IoTHub.Transport,
		"token_lifetime", b.cfg.IoTHub.TokenLifetime.D())
	o.MQTT.Queue, o.MQTT.Logger = b.buf, b.log.With("component", "iothub")
	o.Reporter = &hubReporter{b: b, digest: configDigest(b.cfg.File)}
	o.SetLogLevel = b.opts.SetLogLevel
	p, err := iothub.New(o)
	if err != nil {
		return nil, fmt.Errorf("mqtt: %w", err)
	}
	return p, nil
}

// configDigest identifies the configuration file's content in the twin, so
// an operator sees which version a bridge runs; "" when there is no file.
func configDigest(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:8])
}

// hubReporter answers GetStatus and GetOEE and fills the twin's reported
// properties from the bridge's live state.
type hubReporter struct {
	b      *Bridge
	digest string
}

type serverStatus struct {
	Name        string    `json:"name"`
	State       string    `json:"state"`
	ItemsOK     int       `json:"itemsOk"`
	ItemsFailed int       `json:"itemsFailed"`
	Reconnects  uint64    `json:"reconnects"`
	LastData    time.Time `json:"lastData,omitzero"`
	// Clock is the server's clock offset as last measured; absent before.
	Clock *clockStatus `json:"clock,omitempty"`
}

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

type bufferStatus struct {
	Depth      uint64  `json:"depth"`
	Bytes      uint64  `json:"bytes"`
	OldestAgeS float64 `json:"oldestAgeS"`
	Dropped    uint64  `json:"dropped"`
	LastSeq    uint64  `json:"lastSeq"`
}

type publishStatus struct {
	Connected             bool      `json:"connected"`
	LastPublish           time.Time `json:"lastPublish,omitzero"`
	LastAck               time.Time `json:"lastAck,omitzero"`
	ReadingsAcked         uint64    `json:"readingsAcked"`
	Reconnects            uint64    `json:"reconnects"`
	TokenRenewals         uint64    `json:"tokenRenewals"`
	BillableUnitsLastHour uint64    `json:"billableUnitsLastHour"`
}

func (r *hubReporter) servers() []serverStatus {
	out := make([]serverStatus, len(r.b.clients))
	for i, c := range r.b.clients {
		st := c.Stats()
		out[i] = serverStatus{Name: r.b.names[i], State: st.State.String(), ItemsOK: st.ItemsOK,
			ItemsFailed: st.ItemsFailed, Reconnects: st.Reconnects, LastData: st.LastData, Clock: clockOf(st.Clock)}
	}
	return out
}

func (r *hubReporter) buffer() bufferStatus {
	st := r.b.buf.Stats()
	return bufferStatus{Depth: st.Depth, Bytes: st.Bytes, OldestAgeS: st.OldestAge.Seconds(), Dropped: st.Dropped, LastSeq: st.LastSeq}
}

func (r *hubReporter) publish() publishStatus {
	st := r.b.pub.Stats()
	return publishStatus{Connected: st.Connected, LastPublish: st.LastPublish, LastAck: st.LastAck,
		ReadingsAcked: st.ReadingsAcked, Reconnects: st.Reconnects, TokenRenewals: st.TokenRenewals,
		BillableUnitsLastHour: st.BillableUnitsLastHour}
}

// Status is GetStatus's answer.
func (r *hubReporter) Status() any {
	return map[string]any{
		"version": r.b.opts.Version, "configDigest": r.digest, "uptimeS": int64(time.Since(r.b.started).Seconds()),
		"servers": r.servers(), "buffer": r.buffer(), "publish": r.publish(),
	}
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
	for _, s := range r.servers() {
		states[s.Name] = s.State
	}
	buf := r.buffer()
	rep := map[string]any{
		"version": r.b.opts.Version, "configDigest": r.digest, "servers": states,
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
