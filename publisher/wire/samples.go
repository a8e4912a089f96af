package wire

import (
	"strconv"
	"time"

	"factorybridge"
)

// bridgeMillis is r's bridge time as ms after t0; false when it has none.
func bridgeMillis(r *factorybridge.Reading, t0 int64) (int64, bool) {
	if r.BridgeTime.IsZero() {
		return 0, false
	}
	return r.BridgeTime.UnixMilli() - t0, true
}

// appendGroupHead appends a node object up to the opening of its samples.
// Line and station are not repeated: they are segments of the name.
func appendGroupHead(b []byte, r *factorybridge.Reading) []byte {
	b = append(b, `{"name":`...)
	b = appendString(b, r.Name)
	b = appendField(b, "id", r.NodeID)
	b = appendField(b, "server", r.Server)
	b = appendField(b, "type", r.Value.Type.String())
	if m := markOf(r.Class); m != "" {
		b = appendField(b, "mark", m)
	}
	return append(b, `,"samples":[`...)
}

// appendSample appends [seq-base,source_ms-t0,server_ms-t0,value] and a fifth
// element, the status code, only when it is not Good (0).
func appendSample(b []byte, r *factorybridge.Reading, base uint64, t0 int64) []byte {
	b = append(b, '[')
	b = strconv.AppendUint(b, r.Seq-base, 10)
	b = appendDeltaMillis(append(b, ','), r.SourceTime, t0)
	b = appendDeltaMillis(append(b, ','), r.ServerTime, t0)
	b = appendValue(append(b, ','), &r.Value)
	if r.Status != factorybridge.StatusGood {
		b = strconv.AppendUint(append(b, ','), uint64(r.Status), 10)
	}
	return append(b, ']')
}

// baseMillis is the time a message's sample times are relative to: the
// first reading's source time, else its server time, else 0.
func baseMillis(r *factorybridge.Reading) int64 {
	switch {
	case !r.SourceTime.IsZero():
		return r.SourceTime.UnixMilli()
	case !r.ServerTime.IsZero():
		return r.ServerTime.UnixMilli()
	}
	return 0
}

// appendDeltaMillis appends t as milliseconds after t0, or null for the zero time.
func appendDeltaMillis(b []byte, t time.Time, t0 int64) []byte {
	if t.IsZero() {
		return append(b, "null"...)
	}
	return strconv.AppendInt(b, t.UnixMilli()-t0, 10)
}
