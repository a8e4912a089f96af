package pki

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestWriteNewIgnoresPlantedSymlink: the temporary file is created
// exclusively, so a symlink planted where a fixed "<file>.tmp" used to be
// is never followed.
func TestWriteNewIgnoresPlantedSymlink(t *testing.T) {
	dir, outside := t.TempDir(), filepath.Join(t.TempDir(), "victim")
	must(t, os.WriteFile(outside, []byte("keep"), 0o600))
	path := filepath.Join(dir, "cert.der")
	must(t, os.Symlink(outside, path+".tmp"))
	must(t, writeNew(path, []byte("new"), 0o644))
	if b, _ := os.ReadFile(outside); string(b) != "keep" {
		t.Errorf("the symlink's target was written: %q", b)
	}
	if b, _ := os.ReadFile(path); string(b) != "new" {
		t.Errorf("%s holds %q", path, b)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

// TestRejectedIsBounded: rejected/ keeps the newest certificates only.
func TestRejectedIsBounded(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	var last []string
	for i := range 5 {
		c := newCert(t, certSpec{cn: "flood"})
		p, err := s.Reject(c, "flood", 3)
		if err != nil {
			t.Fatal(err)
		}
		old := time.Now().Add(time.Duration(i-10) * time.Minute) // distinct ages, oldest first
		must(t, os.Chtimes(p, old, old))
		last = append(last, filepath.Base(p))
	}
	got := files(t, filepath.Join(s.Dir, RejectedDir))
	for _, name := range last[:2] {
		if strings.Contains(strings.Join(got, " "), strings.TrimSuffix(name, ".der")) {
			t.Errorf("rejected/ still holds the old %s (and maybe its record): %v", name, got)
		}
	}
	entries, _ := s.RejectedBy("flood")
	if len(entries) != 3 {
		t.Errorf("rejected/ holds %d certificates of flood, want 3: %v", len(entries), got)
	}
}

// TestCheckRefusesWritableTrust: a trusted/ (or a file in it) that group
// or others may write makes Verify refuse every certificate.
func TestCheckRefusesWritableTrust(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix modes")
	}
	leaf := newCert(t, certSpec{cn: "plc", uri: srvURI})
	for _, tt := range []struct {
		name  string
		spoil func(s Store, trustedFile string)
	}{
		{"trusted/ group-writable", func(s Store, _ string) { must(t, os.Chmod(filepath.Join(s.Dir, TrustedDir), 0o770)) }},
		{"trusted/ world-writable", func(s Store, _ string) { must(t, os.Chmod(filepath.Join(s.Dir, TrustedDir), 0o777)) }},
		{"certificate group-writable", func(_ Store, f string) { must(t, os.Chmod(f, 0o664)) }},
		{"pki root world-writable", func(s Store, _ string) { must(t, os.Chmod(s.Dir, 0o757)) }},
		{"crl dir group-writable", func(s Store, _ string) {
			must(t, os.MkdirAll(filepath.Join(s.Dir, IssuersCRLDir), 0o700))
			must(t, os.Chmod(filepath.Join(s.Dir, IssuersCRLDir), 0o775))
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := Store{Dir: filepath.Join(t.TempDir(), "pki")}
			f := put(t, s, TrustedDir, leaf)
			v := &Verifier{Store: s, Server: "press"}
			must(t, v.Verify(leaf.Raw, srvURI))
			tt.spoil(s, f)
			if err := v.Verify(leaf.Raw, srvURI); !errors.Is(err, ErrUnsafeStore) || !strings.Contains(err.Error(), "writable by group or others") {
				t.Fatalf("Verify = %v, want ErrUnsafeStore", err)
			}
		})
	}
}

// TestCheckIgnoresRejected: rejected/ decides nothing, so its mode does
// not stop the bridge.
func TestCheckIgnoresRejected(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	must(t, s.Init())
	must(t, os.Chmod(filepath.Join(s.Dir, RejectedDir), 0o777))
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
}
