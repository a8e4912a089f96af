package buffer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
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

const formatVersion = 1

// ErrLocked reports a buffer file held by another process.
var ErrLocked = errors.New("buffer file is in use by another process")

// openStore opens (or creates) the bbolt file. A file that bbolt cannot
// open, or that fails its consistency check after an unclean shutdown, is
// moved aside and replaced by a fresh one: losing the backlog is bad, but a
// bridge that will not start loses everything that follows.
func openStore(path string, lockWait time.Duration, log *slog.Logger) (*bolt.DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("create buffer directory: %w", err)
	}
	db, err := openChecked(path, lockWait)
	if err == nil || errors.Is(err, ErrLocked) || errors.Is(err, os.ErrPermission) {
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

func openChecked(path string, lockWait time.Duration) (*bolt.DB, error) {
	db, err := openBolt(path, lockWait)
	if err != nil {
		return nil, err
	}
	if err := checkStore(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("check buffer %s: %w", path, err)
	}
	return db, nil
}

func openBolt(path string, lockWait time.Duration) (db *bolt.DB, err error) {
	defer func() {
		// bbolt panics on some kinds of corruption while reading pages.
		if p := recover(); p != nil {
			err = fmt.Errorf("open %s: bbolt panicked: %v", path, p)
		}
	}()
	db, err = bolt.Open(path, 0o640, &bolt.Options{
		Timeout:        lockWait,
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
	})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("open buffer %s: %w (waited %s for its lock; is another factorybridge running with the same data directory?)", path, ErrLocked, lockWait)
	}
	if err != nil {
		return nil, fmt.Errorf("open buffer %s: %w", path, err)
	}
	return db, nil
}

// checkStore verifies the file's format, and its page structure when the
// last shutdown was not clean.
func checkStore(db *bolt.DB) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("check buffer: bbolt panicked: %v", p)
		}
	}()
	return db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			return initStore(tx)
		}
		if v := getUint(meta, keyFormat); v != formatVersion {
			return fmt.Errorf("buffer format %d, want %d", v, formatVersion)
		}
		if getUint(meta, keyClean) != 1 {
			for cerr := range tx.Check() {
				return fmt.Errorf("consistency check after unclean shutdown: %w", cerr)
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
