//go:build !unix

package pki

import "os"

// unsafeFile finds nothing where Unix modes and owners do not apply; the
// directory's access control list is the operator's to set.
func unsafeFile(os.FileInfo) string { return "" }
