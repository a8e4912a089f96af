package pki

import (
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"net"
	"net/url"
	"slices"
	"time"
)

// The values of a server's host_name_check setting: what a certificate
// that does not name the endpoint's host gets (Verifier.WarnHostName).
const (
	HostNameRefuse = "refuse"
	HostNameWarn   = "warn"
)

// HostNameChecks are the valid host_name_check values, the default first.
var HostNameChecks = []string{HostNameRefuse, HostNameWarn}

// MinKeyBits is the least RSA key size of a server certificate and its
// issuers: OPC UA's current security policies need 2048 bits.
const MinKeyBits = 2048

// weakSignatures are the signature algorithms no current policy allows.
var weakSignatures = []x509.SignatureAlgorithm{
	x509.MD2WithRSA, x509.MD5WithRSA, x509.SHA1WithRSA, x509.DSAWithSHA1, x509.ECDSAWithSHA1,
}

// checkLeaf applies the checks of the server's own certificate that hold
// whatever the trust list says, in the order of §6.1.3.
func (v *Verifier) checkLeaf(c *x509.Certificate, serverURI string) error {
	for _, check := range []func() error{
		func() error { return checkKey(c) },
		func() error { return v.checkTime(c) },
		func() error { return v.checkHost(c) },
		func() error { return checkURI(c, serverURI) },
		func() error { return checkUsage(c) },
	} {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

// checkKey is the security policy check: no SHA-1 (or weaker) signature,
// an RSA key of at least MinKeyBits.
func checkKey(c *x509.Certificate) error {
	if slices.Contains(weakSignatures, c.SignatureAlgorithm) {
		return fmt.Errorf("%w: %s is signed with %s, which no current security policy allows", ErrPolicyCheckFailed, describe(c), c.SignatureAlgorithm)
	}
	k, ok := c.PublicKey.(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("%w: %s has a %T key; OPC UA's RSA security policies need an RSA key", ErrPolicyCheckFailed, describe(c), c.PublicKey)
	}
	if n := k.N.BitLen(); n < MinKeyBits {
		return fmt.Errorf("%w: %s has a %d-bit RSA key; the least is %d", ErrPolicyCheckFailed, describe(c), n, MinKeyBits)
	}
	return nil
}

func (v *Verifier) checkTime(c *x509.Certificate) error {
	switch now := v.now(); {
	case now.After(c.NotAfter):
		return fmt.Errorf("%w: %s expired on %s", ErrTimeInvalid, describe(c), c.NotAfter.UTC().Format(time.RFC3339))
	case now.Before(c.NotBefore):
		return fmt.Errorf("%w: %s is not valid before %s", ErrTimeInvalid, describe(c), c.NotBefore.UTC().Format(time.RFC3339))
	}
	return nil
}

// checkHost checks that the certificate names the endpoint's host (a DNS
// name, wildcards allowed, or an IP address), as §5.6.2 asks of a client;
// with WarnHostName a mismatch is logged instead.
func (v *Verifier) checkHost(c *x509.Certificate) error {
	if v.Host == "" || c.VerifyHostname(v.Host) == nil {
		return nil
	}
	names := append(slices.Clone(c.DNSNames), ipStrings(c.IPAddresses)...)
	if v.WarnHostName {
		v.warnOnce("host:"+Thumbprint(c.Raw), "server certificate does not name the endpoint's host; accepted because host_name_check = \"warn\"",
			"host", v.Host, "certificate_names", names, "thumbprint", Thumbprint(c.Raw))
		return nil
	}
	return fmt.Errorf("%w: %s names the hosts %v, not the endpoint's host %q (connect by a name the certificate has, or set host_name_check = \"warn\")",
		ErrHostNameInvalid, describe(c), names, v.Host)
}

func ipStrings(ips []net.IP) []string {
	var out []string
	for _, ip := range ips {
		out = append(out, ip.String())
	}
	return out
}

func checkURI(c *x509.Certificate, serverURI string) error {
	if serverURI == "" || HasURI(c, serverURI) {
		return nil
	}
	return fmt.Errorf("%w: %s is for application URI %v, but the server says it is %q", ErrURIInvalid, describe(c), c.URIs, serverURI)
}

// HasURI reports whether uri is among the URIs of the certificate's
// subjectAltName.
func HasURI(c *x509.Certificate, uri string) bool {
	return slices.ContainsFunc(c.URIs, func(u *url.URL) bool { return u.String() == uri })
}

// checkUsage is the certificate usage check of an application instance
// certificate: not a CA, key usage present with digitalSignature and key or
// data encipherment, extended key usage (if present) with serverAuth.
func checkUsage(c *x509.Certificate) error {
	switch {
	case c.BasicConstraintsValid && c.IsCA:
		return fmt.Errorf("%w: %s is a CA certificate (basicConstraints cA), not an application instance certificate", ErrUseNotAllowed, describe(c))
	case c.KeyUsage == 0:
		return fmt.Errorf("%w: %s has no key usage; an application instance certificate needs digitalSignature and keyEncipherment", ErrUseNotAllowed, describe(c))
	case c.KeyUsage&x509.KeyUsageDigitalSignature == 0:
		return fmt.Errorf("%w: %s lacks key usage digitalSignature", ErrUseNotAllowed, describe(c))
	case c.KeyUsage&(x509.KeyUsageKeyEncipherment|x509.KeyUsageDataEncipherment) == 0:
		return fmt.Errorf("%w: %s lacks key usage keyEncipherment", ErrUseNotAllowed, describe(c))
	case len(c.ExtKeyUsage) > 0 && !slices.ContainsFunc(c.ExtKeyUsage, serverUsage):
		return fmt.Errorf("%w: %s lacks extended key usage serverAuth", ErrUseNotAllowed, describe(c))
	}
	return nil
}

func serverUsage(u x509.ExtKeyUsage) bool {
	return u == x509.ExtKeyUsageServerAuth || u == x509.ExtKeyUsageAny
}
