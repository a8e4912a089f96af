package opcua

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopcua/opcua/ua"

	"factorybridge/internal/testenv"
)

// userCert is an X.509 user certificate and its key on disk.
type userCert struct {
	certPath, keyPath string
	cert              *x509.Certificate
	key               *rsa.PrivateKey
}

// writeUserCert makes a self-signed user certificate for cn in a directory
// of its own: certificate DER and key DER PKCS#1, or with pemForm both PEM
// and the key PKCS#8.
func writeUserCert(t *testing.T, cn string, pemForm bool) userCert {
	t.Helper()
	dir := t.TempDir()
	certPath, keyPath, cert := testenv.WriteServerCert(t, dir, testenv.ServerCert{CN: cn, URI: "urn:factorybridge:user:" + cn})
	der, err := os.ReadFile(keyPath)
	must(t, err)
	key, err := x509.ParsePKCS1PrivateKey(der)
	must(t, err)
	u := userCert{certPath: certPath, keyPath: keyPath, cert: cert, key: key}
	if pemForm {
		p8, err := x509.MarshalPKCS8PrivateKey(key)
		must(t, err)
		u.certPath, u.keyPath = filepath.Join(dir, "user.pem"), filepath.Join(dir, "user-key.pem")
		must(t, os.WriteFile(u.certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o644))
		must(t, os.WriteFile(u.keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8}), 0o600))
	}
	return u
}

// trustDir writes the certificates of users into a new directory, as the
// simulator's -user-trust reads them.
func trustDir(t *testing.T, users ...userCert) string {
	t.Helper()
	dir := t.TempDir()
	for i, u := range users {
		must(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("user%d.der", i)), u.cert.Raw, 0o644))
	}
	return dir
}

// server returns the settings of a session to the rig's simulator that logs
// in with u.
func (u userCert) server(r *secureRig, policy, mode string) Options {
	srv := r.server()
	srv.SecurityPolicy, srv.SecurityMode = policy, mode
	srv.Auth, srv.UserCertificate, srv.UserKey = "certificate", u.certPath, u.keyPath
	return srv
}

// secrets are forms in which u's private key could leak into a log: the
// file, the PEM body lines, the private exponent and primes in decimal and
// hex (as %v of the key prints them).
func (u userCert) secrets(t *testing.T) []string {
	t.Helper()
	file, err := os.ReadFile(u.keyPath)
	must(t, err)
	out := []string{string(file), base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PrivateKey(u.key))[:64]}
	if blk, _ := pem.Decode(file); blk != nil {
		out = append(out, strings.Split(string(file), "\n")[1]) // first body line
	}
	for _, n := range append([]string{u.key.D.String(), u.key.D.Text(16)}, u.key.Primes[0].String()) {
		out = append(out, n[:32])
	}
	return out
}

// TestUserCertLogin logs in with X.509 user certificates the simulator
// trusts, in either file form, and receives data. The simulator has a
// username login, so it refuses anonymous sessions: only the certificate
// can have let the bridge in.
func TestUserCertLogin(t *testing.T) {
	der, pemUser := writeUserCert(t, "operator-der", false), writeUserCert(t, "operator-pem", true)
	r := newSecureRigWith(t, testenv.ServerCert{}, testenv.SimSecurity{
		UserTrust: trustDir(t, der, pemUser), Users: []string{"someone:pw"},
	})
	r.trustServer(t)
	tests := []struct {
		name         string
		user         userCert
		policy, mode string
	}{
		{"DER PKCS#1 Basic256Sha256", der, "Basic256Sha256", "SignAndEncrypt"},
		{"PEM PKCS#8 Basic256Sha256", pemUser, "Basic256Sha256", "SignAndEncrypt"},
		{"PEM PKCS#8 Aes256_Sha256_RsaPss", pemUser, "Aes256_Sha256_RsaPss", "Sign"},
		// The None endpoint's token policy names Basic256Sha256 for the
		// token's signature: nothing secret is sent, so it is allowed.
		{"DER PKCS#1 None", der, "None", "None"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink, logs := newRecordSink(), &testenv.Logs{}
			stop := runClient(t, r.clientOf(t, tt.user.server(r, tt.policy, tt.mode), sink, logs))
			sink.waitFor(t, 20*time.Second, "readings with a trusted user certificate", someData)
			stop()
			if down := logs.Records("server down"); len(down) > 0 {
				t.Errorf("server down with a trusted user certificate: %v", down)
			}
			checkNoSecrets(t, logs, tt.user)
		})
	}
}

// TestUserCertUntrusted logs in with a user certificate the simulator does
// not trust: the session is refused with BadIdentityTokenRejected, logged
// once as an error and retried with back-off, no data flows, and nothing of
// the key reaches the log.
func TestUserCertUntrusted(t *testing.T) {
	trusted, stranger := writeUserCert(t, "operator", false), writeUserCert(t, "stranger", true)
	r := newSecureRigWith(t, testenv.ServerCert{}, testenv.SimSecurity{UserTrust: trusted.certPath})
	r.trustServer(t)
	sink, logs := newRecordSink(), &testenv.Logs{}
	runClient(t, r.clientOf(t, stranger.server(r, "Basic256Sha256", "SignAndEncrypt"), sink, logs))
	testenv.Wait(t, 20*time.Second, "retries", func() bool { return len(logs.Records("reconnect attempt failed")) >= 3 })
	down := checkLoggedOnce(t, logs, "server down", "ERROR")
	if msg, _ := down["err"].(string); !strings.Contains(msg, ua.StatusBadIdentityTokenRejected.Error()) {
		t.Errorf("server down err %q does not name the refused identity token", msg)
	}
	checkBackoff(t, logs)
	if n := len(sink.snapshot()); n != 0 {
		t.Errorf("%d readings with an untrusted user certificate", n)
	}
	checkNoSecrets(t, logs, stranger)
}

// checkBackoff checks that failed attempts were spaced by the back-off
// (testOptions: 50 ms doubling to 250 ms, each delay at least half of it),
// not retried in a tight loop.
func checkBackoff(t *testing.T, logs *testenv.Logs) {
	t.Helper()
	var times []time.Time
	for _, rec := range append(logs.Records("server down"), logs.Records("reconnect attempt failed")...) {
		ts, err := time.Parse(time.RFC3339Nano, rec["time"].(string))
		must(t, err)
		times = append(times, ts)
	}
	for i := 1; i < len(times); i++ {
		if gap := times[i].Sub(times[i-1]); gap < 25*time.Millisecond {
			t.Errorf("attempt %d came %v after the previous one: no back-off", i+1, gap)
		}
	}
}

func checkNoSecrets(t *testing.T, logs *testenv.Logs, u userCert) {
	t.Helper()
	out := logs.String()
	for _, s := range u.secrets(t) {
		if strings.Contains(out, s) {
			t.Errorf("the user key (%.16s…) appears in the logs:\n%s", s, out)
		}
	}
}

// TestUserCertMissingFile fails the connection attempt with the reason when
// the user key file is missing (the bridge checks the files at start; this
// is one removed later: the client reads them at every attempt).
func TestUserCertMissingFile(t *testing.T) {
	u := writeUserCert(t, "operator", false)
	r := newSecureRigWith(t, testenv.ServerCert{}, testenv.SimSecurity{UserTrust: u.certPath})
	r.trustServer(t)
	srv := u.server(r, "Basic256Sha256", "SignAndEncrypt")
	srv.UserKey = filepath.Join(t.TempDir(), "gone.key")
	sink, logs := newRecordSink(), &testenv.Logs{}
	runClient(t, r.clientOf(t, srv, sink, logs))
	testenv.Wait(t, 20*time.Second, "server down logged", func() bool { return len(logs.Records("server down")) > 0 })
	if msg, _ := logs.Records("server down")[0]["err"].(string); !strings.Contains(msg, "user certificate: read private key") {
		t.Errorf("server down err %q does not say the user key cannot be read", msg)
	}
}

func TestCheckAuth(t *testing.T) {
	tests := []struct {
		srv  Options
		want string // "" for no error
	}{
		{Options{}, ""},
		{Options{Auth: "username"}, ""},
		{Options{Auth: "certificate", UserCertificate: "u.der", UserKey: "u.key"}, ""},
		{Options{Auth: "certificate", UserCertificate: "u.der"}, "auth certificate needs user_certificate and user_key"},
		{Options{Auth: "kerberos"}, `unknown auth "kerberos" (anonymous, username, certificate)`},
	}
	for _, tt := range tests {
		got := ""
		if err := checkAuth(&tt.srv); err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("checkAuth(%+v) = %q, want %q", tt.srv, got, tt.want)
		}
	}
}
