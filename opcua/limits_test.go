package opcua

import (
	"errors"
	"testing"

	"github.com/gopcua/opcua/ua"
)

// TestLongArrayReachesNodeCheck decodes an array one element longer than
// gopcua's default decoder limit, as a Publish response carries it: with
// the package's raised limit it decodes, and the per-node check turns it
// into BadEncodingLimitsExceeded instead of failing the whole response.
func TestLongArrayReachesNodeCheck(t *testing.T) {
	const n = 0xffff + 1
	b, err := ua.MustVariant(make([]int32, n)).Encode()
	must(t, err)
	v := new(ua.Variant)
	if _, err := v.Decode(b); err != nil {
		t.Fatalf("decode a %d-element array: %v (decoder limit %d)", n, err, ua.MaxVariantArrayLength)
	}
	if _, err := convertValue(v, DefaultMaxArrayLen); !errors.Is(err, ua.StatusBadEncodingLimitsExceeded) {
		t.Errorf("convert a %d-element array: %v, want BadEncodingLimitsExceeded", n, err)
	}
}
