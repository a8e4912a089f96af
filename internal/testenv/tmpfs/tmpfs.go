//go:build linux

// Package tmpfs mounts small tmpfs file systems for tests that need a disk
// that really fills up or turns read-only.
package tmpfs

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"factorybridge/internal/testenv"
)

// FS is a small tmpfs a test mounted, to make a real disk full or
// read-only. It is unmounted when the test ends.
type FS struct {
	// Dir is the mount point.
	Dir string
}

// Mount mounts a tmpfs of size bytes on a new directory in the test's
// TempDir. Mounting needs CAP_SYS_ADMIN: without it the test is skipped with
// the reason, or fails when integration tests are required
// (FACTORYBRIDGE_REQUIRE_INTEGRATION=1, as scripts/test.sh sets): a test
// that claims to check a real full or read-only disk must not pass in CI by
// not running. The injected-fault tests cover the same code paths anywhere.
func Mount(t testing.TB, size int64) *FS {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tmpfs")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d", size)); err != nil {
		testenv.Unavailable(t, fmt.Sprintf("cannot mount a tmpfs to make a disk full or read-only (needs root with CAP_SYS_ADMIN): %v", err))
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return &FS{Dir: dir}
}

// SetReadOnly remounts the tmpfs read-only (ro true) or read-write. Linux
// refuses a read-only remount (EBUSY) while any file on it is open for
// writing, which a running buffer's file always is: a disk turning read-only
// under a running process happens only when the kernel forces it after I/O
// errors.
func (f *FS) SetReadOnly(ro bool) error {
	flags := uintptr(syscall.MS_REMOUNT)
	if ro {
		flags |= syscall.MS_RDONLY
	}
	if err := syscall.Mount("", f.Dir, "", flags, ""); err != nil {
		return fmt.Errorf("remount %s (read-only %t): %w", f.Dir, ro, err)
	}
	return nil
}

// Fill writes a file named name until the tmpfs is full and returns its path
// and size. Remove the file to give the space back.
func (f *FS) Fill(t testing.TB, name string) (string, int64) {
	t.Helper()
	path := filepath.Join(f.Dir, name)
	file, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	chunk := make([]byte, 4096)
	for {
		if _, err := file.Write(chunk); err != nil {
			break // ENOSPC: full
		}
	}
	fi, err := file.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return path, fi.Size()
}
