// Copyright 2018-2024 opcua authors. All rights reserved.
// Use of this source code is governed by a MIT-style license that can be
// found in the LICENSE file.

package id

import "strconv"

// DataTypeName returns the name of the namespace 0 data type id, or id in
// decimal when it names none. Unlike Name, it reads only the data type
// names: a program that names data types but never calls Name lets the
// linker drop the other six tables (patch 9, PATCHES.md), whose maps of
// every standard node's name are built at start-up and take about 2 MB of
// heap for the life of the process.
func DataTypeName(id uint32) string {
	if s, ok := nameDataType[id]; ok {
		return s
	}
	return strconv.FormatUint(uint64(id), 10)
}
