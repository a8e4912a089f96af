package iothub

import (
	"crypto/hmac"

	"factorybridge/publisher/mqtt"
)

// inherit makes d, built for an update, continue prev's meters: the
// billable units and the ids of messages without readings go on counting,
// and what was learned of the hub's tier holds while the hub and the twin
// setting stay.
func (d *dialect) inherit(prev *dialect) {
	d.billing, d.metaIDs = prev.billing, prev.metaIDs
	if d.Identity.HostName == prev.Identity.HostName && d.NoTwin == prev.NoTwin {
		d.tier = prev.tier
	}
}

// Changes names the settings that differ in next (config keys, never
// values). Where and as whom to connect, and with which credentials and
// roots, need a new connection; the rest applies to the next messages
// (output) or the next connection (twin, report interval, token lifetime:
// a connection's methods and twin are served by the dialect it started
// with, and its token was minted already).
func (d *dialect) Changes(next mqtt.Dialect) ([]string, bool) {
	n, ok := next.(*dialect)
	if !ok {
		return []string{"dialect"}, true
	}
	var c changes
	c.add("identity", d.Identity != n.Identity, true)
	c.add("host", d.Host != n.Host, true)
	c.add("port", d.Port != n.Port, true)
	c.add("transport", d.WebSocket != n.WebSocket, true)
	c.add("credentials", !sameCredentials(&d.Options, &n.Options), true)
	c.add("ca_file", d.CAFile != n.CAFile, true)
	c.add("edge_ca_file", d.EdgeCAFile != n.EdgeCAFile, true)
	c.add("cert_file", d.CertFile != n.CertFile, true)
	c.add("key_file", d.KeyFile != n.KeyFile, true)
	c.add("output", d.Output != n.Output, false)
	c.add("token_lifetime", d.TokenLifetime != n.TokenLifetime, false)
	c.add("twin", d.NoTwin != n.NoTwin, false)
	c.add("report_interval", d.ReportInterval != n.ReportInterval, false)
	return c.names, c.reconnect
}

// changes collects the names of changed settings.
type changes struct {
	names     []string
	reconnect bool
}

func (c *changes) add(name string, differs, reconnect bool) {
	if differs {
		c.names = append(c.names, name)
		c.reconnect = c.reconnect || reconnect
	}
}

// sameCredentials reports whether a and b authenticate alike: the same
// token, the same key or workload, and IoT Edge's trust bundle in both or
// neither.
func sameCredentials(a, b *Options) bool {
	return a.Token == b.Token && sameSigner(a.Signer, b.Signer) && (a.TrustBundle == nil) == (b.TrustBundle == nil)
}

// sameSigner compares signers by what they sign with: the key, or the
// module the workload API signs for. Signers of other types are the same
// only when they are one.
func sameSigner(a, b Signer) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case *KeySigner:
		y, ok := b.(*KeySigner)
		return ok && hmac.Equal(x.key, y.key)
	case *Workload:
		y, ok := b.(*Workload)
		return ok && x.edge == y.edge
	}
	return a == b
}
