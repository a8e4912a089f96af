package config

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// NodeMap is a node map made by a tool (factorybridge browse, import) to be
// written as TOML with WriteNodeMap: servers, lines, stations and nodes,
// with comments that say where things came from and what was left out.
type NodeMap struct {
	// Header are comment lines at the top of the file (without "# ").
	Header []string
	// BridgeID and Broker, when BridgeID is set, make the file a complete
	// configuration: [bridge] and [mqtt] are written before the servers.
	// Empty writes a fragment to append to an existing file.
	BridgeID, Broker string
	// Servers are written as [[servers]]; none in a fragment for a file
	// that has them.
	Servers []MapServer
	// Lines are written as [[lines]] with their stations.
	Lines []MapLine
	// Footer are comment lines at the end of the file (without "# ").
	Footer []string
}

// MapServer is one [[servers]] entry of a NodeMap. Its zero fields are
// left out of the file (the defaults apply).
type MapServer struct {
	Server
	// Comments are written above the entry (without "# ").
	Comments []string
}

// MapLine is one [[lines]] entry of a NodeMap.
type MapLine struct {
	Name     string
	Comments []string
	Stations []MapStation
}

// MapStation is one [[lines.stations]] entry of a NodeMap.
type MapStation struct {
	Name string
	// Server is the [[servers]] name; "" leaves it out (one server).
	Server   string
	Comments []string
	Nodes    []MapNode
}

// MapNode is one node of a MapStation, written as one inline table. A
// MapNode without a Name writes only its Comments: a node left out, and why.
type MapNode struct {
	Node
	// Comments are written on the lines above the node (without "# ").
	Comments []string
	// Note is written at the end of the node's line (without "# ").
	Note string
}

// WriteNodeMap writes m as TOML that Load reads: every string quoted and
// escaped as TOML requires, zero settings left out.
func WriteNodeMap(w io.Writer, m NodeMap) error {
	b := bufio.NewWriter(w)
	t := tomlWriter{b}
	t.comments("", m.Header)
	if m.BridgeID != "" {
		t.line("\n[bridge]")
		t.kv("id", m.BridgeID, "names this bridge in MQTT client ids and every message")
		t.line("\n[mqtt]")
		t.kv("broker", m.Broker, "the MQTT broker readings go to; see configs/full.toml for TLS and credentials")
	}
	for _, s := range m.Servers {
		t.server(s)
	}
	for _, l := range m.Lines {
		t.mapLine(l)
	}
	if len(m.Footer) > 0 {
		t.line("")
		t.comments("", m.Footer)
	}
	return b.Flush()
}

// tomlWriter writes TOML lines; bufio keeps the first error for Flush.
type tomlWriter struct{ w *bufio.Writer }

func (t tomlWriter) line(s string) { t.w.WriteString(s + "\n") }

func (t tomlWriter) comments(indent string, lines []string) {
	for _, c := range lines {
		for _, l := range strings.Split(c, "\n") {
			t.line(strings.TrimRight(indent+"# "+l, " "))
		}
	}
}

// kv writes key = "value", with a trailing comment when note is set.
func (t tomlWriter) kv(key, value, note string) {
	s := key + " = " + tomlString(value)
	if note != "" {
		s += "  # " + note
	}
	t.line(s)
}

func (t tomlWriter) server(s MapServer) {
	t.line("")
	t.comments("", s.Comments)
	t.line("[[servers]]")
	for _, kv := range serverFields(s.Server) {
		t.line(kv)
	}
}

// serverFields are the server's settings that are not zero, as key = value.
func serverFields(s Server) []string {
	var out []string
	str := func(key, v string) {
		if v != "" {
			out = append(out, key+" = "+tomlString(v))
		}
	}
	str("name", s.Name)
	str("endpoint", s.Endpoint)
	str("security_policy", s.SecurityPolicy)
	str("security_mode", s.SecurityMode)
	str("auth", s.Auth)
	str("username", s.Username)
	str("password_env", s.PasswordEnv)
	str("password_file", s.PasswordFile)
	str("user_certificate", s.UserCertificate)
	str("user_key", s.UserKey)
	str("certificate", s.Certificate)
	str("key", s.Key)
	if s.AllowPlaintextPassword {
		out = append(out, "allow_plaintext_password = true")
	}
	for _, d := range []struct {
		key string
		v   Duration
	}{{"publishing_interval", s.PublishingInterval}, {"sampling_interval", s.SamplingInterval}, {"request_timeout", s.RequestTimeout}} {
		if d.v != 0 {
			out = append(out, d.key+" = "+tomlString(d.v.String()))
		}
	}
	if s.QueueSize != 0 {
		out = append(out, "queue_size = "+strconv.FormatUint(uint64(s.QueueSize), 10))
	}
	return out
}

func (t tomlWriter) mapLine(l MapLine) {
	t.line("")
	t.comments("", l.Comments)
	t.line("[[lines]]")
	t.kv("name", l.Name, "")
	for _, st := range l.Stations {
		t.line("")
		t.comments("", st.Comments)
		t.line("[[lines.stations]]")
		t.kv("name", st.Name, "")
		if st.Server != "" {
			t.kv("server", st.Server, "")
		}
		t.line("nodes = [")
		for _, n := range st.Nodes {
			t.comments("  ", n.Comments)
			if n.Name == "" {
				continue
			}
			s := "  " + inlineNode(n.Node) + ","
			if n.Note != "" {
				s += "  # " + n.Note
			}
			t.line(s)
		}
		t.line("]")
	}
}

// inlineNode writes a node as an inline table, zero settings left out.
func inlineNode(n Node) string {
	parts := []string{"name = " + tomlString(n.Name)}
	add := func(key, v string) {
		if v != "" {
			parts = append(parts, key+" = "+v)
		}
	}
	quoted := func(v string) string {
		if v == "" {
			return ""
		}
		return tomlString(v)
	}
	duration := func(d Duration) string {
		if d == 0 {
			return ""
		}
		return tomlString(d.String())
	}
	add("id", quoted(n.ID))
	add("path", quoted(n.Path))
	add("publishing_interval", duration(n.PublishingInterval))
	add("sampling_interval", duration(n.SamplingInterval))
	if n.QueueSize != 0 {
		add("queue_size", strconv.FormatUint(uint64(n.QueueSize), 10))
	}
	add("trigger", quoted(n.Trigger))
	add("deadband", quoted(n.Deadband))
	if n.DeadbandValue != 0 {
		add("deadband_value", strconv.FormatFloat(n.DeadbandValue, 'g', -1, 64))
	}
	return "{ " + strings.Join(parts, ", ") + " }"
}

// tomlString quotes s as a TOML basic string. Go's strconv.Quote is not
// TOML: it writes \x.. and \a, which TOML does not have. Invalid UTF-8
// becomes U+FFFD, since TOML files are UTF-8.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			b.WriteString(`\uFFFD`)
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
