package factorybridge

// Secret is a password, key or token that never prints itself: String and
// GoString hide it, so a Secret in a struct logged or formatted with %v or
// %#v shows "[redacted]". Value returns the secret for the one place that
// must send it. The zero value is no secret and prints as "".
type Secret string

// String hides the secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// GoString hides the secret from %#v.
func (s Secret) GoString() string { return s.String() }

// Value returns the secret itself, for the one place that needs it.
func (s Secret) Value() string { return string(s) }
