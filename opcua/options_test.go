package opcua

import "testing"

// TestEnumeratedSettings: every value the enumerations list (which config
// validates against) is one New accepts, and a value outside them is not.
func TestEnumeratedSettings(t *testing.T) {
	sink := &recordSink{}
	try := func(edit func(*Options)) error {
		o := testServer("s", "opc.tcp://127.0.0.1:4840", "ns=1;s=x")
		o.Sink = sink
		edit(&o)
		_, err := New(o)
		return err
	}
	for _, p := range SecurityPolicies {
		if err := try(func(o *Options) { o.SecurityPolicy, o.SecurityMode = p, Auto }); err != nil {
			t.Errorf("policy %s: %v", p, err)
		}
	}
	for _, m := range SecurityModes {
		if err := try(func(o *Options) { o.SecurityPolicy, o.SecurityMode = Auto, m }); err != nil {
			t.Errorf("mode %s: %v", m, err)
		}
	}
	for _, a := range AuthMethods {
		if err := try(func(o *Options) { o.Auth, o.Username, o.UserCertificate, o.UserKey = a, "u", "c.pem", "k.pem" }); err != nil {
			t.Errorf("auth %s: %v", a, err)
		}
	}
	for _, tr := range Triggers {
		for _, d := range Deadbands {
			if err := try(func(o *Options) { o.Nodes[0].Trigger, o.Nodes[0].Deadband = tr, d }); err != nil {
				t.Errorf("trigger %s, deadband %s: %v", tr, d, err)
			}
		}
	}
	for _, ts := range TimestampChoices {
		for _, c := range ClockCorrections {
			if err := try(func(o *Options) { o.Clock.Timestamps, o.Clock.Correction = ts, c }); err != nil {
				t.Errorf("timestamps %s, clock correction %s: %v", ts, c, err)
			}
		}
	}
	for name, edit := range map[string]func(*Options){
		"timestamps": func(o *Options) { o.Clock.Timestamps = "plc" },
		"correction": func(o *Options) { o.Clock.Correction = "on" },
		"policy":     func(o *Options) { o.SecurityPolicy = "Basic512" },
		"mode":       func(o *Options) { o.SecurityMode = "Encrypt" },
		"auth":       func(o *Options) { o.Auth = "kerberos" },
		"trigger":    func(o *Options) { o.Nodes[0].Trigger = "value" },
		"deadband":   func(o *Options) { o.Nodes[0].Deadband = "relative" },
	} {
		if try(edit) == nil {
			t.Errorf("an unknown %s was accepted", name)
		}
	}
}
