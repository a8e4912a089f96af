package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

// setExampleEnv sets the variables the files in configs/ use.
func setExampleEnv(t *testing.T) {
	t.Setenv("PLC2_PASSWORD", "plc2-secret")
	t.Setenv("MQTT_PASSWORD", "mqtt-secret")
	for k, v := range exampleHubEnv {
		t.Setenv(k, v)
	}
}

// exampleHubEnv are connection strings of the shapes the iothub-*.toml
// examples expect, with a made-up key.
var exampleHubEnv = map[string]string{
	"IOTHUB_DEVICE_CONNECTION_STRING":  "HostName=plant.azure-devices.net;DeviceId=munich-1;SharedAccessKey=" + exampleKey,
	"IOTHUB_MODULE_CONNECTION_STRING":  "HostName=plant.azure-devices.net;DeviceId=munich-2;ModuleId=factorybridge;SharedAccessKey=" + exampleKey,
	"IOTHUB_GATEWAY_CONNECTION_STRING": "HostName=plant.azure-devices.net;DeviceId=munich-3;GatewayHostName=edge.plant.local;SharedAccessKey=" + exampleKey,
}

const exampleKey = "c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seS0xMjM0NTY="

func exampleFiles(t testing.TB) []string {
	files, err := filepath.Glob("../configs/*.toml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no example configs: %v", err)
	}
	return files
}

// TestExampleConfigs loads and validates every file in configs/.
func TestExampleConfigs(t *testing.T) {
	setExampleEnv(t)
	for _, file := range exampleFiles(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			c, err := Load(file)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if err := c.Validate(); err != nil {
				t.Errorf("Validate after Load: %v", err)
			}
			if len(c.Nodes("")) == 0 {
				t.Error("no nodes")
			}
			t.Log(c.Summary())
		})
	}
}

func TestConnectedFactory(t *testing.T) {
	setExampleEnv(t)
	c, err := Load("../configs/connected-factory.toml")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Summary(), "config ok: bridge munich-1, 1 server, 1 line, 3 stations, 25 nodes → mqtt tcp://127.0.0.1:1883"; got != want {
		t.Errorf("Summary() = %q, want %q", got, want)
	}
	refs := c.Nodes("line1-plc")
	got := refs[4]
	if got.Name != "munich/line1/assembly/Status" || got.Node.ID != "nsu=http://opcfoundation.org/UA/Station/;s=assembly.Status" {
		t.Errorf("node 4 = %+v", got)
	}
	if c.Servers[0].Endpoint != "opc.tcp://127.0.0.1:4840" {
		t.Errorf("endpoint %q", c.Servers[0].Endpoint)
	}
}

// commentedDefault matches "# key = value   # default…": a setting shown at
// its default in an example file.
var commentedDefault = regexp.MustCompile(`(?m)^(\s*)# ([a-z_]+ = .*?)\s+# default\b`)

// TestCommentedDefaults guards against defaults drifting between the code
// and the example files: uncommenting every "# key = value  # default" line
// must not change the loaded configuration.
func TestCommentedDefaults(t *testing.T) {
	setExampleEnv(t)
	for _, file := range exampleFiles(t) {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		uncommented := commentedDefault.ReplaceAll(data, []byte("$1$2 #"))
		if string(uncommented) == string(data) {
			continue
		}
		asIs, err := Parse(file, data, os.LookupEnv)
		if err != nil {
			t.Fatal(err)
		}
		explicit, err := Parse(file, uncommented, os.LookupEnv)
		if err != nil {
			t.Fatalf("%s with defaults uncommented: %v", file, err)
		}
		if !reflect.DeepEqual(asIs.Nodes(""), explicit.Nodes("")) {
			t.Errorf("%s: uncommented defaults change the nodes", file)
		}
		// Templates are compared through the nodes they expand to.
		asIs.Lines, explicit.Lines = nil, nil
		asIs.Templates, explicit.Templates = nil, nil
		for i := range explicit.Servers {
			explicit.Servers[i].samplingSet = asIs.Servers[i].samplingSet
		}
		if !reflect.DeepEqual(asIs, explicit) {
			t.Errorf("%s: uncommented defaults change the config:\n%+v\n%+v", file, asIs, explicit)
		}
	}
}

// TestSecretsNeverPrinted resolves passwords from the environment and a
// file and checks that no way of printing the config shows them.
func TestSecretsNeverPrinted(t *testing.T) {
	setExampleEnv(t)
	c, err := Load("../configs/full.toml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Servers[1].Password.Value() != "plc2-secret" || c.MQTT.Password.Value() != "mqtt-secret" {
		t.Fatalf("passwords not resolved: %q %q", c.Servers[1].Password.Value(), c.MQTT.Password.Value())
	}
	out := fmt.Sprintf("%v %+v %#v %v %+v %#v %v %+v", c, c, c, *c, *c, *c, c.Servers, c.Nodes(""))
	for _, secret := range []string{"plc2-secret", "mqtt-secret"} {
		if strings.Contains(out, secret) {
			t.Errorf("%q printed:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, "[redacted]") {
		t.Error("no [redacted] in output")
	}
}

const secretBase = `
bridge.id = "b"
[mqtt]
broker = "ssl://127.0.0.1:8883"
username = "u"
%s
[[servers]]
name = "plc"
endpoint = "opc.tcp://127.0.0.1:4840"
[[lines]]
name = "l"
[[lines.stations]]
name = "s"
nodes = [{ name = "n", id = "i=1" }]
`

func TestPasswordSources(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	env := func(name string) (string, bool) { return map[string]string{"PW": "from-env"}[name], name == "PW" }
	tests := []struct {
		key, want, problem string
	}{
		{`password_env = "PW"`, "from-env", ""},
		{`password_env = "NOPE"`, "", "mqtt.password_env: environment variable NOPE is not set"},
		{fmt.Sprintf("password_file = %q", write("nl", "from-file\n")), "from-file", ""},
		{fmt.Sprintf("password_file = %q", write("crlf", "from-file\r\n")), "from-file", ""},
		{fmt.Sprintf("password_file = %q", write("two", "from-file\n\n")), "from-file\n", ""},
		{fmt.Sprintf("password_file = %q", write("big", strings.Repeat("x", maxSecretBytes+1))), "", "larger than 65536 bytes"},
		{fmt.Sprintf("password_file = %q", filepath.Join(dir, "missing")), "", "no such file or directory"},
	}
	for _, tt := range tests {
		c, err := Parse("c.toml", []byte(fmt.Sprintf(secretBase, tt.key)), env)
		switch {
		case tt.problem != "":
			if err == nil || !strings.Contains(err.Error(), tt.problem) {
				t.Errorf("%s: err %v, want %q", tt.key, err, tt.problem)
			}
		case err != nil:
			t.Errorf("%s: %v", tt.key, err)
		case c.MQTT.Password.Value() != tt.want:
			t.Errorf("%s: password %q, want %q", tt.key, c.MQTT.Password.Value(), tt.want)
		}
	}
}

// TestSamplingZeroKept checks that an explicit "0s" survives defaults while
// an absent sampling_interval gets the default.
func TestSamplingZeroKept(t *testing.T) {
	text := strings.Replace(fmt.Sprintf(secretBase, ""), `endpoint = "opc.tcp://127.0.0.1:4840"`,
		"endpoint = \"opc.tcp://127.0.0.1:4840\"\nsampling_interval = \"0s\"\n"+
			"[[servers]]\nname = \"plc2\"\nendpoint = \"opc.tcp://127.0.0.1:4841\"", 1)
	text = strings.Replace(text, `name = "s"`, "name = \"s\"\nserver = \"plc\"", 1)
	c, err := Parse("c.toml", []byte(text), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Servers[0].SamplingInterval; got != 0 {
		t.Errorf("explicit 0s became %v", got)
	}
	if got := c.Servers[1].SamplingInterval.D(); got != DefaultSamplingInterval {
		t.Errorf("absent sampling_interval = %v, want %v", got, DefaultSamplingInterval)
	}
	if got := c.Nodes("plc")[0].Node.SamplingInterval; got != 0 {
		t.Errorf("node sampling %v, want 0 from its server", got)
	}
}

func noEnv(string) (string, bool) { return "", false }

func TestApplyDefaults(t *testing.T) {
	c := Config{Bridge: Bridge{ID: "b", DataDir: "/data"}, Servers: []Server{{}}}
	c.ApplyDefaults()
	if c.Buffer.Path != "/data/buffer.db" || c.MQTT.ClientID != "factorybridge-b" || *c.MQTT.QoS != 1 {
		t.Errorf("derived defaults: %q %q %d", c.Buffer.Path, c.MQTT.ClientID, *c.MQTT.QoS)
	}
	s := c.Servers[0]
	if s.Auth != "anonymous" || s.SecurityMode != "None" || s.SamplingInterval.D() != 500*time.Millisecond || s.QueueSize != 10 {
		t.Errorf("server defaults: %+v", s)
	}
	set := c
	set.ApplyDefaults()
	if !reflect.DeepEqual(set, c) {
		t.Error("ApplyDefaults is not idempotent")
	}
}

func TestLoadUnreadable(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "missing.toml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load missing file = %v, want fs.ErrNotExist", err)
	}
}

// TestMissingTable checks the form of a problem whose table is absent: no
// line to point at.
func TestMissingTable(t *testing.T) {
	_, err := Parse("c.toml", []byte(strings.Replace(fmt.Sprintf(secretBase, ""), `bridge.id = "b"`, "", 1)), noEnv)
	if err == nil || !strings.HasPrefix(err.Error(), "c.toml: bridge.id: required") {
		t.Errorf("err = %v", err)
	}
}
