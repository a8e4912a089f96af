package wire

import (
	"net/url"
	"testing"
)

func TestRenderTopic(t *testing.T) {
	tests := []struct {
		tmpl, server, line, station, want string
	}{
		{"factorybridge/{bridge}/{line}/readings", "plc1", "line1", "st1", "factorybridge/b-1/line1/readings"},
		{"{bridge}/{server}/{line}/{station}", "plc1", "line1", "st1", "b-1/plc1/line1/st1"},
		{"plant/{station}/{station}", "", "", "press", "plant/press/press"},
		{"fixed/topic", "plc1", "l", "s", "fixed/topic"},
		{"x/{line}", "", "a+b#c", "", "x/a_b_c"},
		{"x/{line}/", "", "", "", "x//"},
	}
	for _, tt := range tests {
		tp, err := ParseTopic(tt.tmpl, "b-1")
		if err != nil {
			t.Fatalf("%s: %v", tt.tmpl, err)
		}
		for range 2 { // the second render comes from the cache
			if got := tp.Render(tt.server, tt.line, tt.station); got != tt.want {
				t.Errorf("%s: got %q, want %q", tt.tmpl, got, tt.want)
			}
		}
	}
}

func TestParseTopicErrors(t *testing.T) {
	for _, tmpl := range []string{"", "a/+/b", "a/#", "a/{plant}", "{Line}"} {
		if _, err := ParseTopic(tmpl, "b"); err == nil {
			t.Errorf("ParseTopic(%q) succeeded", tmpl)
		}
	}
}

func TestTopicCacheIsBounded(t *testing.T) {
	tp, err := ParseTopic("{line}", "b")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 * maxCachedTopics {
		tp.Render("", string(rune('a'+i%26))+string(rune(i)), "")
	}
	if n := len(tp.cache); n > maxCachedTopics {
		t.Fatalf("cache holds %d topics; bound %d", n, maxCachedTopics)
	}
}

// TestNewTopicEscapesNames builds a topic of parts, as a dialect does whose
// topic is not MQTT levels: the text stays as it is, the names are escaped.
func TestNewTopicEscapesNames(t *testing.T) {
	tp := NewTopic(url.PathEscape, TopicPart{Text: "a/b?"}, TopicPart{Text: "line="}, TopicPart{Field: FieldLine})
	if got, want := tp.Render("s", "L 1/2+#", "st"), "a/b?line=L%201%2F2+%23"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := NewTopic(nil, TopicPart{Field: FieldStation}).Render("", "", "a+b"); got != "a_b" {
		t.Errorf("nil escape: got %q, want the level sanitized", got)
	}
}
