package wire

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecodeMessage feeds DecodeMessage arbitrary input: it must not panic,
// and what it accepts must be consistent with its envelope.
func FuzzDecodeMessage(f *testing.F) {
	for _, enc := range []string{EncodingCompact, EncodingFlat} {
		if b, err := os.ReadFile(filepath.Join("testdata", "example-"+enc+".json")); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"v":1,"type":"readings","encoding":"compact","first":1,"last":1,"count":1,"nodes":[{"type":"Double","samples":[[1,null,null,"NaN",2]]}]}`))
	f.Add([]byte(`{"v":1,"type":"readings","encoding":"flat","first":1,"last":1,"count":1,"readings":[{"seq":1,"type":"Float","value":[1,"Infinity"]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeMessage(b)
		if err != nil {
			return
		}
		if len(m.Readings) != m.Count || m.Readings[0].Seq != m.First || m.Readings[len(m.Readings)-1].Seq != m.Last {
			t.Fatalf("accepted an inconsistent message: %+v", m)
		}
	})
}

func TestDecodeMessageRejects(t *testing.T) {
	for _, in := range []string{
		``, `[]`, `{"v":2,"type":"readings"}`, `{"v":1,"type":"events"}`,
		`{"v":1,"type":"readings","encoding":"cbor"}`,
		`{"v":1,"type":"readings","encoding":"compact","first":1,"last":1,"count":2,"nodes":[{"type":"Int32","samples":[[1,null,null,5]]}]}`,
		`{"v":1,"type":"readings","encoding":"compact","first":1,"last":1,"count":1,"nodes":[{"type":"Int32","samples":[[1,null,5]]}]}`,
		`{"v":1,"type":"readings","encoding":"compact","first":1,"last":1,"count":1,"nodes":[{"type":"Int32","samples":[[1,null,null,"x"]]}]}`,
		`{"v":1,"type":"readings","encoding":"flat","first":1,"last":1,"count":1,"readings":[{"seq":1,"type":"Nope","value":1}]}`,
	} {
		if _, err := DecodeMessage([]byte(in)); err == nil {
			t.Errorf("DecodeMessage(%s) succeeded", in)
		}
	}
}
