package buffer

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
)

var (
	bucketSegments = []byte("segments")
	bucketMeta     = []byte("meta")

	keyAcked  = []byte("acked")  // highest sequence acknowledged (or dropped)
	keyBytes  = []byte("bytes")  // total size of stored segments
	keyNext   = []byte("next")   // next sequence to assign
	keyClean  = []byte("clean")  // 1 after a clean Close, 0 while open
	keyFormat = []byte("format") // on-disk format version
)

const formatVersion = 2 // 2: readings name their origin in a dictionary

// ErrLocked reports a buffer file held by another process.
var ErrLocked = errors.New("buffer file is in use by another process")

// openStore opens (or creates) the bbolt file. A damaged file — one bbolt
// cannot open, whose pages do not walk, or that fails its consistency check
// after an unclean shutdown — is moved aside and replaced by a fresh one:
// losing the backlog is bad, but a bridge that will not start loses
// everything that follows. An I/O error (read-only or full disk, no
// permission) is returned instead: the file may be fine.
func openStore(path string, lockWait time.Duration, log *slog.Logger) (*bolt.DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("create buffer directory: %w", err)
	}
	db, err := openChecked(path, lockWait)
	if err == nil || !errors.Is(err, errDamaged) {
		return db, err
	}
	aside, qerr := quarantine(path)
	if qerr != nil {
		return nil, fmt.Errorf("buffer %s is unreadable (%v) and could not be moved aside: %w", path, err, qerr)
	}
	log.Error("buffer file was unreadable; moved it aside and started a fresh one",
		"path", path, "moved_to", aside, "err", err)
	return openChecked(path, lockWait)
}

// errDamaged marks errors that say the file's contents are bad.
var errDamaged = errors.New("damaged")

func openChecked(path string, lockWait time.Duration) (*bolt.DB, error) {
	if err := walkFile(path, lockWait); err != nil {
		return nil, err
	}
	db, err := openBolt(path, lockWait, false)
	if err != nil {
		return nil, err
	}
	if err := checkStore(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("check buffer %s: %w", path, err)
	}
	return db, nil
}

func openBolt(path string, lockWait time.Duration, readOnly bool) (db *bolt.DB, err error) {
	defer func() {
		// bbolt panics on some kinds of corruption while reading pages.
		if p := recover(); p != nil {
			err = fmt.Errorf("open %s: %w: bbolt panicked: %v", path, errDamaged, p)
		}
	}()
	db, err = bolt.Open(path, 0o640, &bolt.Options{
		Timeout:        lockWait,
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
		ReadOnly:       readOnly,
	})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("open buffer %s: %w (waited %s for its lock; is another factorybridge running with the same data directory?)", path, ErrLocked, lockWait)
	}
	if errno := syscall.Errno(0); err != nil && !errors.As(err, &errno) {
		err = fmt.Errorf("%w: %w", errDamaged, err) // not the disk's error: the contents'
	}
	if err != nil {
		return nil, fmt.Errorf("open buffer %s: %w", path, err)
	}
	return db, nil
}

// walkFile reads every page of the tree of an existing file, read-only and
// in this goroutine. A writable bbolt.Open rebuilds the freelist by walking
// the tree in a goroutine of its own, where a damaged page's panic cannot be
// recovered and would crash the bridge at every start; here it is
// recovered, and a bad address (SetPanicOnFault) too. Values are not read:
// segments carry their own crc. This reads only the branch and leaf pages'
// headers and keys — a few thousand pages for a 1 GiB file.
func walkFile(path string, lockWait time.Duration) (err error) {
	if fi, serr := os.Stat(path); serr != nil || fi.Size() == 0 {
		return nil // a new file: bbolt creates it
	}
	db, err := openBolt(path, lockWait, true)
	if err != nil {
		return err
	}
	defer db.Close()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("walk buffer %s: %w: bbolt panicked: %v", path, errDamaged, p)
		}
	}()
	return db.View(walkTree)
}

// walkTree checks that keys strictly increase, which a page referenced
// twice or out of place breaks; bbolt's freelist walk would report it and
// then panic with its own goroutine still running.
func walkTree(tx *bolt.Tx) error {
	return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
		c := b.Cursor()
		var prev []byte
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if bytes.Equal(name, bucketSegments) && len(k) != 8 {
				return fmt.Errorf("%w: a segment key of %d bytes", errDamaged, len(k))
			}
			if prev != nil && bytes.Compare(k, prev) <= 0 {
				return fmt.Errorf("%w: keys out of order in bucket %q", errDamaged, name)
			}
			prev = k
		}
		return nil
	})
}

// checkStore verifies the file's format, and its page structure when the
// last shutdown was not clean.
func checkStore(db *bolt.DB) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: bbolt panicked: %v", errDamaged, p)
		}
	}()
	return db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			if err := initStore(tx); err != nil {
				return fmt.Errorf("%w: %w", errDamaged, err)
			}
			return nil
		}
		if v := getUint(meta, keyFormat); v != formatVersion {
			return fmt.Errorf("%w: buffer format %d, want %d", errDamaged, v, formatVersion)
		}
		if getUint(meta, keyClean) != 1 {
			for cerr := range tx.Check() {
				return fmt.Errorf("%w: consistency check after unclean shutdown: %w", errDamaged, cerr)
			}
		}
		return putUint(meta, keyClean, 0)
	})
}

func initStore(tx *bolt.Tx) error {
	if tx.Bucket(bucketSegments) != nil || tx.Bucket(bucketMeta) != nil {
		return errors.New("buffer has a segments bucket but no meta bucket")
	}
	if _, err := tx.CreateBucket(bucketSegments); err != nil {
		return err
	}
	meta, err := tx.CreateBucket(bucketMeta)
	if err != nil {
		return err
	}
	for _, kv := range []struct {
		k []byte
		v uint64
	}{{keyFormat, formatVersion}, {keyNext, 1}, {keyAcked, 0}, {keyBytes, 0}, {keyClean, 0}} {
		if err := putUint(meta, kv.k, kv.v); err != nil {
			return err
		}
	}
	return nil
}

func quarantine(path string) (string, error) {
	aside := fmt.Sprintf("%s.corrupt-%s", path, time.Now().UTC().Format("20060102T150405Z"))
	return aside, os.Rename(path, aside)
}

func seqKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), seq)
}

func getUint(b *bolt.Bucket, k []byte) uint64 {
	v := b.Get(k)
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

func putUint(b *bolt.Bucket, k []byte, v uint64) error {
	return b.Put(k, seqKey(v))
}
