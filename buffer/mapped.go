package buffer

import (
	"fmt"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// bbolt maps the whole file into the process, read-only and shared
// (MAP_SHARED, PROT_READ), and readers decode segments straight from the
// mapping; the writer too reads from it: a commit rewrites the tree's last
// leaf, copying the segments already in it, and a deletion the first. Every
// page touched stays mapped until bbolt remaps, and a mapped page counts in
// the process's resident set (RssFile), so during a backlog RSS grows with
// the file even with no reader (53 MiB mapped at 113 MiB stored, writes
// alone), up to its cap (1 GiB by default), although those pages are clean
// page cache the kernel may take back at any time. The writer bounds it:
// after dropAfterBytes of segments were read, written or deleted, or
// dropInterval has gone by, it tells the kernel that the process no longer
// needs the mapped pages (madvise MADV_DONTNEED, in mapped_linux.go).
//
// For a shared file mapping that only removes the process's page table
// entries: the pages stay in the page cache, and the next access maps them
// again from it with the file's contents (madvise(2): "repopulating the
// memory contents from the up-to-date contents of the underlying mapped
// file"), a minor fault without I/O unless the kernel has evicted the page
// meanwhile. A reader decoding a segment at that moment takes such a fault
// and reads the same bytes, so readers need no lock against it. What does
// need one is a remap: bbolt unmaps the file and maps it again, perhaps
// elsewhere, when the file outgrows the mapping, and madvise on the old
// address could hit memory that is no longer the file. bbolt holds its
// mmap lock for reading for the whole of a read transaction and remaps only
// under the write lock, so the drop runs inside a read transaction.
//
// MADV_COLD would keep the pages mapped (and in RSS), MADV_PAGEOUT would
// also evict them from the page cache, so that the publisher, which reads
// what was just committed, would read it from disk: DONTNEED is the one
// that bounds RSS at no I/O.
//
// dropAfterBytes is small because what it bounds is resident set: at
// 100,000 readings/s a drop is due about once a second, a syscall whose
// cost is the pages it unmaps, and the pages the publisher touches next
// come back from the page cache with a minor fault each.
const (
	dropAfterBytes = 4 << 20
	dropInterval   = 10 * time.Second
)

// mapDropper decides when the writer drops the mapped pages.
type mapDropper struct {
	// passed counts segment bytes read, written or deleted since the last
	// drop: a measure of the pages touched.
	passed atomic.Int64
	// afterBytes is dropAfterBytes; zero disables dropping (tests).
	afterBytes int64
	last       time.Time // of the last drop; writer goroutine only
	drops      atomic.Uint64
}

// note records that the buffer passed n bytes of segments.
func (d *mapDropper) note(n int) { d.passed.Add(int64(n)) }

// due reports whether a drop is due at now.
func (d *mapDropper) due(now time.Time) bool {
	if d.afterBytes <= 0 {
		return false
	}
	return d.passed.Load() >= d.afterBytes || now.Sub(d.last) >= dropInterval
}

// dropMapped drops the mapped pages of the file if a drop is due. It is
// called on the writer goroutine, outside any write transaction: a read
// transaction opened while the same goroutine holds a write transaction
// could deadlock with bbolt's remap.
func (b *Buffer) dropMapped(now time.Time) {
	if !b.mapped.due(now) {
		return
	}
	if err := b.dropMappedNow(); err != nil {
		b.log.Warn("could not release the buffer file's mapped pages", "path", b.opts.Path, "err", err)
		b.mapped.afterBytes = 0 // once: madvise does not start working later
	}
	b.mapped.last = now
}

// dropMappedNow drops the mapped pages up to the file's high water mark,
// inside a read transaction, so that bbolt cannot remap meanwhile.
func (b *Buffer) dropMappedNow() error {
	b.mapped.passed.Store(0)
	return b.db.View(func(tx *bolt.Tx) error {
		if err := dropPages(tx.DB().Info().Data, tx.Size()); err != nil {
			return fmt.Errorf("madvise %d bytes: %w", tx.Size(), err)
		}
		b.mapped.drops.Add(1)
		return nil
	})
}
