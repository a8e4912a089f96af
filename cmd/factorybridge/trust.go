package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"factorybridge/config"
	"factorybridge/pki"
)

func cmdTrust(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("trust", "-config FILE <thumbprint | certificate file>",
		"Trusts an OPC UA server certificate: moves the rejected certificate with this SHA-1\n"+
			"thumbprint (the one the refusal logged, and factorybridge pki list shows) into\n"+
			"<pki_dir>/trusted, or copies the given file (PEM or DER) there. Compare the thumbprint\n"+
			"with the one the server's operator reads on the server first.", stderr)
	path := fs.String("config", "", "config file (required)")
	if err := fs.Parse(args); err != nil {
		return flagError(err)
	}
	if *path == "" || fs.NArg() != 1 {
		fmt.Fprintln(stderr, "trust: -config FILE and one thumbprint or certificate file are required")
		fs.Usage()
		return errUsage
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		return err
	}
	dst, err := trustTarget(pki.Store{Dir: cfg.Bridge.PKIDir}, cfg, fs.Arg(0))
	if err != nil {
		return err
	}
	c, err := pki.ReadCertificate(dst)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "trusted %s (thumbprint %s): %s\n", c.Subject, pki.Thumbprint(c.Raw), dst)
	return nil
}

// trustTarget trusts a rejected certificate by thumbprint, or a file. A
// server name is refused: "the certificate that server sent last" may not
// be the one the operator checked.
func trustTarget(s pki.Store, cfg *config.Config, arg string) (string, error) {
	if _, ok := pki.NormalizeThumbprint(arg); ok {
		return s.TrustThumbprint(arg)
	}
	for _, srv := range cfg.Servers {
		if srv.Name == arg {
			return "", byServerName(s, arg)
		}
	}
	if _, err := os.Stat(arg); err != nil {
		return "", fmt.Errorf("trust %q: neither a thumbprint nor a readable file: %w", arg, err)
	}
	return s.Trust(arg)
}

// byServerName explains why a server name is not enough and lists the
// thumbprints of the certificates rejected from that server.
func byServerName(s pki.Store, server string) error {
	entries, err := s.RejectedBy(server)
	if err != nil {
		return err
	}
	if len(entries) == 0 {
		return fmt.Errorf("trust %s: %w from this server in %s", server, pki.ErrNoRejected, filepath.Join(s.Dir, pki.RejectedDir))
	}
	var b strings.Builder
	for _, e := range entries {
		fmt.Fprintf(&b, "\n  %s  %s  refused %s", e.Thumbprint, e.Subject, e.Modified.UTC().Format(time.RFC3339))
	}
	return fmt.Errorf("trust %s: give the thumbprint you checked with the server's operator, not the server's name; "+
		"rejected from %s (newest first):%s", server, server, b.String())
}

// flagError maps a flag parse error to -h or a usage error.
func flagError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	return errUsage
}

// configFlag parses a command whose only flag is -config FILE, and loads it.
func configFlag(fs *flag.FlagSet, args []string, stderr io.Writer) (*config.Config, error) {
	path := fs.String("config", "", "config file (required)")
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	if *path == "" {
		fmt.Fprintf(stderr, "%s: -config FILE is required\n", fs.Name())
		fs.Usage()
		return nil, errUsage
	}
	return loadConfig(*path)
}

// loadConfig loads a config file, returning its problems as one error.
func loadConfig(path string) (*config.Config, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, fmt.Errorf("load config:\n%w", err)
	}
	return cfg, nil
}
