package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const fuzzSecret = "s3cr3t-fuzz"

// fuzzSources is a fixed environment and file system: variables whose names
// start with NO are unset, the rest are "4840", and every password file
// holds fuzzSecret except those whose path starts with /no.
var fuzzSources = sources{
	env: func(name string) (string, bool) {
		if strings.HasPrefix(name, "NO") {
			return "", false
		}
		if strings.HasPrefix(name, "PW") {
			return fuzzSecret, true
		}
		return "4840", true
	},
	readFile: func(path string) ([]byte, error) {
		if strings.HasPrefix(path, "/no") {
			return nil, os.ErrNotExist
		}
		return []byte(fuzzSecret + "\n"), nil
	},
}

// FuzzParse checks that Parse never panics, that its errors are *Errors
// with lines inside the file and no secrets, and that what it accepts
// validates. The seeds are the example configs and the golden error cases.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("../configs/*.toml")
	cases, _ := filepath.Glob("testdata/errors/*/config.toml")
	for _, file := range append(seeds, cases...) {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := parse("fuzz.toml", data, fuzzSources)
		if err == nil {
			if c == nil {
				t.Fatal("nil config and nil error")
			}
			if err := c.Validate(); err != nil {
				t.Fatalf("Parse accepted what Validate rejects: %v", err)
			}
			return
		}
		var errs *Errors
		if !errors.As(err, &errs) || len(*errs) == 0 || c != nil {
			t.Fatalf("Parse = %v, %T %v; want nil, non-empty *Errors", c, err, err)
		}
		lines := strings.Count(string(data), "\n") + 1
		for _, p := range *errs {
			if p.Line < 0 || p.Line > lines {
				t.Errorf("problem on line %d of %d: %v", p.Line, lines, p)
			}
		}
		if !strings.Contains(string(data), fuzzSecret) && strings.Contains(err.Error(), fuzzSecret) {
			t.Errorf("secret in error: %v", err)
		}
	})
}
