package pki

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// writeNew writes a file so that it appears whole or not at all: into a
// new temporary file of the same directory (created exclusively, so a
// planted symlink is never followed), synced, then renamed over path.
func writeNew(path string, data []byte, perm os.FileMode) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			os.Remove(tmp.Name())
			err = fmt.Errorf("write %s: %w", path, err)
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// createNew writes a file that must not exist yet (O_EXCL: never through a
// symlink, never over another file), removing it again if the write fails.
func createNew(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("create %s: %w", path, err)
	}
	return nil
}

// DefaultMaxRejected is how many certificates rejected/ keeps: a server
// that presents a new certificate at every attempt must not fill the disk.
const DefaultMaxRejected = 100

// pruneRejected removes the oldest certificates of rejected/ (and their
// .server records) beyond max.
func (s Store) pruneRejected(max int) error {
	entries, err := os.ReadDir(s.path(RejectedDir))
	if err != nil {
		return fmt.Errorf("prune %s: %w", s.path(RejectedDir), err)
	}
	type file struct {
		name string
		mod  time.Time
	}
	var certs []file
	for _, e := range entries {
		if fi, err := e.Info(); err == nil && e.Type().IsRegular() && isCertFile(e.Name()) {
			certs = append(certs, file{e.Name(), fi.ModTime()})
		}
	}
	if len(certs) <= max {
		return nil
	}
	slices.SortFunc(certs, func(a, b file) int { return a.mod.Compare(b.mod) })
	var errs []error
	for _, f := range certs[:len(certs)-max] {
		p := s.path(RejectedDir, f.name)
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
		os.Remove(strings.TrimSuffix(p, filepath.Ext(p)) + serverSuffix)
	}
	return errors.Join(errs...)
}

// slicesSortNewest orders entries by modification time, newest first.
func slicesSortNewest(entries []Entry) {
	slices.SortFunc(entries, func(a, b Entry) int { return b.Modified.Compare(a.Modified) })
}
