package main

import (
	"fmt"
	"log/slog"
	"os"

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

// apply sets the identity and certificate verification of srv's client.
func (s *security) apply(srv config.Server, opts *opcua.Options) error {
	if !secured(srv) {
		return nil
	}
	id, err := s.identity(srv)
	if err != nil {
		return fmt.Errorf("server %s: %w", srv.Name, err)
	}
	opts.Certificate, opts.PrivateKey, opts.ApplicationURI = id.DER(), id.Key, id.ApplicationURI()
	v := &pki.Verifier{
		Store: s.store(), Server: srv.Name, TrustOnFirstUse: srv.TrustOnFirstUse,
		Logger: s.log.With("server", srv.Name),
	}
	opts.VerifyServerCert = v.Verify
	if srv.TrustOnFirstUse {
		s.log.Warn("trust_on_first_use is on: the first certificate this server presents will be trusted unchecked; turn it off after commissioning",
			"server", srv.Name)
	}
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
	id, err := ownIdentity(s.cfg, s.log)
	s.own = id
	return id, err
}

// ownIdentity loads the bridge's certificate from <pki_dir>/own, making it
// the first time.
func ownIdentity(cfg *config.Config, log *slog.Logger) (*pki.Identity, error) {
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

// warnReadableSecrets warns about password files that every user of the
// machine can read: the password is as secret as the file.
func warnReadableSecrets(cfg *config.Config, log *slog.Logger) {
	files := map[string]string{"mqtt.password_file": cfg.MQTT.PasswordFile}
	for i, srv := range cfg.Servers {
		files[fmt.Sprintf("servers[%d].password_file", i)] = srv.PasswordFile
	}
	for key, path := range files {
		if path == "" {
			continue
		}
		if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o004 != 0 {
			log.Warn("password file is readable by every user; restrict it (chmod 600, or 640 with the bridge's group)",
				"setting", key, "file", path, "mode", fi.Mode().Perm().String())
		}
	}
}
