package publisher

import (
	"encoding/json"
	"fmt"
	"testing"

	"factorybridge"
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
	for _, enc := range []string{EncodingCompact, EncodingFlat} {
		t.Run(enc, func(t *testing.T) {
			b := startBroker(t)
			q := newMemQueue()
			var want []factorybridge.Reading
			readings := testReadings(testNodes(4), 40)
			for i := range readings {
				want = append(want, readings[i])
				if i%10 == 0 {
					want = append(want, oeeRecord("line1", "", i), oeeRecord("line1", "assembly", i))
				}
			}
			want = withSeqs(want)
			last := q.append(want...)
			cfg := testConfig(b.url())
			cfg.Encoding = enc
			runPublisher(t, cfg, testOptions(t, q))
			q.waitAcked(t, last, waitLong)
			b.rec.waitReadings(t, len(want), waitLong)
			checkDelivery(t, b.rec.decoded(t), want, uint64(len(want)))
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

func TestOEERecordThatIsNotJSONStaysValid(t *testing.T) {
	r := oeeRecord("line1", "", 0)
	r.Seq, r.Value.Str = 7, `{"kind":`
	var v map[string]any
	if err := json.Unmarshal(appendOEERecord(nil, &r), &v); err != nil || v["seq"] != 7.0 || v["error"] == nil {
		t.Fatalf("damaged record encodes as %s (%v)", appendOEERecord(nil, &r), err)
	}
}
