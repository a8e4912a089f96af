package config

import (
	"reflect"
	"testing"
	"time"

	"factorybridge/oee"
)

// oeeHeader is what every OEEOptions case shares: a site (so reading names
// have four segments), two servers and a named calendar.
const oeeHeader = `
bridge = { id = "b", site = "munich" }
mqtt.broker = "tcp://127.0.0.1:1883"
servers = [
  { name = "plc1", endpoint = "opc.tcp://127.0.0.1:4840" },
  { name = "plc2", endpoint = "opc.tcp://127.0.0.1:4841" },
]
[[calendars]]
name = "two-shift"
zone = "Europe/Berlin"
shifts = [
  { name = "early", days = ["mon", "fri"], start = "06:00", end = "14:00" },
  { name = "late", start = "14:00", end = "22:00" },
]
breaks = [{ shift = "early", start = "09:00", end = "09:15" }]
planned_downtime = [{ days = ["sat"], start = "10:00", end = "11:00" }]
`

func TestOEEOptions(t *testing.T) {
	tests := []struct {
		name  string
		lines string
		want  []oee.Line
	}{
		{"preset, named calendar, roles and defaults", `
[[lines]]
name = "a"
[lines.oee]
calendar = "two-shift"
[[lines.stations]]
name = "press"
server = "plc2"
nodes = [{ name = "Status", id = "i=1" }, { name = "Count", id = "i=2" }, { name = "Temp", id = "i=3" }]
[lines.stations.oee]
preset = "connected-factory"
states = { excluded = [7], planned_stop = [8, 9] }
ideal_cycle_time = "1.5s"
roles = { state = "Status", total_count = "Count" }
[[lines.stations]]
name = "untracked"
server = "plc1"
nodes = [{ name = "X", id = "i=4" }]
`, []oee.Line{{
			Name: "a", Convention: oee.Nakajima, Output: "press", Window: oee.DefaultWindow,
			Interval: oee.DefaultInterval, Unknown: oee.UnknownExclude,
			Calendar: &oee.Calendar{Zone: "Europe/Berlin",
				Shifts: []oee.Shift{
					{Name: "early", Days: []time.Weekday{time.Monday, time.Friday}, Start: 6 * 60, End: 14 * 60},
					{Name: "late", Start: 14 * 60, End: 22 * 60},
				},
				Breaks:          []oee.TimeWindow{{Shift: "early", Start: 9 * 60, End: 9*60 + 15}},
				PlannedDowntime: []oee.TimeWindow{{Days: []time.Weekday{time.Saturday}, Start: 10 * 60, End: 11 * 60}},
			},
			Stations: []oee.Station{{
				Name: "press", Server: "plc2", Preset: oee.PresetConnectedFactory,
				States: map[int64]oee.Bucket{7: oee.BucketExcluded, 8: oee.BucketPlannedStop, 9: oee.BucketPlannedStop},
				Roles:  oee.Roles{State: "munich/a/press/Status", TotalCount: "munich/a/press/Count"},
				Counters: oee.Counters{GoodCount: oee.CounterUint64, TotalCount: oee.CounterUint64,
					RejectCount: oee.CounterUint64, FaultTime: oee.CounterUint64},
				IdealCycleTime: 1500 * time.Millisecond, TimeUnit: time.Second,
				SmallStop: oee.DefaultSmallStop, Plausibility: oee.DefaultPlausibility,
			}},
		}}},
		{"inline calendar and every setting written", `
[[lines]]
name = "b"
[lines.oee]
convention = "iso22400"
output = "first"
window = "15m"
interval = "30s"
unknown = "unplanned_stop"
shifts = [{ name = "night", start = "22:00", end = "06:00" }]
breaks = [{ start = "02:00", end = "02:30" }]
[[lines.stations]]
name = "first"
server = "plc1"
nodes = [{ name = "State", id = "i=1" }, { name = "Good", id = "i=2" }, { name = "Bad", id = "i=3" },
  { name = "Product", id = "i=4" }, { name = "Cycle", id = "i=5" }, { name = "Reason", id = "i=8" }]
[lines.stations.oee]
preset = "packml"
time_unit = "ms"
small_stop = "0s"
plausibility = 3.5
startup = "3m"
counters = { good_count = "int16", reject_count = "uint32" }
products = [{ id = "A-100", ideal_cycle_time = "2s" }, { id = "7", ideal_cycle_time = "500ms" }]
reasons = [{ code = "17", name = "feeder jam", loss = "breakdown" }, { code = "21", loss = "material_shortage" }, { code = "5" }]
roles = { state = "State", good_count = "Good", reject_count = "Bad", product = "Product", actual_cycle_time = "Cycle",
  stop_reason = "Reason" }
[[lines.stations]]
name = "second"
server = "plc1"
nodes = [{ name = "Count", id = "i=6" }, { name = "Fault", id = "i=7" }]
oee = { ideal_cycle_time = "1s", roles = { total_count = "Count", fault_time = "Fault" } }
`, []oee.Line{{
			Name: "b", Convention: oee.ISO22400, Output: "first", Window: 15 * time.Minute,
			Interval: 30 * time.Second, Unknown: oee.UnknownUnplannedStop,
			Calendar: &oee.Calendar{Zone: "UTC",
				Shifts: []oee.Shift{{Name: "night", Start: 22 * 60, End: 6 * 60}},
				Breaks: []oee.TimeWindow{{Start: 2 * 60, End: 2*60 + 30}},
			},
			Stations: []oee.Station{{
				Name: "first", Server: "plc1", Preset: oee.PresetPackML,
				Roles: oee.Roles{State: "munich/b/first/State", GoodCount: "munich/b/first/Good",
					RejectCount: "munich/b/first/Bad", Product: "munich/b/first/Product",
					ActualCycleTime: "munich/b/first/Cycle", StopReason: "munich/b/first/Reason"},
				Counters: oee.Counters{GoodCount: oee.CounterInt16, TotalCount: oee.CounterUint64,
					RejectCount: oee.CounterUint32, FaultTime: oee.CounterUint64},
				Products: map[string]time.Duration{"A-100": 2 * time.Second, "7": 500 * time.Millisecond},
				TimeUnit: time.Millisecond, SmallStop: 0, Plausibility: 3.5,
				Reasons: map[string]oee.Reason{"17": {Name: "feeder jam", Loss: oee.LossBreakdown},
					"21": {Loss: oee.LossMaterialShortage}, "5": {}},
				Startup: 3 * time.Minute,
			}, {
				Name: "second", Server: "plc1",
				Roles: oee.Roles{TotalCount: "munich/b/second/Count", FaultTime: "munich/b/second/Fault"},
				Counters: oee.Counters{GoodCount: oee.CounterUint64, TotalCount: oee.CounterUint64,
					RejectCount: oee.CounterUint64, FaultTime: oee.CounterUint64},
				IdealCycleTime: time.Second, TimeUnit: time.Second,
				SmallStop: oee.DefaultSmallStop, Plausibility: oee.DefaultPlausibility,
			}},
		}}},
		{"no calendar, and a line without OEE left out", `
[[lines]]
name = "plain"
[[lines.stations]]
name = "s"
server = "plc1"
nodes = [{ name = "X", id = "i=1" }]
[[lines]]
name = "c"
[[lines.stations]]
name = "s"
server = "plc1"
nodes = [{ name = "Count", id = "i=2" }, { name = "Fault", id = "i=3" }]
oee = { ideal_cycle_time = "1s", roles = { good_count = "Count", fault_time = "Fault" } }
`, []oee.Line{{
			Name: "c", Convention: oee.Nakajima, Output: "s", Window: oee.DefaultWindow,
			Interval: oee.DefaultInterval, Unknown: oee.UnknownExclude,
			Stations: []oee.Station{{
				Name: "s", Server: "plc1",
				Roles: oee.Roles{GoodCount: "munich/c/s/Count", FaultTime: "munich/c/s/Fault"},
				Counters: oee.Counters{GoodCount: oee.CounterUint64, TotalCount: oee.CounterUint64,
					RejectCount: oee.CounterUint64, FaultTime: oee.CounterUint64},
				IdealCycleTime: time.Second, TimeUnit: time.Second,
				SmallStop: oee.DefaultSmallStop, Plausibility: oee.DefaultPlausibility,
			}},
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("oee.toml", []byte(oeeHeader+tt.lines), noEnv)
			if err != nil {
				t.Fatal(err)
			}
			got := c.OEEOptions()
			if !reflect.DeepEqual(got.Lines, tt.want) {
				t.Errorf("OEEOptions().Lines =\n%+v\nwant\n%+v", got.Lines, tt.want)
			}
			if _, err := oee.New(got); err != nil {
				t.Errorf("oee.New(OEEOptions()) = %v", err)
			}
		})
	}
}
