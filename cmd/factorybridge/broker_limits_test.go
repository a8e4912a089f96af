package main

import (
	"testing"
	"time"

	"factorybridge/publisher/mqtt"
)

// TestBrokerMessageSizeLimit (issue #18): mosquitto with message_size_limit
// 65536 under the bridge's default 256 KiB messages. mosquitto takes an
// MQTT 3.1.1 client's oversized PUBLISH, acknowledges it and drops it, and
// refuses an MQTT 5 client's with 0x95. Over either protocol the bridge
// finds the limit and logs it, and after a broker outage (the backlog
// drains in the largest messages) every reading arrives: per node without
// loss or reorder, and every seq committed.
func TestBrokerMessageSizeLimit(t *testing.T) {
	for _, proto := range []string{mqtt.Protocol5, mqtt.Protocol311} {
		t.Run("mqtt"+proto, func(t *testing.T) {
			const nodes, rate = 20, 500
			r := startRigWith(t, rigOptions{proto: proto, nodes: nodes, rate: rate,
				broker: []string{"message_size_limit 65536"}})
			r.bridge.WaitLog(t, "messages are limited to 65536 bytes", 30*time.Second)
			r.waitFlowing(rate, 30*time.Second)
			r.broker.Stop()
			time.Sleep(3 * time.Second) // the outage: a backlog of large messages builds up
			r.broker.Start()
			r.bridge.WaitLog(t, "mqtt connection restored", 30*time.Second)
			r.caughtUp(time.Second, time.Minute)
			lastSeq := r.stopBridge()
			a := r.checkDelivery(nil)
			if a.Lost > 0 {
				t.Errorf("%d values lost", a.Lost)
			}
			t.Logf("MQTT %s: %v; last seq %d", proto, a, lastSeq)
		})
	}
}

// TestBrokerMaxInflight: with max_inflight_messages 2 (MQTT 5's Receive
// Maximum, which caps the bridge's window) every reading arrives.
func TestBrokerMaxInflight(t *testing.T) {
	forProtocols(t, mqtt.Protocol5, func(t *testing.T, proto string) {
		const nodes, rate = 20, 500
		r := startRigWith(t, rigOptions{proto: proto, nodes: nodes, rate: rate,
			broker: []string{"max_inflight_messages 2"}})
		r.waitFlowing(4*rate, time.Minute)
		r.stopBridge()
		if a := r.checkDelivery(nil); a.Lost > 0 || a.Dups > 0 {
			t.Errorf("delivery: %v", a)
		}
	})
}
