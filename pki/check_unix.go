//go:build unix

package pki

import (
	"fmt"
	"os"
	"syscall"
)

// unsafeFile says why another user could change fi ("" when none can):
// writable by group or others, or owned by a user other than the bridge's
// and root.
func unsafeFile(fi os.FileInfo) string {
	if m := fi.Mode().Perm(); m&0o022 != 0 {
		return fmt.Sprintf("writable by group or others (mode %04o)", m)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid != 0 && int(st.Uid) != os.Geteuid() {
		return fmt.Sprintf("owned by uid %d, not by the bridge's user (uid %d) or root", st.Uid, os.Geteuid())
	}
	return ""
}
