package deploy

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"factorybridge/config"
	"factorybridge/internal/testenv"
)

// composeFile is the part of the compose specification the test reads.
type composeFile struct {
	Services map[string]struct {
		Image string `yaml:"image"`
		Build *struct {
			Context    string `yaml:"context"`
			Dockerfile string `yaml:"dockerfile"`
		} `yaml:"build"`
		Command     []string `yaml:"command"`
		NetworkMode string   `yaml:"network_mode"`
		DependsOn   []string `yaml:"depends_on"`
		Volumes     []string `yaml:"volumes"`
		Ports       []string `yaml:"ports"`
		Restart     string   `yaml:"restart"`
	} `yaml:"services"`
	Volumes map[string]any `yaml:"volumes"`
}

// TestComposeFile: mosquitto, the simulator and the bridge; the bridge built
// from the Dockerfile, its config mounted where the image reads it and
// valid, its /data on a named volume, its status page published on the
// host's loopback only.
func TestComposeFile(t *testing.T) {
	dir := filepath.Join(testenv.RepoRoot(), "deploy", "compose")
	data, err := os.ReadFile(filepath.Join(dir, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	if err := yaml.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"mosquitto", "simulator", "factorybridge"} {
		if _, ok := c.Services[name]; !ok {
			t.Fatalf("no service %q", name)
		}
	}
	for _, name := range []string{"simulator", "factorybridge"} {
		b := c.Services[name].Build
		if b == nil {
			t.Fatalf("service %s is not built", name)
		}
		if _, err := os.Stat(filepath.Join(dir, b.Context, b.Dockerfile)); err != nil {
			t.Errorf("service %s: %v", name, err)
		}
	}
	br := c.Services["factorybridge"]
	if !slices.Contains(br.DependsOn, "mosquitto") || !slices.Contains(br.DependsOn, "simulator") {
		t.Errorf("the bridge depends on %v, want mosquitto and simulator", br.DependsOn)
	}
	if br.Restart != "on-failure" {
		t.Errorf("the bridge restarts %q, want on-failure", br.Restart)
	}
	var cfgFile string
	var dataVolume bool
	for _, v := range br.Volumes {
		src, dst, _ := strings.Cut(v, ":")
		switch {
		case strings.HasPrefix(dst, "/etc/factorybridge/config.toml"):
			cfgFile = filepath.Join(dir, src)
		case dst == "/data":
			_, dataVolume = c.Volumes[src]
		}
	}
	if !dataVolume {
		t.Errorf("the bridge's /data is not a named volume: %v", br.Volumes)
	}
	checkComposeConfig(t, cfgFile)
	// The simulator listens on loopback: the bridge joins its network
	// namespace, which publishes the status page.
	if br.NetworkMode != "service:simulator" || !slices.Contains(c.Services["simulator"].Ports, "127.0.0.1:9880:9880") {
		t.Errorf("network_mode %q, simulator ports %v", br.NetworkMode, c.Services["simulator"].Ports)
	}
	if _, err := os.Stat(filepath.Join(dir, "mosquitto.conf")); err != nil {
		t.Error(err)
	}
}

func checkComposeConfig(t *testing.T, path string) {
	t.Helper()
	if path == "" {
		t.Fatal("the bridge's config is not mounted at /etc/factorybridge/config.toml")
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatalf("the compose config does not load: %v", err)
	}
	if cfg.Bridge.DataDir != "/data" || cfg.HTTPListen() != "0.0.0.0:9880" || cfg.MQTT.Broker != "tcp://mosquitto:1883" {
		t.Errorf("compose config: data_dir %q, http %q, broker %q", cfg.Bridge.DataDir, cfg.HTTPListen(), cfg.MQTT.Broker)
	}
}
