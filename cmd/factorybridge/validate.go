package main

import (
	"errors"
	"fmt"
	"io"

	"factorybridge/config"
)

func cmdValidate(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("validate", "-config FILE",
		"Loads FILE, expands ${VAR}s, resolves password_env/password_file, and checks every\n"+
			"setting. Prints each problem as FILE:LINE: field.path: what is wrong (valid: …)\n"+
			"and exits 1, or prints a one-line summary and exits 0. Contacts no server.", stderr)
	path := fs.String("config", "", "config file to check (required)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *path == "" {
		fmt.Fprintln(stderr, "validate: -config FILE is required")
		fs.Usage()
		return errUsage
	}
	cfg, err := config.Load(*path)
	if err != nil {
		var problems config.Errors
		if errors.As(err, &problems) {
			fmt.Fprintln(stderr, problems.Error())
			return fmt.Errorf("%s: %d problem(s)", *path, len(problems))
		}
		return err
	}
	if err := checkHubIdentity(cfg); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", *path, err)
		return fmt.Errorf("%s: 1 problem(s)", *path)
	}
	fmt.Fprintln(stdout, cfg.Summary())
	return nil
}

// checkHubIdentity parses a configured IoT Hub connection string, which
// config cannot (it does not know the hub's dialect). An identity that comes
// from the IoT Edge runtime is only known where the module runs.
func checkHubIdentity(cfg *config.Config) error {
	h := cfg.IoTHub
	if h == nil || h.ConnectionString == "" {
		return nil
	}
	_, _, err := cfg.IoTHubOptions(func(string) string { return "" })
	return err
}
