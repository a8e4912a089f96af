package config

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"factorybridge"
	"factorybridge/publisher/iothub"
	"factorybridge/publisher/mqtt"
	"factorybridge/publisher/wire"
)

// nopQueue is a Queue for building publishers, which read nothing until Run.
type nopQueue struct{}

func (nopQueue) ReadAfter(ctx context.Context, _ []factorybridge.Reading, _ uint64, _ int) ([]factorybridge.Reading, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func (nopQueue) Ack(uint64) error { return nil }

func intPtr(i int) *int { return &i }

func TestMQTTOptions(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(c *Config)
		want   mqtt.Options
	}{
		{"defaults", func(*Config) {}, mqtt.Options{
			BridgeID: "b1", Broker: "tcp://127.0.0.1:1883", ClientID: "factorybridge-b1",
			Topic: DefaultTopic, OEETopic: DefaultOEETopic, EventTopic: DefaultEventTopic, QoS: intPtr(1),
			MaxMessageBytes: 256 << 10, MaxBatchDelay: time.Second, CycleGrace: 150 * time.Millisecond, MaxInflight: 32,
			Encoding: "compact", KeepAlive: 30 * time.Second, ConnectTimeout: 10 * time.Second,
			Protocol: "auto", SessionExpiry: 10 * time.Minute, ProbeTopic: "factorybridge/{bridge}/probe",
			PublishingIntervals: map[string]time.Duration{"plc": time.Second},
		}},
		{"every setting", func(c *Config) {
			m := &c.MQTT
			m.Broker, m.ClientID, m.Topic, m.OEETopic, m.EventTopic = "ssl://broker:8883", "me", "t/{line}", "o/{line}", "e/{line}"
			m.QoS, m.Username, m.Password = intPtr(0), "bridge", "pw"
			m.CAFile, m.CertFile, m.KeyFile, m.InsecureSkipVerify = "ca.pem", "c.pem", "k.pem", true
			m.MaxMessageBytes, m.MaxBatchDelay, m.CycleGrace, m.MaxInflight = 4096, Duration(time.Second), Duration(time.Millisecond), 5
			addServer(c)
			c.Lines[0].Stations = append(c.Lines[0].Stations, Station{Name: "st2", Server: "plc2", Nodes: []Node{{Name: "n3", ID: "ns=2;i=8"}}})
			node(c).PublishingInterval, c.Servers[1].PublishingInterval = Duration(200*time.Millisecond), Duration(5*time.Second)
			m.Encoding, m.KeepAlive, m.ConnectTimeout = "flat", Duration(time.Minute), Duration(3*time.Second)
			m.Protocol, m.SessionExpiry, m.ProbeTopic = "3.1.1", Duration(time.Hour), "p/{bridge}"
		}, mqtt.Options{
			BridgeID: "b1", Broker: "ssl://broker:8883", ClientID: "me", Topic: "t/{line}", OEETopic: "o/{line}", EventTopic: "e/{line}",
			QoS: intPtr(0), Username: "bridge", Password: "pw",
			CAFile: "ca.pem", CertFile: "c.pem", KeyFile: "k.pem", InsecureSkipVerify: true,
			MaxMessageBytes: 4096, MaxBatchDelay: time.Second, CycleGrace: time.Millisecond, MaxInflight: 5,
			Encoding: "flat", KeepAlive: time.Minute, ConnectTimeout: 3 * time.Second,
			Protocol: "3.1.1", SessionExpiry: time.Hour, ProbeTopic: "p/{bridge}",
			// plc: the shortest of its nodes' intervals
			PublishingIntervals: map[string]time.Duration{"plc": 200 * time.Millisecond, "plc2": 5 * time.Second},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			tc.mutate(c)
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
			got := c.MQTTOptions()
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
			if got.QoS == c.MQTT.QoS {
				t.Error("the options alias the configuration's QoS")
			}
			got.Queue = nopQueue{}
			if _, err := mqtt.New(got); err != nil {
				t.Errorf("mqtt.New refuses the options of a valid configuration: %v", err)
			}
		})
	}
}

const hubCS = "HostName=h.azure-devices.net;DeviceId=d1;SharedAccessKey=" + exampleKey

func TestIoTHubOptions(t *testing.T) {
	edgeEnv := map[string]string{
		"IOTEDGE_WORKLOADURI": "unix:///var/run/iotedge/workload.sock", "IOTEDGE_IOTHUBHOSTNAME": "h.azure-devices.net",
		"IOTEDGE_GATEWAYHOSTNAME": "edgehub", "IOTEDGE_DEVICEID": "e1", "IOTEDGE_MODULEID": "fb",
		"IOTEDGE_MODULEGENERATIONID": "g1", "IOTEDGE_AUTHSCHEME": "sasToken",
	}
	for _, tc := range []struct {
		name     string
		mutate   func(c *Config)
		env      map[string]string
		clientID string
		check    func(t *testing.T, o iothub.Options)
		wantErr  string
	}{
		{name: "device key", mutate: func(*Config) {}, clientID: "d1", check: func(t *testing.T, o iothub.Options) {
			m := o.MQTT
			if m.BridgeID != "b1" || *m.QoS != 1 || m.MaxMessageBytes != iothub.MaxPayloadBytes || m.Encoding != "compact" ||
				m.MaxBatchDelay != DefaultMaxBatchDelay || m.Broker != "" || m.Topic != "" || o.WebSocket || o.Signer == nil {
				t.Errorf("options %+v", o)
			}
			if o.NoTwin {
				t.Error("twin off by default")
			}
			if o.TokenLifetime != iothub.DefaultTokenLifetime || o.ReportInterval != iothub.DefaultReportInterval || o.Output != iothub.DefaultOutput {
				t.Errorf("hub defaults %v %v %q", o.TokenLifetime, o.ReportInterval, o.Output)
			}
		}},
		{name: "every setting", mutate: func(c *Config) {
			h := c.IoTHub
			h.Transport, h.Port, h.TokenLifetime, h.Output = "websocket", 8443, Duration(time.Hour), "out"
			h.MaxMessagesPerSecond, h.ReportInterval, h.CAFile = 15, Duration(time.Second), "ca.pem"
			c.MQTT.MaxMessageBytes, c.MQTT.MaxInflight = 8192, 4
			twin := false
			h.Twin = &twin
		}, clientID: "d1", check: func(t *testing.T, o iothub.Options) {
			if !o.NoTwin {
				t.Error("twin = false not translated")
			}
			if !o.WebSocket || o.Port != 8443 || o.TokenLifetime != time.Hour || o.Output != "out" || o.CAFile != "ca.pem" ||
				o.ReportInterval != time.Second || o.MQTT.MaxMessagesPerSecond != 15 || o.MQTT.MaxMessageBytes != 8192 || o.MQTT.MaxInflight != 4 {
				t.Errorf("options %+v", o)
			}
		}},
		{name: "edge module", mutate: func(c *Config) {
			c.IoTHub.ConnectionStringEnv, c.IoTHub.ConnectionString, c.IoTHub.Edge = "", "", "on"
		}, env: edgeEnv, clientID: "e1/fb", check: func(t *testing.T, o iothub.Options) {
			if o.Host != "edgehub" || o.TrustBundle == nil {
				t.Errorf("module options %+v", o)
			}
		}},
		{name: "x509 without a certificate", mutate: func(c *Config) {
			c.IoTHub.ConnectionString = "HostName=h;DeviceId=d;x509=true"
		}, wantErr: "set iothub.cert_file"},
		{name: "no [iothub]", mutate: func(c *Config) { c.IoTHub = nil }, wantErr: "no [iothub]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			toHub(c)
			c.IoTHub.ConnectionString = hubCS
			tc.mutate(c)
			o, desc, err := c.IoTHubOptions(func(k string) string { return tc.env[k] })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
			if o.Identity.ClientID() != tc.clientID || strings.Contains(desc, exampleKey) {
				t.Errorf("identity %q (%s), want %q", o.Identity.ClientID(), desc, tc.clientID)
			}
			tc.check(t, o)
			o.MQTT.Queue = nopQueue{}
			if _, err := iothub.New(o); err != nil {
				t.Errorf("iothub.New refuses the options of a valid configuration: %v", err)
			}
		})
	}
}

// TestExampleConfigsMakePublishers translates every file in configs/ into
// its publisher's options, which the publisher accepts.
func TestExampleConfigsMakePublishers(t *testing.T) {
	setExampleEnv(t)
	edge := map[string]string{
		"IOTEDGE_WORKLOADURI": "unix:///var/run/iotedge/workload.sock", "IOTEDGE_IOTHUBHOSTNAME": "h.azure-devices.net",
		"IOTEDGE_GATEWAYHOSTNAME": "edgehub", "IOTEDGE_DEVICEID": "e1", "IOTEDGE_MODULEID": "fb",
		"IOTEDGE_MODULEGENERATIONID": "g1",
	}
	for _, file := range exampleFiles(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			c, err := Load(file)
			if err != nil {
				t.Fatal(err)
			}
			if c.IoTHub == nil {
				o := c.MQTTOptions()
				o.Queue = nopQueue{}
				if _, err := mqtt.New(o); err != nil {
					t.Errorf("mqtt.New: %v", err)
				}
				return
			}
			o, _, err := c.IoTHubOptions(func(k string) string { return edge[k] })
			if err != nil {
				t.Fatal(err)
			}
			o.MQTT.Queue = nopQueue{}
			if _, err := iothub.New(o); err != nil {
				t.Errorf("iothub.New: %v", err)
			}
		})
	}
}

// TestPublisherDefaultsAgree: the schema's defaults of [mqtt] are the MQTT
// publisher's, so that a zero option and an omitted key mean the same.
func TestPublisherDefaultsAgree(t *testing.T) {
	for _, tc := range []struct {
		name      string
		got, want any
	}{
		{"topic", DefaultTopic, mqtt.DefaultTopic},
		{"oee_topic", DefaultOEETopic, mqtt.DefaultOEETopic},
		{"qos", DefaultQoS, mqtt.DefaultQoS},
		{"max_message_bytes", DefaultMaxMessageBytes, mqtt.DefaultMaxMessageBytes},
		{"max_batch_delay", DefaultMaxBatchDelay, mqtt.DefaultMaxBatchDelay},
		{"cycle_grace", DefaultCycleGrace, mqtt.DefaultCycleGrace},
		{"max_inflight", DefaultMaxInflight, mqtt.DefaultMaxInflight},
		{"keep_alive", DefaultKeepAlive, mqtt.DefaultKeepAlive},
		{"connect_timeout", DefaultConnectTimeout, mqtt.DefaultConnectTimeout},
		{"encoding", DefaultEncoding, mqtt.DefaultEncoding},
	} {
		if tc.got != tc.want {
			t.Errorf("mqtt.%s: config's default %v, the publisher's %v", tc.name, tc.got, tc.want)
		}
	}
}

// TestMessageSizeLimits: validation allows exactly the message sizes the
// publishers accept, at both ends and under [iothub].
func TestMessageSizeLimits(t *testing.T) {
	for _, tc := range []struct {
		name  string
		hub   bool
		bytes int
		ok    bool
	}{
		{"the wire minimum", false, wire.MinMessageBytes, true},
		{"below it", false, wire.MinMessageBytes - 1, false},
		{"MQTT's maximum", false, mqtt.MaxMessageBytesLimit, true},
		{"above it", false, mqtt.MaxMessageBytesLimit + 1, false},
		{"hub: the wire minimum", true, wire.MinMessageBytes, true},
		{"hub: below it", true, wire.MinMessageBytes - 1, false},
		{"hub: its limit", true, iothub.MaxPayloadBytes, true},
		{"hub: above it", true, iothub.MaxPayloadBytes + 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			if tc.hub {
				toHub(c)
				c.IoTHub.ConnectionString = hubCS
			}
			c.MQTT.MaxMessageBytes = tc.bytes
			err := c.Validate()
			if got := !hasProblem(err, "mqtt.max_message_bytes", ""); got != tc.ok {
				t.Fatalf("%d bytes valid %v, want %v: %v", tc.bytes, got, tc.ok, err)
			}
			if got := newPublisher(t, c) == nil; got != tc.ok {
				t.Errorf("%d bytes accepted by the publisher %v, want %v", tc.bytes, got, tc.ok)
			}
		})
	}
}

// newPublisher builds c's publisher and returns New's error.
func newPublisher(t *testing.T, c *Config) error {
	t.Helper()
	if c.IoTHub == nil {
		o := c.MQTTOptions()
		o.Queue = nopQueue{}
		_, err := mqtt.New(o)
		return err
	}
	o, _, err := c.IoTHubOptions(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	o.MQTT.Queue = nopQueue{}
	_, err = iothub.New(o)
	return err
}
