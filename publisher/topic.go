package publisher

import (
	"fmt"
	"strings"
)

// maxCachedTopics bounds the rendered-topic cache. The set of servers, lines
// and stations comes from configuration, so the cache normally never fills;
// the bound only keeps a corrupt buffer from growing it.
const maxCachedTopics = 4096

// topicTemplate renders the configured topic for a reading. Rendered topics
// are cached per (server, line, station).
type topicTemplate struct {
	parts []topicPart
	cache map[topicKey]string
	// last is the previous reading's key and topic: consecutive readings
	// mostly share them, and comparing config strings is cheaper than hashing.
	last      topicKey
	lastTopic string
	// escape makes a name safe in the topic: sanitizeLevel for MQTT topic
	// levels, URL-encoding for an IoT Hub property bag.
	escape func(string) string
}

// topicPart is literal text, or a placeholder when field is non-zero.
type topicPart struct {
	text  string
	field topicField
}

type topicField uint8

const (
	fieldLiteral topicField = iota
	fieldBridge
	fieldServer
	fieldLine
	fieldStation
)

var placeholders = map[string]topicField{
	"{bridge}": fieldBridge, "{server}": fieldServer, "{line}": fieldLine, "{station}": fieldStation,
}

type topicKey struct{ server, line, station string }

// parseTopic splits a template into literal text and placeholders. The bridge
// id is substituted at once since it never changes.
func parseTopic(tmpl, bridge string) (*topicTemplate, error) {
	if tmpl == "" {
		return nil, fmt.Errorf("topic is empty")
	}
	if strings.ContainsAny(tmpl, "+#\x00") {
		return nil, fmt.Errorf("topic %q contains a wildcard or NUL; publish topics may not", tmpl)
	}
	t := &topicTemplate{cache: map[topicKey]string{}, escape: sanitizeLevel}
	for rest := tmpl; rest != ""; {
		i := strings.IndexByte(rest, '{')
		j := strings.IndexByte(rest[max(i, 0):], '}') + max(i, 0)
		if i < 0 || j < i {
			t.addLiteral(rest)
			break
		}
		t.addLiteral(rest[:i])
		f, ok := placeholders[rest[i:j+1]]
		switch {
		case !ok:
			return nil, fmt.Errorf("topic %q: unknown placeholder %s (valid: {bridge}, {server}, {line}, {station})", tmpl, rest[i:j+1])
		case f == fieldBridge:
			t.addLiteral(sanitizeLevel(bridge))
		default:
			t.parts = append(t.parts, topicPart{field: f})
		}
		rest = rest[j+1:]
	}
	return t, nil
}

// addLiteral appends text, merging it with a preceding literal.
func (t *topicTemplate) addLiteral(s string) {
	if s == "" {
		return
	}
	if n := len(t.parts); n > 0 && t.parts[n-1].field == fieldLiteral {
		t.parts[n-1].text += s
		return
	}
	t.parts = append(t.parts, topicPart{text: s})
}

// render returns the topic for a reading from server, line and station.
func (t *topicTemplate) render(server, line, station string) string {
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
		switch p.field {
		case fieldLiteral:
			sb.WriteString(p.text)
		case fieldServer:
			sb.WriteString(t.escape(server))
		case fieldLine:
			sb.WriteString(t.escape(line))
		case fieldStation:
			sb.WriteString(t.escape(station))
		}
	}
	s := sb.String()
	t.cache[k] = s
	return s
}

// sanitizeLevel replaces the characters a publish topic may not contain
// ('+', '#', NUL) with '_', so a name cannot turn a topic into a wildcard.
func sanitizeLevel(s string) string {
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
