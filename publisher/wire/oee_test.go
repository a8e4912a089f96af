package wire

import (
	"encoding/json"
	"testing"

	"factorybridge"
)

func TestOEERecordThatIsNotJSONStaysValid(t *testing.T) {
	r := factorybridge.Reading{Name: factorybridge.OEEName("line1", ""), Line: "line1", Class: factorybridge.ClassOEE,
		Value: factorybridge.TextValue(factorybridge.TypeString, `{"kind":"rolling","line":"line1","oee":null,"n":0}`)}
	r.Seq, r.Value.Str = 7, `{"kind":`
	var v map[string]any
	if err := json.Unmarshal(appendOEERecord(nil, &r), &v); err != nil || v["seq"] != 7.0 || v["error"] == nil {
		t.Fatalf("damaged record encodes as %s (%v)", appendOEERecord(nil, &r), err)
	}
}
