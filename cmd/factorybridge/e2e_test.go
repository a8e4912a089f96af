package main

import (
	"testing"
	"time"

	"factorybridge/internal/testenv"
	"factorybridge/internal/testenv/consumer"
)

// TestEveryReadingReachesTheBroker runs the whole path against the open62541
// simulator and mosquitto: every counter value of every load node arrives,
// per node in order, with no gap and no duplicate, and every seq the bridge
// committed arrived.
func TestEveryReadingReachesTheBroker(t *testing.T) {
	const nodes, rate, want = 20, 200, 600
	sim := testenv.StartSimulator(t, testenv.SimOptions{LoadNodes: nodes, Rate: rate})
	broker := testenv.StartMosquitto(t)
	cons := consumer.Start(t, broker.URL, consumer.Options{Topic: "fb/e2e/#"})
	cfg := testenv.WriteLoadConfig(t, testenv.LoadConfig{Endpoint: sim.Endpoint, Broker: broker.URL, Nodes: nodes})
	br := testenv.StartBridge(t, cfg)
	checkEveryValue(t, br, cons, nodes, want)
}

// checkDense checks consumer.CheckDense over the seqs of sources (the
// consumer's, and those of what arrives elsewhere, such as OEE records on
// their own topic) until it holds, for up to denseWait: the broker
// acknowledged everything before the bridge stopped, but a subscriber may
// not have it all yet. excused is what the bridge counted as dropped or
// rejected.
func checkDense(t *testing.T, lastSeq, excused uint64, sources ...func() []uint64) {
	t.Helper()
	deadline := time.Now().Add(denseWait)
	for {
		var sets [][]uint64
		for _, src := range sources {
			sets = append(sets, src())
		}
		err := consumer.CheckDense(lastSeq, excused, sets...)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("committed sequence, %v after the bridge stopped: %v", denseWait, err)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// denseWait bounds the wait for the last readings to reach a subscriber.
const denseWait = 30 * time.Second
