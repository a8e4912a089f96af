package demo

import (
	"time"

	"factorybridge/config"
)

// Demo configuration values.
const (
	// DemoServerName names the simulator's [[servers]] entry.
	DemoServerName = "simulator"
	// demoPublishingInterval is shorter than the default (1 s) because
	// gopcua's server sends only the latest value per item and publishing
	// interval; statuses last 0.4 s at DefaultSpeed and should all be seen.
	demoPublishingInterval = 200 * time.Millisecond
	demoQueueSize          = 10
	demoRequestTimeout     = 5 * time.Second
	demoBufferMaxBytes     = 64 << 20 // a demo needs no 1 GiB default
	// demoOEEInterval makes the summary's OEE figures move while one watches.
	demoOEEInterval = 2 * time.Second
)

// Config returns the bridge configuration for the demo line: bridge "demo"
// at site "demo", one server at endpoint, line "line1" with the stations
// assembly, test and packaging, and every station variable as a node, named
// after the variable and addressed by namespace URI (nsu=…;s=<station>.<var>)
// so the namespace index needs no guessing. The buffer lives in dataDir.
//
// The simulator server's publishing and sampling intervals, queue size and
// request timeout are demo values; everything else comes from
// config.ApplyDefaults, which Config has already called.
func Config(endpoint, brokerURL, dataDir string) *config.Config {
	cfg := &config.Config{
		Bridge: config.Bridge{ID: "demo", Site: "demo", DataDir: dataDir},
		Buffer: config.Buffer{MaxBytes: demoBufferMaxBytes},
		MQTT:   config.MQTT{Broker: brokerURL},
		Servers: []config.Server{{
			Name:               DemoServerName,
			Endpoint:           endpoint,
			SecurityPolicy:     "None",
			SecurityMode:       "None",
			Auth:               "anonymous",
			PublishingInterval: config.Duration(demoPublishingInterval),
			SamplingInterval:   config.Duration(demoPublishingInterval),
			QueueSize:          demoQueueSize,
			RequestTimeout:     config.Duration(demoRequestTimeout),
		}},
		Lines: []config.Line{{Name: "line1", Stations: demoStations(),
			OEE: &config.LineOEE{Interval: config.Duration(demoOEEInterval)}}}, // 24/7: no calendar
	}
	cfg.ApplyDefaults()
	return cfg
}

func demoStations() []config.Station {
	var stations []config.Station
	for _, name := range Stations() {
		st := config.Station{Name: name, Server: DemoServerName, OEE: demoStationOEE()}
		for _, v := range Variables(name) {
			st.Nodes = append(st.Nodes, config.Node{
				Name: v,
				ID:   "nsu=" + NamespaceURI + ";s=" + NodeID(name, v),
			})
		}
		stations = append(stations, st)
	}
	return stations
}

// demoStationOEE computes a station's OEE from its Connected Factory
// variables; the ideal cycle time comes from the IdealCycleTime node.
func demoStationOEE() *config.StationOEE {
	return &config.StationOEE{
		Preset:   "connected-factory",
		TimeUnit: "ms",
		Roles: config.Roles{State: VarStatus, GoodCount: VarManufactured, RejectCount: VarDiscarded,
			IdealCycleTime: VarIdealCycle, ActualCycleTime: VarActualCycle, FaultTime: VarFaultyTime, Energy: VarEnergy},
	}
}
