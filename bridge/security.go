package bridge

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"factorybridge/config"
	"factorybridge/opcua"
	"factorybridge/pki"
)

// security gives each OPC UA client its identity and its trust decisions.
// The bridge's own certificate is loaded (or made, once) on first need.
type security struct {
	cfg *config.Config
	log *slog.Logger
	own *pki.Identity
}

// secured reports whether a server may need a certificate: any policy but None.
func secured(srv config.Server) bool {
	return srv.SecurityPolicy != "" && srv.SecurityPolicy != "None"
}

// apply sets the identity and certificate verification of srv's client,
// and checks its user certificate.
func (s *security) apply(srv config.Server, opts *opcua.Options) error {
	if err := s.checkUserCert(srv); err != nil {
		return fmt.Errorf("server %s: %w", srv.Name, err)
	}
	if !secured(srv) {
		return nil
	}
	id, err := s.identity(srv)
	if err != nil {
		return fmt.Errorf("server %s: %w", srv.Name, err)
	}
	opts.Certificate, opts.PrivateKey, opts.ApplicationURI = id.DER(), id.Key, id.ApplicationURI()
	if err := s.store().Check(); err != nil {
		return fmt.Errorf("server %s: %w", srv.Name, err)
	}
	v, _ := s.cfg.Verifier(srv.Name)
	v.Logger = s.log.With("server", srv.Name)
	opts.VerifyServerCert = v.Verify
	if srv.TrustOnFirstUse {
		s.log.Warn("trust_on_first_use is on: the first certificate this server presents will be trusted unchecked; turn it off after commissioning",
			"server", srv.Name)
	}
	return nil
}

// checkUserCert loads the X.509 user certificate of auth = "certificate"
// once at start, so that a missing or mismatched file stops the bridge
// instead of failing every connection attempt; the client loads it again at
// each attempt. The log names the certificate the server's operator must
// accept as a user.
func (s *security) checkUserCert(srv config.Server) error {
	if srv.Auth != "certificate" {
		return nil
	}
	id, err := pki.LoadIdentity(srv.UserCertificate, srv.UserKey)
	if err != nil {
		return fmt.Errorf("user certificate: %w", err)
	}
	log := s.log.With("server", srv.Name, "file", srv.UserCertificate, "subject", id.Cert.Subject.String(),
		"thumbprint", pki.Thumbprint(id.DER()), "not_after", id.Cert.NotAfter)
	if now := time.Now(); now.After(id.Cert.NotAfter) || now.Before(id.Cert.NotBefore) {
		log.Warn("OPC UA user certificate is not valid now; the server will refuse it", "not_before", id.Cert.NotBefore)
		return nil
	}
	log.Info("OPC UA user certificate")
	return nil
}

func (s *security) store() pki.Store { return pki.Store{Dir: s.cfg.Bridge.PKIDir} }

// identity is the server's configured certificate, or the bridge's own.
func (s *security) identity(srv config.Server) (*pki.Identity, error) {
	if srv.Certificate != "" {
		id, err := pki.LoadIdentity(srv.Certificate, srv.Key)
		if err == nil && id.ApplicationURI() == "" {
			err = fmt.Errorf("certificate %s has no application URI in its subjectAltName (OPC UA requires one)", srv.Certificate)
		}
		return id, err
	}
	if s.own != nil {
		return s.own, nil
	}
	id, err := OwnIdentity(s.cfg, s.log)
	s.own = id
	return id, err
}

// OwnIdentity loads the bridge's certificate from <pki_dir>/own, making it
// the first time.
func OwnIdentity(cfg *config.Config, log *slog.Logger) (*pki.Identity, error) {
	host, err := os.Hostname()
	if err != nil {
		return nil, fmt.Errorf("read host name for the application certificate: %w", err)
	}
	uri := cfg.Bridge.ApplicationURI
	if uri == "" {
		uri = pki.DefaultApplicationURI(host)
	}
	id, created, err := pki.Store{Dir: cfg.Bridge.PKIDir}.Own(uri, host)
	if err != nil {
		return nil, fmt.Errorf("application certificate in %s: %w", cfg.Bridge.PKIDir, err)
	}
	if created {
		log.Info("created the bridge's OPC UA application certificate; servers must trust it",
			"file", id.CertPath, "thumbprint", pki.Thumbprint(id.DER()), "application_uri", id.ApplicationURI())
	} else if cfg.Bridge.ApplicationURI != "" && id.ApplicationURI() != cfg.Bridge.ApplicationURI {
		log.Warn("bridge.application_uri differs from the URI of the existing certificate; the certificate's is used (delete own/ to make a new one, then re-trust it on every server)",
			"configured", cfg.Bridge.ApplicationURI, "certificate", id.ApplicationURI(), "file", id.CertPath)
	}
	return id, nil
}

// warnReadableSecrets warns about password and private key files that
// every user of the machine can read: the secret is as secret as the file.
// The keys are the application certificate's (<pki_dir>/own, and each
// server's own key), the user certificates', MQTT's and IoT Hub's.
func warnReadableSecrets(cfg *config.Config, log *slog.Logger) {
	passwords := map[string]string{"mqtt.password_file": cfg.MQTT.PasswordFile}
	keys := map[string]string{"bridge.pki_dir (application key)": filepath.Join(cfg.Bridge.PKIDir, pki.OwnDir, pki.OwnKeyFile)}
	for i, srv := range cfg.Servers {
		passwords[fmt.Sprintf("servers[%d].password_file", i)] = srv.PasswordFile
		keys[fmt.Sprintf("servers[%d].user_key", i)] = srv.UserKey
		keys[fmt.Sprintf("servers[%d].key", i)] = srv.Key
	}
	if h := cfg.IoTHub; h != nil {
		passwords["iothub.connection_string_file"] = h.ConnectionStringFile
		keys["iothub.key_file"] = h.KeyFile
	}
	keys["mqtt.key_file"] = cfg.MQTT.KeyFile
	warnReadable(passwords, "password file is readable by every user; restrict it (chmod 600, or 640 with the bridge's group)", log)
	warnReadable(keys, "private key file is readable by every user; restrict it (chmod 600, or 640 with the bridge's group)", log)
}

// warnReadable logs msg for each file of files (setting → path) whose mode
// lets every user read it.
func warnReadable(files map[string]string, msg string, log *slog.Logger) {
	for key, path := range files {
		if path == "" {
			continue
		}
		if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o004 != 0 {
			log.Warn(msg, "setting", key, "file", path, "mode", fi.Mode().Perm().String())
		}
	}
}

// OPCUASecurity sets in opts the application identity and server
// certificate verification the bridge uses for srv (the same as Run's),
// for tools that open their own session with a configured server, such as
// factorybridge browse. log receives what the bridge would log about them.
func OPCUASecurity(cfg *config.Config, srv config.Server, opts *opcua.Options, log *slog.Logger) error {
	s := &security{cfg: cfg, log: log}
	return s.apply(srv, opts)
}
