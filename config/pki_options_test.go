package config

import (
	"testing"

	"factorybridge/pki"
)

func TestVerifier(t *testing.T) {
	c := validConfig()
	c.Bridge.PKIDir, c.Bridge.AllowMissingCRL = "/var/lib/fb/pki", true
	c.Servers[0].Endpoint, c.Servers[0].TrustOnFirstUse = "opc.tcp://plc7.plant:4840/UA", true
	addServer(c)
	c.Servers[1].HostNameCheck = pki.HostNameWarn
	v, ok := c.Verifier("plc")
	if !ok {
		t.Fatal("no verifier for plc")
	}
	if v.Store.Dir != "/var/lib/fb/pki" || v.Server != "plc" || v.Host != "plc7.plant" || v.WarnHostName ||
		!v.AllowMissingCRL || !v.TrustOnFirstUse {
		t.Errorf("Verifier(plc) = %+v, want the pki dir, server plc, host plc7.plant, refusing other hosts, allowing a missing CRL, trust on first use", v)
	}
	if v2, _ := c.Verifier("plc2"); !v2.WarnHostName || v2.TrustOnFirstUse || v2.Host != "10.0.0.2" {
		t.Errorf("Verifier(plc2) = %+v, want host 10.0.0.2, warn on host names, no trust on first use", v2)
	}
	if _, ok := c.Verifier("nope"); ok {
		t.Error("a verifier for an unknown server")
	}
	if c.Servers[0].HostNameCheck != pki.HostNameRefuse {
		t.Errorf("host_name_check default %q, want %q", c.Servers[0].HostNameCheck, pki.HostNameRefuse)
	}
}
