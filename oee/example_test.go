package oee_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	fb "factorybridge"
	"factorybridge/config"
	"factorybridge/oee"
)

// The bridge feeds every committed reading to Observe, connection changes
// to Disconnected and Connected, and calls Tick with its clock.
func Example() {
	cfg, err := config.Parse("example.toml", []byte(`
bridge.id = "b"
mqtt.broker = "tcp://127.0.0.1:1883"
servers = [{ name = "plc", endpoint = "opc.tcp://127.0.0.1:4840" }]
[[lines]]
name = "l"
[[lines.stations]]
name = "s"
nodes = [{ name = "Status", id = "i=1" }, { name = "Count", id = "i=2" }]
oee = { preset = "connected-factory", ideal_cycle_time = "1s", roles = { state = "Status", total_count = "Count" } }
`), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	e, err := oee.New(cfg.OEEOptions())
	if err != nil {
		fmt.Println(err)
		return
	}
	t0 := time.Date(2024, 3, 4, 0, 0, 0, 0, time.UTC)
	for i, v := range []uint64{0, 1800, 3600} { // 30 parts a minute for two hours
		r := fb.Reading{Name: "l/s/Count", Value: fb.UintValue(fb.TypeUInt64, v), SourceTime: t0.Add(time.Duration(i) * time.Hour)}
		if i == 0 {
			s := fb.Reading{Name: "l/s/Status", Value: fb.UintValue(fb.TypeUInt32, 1), SourceTime: t0}
			e.Observe(&s)
		}
		e.Observe(&r)
	}
	for _, r := range e.Tick(t0.Add(2*time.Hour), nil) {
		if r.Kind == oee.KindHour && r.Station == "" {
			fmt.Printf("%s %s A %.2f P %.2f total %d\n", r.Kind, r.Start.Format("15:04"), r.Availability.Value, r.Performance.Value, r.Total)
		}
	}
	// Output:
	// hour 00:00 A 1.00 P 0.00 total 0
	// hour 01:00 A 1.00 P 0.50 total 1800
}

// TestExampleConfigs builds an engine from every file in configs/.
func TestExampleConfigs(t *testing.T) {
	// Every variable is set: passwords to "x", connection strings to one
	// that parses (config checks them).
	anyVar := func(name string) (string, bool) {
		if strings.HasSuffix(name, "CONNECTION_STRING") {
			return "HostName=h.azure-devices.net;DeviceId=d;SharedAccessKey=eA==", true
		}
		return "x", true
	}
	files, _ := filepath.Glob("../configs/*.toml")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c, err := config.Parse(f, data, anyVar)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if _, err := oee.New(c.OEEOptions()); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}
