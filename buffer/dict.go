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
	mu    sync.RWMutex
	names []origin // by number; append-only but for a failed commit's additions
	// byName is a name's first number; next chains the numbers of origins
	// that share a name (a node whose server, line, station or id changed
	// in a reload), 0 ending the chain: a later number is never 0. One map
	// keyed by the name alone, not a second one keyed by all five strings,
	// saves ~150 bytes per node, and looking up hashes one string.
	byName map[string]uint64
	next   []uint64
	stored int // names[:stored] are in the file
}

// load reads every stored origin.
func (d *dictionary) load(tx *bolt.Tx) error {
	d.byName = map[string]uint64{}
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
	if id, ok := d.byName[r.Name]; ok {
		for ; ; id = d.next[id] {
			if d.names[id] == o {
				return id
			}
			if d.next[id] == 0 {
				break
			}
		}
	}
	return d.add(o)
}

func (d *dictionary) add(o origin) uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.byName == nil {
		d.byName = map[string]uint64{}
	}
	id := uint64(len(d.names))
	d.names = append(d.names, o)
	d.next = append(d.next, 0)
	first, ok := d.byName[o.name]
	if !ok {
		d.byName[o.name] = id
		return id
	}
	last := first
	for d.next[last] != 0 {
		last = d.next[last]
	}
	d.next[last] = id
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
	stored := uint64(d.stored)
	for _, o := range d.names[d.stored:] {
		first, ok := d.byName[o.name]
		switch {
		case !ok:
		case first >= stored:
			delete(d.byName, o.name)
		default: // a stored origin's chain: cut it where the forgotten begin
			id := first
			for d.next[id] != 0 && d.next[id] < stored {
				id = d.next[id]
			}
			d.next[id] = 0
		}
	}
	d.names, d.next = d.names[:d.stored], d.next[:d.stored]
}

// snapshot returns the origins readers may resolve.
func (d *dictionary) snapshot() []origin {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.names[:d.stored]
}
