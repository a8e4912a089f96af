package main

import (
	"fmt"
	"testing"
	"time"

	"factorybridge/internal/testenv"
	"factorybridge/internal/testenv/consumer"
	"factorybridge/internal/testenv/hubsim"
)

// TestPubSubJSONEndToEnd runs the whole path with encoding = "pubsub-json"
// against the open62541 simulator and mosquitto: the consumer decodes the
// OPC UA PubSub JSON messages with the separately written pubsubjson
// decoder (metadata first), and every counter value arrives once and in
// order.
func TestPubSubJSONEndToEnd(t *testing.T) {
	const nodes, want = 10, 300
	sim := testenv.StartSimulator(t, testenv.SimOptions{LoadNodes: nodes, Rate: 100})
	broker := testenv.StartMosquitto(t)
	cons := consumer.Start(t, broker.URL, consumer.Options{Topic: "fb/e2e/#"})
	cfg := testenv.WriteLoadConfig(t, testenv.LoadConfig{Endpoint: sim.Endpoint, Broker: broker.URL, Nodes: nodes, Encoding: "pubsub-json"})
	br := testenv.StartBridge(t, cfg)
	checkEveryValue(t, br, cons, nodes, want)
}

// TestIoTHubPubSubJSONEndToEnd is the same against the IoT Hub stand-in:
// the messages carry $.ct=application/json and $.ce=utf-8 so routes can
// read their bodies.
func TestIoTHubPubSubJSONEndToEnd(t *testing.T) {
	const nodes, want = 10, 300
	sim := testenv.StartSimulator(t, testenv.SimOptions{LoadNodes: nodes, Rate: 100})
	cons := consumer.New(consumer.Options{})
	hub := hubsim.Start(t, hubsim.Options{OnMessage: telemetryTo(cons)})
	key := hub.AddDevice("pubsub-bridge")
	t.Setenv("FB_TEST_HUB_PUBSUB_CS", fmt.Sprintf("HostName=%s;DeviceId=pubsub-bridge;GatewayHostName=localhost;SharedAccessKey=%s", hub.HostName(), key))
	cfg := testenv.WriteLoadConfig(t, testenv.LoadConfig{Endpoint: sim.Endpoint, Nodes: nodes, Encoding: "pubsub-json",
		IoTHub: fmt.Sprintf("connection_string_env = \"FB_TEST_HUB_PUBSUB_CS\"\nedge = \"off\"\nport = %d\nca_file = %q", hub.Port(), hub.CAFile())})
	br := testenv.StartBridge(t, cfg)
	checkEveryValue(t, br, cons, nodes, want)
	for _, m := range hub.Messages() {
		if m.Properties["$.ct"] != "application/json" || m.Properties["$.ce"] != "utf-8" {
			t.Fatalf("message properties %v", m.Properties)
		}
	}
	if c := hub.Closes(); len(c) > 0 {
		t.Errorf("the hub closed connections: %+v", c)
	}
}

// checkEveryValue waits for want values of each of nodes load nodes, stops
// the bridge, and checks that every value arrived once and in order and
// that the committed sequence is dense.
func checkEveryValue(t *testing.T, br *testenv.Bridge, cons *consumer.Consumer, nodes, want int) {
	t.Helper()
	names := loadNames(nodes)
	testenv.Wait(t, 60*time.Second, fmt.Sprintf("%d values of each of %d nodes", want, nodes), func() bool {
		return cons.MinCount(names) >= want
	})
	lastSeq := br.StopDrained(t)
	if n, errs := cons.Errors(); n > 0 {
		t.Fatalf("%d bad messages or readings: %v", n, errs)
	}
	a := cons.Analyze(names, nil)
	if a.Lost > 0 || a.Dups > 0 || a.Reorders > 0 || len(a.Missing) > 0 || a.Err != nil {
		t.Fatalf("want every value once and in order: %v", a)
	}
	checkDense(t, lastSeq, 0, cons.Seqs)
	t.Log(a)
}
