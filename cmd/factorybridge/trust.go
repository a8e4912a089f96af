package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"factorybridge/config"
	"factorybridge/pki"
)

func cmdTrust(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("trust", "-config FILE <server name | certificate file>",
		"Trusts an OPC UA server certificate: moves the certificate most recently rejected from\n"+
			"the named [[servers]] entry (or the given file, PEM or DER) into <pki_dir>/trusted.\n"+
			"Check its thumbprint (factorybridge pki list) with the server's operator first.", stderr)
	path := fs.String("config", "", "config file (required)")
	if err := fs.Parse(args); err != nil {
		return flagError(err)
	}
	if *path == "" || fs.NArg() != 1 {
		fmt.Fprintln(stderr, "trust: -config FILE and one server name or certificate file are required")
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

// trustTarget trusts a configured server's rejected certificate, or a file.
func trustTarget(s pki.Store, cfg *config.Config, arg string) (string, error) {
	for _, srv := range cfg.Servers {
		if srv.Name == arg {
			return s.TrustServer(arg)
		}
	}
	if _, err := os.Stat(arg); err != nil {
		return "", fmt.Errorf("trust %q: neither a configured server nor a readable file: %w", arg, err)
	}
	return s.Trust(arg)
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
