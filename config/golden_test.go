package config

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/errors/*/want.txt from the current output")

// goldenEnv is the environment the golden cases see.
func goldenEnv(name string) (string, bool) {
	v, ok := map[string]string{"PLC_HOST": "10.0.0.1"}[name]
	return v, ok
}

// TestGoldenErrors parses each testdata/errors/<case>/config.toml and
// compares the error text with want.txt, byte for byte.
func TestGoldenErrors(t *testing.T) {
	dirs, err := filepath.Glob("testdata/errors/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			got := goldenOutput(t, filepath.Join(dir, "config.toml"))
			wantFile := filepath.Join(dir, "want.txt")
			if *update {
				if err := os.WriteFile(wantFile, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(wantFile)
			if err != nil {
				t.Fatalf("read want.txt (run go test -update to create it): %v", err)
			}
			if got != string(want) {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func goldenOutput(t *testing.T, file string) string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse(file, data, goldenEnv)
	var errs *Errors
	if !errors.As(err, &errs) || cfg != nil {
		t.Fatalf("Parse = %v, %v; want nil, *Errors", cfg, err)
	}
	return err.Error() + "\n"
}
