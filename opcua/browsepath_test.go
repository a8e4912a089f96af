package opcua

import (
	"reflect"
	"strings"
	"testing"

	"github.com/gopcua/opcua/ua"
)

const stationNS = "http://opcfoundation.org/UA/Station/"

func TestParseBrowsePath(t *testing.T) {
	seg := func(name, uri string) PathSegment { return PathSegment{Name: name, NamespaceURI: uri} }
	tests := []struct {
		in   string
		want []PathSegment
	}{
		{"Objects/FactoryLine/assembly/Status", []PathSegment{seg("Objects", ""), seg("FactoryLine", ""), seg("assembly", ""), seg("Status", "")}},
		{"/Objects", []PathSegment{seg("Objects", "")}},
		{"Objects/nsu=" + stationNS + ";FactoryLine/assembly", []PathSegment{seg("Objects", ""), seg("FactoryLine", stationNS), seg("assembly", "")}},
		{"Objects/a&/b/c&&d/&nsu=x", []PathSegment{seg("Objects", ""), seg("a/b", ""), seg("c&d", ""), seg("nsu=x", "")}},
		{"Objects/nsu=urn:x;a;b", []PathSegment{seg("Objects", ""), seg("a;b", "urn:x")}},
	}
	for _, tt := range tests {
		got, err := ParseBrowsePath(tt.in)
		if err != nil || !reflect.DeepEqual(got.Segments, tt.want) {
			t.Errorf("ParseBrowsePath(%q) = %v, %v; want %v", tt.in, got.Segments, err, tt.want)
			continue
		}
		again, err := ParseBrowsePath(got.String())
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Errorf("round trip of %q via %q = %v, %v", tt.in, got.String(), again, err)
		}
	}
}

func TestParseBrowsePathRejects(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "empty path"},
		{"/", "empty path"},
		{"Objects//x", "segment 2: empty browse name"},
		{"Objects/", `segment 2: empty browse name after the last "/"`},
		{"Objects/nsu=;x", "segment 2: want nsu=<namespace URI>;<browse name>"},
		{"Objects/nsu=urn:x", "segment 2: want nsu="},
		{"Objects/a&", `segment 2: "&" at the end`},
		{"Objects/nsu=urn:x;", "segment 2: empty browse name"},
	}
	for _, tt := range tests {
		_, err := ParseBrowsePath(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseBrowsePath(%q): %v, want an error containing %q", tt.in, err, tt.want)
		}
	}
}

func TestExactPath(t *testing.T) {
	names := []PathSegment{{"Objects", NamespaceZero}, {"FactoryLine", stationNS}, {"assembly", stationNS}, {"Status", stationNS}}
	if got, want := ExactPath(names).String(), "Objects/nsu="+stationNS+";FactoryLine/assembly/Status"; got != want {
		t.Errorf("ExactPath = %s, want %s", got, want)
	}
	names = []PathSegment{{"Objects", NamespaceZero}, {"Server", NamespaceZero}, {"ServerStatus", NamespaceZero}}
	if got, want := ExactPath(names).String(), "Objects/nsu="+NamespaceZero+";Server/ServerStatus"; got != want {
		t.Errorf("ExactPath = %s, want %s", got, want)
	}
}

func TestSegmentNamespaces(t *testing.T) {
	namespaces := []string{NamespaceZero, "urn:a", stationNS}
	tests := []struct {
		path string
		want []int
	}{
		{"Objects/FactoryLine/assembly", []int{0, searchedNS, searchedNS}},
		{"Objects/nsu=" + stationNS + ";FactoryLine/assembly", []int{0, 2, 2}},
		{"Objects/x/nsu=urn:a;y/z", []int{0, searchedNS, 1, 1}},
		{"nsu=urn:a;Top/x", []int{1, 1}},
	}
	for _, tt := range tests {
		p, err := ParseBrowsePath(tt.path)
		must(t, err)
		got, err := segmentNamespaces(p, namespaces)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("segmentNamespaces(%s) = %v, %v; want %v", tt.path, got, err, tt.want)
		}
	}
	p, _ := ParseBrowsePath("Objects/nsu=urn:gone;x")
	if _, err := segmentNamespaces(p, namespaces); err == nil || !strings.Contains(err.Error(), `"urn:gone" (segment 2) is not in the server's NamespaceArray`) {
		t.Errorf("unknown namespace: %v", err)
	}
}

// TestPathTarget covers the outcomes the simulator cannot produce: a path
// found in two namespaces, and a target on another server.
func TestPathTarget(t *testing.T) {
	p, _ := ParseBrowsePath("Objects/Machine/Speed")
	found := func(ids ...string) *ua.BrowsePathResult {
		r := &ua.BrowsePathResult{}
		for _, s := range ids {
			r.Targets = append(r.Targets, &ua.BrowsePathTarget{TargetID: ua.NewExpandedNodeID(ua.MustParseNodeID(s), "", 0), RemainingPathIndex: ^uint32(0)})
		}
		return r
	}
	bad := &ua.BrowsePathResult{StatusCode: ua.StatusBadNoMatch}
	remote := found("ns=2;s=a")
	remote.Targets[0].TargetID.ServerIndex = 1
	tests := []struct {
		name    string
		results []*ua.BrowsePathResult
		id      string
		status  ua.StatusCode
		reason  string
	}{
		{"one", []*ua.BrowsePathResult{bad, found("ns=3;s=speed")}, "ns=3;s=speed", 0, ""},
		{"two namespaces", []*ua.BrowsePathResult{found("ns=2;s=a"), found("ns=3;s=b")}, "", ua.StatusBadBrowseNameDuplicated, "names 2 nodes; qualify"},
		{"two targets", []*ua.BrowsePathResult{found("ns=2;s=a", "ns=2;s=b")}, "", ua.StatusBadBrowseNameDuplicated, "names 2 nodes"},
		{"none", []*ua.BrowsePathResult{bad, bad}, "", ua.StatusBadNoMatch, "does not resolve"},
		{"no candidates", nil, "", ua.StatusBadNoMatch, "does not resolve"},
		{"server status", []*ua.BrowsePathResult{{StatusCode: ua.StatusBadNodeIDUnknown}}, "", ua.StatusBadNodeIDUnknown, "does not resolve"},
		{"remote", []*ua.BrowsePathResult{remote}, "", ua.StatusBadNoMatch, "does not resolve"},
	}
	for _, tt := range tests {
		got, _ := target(p, tt.results)
		gotID := ""
		if got.id != nil {
			gotID = got.id.String()
		}
		if gotID != tt.id || got.status != tt.status || !strings.Contains(got.reason, tt.reason) {
			t.Errorf("%s: target = %s %v %q; want %s %v %q", tt.name, gotID, got.status, got.reason, tt.id, tt.status, tt.reason)
		}
	}
}
