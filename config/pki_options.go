package config

import (
	"net/url"

	"factorybridge/pki"
)

// Verifier returns the certificate verifier of the server named server:
// its trust settings and the host of its endpoint, which the server's
// certificate must name; ok is false when no server has that name. Call it
// on a config whose defaults have been applied. The Logger is the
// runtime's to set.
func (c *Config) Verifier(server string) (v *pki.Verifier, ok bool) {
	i := c.serverIndex(server)
	if i < 0 {
		return nil, false
	}
	s := &c.Servers[i]
	v = &pki.Verifier{
		Store:           pki.Store{Dir: c.Bridge.PKIDir},
		Server:          s.Name,
		WarnHostName:    s.HostNameCheck == pki.HostNameWarn,
		AllowMissingCRL: c.Bridge.AllowMissingCRL,
		TrustOnFirstUse: s.TrustOnFirstUse,
	}
	if u, err := url.Parse(s.Endpoint); err == nil {
		v.Host = u.Hostname()
	}
	return v, true
}
