package iothub

import (
	"slices"
	"testing"
	"time"

	"factorybridge"
)

// TestDialectChanges: the settings a reload changes are named, and only
// where and as whom the bridge connects, with what credentials and roots,
// need a new connection.
func TestDialectChanges(t *testing.T) {
	const otherKey = "c2Vjb25kIGtleSBvZiB0aGUgc2FtZSBkZXZpY2UgLi4u"
	resolve := func(t *testing.T, cs string, mutate func(*Options)) *dialect {
		t.Helper()
		o := Options{}
		if _, err := o.Resolve(factorybridge.Secret(cs), EdgeOff, func(string) string { return "" }); err != nil {
			t.Fatal(err)
		}
		o.MQTT.BridgeID = "b1"
		mutate(&o)
		d, err := newDialect(o)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	base := "HostName=hub.azure-devices.net;DeviceId=press-1;SharedAccessKey=" + testKey
	tests := []struct {
		name      string
		cs        string
		mutate    func(*Options)
		want      []string
		reconnect bool
	}{
		{"the same, resolved again", base, func(*Options) {}, nil, false},
		{"output and report interval", base, func(o *Options) { o.Output, o.ReportInterval = "alerts", time.Hour },
			[]string{"output", "report_interval"}, false},
		{"twin and token lifetime", base, func(o *Options) { o.NoTwin, o.TokenLifetime = true, 30*time.Minute },
			[]string{"token_lifetime", "twin"}, false},
		{"a new key", "HostName=hub.azure-devices.net;DeviceId=press-1;SharedAccessKey=" + otherKey, func(*Options) {},
			[]string{"credentials"}, true},
		{"another device", "HostName=hub.azure-devices.net;DeviceId=press-2;SharedAccessKey=" + testKey, func(*Options) {},
			[]string{"identity"}, true},
		{"a gateway", base + ";GatewayHostName=edge.local", func(*Options) {}, []string{"host"}, true},
		{"websockets", base, func(o *Options) { o.WebSocket = true }, []string{"port", "transport"}, true},
		{"roots", base, func(o *Options) { o.CAFile = "ca.pem" }, []string{"ca_file"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cur, next := resolve(t, base, func(*Options) {}), resolve(t, tt.cs, tt.mutate)
			names, reconnect := cur.Changes(next)
			if !slices.Equal(names, tt.want) || reconnect != tt.reconnect {
				t.Fatalf("Changes = %q, reconnect %v; want %q, %v", names, reconnect, tt.want, tt.reconnect)
			}
		})
	}
}

// TestInheritKeepsMeters: a dialect built for an update goes on counting
// the billable units, and forgets the hub's tier only with another hub or
// twin setting.
func TestInheritKeepsMeters(t *testing.T) {
	o := Options{Identity: Identity{HostName: "hub", DeviceID: "d"}, Token: "SharedAccessSignature sr=x"}
	prev, err := newDialect(o)
	if err != nil {
		t.Fatal(err)
	}
	prev.billing.add(7, time.Now())
	for _, tc := range []struct {
		name     string
		mutate   func(*Options)
		sameTier bool
	}{
		{"same hub", func(*Options) {}, true},
		{"twin off", func(o *Options) { o.NoTwin = true }, false},
		{"another hub", func(o *Options) { o.Identity.HostName = "hub2" }, false},
	} {
		n := o
		tc.mutate(&n)
		d, err := newDialect(n)
		if err != nil {
			t.Fatal(err)
		}
		d.inherit(prev)
		if total, _ := d.billing.read(time.Now()); total != 7 || d.metaIDs != prev.metaIDs {
			t.Errorf("%s: billable units %d after inherit, meta ids shared %v", tc.name, total, d.metaIDs == prev.metaIDs)
		}
		if (d.tier == prev.tier) != tc.sameTier {
			t.Errorf("%s: tier shared %v, want %v", tc.name, d.tier == prev.tier, tc.sameTier)
		}
	}
}
