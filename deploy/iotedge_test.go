package deploy

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"factorybridge/internal/testenv"
)

// The IoT Edge deployment manifest's schema, from Microsoft's "Properties
// of the IoT Edge agent and IoT Edge hub module twins" and the manifest
// schema its tooling validates with: the manifest is decoded with unknown
// fields refused, and the required ones checked below.
type manifest struct {
	ModulesContent map[string]json.RawMessage `json:"modulesContent"`
}

type edgeAgentDesired struct {
	SchemaVersion string `json:"schemaVersion"`
	Runtime       struct {
		Type     string `json:"type"`
		Settings struct {
			MinDockerVersion    string                     `json:"minDockerVersion"`
			LoggingOptions      string                     `json:"loggingOptions"`
			RegistryCredentials map[string]json.RawMessage `json:"registryCredentials"`
		} `json:"settings"`
	} `json:"runtime"`
	SystemModules struct {
		EdgeAgent *edgeModule `json:"edgeAgent"`
		EdgeHub   *edgeModule `json:"edgeHub"`
	} `json:"systemModules"`
	Modules map[string]*edgeModule `json:"modules"`
}

type edgeModule struct {
	Version         string                     `json:"version"`
	Type            string                     `json:"type"`
	Status          string                     `json:"status"`
	RestartPolicy   string                     `json:"restartPolicy"`
	ImagePullPolicy string                     `json:"imagePullPolicy"`
	StartupOrder    *uint32                    `json:"startupOrder"`
	Env             map[string]json.RawMessage `json:"env"`
	Settings        struct {
		Image         string `json:"image"`
		CreateOptions string `json:"createOptions"`
	} `json:"settings"`
}

type edgeHubDesired struct {
	SchemaVersion string            `json:"schemaVersion"`
	Routes        map[string]string `json:"routes"`
	StoreAndFwd   *struct {
		TimeToLiveSecs int `json:"timeToLiveSecs"`
	} `json:"storeAndForwardConfiguration"`
}

// desired decodes a module twin's "properties.desired", refusing unknown fields.
func desired(t *testing.T, raw json.RawMessage, v any) {
	t.Helper()
	var twin map[string]json.RawMessage
	if err := json.Unmarshal(raw, &twin); err != nil {
		t.Fatal(err)
	}
	d, ok := twin["properties.desired"]
	if !ok || len(twin) != 1 {
		t.Fatalf("a module twin has exactly properties.desired, got %v", keys(twin))
	}
	dec := json.NewDecoder(bytes.NewReader(d))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("properties.desired: %v", err)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestIoTEdgeManifest checks deploy/iotedge/deployment.json: a complete
// deployment (edgeAgent with schemaVersion, runtime and systemModules,
// edgeHub with routes and store-and-forward) whose factorybridge module
// keeps its buffer on a volume and whose route sends its output upstream.
func TestIoTEdgeManifest(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "deploy", "iotedge", "deployment.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	var agent edgeAgentDesired
	var hub edgeHubDesired
	desired(t, m.ModulesContent["$edgeAgent"], &agent)
	desired(t, m.ModulesContent["$edgeHub"], &hub)
	checkAgent(t, &agent)
	checkHub(t, &hub)
	var twin struct {
		LogLevel string `json:"logLevel"`
	}
	desired(t, m.ModulesContent["factorybridge"], &twin)
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, twin.LogLevel) {
		t.Errorf("factorybridge's desired logLevel %q", twin.LogLevel)
	}
}

func checkAgent(t *testing.T, a *edgeAgentDesired) {
	t.Helper()
	if a.SchemaVersion != "1.1" || a.Runtime.Type != "docker" || a.Runtime.Settings.MinDockerVersion == "" {
		t.Errorf("edgeAgent: schemaVersion %q, runtime %q, minDockerVersion %q", a.SchemaVersion, a.Runtime.Type, a.Runtime.Settings.MinDockerVersion)
	}
	if a.SystemModules.EdgeAgent == nil || a.SystemModules.EdgeHub == nil {
		t.Fatal("systemModules needs edgeAgent and edgeHub")
	}
	checkModule(t, "edgeAgent", a.SystemModules.EdgeAgent, true)
	eh := a.SystemModules.EdgeHub
	checkModule(t, "edgeHub", eh, false)
	if eh.Status != "running" || eh.RestartPolicy != "always" {
		t.Errorf("edgeHub: status %q, restartPolicy %q; must be running, always", eh.Status, eh.RestartPolicy)
	}
	fb := a.Modules["factorybridge"]
	if fb == nil {
		t.Fatalf("no factorybridge module: %v", keys(a.Modules))
	}
	checkModule(t, "factorybridge", fb, false)
	var opts struct {
		HostConfig struct {
			Binds []string
		}
	}
	if err := json.Unmarshal([]byte(fb.Settings.CreateOptions), &opts); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(opts.HostConfig.Binds, func(b string) bool { return strings.Contains(b, ":/data") }) {
		t.Errorf("factorybridge's createOptions bind no volume on /data: %v", opts.HostConfig.Binds)
	}
}

var moduleID = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

// checkModule checks what the schema requires of a module; system is true
// for edgeAgent, the one that has no status or restart policy.
func checkModule(t *testing.T, name string, m *edgeModule, system bool) {
	t.Helper()
	if !moduleID.MatchString(name) || m.Type != "docker" || m.Settings.Image == "" {
		t.Errorf("%s: type %q, image %q", name, m.Type, m.Settings.Image)
	}
	if !system && (!slices.Contains([]string{"running", "stopped"}, m.Status) ||
		!slices.Contains([]string{"never", "on-failure", "on-unhealthy", "always"}, m.RestartPolicy)) {
		t.Errorf("%s: status %q, restartPolicy %q", name, m.Status, m.RestartPolicy)
	}
	if co := m.Settings.CreateOptions; co != "" {
		// The hub stores each desired property value in at most 512 bytes;
		// longer create options must be split into createOptions01…
		if len(co) > 512 || !json.Valid([]byte(co)) || !strings.HasPrefix(co, "{") {
			t.Errorf("%s: createOptions must be a JSON object of at most 512 bytes: %s", name, co)
		}
	}
}

func checkHub(t *testing.T, h *edgeHubDesired) {
	t.Helper()
	if h.SchemaVersion != "1.1" || h.StoreAndFwd == nil || h.StoreAndFwd.TimeToLiveSecs <= 0 {
		t.Errorf("edgeHub: schemaVersion %q, storeAndForwardConfiguration %+v", h.SchemaVersion, h.StoreAndFwd)
	}
	upstream := false
	for name, r := range h.Routes {
		if strings.ContainsAny(name, ".$# ") {
			t.Errorf("route name %q", name)
		}
		upstream = upstream || strings.HasPrefix(r, "FROM /messages/modules/factorybridge/outputs/") && strings.HasSuffix(r, "INTO $upstream")
	}
	if !upstream {
		t.Errorf("no route sends factorybridge's output upstream: %v", h.Routes)
	}
}
