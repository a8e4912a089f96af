// Copyright 2018-2024 opcua authors. All rights reserved.
// Use of this source code is governed by a MIT-style license that can be
// found in the LICENSE file.

package id

import "testing"

// TestPatchDataTypeName: DataTypeName agrees with Name on every data type
// and names nothing else (a variable's id is a number to it).
func TestPatchDataTypeName(t *testing.T) {
	for id, want := range nameDataType {
		if got := DataTypeName(id); got != want || Name(id) != want {
			t.Errorf("DataTypeName(%d) = %q, Name = %q, want %q", id, got, Name(id), want)
		}
	}
	for _, tt := range []struct {
		id   uint32
		want string
	}{
		{Double, "Double"},
		{UtcTime, "UtcTime"},
		{Server_ServerStatus, "2256"}, // a variable: Name knows it, DataTypeName does not
		{4_000_000_000, "4000000000"},
	} {
		if got := DataTypeName(tt.id); got != tt.want {
			t.Errorf("DataTypeName(%d) = %q, want %q", tt.id, got, tt.want)
		}
	}
}
