package factorybridge

import (
	"encoding/json"
	"log/slog"
)

// Secret is a password, key or token that never prints itself: String and
// GoString hide it from fmt (%v, %s, %#v), LogValue from log/slog whatever
// the handler, MarshalJSON from encoding/json and MarshalText from every
// encoder that uses encoding.TextMarshaler; each shows "[redacted]". Value
// returns the secret for the one place that must send it. The zero value is
// no secret and shows as "".
type Secret string

// redacted is what a non-empty Secret shows instead of itself.
const redacted = "[redacted]"

// String hides the secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString hides the secret from %#v.
func (s Secret) GoString() string { return s.String() }

// LogValue hides the secret from log/slog: the JSON handler would otherwise
// write the string itself, since it does not call String.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON hides the secret from encoding/json, which would otherwise
// encode the underlying string.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// MarshalText hides the secret from text encoders (TOML, YAML, XML). A
// Secret used as a JSON map key is not hidden: encoding/json writes keys of
// a string kind as they are.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Value returns the secret itself, for the one place that needs it.
func (s Secret) Value() string { return string(s) }
