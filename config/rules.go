package config

import (
	"strings"
	"time"
)

// required reports an empty value; form, when not "", describes valid values.
func (v checker) required(path, val, form string) bool {
	if val != "" {
		return true
	}
	if form == "" {
		v.r.add(path, "required")
	} else {
		v.r.add(path, "required (valid: %s)", form)
	}
	return false
}

// name checks a name that becomes a segment of reading names and topics.
func (v checker) name(path, val string) bool {
	if !v.required(path, val, "") {
		return false
	}
	if strings.ContainsAny(val, "/+#") {
		v.r.add(path, "%q is not a valid name: names are path and topic segments (valid: any text without /, + or #)", val)
		return false
	}
	return true
}

// unique reports val when seen already maps it to an earlier path, and
// otherwise records path as its first use. It reports whether val was new.
func (v checker) unique(path, val string, seen map[string]string) bool {
	if first, ok := seen[val]; ok {
		v.r.add(path, "duplicate name %q (first at %s)", val, v.r.lineOf(first))
		return false
	}
	seen[val] = path
	return true
}

// oneOf reports val when it is not one of valid; what names the setting.
func (v checker) oneOf(path, val, what string, valid []string) bool {
	for _, ok := range valid {
		if val == ok {
			return true
		}
	}
	v.r.add(path, "%q is not a valid %s (valid: %s)", val, what, strings.Join(valid, ", "))
	return false
}

// pair reports one of two settings that must be set together or not at all.
func (v checker) pair(path, keyA, a, keyB, b string) {
	switch {
	case a != "" && b == "":
		v.r.add(path+"."+keyB, "required when %s is set", keyA)
	case a == "" && b != "":
		v.r.add(path+"."+keyA, "required when %s is set", keyB)
	}
}

func (v checker) positive(path string, d Duration) {
	if d <= 0 {
		v.r.add(path, "%s must be greater than 0", d.D())
	}
}

func (v checker) notNegative(path string, d Duration) {
	if d < 0 {
		v.r.add(path, "%s must not be negative (valid: 0 or more)", d.D())
	}
}

func (v checker) durationIn(path string, d Duration, lo, hi time.Duration) {
	if d.D() < lo || d.D() > hi {
		v.r.add(path, "%s is out of range (valid: %s to %s)", d.D(), lo, hi)
	}
}

func (v checker) atLeast(path string, n, lo int, valid string) {
	if n < lo {
		v.r.add(path, "%d is too small (valid: %s)", n, valid)
	}
}

func (v checker) between(path string, n, lo, hi int, valid string) {
	if n < lo || n > hi {
		v.r.add(path, "%d is out of range (valid: %s)", n, valid)
	}
}
