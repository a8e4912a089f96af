package mqtt

import (
	"encoding/json"
	"fmt"
	"testing"

	"factorybridge"
	"factorybridge/publisher/internal/pubtest"
	"factorybridge/publisher/wire"
)

func oeeRecord(line, station string, i int) factorybridge.Reading {
	rec := fmt.Sprintf(`{"kind":"rolling","line":%q,"station":%q,"oee":0.5,"n":%d}`, line, station, i)
	if station == "" {
		rec = fmt.Sprintf(`{"kind":"rolling","line":%q,"oee":null,"n":%d}`, line, i)
	}
	return factorybridge.Reading{Name: factorybridge.OEEName(line, station), Line: line, Station: station,
		Class: factorybridge.ClassOEE, Value: factorybridge.TextValue(factorybridge.TypeString, rec)}
}

// TestOEERecordsGoToTheirOwnTopic interleaves readings and OEE records and
// checks that records arrive on mqtt.oee_topic in "oee" messages, each as
// sent plus its seq, and readings on mqtt.topic as before.
func TestOEERecordsGoToTheirOwnTopic(t *testing.T) {
	for _, enc := range []string{wire.EncodingCompact, wire.EncodingFlat} {
		t.Run(enc, func(t *testing.T) {
			b := startBroker(t)
			q := pubtest.NewMemQueue()
			var want []factorybridge.Reading
			readings := pubtest.Readings(pubtest.Nodes(4), 40)
			for i := range readings {
				want = append(want, readings[i])
				if i%10 == 0 {
					want = append(want, oeeRecord("line1", "", i), oeeRecord("line1", "assembly", i))
				}
			}
			want = pubtest.WithSeqs(want)
			last := q.Append(want...)
			opts := testOptions(t, b.url(), q)
			opts.Encoding = enc
			runPublisher(t, opts)
			q.WaitAcked(t, last, waitLong)
			b.rec.waitReadings(t, len(want), waitLong)
			pubtest.CheckDelivery(t, b.rec.decoded(t), want, uint64(len(want)))
			checkOEETopics(t, b.rec.messages())
		})
	}
}

func checkOEETopics(t *testing.T, msgs []received) {
	t.Helper()
	records := 0
	for _, m := range msgs {
		isOEE := m.msg.Type == "oee"
		if wantTopic := "factorybridge/bridge-1/line1/oee"; isOEE != (m.topic == wantTopic) {
			t.Fatalf("message of type %s on topic %s", m.msg.Type, m.topic)
		}
		if !isOEE {
			continue
		}
		for i, raw := range m.msg.Records {
			var rec struct {
				Seq  *uint64 `json:"seq"`
				Kind string  `json:"kind"`
			}
			if err := json.Unmarshal(raw, &rec); err != nil || rec.Seq == nil || *rec.Seq != m.msg.Readings[i].Seq || rec.Kind != "rolling" {
				t.Fatalf("record %s: seq or kind wrong (err %v)", raw, err)
			}
			records++
		}
	}
	if records != 8 {
		t.Fatalf("%d records at the broker, want 8", records)
	}
}
