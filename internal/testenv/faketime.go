//go:build linux

package testenv

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// A simulator with SimOptions.FakeTime runs under libfaketime (Debian's
// faketime package, which scripts/deps.sh installs): its wall clock, and
// with it every timestamp it sends and its truth log, is off by the offset
// while its monotonic clock (the line's pace, open62541's timers) is left
// alone. The offset is read from a file that libfaketime re-reads every
// second, so SetFakeTime can step the clock of a running simulator as an
// operator setting a PLC's clock would.

// fakeTimeLibs are where Debian and others install libfaketime; the MT
// variant is safe in multi-threaded programs.
var fakeTimeLibs = []string{
	"/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1",
	"/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1",
	"/usr/lib/faketime/libfaketimeMT.so.1",
	"/usr/local/lib/faketime/libfaketimeMT.so.1",
}

// fakeTimeLib returns the path of libfaketime, or why there is none.
func fakeTimeLib() (string, error) {
	for _, p := range fakeTimeLibs {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("libfaketime not found (apt-get install faketime; scripts/deps.sh does)")
}

// setupFakeTime prepares a simulator's fake clock when opts ask for one:
// the offset file and the environment the process runs with.
func (s *Simulator) setupFakeTime(t testing.TB, spec string) {
	t.Helper()
	if spec == "" {
		return
	}
	lib, err := fakeTimeLib()
	if err != nil {
		Unavailable(t, err.Error())
	}
	s.clockFile = filepath.Join(t.TempDir(), "faketime.rc")
	if err := s.SetFakeTime(spec); err != nil {
		t.Fatal(err)
	}
	s.env = append(os.Environ(), "LD_PRELOAD="+lib, "FAKETIME_TIMESTAMP_FILE="+s.clockFile,
		"FAKETIME_CACHE_DURATION=1", "FAKETIME_DONT_FAKE_MONOTONIC=1")
}

// SetFakeTime sets the offset of the simulator's wall clock in
// libfaketime's syntax ("+2h", "-10m", "+0"); a running simulator follows
// within about a second. Only for a simulator started with
// SimOptions.FakeTime.
func (s *Simulator) SetFakeTime(spec string) error {
	if s.clockFile == "" {
		return errors.New("set fake time: the simulator was not started with SimOptions.FakeTime")
	}
	tmp := s.clockFile + ".tmp"
	if err := os.WriteFile(tmp, []byte(spec+"\n"), 0o644); err != nil {
		return fmt.Errorf("set fake time: %w", err)
	}
	if err := os.Rename(tmp, s.clockFile); err != nil { // libfaketime never reads half a file
		return fmt.Errorf("set fake time: %w", err)
	}
	return nil
}
