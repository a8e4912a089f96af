package iothub

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"reflect"
	"strings"
	"unicode/utf8"
)

// maxTwinKey is the longest twin property name the hub takes, in bytes.
const maxTwinKey = 1024

// EncodeTwinKey makes s a valid twin property name, reversibly: the
// characters the twin forbids in names (C0 and C1 control characters, '.',
// '$' and space; "Tags and properties format" in Microsoft's device twin
// documentation) become %XX escapes of their UTF-8 bytes, and so do '%'
// itself and the characters hub routing queries cannot address in a name
// ()<>@,;:\"/?={} — so that "Line 1" becomes "Line%201". A name still over
// the hub's 1 KB is cut and ends in '~' and a hash of the whole, so it stays
// unique. The empty name, not valid either, becomes "_".
func EncodeTwinKey(s string) string {
	if s == "" {
		return "_"
	}
	var b strings.Builder
	for _, r := range s {
		if !twinKeyEscaped(r) {
			b.WriteRune(r)
			continue
		}
		var buf [utf8.UTFMax]byte
		for _, c := range buf[:utf8.EncodeRune(buf[:], r)] {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	if b.Len() <= maxTwinKey {
		return b.String()
	}
	return shortenTwinKey(b.String())
}

// twinKeyEscaped reports whether r is escaped in a twin property name.
func twinKeyEscaped(r rune) bool {
	return r < 0x20 || (r >= 0x7f && r <= 0x9f) || r == utf8.RuneError || strings.ContainsRune(".$ %()<>@,;:\\\"/?={}", r)
}

// shortenTwinKey cuts an escaped key to the hub's limit at a rune boundary
// that does not split an escape, and appends a hash of the whole key.
func shortenTwinKey(k string) string {
	h := fnv.New64a()
	h.Write([]byte(k))
	suffix := fmt.Sprintf("~%016x", h.Sum64())
	cut := maxTwinKey - len(suffix)
	for cut > 0 && (!utf8.RuneStart(k[cut]) || strings.LastIndexByte(k[max(0, cut-2):cut], '%') >= 0) {
		cut--
	}
	return k[:cut] + suffix
}

// twinDoc turns a Reporter's value into the twin document it reports: its
// JSON with every object key made valid (EncodeTwinKey) and numbers kept
// exact.
func twinDoc(v any) (map[string]any, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode reported properties: %w", err)
	}
	var doc any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("decode reported properties: %w", err)
	}
	m, ok := encodeKeys(doc).(map[string]any)
	if !ok {
		return nil, fmt.Errorf("reported properties are a JSON %T, not an object", doc)
	}
	return m, nil
}

// encodeKeys returns v with every object key encoded, at every depth.
func encodeKeys(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[EncodeTwinKey(k)] = encodeKeys(e)
		}
		return out
	case []any:
		for i := range x {
			x[i] = encodeKeys(x[i])
		}
	}
	return v
}

// withoutMeta returns a twin section (as the hub sends it) without its
// "$version" and "$metadata": what was reported, comparable with twinDoc.
func withoutMeta(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if strings.HasPrefix(k, "$") {
			continue
		}
		if sub, ok := v.(map[string]any); ok {
			v = withoutMeta(sub)
		}
		out[k] = v
	}
	return out
}

// mergePatch returns the JSON merge patch (RFC 7396, as the twin applies
// reported patches) that turns from into to: changed and new members, and
// null for removed ones; empty when they are equal.
func mergePatch(from, to map[string]any) map[string]any {
	patch := map[string]any{}
	for k, v := range to {
		old, had := from[k]
		vm, vIsMap := v.(map[string]any)
		om, oIsMap := old.(map[string]any)
		switch {
		case vIsMap && oIsMap:
			if sub := mergePatch(om, vm); len(sub) > 0 {
				patch[k] = sub
			}
		case !had || !jsonEqual(old, v):
			patch[k] = v
		}
	}
	for k := range from {
		if _, ok := to[k]; !ok {
			patch[k] = nil
		}
	}
	return patch
}

// jsonEqual compares two decoded JSON values; numbers compare by value.
func jsonEqual(a, b any) bool {
	an, aok := a.(json.Number)
	bn, bok := b.(json.Number)
	if aok && bok {
		af, _ := an.Float64()
		bf, _ := bn.Float64()
		return an == bn || af == bf
	}
	return reflect.DeepEqual(a, b)
}
