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
	fmt.Fprintln(stdout, cfg.Summary())
	return nil
}
