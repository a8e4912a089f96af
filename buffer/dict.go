package buffer

import (
	"encoding/binary"
	"fmt"
	"sync"

	fb "factorybridge"

	bolt "go.etcd.io/bbolt"
)

// bucketOrigins maps an origin's number (8 bytes, big-endian) to its five
// strings. A reading on disk names its origin by number, so a node's names
// cost bytes once per file rather than once per segment — with thousands of
// nodes, each segment would otherwise repeat nearly every node's names.
var bucketOrigins = []byte("origins")

// dictionary numbers origins. The writer adds to it while encoding and
// stores what it added in the same transaction; readers resolve numbers.
// Origins come from configuration, so it grows only with the node maps.
type dictionary struct {
	mu     sync.RWMutex
	names  []origin // by number; append-only but for a failed commit's additions
	ids    map[origin]uint64
	byName map[string]uint64 // a name's first number: hashes one string, not five
	stored int               // names[:stored] are in the file
}

// load reads every stored origin.
func (d *dictionary) load(tx *bolt.Tx) error {
	d.ids, d.byName = map[origin]uint64{}, map[string]uint64{}
	bk := tx.Bucket(bucketOrigins)
	if bk == nil {
		return nil
	}
	return bk.ForEach(func(k, v []byte) error {
		if len(k) != 8 || binary.BigEndian.Uint64(k) != uint64(len(d.names)) {
			return fmt.Errorf("origin %x out of order", k)
		}
		dec := decoder{b: v}
		o := origin{dec.string(), dec.string(), dec.string(), dec.string(), dec.string()}
		if dec.err != nil {
			return fmt.Errorf("origin %d: %w", len(d.names), dec.err)
		}
		d.add(o)
		d.stored = len(d.names)
		return nil
	})
}

// id returns r's origin number, adding the origin if it is new. Writer only.
func (d *dictionary) id(r *fb.Reading) uint64 {
	o := originOf(r)
	// The strings come from configuration, so comparing them is mostly a
	// pointer comparison; hashing all five was 15 % of a loaded bridge's CPU.
	if id, ok := d.byName[r.Name]; ok && d.names[id] == o {
		return id
	}
	if id, ok := d.ids[o]; ok {
		return id
	}
	return d.add(o)
}

func (d *dictionary) add(o origin) uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ids == nil {
		d.ids, d.byName = map[origin]uint64{}, map[string]uint64{}
	}
	id := uint64(len(d.names))
	d.names = append(d.names, o)
	d.ids[o] = id
	if _, ok := d.byName[o.name]; !ok {
		d.byName[o.name] = id
	}
	return id
}

// store writes the origins added since the last store into tx.
func (d *dictionary) store(tx *bolt.Tx) error {
	bk, err := tx.CreateBucketIfNotExists(bucketOrigins)
	if err != nil {
		return err
	}
	d.mu.RLock()
	fresh := d.names[d.stored:]
	d.mu.RUnlock()
	for i, o := range fresh {
		var v []byte
		for _, s := range [...]string{o.name, o.server, o.line, o.station, o.nodeID} {
			v = appendString(v, s)
		}
		if err := bk.Put(seqKey(uint64(d.stored+i)), v); err != nil {
			return err
		}
	}
	return nil
}

// committed marks every added origin as stored.
func (d *dictionary) committed() {
	d.mu.Lock()
	d.stored = len(d.names)
	d.mu.Unlock()
}

// rollback forgets the origins added since the last store: their commit failed.
func (d *dictionary) rollback() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, o := range d.names[d.stored:] {
		delete(d.ids, o)
		if id, ok := d.byName[o.name]; ok && id >= uint64(d.stored) {
			delete(d.byName, o.name)
		}
	}
	d.names = d.names[:d.stored]
}

// snapshot returns the origins readers may resolve.
func (d *dictionary) snapshot() []origin {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.names[:d.stored]
}
