package ua

import (
	"encoding/binary"
	"testing"
)

// variantBytes encodes a variant header: the encoding mask, an array
// length, then the given int32s (elements or dimensions).
func variantBytes(mask byte, ints ...int32) []byte {
	b := []byte{mask}
	for _, v := range ints {
		b = binary.LittleEndian.AppendUint32(b, uint32(v))
	}
	return b
}

// TestPatchVariantHostileArrays decodes array variants no well-behaved
// server sends. Each must fail with an error: before the patch they panicked
// (a length below -1 reaches reflect.MakeSlice), allocated gigabytes (a
// length or dimension count far beyond the message), or built billions of
// slices (dimensions whose int32 product wraps around to the length).
func TestPatchVariantHostileArrays(t *testing.T) {
	const int32Array = byte(TypeIDInt32) | byte(VariantArrayValues)
	const int32Matrix = int32Array | byte(VariantArrayDimensions)
	tests := []struct {
		name string
		b    []byte
	}{
		{"length -2", variantBytes(int32Array, -2)},
		{"length MinInt32", variantBytes(int32Array, -1<<31)},
		{"length beyond the message", variantBytes(int32Array, 1000, 1, 2)},
		{"dimension count beyond the message", variantBytes(int32Matrix, 1, 7, 1<<30)},
		{"dimensions wrap to the length", variantBytes(int32Matrix, 0, 3, 65536, 65536, 1)},
		{"dimensions wrap to a positive length", variantBytes(int32Matrix, 1, 7, 2, 3, 65537, 32767*2+1, 1, 1, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("Decode panicked: %v", r)
				}
			}()
			var v Variant
			if _, err := v.Decode(tt.b); err == nil {
				t.Fatalf("Decode accepted %x: %v", tt.b, v.Value())
			}
		})
	}
}

// TestPatchVariantArraysStillDecode: the null array, an empty array and a
// 2×2 matrix decode as before the patch.
func TestPatchVariantArraysStillDecode(t *testing.T) {
	const int32Array = byte(TypeIDInt32) | byte(VariantArrayValues)
	for _, b := range [][]byte{
		variantBytes(int32Array, -1),
		variantBytes(int32Array, 0),
		variantBytes(int32Array, 2, 7, 8),
		variantBytes(int32Array|byte(VariantArrayDimensions), 4, 1, 2, 3, 4, 2, 2, 2),
	} {
		var v Variant
		if _, err := v.Decode(b); err != nil {
			t.Errorf("Decode(%x): %v", b, err)
		}
	}
}
