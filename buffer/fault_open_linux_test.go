package buffer

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

// TestFaultUnwritableFileAtOpenKeepsTheFile opens a healthy buffer file the
// process may read but not write — a read-only file, as after the bridge ran
// once as root and then as its service user — with no mount, so it runs
// everywhere: Open fails with the permission error naming the file, moves
// nothing aside, and leaves every byte of the file as it was; once the file
// is writable again it opens with everything. It covers the path every
// errno at open takes (EACCES here; EROFS on a read-only disk, which
// TestFaultFullOrReadOnlyDiskAtOpenKeepsTheFile shows where it can mount):
// an error of the disk or of the permissions is returned, only an error of
// the contents moves a file aside.
func TestFaultUnwritableFileAtOpenKeepsTheFile(t *testing.T) {
	path := testPath(t)
	h := open(t, Options{Path: path})
	h.append(loadReadings(3000, 10))
	h.close()
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o440); err != nil {
		t.Fatal(err)
	}

	err = withoutDACOverride(t, func() error {
		b, err := Open(Options{Path: path, Logger: h.log.Logger()})
		if err == nil {
			b.Close()
		}
		return err
	})
	t.Logf("open of a read-only file: %v", err)
	if !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), path) {
		t.Errorf("open of a read-only file: %v; want the permission error naming %s", err, path)
	}
	if aside, _ := filepath.Glob(path + ".corrupt-*"); len(aside) > 0 || h.log.Contains("moved it aside") {
		t.Fatalf("a healthy file was moved aside: %v\n%s", aside, h.log)
	}
	after, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(before, after) {
		t.Fatalf("the file changed: %d bytes before, %d after (%v)", len(before), len(after), err)
	}

	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	h2 := open(t, Options{Path: path})
	h2.checkContiguous(1, 3000)
}

// Linux capabilities (capability.h) and capget/capset's structures.
const (
	capDACOverride   = 1 // write and read whatever the mode says
	capDACReadSearch = 2 // read and search whatever the mode says
	capVersion3      = 0x20080522
)

type capHeader struct {
	version uint32
	pid     int32
}

type capData struct{ effective, permitted, inheritable uint32 }

// withoutDACOverride runs f on an OS thread of its own whose effective
// capabilities lack CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH, so that file
// modes bind even when the test runs as root, as they bind a service user.
// Capabilities belong to a thread: the rest of the test binary keeps its
// own, the goroutine stays locked to the thread, and the thread ends with
// the goroutine (Go creates new threads from a template thread, not from a
// locked one, so none inherits the reduced set). As a normal user the
// capabilities are not held and dropping them changes nothing.
func withoutDACOverride(t *testing.T, f func() error) error {
	t.Helper()
	type result struct{ err, capErr error }
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread exits with us
		if err := dropDAC(); err != nil {
			done <- result{capErr: err}
			return
		}
		done <- result{err: f()}
	}()
	r := <-done
	if r.capErr != nil {
		t.Fatalf("drop CAP_DAC_OVERRIDE for the open: %v", r.capErr)
	}
	return r.err
}

// dropDAC removes the DAC capabilities from the calling thread's effective set.
func dropDAC() error {
	hdr := capHeader{version: capVersion3}
	var data [2]capData
	if _, _, e := syscall.RawSyscall(syscall.SYS_CAPGET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data[0])), 0); e != 0 {
		return e
	}
	data[0].effective &^= 1<<capDACOverride | 1<<capDACReadSearch
	if _, _, e := syscall.RawSyscall(syscall.SYS_CAPSET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data[0])), 0); e != 0 {
		return e
	}
	return nil
}
