package main

import (
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"
	"time"

	"factorybridge/bridge"
	"factorybridge/pki"
)

const pkiUsage = `Usage: factorybridge pki <init|list> -config FILE

  init  create the bridge's OPC UA application certificate in <pki_dir>/own
        (if it does not exist yet) and print its path and thumbprint
  list  list the own, trusted, issuer, pinned and rejected certificates
`

// cmdPKI dispatches the pki subcommands.
func cmdPKI(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, pkiUsage)
		return errUsage
	}
	switch args[0] {
	case "init":
		return cmdPKIInit(args[1:], stdout, stderr)
	case "list":
		return cmdPKIList(args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, pkiUsage)
		return nil
	default:
		fmt.Fprintf(stderr, "factorybridge pki: unknown command %q\n\n%s", args[0], pkiUsage)
		return errUsage
	}
}

func cmdPKIInit(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("pki init", "-config FILE",
		"Creates the PKI directories and the bridge's OPC UA application instance certificate\n"+
			"(RSA 2048, SHA-256, application URI in subjectAltName) unless it exists, and prints\n"+
			"its path and SHA-1 thumbprint: give that file to each server's operator to trust.", stderr)
	cfg, err := configFlag(fs, args, stderr)
	if err != nil {
		return err
	}
	id, err := bridge.OwnIdentity(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "certificate: %s\nthumbprint:  %s\napplication_uri: %s\nvalid until: %s\n",
		id.CertPath, pki.Thumbprint(id.DER()), id.ApplicationURI(), id.Cert.NotAfter.UTC().Format(time.DateOnly))
	return nil
}

func cmdPKIList(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("pki list", "-config FILE",
		"Lists the certificates of <pki_dir>: own, trusted, issuers, pins (trusted on first use,\n"+
			"each for one server) and rejected, each with its subject, SHA-1 thumbprint and validity\n"+
			"(and, when pinned or rejected, the server it is from).", stderr)
	cfg, err := configFlag(fs, args, stderr)
	if err != nil {
		return err
	}
	entries, err := pki.Store{Dir: cfg.Bridge.PKIDir}.List()
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "DIR\tSUBJECT\tTHUMBPRINT\tNOT BEFORE\tNOT AFTER\tSERVER\tFILE")
	for _, e := range entries {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Dir, e.Subject, e.Thumbprint,
			e.NotBefore.UTC().Format(time.DateOnly), e.NotAfter.UTC().Format(time.DateOnly), dash(e.Server), e.Path)
	}
	return w.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
