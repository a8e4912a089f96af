package mqtt

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/hooks/auth"

	"factorybridge"
	"factorybridge/publisher/internal/pubtest"
)

// testPKI is a CA with a server certificate for 127.0.0.1 and a client
// certificate, as PEM files in a temporary directory.
type testPKI struct {
	caFile, clientCert, clientKey string
	server                        tls.Certificate
	pool                          *x509.CertPool
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	dir := t.TempDir()
	caKey, caCert, caDER := newCert(t, "test CA", nil, nil, true)
	p := &testPKI{caFile: writePEM(t, dir, "ca.pem", "CERTIFICATE", caDER), pool: x509.NewCertPool()}
	p.pool.AddCert(caCert)
	srvKey, _, srvDER := newCert(t, "broker", caCert, caKey, false)
	p.server = tls.Certificate{Certificate: [][]byte{srvDER}, PrivateKey: srvKey}
	cliKey, _, cliDER := newCert(t, "bridge-1", caCert, caKey, false)
	keyDER, err := x509.MarshalECPrivateKey(cliKey)
	if err != nil {
		t.Fatal(err)
	}
	p.clientCert = writePEM(t, dir, "client.pem", "CERTIFICATE", cliDER)
	p.clientKey = writePEM(t, dir, "client-key.pem", "EC PRIVATE KEY", keyDER)
	return p
}

// newCert makes a certificate for name signed by parent (self-signed when nil).
func newCert(t *testing.T, name string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, ca bool) (*ecdsa.PrivateKey, *x509.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: ca, BasicConstraintsValid: true, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return key, cert, der
}

func writePEM(t *testing.T, dir, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestTLSWithCAFileAndClientCertificate(t *testing.T) {
	pki := newTestPKI(t)
	b := startBrokerWith(t, brokerOptions{tls: &tls.Config{
		Certificates: []tls.Certificate{pki.server}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pki.pool,
	}})
	q := pubtest.NewMemQueue()
	want := pubtest.WithSeqs(pubtest.Readings(pubtest.Nodes(3), 200))
	last := q.Append(want...)
	opts := testOptions(t, b.url(), q)
	opts.CAFile, opts.CertFile, opts.KeyFile = pki.caFile, pki.clientCert, pki.clientKey
	runPublisher(t, opts)

	q.WaitAcked(t, last, waitLong)
	pubtest.CheckDelivery(t, b.rec.decoded(t), want, 0)
}

func TestTLSFilesUnreadableFailRun(t *testing.T) {
	opts := testOptions(t, "ssl://127.0.0.1:1", pubtest.NewMemQueue())
	opts.CAFile = filepath.Join(t.TempDir(), "missing.pem")
	p, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	err = p.Run(t.Context())
	if err == nil || !strings.Contains(err.Error(), "ca_file") {
		t.Fatalf("Run = %v; want an error naming ca_file", err)
	}
}

func TestUsernamePasswordAndNoPasswordInLogs(t *testing.T) {
	const secret = "s3cret-Pa55"
	b := startBrokerWith(t, brokerOptions{ledger: &auth.Ledger{
		Auth: auth.AuthRules{{Username: "bridge", Password: secret, Allow: true}},
	}})
	for _, tc := range []struct {
		password string
		works    bool
	}{{secret, true}, {"wrong-" + secret, false}} {
		q := pubtest.NewMemQueue()
		last := q.Append(pubtest.Readings(pubtest.Nodes(1), 5)...)
		opts := testOptions(t, b.url(), q)
		opts.Username, opts.Password = "bridge", factorybridge.Secret(tc.password)
		logger, logs := pubtest.CaptureLogger()
		opts.Logger = logger
		runPublisher(t, opts)
		if tc.works {
			q.WaitAcked(t, last, waitLong)
			continue
		}
		logs.WaitFor(t, waitLong, "connect failed")
		if strings.Contains(logs.String(), secret) {
			t.Fatalf("password in logs:\n%s", logs)
		}
	}
}

// TestTLSInsecureSkipVerifyWarnsOnEveryConnect connects to a broker whose
// certificate nobody trusts: refused by default, accepted with
// insecure_skip_verify, with a WARN at each connection.
func TestTLSInsecureSkipVerifyWarnsOnEveryConnect(t *testing.T) {
	pki := newTestPKI(t)
	b := startBrokerWith(t, brokerOptions{tls: &tls.Config{Certificates: []tls.Certificate{pki.server}}})
	q := pubtest.NewMemQueue()
	last := q.Append(pubtest.Readings(pubtest.Nodes(1), 5)...)
	opts := testOptions(t, b.url(), q)
	opts.InsecureSkipVerify = true
	logger, logs := pubtest.CaptureLogger()
	opts.Logger = logger
	runPublisher(t, opts)
	q.WaitAcked(t, last, waitLong)
	if got := strings.Count(logs.String(), "insecure_skip_verify is on"); got != 1 {
		t.Fatalf("%d warnings after one connect, want 1:\n%s", got, logs)
	}
	if !strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("not logged at WARN:\n%s", logs)
	}

	logger, logs = pubtest.CaptureLogger()
	strict := testOptions(t, b.url(), pubtest.NewMemQueue())
	strict.Logger = logger
	runPublisher(t, strict)
	logs.WaitFor(t, waitLong, "connect failed")
	if !strings.Contains(logs.String(), "certificate") {
		t.Errorf("the refusal does not mention the certificate:\n%s", logs)
	}
}
