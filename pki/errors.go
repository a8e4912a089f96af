package pki

import "errors"

// Named errors of Verify, for errors.Is. Each failed check of OPC 10000-4
// §6.1.3 has its own, named after the status code the specification gives
// it; all but ErrUntrusted and ErrUnsafeStore also match ErrInvalid.
var (
	// ErrUntrusted: neither the certificate nor an issuer is trusted, and
	// it is not the certificate pinned for the server
	// (BadCertificateUntrusted).
	ErrUntrusted = errors.New("server certificate is not trusted")
	// ErrInvalid: the certificate fails a check that no trust decision can
	// override (BadCertificateInvalid); the errors below wrap it.
	ErrInvalid = errors.New("server certificate is invalid")

	// ErrTimeInvalid: expired or not yet valid (BadCertificateTimeInvalid).
	ErrTimeInvalid = invalid("BadCertificateTimeInvalid")
	// ErrPolicyCheckFailed: a SHA-1 signature or an RSA key below
	// MinKeyBits (BadCertificatePolicyCheckFailed).
	ErrPolicyCheckFailed = invalid("BadCertificatePolicyCheckFailed")
	// ErrUseNotAllowed: a leaf with the CA flag, or key usages that do not
	// fit an application instance certificate (BadCertificateUseNotAllowed).
	ErrUseNotAllowed = invalid("BadCertificateUseNotAllowed")
	// ErrHostNameInvalid: the endpoint's host is not among the
	// certificate's DNS names and IP addresses (BadCertificateHostNameInvalid).
	ErrHostNameInvalid = invalid("BadCertificateHostNameInvalid")
	// ErrURIInvalid: the certificate is for another application URI than
	// the server's (BadCertificateUriInvalid).
	ErrURIInvalid = invalid("BadCertificateUriInvalid")
	// ErrRevoked: a CRL of an issuer lists the certificate, or an issuer
	// (BadCertificateRevoked).
	ErrRevoked = invalid("BadCertificateRevoked")
	// ErrRevocationUnknown: an issuer of the chain has no valid CRL in
	// trusted/crl or issuers/crl (BadCertificateRevocationUnknown).
	ErrRevocationUnknown = invalid("BadCertificateRevocationUnknown")

	// ErrUnsafeStore: a PKI directory or file that decides trust can be
	// written by other users; every certificate is refused until it is
	// fixed.
	ErrUnsafeStore = errors.New("pki directory is not safe")
)

// codeError is a named error of one check: its message is the status code,
// and it matches ErrInvalid.
type codeError struct{ code string }

func invalid(code string) error { return &codeError{code} }

func (e *codeError) Error() string        { return ErrInvalid.Error() + " (" + e.code + ")" }
func (e *codeError) Is(target error) bool { return target == ErrInvalid }
