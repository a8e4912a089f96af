package config

import (
	"errors"
	"time"

	"factorybridge/publisher/iothub"
	"factorybridge/publisher/mqtt"
)

// MQTTOptions translates [mqtt] and the bridge id into the options of the
// MQTT publisher (a plain broker). Queue and Logger are the caller's to set.
// c is expected to be validated, with its defaults applied.
func (c *Config) MQTTOptions() mqtt.Options {
	m := c.MQTT
	o := c.mqttTuning()
	o.Broker, o.ClientID, o.Topic, o.OEETopic, o.EventTopic = m.Broker, m.ClientID, m.Topic, m.OEETopic, m.EventTopic
	o.Username, o.Password = m.Username, m.Password
	o.CAFile, o.CertFile, o.KeyFile, o.InsecureSkipVerify = m.CAFile, m.CertFile, m.KeyFile, m.InsecureSkipVerify
	o.Protocol, o.SessionExpiry, o.ProbeTopic = m.Protocol, m.SessionExpiry.D(), m.ProbeTopic
	return o
}

// mqttTuning is what [iothub] keeps of [mqtt]: packing and the connection.
func (c *Config) mqttTuning() mqtt.Options {
	m := c.MQTT
	o := mqtt.Options{
		BridgeID:        c.Bridge.ID,
		MaxMessageBytes: m.MaxMessageBytes,
		MaxBatchDelay:   m.MaxBatchDelay.D(),
		CycleGrace:      m.CycleGrace.D(),
		MaxInflight:     m.MaxInflight,
		Encoding:        m.Encoding,
		KeepAlive:       m.KeepAlive.D(),
		ConnectTimeout:  m.ConnectTimeout.D(),

		PublishingIntervals: c.publishingIntervals(),
	}
	if m.QoS != nil {
		qos := *m.QoS // a copy: the options do not alias the configuration
		o.QoS = &qos
	}
	return o
}

// publishingIntervals is each server's shortest publishing interval over
// its nodes: the publisher packs readings by publishing cycle.
func (c *Config) publishingIntervals() map[string]time.Duration {
	ivs := map[string]time.Duration{}
	for _, n := range c.Nodes("") {
		iv := n.Node.PublishingInterval.D()
		if old, ok := ivs[n.Server]; !ok || iv < old {
			ivs[n.Server] = iv
		}
	}
	return ivs
}

// IoTHubOptions translates [iothub] and [mqtt]'s tuning into the options of
// the IoT Hub publisher, with the identity resolved from the configured
// connection string or the IoT Edge runtime's environment, read through
// getenv. It does no I/O. The description names the identity and mode for
// the log, without secrets. The Queue and Logger of the options' MQTT, and
// Reporter and SetLogLevel, are the caller's to set.
func (c *Config) IoTHubOptions(getenv func(string) string) (iothub.Options, string, error) {
	h := c.IoTHub
	if h == nil {
		return iothub.Options{}, "", errors.New("iothub: no [iothub] table in the configuration")
	}
	mo := c.mqttTuning()
	mo.MaxMessagesPerSecond = h.MaxMessagesPerSecond
	o := iothub.Options{
		MQTT: mo, Port: h.Port, WebSocket: h.Transport == iotHubWebSocket, TokenLifetime: h.TokenLifetime.D(),
		CAFile: h.CAFile, CertFile: h.CertFile, KeyFile: h.KeyFile, Output: h.Output,
		ReportInterval: h.ReportInterval.D(), NoTwin: h.Twin != nil && !*h.Twin,
	}
	desc, err := o.Resolve(h.ConnectionString, h.Edge, getenv)
	return o, desc, err
}
