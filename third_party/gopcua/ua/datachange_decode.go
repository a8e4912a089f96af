// Copyright 2018-2020 opcua authors. All rights reserved.
// Use of this source code is governed by a MIT-style license that can be
// found in the LICENSE file.

// factorybridge patch 7 (PATCHES.md): a decoder for DataChangeNotification
// without reflection. A subscriber spends most of its time decoding these,
// and the reflective decoder costs a formatted name, string concatenations
// and reflect allocations per monitored item. This one reads the same bytes
// into the same values, returns the same byte counts and the same errors
// (datachange_patch_test.go compares the two on random and fuzzed input).

package ua

import (
	"encoding/binary"
	"io"
	"math"
	"reflect"

	"github.com/gopcua/opcua/errors"
)

// Decode implements BinaryDecoder, equivalent to decodeStruct on the
// generated struct: MonitoredItems, then DiagnosticInfos. As there, a
// field that fails is left nil and the count returned is where it began.
func (d *DataChangeNotification) Decode(b []byte) (int, error) {
	if debugCodec { // the reflective decoder prints what it decodes
		return decodeStruct(b, reflect.ValueOf(d).Elem(), "DataChangeNotification")
	}
	items, n, err := decodeMonitoredItems(b)
	if err != nil {
		return 0, err
	}
	d.MonitoredItems = items
	infos, m, err := decodeDiagnosticInfoArray(b[n:])
	if err != nil {
		return n, err
	}
	d.DiagnosticInfos = infos
	return n + m, nil
}

// minItemSize is the least encoded size of a MonitoredItemNotification:
// its client handle and the mask of its DataValue.
const minItemSize = 5

// decodeMonitoredItems decodes an array of MonitoredItemNotification. The
// items, their DataValues and their Variants are allocated in one block
// each rather than one by one; a caller keeping one item keeps the blocks
// alive. The blocks hold no more items than the input has room for: an
// array claiming more fails with io.ErrUnexpectedEOF before it reaches
// the end of the blocks. Patch 10: the blocks come from a slab that
// ReleaseDataChangeNotification hands back (datachange_pool.go).
func decodeMonitoredItems(b []byte) ([]*MonitoredItemNotification, int, error) {
	n, err := decodeArrayLength(b)
	if err != nil || n < 0 {
		return nil, 4, err
	}
	room := min(n, (len(b)-4)/minItemSize)
	if n == 0 || room < n { // nothing to hold, or an array that will fail
		return decodeItemsInto(b, make([]*MonitoredItemNotification, n), newBlocks(room))
	}
	s := getSlab(n)
	items, pos, err := decodeItemsInto(b, s.itemsFor(n), s)
	if err != nil {
		putSlab(s, n)
	}
	return items, pos, err
}

// decodeItemsInto decodes the len(items) items of the array at b into
// items, with their memory from s's blocks.
func decodeItemsInto(b []byte, items []*MonitoredItemNotification, s *dataChangeSlab) ([]*MonitoredItemNotification, int, error) {
	pos := 4
	for i := range items {
		// The reflective decoder fails here too, on the handle or on the
		// DataValue's mask, with this error and position.
		if len(b)-pos < minItemSize {
			return nil, pos, io.ErrUnexpectedEOF
		}
		it := &s.structs[i]
		it.ClientHandle = binary.LittleEndian.Uint32(b[pos:])
		it.Value = &s.values[i]
		m, err := it.Value.decode(b[pos+4:], &s.variants[i])
		if err != nil {
			return nil, pos, err
		}
		items[i] = it
		pos += 4 + m
	}
	return items, pos, nil
}

// decodeDiagnosticInfoArray decodes an array of DiagnosticInfo.
func decodeDiagnosticInfoArray(b []byte) ([]*DiagnosticInfo, int, error) {
	n, err := decodeArrayLength(b)
	if err != nil || n < 0 {
		return nil, 4, err
	}
	infos := make([]*DiagnosticInfo, n)
	pos := 4
	for i := range infos {
		infos[i] = new(DiagnosticInfo)
		m, err := infos[i].Decode(b[pos:])
		if err != nil {
			return nil, pos, err
		}
		pos += m
	}
	return infos, pos, nil
}

// decodeArrayLength reads an array's length and checks it as decodeSlice
// does, with the same errors; -1 is a null array.
func decodeArrayLength(b []byte) (int, error) {
	if len(b) < 4 {
		return 0, io.ErrUnexpectedEOF
	}
	n := binary.LittleEndian.Uint32(b)
	switch {
	case n == null:
		return -1, nil
	case n > math.MaxInt32:
		return 0, errors.Errorf("array too large: %d > %d", n, math.MaxInt32)
	case int(n) > len(b)-4:
		return 0, errors.Errorf("array length %d exceeds remaining %d bytes", n, len(b)-4)
	}
	return int(n), nil
}
