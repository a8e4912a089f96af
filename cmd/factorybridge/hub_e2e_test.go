package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"factorybridge/internal/testenv"
	"factorybridge/internal/testenv/consumer"
	"factorybridge/internal/testenv/hubsim"
)

// TestIoTHubEndToEnd runs the bridge against the open62541 simulator and
// the IoT Hub stand-in, as a device behind a gateway: every counter value
// arrives once and in order, GetStatus and the twin show the server
// connected, the twin's desired logLevel turns on debug logging, and the
// device key never appears in the log.
func TestIoTHubEndToEnd(t *testing.T) {
	const nodes, want = 10, 300
	sim := testenv.StartSimulator(t, testenv.SimOptions{LoadNodes: nodes, Rate: 100})
	cons := consumer.New(consumer.Options{})
	hub := hubsim.Start(t, hubsim.Options{OnMessage: telemetryTo(cons)})
	key := hub.AddDevice("line-bridge")
	csFile := filepath.Join(t.TempDir(), "iothub.cs")
	cs := fmt.Sprintf("HostName=%s;DeviceId=line-bridge;GatewayHostName=localhost;SharedAccessKey=%s\n", hub.HostName(), key)
	if err := os.WriteFile(csFile, []byte(cs), 0o644); err != nil { // world-readable: warned about
		t.Fatal(err)
	}
	cfg := testenv.WriteLoadConfig(t, testenv.LoadConfig{Endpoint: sim.Endpoint, Nodes: nodes, IoTHub: fmt.Sprintf(
		"connection_string_file = %q\nedge = \"off\"\nport = %d\nca_file = %q\nreport_interval = \"1s\"", csFile, hub.Port(), hub.CAFile())})
	br := testenv.StartBridge(t, cfg)
	names := loadNames(nodes)
	testenv.Wait(t, 60*time.Second, fmt.Sprintf("%d values of each of %d nodes", want, nodes), func() bool {
		return cons.MinCount(names) >= want
	})

	status, body, err := hub.Invoke(context.Background(), "line-bridge", "", "GetStatus", nil, 10*time.Second)
	var st struct {
		Servers []struct{ Name, State string }
		Buffer  struct{ Depth uint64 }
		Publish struct{ Connected bool }
	}
	if err != nil || status != 200 || json.Unmarshal(body, &st) != nil || len(st.Servers) != 1 ||
		st.Servers[0].State != "connected" || !st.Publish.Connected {
		t.Errorf("GetStatus: %d %s %v", status, body, err)
	}
	testenv.Wait(t, 10*time.Second, "the twin to report the server connected", func() bool {
		s, _ := hub.Reported("line-bridge", "")["servers"].(map[string]any)
		return s["sim"] == "connected"
	})
	// The twin's desired logLevel: at "warn" a method call's INFO line is
	// no longer written, at "info" again. The call returns after its line
	// would have been written, so each check is decided when it returns.
	for _, tc := range []struct {
		level  string
		logged bool
	}{{"warn", false}, {"info", true}} {
		hub.SetDesired("line-bridge", "", map[string]any{"logLevel": tc.level})
		testenv.Wait(t, 10*time.Second, "the log level set to "+tc.level, func() bool {
			out := br.Logs()
			i := strings.LastIndex(out, `"msg":"iothub: log level set from the twin"`)
			return i >= 0 && strings.Contains(out[i:], `"log_level":"`+tc.level+`"`)
		})
		mark := len(br.Logs())
		if status, _, err := hub.Invoke(context.Background(), "line-bridge", "", "GetOEE", nil, 10*time.Second); status != 200 || err != nil {
			t.Fatalf("GetOEE: %d %v", status, err)
		}
		if got := strings.Contains(br.Logs()[mark:], "iothub: direct method"); got != tc.logged {
			t.Errorf("at log level %s the method call was logged: %v, want %v", tc.level, got, tc.logged)
		}
	}

	lastSeq := br.StopDrained(t)
	a := cons.Analyze(names, nil)
	if n, errs := cons.Errors(); n > 0 || a.Lost > 0 || a.Dups > 0 || a.Reorders > 0 || len(a.Missing) > 0 || a.Err != nil {
		t.Fatalf("want every value once and in order: %v (errors %v)", a, errs)
	}
	checkDense(t, lastSeq, 0, cons.Seqs)
	out := br.Logs()
	if strings.Contains(out, key) || strings.Contains(out, "sig=") {
		t.Errorf("the device key or a token is in the log")
	}
	if !strings.Contains(out, `"setting":"iothub.connection_string_file"`) {
		t.Errorf("the world-readable connection string file was not warned about")
	}
	if c := hub.Closes(); len(c) > 0 {
		t.Errorf("the hub closed connections: %+v", c)
	}
	t.Log(a)
}

// TestIoTHubEdgeModuleEndToEnd runs the bridge as an IoT Edge module: no
// connection string, the identity from the IOTEDGE_* variables, tokens
// signed by the workload API and edgeHub trusted through its trust bundle.
func TestIoTHubEdgeModuleEndToEnd(t *testing.T) {
	sim := testenv.StartSimulator(t, testenv.SimOptions{LoadNodes: 2, Rate: 50})
	cons := consumer.New(consumer.Options{})
	hub := hubsim.Start(t, hubsim.Options{OnMessage: telemetryTo(cons)})
	w := hubsim.StartWorkload(t, hubsim.WorkloadOptions{Hub: hub})
	for k, v := range w.Env("edge-device", "factorybridge") {
		t.Setenv(k, v)
	}
	cfg := testenv.WriteLoadConfig(t, testenv.LoadConfig{Endpoint: sim.Endpoint, Nodes: 2,
		IoTHub: fmt.Sprintf("edge = \"on\"\nport = %d", hub.Port())})
	br := testenv.StartBridge(t, cfg)
	testenv.Wait(t, 60*time.Second, "readings through edgeHub", func() bool {
		return cons.MinCount(loadNames(2)) >= 50
	})
	lastSeq := br.StopDrained(t)
	if w.SignCalls() == 0 || !strings.Contains(br.Logs(), "IoT Edge module edge-device/factorybridge") {
		t.Errorf("module mode not used: %d signatures\n%s", w.SignCalls(), br.LogTail())
	}
	checkDense(t, lastSeq, 0, cons.Seqs)
	for _, m := range hub.Messages() {
		if m.DeviceID != "edge-device" || m.ModuleID != "factorybridge" || m.Properties["$.on"] != "telemetry" {
			t.Fatalf("message from %s/%s to output %q, want edge-device/factorybridge to telemetry", m.DeviceID, m.ModuleID, m.Properties["$.on"])
		}
	}
}

// telemetryTo feeds the readings messages the hub receives to cons.
func telemetryTo(cons *consumer.Consumer) func(hubsim.Message) {
	return func(m hubsim.Message) {
		if m.Properties["type"] == "telemetry" {
			cons.Record(m.Payload)
		}
	}
}

// TestIoTHubOEE runs the Connected Factory line with OEE against the hub
// stand-in: OEE records arrive as messages of type "oee" for the line,
// GetOEE answers with the line's and every station's latest record, and the
// twin reports the line's OEE.
func TestIoTHubOEE(t *testing.T) {
	sim := testenv.StartSimulator(t, testenv.SimOptions{Speed: oeeSpeed, Seed: 3})
	hub := hubsim.Start(t, hubsim.Options{})
	key := hub.AddDevice("oee-dev")
	t.Setenv("FB_TEST_HUB_OEE_CS", fmt.Sprintf("HostName=%s;DeviceId=oee-dev;GatewayHostName=localhost;SharedAccessKey=%s", hub.HostName(), key))
	const placeholder = "tcp://127.0.0.1:1"
	path := writeOEEConfig(t, sim.Endpoint, placeholder)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	hubTable := fmt.Sprintf("[iothub]\nconnection_string_env = \"FB_TEST_HUB_OEE_CS\"\nedge = \"off\"\nport = %d\nca_file = %q\nreport_interval = \"1s\"\n\n[mqtt]\n", hub.Port(), hub.CAFile())
	data = []byte(strings.Replace(string(data), "[mqtt]\nbroker = \""+placeholder+"\"\n", hubTable, 1))
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	br := testenv.StartBridge(t, path)
	testenv.Wait(t, 60*time.Second, "OEE messages at the hub", func() bool {
		for _, m := range hub.Messages() {
			if m.Properties["type"] == "oee" && m.Properties["line"] == "line1" {
				return true
			}
		}
		return false
	})
	var answer struct {
		Configured bool
		Records    []struct{ Line, Station, Kind string }
	}
	testenv.Wait(t, 30*time.Second, "GetOEE to hold the line and its three stations", func() bool {
		status, body, err := hub.Invoke(context.Background(), "oee-dev", "", "GetOEE", nil, 5*time.Second)
		if err != nil || status != 200 || json.Unmarshal(body, &answer) != nil {
			t.Fatalf("GetOEE: %d %s %v", status, body, err)
		}
		return answer.Configured && len(answer.Records) == 1+len(oeeStations)
	})
	if r := answer.Records[0]; r.Line != "line1" || r.Station != "" {
		t.Errorf("first record %+v, want the line's", r)
	}
	testenv.Wait(t, 10*time.Second, "the twin to report line1's OEE", func() bool {
		o, _ := hub.Reported("oee-dev", "")["oee"].(map[string]any)
		_, ok := o["line1"].(map[string]any)
		return ok
	})
	if code := br.Stop(); code != 0 {
		t.Fatalf("bridge exited with %d\n%s", code, br.LogTail())
	}
}
