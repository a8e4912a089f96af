package wire

import (
	"fmt"
	"strings"
)

// maxCachedTopics bounds the rendered-topic cache. The set of servers, lines
// and stations comes from configuration, so the cache normally never fills;
// the bound only keeps a corrupt buffer from growing it.
const maxCachedTopics = 4096

// Topic renders the topic of a message for a reading. Rendered topics are
// cached per (server, line, station), so a Topic is not safe for
// concurrent use.
type Topic struct {
	parts []TopicPart
	cache map[topicKey]string
	// last is the previous reading's key and topic: consecutive readings
	// mostly share them, and comparing config strings is cheaper than hashing.
	last      topicKey
	lastTopic string
	// escape makes a name safe in the topic: SanitizeLevel for MQTT topic
	// levels, URL-encoding for an IoT Hub property bag.
	escape func(string) string
}

// TopicPart is literal text, or a placeholder when Field is not FieldText.
type TopicPart struct {
	Text  string
	Field TopicField
}

// TopicField is what a placeholder of a topic is replaced with.
type TopicField uint8

// The placeholders of a topic; FieldText (the zero value) is literal text.
const (
	FieldText TopicField = iota
	FieldServer
	FieldLine
	FieldStation
)

// bridgePlaceholder is replaced by the bridge id when a template is parsed.
const bridgePlaceholder = "{bridge}"

var placeholders = map[string]TopicField{"{server}": FieldServer, "{line}": FieldLine, "{station}": FieldStation}

type topicKey struct{ server, line, station string }

// ParseTopic parses an MQTT topic template: literal text and the
// placeholders {bridge}, {server}, {line} and {station}. The bridge id is
// substituted at once since it never changes; names are made safe as topic
// levels (SanitizeLevel).
func ParseTopic(tmpl, bridge string) (*Topic, error) {
	if tmpl == "" {
		return nil, fmt.Errorf("topic is empty")
	}
	if strings.ContainsAny(tmpl, "+#\x00") {
		return nil, fmt.Errorf("topic %q contains a wildcard or NUL; publish topics may not", tmpl)
	}
	t := NewTopic(SanitizeLevel)
	for rest := tmpl; rest != ""; {
		i := strings.IndexByte(rest, '{')
		j := strings.IndexByte(rest[max(i, 0):], '}') + max(i, 0)
		if i < 0 || j < i {
			t.addLiteral(rest)
			break
		}
		t.addLiteral(rest[:i])
		name := rest[i : j+1]
		f, ok := placeholders[name]
		switch {
		case name == bridgePlaceholder:
			t.addLiteral(SanitizeLevel(bridge))
		case !ok:
			return nil, fmt.Errorf("topic %q: unknown placeholder %s (valid: {bridge}, {server}, {line}, {station})", tmpl, name)
		default:
			t.parts = append(t.parts, TopicPart{Field: f})
		}
		rest = rest[j+1:]
	}
	return t, nil
}

// NewTopic returns the topic of parts, whose placeholders are replaced by
// names made safe with escape (nil: SanitizeLevel). It is for a dialect
// whose topics are not MQTT topic levels (an IoT Hub property bag); the
// literal text is taken as it is.
func NewTopic(escape func(string) string, parts ...TopicPart) *Topic {
	if escape == nil {
		escape = SanitizeLevel
	}
	t := &Topic{cache: map[topicKey]string{}, escape: escape}
	for _, p := range parts {
		if p.Field == FieldText {
			t.addLiteral(p.Text)
			continue
		}
		t.parts = append(t.parts, TopicPart{Field: p.Field})
	}
	return t
}

// addLiteral appends text, merging it with a preceding literal.
func (t *Topic) addLiteral(s string) {
	if s == "" {
		return
	}
	if n := len(t.parts); n > 0 && t.parts[n-1].Field == FieldText {
		t.parts[n-1].Text += s
		return
	}
	t.parts = append(t.parts, TopicPart{Text: s})
}

// Render returns the topic for a reading from server, line and station.
func (t *Topic) Render(server, line, station string) string {
	k := topicKey{server, line, station}
	if k == t.last && t.lastTopic != "" {
		return t.lastTopic
	}
	if s, ok := t.cache[k]; ok {
		t.last, t.lastTopic = k, s
		return s
	}
	if len(t.cache) >= maxCachedTopics {
		clear(t.cache)
	}
	var sb strings.Builder
	for _, p := range t.parts {
		switch p.Field {
		case FieldText:
			sb.WriteString(p.Text)
		case FieldServer:
			sb.WriteString(t.escape(server))
		case FieldLine:
			sb.WriteString(t.escape(line))
		case FieldStation:
			sb.WriteString(t.escape(station))
		}
	}
	s := sb.String()
	t.cache[k] = s
	return s
}

// SanitizeLevel replaces the characters a publish topic may not contain
// ('+', '#', NUL) with '_', so a name cannot turn a topic into a wildcard.
func SanitizeLevel(s string) string {
	if !strings.ContainsAny(s, "+#\x00") {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r == '+' || r == '#' || r == 0 {
			return '_'
		}
		return r
	}, s)
}
