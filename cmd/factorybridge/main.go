// Command factorybridge connects OPC UA servers on factory lines to an MQTT
// broker, with every reading committed to a local bbolt buffer first.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `factorybridge — OPC UA to MQTT, durably, at the edge

Usage:
  factorybridge <command> [flags]

Commands:
  run       run the bridge described by a config file
  validate  check a config file and print every problem with its line
  demo      run a simulated line, an embedded broker and the bridge (no setup)
  pki       create (pki init) or list (pki list) the OPC UA certificates
  trust     trust a server's rejected OPC UA certificate
  browse    browse a server and print a node map (TOML) of its variables
  import    turn OPC Publisher's publishednodes.json into a node map
  health    ask a running bridge's /healthz (for a container's health check)
  version   print the version, commit, Go and gopcua versions

Run "factorybridge <command> -h" for a command's flags.
`

// version and commit are set at build time (scripts/release.sh) with
// -ldflags "-X main.version=… -X main.commit=…".
var (
	version = "dev"
	commit  = ""
)

// errUsage marks errors already explained to the user (exit code 2).
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

func exitCode(err error, stderr io.Writer) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	default:
		fmt.Fprintln(stderr, "factorybridge:", err)
		return 1
	}
}

// run dispatches to a subcommand.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	switch args[0] {
	case "run":
		return cmdRun(ctx, args[1:], stdout, stderr)
	case "validate":
		return cmdValidate(args[1:], stdout, stderr)
	case "demo":
		return cmdDemo(ctx, args[1:], stdout, stderr)
	case "pki":
		return cmdPKI(args[1:], stdout, stderr)
	case "trust":
		return cmdTrust(args[1:], stdout, stderr)
	case "browse":
		return cmdBrowse(ctx, args[1:], stdout, stderr)
	case "import":
		return cmdImport(args[1:], stdout, stderr)
	case "health":
		return cmdHealth(ctx, args[1:], stdout, stderr)
	case "version", "-version", "--version":
		return cmdVersion(stdout)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprintf(stderr, "factorybridge: unknown command %q\n\n%s", args[0], usage)
		return errUsage
	}
}

// newFlagSet returns a flag set whose -h prints the command's description
// and flags, and whose parse errors are usage errors.
func newFlagSet(name, synopsis, description string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: factorybridge %s %s\n\n%s\n\nFlags:\n", name, synopsis, description)
		fs.PrintDefaults()
	}
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected arguments: %v\n", fs.Args())
		fs.Usage()
		return errUsage
	}
	return nil
}
